/* agent.c - the host agent's watch loop and workers (see agent.h).
 *
 * The loop wakes on every change (hostapi_wait) and every two seconds,
 * fetches the servers placed on this host and hands each that needs work
 * to a worker: its task (spawning, powering-off, deleting ...) or, on the
 * timer, a power-state sync. A server is worked on by one worker at a
 * time; its task stays in the database until the worker reports it done,
 * so a crash anywhere means the task is simply done again on restart, and
 * every driver call is idempotent. The work of each task is in work.c. */
#include "agent.h"
#include "agent_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Guest work is mostly waiting on child processes (qemu-img, genisoimage,
 * QEMU's start, a guest's shutdown), so many workers run side by side:
 * ten servers booted at once all start together. */
#define WORKERS 16
#define SYNC_MS 2000                /* power-state sync period */
#define HEARTBEAT_US 10000000       /* os-services updated_at */

struct agent ag;
volatile bool virt_stopping;

/* One job: a server (deep-copied into its own arena). */
struct job {
    struct job *next;
    struct arena *a;
    struct cmp_server s;
    bool sync;                      /* a power sync, not a task */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    char busy[64][37];              /* servers being worked on */
    int nbusy;
    pthread_t loop, workers[WORKERS];
    bool stop, started;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static bool
is_busy(const char *id)
{
    for (int i = 0; i < q.nbusy; i++)
        if (!strcmp(q.busy[i], id))
            return true;
    return false;
}

/* Queues s unless it is being worked on (or the queue is full of busy
 * servers); called with q.mu held. */
static void
enqueue(const struct cmp_server *s, bool sync)
{
    if (is_busy(s->id) || q.nbusy >= (int)(sizeof(q.busy) / sizeof(q.busy[0])))
        return;
    struct job *j = xcalloc(1, sizeof(*j));
    j->a = arena_new();
    j->s = *s;
    /* the strings live in the loop's arena: copy the ones work uses */
    const char **f[] = {&j->s.id, &j->s.project_id, &j->s.user_id, &j->s.name,
                        &j->s.hostname, &j->s.image_id, &j->s.flavor_id, &j->s.flavor_name,
                        &j->s.flavor_specs, &j->s.new_flavor, &j->s.key_name, &j->s.key_data,
                        &j->s.user_data, &j->s.az, &j->s.host, &j->s.vm_state,
                        &j->s.task_state, &j->s.task_arg, &j->s.description};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        *f[i] = arena_strdup(j->a, *f[i]);
    j->sync = sync;
    snprintf(q.busy[q.nbusy++], 37, "%s", s->id);
    if (q.tail)
        q.tail->next = j;
    else
        q.head = j;
    q.tail = j;
    pthread_cond_signal(&q.cv);
}

static void
done(const char *id)
{
    pthread_mutex_lock(&q.mu);
    for (int i = 0; i < q.nbusy; i++)
        if (!strcmp(q.busy[i], id)) {
            memmove(q.busy[i], q.busy[q.nbusy - 1], 37);
            q.nbusy--;
            break;
        }
    pthread_mutex_unlock(&q.mu);
    /* the loop may hold more work for this server */
    hostapi_kick();
}

static void *
worker(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&q.mu);
        while (!q.head && !q.stop)
            pthread_cond_wait(&q.cv, &q.mu);
        struct job *j = q.head;
        if (q.stop) {   /* queued work stays in the database for the next start */
            pthread_mutex_unlock(&q.mu);
            return NULL;
        }
        q.head = j->next;
        if (!q.head)
            q.tail = NULL;
        pthread_mutex_unlock(&q.mu);
        if (j->sync)
            agent_sync(&j->s, j->a);
        else
            agent_work(&j->s, j->a);
        done(j->s.id);
        arena_free(j->a);
        free(j);
    }
}

/* true when the server's task is the agent's to do */
static bool
agent_task(const char *t)
{
    static const char *const mine[] = {
        "spawning", "powering-off", "powering-on", "rebooting", "rebooting_hard", "pausing",
        "unpausing", "suspending", "resuming", "deleting", "image_snapshot", "resize_prep",
        "resize_reverting", "rebuilding", "shelving", "shelving_offloading", "unshelving"};
    for (size_t i = 0; t && i < sizeof(mine) / sizeof(mine[0]); i++)
        if (!strcmp(mine[i], t))
            return true;
    return false;
}

/* Removes the instance directories no server on this host owns any more
 * (a delete that finished while its files were being removed, or files
 * of servers the database no longer has): their guests are killed. */
static void
clean_orphans(const struct cmp_server *s, int n)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/instances", ag.data_dir);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strlen(e->d_name) != 36)
            continue;   /* "_base", dot files */
        bool owned = false;
        for (int i = 0; i < n && !owned; i++)
            owned = !strcmp(s[i].id, e->d_name);
        if (owned)
            continue;
        struct drv_guest g = {.uuid = e->d_name};
        char dir[4500];
        snprintf(dir, sizeof(dir), "%s/%s", path, e->d_name);
        g.dir = dir;
        log_warn(NULL, "agent: removing orphan instance %s", e->d_name);
        ag.drv->destroy(&g);
    }
    if (d)
        closedir(d);
}

