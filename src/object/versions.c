/* versions.c - where object writes become visible, with Swift's legacy
 * versioned writes (the versioned_writes middleware's two modes).
 *
 * A container with X-Versions-Location ("stack" mode) or
 * X-History-Location ("history" mode) names an archive container of the
 * same account. Whenever an object of it is overwritten, the version
 * replaced is first kept in the archive container as
 * "<3 hex digits: length of the name><name>/<its X-Timestamp>". A DELETE
 * in stack mode puts the newest archived version back in place (one
 * DELETE per version until the name answers 404); in history mode it
 * archives the current version, adds a zero-byte delete marker and removes
 * the object.
 *
 * Unlike Swift, which copies through sub-requests one after the other, a
 * move here is one database transaction over both containers
 * (obj_db_object_batch) and its bytes are hard links (store.h): a crash or
 * a failure never leaves a version in both places or in neither, and no
 * byte is copied. Every object write (PUT, copy, archive extraction) and
 * every object DELETE goes through obj__object_commit() and
 * obj__object_remove(), versioned container or not. */
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DELETE_MARKER_TYPE "application/x-deleted;swift_versions_deleted=1"
/* attempts when a concurrent write changes a version between its read and
 * the transaction that moves it: each failed one means another write went
 * through, and a short random pause spreads the next round */
#define MOVE_TRIES 40
#define PAGE 100

/* ---- container settings ---- */

int
obj__versions_in(struct http_req *req, struct obj_acls *acl)
{
    const char *v = http_header_in(req, "X-Versions-Location");
    const char *h = http_header_in(req, "X-History-Location");
    const char *val;
    if (v && h) {
        /* an empty one of the two gives way to the other */
        if (!*h)
            h = NULL;
        else if (*v)
            return obj__fail_text(req, 400, "Only one of x-versions-location or "
                                            "x-history-location may be specified");
        else
            v = NULL;
    }
    if (v || h) {
        val = v ? v : h;
        if (*val && strchr(val, '/'))
            return obj__fail_text(req, 412, "Container name cannot contain slashes");
        acl->versions = val;
        acl->versions_mode = v ? "stack" : "history";
        return 0;
    }
    v = http_header_in(req, "X-Remove-Versions-Location");
    h = http_header_in(req, "X-Remove-History-Location");
    if ((v && *v) || (h && *h))
        acl->versions = "";
    return 0;
}

void
obj__versions_out(struct http_req *req, const struct obj_container *c)
{
    if (!c->versions || !*c->versions)
        return;
    bool history = c->versions_mode && !strcmp(c->versions_mode, "history");
    http_header(req, history ? "X-History-Location" : "X-Versions-Location", c->versions);
}

/* ---- the archive container ---- */

/* true when x's container keeps versions */
static bool
versioned(const struct obj_access *x)
{
    return x->c.versions && *x->c.versions;
}

static bool
history_mode(const struct obj_access *x)
{
    return x->c.versions_mode && !strcmp(x->c.versions_mode, "history");
}

/* The archive container of x into *vc: 0, 1 when there is none, -1 with
 * a failure recorded. */
static int
archive_find(struct http_req *req, const struct obj_access *x, struct obj_container *vc)
{
    /* the value is URL-encoded and only its first segment counts */
    const char *name = obj__unquote(req->arena, x->c.versions);
    name = arena_strndup(req->arena, name, strcspn(name, "/"));
    int rc = *name ? obj_db_container_get(req->db, req->arena, x->account, name, vc) : -ENOENT;
    if (rc == -ENOENT)
        return 1;
    return rc ? obj__db_fail(req, rc) : 0;
}

/* Whether the caller may write into the archive vc of x: the owner writes
 * anywhere in the account, and a temp URL signed for the versioned
 * container carries the write as Swift's pre-authed copies do; anyone
 * else needs the archive's write ACL too. 0 or -1 with 403 recorded. */
static int
archive_writable(struct http_req *req, const struct obj_access *x,
                 const struct obj_container *vc)
{
    struct obj_access vx;
    return x->owner || x->tempurl ? 0 : obj__access(req, OBJ_WRITE, vc->name, &vx);
}

