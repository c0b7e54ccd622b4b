/* api_users.c - /v3/users, the self-service password change and a user's
 * projects, as Keystone (Zed) answers them; groups and membership live in
 * api_groups.c.
 *
 * Passwords never leave this file in clear and never appear in a view:
 * password.c hashes (pw_set), checks the rules (pw_check_new) and verifies
 * (pw_verify). Anything that changes who a user is or what they may do
 * (disable, password reset, deletion; leaving a group, in api_groups.c)
 * records a revocation event so tokens issued before it stop working at
 * once. */
#include "identity.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <string.h>

/* ---- small helpers ---- */

/* o as compact JSON text with sorted keys (how options and extra are
 * stored for users), in the arena; NULL when o is not a non-empty object. */
static const char *
dump(struct http_req *req, json_t *o)
{
    if (!json_is_object(o) || !json_object_size(o))
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    const char *r = arena_strdup(req->arena, s);
    free(s);
    return r;
}

/* ---- users ---- */

/* No 404 is recorded, so that policy can be checked first. */
int
idn_user_find(struct http_req *req, struct db *db, const char *id, struct idn_user *u)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT " IDN_USER_COLS " FROM users u WHERE u.id = ?",
                     "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "user");
    if (r->nrows)
        idn_user_from_row(r, 0, u);
    return r->nrows > 0;
}

/* Loads {user_id}, checks action with the user as target, 404 after. */
int
idn_user_checked(struct http_req *req, struct db **dbp, const char *action, struct idn_user *u)
{
    const char *id = http_param(req, "user_id");
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int found = idn_user_find(req, db, id, u);
    if (found < 0 ||
        policy_enforce(req, action, &(struct policy_target){
                                        .user_id = id, .domain_id = found ? u->domain_id : NULL}) <
            0)
        return -1;
    if (!found)
        return idn_not_found(req, "user", id);
    *dbp = db;
    return 0;
}

/* Validates options against Keystone's user option registry and merges
 * them into the stored ones (null removes an option). *out: arena text. */
static int
merge_options(struct http_req *req, json_t *b, const char *old, const char **out)
{
    static const char *const bools[] = {
        "ignore_change_password_upon_first_use", "ignore_password_expiry",
        "ignore_lockout_failure_attempts", "lock_password", "ignore_user_inactivity",
        "multi_factor_auth_enabled", NULL};
    json_t *opts = NULL;
    if (jv_obj(req, b, "options", 0, &opts) < 0)
        return -1;
    *out = old;
    if (!opts)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(opts, k, v) {
        bool known = false;
        for (const char *const *p = bools; *p && !known; p++)
            known = !strcmp(*p, k);
        const char *field = arena_printf(req->arena, "options/%s", k);
        if (known) {
            if (!json_is_boolean(v) && !json_is_null(v))
                return jv_invalid(req, field, v, "is not of type 'boolean', 'null'");
        } else if (!strcmp(k, "multi_factor_auth_rules")) {
            /* a list of unique, non-empty lists of unique strings */
            size_t i, j, x;
            json_t *rule;
            if (!json_is_array(v) && !json_is_null(v))
                return jv_invalid(req, field, v, "is not of type 'array', 'null'");
            json_array_foreach(v, i, rule) {
                if (!json_is_array(rule) || !json_array_size(rule))
                    return jv_invalid(req, field, v, "is not a list of non-empty lists");
                for (j = 0; j < i; j++)
                    if (json_equal(rule, json_array_get(v, j)))
                        return jv_invalid(req, field, v, "has non-unique elements");
                for (j = 0; j < json_array_size(rule); j++) {
                    if (!json_is_string(json_array_get(rule, j)))
                        return jv_invalid(req, field, v, "is not a list of lists of strings");
                    for (x = 0; x < j; x++)
                        if (json_equal(json_array_get(rule, j), json_array_get(rule, x)))
                            return jv_invalid(req, field, v, "has non-unique elements");
                }
            }
        } else {
            return req_fail(req, 400, "Invalid input for field 'options': Additional "
                            "properties are not allowed ('%s' was unexpected)", k);
        }
    }
    json_t *cur = idn_json_text(old);
    if (!json_is_object(cur)) {
        json_decref(cur);
        cur = json_object();
    }
    json_object_foreach(opts, k, v) {
        if (json_is_null(v))
            json_object_del(cur, k);
        else
            json_object_set(cur, k, v);
    }
    *out = dump(req, cur);
    json_decref(cur);
    return 0;
}

/* default_project_id may not name a domain (a missing project is fine:
 * Keystone stays lenient there for backward compatibility). */
