/* net_nft.c - the nftables rules the agent loads: security groups and
 * anti-spoofing for the ports of the root namespace, NAT for routers.
 *
 * This kernel has the nftables bridge family but no bridge conntrack
 * (CONFIG_NF_CONNTRACK_BRIDGE is off, ../shared/recipes/vm/NOTES.md §4),
 * and for bridged packets the inet forward hook (br_netfilter) sees the
 * bridge, never the tap. So:
 *  - the bridge table's prerouting chain (before br_netfilter) does the
 *    anti-spoofing of what comes from a port and marks the packet with
 *    the port's number in the high 16 bits; its forward chain ORs the
 *    number of the port the packet leaves by into the low 16 bits;
 *  - the inet table's forward chain (with conntrack) sends the packet
 *    through the sender's egress chain and the receiver's ingress chain
 *    by those marks; `ct state established,related` makes them stateful
 *    as Neutron's security groups are;
 *  - each network gets its own conntrack zone, so overlapping tenant
 *    addresses on two networks never share connection state.
 * Every load replaces both tables in one nft transaction, so a packet
 * sees the old rules or the new ones, never a mix, and a rule set that
 * nft refuses leaves the old one in place. */
#include "net_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The conntrack zone of a network: stable across loads and restarts
 * (established connections keep their entries), from its id. */
