/* obj_db.c - the object service's SQL; see obj_db.h.
 *
 * Names are compared in byte order, as Swift lists them: SQLite's BINARY
 * collation on UTF-8 text is byte order, and the PostgreSQL clusters this
 * project makes use the C.UTF-8 locale, whose order is code point order,
 * which for UTF-8 is the same. */
#include "obj_db.h"
#include "object.h"
#include "store.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char m3001[] =
    "CREATE TABLE obj_account ("
    "  account TEXT PRIMARY KEY, created_at BIGINT NOT NULL, meta TEXT);"
    /* the id, not the name, names the container's directory: any name is
     * then safe, and a container made again under an old name starts empty */
    "CREATE TABLE obj_container ("
    "  id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, put_at BIGINT NOT NULL, meta TEXT,"
    "  UNIQUE (account, name));"
    "CREATE TABLE obj_object ("
    "  container_id TEXT NOT NULL REFERENCES obj_container(id),"
    "  name TEXT NOT NULL, file TEXT NOT NULL, size BIGINT NOT NULL,"
    "  etag TEXT NOT NULL, content_type TEXT NOT NULL, modified_at BIGINT NOT NULL,"
    "  meta TEXT, PRIMARY KEY (container_id, name));";

/* ACLs are columns, not metadata: only the account owner may see or set
 * them, and a reader must never be handed them as X-Container-Meta-*.
 * delete_at (unix seconds) drives expiry; the partial index keeps the
 * sweep's scan to the objects that expire at all. */
static const char m3002[] =
    "ALTER TABLE obj_container ADD COLUMN read_acl TEXT;"
    "ALTER TABLE obj_container ADD COLUMN write_acl TEXT;"
    "ALTER TABLE obj_object ADD COLUMN delete_at BIGINT;"
    "CREATE INDEX obj_object_delete_at ON obj_object (delete_at) "
    "WHERE delete_at IS NOT NULL;";

/* Versioned writes (X-Versions-Location / X-History-Location): the archive
 * container's name as the client sent it, and the mode. Columns rather than
 * metadata, as Swift keeps them in sysmeta: never X-Container-Meta-*. */
static const char m3003[] =
    "ALTER TABLE obj_container ADD COLUMN versions TEXT;"
    "ALTER TABLE obj_container ADD COLUMN versions_mode TEXT;";

/* Inline objects (store.h): the bytes of small objects, base64url text,
 * keyed by their row's file name. A table of their own keeps the listing
 * rows of obj_object small and dense. */
static const char m3004[] =
    "CREATE TABLE obj_inline (file TEXT PRIMARY KEY, data TEXT NOT NULL);";

const struct db_migration obj_migrations[] = {
    {3001, m3001},
    {3002, m3002},
    {3003, m3003},
    {3004, m3004},
};
const int obj_nmigrations = sizeof(obj_migrations) / sizeof(obj_migrations[0]);

json_t *
obj_meta_load(const char *meta)
{
    json_t *o = meta ? json_loads(meta, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    return o;
}

const char *
obj_meta_text(struct arena *a, json_t *o)
{
    char *txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    const char *r = arena_strdup(a, txt ? txt : "{}");
    free(txt);
    json_decref(o);
    return r;
}

const char *
obj_meta_merge(struct arena *a, const char *old, const char *set)
{
    json_t *o = obj_meta_load(old), *s = obj_meta_load(set);
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) {
        if (!*json_string_value(v))
            json_object_del(o, k);
        else
            json_object_set(o, k, v);
    }
    json_decref(s);
    return obj_meta_text(a, o);
}

