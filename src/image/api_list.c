/* api_list.c - GET /v2/images: Glance's listing. Every query parameter
 * that is not a paging, sorting or member-status one is a filter: the
 * columns Glance filters on (with the "in:" operator for id, name, status,
 * container_format and disk_format, comparison operators for created_at
 * and updated_at, and _min/_max ranges for the sizes), os_hidden,
 * protected, any number of tag= parameters, and any other key=value as an
 * extra property. What a caller may see is Glance's rule (public,
 * community, its own, shared with it), with the visibility= and
 * member_status= filters. */
#include "image_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_QARGS 64

/* One decoded query parameter. */
struct qarg {
    const char *k, *v;
    bool used;                  /* consumed by a known parameter */
};

/* Every query parameter in order, repeated keys included. */
static int
parse_query(struct http_req *req, struct qarg *out, int max)
{
    const char *k[MAX_QARGS], *v[MAX_QARGS];
    int n = http_query_all(req, k, v, max < MAX_QARGS ? max : MAX_QARGS);
    if (n < 0)
        return req_fail(req, 400, "Too many query parameters (at most %d)", max);
    for (int i = 0; i < n; i++)
        out[i] = (struct qarg){.k = k[i], .v = v[i], .used = false};
    return n;
}

/* The first value of key (marking every one of key used), or NULL. */
static const char *
take(struct qarg *a, int n, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < n; i++) {
        if (!a[i].used && !strcmp(a[i].k, key)) {
            a[i].used = true;
            if (!v)
                v = a[i].v;
        }
    }
    return v;
}

/* Every value of key, into vals (at most max), marking them used. */
static int
take_all(struct qarg *a, int n, const char *key, const char **vals, int max)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!a[i].used && !strcmp(a[i].k, key)) {
            a[i].used = true;
            if (k < max)
                vals[k++] = a[i].v;
        }
    }
    return k;
}

