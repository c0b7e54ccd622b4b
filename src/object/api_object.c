/* api_object.c - Swift object requests: PUT streams the body into the
 * store (MD5 while it arrives, 422 on an ETag mismatch, durable before the
 * listing row and the 201), GET/HEAD send the file from disk (byte ranges
 * as Swift serves them) or, for a large object's manifest, its segments,
 * POST replaces metadata, DELETE removes. Large objects themselves are in
 * large.c, slo.c and dlo.c, reached through small hooks here. */
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
#include <time.h>
#include <unistd.h>

/* the state of one upload, in the request arena */
struct put_ctx {
    struct obj_access x;
    const char *name, *ctype, *meta;
    char expect[33];                /* ETag the client sent, "" if none */
    int64_t delete_at;              /* 0: none; -1: not given (copies keep the source's) */
    bool if_none;                   /* If-None-Match: * */
    bool sized;                     /* Content-Length given: quotas checked at begin */
    struct obj_writer *w;           /* NULL for a copy */
    struct obj_copy *copy;          /* X-Copy-From, NULL otherwise */
    struct obj_slo_put *slo;        /* ?multipart-manifest=put, NULL otherwise */
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

/* Swift's normalize_delete_at_timestamp: 0 .. 9999999999 */
static int64_t
clamp_delete_at(int64_t t)
{
    return t < 0 ? 0 : t > 9999999999LL ? 9999999999LL : t;
}

int64_t
obj__delete_at_value(bool have_after, int64_t after, bool have_at, int64_t at)
{
    int64_t now = now_us(), t;
    if (have_after) {
        /* past 2e10 s either way the sum clamps all the same; bounding it
         * first keeps the arithmetic in range */
        if (after > 20000000000LL)
            after = 20000000000LL;
        if (after < -20000000000LL)
            after = -20000000000LL;
        /* Swift truncates now + after to whole seconds */
        t = clamp_delete_at((now + after * 1000000) / 1000000);
    } else if (have_at) {
        t = clamp_delete_at(at);
    } else {
        return 0;
    }
    /* it must be strictly in the future */
    return t * 1000000 <= now ? -1 : t;
}

int
obj__delete_at_in(struct http_req *req, int64_t *t)
{
    const char *at = http_header_in(req, "X-Delete-At");
    const char *after = http_header_in(req, "X-Delete-After");
    int64_t va = 0, vb = 0;
    *t = -1;
    if (after && !obj__py_int(after, &vb))
        return obj__fail_text(req, 400, "Non-integer X-Delete-After");
    if (!after && at && !obj__py_int(at, &va))
        return obj__fail_text(req, 400, "Non-integer X-Delete-At");
    if (!after && !at)
        return 0;
    *t = obj__delete_at_value(after != NULL, vb, at != NULL, va);
    if (*t < 0)
        return obj__fail_text(req, 400, after ? "X-Delete-After in past" : "X-Delete-At in past");
    return 0;
}

bool
obj__expired(const struct obj_row *row)
{
    return row->delete_at > 0 && row->delete_at * 1000000 <= now_us();
}

/* Headers and token are in, no body byte yet: refuse what Swift would
 * refuse, then open the temp file (or, for a copy, find the source). */
static int
put_begin(struct http_req *req)
{
    struct put_ctx *p = arena_alloc(req->arena, sizeof(*p));
    const char *cl = http_header_in(req, "Content-Length");
    const char *te = http_header_in(req, "Transfer-Encoding");
    const char *inm = http_header_in(req, "If-None-Match");
    const char *from = http_header_in(req, "X-Copy-From");
    const char *v;

    if (obj__access(req, OBJ_WRITE, http_param(req, "container"), &p->x) < 0 ||
        !(p->name = object_name(req)))
        return -1;
    if (!cl && !(te && strcasestr(te, "chunked")))
        return req_fail(req, 411, "Length Required");
    if (cl && strtoll(cl, NULL, 10) > OBJ_MAX_FILE_SIZE)
        return req_fail(req, 413, "Your request is too large.");
    if (inm) {
        /* Swift's proxy: If-None-Match on PUT only supports "*" */
        if (strcmp(inm, "*") && !strstr(inm, "\"*\""))
            return obj__fail_text(req, 400, "If-None-Match only supports *");
        p->if_none = true;
    }
    if (!(p->meta = obj__meta_in(req, "Object", false)) ||
        !(p->meta = obj__lo_meta_in(req, p->meta, NULL)) ||
        obj__delete_at_in(req, &p->delete_at) < 0)
        return -1;
    v = http_header_in(req, "Content-Type");
    p->ctype = v && *v ? v : NULL;
    if (p->if_none) {
        struct obj_row row;
        int rc = obj_db_object_get(req->db, req->arena, p->x.c.id, p->name, &row);
        if (rc && rc != -ENOENT)
            return obj__db_fail(req, rc);
        if (rc == 0 && !obj__expired(&row))
            return req_fail(req, 412, "Precondition Failed");
    }
    if (obj__slo_put_begin(req, from != NULL, &p->slo) < 0)
        return -1;
    if (from) {
        if (cl && strtoll(cl, NULL, 10) != 0)
            return obj__fail_text(req, 400, "Copy requests require a zero byte body");
        p->copy = arena_alloc(req->arena, sizeof(*p->copy));
        if (obj__copy_source(req, &p->x, "X-Copy-From", from, p->copy) < 0)
            return -1;
        req->stream_ctx = p;
        return 0;
    }
    /* quotas and the version archive refuse before the body is read (a
     * chunked upload's size is checked again at the end) */
    p->sized = cl != NULL;
    if (obj__quota_check(req, &p->x, cl ? strtoll(cl, NULL, 10) : 0) < 0 ||
        obj__versions_precheck(req, &p->x, p->name) < 0)
        return -1;
    if (!p->ctype)
        p->ctype = "application/octet-stream";
    if (p->delete_at < 0)
        p->delete_at = 0;
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
    int rc = obj_store_open(p->x.account, p->x.c.id, true, &p->w);
    if (rc < 0)
        return req_fail(req, 500, "cannot create object file: %s", strerror(-rc));
    req->stream_ctx = p;
    return 0;
}

static int
put_data(struct http_req *req, const char *buf, size_t n)
{
    struct put_ctx *p = req->stream_ctx;
    if (!p->w)
        return n ? obj__fail_text(req, 400, "Copy requests require a zero byte body") : 0;
    if (p->slo)
        return obj__slo_put_data(req, p->slo, buf, n);
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
    if (!complete) {
        obj_store_abort(p->w);
        return 0;
    }
    if (p->copy)
        return obj__copy_commit(req, &p->x, p->name, p->copy, p->meta, p->ctype,
                                p->delete_at, p->if_none);
    if (p->slo) {
        /* the manifest is checked and rewritten into p->w (slo.c) */
        int r = obj__slo_put_end(req, p->slo, &p->x, p->name, p->w, &p->meta, p->expect);
        if (r) {
            obj_store_abort(p->w);
            return r < 0 ? -1 : 0;
        }
    }
    obj_store_digest(p->w, etag);
    if (p->expect[0] && strcmp(p->expect, etag)) {
        obj_store_abort(p->w);
        return req_fail(req, 422, "Unprocessable Entity");
    }
    struct obj_row row = {
        .name = p->name, .file = file, .etag = etag, .content_type = p->ctype,
        .meta = p->meta, .size = (int64_t)obj_store_size(p->w), .modified_us = now_us(),
        .delete_at = p->delete_at,
    };
    if (!p->sized && obj__quota_check(req, &p->x, row.size) < 0) {
        obj_store_abort(p->w);
        return -1;
    }
    int rc = obj_store_commit(p->w, p->name, file, req->arena, &row.data);
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot store object: %s",
                        strerror(-rc));
    /* the replaced version is archived or unreachable now; a GET that
     * opened it keeps reading its bytes until it closes */
    if (obj__object_commit(req, &p->x, &row, p->if_none) < 0)
        return -1;
    http_header(req, "Etag", p->slo ? obj__slo_put_etag(p->slo) : etag);
    http_header(req, "Last-Modified", obj__http_date(req, row.modified_us));
    return http_reply_raw(req, 201, "text/html; charset=UTF-8", NULL, 0);
}

