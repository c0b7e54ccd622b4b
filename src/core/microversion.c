/* microversion.c - parsing and negotiation of OpenStack microversion
 * headers; see microversion.h. Knows no service: each passes its own
 * struct mv_service. */
#include "microversion.h"
#include "arena.h"
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One decimal number without a leading zero (a lone "0" is allowed when
 * zero_ok), at most 6 digits, so "2.010" and "02.1" are refused as Nova
 * refuses them. Returns the count of bytes read, 0 when none fit. */
static size_t
number(const char *s, size_t n, int zero_ok, int *out)
{
    size_t i = 0;
    int v = 0;
    while (i < n && i < 7 && isdigit((unsigned char)s[i]))
        v = v * 10 + (s[i++] - '0');
    if (i == 0 || i > 6 || (s[0] == '0' && (i > 1 || !zero_ok)))
        return 0;
    *out = v;
    return i;
}

int
mv_parse(const char *s, size_t n, int *out)
{
    int major, minor;
    size_t a = number(s, n, 0, &major);
    if (!a || a >= n || s[a] != '.')
        return MV_BAD;
    size_t b = number(s + a + 1, n - a - 1, 1, &minor);
    if (!b || a + 1 + b != n || minor > 999)
        return MV_BAD;
    *out = MV(major, minor);
    return MV_OK;
}

/* s without leading and trailing blanks, as (*p, *n). */
static void
trim(const char **p, size_t *n)
{
    while (*n && isspace((unsigned char)**p))
        (*p)++, (*n)--;
    while (*n && isspace((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

int
mv_find(const char *header, const char *type, const char **val, size_t *len)
{
    size_t tl = strlen(type);
    for (const char *p = header; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        size_t en = n;
        trim(&e, &en);
        /* "<type> <version>": the type, then blanks, then the rest */
        if (en > tl && !strncasecmp(e, type, tl) && isspace((unsigned char)e[tl])) {
            const char *v = e + tl;
            size_t vn = en - tl;
            trim(&v, &vn);
            *val = v;
            *len = vn;
            return 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int
mv_pick(const struct mv_service *s, const char *header, const char *legacy, int *out,
        const char **bad, size_t *badlen)
{
    const char *v = NULL;
    size_t n = 0;
    if (!header || !mv_find(header, s->type, &v, &n)) {
        v = NULL;
        if (legacy) {
            v = legacy;
            n = strlen(legacy);
            trim(&v, &n);
        }
    }
    if (!v) {
        *out = s->min;
        return MV_OK;
    }
    if (bad) {
        *bad = v;
        *badlen = n;
    }
    if (n == 6 && !strncasecmp(v, "latest", 6)) {
        *out = s->max;
        return MV_OK;
    }
    if (mv_parse(v, n, out) != MV_OK)
        return MV_BAD;
    return *out < s->min || *out > s->max ? MV_RANGE : MV_OK;
}

int
mv_negotiate(struct http_req *req, const struct mv_service *s)
{
    const char *bad = "";
    size_t badlen = 0;
    int v = 0;
    const char *legacy = s->legacy_header ? http_header_in(req, s->legacy_header) : NULL;
    int rc = mv_pick(s, http_header_in(req, "OpenStack-API-Version"), legacy, &v, &bad,
                     &badlen);
    if (rc == MV_BAD)
        return req_fail(req, 400, "API Version String %.*s is of invalid format. Must be of "
                        "format MajorNum.MinorNum.", (int)badlen, bad);
    if (rc == MV_RANGE)
        return req_fail(req, 406, "Version %d.%d is not supported by the API. Minimum is "
                        "%d.%d and maximum is %d.%d.", MV_MAJOR(v), MV_MINOR(v),
                        MV_MAJOR(s->min), MV_MINOR(s->min), MV_MAJOR(s->max),
                        MV_MINOR(s->max));
    req->microversion = v;
    return 0;
}

void
mv_set_headers(struct http_req *req, const struct mv_service *s)
{
    if (!req->microversion)
        return;
    int v = req->microversion;
    http_header(req, "OpenStack-API-Version",
                arena_printf(req->arena, "%s %d.%d", s->type, MV_MAJOR(v), MV_MINOR(v)));
    if (s->legacy_header) {
        http_header(req, s->legacy_header,
                    arena_printf(req->arena, "%d.%d", MV_MAJOR(v), MV_MINOR(v)));
        http_header(req, "Vary", arena_printf(req->arena, "OpenStack-API-Version, %s",
                                              s->legacy_header));
    } else {
        http_header(req, "Vary", "OpenStack-API-Version");
    }
}
