/* export.c - what the image service offers compute without HTTP (see
 * image.h): a lookup with Glance's visibility rules, a verified copy of an
 * image's bytes into the host agent's cache, and server snapshots. */
#include "image.h"
#include "image_int.h"
#include "img_db.h"
#include "store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

static void
brief(const struct img_image *im, struct img_brief *out)
{
    *out = (struct img_brief){
        .id = im->id, .name = im->name, .status = im->status, .owner = im->owner,
        .visibility = im->visibility, .disk_format = im->disk_format,
        .checksum = im->checksum, .props = im->props, .size = im->size,
        .virtual_size = im->virtual_size, .min_disk = im->min_disk, .min_ram = im->min_ram,
        .created_us = im->created_us, .updated_us = im->updated_us,
    };
}

int
img_list_visible(struct db *db, struct arena *a, const char *project_id, bool admin,
                 const char *marker, int limit, struct img_brief **out, int *n)
{
    struct img_filter f = {.caller = project_id, .admin = admin, .hidden = 0,
                           .protected_ = -1, .marker = marker,
                           .limit = limit > 0 ? limit : 1000,
                           .sort_keys = {"created_at", "id"}, .sort_asc = {false, false},
                           .nsort = 2};
    struct img_image *items;
    int rc = img_db_list(db, a, &f, &items, n);
    if (rc)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(*n + 1));
    for (int i = 0; i < *n; i++)
        brief(&items[i], &(*out)[i]);
    return 0;
}

int
img_lookup(struct db *db, struct arena *a, const char *id, const char *project_id, bool admin,
           struct img_brief *out)
{
    struct img_image im;
    struct img_member m;
    int rc = img_db_get(db, a, id, &im);
    if (rc)
        return rc;
    bool vis = admin || !strcmp(im.visibility, "public") ||
               !strcmp(im.visibility, "community") ||
               (project_id && im.owner && !strcmp(project_id, im.owner)) ||
               (project_id && !strcmp(im.visibility, "shared") &&
                img_db_member_get(db, a, id, project_id, &m) == 0);
    if (!vis)
        return -ENOENT;
    brief(&im, out);
    return 0;
}

static int
fail(char *why, size_t whylen, int rc, const char *fmt, const char *arg)
{
    snprintf(why, whylen, fmt, arg);
    return rc;
}

/* Copies fd (size bytes) to a temp file beside path, md5 as it goes, and
 * renames it to path when the digest equals want. */
static int
copy_checked(int fd, uint64_t size, const char *path, const char *want, char *why,
             size_t whylen)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.part", path);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return fail(why, whylen, -errno, "cannot create %s", tmp);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    static const size_t bs = 1 << 20;
    char *buf = xmalloc(bs);
    uint64_t done = 0;
    int rc = 0;
    while (done < size) {
        ssize_t n = pread(fd, buf, bs, (off_t)done);
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        EVP_DigestUpdate(md, buf, (size_t)n);
        if (write(out, buf, (size_t)n) != n) {
            rc = -errno ? -errno : -EIO;
            break;
        }
        done += (uint64_t)n;
    }
    free(buf);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    EVP_DigestFinal_ex(md, dig, &dlen);
    EVP_MD_CTX_free(md);
    hex_encode(dig, dlen, hex);
    if (rc == 0 && fsync(out) < 0)
        rc = -errno;
    close(out);
    if (rc == 0 && want && strcmp(hex, want))
        rc = fail(why, whylen, -EBADMSG, "image data does not match its checksum %s", want);
    else if (rc < 0)
        fail(why, whylen, rc, "cannot copy image data: %s", strerror(-rc));
    if (rc == 0 && rename(tmp, path) < 0)
        rc = fail(why, whylen, -errno, "cannot rename %s", tmp);
    if (rc)
        unlink(tmp);
    return rc;
}

