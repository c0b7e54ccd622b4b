/* api_images.c - image records: create, list with filters and paging,
 * show, JSON-patch update, delete, tags and (de)activation. Validation
 * follows Glance's image schema and its read-only/reserved attribute
 * rules; the messages are Glance's. */
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

static bool
in_list(const char *const *l, const char *s)
{
    for (; s && *l; l++)
        if (!strcmp(*l, s))
            return true;
    return false;
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
        req_fail(req, 413, "Maximum number of tags exceeded (%d)", IMG_MAX_TAGS);
        goto out;
    }
    char *t = json_dumps(out, JSON_COMPACT);
    r = arena_strdup(req->arena, t ? t : "[]");
    free(t);
out:
    json_decref(out);
    return r;
}

/* Sets base attribute key of im from v. 1 when key is not a base
 * attribute (an extra property), 0 when set, -1 with the failure
 * recorded. */
static int
set_attr(struct http_req *req, struct img_image *im, const char *key, json_t *v)
{
    if (in_list(read_only, key))
        return req_fail(req, 403, "Attribute '%s' is read-only.", key);
    if (in_list(reserved, key))
        return req_fail(req, 403, "Attribute '%s' is reserved.", key);
    if (!strcmp(key, "name") || !strcmp(key, "owner")) {
        if (!json_is_null(v) && (!json_is_string(v) || strlen(json_string_value(v)) > 255))
            return schema_fail(req, arena_printf(req->arena, "%s is not of type 'null', "
                                                 "'string'", jv_repr(req, v)));
        const char *s = json_is_null(v) ? NULL : arena_strdup(req->arena,
                                                               json_string_value(v));
        if (!strcmp(key, "name"))
            im->name = s;
        else if (!img__admin(req) && (!s || !req->auth.project_id ||
                                      strcmp(s, req->auth.project_id)))
            return req_fail(req, 403, "You are not permitted to create images owned by "
                                      "'%s'.", s ? s : "None");
        else
            im->owner = s;
        return 0;
    }
    if (!strcmp(key, "visibility")) {
        if (!json_is_string(v) || !in_list(visibilities, json_string_value(v)))
            return enum_fail(req, v, visibilities);
        im->visibility = arena_strdup(req->arena, json_string_value(v));
        if (!strcmp(im->visibility, "public") && img__may_change(req, "publicize_image",
                                                                 im) < 0)
            return -1;
        return 0;
    }
    if (!strcmp(key, "disk_format") || !strcmp(key, "container_format")) {
        bool disk = key[0] == 'd';
        const char *const *l = disk ? disk_formats : container_formats;
        if (!json_is_null(v) && (!json_is_string(v) || !in_list(l, json_string_value(v))))
            return enum_fail(req, v, l);
        if (strcmp(im->status, "queued"))
            return req_fail(req, 403, "Attribute %s can be only replaced for a queued image.",
                            key);
        const char *s = json_is_null(v) ? NULL : arena_strdup(req->arena,
                                                               json_string_value(v));
        *(disk ? &im->disk_format : &im->container_format) = s;
        return 0;
    }
    if (!strcmp(key, "min_disk") || !strcmp(key, "min_ram")) {
        if (!json_is_integer(v))
            return schema_fail(req, arena_printf(req->arena, "%s is not of type 'integer'",
                                                 jv_repr(req, v)));
        if (json_integer_value(v) < 0)
            return schema_fail(req, arena_printf(req->arena, "%s is less than the minimum "
                                                 "of 0", jv_repr(req, v)));
        *(key[4] == 'd' ? &im->min_disk : &im->min_ram) = json_integer_value(v);
        return 0;
    }
    if (!strcmp(key, "protected") || !strcmp(key, "os_hidden")) {
        if (!json_is_boolean(v))
            return schema_fail(req, arena_printf(req->arena, "%s is not of type 'boolean'",
                                                 jv_repr(req, v)));
        *(key[0] == 'p' ? &im->protected_ : &im->hidden) = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "tags"))
        return (im->tags = tags_text(req, v)) ? 0 : -1;
    if (!strcmp(key, "id"))
        return req_fail(req, 403, "Attribute 'id' is read-only.");
    return 1;
}

/* An extra property: any key up to 255 bytes with a string value. */
static int
set_prop(struct http_req *req, json_t *props, const char *key, json_t *v)
{
    if (strlen(key) > 255 || !*key)
        return schema_fail(req, arena_printf(req->arena, "'%s' is not a valid property name",
                                             key));
    if (!json_is_string(v))
        return schema_fail(req, arena_printf(req->arena, "%s is not of type 'string'",
                                             jv_repr(req, v)));
    if (!json_object_get(props, key) && json_object_size(props) >= IMG_MAX_PROPS)
        return req_fail(req, 413, "Attempted to add more properties than allowed (%d)",
                        IMG_MAX_PROPS);
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

    v = json_object_get(req->json, "id");
    if (v) {
        uuid_t u;
        if (!json_is_string(v) || strlen(json_string_value(v)) != 36 ||
            uuid_parse(json_string_value(v), u) < 0)
            return schema_fail(req, arena_printf(req->arena, "%s is not a valid uuid",
                                                 jv_repr(req, v)));
        uuid_unparse_lower(u, idbuf);
    } else {
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, idbuf);
    }
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

