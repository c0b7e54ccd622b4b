/* img_db.c - the image service's SQL: images, their listing, members and
 * the queries of the start-up recovery; see img_db.h. */
#include "img_db.h"
#include "image.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char m3501[] =
    /* size and virtual_size stay NULL until data is uploaded, as Glance
     * shows them; min_disk/min_ram are never NULL */
    "CREATE TABLE img_image ("
    "  id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL,"
    "  visibility TEXT NOT NULL, owner TEXT, checksum TEXT, os_hash_algo TEXT,"
    "  os_hash_value TEXT, disk_format TEXT, container_format TEXT, size BIGINT,"
    "  virtual_size BIGINT, min_disk BIGINT NOT NULL, min_ram BIGINT NOT NULL,"
    "  is_protected INTEGER NOT NULL, os_hidden INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    "  tags TEXT NOT NULL, props TEXT NOT NULL);"
    "CREATE INDEX img_image_owner ON img_image (owner);"
    "CREATE TABLE img_tag ("
    "  image_id TEXT NOT NULL REFERENCES img_image(id), tag TEXT NOT NULL,"
    "  PRIMARY KEY (image_id, tag));"
    "CREATE INDEX img_tag_tag ON img_tag (tag);";

/* Where an image's bytes are (store), the digests of staged bytes, the node
 * running a transfer (worker); members; properties as rows so that a list
 * can filter on them. Data written before this lived in the file store.
 * img_prop is filled from props by img_db_backfill_props() at start. */
static const char m3502[] =
    "ALTER TABLE img_image ADD COLUMN store TEXT;"
    "ALTER TABLE img_image ADD COLUMN stage_md5 TEXT;"
    "ALTER TABLE img_image ADD COLUMN stage_sha512 TEXT;"
    "ALTER TABLE img_image ADD COLUMN worker TEXT;"
    "UPDATE img_image SET store = 'file' WHERE checksum IS NOT NULL;"
    "CREATE INDEX img_image_status ON img_image (status);"
    "CREATE TABLE img_prop ("
    "  image_id TEXT NOT NULL REFERENCES img_image(id), name TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (image_id, name));"
    /* values may be long (Glance allows 64 KiB): PostgreSQL's btree
     * refuses entries over ~2.7 KB, so only the name is indexed */
    "CREATE INDEX img_prop_name ON img_prop (name);"
    "CREATE TABLE img_member ("
    "  image_id TEXT NOT NULL REFERENCES img_image(id), member TEXT NOT NULL,"
    "  status TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (image_id, member));"
    "CREATE INDEX img_member_member ON img_member (member, status);"
    /* import tasks (GET /v2/images/{id}/tasks, API 2.12); input and result
     * are JSON text */
    "CREATE TABLE img_task ("
    "  id TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES img_image(id),"
    "  type TEXT NOT NULL, status TEXT NOT NULL, owner TEXT, user_id TEXT,"
    "  request_id TEXT, input TEXT, result TEXT, message TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, expires_at BIGINT);"
    "CREATE INDEX img_task_image ON img_task (image_id);";

const struct db_migration img_migrations[] = {
    {3501, m3501},
    {3502, m3502},
};
const int img_nmigrations = sizeof(img_migrations) / sizeof(img_migrations[0]);

#define COLS                                                                                 \
    "i.id, i.name, i.status, i.visibility, i.owner, i.checksum, i.os_hash_algo, "           \
    "i.os_hash_value, i.disk_format, i.container_format, i.size, i.virtual_size, "          \
    "i.min_disk, i.min_ram, i.is_protected, i.os_hidden, i.created_at, i.updated_at, "      \
    "i.tags, i.props, i.store, i.stage_md5, i.stage_sha512"

/* Glance's sort keys, and the expression each sorts by with %s for the
 * table alias; NULLs become a value so the marker comparison stays total. */
