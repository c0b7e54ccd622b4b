/* hostapi.c - the control plane's side of the host agents' API (see
 * hostapi.h): the watch, deletes, reports, build failures and host
 * registration, each on a connection of its own. */
#include "hostapi.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"
#include "placement/placement.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

/* The build attempts a server gets before it goes to ERROR (Nova's
 * [scheduler] max_attempts). */
#define MAX_ATTEMPTS 3

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen;
} watch = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

void
hostapi_kick(void)
{
    pthread_mutex_lock(&watch.mu);
    watch.gen++;
    pthread_cond_broadcast(&watch.cv);
    pthread_mutex_unlock(&watch.mu);
}

bool
hostapi_wait(uint64_t *seen, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&watch.mu);
    while (watch.gen == *seen &&
           pthread_cond_timedwait(&watch.cv, &watch.mu, &ts) == 0)
        ;
    bool kicked = watch.gen != *seen;
    *seen = watch.gen;
    pthread_mutex_unlock(&watch.mu);
    return kicked;
}

/* ---- deletes ---- */

int
hostapi_delete(struct db *db, const char *id)
{
    struct arena *a = arena_new();
    struct cmp_server s;
    int rc = srv_db_get(db, a, id, false, &s);
    /* a shelved server's image goes with it (first: a crash after it
     * leaves a server whose delete is simply asked again) */
    if (rc == 0 && s.task_arg && (!strncmp(s.vm_state, "shelved", 7) ||
                                  (s.task_state && !strcmp(s.task_state, "shelving"))))
        img_delete(s.task_arg);
    if (rc == 0 && !s.host) {
        /* nothing runs anywhere: gone at once, as Nova's local delete */
        struct srv_change c = {.power_state = 0, .set_task = true, .mark_deleted = true,
                               .terminated_us = now_us(), .attempts = -1};
        plc_release(db, id);
        rc = srv_db_change(db, id, SRV_ANY_TASK, 0, &c);
    } else if (rc == 0) {
        struct srv_change c = {.power_state = -1, .set_task = true, .task_state = "deleting",
                               .attempts = -1};
        rc = srv_db_change(db, id, SRV_ANY_TASK, 0, &c);
    }
    arena_free(a);
    if (rc == 0)
        hostapi_kick();
    return rc;
}

/* ---- hosts ---- */

int
hostapi_register(const struct hostapi_host *h)
{
    struct db *db = db_get();
    if (!db)
        return -1;
    struct arena *a = arena_new();
    struct db_res *r;
    char rp[37];
    int64_t t = now_us();
    int rc = db_exec(db, a, &r, "SELECT rp_uuid FROM cmp_host WHERE name = ?", "s", h->name);
    if (rc == DB_OK && r->nrows) {
        snprintf(rp, sizeof(rp), "%s", db_val(r, 0, 0));
        rc = db_exec(db, NULL, NULL, "UPDATE cmp_host SET hypervisor_type = ?, cpu_arch = ?, "
                     "vcpus = ?, memory_mb = ?, disk_gb = ?, updated_at = ? WHERE name = ?",
                     "ssiiiis", h->hypervisor_type, h->cpu_arch ? h->cpu_arch : "", h->vcpus,
                     h->memory_mb, h->disk_gb, t, h->name);
    } else if (rc == DB_OK) {
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, rp);
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_host (name, id, rp_uuid, "
                     "hypervisor_type, cpu_arch, vcpus, memory_mb, disk_gb, disabled, "
                     "forced_down, created_at, updated_at) VALUES (?, (SELECT "
                     "COALESCE(MAX(id), 0) + 1 FROM cmp_host), ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
                     "ssssiiiii", h->name, rp, h->hypervisor_type,
                     h->cpu_arch ? h->cpu_arch : "", h->vcpus, h->memory_mb, h->disk_gb, t, t);
    }
    struct plc_node n = {.uuid = rp, .name = h->name, .vcpus = h->vcpus,
                         .memory_mb = h->memory_mb, .memory_mb_reserved = 512,
                         .disk_gb = h->disk_gb, .cpu_ratio = 16.0, .ram_ratio = 1.5,
                         .disk_ratio = 1.0};
    if (n.memory_mb <= n.memory_mb_reserved)
        n.memory_mb_reserved = 0;
    if (rc == DB_OK)
        rc = plc_ensure_compute_node(db, &n);
    if (rc)
        log_error(NULL, "compute: cannot register host %s: %s", h->name,
                  rc == -EBUSY ? "allocations exceed the new inventory" : db_errmsg(db));
    db_put(db);
    arena_free(a);
    hostapi_kick();
    return rc ? -1 : 0;
}

void
hostapi_heartbeat(const char *host)
{
    struct db *db = db_get();
    if (db)
        db_exec(db, NULL, NULL, "UPDATE cmp_host SET updated_at = ? WHERE name = ?", "is",
                now_us(), host);
    db_put(db);
}

/* ---- the agent's work ---- */

int
hostapi_servers(struct arena *a, const char *host, struct cmp_server **out, int *n)
{
    struct db *db = db_get();
    int rc = db ? srv_db_on_host(db, a, host, out, n) : DB_ERR;
    db_put(db);
    return rc ? -1 : 0;
}

json_t *
hostapi_meta(const char *id)
{
    struct db *db = db_get();
    struct arena *a = arena_new();
    struct db_res *r;
    json_t *m = NULL;
    if (db && srv_db_meta(db, a, id, &r) == DB_OK) {
        m = json_object();
        for (int i = 0; i < r->nrows; i++)
            json_object_set_new(m, db_val(r, i, 0), json_string(db_val(r, i, 1)));
    }
    db_put(db);
    arena_free(a);
    return m;
}

