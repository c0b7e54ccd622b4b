/* api.c - the Placement API at /placement: routes, Placement's error body,
 * microversions, the version document, policy defaults and the helpers the
 * other API files share. Providers are in api_rp.c, inventories and usages
 * in api_inv.c, classes and traits in api_classes.c, allocations and
 * candidates in api_alloc.c, SQL in pl_db.c. */
#include "placement.h"
#include "pl_int.h"
#include "core/auth.h"
#include "core/microversion.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/jv.h"
#include "core/policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A failure's Placement error code travels in front of its message,
 * separated by this byte, from plc__fail() to render_fault(). */
#define CODE_SEP '\x1f'

int
plc__fail(struct http_req *req, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return req_fail(req, status, "%s%c%s", code ? code : "placement.undefined_code", CODE_SEP,
                    msg);
}

int
plc__schema(struct http_req *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return plc__fail(req, 400, NULL, "JSON does not validate: %s", msg);
}

/* The placement entry of an OpenStack-API-Version header (which may name
 * several services): the minor, 0 when placement is not named, -2 for a
 * malformed value, -3 for a version outside 1.0-1.PLC_MAX_MINOR. */
static int
parse_mv(const char *h)
{
    static const struct mv_service mv = {"placement", NULL, MV(1, 0), MV(1, PLC_MAX_MINOR)};
    int v, rc = mv_pick(&mv, h, NULL, &v, NULL, NULL);
    return rc == MV_BAD ? -2 : rc == MV_RANGE ? -3 : MV_MINOR(v);
}

int
plc__mv(struct http_req *req)
{
    int mv = parse_mv(http_header_in(req, "OpenStack-API-Version"));
    if (mv == -2)
        return plc__fail(req, 400, NULL, "invalid version string: %s",
                         http_header_in(req, "OpenStack-API-Version"));
    if (mv == -3)
        return plc__fail(req, 406, NULL, "Unacceptable version header: %s",
                         http_header_in(req, "OpenStack-API-Version"));
    return mv;
}

int
plc__start(struct http_req *req, const char *action)
{
    return plc__start_at(req, action, 0);
}

int
plc__start_at(struct http_req *req, const char *action, int since)
{
    int mv = plc__mv(req);
    if (mv < 0)
        return -1;
    /* a route newer than the version asked for does not exist for it
     * (Placement's version_handler answers 404 before the handler runs) */
    if (mv < since)
        return plc__fail(req, 404, NULL, "The resource could not be found.");
    if (!policy_check(req, action, NULL))
        return plc__fail(req, 403, NULL, "Policy does not allow %s to be performed.", action);
    if (!plc__db(req))
        return -1;
    return mv;
}

json_t *
plc__body(struct http_req *req)
{
    json_error_t e;
    json_t *b = req->body_len ? json_loadb(req->body, req->body_len, 0, &e) : NULL;
    if (!b)
        plc__fail(req, 400, NULL, "Malformed JSON: %s",
                  req->body_len ? e.text : "Expecting value: line 1 column 1 (char 0)");
    else
        arena_on_release(req->arena, (void (*)(void *))json_decref, b);
    return b;
}

struct db *
plc__db(struct http_req *req)
{
    struct db *db = req_db(req);
    if (!db)
        plc__fail(req, 503, NULL, "The server is currently unavailable.");
    return db;
}

int
plc__dbfail(struct http_req *req)
{
    return plc__fail(req, 500, NULL, "database error: %s", req->db ? db_errmsg(req->db) : "");
}

bool
plc__is_uuid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 32)
        return strspn(s, "0123456789abcdefABCDEF") == 32;
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

void
plc__location(struct http_req *req, const char *path)
{
    const char *host = http_header_in(req, "Host");
    const char *proto = http_header_in(req, "X-Forwarded-Proto");
    http_header(req, "Location", arena_printf(req->arena, "%s://%s" PLC_PREFIX "%s",
                                              proto ? proto : "http",
                                              host ? host : "localhost", path));
}

