# Shared settings and helpers for bench/identity (source this file; bash).
# Runtime state lives outside the repository, under $BENCH_ROOT.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin   # Debian python3, not pyenv
ID_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$ID_DIR/../.." && pwd)"
export ID_DIR REPO_DIR
export BENCH_ROOT=${BENCH_ROOT:-/srv/onestack-bench}
export RUN_DIR=$BENCH_ROOT/run                     # pid files
export KS_DIR=$BENCH_ROOT/keystone                 # keystone.conf, SQLite DB, keys, logs
export KS_PORT=${KS_PORT:-5000}
export KS_URL=http://127.0.0.1:$KS_PORT
export KS_ADMIN_PASS=${KS_ADMIN_PASS:-bench-admin-pw}
export BENCH_USER=bench BENCH_PROJECT=bench BENCH_PASS=${BENCH_PASS:-bench-user-pw}
export NGINX_DIR=$BENCH_ROOT/nginx
export NGINX_PORT=${NGINX_PORT:-8088}
export OS_ADMIN_PASS=${OS_ADMIN_PASS:-bench-admin-pw}
export PASSWORD_ROUNDS=12                          # bcrypt cost on both servers

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# wait_http URL TIMEOUT_S: until anything answers HTTP at URL
wait_http() {
    local i
    for i in $(seq 1 $(( ${2:-60} * 5 ))); do
        curl -s -o /dev/null -m 2 "$1" && return 0
        sleep 0.2
    done
    echo "timeout waiting for $1" >&2
    return 1
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile FILE [SIGNAL]: stop exactly the process named in FILE (never by name)
stop_pidfile() {
    local pf=$1 sig=${2:-TERM} p i
    if pid_alive "$pf"; then
        p=$(cat "$pf")
        kill -s "$sig" "$p" 2>/dev/null || true
        for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
    fi
    rm -f "$pf"
}

# port_free PORT: true if nothing listens on 127.0.0.1:PORT
port_free() {
    ! /usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}
