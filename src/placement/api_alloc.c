/* api_alloc.c - allocations (GET/PUT/DELETE /allocations/{consumer},
 * POST /allocations, GET /resource_providers/{uuid}/allocations) and
 * allocation candidates for single providers. Every write of allocations
 * runs in one transaction (pl_db.c checks capacity and generations). */
#include "pl_int.h"
#include "core/arena.h"
#include "core/jv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Consumers made before 1.8 carry no project or user: Placement records
 * them under this id (its incomplete_consumer_project_id default). */
#define INCOMPLETE "00000000-0000-0000-0000-000000000000"

static bool
only_keys(struct http_req *req, json_t *o, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (int i = 0; keys[i] && !ok; i++)
            ok = !strcmp(keys[i], k);
        if (!ok) {
            plc__schema(req, "Additional properties are not allowed ('%s' was unexpected)", k);
            return false;
        }
    }
    return true;
}

/* Adds the {rc: amount} object res of provider rp to the items. */
static int
add_resources(struct http_req *req, const char *rp, json_t *res, struct plc_item *items,
              int *n)
{
    const char *k;
    json_t *v;
    if (!json_is_object(res))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, res));
    if (!json_object_size(res))
        return plc__schema(req, "{} does not have enough properties");
    json_object_foreach(res, k, v) {
        if (!plc__std_rc(k) && !plc__custom_name(k))
            return plc__schema(req, "'%s' does not match '^[A-Z0-9_]+$'", k);
        if (!json_is_integer(v))
            return plc__schema(req, "%s is not of type 'integer'", jv_repr(req, v));
        if (json_integer_value(v) < 1)
            return plc__schema(req, "%s is less than the minimum of 1", jv_repr(req, v));
        if (json_integer_value(v) > PLC_MAXINT)
            return plc__schema(req, "%s is greater than the maximum of %lld", jv_repr(req, v),
                               PLC_MAXINT);
        if (plc__rc_exists(req, k) != 0)
            return plc__fail(req, 400, NULL, "Unable to allocate inventory: No such resource "
                             "class %s.", k);
        items[*n] = (struct plc_item){.rp = rp, .rc = k, .used = json_integer_value(v)};
        (*n)++;
    }
    return 0;
}

static size_t
count_items(json_t *allocs)
{
    size_t n = 0, i;
    const char *k;
    json_t *v, *r;
    if (json_is_array(allocs))
        json_array_foreach(allocs, i, v) if ((r = json_object_get(v, "resources")))
            n += json_object_size(r);
    if (json_is_object(allocs))
        json_object_foreach(allocs, k, v) if ((r = json_object_get(v, "resources")))
            n += json_object_size(r);
    return n;
}

/* One consumer's body (PUT, or one member of POST) into *cs. */
static int
consumer_body(struct http_req *req, int mv, json_t *b, const char *consumer, bool post,
              struct plc_consumer_set *cs)
{
    static const char *const k_old[] = {"allocations", "project_id", "user_id", NULL};
    static const char *const k_28[] = {"allocations", "project_id", "user_id",
                                       "consumer_generation", NULL};
    static const char *const k_38[] = {"allocations", "project_id", "user_id",
                                       "consumer_generation", "consumer_type", NULL};
    static const char *const k_7[] = {"allocations", NULL};
    if (!json_is_object(b))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
    if (!only_keys(req, b, mv >= 38 ? k_38 : mv >= 28 ? k_28 : mv >= 8 ? k_old : k_7))
        return -1;
    json_t *allocs = json_object_get(b, "allocations"), *v;
    if (!allocs)
        return plc__schema(req, "'allocations' is a required property");
    memset(cs, 0, sizeof(*cs));
    cs->consumer = consumer;
    cs->project = cs->user = INCOMPLETE;
    if (mv >= 8) {
        const char *keys[] = {"project_id", "user_id"};
        for (int i = 0; i < 2; i++) {
            if (!(v = json_object_get(b, keys[i])))
                return plc__schema(req, "'%s' is a required property", keys[i]);
            if (!json_is_string(v) || !*json_string_value(v) ||
                strlen(json_string_value(v)) > 255)
                return plc__schema(req, "%s is not of type 'string'", jv_repr(req, v));
            *(i ? &cs->user : &cs->project) = json_string_value(v);
        }
    }
    if (mv >= 28) {
        if (!(v = json_object_get(b, "consumer_generation")))
            return plc__schema(req, "'consumer_generation' is a required property");
        if (!json_is_null(v) && !json_is_integer(v))
            return plc__schema(req, "%s is not of type 'integer', 'null'", jv_repr(req, v));
        cs->check_gen = true;
        cs->gen = json_is_null(v) ? -1 : json_integer_value(v);
    }
    if (mv >= 38) {
        if (!(v = json_object_get(b, "consumer_type")))
            return plc__schema(req, "'consumer_type' is a required property");
        if (!json_is_string(v) || !*json_string_value(v))
            return plc__schema(req, "%s is not of type 'string'", jv_repr(req, v));
        cs->ctype = json_string_value(v);
    }
    cs->items = arena_alloc(req->arena, sizeof(*cs->items) * (count_items(allocs) + 1));
    const char *k;
    size_t i;
    if (mv < 12 && !post) {
        /* the list form: [{"resource_provider": {"uuid"}, "resources"}] */
        if (!json_is_array(allocs))
            return plc__schema(req, "%s is not of type 'array'", jv_repr(req, allocs));
        if (!json_array_size(allocs))
            return plc__schema(req, "[] is too short");
        json_array_foreach(allocs, i, v) {
            json_t *rp = json_object_get(v, "resource_provider"), *u;
            if (!json_is_object(v) || !json_is_object(rp) ||
                !json_is_string(u = json_object_get(rp, "uuid")) ||
                !plc__is_uuid(json_string_value(u)))
                return plc__schema(req, "%s is not valid under any of the given schemas",
                                   jv_repr(req, v));
            if (add_resources(req, json_string_value(u), json_object_get(v, "resources"),
                              cs->items, &cs->nitems) < 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(allocs))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, allocs));
    /* an empty set deletes the consumer's allocations (from 1.28) */
    if (!json_object_size(allocs) && mv < 28 && !post)
        return plc__schema(req, "{} does not have enough properties");
    json_object_foreach(allocs, k, v) {
        if (!plc__is_uuid(k))
            return plc__schema(req, "'%s' does not match any of the regexes", k);
        if (!json_is_object(v) || !json_object_get(v, "resources"))
            return plc__schema(req, "'resources' is a required property");
        if (add_resources(req, k, json_object_get(v, "resources"), cs->items, &cs->nitems) < 0)
            return -1;
    }
    return 0;
}