/* The archive container of x into *vc: it must exist (412 as Swift
 * answers when its copy cannot be written) and be writable (403). 0 or -1
 * with the failure recorded. */
static int
archive_container(struct http_req *req, const struct obj_access *x, struct obj_container *vc)
{
    int rc = archive_find(req, x, vc);
    if (rc)
        return rc < 0 ? -1 : req_fail(req, 412, "Precondition Failed");
    return archive_writable(req, x, vc);
}

/* Waits up to ~2 ms before another attempt at a move that lost a race. */
static void
backoff(void)
{
    unsigned char r;
    random_bytes(&r, 1);
    struct timespec ts = {0, (long)r * 8000};
    nanosleep(&ts, NULL);
}

/* "<len as 3 hex digits><name>/" and the name of its version of time us */
static const char *
archive_prefix(struct http_req *req, const char *name)
{
    return arena_printf(req->arena, "%03zx%s/", strlen(name), name);
}

static const char *
archive_name(struct http_req *req, const char *name, int64_t us)
{
    return arena_printf(req->arena, "%s%s", archive_prefix(req, name), obj__ts(req, us));
}

/* The archived copy of the live version cur of x's object: its bytes
 * linked into vc under the archive name, the row to insert into *arch.
 * The name carries cur's time in Swift's 10 µs steps, plus bump steps when
 * an archived version already has that name. 0, 1 when cur's file went
 * away meanwhile (read again), or -1 with the failure recorded. */
static int
archive_copy(struct http_req *req, const struct obj_access *x, const struct obj_container *vc,
             const struct obj_row *cur, struct obj_row *arch, int bump)
{
    char *file = arena_alloc(req->arena, 80);
    *arch = *cur;
    arch->name = archive_name(req, cur->name, cur->modified_us + 10 * (int64_t)bump);
    if (strlen(arch->name) > OBJ_MAX_OBJECT_NAME)
        /* Swift's copy would be refused for its name: 412 */
        return req_fail(req, 412, "Precondition Failed");
    int rc = obj_store_link(x->account, x->c.id, cur->file, x->account, vc->id, arch->name,
                            file);
    if (rc == -ENOENT)
        return 1;
    if (rc < 0)
        return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot archive object: %s",
                        strerror(-rc));
    arch->file = file;
    arch->modified_us = now_us();
    return 0;
}

/* The live version of x's name into *row; 1 when there is none. */
static int
live_version(struct http_req *req, const char *container_id, const char *name,
             struct obj_row *row)
{
    int rc = obj_db_object_get(req->db, req->arena, container_id, name, row);
    if (rc == -ENOENT || (rc == 0 && obj__expired(row)))
        return 1;
    return rc ? obj__db_fail(req, rc) : 0;
}

/* Removes the files the ops of a committed batch replaced. accounts and
 * containers are per op. */
static void
remove_old(const char *account, struct obj_db_op *ops, const char **cids, int n)
{
    for (int i = 0; i < n; i++)
        obj_store_remove(account, cids[i], ops[i].old_file);
}

/* Records the failure of a batch: a missing container is 404 for the
 * object's own and 412 for the archive; -EEXIST is If-None-Match's 412. */
static int
batch_fail(struct http_req *req, int rc, int bad, int base_op)
{
    if (rc == -ENOENT && bad != base_op)
        return req_fail(req, 412, "Precondition Failed");
    if (rc == -EEXIST)
        return req_fail(req, 412, "Precondition Failed");
    if (rc == -EAGAIN)
        return req_fail(req, 503, "The server is currently unavailable.");
    return obj__db_fail(req, rc);
}

/* ---- writes ---- */

