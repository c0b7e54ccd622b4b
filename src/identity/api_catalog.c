/* api_catalog.c - /v3/regions, /v3/services, /v3/endpoints and the service
 * catalog that tokens and /v3/auth/catalog carry, as Keystone (Zed)
 * answers them.
 *
 * Keystone keeps the attributes it does not know in an "extra" JSON blob
 * and renders them back as top-level members; so do we (extra column).
 * The catalog is rendered on every token issue, so the rendered JSON is
 * cached per idn_revision() (any identity write makes it stale); only the
 * $(project_id)s style URL substitutions are done per call. */
#include "identity.h"
#include "core/log.h"
#include "core/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

/* Renders row i of a region, service or endpoint query (a new reference). */
typedef json_t *row_view(struct http_req *req, const struct db_res *r, int i);

/* Replies with the one row of sql (SELECT ... WHERE id = ?) rendered by
 * view under key, or 404 "Could not find <key>: <id>." */
static int
row_reply(struct http_req *req, struct db *db, const char *sql, const char *key,
          row_view *view, const char *id, int status)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, sql, "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, key);
    if (r->nrows == 0)
        return idn_not_found(req, key, id);
    return http_reply_json(req, status, json_pack("{s:o}", key, view(req, r, 0)));
}

/* GET of one: enforces action, then row_reply() for path parameter param. */
static int
show(struct http_req *req, const char *action, const char *sql, const char *key,
     row_view *view, const char *param)
{
    struct db *db;
    if (idn_enforce(req, action, NULL, &db) < 0)
        return -1;
    return row_reply(req, db, sql, key, view, http_param(req, param), 200);
}

/* Replies with the rows of a list query that ended with rc (failures as
 * idn_db_fail(kind)), each rendered by view, as the collection plural. */
static int
list_reply(struct http_req *req, int rc, const struct db_res *r, const char *kind,
           const char *plural, row_view *view)
{
    if (rc != DB_OK)
        return idn_db_fail(req, rc, kind);
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(arr, view(req, r, i));
    return idn_reply_list(req, plural, arr);
}

/* ---- regions ---- */

#define REGION_ONE "SELECT " REGION_COLS " FROM region WHERE id = ?"
#define REGION_COLS "id, description, parent_region_id, extra"
static const char *const region_known[] = {"id", "description", "parent_region_id", NULL};

static json_t *
region_view(struct http_req *req, const struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0), *desc = db_val(r, i, 1), *parent = db_val(r, i, 2);
    json_t *o = json_pack("{s:s,s:s,s:s?,s:o}", "id", id, "description", desc ? desc : "",
                          "parent_region_id", parent, "links", idn_links(req, "regions/%s", id));
    if (!parent)
        json_object_set_new(o, "parent_region_id", json_null());
    idn_merge_extra(o, db_val(r, i, 3));
    return o;
}

static int
region_exists(struct http_req *req, struct db *db, const char *id)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, "SELECT 1 FROM region WHERE id = ?", "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "region");
    return r->nrows > 0;
}

int
idn_regions_list(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:list_regions", NULL, &db) < 0)
        return -1;
    const char *parent = http_query(req, "parent_region_id");
    int rc = parent ? db_exec(db, req->arena, &r,
                              "SELECT " REGION_COLS " FROM region WHERE parent_region_id = ? "
                              "ORDER BY id", "s", parent)
                    : db_exec(db, req->arena, &r, "SELECT " REGION_COLS " FROM region "
                              "ORDER BY id", NULL);
    return list_reply(req, rc, r, "region", "regions", region_view);
}

int
idn_regions_get(struct http_req *req)
{
    return show(req, "identity:get_region", REGION_ONE, "region", region_view, "region_id");
}

/* Creates region id in the open transaction (shared with the legacy
 * "region" of an endpoint, which Keystone creates on the fly). */