static int
apply(struct http_req *req, struct plc_consumer_set *cs, int n)
{
    struct plc_err err = {0};
    int rc = plc_db_begin(req->db);
    if (rc != DB_OK)
        return plc__dbfail(req);
    rc = plc_db_alloc_apply(req->db, req->arena, cs, n, &err);
    rc = db_end(req->db, rc == 0 ? DB_OK : DB_ERR);
    if (err.status)
        return plc__fail(req, err.status, err.code, "%s", err.msg);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}

int
plc__alloc_put(struct http_req *req)
{
    int mv = plc__start(req, "placement:allocations:update");
    const char *consumer = http_param(req, "consumer");
    json_t *b;
    struct plc_consumer_set cs;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    if (!plc__is_uuid(consumer))
        return plc__fail(req, 400, NULL, "Malformed consumer_uuid: %s", consumer);
    if (consumer_body(req, mv, b, consumer, false, &cs) < 0)
        return -1;
    return apply(req, &cs, 1);
}

int
plc__alloc_post(struct http_req *req)
{
    int mv = plc__start(req, "placement:allocations:manage");
    json_t *b, *v;
    const char *k;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    if (mv < 13)
        return plc__fail(req, 405, NULL, "The method specified is not allowed for this "
                         "resource.");
    if (!json_is_object(b))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
    if (!json_object_size(b))
        return plc__schema(req, "{} does not have enough properties");
    struct plc_consumer_set *cs = arena_alloc(req->arena, sizeof(*cs) * json_object_size(b));
    int n = 0;
    json_object_foreach(b, k, v) {
        if (!plc__is_uuid(k))
            return plc__schema(req, "'%s' does not match any of the regexes", k);
        if (consumer_body(req, mv, v, k, true, &cs[n++]) < 0)
            return -1;
    }
    return apply(req, cs, n);
}

int
plc__alloc_get(struct http_req *req)
{
    int mv = plc__start(req, "placement:allocations:list");
    const char *consumer = http_param(req, "consumer");
    struct plc_consumer c;
    struct plc_item *it;
    int n;
    if (mv < 0)
        return -1;
    if (plc_db_alloc_get(req->db, req->arena, consumer, &c, &it, &n))
        return plc__dbfail(req);
    json_t *allocs = json_object();
    for (int i = 0; i < n; i++) {
        json_t *e = json_object_get(allocs, it[i].rp);
        if (!e) {
            struct plc_rp rp;
            if (plc_db_rp_get(req->db, req->arena, it[i].rp, &rp)) {
                json_decref(allocs);
                return plc__dbfail(req);
            }
            e = json_pack("{s:I,s:{}}", "generation", (json_int_t)rp.generation, "resources");
            json_object_set_new(allocs, it[i].rp, e);
        }
        json_object_set_new(json_object_get(e, "resources"), it[i].rc,
                            json_integer(it[i].used));
    }
    json_t *o = json_pack("{s:o}", "allocations", allocs);
    if (mv >= 12 && c.found) {
        json_object_set_new(o, "project_id", json_string(c.project));
        json_object_set_new(o, "user_id", json_string(c.user));
    }
    if (mv >= 28 && c.found)
        json_object_set_new(o, "consumer_generation", json_integer(c.generation));
    if (mv >= 38 && c.found)
        json_object_set_new(o, "consumer_type", json_string(c.ctype ? c.ctype : "UNKNOWN"));
    return http_reply_json(req, 200, o);
}

int
plc__alloc_delete(struct http_req *req)
{
    const char *consumer = http_param(req, "consumer");
    if (plc__start(req, "placement:allocations:delete") < 0)
        return -1;
    int rc = plc_db_begin(req->db);
    if (rc == DB_OK)
        rc = plc_db_alloc_delete(req->db, req->arena, consumer);
    rc = db_end(req->db, rc);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No allocations for consumer '%s'", consumer);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}

int
plc__rp_allocs(struct http_req *req)
{
    struct plc_rp rp;
    struct plc_item *it;
    int n;
    if (plc__start(req, "placement:resource_providers:allocations:list") < 0 ||
        plc__rp(req, &rp) < 0)
        return -1;
    if (plc_db_alloc_by_rp(req->db, req->arena, rp.uuid, &it, &n))
        return plc__dbfail(req);
    json_t *allocs = json_object();
    for (int i = 0; i < n; i++) {
        json_t *e = json_object_get(allocs, it[i].rp);
        if (!e) {
            e = json_pack("{s:{}}", "resources");
            json_object_set_new(allocs, it[i].rp, e);
        }
        json_object_set_new(json_object_get(e, "resources"), it[i].rc,
                            json_integer(it[i].used));
    }
    return http_reply_json(req, 200, json_pack("{s:o,s:I}", "allocations", allocs,
                                               "resource_provider_generation",
                                               (json_int_t)rp.generation));
}
