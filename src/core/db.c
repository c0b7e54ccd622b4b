/* db.c - see db.h. Two small back ends behind one call shape; the only
 * dialect differences handled here are placeholders, BEGIN IMMEDIATE and
 * error classification. */
#include "db.h"
#include "arena.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DB_MAX_PARAMS 64
/* Prepared statements kept per SQLite connection: the same few
 * statements run on every request, and parsing them again each time was a
 * tenth of a small object PUT's CPU. A statement may sit in any of the
 * STMT_WAYS slots after the one its text hashes to; a new one replaces
 * the least recently used of them (one slot per hash let two hot
 * statements evict each other on every request). */
#define STMT_SLOTS 128
#define STMT_WAYS 4

struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
    uint64_t used;              /* the connection's stmt_clock when last used */
};

struct db {
    struct db *next_idle;
    sqlite3 *lite;
    struct stmt_slot stmts[STMT_SLOTS];
    uint64_t stmt_clock;
    PGconn *pg;
    bool in_tx;
    bool writing;               /* holds lite_write_mu */
    char err[512];
};

/* SQLite takes one writer at a time; our own connections queue for it on
 * this mutex rather than in SQLite's busy handler, which sleeps 1, 2, 5,
 * 10 ... ms between tries: with 8 concurrent writers that sleeping, not
 * the disk, was the limit (object PUTs at c=8 stayed under 1,000/s). The
 * busy timeout still covers other processes on the same file. */
static pthread_mutex_t lite_write_mu = PTHREAD_MUTEX_INITIALIZER;

static void
write_lock(struct db *db)
{
    if (!db->lite || db->writing)
        return;
    /* bounded like SQLite's own busy timeout: a thread that already writes
     * on another connection must get SQLITE_BUSY after 10 s, as it did
     * before this mutex, not wait for itself forever */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    if (pthread_mutex_timedlock(&lite_write_mu, &until) == 0)
        db->writing = true;
}

static void
write_unlock(struct db *db)
{
    if (db->writing) {
        db->writing = false;
        pthread_mutex_unlock(&lite_write_mu);
    }
}

