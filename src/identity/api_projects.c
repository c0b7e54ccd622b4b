/* api_projects.c - /v3/domains and /v3/projects, as Keystone (Zed) answers
 * them; their tags live in api_tags.c.
 *
 * Domains are rows of the project table with is_domain = 1 and domain_id
 * IDN_ROOT_DOMAIN, so one UNIQUE (domain_id, name) covers both kinds and a
 * domain is also reachable as a project (GET /v3/projects/default works, as
 * in Keystone). Top-level projects store parent_id = their domain id.
 * Deleting a domain removes everything it owns (projects, users, groups,
 * grants, domain roles) in one transaction; tokens die through revocation
 * events and, anyway, because validation re-reads the entities. Project
 * options (only "immutable" exists) are validated but not stored. */
#include "identity.h"
#include "core/config.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

/* ---- small helpers ---- */

/* Looks up a project or a domain by id. 1 found, 0 missing, -1 database
 * failure (recorded). Keystone's project API sees domains too. */
static int
pfind(struct http_req *req, struct db *db, const char *id, struct idn_project *p)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT " IDN_PROJECT_COLS " FROM project WHERE id = ?",
                     "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "project");
    if (r->nrows == 0)
        return 0;
    idn_project_from_row(r, 0, p);
    return 1;
}

/* The project view, with Keystone's null domain_id/parent_id for a project
 * acting as a domain. */
static json_t *
pview(struct http_req *req, const struct idn_project *p)
{
    json_t *o = idn_project_view(req, p);
    /* "" is the default; an explicit null stays null, as in Keystone */
    if (!p->description)
        json_object_set_new(o, "description", json_null());
    if (p->is_domain) {
        json_object_set_new(o, "domain_id", json_null());
        json_object_set_new(o, "parent_id", json_null());
    }
    return o;
}

/* The domain view; api.c renders tags as [] so the stored ones go in here. */
static json_t *
dview(struct http_req *req, struct db *db, const struct idn_project *p)
{
    json_t *o = idn_domain_view(req, p);
    json_t *t = idn_tags_of(req, db, p->id);
    if (!p->description)
        json_object_set_new(o, "description", json_null());
    if (t)
        json_object_set_new(o, "tags", t);
    return o;
}

/* options: only "immutable" (boolean or null) exists for projects. */
static int
check_options(struct http_req *req, json_t *o)
{
    json_t *opts = NULL;
    if (jv_obj(req, o, "options", 0, &opts) < 0)
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach(opts, k, v) {
        if (strcmp(k, "immutable"))
            return req_fail(req, 400, "Invalid input for field 'options': Additional "
                            "properties are not allowed ('%s' was unexpected)", k);
        if (!json_is_boolean(v) && !json_is_null(v))
            return jv_invalid(req, "options/immutable", v, "is not of type 'boolean', 'null'");
    }
    return 0;
}

/* Keystone's wording for a name clash on create/update. */
static int
conflict(struct http_req *req, int rc, bool is_domain, const char *name, const char *id)
{
    if (rc != DB_CONFLICT)
        return idn_db_fail(req, rc, "project");
    if (is_domain)
        return req_fail(req, 409, "Conflict occurred attempting to store project - it is "
                        "not permitted to have two projects acting as domains with the "
                        "same name: %s.", name);
    return req_fail(req, 409, "Conflict occurred attempting to store project - it is not "
                    "permitted to have two projects with either the same name or same id in "
                    "the same domain: name is %s, project id %s.", name, id);
}

/* ---- domains ---- */

static const char *const domain_known[] = {"id", "name", "description", "enabled", "tags",
                                           "options", "explicit_domain_id", "links",
                                           "domain_id", "parent_id", "is_domain", NULL};

/* Creates a domain from body (the "domain" object, or a "project" with
 * is_domain true). Replies 201 with the domain or project view. */
