/* api.c - the Nova v2.1 API at /compute: routes, Nova's fault bodies,
 * version discovery, microversion negotiation, the policy defaults, the
 * start of the service and the helpers the other API files share.
 * Flavors are in api_flavors.c (extra specs and access in
 * api_flavor_extra.c), key pairs in api_keypairs.c, limits and
 * availability zones in api_limits.c, SQL in cp_db.c. Servers slot in as
 * api_servers.c with their routes added to the table below. */
#include "compute.h"
#include "compute_int.h"
#include "hostapi.h"
#include "cp_db.h"
#include "core/arena.h"
#include "core/auth.h"
#include "core/log.h"
#include "core/policy.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mv_service mv = {"compute", "X-OpenStack-Nova-API-Version", CMP_MV_MIN,
                                     CMP_MV_MAX};

/* ---- helpers shared with the other API files ---- */

struct db *
cmp__db(struct http_req *req)
{
    struct db *db = req_db(req);
    if (!db)
        req_fail(req, 503, "The server is currently unavailable.");
    return db;
}

int
cmp__db_fail(struct http_req *req, int rc)
{
    return req_fail(req, 500, "database error %d: %s", rc, req->db ? db_errmsg(req->db) : "");
}

bool
cmp__admin(struct http_req *req)
{
    return auth_has_role(&req->auth, "admin");
}

int
cmp__policy(struct http_req *req, const char *action, const char *user_id,
            const char *project_id)
{
    struct policy_target t = {.user_id = user_id, .project_id = project_id};
    if (policy_check(req, action, &t))
        return 0;
    return req_fail(req, 403, "Policy doesn't allow %s to be performed.", action);
}

json_t *
cmp__body(struct http_req *req)
{
    json_t *b = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    if (b)
        arena_on_release(req->arena, (void (*)(void *))json_decref, b);
    if (!b || !json_is_object(b)) {
        req_fail(req, 400, "Malformed request body");
        return NULL;
    }
    return b;
}

int
cmp__invalid(struct http_req *req, const char *field, json_t *v, const char *why)
{
    return req_fail(req, 400, "Invalid input for field/attribute %s. Value: %s. %s", field,
                    cmp__repr(req, v), why);
}

const char *
cmp__repr(struct http_req *req, json_t *v)
{
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    const char *r = arena_strdup(req->arena, t ? t : "None");
    free(t);
    return r;
}

static const char *
base(struct http_req *req)
{
    const char *host = http_header_in(req, "Host");
    const char *proto = http_header_in(req, "X-Forwarded-Proto");
    return arena_printf(req->arena, "%s://%s/compute", proto ? proto : "http",
                        host ? host : "localhost");
}

const char *
cmp__url(struct http_req *req)
{
    return arena_printf(req->arena, "%s/v2.1", base(req));
}

json_t *
cmp__links(struct http_req *req, const char *kind, const char *id)
{
    return json_pack("[{s:s,s:s},{s:s,s:s}]", "rel", "self", "href",
                     arena_printf(req->arena, "%s/%s/%s", cmp__url(req), kind, id), "rel",
                     "bookmark", "href",
                     arena_printf(req->arena, "%s/%s/%s", base(req), kind, id));
}

const char *
cmp__bookmark_url(struct http_req *req)
{
    return base(req);
}

int
cmp__limit(struct http_req *req, int64_t *out)
{
    const char *s = http_query(req, "limit");
    char *end;
    *out = 1000;
    if (!s)
        return 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 0)
        return req_fail(req, 400, "limit param must be an integer");
    *out = v > 1000 ? 1000 : v;
    return 0;
}

const char *
cmp__time(struct http_req *req, int64_t us)
{
    char b[40];
    time_iso(us, b, sizeof(b));
    /* Nova's timestamps carry no zone designator */
    b[strcspn(b, "Z")] = '\0';
    return arena_strdup(req->arena, b);
}

/* ---- faults ---- */

/* Nova's fault names by status (nova/api/openstack/wsgi.py Fault); any
 * other status is a computeFault. */
static const char *
fault_name(int st)
{
    switch (st) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "itemNotFound";
    case 405: return "badMethod";
    case 409: return "conflictingRequest";
    case 413: return "overLimit";
    case 415: return "badMediaType";
    case 429: return "overLimit";
    case 501: return "notImplemented";
    case 503: return "serviceUnavailable";
    default: return "computeFault";
    }
}

