/* slo.c - Static Large Objects (Swift's slo middleware): the manifest PUT
 * (?multipart-manifest=put: a JSON list of {path, etag, size_bytes, range}
 * or {data}, every segment checked, stored as Swift stores it, a list of
 * {name, bytes, hash, content_type, last_modified[, range][, sub_slo]}),
 * the stored manifest read back (?multipart-manifest=get[&format=raw]) and
 * the delete of a manifest with its segments (?multipart-manifest=delete,
 * answered as a bulk delete). Reading the data is large.c's.
 *
 * The SLO's ETag (MD5 of the segments' ETags, "etag:range;" for ranged
 * ones) and total size are computed at PUT and kept with the object under
 * reserved metadata keys, as Swift keeps them in sysmeta: a HEAD needs no
 * segment. */
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- base64 (standard alphabet, as Swift's strict_b64decode) ---- */

/* Decodes s strictly (standard alphabet, length a multiple of 4, at most
 * two '=' and only at the end) into a malloc'd buffer; *n its length.
 * NULL when s is not base64. The core's decoder does the work. */
static unsigned char *
b64decode(const char *s, size_t *n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789+/";
    size_t len = strlen(s), body = strspn(s, alpha), pad = strspn(s + body, "=");
    if (len % 4 || body + pad != len || pad > 2)
        return NULL;
    unsigned char *out = xmalloc(len / 4 * 3 + 3);
    long k = b64url_decode(s, len, out);
    if (k < 0) {
        free(out);
        return NULL;
    }
    *n = (size_t)k;
    return out;
}

/* Standard base64 with padding, malloc'd: the core's URL-safe form with
 * its two letters swapped back. */
static char *
b64encode(const unsigned char *p, size_t n)
{
    char *out = xmalloc((n + 2) / 3 * 4 + 1);
    size_t k = b64url_encode(p, n, out);
    for (size_t i = 0; i < k; i++)
        out[i] = out[i] == '-' ? '+' : out[i] == '_' ? '/' : out[i];
    while (k % 4)
        out[k++] = '=';
    out[k] = '\0';
    return out;
}

static void
md5_hex(const void *p, size_t n, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_Digest(p, n, d, &dl, EVP_md5(), NULL);
    hex_encode(d, 16, out);
}

/* "/container/object" (leading slashes dropped) into its two parts;
 * false when there is no object part. */
static bool
split_path(struct arena *a, const char *path, const char **c, const char **o)
{
    while (*path == '/')
        path++;
    const char *slash = strchr(path, '/');
    if (!slash || slash == path || !slash[1])
        return false;
    *c = arena_strndup(a, path, (size_t)(slash - path));
    *o = slash + 1;
    return true;
}

/* ---- the stored manifest ---- */

int
obj__slo_parse(const char *txt, size_t len, struct obj_seglist *out)
{
    json_t *j = json_loadb(txt, len, 0, NULL);
    memset(out, 0, sizeof(*out));
    if (!json_is_array(j)) {
        json_decref(j);
        return -1;
    }
    out->v = xcalloc(json_array_size(j) + 1, sizeof(*out->v));
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e) {
        struct obj_seg *g = &out->v[out->n++];
        const char *data = json_string_value(json_object_get(e, "data"));
        g->size = -1;
        if (data) {
            size_t n;
            if (!(g->data = b64decode(data, &n)))
                goto bad;
            g->length = n;
            continue;
        }
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *hash = json_string_value(json_object_get(e, "hash"));
        const char *range = json_string_value(json_object_get(e, "range"));
        json_t *bytes = json_object_get(e, "bytes");
        const char *slash;
        while (name && *name == '/')
            name++;
        if (!name || !(slash = strchr(name, '/')) || !json_is_integer(bytes))
            goto bad;
        g->container = strndup(name, (size_t)(slash - name));
        g->object = xstrdup(slash + 1);
        g->etag = hash ? xstrdup(hash) : NULL;
        g->size = json_integer_value(bytes);
        g->sub_slo = json_is_true(json_object_get(e, "sub_slo"));
        if (range) {
            /* "a-b", made concrete by the PUT */
            unsigned long long a, b;
            if (sscanf(range, "%llu-%llu", &a, &b) != 2 || b < a)
                goto bad;
            g->rstart = a;
            g->length = b - a + 1;
        } else {
            g->length = (uint64_t)g->size;
        }
    }
    json_decref(j);
    return 0;
bad:
    json_decref(j);
    obj__seglist_release(out);
    return -1;
}

