/* net_link.c - links, namespaces, addresses and nft loads through
 * iproute2 and nft (net_int.h). The tools, not netlink by hand: they are
 * what an operator uses to look at the same state, their JSON output is
 * stable, and a reconcile runs only a handful of them when nothing
 * changed (one `ip -j link` per namespace). */
#include "net_int.h"
#include "run.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IP_MAX_ARGS 32

int
nfail(struct nctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_warn(NULL, "net: %s", msg);
    if (!c->rc) {
        c->rc = -1;
        snprintf(c->why, c->whylen, "%s", msg);
    }
    return -1;
}

void
net_dev_name(const char *prefix, const char *id, char *buf)
{
    snprintf(buf, 16, "%s%.11s", prefix, id);
}

void
bput(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_append(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void
net_mask4(int prefix, char *out)
{
    uint32_t m = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
    inet_ntop(AF_INET, &m, out, 16);
}

void
net_tap_name(const char *port_id, char *buf)
{
    net_dev_name("tap", port_id, buf);
}

void
net_bridge_name(const char *net_id, char *buf)
{
    net_dev_name("brq", net_id, buf);
}

/* argv for `ip [-n ns] ...` from ap into argv (IP_MAX_ARGS). */
static int
ip_argv(const char **argv, const char *ns, va_list ap)
{
    int n = 0;
    argv[n++] = "ip";
    if (ns) {
        argv[n++] = "-n";
        argv[n++] = ns;
    }
    const char *s;
    while ((s = va_arg(ap, const char *)) && n < IP_MAX_ARGS - 1)
        argv[n++] = s;
    argv[n] = NULL;
    return n;
}

int
ip_cmd(struct nctx *c, const char *ns, ...)
{
    const char *argv[IP_MAX_ARGS];
    va_list ap;
    va_start(ap, ns);
    ip_argv(argv, ns, ap);
    va_end(ap);
    char why[512];
    if (run_cmd(argv, why, sizeof(why)) == 0)
        return 0;
    char cmd[256] = "";
    for (int i = 1; argv[i] && strlen(cmd) < 200; i++)
        snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", argv[i]);
    return nfail(c, "ip%s: %s", cmd, why);
}

/* `ip [-n ns] -j ...` parsed; NULL (recorded) on failure. */
static json_t *
ip_json(struct nctx *c, const char *ns, const char *const *args)
{
    const char *argv[IP_MAX_ARGS];
    int n = 0;
    argv[n++] = "ip";
    if (ns) {
        argv[n++] = "-n";
        argv[n++] = ns;
    }
    argv[n++] = "-j";
    for (; *args && n < IP_MAX_ARGS - 1; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    size_t cap = 1 << 20;
    char *out = malloc(cap), why[512];
    if (!out) {
        nfail(c, "out of memory");
        return NULL;
    }
    json_t *j = NULL;
    if (run_cmd_out(argv, out, cap, why, sizeof(why)) < 0)
        nfail(c, "ip -j %s: %s", args[-1], why);
    else if (!(j = json_loads(out, 0, NULL)) || !json_is_array(j)) {
        /* `ip -j` prints nothing at all for an empty list */
        json_decref(j);
        j = json_array();
    }
    free(out);
    return j;
}

json_t *
ip_links(struct nctx *c, const char *ns)
{
    static const char *const args[] = {"-d", "link", "show", NULL};
    return ip_json(c, ns, args);
}

json_t *
ip_routes(struct nctx *c, const char *ns, int fam)
{
    const char *args[] = {fam == 6 ? "-6" : "-4", "route", "show", "proto", "static", NULL};
    return ip_json(c, ns, args);
}

json_t *
link_find(json_t *links, const char *name)
{
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l) {
        const char *n = json_string_value(json_object_get(l, "ifname"));
        if (n && !strcmp(n, name))
            return l;
    }
    return NULL;
}

json_t *
netns_list(struct nctx *c)
{
    static const char *const args[] = {"netns", "list", NULL};
    json_t *j = ip_json(c, NULL, args), *names = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
        json_array_append(names, json_object_get(e, "name"));
    json_decref(j);
    return names;
}

bool
netns_has(json_t *list, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
        if (!strcmp(json_string_value(e), name))
            return true;
    return false;
}

int
sysctl_set(struct nctx *c, const char *ns, const char *key, const char *value)
{
    char path[256];
    snprintf(path, sizeof(path), "/proc/sys/%s", key);
    if (!ns) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, strlen(value)) < 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return nfail(c, "sysctl %s: %s", key, strerror(e));
        }
        close(fd);
        return 0;
    }
    char kv[300];
    snprintf(kv, sizeof(kv), "%s=%s", key, value);
    return ip_cmd(c, NULL, "netns", "exec", ns, "sysctl", "-qw", kv, NULL);
}