static int
region_insert(struct http_req *req, struct db *db, const char *id, const char *desc,
              const char *parent, const char *extra)
{
    int e = region_exists(req, db, id);
    if (e < 0)
        return -1;
    if (e)
        return req_fail(req, 409, "Conflict occurred attempting to store region - Duplicate "
                                  "ID, %s..", id);
    if (parent && (e = region_exists(req, db, parent)) <= 0)
        return e < 0 ? -1 : idn_not_found(req, "region", parent);
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO region (id, description, parent_region_id, extra) "
                     "VALUES (?, ?, ?, ?)", "ssss", id, desc ? desc : "", parent, extra);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, "region");
}

/* POST /v3/regions and PUT /v3/regions/{region_id} (the id chosen by the
 * caller; a body id must then agree with it) */
int
idn_regions_create(struct http_req *req)
{
    struct db *db;
    if (idn_enforce(req, "identity:create_region", NULL, &db) < 0)
        return -1;
    json_t *b = jv_object(req, req->json, "region");
    if (!b)
        return -1;
    const char *id = NULL, *desc = NULL, *parent = NULL, *url_id = http_param(req, "region_id");
    if (jv_str(req, b, "id", 0, 255, &id) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 255, &desc) < 0 ||
        jv_str(req, b, "parent_region_id", JV_NULLABLE, 255, &parent) < 0)
        return -1;
    if (url_id && id && strcmp(url_id, id))
        return req_fail(req, 400, "Conflicting region IDs specified: \"%s\" != \"%s\"", url_id,
                        id);
    char gen[33];
    if (url_id) {
        id = url_id;
    } else if (!id || !*id) {
        /* Keystone makes one up when the id is missing or empty */
        uuid_hex(gen);
        id = gen;
    }
    int rc = db_begin(db);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "region");
    if (region_insert(req, db, id, desc, parent, idn_extra_of(req, b, region_known)) < 0) {
        db_rollback(db);
        return -1;
    }
    if ((rc = db_commit(db)) != DB_OK)
        return idn_db_fail(req, rc, "region");
    return row_reply(req, db, REGION_ONE, "region", region_view, id, 201);
}

/* 1 when making parent the parent of id would close a loop (parent is id
 * or lies below it), 0 when not, -1 on failure. */
static int
region_cycle(struct http_req *req, struct db *db, const char *id, const char *parent)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r,
                     "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_region_id FROM "
                     "region WHERE id = ? UNION SELECT r.id, r.parent_region_id FROM region r "
                     "JOIN up ON r.id = up.parent) SELECT 1 FROM up WHERE id = ?",
                     "ss", parent, id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "region");
    return r->nrows > 0;
}

int
idn_regions_update(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:update_region", NULL, &db) < 0)
        return -1;
    const char *id = http_param(req, "region_id");
    json_t *b = idn_patch_body(req, "region", false);
    if (!b || idn_same_id(req, b, id) < 0)
        return -1;
    const char *desc = NULL, *parent = NULL;
    if (jv_str(req, b, "description", JV_NULLABLE, 255, &desc) < 0 ||
        jv_str(req, b, "parent_region_id", JV_NULLABLE, 255, &parent) < 0)
        return -1;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "region");
    rc = db_exec(db, req->arena, &r, REGION_ONE, "s", id);
    if (rc != DB_OK)
        goto dbfail;
    int e;
    if (parent && (e = region_exists(req, db, parent)) <= 0) {
        if (e == 0)
            idn_not_found(req, "region", parent);
        goto fail;
    }
    if (r->nrows == 0) {
        idn_not_found(req, "region", id);
        goto fail;
    }
    if (parent && (e = region_cycle(req, db, id, parent)) != 0) {
        if (e > 0)
            req_fail(req, 400, "The specified parent region %s would create a circular "
                               "region hierarchy.", id);
        goto fail;
    }
    /* absent members keep their value; a null description becomes "" */
    if (!json_object_get(b, "description"))
        desc = db_val(r, 0, 1);
    if (!json_object_get(b, "parent_region_id"))
        parent = db_val(r, 0, 2);
    const char *extra = idn_extra_update(req, db_val(r, 0, 3), b, region_known, 0);
    rc = db_exec(db, NULL, NULL,
                 "UPDATE region SET description = ?, parent_region_id = ?, extra = ? "
                 "WHERE id = ?", "ssss", desc ? desc : "", parent, extra, id);
    if (rc != DB_OK)
        goto dbfail;
    if ((rc = db_commit(db)) != DB_OK)
        return idn_db_fail(req, rc, "region");
    return row_reply(req, db, REGION_ONE, "region", region_view, id, 200);