static unsigned
net_zone(const char *net_id)
{
    uint32_t h = 2166136261u;
    for (const char *s = net_id; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return 1 + h % 65000;
}

/* The IPv6 link-local address (EUI-64) of mac into out (48 bytes). */
static void
mac_link_local(const char *mac, char *out)
{
    unsigned m[6];
    sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
    snprintf(out, 48, "fe80::%x:%xff:fe%02x:%x", ((m[0] ^ 2) << 8) | m[1], m[2], m[3],
             (m[4] << 8) | m[5]);
}

/* ", addr" for each address of version v port p may send from: its fixed
 * IPs and its allowed address pairs. */
static void
own_addrs(struct buf *b, const struct np_port *p, int v)
{
    for (int k = 0; k < p->nips; k++)
        if (p->ips[k].version == v)
            bput(b, ", %s", p->ips[k].addr);
    for (int k = 0; k < p->npairs; k++)
        if ((strchr(p->pairs[k].ip, ':') != NULL) == (v == 6))
            bput(b, ", %s", p->pairs[k].ip);
}

/* The anti-spoofing chain of port number i: only its MACs and addresses
 * (fixed IPs, allowed address pairs) may leave it; no DHCP server and no
 * router advertisements from a guest. */
static void
spoof_chain(struct buf *b, const struct np_port *p, int i)
{
    bput(b, "  chain from_%d {\n    ether saddr != { %s", i, p->mac);
    for (int k = 0; k < p->npairs; k++)
        if (p->pairs[k].mac && strcasecmp(p->pairs[k].mac, p->mac))
            bput(b, ", %s", p->pairs[k].mac);
    bput(b, " } drop\n");
    /* IPv4 and ARP: 0.0.0.0 only for a DHCP request */
    bput(b, "    ip saddr 0.0.0.0 udp dport != 67 drop\n    ip saddr != { 0.0.0.0");
    own_addrs(b, p, 4);
    bput(b, " } drop\n    arp saddr ip != { 0.0.0.0");
    own_addrs(b, p, 4);
    bput(b, " } drop\n    udp sport 67 drop\n");
    char ll[48];
    mac_link_local(p->mac, ll);
    bput(b, "    ip6 saddr != { ::, %s", ll);
    own_addrs(b, p, 6);
    bput(b, " } drop\n    icmpv6 type nd-router-advert drop\n    udp sport 547 drop\n");
    bput(b, "    meta mark set 0x%x\n  }\n", (unsigned)i << 16);
}

/* One security group rule as an nft rule ending in verdict. */
static void
sg_rule(struct buf *b, const struct np_rule *r, const char *verdict)
{
    if (r->remote && r->nremote == 0)
        return;     /* a remote group with no members: matches nothing */
    bool v6 = r->version == 6;
    bput(b, "    meta nfproto %s", v6 ? "ipv6" : "ipv4");
    if (r->remote) {
        bput(b, " %s %s {", v6 ? "ip6" : "ip", r->ingress ? "saddr" : "daddr");
        for (int k = 0; k < r->nremote; k++)
            bput(b, "%s %s", k ? "," : "", r->remote[k]);
        bput(b, " }");
    }
    int proto = r->proto;
    if (v6 && proto == 1)
        proto = 58;     /* Neutron's "icmp" on an IPv6 rule means ICMPv6 */
    if (proto == 6 || proto == 17 || proto == 132) {
        const char *pn = proto == 6 ? "tcp" : proto == 17 ? "udp" : "sctp";
        if (r->pmin >= 0) {
            int hi = r->pmax >= 0 ? r->pmax : r->pmin;
            if (hi == r->pmin)
                bput(b, " %s dport %d", pn, r->pmin);
            else
                bput(b, " %s dport %d-%d", pn, r->pmin, hi);
        } else {
            bput(b, " meta l4proto %s", pn);
        }
    } else if (proto == 1 || proto == 58) {
        const char *pn = proto == 1 ? "icmp" : "icmpv6";
        bput(b, " meta l4proto %s", pn);
        if (r->pmin >= 0)
            bput(b, " %s type %d", pn, r->pmin);
        if (r->pmin >= 0 && r->pmax >= 0)
            bput(b, " %s code %d", pn, r->pmax);
    } else if (proto >= 0) {
        bput(b, " meta l4proto %d", proto);
    }
    bput(b, " %s\n", verdict);
}

/* The egress (from the guest) and ingress (to the guest) chains of port
 * number i. Egress allows what passes with `return`, so the receiving
 * port's ingress chain still runs after it. */
static void
sg_chains(struct buf *b, const struct np_port *p, int i)
{
    bput(b, "  chain eg_%d {\n    ct state established,related return\n"
           "    ct state invalid drop\n    udp sport 68 udp dport 67 return\n"
           "    udp sport 546 udp dport 547 return\n"
           "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, "
           "mld-listener-report, mld2-listener-report } return\n", i);
    for (int k = 0; k < p->nrules; k++)
        if (!p->rules[k].ingress)
            sg_rule(b, &p->rules[k], "return");
    bput(b, "    drop\n  }\n");
    bput(b, "  chain in_%d {\n    ct state established,related accept\n"
           "    ct state invalid drop\n    udp sport 67 udp dport 68 accept\n"
           "    udp sport 547 udp dport 546 accept\n"
           "    icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, "
           "mld-listener-query } accept\n", i);
    for (int k = 0; k < p->nrules; k++)
        if (p->rules[k].ingress)
            sg_rule(b, &p->rules[k], "accept");
    bput(b, "    drop\n  }\n");
}

/* Every port the root namespace bridges, with its network: server
 * ports, DHCP ports and router ports (their bridge-side veth ends). */
static void
zone_map(struct buf *b, const struct np_plan *p)
{
    char dev[16];
    bool first = true;
    bput(b, "  chain zone {\n    type filter hook prerouting priority -300; policy accept;\n");
    for (int i = 0; i < p->nnets; i++) {
        net_bridge_name(p->nets[i].id, dev);
        bput(b, "%s \"%s\" : %u", first ? "    ct zone set iifname map {" : ",", dev,
            net_zone(p->nets[i].id));
        first = false;
        if (p->nets[i].dhcp) {
            net_tap_name(p->nets[i].dhcp->id, dev);
            bput(b, ", \"%s\" : %u", dev, net_zone(p->nets[i].id));
        }
    }
    for (int i = 0; i < p->nports; i++) {
        net_tap_name(p->ports[i].id, dev);
        bput(b, "%s \"%s\" : %u", first ? "    ct zone set iifname map {" : ",", dev,
            net_zone(p->ports[i].network_id));
        first = false;
    }
    for (int i = 0; i < p->nrouters; i++) {
        const struct np_router *r = &p->routers[i];
        for (int k = 0; k <= r->nifaces; k++) {
            const struct np_port *q = k < r->nifaces ? &r->ifaces[k] : r->gw;
            if (!q)
                continue;
            net_tap_name(q->id, dev);
            bput(b, "%s \"%s\" : %u", first ? "    ct zone set iifname map {" : ",", dev,
                net_zone(q->network_id));
            first = false;
        }
    }
    bput(b, "%s  }\n", first ? "" : " }\n");
}

/* A base chain of the bridge table sending each secured port's packets
 * (matched by dir, "iifname" or "oifname") to its chain <to>_<number>. */
static void
port_chain(struct buf *b, const struct np_plan *p, const char *name, const char *hook,
           const char *dir, const char *to, int n)
{
    bput(b, "  chain %s {\n    type filter hook %s priority -300; policy accept;\n", name, hook);
    char dev[16];
    for (int i = 0, k = 0; i < p->nports; i++) {
        if (!p->ports[i].security)
            continue;
        net_tap_name(p->ports[i].id, dev);
        k++;
        if (k == 1)
            bput(b, "    %s vmap {", dir);
        bput(b, "%s \"%s\" : jump %s_%d", k > 1 ? "," : "", dev, to, k);
    }
    bput(b, "%s  }\n", n ? " }\n" : "");
}

char *
nft_host_rules(struct nctx *c, const struct np_plan *p)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    bput(&b, "table bridge onestack\ndelete table bridge onestack\n"
            "table inet onestack\ndelete table inet onestack\n");
    if (!p->nnets && !p->nports && !p->nrouters)
        goto done;      /* nothing here: no tables at all */
    /* ports with security on get a number, from 1 */
    int n = 0;
    bput(&b, "table bridge onestack {\n");
    for (int i = 0; i < p->nports; i++)
        if (p->ports[i].security)
            spoof_chain(&b, &p->ports[i], ++n);
    port_chain(&b, p, "pre", "prerouting", "iifname", "from", n);
    for (int i = 1; i <= n; i++)
        bput(&b, "  chain to_%d {\n    meta mark set meta mark | 0x%x\n  }\n", i, (unsigned)i);
    port_chain(&b, p, "post", "forward", "oifname", "to", n);
    bput(&b, "}\n");

    bput(&b, "table inet onestack {\n");
    zone_map(&b, p);
    for (int i = 0, k = 0; i < p->nports; i++)
        if (p->ports[i].security)
            sg_chains(&b, &p->ports[i], ++k);
    bput(&b, "  chain filter {\n    type filter hook forward priority 0; policy accept;\n");
    if (n) {
        bput(&b, "    meta mark & 0xffff0000 vmap {");
        for (int i = 1; i <= n; i++)
            bput(&b, "%s 0x%x : jump eg_%d", i > 1 ? "," : "", (unsigned)i << 16, i);
        bput(&b, " }\n    meta mark & 0xffff vmap {");
        for (int i = 1; i <= n; i++)
            bput(&b, "%s 0x%x : jump in_%d", i > 1 ? "," : "", (unsigned)i, i);
        bput(&b, " }\n");
    }
    bput(&b, "  }\n}\n");
done:
    if (b.toobig) {
        buf_release(&b);
        nfail(c, "the rule set passes 1 MiB");
        return NULL;
    }
    char *s = arena_strndup(c->a, b.data ? b.data : "", b.len);
    buf_release(&b);
    return s;
}

