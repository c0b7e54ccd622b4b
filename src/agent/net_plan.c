/* net_plan.c - reads the network plan document (net.h,
 * docs/network-host.md). Every string that ends up in a command line, a
 * file name or an nftables rule is checked here against a strict
 * pattern (ids, MACs, addresses, host names), so nothing later has to
 * quote or escape. */
#include "net.h"
#include "core/arena.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pctx {
    struct arena *a;
    char *why;
    size_t whylen;
    bool failed;
};

static void
bad(struct pctx *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
}

static bool
is_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 11 || n > 64)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) && *s != '-')
            return false;
    return true;
}

static bool
is_mac(const char *s)
{
    unsigned v[6];
    char end;
    return strlen(s) == 17 &&
           sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &end) == 6;
}

/* The address family of s (4 or 6), 0 when it is not an address. */
static int
ip_version(const char *s)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, s, b) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, b) == 1)
        return 6;
    return 0;
}

/* "addr/prefix" (or a bare address when bare_ok): its version, 0 when bad. */
static int
prefix_version(const char *s, bool bare_ok)
{
    const char *sl = strchr(s, '/');
    if (!sl)
        return bare_ok ? ip_version(s) : 0;
    char addr[64];
    size_t n = (size_t)(sl - s);
    if (n >= sizeof(addr))
        return 0;
    memcpy(addr, s, n);
    addr[n] = '\0';
    int v = ip_version(addr);
    char *end;
    long p = strtol(sl + 1, &end, 10);
    if (!v || *end || end == sl + 1 || p < 0 || p > (v == 4 ? 32 : 128))
        return 0;
    return v;
}

bool
np_ns_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 32 || s[0] == '.' || !strncmp(s, "qdhcp-", 6) || !strncmp(s, "qrouter-", 8))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
            return false;
    return true;
}

static bool
is_hostname(const char *s)
{
    if (!*s || strlen(s) > 253)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
            return false;
    return true;
}

/* The string member key of o; NULL when absent or null (and then a
 * failure unless optional). */
