/* api.c - the Glance v2 API at /image: routes, Glance's fault bodies,
 * version discovery, the JSON schemas, /v2/info, the start of the service
 * (store choice, node id, recovery) and the helpers the other API files
 * share (visibility, ownership, the image view). Image records are in
 * api_images.c, listing in api_list.c, sharing in api_members.c, data in
 * api_data.c, import in api_import.c, SQL in img_db.c and the bytes in
 * store.c. */
#include "image.h"
#include "image_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "core/policy.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- helpers shared with the other API files ---- */

struct db *
img__db(struct http_req *req)
{
    struct db *db = req_db(req);
    if (!db)
        req_fail(req, 503, "The server is currently unavailable.");
    return db;
}

int
img__db_fail(struct http_req *req, int rc, const char *id)
{
    if (rc == -ENOENT)
        return req_fail(req, 404, "No image found with ID %s", id ? id : "");
    if (rc == -EEXIST)
        return req_fail(req, 409, "Image with identifier %s already exists!", id ? id : "");
    return req_fail(req, 500, "database error: %s", req->db ? db_errmsg(req->db) : "");
}

json_t *
img__json_body(struct http_req *req, const char *empty)
{
    json_t *b = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    if (b)
        arena_on_release(req->arena, (void (*)(void *))json_decref, b);
    else
        req_fail(req, 400, "%s", req->body_len ? "Malformed JSON in request body." : empty);
    return b;
}

bool
img__admin(struct http_req *req)
{
    return auth_has_role(&req->auth, "admin");
}

/* Glance's visibility rule: public and community images are everyone's,
 * shared ones their owner's and their members' (whatever the member's
 * status), private ones their owner's. */
bool
img__visible(struct http_req *req, const struct img_image *im)
{
    const char *p = req->auth.project_id;
    struct img_member m;
    if (img__admin(req) || !strcmp(im->visibility, "public") ||
        !strcmp(im->visibility, "community"))
        return true;
    if (p && im->owner && !strcmp(p, im->owner))
        return true;
    return p && !strcmp(im->visibility, "shared") && req->db &&
           img_db_member_get(req->db, req->arena, im->id, p, &m) == 0;
}

bool
img__trailing_slash(struct http_req *req)
{
    size_t n = strlen(req->path);
    return n > 1 && req->path[n - 1] == '/';
}

int
img__find(struct http_req *req, struct img_image *im)
{
    const char *id = http_param(req, "image_id");
    if (img__trailing_slash(req))
        return req_fail(req, 404, "The resource could not be found.");
    if (!img__db(req))
        return -1;
    int rc = img_db_get(req->db, req->arena, id, im);
    if (rc == 0 && !img__visible(req, im))
        rc = -ENOENT;
    return rc ? img__db_fail(req, rc, id) : 0;
}

bool
img__in_list(const char *const *l, const char *s)
{
    for (; s && *l; l++)
        if (!strcmp(*l, s))
            return true;
    return false;
}

int
img__may_change(struct http_req *req, const char *action, const struct img_image *im)
{
    struct policy_target t = {.project_id = im->owner};
    const char *p = req->auth.project_id;
    if (!policy_check(req, arena_printf(req->arena, "image:%s", action), &t))
        return req_fail(req, 403, "You are not authorized to complete %s action.", action);
    /* Glance's legacy admin-or-owner check behind every change */
    if (!img__admin(req) && (!im->owner || !p || strcmp(im->owner, p)))
        return req_fail(req, 403, "You do not own this image");
    return 0;
}

