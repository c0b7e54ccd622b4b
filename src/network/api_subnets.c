/* api_subnets.c - /v2.0/subnets: IPv4 and IPv6 (slaac,
 * dhcpv6-stateless, dhcpv6-stateful), with Neutron's validation of the
 * cidr (no host bits, no overlap on the network), the gateway, the
 * allocation pools (inside the cidr, apart from each other and from the
 * gateway), DNS servers and host routes; the network's DHCP port follows
 * its DHCP subnets. */
#include "network_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define SCOLS "id, project_id, network_id, name, description, ip_version, cidr, gateway_ip, " \
              "enable_dhcp, ipv6_ra_mode, ipv6_address_mode, dns_nameservers, host_routes, " \
              "allocation_pools, created_at, updated_at, revision, subnetpool_id"
#define MAX_DNS 5
#define MAX_ROUTES 20

static void
row(struct db_res *r, int i, struct net_subnet *s)
{
    *s = (struct net_subnet){
        .id = db_val(r, i, 0), .project_id = db_val(r, i, 1), .network_id = db_val(r, i, 2),
        .name = db_val(r, i, 3), .description = db_val(r, i, 4),
        .version = (int)db_int(r, i, 5), .cidr = db_val(r, i, 6), .gateway = db_val(r, i, 7),
        .dhcp = db_int(r, i, 8) != 0, .ra_mode = db_val(r, i, 9), .addr_mode = db_val(r, i, 10),
        .dns = db_val(r, i, 11), .routes = db_val(r, i, 12), .pools = db_val(r, i, 13),
        .created = db_int(r, i, 14), .updated = db_int(r, i, 15), .revision = db_int(r, i, 16),
        .subnetpool_id = db_val(r, i, 17)};
    ip128 a;
    bool hb;
    cidr_parse(s->cidr, &a, &s->prefix, &hb);
    s->first = net_first(a, s->prefix, s->version);
    s->last = net_last(a, s->prefix, s->version);
}

int
net__subnets_of(struct db *db, struct arena *a, const char *network, struct net_subnet **out,
                int *n)
{
    struct db_res *r;
    int rc = network ? db_exec(db, a, &r, "SELECT " SCOLS " FROM net_subnet WHERE network_id "
                               "= ? ORDER BY created_at, id", "s", network)
                     : db_exec(db, a, &r, "SELECT " SCOLS " FROM net_subnet", "");
    if (rc)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

bool
net__subnet_slaac(const struct net_subnet *s)
{
    return s->version == 6 && s->addr_mode &&
           (!strcmp(s->addr_mode, "slaac") || !strcmp(s->addr_mode, "dhcpv6-stateless"));
}

static json_t *
jtext(const char *t)
{
    json_t *j = json_loads(t ? t : "[]", 0, NULL);
    return j ? j : json_array();
}

static json_t *
view(struct http_req *req, const struct net_subnet *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:[],"
                     "s:[],s:s,s:s,s:I}",
                     "id", s->id, "project_id", s->project_id, "tenant_id", s->project_id,
                     "network_id", s->network_id, "name", s->name, "description",
                     s->description, "ip_version", s->version, "cidr", s->cidr, "gateway_ip",
                     s->gateway ? json_string(s->gateway) : json_null(), "enable_dhcp",
                     (int)s->dhcp, "ipv6_ra_mode",
                     s->ra_mode ? json_string(s->ra_mode) : json_null(), "ipv6_address_mode",
                     s->addr_mode ? json_string(s->addr_mode) : json_null(), "dns_nameservers",
                     jtext(s->dns), "host_routes", jtext(s->routes), "allocation_pools",
                     jtext(s->pools), "subnetpool_id",
                     s->subnetpool_id ? json_string(s->subnetpool_id) : json_null(),
                     "service_types", "tags", "created_at",
                     net__time(req, s->created), "updated_at", net__time(req, s->updated),
                     "revision_number", (json_int_t)s->revision);
}

/* The subnets the caller sees: its own and those of its own and shared
 * networks; an external network that is not shared shows itself but not
 * its subnets (Neutron's). */
static bool
can_see(struct http_req *req, const struct net_subnet *s, struct db_res *nets)
{
    if (net__admin(req) || !strcmp(s->project_id, req->auth.project_id))
        return true;
    for (int i = 0; i < nets->nrows; i++)
        if (!strcmp(db_val(nets, i, 0), s->network_id))
            return true;
    return false;
}

