/* api_ports.c - /v2.0/ports: fixed IPs through IPAM (ipam.c), MAC
 * addresses (fa:16:3e:xx:xx:xx, unique on the network), device owner and
 * id, the binding attributes (admin), port security and allowed address
 * pairs; and the network's DHCP port, kept in step with its DHCP
 * subnets. A port's status is ACTIVE once it is bound to a host (or is a
 * DHCP port), DOWN before: binding is what makes the host agent wire it. */
#include "network_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PCOLS "id, project_id, network_id, name, description, mac_address, admin_state_up, " \
              "device_id, device_owner, binding_host, binding_profile, vnic_type, " \
              "port_security, address_pairs, security_groups, created_at, updated_at, revision"
#define DHCP_OWNER "network:dhcp"

static void
new_mac(char out[18])
{
    unsigned char b[3];
    random_bytes(b, 3);
    snprintf(out, 18, "fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2]);
}

/* The fixed_ips of port id, as Neutron lists them. */
static json_t *
fixed_ips(struct db *db, struct arena *a, const char *id)
{
    struct db_res *r;
    json_t *l = json_array();
    if (db_exec(db, a, &r, "SELECT subnet_id, ip_address FROM net_ipalloc WHERE port_id = ? "
                "ORDER BY subnet_id, ip_address", "s", id) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_array_append_new(l, json_pack("{s:s,s:s}", "subnet_id", db_val(r, i, 0),
                                               "ip_address", db_val(r, i, 1)));
    return l;
}

/* The security groups of port id. */
static json_t *
groups_of(struct db *db, struct arena *a, const char *id)
{
    struct db_res *r;
    json_t *l = json_array();
    if (db_exec(db, a, &r, "SELECT group_id FROM net_port_sg WHERE port_id = ? ORDER BY "
                "group_id", "s", id) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_array_append_new(l, json_string(db_val(r, i, 0)));
    return l;
}

static json_t *
jtext(const char *t, bool object)
{
    json_t *j = json_loads(t ? t : "", 0, NULL);
    return j ? j : object ? json_object() : json_array();
}

/* What a list of ports shows besides their rows, read in two queries
 * for the whole list instead of two per port: port id -> fixed_ips, port
 * id -> security group ids. */
struct port_extras {
    json_t *ips, *groups;
};

/* The extras of the ports the caller sees (the same visibility as
 * select_ports). */
static void
extras_load(struct http_req *req, struct port_extras *x)
{
    static const char *const mine = " WHERE port_id IN (SELECT id FROM net_port WHERE "
                                    "project_id = ? OR network_id IN (SELECT id FROM "
                                    "net_network WHERE project_id = ?))";
    bool all = net__admin(req);
    const char *p = req->auth.project_id;
    struct db_res *r;
    x->ips = json_object();
    x->groups = json_object();
    if (db_exec(req->db, req->arena, &r, arena_printf(req->arena, "SELECT port_id, subnet_id, "
                "ip_address FROM net_ipalloc%s ORDER BY port_id, subnet_id, ip_address",
                all ? "" : mine), all ? "" : "ss", p, p) == DB_OK)
        for (int i = 0; i < r->nrows; i++) {
            json_t *l = json_object_get(x->ips, db_val(r, i, 0));
            if (!l)
                json_object_set_new(x->ips, db_val(r, i, 0), l = json_array());
            json_array_append_new(l, json_pack("{s:s,s:s}", "subnet_id", db_val(r, i, 1),
                                               "ip_address", db_val(r, i, 2)));
        }
    if (db_exec(req->db, req->arena, &r, arena_printf(req->arena, "SELECT port_id, group_id "
                "FROM net_port_sg%s ORDER BY port_id, group_id", all ? "" : mine),
                all ? "" : "ss", p, p) == DB_OK)
        for (int i = 0; i < r->nrows; i++) {
            json_t *l = json_object_get(x->groups, db_val(r, i, 0));
            if (!l)
                json_object_set_new(x->groups, db_val(r, i, 0), l = json_array());
            json_array_append_new(l, json_string(db_val(r, i, 1)));
        }
}

/* A list from x for port id (a new reference; empty when none). */
static json_t *
extra(json_t *map, const char *id)
{
    json_t *l = json_object_get(map, id);
    return l ? json_incref(l) : json_array();
}

/* Port i of r; x: the list's extras, NULL to read this port's own. */
static json_t *
view(struct http_req *req, struct db_res *r, int i, const struct port_extras *x)
{
    const char *host = db_val(r, i, 9), *owner = db_val(r, i, 8), *id = db_val(r, i, 0);
    bool bound = *host || !strcmp(owner, DHCP_OWNER);
    json_t *p = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:o,s:b,s:o,s:o,s:[],s:s,s:s,s:I,"
        "s:o,s:s,s:[]}",
        "id", db_val(r, i, 0), "project_id", db_val(r, i, 1), "tenant_id", db_val(r, i, 1),
        "network_id", db_val(r, i, 2), "name", db_val(r, i, 3), "description",
        db_val(r, i, 4), "mac_address", db_val(r, i, 5), "admin_state_up",
        (int)db_int(r, i, 6), "device_id", db_val(r, i, 7), "device_owner", owner, "status",
        bound ? "ACTIVE" : "DOWN", "fixed_ips", x ? extra(x->ips, id) : fixed_ips(req->db, req->arena, id),
        "port_security_enabled", (int)db_int(r, i, 12), "allowed_address_pairs",
        jtext(db_val(r, i, 13), false), "security_groups",
        x ? extra(x->groups, id) : groups_of(req->db, req->arena, id),
        "tags", "created_at", net__time(req, db_int(r, i, 15)), "updated_at",
        net__time(req, db_int(r, i, 16)), "revision_number", (json_int_t)db_int(r, i, 17),
        "extra_dhcp_opts", json_array(), "binding:vnic_type", db_val(r, i, 11),
        "dns_assignment");
    if (net__admin(req)) {
        json_object_set_new(p, "binding:host_id", json_string(host));
        json_object_set_new(p, "binding:profile", jtext(db_val(r, i, 10), true));
        json_object_set_new(p, "binding:vif_type", json_string(*host ? "bridge" : "unbound"));
        json_object_set_new(p, "binding:vif_details",
                            *host ? json_pack("{s:b}", "port_filter", 1) : json_object());
    }
    return p;
}

/* Ports the caller sees: its own, and (admin) all. */
static int
select_ports(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    int rc;
    if (net__admin(req))
        rc = id ? db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_port WHERE id = ?", "s",
                          id)
                : db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_port", "");
    else
        rc = id ? db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_port WHERE id = ? AND "
                          "(project_id = ? OR network_id IN (SELECT id FROM net_network WHERE "
                          "project_id = ?))", "sss", id, req->auth.project_id,
                          req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_port WHERE project_id "
                          "= ? OR network_id IN (SELECT id FROM net_network WHERE project_id "
                          "= ?)", "ss", req->auth.project_id, req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "PortNotFound", "Port %s could not be found.", id);
    return 0;
}

