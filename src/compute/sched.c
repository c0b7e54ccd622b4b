/* sched.c - the scheduler: places every server waiting in task
 * "scheduling" on a host. It asks Placement for the compute nodes that can
 * hold the flavor, drops disabled hosts, those a failed build already
 * tried, those its server group's policy rules out and those that cannot
 * run what the image's properties ask (architecture, hypervisor type, VM
 * mode: Nova's ImagePropertiesFilter), weighs by the soft
 * group policies and then free RAM (spread, Nova's RAMWeigher), claims the
 * allocation atomically in Placement and hands the server to that host's
 * agent (task "spawning"). A claim that loses a race tries the next host;
 * with none left the server goes to ERROR with Nova's NoValidHost fault.
 *
 * One thread, woken by every change (hostapi_wait) and every few seconds,
 * so a crash at any point converges: a server claimed but not handed over
 * is simply claimed again (a claim replaces the consumer's allocations). */
#include "hostapi.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"
#include "placement/placement.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_VALID_HOST "No valid host was found. There are not enough hosts available."

static struct {
    pthread_t thread;
    bool running;
    volatile bool stop;
} sched;

/* true when host is in the comma list l */
static bool
tried(const char *l, const char *host)
{
    size_t n = strlen(host);
    for (const char *p = l; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, host, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

struct cand {
    const char *rp, *host;
    int64_t free_ram;
    int group_weight;           /* soft policies: members there (+) or (-) */
};

/* Best first: the soft group policy, then free RAM (spread). */
static int
by_weight(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    if (a->group_weight != b->group_weight)
        return a->group_weight < b->group_weight ? 1 : -1;
    return a->free_ram < b->free_ram ? 1 : a->free_ram > b->free_ram ? -1 : 0;
}

/* The server group policy a server is placed under (Nova's
 * ServerGroupAffinityFilter / AntiAffinityFilter and the soft weighers). */
struct group_rule {
    bool any, affinity, soft;
    int64_t max_per_host;       /* anti-affinity: members a host may hold */
    struct db_res *hosts;       /* hosts of the other live members */
    int members;
};

static int
group_rule(struct db *db, struct arena *a, const struct cmp_server *s, struct group_rule *g)
{
    struct db_res *r;
    *g = (struct group_rule){.max_per_host = 1};
    if (!s->group_id)
        return 0;
    int rc = db_exec(db, a, &r, "SELECT policy, rules FROM cmp_server_group WHERE id = ?",
                     "s", s->group_id);
    if (rc || !r->nrows)
        return rc;      /* the group went away: no rule left */
    const char *p = db_val(r, 0, 0);
    g->any = true;
    g->affinity = !strcmp(p, "affinity") || !strcmp(p, "soft-affinity");
    g->soft = !strncmp(p, "soft-", 5);
    json_t *rules = json_loads(db_val(r, 0, 1), 0, NULL);
    json_t *m = json_object_get(rules, "max_server_per_host");
    if (json_is_integer(m))
        g->max_per_host = json_integer_value(m);
    json_decref(rules);
    rc = db_exec(db, a, &g->hosts, "SELECT host FROM cmp_server WHERE group_id = ? AND "
                 "deleted = 0 AND host IS NOT NULL AND id <> ?", "ss", s->group_id, s->id);
    if (rc == 0)
        g->members = g->hosts->nrows;
    return rc;
}

/* How many of the group's other members run on host. */
static int
members_on(const struct group_rule *g, const char *host)
{
    int n = 0;
    for (int i = 0; g->any && i < g->members; i++)
        n += !strcmp(db_val(g->hosts, i, 0), host);
    return n;
}

/* What the server's image asks of the hypervisor (Nova's
 * ImagePropertiesFilter): architecture, hypervisor type and VM mode,
 * each NULL when the image does not say. */
struct img_wants {
    const char *arch, *hv_type, *vm_mode;
};

/* Nova's canonical architecture names for the aliases images use. */
static const char *
canon_arch(const char *a)
{
    if (!strcasecmp(a, "amd64") || !strcasecmp(a, "x64") || !strcasecmp(a, "x86_64"))
        return "x86_64";
    if (!strcasecmp(a, "i386") || !strcasecmp(a, "i486") || !strcasecmp(a, "i586") ||
        !strcasecmp(a, "i686") || !strcasecmp(a, "x86") || !strcasecmp(a, "ia32"))
        return "i686";
    if (!strcasecmp(a, "arm64"))
        return "aarch64";
    return a;
}

static void
image_wants(struct db *db, struct arena *a, const struct cmp_server *s, struct img_wants *w)
{
    struct img_brief im;
    *w = (struct img_wants){0};
    if (!s->image_id || !*s->image_id || img_lookup(db, a, s->image_id, NULL, true, &im))
        return;     /* the image went away since the boot: nothing asked */
    json_t *p = json_loads(im.props ? im.props : "{}", 0, NULL);
    const char *keys[3][2] = {{"hw_architecture", "architecture"},
                              {"img_hv_type", "hypervisor_type"},
                              {"hw_vm_mode", "vm_mode"}};
    const char **out[3] = {&w->arch, &w->hv_type, &w->vm_mode};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2 && !*out[i]; k++) {
            const char *v = json_string_value(json_object_get(p, keys[i][k]));
            if (v && *v)
                *out[i] = arena_strdup(a, v);
        }
    json_decref(p);
}

/* Whether a host of arch running guests with hv ("KVM", or "QEMU" for
 * TCG) can run what w asks: QEMU's x86_64 emulator also runs i686
 * guests, a KVM host also runs plain QEMU ones, and only full
 * virtualisation ("hvm") exists here. */
static bool
host_fits(const struct img_wants *w, const char *arch, const char *hv)
{
    if (w->arch && *arch) {
        const char *want = canon_arch(w->arch), *have = canon_arch(arch);
        if (strcmp(want, have) && !(!strcmp(have, "x86_64") && !strcmp(want, "i686")))
            return false;
    }
    if (w->hv_type && strcasecmp(w->hv_type, "qemu") &&
        !(!strcasecmp(w->hv_type, "kvm") && !strcasecmp(hv, "KVM")))
        return false;
    return !w->vm_mode || !strcasecmp(w->vm_mode, "hvm");
}

/* The hosts that can take s, best first, into *out (arena). */
static int
candidates(struct db *db, struct arena *a, const struct cmp_server *s, struct cand **out,
           int *n)
{
    struct plc_resource res[3];
    int nres = hostapi_flavor_resources(s, res);
    const char **rps = NULL;
    int nrps = 0, rc;
    *n = 0;
    if (nres == 0) /* a flavor of nothing fits on every host */
        rc = db_exec(db, a, NULL, "SELECT 1", "");
    else
        rc = plc_candidates(db, a, res, nres, 0, &rps, &nrps);
    if (rc)
        return rc;
    struct db_res *r;
    rc = db_exec(db, a, &r, "SELECT h.rp_uuid, h.name, h.memory_mb - COALESCE((SELECT "
                 "SUM(ram) FROM cmp_server s WHERE s.host = h.name AND s.deleted = 0), 0), "
                 "h.cpu_arch, h.hypervisor_type FROM cmp_host h WHERE h.disabled = 0 AND "
                 "h.forced_down = 0", "");
    if (rc)
        return rc;
    struct img_wants w;
    image_wants(db, a, s, &w);
    struct group_rule gr;
    if ((rc = group_rule(db, a, s, &gr)))
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        bool fits = nres == 0;
        for (int j = 0; j < nrps && !fits; j++)
            fits = !strcmp(rps[j], db_val(r, i, 0));
        if (!fits || tried(s->task_arg, db_val(r, i, 1)) ||
            !host_fits(&w, db_val(r, i, 3), db_val(r, i, 4)))
            continue;
        int on = members_on(&gr, db_val(r, i, 1));
        if ((gr.affinity && !gr.soft && gr.members && !on) ||
            (!gr.affinity && !gr.soft && on >= gr.max_per_host))
            continue;   /* the hard policies filter */
        (*out)[(*n)++] = (struct cand){db_val(r, i, 0), db_val(r, i, 1), db_int(r, i, 2),
                                       gr.soft ? (gr.affinity ? on : -on) : 0};
    }
    qsort(*out, (size_t)*n, sizeof(**out), by_weight);
    return 0;
}

