/* tar.c - see tar.h. Two layers: the decompressor (zlib for gzip, libbz2
 * for bzip2, or none) turns input into tar bytes in 64 KiB pieces, and the
 * tar state machine walks those 512-byte blocks. Where Python's tarfile
 * (what Swift's bulk middleware reads archives with) would quietly stop at
 * a damaged header past the first member, this parser calls the archive
 * invalid: a corrupt upload is reported, not half taken. */
#include "tar.h"
#include "core/util.h"

#include <bzlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512
#define OUTBUF 65536

enum state {
    ST_HEADER,      /* collecting a 512-byte header */
    ST_DATA,        /* a member's data (taken or skipped) */
    ST_META,        /* an 'L', 'K', 'x' or 'g' member's data, kept */
    ST_PAD,         /* the zeros up to the next block */
    ST_END,         /* the end-of-archive block was seen: the rest is ignored */
    ST_FAILED,      /* invalid or stopped: rc says which */
};

struct tar {
    const struct tar_ops *ops;
    void *arg;
    enum tar_codec codec;
    z_stream z;
    bz_stream bz;
    bool codec_ready, codec_end;
    unsigned char *out;             /* decompressed bytes, OUTBUF */

    enum state st;
    int rc;                         /* TAR_OK or the sticky failure */
    char err[128];
    unsigned char hdr[BLOCK];
    size_t have;                    /* header bytes collected */
    uint64_t left, pad;             /* data / padding bytes still to come */
    bool taking;                    /* ST_DATA: the member is fed to ops */
    bool any;                       /* a header was read: the archive is not empty */
    char meta_type;                 /* ST_META: which metadata member */
    struct buf meta;                /* its data */
    struct buf longname;            /* a pending GNU long name ('L') */
    bool has_longname;
    struct buf pax_local, pax_global;
    struct buf name;                /* the current member's path */
};

static int
fail(struct tar *t, int rc, const char *msg)
{
    if (t->rc == TAR_OK) {
        t->rc = rc;
        snprintf(t->err, sizeof(t->err), "%s", msg);
    }
    t->st = ST_FAILED;
    return t->rc;
}

struct tar *
tar_new(enum tar_codec codec, const struct tar_ops *ops, void *arg)
{
    struct tar *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ops = ops;
    t->arg = arg;
    t->codec = codec;
    buf_init(&t->meta, TAR_MAX_PAX);
    buf_init(&t->longname, TAR_MAX_LONGNAME);
    buf_init(&t->pax_local, TAR_MAX_PAX);
    buf_init(&t->pax_global, TAR_MAX_PAX);
    buf_init(&t->name, TAR_MAX_LONGNAME + BLOCK);
    if (codec != TAR_PLAIN && !(t->out = malloc(OUTBUF))) {
        free(t);
        return NULL;
    }
    /* gzip only (16 + window bits), as tarfile's "r|gz" wants; the
     * trailer's CRC is checked */
    if (codec == TAR_GZIP && inflateInit2(&t->z, 16 + MAX_WBITS) == Z_OK)
        t->codec_ready = true;
    if (codec == TAR_BZIP2 && BZ2_bzDecompressInit(&t->bz, 0, 0) == BZ_OK)
        t->codec_ready = true;
    if (codec != TAR_PLAIN && !t->codec_ready)
        fail(t, TAR_EFORMAT, "cannot start the decompressor");
    return t;
}

void
tar_free(struct tar *t)
{
    if (!t)
        return;
    if (t->codec_ready && t->codec == TAR_GZIP)
        inflateEnd(&t->z);
    if (t->codec_ready && t->codec == TAR_BZIP2)
        BZ2_bzDecompressEnd(&t->bz);
    buf_release(&t->meta);
    buf_release(&t->longname);
    buf_release(&t->pax_local);
    buf_release(&t->pax_global);
    buf_release(&t->name);
    free(t->out);
    free(t);
}

const char *
tar_error(const struct tar *t)
{
    return t->err;
}

/* ---- header fields ---- */

/* tarfile's nti(): a numeric field, octal text (NUL- or blank-ended,
 * blanks around) or GNU base-256 (first byte 0x80, or 0xff: negative).
 * false when it is neither or negative. */
