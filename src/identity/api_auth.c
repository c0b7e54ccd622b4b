/* api_auth.c - the /v3/auth API: issuing tokens (password, token and
 * application_credential methods; unscoped, project, domain and system
 * scope), validating and revoking them, and the token-scoped listings
 * (/auth/catalog, /auth/projects, /auth/domains, /auth/system). */
#include "token.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

/* ---- identity methods ---- */

/* Resolves {"id"} or {"name", "domain": {"id"|"name"}} to a user. */
static int
find_user(struct http_req *req, json_t *user, struct idn_user *u)
{
    const char *id = NULL, *name = NULL, *did = NULL, *dname = NULL;
    json_t *dom = NULL;
    if (jv_str(req, user, "id", 0, 64, &id) < 0 || jv_str(req, user, "name", 0, 255, &name) < 0 ||
        jv_obj(req, user, "domain", 0, &dom) < 0)
        return -1;
    if (id) {
        if (idn_user_get(req, id, u) < 0)
            goto unauth;
        return 0;
    }
    if (!name)
        return req_fail(req, 400, "Expecting to find id or name in user - the server could "
                        "not comply with the request since it is either malformed or "
                        "otherwise incorrect. The client is assumed to be in error.");
    if (!dom)
        return req_fail(req, 400, "Expecting to find domain in user - the server could "
                        "not comply with the request since it is either malformed or "
                        "otherwise incorrect. The client is assumed to be in error.");
    if (jv_str(req, dom, "id", 0, 64, &did) < 0 || jv_str(req, dom, "name", 0, 255, &dname) < 0)
        return -1;
    if (!did && !dname)
        return req_fail(req, 400, "Expecting to find id or name in domain - the server "
                        "could not comply with the request since it is either malformed "
                        "or otherwise incorrect. The client is assumed to be in error.");
    if (!did) {
        struct idn_project d;
        if (idn_domain_by_name(req, dname, &d) < 0)
            goto unauth;
        did = d.id;
    }
    if (idn_user_by_name(req, name, did, u) < 0)
        goto unauth;
    return 0;
unauth:
    if (req->fail_status == 404) {
        req->fail_status = 0;
        return req_fail(req, 401, IDN_GENERIC_401);
    }
    return -1;
}

static int
method_password(struct http_req *req, json_t *m, struct tok *t, const char **default_project)
{
    json_t *user;
    const char *pw = NULL;
    struct idn_user u;
    /* the whole request is validated before anyone is looked up: a malformed
     * one is a 400 whether or not the user exists */
    if (jv_obj(req, m, "user", JV_REQUIRED, &user) < 0 ||
        jv_str(req, user, "password", JV_REQUIRED, 4096, &pw) < 0 || find_user(req, user, &u) < 0)
        return -1;
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    if (pw_authenticate(req, db, &u, pw) < 0)
        return -1;
    if (u.password_expires_at && u.password_expires_at <= now_us() &&
        !idn_user_option(&u, "ignore_password_expiry")) {
        log_info(req->request_id, "auth: the password of user %s is expired", u.id);
        return req_fail(req, 401, IDN_GENERIC_401);
    }
    t->ctx.user_id = u.id;
    *default_project = u.default_project_id;
    return 0;
}

static int
method_token(struct http_req *req, json_t *m, struct tok *t, const struct tok **parent)
{
    const char *id = NULL;
    if (jv_str(req, m, "id", JV_REQUIRED, 1024, &id) < 0)
        return -1;
    if (tok_validate(req, id, parent) < 0)
        return req->fail_status ? -1 : req_fail(req, 404, "Could not find token: %s.", id);
    t->ctx.user_id = (*parent)->ctx.user_id;
    return 0;
}

