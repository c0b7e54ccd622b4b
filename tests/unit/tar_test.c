/* tar_test.c - the streaming tar parser of bulk extraction (src/object/tar.c):
 * ustar, GNU long names, pax records, gzip and bzip2, fed in pieces of every
 * size, and the archives it must call invalid. */
#include "object/tar.h"
#include "runner.h"

#include <bzlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- building archives ---- */

struct ar {
    unsigned char *p;
    size_t len, cap;
};

static void
ar_put(struct ar *a, const void *p, size_t n)
{
    if (a->len + n > a->cap) {
        a->cap = (a->len + n) * 2 + 1024;
        a->p = realloc(a->p, a->cap);
    }
    memcpy(a->p + a->len, p, n);
    a->len += n;
}

/* when >= 0, the size written in the next header instead of the data's */
static long hdr_size = -1;

/* One header block (ustar) plus data and padding. prefix may be NULL. */
static void
ar_member(struct ar *a, const char *name, const char *prefix, char type, const void *data,
          size_t n)
{
    unsigned char h[512];
    memset(h, 0, sizeof(h));
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0001750", 7);
    memcpy(h + 116, "0001750", 7);
    char size[24];
    snprintf(size, sizeof(size), "%011lo",
             (hdr_size >= 0 ? (unsigned long)hdr_size : (unsigned long)n) & 077777777777ul);
    hdr_size = -1;
    memcpy(h + 124, size, 11);
    memcpy(h + 136, "14530000000", 11);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar\0" "00", 8);
    if (prefix)
        snprintf((char *)h + 345, 155, "%s", prefix);
    unsigned sum = 0;
    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    ar_put(a, h, 512);
    if (n) {
        static const unsigned char zero[512];
        ar_put(a, data, n);
        ar_put(a, zero, (512 - n % 512) % 512);
    }
}

/* Appends one pax record "<len> key=value\n" (len counts itself) to out. */
static void
pax_rec(char *out, size_t outlen, const char *key, const char *val)
{
    size_t body = strlen(key) + strlen(val) + 3, len = body + 1;
    while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
        len = body + (size_t)snprintf(NULL, 0, "%zu", len);
    size_t n = strlen(out);
    snprintf(out + n, outlen - n, "%zu %s=%s\n", len, key, val);
}

static void
ar_end(struct ar *a)
{
    static const unsigned char zero[1024];
    ar_put(a, zero, sizeof(zero));
}

/* ---- a recording consumer ---- */

struct rec {
    int entries, files, ends;
    char names[8][300];
    char data[8][2048];
    size_t dlen[8];
    char meta[256];
    int stop_at;                /* stop at this entry (1-based), 0 never */
};

static void
pax_cat(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
    struct rec *r = arg;
    size_t n = strlen(r->meta);
    snprintf(r->meta + n, sizeof(r->meta) - n, "%.*s=%.*s;", (int)klen, key, (int)vlen, val);
}

static int
on_entry(void *arg, const struct tar_entry *e)
{
    struct rec *r = arg;
    int i = r->entries++;
    if (r->stop_at && r->entries == r->stop_at)
        return -1;
    if (i < 8)
        snprintf(r->names[i], sizeof(r->names[i]), "%c:%s", e->file ? 'f' : e->type, e->name);
    if (e->file)
        r->files++;
    r->meta[0] = 0;
    tar_pax_each(e, pax_cat, r);
    return e->file ? 0 : 1;
}

static int
on_data(void *arg, const char *p, size_t n)
{
    struct rec *r = arg;
    int i = r->entries - 1;
    if (i < 8 && r->dlen[i] + n <= sizeof(r->data[i])) {
        memcpy(r->data[i] + r->dlen[i], p, n);
        r->dlen[i] += n;
    }
    return 0;
}

static int
on_end(void *arg)
{
    ((struct rec *)arg)->ends++;
    return 0;
}

static const struct tar_ops ops = {on_entry, on_data, on_end};

/* Feeds a in pieces of step bytes; returns tar_feed's or tar_finish's code. */
static int
run(enum tar_codec c, const struct ar *a, size_t len, size_t step, struct rec *r,
    char *err, size_t errlen)
{
    struct tar *t = tar_new(c, &ops, r);
    int rc = TAR_OK;
    for (size_t off = 0; off < len && rc == TAR_OK; off += step)
        rc = tar_feed(t, a->p + off, len - off < step ? len - off : step);
    if (rc == TAR_OK)
        rc = tar_finish(t);
    if (err)
        snprintf(err, errlen, "%s", tar_error(t));
    tar_free(t);
    return rc;
}