const struct http_stream_ops obj__object_put = {put_begin, put_data, put_end};

/* Entity tags of an If-Match / If-None-Match list ("*", or quoted or
 * bare tags separated by commas): true when etag is among them. */
static bool
etag_listed(const char *list, const char *etag)
{
    size_t el = strlen(etag), n;
    for (const char *p = list, *t; (t = obj__list_next(&p, ',', &n));) {
        if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
            t++, n -= 2;
        if ((n == 1 && *t == '*') || (n == el && !strncasecmp(t, etag, n)))
            return true;
    }
    return false;
}

/* An HTTP date (RFC 1123, RFC 850 or asctime) as unix seconds; -1 when it
 * is none of them (Swift then ignores the header). */
static int64_t
http_date(const char *v)
{
    static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                       "%a %b %d %H:%M:%S %Y"};
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(v, fmts[i], &tm);
        if (end && !*end)
            return (int64_t)timegm(&tm);
    }
    return -1;
}

/* Swift's conditional GET/HEAD (swob): If-Match 412, If-None-Match 304,
 * If-Modified-Since 304, If-Unmodified-Since 412, in that order, against
 * the Last-Modified second (rounded up, as the header shows it). 0 to
 * answer normally, else the status. */
static int
conditional(struct http_req *req, const struct obj_row *row)
{
    const char *v;
    int64_t lm = (row->modified_us + 999999) / 1000000, t;
    if ((v = http_header_in(req, "If-Match")) && !etag_listed(v, row->etag))
        return 412;
    if ((v = http_header_in(req, "If-None-Match")) && etag_listed(v, row->etag))
        return 304;
    if ((v = http_header_in(req, "If-Modified-Since")) && (t = http_date(v)) >= 0 && lm <= t)
        return 304;
    if ((v = http_header_in(req, "If-Unmodified-Since")) && (t = http_date(v)) >= 0 && lm > t)
        return 412;
    return 0;
}

