/* api_quotas.c - Neutron's quotas (/v2.0/quotas): each project's limits
 * per resource (defaults from onestack.conf [quotas] quota_<resource>,
 * Neutron's own defaults otherwise; -1 is unlimited), set and reset by an
 * admin, shown to the project itself, with usage in details.json, and
 * enforced when the API creates a resource (409 OverQuota).
 *
 * The check counts the project's rows before the insert, as Neutron's
 * quota engine without reservations does: two creates racing for the last
 * unit can both pass. */
#include "network_int.h"
#include "core/arena.h"
#include "core/config.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *table;
    int64_t dflt;
} resources[] = {
    {"network", "net_network", 100}, {"subnet", "net_subnet", 100},
    {"port", "net_port", 500}, {"router", "net_router", 10},
    {"floatingip", "net_fip", 50}, {"security_group", "net_sg", 10},
    {"security_group_rule", "net_sg_rule", 100}, {"subnetpool", "net_subnetpool", -1},
};
#define NRES (sizeof(resources) / sizeof(resources[0]))

static int64_t
default_of(size_t i)
{
    char key[64];
    snprintf(key, sizeof(key), "quota_%s", resources[i].name);
    return cfg_int("quotas", key, resources[i].dflt);
}

/* The limits of project (defaults where none is set) into lim. */
static int
limits(struct db *db, struct arena *a, const char *project, int64_t lim[NRES])
{
    struct db_res *r;
    for (size_t i = 0; i < NRES; i++)
        lim[i] = default_of(i);
    int rc = db_exec(db, a, &r, "SELECT resource, hard_limit FROM net_quota WHERE "
                     "project_id = ?", "s", project);
    for (int k = 0; rc == DB_OK && k < r->nrows; k++)
        for (size_t i = 0; i < NRES; i++)
            if (!strcmp(resources[i].name, db_val(r, k, 0)))
                lim[i] = db_int(r, k, 1);
    return rc;
}

static int64_t
used(struct db *db, struct arena *a, size_t i, const char *project)
{
    struct db_res *r;
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE project_id = ?",
             resources[i].table);
    return db_exec(db, a, &r, sql, "s", project) == DB_OK ? db_int(r, 0, 0) : 0;
}

int
net__quota_check(struct http_req *req, const char *project, const char *resource)
{
    struct db *db = net__db(req);
    int64_t lim[NRES];
    if (!db)
        return -1;
    int rc = limits(db, req->arena, project, lim);
    if (rc)
        return net__db_fail(req, rc);
    for (size_t i = 0; i < NRES; i++)
        if (!strcmp(resources[i].name, resource) && lim[i] >= 0 &&
            used(db, req->arena, i, project) >= lim[i])
            return net__fail(req, 409, "OverQuota", "Quota exceeded for resources: ['%s'].",
                             resource);
    return 0;
}

static json_t *
quota_view(const int64_t lim[NRES])
{
    json_t *q = json_object();
    for (size_t i = 0; i < NRES; i++)
        json_object_set_new(q, resources[i].name, json_integer(lim[i]));
    return q;
}

/* The project of the path, which the caller may see (its own, or any
 * for an admin). */
static const char *
target(struct http_req *req)
{
    const char *p = http_param(req, "project_id");
    if (!net__admin(req) && strcmp(p, req->auth.project_id)) {
        net__fail(req, 403, "HTTPForbidden", "(rule:get_quota) is disallowed by policy");
        return NULL;
    }
    return p;
}

int
net__quotas_list(struct http_req *req)
{
    struct db *db = net__db(req);
    struct db_res *r;
    if (!db)
        return -1;
    if (!net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:get_quota) is disallowed by policy");
    int rc = db_exec(db, req->arena, &r, "SELECT DISTINCT project_id FROM net_quota ORDER BY "
                     "project_id", "");
    if (rc)
        return net__db_fail(req, rc);
    json_t *l = json_array();
    for (int k = 0; k < r->nrows; k++) {
        int64_t lim[NRES];
        if (limits(db, req->arena, db_val(r, k, 0), lim) == DB_OK) {
            json_t *q = quota_view(lim);
            json_object_set_new(q, "project_id", json_string(db_val(r, k, 0)));
            json_object_set_new(q, "tenant_id", json_string(db_val(r, k, 0)));
            json_array_append_new(l, q);
        }
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "quotas", l));
}

/* The path's project (target()) and its limits; NULL with the fault set. */
static const char *
target_limits(struct http_req *req, int64_t lim[NRES])
{
    const char *p = target(req);
    struct db *db = net__db(req);
    if (!p || !db)
        return NULL;
    int rc = limits(db, req->arena, p, lim);
    if (rc) {
        net__db_fail(req, rc);
        return NULL;
    }
    return p;
}

int
net__quota_show(struct http_req *req)
{
    int64_t lim[NRES];
    if (!target_limits(req, lim))
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "quota", quota_view(lim)));
}

int
net__quota_default(struct http_req *req)
{
    int64_t lim[NRES];
    if (!target(req))
        return -1;
    for (size_t i = 0; i < NRES; i++)
        lim[i] = default_of(i);
    return http_reply_json(req, 200, json_pack("{s:o}", "quota", quota_view(lim)));
}

int
net__quota_details(struct http_req *req)
{
    int64_t lim[NRES];
    const char *p = target_limits(req, lim);
    if (!p)
        return -1;
    json_t *q = json_object();
    for (size_t i = 0; i < NRES; i++)
        json_object_set_new(q, resources[i].name, json_pack(
            "{s:I,s:I,s:i}", "limit", (json_int_t)lim[i], "used",
            (json_int_t)used(req->db, req->arena, i, p), "reserved", 0));
    return http_reply_json(req, 200, json_pack("{s:o}", "quota", q));
}

int
net__quota_update(struct http_req *req)
{
    const char *p = http_param(req, "project_id");
    json_t *o = net__body(req, "quota");
    struct db *db = net__db(req);
    if (!o || !db)
        return -1;
    if (!net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_quota) is disallowed by "
                         "policy");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (i < NRES && strcmp(resources[i].name, key))
            i++;
        if (i == NRES)
            return net__fail(req, 400, "HTTPBadRequest", "Unrecognized attribute(s) '%s'", key);
        if (!json_is_integer(v) || json_integer_value(v) < -1)
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for %s. Reason: '%s' "
                             "is not a valid integer of at least -1.", key, "value");
    }
    int rc = db_begin(db);
    json_object_foreach(o, key, v) {
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "DELETE FROM net_quota WHERE project_id = ? AND "
                         "resource = ?", "ss", p, key);
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "INSERT INTO net_quota (project_id, resource, "
                         "hard_limit) VALUES (?, ?, ?)", "ssi", p, key,
                         (int64_t)json_integer_value(v));
    }
    rc = db_end(db, rc);
    int64_t lim[NRES];
    if (rc == DB_OK)
        rc = limits(db, req->arena, p, lim);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "quota", quota_view(lim)));
}

int
net__quota_delete(struct http_req *req)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    if (!net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:delete_quota) is disallowed by "
                         "policy");
    int rc = db_exec(db, NULL, NULL, "DELETE FROM net_quota WHERE project_id = ?", "s",
                     http_param(req, "project_id"));
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_empty(req, 204);
}
