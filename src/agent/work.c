/* work.c - the agent's work on one server: each task of Nova's vocabulary
 * done through the virt driver and reported through hostapi, and the
 * power-state sync. Everything here may be cut short by a crash and run
 * again: files are made under temp names and renamed, driver calls are
 * idempotent, and a task is only cleared by its report. */
#include "agent_int.h"
#include "configdrive.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Nova's [DEFAULT] shutdown_timeout: how long a guest gets to power off
 * on the ACPI button before it is stopped hard. */
#define SHUTDOWN_TIMEOUT 60
#define WHY 512

/* Base images are fetched once per image; concurrent spawns wait. */
static pthread_mutex_t base_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *
inst_dir(struct arena *a, const char *id)
{
    return arena_printf(a, "%s/instances/%s", ag.data_dir, id);
}

/* The cached base image of image id (fetched from the image service and
 * checked against its checksum when missing); its format from the bytes
 * (the qcow2 magic, else raw). */
static int
base_image(struct arena *a, const char *image_id, const char **path, const char **fmt,
           char *why)
{
    *path = arena_printf(a, "%s/instances/_base/%s", ag.data_dir, image_id);
    pthread_mutex_lock(&base_mu);
    int rc = access(*path, R_OK) == 0 ? 0 : img_copy_to(image_id, *path, why, WHY);
    pthread_mutex_unlock(&base_mu);
    if (rc)
        return rc;
    unsigned char m[4] = {0};
    int fd = open(*path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, m, 4) != 4)
            m[0] = 0;
        close(fd);
    }
    *fmt = !memcmp(m, "QFI\xfb", 4) ? "qcow2" : "raw";
    return 0;
}

/* The config drive of s (config-2: meta_data.json, user_data,
 * network_data.json, vendor_data.json), made anew. */
static int
config_drive(const struct cmp_server *s, const struct np_port *ports, int nports,
             struct arena *a, const char *dir, const char **iso, char *why)
{
    struct cd_file f[AGENT_MD_FILES];
    int n = agent_md_files(s, ports, nports, a, f);
    *iso = arena_printf(a, "%s/disk.config", dir);
    return cd_build(*iso, f, n, why, WHY);
}


/* g's NICs: the taps of server id's ports in the host's network plan
 * (sync: the plan applied first, so their taps exist), in arena a. */
static int
guest_nics(const char *id, bool sync, struct arena *a, struct drv_guest *g,
           struct np_port **ports, int *nports, char *why)
{
    if (agent_net_ports(id, sync, a, ports, nports, why, WHY) < 0)
        return -EIO;
    struct drv_nic *nics = arena_alloc(a, sizeof(*nics) * (size_t)(*nports + 1));
    for (int i = 0; i < *nports && i < DRV_MAX_NICS; i++) {
        char *tap = arena_alloc(a, 16);
        net_tap_name((*ports)[i].id, tap);
        nics[i] = (struct drv_nic){tap, (*ports)[i].mac};
    }
    g->nics = nics;
    g->nnics = *nports < DRV_MAX_NICS ? *nports : DRV_MAX_NICS;
    return 0;
}

/* The guest of s as the driver wants it; flavor fields from s, or from
 * the JSON text flavor when given (a resize's target). */
static int
guest(const struct cmp_server *s, struct arena *a, const char *flavor, bool fresh,
      struct drv_guest *g, char *why)
{
    const char *dir = inst_dir(a, s->id);
    *g = (struct drv_guest){.uuid = s->id, .dir = dir, .vcpus = (int)s->vcpus,
                            .ram_mb = s->ram, .root_gb = s->disk,
                            .ephemeral_gb = s->ephemeral, .swap_mb = s->swap};
    if (flavor) {
        json_t *f = json_loads(flavor, 0, NULL);
        g->vcpus = (int)json_integer_value(json_object_get(f, "vcpus"));
        g->ram_mb = json_integer_value(json_object_get(f, "ram"));
        g->root_gb = json_integer_value(json_object_get(f, "disk"));
        g->ephemeral_gb = json_integer_value(json_object_get(f, "ephemeral"));
        g->swap_mb = json_integer_value(json_object_get(f, "swap"));
        json_decref(f);
    }
    if (mkdir_p(dir, 0700) < 0) {
        snprintf(why, WHY, "cannot create %s", dir);
        return -EIO;
    }
    int rc = base_image(a, s->image_id, &g->base_path, &g->base_format, why);
    if (rc)
        return rc;
    /* its NICs: the taps of its ports, made (or checked) now */
    struct np_port *ports;
    int nports;
    if (guest_nics(s->id, true, a, g, &ports, &nports, why) < 0)
        return -EIO;
    const char *iso = arena_printf(a, "%s/disk.config", dir);
    if (s->config_drive && (fresh || access(iso, R_OK) < 0))
        rc = config_drive(s, ports, nports, a, dir, &iso, why);
    g->config_drive = s->config_drive ? iso : NULL;
    return rc;
}

