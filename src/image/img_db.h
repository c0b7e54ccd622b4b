/* img_db.h - all SQL of the image service. An image is one row of
 * img_image (its tags also as a JSON array there, for rendering) plus its
 * rows in img_tag (for the tag filter); both are always written together.
 * Functions return 0, -ENOENT (no such image), -EEXIST (id taken), -EBUSY
 * (the image is not in the status the change needs), or a DB_* code. */
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
};

/* What a listing asks for; NULL members do not filter. */
struct img_filter {
    const char *name, *status, *owner, *tag, *disk_format, *container_format;
    const char *visibility;     /* public/private/shared/community/all, NULL default */
    const char *caller;         /* the caller's project (may be NULL) */
    bool admin;                 /* the caller sees every image */
    int hidden;                 /* -1 any, 0/1 os_hidden */
    const char *sort_key;       /* a column name from img_db_sort_keys */
    bool asc;
    const char *marker;         /* id of the last image of the previous page */
    int limit;
};

/* Sort keys a listing accepts, NULL-terminated. */
extern const char *const img_db_sort_keys[];

/* The image id, into *out (strings in a). 0 or -ENOENT. */
int img_db_get(struct db *db, struct arena *a, const char *id, struct img_image *out);
/* Inserts a new image. 0 or -EEXIST. */
int img_db_insert(struct db *db, struct arena *a, const struct img_image *im);
/* Writes the user-changeable columns and the tags of im (status and data
 * columns are left alone). 0 or -ENOENT. */
int img_db_update(struct db *db, struct arena *a, const struct img_image *im);
/* Moves image id from status `from` to `to`. 0, -ENOENT, or -EBUSY when it
 * is in another status (*now, in a, then says which). */
int img_db_set_status(struct db *db, struct arena *a, const struct img_image *im,
                      const char *from, const char *to, const char **now);
/* Records the uploaded data and makes a saving image active. 0, or
 * -ENOENT when it is gone or no longer saving (deleted meanwhile). */
int img_db_set_data(struct db *db, struct arena *a, const char *id, const char *md5,
                    const char *sha512, int64_t size, int64_t virtual_size);
/* Deletes the image and its tags. 0 or -ENOENT. */
int img_db_delete(struct db *db, struct arena *a, const char *id);
/* One page of images matching f into *items (in a), *n of them. A marker
 * that names no image gives -ENOENT. */
int img_db_list(struct db *db, struct arena *a, const struct img_filter *f,
                struct img_image **items, int *n);

#endif