int
obj_db_container_get(struct db *db, struct arena *a, const char *account, const char *name,
                     struct obj_container *out)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT id, name, created_at, put_at, meta, read_acl, write_acl, "
                     "versions, versions_mode FROM obj_container "
                     "WHERE account = ? AND name = ?",
                     "ss", account, name);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    out->id = db_val(r, 0, 0);
    out->name = db_val(r, 0, 1);
    out->created_us = db_int(r, 0, 2);
    out->put_us = db_int(r, 0, 3);
    out->meta = db_val(r, 0, 4);
    out->read_acl = db_val(r, 0, 5);
    out->write_acl = db_val(r, 0, 6);
    out->versions = db_val(r, 0, 7);
    out->versions_mode = db_val(r, 0, 8);
    return 0;
}

/* The account row exists from the first write on, for its timestamp. */
static int
touch_account(struct db *db, const char *account, int64_t t)
{
    return db_exec(db, NULL, NULL,
                   "INSERT INTO obj_account (account, created_at, meta) VALUES (?, ?, '{}') "
                   "ON CONFLICT (account) DO NOTHING",
                   "si", account, t);
}

/* Sets the ACL columns that are asked for (non-NULL; "" clears). */
static int
set_acls(struct db *db, const char *id, const struct obj_acls *acl)
{
    int rc = DB_OK;
    if (acl && acl->read)
        rc = db_exec(db, NULL, NULL, "UPDATE obj_container SET read_acl = ? WHERE id = ?",
                     "ss", acl->read, id);
    if (rc == DB_OK && acl && acl->write)
        rc = db_exec(db, NULL, NULL, "UPDATE obj_container SET write_acl = ? WHERE id = ?",
                     "ss", acl->write, id);
    if (rc == DB_OK && acl && acl->versions)
        rc = db_exec(db, NULL, NULL,
                     "UPDATE obj_container SET versions = ?, versions_mode = ? WHERE id = ?",
                     "sss", *acl->versions ? acl->versions : NULL,
                     *acl->versions && acl->versions_mode ? acl->versions_mode : NULL, id);
    return rc;
}

int
obj_db_container_put(struct db *db, struct arena *a, const char *account, const char *name,
                     const char *meta_set, const struct obj_acls *acl, bool *created)
{
    struct obj_container c;
    int64_t t = now_us();
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = obj_db_container_get(db, a, account, name, &c);
    if (rc == -ENOENT) {
        char id[33];
        uuid_hex(id);
        *created = true;
        rc = touch_account(db, account, t);
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL,
                         "INSERT INTO obj_container (id, account, name, created_at, put_at, "
                         "meta) VALUES (?, ?, ?, ?, ?, ?)",
                         "sssiis", id, account, name, t, t, obj_meta_merge(a, NULL, meta_set));
        if (rc == DB_OK)
            rc = set_acls(db, id, acl);
    } else if (rc == 0) {
        *created = false;
        rc = db_exec(db, NULL, NULL,
                     "UPDATE obj_container SET put_at = ?, meta = ? WHERE id = ?", "iss", t,
                     obj_meta_merge(a, c.meta, meta_set), c.id);
        if (rc == DB_OK)
            rc = set_acls(db, c.id, acl);
    }
    return db_end(db, rc);
}

int
obj_db_container_post(struct db *db, struct arena *a, const char *account, const char *name,
                      const char *meta_set, const struct obj_acls *acl)
{
    struct obj_container c;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = obj_db_container_get(db, a, account, name, &c);
    if (rc == 0)
        rc = db_exec(db, NULL, NULL, "UPDATE obj_container SET meta = ? WHERE id = ?", "ss",
                     obj_meta_merge(a, c.meta, meta_set), c.id);
    if (rc == 0)
        rc = set_acls(db, c.id, acl);
    return db_end(db, rc);
}

int
obj_db_container_delete(struct db *db, struct arena *a, const char *account, const char *name,
                        const char **id_out)
{
    struct obj_container c;
    struct db_res *r;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = obj_db_container_get(db, a, account, name, &c);
    if (rc == 0)
        rc = db_exec(db, a, &r, "SELECT 1 FROM obj_object WHERE container_id = ? LIMIT 1",
                     "s", c.id);
    if (rc == 0 && r->nrows)
        rc = -ENOTEMPTY;
    if (rc == 0)
        rc = db_exec(db, NULL, NULL, "DELETE FROM obj_container WHERE id = ?", "s", c.id);
    if (rc == 0)
        *id_out = c.id;
    return db_end(db, rc);
}

