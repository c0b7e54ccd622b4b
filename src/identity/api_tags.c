/* api_tags.c - project tags: their validation and storage for the project
 * and domain APIs (api_projects.c), the tags filters of GET /v3/projects,
 * and /v3/projects/{project_id}/tags, as Keystone (Zed) answers them.
 *
 * Tags are rows of project_tag (project_id, name), stored stripped and
 * unique per project; they go with their project (ON DELETE CASCADE). A
 * domain is a project, so domains carry tags the same way. */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#define TAG_MAX 80

/* ---- tags for the project and domain APIs ---- */

/* Tags of a project, sorted, as a new JSON array (NULL on db failure). */
json_t *
idn_tags_of(struct http_req *req, struct db *db, const char *id)
{
    struct db_res *r;
    if (db_exec(db, req->arena, &r,
                "SELECT name FROM project_tag WHERE project_id = ? ORDER BY name", "s",
                id) != DB_OK)
        return NULL;
    json_t *a = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(a, json_string(db_val(r, i, 0)));
    return a;
}

/* Validates a tag list as Keystone's schema does (<= 80 unique strings of
 * 1..255 without ',' or '/'), then strips and de-duplicates into *out. */
int
idn_tags_parse(struct http_req *req, json_t *arr, const char ***out, int *n)
{
    if (!json_is_array(arr))
        return jv_invalid(req, "tags", arr, "is not of type 'array'");
    size_t cnt = json_array_size(arr);
    if (cnt > TAG_MAX)
        return jv_invalid(req, "tags", arr, "is too long");
    const char **t = arena_alloc(req->arena, sizeof(*t) * (cnt + 1));
    int k = 0;
    for (size_t i = 0; i < cnt; i++) {
        json_t *v = json_array_get(arr, i);
        const char *field = arena_printf(req->arena, "tags/%zu", i);
        if (!json_is_string(v))
            return jv_invalid(req, field, v, "is not of type 'string'");
        const char *s = json_string_value(v);
        if (!*s)
            return jv_invalid(req, field, v, "is too short");
        if (strlen(s) > 255)
            return jv_invalid(req, field, v, "is too long");
        if (strpbrk(s, ",/"))
            return jv_invalid(req, field, v, "does not match '^[^,/]*$'");
        for (size_t j = 0; j < i; j++)
            if (json_equal(v, json_array_get(arr, j)))
                return jv_invalid(req, "tags", arr, "has non-unique elements");
        const char *st = idn_strip(req, s);
        bool dup = false;
        for (int j = 0; j < k && !dup; j++)
            dup = !strcmp(t[j], st);
        if (!dup)
            t[k++] = st;
    }
    *out = t;
    *n = k;
    return 0;
}

/* Replaces the tags of project id inside the caller's transaction. */
int
idn_tags_store(struct db *db, const char *id, const char **tags, int n)
{
    int rc = db_exec(db, NULL, NULL, "DELETE FROM project_tag WHERE project_id = ?", "s", id);
    for (int i = 0; rc == DB_OK && i < n; i++)
        rc = db_exec(db, NULL, NULL, "INSERT INTO project_tag (project_id, name) VALUES (?, ?)",
                     "ss", id, tags[i]);
    return rc;
}

/* Adds one tag filter of GET /v3/projects: tags (all of), tags-any,
 * not-tags (not all of), not-tags-any (none of); list is comma separated. */
void
idn_tags_filter(struct http_req *req, struct db_query *q, const char *list, bool any, bool negate)
{
    char *save = NULL, *copy = arena_strdup(req->arena, list);
    int n = 0;
    db_query_sql(q, negate ? " AND id NOT IN (" : " AND id IN (");
    if (!any && !negate) {
        /* all of: one membership test per tag */
        db_query_sql(q, "SELECT id FROM project WHERE 1 = 1");
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            db_query_sql(q, " AND id IN (SELECT project_id FROM project_tag WHERE name = ");
            db_query_arg(q, t);
            db_query_sql(q, ")");
        }
        db_query_sql(q, ")");
        return;
    }
    db_query_sql(q, "SELECT project_id FROM project_tag WHERE name IN (");
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        db_query_sql(q, n++ ? ", " : "");
        db_query_arg(q, t);
    }
    if (!n)
        db_query_arg(q, "");
    db_query_sql(q, ")");
    if (!any) {
        char having[64];
        snprintf(having, sizeof(having), " GROUP BY project_id HAVING COUNT(*) = %d", n);
        db_query_sql(q, having);
    }
    db_query_sql(q, ")");
}

