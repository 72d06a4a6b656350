// SPDX-License-Identifier: MIT
// Debian's kernel on IDE disks (PIIX4, ata_piix loaded from the initramfs): the guest reads raw images the
// host made and writes them with dd and ext4, and the host checks the files after the run (sha256sum,
// e2fsck, debugfs); -snapshot and SIGTERM with virtio disks too; -blockdev nodes on -device ide-hd, ide-cd
// and virtio-blk-pci as libvirt spells them. Each test is one boot that combines several checks. The virtio
// disks' own test is linux_virtio_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/linux/linux_disk.h"
#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

TEST_F(LinuxDisk, ReadsAndWritesRawExt4AndSnapshotDisksOnBothChannels) {
  const std::string raw = dir_ + "/raw.img", ext4 = dir_ + "/ext4.img", snap = dir_ + "/snap.img";
  const std::string raw_data = RandomBytes(4u << 20, 1);
  WriteFile(raw, raw_data);
  WriteFile(snap, RandomBytes(1u << 20, 2));
  const std::string snap_sha = Sha256(snap);
  WriteFile(dir_ + "/files/hello.txt", "hello from the host\n");
  MakeExt4(ext4, "16M");
  if (HasFatalFailure()) return;

  // -hda, -hdb (primary master and slave) and a snapshot=on disk as secondary slave (/dev/sdc).
  auto s =
      Boot({"-hda", raw, "-hdb", ext4, "-drive", "file=" + snap + ",format=raw,if=ide,index=3,snapshot=on"});
  EXPECT_NE(boot_log_.find("ata1.00: ATA-7: STROBE HARDDISK, 1.0, max UDMA/100"), std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("[sda] 8192 512-byte logical blocks"), std::string::npos) << boot_log_;

  EXPECT_EQ(Shell(*s, "cat /sys/class/ata_device/dev1.0/xfer_mode"), "XFER_UDMA_2\n");  // UDMA/33
  // The whole disk as the host wrote it (DMA reads through the page cache).
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sda").substr(0, 64), Sha256(raw));
  // A write at 400 KiB, flushed; read back from the disk once the page cache is dropped.
  std::string expected = raw_data;
  WriteAndReread(*s, "sda", "STROBE-IDE", &expected);

  // A large sequential write (1 MiB of random bytes at 2 MiB, in 64 KiB requests) and small writes at
  // scattered sectors (each a read-modify-write of its page in the guest).
  Shell(*s, "dd if=/dev/urandom of=/tmp/big bs=64k count=16 2>/dev/null");
  Shell(*s, "dd if=/tmp/big of=/dev/sda bs=64k seek=32 conv=fsync 2>/dev/null");
  const std::string big_sha = Shell(*s, "sha256sum /tmp/big").substr(0, 64);
  const unsigned scattered[] = {7, 300, 41, 1999, 777, 6500};
  for (unsigned sector : scattered) {
    const std::string word = "X" + std::to_string(sector) + "\n";
    Shell(*s, "echo X" + std::to_string(sector) + "|dd of=/dev/sda bs=512 seek=" + std::to_string(sector) +
                  " conv=fsync 2>/dev/null");
    expected.replace(sector * 512, word.size(), word);
  }

  // ext4 made on the host: a file read, one written, unmounted.
  EXPECT_EQ(Shell(*s, "mkdir -p /mnt && mount -t ext4 /dev/sdb /mnt && cat /mnt/hello.txt"),
            "hello from the host\n");
  EXPECT_EQ(Shell(*s, "seq 1 20000 > /mnt/seq.txt && umount /mnt && echo unmounted"), "unmounted\n");

  // The snapshot disk takes the write, and shows it back, but its file is never touched.
  Shell(*s, "yes SNAP|head -c 4096|dd of=/dev/sdc bs=4k seek=3 conv=fsync");
  Shell(*s, "echo 3 > /proc/sys/vm/drop_caches");
  EXPECT_EQ(Shell(*s, "dd if=/dev/sdc bs=4k skip=3 count=1 2>/dev/null|head -c10"), "SNAP\nSNAP\n");

  s->Send("poweroff\n");
  EXPECT_TRUE(s->Expect("reboot: Power down", 60)) << s->output();
  EXPECT_EQ(s->Wait(60), 0) << s->output();

  std::string written = ReadFile(raw);
  ASSERT_EQ(written.size(), expected.size());
  WriteFile(dir_ + "/big.bin", written.substr(2u << 20, 1u << 20));
  EXPECT_EQ(Sha256(dir_ + "/big.bin"), big_sha);
  written.replace(2u << 20, 1u << 20, expected.substr(2u << 20, 1u << 20));
  EXPECT_TRUE(written == expected) << "the raw image does not hold exactly the guest's writes";
  EXPECT_EQ(Sha256(snap), snap_sha);
  CheckExt4(ext4);
}