/* Object metadata a temp URL caller must not see: Swift's tempurl strips
 * X-Object-Meta-* except X-Object-Meta-Public-*. */
static bool
tempurl_hidden(const char *key)
{
    return strncasecmp(key, "public-", 7) != 0;
}

/* The live (not expired) row of the request's object into *row; -1 with
 * 404 recorded otherwise. */
static int
live_row(struct http_req *req, const struct obj_access *x, const char *name,
         struct obj_row *row)
{
    int rc = obj_db_object_get(req->db, req->arena, x->c.id, name, row);
    if (rc == 0 && obj__expired(row))
        rc = -ENOENT;
    return rc ? obj__db_fail(req, rc) : 0;
}

/* Sets the 200/206/416 of a GET (or the HEAD) from src, the object's
 * bytes (size, -1 unknown): Swift's Range handling, several ranges as
 * multipart/byteranges. Takes src. */
static int
reply_ranges(struct http_req *req, struct obj_src *src, int64_t size, const char *ctype,
             bool single_only, const char *name)
{
    struct obj_byterange r[OBJ_MAX_RANGES];
    const char *h = req->method == HTTP_GET ? http_header_in(req, "Range") : NULL;
    int n = -1;
    /* a DLO honours one range only, and only when its size is known */
    if (h && size >= 0 && !(single_only && strchr(h, ',')))
        n = obj__ranges(h, (uint64_t)size, r);
    if (n == 0) {
        src->free(src);
        http_header(req, "Content-Range", arena_printf(req->arena, "bytes */%" PRId64, size));
        return req_fail(req, 416, "Requested Range Not Satisfiable");
    }
    /* ranges over nothing: the whole (empty) object, as swob does */
    if (n < 0 || size == 0)
        return obj__reply_body(req, 200, src, NULL, 0, size, ctype, name);
    if (n == 1)
        http_header(req, "Content-Range",
                    arena_printf(req->arena, "bytes %" PRIu64 "-%" PRIu64 "/%" PRId64,
                                 r[0].start, r[0].end - 1, size));
    return obj__reply_body(req, 206, src, r, n, size, ctype, name);
}

