/* api_creds.c - application credentials (/v3/users/{user_id}/
 * application_credentials) and credentials (/v3/credentials), as Keystone
 * (Zed) answers them.
 *
 * An application credential secret is shown once, in the create response;
 * only its bcrypt hash is stored (pw_hash), and token.c verifies it. Its
 * roles are a subset of the creating token's roles on the token's project.
 * Access rules are not supported: a non-empty list is refused rather than
 * silently widening what the credential can do. Credential blobs are kept
 * as given (Keystone encrypts them at rest with its credential keys). */
#include "identity.h"
#include "core/util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ACCOLS "id, name, description, user_id, project_id, expires_at, unrestricted"
#define CCOLS "id, user_id, project_id, type, blob, extra"

/* Keystone's text for a malformed request, appended to its own detail */
#define MALFORMED                                                                       \
    " The server could not comply with the request since it is either malformed or " \
    "otherwise incorrect. The client is assumed to be in error."

/* ---- application credentials ---- */

/* expires_at as Keystone prints it: naive UTC with microseconds
 * ("2030-01-02T03:04:05.000000"), or null. */
static json_t *
expires_json(int64_t us)
{
    char ts[40];
    if (!us)
        return json_null();
    time_iso(us, ts, sizeof(ts));
    ts[strcspn(ts, "Z")] = '\0';
    return json_string(ts);
}

/* The view of row i of an ACCOLS result, with its roles as Keystone lists
 * them (the role view without links). */
static json_t *
acview(struct http_req *req, struct db *db, const struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0);
    json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:s?,s:n,s:o,s:b}", "id", id, "name",
                          db_val(r, i, 1), "description", db_val(r, i, 2), "user_id",
                          db_val(r, i, 3), "project_id", db_val(r, i, 4), "system",
                          "expires_at", expires_json(db_int(r, i, 5)), "unrestricted",
                          db_bool(r, i, 6));
    json_t *roles = json_array();
    struct db_res *rr;
    if (db_exec(db, req->arena, &rr,
                "SELECT " IDN_ROLE_COLS " FROM role WHERE id IN (SELECT role_id FROM "
                "application_credential_role WHERE application_credential_id = ?) "
                "ORDER BY name", "s", id) == DB_OK)
        for (int k = 0; k < rr->nrows; k++) {
            struct idn_role role;
            idn_role_from_row(rr, k, &role);
            json_t *rv = idn_role_view(req, &role);
            json_object_del(rv, "links");
            json_array_append_new(roles, rv);
        }
    json_object_set_new(o, "roles", roles);
    json_object_set_new(o, "links", idn_links(req, "application_credentials/%s", id));
    return o;
}

/* An application-credential token may manage application credentials
 * only when its credential is unrestricted. 0 or -1 (403). */
static int
check_unrestricted(struct http_req *req, struct db *db)
{
    struct db_res *r;
    if (!req->auth.app_cred_id)
        return 0;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT unrestricted FROM application_credential WHERE id = ?", "s",
                     req->auth.app_cred_id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "application credential");
    if (r->nrows && db_bool(r, 0, 0))
        return 0;
    return req_fail(req, 403, "You are not authorized to perform the requested action: Using "
                    "method 'application_credential' is not allowed for managing additional "
                    "application credentials.");
}

int
idn_appcreds_list(struct http_req *req)
{
    const char *uid = http_param(req, "user_id"), *name = http_query(req, "name");
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:list_application_credentials",
                    &(struct policy_target){.user_id = uid}, &db) < 0)
        return -1;
    int rc = name ? db_exec(db, req->arena, &r,
                            "SELECT " ACCOLS " FROM application_credential WHERE user_id = ? "
                            "AND name = ? ORDER BY name", "ss", uid, name)
                  : db_exec(db, req->arena, &r,
                            "SELECT " ACCOLS " FROM application_credential WHERE user_id = ? "
                            "ORDER BY name", "s", uid);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "application credential");
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(a, acview(req, db, r, i));
    return idn_reply_list(req, "application_credentials", a);
}

/* Resolves the requested roles ([{"id"}|{"name"}], or the token's roles
 * when absent) into ids the caller holds in its token. Keystone refuses a
 * role the token does not carry, so a credential never widens access. */
