/* bootstrap.c - the data every onestack starts with, as keystone-manage
 * bootstrap makes it: the default domain, roles admin > member > reader,
 * the admin user and project (with admin on the project and the system),
 * the region and the service catalog. Each step only adds what is missing,
 * so `onestack init` may run twice and a data dir made by an older build
 * gains new catalog entries when `serve` starts. */
#include "identity.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

/* Every service this onestack serves: catalog type, name and URL path. A
 * later service adds its line here. */
static const struct {
    const char *type, *name, *path;
} catalog[] = {
    {"identity", "keystone", "/identity"},
    {"object-store", "swift", "/object-store/v1/AUTH_$(project_id)s"},
    {"image", "glance", "/image"},
    {"placement", "placement", "/placement"},
    {"compute", "nova", "/compute/v2.1"},
    {"network", "neutron", "/network"},
};

static int
ensure(struct db *db, struct arena *a, const char *check, const char *insert,
       const char *fmt, const char *p1, const char *p2, const char *p3, const char *p4)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, check, "s", p1);
    if (rc != DB_OK || r->nrows)
        return rc;
    return db_exec(db, NULL, NULL, insert, fmt, p1, p2, p3, p4);
}

/* Id of the role named name, created (global) when missing. */
static const char *
role_id(struct db *db, struct arena *a, const char *name)
{
    struct db_res *r;
    if (db_exec(db, a, &r, "SELECT id FROM role WHERE name = ? AND domain_id = ?", "ss", name,
                IDN_NULL_DOMAIN) != DB_OK)
        return NULL;
    if (r->nrows)
        return db_val(r, 0, 0);
    char *id = arena_alloc(a, 33);
    uuid_hex(id);
    /* keystone-manage bootstrap makes its roles immutable, too */
    if (db_exec(db, NULL, NULL,
                "INSERT INTO role (id, name, domain_id, options) VALUES (?, ?, ?, ?)", "ssss",
                id, name, IDN_NULL_DOMAIN, "{\"immutable\": true}") != DB_OK)
        return NULL;
    return id;
}

static int
grant(struct db *db, const char *type, const char *actor, const char *target,
      const char *role)
{
    return db_exec(db, NULL, NULL,
                   "INSERT INTO assignment (type, actor_id, target_id, role_id, inherited) "
                   "VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                   "ssss", type, actor, target, role);
}

static int
ensure_catalog(struct db *db, struct arena *a, const char *public_url, const char *region)
{
    int rc = ensure(db, a, "SELECT 1 FROM region WHERE id = ?",
                    "INSERT INTO region (id, description) VALUES (?, '')", "s", region, NULL,
                    NULL, NULL);
    for (size_t i = 0; rc == DB_OK && i < sizeof(catalog) / sizeof(catalog[0]); i++) {
        struct db_res *r;
        if ((rc = db_exec(db, a, &r, "SELECT id FROM service WHERE type = ?", "s",
                          catalog[i].type)) != DB_OK || r->nrows)
            continue;
        char sid[33];
        uuid_hex(sid);
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO service (id, type, name, description, enabled) "
                     "VALUES (?, ?, ?, ?, 1)", "ssss", sid, catalog[i].type, catalog[i].name,
                     arena_printf(a, "onestack %s service", catalog[i].type));
        static const char *ifaces[] = {"public", "internal", "admin"};
        for (int k = 0; rc == DB_OK && k < 3; k++) {
            char eid[33];
            uuid_hex(eid);
            rc = db_exec(db, NULL, NULL,
                         "INSERT INTO endpoint (id, interface, service_id, url, region_id, "
                         "enabled) VALUES (?, ?, ?, ?, ?, 1)", "sssss", eid, ifaces[k], sid,
                         arena_printf(a, "%s%s", public_url, catalog[i].path), region);
        }
        if (rc == DB_OK)
            log_info(NULL, "bootstrap: catalog entry for %s at %s%s", catalog[i].type,
                     public_url, catalog[i].path);
    }
    return rc;
}

int
idn_bootstrap(struct db *db, const char *admin_pw, const char *public_url, const char *region)
{
    struct arena *a = arena_new();
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = ensure(db, a, "SELECT 1 FROM project WHERE id = ?",
                    "INSERT INTO project (id, name, domain_id, description, enabled, "
                    "is_domain) VALUES (?, ?, ?, ?, 1, 1)", "ssss", IDN_DEFAULT_DOMAIN,
                    "Default", IDN_ROOT_DOMAIN, "The default domain");
    const char *admin = NULL, *member = NULL, *reader = NULL;
    if (rc == DB_OK && (!(admin = role_id(db, a, "admin")) ||
                        !(member = role_id(db, a, "member")) ||
                        !(reader = role_id(db, a, "reader")) ||
                        /* the object store's reseller role (account quotas),
                         * as swift's keystoneauth names it by default */
                        !role_id(db, a, "ResellerAdmin")))
        rc = DB_ERR;
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL,
                     "INSERT INTO implied_role (prior_role_id, implied_role_id) VALUES "
                     "(?, ?), (?, ?) ON CONFLICT DO NOTHING",
                     "ssss", admin, member, member, reader);

    struct db_res *r = NULL;
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "SELECT id FROM users WHERE name = 'admin' AND domain_id = ?",
                     "s", IDN_DEFAULT_DOMAIN);
    if (rc == DB_OK && r->nrows == 0 && admin_pw) {
        char uid[33], pid[33], hash[128], pwid[33];
        struct db_res *p = NULL;
        uuid_hex(uid);
        uuid_hex(pid);
        uuid_hex(pwid);
        rc = db_exec(db, a, &p, "SELECT id FROM project WHERE name = 'admin' AND "
                                "domain_id = ? AND is_domain = 0", "s", IDN_DEFAULT_DOMAIN);
        const char *proj = rc == DB_OK && p->nrows ? db_val(p, 0, 0) : pid;
        if (rc == DB_OK && !p->nrows)
            rc = db_exec(db, NULL, NULL,
                         "INSERT INTO project (id, name, domain_id, description, enabled, "
                         "parent_id, is_domain) VALUES (?, 'admin', ?, ?, 1, ?, 0)", "ssss",
                         pid, IDN_DEFAULT_DOMAIN,
                         "Bootstrap project for initializing the cloud.", IDN_DEFAULT_DOMAIN);
        if (rc == DB_OK && pw_hash(admin_pw, hash) < 0)
            rc = DB_ERR;
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL,
                         "INSERT INTO users (id, domain_id, name, enabled, created_at, "
                         "default_project_id) VALUES (?, ?, 'admin', 1, ?, ?)",
                         "ssis", uid, IDN_DEFAULT_DOMAIN, now_us(), proj);
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL,
                         "INSERT INTO password (id, user_id, hash, created_at) "
                         "VALUES (?, ?, ?, ?)", "sssi", pwid, uid, hash, now_us());
        if (rc == DB_OK)
            rc = grant(db, "UserProject", uid, proj, admin);
        if (rc == DB_OK)
            rc = grant(db, "UserSystem", uid, "system", admin);
        if (rc == DB_OK)
            log_info(NULL, "bootstrap: admin user and project created");
    }
    if (rc == DB_OK)
        rc = ensure_catalog(db, a, public_url, region);
    rc = db_end(db, rc);
    arena_free(a);
    return rc;
}