/* ---- /v3/projects/{project_id}/tags ---- */

/* {"tags": [...], "links": {"self": <request url>}} */
static int
tags_reply(struct http_req *req, json_t *tags)
{
    return http_reply_json(req, 200, json_pack("{s:o,s:{s:s}}", "tags", tags, "links", "self",
                                               arena_printf(req->arena, "%s%s",
                                                            idn_base_url(req), req->subpath)));
}

int
idn_project_tags_list(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    if (idn_project_checked(req, &db, "identity:list_project_tags", &p) < 0)
        return -1;
    json_t *t = idn_tags_of(req, db, p.id);
    return t ? tags_reply(req, t) : idn_db_fail(req, DB_ERR, "project tag");
}

int
idn_project_tags_replace(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    const char **tags;
    int n;
    if (idn_project_checked(req, &db, "identity:update_project_tags", &p) < 0)
        return -1;
    json_t *jt = json_object_get(req->json, "tags");
    if (!jt)
        return req_fail(req, 400, "Invalid input for field 'tags': {} is not of type 'array'");
    if (idn_tags_parse(req, jt, &tags, &n) < 0)
        return -1;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = idn_tags_store(db, p.id, tags, n);
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        return idn_db_fail(req, rc, "project tag");
    }
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(tags[i]));
    return tags_reply(req, a);
}

int
idn_project_tags_clear(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    if (idn_project_checked(req, &db, "identity:delete_project_tags", &p) < 0)
        return -1;
    int rc = idn_tags_store(db, p.id, NULL, 0);
    return rc == DB_OK ? http_reply_empty(req, 204) : idn_db_fail(req, rc, "project tag");
}

/* Loads {project_id} and checks action on it (idn_project_checked), then
 * looks {tag} up: 1 when the project carries it, 0 when not, -1 failed. */
static int
tag_lookup(struct http_req *req, const char *action, struct db **db, struct idn_project *p,
           const char **tag)
{
    struct db_res *r;
    *tag = http_param(req, "tag");
    if (idn_project_checked(req, db, action, p) < 0)
        return -1;
    int rc = db_exec(*db, req->arena, &r,
                     "SELECT 1 FROM project_tag WHERE project_id = ? AND name = ?", "ss", p->id,
                     *tag);
    return rc != DB_OK ? idn_db_fail(req, rc, "project tag") : r->nrows > 0;
}

int
idn_project_tag_check(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    const char *tag;
    int h = tag_lookup(req, "identity:get_project_tag", &db, &p, &tag);
    if (h < 0)
        return -1;
    return h ? http_reply_empty(req, 204) : idn_not_found(req, "project tag", tag);
}

int
idn_project_tag_add(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    const char *tag = http_param(req, "tag");
    if (idn_project_checked(req, &db, "identity:create_project_tag", &p) < 0)
        return -1;
    /* the same rules as a list: the current tags plus this one */
    json_t *cur = idn_tags_of(req, db, p.id);
    if (!cur)
        return idn_db_fail(req, DB_ERR, "project tag");
    json_array_append_new(cur, json_string(tag));
    const char **tags;
    int n;
    int ok = idn_tags_parse(req, cur, &tags, &n);
    json_decref(cur);
    if (ok < 0)
        return -1;
    /* stored stripped; when that copy is already there the parse dropped
     * it, so tags[n - 1] would be another tag */
    const char *st = idn_strip(req, tag);
    int rc = db_exec(db, NULL, NULL, "INSERT INTO project_tag (project_id, name) VALUES (?, ?)",
                     "ss", p.id, st);
    if (rc != DB_OK && rc != DB_CONFLICT)
        return idn_db_fail(req, rc, "project tag");
    http_header(req, "Location", arena_printf(req->arena, "%s/v3/projects/%s/tags/%s",
                                              idn_base_url(req), p.id, st));
    return http_reply_empty(req, 201);
}

int
idn_project_tag_delete(struct http_req *req)
{
    struct idn_project p;
    struct db *db;
    const char *tag;
    int h = tag_lookup(req, "identity:delete_project_tag", &db, &p, &tag);
    if (h <= 0)
        return h < 0 ? -1 : idn_not_found(req, "project tag", tag);
    int rc = db_exec(db, NULL, NULL, "DELETE FROM project_tag WHERE project_id = ? AND name = ?",
                     "ss", p.id, tag);
    return rc == DB_OK ? http_reply_empty(req, 204) : idn_db_fail(req, rc, "project tag");
}