int
net__ports_list(struct http_req *req)
{
    struct db_res *r;
    if (select_ports(req, NULL, &r) < 0)
        return -1;
    struct port_extras x;
    extras_load(req, &x);
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, view(req, r, i, &x));
    json_decref(x.ips);
    json_decref(x.groups);
    return net__list_reply(req, "ports", l);
}

int
net__port_show(struct http_req *req)
{
    struct db_res *r;
    if (select_ports(req, http_param(req, "port_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "port",
                                               net__fields(req, view(req, r, 0, NULL))));
}

/* ---- addresses ---- */

static const struct net_subnet *
subnet_in(const struct net_subnet *s, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].id, id))
            return &s[i];
    return NULL;
}

/* An allocation failure in Neutron's words. */
static int
ip_fail(struct net_err *e, int rc, const struct net_subnet *s, const char *ip)
{
    if (rc == -EINVAL)
        return net__err(e, 400, "InvalidIpForSubnet", "IP address %s is not a valid IP for "
                        "the specified subnet.", ip ? ip : "");
    if (rc == -EEXIST)
        return net__err(e, 409, "IpAddressAlreadyAllocated", "IP address %s already "
                        "allocated in subnet %s", ip ? ip : "", s->id);
    if (rc == -ENOSPC)
        return net__err(e, 409, "IpAddressGenerationFailure", "No more IP addresses "
                        "available on network %s.", s->network_id);
    return net__err_db(e, rc);
}

