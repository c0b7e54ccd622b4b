/* network.h - the Neutron v2.0 API at /network (DESIGN.md §6): what other
 * services and main.c call. Its tables are its own (net_db.c); compute
 * and the host agent reach networks only through functions declared
 * here. */
#ifndef NETWORK_NETWORK_H
#define NETWORK_NETWORK_H

#include "core/db.h"

extern const struct db_migration net_migrations[];
extern const int net_nmigrations;

/* Registers the service's routes and policy defaults. 0 or -1. */
int net_service_init(void);

#endif
