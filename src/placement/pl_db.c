/* pl_db.c - the placement service's SQL; see pl_db.h. Standard resource
 * classes and traits are not rows (they are fixed lists in pl_std.c):
 * only CUSTOM_* names are stored. */
#include "pl_db.h"
#include "placement.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char m4001[] =
    "CREATE TABLE pl_rc (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);"
    "CREATE TABLE pl_trait (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);"
    "CREATE TABLE pl_rp ("
    "  uuid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, generation BIGINT NOT NULL,"
    "  parent_uuid TEXT REFERENCES pl_rp(uuid), root_uuid TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX pl_rp_root ON pl_rp (root_uuid);"
    "CREATE INDEX pl_rp_parent ON pl_rp (parent_uuid);"
    "CREATE TABLE pl_inv ("
    "  rp_uuid TEXT NOT NULL REFERENCES pl_rp(uuid), rc TEXT NOT NULL,"
    "  total BIGINT NOT NULL, reserved BIGINT NOT NULL, min_unit BIGINT NOT NULL,"
    "  max_unit BIGINT NOT NULL, step_size BIGINT NOT NULL,"
    "  allocation_ratio DOUBLE PRECISION NOT NULL, PRIMARY KEY (rp_uuid, rc));"
    "CREATE INDEX pl_inv_rc ON pl_inv (rc);"
    "CREATE TABLE pl_rp_trait ("
    "  rp_uuid TEXT NOT NULL REFERENCES pl_rp(uuid), trait TEXT NOT NULL,"
    "  PRIMARY KEY (rp_uuid, trait));"
    "CREATE INDEX pl_rp_trait_trait ON pl_rp_trait (trait);"
    "CREATE TABLE pl_rp_agg ("
    "  rp_uuid TEXT NOT NULL REFERENCES pl_rp(uuid), agg TEXT NOT NULL,"
    "  PRIMARY KEY (rp_uuid, agg));"
    "CREATE INDEX pl_rp_agg_agg ON pl_rp_agg (agg);"
    "CREATE TABLE pl_consumer ("
    "  uuid TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  consumer_type TEXT, generation BIGINT NOT NULL, created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE INDEX pl_consumer_project ON pl_consumer (project_id, user_id);"
    "CREATE TABLE pl_alloc ("
    "  consumer_uuid TEXT NOT NULL, rp_uuid TEXT NOT NULL REFERENCES pl_rp(uuid),"
    "  rc TEXT NOT NULL, used BIGINT NOT NULL,"
    "  PRIMARY KEY (consumer_uuid, rp_uuid, rc));"
    "CREATE INDEX pl_alloc_rp ON pl_alloc (rp_uuid, rc);";

const struct db_migration plc_migrations[] = {
    {4001, m4001},
};
const int plc_nmigrations = sizeof(plc_migrations) / sizeof(plc_migrations[0]);

int
plc_db_begin(struct db *db)
{
    int rc = db_begin(db);
    if (rc == DB_OK && db_is_pg()) {
        /* one lock for all placement writers: capacity checks read sums
         * over many rows that READ COMMITTED would not hold still */
        rc = db_exec(db, NULL, NULL, "SELECT pg_advisory_xact_lock(4001)", "");
        if (rc != DB_OK)
            db_rollback(db);
    }
    return rc;
}

/* ---- providers ---- */

#define RP_COLS "uuid, name, parent_uuid, root_uuid, generation"

static void
rp_row(const struct db_res *r, int i, struct plc_rp *o)
{
    o->uuid = db_val(r, i, 0);
    o->name = db_val(r, i, 1);
    o->parent = db_val(r, i, 2);
    o->root = db_val(r, i, 3);
    o->generation = db_int(r, i, 4);
}

int
plc_db_rp_get(struct db *db, struct arena *a, const char *uuid, struct plc_rp *out)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " RP_COLS " FROM pl_rp WHERE uuid = ?", "s", uuid);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    rp_row(r, 0, out);
    return 0;
}

