/* bulk_extract.c - Swift's archive extraction (PUT ?extract-archive=tar,
 * tar.gz or tar.bz2): every regular file of the archive becomes an object.
 * On the account, the first directory of a member's path is its container
 * (created when missing) and files at the top level are ignored; on a
 * container or object path, member paths go under it.
 *
 * The body streams through the decompressor and tar parser (tar.c) as it
 * arrives and each member's bytes stream into the store; a member becomes
 * visible only once it is whole: its bytes are committed, then its row
 * (obj__object_commit, versioned writes included). A member the archive
 * ends inside of, or that fails, leaves nothing. Each member is checked as
 * the object PUT Swift's middleware makes for it would be (access,
 * quotas, name, metadata), and its failure is reported against it.
 *
 * Members are committed as they complete, on the thread that reads the
 * body (an event loop thread; the last one on a worker): that costs an
 * fsync and a short transaction per member. */
#include "object_int.h"
#include "store.h"
#include "tar.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONTAINERS 10000
#define MAX_FAILED 1000
#define MAX_PATH_LEN (OBJ_MAX_OBJECT_NAME + OBJ_MAX_CONTAINER_NAME + 2)

struct bext {
    struct http_req *req;
    const char *fmt;                /* answer format; NULL: 406 */
    int early;                      /* a status ending it before any member */
    struct tar *tar;
    const char *base;               /* the path's container[/prefix], "" on the account */
    const char *account;
    const char *meta;               /* the request's X-Object-Meta-* (JSON) */
    int64_t delete_at;              /* the request's X-Delete-At/-After, 0 none */
    int header_status;              /* 400 when those headers are bad: every file fails */
    struct obj_bulk_report rep;
    int created_containers;
    bool bad_gateway;               /* a 5xx happened: Response Status 502 */
    int stop;                       /* a status that ended it halfway (401, 400) */
    const char *stop_body;
    char last_container[OBJ_MAX_CONTAINER_NAME * 3 + 2];
    bool have_last;

    /* the member being written */
    struct arena *scratch;          /* its allocations; freed when it is done */
    struct obj_writer *w;
    struct obj_access x;
    const char *path, *name, *ctype, *fmeta;
    const char *cont_fail, *cont_fail_status;  /* its container could not be made */
    bool failed;                    /* its write failed: the rest of it is skipped */
};

/* Records a failed member (or container) under Swift's quoting of its path,
 * cut to the longest path Swift reports. */
static void
member_fail(struct bext *e, const char *path, int status)
{
    struct http_req *req = e->req;
    size_t n = strlen(path);
    const char *cut = arena_strndup(req->arena, path, n > MAX_PATH_LEN ? MAX_PATH_LEN : n);
    obj__bulk_fail(req, &e->rep, obj__quote(req->arena, cut), obj__bulk_status(status));
    e->bad_gateway |= status >= 500;
}

/* Ends the current member: drops its unfinished bytes and its arena. */
static void
member_done(struct bext *e)
{
    obj_store_abort(e->w);
    e->w = NULL;
    arena_free(e->scratch);
    e->scratch = NULL;
    e->failed = false;
    e->cont_fail = NULL;
}

/* tar callbacks return -1 to stop once a limit or a fatal status is hit */
static int
keep_going(struct bext *e)
{
    if (e->stop || e->rep.nerr >= MAX_FAILED)
        return -1;
    return 0;
}

/* Makes sure the member's container is there, as Swift does with a HEAD
 * and, on 404, a PUT with the caller's token. 0, or the status of the
 * failure (recorded for the member if its PUT fails too). */
static int
ensure_container(struct bext *e, const char *container)
{
    struct http_req *req = e->req;
    struct obj_bulk_scope s;
    struct obj_access x;
    int st;
    if (e->have_last && !strcmp(e->last_container, container))
        return 0;
    obj__bulk_enter(req, &s, NULL);
    obj__access(req, OBJ_LIST, container, &x);
    st = obj__bulk_leave(req, &s);
    if (st == 404) {
        /* only the owner learns of a missing container: create it */
        bool created = false;
        obj__bulk_enter(req, &s, NULL);
        if (strlen(container) > OBJ_MAX_CONTAINER_NAME) {
            req_fail(req, 400, "Container name too long");
        } else if (obj__db(req)) {
            int rc = obj_db_container_put(req->db, req->arena, e->account, container, NULL,
                                          NULL, &created);
            if (rc)
                obj__db_fail(req, rc);
        }
        st = obj__bulk_leave(req, &s);
        if (st == 0 && created && ++e->created_containers > MAX_CONTAINERS) {
            e->stop = 400;
            e->stop_body = arena_printf(req->arena, "More than %d containers to create "
                                                    "from tar.", MAX_CONTAINERS);
            return -1;
        }
    }
    if (st == 401) {
        /* an anonymous caller cannot go on at all */
        e->stop = 401;
        return st;
    }
    /* only a failure of the member's own PUT reports this one */
    if (st) {
        e->cont_fail = arena_printf(e->scratch, "/v1/%s/%s", e->account, container);
        e->cont_fail_status = obj__bulk_status(st);
    }
    return st;
}

