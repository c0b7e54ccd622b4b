/* api.c - the Swift v1 API at /object-store: routes, keystoneauth-style
 * authorization, Swift's fault pages, /info, and the account and container
 * requests with their listings. Object requests are in api_object.c; the
 * SQL in obj_db.c; the bytes in store.c. */
#include "object.h"
#include "object_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- helpers shared with api_object.c ---- */

const char *
obj__account(struct http_req *req)
{
    const char *acc = http_param(req, "account");
    if (!obj__is_owner(req, acc)) {
        obj__deny(req);
        return NULL;
    }
    return acc;
}

struct db *
obj__db(struct http_req *req)
{
    struct db *db = req_db(req);
    if (!db)
        req_fail(req, 503, "The server is currently unavailable.");
    return db;
}

int
obj__db_fail(struct http_req *req, int rc)
{
    if (rc == -ENOENT)
        return req_fail(req, 404, "The resource could not be found.");
    if (rc == -ENOTEMPTY)
        return req_fail(req, 409, "There was a conflict when trying to complete your "
                                  "request.");
    return req_fail(req, 500, "database error: %s", req->db ? db_errmsg(req->db) : "");
}

bool
obj__py_int(const char *s, int64_t *out)
{
    if (!s)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s == '_' && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[-1]))
            continue;
        if (!isdigit((unsigned char)*s))
            break;
        v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (*s - '0');
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return false;
    *out = neg ? -v : v;
    return true;
}

struct meta_scan {
    struct http_req *req;
    json_t *set;
    char pfx[40], rm[40];
    size_t size;
    int count;
    bool removals;
    const char *err;            /* the first failure, in Swift's wording */
};