static struct {
    pthread_mutex_t lock;
    char *url;
    bool pg;
    struct db *idle;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *
sqlite_path(const char *url)
{
    if (!strncmp(url, "sqlite:///", 10))
        return url + 9;     /* keep the leading '/' of the absolute path */
    if (!strncmp(url, "sqlite://", 9))
        return url + 9;
    return url;
}

static struct db *
db_connect(void)
{
    struct db *db = xcalloc(1, sizeof(*db));
    if (pool.pg) {
        db->pg = PQconnectdb(pool.url);
        if (PQstatus(db->pg) != CONNECTION_OK) {
            log_error(NULL, "database: cannot connect: %s", PQerrorMessage(db->pg));
            PQfinish(db->pg);
            free(db);
            return NULL;
        }
        PQclear(PQexec(db->pg, "SET client_min_messages = warning"));
        return db;
    }
    int rc = sqlite3_open_v2(sqlite_path(pool.url), &db->lite,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        log_error(NULL, "database: cannot open %s: %s", pool.url, sqlite3_errstr(rc));
        sqlite3_close(db->lite);
        free(db);
        return NULL;
    }
    sqlite3_busy_timeout(db->lite, 10000);
    /* NORMAL: a commit writes the WAL but does not fsync it; wal_sync()
     * then makes every commit durable before its caller goes on, one fsync
     * for all the commits that arrived meanwhile (group commit). FULL
     * fsyncs inside COMMIT, under SQLite's write lock, so concurrent
     * writers queue behind each other's fsync (measured: 4 KiB object PUTs
     * at c=8 fell from 1,070/s to 710/s with a 555 ms p99). */
    sqlite3_exec(db->lite,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "PRAGMA foreign_keys=ON;"
                 /* no mmap: in WAL mode SQLite drops a connection's whole
                  * mapping at the start of every transaction after another
                  * connection wrote, so with writes on every request each
                  * transaction paid a munmap, TLB shootdowns and page
                  * faults (4 KiB PUTs at c=8: 930/s mapped, 1,950/s not).
                  * A 4 MiB page cache per connection (up to 18 of them:
                  * event loops + slow workers) keeps a 10,000-row listing
                  * as fast as the mapping did (p50 12.9 ms, was 12.8;
                  * 16 MiB gave 12.5). */
                 "PRAGMA mmap_size=0; PRAGMA cache_size=-4096;",
                 NULL, NULL, NULL);
    return db;
}

/* Group commit for SQLite: the WAL file is fsync'd once for all the
 * commits made before that fsync started. A commit's frames are durable
 * once the WAL is (recovery replays committed frames; SQLite itself syncs
 * the WAL header when it restarts the log and the database at a
 * checkpoint, even with synchronous=NORMAL). */
static struct group_sync wal_group = GROUP_SYNC_INIT;
static char wal_path[4096];         /* "<db>-wal" */

static int
wal_fsync(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)     /* no log: everything is in the checkpointed database */
        return errno == ENOENT ? 0 : -errno;
    int rc = fdatasync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* Returns once every commit this thread made is on disk; 0 or -errno. */
static int
wal_sync(void)
{
    int rc = group_sync(&wal_group, wal_fsync, wal_path);
    if (rc < 0)
        log_error(NULL, "database: fsync of %s failed: %s", wal_path, strerror(-rc));
    return rc;
}

static void
db_close(struct db *db)
{
    if (db->pg)
        PQfinish(db->pg);
    for (int i = 0; i < STMT_SLOTS; i++) {
        sqlite3_finalize(db->stmts[i].st);
        free(db->stmts[i].sql);
    }
    if (db->lite)
        sqlite3_close(db->lite);
    free(db);
}

/* The prepared statement for sql, from the connection's cache or new
 * (then cached). Give it back with stmt_done(). SQLITE_OK or an error. */
static int
stmt_get(struct db *db, const char *sql, sqlite3_stmt **out)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 16777619u;
    struct stmt_slot *sl = NULL;
    for (int w = 0; w < STMT_WAYS; w++) {
        struct stmt_slot *c = &db->stmts[(h + (uint32_t)w) % STMT_SLOTS];
        if (c->st && !strcmp(c->sql, sql)) {
            c->used = ++db->stmt_clock;
            *out = c->st;
            return SQLITE_OK;
        }
        if (!sl || c->used < sl->used)
            sl = c;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(db->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_finalize(sl->st);
    free(sl->sql);
    sl->sql = xstrdup(sql);
    sl->st = st;
    sl->used = ++db->stmt_clock;
    *out = st;
    return SQLITE_OK;
}

/* Resets a statement of the cache for its next use: it holds no lock and
 * no binding to the caller's memory afterwards. */
static void
stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int
db_pool_open(const char *url)
{
    /* SQLite would take "" as a private temporary database per connection:
     * a server that starts and then finds no tables */
    if (!url || !*sqlite_path(url)) {
        log_error(NULL, "database: empty url (is ONESTACK_DATABASE_URL set to \"\"?)");
        return -1;
    }
    pool.url = xstrdup(url);
    pool.pg = !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11);
    if (!pool.pg)
        snprintf(wal_path, sizeof(wal_path), "%s-wal", sqlite_path(url));
    struct db *db = db_get();
    if (!db)
        return -1;
    db_put(db);
    return 0;
}

void
db_pool_close(void)
{
    pthread_mutex_lock(&pool.lock);
    while (pool.idle) {
        struct db *d = pool.idle;
        pool.idle = d->next_idle;
        db_close(d);
    }
    pthread_mutex_unlock(&pool.lock);
}

bool
db_is_pg(void)
{
    return pool.pg;
}

struct db *
db_get(void)
{
    pthread_mutex_lock(&pool.lock);
    struct db *db = pool.idle;
    if (db)
        pool.idle = db->next_idle;
    pthread_mutex_unlock(&pool.lock);
    if (db && db->pg && PQstatus(db->pg) != CONNECTION_OK) {
        /* the server went away; start over rather than fail the request */
        db_close(db);
        db = NULL;
    }
    return db ? db : db_connect();
}

void
db_put(struct db *db)
{
    if (!db)
        return;
    if (db->in_tx)
        db_rollback(db);
    pthread_mutex_lock(&pool.lock);
    db->next_idle = pool.idle;
    pool.idle = db;
    pthread_mutex_unlock(&pool.lock);
}

const char *
db_errmsg(struct db *db)
{
    return db->err;
}

/* Rewrites '?' placeholders to $1..$n outside quoted literals. */
static char *
pg_sql(const char *sql)
{
    size_t n = strlen(sql);
    char *out = xmalloc(n * 4 + 1);
    size_t o = 0;
    int k = 0;
    bool quote = false;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'')
            quote = !quote;
        if (*p == '?' && !quote)
            o += (size_t)sprintf(out + o, "$%d", ++k);
        else
            out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

struct param {
    char type;
    const char *s;
    int64_t i;
    char num[24];
};

static int
collect(const char *fmt, va_list ap, struct param *ps)
{
    int n = 0;
    for (const char *f = fmt ? fmt : ""; *f; f++) {
        if (n == DB_MAX_PARAMS)
            abort();    /* programmer error: too many parameters */
        struct param *p = &ps[n++];
        p->type = *f;
        switch (*f) {
        case 's':
            p->s = va_arg(ap, const char *);
            break;
        case 'i':
            p->i = va_arg(ap, int64_t);
            snprintf(p->num, sizeof(p->num), "%lld", (long long)p->i);
            p->s = p->num;
            break;
        case 'b':
            p->i = va_arg(ap, int) ? 1 : 0;
            snprintf(p->num, sizeof(p->num), "%d", (int)p->i);
            p->s = p->num;
            break;
        default:
            abort();
        }
    }
    return n;
}

static int
lite_exec(struct db *db, struct arena *a, struct db_res **out, const char *sql,
          struct param *ps, int np)
{
    sqlite3_stmt *st;
    int rc = stmt_get(db, sql, &st);
    if (rc != SQLITE_OK) {
        snprintf(db->err, sizeof(db->err), "%s", sqlite3_errmsg(db->lite));
        log_error(NULL, "sql prepare failed: %s: %s", db->err, sql);
        return DB_ERR;
    }
    for (int i = 0; i < np; i++) {
        if (ps[i].type == 's' && !ps[i].s)
            sqlite3_bind_null(st, i + 1);
        else if (ps[i].type == 's')
            sqlite3_bind_text(st, i + 1, ps[i].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i + 1, ps[i].i);
    }
    int ncols = sqlite3_column_count(st);
    struct db_res *r = NULL;
    size_t cap = 0;
    if (out) {
        r = arena_alloc(a, sizeof(*r));
        r->ncols = ncols;
        r->names = arena_alloc(a, sizeof(char *) * (size_t)(ncols ? ncols : 1));
        for (int c = 0; c < ncols; c++)
            r->names[c] = arena_strdup(a, sqlite3_column_name(st, c));
    }
    /* a write outside db_begin(): it commits by itself, made durable
     * below like a COMMIT */
    bool autocommit_write = !db->in_tx && !sqlite3_stmt_readonly(st);
    if (autocommit_write)
        write_lock(db);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!r)
            continue;
        if ((size_t)r->nrows == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **cells = arena_alloc(a, sizeof(char *) * ncap * (size_t)ncols);
            if (r->cells)
                memcpy(cells, r->cells, sizeof(char *) * cap * (size_t)ncols);
            r->cells = cells;
            cap = ncap;
        }
        for (int c = 0; c < ncols; c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            r->cells[r->nrows * ncols + c] =
                t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, c))
                  : NULL;
        }
        r->nrows++;
    }
    int ext = sqlite3_extended_errcode(db->lite);
    if (rc != SQLITE_DONE)
        snprintf(db->err, sizeof(db->err), "%s", sqlite3_errmsg(db->lite));
    bool sync = rc == SQLITE_DONE && autocommit_write;
    stmt_done(st);
    if (autocommit_write)
        write_unlock(db);
    if (rc == SQLITE_DONE) {
        if (sync && wal_sync() < 0)
            return DB_ERR;
        if (out)
            *out = r;
        return DB_OK;
    }
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return DB_CONFLICT;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return DB_FK;
    log_error(NULL, "sql failed: %s: %s", db->err, sql);
    return DB_ERR;
}

