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

const struct db_migration net_migrations[] = {
    {5001, m5001},
};
const int net_nmigrations = sizeof(net_migrations) / sizeof(net_migrations[0]);
