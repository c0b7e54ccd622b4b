#!/bin/bash
# Idempotent apt install for the storage benchmark: Debian's Swift (2.30, Zed) and Glance
# (25, Zed) with what they need, wrk and the XFS tools. Package scripts may not start daemons
# (a policy-rc.d that says no is in place during the install); run.sh starts them itself.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PKGS="swift swift-proxy swift-account swift-container swift-object python3-swiftclient
 glance-api glance-common python3-glance memcached wrk xfsprogs curl sqlite3"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ ! -f /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "glance-common glance/configure_db boolean false" | debconf-set-selections
echo "glance-api glance/register-endpoint boolean false" | debconf-set-selections
apt-get -o DPkg::Lock::Timeout=900 update -qq
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing
