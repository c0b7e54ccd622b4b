/* api_groups.c - /v3/groups, group membership (/v3/groups/{group_id}/users)
 * and a user's groups (/v3/users/{user_id}/groups), as Keystone (Zed)
 * answers them.
 *
 * A group only carries roles to its members: leaving a group, or the
 * group's deletion when it held grants, records a revocation event for
 * the members concerned so tokens issued before it stop working at once.
 * Memberships go with the group or the user (ON DELETE CASCADE). */
#include "identity.h"
#include "core/util.h"

#include <string.h>

#define GCOLS "g.id, g.name, g.domain_id, g.description, g.extra"

struct group {
    const char *id, *name, *domain_id, *description, *extra;
};

static void
grow(const struct db_res *r, int i, struct group *g)
{
    g->id = db_val(r, i, 0);
    g->name = db_val(r, i, 1);
    g->domain_id = db_val(r, i, 2);
    g->description = db_val(r, i, 3);
    g->extra = db_val(r, i, 4);
}

static json_t *
gview(struct http_req *req, const struct group *g)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", g->id, "name", g->name, "domain_id",
                          g->domain_id, "description", g->description ? g->description : "",
                          "links", idn_links(req, "groups/%s", g->id));
    idn_merge_extra(o, g->extra);
    return o;
}

/* 1 found, 0 missing, -1 database failure (recorded). */
static int
gfind(struct http_req *req, struct db *db, const char *id, struct group *g)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT " GCOLS " FROM groups g WHERE g.id = ?", "s",
                     id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "group");
    if (r->nrows)
        grow(r, 0, g);
    return r->nrows > 0;
}

/* Loads {group_id}, checks action on it (target: the group's domain), 404
 * after the policy. */
static int
group_checked(struct http_req *req, struct db **dbp, const char *action, struct group *g)
{
    const char *id = http_param(req, "group_id");
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int found = gfind(req, db, id, g);
    if (found < 0 ||
        policy_enforce(req, action,
                       &(struct policy_target){.domain_id = found ? g->domain_id : NULL}) < 0)
        return -1;
    if (!found)
        return idn_not_found(req, "group", id);
    *dbp = db;
    return 0;
}

static int
group_conflict(struct http_req *req, int rc, const char *name, const char *domain_id)
{
    if (rc != DB_CONFLICT)
        return idn_db_fail(req, rc, "group");
    return req_fail(req, 409, "Conflict occurred attempting to store group - Duplicate entry "
                    "found with name %s at domain ID %s.", name, domain_id);
}

static const char *const group_known[] = {"id", "name", "domain_id", "description", "links",
                                          NULL};

static int
reply_groups(struct http_req *req, struct db_res *r, bool membership)
{
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++) {
        struct group g;
        grow(r, i, &g);
        json_t *o = gview(req, &g);
        if (membership)     /* Keystone's expiring memberships; ours never expire */
            json_object_set_new(o, "membership_expires_at", json_null());
        json_array_append_new(a, o);
    }
    return idn_reply_list(req, "groups", a);
}

int
idn_user_groups(struct http_req *req)
{
    struct idn_user u;
    struct db *db;
    struct db_res *r;
    struct db_query q = {0};
    if (idn_user_checked(req, &db, "identity:list_groups_for_user", &u) < 0)
        return -1;
    db_query_sql(&q, "SELECT " GCOLS " FROM groups g JOIN user_group m ON m.group_id = g.id "
                     "WHERE 1 = 1");
    db_query_eq(&q, "m.user_id", u.id);
    db_query_eq(&q, "g.name", http_query(req, "name"));
    db_query_eq(&q, "g.domain_id", req->auth.domain_id);
    db_query_sql(&q, " ORDER BY g.name, g.id");
    if (idn_query_run(req, db, &q, "group", &r) < 0)
        return -1;
    return reply_groups(req, r, true);
}

