/* api_data.c - image data: PUT /file streams the body into the store
 * (md5 and sha512 while it arrives) with the image "saving", and only
 * after the bytes are durable makes it "active"; PUT /stage does the same
 * into the staging area with the image "uploading", for a later import. A
 * broken transfer returns the image to "queued" and keeps nothing. GET
 * /file sends the data from its store with an optional single byte
 * range. */
#include "image_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* the state of one upload or stage, in the request arena */
struct up_ctx {
    struct img_image im;
    struct img_writer *w;
    bool stage;                 /* PUT /stage: into the staging area */
    const char *status;         /* the status the transfer holds: saving/uploading */
};

/* Gives the image back to queued with no data (the transfer will not
 * finish). */
static void
back_to_queued(struct http_req *req, struct up_ctx *u)
{
    if (req_db(req))
        img_db_unclaim(req->db, req->arena, u->im.id, u->status);
}

/* Headers and token are in, no body byte yet: refuse what Glance
 * refuses, then claim the image (queued -> saving/uploading) and open the
 * writer. */
static int
transfer_begin(struct http_req *req, bool stage)
{
    struct up_ctx *u = arena_alloc(req->arena, sizeof(*u));
    const char *ct = http_header_in(req, "Content-Type");
    const char *cl = http_header_in(req, "Content-Length");
    const char *now = NULL;
    u->stage = stage;
    u->status = stage ? "uploading" : "saving";
    if (!ct || strncasecmp(ct, "application/octet-stream", 24))
        return req_fail(req, 415, "Invalid content type %s", ct ? ct : "None");
    if (img__find(req, &u->im) < 0 ||
        img__may_change(req, stage ? "modify_image" : "upload_image", &u->im) < 0)
        return -1;
    if (!stage && (!u->im.disk_format || !u->im.container_format))
        return req_fail(req, 400, "Properties disk_format, container_format must be set "
                                  "prior to saving data.");
    if (cl && strtoll(cl, NULL, 10) > IMG_MAX_SIZE)
        return req_fail(req, 413, "The incoming image is too large: The provided image is "
                                  "too large.");
    int rc = img_db_claim(req->db, req->arena, u->im.id, "queued", u->status, img__node(),
                          &now);
    if (rc == -EBUSY)
        return req_fail(req, 409, "Image status transition from %s to %s is not allowed",
                        now ? now : "", u->status);
    if (rc)
        return img__db_fail(req, rc, u->im.id);
    rc = img_store_open(req->db, req->arena, stage, &u->w);
    if (rc < 0) {
        back_to_queued(req, u);
        return req_fail(req, 500, "cannot store image data: %s", strerror(-rc));
    }
    /* the transfer may take minutes: the pool's connection goes back now
     * and end() takes one again */
    db_put(req->db);
    req->db = NULL;
    req->stream_ctx = u;
    return 0;
}

static int
up_begin(struct http_req *req)
{
    return transfer_begin(req, false);
}

static int
stage_begin(struct http_req *req)
{
    return transfer_begin(req, true);
}

static int
up_data(struct http_req *req, const char *p, size_t n)
{
    struct up_ctx *u = req->stream_ctx;
    if (img_store_size(u->w) + n > (uint64_t)IMG_MAX_SIZE)
        return req_fail(req, 413, "The incoming image is too large: The provided image is "
                                  "too large.");
    int rc = img_store_write(u->w, p, n);
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 413 : 500, "cannot write image data: %s",
                        strerror(-rc));
    return 0;
}

/* The staged bytes are durable: record their digests; the image stays
 * uploading until it is imported. */
static int
stage_done(struct http_req *req, struct up_ctx *u, const struct img_digest *d)
{
    int rc = img_db_set_staged(req->db, req->arena, u->im.id, d->md5, d->sha512,
                               (int64_t)d->size);
    if (rc == -ENOENT) {
        img_stage_remove(u->im.id);
        return req_fail(req, 404, "No image found with ID %s", u->im.id);
    }
    if (rc) {
        img_stage_remove(u->im.id);
        back_to_queued(req, u);
        return img__db_fail(req, rc, u->im.id);
    }
    return http_reply_empty(req, 204);
}

/* Runs on a worker (ROUTE_SLOW): the body is in, or never will be. */
static int
up_end(struct http_req *req, bool complete)
{
    struct up_ctx *u = req->stream_ctx;
    struct img_digest d;
    uint64_t vsize = 0;
    const char *store = NULL;
    if (!complete) {
        img_store_abort(u->w);
        back_to_queued(req, u);
        return 0;
    }
    if (!img__db(req)) {
        /* the image stays claimed: the start-up recovery returns it */
        img_store_abort(u->w);
        return -1;
    }
    img_store_digest(u->w, &d);
    int64_t virt = img_store_virtual_size(u->w, u->im.disk_format, &vsize) ? (int64_t)vsize
                                                                          : -1;
    int rc = img_store_commit(u->w, req->db, req->arena, u->im.id, &store);
    if (rc < 0) {
        back_to_queued(req, u);
        return req_fail(req, rc == -ENOSPC ? 413 : 500, "cannot store image data: %s",
                        strerror(-rc));
    }
    if (u->stage)
        return stage_done(req, u, &d);
    rc = img_db_set_data(req->db, req->arena, u->im.id, "saving", d.md5, d.sha512,
                         (int64_t)d.size, virt, store);
    if (rc == -ENOENT) {
        /* deleted while the bytes came in: they belong to nothing now */
        img_store_remove(req->db, req->arena, store, u->im.id);
        return req_fail(req, 410, "Image %s could not be found after upload. The image may "
                                  "have been deleted during the upload.", u->im.id);
    }
    if (rc) {
        img_store_remove(req->db, req->arena, store, u->im.id);
        back_to_queued(req, u);
        return img__db_fail(req, rc, u->im.id);
    }
    return http_reply_empty(req, 204);
}

const struct http_stream_ops img__upload = {up_begin, up_data, up_end};
const struct http_stream_ops img__stage = {stage_begin, up_data, up_end};

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
    int rc = img_store_open_read(req->db, req->arena, im.store, im.id, &fd, &size);
    if (rc == -ENOENT) {
        /* Glance answers a store's NotFound with 204; the loss is logged */
        log_warn(req->request_id, "image %s: no data in the %s store", im.id,
                 im.store ? im.store : IMG_STORE_FILE);
        return http_reply_empty(req, 204);
    }
    if (rc < 0)
        return req_fail(req, 500, "Image data of %s is not available: %s", im.id,
                        strerror(-rc));
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
