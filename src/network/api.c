/* api.c - the Neutron v2.0 API at /network: routes, Neutron's fault body,
 * the version documents, /v2.0/extensions (only what is implemented) and
 * the helpers the resource files share. Networks are in api_networks.c,
 * subnets in api_subnets.c, ports in api_ports.c, addresses in ipam.c and
 * ipnet.c, the generic listing in net_list.c, the schema in net_db.c. */
#include "network.h"
#include "network_int.h"
#include "core/arena.h"
#include "core/auth.h"
#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

/* The Neutron exception name travels in front of the message, separated
 * by this byte, from net__fail() to render_fault(). */
#define TYPE_SEP '\x1f'

int
net__fail(struct http_req *req, int status, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return req_fail(req, status, "%s%c%s", type, TYPE_SEP, msg);
}

void
net__uuid(char out[37])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

int
net__err(struct net_err *e, int status, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->status = status;
    e->type = type;
    return -1;
}

int
net__err_db(struct net_err *e, int rc)
{
    log_warn(NULL, "network: database error %d", rc);
    return net__err(e, 500, "HTTPInternalServerError",
                    "Request Failed: internal server error while processing your request.");
}

struct db *
net__db(struct http_req *req)
{
    struct db *db = req_db(req);
    if (!db)
        net__fail(req, 503, "ServiceUnavailable", "The database is not available.");
    return db;
}

int
net__db_fail(struct http_req *req, int rc)
{
    log_warn(req->request_id, "network: database error %d: %s", rc,
             req->db ? db_errmsg(req->db) : "");
    return net__fail(req, 500, "HTTPInternalServerError",
                     "Request Failed: internal server error while processing your request.");
}

bool
net__admin(struct http_req *req)
{
    return auth_has_role(&req->auth, "admin");
}

json_t *
net__body(struct http_req *req, const char *key)
{
    json_t *b = req->json, *o = b ? json_object_get(b, key) : NULL;
    if (!json_is_object(o)) {
        net__fail(req, 400, "HTTPBadRequest", "Resource body required");
        return NULL;
    }
    return o;
}

const char *
net__url(struct http_req *req)
{
    const char *host = http_header_in(req, "Host");
    const char *proto = http_header_in(req, "X-Forwarded-Proto");
    return arena_printf(req->arena, "%s://%s/network/v2.0", proto ? proto : "http",
                        host ? host : "localhost");
}

const char *
net__owner(struct http_req *req, json_t *obj)
{
    const char *p = json_string_value(json_object_get(obj, "project_id"));
    const char *t = json_string_value(json_object_get(obj, "tenant_id"));
    if (p && t && strcmp(p, t)) {
        net__fail(req, 400, "HTTPBadRequest", "'project_id' and 'tenant_id' do not match");
        return NULL;
    }
    const char *want = p ? p : t;
    if (!want || !strcmp(want, req->auth.project_id))
        return req->auth.project_id;
    if (!net__admin(req)) {
        net__fail(req, 403, "HTTPForbidden", "Specifying 'project_id' or 'tenant_id' other "
                                             "than the authenticated project in request "
                                             "requires admin privileges");
        return NULL;
    }
    return want;
}

int
net__only(struct http_req *req, json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, k);
        if (!ok)
            return net__fail(req, 400, "HTTPBadRequest", "Unrecognized attribute(s) '%s'", k);
    }
    return 0;
}

int
net__bool(struct http_req *req, json_t *obj, const char *key, bool dflt, bool *out)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (s && (!strcasecmp(s, "true") || !strcmp(s, "1")))
        *out = true;
    else if (s && (!strcasecmp(s, "false") || !strcmp(s, "0")))
        *out = false;
    else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        *out = json_integer_value(v) == 1;
    else
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for %s. Reason: '%s' is "
                         "not a valid boolean value.", key,
                         s ? s : json_is_null(v) ? "None" : "value");
    return 0;
}

int
net__str(struct http_req *req, json_t *obj, const char *key, size_t max, const char *dflt,
         const char **out)
{
    return net__str_null(req, obj, key, max, dflt, false, out);
}