static void
no_valid_host(struct db *db, struct arena *a, const struct cmp_server *s)
{
    if (!strcmp(s->task_state, "unshelving")) {
        /* Nova leaves it shelved offloaded, its image kept, with the fault */
        struct srv_change c = {.power_state = -1, .set_task = true, .task_arg = s->task_arg,
                               .set_fault = true, .fault_code = 500,
                               .fault_message = NO_VALID_HOST, .attempts = -1};
        if (srv_db_change(db, s->id, s->task_state, 0, &c) == 0)
            srv_db_event(db, s->id, "unshelve", "schedule_instances", NULL, "Error",
                         NO_VALID_HOST);
        return;
    }
    /* after failed builds Nova says the retries ran out, not "no host" */
    const char *msg = s->attempts
        ? arena_printf(a, "Exceeded maximum number of retries. Exhausted all hosts available "
                          "for retrying build failures for instance %s.", s->id)
        : NO_VALID_HOST;
    struct srv_change c = {.vm_state = "error", .power_state = 0, .set_task = true,
                           .set_fault = true, .fault_code = 500,
                           .fault_message = msg, .attempts = -1};
    if (srv_db_change(db, s->id, "scheduling", 0, &c) == 0) {
        srv_db_event(db, s->id, "create", "conductor_schedule_and_build_instances", NULL,
                     "Error", msg);
        log_warn(NULL, "scheduler: %s: %s", s->id, msg);
    }
}

