/* srv_db.c - the SQL of servers, their metadata, tags and instance
 * actions, and the revision counter; see srv_db.h. Written in the SQL both
 * SQLite and PostgreSQL speak. */
#include "srv_db.h"
#include "network/network.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOLS "id, project_id, user_id, name, description, hostname, image_id, flavor_id, " \
    "flavor_name, vcpus, ram, disk, ephemeral, swap, flavor_specs, new_flavor, key_name, " \
    "key_data, user_data, config_drive, az, host, vm_state, task_state, task_arg, " \
    "power_state, locked, locked_reason, locked_by, launch_index, reservation_id, " \
    "access_v4, access_v6, group_id, launched_at, terminated_at, created_at, updated_at, " \
    "deleted_at, deleted, rev, attempts, fault_code, fault_message, fault_details, fault_at"

static void
server_row(const struct db_res *r, int i, struct cmp_server *s)
{
    int c = 0;
    s->id = db_val(r, i, c++);
    s->project_id = db_val(r, i, c++);
    s->user_id = db_val(r, i, c++);
    s->name = db_val(r, i, c++);
    s->description = db_val(r, i, c++);
    s->hostname = db_val(r, i, c++);
    s->image_id = db_val(r, i, c++);
    s->flavor_id = db_val(r, i, c++);
    s->flavor_name = db_val(r, i, c++);
    s->vcpus = db_int(r, i, c++);
    s->ram = db_int(r, i, c++);
    s->disk = db_int(r, i, c++);
    s->ephemeral = db_int(r, i, c++);
    s->swap = db_int(r, i, c++);
    s->flavor_specs = db_val(r, i, c++);
    s->new_flavor = db_val(r, i, c++);
    s->key_name = db_val(r, i, c++);
    s->key_data = db_val(r, i, c++);
    s->user_data = db_val(r, i, c++);
    s->config_drive = db_bool(r, i, c++);
    s->az = db_val(r, i, c++);
    s->host = db_val(r, i, c++);
    s->vm_state = db_val(r, i, c++);
    s->task_state = db_val(r, i, c++);
    s->task_arg = db_val(r, i, c++);
    s->power_state = (int)db_int(r, i, c++);
    s->locked = db_bool(r, i, c++);
    s->locked_reason = db_val(r, i, c++);
    s->locked_by = db_val(r, i, c++);
    s->launch_index = db_int(r, i, c++);
    s->reservation_id = db_val(r, i, c++);
    s->access_v4 = db_val(r, i, c++);
    s->access_v6 = db_val(r, i, c++);
    s->group_id = db_val(r, i, c++);
    s->launched_us = db_int(r, i, c++);
    s->terminated_us = db_int(r, i, c++);
    s->created_us = db_int(r, i, c++);
    s->updated_us = db_int(r, i, c++);
    s->deleted_us = db_int(r, i, c++);
    s->deleted = db_bool(r, i, c++);
    s->rev = db_int(r, i, c++);
    s->attempts = (int)db_int(r, i, c++);
    s->fault_code = db_int(r, i, c++);
    s->fault_message = db_val(r, i, c++);
    s->fault_details = db_val(r, i, c++);
    s->fault_us = db_int(r, i, c++);
}

static int
rows_to_servers(struct arena *a, struct db_res *r, struct cmp_server **out, int *n)
{
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        server_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

/* ---- revision ---- */

/* Takes the next revision inside the caller's transaction; the row lock
 * orders every change, so watchers never miss one. */
static int
next_rev(struct db *db, struct arena *a, int64_t *rev)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "UPDATE cmp_seq SET value = value + 1 WHERE name = 'rev' "
                     "RETURNING value", "");
    if (rc == DB_OK && r->nrows)
        *rev = db_int(r, 0, 0);
    return rc != DB_OK ? rc : r->nrows ? 0 : DB_ERR;
}

int
srv_db_rev(struct db *db, struct arena *a, int64_t *rev)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT value FROM cmp_seq WHERE name = 'rev'", "");
    *rev = rc == DB_OK && r->nrows ? db_int(r, 0, 0) : 0;
    return rc;
}

