/* api_routers.c - /v2.0/routers: routers with an external gateway (a
 * port on an external network, SNAT on by default), interfaces by subnet
 * (a port holding the subnet's gateway address) or by port, extra
 * routes, Neutron's checks and messages. The router's ports are ordinary
 * ports (device_owner network:router_interface / network:router_gateway,
 * device_id the router); the host builds the router from them (plan.c:
 * net__plan_routers). */
#include "network_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RCOLS "id, project_id, name, description, admin_state_up, gw_network_id, enable_snat, " \
              "routes, created_at, updated_at, revision"
#define IFACE_OWNER "network:router_interface"
#define GW_OWNER "network:router_gateway"

static json_t *
ports_ips(struct db *db, struct arena *a, const char *router, const char *owner)
{
    struct db_res *r;
    json_t *l = json_array();
    if (db_exec(db, a, &r, "SELECT a.subnet_id, a.ip_address FROM net_ipalloc a JOIN net_port p "
                "ON p.id = a.port_id WHERE p.device_id = ? AND p.device_owner = ? ORDER BY "
                "a.subnet_id", "ss", router, owner) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_array_append_new(l, json_pack("{s:s,s:s}", "subnet_id", db_val(r, i, 0),
                                               "ip_address", db_val(r, i, 1)));
    return l;
}

static json_t *
view(struct http_req *req, struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0);
    json_t *routes = json_loads(db_val(r, i, 7), 0, NULL);
    json_t *v = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:o,s:b,s:b,s:[],s:[s],s:n,s:[],s:s,s:s,s:I}", "id", id,
        "project_id", db_val(r, i, 1), "tenant_id", db_val(r, i, 1), "name", db_val(r, i, 2),
        "description", db_val(r, i, 3), "admin_state_up", (int)db_int(r, i, 4), "status",
        "ACTIVE", "routes", routes ? routes : json_array(), "distributed", 0, "ha", 0,
        "availability_zone_hints", "availability_zones", "nova", "flavor_id", "tags",
        "created_at", net__time(req, db_int(r, i, 8)), "updated_at",
        net__time(req, db_int(r, i, 9)), "revision_number", (json_int_t)db_int(r, i, 10));
    json_t *gw = json_null();
    if (db_val(r, i, 5))
        gw = json_pack("{s:s,s:b,s:o}", "network_id", db_val(r, i, 5), "enable_snat",
                       (int)db_int(r, i, 6), "external_fixed_ips",
                       ports_ips(req->db, req->arena, id, GW_OWNER));
    json_object_set_new(v, "external_gateway_info", gw);
    return v;
}

static int
select_routers(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    bool all = net__admin(req);
    int rc = id ? db_exec(db, req->arena, r, "SELECT " RCOLS " FROM net_router WHERE id = ? AND "
                          "(? OR project_id = ?)", "sbs", id, all, req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " RCOLS " FROM net_router WHERE ? OR "
                          "project_id = ? ORDER BY created_at, id", "bs", all,
                          req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "RouterNotFound", "Router %s could not be found", id);
    return 0;
}

