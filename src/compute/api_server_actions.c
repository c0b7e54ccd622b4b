/* api_server_actions.c - POST /servers/{id}/action: the lifecycle actions
 * (stop, start, reboot, pause, suspend, lock, createImage, resize and its
 * confirm and revert, rebuild, shelve, shelveOffload, unshelve) and the
 * console output. An action checks
 * Nova's allowed vm_state and task_state and sets the task in one
 * transaction (409 in Nova's words otherwise), records the instance
 * action, wakes the host agent and answers 202 at once. */
#include "compute_int.h"
#include "cp_db.h"
#include "hostapi.h"
#include "srv_db.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_TASK ""

/* One task-starting action. */
struct action {
    const char *key;            /* the body's member: "os-stop" */
    const char *policy;
    const char *nova_name;      /* Nova's name in its 409 ("stop") */
    const char *task;           /* the task it sets */
    const char *instance_action;
    const char *const *vm_ok;
    const char *const *task_ok;
};

static const struct action simple[] = {
    {"os-stop", "os_compute_api:servers:stop", "stop", "powering-off", "stop",
     L("active", "error"), L(NO_TASK)},
    {"os-start", "os_compute_api:servers:start", "start", "powering-on", "start",
     L("stopped"), L(NO_TASK)},
    {"pause", "os_compute_api:os-pause-server:pause", "pause", "pausing", "pause",
     L("active"), L(NO_TASK)},
    {"unpause", "os_compute_api:os-pause-server:unpause", "unpause", "unpausing", "unpause",
     L("paused"), L(NO_TASK)},
    {"suspend", "os_compute_api:os-suspend-server:suspend", "suspend", "suspending",
     "suspend", L("active"), L(NO_TASK)},
    {"resume", "os_compute_api:os-suspend-server:resume", "resume", "resuming", "resume",
     L("suspended"), L(NO_TASK)},
    {"revertResize", "os_compute_api:servers:revert_resize", "revert_resize",
     "resize_reverting", "revertResize", L("resized"), L(NO_TASK)},
};

static const struct action soft = {
    "reboot", "os_compute_api:servers:reboot", "reboot", "rebooting", "reboot",
    L("active"), L(NO_TASK)};

static const struct action hard = {
    "reboot", "os_compute_api:servers:reboot", "reboot", "rebooting_hard", "reboot",
    L("active", "stopped", "paused", "suspended", "error"),
    L(NO_TASK, "rebooting", "reboot_pending", "reboot_started", "rebooting_hard",
      "reboot_pending_hard", "reboot_started_hard")};

static const struct action create_image_act = {
    "createImage", "os_compute_api:servers:create_image", "createImage", "image_snapshot",
    "createImage", L("active", "stopped", "paused", "suspended"), L(NO_TASK)};

static const struct action resize_act = {
    "resize", "os_compute_api:servers:resize", "resize", "resize_prep", "resize",
    L("active", "stopped"), L(NO_TASK)};

static const struct action rebuild_act = {
    "rebuild", "os_compute_api:servers:rebuild", "rebuild", "rebuilding", "rebuild",
    L("active", "stopped", "error"), L(NO_TASK)};

/* Shelving: the guest's disk goes to Glance as "<name>-shelved" (its id
 * rides in task_arg until the unshelve that boots from it and deletes it),
 * then with [compute] shelved_offload_time 0 (Nova's default) the guest,
 * its files and its allocation go too (SHELVED_OFFLOADED); unshelving an
 * offloaded server schedules it again. */
static const struct action shelve_act = {
    "shelve", "os_compute_api:os-shelve:shelve", "shelve", "shelving", "shelve",
    L("active", "stopped", "paused", "suspended"), L(NO_TASK)};

static const struct action offload_act = {
    "shelveOffload", "os_compute_api:os-shelve:shelve_offload", "shelve_offload",
    "shelving_offloading", "shelveOffload", L("shelved"), L(NO_TASK)};

static const struct action unshelve_act = {
    "unshelve", "os_compute_api:os-shelve:unshelve", "unshelve", "unshelving", "unshelve",
    L("shelved", "shelved_offloaded"), L(NO_TASK)};

