/* plan.c - the network plan of a host (agent/net.h, docs/network-host.md)
 * made from Neutron's tables: the server ports bound to the host with
 * their addresses, allowed address pairs and security group rules (remote
 * groups resolved to their members' addresses), every network those
 * ports are on with its subnets and DHCP port, and the routers attached
 * to those networks with their gateway and floating IPs (routers.c).
 *
 * Only networks with something on this host are planned: a network
 * nobody uses costs no bridge, namespace or dnsmasq. The agent fetches
 * the plan through hostapi_net_plan() whenever it is kicked. */
#include "network.h"
#include "network_int.h"
#include "agent/net.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [network] external_namespace, checked by net_plan_register; NULL: off */
static const char *ext_ns;

/* The fixed_ips of port id with their prefix lengths. */
static json_t *
port_ips(struct net_plan_ctx *c, const char *id)
{
    struct db_res *r;
    json_t *l = json_array();
    if (net__plan_q(c, db_exec(c->db, c->a, &r, "SELECT a.ip_address, s.cidr FROM net_ipalloc a JOIN net_subnet s "
                "ON s.id = a.subnet_id WHERE a.port_id = ? ORDER BY s.ip_version, "
                "a.ip_address", "s", id)))
        for (int i = 0; i < r->nrows; i++) {
            const char *slash = strchr(db_val(r, i, 1), '/');
            json_array_append_new(l, json_pack("{s:s,s:i}", "ip_address", db_val(r, i, 0),
                                               "prefixlen", slash ? atoi(slash + 1) : 32));
        }
    return l;
}

/* The addresses of group g's members as host prefixes (cached in seen). */
static json_t *
members(struct net_plan_ctx *c, const char *g, bool v6)
{
    const char *key = arena_printf(c->a, "%s/%d", g, v6 ? 6 : 4);
    json_t *l = json_object_get(c->seen, key);
    if (l)
        return json_incref(l);
    l = json_array();
    struct db_res *r;
    if (net__plan_q(c, db_exec(c->db, c->a, &r, "SELECT a.ip_address FROM net_ipalloc a JOIN net_port_sg ps ON "
                "ps.port_id = a.port_id WHERE ps.group_id = ? ORDER BY a.ip_address", "s",
                g)))
        for (int i = 0; i < r->nrows; i++) {
            const char *ip = db_val(r, i, 0);
            if ((strchr(ip, ':') != NULL) == v6)
                json_array_append_new(l, json_string(arena_printf(c->a, "%s/%d", ip,
                                                                  v6 ? 128 : 32)));
        }
    json_object_set(c->seen, key, l);
    return l;
}

/* The rules of port id's groups, remote sides resolved. */
static json_t *
port_rules(struct net_plan_ctx *c, const char *id)
{
    struct db_res *r;
    json_t *l = json_array();
    if (!net__plan_q(c, db_exec(c->db, c->a, &r, "SELECT r.direction, r.ethertype, r.protocol, r.port_min, "
                "r.port_max, r.remote_prefix, r.remote_group_id FROM net_sg_rule r JOIN "
                "net_port_sg ps ON ps.group_id = r.group_id WHERE ps.port_id = ? ORDER BY r.id",
                "s", id)))
        return l;
    for (int i = 0; i < r->nrows; i++) {
        bool v6 = !strcmp(db_val(r, i, 1), "IPv6");
        int proto = net__proto_num(db_val(r, i, 2));
        /* an ICMP rule of the other family's name still means ICMP */
        if (proto == 1 && v6)
            proto = 58;
        else if (proto == 58 && !v6)
            proto = 1;
        json_t *o = json_pack("{s:s,s:s}", "direction", db_val(r, i, 0), "ethertype",
                              v6 ? "IPv6" : "IPv4");
        json_object_set_new(o, "protocol", proto >= 0 ? json_integer(proto) : json_null());
        if (db_val(r, i, 3))
            json_object_set_new(o, "port_range_min", json_integer(db_int(r, i, 3)));
        if (db_val(r, i, 4))
            json_object_set_new(o, "port_range_max", json_integer(db_int(r, i, 4)));
        if (db_val(r, i, 5))
            json_object_set_new(o, "remote_ip_prefixes", json_pack("[s]", db_val(r, i, 5)));
        else if (db_val(r, i, 6))
            json_object_set_new(o, "remote_ip_prefixes",
                                members(c, db_val(r, i, 6), v6));
        json_array_append_new(l, o);
    }
    return l;
}

