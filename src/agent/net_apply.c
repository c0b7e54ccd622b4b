/* net_apply.c - makes the host match a network plan (net.h): bridges,
 * server taps, DHCP namespaces, router namespaces, the nftables rules,
 * then removes what the plan no longer names. What is ours is known by
 * name alone (Neutron's patterns below), so a restarted agent finds and
 * cleans up what a crash left, and never touches anything else. */
#include "net_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "<prefix>xxxxxxxx-xx": a device made from a Neutron id. */
static bool
ours(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) || strlen(name) != n + 11)
        return false;
    for (size_t i = 0; i < 11; i++) {
        char ch = name[n + i];
        if (i == 8 ? ch != '-' : !isxdigit((unsigned char)ch))
            return false;
    }
    return true;
}

/* A namespace name "<prefix><uuid>". */
static bool
ours_ns(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) || strlen(name) != n + 36)
        return false;
    for (const char *s = name + n; *s; s++)
        if (!isxdigit((unsigned char)*s) && *s != '-')
            return false;
    return true;
}

static const struct np_network *
find_net(const struct np_plan *p, const char *id)
{
    for (int i = 0; i < p->nnets; i++)
        if (!strcmp(p->nets[i].id, id))
            return &p->nets[i];
    return NULL;
}

static void
no_ipv6(struct nctx *c, const char *dev)
{
    char key[96];
    snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", dev);
    sysctl_set(c, NULL, key, "1");
}

static void
bridge_ensure(struct nctx *c, json_t *links, const struct np_network *n)
{
    char br[16];
    net_bridge_name(n->id, br);
    json_t *l = link_find(links, br);
    if (!l) {
        if (ip_cmd(c, NULL, "link", "add", br, "type", "bridge", NULL) < 0)
            return;
        /* no host address, ever, on a tenant network */
        no_ipv6(c, br);
        ip_cmd(c, NULL, "link", "set", br, "up", NULL);
        return;
    }
    link_tune(c, NULL, l, br, 0, NULL, NULL);
}

/* A server port's tap: persistent (QEMU opens it by name), on its
 * network's bridge. */
static void
tap_ensure(struct nctx *c, json_t *links, const struct np_plan *p, const struct np_port *port)
{
    const struct np_network *n = find_net(p, port->network_id);
    if (!n) {
        nfail(c, "port %s: its network %s is not in the plan", port->id, port->network_id);
        return;
    }
    char tap[16], br[16];
    net_tap_name(port->id, tap);
    net_bridge_name(n->id, br);
    json_t *l = link_find(links, tap);
    if (!l) {
        if (ip_cmd(c, NULL, "tuntap", "add", "dev", tap, "mode", "tap", NULL) < 0)
            return;
        no_ipv6(c, tap);
        json_t *fresh = ip_links(c, NULL);
        link_tune(c, NULL, link_find(fresh, tap), tap, n->mtu, NULL, br);
        json_decref(fresh);
        return;
    }
    link_tune(c, NULL, l, tap, n->mtu, NULL, br);
}

static bool
has_v4(const struct np_network *n)
{
    for (int i = 0; i < n->nsubnets; i++)
        if (n->subnets[i].version == 4)
            return true;
    return false;
}

static void
dhcp_ensure(struct nctx *c, json_t *links, json_t *nss, const struct np_plan *p,
            const struct np_network *n)
{
    char ns[64], outer[16], inner[16], br[16];
    snprintf(ns, sizeof(ns), "qdhcp-%s", n->id);
    net_tap_name(n->dhcp->id, outer);
    net_dev_name("ns-", n->dhcp->id, inner);
    net_bridge_name(n->id, br);
    if (netns_ensure(c, nss, ns, false) < 0)
        return;
    static const char *const md[] = {"169.254.169.254"};
    bool meta = n->metadata && has_v4(n);
    if (veth_ensure(c, links, outer, br, ns, inner, n->dhcp, n->mtu, md, meta ? 1 : 0) < 0)
        return;
    dhcp_sync(c, n, p, ns, inner);
}

