# Shared settings for bench/storage (source this file; bash). Runtime state lives outside the
# repository, under $BENCH_ROOT/storage; all three stores (onestack, Swift, Glance) keep their
# bytes on one loopback XFS file system, $ST_MNT, so the raw-disk limit is the same for all.
. "$(dirname "${BASH_SOURCE[0]}")/../identity/lib.sh"
ST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ST_DIR
export ST_ROOT=$BENCH_ROOT/storage
export ST_IMG=$ST_ROOT/xfs.img ST_IMG_SIZE=${ST_IMG_SIZE:-16G}
export ST_MNT=$ST_ROOT/mnt
export SW_PORT=${SW_PORT:-8080} SW_OBJ_PORT=6200 SW_CONT_PORT=6201 SW_ACC_PORT=6202
export SW_URL=http://127.0.0.1:$SW_PORT
export SW_USER=test:tester SW_KEY=testing
export GL_PORT=${GL_PORT:-9292}
export GL_URL=http://127.0.0.1:$GL_PORT
export MEMCACHED_PORT=${MEMCACHED_PORT:-11211}

# mount_store: the loopback XFS image (sparse) at $ST_MNT, created on first use
mount_store() {
    mkdir -p "$ST_ROOT" "$ST_MNT"
    if [ ! -f "$ST_IMG" ]; then
        truncate -s "$ST_IMG_SIZE" "$ST_IMG"
        mkfs.xfs -q -f "$ST_IMG"
    fi
    mountpoint -q "$ST_MNT" || mount -o loop,noatime "$ST_IMG" "$ST_MNT"
}