int
netns_ensure(struct nctx *c, json_t *list, const char *ns, bool router)
{
    if (netns_has(list, ns))
        return 0;
    if (ip_cmd(c, NULL, "netns", "add", ns, NULL) < 0)
        return -1;
    json_array_append_new(list, json_string(ns));
    ip_cmd(c, ns, "link", "set", "lo", "up", NULL);
    if (router) {
        sysctl_set(c, ns, "net.ipv4.ip_forward", "1");
        sysctl_set(c, ns, "net.ipv6.conf.all.forwarding", "1");
    }
    return c->rc;
}

int
link_tune(struct nctx *c, const char *ns, json_t *l, const char *dev, int mtu, const char *mac,
          const char *master)
{
    int rc = 0;
    if (mtu && json_integer_value(json_object_get(l, "mtu")) != mtu) {
        char m[16];
        snprintf(m, sizeof(m), "%d", mtu);
        rc |= ip_cmd(c, ns, "link", "set", dev, "mtu", m, NULL);
    }
    const char *have = json_string_value(json_object_get(l, "address"));
    if (mac && (!have || strcasecmp(have, mac)))
        rc |= ip_cmd(c, ns, "link", "set", dev, "address", mac, NULL);
    const char *m = json_string_value(json_object_get(l, "master"));
    if (master && (!m || strcmp(m, master)))
        rc |= ip_cmd(c, ns, "link", "set", dev, "master", master, NULL);
    bool up = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(l, "flags"), i, f)
        if (!strcmp(json_string_value(f), "UP"))
            up = true;
    if (!up)
        rc |= ip_cmd(c, ns, "link", "set", dev, "up", NULL);
    return rc ? -1 : 0;
}

/* Whether "addr/prefix" is among ips or is extra. */
static bool
addr_wanted(const char *addr, int prefix, const struct np_ip *ips, int nips,
            const char *const *extra, int nextra)
{
    for (int i = 0; i < nips; i++)
        if (ips[i].prefix == prefix && !strcmp(ips[i].addr, addr))
            return true;
    for (int i = 0; i < nextra; i++)
        if (prefix == 32 && !strcmp(extra[i], addr))
            return true;
    return false;
}

