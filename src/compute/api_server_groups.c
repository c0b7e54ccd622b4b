/* api_server_groups.c - /os-server-groups: groups with a placement policy
 * (affinity, anti-affinity, soft-affinity, soft-anti-affinity; 2.15 adds
 * the soft ones, 2.64 one "policy" and "rules" in place of "policies"),
 * their members (the live servers booted with the "group" scheduler hint)
 * and the two quotas server_groups and server_group_members. The scheduler
 * (sched.c) enforces the policy. */
#include "compute_int.h"
#include "srv_db.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

static json_t *
view(struct http_req *req, const struct cmp_group *g)
{
    struct db_res *r;
    json_t *members = json_array();
    if (srv_db_group_members(req->db, req->arena, g->id, &r) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_array_append_new(members, json_string(db_val(r, i, 0)));
    json_t *v = json_pack("{s:s,s:s,s:o}", "id", g->id, "name", g->name, "members", members);
    if (cmp__mv(req, 2, 64)) {
        json_t *rules = json_loads(g->rules, 0, NULL);
        json_object_set_new(v, "policy", json_string(g->policy));
        json_object_set_new(v, "rules", rules ? rules : json_object());
    } else {
        json_object_set_new(v, "policies", json_pack("[s]", g->policy));
        json_object_set_new(v, "metadata", json_object());
    }
    if (cmp__mv(req, 2, 13)) {
        json_object_set_new(v, "project_id", json_string(g->project_id));
        json_object_set_new(v, "user_id", json_string(g->user_id));
    }
    return v;
}

static bool
known_policy(struct http_req *req, const char *p)
{
    bool soft = cmp__mv(req, 2, 15);
    return p && (!strcmp(p, "affinity") || !strcmp(p, "anti-affinity") ||
                 (soft && (!strcmp(p, "soft-affinity") || !strcmp(p, "soft-anti-affinity"))));
}

int
cmp__group_create(struct http_req *req)
{
    json_t *body = cmp__body(req), *v;
    if (!body || cmp__policy(req, "os_compute_api:os-server-groups:create", NULL,
                             req->auth.project_id) < 0 || !cmp__db(req))
        return -1;
    json_t *sg = json_object_get(body, "server_group");
    if (!json_is_object(sg))
        return req_fail(req, 400, "Invalid input for field/attribute server_group. Value: %s. "
                        "'server_group' is a required property", cmp__repr(req, body));
    const char *name = json_string_value(json_object_get(sg, "name"));
    if (!name || !*name || strlen(name) > 255)
        return cmp__invalid(req, "name", json_object_get(sg, "name"), "is not a valid name");
    const char *policy = NULL, *rules = "{}";
    if (cmp__mv(req, 2, 64)) {
        v = json_object_get(sg, "policy");
        policy = json_string_value(v);
        if (!known_policy(req, policy))
            return cmp__invalid(req, "policy", v, "is not one of ['anti-affinity', "
                                "'affinity', 'soft-anti-affinity', 'soft-affinity']");
        json_t *r = json_object_get(sg, "rules");
        if (r && (!json_is_object(r) || (json_object_size(r) &&
                                         strcmp(policy, "anti-affinity"))))
            return req_fail(req, 400, "Only anti-affinity policy supports rules.");
        json_t *m = json_object_get(r, "max_server_per_host");
        if (m && (!json_is_integer(m) || json_integer_value(m) < 1))
            return cmp__invalid(req, "max_server_per_host", m, "is less than the minimum "
                                "of 1");
        if (r) {
            char *t = json_dumps(r, JSON_COMPACT);
            rules = arena_strdup(req->arena, t);
            free(t);
        }
    } else {
        v = json_object_get(sg, "policies");
        if (!json_is_array(v) || json_array_size(v) != 1 ||
            !known_policy(req, json_string_value(json_array_get(v, 0))))
            return cmp__invalid(req, "policies", v, "is not a valid list of one policy");
        policy = json_string_value(json_array_get(v, 0));
    }
    char id[37];
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    struct cmp_group g = {id, name, req->auth.project_id, req->auth.user_id, policy, rules,
                          now_us()};
    int64_t max = cmp__quota_limit(req, g.project_id, "server_groups");
    int rc = srv_db_group_create(req->db, &g, max);
    if (rc == -EDQUOT)
        return req_fail(req, 403, "Quota exceeded, too many server groups.");
    if (rc)
        return cmp__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "server_group", view(req, &g)));
}

int
cmp__group_list(struct http_req *req)
{
    int64_t limit;
    if (cmp__policy(req, "os_compute_api:os-server-groups:index", NULL,
                    req->auth.project_id) < 0 || cmp__limit(req, &limit) < 0 || !cmp__db(req))
        return -1;
    const char *all = http_query(req, "all_projects");
    bool every = cmp__admin(req) && all && strcasecmp(all, "false") && strcmp(all, "0");
    struct cmp_group *g;
    int n = 0;
    int rc = srv_db_group_list(req->db, req->arena, every ? NULL : req->auth.project_id, &g,
                               &n);
    if (rc)
        return cmp__db_fail(req, rc);
    const char *off = http_query(req, "offset");
    int start = off ? atoi(off) : 0;
    json_t *arr = json_array();
    for (int i = start < 0 ? 0 : start; i < n && (int64_t)json_array_size(arr) < limit; i++)
        json_array_append_new(arr, view(req, &g[i]));
    return http_reply_json(req, 200, json_pack("{s:o}", "server_groups", arr));
}

/* The group of the path if the caller may see it (its project, or admin). */
static int
find(struct http_req *req, const char *policy, struct cmp_group *g)
{
    const char *id = http_param(req, "group_id");
    if (!cmp__db(req))
        return -1;
    int rc = srv_db_group_get(req->db, req->arena, id, g);
    if (rc == 0 && !cmp__admin(req) &&
        (!req->auth.project_id || strcmp(g->project_id, req->auth.project_id)))
        rc = -ENOENT;
    if (rc == -ENOENT)
        return req_fail(req, 404, "Instance group %s could not be found.", id);
    if (rc)
        return cmp__db_fail(req, rc);
    return cmp__policy(req, policy, NULL, g->project_id);
}

int
cmp__group_show(struct http_req *req)
{
    struct cmp_group g;
    if (find(req, "os_compute_api:os-server-groups:show", &g) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "server_group", view(req, &g)));
}

int
cmp__group_delete(struct http_req *req)
{
    struct cmp_group g;
    if (find(req, "os_compute_api:os-server-groups:delete", &g) < 0)
        return -1;
    int rc = srv_db_group_delete(req->db, g.id);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Instance group %s could not be found.", g.id);
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 204);
}

int
cmp__group_check_hint(struct http_req *req, const char *id)
{
    struct cmp_group g;
    struct db_res *r;
    int rc = srv_db_group_get(req->db, req->arena, id, &g);
    if (rc == 0 && !cmp__admin(req) &&
        (!req->auth.project_id || strcmp(g.project_id, req->auth.project_id)))
        rc = -ENOENT;
    if (rc == -ENOENT)
        return req_fail(req, 400, "Invalid input for field/attribute group. Value: %s. "
                        "Instance group %s could not be found.", id, id);
    if (rc || (rc = srv_db_group_members(req->db, req->arena, id, &r)))
        return cmp__db_fail(req, rc);
    int64_t max = cmp__quota_limit(req, g.project_id, "server_group_members");
    if (max >= 0 && r->nrows >= max)
        return req_fail(req, 403, "Quota exceeded, too many servers in group");
    return 0;
}
