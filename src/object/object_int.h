/* object_int.h - shared between the object service's API files only. */
#ifndef OBJECT_OBJECT_INT_H
#define OBJECT_OBJECT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/http.h"
#include "obj_db.h"

/* Swift's limits, also published by GET /info. */
#define OBJ_MAX_FILE_SIZE 5368709122LL
#define OBJ_MAX_OBJECT_NAME 1024
#define OBJ_MAX_CONTAINER_NAME 256
#define OBJ_LISTING_LIMIT 10000
#define OBJ_MAX_META_NAME 128
#define OBJ_MAX_META_VALUE 256
#define OBJ_MAX_META_COUNT 90
#define OBJ_MAX_META_SIZE 4096

/* The account of the request after keystoneauth's owner check (account
 * requests and container writes, which no ACL opens): the token's project
 * owns "AUTH_<project_id>" when it holds an operator role (admin or
 * member). NULL with 403 (401 without a token) recorded otherwise. */
const char *obj__account(struct http_req *req);
/* The request's X-<kind>-Meta-* headers (kind "Object", "Container",
 * "Account") as a JSON object text of lower-case suffix -> value; with
 * removals, X-Remove-<kind>-Meta-* give "" values. NULL with 400
 * recorded when they break Swift's limits. */
const char *obj__meta_in(struct http_req *req, const char *kind, bool removals);
/* Adds X-<kind>-Meta-<key> response headers from a metadata JSON text. */
void obj__meta_out(struct http_req *req, const char *kind, const char *meta);
/* The same, leaving out the keys for which hide() is true (hide may be
 * NULL). */
void obj__meta_out_filtered(struct http_req *req, const char *kind, const char *meta,
                            bool (*hide)(const char *key));
/* Swift's time forms: X-Timestamp "1700000000.12345", Last-Modified
 * (RFC 1123, rounded up to the second as Swift does) and listings'
 * "2023-11-14T22:13:20.123450"; in the request arena. */
const char *obj__ts(struct http_req *req, int64_t us);
const char *obj__http_date(struct http_req *req, int64_t us);
const char *obj__iso(struct http_req *req, int64_t us);
/* The database or -1 with 503 recorded. */
struct db *obj__db(struct http_req *req);
/* Records the failure for an obj_db_* code: -ENOENT 404, -ENOTEMPTY 409,
 * anything else 500. Returns -1. */
int obj__db_fail(struct http_req *req, int rc);

/* ---- acl.c, tempurl.c: access ---- */

enum obj_op {
    OBJ_READ = 1,       /* object GET/HEAD: X-Container-Read, .r: */
    OBJ_LIST,           /* container GET/HEAD: read grants, .r: with .rlistings */
    OBJ_WRITE,          /* object PUT/POST/DELETE: X-Container-Write */
};

/* What obj__access() found out about the request. */
struct obj_access {
    const char *account;
    struct obj_container c;     /* the container of the path */
    bool owner;                 /* swift_owner: sees ACLs and temp URL keys */
    bool tempurl;               /* let in by a temp URL signature */
    bool tu_account_scope;      /* ... made with an account key */
    bool tu_inline;
    const char *tu_filename;
    int64_t tu_expires;
};

/* Decides whether the caller may do op on container (of the path's
 * account) and looks the container up into x->c. The account owner may do
 * anything (404 when the container is missing); a temp URL query is
 * checked as Swift's tempurl; anyone else needs a matching ACL. 0, or -1
 * with 401 (anonymous) / 403 / 404 recorded. */
int obj__access(struct http_req *req, enum obj_op op, const char *container,
                struct obj_access *x);
/* true when the token's project owns account through an operator role,
 * or the token carries the reseller admin role (any AUTH_ account) */
bool obj__is_owner(struct http_req *req, const char *account);
/* true when the token carries [object] reseller_admin_role (default
 * "ResellerAdmin", compared without case as keystoneauth does): the only
 * caller who may set or remove an account's quota */
