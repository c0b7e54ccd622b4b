/* api_limits.c - GET /limits (Nova's absolute limits, shaped per
 * microversion) and the availability zones (/os-availability-zone). The
 * limits are Nova's default quotas until os-quota-sets can change them;
 * the usage counts are 0 until servers exist. */
#include "compute_int.h"
#include "cp_db.h"
#include "srv_db.h"
#include "core/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nova's default quota of each counted resource (nova.conf [quota]), and
 * the microversion from which a resource is no longer shown (0: never). */
static const struct {
    const char *resource;
    int64_t value;
    int removed;
} quota_defaults[] = {
    {"instances", 10, 0}, {"cores", 20, 0}, {"ram", 51200, 0}, {"metadata_items", 128, 0},
    {"key_pairs", CMP_QUOTA_KEYPAIRS, 0}, {"server_groups", 10, 0},
    {"server_group_members", 10, 0}, {"floating_ips", 10, MV(2, 36)},
    {"fixed_ips", -1, MV(2, 36)}, {"security_groups", 10, MV(2, 36)},
    {"security_group_rules", 20, MV(2, 36)}, {"injected_files", 5, MV(2, 57)},
    {"injected_file_content_bytes", 10240, MV(2, 57)},
    {"injected_file_path_bytes", 255, MV(2, 57)},
};
#define NQUOTA (sizeof(quota_defaults) / sizeof(quota_defaults[0]))

int64_t
cmp__quota_limit(struct http_req *req, const char *project_id, const char *resource)
{
    struct db_res *r;
    if (req->db && db_exec(req->db, req->arena, &r, "SELECT hard_limit FROM cmp_quota WHERE "
                           "project_id = ? AND resource = ?", "ss", project_id,
                           resource) == DB_OK && r->nrows)
        return db_int(r, 0, 0);
    for (size_t i = 0; i < NQUOTA; i++)
        if (!strcmp(quota_defaults[i].resource, resource))
            return quota_defaults[i].value;
    return -1;
}

/* What a project uses of a counted resource (servers and their flavors
 * are counted live, as Nova's DB-counting quota driver does). */
static int64_t
in_use(struct http_req *req, const char *project_id, const char *resource)
{
    int64_t i = 0, c = 0, r = 0, k = 0;
    if (!strcmp(resource, "key_pairs")) {
        cmp_db_keypair_count(req->db, req->arena, req->auth.user_id, &k);
        return k;
    }
    if (srv_db_usage(req->db, req->arena, project_id, &i, &c, &r) != DB_OK)
        return 0;
    return !strcmp(resource, "instances") ? i : !strcmp(resource, "cores") ? c
           : !strcmp(resource, "ram") ? r : 0;
}

/* Absolute limits of /limits: quota and use of the caller's project. */
static const struct {
    const char *name, *resource;
    bool used;
    int removed;
} limits[] = {
    {"maxTotalInstances", "instances", false, 0},   {"maxTotalCores", "cores", false, 0},
    {"maxTotalRAMSize", "ram", false, 0},           {"maxServerMeta", "metadata_items", false, 0},
    {"maxImageMeta", "metadata_items", false, MV(2, 39)},
    {"maxPersonality", "injected_files", false, MV(2, 57)},
    {"maxPersonalitySize", "injected_file_content_bytes", false, MV(2, 57)},
    {"maxTotalKeypairs", "key_pairs", false, 0},
    {"maxServerGroups", "server_groups", false, 0},
    {"maxServerGroupMembers", "server_group_members", false, 0},
    {"maxTotalFloatingIps", "floating_ips", false, MV(2, 36)},
    {"maxSecurityGroups", "security_groups", false, MV(2, 36)},
    {"maxSecurityGroupRules", "security_group_rules", false, MV(2, 36)},
    {"totalInstancesUsed", "instances", true, 0},   {"totalCoresUsed", "cores", true, 0},
    {"totalRAMUsed", "ram", true, 0},               {"totalServerGroupsUsed", "", true, 0},
    {"totalFloatingIpsUsed", "", true, MV(2, 36)},
    {"totalSecurityGroupsUsed", "", true, MV(2, 36)},
};

int
cmp__limits(struct http_req *req)
{
    const char *p = req->auth.project_id;
    if (cmp__policy(req, "os_compute_api:limits", NULL, p) < 0 || !cmp__db(req))
        return -1;
    /* an admin may look at another project's (Nova's tenant_id) */
    if (http_query(req, "tenant_id") && cmp__admin(req))
        p = http_query(req, "tenant_id");
    json_t *abs = json_object();
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        if (!limits[i].removed || req->microversion < limits[i].removed)
            json_object_set_new(abs, limits[i].name,
                                json_integer(limits[i].used
                                                 ? in_use(req, p, limits[i].resource)
                                                 : cmp__quota_limit(req, p,
                                                                    limits[i].resource)));
    return http_reply_json(req, 200, json_pack("{s:{s:[],s:o}}", "limits", "rate", "absolute",
                                               abs));
}

/* ---- os-quota-sets ---- */

static bool
shown(struct http_req *req, size_t i)
{
    return !quota_defaults[i].removed || req->microversion < quota_defaults[i].removed;
}

/* The quota set of project (defaults only: its defaults; detail: limit,
 * in_use and reserved of each). */
