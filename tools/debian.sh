#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a Debian bookworm mipsel system on a raw disk image, from Debian's own packages, and boots it.
#
#   tools/debian.sh            build the image if needed (cached), then boot it on the console
#   tools/debian.sh --build    only build it
#   tools/debian.sh --prepare  only stage 1, for bench/debian_stage2.py (prints the disk, initrd, kernel)
#   tools/debian.sh --rebuild  build it again even if the cache is current
#
# How: `debootstrap --foreign` unpacks the essential packages on the host (and downloads the others, with
# linux-image-4kc-malta and initramfs-tools); mke2fs -d puts that tree on an ext4 partition of a 4 GiB
# sparse raw image; then the second stage runs inside Strobe itself, from Strobe's initramfs plus
# guests/debian/stage2.sh, with the image as -hda: dpkg configures every package, the kernel's postinst
# makes its initramfs with initramfs-tools, and guests/debian/configure.sh sets up a serial console login
# (root, no password). The kernel and initramfs are copied out of the image, so that later boots are
#   build/strobe run -kernel .cache/debian/vmlinuz -initrd .cache/debian/initrd.img \
#     -hda .cache/debian/debian.img -append "root=/dev/sda1 console=ttyS0" -nographic
# exactly as with QEMU. STROBE_STAGE2_ARGS adds options to stage 2's strobe command line (for example
# "-monitor tcp::4444,server,nowait" to look into it while it runs). Output in .cache/debian/ (ignored by git). The image is rebuilt only when this
# script, guests/debian/ or the suite change (or with --rebuild); Debian's archive moving on does not.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${STROBE_DEBIAN_DIR:-$top/.cache/debian}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
size=4G
say() { echo "debian.sh: $*" >&2; }
usage() {
  sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//'
}

mode=boot rebuild=0
for a in "$@"; do
  case $a in
    --build) mode=build ;;
    --prepare) mode=prepare ;;
    --rebuild) rebuild=1 ;;
    -h | --help) usage; exit 0 ;;
    *) say "unknown option '$a'"; usage >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

bash "$top/tools/setup-deps.sh" >&2
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v sfdisk >/dev/null || need+=(fdisk)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Acquire::Retries=5 --no-install-recommends "${need[@]}" >&2 || {
    $SUDO apt-get update -q -o Acquire::Retries=5 >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Acquire::Retries=5 --no-install-recommends "${need[@]}" >&2
  }
fi
if [ ! -x "$top/build/strobe" ]; then
  cmake -S "$top" -B "$top/build" -G Ninja >&2
fi
cmake --build "$top/build" -j2 --target strobe >&2
bash "$top/guests/linux/fetch.sh" >&2
linux=$top/.cache/linux