/* ---- servers ---- */

int
srv_db_create(struct db *db, struct cmp_server *s, const char *const *mkeys,
              const char *const *mvals, int nmeta, const char *const *tags, int ntags,
              int64_t max_instances, int64_t max_cores, int64_t max_ram, const char **over)
{
    struct arena *a = arena_new();
    int64_t ni = 0, nc = 0, nr = 0;
    *over = NULL;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = srv_db_usage(db, a, s->project_id, &ni, &nc, &nr);
    if (rc == DB_OK) {
        /* checked inside the write transaction: two racing creates cannot
         * both fit into the last free slot */
        if (max_instances >= 0 && ni + 1 > max_instances)
            *over = "instances";
        else if (max_cores >= 0 && nc + s->vcpus > max_cores)
            *over = "cores";
        else if (max_ram >= 0 && nr + s->ram > max_ram)
            *over = "ram";
        if (*over)
            rc = -EDQUOT;
    }
    if (rc == DB_OK)
        rc = next_rev(db, a, &s->rev);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO cmp_server (" SCOLS ") VALUES ("
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "sssssssssiiiiisssssbsssssibssissssiiiiibiiissi", s->id, s->project_id,
                     s->user_id, s->name, s->description, s->hostname, s->image_id,
                     s->flavor_id, s->flavor_name, s->vcpus, s->ram, s->disk, s->ephemeral,
                     s->swap, s->flavor_specs, s->new_flavor, s->key_name, s->key_data,
                     s->user_data, (int)s->config_drive, s->az, s->host, s->vm_state,
                     s->task_state, s->task_arg, (int64_t)s->power_state, (int)s->locked,
                     s->locked_reason, s->locked_by, s->launch_index, s->reservation_id,
                     s->access_v4, s->access_v6, s->group_id, s->launched_us,
                     s->terminated_us, s->created_us, s->updated_us, (int64_t)0, 0, s->rev,
                     (int64_t)0, (int64_t)0, (const char *)NULL, (const char *)NULL,
                     (int64_t)0);
    for (int i = 0; rc == DB_OK && i < nmeta; i++)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_server_meta (server_id, key, value) "
                     "VALUES (?, ?, ?)", "sss", s->id, mkeys[i], mvals[i]);
    for (int i = 0; rc == DB_OK && i < ntags; i++)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_server_tag (server_id, tag) VALUES "
                     "(?, ?) ON CONFLICT DO NOTHING", "ss", s->id, tags[i]);
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_get(struct db *db, struct arena *a, const char *id, bool with_deleted,
           struct cmp_server *s)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, with_deleted ? "SELECT " SCOLS " FROM cmp_server WHERE id = ?"
                                             : "SELECT " SCOLS " FROM cmp_server WHERE id = ? "
                                               "AND deleted = 0", "s", id);
    if (rc != DB_OK)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    server_row(r, 0, s);
    return 0;
}

