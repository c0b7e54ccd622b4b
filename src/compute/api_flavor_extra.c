/* api_flavor_extra.c - what hangs off a flavor: its extra specs
 * (/flavors/{id}/os-extra_specs) and the access list of a private flavor
 * (/flavors/{id}/os-flavor-access, addTenantAccess/removeTenantAccess
 * actions), with Nova's bodies and messages. */
#include "compute_int.h"
#include "cp_db.h"
#include "core/arena.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPECS 256   /* per request; Nova has no limit, a bound keeps it finite */

json_t *
cmp__specs_json(struct http_req *req, const char *id)
{
    struct db_res *r;
    int rc = cmp_db_specs(req->db, req->arena, id, &r);
    if (rc) {
        cmp__db_fail(req, rc);
        return NULL;
    }
    json_t *o = json_object();
    for (int i = 0; i < r->nrows; i++)
        json_object_set_new(o, db_val(r, i, 0), json_string(db_val(r, i, 1)));
    return o;
}

/* Nova's key pattern ^[a-zA-Z0-9-_:. ]{1,255}$ */
static bool
good_key(const char *k)
{
    size_t n = strlen(k);
    return n && n <= 255 &&
           strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:. ") == n;
}

/* The stored text of a spec value: strings as they are (at most 255
 * characters), numbers and booleans as Nova's str() writes them. NULL
 * with Nova's 400 otherwise. */
static const char *
spec_value(struct http_req *req, const char *key, json_t *v)
{
    if (json_is_string(v) && strlen(json_string_value(v)) <= 255)
        return json_string_value(v);
    if (json_is_integer(v))
        return arena_printf(req->arena, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return arena_printf(req->arena, "%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "True" : "False";
    cmp__invalid(req, key, v, json_is_string(v) ? "is too long"
                                                : "is not of type 'string', 'number', 'boolean'");
    return NULL;
}

/* Validates a {key: value, ...} object and stores it; 0 or -1 (recorded). */
static int
store_specs(struct http_req *req, const char *id, json_t *specs)
{
    const char *keys[MAX_SPECS], *vals[MAX_SPECS];
    int n = 0;
    const char *k;
    json_t *v;
    if (json_object_size(specs) > MAX_SPECS)
        return req_fail(req, 400, "Request body contains too many items");
    json_object_foreach(specs, k, v) {
        if (!good_key(k))
            return req_fail(req, 400, "Invalid input for field/attribute extra_specs. Value: "
                            "%s. Additional properties are not allowed ('%s' was unexpected)",
                            cmp__repr(req, specs), k);
        keys[n] = k;
        if (!(vals[n++] = spec_value(req, k, v)))
            return -1;
    }
    int rc = cmp_db_specs_set(req->db, id, keys, vals, n);
    return rc ? cmp__db_fail(req, rc) : 0;
}

int
cmp__specs_list(struct http_req *req)
{
    struct cmp_flavor f;
    json_t *o;
    if (cmp__policy(req, "os_compute_api:os-flavor-extra-specs:index", NULL, NULL) < 0 ||
        cmp__flavor_find(req, &f) < 0 || !(o = cmp__specs_json(req, f.id)))
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "extra_specs", o));
}

int
cmp__specs_create(struct http_req *req)
{
    struct cmp_flavor f;
    json_t *body, *specs;
    if (cmp__policy(req, "os_compute_api:os-flavor-extra-specs:create", NULL, NULL) < 0 ||
        !(body = cmp__body(req)))
        return -1;
    specs = json_object_get(body, "extra_specs");
    if (!json_is_object(specs))
        return cmp__invalid(req, "extra_specs", specs,
                            specs ? "is not of type 'object'"
                                  : "'extra_specs' is a required property");
    if (cmp__flavor_find(req, &f) < 0 || store_specs(req, f.id, specs) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:O}", "extra_specs", specs));
}

int
cmp__spec_show(struct http_req *req)
{
    struct cmp_flavor f;
    json_t *o;
    const char *key = http_param(req, "key");
    if (cmp__policy(req, "os_compute_api:os-flavor-extra-specs:show", NULL, NULL) < 0 ||
        cmp__flavor_find(req, &f) < 0 || !(o = cmp__specs_json(req, f.id)))
        return -1;
    json_t *v = json_object_get(o, key);
    if (!v) {
        json_decref(o);
        return req_fail(req, 404, "Flavor %s has no extra specs with key %s.", f.id, key);
    }
    json_t *out = json_pack("{s:O}", key, v);
    json_decref(o);
    return http_reply_json(req, 200, out);
}