int
net__str_null(struct http_req *req, json_t *obj, const char *key, size_t max, const char *dflt,
              bool nullable, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v || (json_is_null(v) && nullable))
        return 0;
    if (!json_is_string(v))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for %s. Reason: '%s' is "
                         "not a valid string.", key, json_is_null(v) ? "None" : "value");
    if (strlen(json_string_value(v)) > max)
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for %s. Reason: '%s' "
                         "exceeds maximum length of %zu.", key, json_string_value(v), max);
    *out = json_string_value(v);
    return 0;
}

const char *
net__time(struct http_req *req, int64_t us)
{
    char b[40];
    time_iso(us, b, sizeof(b));
    /* Neutron's standard attributes: seconds, with the Z */
    size_t dot = strcspn(b, ".");
    if (b[dot])
        snprintf(b + dot, sizeof(b) - dot, "Z");
    return arena_strdup(req->arena, b);
}

int
net__call(struct http_req *req, int (*fn)(struct http_req *), const char *pname,
          const char *pval, json_t *body, json_t **out)
{
    json_t *saved_json = req->json;
    int saved_n = req->nparams;
    const char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
    memcpy(names, req->param_names, sizeof(names));
    memcpy(values, req->param_values, sizeof(values));
    req->json = body;
    req->nparams = 0;
    if (pname) {
        req->param_names[0] = pname;
        req->param_values[0] = pval;
        req->nparams = 1;
    }
    fn(req);
    req->json = saved_json;
    req->nparams = saved_n;
    memcpy(req->param_names, names, sizeof(names));
    memcpy(req->param_values, values, sizeof(values));
    json_decref(body);
    *out = NULL;
    if (req->fail_status)
        return -1;
    if (req->resp_body)
        *out = json_loadb(req->resp_body, req->resp_len, 0, NULL);
    http_reply_json(req, 200, NULL);    /* drops the answer: the caller makes its own */
    return 0;
}

int
net__bulk(struct http_req *req, const char *one, const char *many, int (*create)(struct http_req *),
          int (*del)(struct http_req *), const char *id_param)
{
    json_t *items = json_object_get(req->json, many), *done = json_array(), *e;
    size_t i;
    json_array_foreach(items, i, e) {
        json_t *out;
        if (!json_is_object(e) ||
            net__call(req, create, NULL, NULL, json_pack("{s:O}", one, e), &out) < 0) {
            if (!req->fail_status)
                net__fail(req, 400, "HTTPBadRequest", "Resource body required");
            /* all or nothing: what this request made goes again */
            int st = req->fail_status;
            const char *msg = req->fail_msg;
            json_t *d;
            size_t k;
            json_array_foreach(done, k, d) {
                json_t *ignored;
                req->fail_status = 0;
                net__call(req, del, id_param, json_string_value(json_object_get(d, "id")),
                          NULL, &ignored);
                json_decref(ignored);
            }
            req->fail_status = st;
            req->fail_msg = msg;
            json_decref(done);
            return -1;
        }
        json_t *obj = json_object_get(out, one);
        json_array_append(done, obj ? obj : json_null());
        json_decref(out);
    }
    return http_reply_json(req, 201, json_pack("{s:o}", many, done));
}

/* ---- faults ---- */

static void
render_fault(struct http_req *req)
{
    int st = req->fail_status;
    const char *m = req->fail_msg ? req->fail_msg : http_status_title(st);
    if (st == 401) {
        auth_reply_401(req, m);
        return;
    }
    const char *sep = strchr(m, TYPE_SEP);
    const char *type = sep ? arena_strndup(req->arena, m, (size_t)(sep - m))
                           : st == 404 ? "HTTPNotFound" : st == 405 ? "HTTPMethodNotAllowed"
                           : st == 413 ? "HTTPRequestEntityTooLarge" : "HTTPBadRequest";
    const char *msg = sep ? sep + 1 : m;
    if (st == 404 && !sep)
        msg = "The resource could not be found.";
    http_reply_json(req, st, json_pack("{s:{s:s,s:s,s:s}}", "NeutronError", "type", type,
                                       "message", msg, "detail", ""));
}