dbfail:
    idn_db_fail(req, rc, "region");
fail:
    db_rollback(db);
    return -1;
}

/* The region and every region below it (UNION ends a corrupt loop) */
#define REGION_TREE                                                                       \
    "WITH RECURSIVE down(id) AS (SELECT id FROM region WHERE id = ? UNION SELECT r.id "  \
    "FROM region r JOIN down ON r.parent_region_id = down.id) "

int
idn_regions_delete(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:delete_region", NULL, &db) < 0)
        return -1;
    const char *id = http_param(req, "region_id");
    int rc = db_begin(db);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "region");
    int e = region_exists(req, db, id);
    if (e <= 0) {
        db_rollback(db);
        return e < 0 ? -1 : idn_not_found(req, "region", id);
    }
    /* Keystone deletes the child regions along, unless an endpoint still
     * points into the subtree */
    rc = db_exec(db, req->arena, &r,
                 REGION_TREE "SELECT 1 FROM endpoint WHERE region_id IN (SELECT id FROM down)",
                 "s", id);
    if (rc == DB_OK && r->nrows) {
        db_rollback(db);
        return req_fail(req, 403, "Unable to delete region %s because it or its child regions "
                                  "have associated endpoints.", id);
    }
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     REGION_TREE "DELETE FROM region WHERE id IN (SELECT id FROM down)", "s",
                     id);
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "region");
    return http_reply_empty(req, 204);
}

/* ---- services ---- */

#define SERVICE_ONE "SELECT " SERVICE_COLS " FROM service WHERE id = ?"
#define SERVICE_COLS "id, type, name, description, enabled, extra"
static const char *const service_known[] = {"id", "type", "name", "description", "enabled",
                                            NULL};

static json_t *
service_view(struct http_req *req, const struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0), *name = db_val(r, i, 2), *desc = db_val(r, i, 3);
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o}", "id", id, "type", db_val(r, i, 1), "name",
                          name ? name : "", "enabled", db_bool(r, i, 4), "links",
                          idn_links(req, "services/%s", id));
    /* Keystone shows a description only once one was given */
    if (desc)
        json_object_set_new(o, "description", json_string(desc));
    idn_merge_extra(o, db_val(r, i, 5));
    return o;
}

/* type (1..255), name (as every Keystone name), enabled and description.
 * Keystone accepts a description of any type (it lives in its extra
 * blob); we keep strings and null, in the description column. */
static int
service_fields(struct http_req *req, json_t *b, unsigned type_flags, const char **type,
               const char **name, const char **desc, int *enabled)
{
    if (jv_str(req, b, "type", type_flags | JV_NONEMPTY, 255, type) < 0 ||
        jv_str(req, b, "name", JV_NONEMPTY, 255, name) < 0 ||
        jv_str(req, b, "description", JV_NULLABLE, 0, desc) < 0 ||
        jv_bool(req, b, "enabled", 0, enabled) < 0)
        return -1;
    if (json_object_get(b, "name")) {
        bool blank = true;
        for (const char *p = *name; *p && blank; p++)
            blank = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        if (blank)
            return jv_invalid(req, "name", json_object_get(b, "name"),
                              "does not match '[\\\\S]+'");
    }
    return 0;
}