/* Allocates the port's addresses: the fixed_ips asked for, or one from
 * the first IPv4 subnet and one from the first stateful IPv6 subnet; and
 * on every SLAAC subnet its EUI-64 address (not for router ports, as
 * Neutron). In the caller's transaction. */
int
net__allocate(struct db *db, struct arena *a, json_t *want, const char *port, const char *net,
              const char *mac, const char *owner, struct net_err *e)
{
    struct net_subnet *s;
    int n, rc = net__subnets_of(db, a, net, &s, &n);
    if (rc)
        return net__err_db(e, rc);
    char ip[46];
    bool slaac_done[64] = {false};
    if (want) {
        size_t i;
        json_t *f;
        json_array_foreach(want, i, f) {
            const char *sid = json_string_value(json_object_get(f, "subnet_id"));
            const char *addr = json_string_value(json_object_get(f, "ip_address"));
            const struct net_subnet *sub = sid ? subnet_in(s, n, sid) : NULL;
            if (!json_is_object(f) || (!sid && !addr) ||
                (json_object_get(f, "ip_address") && !addr))
                return net__err(e, 400, "HTTPBadRequest", "Invalid input for fixed_ips. "
                                 "Reason: each entry needs a subnet_id or an ip_address.");
            if (sid && !sub)
                return net__err(e, 400, "InvalidInput", "Invalid input for operation: "
                                 "Failed to create port on network %s, because fixed_ips "
                                 "included invalid subnet %s.", net, sid);
            if (!sub) {     /* an address alone: the subnet it belongs to */
                ip128 x;
                for (int k = 0; k < n && !sub; k++)
                    if (ip_parse(addr, s[k].version, &x) && x >= s[k].first && x <= s[k].last)
                        sub = &s[k];
                if (!sub)
                    return ip_fail(e, -EINVAL, &s[0], addr);
            }
            if (net__subnet_slaac(sub) && addr)
                return net__err(e, 400, "InvalidInput", "Invalid input for operation: IPv6 "
                                 "address %s cannot be directly assigned to a port on subnet "
                                 "%s since the subnet is configured for automatic "
                                 "addresses.", addr, sub->id);
            rc = net__ipam_allocate(db, a, sub, port, net, mac, addr, ip);
            if (rc)
                return ip_fail(e, rc, sub, addr);
            if (sub - s < 64)
                slaac_done[sub - s] = true;
        }
    } else {
        bool v4 = false, v6 = false;
        const struct net_subnet *full = NULL;
        for (int k = 0; k < n; k++) {
            bool slaac = net__subnet_slaac(&s[k]);
            if (slaac || (s[k].version == 4 && v4) || (s[k].version == 6 && v6))
                continue;
            rc = net__ipam_allocate(db, a, &s[k], port, net, mac, NULL, ip);
            if (rc == -ENOSPC) {
                full = &s[k];   /* the next subnet of that version may have room */
                continue;
            }
            if (rc)
                return ip_fail(e, rc, &s[k], NULL);
            if (s[k].version == 4)
                v4 = true;
            else
                v6 = true;
        }
        /* a network with subnets but no room in any: Neutron's 409 */
        if (full && !v4 && !v6)
            return ip_fail(e, -ENOSPC, full, NULL);
    }
    /* SLAAC: every port gets its address on every such subnet */
    bool router = !strncmp(owner, "network:router_interface", 24);
    for (int k = 0; k < n && k < 64; k++) {
        if (!net__subnet_slaac(&s[k]) || slaac_done[k] || router || want)
            continue;
        rc = net__ipam_allocate(db, a, &s[k], port, net, mac, NULL, ip);
        if (rc)
            return ip_fail(e, rc, &s[k], NULL);
    }
    return 0;
}