/* Reports the end of s's task: c applied, the action's event finished. */
static void
report(const struct cmp_server *s, struct srv_change *c, const char *action,
       const char *event, const char *why)
{
    /* cut short by a stop: the task stays and is done again at restart */
    if (virt_stopping)
        return;
    if (c->power_state == 0 && !c->mark_deleted)
        c->power_state = -1;
    c->attempts = -1;
    if (!c->set_task) {
        c->set_task = true;
        c->task_state = NULL;
    }
    int rc = hostapi_report(s->id, s->task_state, c, action, event, ag.host, why);
    if (rc == -1)
        log_warn(NULL, "agent: cannot report %s of %s", s->task_state, s->id);
}

/* A task that failed: the server keeps its state, the task goes, the
 * instance action records the error (Nova reverts the task state). */
static void
failed(const struct cmp_server *s, const char *action, const char *event, const char *why)
{
    struct srv_change c = {.power_state = -1};
    log_warn(NULL, "agent: %s of %s failed: %s", s->task_state, s->id, why);
    report(s, &c, action, event, why);
}

static void
spawn(const struct cmp_server *s, struct arena *a)
{
    char why[WHY] = "";
    struct drv_guest g;
    int rc = guest(s, a, NULL, true, &g, why);
    if (rc == 0)
        rc = ag.drv->spawn(&g, why, sizeof(why));
    if (rc && virt_stopping)
        return;
    if (rc) {
        /* nothing half-built stays on a host that failed */
        ag.drv->destroy(&g);
        hostapi_build_failed(s->id, ag.host, *why ? why : strerror(-rc));
        return;
    }
    struct srv_change c = {.vm_state = "active", .power_state = DRV_RUNNING,
                           .launched_us = now_us()};
    report(s, &c, "create", "compute__do_build_and_run_instance", NULL);
}

/* The simple power tasks: one driver call, a new vm_state and power. */
static void
power_task(const struct cmp_server *s, struct arena *a)
{
    static const struct {
        const char *task, *vm, *action, *event;
        int power;
    } t[] = {
        {"powering-off", "stopped", "stop", "compute_stop_instance", DRV_SHUTDOWN},
        {"powering-on", "active", "start", "compute_start_instance", DRV_RUNNING},
        {"rebooting", "active", "reboot", "compute_reboot_instance", DRV_RUNNING},
        {"rebooting_hard", "active", "reboot", "compute_reboot_instance", DRV_RUNNING},
        {"pausing", "paused", "pause", "compute_pause_instance", DRV_PAUSED},
        {"unpausing", "active", "unpause", "compute_unpause_instance", DRV_RUNNING},
        {"suspending", "suspended", "suspend", "compute_suspend_instance", DRV_SHUTDOWN},
        {"resuming", "active", "resume", "compute_resume_instance", DRV_RUNNING},
    };
    size_t i = 0;
    while (strcmp(t[i].task, s->task_state))
        i++;
    char why[WHY] = "";
    struct drv_guest g;
    int rc = guest(s, a, NULL, false, &g, why);
    const struct virt_driver *d = ag.drv;
    if (rc == 0) {
        switch (i) {
        case 0: rc = d->power_off(&g, SHUTDOWN_TIMEOUT, why, sizeof(why)); break;
        case 1: rc = d->spawn(&g, why, sizeof(why)); break;
        case 2: case 3: rc = d->reboot(&g, i == 3, why, sizeof(why)); break;
        case 4: rc = d->pause(&g, why, sizeof(why)); break;
        case 5: rc = d->unpause(&g, why, sizeof(why)); break;
        case 6: rc = d->suspend(&g, why, sizeof(why)); break;
        default: rc = d->resume(&g, why, sizeof(why)); break;
        }
    }
    if (rc) {
        failed(s, t[i].action, t[i].event, *why ? why : strerror(-rc));
        return;
    }
    struct srv_change c = {.vm_state = t[i].vm, .power_state = t[i].power};
    report(s, &c, t[i].action, t[i].event, NULL);
}

