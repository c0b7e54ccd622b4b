/* common.c - validation and list helpers that several identity resources
 * share (projects, users, groups, the catalog, credentials, roles).
 *
 * Everything here works on one request: failures are recorded on it in
 * Keystone's wording and returned as -1, results live in its arena. Not
 * for lookups of a particular resource (api.c) nor for anything that
 * renders a whole answer (the api_*.c files). */
#include "identity.h"

#include <string.h>

/* ---- list queries ---- */

/* The value goes as text: an INTEGER column compares fine with a text "1"
 * on both engines. */
void
idn_filter_bool(struct http_req *req, struct db_query *q, const char *col, const char *name)
{
    int b = idn_query_bool(req, name);
    if (b >= 0)
        db_query_eq(q, col, b ? "1" : "0");
}

int
idn_query_run(struct http_req *req, struct db *db, const struct db_query *q, const char *what,
              struct db_res **r)
{
    /* only a caller's filters can make the statement overflow: say so */
    if (q->full)
        return req_fail(req, 400, "Too many query filters.");
    int rc = db_query_exec(db, req->arena, r, q);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, what);
}
