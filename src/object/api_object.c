/* api_object.c - Swift object requests: PUT streams the body into the
 * store (MD5 while it arrives, 422 on an ETag mismatch, durable before the
 * listing row and the 201), GET/HEAD send the file from disk with an
 * optional single byte range, POST replaces metadata, DELETE removes. */
#include "object_int.h"
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
struct put_ctx {
    const char *account, *container_id, *name, *ctype, *meta;
    char expect[33];                /* ETag the client sent, "" if none */
    struct obj_writer *w;
};

/* The object name from the path, checked against Swift's limit. */
static const char *
object_name(struct http_req *req)
{
    const char *name = http_param(req, "object");
    if (strlen(name) > OBJ_MAX_OBJECT_NAME) {
        req_fail(req, 400, "Object name length of %zu longer than %d", strlen(name),
                 OBJ_MAX_OBJECT_NAME);
        return NULL;
    }
    return name;
}

/* Headers and token are in, no body byte yet: refuse what Swift would
 * refuse, then open the temp file. */
static int
put_begin(struct http_req *req)
{
    struct obj_container c;
    struct put_ctx *p = arena_alloc(req->arena, sizeof(*p));
    const char *cl = http_header_in(req, "Content-Length");
    const char *te = http_header_in(req, "Transfer-Encoding");
    const char *v;

    if (!(p->account = obj__account(req)) || !(p->name = object_name(req)))
        return -1;
    if (!cl && !(te && strcasestr(te, "chunked")))
        return req_fail(req, 411, "Length Required");
    if (cl && strtoll(cl, NULL, 10) > OBJ_MAX_FILE_SIZE)
        return req_fail(req, 413, "Your request is too large.");
    if (http_header_in(req, "X-Copy-From"))
        return req_fail(req, 501, "X-Copy-From is not implemented yet");
    if (obj__container(req, p->account, &c) < 0 || !(p->meta = obj__meta_in(req, "Object",
                                                                              false)))
        return -1;
    p->container_id = c.id;
    v = http_header_in(req, "Content-Type");
    p->ctype = v && *v ? v : "application/octet-stream";
    if ((v = http_header_in(req, "ETag")) && *v) {
        /* clients send it bare or quoted, in either case */
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
            v++, n -= 2;
        snprintf(p->expect, sizeof(p->expect), "%.*s", (int)(n < 32 ? n : 32), v);
        for (char *s = p->expect; *s; s++)
            *s = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
    }
    /* the upload may take minutes: the pool's connection goes back now and
     * end() takes one again for its few statements */
    db_put(req->db);
    req->db = NULL;
    int rc = obj_store_open(p->account, p->container_id, &p->w);
    if (rc < 0)
        return req_fail(req, 500, "cannot create object file: %s", strerror(-rc));
    req->stream_ctx = p;
    return 0;
}

static int
put_data(struct http_req *req, const char *buf, size_t n)
{
    struct put_ctx *p = req->stream_ctx;
    if (obj_store_size(p->w) + n > (uint64_t)OBJ_MAX_FILE_SIZE)
        return req_fail(req, 413, "Your request is too large.");
    int rc = obj_store_write(p->w, buf, n);
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot write object: %s",
                        strerror(-rc));
    return 0;
}

/* Runs on a worker (ROUTE_SLOW): the body is in, or never will be. */
static int
put_end(struct http_req *req, bool complete)
{
    struct put_ctx *p = req->stream_ctx;
    char etag[33], file[80];
    const char *old = NULL;
    if (!complete) {
        obj_store_abort(p->w);
        return 0;
    }
    obj_store_digest(p->w, etag);
    if (p->expect[0] && strcmp(p->expect, etag)) {
        obj_store_abort(p->w);
        return req_fail(req, 422, "Unprocessable Entity");
    }
    struct obj_row row = {
        .name = p->name, .file = file, .etag = etag, .content_type = p->ctype,
        .meta = p->meta, .size = (int64_t)obj_store_size(p->w), .modified_us = now_us(),
    };
    int rc = obj_store_commit(p->w, p->name, file);
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot store object: %s",
                        strerror(-rc));
    if (!obj__db(req)) {
        obj_store_remove(p->account, p->container_id, file);
        return -1;
    }
    rc = obj_db_object_put(req->db, req->arena, p->container_id, &row, &old);
    if (rc) {
        obj_store_remove(p->account, p->container_id, file);
        return obj__db_fail(req, rc);
    }
    /* the old version is unreachable now; a GET that opened it keeps
     * reading its bytes until it closes */
    obj_store_remove(p->account, p->container_id, old);
    http_header(req, "Etag", etag);
    http_header(req, "Last-Modified", obj__http_date(req, row.modified_us));
    return http_reply_raw(req, 201, "text/html; charset=UTF-8", NULL, 0);
}