int
idn_services_list(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:list_services", NULL, &db) < 0)
        return -1;
    const char *type = http_query(req, "type"), *name = http_query(req, "name");
    int rc = db_exec(db, req->arena, &r,
                     "SELECT " SERVICE_COLS " FROM service WHERE (CAST(? AS TEXT) IS NULL OR "
                     "type = ?) AND (CAST(? AS TEXT) IS NULL OR name = ?) ORDER BY type, id",
                     "ssss", type, type, name, name);
    return list_reply(req, rc, r, "service", "services", service_view);
}

int
idn_services_get(struct http_req *req)
{
    return show(req, "identity:get_service", SERVICE_ONE, "service", service_view,
                "service_id");
}

int
idn_services_create(struct http_req *req)
{
    struct db *db;
    if (idn_enforce(req, "identity:create_service", NULL, &db) < 0)
        return -1;
    json_t *b = jv_object(req, req->json, "service");
    if (!b)
        return -1;
    const char *type = NULL, *name = NULL, *desc = NULL;
    int enabled = 1;
    if (service_fields(req, b, JV_REQUIRED, &type, &name, &desc, &enabled) < 0)
        return -1;
    char id[33];
    uuid_hex(id);
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO service (id, type, name, description, enabled, extra) "
                     "VALUES (?, ?, ?, ?, ?, ?)", "ssssbs", id, type, name ? name : "", desc,
                     enabled, idn_extra_of(req, b, service_known));
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "service");
    return row_reply(req, db, SERVICE_ONE, "service", service_view, id, 201);
}

int
idn_services_update(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:update_service", NULL, &db) < 0)
        return -1;
    const char *id = http_param(req, "service_id");
    json_t *b = idn_patch_body(req, "service", false);
    if (!b || idn_same_id(req, b, id) < 0)
        return -1;
    int rc = db_exec(db, req->arena, &r, SERVICE_ONE, "s", id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "service");
    if (r->nrows == 0)
        return idn_not_found(req, "service", id);
    const char *type = db_val(r, 0, 1), *name = db_val(r, 0, 2), *desc = db_val(r, 0, 3);
    int enabled = db_bool(r, 0, 4);
    if (service_fields(req, b, 0, &type, &name, &desc, &enabled) < 0)
        return -1;
    rc = db_exec(db, NULL, NULL,
                 "UPDATE service SET type = ?, name = ?, description = ?, enabled = ?, "
                 "extra = ? WHERE id = ?", "sssbss", type, name, desc, enabled,
                 idn_extra_update(req, db_val(r, 0, 5), b, service_known, 0), id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "service");
    return row_reply(req, db, SERVICE_ONE, "service", service_view, id, 200);
}

int
idn_services_delete(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:delete_service", NULL, &db) < 0)
        return -1;
    const char *id = http_param(req, "service_id");
    /* the service's endpoints go with it, as in Keystone */
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM endpoint WHERE service_id = ?", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &r, "DELETE FROM service WHERE id = ? RETURNING id", "s",
                     id);
    if (rc == DB_OK && r->nrows == 0) {
        db_rollback(db);
        return idn_not_found(req, "service", id);
    }
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "service");
    return http_reply_empty(req, 204);
}

/* ---- URL substitutions ($(project_id)s, %(tenant_id)s ...) ---- */

/* Keystone formats endpoint URLs with Python's % operator after turning
 * "$(" into "%(", over a whitelist of keys. Returns 0 with *out set, 1
 * when the URL needs a project and there is none (the endpoint is left
 * out), -1 when the URL is malformed. check: only validate (every
 * whitelisted key is fine). */
