/* pl_db.h - the placement service's SQL (pl_db.c): providers, inventories,
 * usages, traits, aggregates, custom resource classes and allocations.
 * Every function takes a connection the caller holds; writers run inside
 * plc_db_begin()/db_end() so that a failure midway leaves nothing written.
 * Strings returned live in the arena the caller passes. Return values:
 * 0, -ENOENT (no such row), -EEXIST, -EAGAIN (generation mismatch), -EBUSY
 * (in use), or a DB_* code. */
#ifndef PLACEMENT_PL_DB_H
#define PLACEMENT_PL_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"

struct arena;

struct plc_rp {
    const char *uuid, *name, *parent, *root;
    int64_t generation;
};

struct plc_inv {
    const char *rc;
    int64_t total, reserved, min_unit, max_unit, step_size;
    double allocation_ratio;
    int64_t used;               /* filled by plc_db_inv_list() */
};

/* One resource class amount on one provider for one consumer. */
struct plc_item {
    const char *rp, *rc;
    int64_t used;
};

/* What one consumer's allocations become (PUT/POST /allocations). gen < 0
 * means "a new consumer" (null); check_gen false skips the check
 * (microversions before 1.28). */
struct plc_consumer_set {
    const char *consumer, *project, *user, *ctype;
    bool check_gen;
    int64_t gen;
    struct plc_item *items;
    int nitems;
};

/* Why an allocation write failed, for the API's error body. */
struct plc_err {
    int status;
    const char *code;           /* NULL: placement.undefined_code */
    const char *msg;
};

/* Starts a write transaction. On PostgreSQL every placement writer also
 * takes one transaction-scoped advisory lock, so capacity and generation
 * checks hold until the commit (SQLite's BEGIN IMMEDIATE already makes
 * writers take turns). End it with db_end(). */
int plc_db_begin(struct db *db);

/* providers */
int plc_db_rp_get(struct db *db, struct arena *a, const char *uuid, struct plc_rp *out);
/* Filtered list: any of name, uuid, in_tree (a provider uuid: all of its
 * tree) may be NULL. *out is an arena array of *n providers. */
int plc_db_rp_list(struct db *db, struct arena *a, const char *name, const char *uuid,
                   const char *in_tree, struct plc_rp **out, int *n);
int plc_db_rp_create(struct db *db, const struct plc_rp *rp);
/* Renames and/or sets the parent (root follows); bumps the generation. */
int plc_db_rp_update(struct db *db, const char *uuid, const char *name, const char *parent,
                     const char *root);
/* The uuids of uuid's subtree, uuid first (breadth first), in arena a. */
int plc_db_rp_subtree(struct db *db, struct arena *a, const char *uuid, const char ***out,
                      int *n);
/* Sets the root of each provider of uuids (n); no generation change. */
int plc_db_rp_set_root(struct db *db, const char *const *uuids, int n, const char *root);
/* -EBUSY with allocations, -ENOTEMPTY with children. */
int plc_db_rp_delete(struct db *db, const char *uuid);
/* Bumps the generation when it is still gen (gen < 0: unconditionally).
 * -EAGAIN when another writer changed the provider first. */
int plc_db_rp_bump(struct db *db, const char *uuid, int64_t gen);

/* inventories with their usage */
int plc_db_inv_list(struct db *db, struct arena *a, const char *rp, struct plc_inv **out,
                    int *n);
/* Replaces the whole inventory set: -EBUSY (with *busy_rc) when a class
 * that has allocations would go. */
int plc_db_inv_replace(struct db *db, struct arena *a, const char *rp,
                       const struct plc_inv *inv, int n, const char **busy_rc);
/* The usage of every class the provider has allocations of. */
int plc_db_usages(struct db *db, struct arena *a, const char *rp, struct plc_inv **out,
                  int *n);
/* Totals per class of project (and user, may be NULL). */
int plc_db_usages_project(struct db *db, struct arena *a, const char *project,
                          const char *user, struct plc_inv **out, int *n);

/* 1.38: totals per consumer type (NULL type: "unknown") and class of
 * project (and user), optionally of one type (ctype "unknown": untyped
 * consumers; NULL or "all": all, grouped under "all"). Rows: the type in
 * ->rc's place is returned in types[i], ->rc the class, ->used the sum;
 * counts[i] the consumers of that type. */
int plc_db_usages_typed(struct db *db, struct arena *a, const char *project, const char *user,
                        const char *ctype, const char ***types, struct plc_inv **out,
                        int64_t **counts, int *n);

/* custom resource classes and traits (kind "rc" or "trait") */
int plc_db_custom_list(struct db *db, struct arena *a, const char *kind, const char ***out,
                       int *n);
int plc_db_custom_exists(struct db *db, struct arena *a, const char *kind, const char *name);
int plc_db_custom_add(struct db *db, const char *kind, const char *name);
/* -EBUSY when an inventory (rc) or a provider (trait) still uses it. */
int plc_db_custom_delete(struct db *db, struct arena *a, const char *kind, const char *name);
int plc_db_rc_rename(struct db *db, struct arena *a, const char *from, const char *to);
/* Names of traits some provider has. */
int plc_db_traits_used(struct db *db, struct arena *a, const char ***out, int *n);

/* provider traits and aggregates (kind "trait" or "agg") */
int plc_db_rp_set_list(struct db *db, struct arena *a, const char *kind, const char *rp,
                       const char ***out, int *n);
int plc_db_rp_set_replace(struct db *db, const char *kind, const char *rp,
                          const char *const *vals, int n);
/* true when rp has every trait of req (n) and none of forbid (nf). */
int plc_db_rp_traits_match(struct db *db, struct arena *a, const char *rp,
                           const char *const *req, int n, const char *const *forbid, int nf,
                           bool *ok);
/* true when rp is in at least one of aggs (n). */
int plc_db_rp_in_aggs(struct db *db, struct arena *a, const char *rp,
                      const char *const *aggs, int n, bool *ok);

/* allocations */
/* Applies each consumer's new allocations in turn, inside the caller's
 * transaction: consumer generation, providers and classes that exist,
 * min/max/step and capacity. On failure fills *err (arena strings) and
 * returns -1; the caller rolls back. */
int plc_db_alloc_apply(struct db *db, struct arena *a, const struct plc_consumer_set *cs,
                       int n, struct plc_err *err);
/* A consumer's allocations and its record. *found false when it has none. */
struct plc_consumer {
    const char *project, *user, *ctype;
    int64_t generation;
    bool found;
};
int plc_db_alloc_get(struct db *db, struct arena *a, const char *consumer,
                     struct plc_consumer *c, struct plc_item **out, int *n);
/* Allocations against one provider (consumer in ->rp). */
int plc_db_alloc_by_rp(struct db *db, struct arena *a, const char *rp, struct plc_item **out,
                       int *n);
/* Deletes every allocation of consumer; -ENOENT when it had none. */
int plc_db_alloc_delete(struct db *db, struct arena *a, const char *consumer);
/* Providers with an inventory of every class of rcs (n). */
int plc_db_rp_with_classes(struct db *db, struct arena *a, const char *const *rcs, int n,
                           const char ***out, int *nout);

#endif
