/* img_db.h - all SQL of the image service. An image is one row of
 * img_image (its tags and extra properties also as JSON text there, for
 * rendering) plus its rows in img_tag and img_prop (for the list filters);
 * all are always written together. Members of shared images are rows of
 * img_member.
 *
 * Status moves (Glance's): queued -> saving -> active (PUT /file);
 * queued -> uploading (PUT /stage; the staged bytes' digests are kept in
 * stage_* columns once complete) -> importing -> active (POST /import);
 * active <-> deactivated. A process that claims an image for a data
 * transfer (saving, uploading, importing) writes its node id in `worker`,
 * so that after a crash it resets its own images only (img_db_recover).
 *
 * Import tasks are rows of img_task.
 *
 * Functions return 0, -ENOENT (no such image / member), -EEXIST (id
 * taken), -EBUSY (the image is not in the status the change needs), or a
 * DB_* code. */
#ifndef IMAGE_IMG_DB_H
#define IMAGE_IMG_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"

struct arena;

struct img_image {
    const char *id, *name, *status, *visibility, *owner;
    const char *checksum, *hash_algo, *hash_value;     /* NULL until data */
    const char *disk_format, *container_format;         /* NULL = unset */
    int64_t size, virtual_size;                         /* -1 = unknown */
    int64_t min_disk, min_ram;
    bool protected_, hidden;
    int64_t created_us, updated_us;
    const char *tags;           /* JSON array text, sorted, unique */
    const char *props;          /* JSON object text: extra properties */
    const char *store;          /* "file"/"swift" once it has data, else NULL */
    const char *stage_md5;      /* digests of completely staged bytes, */
    const char *stage_sha512;   /* else NULL */
};

struct img_member {
    const char *image_id, *member, *status;
    int64_t created_us, updated_us;
};

/* An import task as Glance records it (API 2.12 image tasks). */
struct img_task {
    const char *id, *image_id, *type, *status, *owner, *user_id, *request_id;
    const char *input, *result;     /* JSON text or NULL */
    const char *message;
    int64_t created_us, updated_us, expires_us;     /* expires -1: not finished */
};

/* One condition of a listing: column op value(s). */
enum img_op {
    IMG_OP_EQ = 1,
    IMG_OP_NEQ,
    IMG_OP_GT,
    IMG_OP_GTE,
    IMG_OP_LT,
    IMG_OP_LTE,
    IMG_OP_IN,
};

#define IMG_MAX_CONDS 16
#define IMG_MAX_IN 32
#define IMG_MAX_SORT 4

struct img_cond {
    const char *col;            /* a name from img_db_filter_cols; NULL: prop */
    const char *prop;           /* extra property name when col is NULL */
    enum img_op op;
    const char *vals[IMG_MAX_IN];   /* IMG_OP_IN: nvals of them, else one */
    int nvals;
};

/* What a listing asks for; NULL / empty members do not filter. */
struct img_filter {
    struct img_cond conds[IMG_MAX_CONDS];
    int nconds;
    const char *tags[IMG_MAX_CONDS];    /* every one must be on the image */
    int ntags;
    const char *visibility;     /* public/private/shared/community/all, NULL default */
    const char *member_status;  /* pending/accepted/rejected/all */
    const char *caller;         /* the caller's project (may be NULL) */
    bool admin;                 /* the caller sees every image */
    int hidden;                 /* -1 any, 0/1 os_hidden */
    int protected_;             /* -1 any, 0/1 */
    const char *sort_keys[IMG_MAX_SORT + 2];    /* names from img_db_sort_keys */
    bool sort_asc[IMG_MAX_SORT + 2];
    int nsort;
    const char *marker;         /* id of the last image of the previous page */
    int limit;
};

/* Sort keys a listing accepts (Glance's), NULL-terminated. */
extern const char *const img_db_sort_keys[];
/* Columns a condition may name, NULL-terminated; img_db_int_col() tells
 * which compare as integers (the caller checks the values are). Times
 * compare in whole seconds since the epoch. */
extern const char *const img_db_filter_cols[];
bool img_db_int_col(const char *col);

/* The image id, into *out (strings in a). 0 or -ENOENT. */
int img_db_get(struct db *db, struct arena *a, const char *id, struct img_image *out);
/* Inserts a new image. 0 or -EEXIST. */
int img_db_insert(struct db *db, struct arena *a, const struct img_image *im);
/* Writes the user-changeable columns, the tags and properties of im
 * (status and data columns are left alone). 0 or -ENOENT. */
