#!/usr/bin/env bash
# tests/run.sh - the body of `make test` (the Makefile builds build/onestack,
# build/asan/onestack, build/tests/*_test and the guest image
# build/guest/onestack-guest.qcow2 first, then calls this).
#
#   1. scripts/install-deps.sh --test
#   2. every C unit test binary build/tests/*_test
#   3. the API suite (tests/api, pytest) against build/asan/onestack on SQLite
#   4. the API suite against build/onestack on PostgreSQL (tests/pg.sh)
#   5. the interop Tempest tests: identity, object, image, network, compute
#      (tests/interop/run.sh)
#   6. the e2e tests (tests/e2e, pytest): boot build/guest/onestack-guest.qcow2
#      under QEMU TCG (config drive, metadata service, ssh, power button)
#
# Each part's counts are summed; the last line is `N passed, N failed, N skipped`.
# Exit status is non-zero if anything failed. A part that crashes or reports
# no counts counts as one failure.
#
#   TEST_PARTS="unit api-sqlite api-pg interop e2e"   run only some parts
#   PYTEST_ARGS="-k tokens"                           extra pytest arguments
#   PART_TIMEOUT=1200 INTEROP_TIMEOUT=2400            seconds a part (interop) may run
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 1
PARTS=" ${TEST_PARTS:-unit api-sqlite api-pg interop e2e} "
PYTEST=(/usr/bin/pytest-3 -q --tb=short -rfE ${PYTEST_ARGS:-})
PART_TIMEOUT=${PART_TIMEOUT:-1200}
# Interop gets longer: Debian's tempest sleeps 10 s before every subnet
# delete (subnets_client.delete_subnet), and stestr, with no timing history,
# splits the test classes between its two workers differently on each run.
# Measured here: 14.8 min when compute and network landed on different
# workers, over 20 min when one worker had both.
INTEROP_TIMEOUT=${INTEROP_TIMEOUT:-2400}
# The daemon is leak-checked: LeakSanitizer reports fail the API run.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total_p=0 total_f=0 total_s=0
summary=()
LOG="$(mktemp -d /tmp/onestack-test-logs-XXXXXX)"

want() { case "$PARTS" in *" $1 "*) return 0;; *) return 1;; esac; }
section() { printf '\n==== %s ====\n' "$*"; }
# A part's failure that its own log does not show (exit status, timeout: 124)
fail() { echo "$*" | tee -a "$LOG/failures.txt"; }
# After a part's command: a non-zero exit status rc ($2) is said in the
# failures list, and counts as one failure when no test failed (f is the
# caller's count of failed tests).
rc_check() { [ "$2" -eq 0 ] && return; fail "$1: exited with $2"; [ "$f" -gt 0 ] || f=1; }
record() {  # name passed failed skipped
    total_p=$((total_p + $2)); total_f=$((total_f + $3)); total_s=$((total_s + $4))
    summary+=("$(printf '%-12s %4d passed, %3d failed, %3d skipped' "$1" "$2" "$3" "$4")")
}

# Counts from a pytest -q log: "3 failed, 150 passed, 18 skipped, 1 error in 9.1s"
pytest_counts() {
    local line p f s e
    line="$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|errors?|deselected|xfailed|xpassed)' "$1" | tail -n 1)"
    [ -n "$line" ] || { echo "0 1 0"; return; }
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
    f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
    s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
    e=$(echo "$line" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+' || echo 0)
    echo "${p:-0} $(( ${f:-0} + ${e:-0} )) ${s:-0}"
}

# Runs the API suite; $1 = part name, $2 = binary, rest: env assignments
run_api() {
    local name=$1 bin=$2; shift 2
    local log="$LOG/$name.log" rc p f s
    if [ ! -x "$bin" ]; then
        fail "$name: $bin not built"; record "$name" 0 1 0; return
    fi
    env "$@" ONESTACK_BIN="$REPO/$bin" timeout -k 10 "$PART_TIMEOUT" \
        "${PYTEST[@]}" tests/api 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    read -r p f s <<<"$(pytest_counts "$log")"
    rc_check "$name" "$rc"
    record "$name" "$p" "$f" "$s"
}

section "dependencies"
if ! scripts/install-deps.sh --test; then
    fail "install-deps.sh failed"; record deps 0 1 0
fi

if want unit; then
    section "unit tests"
    up=0 uf=0 found=0
    for t in build/tests/*_test; do
        [ -x "$t" ] || continue
        found=1
        echo "--- $t"
        out="$LOG/$(basename "$t").log"
        timeout -k 5 300 "$t" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
        line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)"
        if [ -z "$line" ]; then
            fail "$t: no summary line (exit $rc)"; uf=$((uf + 1)); continue
        fi
        p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
        rc_check "$t" "$rc"
        up=$((up + p)); uf=$((uf + f))
    done
    [ $found = 1 ] || { fail "no unit test binaries in build/tests"; uf=$((uf + 1)); }
    record unit "$up" "$uf" 0
fi

if want api-sqlite; then
    section "API tests: build/asan/onestack, SQLite (ASAN_OPTIONS=$ASAN_OPTIONS)"
    run_api api-sqlite build/asan/onestack -u ONESTACK_DATABASE_URL
fi

PGDIR="/tmp/onestack-pg-$$"
cleanup() { [ -d "$PGDIR" ] && tests/pg.sh stop "$PGDIR" >/dev/null 2>&1; }
trap cleanup EXIT
if want api-pg; then
    section "API tests: build/onestack, PostgreSQL"
    if url="$(tests/pg.sh start "$PGDIR")"; then
        run_api api-pg build/onestack ONESTACK_DATABASE_URL="$url"
    else
        fail "could not start PostgreSQL"; record api-pg 0 1 0
    fi
    cleanup
fi

if want interop; then
    section "interop: Tempest identity, object, image, network and compute tests against build/onestack"
    log="$LOG/interop.log"
    ONESTACK_BIN="$REPO/build/onestack" timeout -k 10 "$INTEROP_TIMEOUT" tests/interop/run.sh 2>&1 |
        tee "$log" | grep -vE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'
    rc=${PIPESTATUS[0]}
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)"
    if [ -n "$line" ]; then
        read -r p f s <<<"$(echo "$line" | sed -E 's/([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/')"
    else
        p=0 f=1 s=0
    fi
    rc_check interop "$rc"
    record interop "$p" "$f" "$s"
fi

if want e2e; then
    section "e2e: the test guest image under QEMU TCG (tests/e2e)"
    log="$LOG/e2e.log"
    if [ ! -f build/guest/onestack-guest.qcow2 ]; then
        fail "e2e: build/guest/onestack-guest.qcow2 not built (make guest-image)"
        record e2e 0 1 0
    else
        timeout -k 10 "$PART_TIMEOUT" "${PYTEST[@]}" tests/e2e 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        read -r p f s <<<"$(pytest_counts "$log")"
        rc_check e2e "$rc"
        record e2e "$p" "$f" "$s"
    fi
fi

if [ "$total_f" -eq 0 ]; then
    rm -rf "$LOG"; section "summary"
else
    section "summary (logs of each part: $LOG)"
    # What failed, once more at the very end: CI shows only part of a long
    # output, and the tail is the part most likely to be read.
    echo "failures:"
    { cat "$LOG/failures.txt" 2>/dev/null
      grep -ahE '^(FAILED|ERROR) |\.\.\. FAILED|^ *(FAIL|ERROR): |run failed|Terminated' \
        "$LOG"/*.log 2>/dev/null; } | cut -c1-300 | head -n 40 | sed 's/^/  /'
fi
for l in "${summary[@]}"; do echo "  $l"; done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