int
srv_db_change(struct db *db, const char *id, const char *expect_task, int64_t expect_rev,
              const struct srv_change *c)
{
    struct arena *a = arena_new();
    struct db_query q = {0};
    int64_t rev = 0;
    char num[8][32];
    int nn = 0;
#define NUM(v) (snprintf(num[nn], sizeof(num[0]), "%lld", (long long)(v)), num[nn++])
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = next_rev(db, a, &rev);
    db_query_sql(&q, "UPDATE cmp_server SET rev = CAST(");
    db_query_arg(&q, NUM(rev));
    db_query_sql(&q, " AS BIGINT), updated_at = CAST(");
    db_query_arg(&q, NUM(now_us()));
    db_query_sql(&q, " AS BIGINT)");
    if (c->vm_state) {
        db_query_sql(&q, ", vm_state = ");
        db_query_arg(&q, c->vm_state);
    }
    if (c->set_task) {
        db_query_sql(&q, ", task_state = ");
        db_query_arg(&q, c->task_state);
        db_query_sql(&q, ", task_arg = ");
        db_query_arg(&q, c->task_arg);
    }
    if (c->power_state >= 0) {
        db_query_sql(&q, ", power_state = CAST(");
        db_query_arg(&q, NUM(c->power_state));
        db_query_sql(&q, " AS INTEGER)");
    }
    if (c->set_host) {
        db_query_sql(&q, ", host = ");
        db_query_arg(&q, c->host);
    }
    if (c->launched_us) {
        db_query_sql(&q, ", launched_at = CAST(");
        db_query_arg(&q, NUM(c->launched_us));
        db_query_sql(&q, " AS BIGINT)");
    }
    if (c->terminated_us) {
        db_query_sql(&q, ", terminated_at = CAST(");
        db_query_arg(&q, NUM(c->terminated_us));
        db_query_sql(&q, " AS BIGINT)");
    }
    if (c->set_new_flavor) {
        db_query_sql(&q, ", new_flavor = ");
        db_query_arg(&q, c->new_flavor);
    }
    if (c->set_flavor) {
        const struct cmp_server *f = c->flavor;
        db_query_sql(&q, ", flavor_id = ");
        db_query_arg(&q, f->flavor_id);
        db_query_sql(&q, ", flavor_name = ");
        db_query_arg(&q, f->flavor_name);
        db_query_sql(&q, ", flavor_specs = ");
        db_query_arg(&q, f->flavor_specs);
        db_query_sql(&q, arena_printf(a, ", vcpus = %lld, ram = %lld, disk = %lld, "
                                      "ephemeral = %lld, swap = %lld", (long long)f->vcpus,
                                      (long long)f->ram, (long long)f->disk,
                                      (long long)f->ephemeral, (long long)f->swap));
    }
    if (c->set_fault) {
        db_query_sql(&q, arena_printf(a, ", fault_code = %lld, fault_at = %lld",
                                      (long long)c->fault_code,
                                      (long long)(c->fault_code ? now_us() : 0)));
        db_query_sql(&q, ", fault_message = ");
        db_query_arg(&q, c->fault_code ? c->fault_message : NULL);
        db_query_sql(&q, ", fault_details = ");
        db_query_arg(&q, c->fault_code ? c->fault_details : NULL);
    }
    if (c->attempts >= 0)
        db_query_sql(&q, arena_printf(a, ", attempts = %d", c->attempts));
    if (c->image_id) {
        db_query_sql(&q, ", image_id = ");
        db_query_arg(&q, c->image_id);
    }
    if (c->mark_deleted)
        db_query_sql(&q, arena_printf(a, ", deleted = 1, vm_state = 'deleted', deleted_at = "
                                      "%lld", (long long)now_us()));
    db_query_sql(&q, " WHERE id = ");
    db_query_arg(&q, id);
    if (expect_task && !strcmp(expect_task, SRV_ANY_TASK)) {
        /* any task: a delete overtakes whatever runs */
    } else if (expect_task) {
        db_query_sql(&q, " AND task_state = ");
        db_query_arg(&q, expect_task);
    } else {
        db_query_sql(&q, " AND task_state IS NULL");
    }
    if (expect_rev > 0) {
        db_query_sql(&q, " AND rev = CAST(");
        db_query_arg(&q, NUM(expect_rev));
        db_query_sql(&q, " AS BIGINT)");
    }
    db_query_sql(&q, " RETURNING id");
#undef NUM
    struct db_res *r;
    if (rc == DB_OK)
        rc = db_query_exec(db, a, &r, &q);
    if (rc == DB_OK && !r->nrows) {
        struct db_res *e;
        rc = db_exec(db, a, &e, "SELECT 1 FROM cmp_server WHERE id = ?", "s", id);
        if (rc == DB_OK)
            rc = e->nrows ? -ESTALE : -ENOENT;
    }
    /* the server's ports follow it, in the same transaction: bound where
     * it is placed, released when it is gone */
    if (rc == DB_OK && c->mark_deleted)
        rc = net_server_release(db, id);
    else if (rc == DB_OK && c->set_host)
        rc = net_server_bind(db, id, c->host);
    arena_free(a);
    return db_end(db, rc);
}

