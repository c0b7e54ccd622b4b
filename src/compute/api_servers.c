/* api_servers.c - /servers: create (validated as Nova's schema does, quota
 * checked in the same transaction as the insert), list and detail with
 * Nova's filters, sorting and paging, show, update and delete. Creating or
 * deleting only records what is wanted and wakes the scheduler and the
 * host agent (hostapi.h); the answer is 202 / 204 at once, as Nova's. */
#include "compute_int.h"
#include "cp_db.h"
#include "hostapi.h"
#include "srv_db.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"
#include "network/network.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define MAX_META 128            /* Nova's metadata_items quota */
#define MAX_TAGS 50             /* nova.objects.instance MAX_TAG_COUNT */
#define MAX_USER_DATA 65535

int
cmp__server_find(struct http_req *req, struct cmp_server *s)
{
    const char *id = http_param(req, "server_id");
    if (!cmp__db(req))
        return -1;
    int rc = srv_db_get(req->db, req->arena, id, false, s);
    if (rc == 0 && !cmp__admin(req) &&
        (!req->auth.project_id || strcmp(s->project_id, req->auth.project_id)))
        rc = -ENOENT;
    if (rc == -ENOENT)
        return req_fail(req, 404, "Instance %s could not be found.", id);
    return rc ? cmp__db_fail(req, rc) : 0;
}

void
cmp__action(struct http_req *req, const char *id, const char *action)
{
    int rc = srv_db_action_start(req->db, id, req->request_id, action, req->auth.project_id,
                                 req->auth.user_id);
    if (rc)
        log_warn(req->request_id, "compute: cannot record action %s of %s: %s", action, id,
                 db_errmsg(req->db));
}

/* Metadata (or tags) of the servers of a listing, keyed by server id:
 * one query for the listing's project, not one per server. */
static json_t *
meta_map(struct http_req *req, const char *project_id, bool tags)
{
    json_t *m = json_object();
    struct db_res *r;
    arena_on_release(req->arena, (void (*)(void *))json_decref, m);
    if (srv_db_meta_all(req->db, req->arena, project_id, tags, &r) != DB_OK)
        return m;
    for (int j = 0; j < r->nrows; j++) {
        const char *id = db_val(r, j, 0);
        json_t *v = json_object_get(m, id);
        if (!v) {
            v = tags ? json_array() : json_object();
            json_object_set_new(m, id, v);
        }
        if (tags)
            json_array_append_new(v, json_string(db_val(r, j, 1)));
        else
            json_object_set_new(v, db_val(r, j, 1), json_string(db_val(r, j, 2)));
    }
    return m;
}

/* ---- listing ---- */

static int
split_tags(struct http_req *req, const char *q, const char *const **out, int *n)
{
    const char *v = http_query(req, q);
    *n = 0;
    if (!v)
        return 0;
    const char **l = arena_alloc(req->arena, sizeof(*l) * (strlen(v) / 2 + 2));
    char *dup = arena_strdup(req->arena, v), *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
        l[(*n)++] = t;
    *out = l;
    return 0;
}

static int
time_filter(struct http_req *req, const char *name, int64_t *out)
{
    const char *v = http_query(req, name);
    if (v && time_parse_iso(v, out) < 0)
        return req_fail(req, 400, "Invalid input for query parameters %s. Value: %s. '%s' is "
                        "not a 'date-time'", name, v, v);
    return 0;
}

/* Nova shows a server's groups (by name) when its ports have any. */
static void
set_groups(json_t *view, json_t *groups, const char *id)
{
    json_t *g = json_object_get(groups, id);
    if (g)
        json_object_set(view, "security_groups", g);
}

/* Nova's ip / ip6 filters: a regular expression searched for in each
 * address of a server (of that version), over the addresses the network
 * service knows; the servers kept go into f->ids. */
static int
ip_filter(struct http_req *req, struct srv_filter *f)
{
    const char *ip = http_query(req, "ip"), *ip6 = http_query(req, "ip6");
    if (!ip && !ip6)
        return 0;
    regex_t re4, re6;
    if (ip && regcomp(&re4, ip, REG_EXTENDED | REG_NOSUB))
        return req_fail(req, 400, "Invalid input for query parameters ip. Value: %s.", ip);
    if (ip6 && regcomp(&re6, ip6, REG_EXTENDED | REG_NOSUB)) {
        if (ip)
            regfree(&re4);
        return req_fail(req, 400, "Invalid input for query parameters ip6. Value: %s.", ip6);
    }
    json_t *all = net_server_addresses(req->db, req->arena, f->project_id, NULL), *nets;
    const char **ids = arena_alloc(req->arena, sizeof(*ids) * (json_object_size(all) + 1));
    int n = 0;
    const char *sid;
    json_object_foreach(all, sid, nets) {
        bool hit = false;
        const char *name;
        json_t *l, *a;
        size_t i;
        json_object_foreach(nets, name, l) json_array_foreach(l, i, a) {
            const char *addr = json_string_value(json_object_get(a, "addr"));
            int v = (int)json_integer_value(json_object_get(a, "version"));
            if (addr && ((ip && v == 4 && !regexec(&re4, addr, 0, NULL, 0)) ||
                         (ip6 && v == 6 && !regexec(&re6, addr, 0, NULL, 0))))
                hit = true;
        }
        if (hit)
            ids[n++] = arena_strdup(req->arena, sid);
    }
    json_decref(all);
    if (ip)
        regfree(&re4);
    if (ip6)
        regfree(&re6);
    f->ids = ids;
    f->nids = n;
    f->ip_filter = true;
    return 0;
}