static json_t *
quota_set(struct http_req *req, const char *project, bool defaults, bool detail)
{
    json_t *q = json_object();
    for (size_t i = 0; i < NQUOTA; i++) {
        if (!shown(req, i))
            continue;
        const char *res = quota_defaults[i].resource;
        int64_t lim = defaults ? quota_defaults[i].value : cmp__quota_limit(req, project, res);
        json_object_set_new(q, res, detail ? json_pack("{s:I,s:I,s:i}", "limit",
                                                       (json_int_t)lim, "in_use",
                                                       (json_int_t)in_use(req, project, res),
                                                       "reserved", 0)
                                           : json_integer(lim));
    }
    return q;
}

static int
quota_show_any(struct http_req *req, bool defaults, bool detail)
{
    const char *project = http_param(req, "project_id");
    if (cmp__policy(req, defaults ? "os_compute_api:os-quota-sets:defaults"
                    : detail ? "os_compute_api:os-quota-sets:detail"
                             : "os_compute_api:os-quota-sets:show",
                    NULL, project) < 0 || !cmp__db(req))
        return -1;
    json_t *q = quota_set(req, project, defaults, detail);
    json_object_set_new(q, "id", json_string(project));
    return http_reply_json(req, 200, json_pack("{s:o}", "quota_set", q));
}

int
cmp__quota_show(struct http_req *req)
{
    return quota_show_any(req, false, false);
}

int
cmp__quota_defaults(struct http_req *req)
{
    return quota_show_any(req, true, false);
}

int
cmp__quota_detail(struct http_req *req)
{
    return quota_show_any(req, false, true);
}

int
cmp__quota_update(struct http_req *req)
{
    const char *project = http_param(req, "project_id"), *k;
    json_t *body = cmp__body(req), *v;
    if (!body || cmp__policy(req, "os_compute_api:os-quota-sets:update", NULL, project) < 0 ||
        !cmp__db(req))
        return -1;
    json_t *q = json_object_get(body, "quota_set");
    if (!json_is_object(q))
        return req_fail(req, 400, "Invalid input for field/attribute quota_set. Value: %s. "
                        "'quota_set' is a required property", cmp__repr(req, body));
    bool force = json_is_true(json_object_get(q, "force")) ||
                 (json_is_string(json_object_get(q, "force")) &&
                  !strcasecmp(json_string_value(json_object_get(q, "force")), "true"));
    /* everything is checked before anything is written */
    json_object_foreach(q, k, v) {
        if (!strcmp(k, "force"))
            continue;
        size_t i;
        for (i = 0; i < NQUOTA && strcmp(quota_defaults[i].resource, k); i++)
            ;
        if (i == NQUOTA || !shown(req, i))
            return req_fail(req, 400, "Invalid input for field/attribute quota_set. Value: "
                            "%s. Additional properties are not allowed ('%s' was "
                            "unexpected)", cmp__repr(req, q), k);
        int64_t n = json_is_integer(v) ? json_integer_value(v) : -2;
        if (json_is_string(v)) {
            char *end;
            n = strtoll(json_string_value(v), &end, 10);
            if (!*json_string_value(v) || *end)
                n = -2;
        }
        if (n < -1)
            return cmp__invalid(req, k, v, "is less than the minimum of -1");
        int64_t used = in_use(req, project, k);
        if (!force && n >= 0 && n < used)
            return req_fail(req, 400, "Quota limit %lld for %s must be greater than or equal "
                            "to already used and reserved %lld.", (long long)n, k,
                            (long long)used);
    }
    int rc = db_begin(req->db);
    json_object_foreach(q, k, v) {
        if (rc || !strcmp(k, "force"))
            continue;
        int64_t n = json_is_integer(v) ? json_integer_value(v)
                                       : strtoll(json_string_value(v), NULL, 10);
        rc = db_exec(req->db, NULL, NULL, "INSERT INTO cmp_quota (project_id, resource, "
                     "hard_limit) VALUES (?, ?, ?) ON CONFLICT (project_id, resource) DO "
                     "UPDATE SET hard_limit = excluded.hard_limit", "ssi", project, k, n);
    }
    if ((rc = db_end(req->db, rc)))
        return cmp__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "quota_set",
                                               quota_set(req, project, false, false)));
}

int
cmp__quota_delete(struct http_req *req)
{
    const char *project = http_param(req, "project_id");
    if (cmp__policy(req, "os_compute_api:os-quota-sets:delete", NULL, project) < 0 ||
        !cmp__db(req))
        return -1;
    int rc = db_exec(req->db, NULL, NULL, "DELETE FROM cmp_quota WHERE project_id = ?", "s",
                     project);
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 202);
}

/* The one zone this cloud has: every host is in Nova's default zone. */
int
cmp__az_list(struct http_req *req)
{
    if (cmp__policy(req, "os_compute_api:os-availability-zone:list", NULL, NULL) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:[{s:s,s:{s:b},s:n}]}",
                                               "availabilityZoneInfo", "zoneName", "nova",
                                               "zoneState", "available", 1, "hosts"));
}

/* The zone with its hosts; no compute host reports yet, so none. */
int
cmp__az_detail(struct http_req *req)
{
    if (cmp__policy(req, "os_compute_api:os-availability-zone:detail", NULL, NULL) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:[{s:s,s:{s:b},s:{}}]}",
                                               "availabilityZoneInfo", "zoneName", "nova",
                                               "zoneState", "available", 1, "hosts"));
}
