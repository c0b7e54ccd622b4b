/* api_server_meta.c - what hangs off a server besides its state: metadata
 * (/servers/{id}/metadata), tags (2.26, /servers/{id}/tags) and the
 * instance actions with their events (/os-instance-actions), with Nova's
 * bodies and checks. */
#include "compute_int.h"
#include "srv_db.h"
#include "core/arena.h"

#include <errno.h>
#include <string.h>

#define MAX_META 128            /* Nova's metadata_items quota */
#define MAX_TAGS 50             /* nova.objects.instance MAX_TAG_COUNT */

/* The server of the path, visible to the caller, with policy checked. */
static int
find(struct http_req *req, const char *policy, struct cmp_server *s)
{
    if (cmp__server_find(req, s) < 0)
        return -1;
    return cmp__policy(req, policy, NULL, s->project_id);
}

/* ---- metadata ---- */

static json_t *
meta_json(struct http_req *req, const char *id)
{
    struct db_res *r;
    json_t *m = json_object();
    if (srv_db_meta(req->db, req->arena, id, &r) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_object_set_new(m, db_val(r, i, 0), json_string(db_val(r, i, 1)));
    return m;
}

static int
check_pair(struct http_req *req, const char *k, json_t *v)
{
    if (!*k || strlen(k) > 255)
        return req_fail(req, 400, "Invalid input for field/attribute metadata. Value: %s. "
                        "Metadata keys must be 1-255 characters", k);
    if (!json_is_string(v) || strlen(json_string_value(v)) > 255)
        return req_fail(req, 400, "Invalid input for field/attribute metadata. Value: %s. "
                        "Metadata values must be strings of at most 255 characters",
                        cmp__repr(req, v));
    return 0;
}

int
cmp__meta_list(struct http_req *req)
{
    struct cmp_server s;
    if (find(req, "os_compute_api:server-metadata:index", &s) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "metadata", meta_json(req, s.id)));
}

/* POST (merge) and PUT (replace) of the whole metadata */
static int
meta_set(struct http_req *req, bool replace)
{
    struct cmp_server s;
    json_t *body = cmp__body(req), *v;
    if (!body || find(req, replace ? "os_compute_api:server-metadata:update_all"
                                   : "os_compute_api:server-metadata:create", &s) < 0)
        return -1;
    json_t *m = json_object_get(body, "metadata");
    if (!json_is_object(m))
        return req_fail(req, 400, "Invalid input for field/attribute metadata. Value: %s. "
                        "'metadata' is a required property", cmp__repr(req, body));
    size_t n = json_object_size(m);
    const char **ks = arena_alloc(req->arena, sizeof(char *) * (n + 1));
    const char **vs = arena_alloc(req->arena, sizeof(char *) * (n + 1));
    const char *k;
    int i = 0;
    json_object_foreach(m, k, v) {
        if (check_pair(req, k, v) < 0)
            return -1;
        ks[i] = k;
        vs[i++] = json_string_value(v);
    }
    if (s.locked && !cmp__admin(req))
        return req_fail(req, 409, "Instance %s is locked", s.id);
    int rc = srv_db_meta_set(req->db, s.id, ks, vs, i, replace, MAX_META);
    if (rc == -EDQUOT)
        return req_fail(req, 403, "Quota exceeded for metadata_items: Requested %d, but "
                        "already used 0 of %d metadata_items", i, MAX_META);
    if (rc)
        return cmp__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "metadata",
                                               replace ? json_incref(m) : meta_json(req, s.id)));
}

int
cmp__meta_create(struct http_req *req)
{
    return meta_set(req, false);
}

int
cmp__meta_replace(struct http_req *req)
{
    return meta_set(req, true);
}

int
cmp__meta_show(struct http_req *req)
{
    struct cmp_server s;
    const char *key = http_param(req, "key");
    if (find(req, "os_compute_api:server-metadata:show", &s) < 0)
        return -1;
    json_t *m = meta_json(req, s.id), *v = json_object_get(m, key);
    if (!v) {
        json_decref(m);
        return req_fail(req, 404, "Metadata item was not found");
    }
    json_t *out = json_pack("{s:{s:O}}", "meta", key, v);
    json_decref(m);
    return http_reply_json(req, 200, out);
}