/* GET and HEAD of an object. A large object's manifest (SLO or DLO)
 * answers with the concatenation of its segments (large.c), unless
 * ?multipart-manifest=get asks for the manifest itself. */
int
obj__object_get(struct http_req *req)
{
    struct obj_access x;
    struct obj_row row;
    struct obj_lo lo = {0};
    const char *name, *v, *dlo = NULL;
    int fd = -1, rc = -ENOENT;
    uint64_t size = 0;
    if (obj__access(req, OBJ_READ, http_param(req, "container"), &x) < 0 ||
        !(name = object_name(req)))
        return -1;
    /* an overwrite may remove the file between the row and the open: the
     * row read again then names the new one */
    for (int tries = 0; tries < 3; tries++) {
        rc = obj_db_object_get(req->db, req->arena, x.c.id, name, &row);
        if (rc == 0 && obj__expired(&row))
            rc = -ENOENT;
        if (rc == -ENOENT && (v = http_header_in(req, "If-Match")) && etag_listed(v, "*"))
            return req_fail(req, 412, "Precondition Failed");
        if (rc)
            return obj__db_fail(req, rc);
        rc = obj_store_open_read(x.account, x.c.id, row.file, row.data, &fd, &size);
        if (rc != -ENOENT)
            break;
    }
    if (rc < 0)
        return req_fail(req, 500, "cannot open object file: %s", strerror(-rc));
    const char *mm = http_query(req, "multipart-manifest");
    bool manifest = mm && !strcmp(mm, "get");
    const char *ctype = arena_strdup(req->arena, row.content_type);
    enum obj_lo_kind kind = obj__lo_kind(req->arena, row.meta, &dlo, NULL, NULL);
    if (kind && !manifest) {
        if (obj__lo_open(req, &x, &row, kind, fd, &lo) < 0)
            return -1;
        fd = -1;
    }
    /* a large object's ETag is quoted, as Swift sends it */
    if (lo.src && lo.etag)
        http_header(req, "Etag", arena_printf(req->arena, "\"%s\"", lo.etag));
    else if (!(kind == OBJ_LO_SLO && manifest && (v = http_query(req, "format")) &&
               !strcmp(v, "raw")))
        http_header(req, "Etag", row.etag);
    http_header(req, "Last-Modified", obj__http_date(req, row.modified_us));
    http_header(req, "X-Timestamp", obj__ts(req, row.modified_us));
    http_header(req, "Accept-Ranges", "bytes");
    if (row.delete_at > 0)
        http_header(req, "X-Delete-At",
                    arena_printf(req->arena, "%010lld", (long long)row.delete_at));
    if (dlo)
        http_header(req, "X-Object-Manifest", dlo);
    if (kind == OBJ_LO_SLO)
        http_header(req, "X-Static-Large-Object", "True");
    if (lo.manifest_etag)
        http_header(req, "X-Manifest-Etag", lo.manifest_etag);
    obj__meta_out_filtered(req, "Object", row.meta, x.tempurl ? tempurl_hidden : NULL);
    struct obj_row cond = row;
    if (lo.src && lo.etag)
        cond.etag = lo.etag;
    int status = conditional(req, &cond);
    if (status) {
        if (fd >= 0)
            close(fd);
        if (lo.src)
            lo.src->free(lo.src);
        if (status == 412)
            return req_fail(req, 412, "Precondition Failed");
        return http_reply_raw(req, 304, ctype, NULL, 0);
    }
    if (x.tempurl)
        obj__tempurl_headers(req, &x, name);
    if (lo.src)
        return reply_ranges(req, lo.src, lo.size, ctype, lo.single_range, name);
    if (kind == OBJ_LO_SLO && manifest) {
        if ((v = http_query(req, "format")) && !strcmp(v, "raw"))
            return obj__slo_get_raw(req, fd, size, ctype);
        ctype = "application/json; charset=utf-8";
    }
    /* one range or the whole: straight from the file (sendfile) */
    struct obj_byterange r[OBJ_MAX_RANGES];
    const char *h = req->method == HTTP_GET ? http_header_in(req, "Range") : NULL;
    int n = h ? obj__ranges(h, size, r) : -1;
    if (n > 1 && size > 0)
        return reply_ranges(req, obj__file_src(fd), (int64_t)size, ctype, false, name);
    if (n == 0) {
        close(fd);
        http_header(req, "Content-Range", arena_printf(req->arena, "bytes */%" PRIu64, size));
        return req_fail(req, 416, "Requested Range Not Satisfiable");
    }
    if (n == 1 && size > 0) {
        http_header(req, "Content-Range",
                    arena_printf(req->arena, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                                 r[0].start, r[0].end - 1, size));
        return http_reply_file(req, 206, fd, r[0].start, r[0].end - r[0].start, ctype);
    }
    return http_reply_file(req, 200, fd, 0, size, ctype);
}