/* Makes the static routes of ns exactly want (v4 and v6). */
static void
routes_sync(struct nctx *c, const char *ns, const struct np_route *want, int nwant)
{
    for (int fam = 4; fam <= 6; fam += 2) {
        json_t *have = ip_routes(c, ns, fam);
        size_t i;
        json_t *r;
        json_array_foreach(have, i, r) {
            const char *dst = json_string_value(json_object_get(r, "dst"));
            const char *gw = json_string_value(json_object_get(r, "gateway"));
            bool keep = false;
            for (int k = 0; dst && gw && k < nwant; k++) {
                const char *d = want[k].dest;
                bool dflt = !strcmp(d, "0.0.0.0/0") || !strcmp(d, "::/0");
                size_t dl = strcspn(d, "/");
                bool host = !strcmp(d + dl, "/32") || !strcmp(d + dl, "/128");
                if (!strcmp(gw, want[k].nexthop) &&
                    ((dflt && !strcmp(dst, "default")) || !strcmp(dst, d) ||
                     (host && strlen(dst) == dl && !strncmp(dst, d, dl))))
                    keep = true;
            }
            if (!keep && dst)
                ip_cmd(c, ns, fam == 4 ? "-4" : "-6", "route", "del", dst, "proto", "static",
                       NULL);
        }
        json_decref(have);
    }
    for (int k = 0; k < nwant; k++)
        ip_cmd(c, ns, "route", "replace", want[k].dest, "via", want[k].nexthop, "proto", "static",
               NULL);
}

/* Removes qr-/qg- devices of a router namespace that r no longer has. */
static void
router_prune(struct nctx *c, const char *ns, const struct np_router *r)
{
    json_t *in = ip_links(c, ns);
    size_t i;
    json_t *l;
    json_array_foreach(in, i, l) {
        const char *name = json_string_value(json_object_get(l, "ifname"));
        if (!name || (!ours(name, "qr-") && !ours(name, "qg-")))
            continue;
        bool want = false;
        char dev[16];
        for (int k = 0; k < r->nifaces; k++) {
            net_dev_name("qr-", r->ifaces[k].id, dev);
            want |= !strcmp(dev, name);
        }
        if (r->gw) {
            net_dev_name("qg-", r->gw->id, dev);
            want |= !strcmp(dev, name);
        }
        if (!want)
            ip_cmd(c, ns, "link", "del", name, NULL);
    }
    json_decref(in);
}

static void
router_ensure(struct nctx *c, json_t *links, json_t *nss, const struct np_plan *p,
              const struct np_router *r)
{
    char ns[64], outer[16], inner[16], br[16];
    snprintf(ns, sizeof(ns), "qrouter-%s", r->id);
    if (netns_ensure(c, nss, ns, true) < 0)
        return;
    router_prune(c, ns, r);
    for (int k = 0; k < r->nifaces; k++) {
        const struct np_port *q = &r->ifaces[k];
        const struct np_network *n = find_net(p, q->network_id);
        if (!n) {
            nfail(c, "router %s: network %s is not in the plan", r->id, q->network_id);
            continue;
        }
        net_tap_name(q->id, outer);
        net_dev_name("qr-", q->id, inner);
        net_bridge_name(n->id, br);
        veth_ensure(c, links, outer, br, ns, inner, q, n->mtu, NULL, 0);
    }
    char gw_dev[16] = "";
    int nroutes = r->nroutes;
    struct np_route *routes = arena_alloc(c->a, sizeof(*routes) * (size_t)(nroutes + 1));
    if (nroutes)
        memcpy(routes, r->routes, sizeof(*routes) * (size_t)nroutes);
    if (r->gw) {
        const struct np_network *n = find_net(p, r->gw->network_id);
        if (!n) {
            nfail(c, "router %s: external network %s is not in the plan", r->id,
                  r->gw->network_id);
        } else {
            const char **fips = arena_alloc(c->a, sizeof(char *) * (size_t)(r->nfips + 1));
            for (int k = 0; k < r->nfips; k++)
                fips[k] = r->fips[k].ip;
            net_tap_name(r->gw->id, outer);
            net_dev_name("qg-", r->gw->id, gw_dev);
            net_bridge_name(n->id, br);
            veth_ensure(c, links, outer, br, ns, gw_dev, r->gw, n->mtu, fips, r->nfips);
            if (r->gw_nexthop)
                routes[nroutes++] = (struct np_route){
                    strchr(r->gw_nexthop, ':') ? "::/0" : "0.0.0.0/0", r->gw_nexthop};
        }
    }
    routes_sync(c, ns, routes, nroutes);
    char *rules = nft_router_rules(c, r, *gw_dev ? gw_dev : NULL);
    if (rules)
        nft_load(c, ns, rules);
}

