/* formpost.c - Swift's FormPost: a browser uploads files straight into a
 * container with an HTML form (POST multipart/form-data to
 * /v1/<account>/<container>[/<prefix>]), without a token. The form's
 * fields redirect, max_file_size, max_file_count and expires are signed
 * with a temp URL key of the account or container (HMAC-SHA1/256/512 of
 * "<path>\n<redirect>\n<max_file_size>\n<max_file_count>\n<expires>", hex
 * or "<digest>:<base64>"); x_delete_at / x_delete_after and content-type
 * apply to the files that follow them. Each file part becomes the object
 * <prefix><filename>.
 *
 * The body is parsed as it streams in (nothing is buffered beyond one
 * window of it): a file part goes into an object store writer like an
 * object PUT, and only a part that ended with its boundary is kept. Its
 * commit (fsync, rename, listing row) happens on a worker once the body
 * is in, in file order, like Swift's one PUT after another; a form with
 * more than FP_PENDING_MAX files commits each batch as it fills, on the
 * event loop (the fsyncs then stall that loop briefly; forms that large
 * are rare). Answers and messages are Swift's (see respond()).
 *
 * A POST whose body is not a form is the ordinary metadata POST: its
 * handler runs once the (ignored) body is in. */
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FP_WINDOW 65536         /* body bytes scanned for a boundary at once */
#define FP_HDR_MAX 16384        /* headers of one part */
#define FP_VALUE_MAX 4096       /* Swift's MAX_VALUE_LENGTH: longer values are cut */
#define FP_BOUNDARY_MAX 256
#define FP_PENDING_MAX 8        /* finished files waiting for their commit */

/* the form fields FormPost reads; others are read and dropped */
enum { A_REDIRECT, A_MAX_FILE_SIZE, A_MAX_FILE_COUNT, A_EXPIRES, A_SIGNATURE, A_X_DELETE_AT,
       A_X_DELETE_AFTER, A_CONTENT_TYPE, A_N };
static const char *const attr_names[A_N] = {
    "redirect", "max_file_size", "max_file_count", "expires", "signature", "x_delete_at",
    "x_delete_after", "content-type"};

enum fp_state { FP_PREAMBLE, FP_PART, FP_AFTER_DELIM, FP_DONE };

/* How the form ended, which decides the answer (respond()). */
enum fp_outcome {
    FP_NONE,        /* no file: 400 "no files to process" */
    FP_CREATED,     /* the last file was stored: 201 */
    FP_MESSAGE,     /* Swift's status + message (max file count): 400 */
    FP_SUBSTATUS,   /* a file's PUT failed: its status, no message */
    FP_INVALID,     /* a bad form (FormInvalid, EOFError, MimeInvalid): 400 */
    FP_UNAUTH,      /* bad signature or expired: 401 */
};

enum fp_kind { P_SKIP, P_ATTR, P_FILE };

/* A file whose part is complete, waiting for its commit. */
struct fp_file {
    struct obj_writer *w;
    char *name, *ctype;         /* malloc'd */
    int64_t delete_at;
    char etag[33];
    int64_t size;
};

struct fp {
    int (*plain)(struct http_req *req);     /* not a form: this handler */
    const char *account;
    const char *prefix;                     /* object name prefix from the path */
    const char *keys[4];
    int nkeys;
    struct obj_container c;
    bool have_c;
    char delim[FP_BOUNDARY_MAX + 8];        /* "\r\n--<boundary>" */
    size_t dlen;

    enum fp_state st;
    char *win;                              /* unparsed body bytes [woff, wlen) */
    size_t woff, wlen;
    /* the current part */
    bool in_headers;
    char *hbuf;
    size_t hlen, hscan;
    enum fp_kind kind;
    int attr;                               /* P_ATTR: A_* or -1 */
    char *aval;
    size_t alen;
    struct fp_file cur;                     /* P_FILE */
    int64_t max_size;
    /* the fields so far, NUL-terminated */
    char *attrs[A_N];
    int file_count;
    struct fp_file pending[FP_PENDING_MAX];
    int npending;

    enum fp_outcome out;
    int status;
    const char *message;
};

/* ---- outcome ---- */

/* Ends the form with an outcome: the rest of the body is read and
 * dropped, and a file being written is dropped. */
