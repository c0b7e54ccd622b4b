/* agent_net.c - the agent's side of networking: it fetches this host's
 * network plan from the control plane (hostapi_net_plan), applies it
 * (net_apply) when it changed and every 30 s to repair drift, tells the
 * guest code which NICs a server has, and serves the metadata service.
 *
 * The metadata service is Neutron's "isolated metadata" layout: each
 * network's DHCP namespace holds 169.254.169.254 and DHCP option 121
 * routes guests to it. The listening socket is made inside that
 * namespace (a socket keeps the namespace it was made in) and served by
 * one thread here, which knows the guest by the network and the source
 * address, so no proxy process and no shared secret is needed: the
 * address is the port's own, anti-spoofing guarantees it. */
#include "agent_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_SYNC_MS 2000
#define NET_REPAIR_US (30 * 1000000LL)
#define MD_MAX 64               /* networks served at once */
#define MD_REQ_MAX 8192

static struct {
    pthread_mutex_t mu;         /* the plan and its application */
    pthread_t thread, md_thread;
    bool running, stop;
    json_t *doc;                /* the last plan applied */
    char *text;                 /* its compact text, to see a change */
    struct arena *a;            /* the parsed plan's arrays */
    struct np_plan plan;
    int64_t applied_us;
    /* metadata listeners, one per network with metadata */
    pthread_mutex_t md_mu;
    int md_fd[MD_MAX];
    char md_net[MD_MAX][40];
    int nmd;
    int wake[2];                /* tells the metadata thread the set changed */
} N = {.mu = PTHREAD_MUTEX_INITIALIZER, .md_mu = PTHREAD_MUTEX_INITIALIZER,
       .wake = {-1, -1}};

/* ---- metadata listeners ---- */

struct ns_sock {
    const char *ns;
    int fd, err;
};

/* Runs on its own short thread: setns() changes the calling thread's
 * namespace, and that thread is then thrown away. */
static void *
ns_listen(void *arg)
{
    struct ns_sock *r = arg;
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", r->ns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
        r->err = errno;
        if (nsfd >= 0)
            close(nsfd);
        return NULL;
    }
    close(nsfd);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, "169.254.169.254", &sa.sin_addr);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
        r->err = errno;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    r->fd = fd;
    return NULL;
}

/* Makes the listeners match the plan's networks with metadata. */
static void
md_sync(const struct np_plan *p)
{
    pthread_mutex_lock(&N.md_mu);
    /* close those no longer wanted */
    for (int i = 0; i < N.nmd;) {
        bool want = false;
        for (int k = 0; k < p->nnets; k++)
            want |= p->nets[k].metadata && p->nets[k].dhcp && !strcmp(p->nets[k].id, N.md_net[i]);
        if (want) {
            i++;
            continue;
        }
        close(N.md_fd[i]);
        N.nmd--;
        N.md_fd[i] = N.md_fd[N.nmd];
        memcpy(N.md_net[i], N.md_net[N.nmd], sizeof(N.md_net[i]));
    }
    for (int k = 0; k < p->nnets && N.nmd < MD_MAX; k++) {
        const struct np_network *n = &p->nets[k];
        bool have = false;
        for (int i = 0; i < N.nmd; i++)
            have |= !strcmp(n->id, N.md_net[i]);
        if (have || !n->metadata || !n->dhcp)
            continue;
        char ns[64];
        snprintf(ns, sizeof(ns), "qdhcp-%s", n->id);
        struct ns_sock r = {.ns = ns, .fd = -1};
        pthread_t t;
        if (pthread_create(&t, NULL, ns_listen, &r) == 0)
            pthread_join(t, NULL);
        if (r.fd < 0) {
            log_warn(NULL, "agent: no metadata service on network %s: %s", n->id,
                     strerror(r.err));
            continue;
        }
        N.md_fd[N.nmd] = r.fd;
        snprintf(N.md_net[N.nmd], sizeof(N.md_net[0]), "%s", n->id);
        N.nmd++;
    }
    pthread_mutex_unlock(&N.md_mu);
    /* a full pipe is fine: the thread wakes anyway */
    if (N.wake[1] >= 0 && write(N.wake[1], "x", 1) < 0 && errno != EAGAIN)
        log_warn(NULL, "agent: cannot wake the metadata thread: %s", strerror(errno));
}

static void
reply(int fd, int code, const char *status, const char *type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", code, status, type, len);
    if (write(fd, head, (size_t)n) == n && len)
        while (len) {
            ssize_t w = write(fd, body, len);
            if (w <= 0)
                break;
            body += w;
            len -= (size_t)w;
        }
}

