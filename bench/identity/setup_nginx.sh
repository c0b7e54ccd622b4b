#!/bin/bash
# Idempotent: the floor server. Debian nginx-light on 127.0.0.1:$NGINX_PORT, worker_processes auto
# (one per core), access_log off, keep-alive on (up to 100000 requests a connection).
#   GET /200 -> return 200 "ok\n" : the cheapest possible HTTP response from a C server.
#   GET /files/<name> -> the file NGINX_FILES/<name> (sendfile), when NGINX_FILES is set: the
#                        floor for serving big files (bench/storage).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$NGINX_DIR/tmp" "$RUN_DIR"
chown www-data:www-data "$NGINX_DIR/tmp"
cat > "$NGINX_DIR/nginx.conf" <<EOC
# Written by bench/identity/setup_nginx.sh
user www-data;
worker_processes auto;
pid $RUN_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $NGINX_DIR/tmp;
  proxy_temp_path $NGINX_DIR/tmp;
  fastcgi_temp_path $NGINX_DIR/tmp;
  uwsgi_temp_path $NGINX_DIR/tmp;
  scgi_temp_path $NGINX_DIR/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /200 { return 200 "ok\n"; }
$([ -n "${NGINX_FILES:-}" ] && echo "    location /files/ { alias ${NGINX_FILES%/}/; sendfile on; }")
  }
}
EOC
nginx -q -t -c "$NGINX_DIR/nginx.conf"
if ! pid_alive "$RUN_DIR/nginx.pid"; then
    port_free "$NGINX_PORT" || { echo "127.0.0.1:$NGINX_PORT is taken by another process" >&2; exit 1; }
    nginx -c "$NGINX_DIR/nginx.conf"
fi
wait_http "http://127.0.0.1:$NGINX_PORT/200" 10
log "nginx floor started: master pid $(cat "$RUN_DIR/nginx.pid"), http://127.0.0.1:$NGINX_PORT/200"
