/* schema.c - identity's numbered migrations. Never edit a released one;
 * add the next number instead. SQL is the subset SQLite and PostgreSQL
 * share: TEXT ids (uuid4 hex), INTEGER 0/1 booleans, BIGINT microsecond
 * timestamps, JSON kept as TEXT. */
#include "identity.h"

static const char m1[] =
    /* Domains are projects with is_domain = 1 whose domain_id is the root
     * sentinel, as in Keystone, so one uniqueness rule covers both. */
    "CREATE TABLE project ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL,"
    "  description TEXT, enabled INTEGER NOT NULL DEFAULT 1,"
    "  parent_id TEXT, is_domain INTEGER NOT NULL DEFAULT 0, extra TEXT,"
    "  created_at BIGINT NOT NULL DEFAULT 0,"
    "  UNIQUE (domain_id, name));"
    "CREATE TABLE project_tag ("
    "  project_id TEXT NOT NULL REFERENCES project(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL, PRIMARY KEY (project_id, name));"
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY, domain_id TEXT NOT NULL REFERENCES project(id),"
    "  name TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    "  default_project_id TEXT, description TEXT, email TEXT, extra TEXT,"
    "  options TEXT, created_at BIGINT NOT NULL DEFAULT 0, last_active_at BIGINT,"
    "  failed_auth_count INTEGER NOT NULL DEFAULT 0, failed_auth_at BIGINT,"
    "  UNIQUE (domain_id, name));"
    "CREATE TABLE password ("
    "  id TEXT PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT,"
    "  self_service INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX password_user ON password (user_id, created_at);"
    "CREATE TABLE groups ("
    "  id TEXT PRIMARY KEY, domain_id TEXT NOT NULL REFERENCES project(id),"
    "  name TEXT NOT NULL, description TEXT, extra TEXT,"
    "  UNIQUE (domain_id, name));"
    "CREATE TABLE user_group ("
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (user_id, group_id));"
    /* domain_id '<<null>>' marks a global role so UNIQUE works on both
     * engines (NULLs never collide), as Keystone's NULL_DOMAIN_ID does */
    "CREATE TABLE role ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  domain_id TEXT NOT NULL DEFAULT '<<null>>', description TEXT, options TEXT,"
    "  UNIQUE (name, domain_id));"
    "CREATE TABLE implied_role ("
    "  prior_role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,"
    "  implied_role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (prior_role_id, implied_role_id));"
    /* type: UserProject GroupProject UserDomain GroupDomain UserSystem
     * GroupSystem; target_id 'system' for the system scope */
    "CREATE TABLE assignment ("
    "  type TEXT NOT NULL, actor_id TEXT NOT NULL, target_id TEXT NOT NULL,"
    "  role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,"
    "  inherited INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (type, actor_id, target_id, role_id, inherited));"
    "CREATE INDEX assignment_target ON assignment (target_id);"
    "CREATE INDEX assignment_actor ON assignment (actor_id);"
    "CREATE TABLE region ("
    "  id TEXT PRIMARY KEY, description TEXT, parent_region_id TEXT, extra TEXT);"
    "CREATE TABLE service ("
    "  id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT, description TEXT,"
    "  enabled INTEGER NOT NULL DEFAULT 1, extra TEXT);"
    "CREATE TABLE endpoint ("
    "  id TEXT PRIMARY KEY, interface TEXT NOT NULL,"
    "  service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,"
    "  url TEXT NOT NULL, region_id TEXT, enabled INTEGER NOT NULL DEFAULT 1,"
    "  extra TEXT);"
    "CREATE TABLE application_credential ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,"
    "  description TEXT,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  project_id TEXT, expires_at BIGINT, unrestricted INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL DEFAULT 0,"
    "  UNIQUE (user_id, name));"
    "CREATE TABLE application_credential_role ("
    "  application_credential_id TEXT NOT NULL"
    "    REFERENCES application_credential(id) ON DELETE CASCADE,"
    "  role_id TEXT NOT NULL,"
    "  PRIMARY KEY (application_credential_id, role_id));"
    "CREATE TABLE credential ("
    "  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT,"
    "  type TEXT NOT NULL, blob TEXT NOT NULL, extra TEXT);"
    "CREATE INDEX credential_user ON credential (user_id);"
    /* a token is revoked when any event matches it and it was issued at or
     * before issued_before (µs) */
    "CREATE TABLE revocation_event ("
    "  id TEXT PRIMARY KEY, user_id TEXT, project_id TEXT, domain_id TEXT,"
    "  audit_id TEXT, audit_chain_id TEXT, issued_before BIGINT NOT NULL,"
    "  revoked_at BIGINT NOT NULL);";

const struct db_migration idn_migrations[] = {
    {1, m1},
};
const int idn_nmigrations = sizeof(idn_migrations) / sizeof(idn_migrations[0]);