/* {"<faultName>": {"code": N, "message": "..."}}. A missing or bad token
 * is refused by keystonemiddleware before Nova, in Keystone's JSON; a
 * server-side failure shows Nova's generic text, its detail goes to the
 * log only. */
static void
render_fault(struct http_req *req)
{
    int st = req->fail_status;
    const char *msg = req->fail_msg ? req->fail_msg : http_status_title(st);
    if (st == 401) {
        auth_reply_401(req, msg);
        return;
    }
    if (st >= 500 && st != 501 && st != 503) {
        log_warn(req->request_id, "compute: %s", msg);
        msg = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ "
              "and attach the Nova API log if possible.";
    }
    http_reply_json(req, st, json_pack("{s:{s:i,s:s}}", fault_name(st), "code", st, "message",
                                       msg));
}

/* Negotiates the microversion of every API call; the version documents
 * are not versioned. */
static int
before(struct http_req *req)
{
    if (strncmp(req->subpath, "/v2.1/", 6))
        return 0;
    return mv_negotiate(req, &mv);
}

static void
after(struct http_req *req)
{
    mv_set_headers(req, &mv);
    /* Nova's own name of the request id, which Tempest reads */
    http_header(req, "x-compute-request-id", req->request_id);
}

/* ---- version discovery ---- */

static json_t *
version_doc(struct http_req *req, bool v21, bool detail)
{
    json_t *links = json_pack("[{s:s,s:s}]", "rel", "self", "href",
                              arena_printf(req->arena, "%s/%s/", base(req),
                                           v21 ? "v2.1" : "v2"));
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "id", v21 ? "v2.1" : "v2.0", "status",
                          v21 ? "CURRENT" : "SUPPORTED", "version",
                          v21 ? arena_printf(req->arena, "%d.%d", MV_MAJOR(CMP_MV_MAX),
                                             MV_MINOR(CMP_MV_MAX)) : "",
                          "min_version", v21 ? "2.1" : "", "updated",
                          v21 ? "2013-07-23T11:33:21Z" : "2011-01-21T11:33:21Z", "links", links);
    if (detail) {
        json_array_append_new(links, json_pack("{s:s,s:s,s:s}", "rel", "describedby", "type",
                                               "text/html", "href",
                                               "http://docs.openstack.org/"));
        json_object_set_new(v, "media-types",
                            json_pack("[{s:s,s:s}]", "base", "application/json", "type",
                                      v21 ? "application/vnd.openstack.compute+json;version=2.1"
                                          : "application/vnd.openstack.compute+json;version=2"));
    }
    return v;
}

/* GET /compute: both API versions, 200 as Nova answers its root */
static int
api_root(struct http_req *req)
{
    return http_reply_json(req, 200, json_pack("{s:[o,o]}", "versions",
                                               version_doc(req, false, false),
                                               version_doc(req, true, false)));
}

static int
api_v21(struct http_req *req)
{
    return http_reply_json(req, 200, json_pack("{s:o}", "version",
                                               version_doc(req, true, true)));
}

static int
api_v2(struct http_req *req)
{
    return http_reply_json(req, 200, json_pack("{s:o}", "version",
                                               version_doc(req, false, true)));
}

/* ---- routes ---- */

#define A ROUTE_AUTH
#define V "/v2.1"
#define FLV V "/flavors/{flavor_id}"
#define SRV V "/servers/{server_id}"

/* When two patterns match a path the later one wins: "/flavors/detail"
 * follows "/flavors/{flavor_id}". */