/* Sets the task of a (with arg for the agent); 0, or the 409 / 404 Nova
 * gives and -1. kick false: the caller changes more first, then wakes the
 * agent itself. */
static int
start_task(struct http_req *req, const struct cmp_server *s, const struct action *a,
           const char *arg, bool kick)
{
    const char *vm = NULL, *cur = NULL;
    int rc = srv_db_start_task(req->db, req->arena, s->id, a->task, arg,
                               a->vm_ok, a->task_ok, !cmp__admin(req), &vm, &cur);
    if (rc == -EPERM)
        return req_fail(req, 409, "Instance %s is locked", s->id);
    if (rc == -EBUSY) {
        bool vm_bad = true;
        for (const char *const *l = a->vm_ok; *l; l++)
            vm_bad &= strcmp(*l, vm) != 0;
        return req_fail(req, 409, "Cannot '%s' instance %s while it is in %s %s", a->nova_name,
                        s->id, vm_bad ? "vm_state" : "task_state",
                        vm_bad ? vm : cur ? cur : "None");
    }
    if (rc == -ENOENT)
        return req_fail(req, 404, "Instance %s could not be found.", s->id);
    if (rc)
        return cmp__db_fail(req, rc);
    cmp__action(req, s->id, a->instance_action);
    if (kick)
        hostapi_kick();
    return 0;
}

static int
reboot(struct http_req *req, const struct cmp_server *s, json_t *arg)
{


    json_t *t = json_object_get(arg, "type");
    const char *ty = json_string_value(t);
    if (!json_is_object(arg) || !ty || (strcasecmp(ty, "SOFT") && strcasecmp(ty, "HARD")))
        return cmp__invalid(req, "type", t, arena_printf(req->arena, "%s is not one of "
                                                         "['HARD', 'Hard', 'hard', 'SOFT', "
                                                         "'Soft', 'soft']", cmp__repr(req, t)));
    const struct action *a = strcasecmp(ty, "HARD") ? &soft : &hard;
    if (start_task(req, s, a, NULL, true) < 0)
        return -1;
    return http_reply_empty(req, 202);
}

static int
lock(struct http_req *req, const struct cmp_server *s, json_t *arg, bool on)
{
    struct srv_update u = {.locked = on};
    if (on) {
        json_t *r = json_is_object(arg) ? json_object_get(arg, "locked_reason") : NULL;
        if (r && (!cmp__mv(req, 2, 73) || !json_is_string(r) ||
                  strlen(json_string_value(r)) > 255))
            return cmp__invalid(req, "locked_reason", r, "is not valid");
        u.locked_reason = json_string_value(r);
        u.locked_by = cmp__admin(req) && strcmp(s->project_id, req->auth.project_id)
                          ? "admin" : "owner";
    } else if (s->locked && s->locked_by && !strcmp(s->locked_by, "admin") &&
               !cmp__admin(req)) {
        return req_fail(req, 403, "Policy doesn't allow os_compute_api:os-lock-server:"
                        "unlock:unlock_override to be performed.");
    }
    int rc = srv_db_update(req->db, s->id, &u);
    if (rc)
        return rc == -ENOENT ? req_fail(req, 404, "Instance %s could not be found.", s->id)
                             : cmp__db_fail(req, rc);
    cmp__action(req, s->id, on ? "lock" : "unlock");
    return http_reply_empty(req, 202);
}

