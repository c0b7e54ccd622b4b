/* api_usage.c - os-simple-tenant-usage: each project's server hours in a
 * window, as Nova counts them. A server counts from launched_at (or the
 * window's start) to terminated_at (or the window's end); deleted servers
 * count over their life, so the rows stay (soft-deleted) for this. The
 * totals are hours times the flavor's vCPUs, MiB and GB (root +
 * ephemeral). From 2.40 the listing pages over servers (limit, marker)
 * with tenant_usages_links. */
#include "compute_int.h"
#include "srv_db.h"
#include "core/arena.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Nova's accepted forms: %Y-%m-%dT%H:%M:%S, the same with .%f, and
 * "%Y-%m-%d %H:%M:%S.%f"; no zone designator. */
static int
parse_when(struct http_req *req, const char *key, int64_t dflt, int64_t *out)
{
    const char *s = http_query(req, key);
    *out = dflt;
    if (!s)
        return 0;
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = strlen(s), k = strlen(pat);
    bool ok = n >= k;
    for (size_t i = 0; ok && i < k; i++)
        ok = pat[i] == 'd' ? isdigit((unsigned char)s[i]) != 0
             : pat[i] == 'T' ? (s[i] == 'T' || s[i] == ' ') : s[i] == pat[i];
    if (ok && n > k) {     /* a fraction: .f{1,6} */
        ok = s[k] == '.' && n - k - 1 >= 1 && n - k - 1 <= 6;
        for (size_t i = k + 1; ok && i < n; i++)
            ok = isdigit((unsigned char)s[i]) != 0;
    } else if (ok && s[10] == ' ') {
        ok = false;         /* the space form always has a fraction */
    }
    char buf[40];
    snprintf(buf, sizeof(buf), "%sZ", s);
    if (ok)
        buf[10] = 'T';
    if (!ok || time_parse_iso(buf, out) < 0)
        return req_fail(req, 400, "Invalid input received: Datetime is in invalid format");
    return 0;
}

/* The window [start, stop] (stop capped at now) and `detailed`. */
static int
window(struct http_req *req, int64_t *start, int64_t *stop, bool *detailed)
{
    int64_t now = now_us();
    /* both absent: Nova reads the clock twice, so the window is not empty */
    if (parse_when(req, "start", now, start) < 0 || parse_when(req, "end", now + 1, stop) < 0)
        return -1;
    if (!(*start < *stop))
        return req_fail(req, 400, "Invalid start time. The start time cannot occur after the "
                                  "end time.");
    if (*stop > now)
        *stop = now;
    const char *d = http_query(req, "detailed");
    *detailed = d && !strcmp(d, "1");
    return 0;
}

static double
hours_for(const struct cmp_server *s, int64_t start, int64_t stop)
{
    if (s->terminated_us && s->terminated_us < start)
        return 0;
    if (!s->launched_us || s->launched_us > stop)
        return 0;
    int64_t from = s->launched_us > start ? s->launched_us : start;
    int64_t to = s->terminated_us && s->terminated_us < stop ? s->terminated_us : stop;
    return to > from ? (double)(to - from) / 3600e6 : 0;
}

/* The usages of the servers s[0..n) grouped by project, in order of
 * first appearance, into a JSON array. */
static json_t *
usages(struct http_req *req, const struct cmp_server *s, int n, int64_t start, int64_t stop,
       bool detailed)
{
    json_t *out = json_array(), *by = json_object();
    int64_t now = now_us();
    for (int i = 0; i < n; i++) {
        double h = hours_for(&s[i], start, stop);
        json_t *t = json_object_get(by, s[i].project_id);
        if (!t) {
            t = json_pack("{s:s,s:f,s:f,s:f,s:f,s:s,s:s}", "tenant_id", s[i].project_id,
                          "total_local_gb_usage", 0.0, "total_vcpus_usage", 0.0,
                          "total_memory_mb_usage", 0.0, "total_hours", 0.0, "start",
                          cmp__time(req, start), "stop", cmp__time(req, stop));
            if (detailed)
                json_object_set_new(t, "server_usages", json_array());
            json_object_set(by, s[i].project_id, t);
            json_array_append_new(out, t);
        }
        int64_t gb = s[i].disk + s[i].ephemeral;
#define ADD(k, v) json_object_set_new(t, k, json_real(json_real_value(json_object_get(t, k)) + (v)))
        ADD("total_local_gb_usage", (double)gb * h);
        ADD("total_vcpus_usage", (double)s[i].vcpus * h);
        ADD("total_memory_mb_usage", (double)s[i].ram * h);
        ADD("total_hours", h);
#undef ADD
        if (!detailed)
            continue;
        bool ended = s[i].terminated_us != 0;
        int64_t up = ended ? s[i].terminated_us - s[i].launched_us
                           : s[i].launched_us ? now - s[i].launched_us : 0;
        json_t *u = json_pack(
            "{s:f,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:o,s:I}", "hours", h, "instance_id", s[i].id,
            "name", s[i].name, "tenant_id", s[i].project_id, "memory_mb", (json_int_t)s[i].ram,
            "local_gb", (json_int_t)gb, "vcpus", (json_int_t)s[i].vcpus, "flavor",
            s[i].flavor_name ? s[i].flavor_name : "", "state", ended ? "terminated" : s[i].vm_state,
            "ended_at", ended ? json_string(cmp__time(req, s[i].terminated_us)) : json_null(),
            "uptime", (json_int_t)(up / 1000000));
        json_object_set_new(u, "started_at",
                            s[i].launched_us ? json_string(cmp__time(req, s[i].launched_us))
                                             : json_null());
        json_array_append_new(json_object_get(t, "server_usages"), u);
    }
    json_decref(by);
    return out;
}