static const struct http_route routes[] = {
    {HTTP_GET, "/", api_root, 0, NULL},
    {HTTP_GET, "/v2", api_v2, 0, NULL},
    {HTTP_GET, V, api_v21, 0, NULL},
    {HTTP_GET, V "/flavors", cmp__flavors_list, A, NULL},
    {HTTP_POST, V "/flavors", cmp__flavor_create, A, NULL},
    {HTTP_GET, FLV, cmp__flavor_show, A, NULL},
    {HTTP_PUT, FLV, cmp__flavor_update, A, NULL},
    {HTTP_DELETE, FLV, cmp__flavor_delete, A, NULL},
    {HTTP_GET, V "/flavors/detail", cmp__flavors_detail, A, NULL},
    {HTTP_GET, FLV "/os-extra_specs", cmp__specs_list, A, NULL},
    {HTTP_POST, FLV "/os-extra_specs", cmp__specs_create, A, NULL},
    {HTTP_GET, FLV "/os-extra_specs/{key}", cmp__spec_show, A, NULL},
    {HTTP_PUT, FLV "/os-extra_specs/{key}", cmp__spec_update, A, NULL},
    {HTTP_DELETE, FLV "/os-extra_specs/{key}", cmp__spec_delete, A, NULL},
    {HTTP_GET, FLV "/os-flavor-access", cmp__access_list, A, NULL},
    {HTTP_POST, FLV "/action", cmp__flavor_action, A, NULL},
    {HTTP_GET, V "/os-keypairs", cmp__keypairs_list, A, NULL},
    {HTTP_POST, V "/os-keypairs", cmp__keypair_create, A | ROUTE_SLOW, NULL},
    {HTTP_GET, V "/os-keypairs/{name}", cmp__keypair_show, A, NULL},
    {HTTP_DELETE, V "/os-keypairs/{name}", cmp__keypair_delete, A, NULL},
    {HTTP_GET, V "/limits", cmp__limits, A, NULL},
    {HTTP_GET, V "/os-security-groups", cmp__sgs_list, A, NULL},
    {HTTP_POST, V "/os-security-groups", cmp__sg_create, A, NULL},
    {HTTP_GET, V "/os-security-groups/{group_id}", cmp__sg_show, A, NULL},
    {HTTP_PUT, V "/os-security-groups/{group_id}", cmp__sg_update, A, NULL},
    {HTTP_DELETE, V "/os-security-groups/{group_id}", cmp__sg_delete, A, NULL},
    {HTTP_DELETE, V "/os-security-groups", cmp__sg_delete, A, NULL},
    {HTTP_POST, V "/os-security-group-rules", cmp__sg_rule_create, A, NULL},
    {HTTP_DELETE, V "/os-security-group-rules/{rule_id}", cmp__sg_rule_delete, A, NULL},
    {HTTP_GET, V "/os-server-groups", cmp__group_list, A, NULL},
    {HTTP_POST, V "/os-server-groups", cmp__group_create, A, NULL},
    {HTTP_GET, V "/os-server-groups/{group_id}", cmp__group_show, A, NULL},
    {HTTP_DELETE, V "/os-server-groups/{group_id}", cmp__group_delete, A, NULL},
    {HTTP_GET, V "/os-services", cmp__services_list, A, NULL},
    {HTTP_PUT, V "/os-services/{service_id}", cmp__service_update, A, NULL},
    {HTTP_GET, V "/os-hypervisors", cmp__hypervisors_list, A, NULL},
    {HTTP_GET, V "/os-hypervisors/{hypervisor_id}", cmp__hypervisor_show, A, NULL},
    {HTTP_GET, V "/os-hypervisors/detail", cmp__hypervisors_detail, A, NULL},
    {HTTP_GET, V "/os-hypervisors/statistics", cmp__hypervisor_stats, A, NULL},
    {HTTP_GET, V "/images", cmp__images_list, A, NULL},
    {HTTP_GET, V "/images/{image_id}", cmp__image_show, A, NULL},
    {HTTP_DELETE, V "/images/{image_id}", cmp__image_delete, A, NULL},
    {HTTP_GET, V "/images/detail", cmp__images_detail, A, NULL},
    {HTTP_GET, V "/os-quota-sets/{project_id}", cmp__quota_show, A, NULL},
    {HTTP_PUT, V "/os-quota-sets/{project_id}", cmp__quota_update, A, NULL},
    {HTTP_DELETE, V "/os-quota-sets/{project_id}", cmp__quota_delete, A, NULL},
    {HTTP_GET, V "/os-quota-sets/{project_id}/defaults", cmp__quota_defaults, A, NULL},
    {HTTP_GET, V "/os-quota-sets/{project_id}/detail", cmp__quota_detail, A, NULL},
    {HTTP_GET, V "/servers", cmp__servers_list, A, NULL},
    {HTTP_POST, V "/servers", cmp__server_create, A, NULL},
    {HTTP_GET, SRV, cmp__server_show, A, NULL},
    {HTTP_PUT, SRV, cmp__server_update, A, NULL},
    {HTTP_DELETE, SRV, cmp__server_delete, A, NULL},
    {HTTP_GET, V "/servers/detail", cmp__servers_detail, A, NULL},
    {HTTP_POST, SRV "/action", cmp__server_action, A, NULL},
    {HTTP_GET, SRV "/metadata", cmp__meta_list, A, NULL},
    {HTTP_POST, SRV "/metadata", cmp__meta_create, A, NULL},
    {HTTP_PUT, SRV "/metadata", cmp__meta_replace, A, NULL},
    {HTTP_GET, SRV "/metadata/{key}", cmp__meta_show, A, NULL},
    {HTTP_PUT, SRV "/metadata/{key}", cmp__meta_update, A, NULL},
    {HTTP_DELETE, SRV "/metadata/{key}", cmp__meta_delete, A, NULL},
    {HTTP_GET, SRV "/tags", cmp__tags_list, A, NULL},
    {HTTP_PUT, SRV "/tags", cmp__tags_replace, A, NULL},
    {HTTP_DELETE, SRV "/tags", cmp__tags_delete_all, A, NULL},
    {HTTP_GET, SRV "/tags/{tag}", cmp__tag_show, A, NULL},
    {HTTP_PUT, SRV "/tags/{tag}", cmp__tag_add, A, NULL},
    {HTTP_DELETE, SRV "/tags/{tag}", cmp__tag_delete, A, NULL},
    {HTTP_GET, SRV "/os-instance-actions", cmp__actions_list, A, NULL},
    {HTTP_GET, SRV "/os-security-groups", cmp__server_sgs, A, NULL},
    {HTTP_GET, SRV "/os-interface", cmp__ifaces_list, A, NULL},
    {HTTP_POST, SRV "/os-interface", cmp__iface_attach, A, NULL},
    {HTTP_GET, SRV "/os-interface/{port_id}", cmp__iface_show, A, NULL},
    {HTTP_DELETE, SRV "/os-interface/{port_id}", cmp__iface_detach, A, NULL},
    {HTTP_GET, SRV "/os-instance-actions/{request_id}", cmp__action_show, A, NULL},
    {HTTP_POST, SRV "/remote-consoles", cmp__remote_console, A, NULL},
    {HTTP_GET, V "/os-console-auth-tokens/{console_token}", cmp__console_token_show, A, NULL},
    {HTTP_GET, V "/os-simple-tenant-usage", cmp__usage_list, A, NULL},
    {HTTP_GET, V "/os-simple-tenant-usage/{project_id}", cmp__usage_show, A, NULL},
    {HTTP_GET, V "/os-availability-zone", cmp__az_list, A, NULL},
    {HTTP_GET, V "/os-availability-zone/detail", cmp__az_detail, A, NULL},
};