const char *const img_db_sort_keys[] = {
    "name", "status", "container_format", "disk_format", "size", "id", "created_at",
    "updated_at", NULL,
};
static const char *const sort_exprs[] = {
    "COALESCE(%s.name, '')", "%s.status", "COALESCE(%s.container_format, '')",
    "COALESCE(%s.disk_format, '')", "COALESCE(%s.size, -1)", "%s.id", "%s.created_at",
    "%s.updated_at",
};

/* Filterable columns and their expressions; the integer ones compare
 * through CAST so that SQLite does not compare a number with text. Glance
 * keeps times in whole seconds, and so do these comparisons. */
const char *const img_db_filter_cols[] = {
    "id", "name", "status", "container_format", "disk_format", "owner", "checksum",
    "os_hash_algo", "os_hash_value", "size", "virtual_size", "min_disk", "min_ram",
    "created_at", "updated_at", NULL,
};
static const char *const filter_exprs[] = {
    "i.id", "i.name", "i.status", "i.container_format", "i.disk_format", "i.owner",
    "i.checksum", "i.os_hash_algo", "i.os_hash_value", "i.size", "i.virtual_size",
    "i.min_disk", "i.min_ram", "(i.created_at / 1000000)", "(i.updated_at / 1000000)",
};
#define FIRST_INT_COL 9

static int
col_index(const char *const *cols, const char *name)
{
    for (int i = 0; name && cols[i]; i++)
        if (!strcmp(cols[i], name))
            return i;
    return -1;
}

bool
img_db_int_col(const char *col)
{
    return col_index(img_db_filter_cols, col) >= FIRST_INT_COL;
}

static void
read_row(const struct db_res *r, int row, struct img_image *im)
{
    im->id = db_val(r, row, 0);
    im->name = db_val(r, row, 1);
    im->status = db_val(r, row, 2);
    im->visibility = db_val(r, row, 3);
    im->owner = db_val(r, row, 4);
    im->checksum = db_val(r, row, 5);
    im->hash_algo = db_val(r, row, 6);
    im->hash_value = db_val(r, row, 7);
    im->disk_format = db_val(r, row, 8);
    im->container_format = db_val(r, row, 9);
    im->size = db_val(r, row, 10) ? db_int(r, row, 10) : -1;
    im->virtual_size = db_val(r, row, 11) ? db_int(r, row, 11) : -1;
    im->min_disk = db_int(r, row, 12);
    im->min_ram = db_int(r, row, 13);
    im->protected_ = db_bool(r, row, 14);
    im->hidden = db_bool(r, row, 15);
    im->created_us = db_int(r, row, 16);
    im->updated_us = db_int(r, row, 17);
    im->tags = db_val(r, row, 18);
    im->props = db_val(r, row, 19);
    im->store = db_val(r, row, 20);
    im->stage_md5 = db_val(r, row, 21);
    im->stage_sha512 = db_val(r, row, 22);
}

