/* api.c - identity's route table, version documents, fault format, policy
 * defaults and the helpers every identity handler shares. */
#include "identity.h"
#include "core/config.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static _Atomic uint64_t revision = 1;

uint64_t
idn_revision(void)
{
    return atomic_load(&revision);
}

void
idn_bump(void)
{
    atomic_fetch_add(&revision, 1);
}

/* ---- version discovery ---- */

static json_t *
version_doc(struct http_req *req)
{
    return json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:[{s:s,s:s}]}", "id", "v3.14", "status",
                     "stable", "updated", "2020-04-07T00:00:00Z", "links", "rel", "self",
                     "href", arena_printf(req->arena, "%s/v3/", idn_base_url(req)),
                     "media-types", "base", "application/json", "type",
                     "application/vnd.openstack.identity-v3+json");
}

static int
versions(struct http_req *req)
{
    http_header(req, "Location", arena_printf(req->arena, "%s/v3/", idn_base_url(req)));
    return http_reply_json(req, 300,
                           json_pack("{s:{s:[o]}}", "versions", "values", version_doc(req)));
}

static int
version_v3(struct http_req *req)
{
    return http_reply_json(req, 200, json_pack("{s:o}", "version", version_doc(req)));
}

/* ---- faults: {"error": {"code", "title", "message"}} ---- */

static void
render_fault(struct http_req *req)
{
    int st = req->fail_status;
    if (st == 401) {
        http_header(req, "WWW-Authenticate",
                    arena_printf(req->arena, "Keystone uri=\"%s\"", idn_base_url(req)));
    }
    const char *title = req->fail_title ? req->fail_title : http_status_title(st);
    http_reply_json(req, st,
                    json_pack("{s:{s:i,s:s,s:s}}", "error", "code", st, "title", title,
                              "message", req->fail_msg ? req->fail_msg : ""));
}

/* Every answer varies by token; a successful write makes cached tokens and
 * catalogs stale (logins are not writes to identity data). */
static void
after(struct http_req *req)
{
    http_header(req, "Vary", "X-Auth-Token");
    bool write = req->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE);
    bool login = req->method == HTTP_POST && !strcmp(req->subpath, "/v3/auth/tokens");
    if (write && !login && !req->fail_status && req->status < 400)
        idn_bump();
}

/* ---- routes ---- */

#define A ROUTE_AUTH
#define J ROUTE_JSON
#define S ROUTE_SLOW     /* hashes a password or secret */
#define GRANT_ROUTES(target, actor)                                                   \
    {HTTP_GET, target "/" actor "/roles", idn_grants_list, A},                         \
    {HTTP_PUT, target "/" actor "/roles/{role_id}", idn_grant_put, A},                 \
    {HTTP_GET, target "/" actor "/roles/{role_id}", idn_grant_check, A},               \
    {HTTP_DELETE, target "/" actor "/roles/{role_id}", idn_grant_delete, A}

