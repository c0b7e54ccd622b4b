/* api_import.c - interoperable image import (POST /v2/images/{id}/import)
 * and the start-up recovery of transfers a crash interrupted.
 *
 * glance-direct: the image was staged (PUT /stage: status uploading, bytes
 * and their digests in the staging area); the import moves it to
 * importing, moves the bytes into the store (a rename for the file store,
 * a copy for swift) and makes it active. Glance runs this as a task after
 * answering 202; here it runs before the answer, on a worker (ROUTE_SLOW),
 * which a client cannot tell apart from a task that finished quickly: the
 * image is active when the 202 arrives. A failure returns the image to
 * queued without data.
 *
 * copy-image copies an active image into further stores. With one store
 * the image is in every store there is, so it succeeds (202) without doing
 * anything. web-download is not served: it would fetch from the network. */
#include "image_int.h"
#include "store.h"
#include "core/arena.h"
#include "core/jv.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

/* Glance keeps a finished task task_time_to_live (48 hours). */
#define TASK_TTL_US (48LL * 3600 * 1000000)

/* The import request's method name, checked as Glance's deserializer
 * does, and the request body into *body; NULL with 400 recorded. */
static const char *
import_method(struct http_req *req, json_t **body)
{
    static const char *const methods[] = {"glance-direct", "copy-image", NULL};
    json_t *b = img__json_body(req, "Body expected in request."), *m, *v;
    const char *name = NULL;
    *body = b;
    if (!b)
        return NULL;
    if (!json_is_object(b) || !(m = json_object_get(b, "method"))) {
        req_fail(req, 400, "Import request requires a 'method' field.");
    } else if (!json_is_object(m) || !(v = json_object_get(m, "name"))) {
        req_fail(req, 400, "Import request requires a 'name' field.");
    } else if (!json_is_string(v) || !img__in_list(methods, json_string_value(v))) {
        req_fail(req, 400, "Unknown import method name '%s'.",
                 json_is_string(v) ? json_string_value(v) : jv_repr(req, v));
    } else if ((v = json_object_get(b, "all_stores_must_succeed")) && !json_is_boolean(v)) {
        req_fail(req, 400, "'all_stores_must_succeed' must be boolean value only");
    } else if ((v = json_object_get(b, "all_stores")) && !json_is_boolean(v)) {
        req_fail(req, 400, "'all_stores' must be boolean value only");
    } else {
        name = arena_strdup(req->arena, json_string_value(json_object_get(m, "name")));
        /* without several stores there is no partial success to allow */
        if (json_is_false(json_object_get(b, "all_stores_must_succeed"))) {
            req_fail(req, 400, "All_stores_must_succeed can only be set with enabled_backends "
                               "None");
            name = NULL;
        }
    }
    return name;
}

/* Records the import task of im (processing) into *id (in the arena);
 * its input is what Glance's holds: the image, the request and the
 * (single, unnamed) backend. */
static int
task_start(struct http_req *req, const struct img_image *im, json_t *body, const char **id)
{
    char tid[37], *in;
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, tid);
    json_t *input = json_pack("{s:s,s:O,s:[n]}", "image_id", im->id, "import_req", body,
                              "backend");
    in = json_dumps(input, JSON_COMPACT);
    json_decref(input);
    struct img_task t = {
        .id = tid, .image_id = im->id, .type = "api_image_import", .status = "processing",
        .owner = req->auth.project_id, .user_id = req->auth.user_id,
        .request_id = req->request_id, .input = in, .created_us = now_us(),
    };
    int rc = img_db_task_add(req->db, &t);
    free(in);
    *id = arena_strdup(req->arena, tid);
    return rc == DB_OK ? 0 : img__db_fail(req, rc, im->id);
}

/* Finishes task id: success with the image as its result, or failure
 * with message. */