static int
resolve_roles(struct http_req *req, struct db *db, json_t *roles, const char **ids, int *n)
{
    const struct auth_ctx *a = &req->auth;
    size_t i;
    json_t *it;
    *n = 0;
    if (!json_array_size(roles)) {
        for (int k = 0; k < a->nroles; k++)
            ids[(*n)++] = a->role_ids[k];
        return 0;
    }
    json_array_foreach(roles, i, it) {
        const char *field = arena_printf(req->arena, "roles/%zu", i), *id = NULL, *name = NULL;
        if (!json_is_object(it) || json_object_size(it) != 1)
            return jv_invalid(req, field, it, "is not valid: expected one of 'id' or 'name'");
        if (jv_str(req, it, "id", JV_NONEMPTY, 64, &id) < 0 ||
            jv_str(req, it, "name", JV_NONEMPTY, 255, &name) < 0)
            return -1;
        if (!id && !name)
            return req_fail(req, 400, "Invalid input for field '%s': Additional properties "
                            "are not allowed ('%s' was unexpected)", field,
                            json_object_iter_key(json_object_iter(it)));
        if (name) {
            struct db_res *r;
            int rc = db_exec(db, req->arena, &r,
                             "SELECT id FROM role WHERE name = ? AND domain_id = ?", "ss", name,
                             IDN_NULL_DOMAIN);
            if (rc != DB_OK)
                return idn_db_fail(req, rc, "role");
            if (!r->nrows)
                return req_fail(req, 404, "Role %s is not defined", name);
            id = db_val(r, 0, 0);
        }
        bool held = false, dup = false;
        for (int k = 0; k < a->nroles && !held; k++)
            held = !strcmp(a->role_ids[k], id);
        if (!held)
            return req_fail(req, 400, "Invalid application credential: Cannot create an "
                            "application credential with unassigned role");
        for (int k = 0; k < *n && !dup; k++)
            dup = !strcmp(ids[k], id);
        if (!dup && *n < AUTH_MAX_ROLES)
            ids[(*n)++] = id;
    }
    return 0;
}

int
idn_appcreds_create(struct http_req *req)
{
    const char *uid = http_param(req, "user_id");
    const struct auth_ctx *a = &req->auth;
    if (policy_enforce(req, "identity:create_application_credential",
                       &(struct policy_target){.user_id = uid}) < 0)
        return -1;
    json_t *b = jv_object(req, req->json, "application_credential");
    json_t *roles = NULL, *rules = NULL;
    const char *name = NULL, *desc = NULL, *secret = NULL, *exp_s = NULL;
    int unrestricted = 0;
    if (!b || jv_str(req, b, "name", JV_REQUIRED | JV_NONEMPTY, 255, &name) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &desc) < 0 ||
        jv_str(req, b, "secret", JV_NULLABLE, 0, &secret) < 0 ||
        jv_str(req, b, "expires_at", JV_NULLABLE, 0, &exp_s) < 0 ||
        jv_array(req, b, "roles", 0, &roles) < 0 ||
        jv_bool(req, b, "unrestricted", 0, &unrestricted) < 0 ||
        jv_array(req, b, "access_rules", 0, &rules) < 0)
        return -1;
    bool blank = true;
    for (const char *c = name; *c && blank; c++)
        blank = isspace((unsigned char)*c);
    if (blank)
        return jv_invalid(req, "name", json_object_get(b, "name"), "does not match '[\\\\S]+'");
    if (json_array_size(rules))
        return req_fail(req, 400, "Invalid application credential: access rules are not "
                        "supported by this cloud");
    struct db *db = idn_db(req);
    if (!db || check_unrestricted(req, db) < 0)
        return -1;
    if (!a->user_id || strcmp(a->user_id, uid))
        return req_fail(req, 403, "You are not authorized to perform the requested action: "
                        "Cannot create an application credential for another user.");
    /* the credential acts on the project the token is scoped to */
    if (!a->project_id)
        return req_fail(req, 400, "Invalid application credential: a project-scoped token "
                        "is required to create an application credential");
    const char *ids[AUTH_MAX_ROLES];
    int n;
    if (resolve_roles(req, db, roles, ids, &n) < 0)
        return -1;
    int64_t exp = 0;
    if (exp_s) {
        if (time_parse_iso(exp_s, &exp) < 0)
            return req_fail(req, 400, "Timestamp not in expected format." MALFORMED);
        if (exp < now_us())
            return req_fail(req, 400, "The 'expires_at' must not be before now." MALFORMED);
    }
    /* the user must still hold every role on the project (the token may
     * predate a revoked grant) */
    struct idn_role_ref *eff;
    int neff = idn_effective_roles(req, uid, IDN_SCOPE_PROJECT, a->project_id, &eff);
    if (neff < 0)
        return req->fail_status ? -1 : idn_db_fail(req, DB_ERR, "application credential");
    for (int i = 0; i < n; i++) {
        bool held = false;
        for (int k = 0; k < neff && !held; k++)
            held = !strcmp(eff[k].id, ids[i]);
        if (!held)
            return req_fail(req, 400, "Invalid application credential: Could not find role "
                            "assignment with role: %s, user or group: %s, project, domain, or "
                            "system: %s.", ids[i], uid, a->project_id);
    }
    if (!secret || !*secret) {
        unsigned char raw[64];
        char *enc = arena_alloc(req->arena, 4 * sizeof(raw) / 3 + 4);
        random_bytes(raw, sizeof(raw));
        b64url_encode(raw, sizeof(raw), enc);
        secret = enc;
    }
    char hash[128], id[33];
    if (pw_hash(secret, hash) < 0)
        return req_fail(req, 500, "An unexpected error prevented the server from fulfilling "
                        "your request.");
    uuid_hex(id);
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO application_credential (id, name, secret_hash, description, "
                     "user_id, project_id, expires_at, unrestricted, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "sssssssbi", id, name, hash, desc, uid, a->project_id,
                     exp ? arena_printf(req->arena, "%lld", (long long)exp) : NULL,
                     unrestricted, now_us());
    for (int i = 0; rc == DB_OK && i < n; i++)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO application_credential_role (application_credential_id, "
                     "role_id) VALUES (?, ?)", "ss", id, ids[i]);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        if (rc == DB_CONFLICT)
            return req_fail(req, 409, "Conflict occurred attempting to store "
                            "application_credential - Duplicate entry found with name %s.",
                            name);
        return idn_db_fail(req, rc, "application credential");
    }
    struct db_res *r;
    rc = db_exec(db, req->arena, &r, "SELECT " ACCOLS " FROM application_credential WHERE id = ?",
                 "s", id);
    if (rc != DB_OK || !r->nrows)
        return idn_db_fail(req, rc, "application credential");
    json_t *o = acview(req, db, r, 0);
    json_object_set_new(o, "secret", json_string(secret));
    return http_reply_json(req, 201, json_pack("{s:o}", "application_credential", o));
}

