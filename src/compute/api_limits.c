/* api_limits.c - GET /limits (Nova's absolute limits, shaped per
 * microversion) and the availability zones (/os-availability-zone). The
 * limits are Nova's default quotas until os-quota-sets can change them;
 * the usage counts are 0 until servers exist. */
#include "compute_int.h"
#include "cp_db.h"
#include "core/arena.h"

#include <stdio.h>
#include <string.h>

/* Nova's default quotas (nova.conf [quota]) */
static const struct {
    const char *name;
    int value;
    int removed;    /* gone from this microversion on, 0: never */
} limits[] = {
    {"maxTotalInstances", 10, 0},         {"maxTotalCores", 20, 0},
    {"maxTotalRAMSize", 51200, 0},        {"maxServerMeta", 128, 0},
    {"maxImageMeta", 128, MV(2, 39)},     {"maxPersonality", 5, MV(2, 57)},
    {"maxPersonalitySize", 10240, MV(2, 57)},
    {"maxTotalKeypairs", CMP_QUOTA_KEYPAIRS, 0},
    {"maxServerGroups", 10, 0},           {"maxServerGroupMembers", 10, 0},
    {"maxTotalFloatingIps", 10, MV(2, 36)},
    {"maxSecurityGroups", 10, MV(2, 36)}, {"maxSecurityGroupRules", 20, MV(2, 36)},
    {"totalInstancesUsed", 0, 0},         {"totalCoresUsed", 0, 0},
    {"totalRAMUsed", 0, 0},               {"totalServerGroupsUsed", 0, 0},
    {"totalFloatingIpsUsed", 0, MV(2, 36)},
    {"totalSecurityGroupsUsed", 0, MV(2, 36)},
};

/* Nova's default quota of each counted resource (nova.conf [quota]). */
static const struct {
    const char *resource;
    int64_t value;
} quota_defaults[] = {
    {"instances", 10}, {"cores", 20}, {"ram", 51200}, {"metadata_items", 128},
    {"key_pairs", CMP_QUOTA_KEYPAIRS}, {"server_groups", 10}, {"server_group_members", 10},
    {"injected_files", 5}, {"injected_file_content_bytes", 10240},
    {"injected_file_path_bytes", 255},
};

int64_t
cmp__quota_limit(struct http_req *req, const char *project_id, const char *resource)
{
    struct db_res *r;
    if (req->db && db_exec(req->db, req->arena, &r, "SELECT hard_limit FROM cmp_quota WHERE "
                           "project_id = ? AND resource = ?", "ss", project_id,
                           resource) == DB_OK && r->nrows)
        return db_int(r, 0, 0);
    for (size_t i = 0; i < sizeof(quota_defaults) / sizeof(quota_defaults[0]); i++)
        if (!strcmp(quota_defaults[i].resource, resource))
            return quota_defaults[i].value;
    return -1;
}

int
cmp__limits(struct http_req *req)
{
    if (cmp__policy(req, "os_compute_api:limits", NULL, req->auth.project_id) < 0)
        return -1;
    json_t *abs = json_object();
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        if (!limits[i].removed || req->microversion < limits[i].removed)
            json_object_set_new(abs, limits[i].name, json_integer(limits[i].value));
    return http_reply_json(req, 200, json_pack("{s:{s:[],s:o}}", "limits", "rate", "absolute",
                                               abs));
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