static int
check_default_project(struct http_req *req, struct db *db, const char *pid)
{
    struct db_res *r;
    if (!pid)
        return 0;
    int rc = db_exec(db, req->arena, &r, "SELECT 1 FROM project WHERE id = ? AND is_domain = 1",
                     "s", pid);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "user");
    if (r->nrows)
        return req_fail(req, 400, "User's default project ID cannot be a domain ID: %s", pid);
    return 0;
}

static int
user_conflict(struct http_req *req, int rc, const char *name, const char *domain_id)
{
    if (rc != DB_CONFLICT)
        return idn_db_fail(req, rc, "user");
    return req_fail(req, 409, "Conflict occurred attempting to store user - Duplicate entry "
                    "found with name %s at domain ID %s.", name, domain_id);
}

static const char *const user_known[] = {
    "id", "name", "domain_id", "default_project_id", "description", "enabled", "password",
    "options", "federated", "links", "password_expires_at", NULL};

/* email is a column when it is a string; anything else stays in extra */
static const char *
body_email(json_t *b)
{
    json_t *e = json_object_get(b, "email");
    return json_is_string(e) ? json_string_value(e) : NULL;
}

int
idn_users_reply(struct http_req *req, const struct db_res *r)
{
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct idn_user u;
        idn_user_from_row(r, i, &u);
        json_array_append_new(a, idn_user_view(req, &u));
    }
    return idn_reply_list(req, "users", a);
}

int
idn_users_list(struct http_req *req)
{
    const char *scope = req->auth.domain_id;
    struct db *db;
    struct db_query q = {0};
    struct db_res *r;
    if (idn_enforce(req, "identity:list_users", &(struct policy_target){.domain_id = scope},
                    &db) < 0)
        return -1;
    db_query_sql(&q, "SELECT " IDN_USER_COLS " FROM users u WHERE 1 = 1");
    db_query_eq(&q, "u.name", http_query(req, "name"));
    db_query_eq(&q, "u.domain_id", http_query(req, "domain_id"));
    db_query_eq(&q, "u.domain_id", scope);
    idn_filter_bool(req, &q, "u.enabled", "enabled");
    db_query_sql(&q, " ORDER BY u.name, u.id");
    if (idn_query_run(req, db, &q, "user", &r) < 0)
        return -1;
    return idn_users_reply(req, r);
}

int
idn_users_create(struct http_req *req)
{
    json_t *b = jv_object(req, req->json, "user"), *fed = NULL;
    const char *name = NULL, *dom = NULL, *dpid = NULL, *desc = NULL, *pw = NULL, *opts;
    int enabled = 1;
    if (!b || idn_get_name(req, b, JV_REQUIRED, 255, &name) < 0 ||
        idn_get_id(req, b, "domain_id", 0, &dom) < 0 ||
        idn_get_id(req, b, "default_project_id", JV_NULLABLE, &dpid) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &desc) < 0 ||
        jv_bool(req, b, "enabled", 0, &enabled) < 0 ||
        jv_str(req, b, "password", JV_NULLABLE, 4096, &pw) < 0 ||
        jv_array(req, b, "federated", 0, &fed) < 0 || merge_options(req, b, NULL, &opts) < 0)
        return -1;
    if (!dom)
        dom = idn_default_domain(req);
    if (policy_enforce(req, "identity:create_user", &(struct policy_target){.domain_id = dom}) <
        0)
        return -1;
    /* there are no identity providers here, so no federated object can
     * name an existing one */
    if (json_array_size(fed)) {
        json_t *idp = json_object_get(json_array_get(fed, 0), "idp_id");
        return req_fail(req, 400, "Could not find Identity Provider: %s",
                        json_is_string(idp) ? json_string_value(idp) : "");
    }
    struct db *db = idn_db(req);
    if (!db || idn_need_domain(req, db, dom) < 0 || check_default_project(req, db, dpid) < 0)
        return -1;
    /* the regex only: a new user has no history; hashing happens in pw_set */
    char hash[128];
    if (pw && (pw_check_new(req, db, NULL, pw, false) < 0 || pw_hash_req(req, pw, hash) < 0))
        return -1;
    char id[33];
    uuid_hex(id);
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO users (id, domain_id, name, enabled, default_project_id, "
                     "description, email, extra, options, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "sssbsssssi", id, dom, name, enabled, dpid, desc, body_email(b),
                     idn_extra_of(req, b, user_known), opts, now_us());
    if (rc != DB_OK) {
        db_rollback(db);
        return user_conflict(req, rc, name, dom);
    }
    if (pw && pw_set(req, db, id, hash, false) < 0) {
        db_rollback(db);
        return -1;
    }
    if ((rc = db_commit(db)) != DB_OK)
        return idn_db_fail(req, rc, "user");
    struct idn_user u;
    if (idn_user_get(req, id, &u) < 0)
        return -1;
    return http_reply_json(req, 201, json_pack("{s:o}", "user", idn_user_view(req, &u)));
}