char *
nft_router_rules(struct nctx *c, const struct np_router *r, const char *gw_dev)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    bput(&b, "table ip onestack_nat\ndelete table ip onestack_nat\ntable ip onestack_nat {\n"
            "  chain pre {\n    type nat hook prerouting priority dstnat; policy accept;\n");
    for (int i = 0; gw_dev && i < r->nfips; i++)
        bput(&b, "    ip daddr %s dnat to %s\n", r->fips[i].ip, r->fips[i].fixed_ip);
    bput(&b, "  }\n  chain post {\n    type nat hook postrouting priority srcnat; policy accept;\n");
    const char *gw_ip = NULL;
    for (int i = 0; r->gw && i < r->gw->nips; i++)
        if (r->gw->ips[i].version == 4)
            gw_ip = r->gw->ips[i].addr;
    if (gw_dev) {
        for (int i = 0; i < r->nfips; i++)
            bput(&b, "    oifname \"%s\" ip saddr %s snat to %s\n", gw_dev, r->fips[i].fixed_ip,
                r->fips[i].ip);
        if (r->snat && gw_ip)
            bput(&b, "    oifname \"%s\" ip saddr != %s snat to %s\n", gw_dev, gw_ip, gw_ip);
    }
    bput(&b, "  }\n}\n");
    char *s = b.toobig ? NULL : arena_strndup(c->a, b.data ? b.data : "", b.len);
    if (!s)
        nfail(c, "router %s: the NAT rule set passes 1 MiB", r->id);
    buf_release(&b);
    return s;
}