int
plc__rp(struct http_req *req, struct plc_rp *rp)
{
    const char *u = http_param(req, "uuid");
    int rc = plc_db_rp_get(req->db, req->arena, u, rp);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No resource provider with uuid %s found", u);
    return rc ? plc__dbfail(req) : 0;
}

int
plc__int(struct http_req *req, json_t *o, const char *key, int64_t min, int64_t max,
         bool required, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? plc__schema(req, "'%s' is a required property", key) : 0;
    if (!json_is_integer(v))
        return plc__schema(req, "%s is not of type 'integer'", jv_repr(req, v));
    int64_t x = json_integer_value(v);
    if (x < min)
        return plc__schema(req, "%lld is less than the minimum of %lld", (long long)x,
                           (long long)min);
    if (x > max)
        return plc__schema(req, "%lld is greater than the maximum of %lld", (long long)x,
                           (long long)max);
    *out = x;
    return 0;
}

int
plc__query_only(struct http_req *req, const char *const *allowed)
{
    const char *qs = http_query_string(req);
    /* "?a=1&b=2": check each key */
    for (const char *p = *qs == '?' ? qs + 1 : qs; *p;) {
        size_t n = strcspn(p, "&"), k = strcspn(p, "=&");
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strlen(*a) == k && !strncmp(*a, p, k);
        if (!ok)
            return plc__fail(req, 400, NULL, "Invalid query string parameters: "
                             "Additional properties are not allowed ('%.*s' was unexpected)",
                             (int)k, p);
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

json_t *
plc__rp_view(struct http_req *req, const struct plc_rp *rp, int mv)
{
    const char *self = arena_printf(req->arena, PLC_PREFIX "/resource_providers/%s", rp->uuid);
    json_t *links = json_array();
    json_array_append_new(links, json_pack("{s:s,s:s}", "rel", "self", "href", self));
    static const struct {
        const char *rel;
        int mv;
    } sub[] = {{"inventories", 0}, {"usages", 0}, {"aggregates", 1}, {"traits", 6},
               {"allocations", 11}};
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
        if (mv >= sub[i].mv)
            json_array_append_new(
                links, json_pack("{s:s,s:s}", "rel", sub[i].rel, "href",
                                 arena_printf(req->arena, "%s/%s", self, sub[i].rel)));
    json_t *o = json_pack("{s:s,s:s,s:I,s:o}", "uuid", rp->uuid, "name", rp->name,
                          "generation", (json_int_t)rp->generation, "links", links);
    if (mv >= 14) {
        json_object_set_new(o, "parent_provider_uuid",
                            rp->parent ? json_string(rp->parent) : json_null());
        json_object_set_new(o, "root_provider_uuid", json_string(rp->root));
    }
    return o;
}

json_t *
plc__inv_view(const struct plc_inv *i)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:f}", "total", (json_int_t)i->total, "reserved",
                     (json_int_t)i->reserved, "min_unit", (json_int_t)i->min_unit, "max_unit",
                     (json_int_t)i->max_unit, "step_size", (json_int_t)i->step_size,
                     "allocation_ratio", i->allocation_ratio);
}

/* ---- faults and headers ---- */

/* webob's explanation of each status, which Placement's detail starts
 * with. */
static const char *
explanation(int st)
{
    switch (st) {
    case 400: return "The server could not comply with the request since it is either "
                     "malformed or otherwise incorrect.";
    case 401: return "This server could not verify that you are authorized to access the "
                     "document you requested.";
    case 403: return "Access was denied to this resource.";
    case 404: return "The resource could not be found.";
    case 405: return "The method specified is not allowed for this resource.";
    case 406: return "The resource could not be generated that was acceptable to your "
                     "request.";
    case 409: return "There was a conflict when trying to complete your request.";
    default: return "The server has either erred or is incapable of performing the requested "
                    "operation.";
    }
}

/* Placement's error body: {"errors": [{"status", "title", "detail",
 * "code" (from 1.23), "request_id"}]}; the detail is webob's explanation,
 * a blank line and the message. */