int
cmp__meta_update(struct http_req *req)
{
    struct cmp_server s;
    const char *key = http_param(req, "key");
    json_t *body = cmp__body(req), *v;
    if (!body || find(req, "os_compute_api:server-metadata:update", &s) < 0)
        return -1;
    json_t *m = json_object_get(body, "meta");
    if (!json_is_object(m) || json_object_size(m) != 1)
        return req_fail(req, 400, "Request body contains too many items");
    if (!(v = json_object_get(m, key)))
        return req_fail(req, 400, "Request body and URI mismatch");
    if (check_pair(req, key, v) < 0)
        return -1;
    if (s.locked && !cmp__admin(req))
        return req_fail(req, 409, "Instance %s is locked", s.id);
    const char *val = json_string_value(v);
    int rc = srv_db_meta_set(req->db, s.id, &key, &val, 1, false, MAX_META);
    if (rc == -EDQUOT)
        return req_fail(req, 403, "Quota exceeded for metadata_items: Requested 1, but "
                        "already used %d of %d metadata_items", MAX_META, MAX_META);
    if (rc)
        return cmp__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:{s:s}}", "meta", key, val));
}

int
cmp__meta_delete(struct http_req *req)
{
    struct cmp_server s;
    if (find(req, "os_compute_api:server-metadata:delete", &s) < 0)
        return -1;
    if (s.locked && !cmp__admin(req))
        return req_fail(req, 409, "Instance %s is locked", s.id);
    int rc = srv_db_meta_delete(req->db, s.id, http_param(req, "key"));
    if (rc == -ENOENT)
        return req_fail(req, 404, "Metadata item was not found");
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 204);
}

/* ---- tags (2.26) ---- */

static int
tags_find(struct http_req *req, const char *policy, struct cmp_server *s)
{
    if (!cmp__mv(req, 2, 26))
        return req_fail(req, 404, "The resource could not be found.");
    return find(req, policy, s);
}

static json_t *
tags_json(struct http_req *req, const char *id)
{
    struct db_res *r;
    json_t *t = json_array();
    if (srv_db_tags(req->db, req->arena, id, &r) == DB_OK)
        for (int i = 0; i < r->nrows; i++)
            json_array_append_new(t, json_string(db_val(r, i, 0)));
    return t;
}

/* Nova's tag rule: 1-60 characters, no "," or "/". */
static bool
valid_tag(const char *t)
{
    return t && *t && strlen(t) <= 60 && !strchr(t, ',') && !strchr(t, '/');
}

/* Tags may change only while no task runs (Nova: task_state None). */
static int
may_tag(struct http_req *req, const struct cmp_server *s)
{
    if (s->task_state)
        return req_fail(req, 409, "Cannot 'update tags' instance %s while it is in "
                        "task_state %s", s->id, s->task_state);
    return 0;
}

int
cmp__tags_list(struct http_req *req)
{
    struct cmp_server s;
    if (tags_find(req, "os_compute_api:os-server-tags:index", &s) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "tags", tags_json(req, s.id)));
}

int
cmp__tags_replace(struct http_req *req)
{
    struct cmp_server s;
    json_t *body = cmp__body(req), *t;
    if (!body || tags_find(req, "os_compute_api:os-server-tags:update_all", &s) < 0 ||
        may_tag(req, &s) < 0)
        return -1;
    json_t *tags = json_object_get(body, "tags");
    if (!json_is_array(tags))
        return req_fail(req, 400, "Invalid input for field/attribute tags. Value: %s. "
                        "'tags' is a required property", cmp__repr(req, body));
    if (json_array_size(tags) > MAX_TAGS)
        return req_fail(req, 400, "The number of tags exceeded the per-server limit %d",
                        MAX_TAGS);
    const char **l = arena_alloc(req->arena, sizeof(char *) * (json_array_size(tags) + 1));
    size_t i;
    json_array_foreach(tags, i, t) {
        if (!valid_tag(json_string_value(t)))
            return cmp__invalid(req, "tags", t, "is not a valid tag");
        l[i] = json_string_value(t);
    }
    int rc = srv_db_tags_set(req->db, s.id, l, (int)json_array_size(tags), true, MAX_TAGS);
    if (rc)
        return cmp__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "tags", tags_json(req, s.id)));
}

int
cmp__tags_delete_all(struct http_req *req)
{
    struct cmp_server s;
    if (tags_find(req, "os_compute_api:os-server-tags:delete_all", &s) < 0 ||
        may_tag(req, &s) < 0)
        return -1;
    int rc = srv_db_tags_set(req->db, s.id, NULL, 0, true, MAX_TAGS);
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 204);
}

int
cmp__tag_show(struct http_req *req)
{
    struct cmp_server s;
    const char *tag = http_param(req, "tag");
    if (tags_find(req, "os_compute_api:os-server-tags:show", &s) < 0)
        return -1;
    json_t *t = tags_json(req, s.id), *v;
    size_t i;
    bool found = false;
    json_array_foreach(t, i, v) found |= !strcmp(json_string_value(v), tag);
    json_decref(t);
    if (!found)
        return req_fail(req, 404, "Tag '%s' could not be found for instance %s", tag, s.id);
    return http_reply_empty(req, 204);
}

