/* image_int.h - shared between the image service's API files only. */
#ifndef IMAGE_IMAGE_INT_H
#define IMAGE_IMAGE_INT_H

#include <stdbool.h>

#include "core/http.h"
#include "img_db.h"

/* Glance's image_size_cap default: 1 TiB. */
#define IMG_MAX_SIZE 1099511627776LL
/* Glance's image_tag_quota, image_property_quota and image_member_quota
 * defaults. */
#define IMG_MAX_TAGS 128
#define IMG_MAX_PROPS 128
#define IMG_MAX_MEMBERS 128
#define IMG_MAX_LIMIT 1000
#define IMG_DEFAULT_LIMIT 25
/* The import methods served (Glance's enabled_import_methods): no
 * web-download, which would fetch from the network. */
#define IMG_IMPORT_METHODS "glance-direct,copy-image"

/* The database or NULL with 503 recorded. */
struct db *img__db(struct http_req *req);
/* Records the failure for an img_db_* code: -ENOENT 404 naming id,
 * -EEXIST 409, anything else 500. Returns -1. */
int img__db_fail(struct http_req *req, int rc, const char *id);
/* The request body parsed as JSON (any type, freed with the request), or
 * NULL with Glance's 400 recorded: `empty` when there is no body, else
 * "Malformed JSON in request body.". For the routes whose body is not
 * ROUTE_JSON's object. */
json_t *img__json_body(struct http_req *req, const char *empty);
/* true when the caller holds the admin role. */
bool img__admin(struct http_req *req);
/* true when the caller may see im: admin, public or community, its
 * owner's project, or a member of a shared image (any member status).
 * Uses req->db for the membership. */
bool img__visible(struct http_req *req, const struct img_image *im);
/* The image of the {image_id} path parameter when the caller may see it,
 * into *im; -1 with 404 recorded otherwise (an image one may not see does
 * not exist, as Glance answers). A path that ends in '/' is no image
 * resource: 404 too. */
int img__find(struct http_req *req, struct img_image *im);
/* 0 when the caller may change im (its owner or admin), else -1 with 403
 * recorded; action names the Glance policy rule ("modify_image"). */
int img__may_change(struct http_req *req, const char *action, const struct img_image *im);
/* true when the request path ends in '/' (which the router ignores but
 * Glance's does not: such a path names no resource). */
bool img__trailing_slash(struct http_req *req);
/* Glance's image view as a new JSON object. */
json_t *img__view(struct http_req *req, const struct img_image *im);
/* Time as Glance shows it, "2026-11-22T05:50:09Z", in the request arena. */
const char *img__time(struct http_req *req, int64_t us);
/* This process's node id (written on images whose data it moves). */
const char *img__node(void);
/* true for the values of list l (NULL-terminated). */
bool img__in_list(const char *const *l, const char *s);

/* api_images.c */
int img__create(struct http_req *req);
int img__show(struct http_req *req);
int img__update(struct http_req *req);
int img__delete(struct http_req *req);
int img__tag_put(struct http_req *req);
int img__tag_delete(struct http_req *req);
int img__deactivate(struct http_req *req);
int img__reactivate(struct http_req *req);
/* Methods /v2/images does not have: 404 for "/v2/images/" (no id), else
 * 405. */
int img__no_method(struct http_req *req);

/* api_list.c */
int img__list(struct http_req *req);

/* api_members.c */
int img__members_list(struct http_req *req);
int img__member_create(struct http_req *req);
int img__member_show(struct http_req *req);
int img__member_update(struct http_req *req);
int img__member_delete(struct http_req *req);

/* api_data.c */
extern const struct http_stream_ops img__upload;
extern const struct http_stream_ops img__stage;
int img__download(struct http_req *req);

/* api_import.c */
int img__import(struct http_req *req);
/* GET /v2/images/{id}/tasks: the image's import tasks (API 2.12). */
int img__tasks(struct http_req *req);
/* Start-up recovery (before serving): images this node left saving,
 * importing or half-staged go back to queued and lose their partial
 * bytes; files nothing points at are removed. 0 or -1 (logged). */
int img__recover(void);

#endif
