/* api_inv.c - inventories of a provider (the whole set or one class) and
 * usages (of a provider, of a project). Changing an inventory checks and
 * bumps the provider's generation in one transaction. */
#include "pl_int.h"
#include "core/arena.h"
#include "core/jv.h"
#include "core/log.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Reads one inventory record (the members Placement allows, with its
 * defaults) into *out. extra names one more allowed member (the
 * generation of the per-class PUT). */
static int
inv_record(struct http_req *req, int mv, json_t *o, const char *rc, const char *extra,
           struct plc_inv *out)
{
    static const char *const keys[] = {"total", "reserved", "min_unit", "max_unit",
                                       "step_size", "allocation_ratio", NULL};
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, o));
    json_object_foreach(o, k, v) {
        bool ok = extra && !strcmp(k, extra);
        for (int i = 0; keys[i] && !ok; i++)
            ok = !strcmp(keys[i], k);
        if (!ok)
            return plc__schema(req, "Additional properties are not allowed ('%s' was "
                               "unexpected)", k);
    }
    *out = (struct plc_inv){.rc = rc, .reserved = 0, .min_unit = 1, .max_unit = PLC_MAXINT,
                            .step_size = 1, .allocation_ratio = 1.0};
    if (plc__int(req, o, "total", 1, PLC_MAXINT, true, &out->total) < 0 ||
        plc__int(req, o, "reserved", 0, PLC_MAXINT, false, &out->reserved) < 0 ||
        plc__int(req, o, "min_unit", 1, PLC_MAXINT, false, &out->min_unit) < 0 ||
        plc__int(req, o, "max_unit", 1, PLC_MAXINT, false, &out->max_unit) < 0 ||
        plc__int(req, o, "step_size", 1, PLC_MAXINT, false, &out->step_size) < 0)
        return -1;
    if ((v = json_object_get(o, "allocation_ratio"))) {
        if (!json_is_number(v))
            return plc__schema(req, "%s is not of type 'number'", jv_repr(req, v));
        out->allocation_ratio = json_number_value(v);
        if (out->allocation_ratio < 0 || out->allocation_ratio > 3.40282e38 ||
            !isfinite(out->allocation_ratio))
            return plc__schema(req, "%s is greater than the maximum of 3.40282e+38",
                               jv_repr(req, v));
    }
    /* reserved may equal total from 1.26 on */
    if (out->reserved > out->total || (mv < 26 && out->reserved == out->total))
        return plc__fail(req, 400, NULL, "Unable to update inventory for resource provider "
                         "%s: Invalid inventory for '%s' on resource provider '%s'. The "
                         "reserved value is greater than or equal to total.",
                         http_param(req, "uuid"), rc, http_param(req, "uuid"));
    if (out->min_unit > out->max_unit)
        return plc__fail(req, 400, NULL, "Unable to update inventory for resource provider "
                         "%s: Invalid inventory for '%s' on resource provider '%s'. The "
                         "min_unit value is greater than max_unit.",
                         http_param(req, "uuid"), rc, http_param(req, "uuid"));
    return 0;
}

/* {"inventories": {...}, "resource_provider_generation": g} of rp */
static json_t *
inv_set(struct http_req *req, const char *uuid, int64_t gen, int *rc)
{
    struct plc_inv *inv;
    int n;
    if ((*rc = plc_db_inv_list(req->db, req->arena, uuid, &inv, &n)))
        return NULL;
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        json_object_set_new(o, inv[i].rc, plc__inv_view(&inv[i]));
    return json_pack("{s:o,s:I}", "inventories", o, "resource_provider_generation",
                     (json_int_t)gen);
}

int
plc__inv_list(struct http_req *req)
{
    struct plc_rp rp;
    int rc;
    if (plc__start(req, "placement:resource_providers:inventories:list") < 0 ||
        plc__rp(req, &rp) < 0)
        return -1;
    json_t *o = inv_set(req, rp.uuid, rp.generation, &rc);
    return o ? http_reply_json(req, 200, o) : plc__dbfail(req);
}