static void
stop(struct fp *f, enum fp_outcome out, int status, const char *message)
{
    f->out = out;
    f->status = status;
    f->message = message;
    f->st = FP_DONE;
    if (f->kind == P_FILE) {
        obj_store_abort(f->cur.w);
        free(f->cur.name);
        free(f->cur.ctype);
        memset(&f->cur, 0, sizeof(f->cur));
        f->kind = P_SKIP;
    }
}

/* Drops the finished files from pending[from] on. */
static void
drop_pending(struct fp *f, int from)
{
    for (int i = from; i < f->npending; i++) {
        obj_store_abort(f->pending[i].w);
        free(f->pending[i].name);
        free(f->pending[i].ctype);
    }
    f->npending = 0;
}

/* Commits the finished files in order, each as the PUT Swift's formpost
 * makes of it: quotas, then bytes durable, then the listing row through
 * obj__object_commit (versioned writes included), the replaced version's
 * file last. Each runs in an item scope (bulk.c) so its failure becomes
 * the form's status instead of the request's. The first failure ends the
 * form (Swift stops at a failed PUT) and drops the files after it. */
static void
flush(struct http_req *req, struct fp *f)
{
    /* the signature made with the account's or container's key stands for
     * the account (Swift's formpost overrides authorisation for its PUTs),
     * so the version archive of a versioned container is writable too */
    struct obj_access x = {.account = f->account, .c = f->c, .owner = true};
    int i = 0;
    for (; i < f->npending; i++) {
        struct fp_file *p = &f->pending[i];
        char file[80];
        struct obj_row row = {
            .name = p->name, .file = file, .etag = p->etag, .content_type = p->ctype,
            .meta = "{}", .size = p->size, .modified_us = now_us(), .delete_at = p->delete_at,
        };
        struct obj_bulk_scope scope;
        obj__bulk_enter(req, &scope, NULL);
        int st = 0, rc = obj__quota_check(req, &x, p->size) < 0 ? -1 : 0;
        if (rc == 0 && (rc = obj_store_commit(p->w, p->name, file, req->arena, &row.data)) < 0)
            req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot store object: %s", strerror(-rc));
        else if (rc == 0)
            obj__object_commit(req, &x, &row, false);
        else
            obj_store_abort(p->w);
        p->w = NULL;
        st = obj__bulk_leave(req, &scope);
        if (st) {
            stop(f, FP_SUBSTATUS, st, "");
            break;
        }
        free(p->name);
        free(p->ctype);
        p->name = p->ctype = NULL;
    }
    /* what is left after a failure is not kept */
    drop_pending(f, i);
}

/* ---- fields ---- */

/* A field's value, or def when it is absent or empty (Swift's
 * "attributes.get(x) or def") */
static const char *
field(const struct fp *f, int a, const char *def)
{
    return f->attrs[a] && *f->attrs[a] ? f->attrs[a] : def;
}

/* The filename as UTF-8: Swift reads part headers as UTF-8, or as Latin-1
 * when they are not. malloc'd. */
static char *
filename_utf8(const char *s)
{
    if (obj__utf8_valid(s))
        return xstrdup(s);
    char *out = xmalloc(strlen(s) * 2 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            *o++ = (char)*p;
        } else {
            *o++ = (char)(0xC0 | *p >> 6);
            *o++ = (char)(0x80 | (*p & 0x3F));
        }
    }
    *o = '\0';
    return out;
}

/* A file part begins, with its filename and Content-Type (NULL when it
 * has none): Swift's checks in its order, then a writer. */