int
img_copy_to(const char *id, const char *path, char *why, size_t whylen)
{
    struct db *db = db_get();
    if (!db)
        return fail(why, whylen, -EAGAIN, "%s", "the database is unreachable");
    struct arena *a = arena_new();
    struct img_image im;
    int fd = -1, rc = img_db_get(db, a, id, &im);
    uint64_t size = 0;
    if (rc == -ENOENT)
        rc = fail(why, whylen, -ENOENT, "Image %s could not be found.", id);
    else if (rc)
        rc = fail(why, whylen, -EIO, "%s", db_errmsg(db));
    else if (strcmp(im.status, "active"))
        rc = fail(why, whylen, -EINVAL, "Image %s is not active.", id);
    else if ((rc = img_store_open_read(db, a, im.store, im.id, &fd, &size)) < 0)
        fail(why, whylen, rc, "cannot read the data of image %s", id);
    db_put(db);
    if (rc == 0) {
        rc = copy_checked(fd, size, path, im.checksum, why, whylen);
        close(fd);
    }
    arena_free(a);
    return rc;
}

int
img_snapshot_create(struct db *db, struct arena *a, const char *name, const char *owner,
                    const char *props, int64_t min_disk, int64_t min_ram, char *id_out)
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, id_out);
    struct img_image im = {
        .id = id_out, .name = name, .status = "queued", .visibility = "private",
        .owner = owner, .disk_format = "qcow2", .container_format = "bare", .size = -1,
        .virtual_size = -1, .min_disk = min_disk, .min_ram = min_ram, .tags = "[]",
        .props = props ? props : "{}", .created_us = now_us(),
    };
    im.updated_us = im.created_us;
    int rc = img_db_insert(db, a, &im);
    return rc == -EEXIST ? DB_CONFLICT : rc;
}

/* Moves image id to killed after a failed upload (best effort). */
static void
kill_image(struct db *db, struct arena *a, const char *id, const char *from)
{
    struct img_image im;
    if (img_db_get(db, a, id, &im) == 0)
        img_db_set_status(db, a, &im, from, "killed", NULL);
}

int
img_snapshot_upload(const char *id, const char *path, char *why, size_t whylen)
{
    struct db *db = db_get();
    if (!db)
        return fail(why, whylen, -EAGAIN, "%s", "the database is unreachable");
    struct arena *a = arena_new();
    struct img_writer *w = NULL;
    struct img_digest d;
    const char *store = NULL;
    uint64_t vsize = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? fail(why, whylen, -errno, "cannot open %s", path) : 0;
    /* claimed as this node: a crash mid-upload is undone by the start-up
     * recovery, and the agent then uploads again */
    if (rc == 0 && (rc = img_db_claim(db, a, id, "queued", "saving", img__node(), NULL)) < 0)
        fail(why, whylen, rc, "Image %s is no longer queued.", id);
    bool claimed = rc == 0;
    if (rc == 0 && (rc = img_store_open(db, a, false, &w)) < 0)
        fail(why, whylen, rc, "%s", "cannot open the image store");
    char *buf = xmalloc(1 << 20);
    for (ssize_t n; rc == 0 && (n = read(fd, buf, 1 << 20)) != 0;) {
        if (n < 0)
            rc = fail(why, whylen, -errno, "cannot read %s", path);
        else if ((rc = img_store_write(w, buf, (size_t)n)) < 0)
            fail(why, whylen, rc, "%s", "cannot write image data");
    }
    free(buf);
    if (fd >= 0)
        close(fd);
    if (rc == 0) {
        img_store_digest(w, &d);
        int64_t virt = img_store_virtual_size(w, "qcow2", &vsize) ? (int64_t)vsize : -1;
        rc = img_store_commit(w, db, a, id, &store);
        w = NULL;
        if (rc < 0)
            fail(why, whylen, rc, "%s", "cannot store image data");
        else if ((rc = img_db_set_data(db, a, id, "saving", d.md5, d.sha512, (int64_t)d.size,
                                       virt, store)) != 0) {
            img_store_remove(db, a, store, id);
            rc = rc == -ENOENT ? -ENOENT : -EIO;
            fail(why, whylen, rc, "Image %s could not be found after upload.", id);
        }
    }
    img_store_abort(w);
    if (rc && claimed)
        kill_image(db, a, id, "saving");
    db_put(db);
    arena_free(a);
    return rc;
}

int
img_delete(const char *id)
{
    struct db *db = db_get();
    if (!db)
        return DB_ERR;
    struct arena *a = arena_new();
    struct img_image im;
    int rc = img_db_get(db, a, id, &im);
    if (rc == 0 && im.protected_)
        rc = -EPERM;
    if (rc == 0)
        rc = img_db_delete(db, a, id);
    if (rc == 0)
        img_store_remove(db, a, NULL, id);
    db_put(db);
    arena_free(a);
    return rc;
}