static int
visible_nets(struct http_req *req, struct db_res **r)
{
    int rc = db_exec(req->db, req->arena, r, "SELECT id FROM net_network WHERE project_id = ? "
                     "OR shared = 1 OR " NET_RBAC_TO, "ss", req->auth.project_id,
                     req->auth.project_id);
    return rc ? net__db_fail(req, rc) : 0;
}

/* Subnet id as the caller sees it, or a 404 recorded. */
static int
find(struct http_req *req, const char *id, struct net_subnet *out)
{
    struct db *db = net__db(req);
    struct db_res *r, *nets;
    if (!db || visible_nets(req, &nets) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r, "SELECT " SCOLS " FROM net_subnet WHERE id = ?", "s",
                     id);
    if (rc)
        return net__db_fail(req, rc);
    if (r->nrows)
        row(r, 0, out);
    if (!r->nrows || !can_see(req, out, nets))
        return net__fail(req, 404, "SubnetNotFound", "Subnet %s could not be found.", id);
    return 0;
}

int
net__subnets_list(struct http_req *req)
{
    struct db *db = net__db(req);
    struct db_res *nets;
    struct net_subnet *s;
    int n;
    if (!db || visible_nets(req, &nets) < 0)
        return -1;
    int rc = net__subnets_of(db, req->arena, NULL, &s, &n);
    if (rc)
        return net__db_fail(req, rc);
    json_t *l = json_array();
    for (int i = 0; i < n; i++)
        if (can_see(req, &s[i], nets))
            json_array_append_new(l, view(req, &s[i]));
    return net__list_reply(req, "subnets", l);
}

int
net__subnet_show(struct http_req *req)
{
    struct net_subnet s;
    if (find(req, http_param(req, "subnet_id"), &s) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "subnet",
                                               net__fields(req, view(req, &s))));
}

/* ---- validation ---- */

static int
bad(struct http_req *req, const char *fmt, const char *a, const char *b)
{
    return net__fail(req, 400, "InvalidInput", fmt, a ? a : "", b ? b : "");
}

/* dns_nameservers: distinct addresses, at most MAX_DNS; into *out (JSON). */
static int
dns_of(struct http_req *req, json_t *o, int v, const char *dflt, const char **out)
{
    json_t *l = json_object_get(o, "dns_nameservers");
    *out = dflt;
    if (!l)
        return 0;
    if (!json_is_array(l))
        return bad(req, "Invalid input for dns_nameservers. Reason: '%s' is not a list.%s",
                   "value", NULL);
    if (json_array_size(l) > MAX_DNS)
        return net__fail(req, 400, "DNSNameServersExhausted", "Unable to complete operation "
                         "for the subnet. The number of DNS nameservers exceeds the limit %d.",
                         MAX_DNS);
    size_t i;
    json_t *e;
    json_array_foreach(l, i, e) {
        ip128 a;
        const char *s = json_string_value(e);
        if (!s || ip_parse(s, 0, &a) == 0)
            return bad(req, "Invalid input for dns_nameservers. Reason: '%s' is not a valid "
                       "nameserver.%s", s ? s : "value", NULL);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(json_string_value(json_array_get(l, k)), s))
                return bad(req, "Invalid input for dns_nameservers. Reason: Duplicate "
                           "nameserver '%s'.%s", s, NULL);
    }
    (void)v;
    char *t = json_dumps(l, JSON_COMPACT);
    *out = arena_strdup(req->arena, t);
    free(t);
    return 0;
}

static int
routes_of(struct http_req *req, json_t *o, int v, const char *dflt, const char **out)
{
    json_t *l = json_object_get(o, "host_routes");
    *out = dflt;
    if (!l)
        return 0;
    if (!json_is_array(l) || json_array_size(l) > MAX_ROUTES)
        return bad(req, "Invalid input for host_routes. Reason: '%s' is not a valid list of "
                   "routes.%s", "value", NULL);
    size_t i;
    json_t *e;
    json_array_foreach(l, i, e) {
        const char *d = json_string_value(json_object_get(e, "destination"));
        const char *h = json_string_value(json_object_get(e, "nexthop"));
        ip128 a;
        int len;
        bool hb;
        if (!json_is_object(e) || json_object_size(e) != 2 || !d || !h ||
            cidr_parse(d, &a, &len, &hb) != v || ip_parse(h, v, &a) != v)
            return bad(req, "Invalid input for host_routes. Reason: '%s' is not a valid "
                       "route%s.", d ? d : "value", NULL);
    }
    char *t = json_dumps(l, JSON_COMPACT);
    *out = arena_strdup(req->arena, t);
    free(t);
    return 0;
}

