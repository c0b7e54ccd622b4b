/* compute.h - the compute service (Nova v2.1 API at /compute): what
 * main.c needs to start it. */
#ifndef COMPUTE_COMPUTE_H
#define COMPUTE_COMPUTE_H

#include "core/db.h"

/* Registers the Nova routes, the microversion range and the policy
 * defaults. Call before http_start(), with the database pool open. 0 or
 * -1 (logged). */
int cmp_service_init(const char *data_dir);

/* Starts the scheduler thread (after cmp_service_init, before serving);
 * cmp_service_stop() stops it. 0 or -1. */
int cmp_service_start(void);
void cmp_service_stop(void);

/* Adds Nova's usual default flavors (m1.tiny .. m1.xlarge, ids "1".."5")
 * the first time it runs on a database; later runs, and a database that
 * already has flavors, are left alone, so an operator's deletions stay.
 * Runs its own transaction on db (borrowed). Returns a DB_* code. */
int cmp_bootstrap(struct db *db);

/* Numbered schema migrations of the service, for db_migrate(); numbered
 * from 4501: issue 4's compute service holds 4501-5000 of the shared
 * schema_migrations table. */
extern const struct db_migration cmp_migrations[];
extern const int cmp_nmigrations;

#endif