int
obj__slo_get_raw(struct http_req *req, int fd, uint64_t size, const char *ctype)
{
    char *txt, etag[33];
    int rc = obj__read_manifest(fd, size, (uint64_t)16 << 20, &txt);
    close(fd);
    if (rc < 0)
        return req_fail(req, 500, "Unable to load SLO manifest: %s", strerror(-rc));
    json_t *j = json_loadb(txt, size, 0, NULL);
    free(txt);
    if (!json_is_array(j)) {
        json_decref(j);
        return req_fail(req, 500, "Unable to load SLO manifest");
    }
    /* back to the form the client PUT: path, etag, size_bytes, range */
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e) {
        if (json_object_get(e, "data"))
            continue;
        json_object_del(e, "content_type");
        json_object_del(e, "last_modified");
        json_object_del(e, "sub_slo");
        const char *from[3] = {"name", "bytes", "hash"}, *to[3] = {"path", "size_bytes", "etag"};
        for (int k = 0; k < 3; k++) {
            json_t *v = json_object_get(e, from[k]);
            json_object_set(e, to[k], v ? v : json_null());
            json_object_del(e, from[k]);
        }
    }
    char *out = json_dumps(j, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(j);
    if (!out)
        return req_fail(req, 500, "Unable to load SLO manifest");
    md5_hex(out, strlen(out), etag);
    http_header(req, "Etag", etag);
    http_reply_raw(req, 200, ctype, out, strlen(out));
    free(out);
    return 0;
}

/* ---- manifest PUT ---- */

struct obj_slo_put {
    struct buf body;
    char etag[40];              /* the SLO's, quoted, for the 201 */
};

static void
slo_put_free(void *arg)
{
    struct obj_slo_put *s = arg;
    buf_release(&s->body);
    free(s);
}

int
obj__slo_put_begin(struct http_req *req, bool copy, struct obj_slo_put **out)
{
    const char *mm = http_query(req, "multipart-manifest");
    const char *cl = http_header_in(req, "Content-Length");
    *out = NULL;
    if (!mm || strcmp(mm, "put"))
        return 0;
    if (copy)
        return obj__fail_text(req, 405, "Multipart Manifest PUTs cannot be COPY requests");
    if (cl && strtoll(cl, NULL, 10) > OBJ_SLO_MAX_MANIFEST)
        return obj__fail_text(req, 413, "Manifest File > 8388608 bytes");
    struct obj_slo_put *s = xcalloc(1, sizeof(*s));
    /* the manifest is a control document of bounded size, read whole as
     * Swift reads it */
    buf_init(&s->body, OBJ_SLO_MAX_MANIFEST);
    arena_on_release(req->arena, slo_put_free, s);
    *out = s;
    return 0;
}

int
obj__slo_put_data(struct http_req *req, struct obj_slo_put *s, const char *p, size_t n)
{
    if (buf_append(&s->body, p, n) < 0)
        return obj__fail_text(req, 413, "Manifest File > 8388608 bytes");
    return 0;
}

const char *
obj__slo_put_etag(struct obj_slo_put *s)
{
    return s->etag;
}

/* One entry of the manifest being PUT, once parsed. */
struct in_seg {
    json_t *in;                 /* the client's object (borrowed) */
    const char *path;           /* NULL for data */
    const char *etag;           /* NULL: not given */
    bool has_size;
    long long size;
    const char *range;          /* "a-b" etc., NULL: none */
    unsigned char *data;        /* decoded inline data */
    size_t dlen;
    json_t *out;                /* the stored entry */
    uint64_t length;
};

/* Python's int() of a JSON value as Swift applies it to size_bytes. */
static bool
json_int(json_t *v, long long *out)
{
    int64_t n;
    if (json_is_integer(v) || json_is_boolean(v)) {
        *out = json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = (long long)json_real_value(v);
        return true;
    }
    if (!obj__py_int(json_string_value(v), &n))
        return false;
    *out = n;
    return true;
}

