/* net_db.c - the network service's tables. Every resource row carries
 * Neutron's standard attributes (description, created_at, updated_at,
 * revision_number); times are µs since the epoch. */
#include "network.h"

static const char m5001[] =
    "CREATE TABLE net_network ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,"
    "  description TEXT NOT NULL, admin_state_up INTEGER NOT NULL, shared INTEGER NOT NULL,"
    "  external INTEGER NOT NULL, mtu BIGINT NOT NULL, network_type TEXT NOT NULL,"
    "  physical_network TEXT, segmentation_id BIGINT,"
    "  port_security INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL);"
    "CREATE INDEX net_network_project ON net_network (project_id);";

/* Subnets, ports and their addresses. The primary key of net_ipalloc is
 * what keeps IPAM honest: two creates racing for one address cannot both
 * insert it, the loser tries another (ipam.c). JSON text columns hold
 * small lists (DNS servers, routes, pools, address pairs). */
static const char m5002[] =
    "CREATE TABLE net_subnet ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, network_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, description TEXT NOT NULL, ip_version INTEGER NOT NULL,"
    "  cidr TEXT NOT NULL, gateway_ip TEXT, enable_dhcp INTEGER NOT NULL,"
    "  ipv6_ra_mode TEXT, ipv6_address_mode TEXT, dns_nameservers TEXT NOT NULL,"
    "  host_routes TEXT NOT NULL, allocation_pools TEXT NOT NULL, subnetpool_id TEXT,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision BIGINT NOT NULL);"
    "CREATE INDEX net_subnet_network ON net_subnet (network_id);"
    "CREATE TABLE net_port ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, network_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, description TEXT NOT NULL, mac_address TEXT NOT NULL,"
    "  admin_state_up INTEGER NOT NULL, device_id TEXT NOT NULL, device_owner TEXT NOT NULL,"
    "  binding_host TEXT NOT NULL, binding_profile TEXT NOT NULL, vnic_type TEXT NOT NULL,"
    "  port_security INTEGER NOT NULL, address_pairs TEXT NOT NULL,"
    "  security_groups TEXT NOT NULL, created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL, revision BIGINT NOT NULL,"
    "  UNIQUE (network_id, mac_address));"
    "CREATE INDEX net_port_network ON net_port (network_id);"
    "CREATE INDEX net_port_device ON net_port (device_id);"
    "CREATE TABLE net_ipalloc ("
    "  subnet_id TEXT NOT NULL, ip_address TEXT NOT NULL, port_id TEXT NOT NULL,"
    "  network_id TEXT NOT NULL, PRIMARY KEY (subnet_id, ip_address));"
    "CREATE INDEX net_ipalloc_port ON net_ipalloc (port_id);";

/* Ports compute made for a server (Nova's "preserve_on_delete" false):
 * deleted with the server; others are only detached. */
static const char m5003[] =
    "ALTER TABLE net_port ADD COLUMN auto_delete INTEGER NOT NULL DEFAULT 0;";

/* Security groups and their rules; net_sg_default holds each project's
 * default group (its primary key settles two first requests racing to
 * make it); net_port_sg which groups a port is in. A rule's port bounds
 * are NULL for any; protocol NULL for any. */
static const char m5004[] =
    "CREATE TABLE net_sg ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,"
    "  description TEXT NOT NULL, is_default INTEGER NOT NULL, created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL, revision BIGINT NOT NULL);"
    "CREATE INDEX net_sg_project ON net_sg (project_id);"
    "CREATE TABLE net_sg_default (project_id TEXT PRIMARY KEY, group_id TEXT NOT NULL);"
    "CREATE TABLE net_sg_rule ("
    "  id TEXT PRIMARY KEY, group_id TEXT NOT NULL, project_id TEXT NOT NULL,"
    "  direction TEXT NOT NULL, ethertype TEXT NOT NULL, protocol TEXT, port_min BIGINT,"
    "  port_max BIGINT, remote_prefix TEXT, remote_group_id TEXT, description TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision BIGINT NOT NULL);"
    "CREATE INDEX net_sg_rule_group ON net_sg_rule (group_id);"
    "CREATE TABLE net_port_sg (port_id TEXT NOT NULL, group_id TEXT NOT NULL,"
    "  PRIMARY KEY (port_id, group_id));"
    "CREATE INDEX net_port_sg_group ON net_port_sg (group_id);";

