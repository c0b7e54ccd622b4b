#!/bin/bash
# Storage benchmark: onestack's object store vs Debian's Swift (2.30, Zed), and onestack's image
# service vs Debian's Glance (25, Zed), in one run, with the raw disk as the limit.
#
#   bench/storage/run.sh
#
# All three keep their bytes on one loopback XFS file system ($ST_MNT, a sparse image under
# /srv/onestack-bench/storage), so they share one disk limit, measured there with dd. Swift runs
# its four main servers (workers = auto, tempauth, memcached); Glance its API (2 workers,
# SQLite, file store, no Keystone); onestack is built from this repository and runs
# `init` + `serve` with its data directory on the same mount, a `bench` project/user (member
# role) made through its Keystone API. Workloads (wrk -t1 at c=1 else -t2, the Lua scripts in
# wrk/; curl for the big transfers):
#   put4k     PUT 4 KiB objects, new names, c = 1, 8, 32
#   get4k     GET random 4 KiB objects of 1000, c = 1, 8, 32
#   big       PUT then GET one 256 MiB object (3 times); md5 checked after each GET
#   list10k   GET a 10,000-object container listing (JSON), c = 1 and 8
#   image1g   upload then download a 1 GiB image (2 times); md5 checked
#   disk      dd: 1 GiB write with fdatasync, direct read after dropping the page cache; and
#             nginx (sendfile) sending the 256 MiB object from the same mount: the HTTP floor
# The servers' RSS (all their processes) is sampled during each run. Raw results:
# bench/results/storage-<UTC stamp>.jsonl (+ .log); report: the storage section of
# docs/benchmarks.md and bench/results/storage-summary.md. Everything started is stopped.
# Takes about 15 minutes.
#
# Knobs: DURATION (10), SKIP_SWIFT=1, SKIP_GLANCE=1, WORKLOADS (put4k,get4k,big,list10k,image1g,disk),
# NO_REPORT=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10}
WL=" $(echo "${WORKLOADS:-disk,put4k,get4k,big,list10k,image1g}" | tr , ' ') "
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$REPO_DIR/bench/results/storage-$STAMP.jsonl
LOG=${OUT%.jsonl}.log
mkdir -p "$(dirname "$OUT")" "$RUN_DIR"
exec > >(tee -a "$LOG") 2>&1
T_START=$(date +%s)
DEADLINE=$(( T_START + ${BUDGET_S:-1500} ))
B=(/usr/bin/python3 "$ID_DIR/bench.py")
T=(/usr/bin/python3 "$ST_DIR/tool.py")
want() { case "$WL" in *" $1 "*) return 0;; *) return 1;; esac; }
OS_PIDS="pidfile:$RUN_DIR/onestack.pid"
SW_PIDS="pidfile:$RUN_DIR/swift-proxy.pid,$RUN_DIR/swift-account.pid,$RUN_DIR/swift-container.pid,$RUN_DIR/swift-object.pid,$RUN_DIR/memcached.pid"
GL_PIDS="pidfile:$RUN_DIR/glance-api.pid"
BIG=$ST_ROOT/obj256m IMG=$ST_ROOT/img1g   # sources on the backing disk, not in the store

cleanup() {
    "$ID_DIR/stop.sh" nginx || true
    "$ST_DIR/setup_swift.sh" stop || true
    "$ST_DIR/setup_glance.sh" stop || true
    stop_pidfile "$RUN_DIR/onestack.pid"
    rm -rf "$ST_MNT/onestack"
    log "stopped onestack, swift and glance; total $(( $(date +%s) - T_START )) s"
}
trap cleanup EXIT
log "storage benchmark $STAMP -> $OUT"

# ---- 1. packages, onestack build, stores ---------------------------------------------------
"$ST_DIR/install_packages.sh"
OS_COMMIT=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)
[ -z "$(git -C "$REPO_DIR" status --porcelain -- src Makefile 2>/dev/null)" ] || OS_COMMIT="$OS_COMMIT+uncommitted"
make -C "$REPO_DIR" -j2 >"$BENCH_ROOT/make.log" 2>&1 || { tail -20 "$BENCH_ROOT/make.log"; exit 1; }
mount_store
[ "$(stat -c %s "$BIG" 2>/dev/null)" = 268435456 ] || head -c 268435456 /dev/urandom > "$BIG"
[ "$(stat -c %s "$IMG" 2>/dev/null)" = 1073741824 ] || head -c 1073741824 /dev/urandom > "$IMG"
BIG_MD5=$(md5sum "$BIG" | cut -d' ' -f1)
IMG_MD5=$(md5sum "$IMG" | cut -d' ' -f1)

