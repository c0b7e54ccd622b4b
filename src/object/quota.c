/* quota.c - Swift's account_quotas and container_quotas middlewares.
 *
 * A container's quotas are its own metadata, X-Container-Meta-Quota-Bytes
 * and -Quota-Count, set by whoever may set its metadata and checked to be
 * whole numbers when set. An account's quota is X-Account-Meta-Quota-Bytes,
 * which only the reseller admin may set or remove (the account owner must
 * not lift its own limit). Object writes (PUT, copies, files of an
 * extracted archive) that would pass a quota are refused with 413 and
 * Swift's text. As in Swift, the check adds the new object's size to what
 * is stored, without taking off a version it replaces, and versions moved
 * by versioned writes are not counted against it. Not for listings or
 * usage headers, which api.c renders. */
#include "object_int.h"
#include "core/arena.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_TEXT "Upload exceeds quota."

/* Python's str.isdigit() for ASCII: non-empty and only digits. */
static bool
all_digits(const char *v)
{
    if (!v || !*v)
        return false;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return false;
    return true;
}

/* A whole number of digits as int64 (saturating: a quota too large to
 * count is no limit at all). */
static int64_t
digits_value(const char *v)
{
    errno = 0;
    long long n = strtoll(v, NULL, 10);
    return errno == ERANGE ? INT64_MAX : (int64_t)n;
}

int
obj__quota_account_post(struct http_req *req)
{
    const char *set = http_header_in(req, "X-Account-Meta-Quota-Bytes");
    const char *rm = http_header_in(req, "X-Remove-Account-Meta-Quota-Bytes");
    if (!set && !rm)
        return 0;
    /* a removal wins over a value given with it, as in Swift; an empty
     * X-Remove- header removes here too, so it is a change all the same */
    if (!obj__is_reseller(req))
        return req_fail(req, 403, "Access was denied to this resource.");
    if (!rm && *set && !all_digits(set))
        return req_fail(req, 400, "The server could not comply with the request since it is "
                                  "either malformed or otherwise incorrect.");
    return 0;
}

int
obj__quota_container_meta(struct http_req *req)
{
    const char *v = http_header_in(req, "X-Container-Meta-Quota-Bytes");
    if (v && *v && !all_digits(v))
        return obj__fail_text(req, 400, "Invalid bytes quota.");
    v = http_header_in(req, "X-Container-Meta-Quota-Count");
    if (v && *v && !all_digits(v))
        return obj__fail_text(req, 400, "Invalid count quota.");
    return 0;
}

/* x's container quotas (its own metadata) against size more bytes and one
 * more object. */
static int
container_quota(struct http_req *req, struct db *db, const struct obj_access *x, int64_t size)
{
    static const char *const keys[2] = {"quota-bytes", "quota-count"};
    const char *q[2];
    int64_t count, bytes;
    obj__meta_values(req->arena, x->c.meta, keys, 2, q);
    const char *qb = q[0], *qc = q[1];
    if (!all_digits(qb) && !all_digits(qc))
        return 0;
    int rc = obj_db_container_stats(db, req->arena, x->c.id, &count, &bytes);
    if (rc)
        return obj__db_fail(req, rc);
    if (all_digits(qb) && digits_value(qb) < bytes + size)
        return obj__fail_text(req, 413, QUOTA_TEXT);
    if (all_digits(qc) && digits_value(qc) < count + 1)
        return obj__fail_text(req, 413, QUOTA_TEXT);
    return 0;
}

/* The account's quota against size more bytes. The reseller admin is not
 * held to it (Swift lets reseller requests through unchecked). */
static int
account_quota(struct http_req *req, struct db *db, const char *account, int64_t size)
{
    static const char *const key = "quota-bytes";
    const char *meta, *q;
    int64_t quota, bytes;
    if (obj__is_reseller(req))
        return 0;
    int rc = obj_db_account_meta(db, req->arena, account, &meta);
    if (rc)
        return obj__db_fail(req, rc);
    obj__meta_values(req->arena, meta, &key, 1, &q);
    /* not a number: Swift ignores the quota */
    if (!obj__py_int(q, &quota) || quota < 0)
        return 0;
    if ((rc = obj_db_account_bytes(db, req->arena, account, &bytes)) != 0)
        return obj__db_fail(req, rc);
    if (size > INT64_MAX - bytes || quota < bytes + size)
        return obj__fail_text(req, 413, QUOTA_TEXT);
    return 0;
}

int
obj__quota_check(struct http_req *req, const struct obj_access *x, int64_t size)
{
    struct db *db = obj__db(req);
    if (!db)
        return -1;
    if (size < 0)
        size = 0;
    /* Swift's pipeline runs container_quotas before account_quotas */
    if (container_quota(req, db, x, size) < 0)
        return -1;
    return account_quota(req, db, x->account, size);
}