/* Nova's vm_state for a status filter ("ACTIVE" -> active), NULL when it
 * names none, "" for a status that can never match. */
static const char *
status_to_vm(const char *status)
{
    static const char *const m[][2] = {
        {"ACTIVE", "active"}, {"BUILD", "building"}, {"SHUTOFF", "stopped"},
        {"VERIFY_RESIZE", "resized"}, {"PAUSED", "paused"}, {"SUSPENDED", "suspended"},
        {"RESCUE", "rescued"}, {"ERROR", "error"}, {"DELETED", "deleted"},
        {"SOFT_DELETED", "soft-delete"}, {"SHELVED", "shelved"},
        {"SHELVED_OFFLOADED", "shelved_offloaded"},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (!strcasecmp(m[i][0], status))
            return m[i][1];
    return NULL;
}

static int
list(struct http_req *req, bool detail)
{
    if (cmp__policy(req, detail ? "os_compute_api:servers:detail"
                                : "os_compute_api:servers:index", NULL,
                    req->auth.project_id) < 0 || !cmp__db(req))
        return -1;
    bool admin = cmp__admin(req);
    struct srv_filter f = {.locked = -1, .deleted = -1};
    const char *all = http_query(req, "all_tenants");
    f.project_id = req->auth.project_id;
    if (admin && all && strcasecmp(all, "false") && strcasecmp(all, "0"))
        f.project_id = http_query(req, "project_id") ? http_query(req, "project_id")
                                                    : http_query(req, "tenant_id");
    else if (admin && http_query(req, "project_id"))
        f.project_id = http_query(req, "project_id");
    f.name_re_like = http_query(req, "name");
    f.image_id = http_query(req, "image");
    f.flavor_id = http_query(req, "flavor");
    f.reservation_id = http_query(req, "reservation_id");
    f.key_name = admin ? http_query(req, "key_name") : NULL;
    f.az = http_query(req, "availability_zone");
    if (admin) {
        f.host = http_query(req, "host") ? http_query(req, "host") : http_query(req, "node");
        f.user_id = http_query(req, "user_id");
        f.task_state = http_query(req, "task_state");
    }
    if (ip_filter(req, &f) < 0)
        return -1;
    const char *status = http_query(req, "status");
    if (status) {
        f.vm_state = status_to_vm(status);
        if (!f.vm_state) /* Nova answers an unknown status with nothing */
            return http_reply_json(req, 200, json_pack("{s:[]}", "servers"));
    }
    const char *locked = cmp__mv(req, 2, 73) ? http_query(req, "locked") : NULL;
    if (locked)
        f.locked = !strcasecmp(locked, "true") || !strcmp(locked, "1");
    if (time_filter(req, "changes-since", &f.changes_since_us) < 0 ||
        (cmp__mv(req, 2, 66) && time_filter(req, "changes-before", &f.changes_before_us) < 0))
        return -1;
    if (f.changes_since_us && f.changes_before_us && f.changes_since_us > f.changes_before_us)
        return req_fail(req, 400, "The value of changes-since must be less than or equal to "
                                  "changes-before.");
    f.with_deleted = f.changes_since_us || f.changes_before_us;
    const char *del = admin ? http_query(req, "deleted") : NULL;
    if (del)
        f.deleted = !strcasecmp(del, "true") || !strcmp(del, "1");
    if (cmp__mv(req, 2, 26)) {
        split_tags(req, "tags", &f.tags_all, &f.ntags_all);
        split_tags(req, "tags-any", &f.tags_any, &f.ntags_any);
        split_tags(req, "not-tags", &f.not_tags_all, &f.nnot_tags_all);
        split_tags(req, "not-tags-any", &f.not_tags_any, &f.nnot_tags_any);
    }
    /* sort_key / sort_dir pairs, as many as given (Nova pairs them up) */
    const char *keys = http_query(req, "sort_key"), *dirs = http_query(req, "sort_dir");
    if (keys) {
        char *k = arena_strdup(req->arena, keys), *ks = NULL;
        char *d = dirs ? arena_strdup(req->arena, dirs) : NULL, *ds = NULL;
        char *dir = d ? strtok_r(d, ",", &ds) : NULL;
        for (char *t = strtok_r(k, ",", &ks); t && f.nsort < 8; t = strtok_r(NULL, ",", &ks)) {
            const char *col = srv_db_sort_col(t);
            if (!col)
                return req_fail(req, 400, "Invalid input for query parameters sort_key. "
                                "Value: %s.", t);
            if (dir && strcmp(dir, "asc") && strcmp(dir, "desc"))
                return req_fail(req, 400, "Invalid input for query parameters sort_dir. "
                                "Value: %s.", dir);
            f.sort_keys[f.nsort] = col;
            f.sort_desc[f.nsort++] = !dir || !strcmp(dir, "desc");
            if (dir)
                dir = strtok_r(NULL, ",", &ds);
        }
    }
    if (cmp__limit(req, &f.limit) < 0)
        return -1;
    f.marker = http_query(req, "marker");
    struct cmp_server *s;
    int n = 0;
    int rc = srv_db_list(req->db, req->arena, &f, &s, &n);
    if (rc == -ENOENT)
        return req_fail(req, 400, "marker [%s] not found", f.marker);
    if (rc)
        return cmp__db_fail(req, rc);
    json_t *arr = json_array();
    json_t *meta = detail && n ? meta_map(req, f.project_id, false) : NULL;
    json_t *tags = detail && n && cmp__mv(req, 2, 26) ? meta_map(req, f.project_id, true)
                                                      : NULL;
    json_t *addrs = detail && n ? net_server_addresses(req->db, req->arena, f.project_id, NULL)
                                : NULL;
    json_t *groups = detail && n ? net_server_groups(req->db, req->arena, f.project_id, NULL)
                                 : NULL;
    for (int i = 0; i < n; i++) {
        json_t *v = detail ? cmp__server_view(req, &s[i], json_object_get(meta, s[i].id),
                                              json_object_get(tags, s[i].id),
                                              json_object_get(addrs, s[i].id), CMP_VIEW_LIST)
                           : cmp__server_brief(req, &s[i]);
        if (detail)
            set_groups(v, groups, s[i].id);
        json_array_append_new(arr, v);
    }
    json_decref(addrs);
    json_decref(groups);
    json_t *body = json_pack("{s:o}", "servers", arr);
    if (n && f.limit > 0 && n == f.limit) {
        const char *qs = arena_printf(req->arena, "%s/servers%s?limit=%lld&marker=%s",
                                      cmp__url(req), detail ? "/detail" : "",
                                      (long long)f.limit, s[n - 1].id);
        json_object_set_new(body, "servers_links",
                            json_pack("[{s:s,s:s}]", "rel", "next", "href", qs));
    }
    return http_reply_json(req, 200, body);
}

int
cmp__servers_list(struct http_req *req)
{
    return list(req, false);
}

int
cmp__servers_detail(struct http_req *req)
{
    return list(req, true);
}

/* ---- show ---- */

int
cmp__reply_server(struct http_req *req, int status, const struct cmp_server *s,
                  enum cmp_view mode, const char *admin_pass)
{
    struct db_res *r;
    json_t *meta = json_object(), *tags = json_array();
    if (srv_db_meta(req->db, req->arena, s->id, &r) == DB_OK)
        for (int j = 0; j < r->nrows; j++)
            json_object_set_new(meta, db_val(r, j, 0), json_string(db_val(r, j, 1)));
    if (srv_db_tags(req->db, req->arena, s->id, &r) == DB_OK)
        for (int j = 0; j < r->nrows; j++)
            json_array_append_new(tags, json_string(db_val(r, j, 0)));
    json_t *addrs = net_server_addresses(req->db, req->arena, NULL, s->id);
    json_t *v = cmp__server_view(req, s, meta, tags, json_object_get(addrs, s->id), mode);
    json_decref(meta);
    json_decref(tags);
    json_decref(addrs);
    if (mode != CMP_VIEW_BASIC) {
        json_t *groups = net_server_groups(req->db, req->arena, NULL, s->id);
        set_groups(v, groups, s->id);
        json_decref(groups);
    }
    if (admin_pass)
        json_object_set_new(v, "adminPass", json_string(admin_pass));
    return http_reply_json(req, status, json_pack("{s:o}", "server", v));
}

int
cmp__server_show(struct http_req *req)
{
    struct cmp_server s;
    if (cmp__server_find(req, &s) < 0 ||
        cmp__policy(req, "os_compute_api:servers:show", NULL, s.project_id) < 0)
        return -1;
    return cmp__reply_server(req, 200, &s, CMP_VIEW_SHOW, NULL);
}

/* ---- create ---- */

/* Nova's name rule: 1-255 characters, not only blanks and none leading
 * or trailing. */
static int
check_name(struct http_req *req, const char *field, json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!json_is_string(v))
        return cmp__invalid(req, field, v, arena_printf(req->arena, "%s is not of type "
                                                        "'string'", cmp__repr(req, v)));
    if (n == 0 || n > 255 || isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))
        return cmp__invalid(req, field, v, arena_printf(req->arena, "%s does not match the "
                                                        "name format", cmp__repr(req, v)));
    return 0;
}