static void
destroy(const struct cmp_server *s, struct arena *a)
{
    struct drv_guest g = {.uuid = s->id, .dir = inst_dir(a, s->id)};
    int rc = ag.drv->destroy(&g);
    if (rc) {
        log_warn(NULL, "agent: cannot destroy %s: %s (retrying)", s->id, strerror(-rc));
        return;
    }
    hostapi_deleted(s->id, ag.host);
}

static void
snapshot(const struct cmp_server *s, struct arena *a)
{
    char why[WHY] = "";
    struct drv_guest g;
    const char *tmp = arena_printf(a, "%s/snapshot.qcow2", inst_dir(a, s->id));
    int rc = guest(s, a, NULL, false, &g, why);
    if (rc == 0)
        rc = ag.drv->snapshot(&g, tmp, why, sizeof(why));
    if (rc == 0)
        rc = img_snapshot_upload(s->task_arg, tmp, why, sizeof(why));
    unlink(tmp);
    if (rc) {
        failed(s, "createImage", "compute_snapshot_instance", *why ? why : strerror(-rc));
        return;
    }
    struct srv_change c = {.power_state = -1};
    report(s, &c, "createImage", "compute_snapshot_instance", NULL);
}

/* A copy of the root disk kept until a resize is confirmed or reverted. */
static const char *
backup_path(struct arena *a, const char *id)
{
    return arena_printf(a, "%s/disk.resize-backup", inst_dir(a, id));
}

static int
copy_file(const char *from, const char *to)
{
    char cmd[9000];
    snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s.part' && mv '%s.part' '%s'", from,
             to, to, to);
    return system(cmd) == 0 ? 0 : -EIO;
}

/* The flavor of s as a resize records it (to revert to). */
static const char *
flavor_of(const struct cmp_server *s, struct arena *a)
{
    json_t *sp = json_loads(s->flavor_specs ? s->flavor_specs : "{}", 0, NULL);
    json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "id", s->flavor_id, "name",
                          s->flavor_name, "vcpus", (json_int_t)s->vcpus, "ram",
                          (json_int_t)s->ram, "disk", (json_int_t)s->disk, "ephemeral",
                          (json_int_t)s->ephemeral, "swap", (json_int_t)s->swap,
                          "extra_specs", sp ? sp : json_object());
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    const char *r = arena_strdup(a, t);
    free(t);
    json_decref(j);
    return r;
}

/* A flavor JSON (as the API wrote it) as the flavor fields of a server. */
static void
flavor_fields(const char *text, struct arena *a, struct cmp_server *f)
{
    json_t *j = json_loads(text, 0, NULL);
    char *sp = json_dumps(json_object_get(j, "extra_specs"), JSON_COMPACT | JSON_SORT_KEYS);
    f->flavor_id = arena_strdup(a, json_string_value(json_object_get(j, "id")));
    f->flavor_name = arena_strdup(a, json_string_value(json_object_get(j, "name")));
    f->flavor_specs = arena_strdup(a, sp ? sp : "{}");
    f->vcpus = json_integer_value(json_object_get(j, "vcpus"));
    f->ram = json_integer_value(json_object_get(j, "ram"));
    f->disk = json_integer_value(json_object_get(j, "disk"));
    f->ephemeral = json_integer_value(json_object_get(j, "ephemeral"));
    f->swap = json_integer_value(json_object_get(j, "swap"));
    free(sp);
    json_decref(j);
}