static struct ar
sample(void)
{
    struct ar a = {0};
    ar_member(&a, "c1/", NULL, '5', NULL, 0);
    ar_member(&a, "c1/hello.txt", NULL, '0', "hello world", 11);
    ar_member(&a, "long/name.bin", "c2/a/very", '0', "x", 1);
    ar_member(&a, "c1/link", NULL, '2', NULL, 0);
    char big[1500];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    ar_member(&a, "c2/big", NULL, '0', big, sizeof(big));
    ar_member(&a, "c2/empty", NULL, '0', NULL, 0);
    ar_end(&a);
    return a;
}

static void
check_sample(const struct rec *r)
{
    CHECK(r->entries == 6);
    CHECK(r->files == 4);
    CHECK(r->ends == 4);
    CHECK_STR(r->names[0], "5:c1");
    CHECK_STR(r->names[1], "f:c1/hello.txt");
    CHECK(r->dlen[1] == 11 && !memcmp(r->data[1], "hello world", 11));
    CHECK_STR(r->names[2], "f:c2/a/very/long/name.bin");
    CHECK_STR(r->names[3], "2:c1/link");
    CHECK(r->dlen[4] == 1500 && r->data[4][1499] == (char)('a' + 1499 % 26));
    CHECK_STR(r->names[5], "f:c2/empty");
    CHECK(r->dlen[5] == 0);
}

static void
test_plain_any_piece_size(void)
{
    struct ar a = sample();
    static const size_t steps[] = {1, 7, 511, 512, 513, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct rec r = {0};
        CHECK(run(TAR_PLAIN, &a, a.len, steps[i], &r, NULL, 0) == TAR_OK);
        check_sample(&r);
    }
    free(a.p);
}

static void
test_gnu_long_name_and_pax(void)
{
    struct ar a = {0};
    char longname[400];
    memset(longname, 'n', sizeof(longname));
    memcpy(longname, "cont/", 5);
    longname[399] = 0;
    ar_member(&a, "././@LongLink", NULL, 'L', longname, strlen(longname) + 1);
    ar_member(&a, "cont/short", NULL, '0', "L", 1);
    char pax[256] = "";
    pax_rec(pax, sizeof(pax), "path", "cont/from-pax-header");
    pax_rec(pax, sizeof(pax), "SCHILY.xattr.user.mime_type", "text/x-a");
    pax_rec(pax, sizeof(pax), "size", "3");
    ar_member(&a, "PaxHeader/x", NULL, 'x', pax, strlen(pax));
    /* the pax size (3) overrides the header's (5) */
    hdr_size = 5;
    ar_member(&a, "cont/ignored", NULL, '0', "abc", 3);
    char glob[64] = "";
    pax_rec(glob, sizeof(glob), "SCHILY.xattr.user.g", "1");
    ar_member(&a, "GlobalHead", NULL, 'g', glob, strlen(glob));
    ar_member(&a, "cont/after", NULL, '0', "z", 1);
    ar_end(&a);
    struct rec r = {0};
    CHECK(run(TAR_PLAIN, &a, a.len, 100, &r, NULL, 0) == TAR_OK);
    CHECK(r.entries == 3);
    CHECK(!strncmp(r.names[0], "f:cont/nnnn", 11));
    CHECK_STR(r.names[1], "f:cont/from-pax-header");
    CHECK(r.dlen[1] == 3 && !memcmp(r.data[1], "abc", 3));
    CHECK_STR(r.names[2], "f:cont/after");
    /* the member after the global header sees its records, not the
     * earlier member's local ones */
    CHECK_STR(r.meta, "SCHILY.xattr.user.g=1;");
    free(a.p);
}

static void
test_pax_records_reach_the_member(void)
{
    struct ar a = {0};
    char pax[128] = "";
    pax_rec(pax, sizeof(pax), "SCHILY.xattr.user.mime_type", "text/x-a");
    ar_member(&a, "PaxHeader/x", NULL, 'x', pax, strlen(pax));
    ar_member(&a, "c/f", NULL, '0', "abc", 3);
    ar_end(&a);
    struct rec r = {0};
    CHECK(run(TAR_PLAIN, &a, a.len, 512, &r, NULL, 0) == TAR_OK);
    CHECK_STR(r.meta, "SCHILY.xattr.user.mime_type=text/x-a;");
    free(a.p);
}

