#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches Debian bookworm's mipsel Malta kernel and static busybox, and builds a gzip cpio initramfs.
# Output (default .cache/linux/ in the repository, ignored by git):
#   vmlinuz          the kernel (linux-image-4kc-malta's vmlinuz)
#   initramfs.cpio.gz busybox as /init (busybox init) + the files under guests/linux/rootfs/ (inittab, ...)
#                    + the kernel's modules for IDE and virtio disks and ext4 (ata_piix, virtio_pci,
#                    virtio_blk, ext4 and what they need; libata, scsi_mod and sd_mod are built in), with a
#                    modules.dep and modules.alias for busybox modprobe; sr_mod (with cdrom) and isofs for
#                    the ATAPI CD-ROM drive and its ISO 9660 disc; pcnet32 and virtio_net for the
#                    network cards, virtio_rng and virtio_balloon, and udhcpc's default.script
# Cached: the packages are downloaded once, the initramfs is rebuilt only when its inputs change.
# Usage: guests/linux/fetch.sh [OUTPUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/.cache/linux}
mkdir -p "$out/debs"
cd "$out"

say() { echo "guests/linux: $*" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! ls debs/linux-image-*-4kc-malta_*_mipsel.deb >/dev/null 2>&1 || ! ls debs/busybox-static_*_mipsel.deb >/dev/null 2>&1; then
  if ! dpkg --print-foreign-architectures | grep -qx mipsel; then
    say "adding the mipsel foreign architecture (package lists only; nothing mipsel is installed)"
    $SUDO dpkg --add-architecture mipsel
    $SUDO apt-get update -q -o Acquire::Retries=5 >&2
  fi
  kpkg=$(apt-cache depends linux-image-4kc-malta:mipsel 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1)
  if [ -z "$kpkg" ]; then
    $SUDO apt-get update -q -o Acquire::Retries=5 >&2
    kpkg=$(apt-cache depends linux-image-4kc-malta:mipsel | sed -n 's/.*Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1)
  fi
  [ -n "$kpkg" ] || { say "cannot find Debian's linux-image-4kc-malta for mipsel"; exit 1; }
  say "downloading $kpkg and busybox-static (mipsel)"
  (cd debs && apt-get download -q -o Acquire::Retries=5 "$kpkg:mipsel" busybox-static:mipsel 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2)
fi

kdeb=$(ls debs/linux-image-*-4kc-malta_*_mipsel.deb | head -n 1)
bdeb=$(ls debs/busybox-static_*_mipsel.deb | head -n 1)

if [ ! -s vmlinuz ] || [ "$kdeb" -nt vmlinuz ]; then
  say "extracting the kernel from $(basename "$kdeb")"
  rm -rf kernel && mkdir kernel
  dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C kernel --wildcards './boot/vmlinuz-*'
  cp kernel/boot/vmlinuz-* vmlinuz.tmp && mv vmlinuz.tmp vmlinuz
  rm -rf kernel
fi

# Copies the named modules of the kernel package, and every module they depend on (the depends= field of
# each module's .modinfo), into ROOT/lib/modules/VERSION with the modules.dep and modules.alias that depmod
# would make at install time (the package has neither), for busybox modprobe: the kernel's requests by
# alias (fs-ext4 when ext4 is mounted, crypto-crc32c for its checksums) then load the module. Soft
# dependencies are not followed: name such modules too.
add_modules() {
  local root=$1; shift
  local listing tmp queue name path deps dep line
  tmp=$(mktemp -d)
  listing=$(dpkg-deb --fsys-tarfile "$kdeb" | tar -t | grep '^\./lib/modules/[^/]*/kernel/.*\.ko$')
  local base=${listing%%/kernel/*}
  local version=${base##*/}
  local -A seen=()
  local -a files=()
  queue=("$@")
  while [ ${#queue[@]} -gt 0 ]; do
    name=${queue[0]}; queue=("${queue[@]:1}")
    [ -n "${seen[$name]:-}" ] && continue
    seen[$name]=1
    # Module names use '_' where file names may use '-'.
    path=$(printf '%s\n' "$listing" | grep -E "/$(printf '%s' "$name" | sed 's/[-_]/[-_]/g')\.ko$" | head -n 1)
    [ -n "$path" ] || { say "module $name is not in $(basename "$kdeb")"; exit 1; }
    files+=("$path")
    queue+=($(dpkg-deb --fsys-tarfile "$kdeb" | tar -xO "$path" | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '))
  done
  dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp" "${files[@]}"
  mkdir -p "$root/lib/modules/$version"
  (cd "$tmp/lib/modules/$version" && cp --parents -R kernel "$root/lib/modules/$version/")
  : > "$root/lib/modules/$version/modules.dep"
  : > "$root/lib/modules/$version/modules.alias"
  local -A rel=() needs=()
  for path in "${files[@]}"; do
    name=$(basename "$path" .ko | tr - _)
    tr '\0' '\n' < "$tmp/$path" | sed -n "s/^alias=\(.*\)/alias \1 $name/p" >> "$root/lib/modules/$version/modules.alias"
    rel[$name]=${path#$base/}
    needs[$name]=$(tr '\0' '\n' < "$tmp/$path" | sed -n 's/^depends=//p' | tr ',-' ' _')
  done
  # As depmod writes it: every module a module needs, directly or not, each before the ones it needs
  # (busybox modprobe loads the list from its end and does not look further).
  local -A visited
  local -a order
  visit() {
    local n
    for n in ${needs[$1]}; do
      [ -n "${visited[$n]:-}" ] && continue
      visited[$n]=1
      visit "$n"
      order+=("$n")
    done
  }
  for path in "${files[@]}"; do
    name=$(basename "$path" .ko | tr - _)
    visited=() order=()
    visit "$name"
    line="${rel[$name]}:"
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do line="$line ${rel[${order[i]}]}"; done
    echo "$line" >> "$root/lib/modules/$version/modules.dep"
  done
  rm -rf "$tmp"
}

# Every file that goes into the image (names included) and this script decide whether to rebuild.
rootfs_files=$(cd "$here" && find rootfs -type f | LC_ALL=C sort)
stamp=$( (sha256sum "$bdeb" "$kdeb" "$here/fetch.sh" && cd "$here" && sha256sum $rootfs_files) | sha256sum | cut -c1-16)
if [ ! -s initramfs.cpio.gz ] || [ "$(cat initramfs.stamp 2>/dev/null)" != "$stamp" ]; then
  say "building initramfs.cpio.gz"
  rm -rf root && mkdir -p root/bin root/sbin root/usr/bin root/usr/sbin root/proc root/sys root/dev root/tmp root/root root/etc
  dpkg-deb --fsys-tarfile "$bdeb" | tar -x -C root ./bin/busybox
  # virtio-blk: the PCI transport (its legacy and modern halves) and the disk driver.
  virtio_blk_modules="virtio virtio_ring virtio_pci virtio_pci_legacy_dev virtio_pci_modern_dev virtio_blk"
  # The NIC of QEMU's Malta (AMD PCnet-PCI II, 00:0b.0) and the PHY helper it links against; virtio-net
  # (virtio_net needs net_failover, which needs failover: both follow from its depends=).
  net_modules="pcnet32 mii virtio_net"
  # The ATAPI CD-ROM drive (/dev/sr0: sr_mod and the cdrom layer it needs) and ISO 9660 (isofs, loaded by
  # its fs-iso9660 alias when a disc is mounted).
  cdrom_modules="sr_mod isofs"
  # The virtio entropy device (/dev/hwrng; rng-core follows from its depends=) and memory balloon, loaded
  # by their modaliases.
  other_virtio_modules="virtio_rng virtio_balloon"
  add_modules "$PWD/root" ata_piix ext4 crc32c_generic $virtio_blk_modules $net_modules $cdrom_modules \
    $other_virtio_modules
  cp -R "$here/rootfs/." root/
  chmod 755 root/bin/busybox root/etc/init.d/*
  chmod 755 root/etc/udhcpc/default.script  # where Debian's busybox udhcpc looks for it
  chmod 644 root/etc/inittab root/etc/profile root/etc/filesystems
  # The kernel runs /init; busybox named init is busybox init, which reads /etc/inittab.
  ln -s bin/busybox root/init
  ln -s busybox root/bin/sh
  echo "root:x:0:0:root:/root:/bin/sh" > root/etc/passwd
  (cd root && find . | LC_ALL=C sort | cpio --quiet -o -H newc --owner=0:0 | gzip -9 > ../initramfs.cpio.gz.tmp)
  mv initramfs.cpio.gz.tmp initramfs.cpio.gz
  echo "$stamp" > initramfs.stamp
  rm -rf root
fi
say "ready: $out/vmlinuz $out/initramfs.cpio.gz"
