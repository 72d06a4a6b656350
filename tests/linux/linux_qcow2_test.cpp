// SPDX-License-Identifier: MIT
// Debian's kernel on qcow2 disks: an ext4 file system made on the host in a raw base image, under a qcow2
// overlay on IDE (the guest reads the host's file and writes a new one), and an empty qcow2 image on
// virtio-blk written with dd. After the run QEMU's own tools are the judges: qemu-img check finds the images
// consistent, the base is untouched, and the bytes qemu-img reads are the guest's (e2fsck and debugfs over
// the converted file system).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/linux/linux_disk.h"

namespace strobe::test {
namespace {

constexpr const char* kQemuImg = "/usr/bin/qemu-img";

std::string QemuImg(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kQemuImg};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = RunProcess(argv, "", 120);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.out;
}

TEST_F(LinuxDisk, Qcow2OverlayOnIdeAndQcow2OnVirtio) {
  ASSERT_EQ(access(kQemuImg, X_OK), 0) << "qemu-img is missing: tools/setup-deps.sh installs qemu-utils";
  const std::string base = dir_ + "/base.img", overlay = dir_ + "/overlay.qcow2", blank = dir_ + "/v.qcow2";
  WriteFile(dir_ + "/files/hello.txt", "hello from the host\n");
  MakeExt4(base, "16M");
  if (HasFatalFailure()) return;
  const std::string base_sha = Sha256(base);
  QemuImg({"create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay});
  QemuImg({"create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", blank, "8M"});

  auto s = Boot({"-hda", overlay, "-drive", "file=" + blank + ",if=virtio"});
  EXPECT_NE(boot_log_.find("[sda] 32768 512-byte logical blocks"), std::string::npos) << boot_log_;
  EXPECT_EQ(Shell(*s, "mkdir -p /mnt && mount -t ext4 /dev/sda /mnt && cat /mnt/hello.txt"),
            "hello from the host\n");
  EXPECT_EQ(Shell(*s, "seq 1 20000 > /mnt/seq.txt && umount /mnt && echo unmounted"), "unmounted\n");
  // The virtio disk: a never-written image reads as zeros; 64 KiB written across clusters, read back.
  EXPECT_EQ(Shell(*s, "cmp /dev/vda /dev/zero 2>&1 | head -c 16"), "cmp: EOF on /dev");
  Shell(*s, "yes QCOW2|head -c 65536|dd of=/dev/vda bs=4k seek=33 conv=fsync 2>/dev/null");
  Shell(*s, "echo 3 > /proc/sys/vm/drop_caches");
  // Both sums on one line each ("HASH  -"): the disk's 64 KiB and what was written.
  const std::string sums = Shell(
      *s, "dd if=/dev/vda bs=4k skip=33 count=16 2>/dev/null | md5sum; yes QCOW2|head -c 65536 | md5sum");
  const size_t second = sums.rfind("  -\n", sums.size() - 5);
  ASSERT_TRUE(second != std::string::npos && second >= 32 && sums.size() >= 36) << sums;
  EXPECT_EQ(sums.substr(second - 32, 32), sums.substr(sums.size() - 36, 32)) << sums;
  s->Send("poweroff\n");
  EXPECT_TRUE(s->Expect("reboot: Power down", 60)) << s->output();
  EXPECT_EQ(s->Wait(60), 0) << s->output();

  EXPECT_EQ(Sha256(base), base_sha) << "the backing file was written";
  for (const std::string& image : {overlay, blank}) {
    const std::string check = QemuImg({"check", image});
    EXPECT_NE(check.find("No errors were found on the image."), std::string::npos) << check;
  }
  QemuImg({"convert", "-O", "raw", overlay, dir_ + "/overlay.raw"});
  CheckExt4(dir_ + "/overlay.raw");
  QemuImg({"convert", "-O", "raw", blank, dir_ + "/v.raw"});
  const std::string v = ReadFile(dir_ + "/v.raw");
  ASSERT_EQ(v.size(), 8u << 20);
  EXPECT_EQ(v.substr(33 * 4096, 65536), Yes("QCOW2", 65536));
  EXPECT_EQ(v.substr(0, 33 * 4096), std::string(33 * 4096, '\0'));
}

}  // namespace
}  // namespace strobe::test