/* resize_prep (target flavor in task_arg) and resize_reverting (the old
 * flavor kept in new_flavor): power off, keep or restore the disk, claim
 * the flavor in Placement, grow, start again if it ran. */
static void
resize(const struct cmp_server *s, struct arena *a)
{
    bool revert = !strcmp(s->task_state, "resize_reverting");
    const char *target = revert ? s->new_flavor : s->task_arg;
    const char *action = revert ? "revertResize" : "resize";
    const char *event = revert ? "compute_revert_resize" : "compute_finish_resize";
    char why[WHY] = "";
    struct drv_guest g;
    bool running = s->power_state == DRV_RUNNING;
    if (!target) {
        failed(s, action, event, "no flavor recorded for the resize");
        return;
    }
    int rc = hostapi_reclaim(s->id, ag.host, target);
    if (rc == -ENOSPC)
        snprintf(why, sizeof(why), "No valid host was found. There are not enough "
                                   "resources on host %s.", ag.host);
    if (rc == 0)
        rc = guest(s, a, target, false, &g, why);
    if (rc == 0)
        rc = ag.drv->power_off(&g, SHUTDOWN_TIMEOUT, why, sizeof(why));
    const char *disk = arena_printf(a, "%s/disk", g.dir), *bak = backup_path(a, s->id);
    if (rc == 0 && !revert && access(disk, F_OK) == 0 && access(bak, F_OK) < 0 &&
        (rc = copy_file(disk, bak)) < 0)
        snprintf(why, sizeof(why), "cannot keep a copy of the disk for a revert");
    if (rc == 0 && revert && access(bak, F_OK) == 0 && rename(bak, disk) < 0)
        rc = -errno;
    if (rc == 0 && !revert)
        rc = ag.drv->resize_disk(&g, why, sizeof(why));
    if (rc == 0 && running)
        rc = ag.drv->spawn(&g, why, sizeof(why));
    if (rc) {
        /* back to the flavor the server has; its guest as it was */
        hostapi_reclaim(s->id, ag.host, NULL);
        if (running && guest(s, a, NULL, false, &g, why) == 0)
            ag.drv->spawn(&g, why, sizeof(why));
        failed(s, action, event, *why ? why : strerror(-rc));
        return;
    }
    struct cmp_server nf = *s;
    flavor_fields(target, a, &nf);
    struct srv_change c = {.vm_state = revert ? (running ? "active" : "stopped") : "resized",
                           .power_state = running ? DRV_RUNNING : DRV_SHUTDOWN,
                           .set_flavor = true, .flavor = &nf, .set_new_flavor = true,
                           .new_flavor = revert ? NULL : flavor_of(s, a)};
    report(s, &c, action, event, NULL);
}

static void
rebuild(const struct cmp_server *orig, struct arena *a)
{
    /* the task carries the new image: it is what the rebuild boots */
    struct cmp_server copy = *orig;
    if (orig->task_arg)
        copy.image_id = orig->task_arg;
    const struct cmp_server *s = &copy;
    char why[WHY] = "";
    struct drv_guest g = {.uuid = s->id, .dir = inst_dir(a, s->id)};
    bool stopped = !strcmp(s->vm_state, "stopped");
    int rc = ag.drv->power_off(&g, SHUTDOWN_TIMEOUT, why, sizeof(why));
    if (rc == 0) {
        /* the new image's disk and drive are made by the spawn below */
        unlink(arena_printf(a, "%s/disk", g.dir));
        unlink(arena_printf(a, "%s/disk.config", g.dir));
        rc = guest(s, a, NULL, true, &g, why);
    }
    if (rc == 0)
        rc = ag.drv->spawn(&g, why, sizeof(why));
    if (rc == 0 && stopped)
        rc = ag.drv->power_off(&g, 0, why, sizeof(why));
    if (rc) {
        struct srv_change c = {.vm_state = "error", .power_state = DRV_SHUTDOWN,
                               .set_fault = true, .fault_code = 500, .fault_message = why};
        report(s, &c, "rebuild", "compute_rebuild_instance", why);
        return;
    }
    struct srv_change c = {.vm_state = stopped ? "stopped" : "active",
                           .power_state = stopped ? DRV_SHUTDOWN : DRV_RUNNING,
                           .launched_us = now_us()};
    report(s, &c, "rebuild", "compute_rebuild_instance", NULL);
}