/* ---- create / update / delete ---- */

static const char *const writable[] = {
    "name", "description", "network_id", "mac_address", "admin_state_up", "fixed_ips",
    "device_id", "device_owner", "project_id", "tenant_id", "security_groups",
    "port_security_enabled", "allowed_address_pairs", "binding:host_id", "binding:profile",
    "binding:vnic_type", "extra_dhcp_opts", NULL};

static int
pairs_of(struct http_req *req, json_t *o, const char *dflt, const char **out)
{
    json_t *l = json_object_get(o, "allowed_address_pairs");
    *out = dflt;
    if (!l)
        return 0;
    size_t i;
    json_t *e;
    if (!json_is_array(l))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for "
                         "allowed_address_pairs. Reason: not a list.");
    json_array_foreach(l, i, e) {
        const char *ip = json_string_value(json_object_get(e, "ip_address"));
        ip128 a;
        int len;
        bool hb;
        if (!ip || (!ip_parse(ip, 0, &a) && !cidr_parse(ip, &a, &len, &hb)))
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for "
                             "allowed_address_pairs. Reason: '%s' is not a valid IP address "
                             "or CIDR.", ip ? ip : "None");
    }
    char *t = json_dumps(l, JSON_COMPACT);
    *out = arena_strdup(req->arena, t);
    free(t);
    return 0;
}

static int
admin_only(struct http_req *req, json_t *o)
{
    static const char *const keys[] = {"binding:host_id", "binding:profile", NULL};
    for (int i = 0; keys[i]; i++)
        if (json_object_get(o, keys[i]) && !net__admin(req))
            return net__fail(req, 403, "HTTPForbidden", "(rule:create_port:%s) is disallowed "
                             "by policy", keys[i]);
    return 0;
}

int
net__port_groups(struct db *db, struct arena *a, const char *port, const char *project,
                 json_t *ids, bool psec, struct net_err *e)
{
    int rc = db_exec(db, NULL, NULL, "DELETE FROM net_port_sg WHERE port_id = ?", "s", port);
    if (rc == DB_OK && !ids && psec) {
        /* the default group is made in a transaction of its own, so it
         * must exist before the caller's began (net__port_insert) */
        struct db_res *r;
        rc = db_exec(db, a, &r, "SELECT group_id FROM net_sg_default WHERE project_id = ?", "s",
                     project);
        if (rc == DB_OK && r->nrows)
            rc = db_exec(db, NULL, NULL, "INSERT INTO net_port_sg (port_id, group_id) VALUES "
                         "(?, ?)", "ss", port, db_val(r, 0, 0));
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        const char *g = json_string_value(v);
        struct db_res *r;
        if (rc == DB_OK && g)
            rc = db_exec(db, a, &r, "SELECT 1 FROM net_sg WHERE id = ? AND project_id = ?", "ss",
                         g, project);
        if (rc == DB_OK && (!g || !r->nrows))
            return net__err(e, 404, "SecurityGroupNotFound", "Security group %s does not "
                            "exist", g ? g : "None");
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "INSERT INTO net_port_sg (port_id, group_id) VALUES "
                         "(?, ?) ON CONFLICT DO NOTHING", "ss", port, g);
    }
    return rc ? net__err_db(e, rc) : 0;
}

