/* store.c - object bytes as files; see store.h. */
#include "store.h"
#include "core/arena.h"
#include "core/blob.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char root[PATH_MAX];

/* The bytes go through a core blob (temp file, MD5, durable commit); this
 * wrapper is what a RADOS backend would replace. A writer that may stay
 * inline holds the bytes in mem (hashed in md5) until they pass
 * OBJ_INLINE_MAX, then moves them into a blob. */
struct obj_writer {
    struct blob *b;
    EVP_MD_CTX *md5;
    unsigned char *mem;
    size_t len;
    char dir[PATH_MAX];
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

/* Opens w's blob in w->dir. */
static int
writer_blob(struct obj_writer *w)
{
    /* the directory is made by a container's first write only: not a
     * mkdir of every path component on every upload */
    int rc = blob_open(w->dir, BLOB_MD5, &w->b);
    if (rc == -ENOENT && (rc = mkdir_p(w->dir, 0700)) == 0)
        rc = blob_open(w->dir, BLOB_MD5, &w->b);
    return rc;
}

int
obj_store_open(const char *account, const char *container_id, bool may_inline,
               struct obj_writer **out)
{
    struct obj_writer *w = xcalloc(1, sizeof(*w));
    int rc = container_dir(account, container_id, w->dir, sizeof(w->dir));
    if (rc == 0 && may_inline) {
        w->mem = xmalloc(OBJ_INLINE_MAX);
        if (!(w->md5 = EVP_MD_CTX_new()) || EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) != 1)
            rc = -ENOMEM;
    } else if (rc == 0) {
        rc = writer_blob(w);
    }
    if (rc < 0) {
        obj_store_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Moves the bytes held in memory into a blob (it hashes them again: the
 * blob's digest is the one read at the end). */
static int
spill(struct obj_writer *w)
{
    int rc = writer_blob(w);
    if (rc == 0)
        rc = blob_write(w->b, w->mem, w->len);
    free(w->mem);
    w->mem = NULL;
    EVP_MD_CTX_free(w->md5);
    w->md5 = NULL;
    return rc;
}

int
obj_store_write(struct obj_writer *w, const void *p, size_t n)
{
    if (w->mem && w->len + n <= OBJ_INLINE_MAX) {
        memcpy(w->mem + w->len, p, n);
        w->len += n;
        EVP_DigestUpdate(w->md5, p, n);
        return 0;
    }
    int rc = w->mem ? spill(w) : 0;
    return rc < 0 ? rc : blob_write(w->b, p, n);
}

uint64_t
obj_store_size(const struct obj_writer *w)
{
    return w->b ? blob_size(w->b) : w->len;
}

void
obj_store_digest(struct obj_writer *w, char etag[33])
{
    if (w->b) {
        blob_md5_hex(w->b, etag);
        return;
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(w->md5, d, &n) != 1)
        n = 0;
    hex_encode(d, n > 16 ? 16 : n, etag);
}

bool
obj_store_is_inline(const char *file)
{
    return file && file[0] == OBJ_INLINE_MARK;
}

/* The final name of a new version of object_name into file[80]: with
 * prefix (an inline name's mark) or without. */
static void
new_name(const char *prefix, const char *object_name, char file[80])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char h[33], id[33];
    /* md5 of the name spreads names evenly and keeps any byte of them out
     * of the path; the random part makes each version a file of its own */
    EVP_Digest(object_name, strlen(object_name), d, &n, EVP_md5(), NULL);
    hex_encode(d, 16, h);
    uuid_hex(id);
    snprintf(file, 80, "%s%s.%s", prefix, h, id);
}

static void
final_name(const char *object_name, char file[80])
{
    new_name("", object_name, file);
}

static void
inline_name(const char *object_name, char file[80])
{
    new_name((char[]){OBJ_INLINE_MARK, '\0'}, object_name, file);
}

int
obj_store_commit(struct obj_writer *w, const char *object_name, char file[80],
                 struct arena *a, const char **data)
{
    int rc = 0;
    if (data)
        *data = NULL;
    if (w->b) {
        final_name(object_name, file);
        rc = blob_commit(w->b, file);
        w->b = NULL;
    } else if (!a || !data) {
        rc = -EINVAL;
    } else {
        char *t = arena_alloc(a, 4 * ((w->len + 2) / 3) + 1);
        b64url_encode(w->mem, w->len, t);
        inline_name(object_name, file);
        *data = t;
    }
    obj_store_abort(w);
    return rc;
}

void
obj_store_abort(struct obj_writer *w)
{
    if (!w)
        return;
    blob_abort(w->b);
    free(w->mem);
    EVP_MD_CTX_free(w->md5);
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
    int rc = obj_store_open(account, container_id, false, &w);
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
    return obj_store_commit(w, object_name, file, NULL, NULL);
}

int
obj_store_link(const char *src_account, const char *src_container_id, const char *src_file,
               const char *account, const char *container_id, const char *object_name,
               char file[80])
{
    char sdir[PATH_MAX], dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
    int rc;
    if (obj_store_is_inline(src_file)) {
        inline_name(object_name, file);
        return 0;
    }
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

/* An anonymous memory file holding the decoded base64url data. */
static int
open_inline(const char *data, int *fd, uint64_t *size)
{
    size_t len = strlen(data);
    unsigned char *raw = xmalloc(3 * (len / 4) + 3);
    long n = b64url_decode(data, len, raw);
    int f = n < 0 ? -1 : memfd_create("onestack-object", MFD_CLOEXEC);
    int rc = n < 0 ? -EIO : f < 0 ? -errno : 0;
    for (long off = 0; rc == 0 && off < n;) {
        ssize_t k = write(f, raw + off, (size_t)(n - off));
        if (k < 0 && errno != EINTR)
            rc = -errno;
        else if (k > 0)
            off += k;
    }
    free(raw);
    if (rc == 0 && lseek(f, 0, SEEK_SET) < 0)
        rc = -errno;
    if (rc < 0) {
        if (f >= 0)
            close(f);
        return rc;
    }
    *fd = f;
    *size = (uint64_t)n;
    return 0;
}

int
obj_store_open_read(const char *account, const char *container_id, const char *file,
                    const char *data, int *fd, uint64_t *size)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if (obj_store_is_inline(file))
        return data ? open_inline(data, fd, size) : -EIO;
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
    if (!file || !*file || obj_store_is_inline(file) || container_dir(account, container_id, dir, sizeof(dir)) < 0)
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
