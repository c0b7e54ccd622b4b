/* api_hosts.c - the compute hosts as their agents registered them
 * (table cmp_host): os-services (nova-compute per host, with enable /
 * disable / forced_down, which the scheduler obeys) and os-hypervisors
 * (capacity and use, per microversion). Admin only, as in Nova. */
#include "compute_int.h"
#include "core/arena.h"
#include "core/db.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UP_WINDOW_US (60LL * 1000000)   /* Nova's service_down_time */

#define HCOLS "h.name, h.id, h.rp_uuid, h.hypervisor_type, h.vcpus, h.memory_mb, h.disk_gb, " \
    "h.disabled, h.disabled_reason, h.forced_down, h.updated_at, " \
    "(SELECT COUNT(*) FROM cmp_server s WHERE s.host = h.name AND s.deleted = 0), " \
    "(SELECT COALESCE(SUM(vcpus), 0) FROM cmp_server s WHERE s.host = h.name AND " \
    "s.deleted = 0), (SELECT COALESCE(SUM(ram), 0) FROM cmp_server s WHERE s.host = h.name " \
    "AND s.deleted = 0), (SELECT COALESCE(SUM(disk + ephemeral), 0) FROM cmp_server s " \
    "WHERE s.host = h.name AND s.deleted = 0)"

enum { H_NAME, H_ID, H_UUID, H_TYPE, H_VCPUS, H_MEM, H_DISK, H_DISABLED, H_REASON, H_FORCED,
       H_UPDATED, H_VMS, H_VCPUS_USED, H_MEM_USED, H_DISK_USED };

static int
hosts(struct http_req *req, const char *where_col, const char *val, struct db_res **r)
{
    if (!cmp__db(req))
        return -1;
    int rc = where_col
        ? db_exec(req->db, req->arena, r, arena_printf(req->arena, "SELECT " HCOLS " FROM "
                  "cmp_host h WHERE h.%s = ? ORDER BY h.id", where_col), "s", val)
        : db_exec(req->db, req->arena, r, "SELECT " HCOLS " FROM cmp_host h ORDER BY h.id", "");
    return rc ? cmp__db_fail(req, rc) : 0;
}

static bool
is_up(const struct db_res *r, int i)
{
    return !db_bool(r, i, H_FORCED) && now_us() - db_int(r, i, H_UPDATED) < UP_WINDOW_US;
}

/* ---- os-services ---- */

static json_t *
service_json(struct http_req *req, const struct db_res *r, int i)
{
    json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "binary", "nova-compute", "host",
                          db_val(r, i, H_NAME), "zone", "nova", "status",
                          db_bool(r, i, H_DISABLED) ? "disabled" : "enabled", "state",
                          is_up(r, i) ? "up" : "down", "updated_at",
                          cmp__time(req, db_int(r, i, H_UPDATED)), "disabled_reason",
                          db_val(r, i, H_REASON) ? json_string(db_val(r, i, H_REASON))
                                                 : json_null());
    json_object_set_new(s, "id", cmp__mv(req, 2, 53) ? json_string(db_val(r, i, H_UUID))
                                                     : json_integer(db_int(r, i, H_ID)));
    if (cmp__mv(req, 2, 11))
        json_object_set_new(s, "forced_down", json_boolean(db_bool(r, i, H_FORCED)));
    return s;
}

int
cmp__services_list(struct http_req *req)
{
    struct db_res *r;
    const char *binary = http_query(req, "binary");
    if (cmp__policy(req, "os_compute_api:os-services:list", NULL, NULL) < 0 ||
        hosts(req, http_query(req, "host") ? "name" : NULL, http_query(req, "host"), &r) < 0)
        return -1;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows && (!binary || !strcmp(binary, "nova-compute")); i++)
        json_array_append_new(arr, service_json(req, r, i));
    return http_reply_json(req, 200, json_pack("{s:o}", "services", arr));
}

