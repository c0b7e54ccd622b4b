/* api_members.c - sharing: /v2/images/{id}/members. Only shared images
 * have members. With Glance's default policies the image's owner (or an
 * admin) adds and removes members; a member sets its own status (pending,
 * accepted, rejected; the owner may not); the owner sees every member and
 * a member its own membership only. A member sees the image whatever its
 * status, and lists it by default once it has accepted. The checks and
 * messages follow Glance's image_members controller. */
#include "image_int.h"
#include "core/arena.h"

#include <errno.h>
#include <string.h>

/* Glance's member view. */
static json_t *
member_view(struct http_req *req, const struct img_member *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "member_id", m->member, "image_id",
                     m->image_id, "status", m->status, "created_at",
                     img__time(req, m->created_us), "updated_at",
                     img__time(req, m->updated_us), "schema", "/v2/schemas/member");
}

static bool
is_owner(struct http_req *req, const struct img_image *im)
{
    const char *p = req->auth.project_id;
    return p && im->owner && !strcmp(p, im->owner);
}

/* The membership a caller may look at: anyone's for the owner and admin,
 * else only its own (Glance filters the member rows by the caller). */
static const char *
member_filter(struct http_req *req, const struct img_image *im)
{
    if (img__admin(req) || is_owner(req, im))
        return NULL;
    return req->auth.project_id ? req->auth.project_id : "";
}

/* The member {member_id} of im as the caller may see it; -1 with 404
 * recorded when there is none (or it is someone else's). */
static int
find_member(struct http_req *req, const struct img_image *im, struct img_member *m)
{
    const char *id = http_param(req, "member_id");
    const char *only = member_filter(req, im);
    int rc = (only && strcmp(only, id)) ? -ENOENT
                                        : img_db_member_get(req->db, req->arena, im->id, id, m);
    if (rc == -ENOENT)
        return req_fail(req, 404, "%s not found in the member list of the image %s.", id,
                        im->id);
    return rc ? img__db_fail(req, rc, im->id) : 0;
}

/* The JSON object body of a member request; NULL with Glance's 400
 * recorded when there is none ("Expected a <what> in the form: <form>"
 * for one that is no object). */
static json_t *
body_of(struct http_req *req, const char *what, const char *form)
{
    json_t *b = img__json_body(req, "Body expected in request.");
    if (b && !json_is_object(b))
        req_fail(req, 400, "Expected a %s in the form: %s", what, form);
    return json_is_object(b) ? b : NULL;
}

int
img__members_list(struct http_req *req)
{
    struct img_image im;
    struct img_member *ms;
    int n;
    if (img__find(req, &im) < 0)
        return -1;
    if (strcmp(im.visibility, "shared"))
        return req_fail(req, 403, "Not allowed to list members for image %s: Only shared "
                                  "images have members.", im.id);
    int rc = img_db_member_list(req->db, req->arena, im.id, member_filter(req, &im), &ms, &n);
    if (rc)
        return img__db_fail(req, rc, im.id);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, member_view(req, &ms[i]));
    return http_reply_json(req, 200, json_pack("{s:o,s:s}", "members", arr, "schema",
                                               "/v2/schemas/members"));
}

int
img__member_create(struct http_req *req)
{
    static const char form[] = "{\"member\": \"image_id\"}";
    struct img_image im;
    struct img_member m;
    json_t *b = body_of(req, "member", form), *v;
    int count = 0;
    if (!b)
        return -1;
    if (!(v = json_object_get(b, "member")))
        return req_fail(req, 400, "Member to be added not specified");
    if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
        return req_fail(req, 400, "Member can't be empty");
    if (!json_is_string(v))
        return req_fail(req, 400, "Expected a member in the form: %s", form);
    const char *member = json_string_value(v);
    if (strlen(member) > 255)
        return req_fail(req, 400, "Member id is too long (at most 255 characters)");
    if (img__find(req, &im) < 0)
        return -1;
    /* only shared images have members, added by their owner (or admin) */
    if (strcmp(im.visibility, "shared") || (!img__admin(req) && !is_owner(req, &im)))
        return req_fail(req, 403, "Not allowed to create members for image %s.", im.id);
    int rc = img_db_member_add(req->db, req->arena, im.id, member, IMG_MAX_MEMBERS, &count,
                               &m);
    if (rc == -EEXIST)
        return req_fail(req, 409, "Member %s is duplicated for image %s", member, im.id);
    if (rc == -ENOSPC)
        return req_fail(req, 413, "Image member limit exceeded for image %s: The limit has "
                                  "been exceeded on the number of allowed image members for "
                                  "this image. Attempted: %d, Maximum: %d:", im.id,
                        count + 1, IMG_MAX_MEMBERS);
    if (rc)
        return img__db_fail(req, rc, im.id);
    return http_reply_json(req, 200, member_view(req, &m));
}

int
img__member_show(struct http_req *req)
{
    struct img_image im;
    struct img_member m;
    if (img__find(req, &im) < 0)
        return -1;
    /* Glance turns this refusal into a 404, to leak nothing */
    if (strcmp(im.visibility, "shared"))
        return req_fail(req, 404, "Only shared images have members.");
    if (find_member(req, &im, &m) < 0)
        return -1;
    return http_reply_json(req, 200, member_view(req, &m));
}

int
img__member_update(struct http_req *req)
{
    static const char form[] = "{\"status\": \"status\"}";
    static const char *const statuses[] = {"pending", "accepted", "rejected", NULL};
    struct img_image im;
    struct img_member m;
    json_t *b = body_of(req, "status", form), *v;
    if (!b)
        return -1;
    if (!(v = json_object_get(b, "status")))
        return req_fail(req, 400, "Status not specified");
    if (img__find(req, &im) < 0)
        return -1;
    /* a member answers for itself; the owner may not accept for it */
    if (strcmp(im.visibility, "shared") || (!img__admin(req) && is_owner(req, &im)))
        return req_fail(req, 403, "Not allowed to update members for image %s.", im.id);
    if (find_member(req, &im, &m) < 0)
        return -1;
    if (!json_is_string(v) || !img__in_list(statuses, json_string_value(v)))
        return req_fail(req, 400, "Incorrect request: Status must be \"pending\", \"accepted\" "
                                  "or \"rejected\".");
    int rc = img_db_member_set(req->db, req->arena, im.id, m.member, json_string_value(v), &m);
    if (rc == -ENOENT)
        return req_fail(req, 404, "%s not found in the member list of the image %s.",
                        http_param(req, "member_id"), im.id);
    return rc ? img__db_fail(req, rc, im.id) : http_reply_json(req, 200, member_view(req, &m));
}

int
img__member_delete(struct http_req *req)
{
    struct img_image im;
    const char *id = http_param(req, "member_id");
    if (img__find(req, &im) < 0)
        return -1;
    if (strcmp(im.visibility, "shared") || (!img__admin(req) && !is_owner(req, &im)))
        return req_fail(req, 403, "Not allowed to delete members for image %s.", im.id);
    /* the owner and admin see every member: no lookup before the delete */
    int rc = img_db_member_delete(req->db, req->arena, im.id, id);
    if (rc == -ENOENT)
        return req_fail(req, 404, "%s not found in the member list of the image %s.", id,
                        im.id);
    return rc ? img__db_fail(req, rc, im.id) : http_reply_empty(req, 204);
}