int img_db_update(struct db *db, struct arena *a, const struct img_image *im);
/* Moves image id from status `from` to `to`. 0, -ENOENT, or -EBUSY when it
 * is in another status (*now, in a, then says which). */
int img_db_set_status(struct db *db, struct arena *a, const struct img_image *im,
                      const char *from, const char *to, const char **now);
/* The same move for a data transfer this node runs: also records worker
 * (the node id) on the row. */
int img_db_claim(struct db *db, struct arena *a, const char *id, const char *from,
                 const char *to, const char *worker, const char **now);
/* Gives an image in status `from` back to queued with no data: size,
 * staged digests, store and worker cleared. 0 or -ENOENT when it is no
 * longer in `from`. */
int img_db_unclaim(struct db *db, struct arena *a, const char *id, const char *from);
/* Records the data and makes an image in status `from` (saving or
 * importing) active, kept in store. 0, or -ENOENT when it is gone or no
 * longer in `from` (deleted meanwhile). */
int img_db_set_data(struct db *db, struct arena *a, const char *id, const char *from,
                    const char *md5, const char *sha512, int64_t size, int64_t virtual_size,
                    const char *store);
/* Records completely staged bytes (size and digests) of an uploading
 * image. 0 or -ENOENT when it is gone or no longer uploading. */
int img_db_set_staged(struct db *db, struct arena *a, const char *id, const char *md5,
                      const char *sha512, int64_t size);
/* Deletes the image, its tags, properties and members. 0 or -ENOENT. */
int img_db_delete(struct db *db, struct arena *a, const char *id);
/* One page of images matching f into *items (in a), *n of them. The
 * caller checks that the marker names an image (one that does not gives
 * an empty page). */
int img_db_list(struct db *db, struct arena *a, const struct img_filter *f,
                struct img_image **items, int *n);

/* ---- members ---- */

/* The membership of member in image_id. 0 or -ENOENT. */
int img_db_member_get(struct db *db, struct arena *a, const char *image_id, const char *member,
                      struct img_member *out);
/* The memberships of image_id, oldest first; only member's own when member
 * is non-NULL (what a non-owner may see). */
int img_db_member_list(struct db *db, struct arena *a, const char *image_id, const char *member,
                       struct img_member **out, int *n);
/* Adds member to image_id as pending unless it has max members already
 * (-ENOSPC, *count then says how many). 0, -EEXIST or -ENOSPC. */
int img_db_member_add(struct db *db, struct arena *a, const char *image_id, const char *member,
                      int max, int *count, struct img_member *out);
/* Sets the member's status. 0 or -ENOENT. */
int img_db_member_set(struct db *db, struct arena *a, const char *image_id, const char *member,
                      const char *status, struct img_member *out);
/* Removes the membership. 0 or -ENOENT. */
int img_db_member_delete(struct db *db, struct arena *a, const char *image_id,
                         const char *member);

/* ---- tasks ---- */

/* Records a new task (its created_us set; it expires once finished). */
int img_db_task_add(struct db *db, const struct img_task *t);
/* Finishes task id with status (success/failure), result (JSON text or
 * NULL) and message; it is then kept ttl_us more. */
int img_db_task_finish(struct db *db, const char *id, const char *status, const char *result,
                       const char *message, int64_t ttl_us);
/* The live tasks of image_id, oldest first; only those of owner (and
 * ownerless ones) when owner is non-NULL. */
int img_db_task_list(struct db *db, struct arena *a, const char *image_id, const char *owner,
                     struct img_task **out, int *n);
/* Fails the unfinished tasks of image_id (their run was interrupted). */
int img_db_task_interrupted(struct db *db, const char *image_id, const char *message,
                            int64_t ttl_us);

/* ---- start-up ---- */

/* Images this worker left in a transfer status (saving, uploading,
 * importing) when it stopped, into *out (ids and statuses in a). */
int img_db_in_transfer(struct db *db, struct arena *a, const char *worker,
                       struct img_image **out, int *n);
/* The ids of the images whose bytes may be files of this node into *ids
 * (in a), in no order: with staging, those completely staged and
 * awaiting their import; else those (active or deactivated) kept in the
 * file store. */
int img_db_file_owners(struct db *db, struct arena *a, bool staging, const char ***ids,
                       int *n);
/* Fills img_prop from img_image.props for images written before img_prop
 * existed. */
int img_db_backfill_props(struct db *db, struct arena *a);
/* The id of project `name` of the default domain (the identity service's
 * table), into *id (in a). 0 or -ENOENT. */
int img_db_project_id(struct db *db, struct arena *a, const char *name, const char **id);

#endif