int
obj__object_commit(struct http_req *req, const struct obj_access *x, const struct obj_row *row,
                   bool if_none)
{
    struct obj_container vc;
    bool have_vc = false;
    int rc = -EAGAIN, bad, bump = 0;
    if (!obj__db(req))
        goto fail;
    for (int tries = 0; tries < MOVE_TRIES && rc == -EAGAIN; tries++) {
        struct obj_db_op ops[2];
        const char *cids[2];
        struct obj_row cur, arch;
        int n = 0, live = 1;
        memset(ops, 0, sizeof(ops));
        if (versioned(x) && (live = live_version(req, x->c.id, row->name, &cur)) < 0)
            goto fail;
        if (live == 0) {
            /* the version replaced goes to the archive first */
            if (!have_vc && archive_container(req, x, &vc) < 0)
                goto fail;
            have_vc = true;
            int a = archive_copy(req, x, &vc, &cur, &arch, bump);
            if (a < 0)
                goto fail;
            if (a > 0)
                continue;   /* rc stays -EAGAIN: read it again */
            /* never over another archived version */
            ops[n] = (struct obj_db_op){.kind = OBJ_DB_PUT, .container_id = vc.id, .row = &arch,
                                        .if_none = true};
            cids[n++] = vc.id;
        }
        ops[n] = (struct obj_db_op){.kind = OBJ_DB_PUT, .container_id = x->c.id, .row = row,
                                    .if_none = if_none, .check = versioned(x),
                                    .expect_file = live == 0 ? cur.file : NULL};
        cids[n++] = x->c.id;
        rc = obj_db_object_batch(req->db, req->arena, ops, n, &bad);
        if (rc == 0) {
            remove_old(x->account, ops, cids, n);
            return 0;
        }
        if (n == 2)
            obj_store_remove(x->account, vc.id, arch.file);
        if (rc == -EEXIST && n == 2 && bad == 0) {
            /* two versions within Swift's 10 µs: the next name is free */
            bump++;
            rc = -EAGAIN;
            continue;
        }
        if (rc != -EAGAIN) {
            batch_fail(req, rc, bad, n - 1);
            goto fail;
        }
        backoff();
    }
    if (rc == -EAGAIN)
        batch_fail(req, rc, -1, 0);
fail:
    obj_store_remove(x->account, x->c.id, row->file);
    return -1;
}

/* ---- deletes ---- */

/* A plain DELETE: the live version goes, or 404. */
static int
remove_plain(struct http_req *req, const struct obj_access *x, const char *name)
{
    struct obj_row cur;
    int live = live_version(req, x->c.id, name, &cur);
    if (live)
        return live < 0 ? -1 : req_fail(req, 404, "The resource could not be found.");
    struct obj_db_op op = {.kind = OBJ_DB_DELETE, .container_id = x->c.id, .row = &cur,
                           .must_exist = true};
    int bad, rc = obj_db_object_batch(req->db, req->arena, &op, 1, &bad);
    if (rc)
        return obj__db_fail(req, rc);
    obj_store_remove(x->account, x->c.id, op.old_file);
    return 0;
}

/* History mode: archive the live version (if any), add a delete marker
 * and remove the object, in one transaction. 404 when there was no live
 * version (the marker is written all the same, as Swift does). */