const char *
img__time(struct http_req *req, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char b[32];
    gmtime_r(&t, &tm);
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return arena_strdup(req->arena, b);
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
int_or_null(int64_t v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

json_t *
img__view(struct http_req *req, const struct img_image *im)
{
    json_t *o = json_object();
    json_t *props = json_loads(im->props ? im->props : "{}", 0, NULL);
    json_t *tags = json_loads(im->tags ? im->tags : "[]", 0, NULL);
    const char *k;
    json_t *v;
    /* extra properties first, so a stored key can never hide a base one */
    json_object_foreach(props, k, v)
        json_object_set(o, k, v);
    json_decref(props);
    json_object_set_new(o, "id", json_string(im->id));
    json_object_set_new(o, "name", str_or_null(im->name));
    json_object_set_new(o, "status", json_string(im->status));
    json_object_set_new(o, "visibility", json_string(im->visibility));
    json_object_set_new(o, "protected", json_boolean(im->protected_));
    json_object_set_new(o, "os_hidden", json_boolean(im->hidden));
    json_object_set_new(o, "checksum", str_or_null(im->checksum));
    json_object_set_new(o, "os_hash_algo", str_or_null(im->hash_algo));
    json_object_set_new(o, "os_hash_value", str_or_null(im->hash_value));
    json_object_set_new(o, "size", int_or_null(im->size));
    json_object_set_new(o, "virtual_size", int_or_null(im->virtual_size));
    json_object_set_new(o, "disk_format", str_or_null(im->disk_format));
    json_object_set_new(o, "container_format", str_or_null(im->container_format));
    json_object_set_new(o, "min_disk", json_integer(im->min_disk));
    json_object_set_new(o, "min_ram", json_integer(im->min_ram));
    json_object_set_new(o, "owner", str_or_null(im->owner));
    json_object_set_new(o, "created_at", json_string(img__time(req, im->created_us)));
    json_object_set_new(o, "updated_at", json_string(img__time(req, im->updated_us)));
    json_object_set_new(o, "tags", json_is_array(tags) ? json_incref(tags) : json_array());
    json_decref(tags);
    json_object_set_new(o, "self", json_string(arena_printf(req->arena, "/v2/images/%s",
                                                            im->id)));
    json_object_set_new(o, "file", json_string(arena_printf(req->arena,
                                                            "/v2/images/%s/file", im->id)));
    json_object_set_new(o, "schema", json_string("/v2/schemas/image"));
    return o;
}

/* ---- faults ---- */

/* The q-value an Accept header gives media type `type` ("text/html"):
 * the most specific matching range decides (the type itself, then its
 * "type/any", then "any/any"), as webob's acceptable_offers; 0 when none
 * matches. */
static double
accept_q(const char *accept, const char *type)
{
    size_t tl = strcspn(type, "/");
    int best = 0;
    double q = 0;
    for (const char *p = accept; *p;) {
        size_t len = strcspn(p, ",");
        const char *end = p + len;
        while (p < end && *p == ' ')
            p++;
        size_t rl = strcspn(p, ";, ");
        if ((size_t)(end - p) < rl)
            rl = (size_t)(end - p);
        int spec = 0;
        if (rl == 3 && !strncmp(p, "*/*", 3))
            spec = 1;
        else if (rl == tl + 2 && !strncasecmp(p, type, tl) && !strncmp(p + tl, "/*", 2))
            spec = 2;
        else if (rl == strlen(type) && !strncasecmp(p, type, rl))
            spec = 3;
        double v = 1;
        for (const char *s = p + rl; s < end; s++) {
            if (*s == ';') {
                while (s[1] == ' ')
                    s++;
                if ((s[1] == 'q' || s[1] == 'Q') && s[2] == '=')
                    v = strtod(s + 3, NULL);
            }
        }
        if (spec > best || (spec == best && spec && v > q)) {
            best = spec;
            q = v;
        }
        p = *end ? end + 1 : end;
    }
    return best ? q : 0;
}

/* s with HTML's special characters escaped, in the arena. */
static const char *
html_escape(struct http_req *req, const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += strchr("&<>\"'", *p) ? 6 : 1;
    char *o = arena_alloc(req->arena, n + 1), *q = o;
    for (const char *p = s; *p; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : *p == '\'' ? "&#x27;" : NULL;
        if (e) {
            memcpy(q, e, strlen(e));
            q += strlen(e);
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
    return o;
}

/* Glance answers with webob's error pages, chosen by the Accept header:
 * HTML or JSON {"message", "code", "title"} when the client accepts them
 * (HTML first on a tie, so a client taking anything gets HTML), else the
 * plain page
 * "<code> <title>\n\n<explanation>\n\n   ". A server-side failure (5xx)
 * shows webob's explanation, its detail goes to the log only. A missing
 * token is refused by keystonemiddleware before Glance, in Keystone's
 * JSON. */
static void
render_fault(struct http_req *req)
{
    int st = req->fail_status;
    const char *title = req->fail_title ? req->fail_title : http_status_title(st);
    const char *msg = req->fail_msg ? req->fail_msg : title;
    const char *accept = http_header_in(req, "Accept");
    double html = accept ? accept_q(accept, "text/html") : 0;
    double json = accept ? accept_q(accept, "application/json") : 0;
    if (st >= 500) {
        /* the detail (a database or system error) is for the log; the
         * client gets webob's explanation, as from Glance's unexpected
         * failures */
        log_warn(req->request_id, "image: %s", msg);
        msg = st == 503 ? "The server is currently unavailable. Please try again at a later time."
                        : "The server has either erred or is incapable of performing the "
                          "requested operation.";
    }
    if (st == 401) {
        auth_reply_401(req, msg);
        return;
    }
    const char *status = arena_printf(req->arena, "%d %s", st, title);
    if (json > 0 && json > html) {
        /* webob's json.dumps() spacing, byte for byte */
        json_t *o = json_pack("{s:s,s:s,s:s}", "message",
                              arena_printf(req->arena, "%s<br /><br />\n\n\n", msg), "code",
                              status, "title", title);
        char *t = json_dumps(o, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(o);
        http_reply_raw(req, st, "application/json", t ? t : "{}", t ? strlen(t) : 2);
        free(t);
        return;
    }
    const char *b = html > 0
        ? arena_printf(req->arena, "<html>\n <head>\n  <title>%s</title>\n </head>\n <body>\n"
                       "  <h1>%s</h1>\n  %s<br /><br />\n\n\n\n </body>\n</html>", status,
                       status, html_escape(req, msg))
        : arena_printf(req->arena, "%s\n\n%s\n\n   ", status, msg);
    http_reply_raw(req, st, html > 0 ? "text/html; charset=UTF-8" : "text/plain; charset=UTF-8",
                   b, strlen(b));
}

/* ---- version discovery ---- */

static json_t *
versions(struct http_req *req)
{
    const char *host = http_header_in(req, "Host");
    const char *proto = http_header_in(req, "X-Forwarded-Proto");
    const char *href = arena_printf(req->arena, "%s://%s/image/v2/", proto ? proto : "http",
                                    host ? host : "localhost");
    json_t *list = json_array();
    /* the API level of Glance 25 (Zed) and every older v2 minor */
    for (int minor = 16; minor >= 0; minor--)
        json_array_append_new(
            list, json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id",
                            arena_printf(req->arena, "v2.%d", minor), "status",
                            minor == 16 ? "CURRENT" : "SUPPORTED", "links", "rel", "self",
                            "href", href));
    return json_pack("{s:o}", "versions", list);
}

/* GET /image: 300 Multiple Choices, as Glance answers its root */
static int
api_root(struct http_req *req)
{
    return http_reply_json(req, 300, versions(req));
}

static int
api_versions(struct http_req *req)
{
    return http_reply_json(req, 200, versions(req));
}

/* ---- schemas and info ---- */

/* The image schema, written for this service from the fields the view
 * has; additional properties are strings, as Glance's are. */
static const char image_schema[] =
    "{\"name\":\"image\",\"additionalProperties\":{\"type\":\"string\"},"
    "\"links\":[{\"rel\":\"self\",\"href\":\"{self}\"},{\"rel\":\"enclosure\","
    "\"href\":\"{file}\"},{\"rel\":\"describedby\",\"href\":\"{schema}\"}],"
    "\"properties\":{"
    "\"id\":{\"type\":\"string\",\"pattern\":\"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-"
    "([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$\",\"description\":"
    "\"An identifier for the image\"},"
    "\"name\":{\"type\":[\"null\",\"string\"],\"maxLength\":255,"
    "\"description\":\"Descriptive name for the image\"},"
    "\"status\":{\"type\":\"string\",\"readOnly\":true,\"enum\":[\"queued\",\"saving\","
    "\"active\",\"killed\",\"deleted\",\"uploading\",\"importing\",\"pending_delete\","
    "\"deactivated\"],\"description\":\"Status of the image\"},"
    "\"visibility\":{\"type\":\"string\",\"enum\":[\"community\",\"public\",\"private\","
    "\"shared\"],\"description\":\"Scope of image accessibility\"},"
    "\"protected\":{\"type\":\"boolean\",\"description\":"
    "\"If true, image will not be deletable.\"},"
    "\"os_hidden\":{\"type\":\"boolean\",\"description\":"
    "\"If true, image will not appear in default image list response.\"},"
    "\"checksum\":{\"type\":[\"null\",\"string\"],\"readOnly\":true,\"maxLength\":32,"
    "\"description\":\"md5 hash of image contents.\"},"
    "\"os_hash_algo\":{\"type\":[\"null\",\"string\"],\"readOnly\":true,\"maxLength\":64,"
    "\"description\":\"Algorithm to calculate the os_hash_value\"},"
    "\"os_hash_value\":{\"type\":[\"null\",\"string\"],\"readOnly\":true,"
    "\"maxLength\":128,\"description\":\"Hexdigest of the image contents\"},"
    "\"owner\":{\"type\":[\"null\",\"string\"],\"maxLength\":255,"
    "\"description\":\"Owner of the image\"},"
    "\"size\":{\"type\":[\"null\",\"integer\"],\"readOnly\":true,"
    "\"description\":\"Size of image file in bytes\"},"
    "\"virtual_size\":{\"type\":[\"null\",\"integer\"],\"readOnly\":true,"
    "\"description\":\"Virtual size of image in bytes\"},"
    "\"container_format\":{\"type\":[\"null\",\"string\"],\"enum\":[null,\"ami\","
    "\"ari\",\"aki\",\"bare\",\"ovf\",\"ova\",\"docker\",\"compressed\"],"
    "\"description\":\"Format of the container\"},"
    "\"disk_format\":{\"type\":[\"null\",\"string\"],\"enum\":[null,\"ami\",\"ari\","
    "\"aki\",\"vhd\",\"vhdx\",\"vmdk\",\"raw\",\"qcow2\",\"vdi\",\"iso\",\"ploop\"],"
    "\"description\":\"Format of the disk\"},"
    "\"created_at\":{\"type\":\"string\",\"readOnly\":true,"
    "\"description\":\"Date and time of image registration\"},"
    "\"updated_at\":{\"type\":\"string\",\"readOnly\":true,"
    "\"description\":\"Date and time of the last image modification\"},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":255},"
    "\"description\":\"List of strings related to the image\"},"
    "\"direct_url\":{\"type\":\"string\",\"readOnly\":true,"
    "\"description\":\"URL to access the image file kept in external store\"},"
    "\"min_ram\":{\"type\":\"integer\",\"description\":"
    "\"Amount of ram (in MB) required to boot image.\"},"
    "\"min_disk\":{\"type\":\"integer\",\"description\":"
    "\"Amount of disk space (in GB) required to boot image.\"},"
    "\"self\":{\"type\":\"string\",\"readOnly\":true,\"description\":"
    "\"An image self url\"},"
    "\"file\":{\"type\":\"string\",\"readOnly\":true,\"description\":"
    "\"An image file url\"},"
    "\"schema\":{\"type\":\"string\",\"readOnly\":true,\"description\":"
    "\"An image schema url\"}}}";

/* The member schema (Glance's member properties; nothing else allowed). */
static const char member_schema[] =
    "{\"name\":\"member\",\"additionalProperties\":false,\"properties\":{"
    "\"member_id\":{\"type\":\"string\",\"description\":"
    "\"An identifier for the image member (tenantId)\"},"
    "\"image_id\":{\"type\":\"string\",\"description\":\"An identifier for the image\","
    "\"pattern\":\"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
    "([0-9a-fA-F]){12}$\"},"
    "\"created_at\":{\"type\":\"string\",\"description\":"
    "\"Date and time of image member creation\"},"
    "\"updated_at\":{\"type\":\"string\",\"description\":"
    "\"Date and time of last modification of image member\"},"
    "\"status\":{\"type\":\"string\",\"description\":\"The status of this image member\","
    "\"enum\":[\"pending\",\"accepted\",\"rejected\"]},"
    "\"schema\":{\"readOnly\":true,\"type\":\"string\"}}}";

/* Schema text as the reply: the item's own, or with collection set the
 * schema of a page of such items (Glance's collection schema: the items,
 * the first/next links and the schema's own). */
static int
reply_schema(struct http_req *req, const char *text, const char *collection)
{
    json_t *s = json_loads(text, 0, NULL);
    if (!s)
        return req_fail(req, 500, "bad schema text");
    if (collection)
        s = json_pack(
            "{s:s,s:{s:{s:s,s:o},s:{s:s},s:{s:s},s:{s:s}},s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]}",
            "name", collection, "properties", collection, "type", "array", "items", s,
            "schema", "type", "string", "first", "type", "string", "next", "type", "string",
            "links", "rel", "first", "href", "{first}", "rel", "next", "href", "{next}", "rel",
            "describedby", "href", "{schema}");
    return http_reply_json(req, 200, s);
}

static int
api_schema_image(struct http_req *req)
{
    return reply_schema(req, image_schema, NULL);
}

static int
api_schema_images(struct http_req *req)
{
    return reply_schema(req, image_schema, "images");
}

static int
api_schema_member(struct http_req *req)
{
    return reply_schema(req, member_schema, NULL);
}

static int
api_schema_members(struct http_req *req)
{
    return reply_schema(req, member_schema, "members");
}

/* Glance answers this only with several stores enabled (multi-store,
 * where images may live in more than one and copy-image moves them). This
 * service keeps each image in one store, the configured one, so it answers
 * as a single-store Glance does; the store in use is in the log at start. */
static int
api_info_stores(struct http_req *req)
{
    return req_fail(req, 404, "Multi backend is not supported at this site.");
}

/* The interoperable import methods served: glance-direct (stage, then
 * import) and copy-image (a no-op success with a single store). */
static int
api_info_import(struct http_req *req)
{
    return http_reply_json(req, 200,
                           json_pack("{s:{s:s,s:s,s:[s,s]}}", "import-methods", "description",
                                     "Import methods available.", "type", "array", "value",
                                     "glance-direct", "copy-image"));
}

/* ---- routes ---- */

#define A ROUTE_AUTH
#define IMG "/v2/images/{image_id}"
#define MEMBER IMG "/members/{member_id}"

static const struct http_route routes[] = {
    {HTTP_GET, "", api_root, 0, NULL},
    {HTTP_GET, "/", api_root, 0, NULL},
    {HTTP_GET, "/versions", api_versions, 0, NULL},
    {HTTP_GET, "/v2/schemas/image", api_schema_image, A, NULL},
    {HTTP_GET, "/v2/schemas/images", api_schema_images, A, NULL},
    {HTTP_GET, "/v2/schemas/member", api_schema_member, A, NULL},
    {HTTP_GET, "/v2/schemas/members", api_schema_members, A, NULL},
    {HTTP_GET, "/v2/info/stores", api_info_stores, A, NULL},
    {HTTP_GET, "/v2/info/import", api_info_import, A, NULL},
    {HTTP_POST, "/v2/images", img__create, A | ROUTE_JSON, NULL},
    {HTTP_GET, "/v2/images", img__list, A, NULL},
    {HTTP_PUT, "/v2/images", img__no_method, A, NULL},
    {HTTP_PATCH, "/v2/images", img__no_method, A, NULL},
    {HTTP_DELETE, "/v2/images", img__no_method, A, NULL},
    {HTTP_GET, IMG, img__show, A, NULL},
    {HTTP_PATCH, IMG, img__update, A, NULL},
    {HTTP_DELETE, IMG, img__delete, A, NULL},
    {HTTP_PUT, IMG "/file", NULL, A | ROUTE_STREAM | ROUTE_SLOW, &img__upload},
    {HTTP_GET, IMG "/file", img__download, A, NULL},
    {HTTP_PUT, IMG "/stage", NULL, A | ROUTE_STREAM | ROUTE_SLOW, &img__stage},
    {HTTP_POST, IMG "/import", img__import, A | ROUTE_SLOW, NULL},
    {HTTP_GET, IMG "/tasks", img__tasks, A, NULL},
    {HTTP_PUT, IMG "/tags/{tag}", img__tag_put, A, NULL},
    {HTTP_DELETE, IMG "/tags/{tag}", img__tag_delete, A, NULL},
    {HTTP_POST, IMG "/actions/deactivate", img__deactivate, A, NULL},
    {HTTP_POST, IMG "/actions/reactivate", img__reactivate, A, NULL},
    {HTTP_GET, IMG "/members", img__members_list, A, NULL},
    {HTTP_POST, IMG "/members", img__member_create, A, NULL},
    {HTTP_GET, MEMBER, img__member_show, A, NULL},
    {HTTP_PUT, MEMBER, img__member_update, A, NULL},
    {HTTP_DELETE, MEMBER, img__member_delete, A, NULL},
};

static const struct http_service service = {
    .prefix = "/image",
    .name = "image",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .render_fault = render_fault,
};

/* Glance's defaults (Zed, enforce_new_defaults off): each image rule is
 * OR'ed with its deprecated "rule:default", which is empty (anyone), so
 * what decides is Glance's legacy admin-or-owner check that follows
 * (img__may_change: "You do not own this image"). Publishing and copying
 * between stores stay admin's. The member rules' ownership checks are
 * Glance's controller checks, in api_members.c. */
static const struct policy_rule rules[] = {
    {"image:publicize_image", P_ADMIN},
    {"image:modify_image", P_ANY},
    {"image:delete_image", P_ANY},
    {"image:upload_image", P_ANY},
    {"image:deactivate", P_ANY},
    {"image:reactivate", P_ANY},
    {"image:copy_image", P_ADMIN},
};

/* ---- start ---- */

static char node_id[33];

const char *
img__node(void)
{
    return node_id;
}

/* The node id kept in DATA_DIR/images/.node-id, made on first start: it
 * names the data directory whose temp and staged files this process owns,
 * and so the transfers it may reset after a crash. */
static int
load_node_id(const char *data_dir)
{
    char path[4096];
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/images/.node-id", data_dir);
    char *s = file_read(path, &n);
    if (s && n == 32)
        snprintf(node_id, sizeof(node_id), "%.32s", s);
    free(s);
    if (is_hex32(node_id))
        return 0;
    uuid_hex(node_id);
    return file_write_atomic(path, node_id, 32, 0600);
}

/* The project id whose object store account keeps the swift store's
 * images: [image] swift_project_id, else the project named
 * [image] swift_project (default "admin") of the default domain. NULL
 * when there is none. */
static const char *
swift_project(struct db *db, struct arena *a)
{
    const char *id = cfg_get("image", "swift_project_id", NULL);
    if (id && *id)
        return id;
    const char *name = cfg_get("image", "swift_project", "admin");
    return img_db_project_id(db, a, name, &id) == 0 ? id : NULL;
}

int
img_service_init(const char *data_dir)
{
    const char *kind = cfg_get("image", "store", IMG_STORE_FILE);
    struct db *db = db_get();
    struct arena *a = arena_new();
    const char *proj = db && a ? swift_project(db, a) : NULL;
    int rc = img_store_init(data_dir, kind, proj, cfg_get("image", "swift_container", "glance"));
    db_put(db);
    if (rc == -EINVAL) {
        log_error(NULL, "image: [image] store = %s: want file, or swift with a project "
                  "(swift_project / swift_project_id) and a container name", kind);
    } else if (rc < 0) {
        log_error(NULL, "image: cannot use %s/images: %s", data_dir, strerror(-rc));
    } else if (load_node_id(data_dir) < 0) {
        log_error(NULL, "image: cannot write %s/images/.node-id", data_dir);
        rc = -1;
    } else {
        rc = img__recover();
    }
    arena_free(a);
    if (rc < 0)
        return -1;
    log_info(NULL, "image: new data goes to the %s store%s%s%s%s", kind,
             !strcmp(kind, IMG_STORE_SWIFT) ? " (" : "",
             !strcmp(kind, IMG_STORE_SWIFT) ? img_store_swift_account() : "",
             !strcmp(kind, IMG_STORE_SWIFT) ? "/" : "",
             !strcmp(kind, IMG_STORE_SWIFT) ? img_store_swift_container() : "");
    policy_register(rules, sizeof(rules) / sizeof(rules[0]));
    http_register(&service);
    return 0;
}