static int
create_image(struct http_req *req, const struct cmp_server *s, json_t *arg)
{

    json_t *name = json_is_object(arg) ? json_object_get(arg, "name") : NULL, *v;
    if (!name || !json_is_string(name) || !*json_string_value(name) ||
        strlen(json_string_value(name)) > 255)
        return cmp__invalid(req, "name", name, "is not a valid image name");
    json_t *props = json_object(), *meta = json_object_get(arg, "metadata");
    const char *k;
    arena_on_release(req->arena, (void (*)(void *))json_decref, props);
    if (meta && !json_is_object(meta))
        return cmp__invalid(req, "metadata", meta, "is not of type 'object'");
    json_object_set_new(props, "instance_uuid", json_string(s->id));
    json_object_set_new(props, "image_type", json_string("snapshot"));
    json_object_set_new(props, "base_image_ref", json_string(s->image_id));
    json_object_set_new(props, "user_id", json_string(req->auth.user_id));
    /* the caller's metadata goes last and wins, as in Nova */
    json_object_foreach(meta, k, v) {
        if (!json_is_string(v))
            return cmp__invalid(req, "metadata", meta, "values must be strings");
        json_object_set(props, k, v);
    }
    char *pt = json_dumps(props, JSON_COMPACT);
    char id[37];
    int rc = img_snapshot_create(req->db, req->arena, json_string_value(name),
                                 req->auth.project_id, pt, s->disk, 0, id);
    free(pt);
    if (rc)
        return cmp__db_fail(req, rc);
    if (start_task(req, s, &create_image_act, id, true) < 0) {
        img_delete(id);
        return -1;
    }
    const char *loc = arena_printf(req->arena, "%s/images/%s", cmp__url(req), id);
    if (!cmp__mv(req, 2, 45)) {
        http_header(req, "Location", loc);
        return http_reply_empty(req, 202);
    }
    return http_reply_json(req, 202, json_pack("{s:s}", "image_id", id));
}

static int
shelve(struct http_req *req, const struct cmp_server *s)
{
    json_t *props = json_pack("{s:s,s:s,s:s,s:s}", "instance_uuid", s->id, "image_type",
                              "snapshot", "base_image_ref", s->image_id ? s->image_id : "",
                              "user_id", req->auth.user_id);
    char *pt = json_dumps(props, JSON_COMPACT);
    json_decref(props);
    char id[37];
    const char *name = arena_printf(req->arena, "%s-shelved", s->name);
    int rc = img_snapshot_create(req->db, req->arena, name, s->project_id, pt, s->disk, 0, id);
    free(pt);
    if (rc)
        return cmp__db_fail(req, rc);
    if (start_task(req, s, &shelve_act, id, true) < 0) {
        img_delete(id);
        return -1;
    }
    return http_reply_empty(req, 202);
}

/* unshelve's body: null, or from 2.77 {"availability_zone": name} (only
 * for an offloaded server), from 2.91 also null (unpin) and "host"
 * (admin; an existing compute host). */
static int
unshelve(struct http_req *req, const struct cmp_server *s, json_t *arg)
{
    if (cmp__mv(req, 2, 77) && !json_is_null(arg)) {
        if (!json_is_object(arg))
            return cmp__invalid(req, "unshelve", arg, "is not of type 'object', 'null'");
        const char *k;
        json_t *v;
        json_object_foreach(arg, k, v) {
            bool az = !strcmp(k, "availability_zone"), host = !strcmp(k, "host");
            if ((!az && !host) || (host && !cmp__mv(req, 2, 91)))
                return req_fail(req, 400, "Invalid input for field/attribute unshelve. Value: "
                                "%s. Additional properties are not allowed ('%s' was "
                                "unexpected)", cmp__repr(req, arg), k);
            if (json_is_null(v) && az && cmp__mv(req, 2, 91))
                continue;
            if (!json_is_string(v) || !*json_string_value(v) ||
                strlen(json_string_value(v)) > 255)
                return cmp__invalid(req, k, v, "is not a valid name");
            if (host && !cmp__admin(req))
                return req_fail(req, 403, "Policy doesn't allow os_compute_api:os-shelve:"
                                "unshelve_to_host to be performed.");
            if (strcmp(s->vm_state, "shelved_offloaded"))
                return req_fail(req, 409, "The unshelve action on a server with "
                                "availability_zone or host is only allowed for servers in "
                                "SHELVED_OFFLOADED status");
            struct db_res *r;
            int rc = host ? db_exec(req->db, req->arena, &r, "SELECT 1 FROM cmp_host WHERE "
                                    "name = ?", "s", json_string_value(v)) : 0;
            if (rc)
                return cmp__db_fail(req, rc);
            if (host && !r->nrows)
                return req_fail(req, 400, "Compute host %s could not be found.",
                                json_string_value(v));
            if (az && strcmp(json_string_value(v), "nova"))
                return req_fail(req, 400, "The requested availability zone is not available");
        }
    }
    /* the shelved image rides along in task_arg; offloaded: the
     * scheduler places it first (host still NULL) */
    if (start_task(req, s, &unshelve_act, s->task_arg, true) < 0)
        return -1;
    return http_reply_empty(req, 202);
}