static int
pg_result(struct db *db, PGresult *res, struct arena *a, struct db_res **out,
          const char *sql)
{
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        snprintf(db->err, sizeof(db->err), "%s", PQresultErrorMessage(res));
        PQclear(res);
        if (state && !strcmp(state, "23505"))
            return DB_CONFLICT;
        if (state && !strcmp(state, "23503"))
            return DB_FK;
        log_error(NULL, "sql failed: %s: %s", db->err, sql);
        return DB_ERR;
    }
    if (out) {
        struct db_res *r = arena_alloc(a, sizeof(*r));
        r->nrows = PQntuples(res);
        r->ncols = PQnfields(res);
        r->names = arena_alloc(a, sizeof(char *) * (size_t)(r->ncols ? r->ncols : 1));
        for (int c = 0; c < r->ncols; c++)
            r->names[c] = arena_strdup(a, PQfname(res, c));
        r->cells = arena_alloc(a, sizeof(char *) * (size_t)(r->nrows * r->ncols + 1));
        for (int i = 0; i < r->nrows; i++)
            for (int c = 0; c < r->ncols; c++)
                r->cells[i * r->ncols + c] =
                    PQgetisnull(res, i, c)
                        ? NULL
                        : arena_strndup(a, PQgetvalue(res, i, c),
                                        (size_t)PQgetlength(res, i, c));
        *out = r;
    }
    PQclear(res);
    return DB_OK;
}

