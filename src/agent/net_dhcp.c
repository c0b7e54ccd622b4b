/* net_dhcp.c - dnsmasq for a network, in its DHCP namespace, as
 * Neutron's DHCP agent runs it: a static range per subnet, so only the
 * MACs in the hosts file (the network's ports) get a lease, and each gets
 * the address IPAM gave its port. Options per subnet: router, classless
 * routes (host routes, the metadata address through the DHCP port, and
 * the default route: a client that takes option 121 ignores option 3),
 * DNS servers and the network's MTU. IPv6 subnets with an RA mode get
 * router advertisements from the same dnsmasq (slaac, ra-stateless or
 * stateful DHCPv6).
 *
 * Files in RUN/dhcp/<network>/. A change to the hosts or options files
 * is a SIGHUP (dnsmasq rereads them, leases stay); a change to the
 * configuration (subnets, interface) is a restart. A dnsmasq left from
 * before an agent restart is adopted by its pid file and command line. */
#include "net_int.h"
#include "run.h"
#include "core/arena.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
dir_of(const struct nctx *c, const char *net_id, char *out, size_t n)
{
    snprintf(out, n, "%s/dhcp/%s", c->run_dir, net_id);
}

/* The DHCP port's address on subnet s, NULL when it has none. */
static const char *
dhcp_addr(const struct np_network *n, const struct np_subnet *s)
{
    for (int i = 0; n->dhcp && i < n->dhcp->nips; i++) {
        const struct np_ip *ip = &n->dhcp->ips[i];
        if (ip->version != s->version)
            continue;
        /* the address is on s when it shares the network part */
        unsigned char a[16], b[16];
        int fam = s->version == 4 ? AF_INET : AF_INET6;
        if (inet_pton(fam, ip->addr, a) != 1 || inet_pton(fam, s->network_addr, b) != 1)
            continue;
        int bits = s->prefix, k = 0;
        for (; bits >= 8; bits -= 8, k++)
            if (a[k] != b[k])
                break;
        if (bits < 8 && (bits == 0 || ((a[k] ^ b[k]) & (0xff << (8 - bits))) == 0))
            return ip->addr;
    }
    return NULL;
}

static void
conf_text(struct buf *b, const struct nctx *c, const struct np_network *n, const char *dir,
          const char *dev)
{
    bput(b, "no-hosts\nno-resolv\nport=0\nbind-interfaces\ninterface=%s\nexcept-interface=lo\n"
           "pid-file=%s/pid\ndhcp-hostsfile=%s/hosts\ndhcp-optsfile=%s/opts\n"
           "dhcp-leasefile=%s/leases\ndhcp-lease-max=65536\nlog-facility=%s/log\n",
        dev, dir, dir, dir, dir, dir);
    (void)c;
    bool ra = false;
    for (int i = 0; i < n->nsubnets; i++) {
        const struct np_subnet *s = &n->subnets[i];
        if (!s->dhcp)
            continue;
        if (s->version == 4) {
            char mask[INET_ADDRSTRLEN];
            net_mask4(s->prefix, mask);
            bput(b, "dhcp-range=set:subnet-%s,%s,static,%s,86400s\n", s->id, s->network_addr, mask);
            continue;
        }
        const char *mode = s->addr_mode ? s->addr_mode : s->ra_mode;
        if (!mode)
            continue;
        const char *how = !strcmp(mode, "slaac") ? "ra-only" :
                          !strcmp(mode, "dhcpv6-stateless") ? "ra-stateless" : "static";
        bput(b, "dhcp-range=set:subnet-%s,%s,%s,%d,86400s\n", s->id, s->network_addr, how,
            s->prefix);
        ra |= s->ra_mode != NULL;
    }
    /* RAs name this namespace as a router with lifetime 0: the guest
     * takes the prefix, its default route comes from the real router */
    if (ra)
        bput(b, "enable-ra\nra-param=%s,0,0\n", dev);
}

static void
opts_text(struct buf *b, const struct np_network *n)
{
    for (int i = 0; i < n->nsubnets; i++) {
        const struct np_subnet *s = &n->subnets[i];
        if (!s->dhcp)
            continue;
        if (s->version == 6) {
            if (!s->ndns)
                continue;
            bput(b, "tag:subnet-%s,option6:dns-server", s->id);
            for (int k = 0; k < s->ndns; k++)
                bput(b, ",[%s]", s->dns[k]);
            bput(b, "\n");
            continue;
        }
        if (s->gateway)
            bput(b, "tag:subnet-%s,option:router,%s\n", s->id, s->gateway);
        else
            bput(b, "tag:subnet-%s,option:router\n", s->id);
        bput(b, "tag:subnet-%s,option:classless-static-route", s->id);
        const char *md = n->metadata ? dhcp_addr(n, s) : NULL;
        if (md)
            bput(b, ",169.254.169.254/32,%s", md);
        for (int k = 0; k < s->nroutes; k++)
            bput(b, ",%s,%s", s->routes[k].dest, s->routes[k].nexthop);
        if (s->gateway)
            bput(b, ",0.0.0.0/0,%s", s->gateway);
        bput(b, "\n");
        if (s->ndns) {
            bput(b, "tag:subnet-%s,option:dns-server", s->id);
            for (int k = 0; k < s->ndns; k++)
                bput(b, ",%s", s->dns[k]);
            bput(b, "\n");
        } else {
            bput(b, "tag:subnet-%s,option:dns-server\n", s->id);
        }
        bput(b, "tag:subnet-%s,option:mtu,%d\n", s->id, n->mtu);
    }
}