static const struct http_route routes[] = {
    {HTTP_GET, "/", versions, 0},
    {HTTP_GET, "/v3", version_v3, 0},

    {HTTP_POST, "/v3/auth/tokens", idn_auth_tokens_post, J | S},
    {HTTP_GET, "/v3/auth/tokens", idn_auth_tokens_get, A},
    {HTTP_HEAD, "/v3/auth/tokens", idn_auth_tokens_head, A},
    {HTTP_DELETE, "/v3/auth/tokens", idn_auth_tokens_delete, A},
    {HTTP_GET, "/v3/auth/catalog", idn_auth_catalog, A},
    {HTTP_GET, "/v3/auth/projects", idn_auth_projects, A},
    {HTTP_GET, "/v3/auth/domains", idn_auth_domains, A},
    {HTTP_GET, "/v3/auth/system", idn_auth_system, A},

    {HTTP_GET, "/v3/domains", idn_domains_list, A},
    {HTTP_POST, "/v3/domains", idn_domains_create, A | J},
    {HTTP_GET, "/v3/domains/{domain_id}", idn_domains_get, A},
    {HTTP_PATCH, "/v3/domains/{domain_id}", idn_domains_update, A | J},
    {HTTP_DELETE, "/v3/domains/{domain_id}", idn_domains_delete, A},

    {HTTP_GET, "/v3/projects", idn_projects_list, A},
    {HTTP_POST, "/v3/projects", idn_projects_create, A | J},
    {HTTP_GET, "/v3/projects/{project_id}", idn_projects_get, A},
    {HTTP_PATCH, "/v3/projects/{project_id}", idn_projects_update, A | J},
    {HTTP_DELETE, "/v3/projects/{project_id}", idn_projects_delete, A},
    {HTTP_GET, "/v3/projects/{project_id}/tags", idn_project_tags_list, A},
    {HTTP_PUT, "/v3/projects/{project_id}/tags", idn_project_tags_replace, A | J},
    {HTTP_DELETE, "/v3/projects/{project_id}/tags", idn_project_tags_clear, A},
    {HTTP_GET, "/v3/projects/{project_id}/tags/{tag}", idn_project_tag_check, A},
    {HTTP_PUT, "/v3/projects/{project_id}/tags/{tag}", idn_project_tag_add, A},
    {HTTP_DELETE, "/v3/projects/{project_id}/tags/{tag}", idn_project_tag_delete, A},

    {HTTP_GET, "/v3/users", idn_users_list, A},
    {HTTP_POST, "/v3/users", idn_users_create, A | J | S},
    {HTTP_GET, "/v3/users/{user_id}", idn_users_get, A},
    {HTTP_PATCH, "/v3/users/{user_id}", idn_users_update, A | J | S},
    {HTTP_DELETE, "/v3/users/{user_id}", idn_users_delete, A},
    /* self-service password change needs no token: an expired password
     * must still be changeable (as Keystone) */
    {HTTP_POST, "/v3/users/{user_id}/password", idn_users_password, J | S},
    {HTTP_GET, "/v3/users/{user_id}/projects", idn_user_projects, A},
    {HTTP_GET, "/v3/users/{user_id}/groups", idn_user_groups, A},
    {HTTP_GET, "/v3/users/{user_id}/application_credentials", idn_appcreds_list, A},
    {HTTP_POST, "/v3/users/{user_id}/application_credentials", idn_appcreds_create,
     A | J | S},
    {HTTP_GET, "/v3/users/{user_id}/application_credentials/{application_credential_id}",
     idn_appcreds_get, A},
    {HTTP_DELETE, "/v3/users/{user_id}/application_credentials/{application_credential_id}",
     idn_appcreds_delete, A},

    {HTTP_GET, "/v3/groups", idn_groups_list, A},
    {HTTP_POST, "/v3/groups", idn_groups_create, A | J},
    {HTTP_GET, "/v3/groups/{group_id}", idn_groups_get, A},
    {HTTP_PATCH, "/v3/groups/{group_id}", idn_groups_update, A | J},
    {HTTP_DELETE, "/v3/groups/{group_id}", idn_groups_delete, A},
    {HTTP_GET, "/v3/groups/{group_id}/users", idn_group_users, A},
    {HTTP_PUT, "/v3/groups/{group_id}/users/{user_id}", idn_group_user_add, A},
    {HTTP_GET, "/v3/groups/{group_id}/users/{user_id}", idn_group_user_check, A},
    {HTTP_DELETE, "/v3/groups/{group_id}/users/{user_id}", idn_group_user_remove, A},

    {HTTP_GET, "/v3/roles", idn_roles_list, A},
    {HTTP_POST, "/v3/roles", idn_roles_create, A | J},
    {HTTP_GET, "/v3/roles/{role_id}", idn_roles_get, A},
    {HTTP_PATCH, "/v3/roles/{role_id}", idn_roles_update, A | J},
    {HTTP_DELETE, "/v3/roles/{role_id}", idn_roles_delete, A},
    {HTTP_GET, "/v3/roles/{prior_role_id}/implies", idn_implied_list, A},
    {HTTP_GET, "/v3/roles/{prior_role_id}/implies/{implied_role_id}", idn_implied_get, A},
    {HTTP_PUT, "/v3/roles/{prior_role_id}/implies/{implied_role_id}", idn_implied_put, A},
    {HTTP_DELETE, "/v3/roles/{prior_role_id}/implies/{implied_role_id}", idn_implied_delete,
     A},
    {HTTP_GET, "/v3/role_inferences", idn_role_inferences, A},
    {HTTP_GET, "/v3/role_assignments", idn_role_assignments, A},
    GRANT_ROUTES("/v3/projects/{project_id}", "users/{user_id}"),
    GRANT_ROUTES("/v3/projects/{project_id}", "groups/{group_id}"),
    GRANT_ROUTES("/v3/domains/{domain_id}", "users/{user_id}"),
    GRANT_ROUTES("/v3/domains/{domain_id}", "groups/{group_id}"),
    GRANT_ROUTES("/v3/system", "users/{user_id}"),
    GRANT_ROUTES("/v3/system", "groups/{group_id}"),

    {HTTP_GET, "/v3/regions", idn_regions_list, A},
    {HTTP_POST, "/v3/regions", idn_regions_create, A | J},
    {HTTP_GET, "/v3/regions/{region_id}", idn_regions_get, A},
    {HTTP_PUT, "/v3/regions/{region_id}", idn_regions_create, A | J},
    {HTTP_PATCH, "/v3/regions/{region_id}", idn_regions_update, A | J},
    {HTTP_DELETE, "/v3/regions/{region_id}", idn_regions_delete, A},
    {HTTP_GET, "/v3/services", idn_services_list, A},
    {HTTP_POST, "/v3/services", idn_services_create, A | J},
    {HTTP_GET, "/v3/services/{service_id}", idn_services_get, A},
    {HTTP_PATCH, "/v3/services/{service_id}", idn_services_update, A | J},
    {HTTP_DELETE, "/v3/services/{service_id}", idn_services_delete, A},
    {HTTP_GET, "/v3/endpoints", idn_endpoints_list, A},
    {HTTP_POST, "/v3/endpoints", idn_endpoints_create, A | J},
    {HTTP_GET, "/v3/endpoints/{endpoint_id}", idn_endpoints_get, A},
    {HTTP_PATCH, "/v3/endpoints/{endpoint_id}", idn_endpoints_update, A | J},
    {HTTP_DELETE, "/v3/endpoints/{endpoint_id}", idn_endpoints_delete, A},

    {HTTP_GET, "/v3/credentials", idn_credentials_list, A},
    {HTTP_POST, "/v3/credentials", idn_credentials_create, A | J},
    {HTTP_GET, "/v3/credentials/{credential_id}", idn_credentials_get, A},
    {HTTP_PATCH, "/v3/credentials/{credential_id}", idn_credentials_update, A | J},
    {HTTP_DELETE, "/v3/credentials/{credential_id}", idn_credentials_delete, A},
};

