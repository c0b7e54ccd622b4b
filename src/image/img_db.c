/* img_db.c - the image service's SQL; see img_db.h. */
#include "img_db.h"
#include "image.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
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

const struct db_migration img_migrations[] = {
    {3501, m3501},
};
const int img_nmigrations = sizeof(img_migrations) / sizeof(img_migrations[0]);

#define COLS                                                                                 \
    "i.id, i.name, i.status, i.visibility, i.owner, i.checksum, i.os_hash_algo, "           \
    "i.os_hash_value, i.disk_format, i.container_format, i.size, i.virtual_size, "          \
    "i.min_disk, i.min_ram, i.is_protected, i.os_hidden, i.created_at, i.updated_at, "      \
    "i.tags, i.props"

/* Sort keys and the expression each sorts by, with %s for the table alias;
 * NULLs become a value so the marker comparison below stays total. */
const char *const img_db_sort_keys[] = {
    "name", "status", "container_format", "disk_format", "size", "id", "created_at",
    "updated_at", "visibility", "owner", "min_disk", "min_ram", "virtual_size", NULL,
};
static const char *const sort_exprs[] = {
    "COALESCE(%s.name, '')", "%s.status", "COALESCE(%s.container_format, '')",
    "COALESCE(%s.disk_format, '')", "COALESCE(%s.size, -1)", "%s.id", "%s.created_at",
    "%s.updated_at", "%s.visibility", "COALESCE(%s.owner, '')", "%s.min_disk",
    "%s.min_ram", "COALESCE(%s.virtual_size, -1)",
};

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
    return db_end(db, rc);
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
    rc = db_exec(db, a, &r, "SELECT status FROM img_image WHERE id = ?", "s", im->id);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    if (now)
        *now = db_val(r, 0, 0);
    return -EBUSY;
}

int
img_db_set_data(struct db *db, struct arena *a, const char *id, const char *md5,
                const char *sha512, int64_t size, int64_t virtual_size)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "UPDATE img_image SET status = 'active', checksum = ?,"
                     " os_hash_algo = 'sha512', os_hash_value = ?, size = ?,"
                     " virtual_size = NULLIF(CAST(? AS BIGINT), -1), updated_at = ?"
                     " WHERE id = ? AND status = 'saving' RETURNING id",
                     "ssiiis", md5, sha512, size, virtual_size, now_us(), id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return rc;
}

int
img_db_delete(struct db *db, struct arena *a, const char *id)
{
    struct db_res *r;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(db, NULL, NULL, "DELETE FROM img_tag WHERE image_id = ?", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "DELETE FROM img_image WHERE id = ? RETURNING id", "s", id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    return db_end(db, rc);
}

/* The visibility part of a listing: what the caller may see, narrowed to
 * the visibility asked for. */
static void
visibility_cond(struct db_query *q, const struct img_filter *f)
{
    const char *v = f->visibility;
    if (!v) {
        if (!f->admin) {
            db_query_sql(q, " AND (i.visibility = 'public' OR i.owner = ?)");
            db_query_bind(q, f->caller);
        }
    } else if (!strcmp(v, "all")) {
        if (!f->admin) {
            db_query_sql(q, " AND (i.visibility IN ('public', 'community') OR i.owner = ?)");
            db_query_bind(q, f->caller);
        }
    } else {
        db_query_eq(q, "i.visibility", v);
        if (!f->admin && strcmp(v, "public") && strcmp(v, "community"))
            db_query_eq(q, "i.owner", f->caller ? f->caller : "");
    }
}

int
img_db_list(struct db *db, struct arena *a, const struct img_filter *f,
            struct img_image **items, int *n)
{
    struct db_query q = {0};
    struct db_res *r;
    char ei[96], em[96], buf[512];
    const char *dir = f->asc ? "ASC" : "DESC", *cmp = f->asc ? ">" : "<";
    int k = 0, rc;
    while (img_db_sort_keys[k] && strcmp(img_db_sort_keys[k], f->sort_key))
        k++;
    if (!img_db_sort_keys[k])
        k = 6;  /* created_at */
    snprintf(ei, sizeof(ei), sort_exprs[k], "i");
    snprintf(em, sizeof(em), sort_exprs[k], "m");

    if (f->marker) {
        rc = db_exec(db, a, &r, "SELECT id FROM img_image WHERE id = ?", "s", f->marker);
        if (rc != DB_OK)
            return rc;
        if (!r->nrows)
            return -ENOENT;
    }
    db_query_sql(&q, "SELECT " COLS " FROM img_image i WHERE 1 = 1");
    db_query_eq(&q, "i.name", f->name);
    db_query_eq(&q, "i.status", f->status);
    db_query_eq(&q, "i.owner", f->owner);
    db_query_eq(&q, "i.disk_format", f->disk_format);
    db_query_eq(&q, "i.container_format", f->container_format);
    if (f->hidden >= 0)
        db_query_sql(&q, f->hidden ? " AND i.os_hidden = 1" : " AND i.os_hidden = 0");
    if (f->tag) {
        db_query_sql(&q, " AND EXISTS (SELECT 1 FROM img_tag t WHERE t.image_id = i.id"
                         " AND t.tag = ?)");
        db_query_bind(&q, f->tag);
    }
    visibility_cond(&q, f);
    if (f->marker) {
        /* rows after the marker in (key, id) order, ties broken by id */
        snprintf(buf, sizeof(buf),
                 " AND (%s %s (SELECT %s FROM img_image m WHERE m.id = ?) OR (%s = (SELECT"
                 " %s FROM img_image m WHERE m.id = ?) AND i.id %s ?))",
                 ei, cmp, em, ei, em, cmp);
        db_query_sql(&q, buf);
        db_query_bind(&q, f->marker);
        db_query_bind(&q, f->marker);
        db_query_bind(&q, f->marker);
    }
    snprintf(buf, sizeof(buf), " ORDER BY %s %s, i.id %s LIMIT %d", ei, dir, dir, f->limit);
    db_query_sql(&q, buf);
    rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *items = arena_alloc(a, sizeof(**items) * (size_t)(r->nrows ? r->nrows : 1));
    for (int i = 0; i < r->nrows; i++)
        read_row(r, i, &(*items)[i]);
    *n = r->nrows;
    return 0;
}