static void
file_start(struct http_req *req, struct fp *f, const char *filename, const char *part_ctype)
{
    int64_t max_count, max_size, at = 0, after = 0, expires;
    bool have_at = f->attrs[A_X_DELETE_AT] != NULL;
    bool have_after = f->attrs[A_X_DELETE_AFTER] != NULL;
    f->file_count++;
    if (!obj__py_int(field(f, A_MAX_FILE_COUNT, "0"), &max_count)) {
        stop(f, FP_INVALID, 400, "max_file_count not an integer");
        return;
    }
    if (f->file_count > max_count) {
        stop(f, FP_MESSAGE, 400, "max file count exceeded");
        return;
    }
    if (!f->nkeys) {
        stop(f, FP_UNAUTH, 401, "invalid signature");
        return;
    }
    if (!obj__py_int(field(f, A_MAX_FILE_SIZE, "0"), &max_size)) {
        stop(f, FP_INVALID, 400, "max_file_size not an integer");
        return;
    }
    if (have_at && !obj__py_int(f->attrs[A_X_DELETE_AT], &at)) {
        stop(f, FP_INVALID, 400, "x_delete_at not an integer: Unix timestamp required.");
        return;
    }
    if (have_after && !obj__py_int(f->attrs[A_X_DELETE_AFTER], &after)) {
        stop(f, FP_INVALID, 400, "x_delete_after not an integer: Number of seconds required.");
        return;
    }
    if (!obj__py_int(field(f, A_EXPIRES, "0"), &expires)) {
        stop(f, FP_INVALID, 400, "expired not an integer");
        return;
    }
    if ((double)expires < (double)now_us() / 1e6) {
        stop(f, FP_UNAUTH, 401, "form expired");
        return;
    }
    /* the path as a client behind our /object-store prefix signs it, and
     * as Swift itself (PATH_INFO from /v1) does */
    struct arena *a = arena_new();
    if (!a) {
        stop(f, FP_SUBSTATUS, 500, "");
        return;
    }
    const char *tail = arena_printf(a, "\n%s\n%s\n%s\n%s", field(f, A_REDIRECT, ""),
                                    field(f, A_MAX_FILE_SIZE, "0"),
                                    field(f, A_MAX_FILE_COUNT, "0"), field(f, A_EXPIRES, "0"));
    const char *bodies[2] = {
        arena_printf(a, "%s%s", req->path, tail),
        arena_printf(a, "%s%s", req->path + strlen(req->svc->prefix), tail),
    };
    bool ok = obj__sig_ok(field(f, A_SIGNATURE, ""), f->keys, f->nkeys, bodies, 2, NULL);
    arena_free(a);
    if (!ok) {
        stop(f, FP_UNAUTH, 401, "invalid signature");
        return;
    }

    /* from here on Swift runs a PUT: its failures are its status */
    char *fn = filename_utf8(filename);
    char *name = xmalloc(strlen(f->prefix) + strlen(fn) + 1);
    strcpy(name, f->prefix);
    strcat(name, fn);
    free(fn);
    const char *ct = f->attrs[A_CONTENT_TYPE] ? f->attrs[A_CONTENT_TYPE] : part_ctype;
    /* x_delete_after wins, as in Swift's PUT; -1: in the past (400) */
    int64_t da = obj__delete_at_value(have_after, after, have_at, at);
    int rc = 0;
    if (!obj__utf8_valid(name))
        rc = 412;   /* Swift's proxy: "Invalid UTF8 or contains NULL" */
    else if (strlen(name) > OBJ_MAX_OBJECT_NAME || da < 0)
        rc = 400;
    else if (!f->have_c)
        rc = 404;
    else if ((rc = obj_store_open(f->account, f->c.id, true, &f->cur.w)) < 0) {
        log_warn(req->request_id, "formpost: cannot create object file: %s", strerror(-rc));
        rc = 500;
    }
    if (rc) {
        free(name);
        stop(f, FP_SUBSTATUS, rc, "");
        return;
    }
    f->cur.name = name;
    f->cur.ctype = xstrdup(ct && *ct ? ct : "application/octet-stream");
    f->cur.delete_at = da;
    f->max_size = max_size;
    f->kind = P_FILE;
}

/* ---- part headers ---- */

/* Swift's parse_content_disposition: "form-data; name=\"x\"; filename=y"
 * into the value and up to the attributes it matches with its regex
 * (\w+)=(".*?"|[^";]+)(; ?|$), quotes stripped. The strings are written
 * into buf (the header's copy). */