static int
url_format(struct http_req *req, const char *url, const char *project_id, const char *user_id,
           bool check, const char **out)
{
    static const char *const whitelist[] = {
        "tenant_id", "project_id", "user_id", "public_bind_host", "admin_bind_host",
        "compute_host", "admin_port", "public_port", "public_endpoint", NULL,
    };
    struct buf b;
    int ret = 0;
    buf_init(&b, 8192);
    for (const char *p = url; *p && ret == 0;) {
        bool subst = (*p == '$' || *p == '%') && p[1] == '(';
        if (*p == '%' && p[1] == '%') {
            buf_append(&b, "%", 1);
            p += 2;
            continue;
        }
        if (*p == '%' && !subst) {
            ret = -1;   /* Python: unsupported format character */
            break;
        }
        if (!subst) {
            buf_append(&b, p, 1);
            p++;
            continue;
        }
        const char *k = p + 2, *e = strchr(k, ')');
        if (!e || e[1] != 's') {
            ret = -1;
            break;
        }
        size_t kn = (size_t)(e - k);
        const char *val = NULL;
        bool known = false;
        for (int i = 0; whitelist[i] && !known; i++)
            known = strlen(whitelist[i]) == kn && !strncmp(whitelist[i], k, kn);
        if (!known) {
            ret = -1;
        } else if (check) {
            val = "";
        } else if ((kn == 10 && !strncmp(k, "project_id", kn)) ||
                   (kn == 9 && !strncmp(k, "tenant_id", kn))) {
            if (!(val = project_id))
                ret = 1;
        } else if (kn == 7 && !strncmp(k, "user_id", kn)) {
            if (!(val = user_id))
                ret = -1;
        } else {
            /* Keystone fills these from its own configuration, which we
             * do not have: such an endpoint cannot be rendered */
            ret = -1;
        }
        if (val)
            buf_append(&b, val, strlen(val));
        p = e + 2;
    }
    if (b.toobig)
        ret = -1;
    if (ret == 0)
        *out = arena_strndup(req->arena, b.data ? b.data : "", b.len);
    buf_release(&b);
    return ret;
}

/* ---- endpoints ---- */

#define ENDPOINT_ONE "SELECT " ENDPOINT_COLS " FROM endpoint WHERE id = ?"
#define ENDPOINT_COLS "id, interface, service_id, url, region_id, enabled, extra"
static const char *const endpoint_known[] = {"id", "interface", "service_id", "url",
                                             "region_id", "region", "enabled",
                                             "legacy_endpoint_id", NULL};

static json_t *
endpoint_view(struct http_req *req, const struct db_res *r, int i)
{
    const char *id = db_val(r, i, 0), *region = db_val(r, i, 4);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:o}", "id", id, "interface", db_val(r, i, 1),
                          "service_id", db_val(r, i, 2), "url", db_val(r, i, 3), "enabled",
                          db_bool(r, i, 5), "links", idn_links(req, "endpoints/%s", id));
    json_object_set_new(o, "region_id", region ? json_string(region) : json_null());
    json_object_set_new(o, "region", region ? json_string(region) : json_null());
    idn_merge_extra(o, db_val(r, i, 6));
    return o;
}

/* Keystone's wording when a reference in an endpoint does not resolve */
static int
no_such(struct http_req *req, const char *what, const char *table)
{
    return req_fail(req, 400, "Expecting to find %s in %s. The server could not comply with "
                              "the request since it is either malformed or otherwise "
                              "incorrect. The client is assumed to be in error.", what, table);
}

/* The fields of an endpoint body; absent ones are left as preset. */
struct ep {
    const char *interface, *service_id, *url, *region_id, *region;
    int enabled;
};

