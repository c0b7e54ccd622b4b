/* api_fips.c - /v2.0/floatingips: an address on an external network (held
 * by a port of device_owner network:floatingip), associated with a port's
 * fixed address through the router that joins the port's network to that
 * external network, as Neutron's L3 does. The host's router namespace
 * does the DNAT/SNAT (plan.c). */
#include "network_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

#define FCOLS "id, project_id, floating_network_id, floating_ip_address, fip_port_id, " \
              "fixed_port_id, fixed_ip_address, router_id, description, created_at, " \
              "updated_at, revision"

static json_t *
view(struct http_req *req, struct db_res *r, int i)
{
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[],s:s,s:s,s:I,s:n}", "id",
                          db_val(r, i, 0), "project_id", db_val(r, i, 1), "tenant_id",
                          db_val(r, i, 1), "floating_network_id", db_val(r, i, 2),
                          "floating_ip_address", db_val(r, i, 3), "description",
                          db_val(r, i, 8), "tags", "created_at",
                          net__time(req, db_int(r, i, 9)), "updated_at",
                          net__time(req, db_int(r, i, 10)), "revision_number",
                          (json_int_t)db_int(r, i, 11), "qos_policy_id");
    static const int cols[] = {5, 6, 7};
    static const char *const keys[] = {"port_id", "fixed_ip_address", "router_id"};
    for (int k = 0; k < 3; k++)
        json_object_set_new(v, keys[k], db_val(r, i, cols[k]) ? json_string(db_val(r, i, cols[k]))
                                                              : json_null());
    json_object_set_new(v, "status", json_string(db_val(r, i, 5) ? "ACTIVE" : "DOWN"));
    return v;
}

static int
select_fips(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    bool all = net__admin(req);
    int rc = id ? db_exec(db, req->arena, r, "SELECT " FCOLS " FROM net_fip WHERE id = ? AND (? "
                          "OR project_id = ?)", "sbs", id, all, req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " FCOLS " FROM net_fip WHERE ? OR "
                          "project_id = ? ORDER BY created_at, id", "bs", all,
                          req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "FloatingIPNotFound", "Floating IP %s could not be found",
                         id);
    return 0;
}