/* Places one server; returns true when it changed anything. */
static bool
place(struct db *db, struct arena *a, const struct cmp_server *s)
{
    struct cand *c;
    int n;
    if (candidates(db, a, s, &c, &n)) {
        log_warn(NULL, "scheduler: cannot list hosts: %s", db_errmsg(db));
        return false;
    }
    struct plc_resource res[3];
    int nres = hostapi_flavor_resources(s, res);
    for (int i = 0; i < n; i++) {
        int rc = nres ? plc_claim(db, s->id, s->project_id, s->user_id, c[i].rp, res, nres)
                      : 0;
        if (rc == -ENOSPC)
            continue;   /* taken meanwhile: the next host */
        if (rc) {
            log_warn(NULL, "scheduler: claim for %s failed: %s", s->id, db_errmsg(db));
            return false;
        }
        /* a build goes on as "spawning"; an unshelve stays "unshelving",
         * its image still in task_arg */
        bool unshelve = !strcmp(s->task_state, "unshelving");
        struct srv_change ch = {.power_state = -1, .set_task = true,
                                .task_state = unshelve ? "unshelving" : "spawning",
                                .task_arg = unshelve ? s->task_arg : NULL,
                                .set_host = true, .host = c[i].host, .attempts = -1};
        rc = srv_db_change(db, s->id, s->task_state, 0, &ch);
        if (rc) {
            /* deleted (or otherwise moved on) while we claimed */
            plc_release(db, s->id);
            return rc == -ESTALE || rc == -ENOENT;
        }
        if (unshelve)
            srv_db_event(db, s->id, "unshelve", "schedule_instances", c[i].host, "Success",
                         NULL);
        else
            srv_db_event(db, s->id, "create", "conductor_schedule_and_build_instances",
                         c[i].host, "Success", NULL);
        return true;
    }
    no_valid_host(db, a, s);
    return true;
}

static void *
sched_main(void *arg)
{
    uint64_t seen = 0;
    while (!sched.stop) {
        struct db *db = db_get();
        struct arena *a = arena_new();
        struct cmp_server *s;
        int n = 0;
        bool changed = false;
        if (db && srv_db_unscheduled(db, a, &s, &n) == 0)
            for (int i = 0; i < n && !sched.stop; i++)
                changed |= place(db, a, &s[i]);
        db_put(db);
        arena_free(a);
        if (changed)
            hostapi_kick();
        hostapi_wait(&seen, 3000);
    }
    return NULL;
}

int
sched_start(void)
{
    sched.stop = false;
    if (pthread_create(&sched.thread, NULL, sched_main, NULL))
        return -1;
    sched.running = true;
    return 0;
}

void
sched_stop(void)
{
    if (!sched.running)
        return;
    sched.stop = true;
    hostapi_kick();
    pthread_join(sched.thread, NULL);
    sched.running = false;
}