static bool
in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if ((!**l && !s) || (s && !strcmp(*l, s)))
            return true;
    return false;
}

int
srv_db_start_task(struct db *db, struct arena *a, const char *id, const char *task,
                  const char *task_arg, const char *const *vm_ok, const char *const *task_ok,
                  bool check_lock, const char **cur_vm, const char **cur_task)
{
    struct cmp_server s;
    int64_t rev = 0;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = srv_db_get(db, a, id, false, &s);
    if (rc == DB_OK) {
        *cur_vm = s.vm_state;
        *cur_task = s.task_state;
        if (check_lock && s.locked)
            rc = -EPERM;
        else if (!in_list(vm_ok, s.vm_state) || !in_list(task_ok, s.task_state))
            rc = -EBUSY;
    }
    if (rc == DB_OK)
        rc = next_rev(db, a, &rev);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE cmp_server SET task_state = ?, task_arg = ?, "
                     "rev = ?, updated_at = ? WHERE id = ?", "ssiis", task, task_arg, rev,
                     now_us(), id);
    return db_end(db, rc);
}

int
srv_db_update(struct db *db, const char *id, const struct srv_update *u)
{
    struct arena *a = arena_new();
    int64_t rev = 0;
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = next_rev(db, a, &rev);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r,
                     "UPDATE cmp_server SET name = COALESCE(?, name), "
                     "hostname = COALESCE(?, hostname), access_v4 = COALESCE(?, access_v4), "
                     "access_v6 = COALESCE(?, access_v6), "
                     "description = CASE WHEN ? = 1 THEN ? ELSE description END, "
                     "locked = CASE WHEN ? >= 0 THEN ? ELSE locked END, "
                     "locked_reason = CASE WHEN ? >= 0 THEN ? ELSE locked_reason END, "
                     "locked_by = CASE WHEN ? >= 0 THEN ? ELSE locked_by END, "
                     "rev = ?, updated_at = ? WHERE id = ? AND deleted = 0 RETURNING id",
                     "ssssbsiiisisiis", u->name, u->hostname, u->access_v4, u->access_v6,
                     (int)u->set_description, u->description, (int64_t)u->locked,
                     (int64_t)u->locked, (int64_t)u->locked, u->locked_reason,
                     (int64_t)u->locked, u->locked_by, rev, now_us(), id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    arena_free(a);
    return db_end(db, rc);
}

/* Nova's sort keys (the ones its API accepts and this service keeps) and
 * their columns. */
static const char *const sort_map[][2] = {
    {"created_at", "created_at"}, {"updated_at", "updated_at"},
    {"display_name", "name"}, {"hostname", "hostname"}, {"uuid", "id"},
    {"vm_state", "vm_state"}, {"task_state", "task_state"},
    {"power_state", "power_state"}, {"host", "host"}, {"node", "host"},
    {"launched_at", "launched_at"}, {"terminated_at", "terminated_at"},
    {"availability_zone", "az"}, {"image_ref", "image_id"},
    {"instance_type_id", "flavor_id"}, {"key_name", "key_name"},
    {"launch_index", "launch_index"}, {"locked", "locked"},
    {"memory_mb", "ram"}, {"vcpus", "vcpus"}, {"root_gb", "disk"},
    {"ephemeral_gb", "ephemeral"}, {"project_id", "project_id"},
    {"user_id", "user_id"}, {"reservation_id", "reservation_id"},
    {"display_description", "description"}, {"access_ip_v4", "access_v4"},
    {"access_ip_v6", "access_v6"}, {"config_drive", "config_drive"},
    {"progress", "power_state"}, {"deleted_at", "deleted_at"},
    {"kernel_id", "id"}, {"ramdisk_id", "id"}, {"key_data", "key_name"},
    {"locked_by", "locked_by"}, {"os_type", "id"}, {"root_device_name", "id"},
    {"default_ephemeral_device", "id"}, {"default_swap_device", "id"},
    {"user_data", "id"}, {"architecture", "id"}, {"auto_disk_config", "id"},
    {"cell_name", "id"}, {"disable_terminate", "id"}, {"ephemeral_key_uuid", "id"},
    {"instance_type_id", "flavor_id"}, {"shutdown_terminate", "id"}, {"vm_mode", "id"},
};

