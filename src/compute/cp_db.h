/* cp_db.h - the compute service's SQL: flavors, their extra specs and
 * access lists, and key pairs. Functions take a borrowed connection and
 * copy results into the caller's arena; none sees HTTP. Return 0, -ENOENT
 * (no such row), -EEXIST (a unique key taken) or a negative DB_* code. */
#ifndef COMPUTE_CP_DB_H
#define COMPUTE_CP_DB_H

#include "core/db.h"

#include <stdbool.h>
#include <stdint.h>

struct arena;

struct cmp_flavor {
    const char *id;             /* Nova's flavorid, the API id */
    const char *name;
    const char *description;    /* NULL when none */
    int64_t ram, vcpus, disk, ephemeral, swap;
    double rxtx_factor;
    bool is_public;
    int64_t created_us;
};

struct cmp_keypair {
    int64_t id;
    const char *user_id, *name, *type, *fingerprint, *public_key;
    int64_t created_us;
};

/* ---- flavors ---- */

int cmp_db_flavor_get(struct db *db, struct arena *a, const char *id, struct cmp_flavor *f);
/* Inserts f; -EEXIST with *dup_name set when the name is taken, clear
 * when the id is. */
int cmp_db_flavor_create(struct db *db, const struct cmp_flavor *f, bool *dup_name);
int cmp_db_flavor_set_description(struct db *db, const char *id, const char *desc);
/* Deletes the flavor with its extra specs and access list, in one
 * transaction. */
int cmp_db_flavor_delete(struct db *db, const char *id);

/* Filters of a flavor listing; NULL / negative fields do not filter. */
struct cmp_flavor_filter {
    int64_t min_ram, min_disk;  /* -1: any */
    int is_public;              /* 1 public (plus project's), 0 private, -1 all */
    const char *project_id;     /* with is_public 1: its private flavors too */
    const char *sort_key;       /* a column name from cmp_db_flavor_sort_col() */
    bool desc;
};
/* The column a Nova sort_key sorts by, NULL for an unknown key. */
const char *cmp_db_flavor_sort_col(const char *key);
/* Every matching flavor in order into *out (arena), count in *n. */
int cmp_db_flavor_list(struct db *db, struct arena *a, const struct cmp_flavor_filter *flt,
                       struct cmp_flavor **out, int *n);

/* Extra specs as a result of (key, value) rows sorted by key. */
int cmp_db_specs(struct db *db, struct arena *a, const char *flavor_id, struct db_res **out);
/* Sets every key of the n pairs (keys[i] = vals[i]) in one transaction. */
int cmp_db_specs_set(struct db *db, const char *flavor_id, const char *const *keys,
                     const char *const *vals, int n);
int cmp_db_spec_delete(struct db *db, const char *flavor_id, const char *key);

/* Project ids with access to the flavor, sorted. */
int cmp_db_access_list(struct db *db, struct arena *a, const char *flavor_id,
                       struct db_res **out);
/* 1 when project has access to the flavor, 0 when not, < 0 on error. */
int cmp_db_access_has(struct db *db, struct arena *a, const char *flavor_id,
                      const char *project_id);
int cmp_db_access_add(struct db *db, const char *flavor_id, const char *project_id);
int cmp_db_access_remove(struct db *db, const char *flavor_id, const char *project_id);

/* ---- key pairs ---- */

/* Inserts k (id assigned) unless the user already has `max` key pairs
 * (-EDQUOT) or one of that name (-EEXIST), in one transaction. */
int cmp_db_keypair_create(struct db *db, struct arena *a, struct cmp_keypair *k, int64_t max);
int cmp_db_keypair_get(struct db *db, struct arena *a, const char *user_id, const char *name,
                       struct cmp_keypair *k);
/* The user's key pairs sorted by name. */
int cmp_db_keypair_list(struct db *db, struct arena *a, const char *user_id,
                        struct cmp_keypair **out, int *n);
int cmp_db_keypair_delete(struct db *db, const char *user_id, const char *name);
int cmp_db_keypair_count(struct db *db, struct arena *a, const char *user_id, int64_t *n);

#endif