static int
reply_router(struct http_req *req, int status, const char *id)
{
    struct db_res *r;
    if (select_routers(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, status, json_pack("{s:o}", "router", view(req, r, 0)));
}

int
net__routers_list(struct http_req *req)
{
    struct db_res *r;
    if (select_routers(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, view(req, r, i));
    return net__list_reply(req, "routers", l);
}

int
net__router_show(struct http_req *req)
{
    struct db_res *r;
    if (select_routers(req, http_param(req, "router_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "router",
                                               net__fields(req, view(req, r, 0))));
}

/* Deletes port id with its addresses and groups (caller's transaction). */
int
net__port_remove(struct db *db, const char *id)
{
    int rc = db_exec(db, NULL, NULL, "DELETE FROM net_ipalloc WHERE port_id = ?", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_port_sg WHERE port_id = ?", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_port WHERE id = ?", "s", id);
    return rc;
}

/* Sets (or, with info null, clears) router id's gateway: checks the
 * network is external, replaces the gateway port. */
static int
set_gateway(struct http_req *req, const char *id, json_t *info)
{
    struct db *db = req->db;
    struct db_res *r;
    const char *net = json_string_value(json_object_get(info, "network_id"));
    bool snat = true;
    /* Neutron takes {} as null: no gateway (clears one on update) */
    if (json_is_object(info) && !json_object_size(info))
        info = NULL;
    if (info && !json_is_null(info)) {
        if (!json_is_object(info) || !net)
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for "
                             "external_gateway_info. Reason: network_id is required.");
        if (net__bool(req, info, "enable_snat", true, &snat) < 0)
            return -1;
        if (json_object_get(info, "enable_snat") && !net__admin(req))
            return net__fail(req, 403, "HTTPForbidden", "(rule:update_router:"
                             "external_gateway_info:enable_snat) is disallowed by policy");
        int rc = db_exec(db, req->arena, &r, "SELECT external FROM net_network WHERE id = ?",
                         "s", net);
        if (rc)
            return net__db_fail(req, rc);
        if (!r->nrows)
            return net__fail(req, 404, "NetworkNotFound", "Network %s could not be found.",
                             net);
        if (!db_int(r, 0, 0))
            return net__fail(req, 400, "BadRequest", "Bad router request: Network %s is not "
                             "an external network.", net);
    }
    /* the gateway port is remade only when the network changes */
    int rc = db_exec(db, req->arena, &r, "SELECT id, network_id FROM net_port WHERE device_id = "
                     "? AND device_owner = ?", "ss", id, GW_OWNER);
    if (rc)
        return net__db_fail(req, rc);
    bool same = r->nrows && net && !strcmp(db_val(r, 0, 1), net);
    if (r->nrows && !same) {
        struct db_res *f;
        rc = db_exec(db, req->arena, &f, "SELECT 1 FROM net_fip WHERE router_id = ? LIMIT 1", "s",
                     id);
        if (rc == DB_OK && f->nrows)
            return net__fail(req, 409, "RouterExternalGatewayInUseByFloatingIp", "Gateway "
                             "cannot be updated for router %s, since a gateway to external "
                             "network %s is required by one or more floating IPs.", id,
                             db_val(r, 0, 1));
        rc = db_begin(db);
        if (rc == DB_OK)
            rc = net__port_remove(db, db_val(r, 0, 0));
        rc = db_end(db, rc);
        if (rc)
            return net__db_fail(req, rc);
    }
    if (net && !same) {
        char pid[37];
        net__uuid(pid);
        json_t *fips = json_object_get(info, "external_fixed_ips");
        struct net_port_new p = {.id = pid, .project = "", .network = net, .name = "",
                                 .desc = "", .device_id = id, .device_owner = GW_OWNER,
                                 .host = "", .vnic = "normal", .pairs = "[]", .up = true,
                                 .fixed_ips = json_array_size(fips) ? fips : NULL};
        struct net_err e;
        if (net__port_insert(db, req->arena, &p, &e) < 0)
            return net__fail(req, e.status, e.type, "%s", e.msg);
    }
    rc = db_exec(db, NULL, NULL, "UPDATE net_router SET gw_network_id = ?, enable_snat = ? WHERE "
                 "id = ?", "sbs", net, snat, id);
    return rc ? net__db_fail(req, rc) : 0;
}

/* Neutron's routes: [{"destination": cidr, "nexthop": ip}] as JSON text. */
static int
routes_in(struct http_req *req, json_t *o, const char *dflt, const char **out)
{
    json_t *l = json_object_get(o, "routes");
    *out = dflt;
    if (!l)
        return 0;
    if (json_is_null(l)) {      /* Neutron's way to clear them */
        *out = "[]";
        return 0;
    }
    size_t i;
    json_t *e;
    if (!json_is_array(l))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for routes. Reason: not a "
                         "list.");
    json_array_foreach(l, i, e) {
        const char *d = json_string_value(json_object_get(e, "destination"));
        const char *n = json_string_value(json_object_get(e, "nexthop"));
        ip128 a;
        int len;
        bool hb;
        if (!d || !n || !cidr_parse(d, &a, &len, &hb) || !ip_parse(n, 0, &a))
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for routes. Reason: "
                             "'%s' is not a valid route.", d ? d : "None");
    }
    char *t = json_dumps(l, JSON_COMPACT);
    *out = arena_strdup(req->arena, t);
    free(t);
    return 0;
}

static const char *const writable[] = {"name", "description", "admin_state_up",
                                       "external_gateway_info", "routes", "project_id",
                                       "tenant_id", "distributed", "ha",
                                       "availability_zone_hints", NULL};

