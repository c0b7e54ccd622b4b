/* net_list.c - Neutron's listing rules over rendered objects: any
 * attribute filters (a repeated key matches any of its values), fields=,
 * sort_key/sort_dir pairs (then id), limit/marker with next/previous
 * links. Done on the JSON a resource file rendered, so every resource
 * gets the same behaviour from one place; the row counts a project has
 * (a few thousand ports) make that cheap enough. */
#include "network_int.h"
#include "core/arena.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_Q 64

struct qparam {
    const char *key, *val;
};

/* Every key=value of the query, in order, repeated keys included. */
static int
params(struct http_req *req, struct qparam *out)
{
    const char *k[MAX_Q], *v[MAX_Q];
    int n = http_query_all(req, k, v, MAX_Q);
    if (n < 0)
        n = MAX_Q;      /* past the limit: the first MAX_Q count */
    for (int i = 0; i < n; i++)
        out[i] = (struct qparam){k[i], v[i]};
    return n;
}

static bool
reserved(const char *k)
{
    static const char *const r[] = {"fields", "sort_key", "sort_dir", "limit", "marker",
                                    "page_reverse", NULL};
    for (int i = 0; r[i]; i++)
        if (!strcmp(r[i], k))
            return true;
    return false;
}

/* A value as the string a query compares with. */
static const char *
as_text(struct arena *a, json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v))
        return arena_printf(a, "%lld", (long long)json_integer_value(v));
    if (json_is_null(v))
        return "";
    return NULL;
}

static bool
value_matches(struct arena *a, json_t *v, const char *want)
{
    if (json_is_array(v)) {     /* a list attribute matches when it holds the value */
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            const char *t = as_text(a, e);
            if (t && !strcmp(t, want))
                return true;
        }
        return false;
    }
    const char *t = as_text(a, v);
    if (t && json_is_boolean(v))
        return !strcasecmp(t, want) || (!strcmp(want, "1") && json_is_true(v)) ||
               (!strcmp(want, "0") && json_is_false(v));
    return t && !strcmp(t, want);
}

/* Whether the item's tags hold each (all) or one (!all) of the
 * comma-separated tags in want. */
static bool
has_tags(json_t *item, const char *want, bool all)
{
    json_t *tags = json_object_get(item, "tags");
    for (const char *p = want; *p;) {
        size_t n = strcspn(p, ",");
        bool found = false;
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t)
            found |= strlen(json_string_value(t)) == n && !strncmp(json_string_value(t), p, n);
        if (found != all)
            return found;
        p += n + (p[n] == ',');
    }
    return all;
}

/* Neutron's tag filters: tags (all of), tags-any, not-tags (not all of),
 * not-tags-any (none of); -1 when the key is none of them. */
static int
tag_filter(json_t *item, const char *key, const char *val)
{
    if (!strcmp(key, "tags"))
        return has_tags(item, val, true);
    if (!strcmp(key, "tags-any"))
        return has_tags(item, val, false);
    if (!strcmp(key, "not-tags"))
        return !has_tags(item, val, true);
    if (!strcmp(key, "not-tags-any"))
        return !has_tags(item, val, false);
    return -1;
}

static bool
keep(struct arena *a, json_t *item, const struct qparam *q, int nq)
{
    for (int i = 0; i < nq; i++) {
        if (reserved(q[i].key))
            continue;
        int t = tag_filter(item, q[i].key, q[i].val);
        if (t >= 0) {
            if (!t)
                return false;
            continue;
        }
        json_t *v = json_object_get(item, q[i].key);
        if (!v)
            continue;   /* not an attribute of this resource: ignored */
        bool any = false;
        for (int k = 0; k < nq && !any; k++)
            if (!strcmp(q[k].key, q[i].key))
                any = value_matches(a, v, q[k].val);
        if (!any)
            return false;
    }
    return true;
}

static struct {
    const char *keys[8];
    bool desc[8];
    int n;
} sort_spec;        /* qsort has no context argument: set under the sort */

static int
cmp_json(json_t *x, json_t *y)
{
    if (json_is_number(x) && json_is_number(y)) {
        double a = json_number_value(x), b = json_number_value(y);
        return a < b ? -1 : a > b;
    }
    const char *a = json_is_string(x) ? json_string_value(x) : "";
    const char *b = json_is_string(y) ? json_string_value(y) : "";
    if (json_is_boolean(x))
        a = json_is_true(x) ? "1" : "0";
    if (json_is_boolean(y))
        b = json_is_true(y) ? "1" : "0";
    return strcmp(a, b);
}

static int
by_sort(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    for (int i = 0; i < sort_spec.n; i++) {
        int c = cmp_json(json_object_get(a, sort_spec.keys[i]),
                         json_object_get(b, sort_spec.keys[i]));
        if (c)
            return sort_spec.desc[i] ? -c : c;
    }
    return cmp_json(json_object_get(a, "id"), json_object_get(b, "id"));
}