const char *
cmp__flavor_ref(struct http_req *req, json_t *fref)
{
    const char *fid = json_is_string(fref) ? json_string_value(fref)
                      : json_is_integer(fref) ? arena_printf(req->arena, "%lld",
                                                             (long long)json_integer_value(fref))
                                              : NULL;
    if (!fid || !*fid) {
        cmp__invalid(req, "flavorRef", fref, "is not valid under any of the given schemas");
        return NULL;
    }
    const char *slash = strrchr(fid, '/');
    return slash ? slash + 1 : fid;
}

/* accessIPv4 / accessIPv6: checked and stored in canonical form (Nova
 * keeps what netaddr prints: "::babe:dc0c:1602"), into *out. */
static int
access_ip(struct http_req *req, const char *field, json_t *v, const char **out)
{
    bool v6 = field[9] == '6';
    unsigned char bin[16];
    char txt[INET6_ADDRSTRLEN];
    const char *s = json_string_value(v);
    if (!s || inet_pton(v6 ? AF_INET6 : AF_INET, s, bin) != 1)
        return cmp__invalid(req, field, v, arena_printf(req->arena, "%s is not a '%s'",
                                                        cmp__repr(req, v),
                                                        v6 ? "ipv6" : "ipv4"));
    inet_ntop(v6 ? AF_INET6 : AF_INET, bin, txt, sizeof(txt));
    *out = arena_strdup(req->arena, txt);
    return 0;
}

