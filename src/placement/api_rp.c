/* api_rp.c - resource providers (list, create, show, update, delete) and
 * their traits and aggregates. */
#include "pl_int.h"
#include "core/arena.h"
#include "core/jv.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *
lower_uuid(struct http_req *req, const char *s)
{
    char *o = arena_strdup(req->arena, s);
    for (char *p = o; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return o;
}

int
plc__parse_resources(struct http_req *req, const char *s, struct plc_item **res, int *n)
{
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    *res = arena_alloc(req->arena, sizeof(**res) * (size_t)cap);
    *n = 0;
    char *copy = arena_strdup(req->arena, s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':'), *end;
        if (!colon)
            return plc__fail(req, 400, NULL, "Badly formed resources parameter. Expected "
                             "resources query string parameter in form: "
                             "?resources=VCPU:2,MEMORY_MB:1024. Got: %s.", s);
        *colon = '\0';
        long long v = strtoll(colon + 1, &end, 10);
        if (*end || end == colon + 1 || v < 1)
            return plc__fail(req, 400, NULL, "Requested resource %s expected positive "
                             "integer amount. Got: %s.", t, colon + 1);
        if (plc__rc_exists(req, t) != 0)
            return plc__fail(req, 400, NULL, "Invalid resource class in resources parameter: "
                             "No such resource class %s.", t);
        (*res)[*n].rc = t;
        (*res)[*n].used = v;
        (*n)++;
    }
    if (!*n)
        return plc__fail(req, 400, NULL, "Badly formed resources parameter. Expected "
                         "resources query string parameter in form: "
                         "?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.");
    return 0;
}

int
plc__parse_traits(struct http_req *req, const char *s, bool forbid_ok, const char ***req_out,
                  int *nreq, const char ***forbid, int *nforbid)
{
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    *req_out = arena_alloc(req->arena, sizeof(char *) * (size_t)cap);
    *forbid = arena_alloc(req->arena, sizeof(char *) * (size_t)cap);
    *nreq = *nforbid = 0;
    char *copy = arena_strdup(req->arena, s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bool neg = forbid_ok && *t == '!';
        const char *name = neg ? t + 1 : t;
        if (!plc__std_trait(name) &&
            plc_db_custom_exists(req->db, req->arena, "trait", name) != 0)
            return plc__fail(req, 400, NULL, "No such trait(s): %s.", name);
        if (neg)
            (*forbid)[(*nforbid)++] = name;
        else
            (*req_out)[(*nreq)++] = name;
    }
    if (!*nreq && !*nforbid)
        return plc__fail(req, 400, NULL, "Invalid query string parameters: Expected "
                         "'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. "
                         "Got: %s", s);
    return 0;
}

int
plc__parse_member_of(struct http_req *req, const char *s, const char ***out, int *n)
{
    const char *list = !strncmp(s, "in:", 3) ? s + 3 : s;
    int cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    *out = arena_alloc(req->arena, sizeof(char *) * (size_t)cap);
    *n = 0;
    char *copy = arena_strdup(req->arena, list), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!plc__is_uuid(t))
            return plc__fail(req, 400, NULL, "Invalid query string parameters: Expected "
                             "'member_of' parameter to contain valid UUID(s). Got: %s", t);
        (*out)[(*n)++] = lower_uuid(req, t);
    }
    return *n ? 0 : plc__fail(req, 400, NULL, "Invalid query string parameters: Expected "
                              "'member_of' parameter to contain valid UUID(s). Got: %s", s);
}