static int
method_appcred(struct http_req *req, json_t *m, struct tok *t)
{
    const char *id = NULL, *name = NULL, *secret = NULL;
    json_t *user = NULL;
    if (jv_str(req, m, "id", 0, 64, &id) < 0 || jv_str(req, m, "name", 0, 255, &name) < 0 ||
        jv_str(req, m, "secret", JV_REQUIRED, 4096, &secret) < 0 ||
        jv_obj(req, m, "user", 0, &user) < 0)
        return -1;
    struct db *db = idn_db(req);
    struct db_res *r;
    int rc;
    if (!db)
        return -1;
    if (id) {
        rc = db_exec(db, req->arena, &r,
                     "SELECT id, user_id, secret_hash, project_id, expires_at FROM "
                     "application_credential WHERE id = ?", "s", id);
    } else if (name && user) {
        struct idn_user u;
        if (find_user(req, user, &u) < 0)
            return -1;
        rc = db_exec(db, req->arena, &r,
                     "SELECT id, user_id, secret_hash, project_id, expires_at FROM "
                     "application_credential WHERE name = ? AND user_id = ?", "ss", name, u.id);
    } else {
        return req_fail(req, 400, "Expecting to find id or name and user in "
                        "application_credential - the server could not comply with the "
                        "request since it is either malformed or otherwise incorrect. The "
                        "client is assumed to be in error.");
    }
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "application credential");
    if (r->nrows == 0)
        return req_fail(req, 404, "Could not find Application Credential: %s.", id ? id : name);
    int64_t exp = db_int(r, 0, 4);
    if (!pw_verify(secret, db_val(r, 0, 2)) || (exp && exp <= now_us()))
        return req_fail(req, 401, IDN_GENERIC_401);
    t->ctx.user_id = db_val(r, 0, 1);
    t->ctx.app_cred_id = db_val(r, 0, 0);
    t->scope = IDN_SCOPE_PROJECT;
    t->scope_id = db_val(r, 0, 3);
    if (exp && exp < t->ctx.expires_us)
        t->ctx.expires_us = exp;
    return 0;
}

/* ---- scope ---- */

static int
scope_domain_id(struct http_req *req, json_t *dom, const char **out)
{
    const char *id = NULL, *name = NULL;
    if (jv_str(req, dom, "id", 0, 64, &id) < 0 || jv_str(req, dom, "name", 0, 255, &name) < 0)
        return -1;
    if (id) {
        *out = id;
        return 0;
    }
    struct idn_project d;
    if (!name || idn_domain_by_name(req, name, &d) < 0) {
        req->fail_status = 0;
        return req_fail(req, 401, IDN_GENERIC_401);
    }
    *out = d.id;
    return 0;
}

/* Reads the "scope" member (which must be present) into t. */
static int
parse_scope(struct http_req *req, json_t *auth, struct tok *t)
{
    json_t *scope = json_object_get(auth, "scope");
    t->scope_id = NULL;
    if (json_is_string(scope) && !strcmp(json_string_value(scope), "unscoped")) {
        t->scope = IDN_SCOPE_NONE;
        return 0;
    }
    if (!json_is_object(scope))
        return jv_invalid(req, "scope", scope, "is not of type 'object', 'string'");
    json_t *p = NULL, *d = NULL, *s = NULL;
    if (jv_obj(req, scope, "project", 0, &p) < 0 || jv_obj(req, scope, "domain", 0, &d) < 0 ||
        jv_obj(req, scope, "system", 0, &s) < 0)
        return -1;
    if (!!p + !!d + !!s != 1)
        return req_fail(req, 400, "Specify one of project, domain or system as scope.");
    if (s) {
        if (!json_is_true(json_object_get(s, "all")))
            return jv_invalid(req, "scope.system.all", json_object_get(s, "all"),
                              "is not True");
        t->scope = IDN_SCOPE_SYSTEM;
        return 0;
    }
    if (d) {
        t->scope = IDN_SCOPE_DOMAIN;
        return scope_domain_id(req, d, &t->scope_id);
    }
    t->scope = IDN_SCOPE_PROJECT;
    const char *id = NULL, *name = NULL;
    json_t *pd = NULL;
    if (jv_str(req, p, "id", 0, 64, &id) < 0 || jv_str(req, p, "name", 0, 255, &name) < 0 ||
        jv_obj(req, p, "domain", 0, &pd) < 0)
        return -1;
    if (id) {
        t->scope_id = id;
        return 0;
    }
    const char *did;
    if (!name || !pd)
        return req_fail(req, 400, "Expecting to find id or name and domain in project.");
    if (scope_domain_id(req, pd, &did) < 0)
        return -1;
    struct db_res *r;
    struct db *db = idn_db(req);
    if (!db || db_exec(db, req->arena, &r,
                       "SELECT id FROM project WHERE name = ? AND domain_id = ? AND "
                       "is_domain = 0", "ss", name, did) != DB_OK)
        return -1;
    if (r->nrows == 0)
        return req_fail(req, 401, IDN_GENERIC_401);
    t->scope_id = db_val(r, 0, 0);
    return 0;
}

