/* store.h - where object bytes live: the narrow interface the Swift API
 * writes and reads through. The one backend today keeps each object version
 * in its own file, DATA_DIR/objects/<account>/<container id>/<file>, where
 * <file> is the md5 of the object name plus a random suffix, so an
 * overwrite never touches the bytes a reader or the listing still points
 * at. A RADOS backend replaces this file, not its callers.
 *
 * Nothing here knows HTTP or SQL. A write is: open a writer (a hidden temp
 * file), feed it, read its digest, then commit (fsync, rename, directory
 * fsync) or abort (unlink); only a committed file ever has a final name.
 *
 * Small objects (at most OBJ_INLINE_MAX bytes, when the caller allows it)
 * never become files: their bytes go into the listing database in the
 * same transaction as their row (obj_db.h, table obj_inline), so one
 * write-ahead-log flush makes them durable instead of three flushes (the
 * file, its directory, the log). A 4 KiB PUT measured 2.6-5.7x Swift's
 * rate with files and is bound by those flushes. Such an object has an
 * "inline" file name, beginning with OBJ_INLINE_MARK, that names its row
 * in obj_inline instead of a file; its bytes travel as base64url text
 * (the `data` of the calls below) between the database and this layer. */
#ifndef OBJECT_STORE_H
#define OBJECT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Objects up to this size are kept in the database (see above). */
#define OBJ_INLINE_MAX 16384
#define OBJ_INLINE_MARK '@'

struct arena;

struct obj_writer;

/* Sets the root (DATA_DIR/objects, created when missing). 0 or -errno. */
int obj_store_init(const char *data_dir);

/* Opens a writer for a new object version in account/container_id.
 * With may_inline, an object that ends up no larger than OBJ_INLINE_MAX
 * is kept in memory and committed inline (the caller then stores its
 * data with its row). *out is the caller's until obj_store_commit() or
 * obj_store_abort(). 0 or -errno. */
int obj_store_open(const char *account, const char *container_id, bool may_inline,
                   struct obj_writer **out);
/* Appends n bytes, updating size and MD5. 0 or -errno (ENOSPC ...). */
int obj_store_write(struct obj_writer *w, const void *p, size_t n);
/* Bytes written so far. */
uint64_t obj_store_size(const struct obj_writer *w);
/* Lower-case hex MD5 of everything written, into etag[33]. Call once,
 * after the last write. */
void obj_store_digest(struct obj_writer *w, char etag[33]);
/* Makes the bytes durable under a final name derived from object_name:
 * fsync, rename, fsync of the directory. The final file name (not a path)
 * goes to file[80] and *data is NULL. An object kept inline gets an
 * inline name instead and its bytes as base64url text in *data (in a):
 * nothing is durable until the caller's row with that data commits.
 * a and data may be NULL for a writer opened without may_inline. Frees w
 * whatever happens. 0 or -errno. */
int obj_store_commit(struct obj_writer *w, const char *object_name, char file[80],
                     struct arena *a, const char **data);
/* Drops an uncommitted writer and its temp file; w may be NULL. */
void obj_store_abort(struct obj_writer *w);

/* Gives a committed file a second, durable name in account/container_id
 * (a server-side copy); the new file name goes to file[80]. Files never
 * change after commit (every version is a file of its own, removed only
 * by unlink), so the copy may share the bytes through a hard link; when
 * no link can be made (another file system) the bytes are copied. An
 * inline source gets a new inline name and nothing else happens here:
 * its caller stores the source row's data again with the new row. 0 or
 * -errno. */
int obj_store_link(const char *src_account, const char *src_container_id, const char *src_file,
                   const char *account, const char *container_id, const char *object_name,
                   char file[80]);
/* true when file names inline bytes (a row of obj_inline), not a file */
bool obj_store_is_inline(const char *file);

/* Opens a committed file for reading: *fd (the caller's to close) and its
 * *size. An inline object's data (its row's, base64url) is given as a
 * file descriptor too, of an anonymous memory file, so every reader
 * treats both alike. 0 or -errno (-ENOENT when it was removed meanwhile,
 * -EIO when an inline name comes without its data). */
int obj_store_open_read(const char *account, const char *container_id, const char *file,
                        const char *data, int *fd, uint64_t *size);
/* Removes a committed file; a missing one is not an error, and an inline
 * name is none (its bytes go with its row). */
void obj_store_remove(const char *account, const char *container_id, const char *file);
/* Removes a container's directory once the container row is gone (left
 * temp files of uploads still running keep it; they fail at commit). */
void obj_store_remove_container(const char *account, const char *container_id);

#endif