static int
remove_history(struct http_req *req, const struct obj_access *x, const char *name)
{
    struct obj_container vc;
    struct obj_writer *w;
    char etag[33], *mfile = arena_alloc(req->arena, 80);
    int rc = -EAGAIN, bad, live = 1, bump = 0, mbump = 0;
    int64_t when = now_us();
    if (archive_container(req, x, &vc) < 0)
        return -1;
    /* the marker's bytes: an empty object, durable like any object's
     * (kept inline: it is written with its row) */
    struct obj_row marker = {.name = archive_name(req, name, when), .file = mfile,
                             .etag = etag, .content_type = DELETE_MARKER_TYPE, .meta = "{}",
                             .modified_us = now_us()};
    if (strlen(marker.name) > OBJ_MAX_OBJECT_NAME)
        return req_fail(req, 412, "Precondition Failed");
    if ((rc = obj_store_open(x->account, vc.id, true, &w)) < 0)
        return req_fail(req, 500, "cannot create object file: %s", strerror(-rc));
    obj_store_digest(w, etag);
    if ((rc = obj_store_commit(w, marker.name, mfile, req->arena, &marker.data)) < 0)
        return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot store object: %s",
                        strerror(-rc));
    rc = -EAGAIN;
    for (int tries = 0; tries < MOVE_TRIES && rc == -EAGAIN; tries++) {
        struct obj_db_op ops[3];
        const char *cids[3];
        struct obj_row cur, arch;
        int n = 0;
        memset(ops, 0, sizeof(ops));
        if ((live = live_version(req, x->c.id, name, &cur)) < 0)
            break;
        if (live == 0) {
            int a = archive_copy(req, x, &vc, &cur, &arch, bump);
            if (a < 0)
                break;
            if (a > 0)
                continue;
            ops[n] = (struct obj_db_op){.kind = OBJ_DB_PUT, .container_id = vc.id, .row = &arch,
                                        .if_none = true};
            cids[n++] = vc.id;
        } else {
            cur.name = name;
        }
        marker.name = archive_name(req, name, when + 10 * (int64_t)mbump);
        ops[n] = (struct obj_db_op){.kind = OBJ_DB_PUT, .container_id = vc.id, .row = &marker,
                                    .if_none = true};
        cids[n++] = vc.id;
        ops[n] = (struct obj_db_op){.kind = OBJ_DB_DELETE, .container_id = x->c.id, .row = &cur,
                                    .check = true, .expect_file = live == 0 ? cur.file : NULL};
        cids[n++] = x->c.id;
        rc = obj_db_object_batch(req->db, req->arena, ops, n, &bad);
        if (rc == 0) {
            remove_old(x->account, ops, cids, n);
            if (live)
                return req_fail(req, 404, "The resource could not be found.");
            return 0;
        }
        if (live == 0)
            obj_store_remove(x->account, vc.id, arch.file);
        if (rc == -EEXIST && bad < n - 1) {
            /* an archived name taken within the same 10 µs: take the next */
            if (live == 0 && bad == 0)
                bump++;
            else
                mbump++;
            rc = -EAGAIN;
            continue;
        }
        if (rc != -EAGAIN)
            batch_fail(req, rc, bad, n - 1);
        else
            backoff();
    }
    if (rc == -EAGAIN && !req->fail_status)
        batch_fail(req, rc, -1, 0);
    obj_store_remove(x->account, vc.id, mfile);
    return -1;
}

/* The archived versions of one name, newest first, a page at a time. */
struct vlist {
    const char *container_id, *prefix, *lt;
    struct obj_list_item *it;
    int n, i;
    bool end;
};

/* The next archived version into *out: 1, 0 at the end, -1 on failure. */
static int
vlist_next(struct http_req *req, struct vlist *l, struct obj_list_item *out)
{
    if (l->i == l->n) {
        if (l->end)
            return 0;
        struct obj_range r = {.prefix = l->prefix, .lt = l->lt, .reverse = true,
                              .limit = PAGE};
        int rc = obj_db_list(req->db, req->arena, false, l->container_id, &r, &l->it, &l->n);
        if (rc)
            return obj__db_fail(req, rc);
        l->i = 0;
        l->end = l->n < PAGE;
        if (l->n == 0)
            return 0;
        l->lt = l->it[l->n - 1].name;
    }
    *out = l->it[l->i++];
    return 1;
}

static bool
is_marker(const char *content_type)
{
    return content_type && !strcmp(content_type, DELETE_MARKER_TYPE);
}

/* Moves the archived version aname of vc back in place of x's name (whatever
 * is there now goes) and, when marker is non-NULL, removes that delete
 * marker of vc in the same transaction. 0, 1 when the version is gone
 * (the caller tries the next one), -1 with the failure recorded. */