static int
create_domain(struct http_req *req, json_t *d, bool as_project)
{
    const char *name = NULL, *desc = NULL, *xid = NULL, **tags = NULL;
    int enabled = 1, ntags = 0;
    json_t *jt = NULL;
    if (idn_get_name(req, d, JV_REQUIRED, 64, &name) < 0 ||
        jv_str(req, d, "description", JV_NULLABLE, 0, &desc) < 0 ||
        jv_bool(req, d, "enabled", 0, &enabled) < 0 ||
        jv_array(req, d, "tags", 0, &jt) < 0 || check_options(req, d) < 0 ||
        jv_str(req, d, "explicit_domain_id", JV_NULLABLE, 64, &xid) < 0)
        return -1;
    if (jt && idn_tags_parse(req, jt, &tags, &ntags) < 0)
        return -1;
    if (as_project && json_is_string(json_object_get(d, "parent_id")))
        return req_fail(req, 400, "only root projects are allowed to act as domains.");
    char id[33];
    if (xid) {
        if (!is_hex32(xid))
            return req_fail(req, 400, "Domain ID does not conform to required UUID format.");
        snprintf(id, sizeof(id), "%s", xid);
    } else {
        uuid_hex(id);
    }
    if (!desc && !json_is_null(json_object_get(d, "description")))
        desc = "";
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    const char *extra = idn_extra_of(req, d, domain_known);
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO project (id, name, domain_id, description, enabled, "
                     "parent_id, is_domain, extra, created_at) VALUES (?, ?, ?, ?, ?, NULL, 1, "
                     "?, ?)",
                     "ssssbsi", id, name, IDN_ROOT_DOMAIN, desc, enabled, extra, now_us());
    if (rc == DB_OK)
        rc = idn_tags_store(db, id, tags, ntags);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return conflict(req, rc, true, name, id);
    }
    struct idn_project p = {.id = id, .name = name, .domain_id = IDN_ROOT_DOMAIN,
                            .description = desc, .enabled = enabled, .is_domain = true,
                            .extra = extra};
    if (as_project)
        return http_reply_json(req, 201, json_pack("{s:o}", "project", pview(req, &p)));
    return http_reply_json(req, 201, json_pack("{s:o}", "domain", dview(req, db, &p)));
}

int
idn_domains_list(struct http_req *req)
{
    struct db *db;
    if (idn_enforce(req, "identity:list_domains", NULL, &db) < 0)
        return -1;
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT " IDN_PROJECT_COLS " FROM project WHERE is_domain = 1");
    db_query_eq(&q, "name", http_query(req, "name"));
    idn_filter_bool(req, &q, "enabled", "enabled");
    db_query_sql(&q, " ORDER BY name");
    if (idn_query_run(req, db, &q, "project", &r) < 0)
        return -1;
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct idn_project p;
        idn_project_from_row(r, i, &p);
        json_array_append_new(a, dview(req, db, &p));
    }
    return idn_reply_list(req, "domains", a);
}

int
idn_domains_create(struct http_req *req)
{
    if (policy_enforce(req, "identity:create_domain", NULL) < 0)
        return -1;
    json_t *d = jv_object(req, req->json, "domain");
    return d ? create_domain(req, d, false) : -1;
}

int
idn_domains_get(struct http_req *req)
{
    const char *id = http_param(req, "domain_id");
    struct idn_project p;
    if (policy_enforce(req, "identity:get_domain", &(struct policy_target){.domain_id = id}) < 0 ||
        idn_project_get(req, id, true, &p) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "domain", dview(req, req_db(req), &p)));
}

/* Applies a PATCH body to project/domain p (already loaded) and replies
 * with the view of the updated row. Shared by both APIs since a domain is
 * a project. */
