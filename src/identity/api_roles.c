/* api_roles.c - /v3/roles, implied roles (/v3/roles/{prior}/implies,
 * /v3/role_inferences) and grants (/v3/{projects,domains}/{id} and
 * /v3/system × users|groups /roles), as Keystone (Zed) answers them.
 *
 * Global roles are stored with domain_id '<<null>>' (Keystone's
 * NULL_DOMAIN_ID) so that names are unique per domain on both engines.
 * Effective roles and GET /v3/role_assignments live in assign.c. Grants
 * need no revocation events: Fernet tokens carry no roles, the roles are
 * recomputed on validation, and every write bumps idn_revision() so the
 * token cache forgets what it knew. */
#include "identity.h"
#include "core/util.h"

#include <ctype.h>
#include <string.h>

/* ---- helpers ---- */

/* Looks role id up without failing the request: 1 found, 0 missing, -1 on
 * a database failure (recorded). Keystone enforces policy before it says
 * "not found", so the caller decides when the 404 is due. */
static int
role_find(struct http_req *req, struct db *db, const char *id, struct idn_role *out)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT " IDN_ROLE_COLS " FROM role WHERE id = ?", "s",
                     id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role");
    if (r->nrows == 0)
        return 0;
    idn_role_from_row(r, 0, out);
    return 1;
}

static bool
role_immutable(const struct idn_role *r)
{
    json_t *o = idn_json_text(r->options);
    bool imm = json_is_true(json_object_get(o, "immutable"));
    json_decref(o);
    return imm;
}

/* Policy for a role, domain-specific or not: Keystone checks the
 * *_domain_role action for the former, with the role's domain as target. */
static int
role_policy(struct http_req *req, const char *action, const char *domain_action,
            const struct idn_role *r)
{
    struct policy_target t = {.domain_id = r ? r->domain_id : NULL};
    return policy_enforce(req, r && r->domain_id ? domain_action : action, &t);
}

/* Fetches the role of path parameter "role_id" for a handler that enforces
 * action (domain_action for a domain-specific role) first: policy, then
 * 404, in Keystone's order. */
static int
role_checked(struct http_req *req, struct db **db, const char *action,
             const char *domain_action, struct idn_role *out)
{
    const char *id = http_param(req, "role_id");
    if (!(*db = idn_db(req)))
        return -1;
    int found = role_find(req, *db, id, out);
    if (found < 0)
        return -1;
    if (role_policy(req, action, domain_action, found ? out : NULL) < 0)
        return -1;
    return found ? 0 : idn_not_found(req, "role", id);
}

/* name: 1..255 characters with at least one that is not white space */
static int
role_name(struct http_req *req, json_t *b, unsigned flags, const char **out)
{
    if (jv_str(req, b, "name", flags | JV_NONEMPTY, 255, out) < 0)
        return -1;
    if (!*out)
        return 0;
    for (const char *p = *out; *p; p++)
        if (!isspace((unsigned char)*p))
            return 0;
    return jv_invalid(req, "name", json_object_get(b, "name"), "does not match '[\\\\S]+'");
}

/* Validates "options" (only "immutable": true|false|null is known) and
 * merges it into the stored JSON text cur; *out gets the new text (NULL
 * when no option is left). Absent options leave *out = cur. */
static int
role_options(struct http_req *req, json_t *b, const char *cur, const char **out)
{
    json_t *o = NULL;
    *out = cur;
    if (jv_obj(req, b, "options", 0, &o) < 0)
        return -1;
    if (!o)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strcmp(k, "immutable"))
            return req_fail(req, 400, "Invalid input for field 'options': Additional "
                                      "properties are not allowed ('%s' was unexpected)", k);
        if (!json_is_boolean(v) && !json_is_null(v))
            return jv_invalid(req, "immutable", v, "is not of type 'boolean', 'null'");
    }
    json_t *merged = idn_json_text(cur);
    if (!json_is_object(merged)) {
        json_decref(merged);
        merged = json_object();
    }
    v = json_object_get(o, "immutable");
    if (json_is_null(v))
        json_object_del(merged, "immutable");  /* null unsets the option */
    else if (v)
        json_object_set(merged, "immutable", v);
    *out = NULL;
    if (json_object_size(merged)) {
        char *s = json_dumps(merged, JSON_COMPACT);
        *out = arena_strdup(req->arena, s);
        free(s);
    }
    json_decref(merged);
    return 0;
}

