/* microversion_test.c - unit tests for src/core/microversion.c: version
 * parsing, the header entry of a service, and the choice between the
 * header, the legacy header and the default. */
#include "runner.h"

#include "core/microversion.h"

#include <string.h>

static const struct mv_service nova = {"compute", "X-OpenStack-Nova-API-Version", MV(2, 1),
                                       MV(2, 92)};
static const struct mv_service placement = {"placement", NULL, MV(1, 0), MV(1, 39)};

static int
parse(const char *s)
{
    int v = -1;
    return mv_parse(s, strlen(s), &v) == MV_OK ? v : -1;
}

static void
test_parse(void)
{
    CHECK(parse("2.1") == MV(2, 1));
    CHECK(parse("2.92") == MV(2, 92));
    CHECK(parse("1.0") == MV(1, 0));
    CHECK(parse("10.100") == MV(10, 100));
    CHECK(parse("2.x.y") == -1);
    CHECK(parse("2.1.1") == -1);
    CHECK(parse("2") == -1);
    CHECK(parse("2.") == -1);
    CHECK(parse(".1") == -1);
    CHECK(parse("02.1") == -1);
    CHECK(parse("2.01") == -1);
    CHECK(parse("0.1") == -1);
    CHECK(parse("2.1 ") == -1);
    CHECK(parse("") == -1);
    CHECK(parse("-2.1") == -1);
    CHECK(parse("9999999.1") == -1);
}

static void
test_find(void)
{
    const char *v;
    size_t n;
    CHECK(mv_find("compute 2.10", "compute", &v, &n) == 1 && n == 4 && !strncmp(v, "2.10", 4));
    CHECK(mv_find("placement 1.2, Compute  latest ", "compute", &v, &n) == 1 && n == 6 &&
          !strncmp(v, "latest", 6));
    CHECK(mv_find("placement 1.2", "compute", &v, &n) == 0);
    CHECK(mv_find("computex 2.3", "compute", &v, &n) == 0);
    CHECK(mv_find("compute", "compute", &v, &n) == 0);
    CHECK(mv_find("", "compute", &v, &n) == 0);
}

static void
test_pick(void)
{
    int v = 0;
    const char *bad = NULL;
    size_t bl = 0;
    CHECK(mv_pick(&nova, NULL, NULL, &v, NULL, NULL) == MV_OK && v == MV(2, 1));
    CHECK(mv_pick(&nova, "compute 2.55", NULL, &v, NULL, NULL) == MV_OK && v == MV(2, 55));
    CHECK(mv_pick(&nova, "compute latest", NULL, &v, NULL, NULL) == MV_OK && v == MV(2, 92));
    /* the new header wins over the legacy one */
    CHECK(mv_pick(&nova, "compute 2.10", "2.20", &v, NULL, NULL) == MV_OK && v == MV(2, 10));
    /* another service's entry only: the legacy header decides */
    CHECK(mv_pick(&nova, "placement 1.2", "2.20", &v, NULL, NULL) == MV_OK && v == MV(2, 20));
    CHECK(mv_pick(&nova, NULL, " 2.3 ", &v, NULL, NULL) == MV_OK && v == MV(2, 3));
    CHECK(mv_pick(&nova, "compute 2.93", NULL, &v, &bad, &bl) == MV_RANGE && v == MV(2, 93));
    CHECK(mv_pick(&nova, "compute 2.0", NULL, &v, NULL, NULL) == MV_RANGE);
    CHECK(mv_pick(&nova, "compute 3.1", NULL, &v, NULL, NULL) == MV_RANGE);
    CHECK(mv_pick(&nova, "compute 2.x.y", NULL, &v, &bad, &bl) == MV_BAD && bl == 5 &&
          !strncmp(bad, "2.x.y", 5));
    CHECK(mv_pick(&nova, NULL, "abc", &v, NULL, NULL) == MV_BAD);
    CHECK(mv_pick(&placement, "compute 2.5, placement 1.39", NULL, &v, NULL, NULL) == MV_OK &&
          v == MV(1, 39));
    CHECK(mv_pick(&placement, "compute 2.5", NULL, &v, NULL, NULL) == MV_OK && v == MV(1, 0));
    CHECK(mv_pick(&placement, "placement 1.40", NULL, &v, NULL, NULL) == MV_RANGE);
}

T_MAIN("microversion", T(test_parse), T(test_find), T(test_pick))
