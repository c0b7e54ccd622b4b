/* body.c - what a GET answers with once the object is known: Swift's
 * Range header (swob.Range) against a size, and a streamed body made of
 * one or more byte ranges of a source (a file, or the segments of a large
 * object), framed as multipart/byteranges when there are several, exactly
 * as swob frames them. The bytes pass through a 64 KiB buffer of
 * libmicrohttpd's and are never held whole; a source failure cuts the
 * body (the client sees fewer bytes than promised, never wrong ones). */
#include "object_int.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* swob's limits on "egregious" range sets (RFC 7233 section 6.1) */
#define MAX_RANGE_OVERLAPS 2
#define MAX_NONASCENDING_RANGES 8

/* Digits of s[0..n) as an unsigned number, saturating (Python's ints
 * have no bound; ours only need to compare above any size). false when
 * empty or not all digits. */
static bool
digits(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return true;
}

/* true when [a) and [b) overlap as swob counts it: an end or start of
 * one strictly inside the other */
static bool
overlap(const struct obj_byterange *a, const struct obj_byterange *b)
{
    return (a->start < b->start && b->start < a->end) ||
           (a->start < b->end && b->end < a->end) ||
           (b->start < a->start && a->start < b->end) ||
           (b->start < a->end && a->end < b->end);
}

int
obj__ranges(const char *hdr, uint64_t size, struct obj_byterange out[OBJ_MAX_RANGES])
{
    char tmp[8192];
    size_t n = 0;
    int count = 0;
    if (!hdr)
        return -1;
    /* swob drops every space before parsing */
    for (const char *p = hdr; *p; p++) {
        if (*p == ' ')
            continue;
        if (n + 1 >= sizeof(tmp))
            return -1;
        tmp[n++] = *p;
    }
    tmp[n] = 0;
    if (strncasecmp(tmp, "bytes=", 6))
        return -1;
    /* first pass: the syntax of every spec, or the header is ignored */
    for (const char *p = tmp + 6;;) {
        size_t l = strcspn(p, ",");
        const char *dash = memchr(p, '-', l);
        uint64_t a = 0, b = 0;
        if (!dash)
            return -1;
        size_t al = (size_t)(dash - p), bl = l - al - 1;
        const char *as = p;
        /* Python's int() takes a leading '+' */
        if (al && *as == '+')
            as++, al--;
        bool has_a = dash > p, has_b = bl > 0;
        if (has_a && !digits(as, al, &a))
            return -1;
        if (has_b && !digits(dash + 1, bl, &b))
            return -1;
        if ((!has_a && !has_b) || (has_a && has_b && b < a))
            return -1;
        if (!p[l])
            break;
        p += l + 1;
    }
    /* second pass: the satisfiable ranges against size, half-open */
    for (const char *p = tmp + 6;;) {
        size_t l = strcspn(p, ",");
        const char *dash = memchr(p, '-', l);
        const char *as = p;
        size_t al = (size_t)(dash - p), bl = l - al - 1;
        uint64_t a = 0, b = 0;
        bool has_a = al > 0, has_b = bl > 0, keep = false;
        struct obj_byterange r = {0, 0};
        if (has_a && *as == '+')
            as++, al--;
        if (has_a)
            digits(as, al, &a);
        if (has_b)
            digits(dash + 1, bl, &b);
        if (!has_a) {
            /* suffix: the last b bytes; bytes=-0 asks for nothing */
            if (b > 0) {
                r.start = b > size ? 0 : size - b;
                r.end = size;
                keep = true;
            }
        } else if (a < size) {
            r.start = a;
            r.end = !has_b || b >= size - 1 ? size : b + 1;
            keep = true;
        }
        if (keep) {
            if (count < OBJ_MAX_RANGES)
                out[count] = r;
            count++;
        }
        if (!p[l])
            break;
        p += l + 1;
    }
    if (count > OBJ_MAX_RANGES)
        return 0;
    int overlaps = 0;
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (overlap(&out[i], &out[j]) && ++overlaps > MAX_RANGE_OVERLAPS)
                return 0;
    bool ascending = true;
    for (int i = 0; i + 1 < count; i++)
        if (out[i].start > out[i + 1].start ||
            (out[i].start == out[i + 1].start && out[i].end > out[i + 1].end))
            ascending = false;
    if (!ascending && count >= MAX_NONASCENDING_RANGES)
        return 0;
    return count;
}