/* The servers of project (NULL: all) active in the window, one page when
 * paging (2.40). */
static int
servers(struct http_req *req, const char *project, int64_t start, int64_t stop, bool paging,
        struct cmp_server **s, int *n, int64_t *limit)
{
    struct srv_filter f = {.project_id = project, .locked = -1, .deleted = -1,
                           .with_deleted = true, .active_from_us = start,
                           .active_to_us = stop, .nsort = 1};
    f.sort_keys[0] = "created_at";
    *limit = 0;
    if (paging) {
        if (cmp__limit(req, limit) < 0)
            return -1;
        f.limit = *limit;
        f.marker = http_query(req, "marker");
    }
    struct db *db = cmp__db(req);
    if (!db)
        return -1;
    int rc = srv_db_list(db, req->arena, &f, s, n);
    if (rc == -ENOENT)
        return req_fail(req, 400, "marker [%s] not found", f.marker);
    return rc ? cmp__db_fail(req, rc) : 0;
}

static json_t *
next_link(struct http_req *req, const char *path, const struct cmp_server *s, int n,
          int64_t limit)
{
    if (!n || limit <= 0 || n != limit)
        return NULL;
    return json_pack("[{s:s,s:s}]", "rel", "next", "href",
                     arena_printf(req->arena, "%s/%s?limit=%lld&marker=%s", cmp__url(req), path,
                                  (long long)limit, s[n - 1].id));
}

/* The answer of index (project NULL: every project) and show. */
static int
answer(struct http_req *req, const char *project)
{
    int64_t start, stop, limit;
    bool detailed = false, paging = cmp__mv(req, 2, 40);
    struct cmp_server *s;
    int n;
    if (window(req, &start, &stop, &detailed) < 0 ||
        servers(req, project, start, stop, paging, &s, &n, &limit) < 0)
        return -1;
    /* show lists one project's servers always, as Nova's does */
    json_t *u = usages(req, s, n, start, stop, detailed || project), *body;
    if (project) {
        json_t *one = json_array_size(u) ? json_incref(json_array_get(u, 0)) : json_object();
        json_decref(u);
        body = json_pack("{s:o}", "tenant_usage", one);
    } else {
        body = json_pack("{s:o}", "tenant_usages", u);
    }
    const char *path = project ? arena_printf(req->arena, "os-simple-tenant-usage/%s", project)
                               : "os-simple-tenant-usage";
    json_t *links = paging ? next_link(req, path, s, n, limit) : NULL;
    if (links)
        json_object_set_new(body, project ? "tenant_usage_links" : "tenant_usages_links", links);
    return http_reply_json(req, 200, body);
}

int
cmp__usage_list(struct http_req *req)
{
    /* "/os-simple-tenant-usage/" is show of an empty project id to Nova:
     * no route, 404 (the core takes a trailing slash away) */
    size_t pl = strlen(req->path);
    if (pl && req->path[pl - 1] == '/')
        return req_fail(req, 404, "The resource could not be found.");
    if (cmp__policy(req, "os_compute_api:os-simple-tenant-usage:list", NULL, NULL) < 0)
        return -1;
    return answer(req, NULL);
}

int
cmp__usage_show(struct http_req *req)
{
    const char *project = http_param(req, "project_id");
    if (cmp__policy(req, "os_compute_api:os-simple-tenant-usage:show", NULL, project) < 0)
        return -1;
    return answer(req, project);
}
