#!/usr/bin/env bash
# tests/interop/in-ext-ns.sh COMMAND... - runs COMMAND inside the namespace
# the agent uses as the world beyond external networks (onestack-ext, its
# default [network] external_namespace), so that Tempest reaches servers'
# floating IPs as a user outside the cloud would and can SSH into guests
# (run_validation).
#
# The API listens on the root namespace's loopback (OS_AUTH_URL's port, set
# by tests/api/daemon.py exec). It is relayed into the namespace's own
# loopback, same port, through a unix socket (two socat processes): no
# address, route or NAT joins the two namespaces, so guests can reach
# neither the host nor anything beyond it. The namespace is made here when
# missing (the agent adopts it and never removes it) and removed at the end
# when this script made it.
set -euo pipefail
NS=onestack-ext
url="${OS_AUTH_URL:?OS_AUTH_URL is not set}"
hostport="${url#*://}"
hostport="${hostport%%/*}"
port="${hostport##*:}"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "in-ext-ns: no port in $url" >&2; exit 2; }

made=0
if [ ! -e "/run/netns/$NS" ]; then
    ip netns add "$NS"
    made=1
fi
ip -n "$NS" link set lo up
sock="$(mktemp -u /tmp/onestack-api-relay-XXXXXX.sock)"
socat "UNIX-LISTEN:$sock,fork,mode=600" "TCP:127.0.0.1:$port" &
out=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "in-ext-ns: the relay socket $sock did not appear" >&2; exit 2; }
ip netns exec "$NS" socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" \
    "UNIX-CONNECT:$sock" &
in=$!
cleanup() {
    kill "$out" "$in" 2>/dev/null || true
    wait "$out" "$in" 2>/dev/null || true
    rm -f "$sock"
    if [ "$made" = 1 ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap cleanup EXIT
relayed=0
for _ in $(seq 50); do
    ip netns exec "$NS" curl -fsS -o /dev/null "$url" 2>/dev/null && { relayed=1; break; }
    sleep 0.1
done
[ "$relayed" = 1 ] || { echo "in-ext-ns: $url does not answer inside $NS" >&2; exit 2; }
set +e
ip netns exec "$NS" "$@"
rc=$?
exit "$rc"