/* Every row of r as an image, in a new array in a. */
static struct img_image *
read_rows(const struct db_res *r, struct arena *a)
{
    struct img_image *out = arena_alloc(a, sizeof(*out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        read_row(r, i, &out[i]);
    return out;
}

int
img_db_get(struct db *db, struct arena *a, const char *id, struct img_image *out)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " COLS " FROM img_image i WHERE i.id = ?", "s", id);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    read_row(r, 0, out);
    return 0;
}

/* Replaces the img_tag rows of id with the tags of the JSON array text. */
static int
write_tags(struct db *db, const char *id, const char *tags)
{
    json_t *arr = json_loads(tags ? tags : "[]", 0, NULL);
    size_t i;
    json_t *v;
    int rc = db_exec(db, NULL, NULL, "DELETE FROM img_tag WHERE image_id = ?", "s", id);
    json_array_foreach(arr, i, v) {
        if (rc != DB_OK)
            break;
        rc = db_exec(db, NULL, NULL, "INSERT INTO img_tag (image_id, tag) VALUES (?, ?)",
                     "ss", id, json_string_value(v));
    }
    json_decref(arr);
    return rc;
}

/* Replaces the img_prop rows of id with the string members of the JSON
 * object text. */
static int
write_props(struct db *db, const char *id, const char *props)
{
    json_t *o = json_loads(props ? props : "{}", 0, NULL);
    const char *k;
    json_t *v;
    int rc = db_exec(db, NULL, NULL, "DELETE FROM img_prop WHERE image_id = ?", "s", id);
    json_object_foreach(o, k, v) {
        if (rc != DB_OK)
            break;
        if (json_is_string(v))
            rc = db_exec(db, NULL, NULL,
                         "INSERT INTO img_prop (image_id, name, value) VALUES (?, ?, ?)", "sss",
                         id, k, json_string_value(v));
    }
    json_decref(o);
    return rc;
}

int
img_db_insert(struct db *db, struct arena *a, const struct img_image *im)
{
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(db, NULL, NULL,
                 "INSERT INTO img_image (id, name, status, visibility, owner, disk_format,"
                 " container_format, min_disk, min_ram, is_protected, os_hidden, created_at,"
                 " updated_at, tags, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 "sssssssiibbiiss", im->id, im->name, im->status, im->visibility, im->owner,
                 im->disk_format, im->container_format, im->min_disk, im->min_ram,
                 (int)im->protected_, (int)im->hidden, im->created_us, im->updated_us,
                 im->tags, im->props);
    if (rc == DB_OK)
        rc = write_tags(db, im->id, im->tags);
    if (rc == DB_OK)
        rc = write_props(db, im->id, im->props);
    rc = db_end(db, rc);
    return rc == DB_CONFLICT ? -EEXIST : rc;
}

int
img_db_update(struct db *db, struct arena *a, const struct img_image *im)
{
    struct db_res *r;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(db, a, &r,
                 "UPDATE img_image SET name = ?, visibility = ?, owner = ?, disk_format = ?,"
                 " container_format = ?, min_disk = ?, min_ram = ?, is_protected = ?,"
                 " os_hidden = ?, updated_at = ?, tags = ?, props = ? WHERE id = ?"
                 " RETURNING id",
                 "sssssiibbisss", im->name, im->visibility, im->owner, im->disk_format,
                 im->container_format, im->min_disk, im->min_ram, (int)im->protected_,
                 (int)im->hidden, im->updated_us, im->tags, im->props, im->id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    if (rc == DB_OK)
        rc = write_tags(db, im->id, im->tags);
    if (rc == DB_OK)
        rc = write_props(db, im->id, im->props);
    return db_end(db, rc);
}

/* After an UPDATE ... WHERE status = ? that changed nothing: -ENOENT when
 * the image is gone, else -EBUSY with its status in *now. */
static int
why_not(struct db *db, struct arena *a, const char *id, const char **now)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT status FROM img_image WHERE id = ?", "s", id);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    if (now)
        *now = db_val(r, 0, 0);
    return -EBUSY;
}

int
img_db_set_status(struct db *db, struct arena *a, const struct img_image *im,
                  const char *from, const char *to, const char **now)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_image SET status = ?, updated_at = ? WHERE id = ? AND"
                     " status = ? RETURNING id",
                     "siss", to, now_us(), im->id, from);
    if (rc != DB_OK || r->nrows)
        return rc;
    return why_not(db, a, im->id, now);
}

int
img_db_claim(struct db *db, struct arena *a, const char *id, const char *from, const char *to,
             const char *worker, const char **now)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_image SET status = ?, worker = ?, updated_at = ? WHERE id = ?"
                     " AND status = ? RETURNING id",
                     "ssiss", to, worker, now_us(), id, from);
    if (rc != DB_OK || r->nrows)
        return rc;
    return why_not(db, a, id, now);
}

int
img_db_unclaim(struct db *db, struct arena *a, const char *id, const char *from)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_image SET status = 'queued', size = NULL, virtual_size = NULL,"
                     " checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL,"
                     " stage_md5 = NULL, stage_sha512 = NULL, store = NULL, worker = NULL,"
                     " updated_at = ? WHERE id = ? AND status = ? RETURNING id",
                     "iss", now_us(), id, from);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return rc;
}

