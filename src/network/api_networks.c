/* api_networks.c - /v2.0/networks: create, list, show, update, delete,
 * with Neutron's visibility (own, shared and external networks; admin
 * sees all), its admin-only attributes (shared and router:external on
 * create and update, provider:* on every view) and its messages. The
 * provider network type is "vxlan" for project networks and "flat" for
 * external ones: that is how the host builds them (docs/network.md). */
#include "network_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <uuid/uuid.h>
#include <stdio.h>
#include <string.h>

#define NCOLS "id, project_id, name, description, admin_state_up, shared, external, mtu, " \
              "network_type, physical_network, segmentation_id, port_security, created_at, " \
              "updated_at, revision"
#define NET_MAX_MTU 9000
#define NET_DEFAULT_MTU 1450    /* a VXLAN network on a 1500-byte underlay */

static json_t *
view(struct http_req *req, struct db_res *r, int i)
{
    json_t *n = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:s,s:[],s:[],s:[],s:n,s:n,s:b,s:[],s:s,s:s,"
        "s:I,s:b}",
        "id", db_val(r, i, 0), "project_id", db_val(r, i, 1), "tenant_id", db_val(r, i, 1),
        "name", db_val(r, i, 2), "description", db_val(r, i, 3), "admin_state_up",
        (int)db_int(r, i, 4), "shared", (int)db_int(r, i, 5), "router:external",
        (int)db_int(r, i, 6), "mtu", (json_int_t)db_int(r, i, 7), "status", "ACTIVE",
        "subnets", "availability_zone_hints", "availability_zones", "ipv4_address_scope",
        "ipv6_address_scope", "port_security_enabled", (int)db_int(r, i, 11), "tags",
        "created_at", net__time(req, db_int(r, i, 12)), "updated_at",
        net__time(req, db_int(r, i, 13)), "revision_number", (json_int_t)db_int(r, i, 14),
        "l2_adjacency", 1);
    json_array_append_new(json_object_get(n, "availability_zones"), json_string("nova"));
    struct db_res *sub;
    if (db_exec(req->db, req->arena, &sub, "SELECT id FROM net_subnet WHERE network_id = ? "
                "ORDER BY created_at, id", "s", db_val(r, i, 0)) == DB_OK)
        for (int k = 0; k < sub->nrows; k++)
            json_array_append_new(json_object_get(n, "subnets"), json_string(db_val(sub, k, 0)));
    if (net__admin(req)) {
        json_object_set_new(n, "provider:network_type", json_string(db_val(r, i, 8)));
        json_object_set_new(n, "provider:physical_network",
                            db_val(r, i, 9) ? json_string(db_val(r, i, 9)) : json_null());
        json_object_set_new(n, "provider:segmentation_id",
                            db_val(r, i, 10) ? json_integer(db_int(r, i, 10)) : json_null());
    }
    return n;
}

/* The networks the caller sees (id: only that one). */
static int
visible(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    int rc;
    if (net__admin(req))
        rc = id ? db_exec(db, req->arena, r, "SELECT " NCOLS " FROM net_network WHERE id = ?",
                          "s", id)
                : db_exec(db, req->arena, r, "SELECT " NCOLS " FROM net_network", "");
    else
        rc = id ? db_exec(db, req->arena, r, "SELECT " NCOLS " FROM net_network WHERE id = ? "
                          "AND (project_id = ? OR shared = 1 OR external = 1 OR " NET_RBAC_TO
                          ")", "sss", id, req->auth.project_id, req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " NCOLS " FROM net_network WHERE "
                          "project_id = ? OR shared = 1 OR external = 1 OR " NET_RBAC_TO, "ss",
                          req->auth.project_id, req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "NetworkNotFound", "Network %s could not be found.", id);
    return 0;
}

