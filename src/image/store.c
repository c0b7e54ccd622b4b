/* store.c - image bytes as files; see store.h. */
#include "store.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* qcow2 keeps its virtual size as a big-endian u64 at offset 24 */
#define QCOW2_HEAD 32

static char root[PATH_MAX];

struct img_writer {
    int fd;
    EVP_MD_CTX *md5, *sha512;
    uint64_t size;
    unsigned char head[QCOW2_HEAD];     /* the first bytes, for the header */
    char tmp[PATH_MAX];
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
    char id[33], name[48];
    int rc;
    w->fd = -1;
    uuid_hex(id);
    /* a dot file beside the final name: the rename is atomic and a crash
     * leaves only a temp file no row points at */
    snprintf(name, sizeof(name), ".tmp-%s", id);
    if ((rc = path_of(name, w->tmp, sizeof(w->tmp))) < 0)
        goto fail;
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        rc = -errno;
        w->tmp[0] = '\0';
        goto fail;
    }
    w->md5 = EVP_MD_CTX_new();
    w->sha512 = EVP_MD_CTX_new();
    if (!w->md5 || !w->sha512 || EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) != 1 ||
        EVP_DigestInit_ex(w->sha512, EVP_sha512(), NULL) != 1) {
        rc = -ENOMEM;
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
    const char *c = p;
    if (w->size < QCOW2_HEAD) {
        size_t k = QCOW2_HEAD - (size_t)w->size;
        memcpy(w->head + w->size, p, k < n ? k : n);
    }
    EVP_DigestUpdate(w->md5, p, n);
    EVP_DigestUpdate(w->sha512, p, n);
    w->size += n;
    while (n) {
        ssize_t k = write(w->fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

uint64_t
img_store_size(const struct img_writer *w)
{
    return w->size;
}

void
img_store_digest(struct img_writer *w, struct img_digest *d)
{
    unsigned char b[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(w->md5, b, &n);
    hex_encode(b, n > 16 ? 16 : n, d->md5);
    EVP_DigestFinal_ex(w->sha512, b, &n);
    hex_encode(b, n > 64 ? 64 : n, d->sha512);
    d->size = w->size;
}

bool
img_store_virtual_size(const struct img_writer *w, const char *disk_format, uint64_t *out)
{
    if (disk_format && !strcmp(disk_format, "raw")) {
        *out = w->size;
        return true;
    }
    if (!disk_format || strcmp(disk_format, "qcow2") || w->size < QCOW2_HEAD ||
        memcmp(w->head, "QFI\xfb", 4))
        return false;
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | w->head[i];
    *out = v;
    return true;
}

/* fsync of the directory, so the rename survives a power cut */
static int
sync_root(void)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int
img_store_commit(struct img_writer *w, const char *id)
{
    char path[PATH_MAX];
    int rc;
    if ((rc = path_of(id, path, sizeof(path))) < 0)
        goto out;
    if (fsync(w->fd) < 0 || close(w->fd) < 0) {
        rc = -errno;
        w->fd = -1;
        goto out;
    }
    w->fd = -1;
    if (rename(w->tmp, path) < 0) {
        rc = -errno;
        goto out;
    }
    w->tmp[0] = '\0';
    if ((rc = sync_root()) < 0)
        unlink(path);
out:
    img_store_abort(w);
    return rc;
}

void
img_store_abort(struct img_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp[0])
        unlink(w->tmp);
    EVP_MD_CTX_free(w->md5);
    EVP_MD_CTX_free(w->sha512);
    free(w);
}

int
img_store_open_read(const char *id, int *fd, uint64_t *size)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = path_of(id, path, sizeof(path));
    if (rc < 0)
        return rc;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return -errno;
    if (fstat(f, &st) < 0) {
        rc = -errno;
        close(f);
        return rc;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

void
img_store_remove(const char *id)
{
    char path[PATH_MAX];
    if (id && *id && path_of(id, path, sizeof(path)) == 0)
        unlink(path);
}