/* Keystone's 409 for a role name taken in its domain */
static int
role_conflict(struct http_req *req, const char *name, const char *domain_id)
{
    if (domain_id)
        return req_fail(req, 409, "Conflict occurred attempting to store role - Duplicate "
                                  "entry found with name %s at domain ID %s.", name, domain_id);
    return req_fail(req, 409, "Conflict occurred attempting to store role - Duplicate entry "
                              "found with name %s.", name);
}

/* Answers a write of role x that ended with rc: the view with status, or
 * role_conflict() naming conflict_domain, or the database failure. */
static int
role_written(struct http_req *req, int rc, int status, const struct idn_role *x,
             const char *conflict_domain)
{
    if (rc == DB_CONFLICT)
        return role_conflict(req, x->name, conflict_domain);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role");
    return http_reply_json(req, status, json_pack("{s:o}", "role", idn_role_view(req, x)));
}

/* Replies 200 with the roles of r (rows of IDN_ROLE_COLS) as a collection. */
static int
roles_reply(struct http_req *req, const struct db_res *r)
{
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct idn_role x;
        idn_role_from_row(r, i, &x);
        json_array_append_new(arr, idn_role_view(req, &x));
    }
    return idn_reply_list(req, "roles", arr);
}

/* ---- /v3/roles ---- */

int
idn_roles_list(struct http_req *req)
{
    const char *dom = http_query(req, "domain_id");
    struct policy_target t = {.domain_id = dom};
    struct db *db;
    struct db_res *r;
    struct db_query q = {0};
    if (idn_enforce(req, dom ? "identity:list_domain_roles" : "identity:list_roles", &t,
                    &db) < 0)
        return -1;
    /* without a domain filter only global roles are listed (Keystone
     * adds the domain_id=None filter itself) */
    db_query_sql(&q, "SELECT " IDN_ROLE_COLS " FROM role WHERE domain_id = ");
    db_query_arg(&q, dom ? dom : IDN_NULL_DOMAIN);
    db_query_eq(&q, "name", http_query(req, "name"));
    db_query_sql(&q, " ORDER BY name, id");
    if (idn_query_run(req, db, &q, "role", &r) < 0)
        return -1;
    return roles_reply(req, r);
}

int
idn_roles_create(struct http_req *req)
{
    json_t *b = jv_object(req, req->json, "role");
    if (!b)
        return -1;
    struct idn_role x = {0};
    if (jv_str(req, b, "domain_id", JV_NULLABLE, 64, &x.domain_id) < 0)
        return -1;
    if (policy_enforce(req, x.domain_id ? "identity:create_domain_role" : "identity:create_role",
                       NULL) < 0)
        return -1;
    if (role_name(req, b, JV_REQUIRED, &x.name) < 0 ||
        jv_str(req, b, "description", 0, 0, &x.description) < 0 ||
        role_options(req, b, NULL, &x.options) < 0)
        return -1;
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    char id[33];
    uuid_hex(id);
    x.id = id;
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO role (id, name, domain_id, description, options) "
                     "VALUES (?, ?, ?, ?, ?)",
                     "sssss", id, x.name, x.domain_id ? x.domain_id : IDN_NULL_DOMAIN,
                     x.description, x.options);
    return role_written(req, rc, 201, &x, x.domain_id);
}