/* The guest at src on network net: its server (into a), or NULL. */
static struct cmp_server *
md_server(const char *net, const char *src, struct arena *a, struct np_port **ports, int *nports)
{
    const char *device = NULL;
    pthread_mutex_lock(&N.mu);
    for (int i = 0; i < N.plan.nports && !device; i++) {
        const struct np_port *p = &N.plan.ports[i];
        if (!p->device_id || strcmp(p->network_id, net))
            continue;
        for (int k = 0; k < p->nips; k++)
            if (!strcmp(p->ips[k].addr, src))
                device = arena_strdup(a, p->device_id);
    }
    pthread_mutex_unlock(&N.mu);
    struct cmp_server *s;
    int n;
    if (!device || hostapi_servers(a, ag.host, &s, &n) < 0)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(s[i].id, device) || s[i].deleted)
            continue;
        char why[128];
        if (agent_net_ports(s[i].id, false, a, ports, nports, why, sizeof(why)) < 0)
            return NULL;
        return &s[i];
    }
    return NULL;
}

/* Answers one metadata request on fd (a guest on network net). Nova's
 * OpenStack tree: /openstack lists the versions; every dated version
 * and "latest" serve the same files. */
static void
md_serve(int fd, const char *net)
{
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char req[MD_REQ_MAX];
    size_t len = 0;
    while (len < sizeof(req) - 1) {
        ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);
        if (r <= 0)
            return;
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    char method[8], path[1024];
    if (sscanf(req, "%7s %1023s", method, path) != 2) {
        reply(fd, 400, "Bad Request", "text/plain", "", 0);
        return;
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        reply(fd, 405, "Method Not Allowed", "text/plain", "", 0);
        return;
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof(peer);
    char src[INET_ADDRSTRLEN] = "";
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) == 0)
        inet_ntop(AF_INET, &peer.sin_addr, src, sizeof(src));
    struct arena *a = arena_new();
    struct np_port *ports;
    int nports;
    struct cmp_server *s = md_server(net, src, a, &ports, &nports);
    char *q = strchr(path, '?');
    if (q)
        *q = '\0';
    if (!s) {
        reply(fd, 404, "Not Found", "text/plain", "", 0);
    } else if (!strcmp(path, "/") || !strcmp(path, "/openstack") ||
               !strcmp(path, "/openstack/")) {
        const char *v = !strcmp(path, "/") ? "openstack\n"
                        : "2012-08-10\n2013-04-04\n2013-10-17\n2015-10-15\n2016-06-30\n"
                          "2016-10-06\n2017-02-22\n2018-08-27\nlatest\n";
        reply(fd, 200, "OK", "text/plain", v, strlen(v));
    } else if (!strncmp(path, "/openstack/", 11) && strchr(path + 11, '/')) {
        const char *file = strchr(path + 11, '/') + 1;
        struct cd_file f[AGENT_MD_FILES];
        int n = agent_md_files(s, ports, nports, a, f);
        int hit = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(strrchr(f[i].path, '/') + 1, file))
                hit = i;
        if (hit < 0)
            reply(fd, 404, "Not Found", "text/plain", "", 0);
        else
            reply(fd, 200, "OK", strstr(file, ".json") ? "application/json" : "text/plain",
                  !strcmp(method, "HEAD") ? "" : f[hit].data,
                  !strcmp(method, "HEAD") ? 0 : f[hit].len);
    } else {
        reply(fd, 404, "Not Found", "text/plain", "", 0);
    }
    arena_free(a);
}

/* One thread serves every listener; requests are tiny and answered from
 * memory, a slow client costs at most the 2 s socket timeouts. */
static void *
md_loop(void *arg)
{
    (void)arg;
    while (!N.stop) {
        struct pollfd pf[MD_MAX + 1];
        char nets[MD_MAX][40];
        pthread_mutex_lock(&N.md_mu);
        int n = N.nmd;
        for (int i = 0; i < n; i++) {
            pf[i] = (struct pollfd){.fd = N.md_fd[i], .events = POLLIN};
            memcpy(nets[i], N.md_net[i], sizeof(nets[i]));
        }
        pthread_mutex_unlock(&N.md_mu);
        pf[n] = (struct pollfd){.fd = N.wake[0], .events = POLLIN};
        if (poll(pf, (nfds_t)n + 1, 1000) <= 0)
            continue;
        if (pf[n].revents) {
            char buf[64];
            while (read(N.wake[0], buf, sizeof(buf)) > 0)
                ;
            continue;   /* the set changed: these fds may be closed */
        }
        for (int i = 0; i < n; i++) {
            if (!pf[i].revents)
                continue;
            int c = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            md_serve(c, nets[i]);
            close(c);
        }
    }
    return NULL;
}

/* ---- the plan ---- */