/* Loads {application_credential_id} and checks action against its owner
 * (not the user in the path, which a caller chooses: Keystone closes the
 * same hole). *r holds the row. */
static int
appcred_checked(struct http_req *req, struct db **dbp, const char *action, struct db_res **r)
{
    const char *id = http_param(req, "application_credential_id");
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int rc = db_exec(db, req->arena, r,
                     "SELECT " ACCOLS " FROM application_credential WHERE id = ?", "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "application credential");
    const char *owner = (*r)->nrows ? db_val(*r, 0, 3) : http_param(req, "user_id");
    if (policy_enforce(req, action, &(struct policy_target){.user_id = owner}) < 0)
        return -1;
    if (!(*r)->nrows)
        return req_fail(req, 404, "Could not find Application Credential: %s.", id);
    *dbp = db;
    return 0;
}

int
idn_appcreds_get(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (appcred_checked(req, &db, "identity:get_application_credential", &r) < 0)
        return -1;
    return http_reply_json(req, 200,
                           json_pack("{s:o}", "application_credential", acview(req, db, r, 0)));
}

int
idn_appcreds_delete(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (appcred_checked(req, &db, "identity:delete_application_credential", &r) < 0 ||
        check_unrestricted(req, db) < 0)
        return -1;
    /* roles go by ON DELETE CASCADE; tokens issued from it stop validating
     * because token.c re-reads the credential */
    int rc = db_exec(db, NULL, NULL, "DELETE FROM application_credential WHERE id = ?", "s",
                     db_val(r, 0, 0));
    return rc == DB_OK ? http_reply_empty(req, 204)
                       : idn_db_fail(req, rc, "application credential");
}

/* ---- credentials ---- */

static json_t *
cview(struct http_req *req, const struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0);
    json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:s,s:o}", "id", id, "user_id", db_val(r, i, 1),
                          "project_id", db_val(r, i, 2), "type", db_val(r, i, 3), "blob",
                          db_val(r, i, 4), "links", idn_links(req, "credentials/%s", id));
    idn_merge_extra(o, db_val(r, i, 5));
    return o;
}