int
idn_roles_get(struct http_req *req)
{
    struct db *db;
    struct idn_role x;
    if (role_checked(req, &db, "identity:get_role", "identity:get_domain_role", &x) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "role", idn_role_view(req, &x)));
}

int
idn_roles_update(struct http_req *req)
{
    struct db *db;
    struct idn_role x;
    if (role_checked(req, &db, "identity:update_role", "identity:update_domain_role", &x) < 0)
        return -1;
    json_t *b = idn_patch_body(req, "role", false);
    if (!b)
        return -1;
    const char *name = NULL, *opts;
    if (role_name(req, b, 0, &name) < 0 ||
        jv_str(req, b, "description", 0, 0, &x.description) < 0 ||
        role_options(req, b, x.options, &opts) < 0)
        return -1;
    if (idn_same_id(req, b, x.id) < 0)
        return -1;
    if (role_immutable(&x)) {
        /* only "options": {"immutable": false|null} may touch it */
        json_t *o = json_object_get(b, "options");
        json_t *imm = json_object_get(o, "immutable");
        if (json_object_size(b) > 1 || !imm || json_is_true(imm))
            return req_fail(req, 403, "Unable to update immutable role resource: `%s. Set "
                                      "resource option \"immutable\" to false first.", x.id);
    }
    json_t *dv = json_object_get(b, "domain_id");
    if (dv) {
        const char *d = json_is_string(dv) ? json_string_value(dv) : NULL;
        bool same = json_is_null(dv) ? !x.domain_id
                                     : d && x.domain_id && !strcmp(d, x.domain_id);
        if (!same)
            return req_fail(req, 400, "Update of `domain_id` is not allowed.");
    }
    if (name)
        x.name = name;
    x.options = opts;
    int rc = db_exec(db, NULL, NULL,
                     "UPDATE role SET name = ?, description = ?, options = ? WHERE id = ?",
                     "ssss", x.name, x.description, x.options, x.id);
    return role_written(req, rc, 200, &x, dv ? x.domain_id : NULL);
}

int
idn_roles_delete(struct http_req *req)
{
    struct db *db;
    struct idn_role x;
    if (role_checked(req, &db, "identity:delete_role", "identity:delete_domain_role", &x) < 0)
        return -1;
    if (role_immutable(&x))
        return req_fail(req, 403, "Unable to delete immutable role resource: `%s. Set "
                                  "resource option \"immutable\" to false first.", x.id);
    /* the foreign keys cascade too; explicit deletes keep the rule visible
     * and do not depend on the engine's FK settings */
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM assignment WHERE role_id = ?", "s", x.id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "DELETE FROM implied_role WHERE prior_role_id = ? OR implied_role_id = ?",
                     "ss", x.id, x.id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM role WHERE id = ?", "s", x.id);
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "role");
    return http_reply_empty(req, 204);
}

/* ---- implied roles ---- */

/* {"id", "links", "name"} of a role in an inference rule */
static json_t *
ref_view(struct http_req *req, const char *id, const char *name)
{
    return json_pack("{s:s,s:o,s:s}", "id", id, "links", idn_links(req, "roles/%s", id), "name",
                     name);
}

/* The prior (and implied, when the route has it) role of an implies
 * route; Keystone looks both up (404) before it enforces policy. */
static int
implied_args(struct http_req *req, struct db **db, const char *action, struct idn_role *prior,
             struct idn_role *implied)
{
    const char *pid = http_param(req, "prior_role_id");
    const char *iid = http_param(req, "implied_role_id");
    if (!(*db = idn_db(req)))
        return -1;
    int f = role_find(req, *db, pid, prior);
    if (f <= 0)
        return f < 0 ? -1 : idn_not_found(req, "role", pid);
    if (iid && implied) {
        f = role_find(req, *db, iid, implied);
        if (f <= 0)
            return f < 0 ? -1 : idn_not_found(req, "role", iid);
    }
    return policy_enforce(req, action, NULL);
}

