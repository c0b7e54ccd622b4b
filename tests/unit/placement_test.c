/* placement_test.c - the in-process placement calls (placement.h) that the
 * scheduler and the host agent use, on a fresh SQLite database: a compute
 * node's provider and inventory, candidates, claims up to the capacity
 * and no further, releases. */
#include "runner.h"
#include "core/arena.h"
#include "core/db.h"
#include "placement/placement.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static struct db *db;
static char path[64] = "/tmp/onestack-plc-XXXXXX";

#define NODE "6a1e7f0c-1111-4222-8333-944455556666"
#define CONS(n) "c0000000-0000-4000-8000-00000000000" #n

static void
t_open(void)
{
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(db_pool_open(path) == 0);
    db = db_get();
    CHECK(db != NULL);
    CHECK(db_migrate(db, plc_migrations, plc_nmigrations) == DB_OK);
}

static void
t_compute_node(void)
{
    struct plc_node n = {.uuid = NODE, .name = "host-a", .vcpus = 2, .memory_mb = 2048,
                         .memory_mb_reserved = 512, .disk_gb = 10, .cpu_ratio = 2.0};
    CHECK(plc_ensure_compute_node(db, &n) == 0);
    CHECK(plc_ensure_compute_node(db, &n) == 0);     /* again: same result */
    struct arena *a = arena_new();
    struct db_res *r;
    CHECK(db_exec(db, a, &r, "SELECT rc, total, reserved, allocation_ratio FROM pl_inv "
                             "WHERE rp_uuid = ? ORDER BY rc", "s", NODE) == DB_OK);
    CHECK(r->nrows == 3);
    CHECK_STR(db_val(r, 0, 0), "DISK_GB");
    CHECK_STR(db_val(r, 1, 0), "MEMORY_MB");
    CHECK(db_int(r, 1, 2) == 512);
    CHECK_STR(db_val(r, 2, 0), "VCPU");
    CHECK(atof(db_val(r, 2, 3)) == 2.0);
    arena_free(a);
}

static void
t_claims(void)
{
    struct arena *a = arena_new();
    struct plc_resource two[] = {{"VCPU", 2}, {"MEMORY_MB", 512}};
    const char **u;
    int n;
    CHECK(plc_candidates(db, a, two, 2, 0, &u, &n) == 0);
    CHECK(n == 1 && t_streq(u[0], NODE));
    /* 4 VCPU (2 x 2.0) and 1536 MB free: two claims fit, the third not */
    CHECK(plc_claim(db, CONS(1), "p", "u", NODE, two, 2) == 0);
    CHECK(plc_claim(db, CONS(2), "p", "u", NODE, two, 2) == 0);
    CHECK(plc_claim(db, CONS(3), "p", "u", NODE, two, 2) == -ENOSPC);
    CHECK(plc_candidates(db, a, two, 2, 0, &u, &n) == 0 && n == 0);
    struct plc_resource pci[] = {{"PCI_DEVICE", 1}};
    CHECK(plc_claim(db, CONS(4), "p", "u", NODE, pci, 1) == -EINVAL);
    CHECK(plc_claim(db, CONS(4), "p", "u", "00000000-0000-4000-8000-000000000000", two, 2) ==
          -ENOENT);
    /* the failed claims wrote nothing */
    struct db_res *r;
    CHECK(db_exec(db, a, &r, "SELECT COUNT(*) FROM pl_alloc", NULL) == DB_OK);
    CHECK(db_int(r, 0, 0) == 4);
    CHECK(plc_release(db, CONS(1)) == 0);
    CHECK(plc_release(db, CONS(1)) == -ENOENT);
    CHECK(plc_candidates(db, a, two, 2, 0, &u, &n) == 0 && n == 1);
    /* a node cannot lose a class that is in use */
    struct plc_node small = {.uuid = NODE, .name = "host-a", .memory_mb = 2048, .disk_gb = 10};
    CHECK(plc_ensure_compute_node(db, &small) == -EBUSY);
    CHECK(plc_release(db, CONS(2)) == 0);
    CHECK(plc_ensure_compute_node(db, &small) == 0);
    arena_free(a);
}

static void
t_close(void)
{
    db_put(db);
    db_pool_close();
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
}

T_MAIN("placement", T(t_open), T(t_compute_node), T(t_claims), T(t_close))