static const struct http_service service = {
    .prefix = "/compute",
    .name = "compute",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .render_fault = render_fault,
    .after = after,
    .before = before,
};

/* Nova's defaults (Zed, enforce_scope off, so each rule is OR'ed with
 * its deprecated admin-or-owner form). Flavor changes are admin's; key
 * pairs are their user's or admin's. */
static const struct policy_rule rules[] = {
    {"os_compute_api:os-flavor-manage:create", P_ADMIN},
    {"os_compute_api:os-flavor-manage:update", P_ADMIN},
    {"os_compute_api:os-flavor-manage:delete", P_ADMIN},
    {"os_compute_api:os-flavor-extra-specs:index", P_ANY},
    {"os_compute_api:os-flavor-extra-specs:show", P_ANY},
    {"os_compute_api:os-flavor-extra-specs:create", P_ADMIN},
    {"os_compute_api:os-flavor-extra-specs:update", P_ADMIN},
    {"os_compute_api:os-flavor-extra-specs:delete", P_ADMIN},
    {"os_compute_api:os-flavor-access", P_ADMIN},
    {"os_compute_api:os-flavor-access:add_tenant_access", P_ADMIN},
    {"os_compute_api:os-flavor-access:remove_tenant_access", P_ADMIN},
    {"os_compute_api:os-keypairs:index", P_ADMIN | P_OWNER},
    {"os_compute_api:os-keypairs:create", P_ADMIN | P_OWNER},
    {"os_compute_api:os-keypairs:show", P_ADMIN | P_OWNER},
    {"os_compute_api:os-keypairs:delete", P_ADMIN | P_OWNER},
    {"os_compute_api:limits", P_ANY},
    {"os_compute_api:os-simple-tenant-usage:list", P_ADMIN},
    {"os_compute_api:os-simple-tenant-usage:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-availability-zone:list", P_ANY},
    {"os_compute_api:os-availability-zone:detail", P_ADMIN},
    {"os_compute_api:servers:index", P_ANY},
    {"os_compute_api:servers:detail", P_ANY},
    {"os_compute_api:servers:index:get_all_tenants", P_ADMIN},
    {"os_compute_api:servers:detail:get_all_tenants", P_ADMIN},
    {"os_compute_api:servers:create", P_ANY},
    {"os_compute_api:servers:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:update", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:delete", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:reboot", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:start", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:stop", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:resize", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:confirm_resize", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:revert_resize", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:rebuild", P_ADMIN | P_PROJECT},
    {"os_compute_api:servers:create_image", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-pause-server:pause", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-pause-server:unpause", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-suspend-server:suspend", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-suspend-server:resume", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-remote-consoles", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-console-auth-tokens", P_ADMIN},
    {"os_compute_api:os-shelve:shelve", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-shelve:shelve_offload", P_ADMIN},
    {"os_compute_api:os-shelve:unshelve", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-lock-server:lock", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-lock-server:unlock", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-console-output", P_ADMIN | P_PROJECT},
    {"os_compute_api:server-metadata:index", P_ADMIN | P_PROJECT},
    {"os_compute_api:server-metadata:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:server-metadata:create", P_ADMIN | P_PROJECT},
    {"os_compute_api:server-metadata:update", P_ADMIN | P_PROJECT},
    {"os_compute_api:server-metadata:update_all", P_ADMIN | P_PROJECT},
    {"os_compute_api:server-metadata:delete", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-tags:index", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-tags:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-tags:update", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-tags:update_all", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-tags:delete", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-tags:delete_all", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-instance-actions:list", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-instance-actions:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-quota-sets:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-quota-sets:detail", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-quota-sets:defaults", P_ANY},
    {"os_compute_api:os-quota-sets:update", P_ADMIN},
    {"os_compute_api:os-quota-sets:delete", P_ADMIN},
    {"os_compute_api:os-attach-interfaces:list", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-attach-interfaces:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-attach-interfaces:create", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-attach-interfaces:delete", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-security-groups:get", P_ANY},
    {"os_compute_api:os-security-groups:show", P_ANY},
    {"os_compute_api:os-security-groups:create", P_ANY},
    {"os_compute_api:os-security-groups:update", P_ANY},
    {"os_compute_api:os-security-groups:delete", P_ANY},
    {"os_compute_api:os-security-groups:rule:create", P_ANY},
    {"os_compute_api:os-security-groups:rule:delete", P_ANY},
    {"os_compute_api:os-security-groups:list", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-security-groups:add", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-security-groups:remove", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-groups:create", P_ANY},
    {"os_compute_api:os-server-groups:index", P_ANY},
    {"os_compute_api:os-server-groups:show", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-server-groups:delete", P_ADMIN | P_PROJECT},
    {"os_compute_api:os-services:list", P_ADMIN},
    {"os_compute_api:os-services:update", P_ADMIN},
    {"os_compute_api:os-hypervisors:list", P_ADMIN},
    {"os_compute_api:os-hypervisors:detail", P_ADMIN},
    {"os_compute_api:os-hypervisors:show", P_ADMIN},
    {"os_compute_api:os-hypervisors:statistics", P_ADMIN},
};

int
cmp_service_start(void)
{
    return sched_start();
}

void
cmp_service_stop(void)
{
    sched_stop();
}

int
cmp_service_init(const char *data_dir)
{
    struct db *db = db_get();
    int rc = db ? cmp_bootstrap(db) : DB_ERR;
    if (rc != DB_OK)
        log_error(NULL, "compute: cannot add the default flavors: %s",
                  db ? db_errmsg(db) : "no database");
    db_put(db);
    if (rc != DB_OK)
        return -1;
    policy_register(rules, sizeof(rules) / sizeof(rules[0]));
    http_register(&service);
    cmp__vncproxy_register();
    return 0;
}
