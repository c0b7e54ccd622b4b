#!/bin/bash
# Debian's Glance (25, Zed) image API on 127.0.0.1:9292: eventlet server, workers = 2 (one per
# core), SQLite database, the filesystem store on the shared XFS image ($ST_MNT/glance), no
# Keystone (the paste pipeline without a flavor: an unauthenticated admin context, which only
# makes Glance's side of the comparison cheaper). Its own config dir under $ST_ROOT/glance;
# /etc/glance is not touched. Usage: setup_glance.sh start|stop
set -euo pipefail
. "$(dirname "$0")/lib.sh"
GD=$ST_ROOT/glance
[ "${1:-start}" = stop ] && { stop_pidfile "$RUN_DIR/glance-api.pid"; exit 0; }

mount_store
mkdir -p "$GD" "$ST_MNT/glance" "$ST_MNT/glance-staging" "$RUN_DIR"
cat > "$GD/glance-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $GL_PORT
workers = 2
log_file = $GD/glance-api.log
[database]
connection = sqlite:///$GD/glance.sqlite
[paste_deploy]
config_file = /etc/glance/glance-api-paste.ini
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $ST_MNT/glance/
[os_glance_staging_store]
filesystem_store_datadir = $ST_MNT/glance-staging/
[os_glance_tasks_store]
filesystem_store_datadir = $ST_MNT/glance-staging/
[oslo_concurrency]
lock_path = $GD/lock
CONF
[ -f "$GD/glance.sqlite" ] || glance-manage --config-file "$GD/glance-api.conf" db_sync >"$GD/db_sync.log" 2>&1
stop_pidfile "$RUN_DIR/glance-api.pid"
setsid glance-api --config-file "$GD/glance-api.conf" </dev/null >"$GD/stdout.log" 2>&1 &
echo $! > "$RUN_DIR/glance-api.pid"
wait_http "$GL_URL/v2/images" 60 || { tail -20 "$GD/glance-api.log" "$GD/stdout.log" >&2; exit 1; }
log "glance serving at $GL_URL (file store $ST_MNT/glance)"
