/* net.h - the host's networking as the agent builds it (DESIGN.md §6):
 * a Linux bridge per network, a tap per server port, a DHCP namespace
 * per network running dnsmasq, nftables rules per port for security
 * groups and anti-spoofing, and a namespace per router with SNAT and
 * floating IPs.
 *
 * The control plane describes what this host should have as one JSON
 * document, the "network plan" (docs/network-host.md has its schema);
 * net_apply() makes the host match it and removes what the plan no
 * longer names. Every step checks what is there first, so a repeat, or a
 * run after a crash at any point, converges and touches nothing that is
 * already right. Names follow Neutron's Linux bridge agent, so an
 * operator who knows Neutron finds brqXXXXXXXX-XX, tapXXXXXXXX-XX,
 * qdhcp-<network>, qrouter-<router>, qr-/qg- as expected. */
#ifndef AGENT_NET_H
#define AGENT_NET_H

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* An address on a port: "10.0.0.5" with its subnet's prefix length. */
struct np_ip {
    const char *addr;
    int prefix;
    int version;                /* 4 or 6 */
};

struct np_route {
    const char *dest;           /* "0.0.0.0/0", "192.168.2.0/24" */
    const char *nexthop;
};

struct np_subnet {
    const char *id;
    const char *cidr;           /* network/prefix */
    const char *network_addr;   /* the cidr's address part */
    int prefix, version;
    const char *gateway;        /* NULL: none */
    bool dhcp;
    const char *ra_mode, *addr_mode;    /* IPv6 modes, NULL when unset */
    const char **dns;
    int ndns;
    struct np_route *routes;
    int nroutes;
};

/* A security group rule with its remote side resolved to prefixes. */
struct np_rule {
    bool ingress;
    int version;                /* 4 or 6 */
    int proto;                  /* IP protocol number, -1: any */
    int pmin, pmax;             /* ports (tcp/udp/sctp) or ICMP type/code; -1: any */
    const char **remote;        /* prefixes; NULL with nremote 0: any */
    int nremote;
};

struct np_pair {
    const char *ip;             /* address or prefix */
    const char *mac;
};

/* A port this host wires: a server's NIC, a network's DHCP port or a
 * router's interface. */
struct np_port {
    const char *id, *network_id, *mac;
    const char *device_id;      /* the server a server port belongs to, else NULL */
    const char *hostname;       /* DHCP host name, NULL: none */
    struct np_ip *ips;
    int nips;
    bool security;              /* port_security_enabled: filter and anti-spoof */
    struct np_pair *pairs;
    int npairs;
    struct np_rule *rules;
    int nrules;
};

struct np_network {
    const char *id;
    int mtu;
    struct np_subnet *subnets;
    int nsubnets;
    struct np_port *dhcp;       /* its DHCP port, NULL: no DHCP here */
    bool metadata;              /* serve 169.254.169.254 in its DHCP namespace */
    bool external;              /* router:external: wired to the plan's external_ns */
};

struct np_fip {
    const char *ip, *fixed_ip;
};

struct np_router {
    const char *id;
    struct np_port *gw;         /* the external gateway port, NULL: none */
    const char *gw_nexthop;     /* the external subnet's gateway, NULL: none */
    bool snat;
    struct np_port *ifaces;
    int nifaces;
    struct np_route *routes;
    int nroutes;
    struct np_fip *fips;
    int nfips;
};

struct np_plan {
    struct np_network *nets;
    int nnets;
    struct np_port *ports;      /* server ports bound to this host */
    int nports;
    struct np_router *routers;
    int nrouters;
    /* The "outside world" namespace the host makes itself (NULL: none):
     * each external network of the plan gets a veth into it holding its
     * subnets' gateway addresses, so floating IPs are reachable from it
     * and nothing is bridged or routed to the host's real interfaces. */
    const char *external_ns;
};

/* Where the host networking keeps its files (dnsmasq's, the loaded
 * rules). Host-wide, like the bridges and namespaces they go with, and
 * readable by the unprivileged user dnsmasq drops to. */
#define NET_RUN_DIR "/run/onestack/net"

/* Reads the plan document doc into *out; every string stays doc's (keep
 * doc alive), the arrays are a's. 0, or -1 with why set (the document is
 * malformed: nothing may be applied). */
int np_parse(json_t *doc, struct arena *a, struct np_plan *out, char *why, size_t whylen);
/* Whether s may name the plan's external namespace: 1-32 of
 * [A-Za-z0-9_.-], not starting with '.', and not one of the shapes the
 * agent makes and removes per network or router (qdhcp-, qrouter-). */
bool np_ns_name_ok(const char *s);

/* Makes the host match plan p and removes bridges, taps, namespaces,
 * dnsmasq processes and rules that p does not name. run_dir (exists)
 * holds the dnsmasq files. 0, or -1 with why holding the first failure
 * (the rest is still attempted, so one bad piece does not block the
 * others). Not thread-safe: one caller at a time. */
int net_apply(const struct np_plan *p, const char *run_dir, char *why, size_t whylen);

/* The interface names, from a Neutron id (buf of at least 16 bytes):
 * the tap (or the veth on the bridge) of port id, the bridge of network
 * id. */
void net_tap_name(const char *port_id, char *buf);
void net_bridge_name(const char *net_id, char *buf);
/* The dotted netmask of an IPv4 prefix length into out (16 bytes). */
void net_mask4(int prefix, char *out);

#endif
