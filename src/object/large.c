/* large.c - reading large objects: the segments of a Static Large Object
 * (its manifest, nested manifests included) or of a Dynamic Large Object
 * (the objects of a container under a prefix, in listing order) walked as
 * one stream of bytes, for GET/HEAD and for copies.
 *
 * The reader walks segment by segment and holds one segment file open at a
 * time; nothing of the data is kept. Each segment is looked up when the
 * walk reaches it and must still be what the manifest (SLO) or the listing
 * (DLO) said: same ETag and size, file still there. If it is not — deleted
 * or overwritten meanwhile — the body is cut where it stands, as Swift
 * drops the connection: the client gets fewer bytes than Content-Length,
 * never different bytes. Files are immutable once committed (store.h), so
 * a segment file opened stays the version that was checked.
 *
 * Access: the caller's read rights are decided before the answer starts,
 * per segment container (obj__access, as Swift's subrequests carry the
 * token); the owner of the account, or a temp URL, reads any container of
 * the account (Swift's tempurl authorizes the subrequests too). Containers
 * first met deeper in nested manifests are readable only in that case. */
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Swift's max_slo_recursion_depth */
#define LO_MAX_DEPTH 10
/* A stored manifest is read whole; ours are under 8 MiB of input turned
 * into at most this. */
#define LO_MAX_MANIFEST (16 << 20)

void
obj__seglist_release(struct obj_seglist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].container);
        free(l->v[i].object);
        free(l->v[i].etag);
        free(l->v[i].data);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

enum obj_lo_kind
obj__lo_kind(struct arena *a, const char *meta, const char **dlo, const char **slo_etag,
             int64_t *slo_size)
{
    /* cheap test first: most objects have none of the keys */
    if (!meta || (!strstr(meta, OBJ_META_DLO "\"") && !strstr(meta, OBJ_META_SLO_ETAG "\"")))
        return OBJ_LO_NONE;
    static const char *const keys[3] = {OBJ_META_SLO_ETAG, OBJ_META_SLO_SIZE, OBJ_META_DLO};
    const char *v[3];
    obj__meta_values(a, meta, keys, 3, v);
    if (slo_etag)
        *slo_etag = v[0];
    if (slo_size)
        *slo_size = v[1] ? strtoll(v[1], NULL, 10) : -1;
    if (dlo)
        *dlo = v[2];
    /* as in Swift's pipeline, slo comes before dlo */
    return v[0] ? OBJ_LO_SLO : v[2] ? OBJ_LO_DLO : OBJ_LO_NONE;
}

int
obj__read_manifest(int fd, uint64_t size, uint64_t max, char **buf)
{
    if (size > max)
        return -EFBIG;
    char *b = xmalloc(size + 1);
    uint64_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, b + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(b);
            return n < 0 ? -errno : -EIO;
        }
        got += (uint64_t)n;
    }
    b[size] = 0;
    *buf = b;
    return 0;
}

/* ---- the reader ---- */

/* A segment container as the reader knows it. */
struct lo_cont {
    char *name, *id;            /* id NULL: missing or not readable */
};

/* One level of the walk: a list of segments and the bytes still wanted
 * from it, relative to its start ([first, last], last < 0: nothing). */
struct lo_frame {
    struct obj_seglist own;     /* a nested manifest or a later listing page */
    const struct obj_seglist *list;
    size_t idx;
    int64_t first, last;
};

struct lo_src {
    struct obj_src base;
    char *account;
    bool account_wide;          /* owner or temp URL: every container */
    struct lo_cont *conts;
    size_t nconts;
    struct obj_seglist root;    /* the manifest, or the DLO's first page */
    /* DLO: its container and prefix; more: the last page was full */
    char *dlo_cid, *dlo_cname, *dlo_prefix;
    bool dlo, dlo_more;
    struct lo_frame st[LO_MAX_DEPTH + 1];
    int depth;
    /* the open piece */
    int fd;
    uint64_t foff, left;
    const unsigned char *data;
    char why[300];
};