/* Sets disabled / forced_down of host (name) and answers as Nova does. */
static int
set_service(struct http_req *req, const char *name, int disabled, const char *reason,
            int forced, bool legacy)
{
    int rc = db_exec(req->db, NULL, NULL, "UPDATE cmp_host SET "
                     "disabled = CASE WHEN ? >= 0 THEN ? ELSE disabled END, "
                     "disabled_reason = CASE WHEN ? = 1 THEN ? WHEN ? = 0 THEN NULL ELSE "
                     "disabled_reason END, "
                     "forced_down = CASE WHEN ? >= 0 THEN ? ELSE forced_down END WHERE name = ?",
                     "iiisiiis", (int64_t)disabled, (int64_t)disabled, (int64_t)disabled, reason,
                     (int64_t)disabled, (int64_t)forced, (int64_t)forced, name);
    struct db_res *r;
    if (rc)
        return cmp__db_fail(req, rc);
    if (hosts(req, "name", name, &r) < 0)
        return -1;
    if (!r->nrows)
        return req_fail(req, 404, "Compute host %s could not be found.", name);
    if (legacy) {
        json_t *s = json_pack("{s:s,s:s,s:s}", "host", name, "binary", "nova-compute",
                              "status", db_bool(r, 0, H_DISABLED) ? "disabled" : "enabled");
        if (reason && disabled == 1)
            json_object_set_new(s, "disabled_reason", json_string(reason));
        return http_reply_json(req, 200, json_pack("{s:o}", "service", s));
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "service", service_json(req, r, 0)));
}

int
cmp__service_update(struct http_req *req)
{
    const char *id = http_param(req, "service_id");
    json_t *body = cmp__body(req), *v;
    struct db_res *r;
    if (!body || cmp__policy(req, "os_compute_api:os-services:update", NULL, NULL) < 0 ||
        !cmp__db(req))
        return -1;
    /* before 2.53: PUT /os-services/{disable,enable,disable-log-reason,force-down} */
    if (!cmp__mv(req, 2, 53)) {
        const char *host = json_string_value(json_object_get(body, "host"));
        if (!host || !json_object_get(body, "binary"))
            return req_fail(req, 400, "Invalid input for field/attribute host/binary.");
        if (!strcmp(id, "disable"))
            return set_service(req, host, 1, NULL, -1, true);
        if (!strcmp(id, "enable"))
            return set_service(req, host, 0, NULL, -1, true);
        if (!strcmp(id, "disable-log-reason"))
            return set_service(req, host, 1,
                               json_string_value(json_object_get(body, "disabled_reason")), -1,
                               true);
        if (!strcmp(id, "force-down") && cmp__mv(req, 2, 11))
            return set_service(req, host, -1, NULL,
                               json_is_true(json_object_get(body, "forced_down")), true);
        return req_fail(req, 404, "Unknown action");
    }
    if (hosts(req, "rp_uuid", id, &r) < 0)
        return -1;
    if (!r->nrows)
        return req_fail(req, 404, "Service %s could not be found.", id);
    int disabled = -1, forced = -1;
    const char *reason = NULL;
    if ((v = json_object_get(body, "status"))) {
        const char *st = json_string_value(v);
        if (!st || (strcmp(st, "enabled") && strcmp(st, "disabled")))
            return cmp__invalid(req, "status", v, "is not one of ['enabled', 'disabled']");
        disabled = !strcmp(st, "disabled");
    }
    if ((v = json_object_get(body, "disabled_reason"))) {
        if (disabled != 1)
            return req_fail(req, 400, "Specifying 'disabled_reason' with status 'enabled' is "
                                      "invalid.");
        reason = json_string_value(v);
    }
    if ((v = json_object_get(body, "forced_down"))) {
        if (!json_is_boolean(v))
            return cmp__invalid(req, "forced_down", v, "is not of type 'boolean'");
        forced = json_is_true(v);
    }
    if (disabled < 0 && forced < 0)
        return req_fail(req, 400, "No updates were requested. Fields 'status' or "
                                  "'forced_down' should be specified.");
    return set_service(req, db_val(r, 0, H_NAME), disabled, reason, forced, false);
}

/* ---- os-hypervisors ---- */