/* The pax records Swift turns into object headers: the mime type xattr
 * into Content-Type, user.meta.* xattrs into X-Object-Meta-*. */
struct pax_meta {
    struct arena *a;
    json_t *meta;
    const char *ctype;
    bool bad;
};

static void
pax_header(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
    struct pax_meta *m = arg;
    static const char *const type_keys[] = {"SCHILY.xattr.user.mime_type",
                                            "LIBARCHIVE.xattr.user.mime_type"};
    static const char *const meta_pfx[] = {"SCHILY.xattr.user.meta.",
                                           "LIBARCHIVE.xattr.user.meta."};
    for (int i = 0; i < 2; i++) {
        size_t tl = strlen(type_keys[i]), pl = strlen(meta_pfx[i]);
        if (klen == tl && !memcmp(key, type_keys[i], tl)) {
            m->ctype = arena_strndup(m->a, val, vlen);
            return;
        }
        if (klen > pl && !memcmp(key, meta_pfx[i], pl)) {
            char *k = arena_strndup(m->a, key + pl, klen - pl);
            const char *v = arena_strndup(m->a, val, vlen);
            for (char *p = k; *p; p++)
                *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            /* as a header of the member's PUT would be (obj__meta_in):
             * never dropped for not being UTF-8 */
            if (strlen(k) != klen - pl || strlen(v) != vlen || strlen(k) > OBJ_MAX_META_NAME ||
                vlen > OBJ_MAX_META_VALUE || !obj__utf8_valid(k) || !obj__utf8_valid(v)) {
                m->bad = true;
                return;
            }
            json_object_set_new(m->meta, k, json_string(v));
            return;
        }
    }
}

/* The member's metadata: the request's X-Object-Meta-* overlaid with its
 * pax xattrs, within Swift's limits. NULL with 400 recorded otherwise. */
static const char *
member_meta(struct bext *e, const struct tar_entry *te)
{
    struct http_req *req = e->req;
    struct pax_meta m = {.a = req->arena, .meta = obj_meta_load(e->meta)};
    const char *k;
    json_t *v;
    size_t size = 0;
    tar_pax_each(te, pax_header, &m);
    json_object_foreach(m.meta, k, v)
        size += strlen(k) + strlen(json_string_value(v));
    if (m.bad || json_object_size(m.meta) > OBJ_MAX_META_COUNT || size > OBJ_MAX_META_SIZE) {
        json_decref(m.meta);
        req_fail(req, 400, "Metadata name or value too long");
        return NULL;
    }
    e->ctype = m.ctype && *m.ctype ? m.ctype : "application/octet-stream";
    return obj_meta_text(req->arena, m.meta);
}

/* Opens the member's object as the PUT would: 0 (e->w open) or -1 with
 * the failure recorded in the request (inside a scope). */
static int
member_open(struct bext *e, const struct tar_entry *te, const char *container)
{
    struct http_req *req = e->req;
    /* in the order Swift's pipeline checks a PUT: access and quotas
     * (middlewares), then the proxy's name and header checks */
    if (obj__access(req, OBJ_WRITE, container, &e->x) < 0 ||
        obj__quota_check(req, &e->x, (int64_t)te->size) < 0)
        return -1;
    if (strlen(e->name) > OBJ_MAX_OBJECT_NAME)
        return req_fail(req, 400, "Object name length of %zu longer than %d",
                        strlen(e->name), OBJ_MAX_OBJECT_NAME);
    if (e->header_status)
        return req_fail(req, e->header_status, "Bad request headers");
    if (!(e->fmeta = member_meta(e, te)) || obj__versions_precheck(req, &e->x, e->name) < 0)
        return -1;
    int rc = obj_store_open(e->account, e->x.c.id, true, &e->w);
    if (rc < 0)
        return req_fail(req, 500, "cannot create object file: %s", strerror(-rc));
    return 0;
}

