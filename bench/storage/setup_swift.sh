#!/bin/bash
# Debian's Swift (2.30, Zed) as a "Swift All In One" on 127.0.0.1: proxy :8080 (tempauth,
# Debian's default pipeline, memcached), account/container/object servers, one replica, part
# power 10, one device d1 at $ST_MNT/swift/d1 (the shared XFS image), workers = auto (one per
# core). Only the four main servers run: no replicators, auditors or updaters to disturb the
# measurement. Idempotent: data and rings are kept; the configs are rewritten.
# Usage: setup_swift.sh start|stop
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SERVERS="proxy account container object"

stop_swift() {
    for s in $SERVERS; do stop_pidfile "$RUN_DIR/swift-$s.pid"; done
    stop_pidfile "$RUN_DIR/memcached.pid"
}
[ "${1:-start}" = stop ] && { stop_swift; exit 0; }

mount_store
mkdir -p "$ST_MNT/swift/d1" "$RUN_DIR" /etc/swift /var/cache/swift /var/run/swift
chown -R swift:swift "$ST_MNT/swift" /var/cache/swift /var/run/swift
[ -f /etc/swift/proxy-server.conf.dist ] || cp -a /etc/swift/proxy-server.conf /etc/swift/proxy-server.conf.dist
[ -f "$ST_ROOT/swift_hash" ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$ST_ROOT/swift_hash"
cat > /etc/swift/swift.conf <<CONF
[swift-hash]
swift_hash_path_suffix = $(cat "$ST_ROOT/swift_hash")
swift_hash_path_prefix = onestack-bench
[storage-policy:0]
name = Policy-0
default = yes
CONF
for s in object:$SW_OBJ_PORT container:$SW_CONT_PORT account:$SW_ACC_PORT; do
    n=${s%%:*} p=${s##*:}
    cat > /etc/swift/$n-server.conf <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $p
workers = auto
user = swift
devices = $ST_MNT/swift
mount_check = false
[pipeline:main]
pipeline = healthcheck $n-server
[app:$n-server]
use = egg:swift#$n
[filter:healthcheck]
use = egg:swift#healthcheck
CONF
    if [ ! -f /etc/swift/$n.ring.gz ]; then
        (cd /etc/swift && swift-ring-builder $n.builder create 10 1 1 &&
         swift-ring-builder $n.builder add r1z1-127.0.0.1:$p/d1 100 &&
         swift-ring-builder $n.builder rebalance) >/dev/null
    fi
done
sed -e "s/^bind_port = .*/bind_port = $SW_PORT\nbind_ip = 127.0.0.1\nuser = swift/" \
    -e "s/^workers = .*/workers = auto/" \
    -e "s/^use = egg:swift#proxy$/use = egg:swift#proxy\naccount_autocreate = true/" \
    /etc/swift/proxy-server.conf.dist > /etc/swift/proxy-server.conf
grep -q '^account_autocreate = true' /etc/swift/proxy-server.conf
grep -q 'tempauth' /etc/swift/proxy-server.conf
chown -R swift:swift /etc/swift

stop_swift
setsid memcached -u memcache -l 127.0.0.1 -p "$MEMCACHED_PORT" -m 64 </dev/null >/dev/null 2>&1 &
echo $! > "$RUN_DIR/memcached.pid"
for s in $SERVERS; do
    setsid swift-$s-server /etc/swift/$s-server.conf </dev/null >"$ST_ROOT/swift-$s.log" 2>&1 &
    echo $! > "$RUN_DIR/swift-$s.pid"
done
for i in $(seq 1 100); do
    curl -sf -o /dev/null -H "X-Auth-User: $SW_USER" -H "X-Auth-Key: $SW_KEY" "$SW_URL/auth/v1.0" && break
    sleep 0.3
done
curl -sf -o /dev/null -H "X-Auth-User: $SW_USER" -H "X-Auth-Key: $SW_KEY" "$SW_URL/auth/v1.0" ||
    { echo "swift did not start; logs in $ST_ROOT" >&2; tail -5 "$ST_ROOT"/swift-*.log >&2; exit 1; }
log "swift serving at $SW_URL (tempauth $SW_USER)"
