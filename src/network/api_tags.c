/* api_tags.c - Neutron's tags (standard-attr-tag) on networks, subnets,
 * ports, routers, floating IPs, security groups and subnet pools:
 * /v2.0/{resources}/{id}/tags[/{tag}], the "tags" of every view, and the
 * tags / tags-any / not-tags / not-tags-any list filters.
 *
 * Views are made with "tags": [] by their own files; the real tags are
 * filled in here, in one query for a whole list (net__tags_fill, from
 * net_list.c) and for a single object in the service's after hook
 * (net__tags_after), so no resource file has to know about tags. A tag
 * call checks the resource through its own show handler (net__call), so
 * it sees exactly what the caller may see. */
#include "network_int.h"
#include "core/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAGS 50
#define MAX_TAG_LEN 255

static const struct {
    const char *collection, *param;
    int (*show)(struct http_req *);
} kinds[] = {
    {"networks", "network_id", net__network_show},
    {"subnets", "subnet_id", net__subnet_show},
    {"ports", "port_id", net__port_show},
    {"routers", "router_id", net__router_show},
    {"floatingips", "fip_id", net__fip_show},
    {"security-groups", "sg_id", net__sg_show},
    {"subnetpools", "pool_id", net__subnetpool_show},
};

int
net__resource_get(struct http_req *req, const char *collection, const char *id, json_t **out)
{
    size_t k = 0;
    *out = NULL;
    while (k < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[k].collection, collection))
        k++;
    if (k == sizeof(kinds) / sizeof(kinds[0]))
        return 1;
    json_t *ans;
    if (net__call(req, kinds[k].show, kinds[k].param, id, NULL, &ans) < 0)
        return -1;
    *out = json_incref(json_object_iter_value(json_object_iter(ans)));
    json_decref(ans);
    return *out ? 0 : net__fail(req, 404, "HTTPNotFound", "The resource could not be found.");
}

/* The resource of the path, which the caller may see (its id into *id);
 * for a change also the caller's own (or admin). -1 with the fault set. */
static int
resource(struct http_req *req, bool change, const char **id)
{
    const char *coll = http_param(req, "collection");
    *id = http_param(req, "id");
    json_t *obj;
    int rc = net__resource_get(req, coll, *id, &obj);
    if (rc)
        return rc < 0 ? -1 : net__fail(req, 404, "HTTPNotFound", "The resource could not be "
                                       "found.");
    const char *owner = json_string_value(json_object_get(obj, "project_id"));
    bool mine = owner && !strcmp(owner, req->auth.project_id);
    json_decref(obj);
    if (change && !mine && !net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:update_%s:tags) is disallowed by "
                         "policy", coll);
    return 0;
}

static int
tag_ok(struct http_req *req, json_t *t)
{
    const char *s = json_string_value(t);
    if (!s || !*s || strlen(s) > MAX_TAG_LEN || strchr(s, ',') || strchr(s, '/'))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for tags. Reason: '%s' is "
                         "not a valid tag (1 to %d characters, no ',' or '/').",
                         s ? s : "value", MAX_TAG_LEN);
    return 0;
}

static json_t *
tags_of(struct http_req *req, const char *id)
{
    struct db_res *r;
    json_t *l = json_array();
    if (db_exec(req->db, req->arena, &r, "SELECT tag FROM net_tag WHERE resource_id = ? "
                "ORDER BY tag", "s", id) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_array_append_new(l, json_string(db_val(r, i, 0)));
    return l;
}

int
net__tags_list(struct http_req *req)
{
    const char *id;
    if (resource(req, false, &id) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "tags", tags_of(req, id)));
}

int
net__tag_check(struct http_req *req)
{
    const char *id;
    struct db_res *r;
    if (resource(req, false, &id) < 0)
        return -1;
    int rc = db_exec(req->db, req->arena, &r, "SELECT 1 FROM net_tag WHERE resource_id = ? "
                     "AND tag = ?", "ss", id, http_param(req, "tag"));
    if (rc)
        return net__db_fail(req, rc);
    if (!r->nrows)
        return net__fail(req, 404, "TagNotFound", "Tag %s could not be found for %s %s.",
                         http_param(req, "tag"), http_param(req, "collection"), id);
    return http_reply_empty(req, 204);
}