int
idn_users_get(struct http_req *req)
{
    struct idn_user u;
    struct db *db;
    if (idn_user_checked(req, &db, "identity:get_user", &u) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "user", idn_user_view(req, &u)));
}

int
idn_users_update(struct http_req *req)
{
    struct idn_user u;
    struct db *db;
    if (idn_user_checked(req, &db, "identity:update_user", &u) < 0)
        return -1;
    json_t *b = idn_patch_body(req, "user", true), *jpw;
    if (!b)
        return -1;
    const char *name = u.name, *dom = u.domain_id, *dpid = u.default_project_id;
    const char *desc = u.description, *pw = NULL, *opts, *email = u.email;
    int enabled = u.enabled;
    if (idn_get_name(req, b, 0, 255, &name) < 0 || idn_get_id(req, b, "domain_id", 0, &dom) < 0 ||
        idn_get_id(req, b, "default_project_id", JV_NULLABLE, &dpid) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &desc) < 0 ||
        jv_bool(req, b, "enabled", 0, &enabled) < 0 ||
        jv_str(req, b, "password", JV_NULLABLE, 4096, &pw) < 0 ||
        merge_options(req, b, u.options, &opts) < 0)
        return -1;
    if (idn_same_id(req, b, u.id) < 0)
        return -1;
    if (strcmp(dom, u.domain_id))
        return req_fail(req, 400, "Cannot change Domain ID");
    if (json_object_get(b, "email"))
        email = body_email(b);
    if (json_object_get(b, "default_project_id") && check_default_project(req, db, dpid) < 0)
        return -1;
    jpw = json_object_get(b, "password");
    char hash[128];
    if (pw && (pw_check_new(req, db, NULL, pw, false) < 0 || pw_hash_req(req, pw, hash) < 0))
        return -1;
    /* known keys, plus email when it is a column value */
    const char *const known[] = {"id", "name", "domain_id", "default_project_id", "description",
                                 "enabled", "password", "options", "federated", "links",
                                 "password_expires_at", email ? "email" : "", NULL};
    const char *extra = idn_extra_update(req, u.extra, b, known, JSON_SORT_KEYS);
    bool revoke = (u.enabled && !enabled) || pw;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "UPDATE users SET name = ?, enabled = ?, default_project_id = ?, "
                     "description = ?, email = ?, extra = ?, options = ? WHERE id = ?",
                     "sbssssss", name, enabled, dpid, desc, email, extra, opts, u.id);
    /* enabling a user is how an administrator lifts a lockout (Keystone) */
    if (rc == DB_OK && enabled && json_is_true(json_object_get(b, "enabled")))
        rc = db_exec(db, NULL, NULL, "UPDATE users SET failed_auth_count = 0, "
                     "failed_auth_at = NULL WHERE id = ?", "s", u.id);
    /* an explicit null password removes it: the user can no longer log in
     * with one */
    if (rc == DB_OK && jpw && json_is_null(jpw))
        rc = db_exec(db, NULL, NULL, "DELETE FROM password WHERE user_id = ?", "s", u.id);
    if (rc == DB_OK && revoke)
        rc = idn_revoke(db, u.id, NULL, NULL, NULL);
    if (rc != DB_OK) {
        db_rollback(db);
        return user_conflict(req, rc, name, dom);
    }
    /* an administrator's reset: no history or minimum-age rules */
    if (pw && pw_set(req, db, u.id, hash, false) < 0) {
        db_rollback(db);
        return -1;
    }
    if ((rc = db_commit(db)) != DB_OK)
        return idn_db_fail(req, rc, "user");
    if (idn_user_get(req, u.id, &u) < 0)
        return -1;
    /* Keystone's update answer also carries its extra dict, where it keeps
     * description and email */
    json_t *o = idn_user_view(req, &u), *x = idn_json_text(u.extra);
    if (!json_is_object(x)) {
        json_decref(x);
        x = json_object();
    }
    if (u.description)
        json_object_set_new(x, "description", json_string(u.description));
    if (u.email)
        json_object_set_new(x, "email", json_string(u.email));
    json_object_set_new(o, "extra", x);
    return http_reply_json(req, 200, json_pack("{s:o}", "user", o));
}

/* Removes user id and what hangs off it, inside the caller's transaction
 * (memberships, passwords and application credentials cascade). */