static json_t *
hypervisor_json(struct http_req *req, const struct db_res *r, int i, bool detail)
{
    json_t *h = json_pack("{s:s,s:s,s:s}", "hypervisor_hostname", db_val(r, i, H_NAME),
                          "state", is_up(r, i) ? "up" : "down", "status",
                          db_bool(r, i, H_DISABLED) ? "disabled" : "enabled");
    json_object_set_new(h, "id", cmp__mv(req, 2, 53) ? json_string(db_val(r, i, H_UUID))
                                                     : json_integer(db_int(r, i, H_ID)));
    if (!detail)
        return h;
    json_object_set_new(h, "hypervisor_type", json_string(db_val(r, i, H_TYPE)));
    json_object_set_new(h, "hypervisor_version", json_integer(7002000));
    json_object_set_new(h, "host_ip", json_string("127.0.0.1"));
    json_object_set_new(h, "service", json_pack(
        "{s:s,s:o,s:o}", "host", db_val(r, i, H_NAME), "id",
        cmp__mv(req, 2, 53) ? json_string(db_val(r, i, H_UUID))
                            : json_integer(db_int(r, i, H_ID)),
        "disabled_reason", db_val(r, i, H_REASON) ? json_string(db_val(r, i, H_REASON))
                                                  : json_null()));
    if (cmp__mv(req, 2, 88))
        return h;   /* the usage figures moved to Placement */
    int64_t vcpus = db_int(r, i, H_VCPUS), mem = db_int(r, i, H_MEM),
            disk = db_int(r, i, H_DISK), mu = db_int(r, i, H_MEM_USED),
            du = db_int(r, i, H_DISK_USED);
    json_t *x = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:I,s:I,s:s}", "vcpus",
                          (json_int_t)vcpus, "memory_mb", (json_int_t)mem, "local_gb",
                          (json_int_t)disk, "vcpus_used",
                          (json_int_t)db_int(r, i, H_VCPUS_USED), "memory_mb_used",
                          (json_int_t)mu, "local_gb_used", (json_int_t)du, "free_ram_mb",
                          (json_int_t)(mem - mu), "free_disk_gb", (json_int_t)(disk - du),
                          "current_workload", 0, "running_vms",
                          (json_int_t)db_int(r, i, H_VMS), "disk_available_least",
                          (json_int_t)(disk - du), "cpu_info", "{}");
    json_object_update(h, x);
    json_decref(x);
    return h;
}

static int
hv_list(struct http_req *req, bool detail)
{
    struct db_res *r;
    if (cmp__policy(req, detail ? "os_compute_api:os-hypervisors:detail"
                                : "os_compute_api:os-hypervisors:list", NULL, NULL) < 0 ||
        hosts(req, NULL, NULL, &r) < 0)
        return -1;
    const char *match = http_query(req, "hypervisor_hostname_pattern");
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        if (!match || strstr(db_val(r, i, H_NAME), match))
            json_array_append_new(arr, hypervisor_json(req, r, i, detail));
    return http_reply_json(req, 200, json_pack("{s:o}", "hypervisors", arr));
}

int
cmp__hypervisors_list(struct http_req *req)
{
    return hv_list(req, false);
}

int
cmp__hypervisors_detail(struct http_req *req)
{
    return hv_list(req, true);
}

int
cmp__hypervisor_show(struct http_req *req)
{
    struct db_res *r;
    const char *id = http_param(req, "hypervisor_id");
    if (cmp__policy(req, "os_compute_api:os-hypervisors:show", NULL, NULL) < 0 ||
        hosts(req, cmp__mv(req, 2, 53) ? "rp_uuid" : "id", id, &r) < 0)
        return -1;
    if (!r->nrows)
        return req_fail(req, 404, "Hypervisor with ID %s could not be found.", id);
    return http_reply_json(req, 200, json_pack("{s:o}", "hypervisor",
                                               hypervisor_json(req, r, 0, true)));
}

int
cmp__hypervisor_stats(struct http_req *req)
{
    struct db_res *r;
    if (cmp__mv(req, 2, 88))
        return req_fail(req, 404, "The resource could not be found.");
    if (cmp__policy(req, "os_compute_api:os-hypervisors:statistics", NULL, NULL) < 0 ||
        hosts(req, NULL, NULL, &r) < 0)
        return -1;
    static const int cols[] = {H_VCPUS, H_MEM, H_DISK, H_VCPUS_USED, H_MEM_USED, H_DISK_USED,
                               H_VMS};
    int64_t sum[7] = {0};
    for (int i = 0; i < r->nrows; i++)
        for (int c = 0; c < 7; c++)
            sum[c] += db_int(r, i, cols[c]);
    return http_reply_json(req, 200, json_pack(
        "{s:{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:I,s:I}}", "hypervisor_statistics",
        "count", r->nrows, "vcpus", (json_int_t)sum[0], "memory_mb", (json_int_t)sum[1],
        "local_gb", (json_int_t)sum[2], "vcpus_used", (json_int_t)sum[3], "memory_mb_used",
        (json_int_t)sum[4], "local_gb_used", (json_int_t)sum[5], "free_ram_mb",
        (json_int_t)(sum[1] - sum[4]), "free_disk_gb", (json_int_t)(sum[2] - sum[5]),
        "current_workload", 0, "running_vms", (json_int_t)sum[6], "disk_available_least",
        (json_int_t)(sum[2] - sum[5])));
}
