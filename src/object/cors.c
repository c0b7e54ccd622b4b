/* cors.c - Cross-Origin Resource Sharing as Swift's proxy does it: a
 * container opts in through its metadata (X-Container-Meta-Access-Control-
 * Allow-Origin, a space-separated list of origins or "*", -Max-Age and
 * -Expose-Headers); OPTIONS answers preflights for its container and
 * objects (200 with the Access-Control-Allow-* headers, 401 for an origin
 * or method it does not allow), and requests carrying Origin get
 * Access-Control-Allow-Origin and -Expose-Headers on their answer.
 *
 * Operator settings ([object] section): cors_allow_origin (comma list of
 * origins every container allows), cors_expose_headers (comma list added
 * to every exposure) and strict_cors_mode (default true: no CORS headers
 * at all for an origin that is not allowed), as Swift's proxy-server.conf. */
#include "object_int.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/util.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define ALLOW_INFO "HEAD, GET, OPTIONS"
/* allow_account_management is off: no account PUT or DELETE */
#define ALLOW_ACCOUNT "GET, HEAD, OPTIONS, POST"
#define ALLOW_ITEM "DELETE, GET, HEAD, OPTIONS, POST, PUT"

/* A container's CORS rules (from its metadata); NULL when unset. */
struct cors {
    const char *allow_origin, *max_age, *expose_headers;
};

bool
obj__strict_cors(void)
{
    return cfg_bool("object", "strict_cors_mode", true);
}

/* Reads the rules of the path's container into *c (all NULL when it
 * does not exist). -1 when the database is out of reach (nothing
 * recorded). */
static int
container_cors(struct http_req *req, struct cors *c)
{
    struct obj_container oc;
    struct db *db = req_db(req);
    memset(c, 0, sizeof(*c));
    if (!db)
        return -1;
    int rc = obj_db_container_get(db, req->arena, http_param(req, "account"),
                                  http_param(req, "container"), &oc);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return -1;
    static const char *const keys[3] = {"access-control-allow-origin",
                                        "access-control-max-age",
                                        "access-control-expose-headers"};
    const char *v[3], **out[3] = {&c->allow_origin, &c->max_age, &c->expose_headers};
    obj__meta_values(req->arena, oc.meta, keys, 3, v);
    for (int i = 0; i < 3; i++)
        *out[i] = v[i] && *v[i] ? v[i] : NULL;
    return 0;
}

/* true when the space (sep ' ') or comma (sep ',') separated list holds
 * origin or "*" */
static bool
list_has(const char *list, char sep, const char *origin)
{
    size_t ol = strlen(origin), n;
    for (const char *p = list, *t; (t = obj__list_next(&p, sep, &n));)
        if ((n == 1 && *t == '*') || (n == ol && n && !strncmp(t, origin, n)))
            return true;
    return false;
}

/* Swift's is_origin_allowed: the container's list or the operator's */
static bool
origin_allowed(const struct cors *c, const char *origin)
{
    return list_has(c->allow_origin, ' ', origin) ||
           list_has(cfg_get("object", "cors_allow_origin", ""), ',', origin);
}

/* "*" when the container allows any origin, else the request's own (and
 * the answer then varies on Origin) */
static const char *
allow_origin_value(const struct cors *c, const char *origin, bool *vary)
{
    const char *a = c->allow_origin;
    while (a && (*a == ' ' || *a == '\t'))
        a++;
    size_t n = a ? strlen(a) : 0;
    while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
        n--;
    *vary = !(n == 1 && *a == '*');
    return *vary ? origin : "*";
}

/* Adds v to the response's Vary header (creating it). */
static void
add_vary(struct http_req *req, const char *v)
{
    for (struct http_hdr *h = req->headers; h; h = h->next) {
        if (!strcasecmp(h->name, "Vary")) {
            h->value = arena_printf(req->arena, "%s, %s", h->value, v);
            return;
        }
    }
    http_header(req, "Vary", v);
}

/* Appends item (n bytes, lower-cased when lower) to the ", " list in b
 * unless it is there already. */
static void
list_add(struct buf *b, const char *item, size_t n, bool lower)
{
    char v[256];
    if (!n || n >= sizeof(v))
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = (char)(lower && item[i] >= 'A' && item[i] <= 'Z' ? item[i] + 32 : item[i]);
    for (size_t at = 0; at < b->len;) {
        size_t m = 0;
        while (at + m < b->len && b->data[at + m] != ',')
            m++;
        if (m == n && !memcmp(b->data + at, v, n))
            return;
        at += m + 2;    /* past ", " */
    }
    if (b->len)
        buf_append(b, ", ", 2);
    buf_append(b, v, n);
}

