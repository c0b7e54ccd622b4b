/* object.h - the object storage service (Swift v1 API at /object-store):
 * what main.c needs to start it. */
#ifndef OBJECT_OBJECT_H
#define OBJECT_OBJECT_H

#include "core/db.h"

/* Registers the Swift routes and sets the store root DATA_DIR/objects.
 * Call before http_start(). 0 or -1 (logged). */
int obj_service_init(const char *data_dir);

/* Numbered schema migrations of the service, for db_migrate(); numbered
 * from 3001, as versions share one schema_migrations table with the
 * other services'. */
extern const struct db_migration obj_migrations[];
extern const int obj_nmigrations;

#endif