bool obj__is_reseller(struct http_req *req);
/* Records Swift's denial: 401 without a token, 403 with one. Returns -1. */
int obj__deny(struct http_req *req);
/* Swift's clean_acl for the X-Container-Read/Write value of header: the
 * normalised list ("" when empty) in the arena, or NULL with 400 and
 * Swift's message recorded. write: referrer rules are refused. */
const char *obj__acl_clean(struct http_req *req, const char *header, const char *value,
                           bool write);
/* Checks the temp URL of an object request (see tempurl.c) and looks
 * container up into x->c. 0, or -1 with 401 (404 for a missing container
 * under a valid signature) recorded. */
int obj__tempurl(struct http_req *req, const char *container, struct obj_access *x);
/* Adds the Content-Disposition and Expires of a GET/HEAD let in by a temp
 * URL, for object (its name). */
void obj__tempurl_headers(struct http_req *req, const struct obj_access *x,
                          const char *object);
/* Python's urllib quote() of s (safe "/"), in a. */
const char *obj__quote(struct arena *a, const char *s);

/* Records a failure whose message is sent as it is in a text/plain body
 * (Swift's own 400/401/412 texts) rather than a status page. -1. */
int obj__fail_text(struct http_req *req, int status, const char *msg);
extern const char obj__text_body[];

/* api_object.c: object routes. */
int obj__object_get(struct http_req *req);
int obj__object_head(struct http_req *req);
int obj__object_delete(struct http_req *req);
int obj__object_post(struct http_req *req);
/* X-Delete-At / X-Delete-After of a PUT or POST into *t (unix seconds;
 * -1 when neither is given). -1 with Swift's 400 recorded when bad or in
 * the past. */
int obj__delete_at_in(struct http_req *req, int64_t *t);
/* true when the row's X-Delete-At has passed: it answers 404 until the
 * sweep removes it */
bool obj__expired(const struct obj_row *row);

/* ---- api_copy.c: server-side copy ---- */

/* The source of a copy, found before anything is written. */
struct obj_copy {
    const char *container, *object;     /* decoded names */
    struct obj_container c;
    struct obj_row row;
};

/* COPY with Destination (other unknown methods: 405). */
int obj__object_copy(struct http_req *req);
/* Parses value (X-Copy-From, "/container/object" URL-encoded) against the
 * destination's access dst, checks that the caller may read it and finds
 * its live row into *cp. -1 with 412 (bad form), 401/403 or 404
 * recorded. */
int obj__copy_source(struct http_req *req, const struct obj_access *dst, const char *header,
                     const char *value, struct obj_copy *cp);
/* Makes name in dst's container a copy of cp's object and sets the 201:
 * metadata is the source's overlaid with meta (JSON text), or only meta
 * under X-Fresh-Metadata; ctype and delete_at (-1) default to the
 * source's. if_none: 412 when a live object is already there. 0 or -1
 * with the failure recorded. */
int obj__copy_commit(struct http_req *req, const struct obj_access *dst, const char *name,
                     const struct obj_copy *cp, const char *meta, const char *ctype,
                     int64_t delete_at, bool if_none);
extern const struct http_stream_ops obj__object_put;
/* URL-decodes s (%XX only, as Swift's unquote) into a. */
const char *obj__unquote(struct arena *a, const char *s);

/* ---- versions.c: where writes become visible, with versioned writes ---- */

/* Makes row (its file committed in x's container) the object's current
 * version. When the container keeps versions (X-Versions-Location or
 * X-History-Location), the version it replaces moves to the archive
 * container in the same transaction. if_none: 412 when a live version is
 * there. On failure row->file is removed and the failure recorded: 404
 * (the container went), 412 (If-None-Match, or the archive container is
 * missing), 403 (the caller may not write the archive), 500/507. Sets no
 * reply and no header. 0 or -1. */
int obj__object_commit(struct http_req *req, const struct obj_access *x,
                       const struct obj_row *row, bool if_none);
/* DELETE of x's object name, versioned as its container says (stack mode
 * restores the newest archived version, history mode archives with a
 * delete marker). 0, or -1 with the failure recorded (404 when there was
 * nothing to delete). Sets no reply. */