static const char *
disposition(char *buf, const char **name, const char **filename, const char **boundary)
{
    *name = *filename = NULL;
    if (boundary)
        *boundary = NULL;
    char *semi = strchr(buf, ';');
    char *attrs = semi ? semi + 1 : buf + strlen(buf);
    if (semi)
        *semi = '\0';
    /* the value, stripped */
    char *v = buf;
    while (isspace((unsigned char)*v))
        v++;
    size_t vl = strlen(v);
    while (vl && isspace((unsigned char)v[vl - 1]))
        v[--vl] = '\0';
    while (isspace((unsigned char)*attrs))
        attrs++;
    for (char *p = attrs; *p;) {
        char *k = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        if (p == k || *p != '=')
            break;
        *p++ = '\0';
        char *val = p, *end;
        if (*p == '"' && (end = strchr(p + 1, '"'))) {
            p = end + 1;
        } else {
            p += strcspn(p, "\";");
            if (p == val)
                break;
        }
        /* the separator must follow: "; ", ";" or the end */
        char sep = *p;
        if (sep && sep != ';')
            break;
        *p = '\0';
        if (sep)
            p += 1 + (p[1] == ' ');
        size_t n = strlen(val);
        while (n && val[n - 1] == '"')
            val[--n] = '\0';
        while (*val == '"')
            val++;
        if (!strcmp(k, "name"))
            *name = val;
        else if (!strcmp(k, "filename"))
            *filename = val;
        else if (boundary && !strcmp(k, "boundary"))
            *boundary = val;
    }
    return v;
}

/* The headers of the current part are in hbuf[0, end): decide what it is.
 * They are parsed in place (a part may be one of millions). */
static void
part_start(struct http_req *req, struct fp *f, size_t end)
{
    char *disp = NULL, *ctype = NULL;
    char *h = f->hbuf;
    /* RFC 822 folding, which Python's parser undoes: a line starting with
     * a blank continues the previous one */
    for (size_t i = 0; i + 1 < end; i++) {
        if (h[i] == '\n' && (h[i + 1] == ' ' || h[i + 1] == '\t')) {
            h[i] = ' ';
            if (i && h[i - 1] == '\r')
                h[i - 1] = ' ';
        }
    }
    for (size_t i = 0; i < end;) {
        char *line = h + i;
        char *nl = memchr(line, '\n', end - i);
        size_t n = nl ? (size_t)(nl - line) : end - i;
        i += n + 1;
        line[n] = '\0';      /* the '\n', or the blank line's first byte */
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && isspace((unsigned char)v[vl - 1]))
            v[--vl] = '\0';
        if (!strcasecmp(line, "Content-Disposition") && !disp)
            disp = v;
        else if (!strcasecmp(line, "Content-Type") && !ctype)
            ctype = v;
    }
    const char *name = NULL, *filename = NULL;
    const char *dv = disp ? disposition(disp, &name, &filename, NULL) : "";
    if (!strcmp(dv, "form-data") && filename && *filename) {
        file_start(req, f, filename, ctype);
        return;
    }
    f->kind = P_SKIP;
    if (!name)
        return;
    f->attr = -1;
    for (int a = 0; a < A_N; a++)
        if (!strcasecmp(name, attr_names[a]))
            f->attr = a;
    if (f->attr >= 0) {
        f->kind = P_ATTR;
        f->alen = 0;
        if (!f->aval)
            f->aval = arena_alloc(req->arena, FP_VALUE_MAX + 1);
    }
}

/* ---- part bodies ---- */

static void
body_feed(struct http_req *req, struct fp *f, const char *p, size_t n)
{
    (void)req;
    if (f->kind == P_ATTR) {
        size_t k = n < FP_VALUE_MAX - f->alen ? n : FP_VALUE_MAX - f->alen;
        memcpy(f->aval + f->alen, p, k);
        f->alen += k;
    } else if (f->kind == P_FILE && n) {
        uint64_t size = obj_store_size(f->cur.w) + n;
        if (f->max_size < 0 || size > (uint64_t)f->max_size) {
            stop(f, FP_INVALID, 400, "max_file_size exceeded");
            return;
        }
        if (size > (uint64_t)OBJ_MAX_FILE_SIZE) {
            stop(f, FP_SUBSTATUS, 413, "");
            return;
        }
        int rc = obj_store_write(f->cur.w, p, n);
        if (rc < 0) {
            log_warn(req->request_id, "formpost: cannot write object: %s", strerror(-rc));
            stop(f, FP_SUBSTATUS, rc == -ENOSPC ? 507 : 500, "");
        }
    }
}