static const char *
new_audit_id(struct http_req *req)
{
    unsigned char raw[16];
    char *s = arena_alloc(req->arena, 24);
    random_bytes(raw, sizeof(raw));
    b64url_encode(raw, sizeof(raw), s);
    return s;
}

static bool
want_catalog(struct http_req *req)
{
    return !http_query(req, "nocatalog");
}

int
idn_auth_tokens_post(struct http_req *req)
{
    json_t *auth = jv_object(req, req->json, "auth"), *ident, *methods;
    if (!auth || !(ident = jv_object(req, auth, "identity")) ||
        jv_array(req, ident, "methods", JV_REQUIRED, &methods) < 0)
        return -1;
    if (json_array_size(methods) == 0)
        return req_fail(req, 401, IDN_GENERIC_401);     /* no method, no identity */
    struct tok t;
    memset(&t, 0, sizeof(t));
    int64_t now = now_us();
    t.ctx.issued_us = now;
    t.ctx.expires_us = now + cfg_int("token", "expiration", 3600) * 1000000;
    const struct tok *parent = NULL;
    const char *user = NULL, *default_project = NULL;
    bool has_scope = json_object_get(auth, "scope") != NULL;
    /* a malformed scope is a 400 before any credential is checked */
    if (has_scope && parse_scope(req, auth, &t) < 0)
        return -1;
    size_t i;
    json_t *mv;
    json_array_foreach(methods, i, mv) {
        const char *m = json_string_value(mv);
        json_t *body;
        int rc;
        if (!m)
            return jv_invalid(req, "identity.methods", mv, "is not of type 'string'");
        if (strcmp(m, "password") && strcmp(m, "token") && strcmp(m, "application_credential"))
            return req_fail(req, 401, "Attempted to authenticate with an unsupported method.");
        if (jv_obj(req, ident, m, JV_REQUIRED, &body) < 0)
            return -1;
        if (!strcmp(m, "password")) {
            t.methods |= TOK_PASSWORD;
            rc = method_password(req, body, &t, &default_project);
        } else if (!strcmp(m, "token")) {
            t.methods |= TOK_TOKEN;
            rc = method_token(req, body, &t, &parent);
        } else {
            t.methods |= TOK_APPCRED;
            rc = method_appcred(req, body, &t);
        }
        if (rc < 0)
            return -1;
        /* every method must name the same user */
        if (user && strcmp(user, t.ctx.user_id))
            return req_fail(req, 401, IDN_GENERIC_401);
        user = t.ctx.user_id;
    }
    if (t.ctx.app_cred_id) {
        if (has_scope)
            return req_fail(req, 401, "Application credentials cannot request a scope.");
    } else if (parent && !has_scope) {
        /* re-auth with a token and no scope keeps the token's scope */
        t.scope = parent->scope;
        t.scope_id = parent->scope_id;
    } else if (!has_scope) {
        /* the user's default project, when it is usable, else unscoped */
        t.scope = default_project ? IDN_SCOPE_PROJECT : IDN_SCOPE_NONE;
        t.scope_id = default_project;
    }
    if (parent) {
        if (parent->ctx.app_cred_id)
            return req_fail(req, 403, "Application credential tokens cannot be rescoped.");
        t.methods |= parent->methods;
        t.ctx.expires_us = parent->ctx.expires_us;
        t.parent_audit = parent->ctx.audit_id;
    }
    t.ctx.audit_id = new_audit_id(req);

    bool default_scope = !has_scope && t.scope == IDN_SCOPE_PROJECT && !parent &&
                         !t.ctx.app_cred_id;
    struct tok unresolved = t;
    if (tok_resolve(req, req->arena, &t) < 0) {
        if (!default_scope || req->fail_status >= 500)
            return -1;
        /* an unusable default project gives an unscoped token, as Keystone */
        req->fail_status = 0;
        t = unresolved;
        t.scope = IDN_SCOPE_NONE;
        t.scope_id = NULL;
        if (tok_resolve(req, req->arena, &t) < 0)
            return -1;
    }
    char *token = tok_encode(&t);
    if (!token)
        return req_fail(req, 500, "token encryption failed");
    http_header(req, "X-Subject-Token", token);
    free(token);
    return http_reply_json(req, 201, tok_view(req, &t, want_catalog(req)));
}