const char *
srv_db_sort_col(const char *key)
{
    for (size_t i = 0; i < sizeof(sort_map) / sizeof(sort_map[0]); i++)
        if (!strcmp(sort_map[i][0], key))
            return sort_map[i][1];
    return NULL;
}

static void
tag_clause(struct db_query *q, const char *const *tags, int n, bool all, bool neg)
{
    if (!n)
        return;
    db_query_sql(q, neg ? " AND NOT (" : " AND (");
    for (int i = 0; i < n; i++) {
        if (i)
            db_query_sql(q, all ? " AND " : " OR ");
        db_query_sql(q, "id IN (SELECT server_id FROM cmp_server_tag WHERE tag = ");
        db_query_arg(q, tags[i]);
        db_query_sql(q, ")");
    }
    db_query_sql(q, ")");
}

int
srv_db_list(struct db *db, struct arena *a, const struct srv_filter *f,
            struct cmp_server **out, int *n)
{
    struct db_query q = {0};
    db_query_sql(&q, "SELECT " SCOLS " FROM cmp_server WHERE 1 = 1");
    if (f->deleted == 0 || (f->deleted < 0 && !f->with_deleted))
        db_query_sql(&q, " AND deleted = 0");
    else if (f->deleted == 1)
        db_query_sql(&q, " AND deleted = 1");
    db_query_eq(&q, "project_id", f->project_id);
    db_query_eq(&q, "user_id", f->user_id);
    db_query_eq(&q, "vm_state", f->vm_state);
    db_query_eq(&q, "task_state", f->task_state);
    db_query_eq(&q, "host", f->host);
    db_query_eq(&q, "image_id", f->image_id);
    db_query_eq(&q, "flavor_id", f->flavor_id);
    db_query_eq(&q, "reservation_id", f->reservation_id);
    db_query_eq(&q, "az", f->az);
    db_query_eq(&q, "key_name", f->key_name);
    if (f->name_re_like) {
        db_query_sql(&q, " AND name LIKE ");
        db_query_arg(&q, arena_printf(a, "%%%s%%", f->name_re_like));
    }
    if (f->ip_filter) {
        db_query_sql(&q, " AND id IN (NULL");
        for (int i = 0; i < f->nids; i++) {
            db_query_sql(&q, ", ");
            db_query_arg(&q, f->ids[i]);
        }
        db_query_sql(&q, ")");
    }
    if (f->locked >= 0)
        db_query_sql(&q, f->locked ? " AND locked = 1" : " AND locked = 0");
    if (f->changes_since_us) {
        db_query_sql(&q, " AND updated_at >= CAST(");
        db_query_arg(&q, arena_printf(a, "%lld", (long long)f->changes_since_us));
        db_query_sql(&q, " AS BIGINT)");
    }
    if (f->changes_before_us) {
        db_query_sql(&q, " AND updated_at <= CAST(");
        db_query_arg(&q, arena_printf(a, "%lld", (long long)f->changes_before_us));
        db_query_sql(&q, " AS BIGINT)");
    }
    if (f->active_from_us) {
        db_query_sql(&q, " AND (terminated_at = 0 OR terminated_at > CAST(");
        db_query_arg(&q, arena_printf(a, "%lld", (long long)f->active_from_us));
        db_query_sql(&q, " AS BIGINT))");
    }
    if (f->active_to_us) {
        db_query_sql(&q, " AND (launched_at = 0 OR launched_at < CAST(");
        db_query_arg(&q, arena_printf(a, "%lld", (long long)f->active_to_us));
        db_query_sql(&q, " AS BIGINT))");
    }
    tag_clause(&q, f->tags_all, f->ntags_all, true, false);
    tag_clause(&q, f->tags_any, f->ntags_any, false, false);
    tag_clause(&q, f->not_tags_all, f->nnot_tags_all, true, true);
    tag_clause(&q, f->not_tags_any, f->nnot_tags_any, false, true);
    db_query_sql(&q, " ORDER BY ");
    for (int i = 0; i < f->nsort; i++)
        db_query_sql(&q, arena_printf(a, "%s %s, ", f->sort_keys[i],
                                      f->sort_desc[i] ? "DESC" : "ASC"));
    /* ties broken as Nova does: newest first, then by id */
    db_query_sql(&q, f->nsort ? "id DESC" : "created_at DESC, id DESC");
    struct db_res *r;
    int rc = db_query_exec(db, a, &r, &q);
    if (rc != DB_OK)
        return rc;
    int start = 0, cnt = r->nrows;
    if (f->marker) {
        /* the page after the marker's row in this very order */
        start = -1;
        for (int i = 0; i < r->nrows; i++)
            if (!strcmp(db_val(r, i, 0), f->marker)) {
                start = i + 1;
                break;
            }
        if (start < 0)
            return -ENOENT;
        cnt = r->nrows - start;
    }
    if (f->limit > 0 && cnt > f->limit)
        cnt = (int)f->limit;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(cnt + 1));
    for (int i = 0; i < cnt; i++)
        server_row(r, start + i, &(*out)[i]);
    *n = cnt;
    return 0;
}