TEST_F(LinuxDisk, SnapshotOptionKeepsTheImageAndSigtermFlushesTheOthers) {
  const std::string base = dir_ + "/base.img", work = dir_ + "/work.img", vbase = dir_ + "/vbase.img",
                    vwork = dir_ + "/vwork.img";
  WriteFile(base, RandomBytes(2u << 20, 3));
  WriteFile(work, std::string(2u << 20, '\0'));
  WriteFile(vbase, RandomBytes(1u << 20, 4));
  WriteFile(vwork, std::string(1u << 20, '\0'));
  const std::string base_sha = Sha256(base), vbase_sha = Sha256(vbase);
  // -snapshot for every drive but the ones that say snapshot=off (an IDE and a virtio disk of each kind);
  // libata.dma=0: PIO (READ/WRITE MULTIPLE) this time, where the other test's guest uses DMA; the virtio
  // disks through the legacy interface (VERSION_1 off), where linux_virtio_test's use the modern one.
  auto s = Boot({"-append", "console=ttyS0 libata.dma=0 virtio_pci.force_legacy=1", "-snapshot", "-hda", base,
                 "-drive", "file=" + work + ",format=raw,if=ide,index=1,snapshot=off", "-drive",
                 "file=" + vbase + ",format=raw,if=virtio", "-drive",
                 "file=" + vwork + ",format=raw,if=virtio,snapshot=off"});
  EXPECT_EQ(Shell(*s, "cat /sys/class/ata_device/dev1.0/xfer_mode"), "XFER_PIO_4\n");
  EXPECT_EQ(Shell(*s, "cut -c33 /sys/bus/virtio/devices/virtio0/features"), "0\n");
  Shell(*s, "yes BASE|head -c 4096|dd of=/dev/sda bs=4k seek=5 conv=fsync");
  Shell(*s, "yes WORK|head -c 4096|dd of=/dev/sdb bs=4k seek=7 conv=fsync");
  Shell(*s, "yes VBASE|head -c 4096|dd of=/dev/vda bs=4k seek=2 conv=fsync");
  // Written and not flushed by the guest: SIGTERM's drain and flush must still put it in the file.
  Shell(*s, "yes VWORK|head -c 8192|dd of=/dev/vdb bs=4k seek=9 oflag=direct");
  Shell(*s, "echo 3 > /proc/sys/vm/drop_caches");
  EXPECT_EQ(Shell(*s, "dd if=/dev/sda bs=4k skip=5 count=1 2>/dev/null|head -c10"), "BASE\nBASE\n");
  EXPECT_EQ(Shell(*s, "dd if=/dev/vda bs=4k skip=2 count=1 2>/dev/null|head -c12"), "VBASE\nVBASE\n");
  // SIGTERM ends the run as Ctrl-A x does, with status 0, after the disks are flushed.
  s->Signal(SIGTERM);
  EXPECT_EQ(s->Wait(60), 0) << s->output();
  EXPECT_NE(s->output().find("strobe: terminating on signal 15"), std::string::npos) << s->output();
  EXPECT_EQ(Sha256(base), base_sha);
  const std::string w = ReadFile(work);
  ASSERT_EQ(w.size(), 2u << 20);
  EXPECT_EQ(w.substr(7 * 4096, 4096), Yes("WORK", 4096));
  EXPECT_EQ(w.substr(0, 7 * 4096), std::string(7 * 4096, '\0'));
  EXPECT_EQ(Sha256(vbase), vbase_sha);
  const std::string v = ReadFile(vwork);
  ASSERT_EQ(v.size(), 1u << 20);
  EXPECT_EQ(v.substr(9 * 4096, 8192), Yes("VWORK", 8192));
  EXPECT_EQ(v.substr(0, 9 * 4096), std::string(9 * 4096, '\0'));
}