/* Validates X-Subject-Token for the caller; 0 and *out, or -1 recorded. */
static int
subject(struct http_req *req, const char *action, const struct tok **out)
{
    const char *st = http_header_in(req, "X-Subject-Token");
    if (!st || !*st)
        return req_fail(req, 404, "Could not find token: .");
    if (tok_validate(req, st, out) < 0)
        return req->fail_status ? -1 : req_fail(req, 404, "Could not find token: %s.", st);
    struct policy_target tg = {.user_id = (*out)->ctx.user_id};
    if (policy_enforce(req, action, &tg) < 0)
        return -1;
    http_header(req, "X-Subject-Token", st);
    return 0;
}

int
idn_auth_tokens_get(struct http_req *req)
{
    const struct tok *t;
    if (subject(req, "identity:validate_token", &t) < 0)
        return -1;
    const char *body = tok_body(req, t, want_catalog(req));
    if (!body)
        return -1;
    return http_reply_raw(req, 200, "application/json", body, strlen(body));
}

int
idn_auth_tokens_head(struct http_req *req)
{
    const struct tok *t;
    if (subject(req, "identity:check_token", &t) < 0)
        return -1;
    return http_reply_empty(req, 200);
}

int
idn_auth_tokens_delete(struct http_req *req)
{
    const struct tok *t;
    if (subject(req, "identity:revoke_token", &t) < 0)
        return -1;
    /* both tokens may have come from the validation cache: no connection
     * taken yet, and the database may be out of reach */
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int rc = idn_revoke(db, NULL, NULL, NULL, t->ctx.audit_id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "revocation event");
    return http_reply_empty(req, 204);
}

int
idn_auth_catalog(struct http_req *req)
{
    if (policy_enforce(req, "identity:get_auth_catalog", NULL) < 0)
        return -1;
    if (!req->auth.project_id && !req->auth.domain_id && !req->auth.system)
        return req_fail(req, 403, "A project-scoped token is required to produce a service "
                        "catalog.");
    json_t *cat = idn_catalog(req);
    if (!cat)
        return -1;
    return idn_reply_list(req, "catalog", cat);
}

/* Projects (or domains) the caller holds a role on, directly or through a
 * group; disabled ones are listed too, marked so (as Keystone does). */
static int
scoped_list(struct http_req *req, bool domains)
{
    struct db *db = idn_db(req);
    struct db_res *r;
    if (!db)
        return -1;
    const char *uid = req->auth.user_id;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT " IDN_PROJECT_COLS " FROM project WHERE is_domain = ? AND id IN ("
                     "SELECT target_id FROM assignment WHERE (type = ? AND actor_id = ?) OR "
                     "(type = ? AND actor_id IN (SELECT group_id FROM user_group WHERE "
                     "user_id = ?))) ORDER BY name",
                     "bssss", domains, domains ? "UserDomain" : "UserProject", uid,
                     domains ? "GroupDomain" : "GroupProject", uid);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "project");
    json_t *list = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct idn_project p;
        idn_project_from_row(r, i, &p);
        json_array_append_new(list, domains ? idn_domain_view(req, &p)
                                            : idn_project_view(req, &p));
    }
    return idn_reply_list(req, domains ? "domains" : "projects", list);
}

int
idn_auth_projects(struct http_req *req)
{
    if (policy_enforce(req, "identity:get_auth_projects", NULL) < 0)
        return -1;
    return scoped_list(req, false);
}

int
idn_auth_domains(struct http_req *req)
{
    if (policy_enforce(req, "identity:get_auth_domains", NULL) < 0)
        return -1;
    return scoped_list(req, true);
}

int
idn_auth_system(struct http_req *req)
{
    if (policy_enforce(req, "identity:get_auth_system", NULL) < 0)
        return -1;
    struct idn_role_ref *roles;
    int n = idn_effective_roles(req, req->auth.user_id, IDN_SCOPE_SYSTEM, "system", &roles);
    if (n < 0)
        return -1;
    json_t *sys = n > 0 ? json_pack("[{s:b}]", "all", 1) : json_array();
    return idn_reply_list(req, "system", sys);
}