int
srv_db_on_host(struct db *db, struct arena *a, const char *host, struct cmp_server **out,
               int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " SCOLS " FROM cmp_server WHERE host = ? AND "
                     "(deleted = 0 OR task_state IS NOT NULL) ORDER BY created_at, id", "s",
                     host);
    return rc != DB_OK ? rc : rows_to_servers(a, r, out, n);
}

int
srv_db_unscheduled(struct db *db, struct arena *a, struct cmp_server **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " SCOLS " FROM cmp_server WHERE deleted = 0 AND "
                     "(task_state = 'scheduling' OR (task_state = 'unshelving' AND "
                     "host IS NULL)) ORDER BY created_at, id", "");
    return rc != DB_OK ? rc : rows_to_servers(a, r, out, n);
}

int
srv_db_usage(struct db *db, struct arena *a, const char *project_id, int64_t *instances,
             int64_t *cores, int64_t *ram)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT COUNT(*), COALESCE(SUM(vcpus), 0), "
                     "COALESCE(SUM(ram), 0) FROM cmp_server WHERE deleted = 0 AND "
                     "(CAST(? AS TEXT) IS NULL OR project_id = ?)", "ss", project_id, project_id);
    if (rc == DB_OK) {
        *instances = db_int(r, 0, 0);
        *cores = db_int(r, 0, 1);
        *ram = db_int(r, 0, 2);
    }
    return rc;
}

/* ---- metadata and tags ---- */

int
srv_db_meta(struct db *db, struct arena *a, const char *id, struct db_res **out)
{
    return db_exec(db, a, out, "SELECT key, value FROM cmp_server_meta WHERE server_id = ? "
                   "ORDER BY key", "s", id);
}

int
srv_db_meta_all(struct db *db, struct arena *a, const char *project_id, bool tags,
                struct db_res **out)
{
    return db_exec(db, a, out, tags ? "SELECT t.server_id, t.tag FROM cmp_server_tag t JOIN "
                   "cmp_server s ON s.id = t.server_id WHERE (CAST(? AS TEXT) IS NULL OR "
                   "s.project_id = ?) ORDER BY t.server_id, t.tag"
                   : "SELECT m.server_id, m.key, m.value FROM cmp_server_meta m JOIN "
                   "cmp_server s ON s.id = m.server_id WHERE (CAST(? AS TEXT) IS NULL OR "
                   "s.project_id = ?) ORDER BY m.server_id, m.key", "ss", project_id,
                   project_id);
}

