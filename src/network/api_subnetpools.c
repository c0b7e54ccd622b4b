/* api_subnetpools.c - /v2.0/subnetpools (Neutron's subnet_allocation
 * extension): pools of prefixes that subnets take their cidr from, either
 * a requested one inside the pool or the first free block of a prefix
 * length, with the pool's bounds (min/max/default prefixlen), one default
 * pool per IP version (use_default_subnetpool) and a per-project quota in
 * addresses (IPv4) or /64s (IPv6), as Neutron counts it.
 *
 * Allocation runs inside the subnet create's transaction: SQLite's
 * BEGIN IMMEDIATE serializes it, on PostgreSQL an advisory lock per pool
 * does, so two creates never take one block. */
#include "network_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCOLS "id, project_id, name, description, ip_version, prefixes, min_prefixlen, " \
              "max_prefixlen, default_prefixlen, shared, is_default, default_quota, " \
              "created_at, updated_at, revision"
#define MAX_PREFIXES 64

struct prefix {
    ip128 first;
    int len;
};

static int
bits(int v)
{
    return v == 4 ? 32 : 128;
}

/* The size of a prefix of len (for ::/0, one less than 2^128). */
static ip128
block(int v, int len)
{
    if (len >= bits(v))
        return 1;
    return bits(v) - len >= 128 ? ~(ip128)0 : (ip128)1 << (bits(v) - len);
}

static json_t *
view(struct http_req *req, struct db_res *r, int i)
{
    json_t *pfx = json_loads(db_val(r, i, 5), 0, NULL);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:I,s:I,s:I,s:b,s:b,s:o,s:n,s:[],s:s,s:s,"
                     "s:I}",
                     "id", db_val(r, i, 0), "project_id", db_val(r, i, 1), "tenant_id",
                     db_val(r, i, 1), "name", db_val(r, i, 2), "description", db_val(r, i, 3),
                     "ip_version", (json_int_t)db_int(r, i, 4), "prefixes",
                     pfx ? pfx : json_array(), "min_prefixlen", (json_int_t)db_int(r, i, 6),
                     "max_prefixlen", (json_int_t)db_int(r, i, 7), "default_prefixlen",
                     (json_int_t)db_int(r, i, 8), "shared", (int)db_int(r, i, 9), "is_default",
                     (int)db_int(r, i, 10), "default_quota",
                     db_val(r, i, 11) ? json_integer(db_int(r, i, 11)) : json_null(),
                     "address_scope_id", "tags", "created_at", net__time(req, db_int(r, i, 12)),
                     "updated_at", net__time(req, db_int(r, i, 13)), "revision_number",
                     (json_int_t)db_int(r, i, 14));
}

/* The pools the caller sees (own and shared; admin: all); id: that one,
 * 404 when it is not seen. */
static int
visible(struct http_req *req, struct db *db, const char *id, struct db_res **r)
{
    int rc;
    if (net__admin(req))
        rc = id ? db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_subnetpool WHERE "
                          "id = ?", "s", id)
                : db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_subnetpool", "");
    else
        rc = id ? db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_subnetpool WHERE "
                          "id = ? AND (project_id = ? OR shared = 1)", "ss", id,
                          req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " PCOLS " FROM net_subnetpool WHERE "
                          "project_id = ? OR shared = 1", "s", req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "SubnetPoolNotFound", "Subnet pool %s could not be found.",
                         id);
    return 0;
}

/* Parses a JSON list of prefix strings into p (at most MAX_PREFIXES);
 * their count, or -1 with the fault set. v: the version they must have
 * (0: the first one's, written back). */
static int
parse_prefixes(struct http_req *req, const char *text, int *v, struct prefix *p)
{
    json_t *l = json_loads(text, 0, NULL);
    int n = 0;
    if (!json_is_array(l) || !json_array_size(l) || json_array_size(l) > MAX_PREFIXES) {
        json_decref(l);
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for prefixes. Reason: "
                         "a list of 1 to %d prefixes is required.", MAX_PREFIXES);
    }
    size_t i;
    json_t *e;
    json_array_foreach(l, i, e) {
        ip128 a;
        bool hb;
        int pv = json_is_string(e) ? cidr_parse(json_string_value(e), &a, &p[n].len, &hb) : 0;
        if (!pv || (*v && pv != *v)) {
            char *bad = json_dumps(e, JSON_ENCODE_ANY);
            net__fail(req, 400, "HTTPBadRequest", pv ? "Invalid input for operation: Cannot "
                      "mix IPv4 and IPv6 prefixes in a subnet pool." : "Invalid input for "
                      "prefixes. Reason: '%s' is not a valid IP subnet.", bad ? bad : "value");
            free(bad);
            json_decref(l);
            return -1;
        }
        *v = pv;
        p[n].first = net_first(a, p[n].len, pv);
        n++;
    }
    json_decref(l);
    return n;
}

