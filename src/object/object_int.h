/* object_int.h - shared between the object service's API files only. */
#ifndef OBJECT_OBJECT_INT_H
#define OBJECT_OBJECT_INT_H

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

/* The account of the request after keystoneauth's check: the token's
 * project owns "AUTH_<project_id>" when it holds an operator role (admin
 * or member). NULL with 403 recorded otherwise. */
const char *obj__account(struct http_req *req);
/* The request's container (path parameter) looked up in its account;
 * -1 with 404 (or 503) recorded when missing. */
int obj__container(struct http_req *req, const char *account, struct obj_container *c);
/* The request's X-<kind>-Meta-* headers (kind "Object", "Container",
 * "Account") as a JSON object text of lower-case suffix -> value; with
 * removals, X-Remove-<kind>-Meta-* give "" values. NULL with 400
 * recorded when they break Swift's limits. */
const char *obj__meta_in(struct http_req *req, const char *kind, bool removals);
/* Adds X-<kind>-Meta-<key> response headers from a metadata JSON text. */
void obj__meta_out(struct http_req *req, const char *kind, const char *meta);
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

/* api_object.c: object routes. */
int obj__object_get(struct http_req *req);
int obj__object_head(struct http_req *req);
int obj__object_delete(struct http_req *req);
int obj__object_post(struct http_req *req);
extern const struct http_stream_ops obj__object_put;

#endif
