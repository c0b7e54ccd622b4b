/* net_int.h - what the agent's networking files share (net.h is the
 * outside view): the apply context with its first failure, the iproute2
 * and nft helpers (net_link.c), the rule sets (net_nft.c) and dnsmasq
 * (net_dhcp.c). */
#ifndef AGENT_NET_INT_H
#define AGENT_NET_INT_H

#include "net.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* One net_apply() run: the first failure is kept and the run goes on. */
struct nctx {
    const char *run_dir;
    struct arena *a;
    char *why;
    size_t whylen;
    int rc;
};

/* Records a failure (the first one wins); returns -1. */
int nfail(struct nctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs `ip [-n ns] args...` (NULL-terminated); a failure is recorded. */
int ip_cmd(struct nctx *c, const char *ns, ...) __attribute__((sentinel));
/* `ip [-n ns] -j -d link show` as a JSON array (new reference), NULL on
 * failure (recorded). */
json_t *ip_links(struct nctx *c, const char *ns);
/* `ip [-n ns] -j -4|-6 route show proto static` (fam 4 or 6) as a JSON
 * array: the routes the agent added (new reference). */
json_t *ip_routes(struct nctx *c, const char *ns, int fam);
/* The link named name in the array links, NULL when absent. */
json_t *link_find(json_t *links, const char *name);
/* The namespaces that exist, as a JSON array of names (new reference). */
json_t *netns_list(struct nctx *c);
bool netns_has(json_t *list, const char *name);
/* Creates namespace ns when missing (lo up, forwarding when router). */
int netns_ensure(struct nctx *c, json_t *list, const char *ns, bool router);
/* Writes value to /proc/sys/<key> inside ns (NULL: this namespace). */
int sysctl_set(struct nctx *c, const char *ns, const char *key, const char *value);
/* Makes link dev (in ns) up with the MTU, the MAC (when given) and the
 * master bridge (when given), changing only what differs from its entry
 * l in `ip -j -d link` output. */
int link_tune(struct nctx *c, const char *ns, json_t *l, const char *dev, int mtu,
              const char *mac, const char *master);
/* Makes dev's addresses in ns exactly ips plus the nextra IPv4
 * addresses extra (each a /32: the metadata address, floating IPs);
 * IPv6 link-local addresses are left alone. */
int addrs_sync(struct nctx *c, const char *ns, const char *dev, const struct np_ip *ips, int nips,
               const char *const *extra, int nextra);
/* A veth whose end `outer` sits on bridge br (root namespace) and whose
 * end `inner` sits in ns with the port's MAC, addresses and MTU. links is
 * the root namespace's link list. */
int veth_ensure(struct nctx *c, json_t *links, const char *outer, const char *br, const char *ns,
                const char *inner, const struct np_port *p, int mtu, const char *const *extra,
                int nextra);
/* Runs `nft -f` on text inside ns (NULL: here); a failure is recorded. */
int nft_load(struct nctx *c, const char *ns, const char *text);

/* The rules of the root namespace (bridge and inet tables "onestack")
 * for plan p's ports, as nft -f input (arena text). */
char *nft_host_rules(struct nctx *c, const struct np_plan *p);
/* A router's NAT table ("onestack_nat") as nft -f input. */
char *nft_router_rules(struct nctx *c, const struct np_router *r, const char *gw_dev);

/* Network n's dnsmasq in its namespace, started, reloaded or restarted
 * as its files require; ports are the plan's, for the hosts file. */
int dhcp_sync(struct nctx *c, const struct np_network *n, const struct np_plan *p, const char *ns,
              const char *dev);
/* Stops the dnsmasq of network net_id and removes its files. */
void dhcp_stop(struct nctx *c, const char *net_id);

/* Appends printf-formatted text to b (a line of a rule set or a dnsmasq
 * file; past b's ceiling, b->toobig is set). */
struct buf;
void bput(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "<prefix><first 11 chars of id>" into buf (16 bytes): Neutron's names. */
void net_dev_name(const char *prefix, const char *id, char *buf);

#endif
