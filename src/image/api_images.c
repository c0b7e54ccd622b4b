/* api_images.c - image records: create, show, JSON-patch update, delete,
 * tags and (de)activation. Validation follows Glance's image schema and
 * its read-only/reserved attribute rules, in Glance's order (the request
 * body is checked before the image is looked up); the messages are
 * Glance's. Listing is in api_list.c. */
#include "image_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/jv.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

static const char *const disk_formats[] = {"ami", "ari", "aki", "vhd", "vhdx", "vmdk",
                                           "raw", "qcow2", "vdi", "iso", "ploop", NULL};
static const char *const container_formats[] = {"bare", "ovf", "aki", "ari", "ami",
                                                "ova", "docker", "compressed", NULL};
static const char *const visibilities[] = {"private", "shared", "community", "public",
                                           NULL};
/* attributes the server sets: a client naming them gets 403 */
static const char *const read_only[] = {"status", "checksum", "os_hash_algo",
                                        "os_hash_value", "size", "virtual_size",
                                        "created_at", "updated_at", "direct_url", "self",
                                        "file", "schema", "stores", NULL};
static const char *const reserved[] = {"location", "locations", "deleted", "deleted_at",
                                       NULL};
/* Glance keeps properties under this prefix for itself */
#define RESERVED_NS "os_glance"

static bool
reserved_name(const char *k)
{
    return img__in_list(reserved, k) || !strncmp(k, RESERVED_NS, strlen(RESERVED_NS));
}

static int
schema_fail(struct http_req *req, const char *what)
{
    return req_fail(req, 400, "Provided object does not match schema 'image': %s", what);
}

/* "'x' is not one of ['a', 'b']" as jsonschema words it */
static int
enum_fail(struct http_req *req, json_t *v, const char *const *l)
{
    char list[512];
    size_t n = 0;
    list[0] = '\0';
    for (; *l && n < sizeof(list) - 40; l++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s'%s'", n ? ", " : "", *l);
    return schema_fail(req, arena_printf(req->arena, "%s is not one of [%s]",
                                         jv_repr(req, v), list));
}

/* Sorted, de-duplicated tags as JSON array text; NULL with 400/413
 * recorded when a tag breaks the schema or the quota. */
static const char *
tags_text(struct http_req *req, json_t *arr)
{
    json_t *out = json_array();
    const char *r = NULL;
    size_t i;
    json_t *v;
    if (!json_is_array(arr)) {
        schema_fail(req, arena_printf(req->arena, "%s is not of type 'array'",
                                      jv_repr(req, arr)));
        goto out;
    }
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || strlen(json_string_value(v)) > 255) {
            schema_fail(req, arena_printf(req->arena, "%s is not a valid tag",
                                          jv_repr(req, v)));
            goto out;
        }
        size_t at = 0, n = json_array_size(out);
        bool dup = false;
        while (at < n && !dup) {
            int c = strcmp(json_string_value(json_array_get(out, at)), json_string_value(v));
            if (c >= 0) {
                dup = c == 0;
                break;
            }
            at++;
        }
        if (!dup)
            json_array_insert(out, at, v);
    }
    if (json_array_size(out) > IMG_MAX_TAGS) {
        req_fail(req, 413, "The limit has been exceeded on the number of allowed image tags. "
                           "Attempted: %zu, Maximum: %d", json_array_size(out), IMG_MAX_TAGS);
        goto out;
    }
    char *t = json_dumps(out, JSON_COMPACT);
    r = arena_strdup(req->arena, t ? t : "[]");
    free(t);
out:
    json_decref(out);
    return r;
}

/* Checks v against the image schema's rule for base attribute key (the
 * request-parsing step, before any image is looked up). 1 when key is not
 * a base attribute, 0 when v fits, -1 with 400 recorded. */