/* Runs sql with the np collected parameters on either engine. */
static int
exec_params(struct db *db, struct arena *a, struct db_res **out, const char *sql,
            struct param *ps, int np)
{
    if (out)
        *out = NULL;
    if (!db->pg)
        return lite_exec(db, a, out, sql, ps, np);
    const char *vals[DB_MAX_PARAMS];
    for (int i = 0; i < np; i++)
        vals[i] = ps[i].s;
    char *q = pg_sql(sql);
    PGresult *res = PQexecParams(db->pg, q, np, NULL, vals, NULL, NULL, 0);
    int rc = pg_result(db, res, a, out, q);
    free(q);
    return rc;
}

int
db_exec(struct db *db, struct arena *a, struct db_res **out, const char *sql,
        const char *fmt, ...)
{
    struct param ps[DB_MAX_PARAMS];
    va_list ap;
    va_start(ap, fmt);
    int np = collect(fmt, ap, ps);
    va_end(ap);
    return exec_params(db, a, out, sql, ps, np);
}

/* ---- statements built piece by piece ---- */

_Static_assert(DB_QUERY_MAX_ARGS <= DB_MAX_PARAMS, "a db_query must fit one statement");

void
db_query_sql(struct db_query *q, const char *s)
{
    int w = snprintf(q->sql + q->len, sizeof(q->sql) - q->len, "%s", s);
    if (w < 0 || (size_t)w >= sizeof(q->sql) - q->len)
        q->full = true;
    else
        q->len += (size_t)w;
}

void
db_query_bind(struct db_query *q, const char *val)
{
    if (q->nargs == DB_QUERY_MAX_ARGS)
        q->full = true;
    else
        q->args[q->nargs++] = val;
}

void
db_query_arg(struct db_query *q, const char *val)
{
    /* no '?' without its value: the text and the arguments stay in step */
    if (q->nargs == DB_QUERY_MAX_ARGS) {
        q->full = true;
        return;
    }
    db_query_sql(q, "?");
    db_query_bind(q, val);
}