static int
update_project(struct http_req *req, struct db *db, struct idn_project *p, json_t *b,
               bool domain_api)
{
    const char *name = p->name, *desc = p->description, **tags = NULL;
    int enabled = p->enabled, ntags = -1;
    json_t *jt = NULL;
    if (json_object_size(b) == 0)
        return req_fail(req, 400, "Invalid input for field '%s': {} does not have enough "
                        "properties", domain_api ? "domain" : "project");
    if (idn_get_name(req, b, 0, 64, &name) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &desc) < 0 ||
        jv_bool(req, b, "enabled", 0, &enabled) < 0 || jv_array(req, b, "tags", 0, &jt) < 0 ||
        check_options(req, b) < 0)
        return -1;
    if (jt && idn_tags_parse(req, jt, &tags, &ntags) < 0)
        return -1;
    if (!domain_api) {
        /* a domain-as-project shows a null domain_id and parent_id */
        const char *cur_dom = p->is_domain ? NULL : p->domain_id;
        const char *cur_par = p->is_domain ? NULL : p->parent_id;
        const char *v = cur_dom;
        int isd = p->is_domain;
        if (idn_same_id(req, b, p->id) < 0)
            return -1;
        if (idn_get_id(req, b, "domain_id", JV_NULLABLE, &v) < 0)
            return -1;
        if ((v || cur_dom) && (!v || !cur_dom || strcmp(v, cur_dom)))
            return req_fail(req, 400, "Cannot change Domain ID");
        v = cur_par;
        if (idn_get_id(req, b, "parent_id", JV_NULLABLE, &v) < 0)
            return -1;
        if ((v || cur_par) && (!v || !cur_par || strcmp(v, cur_par)))
            return req_fail(req, 403, "Update of `parent_id` is not allowed.");
        if (jv_bool(req, b, "is_domain", 0, &isd) < 0)
            return -1;
        if (isd != (int)p->is_domain)
            return req_fail(req, 400, "Update of `is_domain` is not allowed.");
    }
    struct db_res *r;
    int rc;
    bool disabling = p->enabled && !enabled;
    if (!p->is_domain && disabling) {
        /* a project is disabled only after its whole subtree is */
        rc = db_exec(db, req->arena, &r,
                     "SELECT 1 FROM project WHERE parent_id = ? AND enabled = 1 LIMIT 1", "s",
                     p->id);
        if (rc != DB_OK)
            return idn_db_fail(req, rc, "project");
        if (r->nrows)
            return req_fail(req, 403, "Cannot disable project %s since its subtree contains "
                            "enabled projects.", p->id);
    }
    if (!p->is_domain && !p->enabled && enabled) {
        for (const char *up = p->parent_id; up;) {
            struct idn_project q;
            int found = pfind(req, db, up, &q);
            if (found < 0)
                return -1;
            if (!found)
                break;
            if (!q.enabled)
                return req_fail(req, 403, "Cannot enable project %s since it has disabled "
                                "parents", p->id);
            up = q.parent_id;
        }
    }
    const char *extra = idn_extra_update(req, p->extra, b,
                                         domain_api ? domain_known
                                                    : (const char *const[]){
                                                          "id", "name", "domain_id",
                                                          "description", "enabled", "parent_id",
                                                          "is_domain", "tags", "options", "links",
                                                          NULL},
                                         0);
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "UPDATE project SET name = ?, description = ?, enabled = ?, extra = ? "
                     "WHERE id = ?", "ssbss", name, desc, enabled, extra, p->id);
    if (rc == DB_OK && ntags >= 0)
        rc = idn_tags_store(db, p->id, tags, ntags);
    if (rc == DB_OK && disabling)
        rc = p->is_domain ? idn_revoke(db, NULL, NULL, p->id, NULL)
                          : idn_revoke(db, NULL, p->id, NULL, NULL);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return conflict(req, rc, p->is_domain, name, p->id);
    }
    p->name = name;
    p->description = desc;
    p->enabled = enabled;
    p->extra = extra;
    if (domain_api)
        return http_reply_json(req, 200, json_pack("{s:o}", "domain", dview(req, db, p)));
    /* Keystone's update answer also carries the extra members as "extra" */
    json_t *o = pview(req, p), *x = idn_json_text(extra);
    json_object_set_new(o, "extra", json_is_object(x) ? x : json_object());
    if (x && !json_is_object(x))
        json_decref(x);
    return http_reply_json(req, 200, json_pack("{s:o}", "project", o));
}