/* A RFC 1123 hostname from a display name, as Nova's sanitize_hostname. */
static const char *
hostname_of(struct http_req *req, const char *name)
{
    char *h = arena_alloc(req->arena, 64);
    size_t j = 0;
    for (const char *p = name; *p && j < 63; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (isalnum((unsigned char)c) || c == '-')
            h[j++] = c;
        else if ((c == ' ' || c == '_' || c == '.') && j && h[j - 1] != '-')
            h[j++] = '-';
    }
    while (j && h[j - 1] == '-')
        j--;
    h[j] = '\0';
    return *h ? h : "server";
}

/* The id in imageRef: a UUID, or the last segment of an image URL. */
static const char *
image_ref(const char *ref)
{
    const char *slash = strrchr(ref, '/');
    uuid_t u;
    const char *id = slash ? slash + 1 : ref;
    return strlen(id) == 36 && uuid_parse(id, u) == 0 ? id : NULL;
}

static bool
valid_b64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (n % 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            pad++;
            continue;
        }
        if (pad || !(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/'))
            return false;
    }
    return pad <= 2;
}

static int
meta_pairs(struct http_req *req, json_t *m, const char ***keys, const char ***vals, int *n)
{
    const char *k;
    json_t *v;
    *n = 0;
    if (!m)
        return 0;
    if (!json_is_object(m))
        return cmp__invalid(req, "metadata", m, "is not of type 'object'");
    if (json_object_size(m) > MAX_META)
        return req_fail(req, 403, "Quota exceeded for metadata_items: Requested %zu, but "
                        "already used 0 of %d metadata_items", json_object_size(m), MAX_META);
    *keys = arena_alloc(req->arena, sizeof(char *) * (json_object_size(m) + 1));
    *vals = arena_alloc(req->arena, sizeof(char *) * (json_object_size(m) + 1));
    json_object_foreach(m, k, v) {
        if (!*k || strlen(k) > 255 || !json_is_string(v) || strlen(json_string_value(v)) > 255)
            return cmp__invalid(req, "metadata", m, "Metadata keys and values must be strings "
                                "of 1-255 and 0-255 characters");
        (*keys)[*n] = k;
        (*vals)[(*n)++] = json_string_value(v);
    }
    return 0;
}

static int
count_param(struct http_req *req, json_t *srv, const char *key, int64_t *out)
{
    json_t *v = json_object_get(srv, key);
    if (!v)
        return 0;
    if (json_is_integer(v))
        *out = json_integer_value(v);
    else if (json_is_string(v) && *json_string_value(v))
        *out = strtoll(json_string_value(v), NULL, 10);
    else
        *out = 0;
    if (*out < 1)
        return cmp__invalid(req, key, v, "is less than the minimum of 1");
    return 0;
}

