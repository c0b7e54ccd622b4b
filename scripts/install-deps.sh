#!/usr/bin/env bash
# install-deps.sh - install what onestack needs on Debian 12 (run as root).
#
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --client plus the `openstack` CLI (the all-in-one
#                                    set-up installs it, so the cloud is usable)
#   scripts/install-deps.sh --test   plus what `make test` needs (clients,
#                                    tempest, pytest, PostgreSQL server, curl,
#                                    QEMU and the tools that build the test
#                                    guest image), and downloads (never
#                                    installs) the guest image's own Debian
#                                    packages into build/guest/debs
#
# Idempotent and quick when everything is already there: the package list is
# checked with dpkg-query first, and apt-get (including `apt-get update`) only
# runs when something is missing.
set -euo pipefail

BUILD_PKGS=(build-essential pkg-config libmicrohttpd-dev libjansson-dev
            libsqlite3-dev libpq-dev libssl-dev libcrypt-dev uuid-dev libinih-dev
            zlib1g-dev libbz2-dev)
CLIENT_PKGS=(python3-openstackclient curl)
# Every Python module the tests import, named rather than assumed to come
# along: python3-swift and python3-webob because some API tests compare
# answers with Swift's and Glance's own code (listing formats, Accept
# negotiation, webob fault bodies).
TEST_PKGS=(python3-openstackclient python3-openstacksdk python3-pytest
           python3-requests python3-swiftclient python3-swift python3-webob
           python3-jsonschema python3-cryptography python3-keystoneauth1
           python3-osc-placement tempest postgresql curl socat)
# QEMU for the e2e tests, and what tools/build-guest-image.sh runs on the host
# (sfdisk from fdisk, mkfs.vfat, mtools, syslinux + its MBR, cpio), genisoimage
# for config drives, ssh for logging in, and the host networking (nft,
# dnsmasq, ip, conntrack; nc for its tests) and noVNC's pages for the
# console proxy. Installed without Recommends:
# qemu-system-x86 would otherwise pull in the GTK/SDL GUI and OVMF (~200 MB)
# that a headless test never uses.
VM_PKGS=(qemu-system-x86 qemu-utils syslinux syslinux-common mtools dosfstools
         fdisk cpio genisoimage openssh-client
         nftables dnsmasq-base iproute2 conntrack netcat-openbsd novnc)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkgs=("${BUILD_PKGS[@]}")
vm=0
for arg in "$@"; do
    case "$arg" in
        # the all-in-one boots servers: QEMU, qemu-img, genisoimage, and
        # the tools that build the test guest image
        --client) pkgs+=("${CLIENT_PKGS[@]}"); vm=1 ;;
        --test) pkgs+=("${TEST_PKGS[@]}"); vm=1 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "install-deps.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

# The guest image's packages (kernel, busybox, dropbear, libraries) must not
# be installed on the host - a second kernel in /boot is the last thing a
# cloud host wants - so they are only downloaded, once, with `apt-get
# download`; the image build unpacks them with dpkg-deb -x.
fetch_guest_debs() {
    [ $vm -eq 1 ] || return 0
    "$REPO/tools/build-guest-image.sh" --fetch
}

# Prints the packages of "$@" that are not installed (one dpkg-query for all:
# it prints "name installed" for each installed package).
missing_of() {
    local installed p
    installed=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null |
                  awk '$2 == "installed" { printf "%s ", $1 }' || true) "
    for p in "$@"; do
        case "$installed" in *" $p "*) ;; *) printf '%s\n' "$p" ;; esac
    done
}
mapfile -t missing < <(missing_of "${pkgs[@]}")
vm_missing=()
[ $vm -eq 1 ] && mapfile -t vm_missing < <(missing_of "${VM_PKGS[@]}")
if [ ${#missing[@]} -eq 0 ] && [ ${#vm_missing[@]} -eq 0 ]; then
    fetch_guest_debs
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: missing packages (${missing[*]} ${vm_missing[*]}); run as root" >&2
    exit 1
fi
echo "install-deps.sh: installing ${missing[*]} ${vm_missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@" </dev/null; }
# Only refresh the package lists when a package is not known at all or the
# install fails with stale lists.
need_update=0
for p in "${missing[@]}" "${vm_missing[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || need_update=1
done
[ $need_update -eq 1 ] && apt_get update
apt_install() {  # [apt-get options] -- packages
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    [ $# -gt 0 ] || return 0
    if ! apt_get install "${opts[@]}" "$@"; then
        apt_get update
        apt_get install "${opts[@]}" "$@"
    fi
}
apt_install -- "${missing[@]}"
apt_install --no-install-recommends -- "${vm_missing[@]}"
fetch_guest_debs