int
plc__fits(struct http_req *req, const char *rp, const struct plc_item *res, int n, bool *ok)
{
    struct plc_inv *inv;
    int ni, rc = plc_db_inv_list(req->db, req->arena, rp, &inv, &ni);
    if (rc)
        return rc;
    *ok = true;
    for (int k = 0; k < n && *ok; k++) {
        const struct plc_inv *f = NULL;
        for (int i = 0; i < ni && !f; i++)
            if (!strcmp(inv[i].rc, res[k].rc))
                f = &inv[i];
        *ok = f && res[k].used >= f->min_unit && res[k].used <= f->max_unit &&
              (f->step_size <= 0 || res[k].used % f->step_size == 0) &&
              (double)(f->total - f->reserved) * f->allocation_ratio >=
                  (double)(f->used + res[k].used);
    }
    return 0;
}

int
plc__rp_list(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:list");
    if (mv < 0)
        return -1;
    static const char *const q0[] = {"name", "uuid", NULL};
    static const char *const q3[] = {"name", "uuid", "member_of", NULL};
    static const char *const q4[] = {"name", "uuid", "member_of", "resources", NULL};
    static const char *const q14[] = {"name", "uuid", "member_of", "resources", "in_tree",
                                      NULL};
    static const char *const q18[] = {"name", "uuid", "member_of", "resources", "in_tree",
                                      "required", NULL};
    if (plc__query_only(req, mv >= 18 ? q18 : mv >= 14 ? q14 : mv >= 4 ? q4 : mv >= 3 ? q3
                                                                                  : q0) < 0)
        return -1;
    const char *uuid = http_query(req, "uuid"), *tree = http_query(req, "in_tree");
    const char *res_q = http_query(req, "resources"), *req_q = http_query(req, "required");
    const char *mo = http_query(req, "member_of");
    if (uuid && !plc__is_uuid(uuid))
        return plc__fail(req, 400, NULL, "Invalid query string parameters: '%s' is not a "
                         "'uuid'", uuid);
    if (tree && !plc__is_uuid(tree))
        return plc__fail(req, 400, NULL, "Invalid uuid value: %s", tree);
    struct plc_item *res = NULL;
    const char **reqt = NULL, **forb = NULL, **aggs = NULL;
    int nres = 0, nreq = 0, nforb = 0, naggs = 0;
    if ((res_q && plc__parse_resources(req, res_q, &res, &nres) < 0) ||
        (req_q && plc__parse_traits(req, req_q, mv >= 22, &reqt, &nreq, &forb, &nforb) < 0) ||
        (mo && plc__parse_member_of(req, mo, &aggs, &naggs) < 0))
        return -1;
    struct plc_rp *rps;
    int n;
    if (plc_db_rp_list(req->db, req->arena, http_query(req, "name"),
                       uuid ? lower_uuid(req, uuid) : NULL, tree ? lower_uuid(req, tree) : NULL,
                       &rps, &n))
        return plc__dbfail(req);
    json_t *list = json_array();
    arena_on_release(req->arena, (void (*)(void *))json_decref, list);
    for (int i = 0; i < n; i++) {
        bool ok = true;
        if ((nres && plc__fits(req, rps[i].uuid, res, nres, &ok)) ||
            (ok && (nreq || nforb) &&
             plc_db_rp_traits_match(req->db, req->arena, rps[i].uuid, reqt, nreq, forb, nforb,
                                    &ok)) ||
            (ok && naggs && plc_db_rp_in_aggs(req->db, req->arena, rps[i].uuid, aggs, naggs,
                                              &ok)))
            return plc__dbfail(req);
        if (ok)
            json_array_append_new(list, plc__rp_view(req, &rps[i], mv));
    }
    return http_reply_json(req, 200, json_pack("{s:O}", "resource_providers", list));
}

