/* cp_db.c - the compute service's SQL (flavors, extra specs, flavor
 * access, key pairs) and its migrations; see cp_db.h. Written in the SQL
 * both SQLite and PostgreSQL speak. */
#include "cp_db.h"
#include "compute.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flavors by their API id (Nova's flavorid); names are unique as in
 * Nova's API database. Specs and access rows go with their flavor. */
static const char m4501[] =
    "CREATE TABLE cmp_flavor ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,"
    "  ram BIGINT NOT NULL, vcpus BIGINT NOT NULL, disk BIGINT NOT NULL,"
    "  ephemeral BIGINT NOT NULL, swap BIGINT NOT NULL,"
    "  rxtx_factor DOUBLE PRECISION NOT NULL, is_public INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE cmp_flavor_spec ("
    "  flavor_id TEXT NOT NULL REFERENCES cmp_flavor(id), key TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (flavor_id, key));"
    "CREATE TABLE cmp_flavor_access ("
    "  flavor_id TEXT NOT NULL REFERENCES cmp_flavor(id), project_id TEXT NOT NULL,"
    "  PRIMARY KEY (flavor_id, project_id));"
    "CREATE INDEX cmp_flavor_access_project ON cmp_flavor_access (project_id);"
    /* key pairs per user; id is Nova's integer id, shown by GET */
    "CREATE TABLE cmp_keypair ("
    "  user_id TEXT NOT NULL, name TEXT NOT NULL, id BIGINT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL, fingerprint TEXT NOT NULL, public_key TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, PRIMARY KEY (user_id, name));"
    /* one-time facts of the service ("flavors_seeded") */
    "CREATE TABLE cmp_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Servers (srv_db.c). A server row is also the durable queue of its
 * work: task_state says what is wanted, rev orders every change for the
 * scheduler and the host agents that watch them. Deleted servers stay as
 * rows (deleted = 1), as Nova shows them to changes-since. */
static const char m4502[] =
    "CREATE TABLE cmp_seq (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "INSERT INTO cmp_seq (name, value) VALUES ('rev', 0);"
    "CREATE TABLE cmp_server ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, description TEXT, hostname TEXT NOT NULL,"
    "  image_id TEXT NOT NULL, flavor_id TEXT NOT NULL, flavor_name TEXT NOT NULL,"
    "  vcpus BIGINT NOT NULL, ram BIGINT NOT NULL, disk BIGINT NOT NULL,"
    "  ephemeral BIGINT NOT NULL, swap BIGINT NOT NULL, flavor_specs TEXT NOT NULL,"
    "  new_flavor TEXT, key_name TEXT, key_data TEXT, user_data TEXT,"
    "  config_drive INTEGER NOT NULL, az TEXT, host TEXT, vm_state TEXT NOT NULL,"
    "  task_state TEXT, task_arg TEXT, power_state INTEGER NOT NULL,"
    "  locked INTEGER NOT NULL, locked_reason TEXT, locked_by TEXT,"
    "  launch_index BIGINT NOT NULL, reservation_id TEXT NOT NULL,"
    "  access_v4 TEXT, access_v6 TEXT, group_id TEXT,"
    "  launched_at BIGINT NOT NULL, terminated_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted_at BIGINT NOT NULL,"
    "  deleted INTEGER NOT NULL, rev BIGINT NOT NULL, attempts INTEGER NOT NULL,"
    "  fault_code BIGINT NOT NULL, fault_message TEXT, fault_details TEXT,"
    "  fault_at BIGINT NOT NULL);"
    "CREATE INDEX cmp_server_project ON cmp_server (project_id, deleted);"
    "CREATE INDEX cmp_server_host ON cmp_server (host);"
    "CREATE INDEX cmp_server_task ON cmp_server (task_state);"
    "CREATE TABLE cmp_server_meta ("
    "  server_id TEXT NOT NULL REFERENCES cmp_server(id), key TEXT NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (server_id, key));"
    "CREATE TABLE cmp_server_tag ("
    "  server_id TEXT NOT NULL REFERENCES cmp_server(id), tag TEXT NOT NULL,"
    "  PRIMARY KEY (server_id, tag));"
    "CREATE INDEX cmp_server_tag_tag ON cmp_server_tag (tag);"
    "CREATE TABLE cmp_action ("
    "  server_id TEXT NOT NULL, request_id TEXT NOT NULL, action TEXT NOT NULL,"
    "  project_id TEXT NOT NULL, user_id TEXT NOT NULL, start_at BIGINT NOT NULL,"
    "  message TEXT, updated_at BIGINT NOT NULL, PRIMARY KEY (server_id, request_id));"
    "CREATE TABLE cmp_action_event ("
    "  server_id TEXT NOT NULL, request_id TEXT NOT NULL, event TEXT NOT NULL,"
    "  start_at BIGINT NOT NULL, finish_at BIGINT, result TEXT, traceback TEXT, host TEXT,"
    "  PRIMARY KEY (server_id, request_id, event));"
    /* compute hosts as their agents register them (os-services,
     * os-hypervisors); rp_uuid is the host's Placement provider */
    "CREATE TABLE cmp_host ("
    "  name TEXT PRIMARY KEY, id BIGINT NOT NULL UNIQUE, rp_uuid TEXT NOT NULL,"
    "  hypervisor_type TEXT NOT NULL, vcpus BIGINT NOT NULL, memory_mb BIGINT NOT NULL,"
    "  disk_gb BIGINT NOT NULL, disabled INTEGER NOT NULL, disabled_reason TEXT,"
    "  forced_down INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    /* quota limits set through os-quota-sets; absent: the defaults */
    "CREATE TABLE cmp_quota ("
    "  project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit BIGINT NOT NULL,"
    "  PRIMARY KEY (project_id, resource));";