int
idn_domains_update(struct http_req *req)
{
    const char *id = http_param(req, "domain_id");
    struct idn_project p;
    if (policy_enforce(req, "identity:update_domain", &(struct policy_target){.domain_id = id}) <
        0)
        return -1;
    json_t *b = jv_object(req, req->json, "domain");
    struct db *db = idn_db(req);
    if (!b || !db || idn_project_get(req, id, true, &p) < 0)
        return -1;
    return update_project(req, db, &p, b, true);
}

/* Deletes domain d and everything it owns in one transaction: its
 * projects (with their tags, grants, credentials and application
 * credentials), its users and groups (with their grants), grants on the
 * domain itself and the domain-specific roles. The caller checked that
 * the domain is disabled. */
static int
purge_domain(struct http_req *req, struct db *db, const char *d)
{
    static const char *const steps[] = {
        /* grants on the domain and on its projects, and of its users/groups */
        "DELETE FROM assignment WHERE target_id = ? OR target_id IN (SELECT id FROM "
        "project WHERE domain_id = ?) OR actor_id IN (SELECT id FROM users WHERE "
        "domain_id = ?) OR actor_id IN (SELECT id FROM groups WHERE domain_id = ?)",
        "DELETE FROM credential WHERE project_id IN (SELECT id FROM project WHERE "
        "domain_id = ?) OR user_id IN (SELECT id FROM users WHERE domain_id = ?)",
        "DELETE FROM application_credential WHERE project_id IN (SELECT id FROM project "
        "WHERE domain_id = ?)",
        /* users elsewhere may point at a project that is going away */
        "UPDATE users SET default_project_id = NULL WHERE default_project_id IN (SELECT id "
        "FROM project WHERE domain_id = ?)",
        /* memberships, passwords, app creds go with the rows (ON DELETE CASCADE) */
        "DELETE FROM users WHERE domain_id = ?",
        "DELETE FROM groups WHERE domain_id = ?",
        "DELETE FROM role WHERE domain_id = ?",
        "DELETE FROM project WHERE domain_id = ?",
        "DELETE FROM project WHERE id = ?",
    };
    int rc = db_begin(db);
    for (size_t i = 0; rc == DB_OK && i < sizeof(steps) / sizeof(steps[0]); i++) {
        /* every placeholder is the domain id: one 's' per '?' */
        char fmt[8] = "";
        size_t n = 0;
        for (const char *q = steps[i]; *q && n < sizeof(fmt) - 1; q++)
            if (*q == '?')
                fmt[n++] = 's';
        rc = db_exec(db, NULL, NULL, steps[i], fmt, d, d, d, d, d, d, d);
    }
    if (rc == DB_OK)
        rc = idn_revoke(db, NULL, NULL, d, NULL);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return idn_db_fail(req, rc, "domain");
    }
    return http_reply_empty(req, 204);
}

int
idn_domains_delete(struct http_req *req)
{
    const char *id = http_param(req, "domain_id");
    struct idn_project p;
    if (policy_enforce(req, "identity:delete_domain", &(struct policy_target){.domain_id = id}) <
        0)
        return -1;
    struct db *db = idn_db(req);
    if (!db || idn_project_get(req, id, true, &p) < 0)
        return -1;
    /* keeps an admin from deleting the domain they stand in by accident */
    if (p.enabled)
        return req_fail(req, 403, "Cannot delete a domain that is enabled, please disable it "
                        "first.");
    return purge_domain(req, db, id);
}

/* ---- projects ---- */

/* Keystone's query_filter_is_true: present and not "0". */
static bool
qtrue(struct http_req *req, const char *name)
{
    const char *v = http_query(req, name);
    return v && strcmp(v, "0");
}

/* The policy runs before the 404 so a caller without rights learns
 * nothing about which ids exist (Keystone builds its target the same way). */