/* Neutron compacts a pool's prefixes (netaddr.cidr_merge): prefixes
 * inside another go, two halves of one prefix become it. Sorted. */
static int
compact(int v, struct prefix *p, int n)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < n && !changed; i++)
            for (int j = 0; j < n && !changed; j++) {
                if (i == j)
                    continue;
                ip128 last_i = p[i].first + block(v, p[i].len) - 1;
                if (p[j].len >= p[i].len && p[j].first >= p[i].first && p[j].first <= last_i) {
                    p[j] = p[--n];      /* j inside i */
                    changed = true;
                } else if (p[i].len == p[j].len && p[i].len > 0 &&
                           p[j].first == p[i].first + block(v, p[i].len) &&
                           net_first(p[i].first, p[i].len - 1, v) == p[i].first) {
                    p[i].len--;         /* i and j are the two halves */
                    p[j] = p[--n];
                    changed = true;
                }
            }
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && p[j].first < p[j - 1].first; j--) {
            struct prefix t = p[j];
            p[j] = p[j - 1];
            p[j - 1] = t;
        }
    return n;
}

static const char *
prefixes_text(struct http_req *req, int v, const struct prefix *p, int n)
{
    json_t *l = json_array();
    for (int i = 0; i < n; i++) {
        char b[46];
        ip_format(p[i].first, v, b);
        json_array_append_new(l, json_sprintf("%s/%d", b, p[i].len));
    }
    char *s = json_dumps(l, JSON_COMPACT);
    json_decref(l);
    const char *out = arena_strdup(req->arena, s);
    free(s);
    return out;
}

/* A prefix length member: an integer (or its string, as the CLI and
 * older clients send it) within 0..bits(v); absent: dflt. */
static int
prefixlen_of(struct http_req *req, json_t *o, const char *key, int v, int64_t dflt,
             int64_t *out)
{
    json_t *x = json_object_get(o, key);
    *out = dflt;
    if (!x || json_is_null(x))
        return 0;
    char *end = NULL;
    if (json_is_integer(x))
        *out = json_integer_value(x);
    else if (json_is_string(x) && *json_string_value(x))
        *out = strtoll(json_string_value(x), &end, 10);
    if ((!json_is_integer(x) && (!end || *end)) || *out < 0 || *out > bits(v))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for %s. Reason: it must "
                         "be an integer from 0 to %d.", key, bits(v));
    return 0;
}

static int
bounds_check(struct http_req *req, int64_t min, int64_t max, int64_t dflt)
{
    if (min > max)
        return net__fail(req, 400, "IllegalSubnetPoolPrefixBounds", "Illegal prefix bounds: "
                         "min_prefixlen=%lld, max_prefixlen=%lld.", (long long)min,
                         (long long)max);
    if (dflt < min || dflt > max)
        return net__fail(req, 400, "IllegalSubnetPoolPrefixBounds", "Illegal prefix bounds: "
                         "default_prefixlen=%lld, %s=%lld.", (long long)dflt,
                         dflt < min ? "min_prefixlen" : "max_prefixlen",
                         (long long)(dflt < min ? min : max));
    return 0;
}

/* Only one default pool per IP version (other than id). */
static int
default_free(struct http_req *req, struct db *db, int v, const char *id)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT 1 FROM net_subnetpool WHERE is_default = 1 "
                     "AND ip_version = ? AND id <> ?", "is", (int64_t)v, id);
    if (rc)
        return net__db_fail(req, rc);
    if (r->nrows)
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: A default "
                         "subnetpool for this IP family has already been set. Only one default "
                         "may exist per IP family.");
    return 0;
}

static int
quota_of(struct http_req *req, json_t *o, const char *dflt, const char **out)
{
    json_t *q = json_object_get(o, "default_quota");
    *out = dflt;
    if (!q)
        return 0;
    if (json_is_null(q)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_integer(q) || json_integer_value(q) < 0)
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for default_quota. "
                         "Reason: it must be a non-negative integer.");
    *out = arena_printf(req->arena, "%lld", (long long)json_integer_value(q));
    return 0;
}