rm -rf "$ST_MNT/onestack"
OS_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$REPO_DIR/build/onestack" init --data "$ST_MNT/onestack" --listen "127.0.0.1:$OS_PORT" \
    --admin-password "$OS_ADMIN_PASS" >"$ST_ROOT/onestack-init.log" 2>&1 ||
    { cat "$ST_ROOT/onestack-init.log"; exit 1; }
setsid "$REPO_DIR/build/onestack" serve --data "$ST_MNT/onestack" \
    >"$ST_ROOT/onestack-serve.log" 2>&1 </dev/null &
echo $! > "$RUN_DIR/onestack.pid"
OS_ID=http://127.0.0.1:$OS_PORT/identity/v3
wait_http "$OS_ID" 60 || { tail -30 "$ST_ROOT/onestack-serve.log"; exit 1; }
eval "$(/usr/bin/python3 "$ID_DIR/ks_api_setup.py" "$OS_ID" "$OS_ADMIN_PASS" \
        "$BENCH_USER" "$BENCH_PASS" "$BENCH_PROJECT")"
OS_TOKEN=$SUBJECT_TOKEN
OS_SURL=http://127.0.0.1:$OS_PORT/object-store/v1/AUTH_$PROJECT_ID
OS_IMG=http://127.0.0.1:$OS_PORT/image/v2
log "onestack serving: $OS_SURL"
[ "${SKIP_SWIFT:-0}" = 1 ] || { "$ST_DIR/setup_swift.sh" start; read -r SW_SURL SW_TOKEN < <("${T[@]}" token-swift "$SW_URL/auth/v1.0" "$SW_USER" "$SW_KEY"); }
[ "${SKIP_GLANCE:-0}" = 1 ] || "$ST_DIR/setup_glance.sh" start

"${B[@]}" quiet --busy 30 --max-wait "${QUIET_WAIT:-180}"
"${B[@]}" facts --out "$OUT" --env "onestack_commit=$OS_COMMIT" --env "duration_s=$DURATION" \
    --env "store=XFS on a loop device ($ST_IMG)" \
    --env "versions=$(dpkg-query -W -f='${Package} ${Version}; ' swift glance-api wrk 2>/dev/null)" >/dev/null
idle_all() {
    "${B[@]}" idle --out "$OUT" --target onestack --pids "$OS_PIDS"
    [ "${SKIP_SWIFT:-0}" = 1 ] || "${B[@]}" idle --out "$OUT" --target swift --pids "$SW_PIDS"
    [ "${SKIP_GLANCE:-0}" = 1 ] || "${B[@]}" idle --out "$OUT" --target glance --pids "$GL_PIDS"
}
idle_all

# ---- 2. the raw disk -------------------------------------------------------------------------
if want disk; then
    for rep in 1 2 3; do
        "${B[@]}" cmd --out "$OUT" --name disk_1g --target disk --deadline $DEADLINE -- \
            "${T[@]}" disk "$ST_MNT" 1073741824
    done
    "${B[@]}" cmd --out "$OUT" --name hash --target cpu --deadline $DEADLINE -- "${T[@]}" hash
    # the HTTP floor for big GETs: nginx sending the same 256 MiB from the same mount
    # (sendfile, page cache dropped first, curl as the client)
    mkdir -p "$ST_MNT/floor" && cp "$BIG" "$ST_MNT/floor/obj256m" && chmod 755 "$ST_MNT/floor"
    "$ID_DIR/stop.sh" nginx
    NGINX_FILES=$ST_MNT/floor "$ID_DIR/setup_nginx.sh"
    for rep in 1 2 3; do
        "${B[@]}" cmd --out "$OUT" --name get256m --target nginx --pids "pidfile:$RUN_DIR/nginx.pid" \
            --deadline $DEADLINE -- "${T[@]}" get "http://127.0.0.1:$NGINX_PORT/files/obj256m" none "$BIG_MD5"
    done
    "$ID_DIR/stop.sh" nginx
    rm -rf "$ST_MNT/floor"
fi

