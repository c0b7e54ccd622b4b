/* image.h - the image service (Glance v2 API at /image): what main.c needs
 * to start it. */
#ifndef IMAGE_IMAGE_H
#define IMAGE_IMAGE_H

#include "core/db.h"

#include <stdbool.h>
#include <stdint.h>

struct arena;

/* Sets up the image stores from [image] store / swift_project(_id) /
 * swift_container (DATA_DIR/images, its staging area, or the object
 * store), recovers the transfers a crash interrupted, then registers the
 * Glance routes and the policy defaults. Call before http_start(), with
 * the database pool open and the object service initialised. 0 or -1
 * (logged). */
int img_service_init(const char *data_dir);

/* Numbered schema migrations of the service, for db_migrate(); numbered
 * from 3501: issue 3's object service holds 3001-3500 of the shared
 * schema_migrations table. */
extern const struct db_migration img_migrations[];
extern const int img_nmigrations;

/* What compute needs to know of an image to boot from it. */
struct img_brief {
    const char *id, *name, *status, *owner, *visibility;
    const char *disk_format;            /* NULL when unset */
    const char *checksum;               /* md5 hex, NULL before data */
    const char *props;                  /* JSON object text */
    int64_t size, virtual_size;         /* -1 unknown */
    int64_t min_disk, min_ram;
    int64_t created_us, updated_us;
};

/* Image id as a user of project (admin: every image) may see it through
 * Glance, into *out (strings in a). 0, -ENOENT (none, or not visible), or
 * a DB_* code. db is borrowed. */
int img_lookup(struct db *db, struct arena *a, const char *id, const char *project_id,
               bool admin, struct img_brief *out);

/* The images a user of project (admin: every image) sees in Glance's
 * default listing, newest first, at most limit (<= 0: 1000), after the
 * image marker (NULL: from the start), into *out (arena), *n of them. 0
 * or a DB_* code. */
int img_list_visible(struct db *db, struct arena *a, const char *project_id, bool admin,
                     const char *marker, int limit, struct img_brief **out, int *n);

/* Copies the data of active image id into a new file at path (written
 * beside it and renamed, so path is complete or absent), checking it
 * against the image's md5 checksum. Opens and returns its own database
 * connection. 0 or -errno, with a sentence in why. */
int img_copy_to(const char *id, const char *path, char *why, size_t whylen);

/* Registers a queued image for a server snapshot: name, owner project,
 * extra properties props (JSON object text), min_disk / min_ram, and
 * disk_format qcow2, container_format bare, visibility private. *id_out
 * (37 bytes) gets its id. 0 or a DB_* code. */
int img_snapshot_create(struct db *db, struct arena *a, const char *name, const char *owner,
                        const char *props, int64_t min_disk, int64_t min_ram, char *id_out);

/* Stores the file at path as the data of queued snapshot image id and
 * makes it active. On failure the image goes to status killed. Opens its
 * own database connection. 0 or -errno (-ENOENT: the image was deleted
 * meanwhile), with a sentence in why. */
int img_snapshot_upload(const char *id, const char *path, char *why, size_t whylen);

/* Deletes image id and its data (a snapshot compute no longer needs, or
 * one deleted through Nova's image API after its own checks). 0, -ENOENT,
 * -EPERM (protected) or a DB_* code. */
int img_delete(const char *id);

#endif
