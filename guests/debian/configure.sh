#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the new Debian system (chroot, at the end of stage 2): what a Debian installer would ask.
set -e
echo strobe-debian > /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\tstrobe-debian\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
echo '/dev/sda1 / ext4 errors=remount-ro 0 1' > /etc/fstab
echo 'deb http://deb.debian.org/debian bookworm main' > /etc/apt/sources.list
# root logs in on the serial console without a password (a local test system; set one with passwd).
passwd -d root
# The kernel and its initramfs were installed by debootstrap (linux-image-4kc-malta pulls in
# initramfs-tools); make sure the initramfs exists for the installed kernel.
for k in /lib/modules/*; do
  v=${k##*/}
  [ -f /boot/initrd.img-$v ] || update-initramfs -c -k "$v"
done
ls -l /boot