/* The flavor fields a resize records (and a revert restores), as JSON. */
static const char *
flavor_json(struct http_req *req, const char *id, const char *name, int64_t vcpus, int64_t ram,
            int64_t disk, int64_t eph, int64_t swap, const char *specs)
{
    json_t *sp = json_loads(specs ? specs : "{}", 0, NULL);
    json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "id", id, "name", name, "vcpus",
                          (json_int_t)vcpus, "ram", (json_int_t)ram, "disk", (json_int_t)disk,
                          "ephemeral", (json_int_t)eph, "swap", (json_int_t)swap,
                          "extra_specs", sp ? sp : json_object());
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    const char *r = arena_strdup(req->arena, t);
    free(t);
    json_decref(j);
    return r;
}

static int
resize(struct http_req *req, const struct cmp_server *s, json_t *arg)
{

    json_t *fref = json_is_object(arg) ? json_object_get(arg, "flavorRef") : NULL;
    const char *fid = cmp__flavor_ref(req, fref);
    if (!fid)
        return -1;
    struct cmp_flavor f;
    int rc = cmp__flavor_get(req, fid, &f);
    if (rc == -ENOENT)
        return req_fail(req, 400, "Unable to locate requested flavor.");
    if (rc)
        return -1;
    if (!strcmp(f.id, s->flavor_id))
        return req_fail(req, 400, "When resizing, instances must change flavor!");
    if (f.disk < s->disk || f.ephemeral < s->ephemeral)
        return req_fail(req, 400, "Resize error: Unable to resize disk down.");
    int64_t ni = 0, nc = 0, nr = 0;
    srv_db_usage(req->db, req->arena, s->project_id, &ni, &nc, &nr);
    int64_t maxc = cmp__quota_limit(req, s->project_id, "cores");
    int64_t maxr = cmp__quota_limit(req, s->project_id, "ram");
    if (maxc >= 0 && nc - s->vcpus + f.vcpus > maxc)
        return req_fail(req, 403, "Quota exceeded for cores: Requested %lld, but already used "
                        "%lld of %lld cores", (long long)(f.vcpus - s->vcpus), (long long)nc,
                        (long long)maxc);
    if (maxr >= 0 && nr - s->ram + f.ram > maxr)
        return req_fail(req, 403, "Quota exceeded for ram: Requested %lld, but already used "
                        "%lld of %lld ram", (long long)(f.ram - s->ram), (long long)nr,
                        (long long)maxr);
    json_t *specs = cmp__specs_json(req, f.id);
    if (!specs)
        return -1;
    char *st = json_dumps(specs, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(specs);
    const char *nf = flavor_json(req, f.id, f.name, f.vcpus, f.ram, f.disk, f.ephemeral,
                                 f.swap, st);
    free(st);
    /* the target flavor rides in task_arg until the agent has resized */
    if (start_task(req, s, &resize_act, nf, true) < 0)
        return -1;
    return http_reply_empty(req, 202);
}

static int
confirm_resize(struct http_req *req, const struct cmp_server *s)
{
    if (strcmp(s->vm_state, "resized") || s->task_state)
        return req_fail(req, 409, "Cannot 'confirm_resize' instance %s while it is in "
                        "vm_state %s", s->id, s->vm_state);
    if (s->locked && !cmp__admin(req))
        return req_fail(req, 409, "Instance %s is locked", s->id);
    struct srv_change c = {.vm_state = s->power_state == 4 ? "stopped" : "active",
                           .power_state = -1, .set_new_flavor = true, .new_flavor = NULL,
                           .attempts = -1};
    int rc = srv_db_change(req->db, s->id, NULL, s->rev, &c);
    if (rc == -ESTALE)
        return req_fail(req, 409, "Cannot 'confirm_resize' instance %s while it is in "
                        "task_state resize_reverting", s->id);
    if (rc)
        return cmp__db_fail(req, rc);
    cmp__action(req, s->id, "confirmResize");
    hostapi_kick();
    return http_reply_empty(req, 204);
}

static int
rebuild(struct http_req *req, const struct cmp_server *s, json_t *arg)
{

    json_t *iref = json_is_object(arg) ? json_object_get(arg, "imageRef") : NULL, *v;
    const char *ref = json_string_value(iref), *slash = ref ? strrchr(ref, '/') : NULL;
    const char *iid = slash ? slash + 1 : ref;
    if (!iid || strlen(iid) != 36)
        return req_fail(req, 400, "Invalid imageRef provided.");
    struct img_brief im;
    int rc = img_lookup(req->db, req->arena, iid, req->auth.project_id, cmp__admin(req), &im);
    if (rc == -ENOENT)
        return req_fail(req, 400, "Image %s could not be found.", iid);
    if (rc)
        return cmp__db_fail(req, rc);
    if (strcmp(im.status, "active"))
        return req_fail(req, 400, "Image %s is not active.", iid);
    struct srv_update u = {.locked = -1};
    if ((v = json_object_get(arg, "name"))) {
        if (!json_is_string(v) || !*json_string_value(v))
            return cmp__invalid(req, "name", v, "is not a valid name");
        u.name = json_string_value(v);
    }
    if ((v = json_object_get(arg, "description")) && cmp__mv(req, 2, 19)) {
        u.set_description = true;
        u.description = json_string_value(v);
    }
    json_t *meta = json_object_get(arg, "metadata");
    if (meta && !json_is_object(meta))
        return cmp__invalid(req, "metadata", meta, "is not of type 'object'");
    /* the new image goes in with the task, so both change together */
    if (start_task(req, s, &rebuild_act, iid, false) < 0)
        return -1;
    struct srv_change c = {.power_state = -1, .image_id = iid, .attempts = -1};
    rc = srv_db_change(req->db, s->id, "rebuilding", 0, &c);
    if (!rc && (u.name || u.set_description))
        rc = srv_db_update(req->db, s->id, &u);
    if (!rc && meta) {
        int n = 0;
        const char **ks = arena_alloc(req->arena, sizeof(char *) * (json_object_size(meta) + 1));
        const char **vs = arena_alloc(req->arena, sizeof(char *) * (json_object_size(meta) + 1));
        const char *k;
        json_object_foreach(meta, k, v) {
            ks[n] = k;
            vs[n++] = json_is_string(v) ? json_string_value(v) : "";
        }
        rc = srv_db_meta_set(req->db, s->id, ks, vs, n, true, 128);
    }
    hostapi_kick();     /* the agent sees the task with its new image, name and metadata */
    struct cmp_server now;
    if (rc || srv_db_get(req->db, req->arena, s->id, false, &now))
        return cmp__db_fail(req, rc ? rc : DB_ERR);
    json_t *pw = json_object_get(arg, "adminPass");
    return cmp__reply_server(req, 202, &now, CMP_VIEW_BASIC,
                             json_is_string(pw) ? json_string_value(pw) : cmp__admin_pass(req));
}

int
cmp__server_action(struct http_req *req)
{
    struct cmp_server s;
    json_t *body = cmp__body(req);
    if (!body || cmp__server_find(req, &s) < 0)
        return -1;
    const char *key = NULL;
    json_t *arg = NULL;
    void *it = json_object_iter(body);
    if (it) {
        key = json_object_iter_key(it);
        arg = json_object_iter_value(it);
    }
    if (!key)
        return req_fail(req, 400, "There is no such action: %s", "None");
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (strcmp(simple[i].key, key))
            continue;
        if (cmp__policy(req, simple[i].policy, NULL, s.project_id) < 0 ||
            start_task(req, &s, &simple[i], NULL, true) < 0)
            return -1;
        return http_reply_empty(req, 202);
    }
    static const struct {
        const char *key, *policy;
    } other[] = {
        {"reboot", "os_compute_api:servers:reboot"},
        {"lock", "os_compute_api:os-lock-server:lock"},
        {"unlock", "os_compute_api:os-lock-server:unlock"},
        {"createImage", "os_compute_api:servers:create_image"},
        {"resize", "os_compute_api:servers:resize"},
        {"confirmResize", "os_compute_api:servers:confirm_resize"},
        {"rebuild", "os_compute_api:servers:rebuild"},
        {"os-getConsoleOutput", "os_compute_api:os-console-output"},
        {"shelve", "os_compute_api:os-shelve:shelve"},
        {"shelveOffload", "os_compute_api:os-shelve:shelve_offload"},
        {"unshelve", "os_compute_api:os-shelve:unshelve"},
        {"os-getVNCConsole", "os_compute_api:os-remote-consoles"},
    };
    size_t i;
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (!strcmp(other[i].key, key))
            break;
    if (!strcmp(key, "addSecurityGroup") || !strcmp(key, "removeSecurityGroup"))
        return cmp__server_sg_action(req, &s, arg, key[0] == 'a');
    if (i == sizeof(other) / sizeof(other[0]))
        return req_fail(req, 400, "There is no such action: %s", key);
    if (cmp__policy(req, other[i].policy, NULL, s.project_id) < 0)
        return -1;
    if (!strcmp(key, "reboot"))
        return reboot(req, &s, arg);
    if (!strcmp(key, "lock") || !strcmp(key, "unlock"))
        return lock(req, &s, arg, key[0] == 'l');
    if (!strcmp(key, "createImage"))
        return create_image(req, &s, arg);
    if (!strcmp(key, "resize"))
        return resize(req, &s, arg);
    if (!strcmp(key, "confirmResize"))
        return confirm_resize(req, &s);
    if (!strcmp(key, "rebuild"))
        return rebuild(req, &s, arg);
    if (!strcmp(key, "shelve"))
        return shelve(req, &s);
    if (!strcmp(key, "shelveOffload"))
        return start_task(req, &s, &offload_act, s.task_arg, true) < 0
                   ? -1 : http_reply_empty(req, 202);
    if (!strcmp(key, "unshelve"))
        return unshelve(req, &s, arg);
    if (!strcmp(key, "os-getVNCConsole")) {
        /* replaced by /remote-consoles in 2.6 */
        if (cmp__mv(req, 2, 6))
            return req_fail(req, 404, "The resource could not be found.");
        return cmp__vnc_console_action(req, &s, arg);
    }
    return cmp__console_output(req);
}