/* Bumps the server's revision and updated_at (its views changed). */
static int
touch(struct db *db, struct arena *a, const char *id)
{
    int64_t rev = 0;
    int rc = next_rev(db, a, &rev);
    return rc ? rc : db_exec(db, NULL, NULL, "UPDATE cmp_server SET rev = ?, updated_at = ? "
                             "WHERE id = ?", "iis", rev, now_us(), id);
}

int
srv_db_meta_set(struct db *db, const char *id, const char *const *keys,
                const char *const *vals, int n, bool replace, int max)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK && replace)
        rc = db_exec(db, NULL, NULL, "DELETE FROM cmp_server_meta WHERE server_id = ?", "s",
                     id);
    for (int i = 0; rc == DB_OK && i < n; i++)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_server_meta (server_id, key, value) "
                     "VALUES (?, ?, ?) ON CONFLICT (server_id, key) DO UPDATE SET "
                     "value = excluded.value", "sss", id, keys[i], vals[i]);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT COUNT(*) FROM cmp_server_meta WHERE server_id = ?",
                     "s", id);
    if (rc == DB_OK && db_int(r, 0, 0) > max)
        rc = -EDQUOT;
    if (rc == DB_OK)
        rc = touch(db, a, id);
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_meta_delete(struct db *db, const char *id, const char *key)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "DELETE FROM cmp_server_meta WHERE server_id = ? AND key = ? "
                     "RETURNING key", "ss", id, key);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    if (rc == DB_OK)
        rc = touch(db, a, id);
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_tags(struct db *db, struct arena *a, const char *id, struct db_res **out)
{
    return db_exec(db, a, out, "SELECT tag FROM cmp_server_tag WHERE server_id = ? "
                   "ORDER BY tag", "s", id);
}

int
srv_db_tags_set(struct db *db, const char *id, const char *const *tags, int n, bool replace,
                int max)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK && replace)
        rc = db_exec(db, NULL, NULL, "DELETE FROM cmp_server_tag WHERE server_id = ?", "s", id);
    for (int i = 0; rc == DB_OK && i < n; i++)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_server_tag (server_id, tag) VALUES "
                     "(?, ?) ON CONFLICT DO NOTHING", "ss", id, tags[i]);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT COUNT(*) FROM cmp_server_tag WHERE server_id = ?",
                     "s", id);
    if (rc == DB_OK && db_int(r, 0, 0) > max)
        rc = -EDQUOT;
    if (rc == DB_OK)
        rc = touch(db, a, id);
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_tag_delete(struct db *db, const char *id, const char *tag)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "DELETE FROM cmp_server_tag WHERE server_id = ? AND tag = ? "
                     "RETURNING tag", "ss", id, tag);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    if (rc == DB_OK)
        rc = touch(db, a, id);
    arena_free(a);
    return db_end(db, rc);
}

/* ---- server groups ---- */

#define GCOLS "id, name, project_id, user_id, policy, rules, created_at"

static void
group_row(const struct db_res *r, int i, struct cmp_group *g)
{
    *g = (struct cmp_group){db_val(r, i, 0), db_val(r, i, 1), db_val(r, i, 2), db_val(r, i, 3),
                            db_val(r, i, 4), db_val(r, i, 5), db_int(r, i, 6)};
}

int
srv_db_group_create(struct db *db, const struct cmp_group *g, int64_t max)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT COUNT(*) FROM cmp_server_group WHERE project_id = ?",
                     "s", g->project_id);
    if (rc == DB_OK && max >= 0 && db_int(r, 0, 0) >= max)
        rc = -EDQUOT;
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_server_group (" GCOLS ") VALUES "
                     "(?, ?, ?, ?, ?, ?, ?)", "ssssssi", g->id, g->name, g->project_id,
                     g->user_id, g->policy, g->rules, g->created_us);
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_group_get(struct db *db, struct arena *a, const char *id, struct cmp_group *g)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " GCOLS " FROM cmp_server_group WHERE id = ?", "s", id);
    if (rc == DB_OK && !r->nrows)
        return -ENOENT;
    if (rc == DB_OK)
        group_row(r, 0, g);
    return rc;
}

