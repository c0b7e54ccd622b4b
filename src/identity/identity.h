/* identity.h - Keystone v3 inside onestack: what the identity files share.
 *
 * Files: api.c (route table, version documents, faults, shared helpers and
 * lookups), common.c (validation and list helpers several resources share),
 * token.c (auth and token API), fernet.c (token crypto and key repository),
 * password.c (bcrypt worker pool, security compliance), assign.c (effective
 * roles), bootstrap.c (init), and one api_*.c per resource family. Every
 * handler parses and validates, checks policy, runs SQL through
 * core/db.h, renders. No other service includes this header: they use
 * core/auth.h (req->auth) and core/policy.h. */
#ifndef IDENTITY_IDENTITY_H
#define IDENTITY_IDENTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/http.h"
#include "core/jv.h"
#include "core/policy.h"

#define IDN_DEFAULT_DOMAIN "default"
#define IDN_ROOT_DOMAIN "<<keystone.domain.root>>"
#define IDN_NULL_DOMAIN "<<null>>"

extern const struct db_migration idn_migrations[];
extern const int idn_nmigrations;

/* ---- service setup (api.c) ---- */

/* Registers the identity routes, policy table and token validator, loads
 * the Fernet keys from data_dir/fernet-keys. Returns 0 or -1. */
int idn_service_init(const char *data_dir);
/* Creates the default domain, roles, admin user/project and the catalog
 * entries for public_url (e.g. "http://127.0.0.1:8000") when missing.
 * admin_pw may be NULL when the admin user already exists. Idempotent. */
int idn_bootstrap(struct db *db, const char *admin_pw, const char *public_url,
                  const char *region);

/* Global revision of identity data: bumped after every successful write so
 * caches (validated tokens, catalog) know when they are stale. */
uint64_t idn_revision(void);
void idn_bump(void);

/* ---- helpers for handlers (api.c) ---- */