static const char *const writable[] = {
    "name", "description", "prefixes", "min_prefixlen", "max_prefixlen", "default_prefixlen",
    "shared", "is_default", "default_quota", "address_scope_id", "project_id", "tenant_id",
    NULL};

static int
reply(struct http_req *req, int status, const char *id)
{
    struct db_res *r;
    if (visible(req, req->db, id, &r) < 0)
        return -1;
    return http_reply_json(req, status, json_pack("{s:o}", "subnetpool",
                                                  net__fields(req, view(req, r, 0))));
}

int
net__subnetpools_list(struct http_req *req)
{
    struct db *db = net__db(req);
    struct db_res *r;
    if (!db || visible(req, db, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, view(req, r, i));
    return net__list_reply(req, "subnetpools", l);
}

int
net__subnetpool_show(struct http_req *req)
{
    return net__db(req) ? reply(req, 200, http_param(req, "pool_id")) : -1;
}

/* The address scope extension is not there: a scope can only be unset. */
static int
no_scope(struct http_req *req, json_t *o)
{
    json_t *s = json_object_get(o, "address_scope_id");
    if (s && !json_is_null(s))
        return net__fail(req, 400, "InvalidInput", "Invalid input for operation: address "
                         "scopes are not available.");
    return 0;
}

int
net__subnetpool_create(struct http_req *req)
{
    json_t *o = net__body(req, "subnetpool");
    if (!o || net__only(req, o, writable) < 0 || no_scope(req, o) < 0)
        return -1;
    const char *owner = net__owner(req, o), *name, *desc, *quota;
    bool shared, is_default;
    if (!owner || net__quota_check(req, owner, "subnetpool") < 0 ||
        net__str(req, o, "name", 255, NULL, &name) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0 ||
        net__bool(req, o, "shared", false, &shared) < 0 ||
        net__bool(req, o, "is_default", false, &is_default) < 0 ||
        quota_of(req, o, NULL, &quota) < 0)
        return -1;
    if (!name)
        return net__fail(req, 400, "HTTPBadRequest", "Failed to parse request. Required "
                         "attribute 'name' not specified");
    if ((shared || is_default) && !net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:create_subnetpool:%s) is "
                         "disallowed by policy", shared ? "shared" : "is_default");
    json_t *pl = json_object_get(o, "prefixes");
    if (!pl)
        return net__fail(req, 400, "HTTPBadRequest", "Failed to parse request. Required "
                         "attribute 'prefixes' not specified");
    char *ptext = json_dumps(pl, JSON_ENCODE_ANY);
    struct prefix p[MAX_PREFIXES];
    int v = 0, n = parse_prefixes(req, ptext ? ptext : "", &v, p);
    free(ptext);
    int64_t min, max, dflt;
    if (n < 0 || prefixlen_of(req, o, "min_prefixlen", v, v == 4 ? 8 : 64, &min) < 0 ||
        prefixlen_of(req, o, "max_prefixlen", v, bits(v), &max) < 0 ||
        prefixlen_of(req, o, "default_prefixlen", v, min, &dflt) < 0 ||
        bounds_check(req, min, max, dflt) < 0)
        return -1;
    n = compact(v, p, n);
    char id[37];
    net__uuid(id);
    struct db *db = net__db(req);
    if (!db || (is_default && default_free(req, db, v, id) < 0))
        return -1;
    int64_t now = now_us();
    int rc = db_exec(db, NULL, NULL, "INSERT INTO net_subnetpool (" PCOLS ") VALUES (?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", "ssssisiiiiisii", id, owner, name,
                     desc, (int64_t)v, prefixes_text(req, v, p, n), min, max, dflt,
                     (int64_t)shared, (int64_t)is_default, quota, now, now);
    if (rc)
        return net__db_fail(req, rc);
    return reply(req, 201, id);
}

/* Whether every prefix of old lies inside one of new. */
static bool
covers(int v, const struct prefix *nw, int nn, const struct prefix *old, int no)
{
    for (int i = 0; i < no; i++) {
        bool in = false;
        for (int j = 0; j < nn && !in; j++)
            in = old[i].len >= nw[j].len && old[i].first >= nw[j].first &&
                 old[i].first <= nw[j].first + (block(v, nw[j].len) - 1);
        if (!in)
            return false;
    }
    return true;
}