static void
test_invalid_archives(void)
{
    struct ar a = sample();
    struct rec r = {0};
    char err[128];
    /* nothing at all */
    CHECK(run(TAR_PLAIN, &a, 0, 1, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK_STR(err, "empty file");
    /* a damaged header */
    a.p[512 + 3] ^= 0x20;
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_PLAIN, &a, a.len, 4096, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK_STR(err, "bad checksum");
    CHECK(r.entries == 1 && r.ends == 0);
    a.p[512 + 3] ^= 0x20;
    /* cut inside the big member: its end never comes */
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_PLAIN, &a, 512 * 6 + 700, 333, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK_STR(err, "unexpected end of data");
    CHECK(r.files == 3 && r.ends == 2);
    /* cut inside a header */
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_PLAIN, &a, 512 + 100, 512, &r, err, sizeof(err)) == TAR_EFORMAT);
    /* cut at a member boundary without end blocks: fine, as tarfile */
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_PLAIN, &a, 512 * 3, 512, &r, NULL, 0) == TAR_OK);
    CHECK(r.ends == 1);
    /* not a tar at all */
    struct ar junk = {0};
    for (int i = 0; i < 2048; i++)
        ar_put(&junk, "junk", 4);
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_PLAIN, &junk, junk.len, 1000, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK(r.entries == 0);
    free(junk.p);
    free(a.p);
}

static void
test_stop_from_callback(void)
{
    struct ar a = sample();
    struct rec r = {.stop_at = 2};
    CHECK(run(TAR_PLAIN, &a, a.len, 512, &r, NULL, 0) == TAR_ESTOP);
    CHECK(r.entries == 2 && r.files == 0);
    free(a.p);
}

static struct ar
gzip_of(const struct ar *a)
{
    struct ar out = {0};
    z_stream z;
    memset(&z, 0, sizeof(z));
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    out.cap = deflateBound(&z, a->len) + 64;
    out.p = malloc(out.cap);
    z.next_in = a->p;
    z.avail_in = (uInt)a->len;
    z.next_out = out.p;
    z.avail_out = (uInt)out.cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.len = out.cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void
test_gzip(void)
{
    struct ar a = sample(), gz = gzip_of(&a);
    struct rec r = {0};
    char err[128];
    CHECK(run(TAR_GZIP, &gz, gz.len, 17, &r, NULL, 0) == TAR_OK);
    check_sample(&r);
    /* truncated: the member being read is never ended */
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_GZIP, &gz, gz.len / 2, 64, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK_STR(err, "unexpected end of data");
    /* corrupted */
    gz.p[gz.len / 2] ^= 0xff;
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_GZIP, &gz, gz.len, 4096, &r, err, sizeof(err)) == TAR_EFORMAT);
    /* not gzip */
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_GZIP, &a, a.len, 4096, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK(r.entries == 0);
    free(gz.p);
    free(a.p);
}

static void
test_bzip2(void)
{
    struct ar a = sample(), bz = {0};
    unsigned int n = (unsigned)(a.len + a.len / 100 + 600);
    bz.p = malloc(n);
    CHECK(BZ2_bzBuffToBuffCompress((char *)bz.p, &n, (char *)a.p, (unsigned)a.len, 9, 0, 0) ==
          BZ_OK);
    bz.len = n;
    struct rec r = {0};
    char err[128];
    CHECK(run(TAR_BZIP2, &bz, bz.len, 13, &r, NULL, 0) == TAR_OK);
    check_sample(&r);
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_BZIP2, &bz, bz.len / 2, 64, &r, err, sizeof(err)) == TAR_EFORMAT);
    memset(&r, 0, sizeof(r));
    CHECK(run(TAR_BZIP2, &a, a.len, 64, &r, err, sizeof(err)) == TAR_EFORMAT);
    CHECK_STR(err, "not a bzip2 file");
    free(bz.p);
    free(a.p);
}

T_MAIN("tar", T(test_plain_any_piece_size), T(test_gnu_long_name_and_pax),
       T(test_pax_records_reach_the_member), T(test_invalid_archives),
       T(test_stop_from_callback), T(test_gzip), T(test_bzip2))