static int
endpoint_fields(struct http_req *req, json_t *b, bool create, struct ep *e)
{
    unsigned req_flag = create ? JV_REQUIRED : 0;
    if (jv_str(req, b, "interface", req_flag, 0, &e->interface) < 0 ||
        jv_str(req, b, "region_id", 0, 255, &e->region_id) < 0 ||
        jv_str(req, b, "region", 0, 255, &e->region) < 0 ||
        jv_str(req, b, "service_id", req_flag, 64, &e->service_id) < 0 ||
        jv_str(req, b, "url", req_flag, 225, &e->url) < 0 ||
        jv_bool(req, b, "enabled", 0, &e->enabled) < 0)
        return -1;
    if (json_object_get(b, "interface") && strcmp(e->interface, "public") &&
        strcmp(e->interface, "internal") && strcmp(e->interface, "admin"))
        return jv_invalid(req, "interface", json_object_get(b, "interface"),
                          "is not one of ['admin', 'internal', 'public']");
    if (json_object_get(b, "url")) {
        /* '^[a-zA-Z0-9+.-]+:.+': a scheme, a colon, something */
        const char *p = e->url;
        while (*p && (('a' <= (*p | 32) && (*p | 32) <= 'z') || ('0' <= *p && *p <= '9') ||
                      *p == '+' || *p == '.' || *p == '-'))
            p++;
        if (p == e->url || *p != ':' || !p[1])
            return jv_invalid(req, "url", json_object_get(b, "url"),
                              "does not match '^[a-zA-Z0-9+.-]+:.+'");
    }
    return 0;
}

/* Resolves the region of an endpoint write in the open transaction:
 * region_id must exist; the legacy "region" (when region_id is not given)
 * is created on the fly, as Keystone does for v2-style clients. Then the
 * service must exist. */
static int
endpoint_refs(struct http_req *req, struct db *db, json_t *b, struct ep *e)
{
    int x;
    if (!json_object_get(b, "region_id") && e->region) {
        e->region_id = e->region;
        if ((x = region_exists(req, db, e->region_id)) < 0)
            return -1;
        if (!x && region_insert(req, db, e->region_id, NULL, NULL, NULL) < 0)
            return -1;
    } else if (json_object_get(b, "region_id") &&
               (x = region_exists(req, db, e->region_id)) <= 0) {
        return x < 0 ? -1 : no_such(req, "endpoint region_id", "region table");
    }
    if (json_object_get(b, "service_id")) {
        struct db_res *r;
        int rc = db_exec(db, req->arena, &r, "SELECT 1 FROM service WHERE id = ?", "s",
                         e->service_id);
        if (rc != DB_OK)
            return idn_db_fail(req, rc, "endpoint");
        if (r->nrows == 0)
            return no_such(req, "endpoint service_id", "service table");
    }
    return 0;
}

int
idn_endpoints_list(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:list_endpoints", NULL, &db) < 0)
        return -1;
    const char *iface = http_query(req, "interface"), *svc = http_query(req, "service_id");
    const char *region = http_query(req, "region_id");
    int rc = db_exec(db, req->arena, &r,
                     "SELECT " ENDPOINT_COLS " FROM endpoint WHERE "
                     "(CAST(? AS TEXT) IS NULL OR interface = ?) AND "
                     "(CAST(? AS TEXT) IS NULL OR service_id = ?) AND "
                     "(CAST(? AS TEXT) IS NULL OR region_id = ?) ORDER BY service_id, "
                     "CASE interface WHEN 'public' THEN 0 WHEN 'internal' THEN 1 ELSE 2 END, id",
                     "ssssss", iface, iface, svc, svc, region, region);
    return list_reply(req, rc, r, "endpoint", "endpoints", endpoint_view);
}

int
idn_endpoints_get(struct http_req *req)
{
    return show(req, "identity:get_endpoint", ENDPOINT_ONE, "endpoint", endpoint_view,
                "endpoint_id");
}

int
idn_endpoints_create(struct http_req *req)
{
    struct db *db;
    if (idn_enforce(req, "identity:create_endpoint", NULL, &db) < 0)
        return -1;
    json_t *b = jv_object(req, req->json, "endpoint");
    if (!b)
        return -1;
    struct ep e = {.enabled = 1};
    const char *ignored;
    if (endpoint_fields(req, b, true, &e) < 0)
        return -1;
    if (url_format(req, e.url, NULL, NULL, true, &ignored) != 0)
        return req_fail(req, 400, "Cannot create an endpoint with an invalid URL: %s.", e.url);
    char id[33];
    uuid_hex(id);
    int rc = db_begin(db);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "endpoint");
    if (endpoint_refs(req, db, b, &e) < 0) {
        db_rollback(db);
        return -1;
    }
    rc = db_exec(db, NULL, NULL,
                 "INSERT INTO endpoint (id, interface, service_id, url, region_id, enabled, "
                 "extra) VALUES (?, ?, ?, ?, ?, ?, ?)", "sssssbs", id, e.interface,
                 e.service_id, e.url, e.region_id, e.enabled,
                 idn_extra_of(req, b, endpoint_known));
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "endpoint");
    return row_reply(req, db, ENDPOINT_ONE, "endpoint", endpoint_view, id, 201);
}

