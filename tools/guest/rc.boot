#!/bin/sh
# /etc/rc.boot - the boot script of onestack's test guest. busybox init runs
# it once (inittab "sysinit"), then starts gettys; see tools/guest/inittab.
#
# Order: devices -> DHCP on every NIC -> instance metadata (config drive, else
# the metadata service) -> hostname, SSH keys, user_data -> dropbear, acpid ->
# one line "onestack-guest-ready <hostname> <addresses>" on the serial console.
# The root file system is the initramfs, so every boot starts from scratch.
#
# Not `set -e`: a guest that stops half-way prints nothing useful; every step
# that may fail is checked or allowed to fail, and the console says what
# happened ("onestack-guest: ..." lines; only the final line says "-ready").
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
say() { echo "onestack-guest: $*" > /dev/console; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /var/log /var/run /mnt/config /root/.ssh /etc/dropbear
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
say "userspace up at $(uptime_s)s"

# Debian's cloud kernel has these as modules; the build put them in the
# initramfs (absent ones are built in: modprobe's error is expected).
for m in virtio_pci virtio_blk virtio_net virtio_rng virtio_scsi ata_piix sd_mod sr_mod \
         isofs vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859_1 button evdev; do
    modprobe "$m" 2>/dev/null
done
mdev -s 2>/dev/null

# The power button (QMP system_powerdown, Nova's soft stop) runs
# /etc/acpi/PWRF/00000080, which powers off. Started as soon as the button's
# input device exists, so a stop during a slow boot is not ignored.
acpid -c /etc/acpi -l /run/acpid.log

ip link set lo up
hostname "$(cat /etc/hostname)"

# ---- network -------------------------------------------------------------------
# DHCPv4 on every NIC, all at once. udhcpc -b returns (and keeps trying in the
# background) when it has no lease after -t tries, so `wait` is bounded; a
# lease that comes late still configures its NIC. busybox udhcpc asks for the
# classless routes (121, the metadata route on Neutron networks) and the MTU
# only when told to (-O). IPv6 is the kernel's own: links accept router
# advertisements and do SLAAC by default, nothing to start.
NICS=
for p in /sys/class/net/*; do
    [ "${p##*/}" = lo ] || NICS="$NICS ${p##*/}"
done
for nic in $NICS; do
    ip link set "$nic" up
    udhcpc -i "$nic" -s /etc/udhcpc.script -t 5 -T 2 -A 3 -b -p "/run/udhcpc.$nic.pid" \
           -O staticroutes -O mtu > "/run/udhcpc.$nic.log" 2>&1 &
done
wait
say "dhcp: $(for n in $NICS; do printf '%s=%s ' "$n" "$(cat "/run/ip.$n" 2>/dev/null || echo none)"; done)at $(uptime_s)s"

# ---- instance metadata -----------------------------------------------------------
MD=/run/meta_data.json
UD=/run/user_data
SRC=none
# busybox findfs knows both the iso9660 (/dev/sr0) and the vfat (/dev/vdX)
# config drive; Nova labels vfat drives in upper case when it has to.
for label in config-2 CONFIG-2; do
    dev=$(findfs "LABEL=$label" 2>/dev/null) || continue
    mount -o ro "$dev" /mnt/config 2>/dev/null || continue
    if [ -f /mnt/config/openstack/latest/meta_data.json ]; then
        cp /mnt/config/openstack/latest/meta_data.json $MD
        [ -f /mnt/config/openstack/latest/user_data ] && cp /mnt/config/openstack/latest/user_data $UD
        SRC="config-drive:$dev"
    fi
    umount /mnt/config
    [ "$SRC" = none ] || break
done
if [ "$SRC" = none ]; then
    # The network may come up late (a lease after `wait`, a slow metadata
    # proxy): retry. busybox-static 1.35 wget segfaults with -T, so the
    # timeout comes from `timeout`.
    base=http://169.254.169.254/openstack/latest
    for try in 1 2 3 4 5 6 7 8 9 10; do
        if timeout 5 wget -q -O $MD.tmp "$base/meta_data.json" 2>/dev/null && [ -s $MD.tmp ]; then
            mv $MD.tmp $MD
            SRC=metadata-service
            # 404 is the normal answer when there is no user data
            timeout 5 wget -q -O $UD "$base/user_data" 2>/dev/null || rm -f $UD
            break
        fi
        rm -f $MD.tmp
        sleep 1
    done
fi
say "metadata: source=$SRC at $(uptime_s)s"

if [ -s $MD ]; then
    jsonflat $MD > /run/meta_data.flat
    get() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' /run/meta_data.flat; }
    # Like cloud-init: the host name is the first label of "hostname" (Nova
    # sends "<name>.novalocal"), else of "name", cut to what a host name may
    # hold.
    HN=$(get hostname); [ -n "$HN" ] || HN=$(get name)
    HN=$(echo "${HN%%.*}" | tr -c 'A-Za-z0-9-\n' '-' | cut -c1-63)
    if [ -n "$HN" ]; then
        hostname "$HN"; echo "$HN" > /etc/hostname
        echo "127.0.1.1 $HN" >> /etc/hosts
    fi
    # public_keys is {name: key}; keys is [{"type": "ssh", "data": key}]
    # in newer Nova. Both, without duplicates.
    awk -F'\t' '$1 ~ /^public_keys\// || $1 ~ /^keys\/[0-9]+\/data$/ { if (!seen[$2]++) print $2 }' \
        /run/meta_data.flat > /root/.ssh/authorized_keys
    say "metadata: uuid=$(get uuid) hostname=$(hostname) keys=$(grep -c . /root/.ssh/authorized_keys)"
fi
chmod 700 /root /root/.ssh
chmod 600 /root/.ssh/authorized_keys 2>/dev/null

# ---- user_data: run it when it is a script, as CirrOS and cloud-init do --------
if [ -s $UD ] && [ "$(head -c 2 $UD)" = '#!' ]; then
    chmod 700 $UD
    say "user_data: running"
    $UD > /run/user_data.log 2>&1
    say "user_data: exit status $?"
fi

# ---- services ----------------------------------------------------------------------
# dropbear: host keys made on the first connection (-R), keys only (-s): the
# console password is for the console.
dropbear -R -s -p 22 -P /run/dropbear.pid

# ---- ready -------------------------------------------------------------------------
# IPv6 SLAAC runs on its own since the links came up: link-local DAD (1 s),
# router solicitation (after up to 1 s), then DAD of the SLAAC address (1 s).
# Wait for it so the ready line can show the address, at most 4 s: stop once
# an address beyond link scope is there, or when nothing is tentative and 2 s
# went by without one (no IPv6 router on these links).
quiet=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    # (busybox ip has no "show tentative" filter: grep the flag)
    if ip -6 addr show 2>/dev/null | grep -q tentative; then
        quiet=0
    elif ip -6 addr show 2>/dev/null | grep inet6 | grep -qv -e 'scope link' -e 'scope host'; then
        break
    else
        quiet=$((quiet + 1)); [ $quiet -ge 8 ] && break
    fi
    sleep 0.25
done
# Every IPv4/IPv6 address beyond host and link scope (slirp's SLAAC prefix
# fec0::/64 is "scope site"), DAD done.
ADDRS=$(ip -o addr show 2>/dev/null | awk '
    ($3 == "inet" || $3 == "inet6") && $0 !~ / scope (host|link) / && $0 !~ / (tentative|dadfailed) / {
        sub(/\/.*/, "", $4); printf "%s ", $4 }')
ADDRS=${ADDRS% }
# Exactly one ready line, whole: the console log level is lowered while it is
# written so that no kernel message lands in the middle of it.
dmesg -n 1
echo "onestack-guest-ready $(hostname) ${ADDRS:-none}" > /dev/console
dmesg -n 7
say "ready at $(uptime_s)s"
exit 0