int
net__subnetpool_update(struct http_req *req)
{
    const char *id = http_param(req, "pool_id");
    json_t *o = net__body(req, "subnetpool");
    struct db *db = net__db(req);
    struct db_res *r;
    if (!o || !db || visible(req, db, id, &r) < 0 || net__only(req, o, writable) < 0 ||
        no_scope(req, o) < 0)
        return -1;
    if (!net__admin(req) && strcmp(db_val(r, 0, 1), req->auth.project_id))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_subnetpool) is disallowed "
                         "by policy");
    if (json_object_get(o, "shared") || json_object_get(o, "project_id") ||
        json_object_get(o, "tenant_id"))
        return net__fail(req, 400, "HTTPBadRequest", "Cannot update read-only attribute");
    int v = (int)db_int(r, 0, 4);
    const char *name, *desc, *quota, *ptext = db_val(r, 0, 5);
    bool is_default;
    int64_t min, max, dflt;
    if (net__str(req, o, "name", 255, db_val(r, 0, 2), &name) < 0 ||
        net__str(req, o, "description", 255, db_val(r, 0, 3), &desc) < 0 ||
        net__bool(req, o, "is_default", db_int(r, 0, 10), &is_default) < 0 ||
        quota_of(req, o, db_val(r, 0, 11), &quota) < 0 ||
        prefixlen_of(req, o, "min_prefixlen", v, db_int(r, 0, 6), &min) < 0 ||
        prefixlen_of(req, o, "max_prefixlen", v, db_int(r, 0, 7), &max) < 0 ||
        prefixlen_of(req, o, "default_prefixlen", v, db_int(r, 0, 8), &dflt) < 0 ||
        bounds_check(req, min, max, dflt) < 0)
        return -1;
    if (json_object_get(o, "is_default") && !net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_subnetpool:is_default) is "
                         "disallowed by policy");
    if (json_object_get(o, "prefixes")) {
        struct prefix old[MAX_PREFIXES], nw[MAX_PREFIXES];
        char *t = json_dumps(json_object_get(o, "prefixes"), JSON_ENCODE_ANY);
        int no = parse_prefixes(req, ptext, &v, old), nn = parse_prefixes(req, t ? t : "", &v, nw);
        free(t);
        if (no < 0 || nn < 0)
            return -1;
        nn = compact(v, nw, nn);
        if (!covers(v, nw, nn, old, no))
            return net__fail(req, 400, "IllegalSubnetPoolPrefixUpdate", "Illegal update to "
                             "prefixes: Existing prefixes must be a subset of the new "
                             "prefixes.");
        ptext = prefixes_text(req, v, nw, nn);
    }
    if (is_default && default_free(req, db, v, id) < 0)
        return -1;
    int rc = db_exec(db, NULL, NULL, "UPDATE net_subnetpool SET name = ?, description = ?, "
                     "prefixes = ?, min_prefixlen = ?, max_prefixlen = ?, default_prefixlen = "
                     "?, is_default = ?, default_quota = ?, updated_at = ?, revision = "
                     "revision + 1 WHERE id = ?", "sssiiiisis", name, desc, ptext, min, max,
                     dflt, (int64_t)is_default, quota, now_us(), id);
    if (rc)
        return net__db_fail(req, rc);
    return reply(req, 200, id);
}

int
net__subnetpool_delete(struct http_req *req)
{
    const char *id = http_param(req, "pool_id");
    struct db *db = net__db(req);
    struct db_res *r, *used;
    if (!db || visible(req, db, id, &r) < 0)
        return -1;
    if (!net__admin(req) && strcmp(db_val(r, 0, 1), req->auth.project_id))
        return net__fail(req, 403, "HTTPForbidden", "(rule:delete_subnetpool) is disallowed "
                         "by policy");
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &used, "SELECT 1 FROM net_subnet WHERE subnetpool_id = ?",
                     "s", id);
    if (rc == DB_OK && used->nrows) {
        db_end(db, -1);
        return net__fail(req, 409, "SubnetPoolInUse", "Unable to complete operation on subnet "
                         "pool %s. Subnet pool has existing allocations.", id);
    }
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_subnetpool WHERE id = ?", "s", id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_empty(req, 204);
}

/* How much address space a prefix of len is in quota units: addresses
 * for IPv4, /64s for IPv6 (Neutron's). */
static ip128
quota_units(int v, int len)
{
    return v == 4 ? block(4, len) : len >= 64 ? 1 : (ip128)1 << (64 - len);
}

