/* api_flavors.c - flavors: list (basic and detail, with Nova's filters,
 * sorting and paging), show, create, update (description, 2.55) and
 * delete, shaped per microversion as nova/api/openstack/compute/views/
 * flavors.py shapes them. Extra specs and access are in
 * api_flavor_extra.c. */
#include "compute_int.h"
#include "cp_db.h"
#include "core/arena.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_INT 2147483647

static json_t *
links(struct http_req *req, const char *id)
{
    return json_pack("[{s:s,s:s},{s:s,s:s}]", "rel", "self", "href",
                     arena_printf(req->arena, "%s/flavors/%s", cmp__url(req), id), "rel",
                     "bookmark", "href",
                     arena_printf(req->arena, "%s/flavors/%s", cmp__bookmark_url(req), id));
}

/* One flavor as Nova shows it: the short form of a plain listing, or the
 * full one of detail/show/create/update. NULL when the extra specs (2.61)
 * cannot be read (recorded). */
static json_t *
view(struct http_req *req, const struct cmp_flavor *f, bool detail)
{
    json_t *o = json_pack("{s:s,s:s}", "id", f->id, "name", f->name);
    if (detail) {
        json_object_set_new(o, "ram", json_integer(f->ram));
        json_object_set_new(o, "disk", json_integer(f->disk));
        json_object_set_new(o, "swap", f->swap || cmp__mv(req, 2, 75) ? json_integer(f->swap)
                                                                      : json_string(""));
        json_object_set_new(o, "OS-FLV-EXT-DATA:ephemeral", json_integer(f->ephemeral));
        json_object_set_new(o, "OS-FLV-DISABLED:disabled", json_false());
        json_object_set_new(o, "vcpus", json_integer(f->vcpus));
        json_object_set_new(o, "os-flavor-access:is_public", json_boolean(f->is_public));
        json_object_set_new(o, "rxtx_factor", json_real(f->rxtx_factor));
    }
    json_object_set_new(o, "links", links(req, f->id));
    if (cmp__mv(req, 2, 55))
        json_object_set_new(o, "description",
                            f->description ? json_string(f->description) : json_null());
    if (detail && cmp__mv(req, 2, 61)) {
        json_t *specs = cmp__specs_json(req, f->id);
        if (!specs) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "extra_specs", specs);
    }
    return o;
}

int
cmp__flavor_find(struct http_req *req, struct cmp_flavor *f)
{
    const char *id = http_param(req, "flavor_id");
    int rc = cmp__flavor_get(req, id, f);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Flavor %s could not be found.", id);
    return rc;
}

int
cmp__flavor_get(struct http_req *req, const char *id, struct cmp_flavor *f)
{
    if (!cmp__db(req))
        return -1;
    int rc = cmp_db_flavor_get(req->db, req->arena, id, f);
    if (rc == 0 && !f->is_public && !cmp__admin(req)) {
        rc = cmp_db_access_has(req->db, req->arena, id, req->auth.project_id);
        rc = rc < 0 ? rc : rc ? 0 : -ENOENT;
    }
    if (rc == -ENOENT)
        return -ENOENT;
    return rc ? cmp__db_fail(req, rc) : 0;
}

/* oslo's strict bool_from_string; -1 for anything else */
static int
strict_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "true", "on", "y", "yes"};
    static const char *const no[] = {"0", "f", "false", "off", "n", "no"};
    for (int i = 0; i < 6; i++) {
        if (!strcasecmp(s, yes[i]))
            return 1;
        if (!strcasecmp(s, no[i]))
            return 0;
    }
    return -1;
}

/* A non-negative integer query filter (minRam, minDisk) into *out (-1 when
 * absent); 0, or Nova's 400 and -1. */
static int
int_filter(struct http_req *req, const char *name, int64_t *out)
{
    const char *s = http_query(req, name);
    char *end;
    *out = -1;
    if (!s)
        return 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 0)
        return req_fail(req, 400, "Invalid %s filter [%s]", name, s);
    *out = v;
    return 0;
}