static void
task_end(struct http_req *req, const char *id, const char *image_id, const char *message)
{
    const char *result = message ? NULL : arena_printf(req->arena, "{\"image_id\":\"%s\"}",
                                                       image_id);
    if (req_db(req))
        img_db_task_finish(req->db, id, message ? "failure" : "success", result, message,
                           TASK_TTL_US);
}

/* The staged bytes of im into the store, and im active. */
static int
glance_direct(struct http_req *req, struct img_image *im, json_t *body)
{
    const char *now = NULL, *store = NULL, *task;
    int64_t vsize = -1;
    int rc = img_db_claim(req->db, req->arena, im->id, "uploading", "importing", img__node(),
                          &now);
    if (rc == -EBUSY)
        return req_fail(req, 409, "Image status transition from %s to importing is not "
                                  "allowed", now ? now : "");
    if (rc)
        return img__db_fail(req, rc, im->id);
    if (task_start(req, im, body, &task) < 0) {
        img_db_set_status(req->db, req->arena, im, "importing", "uploading", NULL);
        return -1;
    }
    rc = img_stage_import(req->db, req->arena, im->id, im->stage_md5, im->disk_format, &store,
                          &vsize);
    if (rc == 0)
        rc = img_db_set_data(req->db, req->arena, im->id, "importing", im->stage_md5,
                             im->stage_sha512, im->size, vsize, store);
    if (rc == 0) {
        task_end(req, task, im->id, NULL);
        return http_reply_empty(req, 202);
    }
    log_warn(req->request_id, "image %s: import failed: %s", im->id,
             rc > -1000 ? strerror(-rc) : db_errmsg(req->db));
    /* nothing half-done stays: no data anywhere, the image queued (unless
     * it was deleted meanwhile) */
    img_store_remove(req->db, req->arena, NULL, im->id);
    if (rc != -ENOENT) {
        img_db_unclaim(req->db, req->arena, im->id, "importing");
        task_end(req, task, im->id, rc == -EIO ? "the staged data changed since it was staged"
                                               : "the data could not be stored");
    }
    return req_fail(req, rc == -ENOENT ? 404 : 500, rc == -ENOENT
                    ? "Image %s was deleted during the import" : "Import of image %s failed",
                    im->id);
}

int
img__import(struct http_req *req)
{
    struct img_image im;
    json_t *body = NULL;
    const char *method = import_method(req, &body), *task;
    if (!method || img__find(req, &im) < 0)
        return -1;
    bool copy = !strcmp(method, "copy-image");
    if (!strcmp(im.status, "active") && !copy)
        return req_fail(req, 409, "Image with status active cannot be target for import");
    if (strcmp(im.status, "active") && copy)
        return req_fail(req, 409, "Only images with status active can be targeted for copying");
    if (!copy && (strcmp(im.status, "uploading") || !im.stage_sha512 ||
                  !img_stage_exists(im.id)))
        return req_fail(req, 409, "Image needs to be staged before 'glance-direct' method can "
                                  "be used");
    if (!im.container_format)
        return req_fail(req, 409, "'container_format' needs to be set before import");
    if (!im.disk_format)
        return req_fail(req, 409, "'disk_format' needs to be set before import");
    if (img__may_change(req, copy ? "copy_image" : "modify_image", &im) < 0)
        return -1;
    if (!copy)
        return glance_direct(req, &im, body);
    /* the image is in every store there is: done as soon as begun */
    if (task_start(req, &im, body, &task) < 0)
        return -1;
    task_end(req, task, im.id, NULL);
    return http_reply_empty(req, 202);
}

/* Time as Glance's task view shows it: "2026-11-22T05:50:09.000000". */
static json_t *
task_time(int64_t us)
{
    char b[40];
    if (us < 0)
        return json_null();
    time_iso(us, b, sizeof(b));
    b[strcspn(b, "Z")] = '\0';
    return json_string(b);
}

static json_t *
json_text(const char *s)
{
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    return v ? v : json_null();
}