/* Reads name and parent_provider_uuid of a create/update body. */
static int
rp_body(struct http_req *req, int mv, json_t *b, bool create, const char **name,
        const char **uuid, const char **parent, bool *parent_given)
{
    const char *k;
    json_t *v;
    if (!json_is_object(b))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
    json_object_foreach(b, k, v) {
        if (strcmp(k, "name") && !(create && !strcmp(k, "uuid")) &&
            !(mv >= 14 && !strcmp(k, "parent_provider_uuid")))
            return plc__schema(req, "Additional properties are not allowed ('%s' was "
                               "unexpected)", k);
    }
    v = json_object_get(b, "name");
    if (!v)
        return plc__schema(req, "'name' is a required property");
    if (!json_is_string(v))
        return plc__schema(req, "%s is not of type 'string'", jv_repr(req, v));
    *name = json_string_value(v);
    if (!**name)
        return plc__schema(req, "'' is too short");
    if (strlen(*name) > 200)
        return plc__schema(req, "'%s' is too long", *name);
    if (create && (v = json_object_get(b, "uuid"))) {
        if (!json_is_string(v) || !plc__is_uuid(json_string_value(v)))
            return plc__schema(req, "%s is not a 'uuid'", jv_repr(req, v));
        *uuid = lower_uuid(req, json_string_value(v));
    }
    if ((v = json_object_get(b, "parent_provider_uuid"))) {
        *parent_given = true;
        if (!json_is_null(v) && (!json_is_string(v) || !plc__is_uuid(json_string_value(v))))
            return plc__schema(req, "%s is not a 'uuid'", jv_repr(req, v));
        *parent = json_is_null(v) ? NULL : lower_uuid(req, json_string_value(v));
    }
    return 0;
}

int
plc__rp_create(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:create");
    json_t *b;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    const char *name = NULL, *uuid = NULL, *parent = NULL;
    bool pg = false;
    if (rp_body(req, mv, b, true, &name, &uuid, &parent, &pg) < 0)
        return -1;
    if (!uuid) {
        char h[33];
        uuid_hex(h);
        uuid = arena_printf(req->arena, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 13,
                            h + 17, h + 20);
    }
    struct plc_rp rp = {.uuid = uuid, .name = name, .parent = parent, .root = uuid};
    int rc = plc_db_begin(req->db);
    if (rc == DB_OK && parent) {
        struct plc_rp p;
        rc = plc_db_rp_get(req->db, req->arena, parent, &p);
        if (rc == -ENOENT) {
            db_rollback(req->db);
            return plc__fail(req, 400, NULL, "parent provider UUID does not exist.");
        }
        rp.root = p.root;
    }
    if (rc == DB_OK) {
        struct plc_rp *same;
        int n;
        rc = plc_db_rp_list(req->db, req->arena, NULL, uuid, NULL, &same, &n);
        if (rc == DB_OK && n) {
            db_rollback(req->db);
            return plc__fail(req, 409, "placement.duplicate_uuid", "Conflicting resource "
                             "provider uuid: %s already exists.", uuid);
        }
    }
    if (rc == DB_OK)
        rc = plc_db_rp_create(req->db, &rp);
    rc = db_end(req->db, rc);
    if (rc == -EEXIST)
        return plc__fail(req, 409, "placement.duplicate_name", "Conflicting resource "
                         "provider name: %s already exists.", name);
    if (rc)
        return plc__dbfail(req);
    plc__location(req, arena_printf(req->arena, "/resource_providers/%s", uuid));
    if (mv < 20)
        return http_reply_empty(req, 201);
    return http_reply_json(req, 200, plc__rp_view(req, &rp, mv));
}

int
plc__rp_show(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:show");
    struct plc_rp rp;
    if (mv < 0 || plc__rp(req, &rp) < 0)
        return -1;
    return http_reply_json(req, 200, plc__rp_view(req, &rp, mv));
}