/* ---- a file as a source ---- */

struct file_src {
    struct obj_src base;
    int fd;
    uint64_t pos, left;
};

static int
fsrc_seek(struct obj_src *s, uint64_t off, uint64_t len)
{
    struct file_src *f = (struct file_src *)s;
    f->pos = off;
    f->left = len;
    return 0;
}

static ssize_t
fsrc_read(struct obj_src *s, char *buf, size_t max)
{
    struct file_src *f = (struct file_src *)s;
    if (!f->left)
        return 0;
    if (max > f->left)
        max = (size_t)f->left;
    ssize_t n;
    do
        n = pread(f->fd, buf, max, (off_t)f->pos);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        s->why = n < 0 ? "cannot read the object file" : "the object file is short";
        return -1;
    }
    f->pos += (uint64_t)n;
    f->left -= (uint64_t)n;
    return n;
}

static void
fsrc_free(struct obj_src *s)
{
    struct file_src *f = (struct file_src *)s;
    close(f->fd);
    free(f);
}

struct obj_src *
obj__file_src(int fd)
{
    struct file_src *f = xcalloc(1, sizeof(*f));
    f->base.seek = fsrc_seek;
    f->base.read = fsrc_read;
    f->base.free = fsrc_free;
    f->fd = fd;
    return &f->base;
}

/* ---- the body ---- */

/* One range of the answer: its multipart head (none for a plain body)
 * and where its bytes are in the source. */
struct part {
    char *head;
    size_t hlen;
    uint64_t off, len;          /* len UINT64_MAX: until the source ends */
};

struct body {
    struct obj_src *src;
    struct part *parts;
    int nparts, cur;
    size_t hdone;               /* head bytes of parts[cur] sent */
    uint64_t ddone;             /* data bytes of parts[cur] sent */
    bool seeked;                /* the source is at parts[cur] */
    char *tail;                 /* "--boundary--" */
    size_t tlen, tdone;
    bool failed;
    char reqid[48];
    char *name;                 /* for the log */
};

static void
body_free(void *ctx)
{
    struct body *b = ctx;
    if (b->src)
        b->src->free(b->src);
    for (int i = 0; i < b->nparts; i++)
        free(b->parts[i].head);
    free(b->parts);
    free(b->tail);
    free(b->name);
    free(b);
}

/* Fills up to max bytes of the answer from where it stands. The source
 * reads from its segments with a database connection of its own. */
static ssize_t
body_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct body *b = ctx;
    size_t n = 0;
    (void)pos;
    if (b->failed)
        return HTTP_STREAM_ERROR;
    while (n < max) {
        if (b->cur == b->nparts) {
            size_t k = b->tlen - b->tdone;
            if (!k)
                break;
            if (k > max - n)
                k = max - n;
            memcpy(buf + n, b->tail + b->tdone, k);
            b->tdone += k;
            n += k;
            continue;
        }
        struct part *p = &b->parts[b->cur];
        if (b->hdone < p->hlen) {
            size_t k = p->hlen - b->hdone;
            if (k > max - n)
                k = max - n;
            memcpy(buf + n, p->head + b->hdone, k);
            b->hdone += k;
            n += k;
            continue;
        }
        if (b->ddone < p->len) {
            if (!b->seeked) {
                if (b->src->seek(b->src, p->off, p->len) < 0)
                    goto fail;
                b->seeked = true;
            }
            uint64_t want = p->len - b->ddone;
            ssize_t r = b->src->read(b->src, buf + n, want < max - n ? (size_t)want : max - n);
            if (r < 0)
                goto fail;
            if (r == 0) {
                if (p->len != UINT64_MAX) {
                    b->src->why = "the source ended early";
                    goto fail;
                }
                p->len = b->ddone;      /* an open-ended part is over */
                continue;
            }
            b->ddone += (uint64_t)r;
            n += (size_t)r;
            continue;
        }
        b->cur++;
        b->hdone = 0;
        b->ddone = 0;
        b->seeked = false;
    }
    return n ? (ssize_t)n : HTTP_STREAM_END;