int
obj_db_container_stats(struct db *db, struct arena *a, const char *container_id,
                       int64_t *count, int64_t *bytes)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM obj_object "
                     "WHERE container_id = ?",
                     "s", container_id);
    if (rc != DB_OK)
        return rc;
    *count = db_int(r, 0, 0);
    *bytes = db_int(r, 0, 1);
    return 0;
}

int
obj_db_account_stats(struct db *db, struct arena *a, const char *account, int64_t *containers,
                     int64_t *objects, int64_t *bytes, int64_t *created_us, const char **meta)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT (SELECT COUNT(*) FROM obj_container WHERE account = ?),"
                     " COUNT(o.name), COALESCE(SUM(o.size), 0) "
                     "FROM obj_container c JOIN obj_object o ON o.container_id = c.id "
                     "WHERE c.account = ?",
                     "ss", account, account);
    if (rc != DB_OK)
        return rc;
    *containers = db_int(r, 0, 0);
    *objects = db_int(r, 0, 1);
    *bytes = db_int(r, 0, 2);
    rc = db_exec(db, a, &r, "SELECT created_at, meta FROM obj_account WHERE account = ?", "s",
                 account);
    if (rc != DB_OK)
        return rc;
    *created_us = r->nrows ? db_int(r, 0, 0) : now_us();
    *meta = r->nrows ? db_val(r, 0, 1) : NULL;
    return 0;
}

int
obj_db_account_meta(struct db *db, struct arena *a, const char *account, const char **meta)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT meta FROM obj_account WHERE account = ?", "s",
                     account);
    if (rc != DB_OK)
        return rc;
    *meta = r->nrows ? db_val(r, 0, 0) : NULL;
    return 0;
}

int
obj_db_account_post(struct db *db, struct arena *a, const char *account, const char *meta_set)
{
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = touch_account(db, account, now_us());
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT meta FROM obj_account WHERE account = ?", "s",
                     account);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE obj_account SET meta = ? WHERE account = ?",
                     "ss", obj_meta_merge(a, db_val(r, 0, 0), meta_set), account);
    return db_end(db, rc);
}

static void
fill_row(const struct db_res *r, int i, struct obj_row *out)
{
    out->name = db_val(r, i, 0);
    out->file = db_val(r, i, 1);
    out->size = db_int(r, i, 2);
    out->etag = db_val(r, i, 3);
    out->content_type = db_val(r, i, 4);
    out->modified_us = db_int(r, i, 5);
    out->meta = db_val(r, i, 6);
    out->delete_at = db_int(r, i, 7);
    out->data = NULL;
}

/* delete_at as a bind value: NULL (no expiry) for 0 */
static const char *
delete_at_arg(struct arena *a, int64_t t)
{
    return t > 0 ? arena_printf(a, "%lld", (long long)t) : NULL;
}

int
obj_db_object_get(struct db *db, struct arena *a, const char *container_id, const char *name,
                  struct obj_row *out)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT o.name, o.file, o.size, o.etag, o.content_type, o.modified_at, "
                     "o.meta, o.delete_at, i.data FROM obj_object o "
                     "LEFT JOIN obj_inline i ON i.file = o.file "
                     "WHERE o.container_id = ? AND o.name = ?",
                     "ss", container_id, name);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    fill_row(r, 0, out);
    out->data = db_val(r, 0, 8);
    return 0;
}