int
net__port_insert(struct db *db, struct arena *a, const struct net_port_new *p, struct net_err *e)
{
    char macbuf[18], def[37];
    int rc = DB_CONFLICT;
    if (!p->groups && p->psec && (rc = net__default_sg(db, a, p->project, def)))
        return net__err_db(e, rc);
    rc = DB_CONFLICT;
    /* a generated MAC that collides on the network is drawn again */
    for (int t = 0; t < 8 && rc == DB_CONFLICT; t++) {
        if (!p->mac)
            new_mac(macbuf);
        const char *mac = p->mac ? p->mac : macbuf;
        int64_t now = now_us();
        rc = db_begin(db);
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "INSERT INTO net_port (" PCOLS ", auto_delete) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, '[]', ?, ?, 1, ?)",
                         "ssssssissssisiii", p->id, p->project, p->network, p->name, p->desc,
                         mac, (int64_t)p->up, p->device_id, p->device_owner, p->host,
                         p->vnic ? p->vnic : "normal", (int64_t)p->psec,
                         p->pairs ? p->pairs : "[]", now, now, (int64_t)p->auto_delete);
        if (rc == DB_CONFLICT && p->mac) {
            db_end(db, rc);
            return net__err(e, 409, "MacAddressInUse", "Unable to complete operation for "
                            "network %s. The mac address %s is in use.", p->network, p->mac);
        }
        if (rc == DB_OK &&
            (net__allocate(db, a, p->fixed_ips, p->id, p->network, mac, p->device_owner, e) < 0 ||
             net__port_groups(db, a, p->id, p->project, p->groups, p->psec, e) < 0)) {
            db_end(db, -1);
            return -1;
        }
        rc = db_end(db, rc);
    }
    if (rc)
        return net__err_db(e, rc);
    hostapi_kick();     /* the hosts' plans may have changed */
    return 0;
}

int
net__port_create(struct http_req *req)
{
    if (req->json && json_is_array(json_object_get(req->json, "ports")))
        return net__bulk(req, "port", "ports", net__port_create, net__port_delete, "port_id");
    json_t *o = net__body(req, "port");
    if (!o || net__only(req, o, writable) < 0 || admin_only(req, o) < 0)
        return -1;
    const char *netid = json_string_value(json_object_get(o, "network_id")), *net_owner;
    bool psec_dflt;
    if (net__network_use(req, netid, true, &net_owner, &psec_dflt) < 0)
        return -1;
    const char *owner = net__owner(req, o), *name, *desc, *dev, *devown, *host, *vnic, *mac,
               *pairs;
    bool up, psec;
    if (!owner || net__quota_check(req, owner, "port") < 0 ||
        net__str(req, o, "name", 255, "", &name) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0 ||
        net__str(req, o, "device_id", 255, "", &dev) < 0 ||
        net__str(req, o, "device_owner", 255, "", &devown) < 0 ||
        net__str(req, o, "binding:host_id", 255, "", &host) < 0 ||
        net__str(req, o, "binding:vnic_type", 64, "normal", &vnic) < 0 ||
        net__str(req, o, "mac_address", 17, NULL, &mac) < 0 ||
        net__bool(req, o, "admin_state_up", true, &up) < 0 ||
        net__bool(req, o, "port_security_enabled", psec_dflt, &psec) < 0 ||
        pairs_of(req, o, "[]", &pairs) < 0)
        return -1;
    unsigned m[6];
    char end;
    if (mac && sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
                      &m[5], &end) != 6)
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for mac_address. Reason: "
                         "'%s' is not a valid MAC address.", mac);
    if (mac && (m[0] & 1))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for mac_address. Reason: "
                         "'%s' is not a valid unicast MAC address.", mac);
    json_t *fips = json_object_get(o, "fixed_ips");
    if (fips && !json_is_array(fips))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: "
                         "not a list.");
    json_t *sgs = json_object_get(o, "security_groups");
    if (sgs && (!json_is_array(sgs) || (json_array_size(sgs) && !psec)))
        return net__fail(req, 400, "HTTPBadRequest", "Port security must be enabled in order "
                         "to have allowed address pairs or security groups on a port.");
    if (!psec && strcmp(pairs, "[]"))
        return net__fail(req, 409, "AddressPairAndPortSecurityRequired", "Port Security must "
                         "be enabled in order to have allowed address pairs on a port.");
    char id[37];
    net__uuid(id);
    struct net_port_new np = {.id = id, .project = owner, .network = netid, .name = name,
                              .desc = desc, .mac = mac, .device_id = dev,
                              .device_owner = devown, .host = host, .vnic = vnic,
                              .pairs = pairs, .up = up, .psec = psec, .fixed_ips = fips,
                              .groups = sgs};
    struct net_err e;
    if (net__port_insert(req->db, req->arena, &np, &e) < 0)
        return net__fail(req, e.status, e.type, "%s", e.msg);
    struct db_res *r;
    if (select_ports(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, 201, json_pack("{s:o}", "port", view(req, r, 0, NULL)));
}