int
obj__options(struct http_req *req)
{
    const char *origin = http_header_in(req, "Origin");
    const char *container = http_param(req, "container");
    const char *allow = !http_param(req, "account") ? ALLOW_INFO
                        : !container                ? ALLOW_ACCOUNT
                                                    : ALLOW_ITEM;
    http_header(req, "Allow", allow);
    /* not a preflight, or one for /info or an account (Swift keeps CORS
     * to containers and objects) */
    if (!origin || !container)
        return http_reply_raw(req, 200, "text/html; charset=UTF-8", NULL, 0);
    struct cors c;
    if (container_cors(req, &c) < 0)
        return req_fail(req, 503, "The server is currently unavailable.");
    const char *method = http_header_in(req, "Access-Control-Request-Method");
    bool method_ok = false;
    size_t n;
    for (const char *p = ALLOW_ITEM, *t; method && (t = obj__list_next(&p, ',', &n));)
        method_ok |= strlen(method) == n && !strncmp(t, method, n);
    if (!origin_allowed(&c, origin) || !method_ok)
        return req_fail(req, 401, "This server could not verify that you are authorized.");

    bool vary;
    http_header(req, "Access-Control-Allow-Origin", allow_origin_value(&c, origin, &vary));
    if (vary)
        add_vary(req, "Origin");
    if (c.max_age)
        http_header(req, "Access-Control-Max-Age", c.max_age);
    http_header(req, "Access-Control-Allow-Methods", allow);
    /* every header asked for is allowed (the CORS spec leaves that open);
     * a comma list, trimmed, empties and repeats dropped */
    const char *rh = http_header_in(req, "Access-Control-Request-Headers");
    struct buf hb;
    buf_init(&hb, 8192);
    for (const char *p = rh, *t; (t = obj__list_next(&p, ',', &n));)
        list_add(&hb, t, n, false);
    if (hb.len && !hb.toobig) {
        http_header(req, "Access-Control-Allow-Headers",
                    arena_strndup(req->arena, hb.data, hb.len));
        add_vary(req, "Access-Control-Request-Headers");
    }
    buf_release(&hb);
    return http_reply_raw(req, 200, "text/html; charset=UTF-8", NULL, 0);
}

void
obj__cors_after(struct http_req *req)
{
    const char *origin = http_header_in(req, "Origin");
    if (!origin || req->method == HTTP_OPTIONS || !req->svc)
        return;
    if (!http_param(req, "account")) {
        /* /info answers every origin, exposing only the transaction id */
        if (req->subpath && !strcmp(req->subpath, "/info") && req->status == 200 &&
            !req->fail_status) {
            http_header(req, "Access-Control-Allow-Origin", origin);
            http_header(req, "Access-Control-Expose-Headers", "x-trans-id");
        }
        return;
    }
    if (!http_param(req, "container"))
        return;
    struct cors c;
    if (container_cors(req, &c) < 0)
        return;
    if (obj__strict_cors() && !origin_allowed(&c, origin))
        return;

    static const char *const simple[] = {
        "cache-control", "content-language", "content-type", "expires", "last-modified",
        "pragma", "etag", "x-timestamp", "x-trans-id", "x-openstack-request-id"};
    struct buf b;
    buf_init(&b, 16384);
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
        list_add(&b, simple[i], strlen(simple[i]), true);
    size_t n;
    const char *t, *cfg = cfg_get("object", "cors_expose_headers", "");
    for (const char *p = cfg; (t = obj__list_next(&p, ',', &n));)
        list_add(&b, t, n, true);
    /* the user metadata of the answer, in the order it was added */
    for (struct http_hdr *h = req->headers; h; h = h->next)
        if (!strncasecmp(h->name, "X-Container-Meta", 16) ||
            !strncasecmp(h->name, "X-Object-Meta", 13))
            list_add(&b, h->name, strlen(h->name), true);
    for (const char *p = c.expose_headers; (t = obj__list_next(&p, ' ', &n));)
        list_add(&b, t, n, true);
    if (!b.toobig && b.len)
        http_header(req, "Access-Control-Expose-Headers",
                    arena_strndup(req->arena, b.data, b.len));
    buf_release(&b);
    bool vary;
    http_header(req, "Access-Control-Allow-Origin", allow_origin_value(&c, origin, &vary));
    if (vary)
        add_vary(req, "Origin");
}
