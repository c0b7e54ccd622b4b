/* listing.c - account and container listings as Swift 2.30 serves them:
 * the query (prefix, delimiter of any length, path, marker, end_marker,
 * reverse, limit), content negotiation (format= or Accept, as Swift's
 * listing_formats middleware does it) and the three renderings: plain
 * text, JSON (Python's json.dumps form: ", " and ": " separators, non-ASCII
 * as \uXXXX) and XML (ElementTree's exact serialisation). The SQL is in
 * obj_db.c; this file walks pages of it. */
#include "object_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A listing is at most OBJ_LISTING_LIMIT entries of names of at most
 * 1024 bytes, escaped at most 6x in JSON: this bounds the rendered body. */
#define LIST_BODY_MAX ((size_t)128 << 20)

/* ---- query ---- */

bool
obj__utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int n;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += n + 1;
    }
    return true;
}

/* The query parameter name, checked as Swift's get_param does: -1 with
 * 400 '"name" parameter not valid UTF-8' when it is not UTF-8. */
static int
param(struct http_req *req, const char *name, const char **out)
{
    *out = http_query(req, name);
    if (*out && !obj__utf8_valid(*out))
        return obj__fail_text(req, 400, arena_printf(req->arena,
                                                     "\"%s\" parameter not valid UTF-8", name));
    return 0;
}

/* One media range of an Accept header, as swob's Accept parses it. */
struct media {
    char type[64], sub[64];
    double q;
    int order;
};

/* RFC 2616 token characters (swob's token regex) */
static bool
tok_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* Parses one comma-separated element ("text/html;q=0.5") of Accept into
 * m. false when swob would call the header invalid. */
static bool
parse_media(const char *s, size_t n, struct media *m)
{
    size_t i = 0, k;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    for (k = i; k < n && tok_char((unsigned char)s[k]); k++)
        ;
    if (k == i || k - i >= sizeof(m->type) || k >= n || s[k] != '/')
        return false;
    memcpy(m->type, s + i, k - i);
    m->type[k - i] = '\0';
    i = k + 1;
    for (k = i; k < n && tok_char((unsigned char)s[k]); k++)
        ;
    if (k == i || k - i >= sizeof(m->sub))
        return false;
    memcpy(m->sub, s + i, k - i);
    m->sub[k - i] = '\0';
    i = k;
    m->q = 1.0;
    bool seen_q = false;
    /* parameters: ; name = value, value a token or a quoted string */
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n)
            return true;
        if (s[i] != ';')
            return false;
        i++;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t ns = i;
        while (i < n && tok_char((unsigned char)s[i]))
            i++;
        size_t ne = i;
        if (ne == ns)
            return false;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n || s[i] != '=')
            return false;
        i++;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t vs = i;
        if (i < n && s[i] == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\' && i + 1 < n)
                    i++;
            if (i == n)
                return false;
            i++;
            /* swob splits "name=value" on '=': one inside quotes breaks it */
            if (memchr(s + vs, '=', i - vs))
                return false;
        } else {
            while (i < n && tok_char((unsigned char)s[i]))
                i++;
            if (i == vs)
                return false;
        }
        if (ne - ns == 1 && s[ns] == 'q') {
            char num[32];
            size_t vl = i - vs;
            if (seen_q || vl >= sizeof(num))
                return false;
            memcpy(num, s + vs, vl);
            num[vl] = '\0';
            char *end;
            m->q = strtod(num, &end);
            if (end == num || *end)
                return false;
            seen_q = true;
        }
    }
}

static bool
media_matches(const struct media *m, const char *option)
{
    const char *slash = strchr(option, '/');
    size_t tl = (size_t)(slash - option);
    bool t = !strcmp(m->type, "*") || (strlen(m->type) == tl && !strncmp(m->type, option, tl));
    bool s = !strcmp(m->sub, "*") || !strcmp(m->sub, slash + 1);
    return t && s;
}

static int
media_cmp(const void *a, const void *b)
{
    const struct media *x = a, *y = b;
    bool gx = !strcmp(x->type, "*") || !strcmp(x->sub, "*");
    bool gy = !strcmp(y->type, "*") || !strcmp(y->sub, "*");
    /* higher quality first, then exact types before globs, then the
     * header's own order (Python's sort is stable) */
    if (x->q != y->q)
        return x->q > y->q ? -1 : 1;
    if (gx != gy)
        return gx ? 1 : -1;
    return x->order - y->order;
}

