/* network_int.h - what the Neutron API files share: the fault, policy and
 * request helpers of api.c, the generic listing of net_list.c and the
 * handlers of each resource file. */
#ifndef NETWORK_NETWORK_INT_H
#define NETWORK_NETWORK_INT_H

#include "core/db.h"
#include "core/http.h"

#include <jansson.h>
#include <stdbool.h>

/* Records a Neutron fault: status, Neutron's exception name (type) and
 * message; rendered as {"NeutronError": {"type", "message", "detail"}}.
 * Returns -1. */
int net__fail(struct http_req *req, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The request's database or a 503 recorded (NULL). */
struct db *net__db(struct http_req *req);
/* A database failure as a 500; returns -1. */
int net__db_fail(struct http_req *req, int rc);
/* Whether the caller has the admin role. */
bool net__admin(struct http_req *req);
/* The body's object member key ({"network": {...}}), or a 400 recorded. */
json_t *net__body(struct http_req *req, const char *key);
/* "http://host/network/v2.0", as the client reached it. */
const char *net__url(struct http_req *req);
/* The project a create acts for: the body's project_id / tenant_id
 * (admin only when it is not the caller's own) or the caller's; NULL with
 * the failure recorded. */
const char *net__owner(struct http_req *req, json_t *obj);
/* Checks that obj's members are all in allowed (NULL-terminated); a 400
 * in Neutron's words otherwise ("Unrecognized attribute(s) 'x'"). */
int net__only(struct http_req *req, json_t *obj, const char *const *allowed);
/* A boolean member (absent: dflt); 400 when it is not one. Neutron takes
 * "true"/"false" strings and 0/1 too. */
int net__bool(struct http_req *req, json_t *obj, const char *key, bool dflt, bool *out);
/* A string member of at most max characters (absent: dflt, may be NULL). */
int net__str(struct http_req *req, json_t *obj, const char *key, size_t max, const char *dflt,
             const char **out);
/* Now as Neutron's timestamps ("2026-11-22T18:00:00Z"). */
const char *net__time(struct http_req *req, int64_t us);

/* ---- listing (net_list.c) ----
 * One resource's listing as Neutron does it: filters on any listed
 * attribute (repeated keys: any of them), fields=, sort_key/sort_dir,
 * limit/marker with <collection>_links. The rows come as JSON objects
 * already rendered (with every attribute); filtering, sorting and paging
 * happen on them, which keeps every resource's SQL simple. */
int net__list_reply(struct http_req *req, const char *collection, json_t *items);
/* fields= applied to one rendered object (show). */
json_t *net__fields(struct http_req *req, json_t *obj);

/* ---- networks (api_networks.c) ---- */
int net__networks_list(struct http_req *req);
int net__network_show(struct http_req *req);
int net__network_create(struct http_req *req);
int net__network_update(struct http_req *req);
int net__network_delete(struct http_req *req);

#endif
