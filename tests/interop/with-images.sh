#!/usr/bin/env bash
# tests/interop/with-images.sh INTEROP_SCRIPT LIST - runs the interop script
# on LIST after giving the cloud what Tempest's compute tests boot: two
# different public images of the test guest (image_ref and image_ref_alt
# must differ), exported as INTEROP_IMAGE_REF / INTEROP_IMAGE_REF_ALT, and,
# when neutron is among INTEROP_SERVICES, the external network "public"
# (203.0.113.0/24, a documentation range: it lives only on a bridge the
# agent makes) as INTEROP_PUBLIC_NETWORK_ID. Runs under tests/api/daemon.py
# exec, which sets the OS_* credentials.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGE="${ONESTACK_GUEST_IMAGE:-$REPO/build/guest/onestack-guest.qcow2}"
if grep -q '^tempest.api.compute' "$2"; then
    [ -f "$IMAGE" ] || { echo "interop: $IMAGE missing (make guest-image)" >&2; exit 1; }
    for v in INTEROP_IMAGE_REF INTEROP_IMAGE_REF_ALT; do
        id=$(/usr/bin/openstack image create --disk-format qcow2 --container-format bare \
             --public --file "$IMAGE" -f value -c id "interop-${v,,}")
        export "$v=$id"
    done
fi
case " ${INTEROP_SERVICES-} " in *" neutron "*)
    id=$(/usr/bin/openstack network create --external -f value -c id public)
    /usr/bin/openstack subnet create --network "$id" --subnet-range 203.0.113.0/24 \
        --no-dhcp -f value -c id public-subnet >/dev/null
    export INTEROP_PUBLIC_NETWORK_ID="$id" INTEROP_FLOATING_NETWORK_NAME=public ;;
esac
exec bash "$1" "$2"