static int
check_attr(struct http_req *req, const char *key, json_t *v)
{
    if (!strcmp(key, "name") || !strcmp(key, "owner")) {
        if (!json_is_null(v) && (!json_is_string(v) || strlen(json_string_value(v)) > 255))
            return schema_fail(req, arena_printf(req->arena, "%s is not of type 'null', "
                                                 "'string'", jv_repr(req, v)));
        return 0;
    }
    if (!strcmp(key, "visibility"))
        return json_is_string(v) && img__in_list(visibilities, json_string_value(v))
                   ? 0 : enum_fail(req, v, visibilities);
    if (!strcmp(key, "disk_format") || !strcmp(key, "container_format")) {
        const char *const *l = key[0] == 'd' ? disk_formats : container_formats;
        if (!json_is_null(v) && (!json_is_string(v) || !img__in_list(l, json_string_value(v))))
            return enum_fail(req, v, l);
        return 0;
    }
    if (!strcmp(key, "min_disk") || !strcmp(key, "min_ram")) {
        if (!json_is_integer(v))
            return schema_fail(req, arena_printf(req->arena, "%s is not of type 'integer'",
                                                 jv_repr(req, v)));
        if (json_integer_value(v) < 0)
            return schema_fail(req, arena_printf(req->arena, "%s is less than the minimum "
                                                 "of 0", jv_repr(req, v)));
        return 0;
    }
    if (!strcmp(key, "protected") || !strcmp(key, "os_hidden"))
        return json_is_boolean(v) ? 0 : schema_fail(req, arena_printf(req->arena,
                                                    "%s is not of type 'boolean'",
                                                    jv_repr(req, v)));
    if (!strcmp(key, "tags")) {
        if (!json_is_array(v))
            return schema_fail(req, arena_printf(req->arena, "%s is not of type 'array'",
                                                 jv_repr(req, v)));
        return 0;
    }
    /* refused as reserved after this check ("locations" is an array in
     * Glance's schema) */
    if (!strcmp(key, "id") || img__in_list(reserved, key))
        return 0;
    /* an extra property: a string, its name at most 255 bytes */
    if (strlen(key) > 255)
        return req_fail(req, 400, "Custom property should not be greater than 255 "
                                  "characters.");
    if (!json_is_string(v))
        return schema_fail(req, arena_printf(req->arena, "%s is not of type 'string'",
                                             jv_repr(req, v)));
    return 1;
}

/* Sets base attribute key of im from v, already checked by check_attr(),
 * with the domain's rules (who may own or publish, formats only while
 * queued). 1 when key is not a base attribute, 0 when set, -1 with the
 * failure recorded. */
static int
set_attr(struct http_req *req, struct img_image *im, const char *key, json_t *v)
{
    const char *s = json_is_string(v) ? arena_strdup(req->arena, json_string_value(v)) : NULL;
    if (!strcmp(key, "name")) {
        im->name = s;
    } else if (!strcmp(key, "owner")) {
        if (!img__admin(req) && (!s || !req->auth.project_id || strcmp(s, req->auth.project_id)))
            return req_fail(req, 403, "You are not permitted to create images owned by "
                                      "'%s'.", s ? s : "None");
        im->owner = s;
    } else if (!strcmp(key, "visibility")) {
        if (!strcmp(s, "public") && img__may_change(req, "publicize_image", im) < 0)
            return -1;
        im->visibility = s;
    } else if (!strcmp(key, "disk_format") || !strcmp(key, "container_format")) {
        bool disk = key[0] == 'd';
        if (strcmp(im->status, "queued") && strcmp(im->status, "importing"))
            return req_fail(req, 403, "Attribute %s can be only replaced for a queued image.",
                            key);
        *(disk ? &im->disk_format : &im->container_format) = s;
    } else if (!strcmp(key, "min_disk") || !strcmp(key, "min_ram")) {
        *(key[4] == 'd' ? &im->min_disk : &im->min_ram) = json_integer_value(v);
    } else if (!strcmp(key, "protected") || !strcmp(key, "os_hidden")) {
        *(key[0] == 'p' ? &im->protected_ : &im->hidden) = json_is_true(v);
    } else if (!strcmp(key, "tags")) {
        return (im->tags = tags_text(req, v)) ? 0 : -1;
    } else {
        return 1;
    }
    return 0;
}

/* An extra property, already checked: within the quota. */
static int
set_prop(struct http_req *req, json_t *props, const char *key, json_t *v)
{
    if (!json_object_get(props, key) && json_object_size(props) >= IMG_MAX_PROPS)
        return req_fail(req, 413, "The limit has been exceeded on the number of allowed "
                                  "image properties. Attempted: %zu, Maximum: %d",
                        json_object_size(props) + 1, IMG_MAX_PROPS);
    json_object_set(props, key, v);
    return 0;
}

static const char *
props_text(struct http_req *req, json_t *props)
{
    char *t = json_dumps(props, JSON_COMPACT | JSON_SORT_KEYS);
    const char *r = arena_strdup(req->arena, t ? t : "{}");
    free(t);
    return r;
}

int
img__no_method(struct http_req *req)
{
    if (img__trailing_slash(req))
        return req_fail(req, 404, "The resource could not be found.");
    http_header(req, "Allow", "GET, POST");
    return req_fail(req, 405, "The method is not allowed for the requested URL.");
}

