/* ipam.c - addresses for ports. An allocation is a row of net_ipalloc,
 * whose primary key (subnet, address) makes a second holder impossible:
 * two creates racing for one address cannot both insert it, and the
 * loser tries another. From the pools a random address is tried first
 * (sparse pools, the common case: one INSERT), then, after a few
 * conflicts, the lowest free one found from the used set. SLAAC subnets
 * give every port its EUI-64 address. */
#include "network_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <string.h>

#define RANDOM_TRIES 8

int
net__subnet_pools(struct arena *a, const struct net_subnet *s, ip128 **first, ip128 **last,
                  int *n)
{
    json_t *p = json_loads(s->pools ? s->pools : "[]", 0, NULL);
    size_t k = json_array_size(p);
    *first = arena_alloc(a, sizeof(ip128) * (k + 1));
    *last = arena_alloc(a, sizeof(ip128) * (k + 1));
    *n = 0;
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(p, i);
        ip128 f, l;
        if (ip_parse(json_string_value(json_object_get(e, "start")), s->version, &f) &&
            ip_parse(json_string_value(json_object_get(e, "end")), s->version, &l)) {
            (*first)[*n] = f;
            (*last)[(*n)++] = l;
        }
    }
    json_decref(p);
    return 0;
}

/* One try: DB_CONFLICT when the address is taken. ON CONFLICT DO
 * NOTHING rather than a failing INSERT: on PostgreSQL a unique violation
 * would abort the caller's whole transaction. */
static int
insert(struct db *db, const struct net_subnet *s, const char *port, const char *net, ip128 a,
       char out[46])
{
    ip_format(a, s->version, out);
    struct arena *ar = arena_new();
    struct db_res *r;
    int rc = db_exec(db, ar, &r, "INSERT INTO net_ipalloc (subnet_id, ip_address, port_id, "
                     "network_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING "
                     "ip_address", "ssss", s->id, out, port, net);
    if (rc == DB_OK && !r->nrows)
        rc = DB_CONFLICT;
    arena_free(ar);
    return rc;
}

/* Whether a lies in one of the pools. */
static bool
in_pools(ip128 a, const ip128 *f, const ip128 *l, int n)
{
    for (int i = 0; i < n; i++)
        if (a >= f[i] && a <= l[i])
            return true;
    return false;
}

int
net__ipam_allocate(struct db *db, struct arena *a, const struct net_subnet *s,
                   const char *port, const char *net, const char *mac, const char *want,
                   char out[46])
{
    ip128 addr;
    if (want) {
        if (ip_parse(want, s->version, &addr) != s->version || addr < s->first ||
            addr > s->last)
            return -EINVAL;
        int rc = insert(db, s, port, net, addr, out);
        return rc == DB_CONFLICT ? -EEXIST : rc;
    }
    if (net__subnet_slaac(s)) {
        int rc = insert(db, s, port, net, ip_eui64(s->first, mac), out);
        return rc == DB_CONFLICT ? -EEXIST : rc;
    }
    ip128 *f, *l;
    int n;
    net__subnet_pools(a, s, &f, &l, &n);
    ip128 total = 0;
    for (int i = 0; i < n; i++)
        total += l[i] - f[i] + 1;
    if (!total)
        return -ENOSPC;
    for (int t = 0; t < RANDOM_TRIES; t++) {
        ip128 r;
        random_bytes(&r, sizeof(r));
        r %= total;
        for (int i = 0; i < n; i++) {
            ip128 size = l[i] - f[i] + 1;
            if (r < size) {
                addr = f[i] + r;
                break;
            }
            r -= size;
        }
        int rc = insert(db, s, port, net, addr, out);
        if (rc != DB_CONFLICT)
            return rc;
    }
    /* crowded: the lowest free address, from the used set */
    for (int round = 0; round < 3; round++) {
        struct db_res *u;
        int rc = db_exec(db, a, &u, "SELECT ip_address FROM net_ipalloc WHERE subnet_id = ?",
                         "s", s->id);
        if (rc)
            return rc;
        ip128 *used = arena_alloc(a, sizeof(ip128) * (size_t)(u->nrows + 1));
        int nu = 0;
        for (int i = 0; i < u->nrows; i++)
            if (ip_parse(db_val(u, i, 0), s->version, &used[nu]) &&
                in_pools(used[nu], f, l, n))
                nu++;
        if ((ip128)nu >= total)
            return -ENOSPC;
        /* the used set is small next to a pool: mark by a linear probe */
        for (int i = 0; i < n; i++)
            for (ip128 c = f[i]; c <= l[i]; c++) {
                bool taken = false;
                for (int k = 0; k < nu && !taken; k++)
                    taken = used[k] == c;
                if (taken)
                    continue;
                rc = insert(db, s, port, net, c, out);
                if (rc != DB_CONFLICT)
                    return rc;
                goto again;     /* lost a race for it: look again */
            }
        return -ENOSPC;
    again:;
    }
    return -ENOSPC;
}