/* {"role_inference": {"prior_role": .., "implies": {..}}, "links"} */
static json_t *
inference_view(struct http_req *req, const struct idn_role *p, const struct idn_role *i)
{
    return json_pack("{s:{s:o,s:o},s:o}", "role_inference", "prior_role",
                     ref_view(req, p->id, p->name), "implies", ref_view(req, i->id, i->name),
                     "links", idn_links(req, "roles/%s/implies/%s", p->id, i->id));
}

int
idn_implied_list(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    struct idn_role p;
    if (implied_args(req, &db, "identity:list_implied_roles", &p, NULL) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT r.id, r.name FROM implied_role i JOIN role r ON "
                     "r.id = i.implied_role_id WHERE i.prior_role_id = ? ORDER BY r.name, r.id",
                     "s", p.id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "implied role");
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(arr, ref_view(req, db_val(r, i, 0), db_val(r, i, 1)));
    return http_reply_json(req, 200,
                           json_pack("{s:{s:o,s:o},s:o}", "role_inference", "prior_role",
                                     ref_view(req, p.id, p.name), "implies", arr, "links",
                                     idn_links(req, "roles/%s/implies", p.id)));
}

/* GET renders the rule; HEAD (served by this GET route) is Keystone's
 * check_implied_role and answers 204. */
int
idn_implied_get(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    struct idn_role p, i;
    bool head = req->method == HTTP_HEAD;
    if (implied_args(req, &db, head ? "identity:check_implied_role"
                                    : "identity:get_implied_role", &p, &i) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT 1 FROM implied_role WHERE prior_role_id = ? AND "
                     "implied_role_id = ?", "ss", p.id, i.id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "implied role");
    if (r->nrows == 0)
        return req_fail(req, 404, "%s does not imply %s.", p.id, i.id);
    if (head)
        return http_reply_empty(req, 204);
    return http_reply_json(req, 200, inference_view(req, &p, &i));
}

int
idn_implied_put(struct http_req *req)
{
    struct db *db;
    struct idn_role p, i;
    if (implied_args(req, &db, "identity:create_implied_role", &p, &i) < 0)
        return -1;
    /* [assignment] prohibited_implied_role defaults to admin: implying
     * admin would hand it out through any role. A global role must not
     * imply a domain-specific one, which would escape its domain. */
    if (!strcmp(i.name, "admin") || (!p.domain_id && i.domain_id))
        return req_fail(req, 403, "%s cannot be an implied roles.", i.id);
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO implied_role (prior_role_id, implied_role_id) VALUES (?, ?)",
                     "ss", p.id, i.id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "implied_role");
    return http_reply_json(req, 201, inference_view(req, &p, &i));
}

int
idn_implied_delete(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    struct idn_role p, i;
    if (implied_args(req, &db, "identity:delete_implied_role", &p, &i) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "DELETE FROM implied_role WHERE prior_role_id = ? AND implied_role_id = ? "
                     "RETURNING prior_role_id", "ss", p.id, i.id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "implied role");
    if (r->nrows == 0)
        return req_fail(req, 404, "%s does not imply %s.", p.id, i.id);
    return http_reply_empty(req, 204);
}

int
idn_role_inferences(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:list_role_inference_rules", NULL, &db) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT p.id, p.name, r.id, r.name FROM implied_role i "
                     "JOIN role p ON p.id = i.prior_role_id "
                     "JOIN role r ON r.id = i.implied_role_id ORDER BY p.name, p.id, r.name, r.id",
                     NULL);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "implied role");
    /* one entry per prior role, its implied roles grouped under it; the
     * rows come sorted by prior role so a group is a run of rows */
    json_t *arr = json_array(), *implies = NULL;
    for (int i = 0; i < r->nrows; i++) {
        if (i == 0 || strcmp(db_val(r, i, 0), db_val(r, i - 1, 0))) {
            implies = json_array();
            json_array_append_new(arr, json_pack("{s:o,s:o}", "prior_role",
                                                 ref_view(req, db_val(r, i, 0),
                                                          db_val(r, i, 1)),
                                                 "implies", implies));
        }
        json_array_append_new(implies, ref_view(req, db_val(r, i, 2), db_val(r, i, 3)));
    }
    /* Keystone's answer has no "links" here */
    return http_reply_json(req, 200, json_pack("{s:o}", "role_inferences", arr));
}