/* The id of a new image: the caller's (a UUID, in lower case) or a new
 * one, into idbuf[37]. */
static int
new_id(struct http_req *req, char idbuf[37])
{
    json_t *v = json_object_get(req->json, "id");
    uuid_t u;
    if (!v) {
        uuid_generate_random(u);
    } else if (!json_is_string(v) || strlen(json_string_value(v)) != 36 ||
               uuid_parse(json_string_value(v), u) < 0) {
        return schema_fail(req, arena_printf(req->arena, "%s does not match '^([0-9a-fA-F])"
                                             "{8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
                                             "([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'",
                                             jv_repr(req, v)));
    }
    uuid_unparse_lower(u, idbuf);
    return 0;
}

int
img__create(struct http_req *req)
{
    struct img_image im = {
        .status = "queued", .visibility = "shared", .owner = req->auth.project_id,
        .size = -1, .virtual_size = -1, .tags = "[]",
    };
    json_t *props = json_object(), *v;
    const char *k;
    char idbuf[37];
    int rc = -1;
    arena_on_release(req->arena, (void (*)(void *))json_decref, props);
    if (img__trailing_slash(req))
        return req_fail(req, 404, "The resource could not be found.");
    /* request checks first, in Glance's order: read-only, schema, reserved */
    json_object_foreach(req->json, k, v) {
        if (img__in_list(read_only, k))
            return req_fail(req, 403, "Attribute '%s' is read-only.", k);
    }
    json_object_foreach(req->json, k, v) {
        if (check_attr(req, k, v) < 0)
            return -1;
    }
    json_object_foreach(req->json, k, v) {
        if (reserved_name(k))
            return req_fail(req, 403, "Attribute '%s' is reserved.", k);
    }
    if (new_id(req, idbuf) < 0)
        return -1;
    im.id = idbuf;
    json_object_foreach(req->json, k, v) {
        if (!strcmp(k, "id"))
            continue;
        rc = set_attr(req, &im, k, v);
        if (rc < 0 || (rc > 0 && set_prop(req, props, k, v) < 0))
            return -1;
    }
    im.props = props_text(req, props);
    im.created_us = im.updated_us = now_us();
    if (!img__db(req))
        return -1;
    rc = img_db_insert(req->db, req->arena, &im);
    if (rc)
        return img__db_fail(req, rc, im.id);
    http_header(req, "Location", arena_printf(req->arena, "/v2/images/%s", im.id));
    /* how the data may arrive besides PUT /file (Glance sends this) */
    http_header(req, "OpenStack-image-import-methods", IMG_IMPORT_METHODS);
    return http_reply_json(req, 201, img__view(req, &im));
}

int
img__show(struct http_req *req)
{
    struct img_image im;
    if (img__find(req, &im) < 0)
        return -1;
    return http_reply_json(req, 200, img__view(req, &im));
}

/* ---- update (JSON patch) ---- */

/* One parsed change of a patch. */
struct change {
    const char *op;     /* add, remove, replace */
    const char *key;    /* the attribute (a one-segment path) */
    json_t *value;      /* borrowed from the patch */
};

/* The attribute a JSON pointer names, checked as Glance's
 * _validate_json_pointer does: "/name" -> "name", escapes undone. NULL
 * with 400 recorded otherwise. */