static const struct http_service service = {
    .prefix = "/identity",
    .name = "identity",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .render_fault = render_fault,
    .after = after,
};

/* ---- policy: Keystone (Zed) defaults, new rule OR deprecated rule ---- */

#define ADMIN (P_ADMIN | P_SYS_ADMIN)
#define READ (P_ADMIN | P_SYS_READER)
static const struct policy_rule rules[] = {
    {"identity:get_domain", READ | P_DOM_READER | P_PROJECT_DOMAIN},
    {"identity:list_domains", READ},
    {"identity:create_domain", ADMIN},
    {"identity:update_domain", ADMIN},
    {"identity:delete_domain", ADMIN},
    {"identity:get_project", READ | P_DOM_READER | P_PROJECT},
    {"identity:list_projects", READ | P_DOM_READER},
    {"identity:list_user_projects", READ | P_DOM_READER | P_OWNER},
    {"identity:create_project", ADMIN | P_DOM_ADMIN},
    {"identity:update_project", ADMIN | P_DOM_ADMIN},
    {"identity:delete_project", ADMIN | P_DOM_ADMIN},
    {"identity:list_project_tags", READ | P_DOM_READER | P_PROJECT},
    {"identity:get_project_tag", READ | P_DOM_READER | P_PROJECT},
    {"identity:update_project_tags", ADMIN},
    {"identity:create_project_tag", ADMIN},
    {"identity:delete_project_tags", ADMIN},
    {"identity:delete_project_tag", ADMIN},
    {"identity:get_user", READ | P_DOM_READER | P_OWNER},
    {"identity:list_users", READ | P_DOM_READER},
    {"identity:create_user", ADMIN | P_DOM_ADMIN},
    {"identity:update_user", ADMIN | P_DOM_ADMIN},
    {"identity:delete_user", ADMIN | P_DOM_ADMIN},
    {"identity:get_group", READ | P_DOM_READER},
    {"identity:list_groups", READ | P_DOM_READER},
    {"identity:list_groups_for_user", READ | P_DOM_READER | P_OWNER},
    {"identity:create_group", ADMIN | P_DOM_ADMIN},
    {"identity:update_group", ADMIN | P_DOM_ADMIN},
    {"identity:delete_group", ADMIN | P_DOM_ADMIN},
    {"identity:list_users_in_group", READ | P_DOM_READER},
    {"identity:add_user_to_group", ADMIN | P_DOM_ADMIN},
    {"identity:check_user_in_group", READ | P_DOM_READER},
    {"identity:remove_user_from_group", ADMIN | P_DOM_ADMIN},
    {"identity:get_role", READ | P_DOM_READER},
    {"identity:list_roles", READ | P_DOM_READER},
    {"identity:create_role", ADMIN},
    {"identity:update_role", ADMIN},
    {"identity:delete_role", ADMIN},
    {"identity:get_domain_role", READ | P_DOM_READER},
    {"identity:list_domain_roles", READ | P_DOM_READER},
    {"identity:create_domain_role", ADMIN},
    {"identity:update_domain_role", ADMIN},
    {"identity:delete_domain_role", ADMIN},
    {"identity:list_role_assignments_for_tree", READ | P_DOM_READER | P_PROJECT_READER},
    {"identity:get_implied_role", READ},
    {"identity:list_implied_roles", READ},
    {"identity:create_implied_role", ADMIN},
    {"identity:delete_implied_role", ADMIN},
    {"identity:list_role_inference_rules", READ},
    {"identity:check_implied_role", READ},
    {"identity:check_grant", READ | P_DOM_READER},
    {"identity:list_grants", READ | P_DOM_READER},
    {"identity:create_grant", ADMIN | P_DOM_ADMIN},
    {"identity:revoke_grant", ADMIN | P_DOM_ADMIN},
    {"identity:list_system_grants_for_user", READ},
    {"identity:check_system_grant_for_user", READ},
    {"identity:create_system_grant_for_user", ADMIN},
    {"identity:revoke_system_grant_for_user", ADMIN},
    {"identity:list_system_grants_for_group", READ},
    {"identity:check_system_grant_for_group", READ},
    {"identity:create_system_grant_for_group", ADMIN},
    {"identity:revoke_system_grant_for_group", ADMIN},
    {"identity:list_role_assignments", READ | P_DOM_READER},
    {"identity:get_region", P_ANY},
    {"identity:list_regions", P_ANY},
    {"identity:create_region", ADMIN},
    {"identity:update_region", ADMIN},
    {"identity:delete_region", ADMIN},
    {"identity:get_service", READ},
    {"identity:list_services", READ},
    {"identity:create_service", ADMIN},
    {"identity:update_service", ADMIN},
    {"identity:delete_service", ADMIN},
    {"identity:get_endpoint", READ},
    {"identity:list_endpoints", READ},
    {"identity:create_endpoint", ADMIN},
    {"identity:update_endpoint", ADMIN},
    {"identity:delete_endpoint", ADMIN},
    {"identity:get_application_credential", READ | P_OWNER},
    {"identity:list_application_credentials", READ | P_OWNER},
    {"identity:create_application_credential", P_OWNER},
    {"identity:delete_application_credential", ADMIN | P_OWNER},
    {"identity:get_credential", READ | P_OWNER},
    {"identity:list_credentials", READ | P_OWNER},
    {"identity:create_credential", ADMIN | P_OWNER},
    {"identity:update_credential", ADMIN | P_OWNER},
    {"identity:delete_credential", ADMIN | P_OWNER},
    {"identity:check_token", READ | P_OWNER},
    {"identity:validate_token", READ | P_OWNER},
    {"identity:revoke_token", ADMIN | P_OWNER},
    {"identity:get_auth_catalog", P_ANY},
    {"identity:get_auth_projects", P_ANY},
    {"identity:get_auth_domains", P_ANY},
    {"identity:get_auth_system", P_ANY},
};

