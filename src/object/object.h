/* object.h - the object storage service (Swift v1 API at /object-store):
 * what main.c needs to start it. */
#ifndef OBJECT_OBJECT_H
#define OBJECT_OBJECT_H

#include "core/db.h"

/* Registers the Swift routes, sets the store root DATA_DIR/objects and
 * starts the expirer (below). Call before http_start(), with the database
 * pool open. 0 or -1 (logged). */
int obj_service_init(const char *data_dir);

/* The expirer: a thread that reaps objects whose X-Delete-At has passed
 * every 2 s (and once at start). obj_expirer_stop() ends it and waits for
 * it; obj_expirer_start() registers that with atexit(), so a process that
 * returns from main stops it cleanly even without calling it. 0 or -1. */
int obj_expirer_start(void);
void obj_expirer_stop(void);
/* One sweep (up to 200 objects) on the calling thread: deletes expired
 * rows and their files. Returns how many went, or -1 without a database. */
int obj_expire_sweep(void);

/* Numbered schema migrations of the service, for db_migrate(); numbered
 * from 3001, as versions share one schema_migrations table with the
 * other services'. */
extern const struct db_migration obj_migrations[];
extern const int obj_nmigrations;

#endif