static char *
strip(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

static const char *const sort_list =
    "name, status, container_format, disk_format, size, id, created_at, updated_at";

static int
sort_key_ok(struct http_req *req, const char *k)
{
    if (img__in_list(img_db_sort_keys, k))
        return 0;
    return req_fail(req, 400, "Invalid sort key: %s. It must be one of the following: %s.", k,
                    sort_list);
}

static int
sort_dir_ok(struct http_req *req, const char *d)
{
    if (!strcmp(d, "asc") || !strcmp(d, "desc"))
        return 0;
    return req_fail(req, 400, "Invalid sort direction: %s", d);
}

/* The sort of the listing from repeated sort_key/sort_dir or from
 * "sort=k1:d1,k2", then created_at and id (Glance appends both when
 * missing, so the order is total), into f. */
static int
list_sort(struct http_req *req, struct qarg *a, int n, struct img_filter *f)
{
    const char *keys[IMG_MAX_SORT + 1], *dirs[IMG_MAX_SORT + 1];
    int nk = 0, nd = 0;
    const char *sort = take(a, n, "sort");
    const char *def = "desc";
    if (sort) {
        const char *k2[1], *d2[1];
        if (take_all(a, n, "sort_key", k2, 1) || take_all(a, n, "sort_dir", d2, 1))
            return req_fail(req, 400, "Old and new sorting syntax cannot be combined");
        char *s = arena_strdup(req->arena, sort), *save = NULL;
        for (char *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            char *colon = strchr(p, ':');
            if (colon)
                *colon = '\0';
            const char *dir = colon && *strip(colon + 1) ? strip(colon + 1) : "desc";
            if (nk == IMG_MAX_SORT)
                return req_fail(req, 400, "Too many sort keys (at most %d)", IMG_MAX_SORT);
            if (sort_key_ok(req, strip(p)) < 0 || sort_dir_ok(req, dir) < 0)
                return -1;
            keys[nk] = strip(p);
            dirs[nd++] = dir;
            nk++;
        }
    } else {
        int tk = take_all(a, n, "sort_key", keys, IMG_MAX_SORT + 1);
        int td = take_all(a, n, "sort_dir", dirs, IMG_MAX_SORT + 1);
        if (tk > IMG_MAX_SORT || td > IMG_MAX_SORT)
            return req_fail(req, 400, "Too many sort keys (at most %d)", IMG_MAX_SORT);
        for (nk = 0; nk < tk; nk++)
            if (sort_key_ok(req, keys[nk] = strip(arena_strdup(req->arena, keys[nk]))) < 0)
                return -1;
        for (nd = 0; nd < td; nd++)
            if (sort_dir_ok(req, dirs[nd] = strip(arena_strdup(req->arena, dirs[nd]))) < 0)
                return -1;
        if (nd > 1 && nd != nk)
            return req_fail(req, 400, "Number of sort dirs does not match the number of sort "
                                      "keys");
        if (nd == 1) {
            /* one direction serves every key, and the appended ones */
            def = dirs[0];
            for (int i = 1; i < nk; i++)
                dirs[i] = def;
        }
    }
    if (!nk)
        keys[nk++] = "created_at";
    for (int i = 0; i < nk; i++) {
        f->sort_keys[i] = keys[i];
        f->sort_asc[i] = !strcmp(i < nd ? dirs[i] : def, "asc");
    }
    f->nsort = nk;
    static const char *const tail[] = {"created_at", "id"};
    for (int t = 0; t < 2; t++) {
        bool have = false;
        for (int i = 0; i < nk; i++)
            have |= !strcmp(keys[i], tail[t]);
        if (!have) {
            f->sort_keys[f->nsort] = tail[t];
            f->sort_asc[f->nsort++] = !strcmp(def, "asc");
        }
    }
    return 0;
}

/* Splits an "in:" list as Glance does: comma-separated, and an item in
 * double quotes may hold commas ("a,b",c); escaped quotes stay as given. */
static int
split_in(struct http_req *req, const char *s, struct img_cond *c)
{
    const char *p = s;
    c->nvals = 0;
    while (*p) {
        if (c->nvals == IMG_MAX_IN)
            return req_fail(req, 400, "Too many values in filter (at most %d)", IMG_MAX_IN);
        if (*p == '"') {
            const char *q = p + 1;
            while (*q && *q != '"')
                q += q[0] == '\\' && q[1] ? 2 : 1;
            if (!*q || (q[1] && q[1] != ','))
                return req_fail(req, 400, "Invalid filter value %s. The quote is not closed.",
                                s);
            c->vals[c->nvals++] = arena_strndup(req->arena, p + 1, (size_t)(q - p - 1));
            p = q + 1 + (q[1] == ',');
        } else {
            size_t len = strcspn(p, ",");
            if (memchr(p, '"', len))
                return req_fail(req, 400, "Invalid filter value %s. There is no comma before "
                                          "opening quotation mark.", s);
            c->vals[c->nvals++] = arena_strndup(req->arena, p, len);
            p += len + (p[len] == ',');
        }
    }
    return 0;
}

/* Integer text as Glance's int() reads it. */
static bool
is_int(const char *s)
{
    char *end;
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    errno = 0;
    (void)strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    return !*end && errno == 0;
}

static const char *
trim_int(struct http_req *req, const char *s)
{
    return strip(arena_strdup(req->arena, s));
}

/* One filter parameter k=v into a condition of f. */
static int
add_filter(struct http_req *req, struct img_filter *f, const char *k, const char *v)
{
    static const char *const op_cols[] = {"name", "id", "status", "container_format",
                                          "disk_format", NULL};
    static const char *const ops[] = {"", "eq", "neq", "gt", "gte", "lt", "lte", NULL};
    if (f->nconds == IMG_MAX_CONDS)
        return req_fail(req, 400, "Too many filters (at most %d)", IMG_MAX_CONDS);
    struct img_cond *c = &f->conds[f->nconds];
    size_t kl = strlen(k);
    *c = (struct img_cond){.col = k, .op = IMG_OP_EQ, .nvals = 1};
    c->vals[0] = v;
    if (kl > 4 && (!strcmp(k + kl - 4, "_min") || !strcmp(k + kl - 4, "_max"))) {
        const char *col = arena_strndup(req->arena, k, kl - 4);
        if (img_db_int_col(col)) {
            if (!is_int(v))
                return req_fail(req, 400, "Unable to filter on a range with a non-numeric "
                                          "value.");
            *c = (struct img_cond){.col = col, .op = k[kl - 2] == 'i' ? IMG_OP_GTE : IMG_OP_LTE,
                                   .nvals = 1};
            c->vals[0] = trim_int(req, v);
            f->nconds++;
            return 0;
        }
    }
    if (!strcmp(k, "created_at") || !strcmp(k, "updated_at")) {
        /* "op:time", or a bare ISO time (whose colons are no operator) */
        const char *colon = strchr(v, ':'), *t = v;
        int64_t us;
        int op = 1;
        if (colon && time_parse_iso(v, &us) < 0) {
            const char *o = arena_strndup(req->arena, v, (size_t)(colon - v));
            for (op = 1; ops[op] && strcmp(ops[op], o); op++)
                ;
            if (!ops[op])
                return req_fail(req, 400, "Unable to filter on a unknown operator.");
            t = colon + 1;
        }
        if (time_parse_iso(t, &us) < 0)
            return req_fail(req, 400, "Bad \"%s\" query filter format. Use ISO 8601 DateTime "
                                      "notation.", k);
        c->op = op;
        c->vals[0] = arena_printf(req->arena, "%lld", (long long)(us / 1000000));
    } else if (img__in_list(op_cols, k)) {
        const char *colon = strchr(v, ':');
        int64_t us;
        if (colon && time_parse_iso(v, &us) < 0) {
            const char *o = arena_strndup(req->arena, v, (size_t)(colon - v));
            if (!strcmp(o, "in")) {
                c->op = IMG_OP_IN;
                if (split_in(req, colon + 1, c) < 0)
                    return -1;
            } else if (!strcmp(o, "eq")) {
                c->vals[0] = colon + 1;
            } else {
                return req_fail(req, 400, "Unable to filter by unknown operator '%s'.", o);
            }
        }
    } else if (img_db_int_col(k)) {
        if (!is_int(v))
            c->vals[0] = NULL;  /* never equal: the condition matches nothing */
        else
            c->vals[0] = trim_int(req, v);
    } else if (!img__in_list(img_db_filter_cols, k)) {
        c->col = NULL;
        c->prop = k;
    }
    f->nconds++;
    return 0;
}

/* A true/false filter: -1 absent, else 0/1; -2 with 400 recorded. */
static int
bool_filter(struct http_req *req, const char *name, const char *v, bool any_case)
{
    if (!v)
        return -1;
    if (any_case ? !strcasecmp(v, "true") : !strcmp(v, "true"))
        return 1;
    if (any_case ? !strcasecmp(v, "false") : !strcmp(v, "false"))
        return 0;
    req_fail(req, 400, "Invalid value '%s' for '%s' filter. Valid values are 'true' or "
                       "'false'.", v, name);
    return -2;
}

/* Reads the query into f; the filter parameters into its conditions. */
static int
parse_list(struct http_req *req, struct qarg *a, int n, struct img_filter *f)
{
    const char *v;
    if ((v = take(a, n, "limit"))) {
        char *end;
        long l = strtol(v, &end, 10);
        if (!*v || *end)
            return req_fail(req, 400, "limit param must be an integer");
        if (l < 0)
            return req_fail(req, 400, "limit param must be positive");
        f->limit = l > IMG_MAX_LIMIT ? IMG_MAX_LIMIT : (int)l;
    }
    f->marker = take(a, n, "marker");
    f->member_status = take(a, n, "member_status");
    if (!f->member_status)
        f->member_status = "accepted";
    static const char *const ms[] = {"pending", "accepted", "rejected", "all", NULL};
    if (!img__in_list(ms, f->member_status))
        return req_fail(req, 400, "Invalid status: %s", f->member_status);
    const char *tags[IMG_MAX_CONDS + 1];
    f->ntags = take_all(a, n, "tag", tags, IMG_MAX_CONDS + 1);
    if (f->ntags > IMG_MAX_CONDS)
        return req_fail(req, 400, "Too many tags (at most %d)", IMG_MAX_CONDS);
    for (int i = 0; i < f->ntags; i++)
        f->tags[i] = strip(arena_strdup(req->arena, tags[i]));
    f->visibility = take(a, n, "visibility");
    static const char *const vis[] = {"community", "public", "private", "shared", "all", NULL};
    if (f->visibility && *f->visibility && !img__in_list(vis, f->visibility))
        return req_fail(req, 400, "Invalid visibility value: %s", f->visibility);
    if (f->visibility && !*f->visibility)
        f->visibility = NULL;
    if ((v = take(a, n, "changes-since")) && *v)
        return req_fail(req, 400, "The \"changes-since\" filter is no longer available on "
                                  "v2.");
    if (list_sort(req, a, n, f) < 0)
        return -1;
    f->hidden = bool_filter(req, "os_hidden", take(a, n, "os_hidden"), true);
    f->protected_ = bool_filter(req, "protected", take(a, n, "protected"), false);
    if (f->hidden == -2 || f->protected_ == -2)
        return -1;
    if (f->hidden < 0)
        f->hidden = 0;      /* hidden images only when asked for */
    /* Glance always lists live images only: a "deleted" filter is moot */
    take(a, n, "deleted");
    for (int i = 0; i < n; i++) {
        if (a[i].used)
            continue;
        if (add_filter(req, f, a[i].k, a[i].v) < 0)
            return -1;
    }
    return 0;
}

/* Percent-encoding of a query value, in the arena. */
static const char *
qenc(struct http_req *req, const char *s)
{
    size_t n = strlen(s);
    char *o = arena_alloc(req->arena, n * 3 + 1), *p = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c)) {
            *p++ = (char)c;
        } else {
            snprintf(p, 4, "%%%02X", c);
            p += 3;
        }
    }
    *p = '\0';
    return o;
}

