/* store.h - where object bytes live: the narrow interface the Swift API
 * writes and reads through. The one backend today keeps each object version
 * in its own file, DATA_DIR/objects/<account>/<container id>/<file>, where
 * <file> is the md5 of the object name plus a random suffix, so an
 * overwrite never touches the bytes a reader or the listing still points
 * at. A RADOS backend replaces this file, not its callers.
 *
 * Nothing here knows HTTP or SQL. A write is: open a writer (a hidden temp
 * file), feed it, read its digest, then commit (fsync, rename, directory
 * fsync) or abort (unlink); only a committed file ever has a final name. */
#ifndef OBJECT_STORE_H
#define OBJECT_STORE_H

#include <stddef.h>
#include <stdint.h>

struct obj_writer;

/* Sets the root (DATA_DIR/objects, created when missing). 0 or -errno. */
int obj_store_init(const char *data_dir);

/* Opens a writer for a new object version in account/container_id.
 * *out is the caller's until obj_store_commit() or obj_store_abort().
 * 0 or -errno. */
int obj_store_open(const char *account, const char *container_id, struct obj_writer **out);
/* Appends n bytes, updating size and MD5. 0 or -errno (ENOSPC ...). */
int obj_store_write(struct obj_writer *w, const void *p, size_t n);
/* Bytes written so far. */
uint64_t obj_store_size(const struct obj_writer *w);
/* Lower-case hex MD5 of everything written, into etag[33]. Call once,
 * after the last write. */
void obj_store_digest(struct obj_writer *w, char etag[33]);
/* Makes the bytes durable under a final name derived from object_name:
 * fsync, rename, fsync of the directory. The final file name (not a path)
 * goes to file[80]. Frees w whatever happens. 0 or -errno. */
int obj_store_commit(struct obj_writer *w, const char *object_name, char file[80]);
/* Drops an uncommitted writer and its temp file; w may be NULL. */
void obj_store_abort(struct obj_writer *w);

/* Gives a committed file a second, durable name in account/container_id
 * (a server-side copy); the new file name goes to file[80]. Files never
 * change after commit (every version is a file of its own, removed only
 * by unlink), so the copy may share the bytes through a hard link; when
 * no link can be made (another file system) the bytes are copied. 0 or
 * -errno. */
int obj_store_link(const char *src_account, const char *src_container_id, const char *src_file,
                   const char *account, const char *container_id, const char *object_name,
                   char file[80]);

/* Opens a committed file for reading: *fd (the caller's to close) and its
 * *size. 0 or -errno (-ENOENT when it was removed meanwhile). */
int obj_store_open_read(const char *account, const char *container_id, const char *file,
                        int *fd, uint64_t *size);
/* Removes a committed file; a missing one is not an error. */
void obj_store_remove(const char *account, const char *container_id, const char *file);
/* Removes a container's directory once the container row is gone (left
 * temp files of uploads still running keep it; they fail at commit). */
void obj_store_remove_container(const char *account, const char *container_id);

#endif
