/* store.c - image bytes as files; see store.h. */
#include "store.h"
#include "core/blob.h"
#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* qcow2 keeps its virtual size as a big-endian u64 at offset 24 */
#define QCOW2_HEAD 32

static char root[PATH_MAX];

/* The bytes go through a core blob (temp file, digests, durable commit);
 * this wrapper is what a non-file backend would replace. */
struct img_writer {
    struct blob *b;
};

int
img_store_init(const char *data_dir)
{
    int n = snprintf(root, sizeof(root), "%s/images", data_dir);
    if (n < 0 || (size_t)n >= sizeof(root))
        return -ENAMETOOLONG;
    return mkdir_p(root, 0700);
}

/* root/name into out; -ENAMETOOLONG when it does not fit. Names are image
 * ids, which the API only accepts in UUID form, so they are safe path
 * segments. */
static int
path_of(const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s", root, name);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int
img_store_open(struct img_writer **out)
{
    struct img_writer *w = xcalloc(1, sizeof(*w));
    int rc = blob_open(root, BLOB_MD5 | BLOB_SHA512, &w->b);
    if (rc < 0) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int
img_store_write(struct img_writer *w, const void *p, size_t n)
{
    return blob_write(w->b, p, n);
}

uint64_t
img_store_size(const struct img_writer *w)
{
    return blob_size(w->b);
}

void
img_store_digest(struct img_writer *w, struct img_digest *d)
{
    blob_md5_hex(w->b, d->md5);
    blob_sha512_hex(w->b, d->sha512);
    d->size = blob_size(w->b);
}

bool
img_store_virtual_size(const struct img_writer *w, const char *disk_format, uint64_t *out)
{
    size_t n;
    const unsigned char *head = blob_head(w->b, &n);
    if (disk_format && !strcmp(disk_format, "raw")) {
        *out = blob_size(w->b);
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

int
img_store_commit(struct img_writer *w, const char *id)
{
    int rc = blob_commit(w->b, id);
    free(w);
    return rc;
}

void
img_store_abort(struct img_writer *w)
{
    if (!w)
        return;
    blob_abort(w->b);
    free(w);
}

int
img_store_open_read(const char *id, int *fd, uint64_t *size)
{
    char path[PATH_MAX];
    int rc = path_of(id, path, sizeof(path));
    return rc < 0 ? rc : blob_open_read(path, fd, size);
}

void
img_store_remove(const char *id)
{
    char path[PATH_MAX];
    if (id && *id && path_of(id, path, sizeof(path)) == 0)
        unlink(path);
}
