/* api_rbac.c - /v2.0/rbac-policies: sharing one network with one project
 * (or with every project, "*") by an access_as_shared policy, as Neutron's
 * RBAC does. A policy makes the network visible to its target and lets it
 * put ports and subnets' ports there (not subnets: those stay the owner's,
 * as in Neutron); a "*" policy is the network's "shared" flag.
 *
 * What is not here: other object types (QoS policies, security groups,
 * address scopes, subnet pools) and access_as_external; the flag set with
 * the network API ("shared": true) is not listed as a "*" policy. */
#include "network_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <string.h>

#define RCOLS "id, project_id, object_type, object_id, action, target_tenant"

static json_t *
view(struct db_res *r, int i)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", db_val(r, i, 0), "project_id",
                     db_val(r, i, 1), "tenant_id", db_val(r, i, 1), "object_type",
                     db_val(r, i, 2), "object_id", db_val(r, i, 3), "action", db_val(r, i, 4),
                     "target_tenant", db_val(r, i, 5), "target_project_id", db_val(r, i, 5));
}

/* The policies the caller sees: its own (admin: all); id: that one. */
static int
select_policies(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    bool all = net__admin(req);
    int rc = id ? db_exec(db, req->arena, r, "SELECT " RCOLS " FROM net_rbac WHERE id = ? AND "
                          "(? OR project_id = ?)", "sbs", id, all, req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " RCOLS " FROM net_rbac WHERE ? OR "
                          "project_id = ? ORDER BY id", "bs", all, req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "RbacPolicyNotFound", "RBAC policy of type network with ID "
                         "%s not found", id);
    return 0;
}

int
net__rbacs_list(struct http_req *req)
{
    struct db_res *r;
    if (select_policies(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, view(r, i));
    return net__list_reply(req, "rbac_policies", l);
}

int
net__rbac_show(struct http_req *req)
{
    struct db_res *r;
    if (select_policies(req, http_param(req, "rbac_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "rbac_policy",
                                               net__fields(req, view(r, 0))));
}

static const char *const writable[] = {"object_type", "object_id", "action", "target_tenant",
                                       "target_project_id", "project_id", "tenant_id", NULL};

/* Sets the network's shared flag from whether a "*" policy is left. */
static int
sync_shared(struct db *db, const char *net)
{
    return db_exec(db, NULL, NULL, "UPDATE net_network SET shared = (CASE WHEN EXISTS (SELECT 1 "
                   "FROM net_rbac WHERE object_id = ? AND target_tenant = '*') THEN 1 ELSE "
                   "shared END) WHERE id = ?", "ss", net, net);
}

int
net__rbac_create(struct http_req *req)
{
    json_t *o = net__body(req, "rbac_policy");
    const char *owner, *type, *obj, *action, *target;
    if (!o || net__only(req, o, writable) < 0 || !(owner = net__owner(req, o)) ||
        net__str(req, o, "object_type", 64, NULL, &type) < 0 ||
        net__str(req, o, "object_id", 36, NULL, &obj) < 0 ||
        net__str(req, o, "action", 64, NULL, &action) < 0 ||
        net__str(req, o, "target_tenant", 255, NULL, &target) < 0 ||
        (!target && net__str(req, o, "target_project_id", 255, NULL, &target) < 0))
        return -1;
    if (!type || !obj || !action || !target)
        return net__fail(req, 400, "HTTPBadRequest", "Failed to parse request. Required "
                         "attribute '%s' not specified", !type ? "object_type" : !obj
                         ? "object_id" : !action ? "action" : "target_tenant");
    if (strcmp(type, "network"))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for object_type. Reason: "
                         "'%s' is not in ['network'].", type);
    if (strcmp(action, "access_as_shared"))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for action. Reason: '%s' "
                         "is not in ['access_as_shared'].", action);
    struct db *db = net__db(req);
    struct db_res *n;
    int rc = db ? db_exec(db, req->arena, &n, "SELECT project_id FROM net_network WHERE id = ?",
                          "s", obj) : DB_ERR;
    if (!db)
        return -1;
    if (rc)
        return net__db_fail(req, rc);
    /* only the network's owner (or an admin) shares it; others do not
     * learn it exists */
    if (!n->nrows || (!net__admin(req) && strcmp(db_val(n, 0, 0), req->auth.project_id)))
        return net__fail(req, 404, "NetworkNotFound", "Network %s could not be found.", obj);
    char id[37];
    net__uuid(id);
    rc = db_begin(db);
    struct db_res *dup;
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &dup, "SELECT 1 FROM net_rbac WHERE object_id = ? AND "
                     "action = ? AND target_tenant = ?", "sss", obj, action, target);
    if (rc == DB_OK && dup->nrows) {
        db_end(db, -1);
        return net__fail(req, 409, "DuplicateRbacPolicy", "An RBAC policy already exists with "
                         "those values.");
    }
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "INSERT INTO net_rbac (" RCOLS ") VALUES (?, ?, ?, ?, ?, "
                     "?)", "ssssss", id, owner, type, obj, action, target);
    if (rc == DB_OK)
        rc = sync_shared(db, obj);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    struct db_res *r;
    if (select_policies(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, 201, json_pack("{s:o}", "rbac_policy", view(r, 0)));
}