/* Replies with the view of a credential just written, from its CCOLS
 * values (no need to read the row back). */
static int
cred_reply(struct http_req *req, int status, const char *cells[6])
{
    struct db_res one = {.nrows = 1, .ncols = 6, .cells = (char **)cells};
    return http_reply_json(req, status, json_pack("{s:o}", "credential", cview(req, &one, 0)));
}

/* Parses an ec2 blob: a JSON object with an "access" key. New reference,
 * or NULL with Keystone's 400 recorded. */
static json_t *
ec2_blob(struct http_req *req, const char *blob)
{
    json_t *b = json_loads(blob, JSON_DECODE_ANY, NULL);
    if (!b) {
        req_fail(req, 400, "Invalid blob in credential");
        return NULL;
    }
    const char *miss = !json_is_object(b) || !json_object_size(b) ? "blob"
                       : !json_is_string(json_object_get(b, "access")) ? "access"
                                                                        : NULL;
    if (miss) {
        json_decref(b);
        req_fail(req, 400, "Expecting to find %s in credential." MALFORMED, miss);
        return NULL;
    }
    return b;
}

/* hex(sha256(s)): the id of an ec2 credential, derived from its access
 * key as Keystone does so that ec2tokens can find it. out: 65 bytes. */
static void
sha256_hex(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    hex_encode(md, len, out);
}

/* Loads {credential_id} and checks action with its owner as target. */
static int
cred_checked(struct http_req *req, struct db **dbp, const char *action, struct db_res **r)
{
    const char *id = http_param(req, "credential_id");
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int rc = db_exec(db, req->arena, r, "SELECT " CCOLS " FROM credential WHERE id = ?", "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "credential");
    if (policy_enforce(req, action, &(struct policy_target){
                                        .user_id = (*r)->nrows ? db_val(*r, 0, 1) : NULL}) < 0)
        return -1;
    if (!(*r)->nrows)
        return idn_not_found(req, "credential", id);
    *dbp = db;
    return 0;
}

static const char *const cred_known[] = {"id", "blob", "type", "user_id", "project_id", "links",
                                         NULL};

int
idn_credentials_list(struct http_req *req)
{
    const char *uid = http_query(req, "user_id"), *type = http_query(req, "type");
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:list_credentials",
                    &(struct policy_target){.user_id = req->auth.user_id}, &db) < 0)
        return -1;
    /* NULL-safe filters without untyped parameters (PostgreSQL cannot type
     * "? IS NULL"): an absent filter compares a column with itself */
    int rc = db_exec(db, req->arena, &r,
                     uid && type ? "SELECT " CCOLS " FROM credential WHERE user_id = ? AND "
                                   "type = ? ORDER BY id"
                     : uid       ? "SELECT " CCOLS " FROM credential WHERE user_id = ? ORDER BY id"
                     : type      ? "SELECT " CCOLS " FROM credential WHERE type = ? ORDER BY id"
                                 : "SELECT " CCOLS " FROM credential ORDER BY id",
                     uid && type ? "ss" : uid || type ? "s" : "", uid ? uid : type, type);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "credential");
    /* everyone lists; each row shows only when the caller may read it */
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++)
        if (policy_check(req, "identity:get_credential",
                         &(struct policy_target){.user_id = db_val(r, i, 1)}))
            json_array_append_new(a, cview(req, r, i));
    return idn_reply_list(req, "credentials", a);
}

