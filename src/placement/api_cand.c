/* api_cand.c - GET /allocation_candidates (1.10+): the providers that
 * alone can hold the whole request (no nested or sharing providers), as
 * allocation requests and provider summaries in the microversion's
 * shape. */
#include "pl_int.h"
#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

/* The summary of one provider: capacity and usage of the requested
 * classes (every class from 1.27), traits (1.17), tree (1.29). */
static int
summary(struct http_req *req, int mv, const struct plc_rp *rp, const struct plc_item *res,
        int nres, json_t **out)
{
    struct plc_inv *inv;
    int n;
    if (plc_db_inv_list(req->db, req->arena, rp->uuid, &inv, &n))
        return -1;
    json_t *r = json_object();
    for (int i = 0; i < n; i++) {
        bool asked = mv >= 27;
        for (int k = 0; k < nres && !asked; k++)
            asked = !strcmp(res[k].rc, inv[i].rc);
        if (asked)
            json_object_set_new(
                r, inv[i].rc,
                json_pack("{s:I,s:I}", "capacity",
                          (json_int_t)((double)(inv[i].total - inv[i].reserved) *
                                       inv[i].allocation_ratio),
                          "used", (json_int_t)inv[i].used));
    }
    json_t *o = json_pack("{s:o}", "resources", r);
    if (mv >= 17) {
        const char **t;
        int nt;
        if (plc_db_rp_set_list(req->db, req->arena, "trait", rp->uuid, &t, &nt)) {
            json_decref(o);
            return -1;
        }
        json_t *tl = json_array();
        for (int i = 0; i < nt; i++)
            json_array_append_new(tl, json_string(t[i]));
        json_object_set_new(o, "traits", tl);
    }
    if (mv >= 29) {
        json_object_set_new(o, "parent_provider_uuid",
                            rp->parent ? json_string(rp->parent) : json_null());
        json_object_set_new(o, "root_provider_uuid", json_string(rp->root));
    }
    *out = o;
    return 0;
}

static json_t *
request_of(int mv, const char *rp, const struct plc_item *res, int nres)
{
    json_t *r = json_object();
    for (int k = 0; k < nres; k++)
        json_object_set_new(r, res[k].rc, json_integer(res[k].used));
    if (mv < 12)
        return json_pack("{s:[{s:{s:s},s:o}]}", "allocations", "resource_provider", "uuid",
                         rp, "resources", r);
    json_t *o = json_pack("{s:{s:{s:o}}}", "allocations", rp, "resources", r);
    if (mv >= 34)
        json_object_set_new(o, "mappings", json_pack("{s:[s]}", "", rp));
    return o;
}

int
plc__candidates(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:allocation_candidates:list", 10);
    if (mv < 0)
        return -1;
    static const char *const q[] = {"resources", "limit", "required", "member_of", "in_tree",
                                    "group_policy", NULL};
    if (plc__query_only(req, q) < 0)
        return -1;
    const char *res_q = http_query(req, "resources"), *lim = http_query(req, "limit");
    const char *req_q = http_query(req, "required"), *mo = http_query(req, "member_of");
    const char *tree = http_query(req, "in_tree");
    if (!res_q)
        return plc__fail(req, 400, NULL, "Invalid query string parameters: 'resources' is a "
                         "required property");
    long limit = 0;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (mv < 16 || *end || end == lim || limit < 1)
            return plc__fail(req, 400, NULL, "Invalid query string parameters: '%s' does not "
                             "match '^[1-9][0-9]*$'", lim);
    }
    if ((req_q && mv < 17) || (mo && mv < 21) || (tree && mv < 31))
        return plc__fail(req, 400, NULL, "Invalid query string parameters: Additional "
                         "properties are not allowed");
    struct plc_item *res;
    const char **reqt = NULL, **forb = NULL, **aggs = NULL;
    int nres, nreq = 0, nforb = 0, naggs = 0;
    if (plc__parse_resources(req, res_q, &res, &nres) < 0 ||
        (req_q && plc__parse_traits(req, req_q, mv >= 22, &reqt, &nreq, &forb, &nforb) < 0) ||
        (mo && plc__parse_member_of(req, mo, &aggs, &naggs) < 0))
        return -1;
    if (tree && !plc__is_uuid(tree))
        return plc__fail(req, 400, NULL, "Invalid uuid value: %s", tree);
    const char **rcs = arena_alloc(req->arena, sizeof(char *) * (size_t)nres);
    for (int k = 0; k < nres; k++) {
        rcs[k] = res[k].rc;
        for (int j = 0; j < k; j++)
            if (!strcmp(rcs[j], rcs[k]))
                return plc__fail(req, 400, NULL, "Invalid query string parameters: resource "
                                 "class %s given twice", rcs[k]);
    }
    const char **uuids;
    int n;
    struct plc_rp tree_rp;
    if (tree && plc_db_rp_get(req->db, req->arena, tree, &tree_rp))
        return plc__fail(req, 400, NULL, "No such resource provider %s.", tree);
    if (plc_db_rp_with_classes(req->db, req->arena, rcs, nres, &uuids, &n))
        return plc__dbfail(req);
    json_t *areqs = json_array(), *sums = json_object();
    arena_on_release(req->arena, (void (*)(void *))json_decref, areqs);
    arena_on_release(req->arena, (void (*)(void *))json_decref, sums);
    int found = 0;
    for (int i = 0; i < n && (!limit || found < limit); i++) {
        struct plc_rp rp;
        bool ok = true;
        if (plc_db_rp_get(req->db, req->arena, uuids[i], &rp) ||
            plc__fits(req, rp.uuid, res, nres, &ok) ||
            (ok && (nreq || nforb) &&
             plc_db_rp_traits_match(req->db, req->arena, rp.uuid, reqt, nreq, forb, nforb,
                                    &ok)) ||
            (ok && naggs && plc_db_rp_in_aggs(req->db, req->arena, rp.uuid, aggs, naggs, &ok)))
            return plc__dbfail(req);
        if (!ok || (tree && strcmp(rp.root, tree_rp.root)))
            continue;
        json_t *s;
        if (summary(req, mv, &rp, res, nres, &s) < 0)
            return plc__dbfail(req);
        json_object_set_new(sums, rp.uuid, s);
        json_array_append_new(areqs, request_of(mv, rp.uuid, res, nres));
        found++;
    }
    return http_reply_json(req, 200, json_pack("{s:O,s:O}", "allocation_requests", areqs,
                                               "provider_summaries", sums));
}
