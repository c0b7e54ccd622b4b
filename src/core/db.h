/* db.h - one SQL interface over SQLite (default) and PostgreSQL.
 *
 * SQL is written once, in the subset both engines speak, with '?'
 * placeholders (rewritten to $n for PostgreSQL). Parameters are typed by a
 * format string: 's' text (NULL = SQL NULL), 'i' int64_t, 'b' bool (int,
 * stored as 0/1 in an INTEGER column on both engines). Results are copied
 * into the caller's arena as text cells, which is all the control plane
 * needs and keeps both engines identical to callers.
 *
 * Connections come from a pool; one connection is used by one thread at a
 * time. Every transaction that may write starts with db_begin() (BEGIN
 * IMMEDIATE on SQLite, so a read never has to upgrade to a write). */
#ifndef CORE_DB_H
#define CORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct db;

enum {
    DB_OK = 0,
    DB_ERR = -1000,          /* any other failure; see db_errmsg() */
    DB_CONFLICT = -1001,     /* unique / primary key violation */
    DB_FK = -1002,           /* foreign key violation */
};

struct db_res {
    int nrows, ncols;
    char **cells;            /* nrows * ncols, NULL for SQL NULL */
    char **names;            /* ncols column names */
};

/* Opens the pool for url: "sqlite:///abs/path.db", a plain path, or
 * "postgresql://user:pw@host:port/db". Returns 0 or -1 (message on stderr). */
int db_pool_open(const char *url);
void db_pool_close(void);
/* true when the pool speaks PostgreSQL */
bool db_is_pg(void);

/* Takes a connection from the pool (opening one if none is idle); NULL if it
 * cannot connect. Give it back with db_put(). */
struct db *db_get(void);
/* Returns db to the pool; rolls back a transaction left open. */
void db_put(struct db *db);

/* Runs sql with parameters typed by fmt (see above). When out is non-NULL
 * the rows are copied into arena a and *out points at them. Returns DB_OK
 * or a negative DB_* code. */
int db_exec(struct db *db, struct arena *a, struct db_res **out, const char *sql,
            const char *fmt, ...);
/* A statement put together piece by piece (a list with optional filters)
 * in a fixed buffer, with text parameters ('s'). Nothing is written past
 * either bound: an append that does not fit sets `full` instead, and such
 * a statement never runs. Zero-initialise it ({0}) before the first append. */
#define DB_QUERY_MAX_ARGS 30
struct db_query {
    char sql[3072];
    size_t len;
    const char *args[DB_QUERY_MAX_ARGS];    /* NULL = SQL NULL */
    int nargs;
    bool full;
};
/* Appends SQL text s. */
void db_query_sql(struct db_query *q, const char *s);
/* Binds val to the next '?' the caller already wrote into the text. */
void db_query_bind(struct db_query *q, const char *val);
/* Appends a '?' bound to val. */
void db_query_arg(struct db_query *q, const char *val);
/* Appends " AND <col> = ?" bound to val; nothing when val is NULL. */
void db_query_eq(struct db_query *q, const char *col, const char *val);
/* Runs q as db_exec() would; DB_ERR without running it when q->full. */
int db_query_exec(struct db *db, struct arena *a, struct db_res **out,
                  const struct db_query *q);

/* Runs several ;-separated statements without parameters (migrations). */
int db_exec_script(struct db *db, const char *sql);

int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
/* Ends the transaction db_begin() opened: commits when rc is DB_OK, else
 * rolls back. Returns rc, or the commit's code. */
int db_end(struct db *db, int rc);

/* Message of the last failure on db (valid until the next call on it). */
const char *db_errmsg(struct db *db);

/* Cell accessors: NULL/0 when out of range or SQL NULL. */
const char *db_val(const struct db_res *r, int row, int col);
int64_t db_int(const struct db_res *r, int row, int col);
bool db_bool(const struct db_res *r, int row, int col);

/* Applies the numbered migrations in order, each in its own transaction,
 * recording them in schema_migrations. Returns 0 or a DB_* code. */
struct db_migration {
    int version;
    const char *sql;
};
int db_migrate(struct db *db, const struct db_migration *m, int n);

#endif