bool
net__plan_q(struct net_plan_ctx *c, int rc)
{
    if (rc && !c->rc)
        c->rc = rc;
    return rc == DB_OK;
}

json_t *
net__plan_port(struct net_plan_ctx *c, struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0);
    bool psec = db_int(r, i, 4);
    json_t *pairs = json_loads(db_val(r, i, 5) ? db_val(r, i, 5) : "[]", 0, NULL);
    json_t *p = json_pack("{s:s,s:s,s:s,s:o,s:b,s:o,s:o}", "id", id, "network_id",
                          db_val(r, i, 1), "mac_address", db_val(r, i, 2), "fixed_ips",
                          port_ips(c, id), "port_security_enabled", psec,
                          "allowed_address_pairs", pairs ? pairs : json_array(), "rules",
                          psec ? port_rules(c, id) : json_array());
    if (db_val(r, i, 3) && *db_val(r, i, 3))
        json_object_set_new(p, "device_id", json_string(db_val(r, i, 3)));
    return p;
}

/* Network id as the plan has it: subnets, DHCP port, metadata. */
static json_t *
plan_network(struct net_plan_ctx *c, const char *id)
{
    struct db_res *r;
    if (!net__plan_q(c, db_exec(c->db, c->a, &r, "SELECT mtu, external FROM net_network WHERE "
                                "id = ?", "s", id)) || !r->nrows)
        return NULL;
    json_t *n = json_pack("{s:s,s:I,s:b,s:b,s:[],s:n}", "id", id, "mtu",
                          (json_int_t)db_int(r, 0, 0), "metadata", 1, "external",
                          (int)db_int(r, 0, 1), "subnets", "dhcp_port");
    struct net_subnet *s;
    int ns;
    if (net__plan_q(c, net__subnets_of(c->db, c->a, id, &s, &ns)))
        for (int k = 0; k < ns; k++) {
            json_t *o = json_pack("{s:s,s:s,s:b,s:o,s:o}", "id", s[k].id, "cidr", s[k].cidr,
                                  "enable_dhcp", s[k].dhcp, "dns_nameservers",
                                  json_loads(s[k].dns, 0, NULL), "host_routes",
                                  json_loads(s[k].routes, 0, NULL));
            json_object_set_new(o, "gateway_ip", s[k].gateway ? json_string(s[k].gateway)
                                                               : json_null());
            json_object_set_new(o, "ipv6_ra_mode", s[k].ra_mode ? json_string(s[k].ra_mode)
                                                                 : json_null());
            json_object_set_new(o, "ipv6_address_mode",
                                s[k].addr_mode ? json_string(s[k].addr_mode) : json_null());
            json_array_append_new(json_object_get(n, "subnets"), o);
        }
    if (net__plan_q(c, db_exec(c->db, c->a, &r, "SELECT " NET_PLAN_PCOLS " FROM net_port WHERE "
                               "network_id = ? AND device_owner = 'network:dhcp'", "s", id)) &&
        r->nrows) {
        json_t *p = net__plan_port(c, r, 0);
        json_object_del(p, "device_id");    /* "dhcp-<network>": no server's */
        json_object_set_new(n, "dhcp_port", p);
    }
    return n;
}