int
hostapi_report(const char *id, const char *expect_task, const struct srv_change *c,
               const char *action, const char *event, const char *host, const char *why)
{
    struct db *db = db_get();
    if (!db)
        return -1;
    int rc = srv_db_change(db, id, expect_task, 0, c);
    if (rc == 0 && action)
        srv_db_event(db, id, action, event, host, why ? "Error" : "Success", why);
    db_put(db);
    if (rc == 0)
        hostapi_kick();
    return rc == -ESTALE || rc == -ENOENT ? -ESTALE : rc ? -1 : 0;
}

int
hostapi_deleted(const char *id, const char *host)
{
    struct db *db = db_get();
    if (!db)
        return -1;
    struct srv_change c = {.power_state = 0, .set_task = true, .mark_deleted = true,
                           .terminated_us = now_us(), .attempts = -1};
    /* the allocation goes first: once the server reads as deleted nothing
     * of it may be left (a crash in between redoes the delete) */
    plc_release(db, id);
    int rc = srv_db_change(db, id, "deleting", 0, &c);
    if (rc == 0)
        srv_db_event(db, id, "delete", "compute_terminate_instance", host, "Success", NULL);
    db_put(db);
    return rc && rc != -ESTALE ? -1 : 0;
}

int
hostapi_build_failed(const char *id, const char *host, const char *why)
{
    struct db *db = db_get();
    if (!db)
        return -1;
    struct arena *a = arena_new();
    struct cmp_server s;
    int rc = srv_db_get(db, a, id, false, &s);
    if (rc == 0 && s.task_state && !strcmp(s.task_state, "spawning")) {
        srv_db_event(db, id, "create", "compute__do_build_and_run_instance", host, "Error",
                     why);
        plc_release(db, id);
        if (s.attempts + 1 < MAX_ATTEMPTS) {
            /* back to the scheduler, which tries the hosts that did not
             * fail first (task_arg lists those that did) */
            const char *failed = s.task_arg && *s.task_arg
                                     ? arena_printf(a, "%s,%s", s.task_arg, host) : host;
            struct srv_change c = {.power_state = -1, .set_task = true,
                                   .task_state = "scheduling", .task_arg = failed,
                                   .set_host = true, .host = NULL, .attempts = s.attempts + 1};
            rc = srv_db_change(db, id, "spawning", 0, &c);
        } else {
            struct srv_change c = {.vm_state = "error", .power_state = 0, .set_task = true,
                                   .set_host = true, .host = NULL, .set_fault = true,
                                   .fault_code = 500, .fault_message = why,
                                   .attempts = s.attempts + 1};
            rc = srv_db_change(db, id, "spawning", 0, &c);
        }
        log_warn(NULL, "compute: build of %s on %s failed (attempt %d): %s", id, host,
                 s.attempts + 1, why);
    }
    db_put(db);
    arena_free(a);
    hostapi_kick();
    return rc && rc != -ESTALE && rc != -ENOENT ? -1 : 0;
}

/* The Placement resources of a flavor: VCPU, MEMORY_MB and DISK_GB (root
 * plus ephemeral plus swap rounded up to GiB, as Nova counts them); zero
 * amounts are left out. Returns the count. */
static int
flavor_resources(int64_t vcpus, int64_t ram, int64_t disk, int64_t eph, int64_t swap,
                 struct plc_resource res[3])
{
    int n = 0;
    int64_t gb = disk + eph + (swap + 1023) / 1024;
    if (vcpus)
        res[n++] = (struct plc_resource){"VCPU", vcpus};
    if (ram)
        res[n++] = (struct plc_resource){"MEMORY_MB", ram};
    if (gb)
        res[n++] = (struct plc_resource){"DISK_GB", gb};
    return n;
}

int
hostapi_flavor_resources(const struct cmp_server *s, struct plc_resource *res)
{
    return flavor_resources(s->vcpus, s->ram, s->disk, s->ephemeral, s->swap, res);
}

int
hostapi_reclaim(const char *id, const char *host, const char *flavor_json)
{
    struct db *db = db_get();
    if (!db)
        return -1;
    struct arena *a = arena_new();
    struct cmp_server s;
    struct db_res *r;
    struct plc_resource res[3];
    int rc = srv_db_get(db, a, id, false, &s);
    if (rc == 0 && flavor_json) {
        json_t *f = json_loads(flavor_json, 0, NULL);
        s.vcpus = json_integer_value(json_object_get(f, "vcpus"));
        s.ram = json_integer_value(json_object_get(f, "ram"));
        s.disk = json_integer_value(json_object_get(f, "disk"));
        s.ephemeral = json_integer_value(json_object_get(f, "ephemeral"));
        s.swap = json_integer_value(json_object_get(f, "swap"));
        json_decref(f);
    }
    if (rc == 0)
        rc = db_exec(db, a, &r, "SELECT rp_uuid FROM cmp_host WHERE name = ?", "s", host);
    if (rc == 0 && !r->nrows)
        rc = -ENOENT;
    if (rc == 0)
        rc = plc_claim(db, id, s.project_id, s.user_id, db_val(r, 0, 0), res,
                       hostapi_flavor_resources(&s, res));
    db_put(db);
    arena_free(a);
    return rc == -ENOSPC ? -ENOSPC : rc ? -1 : 0;
}

void
hostapi_release(const char *id)
{
    struct db *db = db_get();
    if (db)
        plc_release(db, id);
    db_put(db);
}

static hostapi_plan_fn plan_fn;

void
hostapi_set_net_plan(hostapi_plan_fn fn)
{
    plan_fn = fn;
}

bool
hostapi_has_network(void)
{
    return plan_fn != NULL;
}

json_t *
hostapi_net_plan(const char *host)
{
    return plan_fn ? plan_fn(host) : NULL;
}