int
cmp__spec_update(struct http_req *req)
{
    struct cmp_flavor f;
    json_t *body;
    const char *key = http_param(req, "key");
    if (cmp__policy(req, "os_compute_api:os-flavor-extra-specs:update", NULL, NULL) < 0 ||
        !(body = cmp__body(req)))
        return -1;
    if (json_object_size(body) > 1)
        return req_fail(req, 400, "Request body contains too many items");
    if (!json_object_get(body, key))
        return req_fail(req, 400, "Request body and URI mismatch");
    if (cmp__flavor_find(req, &f) < 0 || store_specs(req, f.id, body) < 0)
        return -1;
    return http_reply_json(req, 200, json_incref(body));
}

int
cmp__spec_delete(struct http_req *req)
{
    struct cmp_flavor f;
    const char *key = http_param(req, "key");
    if (cmp__policy(req, "os_compute_api:os-flavor-extra-specs:delete", NULL, NULL) < 0 ||
        cmp__flavor_find(req, &f) < 0)
        return -1;
    int rc = cmp_db_spec_delete(req->db, f.id, key);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Flavor %s has no extra specs with key %s.", f.id, key);
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 202);
}

/* ---- access ---- */

static int
reply_access(struct http_req *req, const char *id)
{
    struct db_res *r;
    int rc = cmp_db_access_list(req->db, req->arena, id, &r);
    if (rc)
        return cmp__db_fail(req, rc);
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s}", "flavor_id", id, "tenant_id",
                                             db_val(r, i, 0)));
    return http_reply_json(req, 200, json_pack("{s:o}", "flavor_access", arr));
}

int
cmp__access_list(struct http_req *req)
{
    struct cmp_flavor f;
    if (cmp__policy(req, "os_compute_api:os-flavor-access", NULL, NULL) < 0 ||
        cmp__flavor_find(req, &f) < 0)
        return -1;
    if (f.is_public)
        return req_fail(req, 404, "Access list not available for public flavors.");
    return reply_access(req, f.id);
}

/* POST /flavors/{id}/action: {"addTenantAccess": {"tenant": P}} or
 * {"removeTenantAccess": {"tenant": P}}. */
int
cmp__flavor_action(struct http_req *req)
{
    struct cmp_flavor f;
    json_t *body, *o;
    const char *action = NULL, *tenant;
    bool add;
    if (!(body = cmp__body(req)))
        return -1;
    if ((o = json_object_get(body, "addTenantAccess")))
        action = "addTenantAccess";
    else if ((o = json_object_get(body, "removeTenantAccess")))
        action = "removeTenantAccess";
    if (!action || json_object_size(body) != 1) {
        void *it = json_object_iter(body);
        return req_fail(req, 400, "There is no such action: %s",
                        it ? json_object_iter_key(it) : "None");
    }
    add = action[0] == 'a';
    if (cmp__policy(req, add ? "os_compute_api:os-flavor-access:add_tenant_access"
                             : "os_compute_api:os-flavor-access:remove_tenant_access",
                    NULL, NULL) < 0)
        return -1;
    json_t *t = json_is_object(o) ? json_object_get(o, "tenant") : NULL;
    if (!json_is_object(o))
        return cmp__invalid(req, action, o, "is not of type 'object'");
    if (!json_is_string(t) || !*json_string_value(t) || strlen(json_string_value(t)) > 255)
        return cmp__invalid(req, arena_printf(req->arena, "%s/tenant", action), t,
                            t ? "is not a valid project id" : "'tenant' is a required property");
    tenant = json_string_value(t);
    if (cmp__flavor_find(req, &f) < 0)
        return -1;
    if (f.is_public)
        return add ? req_fail(req, 409, "Can not add access to a public flavor.")
                   : req_fail(req, 404, "Flavor access not found for %s / %s combination.",
                              f.id, tenant);
    int rc = add ? cmp_db_access_add(req->db, f.id, tenant)
                 : cmp_db_access_remove(req->db, f.id, tenant);
    if (rc == -EEXIST)
        return req_fail(req, 409, "Flavor access already exists for flavor %s and project %s "
                        "combination.", f.id, tenant);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Flavor access not found for %s / %s combination.", f.id,
                        tenant);
    return rc ? cmp__db_fail(req, rc) : reply_access(req, f.id);
}