/* Whether project `target` ("*": anyone but the network's owner) has
 * ports on the network that a policy lets it have. */
static int
in_use(struct db *db, struct arena *a, const char *net, const char *target, bool *used)
{
    struct db_res *r;
    int rc = !strcmp(target, "*")
                 ? db_exec(db, a, &r, "SELECT 1 FROM net_port p JOIN net_network n ON n.id = "
                           "p.network_id WHERE p.network_id = ? AND p.project_id <> n.project_id "
                           "LIMIT 1", "s", net)
                 : db_exec(db, a, &r, "SELECT 1 FROM net_port WHERE network_id = ? AND "
                           "project_id = ? LIMIT 1", "ss", net, target);
    *used = rc == DB_OK && r->nrows;
    return rc;
}

int
net__rbac_update(struct http_req *req)
{
    const char *id = http_param(req, "rbac_id"), *target;
    json_t *o = net__body(req, "rbac_policy");
    struct db_res *r;
    if (!o || select_policies(req, id, &r) < 0)
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
        if (strcmp(k, "target_tenant") && strcmp(k, "target_project_id"))
            return net__fail(req, 400, "HTTPBadRequest", "Cannot update read-only attribute %s",
                             k);
    if (net__str(req, o, "target_tenant", 255, NULL, &target) < 0 ||
        (!target && net__str(req, o, "target_project_id", 255, NULL, &target) < 0))
        return -1;
    if (!target)
        return http_reply_json(req, 200, json_pack("{s:o}", "rbac_policy", view(r, 0)));
    bool used;
    struct db *db = req->db;
    int rc = in_use(db, req->arena, db_val(r, 0, 3), db_val(r, 0, 5), &used);
    if (rc)
        return net__db_fail(req, rc);
    if (used && strcmp(target, "*"))
        return net__fail(req, 409, "RbacPolicyInUse", "RBAC policy on object %s cannot be "
                         "removed because other objects depend on it.", db_val(r, 0, 3));
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE net_rbac SET target_tenant = ? WHERE id = ?", "ss",
                     target, id);
    if (rc == DB_OK && !strcmp(db_val(r, 0, 5), "*"))
        rc = db_exec(db, NULL, NULL, "UPDATE net_network SET shared = 0 WHERE id = ?", "s",
                     db_val(r, 0, 3));
    if (rc == DB_OK)
        rc = sync_shared(db, db_val(r, 0, 3));
    rc = db_end(db, rc);
    if (rc || select_policies(req, id, &r) < 0)
        return rc ? net__db_fail(req, rc) : -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "rbac_policy", view(r, 0)));
}

int
net__rbac_delete(struct http_req *req)
{
    const char *id = http_param(req, "rbac_id");
    struct db_res *r;
    if (select_policies(req, id, &r) < 0)
        return -1;
    bool used;
    struct db *db = req->db;
    const char *net = db_val(r, 0, 3);
    int rc = in_use(db, req->arena, net, db_val(r, 0, 5), &used);
    if (rc)
        return net__db_fail(req, rc);
    if (used)
        return net__fail(req, 409, "RbacPolicyInUse", "RBAC policy on object %s cannot be "
                         "removed because other objects depend on it.", net);
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_rbac WHERE id = ?", "s", id);
    if (rc == DB_OK && !strcmp(db_val(r, 0, 5), "*"))
        rc = db_exec(db, NULL, NULL, "UPDATE net_network SET shared = 0 WHERE id = ?", "s", net);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_empty(req, 204);
}