/* ---- grants ---- */

/* What a grant route names: an actor (user or group), a target (project,
 * domain or the system) and, on member routes, a role. */
struct grant {
    const char *actor, *target, *role_id;
    bool group;
    char kind;                  /* 'p', 'd' or 's' */
    const char *type;           /* assignment.type */
    const char *target_domain;  /* policy target: the domain concerned */
    struct idn_role role;
};

static void
grant_parse(struct http_req *req, struct grant *g)
{
    memset(g, 0, sizeof(*g));
    g->group = http_param(req, "group_id") != NULL;
    g->actor = http_param(req, g->group ? "group_id" : "user_id");
    g->role_id = http_param(req, "role_id");
    if (!strncmp(req->subpath, "/v3/system", 10)) {
        g->kind = 's';
        g->target = "system";
    } else if (http_param(req, "project_id")) {
        g->kind = 'p';
        g->target = http_param(req, "project_id");
    } else {
        g->kind = 'd';
        g->target = http_param(req, "domain_id");
    }
    static const char *const types[2][3] = {
        {"UserProject", "UserDomain", "UserSystem"},
        {"GroupProject", "GroupDomain", "GroupSystem"},
    };
    g->type = types[g->group][g->kind == 'p' ? 0 : g->kind == 'd' ? 1 : 2];
}

/* The policy action: Keystone names grant actions per target family
 * ("check" for the GET/HEAD of one grant). */
static const char *
grant_action(const struct grant *g, const char *verb)
{
    if (g->kind != 's')
        return !strcmp(verb, "create")   ? "identity:create_grant"
               : !strcmp(verb, "check")  ? "identity:check_grant"
               : !strcmp(verb, "revoke") ? "identity:revoke_grant"
                                         : "identity:list_grants";
    static const char *const sys[2][4] = {
        {"identity:create_system_grant_for_user", "identity:check_system_grant_for_user",
         "identity:revoke_system_grant_for_user", "identity:list_system_grants_for_user"},
        {"identity:create_system_grant_for_group", "identity:check_system_grant_for_group",
         "identity:revoke_system_grant_for_group", "identity:list_system_grants_for_group"},
    };
    int v = !strcmp(verb, "create") ? 0 : !strcmp(verb, "check") ? 1
            : !strcmp(verb, "revoke") ? 2 : 3;
    return sys[g->group][v];
}

/* Checks, in Keystone's order, that the role (member routes), the actor
 * (unless actor_may_be_gone: a revoke cleans up after deleted users) and
 * the target exist, then enforces the policy for verb. */