/* ---- list ---- */

/* Percent-encoding of a query value, in the arena. */
static const char *
qenc(struct http_req *req, const char *s)
{
    size_t n = strlen(s);
    char *o = arena_alloc(req->arena, n * 3 + 1), *p = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c)) {
            *p++ = (char)c;
        } else {
            snprintf(p, 4, "%%%02X", c);
            p += 3;
        }
    }
    *p = '\0';
    return o;
}

static const char *const list_params[] = {"name", "status", "visibility", "owner", "tag",
                                          "disk_format", "container_format", "os_hidden",
                                          "sort_key", "sort_dir", "sort", "limit", NULL};

/* The listing's query without the marker, for the "first" and "next"
 * links: "" or "a=1&b=2". */
static const char *
link_query(struct http_req *req)
{
    const char *q = "";
    for (const char *const *p = list_params; *p; p++) {
        const char *v = http_query(req, *p);
        if (v)
            q = arena_printf(req->arena, "%s%s%s=%s", q, *q ? "&" : "", *p, qenc(req, v));
    }
    return q;
}

/* The sort of the listing from sort_key/sort_dir or "sort=key:dir". */
static int
list_sort(struct http_req *req, struct img_filter *f)
{
    const char *key = http_query(req, "sort_key"), *dir = http_query(req, "sort_dir");
    const char *sort = http_query(req, "sort");
    if (sort && *sort) {
        /* only the first key of "k1:d1,k2:d2" is used; id breaks ties */
        const char *end = strchr(sort, ',');
        char *first = arena_strndup(req->arena, sort, end ? (size_t)(end - sort)
                                                          : strlen(sort));
        char *colon = strchr(first, ':');
        if (colon) {
            *colon = '\0';
            dir = colon + 1;
        }
        key = first;
    }
    f->sort_key = key && *key ? key : "created_at";
    if (!in_list(img_db_sort_keys, f->sort_key))
        return req_fail(req, 400, "Invalid sort key: %s. It should be one of the "
                                  "following: name, status, container_format, disk_format, "
                                  "size, id, created_at, updated_at, visibility, owner, "
                                  "min_disk, min_ram, virtual_size.", f->sort_key);
    if (dir && *dir && strcmp(dir, "asc") && strcmp(dir, "desc"))
        return req_fail(req, 400, "Invalid sort direction: %s", dir);
    f->asc = dir && !strcmp(dir, "asc");
    return 0;
}

int
img__list(struct http_req *req)
{
    struct img_filter f = {
        .name = http_query(req, "name"), .status = http_query(req, "status"),
        .owner = http_query(req, "owner"), .tag = http_query(req, "tag"),
        .disk_format = http_query(req, "disk_format"),
        .container_format = http_query(req, "container_format"),
        .visibility = http_query(req, "visibility"), .caller = req->auth.project_id,
        .admin = img__admin(req), .hidden = 0, .marker = http_query(req, "marker"),
        .limit = IMG_DEFAULT_LIMIT,
    };
    const char *v;
    struct img_image *items, mk;
    int n = 0, rc;
    if (f.visibility && strcmp(f.visibility, "all") && !in_list(visibilities, f.visibility))
        return req_fail(req, 400, "Invalid visibility value: %s", f.visibility);
    if ((v = http_query(req, "os_hidden"))) {
        if (strcasecmp(v, "true") && strcasecmp(v, "false"))
            return req_fail(req, 400, "Invalid value '%s' for 'os_hidden' filter. Valid "
                                      "values are 'true' or 'false'.", v);
        f.hidden = !strcasecmp(v, "true");
    }
    if ((v = http_query(req, "limit"))) {
        char *end;
        long l = strtol(v, &end, 10);
        if (!*v || *end)
            return req_fail(req, 400, "limit param must be an integer");
        if (l < 0)
            return req_fail(req, 400, "limit param must be positive");
        f.limit = l > IMG_MAX_LIMIT ? IMG_MAX_LIMIT : (int)l;
    }
    if (list_sort(req, &f) < 0 || !img__db(req))
        return -1;
    if (f.marker) {
        rc = img_db_get(req->db, req->arena, f.marker, &mk);
        if (rc == -ENOENT || (rc == 0 && !img__visible(req, &mk)))
            return req_fail(req, 400, "Invalid marker. Image %s could not be found.",
                            f.marker);
        if (rc)
            return img__db_fail(req, rc, f.marker);
    }
    rc = img_db_list(req->db, req->arena, &f, &items, &n);
    if (rc == -ENOENT)
        return req_fail(req, 400, "Invalid marker. Image %s could not be found.", f.marker);
    if (rc)
        return img__db_fail(req, rc, NULL);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, img__view(req, &items[i]));
    const char *q = link_query(req);
    json_t *body = json_pack("{s:o,s:s,s:s}", "images", arr, "schema", "/v2/schemas/images",
                             "first", arena_printf(req->arena, "/v2/images%s%s",
                                                   *q ? "?" : "", q));
    if (n && n == f.limit)
        json_object_set_new(body, "next", json_string(arena_printf(
                                              req->arena, "/v2/images?%s%smarker=%s", q,
                                              *q ? "&" : "", items[n - 1].id)));
    return http_reply_json(req, 200, body);
}

