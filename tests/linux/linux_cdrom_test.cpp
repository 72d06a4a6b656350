// SPDX-License-Identifier: MIT
// Debian's kernel with the ATAPI CD-ROM drive on the PIIX4 (ata_piix, libata's ATAPI, sr_mod and cdrom
// loaded by rcS from the SCSI device's modalias, isofs on mount): an ISO 9660 image made on the host with
// xorriso is /dev/sr0, read-only, of the image's size; a file on it has the host's sha256. Alone (-cdrom)
// under the default engine with DMA, beside a hard disk (index 0 and 2) with an empty drive as the
// secondary slave under the interpreter with PIO (libata.dma=0).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/linux/linux_disk.h"
#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

class LinuxCdrom : public LinuxDisk {
 protected:
  // An ISO 9660 image (Rock Ridge and Joliet) of dir_/files: data.bin (300,000 random bytes) and
  // sub/hello.txt. Its size is not a multiple of 2048's powers: the drive must report it exactly.
  void MakeIso(const std::string& iso) {
    ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", dir_ + "/files/sub"}).exit_code, 0);
    WriteFile(dir_ + "/files/data.bin", RandomBytes(300000, 5));
    WriteFile(dir_ + "/files/sub/hello.txt", "hello from the cd\n");
    data_sha_ = Sha256(dir_ + "/files/data.bin");
    ProcessResult mk = RunProcess(
        {"/bin/sh", "-c", "xorriso -as mkisofs -quiet -R -J -V STROBECD -o " + iso + " " + dir_ + "/files"});
    ASSERT_EQ(mk.exit_code, 0) << "xorriso (tools/setup-deps.sh installs it): " << mk.err;
  }
  // What the guest sees on /dev/DEV: the size, read-only, the files of the disc, no writes.
  void CheckDisc(ConsoleSession& s, const std::string& dev, const std::string& iso) {
    EXPECT_EQ(Shell(s, "blockdev --getsize64 /dev/" + dev), std::to_string(ReadFile(iso).size()) + "\n");
    EXPECT_EQ(Shell(s, "blockdev --getro /dev/" + dev), "1\n");
    EXPECT_EQ(Shell(s, "blockdev --getss /dev/" + dev), "2048\n");
    EXPECT_EQ(Shell(s, "sha256sum /dev/" + dev).substr(0, 64), Sha256(iso));
    EXPECT_EQ(Shell(s, "mkdir -p /mnt/cd && mount -t iso9660 /dev/" + dev + " /mnt/cd && echo mounted"),
              "mounted\n");
    EXPECT_EQ(Shell(s, "sha256sum /mnt/cd/data.bin").substr(0, 64), data_sha_);
    EXPECT_EQ(Shell(s, "cat /mnt/cd/sub/hello.txt"), "hello from the cd\n");
    EXPECT_EQ(Shell(s, "touch /mnt/cd/new 2>&1; echo $?"), "touch: /mnt/cd/new: Read-only file system\n1\n");
    EXPECT_EQ(Shell(s, "dd if=/dev/zero of=/dev/" + dev + " bs=2048 count=1 2>&1; echo $?"),
              "dd: can't open '/dev/" + dev + "': Read-only file system\n1\n");
    EXPECT_EQ(Shell(s, "umount /mnt/cd && echo unmounted"), "unmounted\n");
  }
  void PowerOff(ConsoleSession& s) {
    s.Send("poweroff\n");
    EXPECT_TRUE(s.Expect("reboot: Power down", 60)) << s.output();
    EXPECT_EQ(s.Wait(60), 0) << s.output();
  }

  std::string data_sha_;
};

TEST_F(LinuxCdrom, MountsAnIsoImageFromCdrom) {
  const std::string iso = dir_ + "/cd.iso";
  MakeIso(iso);
  if (HasFatalFailure()) return;
  auto s = Boot({"-cdrom", iso});
  EXPECT_NE(boot_log_.find("ata2.00: ATAPI: STROBE DVD-ROM, 1.0, max UDMA/100"), std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("CD-ROM            STROBE   STROBE DVD-ROM   1.0  PQ: 0 ANSI: 5"),
            std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("[sr0] scsi3-mmc drive: 4x/4x cd/rw xa/form2 tray"), std::string::npos)
      << boot_log_;
  // sr_mod was loaded by rcS, so the drive is /dev/sr0 at the prompt (the message is KERN_DEBUG: dmesg).
  EXPECT_EQ(Shell(*s, "dmesg | grep -o 'Attached scsi CD-ROM sr0'"), "Attached scsi CD-ROM sr0\n");
  EXPECT_EQ(Shell(*s, "cat /sys/class/ata_device/dev2.0/xfer_mode"), "XFER_UDMA_2\n");
  CheckDisc(*s, "sr0", iso);
  PowerOff(*s);
}

TEST_F(LinuxCdrom, BesideAHardDiskWithAnEmptyDriveUnderTheInterpreterWithPio) {
  const std::string iso = dir_ + "/cd.iso", disk = dir_ + "/disk.img";
  MakeIso(iso);
  if (HasFatalFailure()) return;
  WriteFile(disk, RandomBytes(1u << 20, 6));
  auto s = Boot({"--engine", "interp", "-append", "console=ttyS0 libata.dma=0", "-hda", disk, "-drive",
                 "file=" + iso + ",if=ide,media=cdrom,index=2", "-drive", "if=ide,media=cdrom,index=3"});
  EXPECT_NE(boot_log_.find("ata2.01: ATAPI: STROBE DVD-ROM, 1.0"), std::string::npos) << boot_log_;
  EXPECT_EQ(Shell(*s, "cat /sys/class/ata_device/dev2.0/xfer_mode"), "XFER_PIO_4\n");
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sda").substr(0, 64), Sha256(disk));
  CheckDisc(*s, "sr0", iso);
  // The empty drive (secondary slave) is sr1, with no medium, as QEMU's.
  EXPECT_EQ(Shell(*s, "blockdev --getsize64 /dev/sr1 2>&1"),
            "blockdev: can't open '/dev/sr1': No medium found\n");
  PowerOff(*s);
}

}  // namespace
}  // namespace strobe::test