static void
render_fault(struct http_req *req)
{
    int st = req->fail_status;
    const char *msg = req->fail_msg ? req->fail_msg : "";
    const char *code = "placement.undefined_code";
    const char *sep = strchr(msg, CODE_SEP);
    if (sep) {
        code = arena_strndup(req->arena, msg, (size_t)(sep - msg));
        msg = sep + 1;
    }
    if (st >= 500)
        log_warn(req->request_id, "placement: %s", msg);
    if (st == 401) {
        /* a missing or bad token is refused by keystonemiddleware before
         * Placement sees the request, in Keystone's format */
        auth_reply_401(req, msg);
        return;
    }
    const char *title = st == 406 ? "Not Acceptable" : http_status_title(st);
    json_t *e = json_pack("{s:i,s:s,s:s}", "status", st, "title", title,
                          "detail", arena_printf(req->arena, "%s\n\n %s  ", explanation(st),
                                                 msg));
    int mv = parse_mv(http_header_in(req, "OpenStack-API-Version"));
    if (mv >= 23)
        json_object_set_new(e, "code", json_string(code));
    json_object_set_new(e, "request_id", json_string(req->request_id));
    http_reply_json(req, st, json_pack("{s:[o]}", "errors", e));
}

/* Every answer says which microversion served it (the minimum when the
 * client asked for none), as Placement's microversion middleware does. */
static void
after(struct http_req *req)
{
    int mv = parse_mv(http_header_in(req, "OpenStack-API-Version"));
    if (mv < 0)
        return;
    http_header(req, "OpenStack-API-Version", arena_printf(req->arena, "placement 1.%d", mv));
    http_header(req, "Vary", "openstack-api-version");
    /* 1.15: a successful GET below the root says it is not to be cached;
     * its Last-Modified is the time of the answer, which is what
     * Placement gives for everything not stamped with a change time */
    if (mv >= 15 && req->method == HTTP_GET && !req->fail_status && req->status == 200 &&
        strcmp(req->subpath, "/")) {
        char date[64];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        http_header(req, "Cache-Control", "no-cache");
        http_header(req, "Last-Modified", date);
    }
}

/* GET /placement: the version document, no token needed */
static int
api_root(struct http_req *req)
{
    if (plc__mv(req) < 0)
        return -1;
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s}]}", "id", "v1.0", "max_version",
                          arena_printf(req->arena, "1.%d", PLC_MAX_MINOR), "min_version",
                          "1.0", "status", "CURRENT", "links", "rel", "self", "href", "");
    return http_reply_json(req, 200, json_pack("{s:[o]}", "versions", v));
}

/* ---- routes and policy ---- */

#define A ROUTE_AUTH
#define RP "/resource_providers/{uuid}"