/* Server groups (Nova's instance groups); members are the live servers
 * whose group_id names the group. rules: JSON object text. */
static const char m4503[] =
    "CREATE TABLE cmp_server_group ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL, policy TEXT NOT NULL, rules TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX cmp_server_group_project ON cmp_server_group (project_id);"
    "CREATE INDEX cmp_server_group_id ON cmp_server (group_id);";

/* The CPU architecture a host's agent reports (uname), for the
 * scheduler's image properties filter. */
static const char m4520[] =
    "ALTER TABLE cmp_host ADD COLUMN cpu_arch TEXT NOT NULL DEFAULT '';";

/* Remote console tokens (Nova's console_auth_tokens): only the SHA-256
 * of the token, the guest's VNC address as its agent reported it. */
static const char m4521[] =
    "CREATE TABLE cmp_console_token ("
    "  token_hash TEXT PRIMARY KEY, instance_uuid TEXT NOT NULL, host TEXT NOT NULL,"
    "  access_path TEXT NOT NULL, console_type TEXT NOT NULL, expires BIGINT NOT NULL);"
    "CREATE INDEX cmp_console_token_expires ON cmp_console_token (expires);";

const struct db_migration cmp_migrations[] = {
    {4501, m4501},
    {4502, m4502},
    {4503, m4503},
    {4520, m4520},
    {4521, m4521},
};
const int cmp_nmigrations = sizeof(cmp_migrations) / sizeof(cmp_migrations[0]);

/* rc, or -ENOENT when the statement succeeded without rows; r is read
 * through a pointer because it is filled by the call in the argument */
static int
not_found_if_none(int rc, struct db_res *const *r)
{
    return rc != DB_OK ? rc : (*r)->nrows ? 0 : -ENOENT;
}

/* ---- flavors ---- */

#define FCOLS "id, name, description, ram, vcpus, disk, ephemeral, swap, rxtx_factor, " \
              "is_public, created_at"

static void
flavor_row(const struct db_res *r, int i, struct cmp_flavor *f)
{
    f->id = db_val(r, i, 0);
    f->name = db_val(r, i, 1);
    f->description = db_val(r, i, 2);
    f->ram = db_int(r, i, 3);
    f->vcpus = db_int(r, i, 4);
    f->disk = db_int(r, i, 5);
    f->ephemeral = db_int(r, i, 6);
    f->swap = db_int(r, i, 7);
    f->rxtx_factor = db_val(r, i, 8) ? strtod(db_val(r, i, 8), NULL) : 1.0;
    f->is_public = db_bool(r, i, 9);
    f->created_us = db_int(r, i, 10);
}

int
cmp_db_flavor_get(struct db *db, struct arena *a, const char *id, struct cmp_flavor *f)
{
    struct db_res *r;
    int rc = not_found_if_none(db_exec(db, a, &r, "SELECT " FCOLS " FROM cmp_flavor "
                                       "WHERE id = ?", "s", id), &r);
    if (rc == 0)
        flavor_row(r, 0, f);
    return rc;
}