int
idn_service_init(const char *data_dir)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/fernet-keys", data_dir);
    if (fernet_load(dir) < 0)
        return -1;
    http_register(&service);
    policy_register(rules, sizeof(rules) / sizeof(rules[0]));
    auth_set_validator(idn_validate_token);
    pw_start();
    return 0;
}

/* ---- helpers ---- */

const char *
idn_base_url(struct http_req *req)
{
    const char *host = http_header_in(req, "Host");
    const char *proto = http_header_in(req, "X-Forwarded-Proto");
    return arena_printf(req->arena, "%s://%s%s", proto ? proto : "http",
                        host ? host : "localhost", service.prefix);
}

json_t *
idn_links(struct http_req *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *path = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return json_pack("{s:s}", "self", arena_printf(req->arena, "%s/v3/%s",
                                                   idn_base_url(req), path));
}

json_t *
idn_list_links(struct http_req *req)
{
    /* the path as the client sent it, query string included (as Keystone) */
    return json_pack("{s:s,s:n,s:n}", "self",
                     arena_printf(req->arena, "%s%s%s", idn_base_url(req), req->subpath,
                                  http_query_string(req)),
                     "previous", "next");
}

int
idn_db_fail(struct http_req *req, int rc, const char *what)
{
    if (rc == DB_CONFLICT)
        return req_fail(req, 409, "Conflict occurred attempting to store %s - "
                                  "Duplicate entry.", what);
    if (rc == DB_FK)
        return req_fail(req, 400, "Invalid reference while storing %s.", what);
    return req_fail(req, 500, "An unexpected error prevented the server from fulfilling "
                              "your request.");
}