const char *
obj__accept_best(struct http_req *req, const char *accept, bool *bad)
{
    static const char *const options[] = {"text/plain", "application/json",
                                          "application/xml", "text/xml"};
    *bad = false;
    if (!accept || !*accept)
        return options[0];
    size_t cap = 1;
    for (const char *p = accept; *p; p++)
        cap += *p == ',';
    if (cap > 64) {
        *bad = true;
        return NULL;
    }
    struct media *m = arena_alloc(req->arena, cap * sizeof(*m));
    int n = 0;
    for (const char *p = accept;;) {
        size_t len = strcspn(p, ",");
        if (!parse_media(p, len, &m[n])) {
            *bad = true;
            return NULL;
        }
        m[n].order = n;
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    qsort(m, (size_t)n, sizeof(*m), media_cmp);
    for (int i = 0; i < n; i++)
        for (size_t o = 0; o < sizeof(options) / sizeof(options[0]); o++)
            if (media_matches(&m[i], options[o]))
                return options[o];
    return NULL;
}

/* The response type of a listing: format= wins over Accept (as Swift's
 * listing_formats). */
int
obj__list_type(struct http_req *req, struct obj_list_q *q)
{
    const char *fmt, *accept;
    bool bad;
    memset(q, 0, sizeof(*q));
    if (param(req, "format", &fmt) < 0)
        return -1;
    q->vary = !fmt;
    if (fmt && *fmt) {
        accept = !strcasecmp(fmt, "json") ? "application/json"
                 : !strcasecmp(fmt, "xml") ? "application/xml" : "text/plain";
    } else {
        accept = http_header_in(req, "Accept");
    }
    q->ctype = obj__accept_best(req, accept, &bad);
    if (bad)
        return obj__fail_text(req, 400, "Invalid Accept header");
    if (!q->ctype)
        return req_fail(req, 406, "Not Acceptable");
    q->fmt = !strcmp(q->ctype, "application/json") ? OBJ_LIST_JSON
             : !strcmp(q->ctype, "text/plain")     ? OBJ_LIST_PLAIN
                                                   : OBJ_LIST_XML;
    return 0;
}

/* Swift's constrain_req_limit: only a string of digits counts; more than
 * the listing limit is 412. */
static int
limit_param(struct http_req *req, struct obj_list_q *q)
{
    const char *v;
    if (param(req, "limit", &v) < 0)
        return -1;
    q->limit = OBJ_LISTING_LIMIT;
    if (!v || !*v || strspn(v, "0123456789") != strlen(v))
        return 0;
    if (strlen(v) > 9 || atol(v) > OBJ_LISTING_LIMIT)
        return obj__fail_text(req, 412, arena_printf(req->arena, "Maximum limit is %d",
                                                     OBJ_LISTING_LIMIT));
    q->limit = atoi(v);
    return 0;
}

int
obj__list_params(struct http_req *req, bool container, struct obj_list_q *q)
{
    const char *rev;
    /* checked in the order Swift's proxy and servers read them, so a
     * request with several bad values gets Swift's message */
    if (container) {
        if (limit_param(req, q) < 0 || param(req, "marker", &q->marker) < 0 ||
            param(req, "end_marker", &q->end_marker) < 0 ||
            param(req, "prefix", &q->prefix) < 0 ||
            param(req, "delimiter", &q->delimiter) < 0 || param(req, "path", &q->path) < 0 ||
            param(req, "reverse", &rev) < 0)
            return -1;
    } else {
        if (param(req, "prefix", &q->prefix) < 0 || param(req, "delimiter", &q->delimiter) < 0 ||
            param(req, "reverse", &rev) < 0 || limit_param(req, q) < 0 ||
            param(req, "marker", &q->marker) < 0 || param(req, "end_marker", &q->end_marker) < 0)
            return -1;
    }
    if (q->marker && !*q->marker)
        q->marker = NULL;
    if (q->end_marker && !*q->end_marker)
        q->end_marker = NULL;
    if (q->delimiter && !*q->delimiter)
        q->delimiter = NULL;
    if (q->prefix && !*q->prefix)
        q->prefix = NULL;
    if (q->path) {
        /* objects directly under the path: prefix "path/" and delimiter
         * "/", names deeper down left out (not rolled up) */
        size_t n = strlen(q->path);
        while (n && q->path[n - 1] == '/')
            n--;
        q->prefix = n ? arena_printf(req->arena, "%.*s/", (int)n, q->path) : NULL;
        q->path = q->prefix ? q->prefix : "";
        q->delimiter = "/";
    }
    q->reverse = rev && (!strcasecmp(rev, "true") || !strcasecmp(rev, "on") ||
                         !strcasecmp(rev, "yes") || !strcmp(rev, "1") ||
                         !strcasecmp(rev, "t") || !strcasecmp(rev, "y"));
    return 0;
}

/* ---- rendering ---- */

/* Appends s as a JSON string the way Python's json.dumps (ensure_ascii)
 * writes it. Bytes that are not UTF-8 (names never have them) come out as
 * \u00XX. */
static void
json_str(struct buf *b, const char *s)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    buf_append(b, "\"", 1);
    while (*p) {
        /* a run of printable ASCII needing no escape goes in at once: a
         * listing is mostly that, and appending it byte by byte was the
         * largest cost of a 10,000-object listing */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            buf_append(b, run, (size_t)(p - run));
        if (!*p)
            break;
        unsigned cp = *p;
        int n = 0;
        if (cp >= 0xC2 && cp <= 0xDF)
            n = 1, cp &= 0x1F;
        else if (cp >= 0xE0 && cp <= 0xEF)
            n = 2, cp &= 0x0F;
        else if (cp >= 0xF0 && cp <= 0xF4)
            n = 3, cp &= 0x07;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                n = 0, cp = *p;
                break;
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        p += n + 1;
        char e[16];
        if (cp == '"' || cp == '\\') {
            e[0] = '\\', e[1] = (char)cp;
            buf_append(b, e, 2);
        } else if (cp >= 0x20 && cp < 0x7f) {
            e[0] = (char)cp;
            buf_append(b, e, 1);
        } else if (cp == '\n' || cp == '\r' || cp == '\t' || cp == '\b' || cp == '\f') {
            e[0] = '\\';
            e[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : cp == '\t' ? 't' : cp == '\b' ? 'b' : 'f';
            buf_append(b, e, 2);
        } else {
            unsigned units[2] = {cp, 0};
            int nu = 1;
            if (cp >= 0x10000) {
                units[0] = 0xD800 + ((cp - 0x10000) >> 10);
                units[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
                nu = 2;
            }
            for (int i = 0; i < nu; i++) {
                char u[6] = {'\\', 'u', hx[units[i] >> 12 & 15], hx[units[i] >> 8 & 15],
                             hx[units[i] >> 4 & 15], hx[units[i] & 15]};
                buf_append(b, u, 6);
            }
        }
    }
    buf_append(b, "\"", 1);
}

/* Appends s escaped for XML as ElementTree does: text escapes & < >;
 * attributes also " and the whitespace controls. */
static void
xml_esc(struct buf *b, const char *s, bool attr)
{
    for (; *s; s++) {
        size_t plain = strcspn(s, attr ? "&<>\"\n\r\t" : "&<>");
        if (plain) {
            buf_append(b, s, plain);
            s += plain;
            if (!*s)
                break;
        }
        const char *e = NULL;
        switch (*s) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = attr ? "&quot;" : NULL; break;
        case '\n': e = attr ? "&#10;" : NULL; break;
        case '\r': e = attr ? "&#13;" : NULL; break;
        case '\t': e = attr ? "&#09;" : NULL; break;
        }
        if (e)
            buf_append(b, e, strlen(e));
        else
            buf_append(b, s, 1);
    }
}

static void
put(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

/* One XML element <tag>text</tag> */
static void
xml_field(struct buf *b, const char *tag, const char *text)
{
    buf_append(b, "<", 1);
    put(b, tag);
    buf_append(b, ">", 1);
    xml_esc(b, text, false);
    buf_append(b, "</", 2);
    put(b, tag);
    buf_append(b, ">", 1);
}

/* The listing being rendered, in one of the three forms. */
struct render {
    struct http_req *req;
    const struct obj_list_q *q;
    bool containers;
    struct buf b;
    int count;
};

static void
render_open(struct render *r, const char *name)
{
    switch (r->q->fmt) {
    case OBJ_LIST_JSON:
        buf_append(&r->b, "[", 1);
        break;
    case OBJ_LIST_XML:
        put(&r->b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        put(&r->b, r->containers ? "<account name=\"" : "<container name=\"");
        xml_esc(&r->b, name, true);
        buf_append(&r->b, "\"", 1);
        /* the account element's text and each child's tail are "\n" */
        if (r->containers)
            buf_append(&r->b, ">\n", 2);
        break;
    case OBJ_LIST_PLAIN:
        break;
    }
}

static void
render_close(struct render *r)
{
    switch (r->q->fmt) {
    case OBJ_LIST_JSON:
        buf_append(&r->b, "]", 1);
        break;
    case OBJ_LIST_XML:
        if (r->containers)
            put(&r->b, "</account>");
        else
            put(&r->b, r->count ? "</container>" : " />");
        break;
    case OBJ_LIST_PLAIN:
        break;
    }
}

/* Starts entry number r->count: separators, and the container element's
 * open tag once it has a child. */
static void
render_sep(struct render *r)
{
    if (r->q->fmt == OBJ_LIST_JSON && r->count)
        buf_append(&r->b, ", ", 2);
    if (r->q->fmt == OBJ_LIST_XML && !r->containers && !r->count)
        buf_append(&r->b, ">", 1);
}

static void
render_subdir(struct render *r, const char *sub)
{
    render_sep(r);
    switch (r->q->fmt) {
    case OBJ_LIST_JSON:
        put(&r->b, "{\"subdir\": ");
        json_str(&r->b, sub);
        buf_append(&r->b, "}", 1);
        break;
    case OBJ_LIST_XML:
        put(&r->b, "<subdir name=\"");
        xml_esc(&r->b, sub, true);
        if (r->containers) {
            put(&r->b, "\" />\n");
        } else {
            put(&r->b, "\">");
            xml_field(&r->b, "name", sub);
            put(&r->b, "</subdir>");
        }
        break;
    case OBJ_LIST_PLAIN:
        put(&r->b, sub);
        buf_append(&r->b, "\n", 1);
        break;
    }
    r->count++;
}

static void
render_item(struct render *r, const struct obj_list_item *it)
{
    struct arena *a = r->req->arena;
    const char *when = obj__iso(r->req, it->when_us);
    const char *bytes = arena_printf(a, "%" PRId64, it->bytes);
    render_sep(r);
    switch (r->q->fmt) {
    case OBJ_LIST_JSON:
        put(&r->b, "{\"name\": ");
        json_str(&r->b, it->name);
        if (r->containers) {
            put(&r->b, arena_printf(a, ", \"count\": %" PRId64 ", \"bytes\": %s", it->count,
                                    bytes));
        } else {
            put(&r->b, ", \"hash\": ");
            json_str(&r->b, it->etag);
            put(&r->b, ", \"bytes\": ");
            put(&r->b, bytes);
            put(&r->b, ", \"content_type\": ");
            json_str(&r->b, it->content_type);
        }
        put(&r->b, ", \"last_modified\": ");
        json_str(&r->b, when);
        buf_append(&r->b, "}", 1);
        break;
    case OBJ_LIST_XML:
        if (r->containers) {
            put(&r->b, "<container>");
            xml_field(&r->b, "name", it->name);
            xml_field(&r->b, "count", arena_printf(a, "%" PRId64, it->count));
            xml_field(&r->b, "bytes", bytes);
            xml_field(&r->b, "last_modified", when);
            put(&r->b, "</container>\n");
        } else {
            put(&r->b, "<object>");
            xml_field(&r->b, "name", it->name);
            xml_field(&r->b, "hash", it->etag);
            xml_field(&r->b, "bytes", bytes);
            xml_field(&r->b, "content_type", it->content_type);
            xml_field(&r->b, "last_modified", when);
            put(&r->b, "</object>");
        }
        break;
    case OBJ_LIST_PLAIN:
        put(&r->b, it->name);
        buf_append(&r->b, "\n", 1);
        break;
    }
    r->count++;
}

/* ---- the walk ---- */

/* s with its last code point raised by one, in the arena: the smallest
 * string above every name that starts with s (UTF-8 stays valid, which
 * PostgreSQL insists on for a bound parameter). */
static const char *
next_after(struct arena *a, const char *s, size_t n)
{
    size_t start = n;
    while (start > 0 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start > 0)
        start--;
    const unsigned char *p = (const unsigned char *)s + start;
    unsigned cp;
    size_t cl = n - start;
    if (cl == 1)
        cp = p[0];
    else if (cl == 2)
        cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
    else if (cl == 3)
        cp = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    else
        cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 |
             (p[3] & 0x3Fu);
    cp++;
    if (cp == 0xD800)
        cp = 0xE000;
    char enc[4];
    size_t el;
    if (cp < 0x80)
        enc[0] = (char)cp, el = 1;
    else if (cp < 0x800)
        enc[0] = (char)(0xC0 | cp >> 6), enc[1] = (char)(0x80 | (cp & 0x3F)), el = 2;
    else if (cp < 0x10000)
        enc[0] = (char)(0xE0 | cp >> 12), enc[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        enc[2] = (char)(0x80 | (cp & 0x3F)), el = 3;
    else
        enc[0] = (char)(0xF0 | cp >> 18), enc[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        enc[2] = (char)(0x80 | (cp >> 6 & 0x3F)), enc[3] = (char)(0x80 | (cp & 0x3F)), el = 4;
    char *out = arena_alloc(a, start + el + 1);
    memcpy(out, s, start);
    memcpy(out + start, enc, el);
    return out;
}

/* Walks the listing page by page into r. Swift's delimiter walk: a name
 * with the delimiter after the prefix rolls up into one "subdir" entry
 * (left out when it equals the marker the listing started from), and the
 * next page starts past every name under it. In path mode names under a
 * deeper "directory" are skipped instead, and the path itself too. */
static int
walk(struct render *r, const char *owner)
{
    const struct obj_list_q *q = r->q;
    struct http_req *req = r->req;
    struct obj_range rg = {.prefix = q->prefix, .reverse = q->reverse};
    size_t plen = q->prefix ? strlen(q->prefix) : 0;
    size_t dlen = q->delimiter ? strlen(q->delimiter) : 0;
    const char *orig_marker = q->reverse ? q->end_marker : q->marker;
    if (q->reverse) {
        rg.lt = q->marker;
        rg.gt = q->end_marker;
    } else {
        rg.gt = q->marker;
        rg.lt = q->end_marker;
    }
    while (r->count < q->limit) {
        struct obj_list_item *it;
        int n, rc;
        rg.limit = q->limit - r->count;
        if ((rc = obj_db_list(req->db, req->arena, r->containers, owner, &rg, &it, &n)) != 0)
            return rc;
        if (n == 0)
            break;
        bool jumped = false;
        for (int i = 0; i < n && r->count < q->limit; i++) {
            const char *name = it[i].name;
            const char *d = dlen ? strstr(name + plen, q->delimiter) : NULL;
            if (q->path && !strcmp(name, q->path))
                d = NULL, name = NULL;
            else if (q->path && d && !d[dlen])
                d = NULL;   /* "dir/sub/" itself is an object under the path */
            if (d) {
                size_t sl = (size_t)(d - name) + dlen;
                const char *sub = arena_strndup(req->arena, name, sl);
                if (!q->path && !(orig_marker && !strcmp(orig_marker, sub)))
                    render_subdir(r, sub);
                /* on past everything under sub: forward from the code
                 * point after the delimiter's last, backward below sub */
                if (q->reverse) {
                    rg.lt = sub;
                } else {
                    rg.ge = next_after(req->arena, sub, sl);
                    rg.gt = NULL;
                }
                jumped = true;
                break;
            }
            if (name)
                render_item(r, &it[i]);
            if (q->reverse)
                rg.lt = it[i].name;
            else
                rg.gt = it[i].name, rg.ge = NULL;
        }
        if (!jumped && n < rg.limit)
            break;
    }
    return 0;
}

int
obj__list_reply(struct http_req *req, bool containers, const char *owner, const char *name,
                const struct obj_list_q *q)
{
    struct render r = {.req = req, .q = q, .containers = containers};
    if (!obj__db(req))
        return -1;
    buf_init(&r.b, LIST_BODY_MAX);
    render_open(&r, name);
    int rc = walk(&r, owner);
    render_close(&r);
    if (rc != 0) {
        buf_release(&r.b);
        return obj__db_fail(req, rc);
    }
    if (r.b.toobig) {
        buf_release(&r.b);
        return req_fail(req, 500, "listing too large");
    }
    if (q->vary)
        http_header(req, "Vary", "Accept");
    const char *ctype = arena_printf(req->arena, "%s; charset=utf-8", q->ctype);
    if (r.b.len == 0)
        http_reply_raw(req, 204, ctype, NULL, 0);
    else
        http_reply_raw(req, 200, ctype, r.b.data, r.b.len);
    buf_release(&r.b);
    return 0;
}