/* Neutron's revision constraint: a PUT or DELETE of one resource with
 * "If-Match: revision_number=N" (several, comma-separated: any of them)
 * is refused with 412 when the resource is at another revision. */
static int
before(struct http_req *req)
{
    const char *m = http_header_in(req, "If-Match");
    if (!m || (req->method != HTTP_PUT && req->method != HTTP_DELETE))
        return 0;
    char coll[64], id[64], rest;
    if (sscanf(req->subpath, "/v2.0/%63[^/]/%63[^/]%c", coll, id, &rest) != 2)
        return 0;
    json_t *obj;
    int rc = net__resource_get(req, coll, id, &obj);
    if (rc)
        return rc < 0 ? -1 : 0;     /* not a resource with revisions: no constraint */
    int64_t cur = json_integer_value(json_object_get(obj, "revision_number"));
    json_decref(obj);
    for (const char *p = m; (p = strstr(p, "revision_number=")); p++) {
        char *end;
        long long want = strtoll(p + 16, &end, 10);
        if (end != p + 16 && want == cur)
            return 0;
    }
    return net__fail(req, 412, "RevisionNumberConstraintFailed", "Constrained to %s, but "
                     "current revision is %lld", m, (long long)cur);
}

/* ---- documents ---- */

static int
versions(struct http_req *req)
{
    const char *u = net__url(req);
    return http_reply_json(req, 200, json_pack("{s:[{s:s,s:s,s:[{s:s,s:s}]}]}", "versions",
                                               "id", "v2.0", "status", "CURRENT", "links",
                                               "href", arena_printf(req->arena, "%s/", u),
                                               "rel", "self"));
}

static const char *const resources[][2] = {
    {"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"},
    {"security_group", "security-groups"}, {"security_group_rule", "security-group-rules"},
    {"router", "routers"}, {"floatingip", "floatingips"}, {"subnetpool", "subnetpools"},
};

static int
v2_root(struct http_req *req)
{
    json_t *l = json_array();
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
        json_array_append_new(
            l, json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "name", resources[i][0], "collection",
                         resources[i][1], "links", "href",
                         arena_printf(req->arena, "%s/%s", net__url(req), resources[i][1]),
                         "rel", "self"));
    return http_reply_json(req, 200, json_pack("{s:o}", "resources", l));
}

/* The extensions really implemented, with Neutron's aliases. */
static const struct {
    const char *alias, *name, *desc;
} extensions[] = {
    {"external-net", "Neutron external network", "Adds external network attribute to network "
                                                 "resource."},
    {"network-mtu", "Network MTU", "Provides MTU attribute for a network resource."},
    {"standard-attr-description", "standard-attr-description",
     "Extension to add descriptions to standard attributes"},
    {"standard-attr-timestamp", "Resource timestamps",
     "Adds created_at and updated_at fields to all Neutron resources that have Neutron "
     "standard attributes."},
    {"standard-attr-revisions", "Resource revision numbers",
     "This extension will display the revision number of neutron resources."},
    {"project-id", "project_id field enabled", "Extension that indicates that project_id field "
                                               "is enabled."},
    {"port-security", "Port Security", "Provides port security"},
    {"security-group", "security-group", "The security groups extension."},
    {"router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 "
                                    "Neutron networks and access to external networks via a "
                                    "NAT gateway."},
    {"ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "Extension of the router abstraction for specifying whether SNAT should occur on the "
     "external gateway"},
    {"extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"},
    {"allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"},
    {"binding", "Port Binding", "Expose port bindings of a virtual port to external "
                                "application"},
    {"subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet "
                                               "pool"},
    {"default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a "
                                                   "subnetpool as the default."},
    {"standard-attr-tag", "Tag support for resources with standard attribute: subnet, "
                          "trunk, network_segment_range, router, network, policy, "
                          "subnetpool, port, security_group, floatingip",
     "Enables to set tag on resources with standard attribute."},
    {"rbac-policies", "RBAC Policies", "Allows creation and modification of policies that "
                                       "control tenant access to resources."},
    {"quotas", "Quota management support", "Expose functions for quotas management per "
                                            "project"},
    {"quota_details", "Quota details management support", "Expose functions for quotas usage "
                                                          "statistics per project"},
    {"network-ip-availability", "Network IP Availability", "Provides IP availability data "
                                                           "for each network and subnet."},
    {"pagination", "Pagination support", "Extension that indicates that pagination is enabled."},
    {"sorting", "Sorting support", "Extension that indicates that sorting is enabled."},
    {"fields", "Fields", "Extension that indicates that fields are enabled."},
};