static void *
loop(void *arg)
{
    uint64_t seen = 0;
    int64_t last_sync = 0, last_beat = 0;
    bool first = true;
    while (!q.stop) {
        struct arena *a = arena_new();
        struct cmp_server *s;
        int n = 0;
        if (hostapi_servers(a, ag.host, &s, &n) == 0) {
            if (first)
                clean_orphans(s, n);
            first = false;
            bool sync = mono_us() - last_sync >= SYNC_MS * 1000;
            if (sync)
                last_sync = mono_us();
            pthread_mutex_lock(&q.mu);
            for (int i = 0; i < n; i++) {
                if (agent_task(s[i].task_state))
                    enqueue(&s[i], false);
                else if (sync && !s[i].task_state && !s[i].deleted)
                    enqueue(&s[i], true);
            }
            pthread_mutex_unlock(&q.mu);
        }
        arena_free(a);
        if (mono_us() - last_beat >= HEARTBEAT_US) {
            hostapi_heartbeat(ag.host);
            last_beat = mono_us();
        }
        hostapi_wait(&seen, SYNC_MS);
    }
    return NULL;
}

/* The host's capacity: CPUs, RAM (MiB) and the instances file system. */
static void
capacity(struct hostapi_host *h, const char *dir)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
    struct statvfs st;
    h->vcpus = sysconf(_SC_NPROCESSORS_ONLN);
    h->memory_mb = (int64_t)pages * psz / (1024 * 1024);
    h->disk_gb = statvfs(dir, &st) == 0 ? (int64_t)(st.f_blocks * st.f_frsize >> 30) : 0;
}

static int
console(const char *id, int lines, char **out, size_t *len)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/instances/%s", ag.data_dir, id);
    struct drv_guest g = {.uuid = id, .dir = dir};
    if (access(dir, F_OK) < 0)
        return -ENOENT;
    return ag.drv->console(&g, lines, out, len);
}

static int
vnc(const char *id, char *out, size_t outlen)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/instances/%s", ag.data_dir, id);
    struct drv_guest g = {.uuid = id, .dir = dir};
    return ag.drv->vnc_socket(&g, out, outlen);
}

int
agent_start(const char *data_dir)
{
    char hn[256] = "localhost";
    gethostname(hn, sizeof(hn) - 1);
    snprintf(ag.data_dir, sizeof(ag.data_dir), "%s", data_dir);
    snprintf(ag.host, sizeof(ag.host), "%s", cfg_get("DEFAULT", "host", hn));
    const char *drv = cfg_get("compute", "virt_driver", "qemu");
    ag.drv = !strcmp(drv, "fake") ? &virt_fake : !strcmp(drv, "qemu") ? &virt_qemu : NULL;
    if (!ag.drv) {
        log_error(NULL, "agent: unknown [compute] virt_driver '%s' (qemu or fake)", drv);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/instances/_base", data_dir);
    if (mkdir_p(path, 0700) < 0 || ag.drv->init(cfg_get("compute", "virt_type", "auto")) < 0) {
        log_error(NULL, "agent: the %s driver cannot start", ag.drv->name);
        return -1;
    }
    /* os-hypervisors shows what guests really run on: "KVM", or "QEMU"
     * when the accelerator fell back to TCG */
    struct utsname un;
    struct hostapi_host h = {.name = ag.host,
                             .hypervisor_type = ag.drv->kvm() ? "KVM" : ag.drv->hypervisor_type,
                             .cpu_arch = uname(&un) == 0 ? un.machine : ""};
    capacity(&h, path);
    if (hostapi_register(&h) < 0)
        return -1;
    hostapi_set_console(console);
    hostapi_set_vnc(vnc);
    log_info(NULL, "agent: host %s, driver %s (%s), %lld vCPUs, %lld MiB, %lld GiB",
             ag.host, ag.drv->name, ag.drv->kvm() ? "KVM" : "TCG", (long long)h.vcpus,
             (long long)h.memory_mb, (long long)h.disk_gb);
    /* the host's networking: on for real guests; the fake driver's API
     * tests run many daemons on one host, which must not fight over it */
    if (cfg_bool("network", "host_networking", ag.drv != &virt_fake) && agent_net_start() < 0)
        return -1;
    q.stop = false;
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&q.workers[i], NULL, worker, NULL);
    pthread_create(&q.loop, NULL, loop, NULL);
    q.started = true;
    return 0;
}

void
agent_stop(void)
{
    if (!q.started)
        return;
    pthread_mutex_lock(&q.mu);
    q.stop = true;
    virt_stopping = true;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
    hostapi_kick();
    pthread_join(q.loop, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(q.workers[i], NULL);
    while (q.head) {
        struct job *j = q.head;
        q.head = j->next;
        arena_free(j->a);
        free(j);
    }
    q.tail = NULL;
    q.nbusy = 0;
    q.started = false;
    agent_net_stop();
    virt_stopping = false;
    hostapi_set_console(NULL);
    hostapi_set_vnc(NULL);
}