/* The checks Nova makes of image against flavor before it boots. */
static int
check_image(struct http_req *req, const struct img_brief *im, const struct cmp_flavor *f)
{
    if (strcmp(im->status, "active"))
        return req_fail(req, 400, "Image %s is not active.", im->id);
    if (im->min_ram > f->ram)
        return req_fail(req, 400, "Flavor's memory is too small for requested image.");
    if (f->disk) {
        int64_t need = im->virtual_size > 0 ? im->virtual_size : im->size;
        if (im->min_disk > f->disk)
            return req_fail(req, 400, "Flavor's disk is too small for requested image. "
                            "Flavor disk is %lld bytes, image is %lld bytes.",
                            (long long)f->disk << 30, (long long)im->min_disk << 30);
        if (need > (f->disk << 30))
            return req_fail(req, 400, "Flavor's disk is too small for requested image. "
                            "Flavor disk is %lld bytes, image is %lld bytes.",
                            (long long)f->disk << 30, (long long)need);
    }
    return 0;
}

/* networks: "none" / "auto" (2.37+, required from then on) or a list;
 * without networking only "none" and nothing can be honoured. */
static int
check_networks(struct http_req *req, json_t *srv)
{
    json_t *n = json_object_get(srv, "networks");
    if (!n) {
        if (cmp__mv(req, 2, 37))
            return req_fail(req, 400, "Invalid input for field/attribute server. Value: %s. "
                            "'networks' is a required property",
                            cmp__repr(req, srv));
        return 0;
    }
    if (json_is_string(n) && cmp__mv(req, 2, 37) &&
        (!strcmp(json_string_value(n), "none") || !strcmp(json_string_value(n), "auto")))
        return 0;
    if (!json_is_array(n))
        return cmp__invalid(req, "networks", n, "is not valid under any of the given schemas");
    size_t i;
    json_t *e;
    json_array_foreach(n, i, e) {
        const char *k;
        json_t *v;
        if (!json_is_object(e))
            return cmp__invalid(req, "networks", n, "is not valid under any of the given "
                                "schemas");
        json_object_foreach(e, k, v) {
            if (strcmp(k, "uuid") && strcmp(k, "port") && strcmp(k, "fixed_ip") &&
                strcmp(k, "tag"))
                return req_fail(req, 400, "Invalid input for field/attribute networks. Value: "
                                "%s. Additional properties are not allowed ('%s' was "
                                "unexpected)", cmp__repr(req, n), k);
            if (!json_is_string(v) && !(json_is_null(v) && strcmp(k, "uuid")))
                return cmp__invalid(req, k, v, "is not of type 'string'");
        }
        const char *uuid = json_string_value(json_object_get(e, "uuid"));
        const char *port = json_string_value(json_object_get(e, "port"));
        const char *ip = json_string_value(json_object_get(e, "fixed_ip"));
        uuid_t u;
        if (!uuid && !port)
            return req_fail(req, 400, "Bad networks format: network uuid is not in proper "
                            "format (None)");
        if (uuid && uuid_parse(uuid, u))
            return req_fail(req, 400, "Bad networks format: network uuid is not in proper "
                            "format (%s)", uuid);
        struct in6_addr ad;
        if (ip && inet_pton(AF_INET, ip, &ad) != 1 && inet_pton(AF_INET6, ip, &ad) != 1)
            return req_fail(req, 400, "Invalid fixed IP address (%s)", ip);
    }
    return 0;
}

/* A port asked for by id can go to one server only. */
static bool
names_port(json_t *srv)
{
    size_t i;
    json_t *e, *n = json_object_get(srv, "networks");
    json_array_foreach(n, i, e) if (json_is_string(json_object_get(e, "port"))) return true;
    return false;
}

static const char *
new_uuid(struct http_req *req)
{
    uuid_t u;
    char *b = arena_alloc(req->arena, 37);
    uuid_generate_random(u);
    uuid_unparse_lower(u, b);
    return b;
}

const char *
cmp__admin_pass(struct http_req *req)
{
    static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    unsigned char r[12];
    char *p = arena_alloc(req->arena, 13);
    random_bytes(r, sizeof(r));
    for (int i = 0; i < 12; i++)
        p[i] = set[r[i] % (sizeof(set) - 1)];
    return p;
}