/* Swift's parse_and_validate_input: the shape of every entry. Errors are
 * appended to err as "Index N: ...\n" lines. */
static void
parse_input(struct http_req *req, json_t *j, const char *cname, const char *oname,
            struct in_seg *segs, struct buf *err)
{
    size_t n = json_array_size(j), i;
    size_t ndata = 0;
    json_t *e;
#define ERR(...)                                                              \
    do {                                                                      \
        const char *m_ = arena_printf(req->arena, __VA_ARGS__);               \
        buf_append(err, m_, strlen(m_));                                      \
        buf_append(err, "\n", 1);                                             \
    } while (0)
    json_array_foreach(j, i, e) {
        struct in_seg *s = &segs[i];
        const char *k;
        json_t *v;
        s->in = e;
        if (!json_is_object(e)) {
            ERR("Index %zu: not a JSON object", i);
            continue;
        }
        bool is_data = json_object_get(e, "data") != NULL;
        if (!is_data && !json_object_get(e, "path")) {
            ERR("Index %zu: expected keys to include one of 'data' or 'path'", i);
            continue;
        }
        /* extraneous keys, sorted, JSON-quoted */
        const char **extra = arena_alloc(req->arena, sizeof(*extra) * (json_object_size(e) + 1));
        size_t nx = 0;
        json_object_foreach(e, k, v) {
            bool ok = is_data ? !strcmp(k, "data")
                              : (!strcmp(k, "path") || !strcmp(k, "etag") ||
                                 !strcmp(k, "size_bytes") || !strcmp(k, "range"));
            if (!ok) {
                size_t p = nx++;
                while (p && strcmp(extra[p - 1], k) > 0) {
                    extra[p] = extra[p - 1];
                    p--;
                }
                extra[p] = k;
            }
        }
        if (nx) {
            struct buf b;
            buf_init(&b, 1 << 16);
            for (size_t x = 0; x < nx; x++) {
                json_t *ks = json_string(extra[x]);
                char *q = json_dumps(ks, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
                if (x)
                    buf_append(&b, ", ", 2);
                if (q)
                    buf_append(&b, q, strlen(q));
                free(q);
                json_decref(ks);
            }
            ERR("Index %zu: extraneous keys %.*s", i, (int)b.len, b.data ? b.data : "");
            buf_release(&b);
            continue;
        }
        if (is_data) {
            const char *d = json_string_value(json_object_get(e, "data"));
            if (!d || !(s->data = b64decode(d, &s->dlen))) {
                ERR("Index %zu: data must be valid base64", i);
                continue;
            }
            if (!s->dlen) {
                ERR("Index %zu: too small; each segment must be at least 1 byte.", i);
                continue;
            }
            s->length = s->dlen;
            ndata++;
            continue;
        }
        json_t *path = json_object_get(e, "path"), *etag = json_object_get(e, "etag");
        json_t *size = json_object_get(e, "size_bytes"), *range = json_object_get(e, "range");
        const char *pc, *po;
        if (!json_is_string(path)) {
            ERR("Index %zu: \"path\" must be a string", i);
            continue;
        }
        if (etag && !json_is_null(etag) && !json_is_string(etag)) {
            ERR("Index %zu: \"etag\" must be a string or null (if provided)", i);
            continue;
        }
        s->path = json_string_value(path);
        s->etag = json_string_value(etag);
        {
            /* Python's path.strip('/') must still hold a '/' */
            const char *p = s->path;
            size_t pl = strlen(p);
            while (*p == '/')
                p++, pl--;
            while (pl && p[pl - 1] == '/')
                pl--;
            if (!memchr(p, '/', pl)) {
                ERR("Index %zu: path does not refer to an object. Path must be of the form "
                    "/container/object.", i);
                s->path = NULL;
                continue;
            }
        }
        if (size && !json_is_null(size)) {
            if (!json_int(size, &s->size)) {
                ERR("Index %zu: invalid size_bytes", i);
                s->path = NULL;
                continue;
            }
            s->has_size = true;
            if (s->size < 1 && i != n - 1) {
                ERR("Index %zu: too small; each segment must be at least 1 byte.", i);
                s->path = NULL;
                continue;
            }
        }
        if (split_path(req->arena, s->path, &pc, &po) && !strcmp(pc, cname) &&
            !strcmp(po, oname)) {
            ERR("Index %zu: manifest must not include itself as a segment", i);
            s->path = NULL;
            continue;
        }
        bool has_range = range && !json_is_null(range) && !json_is_false(range) &&
                         !(json_is_string(range) && !*json_string_value(range)) &&
                         !(json_is_integer(range) && !json_integer_value(range));
        if (has_range) {
            struct obj_byterange r[OBJ_MAX_RANGES];
            const char *rs = json_string_value(range);
            const char *hdr = rs ? arena_printf(req->arena, "bytes=%s", rs) : NULL;
            if (!hdr || obj__ranges(hdr, UINT64_MAX, r) < 0) {
                ERR("Index %zu: invalid range", i);
                s->path = NULL;
                continue;
            }
            if (strchr(rs, ',')) {
                ERR("Index %zu: multiple ranges (only one allowed)", i);
                s->path = NULL;
                continue;
            }
            if (s->has_size && (s->size < 0 || obj__ranges(hdr, (uint64_t)s->size, r) != 1)) {
                ERR("Index %zu: unsatisfiable range", i);
                s->path = NULL;
                continue;
            }
            s->range = hdr;
        }
    }
    if (n && ndata == n)
        ERR("Inline data segments require at least one object-backed segment.");
#undef ERR
}

/* What a HEAD of a segment tells: found, size, etag, and more. */
struct seg_head {
    int status;                 /* 200, or the failure */
    int64_t size;
    const char *etag, *ctype;
    int64_t modified_us;
    bool slo;
};

/* HEADs path (as the caller, with read access) into *h. -1 only for a
 * server error (recorded). */
static int
head_segment(struct http_req *req, const struct obj_access *x, const char *path,
             struct seg_head *h)
{
    const char *cn, *on, *etag;
    struct obj_container c;
    struct obj_row row;
    int64_t size;
    memset(h, 0, sizeof(*h));
    h->status = 404;
    if (!split_path(req->arena, path, &cn, &on))
        return 0;
    int rc = obj__may_read(req, x, cn, OBJ_READ, false, &c);
    if (rc == -1)
        return -1;
    if (rc < 0) {
        h->status = -rc;
        return 0;
    }
    rc = obj_db_object_get(req->db, req->arena, c.id, on, &row);
    if (rc && rc != -ENOENT)
        return obj__db_fail(req, rc);
    if (rc || obj__expired(&row))
        return 0;
    h->status = 200;
    h->size = row.size;
    h->etag = row.etag;
    h->ctype = row.content_type;
    h->modified_us = row.modified_us;
    /* a HEAD of a manifest answers for the large object it makes */
    if (obj__lo_kind(req->arena, row.meta, NULL, &etag, &size) == OBJ_LO_SLO && size >= 0) {
        h->slo = true;
        h->etag = etag;
        h->size = size;
    }
    return 0;
}

int
obj__slo_put_end(struct http_req *req, struct obj_slo_put *s, const struct obj_access *x,
                 const char *name, struct obj_writer *w, const char **meta, char *expect)
{
    json_error_t jerr;
    json_t *j = json_loadb(s->body.data ? s->body.data : "", s->body.len, JSON_DECODE_ANY,
                           &jerr);
    struct buf err;
    int rc = -1;
    if (!j)
        return obj__fail_text(req, 400, "Manifest must be valid JSON.\n");
    if (!json_is_array(j)) {
        json_decref(j);
        return obj__fail_text(req, 400, "Manifest must be a list.\n");
    }
    if (!obj__db(req)) {
        json_decref(j);
        return -1;
    }
    size_t n = json_array_size(j), nobj = 0;
    struct in_seg *segs = arena_alloc(req->arena, sizeof(*segs) * (n + 1));
    buf_init(&err, (size_t)16 << 20);
    parse_input(req, j, x->c.name, name, segs, &err);
    json_t *stored = json_array();
    /* problem segments, listed as Swift's get_response_body does */
    struct obj_bulk_report problems = {0};
    if (err.len) {
        rc = obj__fail_text(req, 400, arena_strndup(req->arena, err.data, err.len));
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        nobj += segs[i].path != NULL;
    if (nobj > OBJ_SLO_MAX_SEGMENTS) {
        rc = obj__fail_text(req, 413, "Number of object-backed segments must be <= 1000");
        goto out;
    }
    /* every segment path once, as Swift HEADs each path once */
    struct seg_head *heads = arena_alloc(req->arena, sizeof(*heads) * (n + 1));
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        struct in_seg *g = &segs[i];
        if (!g->path)
            continue;
        size_t first = i;
        for (size_t k = 0; k < i; k++)
            if (segs[k].path && !strcmp(segs[k].path, g->path)) {
                first = k;
                break;
            }
        if (first == i && head_segment(req, x, g->path, &heads[i]) < 0)
            goto out;
        struct seg_head *h = &heads[first];
        const char *qname = obj__quote(req->arena, g->path);
        if (h->status != 200) {
            int st = h->status == 401 || h->status == 403 || h->status == 404 ? h->status : 503;
            obj__bulk_fail(req, &problems, qname, obj__bulk_status(st));
            continue;
        }
        uint64_t len = (uint64_t)h->size;
        const char *range = NULL;
        if (g->range) {
            struct obj_byterange r[OBJ_MAX_RANGES];
            int nr = obj__ranges(g->range, (uint64_t)h->size, r);
            if (nr < 1) {
                obj__bulk_fail(req, &problems, qname, "Unsatisfiable Range");
            } else if (!(r[0].start == 0 && r[0].end == (uint64_t)h->size)) {
                range = arena_printf(req->arena, "%" PRIu64 "-%" PRIu64, r[0].start,
                                     r[0].end - 1);
                len = r[0].end - r[0].start;
            }
        }
        if (len < 1 && i != n - 1)
            obj__bulk_fail(req, &problems, qname,
                           "Too small; each segment must be at least 1 byte.");
        if (g->has_size && g->size != h->size)
            obj__bulk_fail(req, &problems, qname, "Size Mismatch");
        if (json_object_get(g->in, "etag") && !json_is_null(json_object_get(g->in, "etag")) &&
            strcmp(g->etag, h->etag))
            obj__bulk_fail(req, &problems, qname, "Etag Mismatch");
        const char *p = g->path;
        while (*p == '/')
            p++;
        g->out = json_pack("{s:s,s:I,s:s,s:s,s:s}", "name",
                           arena_printf(req->arena, "/%s", p), "bytes", (json_int_t)h->size,
                           "hash", h->etag, "content_type", h->ctype, "last_modified",
                           /* the segment's Last-Modified second, as Swift has it */
                           obj__iso(req, (h->modified_us + 999999) / 1000000 * 1000000));
        if (range)
            json_object_set_new(g->out, "range", json_string(range));
        if (h->slo)
            json_object_set_new(g->out, "sub_slo", json_true());
        g->length = len;
        g->range = range;
        g->etag = h->etag;
        total += len;
    }
    if (problems.nerr) {
        /* the 400 with its list is the answer: nothing is stored */
        const char *fmt = obj__bulk_format(req);
        obj__bulk_reply(req, 400, fmt ? fmt : "text/plain", &problems, "upload");
        rc = 1;
        goto out;
    }
    /* the SLO's ETag, and the stored manifest in the PUT's order */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    char slo_etag[33];
    EVP_DigestInit_ex(m, EVP_md5(), NULL);
    for (size_t i = 0; i < n; i++) {
        struct in_seg *g = &segs[i];
        const char *part;
        if (g->data) {
            char h[33];
            md5_hex(g->data, g->dlen, h);
            part = arena_strdup(req->arena, h);
            char *b64 = b64encode(g->data, g->dlen);
            json_array_append_new(stored, json_pack("{s:s}", "data", b64));
            free(b64);
            total += g->dlen;
        } else {
            part = g->range ? arena_printf(req->arena, "%s:%s;", g->etag, g->range) : g->etag;
            json_array_append(stored, g->out);
        }
        EVP_DigestUpdate(m, part, strlen(part));
    }
    EVP_DigestFinal_ex(m, d, &dl);
    EVP_MD_CTX_free(m);
    hex_encode(d, 16, slo_etag);
    if (expect[0] && strcmp(expect, slo_etag)) {
        rc = req_fail(req, 422, "Unprocessable Entity");
        goto out;
    }
    expect[0] = 0;      /* the client's ETag was the SLO's, now checked */
    /* Python's json.dumps: ", " and ": " separators, ASCII only */
    char *txt = json_dumps(stored, JSON_ENSURE_ASCII);
    if (!txt || (rc = obj_store_write(w, txt, strlen(txt))) < 0) {
        free(txt);
        rc = req_fail(req, 500, "cannot write the manifest: %s", strerror(-rc));
        goto out;
    }
    free(txt);
    json_t *mo = obj_meta_load(*meta);
    json_object_set_new(mo, OBJ_META_SLO_ETAG, json_string(slo_etag));
    json_object_set_new(mo, OBJ_META_SLO_SIZE,
                        json_string(arena_printf(req->arena, "%" PRIu64, total)));
    *meta = obj_meta_text(req->arena, mo);
    snprintf(s->etag, sizeof(s->etag), "\"%s\"", slo_etag);
    rc = 0;
    goto out;
out:
    for (size_t i = 0; i < n; i++) {
        free(segs[i].data);
        json_decref(segs[i].out);
    }
    json_decref(stored);
    json_decref(j);
    buf_release(&err);
    return rc;
}

/* ---- DELETE ?multipart-manifest=delete ---- */

/* An object to delete, or a manifest whose segments come first. */
struct del_item {
    const char *name;           /* "/container/object" */
    bool sub_slo;
    int err_code;               /* a failure found while expanding it */
    const char *err_msg;
};

struct del_state {
    struct http_req *req;
    const struct obj_access *x;
    struct obj_bulk_report rep; /* count[0] deleted, count[1] not found */
    bool bad_gateway;
};

/* The segments of manifest name appended to the queue. 0, or an HTTP
 * status with *msg, as Swift's get_slo_segments raises them. */
static int
manifest_segments(struct del_state *d, const char *name, struct del_item **q, size_t *qn,
                  size_t *qcap, const char **msg)
{
    struct http_req *req = d->req;
    const char *cn, *on, *etag;
    struct obj_container c;
    struct obj_row row;
    int fd;
    uint64_t size;
    char *txt;
    if (!split_path(req->arena, name, &cn, &on)) {
        *msg = "SLO manifest not found";
        return 404;
    }
    int rc = obj__may_read(req, d->x, cn, OBJ_READ, false, &c);
    if (rc == -1)
        return -1;
    if (rc == -404 || rc == -401) {
        *msg = rc == -404 ? "SLO manifest not found" : "401 Unauthorized";
        return -rc;
    }
    if (rc < 0) {
        *msg = "Unable to load SLO manifest or segment.";
        return 500;
    }
    rc = obj_db_object_get(req->db, req->arena, c.id, on, &row);
    if (rc && rc != -ENOENT)
        return obj__db_fail(req, rc);
    if (rc || obj__expired(&row)) {
        *msg = "SLO manifest not found";
        return 404;
    }
    if (obj__lo_kind(req->arena, row.meta, NULL, &etag, NULL) != OBJ_LO_SLO) {
        *msg = "Not an SLO manifest";
        return 400;
    }
    if (obj_store_open_read(d->x->account, c.id, row.file, row.data, &fd, &size) < 0) {
        *msg = "Unable to load SLO manifest or segment.";
        return 500;
    }
    rc = obj__read_manifest(fd, size, (uint64_t)16 << 20, &txt);
    close(fd);
    json_t *j = rc == 0 ? json_loadb(txt, size, 0, NULL) : NULL;
    if (rc == 0)
        free(txt);
    if (!json_is_array(j)) {
        json_decref(j);
        *msg = "Unable to load SLO manifest";
        return 500;
    }
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e) {
        const char *sn = json_string_value(json_object_get(e, "name"));
        if (!sn)
            continue;   /* inline data */
        if (*qn == *qcap) {
            *qcap = *qcap ? *qcap * 2 : 64;
            *q = xrealloc(*q, *qcap * sizeof(**q));
        }
        (*q)[(*qn)++] = (struct del_item){
            .name = arena_strdup(req->arena, sn),
            .sub_slo = json_is_true(json_object_get(e, "sub_slo")),
        };
    }
    json_decref(j);
    return 0;
}