static int
lo_fail(struct lo_src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
lo_fail(struct lo_src *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    s->base.why = s->why;
    return -1;
}

static void
close_piece(struct lo_src *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->data = NULL;
    s->left = 0;
}

static void
pop(struct lo_src *s)
{
    obj__seglist_release(&s->st[--s->depth].own);
}

/* Registers a container's readability (id NULL: not readable). */
static void
cont_add(struct lo_src *s, const char *name, const char *id)
{
    s->conts = xrealloc(s->conts, (s->nconts + 1) * sizeof(*s->conts));
    s->conts[s->nconts].name = xstrdup(name);
    s->conts[s->nconts].id = id ? xstrdup(id) : NULL;
    s->nconts++;
}

/* The id of segment container name when the caller may read it; NULL
 * with why set otherwise. */
static const char *
cont_id(struct lo_src *s, struct db *db, struct arena *a, const char *name)
{
    for (size_t i = 0; i < s->nconts; i++)
        if (!strcmp(s->conts[i].name, name)) {
            if (!s->conts[i].id)
                lo_fail(s, "segment container '%s' is missing or not readable", name);
            return s->conts[i].id;
        }
    if (!s->account_wide) {
        lo_fail(s, "segment container '%s' is not readable", name);
        return NULL;
    }
    struct obj_container c;
    int rc = obj_db_container_get(db, a, s->account, name, &c);
    if (rc && rc != -ENOENT) {
        lo_fail(s, "database error: %s", db_errmsg(db));
        return NULL;
    }
    cont_add(s, name, rc ? NULL : c.id);
    if (rc)
        lo_fail(s, "segment container '%s' is missing", name);
    return rc ? NULL : s->conts[s->nconts - 1].id;
}

/* The live row of a segment into *row, or -1 with why set. */
static int
seg_row(struct lo_src *s, struct db *db, struct arena *a, const struct obj_seg *g,
        const char **cid, struct obj_row *row)
{
    if (!(*cid = cont_id(s, db, a, g->container)))
        return -1;
    int rc = obj_db_object_get(db, a, *cid, g->object, row);
    if (rc == 0 && obj__expired(row))
        rc = -ENOENT;
    if (rc == -ENOENT)
        return lo_fail(s, "segment '%s/%s' is gone", g->container, g->object);
    if (rc)
        return lo_fail(s, "database error: %s", db_errmsg(db));
    return 0;
}

/* Opens bytes [off, off + len) of segment g as the current piece.
 * 0 or -1 with why set. */
static int
open_piece(struct lo_src *s, struct db *db, struct arena *a, const struct obj_seg *g,
           uint64_t off, uint64_t len)
{
    struct obj_row row;
    const char *cid;
    uint64_t fsize;
    if (g->data) {
        s->data = g->data + off;
        s->left = len;
        return 0;
    }
    if (seg_row(s, db, a, g, &cid, &row) < 0)
        return -1;
    if ((g->etag && strcmp(g->etag, row.etag)) || (g->size >= 0 && g->size != row.size))
        return lo_fail(s, "segment '%s/%s' changed (etag %s size %lld, manifest %s %lld)",
                       g->container, g->object, row.etag, (long long)row.size,
                       g->etag ? g->etag : "-", (long long)g->size);
    if (off + len > (uint64_t)row.size)
        return lo_fail(s, "segment '%s/%s' is shorter than its range", g->container,
                       g->object);
    int rc = obj_store_open_read(s->account, cid, row.file, row.data, &s->fd, &fsize);
    if (rc == 0 && fsize != (uint64_t)row.size)
        rc = -EIO;
    if (rc < 0) {
        close_piece(s);
        /* -ENOENT: overwritten or deleted between the row and the open */
        return lo_fail(s, "segment '%s/%s' cannot be read: %s", g->container, g->object,
                       strerror(-rc));
    }
    s->foff = off;
    s->left = len;
    return 0;
}

/* Loads the nested manifest of segment g into *out, checking it is still
 * the SLO the parent manifest names. 0 or -1 with why set. */
static int
load_sub(struct lo_src *s, struct db *db, struct arena *a, const struct obj_seg *g,
         struct obj_seglist *out)
{
    struct obj_row row;
    const char *cid, *etag;
    int64_t size;
    uint64_t fsize;
    int fd;
    char *txt;
    if (seg_row(s, db, a, g, &cid, &row) < 0)
        return -1;
    if (obj__lo_kind(a, row.meta, NULL, &etag, &size) != OBJ_LO_SLO)
        return lo_fail(s, "segment '%s/%s' is no longer a manifest", g->container, g->object);
    if ((g->etag && strcmp(g->etag, etag)) || (g->size >= 0 && g->size != size))
        return lo_fail(s, "manifest segment '%s/%s' changed", g->container, g->object);
    int rc = obj_store_open_read(s->account, cid, row.file, row.data, &fd, &fsize);
    if (rc < 0)
        return lo_fail(s, "manifest segment '%s/%s' cannot be read: %s", g->container,
                       g->object, strerror(-rc));
    rc = obj__read_manifest(fd, fsize, LO_MAX_MANIFEST, &txt);
    close(fd);
    if (rc < 0)
        return lo_fail(s, "manifest segment '%s/%s' cannot be read: %s", g->container,
                       g->object, strerror(-rc));
    rc = obj__slo_parse(txt, fsize, out);
    free(txt);
    return rc < 0 ? lo_fail(s, "manifest segment '%s/%s' is not valid", g->container,
                            g->object)
                  : 0;
}

/* Walks to the next piece of the wanted range and opens it, as Swift's
 * _byterange_listing_iterator does. 1 with a piece open, 0 at the end,
 * -1 with why set. */
static int
next_piece(struct lo_src *s, struct db *db, struct arena *a)
{
    close_piece(s);
    while (s->depth) {
        struct lo_frame *f = &s->st[s->depth - 1];
        if (f->last < 0) {
            pop(s);
            continue;
        }
        if (f->idx == f->list->n) {
            /* a full DLO listing page: the next one, after its last name */
            if (s->depth == 1 && s->dlo && s->dlo_more && f->list->n) {
                struct obj_seglist page = {0};
                const char *marker =
                    arena_strdup(a, f->list->v[f->list->n - 1].object);
                int rc = obj__dlo_page(db, a, s->dlo_cid, s->dlo_cname, s->dlo_prefix,
                                       marker, &page);
                if (rc)
                    return lo_fail(s, "cannot list the segments: %s", db_errmsg(db));
                s->dlo_more = page.n == OBJ_DLO_MAX_SEGMENTS;
                obj__seglist_release(&f->own);
                f->own = page;
                f->list = &f->own;
                f->idx = 0;
                continue;
            }
            pop(s);
            continue;
        }
        const struct obj_seg *g = &f->list->v[f->idx++];
        int64_t len = (int64_t)g->length, rs = (int64_t)g->rstart;
        if (f->first >= len) {
            f->first -= len;
            f->last -= len;
            continue;
        }
        int64_t fb = (f->first > 0 ? f->first : 0) + rs;
        int64_t lb = f->last < len - 1 ? rs + f->last : rs + len - 1;
        f->first -= len;
        f->last -= len;
        if (g->sub_slo) {
            if (s->depth == LO_MAX_DEPTH)
                return lo_fail(s, "max recursion depth of nested manifests exceeded");
            struct lo_frame *nf = &s->st[s->depth];
            memset(nf, 0, sizeof(*nf));
            if (load_sub(s, db, a, g, &nf->own) < 0) {
                obj__seglist_release(&nf->own);
                return -1;
            }
            nf->list = &nf->own;
            nf->first = fb;
            nf->last = lb;
            s->depth++;
            continue;
        }
        return open_piece(s, db, a, g, (uint64_t)fb, (uint64_t)(lb - fb + 1)) < 0 ? -1 : 1;
    }
    return 0;
}

static int
lo_seek(struct obj_src *base, uint64_t off, uint64_t len)
{
    struct lo_src *s = (struct lo_src *)base;
    close_piece(s);
    while (s->depth)
        pop(s);
    struct lo_frame *f = &s->st[s->depth++];
    memset(f, 0, sizeof(*f));
    f->list = &s->root;
    f->first = (int64_t)off;
    f->last = len == UINT64_MAX || off + len - 1 > (uint64_t)INT64_MAX ? INT64_MAX
                                                                       : (int64_t)(off + len - 1);
    return 0;
}

/* next_piece with a connection of the reader's own (read runs on the
 * event loop after the request gave its connection back) */
static int
advance(struct lo_src *s, struct db *db)
{
    struct db *own = db ? NULL : db_get();
    if (!db && !own)
        return lo_fail(s, "database unavailable");
    struct arena *a = arena_new();
    if (!a)
        abort();
    int r = next_piece(s, db ? db : own, a);
    arena_free(a);
    if (own)
        db_put(own);
    return r;
}

static int
lo_prime(struct obj_src *base, struct db *db)
{
    struct lo_src *s = (struct lo_src *)base;
    return advance(s, db) < 0 ? -1 : 0;
}

static ssize_t
lo_read(struct obj_src *base, char *buf, size_t max)
{
    struct lo_src *s = (struct lo_src *)base;
    while (!s->left) {
        int r = advance(s, NULL);
        if (r <= 0)
            return r;
    }
    if (max > s->left)
        max = (size_t)s->left;
    if (s->data) {
        memcpy(buf, s->data, max);
        s->data += max;
        s->left -= max;
        return (ssize_t)max;
    }
    ssize_t n;
    do
        n = pread(s->fd, buf, max, (off_t)s->foff);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return lo_fail(s, "cannot read a segment: %s", n < 0 ? strerror(errno) : "short file");
    s->foff += (uint64_t)n;
    s->left -= (uint64_t)n;
    return n;
}

static void
lo_free(struct obj_src *base)
{
    struct lo_src *s = (struct lo_src *)base;
    close_piece(s);
    while (s->depth)
        pop(s);
    obj__seglist_release(&s->root);
    for (size_t i = 0; i < s->nconts; i++) {
        free(s->conts[i].name);
        free(s->conts[i].id);
    }
    free(s->conts);
    free(s->account);
    free(s->dlo_cid);
    free(s->dlo_cname);
    free(s->dlo_prefix);
    free(s);
}

static struct lo_src *
lo_new(const char *account, bool account_wide)
{
    struct lo_src *s = xcalloc(1, sizeof(*s));
    s->base.seek = lo_seek;
    s->base.prime = lo_prime;
    s->base.read = lo_read;
    s->base.free = lo_free;
    s->account = xstrdup(account);
    s->account_wide = account_wide;
    s->fd = -1;
    return s;
}

/* ---- opening a large object for GET/HEAD ---- */

int
obj__may_read(struct http_req *req, const struct obj_access *x, const char *cname,
              enum obj_op op, bool record, struct obj_container *c)
{
    if (x->owner || x->tempurl) {
        /* req->db may have gone back to the pool (bulk_leave) */
        if (!obj__db(req))
            return -1;
        int rc = obj_db_container_get(req->db, req->arena, x->account, cname, c);
        if (rc && (record || rc != -ENOENT))
            return obj__db_fail(req, rc);
        return rc ? -404 : 0;
    }
    struct obj_access sx;
    int had = req->fail_status;
    if (obj__access(req, op, cname, &sx) < 0) {
        int st = req->fail_status;
        if (!record && !had && st < 500) {
            req->fail_status = 0;
            req->fail_msg = NULL;
            req->fail_title = NULL;
            return -st;
        }
        return -1;
    }
    *c = sx.c;
    return 0;
}

/* An SLO: the manifest of fd parsed (GET), its containers checked. */
static int
open_slo(struct http_req *req, const struct obj_access *x, const struct obj_row *row, int fd,
         struct lo_src *s, struct obj_lo *out)
{
    const char *etag;
    int64_t size;
    char *txt;
    obj__lo_kind(req->arena, row->meta, NULL, &etag, &size);
    out->manifest_etag = row->etag;
    out->etag = etag;
    out->size = size;
    if (req->method == HTTP_HEAD && size >= 0) {
        close(fd);
        return 0;       /* a HEAD needs no segment */
    }
    int rc = obj__read_manifest(fd, (uint64_t)row->size, LO_MAX_MANIFEST, &txt);
    close(fd);
    if (rc < 0)
        return req_fail(req, 500, "Unable to load SLO manifest: %s", strerror(-rc));
    rc = obj__slo_parse(txt, (size_t)row->size, &s->root);
    free(txt);
    if (rc < 0)
        return req_fail(req, 500, "Unable to load SLO manifest");
    if (size < 0) {
        /* not recorded: sum it as Swift does for legacy manifests */
        size = 0;
        for (size_t i = 0; i < s->root.n; i++)
            size += (int64_t)s->root.v[i].length;
        out->size = size;
    }
    if (x->owner || x->tempurl)
        return 0;
    /* each container once; a denied one cuts the body when reached */
    for (size_t i = 0; i < s->root.n; i++) {
        const char *cn = s->root.v[i].container;
        struct obj_container c;
        bool known = !cn;
        for (size_t k = 0; k < s->nconts && !known; k++)
            known = !strcmp(s->conts[k].name, cn);
        if (known)
            continue;
        int ok = obj__may_read(req, x, cn, OBJ_READ, false, &c);
        if (ok == -1)
            return -1;  /* a server error stays the answer */
        cont_add(s, cn, ok == 0 ? c.id : NULL);
    }
    return 0;
}

/* A DLO: its container listed (first page), ETag and size from it. */
static int
open_dlo(struct http_req *req, const struct obj_access *x, const struct obj_row *row,
         struct lo_src *s, struct obj_lo *out)
{
    const char *value = NULL;
    struct obj_container c;
    obj__lo_kind(req->arena, row->meta, &value, NULL, NULL);
    /* "container/prefix", URL-quoted as the client sent it */
    const char *v = obj__unquote(req->arena, value ? value : "");
    const char *slash = strchr(v, '/');
    if (!slash)
        return req_fail(req, 500, "bad X-Object-Manifest '%s'", value);
    const char *cname = arena_strndup(req->arena, v, (size_t)(slash - v));
    s->dlo = true;
    s->dlo_cname = xstrdup(cname);
    s->dlo_prefix = xstrdup(slash + 1);
    out->single_range = true;
    /* the listing is a request of the caller's: its 401/403/404 is the
     * answer (Swift returns the listing's error) */
    if (obj__may_read(req, x, cname, OBJ_LIST, true, &c) < 0)
        return -1;
    s->dlo_cid = xstrdup(c.id);
    cont_add(s, cname, c.id);
    int rc = obj__dlo_page(req->db, req->arena, c.id, cname, s->dlo_prefix, NULL, &s->root);
    if (rc)
        return obj__db_fail(req, rc);
    s->dlo_more = s->root.n == OBJ_DLO_MAX_SEGMENTS;
    if (s->dlo_more) {
        /* not all of it is known: no size (chunked), the manifest's ETag */
        out->size = -1;
        return 0;
    }
    /* ETag: MD5 of the segments' ETags, in order, as Swift's DLO */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    char hex[33];
    int64_t size = 0;
    EVP_DigestInit_ex(m, EVP_md5(), NULL);
    for (size_t i = 0; i < s->root.n; i++) {
        EVP_DigestUpdate(m, s->root.v[i].etag, strlen(s->root.v[i].etag));
        size += (int64_t)s->root.v[i].length;
    }
    EVP_DigestFinal_ex(m, d, &dl);
    EVP_MD_CTX_free(m);
    hex_encode(d, 16, hex);
    out->etag = arena_strdup(req->arena, hex);
    out->size = size;
    return 0;
}

int
obj__lo_open(struct http_req *req, const struct obj_access *x, const struct obj_row *row,
             enum obj_lo_kind kind, int fd, struct obj_lo *out)
{
    struct lo_src *s = lo_new(x->account, x->owner || x->tempurl);
    memset(out, 0, sizeof(*out));
    int rc;
    if (kind == OBJ_LO_SLO) {
        rc = open_slo(req, x, row, fd, s, out);
    } else {
        close(fd);
        rc = open_dlo(req, x, row, s, out);
    }
    if (rc < 0) {
        lo_free(&s->base);
        return -1;
    }
    out->src = &s->base;
    return 0;
}

/* ---- copies of large objects ---- */

bool
obj__lo_copy_data(struct http_req *req, const struct obj_row *src)
{
    const char *mm = http_query(req, "multipart-manifest");
    return obj__lo_kind(req->arena, src->meta, NULL, NULL, NULL) != OBJ_LO_NONE &&
           !(mm && !strcmp(mm, "get"));
}

int
obj__lo_copy_file(struct http_req *req, const struct obj_access *dst,
                  const struct obj_copy *cp, const char *name, char file[80], char etag[33],
                  int64_t *size, const char **data)
{
    struct obj_access sx = *dst;
    struct obj_lo lo;
    struct obj_writer *w = NULL;
    char buf[65536];
    int fd, rc;
    uint64_t fsize, total = 0;
    /* the source as a GET of it would see it: its own container, and the
     * caller's rights (the owner reads every container of the account) */
    sx.c = cp->c;
    sx.owner = obj__is_owner(req, dst->account);
    rc = obj_store_open_read(dst->account, cp->c.id, cp->row.file, cp->row.data, &fd, &fsize);
    if (rc < 0)
        return req_fail(req, rc == -ENOENT ? 404 : 500, "cannot open the copy source: %s",
                        strerror(-rc));
    enum obj_lo_kind kind = obj__lo_kind(req->arena, cp->row.meta, NULL, NULL, NULL);
    if (obj__lo_open(req, &sx, &cp->row, kind, fd, &lo) < 0)
        return -1;
    struct obj_src *src = lo.src;
    if (src->seek(src, 0, UINT64_MAX) < 0 || src->prime(src, req->db) < 0) {
        log_warn(req->request_id, "object: copy of %s: %s", cp->object,
                 src->why ? src->why : "first segment unusable");
        src->free(src);
        return req_fail(req, 409, "There was a conflict when trying to complete your "
                                  "request.");
    }
    rc = obj_store_open(dst->account, dst->c.id, true, &w);
    if (rc < 0) {
        src->free(src);
        return req_fail(req, 500, "cannot create object file: %s", strerror(-rc));
    }
    /* the copy takes minutes for big objects: reads take pool connections
     * of their own, one segment at a time */
    for (;;) {
        ssize_t n = src->read(src, buf, sizeof(buf));
        if (n == 0)
            break;
        if (n < 0) {
            log_warn(req->request_id, "object: copy of %s: %s", cp->object,
                     src->why ? src->why : "read error");
            rc = req_fail(req, 409, "There was a conflict when trying to complete your "
                                    "request.");
            goto fail;
        }
        total += (uint64_t)n;
        if (total > (uint64_t)OBJ_MAX_FILE_SIZE) {
            rc = req_fail(req, 413, "Your request is too large.");
            goto fail;
        }
        if ((rc = obj_store_write(w, buf, (size_t)n)) < 0) {
            rc = req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot write object: %s",
                          strerror(-rc));
            goto fail;
        }
    }
    src->free(src);
    if (lo.size >= 0 && total != (uint64_t)lo.size) {
        obj_store_abort(w);
        return req_fail(req, 409, "There was a conflict when trying to complete your "
                                  "request.");
    }
    obj_store_digest(w, etag);
    *size = (int64_t)total;
    rc = obj_store_commit(w, name, file, req->arena, data);
    return rc < 0 ? req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot store object: %s",
                             strerror(-rc))
                  : 0;
fail:
    src->free(src);
    obj_store_abort(w);
    return -1;
}