/* Whether p wants the namespace called name (qdhcp-<net> or qrouter-<router>). */
static bool
ns_wanted(const struct np_plan *p, const char *name)
{
    char ns[64];
    for (int k = 0; k < p->nnets; k++) {
        snprintf(ns, sizeof(ns), "qdhcp-%s", p->nets[k].id);
        if (p->nets[k].dhcp && !strcmp(ns, name))
            return true;
    }
    for (int k = 0; k < p->nrouters; k++) {
        snprintf(ns, sizeof(ns), "qrouter-%s", p->routers[k].id);
        if (!strcmp(ns, name))
            return true;
    }
    return false;
}

/* The plan's external namespace (made with the first external network,
 * adopted when it exists, never removed): a veth ext<net> (on the
 * network's bridge) <-> gw-<net> (inside) per external network, holding
 * its subnets' gateway addresses - the upstream router those subnets
 * name, played by the host itself. */
static void
external_ensure(struct nctx *c, json_t *links, json_t *nss, const struct np_plan *p)
{
    bool made = false;
    for (int i = 0; p->external_ns && i < p->nnets; i++) {
        const struct np_network *n = &p->nets[i];
        if (!n->external)
            continue;
        if (!made && netns_ensure(c, nss, p->external_ns, false) < 0)
            return;
        made = true;
        struct np_ip *ips = arena_alloc(c->a, sizeof(*ips) * (size_t)(n->nsubnets + 1));
        struct np_port gw = {.id = n->id, .network_id = n->id, .ips = ips};
        for (int k = 0; k < n->nsubnets; k++)
            if (n->subnets[k].gateway)
                ips[gw.nips++] = (struct np_ip){n->subnets[k].gateway, n->subnets[k].prefix,
                                                n->subnets[k].version};
        char outer[16], inner[16], br[16];
        net_dev_name("ext", n->id, outer);
        net_dev_name("gw-", n->id, inner);
        net_bridge_name(n->id, br);
        veth_ensure(c, links, outer, br, p->external_ns, inner, &gw, n->mtu, NULL, 0);
    }
}

/* Removes our root-namespace devices, namespaces and DHCP files that p
 * does not name. */