int
idn_not_found(struct http_req *req, const char *kind, const char *id)
{
    return req_fail(req, 404, "Could not find %s: %s.", kind, id ? id : "");
}

struct db *
idn_db(struct http_req *req)
{
    struct db *db = req_db(req);
    if (!db)
        req_fail(req, 503, "The database is not available.");
    return db;
}

json_t *
idn_json_text(const char *text)
{
    return text && *text ? json_loads(text, 0, NULL) : NULL;
}

void
idn_merge_extra(json_t *obj, const char *extra)
{
    json_t *x = idn_json_text(extra);
    if (json_is_object(x)) {
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v)
            if (!json_object_get(obj, k))
                json_object_set(obj, k, v);
    }
    json_decref(x);
}

const char *
idn_extra_of(struct http_req *req, json_t *body, const char *const *known)
{
    json_t *x = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        bool is_known = false;
        for (const char *const *p = known; *p && !is_known; p++)
            is_known = !strcmp(*p, k);
        if (!is_known)
            json_object_set(x, k, v);
    }
    const char *r = NULL;
    if (json_object_size(x)) {
        char *s = json_dumps(x, JSON_COMPACT);
        r = arena_strdup(req->arena, s);
        free(s);
    }
    json_decref(x);
    return r;
}

int
idn_query_bool(struct http_req *req, const char *name)
{
    const char *v = http_query(req, name);
    if (!v)
        return -1;
    return !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !*v;
}