static const char *
str(struct pctx *c, json_t *o, const char *key, bool optional)
{
    json_t *v = json_object_get(o, key);
    if ((!v || json_is_null(v)) && optional)
        return NULL;
    if (!json_is_string(v)) {
        bad(c, "plan: '%s' must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

static const char *
id_of(struct pctx *c, json_t *o, const char *key)
{
    const char *s = str(c, o, key, false);
    if (s && !is_id(s))
        bad(c, "plan: '%s' is not an id: %s", key, s);
    return s;
}

/* Array member key of o (absent or null: empty); its size into *n. */
static json_t *
arr(struct pctx *c, json_t *o, const char *key, int *n)
{
    json_t *v = json_object_get(o, key);
    *n = 0;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        bad(c, "plan: '%s' must be a list", key);
        return NULL;
    }
    *n = (int)json_array_size(v);
    return v;
}

static int
int_of(json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static bool
bool_of(json_t *o, const char *key, bool dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static void *
alloc_n(struct pctx *c, int n, size_t size)
{
    return n ? arena_alloc(c->a, (size_t)n * size) : NULL;
}

static void
parse_routes(struct pctx *c, json_t *o, const char *key, struct np_route **out, int *n)
{
    json_t *l = arr(c, o, key, n);
    *out = alloc_n(c, *n, sizeof(**out));
    for (int i = 0; i < *n; i++) {
        json_t *r = json_array_get(l, (size_t)i);
        struct np_route *rt = &(*out)[i];
        rt->dest = str(c, r, "destination", false);
        rt->nexthop = str(c, r, "nexthop", false);
        if (rt->dest && !prefix_version(rt->dest, false))
            bad(c, "plan: bad route destination %s", rt->dest);
        if (rt->nexthop && !ip_version(rt->nexthop))
            bad(c, "plan: bad route nexthop %s", rt->nexthop);
    }
}

static void
parse_rule(struct pctx *c, json_t *r, struct np_rule *ru)
{
    const char *dir = str(c, r, "direction", false);
    const char *eth = str(c, r, "ethertype", false);
    if (dir && strcmp(dir, "ingress") && strcmp(dir, "egress"))
        bad(c, "plan: bad rule direction %s", dir);
    if (eth && strcmp(eth, "IPv4") && strcmp(eth, "IPv6"))
        bad(c, "plan: bad rule ethertype %s", eth);
    ru->ingress = dir && !strcmp(dir, "ingress");
    ru->version = eth && !strcmp(eth, "IPv6") ? 6 : 4;
    ru->proto = int_of(r, "protocol", -1);
    ru->pmin = int_of(r, "port_range_min", -1);
    ru->pmax = int_of(r, "port_range_max", -1);
    if (ru->proto < -1 || ru->proto > 255 || ru->pmin < -1 || ru->pmin > 65535 ||
        ru->pmax < -1 || ru->pmax > 65535)
        bad(c, "plan: rule protocol or ports out of range");
    json_t *l = json_object_get(r, "remote_ip_prefixes");
    if (l && !json_is_null(l)) {
        if (!json_is_array(l)) {
            bad(c, "plan: 'remote_ip_prefixes' must be a list");
            return;
        }
        /* [] is a remote group with no member yet: matches nothing */
        ru->nremote = (int)json_array_size(l);
        ru->remote = arena_alloc(c->a, sizeof(char *) * (size_t)(ru->nremote + 1));
        for (int i = 0; i < ru->nremote; i++) {
            const char *p = json_string_value(json_array_get(l, (size_t)i));
            if (!p || prefix_version(p, true) != ru->version)
                bad(c, "plan: bad remote prefix for an %s rule", ru->version == 6 ? "IPv6" : "IPv4");
            ru->remote[i] = p;
        }
    }
}

static void
parse_port(struct pctx *c, json_t *o, struct np_port *p)
{
    if (!json_is_object(o)) {
        bad(c, "plan: a port must be an object");
        return;
    }
    p->id = id_of(c, o, "id");
    p->network_id = id_of(c, o, "network_id");
    p->mac = str(c, o, "mac_address", false);
    if (p->mac && !is_mac(p->mac))
        bad(c, "plan: bad MAC %s", p->mac);
    p->device_id = str(c, o, "device_id", true);
    if (p->device_id && !is_id(p->device_id))
        bad(c, "plan: 'device_id' is not an id: %s", p->device_id);
    p->hostname = str(c, o, "hostname", true);
    if (p->hostname && !is_hostname(p->hostname))
        p->hostname = NULL;     /* a display name that is no host name: none */
    p->security = bool_of(o, "port_security_enabled", true);
    json_t *l = arr(c, o, "fixed_ips", &p->nips);
    p->ips = alloc_n(c, p->nips, sizeof(*p->ips));
    for (int i = 0; i < p->nips; i++) {
        json_t *f = json_array_get(l, (size_t)i);
        struct np_ip *ip = &p->ips[i];
        ip->addr = str(c, f, "ip_address", false);
        ip->version = ip->addr ? ip_version(ip->addr) : 0;
        ip->prefix = int_of(f, "prefixlen", -1);
        if (!ip->version || ip->prefix < 0 || ip->prefix > (ip->version == 4 ? 32 : 128))
            bad(c, "plan: bad fixed IP on port %s", p->id ? p->id : "?");
    }
    l = arr(c, o, "allowed_address_pairs", &p->npairs);
    p->pairs = alloc_n(c, p->npairs, sizeof(*p->pairs));
    for (int i = 0; i < p->npairs; i++) {
        json_t *f = json_array_get(l, (size_t)i);
        p->pairs[i].ip = str(c, f, "ip_address", false);
        p->pairs[i].mac = str(c, f, "mac_address", true);
        if (p->pairs[i].ip && !prefix_version(p->pairs[i].ip, true))
            bad(c, "plan: bad allowed address %s", p->pairs[i].ip);
        if (p->pairs[i].mac && !is_mac(p->pairs[i].mac))
            bad(c, "plan: bad allowed MAC %s", p->pairs[i].mac);
    }
    l = arr(c, o, "rules", &p->nrules);
    p->rules = alloc_n(c, p->nrules, sizeof(*p->rules));
    for (int i = 0; i < p->nrules; i++)
        parse_rule(c, json_array_get(l, (size_t)i), &p->rules[i]);
}

/* Splits "addr/prefix" into s (arena copies). */
static void
split_cidr(struct pctx *c, struct np_subnet *s)
{
    s->version = s->cidr ? prefix_version(s->cidr, false) : 0;
    if (!s->version) {
        bad(c, "plan: bad subnet cidr %s", s->cidr ? s->cidr : "?");
        return;
    }
    const char *sl = strchr(s->cidr, '/');
    s->network_addr = arena_strndup(c->a, s->cidr, (size_t)(sl - s->cidr));
    s->prefix = atoi(sl + 1);
}

static void
parse_subnet(struct pctx *c, json_t *o, struct np_subnet *s)
{
    s->id = id_of(c, o, "id");
    s->cidr = str(c, o, "cidr", false);
    split_cidr(c, s);
    s->gateway = str(c, o, "gateway_ip", true);
    if (s->gateway && ip_version(s->gateway) != s->version)
        bad(c, "plan: bad gateway %s", s->gateway);
    s->dhcp = bool_of(o, "enable_dhcp", true);
    s->ra_mode = str(c, o, "ipv6_ra_mode", true);
    s->addr_mode = str(c, o, "ipv6_address_mode", true);
    static const char *const modes[] = {"slaac", "dhcpv6-stateless", "dhcpv6-stateful"};
    for (int k = 0; k < 2; k++) {
        const char *m = k ? s->addr_mode : s->ra_mode;
        if (m && strcmp(m, modes[0]) && strcmp(m, modes[1]) && strcmp(m, modes[2]))
            bad(c, "plan: bad IPv6 mode %s", m);
    }
    json_t *l = arr(c, o, "dns_nameservers", &s->ndns);
    s->dns = alloc_n(c, s->ndns, sizeof(char *));
    for (int i = 0; i < s->ndns; i++) {
        s->dns[i] = json_string_value(json_array_get(l, (size_t)i));
        if (!s->dns[i] || !ip_version(s->dns[i]))
            bad(c, "plan: bad DNS server");
    }
    parse_routes(c, o, "host_routes", &s->routes, &s->nroutes);
}

static void
parse_network(struct pctx *c, json_t *o, struct np_network *n)
{
    n->id = id_of(c, o, "id");
    n->mtu = int_of(o, "mtu", 1500);
    if (n->mtu < 68 || n->mtu > 65535)
        bad(c, "plan: bad MTU %d", n->mtu);
    n->metadata = bool_of(o, "metadata", false);
    n->external = bool_of(o, "external", false);
    json_t *l = arr(c, o, "subnets", &n->nsubnets);
    n->subnets = alloc_n(c, n->nsubnets, sizeof(*n->subnets));
    for (int i = 0; i < n->nsubnets; i++)
        parse_subnet(c, json_array_get(l, (size_t)i), &n->subnets[i]);
    json_t *d = json_object_get(o, "dhcp_port");
    if (d && !json_is_null(d)) {
        n->dhcp = arena_alloc(c->a, sizeof(*n->dhcp));
        parse_port(c, d, n->dhcp);
    }
}

static void
parse_router(struct pctx *c, json_t *o, struct np_router *r)
{
    r->id = id_of(c, o, "id");
    json_t *g = json_object_get(o, "gateway");
    if (g && !json_is_null(g)) {
        r->gw = arena_alloc(c->a, sizeof(*r->gw));
        parse_port(c, g, r->gw);
    }
    r->gw_nexthop = str(c, o, "gateway_nexthop", true);
    if (r->gw_nexthop && !ip_version(r->gw_nexthop))
        bad(c, "plan: bad gateway nexthop %s", r->gw_nexthop);
    r->snat = bool_of(o, "enable_snat", true);
    json_t *l = arr(c, o, "interfaces", &r->nifaces);
    r->ifaces = alloc_n(c, r->nifaces, sizeof(*r->ifaces));
    for (int i = 0; i < r->nifaces; i++)
        parse_port(c, json_array_get(l, (size_t)i), &r->ifaces[i]);
    parse_routes(c, o, "routes", &r->routes, &r->nroutes);
    l = arr(c, o, "floating_ips", &r->nfips);
    r->fips = alloc_n(c, r->nfips, sizeof(*r->fips));
    for (int i = 0; i < r->nfips; i++) {
        json_t *f = json_array_get(l, (size_t)i);
        r->fips[i].ip = str(c, f, "floating_ip_address", false);
        r->fips[i].fixed_ip = str(c, f, "fixed_ip_address", false);
        if ((r->fips[i].ip && ip_version(r->fips[i].ip) != 4) ||
            (r->fips[i].fixed_ip && ip_version(r->fips[i].fixed_ip) != 4))
            bad(c, "plan: bad floating IP");
    }
}

int
np_parse(json_t *doc, struct arena *a, struct np_plan *out, char *why, size_t whylen)
{
    struct pctx c = {.a = a, .why = why, .whylen = whylen};
    memset(out, 0, sizeof(*out));
    if (!json_is_object(doc)) {
        snprintf(why, whylen, "plan: not a JSON object");
        return -1;
    }
    json_t *l = arr(&c, doc, "networks", &out->nnets);
    out->nets = alloc_n(&c, out->nnets, sizeof(*out->nets));
    for (int i = 0; i < out->nnets; i++)
        parse_network(&c, json_array_get(l, (size_t)i), &out->nets[i]);
    l = arr(&c, doc, "ports", &out->nports);
    out->ports = alloc_n(&c, out->nports, sizeof(*out->ports));
    for (int i = 0; i < out->nports; i++)
        parse_port(&c, json_array_get(l, (size_t)i), &out->ports[i]);
    l = arr(&c, doc, "routers", &out->nrouters);
    out->routers = alloc_n(&c, out->nrouters, sizeof(*out->routers));
    for (int i = 0; i < out->nrouters; i++)
        parse_router(&c, json_array_get(l, (size_t)i), &out->routers[i]);
    out->external_ns = str(&c, doc, "external_namespace", true);
    if (out->external_ns && !np_ns_name_ok(out->external_ns))
        bad(&c, "plan: bad external_namespace");
    return c.failed ? -1 : 0;
}