/* The pools given (validated) or the whole range minus gateway (and, for
 * IPv4, the network and broadcast addresses) as Neutron makes them. */
static int
pools_of(struct http_req *req, json_t *o, const struct net_subnet *s, ip128 gw, bool has_gw,
         const char **out)
{
    json_t *l = json_object_get(o, "allocation_pools");
    char a[46], b[46];
    ip128 lo = s->first, hi = s->last;
    if (s->version == 4 && s->prefix < 31) {
        lo++;
        hi--;
    } else if (s->version == 6) {
        lo++;   /* the subnet-router anycast address */
    }
    json_t *pools = json_array();
    if (!l) {
        /* the range around the gateway */
        ip128 ranges[2][2] = {{lo, hi}, {0, 0}};
        int nr = 1;
        if (has_gw && gw >= lo && gw <= hi) {
            ranges[0][1] = gw - 1;
            ranges[1][0] = gw + 1;
            ranges[1][1] = hi;
            nr = 2;
            if (gw == lo) {
                ranges[0][0] = gw + 1;
                ranges[0][1] = hi;
                nr = 1;
            } else if (gw == hi) {
                nr = 1;
            }
        }
        for (int i = 0; i < nr; i++) {
            if (ranges[i][0] > ranges[i][1])
                continue;
            ip_format(ranges[i][0], s->version, a);
            ip_format(ranges[i][1], s->version, b);
            json_array_append_new(pools, json_pack("{s:s,s:s}", "start", a, "end", b));
        }
    } else {
        if (!json_is_array(l)) {
            json_decref(pools);
            return bad(req, "Invalid input for allocation_pools. Reason: '%s' is not a valid "
                       "list.%s", "value", NULL);
        }
        size_t i;
        json_t *e;
        ip128 f[64], t[64];
        json_array_foreach(l, i, e) {
            const char *st = json_string_value(json_object_get(e, "start"));
            const char *en = json_string_value(json_object_get(e, "end"));
            if (i >= 64 || !st || !en || ip_parse(st, s->version, &f[i]) != s->version ||
                ip_parse(en, s->version, &t[i]) != s->version || f[i] > t[i]) {
                json_decref(pools);
                return bad(req, "Invalid input for allocation_pools. Reason: '%s' is not a "
                           "valid IP address range%s.", st ? st : "value", NULL);
            }
            if (f[i] < s->first || t[i] > s->last) {
                json_decref(pools);
                return net__fail(req, 400, "OutOfBoundsAllocationPool", "The allocation pool "
                                 "%s-%s spans beyond the subnet cidr %s.", st, en, s->cidr);
            }
            for (size_t k = 0; k < i; k++)
                if (f[i] <= t[k] && f[k] <= t[i]) {
                    json_decref(pools);
                    return net__fail(req, 400, "OverlappingAllocationPools", "Found "
                                     "overlapping allocation pools: %s-%s", st, en);
                }
            if (has_gw && gw >= f[i] && gw <= t[i]) {
                json_decref(pools);
                ip_format(gw, s->version, a);
                return net__fail(req, 409, "GatewayConflictWithAllocationPools", "Gateway ip "
                                 "%s conflicts with allocation pool %s-%s.", a, st, en);
            }
            json_array_append_new(pools, json_pack("{s:s,s:s}", "start", st, "end", en));
        }
    }
    char *txt = json_dumps(pools, JSON_COMPACT);
    json_decref(pools);
    *out = arena_strdup(req->arena, txt);
    free(txt);
    return 0;
}

static const char *const modes[] = {"slaac", "dhcpv6-stateful", "dhcpv6-stateless", NULL};

static int
mode_of(struct http_req *req, json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    for (int i = 0; modes[i]; i++)
        if (json_is_string(v) && !strcmp(json_string_value(v), modes[i])) {
            *out = modes[i];
            return 0;
        }
    return bad(req, "Invalid input for %s. Reason: '%s' is not in [None, 'dhcpv6-stateful', "
               "'dhcpv6-stateless', 'slaac'].", key, json_string_value(v));
}

static const char *const writable[] = {
    "name", "description", "network_id", "ip_version", "cidr", "gateway_ip", "enable_dhcp",
    "ipv6_ra_mode", "ipv6_address_mode", "dns_nameservers", "host_routes",
    "allocation_pools", "project_id", "tenant_id", "subnetpool_id", "prefixlen",
    "service_types", "use_default_subnetpool", NULL};