/* Deletes one object as the caller's DELETE of it would (Swift's
 * subrequest passes versioned_writes too), its failure counted against
 * it: an item scope (bulk.c) takes it off the request. */
static void
delete_one(struct del_state *d, const char *name)
{
    struct http_req *req = d->req;
    struct obj_access sx = *d->x;
    struct obj_bulk_scope scope;
    const char *cn, *on;
    int st = 404;
    if (split_path(req->arena, name, &cn, &on)) {
        obj__bulk_enter(req, &scope, NULL);
        if (obj__may_read(req, d->x, cn, OBJ_WRITE, true, &sx.c) == 0)
            obj__object_remove(req, &sx, on);
        st = obj__bulk_leave(req, &scope);
    }
    if (st == 0)
        d->rep.count[0]++;
    else if (st == 404)
        d->rep.count[1]++;
    else {
        if (st >= 500)
            d->bad_gateway = true;
        obj__bulk_fail(req, &d->rep, obj__quote(req->arena, name),
                       obj__bulk_status(st == 401 || st == 403 ? st : 500));
    }
}

int
obj__slo_delete(struct http_req *req, const struct obj_access *x, const char *name)
{
    /* answered as Swift's bulk delete (handle_delete_iter) answers */
    struct del_state d = {
        .req = req, .x = x,
        .rep = {.status = obj__bulk_status(200), .body = "",
                .count_name = {"Number Deleted", "Number Not Found"}},
    };
    const char *fmt = obj__bulk_format(req);
    struct del_item *q = NULL;
    size_t qn = 0, qcap = 0, head = 0;
    if (!obj__db(req))
        return -1;
    if (!fmt) {
        d.rep.status = obj__bulk_status(406);
        goto done;
    }
    /* the manifest itself goes through the queue as a manifest, then
     * again as an object once its segments are gone */
    q = xcalloc(1, sizeof(*q));
    qcap = 1;
    q[qn++] = (struct del_item){.name = arena_printf(req->arena, "/%s/%s", x->c.name, name),
                                .sub_slo = true};
    while (head < qn) {
        if (qn - head > (size_t)OBJ_SLO_MAX_SEGMENTS * 10) {
            d.rep.status = obj__bulk_status(400);
            d.rep.body = "Too many buffered slo segments to delete.";
            goto done;
        }
        struct del_item it = q[head++];
        if (it.sub_slo) {
            const char *msg = NULL;
            int st = manifest_segments(&d, it.name, &q, &qn, &qcap, &msg);
            if (st < 0)
                goto fail;
            it.sub_slo = false;
            it.err_code = st;
            it.err_msg = msg;
            if (qn == qcap) {
                qcap *= 2;
                q = xrealloc(q, qcap * sizeof(*q));
            }
            q[qn++] = it;
            continue;
        }
        if (it.err_code == 404)
            d.rep.count[1]++;
        else if (it.err_code)
            obj__bulk_fail(req, &d.rep, obj__quote(req->arena, it.name), it.err_msg);
        else
            delete_one(&d, it.name);
    }
    if (d.rep.nerr) {
        d.rep.status = obj__bulk_status(d.bad_gateway ? 502 : 400);
    } else if (!d.rep.count[0] && !d.rep.count[1]) {
        d.rep.status = obj__bulk_status(400);
        d.rep.body = "Invalid bulk delete.";
    }
done:
    free(q);
    obj__bulk_reply(req, 200, fmt, &d.rep, "delete");
    return 0;
fail:
    free(q);
    return -1;
}