int
net__router_create(struct http_req *req)
{
    json_t *o = net__body(req, "router");
    const char *owner, *name, *desc, *routes;
    bool up;
    if (!o || net__only(req, o, writable) < 0 || !(owner = net__owner(req, o)) ||
        net__quota_check(req, owner, "router") < 0 ||
        net__str(req, o, "name", 255, "", &name) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0 ||
        net__bool(req, o, "admin_state_up", true, &up) < 0 ||
        routes_in(req, o, "[]", &routes) < 0)
        return -1;
    if (strcmp(routes, "[]"))
        return net__fail(req, 400, "HTTPBadRequest", "Routes can only be set on a router "
                         "with interfaces: update it once they are added.");
    struct db *db = net__db(req);
    if (!db)
        return -1;
    char id[37];
    net__uuid(id);
    int64_t now = now_us();
    int rc = db_exec(db, NULL, NULL, "INSERT INTO net_router (" RCOLS ") VALUES (?, ?, ?, ?, ?, "
                     "NULL, 1, '[]', ?, ?, 1)", "ssssbii", id, owner, name, desc, up, now, now);
    if (rc)
        return net__db_fail(req, rc);
    json_t *gw = json_object_get(o, "external_gateway_info");
    if (gw && !json_is_null(gw) && set_gateway(req, id, gw) < 0) {
        db_exec(db, NULL, NULL, "DELETE FROM net_router WHERE id = ?", "s", id);
        return -1;
    }
    hostapi_kick();
    return reply_router(req, 201, id);
}

/* Whether nexthop is on one of router id's interface subnets. */
static bool
nexthop_ok(struct http_req *req, const char *id, const char *nexthop)
{
    struct db_res *r;
    ip128 n;
    int v = ip_parse(nexthop, 0, &n);
    if (db_exec(req->db, req->arena, &r, "SELECT s.cidr FROM net_subnet s JOIN net_ipalloc a ON "
                "a.subnet_id = s.id JOIN net_port p ON p.id = a.port_id WHERE p.device_id = ? "
                "AND p.device_owner = ?", "ss", id, IFACE_OWNER) != DB_OK)
        return false;
    for (int i = 0; i < r->nrows; i++) {
        ip128 a;
        int len;
        bool hb;
        if (cidr_parse(db_val(r, i, 0), &a, &len, &hb) == v && n >= net_first(a, len, v) &&
            n <= net_last(a, len, v))
            return true;
    }
    return false;
}

int
net__router_update(struct http_req *req)
{
    const char *id = http_param(req, "router_id");
    json_t *o = net__body(req, "router");
    struct db_res *r;
    if (!o || select_routers(req, id, &r) < 0 || net__only(req, o, writable) < 0)
        return -1;
    const char *name, *desc, *routes;
    bool up;
    if (net__str(req, o, "name", 255, db_val(r, 0, 2), &name) < 0 ||
        net__str(req, o, "description", 255, db_val(r, 0, 3), &desc) < 0 ||
        net__bool(req, o, "admin_state_up", db_int(r, 0, 4), &up) < 0 ||
        routes_in(req, o, db_val(r, 0, 7), &routes) < 0)
        return -1;
    json_t *rl = json_object_get(o, "routes");
    size_t i;
    json_t *e;
    json_array_foreach(rl, i, e) {
        const char *nh = json_string_value(json_object_get(e, "nexthop"));
        if (!nexthop_ok(req, id, nh))
            return net__fail(req, 400, "InvalidRoutes", "Invalid format for routes: %s, the "
                             "nexthop does not belong to router's subnets", routes);
    }
    json_t *gw = json_object_get(o, "external_gateway_info");
    if (gw && set_gateway(req, id, gw) < 0)
        return -1;
    int rc = db_exec(req->db, NULL, NULL, "UPDATE net_router SET name = ?, description = ?, "
                     "admin_state_up = ?, routes = ?, updated_at = ?, revision = revision + 1 "
                     "WHERE id = ?", "ssbsis", name, desc, up, routes, now_us(), id);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return reply_router(req, 200, id);
}

int
net__router_delete(struct http_req *req)
{
    const char *id = http_param(req, "router_id");
    struct db_res *r, *p;
    if (select_routers(req, id, &r) < 0)
        return -1;
    struct db *db = req->db;
    int rc = db_exec(db, req->arena, &p, "SELECT 1 FROM net_port WHERE device_id = ? AND "
                     "device_owner = ?", "ss", id, IFACE_OWNER);
    if (rc)
        return net__db_fail(req, rc);
    if (p->nrows)
        return net__fail(req, 409, "RouterInUse", "Router %s still has ports", id);
    rc = db_exec(db, req->arena, &p, "SELECT 1 FROM net_fip WHERE router_id = ?", "s", id);
    if (rc == DB_OK && p->nrows)
        return net__fail(req, 409, "RouterInUse", "Router %s still has floating IPs", id);
    rc = db_exec(db, req->arena, &p, "SELECT id FROM net_port WHERE device_id = ? AND "
                 "device_owner = ?", "ss", id, GW_OWNER);
    if (rc == DB_OK)
        rc = db_begin(db);
    for (int i = 0; rc == DB_OK && i < p->nrows; i++)
        rc = net__port_remove(db, db_val(p, i, 0));
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_router WHERE id = ?", "s", id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return http_reply_empty(req, 204);
}

