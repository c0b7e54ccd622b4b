/* bulk.c - Swift's bulk middleware: bulk delete, and what bulk delete and
 * archive extraction (bulk_extract.c) share.
 *
 * A bulk request answers 200 once the body is in; how each item went is in
 * the body (Number Deleted / Number Files Created, Response Status,
 * Response Body, Errors), as text, JSON or XML after the Accept header.
 * Each item is done as the request Swift would make for it (an object or
 * container DELETE, an object PUT), with the caller's own rights: its
 * failure is that request's status, recorded against the item, never the
 * whole answer. Items run in a scope (obj__bulk_enter/leave) that gives
 * them a fresh arena and takes their sticky failure off the request, so a
 * request of 10000 items does not grow without bound. */
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DELETES 10000
#define MAX_FAILED_DELETES 1000
/* Swift's max_path_length: a container and an object name and slashes */
#define MAX_PATH_LEN (OBJ_MAX_OBJECT_NAME + OBJ_MAX_CONTAINER_NAME + 2)

/* ---- shared ---- */

const char *
obj__bulk_status(int status)
{
    static const struct { int st; const char *line; } tab[] = {
        {200, "200 OK"}, {201, "201 Created"}, {202, "202 Accepted"},
        {204, "204 No Content"}, {400, "400 Bad Request"}, {401, "401 Unauthorized"},
        {403, "403 Forbidden"}, {404, "404 Not Found"}, {405, "405 Method Not Allowed"},
        {406, "406 Not Acceptable"}, {409, "409 Conflict"}, {411, "411 Length Required"},
        {412, "412 Precondition Failed"}, {413, "413 Request Entity Too Large"},
        {415, "415 Unsupported Media Type"}, {422, "422 Unprocessable Entity"},
        {500, "500 Internal Error"}, {501, "501 Not Implemented"}, {502, "502 Bad Gateway"},
        {503, "503 Service Unavailable"}, {507, "507 Insufficient Storage"},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (tab[i].st == status)
            return tab[i].line;
    return status >= 500 ? "500 Internal Error" : "400 Bad Request";
}

const char *
obj__bulk_format(struct http_req *req)
{
    bool bad;
    const char *fmt = obj__accept_best(req, http_header_in(req, "Accept"), &bad);
    return bad ? NULL : fmt;
}

void
obj__bulk_fail(struct http_req *req, struct obj_bulk_report *rep, const char *name,
               const char *status)
{
    if (rep->nerr == rep->caperr) {
        int cap = rep->caperr ? rep->caperr * 2 : 16;
        struct obj_bulk_err *e = arena_alloc(req->arena, sizeof(*e) * (size_t)cap);
        if (rep->nerr)
            memcpy(e, rep->errs, sizeof(*e) * (size_t)rep->nerr);
        rep->errs = e;
        rep->caperr = cap;
    }
    rep->errs[rep->nerr].name = arena_strdup(req->arena, name);
    rep->errs[rep->nerr].status = status;
    rep->nerr++;
}

static void
xml_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (e)
            buf_append(b, e, strlen(e));
        else
            buf_append(b, s, 1);
    }
}