json_t *
net__fields(struct http_req *req, json_t *obj)
{
    struct qparam q[MAX_Q];
    int nq = params(req, q), nf = 0;
    for (int i = 0; i < nq; i++)
        nf += !strcmp(q[i].key, "fields");
    if (!nf)
        return obj;
    json_t *out = json_object();
    for (int i = 0; i < nq; i++) {
        if (strcmp(q[i].key, "fields"))
            continue;
        json_t *v = json_object_get(obj, q[i].val);
        if (v)
            json_object_set(out, q[i].val, v);
    }
    json_decref(obj);
    return out;
}

static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

int
net__list_reply(struct http_req *req, const char *collection, json_t *items)
{
    struct qparam q[MAX_Q];
    int nq = params(req, q);
    arena_on_release(req->arena, (void (*)(void *))json_decref, items);
    net__tags_fill(req, items);
    size_t n = json_array_size(items), m = 0;
    json_t **v = arena_alloc(req->arena, sizeof(*v) * (n + 1));
    for (size_t i = 0; i < n; i++)
        if (keep(req->arena, json_array_get(items, i), q, nq))
            v[m++] = json_array_get(items, i);
    /* sort_key / sort_dir come in pairs */
    const char *keys[8], *dirs[8];
    int nk = 0, nd = 0;
    for (int i = 0; i < nq; i++) {
        if (!strcmp(q[i].key, "sort_key") && nk < 8)
            keys[nk++] = q[i].val;
        else if (!strcmp(q[i].key, "sort_dir") && nd < 8)
            dirs[nd++] = q[i].val;
    }
    if (nd && nd != nk)
        return net__fail(req, 400, "HTTPBadRequest", "The number of sort_keys and sort_dirs "
                                                     "must be same");
    for (int i = 0; i < nd; i++)
        if (strcmp(dirs[i], "asc") && strcmp(dirs[i], "desc"))
            return net__fail(req, 400, "HTTPBadRequest", "%s is invalid value for sort_dirs, "
                             "valid values are 'asc' and 'desc'", dirs[i]);
    for (int i = 0; i < nk; i++)
        if (n && !json_object_get(json_array_get(items, 0), keys[i]))
            return net__fail(req, 400, "HTTPBadRequest", "%s is invalid attribute for "
                             "sort_keys", keys[i]);
    pthread_mutex_lock(&sort_mu);
    sort_spec.n = nk;
    for (int i = 0; i < nk; i++) {
        sort_spec.keys[i] = keys[i];
        sort_spec.desc[i] = nd && !strcmp(dirs[i], "desc");
    }
    qsort(v, m, sizeof(*v), by_sort);
    pthread_mutex_unlock(&sort_mu);
    /* paging: the page after the marker (or before it, page_reverse) */
    const char *lim = http_query(req, "limit"), *marker = http_query(req, "marker");
    const char *rev = http_query(req, "page_reverse");
    bool reverse = rev && !strcasecmp(rev, "true");
    long limit = 0;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (!*lim || *end || limit < 0)
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for limit. Reason: "
                             "'%s' is not an integer.", lim);
    }
    size_t from = 0, to = m;
    if (marker) {
        size_t at = m;
        for (size_t i = 0; i < m; i++)
            if (!strcmp(json_string_value(json_object_get(v[i], "id")), marker))
                at = i;
        if (at == m)
            return net__fail(req, 400, "HTTPBadRequest", "Marker %s could not be found.",
                             marker);
        if (reverse)
            to = at;
        else
            from = at + 1;
    }
    if (limit > 0 && to - from > (size_t)limit) {
        if (reverse)
            from = to - (size_t)limit;
        else
            to = from + (size_t)limit;
    }
    json_t *out = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(out, net__fields(req, json_deep_copy(v[i])));
    json_t *body = json_pack("{s:o}", collection, out);
    if (limit > 0) {
        json_t *links = json_array();
        const char *base = arena_printf(req->arena, "%s/%s?limit=%ld", net__url(req),
                                        collection, limit);
        if (to < m && to > from)
            json_array_append_new(links, json_pack(
                "{s:s,s:s}", "rel", "next", "href",
                arena_printf(req->arena, "%s&marker=%s", base,
                             json_string_value(json_object_get(v[to - 1], "id")))));
        if (from > 0 && to > from)
            json_array_append_new(links, json_pack(
                "{s:s,s:s}", "rel", "previous", "href",
                arena_printf(req->arena, "%s&marker=%s&page_reverse=True", base,
                             json_string_value(json_object_get(v[from], "id")))));
        if (json_array_size(links))
            json_object_set_new(body, arena_printf(req->arena, "%s_links", collection), links);
        else
            json_decref(links);
    }
    return http_reply_json(req, 200, body);
}