/* Writers of one object name take turns. SQLite's BEGIN IMMEDIATE
 * serialises every write already; PostgreSQL (READ COMMITTED) would let two
 * overwrites both read the same old version, and the file of the one in
 * between would be left behind with no row naming it (seen: 213 files for
 * 181 objects after 16 concurrent writers). A transaction-scoped advisory
 * lock on the name fixes the order. */
static int
lock_object(struct db *db, const char *container_id, const char *name)
{
    if (!db_is_pg())
        return DB_OK;
    return db_exec(db, NULL, NULL,
                   "SELECT pg_advisory_xact_lock(hashtextextended("
                   "CAST(? AS text) || '/' || CAST(? AS text), 0))",
                   "ss", container_id, name);
}

/* A single put or delete is a batch of one (obj_db_object_batch) */
int
obj_db_object_put(struct db *db, struct arena *a, const char *container_id,
                  const struct obj_row *row, bool if_none, const char **old_file)
{
    struct obj_db_op op = {.kind = OBJ_DB_PUT, .container_id = container_id, .row = row,
                           .if_none = if_none};
    int bad, rc = obj_db_object_batch(db, a, &op, 1, &bad);
    *old_file = op.old_file;
    return rc;
}

int
obj_db_object_delete(struct db *db, struct arena *a, const char *container_id,
                     const char *name, const char **old_file)
{
    struct obj_row row = {.name = name};
    struct obj_db_op op = {.kind = OBJ_DB_DELETE, .container_id = container_id, .row = &row,
                           .must_exist = true};
    int bad, rc = obj_db_object_batch(db, a, &op, 1, &bad);
    *old_file = op.old_file;
    return rc;
}

int
obj_db_object_post(struct db *db, struct arena *a, const char *container_id,
                   const char *name, const char *meta, const char *content_type,
                   int64_t delete_at)
{
    struct db_query q = {0};
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    db_query_sql(&q, "UPDATE obj_object SET meta = ");
    db_query_arg(&q, meta);
    if (content_type) {
        db_query_sql(&q, ", content_type = ");
        db_query_arg(&q, content_type);
    }
    db_query_sql(&q, ", delete_at = ");
    db_query_arg(&q, delete_at_arg(a, delete_at));
    db_query_sql(&q, " WHERE container_id = ");
    db_query_arg(&q, container_id);
    db_query_sql(&q, " AND name = ");
    db_query_arg(&q, name);
    db_query_sql(&q, " RETURNING 1");
    struct db_res *r;
    rc = db_query_exec(db, a, &r, &q);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return db_end(db, rc);
}

int
obj_db_expired(struct db *db, struct arena *a, int64_t now_s, int limit,
               struct obj_expired **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT c.account, o.container_id, o.name, o.file "
                     "FROM obj_object o JOIN obj_container c ON c.id = o.container_id "
                     "WHERE o.delete_at IS NOT NULL AND o.delete_at <= ? "
                     "ORDER BY o.delete_at LIMIT ?",
                     "ii", now_s, (int64_t)limit);
    if (rc != DB_OK)
        return rc;
    struct obj_expired *e = arena_alloc(a, sizeof(*e) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        e[i].account = db_val(r, i, 0);
        e[i].container_id = db_val(r, i, 1);
        e[i].name = db_val(r, i, 2);
        e[i].file = db_val(r, i, 3);
    }
    *out = e;
    *n = r->nrows;
    return 0;
}

/* Removes the inline bytes of file, the row that named it gone or
 * replaced in this transaction; nothing for a real file. */
static int
drop_inline(struct db *db, const char *file)
{
    if (!obj_store_is_inline(file))
        return DB_OK;
    return db_exec(db, NULL, NULL, "DELETE FROM obj_inline WHERE file = ?", "s", file);
}