/* One hosts-file line a port on network n: MAC, its IPv4 address,
 * its stateful-DHCPv6 address, a host name (Neutron's host-<ip> when
 * the port has none). */
static void
host_line(struct buf *b, const struct np_port *p)
{
    const char *v4 = NULL, *v6 = NULL;
    for (int i = 0; i < p->nips; i++) {
        if (p->ips[i].version == 4 && !v4)
            v4 = p->ips[i].addr;
        else if (p->ips[i].version == 6 && !v6)
            v6 = p->ips[i].addr;
    }
    if (!v4 && !v6)
        return;
    bput(b, "%s", p->mac);
    if (v4)
        bput(b, ",%s", v4);
    if (v6)
        bput(b, ",[%s]", v6);
    if (p->hostname) {
        bput(b, ",%s\n", p->hostname);
        return;
    }
    char name[64];
    snprintf(name, sizeof(name), "host-%s", v4 ? v4 : v6);
    for (char *q = name; *q; q++)
        if (*q == '.' || *q == ':')
            *q = '-';
    bput(b, ",%s\n", name);
}

/* Writes text to path when it differs from what is there; 1 when it
 * changed, 0 when not, -1 on failure (recorded). */
static int
write_if_changed(struct nctx *c, const char *path, const struct buf *b)
{
    size_t len = 0;
    char *old = file_read(path, &len);
    bool same = old && len == b->len && (!len || !memcmp(old, b->data, len));
    free(old);
    if (same)
        return 0;
    int rc = file_write_atomic(path, b->data ? b->data : "", b->len, 0644);
    if (rc < 0)
        return nfail(c, "cannot write %s: %s", path, strerror(-rc));
    return 1;
}

/* The pid of the dnsmasq that runs with the configuration file conf, 0
 * when none does. */
static pid_t
running(const char *dir, const char *conf)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/pid", dir);
    char *s = file_read(path, NULL);
    pid_t pid = s ? (pid_t)atoi(s) : 0;
    free(s);
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    size_t len = 0;
    char *cmd = file_read(path, &len);
    bool ours = false;
    for (size_t i = 0; cmd && i < len; i += strlen(cmd + i) + 1)
        if (!strncmp(cmd + i, "--conf-file=", 12) && !strcmp(cmd + i + 12, conf))
            ours = true;
    free(cmd);
    return ours ? pid : 0;
}

/* Whether pid is still a live process: a zombie has exited (dnsmasq's
 * parent after its daemon fork is init, which may reap it late). */
static bool
alive(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *s = file_read(path, NULL);
    const char *p = s ? strrchr(s, ')') : NULL;
    bool live = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
    free(s);
    return live;
}

static void
stop_pid(pid_t pid)
{
    if (pid <= 0 || kill(pid, SIGTERM) < 0)
        return;
    for (int i = 0; i < 200 && alive(pid); i++)
        usleep(5000);
    if (alive(pid))
        kill(pid, SIGKILL);
}

int
dhcp_sync(struct nctx *c, const struct np_network *n, const struct np_plan *p, const char *ns,
          const char *dev)
{
    char dir[4096], path[4200], conf[4200];
    dir_of(c, n->id, dir, sizeof(dir));
    if (mkdir_p(dir, 0755) < 0)
        return nfail(c, "cannot make %s", dir);
    struct buf b;
    buf_init(&b, 4 << 20);
    int changed = 0, rc;
    host_line(&b, n->dhcp);
    for (int i = 0; i < p->nports; i++)
        if (!strcmp(p->ports[i].network_id, n->id))
            host_line(&b, &p->ports[i]);
    snprintf(path, sizeof(path), "%s/hosts", dir);
    rc = write_if_changed(c, path, &b);
    changed |= rc > 0;
    b.len = 0;
    opts_text(&b, n);
    snprintf(path, sizeof(path), "%s/opts", dir);
    rc = write_if_changed(c, path, &b);
    changed |= rc > 0;
    b.len = 0;
    conf_text(&b, c, n, dir, dev);
    snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", dir);
    pid_t pid = running(dir, conf);
    rc = write_if_changed(c, conf, &b);
    buf_release(&b);
    if (rc < 0)
        return -1;
    if (pid && rc == 0) {
        if (changed)
            kill(pid, SIGHUP);
        return 0;
    }
    stop_pid(pid);
    char arg[4300], why[512];
    snprintf(arg, sizeof(arg), "--conf-file=%s", conf);
    const char *argv[] = {"ip", "netns", "exec", ns, "dnsmasq", arg, NULL};
    if (run_cmd(argv, why, sizeof(why)) < 0)
        return nfail(c, "dnsmasq for network %s: %s", n->id, why);
    return 0;
}

void
dhcp_stop(struct nctx *c, const char *net_id)
{
    char dir[4096], conf[4200];
    dir_of(c, net_id, dir, sizeof(dir));
    snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", dir);
    stop_pid(running(dir, conf));
    rm_tree(dir);
}