/* ---- shared lookups ---- */

void
idn_project_from_row(const struct db_res *r, int i, struct idn_project *p)
{
    p->id = db_val(r, i, 0);
    p->name = db_val(r, i, 1);
    p->domain_id = db_val(r, i, 2);
    p->description = db_val(r, i, 3);
    p->enabled = db_bool(r, i, 4);
    p->parent_id = db_val(r, i, 5);
    p->is_domain = db_bool(r, i, 6);
    p->extra = db_val(r, i, 7);
}

int
idn_project_get(struct http_req *req, const char *id, bool is_domain, struct idn_project *out)
{
    struct db *db = idn_db(req);
    struct db_res *r;
    if (!db)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT " IDN_PROJECT_COLS " FROM project WHERE id = ? AND is_domain = ?",
                     "sb", id, is_domain);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "project");
    if (r->nrows == 0)
        return idn_not_found(req, is_domain ? "domain" : "project", id);
    idn_project_from_row(r, 0, out);
    return 0;
}

int
idn_domain_by_name(struct http_req *req, const char *name, struct idn_project *out)
{
    struct db *db = idn_db(req);
    struct db_res *r;
    if (!db)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT " IDN_PROJECT_COLS " FROM project WHERE name = ? AND is_domain = 1",
                     "s", name);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "domain");
    if (r->nrows == 0)
        return idn_not_found(req, "domain", name);
    idn_project_from_row(r, 0, out);
    return 0;
}

int
idn_need_domain(struct http_req *req, struct db *db, const char *id)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT 1 FROM project WHERE id = ? AND is_domain = 1",
                     "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "domain");
    return r->nrows ? 0 : idn_not_found(req, "domain", id);
}

json_t *
idn_domain_view(struct http_req *req, const struct idn_project *p)
{
    json_t *o = json_pack("{s:s,s:s,s:s?,s:b,s:[],s:{},s:o}", "id", p->id, "name", p->name,
                          "description", p->description, "enabled", p->enabled, "tags",
                          "options", "links", idn_links(req, "domains/%s", p->id));
    if (!p->description)
        json_object_set_new(o, "description", json_string(""));
    idn_merge_extra(o, p->extra);
    return o;
}

json_t *
idn_project_view(struct http_req *req, const struct idn_project *p)
{
    /* a view still renders when the tags cannot be read: as none */
    struct db *db = req_db(req);
    json_t *tags = db ? idn_tags_of(req, db, p->id) : NULL;
    if (!tags)
        tags = json_array();
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s?,s:b,s:o,s:{},s:o}", "id", p->id, "name",
                          p->name, "domain_id", p->domain_id, "description",
                          p->description ? p->description : "", "enabled", p->enabled,
                          "parent_id", p->parent_id, "is_domain", p->is_domain, "tags", tags,
                          "options", "links", idn_links(req, "projects/%s", p->id));
    if (!p->parent_id)
        json_object_set_new(o, "parent_id", json_null());
    idn_merge_extra(o, p->extra);
    return o;
}

void
idn_user_from_row(const struct db_res *r, int i, struct idn_user *u)
{
    u->id = db_val(r, i, 0);
    u->name = db_val(r, i, 1);
    u->domain_id = db_val(r, i, 2);
    u->default_project_id = db_val(r, i, 3);
    u->description = db_val(r, i, 4);
    u->email = db_val(r, i, 5);
    u->extra = db_val(r, i, 6);
    u->options = db_val(r, i, 7);
    u->enabled = db_bool(r, i, 8);
    u->failed_auth_count = (int)db_int(r, i, 9);
    u->failed_auth_at = db_int(r, i, 10);
    u->created_at = db_int(r, i, 11);
    u->password_expires_at = db_int(r, i, 12);
}