static json_t *
extension(size_t i)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:[]}", "alias", extensions[i].alias, "name",
                     extensions[i].name, "description", extensions[i].desc, "updated",
                     "2013-01-01T10:00:00-00:00", "links");
}

static int
extensions_list(struct http_req *req)
{
    json_t *l = json_array();
    for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
        json_array_append_new(l, extension(i));
    return http_reply_json(req, 200, json_pack("{s:o}", "extensions", l));
}

static int
extension_show(struct http_req *req)
{
    const char *a = http_param(req, "alias");
    for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
        if (!strcmp(extensions[i].alias, a))
            return http_reply_json(req, 200, json_pack("{s:o}", "extension", extension(i)));
    return net__fail(req, 404, "HTTPNotFound", "Extension with alias %s does not exist", a);
}

#define A ROUTE_AUTH
#define J (ROUTE_AUTH | ROUTE_JSON)
#define V "/v2.0"

static const struct http_route routes[] = {
    {HTTP_GET, "/", versions, 0, NULL},
    {HTTP_GET, V, v2_root, A, NULL},
    {HTTP_GET, V "/extensions", extensions_list, A, NULL},
    {HTTP_GET, V "/extensions/{alias}", extension_show, A, NULL},
    {HTTP_GET, V "/networks", net__networks_list, A, NULL},
    {HTTP_POST, V "/networks", net__network_create, J, NULL},
    {HTTP_GET, V "/networks/{network_id}", net__network_show, A, NULL},
    {HTTP_PUT, V "/networks/{network_id}", net__network_update, J, NULL},
    {HTTP_DELETE, V "/networks/{network_id}", net__network_delete, A, NULL},
    {HTTP_GET, V "/subnets", net__subnets_list, A, NULL},
    {HTTP_POST, V "/subnets", net__subnet_create, J, NULL},
    {HTTP_GET, V "/subnets/{subnet_id}", net__subnet_show, A, NULL},
    {HTTP_PUT, V "/subnets/{subnet_id}", net__subnet_update, J, NULL},
    {HTTP_DELETE, V "/subnets/{subnet_id}", net__subnet_delete, A, NULL},
    {HTTP_GET, V "/{collection}/{id}/tags", net__tags_list, A, NULL},
    {HTTP_PUT, V "/{collection}/{id}/tags", net__tags_replace, J, NULL},
    {HTTP_DELETE, V "/{collection}/{id}/tags", net__tags_delete, A, NULL},
    {HTTP_GET, V "/{collection}/{id}/tags/{tag}", net__tag_check, A, NULL},
    {HTTP_PUT, V "/{collection}/{id}/tags/{tag}", net__tag_add, A, NULL},
    {HTTP_DELETE, V "/{collection}/{id}/tags/{tag}", net__tags_delete, A, NULL},
    {HTTP_GET, V "/rbac-policies", net__rbacs_list, A, NULL},
    {HTTP_POST, V "/rbac-policies", net__rbac_create, J, NULL},
    {HTTP_GET, V "/rbac-policies/{rbac_id}", net__rbac_show, A, NULL},
    {HTTP_PUT, V "/rbac-policies/{rbac_id}", net__rbac_update, J, NULL},
    {HTTP_DELETE, V "/rbac-policies/{rbac_id}", net__rbac_delete, A, NULL},
    {HTTP_GET, V "/quotas", net__quotas_list, A, NULL},
    {HTTP_GET, V "/quotas/{project_id}", net__quota_show, A, NULL},
    {HTTP_PUT, V "/quotas/{project_id}", net__quota_update, J, NULL},
    {HTTP_DELETE, V "/quotas/{project_id}", net__quota_delete, A, NULL},
    {HTTP_GET, V "/quotas/{project_id}/default", net__quota_default, A, NULL},
    {HTTP_GET, V "/quotas/{project_id}/details.json", net__quota_details, A, NULL},
    {HTTP_GET, V "/network-ip-availabilities", net__ipavail_list, A, NULL},
    {HTTP_GET, V "/network-ip-availabilities/{network_id}", net__ipavail_show, A, NULL},
    {HTTP_GET, V "/subnetpools", net__subnetpools_list, A, NULL},
    {HTTP_POST, V "/subnetpools", net__subnetpool_create, J, NULL},
    {HTTP_GET, V "/subnetpools/{pool_id}", net__subnetpool_show, A, NULL},
    {HTTP_PUT, V "/subnetpools/{pool_id}", net__subnetpool_update, J, NULL},
    {HTTP_DELETE, V "/subnetpools/{pool_id}", net__subnetpool_delete, A, NULL},
    {HTTP_GET, V "/security-groups", net__sgs_list, A, NULL},
    {HTTP_POST, V "/security-groups", net__sg_create, J, NULL},
    {HTTP_GET, V "/security-groups/{sg_id}", net__sg_show, A, NULL},
    {HTTP_PUT, V "/security-groups/{sg_id}", net__sg_update, J, NULL},
    {HTTP_DELETE, V "/security-groups/{sg_id}", net__sg_delete, A, NULL},
    {HTTP_GET, V "/security-group-rules", net__sg_rules_list, A, NULL},
    {HTTP_POST, V "/security-group-rules", net__sg_rule_create, J, NULL},
    {HTTP_GET, V "/security-group-rules/{rule_id}", net__sg_rule_show, A, NULL},
    {HTTP_DELETE, V "/security-group-rules/{rule_id}", net__sg_rule_delete, A, NULL},
    {HTTP_GET, V "/routers", net__routers_list, A, NULL},
    {HTTP_POST, V "/routers", net__router_create, J, NULL},
    {HTTP_GET, V "/routers/{router_id}", net__router_show, A, NULL},
    {HTTP_PUT, V "/routers/{router_id}", net__router_update, J, NULL},
    {HTTP_DELETE, V "/routers/{router_id}", net__router_delete, A, NULL},
    {HTTP_PUT, V "/routers/{router_id}/add_router_interface", net__router_add_iface, J, NULL},
    {HTTP_PUT, V "/routers/{router_id}/remove_router_interface", net__router_remove_iface, J,
     NULL},
    {HTTP_GET, V "/floatingips", net__fips_list, A, NULL},
    {HTTP_POST, V "/floatingips", net__fip_create, J, NULL},
    {HTTP_GET, V "/floatingips/{fip_id}", net__fip_show, A, NULL},
    {HTTP_PUT, V "/floatingips/{fip_id}", net__fip_update, J, NULL},
    {HTTP_DELETE, V "/floatingips/{fip_id}", net__fip_delete, A, NULL},
    {HTTP_GET, V "/ports", net__ports_list, A, NULL},
    {HTTP_POST, V "/ports", net__port_create, J, NULL},
    {HTTP_GET, V "/ports/{port_id}", net__port_show, A, NULL},
    {HTTP_PUT, V "/ports/{port_id}", net__port_update, J, NULL},
    {HTTP_DELETE, V "/ports/{port_id}", net__port_delete, A, NULL},
};

static const struct http_service service = {
    .prefix = "/network",
    .name = "network",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .render_fault = render_fault,
    .after = net__tags_after,
    .before = before,
};

int
net_service_init(void)
{
    http_register(&service);
    return net_plan_register();
}