/* ---- interfaces ---- */

static int
iface_reply(struct http_req *req, const char *router, const char *project, const char *port)
{
    struct db_res *r;
    int rc = db_exec(req->db, req->arena, &r, "SELECT p.network_id, a.subnet_id FROM net_port p "
                     "LEFT JOIN net_ipalloc a ON a.port_id = p.id WHERE p.id = ? ORDER BY "
                     "a.subnet_id", "s", port);
    if (rc || !r->nrows)
        return net__db_fail(req, rc ? rc : DB_ERR);
    json_t *subs = json_array();
    for (int i = 0; i < r->nrows; i++)
        if (db_val(r, i, 1))
            json_array_append_new(subs, json_string(db_val(r, i, 1)));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "id", router, "port_id", port,
                          "network_id", db_val(r, 0, 0), "tenant_id", project, "project_id",
                          project, "subnet_ids", subs);
    json_object_set_new(o, "subnet_id", json_incref(json_array_get(subs, 0)));
    return http_reply_json(req, 200, o);
}

/* Whether cidr overlaps a subnet router id already has an interface on. */
static bool
overlaps(struct http_req *req, const char *id, const struct net_subnet *s)
{
    struct db_res *r;
    if (db_exec(req->db, req->arena, &r, "SELECT s.cidr FROM net_subnet s JOIN net_ipalloc a ON "
                "a.subnet_id = s.id JOIN net_port p ON p.id = a.port_id WHERE p.device_id = ? "
                "AND p.device_owner = ?", "ss", id, IFACE_OWNER) != DB_OK)
        return false;
    for (int i = 0; i < r->nrows; i++) {
        ip128 a;
        int len;
        bool hb;
        int v = cidr_parse(db_val(r, i, 0), &a, &len, &hb);
        if (v == s->version && net_first(a, len, v) <= s->last && net_last(a, len, v) >= s->first)
            return true;
    }
    return false;
}

int
net__router_add_iface(struct http_req *req)
{
    const char *id = http_param(req, "router_id");
    struct db_res *r;
    json_t *o = req->json;
    if (select_routers(req, id, &r) < 0)
        return -1;
    const char *project = db_val(r, 0, 1);
    const char *sid = json_string_value(json_object_get(o, "subnet_id"));
    const char *pid = json_string_value(json_object_get(o, "port_id"));
    if ((!sid) == (!pid))
        return net__fail(req, 400, "BadRequest", "Bad router request: Either subnet_id or "
                         "port_id must be specified.");
    struct db *db = req->db;
    if (pid) {
        int rc = db_exec(db, req->arena, &r, "UPDATE net_port SET device_id = ?, device_owner = "
                         "?, revision = revision + 1 WHERE id = ? AND device_id = '' AND (? OR "
                         "project_id = ?) RETURNING id", "sssbs", id, IFACE_OWNER, pid,
                         net__admin(req), req->auth.project_id);
        if (rc)
            return net__db_fail(req, rc);
        if (!r->nrows)
            return net__fail(req, 409, "PortInUse", "Unable to complete operation on port %s "
                             "for network. Port already has an attached device.", pid);
        hostapi_kick();
        return iface_reply(req, id, project, pid);
    }
    struct net_subnet *s;
    int n, rc = net__subnets_of(db, req->arena, NULL, &s, &n);
    if (rc)
        return net__db_fail(req, rc);
    const struct net_subnet *sub = NULL;
    for (int i = 0; i < n && !sub; i++)
        if (!strcmp(s[i].id, sid) && (net__admin(req) || !strcmp(s[i].project_id, project)))
            sub = &s[i];
    if (!sub)
        return net__fail(req, 404, "SubnetNotFound", "Subnet %s could not be found.", sid);
    if (!sub->gateway)
        return net__fail(req, 400, "BadRequest", "Bad router request: Subnet for router "
                         "interface must have a gateway IP.");
    struct db_res *has;
    rc = db_exec(db, req->arena, &has, "SELECT 1 FROM net_ipalloc a JOIN net_port p ON p.id = "
                 "a.port_id WHERE a.subnet_id = ? AND p.device_id = ? AND p.device_owner = ?",
                 "sss", sid, id, IFACE_OWNER);
    if (rc)
        return net__db_fail(req, rc);
    if (has->nrows)
        return net__fail(req, 400, "BadRequest", "Bad router request: Router already has a "
                         "port on subnet %s.", sid);
    if (overlaps(req, id, sub))
        return net__fail(req, 400, "BadRequest", "Bad router request: Cidr %s of subnet %s "
                         "overlaps with cidr of a subnet the router is attached to.",
                         sub->cidr, sid);
    char port[37];
    net__uuid(port);
    json_t *fips = json_pack("[{s:s,s:s}]", "subnet_id", sid, "ip_address", sub->gateway);
    struct net_port_new p = {.id = port, .project = project, .network = sub->network_id,
                             .name = "", .desc = "", .device_id = id,
                             .device_owner = IFACE_OWNER, .host = "", .vnic = "normal",
                             .pairs = "[]", .up = true, .fixed_ips = fips};
    struct net_err e;
    rc = net__port_insert(db, req->arena, &p, &e);
    json_decref(fips);
    if (rc < 0 && !strcmp(e.type, "IpAddressAlreadyAllocated"))
        return net__fail(req, 409, "IpAddressInUse", "Unable to complete operation for "
                         "network %s. The IP address %s is in use.", sub->network_id,
                         sub->gateway);
    if (rc < 0)
        return net__fail(req, e.status, e.type, "%s", e.msg);
    return iface_reply(req, id, project, port);
}

