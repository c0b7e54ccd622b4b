/* srv_view.c - a server as Nova shows it: the status Nova derives from
 * vm_state and task_state, and the JSON of the list, detail and show
 * views, shaped by the request's microversion and the caller's role. */
#include "compute_int.h"
#include "srv_db.h"
#include "core/arena.h"
#include "core/util.h"

#include <openssl/evp.h>
#include <string.h>

/* nova/api/openstack/common.py _STATE_MAP: a task state that changes
 * what the status says, per vm_state; anything else shows the default. */
struct state_map {
    const char *vm, *dflt;
    const char *tasks[12][2];
};

static const struct state_map states[] = {
    {"active", "ACTIVE", {
        {"rebooting", "REBOOT"}, {"reboot_pending", "REBOOT"}, {"reboot_started", "REBOOT"},
        {"rebooting_hard", "HARD_REBOOT"}, {"reboot_pending_hard", "HARD_REBOOT"},
        {"reboot_started_hard", "HARD_REBOOT"}, {"updating_password", "PASSWORD"},
        {"rebuilding", "REBUILD"}, {"rebuild_spawning", "REBUILD"},
        {"migrating", "MIGRATING"}, {"resize_prep", "RESIZE"}, {"resize_finish", "RESIZE"}}},
    {"building", "BUILD", {{NULL, NULL}}},
    {"stopped", "SHUTOFF", {
        {"resize_prep", "RESIZE"}, {"resize_finish", "RESIZE"}, {"rebuilding", "REBUILD"},
        {"rebuild_spawning", "REBUILD"}}},
    {"resized", "VERIFY_RESIZE", {{"resize_reverting", "REVERT_RESIZE"}}},
    {"paused", "PAUSED", {{"migrating", "MIGRATING"}}},
    {"suspended", "SUSPENDED", {{NULL, NULL}}},
    {"rescued", "RESCUE", {{NULL, NULL}}},
    {"error", "ERROR", {{"rebuilding", "REBUILD"}, {"rebuild_spawning", "REBUILD"}}},
    {"deleted", "DELETED", {{NULL, NULL}}},
    {"soft-delete", "SOFT_DELETED", {{NULL, NULL}}},
    {"shelved", "SHELVED", {{NULL, NULL}}},
    {"shelved_offloaded", "SHELVED_OFFLOADED", {{NULL, NULL}}},
};

const char *
cmp__status(const char *vm_state, const char *task_state)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        if (strcmp(states[i].vm, vm_state))
            continue;
        for (int j = 0; task_state && j < 12 && states[i].tasks[j][0]; j++)
            if (!strcmp(states[i].tasks[j][0], task_state))
                return states[i].tasks[j][1];
        return states[i].dflt;
    }
    return "UNKNOWN";
}

/* The statuses whose views carry "progress" (Nova's _progress_statuses). */
static bool
shows_progress(const char *status)
{
    static const char *const p[] = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE",
                                    "MIGRATING"};
    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
        if (!strcmp(p[i], status))
            return true;
    return false;
}

/* Nova's hostId: sha224 of project id and host, so a project can tell
 * which of its servers share a host without learning the host's name. */
static const char *
host_id(struct http_req *req, const struct cmp_server *s)
{
    if (!s->host)
        return "";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    const char *in = arena_printf(req->arena, "%s%s", s->project_id, s->host);
    EVP_Digest(in, strlen(in), d, &n, EVP_sha224(), NULL);
    hex_encode(d, n, hex);
    return arena_strdup(req->arena, hex);
}

static json_t *
time_or_null(struct http_req *req, int64_t us)
{
    return us ? json_string(cmp__time(req, us)) : json_null();
}

const char *
cmp__instance_name(struct http_req *req, const struct cmp_server *s)
{
    return arena_printf(req->arena, "instance-%.8s", s->id);
}

json_t *
cmp__server_brief(struct http_req *req, const struct cmp_server *s)
{
    return json_pack("{s:s,s:s,s:o}", "id", s->id, "name", s->name, "links",
                     cmp__links(req, "servers", s->id));
}

static json_t *
flavor_view(struct http_req *req, const struct cmp_server *s)
{
    if (!cmp__mv(req, 2, 47))
        return json_pack("{s:s,s:o}", "id", s->flavor_id, "links",
                         cmp__links(req, "flavors", s->flavor_id));
    json_t *specs = json_loads(s->flavor_specs ? s->flavor_specs : "{}", 0, NULL);
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:o}", "vcpus", (json_int_t)s->vcpus, "ram",
                     (json_int_t)s->ram, "disk", (json_int_t)s->disk, "ephemeral",
                     (json_int_t)s->ephemeral, "swap", (json_int_t)s->swap, "original_name",
                     s->flavor_name, "extra_specs", specs ? specs : json_object());
}

/* The server's addresses (a new reference): the basic view has only
 * version and addr, without the OS-EXT-IPS extensions. */
static json_t *
addresses(json_t *addrs, bool basic)
{
    if (!addrs)
        return json_object();
    if (!basic)
        return json_incref(addrs);
    json_t *out = json_object(), *l, *a;
    const char *net;
    size_t i;
    json_object_foreach(addrs, net, l) {
        json_t *nl = json_array();
        json_array_foreach(l, i, a)
            json_array_append_new(nl, json_pack("{s:O,s:O}", "version",
                                                json_object_get(a, "version"), "addr",
                                                json_object_get(a, "addr")));
        json_object_set_new(out, net, nl);
    }
    return out;
}

