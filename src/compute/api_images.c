/* api_images.c - Nova's image API (/images, deprecated: 404 from 2.36 on,
 * as Nova): a view of the images Glance shows the caller, in Nova's
 * shape (ACTIVE / SAVING, minDisk, metadata, the server a snapshot came
 * from), and their deletion. Reads through image.h, never image tables. */
#include "compute_int.h"
#include "core/arena.h"
#include "image/image.h"

#include <errno.h>
#include <string.h>

static int
deprecated(struct http_req *req)
{
    if (cmp__mv(req, 2, 36))
        return req_fail(req, 404, "The resource could not be found.");
    return 0;
}

/* Glance's status as Nova shows it, with Nova's progress figure. */
static const char *
status(const char *s, int *progress)
{
    static const struct {
        const char *glance, *nova;
        int progress;
    } m[] = {{"active", "ACTIVE", 100}, {"queued", "SAVING", 25}, {"saving", "SAVING", 50},
             {"uploading", "SAVING", 50}, {"importing", "SAVING", 50},
             {"deleted", "DELETED", 0}, {"pending_delete", "DELETED", 0},
             {"killed", "ERROR", 0}, {"deactivated", "ERROR", 0}};
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (!strcmp(m[i].glance, s)) {
            *progress = m[i].progress;
            return m[i].nova;
        }
    *progress = 0;
    return "UNKNOWN";
}

static json_t *
view(struct http_req *req, const struct img_brief *im, bool detail)
{
    json_t *v = json_pack("{s:s,s:s,s:o}", "id", im->id, "name", im->name ? im->name : "",
                          "links", cmp__links(req, "images", im->id));
    if (!detail)
        return v;
    int progress;
    json_t *meta = json_loads(im->props ? im->props : "{}", 0, NULL);
    const char *server = json_string_value(json_object_get(meta, "instance_uuid"));
    json_object_set_new(v, "status", json_string(status(im->status, &progress)));
    json_object_set_new(v, "progress", json_integer(progress));
    json_object_set_new(v, "minDisk", json_integer(im->min_disk));
    json_object_set_new(v, "minRam", json_integer(im->min_ram));
    json_object_set_new(v, "created", json_string(cmp__time(req, im->created_us)));
    json_object_set_new(v, "updated", json_string(cmp__time(req, im->updated_us)));
    json_object_set_new(v, "OS-EXT-IMG-SIZE:size", json_integer(im->size > 0 ? im->size : 0));
    if (server)
        json_object_set_new(v, "server", json_pack("{s:s,s:o}", "id", server, "links",
                                                   cmp__links(req, "servers", server)));
    json_object_set_new(v, "metadata", meta ? meta : json_object());
    return v;
}

static int
list(struct http_req *req, bool detail)
{
    int64_t limit;
    if (deprecated(req) < 0 || cmp__limit(req, &limit) < 0 || !cmp__db(req))
        return -1;
    struct img_brief *im;
    int n = 0;
    int rc = img_list_visible(req->db, req->arena, req->auth.project_id, cmp__admin(req),
                              http_query(req, "marker"), (int)limit, &im, &n);
    if (rc)
        return cmp__db_fail(req, rc);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, view(req, &im[i], detail));
    return http_reply_json(req, 200, json_pack("{s:o}", "images", arr));
}

int
cmp__images_list(struct http_req *req)
{
    return list(req, false);
}

int
cmp__images_detail(struct http_req *req)
{
    return list(req, true);
}

static int
find(struct http_req *req, struct img_brief *im)
{
    const char *id = http_param(req, "image_id");
    if (deprecated(req) < 0 || !cmp__db(req))
        return -1;
    int rc = img_lookup(req->db, req->arena, id, req->auth.project_id, cmp__admin(req), im);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Image not found.");
    return rc ? cmp__db_fail(req, rc) : 0;
}

int
cmp__image_show(struct http_req *req)
{
    struct img_brief im;
    if (find(req, &im) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "image", view(req, &im, true)));
}

int
cmp__image_delete(struct http_req *req)
{
    struct img_brief im;
    if (find(req, &im) < 0)
        return -1;
    /* Glance's rule: the owner or an admin */
    if (!cmp__admin(req) && (!im.owner || !req->auth.project_id ||
                             strcmp(im.owner, req->auth.project_id)))
        return req_fail(req, 403, "You are not allowed to delete the image.");
    int rc = img_delete(im.id);
    if (rc == -EPERM)
        return req_fail(req, 403, "Image %s is protected and cannot be deleted.", im.id);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Image not found.");
    return rc ? cmp__db_fail(req, rc) : http_reply_empty(req, 204);
}