int
idn_project_checked(struct http_req *req, struct db **dbp, const char *action,
                    struct idn_project *p)
{
    const char *id = http_param(req, "project_id");
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int found = pfind(req, db, id, p);
    if (found < 0)
        return -1;
    struct policy_target t = {.project_id = id};
    if (found)
        t.domain_id = p->is_domain ? p->id : p->domain_id;
    if (policy_enforce(req, action, &t) < 0)
        return -1;
    if (!found)
        return idn_not_found(req, "project", id);
    *dbp = db;
    return 0;
}

int
idn_projects_list(struct http_req *req)
{
    /* a domain-scoped caller only ever sees its own domain */
    const char *scope = req->auth.domain_id, *v;
    struct db *db;
    if (idn_enforce(req, "identity:list_projects", &(struct policy_target){.domain_id = scope},
                    &db) < 0)
        return -1;
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT " IDN_PROJECT_COLS " FROM project WHERE is_domain = ");
    db_query_arg(&q, idn_query_bool(req, "is_domain") > 0 ? "1" : "0");
    static const char *const eq[] = {"name", "domain_id", "parent_id"};
    for (size_t i = 0; i < sizeof(eq) / sizeof(eq[0]); i++)
        db_query_eq(&q, eq[i], http_query(req, eq[i]));
    idn_filter_bool(req, &q, "enabled", "enabled");
    db_query_eq(&q, "domain_id", scope);
    if ((v = http_query(req, "tags")))
        idn_tags_filter(req, &q, v, false, false);
    if ((v = http_query(req, "tags-any")))
        idn_tags_filter(req, &q, v, true, false);
    if ((v = http_query(req, "not-tags")))
        idn_tags_filter(req, &q, v, false, true);
    if ((v = http_query(req, "not-tags-any")))
        idn_tags_filter(req, &q, v, true, true);
    db_query_sql(&q, " ORDER BY name, id");
    if (idn_query_run(req, db, &q, "project", &r) < 0)
        return -1;
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct idn_project p;
        idn_project_from_row(r, i, &p);
        json_array_append_new(a, pview(req, &p));
    }
    return idn_reply_list(req, "projects", a);
}

int
idn_projects_create(struct http_req *req)
{
    json_t *b = jv_object(req, req->json, "project");
    int isd = 0;
    if (!b || jv_bool(req, b, "is_domain", 0, &isd) < 0)
        return -1;
    if (isd)
        return policy_enforce(req, "identity:create_project", NULL) < 0
                   ? -1
                   : create_domain(req, b, true);
    const char *name = NULL, *desc = "", *dom = NULL, *parent = NULL, **tags = NULL;
    int enabled = 1, ntags = 0;
    json_t *jt = NULL;
    if (idn_get_name(req, b, JV_REQUIRED, 64, &name) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &desc) < 0 ||
        idn_get_id(req, b, "domain_id", JV_NULLABLE, &dom) < 0 ||
        idn_get_id(req, b, "parent_id", JV_NULLABLE, &parent) < 0 ||
        jv_bool(req, b, "enabled", 0, &enabled) < 0 || jv_array(req, b, "tags", 0, &jt) < 0 ||
        check_options(req, b) < 0)
        return -1;
    if (jt && idn_tags_parse(req, jt, &tags, &ntags) < 0)
        return -1;
    if (!dom)
        dom = idn_default_domain(req);
    if (policy_enforce(req, "identity:create_project",
                       &(struct policy_target){.domain_id = dom}) < 0)
        return -1;
    struct db *db = idn_db(req);
    struct idn_project d, par;
    if (!db)
        return -1;
    int found = pfind(req, db, dom, &d);
    if (found < 0)
        return -1;
    if (!found || !d.is_domain)
        return req_fail(req, 400, "Could not find domain: %s.", dom);
    if (!parent)
        parent = dom;
    if ((found = pfind(req, db, parent, &par)) < 0)
        return -1;
    if (!found)
        return req_fail(req, 400, "Could not find project: %s.", parent);
    if (par.is_domain && strcmp(par.id, dom))
        return req_fail(req, 400, "Cannot create project, the parent (%s) is acting as a "
                        "domain, but this project's domain id (%s) does not match the "
                        "parent's id.", par.id, dom);
    if (!par.is_domain && strcmp(par.domain_id, dom))
        return req_fail(req, 400, "Cannot create project, since it specifies its domain_id "
                        "%s, but specifies a parent in a different domain (%s).", dom,
                        par.domain_id);
    /* the whole branch above must be enabled, and not too deep (the
     * domain counts as one level, as in Keystone) */
    int depth = 0;
    for (struct idn_project cur = par;; depth++) {
        if (!cur.enabled)
            return req_fail(req, 400, "cannot create a project in a branch containing a "
                            "disabled project: %s", cur.id);
        if (!cur.parent_id)
            break;
        if ((found = pfind(req, db, cur.parent_id, &cur)) < 0)
            return -1;
        if (!found)
            break;
    }
    if (depth + 2 > cfg_int("DEFAULT", "max_project_tree_depth", 5) + 1)
        return req_fail(req, 403, "Max hierarchy depth reached for %s branch.", parent);

    char id[33];
    uuid_hex(id);
    const char *extra = idn_extra_of(req, b, (const char *const[]){
        "id", "name", "domain_id", "description", "enabled", "parent_id", "is_domain", "tags",
        "options", "links", NULL});
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO project (id, name, domain_id, description, enabled, "
                     "parent_id, is_domain, extra, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, "
                     "?)",
                     "ssssbssi", id, name, dom, desc, enabled, parent, extra, now_us());
    if (rc == DB_OK)
        rc = idn_tags_store(db, id, tags, ntags);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return conflict(req, rc, false, name, id);
    }
    struct idn_project p = {.id = id, .name = name, .domain_id = dom, .description = desc,
                            .enabled = enabled, .parent_id = parent, .extra = extra};
    return http_reply_json(req, 201, json_pack("{s:o}", "project", pview(req, &p)));
}