json_t *
cmp__server_view(struct http_req *req, const struct cmp_server *s, json_t *meta, json_t *tags,
                 json_t *addrs, enum cmp_view mode)
{
    bool admin = cmp__admin(req);
    /* update and rebuild answer with the basic view until 2.75 */
    bool basic = mode == CMP_VIEW_BASIC && !cmp__mv(req, 2, 75);
    const char *status = cmp__status(s->vm_state, s->task_state);
    json_t *image = s->image_id && *s->image_id
                        ? json_pack("{s:s,s:o}", "id", s->image_id, "links",
                                    cmp__links(req, "images", s->image_id))
                        : json_string("");
    json_t *v = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:o}",
        "id", s->id, "name", s->name, "status", status, "tenant_id", s->project_id, "user_id",
        s->user_id, "metadata", meta ? json_incref(meta) : json_object(), "hostId",
        json_string(host_id(req, s)), "created", cmp__time(req, s->created_us), "updated",
        cmp__time(req, s->updated_us), "image", image, "flavor", flavor_view(req, s),
        "addresses", addresses(addrs, basic), "accessIPv4", s->access_v4 ? s->access_v4 : "",
        "accessIPv6",
        s->access_v6 ? s->access_v6 : "", "OS-DCF:diskConfig", "MANUAL", "links",
        cmp__links(req, "servers", s->id));
    if (shows_progress(status))
        json_object_set_new(v, "progress", json_integer(0));
    if (s->fault_code && (!strcmp(status, "ERROR") || !strcmp(status, "DELETED"))) {
        json_t *f = json_pack("{s:I,s:s,s:s}", "code", (json_int_t)s->fault_code, "created",
                              cmp__time(req, s->fault_us), "message",
                              s->fault_message ? s->fault_message : "");
        /* the details (a trace in Nova) are admin's, and only for 5xx */
        if (admin && s->fault_details)
            json_object_set_new(f, "details", json_string(s->fault_details));
        json_object_set_new(v, "fault", f);
    }
    if (!basic) {
        json_t *x = json_pack(
            "{s:s,s:o,s:s,s:o,s:o,s:s,s:o,s:I,s:[]}", "OS-EXT-AZ:availability_zone",
            s->host ? (s->az ? s->az : "nova") : "", "key_name",
            s->key_name ? json_string(s->key_name) : json_null(), "config_drive",
            s->config_drive ? "True" : "", "OS-SRV-USG:launched_at",
            time_or_null(req, s->launched_us), "OS-SRV-USG:terminated_at",
            time_or_null(req, s->terminated_us), "OS-EXT-STS:vm_state", s->vm_state,
            "OS-EXT-STS:task_state", s->task_state ? json_string(s->task_state) : json_null(),
            "OS-EXT-STS:power_state", (json_int_t)s->power_state,
            "os-extended-volumes:volumes_attached");
        json_object_update(v, x);
        json_decref(x);
    }
    if (admin && !basic) {
        json_object_set_new(v, "OS-EXT-SRV-ATTR:host", s->host ? json_string(s->host)
                                                                : json_null());
        json_object_set_new(v, "OS-EXT-SRV-ATTR:hypervisor_hostname",
                            s->host ? json_string(s->host) : json_null());
        json_object_set_new(v, "OS-EXT-SRV-ATTR:instance_name",
                            json_string(cmp__instance_name(req, s)));
    }
    if (cmp__mv(req, 2, 3) && admin && !basic) {
        json_object_set_new(v, "OS-EXT-SRV-ATTR:reservation_id",
                            json_string(s->reservation_id));
        json_object_set_new(v, "OS-EXT-SRV-ATTR:launch_index",
                            json_integer(s->launch_index));
        json_object_set_new(v, "OS-EXT-SRV-ATTR:kernel_id", json_string(""));
        json_object_set_new(v, "OS-EXT-SRV-ATTR:ramdisk_id", json_string(""));
        json_object_set_new(v, "OS-EXT-SRV-ATTR:root_device_name", json_string("/dev/vda"));
        json_object_set_new(v, "OS-EXT-SRV-ATTR:user_data",
                            s->user_data ? json_string(s->user_data) : json_null());
    }
    if (!basic && ((cmp__mv(req, 2, 3) && admin) || cmp__mv(req, 2, 90)))
        json_object_set_new(v, "OS-EXT-SRV-ATTR:hostname", json_string(s->hostname));
    if (cmp__mv(req, 2, 9))
        json_object_set_new(v, "locked", json_boolean(s->locked));
    if (cmp__mv(req, 2, 16) && admin && !basic)
        json_object_set_new(v, "host_status", json_string(s->host ? "UP" : ""));
    if (cmp__mv(req, 2, 19))
        json_object_set_new(v, "description", s->description ? json_string(s->description)
                                                             : json_null());
    if (cmp__mv(req, 2, 26))
        json_object_set_new(v, "tags", tags ? json_incref(tags) : json_array());
    if (cmp__mv(req, 2, 63))
        json_object_set_new(v, "trusted_image_certificates", json_null());
    if (cmp__mv(req, 2, 71) && mode != CMP_VIEW_LIST)
        json_object_set_new(v, "server_groups",
                            s->group_id ? json_pack("[s]", s->group_id) : json_array());
    if (cmp__mv(req, 2, 73))
        json_object_set_new(v, "locked_reason", s->locked_reason ? json_string(s->locked_reason)
                                                                 : json_null());
    return v;
}