static int
list(struct http_req *req, bool detail)
{
    struct cmp_flavor_filter flt = {.is_public = 1, .project_id = req->auth.project_id};
    int64_t limit;
    const char *marker = http_query(req, "marker");
    const char *pub = http_query(req, "is_public");
    const char *dir = http_query(req, "sort_dir");
    if (int_filter(req, "minRam", &flt.min_ram) < 0 ||
        int_filter(req, "minDisk", &flt.min_disk) < 0 || cmp__limit(req, &limit) < 0)
        return -1;
    /* only an admin chooses; everyone else sees public ones and their
     * project's */
    if (cmp__admin(req) && pub) {
        flt.is_public = !strcasecmp(pub, "none") ? -1 : strict_bool(pub);
        if (flt.is_public == -1 && strcasecmp(pub, "none"))
            return req_fail(req, 400, "Invalid is_public filter [%s]", pub);
    }
    flt.sort_key = http_query(req, "sort_key");
    if (flt.sort_key && !cmp_db_flavor_sort_col(flt.sort_key))
        return req_fail(req, 400, "Invalid sort_key %s", flt.sort_key);
    if (dir && strcmp(dir, "asc") && strcmp(dir, "desc"))
        return req_fail(req, 400, "Invalid sort_dir %s", dir);
    flt.desc = dir && !strcmp(dir, "desc");
    if (!cmp__db(req))
        return -1;
    struct cmp_flavor *fl;
    int n, rc = cmp_db_flavor_list(req->db, req->arena, &flt, &fl, &n);
    if (rc)
        return cmp__db_fail(req, rc);
    int start = 0;
    if (marker) {
        while (start < n && strcmp(fl[start].id, marker))
            start++;
        if (start == n)
            return req_fail(req, 400, "marker [%s] not found", marker);
        start++;
    }
    json_t *arr = json_array();
    int shown = 0;
    for (int i = start; i < n && shown < limit; i++, shown++) {
        json_t *v = view(req, &fl[i], detail);
        if (!v) {
            json_decref(arr);
            return -1;
        }
        json_array_append_new(arr, v);
    }
    json_t *body = json_pack("{s:o}", "flavors", arr);
    /* Nova links the next page whenever a page came out full */
    if (shown && shown == limit)
        json_object_set_new(body, "flavors_links", json_pack(
            "[{s:s,s:s}]", "rel", "next", "href",
            arena_printf(req->arena, "%s/flavors%s?limit=%lld&marker=%s", cmp__url(req),
                         detail ? "/detail" : "", (long long)limit, fl[start + shown - 1].id)));
    return http_reply_json(req, 200, body);
}

int
cmp__flavors_list(struct http_req *req)
{
    return list(req, false);
}

int
cmp__flavors_detail(struct http_req *req)
{
    return list(req, true);
}

static int
reply_flavor(struct http_req *req, const struct cmp_flavor *f)
{
    json_t *v = view(req, f, true);
    return v ? http_reply_json(req, 200, json_pack("{s:o}", "flavor", v)) : -1;
}

int
cmp__flavor_show(struct http_req *req)
{
    struct cmp_flavor f;
    return cmp__flavor_find(req, &f) < 0 ? -1 : reply_flavor(req, &f);
}

/* An integer member of the create body (a JSON integer or a string of
 * digits, as Nova's flavor_param_* types) within [min, MAX_INT]; absent
 * leaves *out. 0, or Nova's 400 and -1. */