/* Content of the current part: headers up to the first empty line, then
 * the body. */
static void
part_feed(struct http_req *req, struct fp *f, const char *p, size_t n)
{
    while (n && f->in_headers && f->st != FP_DONE) {
        size_t room = FP_HDR_MAX - f->hlen;
        if (!room) {
            stop(f, FP_INVALID, 400, "part headers too long");
            return;
        }
        size_t k = n < room ? n : room;
        memcpy(f->hbuf + f->hlen, p, k);
        f->hlen += k;
        p += k;
        n -= k;
        for (;;) {
            char *nl = memchr(f->hbuf + f->hscan, '\n', f->hlen - f->hscan);
            if (!nl)
                break;
            size_t ll = (size_t)(nl - (f->hbuf + f->hscan)) + 1;
            bool blank = ll == 1 || (ll == 2 && f->hbuf[f->hscan] == '\r');
            size_t body = f->hscan + ll;
            if (!blank) {
                f->hscan = body;
                continue;
            }
            f->in_headers = false;
            part_start(req, f, f->hscan);
            if (f->st != FP_DONE && body < f->hlen)
                body_feed(req, f, f->hbuf + body, f->hlen - body);
            break;
        }
    }
    if (n && !f->in_headers && f->st != FP_DONE)
        body_feed(req, f, p, n);
}

static void
part_begin(struct fp *f)
{
    f->in_headers = true;
    f->hlen = f->hscan = 0;
    f->kind = P_SKIP;
}

/* The current part ended: at its boundary, or (eof) at the end of the
 * body without one. */
static void
part_end(struct http_req *req, struct fp *f, bool eof)
{
    if (f->in_headers) {
        /* no empty line: all of it was headers, the body is empty */
        f->in_headers = false;
        part_start(req, f, f->hlen);
        if (f->st == FP_DONE)
            return;
    }
    if (f->kind == P_ATTR) {
        /* Swift's value.rstrip('\r\n--'): any trailing CR, LF or '-' */
        while (f->alen && strchr("\r\n-", f->aval[f->alen - 1]))
            f->alen--;
        f->aval[f->alen] = '\0';
        if (!f->attrs[f->attr])
            f->attrs[f->attr] = arena_alloc(req->arena, FP_VALUE_MAX + 1);
        memcpy(f->attrs[f->attr], f->aval, f->alen + 1);
    } else if (f->kind == P_FILE) {
        /* a file cut off by the end of the body is not a file we keep */
        if (eof) {
            stop(f, FP_INVALID, 400, "unexpected end of form");
            return;
        }
        if (f->max_size < 0 || obj_store_size(f->cur.w) > (uint64_t)f->max_size) {
            stop(f, FP_INVALID, 400, "max_file_size exceeded");
            return;
        }
        obj_store_digest(f->cur.w, f->cur.etag);
        f->cur.size = (int64_t)obj_store_size(f->cur.w);
        f->pending[f->npending++] = f->cur;
        memset(&f->cur, 0, sizeof(f->cur));
        f->out = FP_CREATED;
        f->status = 201;
        f->message = "";
        /* (each file's scope in flush() gives its connection back) */
        if (f->npending == FP_PENDING_MAX)
            flush(req, f);
    }
    f->kind = P_SKIP;
}

/* ---- the multipart stream ---- */