int
plc_db_rp_list(struct db *db, struct arena *a, const char *name, const char *uuid,
               const char *in_tree, struct plc_rp **out, int *n)
{
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT " RP_COLS " FROM pl_rp WHERE 1 = 1");
    db_query_eq(&q, "name", name);
    db_query_eq(&q, "uuid", uuid);
    if (in_tree) {
        db_query_sql(&q, " AND root_uuid = (SELECT root_uuid FROM pl_rp WHERE uuid = ");
        db_query_arg(&q, in_tree);
        db_query_sql(&q, ")");
    }
    db_query_sql(&q, " ORDER BY created_at, uuid");
    int rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *n = r->nrows;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        rp_row(r, i, &(*out)[i]);
    return 0;
}

int
plc_db_rp_create(struct db *db, const struct plc_rp *rp)
{
    int64_t t = now_us();
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO pl_rp (uuid, name, generation, parent_uuid, root_uuid, "
                     "created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, ?)",
                     "ssssii", rp->uuid, rp->name, rp->parent, rp->root, t, t);
    return rc == DB_CONFLICT ? -EEXIST : rc;
}

int
plc_db_rp_update(struct db *db, const char *uuid, const char *name, const char *parent,
                 const char *root)
{
    int rc = db_exec(db, NULL, NULL,
                     "UPDATE pl_rp SET name = ?, parent_uuid = ?, root_uuid = ?, "
                     "generation = generation + 1, updated_at = ? WHERE uuid = ?",
                     "sssis", name, parent, root, now_us(), uuid);
    return rc == DB_CONFLICT ? -EEXIST : rc;
}

int
plc_db_rp_subtree(struct db *db, struct arena *a, const char *uuid, const char ***out, int *n)
{
    /* a tree is small (a host and its devices): one query a level */
    int cap = 16, rc = DB_OK;
    const char **l = arena_alloc(a, sizeof(char *) * (size_t)cap);
    l[0] = uuid;
    *n = 1;
    for (int i = 0; i < *n && rc == DB_OK; i++) {
        struct db_res *r;
        rc = db_exec(db, a, &r, "SELECT uuid FROM pl_rp WHERE parent_uuid = ?", "s", l[i]);
        for (int k = 0; rc == DB_OK && k < r->nrows; k++) {
            if (*n == cap) {
                const char **m = arena_alloc(a, sizeof(char *) * (size_t)cap * 2);
                memcpy(m, l, sizeof(char *) * (size_t)cap);
                l = m;
                cap *= 2;
            }
            l[(*n)++] = db_val(r, k, 0);
        }
    }
    *out = l;
    return rc;
}

int
plc_db_rp_set_root(struct db *db, const char *const *uuids, int n, const char *root)
{
    int rc = DB_OK;
    for (int i = 0; rc == DB_OK && i < n; i++)
        rc = db_exec(db, NULL, NULL, "UPDATE pl_rp SET root_uuid = ? WHERE uuid = ?", "ss",
                     root, uuids[i]);
    return rc;
}

int
plc_db_rp_delete(struct db *db, const char *uuid)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT (SELECT COUNT(*) FROM pl_alloc WHERE rp_uuid = ?), "
                                "(SELECT COUNT(*) FROM pl_rp WHERE parent_uuid = ?)",
                     "ss", uuid, uuid);
    if (rc == DB_OK && db_int(r, 0, 0) > 0)
        rc = -EBUSY;
    else if (rc == DB_OK && db_int(r, 0, 1) > 0)
        rc = -ENOTEMPTY;
    arena_free(a);
    static const char *const del[] = {
        "DELETE FROM pl_inv WHERE rp_uuid = ?", "DELETE FROM pl_rp_trait WHERE rp_uuid = ?",
        "DELETE FROM pl_rp_agg WHERE rp_uuid = ?", "DELETE FROM pl_rp WHERE uuid = ?",
    };
    for (size_t i = 0; rc == DB_OK && i < sizeof(del) / sizeof(del[0]); i++)
        rc = db_exec(db, NULL, NULL, del[i], "s", uuid);
    return rc;
}

int
plc_db_rp_bump(struct db *db, const char *uuid, int64_t gen)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = gen < 0
        ? db_exec(db, a, &r, "UPDATE pl_rp SET generation = generation + 1, updated_at = ? "
                             "WHERE uuid = ? RETURNING generation", "is", now_us(), uuid)
        : db_exec(db, a, &r, "UPDATE pl_rp SET generation = generation + 1, updated_at = ? "
                             "WHERE uuid = ? AND generation = ? RETURNING generation",
                  "isi", now_us(), uuid, gen);
    if (rc == DB_OK && !r->nrows)
        rc = -EAGAIN;
    arena_free(a);
    return rc;
}