int
net__tags_replace(struct http_req *req)
{
    const char *id;
    json_t *l = req->json ? json_object_get(req->json, "tags") : NULL, *t;
    if (resource(req, true, &id) < 0)
        return -1;
    if (!json_is_array(l) || json_array_size(l) > MAX_TAGS)
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for tags. Reason: a list "
                         "of at most %d tags is required.", MAX_TAGS);
    size_t i;
    json_array_foreach(l, i, t)
        if (tag_ok(req, t) < 0)
            return -1;
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_tag WHERE resource_id = ?", "s", id);
    json_array_foreach(l, i, t)
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "INSERT INTO net_tag (resource_id, tag) VALUES (?, ?) "
                         "ON CONFLICT DO NOTHING", "ss", id, json_string_value(t));
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "tags", tags_of(req, id)));
}

int
net__tag_add(struct http_req *req)
{
    const char *id, *tag = http_param(req, "tag");
    json_t *t = json_string(tag);
    int ok = resource(req, true, &id) < 0 ? -1 : tag_ok(req, t);
    json_decref(t);
    if (ok < 0)
        return -1;
    int rc = db_exec(req->db, NULL, NULL, "INSERT INTO net_tag (resource_id, tag) VALUES (?, ?) "
                     "ON CONFLICT DO NOTHING", "ss", id, tag);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_empty(req, 201);
}

int
net__tags_delete(struct http_req *req)
{
    const char *id, *tag = http_param(req, "tag");
    struct db_res *r;
    if (resource(req, true, &id) < 0)
        return -1;
    int rc = tag ? db_exec(req->db, req->arena, &r, "DELETE FROM net_tag WHERE resource_id = ? "
                           "AND tag = ? RETURNING tag", "ss", id, tag)
                 : db_exec(req->db, NULL, NULL, "DELETE FROM net_tag WHERE resource_id = ?",
                           "s", id);
    if (rc)
        return net__db_fail(req, rc);
    if (tag && !r->nrows)
        return net__fail(req, 404, "TagNotFound", "Tag %s could not be found for %s %s.", tag,
                         http_param(req, "collection"), id);
    return http_reply_empty(req, 204);
}

/* ---- tags in views ---- */

void
net__tags_fill(struct http_req *req, json_t *items)
{
    struct db_res *r;
    size_t n = json_array_size(items);
    if (!n || !req->db || db_exec(req->db, req->arena, &r, "SELECT resource_id, tag FROM "
                                  "net_tag ORDER BY resource_id, tag", "") != DB_OK ||
        !r->nrows)
        return;
    json_t *by_id = json_object(), *o;
    for (int i = 0; i < r->nrows; i++) {
        json_t *l = json_object_get(by_id, db_val(r, i, 0));
        if (!l)
            json_object_set_new(by_id, db_val(r, i, 0), l = json_array());
        json_array_append_new(l, json_string(db_val(r, i, 1)));
    }
    size_t i;
    json_array_foreach(items, i, o) {
        json_t *l = json_object_get(by_id, json_string_value(json_object_get(o, "id")));
        if (l && json_object_get(o, "tags"))
            json_object_set(o, "tags", l);
    }
    json_decref(by_id);
}

void
net__tags_after(struct http_req *req)
{
    /* a deleted resource's tags go with it */
    if (req->method == HTTP_DELETE && req->status == 204 && !req->fail_status &&
        req->nparams == 1 && req->db)
        db_exec(req->db, NULL, NULL, "DELETE FROM net_tag WHERE resource_id = ?", "s",
                req->param_values[0]);
    /* one object answered ({"network": {...}}): its real tags */
    if ((req->status != 200 && req->status != 201) || req->fail_status || !req->resp_body ||
        !req->db)
        return;
    /* only {"x":{...}}: a list is never parsed again here */
    const char *colon = strchr(req->resp_body, ':');
    if (!colon || colon[1] != '{' || !strstr(req->resp_body, "\"tags\":[]"))
        return;
    json_t *b = json_loadb(req->resp_body, req->resp_len, 0, NULL);
    json_t *o = json_object_size(b) == 1 ? json_object_iter_value(json_object_iter(b)) : NULL;
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id && json_is_array(json_object_get(o, "tags"))) {
        json_t *l = tags_of(req, id);
        if (json_array_size(l)) {
            json_object_set(o, "tags", l);
            char *s = json_dumps(b, JSON_COMPACT);
            if (s) {
                free(req->resp_body);
                req->resp_body = s;
                req->resp_len = strlen(s);
            }
        }
        json_decref(l);
    }
    json_decref(b);
}