fail:
    log_warn(b->reqid, "object: GET of %s cut after %" PRIu64 " bytes: %s", b->name,
             pos + n, b->src->why ? b->src->why : "read error");
    b->failed = true;
    /* what was read stays good: it goes out, the next call ends it */
    return n ? (ssize_t)n : HTTP_STREAM_ERROR;
}

int
obj__reply_body(struct http_req *req, int status, struct obj_src *src,
                const struct obj_byterange *ranges, int n, int64_t size, const char *ctype,
                const char *name)
{
    struct body *b = xcalloc(1, sizeof(*b));
    int64_t total = 0;
    b->src = src;
    b->name = xstrdup(name);
    snprintf(b->reqid, sizeof(b->reqid), "%s", req->request_id);
    if (n <= 1) {
        b->nparts = 1;
        b->parts = xcalloc(1, sizeof(*b->parts));
        if (n == 1) {
            b->parts[0].off = ranges[0].start;
            b->parts[0].len = ranges[0].end - ranges[0].start;
        } else {
            b->parts[0].len = size < 0 ? UINT64_MAX : (uint64_t)size;
        }
        total = size < 0 && n == 0 ? -1 : (int64_t)b->parts[0].len;
    } else {
        /* swob's framing: a 32 hex digit boundary, each part with its
         * Content-Type and Content-Range, CRLF after each part's bytes */
        unsigned char rnd[16];
        char bound[33];
        random_bytes(rnd, sizeof(rnd));
        hex_encode(rnd, sizeof(rnd), bound);
        b->nparts = n;
        b->parts = xcalloc((size_t)n, sizeof(*b->parts));
        for (int i = 0; i < n; i++) {
            struct part *p = &b->parts[i];
            int l = asprintf(&p->head,
                             "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %" PRIu64
                             "-%" PRIu64 "/%" PRId64 "\r\n\r\n",
                             i ? "\r\n" : "", bound, ctype, ranges[i].start,
                             ranges[i].end - 1, size);
            if (l < 0)
                abort();
            p->hlen = (size_t)l;
            p->off = ranges[i].start;
            p->len = ranges[i].end - ranges[i].start;
            total += (int64_t)(p->hlen + p->len);
        }
        if (asprintf(&b->tail, "\r\n--%s--", bound) < 0)
            abort();
        b->tlen = strlen(b->tail);
        total += (int64_t)b->tlen;
        ctype = arena_printf(req->arena, "multipart/byteranges;boundary=%s", bound);
    }
    /* a large object's first segment is checked now, as Swift's
     * validate_first_segment does: a broken manifest is a 409, not a cut
     * body */
    if (req->method != HTTP_HEAD && src->prime) {
        if (src->seek(src, b->parts[0].off, b->parts[0].len) < 0 ||
            src->prime(src, req->db) < 0) {
            log_warn(req->request_id, "object: GET of %s: %s", name,
                     src->why ? src->why : "first segment unusable");
            body_free(b);
            return req_fail(req, 409, "There was a conflict when trying to complete your "
                                      "request.");
        }
        b->seeked = true;
    }
    return http_reply_stream(req, status, total, ctype, body_read, body_free, b);
}
