/* pl_int.h - shared between the placement service's files only. */
#ifndef PLACEMENT_PL_INT_H
#define PLACEMENT_PL_INT_H

#include <stdbool.h>

#include "core/http.h"
#include "pl_db.h"

/* Placement's integer ceiling (its schemas' maximum, a signed 32-bit). */
#define PLC_MAXINT 2147483647LL
#define PLC_MAX_MINOR 39

/* The request's microversion minor (1.x) from OpenStack-API-Version, or
 * -1 with 406 (or 400 for a malformed header) recorded. */
int plc__mv(struct http_req *req);
/* Checks the microversion and the policy action; the minor or -1. */
int plc__start(struct http_req *req, const char *action);
/* plc__start() for a route that exists from 1.since on: below that, 404
 * as for an unknown path. */
int plc__start_at(struct http_req *req, const char *action, int since);
/* Records a failure with Placement's error code (NULL: undefined); -1. */
int plc__fail(struct http_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The request body as a JSON value of any type (freed with the request),
 * or NULL with 400 recorded. */
json_t *plc__body(struct http_req *req);
/* The database or NULL with 503 recorded. */
struct db *plc__db(struct http_req *req);
/* 500 for a DB_* code; -1. */
int plc__dbfail(struct http_req *req);
/* true for "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (any case) or 32 hex. */
bool plc__is_uuid(const char *s);
/* Sets the Location header to the absolute URL of path (below
 * /placement), as webob makes Placement's relative locations absolute. */
void plc__location(struct http_req *req, const char *path);
/* Path prefix of links: "/placement". */
#define PLC_PREFIX "/placement"
/* The provider of the {uuid} path parameter, or -1 with 404 recorded. */
int plc__rp(struct http_req *req, struct plc_rp *rp);
/* Schema failure in Placement's wording; -1. */
int plc__schema(struct http_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An integer member key of o within [min, max], into *out (untouched when
 * absent and not required); -1 with 400 recorded otherwise. */
int plc__int(struct http_req *req, json_t *o, const char *key, int64_t min, int64_t max,
             bool required, int64_t *out);
/* Query parameters must be among allowed (NULL-terminated); 400 else. */
int plc__query_only(struct http_req *req, const char *const *allowed);

/* pl_std.c: the standard resource classes and traits */
extern const char *const plc_std_rcs[];
extern const char *const plc_std_traits[];
bool plc__std_rc(const char *name);
bool plc__std_trait(const char *name);
/* true for ^CUSTOM_[A-Z0-9_]+$ of at most 255 characters */
bool plc__custom_name(const char *name);
/* 0 when rc is a standard or existing custom class; -ENOENT, DB_*. */
int plc__rc_exists(struct http_req *req, const char *rc);

/* views */
json_t *plc__rp_view(struct http_req *req, const struct plc_rp *rp, int mv);
json_t *plc__inv_view(const struct plc_inv *inv);

/* api_rp.c */
int plc__rp_list(struct http_req *req);
int plc__rp_create(struct http_req *req);
int plc__rp_show(struct http_req *req);
int plc__rp_update(struct http_req *req);
int plc__rp_delete(struct http_req *req);
int plc__rp_traits_get(struct http_req *req);
int plc__rp_traits_put(struct http_req *req);
int plc__rp_traits_delete(struct http_req *req);
int plc__rp_aggs_get(struct http_req *req);
int plc__rp_aggs_put(struct http_req *req);
/* "VCPU:1,MEMORY_MB:512" into res (arena), 400 recorded on error. */
int plc__parse_resources(struct http_req *req, const char *s, struct plc_item **res, int *n);
/* "A,!B" into required/forbidden lists; forbidden only when allowed. */
int plc__parse_traits(struct http_req *req, const char *s, bool forbid_ok,
                      const char ***req_out, int *nreq, const char ***forbid, int *nforbid);
/* "in:a,b" or "a" into a list of aggregate uuids. */
int plc__parse_member_of(struct http_req *req, const char *s, const char ***out, int *n);

/* *ok = whether provider rp can hold every item of res (n) now: an
 * inventory of each class, the units and free capacity. 0 or DB_*. */
int plc__fits(struct http_req *req, const char *rp, const struct plc_item *res, int n,
              bool *ok);

/* api_inv.c */
int plc__inv_list(struct http_req *req);
int plc__inv_put_all(struct http_req *req);
int plc__inv_create(struct http_req *req);
int plc__inv_delete_all(struct http_req *req);
int plc__inv_get(struct http_req *req);
int plc__inv_put(struct http_req *req);
int plc__inv_delete(struct http_req *req);
int plc__usages_rp(struct http_req *req);
int plc__usages(struct http_req *req);

/* api_classes.c */
int plc__rc_list(struct http_req *req);
int plc__rc_create(struct http_req *req);
int plc__rc_show(struct http_req *req);
int plc__rc_put(struct http_req *req);
int plc__rc_delete(struct http_req *req);
int plc__trait_list(struct http_req *req);
int plc__trait_show(struct http_req *req);
int plc__trait_put(struct http_req *req);
int plc__trait_delete(struct http_req *req);

/* api_alloc.c */
int plc__alloc_get(struct http_req *req);
int plc__alloc_put(struct http_req *req);
int plc__alloc_delete(struct http_req *req);
int plc__alloc_post(struct http_req *req);
int plc__rp_allocs(struct http_req *req);
int plc__candidates(struct http_req *req);

#endif