int
idn_credentials_create(struct http_req *req)
{
    json_t *b = jv_object(req, req->json, "credential");
    const char *blob = NULL, *type = NULL, *uid = NULL, *pid = NULL;
    if (!b)
        return -1;
    json_t *ju = json_object_get(b, "user_id");
    if (policy_enforce(req, "identity:create_credential",
                       &(struct policy_target){
                           .user_id = json_is_string(ju) ? json_string_value(ju) : NULL}) < 0)
        return -1;
    if (jv_str(req, b, "blob", JV_REQUIRED, 0, &blob) < 0 ||
        jv_str(req, b, "type", JV_REQUIRED, 255, &type) < 0 ||
        jv_str(req, b, "user_id", JV_REQUIRED, 64, &uid) < 0 ||
        jv_str(req, b, "project_id", !strcmp(type ? type : "", "ec2") ? JV_REQUIRED : 0, 64,
               &pid) < 0)
        return -1;
    char id[65];
    if (!strcasecmp(type, "ec2")) {
        json_t *j = ec2_blob(req, blob);
        if (!j)
            return -1;
        sha256_hex(json_string_value(json_object_get(j, "access")), id);
        /* an ec2 credential made with an application credential's token
         * yields tokens limited the same way at ec2tokens */
        if (req->auth.app_cred_id) {
            json_object_set_new(j, "app_cred_id", json_string(req->auth.app_cred_id));
            char *s = json_dumps(j, 0);
            blob = arena_strdup(req->arena, s);
            free(s);
        }
        json_decref(j);
    } else {
        uuid_hex(id);
    }
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    const char *extra = idn_extra_of(req, b, cred_known);
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO credential (id, user_id, project_id, type, blob, extra) "
                     "VALUES (?, ?, ?, ?, ?, ?)", "ssssss", id, uid, pid, type, blob, extra);
    if (rc == DB_CONFLICT)
        return req_fail(req, 409, "Conflict occurred attempting to store credential - "
                        "Duplicate entry found with ID %s.", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "credential");
    return cred_reply(req, 201, (const char *[]){id, uid, pid, type, blob, extra});
}

int
idn_credentials_get(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (cred_checked(req, &db, "identity:get_credential", &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "credential", cview(req, r, 0)));
}

/* PATCH: blob, project_id and user_id may change (the new owner must pass
 * the policy too); the type may not, nor may an ec2 blob's scope keys, so
 * a credential cannot be turned into something it was not created as. */
int
idn_credentials_update(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (cred_checked(req, &db, "identity:update_credential", &r) < 0)
        return -1;
    json_t *b = idn_patch_body(req, "credential", true);
    const char *id = db_val(r, 0, 0), *uid = db_val(r, 0, 1), *pid = db_val(r, 0, 2);
    const char *type = db_val(r, 0, 3), *blob = db_val(r, 0, 4), *nt = type;
    if (!b)
        return -1;
    if (jv_str(req, b, "blob", 0, 0, &blob) < 0 || jv_str(req, b, "type", 0, 255, &nt) < 0 ||
        jv_str(req, b, "user_id", 0, 64, &uid) < 0 ||
        jv_str(req, b, "project_id", JV_NULLABLE, 64, &pid) < 0)
        return -1;
    if (idn_same_id(req, b, id) < 0)
        return -1;
    if (strcmp(nt, type))
        return req_fail(req, 400, "type can not be updated for credential");
    if (!strcasecmp(type, "ec2") && json_object_get(b, "blob")) {
        static const char *const fixed[] = {"trust_id", "app_cred_id", "access_token_id",
                                            "access_id"};
        json_t *nb = ec2_blob(req, blob), *ob = json_loads(db_val(r, 0, 4), 0, NULL);
        const char *bad = NULL;
        for (size_t i = 0; nb && !bad && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
            json_t *x = json_object_get(ob, fixed[i]), *y = json_object_get(nb, fixed[i]);
            if ((x || y) && !(x && y && json_equal(x, y)))
                bad = fixed[i];
        }
        json_decref(ob);
        if (!nb)
            return -1;
        json_decref(nb);
        if (bad)
            return req_fail(req, 400, "%s can not be updated for credential", bad);
    }
    if (strcmp(uid, db_val(r, 0, 1)) &&
        policy_enforce(req, "identity:update_credential",
                       &(struct policy_target){.user_id = uid}) < 0)
        return -1;
    const char *extra = idn_extra_update(req, db_val(r, 0, 5), b, cred_known, 0);
    int rc = db_exec(db, NULL, NULL,
                     "UPDATE credential SET user_id = ?, project_id = ?, blob = ?, extra = ? "
                     "WHERE id = ?", "sssss", uid, pid, blob, extra, id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "credential");
    return cred_reply(req, 200, (const char *[]){id, uid, pid, type, blob, extra});
}

int
idn_credentials_delete(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (cred_checked(req, &db, "identity:delete_credential", &r) < 0)
        return -1;
    int rc = db_exec(db, NULL, NULL, "DELETE FROM credential WHERE id = ?", "s",
                     db_val(r, 0, 0));
    return rc == DB_OK ? http_reply_empty(req, 204) : idn_db_fail(req, rc, "credential");
}
