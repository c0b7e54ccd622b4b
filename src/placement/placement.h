/* placement.h - the placement service (OpenStack Placement API at
 * /placement, microversions 1.0-1.39) and the calls the scheduler and the
 * in-process host agent make without HTTP. */
#ifndef PLACEMENT_PLACEMENT_H
#define PLACEMENT_PLACEMENT_H

#include <stdint.h>

#include "core/db.h"

struct arena;

/* Registers the Placement routes and policy defaults. Call before
 * http_start(), with the database pool open and migrated. 0 or -1. */
int plc_service_init(void);

/* Numbered schema migrations, for db_migrate(); numbered from 4001 (issue
 * 4's range; image holds 3501-4000). */
extern const struct db_migration plc_migrations[];
extern const int plc_nmigrations;

/* One amount of one resource class ("VCPU", 2). */
struct plc_resource {
    const char *rc;
    int64_t amount;
};

/* What a compute node offers. */
struct plc_node {
    const char *uuid, *name;            /* required; the caller owns both */
    int64_t vcpus, memory_mb, memory_mb_reserved, disk_gb;
    double cpu_ratio, ram_ratio, disk_ratio;   /* 0 means 1.0 */
};

/* Creates the compute node provider when missing (or renames it) and sets
 * its VCPU, MEMORY_MB and DISK_GB inventory; classes with a zero total are
 * left out. Runs in its own transaction on db (held by the caller). 0, or
 * -EBUSY when a class that would go still has allocations, or a DB_*
 * code. */
int plc_ensure_compute_node(struct db *db, const struct plc_node *n);

/* The providers that alone can hold every resource of res (n, n >= 1)
 * now, in creation order, at most limit (0: no limit). *uuids is an array
 * in arena a, *nuuids its length. 0 or a DB_* code. */
int plc_candidates(struct db *db, struct arena *a, const struct plc_resource *res, int n,
                   int limit, const char ***uuids, int *nuuids);

/* Replaces consumer's allocations with res (n) against provider rp,
 * atomically: either all are written or nothing is. project and user are
 * recorded on the consumer. 0; -ENOSPC when capacity (or a unit
 * constraint) no longer allows it; -ENOENT when rp does not exist; -EINVAL
 * for a class the provider has no inventory of; else a DB_* code. The
 * caller owns every string. */
int plc_claim(struct db *db, const char *consumer, const char *project, const char *user,
              const char *rp, const struct plc_resource *res, int n);

/* Deletes every allocation of consumer. 0, -ENOENT when it had none, or a
 * DB_* code. */
int plc_release(struct db *db, const char *consumer);

#endif