static const struct http_route routes[] = {
    {HTTP_GET, "/", api_root, 0, NULL},
    {HTTP_GET, "/resource_providers", plc__rp_list, A, NULL},
    {HTTP_POST, "/resource_providers", plc__rp_create, A, NULL},
    {HTTP_GET, RP, plc__rp_show, A, NULL},
    {HTTP_PUT, RP, plc__rp_update, A, NULL},
    {HTTP_DELETE, RP, plc__rp_delete, A, NULL},
    {HTTP_GET, RP "/inventories", plc__inv_list, A, NULL},
    {HTTP_PUT, RP "/inventories", plc__inv_put_all, A, NULL},
    {HTTP_POST, RP "/inventories", plc__inv_create, A, NULL},
    {HTTP_DELETE, RP "/inventories", plc__inv_delete_all, A, NULL},
    {HTTP_GET, RP "/inventories/{rc}", plc__inv_get, A, NULL},
    {HTTP_PUT, RP "/inventories/{rc}", plc__inv_put, A, NULL},
    {HTTP_DELETE, RP "/inventories/{rc}", plc__inv_delete, A, NULL},
    {HTTP_GET, RP "/usages", plc__usages_rp, A, NULL},
    {HTTP_GET, RP "/allocations", plc__rp_allocs, A, NULL},
    {HTTP_GET, RP "/traits", plc__rp_traits_get, A, NULL},
    {HTTP_PUT, RP "/traits", plc__rp_traits_put, A, NULL},
    {HTTP_DELETE, RP "/traits", plc__rp_traits_delete, A, NULL},
    {HTTP_GET, RP "/aggregates", plc__rp_aggs_get, A, NULL},
    {HTTP_PUT, RP "/aggregates", plc__rp_aggs_put, A, NULL},
    {HTTP_GET, "/usages", plc__usages, A, NULL},
    {HTTP_GET, "/resource_classes", plc__rc_list, A, NULL},
    {HTTP_POST, "/resource_classes", plc__rc_create, A, NULL},
    {HTTP_GET, "/resource_classes/{name}", plc__rc_show, A, NULL},
    {HTTP_PUT, "/resource_classes/{name}", plc__rc_put, A, NULL},
    {HTTP_DELETE, "/resource_classes/{name}", plc__rc_delete, A, NULL},
    {HTTP_GET, "/traits", plc__trait_list, A, NULL},
    {HTTP_GET, "/traits/{name}", plc__trait_show, A, NULL},
    {HTTP_PUT, "/traits/{name}", plc__trait_put, A, NULL},
    {HTTP_DELETE, "/traits/{name}", plc__trait_delete, A, NULL},
    {HTTP_GET, "/allocations/{consumer}", plc__alloc_get, A, NULL},
    {HTTP_PUT, "/allocations/{consumer}", plc__alloc_put, A, NULL},
    {HTTP_DELETE, "/allocations/{consumer}", plc__alloc_delete, A, NULL},
    {HTTP_POST, "/allocations", plc__alloc_post, A, NULL},
    {HTTP_GET, "/allocation_candidates", plc__candidates, A, NULL},
};

static const struct http_service service = {
    .prefix = "/placement",
    .name = "placement",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .render_fault = render_fault,
    .after = after,
};

/* Placement's Zed defaults: every rule is admin (system admin, or the
 * deprecated role:admin OR'ed in with enforce_scope off). */
#define ADM (P_ADMIN | P_SYS_ADMIN)
static const struct policy_rule rules[] = {
    {"placement:resource_providers:list", ADM},
    {"placement:resource_providers:create", ADM},
    {"placement:resource_providers:show", ADM},
    {"placement:resource_providers:update", ADM},
    {"placement:resource_providers:delete", ADM},
    {"placement:resource_providers:inventories:list", ADM},
    {"placement:resource_providers:inventories:update", ADM},
    {"placement:resource_providers:inventories:create", ADM},
    {"placement:resource_providers:inventories:delete", ADM},
    {"placement:resource_providers:usages", ADM},
    {"placement:usages", ADM},
    {"placement:resource_providers:traits:list", ADM},
    {"placement:resource_providers:traits:update", ADM},
    {"placement:resource_providers:traits:delete", ADM},
    {"placement:resource_providers:aggregates:list", ADM},
    {"placement:resource_providers:aggregates:update", ADM},
    {"placement:resource_providers:allocations:list", ADM},
    {"placement:resource_classes:list", ADM},
    {"placement:resource_classes:create", ADM},
    {"placement:resource_classes:show", ADM},
    {"placement:resource_classes:update", ADM},
    {"placement:resource_classes:delete", ADM},
    {"placement:traits:list", ADM},
    {"placement:traits:show", ADM},
    {"placement:traits:update", ADM},
    {"placement:traits:delete", ADM},
    {"placement:allocations:list", ADM},
    {"placement:allocations:update", ADM},
    {"placement:allocations:delete", ADM},
    {"placement:allocations:manage", ADM},
    {"placement:allocation_candidates:list", ADM},
};

int
plc_service_init(void)
{
    policy_register(rules, sizeof(rules) / sizeof(rules[0]));
    http_register(&service);
    return 0;
}
