/* dlo.c - Dynamic Large Objects (Swift's dlo middleware): a manifest is an
 * object with X-Object-Manifest: <container>/<prefix>, kept on PUT and
 * POST like metadata (under a reserved key); its data is the objects of
 * that container whose names start with prefix, in listing order, read by
 * large.c. Also the large-object header rules that PUT and POST share with
 * SLOs, and the copy hook. */
#include "object_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
obj__hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
obj__unquote(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n &&
            (hi = obj__hexval(s[i + 1])) >= 0 && (lo = obj__hexval(s[i + 2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* Swift's dlo check of X-Object-Manifest: "container/prefix", neither
 * empty, no query characters, the prefix not starting with '/'. */
static bool
manifest_ok(const char *v)
{
    const char *slash = strchr(v, '/');
    return slash && slash > v && slash[1] && slash[1] != '/' && !strchr(v, '?') &&
           !strchr(v, '&');
}

const char *
obj__lo_meta_in(struct http_req *req, const char *meta, const char *old)
{
    const char *dlo = http_header_in(req, "X-Object-Manifest");
    const char *mm = http_query(req, "multipart-manifest");
    bool slo_put = !old && mm && !strcmp(mm, "put");
    if (!slo_put && http_header_in(req, "X-Static-Large-Object"))
        return obj__fail_text(req, 400, "X-Static-Large-Object is a reserved header. To "
                                        "create a static large object add query param "
                                        "multipart-manifest=put."),
               NULL;
    if (dlo && !manifest_ok(dlo))
        return obj__fail_text(req, 400, "X-Object-Manifest must be in the format "
                                        "container/prefix"),
               NULL;
    const char *slo_etag = NULL;
    int64_t slo_size = -1;
    if (old)
        obj__lo_kind(req->arena, old, NULL, &slo_etag, &slo_size);
    if (!dlo && !slo_etag)
        return meta;
    json_t *o = obj_meta_load(meta);
    if (dlo)
        json_object_set_new(o, OBJ_META_DLO, json_string(dlo));
    /* an SLO stays one through a POST: Swift keeps X-Static-Large-Object
     * with the data file, not with the replaceable metadata */
    if (slo_etag) {
        json_object_set_new(o, OBJ_META_SLO_ETAG, json_string(slo_etag));
        json_object_set_new(o, OBJ_META_SLO_SIZE,
                            json_string(arena_printf(req->arena, "%lld",
                                                     (long long)slo_size)));
    }
    return obj_meta_text(req->arena, o);
}

static const char *const lo_keys[] = {OBJ_META_DLO, OBJ_META_SLO_ETAG, OBJ_META_SLO_SIZE};

const char *
obj__lo_meta_copy(struct arena *a, const char *meta, const char *from)
{
    json_t *o = obj_meta_load(meta), *f = from ? obj_meta_load(from) : NULL;
    for (size_t i = 0; i < sizeof(lo_keys) / sizeof(lo_keys[0]); i++) {
        json_t *v = json_object_get(f, lo_keys[i]);
        if (from && v)
            json_object_set(o, lo_keys[i], v);
        else if (!from)
            json_object_del(o, lo_keys[i]);
    }
    json_decref(f);
    return obj_meta_text(a, o);
}

int
obj__dlo_page(struct db *db, struct arena *a, const char *cid, const char *cname,
              const char *prefix, const char *marker, struct obj_seglist *out)
{
    struct obj_range r = {.gt = marker, .prefix = prefix, .limit = OBJ_DLO_MAX_SEGMENTS};
    struct obj_list_item *it;
    int n;
    int rc = obj_db_list(db, a, false, cid, &r, &it, &n);
    if (rc)
        return rc;
    out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
    out->n = (size_t)n;
    for (int i = 0; i < n; i++) {
        struct obj_seg *g = &out->v[i];
        g->container = xstrdup(cname);
        g->object = xstrdup(it[i].name);
        /* the walk checks each segment is still what the listing said */
        g->etag = xstrdup(it[i].etag);
        g->size = it[i].bytes;
        g->length = (uint64_t)it[i].bytes;
    }
    return 0;
}