int
net__subnetpool_alloc(struct http_req *req, struct db *db, const char *pool, int v,
                      const char *cidr, int64_t prefixlen, const char *project,
                      const char **cidr_out, const char **pool_out)
{
    struct db_res *r, *sub;
    int rc;
    if (!pool) {
        rc = db_exec(db, req->arena, &r, "SELECT id FROM net_subnetpool WHERE is_default = 1 "
                     "AND ip_version = ?", "i", (int64_t)v);
        if (rc)
            return net__db_fail(req, rc);
        if (!r->nrows)
            return net__fail(req, 400, "BadRequest", "Bad subnets request: No default subnet "
                             "pool found for IPv%d.", v);
        pool = db_val(r, 0, 0);
    }
    if (visible(req, db, pool, &r) < 0)
        return -1;
    if (db_int(r, 0, 4) != v)
        return net__fail(req, 400, "BadRequest", "Bad subnets request: Cannot allocate IPv%d "
                         "subnet from IPv%d subnet pool.", v, (int)db_int(r, 0, 4));
    if (db_is_pg() && (rc = db_exec(db, NULL, NULL, "SELECT pg_advisory_xact_lock("
                                    "hashtextextended(?, 5006))", "s", pool)))
        return net__db_fail(req, rc);
    struct prefix p[MAX_PREFIXES];
    int pv = v, n = parse_prefixes(req, db_val(r, 0, 5), &pv, p);
    if (n < 0)
        return -1;
    int64_t min = db_int(r, 0, 6), max = db_int(r, 0, 7);
    struct prefix want = {0, (int)(prefixlen >= 0 ? prefixlen : db_int(r, 0, 8))};
    if (cidr) {
        ip128 a;
        bool hb;
        if (cidr_parse(cidr, &a, &want.len, &hb) != v || hb)
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for cidr. Reason: "
                             "'%s' is not a valid IP subnet.", cidr);
        want.first = a;
    }
    if (want.len < min || want.len > max)
        return net__fail(req, 400, "IllegalSubnetPoolPrefixBounds", "Illegal prefix bounds: "
                         "prefixlen=%d, %s=%lld.", want.len, want.len < min ? "min_prefixlen"
                         : "max_prefixlen", (long long)(want.len < min ? min : max));
    rc = db_exec(db, req->arena, &sub, "SELECT cidr, project_id FROM net_subnet WHERE "
                 "subnetpool_id = ?", "s", pool);
    if (rc)
        return net__db_fail(req, rc);
    ip128 size = block(v, want.len), used = quota_units(v, want.len);
    struct prefix *taken = arena_alloc(req->arena, sizeof(*taken) * (size_t)(sub->nrows + 1));
    for (int i = 0; i < sub->nrows; i++) {
        ip128 a;
        bool hb;
        cidr_parse(db_val(sub, i, 0), &a, &taken[i].len, &hb);
        taken[i].first = net_first(a, taken[i].len, v);
        if (!strcmp(db_val(sub, i, 1), project))
            used += quota_units(v, taken[i].len);
    }
    if (db_val(r, 0, 11) && used > (ip128)db_int(r, 0, 11))
        return net__fail(req, 409, "SubnetPoolQuotaExceeded", "Per-tenant subnet pool prefix "
                         "quota exceeded.");
    /* a candidate: the requested block, else each aligned block of each
     * prefix from its start, skipping past whatever overlaps it */
    for (int k = 0; k < n; k++) {
        ip128 end = p[k].first + (block(v, p[k].len) - 1);
        ip128 c = cidr ? want.first : p[k].first;
        if (want.len < p[k].len || c < p[k].first || c > end)
            continue;
        while (c <= end && c + (size - 1) <= end) {
            int hit = -1;
            for (int i = 0; i < sub->nrows && hit < 0; i++)
                if (c <= taken[i].first + (block(v, taken[i].len) - 1) &&
                    taken[i].first <= c + (size - 1))
                    hit = i;
            if (hit < 0) {
                char b[46];
                ip_format(c, v, b);
                *cidr_out = arena_printf(req->arena, "%s/%d", b, want.len);
                *pool_out = db_val(r, 0, 0);
                return 0;
            }
            if (cidr)
                break;
            ip128 past = taken[hit].first + block(v, taken[hit].len);
            c = (past + (size - 1)) / size * size;
            if (c == 0)         /* wrapped past the top of the space */
                break;
        }
        if (cidr)
            break;
    }
    if (cidr)
        return net__fail(req, 400, "SubnetAllocationError", "Failed to allocate subnet: "
                         "Cannot allocate requested subnet from the available set of prefixes.");
    return net__fail(req, 400, "SubnetAllocationError", "Failed to allocate subnet: Insufficient "
                     "prefix space to allocate subnet size /%d.", want.len);
}