static int
generation_conflict(struct http_req *req)
{
    return plc__fail(req, 409, "placement.concurrent_update", "resource provider generation "
                     "conflict");
}

/* Writes the whole inventory set inv (n) of the {uuid} provider when its
 * generation is still gen, and answers with the new set. */
static int
write_set(struct http_req *req, const struct plc_inv *inv, int n, int64_t gen,
          bool replace_all, int status_ok, bool reply_one)
{
    struct plc_rp rp;
    int rc = plc_db_begin(req->db);
    if (rc != DB_OK)
        return plc__dbfail(req);
    if (plc__rp(req, &rp) < 0) {
        db_rollback(req->db);
        return -1;
    }
    /* a per-class change keeps the other classes */
    struct plc_inv *all = (struct plc_inv *)inv;
    int nall = n;
    if (!replace_all) {
        struct plc_inv *old;
        int nold;
        if ((rc = plc_db_inv_list(req->db, req->arena, rp.uuid, &old, &nold))) {
            db_rollback(req->db);
            return plc__dbfail(req);
        }
        all = arena_alloc(req->arena, sizeof(*all) * (size_t)(nold + n + 1));
        nall = 0;
        for (int i = 0; i < nold; i++)
            if (!n || strcmp(old[i].rc, inv[0].rc))
                all[nall++] = old[i];
        if (n)
            all[nall++] = inv[0];
    }
    const char *busy = NULL;
    rc = plc_db_rp_bump(req->db, rp.uuid, gen);
    if (rc == DB_OK)
        rc = plc_db_inv_replace(req->db, req->arena, rp.uuid, all, nall, &busy);
    rc = db_end(req->db, rc);
    if (rc == -EAGAIN)
        return generation_conflict(req);
    if (rc == -EBUSY)
        return plc__fail(req, 409, "placement.inventory.inuse", "update conflict: Inventory "
                         "for '%s' on resource provider '%s' in use.", busy, rp.uuid);
    if (rc)
        return plc__dbfail(req);
    if (status_ok == 204)
        return http_reply_empty(req, 204);
    if (plc__rp(req, &rp) < 0)
        return -1;
    if (reply_one) {
        struct plc_inv *now;
        int nn;
        if (plc_db_inv_list(req->db, req->arena, rp.uuid, &now, &nn))
            return plc__dbfail(req);
        for (int i = 0; i < nn; i++)
            if (!strcmp(now[i].rc, inv[0].rc)) {
                json_t *o = plc__inv_view(&now[i]);
                json_object_set_new(o, "resource_provider_generation",
                                    json_integer(rp.generation));
                return http_reply_json(req, status_ok, o);
            }
    }
    json_t *o = inv_set(req, rp.uuid, rp.generation, &rc);
    return o ? http_reply_json(req, status_ok, o) : plc__dbfail(req);
}

int
plc__inv_put_all(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:inventories:update");
    json_t *b, *invs;
    int64_t gen = 0;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    if (!json_is_object(b))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v) if (strcmp(k, "inventories") &&
                                     strcmp(k, "resource_provider_generation"))
        return plc__schema(req, "Additional properties are not allowed ('%s' was unexpected)",
                           k);
    if (plc__int(req, b, "resource_provider_generation", 0, INT64_MAX, true, &gen) < 0)
        return -1;
    if (!(invs = json_object_get(b, "inventories")))
        return plc__schema(req, "'inventories' is a required property");
    if (!json_is_object(invs))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, invs));
    size_t n = json_object_size(invs), i = 0;
    struct plc_inv *inv = arena_alloc(req->arena, sizeof(*inv) * (n + 1));
    json_object_foreach(invs, k, v) {
        if (plc__rc_exists(req, k) != 0)
            return plc__fail(req, 400, NULL, "Unknown resource class in inventory for "
                             "resource provider %s: %s", http_param(req, "uuid"), k);
        if (inv_record(req, mv, v, k, NULL, &inv[i++]) < 0)
            return -1;
    }
    return write_set(req, inv, (int)n, gen, true, 200, false);
}

