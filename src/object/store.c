/* store.c - object bytes as files; see store.h. */
#include "store.h"
#include "core/blob.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[PATH_MAX];

/* The bytes go through a core blob (temp file, MD5, durable commit); this
 * wrapper is what a RADOS backend would replace. */
struct obj_writer {
    struct blob *b;
};

int
obj_store_init(const char *data_dir)
{
    int n = snprintf(root, sizeof(root), "%s/objects", data_dir);
    if (n < 0 || (size_t)n >= sizeof(root))
        return -ENAMETOOLONG;
    return mkdir_p(root, 0700);
}

/* DIR of account/container into out; -ENAMETOOLONG when it does not fit.
 * Both parts are safe as path segments: the account is "AUTH_" + hex id
 * (checked by the API) and the container part is its row id, never the
 * user's container name. */
static int
container_dir(const char *account, const char *cid, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s/%s", root, account, cid);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int
obj_store_open(const char *account, const char *container_id, struct obj_writer **out)
{
    char dir[PATH_MAX];
    int rc = container_dir(account, container_id, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    struct obj_writer *w = xcalloc(1, sizeof(*w));
    /* the directory is made by a container's first write only: not a
     * mkdir of every path component on every upload */
    rc = blob_open(dir, BLOB_MD5, &w->b);
    if (rc == -ENOENT && (rc = mkdir_p(dir, 0700)) == 0)
        rc = blob_open(dir, BLOB_MD5, &w->b);
    if (rc < 0) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int
obj_store_write(struct obj_writer *w, const void *p, size_t n)
{
    return blob_write(w->b, p, n);
}

uint64_t
obj_store_size(const struct obj_writer *w)
{
    return blob_size(w->b);
}

void
obj_store_digest(struct obj_writer *w, char etag[33])
{
    blob_md5_hex(w->b, etag);
}

/* The final name of a new version of object_name into file[80]. */
static void
final_name(const char *object_name, char file[80])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char h[33], id[33];
    /* md5 of the name spreads names evenly and keeps any byte of them out
     * of the path; the random part makes each version a file of its own */
    EVP_Digest(object_name, strlen(object_name), d, &n, EVP_md5(), NULL);
    hex_encode(d, 16, h);
    uuid_hex(id);
    snprintf(file, 80, "%s.%s", h, id);
}

int
obj_store_commit(struct obj_writer *w, const char *object_name, char file[80])
{
    final_name(object_name, file);
    int rc = blob_commit(w->b, file);
    free(w);
    return rc;
}

void
obj_store_abort(struct obj_writer *w)
{
    if (!w)
        return;
    blob_abort(w->b);
    free(w);
}

/* Copies the bytes of fd into a new version of object_name (the fallback
 * of obj_store_link). */
static int
copy_bytes(int fd, const char *account, const char *container_id, const char *object_name,
           char file[80])
{
    struct obj_writer *w;
    char buf[65536];
    int rc = obj_store_open(account, container_id, &w);
    if (rc < 0)
        return rc;
    for (;;) {
        ssize_t k = read(fd, buf, sizeof(buf));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            obj_store_abort(w);
            return -errno;
        }
        if (k == 0)
            break;
        if ((rc = obj_store_write(w, buf, (size_t)k)) < 0) {
            obj_store_abort(w);
            return rc;
        }
    }
    return obj_store_commit(w, object_name, file);
}

int
obj_store_link(const char *src_account, const char *src_container_id, const char *src_file,
               const char *account, const char *container_id, const char *object_name,
               char file[80])
{
    char sdir[PATH_MAX], dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
    int rc;
    if ((rc = container_dir(src_account, src_container_id, sdir, sizeof(sdir))) < 0 ||
        (rc = container_dir(account, container_id, dir, sizeof(dir))) < 0)
        return rc;
    final_name(object_name, file);
    if (snprintf(src, sizeof(src), "%s/%s", sdir, src_file) >= (int)sizeof(src) ||
        snprintf(dst, sizeof(dst), "%s/%s", dir, file) >= (int)sizeof(dst))
        return -ENAMETOOLONG;
    /* ENOENT: the source is gone, or (a container's first write) the
     * directory is not there yet */
    rc = link(src, dst) == 0 ? 0 : -errno;
    if (rc == -ENOENT && (rc = mkdir_p(dir, 0700)) == 0)
        rc = link(src, dst) == 0 ? 0 : -errno;
    if (rc == 0) {
        /* the source file was fsync'd at its commit; the new name needs
         * its directory synced to survive a power cut */
        if ((rc = fsync_dir(dir)) < 0)
            unlink(dst);
        return rc;
    }
    if (rc != -EXDEV && rc != -EMLINK && rc != -EPERM)
        return rc;
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = copy_bytes(fd, account, container_id, object_name, file);
    close(fd);
    return rc;
}

int
obj_store_open_read(const char *account, const char *container_id, const char *file,
                    int *fd, uint64_t *size)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int rc = container_dir(account, container_id, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    return blob_open_read(path, fd, size);
}

void
obj_store_remove(const char *account, const char *container_id, const char *file)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if (!file || !*file || container_dir(account, container_id, dir, sizeof(dir)) < 0)
        return;
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) < (int)sizeof(path))
        unlink(path);
}

void
obj_store_remove_container(const char *account, const char *container_id)
{
    char dir[PATH_MAX];
    if (container_dir(account, container_id, dir, sizeof(dir)) == 0)
        rmdir(dir);
}
