/* store.h - where image bytes live: one file per image,
 * DATA_DIR/images/<image id>, written through a hidden temp file in the
 * same directory (fsync, rename, directory fsync) so only complete data
 * ever has the final name. A Swift or RADOS backend replaces store.c, not
 * its callers. Nothing here knows HTTP or SQL. */
#ifndef IMAGE_STORE_H
#define IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct img_writer;

/* Digests of everything written, lower-case hex. */
struct img_digest {
    char md5[33];
    char sha512[129];
    uint64_t size;
};

/* Sets the root (DATA_DIR/images, created when missing). 0 or -errno. */
int img_store_init(const char *data_dir);

/* Opens a writer on a new temp file; *out is the caller's until
 * img_store_commit() or img_store_abort(). 0 or -errno. */
int img_store_open(struct img_writer **out);
/* Appends n bytes, updating the digests. 0 or -errno (ENOSPC ...). */
int img_store_write(struct img_writer *w, const void *p, size_t n);
/* Bytes written so far. */
uint64_t img_store_size(const struct img_writer *w);
/* Finishes the digests into *d. Call once, after the last write. */
void img_store_digest(struct img_writer *w, struct img_digest *d);
/* The virtual size of the data as disk_format says it is read: the qcow2
 * header's size when the data starts with the qcow2 magic, the byte size
 * for raw. false when it cannot be told (other formats, short data). */
bool img_store_virtual_size(const struct img_writer *w, const char *disk_format,
                            uint64_t *out);
/* Makes the bytes durable as the data of image id (fsync, rename,
 * directory fsync). Frees w whatever happens. 0 or -errno. */
int img_store_commit(struct img_writer *w, const char *id);
/* Drops an uncommitted writer and its temp file; w may be NULL. */
void img_store_abort(struct img_writer *w);

/* Opens the data of image id: *fd (the caller's to close) and *size.
 * 0 or -errno. */
int img_store_open_read(const char *id, int *fd, uint64_t *size);
/* Removes the data of image id; a missing file is not an error. */
void img_store_remove(const char *id);

#endif
