/* api_ipavail.c - /v2.0/network-ip-availabilities (Neutron's
 * network-ip-availability extension, admin only): per network and per
 * subnet, how many addresses the allocation pools hold and how many are
 * allocated (net_ipalloc rows). A pool of more than 2^63 addresses (an
 * IPv6 /64) is given as a JSON number without an exact integer, as
 * Neutron's own large counts come out. */
#include "network_int.h"
#include "core/arena.h"

#include <stdint.h>
#include <string.h>

static json_t *
count(ip128 n)
{
    return n > (ip128)INT64_MAX ? json_real((double)n) : json_integer((json_int_t)n);
}

static json_t *
availability(struct http_req *req, struct db_res *nets, int i)
{
    struct db *db = req->db;
    const char *netid = db_val(nets, i, 0);
    struct net_subnet *s;
    int n = 0;
    ip128 total = 0;
    int64_t used = 0;
    json_t *subs = json_array();
    if (net__subnets_of(db, req->arena, netid, &s, &n) != DB_OK)
        n = 0;
    for (int k = 0; k < n; k++) {
        ip128 *first, *last, size = 0;
        int np = 0;
        net__subnet_pools(req->arena, &s[k], &first, &last, &np);
        for (int p = 0; p < np; p++)
            size += last[p] - first[p] + 1;
        struct db_res *u;
        int64_t su = db_exec(db, req->arena, &u, "SELECT COUNT(*) FROM net_ipalloc WHERE "
                             "subnet_id = ?", "s", s[k].id) == DB_OK ? db_int(u, 0, 0) : 0;
        total += size;
        used += su;
        json_array_append_new(subs, json_pack("{s:s,s:s,s:s,s:i,s:o,s:I}", "subnet_id",
                                              s[k].id, "subnet_name", s[k].name, "cidr",
                                              s[k].cidr, "ip_version", s[k].version,
                                              "total_ips", count(size), "used_ips",
                                              (json_int_t)su));
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:o}", "network_id", netid, "network_name",
                     db_val(nets, i, 1), "project_id", db_val(nets, i, 2), "tenant_id",
                     db_val(nets, i, 2), "total_ips", count(total), "used_ips",
                     (json_int_t)used, "subnet_ip_availability", subs);
}

static int
select_nets(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    if (!net__admin(req))
        return net__fail(req, 403, "HTTPForbidden", "(rule:get_network_ip_availability) is "
                         "disallowed by policy");
    int rc = id ? db_exec(db, req->arena, r, "SELECT id, name, project_id FROM net_network "
                          "WHERE id = ?", "s", id)
                : db_exec(db, req->arena, r, "SELECT id, name, project_id FROM net_network "
                          "ORDER BY created_at, id", "");
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "NetworkNotFound", "Network %s could not be found.", id);
    return 0;
}

int
net__ipavail_list(struct http_req *req)
{
    struct db_res *r;
    if (select_nets(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, availability(req, r, i));
    return net__list_reply(req, "network_ip_availabilities", l);
}

int
net__ipavail_show(struct http_req *req)
{
    struct db_res *r;
    if (select_nets(req, http_param(req, "network_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "network_ip_availability",
                                               net__fields(req, availability(req, r, 0))));
}