const struct http_stream_ops obj__object_put = {put_begin, put_data, put_end};

/* Parses a single "bytes=a-b" / "a-" / "-n" range against size. 1 with
 * [*off, *off + *len) set, 0 to ignore it (absent, malformed or several
 * ranges: the whole object is sent), -1 when unsatisfiable. */
static int
parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    char *end;
    if (!h || strncasecmp(h, "bytes=", 6) || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        unsigned long long n = strtoull(h + 1, &end, 10);
        if (end == h + 1 || *end)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        if (n > size)
            n = size;
        *off = size - n;
        *len = n;
        return 1;
    }
    unsigned long long a = strtoull(h, &end, 10), b;
    if (end == h || *end != '-')
        return 0;
    h = end + 1;
    if (!*h) {
        b = size ? size - 1 : 0;
    } else {
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

/* GET and HEAD of an object. */
int
obj__object_get(struct http_req *req)
{
    struct obj_container c;
    struct obj_row row;
    const char *account = obj__account(req), *name;
    int fd = -1, rc;
    uint64_t size = 0, off = 0, len;
    if (!account || !(name = object_name(req)) || obj__container(req, account, &c) < 0)
        return -1;
    /* an overwrite may remove the file between the row and the open: the
     * row read again then names the new one */
    for (int tries = 0; tries < 3; tries++) {
        rc = obj_db_object_get(req->db, req->arena, c.id, name, &row);
        if (rc)
            return obj__db_fail(req, rc);
        rc = obj_store_open_read(account, c.id, row.file, &fd, &size);
        if (rc != -ENOENT)
            break;
    }
    if (rc < 0)
        return req_fail(req, 500, "cannot open object file: %s", strerror(-rc));
    len = size;
    http_header(req, "Etag", row.etag);
    http_header(req, "Last-Modified", obj__http_date(req, row.modified_us));
    http_header(req, "X-Timestamp", obj__ts(req, row.modified_us));
    http_header(req, "Accept-Ranges", "bytes");
    obj__meta_out(req, "Object", row.meta);
    int status = 200;
    if (req->method == HTTP_GET) {
        rc = parse_range(http_header_in(req, "Range"), size, &off, &len);
        if (rc < 0) {
            close(fd);
            http_header(req, "Content-Range",
                        arena_printf(req->arena, "bytes */%" PRIu64, size));
            return req_fail(req, 416, "Requested Range Not Satisfiable");
        }
        if (rc > 0) {
            status = 206;
            http_header(req, "Content-Range",
                        arena_printf(req->arena, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                                     off, off + len - 1, size));
        }
    }
    return http_reply_file(req, status, fd, off, len,
                           arena_strdup(req->arena, row.content_type));
}

int
obj__object_head(struct http_req *req)
{
    return obj__object_get(req);
}

int
obj__object_delete(struct http_req *req)
{
    struct obj_container c;
    const char *account = obj__account(req), *name, *file = NULL;
    if (!account || !(name = object_name(req)) || obj__container(req, account, &c) < 0)
        return -1;
    int rc = obj_db_object_delete(req->db, req->arena, c.id, name, &file);
    if (rc)
        return obj__db_fail(req, rc);
    obj_store_remove(account, c.id, file);
    return http_reply_empty(req, 204);
}

/* POST replaces all of the object's metadata, as Swift does (not a merge);
 * a Content-Type given with it replaces the stored one. */
int
obj__object_post(struct http_req *req)
{
    struct obj_container c;
    const char *account = obj__account(req), *name, *meta;
    if (!account || !(name = object_name(req)) || obj__container(req, account, &c) < 0 ||
        !(meta = obj__meta_in(req, "Object", false)))
        return -1;
    const char *ct = http_header_in(req, "Content-Type");
    int rc = obj_db_object_post(req->db, c.id, name, meta, ct && *ct ? ct : NULL);
    if (rc)
        return obj__db_fail(req, rc);
    return http_reply_raw(req, 202, "text/html; charset=UTF-8", NULL, 0);
}