int
obj__object_delete(struct http_req *req)
{
    struct obj_access x;
    const char *name;
    if (http_query(req, "bulk-delete"))
        return obj__bulk_delete_body(req);
    const char *mm = http_query(req, "multipart-manifest");
    if (mm && !strcmp(mm, "delete")) {
        /* segments and manifest, each as the caller's own DELETE (slo.c) */
        memset(&x, 0, sizeof(x));
        x.account = http_param(req, "account");
        x.owner = obj__is_owner(req, x.account);
        if (!(name = object_name(req)) || !obj__db(req))
            return -1;
        if (strncmp(x.account, "AUTH_", 5))
            return obj__deny(req);
        x.c.name = http_param(req, "container");
        return obj__slo_delete(req, &x, name);
    }
    if (obj__access(req, OBJ_WRITE, http_param(req, "container"), &x) < 0 ||
        !(name = object_name(req)) || obj__object_remove(req, &x, name) < 0)
        return -1;
    return http_reply_empty(req, 204);
}

/* POST replaces all of the object's metadata, as Swift does (not a merge),
 * X-Delete-At included: a POST without it ends the expiry. A Content-Type
 * given with it replaces the stored one. */
int
obj__object_post(struct http_req *req)
{
    struct obj_access x;
    struct obj_row row;
    const char *name, *meta;
    int64_t delete_at;
    if (http_query(req, "bulk-delete"))
        return obj__bulk_delete_body(req);
    if (obj__access(req, OBJ_WRITE, http_param(req, "container"), &x) < 0 ||
        !(name = object_name(req)) || !(meta = obj__meta_in(req, "Object", false)) ||
        obj__delete_at_in(req, &delete_at) < 0 || live_row(req, &x, name, &row) < 0 ||
        !(meta = obj__lo_meta_in(req, meta, row.meta ? row.meta : "{}")))
        return -1;
    const char *ct = http_header_in(req, "Content-Type");
    int rc = obj_db_object_post(req->db, req->arena, x.c.id, name, meta, ct && *ct ? ct : NULL,
                                delete_at > 0 ? delete_at : 0);
    if (rc)
        return obj__db_fail(req, rc);
    return http_reply_raw(req, 202, "text/html; charset=UTF-8", NULL, 0);
}
