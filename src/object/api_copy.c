/* api_copy.c - Swift's server-side copy: PUT with X-Copy-From (through
 * the streaming PUT of api_object.c, with a zero byte body) and COPY with
 * Destination. The copy shares the source's bytes (store.h links the
 * file) and gets the source's metadata overlaid with the request's, or
 * only the request's under X-Fresh-Metadata. Only copies inside one
 * account: X-Copy-From-Account and Destination-Account answer 501. */
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "/container/object" or "container/object" (URL-encoded) into its two
 * decoded parts; -1 with Swift's 412 text when it is not that form. */
static int
split_dest(struct http_req *req, const char *header, const char *value, const char **container,
           const char **object)
{
    const char *v = obj__unquote(req->arena, value);
    if (*v == '/')
        v++;
    const char *slash = strchr(v, '/');
    if (!slash || slash == v || !slash[1])
        return obj__fail_text(req, 412, arena_printf(req->arena,
                                                     "%s header must be of the form "
                                                     "<container name>/<object name>",
                                                     header));
    *container = arena_strndup(req->arena, v, (size_t)(slash - v));
    *object = slash + 1;
    if (strlen(*object) > OBJ_MAX_OBJECT_NAME)
        return req_fail(req, 400, "Object name length of %zu longer than %d", strlen(*object),
                        OBJ_MAX_OBJECT_NAME);
    return 0;
}

int
obj__copy_source(struct http_req *req, const struct obj_access *dst, const char *header,
                 const char *value, struct obj_copy *cp)
{
    if (http_header_in(req, "X-Copy-From-Account"))
        return req_fail(req, 501, "X-Copy-From-Account is not implemented");
    if (split_dest(req, header, value, &cp->container, &cp->object) < 0)
        return -1;
    bool same = !strcmp(cp->container, dst->c.name);
    if (dst->owner || (dst->tempurl && (same || dst->tu_account_scope))) {
        /* same account (owner), or a temp URL reading inside its scope */
        cp->c = dst->c;
        int rc = same ? 0 : obj_db_container_get(req->db, req->arena, dst->account,
                                                 cp->container, &cp->c);
        if (rc)
            return obj__db_fail(req, rc);
    } else if (dst->tempurl) {
        return obj__fail_text(req, 401, "401 Unauthorized: Temp URL invalid\n");
    } else {
        /* a writer by ACL must also be a reader of the source */
        struct obj_access sx;
        if (obj__access(req, OBJ_READ, cp->container, &sx) < 0)
            return -1;
        cp->c = sx.c;
    }
    int rc = obj_db_object_get(req->db, req->arena, cp->c.id, cp->object, &cp->row);
    if (rc == 0 && obj__expired(&cp->row))
        rc = -ENOENT;
    return rc ? obj__db_fail(req, rc) : 0;
}

static bool
true_value(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcasecmp(v, "1") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "on") || !strcasecmp(v, "t") || !strcasecmp(v, "y"));
}