int
img_db_set_data(struct db *db, struct arena *a, const char *id, const char *from,
                const char *md5, const char *sha512, int64_t size, int64_t virtual_size,
                const char *store)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_image SET status = 'active', checksum = ?,"
                     " os_hash_algo = 'sha512', os_hash_value = ?, size = ?,"
                     " virtual_size = NULLIF(CAST(? AS BIGINT), -1), store = ?,"
                     " stage_md5 = NULL, stage_sha512 = NULL, worker = NULL, updated_at = ?"
                     " WHERE id = ? AND status = ? RETURNING id",
                     "ssiisiss", md5, sha512, size, virtual_size, store, now_us(), id, from);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return rc;
}

int
img_db_set_staged(struct db *db, struct arena *a, const char *id, const char *md5,
                  const char *sha512, int64_t size)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_image SET size = ?, stage_md5 = ?, stage_sha512 = ?,"
                     " updated_at = ? WHERE id = ? AND status = 'uploading'"
                     " AND stage_sha512 IS NULL RETURNING id",
                     "issis", size, md5, sha512, now_us(), id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return rc;
}

int
img_db_delete(struct db *db, struct arena *a, const char *id)
{
    static const char *const deps[] = {
        "DELETE FROM img_tag WHERE image_id = ?", "DELETE FROM img_prop WHERE image_id = ?",
        "DELETE FROM img_member WHERE image_id = ?", "DELETE FROM img_task WHERE image_id = ?",
    };
    struct db_res *r;
    int rc = db_begin(db);
    for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]) && rc == DB_OK; i++)
        rc = db_exec(db, NULL, NULL, deps[i], "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "DELETE FROM img_image WHERE id = ? RETURNING id", "s", id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return db_end(db, rc);
}

/* ---- listing ---- */

/* What the caller may see (Glance's regular-user union: public and
 * community images, its own, and shared ones it is a member of with the
 * asked member status), narrowed to the visibility asked for; without
 * one, community images show only to their owner. */
static void
access_cond(struct db_query *q, const struct img_filter *f)
{
    const char *v = f->visibility;
    if (!f->admin) {
        db_query_sql(q, " AND (i.visibility IN ('public', 'community') OR i.owner = ?");
        db_query_bind(q, f->caller);
        db_query_sql(q, " OR (i.visibility = 'shared' AND EXISTS (SELECT 1 FROM img_member mm"
                        " WHERE mm.image_id = i.id AND mm.member = ?");
        db_query_bind(q, f->caller);
        if (f->member_status && strcmp(f->member_status, "all"))
            db_query_eq(q, "mm.status", f->member_status);
        db_query_sql(q, ")))");
    }
    if (v && strcmp(v, "all")) {
        db_query_eq(q, "i.visibility", v);
    } else if (!v) {
        db_query_sql(q, " AND (i.visibility <> 'community' OR i.owner = ?)");
        db_query_bind(q, f->caller);
    }
}

static void
cond_sql(struct db_query *q, const struct img_cond *c)
{
    static const char *const ops[] = {"", " = ", " <> ", " > ", " >= ", " < ", " <= "};
    if (!c->col) {
        db_query_sql(q, " AND EXISTS (SELECT 1 FROM img_prop p WHERE p.image_id = i.id"
                        " AND p.name = ");
        db_query_arg(q, c->prop);
        db_query_sql(q, " AND p.value = ");
        db_query_arg(q, c->vals[0]);
        db_query_sql(q, ")");
        return;
    }
    int k = col_index(img_db_filter_cols, c->col);
    if (k < 0) {
        q->full = true;     /* a programming error: never run it */
        return;
    }
    bool num = k >= FIRST_INT_COL;
    db_query_sql(q, " AND ");
    db_query_sql(q, filter_exprs[k]);
    int n = c->op == IMG_OP_IN ? c->nvals : 1;
    db_query_sql(q, c->op == IMG_OP_IN ? " IN (" : ops[c->op]);
    for (int i = 0; i < n; i++) {
        db_query_sql(q, i ? ", " : "");
        db_query_sql(q, num ? "CAST(? AS BIGINT)" : "?");
        db_query_bind(q, c->vals[i]);
    }
    if (c->op == IMG_OP_IN)
        db_query_sql(q, n ? ")" : "NULL)");
}

