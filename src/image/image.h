/* image.h - the image service (Glance v2 API at /image): what main.c needs
 * to start it. */
#ifndef IMAGE_IMAGE_H
#define IMAGE_IMAGE_H

#include "core/db.h"

/* Sets up the image stores from [image] store / swift_project(_id) /
 * swift_container (DATA_DIR/images, its staging area, or the object
 * store), recovers the transfers a crash interrupted, then registers the
 * Glance routes and the policy defaults. Call before http_start(), with
 * the database pool open and the object service initialised. 0 or -1
 * (logged). */
int img_service_init(const char *data_dir);

/* Numbered schema migrations of the service, for db_migrate(); numbered
 * from 3501: issue 3's object service holds 3001-3500 of the shared
 * schema_migrations table. */
extern const struct db_migration img_migrations[];
extern const int img_nmigrations;

#endif