/* Parses what the window holds. eof: the body is over. */
static void
parse(struct http_req *req, struct fp *f, bool eof)
{
    for (;;) {
        char *w = f->win + f->woff;
        size_t n = f->wlen - f->woff;
        if (f->st == FP_DONE) {
            f->woff = f->wlen;
            return;
        }
        if (f->st == FP_PREAMBLE) {
            /* Swift's readline(len("--" boundary) + 2), empty lines
             * ("\r\n") skipped, then the line stripped must be the
             * boundary */
            size_t blen = f->dlen;
            char *nl = memchr(w, '\n', n < blen ? n : blen);
            size_t ll = nl ? (size_t)(nl - w) + 1 : n >= blen ? blen : 0;
            if (!ll) {
                if (!eof)
                    return;
                ll = n;
            }
            f->woff += ll;
            if (ll == 2 && w[0] == '\r' && w[1] == '\n')
                continue;
            size_t s = 0, e = ll;
            while (s < e && isspace((unsigned char)w[s]))
                s++;
            while (e > s && isspace((unsigned char)w[e - 1]))
                e--;
            if (e - s != f->dlen - 2 || memcmp(w + s, f->delim + 2, e - s)) {
                stop(f, FP_INVALID, 400, "invalid starting boundary");
                continue;
            }
            f->st = FP_PART;
            part_begin(f);
            continue;
        }
        if (f->st == FP_AFTER_DELIM) {
            if (n < 2 && !eof)
                return;
            if (n >= 2 && w[0] == '-' && w[1] == '-') {
                f->st = FP_DONE;
                continue;
            }
            if (n < 2) {
                /* the body ended right after a boundary */
                f->st = FP_DONE;
                continue;
            }
            f->woff += 2;
            f->st = FP_PART;
            part_begin(f);
            continue;
        }
        /* FP_PART */
        char *d = memmem(w, n, f->delim, f->dlen);
        if (d) {
            part_feed(req, f, w, (size_t)(d - w));
            if (f->st == FP_DONE)
                continue;
            part_end(req, f, false);
            if (f->st == FP_DONE)
                continue;
            f->woff += (size_t)(d - w) + f->dlen;
            f->st = FP_AFTER_DELIM;
            continue;
        }
        /* all but what may be the start of a boundary is part content */
        size_t keep = eof ? 0 : n < f->dlen - 1 ? n : f->dlen - 1;
        part_feed(req, f, w, n - keep);
        f->woff += n - keep;
        if (eof && f->st == FP_PART)
            part_end(req, f, true);
        return;
    }
}

/* ---- stream ops ---- */

/* Reads Content-Type: multipart/form-data with a boundary makes it a
 * form (Swift's test, exact type, boundary attribute present). */
static const char *
form_boundary(struct http_req *req)
{
    const char *ct = http_header_in(req, "Content-Type");
    if (!ct || strncmp(ct + strspn(ct, " \t"), "multipart/form-data", 19))
        return NULL;
    const char *name, *filename, *boundary;
    char *copy = arena_strdup(req->arena, ct);
    const char *v = disposition(copy, &name, &filename, &boundary);
    return !strcmp(v, "multipart/form-data") ? boundary : NULL;
}

static int
post_begin(struct http_req *req, int (*plain)(struct http_req *))
{
    struct fp *f = arena_alloc(req->arena, sizeof(*f));
    req->stream_ctx = f;
    const char *boundary = form_boundary(req);
    if (!boundary) {
        f->plain = plain;
        return obj__path_ok(req) ? 0 : -1;
    }
    if (strlen(boundary) > FP_BOUNDARY_MAX)
        return obj__fail_text(req, 400, "FormPost: invalid starting boundary");
    f->dlen = (size_t)snprintf(f->delim, sizeof(f->delim), "\r\n--%s", boundary);
    f->account = http_param(req, "account");
    const char *container = http_param(req, "container");
    /* keys only for a path that names a container (Swift's _get_keys) */
    if (container && obj__tempurl_keys(req, f->account, container, f->keys,
                                       (bool[4]){0}, &f->nkeys, &f->c, &f->have_c) < 0)
        return -1;
    /* Swift appends the filename to the path, after a '/' when the path
     * is only /v1/<account>/<container>: the object prefix is what
     * follows the container */
    const char *obj = http_param(req, "object");
    f->prefix = obj ? obj : "";
    /* the upload may take minutes: the pool's connection goes back now */
    db_put(req->db);
    req->db = NULL;
    f->win = arena_alloc(req->arena, FP_WINDOW + f->dlen + 8);
    f->hbuf = arena_alloc(req->arena, FP_HDR_MAX);
    f->st = FP_PREAMBLE;
    return 0;
}

static int
post_data(struct http_req *req, const char *p, size_t n)
{
    struct fp *f = req->stream_ctx;
    if (f->plain)
        return 0;   /* Swift ignores the body of a metadata POST */
    size_t cap = FP_WINDOW + f->dlen;
    while (n && f->st != FP_DONE) {
        /* move the unparsed tail (shorter than a boundary) to the front */
        if (f->woff) {
            memmove(f->win, f->win + f->woff, f->wlen - f->woff);
            f->wlen -= f->woff;
            f->woff = 0;
        }
        size_t k = cap - f->wlen < n ? cap - f->wlen : n;
        memcpy(f->win + f->wlen, p, k);
        f->wlen += k;
        p += k;
        n -= k;
        parse(req, f, false);
    }
    return 0;
}

