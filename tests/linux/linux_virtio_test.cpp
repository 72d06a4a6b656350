// SPDX-License-Identifier: MIT
// Debian's kernel on virtio-blk disks (legacy virtio-pci, virtio_blk loaded from the initramfs), beside an
// IDE disk: PCI slots and interrupt routing as QEMU's Malta gives them, the guest reading images the host
// made, writing them with dd (sequential, scattered, direct I/O of several sizes) and ext4, a snapshot
// disk, and both controllers busy at once; the host checks the files after the power-off (sha256, e2fsck,
// debugfs). One boot.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/linux/linux_disk.h"
#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

class LinuxVirtio : public LinuxDisk {};

TEST_F(LinuxVirtio, DisksOnPciSlotsReadWriteExt4SnapshotAndIdeAtOnce) {
  const std::string raw = dir_ + "/raw.img", ext4 = dir_ + "/ext4.img", snap = dir_ + "/snap.img",
                    ide = dir_ + "/ide.img";
  const std::string raw_data = RandomBytes(4u << 20, 11);
  WriteFile(raw, raw_data);
  WriteFile(snap, RandomBytes(4u << 20, 12));
  WriteFile(ide, RandomBytes(2u << 20, 13));
  const std::string snap_sha = Sha256(snap), ide_sha = Sha256(ide);
  WriteFile(dir_ + "/files/hello.txt", "hello from the host\n");
  MakeExt4(ext4, "16M");
  if (HasFatalFailure()) return;

  // QEMU creates the -device disk first (slot 0x12, vda), then the if=virtio ones in order (0x13 vdb,
  // 0x14 vdc); the IDE disk is sda. With -vga none, as QEMU's reference run (shared malta-reference):
  // otherwise QEMU's default VGA, and Strobe's empty slot for it, take 0x12.
  auto s = Boot({"-vga", "none", "-drive", "file=" + raw + ",format=raw,if=virtio", "-drive",
                 "file=" + ext4 + ",format=raw,if=none,id=fs", "-device",
                 "virtio-blk-pci,drive=fs,serial=STROBE-VD0", "-drive",
                 "file=" + snap + ",format=raw,if=virtio,snapshot=on", "-hda", ide});
  EXPECT_NE(boot_log_.find("virtio_blk virtio0: [vda] 32768 512-byte logical blocks"), std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("virtio_blk virtio1: [vdb] 8192 512-byte logical blocks"), std::string::npos);
  EXPECT_EQ(Shell(*s, "P=/sys/bus/pci/devices/0000:00; cat $P:1[234].0/device $P:1[234].0/irq"),
            "0x1001\n0x1001\n0x1001\n10\n10\n11\n");  // slot 20's INTA is PIRQC: IRQ 11
  // BAR0 (legacy) in I/O space, BAR4 (modern) in the GT-64120's PCI memory window; the driver took the
  // modern interface (VERSION_1, feature bit 32, is on).
  EXPECT_EQ(Shell(*s, "head -c 6 $P:13.0/resource; sed -n 5p $P:13.0/resource|cut -c1-12"),
            "0x00000x0000000010\n");
  EXPECT_EQ(Shell(*s, "cut -c33 /sys/bus/virtio/devices/virtio1/features"), "1\n");
  EXPECT_NE(boot_log_.find("virtio-pci 0000:00:13.0: enabling device (0000 -> 0003)"), std::string::npos);
  EXPECT_EQ(Shell(*s, "cat /sys/block/vda/serial; echo"), "STROBE-VD0\n");
  EXPECT_EQ(Shell(*s, "Q=/sys/block/vdb/queue; cat $Q/max_segments $Q/logical_block_size"), "254\n512\n");

  // The whole disks as the host wrote them.
  EXPECT_EQ(Shell(*s, "sha256sum /dev/vdb").substr(0, 64), Sha256(raw));
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sda").substr(0, 64), ide_sha);

  // A write at 400 KiB, flushed; read back from the disk once the page cache is dropped.
  std::string expected = raw_data;
  WriteAndReread(*s, "vdb", "STROBE-VIRTIO", &expected);

  // Large sequential: 2 MiB of random bytes at 1 MiB in 256 KiB writes. Then scattered direct writes of
  // several sizes taken from the same bytes (O_DIRECT: each is one request of that size), and direct reads.
  Shell(*s, "dd if=/dev/urandom of=/tmp/big bs=64k count=32 2>/dev/null");
  Shell(*s, "dd if=/tmp/big of=/dev/vdb bs=256k seek=4 conv=fsync 2>/dev/null");
  const std::string big_sha = Shell(*s, "sha256sum /tmp/big").substr(0, 64);
  struct Piece {
    unsigned bs, skip, seek;  // in units of bs
  };
  const Piece pieces[] = {{512, 3, 7001}, {4096, 9, 900}, {1536, 5, 2600}, {65536, 2, 50}, {12288, 7, 310}};
  // (Commands stay shorter than the console's 80 columns: the shell's echo of a longer one wraps.)
  Shell(*s, "W='if=/tmp/big of=/dev/vdb count=1 oflag=direct'");
  for (const Piece& p : pieces)
    EXPECT_EQ(Shell(*s, "dd $W bs=" + std::to_string(p.bs) + " skip=" + std::to_string(p.skip) +
                            " seek=" + std::to_string(p.seek) + " 2>/dev/null || echo fail"),
              "");
  Shell(*s, "R='if=/dev/vdb bs=512 count=3 iflag=direct'");
  const unsigned read_at[] = {7001, 13, 2600, 4100};
  std::string random_reads;
  for (unsigned k : read_at)
    random_reads += Shell(*s, "dd $R skip=" + std::to_string(k) + " 2>/dev/null|sha256sum|head -c16;echo");

  // Both controllers at once: the IDE disk copied onto the snapshot disk while the raw disk is read.
  Shell(*s, "A='if=/dev/sda of=/dev/vdc bs=64k conv=fsync'; B='if=/dev/vdb of=/dev/null'");
  Shell(*s, "(dd $A & dd $B bs=16k & wait) 2>/dev/null");
  Shell(*s, "echo 3 > /proc/sys/vm/drop_caches");
  EXPECT_EQ(Shell(*s, "head -c 2097152 /dev/vdc|sha256sum").substr(0, 64), ide_sha);

  // ext4 made on the host, on the -device disk: a file read, two written, unmounted.
  EXPECT_EQ(Shell(*s, "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt"),
            "hello from the host\n");
  Shell(*s, "seq 1 20000 > /mnt/seq.txt && cp /tmp/big /mnt/big");
  EXPECT_EQ(Shell(*s, "umount /mnt && echo unmounted"), "unmounted\n");
  EXPECT_NE(Shell(*s, "grep virtio /proc/interrupts"), "");

  s->Send("poweroff\n");
  EXPECT_TRUE(s->Expect("reboot: Power down", 60)) << s->output();
  EXPECT_EQ(s->Wait(60), 0) << s->output();

  // The raw image holds exactly the guest's writes.
  std::string written = ReadFile(raw);
  ASSERT_EQ(written.size(), expected.size());
  const std::string big = written.substr(1u << 20, 2u << 20);
  WriteFile(dir_ + "/big.bin", big);
  EXPECT_EQ(Sha256(dir_ + "/big.bin"), big_sha);
  expected.replace(1u << 20, 2u << 20, big);
  for (const Piece& p : pieces)
    expected.replace(size_t{p.seek} * p.bs, p.bs, big.substr(size_t{p.skip} * p.bs, p.bs));
  EXPECT_TRUE(written == expected) << "the raw image does not hold exactly the guest's writes";
  std::string host_reads;
  for (unsigned k : read_at) {
    WriteFile(dir_ + "/piece.bin", expected.substr(size_t{k} * 512, 1536));
    host_reads += Sha256(dir_ + "/piece.bin").substr(0, 16) + "\n";
  }
  EXPECT_EQ(random_reads, host_reads);
  EXPECT_EQ(Sha256(snap), snap_sha);
  CheckExt4(ext4);
  ProcessResult big_in_fs =
      RunProcess({"/bin/sh", "-c",
                  std::string(kSbinPath) + "; debugfs -R 'cat /big' " + ext4 + " 2>/dev/null|sha256sum"});
  EXPECT_EQ(big_in_fs.out.substr(0, 64), big_sha);
}

}  // namespace
}  // namespace strobe::test