int
plc__rp_update(struct http_req *req)
{
    int mv = plc__start(req, "placement:resource_providers:update");
    json_t *b;
    struct plc_rp rp;
    if (mv < 0 || !(b = plc__body(req)))
        return -1;
    const char *name = NULL, *uuid = NULL, *parent = NULL;
    bool pg = false;
    if (rp_body(req, mv, b, false, &name, &uuid, &parent, &pg) < 0)
        return -1;
    int rc = plc_db_begin(req->db);
    if (rc != DB_OK)
        return plc__dbfail(req);
    if (plc__rp(req, &rp) < 0) {
        db_rollback(req->db);
        return -1;
    }
    const char *np = pg ? parent : rp.parent, *root = rp.root;
    bool moved = pg && (rp.parent ? !parent || strcmp(parent, rp.parent) : parent != NULL);
    const char **tree = NULL;
    int ntree = 0;
    if (moved) {
        /* before 1.37 only a root may gain a parent; from 1.37 a provider
         * may move anywhere outside its own subtree, or become a root */
        if (mv < 37 && rp.parent) {
            db_rollback(req->db);
            return plc__fail(req, 400, NULL, "re-parenting a provider is not currently "
                             "allowed.");
        }
        struct plc_rp p = {.root = rp.uuid};
        rc = plc_db_rp_subtree(req->db, req->arena, rp.uuid, &tree, &ntree);
        if (rc == DB_OK && parent)
            rc = plc_db_rp_get(req->db, req->arena, parent, &p);
        bool loop = false;
        for (int i = 0; rc == DB_OK && parent && i < ntree && !loop; i++)
            loop = !strcmp(tree[i], parent);
        if (rc == -ENOENT || loop) {
            db_rollback(req->db);
            return plc__fail(req, 400, NULL, loop ? "creating loop in the provider tree is "
                                                    "not allowed."
                                                  : "parent provider UUID does not exist.");
        }
        if (rc != DB_OK) {
            db_rollback(req->db);
            return plc__dbfail(req);
        }
        root = p.root;
        rc = plc_db_rp_set_root(req->db, tree + 1, ntree - 1, root);
    }
    if (rc == DB_OK)
        rc = plc_db_rp_update(req->db, rp.uuid, name, np, root);
    rc = db_end(req->db, rc);
    if (rc == -EEXIST)
        return plc__fail(req, 409, "placement.duplicate_name", "Conflicting resource "
                         "provider name: %s already exists.", name);
    if (rc || plc__rp(req, &rp) < 0)
        return rc ? plc__dbfail(req) : -1;
    return http_reply_json(req, 200, plc__rp_view(req, &rp, mv));
}

int
plc__rp_delete(struct http_req *req)
{
    struct plc_rp rp;
    if (plc__start(req, "placement:resource_providers:delete") < 0)
        return -1;
    int rc = plc_db_begin(req->db);
    if (rc != DB_OK)
        return plc__dbfail(req);
    if (plc__rp(req, &rp) < 0) {
        db_rollback(req->db);
        return -1;
    }
    rc = db_end(req->db, plc_db_rp_delete(req->db, rp.uuid));
    if (rc == -EBUSY)
        return plc__fail(req, 409, NULL, "Unable to delete resource provider %s: Resource "
                         "provider has allocations.", rp.uuid);
    if (rc == -ENOTEMPTY)
        return plc__fail(req, 409, "placement.resource_provider.cannot_delete_parent",
                         "Unable to delete parent resource provider %s: It has child "
                         "resource providers.", rp.uuid);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}

/* ---- traits and aggregates of a provider ---- */

static int
set_reply(struct http_req *req, const char *kind, const char *uuid, int mv)
{
    struct plc_rp rp;
    const char **v;
    int n;
    if (plc__rp(req, &rp) < 0)
        return -1;
    if (plc_db_rp_set_list(req->db, req->arena, kind, uuid, &v, &n))
        return plc__dbfail(req);
    json_t *l = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(l, json_string(v[i]));
    json_t *o = json_pack("{s:o}", !strcmp(kind, "trait") ? "traits" : "aggregates", l);
    if (!strcmp(kind, "trait") || mv >= 19)
        json_object_set_new(o, "resource_provider_generation", json_integer(rp.generation));
    return http_reply_json(req, 200, o);
}

int
plc__rp_traits_get(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_providers:traits:list", 6);
    if (mv < 0)
        return -1;
    return set_reply(req, "trait", http_param(req, "uuid"), mv);
}