/* The listing's query without the marker, for the "first" and "next"
 * links: "" or "a=1&b=2". */
static const char *
link_query(struct http_req *req, const struct qarg *a, int n)
{
    const char *q = "";
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].k, "marker"))
            q = arena_printf(req->arena, "%s%s%s=%s", q, *q ? "&" : "", qenc(req, a[i].k),
                             qenc(req, a[i].v));
    return q;
}

int
img__list(struct http_req *req)
{
    struct img_filter f = {
        .caller = req->auth.project_id, .admin = img__admin(req), .limit = IMG_DEFAULT_LIMIT,
    };
    struct qarg *a = arena_alloc(req->arena, sizeof(*a) * MAX_QARGS);
    struct img_image *items, mk;
    int n = 0, na, rc;
    if (img__trailing_slash(req))
        return req_fail(req, 404, "The resource could not be found.");
    if ((na = parse_query(req, a, MAX_QARGS)) < 0 || parse_list(req, a, na, &f) < 0 ||
        !img__db(req))
        return -1;
    if (f.marker) {
        rc = img_db_get(req->db, req->arena, f.marker, &mk);
        if (rc == -ENOENT || (rc == 0 && !img__visible(req, &mk)))
            return req_fail(req, 400, "Invalid marker. Image %s could not be found.",
                            f.marker);
        if (rc)
            return img__db_fail(req, rc, f.marker);
    }
    rc = img_db_list(req->db, req->arena, &f, &items, &n);
    if (rc == -E2BIG)
        return req_fail(req, 400, "Too many filter values in one request");
    if (rc)
        return img__db_fail(req, rc, NULL);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, img__view(req, &items[i]));
    const char *q = link_query(req, a, na);
    json_t *body = json_pack("{s:o,s:s,s:s}", "images", arr, "schema", "/v2/schemas/images",
                             "first", arena_printf(req->arena, "/v2/images%s%s",
                                                   *q ? "?" : "", q));
    if (n && n == f.limit)
        json_object_set_new(body, "next", json_string(arena_printf(
                                              req->arena, "/v2/images?%s%smarker=%s", q,
                                              *q ? "&" : "", items[n - 1].id)));
    return http_reply_json(req, 200, body);
}