/* One header, checked as Swift's check_metadata() does, in its order */
static void
meta_header(void *arg, const char *name, const char *value)
{
    struct meta_scan *m = arg;
    struct arena *a = m->req->arena;
    size_t pl = strlen(m->pfx), rl = strlen(m->rm);
    const char *key;
    bool remove = false;
    if (m->err)
        return;
    if (!strncasecmp(name, m->pfx, pl))
        key = name + pl;
    else if (m->removals && !strncasecmp(name, m->rm, rl))
        key = name + rl, remove = true;
    else
        return;
    char *lk = arena_strdup(a, key);
    for (char *p = lk; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    if (remove) {
        /* Swift checks only the X-<kind>-Meta-* headers themselves */
        if (*lk && obj__utf8_valid(lk))
            json_object_set_new(m->set, lk, json_string(""));
        return;
    }
    size_t kl = strlen(lk), vl = strlen(value);
    if (!kl)
        m->err = "Metadata name cannot be empty";
    else if (!obj__utf8_valid(lk) || !obj__utf8_valid(value))
        /* Swift refuses that for accounts and containers only; object
         * metadata is kept as JSON text here, which must be UTF-8 */
        m->err = "Metadata must be valid UTF-8";
    else if (kl > OBJ_MAX_META_NAME)
        m->err = arena_printf(a, "Metadata name too long: %s%s", m->pfx, key);
    else if (vl > OBJ_MAX_META_VALUE)
        m->err = arena_printf(a, "Metadata value longer than %d: %s%s", OBJ_MAX_META_VALUE,
                              m->pfx, key);
    else if (++m->count > OBJ_MAX_META_COUNT)
        m->err = arena_printf(a, "Too many metadata items; max %d", OBJ_MAX_META_COUNT);
    else if ((m->size += kl + vl) > OBJ_MAX_META_SIZE)
        m->err = arena_printf(a, "Total metadata too large; max %d", OBJ_MAX_META_SIZE);
    else
        json_object_set_new(m->set, lk, json_string(value));
}

const char *
obj__meta_in(struct http_req *req, const char *kind, bool removals)
{
    struct meta_scan m = {.req = req, .set = json_object(), .removals = removals};
    snprintf(m.pfx, sizeof(m.pfx), "x-%s-meta-", kind);
    snprintf(m.rm, sizeof(m.rm), "x-remove-%s-meta-", kind);
    for (char *p = m.pfx; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    http_each_header(req, meta_header, &m);
    if (m.err) {
        json_decref(m.set);
        obj__fail_text(req, 400, m.err);
        return NULL;
    }
    return obj_meta_text(req->arena, m.set);
}

void
obj__meta_out(struct http_req *req, const char *kind, const char *meta)
{
    obj__meta_out_filtered(req, kind, meta, NULL);
}

void
obj__meta_out_filtered(struct http_req *req, const char *kind, const char *meta,
                       bool (*hide)(const char *key))
{
    json_t *o = meta ? json_loads(meta, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        /* ':' keys are the service's own (large objects), never headers */
        if (json_is_string(v) && k[0] != ':' && !(hide && hide(k)))
            http_header(req, arena_printf(req->arena, "X-%s-Meta-%s", kind, k),
                        json_string_value(v));
    }
    json_decref(o);
}

const char *
obj__list_next(const char **p, char sep, size_t *n)
{
    const char *s = *p;
    if (!s || !*s)
        return NULL;
    size_t len = 0;
    while (s[len] && s[len] != sep)
        len++;
    *p = s + len + (s[len] != '\0');
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    *n = len;
    return s;
}

void
obj__meta_values(struct arena *a, const char *meta, const char *const *keys, int n,
                 const char **out)
{
    json_t *o = meta ? json_loads(meta, 0, NULL) : NULL;
    for (int i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(o, keys[i]));
        out[i] = v ? arena_strdup(a, v) : NULL;
    }
    json_decref(o);
}

const char *
obj__ts(struct http_req *req, int64_t us)
{
    return arena_printf(req->arena, "%lld.%05lld", (long long)(us / 1000000),
                        (long long)(us % 1000000 / 10));
}

const char *
obj__http_date(struct http_req *req, int64_t us)
{
    time_t t = (time_t)((us + 999999) / 1000000);
    struct tm tm;
    char b[64];
    gmtime_r(&t, &tm);
    strftime(b, sizeof(b), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return arena_strdup(req->arena, b);
}

const char *
obj__iso(struct http_req *req, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char b[64];
    gmtime_r(&t, &tm);
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    return arena_printf(req->arena, "%s.%06lld", b, (long long)(us % 1000000));
}

/* ---- faults ---- */

/* Swift answers errors with small HTML pages (swift.common.swob); these
 * statuses always carry the same page, others carry the message as plain
 * text, as Swift's own 400/412/413 answers do. */
static void
render_fault(struct http_req *req)
{
    static const struct { int status; const char *expl; } pages[] = {
        {401, "This server could not verify that you are authorized to access the document "
              "you requested."},
        {403, "Access was denied to this resource."},
        {404, "The resource could not be found."},
        {405, "The method is not allowed for this resource."},
        {406, "The resource is not available in a format acceptable to your browser."},
        {409, "There was a conflict when trying to complete your request."},
        {411, "Length Required"},
        {412, "A precondition for this request was not met."},
        {416, "The Range requested is not available."},
        {422, "Unable to process the contained instructions"},
        {500, "An error occurred while processing your request."},
        {503, "The server is currently unavailable. Please try again at a later time."},
    };
    int st = req->fail_status;
    if (req->fail_title == obj__text_body) {
        const char *m = req->fail_msg ? req->fail_msg : "";
        http_reply_raw(req, st, "text/plain; charset=UTF-8", m, strlen(m));
        return;
    }
    const char *title = req->fail_title ? req->fail_title : http_status_title(st);
    if (st == 411)
        title = "Length Required";
    else if (st == 406)
        title = "Not Acceptable";
    else if (st == 412)
        title = "Precondition Failed";
    else if (st == 416)
        title = "Requested Range Not Satisfiable";
    else if (st == 422)
        title = "Unprocessable Entity";
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        if (pages[i].status != st)
            continue;
        const char *b = arena_printf(req->arena, "<html><h1>%s</h1><p>%s</p></html>", title,
                                     pages[i].expl);
        if (st >= 500 && req->fail_msg)
            log_warn(req->request_id, "object: %s", req->fail_msg);
        http_reply_raw(req, st, "text/html; charset=UTF-8", b, strlen(b));
        return;
    }
    const char *m = req->fail_msg ? req->fail_msg : title;
    http_reply_raw(req, st, "text/plain; charset=UTF-8", m, strlen(m));
}

/* Every answer carries a transaction id of Swift's form,
 * "tx<21 hex>-<10 hex of the unix time>" (clients and Tempest check the
 * shape); it replaces the request id so logs and x-openstack-request-id
 * name the same thing. And every answer has a Content-Type, bodiless ones
 * included, as Swift's do. */
static void
after(struct http_req *req)
{
    char hex[33];
    size_t n = 0;
    for (const char *p = req->request_id; *p && n < 21; p++)
        if (isxdigit((unsigned char)*p) && p > req->request_id + 3)
            hex[n++] = *p;
    hex[n] = 0;
    snprintf(req->request_id, sizeof(req->request_id), "tx%s-%010llx", hex,
             (unsigned long long)time(NULL));
    http_header(req, "X-Trans-Id", req->request_id);
    obj__cors_after(req);
    if (!req->resp_type)
        req->resp_type = "text/html; charset=UTF-8";
}

/* ---- /info ---- */

static int
api_info(struct http_req *req)
{
    json_t *swift = json_pack(
        "{s:s,s:I,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:b,s:b,s:[{s:s,s:b}]}", "version",
        "2.30.0", "max_file_size", (json_int_t)OBJ_MAX_FILE_SIZE, "container_listing_limit",
        OBJ_LISTING_LIMIT, "account_listing_limit", OBJ_LISTING_LIMIT,
        "max_object_name_length", OBJ_MAX_OBJECT_NAME, "max_container_name_length",
        OBJ_MAX_CONTAINER_NAME, "max_account_name_length", 256, "max_meta_name_length",
        OBJ_MAX_META_NAME, "max_meta_value_length", OBJ_MAX_META_VALUE, "max_meta_count",
        OBJ_MAX_META_COUNT, "max_meta_overall_size", OBJ_MAX_META_SIZE,
        "allow_account_management", 0, "account_autocreate", 1, "policies", "name",
        "Policy-0", "default", 1);
    /* what clients (tempest's discoverability) look for before using
     * the optional features */
    json_t *tempurl = json_pack("{s:[sssss],s:[sss],s:[ss],s:[s],s:[s]}", "methods", "GET",
                                "HEAD", "PUT", "POST", "DELETE", "allowed_digests", "sha1",
                                "sha256", "sha512", "incoming_remove_headers", "x-timestamp",
                                "x-open-expired", "outgoing_remove_headers",
                                "x-object-meta-*", "outgoing_allow_headers",
                                "x-object-meta-public-*");
    json_object_set_new(swift, "strict_cors_mode", json_boolean(obj__strict_cors()));
    /* FormPost takes the same digests as the temp URLs; sha1 only for old
     * clients, as Swift flags it */
    json_t *formpost = json_pack("{s:[sss],s:[s]}", "allowed_digests", "sha1", "sha256",
                                 "sha512", "deprecated_digests", "sha1");
    json_t *slo = json_pack("{s:i,s:i,s:i,s:i}", "max_manifest_segments",
                            OBJ_SLO_MAX_SEGMENTS, "max_manifest_size", OBJ_SLO_MAX_MANIFEST,
                            "min_segment_size", 1, "yield_frequency", OBJ_SLO_YIELD_FREQUENCY);
    json_t *dlo = json_pack("{s:i}", "max_segments", OBJ_DLO_MAX_SEGMENTS);
    json_t *info = json_pack("{s:o,s:o,s:o,s:{},s:o,s:o}", "swift", swift, "tempurl", tempurl,
                             "formpost", formpost, "keystoneauth", "slo", slo, "dlo", dlo);
    /* quotas.c, versions.c, bulk.c */
    json_object_set_new(info, "account_quotas", json_object());
    json_object_set_new(info, "container_quotas", json_object());
    json_object_set_new(info, "versioned_writes",
                        json_pack("{s:[ss]}", "allowed_flags", "x-versions-location",
                                  "x-history-location"));
    json_object_set_new(info, "bulk_delete",
                        json_pack("{s:i,s:i}", "max_deletes_per_request", 10000,
                                  "max_failed_deletes", 1000));
    json_object_set_new(info, "bulk_upload",
                        json_pack("{s:i,s:i}", "max_containers_per_extraction", 10000,
                                  "max_failed_extractions", 1000));
    return http_reply_json(req, 200, info);
}

/* ---- account ---- */

static int
account_headers(struct http_req *req, const char *account)
{
    int64_t nc, no, nb, created;
    const char *meta;
    int rc = obj_db_account_stats(req->db, req->arena, account, &nc, &no, &nb, &created,
                                  &meta);
    if (rc)
        return obj__db_fail(req, rc);
    http_header(req, "X-Account-Container-Count", arena_printf(req->arena, "%lld",
                                                               (long long)nc));
    http_header(req, "X-Account-Object-Count", arena_printf(req->arena, "%lld", (long long)no));
    http_header(req, "X-Account-Bytes-Used", arena_printf(req->arena, "%lld", (long long)nb));
    if (nc > 0) {
        /* per-policy usage, as Swift reports it once a container exists;
         * there is one policy, so it is the account's totals */
        http_header(req, "X-Account-Storage-Policy-Policy-0-Container-Count",
                    arena_printf(req->arena, "%lld", (long long)nc));
        http_header(req, "X-Account-Storage-Policy-Policy-0-Object-Count",
                    arena_printf(req->arena, "%lld", (long long)no));
        http_header(req, "X-Account-Storage-Policy-Policy-0-Bytes-Used",
                    arena_printf(req->arena, "%lld", (long long)nb));
    }
    http_header(req, "X-Timestamp", obj__ts(req, created));
    http_header(req, "X-Put-Timestamp", obj__ts(req, created));
    obj__meta_out(req, "Account", meta);
    return 0;
}

/* The type a listing GET would answer with, on a HEAD (Swift's
 * listing_formats sets it on both). */
static int
listing_head_reply(struct http_req *req, const struct obj_list_q *q)
{
    if (q->vary)
        http_header(req, "Vary", "Accept");
    return http_reply_raw(req, 204, arena_printf(req->arena, "%s; charset=utf-8", q->ctype),
                          NULL, 0);
}

static int
api_account_get(struct http_req *req)
{
    struct obj_list_q q;
    const char *account;
    if (obj__list_type(req, &q) < 0 || !(account = obj__account(req)) || !obj__db(req) ||
        obj__list_params(req, false, &q) < 0 || account_headers(req, account) < 0)
        return -1;
    return obj__list_reply(req, true, account, account, &q);
}

static int
api_account_head(struct http_req *req)
{
    struct obj_list_q q;
    const char *account;
    if (obj__list_type(req, &q) < 0 || !(account = obj__account(req)) || !obj__db(req) ||
        account_headers(req, account) < 0)
        return -1;
    return listing_head_reply(req, &q);
}

int
obj__account_post(struct http_req *req)
{
    const char *account = obj__account(req);
    const char *meta;
    if (!account || obj__quota_account_post(req) < 0 || !obj__db(req) ||
        !(meta = obj__meta_in(req, "Account", true)))
        return -1;
    int rc = obj_db_account_post(req->db, req->arena, account, meta);
    return rc ? obj__db_fail(req, rc) : http_reply_empty(req, 204);
}

/* ---- containers ---- */

/* Container metadata a non-owner must not see: the temp URL keys sign
 * URLs for the whole container (Swift hides them the same way). */
static bool
owner_only_meta(const char *key)
{
    return !strcasecmp(key, "temp-url-key") || !strcasecmp(key, "temp-url-key-2");
}

static int
container_headers(struct http_req *req, const struct obj_container *c, bool owner)
{
    int64_t count, bytes;
    int rc = obj_db_container_stats(req->db, req->arena, c->id, &count, &bytes);
    if (rc)
        return obj__db_fail(req, rc);
    http_header(req, "X-Container-Object-Count",
                arena_printf(req->arena, "%lld", (long long)count));
    http_header(req, "X-Container-Bytes-Used",
                arena_printf(req->arena, "%lld", (long long)bytes));
    http_header(req, "X-Timestamp", obj__ts(req, c->created_us));
    http_header(req, "X-Put-Timestamp", obj__ts(req, c->put_us));
    http_header(req, "Last-Modified", obj__http_date(req, c->put_us));
    http_header(req, "X-Storage-Policy", "Policy-0");
    if (owner) {
        if (c->read_acl && *c->read_acl)
            http_header(req, "X-Container-Read", c->read_acl);
        if (c->write_acl && *c->write_acl)
            http_header(req, "X-Container-Write", c->write_acl);
    }
    obj__versions_out(req, c);
    obj__meta_out_filtered(req, "Container", c->meta, owner ? NULL : owner_only_meta);
    return 0;
}

/* The owner-only settings of a container PUT/POST into *acl: X-Container-Read
 * and -Write cleaned as Swift does, X-Remove-Container-Read/-Write clear,
 * and the versioning location (versions.c); the quota metadata must be
 * whole numbers (quota.c). -1 with 400/412 recorded on a bad value. */
static int
acls_in(struct http_req *req, struct obj_acls *acl)
{
    static const char *const hdr[2] = {"X-Container-Read", "X-Container-Write"};
    static const char *const rm[2] = {"X-Remove-Container-Read", "X-Remove-Container-Write"};
    const char **out[2] = {&acl->read, &acl->write};
    memset(acl, 0, sizeof(*acl));
    if (obj__versions_in(req, acl) < 0 || obj__quota_container_meta(req) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        const char *v = http_header_in(req, hdr[i]);
        *out[i] = NULL;
        if (v && !(*out[i] = obj__acl_clean(req, hdr[i], v, i == 1)))
            return -1;
        if (!v && http_header_in(req, rm[i]))
            *out[i] = "";
    }
    return 0;
}

static int
api_container_put(struct http_req *req)
{
    const char *account = obj__account(req), *meta;
    const char *name = http_param(req, "container");
    struct obj_acls acl;
    bool created = false;
    if (!account || acls_in(req, &acl) < 0)
        return -1;
    if (strlen(name) > OBJ_MAX_CONTAINER_NAME)
        return req_fail(req, 400, "Container name length of %zu longer than %d",
                        strlen(name), OBJ_MAX_CONTAINER_NAME);
    if (!obj__db(req) || !(meta = obj__meta_in(req, "Container", true)))
        return -1;
    int rc = obj_db_container_put(req->db, req->arena, account, name, meta, &acl, &created);
    if (rc)
        return obj__db_fail(req, rc);
    return http_reply_raw(req, created ? 201 : 202, "text/html; charset=UTF-8", NULL, 0);
}

/* HEAD and GET of a container: the owner, or a reader by ACL */
static int
api_container_head(struct http_req *req)
{
    struct obj_access x;
    struct obj_list_q q;
    if (obj__list_type(req, &q) < 0 ||
        obj__access(req, OBJ_LIST, http_param(req, "container"), &x) < 0 ||
        container_headers(req, &x.c, x.owner) < 0)
        return -1;
    return listing_head_reply(req, &q);
}

static int
api_container_get(struct http_req *req)
{
    struct obj_access x;
    struct obj_list_q q;
    if (obj__list_type(req, &q) < 0 ||
        obj__access(req, OBJ_LIST, http_param(req, "container"), &x) < 0 ||
        obj__list_params(req, true, &q) < 0 || container_headers(req, &x.c, x.owner) < 0)
        return -1;
    return obj__list_reply(req, false, x.c.id, x.c.name, &q);
}

int
obj__container_post(struct http_req *req)
{
    if (http_query(req, "bulk-delete"))
        return obj__bulk_delete_body(req);
    const char *account = obj__account(req), *meta;
    struct obj_acls acl;
    if (!account || acls_in(req, &acl) < 0 || !obj__db(req) ||
        !(meta = obj__meta_in(req, "Container", true)))
        return -1;
    int rc = obj_db_container_post(req->db, req->arena, account, http_param(req, "container"),
                                   meta, &acl);
    return rc ? obj__db_fail(req, rc) : http_reply_empty(req, 204);
}

static int
api_container_delete(struct http_req *req)
{
    if (http_query(req, "bulk-delete"))
        return obj__bulk_delete_body(req);
    const char *account = obj__account(req), *id = NULL;
    if (!account || !obj__db(req))
        return -1;
    int rc = obj_db_container_delete(req->db, req->arena, account,
                                     http_param(req, "container"), &id);
    if (rc)
        return obj__db_fail(req, rc);
    obj_store_remove_container(account, id);
    return http_reply_empty(req, 204);
}

/* ---- streaming PUT, POST and DELETE ---- */

/* Swift's bulk middleware sees a request before anything else: archive
 * extraction and bulk delete are chosen by the query, on any path (the
 * body of either may be large, so these routes stream). Otherwise an
 * object PUT streams into the store, and the account and container
 * requests, whose bodies Swift ignores, run whole once the body is in. */
static const struct http_stream_ops *
stream_target(struct http_req *req)
{
    if (req->method == HTTP_PUT && http_query(req, "extract-archive"))
        return &obj__bulk_extract;
    if (req->method != HTTP_PUT && http_query(req, "bulk-delete"))
        return &obj__bulk_delete;
    if (req->method == HTTP_POST)   /* a FormPost, or metadata (formpost.c) */
        return http_param(req, "object")      ? &obj__post_object
               : http_param(req, "container") ? &obj__post_container
                                              : &obj__post_account;
    if (http_param(req, "object"))
        return &obj__object_put;
    return NULL;
}

bool
obj__path_ok(struct http_req *req)
{
    if (obj__utf8_valid(req->path))
        return true;
    obj__fail_text(req, 412, "Invalid UTF8 or contains NULL");
    return false;
}

static int
stream_begin(struct http_req *req)
{
    const struct http_stream_ops *ops = stream_target(req);
    /* the bulk middleware and FormPost come before the proxy's check: their
     * items are checked as the requests they make (formpost.c checks a
     * plain POST) */
    if ((!ops || ops == &obj__object_put) && !obj__path_ok(req))
        return -1;
    if (ops)
        return ops->begin(req);
    if (!http_param(req, "container") && req->method != HTTP_POST) {
        /* accounts are not created or deleted through the API */
        http_header(req, "Allow", "GET, HEAD, POST");
        return req_fail(req, 405, "The method is not allowed for this resource.");
    }
    return 0;
}

static int
stream_data(struct http_req *req, const char *p, size_t n)
{
    const struct http_stream_ops *ops = stream_target(req);
    return ops ? ops->data(req, p, n) : 0;
}

static int
stream_end(struct http_req *req, bool complete)
{
    const struct http_stream_ops *ops = stream_target(req);
    if (ops)
        return ops->end(req, complete);
    if (!complete)
        return 0;
    return http_param(req, "container") ? api_container_put(req) : obj__account_post(req);
}

static const struct http_stream_ops stream_ops = {stream_begin, stream_data, stream_end};

/* ---- routes ---- */

/* the handlers of the routes that do not stream, behind obj__path_ok() */
#define PATH_CHECKED(fn)                                                      \
    static int fn##_checked(struct http_req *req)                             \
    {                                                                         \
        return obj__path_ok(req) ? fn(req) : -1;                              \
    }
PATH_CHECKED(api_account_get)
PATH_CHECKED(api_account_head)
PATH_CHECKED(api_container_get)
PATH_CHECKED(api_container_head)
PATH_CHECKED(api_container_delete)
PATH_CHECKED(obj__object_get)
PATH_CHECKED(obj__object_delete)
PATH_CHECKED(obj__object_copy)
PATH_CHECKED(obj__options)

#define A ROUTE_AUTH
/* a token is optional where ACLs and temp URLs may let a caller in */
#define O ROUTE_AUTH_OPT
/* streamed (see above); slow, as they fsync */
#define S (O | ROUTE_STREAM | ROUTE_SLOW)
#define ACC "/v1/{account}"
#define CONT ACC "/{container}"
#define OBJ CONT "/{object+}"

static const struct http_route routes[] = {
    {HTTP_GET, "/info", api_info, 0, NULL},
    {HTTP_OPTIONS, "/info", obj__options, 0, NULL},
    {HTTP_GET, ACC, api_account_get_checked, A, NULL},
    {HTTP_HEAD, ACC, api_account_head_checked, A, NULL},
    /* streamed (stream_target): bulk requests on any path, FormPosts
     * (no token: the signature is the credential), object PUTs */
    {HTTP_POST, ACC, NULL, S, &stream_ops},
    {HTTP_PUT, ACC, NULL, S, &stream_ops},
    {HTTP_DELETE, ACC, NULL, S, &stream_ops},
    {HTTP_OPTIONS, ACC, obj__options_checked, 0, NULL},
    {HTTP_PUT, CONT, NULL, S, &stream_ops},
    {HTTP_GET, CONT, api_container_get_checked, O, NULL},
    {HTTP_HEAD, CONT, api_container_head_checked, O, NULL},
    {HTTP_POST, CONT, NULL, S, &stream_ops},
    {HTTP_DELETE, CONT, api_container_delete_checked, A, NULL},
    {HTTP_OPTIONS, CONT, obj__options_checked, 0, NULL},
    {HTTP_PUT, OBJ, NULL, S, &stream_ops},
    {HTTP_GET, OBJ, obj__object_get_checked, O, NULL},
    {HTTP_HEAD, OBJ, obj__object_get_checked, O, NULL},
    {HTTP_POST, OBJ, NULL, S, &stream_ops},
    /* slow: ?multipart-manifest=delete removes up to thousands of segments */
    {HTTP_DELETE, OBJ, obj__object_delete_checked, O | ROUTE_SLOW, NULL},
    {HTTP_OPTIONS, OBJ, obj__options_checked, 0, NULL},
    /* the core has no COPY bit: every other method lands here, and the
     * handler answers 405 to all but COPY; slow, as it links and fsyncs */
    {HTTP_OTHER, OBJ, obj__object_copy_checked, O | ROUTE_SLOW, NULL},
};

static const struct http_service service = {
    .prefix = "/object-store",
    .name = "object",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .render_fault = render_fault,
    .after = after,
};

int
obj_service_init(const char *data_dir)
{
    int rc = obj_store_init(data_dir);
    if (rc < 0) {
        log_error(NULL, "object: cannot use %s/objects: %s", data_dir, strerror(-rc));
        return -1;
    }
    char root[4096];
    if (snprintf(root, sizeof(root), "%s/objects", data_dir) < (int)sizeof(root))
        obj__sweep(root);
    http_register(&service);
    return obj_expirer_start();
}
