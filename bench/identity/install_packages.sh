#!/bin/bash
# Idempotent: the Debian 12 packages the identity benchmark needs (Keystone Zed under uwsgi,
# wrk, nginx-light, python3-bcrypt, a C compiler and libcrypt for the bcrypt floor).
# Package postinst scripts must not start daemons (policy-rc.d says no while we install).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export DEBIAN_FRONTEND=noninteractive

PKGS="keystone python3-keystone uwsgi-core uwsgi-plugin-python3 wrk nginx-light python3-bcrypt \
 curl gcc make libc6-dev libcrypt-dev procps"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    if [ ! -f /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # Keystone's debconf questions: we set up the DB and the admin ourselves.
    echo "keystone keystone/configure_db boolean false"        | debconf-set-selections
    echo "keystone keystone/create-admin-tenant boolean false" | debconf-set-selections
    echo "keystone keystone/register-endpoint boolean false"   | debconf-set-selections
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing
fi
