/* store.c - image bytes in files, in the object store, and staged; see
 * store.h. */
#include "store.h"
#include "core/arena.h"
#include "core/blob.h"
#include "core/util.h"
#include "object/obj_db.h"
#include "object/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* qcow2 keeps its virtual size as a big-endian u64 at offset 24 */
#define QCOW2_HEAD 32
#define COPY_CHUNK 65536

enum kind { K_FILE = 1, K_SWIFT, K_STAGING };

static char root[PATH_MAX];         /* DATA_DIR/images: the file store */
static char staging[PATH_MAX];      /* DATA_DIR/images/staging */
static char account[64];            /* "AUTH_<project id>", "" without swift */
static char container[256];
static enum kind def_kind = K_FILE;

/* A writer: a core blob (file store, staging) or an object store writer
 * (swift), which hashes md5 only, so sha512 and the first bytes are kept
 * here for it. */
struct img_writer {
    enum kind kind;
    struct blob *b;
    struct obj_writer *ow;
    char cid[64];                   /* swift: the container's row id */
    EVP_MD_CTX *sha512;
    unsigned char head[BLOB_HEAD];
    uint64_t size;
    bool digested;
    struct img_digest d;
};

int
img_store_init(const char *data_dir, const char *kind, const char *swift_project,
               const char *cont)
{
    if (snprintf(root, sizeof(root), "%s/images", data_dir) >= (int)sizeof(root) ||
        snprintf(staging, sizeof(staging), "%s/images/staging", data_dir) >=
            (int)sizeof(staging))
        return -ENAMETOOLONG;
    if (!strcmp(kind, IMG_STORE_FILE))
        def_kind = K_FILE;
    else if (!strcmp(kind, IMG_STORE_SWIFT))
        def_kind = K_SWIFT;
    else
        return -EINVAL;
    account[0] = '\0';
    /* the account must be a safe path segment for the object store: ids
     * are hex */
    if (swift_project && *swift_project) {
        for (const char *p = swift_project; *p; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-'))
                return -EINVAL;
        if (snprintf(account, sizeof(account), "AUTH_%s", swift_project) >=
            (int)sizeof(account))
            return -ENAMETOOLONG;
    }
    if (def_kind == K_SWIFT && !account[0])
        return -EINVAL;
    if (!cont || !*cont || strchr(cont, '/') ||
        snprintf(container, sizeof(container), "%s", cont) >= (int)sizeof(container))
        return -EINVAL;
    int rc = mkdir_p(root, 0700);
    return rc < 0 ? rc : mkdir_p(staging, 0700);
}

const char *
img_store_default(void)
{
    return def_kind == K_SWIFT ? IMG_STORE_SWIFT : IMG_STORE_FILE;
}

const char *
img_store_swift_account(void)
{
    return account;
}

const char *
img_store_swift_container(void)
{
    return container;
}

/* dir/name into out; -ENAMETOOLONG when it does not fit. Names are image
 * ids, which the API only accepts in UUID form, so they are safe path
 * segments. */
static int
path_of(const char *dir, const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* An obj_db code as -errno: database failures (DB_*) become -EIO. */
static int
errno_of(int rc)
{
    return rc <= DB_ERR ? -EIO : rc;
}

/* The row id of the swift container into cid[64], making the container
 * when it does not exist (first use, or removed through the Swift API). */
static int
swift_container(struct db *db, struct arena *a, bool make, char cid[64])
{
    struct obj_container c;
    bool created;
    if (!account[0])
        return -ENOENT;
    int rc = obj_db_container_get(db, a, account, container, &c);
    if (rc == -ENOENT && make) {
        rc = obj_db_container_put(db, a, account, container, NULL, NULL, &created);
        if (rc == 0)
            rc = obj_db_container_get(db, a, account, container, &c);
    }
    if (rc == 0)
        snprintf(cid, 64, "%s", c.id);
    return errno_of(rc);
}

int
img_store_open(struct db *db, struct arena *a, bool stage, struct img_writer **out)
{
    struct img_writer *w = xcalloc(1, sizeof(*w));
    int rc;
    w->kind = stage ? K_STAGING : def_kind;
    if (w->kind == K_SWIFT) {
        if ((rc = swift_container(db, a, true, w->cid)) < 0)
            goto fail;
        if (!(w->sha512 = EVP_MD_CTX_new()) ||
            EVP_DigestInit_ex(w->sha512, EVP_sha512(), NULL) != 1) {
            rc = -ENOMEM;
            goto fail;
        }
        if ((rc = obj_store_open(account, w->cid, true, &w->ow)) < 0)
            goto fail;
    } else {
        rc = blob_open(w->kind == K_STAGING ? staging : root, BLOB_MD5 | BLOB_SHA512, &w->b);
        if (rc < 0)
            goto fail;
    }
    *out = w;
    return 0;
fail:
    img_store_abort(w);
    return rc;
}

int
img_store_write(struct img_writer *w, const void *p, size_t n)
{
    if (w->kind != K_SWIFT) {
        w->size += n;
        return blob_write(w->b, p, n);
    }
    if (w->size < BLOB_HEAD) {
        size_t k = BLOB_HEAD - (size_t)w->size;
        memcpy(w->head + w->size, p, k < n ? k : n);
    }
    w->size += n;
    EVP_DigestUpdate(w->sha512, p, n);
    return obj_store_write(w->ow, p, n);
}

uint64_t
img_store_size(const struct img_writer *w)
{
    return w->size;
}

void
img_store_digest(struct img_writer *w, struct img_digest *d)
{
    if (!w->digested) {
        if (w->kind == K_SWIFT) {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int n = 0;
            obj_store_digest(w->ow, w->d.md5);
            EVP_DigestFinal_ex(w->sha512, md, &n);
            hex_encode(md, n, w->d.sha512);
        } else {
            blob_md5_hex(w->b, w->d.md5);
            blob_sha512_hex(w->b, w->d.sha512);
        }
        w->d.size = w->size;
        w->digested = true;
    }
    *d = w->d;
}

/* The virtual size from the first bytes of the data; see store.h. */
static bool
virtual_size(const unsigned char *head, size_t n, uint64_t size, const char *disk_format,
             uint64_t *out)
{
    if (disk_format && !strcmp(disk_format, "raw")) {
        *out = size;
        return true;
    }
    if (!disk_format || strcmp(disk_format, "qcow2") || n < QCOW2_HEAD ||
        memcmp(head, "QFI\xfb", 4))
        return false;
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | head[i];
    *out = v;
    return true;
}

bool
img_store_virtual_size(const struct img_writer *w, const char *disk_format, uint64_t *out)
{
    size_t n = w->size < BLOB_HEAD ? (size_t)w->size : BLOB_HEAD;
    const unsigned char *head = w->kind == K_SWIFT ? w->head : blob_head(w->b, &n);
    return virtual_size(head, n, w->size, disk_format, out);
}

/* Frees what a writer holds besides its blob/object writer. */
static void
writer_free(struct img_writer *w)
{
    EVP_MD_CTX_free(w->sha512);
    free(w);
}

/* Commits a swift writer as object id and records its row; the version it
 * replaces (a failed earlier attempt) is removed. */
static int
swift_commit(struct img_writer *w, struct db *db, struct arena *a, const char *id)
{
    struct img_digest d;
    char file[80];
    const char *old = NULL, *data;
    img_store_digest(w, &d);
    int rc = obj_store_commit(w->ow, id, file, a, &data);
    w->ow = NULL;
    if (rc < 0)
        return rc;
    struct obj_row row = {
        .name = id, .file = file, .etag = d.md5, .content_type = "application/octet-stream",
        .meta = "{}", .size = (int64_t)d.size, .modified_us = now_us(), .data = data,
    };
    rc = obj_db_object_put(db, a, w->cid, &row, false, &old);
    if (rc != 0) {
        obj_store_remove(account, w->cid, file);
        return errno_of(rc);
    }
    if (old)
        obj_store_remove(account, w->cid, old);
    return 0;
}

int
img_store_commit(struct img_writer *w, struct db *db, struct arena *a, const char *id,
                 const char **store)
{
    int rc;
    *store = NULL;
    if (w->kind == K_SWIFT) {
        rc = swift_commit(w, db, a, id);
        if (rc == 0)
            *store = IMG_STORE_SWIFT;
    } else {
        rc = blob_commit(w->b, id);
        w->b = NULL;
        if (rc == 0 && w->kind == K_FILE)
            *store = IMG_STORE_FILE;
    }
    obj_store_abort(w->ow);
    writer_free(w);
    return rc;
}

void
img_store_abort(struct img_writer *w)
{
    if (!w)
        return;
    blob_abort(w->b);
    obj_store_abort(w->ow);
    writer_free(w);
}

int
img_store_open_read(struct db *db, struct arena *a, const char *store, const char *id,
                    int *fd, uint64_t *size)
{
    char path[PATH_MAX], cid[64];
    struct obj_row row;
    int rc;
    if (store && !strcmp(store, IMG_STORE_SWIFT)) {
        if ((rc = swift_container(db, a, false, cid)) < 0 ||
            (rc = obj_db_object_get(db, a, cid, id, &row)) != 0)
            return errno_of(rc);
        return obj_store_open_read(account, cid, row.file, row.data, fd, size);
    }
    if (store && strcmp(store, IMG_STORE_FILE))
        return -ENOENT;
    rc = path_of(root, id, path, sizeof(path));
    return rc < 0 ? rc : blob_open_read(path, fd, size);
}

void
img_store_remove(struct db *db, struct arena *a, const char *store, const char *id)
{
    char path[PATH_MAX], cid[64];
    const char *old = NULL;
    if (!id || !*id)
        return;
    if ((!store || !strcmp(store, IMG_STORE_FILE)) && path_of(root, id, path, sizeof(path)) == 0)
        unlink(path);
    if (!store)
        img_stage_remove(id);
    /* the row goes first: once it is gone nothing hands out the file */
    if ((!store || !strcmp(store, IMG_STORE_SWIFT)) && db &&
        swift_container(db, a, false, cid) == 0 &&
        obj_db_object_delete(db, a, cid, id, &old) == 0)
        obj_store_remove(account, cid, old);
}

/* ---- staging ---- */

int
img_stage_open_read(const char *id, int *fd, uint64_t *size)
{
    char path[PATH_MAX];
    int rc = path_of(staging, id, path, sizeof(path));
    return rc < 0 ? rc : blob_open_read(path, fd, size);
}

bool
img_stage_exists(const char *id)
{
    char path[PATH_MAX];
    return path_of(staging, id, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

void
img_stage_remove(const char *id)
{
    char path[PATH_MAX];
    if (id && *id && path_of(staging, id, path, sizeof(path)) == 0)
        unlink(path);
}

/* Copies the open staged file fd into a new writer of the default store
 * and commits it as image id; its md5 must come out as md5 (when given). */
static int
copy_in(struct db *db, struct arena *a, int fd, const char *id, const char *md5,
        const char **store)
{
    struct img_writer *w;
    struct img_digest d;
    char *buf = xmalloc(COPY_CHUNK);
    int rc = img_store_open(db, a, false, &w);
    if (rc < 0)
        goto out;
    for (;;) {
        ssize_t k = read(fd, buf, COPY_CHUNK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -errno;
            break;
        }
        if (k == 0 || (rc = img_store_write(w, buf, (size_t)k)) < 0)
            break;
    }
    if (rc == 0) {
        img_store_digest(w, &d);
        /* the staged bytes were hashed on their way in: a difference now
         * means they changed on disk since */
        if (md5 && strcmp(md5, d.md5))
            rc = -EIO;
    }
    if (rc < 0)
        img_store_abort(w);
    else
        rc = img_store_commit(w, db, a, id, store);
out:
    free(buf);
    return rc;
}

int
img_stage_import(struct db *db, struct arena *a, const char *id, const char *md5,
                 const char *disk_format, const char **store, int64_t *vsize)
{
    char src[PATH_MAX], dst[PATH_MAX];
    unsigned char head[BLOB_HEAD];
    uint64_t size, v;
    int fd, rc;
    if ((rc = path_of(staging, id, src, sizeof(src))) < 0 ||
        (rc = path_of(root, id, dst, sizeof(dst))) < 0 ||
        (rc = blob_open_read(src, &fd, &size)) < 0)
        return rc;
    ssize_t n = pread(fd, head, sizeof(head), 0);
    *vsize = n >= 0 && virtual_size(head, (size_t)n, size, disk_format, &v) ? (int64_t)v : -1;
    if (def_kind == K_FILE && rename(src, dst) == 0) {
        /* the bytes were fsync'd when staged: only the names need to last */
        close(fd);
        if ((rc = fsync_dir(root)) < 0)
            return rc;
        fsync_dir(staging);
        *store = IMG_STORE_FILE;
        return 0;
    }
    if (def_kind == K_FILE && errno != EXDEV) {
        rc = -errno;
        close(fd);
        return rc;
    }
    rc = copy_in(db, a, fd, id, md5, store);
    close(fd);
    if (rc == 0)
        unlink(src);
    return rc;
}

/* ---- start-up ---- */

/* Removes the temp files (".tmp-*", core/blob's) a crash left in dir. */
static void
sweep_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, ".tmp-", 5) && path_of(dir, e->d_name, path, sizeof(path)) == 0)
            unlink(path);
    if (d)
        closedir(d);
}

/* Offers every plain file of dir to keep() and unlinks the refused. */
static void
sweep_files(const char *dir, const char *where,
            bool (*keep)(void *arg, const char *where, const char *id), void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_type == DT_DIR)
            continue;
        if (!keep(arg, where, e->d_name) && path_of(dir, e->d_name, path, sizeof(path)) == 0)
            unlink(path);
    }
    if (d)
        closedir(d);
}

void
img_store_sweep(bool (*keep)(void *arg, const char *where, const char *id), void *arg)
{
    sweep_temps(root);
    sweep_temps(staging);
    sweep_files(root, "file", keep, arg);
    sweep_files(staging, "staging", keep, arg);
}