void
net__plan_routers(struct net_plan_ctx *c, json_t *nets, json_t *out)
{
    struct db_res *r;
    if (!net__plan_q(c, db_exec(c->db, c->a, &r, "SELECT DISTINCT r.id, r.enable_snat, r.routes, "
                                "p.network_id FROM net_router r JOIN net_port p ON p.device_id = "
                                "r.id WHERE p.device_owner = 'network:router_interface' AND "
                                "r.admin_state_up = 1 ORDER BY r.id", "")))
        return;
    const char *last = "";
    for (int i = 0; i < r->nrows; i++) {
        const char *id = db_val(r, i, 0);
        if (!strcmp(id, last) || !json_object_get(nets, db_val(r, i, 3)))
            continue;
        last = id;
        json_t *routes = json_loads(db_val(r, i, 2), 0, NULL);
        json_t *rt = json_pack("{s:s,s:b,s:o,s:[],s:[],s:n,s:n}", "id", id, "enable_snat",
                               (int)db_int(r, i, 1), "routes", routes ? routes : json_array(),
                               "interfaces", "floating_ips", "gateway", "gateway_nexthop");
        struct db_res *p;
        if (net__plan_q(c, db_exec(c->db, c->a, &p, "SELECT " NET_PLAN_PCOLS ", device_owner "
                                   "FROM net_port WHERE device_id = ? AND device_owner IN "
                                   "('network:router_interface', 'network:router_gateway') "
                                   "ORDER BY id", "s", id)))
            for (int k = 0; k < p->nrows; k++) {
                json_t *port = net__plan_port(c, p, k);
                json_object_del(port, "device_id");
                json_object_set_new(nets, db_val(p, k, 1), json_true());
                if (strcmp(db_val(p, k, 6), "network:router_gateway")) {
                    json_array_append_new(json_object_get(rt, "interfaces"), port);
                    continue;
                }
                json_object_set_new(rt, "gateway", port);
                struct db_res *g;
                if (net__plan_q(c, db_exec(c->db, c->a, &g, "SELECT s.gateway_ip FROM net_subnet "
                                           "s JOIN net_ipalloc a ON a.subnet_id = s.id WHERE "
                                           "a.port_id = ? AND s.ip_version = 4 AND "
                                           "s.gateway_ip IS NOT NULL", "s",
                                           db_val(p, k, 0))) && g->nrows)
                    json_object_set_new(rt, "gateway_nexthop", json_string(db_val(g, 0, 0)));
            }
        if (net__plan_q(c, db_exec(c->db, c->a, &p, "SELECT floating_ip_address, "
                                   "fixed_ip_address FROM net_fip WHERE router_id = ? AND "
                                   "fixed_ip_address IS NOT NULL ORDER BY id", "s", id)))
            for (int k = 0; k < p->nrows; k++)
                json_array_append_new(json_object_get(rt, "floating_ips"),
                                      json_pack("{s:s,s:s}", "floating_ip_address",
                                                db_val(p, k, 0), "fixed_ip_address",
                                                db_val(p, k, 1)));
        json_array_append_new(out, rt);
    }
}

/* The plan of host: a new document, NULL when the database fails. */
static json_t *
make_plan(const char *host)
{
    struct db *db = db_get();
    if (!db)
        return NULL;
    struct net_plan_ctx c = {.db = db, .a = arena_new(), .seen = json_object()};
    json_t *plan = json_pack("{s:[],s:[],s:[]}", "networks", "ports", "routers");
    json_t *nets = json_object();
    struct db_res *r;
    if (net__plan_q(&c, db_exec(db, c.a, &r, "SELECT " NET_PLAN_PCOLS " FROM net_port WHERE "
                                "binding_host = ? AND device_owner LIKE 'compute:%' ORDER BY id",
                                "s", host)))
        for (int i = 0; i < r->nrows; i++) {
            json_array_append_new(json_object_get(plan, "ports"), net__plan_port(&c, r, i));
            json_object_set_new(nets, db_val(r, i, 1), json_true());
        }
    net__plan_routers(&c, nets, json_object_get(plan, "routers"));
    if (ext_ns)
        json_object_set_new(plan, "external_namespace", json_string(ext_ns));
    const char *id;
    json_t *v;
    json_object_foreach(nets, id, v) {
        json_t *n = plan_network(&c, id);
        if (n)
            json_array_append_new(json_object_get(plan, "networks"), n);
    }
    int rc = c.rc;
    json_decref(c.seen);
    json_decref(nets);
    arena_free(c.a);
    db_put(db);
    if (rc) {
        /* a partial plan would make the agent remove what it lacks */
        log_warn(NULL, "network: cannot make the plan of %s: database error %d", host, rc);
        json_decref(plan);
        return NULL;
    }
    return plan;
}

int
net_plan_register(void)
{
    /* the all-in-one's "outside world" (docs/network-host.md); "" turns it
     * off. Checked here so that a bad value stops the start instead of
     * every plan being refused by the agents later. */
    const char *v = cfg_get("network", "external_namespace", "onestack-ext");
    if (*v && !np_ns_name_ok(v)) {
        log_error(NULL, "[network] external_namespace \"%s\" cannot name a namespace: "
                  "1-32 of A-Z a-z 0-9 _ . -, not starting with '.' or qdhcp- or qrouter-", v);
        return -1;
    }
    ext_ns = *v ? v : NULL;
    hostapi_set_net_plan(make_plan);
    return 0;
}