int
cmp_db_flavor_create(struct db *db, const struct cmp_flavor *f, bool *dup_name)
{
    struct arena *a = arena_new();
    struct db_res *r;
    char rx[64];
    snprintf(rx, sizeof(rx), "%.17g", f->rxtx_factor);
    *dup_name = false;
    int rc = db_begin(db);
    /* which key is taken decides Nova's message, so look before writing */
    if (rc == DB_OK && (rc = db_exec(db, a, &r, "SELECT 1 FROM cmp_flavor WHERE name = ?",
                                     "s", f->name)) == DB_OK && r->nrows) {
        *dup_name = true;
        rc = -EEXIST;
    }
    if (rc == DB_OK && (rc = db_exec(db, a, &r, "SELECT 1 FROM cmp_flavor WHERE id = ?", "s",
                                     f->id)) == DB_OK && r->nrows)
        rc = -EEXIST;
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_flavor (" FCOLS ") VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS DOUBLE PRECISION), ?, ?)",
                     "sssiiiiisbi", f->id, f->name, f->description, f->ram, f->vcpus, f->disk,
                     f->ephemeral, f->swap, rx, (int)f->is_public, f->created_us);
    if (rc == DB_CONFLICT)  /* a concurrent create won the race */
        rc = -EEXIST;
    arena_free(a);
    return db_end(db, rc);
}

int
cmp_db_flavor_set_description(struct db *db, const char *id, const char *desc)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_exec(db, a, &r, "UPDATE cmp_flavor SET description = ? WHERE id = ? "
                     "RETURNING id", "ss", desc, id);
    rc = not_found_if_none(rc, &r);
    arena_free(a);
    return rc;
}

int
cmp_db_flavor_delete(struct db *db, const char *id)
{
    struct arena *a = arena_new();
    struct db_res *r = NULL;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM cmp_flavor_spec WHERE flavor_id = ?", "s",
                     id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM cmp_flavor_access WHERE flavor_id = ?", "s",
                     id);
    if (rc == DB_OK)
        rc = not_found_if_none(db_exec(db, a, &r, "DELETE FROM cmp_flavor WHERE id = ? "
                                       "RETURNING id", "s", id), &r);
    arena_free(a);
    return db_end(db, rc);
}

/* Nova's sort keys and the column each sorts by here; the keys of
 * columns this service does not keep (disabled, vcpu_weight, updated_at)
 * sort by what stands in for them. */
static const char *const sort_map[][2] = {
    {"flavorid", "id"}, {"id", "created_at"}, {"name", "name"}, {"memory_mb", "ram"},
    {"root_gb", "disk"}, {"vcpus", "vcpus"}, {"ephemeral_gb", "ephemeral"}, {"swap", "swap"},
    {"rxtx_factor", "rxtx_factor"}, {"is_public", "is_public"},
    {"description", "description"}, {"created_at", "created_at"},
    {"updated_at", "created_at"}, {"disabled", "id"}, {"vcpu_weight", "id"},
};

const char *
cmp_db_flavor_sort_col(const char *key)
{
    for (size_t i = 0; i < sizeof(sort_map) / sizeof(sort_map[0]); i++)
        if (!strcmp(sort_map[i][0], key))
            return sort_map[i][1];
    return NULL;
}

