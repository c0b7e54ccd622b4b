#!/bin/bash
# Idempotent: Debian's Keystone (2:22.x = OpenStack Zed) on 127.0.0.1:$KS_PORT for the benchmark.
#  - its own config dir ($KS_DIR/etc, found by the WSGI app through OS_KEYSTONE_CONFIG_DIR),
#    so /etc/keystone is left as the package installed it
#  - SQLite DB, Fernet tokens, bcrypt with password_hash_rounds = 12 (Keystone's default, set
#    explicitly so both servers hash with the same cost)
#  - uwsgi with the Debian-packaged /etc/keystone/keystone-uwsgi.ini settings (processes=8,
#    threads=32, lazy-apps, no keep-alive), bound to 127.0.0.1 only; apparmor lines dropped
#    (no apparmor here). KS_PROCESSES / KS_THREADS override the sizes.
#  - bootstrap admin (project admin, role admin); the bench project/user is made through the
#    API by run.sh (ks_api_setup.py), the same way as on onestack.
# RESET=1 wipes the DB and keys first.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${RESET:-0}" = 1 ]; then
    "$ID_DIR/stop.sh" keystone || true
    rm -rf "$KS_DIR"
fi
mkdir -p "$KS_DIR/etc" "$RUN_DIR"
CONF=$KS_DIR/etc/keystone.conf
cat > "$CONF" <<EOC
# Written by bench/identity/setup_keystone.sh (benchmark setup; not for production)
[DEFAULT]
log_dir = $KS_DIR
log_file = keystone.log
[catalog]
template_file = /etc/keystone/default_catalog.templates
[database]
connection = sqlite:///$KS_DIR/keystone.db
[fernet_tokens]
key_repository = $KS_DIR/fernet-keys/
[fernet_receipts]
key_repository = $KS_DIR/fernet-keys/
[credential]
key_repository = $KS_DIR/credential-keys/
[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = $PASSWORD_ROUNDS
[oslo_policy]
policy_dirs = /etc/keystone/policy.d
[token]
provider = fernet
EOC

KS_PROCESSES=${KS_PROCESSES:-8}
KS_THREADS=${KS_THREADS:-32}
sed -e '/apparmor/d' \
    -e "s/^processes = .*/processes = $KS_PROCESSES/" \
    -e "s/^threads = .*/threads = $KS_THREADS/" \
    -e "s#^logto = .*#logto = $KS_DIR/uwsgi.log#" \
    -e "s#^chdir = .*#chdir = $KS_DIR#" \
    /etc/keystone/keystone-uwsgi.ini > "$KS_DIR/keystone-uwsgi.ini"
cat >> "$KS_DIR/keystone-uwsgi.ini" <<EOC
plugins = python3
http-socket = 127.0.0.1:$KS_PORT
pidfile = $RUN_DIR/keystone.pid
env = OS_KEYSTONE_CONFIG_DIR=$KS_DIR/etc
EOC
chown -R keystone:keystone "$KS_DIR"

# keystone-manage prints a harmless eventlet traceback at exit ("Exception ignored in ...");
# its output goes to $KS_DIR/manage.log, shown only when a command fails.
km() {
    su -s /bin/sh keystone -c "keystone-manage --config-file $CONF $*" >>"$KS_DIR/manage.log" 2>&1 ||
        { tail -30 "$KS_DIR/manage.log" >&2; return 1; }
}
log "keystone: db_sync"
km db_sync
[ -f "$KS_DIR/fernet-keys/0" ] || keystone-manage --config-file "$CONF" fernet_setup \
    --keystone-user keystone --keystone-group keystone
[ -f "$KS_DIR/credential-keys/0" ] || keystone-manage --config-file "$CONF" credential_setup \
    --keystone-user keystone --keystone-group keystone
log "keystone: bootstrap"
km bootstrap --bootstrap-password "$KS_ADMIN_PASS" \
    --bootstrap-admin-url "$KS_URL/v3/" --bootstrap-internal-url "$KS_URL/v3/" \
    --bootstrap-public-url "$KS_URL/v3/" --bootstrap-region-id RegionOne
chown -R keystone:keystone "$KS_DIR"
"$ID_DIR/start_keystone.sh"
