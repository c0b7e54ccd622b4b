/* jv.h - typed getters over jansson for request validation.
 *
 * Each getter reads one member of a JSON object and, when it has the wrong
 * type (or is missing and required), records a 400 on the request in the
 * wording of a JSON-schema validator ("Invalid input for field 'name': 5 is
 * not of type 'string'") and returns -1. Absent optional members leave the
 * output untouched and return 0, so callers preset defaults. */
#ifndef CORE_JV_H
#define CORE_JV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct http_req;

/* Object member `key` of `body`; 400 if missing or not an object. */
json_t *jv_object(struct http_req *req, json_t *body, const char *key);

/* *out = string (owned by the JSON value). flags: JV_REQUIRED, JV_NULLABLE
 * (JSON null allowed, *out = NULL). maxlen 0 = no limit; minlen as given. */
#define JV_REQUIRED 0x1
#define JV_NULLABLE 0x2
#define JV_NONEMPTY 0x4
int jv_str(struct http_req *req, json_t *obj, const char *key, unsigned flags,
           size_t maxlen, const char **out);
/* *out = 0/1; untouched when absent. */
int jv_bool(struct http_req *req, json_t *obj, const char *key, unsigned flags, int *out);
/* *out = array (borrowed); untouched when absent. */
int jv_array(struct http_req *req, json_t *obj, const char *key, unsigned flags,
             json_t **out);
/* *out = object (borrowed); untouched when absent. */
int jv_obj(struct http_req *req, json_t *obj, const char *key, unsigned flags,
           json_t **out);

/* Short text of a JSON value for messages ("5", "None", "'abc'"), in the
 * request arena. */
const char *jv_repr(struct http_req *req, json_t *v);

/* Fails the request with the schema wording for `key` and returns -1. */
int jv_invalid(struct http_req *req, const char *key, json_t *v, const char *what);

#endif
