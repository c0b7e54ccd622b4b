/* arena.h - per-request bump allocator (nginx pool style).
 *
 * Everything that lives only as long as one request (parsed JSON strings,
 * SQL result cells, rendered bodies) is carved from an arena and freed all at
 * once with arena_free(). Cleanup callbacks close what the arena cannot free
 * (jansson values, statements). Not for request bodies of unbounded size. */
#ifndef CORE_ARENA_H
#define CORE_ARENA_H

#include <stddef.h>
#include <stdarg.h>

struct arena;

/* Allocates an empty arena; returns NULL on OOM. Caller owns it. */
struct arena *arena_new(void);
/* Runs the cleanups (last registered first) and frees every block. */
void arena_free(struct arena *a);
/* Returns zeroed memory valid until arena_free(); aborts on OOM. */
void *arena_alloc(struct arena *a, size_t n);
/* Copies n bytes of s plus a NUL into the arena. s may be NULL (returns NULL). */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
/* Registers fn(arg) to run at arena_free(); aborts on OOM. */
void arena_on_release(struct arena *a, void (*fn)(void *), void *arg);

#endif
