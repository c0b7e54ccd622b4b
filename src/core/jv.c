/* jv.c - see jv.h. Messages follow Keystone's schema validator so clients
 * that show them to people show the same text. */
#include "jv.h"
#include "arena.h"
#include "http.h"

#include <string.h>

const char *
jv_repr(struct http_req *req, json_t *v)
{
    if (!v || json_is_null(v))
        return "None";
    if (json_is_true(v))
        return "True";
    if (json_is_false(v))
        return "False";
    if (json_is_string(v))
        return arena_printf(req->arena, "'%.200s'", json_string_value(v));
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *r = arena_printf(req->arena, "%.200s", s ? s : "?");
    free(s);
    return r;
}

int
jv_invalid(struct http_req *req, const char *key, json_t *v, const char *what)
{
    return req_fail(req, 400, "Invalid input for field '%s': %s %s", key, jv_repr(req, v),
                    what);
}

static int
missing(struct http_req *req, const char *key)
{
    return req_fail(req, 400, "'%s' is a required property", key);
}

json_t *
jv_object(struct http_req *req, json_t *body, const char *key)
{
    json_t *v = body ? json_object_get(body, key) : NULL;
    if (!v) {
        missing(req, key);
        return NULL;
    }
    if (!json_is_object(v)) {
        jv_invalid(req, key, v, "is not of type 'object'");
        return NULL;
    }
    return v;
}

int
jv_str(struct http_req *req, json_t *obj, const char *key, unsigned flags, size_t maxlen,
       const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return (flags & JV_REQUIRED) ? missing(req, key) : 0;
    if (json_is_null(v) && (flags & JV_NULLABLE)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return jv_invalid(req, key, v, "is not of type 'string'");
    const char *s = json_string_value(v);
    if ((flags & JV_NONEMPTY) && !*s)
        return jv_invalid(req, key, v, "is too short");
    if (maxlen && strlen(s) > maxlen)
        return jv_invalid(req, key, v, "is too long");
    *out = s;
    return 0;
}

int
jv_bool(struct http_req *req, json_t *obj, const char *key, unsigned flags, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return (flags & JV_REQUIRED) ? missing(req, key) : 0;
    if (!json_is_boolean(v))
        return jv_invalid(req, key, v, "is not of type 'boolean'");
    *out = json_is_true(v);
    return 0;
}

int
jv_array(struct http_req *req, json_t *obj, const char *key, unsigned flags, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return (flags & JV_REQUIRED) ? missing(req, key) : 0;
    if (json_is_null(v) && (flags & JV_NULLABLE)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_array(v))
        return jv_invalid(req, key, v, "is not of type 'array'");
    *out = v;
    return 0;
}

int
jv_obj(struct http_req *req, json_t *obj, const char *key, unsigned flags, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return (flags & JV_REQUIRED) ? missing(req, key) : 0;
    if (json_is_null(v) && (flags & JV_NULLABLE)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_object(v))
        return jv_invalid(req, key, v, "is not of type 'object'");
    *out = v;
    return 0;
}
