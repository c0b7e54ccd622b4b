#!/usr/bin/env bash
# tests/interop/run.sh [LIST...] - run OpenStack interop (RefStack) Tempest
# lists against a fresh onestack, in one Tempest run.
#
# Starts a private onestack exactly as the API tests do (tests/api/daemon.py:
# `init` + `serve` on a free loopback port, bcrypt cost 4, and the
# security-compliance settings Tempest assumes: lockout after 2 failures for
# 5 s, history of 2 passwords), runs shared/interop/run-interop.sh against it
# with the admin credentials, stops the daemon (a dirty exit is a failure), and
# ends with one line: `N passed, N failed, N skipped`.
#
#   LIST        default: every tests/interop/*.txt (identity, object, image,
#               network, compute: servers boot under QEMU with the test guest
#               image on real host networking, Tempest in the external namespace
#               (in-ext-ns.sh) SSHing into them; with-images.sh uploads the
#               images and makes the external network first)
#   ONESTACK_BIN, ONESTACK_DATABASE_URL   as for the API tests
#   INTEROP_SCRIPT   default <repo>/../shared/interop/run-interop.sh (CI clones
#                    the repository with shared/ beside it)
#   INTEROP_SERVICES services present besides keystone (default: "swift glance nova neutron")
# Exit status: non-zero if anything failed or nothing passed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INTEROP="${INTEROP_SCRIPT:-$REPO/../shared/interop/run-interop.sh}"
[ $# -gt 0 ] || set -- "$REPO"/tests/interop/*.txt
for l in "$@"; do
    [ -f "$l" ] || { echo "interop: list not found: $l" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 2; }
done
if [ ! -f "$INTEROP" ]; then
    echo "interop: $INTEROP not found (clone shared/ beside the repository or set INTEROP_SCRIPT)" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 2
fi

export INTEROP_SERVICES="${INTEROP_SERVICES-swift glance nova neutron}"   # cinder: not yet
export INTEROP_RESIZE=true
# Tempest runs in the agent's external namespace (in-ext-ns.sh) and SSHes
# into guests through floating IPs: the test guest lets root in by key.
export INTEROP_RUN_VALIDATION="${INTEROP_RUN_VALIDATION:-true}"
export INTEROP_SSH_USER=root
export INTEROP_COMPUTE_MAX_MICROVERSION=2.92
export INTEROP_EXTRA_CONF="${INTEROP_EXTRA_CONF-$REPO/tests/interop/tempest-extra.conf}"

# `tempest init` leaves a tempest.log in the current directory: run elsewhere.
work="$(mktemp -d /tmp/onestack-interop-XXXXXX)"
out="$work/run.log"
trap 'rm -rf "$work"' EXIT
LIST="$work/list.txt"
cat "$@" > "$LIST"
set +e
(cd "$work" && /usr/bin/python3 "$REPO/tests/api/daemon.py" exec \
    -e ONESTACK_COMPUTE_VIRT_DRIVER=qemu -- \
    bash "$REPO/tests/interop/in-ext-ns.sh" \
    bash "$REPO/tests/interop/with-images.sh" "$INTEROP" "$LIST") 2>&1 |
    tee "$out"
rc=${PIPESTATUS[0]}
set -e

line="$(grep -a -E '^interop: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$out" | tail -n 1 || true)"
if [ -n "$line" ]; then
    read -r passed failed skipped <<<"$(echo "$line" | sed -E 's/^interop: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/')"
else
    passed=0 failed=0 skipped=0
fi
# A run that never reported, passed nothing, or left the daemon unhappy
# (exit status, sanitizer report) counts as one failure more.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
    echo "interop: run failed (exit $rc) without failing tests: see above" >&2
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
