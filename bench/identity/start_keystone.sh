#!/bin/bash
# Start Keystone under uwsgi (config written by setup_keystone.sh). Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$RUN_DIR"
if pid_alive "$RUN_DIR/keystone.pid"; then log "keystone already running"; exit 0; fi
[ -f "$KS_DIR/keystone-uwsgi.ini" ] || { echo "run setup_keystone.sh first" >&2; exit 1; }
port_free "$KS_PORT" || { echo "127.0.0.1:$KS_PORT is taken by another process" >&2; exit 1; }
cd "$KS_DIR"
setsid /usr/bin/uwsgi_python3 --ini "$KS_DIR/keystone-uwsgi.ini" >/dev/null 2>&1 </dev/null &
for i in $(seq 1 50); do [ -s "$RUN_DIR/keystone.pid" ] && break; sleep 0.1; done
wait_http "$KS_URL/v3" 180
# lazy-apps: every worker loads Keystone after the first one answers; wait until all are done
/usr/bin/python3 "$ID_DIR/bench.py" settle --pids "pidfile:$RUN_DIR/keystone.pid" --max-wait 120
log "keystone started: uwsgi master pid $(cat "$RUN_DIR/keystone.pid"), $KS_URL"