static void
prune(struct nctx *c, const struct np_plan *p, json_t *nss)
{
    json_t *links = ip_links(c, NULL);
    size_t i;
    json_t *l;
    char dev[16], ns[64];
    json_array_foreach(links, i, l) {
        const char *name = json_string_value(json_object_get(l, "ifname"));
        bool want = false;
        if (name && ours(name, "brq")) {
            for (int k = 0; k < p->nnets; k++) {
                net_bridge_name(p->nets[k].id, dev);
                want |= !strcmp(dev, name);
            }
        } else if (name && ours(name, "tap")) {
            for (int k = 0; k < p->nports; k++) {
                net_tap_name(p->ports[k].id, dev);
                want |= !strcmp(dev, name);
            }
            for (int k = 0; k < p->nnets; k++) {
                if (p->nets[k].dhcp)
                    net_tap_name(p->nets[k].dhcp->id, dev);
                want |= p->nets[k].dhcp && !strcmp(dev, name);
            }
            for (int k = 0; k < p->nrouters; k++) {
                const struct np_router *r = &p->routers[k];
                for (int j = 0; j <= r->nifaces; j++) {
                    const struct np_port *q = j < r->nifaces ? &r->ifaces[j] : r->gw;
                    if (q)
                        net_tap_name(q->id, dev);
                    want |= q && !strcmp(dev, name);
                }
            }
        } else if (name && ours(name, "ext")) {
            for (int k = 0; p->external_ns && k < p->nnets; k++) {
                net_dev_name("ext", p->nets[k].id, dev);
                want |= p->nets[k].external && !strcmp(dev, name);
            }
        } else {
            continue;
        }
        if (!want)
            ip_cmd(c, NULL, "link", "del", name, NULL);
    }
    json_decref(links);
    /* The external namespace itself stays when its last veth goes: what
     * runs in it (a user's shell, Tempest) keeps the same namespace. */
    json_array_foreach(nss, i, l) {
        const char *name = json_string_value(l);
        if (!name || (!ours_ns(name, "qdhcp-") && !ours_ns(name, "qrouter-")) ||
            ns_wanted(p, name))
            continue;
        if (ours_ns(name, "qdhcp-"))
            dhcp_stop(c, name + 6);
        ip_cmd(c, NULL, "netns", "del", name, NULL);
    }
    /* nft_load's rule files of namespaces that are gone (or going) */
    char dir[4200];
    DIR *rd = opendir(c->run_dir);
    struct dirent *e;
    while (rd && (e = readdir(rd))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "nft-q", 5) || n < 11 || strcmp(e->d_name + n - 6, ".rules"))
            continue;
        snprintf(ns, sizeof(ns), "%.*s", (int)(n - 10), e->d_name + 4);
        if (!ns_wanted(p, ns)) {
            snprintf(dir, sizeof(dir), "%s/%s", c->run_dir, e->d_name);
            unlink(dir);
        }
    }
    if (rd)
        closedir(rd);
    /* DHCP files of networks whose namespace is already gone */
    snprintf(dir, sizeof(dir), "%s/dhcp", c->run_dir);
    DIR *d = opendir(dir);
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        const struct np_network *n = find_net(p, e->d_name);
        if (!n || !n->dhcp)
            dhcp_stop(c, e->d_name);
    }
    if (d)
        closedir(d);
}

int
net_apply(const struct np_plan *p, const char *run_dir, char *why, size_t whylen)
{
    struct arena *a = arena_new();
    struct nctx c = {.run_dir = run_dir, .a = a, .why = why, .whylen = whylen};
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/dhcp", run_dir);
    mkdir_p(dir, 0755);
    json_t *links = ip_links(&c, NULL);
    json_t *nss = netns_list(&c);
    for (int i = 0; links && i < p->nnets; i++)
        bridge_ensure(&c, links, &p->nets[i]);
    json_decref(links);
    /* the bridges exist now: the rest attaches to them */
    links = ip_links(&c, NULL);
    for (int i = 0; links && i < p->nports; i++)
        tap_ensure(&c, links, p, &p->ports[i]);
    for (int i = 0; links && i < p->nnets; i++)
        if (p->nets[i].dhcp)
            dhcp_ensure(&c, links, nss, p, &p->nets[i]);
    for (int i = 0; links && i < p->nrouters; i++)
        router_ensure(&c, links, nss, p, &p->routers[i]);
    if (links)
        external_ensure(&c, links, nss, p);
    json_decref(links);
    char *rules = nft_host_rules(&c, p);
    if (rules)
        nft_load(&c, NULL, rules);
    prune(&c, p, nss);
    json_decref(nss);
    arena_free(a);
    return c.rc;
}