int obj__object_remove(struct http_req *req, const struct obj_access *x, const char *name);
/* Before an upload: when it would replace a live version of a versioned
 * container, the archive must exist and be writable, so the upload is
 * refused (412/403) before its body is read. 0 or -1. */
int obj__versions_precheck(struct http_req *req, const struct obj_access *x,
                           const char *name);
/* Container PUT/POST: X-Versions-Location / X-History-Location (one of
 * them; both with values is 400), or their X-Remove- forms, into
 * acl->versions and acl->versions_mode. -1 with 400/412 recorded. */
int obj__versions_in(struct http_req *req, struct obj_acls *acl);
/* Container GET/HEAD: the location header of the container's mode. */
void obj__versions_out(struct http_req *req, const struct obj_container *c);

/* ---- bulk.c, bulk_extract.c: Swift's bulk middleware ---- */

/* One failed item of a bulk answer: its quoted name and status line. */
struct obj_bulk_err {
    const char *name, *status;
};

/* What a bulk answer reports. */
struct obj_bulk_report {
    const char *status;             /* Response Status: "200 OK" ... */
    const char *body;               /* Response Body */
    const char *count_name[2];      /* "Number Deleted", ...; NULL unused */
    int64_t count[2];
    struct obj_bulk_err *errs;      /* Errors, in the request arena */
    int nerr, caperr;
};

/* Bulk delete (POST or DELETE with ?bulk-delete): newline-separated
 * URL-encoded "/container[/object]" paths, objects deleted first. The
 * streaming form for the account; obj__bulk_delete_body() does the same
 * with a body already read (container and object paths). */
extern const struct http_stream_ops obj__bulk_delete;
int obj__bulk_delete_body(struct http_req *req);
/* Archive extraction (PUT with ?extract-archive=tar|tar.gz|tar.bz2) into
 * the account, a container or under an object prefix of the path. */
extern const struct http_stream_ops obj__bulk_extract;

/* Swift's status line of status ("404 Not Found"), a static string. */
const char *obj__bulk_status(int status);
/* The answer's media type after the Accept header (swob's best_match over
 * text/plain, application/json, application/xml, text/xml); text/plain
 * without one, NULL when none is acceptable or the header is malformed. */
const char *obj__bulk_format(struct http_req *req);
/* Adds a failed item (name copied into the request arena). */
void obj__bulk_fail(struct http_req *req, struct obj_bulk_report *rep, const char *name,
                    const char *status);
/* Sets the 200 answer: rep in format fmt (NULL: text), XML under root. */
void obj__bulk_reply(struct http_req *req, const char *fmt, const struct obj_bulk_report *rep,
                     const char *root);
/* An item's scope: req->arena is inner (or, when NULL, a fresh arena freed
 * at leave) for everything the item allocates, and at leave the item's
 * sticky failure is taken off the request and returned (0 when it went
 * well), headers it added are dropped and the database connection goes
 * back to the pool. */
struct obj_bulk_scope {
    struct arena *outer;
    struct http_hdr *headers;
    bool owned;
};
void obj__bulk_enter(struct http_req *req, struct obj_bulk_scope *s, struct arena *inner);
int obj__bulk_leave(struct http_req *req, struct obj_bulk_scope *s);
/* true when s is valid UTF-8 (Swift's check_utf8; NUL cannot be in s) */
bool obj__utf8_ok(const char *s);

/* ---- quota.c: account and container quotas ---- */

/* Account POST: setting or removing X-Account-Meta-Quota-Bytes is for the
 * reseller admin only (403), with a whole number (400). 0 or -1. */
int obj__quota_account_post(struct http_req *req);
/* Container PUT/POST: X-Container-Meta-Quota-Bytes / -Quota-Count must be
 * whole numbers (400 with Swift's text). 0 or -1. */
int obj__quota_container_meta(struct http_req *req);
/* An object write of size bytes into x's container: 413 "Upload exceeds
 * quota." when the container's bytes or count quota or the account's
 * bytes quota would be passed. 0 or -1. */
int obj__quota_check(struct http_req *req, const struct obj_access *x, int64_t size);

#endif