int
obj_db_expired_delete(struct db *db, const struct obj_expired *e, int64_t now_s)
{
    /* the file must still be the expired version's: an overwrite since the
     * scan made a new object that is not ours to remove */
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r,
                     "DELETE FROM obj_object WHERE container_id = ? AND name = ? "
                     "AND file = ? AND delete_at <= ? RETURNING 1",
                     "sssi", e->container_id, e->name, e->file, now_s);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    if (rc == DB_OK)
        rc = drop_inline(db, e->file);
    rc = db_end(db, rc);
    arena_free(a);
    return rc;
}

/* Characters (not bytes) of UTF-8 text, for substr() on both engines. */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int
obj_db_list(struct db *db, struct arena *a, bool containers, const char *owner,
            const struct obj_range *r, struct obj_list_item **items, int *n)
{
    struct db_query q = {0};
    char buf[160];
    if (containers) {
        /* the page of containers first, then the totals of those alone:
         * joining before the LIMIT summed every object of the account */
        db_query_sql(&q, "SELECT c.name, COUNT(o.name), COALESCE(SUM(o.size), 0), c.put_at "
                         "FROM (SELECT id, name, put_at FROM obj_container WHERE account = ");
    } else {
        db_query_sql(&q, "SELECT name, size, etag, content_type, modified_at "
                         "FROM obj_object WHERE container_id = ");
    }
    db_query_arg(&q, owner);
    const char *ops[3] = {" AND name > ", " AND name >= ", " AND name < "};
    const char *vals[3] = {r->gt, r->ge, r->lt};
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        db_query_sql(&q, ops[i]);
        db_query_arg(&q, vals[i]);
    }
    if (r->prefix && *r->prefix) {
        /* the range start lets the primary key index do the work; substr
         * (in characters on both engines) is the exact test */
        db_query_sql(&q, " AND name >= ");
        db_query_arg(&q, r->prefix);
        snprintf(buf, sizeof(buf), " AND substr(name, 1, %zu) = ", utf8_chars(r->prefix));
        db_query_sql(&q, buf);
        db_query_arg(&q, r->prefix);
    }
    snprintf(buf, sizeof(buf), " ORDER BY name%s LIMIT %d", r->reverse ? " DESC" : "",
             r->limit);
    db_query_sql(&q, buf);
    if (containers) {
        snprintf(buf, sizeof(buf),
                 ") c LEFT JOIN obj_object o ON o.container_id = c.id "
                 "GROUP BY c.id, c.name, c.put_at ORDER BY c.name%s",
                 r->reverse ? " DESC" : "");
        db_query_sql(&q, buf);
    }

    struct db_res *res;
    int rc = db_query_exec(db, a, &res, &q);
    if (rc != DB_OK)
        return rc;
    struct obj_list_item *it = arena_alloc(a, sizeof(*it) * (size_t)(res->nrows + 1));
    for (int i = 0; i < res->nrows; i++) {
        it[i].name = db_val(res, i, 0);
        if (containers) {
            it[i].count = db_int(res, i, 1);
            it[i].bytes = db_int(res, i, 2);
            it[i].when_us = db_int(res, i, 3);
        } else {
            it[i].bytes = db_int(res, i, 1);
            it[i].etag = db_val(res, i, 2);
            it[i].content_type = db_val(res, i, 3);
            it[i].when_us = db_int(res, i, 4);
        }
    }
    *items = it;
    *n = res->nrows;
    return 0;
}

int
obj_db_account_bytes(struct db *db, struct arena *a, const char *account, int64_t *bytes)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT COALESCE(SUM(o.size), 0) FROM obj_container c "
                     "JOIN obj_object o ON o.container_id = c.id WHERE c.account = ?",
                     "s", account);
    if (rc != DB_OK)
        return rc;
    *bytes = db_int(r, 0, 0);
    return 0;
}

/* One op of a batch inside its transaction; see obj_db_object_batch(). */
/* op->old_file was just removed or replaced: inline bytes go now, in
 * the transaction; only a real file is left for the caller to remove. */