/* ---- inventories and usages ---- */

static void
inv_row(const struct db_res *r, int i, struct plc_inv *o)
{
    o->rc = db_val(r, i, 0);
    o->total = db_int(r, i, 1);
    o->reserved = db_int(r, i, 2);
    o->min_unit = db_int(r, i, 3);
    o->max_unit = db_int(r, i, 4);
    o->step_size = db_int(r, i, 5);
    o->allocation_ratio = strtod(db_val(r, i, 6) ? db_val(r, i, 6) : "1", NULL);
    o->used = db_int(r, i, 7);
}

int
plc_db_inv_list(struct db *db, struct arena *a, const char *rp, struct plc_inv **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT i.rc, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, "
                     "i.allocation_ratio, (SELECT COALESCE(SUM(u.used), 0) FROM pl_alloc u "
                     "WHERE u.rp_uuid = i.rp_uuid AND u.rc = i.rc) "
                     "FROM pl_inv i WHERE i.rp_uuid = ? ORDER BY i.rc", "s", rp);
    if (rc != DB_OK)
        return rc;
    *n = r->nrows;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        inv_row(r, i, &(*out)[i]);
    return 0;
}

int
plc_db_inv_replace(struct db *db, struct arena *a, const char *rp, const struct plc_inv *inv,
                   int n, const char **busy_rc)
{
    struct plc_inv *old;
    int nold, rc = plc_db_inv_list(db, a, rp, &old, &nold);
    /* a class that goes away must have no allocations left */
    for (int i = 0; rc == DB_OK && i < nold; i++) {
        bool kept = false;
        for (int k = 0; k < n && !kept; k++)
            kept = !strcmp(inv[k].rc, old[i].rc);
        if (!kept && old[i].used > 0) {
            *busy_rc = old[i].rc;
            return -EBUSY;
        }
    }
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM pl_inv WHERE rp_uuid = ?", "s", rp);
    for (int i = 0; rc == DB_OK && i < n; i++) {
        char ratio[64];
        snprintf(ratio, sizeof(ratio), "%.17g", inv[i].allocation_ratio);
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO pl_inv (rp_uuid, rc, total, reserved, min_unit, max_unit, "
                     "step_size, allocation_ratio) VALUES (?, ?, ?, ?, ?, ?, ?, "
                     "CAST(? AS DOUBLE PRECISION))",
                     "ssiiiiis", rp, inv[i].rc, inv[i].total, inv[i].reserved,
                     inv[i].min_unit, inv[i].max_unit, inv[i].step_size, ratio);
    }
    return rc;
}

static int
usage_rows(struct db_res *r, struct arena *a, struct plc_inv **out, int *n)
{
    *n = r->nrows;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        (*out)[i].rc = db_val(r, i, 0);
        (*out)[i].used = db_int(r, i, 1);
    }
    return 0;
}

int
plc_db_usages(struct db *db, struct arena *a, const char *rp, struct plc_inv **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT rc, SUM(used) FROM pl_alloc WHERE rp_uuid = ? GROUP BY rc "
                     "ORDER BY rc", "s", rp);
    return rc != DB_OK ? rc : usage_rows(r, a, out, n);
}

int
plc_db_usages_project(struct db *db, struct arena *a, const char *project, const char *user,
                      struct plc_inv **out, int *n)
{
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT al.rc, SUM(al.used) FROM pl_alloc al JOIN pl_consumer c "
                     "ON c.uuid = al.consumer_uuid WHERE 1 = 1");
    db_query_eq(&q, "c.project_id", project);
    db_query_eq(&q, "c.user_id", user);
    db_query_sql(&q, " GROUP BY al.rc ORDER BY al.rc");
    int rc = db_query_exec(db, a, &r, &q);
    return rc != DB_OK ? rc : usage_rows(r, a, out, n);
}

