/* store.h - where image bytes live.
 *
 * Two stores keep the data of images:
 *   file   DATA_DIR/images/<image id>
 *   swift  object <image id> in a container of the onestack object store
 *          (AUTH_<project id>/<container>), written through src/object's
 *          store and obj_db functions directly, never through HTTP
 * New data goes to the store chosen in the configuration ([image] store);
 * every image records which store holds its data (img_image.store), so
 * older images stay readable when the choice changes.
 *
 * The staging area DATA_DIR/images/staging/<image id> holds the bytes of
 * PUT /stage until an import moves them into the store.
 *
 * Every write goes through a hidden temp file and a durable commit (fsync,
 * rename, directory fsync: core/blob or the object store), so only complete
 * data is ever found under an image's name; the digests are computed while
 * the bytes go through. Nothing here knows HTTP; SQL only through obj_db. */
#ifndef IMAGE_STORE_H
#define IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct db;
struct img_writer;

/* Digests of everything written, lower-case hex. */
struct img_digest {
    char md5[33];
    char sha512[129];
    uint64_t size;
};

/* Store names as img_image.store keeps them. */
#define IMG_STORE_FILE "file"
#define IMG_STORE_SWIFT "swift"

/* Sets up the stores: the roots DATA_DIR/images and its staging/ (created
 * when missing); `kind` ("file" or "swift") is where new data goes. For
 * swift, swift_project is the id of the project whose account keeps the
 * images and container the container's name; swift_project may be NULL
 * when kind is "file" (images kept in swift earlier are then unreadable).
 * The object service must be initialised first. 0, -EINVAL (unknown kind,
 * swift without a project) or -errno. */
int img_store_init(const char *data_dir, const char *kind, const char *swift_project,
                   const char *container);
/* The store new data goes to: IMG_STORE_FILE or IMG_STORE_SWIFT. */
const char *img_store_default(void);
/* The object store account and container of the swift store, e.g.
 * "AUTH_1f..." and "glance" (empty when it has none). */
const char *img_store_swift_account(void);
const char *img_store_swift_container(void);

/* Opens a writer: into the default store, or into the staging area when
 * staging is true. db and a are used to find (or make) the swift
 * container. *out is the caller's until img_store_commit() or
 * img_store_abort(). 0 or -errno. */
int img_store_open(struct db *db, struct arena *a, bool staging, struct img_writer **out);
/* Appends n bytes, updating the digests. 0 or -errno (-ENOSPC ...). */
int img_store_write(struct img_writer *w, const void *p, size_t n);
/* Bytes written so far. */
uint64_t img_store_size(const struct img_writer *w);
/* The digests of everything written into *d. Call after the last write;
 * may be called more than once. */
void img_store_digest(struct img_writer *w, struct img_digest *d);
/* The virtual size of the data as disk_format says it is read: the qcow2
 * header's size when the data starts with the qcow2 magic, the byte size
 * for raw. false when it cannot be told (other formats, short data). */
bool img_store_virtual_size(const struct img_writer *w, const char *disk_format,
                            uint64_t *out);
/* Makes the bytes durable as the data (or the staged data) of image id.
 * *store gets the name of the store that now holds them (NULL for
 * staging). Frees w whatever happens; on failure nothing is left. 0 or
 * -errno (-ENOENT: the swift container vanished meanwhile). */
int img_store_commit(struct img_writer *w, struct db *db, struct arena *a, const char *id,
                     const char **store);
/* Drops an uncommitted writer and its temp file; w may be NULL. */
void img_store_abort(struct img_writer *w);

/* Opens the data of image id in store: *fd (the caller's to close) and
 * *size. 0 or -errno (-ENOENT when it is not there). */
int img_store_open_read(struct db *db, struct arena *a, const char *store, const char *id,
                        int *fd, uint64_t *size);
/* Removes the data of image id from store, or from every store and the
 * staging area when store is NULL; missing data is not an error. */
void img_store_remove(struct db *db, struct arena *a, const char *store, const char *id);

/* Opens the staged bytes of image id (as img_store_open_read). */
int img_stage_open_read(const char *id, int *fd, uint64_t *size);
/* true when image id has completely staged bytes. */
bool img_stage_exists(const char *id);
/* Removes the staged bytes of image id; missing ones are not an error. */
void img_stage_remove(const char *id);
/* Moves the staged bytes of image id into the default store (a rename for
 * the file store, a copy for swift, whose md5 must come out as md5) and
 * removes them from staging. *store gets the store's name and *vsize the
 * virtual size as img_store_virtual_size() tells it (-1 unknown). 0 or
 * -errno (-EIO: the copy does not match md5). */
int img_stage_import(struct db *db, struct arena *a, const char *id, const char *md5,
                     const char *disk_format, const char **store, int64_t *vsize);

/* Start-up clean-up, before any request is served: removes the temp files
 * writes left behind in the file store and staging (a crash), then calls
 * keep(arg, where, id) for every file in the file store (where "file")
 * and in staging ("staging") and unlinks those for which it returns
 * false. The swift store's temp files are the object store's: its own
 * start-up sweep (object/sweep.c) removes them. */
void img_store_sweep(bool (*keep)(void *arg, const char *where, const char *id), void *arg);

#endif
