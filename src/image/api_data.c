/* api_data.c - image data: PUT /file streams the body into the store
 * (md5 and sha512 while it arrives) with the image "saving", and only
 * after the bytes are durable makes it "active"; a broken upload returns
 * it to "queued" and keeps nothing. GET /file sends the file from disk
 * with an optional single byte range. */
#include "image_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* the state of one upload, in the request arena */
struct up_ctx {
    struct img_image im;
    struct img_writer *w;
};

/* Gives a saving image back to queued (the upload will not finish). */
static void
back_to_queued(struct http_req *req, struct img_image *im)
{
    if (req_db(req))
        img_db_set_status(req->db, req->arena, im, "saving", "queued", NULL);
}

/* Headers and token are in, no body byte yet: refuse what Glance
 * refuses, then claim the image (queued -> saving) and open the file. */
static int
up_begin(struct http_req *req)
{
    struct up_ctx *u = arena_alloc(req->arena, sizeof(*u));
    const char *ct = http_header_in(req, "Content-Type");
    const char *cl = http_header_in(req, "Content-Length");
    const char *now = NULL;
    if (img__find(req, &u->im) < 0 || img__may_change(req, "upload_image", &u->im) < 0)
        return -1;
    if (!ct || strncasecmp(ct, "application/octet-stream", 24))
        return req_fail(req, 415, "Content-Type must be application/octet-stream");
    if (!u->im.disk_format || !u->im.container_format)
        return req_fail(req, 400, "Properties disk_format, container_format must be set "
                                  "prior to saving data.");
    if (cl && strtoll(cl, NULL, 10) > IMG_MAX_SIZE)
        return req_fail(req, 413, "Image exceeds the storage quota: %s bytes", cl);
    int rc = img_db_set_status(req->db, req->arena, &u->im, "queued", "saving", &now);
    if (rc == -EBUSY)
        return req_fail(req, 409, "Image status transition from %s to saving is not "
                                  "allowed", now ? now : "");
    if (rc)
        return img__db_fail(req, rc, u->im.id);
    /* the upload may take minutes: the pool's connection goes back now and
     * end() takes one again */
    db_put(req->db);
    req->db = NULL;
    rc = img_store_open(&u->w);
    if (rc < 0) {
        back_to_queued(req, &u->im);
        return req_fail(req, 500, "cannot create image file: %s", strerror(-rc));
    }
    req->stream_ctx = u;
    return 0;
}

static int
up_data(struct http_req *req, const char *p, size_t n)
{
    struct up_ctx *u = req->stream_ctx;
    if (img_store_size(u->w) + n > (uint64_t)IMG_MAX_SIZE)
        return req_fail(req, 413, "Image exceeds the storage quota");
    int rc = img_store_write(u->w, p, n);
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 413 : 500, "cannot write image data: %s",
                        strerror(-rc));
    return 0;
}

/* Runs on a worker (ROUTE_SLOW): the body is in, or never will be. */
static int
up_end(struct http_req *req, bool complete)
{
    struct up_ctx *u = req->stream_ctx;
    struct img_digest d;
    uint64_t vsize = 0;
    if (!complete) {
        img_store_abort(u->w);
        back_to_queued(req, &u->im);
        return 0;
    }
    img_store_digest(u->w, &d);
    int64_t virt = img_store_virtual_size(u->w, u->im.disk_format, &vsize) ? (int64_t)vsize
                                                                          : -1;
    int rc = img_store_commit(u->w, u->im.id);
    if (rc < 0) {
        back_to_queued(req, &u->im);
        return req_fail(req, rc == -ENOSPC ? 413 : 500, "cannot store image data: %s",
                        strerror(-rc));
    }
    if (!img__db(req)) {
        img_store_remove(u->im.id);
        return -1;
    }
    rc = img_db_set_data(req->db, req->arena, u->im.id, d.md5, d.sha512, (int64_t)d.size,
                         virt);
    if (rc == -ENOENT) {
        /* deleted while the bytes came in: they belong to nothing now */
        img_store_remove(u->im.id);
        return req_fail(req, 410, "Image %s could not be found after upload. The image may "
                                  "have been deleted during the upload.", u->im.id);
    }
    if (rc) {
        img_store_remove(u->im.id);
        back_to_queued(req, &u->im);
        return img__db_fail(req, rc, u->im.id);
    }
    return http_reply_empty(req, 204);
}

const struct http_stream_ops img__upload = {up_begin, up_data, up_end};

/* A single "bytes=a-b" / "a-" / "-n" range against size: 1 with [*off,
 * *off + *len) set, 0 to send everything (absent or not understood), -1
 * when unsatisfiable. */
static int
parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    char *end;
    unsigned long long a, b;
    if (!h || strncasecmp(h, "bytes=", 6) || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        a = strtoull(h + 1, &end, 10);
        if (end == h + 1 || *end)
            return 0;
        if (a == 0 || size == 0)
            return -1;
        *len = a > size ? size : a;
        *off = size - *len;
        return 1;
    }
    a = strtoull(h, &end, 10);
    if (end == h || *end != '-')
        return 0;
    h = end + 1;
    b = size ? size - 1 : 0;
    if (*h) {
        b = strtoull(h, &end, 10);
        if (*end || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

int
img__download(struct http_req *req)
{
    struct img_image im;
    uint64_t size = 0, off = 0, len;
    int fd = -1, status = 200;
    if (img__find(req, &im) < 0)
        return -1;
    if (!strcmp(im.status, "deactivated") && !img__admin(req))
        return req_fail(req, 403, "The requested image has been deactivated. Image data "
                                  "download is forbidden.");
    if (!im.checksum || (strcmp(im.status, "active") && strcmp(im.status, "deactivated")))
        return http_reply_empty(req, 204);
    int rc = img_store_open_read(im.id, &fd, &size);
    if (rc < 0)
        return req_fail(req, rc == -ENOENT ? 404 : 500, "Image data of %s is not available: %s",
                        im.id, strerror(-rc));
    len = size;
    rc = parse_range(http_header_in(req, "Range"), size, &off, &len);
    if (rc < 0) {
        close(fd);
        http_header(req, "Content-Range", arena_printf(req->arena, "bytes */%" PRIu64, size));
        return req_fail(req, 416, "Requested range not satisfiable");
    }
    if (rc > 0) {
        status = 206;
        http_header(req, "Content-Range",
                    arena_printf(req->arena, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
                                 off + len - 1, size));
    } else {
        /* the md5 describes the whole image, not a part of it */
        http_header(req, "Content-MD5", im.checksum);
    }
    return http_reply_file(req, status, fd, off, len, "application/octet-stream");
}
