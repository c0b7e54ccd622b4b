/* microversion.h - OpenStack API microversions, for any service.
 *
 * A client asks for a version with "OpenStack-API-Version: <service> X.Y"
 * (several "<service> X.Y" entries may share the header, comma-separated,
 * or come in several headers) or with a service's legacy header
 * ("X-OpenStack-Nova-API-Version: X.Y"); "latest" means the service's
 * maximum, no header its minimum. A version is kept as one int
 * (MV(2, 10) = 2010) so handlers compare with >=. */
#ifndef CORE_MICROVERSION_H
#define CORE_MICROVERSION_H

#include <stddef.h>

struct http_req;

#define MV(major, minor) ((major) * 1000 + (minor))
#define MV_MAJOR(v) ((v) / 1000)
#define MV_MINOR(v) ((v) % 1000)

/* What a service accepts: its type as it appears in the header, the
 * legacy header it also reads (NULL for none) and the range. */
struct mv_service {
    const char *type;           /* "compute", "placement" */
    const char *legacy_header;  /* "X-OpenStack-Nova-API-Version" or NULL */
    int min, max;               /* MV(2, 1), MV(2, 92) */
};

enum {
    MV_OK = 0,
    MV_BAD = -1,    /* not "X.Y" or "latest": 400 */
    MV_RANGE = -2,  /* well formed but outside [min, max]: 406 */
};

/* Parses "X.Y" (no leading zeros, X >= 1, as Nova's regular expression)
 * from the n bytes at s into *out. MV_OK or MV_BAD. */
int mv_parse(const char *s, size_t n, int *out);

/* Finds the entry for type in an OpenStack-API-Version header value
 * ("compute 2.10, placement 1.2"); type compares without case. Sets *val
 * and *len to the version text and returns 1, or returns 0 when there is
 * no entry for type. */
int mv_find(const char *header, const char *type, const char **val, size_t *len);

/* Picks the version from the header values given (either may be NULL):
 * the OpenStack-API-Version entry for s->type first, else the legacy
 * header, else s->min. Sets *out and returns MV_OK, MV_BAD or MV_RANGE;
 * *bad (may be NULL) is set to the offending text, with *badlen. */
int mv_pick(const struct mv_service *s, const char *header, const char *legacy, int *out,
            const char **bad, size_t *badlen);

/* Negotiates req's version against s: sets req->microversion and returns
 * 0, or records a 400 (malformed) or 406 (out of range) with Nova's
 * wording and returns -1. The service's fault renderer shapes the body. */
int mv_negotiate(struct http_req *req, const struct mv_service *s);

/* Adds the response headers naming req->microversion (when negotiated):
 * "OpenStack-API-Version: <type> X.Y", the legacy header when s has one,
 * and Vary on both. */
void mv_set_headers(struct http_req *req, const struct mv_service *s);

#endif