/* The marker condition: rows after the marker's in the (k1, k2, ...)
 * order, each key in its own direction: k1 beyond, or k1 equal and k2
 * beyond, and so on. The marker's values come from the joined row mk. */
static void
marker_cond(struct db_query *q, const int *keys, const struct img_filter *f)
{
    char buf[160], e[64];
    db_query_sql(q, " AND (");
    for (int j = 0; j < f->nsort; j++) {
        db_query_sql(q, j ? " OR (" : "(");
        for (int i = 0; i < j; i++) {
            snprintf(e, sizeof(e), sort_exprs[keys[i]], "i");
            snprintf(buf, sizeof(buf), "%s = mk.k%d AND ", e, i);
            db_query_sql(q, buf);
        }
        snprintf(e, sizeof(e), sort_exprs[keys[j]], "i");
        snprintf(buf, sizeof(buf), "%s %s mk.k%d)", e, f->sort_asc[j] ? ">" : "<", j);
        db_query_sql(q, buf);
    }
    db_query_sql(q, ")");
}

int
img_db_list(struct db *db, struct arena *a, const struct img_filter *f,
            struct img_image **items, int *n)
{
    struct db_query q = {0};
    struct db_res *r;
    char buf[160], e[64];
    int keys[IMG_MAX_SORT + 2], rc;
    for (int i = 0; i < f->nsort; i++)
        if ((keys[i] = col_index(img_db_sort_keys, f->sort_keys[i])) < 0)
            return -EINVAL;
    db_query_sql(&q, "SELECT " COLS " FROM img_image i");
    if (f->marker) {
        db_query_sql(&q, ", (SELECT ");
        for (int i = 0; i < f->nsort; i++) {
            snprintf(e, sizeof(e), sort_exprs[keys[i]], "m");
            snprintf(buf, sizeof(buf), "%s%s AS k%d", i ? ", " : "", e, i);
            db_query_sql(&q, buf);
        }
        db_query_sql(&q, " FROM img_image m WHERE m.id = ");
        db_query_arg(&q, f->marker);
        db_query_sql(&q, ") mk");
    }
    db_query_sql(&q, " WHERE 1 = 1");
    for (int i = 0; i < f->nconds; i++)
        cond_sql(&q, &f->conds[i]);
    for (int i = 0; i < f->ntags; i++) {
        db_query_sql(&q, " AND EXISTS (SELECT 1 FROM img_tag t WHERE t.image_id = i.id"
                         " AND t.tag = ");
        db_query_arg(&q, f->tags[i]);
        db_query_sql(&q, ")");
    }
    if (f->hidden >= 0)
        db_query_sql(&q, f->hidden ? " AND i.os_hidden = 1" : " AND i.os_hidden = 0");
    if (f->protected_ >= 0)
        db_query_sql(&q, f->protected_ ? " AND i.is_protected = 1" : " AND i.is_protected = 0");
    access_cond(&q, f);
    if (f->marker)
        marker_cond(&q, keys, f);
    db_query_sql(&q, " ORDER BY ");
    for (int i = 0; i < f->nsort; i++) {
        snprintf(e, sizeof(e), sort_exprs[keys[i]], "i");
        snprintf(buf, sizeof(buf), "%s%s %s", i ? ", " : "", e, f->sort_asc[i] ? "ASC" : "DESC");
        db_query_sql(&q, buf);
    }
    snprintf(buf, sizeof(buf), " LIMIT %d", f->limit);
    db_query_sql(&q, buf);
    if (q.full)
        return -E2BIG;
    rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *items = read_rows(r, a);
    *n = r->nrows;
    return 0;
}

/* ---- members ---- */

#define MCOLS "image_id, member, status, created_at, updated_at"