/* Projects (and the domain) below id, as rows of IDN_PROJECT_COLS. */
static int
subtree_rows(struct http_req *req, struct db *db, const char *id, struct db_res **r)
{
    int rc = db_exec(db, req->arena, r,
                     "WITH RECURSIVE sub(id) AS (SELECT id FROM project WHERE parent_id = ? "
                     "UNION SELECT p.id FROM project p JOIN sub ON p.parent_id = sub.id) "
                     "SELECT " IDN_PROJECT_COLS " FROM project WHERE id IN (SELECT id FROM sub) "
                     "ORDER BY name", "s", id);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, "project");
}

/* {child: {grandchild: null}, ...} below id, or null for a leaf. */
static json_t *
subtree_ids(const struct db_res *r, const char *id, int depth)
{
    json_t *o = NULL;
    for (int i = 0; i < r->nrows && depth < 64; i++) {
        const char *pid = db_val(r, i, 5);
        if (pid && !strcmp(pid, id)) {
            if (!o)
                o = json_object();
            json_object_set_new(o, db_val(r, i, 0), subtree_ids(r, db_val(r, i, 0), depth + 1));
        }
    }
    return o ? o : json_null();
}

/* true when the caller holds a role on project id (so may see it listed
 * among parents/subtree, as Keystone filters them) */
static bool
caller_sees(struct http_req *req, const char *id)
{
    struct idn_role_ref *roles;
    return req->auth.user_id &&
           idn_effective_roles(req, req->auth.user_id, IDN_SCOPE_PROJECT, id, &roles) > 0;
}

/* parents_as_ids / parents_as_list / subtree_as_ids / subtree_as_list of
 * GET /v3/projects/{id}. */