void
obj__bulk_reply(struct http_req *req, int status, const char *fmt,
                const struct obj_bulk_report *rep, const char *root)
{
    /* the entries of Swift's response dict, in its insertion order */
    struct { const char *key, *str; int64_t num; } d[4];
    int nd = 0;
    if (rep->status) {
        d[nd++] = (__typeof__(d[0])){"Response Status", rep->status, 0};
        d[nd++] = (__typeof__(d[0])){"Response Body", rep->body ? rep->body : "", 0};
    }
    for (int i = 0; i < 2; i++)
        if (rep->count_name[i])
            d[nd++] = (__typeof__(d[0])){rep->count_name[i], NULL, rep->count[i]};
    struct buf b;
    buf_init(&b, (size_t)64 << 20);
    if (fmt && !strcmp(fmt, "application/json")) {
        json_t *o = json_object(), *errs = json_array();
        for (int i = 0; i < nd; i++)
            json_object_set_new(o, d[i].key, d[i].str ? json_string(d[i].str)
                                                      : json_integer(d[i].num));
        for (int i = 0; i < rep->nerr; i++)
            json_array_append_new(errs, json_pack("[ss]", rep->errs[i].name,
                                                  rep->errs[i].status));
        json_object_set_new(o, "Errors", errs);
        /* json.dumps' separators: ", " and ": " */
        char *txt = json_dumps(o, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        buf_append(&b, txt ? txt : "{}", txt ? strlen(txt) : 2);
        free(txt);
        json_decref(o);
    } else {
        /* text and XML list the entries sorted by key */
        int order[4];
        for (int i = 0; i < nd; i++)
            order[i] = i;
        for (int i = 1; i < nd; i++)
            for (int j = i; j > 0 && strcmp(d[order[j]].key, d[order[j - 1]].key) < 0; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        bool xml = fmt && strstr(fmt, "/xml");
        if (xml) {
            const char *open = arena_printf(req->arena, "<%s>\n", root);
            buf_append(&b, open, strlen(open));
        }
        for (int i = 0; i < nd; i++) {
            const char *k = d[order[i]].key;
            const char *v = d[order[i]].str
                                ? d[order[i]].str
                                : arena_printf(req->arena, "%lld", (long long)d[order[i]].num);
            if (xml) {
                char *tag = arena_strdup(req->arena, k);
                for (char *p = tag; *p; p++)
                    *p = *p == ' ' ? '_' : (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
                const char *s = arena_printf(req->arena, "<%s>", tag);
                buf_append(&b, s, strlen(s));
                xml_escape(&b, v);
                s = arena_printf(req->arena, "</%s>\n", tag);
                buf_append(&b, s, strlen(s));
            } else {
                const char *s = arena_printf(req->arena, "%s: %s\n", k, v);
                buf_append(&b, s, strlen(s));
            }
        }
        buf_append(&b, xml ? "<errors>\n" : "Errors:\n", xml ? 9 : 8);
        for (int i = 0; i < rep->nerr; i++) {
            if (xml) {
                buf_append(&b, "<object><name>", 14);
                xml_escape(&b, rep->errs[i].name);
                buf_append(&b, "</name><status>", 15);
                xml_escape(&b, rep->errs[i].status);
                buf_append(&b, "</status></object>\n", 19);
            } else {
                const char *s = arena_printf(req->arena, "%s, %s\n", rep->errs[i].name,
                                             rep->errs[i].status);
                buf_append(&b, s, strlen(s));
            }
        }
        if (xml) {
            const char *close = arena_printf(req->arena, "</errors>\n</%s>\n", root);
            buf_append(&b, close, strlen(close));
        }
    }
    http_reply_raw(req, status, fmt ? fmt : "text/plain", b.data ? b.data : "", b.len);
    buf_release(&b);
}

void
obj__bulk_enter(struct http_req *req, struct obj_bulk_scope *s, struct arena *inner)
{
    s->outer = req->arena;
    s->headers = req->headers;
    s->owned = !inner;
    req->arena = inner ? inner : arena_new();
    if (!req->arena)
        abort();
}

int
obj__bulk_leave(struct http_req *req, struct obj_bulk_scope *s)
{
    int st = req->fail_status;
    req->fail_status = 0;
    req->fail_msg = NULL;
    req->fail_title = NULL;
    /* an item adds no header to the answer (and none may point into the
     * arena about to go) */
    req->headers = s->headers;
    if (s->owned)
        arena_free(req->arena);
    req->arena = s->outer;
    /* the pool's connection goes back between items: a long request must
     * not hold one, nor carry it from an event loop to a worker */
    db_put(req->db);
    req->db = NULL;
    return st;
}

/* ---- bulk delete ---- */

struct bdel {
    const char *fmt;            /* answer format, NULL: 406 */
    int early;                  /* a status that ends the request before any delete */
    const char *early_body;
    struct buf line;            /* the line being read */
    struct buf names;           /* the names read: NUL-ended, one after another */
    int count;                  /* lines read, empty ones included (as Swift counts) */
};

/* Python's str.strip() of the ASCII blanks */
static void
strip(const char **s, size_t *n)
{
    while (*n && strchr(" \t\r\n\v\f", (*s)[0]))
        (*s)++, (*n)--;
    while (*n && strchr(" \t\r\n\v\f", (*s)[*n - 1]))
        (*n)--;
}

/* One line of the body: its name is kept URL-decoded, as a record of a
 * flag byte ('0', or '1' when it decodes to a NUL, which no name may
 * hold) and the NUL-ended name. */
static void
bdel_line(struct http_req *req, struct bdel *d, const char *p, size_t n, bool last)
{
    strip(&p, &n);
    if (last && !n)
        return;     /* blank text after the last newline is no line */
    size_t flag = d->names.len;
    buf_append(&d->names, "0", 1);
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        char c = p[i];
        if (c == '%' && i + 2 < n && (hi = obj__hexval(p[i + 1])) >= 0 &&
            (lo = obj__hexval(p[i + 2])) >= 0) {
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (!c && !d->names.toobig)
            d->names.data[flag] = '1';
        buf_append(&d->names, c ? &c : "\x01", 1);
    }
    buf_append(&d->names, "", 1);
    if (++d->count > MAX_DELETES && !d->early) {
        d->early = 413;
        d->early_body = arena_printf(req->arena, "Maximum Bulk Deletes: %d per request",
                                     MAX_DELETES);
    }
}

static int
bdel_begin(struct http_req *req)
{
    struct bdel *d = arena_alloc(req->arena, sizeof(*d));
    const char *ct = http_header_in(req, "Content-Type");
    const char *te = http_header_in(req, "Transfer-Encoding");
    buf_init(&d->line, MAX_PATH_LEN * 2);
    /* every name fits: at most MAX_DELETES + 1 lines of that length */
    buf_init(&d->names, (size_t)(MAX_DELETES + 1) * (MAX_PATH_LEN * 2 + 2));
    req->stream_ctx = d;
    d->fmt = obj__bulk_format(req);
    if (!d->fmt)
        d->early = 406;
    else if (ct && *ct && strncmp(ct, "text/plain", 10))
        /* only newline-separated names are understood */
        d->early = 406;
    else if (!http_header_in(req, "Content-Length") && !(te && strcasestr(te, "chunked")))
        d->early = 411;
    return 0;
}

static int
bdel_data(struct http_req *req, const char *p, size_t n)
{
    struct bdel *d = req->stream_ctx;
    while (n && !d->early) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        if (buf_append(&d->line, p, k) < 0) {
            d->early = 400;
            d->early_body = "Invalid File Name";
            break;
        }
        if (nl) {
            bdel_line(req, d, d->line.data ? d->line.data : "", d->line.len, false);
            d->line.len = 0;
            k++;
        }
        p += k;
        n -= k;
    }
    return 0;
}

/* Deletes one object (container/object path) or container, as a DELETE
 * of the caller would. Returns that request's status (0: done). */
static int
delete_one(struct http_req *req, const char *path, bool object)
{
    struct obj_bulk_scope s;
    struct obj_access x;
    size_t cl = strcspn(path, "/");
    obj__bulk_enter(req, &s, NULL);
    const char *container = arena_strndup(req->arena, path, cl);
    if (object) {
        const char *name = path + cl + 1;
        if (obj__access(req, OBJ_WRITE, container, &x) == 0) {
            if (strlen(name) > OBJ_MAX_OBJECT_NAME)
                req_fail(req, 400, "Object name too long");
            else
                obj__object_remove(req, &x, name);
        }
    } else {
        const char *account = obj__account(req), *id = NULL;
        if (account && obj__db(req)) {
            int rc = obj_db_container_delete(req->db, req->arena, account, container, &id);
            if (rc)
                obj__db_fail(req, rc);
            else
                obj_store_remove_container(account, id);
        }
    }
    return obj__bulk_leave(req, &s);
}

/* Deletes every name (objects first, then containers, as Swift orders
 * them) into rep. */
static void
bdel_run(struct http_req *req, struct bdel *d, struct obj_bulk_report *rep)
{
    int bad_gateway = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t off = 0; off < d->names.len;) {
            bool has_nul = d->names.data[off] == '1';
            const char *name = d->names.data + off + 1;
            off += strlen(name) + 2;
            /* '/' inside the name once its outer slashes are off: an object */
            const char *s = name;
            size_t n = strlen(s);
            while (n && *s == '/')
                s++, n--;
            while (n && s[n - 1] == '/')
                n--;
            bool object = memchr(s, '/', n) != NULL;
            if (!*name || object != (pass == 0))
                continue;
            const char *path = name;
            while (*path == '/')
                path++;
            int st;
            if (has_nul || !obj__utf8_valid(path))
                st = 412;
            else
                st = delete_one(req, path, object);
            if (st == 0)
                rep->count[0]++;
            else if (st == 404)
                rep->count[1]++;
            else {
                bad_gateway |= st >= 500;
                obj__bulk_fail(req, rep, obj__quote(req->arena, name), obj__bulk_status(st));
            }
            if (rep->nerr >= MAX_FAILED_DELETES) {
                rep->status = obj__bulk_status(400);
                rep->body = "Max delete failures exceeded";
                return;
            }
        }
    }
    if (rep->nerr) {
        rep->status = obj__bulk_status(bad_gateway ? 502 : 400);
    } else if (!rep->count[0] && !rep->count[1]) {
        rep->status = obj__bulk_status(400);
        rep->body = "Invalid bulk delete.";
    }
}

static int
bdel_end(struct http_req *req, bool complete)
{
    struct bdel *d = req->stream_ctx;
    if (complete) {
        struct obj_bulk_report rep = {.status = obj__bulk_status(200), .body = "",
                                      .count_name = {"Number Deleted", "Number Not Found"}};
        if (!d->early && d->line.len)
            bdel_line(req, d, d->line.data, d->line.len, true);
        if (d->early) {
            rep.status = obj__bulk_status(d->early);
            rep.body = d->early_body ? d->early_body : "";
        } else {
            bdel_run(req, d, &rep);
        }
        obj__bulk_reply(req, 200, d->fmt, &rep, "delete");
    }
    buf_release(&d->line);
    buf_release(&d->names);
    return 0;
}

const struct http_stream_ops obj__bulk_delete = {bdel_begin, bdel_data, bdel_end};

int
obj__bulk_delete_body(struct http_req *req)
{
    if (bdel_begin(req) < 0)
        return -1;
    bdel_data(req, req->body, req->body_len);
    return bdel_end(req, true);
}