static int
int_param(struct http_req *req, json_t *o, const char *key, int64_t min, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    int64_t x;
    if (!v)
        return 0;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || strspn(s, "0123456789") != strlen(s))
            return cmp__invalid(req, key, v, arena_printf(req->arena, "'%s' does not match "
                                                          "'^[0-9]*$'", s));
        x = strtoll(s, &end, 10);
    } else {
        return cmp__invalid(req, key, v, arena_printf(req->arena, "%s is not of type "
                                                      "'integer', 'string'", cmp__repr(req, v)));
    }
    if (x < min)
        return cmp__invalid(req, key, v, arena_printf(req->arena, "%lld is less than the "
                                                      "minimum of %lld", (long long)x,
                                                      (long long)min));
    if (x > MAX_INT)
        return cmp__invalid(req, key, v, arena_printf(req->arena, "%lld is greater than the "
                                                      "maximum of %d", (long long)x, MAX_INT));
    *out = x;
    return 0;
}

/* Printable text that neither starts nor ends with blanks (Nova's
 * "name" format). */
static bool
good_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A description (2.55): text up to 65535 characters without control
 * characters but newlines and tabs, or null. 0, or a 400 and -1. */
static int
description(struct http_req *req, json_t *v, const char **out)
{
    if (json_is_null(v)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return cmp__invalid(req, "description", v, "not of type 'string', 'null'");
    const char *s = json_string_value(v);
    if (strlen(s) > 65535)
        return cmp__invalid(req, "description", v, "is too long");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') || *p == 0x7f)
            return cmp__invalid(req, "description", v, "contains invalid characters");
    *out = s;
    return 0;
}

static const char *const create_keys[] = {
    "name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor",
    "os-flavor-access:is_public", "description", NULL,
};

/* Reads and validates the create body into f (strings borrowed from the
 * body). 0, or Nova's 400 and -1. */
static int
parse_create(struct http_req *req, json_t *body, struct cmp_flavor *f, char *uuid_buf)
{
    json_t *o = json_object_get(body, "flavor");
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return cmp__invalid(req, "flavor", o, o ? "is not of type 'object'"
                                                : "'flavor' is a required property");
    json_object_foreach(o, k, v) {
        int i = 0;
        while (create_keys[i] && strcmp(create_keys[i], k))
            i++;
        if (!create_keys[i] || (!strcmp(k, "description") && !cmp__mv(req, 2, 55)))
            return req_fail(req, 400, "Invalid input for field/attribute flavor. Value: %s. "
                            "Additional properties are not allowed ('%s' was unexpected)",
                            cmp__repr(req, o), k);
    }
    static const char *const required[] = {"name", "ram", "vcpus", "disk"};
    for (int i = 0; i < 4; i++)
        if (!json_object_get(o, required[i]))
            return cmp__invalid(req, "flavor", o, arena_printf(req->arena, "'%s' is a "
                                                               "required property",
                                                               required[i]));
    v = json_object_get(o, "name");
    if (!json_is_string(v) || !good_name(json_string_value(v)) ||
        strlen(json_string_value(v)) > 255)
        return cmp__invalid(req, "name", v, "An invalid 'name' value was provided. The name "
                            "must be: printable characters. Can not start or end with "
                            "whitespace.");
    f->name = json_string_value(v);
    f->rxtx_factor = 1.0;
    f->is_public = true;
    if (int_param(req, o, "ram", 1, &f->ram) < 0 || int_param(req, o, "vcpus", 1, &f->vcpus) < 0 ||
        int_param(req, o, "disk", 0, &f->disk) < 0 ||
        int_param(req, o, "OS-FLV-EXT-DATA:ephemeral", 0, &f->ephemeral) < 0 ||
        int_param(req, o, "swap", 0, &f->swap) < 0)
        return -1;
    if ((v = json_object_get(o, "rxtx_factor"))) {
        double x = json_is_number(v) ? json_number_value(v)
                 : json_is_string(v) ? strtod(json_string_value(v), NULL) : -1;
        if (!(x > 0) || x > 3.40282e+38)
            return cmp__invalid(req, "rxtx_factor", v, "is not a valid rxtx_factor");
        f->rxtx_factor = x;
    }
    if ((v = json_object_get(o, "os-flavor-access:is_public"))) {
        if (!json_is_boolean(v))
            return cmp__invalid(req, "os-flavor-access:is_public", v,
                                arena_printf(req->arena, "%s is not of type 'boolean'",
                                             cmp__repr(req, v)));
        f->is_public = json_is_true(v);
    }
    if ((v = json_object_get(o, "description")) && description(req, v, &f->description) < 0)
        return -1;
    v = json_object_get(o, "id");
    if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "auto"))) {
        /* Nova's generated ids are dashed UUIDs */
        char hex[33];
        uuid_hex(hex);
        snprintf(uuid_buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                 hex + 20);
        f->id = uuid_buf;
        return 0;
    }
    if (json_is_integer(v))
        f->id = arena_printf(req->arena, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        f->id = json_string_value(v);
    else
        return cmp__invalid(req, "id", v, "is not of type 'string', 'number', 'null'");
    size_t n = strlen(f->id);
    if (!n || n > 255 || f->id[0] == ' ' || f->id[n - 1] == ' ' ||
        strspn(f->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789. _-") != n)
        return cmp__invalid(req, "id", v, arena_printf(req->arena, "%s does not match "
                                                       "'^(?! )[a-zA-Z0-9. _-]+(?<! )$'",
                                                       cmp__repr(req, v)));
    return 0;
}

int
cmp__flavor_create(struct http_req *req)
{
    struct cmp_flavor f = {0};
    char uuid_buf[37];
    bool dup_name;
    json_t *body;
    if (cmp__policy(req, "os_compute_api:os-flavor-manage:create", NULL, NULL) < 0 ||
        !(body = cmp__body(req)) || parse_create(req, body, &f, uuid_buf) < 0 || !cmp__db(req))
        return -1;
    f.created_us = now_us();
    int rc = cmp_db_flavor_create(req->db, &f, &dup_name);
    if (rc == -EEXIST)
        return dup_name ? req_fail(req, 409, "Flavor with name %s already exists.", f.name)
                        : req_fail(req, 409, "Flavor with ID %s already exists.", f.id);
    if (rc)
        return cmp__db_fail(req, rc);
    return reply_flavor(req, &f);
}

int
cmp__flavor_update(struct http_req *req)
{
    struct cmp_flavor f;
    json_t *body, *o, *v;
    const char *desc = NULL;
    /* below 2.55 Nova has no such method */
    if (!cmp__mv(req, 2, 55))
        return req_fail(req, 404, "The resource could not be found.");
    if (cmp__policy(req, "os_compute_api:os-flavor-manage:update", NULL, NULL) < 0 ||
        !(body = cmp__body(req)))
        return -1;
    o = json_object_get(body, "flavor");
    if (!json_is_object(o))
        return cmp__invalid(req, "flavor", o, "'flavor' is a required property");
    if (!(v = json_object_get(o, "description")))
        return cmp__invalid(req, "flavor", o, "'description' is a required property");
    if (json_object_size(o) != 1)
        return req_fail(req, 400, "Invalid input for field/attribute flavor. Value: %s. "
                        "Additional properties are not allowed", cmp__repr(req, o));
    if (description(req, v, &desc) < 0 || cmp__flavor_find(req, &f) < 0)
        return -1;
    int rc = cmp_db_flavor_set_description(req->db, f.id, desc);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Flavor %s could not be found.", f.id);
    if (rc)
        return cmp__db_fail(req, rc);
    f.description = desc;
    return reply_flavor(req, &f);
}

int
cmp__flavor_delete(struct http_req *req)
{
    const char *id = http_param(req, "flavor_id");
    if (cmp__policy(req, "os_compute_api:os-flavor-manage:delete", NULL, NULL) < 0 ||
        !cmp__db(req))
        return -1;
    int rc = cmp_db_flavor_delete(req->db, id);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Flavor %s could not be found.", id);
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 202);
}