int
plc__rp_aggs_get(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_providers:aggregates:list", 1);
    if (mv < 0)
        return -1;
    return set_reply(req, "agg", http_param(req, "uuid"), mv);
}

/* PUT of traits or aggregates: list and generation (aggregates before
 * 1.19 are a bare list without a generation). */
static int
set_put(struct http_req *req, const char *kind, int mv)
{
    bool trait = !strcmp(kind, "trait");
    const char *key = trait ? "traits" : "aggregates";
    json_t *b = plc__body(req), *list = b;
    int64_t gen = -1;
    if (!b)
        return -1;
    bool with_gen = trait || mv >= 19;
    if (with_gen) {
        const char *k;
        json_t *v;
        if (!json_is_object(b))
            return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
        json_object_foreach(b, k, v) if (strcmp(k, key) && strcmp(k, "resource_provider_generation"))
            return plc__schema(req, "Additional properties are not allowed ('%s' was "
                               "unexpected)", k);
        if (!(list = json_object_get(b, key)))
            return plc__schema(req, "'%s' is a required property", key);
        if (plc__int(req, b, "resource_provider_generation", 0, INT64_MAX, true, &gen) < 0)
            return -1;
    }
    if (!json_is_array(list))
        return plc__schema(req, "%s is not of type 'array'", jv_repr(req, list));
    size_t n = json_array_size(list);
    const char **vals = arena_alloc(req->arena, sizeof(char *) * (n + 1));
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(list, i);
        if (!json_is_string(v))
            return plc__schema(req, "%s is not of type 'string'", jv_repr(req, v));
        vals[i] = json_string_value(v);
        if (!trait && !plc__is_uuid(vals[i]))
            return plc__schema(req, "'%s' is not a 'uuid'", vals[i]);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(vals[k], vals[i]))
                return plc__schema(req, "%s has non-unique elements", jv_repr(req, list));
    }
    for (size_t i = 0; trait && i < n; i++)
        if (!plc__std_trait(vals[i]) &&
            plc_db_custom_exists(req->db, req->arena, "trait", vals[i]) != 0)
            return plc__fail(req, 400, NULL, "No such trait(s): %s", vals[i]);
    struct plc_rp rp;
    int rc = plc_db_begin(req->db);
    if (rc != DB_OK)
        return plc__dbfail(req);
    if (plc__rp(req, &rp) < 0) {
        db_rollback(req->db);
        return -1;
    }
    rc = plc_db_rp_bump(req->db, rp.uuid, gen);
    if (rc == DB_OK)
        rc = plc_db_rp_set_replace(req->db, kind, rp.uuid, vals, (int)n);
    rc = db_end(req->db, rc);
    if (rc == -EAGAIN)
        return plc__fail(req, 409, "placement.concurrent_update", "Resource provider's "
                         "generation already changed. Please update the generation and try "
                         "again.");
    return rc ? plc__dbfail(req) : set_reply(req, kind, rp.uuid, mv);
}

int
plc__rp_traits_put(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_providers:traits:update", 6);
    if (mv < 0)
        return -1;
    return set_put(req, "trait", mv);
}

int
plc__rp_aggs_put(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_providers:aggregates:update", 1);
    if (mv < 0)
        return -1;
    return set_put(req, "agg", mv);
}

int
plc__rp_traits_delete(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_providers:traits:delete", 6);
    struct plc_rp rp;
    if (mv < 0)
        return -1;
    int rc = plc_db_begin(req->db);
    if (rc != DB_OK)
        return plc__dbfail(req);
    if (plc__rp(req, &rp) < 0) {
        db_rollback(req->db);
        return -1;
    }
    rc = plc_db_rp_bump(req->db, rp.uuid, -1);
    if (rc == DB_OK)
        rc = plc_db_rp_set_replace(req->db, "trait", rp.uuid, NULL, 0);
    rc = db_end(req->db, rc);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}