/* Whether the subnet comes from a pool: subnetpool_id, or
 * use_default_subnetpool (*pool NULL: the version's default pool), with
 * the prefixlen asked for (-1: the pool's default). */
static int
pool_of(struct http_req *req, json_t *o, int v, const char **pool, bool *from_pool,
        int64_t *plen)
{
    bool use_default;
    if (net__str_null(req, o, "subnetpool_id", 36, NULL, true, pool) < 0 ||
        net__bool(req, o, "use_default_subnetpool", false, &use_default) < 0)
        return -1;
    *from_pool = *pool || use_default;
    json_t *pl = json_object_get(o, "prefixlen");
    if (pl && !json_is_null(pl)) {
        char *end = NULL;
        *plen = json_is_integer(pl) ? json_integer_value(pl)
                : json_is_string(pl) ? strtoll(json_string_value(pl), &end, 10) : -1;
        if ((end && (*end || end == json_string_value(pl))) || *plen < 0 ||
            *plen > (v == 4 ? 32 : 128))
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for prefixlen. Reason: "
                             "it must be an integer from 0 to %d.", v == 4 ? 32 : 128);
        if (json_object_get(o, "cidr"))
            return net__fail(req, 400, "BadRequest", "Bad subnets request: cidr and prefixlen "
                             "must not be supplied together.");
        if (!*from_pool)
            return net__fail(req, 400, "BadRequest", "Bad subnets request: prefixlen is only "
                             "used with a subnet pool.");
    }
    return 0;
}

static int create_in(struct http_req *req, json_t *o, struct net_subnet *sp, const char *cidr);

int
net__subnet_create(struct http_req *req)
{
    if (req->json && json_is_array(json_object_get(req->json, "subnets")))
        return net__bulk(req, "subnet", "subnets", net__subnet_create, net__subnet_delete, "subnet_id");
    json_t *o = net__body(req, "subnet");
    if (!o || net__only(req, o, writable) < 0)
        return -1;
    const char *netid = json_string_value(json_object_get(o, "network_id"));
    if (net__network_use(req, netid, false, NULL, NULL) < 0)
        return -1;
    struct net_subnet s = {.network_id = netid};
    json_t *ver = json_object_get(o, "ip_version");
    s.version = json_is_integer(ver) ? (int)json_integer_value(ver) : 0;
    if (s.version != 4 && s.version != 6)
        return bad(req, "Invalid input for ip_version. Reason: %s is not in [4, 6].%s",
                   ver ? "value" : "None", NULL);
    const char *cidr = json_string_value(json_object_get(o, "cidr"));
    bool from_pool;
    const char *pool = NULL, *owner = net__owner(req, o);
    int64_t plen = -1;
    if (!owner || net__quota_check(req, owner, "subnet") < 0 ||
        pool_of(req, o, s.version, &pool, &from_pool, &plen) < 0)
        return -1;
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc)
        return net__db_fail(req, rc);
    /* a pool's block is taken in the transaction that inserts the subnet */
    if (from_pool && net__subnetpool_alloc(req, db, pool, s.version, cidr, plen, owner, &cidr,
                                           &s.subnetpool_id) < 0) {
        db_end(db, -1);
        return -1;
    }
    rc = create_in(req, o, &s, cidr);
    rc = db_end(db, rc);
    if (rc > 0)
        return net__db_fail(req, rc);
    if (rc < 0)
        return -1;
    return http_reply_json(req, 201, json_pack("{s:o}", "subnet", view(req, &s)));
}

/* The rest of a create, in the open transaction: 0, -1 with the fault
 * set, or a DB_* code. */