/* Python's str.title() of an ASCII message */
static const char *
title(struct arena *a, const char *s)
{
    char *t = arena_strdup(a, s);
    bool prev = false;
    for (char *p = t; *p; p++) {
        bool cased = isalpha((unsigned char)*p);
        if (cased)
            *p = (char)(prev ? tolower((unsigned char)*p) : toupper((unsigned char)*p));
        prev = cased;
    }
    return t;
}

static const char *
status_line(struct arena *a, int status)
{
    const char *t = status == 201 ? "Created" : status == 400 ? "Bad Request"
                  : status == 401 ? "Unauthorized" : status == 404 ? "Not Found"
                  : status == 412 ? "Precondition Failed"
                  : status == 413 ? "Request Entity Too Large"
                  : status == 503 ? "Service Unavailable"
                  : status == 507 ? "Insufficient Storage" : "Internal Server Error";
    return arena_printf(a, "%d %s", status, t);
}

/* Swift's answers: a failed form is a 400 "FormPost: <why>" (or 401 for
 * the signature); otherwise the last file's status, as text, or as a 303
 * to the form's redirect with status= and message= added. */
static int
respond(struct http_req *req, struct fp *f)
{
    struct arena *a = req->arena;
    if (f->out == FP_NONE) {
        f->out = FP_MESSAGE;
        f->status = 400;
        f->message = "no files to process";
    }
    if (f->out == FP_INVALID) {
        const char *b = arena_printf(a, "FormPost: %s", f->message);
        return http_reply_raw(req, 400, "text/plain", b, strlen(b));
    }
    if (f->out == FP_UNAUTH) {
        const char *b = arena_printf(a, "FormPost: %s", title(a, f->message));
        http_header(req, "Www-Authenticate",
                    arena_printf(a, "Swift realm=\"%s\"", obj__quote(a, f->account)));
        return http_reply_raw(req, 401, "text/html; charset=UTF-8", b, strlen(b));
    }
    const char *redirect = field(f, A_REDIRECT, NULL);
    if (!redirect) {
        const char *b = status_line(a, f->status);
        if (*f->message)
            b = arena_printf(a, "%s\r\nFormPost: %s", b, title(a, f->message));
        return http_reply_raw(req, f->status, "text/plain", b, strlen(b));
    }
    const char *loc = arena_printf(a, "%s%cstatus=%d&message=%s", redirect,
                                   strchr(redirect, '?') ? '&' : '?', f->status,
                                   obj__quote(a, f->message));
    const char *b = arena_printf(a, "<html><body><p><a href=\"%s\">Click to continue...</a>"
                                    "</p></body></html>", loc);
    http_header(req, "Location", loc);
    return http_reply_raw(req, 303, "text/html; charset=UTF-8", b, strlen(b));
}

/* Runs on a worker (ROUTE_SLOW) when the body is in, or anywhere when it
 * never will be. */
static int
post_end(struct http_req *req, bool complete)
{
    struct fp *f = req->stream_ctx;
    if (!complete) {
        if (f && !f->plain) {
            stop(f, FP_INVALID, 400, "");
            drop_pending(f, 0);
        }
        return 0;
    }
    if (f->plain)
        return f->plain(req);
    parse(req, f, true);
    f->st = FP_DONE;
    flush(req, f);
    return respond(req, f);
}

static int
begin_account(struct http_req *req)
{
    return post_begin(req, obj__account_post);
}

static int
begin_container(struct http_req *req)
{
    return post_begin(req, obj__container_post);
}

static int
begin_object(struct http_req *req)
{
    return post_begin(req, obj__object_post);
}

const struct http_stream_ops obj__post_account = {begin_account, post_data, post_end};
const struct http_stream_ops obj__post_container = {begin_container, post_data, post_end};
const struct http_stream_ops obj__post_object = {begin_object, post_data, post_end};