int
srv_db_group_list(struct db *db, struct arena *a, const char *project_id,
                  struct cmp_group **out, int *n)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT " GCOLS " FROM cmp_server_group WHERE "
                     "(CAST(? AS TEXT) IS NULL OR project_id = ?) ORDER BY created_at, id",
                     "ss", project_id, project_id);
    if (rc)
        return rc;
    *out = arena_alloc(a, sizeof(**out) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++)
        group_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
srv_db_group_delete(struct db *db, const char *id)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "DELETE FROM cmp_server_group WHERE id = ? RETURNING id", "s",
                     id);
    if (rc == DB_OK && !r->nrows)
        rc = -ENOENT;
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE cmp_server SET group_id = NULL WHERE "
                     "group_id = ?", "s", id);
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_group_members(struct db *db, struct arena *a, const char *id, struct db_res **out)
{
    return db_exec(db, a, out, "SELECT id, host FROM cmp_server WHERE group_id = ? AND "
                   "deleted = 0 ORDER BY created_at, id", "s", id);
}

/* ---- instance actions ---- */

int
srv_db_action_start(struct db *db, const char *server_id, const char *request_id,
                    const char *action, const char *project_id, const char *user_id)
{
    int64_t t = now_us();
    return db_exec(db, NULL, NULL, "INSERT INTO cmp_action (server_id, request_id, action, "
                   "project_id, user_id, start_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT DO NOTHING", "sssssii", server_id, request_id, action,
                   project_id, user_id, t, t);
}

int
srv_db_event(struct db *db, const char *server_id, const char *action, const char *event,
             const char *host, const char *result, const char *message)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int64_t t = now_us();
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT request_id FROM cmp_action WHERE server_id = ? AND "
                     "action = ? ORDER BY start_at DESC LIMIT 1", "ss", server_id, action);
    if (rc == DB_OK && r->nrows) {
        const char *req = db_val(r, 0, 0);
        if (!result)
            rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_action_event (server_id, request_id,"
                         " event, start_at, host) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                         "(server_id, request_id, event) DO UPDATE SET start_at = "
                         "excluded.start_at, finish_at = NULL, result = NULL", "sssis",
                         server_id, req, event, t, host);
        else
            rc = db_exec(db, NULL, NULL, "INSERT INTO cmp_action_event (server_id, request_id,"
                         " event, start_at, finish_at, result, traceback, host) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server_id, request_id, event) "
                         "DO UPDATE SET finish_at = excluded.finish_at, result = "
                         "excluded.result, traceback = excluded.traceback", "sssiisss",
                         server_id, req, event, t, t, result, message, host);
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "UPDATE cmp_action SET updated_at = ?, message = "
                         "COALESCE(?, message) WHERE server_id = ? AND request_id = ?", "isss",
                         t, result && strcmp(result, "Success") ? "Error" : NULL, server_id,
                         req);
    }
    arena_free(a);
    return db_end(db, rc);
}

int
srv_db_actions(struct db *db, struct arena *a, const char *server_id, struct db_res **out)
{
    return db_exec(db, a, out, "SELECT request_id, action, project_id, user_id, start_at, "
                   "message, updated_at FROM cmp_action WHERE server_id = ? ORDER BY "
                   "start_at DESC", "s", server_id);
}

int
srv_db_action_events(struct db *db, struct arena *a, const char *server_id,
                     const char *request_id, struct db_res **act, struct db_res **events)
{
    int rc = db_exec(db, a, act, "SELECT request_id, action, project_id, user_id, start_at, "
                     "message, updated_at FROM cmp_action WHERE server_id = ? AND "
                     "request_id = ?", "ss", server_id, request_id);
    if (rc == DB_OK && !(*act)->nrows)
        return -ENOENT;
    if (rc == DB_OK)
        rc = db_exec(db, a, events, "SELECT event, start_at, finish_at, result, traceback, "
                     "host FROM cmp_action_event WHERE server_id = ? AND request_id = ? "
                     "ORDER BY start_at", "ss", server_id, request_id);
    return rc;
}
