#!/usr/bin/env bash
# build-guest-image.sh - build onestack's CirrOS-like test guest from Debian
# packages only.
#
#   tools/build-guest-image.sh [OUT]          build OUT/onestack-guest.qcow2
#   tools/build-guest-image.sh --fetch [OUT]  only download the .deb files
#
# OUT defaults to build/guest. The image is a real cloud disk: an MBR, one
# bootable FAT16 partition holding SYSLINUX, the Debian cloud kernel and an
# initramfs. The initramfs is the whole root file system (busybox, dropbear,
# a few kernel modules, tools/guest/*); the guest keeps nothing on disk, so
# every boot is a first boot, which is what a test image wants.
#
# The guest's packages are never installed on the host (a second kernel in
# the host's /boot would be harmful): `apt-get download` fetches them into
# OUT/debs once and `dpkg-deb -x` unpacks them. No loop devices, mounts or
# root rights are needed to build; apt-get download needs network only when
# OUT/debs lacks the candidate version of a package.
#
# Host tools: apt-get, dpkg-deb, cpio, gzip, sfdisk (fdisk), mkfs.vfat
# (dosfstools), syslinux + syslinux-common, mcopy (mtools), qemu-img
# (qemu-utils) - scripts/install-deps.sh --test installs them.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
FETCH_ONLY=0
if [ "${1:-}" = --fetch ]; then FETCH_ONLY=1; shift; fi
OUT="${1:-$REPO/build/guest}"
IMAGE=onestack-guest.qcow2
DISK_MB=64                 # virtual size; the files in it take about 20 MB
ROOT_PW=cloudtest          # serial/VNC console login only; ssh takes keys only
KERNEL_META=linux-image-cloud-amd64

mkdir -p "$OUT/debs"
OUT="$(cd "$OUT" && pwd)"
T0=$(date +%s.%N)

# ---- 1. the .deb files -------------------------------------------------------
# The metapackage only depends on the versioned kernel package; resolve it so
# the cache names the exact kernel.
KPKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
       awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$KPKG" ]; then
    echo "build-guest-image: cannot resolve $KERNEL_META (run apt-get update)" >&2
    exit 1