static void
read_member(const struct db_res *r, int i, struct img_member *m)
{
    m->image_id = db_val(r, i, 0);
    m->member = db_val(r, i, 1);
    m->status = db_val(r, i, 2);
    m->created_us = db_int(r, i, 3);
    m->updated_us = db_int(r, i, 4);
}

int
img_db_member_get(struct db *db, struct arena *a, const char *image_id, const char *member,
                  struct img_member *out)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT " MCOLS " FROM img_member WHERE image_id = ? AND member = ?", "ss",
                     image_id, member);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    read_member(r, 0, out);
    return 0;
}

int
img_db_member_list(struct db *db, struct arena *a, const char *image_id, const char *member,
                   struct img_member **out, int *n)
{
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT " MCOLS " FROM img_member WHERE image_id = ");
    db_query_arg(&q, image_id);
    db_query_eq(&q, "member", member);
    db_query_sql(&q, " ORDER BY created_at, member");
    int rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        read_member(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
img_db_member_add(struct db *db, struct arena *a, const char *image_id, const char *member,
                  int max, int *count, struct img_member *out)
{
    struct db_res *r;
    int64_t t = now_us();
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(db, a, &r, "SELECT COUNT(*) FROM img_member WHERE image_id = ?", "s",
                 image_id);
    if (rc == DB_OK && img_db_member_get(db, a, image_id, member, out) == 0)
        rc = -EEXIST;
    if (rc == DB_OK && (*count = (int)db_int(r, 0, 0)) >= max)
        rc = -ENOSPC;
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO img_member (image_id, member, status, created_at, updated_at)"
                     " VALUES (?, ?, 'pending', ?, ?)",
                     "ssii", image_id, member, t, t);
    rc = db_end(db, rc);
    if (rc == DB_CONFLICT)
        return -EEXIST;
    if (rc == DB_OK)
        *out = (struct img_member){arena_strdup(a, image_id), arena_strdup(a, member),
                                   "pending", t, t};
    return rc;
}

int
img_db_member_set(struct db *db, struct arena *a, const char *image_id, const char *member,
                  const char *status, struct img_member *out)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_member SET status = ?, updated_at = ? WHERE image_id = ?"
                     " AND member = ? RETURNING " MCOLS,
                     "siss", status, now_us(), image_id, member);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    read_member(r, 0, out);
    return 0;
}

int
img_db_member_delete(struct db *db, struct arena *a, const char *image_id, const char *member)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "DELETE FROM img_member WHERE image_id = ? AND member = ? RETURNING member",
                     "ss", image_id, member);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return rc;
}

/* ---- tasks ---- */

#define TCOLS                                                                                \
    "id, image_id, type, status, owner, user_id, request_id, input, result, message,"       \
    " created_at, updated_at, expires_at"

int
img_db_task_add(struct db *db, const struct img_task *t)
{
    int64_t now = now_us();
    /* finished tasks live task_time_to_live; the expired go as new come */
    int rc = db_exec(db, NULL, NULL, "DELETE FROM img_task WHERE expires_at < ?", "i", now);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO img_task (" TCOLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                     " ?, NULL)",
                     "ssssssssssii", t->id, t->image_id, t->type, t->status, t->owner,
                     t->user_id, t->request_id, t->input, t->result, t->message ? t->message
                                                                                  : "",
                     t->created_us, t->created_us);
    return rc;
}

int
img_db_task_finish(struct db *db, const char *id, const char *status, const char *result,
                   const char *message, int64_t ttl_us)
{
    int64_t now = now_us();
    return db_exec(db, NULL, NULL,
                   "UPDATE img_task SET status = ?, result = ?, message = ?, updated_at = ?,"
                   " expires_at = ? WHERE id = ?",
                   "sssiis", status, result, message ? message : "", now, now + ttl_us, id);
}