static int
grant_prepare(struct http_req *req, struct db **db, struct grant *g, const char *verb,
              bool actor_may_be_gone)
{
    struct db_res *r;
    grant_parse(req, g);
    if (!(*db = idn_db(req)))
        return -1;
    if (g->role_id) {
        int f = role_find(req, *db, g->role_id, &g->role);
        if (f <= 0)
            return f < 0 ? -1 : idn_not_found(req, "role", g->role_id);
    }
    int rc = db_exec(*db, req->arena, &r,
                     g->group ? "SELECT domain_id FROM groups WHERE id = ?"
                              : "SELECT domain_id FROM users WHERE id = ?", "s", g->actor);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role assignment");
    if (r->nrows == 0 && !actor_may_be_gone)
        return idn_not_found(req, g->group ? "group" : "user", g->actor);
    const char *actor_domain = db_val(r, 0, 0);
    if (g->kind != 's') {
        struct idn_project p;
        if (idn_project_get(req, g->target, g->kind == 'd', &p) < 0)
            return -1;
        g->target_domain = g->kind == 'd' ? p.id : p.domain_id;
    }
    struct policy_target t = {
        .project_id = g->kind == 'p' ? g->target : NULL,
        .domain_id = g->target_domain,
    };
    const char *action = grant_action(g, verb);
    if (policy_enforce(req, action, &t) < 0)
        return -1;
    /* Keystone's domain-scoped grant rules also want the user or group in
     * the caller's domain; a policy target holds one domain, so that half
     * is checked here. Admins passed on role:admin already. */
    const struct auth_ctx *a = &req->auth;
    if (a->domain_id && !auth_has_role(a, "admin") && actor_domain &&
        strcmp(actor_domain, a->domain_id))
        return req_fail(req, 403, "You are not authorized to perform the requested action: "
                                  "%s.", action);
    return 0;
}

static int
assignment_not_found(struct http_req *req, const struct grant *g)
{
    return req_fail(req, 404, "Could not find role assignment with role: %s, user or group: "
                              "%s, project, domain, or system: %s.",
                    g->role_id, g->actor, g->target);
}

int
idn_grant_put(struct http_req *req)
{
    struct db *db;
    struct grant g;
    if (grant_prepare(req, &db, &g, "create", false) < 0)
        return -1;
    /* a domain-specific role only makes sense inside its domain, and the
     * system belongs to no domain */
    if (g.role.domain_id && g.kind == 'p' && strcmp(g.role.domain_id, g.target_domain))
        return req_fail(req, 403, "Project %s must be in the same domain as the role %s "
                                  "being assigned.", g.target, g.role_id);
    if (g.role.domain_id && g.kind == 's')
        return req_fail(req, 400, "Role %s is a domain-specific role. Unable to use a "
                                  "domain-specific role in a system assignment.", g.role_id);
    /* granting twice is not an error */
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO assignment (type, actor_id, target_id, role_id, inherited) "
                     "VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                     "ssss", g.type, g.actor, g.target, g.role_id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role assignment");
    return http_reply_empty(req, 204);
}

/* One grant of a member route, for verb (see grant_prepare): sql takes
 * type, actor, target and role and returns a row when the grant was there
 * (SELECT, or DELETE ... RETURNING). 204, or 404 when no row came back. */
static int
grant_one(struct http_req *req, const char *verb, bool actor_may_be_gone, const char *sql)
{
    struct db *db;
    struct db_res *r;
    struct grant g;
    if (grant_prepare(req, &db, &g, verb, actor_may_be_gone) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r, sql, "ssss", g.type, g.actor, g.target, g.role_id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role assignment");
    if (r->nrows == 0)
        return assignment_not_found(req, &g);
    return http_reply_empty(req, 204);
}

/* GET and HEAD of one grant: 204 when it exists */
int
idn_grant_check(struct http_req *req)
{
    return grant_one(req, "check", false,
                     "SELECT 1 FROM assignment WHERE type = ? AND actor_id = ? AND "
                     "target_id = ? AND role_id = ? AND inherited = 0");
}

int
idn_grant_delete(struct http_req *req)
{
    return grant_one(req, "revoke", true,
                     "DELETE FROM assignment WHERE type = ? AND actor_id = ? AND "
                     "target_id = ? AND role_id = ? AND inherited = 0 RETURNING role_id");
}

int
idn_grants_list(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    struct grant g;
    if (grant_prepare(req, &db, &g, "list", false) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT " IDN_ROLE_COLS " FROM role WHERE id IN (SELECT role_id FROM "
                     "assignment WHERE type = ? AND actor_id = ? AND target_id = ? AND "
                     "inherited = 0) ORDER BY name, id",
                     "sss", g.type, g.actor, g.target);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role assignment");
    return roles_reply(req, r);
}