/* POST .../inventories: adds one class ({"resource_class", "total", ...,
 * "resource_provider_generation"}); 201 with the record and its
 * Location, 409 when the provider has that class already. */
int
plc__inv_create(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:inventories:create");
    json_t *b, *c;
    int64_t gen = 0;
    struct plc_inv inv;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    if (!json_is_object(b))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
    if (!(c = json_object_get(b, "resource_class")))
        return plc__schema(req, "'resource_class' is a required property");
    if (!json_is_string(c))
        return plc__schema(req, "%s is not of type 'string'", jv_repr(req, c));
    const char *rc = json_string_value(c);
    json_t *rest = json_deep_copy(b);
    json_object_del(rest, "resource_class");
    int bad = inv_record(req, mv, rest, rc, "resource_provider_generation", &inv) < 0 ||
              plc__int(req, rest, "resource_provider_generation", 0, INT64_MAX, true,
                       &gen) < 0;
    json_decref(rest);
    if (bad)
        return -1;
    if (plc__rc_exists(req, rc) != 0)
        return plc__fail(req, 400, NULL, "No such resource class %s.", rc);
    struct plc_inv *have;
    int n;
    if (plc_db_inv_list(req->db, req->arena, http_param(req, "uuid"), &have, &n))
        return plc__dbfail(req);
    for (int i = 0; i < n; i++)
        if (!strcmp(have[i].rc, rc))
            return plc__fail(req, 409, NULL, "Update conflict: Inventory for %s on resource "
                             "provider %s already exists.", rc, http_param(req, "uuid"));
    plc__location(req, arena_printf(req->arena, "/resource_providers/%s/inventories/%s",
                                    http_param(req, "uuid"), rc));
    return write_set(req, &inv, 1, gen, false, 201, true);
}

int
plc__inv_delete_all(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:inventories:delete");
    if (mv < 0)
        return -1;
    if (mv < 5)
        return plc__fail(req, 405, NULL, "The method specified is not allowed for this "
                         "resource.");
    return write_set(req, NULL, 0, -1, true, 204, false);
}

int
plc__inv_get(struct http_req *req)
{
    struct plc_rp rp;
    struct plc_inv *inv;
    int n;
    const char *rc = http_param(req, "rc");
    if (plc__start(req, "placement:resource_providers:inventories:list") < 0 ||
        plc__rp(req, &rp) < 0)
        return -1;
    if (plc_db_inv_list(req->db, req->arena, rp.uuid, &inv, &n))
        return plc__dbfail(req);
    for (int i = 0; i < n; i++)
        if (!strcmp(inv[i].rc, rc)) {
            json_t *o = plc__inv_view(&inv[i]);
            json_object_set_new(o, "resource_provider_generation",
                                json_integer(rp.generation));
            return http_reply_json(req, 200, o);
        }
    return plc__fail(req, 404, NULL, "No inventory of class %s for %s", rc, rp.uuid);
}

int
plc__inv_put(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:inventories:update");
    const char *rc = http_param(req, "rc");
    json_t *b;
    int64_t gen = 0;
    struct plc_inv inv;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    if (inv_record(req, mv, b, rc, "resource_provider_generation", &inv) < 0 ||
        plc__int(req, b, "resource_provider_generation", 0, INT64_MAX, true, &gen) < 0)
        return -1;
    if (plc__rc_exists(req, rc) != 0)
        return plc__fail(req, 400, NULL, "No such resource class %s.", rc);
    return write_set(req, &inv, 1, gen, false, 200, true);
}