int
net__router_remove_iface(struct http_req *req)
{
    const char *id = http_param(req, "router_id");
    struct db_res *r;
    json_t *o = req->json;
    if (select_routers(req, id, &r) < 0)
        return -1;
    const char *project = db_val(r, 0, 1);
    const char *sid = json_string_value(json_object_get(o, "subnet_id"));
    const char *pid = json_string_value(json_object_get(o, "port_id"));
    if (!sid && !pid)
        return net__fail(req, 400, "BadRequest", "Bad router request: Either subnet_id or "
                         "port_id must be specified.");
    struct db *db = req->db;
    int rc = pid ? db_exec(db, req->arena, &r, "SELECT id FROM net_port WHERE id = ? AND "
                           "device_id = ? AND device_owner = ?", "sss", pid, id, IFACE_OWNER)
                 : db_exec(db, req->arena, &r, "SELECT p.id FROM net_port p JOIN net_ipalloc a "
                           "ON a.port_id = p.id WHERE a.subnet_id = ? AND p.device_id = ? AND "
                           "p.device_owner = ?", "sss", sid, id, IFACE_OWNER);
    if (rc)
        return net__db_fail(req, rc);
    if (!r->nrows)
        return pid ? net__fail(req, 404, "RouterInterfaceNotFound", "Router %s does not have "
                               "an interface with id %s", id, pid)
                   : net__fail(req, 404, "RouterInterfaceNotFoundForSubnet", "Router %s has no "
                               "interface on subnet %s", id, sid);
    const char *port = arena_strdup(req->arena, db_val(r, 0, 0));
    /* floating IPs reached through this interface would be stranded */
    struct db_res *f;
    rc = db_exec(db, req->arena, &f, "SELECT f.id FROM net_fip f JOIN net_port p ON p.id = "
                 "f.fixed_port_id WHERE f.router_id = ? AND p.network_id = (SELECT network_id "
                 "FROM net_port WHERE id = ?) LIMIT 1", "ss", id, port);
    if (rc == DB_OK && f->nrows)
        return net__fail(req, 409, "RouterInterfaceInUseByFloatingIP", "Router interface for "
                         "subnet %s on router %s cannot be deleted, as it is required by one or "
                         "more floating IPs.", sid ? sid : "", id);
    /* answer first with what it was, then remove it */
    struct db_res *ips;
    rc = db_exec(db, req->arena, &ips, "SELECT p.network_id, a.subnet_id FROM net_port p LEFT "
                 "JOIN net_ipalloc a ON a.port_id = p.id WHERE p.id = ?", "s", port);
    if (rc)
        return net__db_fail(req, rc);
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = net__port_remove(db, port);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    json_t *subs = json_array();
    for (int i = 0; i < ips->nrows; i++)
        if (db_val(ips, i, 1))
            json_array_append_new(subs, json_string(db_val(ips, i, 1)));
    json_t *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "id", id, "port_id", port,
                            "network_id", db_val(ips, 0, 0), "tenant_id", project, "project_id",
                            project, "subnet_ids", subs);
    json_object_set_new(out, "subnet_id", json_incref(json_array_get(subs, 0)));
    return http_reply_json(req, 200, out);
}