// -blockdev and -device as libvirt writes them (a JSON file node under a raw node), and as people type
// them (a raw node with its file inline): the guest finds the disks where the devices put them, with the
// write cache they ask for, and writes reach the images even under -snapshot, which QEMU applies to -drive
// only.
TEST_F(LinuxDisk, BlockdevNodesOnIdeAndVirtioDevices) {
  const std::string disk = dir_ + "/disk.img", vdisk = dir_ + "/vdisk.img", cd = dir_ + "/cd.iso";
  const std::string disk_data = RandomBytes(2u << 20, 5), vdisk_data = RandomBytes(1u << 20, 6);
  WriteFile(disk, disk_data);
  WriteFile(vdisk, vdisk_data);
  WriteFile(cd, RandomBytes(1u << 20, 7));
  auto s =
      Boot({"-snapshot", "-blockdev",
            R"({"driver":"file","filename":")" + disk + R"(","node-name":"storage1","auto-read-only":true})",
            "-blockdev", R"({"node-name":"format1","read-only":false,"driver":"raw","file":"storage1"})",
            "-device", "ide-hd,bus=ide.1,unit=1,drive=format1,id=disk1,serial=BLOCKDEV1", "-blockdev",
            "driver=raw,node-name=v0,file.driver=file,file.filename=" + vdisk, "-device",
            "virtio-blk-pci,drive=v0,write-cache=off", "-blockdev",
            "driver=file,node-name=cd0,filename=" + cd + ",read-only=on", "-device", "ide-cd,drive=cd0"});
  // The disk is the secondary channel's slave (ata2.01, as asked); the CD-ROM, placed as QEMU places a
  // device without bus=, the secondary channel's master (ata2.00).
  EXPECT_NE(boot_log_.find("ata2.01: ATA-7: STROBE HARDDISK, 1.0, max UDMA/100"), std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("ata2.00: ATAPI: STROBE DVD-ROM, 1.0, max UDMA/100"), std::string::npos)
      << boot_log_;
  EXPECT_EQ(Shell(*s, "cat /sys/block/sda/device/scsi_disk/*/cache_type"), "write back\n");
  EXPECT_EQ(Shell(*s, "cat /sys/block/vda/queue/write_cache"), "write through\n");
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sr0").substr(0, 64), Sha256(cd));
  std::string expected = disk_data, vexpected = vdisk_data;
  WriteAndReread(*s, "sda", "BLOCKDEV", &expected);
  WriteAndReread(*s, "vda", "VIRTIOBLK", &vexpected);
  s->Send("poweroff\n");
  EXPECT_TRUE(s->Expect("reboot: Power down", 60)) << s->output();
  EXPECT_EQ(s->Wait(60), 0) << s->output();
  EXPECT_TRUE(ReadFile(disk) == expected) << "the IDE node's image does not hold the guest's write";
  EXPECT_TRUE(ReadFile(vdisk) == vexpected) << "the virtio node's image does not hold the guest's write";
}

}  // namespace
}  // namespace strobe::test