/* "http://host:port/identity" as the client reached us (Host header). */
const char *idn_base_url(struct http_req *req);
/* {"self": "<base>/v3/<path>"} */
json_t *idn_links(struct http_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Collection links: {"self": <request url>, "previous": null, "next": null} */
json_t *idn_list_links(struct http_req *req);
/* Maps a DB_* code to the Keystone fault: DB_CONFLICT -> 409 "Conflict
 * occurred attempting to store <what> - Duplicate entry.", DB_FK -> 400,
 * else 500. Returns -1. */
int idn_db_fail(struct http_req *req, int rc, const char *what);
/* Keystone's answer to every failed authentication (unknown user, wrong
 * password, locked or disabled account alike): the details of security
 * errors are never shown, the reason goes to the log. */
#define IDN_GENERIC_401 "The request you have made requires authentication."
/* 404 "Could not find <kind>: <id>." Returns -1. */
int idn_not_found(struct http_req *req, const char *kind, const char *id);
/* req_db() or a 503; NULL when the database is unreachable. */
struct db *idn_db(struct http_req *req);
/* Parses an optional JSON text column into a new reference (or NULL). */
json_t *idn_json_text(const char *text);
/* Sets on obj every member of the JSON text `extra` (Keystone's free-form
 * extra attributes). */
void idn_merge_extra(json_t *obj, const char *extra);
/* Members of body that are not in `known` (NULL-terminated), as a JSON text
 * for the extra column, or NULL when there are none. Arena-owned. */
const char *idn_extra_of(struct http_req *req, json_t *body, const char *const *known);
/* Value of a boolean query filter ("true"/"false"/"1"/"0"); -1 absent. */
int idn_query_bool(struct http_req *req, const char *name);

/* ---- helpers shared by several resources (common.c) ---- */

/* Appends " AND <col> = 1|0" to q when the boolean query filter `name` is given. */
void idn_filter_bool(struct http_req *req, struct db_query *q, const char *col,
                     const char *name);
/* Replies 200 with Keystone's collection {key: items, "links": ...}; takes items. */
int idn_reply_list(struct http_req *req, const char *key, json_t *items);
/* Runs a list query: 0 with *r, or -1 (400 when q overflowed, else idn_db_fail(what)). */
int idn_query_run(struct http_req *req, struct db *db, const struct db_query *q,
                  const char *what, struct db_res **r);
/* s without leading and trailing white space, as a new arena string. */
const char *idn_strip(struct http_req *req, const char *s);
/* "name": 1..maxlen characters, one not a space (Keystone's [\S]+); *out stripped. 0/-1. */
int idn_get_name(struct http_req *req, json_t *o, unsigned flags, size_t maxlen,
                 const char **out);
/* Keystone's id_string (^[a-zA-Z0-9-]+$, <= 64) at key; JSON null gives NULL. 0/-1. */
int idn_get_id(struct http_req *req, json_t *o, const char *key, unsigned flags,
               const char **out);
/* Member key of a PATCH body; {} fails Keystone's minProperties (400, named: with field). */
json_t *idn_patch_body(struct http_req *req, const char *key, bool named);
/* 0 when body has no "id" or repeats id; else -1 with 400 "Cannot change ID". */
int idn_same_id(struct http_req *req, json_t *body, const char *id);
/* Stored extra text old overlaid with body's unknown members (json_dumps flags added). */
const char *idn_extra_update(struct http_req *req, const char *old, json_t *body,
                             const char *const *known, size_t flags);
/* Domain of a new entity the body names none for: the token's, else the default. */
const char *idn_default_domain(struct http_req *req);
/* policy_enforce(action, t), then *db = idn_db(); 0, or -1 with the failure recorded. */
int idn_enforce(struct http_req *req, const char *action, const struct policy_target *t,
                struct db **db);

/* ---- lookups shared by several resources (api.c) ---- */

struct idn_project {
    const char *id, *name, *domain_id, *description, *parent_id, *extra;
    bool enabled, is_domain;
};
/* The project columns idn_project_from_row() reads, in its order. */
#define IDN_PROJECT_COLS "id, name, domain_id, description, enabled, parent_id, is_domain, extra"
/* Fills *p from row i of a result selected with IDN_PROJECT_COLS (cells stay in r). */
void idn_project_from_row(const struct db_res *r, int i, struct idn_project *p);
/* 0 and *out filled; -1 with 404 recorded when missing (kind "project" or
 * "domain" by is_domain). */
int idn_project_get(struct http_req *req, const char *id, bool is_domain,
                    struct idn_project *out);
/* 0 when domain id exists, else -1 with Keystone's 404 (or a database failure). */
int idn_need_domain(struct http_req *req, struct db *db, const char *id);
/* Finds a domain by name; 0 or -1 (404). */
int idn_domain_by_name(struct http_req *req, const char *name, struct idn_project *out);
json_t *idn_project_view(struct http_req *req, const struct idn_project *p);
json_t *idn_domain_view(struct http_req *req, const struct idn_project *p);

struct idn_user {
    const char *id, *name, *domain_id, *default_project_id, *description, *email,
        *extra, *options;
    bool enabled;
    int failed_auth_count;
    int64_t failed_auth_at, created_at;
    int64_t password_expires_at;    /* 0 = never */
};
/* The user columns idn_user_from_row() reads, for "FROM users u". */
#define IDN_USER_COLS                                                               \
    "u.id, u.name, u.domain_id, u.default_project_id, u.description, u.email,"     \
    " u.extra, u.options, u.enabled, u.failed_auth_count, u.failed_auth_at,"       \
    " u.created_at, (SELECT p.expires_at FROM password p WHERE p.user_id = u.id"   \
    " ORDER BY p.created_at DESC LIMIT 1)"
/* Fills *u from row i of a result selected with IDN_USER_COLS (cells stay in r). */
void idn_user_from_row(const struct db_res *r, int i, struct idn_user *u);
int idn_user_get(struct http_req *req, const char *id, struct idn_user *out);
/* Looks a user up by name in the domain; -1 with 404 when missing. */
int idn_user_by_name(struct http_req *req, const char *name, const char *domain_id,
                     struct idn_user *out);
json_t *idn_user_view(struct http_req *req, const struct idn_user *u);

struct idn_role {
    const char *id, *name, *domain_id, *description, *options;
};
/* The role columns idn_role_from_row() reads, in its order. */
#define IDN_ROLE_COLS "id, name, domain_id, description, options"
/* Fills *out from row i of IDN_ROLE_COLS; a global role gets domain_id NULL. */
void idn_role_from_row(const struct db_res *r, int i, struct idn_role *out);
int idn_role_get(struct http_req *req, const char *id, struct idn_role *out);
json_t *idn_role_view(struct http_req *req, const struct idn_role *r);

/* ---- projects and their tags (api_projects.c, api_tags.c) ---- */

/* Loads {project_id} (a domain too) and enforces action on it, 404 after; 0 or -1. */
int idn_project_checked(struct http_req *req, struct db **dbp, const char *action,
                        struct idn_project *p);

/* Tags of project id, sorted, as a new JSON array; NULL on a database failure. */
json_t *idn_tags_of(struct http_req *req, struct db *db, const char *id);
/* Validates a "tags" array as Keystone does; *out (arena) stripped, de-duplicated. 0/-1. */
int idn_tags_parse(struct http_req *req, json_t *arr, const char ***out, int *n);
/* Replaces the tags of project id in the caller's transaction; a DB_* code. */
int idn_tags_store(struct db *db, const char *id, const char **tags, int n);
/* Appends a tags / tags-any / not-tags / not-tags-any filter (comma list) to q. */
void idn_tags_filter(struct http_req *req, struct db_query *q, const char *list, bool any,
                     bool negate);

/* ---- users for groups and membership (api_users.c, api_groups.c) ---- */

/* Looks user id up without a 404: 1 found (*u filled), 0 missing, -1 failed (recorded). */
int idn_user_find(struct http_req *req, struct db *db, const char *id, struct idn_user *u);
/* Loads {user_id} and enforces action with the user as target, 404 after; 0 or -1. */
int idn_user_checked(struct http_req *req, struct db **dbp, const char *action,
                     struct idn_user *u);
/* Replies 200 with the users of r (rows of IDN_USER_COLS) as Keystone's collection. */
int idn_users_reply(struct http_req *req, const struct db_res *r);

/* ---- revocation (token.c) ---- */

/* Records a revocation event; any of the ids may be NULL. Tokens issued at
 * or before now that match are invalid from now on. Returns DB_* code. */
int idn_revoke(struct db *db, const char *user_id, const char *project_id,
               const char *domain_id, const char *audit_id);

/* ---- effective roles (assign.c) ---- */

enum idn_scope { IDN_SCOPE_NONE = 0, IDN_SCOPE_PROJECT, IDN_SCOPE_DOMAIN, IDN_SCOPE_SYSTEM };

struct idn_role_ref {
    const char *id, *name;
};
/* Effective roles of user on the target (direct and via groups, roles
 * inherited from the project's domain and parents, implied roles
 * expanded), sorted by name, in the request arena. Returns the count, or
 * -1 on a database failure. */
int idn_effective_roles(struct http_req *req, const char *user_id, enum idn_scope scope,
                        const char *target_id, struct idn_role_ref **out);
/* Expands a set of role ids with every role they imply (transitively),
 * in place; returns the new count. ids must have room for max entries. */
int idn_expand_implied(struct http_req *req, const char **ids, int n, int max);

/* ---- passwords and security compliance (password.c) ---- */

/* Starts the hashing workers (nproc threads at lower CPU priority, so
 * logins never starve token validation). */
void pw_start(void);
void pw_stop(void);
/* bcrypt-hashes pw with the configured cost into out[128]. 0 or -1. */
int pw_hash(const char *pw, char out[128]);
/* true when pw matches the stored crypt(3) hash (any prefix libxcrypt
 * knows: $2b$, $2a$, $2y$, $y$, $6$). */
bool pw_verify(const char *pw, const char *hash);
/* Checks a new password for user_id against the regex, the history of the
 * last unique_last_password_count passwords and, when self_service, the
 * minimum age. 0, or -1 with 400 recorded. */
int pw_check_new(struct http_req *req, struct db *db, const char *user_id, const char *pw,
                 bool self_service);
/* pw_hash() that records a 500 on req when it fails. Hash before
 * db_begin(): a bcrypt run must not hold the database's write lock. */
int pw_hash_req(struct http_req *req, const char *pw, char out[128]);
/* Stores hash (from pw_hash) as the user's current password in the open
 * transaction, keeping the history the compliance settings need. */
int pw_set(struct http_req *req, struct db *db, const char *user_id, const char *hash,
           bool self_service);
/* Checks pw as a login does: lockout ([security_compliance]
 * lockout_failure_attempts/duration, unless the user ignores it), the
 * current password, failed-attempt counting and reset, enabled. 0, or -1
 * with Keystone's generic 401 recorded (the reason goes to the log). */
int pw_authenticate(struct http_req *req, struct db *db, struct idn_user *u, const char *pw);
/* true when the user's options set opt to true ("lock_password" ...). */
bool idn_user_option(const struct idn_user *u, const char *opt);
/* The current hash and its expiry (0 = never) of user_id, or NULL. */
const char *pw_current(struct http_req *req, struct db *db, const char *user_id,
                       int64_t *expires_at);

/* ---- tokens (token.c, fernet.c) ---- */

/* Validator installed into core/auth.h. */
int idn_validate_token(struct http_req *req, const char *token, struct auth_ctx *out);

/* Fernet key repository at dir: loads (creating 0 and 1 when empty).
 * Returns 0 or -1. */
int fernet_load(const char *dir);
/* Rotates the repository at dir as keystone-manage fernet_rotate does
 * (staged key 0 becomes primary, a new staged key is made, the oldest are
 * pruned beyond max_active). Returns 0 or -1. */
int fernet_rotate(const char *dir, int max_active);
/* Reloads the keys when the repository changed on disk (checked at most
 * once a second), bumping the identity revision so cached validations made
 * with the old key set are redone. */
void fernet_refresh(void);
/* Encrypts payload into a token string (malloc'd, caller frees). */
char *fernet_encrypt(const unsigned char *payload, size_t len);
/* Verifies and decrypts token with any loaded key; out gets up to outcap
 * bytes. Returns the payload length or -1. *issued_s gets the Fernet
 * timestamp. */
long fernet_decrypt(const char *token, unsigned char *out, size_t outcap,
                    int64_t *issued_s);

/* ---- handlers (api_*.c, token.c) ---- */
#define IDN_HANDLER(name) int name(struct http_req *req)
/* token.c */
IDN_HANDLER(idn_auth_tokens_post);
IDN_HANDLER(idn_auth_tokens_get);
IDN_HANDLER(idn_auth_tokens_head);
IDN_HANDLER(idn_auth_tokens_delete);
IDN_HANDLER(idn_auth_catalog);
IDN_HANDLER(idn_auth_projects);
IDN_HANDLER(idn_auth_domains);
IDN_HANDLER(idn_auth_system);
/* api_projects.c: domains, projects */
IDN_HANDLER(idn_domains_list);
IDN_HANDLER(idn_domains_create);
IDN_HANDLER(idn_domains_get);
IDN_HANDLER(idn_domains_update);
IDN_HANDLER(idn_domains_delete);
IDN_HANDLER(idn_projects_list);
IDN_HANDLER(idn_projects_create);
IDN_HANDLER(idn_projects_get);
IDN_HANDLER(idn_projects_update);
IDN_HANDLER(idn_projects_delete);
/* api_tags.c: project tags */
IDN_HANDLER(idn_project_tags_list);
IDN_HANDLER(idn_project_tags_replace);
IDN_HANDLER(idn_project_tags_clear);
IDN_HANDLER(idn_project_tag_check);
IDN_HANDLER(idn_project_tag_add);
IDN_HANDLER(idn_project_tag_delete);
/* api_users.c: users, password, a user's projects */
IDN_HANDLER(idn_users_list);
IDN_HANDLER(idn_users_create);
IDN_HANDLER(idn_users_get);
IDN_HANDLER(idn_users_update);
IDN_HANDLER(idn_users_delete);
IDN_HANDLER(idn_users_password);
IDN_HANDLER(idn_user_projects);
/* api_groups.c: groups, membership, a user's groups */
IDN_HANDLER(idn_user_groups);
IDN_HANDLER(idn_groups_list);
IDN_HANDLER(idn_groups_create);
IDN_HANDLER(idn_groups_get);
IDN_HANDLER(idn_groups_update);
IDN_HANDLER(idn_groups_delete);
IDN_HANDLER(idn_group_users);
IDN_HANDLER(idn_group_user_add);
IDN_HANDLER(idn_group_user_check);
IDN_HANDLER(idn_group_user_remove);
/* api_roles.c: roles, implied roles, grants, role assignments */
IDN_HANDLER(idn_roles_list);
IDN_HANDLER(idn_roles_create);
IDN_HANDLER(idn_roles_get);
IDN_HANDLER(idn_roles_update);
IDN_HANDLER(idn_roles_delete);
IDN_HANDLER(idn_implied_list);
IDN_HANDLER(idn_implied_get);
IDN_HANDLER(idn_implied_put);
IDN_HANDLER(idn_implied_delete);
IDN_HANDLER(idn_role_inferences);
IDN_HANDLER(idn_grant_put);
IDN_HANDLER(idn_grant_check);
IDN_HANDLER(idn_grant_delete);
IDN_HANDLER(idn_grants_list);
IDN_HANDLER(idn_role_assignments);
/* api_catalog.c: regions, services, endpoints */
IDN_HANDLER(idn_regions_list);
IDN_HANDLER(idn_regions_create);
IDN_HANDLER(idn_regions_get);
IDN_HANDLER(idn_regions_update);
IDN_HANDLER(idn_regions_delete);
IDN_HANDLER(idn_services_list);
IDN_HANDLER(idn_services_create);
IDN_HANDLER(idn_services_get);
IDN_HANDLER(idn_services_update);
IDN_HANDLER(idn_services_delete);
IDN_HANDLER(idn_endpoints_list);
IDN_HANDLER(idn_endpoints_create);
IDN_HANDLER(idn_endpoints_get);
IDN_HANDLER(idn_endpoints_update);
IDN_HANDLER(idn_endpoints_delete);
/* api_creds.c: application credentials, credentials */
IDN_HANDLER(idn_appcreds_list);
IDN_HANDLER(idn_appcreds_create);
IDN_HANDLER(idn_appcreds_get);
IDN_HANDLER(idn_appcreds_delete);
IDN_HANDLER(idn_credentials_list);
IDN_HANDLER(idn_credentials_create);
IDN_HANDLER(idn_credentials_get);
IDN_HANDLER(idn_credentials_update);
IDN_HANDLER(idn_credentials_delete);

/* The service catalog as Keystone renders it in tokens and /auth/catalog
 * (api_catalog.c), for the caller's user and project: a new array
 * reference, NULL on database failure. */
json_t *idn_catalog(struct http_req *req);
/* The same for a given user and project (NULL: none; endpoints whose URL
 * needs a project, "$(project_id)s", are then left out, as Keystone does
 * for domain and system tokens). */
json_t *idn_catalog_scoped(struct http_req *req, const char *user_id, const char *project_id);

#endif