int
cmp_db_flavor_list(struct db *db, struct arena *a, const struct cmp_flavor_filter *flt,
                   struct cmp_flavor **out, int *n)
{
    struct db_query q = {0};
    char num[32];
    db_query_sql(&q, "SELECT " FCOLS " FROM cmp_flavor WHERE 1 = 1");
    if (flt->min_ram >= 0) {
        snprintf(num, sizeof(num), "%lld", (long long)flt->min_ram);
        db_query_sql(&q, " AND ram >= CAST(");
        db_query_arg(&q, arena_strdup(a, num));
        db_query_sql(&q, " AS BIGINT)");
    }
    if (flt->min_disk >= 0) {
        snprintf(num, sizeof(num), "%lld", (long long)flt->min_disk);
        db_query_sql(&q, " AND disk >= CAST(");
        db_query_arg(&q, arena_strdup(a, num));
        db_query_sql(&q, " AS BIGINT)");
    }
    if (flt->is_public == 0) {
        db_query_sql(&q, " AND is_public = 0");
    } else if (flt->is_public == 1) {
        /* Nova: public ones, or those the caller's project may use */
        db_query_sql(&q, " AND (is_public = 1 OR id IN (SELECT flavor_id FROM "
                     "cmp_flavor_access WHERE project_id = ");
        db_query_arg(&q, flt->project_id ? flt->project_id : "");
        db_query_sql(&q, "))");
    }
    const char *col = flt->sort_key ? cmp_db_flavor_sort_col(flt->sort_key) : NULL;
    db_query_sql(&q, arena_printf(a, " ORDER BY %s %s, id %s", col ? col : "id",
                                  flt->desc ? "DESC" : "ASC", flt->desc ? "DESC" : "ASC"));
    struct db_res *r;
    int rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        flavor_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
cmp_db_specs(struct db *db, struct arena *a, const char *flavor_id, struct db_res **out)
{
    return db_exec(db, a, out, "SELECT key, value FROM cmp_flavor_spec WHERE flavor_id = ? "
                   "ORDER BY key", "s", flavor_id);
}

int
cmp_db_specs_set(struct db *db, const char *flavor_id, const char *const *keys,
                 const char *const *vals, int n)
{
    int rc = db_begin(db);
    for (int i = 0; rc == DB_OK && i < n; i++)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_flavor_spec (flavor_id, key, value) "
                     "VALUES (?, ?, ?) ON CONFLICT (flavor_id, key) DO UPDATE SET "
                     "value = excluded.value", "sss", flavor_id, keys[i], vals[i]);
    return db_end(db, rc);
}

int
cmp_db_spec_delete(struct db *db, const char *flavor_id, const char *key)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = not_found_if_none(db_exec(db, a, &r, "DELETE FROM cmp_flavor_spec WHERE "
                                       "flavor_id = ? AND key = ? RETURNING key", "ss",
                                       flavor_id, key), &r);
    arena_free(a);
    return rc;
}

int
cmp_db_access_list(struct db *db, struct arena *a, const char *flavor_id, struct db_res **out)
{
    return db_exec(db, a, out, "SELECT project_id FROM cmp_flavor_access WHERE flavor_id = ? "
                   "ORDER BY project_id", "s", flavor_id);
}

int
cmp_db_access_has(struct db *db, struct arena *a, const char *flavor_id,
                  const char *project_id)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT 1 FROM cmp_flavor_access WHERE flavor_id = ? AND "
                     "project_id = ?", "ss", flavor_id, project_id ? project_id : "");
    return rc != DB_OK ? rc : r->nrows > 0;
}

int
cmp_db_access_add(struct db *db, const char *flavor_id, const char *project_id)
{
    int rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_flavor_access (flavor_id, project_id) "
                     "VALUES (?, ?)", "ss", flavor_id, project_id);
    return rc == DB_CONFLICT ? -EEXIST : rc == DB_FK ? -ENOENT : rc;
}

int
cmp_db_access_remove(struct db *db, const char *flavor_id, const char *project_id)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = not_found_if_none(db_exec(db, a, &r, "DELETE FROM cmp_flavor_access WHERE "
                                       "flavor_id = ? AND project_id = ? RETURNING flavor_id",
                                       "ss", flavor_id, project_id), &r);
    arena_free(a);
    return rc;
}

/* ---- key pairs ---- */

#define KCOLS "id, user_id, name, type, fingerprint, public_key, created_at"

static void
keypair_row(const struct db_res *r, int i, struct cmp_keypair *k)
{
    k->id = db_int(r, i, 0);
    k->user_id = db_val(r, i, 1);
    k->name = db_val(r, i, 2);
    k->type = db_val(r, i, 3);
    k->fingerprint = db_val(r, i, 4);
    k->public_key = db_val(r, i, 5);
    k->created_us = db_int(r, i, 6);
}