int
idn_endpoints_update(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:update_endpoint", NULL, &db) < 0)
        return -1;
    const char *id = http_param(req, "endpoint_id");
    json_t *b = idn_patch_body(req, "endpoint", false);
    if (!b || idn_same_id(req, b, id) < 0)
        return -1;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "endpoint");
    rc = db_exec(db, req->arena, &r, ENDPOINT_ONE, "s", id);
    if (rc != DB_OK) {
        db_rollback(db);
        return idn_db_fail(req, rc, "endpoint");
    }
    if (r->nrows == 0) {
        db_rollback(db);
        return idn_not_found(req, "endpoint", id);
    }
    struct ep e = {.interface = db_val(r, 0, 1), .service_id = db_val(r, 0, 2),
                   .url = db_val(r, 0, 3), .region_id = db_val(r, 0, 4),
                   .enabled = db_bool(r, 0, 5)};
    if (endpoint_fields(req, b, false, &e) < 0 || endpoint_refs(req, db, b, &e) < 0) {
        db_rollback(db);
        return -1;
    }
    rc = db_exec(db, NULL, NULL,
                 "UPDATE endpoint SET interface = ?, service_id = ?, url = ?, region_id = ?, "
                 "enabled = ?, extra = ? WHERE id = ?", "ssssbss", e.interface, e.service_id,
                 e.url, e.region_id, e.enabled,
                 idn_extra_update(req, db_val(r, 0, 6), b, endpoint_known, 0), id);
    if ((rc = db_end(db, rc)) != DB_OK)
        return idn_db_fail(req, rc, "endpoint");
    return row_reply(req, db, ENDPOINT_ONE, "endpoint", endpoint_view, id, 200);
}

int
idn_endpoints_delete(struct http_req *req)
{
    struct db *db;
    struct db_res *r;
    if (idn_enforce(req, "identity:delete_endpoint", NULL, &db) < 0)
        return -1;
    const char *id = http_param(req, "endpoint_id");
    int rc = db_exec(db, req->arena, &r, "DELETE FROM endpoint WHERE id = ? RETURNING id", "s",
                     id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "endpoint");
    if (r->nrows == 0)
        return idn_not_found(req, "endpoint", id);
    return http_reply_empty(req, 204);
}

/* ---- the catalog ---- */

/* The rendered catalog of the last revision seen. Readers deep-copy it
 * under the read lock (json_deep_copy only reads its source), a rebuild
 * swaps it under the write lock. */
static struct {
    pthread_rwlock_t lock;
    uint64_t rev;               /* idn_revision() it was built at; 0: none */
    json_t *cat;                /* owned; never modified once published */
    bool subst;                 /* some URL has a substitution or a '%' */
} cache = {.lock = PTHREAD_RWLOCK_INITIALIZER};

/* Renders the catalog of enabled services with their enabled endpoints,
 * in Keystone's shape, URLs unsubstituted. NULL on database failure. */