int
cmp__server_create(struct http_req *req)
{
    json_t *body = cmp__body(req), *srv, *v;
    if (!body || cmp__policy(req, "os_compute_api:servers:create", NULL,
                             req->auth.project_id) < 0)
        return -1;
    srv = json_object_get(body, "server");
    if (!json_is_object(srv))
        return req_fail(req, 400, "Invalid input for field/attribute server. Value: %s. "
                        "'server' is a required property", cmp__repr(req, body));
    struct cmp_server s = {.vm_state = "building", .task_state = "scheduling",
                           .power_state = 0};
    if (!(v = json_object_get(srv, "name")))
        return req_fail(req, 400, "Invalid input for field/attribute server. Value: %s. "
                        "'name' is a required property", cmp__repr(req, srv));
    if (check_name(req, "name", v) < 0)
        return -1;
    s.name = json_string_value(v);
    json_t *fref = json_object_get(srv, "flavorRef");
    if (!fref)
        return req_fail(req, 400, "Invalid input for field/attribute server. Value: %s. "
                        "'flavorRef' is a required property", cmp__repr(req, srv));
    const char *fid = cmp__flavor_ref(req, fref);
    if (!fid)
        return -1;
    json_t *iref = json_object_get(srv, "imageRef");
    if (!iref || !json_is_string(iref))
        return req_fail(req, 400, "Block Device Mapping is Invalid: You specified more local "
                        "devices than the limit allows");
    const char *iid = image_ref(json_string_value(iref));
    if (!iid)
        return req_fail(req, 400, "Invalid imageRef provided.");
    if (check_networks(req, srv) < 0)
        return -1;
    if ((v = json_object_get(srv, "key_name")) && !json_is_null(v) && !json_is_string(v))
        return cmp__invalid(req, "key_name", v, "is not of type 'string'");
    const char *key_name = json_string_value(v);
    if ((v = json_object_get(srv, "user_data")) && !json_is_null(v)) {
        if (!json_is_string(v) || !valid_b64(json_string_value(v)))
            return req_fail(req, 400, "User data needs to be valid base 64.");
        if (strlen(json_string_value(v)) > MAX_USER_DATA)
            return cmp__invalid(req, "user_data", v, "is too long");
        s.user_data = json_string_value(v);
    }
    if ((v = json_object_get(srv, "config_drive"))) {
        if (json_is_boolean(v))
            s.config_drive = json_is_true(v);
        else if (json_is_string(v))
            s.config_drive = !strcasecmp(json_string_value(v), "true") ||
                             !strcmp(json_string_value(v), "1");
        else if (!json_is_null(v))
            return cmp__invalid(req, "config_drive", v, "is not of type 'boolean', 'string'");
    }
    /* with no metadata service yet a config drive is the only way in
     * (Nova's [DEFAULT] force_config_drive) */
    if (strcmp(cfg_get("compute", "force_config_drive", "true"), "false"))
        s.config_drive = true;
    if ((v = json_object_get(srv, "availability_zone")) && !json_is_null(v)) {
        const char *az = json_string_value(v);
        char *colon = az ? strchr(az, ':') : NULL;
        if (!az)
            return cmp__invalid(req, "availability_zone", v, "is not of type 'string'");
        /* "nova:host" pins a host (admin); the zone part must exist */
        if (colon ? strncmp(az, "nova", (size_t)(colon - az)) || colon - az != 4
                  : strcmp(az, "nova"))
            return req_fail(req, 400, "The requested availability zone is not available");
        s.az = "nova";
    }
    if ((v = json_object_get(srv, "description")) && cmp__mv(req, 2, 19)) {
        if (!json_is_null(v) && (!json_is_string(v) || strlen(json_string_value(v)) > 255))
            return cmp__invalid(req, "description", v, "is not valid");
        s.description = json_string_value(v);
    }
    if ((v = json_object_get(srv, "hostname")) && cmp__mv(req, 2, 90)) {
        if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 63)
            return cmp__invalid(req, "hostname", v, "is not a valid hostname");
    }
    const char *hostname = v && cmp__mv(req, 2, 90) ? json_string_value(v) : NULL;
    if ((v = json_object_get(srv, "accessIPv4")) && access_ip(req, "accessIPv4", v,
                                                              &s.access_v4) < 0)
        return -1;
    if ((v = json_object_get(srv, "accessIPv6")) && access_ip(req, "accessIPv6", v,
                                                              &s.access_v6) < 0)
        return -1;
    const char **mkeys = NULL, **mvals = NULL;
    int nmeta = 0;
    if (meta_pairs(req, json_object_get(srv, "metadata"), &mkeys, &mvals, &nmeta) < 0)
        return -1;
    const char **tags = NULL;
    int ntags = 0;
    if ((v = json_object_get(srv, "tags")) && cmp__mv(req, 2, 52)) {
        if (!json_is_array(v) || json_array_size(v) > MAX_TAGS)
            return cmp__invalid(req, "tags", v, "is not a valid tag list");
        tags = arena_alloc(req->arena, sizeof(char *) * (json_array_size(v) + 1));
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) {
            const char *ts = json_string_value(t);
            if (!ts || !*ts || strlen(ts) > 60 || strchr(ts, ',') || strchr(ts, '/'))
                return cmp__invalid(req, "tags", v, "is not a valid tag list");
            tags[ntags++] = ts;
        }
    }
    json_t *hints = json_object_get(body, "os:scheduler_hints");
    if (hints && (v = json_object_get(hints, "group"))) {
        if (!json_is_string(v))
            return cmp__invalid(req, "group", v, "is not of type 'string'");
        if (!cmp__db(req) || cmp__group_check_hint(req, json_string_value(v)) < 0)
            return -1;
        s.group_id = json_string_value(v);
    }
    int64_t min_count = 1, max_count = 0;
    if (count_param(req, srv, "min_count", &min_count) < 0 ||
        count_param(req, srv, "max_count", &max_count) < 0)
        return -1;
    if (!max_count)
        max_count = min_count;
    if (min_count > max_count)
        return req_fail(req, 400, "min_count must be <= max_count");
    if (max_count > 1 && names_port(srv))
        return req_fail(req, 400, "Unable to launch multiple instances with a single configured "
                        "port ID. Please launch your instance one by one with different ports.");
    json_t *groups = json_object_get(srv, "security_groups");
    if (groups && !json_is_array(groups))
        return cmp__invalid(req, "security_groups", groups, "is not of type 'array'");
    bool ret_resv = json_is_true(json_object_get(srv, "return_reservation_id"));

    /* references: flavor, image, key pair */
    struct cmp_flavor f;
    int rc = cmp__flavor_get(req, fid, &f);
    if (rc == -ENOENT)
        return req_fail(req, 400, "Flavor %s could not be found.", fid);
    if (rc)
        return -1;
    struct img_brief im;
    rc = img_lookup(req->db, req->arena, iid, req->auth.project_id, cmp__admin(req), &im);
    if (rc == -ENOENT)
        return req_fail(req, 400, "Image %s could not be found.", iid);
    if (rc)
        return cmp__db_fail(req, rc);
    if (check_image(req, &im, &f) < 0)
        return -1;
    if (key_name) {
        struct cmp_keypair kp;
        rc = cmp_db_keypair_get(req->db, req->arena, req->auth.user_id, key_name, &kp);
        if (rc == -ENOENT)
            return req_fail(req, 400, "Invalid key_name provided.");
        if (rc)
            return cmp__db_fail(req, rc);
        s.key_name = kp.name;
        s.key_data = kp.public_key;
    }
    json_t *specs = cmp__specs_json(req, f.id);
    if (!specs)
        return -1;
    char *spec_text = json_dumps(specs, JSON_COMPACT | JSON_SORT_KEYS);
    s.flavor_specs = arena_strdup(req->arena, spec_text);
    free(spec_text);
    json_decref(specs);
    s.project_id = req->auth.project_id;
    s.user_id = req->auth.user_id;
    s.image_id = iid;
    s.flavor_id = f.id;
    s.flavor_name = f.name;
    s.vcpus = f.vcpus;
    s.ram = f.ram;
    s.disk = f.disk;
    s.ephemeral = f.ephemeral;
    s.swap = f.swap;
    s.reservation_id = arena_printf(req->arena, "r-%.8s", new_uuid(req));
    s.created_us = s.updated_us = now_us();

    const char *first = NULL;
    for (int64_t i = 0; i < max_count; i++) {
        struct cmp_server one = s;
        one.id = new_uuid(req);
        one.launch_index = i;
        if (max_count > 1)
            one.name = arena_printf(req->arena, "%s-%lld", s.name, (long long)i + 1);
        one.hostname = hostname ? hostname : hostname_of(req, one.name);
        const char *over = NULL;
        /* its ports first: a server that exists has its networking */
        struct net_server_req nq = {.project = s.project_id, .server = one.id,
                                    .admin = cmp__admin(req),
                                    .networks = json_object_get(srv, "networks"),
                                    .groups = groups};
        char why[320];
        int st = net_server_ports(req->db, req->arena, &nq, why, sizeof(why));
        if (st)
            return req_fail(req, st, "%s", why);
        rc = srv_db_create(req->db, &one, mkeys, mvals, nmeta, tags, ntags,
                           cmp__quota_limit(req, s.project_id, "instances"),
                           cmp__quota_limit(req, s.project_id, "cores"),
                           cmp__quota_limit(req, s.project_id, "ram"), &over);
        if (rc) {
            int r2 = db_begin(req->db);
            db_end(req->db, r2 ? r2 : net_server_release(req->db, one.id));
        }
        if (rc == -EDQUOT && i >= min_count)
            break;      /* Nova boots as many as fit between min and max */
        if (rc == -EDQUOT) {
            int64_t ni = 0, nc = 0, nr = 0, req_n = !strcmp(over, "instances") ? 1
                                                    : !strcmp(over, "cores") ? s.vcpus : s.ram;
            srv_db_usage(req->db, req->arena, s.project_id, &ni, &nc, &nr);
            return req_fail(req, 403, "Quota exceeded for %s: Requested %lld, but already "
                            "used %lld of %lld %s", over, (long long)req_n,
                            (long long)(!strcmp(over, "instances") ? ni
                                        : !strcmp(over, "cores") ? nc : nr),
                            (long long)cmp__quota_limit(req, s.project_id, over), over);
        }
        if (rc)
            return cmp__db_fail(req, rc);
        cmp__action(req, one.id, "create");
        if (!first)
            first = one.id;
    }
    hostapi_kick();
    json_t *pw = json_object_get(srv, "adminPass");
    const char *pass = json_is_string(pw) ? json_string_value(pw) : cmp__admin_pass(req);
    if (ret_resv)
        return http_reply_json(req, 202, json_pack("{s:s}", "reservation_id",
                                                   s.reservation_id));
    http_header(req, "Location", arena_printf(req->arena, "%s/servers/%s", cmp__url(req),
                                              first));
    json_t *out = json_pack("{s:s,s:o,s:s,s:[{s:s}],s:s}", "id", first, "links",
                            cmp__links(req, "servers", first),
                            "OS-DCF:diskConfig", "MANUAL", "security_groups", "name",
                            "default", "adminPass", pass);
    return http_reply_json(req, 202, json_pack("{s:o}", "server", out));
}