int
obj__copy_commit(struct http_req *req, const struct obj_access *dst, const char *name,
                 const struct obj_copy *cp, const char *meta, const char *ctype,
                 int64_t delete_at, bool if_none)
{
    char file[80];
    bool fresh = true_value(http_header_in(req, "X-Fresh-Metadata"));
    struct obj_row row = {
        .name = name, .file = file, .etag = cp->row.etag, .size = cp->row.size,
        .content_type = ctype ? ctype : cp->row.content_type,
        .meta = fresh ? meta : obj_meta_merge(req->arena, cp->row.meta, meta),
        .delete_at = delete_at >= 0 ? delete_at : fresh ? 0 : cp->row.delete_at,
        .modified_us = now_us(),
    };
    char etag[33];
    int rc;
    if (obj__lo_copy_data(req, &cp->row)) {
        /* a large object is copied as its data, a plain object (large.c);
         * ?multipart-manifest=get copies the manifest itself */
        if (obj__lo_copy_file(req, dst, cp, name, file, etag, &row.size, &row.data) < 0)
            return -1;
        row.etag = etag;
        row.meta = fresh ? meta
                         : obj_meta_merge(req->arena,
                                          obj__lo_meta_copy(req->arena, cp->row.meta, NULL),
                                          meta);
        /* its size is known only now: over a quota, the copy goes again */
        if (obj__quota_check(req, dst, row.size) < 0) {
            obj_store_remove(dst->account, dst->c.id, file);
            return -1;
        }
        rc = 0;
    } else {
        /* the copy counts against the quotas with the source's size, as
         * Swift's copy middleware makes it a PUT of that length */
        if (obj__quota_check(req, dst, cp->row.size) < 0)
            return -1;
        if (fresh)
            row.meta = obj__lo_meta_copy(req->arena, meta, cp->row.meta);
        rc = obj_store_link(dst->account, cp->c.id, cp->row.file, dst->account, dst->c.id,
                            name, file);
        row.data = cp->row.data;    /* an inline source's bytes go again */
    }
    if (rc == -ENOENT)
        /* the source was overwritten or deleted since its row was read */
        return req_fail(req, 404, "The resource could not be found.");
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot copy object: %s",
                        strerror(-rc));
    if (obj__object_commit(req, dst, &row, if_none) < 0)
        return -1;
    http_header(req, "Etag", row.etag);
    http_header(req, "Last-Modified", obj__http_date(req, row.modified_us));
    http_header(req, "X-Copied-From-Account", obj__quote(req->arena, dst->account));
    http_header(req, "X-Copied-From",
                obj__quote(req->arena, arena_printf(req->arena, "%s/%s", cp->container,
                                                    cp->object)));
    http_header(req, "X-Copied-From-Last-Modified", obj__http_date(req, cp->row.modified_us));
    if (row.delete_at > 0)
        http_header(req, "X-Delete-At",
                    arena_printf(req->arena, "%010lld", (long long)row.delete_at));
    obj__meta_out(req, "Object", row.meta);
    return http_reply_raw(req, 201, "text/html; charset=UTF-8", NULL, 0);
}

/* COPY /v1/a/c/o with Destination: c2/o2 is PUT /v1/a/c2/o2 with
 * X-Copy-From: c/o, as Swift's copy middleware rewrites it. The router
 * sends every method it has no bit for here. */
int
obj__object_copy(struct http_req *req)
{
    struct obj_access x;
    struct obj_copy cp;
    const char *dest = http_header_in(req, "Destination"), *dc, *dn, *meta;
    const char *inm = http_header_in(req, "If-None-Match");
    int64_t delete_at;
    if (strcmp(req->method_name, "COPY")) {
        http_header(req, "Allow", "GET, HEAD, POST, PUT, DELETE, COPY");
        return req_fail(req, 405, "The method is not allowed for this resource.");
    }
    if (!dest || !*dest)
        return obj__fail_text(req, 412, "Destination header required");
    if (http_header_in(req, "Destination-Account"))
        return req_fail(req, 501, "Destination-Account is not implemented");
    if (split_dest(req, "Destination", dest, &dc, &dn) < 0 ||
        obj__access(req, OBJ_WRITE, dc, &x) < 0)
        return -1;
    if (inm && strcmp(inm, "*") && !strstr(inm, "\"*\""))
        return obj__fail_text(req, 400, "If-None-Match only supports *");
    /* the source is this request's own path */
    const char *src = arena_printf(req->arena, "/%s/%s", http_param(req, "container"),
                                   http_param(req, "object"));
    if (!(meta = obj__meta_in(req, "Object", false)) || obj__delete_at_in(req, &delete_at) < 0)
        return -1;
    memset(&cp, 0, sizeof(cp));
    cp.container = http_param(req, "container");
    cp.object = http_param(req, "object");
    if (strlen(cp.object) > OBJ_MAX_OBJECT_NAME)
        return req_fail(req, 400, "Object name length of %zu longer than %d",
                        strlen(cp.object), OBJ_MAX_OBJECT_NAME);
    /* the path is already decoded: quote it so the shared parser's
     * unquote gives it back unchanged */
    if (obj__copy_source(req, &x, "Destination", obj__quote(req->arena, src), &cp) < 0)
        return -1;
    const char *ct = http_header_in(req, "Content-Type");
    return obj__copy_commit(req, &x, dn, &cp, meta, ct && *ct ? ct : NULL, delete_at,
                            inm != NULL);
}