static int
user_purge(struct db *db, const char *id)
{
    int rc = db_exec(db, NULL, NULL,
                     "DELETE FROM assignment WHERE actor_id = ? AND type IN ('UserProject', "
                     "'UserDomain', 'UserSystem')", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM credential WHERE user_id = ?", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM users WHERE id = ?", "s", id);
    if (rc == DB_OK)
        rc = idn_revoke(db, id, NULL, NULL, NULL);
    return rc;
}

int
idn_users_delete(struct http_req *req)
{
    struct idn_user u;
    struct db *db;
    if (idn_user_checked(req, &db, "identity:delete_user", &u) < 0)
        return -1;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = user_purge(db, u.id);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return idn_db_fail(req, rc, "user");
    }
    return http_reply_empty(req, 204);
}

/* POST /v3/users/{user_id}/password, no token needed (an expired password
 * must stay changeable): authenticate with original_password exactly as a
 * login does (lockout counted), check the new one against the compliance
 * rules, store it and revoke the user's tokens. */
int
idn_users_password(struct http_req *req)
{
    const char *id = http_param(req, "user_id"), *orig = NULL, *pw = NULL, *k;
    json_t *b = jv_object(req, req->json, "user"), *v;
    if (!b)
        return -1;
    json_object_foreach(b, k, v)
        if (strcmp(k, "password") && strcmp(k, "original_password"))
            return req_fail(req, 400, "Additional properties are not allowed ('%s' was "
                            "unexpected)", k);
    if (jv_str(req, b, "original_password", JV_REQUIRED, 4096, &orig) < 0 ||
        jv_str(req, b, "password", JV_REQUIRED, 4096, &pw) < 0)
        return -1;
    struct db *db = idn_db(req);
    struct idn_user u;
    if (!db)
        return -1;
    int found = idn_user_find(req, db, id, &u);
    if (found <= 0)
        return found < 0 ? -1 : req_fail(req, 401, IDN_GENERIC_401);
    if (pw_authenticate(req, db, &u, orig) < 0)
        return -1;
    if (idn_user_option(&u, "lock_password"))
        return req_fail(req, 400, "You cannot change your password at this time due to "
                        "password policy disallowing password changes. Please contact your "
                        "administrator to reset your password.");
    char hash[128];
    if (pw_check_new(req, db, u.id, pw, true) < 0 || pw_hash_req(req, pw, hash) < 0)
        return -1;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "password");
    if (pw_set(req, db, u.id, hash, true) < 0) {
        db_rollback(db);
        return -1;
    }
    if ((rc = idn_revoke(db, u.id, NULL, NULL, NULL)) == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return idn_db_fail(req, rc, "password");
    }
    return http_reply_empty(req, 204);
}

/* Projects the user holds any role on: directly or through a group, on the
 * project itself, or inherited from its domain or a parent project (an
 * inherited grant on X reaches every project below X, and top-level
 * projects have their domain as parent). */
#define USER_PROJECTS_SQL                                                              \
    "WITH RECURSIVE a AS (SELECT target_id, inherited FROM assignment WHERE "          \
    "(type IN ('UserProject', 'UserDomain') AND actor_id = ?) OR (type IN "            \
    "('GroupProject', 'GroupDomain') AND actor_id IN (SELECT group_id FROM "           \
    "user_group WHERE user_id = ?))), "                                                \
    "sub(id) AS (SELECT p.id FROM project p JOIN a ON p.parent_id = a.target_id AND "  \
    "a.inherited = 1 UNION SELECT p.id FROM project p JOIN sub ON p.parent_id = "      \
    "sub.id) "                                                                         \
    "SELECT " IDN_PROJECT_COLS " "                                                   \
    "FROM project WHERE is_domain = 0 AND (id IN (SELECT target_id FROM a WHERE "      \
    "inherited = 0) OR id IN (SELECT id FROM sub))"

int
idn_user_projects(struct http_req *req)
{
    struct idn_user u;
    struct db *db;
    struct db_res *r;
    struct db_query q = {0};
    if (idn_user_checked(req, &db, "identity:list_user_projects", &u) < 0)
        return -1;
    db_query_sql(&q, USER_PROJECTS_SQL);
    db_query_bind(&q, u.id);    /* the two '?' of USER_PROJECTS_SQL */
    db_query_bind(&q, u.id);
    db_query_eq(&q, "name", http_query(req, "name"));
    db_query_eq(&q, "domain_id", http_query(req, "domain_id"));
    idn_filter_bool(req, &q, "enabled", "enabled");
    db_query_sql(&q, " ORDER BY name, id");
    if (idn_query_run(req, db, &q, "user", &r) < 0)
        return -1;
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct idn_project p;
        idn_project_from_row(r, i, &p);
        json_array_append_new(a, idn_project_view(req, &p));
    }
    return idn_reply_list(req, "projects", a);
}
