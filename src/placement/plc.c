/* plc.c - the calls the scheduler and the host agent make without HTTP
 * (placement.h): compute node providers, candidates, claims, releases.
 * They share pl_db.c with the API, so both see the same rules. */
#include "placement.h"
#include "pl_db.h"
#include "core/arena.h"
#include "core/log.h"

#include <errno.h>
#include <string.h>

int
plc_ensure_compute_node(struct db *db, const struct plc_node *n)
{
    struct arena *a = arena_new();
    struct plc_rp rp;
    int rc = plc_db_begin(db);
    if (rc != DB_OK) {
        arena_free(a);
        return rc;
    }
    rc = plc_db_rp_get(db, a, n->uuid, &rp);
    if (rc == -ENOENT) {
        struct plc_rp nrp = {.uuid = n->uuid, .name = n->name, .root = n->uuid};
        rc = plc_db_rp_create(db, &nrp);
    } else if (rc == 0 && strcmp(rp.name, n->name)) {
        rc = plc_db_rp_update(db, rp.uuid, n->name, rp.parent, rp.root);
    }
    struct plc_inv inv[3];
    int ni = 0;
    const struct {
        const char *rc;
        int64_t total, reserved;
        double ratio;
    } want[] = {
        {"VCPU", n->vcpus, 0, n->cpu_ratio},
        {"MEMORY_MB", n->memory_mb, n->memory_mb_reserved, n->ram_ratio},
        {"DISK_GB", n->disk_gb, 0, n->disk_ratio},
    };
    for (int i = 0; i < 3; i++)
        if (want[i].total > 0)
            inv[ni++] = (struct plc_inv){.rc = want[i].rc, .total = want[i].total,
                                         .reserved = want[i].reserved, .min_unit = 1,
                                         .max_unit = want[i].total, .step_size = 1,
                                         .allocation_ratio = want[i].ratio > 0 ? want[i].ratio
                                                                               : 1.0};
    const char *busy = NULL;
    if (rc == DB_OK)
        rc = plc_db_rp_bump(db, n->uuid, -1);
    if (rc == DB_OK)
        rc = plc_db_inv_replace(db, a, n->uuid, inv, ni, &busy);
    rc = db_end(db, rc);
    if (rc == -EBUSY)
        log_warn(NULL, "placement: compute node %s: %s still has allocations", n->name, busy);
    arena_free(a);
    return rc;
}

int
plc_candidates(struct db *db, struct arena *a, const struct plc_resource *res, int n,
               int limit, const char ***uuids, int *nuuids)
{
    const char **rcs = arena_alloc(a, sizeof(char *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        rcs[i] = res[i].rc;
    const char **all;
    int nall, rc = plc_db_rp_with_classes(db, a, rcs, n, &all, &nall);
    if (rc)
        return rc;
    *uuids = arena_alloc(a, sizeof(char *) * (size_t)(nall + 1));
    *nuuids = 0;
    for (int i = 0; i < nall && (!limit || *nuuids < limit); i++) {
        struct plc_inv *inv;
        int ni;
        if ((rc = plc_db_inv_list(db, a, all[i], &inv, &ni)))
            return rc;
        bool ok = true;
        for (int k = 0; k < n && ok; k++) {
            const struct plc_inv *f = NULL;
            for (int j = 0; j < ni && !f; j++)
                if (!strcmp(inv[j].rc, res[k].rc))
                    f = &inv[j];
            ok = f && res[k].amount >= f->min_unit && res[k].amount <= f->max_unit &&
                 res[k].amount % f->step_size == 0 &&
                 (double)(f->total - f->reserved) * f->allocation_ratio >=
                     (double)(f->used + res[k].amount);
        }
        if (ok)
            (*uuids)[(*nuuids)++] = all[i];
    }
    return 0;
}

int
plc_claim(struct db *db, const char *consumer, const char *project, const char *user,
          const char *rp, const struct plc_resource *res, int n)
{
    struct arena *a = arena_new();
    struct plc_item *items = arena_alloc(a, sizeof(*items) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        items[i] = (struct plc_item){.rp = rp, .rc = res[i].rc, .used = res[i].amount};
    struct plc_consumer_set cs = {.consumer = consumer, .project = project, .user = user,
                                  .items = items, .nitems = n};
    struct plc_err err = {0};
    int rc = plc_db_begin(db);
    if (rc == DB_OK)
        rc = plc_db_alloc_apply(db, a, &cs, 1, &err) == 0 ? DB_OK : DB_ERR;
    rc = db_end(db, rc);
    if (err.status == 409)
        rc = strstr(err.msg, "Inventory for") ? -EINVAL : -ENOSPC;
    else if (err.status == 400)
        rc = -ENOENT;
    arena_free(a);
    return rc;
}

int
plc_release(struct db *db, const char *consumer)
{
    struct arena *a = arena_new();
    int rc = plc_db_begin(db);
    if (rc == DB_OK)
        rc = plc_db_alloc_delete(db, a, consumer);
    rc = db_end(db, rc);
    arena_free(a);
    return rc;
}