/* Routers (their interfaces and gateway are ports with device_id the
 * router) and floating IPs (their address is held by a port of their
 * own on the external network, fip_port_id). */
static const char m5005[] =
    "CREATE TABLE net_router ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,"
    "  description TEXT NOT NULL, admin_state_up INTEGER NOT NULL, gw_network_id TEXT,"
    "  enable_snat INTEGER NOT NULL, routes TEXT NOT NULL, created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL, revision BIGINT NOT NULL);"
    "CREATE TABLE net_fip ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, floating_network_id TEXT NOT NULL,"
    "  floating_ip_address TEXT NOT NULL, fip_port_id TEXT NOT NULL, fixed_port_id TEXT,"
    "  fixed_ip_address TEXT, router_id TEXT, description TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision BIGINT NOT NULL);"
    "CREATE INDEX net_fip_router ON net_fip (router_id);"
    "CREATE INDEX net_fip_fixed ON net_fip (fixed_port_id);";

/* Subnet pools: prefixes is the compacted JSON list; default_quota NULL
 * for none. A subnet taken from a pool names it (net_subnet.subnetpool_id). */
static const char m5006[] =
    "CREATE TABLE net_subnetpool ("
    "  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,"
    "  description TEXT NOT NULL, ip_version INTEGER NOT NULL, prefixes TEXT NOT NULL,"
    "  min_prefixlen INTEGER NOT NULL, max_prefixlen INTEGER NOT NULL,"
    "  default_prefixlen INTEGER NOT NULL, shared INTEGER NOT NULL, is_default INTEGER NOT NULL,"
    "  default_quota BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL);"
    "CREATE INDEX net_subnet_pool ON net_subnet (subnetpool_id);";

/* Quota limits set for a project (none: the configured default). */
static const char m5007[] =
    "CREATE TABLE net_quota (project_id TEXT NOT NULL, resource TEXT NOT NULL,"
    "  hard_limit BIGINT NOT NULL, PRIMARY KEY (project_id, resource));";

/* Tags of any resource, by its id (ids are UUIDs: no clash). */
static const char m5008[] =
    "CREATE TABLE net_tag (resource_id TEXT NOT NULL, tag TEXT NOT NULL,"
    "  PRIMARY KEY (resource_id, tag));";

/* The quota check counts a project's rows on every create. */
static const char m5009[] =
    "CREATE INDEX net_port_project ON net_port (project_id);"
    "CREATE INDEX net_subnet_project ON net_subnet (project_id);"
    "CREATE INDEX net_sg_rule_project ON net_sg_rule (project_id);"
    "CREATE INDEX net_router_project ON net_router (project_id);"
    "CREATE INDEX net_fip_project ON net_fip (project_id);";

/* RBAC policies: networks shared with one project or all ("*"). */
static const char m5010[] =
    "CREATE TABLE net_rbac (id TEXT PRIMARY KEY, project_id TEXT NOT NULL,"
    "  object_type TEXT NOT NULL, object_id TEXT NOT NULL, action TEXT NOT NULL,"
    "  target_tenant TEXT NOT NULL);"
    "CREATE INDEX net_rbac_object ON net_rbac (object_id);"
    "CREATE INDEX net_rbac_target ON net_rbac (target_tenant);";

const struct db_migration net_migrations[] = {
    {5001, m5001},
    {5002, m5002},
    {5003, m5003},
    {5004, m5004},
    {5005, m5005},
    {5006, m5006},
    {5007, m5007},
    {5008, m5008},
    {5009, m5009},
    {5010, m5010},
};
const int net_nmigrations = sizeof(net_migrations) / sizeof(net_migrations[0]);