int
plc_db_usages_typed(struct db *db, struct arena *a, const char *project, const char *user,
                    const char *ctype, const char ***types, struct plc_inv **out,
                    int64_t **counts, int *n)
{
    bool all = ctype && !strcmp(ctype, "all");
    const char *key = all ? "'all'" : "COALESCE(c.consumer_type, 'unknown')";
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT ");
    db_query_sql(&q, key);
    db_query_sql(&q, ", al.rc, SUM(al.used), (SELECT COUNT(*) FROM pl_consumer c2 WHERE "
                     "c2.project_id = c.project_id");
    if (user)
        db_query_sql(&q, " AND c2.user_id = c.user_id");
    if (!all)
        db_query_sql(&q, " AND COALESCE(c2.consumer_type, 'unknown') = "
                         "COALESCE(c.consumer_type, 'unknown')");
    db_query_sql(&q, ") FROM pl_alloc al JOIN pl_consumer c ON c.uuid = al.consumer_uuid "
                     "WHERE 1 = 1");
    db_query_eq(&q, "c.project_id", project);
    db_query_eq(&q, "c.user_id", user);
    if (ctype && !all)
        db_query_eq(&q, "COALESCE(c.consumer_type, 'unknown')", ctype);
    db_query_sql(&q, " GROUP BY 1, al.rc, c.project_id");
    if (user)
        db_query_sql(&q, ", c.user_id");
    if (!all)
        db_query_sql(&q, ", c.consumer_type");
    db_query_sql(&q, " ORDER BY 1, 2");
    int rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *n = r->nrows;
    *types = arena_alloc(a, sizeof(char *) * (size_t)(r->nrows + 1));
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    *counts = arena_alloc(a, sizeof(int64_t) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        (*types)[i] = db_val(r, i, 0);
        (*out)[i].rc = db_val(r, i, 1);
        (*out)[i].used = db_int(r, i, 2);
        (*counts)[i] = db_int(r, i, 3);
    }
    return 0;
}

/* ---- custom classes and traits ---- */

static const char *
custom_table(const char *kind)
{
    return !strcmp(kind, "rc") ? "pl_rc" : "pl_trait";
}

static int
names(struct db_res *r, struct arena *a, const char ***out, int *n)
{
    *n = r->nrows;
    *out = arena_alloc(a, sizeof(char *) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        (*out)[i] = db_val(r, i, 0);
    return 0;
}

int
plc_db_custom_list(struct db *db, struct arena *a, const char *kind, const char ***out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, arena_printf(a, "SELECT name FROM %s ORDER BY name",
                                             custom_table(kind)), "");
    return rc != DB_OK ? rc : names(r, a, out, n);
}

int
plc_db_custom_exists(struct db *db, struct arena *a, const char *kind, const char *name)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, arena_printf(a, "SELECT 1 FROM %s WHERE name = ?",
                                             custom_table(kind)), "s", name);
    return rc != DB_OK ? rc : r->nrows ? 0 : -ENOENT;
}

int
plc_db_custom_add(struct db *db, const char *kind, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "INSERT INTO %s (name, created_at) VALUES (?, ?)",
             custom_table(kind));
    int rc = db_exec(db, NULL, NULL, sql, "si", name, now_us());
    return rc == DB_CONFLICT ? -EEXIST : rc;
}

int
plc_db_custom_delete(struct db *db, struct arena *a, const char *kind, const char *name)
{
    struct db_res *r;
    bool rc_kind = !strcmp(kind, "rc");
    int rc = db_exec(db, a, &r,
                     rc_kind ? "SELECT (SELECT COUNT(*) FROM pl_inv WHERE rc = ?) + "
                               "(SELECT COUNT(*) FROM pl_alloc WHERE rc = ?)"
                             : "SELECT (SELECT COUNT(*) FROM pl_rp_trait WHERE trait = ?) + "
                               "(SELECT COUNT(*) FROM pl_rp_trait WHERE trait = ?)",
                     "ss", name, name);
    if (rc != DB_OK)
        return rc;
    if (db_int(r, 0, 0) > 0)
        return -EBUSY;
    rc = db_exec(db, a, &r, arena_printf(a, "DELETE FROM %s WHERE name = ? RETURNING name",
                                         custom_table(kind)), "s", name);
    return rc != DB_OK ? rc : r->nrows ? 0 : -ENOENT;
}