/* ---- update ---- */

int
cmp__server_update(struct http_req *req)
{
    struct cmp_server s;
    json_t *body = cmp__body(req), *srv, *v;
    if (!body || cmp__server_find(req, &s) < 0 ||
        cmp__policy(req, "os_compute_api:servers:update", NULL, s.project_id) < 0)
        return -1;
    srv = json_object_get(body, "server");
    if (!json_is_object(srv))
        return req_fail(req, 400, "Invalid input for field/attribute server. Value: %s. "
                        "'server' is a required property", cmp__repr(req, body));
    struct srv_update u = {.locked = -1};
    const char *k;
    json_object_foreach(srv, k, v) {
        if (!strcmp(k, "name")) {
            if (check_name(req, "name", v) < 0)
                return -1;
            u.name = json_string_value(v);
        } else if (!strcmp(k, "description") && cmp__mv(req, 2, 19)) {
            if (!json_is_null(v) && (!json_is_string(v) || strlen(json_string_value(v)) > 255))
                return cmp__invalid(req, "description", v, "is not valid");
            u.set_description = true;
            u.description = json_string_value(v);
        } else if (!strcmp(k, "hostname") && cmp__mv(req, 2, 90)) {
            if (!json_is_string(v) || !*json_string_value(v))
                return cmp__invalid(req, "hostname", v, "is not a valid hostname");
            u.hostname = json_string_value(v);
        } else if (!strcmp(k, "accessIPv4") || !strcmp(k, "accessIPv6")) {
            if (access_ip(req, k, v, k[9] == '4' ? &u.access_v4 : &u.access_v6) < 0)
                return -1;
        } else if (strcmp(k, "OS-DCF:diskConfig")) {
            return req_fail(req, 400, "Invalid input for field/attribute server. Value: %s. "
                            "Additional properties are not allowed ('%s' was unexpected)",
                            cmp__repr(req, srv), k);
        }
    }
    int rc = srv_db_update(req->db, s.id, &u);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Instance %s could not be found.", s.id);
    if (rc || srv_db_get(req->db, req->arena, s.id, false, &s))
        return cmp__db_fail(req, rc);
    return cmp__reply_server(req, 200, &s, CMP_VIEW_BASIC, NULL);
}

/* ---- delete ---- */

int
cmp__server_delete(struct http_req *req)
{
    struct cmp_server s;
    if (cmp__server_find(req, &s) < 0 ||
        cmp__policy(req, "os_compute_api:servers:delete", NULL, s.project_id) < 0)
        return -1;
    if (s.locked && !cmp__admin(req))
        return req_fail(req, 409, "Instance %s is locked", s.id);
    int rc = hostapi_delete(req->db, s.id);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Instance %s could not be found.", s.id);
    if (rc)
        return cmp__db_fail(req, rc);
    cmp__action(req, s.id, "delete");
    return http_reply_empty(req, 204);
}
