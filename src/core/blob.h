/* blob.h - durable files written as a stream: the one way a service keeps
 * bytes it acknowledges (object PUT, image upload).
 *
 * A blob is a hidden temp file in its final directory, hashed while it is
 * written. blob_commit() makes it durable under its final name (fsync,
 * rename, fsync of the directory) before it returns, so a caller that
 * records the name afterwards never points at bytes a crash could lose;
 * blob_abort() unlinks it. Only committed files ever carry a final name. */
#ifndef CORE_BLOB_H
#define CORE_BLOB_H

#include <stddef.h>
#include <stdint.h>

enum { BLOB_MD5 = 1, BLOB_SHA512 = 2 };

/* Bytes kept from the start of every blob (format sniffing, e.g. qcow2). */
#define BLOB_HEAD 64

struct blob;

/* Opens a blob in dir (which must exist), hashing with the BLOB_* bits in
 * hashes. *out is the caller's until blob_commit() or blob_abort().
 * 0 or -errno. */
int blob_open(const char *dir, unsigned hashes, struct blob **out);
/* Appends n bytes. 0 or -errno (-ENOSPC ...). */
int blob_write(struct blob *b, const void *p, size_t n);
/* Bytes written so far. */
uint64_t blob_size(const struct blob *b);
/* The first min(size, BLOB_HEAD) bytes written; *n gets their count. */
const unsigned char *blob_head(const struct blob *b, size_t *n);
/* Lower-case hex digests of everything written: md5 into out[33], sha512
 * into out[129]. Each may be read once, after the last write, and only if
 * asked for at blob_open(). */
void blob_md5_hex(struct blob *b, char out[33]);
void blob_sha512_hex(struct blob *b, char out[129]);
/* fsync, rename to dir/name, fsync dir. Frees b whatever happens; on
 * failure nothing is left under either name. 0 or -errno. */
int blob_commit(struct blob *b, const char *name);
/* Drops an uncommitted blob and its temp file; b may be NULL. */
void blob_abort(struct blob *b);

/* Opens path for reading: *fd (the caller's to close) and its *size.
 * 0 or -errno. */
int blob_open_read(const char *path, int *fd, uint64_t *size);

#endif