int
plc__inv_delete(struct http_req *req)
{
    struct plc_rp rp;
    struct plc_inv *inv;
    int n;
    const char *rc = http_param(req, "rc");
    if (plc__start(req, "placement:resource_providers:inventories:delete") < 0 ||
        plc__rp(req, &rp) < 0)
        return -1;
    if (plc_db_inv_list(req->db, req->arena, rp.uuid, &inv, &n))
        return plc__dbfail(req);
    bool found = false;
    for (int i = 0; i < n && !found; i++)
        found = !strcmp(inv[i].rc, rc);
    if (!found)
        return plc__fail(req, 404, NULL, "No inventory of class %s found for delete", rc);
    /* the set without the class replaces the old one */
    int rcode = plc_db_begin(req->db);
    if (rcode != DB_OK)
        return plc__dbfail(req);
    struct plc_inv *keep = arena_alloc(req->arena, sizeof(*keep) * (size_t)(n + 1));
    int nk = 0;
    if ((rcode = plc_db_inv_list(req->db, req->arena, rp.uuid, &inv, &n)) == DB_OK)
        for (int i = 0; i < n; i++)
            if (strcmp(inv[i].rc, rc))
                keep[nk++] = inv[i];
    const char *busy = NULL;
    if (rcode == DB_OK)
        rcode = plc_db_rp_bump(req->db, rp.uuid, -1);
    if (rcode == DB_OK)
        rcode = plc_db_inv_replace(req->db, req->arena, rp.uuid, keep, nk, &busy);
    rcode = db_end(req->db, rcode);
    if (rcode == -EBUSY)
        return plc__fail(req, 409, "placement.inventory.inuse", "Unable to delete inventory "
                         "of class %s: Inventory for '%s' on resource provider '%s' in use.",
                         rc, rc, rp.uuid);
    return rcode ? plc__dbfail(req) : http_reply_empty(req, 204);
}

int
plc__usages_rp(struct http_req *req)
{
    struct plc_rp rp;
    struct plc_inv *inv, *use;
    int n, nu;
    if (plc__start(req, "placement:resource_providers:usages") < 0 || plc__rp(req, &rp) < 0)
        return -1;
    if (plc_db_inv_list(req->db, req->arena, rp.uuid, &inv, &n) ||
        plc_db_usages(req->db, req->arena, rp.uuid, &use, &nu))
        return plc__dbfail(req);
    /* every inventoried class shows, with 0 when nothing uses it */
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        json_object_set_new(o, inv[i].rc, json_integer(inv[i].used));
    for (int i = 0; i < nu; i++)
        json_object_set_new(o, use[i].rc, json_integer(use[i].used));
    return http_reply_json(req, 200, json_pack("{s:I,s:o}", "resource_provider_generation",
                                               (json_int_t)rp.generation, "usages", o));
}

int
plc__usages(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:usages", 9);
    struct plc_inv *use;
    int nu;
    if (mv < 0)
        return -1;
    static const char *const q[] = {"project_id", "user_id", NULL};
    static const char *const q38[] = {"project_id", "user_id", "consumer_type", NULL};
    if (plc__query_only(req, mv >= 38 ? q38 : q) < 0)
        return -1;
    const char *project = http_query(req, "project_id");
    if (!project)
        return plc__fail(req, 400, NULL, "Invalid query string parameters: 'project_id' is a "
                         "required property");
    if (mv >= 38) {
        /* grouped by consumer type, each with its count of consumers */
        const char **types;
        int64_t *counts;
        if (plc_db_usages_typed(req->db, req->arena, project, http_query(req, "user_id"),
                                http_query(req, "consumer_type"), &types, &use, &counts, &nu))
            return plc__dbfail(req);
        json_t *o = json_object();
        for (int i = 0; i < nu; i++) {
            json_t *g = json_object_get(o, types[i]);
            if (!g) {
                g = json_pack("{s:I}", "consumer_count", (json_int_t)counts[i]);
                json_object_set_new(o, types[i], g);
            }
            json_object_set_new(g, use[i].rc, json_integer(use[i].used));
        }
        return http_reply_json(req, 200, json_pack("{s:o}", "usages", o));
    }
    if (plc_db_usages_project(req->db, req->arena, project, http_query(req, "user_id"), &use,
                              &nu))
        return plc__dbfail(req);
    json_t *o = json_object();
    for (int i = 0; i < nu; i++)
        json_object_set_new(o, use[i].rc, json_integer(use[i].used));
    return http_reply_json(req, 200, json_pack("{s:o}", "usages", o));
}