# ---- 3. objects: onestack and swift ---------------------------------------------------------
objects() {   # TARGET PIDS STORAGE_URL TOKEN
    local t=$1 pids=$2 surl=$3 tok=$4 spath
    spath=/${surl#http://*/}
    local common=(--out "$OUT" --target "$t" --pids "$pids" --duration "$DURATION"
                  --deadline $DEADLINE --env "AUTH_TOKEN=$tok")
    if want put4k; then
        curl -sf -o /dev/null -X PUT -H "X-Auth-Token: $tok" "$surl/bench-put4k"
        log "$t: PUT 4 KiB"
        "${B[@]}" wrk "${common[@]}" --name put4k --url "${surl%%/v1*}" --script "$ST_DIR/wrk/put.lua" \
            --conc 1,8,32 --warmup 2 --env "CONT_PATH=$spath/bench-put4k" --env OBJ_SIZE=4096 --env PREFIX=p
    fi
    if want get4k; then
        "${T[@]}" populate "$surl/bench-get4k" "$tok" 1000 4096
        log "$t: GET 4 KiB"
        "${B[@]}" wrk "${common[@]}" --name get4k --url "${surl%%/v1*}" --script "$ST_DIR/wrk/get.lua" \
            --conc 1,8,32 --warmup 2 --env "CONT_PATH=$spath/bench-get4k" --env NOBJ=1000
    fi
    if want big; then
        curl -sf -o /dev/null -X PUT -H "X-Auth-Token: $tok" "$surl/bench-big"
        for rep in 1 2 3; do
            "${B[@]}" idle --out "$OUT" --target "$t" --pids "$pids"
            "${B[@]}" cmd --out "$OUT" --name put256m --target "$t" --pids "$pids" --deadline $DEADLINE -- \
                "${T[@]}" put "$surl/bench-big/obj256m" "$tok" "$BIG"
            "${B[@]}" cmd --out "$OUT" --name get256m --target "$t" --pids "$pids" --deadline $DEADLINE -- \
                "${T[@]}" get "$surl/bench-big/obj256m" "$tok" "$BIG_MD5"
        done
    fi
    if want list10k; then
        "${T[@]}" populate "$surl/bench-list10k" "$tok" 10000 64 16
        log "$t: listing of 10,000 objects"
        "${B[@]}" wrk "${common[@]}" --name list10k --url "$surl/bench-list10k?format=json" \
            --script "$ST_DIR/wrk/list.lua" --conc 1,8 --warmup 2
    fi
    "${B[@]}" idle --out "$OUT" --target "$t" --pids "$pids"
}
objects onestack "$OS_PIDS" "$OS_SURL" "$OS_TOKEN"
[ "${SKIP_SWIFT:-0}" = 1 ] || objects swift "$SW_PIDS" "$SW_SURL" "$SW_TOKEN"
[ "${SKIP_SWIFT:-0}" = 1 ] || "$ST_DIR/setup_swift.sh" stop   # leave the CPU to the image runs

# ---- 4. images: onestack and glance ---------------------------------------------------------
images() {   # TARGET PIDS IMAGE_V2_URL TOKEN
    local t=$1 pids=$2 url=$3 tok=$4 id
    for rep in 1 2; do
        id=$("${T[@]}" image-create "$url" "$tok" "bench-1g-$rep")
        "${B[@]}" idle --out "$OUT" --target "$t" --pids "$pids"
        "${B[@]}" cmd --out "$OUT" --name image_put1g --target "$t" --pids "$pids" --deadline $DEADLINE -- \
            "${T[@]}" put "$url/images/$id/file" "$tok" "$IMG"
        "${B[@]}" cmd --out "$OUT" --name image_get1g --target "$t" --pids "$pids" --deadline $DEADLINE -- \
            "${T[@]}" get "$url/images/$id/file" "$tok" "$IMG_MD5"
        curl -sf -o /dev/null -X DELETE -H "X-Auth-Token: $tok" "$url/images/$id"
    done
}
if want image1g; then
    images onestack "$OS_PIDS" "$OS_IMG" "$OS_TOKEN"
    [ "${SKIP_GLANCE:-0}" = 1 ] || images glance "$GL_PIDS" "$GL_URL/v2" none
fi
idle_all

# ---- 5. report -------------------------------------------------------------------------------
if [ "${NO_REPORT:-0}" != 1 ]; then
    /usr/bin/python3 "$ST_DIR/report.py" "$OUT" \
        --md "$REPO_DIR/docs/benchmarks.md" --summary "$REPO_DIR/bench/results/storage-summary.md"
fi
log "raw results: $OUT"