static int
create_in(struct http_req *req, json_t *o, struct net_subnet *sp, const char *cidr)
{
    struct net_subnet s = *sp;
    const char *netid = s.network_id, *owner;
    ip128 a, gw = 0;
    bool hb;
    if (!cidr)
        return net__fail(req, 400, "BadRequest", "Bad subnets request: a cidr must be "
                                                 "specified in the absence of a subnet pool.");
    if (cidr_parse(cidr, &a, &s.prefix, &hb) != s.version)
        return bad(req, "Invalid input for cidr. Reason: '%s' is not a valid IP subnet.%s",
                   cidr, NULL);
    if (hb) {
        char net[46];
        ip_format(net_first(a, s.prefix, s.version), s.version, net);
        return net__fail(req, 400, "InvalidInput", "Invalid input for cidr. Reason: '%s' isn't "
                         "a recognized IP subnet cidr, '%s/%d' is recommended.", cidr, net,
                         s.prefix);
    }
    if ((s.version == 4 && s.prefix > 30) || (s.version == 6 && s.prefix > 126))
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: Requested "
                         "subnet with cidr: %s is too small.", cidr);
    s.cidr = cidr;
    s.first = net_first(a, s.prefix, s.version);
    s.last = net_last(a, s.prefix, s.version);
    /* gateway: given (null: none) or the first host address */
    json_t *g = json_object_get(o, "gateway_ip");
    bool has_gw = !g || !json_is_null(g);
    char gws[46];
    if (g && json_is_string(g)) {
        if (ip_parse(json_string_value(g), s.version, &gw) != s.version ||
            (s.version == 4 && s.prefix < 31 && (gw == s.first || gw == s.last)))
            return net__fail(req, 400, "InvalidInput", "Invalid input for operation: Gateway "
                             "is not valid on subnet.");
        ip_format(gw, s.version, gws);
        s.gateway = arena_strdup(req->arena, gws);
    } else if (g && !json_is_null(g)) {
        return bad(req, "Invalid input for gateway_ip. Reason: '%s' is not a valid IP "
                   "address.%s", "value", NULL);
    } else if (has_gw) {
        gw = s.first + 1;
        ip_format(gw, s.version, gws);
        s.gateway = arena_strdup(req->arena, gws);
    }
    if ((owner = net__owner(req, o)) == NULL ||
        net__str(req, o, "name", 255, "", &s.name) < 0 ||
        net__str(req, o, "description", 255, "", &s.description) < 0 ||
        net__bool(req, o, "enable_dhcp", true, &s.dhcp) < 0 ||
        mode_of(req, o, "ipv6_ra_mode", &s.ra_mode) < 0 ||
        mode_of(req, o, "ipv6_address_mode", &s.addr_mode) < 0 ||
        dns_of(req, o, s.version, "[]", &s.dns) < 0 ||
        routes_of(req, o, s.version, "[]", &s.routes) < 0 ||
        pools_of(req, o, &s, gw, has_gw, &s.pools) < 0)
        return -1;
    if (s.version == 4 && (s.ra_mode || s.addr_mode))
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: "
                         "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is "
                         "set to False or ip_version is 4.");
    if (s.ra_mode && s.addr_mode && strcmp(s.ra_mode, s.addr_mode))
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: "
                         "ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not "
                         "valid. If both attributes are set, they must be the same value.",
                         s.ra_mode, s.addr_mode);
    if (!s.dhcp && (s.ra_mode || s.addr_mode) &&
        (!s.addr_mode || strcmp(s.addr_mode, "slaac")))
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: "
                         "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is "
                         "set to False.");
    if (s.version == 6 && s.addr_mode && strcmp(s.addr_mode, "dhcpv6-stateful") &&
        s.prefix != 64)
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: Invalid CIDR "
                         "%s for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                         "which requires the prefix to be /64.", cidr);
    char id[37];
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    s.id = arena_strdup(req->arena, id);
    s.project_id = owner;
    struct db *db = req->db;
    struct net_subnet *others;
    int n = 0;
    int rc = net__subnets_of(db, req->arena, netid, &others, &n);
    for (int i = 0; rc == DB_OK && i < n; i++)
        if (others[i].version == s.version && s.first <= others[i].last &&
            others[i].first <= s.last)
            return net__fail(req, 400, "InvalidInput", "Invalid input for operation: Requested "
                             "subnet with cidr: %s for network: %s overlaps with another "
                             "subnet.", cidr, netid);
    int64_t now = now_us();
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "INSERT INTO net_subnet (" SCOLS ") VALUES (?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)", "sssssississsssiis", id, owner,
                     netid, s.name, s.description, (int64_t)s.version, cidr, s.gateway,
                     (int64_t)s.dhcp, s.ra_mode, s.addr_mode, s.dns, s.routes, s.pools, now, now,
                     s.subnetpool_id);
    if (rc == DB_OK)
        rc = net__dhcp_port_sync(db, req->arena, netid, owner);
    s.created = s.updated = now;
    s.revision = 1;
    *sp = s;
    return rc;
}