/* ---- console output ---- */

static hostapi_console_fn console_fn;
static hostapi_vnc_fn vnc_fn;

void
hostapi_set_vnc(hostapi_vnc_fn fn)
{
    vnc_fn = fn;
}

int
hostapi_vnc(const char *server_id, char *out, size_t outlen)
{
    return vnc_fn ? vnc_fn(server_id, out, outlen) : -ENOENT;
}

void
hostapi_set_console(hostapi_console_fn fn)
{
    console_fn = fn;
}

int
cmp__console_output(struct http_req *req)
{
    struct cmp_server s;
    if (cmp__server_find(req, &s) < 0)
        return -1;
    json_t *arg = json_object_get(req->json ? req->json : cmp__body(req),
                                  "os-getConsoleOutput");
    json_t *len = json_is_object(arg) ? json_object_get(arg, "length") : NULL;
    int64_t lines = -1;
    if (len && !json_is_null(len)) {
        char *end = NULL;
        if (json_is_integer(len))
            lines = json_integer_value(len);
        else if (json_is_string(len))
            lines = strtoll(json_string_value(len), &end, 10);
        if ((json_is_string(len) && (!*json_string_value(len) || *end)) ||
            (!json_is_integer(len) && !json_is_string(len)) || lines < -1)
            return cmp__invalid(req, "length", len, "is not valid under any of the given "
                                "schemas");
    }
    if (!s.host || !console_fn)
        return req_fail(req, 409, "Instance %s has not been scheduled to a host yet.", s.id);
    char *out = NULL;
    size_t n = 0;
    int rc = console_fn(s.id, lines < 0 ? 0 : (int)lines, &out, &n);
    if (rc == -ENOENT) {
        out = NULL;
        n = 0;
    } else if (rc < 0) {
        return req_fail(req, 409, "Instance %s is not ready", s.id);
    }
    /* the console is bytes; JSON needs text, so a log that is not UTF-8
     * loses its high bytes */
    json_t *o = json_stringn(out ? out : "", n);
    if (!o) {
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)out[i] >= 0x80)
                out[i] = '?';
        o = json_stringn(out, n);
    }
    free(out);
    return http_reply_json(req, 200, json_pack("{s:o}", "output", o));
}
