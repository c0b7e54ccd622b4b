#!/usr/bin/env bash
# install-deps.sh - install what onestack needs on Debian 12 (run as root).
#
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --client plus the `openstack` CLI (the all-in-one
#                                    set-up installs it, so the cloud is usable)
#   scripts/install-deps.sh --test   plus what `make test` needs (clients,
#                                    tempest, pytest, PostgreSQL server, curl)
#
# Idempotent and quick when everything is already there: the package list is
# checked with dpkg-query first, and apt-get (including `apt-get update`) only
# runs when something is missing.
set -euo pipefail

BUILD_PKGS=(build-essential pkg-config libmicrohttpd-dev libjansson-dev
            libsqlite3-dev libpq-dev libssl-dev libcrypt-dev uuid-dev libinih-dev
            zlib1g-dev libbz2-dev)
CLIENT_PKGS=(python3-openstackclient curl)
TEST_PKGS=(python3-openstackclient python3-openstacksdk python3-pytest
           python3-requests python3-osc-placement tempest postgresql curl)

pkgs=("${BUILD_PKGS[@]}")
for arg in "$@"; do
    case "$arg" in
        --client) pkgs+=("${CLIENT_PKGS[@]}") ;;
        --test) pkgs+=("${TEST_PKGS[@]}") ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install-deps.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

# One dpkg-query for all: prints "name installed" for each installed package.
installed=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null |
              awk '$2 == "installed" { printf "%s ", $1 }' || true) "
missing=()
for p in "${pkgs[@]}"; do
    case "$installed" in *" $p "*) ;; *) missing+=("$p") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: missing packages (${missing[*]}); run as root" >&2
    exit 1
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@" </dev/null; }
# Only refresh the package lists when a package is not known at all or the
# install fails with stale lists.
need_update=0
for p in "${missing[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || need_update=1
done
[ $need_update -eq 1 ] && apt_get update
if ! apt_get install "${missing[@]}"; then
    apt_get update
    apt_get install "${missing[@]}"
fi