static int
restore(struct http_req *req, const struct obj_access *x, const struct obj_container *vc,
        const char *name, const char *aname, const char *marker)
{
    struct obj_row arch, back, mrow = {.name = marker};
    char *file = arena_alloc(req->arena, 80);
    int rc = -EAGAIN, bad;
    for (int tries = 0; tries < MOVE_TRIES && rc == -EAGAIN; tries++) {
        struct obj_db_op ops[3];
        const char *cids[3];
        int n = 0, live = live_version(req, vc->id, aname, &arch);
        memset(ops, 0, sizeof(ops));
        if (live)
            return live;
        back = arch;
        back.name = name;
        back.file = file;
        back.modified_us = now_us();
        rc = obj_store_link(x->account, vc->id, arch.file, x->account, x->c.id, name, file);
        if (rc == -ENOENT) {
            rc = -EAGAIN;
            continue;
        }
        if (rc < 0)
            return req_fail(req, rc == -ENOSPC ? 507 : 500, "cannot restore object: %s",
                            strerror(-rc));
        ops[n] = (struct obj_db_op){.kind = OBJ_DB_PUT, .container_id = x->c.id, .row = &back};
        cids[n++] = x->c.id;
        ops[n] = (struct obj_db_op){.kind = OBJ_DB_DELETE, .container_id = vc->id, .row = &arch,
                                    .check = true, .expect_file = arch.file};
        cids[n++] = vc->id;
        if (marker) {
            ops[n] = (struct obj_db_op){.kind = OBJ_DB_DELETE, .container_id = vc->id,
                                        .row = &mrow};
            cids[n++] = vc->id;
        }
        rc = obj_db_object_batch(req->db, req->arena, ops, n, &bad);
        if (rc == 0) {
            remove_old(x->account, ops, cids, n);
            return 0;
        }
        obj_store_remove(x->account, x->c.id, file);
        if (rc != -EAGAIN)
            return batch_fail(req, rc, bad, 0);
        backoff();
    }
    return batch_fail(req, rc, -1, 0);
}

/* Removes one archived object (a delete marker) of vc; 404 when gone. */
static int
remove_archived(struct http_req *req, const struct obj_access *x, const struct obj_container *vc,
                const char *aname)
{
    struct obj_row r = {.name = aname};
    struct obj_db_op op = {.kind = OBJ_DB_DELETE, .container_id = vc->id, .row = &r,
                           .must_exist = true};
    int bad, rc = obj_db_object_batch(req->db, req->arena, &op, 1, &bad);
    if (rc)
        return obj__db_fail(req, rc);
    obj_store_remove(x->account, vc->id, op.old_file);
    return 0;
}

/* Stack mode: the newest archived version replaces the object; with none,
 * a plain DELETE. Delete markers left by history mode are honoured as
 * Swift does: a marker on top while the object is gone brings back the
 * version below it (unless that is a marker too) and goes itself. */
static int
remove_stack(struct http_req *req, const struct obj_access *x, const char *name)
{
    struct obj_container vc;
    struct obj_list_item top, it;
    int rc = archive_find(req, x, &vc);
    if (rc)     /* no archive: nothing to restore */
        return rc < 0 ? -1 : remove_plain(req, x, name);
    struct vlist l = {.container_id = vc.id, .prefix = archive_prefix(req, name)};
    if ((rc = vlist_next(req, &l, &top)) <= 0)
        return rc < 0 ? -1 : remove_plain(req, x, name);
    if (archive_writable(req, x, &vc) < 0)
        return -1;
    if (is_marker(top.content_type)) {
        struct obj_row cur;
        int live = live_version(req, x->c.id, name, &cur);
        if (live <= 0)
            return live < 0 ? -1 : remove_plain(req, x, name);
        while ((rc = vlist_next(req, &l, &it)) > 0 && !is_marker(it.content_type)) {
            if ((rc = restore(req, x, &vc, name, it.name, top.name)) <= 0)
                return rc;
        }
        if (rc < 0)
            return -1;
        return remove_archived(req, x, &vc, top.name);
    }
    for (it = top; rc > 0; rc = vlist_next(req, &l, &it)) {
        if (is_marker(it.content_type))
            continue;
        int r = restore(req, x, &vc, name, it.name, NULL);
        if (r <= 0)
            return r;
    }
    return rc < 0 ? -1 : remove_plain(req, x, name);
}

int
obj__object_remove(struct http_req *req, const struct obj_access *x, const char *name)
{
    if (!obj__db(req))
        return -1;
    if (!versioned(x))
        return remove_plain(req, x, name);
    return history_mode(x) ? remove_history(req, x, name) : remove_stack(req, x, name);
}

int
obj__versions_precheck(struct http_req *req, const struct obj_access *x, const char *name)
{
    struct obj_row cur;
    struct obj_container vc;
    if (!versioned(x))
        return 0;
    int live = live_version(req, x->c.id, name, &cur);
    if (live)
        return live < 0 ? -1 : 0;
    return archive_container(req, x, &vc);
}
