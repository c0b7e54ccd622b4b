/* object_int.h - shared between the object service's API files only. */
#ifndef OBJECT_OBJECT_INT_H
#define OBJECT_OBJECT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/http.h"
#include "obj_db.h"

struct obj_writer;
struct obj_copy;

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
 * removals, X-Remove-<kind>-Meta-* give "" values. NULL with Swift's 400
 * (check_metadata's text) recorded for an empty name, a name or value
 * that is not UTF-8, or one past Swift's limits. */
const char *obj__meta_in(struct http_req *req, const char *kind, bool removals);
/* Adds X-<kind>-Meta-<key> response headers from a metadata JSON text. */
void obj__meta_out(struct http_req *req, const char *kind, const char *meta);
/* The same, leaving out the keys for which hide() is true (hide may be
 * NULL). */
void obj__meta_out_filtered(struct http_req *req, const char *kind, const char *meta,
                            bool (*hide)(const char *key));
/* The next item of the list at *p whose items are separated by sep
 * (',' or ' '): its start, with *n its length once the blanks (space,
 * tab) around it are off (0 for an empty item); *p moves past it. NULL
 * at the end of the list (or when *p is NULL). */
const char *obj__list_next(const char **p, char sep, size_t *n);
/* The string values of keys[0..n) in a metadata JSON text (parsed once)
 * into out[] (copies in a; NULL when absent or not a string). */
void obj__meta_values(struct arena *a, const char *meta, const char *const *keys, int n,
                      const char **out);
/* Swift's time forms: X-Timestamp "1700000000.12345", Last-Modified
 * (RFC 1123, rounded up to the second as Swift does) and listings'
 * "2023-11-14T22:13:20.123450"; in the request arena. */
const char *obj__ts(struct http_req *req, int64_t us);
const char *obj__http_date(struct http_req *req, int64_t us);
const char *obj__iso(struct http_req *req, int64_t us);
/* Swift's proxy check (check_utf8): true when the request's path is
 * UTF-8, else false with 412 "Invalid UTF8 or contains NULL" recorded.
 * No account, container or object name may hold other bytes. */
bool obj__path_ok(struct http_req *req);
/* The database or -1 with 503 recorded. */
struct db *obj__db(struct http_req *req);
/* Python's int() of s as Swift applies it to header and form values:
 * blanks around, a sign, digits with single '_' between them; values past
 * int64 saturate. false when s is NULL or not a number. */
bool obj__py_int(const char *s, int64_t *out);
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
/* Swift's extract_digest_and_algorithm and HMAC check (temp URLs,
 * FormPost): true when sig (hex of 40, 64 or 128 digits for sha1, sha256,
 * sha512, or "<digest>:<base64>" in either alphabet) is the HMAC of one of
 * bodies under one of keys; *key (may be NULL) gets that key's index. */
bool obj__sig_ok(const char *sig, const char *const *keys, int nkeys, const char *const *bodies,
                 int nbodies, int *key);
/* Python's urllib quote() of s (safe "/"), in a. */
const char *obj__quote(struct arena *a, const char *s);

/* Records a failure whose message is sent as it is in a text/plain body
 * (Swift's own 400/401/412 texts) rather than a status page. -1. */
int obj__fail_text(struct http_req *req, int status, const char *msg);
extern const char obj__text_body[];

/* api_object.c: object routes (GET serves HEAD too). */
int obj__object_get(struct http_req *req);
int obj__object_delete(struct http_req *req);
int obj__object_post(struct http_req *req);
/* X-Delete-At / X-Delete-After of a PUT or POST into *t (unix seconds;
 * -1 when neither is given). -1 with Swift's 400 recorded when bad or in
 * the past. */
int obj__delete_at_in(struct http_req *req, int64_t *t);
/* Swift's check_delete_headers on parsed values: the expiry (unix
 * seconds, clamped to Swift's 10 digits) of after seconds from now when
 * have_after (it wins), else of the time at when have_at; 0 when neither
 * is given, -1 when it is not in the future. */
int64_t obj__delete_at_value(bool have_after, int64_t after, bool have_at, int64_t at);
/* true when the row's X-Delete-At has passed: it answers 404 until the
 * sweep removes it */
bool obj__expired(const struct obj_row *row);

/* ---- body.c: byte ranges and streamed bodies ---- */

/* swob: more ranges than this in one Range header is refused (416) */
#define OBJ_MAX_RANGES 50

/* A byte range of an object, half-open: [start, end). */
struct obj_byterange {
    uint64_t start, end;
};

/* Swift's Range header (swob.Range.ranges_for_length) against an object
 * of size bytes: -1 when the header is absent or not valid syntax (it is
 * ignored: the whole object, 200); 0 when no range is satisfiable, or the
 * set is egregious (more than 50 ranges, more than 2 overlaps, 8 or more
 * out of order): 416; else the count of ranges written to out, in the
 * order asked. */
int obj__ranges(const char *hdr, uint64_t size, struct obj_byterange out[OBJ_MAX_RANGES]);

/* Where the bytes of a GET come from: a file, or a large object's
 * segments. seek positions it at byte off of the object for len bytes
 * (len UINT64_MAX: to the end); read gives the next bytes of that range
 * (> 0), 0 once the range is over, or -1 on failure with why set. prime
 * (optional) makes sure the first bytes after a seek can be read, with
 * the request's database connection; read takes connections of its own
 * (it runs after the request's handler, on the event loop). free closes
 * all. */
struct obj_src {
    int (*seek)(struct obj_src *s, uint64_t off, uint64_t len);
    int (*prime)(struct obj_src *s, struct db *db);
    ssize_t (*read)(struct obj_src *s, char *buf, size_t max);
    void (*free)(struct obj_src *s);
    const char *why;            /* the last failure, for the log */
};

/* A source over the open file fd (taken: closed by free). */
struct obj_src *obj__file_src(int fd);
/* Sets a streamed answer of status from src (taken, whatever happens):
 * n == 0 the whole object of size bytes (-1: unknown, chunked); n == 1
 * that range alone; n > 1 multipart/byteranges of the ranges, each part
 * with Content-Type ctype, as swob frames them. A source with prime is
 * checked before answering (GET): 409 when its first bytes cannot be
 * had. name is for the log. 0 or -1 with the failure recorded. */
int obj__reply_body(struct http_req *req, int status, struct obj_src *src,
                    const struct obj_byterange *ranges, int n, int64_t size, const char *ctype,
                    const char *name);

/* ---- large objects: large.c (GET/HEAD), slo.c, dlo.c ---- */

/* Published by GET /info, enforced on manifest PUT (Swift's defaults). */
#define OBJ_SLO_MAX_SEGMENTS 1000
#define OBJ_SLO_MAX_MANIFEST 8388608
#define OBJ_SLO_YIELD_FREQUENCY 10
#define OBJ_DLO_MAX_SEGMENTS 10000
/* Reserved keys in an object's metadata JSON: no header name can make
 * them (':' ends a header name), and obj__meta_out() never shows them.
 * X-Object-Manifest as sent; an SLO's ETag and total size, which also
 * mark the object as a manifest (X-Static-Large-Object: True). */
#define OBJ_META_DLO ":dlo"
#define OBJ_META_SLO_ETAG ":slo-etag"
#define OBJ_META_SLO_SIZE ":slo-size"

/* One segment of a large object as the reader walks it. */
struct obj_seg {
    char *container, *object;   /* decoded names; NULL for inline data */
    char *etag;                 /* the object must still have it; NULL: unchecked */
    int64_t size;               /* ... and this size; -1: unchecked */
    uint64_t rstart, length;    /* bytes used: [rstart, rstart + length) */
    unsigned char *data;        /* inline data (length bytes), or NULL */
    bool sub_slo;               /* the object is an SLO manifest itself */
};

/* A malloc'd list of segments (the reader outlives the request arena). */
struct obj_seglist {
    struct obj_seg *v;
    size_t n;
};
void obj__seglist_release(struct obj_seglist *l);

enum obj_lo_kind { OBJ_LO_NONE = 0, OBJ_LO_DLO, OBJ_LO_SLO };

/* What a row's metadata says it is; *dlo gets X-Object-Manifest for a
 * DLO, *slo_etag / *slo_size the SLO's (each pointer may be NULL). */
enum obj_lo_kind obj__lo_kind(struct arena *a, const char *meta, const char **dlo,
                              const char **slo_etag, int64_t *slo_size);

/* What obj__lo_open() found out about a large object. */
struct obj_lo {
    struct obj_src *src;        /* the caller's, for obj__reply_body() */
    const char *etag;           /* the large object's ETag, unquoted; NULL:
                                 * not known (the manifest's is kept) */
    int64_t size;               /* total bytes, -1 when not known */
    bool single_range;          /* DLO: only a single range is honoured */
    const char *manifest_etag;  /* SLO: X-Manifest-Etag */
};

/* Opens the large object of row (kind), whose manifest file fd is open
 * (taken: always closed): an SLO's manifest is parsed (for GET) and its
 * segments' containers checked for read access; a DLO's container is
 * listed (a denied or missing segment container is the answer, as in
 * Swift). 0 with *out set, or -1 with the failure recorded. */
int obj__lo_open(struct http_req *req, const struct obj_access *x, const struct obj_row *row,
                 enum obj_lo_kind kind, int fd, struct obj_lo *out);
/* Reads a whole manifest file (at most max bytes) into a malloc'd
 * buffer. 0, -EFBIG or -errno. */
int obj__read_manifest(int fd, uint64_t size, uint64_t max, char **buf);

/* slo.c: the stored manifest (Swift's form: a JSON list of {name, bytes,
 * hash, content_type, last_modified[, range][, sub_slo]} or {data}) into
 * *out. -1 when it is not one. */
int obj__slo_parse(const char *txt, size_t len, struct obj_seglist *out);
/* GET ?multipart-manifest=get&format=raw: the manifest file fd (taken) as
 * the client PUT it, sorted keys; sets the 200. ctype is the object's. */
int obj__slo_get_raw(struct http_req *req, int fd, uint64_t size, const char *ctype);
/* DELETE ?multipart-manifest=delete of name in x's container: segments
 * (nested manifests' too) then the manifest, answered as Swift's bulk
 * delete (200, text/plain or JSON by Accept). */
int obj__slo_delete(struct http_req *req, const struct obj_access *x, const char *name);

/* The state of a manifest PUT (?multipart-manifest=put). */
struct obj_slo_put;
/* PUT begin hook: *out is NULL unless the request is a manifest PUT,
 * which it checks as Swift does (no copy, Content-Length within the
 * manifest limit); the state is freed with the request arena. 0, or -1
 * with the failure recorded. */
int obj__slo_put_begin(struct http_req *req, bool copy, struct obj_slo_put **out);
/* PUT data hook: keeps the manifest body (bounded). 0 or -1 (413). */
int obj__slo_put_data(struct http_req *req, struct obj_slo_put *s, const char *p, size_t n);
/* PUT end hook (the body is complete; runs on a worker): validates the
 * manifest and its segments (Swift's 400 texts), checks the client's
 * ETag against the SLO's (422, and clears *expect so the caller does not
 * compare it with the stored manifest's MD5), writes the stored manifest
 * into w and adds the SLO keys to *meta. 0 to go on and store, 1 when
 * the answer is set (a 400 listing the problem segments: store nothing),
 * -1 with the failure recorded. */
int obj__slo_put_end(struct http_req *req, struct obj_slo_put *s, const struct obj_access *x,
                     const char *name, struct obj_writer *w, const char **meta, char *expect);
/* The quoted SLO ETag the 201 carries. */
const char *obj__slo_put_etag(struct obj_slo_put *s);

/* dlo.c: the large-object headers of a PUT or POST applied to meta (JSON
 * text): X-Object-Manifest validated and kept under OBJ_META_DLO;
 * X-Static-Large-Object refused (400) but on a manifest PUT; on POST (old
 * != NULL, the current row's metadata) an SLO's keys survive, as Swift
 * keeps them with the data file. The new text, or NULL with 400
 * recorded. */
const char *obj__lo_meta_in(struct http_req *req, const char *meta, const char *old);
/* One page (up to OBJ_DLO_MAX_SEGMENTS) of a DLO's segments: the objects
 * of container cid (named cname) starting with prefix, after marker
 * (may be NULL), in listing order, into *out. 0 or a DB code. */
int obj__dlo_page(struct db *db, struct arena *a, const char *cid, const char *cname,
                  const char *prefix, const char *marker, struct obj_seglist *out);
/* Copy hook: true when a copy of cp's object must be its concatenated
 * data (a large object, without ?multipart-manifest=get) rather than the
 * manifest itself. */
bool obj__lo_copy_data(struct http_req *req, const struct obj_row *src);
/* Writes the concatenated data of cp's large object as a new committed
 * file for name in dst's container: file[80], etag[33] (MD5 of the data),
 * *size, and *data (in req->arena) when it is kept inline (store.h).
 * Segments are read one at a time, never whole. 0, or -1 with the failure
 * recorded (409 when a segment is gone or changed). */
int obj__lo_copy_file(struct http_req *req, const struct obj_access *dst,
                      const struct obj_copy *cp, const char *name, char file[80],
                      char etag[33], int64_t *size, const char **data);
/* meta (JSON text) with the large-object keys of from (from NULL: with
 * none of them), in a: a copy of a large object's data is no manifest, a
 * copy of its manifest stays one even under X-Fresh-Metadata. */
const char *obj__lo_meta_copy(struct arena *a, const char *meta, const char *from);
/* Whether the caller may do op (OBJ_READ, OBJ_LIST, OBJ_WRITE) on
 * container cname of x's account, found into *c: the owner or a temp URL
 * (x) always (404 when missing), anyone else as obj__access() decides.
 * With record false a denial is not the request's answer (a segment of
 * many): it is taken back and returned as -401, -403 or -404. -1: a
 * failure is recorded (always so with record). */
int obj__may_read(struct http_req *req, const struct obj_access *x, const char *cname,
                  enum obj_op op, bool record, struct obj_container *c);
/* The value of hex digit c (either case), -1 when it is none. */
int obj__hexval(char c);
/* URL-decodes s (%XX only, as Swift's unquote) into a. */
char *obj__unquote(struct arena *a, const char *s);

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
/* The answer's media type after the Accept header (obj__accept_best());
 * text/plain without one, NULL when none is acceptable or the header is
 * malformed. */
const char *obj__bulk_format(struct http_req *req);
/* Adds a failed item (name copied into the request arena). */
void obj__bulk_fail(struct http_req *req, struct obj_bulk_report *rep, const char *name,
                    const char *status);
/* Sets the answer of status: rep in format fmt (NULL: text), XML under
 * root, as Swift's get_response_body writes it (rep->status NULL: only
 * the errors). */
void obj__bulk_reply(struct http_req *req, int status, const char *fmt,
                     const struct obj_bulk_report *rep, const char *root);
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

/* ---- listing.c: account and container listings ---- */

enum obj_list_fmt { OBJ_LIST_PLAIN = 1, OBJ_LIST_JSON, OBJ_LIST_XML };

/* A listing request, read from the query and Accept. */
struct obj_list_q {
    const char *prefix, *marker, *end_marker, *delimiter;
    const char *path;           /* path= mode: the prefix ("dir/", or "") */
    int limit;
    bool reverse;
    enum obj_list_fmt fmt;
    const char *ctype;          /* "application/xml", ... (no charset) */
    bool vary;                  /* no format=: the answer varies on Accept */
};

/* swob's Accept.best_match of accept (a header value; NULL or "" takes
 * the first) over the types of listings and bulk answers: text/plain,
 * application/json, application/xml, text/xml. NULL when none is
 * acceptable; *bad when the value is malformed (swob's ValueError). */
const char *obj__accept_best(struct http_req *req, const char *accept, bool *bad);
/* true when s is well-formed UTF-8 as Python's decoder wants it: no
 * overlong forms, no surrogates, nothing past U+10FFFF */
bool obj__utf8_valid(const char *s);
/* The content negotiation of a listing GET or HEAD (a HEAD answers with
 * the type a GET would have) into *q, which it resets: 0 or -1 with 400
 * (format= not UTF-8, bad Accept) or 406 (no listing type acceptable)
 * recorded. */
int obj__list_type(struct http_req *req, struct obj_list_q *q);
/* Then, for a GET, the rest of the listing query of an account
 * (container false) or container into *q, checked as Swift does (400 for
 * a parameter that is not UTF-8, 412 for a limit past 10000). 0 or -1
 * with the failure recorded. */
int obj__list_params(struct http_req *req, bool container, struct obj_list_q *q);
/* Lists containers of account owner (containers true) or objects of
 * container id owner, named name (the account or container name, for
 * the XML root), and sets the 200/204 reply. 0 or -1. */
int obj__list_reply(struct http_req *req, bool containers, const char *owner, const char *name,
                    const struct obj_list_q *q);

/* ---- cors.c: CORS (Swift's proxy) ---- */

/* OPTIONS on /info, an account, a container or an object: Allow, and for
 * a preflight (Origin) on a container or object the container's CORS
 * rules decide: 200 with the Access-Control-Allow-* headers, or 401. */
int obj__options(struct http_req *req);
/* After a container or object request carrying Origin: adds
 * Access-Control-Allow-Origin and -Expose-Headers when the container's
 * rules allow the origin (Swift's cors_validation). Any request. */
void obj__cors_after(struct http_req *req);
/* [object] strict_cors_mode (default true): CORS headers only for an
 * allowed origin. */
bool obj__strict_cors(void);

/* ---- formpost.c: HTML form uploads ---- */

/* POST on an account, container or object path: a multipart/form-data
 * body (with a boundary) is Swift's FormPost; anything else runs plain
 * (the ordinary metadata POST handler, when the body is in). */
extern const struct http_stream_ops obj__post_account, obj__post_container, obj__post_object;
/* The metadata POST handlers formpost.c falls back to. */
int obj__account_post(struct http_req *req);
int obj__container_post(struct http_req *req);

/* tempurl.c: the temp URL keys of account (X-Account-Meta-Temp-URL-Key,
 * -Key-2) and of its container (when it exists: *have_c and *c filled)
 * into keys[4] (strings in the arena), *nkeys their count, scope[i] true
 * for account keys. 0, or -1 with a database failure recorded. */
int obj__tempurl_keys(struct http_req *req, const char *account, const char *container,
                      const char *keys[4], bool scope[4], int *nkeys, struct obj_container *c,
                      bool *have_c);

/* ---- sweep.c: what a crash leaves behind ---- */

/* Runs once at start, before the server answers: removes upload temp
 * files (".tmp-*") and object files no row names from DATA_DIR/objects.
 * See sweep.c for when it may remove what. Returns the number of files
 * removed. */
int obj__sweep(const char *objects_root);

#endif