static const char *
pointer_key(struct http_req *req, const char *p)
{
    const char *why = NULL;
    if (p[0] != '/')
        why = "does not start with \"/\".";
    for (const char *s = p + 1; !why && *s; s++) {
        const char *t = s;
        if (*s == '/') {
            while (*++t == ' ' || *t == '\t')
                ;
            if (*t == '/')
                why = "contains adjacent \"/\".";
        }
    }
    if (!why && strlen(p) > 1 && p[strlen(p) - 1] == '/')
        why = "end with \"/\".";
    for (const char *s = p; !why && *s; s++)
        if (*s == '~' && s[1] != '0' && s[1] != '1')
            why = "contains \"~\" not part of a recognized escape sequence.";
    if (why) {
        req_fail(req, 400, "Pointer `%s` %s", p, why);
        return NULL;
    }
    if (strchr(p + 1, '/')) {
        req_fail(req, 400, "Invalid JSON pointer for this resource: '%s'", p);
        return NULL;
    }
    char *k = arena_strdup(req->arena, p + 1), *o = k;
    for (const char *s = k; *s; s++) {
        if (s[0] == '~') {
            *o++ = s[1] == '0' ? '~' : '/';
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    /* Glance strips the parts of a path */
    while (o > k && (o[-1] == ' ' || o[-1] == '\t'))
        *--o = '\0';
    while (*k == ' ' || *k == '\t')
        k++;
    return k;
}

/* Parses and checks one change (Glance's request deserializer): draft 10
 * ({"op": "replace", "path": "/name", "value": ...}) for the v2.1 media
 * type, draft 4 ({"replace": "/name", "value": ...}) for v2.0. */
static int
parse_change(struct http_req *req, json_t *raw, bool draft4, struct change *c)
{
    static const char *const ops[] = {"add", "remove", "replace", NULL};
    const char *path;
    if (!json_is_object(raw))
        return req_fail(req, 400, "Operations must be JSON objects.");
    if (draft4) {
        c->op = NULL;
        for (int i = 0; ops[i]; i++) {
            if (!json_object_get(raw, ops[i]))
                continue;
            if (c->op)
                return req_fail(req, 400, "Operation objects must contain only one member "
                                          "named \"add\", \"remove\", or \"replace\".");
            c->op = ops[i];
        }
        if (!c->op)
            return req_fail(req, 400, "Operation objects must contain exactly one member "
                                      "named \"add\", \"remove\", or \"replace\".");
        path = json_string_value(json_object_get(raw, c->op));
    } else {
        json_t *op = json_object_get(raw, "op");
        if (!op)
            return req_fail(req, 400, "Unable to find `op` in JSON Schema change. It must be "
                                      "one of the following: add, remove, replace.");
        c->op = json_string_value(op);
        if (!img__in_list(ops, c->op))
            return req_fail(req, 400, "Invalid operation: `%s`. It must be one of the "
                                      "following: add, remove, replace.",
                            c->op ? c->op : jv_repr(req, op));
        if (!json_object_get(raw, "path"))
            return req_fail(req, 400, "Unable to find 'path' in JSON Schema change");
        path = json_string_value(json_object_get(raw, "path"));
    }
    if (!path)
        return req_fail(req, 400, "Pointer `%s` does not start with \"/\".", "");
    if (!(c->key = pointer_key(req, path)))
        return -1;
    c->value = json_object_get(raw, "value");
    if (strcmp(c->op, "remove") && !c->value)
        return req_fail(req, 400, "Operation \"%s\" requires a member named \"value\".",
                        c->op);
    if (img__in_list(read_only, c->key) || !strcmp(c->key, "id"))
        return req_fail(req, 403, "Attribute '%s' is read-only.", c->key);
    if (reserved_name(c->key))
        return req_fail(req, 403, "Attribute '%s' is reserved.", c->key);
    return strcmp(c->op, "remove") ? (check_attr(req, c->key, c->value) < 0 ? -1 : 0) : 0;
}

static bool
base_attr(const char *k)
{
    static const char *const base[] = {"name", "owner", "visibility", "disk_format",
                                       "container_format", "min_disk", "min_ram",
                                       "protected", "os_hidden", "tags", "id", NULL};
    return img__in_list(base, k) || img__in_list(read_only, k);
}

/* Applies one checked change to im/props (Glance's controller). */
static int
apply_change(struct http_req *req, struct img_image *im, json_t *props,
             const struct change *c, bool draft4)
{
    if (img__may_change(req, "modify_image", im) < 0)
        return -1;
    if (!strcmp(c->op, "remove")) {
        if (base_attr(c->key))
            return req_fail(req, 403, "Property %s may not be removed.", c->key);
        if (!json_object_get(props, c->key))
            return req_fail(req, 409, "Property %s does not exist.", c->key);
        json_object_del(props, c->key);
        return 0;
    }
    bool exists = base_attr(c->key) || json_object_get(props, c->key);
    if (!strcmp(c->op, "add") && draft4 && exists)
        return req_fail(req, 409, "Property %s already present.", c->key);
    if (!strcmp(c->op, "replace") && !exists)
        return req_fail(req, 409, "Property %s does not exist.", c->key);
    if (!strcmp(c->op, "replace") && !strcmp(c->key, "owner") && !img__admin(req))
        return req_fail(req, 403, "Owner can't be updated by non admin.");
    int rc = set_attr(req, im, c->key, c->value);
    return rc <= 0 ? rc : set_prop(req, props, c->key, c->value);
}

int
img__update(struct http_req *req)
{
    struct img_image im;
    const char *ct = http_header_in(req, "Content-Type");
    json_t *patch, *props, *raw;
    size_t i, n = 0;
    bool draft4 = ct && !strcmp(ct, "application/openstack-images-v2.0-json-patch");
    if (!ct || (!draft4 && strcmp(ct, "application/openstack-images-v2.1-json-patch"))) {
        http_header(req, "Accept-Patch", "application/openstack-images-v2.0-json-patch, "
                                         "application/openstack-images-v2.1-json-patch");
        return req_fail(req, 415, "The request media type %s is not supported by this "
                                  "server.", ct ? ct : "None");
    }
    if (!(patch = img__json_body(req, "Malformed JSON in request body.")))
        return -1;
    if (!json_is_array(patch))
        return req_fail(req, 400, "Request body must be a JSON array of operation objects.");
    struct change *cs = arena_alloc(req->arena, sizeof(*cs) * (json_array_size(patch) + 1));
    json_array_foreach(patch, i, raw) {
        if (parse_change(req, raw, draft4, &cs[n++]) < 0)
            return -1;
    }
    if (img__find(req, &im) < 0)
        return -1;
    props = json_loads(im.props ? im.props : "{}", 0, NULL);
    if (!props)
        props = json_object();
    arena_on_release(req->arena, (void (*)(void *))json_decref, props);
    for (i = 0; i < n; i++)
        if (apply_change(req, &im, props, &cs[i], draft4) < 0)
            return -1;
    if (n) {
        im.props = props_text(req, props);
        im.updated_us = now_us();
        int rc = img_db_update(req->db, req->arena, &im);
        if (rc)
            return img__db_fail(req, rc, im.id);
    }
    return http_reply_json(req, 200, img__view(req, &im));
}

int
img__delete(struct http_req *req)
{
    struct img_image im;
    if (img__find(req, &im) < 0 || img__may_change(req, "delete_image", &im) < 0)
        return -1;
    if (im.protected_)
        return req_fail(req, 403, "Image %s is protected and cannot be deleted.", im.id);
    int rc = img_db_delete(req->db, req->arena, im.id);
    if (rc)
        return img__db_fail(req, rc, im.id);
    /* the row went first: nothing hands the bytes out any more. A transfer
     * still running finds the row gone at its end and drops its own. */
    img_store_remove(req->db, req->arena, NULL, im.id);
    return http_reply_empty(req, 204);
}

/* ---- tags ---- */

static int
tag_change(struct http_req *req, bool add)
{
    struct img_image im;
    const char *tag = http_param(req, "tag");
    if (img__find(req, &im) < 0 || img__may_change(req, "modify_image", &im) < 0)
        return -1;
    json_t *tags = json_loads(im.tags ? im.tags : "[]", 0, NULL), *v;
    arena_on_release(req->arena, (void (*)(void *))json_decref, tags);
    size_t i;
    bool found = false;
    json_array_foreach(tags, i, v) {
        if (!strcmp(json_string_value(v), tag)) {
            found = true;
            break;
        }
    }
    if (!add && !found)
        return req_fail(req, 404, "Tag %s not found.", tag);
    if (add && found)
        return http_reply_empty(req, 204);
    if (add)
        json_array_append_new(tags, json_string(tag));
    else
        json_array_remove(tags, i);
    if (!(im.tags = tags_text(req, tags)))
        return -1;
    im.updated_us = now_us();
    int rc = img_db_update(req->db, req->arena, &im);
    return rc ? img__db_fail(req, rc, im.id) : http_reply_empty(req, 204);
}

int
img__tag_put(struct http_req *req)
{
    return tag_change(req, true);
}

int
img__tag_delete(struct http_req *req)
{
    return tag_change(req, false);
}

/* ---- deactivate / reactivate ---- */

/* Moves the image from `from` to `to`; already being `to` is fine. */
static int
transition(struct http_req *req, const char *action, const char *from, const char *to)
{
    struct img_image im;
    const char *now = NULL;
    if (img__find(req, &im) < 0 || img__may_change(req, action, &im) < 0)
        return -1;
    int rc = img_db_set_status(req->db, req->arena, &im, from, to, &now);
    if (rc == -EBUSY && now && !strcmp(now, to))
        rc = 0;
    if (rc == -EBUSY)
        return req_fail(req, 403, "Not allowed to %s image in status '%s'", action,
                        now ? now : "");
    return rc ? img__db_fail(req, rc, im.id) : http_reply_empty(req, 204);
}

int
img__deactivate(struct http_req *req)
{
    return transition(req, "deactivate", "active", "deactivated");
}

int
img__reactivate(struct http_req *req)
{
    return transition(req, "reactivate", "deactivated", "active");
}