mkdir -p "$out"
cd "$out"
# What the image is made from: bump recipe when stage 1 or 2 below changes what goes on the disk.
recipe=1
include=linux-image-4kc-malta
stamp=$( (echo "$recipe $suite $size $include"; sha256sum "$top"/guests/debian/*) | sha256sum | cut -c1-16)

# Stage 1 (host): unpack, download, make the disk and the stage-2 initramfs.
stage1() {
  say "stage 1: debootstrap --foreign $suite (mipsel) from $mirror"
  $SUDO rm -rf root
  $SUDO debootstrap --arch=mipsel --foreign --include=$include "$suite" root "$mirror" > stage1.log 2>&1 ||
    { tail -n 20 stage1.log >&2; say "debootstrap failed (stage1.log)"; exit 1; }
  $SUDO cp "$top/guests/debian/configure.sh" root/stage2-configure.sh
  say "stage 1: making the $size disk image (MBR, one ext4 partition from 1 MiB)"
  rm -f debian.img.tmp
  truncate -s "$size" debian.img.tmp
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q debian.img.tmp
  local part_k=$(( $(stat -c %s debian.img.tmp) / 1024 - 1024 ))
  $SUDO mke2fs -q -F -t ext4 -L debian -E offset=1048576 -d root debian.img.tmp "${part_k}k"
  $SUDO rm -rf root
  # Strobe's initramfs with stage2.sh added as /stage2 (a second cpio archive appended to the first).
  rm -rf extra && mkdir -p extra
  install -m 755 "$top/guests/debian/stage2.sh" extra/stage2
  (cd extra && echo stage2 | cpio --quiet -o -H newc --owner=0:0 | gzip -9) > extra.cpio.gz
  cat "$linux/initramfs.cpio.gz" extra.cpio.gz > stage2.cpio.gz
  rm -rf extra extra.cpio.gz
}

# Stage 2 (guest) inside Strobe on disk image $1. Console to stage2.log, progress on stderr.
stage2() {
  local img=$1 log=stage2.log
  "$top/build/strobe" run ${STROBE_STAGE2_ARGS:-} -M malta -m 256 -kernel "$linux/vmlinuz" -initrd stage2.cpio.gz -nographic -no-reboot \
    -append "console=ttyS0 rdinit=/stage2 panic=1" -drive "file=$img,format=raw,if=ide,index=0" \
    < /dev/null > "$log" 2>&1 &
  local pid=$! shown=0
  while kill -0 $pid 2>/dev/null; do
    sleep 5
    local n
    n=$(grep -c '^I: \(Configuring\|Unpacking\)' "$log" 2>/dev/null || true)
    if [ "$n" != "$shown" ]; then
      say "stage 2: $(grep '^I: \(Configuring\|Unpacking\)' "$log" | tail -n 1 | tr -d '\r') [$n]"
      shown=$n
    fi
  done
  wait $pid || true
  grep -q '^stage2: done' "$log" || { tail -n 40 "$log" >&2; say "stage 2 failed ($out/$log)"; return 1; }
}

# Copies a file out of the image's partition.
extract() {
  debugfs -R "dump -p $1 $2" "debian.img?offset=1048576" 2>/dev/null
  [ -s "$2" ] || { say "cannot find $1 in the image"; exit 1; }
}

build() {
  rm -f stamp
  stage1
  say "stage 2: debootstrap --second-stage inside Strobe (dpkg configures every package; progress below)"
  local t0=$SECONDS
  stage2 debian.img.tmp || exit 1
  mv debian.img.tmp debian.img
  local kver
  kver=$(debugfs -R "ls -p /boot" "debian.img?offset=1048576" 2>/dev/null | sed -n 's|.*/vmlinuz-\([^/]*\)/.*|\1|p' | head -n 1)
  [ -n "$kver" ] || { say "no kernel in /boot of the image"; exit 1; }
  extract "/boot/vmlinuz-$kver" vmlinuz
  extract "/boot/initrd.img-$kver" initrd.img
  echo "$stamp" > stamp
  say "built in $((SECONDS - t0)) s of stage 2: $out/debian.img (kernel $kver)"
}

if [ $mode = prepare ]; then
  # The inputs of the second stage, for bench/debian_stage2.py: the disk after stage 1 and the initramfs.
  if [ ! -f stage1.img ] || [ ! -f stage2.cpio.gz ] || [ "$(cat stage1.stamp 2>/dev/null)" != "$stamp" ]; then
    stage1
    mv debian.img.tmp stage1.img
    echo "$stamp" > stage1.stamp
  fi
  echo "$out/stage1.img $out/stage2.cpio.gz $linux/vmlinuz"
  exit 0
fi

if [ $rebuild -eq 1 ] || [ ! -f debian.img ] || [ "$(cat stamp 2>/dev/null)" != "$stamp" ]; then
  build
else
  say "cached: $out/debian.img"
fi
[ $mode = build ] && exit 0
say "booting (login: root, no password; 'poweroff' ends the session)"
exec "$top/build/strobe" run -M malta -m 256 -kernel vmlinuz -initrd initrd.img -hda debian.img \
  -append "root=/dev/sda1 console=ttyS0" -nographic