int
net__networks_list(struct http_req *req)
{
    struct db_res *r;
    if (visible(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, view(req, r, i));
    return net__list_reply(req, "networks", l);
}

int
net__network_show(struct http_req *req)
{
    struct db_res *r;
    if (visible(req, http_param(req, "network_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "network",
                                               net__fields(req, view(req, r, 0))));
}

static const char *const writable[] = {
    "name", "description", "admin_state_up", "shared", "router:external", "mtu",
    "port_security_enabled", "project_id", "tenant_id", "provider:network_type",
    "provider:physical_network", "provider:segmentation_id", "availability_zone_hints",
    NULL};

/* The admin-only attributes Neutron's default policy guards. */
static int
admin_only(struct http_req *req, json_t *o, const char *action)
{
    static const char *const keys[] = {"shared", "router:external", "provider:network_type",
                                       "provider:physical_network",
                                       "provider:segmentation_id", NULL};
    for (int i = 0; keys[i]; i++)
        if (json_object_get(o, keys[i]) && !net__admin(req))
            return net__fail(req, 403, "HTTPForbidden", "(rule:%s_network:%s) is disallowed "
                             "by policy", action, keys[i]);
    return 0;
}

static int
mtu_of(struct http_req *req, json_t *o, int64_t dflt, int64_t *out)
{
    json_t *v = json_object_get(o, "mtu");
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 68)
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for mtu. Reason: '%s' "
                         "is not a valid integer of at least 68.",
                         json_is_integer(v) ? "value" : "non-integer");
    if (json_integer_value(v) > NET_MAX_MTU)
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: Requested "
                         "MTU is too big, maximum is %d.", NET_MAX_MTU);
    *out = json_integer_value(v);
    return 0;
}

int
net__network_create(struct http_req *req)
{
    if (req->json && json_is_array(json_object_get(req->json, "networks")))
        return net__bulk(req, "network", "networks", net__network_create, net__network_delete, "network_id");
    json_t *o = net__body(req, "network");
    if (!o || net__only(req, o, writable) < 0 || admin_only(req, o, "create") < 0)
        return -1;
    const char *owner = net__owner(req, o), *name, *desc, *ptype = NULL, *phys = NULL;
    bool up, shared, ext, psec;
    int64_t mtu;
    if (!owner || net__quota_check(req, owner, "network") < 0 ||
        net__str(req, o, "name", 255, "", &name) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0 ||
        net__bool(req, o, "admin_state_up", true, &up) < 0 ||
        net__bool(req, o, "shared", false, &shared) < 0 ||
        net__bool(req, o, "router:external", false, &ext) < 0 ||
        net__bool(req, o, "port_security_enabled", true, &psec) < 0 ||
        mtu_of(req, o, ext ? 1500 : NET_DEFAULT_MTU, &mtu) < 0 ||
        net__str(req, o, "provider:network_type", 32, NULL, &ptype) < 0 ||
        net__str(req, o, "provider:physical_network", 64, NULL, &phys) < 0)
        return -1;
    /* what the host can build: a bridge per network, VXLAN between
     * hosts, or flat on a physical network */
    if (ptype && strcmp(ptype, "vxlan") && strcmp(ptype, "flat") && strcmp(ptype, "local"))
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: network_type "
                         "value '%s' not supported.", ptype);
    if (!ptype)
        ptype = ext ? "flat" : "vxlan";
    if (!phys && !strcmp(ptype, "flat"))
        phys = "public";
    char id[37];
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    int64_t now = now_us();
    struct db *db = net__db(req);
    if (!db)
        return -1;
    /* a VXLAN id per network: the smallest free one from 1 */
    int rc = db_exec(db, NULL, NULL, "INSERT INTO net_network (" NCOLS ") VALUES (?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, CASE WHEN ? = 'vxlan' THEN (SELECT COALESCE(MAX("
                     "segmentation_id), 0) + 1 FROM net_network WHERE network_type = 'vxlan') "
                     "ELSE NULL END, ?, ?, ?, 1)", "ssssiiiisssiii", id, owner, name, desc,
                     (int64_t)up, (int64_t)shared, (int64_t)ext, mtu, ptype, phys, ptype,
                     (int64_t)psec, now, now);
    if (rc)
        return net__db_fail(req, rc);
    struct db_res *r;
    if (visible(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, 201, json_pack("{s:o}", "network", view(req, r, 0)));
}