void
db_query_eq(struct db_query *q, const char *col, const char *val)
{
    if (!val)
        return;
    db_query_sql(q, " AND ");
    db_query_sql(q, col);
    db_query_sql(q, " = ");
    db_query_arg(q, val);
}

int
db_query_exec(struct db *db, struct arena *a, struct db_res **out, const struct db_query *q)
{
    struct param ps[DB_MAX_PARAMS];
    if (q->full) {
        if (out)
            *out = NULL;
        return DB_ERR;
    }
    for (int i = 0; i < q->nargs; i++)
        ps[i] = (struct param){.type = 's', .s = q->args[i]};
    return exec_params(db, a, out, q->sql, ps, q->nargs);
}

int
db_exec_script(struct db *db, const char *sql)
{
    if (db->pg)
        return pg_result(db, PQexec(db->pg, sql), NULL, NULL, sql);
    char *err = NULL;
    if (sqlite3_exec(db->lite, sql, NULL, NULL, &err) != SQLITE_OK) {
        snprintf(db->err, sizeof(db->err), "%s", err ? err : "?");
        log_error(NULL, "sql script failed: %s", db->err);
        sqlite3_free(err);
        return DB_ERR;
    }
    return DB_OK;
}

int
db_begin(struct db *db)
{
    write_lock(db);
    int rc = db_exec_script(db, db->pg ? "BEGIN" : "BEGIN IMMEDIATE");
    if (rc == DB_OK)
        db->in_tx = true;
    else
        write_unlock(db);
    return rc;
}

int
db_commit(struct db *db)
{
    int rc = db_exec_script(db, "COMMIT");
    if (rc != DB_OK)
        db_rollback(db);
    db->in_tx = false;
    write_unlock(db);
    /* PostgreSQL's COMMIT is durable (and grouped) by itself; SQLite's is
     * made durable here, after the write lock is free for the next one */
    if (rc == DB_OK && db->lite && wal_sync() < 0)
        rc = DB_ERR;
    return rc;
}

void
db_rollback(struct db *db)
{
    db_exec_script(db, "ROLLBACK");
    db->in_tx = false;
    write_unlock(db);
}

int
db_end(struct db *db, int rc)
{
    if (rc == DB_OK)
        return db_commit(db);   /* which rolls back itself when it fails */
    db_rollback(db);
    return rc;
}

const char *
db_val(const struct db_res *r, int row, int col)
{
    if (!r || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
        return NULL;
    return r->cells[row * r->ncols + col];
}

int64_t
db_int(const struct db_res *r, int row, int col)
{
    const char *v = db_val(r, row, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

bool
db_bool(const struct db_res *r, int row, int col)
{
    const char *v = db_val(r, row, col);
    return v && (v[0] == '1' || v[0] == 't');
}

int
db_migrate(struct db *db, const struct db_migration *m, int n)
{
    struct arena *a = arena_new();
    int rc = db_exec_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                "version INTEGER PRIMARY KEY, applied_at BIGINT)");
    for (int i = 0; rc == DB_OK && i < n; i++) {
        struct db_res *r;
        if ((rc = db_begin(db)) != DB_OK)
            break;
        rc = db_exec(db, a, &r, "SELECT 1 FROM schema_migrations WHERE version = ?", "i",
                     (int64_t)m[i].version);
        if (rc == DB_OK && r->nrows == 0) {
            rc = db_exec_script(db, m[i].sql);
            if (rc == DB_OK)
                rc = db_exec(db, NULL, NULL,
                             "INSERT INTO schema_migrations (version, applied_at) "
                             "VALUES (?, ?)",
                             "ii", (int64_t)m[i].version, now_s());
            if (rc == DB_OK)
                log_info(NULL, "database: applied migration %d", m[i].version);
        }
        rc = db_end(db, rc);
    }
    arena_free(a);
    return rc;
}