int
net__port_update(struct http_req *req)
{
    const char *id = http_param(req, "port_id");
    json_t *o = net__body(req, "port");
    struct db_res *r;
    if (!o || select_ports(req, id, &r) < 0 || net__only(req, o, writable) < 0 ||
        admin_only(req, o) < 0)
        return -1;
    static const char *const ro[] = {"network_id", "project_id", "tenant_id", NULL};
    for (int i = 0; ro[i]; i++)
        if (json_object_get(o, ro[i]))
            return net__fail(req, 400, "HTTPBadRequest", "Cannot update read-only attribute "
                             "%s", ro[i]);
    if (json_object_get(o, "mac_address") && !net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_port:mac_address) is "
                         "disallowed by policy");
    const char *name, *desc, *dev, *devown, *host, *vnic, *pairs, *mac;
    bool up, psec;
    if (net__str(req, o, "name", 255, db_val(r, 0, 3), &name) < 0 ||
        net__str(req, o, "description", 255, db_val(r, 0, 4), &desc) < 0 ||
        net__str(req, o, "mac_address", 17, db_val(r, 0, 5), &mac) < 0 ||
        net__str(req, o, "device_id", 255, db_val(r, 0, 7), &dev) < 0 ||
        net__str(req, o, "device_owner", 255, db_val(r, 0, 8), &devown) < 0 ||
        net__str(req, o, "binding:host_id", 255, db_val(r, 0, 9), &host) < 0 ||
        net__str(req, o, "binding:vnic_type", 64, db_val(r, 0, 11), &vnic) < 0 ||
        net__bool(req, o, "admin_state_up", db_int(r, 0, 6), &up) < 0 ||
        net__bool(req, o, "port_security_enabled", db_int(r, 0, 12), &psec) < 0 ||
        pairs_of(req, o, db_val(r, 0, 13), &pairs) < 0)
        return -1;
    if (!psec && strcmp(pairs, "[]"))
        return net__fail(req, 409, "AddressPairAndPortSecurityRequired", "Port Security must "
                         "be enabled in order to have allowed address pairs on a port.");
    json_t *fips = json_object_get(o, "fixed_ips");
    if (fips && !json_is_array(fips))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: "
                         "not a list.");
    json_t *sgs = json_object_get(o, "security_groups");
    if (sgs && !json_is_array(sgs))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for security_groups. "
                         "Reason: not a list.");
    size_t ngroups = json_array_size(sgs);
    if (!sgs) {
        json_t *cur = groups_of(req->db, req->arena, id);
        ngroups = json_array_size(cur);
        json_decref(cur);
    }
    if (!psec && ngroups)
        return net__fail(req, 409, "PortSecurityPortHasSecurityGroup", "Port has security "
                         "group associated. Cannot disable port security or ip address until "
                         "security group is removed");
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE net_port SET name = ?, description = ?, "
                     "mac_address = ?, admin_state_up = ?, device_id = ?, device_owner = ?, "
                     "binding_host = ?, vnic_type = ?, port_security = ?, address_pairs = ?, "
                     "updated_at = ?, revision = revision + 1 WHERE id = ?", "sssissssisis",
                     name, desc, mac, (int64_t)up, dev, devown, host, vnic, (int64_t)psec,
                     pairs, now_us(), id);
    if (rc == DB_CONFLICT) {
        db_end(db, rc);
        return net__fail(req, 409, "MacAddressInUse", "Unable to complete operation for "
                         "network %s. The mac address %s is in use.", db_val(r, 0, 2), mac);
    }
    /* new fixed_ips replace the old ones (their addresses are freed) */
    if (rc == DB_OK && fips)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_ipalloc WHERE port_id = ?", "s", id);
    struct net_err e;
    if (rc == DB_OK && fips &&
        net__allocate(db, req->arena, fips, id, db_val(r, 0, 2), mac, devown, &e) < 0) {
        db_end(db, -1);
        return net__fail(req, e.status, e.type, "%s", e.msg);
    }
    if (rc == DB_OK && sgs &&
        net__port_groups(db, req->arena, id, db_val(r, 0, 1), sgs, psec, &e) < 0) {
        db_end(db, -1);
        return net__fail(req, e.status, e.type, "%s", e.msg);
    }
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    if (select_ports(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "port", view(req, r, 0, NULL)));
}