int
net__subnet_update(struct http_req *req)
{
    struct net_subnet s;
    json_t *o = net__body(req, "subnet");
    if (!o || find(req, http_param(req, "subnet_id"), &s) < 0 ||
        net__only(req, o, writable) < 0)
        return -1;
    if (!net__admin(req) && strcmp(s.project_id, req->auth.project_id))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_subnet) is disallowed by "
                                                    "policy");
    static const char *const ro[] = {"network_id", "ip_version", "cidr", "ipv6_ra_mode",
                                     "ipv6_address_mode", "project_id", "tenant_id",
                                     "subnetpool_id", "prefixlen", NULL};
    for (int i = 0; ro[i]; i++)
        if (json_object_get(o, ro[i]))
            return net__fail(req, 400, "HTTPBadRequest", "Cannot update read-only attribute "
                             "%s", ro[i]);
    const char *name, *desc, *dns, *routes, *pools = s.pools;
    bool dhcp;
    json_t *g = json_object_get(o, "gateway_ip");
    ip128 gw = 0;
    bool has_gw = s.gateway != NULL;
    if (has_gw)
        ip_parse(s.gateway, s.version, &gw);
    const char *gateway = s.gateway;
    if (g && json_is_null(g)) {
        has_gw = false;
        gateway = NULL;
    } else if (g) {
        char gws[46];
        if (!json_is_string(g) || ip_parse(json_string_value(g), s.version, &gw) != s.version)
            return net__fail(req, 400, "InvalidInput", "Invalid input for operation: Gateway "
                             "is not valid on subnet.");
        ip_format(gw, s.version, gws);
        gateway = arena_strdup(req->arena, gws);
        has_gw = true;
    }
    if (net__str(req, o, "name", 255, s.name, &name) < 0 ||
        net__str(req, o, "description", 255, s.description, &desc) < 0 ||
        net__bool(req, o, "enable_dhcp", s.dhcp, &dhcp) < 0 ||
        dns_of(req, o, s.version, s.dns, &dns) < 0 ||
        routes_of(req, o, s.version, s.routes, &routes) < 0 ||
        (json_object_get(o, "allocation_pools") &&
         pools_of(req, o, &s, gw, has_gw, &pools) < 0))
        return -1;
    if (g && has_gw) {  /* a new gateway must stay out of the pools */
        ip128 *f, *l;
        int n;
        struct net_subnet probe = s;
        probe.pools = pools;
        net__subnet_pools(req->arena, &probe, &f, &l, &n);
        for (int i = 0; i < n; i++)
            if (gw >= f[i] && gw <= l[i])
                return net__fail(req, 409, "GatewayConflictWithAllocationPools", "Gateway ip "
                                 "%s conflicts with allocation pool.", gateway);
    }
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE net_subnet SET name = ?, description = ?, "
                     "gateway_ip = ?, enable_dhcp = ?, dns_nameservers = ?, host_routes = ?, "
                     "allocation_pools = ?, updated_at = ?, revision = revision + 1 WHERE id "
                     "= ?", "sssisssis", name, desc, gateway, (int64_t)dhcp, dns, routes, pools,
                     now_us(), s.id);
    if (rc == DB_OK && dhcp != s.dhcp)
        rc = net__dhcp_port_sync(db, req->arena, s.network_id, s.project_id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    if (find(req, s.id, &s) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "subnet", view(req, &s)));
}

int
net__subnet_delete(struct http_req *req)
{
    struct net_subnet s;
    if (find(req, http_param(req, "subnet_id"), &s) < 0)
        return -1;
    if (!net__admin(req) && strcmp(s.project_id, req->auth.project_id))
        return net__fail(req, 403, "HTTPForbidden", "(rule:delete_subnet) is disallowed by "
                                                    "policy");
    struct db *db = req->db;
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &r, "SELECT 1 FROM net_ipalloc a JOIN net_port p ON "
                     "p.id = a.port_id WHERE a.subnet_id = ? AND p.device_owner <> "
                     "'network:dhcp'", "s", s.id);
    if (rc == DB_OK && r->nrows) {
        db_end(db, -1);
        return net__fail(req, 409, "SubnetInUse", "Unable to complete operation on subnet %s: "
                         "One or more ports have an IP allocation from this subnet.", s.id);
    }
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_ipalloc WHERE subnet_id = ?", "s", s.id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_subnet WHERE id = ?", "s", s.id);
    if (rc == DB_OK)
        rc = net__dhcp_port_sync(db, req->arena, s.network_id, s.project_id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_empty(req, 204);
}