int
idn_groups_list(struct http_req *req)
{
    const char *scope = req->auth.domain_id;
    struct db *db;
    struct db_query q = {0};
    struct db_res *r;
    if (idn_enforce(req, "identity:list_groups", &(struct policy_target){.domain_id = scope},
                    &db) < 0)
        return -1;
    db_query_sql(&q, "SELECT " GCOLS " FROM groups g WHERE 1 = 1");
    db_query_eq(&q, "g.name", http_query(req, "name"));
    db_query_eq(&q, "g.domain_id", http_query(req, "domain_id"));
    db_query_eq(&q, "g.domain_id", scope);
    db_query_sql(&q, " ORDER BY g.name, g.id");
    if (idn_query_run(req, db, &q, "group", &r) < 0)
        return -1;
    return reply_groups(req, r, false);
}

int
idn_groups_create(struct http_req *req)
{
    json_t *b = jv_object(req, req->json, "group");
    const char *name = NULL, *dom = NULL, *desc = "";
    if (!b || idn_get_name(req, b, JV_REQUIRED, 255, &name) < 0 ||
        idn_get_id(req, b, "domain_id", 0, &dom) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &desc) < 0)
        return -1;
    if (!dom)
        dom = idn_default_domain(req);
    if (policy_enforce(req, "identity:create_group", &(struct policy_target){.domain_id = dom}) <
        0)
        return -1;
    struct db *db = idn_db(req);
    if (!db || idn_need_domain(req, db, dom) < 0)
        return -1;
    char id[33];
    uuid_hex(id);
    struct group g = {.id = id, .name = name, .domain_id = dom, .description = desc,
                      .extra = idn_extra_of(req, b, group_known)};
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO groups (id, domain_id, name, description, extra) "
                     "VALUES (?, ?, ?, ?, ?)", "sssss", id, dom, name, desc, g.extra);
    if (rc != DB_OK)
        return group_conflict(req, rc, name, dom);
    return http_reply_json(req, 201, json_pack("{s:o}", "group", gview(req, &g)));
}

int
idn_groups_get(struct http_req *req)
{
    struct group g;
    struct db *db;
    if (group_checked(req, &db, "identity:get_group", &g) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "group", gview(req, &g)));
}

int
idn_groups_update(struct http_req *req)
{
    struct group g;
    struct db *db;
    if (group_checked(req, &db, "identity:update_group", &g) < 0)
        return -1;
    json_t *b = idn_patch_body(req, "group", true);
    const char *dom = g.domain_id;
    if (!b)
        return -1;
    if (idn_get_name(req, b, 0, 255, &g.name) < 0 || idn_get_id(req, b, "domain_id", 0, &dom) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, &g.description) < 0 ||
        idn_same_id(req, b, g.id) < 0)
        return -1;
    if (strcmp(dom, g.domain_id))
        return req_fail(req, 400, "Cannot change Domain ID");
    g.extra = idn_extra_update(req, g.extra, b, group_known, JSON_SORT_KEYS);
    int rc = db_exec(db, NULL, NULL,
                     "UPDATE groups SET name = ?, description = ?, extra = ? WHERE id = ?",
                     "ssss", g.name, g.description, g.extra, g.id);
    if (rc != DB_OK)
        return group_conflict(req, rc, g.name, g.domain_id);
    return http_reply_json(req, 200, json_pack("{s:o}", "group", gview(req, &g)));
}

int
idn_groups_delete(struct http_req *req)
{
    struct group g;
    struct db *db;
    struct db_res *m;
    if (group_checked(req, &db, "identity:delete_group", &g) < 0)
        return -1;
    int rc = db_begin(db);
    /* members lose the roles the group gave them: revoke their tokens,
     * but only when the group held any (as Keystone) */
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &m,
                     "SELECT user_id FROM user_group WHERE group_id = ? AND EXISTS (SELECT 1 "
                     "FROM assignment WHERE actor_id = ? AND type IN ('GroupProject', "
                     "'GroupDomain', 'GroupSystem'))", "ss", g.id, g.id);
    for (int i = 0; rc == DB_OK && i < m->nrows; i++)
        rc = idn_revoke(db, db_val(m, i, 0), NULL, NULL, NULL);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "DELETE FROM assignment WHERE actor_id = ? AND type IN ('GroupProject', "
                     "'GroupDomain', 'GroupSystem')", "s", g.id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM groups WHERE id = ?", "s", g.id);
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "group");
    return http_reply_empty(req, 204);
}