int
img_db_task_list(struct db *db, struct arena *a, const char *image_id, const char *owner,
                 struct img_task **out, int *n)
{
    struct db_query q = {0};
    struct db_res *r;
    db_query_sql(&q, "SELECT " TCOLS " FROM img_task WHERE image_id = ");
    db_query_arg(&q, image_id);
    db_query_sql(&q, " AND (expires_at IS NULL OR expires_at >= ");
    db_query_arg(&q, arena_printf(a, "%lld", (long long)now_us()));
    db_query_sql(&q, ")");
    if (owner) {
        db_query_sql(&q, " AND (owner IS NULL OR owner = ");
        db_query_arg(&q, owner);
        db_query_sql(&q, ")");
    }
    db_query_sql(&q, " ORDER BY created_at, id");
    int rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        struct img_task *t = &(*out)[i];
        t->id = db_val(r, i, 0);
        t->image_id = db_val(r, i, 1);
        t->type = db_val(r, i, 2);
        t->status = db_val(r, i, 3);
        t->owner = db_val(r, i, 4);
        t->user_id = db_val(r, i, 5);
        t->request_id = db_val(r, i, 6);
        t->input = db_val(r, i, 7);
        t->result = db_val(r, i, 8);
        t->message = db_val(r, i, 9);
        t->created_us = db_int(r, i, 10);
        t->updated_us = db_int(r, i, 11);
        t->expires_us = db_val(r, i, 12) ? db_int(r, i, 12) : -1;
    }
    *n = r->nrows;
    return 0;
}

int
img_db_task_interrupted(struct db *db, const char *image_id, const char *message,
                        int64_t ttl_us)
{
    int64_t now = now_us();
    return db_exec(db, NULL, NULL,
                   "UPDATE img_task SET status = 'failure', message = ?, updated_at = ?,"
                   " expires_at = ? WHERE image_id = ? AND status IN ('pending', 'processing')",
                   "siis", message, now, now + ttl_us, image_id);
}

/* ---- start-up ---- */

int
img_db_in_transfer(struct db *db, struct arena *a, const char *worker, struct img_image **out,
                   int *n)
{
    struct db_res *r;
    /* rows claimed before the worker column existed have none: only this
     * node can have been running them */
    int rc = db_exec(db, a, &r,
                     "SELECT " COLS " FROM img_image i WHERE i.status IN ('saving', 'uploading',"
                     " 'importing') AND (i.worker = ? OR i.worker IS NULL)",
                     "s", worker);
    if (rc != DB_OK)
        return rc;
    *out = read_rows(r, a);
    *n = r->nrows;
    return 0;
}

int
img_db_file_owners(struct db *db, struct arena *a, bool staging, const char ***ids, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     staging ? "SELECT id FROM img_image WHERE status = 'uploading'"
                               " AND stage_sha512 IS NOT NULL"
                             : "SELECT id FROM img_image WHERE status IN ('active',"
                               " 'deactivated') AND (store IS NULL OR store = 'file')",
                     "");
    if (rc != DB_OK)
        return rc;
    *ids = arena_alloc(a, sizeof(**ids) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        (*ids)[i] = db_val(r, i, 0);
    *n = r->nrows;
    return 0;
}

int
img_db_backfill_props(struct db *db, struct arena *a)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT i.id, i.props FROM img_image i WHERE i.props <> '{}' AND NOT"
                     " EXISTS (SELECT 1 FROM img_prop p WHERE p.image_id = i.id)", "");
    for (int i = 0; rc == DB_OK && i < r->nrows; i++) {
        rc = db_begin(db);
        if (rc == DB_OK)
            rc = db_end(db, write_props(db, db_val(r, i, 0), db_val(r, i, 1)));
    }
    return rc;
}

int
img_db_project_id(struct db *db, struct arena *a, const char *name, const char **id)
{
    struct db_res *r;
    /* the identity service's table, read once at start: the image service
     * has no request (and so no identity API) to ask through then */
    int rc = db_exec(db, a, &r,
                     "SELECT id FROM project WHERE name = ? AND domain_id = 'default'"
                     " AND is_domain = 0", "s", name);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    *id = db_val(r, 0, 0);
    return 0;
}
