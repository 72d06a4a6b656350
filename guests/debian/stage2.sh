#!/bin/sh
# SPDX-License-Identifier: MIT
# The init of the stage-2 initramfs (tools/debian.sh): runs inside Strobe as the kernel's rdinit, on top of
# Strobe's own initramfs (busybox and the IDE/ext4 modules), with the root disk as the primary master.
# It finishes the Debian installation that `debootstrap --foreign` started on the host, configures the
# system for a serial console, and powers off. The last console line says whether it worked.
/etc/init.d/rcS
fail() {
  echo "stage2: FAILED: $*"
  sync
  poweroff -f
}
modprobe -q ext4 || fail "cannot load ext4"
mkdir -p /mnt
mount -t ext4 /dev/sda1 /mnt || fail "cannot mount /dev/sda1"
mount -t devtmpfs devtmpfs /mnt/dev || fail "cannot mount /dev in the target"
# Debian's Malta kernel uses 256 MiB of RAM whatever -m says. Without swap, the second half of the second
# stage (dpkg unpacking the ~70 remaining packages in one run) did not finish in an hour under Strobe or
# QEMU (both busy; gdb stops landed in the TLB refill handler on ever-changing user addresses, which looks
# like paging), so a swap file gives it room (removed again at the end).
dd if=/dev/zero of=/mnt/swapfile bs=1M count=512 2>/dev/null && chmod 600 /mnt/swapfile &&
  mkswap /mnt/swapfile >/dev/null && swapon /mnt/swapfile || fail "cannot set up the swap file"
# What runs, every two minutes (the second stage takes an hour or more).
(while sleep 120; do echo "stage2: busiest:"; top -b -n 1 | sed -n '4,12p'; done) &
echo "stage2: debootstrap --second-stage"
# debootstrap mounts /proc and /sys in the target itself.
chroot /mnt /debootstrap/debootstrap --second-stage || {
  tail -n 30 /mnt/debootstrap/debootstrap.log 2>/dev/null
  fail "debootstrap --second-stage"
}
echo "stage2: configuring the system"
chroot /mnt /bin/sh -e /stage2-configure.sh || fail "configuration"
rm -f /mnt/stage2-configure.sh
swapoff /mnt/swapfile && rm -f /mnt/swapfile
umount /mnt/proc 2>/dev/null
umount /mnt/sys 2>/dev/null
umount /mnt/dev
umount /mnt || fail "cannot unmount the target"
echo "stage2: done"
sync
poweroff -f