int
idn_group_users(struct http_req *req)
{
    struct group g;
    struct db *db;
    struct db_res *r;
    struct db_query q = {0};
    if (group_checked(req, &db, "identity:list_users_in_group", &g) < 0)
        return -1;
    db_query_sql(&q, "SELECT " IDN_USER_COLS " FROM users u JOIN user_group m ON "
                     "m.user_id = u.id WHERE 1 = 1");
    db_query_eq(&q, "m.group_id", g.id);
    db_query_eq(&q, "u.name", http_query(req, "name"));
    db_query_eq(&q, "u.domain_id", http_query(req, "domain_id"));
    idn_filter_bool(req, &q, "u.enabled", "enabled");
    db_query_sql(&q, " ORDER BY u.name, u.id");
    if (idn_query_run(req, db, &q, "group", &r) < 0)
        return -1;
    return idn_users_reply(req, r);
}

/* Common start of the membership calls: the group (policy, 404), then the
 * user (404); a domain admin must administer the user's domain too. */
static int
membership(struct http_req *req, const char *action, struct db **db, struct group *g,
           struct idn_user *u, bool *member)
{
    const char *uid = http_param(req, "user_id");
    struct db_res *r;
    if (group_checked(req, db, action, g) < 0)
        return -1;
    int found = idn_user_find(req, *db, uid, u);
    if (found <= 0)
        return found < 0 ? -1 : idn_not_found(req, "user", uid);
    if (strcmp(u->domain_id, g->domain_id) &&
        policy_enforce(req, action, &(struct policy_target){.domain_id = u->domain_id}) < 0)
        return -1;
    int rc = db_exec(*db, req->arena, &r,
                     "SELECT 1 FROM user_group WHERE user_id = ? AND group_id = ?", "ss", u->id,
                     g->id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "group");
    *member = r->nrows > 0;
    return 0;
}

static int
not_member(struct http_req *req, const struct idn_user *u, const struct group *g)
{
    return req_fail(req, 404, "User '%s' not found in group '%s'", u->id, g->id);
}

int
idn_group_user_add(struct http_req *req)
{
    struct group g;
    struct idn_user u;
    struct db *db;
    bool member;
    if (membership(req, "identity:add_user_to_group", &db, &g, &u, &member) < 0)
        return -1;
    int rc = member ? DB_OK
                    : db_exec(db, NULL, NULL,
                              "INSERT INTO user_group (user_id, group_id) VALUES (?, ?)", "ss",
                              u.id, g.id);
    if (rc != DB_OK && rc != DB_CONFLICT)
        return idn_db_fail(req, rc, "group");
    return http_reply_empty(req, 204);
}

int
idn_group_user_check(struct http_req *req)
{
    struct group g;
    struct idn_user u;
    struct db *db;
    bool member;
    if (membership(req, "identity:check_user_in_group", &db, &g, &u, &member) < 0)
        return -1;
    return member ? http_reply_empty(req, 204) : not_member(req, &u, &g);
}

int
idn_group_user_remove(struct http_req *req)
{
    struct group g;
    struct idn_user u;
    struct db *db;
    bool member;
    if (membership(req, "identity:remove_user_from_group", &db, &g, &u, &member) < 0)
        return -1;
    if (!member)
        return not_member(req, &u, &g);
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM user_group WHERE user_id = ? AND group_id = ?",
                     "ss", u.id, g.id);
    /* the roles the group gave are gone from the user's tokens (Keystone
     * revokes them the same way) */
    if (rc == DB_OK)
        rc = idn_revoke(db, u.id, NULL, NULL, NULL);
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "group");
    return http_reply_empty(req, 204);
}