/* ---- shelve ---- */

/* The guest, its files and its allocation go; the server stays, shelved
 * offloaded, with its image in task_arg for the unshelve. */
static void
offload(const struct cmp_server *s, struct arena *a, const char *action, const char *event)
{
    struct drv_guest g = {.uuid = s->id, .dir = inst_dir(a, s->id)};
    int rc = ag.drv->destroy(&g);
    if (rc) {
        failed(s, action, event, strerror(-rc));
        return;
    }
    hostapi_release(s->id);
    struct srv_change c = {.vm_state = "shelved_offloaded", .power_state = DRV_SHUTDOWN,
                           .set_task = true, .task_arg = s->task_arg, .set_host = true,
                           .host = NULL};
    report(s, &c, action, event, NULL);
}

/* shelving: stop, snapshot the root disk to the image the API made
 * (task_arg), then offload at once, later, or never ([compute]
 * shelved_offload_time 0, > 0 seconds, -1). */
static void
shelve(const struct cmp_server *s, struct arena *a)
{
    char why[WHY] = "";
    struct drv_guest g;
    const char *tmp = arena_printf(a, "%s/shelve.qcow2", inst_dir(a, s->id));
    int rc = guest(s, a, NULL, false, &g, why);
    if (rc == 0)
        rc = ag.drv->power_off(&g, SHUTDOWN_TIMEOUT, why, sizeof(why));
    if (rc == 0)
        rc = ag.drv->snapshot(&g, tmp, why, sizeof(why));
    if (rc == 0)
        rc = img_snapshot_upload(s->task_arg, tmp, why, sizeof(why));
    unlink(tmp);
    if (rc && virt_stopping)
        return;
    if (rc) {
        /* as Nova: the snapshot image goes, the server stays as it was */
        img_delete(s->task_arg);
        failed(s, "shelve", "compute_shelve_instance", *why ? why : strerror(-rc));
        return;
    }
    if (cfg_int("compute", "shelved_offload_time", 0) == 0) {
        offload(s, a, "shelve", "compute_shelve_instance");
        return;
    }
    struct srv_change c = {.vm_state = "shelved", .power_state = DRV_SHUTDOWN, .set_task = true,
                           .task_arg = s->task_arg};
    report(s, &c, "shelve", "compute_shelve_instance", NULL);
}

/* unshelving: a shelved server starts on its own disk; an offloaded one
 * (placed again by the scheduler) boots from its shelved image, which is
 * then deleted. */
static void
unshelve(const struct cmp_server *orig, struct arena *a)
{
    bool offloaded = !strcmp(orig->vm_state, "shelved_offloaded");
    struct cmp_server copy = *orig;
    if (offloaded && orig->task_arg)
        copy.image_id = orig->task_arg;
    const struct cmp_server *s = &copy;
    char why[WHY] = "";
    struct drv_guest g;
    int rc = guest(s, a, NULL, offloaded, &g, why);
    if (rc == 0)
        rc = ag.drv->spawn(&g, why, sizeof(why));
    if (rc && virt_stopping)
        return;
    if (rc) {
        if (offloaded) {
            /* back to offloaded, nothing left here, the image kept */
            ag.drv->destroy(&g);
            hostapi_release(s->id);
            struct srv_change c = {.power_state = -1, .set_task = true,
                                   .task_arg = orig->task_arg, .set_host = true, .host = NULL,
                                   .set_fault = true, .fault_code = 500, .fault_message = why};
            report(orig, &c, "unshelve", "compute_unshelve_instance", why);
        } else {
            struct srv_change c = {.power_state = -1, .set_task = true,
                                   .task_arg = orig->task_arg};
            report(orig, &c, "unshelve", "compute_unshelve_instance", why);
        }
        return;
    }
    struct srv_change c = {.vm_state = "active", .power_state = DRV_RUNNING,
                           .launched_us = offloaded ? now_us() : 0};
    report(orig, &c, "unshelve", "compute_unshelve_instance", NULL);
    if (orig->task_arg && !virt_stopping)
        img_delete(orig->task_arg);
}

