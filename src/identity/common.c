/* common.c - validation and list helpers that several identity resources
 * share (projects, users, groups, the catalog, credentials, roles).
 *
 * Everything here works on one request: failures are recorded on it in
 * Keystone's wording and returned as -1, results live in its arena. Not
 * for lookups of a particular resource (api.c) nor for anything that
 * renders a whole answer (the api_*.c files). */
#include "identity.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- list queries ---- */

/* The value goes as text: an INTEGER column compares fine with a text "1"
 * on both engines. */
void
idn_filter_bool(struct http_req *req, struct db_query *q, const char *col, const char *name)
{
    int b = idn_query_bool(req, name);
    if (b >= 0)
        db_query_eq(q, col, b ? "1" : "0");
}

int
idn_reply_list(struct http_req *req, const char *key, json_t *items)
{
    return http_reply_json(req, 200,
                           json_pack("{s:o,s:o}", key, items, "links", idn_list_links(req)));
}

int
idn_query_run(struct http_req *req, struct db *db, const struct db_query *q, const char *what,
              struct db_res **r)
{
    /* only a caller's filters can make the statement overflow: say so */
    if (q->full)
        return req_fail(req, 400, "Too many query filters.");
    int rc = db_query_exec(db, req->arena, r, q);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, what);
}

/* ---- request bodies ---- */

const char *
idn_strip(struct http_req *req, const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return arena_strndup(req->arena, s, n);
}

int
idn_get_name(struct http_req *req, json_t *o, unsigned flags, size_t maxlen, const char **out)
{
    const char *s = NULL;
    if (jv_str(req, o, "name", flags | JV_NONEMPTY, maxlen, &s) < 0)
        return -1;
    if (!s)
        return 0;
    const char *t = idn_strip(req, s);
    if (!*t)
        return jv_invalid(req, "name", json_object_get(o, "name"), "does not match '[\\\\S]+'");
    *out = t;
    return 0;
}

int
idn_get_id(struct http_req *req, json_t *o, const char *key, unsigned flags, const char **out)
{
    const char *s = NULL;
    json_t *v = json_object_get(o, key);
    if (jv_str(req, o, key, flags | JV_NONEMPTY, 64, &s) < 0)
        return -1;
    if (!s) {
        if (v)
            *out = NULL;    /* an explicit null (JV_NULLABLE) */
        return 0;
    }
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-')
            return jv_invalid(req, key, v, "does not match '^[a-zA-Z0-9-]+$'");
    *out = s;
    return 0;
}

json_t *
idn_patch_body(struct http_req *req, const char *key, bool named)
{
    json_t *b = jv_object(req, req->json, key);
    if (!b || json_object_size(b))
        return b;
    /* Keystone's wording depends on where its schema puts minProperties */
    if (named)
        req_fail(req, 400, "Invalid input for field '%s': {} does not have enough properties",
                 key);
    else
        req_fail(req, 400, "{} does not have enough properties");
    return NULL;
}

int
idn_same_id(struct http_req *req, json_t *body, const char *id)
{
    json_t *v = json_object_get(body, "id");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), id)))
        return req_fail(req, 400, "Cannot change ID");
    return 0;
}

const char *
idn_extra_update(struct http_req *req, const char *old, json_t *body, const char *const *known,
                 size_t flags)
{
    const char *add = idn_extra_of(req, body, known);
    if (!add)
        return old;
    json_t *o = idn_json_text(old), *n = idn_json_text(add);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    /* Keystone keeps both; later values win, as its dict.update */
    json_object_update(o, n);
    char *s = json_dumps(o, JSON_COMPACT | flags);
    const char *r = arena_strdup(req->arena, s);
    free(s);
    json_decref(o);
    json_decref(n);
    return r;
}

/* ---- policy ---- */

/* Keystone's _normalize_domain_id: the token's domain scope, else the
 * default domain. */
const char *
idn_default_domain(struct http_req *req)
{
    return req->auth.domain_id ? req->auth.domain_id : IDN_DEFAULT_DOMAIN;
}

int
idn_enforce(struct http_req *req, const char *action, const struct policy_target *t,
            struct db **db)
{
    if (policy_enforce(req, action, t) < 0)
        return -1;
    return (*db = idn_db(req)) ? 0 : -1;
}