static int
keep_file(struct db *db, struct obj_db_op *op)
{
    if (!obj_store_is_inline(op->old_file))
        return DB_OK;
    int rc = drop_inline(db, op->old_file);
    op->old_file = NULL;
    return rc;
}

static int
batch_op(struct db *db, struct arena *a, struct obj_db_op *op, int64_t now_s)
{
    struct db_res *r;
    const char *name = op->row->name, *cur = NULL, *live = NULL;
    /* A check must hold until the commit. SQLite's BEGIN IMMEDIATE already
     * makes writers take turns; PostgreSQL's READ COMMITTED does not, so
     * the container row is locked: a missing object row could not be. NO
     * KEY: inserts of other objects (their foreign key) still go on. */
    int rc = lock_object(db, op->container_id, name);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r,
                     op->check && db_is_pg()
                         ? "SELECT 1 FROM obj_container WHERE id = ? FOR NO KEY UPDATE"
                         : "SELECT 1 FROM obj_container WHERE id = ?",
                     "s", op->container_id);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    rc = db_exec(db, a, &r,
                 "SELECT file, delete_at FROM obj_object WHERE container_id = ? AND name = ?",
                 "ss", op->container_id, name);
    if (rc != DB_OK)
        return rc;
    if (r->nrows) {
        int64_t da = db_int(r, 0, 1);
        cur = db_val(r, 0, 0);
        /* an expired version the sweep has not reached counts as gone */
        live = da > 0 && da <= now_s ? NULL : cur;
    }
    if (op->check && (live || op->expect_file) &&
        !(live && op->expect_file && !strcmp(live, op->expect_file)))
        return -EAGAIN;
    if (op->kind == OBJ_DB_DELETE) {
        if (!cur)
            return op->must_exist ? -ENOENT : 0;
        /* RETURNING: the file of the row really removed */
        rc = db_exec(db, a, &r,
                     "DELETE FROM obj_object WHERE container_id = ? AND name = ? RETURNING file",
                     "ss", op->container_id, name);
        if (rc == DB_OK && r->nrows)
            op->old_file = db_val(r, 0, 0);
        else if (rc == DB_OK)
            return op->must_exist ? -ENOENT : 0;
        return rc == DB_OK ? keep_file(db, op) : rc;
    }
    if (op->if_none && live)
        return -EEXIST;
    const struct obj_row *row = op->row;
    if (obj_store_is_inline(row->file))
        rc = row->data ? db_exec(db, NULL, NULL,
                                 "INSERT INTO obj_inline (file, data) VALUES (?, ?)", "ss",
                                 row->file, row->data)
                       : DB_ERR;
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO obj_object (container_id, name, file, size, etag, "
                     "content_type, modified_at, meta, delete_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (container_id, name) DO UPDATE SET file = excluded.file, "
                     "size = excluded.size, etag = excluded.etag, "
                     "content_type = excluded.content_type, "
                     "modified_at = excluded.modified_at, meta = excluded.meta, "
                     "delete_at = excluded.delete_at",
                     "sssississ", op->container_id, name, row->file, row->size, row->etag,
                     row->content_type, row->modified_us, row->meta,
                     delete_at_arg(a, row->delete_at));
    if (rc == DB_OK)
        op->old_file = cur;
    return rc == DB_OK ? keep_file(db, op) : rc;
}

int
obj_db_object_batch(struct db *db, struct arena *a, struct obj_db_op *ops, int n, int *bad)
{
    int64_t now_s = now_us() / 1000000;
    int rc = db_begin(db), i = 0;
    *bad = -1;
    for (i = 0; i < n; i++)
        ops[i].old_file = NULL;
    for (i = 0; rc == DB_OK && i < n; i++)
        rc = batch_op(db, a, &ops[i], now_s);
    if (rc != DB_OK)
        *bad = i - 1;
    rc = db_end(db, rc);
    if (rc != DB_OK)
        for (i = 0; i < n; i++)
            ops[i].old_file = NULL;
    return rc;
}