void
agent_work(const struct cmp_server *s, struct arena *a)
{
    const char *t = s->task_state;
    if (!strcmp(t, "deleting"))
        destroy(s, a);
    else if (!strcmp(t, "spawning"))
        spawn(s, a);
    else if (!strcmp(t, "image_snapshot"))
        snapshot(s, a);
    else if (!strcmp(t, "resize_prep") || !strcmp(t, "resize_reverting"))
        resize(s, a);
    else if (!strcmp(t, "rebuilding"))
        rebuild(s, a);
    else if (!strcmp(t, "shelving"))
        shelve(s, a);
    else if (!strcmp(t, "shelving_offloading"))
        offload(s, a, "shelveOffload", "compute_shelve_offload_instance");
    else if (!strcmp(t, "unshelving"))
        unshelve(s, a);
    else
        power_task(s, a);
}

void
agent_sync(const struct cmp_server *s, struct arena *a)
{
    struct drv_guest g = {.uuid = s->id, .dir = inst_dir(a, s->id)};
    int power = DRV_NOSTATE;
    char why[WHY] = "";
    if (strcmp(s->vm_state, "resized") && access(backup_path(a, s->id), F_OK) == 0)
        unlink(backup_path(a, s->id));      /* the resize was confirmed */
    int64_t offload_s = cfg_int("compute", "shelved_offload_time", 0);
    if (!strcmp(s->vm_state, "shelved") && !s->task_state && offload_s > 0 &&
        now_us() - s->updated_us >= offload_s * 1000000) {
        /* Nova's periodic offload of servers shelved long enough */
        struct srv_change c = {.power_state = -1, .set_task = true,
                               .task_state = "shelving_offloading", .task_arg = s->task_arg,
                               .attempts = -1};
        if (hostapi_report(s->id, NULL, &c, NULL, NULL, ag.host, NULL) == 0)
            hostapi_kick();
        return;
    }
    if (!strcmp(s->vm_state, "building") || !strcmp(s->vm_state, "error") ||
        ag.drv->state(&g, &power, why, sizeof(why)) < 0)
        return;
    /* interfaces attached or detached since it started: hot-plug */
    struct np_port *ports;
    int nports;
    if (ag.drv->sync_nics && power == DRV_RUNNING && !s->task_state && agent_net_applied() &&
        guest_nics(s->id, false, a, &g, &ports, &nports, why) == 0 &&
        ag.drv->sync_nics(&g, why, sizeof(why)) < 0)
        log_warn(NULL, "agent: %s: NICs not in step with its ports: %s", s->id, why);
    if (power == DRV_SUSPENDED)
        power = DRV_SHUTDOWN;   /* as libvirt shows a managed save */
    struct srv_change c = {.power_state = -1, .attempts = -1};
    if (power == DRV_CRASHED && strcmp(s->vm_state, "error")) {
        /* a guest the hypervisor stopped with an internal error */
        c.vm_state = "error";
        c.power_state = DRV_CRASHED;
        c.set_fault = true;
        c.fault_code = 500;
        c.fault_message = *why ? why : "The guest crashed.";
    } else if ((!strcmp(s->vm_state, "active") || !strcmp(s->vm_state, "paused")) &&
               power == DRV_SHUTDOWN) {
        /* powered off from inside, or its QEMU died: Nova stops it */
        c.vm_state = "stopped";
        c.power_state = DRV_SHUTDOWN;
        log_info(NULL, "agent: %s is no longer running: now SHUTOFF", s->id);
    } else if (!strcmp(s->vm_state, "stopped") && power == DRV_RUNNING) {
        /* it should not run: Nova's sync stops it */
        ag.drv->power_off(&g, 0, why, sizeof(why));
        power = DRV_SHUTDOWN;
    }
    if (!c.vm_state && power != s->power_state)
        c.power_state = power;
    if (!c.vm_state && c.power_state < 0)
        return;
    hostapi_report(s->id, NULL, &c, NULL, NULL, ag.host, NULL);
}