/* ---- update (JSON patch) ---- */

/* The attribute a patch path names: "/name" -> "name", with JSON
 * pointer escapes undone; NULL with 400 recorded for deeper paths. */
static const char *
patch_key(struct http_req *req, json_t *path)
{
    const char *p = json_string_value(path);
    if (!p || p[0] != '/' || !p[1] || strchr(p + 1, '/')) {
        req_fail(req, 400, "Invalid JSON pointer for this resource: '%s'", p ? p : "");
        return NULL;
    }
    char *k = arena_strdup(req->arena, p + 1), *o = k;
    for (const char *s = k; *s; s++) {
        if (s[0] == '~' && (s[1] == '0' || s[1] == '1')) {
            *o++ = s[1] == '0' ? '~' : '/';
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return k;
}

static bool
base_attr(const char *k)
{
    static const char *const base[] = {"name", "owner", "visibility", "disk_format",
                                       "container_format", "min_disk", "min_ram",
                                       "protected", "os_hidden", "tags", "id", NULL};
    return in_list(base, k) || in_list(read_only, k) || in_list(reserved, k);
}

/* Applies one change of the patch to im/props. */
static int
apply_change(struct http_req *req, struct img_image *im, json_t *props, json_t *ch)
{
    const char *op = json_string_value(json_object_get(ch, "op")), *key;
    json_t *val = json_object_get(ch, "value");
    if (!json_is_object(ch) || !op)
        return req_fail(req, 400, "Unable to find 'op' in JSON Schema change");
    if (strcmp(op, "add") && strcmp(op, "replace") && strcmp(op, "remove"))
        return req_fail(req, 400, "Invalid operation: `%s`. It should be one of the "
                                  "following: add, remove, replace.", op);
    if (!(key = patch_key(req, json_object_get(ch, "path"))))
        return -1;
    if (strcmp(op, "remove") && !val)
        return req_fail(req, 400, "Unable to find `value` in JSON Schema change. A `value` "
                                  "must be provided for `%s` operations.", op);
    if (!strcmp(op, "remove")) {
        if (in_list(read_only, key))
            return req_fail(req, 403, "Attribute '%s' is read-only.", key);
        if (base_attr(key))
            return req_fail(req, 403, "Property %s may not be removed.", key);
        if (!json_object_get(props, key))
            return req_fail(req, 409, "Property %s does not exist.", key);
        json_object_del(props, key);
        return 0;
    }
    if (!strcmp(key, "owner") && !img__admin(req))
        return req_fail(req, 403, "Attribute 'owner' is read-only.");
    int rc = set_attr(req, im, key, val);
    if (rc <= 0)
        return rc;
    /* add on a property that exists replaces it (patch v2.1); replace
     * needs one */
    if (!strcmp(op, "replace") && !json_object_get(props, key))
        return req_fail(req, 409, "Property %s does not exist.", key);
    return set_prop(req, props, key, val);
}

int
img__update(struct http_req *req)
{
    struct img_image im;
    const char *ct = http_header_in(req, "Content-Type");
    json_t *patch, *props, *ch;
    size_t i;
    if (!ct || (strncmp(ct, "application/openstack-images-v2.1-json-patch", 44) &&
                strncmp(ct, "application/openstack-images-v2.0-json-patch", 44)))
        return req_fail(req, 415, "Unsupported Content-Type");
    patch = json_loadb(req->body, req->body_len, 0, NULL);
    arena_on_release(req->arena, (void (*)(void *))json_decref, patch);
    if (!json_is_array(patch))
        return req_fail(req, 400, "Request body must be a JSON array of operation objects.");
    if (img__find(req, &im) < 0 || img__may_change(req, "modify_image", &im) < 0)
        return -1;
    props = json_loads(im.props ? im.props : "{}", 0, NULL);
    if (!props)
        props = json_object();
    arena_on_release(req->arena, (void (*)(void *))json_decref, props);
    json_array_foreach(patch, i, ch) {
        if (apply_change(req, &im, props, ch) < 0)
            return -1;
    }
    im.props = props_text(req, props);
    im.updated_us = now_us();
    int rc = img_db_update(req->db, req->arena, &im);
    if (rc)
        return img__db_fail(req, rc, im.id);
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
    /* an upload still running finds the row gone at its end and drops
     * its own file */
    img_store_remove(im.id);
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