/* A member failed: its container's failure first (when there was one),
 * then its own, as Swift reports them. */
static int
member_failed(struct bext *e, int st)
{
    if (e->cont_fail)
        obj__bulk_fail(e->req, &e->rep, obj__quote(e->req->arena, e->cont_fail),
                       e->cont_fail_status);
    member_fail(e, e->path, st);
    if (st == 401)
        e->stop = 401;
    member_done(e);
    return keep_going(e) < 0 ? -1 : 1;
}

static int
on_entry(void *arg, const struct tar_entry *te)
{
    struct bext *e = arg;
    struct http_req *req = e->req;
    struct obj_bulk_scope s;
    if (keep_going(e) < 0)
        return -1;
    if (!te->file)
        return 1;
    /* the object path: "./" and leading slashes off, under the base */
    const char *p = te->name;
    if (!strncmp(p, "./", 2))
        p += 2;
    while (*p == '/')
        p++;
    e->scratch = arena_new();
    if (!e->scratch)
        abort();
    e->path = *e->base ? arena_printf(e->scratch, "%s/%s", e->base, p)
                       : arena_strdup(e->scratch, p);
    const char *slash = strchr(e->path, '/');
    if (!slash) {
        member_done(e);
        return 1;   /* a file at the top of an account: ignored, as Swift does */
    }
    const char *container = arena_strndup(e->scratch, e->path, (size_t)(slash - e->path));
    e->name = slash + 1;
    if (!obj__utf8_valid(e->path))
        return member_failed(e, 412);
    if (te->size > (uint64_t)OBJ_MAX_FILE_SIZE)
        return member_failed(e, 413);
    int st = ensure_container(e, container);
    if (e->stop) {
        /* too many containers, or an anonymous caller: Swift stops there,
         * without reporting the member */
        member_done(e);
        return -1;
    }
    if (!*e->name)
        return member_failed(e, 400);
    obj__bulk_enter(req, &s, e->scratch);
    member_open(e, te, container);
    st = obj__bulk_leave(req, &s);
    /* Swift asks for each container once, whatever became of the file */
    if (strlen(container) < sizeof(e->last_container)) {
        strcpy(e->last_container, container);
        e->have_last = true;
    }
    if (st)
        return member_failed(e, st);
    e->cont_fail = NULL;
    return 0;
}

static int
on_data(void *arg, const char *p, size_t n)
{
    struct bext *e = arg;
    if (e->failed)
        return 0;
    int rc = obj_store_write(e->w, p, n);
    if (rc < 0) {
        /* the member fails; the archive goes on after it */
        member_fail(e, e->path, rc == -ENOSPC ? 507 : 500);
        obj_store_abort(e->w);
        e->w = NULL;
        e->failed = true;
    }
    return 0;
}

/* The member's bytes are all in: durable bytes, then its row. */
static int
on_end(void *arg)
{
    struct bext *e = arg;
    struct http_req *req = e->req;
    struct obj_bulk_scope s;
    char etag[33], file[80];
    if (e->failed) {
        member_done(e);
        return keep_going(e);
    }
    obj_store_digest(e->w, etag);
    struct obj_row row = {
        .name = e->name, .file = file, .etag = etag, .content_type = e->ctype,
        .meta = e->fmeta, .size = (int64_t)obj_store_size(e->w), .modified_us = now_us(),
        .delete_at = e->delete_at,
    };
    int rc = obj_store_commit(e->w, e->name, file, e->scratch, &row.data);
    e->w = NULL;
    if (rc < 0) {
        member_fail(e, e->path, rc == -ENOSPC ? 507 : 500);
        member_done(e);
        return keep_going(e);
    }
    obj__bulk_enter(req, &s, e->scratch);
    obj__object_commit(req, &e->x, &row, false);
    int st = obj__bulk_leave(req, &s);
    if (st)
        member_fail(e, e->path, st);
    else
        e->rep.count[0]++;
    member_done(e);
    return keep_going(e);
}

static const struct tar_ops ops = {on_entry, on_data, on_end};

