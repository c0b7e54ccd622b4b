/* object_test.c - pure parts of the object service: the Range header as
 * swob.Range parses it, checked against the cases of Swift's own
 * test/unit/common/test_swob.py (TestRange). */
#include "runner.h"

#include "object/object_int.h"

#include <stdio.h>

/* Formats the ranges obj__ranges() finds as swob shows them:
 * "[(1, 8)]", "[]", or "None" for an ignored header. */
static const char *
ranges(const char *hdr, uint64_t size)
{
    static char out[4096];
    struct obj_byterange r[OBJ_MAX_RANGES];
    int n = obj__ranges(hdr, size, r);
    size_t l = 0;
    if (n < 0)
        return "None";
    l += (size_t)snprintf(out, sizeof(out), "[");
    for (int i = 0; i < n && l < sizeof(out); i++)
        l += (size_t)snprintf(out + l, sizeof(out) - l, "%s(%llu, %llu)", i ? ", " : "",
                              (unsigned long long)r[i].start, (unsigned long long)r[i].end);
    snprintf(out + l, sizeof(out) - l, "]");
    return out;
}

static void
single_ranges(void)
{
    CHECK_STR(ranges("bytes=1-7", 10), "[(1, 8)]");
    CHECK_STR(ranges("bytes=1-7", 5), "[(1, 5)]");
    CHECK_STR(ranges("bytes=5-10", 2), "[]");
    CHECK_STR(ranges("bytes=-100000000000000000000000", 100), "[(0, 100)]");
    CHECK_STR(ranges("bytes=1-", 10), "[(1, 10)]");
    CHECK_STR(ranges("bytes=100-", 5), "[]");
    CHECK_STR(ranges("bytes=-7", 10), "[(3, 10)]");
    CHECK_STR(ranges("bytes=-7", 5), "[(0, 5)]");
    CHECK_STR(ranges("bytes=-0", 5), "[]");
    CHECK_STR(ranges("bytes = 0 - 999", 10000), "[(0, 1000)]");
    CHECK_STR(ranges("BYTES=0-999 ", 10000), "[(0, 1000)]");
}

static void
multiple_ranges(void)
{
    CHECK_STR(ranges("bytes=4-6,100-", 5), "[(4, 5)]");
    CHECK_STR(ranges("bytes=4-6,-100", 5), "[(4, 5), (0, 5)]");
    CHECK_STR(ranges("bytes=-20,4-", 200), "[(180, 200), (4, 200)]");
    CHECK_STR(ranges("bytes=30-150,-10", 90), "[(30, 90), (80, 90)]");
    CHECK_STR(ranges("bytes=30-150,-10", 200), "[(30, 151), (190, 200)]");
    CHECK_STR(ranges("bytes=0-1, -7", 10), "[(0, 2), (3, 10)]");
    CHECK_STR(ranges("bytes=-7, 0-1", 5), "[(0, 5), (0, 2)]");
}

static void
egregious_ranges(void)
{
    CHECK_STR(ranges("bytes=10-19,15-24", 100), "[(10, 20), (15, 25)]");
    CHECK_STR(ranges("bytes=10-19,15-24,20-29", 100), "[(10, 20), (15, 25), (20, 30)]");
    CHECK_STR(ranges("bytes=10-19,20-29,30-39", 100), "[(10, 20), (20, 30), (30, 40)]");
    CHECK_STR(ranges("bytes=10-20,20-30,30-40,40-50", 100), "[]");
    CHECK_STR(ranges("bytes=10-15,15-20,30-39,-9", 100),
              "[(10, 16), (15, 21), (30, 40), (91, 100)]");
    CHECK_STR(ranges("bytes=10-15,15-20,30-39,-9", 20), "[]");
    const char *few = "bytes=100-109,200-209,300-309,500-509,400-409,600-609,700-709";
    char many[256], limit[2048], over[2100];
    snprintf(many, sizeof(many), "%s,800-809", few);
    CHECK_STR(ranges(few, 100000), "[(100, 110), (200, 210), (300, 310), (500, 510), "
                                   "(400, 410), (600, 610), (700, 710)]");
    CHECK_STR(ranges(many, 100000), "[]");
    size_t l = (size_t)snprintf(limit, sizeof(limit), "bytes=");
    for (int x = 0; x < 50; x++)
        l += (size_t)snprintf(limit + l, sizeof(limit) - l, "%s%d-%d", x ? "," : "", x * 1000,
                              x * 1000 + 10);
    struct obj_byterange r[OBJ_MAX_RANGES];
    CHECK(obj__ranges(limit, 1000000000, r) == 50);
    snprintf(over, sizeof(over), "%s,10000000-10000009", limit);
    CHECK_STR(ranges(over, 1000000000), "[]");
}

static void
invalid_ranges(void)
{
    static const char *const bad[] = {
        "bytes=5-3", "bytes=-", "bytes=45", "bytes=x-5", "bytes=5-x", "bytes=0-1,5-3",
        "bytes=--0", "chars=0-5", "bytes", "", "bytes=1-2-", "bytes=-1-2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strcmp(ranges(bad[i], 100), "None"))
            printf("#   %s -> %s\n", bad[i], ranges(bad[i], 100));
        CHECK_STR(ranges(bad[i], 100), "None");
    }
    CHECK_STR(ranges(NULL, 100), "None");
    CHECK_STR(ranges("bytes=+5-6", 100), "[(5, 7)]");
}

T_MAIN("object", T(single_ranges), T(multiple_ranges), T(egregious_ranges),
       T(invalid_ranges))