static bool
field_num(const unsigned char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (f[0] == 0x80 || f[0] == 0xff) {
        if (f[0] == 0xff)
            return false;
        for (size_t i = 1; i < n; i++) {
            if (v >> 56)
                return false;
            v = (v << 8) | f[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0, end = 0;
    while (end < n && f[end])
        end++;
    while (i < end && (f[i] == ' ' || f[i] == '\t'))
        i++;
    while (end > i && (f[end - 1] == ' ' || f[end - 1] == '\t'))
        end--;
    for (; i < end; i++) {
        if (f[i] < '0' || f[i] > '7' || (v >> 60))
            return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    *out = v;
    return true;
}

/* A NUL-ended text field of at most n bytes, appended to b. */
static void
field_str(struct buf *b, const unsigned char *f, size_t n)
{
    size_t len = 0;
    while (len < n && f[len])
        len++;
    buf_append(b, f, len);
}

/* true when the header's checksum matches, summed as unsigned or signed
 * bytes (both exist in the wild) with the checksum field as blanks. */
static bool
checksum_ok(const unsigned char *h)
{
    uint64_t want;
    int64_t su = 0, ss = 0;
    if (!field_num(h + 148, 8, &want))
        return false;
    for (int i = 0; i < BLOCK; i++) {
        unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
        su += c;
        ss += (signed char)c;
    }
    return (int64_t)want == su || (int64_t)want == ss;
}

static bool
all_zero(const unsigned char *h)
{
    for (int i = 0; i < BLOCK; i++)
        if (h[i])
            return false;
    return true;
}

/* ---- pax records ---- */

/* Walks "<len> key=value\n" records; stops at the first malformed one, as
 * tarfile does. */
static void
pax_walk(const char *p, size_t n,
         void (*fn)(void *arg, const char *key, size_t klen, const char *val, size_t vlen),
         void *arg)
{
    size_t pos = 0;
    while (pos < n) {
        size_t len = 0, i = pos;
        while (i < n && p[i] >= '0' && p[i] <= '9' && len < n)
            len = len * 10 + (size_t)(p[i++] - '0');
        if (i == pos || i >= n || p[i] != ' ' || len == 0 || len > n - pos ||
            p[pos + len - 1] != '\n')
            return;
        const char *rec = p + i + 1, *end = p + pos + len - 1;
        const char *eq = memchr(rec, '=', (size_t)(end - rec));
        if (!eq || eq == rec)
            return;
        fn(arg, rec, (size_t)(eq - rec), eq + 1, (size_t)(end - eq - 1));
        pos += len;
    }
}

void
tar_pax_each(const struct tar_entry *e,
             void (*fn)(void *arg, const char *key, size_t klen, const char *val, size_t vlen),
             void *arg)
{
    pax_walk(e->pax_global, e->pax_global_len, fn, arg);
    pax_walk(e->pax_local, e->pax_local_len, fn, arg);
}

/* What the pax records of a member change in its header. */
struct pax_over {
    struct buf *path;
    bool has_path, has_size, bad_size;
    uint64_t size;
};

static void
pax_apply(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
    struct pax_over *o = arg;
    if (klen == 4 && !memcmp(key, "path", 4)) {
        o->path->len = 0;
        buf_append(o->path, val, vlen);
        o->has_path = true;
    } else if (klen == 4 && !memcmp(key, "size", 4)) {
        uint64_t v = 0;
        o->bad_size = vlen == 0;
        for (size_t i = 0; i < vlen; i++) {
            if (val[i] < '0' || val[i] > '9' || v > UINT64_MAX / 10 - 1)
                o->bad_size = true;
            v = v * 10 + (uint64_t)(val[i] - '0');
        }
        o->size = v;
        o->has_size = true;
    }
}

/* ---- the block walk ---- */

/* A complete header is in t->hdr: decide what follows. */
static int
header(struct tar *t)
{
    const unsigned char *h = t->hdr;
    uint64_t size;
    if (all_zero(h)) {
        /* the end-of-archive block; tarfile stops at the first one */
        if (!t->any)
            return fail(t, TAR_EFORMAT, "empty file");
        t->st = ST_END;
        return TAR_OK;
    }
    if (!checksum_ok(h))
        return fail(t, TAR_EFORMAT, "bad checksum");
    if (!field_num(h + 124, 12, &size))
        return fail(t, TAR_EFORMAT, "invalid header");
    t->any = true;
    char type = (char)h[156];
    t->pad = (BLOCK - size % BLOCK) % BLOCK;
    if (type == 'L' || type == 'K' || type == 'x' || type == 'X' || type == 'g') {
        uint64_t max = type == 'L' || type == 'K' ? TAR_MAX_LONGNAME : TAR_MAX_PAX;
        if (size > max)
            return fail(t, TAR_EFORMAT, "metadata member too large");
        t->meta_type = type;
        t->meta.len = 0;
        t->left = size;
        t->st = size ? ST_META : (t->pad ? ST_PAD : ST_HEADER);
        return TAR_OK;
    }

    /* the member's path: ustar prefix + name, or a GNU long name, or the
     * pax path, the later overriding */
    t->name.len = 0;
    if (t->has_longname) {
        buf_append(&t->name, t->longname.data ? t->longname.data : "", t->longname.len);
    } else {
        if (!memcmp(h + 257, "ustar\0", 6) && h[345]) {
            field_str(&t->name, h + 345, 155);
            buf_append(&t->name, "/", 1);
        }
        field_str(&t->name, h, 100);
    }
    struct pax_over po = {.path = &t->name};
    pax_walk(t->pax_global.data, t->pax_global.len, pax_apply, &po);
    pax_walk(t->pax_local.data, t->pax_local.len, pax_apply, &po);
    if (po.bad_size)
        return fail(t, TAR_EFORMAT, "invalid header");
    if (po.has_size)
        size = po.size;
    if (t->name.toobig)
        return fail(t, TAR_EFORMAT, "member name too long");
    buf_append(&t->name, "", 1);
    t->name.len--;

    /* v7 marks directories as files whose name ends in '/' */
    if (type == '\0' && t->name.len && t->name.data[t->name.len - 1] == '/')
        type = '5';
    if (type == '5')
        while (t->name.len > 1 && t->name.data[t->name.len - 1] == '/')
            t->name.data[--t->name.len] = '\0';
    struct tar_entry e = {
        .name = t->name.data ? t->name.data : "", .size = size, .type = type,
        .file = type == '0' || type == '\0' || type == '7',
        .pax_global = t->pax_global.data, .pax_global_len = t->pax_global.len,
        .pax_local = t->pax_local.data, .pax_local_len = t->pax_local.len,
    };
    /* links, devices, directories and fifos carry no data whatever their
     * size field says; unknown kinds (and sparse files) carry size bytes */
    if (strchr("123456", type) && type)
        e.size = size = 0;
    t->pad = (BLOCK - size % BLOCK) % BLOCK;
    int take = t->ops->entry(t->arg, &e);
    /* the metadata applied to this member only */
    t->has_longname = false;
    t->longname.len = 0;
    t->pax_local.len = 0;
    if (take < 0)
        return fail(t, TAR_ESTOP, "stopped");
    t->taking = take == 0;
    t->left = size;
    if (size == 0) {
        if (t->taking && t->ops->end(t->arg) < 0)
            return fail(t, TAR_ESTOP, "stopped");
        t->st = ST_HEADER;
        return TAR_OK;
    }
    t->st = ST_DATA;
    return TAR_OK;
}

/* The data of a metadata member is complete. */
static int
meta_done(struct tar *t)
{
    struct buf *b = &t->meta;
    switch (t->meta_type) {
    case 'L': {
        /* tarfile's nts(): up to the first NUL */
        size_t n = b->data ? strnlen(b->data, b->len) : 0;
        t->longname.len = 0;
        buf_append(&t->longname, b->data ? b->data : "", n);
        t->has_longname = true;
        break;
    }
    case 'K':
        break;      /* a long link target: links are not extracted */
    case 'g':
        /* global records add up over the archive */
        if (buf_append(&t->pax_global, b->data ? b->data : "", b->len) < 0)
            return fail(t, TAR_EFORMAT, "metadata member too large");
        break;
    default:
        t->pax_local.len = 0;
        buf_append(&t->pax_local, b->data ? b->data : "", b->len);
        break;
    }
    return TAR_OK;
}

/* Walks n tar bytes. */
static int
walk(struct tar *t, const unsigned char *p, size_t n)
{
    while (n && t->st != ST_FAILED) {
        size_t k;
        switch (t->st) {
        case ST_HEADER:
            k = BLOCK - t->have < n ? BLOCK - t->have : n;
            memcpy(t->hdr + t->have, p, k);
            t->have += k;
            if (t->have == BLOCK) {
                t->have = 0;
                if (header(t) != TAR_OK)
                    return t->rc;
            }
            break;
        case ST_DATA:
        case ST_META:
            k = t->left < n ? (size_t)t->left : n;
            if (t->st == ST_META)
                buf_append(&t->meta, p, k);
            else if (t->taking && t->ops->data(t->arg, (const char *)p, k) < 0)
                return fail(t, TAR_ESTOP, "stopped");
            t->left -= k;
            if (!t->left) {
                if (t->st == ST_META && meta_done(t) != TAR_OK)
                    return t->rc;
                if (t->st == ST_DATA && t->taking && t->ops->end(t->arg) < 0)
                    return fail(t, TAR_ESTOP, "stopped");
                t->st = t->pad ? ST_PAD : ST_HEADER;
            }
            break;
        case ST_PAD:
            k = t->pad < n ? (size_t)t->pad : n;
            t->pad -= k;
            if (!t->pad)
                t->st = ST_HEADER;
            break;
        default:        /* ST_END: what follows the end block is ignored */
            k = n;
            break;
        }
        p += k;
        n -= k;
    }
    return t->rc;
}

/* ---- the decompressors ---- */

static int
gunzip(struct tar *t, const unsigned char *p, size_t n, bool finish)
{
    t->z.next_in = (Bytef *)p;
    t->z.avail_in = (uInt)n;
    while (!t->codec_end && (t->z.avail_in || finish)) {
        t->z.next_out = t->out;
        t->z.avail_out = OUTBUF;
        int zr = inflate(&t->z, Z_NO_FLUSH);
        size_t got = OUTBUF - t->z.avail_out;
        if (zr == Z_STREAM_END)
            t->codec_end = true;
        else if (zr == Z_BUF_ERROR && !got)
            return finish ? fail(t, TAR_EFORMAT, "unexpected end of data") : TAR_OK;
        else if (zr != Z_OK)
            return fail(t, TAR_EFORMAT, zr == Z_DATA_ERROR && t->z.msg ? t->z.msg
                                                                        : "invalid compressed data");
        if (got && walk(t, t->out, got) != TAR_OK)
            return t->rc;
    }
    /* bytes after the end of the gzip member are ignored, as tarfile does */
    return TAR_OK;
}

static int
bunzip(struct tar *t, const unsigned char *p, size_t n, bool finish)
{
    t->bz.next_in = (char *)p;
    t->bz.avail_in = (unsigned)n;
    while (!t->codec_end && (t->bz.avail_in || finish)) {
        t->bz.next_out = (char *)t->out;
        t->bz.avail_out = OUTBUF;
        int br = BZ2_bzDecompress(&t->bz);
        size_t got = OUTBUF - t->bz.avail_out;
        if (br == BZ_STREAM_END)
            t->codec_end = true;
        else if (br != BZ_OK)
            return fail(t, TAR_EFORMAT, br == BZ_DATA_ERROR_MAGIC ? "not a bzip2 file"
                                                                  : "invalid compressed data");
        else if (!got && finish)
            return fail(t, TAR_EFORMAT, "unexpected end of data");
        if (got && walk(t, t->out, got) != TAR_OK)
            return t->rc;
        if (!got && !t->bz.avail_in)
            break;
    }
    return TAR_OK;
}

int
tar_feed(struct tar *t, const void *p, size_t n)
{
    if (t->st == ST_FAILED || t->st == ST_END)
        return t->rc;
    /* the decompressors take at most 4 GiB at once */
    while (n) {
        size_t k = n > (1u << 30) ? (1u << 30) : n;
        int rc = t->codec == TAR_GZIP    ? gunzip(t, p, k, false)
                 : t->codec == TAR_BZIP2 ? bunzip(t, p, k, false)
                                         : walk(t, p, k);
        if (rc != TAR_OK)
            return rc;
        p = (const char *)p + k;
        n -= k;
    }
    return TAR_OK;
}

int
tar_finish(struct tar *t)
{
    if (t->st == ST_FAILED)
        return t->rc;
    /* past the end block nothing more is read, as tarfile reads no further:
     * a compressed stream cut after it still gave every member whole */
    if (t->st == ST_END)
        return TAR_OK;
    if (t->codec == TAR_GZIP && !t->codec_end && gunzip(t, NULL, 0, true) != TAR_OK)
        return t->rc;
    if (t->codec == TAR_BZIP2 && !t->codec_end && bunzip(t, NULL, 0, true) != TAR_OK)
        return t->rc;
    if (t->st == ST_FAILED)
        return t->rc;
    if (!t->any && t->st != ST_END)
        return fail(t, TAR_EFORMAT, "empty file");
    /* the input may stop at a member boundary without the end blocks, or
     * in the padding after the last member's data (tarfile takes both) */
    if (t->st == ST_DATA || t->st == ST_META || (t->st == ST_HEADER && t->have))
        return fail(t, TAR_EFORMAT, "unexpected end of data");
    return TAR_OK;
}