int
img__tasks(struct http_req *req)
{
    struct img_image im;
    struct img_task *ts;
    int n;
    if (img__find(req, &im) < 0)
        return -1;
    int rc = img_db_task_list(req->db, req->arena, im.id,
                              img__admin(req) ? NULL : req->auth.project_id ? req->auth.project_id
                                                                            : "",
                              &ts, &n);
    if (rc)
        return img__db_fail(req, rc, im.id);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        const struct img_task *t = &ts[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", t->id, "type", t->type, "status",
                              t->status, "image_id", t->image_id, "message", t->message);
        json_object_set_new(o, "owner", t->owner ? json_string(t->owner) : json_null());
        json_object_set_new(o, "user_id", t->user_id ? json_string(t->user_id) : json_null());
        json_object_set_new(o, "request_id",
                            t->request_id ? json_string(t->request_id) : json_null());
        json_object_set_new(o, "input", json_text(t->input));
        json_object_set_new(o, "result", json_text(t->result));
        json_object_set_new(o, "created_at", task_time(t->created_us));
        json_object_set_new(o, "updated_at", task_time(t->updated_us));
        json_object_set_new(o, "expires_at", task_time(t->expires_us));
        json_object_set_new(o, "deleted_at", json_null());
        json_object_set_new(o, "deleted", json_false());
        json_array_append_new(arr, o);
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "tasks", arr));
}

/* ---- start-up recovery ---- */

/* The ids of the images that own files (img_db_file_owners), per area,
 * sorted with cmp_str (not by SQL: the engines' collations differ). */
struct sweep_ctx {
    const char **file, **staging;
    int nfile, nstaging;
};

static int
cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Whether a file of the file store or the staging area still belongs to
 * an image: the data of an active (or deactivated) image kept in files,
 * or completely staged bytes awaiting their import. */
static bool
keep_file(void *arg, const char *where, const char *id)
{
    struct sweep_ctx *c = arg;
    bool staging = !strcmp(where, "staging");
    return bsearch(&id, staging ? c->staging : c->file,
                   (size_t)(staging ? c->nstaging : c->nfile), sizeof(id), cmp_str) != NULL;
}

int
img__recover(void)
{
    struct db *db = db_get();
    struct arena *a = arena_new();
    struct sweep_ctx c = {0};
    struct img_image *ims;
    int n = 0, rc = -1;
    if (!db || !a)
        goto out;
    if (img_db_backfill_props(db, a) != DB_OK ||
        img_db_in_transfer(db, a, img__node(), &ims, &n) != DB_OK) {
        log_error(NULL, "image: start-up recovery: %s", db_errmsg(db));
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const struct img_image *im = &ims[i];
        /* a finished stage is durable and waits for its import */
        if (!strcmp(im->status, "uploading") && im->stage_sha512 && img_stage_exists(im->id))
            continue;
        if (img_db_unclaim(db, a, im->id, im->status) == 0)
            img_store_remove(db, a, NULL, im->id);
        img_db_task_interrupted(db, im->id, "the service stopped during the import",
                                TASK_TTL_US);
        log_warn(NULL, "image %s was %s when the service stopped: back to queued, its partial "
                 "data removed", im->id, im->status);
    }
    /* one query per area, not one per file found */
    if (img_db_file_owners(db, a, false, &c.file, &c.nfile) != DB_OK ||
        img_db_file_owners(db, a, true, &c.staging, &c.nstaging) != DB_OK) {
        log_error(NULL, "image: start-up recovery: %s", db_errmsg(db));
        goto out;
    }
    qsort(c.file, (size_t)c.nfile, sizeof(*c.file), cmp_str);
    qsort(c.staging, (size_t)c.nstaging, sizeof(*c.staging), cmp_str);
    img_store_sweep(keep_file, &c);
    rc = 0;
out:
    db_put(db);
    arena_free(a);
    return rc;
}