static int
expand(struct http_req *req, struct db *db, const struct idn_project *p, json_t *o)
{
    bool pids = qtrue(req, "parents_as_ids"), plist = qtrue(req, "parents_as_list");
    bool sids = qtrue(req, "subtree_as_ids"), slist = qtrue(req, "subtree_as_list");
    if (plist && pids)
        return req_fail(req, 400, "Cannot use parents_as_list and parents_as_ids query params "
                        "at the same time.");
    if (slist && sids)
        return req_fail(req, 400, "Cannot use subtree_as_list and subtree_as_ids query params "
                        "at the same time.");
    if (pids || plist) {
        /* the chain upwards, nearest first; the domain ends it */
        struct idn_project chain[64];
        int n = 0;
        for (const char *up = p->parent_id; up && n < 64; up = chain[n - 1].parent_id) {
            int found = pfind(req, db, up, &chain[n]);
            if (found < 0)
                return -1;
            if (!found)
                break;
            n++;
        }
        if (pids) {
            json_t *cur = json_null();
            for (int i = n - 1; i >= 0; i--) {
                json_t *x = json_object();
                json_object_set_new(x, chain[i].id, cur);
                cur = x;
            }
            json_object_set_new(o, "parents", cur);
        } else {
            json_t *a = json_array();
            for (int i = 0; i < n; i++)
                if (!chain[i].is_domain && caller_sees(req, chain[i].id))
                    json_array_append_new(a, json_pack("{s:o}", "project",
                                                       pview(req, &chain[i])));
            json_object_set_new(o, "parents", a);
        }
    }
    if (sids || slist) {
        struct db_res *r;
        if (subtree_rows(req, db, p->id, &r) < 0)
            return -1;
        if (sids) {
            json_object_set_new(o, "subtree", subtree_ids(r, p->id, 0));
        } else {
            json_t *a = json_array();
            for (int i = 0; i < r->nrows; i++) {
                struct idn_project q;
                idn_project_from_row(r, i, &q);
                if (caller_sees(req, q.id))
                    json_array_append_new(a, json_pack("{s:o}", "project", pview(req, &q)));
            }
            json_object_set_new(o, "subtree", a);
        }
    }
    return 0;
}

int
idn_projects_get(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    if (idn_project_checked(req, &db, "identity:get_project", &p) < 0)
        return -1;
    json_t *o = pview(req, &p);
    if (expand(req, db, &p, o) < 0) {
        json_decref(o);
        return -1;
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "project", o));
}

int
idn_projects_update(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    if (idn_project_checked(req, &db, "identity:update_project", &p) < 0)
        return -1;
    json_t *b = jv_object(req, req->json, "project");
    return b ? update_project(req, db, &p, b, false) : -1;
}

int
idn_projects_delete(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    struct db_res *r;
    if (idn_project_checked(req, &db, "identity:delete_project", &p) < 0)
        return -1;
    if (p.is_domain) {
        if (p.enabled)
            return req_fail(req, 403, "Cannot delete a domain that is enabled, please disable "
                            "it first.");
        return purge_domain(req, db, p.id);
    }
    int rc = db_exec(db, req->arena, &r, "SELECT 1 FROM project WHERE parent_id = ? LIMIT 1",
                     "s", p.id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "project");
    if (r->nrows)
        return req_fail(req, 403, "Cannot delete the project %s since it is not a leaf in the "
                        "hierarchy. Use the cascade option if you want to delete a whole "
                        "subtree.", p.id);
    static const char *const steps[] = {
        "DELETE FROM assignment WHERE target_id = ?",
        "DELETE FROM credential WHERE project_id = ?",
        "DELETE FROM application_credential WHERE project_id = ?",
        /* Keystone unsets default projects that disappear */
        "UPDATE users SET default_project_id = NULL WHERE default_project_id = ?",
        "DELETE FROM project WHERE id = ?",     /* tags go by ON DELETE CASCADE */
    };
    rc = db_begin(db);
    for (size_t i = 0; rc == DB_OK && i < sizeof(steps) / sizeof(steps[0]); i++)
        rc = db_exec(db, NULL, NULL, steps[i], "s", p.id);
    if (rc == DB_OK)
        rc = idn_revoke(db, NULL, p.id, NULL, NULL);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return idn_db_fail(req, rc, "project");
    }
    return http_reply_empty(req, 204);
}
