/* tar.h - a push parser for tar archives, optionally gzip- or
 * bzip2-compressed, for Swift's bulk extraction (bulk.c).
 *
 * Bytes go in as they arrive (tar_feed) and come out as callbacks: one
 * per member header, its data in pieces, and the end of its data. Nothing
 * is buffered beyond one 512-byte header and the metadata members (GNU
 * long names, pax extended headers), which are bounded. It reads what
 * Python's tarfile writes and reads: v7, ustar (prefix + name), GNU (long
 * names 'L'/'K', base-256 sizes) and pax ('x' and global 'g' headers:
 * path, size, and the records passed on for xattrs). Knows nothing of
 * Swift or HTTP. */
#ifndef OBJECT_TAR_H
#define OBJECT_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tar_codec { TAR_PLAIN = 0, TAR_GZIP, TAR_BZIP2 };

/* tar_feed / tar_finish results */
enum {
    TAR_OK = 0,
    TAR_EFORMAT = -1,   /* not a (readable) archive: see tar_error() */
    TAR_ESTOP = -2,     /* a callback asked to stop */
};

/* Bounds on metadata members; larger ones make the archive invalid. */
#define TAR_MAX_LONGNAME 65536
#define TAR_MAX_PAX (1 << 20)

/* A member, as its header (and the metadata members before it) says. */
struct tar_entry {
    const char *name;       /* full path; directories lose their trailing '/' */
    uint64_t size;          /* bytes of data that follow (0 for links, dirs...) */
    char type;              /* typeflag: '0' file, '5' dir, '2' symlink ... */
    bool file;              /* a regular file ('0', '\0', '7'), the only kind
                             * whose data is extracted */
    /* raw pax records ("<len> key=value\n"...) of the global headers seen
     * so far and of this member; see tar_pax_each() */
    const char *pax_global, *pax_local;
    size_t pax_global_len, pax_local_len;
};

struct tar_ops {
    /* A member's header: 0 to be fed its data, 1 to have it skipped, -1 to
     * stop (tar_feed then returns TAR_ESTOP). Called for every member
     * kind but the metadata ones. */
    int (*entry)(void *arg, const struct tar_entry *e);
    /* The next n bytes of the member taken by entry(); 0 or -1 to stop. */
    int (*data)(void *arg, const char *p, size_t n);
    /* All of the taken member's data has come; 0 or -1 to stop. */
    int (*end)(void *arg);
};

struct tar;

/* A parser for an archive compressed with codec, calling ops with arg.
 * NULL on OOM. Free with tar_free(). */
struct tar *tar_new(enum tar_codec codec, const struct tar_ops *ops, void *arg);
/* Feeds the next n bytes of the archive. TAR_OK, TAR_EFORMAT or TAR_ESTOP;
 * after anything but TAR_OK every later call returns the same and calls
 * nothing. */
int tar_feed(struct tar *t, const void *p, size_t n);
/* The input is over: TAR_EFORMAT when it ended inside a member, a header
 * or the compressed stream, or held nothing at all. A member taken by
 * entry() whose end() has not come is then incomplete (the caller drops
 * what it has of it). */
int tar_finish(struct tar *t);
/* Why the archive is invalid ("bad checksum", "unexpected end of data"...);
 * "" otherwise. Lives as long as t. */
const char *tar_error(const struct tar *t);
/* Frees t; NULL is fine. */
void tar_free(struct tar *t);

/* Calls fn for each pax record of e, global ones first, so a later value
 * of a key overrides an earlier one. key and value are not NUL-terminated. */
void tar_pax_each(const struct tar_entry *e,
                  void (*fn)(void *arg, const char *key, size_t klen, const char *val,
                             size_t vlen),
                  void *arg);

#endif