int
cmp__tag_add(struct http_req *req)
{
    struct cmp_server s;
    const char *tag = http_param(req, "tag");
    if (tags_find(req, "os_compute_api:os-server-tags:update", &s) < 0 ||
        may_tag(req, &s) < 0)
        return -1;
    if (!valid_tag(tag))
        return req_fail(req, 400, "Tag '%s' is invalid", tag);
    json_t *t = tags_json(req, s.id), *v;
    size_t i;
    bool found = false;
    json_array_foreach(t, i, v) found |= !strcmp(json_string_value(v), tag);
    json_decref(t);
    if (found)
        return http_reply_empty(req, 204);
    int rc = srv_db_tags_set(req->db, s.id, &tag, 1, false, MAX_TAGS);
    if (rc == -EDQUOT)
        return req_fail(req, 400, "The number of tags exceeded the per-server limit %d",
                        MAX_TAGS);
    if (rc)
        return cmp__db_fail(req, rc);
    http_header(req, "Location", arena_printf(req->arena, "%s/servers/%s/tags/%s",
                                              cmp__url(req), s.id, tag));
    return http_reply_empty(req, 201);
}

int
cmp__tag_delete(struct http_req *req)
{
    struct cmp_server s;
    const char *tag = http_param(req, "tag");
    if (tags_find(req, "os_compute_api:os-server-tags:delete", &s) < 0 ||
        may_tag(req, &s) < 0)
        return -1;
    int rc = srv_db_tag_delete(req->db, s.id, tag);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Tag '%s' could not be found for instance %s", tag, s.id);
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 204);
}

/* ---- instance actions ---- */

static json_t *
action_json(struct http_req *req, const struct db_res *r, int i, const char *server_id)
{
    json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "action", db_val(r, i, 1),
                          "instance_uuid", server_id, "request_id", db_val(r, i, 0),
                          "user_id", db_val(r, i, 3), "project_id", db_val(r, i, 2),
                          "start_time", cmp__time(req, db_int(r, i, 4)), "message",
                          db_val(r, i, 5) ? json_string(db_val(r, i, 5)) : json_null());
    if (cmp__mv(req, 2, 58))
        json_object_set_new(a, "updated_at", json_string(cmp__time(req, db_int(r, i, 6))));
    return a;
}

int
cmp__actions_list(struct http_req *req)
{
    struct cmp_server s;
    struct db_res *r;
    if (find(req, "os_compute_api:os-instance-actions:list", &s) < 0)
        return -1;
    int rc = srv_db_actions(req->db, req->arena, s.id, &r);
    if (rc)
        return cmp__db_fail(req, rc);
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(arr, action_json(req, r, i, s.id));
    return http_reply_json(req, 200, json_pack("{s:o}", "instanceActions", arr));
}

int
cmp__action_show(struct http_req *req)
{
    struct cmp_server s;
    struct db_res *a, *ev;
    if (find(req, "os_compute_api:os-instance-actions:show", &s) < 0)
        return -1;
    const char *rid = http_param(req, "request_id");
    int rc = srv_db_action_events(req->db, req->arena, s.id, rid, &a, &ev);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Action for request_id %s on instance %s not found", rid,
                        s.id);
    if (rc)
        return cmp__db_fail(req, rc);
    json_t *act = action_json(req, a, 0, s.id);
    bool admin = cmp__admin(req);
    /* events: admin's before 2.51, everyone's since (tracebacks admin's) */
    if (admin || cmp__mv(req, 2, 51)) {
        json_t *events = json_array();
        for (int i = 0; i < ev->nrows; i++) {
            json_t *e = json_pack("{s:s,s:s,s:o,s:o}", "event", db_val(ev, i, 0),
                                  "start_time", cmp__time(req, db_int(ev, i, 1)),
                                  "finish_time", db_val(ev, i, 2)
                                      ? json_string(cmp__time(req, db_int(ev, i, 2)))
                                      : json_null(),
                                  "result", db_val(ev, i, 3) ? json_string(db_val(ev, i, 3))
                                                             : json_null());
            if (admin)
                json_object_set_new(e, "traceback", db_val(ev, i, 4)
                                                        ? json_string(db_val(ev, i, 4))
                                                        : json_null());
            if (cmp__mv(req, 2, 62)) {
                const char *h = db_val(ev, i, 5);
                if (admin)
                    json_object_set_new(e, "host", json_string(h ? h : ""));
                json_object_set_new(e, "hostId", json_string(""));
            }
            json_array_append_new(events, e);
        }
        json_object_set_new(act, "events", events);
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "instanceAction", act));
}