int
plc_db_rc_rename(struct db *db, struct arena *a, const char *from, const char *to)
{
    int rc = plc_db_custom_exists(db, a, "rc", from);
    if (rc == 0)
        rc = plc_db_custom_add(db, "rc", to);
    static const char *const upd[] = {
        "UPDATE pl_inv SET rc = ? WHERE rc = ?", "UPDATE pl_alloc SET rc = ? WHERE rc = ?",
    };
    for (size_t i = 0; rc == 0 && i < 2; i++)
        rc = db_exec(db, NULL, NULL, upd[i], "ss", to, from);
    if (rc == 0)
        rc = db_exec(db, NULL, NULL, "DELETE FROM pl_rc WHERE name = ?", "s", from);
    return rc;
}

int
plc_db_traits_used(struct db *db, struct arena *a, const char ***out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT DISTINCT trait FROM pl_rp_trait ORDER BY trait", "");
    return rc != DB_OK ? rc : names(r, a, out, n);
}

/* ---- provider traits and aggregates ---- */

int
plc_db_rp_set_list(struct db *db, struct arena *a, const char *kind, const char *rp,
                   const char ***out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     !strcmp(kind, "trait")
                         ? "SELECT trait FROM pl_rp_trait WHERE rp_uuid = ? ORDER BY trait"
                         : "SELECT agg FROM pl_rp_agg WHERE rp_uuid = ? ORDER BY agg",
                     "s", rp);
    return rc != DB_OK ? rc : names(r, a, out, n);
}

int
plc_db_rp_set_replace(struct db *db, const char *kind, const char *rp,
                      const char *const *vals, int n)
{
    bool trait = !strcmp(kind, "trait");
    int rc = db_exec(db, NULL, NULL,
                     trait ? "DELETE FROM pl_rp_trait WHERE rp_uuid = ?"
                           : "DELETE FROM pl_rp_agg WHERE rp_uuid = ?", "s", rp);
    for (int i = 0; rc == DB_OK && i < n; i++) {
        rc = db_exec(db, NULL, NULL,
                     trait ? "INSERT INTO pl_rp_trait (rp_uuid, trait) VALUES (?, ?) "
                             "ON CONFLICT DO NOTHING"
                           : "INSERT INTO pl_rp_agg (rp_uuid, agg) VALUES (?, ?) "
                             "ON CONFLICT DO NOTHING",
                     "ss", rp, vals[i]);
    }
    return rc;
}

static bool
in_list(const char *const *l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(l[i], s))
            return true;
    return false;
}

int
plc_db_rp_traits_match(struct db *db, struct arena *a, const char *rp,
                       const char *const *req, int n, const char *const *forbid, int nf,
                       bool *ok)
{
    const char **have;
    int nh, rc = plc_db_rp_set_list(db, a, "trait", rp, &have, &nh);
    if (rc != DB_OK)
        return rc;
    *ok = true;
    for (int i = 0; i < n && *ok; i++)
        *ok = in_list(have, nh, req[i]);
    for (int i = 0; i < nf && *ok; i++)
        *ok = !in_list(have, nh, forbid[i]);
    return 0;
}

int
plc_db_rp_in_aggs(struct db *db, struct arena *a, const char *rp, const char *const *aggs,
                  int n, bool *ok)
{
    const char **have;
    int nh, rc = plc_db_rp_set_list(db, a, "agg", rp, &have, &nh);
    if (rc != DB_OK)
        return rc;
    *ok = false;
    for (int i = 0; i < n && !*ok; i++)
        *ok = in_list(have, nh, aggs[i]);
    return 0;
}

int
plc_db_rp_with_classes(struct db *db, struct arena *a, const char *const *rcs, int n,
                       const char ***out, int *nout)
{
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT i.rp_uuid FROM pl_inv i JOIN pl_rp p ON p.uuid = i.rp_uuid "
                     "WHERE i.rc IN (");
    for (int i = 0; i < n; i++) {
        db_query_sql(&q, i ? ", " : "");
        db_query_arg(&q, rcs[i]);
    }
    db_query_sql(&q, ") GROUP BY i.rp_uuid, p.created_at HAVING COUNT(*) = ");
    char num[16];
    snprintf(num, sizeof(num), "%d", n);
    db_query_sql(&q, num);
    db_query_sql(&q, " ORDER BY p.created_at, i.rp_uuid");
    int rc = db_query_exec(db, a, &r, &q);
    return rc != DB_OK ? rc : names(r, a, out, nout);
}

/* ---- allocations ---- */

