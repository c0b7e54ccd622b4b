/* network_int.h - what the Neutron API files share: the fault, policy and
 * request helpers of api.c, the generic listing of net_list.c and the
 * handlers of each resource file. */
#ifndef NETWORK_NETWORK_INT_H
#define NETWORK_NETWORK_INT_H

#include "ipnet.h"
#include "core/db.h"
#include "core/http.h"

#include <jansson.h>
#include <stdbool.h>

/* Records a Neutron fault: status, Neutron's exception name (type) and
 * message; rendered as {"NeutronError": {"type", "message", "detail"}}.
 * Returns -1. */
int net__fail(struct http_req *req, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A new random UUID, lower case, into out. */
void net__uuid(char out[37]);
/* The request's database or a 503 recorded (NULL). */
struct db *net__db(struct http_req *req);
/* A database failure as a 500; returns -1. */
int net__db_fail(struct http_req *req, int rc);
/* Whether the caller has the admin role. */
bool net__admin(struct http_req *req);
/* The body's object member key ({"network": {...}}), or a 400 recorded. */
json_t *net__body(struct http_req *req, const char *key);
/* "http://host/network/v2.0", as the client reached it. */
const char *net__url(struct http_req *req);
/* The project a create acts for: the body's project_id / tenant_id
 * (admin only when it is not the caller's own) or the caller's; NULL with
 * the failure recorded. */
const char *net__owner(struct http_req *req, json_t *obj);
/* Checks that obj's members are all in allowed (NULL-terminated); a 400
 * in Neutron's words otherwise ("Unrecognized attribute(s) 'x'"). */
int net__only(struct http_req *req, json_t *obj, const char *const *allowed);
/* A boolean member (absent: dflt); 400 when it is not one. Neutron takes
 * "true"/"false" strings and 0/1 too. */
int net__bool(struct http_req *req, json_t *obj, const char *key, bool dflt, bool *out);
/* A string member of at most max characters (absent: dflt, may be NULL). */
int net__str(struct http_req *req, json_t *obj, const char *key, size_t max, const char *dflt,
             const char **out);
/* net__str, where nullable also takes JSON null as absent (Neutron's
 * attributes whose validator allows None, as remote_ip_prefix). */
int net__str_null(struct http_req *req, json_t *obj, const char *key, size_t max,
                  const char *dflt, bool nullable, const char **out);
/* Runs handler fn on req as a request of its own: body (stolen; NULL:
 * none) as its JSON and pname=pval (pname NULL: none) as its path
 * parameter; req's own are restored after. 0 with *out its JSON answer
 * (caller owns; NULL when empty), or -1 with its fault left set on req.
 * Nova's security group API and bulk creates use it. */
int net__call(struct http_req *req, int (*fn)(struct http_req *), const char *pname,
              const char *pval, json_t *body, json_t **out);
/* Neutron's bulk create: {many: [obj, ...]} made one by one with create
 * (as {one: obj}); all or nothing: on a failure those made are deleted
 * again with del (id_param their id) and the failure answered; else 201
 * with {many: [...]}. */
int net__bulk(struct http_req *req, const char *one, const char *many,
              int (*create)(struct http_req *), int (*del)(struct http_req *),
              const char *id_param);
/* Now as Neutron's timestamps ("2026-11-22T18:00:00Z"). */
const char *net__time(struct http_req *req, int64_t us);

/* ---- security groups (api_secgroups.c) ---- */
int net__sgs_list(struct http_req *req);
int net__sg_show(struct http_req *req);
int net__sg_create(struct http_req *req);
int net__sg_update(struct http_req *req);
int net__sg_delete(struct http_req *req);
int net__sg_rules_list(struct http_req *req);
int net__sg_rule_show(struct http_req *req);
int net__sg_rule_create(struct http_req *req);
int net__sg_rule_delete(struct http_req *req);
/* The id of project's "default" group into out, made (with its rules)
 * when the project has none yet; in a transaction of its own. 0 or a
 * DB_* code. */
int net__default_sg(struct db *db, struct arena *a, const char *project, char out[37]);
/* An IP protocol by Neutron's name or number ("tcp", "6"): its number;
 * -1 for NULL (any), -2 when unknown. */
int net__proto_num(const char *p);

/* ---- routers and floating IPs (api_routers.c, api_fips.c) ---- */
int net__routers_list(struct http_req *req);
int net__router_show(struct http_req *req);
int net__router_create(struct http_req *req);
int net__router_update(struct http_req *req);
int net__router_delete(struct http_req *req);
int net__router_add_iface(struct http_req *req);
int net__router_remove_iface(struct http_req *req);
int net__fips_list(struct http_req *req);
int net__fip_show(struct http_req *req);
int net__fip_create(struct http_req *req);
int net__fip_update(struct http_req *req);
int net__fip_delete(struct http_req *req);
/* Deletes port id with its addresses and groups, in the caller's
 * transaction. 0 or a DB_* code. */
int net__port_remove(struct db *db, const char *id);
/* Disassociates the floating IPs of port (being deleted), in the
 * caller's transaction. 0 or a DB_* code. */
int net__fips_unlink_port(struct db *db, const char *port);

/* ---- the host plan (plan.c) ---- */
/* The port columns net__plan_port() reads, in its order. */
#define NET_PLAN_PCOLS "id, network_id, mac_address, device_id, port_security, address_pairs"
/* A plan being made: the first database failure stays in rc (a partial
 * plan must never reach an agent); seen caches remote groups' members. */
struct net_plan_ctx {
    struct db *db;
    struct arena *a;
    json_t *seen;
    int rc;
};
/* Records rc in c when it is a failure; whether it was DB_OK. */
bool net__plan_q(struct net_plan_ctx *c, int rc);
/* Row i of r (NET_PLAN_PCOLS) as a plan PORT (new reference). */
json_t *net__plan_port(struct net_plan_ctx *c, struct db_res *r, int i);
/* Appends to out the routers with an interface on a network of nets
 * (an object keyed by network id), adding their other networks to nets. */
void net__plan_routers(struct net_plan_ctx *c, json_t *nets, json_t *out);

/* ---- listing (net_list.c) ----
 * One resource's listing as Neutron does it: filters on any listed
 * attribute (repeated keys: any of them), fields=, sort_key/sort_dir,
 * limit/marker with <collection>_links. The rows come as JSON objects
 * already rendered (with every attribute); filtering, sorting and paging
 * happen on them, which keeps every resource's SQL simple. */
int net__list_reply(struct http_req *req, const char *collection, json_t *items);
/* fields= applied to one rendered object (show). */
json_t *net__fields(struct http_req *req, json_t *obj);

/* A subnet as IPAM and the views need it (strings in an arena). */
struct net_subnet {
    const char *id, *project_id, *network_id, *name, *description, *cidr, *gateway;
    int version, prefix;
    bool dhcp;
    const char *ra_mode, *addr_mode;    /* NULL: unset */
    const char *dns, *routes, *pools;   /* JSON text */
    const char *subnetpool_id;          /* NULL: none */
    ip128 first, last;                  /* the cidr's range */
    int64_t created, updated, revision;
};

/* ---- subnets (api_subnets.c) ---- */
int net__subnets_list(struct http_req *req);
int net__subnet_show(struct http_req *req);
int net__subnet_create(struct http_req *req);
int net__subnet_update(struct http_req *req);
int net__subnet_delete(struct http_req *req);
/* The subnets of network (NULL: every subnet) into *out (arena). 0 or a
 * DB_* code. */
int net__subnets_of(struct db *db, struct arena *a, const char *network, struct net_subnet **out,
                    int *n);
/* Whether every port on s gets its EUI-64 address (slaac and
 * dhcpv6-stateless address modes). */
bool net__subnet_slaac(const struct net_subnet *s);

/* ---- subnet pools (api_subnetpools.c) ---- */
int net__subnetpools_list(struct http_req *req);
int net__subnetpool_show(struct http_req *req);
int net__subnetpool_create(struct http_req *req);
int net__subnetpool_update(struct http_req *req);
int net__subnetpool_delete(struct http_req *req);
/* Takes a cidr of version v for project from subnet pool `pool` (NULL:
 * the default pool of v), inside the caller's open transaction on db:
 * `cidr` when given (it must be free and inside the pool), else the first
 * free block of prefixlen (-1: the pool's default). Sets *cidr_out and
 * *pool_out (arena strings); -1 with the fault set otherwise. */
int net__subnetpool_alloc(struct http_req *req, struct db *db, const char *pool, int v,
                          const char *cidr, int64_t prefixlen, const char *project,
                          const char **cidr_out, const char **pool_out);

/* ---- RBAC policies (api_rbac.c) ---- */
int net__rbacs_list(struct http_req *req);
int net__rbac_show(struct http_req *req);
int net__rbac_create(struct http_req *req);
int net__rbac_update(struct http_req *req);
int net__rbac_delete(struct http_req *req);
/* SQL: the network (its id column) is shared with project ? by a policy. */
#define NET_RBAC_TO "id IN (SELECT object_id FROM net_rbac WHERE target_tenant = ?)"

/* ---- tags (api_tags.c): /v2.0/{collection}/{id}/tags[/{tag}] ---- */
int net__tags_list(struct http_req *req);
int net__tag_check(struct http_req *req);
int net__tags_replace(struct http_req *req);
int net__tag_add(struct http_req *req);
int net__tags_delete(struct http_req *req);
/* The view of resource id of collection ("networks", "ports" ...) as the
 * caller may see it, by the collection's own show handler: 0 with *out
 * (a new reference), -1 with its fault set, or 1 (nothing set) when the
 * collection is not one of standard resources (networks, subnets, ports,
 * routers, floatingips, security-groups, subnetpools). */
int net__resource_get(struct http_req *req, const char *collection, const char *id,
                      json_t **out);
/* Puts their real tags into the views of items that show "tags". */
void net__tags_fill(struct http_req *req, json_t *items);
/* The service's after hook: the tags of a single object answered, and a
 * deleted resource's tags removed. */
void net__tags_after(struct http_req *req);

/* ---- quotas (api_quotas.c) ---- */
int net__quotas_list(struct http_req *req);
int net__quota_show(struct http_req *req);
int net__quota_default(struct http_req *req);
int net__quota_details(struct http_req *req);
int net__quota_update(struct http_req *req);
int net__quota_delete(struct http_req *req);
/* 0 when project may make one more of resource ("network", "port" ...),
 * else -1 with Neutron's 409 OverQuota set. */
int net__quota_check(struct http_req *req, const char *project, const char *resource);

/* ---- network IP availability (api_ipavail.c) ---- */
int net__ipavail_list(struct http_req *req);
int net__ipavail_show(struct http_req *req);

/* ---- IPAM (ipam.c) ---- */
/* s's allocation pools as ranges (arena). */
int net__subnet_pools(struct arena *a, const struct net_subnet *s, ip128 **first, ip128 **last,
                      int *n);
/* An address on s for port (on network net, with mac): want when given,
 * the EUI-64 one on a SLAAC subnet, else one from the pools; written to
 * out. 0, -EINVAL (want is not on s), -EEXIST (taken), -ENOSPC (pools
 * full) or a DB_* code. The caller's transaction holds it. */
int net__ipam_allocate(struct db *db, struct arena *a, const struct net_subnet *s,
                       const char *port, const char *net, const char *mac, const char *want,
                       char out[46]);

/* A failure away from a request (code shared by the API and the calls
 * compute makes): status, Neutron's exception name, message. */
struct net_err {
    int status;
    const char *type;
    char msg[320];
};
/* Fills e; returns -1. */
int net__err(struct net_err *e, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A database failure rc (logged) as Neutron's 500; returns -1. */
int net__err_db(struct net_err *e, int rc);

/* ---- ports (api_ports.c) ---- */
/* A port to make (net__port_insert): mac NULL draws one; fixed_ips NULL
 * allocates automatically; auto_delete: made by compute for a server,
 * deleted with it. */
struct net_port_new {
    const char *id, *project, *network, *name, *desc, *mac, *device_id, *device_owner, *host,
        *vnic, *pairs;
    bool up, psec, auto_delete;
    json_t *fixed_ips;
    json_t *groups;     /* security group ids; NULL: the project's default (with psec) */
};
/* Inserts the port and its addresses in one transaction of its own
 * (drawing another MAC on a collision) and wakes the host agents. 0 or
 * -1 with e filled. */
int net__port_insert(struct db *db, struct arena *a, const struct net_port_new *p,
                     struct net_err *e);
/* Puts port in the security groups of ids (a JSON list of the port's
 * project's groups; NULL: its default group when psec, else none),
 * replacing its groups, in the caller's transaction. 0 or -1 with e. */
int net__port_groups(struct db *db, struct arena *a, const char *port, const char *project,
                     json_t *ids, bool psec, struct net_err *e);
/* Allocates port's addresses on network net (in the caller's
 * transaction): the fixed_ips of want (a JSON list; NULL: automatic). 0
 * or -1 with e filled. */
int net__allocate(struct db *db, struct arena *a, json_t *want, const char *port,
                  const char *net, const char *mac, const char *owner, struct net_err *e);
int net__ports_list(struct http_req *req);
int net__port_show(struct http_req *req);
int net__port_create(struct http_req *req);
int net__port_update(struct http_req *req);
int net__port_delete(struct http_req *req);
/* Makes network net's DHCP port match its DHCP subnets: created with an
 * address on each, an address added or dropped as subnets come and go,
 * deleted when none is left. Runs in the caller's transaction. 0 or a
 * DB_* / -errno code. */
int net__dhcp_port_sync(struct db *db, struct arena *a, const char *net, const char *project);

/* ---- networks (api_networks.c) ---- */
/* Network id as the caller may use it (own or, with shared, shared;
 * admin: any) into its owner and mtu; 404 / 403 recorded otherwise. */
int net__network_use(struct http_req *req, const char *id, bool shared_ok,
                     const char **owner, bool *port_security);
int net__networks_list(struct http_req *req);
int net__network_show(struct http_req *req);
int net__network_create(struct http_req *req);
int net__network_update(struct http_req *req);
int net__network_delete(struct http_req *req);

#endif