/* Fetches the plan and applies it when it changed (or force); N.mu held. */
static int
apply_locked(bool force, char *why, size_t whylen)
{
    json_t *doc = hostapi_net_plan(ag.host);
    if (!doc) {
        snprintf(why, whylen, "the network plan cannot be made now");
        return hostapi_has_network() ? -1 : 0;
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!force && N.text && text && !strcmp(text, N.text)) {
        free(text);
        json_decref(doc);
        return 0;
    }
    struct arena *a = arena_new();
    struct np_plan plan;
    int rc = np_parse(doc, a, &plan, why, whylen);
    if (rc == 0)
        rc = net_apply(&plan, NET_RUN_DIR, why, whylen);
    /* kept even after a failure of one piece: the rest is in place, and
     * the next run (forced after NET_REPAIR_US) tries again */
    if (rc == 0 || plan.nnets || plan.nports || plan.nrouters) {
        json_decref(N.doc);
        free(N.text);
        arena_free(N.a);
        N.doc = doc;
        N.text = rc == 0 ? text : NULL;
        N.a = a;
        N.plan = plan;
        N.applied_us = mono_us();
        md_sync(&N.plan);
        if (rc < 0)
            free(text);
        return rc;
    }
    free(text);
    arena_free(a);
    json_decref(doc);
    return rc;
}

static void *
loop(void *arg)
{
    (void)arg;
    uint64_t seen = 0;
    while (!N.stop) {
        char why[512];
        pthread_mutex_lock(&N.mu);
        bool force = mono_us() - N.applied_us >= NET_REPAIR_US;
        if (apply_locked(force, why, sizeof(why)) < 0)
            log_warn(NULL, "agent: network plan: %s", why);
        pthread_mutex_unlock(&N.mu);
        hostapi_wait(&seen, NET_SYNC_MS);
    }
    return NULL;
}

int
agent_net_ports(const char *server_id, bool sync, struct arena *a, struct np_port **out, int *n,
                char *why, size_t whylen)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&N.mu);
    int rc = sync && N.running ? apply_locked(false, why, whylen) : 0;
    int k = 0;
    for (int i = 0; rc == 0 && i < N.plan.nports; i++)
        k += N.plan.ports[i].device_id && !strcmp(N.plan.ports[i].device_id, server_id);
    if (rc == 0 && k) {
        *out = arena_alloc(a, sizeof(**out) * (size_t)k);
        for (int i = 0; i < N.plan.nports; i++) {
            const struct np_port *p = &N.plan.ports[i];
            if (!p->device_id || strcmp(p->device_id, server_id))
                continue;
            /* a deep copy: the plan may be replaced once the lock is gone */
            struct np_port *c = &(*out)[(*n)++];
            *c = (struct np_port){.id = arena_strdup(a, p->id),
                                  .network_id = arena_strdup(a, p->network_id),
                                  .mac = arena_strdup(a, p->mac),
                                  .device_id = arena_strdup(a, p->device_id),
                                  .nips = p->nips};
            c->ips = arena_alloc(a, sizeof(*c->ips) * (size_t)(p->nips + 1));
            for (int j = 0; j < p->nips; j++)
                c->ips[j] = (struct np_ip){arena_strdup(a, p->ips[j].addr), p->ips[j].prefix,
                                           p->ips[j].version};
        }
    }
    pthread_mutex_unlock(&N.mu);
    return rc;
}

bool
agent_net_applied(void)
{
    pthread_mutex_lock(&N.mu);
    bool ok = N.running && N.applied_us > 0;
    pthread_mutex_unlock(&N.mu);
    return ok;
}

int
agent_net_start(void)
{
    if (!hostapi_has_network())
        return 0;
    if (mkdir_p(NET_RUN_DIR, 0755) < 0 || pipe2(N.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error(NULL, "agent: cannot prepare %s", NET_RUN_DIR);
        return -1;
    }
    char why[512];
    pthread_mutex_lock(&N.mu);
    N.running = true;
    if (apply_locked(true, why, sizeof(why)) < 0)
        log_warn(NULL, "agent: network plan: %s", why);
    pthread_mutex_unlock(&N.mu);
    if (pthread_create(&N.thread, NULL, loop, NULL) ||
        pthread_create(&N.md_thread, NULL, md_loop, NULL)) {
        log_error(NULL, "agent: cannot start the network threads");
        return -1;
    }
    return 0;
}

void
agent_net_stop(void)
{
    if (!N.running)
        return;
    N.stop = true;
    hostapi_kick();
    pthread_join(N.thread, NULL);
    pthread_join(N.md_thread, NULL);
    for (int i = 0; i < N.nmd; i++)
        close(N.md_fd[i]);
    N.nmd = 0;
    close(N.wake[0]);
    close(N.wake[1]);
    json_decref(N.doc);
    free(N.text);
    arena_free(N.a);
    N.doc = NULL;
    N.text = NULL;
    N.a = NULL;
    N.running = false;
}
