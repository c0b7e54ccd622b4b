/* network.h - the Neutron v2.0 API at /network (DESIGN.md §6): what other
 * services and main.c call. Its tables are its own (net_db.c); compute
 * and the host agent reach networks only through functions declared
 * here. */
#ifndef NETWORK_NETWORK_H
#define NETWORK_NETWORK_H

#include "core/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct arena;
struct http_req;

extern const struct db_migration net_migrations[];
extern const int net_nmigrations;

/* Registers the service's routes and policy defaults. 0 or -1. */
int net_service_init(void);

/* ---- for compute (server_ports.c) ---- */

/* A new server's networking as its create asked for it. */
struct net_server_req {
    const char *project, *server;   /* the server's project and id */
    bool admin;                     /* the caller may use any project's network or port */
    json_t *networks;               /* Nova's "networks": list, "auto", "none" or NULL */
    json_t *groups;                 /* Nova's "security_groups" ([{"name"}]) or NULL */
};
/* Makes (or takes over) the ports of server q->server, unbound. 0, or
 * the HTTP status for the create to answer with and Nova's message in
 * msg; on failure nothing this call made is left. Not in a transaction. */
int net_server_ports(struct db *db, struct arena *a, const struct net_server_req *q, char *msg,
                     size_t len);
/* Binds server's ports to host (NULL: unbinds them), in the caller's
 * transaction. 0 or a DB_* code. */
int net_server_bind(struct db *db, const char *server, const char *host);
/* Releases server's ports: those made for it are deleted with their
 * addresses, others detached. In the caller's transaction. 0 or a DB_*
 * code. */
int net_server_release(struct db *db, const char *server);
/* Nova's "addresses" of servers as {server id: {network name: [{version,
 * addr, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr}]}} (new reference):
 * of server when given, else of project's servers (NULL: all). NULL when
 * the database fails. */
json_t *net_server_addresses(struct db *db, struct arena *a, const char *project,
                             const char *server);

/* ---- Nova's security group API (nova_secgroups.c) ---- */
/* Handlers for compute's routes (the caller checked the microversion,
 * up to 2.35): they answer in Nova's shapes and codes from Neutron's
 * groups. {group_id} / {rule_id} are their path parameters. */
int net_nova_groups_list(struct http_req *req);
int net_nova_group_create(struct http_req *req);
int net_nova_group_show(struct http_req *req);
int net_nova_group_update(struct http_req *req);
int net_nova_group_delete(struct http_req *req);
int net_nova_rule_create(struct http_req *req);
int net_nova_rule_delete(struct http_req *req);
/* GET /servers/{id}/os-security-groups: the groups of server's ports. */
int net_nova_server_groups(struct http_req *req, const char *server);
/* addSecurityGroup (add) / removeSecurityGroup with Nova's argument
 * arg ({"name": group name or id}) on every port of server. */
int net_nova_server_group_action(struct http_req *req, const char *server, json_t *arg,
                                 bool add);

/* Nova's os-interface views ({port_id, net_id, mac_addr, port_state,
 * fixed_ips}) of server's ports (port NULL: all, else that one), in
 * creation order; NULL when the database fails. New reference. */
json_t *net_server_interfaces(struct db *db, struct arena *a, const char *server,
                              const char *port);
/* Attaches a port to running server q->server as Nova's
 * interfaceAttachment att asks ({net_id, fixed_ips} makes one, {port_id}
 * takes one over, neither: the project's one usable network), bound to
 * host. 0 with its id in port_out, or the HTTP status with Nova's
 * message in msg (nothing left behind). Not in a transaction. */
int net_server_attach(struct db *db, struct arena *a, const struct net_server_req *q,
                      json_t *att, const char *host, char port_out[37], char *msg, size_t len);
/* Detaches port from server (a port made for it is deleted). 0,
 * -ENOENT when the server has no such port, or a DB_* code. */
int net_server_detach(struct db *db, struct arena *a, const char *server, const char *port);
/* Nova's "security_groups" of servers as {server id: [{"name"}]} (names
 * of the groups on their ports, each once), chosen as for
 * net_server_addresses; a server without groups is absent. NULL when the
 * database fails. New reference. */
json_t *net_server_groups(struct db *db, struct arena *a, const char *project,
                          const char *server);

/* Registers the host plan maker (plan.c) with the host agents' API, after
 * checking [network] external_namespace. 0, or -1 (logged) when that
 * setting cannot name a namespace: the daemon must not start. */
int net_plan_register(void);

#endif