static int
reply_fip(struct http_req *req, int status, const char *id)
{
    struct db_res *r;
    if (select_fips(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, status, json_pack("{s:o}", "floatingip", view(req, r, 0)));
}

int
net__fips_list(struct http_req *req)
{
    struct db_res *r;
    if (select_fips(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, view(req, r, i));
    return net__list_reply(req, "floatingips", l);
}

int
net__fip_show(struct http_req *req)
{
    struct db_res *r;
    if (select_fips(req, http_param(req, "fip_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "floatingip",
                                               net__fields(req, view(req, r, 0))));
}

/* Resolves an association: port (visible to the caller), its fixed
 * address (fixed when given, else its first IPv4 one) and the router
 * joining its network to the external network ext. */
static int
association(struct http_req *req, const char *port, const char *fixed, const char *ext,
            const char **ip_out, const char **router_out)
{
    struct db *db = req->db;
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT network_id FROM net_port WHERE id = ? AND (? OR "
                     "project_id = ?)", "sbs", port, net__admin(req), req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (!r->nrows)
        return net__fail(req, 404, "PortNotFound", "Port %s could not be found.", port);
    struct db_res *ips;
    rc = db_exec(db, req->arena, &ips, "SELECT ip_address, subnet_id FROM net_ipalloc WHERE "
                 "port_id = ? ORDER BY ip_address", "s", port);
    if (rc)
        return net__db_fail(req, rc);
    const char *ip = NULL, *subnet = NULL;
    for (int i = 0; i < ips->nrows && !ip; i++)
        if (fixed ? !strcmp(db_val(ips, i, 0), fixed) : !strchr(db_val(ips, i, 0), ':')) {
            ip = db_val(ips, i, 0);
            subnet = db_val(ips, i, 1);
        }
    if (!ip && fixed)
        return net__fail(req, 400, "BadRequest", "Bad floatingip request: Port %s does not "
                         "have fixed ip %s.", port, fixed);
    if (!ip)
        return net__fail(req, 400, "BadRequest", "Bad floatingip request: Port %s does not "
                         "have any IPv4 address.", port);
    struct db_res *rt;
    rc = db_exec(db, req->arena, &rt, "SELECT r.id FROM net_router r JOIN net_port p ON "
                 "p.device_id = r.id JOIN net_ipalloc a ON a.port_id = p.id WHERE "
                 "p.device_owner = 'network:router_interface' AND a.subnet_id = ? AND "
                 "r.gw_network_id = ? ORDER BY r.id", "ss", subnet, ext);
    if (rc)
        return net__db_fail(req, rc);
    if (!rt->nrows)
        return net__fail(req, 404, "ExternalGatewayForFloatingIPNotFound", "External network "
                         "%s is not reachable from subnet %s.  Therefore, cannot associate "
                         "Port %s with a Floating IP.", ext, subnet, port);
    *ip_out = ip;
    *router_out = arena_strdup(req->arena, db_val(rt, 0, 0));
    return 0;
}

/* A fixed address may have one floating IP. */
static int
check_free(struct http_req *req, const char *port, const char *ip, const char *self)
{
    struct db_res *r;
    int rc = db_exec(req->db, req->arena, &r, "SELECT id FROM net_fip WHERE fixed_port_id = ? "
                     "AND fixed_ip_address = ? AND id <> ?", "sss", port, ip, self);
    if (rc)
        return net__db_fail(req, rc);
    if (r->nrows)
        return net__fail(req, 409, "FloatingIPPortAlreadyAssociated", "Cannot associate "
                         "floating IP with port %s using fixed IP %s, as that fixed IP already "
                         "has a floating IP on external network.", port, ip);
    return 0;
}

static const char *const writable[] = {"floating_network_id", "port_id", "fixed_ip_address",
                                       "floating_ip_address", "subnet_id", "description",
                                       "project_id", "tenant_id", "dns_name", "dns_domain",
                                       NULL};

int
net__fip_create(struct http_req *req)
{
    json_t *o = net__body(req, "floatingip");
    const char *owner, *ext, *port, *fixed, *want, *subnet, *desc;
    if (!o || net__only(req, o, writable) < 0 || !(owner = net__owner(req, o)) ||
        net__quota_check(req, owner, "floatingip") < 0 ||
        net__str(req, o, "floating_network_id", 36, NULL, &ext) < 0 ||
        net__str(req, o, "port_id", 36, NULL, &port) < 0 ||
        net__str(req, o, "fixed_ip_address", 45, NULL, &fixed) < 0 ||
        net__str(req, o, "floating_ip_address", 45, NULL, &want) < 0 ||
        net__str(req, o, "subnet_id", 36, NULL, &subnet) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0)
        return -1;
    if (!ext)
        return net__fail(req, 400, "HTTPBadRequest", "Failed to parse request. Required "
                         "attribute 'floating_network_id' not specified");
    if (want && !net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:create_floatingip:"
                         "floating_ip_address) is disallowed by policy");
    struct db *db = net__db(req);
    struct db_res *r;
    int rc = db ? db_exec(db, req->arena, &r, "SELECT external FROM net_network WHERE id = ?",
                          "s", ext) : 0;
    if (!db || rc)
        return db ? net__db_fail(req, rc) : -1;
    if (!r->nrows)
        return net__fail(req, 404, "NetworkNotFound", "Network %s could not be found.", ext);
    if (!db_int(r, 0, 0))
        return net__fail(req, 400, "BadRequest", "Bad floatingip request: Network %s is not a "
                         "valid external network.", ext);
    const char *ip = NULL, *router = NULL;
    char id[37], pid[37];
    net__uuid(id);
    if (port && (association(req, port, fixed, ext, &ip, &router) < 0 ||
                 check_free(req, port, ip, id) < 0))
        return -1;
    /* the address: a port of the floating IP's own on the external net */
    net__uuid(pid);
    json_t *fips = want ? json_pack("[{s:s}]", "ip_address", want)
                 : subnet ? json_pack("[{s:s}]", "subnet_id", subnet) : NULL;
    struct net_port_new p = {.id = pid, .project = "", .network = ext, .name = "", .desc = "",
                             .device_id = id, .device_owner = "network:floatingip",
                             .host = "", .vnic = "normal", .pairs = "[]", .up = true,
                             .fixed_ips = fips};
    struct net_err e;
    rc = net__port_insert(db, req->arena, &p, &e);
    json_decref(fips);
    if (rc < 0 && !strcmp(e.type, "IpAddressAlreadyAllocated"))
        return net__fail(req, 409, "IpAddressInUse", "Unable to complete operation for network "
                         "%s. The IP address %s is in use.", ext, want ? want : "");
    if (rc < 0 && !strcmp(e.type, "IpAddressGenerationFailure"))
        return net__fail(req, 409, "ExternalIpAddressExhausted", "Unable to find any IP "
                         "address on external network %s.", ext);
    if (rc < 0)
        return net__fail(req, e.status, e.type, "%s", e.msg);
    rc = db_exec(db, req->arena, &r, "SELECT ip_address FROM net_ipalloc WHERE port_id = ? AND "
                 "ip_address NOT LIKE '%:%' ORDER BY ip_address", "s", pid);
    int64_t now = now_us();
    if (rc == DB_OK && r->nrows)
        rc = db_exec(db, NULL, NULL, "INSERT INTO net_fip (" FCOLS ") VALUES (?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, 1)", "sssssssssii", id, owner, ext, db_val(r, 0, 0), pid,
                     port, ip, router, desc, now, now);
    if (rc || !r->nrows) {
        int r2 = db_begin(db);
        db_end(db, r2 ? r2 : net__port_remove(db, pid));
        return rc ? net__db_fail(req, rc)
                  : net__fail(req, 400, "BadRequest", "Bad floatingip request: no IPv4 "
                              "subnet on network %s.", ext);
    }
    hostapi_kick();
    return reply_fip(req, 201, id);
}

int
net__fip_update(struct http_req *req)
{
    const char *id = http_param(req, "fip_id");
    json_t *o = net__body(req, "floatingip");
    struct db_res *r;
    if (!o || select_fips(req, id, &r) < 0)
        return -1;
    static const char *const upd[] = {"port_id", "fixed_ip_address", "description", NULL};
    const char *desc, *fixed;
    if (net__only(req, o, upd) < 0 || net__str(req, o, "description", 255, db_val(r, 0, 8),
                                               &desc) < 0 ||
        net__str(req, o, "fixed_ip_address", 45, NULL, &fixed) < 0)
        return -1;
    json_t *pv = json_object_get(o, "port_id");
    const char *port = db_val(r, 0, 5), *ip = db_val(r, 0, 6), *router = db_val(r, 0, 7);
    if (pv && json_is_null(pv)) {
        port = ip = router = NULL;
    } else if (pv) {
        port = json_string_value(pv);
        if (!port)
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for port_id.");
        if (association(req, port, fixed, db_val(r, 0, 2), &ip, &router) < 0 ||
            check_free(req, port, ip, id) < 0)
            return -1;
    }
    int rc = db_exec(req->db, NULL, NULL, "UPDATE net_fip SET fixed_port_id = ?, "
                     "fixed_ip_address = ?, router_id = ?, description = ?, updated_at = ?, "
                     "revision = revision + 1 WHERE id = ?", "ssssis", port, ip, router, desc,
                     now_us(), id);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return reply_fip(req, 200, id);
}

int
net__fip_delete(struct http_req *req)
{
    const char *id = http_param(req, "fip_id");
    struct db_res *r;
    if (select_fips(req, id, &r) < 0)
        return -1;
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = net__port_remove(db, db_val(r, 0, 4));
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_fip WHERE id = ?", "s", id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return http_reply_empty(req, 204);
}

int
net__fips_unlink_port(struct db *db, const char *port)
{
    return db_exec(db, NULL, NULL, "UPDATE net_fip SET fixed_port_id = NULL, fixed_ip_address "
                   "= NULL, router_id = NULL, revision = revision + 1 WHERE fixed_port_id = ?",
                   "s", port);
}