static int
user_query(struct http_req *req, const char *where, const char *a1, const char *a2,
           const char *id_for_404, struct idn_user *u)
{
    struct db *db = idn_db(req);
    struct db_res *r;
    if (!db)
        return -1;
    const char *sql = arena_printf(req->arena, "SELECT " IDN_USER_COLS " FROM users u WHERE %s",
                                   where);
    int rc = a2 ? db_exec(db, req->arena, &r, sql, "ss", a1, a2)
                : db_exec(db, req->arena, &r, sql, "s", a1);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "user");
    if (r->nrows == 0)
        return idn_not_found(req, "user", id_for_404);
    idn_user_from_row(r, 0, u);
    return 0;
}

int
idn_user_get(struct http_req *req, const char *id, struct idn_user *out)
{
    return user_query(req, "u.id = ?", id, NULL, id, out);
}

int
idn_user_by_name(struct http_req *req, const char *name, const char *domain_id,
                 struct idn_user *out)
{
    return user_query(req, "u.name = ? AND u.domain_id = ?", name, domain_id, name, out);
}

json_t *
idn_user_view(struct http_req *req, const struct idn_user *u)
{
    json_t *opts = idn_json_text(u->options);
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:n,s:o,s:o}", "id", u->id, "name", u->name,
                          "domain_id", u->domain_id, "enabled", u->enabled,
                          "password_expires_at", "options",
                          json_is_object(opts) ? opts : json_object(), "links",
                          idn_links(req, "users/%s", u->id));
    if (opts && !json_is_object(opts))
        json_decref(opts);
    if (u->password_expires_at) {
        char ts[40];
        /* Keystone renders this one without fractional seconds */
        time_iso(u->password_expires_at, ts, sizeof(ts));
        ts[19] = '\0';
        json_object_set_new(o, "password_expires_at", json_string(ts));
    }
    if (u->default_project_id)
        json_object_set_new(o, "default_project_id", json_string(u->default_project_id));
    if (u->description)
        json_object_set_new(o, "description", json_string(u->description));
    if (u->email)
        json_object_set_new(o, "email", json_string(u->email));
    idn_merge_extra(o, u->extra);
    return o;
}

void
idn_role_from_row(const struct db_res *r, int i, struct idn_role *out)
{
    out->id = db_val(r, i, 0);
    out->name = db_val(r, i, 1);
    out->domain_id = db_val(r, i, 2);
    /* global roles are stored under IDN_NULL_DOMAIN and shown as null */
    if (out->domain_id && !strcmp(out->domain_id, IDN_NULL_DOMAIN))
        out->domain_id = NULL;
    out->description = db_val(r, i, 3);
    out->options = db_val(r, i, 4);
}

int
idn_role_get(struct http_req *req, const char *id, struct idn_role *out)
{
    struct db *db = idn_db(req);
    struct db_res *r;
    if (!db)
        return -1;
    int rc = db_exec(db, req->arena, &r, "SELECT " IDN_ROLE_COLS " FROM role WHERE id = ?",
                     "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role");
    if (r->nrows == 0)
        return idn_not_found(req, "role", id);
    idn_role_from_row(r, 0, out);
    return 0;
}

json_t *
idn_role_view(struct http_req *req, const struct idn_role *r)
{
    json_t *opts = idn_json_text(r->options);
    json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:o,s:o}", "id", r->id, "name", r->name,
                          "domain_id", r->domain_id, "description", r->description,
                          "options", json_is_object(opts) ? opts : json_object(), "links",
                          idn_links(req, "roles/%s", r->id));
    if (opts && !json_is_object(opts))
        json_decref(opts);
    if (!r->domain_id)
        json_object_set_new(o, "domain_id", json_null());
    if (!r->description)
        json_object_set_new(o, "description", json_null());
    return o;
}
