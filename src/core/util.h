/* util.h - small helpers shared by every module: allocation that cannot
 * fail quietly, time, ids, base64url, random bytes and a bounded buffer. */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>

/* malloc/calloc/realloc/strdup that abort on OOM: a control plane that
 * cannot allocate a few bytes cannot answer anything useful. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Wall-clock time in microseconds / seconds since the epoch. */
int64_t now_us(void);
int64_t now_s(void);
/* Monotonic time in microseconds, for durations. */
int64_t mono_us(void);

/* Formats t (µs since epoch) as "2026-11-22T04:09:18.000000Z" into out (>= 32
 * bytes). */
void time_iso(int64_t t_us, char *out, size_t outlen);
/* Parses an ISO 8601 timestamp ("YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+hh:mm]")
 * into µs since the epoch. Returns 0 on success, -1 if malformed. */
int time_parse_iso(const char *s, int64_t *out_us);

/* Fills buf with n cryptographically random bytes (aborts if the kernel
 * cannot give them). */
void random_bytes(void *buf, size_t n);
/* Writes a new random id as 32 lower-case hex characters + NUL (Keystone's
 * uuid4().hex form) into out[33]. */
void uuid_hex(char out[33]);
/* true when s is exactly 32 lower-case hex characters */
bool is_hex32(const char *s);

/* base64url without padding (RFC 4648 §5), as Fernet tokens and Keystone
 * audit ids use. enc: out needs 4*ceil(n/3)+1 bytes; returns the length.
 * dec: accepts input with or without '=' padding; returns decoded length
 * or -1 on bad input; out needs 3*(len/4)+3 bytes. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);
long b64url_decode(const char *in, size_t len, unsigned char *out);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* Growable byte buffer with a hard ceiling (curl dynbuf). */
struct buf {
    char *data;
    size_t len, cap, max;
    bool toobig;        /* set once an append would pass max */
};
void buf_init(struct buf *b, size_t max);
/* Appends n bytes; returns 0, or -1 (and sets toobig) past the ceiling. */
int buf_append(struct buf *b, const void *p, size_t n);
void buf_release(struct buf *b);

/* Reads a whole small file into a malloc'd NUL-terminated string; NULL on
 * error. *len receives its length when len is non-NULL. */
char *file_read(const char *path, size_t *len);
/* Writes data to path atomically (temp file, fsync, rename, dir fsync)
 * with the given mode. Returns 0 or -errno. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* fsync of a directory, so a rename or link made in it before the call
 * survives a power cut. Thread-safe and batched: concurrent callers share
 * one fsync per directory. 0 or -errno. */
int fsync_dir(const char *dir);
/* Group commit: fn(key) (an fsync of some kind) run so that one run
 * serves every caller with the same key that arrived before it started.
 * A caller returns once such a run has finished, with its result; the
 * caller that finds no run going leads and runs fn once per distinct key
 * queued so far. key must stay valid until the call returns. Initialise
 * with GROUP_SYNC_INIT. */
struct group_wait;
struct group_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct group_wait *queue;
    bool busy;
};
#define GROUP_SYNC_INIT {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER}
int group_sync(struct group_sync *g, int (*fn)(const char *key), const char *key);

/* mkdir -p with mode; 0 or -errno. */
int mkdir_p(const char *path, int mode);

#endif