/* One attempt of cmp_db_keypair_create(). */
static int
keypair_insert(struct db *db, struct arena *a, struct cmp_keypair *k, int64_t max)
{
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK && (rc = db_exec(db, a, &r, "SELECT COUNT(*) FROM cmp_keypair WHERE "
                                     "user_id = ?", "s", k->user_id)) == DB_OK &&
        db_int(r, 0, 0) >= max)
        rc = -EDQUOT;
    if (rc == DB_OK && (rc = db_exec(db, a, &r, "SELECT 1 FROM cmp_keypair WHERE user_id = ? "
                                     "AND name = ?", "ss", k->user_id, k->name)) == DB_OK &&
        r->nrows)
        rc = -EEXIST;
    if (rc == DB_OK && (rc = db_exec(db, a, &r, "SELECT COALESCE(MAX(id), 0) + 1 FROM "
                                     "cmp_keypair", "")) == DB_OK)
        k->id = db_int(r, 0, 0);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_keypair (" KCOLS ") VALUES "
                     "(?, ?, ?, ?, ?, ?, ?)", "isssssi", k->id, k->user_id, k->name, k->type,
                     k->fingerprint, k->public_key, k->created_us);
    return db_end(db, rc);
}

int
cmp_db_keypair_create(struct db *db, struct arena *a, struct cmp_keypair *k, int64_t max)
{
    /* On PostgreSQL two creates may pick the same next id; the loser sees
     * a unique violation and tries again, and then finds out whether it
     * was the name (-EEXIST) or only the id. SQLite's BEGIN IMMEDIATE
     * serialises them, so there the first attempt always decides. */
    int rc = DB_CONFLICT;
    for (int i = 0; i < 5 && rc == DB_CONFLICT; i++)
        rc = keypair_insert(db, a, k, max);
    return rc == DB_CONFLICT ? -EEXIST : rc;
}

int
cmp_db_keypair_get(struct db *db, struct arena *a, const char *user_id, const char *name,
                   struct cmp_keypair *k)
{
    struct db_res *r;
    int rc = not_found_if_none(db_exec(db, a, &r, "SELECT " KCOLS " FROM cmp_keypair WHERE "
                                       "user_id = ? AND name = ?", "ss", user_id, name), &r);
    if (rc == 0)
        keypair_row(r, 0, k);
    return rc;
}

int
cmp_db_keypair_list(struct db *db, struct arena *a, const char *user_id,
                    struct cmp_keypair **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " KCOLS " FROM cmp_keypair WHERE user_id = ? "
                     "ORDER BY name", "s", user_id);
    if (rc != DB_OK)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        keypair_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
cmp_db_keypair_delete(struct db *db, const char *user_id, const char *name)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = not_found_if_none(db_exec(db, a, &r, "DELETE FROM cmp_keypair WHERE user_id = ? "
                                       "AND name = ? RETURNING id", "ss", user_id, name), &r);
    arena_free(a);
    return rc;
}

int
cmp_db_keypair_count(struct db *db, struct arena *a, const char *user_id, int64_t *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT COUNT(*) FROM cmp_keypair WHERE user_id = ?", "s",
                     user_id);
    if (rc == DB_OK)
        *n = db_int(r, 0, 0);
    return rc;
}

/* ---- bootstrap ---- */

/* devstack's m1 flavors, which every OpenStack user knows */
static const struct {
    const char *id, *name;
    int64_t ram, disk, vcpus;
} defaults[] = {
    {"1", "m1.tiny", 512, 1, 1},     {"2", "m1.small", 2048, 20, 1},
    {"3", "m1.medium", 4096, 40, 2}, {"4", "m1.large", 8192, 80, 4},
    {"5", "m1.xlarge", 16384, 160, 8},
};

int
cmp_bootstrap(struct db *db)
{
    struct arena *a = arena_new();
    struct db_res *r, *f;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT 1 FROM cmp_meta WHERE name = 'flavors_seeded'", "");
    if (rc == DB_OK && !r->nrows) {
        rc = db_exec(db, a, &f, "SELECT 1 FROM cmp_flavor LIMIT 1", "");
        for (size_t i = 0; rc == DB_OK && !f->nrows &&
                           i < sizeof(defaults) / sizeof(defaults[0]); i++)
            rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_flavor (" FCOLS ") VALUES "
                         "(?, ?, NULL, ?, ?, ?, 0, 0, 1.0, 1, ?)", "ssiiii", defaults[i].id,
                         defaults[i].name, defaults[i].ram, defaults[i].vcpus, defaults[i].disk,
                         now_us());
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_meta (name, value) VALUES "
                         "('flavors_seeded', '1')", "");
    }
    arena_free(a);
    return db_end(db, rc);
}