int
net__network_update(struct http_req *req)
{
    const char *id = http_param(req, "network_id");
    json_t *o = net__body(req, "network");
    struct db_res *r;
    if (!o || visible(req, id, &r) < 0 || net__only(req, o, writable) < 0 ||
        admin_only(req, o, "update") < 0)
        return -1;
    if (!net__admin(req) && strcmp(db_val(r, 0, 1), req->auth.project_id))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_network) is disallowed by "
                         "policy");
    if (json_object_get(o, "project_id") || json_object_get(o, "tenant_id") ||
        json_object_get(o, "provider:network_type") ||
        json_object_get(o, "provider:physical_network") ||
        json_object_get(o, "provider:segmentation_id"))
        return net__fail(req, 400, "HTTPBadRequest", "Cannot update read-only attribute");
    const char *name, *desc;
    bool up, shared, ext, psec;
    int64_t mtu;
    if (net__str(req, o, "name", 255, db_val(r, 0, 2), &name) < 0 ||
        net__str(req, o, "description", 255, db_val(r, 0, 3), &desc) < 0 ||
        net__bool(req, o, "admin_state_up", db_int(r, 0, 4), &up) < 0 ||
        net__bool(req, o, "shared", db_int(r, 0, 5), &shared) < 0 ||
        net__bool(req, o, "router:external", db_int(r, 0, 6), &ext) < 0 ||
        net__bool(req, o, "port_security_enabled", db_int(r, 0, 11), &psec) < 0 ||
        mtu_of(req, o, db_int(r, 0, 7), &mtu) < 0)
        return -1;
    int rc = db_exec(req->db, NULL, NULL, "UPDATE net_network SET name = ?, description = ?, "
                     "admin_state_up = ?, shared = ?, external = ?, mtu = ?, "
                     "port_security = ?, updated_at = ?, revision = revision + 1 WHERE id = ?",
                     "ssiiiiiis", name, desc, (int64_t)up, (int64_t)shared, (int64_t)ext, mtu,
                     (int64_t)psec, now_us(), id);
    /* unshared: the "*" policy that shared it goes too */
    if (rc == DB_OK && !shared)
        rc = db_exec(req->db, NULL, NULL, "DELETE FROM net_rbac WHERE object_id = ? AND "
                     "target_tenant = '*'", "s", id);
    if (rc)
        return net__db_fail(req, rc);
    if (visible(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "network", view(req, r, 0)));
}

int
net__network_delete(struct http_req *req)
{
    const char *id = http_param(req, "network_id");
    struct db_res *r;
    if (visible(req, id, &r) < 0)
        return -1;
    if (!net__admin(req) && strcmp(db_val(r, 0, 1), req->auth.project_id))
        return net__fail(req, 403, "HTTPForbidden", "(rule:delete_network) is disallowed by "
                         "policy");
    /* only the network's own DHCP port may be left: it goes with it */
    struct db *db = req->db;
    struct db_res *used;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &used, "SELECT 1 FROM net_port WHERE network_id = ? AND "
                     "device_owner <> 'network:dhcp'", "s", id);
    if (rc == DB_OK && used->nrows) {
        db_end(db, -1);
        return net__fail(req, 409, "NetworkInUse", "Unable to complete operation on network "
                         "%s. There are one or more ports still in use on the network.", id);
    }
    static const char *const gone[] = {
        "DELETE FROM net_tag WHERE resource_id IN (SELECT id FROM net_port WHERE network_id = ?)",
        "DELETE FROM net_tag WHERE resource_id IN (SELECT id FROM net_subnet WHERE "
        "network_id = ?)",
        "DELETE FROM net_rbac WHERE object_id = ?",
        "DELETE FROM net_ipalloc WHERE network_id = ?",
        "DELETE FROM net_port WHERE network_id = ?",
        "DELETE FROM net_subnet WHERE network_id = ?",
        "DELETE FROM net_network WHERE id = ?"};
    for (size_t i = 0; rc == DB_OK && i < sizeof(gone) / sizeof(gone[0]); i++)
        rc = db_exec(db, NULL, NULL, gone[i], "s", id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_empty(req, 204);
}

int
net__network_use(struct http_req *req, const char *id, bool shared_ok, const char **owner,
                 bool *port_security)
{
    struct db_res *r;
    if (!id)
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input: network_id is "
                                                     "required");
    if (visible(req, id, &r) < 0)
        return -1;
    bool own = !strcmp(db_val(r, 0, 1), req->auth.project_id), shared = db_int(r, 0, 5);
    struct db_res *pol;
    if (!own && !shared && shared_ok &&
        db_exec(req->db, req->arena, &pol, "SELECT 1 FROM net_rbac WHERE object_id = ? AND "
                "target_tenant = ?", "ss", id, req->auth.project_id) == DB_OK)
        shared = pol->nrows > 0;    /* shared with this project by a policy */
    if (!net__admin(req) && !own && !(shared_ok && shared))
        return net__fail(req, 403, "HTTPForbidden", "(rule:create_%s) is disallowed by policy",
                         shared_ok ? "port" : "subnet");
    if (owner)
        *owner = db_val(r, 0, 1);
    if (port_security)
        *port_security = db_int(r, 0, 11) != 0;
    return 0;
}