int
net__port_delete(struct http_req *req)
{
    const char *id = http_param(req, "port_id");
    struct db_res *r;
    if (select_ports(req, id, &r) < 0)
        return -1;
    const char *owner = db_val(r, 0, 8);
    if (!strcmp(owner, "network:router_interface") || !strcmp(owner, "network:router_gateway") ||
        !strcmp(owner, "network:floatingip"))
        return net__fail(req, 409, "L3PortInUse", "Port %s has owner %s and therefore cannot "
                         "be deleted directly via the port API.", id, owner);
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = net__fips_unlink_port(db, id);
    if (rc == DB_OK)
        rc = net__port_remove(db, id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return http_reply_empty(req, 204);
}

/* ---- the DHCP port ---- */

int
net__dhcp_port_sync(struct db *db, struct arena *a, const char *net, const char *project)
{
    struct net_subnet *s;
    int n, rc = net__subnets_of(db, a, net, &s, &n);
    if (rc)
        return rc;
    struct db_res *p;
    rc = db_exec(db, a, &p, "SELECT id, mac_address FROM net_port WHERE network_id = ? AND "
                 "device_owner = ?", "ss", net, DHCP_OWNER);
    if (rc)
        return rc;
    int ndhcp = 0;
    for (int i = 0; i < n; i++)
        ndhcp += s[i].dhcp;
    if (!ndhcp) {
        for (int i = 0; i < p->nrows && rc == DB_OK; i++) {
            rc = db_exec(db, NULL, NULL, "DELETE FROM net_ipalloc WHERE port_id = ?", "s",
                         db_val(p, i, 0));
            if (rc == DB_OK)
                rc = db_exec(db, NULL, NULL, "DELETE FROM net_port WHERE id = ?", "s",
                             db_val(p, i, 0));
        }
        return rc;
    }
    char id[37], mac[18];
    if (p->nrows) {
        snprintf(id, sizeof(id), "%s", db_val(p, 0, 0));
        snprintf(mac, sizeof(mac), "%s", db_val(p, 0, 1));
    } else {
        net__uuid(id);
        new_mac(mac);
        int64_t now = now_us();
        const char *dev = arena_printf(a, "dhcp-%s", net);
        rc = db_exec(db, NULL, NULL, "INSERT INTO net_port (" PCOLS ") VALUES (?, ?, ?, '', '', "
                     "?, 1, ?, ?, '', '{}', 'normal', 0, '[]', '[]', ?, ?, 1)", "ssssssii", id,
                     project, net, mac, dev, DHCP_OWNER, now, now);
        if (rc)
            return rc;
    }
    /* an address on each DHCP subnet, none on the others */
    for (int i = 0; i < n && rc == DB_OK; i++) {
        struct db_res *have;
        rc = db_exec(db, a, &have, "SELECT 1 FROM net_ipalloc WHERE port_id = ? AND subnet_id "
                     "= ?", "ss", id, s[i].id);
        if (rc)
            break;
        char ip[46];
        if (s[i].dhcp && !have->nrows) {
            rc = net__ipam_allocate(db, a, &s[i], id, net, mac, NULL, ip);
            if (rc == -ENOSPC)
                rc = 0;     /* a full subnet gets DHCP once an address frees up */
        } else if (!s[i].dhcp && have->nrows) {
            rc = db_exec(db, NULL, NULL, "DELETE FROM net_ipalloc WHERE port_id = ? AND "
                         "subnet_id = ?", "ss", id, s[i].id);
        }
    }
    return rc;
}