static json_t *
catalog_build(struct http_req *req, struct db *db, bool *subst)
{
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r,
                     "SELECT s.id, s.type, s.name, e.id, e.interface, e.region_id, e.url, "
                     "e.extra FROM service s LEFT JOIN endpoint e ON e.service_id = s.id AND "
                     "e.enabled = 1 WHERE s.enabled = 1 ORDER BY s.type, s.id, "
                     "CASE e.interface WHEN 'public' THEN 0 WHEN 'internal' THEN 1 ELSE 2 END, "
                     "e.id", NULL);
    if (rc != DB_OK) {
        idn_db_fail(req, rc, "catalog");
        return NULL;
    }
    json_t *cat = json_array(), *eps = NULL;
    *subst = false;
    for (int i = 0; i < r->nrows; i++) {
        if (i == 0 || strcmp(db_val(r, i, 0), db_val(r, i - 1, 0))) {
            const char *name = db_val(r, i, 2);
            eps = json_array();
            json_array_append_new(cat, json_pack("{s:o,s:s,s:s,s:s}", "endpoints", eps, "id",
                                                 db_val(r, i, 0), "type", db_val(r, i, 1),
                                                 "name", name ? name : ""));
        }
        if (!db_val(r, i, 3))
            continue;       /* a service without endpoints stays, empty */
        const char *region = db_val(r, i, 5), *url = db_val(r, i, 6);
        json_t *ep = json_pack("{s:s,s:s,s:s}", "id", db_val(r, i, 3), "interface",
                               db_val(r, i, 4), "url", url);
        json_object_set_new(ep, "region_id", region ? json_string(region) : json_null());
        json_object_set_new(ep, "region", region ? json_string(region) : json_null());
        idn_merge_extra(ep, db_val(r, i, 7));
        json_array_append_new(eps, ep);
        if (strchr(url, '%') || strstr(url, "$("))
            *subst = true;
    }
    return cat;
}

/* Fills in the URLs of cat (a private copy) for user and project,
 * dropping the endpoints that cannot be rendered for them. */
static void
catalog_subst(struct http_req *req, json_t *cat, const char *user_id, const char *project_id)
{
    size_t i;
    json_t *svc;
    json_array_foreach(cat, i, svc) {
        json_t *eps = json_object_get(svc, "endpoints");
        for (size_t k = 0; k < json_array_size(eps);) {
            json_t *ep = json_array_get(eps, k);
            const char *url = json_string_value(json_object_get(ep, "url")), *out;
            int rc = url_format(req, url, project_id, user_id, false, &out);
            if (rc == 0) {
                json_object_set_new(ep, "url", json_string(out));
                k++;
                continue;
            }
            if (rc < 0)
                log_warn(req->request_id, "catalog: endpoint %s has a malformed URL %s",
                         json_string_value(json_object_get(ep, "id")), url);
            json_array_remove(eps, k);
        }
    }
}

json_t *
idn_catalog_scoped(struct http_req *req, const char *user_id, const char *project_id)
{
    /* the revision is read before the data: a write that lands meanwhile
     * bumps it again, so stale data never outlives its revision */
    uint64_t rev = idn_revision();
    json_t *copy = NULL;
    bool subst = false;
    pthread_rwlock_rdlock(&cache.lock);
    if (cache.cat && cache.rev == rev) {
        copy = json_deep_copy(cache.cat);
        subst = cache.subst;
    }
    pthread_rwlock_unlock(&cache.lock);
    if (!copy) {
        struct db *db = idn_db(req);
        if (!db)
            return NULL;
        json_t *built = catalog_build(req, db, &subst);
        if (!built)
            return NULL;
        copy = json_deep_copy(built);
        pthread_rwlock_wrlock(&cache.lock);
        if (rev >= cache.rev) {
            json_decref(cache.cat);
            cache.cat = built;
            cache.rev = rev;
            cache.subst = subst;
            built = NULL;
        }
        pthread_rwlock_unlock(&cache.lock);
        json_decref(built);
    }
    if (subst)
        catalog_subst(req, copy, user_id, project_id);
    return copy;
}

json_t *
idn_catalog(struct http_req *req)
{
    const struct auth_ctx *a = &req->auth;
    return idn_catalog_scoped(req, a->valid ? a->user_id : NULL,
                              a->valid ? a->project_id : NULL);
}