static int
fail(struct plc_err *e, struct arena *a, int status, const char *code, const char *msg)
{
    e->status = status;
    e->code = code;
    e->msg = arena_strdup(a, msg);
    return -1;
}

/* Checks and writes one item: the class must be in the provider's
 * inventory and the amount within its units and free capacity. Usage is
 * summed after the consumer's old rows are gone, and rows written before
 * in the same transaction count. */
static int
alloc_item(struct db *db, struct arena *a, const char *consumer, const struct plc_item *it,
           struct plc_err *e)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, "
                     "i.allocation_ratio, (SELECT COALESCE(SUM(u.used), 0) FROM pl_alloc u "
                     "WHERE u.rp_uuid = i.rp_uuid AND u.rc = i.rc) "
                     "FROM pl_inv i WHERE i.rp_uuid = ? AND i.rc = ?", "ss", it->rp, it->rc);
    if (rc != DB_OK)
        return fail(e, a, 500, NULL, db_errmsg(db));
    if (!r->nrows)
        return fail(e, a, 409, NULL,
                    arena_printf(a, "Unable to allocate inventory: Inventory for '%s' on "
                                 "resource provider '%s' invalid.", it->rc, it->rp));
    int64_t total = db_int(r, 0, 0), reserved = db_int(r, 0, 1), min = db_int(r, 0, 2),
            max = db_int(r, 0, 3), step = db_int(r, 0, 4), used = db_int(r, 0, 6);
    double ratio = strtod(db_val(r, 0, 5), NULL);
    if (it->used < min || it->used > max || (step > 0 && it->used % step))
        return fail(e, a, 409, NULL,
                    arena_printf(a, "Unable to allocate inventory: Unable to create allocation "
                                 "for '%s' on resource provider '%s'. The requested amount "
                                 "would violate inventory constraints.", it->rc, it->rp));
    if ((double)(total - reserved) * ratio < (double)(used + it->used))
        return fail(e, a, 409, NULL,
                    arena_printf(a, "Unable to allocate inventory: Unable to create allocation "
                                 "for '%s' on resource provider '%s'. The requested amount "
                                 "would exceed the capacity.", it->rc, it->rp));
    rc = db_exec(db, NULL, NULL,
                 "INSERT INTO pl_alloc (consumer_uuid, rp_uuid, rc, used) VALUES (?, ?, ?, ?)",
                 "sssi", consumer, it->rp, it->rc, it->used);
    if (rc == DB_CONFLICT)
        return fail(e, a, 400, NULL,
                    arena_printf(a, "Allocation for resource class '%s' on resource provider "
                                 "'%s' given twice.", it->rc, it->rp));
    return rc == DB_OK ? 0 : fail(e, a, 500, NULL, db_errmsg(db));
}