fi
KVER=${KPKG#linux-image-}
# dropbear-bin is dynamically linked: its libraries come along. libgmp10 is
# needed by libtomcrypt1 although dropbear does not name it.
PKGS=("$KPKG" busybox-static dropbear-bin libc6 libcrypt1 libtomcrypt1
      libtommath1 libgmp10 zlib1g)

# apt-cache takes about a second a call here, so ask once for all packages:
# "name version arch" of each candidate.
CANDIDATES=$(apt-cache show --no-all-versions "${PKGS[@]}" 2>/dev/null |
             awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 }
                  /^Architecture:/ { print p, v, $2 }' || true)

# Prints the cached .deb of package $1 at apt's candidate version, downloading
# it when missing. apt-get download names the file name_version_arch.deb with
# the epoch colon written as %3a. When apt cannot tell (no lists) the newest
# cached file of that package is used, so an offline rebuild still works.
deb_of() {
    local p=$1 ver arch f
    read -r ver arch < <(echo "$CANDIDATES" | awk -v p="$p" '$1 == p { print $2, $3; exit }') || true
    if [ -n "${ver:-}" ]; then
        f="$OUT/debs/${p}_${ver//:/%3a}_${arch}.deb"
        if [ ! -s "$f" ]; then
            # -q and the filter: root downloads print an "unsandboxed" warning
            (cd "$OUT/debs" && apt-get download -q "$p" 2>&1 |
                 grep -v 'Download is performed unsandboxed' >&2 || true)
        fi
        [ -s "$f" ] && { echo "$f"; return 0; }
    fi
    f=$(ls -t "$OUT/debs/${p}"_*.deb 2>/dev/null | head -n 1 || true)
    [ -n "$f" ] || { echo "build-guest-image: cannot get package $p" >&2; return 1; }
    echo "$f"
}
DEBS=()
for p in "${PKGS[@]}"; do DEBS+=("$(deb_of "$p")"); done
[ $FETCH_ONLY -eq 1 ] && exit 0

# ---- 2. unpack ----------------------------------------------------------------
W="$OUT/work"              # kept after the build: vmlinuz, initrd.gz, root/
rm -rf "$W"
mkdir -p "$W/x"
for d in "${DEBS[@]}"; do dpkg-deb -x "$d" "$W/x"; done
X="$W/x"
KDIR="$X/lib/modules/$KVER"

# ---- 3. the root file system (initramfs) --------------------------------------
R="$W/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc/dropbear,etc/acpi/PWRF,proc,sys,dev,run,tmp} \
         "$R"/{root/.ssh,mnt,lib64,lib/x86_64-linux-gnu,var/log}
cp "$X/bin/busybox" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list-full); do
    [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
# The kernel runs /init from an initramfs: busybox init, reading /etc/inittab.
ln -sf /bin/busybox "$R/init"
cp "$X/usr/sbin/dropbear" "$X/usr/bin/dropbearkey" "$R/usr/sbin/"
# glibc 2.36 has nss_files inside libc.so.6, so these are all dropbear needs.
for l in ld-linux-x86-64.so.2 libc.so.6 libcrypt.so.1 libz.so.1 libtomcrypt.so.1 \
         libtommath.so.1 libgmp.so.10; do
    f=$(find "$X/lib" "$X/usr/lib" -name "$l" | head -n 1)
    [ -n "$f" ] || { echo "build-guest-image: $l not found in the packages" >&2; exit 1; }
    cp -L "$f" "$R/lib/x86_64-linux-gnu/"
done
ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"

# Debian's cloud kernel builds virtio, ATA/SCSI CD-ROM, iso9660, vfat and the
# ACPI button as modules, so the initramfs carries them (and nothing else).
MODS="drivers/virtio drivers/block/virtio_blk.ko drivers/net/virtio_net.ko
      drivers/net/net_failover.ko net/core/failover.ko drivers/char/hw_random/virtio-rng.ko
      drivers/scsi/virtio_scsi.ko drivers/ata/ata_piix.ko drivers/ata/libata.ko
      drivers/scsi/scsi_mod.ko drivers/scsi/scsi_common.ko drivers/scsi/sd_mod.ko
      drivers/scsi/sr_mod.ko drivers/cdrom/cdrom.ko fs/isofs fs/fat
      fs/nls/nls_cp437.ko fs/nls/nls_iso8859-1.ko fs/nls/nls_ascii.ko fs/nls/nls_utf8.ko
      drivers/acpi/button.ko drivers/input/evdev.ko"
for m in $MODS; do
    src="$KDIR/kernel/$m"
    if [ ! -e "$src" ]; then
        # a module may become built-in in a later kernel: that is fine
        grep -q "kernel/$m" "$KDIR/modules.builtin" 2>/dev/null ||
            echo "build-guest-image: note: $m is not in kernel $KVER" >&2
        continue
    fi
    mkdir -p "$R/lib/modules/$KVER/kernel/$(dirname "$m")"
    cp -r "$src" "$R/lib/modules/$KVER/kernel/$(dirname "$m")/"
done
cp "$KDIR"/modules.order "$KDIR"/modules.builtin* "$R/lib/modules/$KVER/"
# The host has no kmod; busybox's depmod writes what busybox modprobe reads.
"$R/bin/busybox" depmod -b "$R" "$KVER"

G="$HERE/guest"
install -m 755 "$G/rc.boot" "$R/etc/rc.boot"
install -m 755 "$G/udhcpc.script" "$R/etc/udhcpc.script"
install -m 755 "$G/jsonflat.awk" "$R/usr/bin/jsonflat"
install -m 755 "$G/powerbutton" "$R/etc/acpi/PWRF/00000080"
install -m 644 "$G/inittab" "$R/etc/inittab"
HASH=$("$R/bin/busybox" mkpasswd -m sha512 "$ROOT_PW")
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo "root:$HASH:19000:0:99999:7:::" > "$R/etc/shadow"
chmod 600 "$R/etc/shadow"
echo 'root:x:0:' > "$R/etc/group"
printf '/bin/sh\n/bin/ash\n' > "$R/etc/shells"   # dropbear refuses unlisted shells
echo onestack-guest > "$R/etc/hostname"
echo "onestack test guest (busybox + dropbear); console login root/$ROOT_PW" > "$R/etc/issue"
: > "$R/etc/resolv.conf"
chmod 700 "$R/root" "$R/root/.ssh"

(cd "$R" && find . -print0 | LC_ALL=C sort -z |
     cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9 -n > "$W/initrd.gz"
cp "$X/boot/vmlinuz-$KVER" "$W/vmlinuz"

# ---- 4. the disk: MBR + one bootable FAT16 partition at 1 MiB with SYSLINUX ---
RAW="$W/disk.raw"
truncate -s "${DISK_MB}M" "$RAW"
echo 'start=2048, type=e, bootable' | sfdisk -q "$RAW"     # e = FAT16 (LBA)
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$RAW" bs=440 count=1 conv=notrunc status=none
PART_SECTORS=$(( DISK_MB * 2048 - 2048 ))
mkfs.vfat -F 16 -n GUESTBOOT --offset 2048 -h 2048 "$RAW" $(( PART_SECTORS / 2 )) >/dev/null
syslinux --offset $(( 2048 * 512 )) --install "$RAW"
# The last console= is /dev/console: the serial port, where the ready line goes.
cat > "$W/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=tty1 console=ttyS0,115200n8
EOF
mcopy -o -i "$RAW@@$(( 2048 * 512 ))" "$W/vmlinuz" "$W/initrd.gz" "$W/syslinux.cfg" ::/
# Written beside the target and renamed: make never sees a half-built image.
qemu-img convert -c -O qcow2 "$RAW" "$OUT/$IMAGE.tmp"
rm -f "$RAW"
mv -f "$OUT/$IMAGE.tmp" "$OUT/$IMAGE"

T1=$(date +%s.%N)
echo "build-guest-image: $OUT/$IMAGE (kernel $KVER): $(stat -c %s "$OUT/$IMAGE") bytes" \
     "(vmlinuz $(stat -c %s "$W/vmlinuz"), initrd.gz $(stat -c %s "$W/initrd.gz")," \
     "$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s)"