/* Frees what the extraction holds; safe to call twice. */
static void
bext_release(struct bext *e)
{
    member_done(e);
    tar_free(e->tar);
    e->tar = NULL;
}

static void
bext_cleanup(void *arg)
{
    bext_release(arg);
}

static int
bext_begin(struct http_req *req)
{
    static const struct { const char *name; enum tar_codec codec; } kinds[] = {
        {"tar", TAR_PLAIN}, {"tar.gz", TAR_GZIP}, {"tar.bz2", TAR_BZIP2},
    };
    const char *kind = http_query(req, "extract-archive");
    const char *cl = http_header_in(req, "Content-Length");
    const char *te = http_header_in(req, "Transfer-Encoding");
    const char *c = http_param(req, "container"), *o = http_param(req, "object");
    struct bext *e = arena_alloc(req->arena, sizeof(*e));
    int codec = -1;
    /* Swift lower-cases the kind and strips dots around it */
    char *k = arena_strdup(req->arena, kind ? kind : "");
    for (char *q = k; *q; q++)
        *q = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
    while (*k == '.')
        k++;
    for (size_t n = strlen(k); n && k[n - 1] == '.'; n--)
        k[n - 1] = '\0';
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(k, kinds[i].name))
            codec = (int)kinds[i].codec;
    if (codec < 0)
        return obj__fail_text(req, 400, "Unsupported archive format");
    e->req = req;
    e->account = http_param(req, "account");
    e->rep = (struct obj_bulk_report){.status = obj__bulk_status(201), .body = "",
                                      .count_name = {"Number Files Created"}};
    /* under the path; trailing slashes off */
    e->base = o ? arena_printf(req->arena, "%s/%s", c, o) : c ? c : "";
    char *b = arena_strdup(req->arena, e->base);
    for (size_t n = strlen(b); n && b[n - 1] == '/'; n--)
        b[n - 1] = '\0';
    e->base = b;
    req->stream_ctx = e;
    e->fmt = obj__bulk_format(req);
    if (!e->fmt)
        e->early = 406;
    else if (!cl && !(te && strcasestr(te, "chunked")))
        e->early = 411;
    if (e->early)
        return 0;
    /* the headers Swift copies onto each member's PUT, read once */
    struct obj_bulk_scope s;
    int64_t at = -1;
    obj__bulk_enter(req, &s, NULL);
    const char *meta = obj__meta_in(req, "Object", false);
    e->meta = meta ? arena_strdup(s.outer, meta) : "{}";
    if (meta)
        obj__delete_at_in(req, &at);
    e->header_status = obj__bulk_leave(req, &s);
    e->delete_at = at > 0 ? at : 0;
    e->tar = tar_new((enum tar_codec)codec, &ops, e);
    if (!e->tar)
        return req_fail(req, 500, "out of memory");
    /* a request that never completes still frees the parser */
    arena_on_release(req->arena, bext_cleanup, e);
    return 0;
}

static int
bext_data(struct http_req *req, const char *p, size_t n)
{
    struct bext *e = req->stream_ctx;
    if (e->early || !e->tar)
        return 0;
    if (tar_feed(e->tar, p, n) == TAR_EFORMAT)
        /* the member being read can never be complete */
        member_done(e);
    return 0;
}

static int
bext_end(struct http_req *req, bool complete)
{
    struct bext *e = req->stream_ctx;
    if (!complete) {
        bext_release(e);
        return 0;
    }
    struct obj_bulk_report *rep = &e->rep;
    int rc = e->early ? TAR_OK : tar_finish(e->tar);
    if (e->early) {
        rep->status = obj__bulk_status(e->early);
    } else if (rc == TAR_EFORMAT) {
        rep->status = obj__bulk_status(400);
        rep->body = arena_printf(req->arena, "Invalid Tar File: %s", tar_error(e->tar));
    } else if (e->stop) {
        rep->status = obj__bulk_status(e->stop);
        rep->body = e->stop_body ? e->stop_body : "";
    } else if (rep->nerr) {
        rep->status = obj__bulk_status(e->bad_gateway ? 502 : 400);
    } else if (!rep->count[0]) {
        rep->status = obj__bulk_status(400);
        rep->body = "Invalid Tar File: No Valid Files";
    }
    bext_release(e);
    obj__bulk_reply(req, 200, e->fmt, rep, "extract");
    return 0;
}

const struct http_stream_ops obj__bulk_extract = {bext_begin, bext_data, bext_end};