int
addrs_sync(struct nctx *c, const char *ns, const char *dev, const struct np_ip *ips, int nips,
           const char *const *extra, int nextra)
{
    const char *args[] = {"addr", "show", "dev", dev, NULL};
    json_t *j = ip_json(c, ns, args);
    json_t *have = json_object_get(json_array_get(j, 0), "addr_info");
    char cidr[80];
    size_t i;
    json_t *a;
    /* removals first: an address moving between prefixes is re-added */
    json_array_foreach(have, i, a) {
        const char *local = json_string_value(json_object_get(a, "local"));
        int pl = (int)json_integer_value(json_object_get(a, "prefixlen"));
        const char *scope = json_string_value(json_object_get(a, "scope"));
        if (!local || (scope && !strcmp(scope, "link")) ||
            addr_wanted(local, pl, ips, nips, extra, nextra))
            continue;
        snprintf(cidr, sizeof(cidr), "%s/%d", local, pl);
        ip_cmd(c, ns, "addr", "del", cidr, "dev", dev, NULL);
        /* a floating IP leaving its router takes its connections along,
         * as in Neutron: established flows must not outlive it */
        if (ns && pl == 32 && !strncmp(dev, "qg-", 3)) {
            const char *argv[] = {"ip", "netns", "exec", ns, "conntrack", "-D", "-d", local,
                                  NULL};
            char why[256];
            run_cmd(argv, why, sizeof(why));    /* exit 1: there was none */
            argv[6] = "-q";     /* its SNAT flows: their replies go to it */
            run_cmd(argv, why, sizeof(why));
        }
    }
    for (int k = 0; k < nips + nextra; k++) {
        const char *addr = k < nips ? ips[k].addr : extra[k - nips];
        int pl = k < nips ? ips[k].prefix : 32;
        if (!addr)
            continue;
        bool present = false;
        json_array_foreach(have, i, a) {
            const char *local = json_string_value(json_object_get(a, "local"));
            if (local && !strcmp(local, addr) &&
                json_integer_value(json_object_get(a, "prefixlen")) == pl)
                present = true;
        }
        if (present)
            continue;
        snprintf(cidr, sizeof(cidr), "%s/%d", addr, pl);
        /* nodad: the address is the port's own, IPAM made it unique */
        if (strchr(addr, ':'))
            ip_cmd(c, ns, "addr", "add", cidr, "dev", dev, "nodad", NULL);
        else
            ip_cmd(c, ns, "addr", "add", cidr, "dev", dev, NULL);
    }
    json_decref(j);
    return c->rc;
}

int
veth_ensure(struct nctx *c, json_t *links, const char *outer, const char *br, const char *ns,
            const char *inner, const struct np_port *p, int mtu, const char *const *extra,
            int nextra)
{
    json_t *l = link_find(links, outer);
    if (!l) {
        /* both ends in one call: a crash never leaves half a pair */
        if (ip_cmd(c, NULL, "link", "add", outer, "type", "veth", "peer", "name", inner, "netns",
                   ns, NULL) < 0)
            return -1;
        char key[96];
        snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", outer);
        sysctl_set(c, NULL, key, "1");
        json_t *fresh = ip_links(c, NULL);
        link_tune(c, NULL, link_find(fresh, outer), outer, mtu, NULL, br);
        json_decref(fresh);
    } else {
        link_tune(c, NULL, l, outer, mtu, NULL, br);
    }
    json_t *in = ip_links(c, ns);
    json_t *il = link_find(in, inner);
    if (!il) {
        /* the peer went missing (the namespace was deleted under us):
         * remove the orphan end, the next run makes the pair again */
        ip_cmd(c, NULL, "link", "del", outer, NULL);
        json_decref(in);
        return nfail(c, "veth %s had no peer %s in %s", outer, inner, ns);
    }
    /* no IPv6 on a port without an IPv6 address; never autoconfigure
     * from a tenant's router advertisements */
    bool has6 = false;
    for (int i = 0; i < p->nips; i++)
        has6 |= p->ips[i].version == 6;
    char key[96];
    snprintf(key, sizeof(key), "net.ipv6.conf.%s.%s", inner, has6 ? "accept_ra" : "disable_ipv6");
    sysctl_set(c, ns, key, has6 ? "0" : "1");
    link_tune(c, ns, il, inner, mtu, p->mac, NULL);
    addrs_sync(c, ns, inner, p->ips, p->nips, extra, nextra);
    json_decref(in);
    return c->rc;
}

int
nft_load(struct nctx *c, const char *ns, const char *text)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/nft-%s.rules", c->run_dir, ns ? ns : "host");
    int rc = file_write_atomic(path, text, strlen(text), 0600);
    if (rc < 0)
        return nfail(c, "cannot write %s: %s", path, strerror(-rc));
    char why[512];
    const char *here[] = {"nft", "-f", path, NULL};
    const char *there[] = {"ip", "netns", "exec", ns ? ns : "", "nft", "-f", path, NULL};
    if (run_cmd(ns ? there : here, why, sizeof(why)) < 0)
        return nfail(c, "nft in %s: %s", ns ? ns : "the host", why);
    return 0;
}