/* One consumer of plc_db_alloc_apply(). */
static int
apply_one(struct db *db, struct arena *a, const struct plc_consumer_set *c, struct plc_err *e)
{
    struct db_res *cr, *old;
    int rc = db_exec(db, a, &cr, "SELECT generation FROM pl_consumer WHERE uuid = ?", "s",
                     c->consumer);
    if (rc != DB_OK)
        return fail(e, a, 500, NULL, db_errmsg(db));
    bool exists = cr->nrows > 0;
    int64_t gen = exists ? db_int(cr, 0, 0) : -1;
    if (c->check_gen && gen != c->gen) {
        const char *want = c->gen < 0 ? "None" : arena_printf(a, "%lld", (long long)c->gen);
        const char *got = gen < 0 ? "None" : arena_printf(a, "%lld", (long long)gen);
        return fail(e, a, 409, "placement.concurrent_update",
                    exists || c->gen >= 0
                        ? arena_printf(a, "consumer generation conflict - expected %s but "
                                       "got %s", want, got)
                        : "consumer generation conflict");
    }
    /* providers whose allocations change get a new generation */
    rc = db_exec(db, a, &old, "SELECT DISTINCT rp_uuid FROM pl_alloc WHERE consumer_uuid = ?",
                 "s", c->consumer);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM pl_alloc WHERE consumer_uuid = ?", "s",
                     c->consumer);
    if (rc != DB_OK)
        return fail(e, a, 500, NULL, db_errmsg(db));
    for (int i = 0; i < c->nitems; i++) {
        struct plc_rp rp;
        rc = plc_db_rp_get(db, a, c->items[i].rp, &rp);
        if (rc == -ENOENT)
            return fail(e, a, 400, NULL,
                        arena_printf(a, "Allocation for resource provider '%s' that does not "
                                     "exist.", c->items[i].rp));
        if (rc != DB_OK)
            return fail(e, a, 500, NULL, db_errmsg(db));
        if (alloc_item(db, a, c->consumer, &c->items[i], e) < 0)
            return -1;
        if ((rc = plc_db_rp_bump(db, rp.uuid, -1)) != DB_OK)
            return fail(e, a, 500, NULL, db_errmsg(db));
    }
    for (int i = 0; i < old->nrows; i++)
        if ((rc = plc_db_rp_bump(db, db_val(old, i, 0), -1)) != DB_OK && rc != -EAGAIN)
            return fail(e, a, 500, NULL, db_errmsg(db));
    int64_t t = now_us();
    if (c->nitems == 0)     /* a consumer without allocations is gone */
        rc = db_exec(db, NULL, NULL, "DELETE FROM pl_consumer WHERE uuid = ?", "s",
                     c->consumer);
    else if (exists)
        rc = db_exec(db, NULL, NULL,
                     "UPDATE pl_consumer SET generation = generation + 1, project_id = ?, "
                     "user_id = ?, consumer_type = COALESCE(?, consumer_type), updated_at = ? "
                     "WHERE uuid = ?", "sssis", c->project, c->user, c->ctype, t, c->consumer);
    else
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO pl_consumer (uuid, project_id, user_id, consumer_type, "
                     "generation, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
                     "ssssii", c->consumer, c->project, c->user, c->ctype, t, t);
    return rc == DB_OK ? 0 : fail(e, a, 500, NULL, db_errmsg(db));
}

int
plc_db_alloc_apply(struct db *db, struct arena *a, const struct plc_consumer_set *cs, int n,
                   struct plc_err *err)
{
    for (int i = 0; i < n; i++)
        if (apply_one(db, a, &cs[i], err) < 0)
            return -1;
    return 0;
}

static void
item_rows(struct db_res *r, struct arena *a, struct plc_item **out, int *n)
{
    *n = r->nrows;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        (*out)[i].rp = db_val(r, i, 0);
        (*out)[i].rc = db_val(r, i, 1);
        (*out)[i].used = db_int(r, i, 2);
    }
}

int
plc_db_alloc_get(struct db *db, struct arena *a, const char *consumer, struct plc_consumer *c,
                 struct plc_item **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT project_id, user_id, consumer_type, generation "
                                "FROM pl_consumer WHERE uuid = ?", "s", consumer);
    if (rc != DB_OK)
        return rc;
    memset(c, 0, sizeof(*c));
    if (r->nrows) {
        c->found = true;
        c->project = db_val(r, 0, 0);
        c->user = db_val(r, 0, 1);
        c->ctype = db_val(r, 0, 2);
        c->generation = db_int(r, 0, 3);
    }
    rc = db_exec(db, a, &r, "SELECT rp_uuid, rc, used FROM pl_alloc WHERE consumer_uuid = ? "
                            "ORDER BY rp_uuid, rc", "s", consumer);
    if (rc == DB_OK)
        item_rows(r, a, out, n);
    return rc;
}

int
plc_db_alloc_by_rp(struct db *db, struct arena *a, const char *rp, struct plc_item **out,
                   int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT consumer_uuid, rc, used FROM pl_alloc "
                                "WHERE rp_uuid = ? ORDER BY consumer_uuid, rc", "s", rp);
    if (rc == DB_OK)
        item_rows(r, a, out, n);
    return rc;
}

int
plc_db_alloc_delete(struct db *db, struct arena *a, const char *consumer)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT DISTINCT rp_uuid FROM pl_alloc WHERE consumer_uuid = ?",
                     "s", consumer);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    rc = db_exec(db, NULL, NULL, "DELETE FROM pl_alloc WHERE consumer_uuid = ?", "s", consumer);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM pl_consumer WHERE uuid = ?", "s", consumer);
    for (int i = 0; rc == DB_OK && i < r->nrows; i++)
        rc = plc_db_rp_bump(db, db_val(r, i, 0), -1);
    return rc;
}
