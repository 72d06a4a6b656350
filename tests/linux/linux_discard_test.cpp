// SPDX-License-Identifier: MIT
// fstrim under Debian's kernel with discard=unmap, against qemu-system-mipsel: the same command line under
// both VMMs, a raw and a qcow2 image on virtio-blk and a raw one on IDE (ATA TRIM), each holding an ext4
// file system made on the host.
// The guest writes a file, removes it and trims. What the guest sees (the queue's discard and write-zeroes
// limits in sysfs, what fstrim reports) must be the same under both; on the host both images must have given
// the file's space back, and QEMU's tools must find the qcow2 image and both file systems clean.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/linux/linux_disk.h"

namespace strobe::test {
namespace {

constexpr const char* kQemu = "/usr/bin/qemu-system-mipsel";
constexpr const char* kQemuImg = "/usr/bin/qemu-img";

uint64_t Allocated(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Short commands: a line wider than the terminal comes back re-drawn in the echo.
const char* const kLook[] = {
    "Q=/sys/block/vda/queue; R=/sys/block/vdb/queue; S=/sys/block/sda/queue",
    "cat $Q/discard_granularity $Q/discard_max_hw_bytes",
    "cat $Q/write_zeroes_max_bytes $Q/max_discard_segments",
    "cat $R/discard_granularity $R/discard_max_hw_bytes",
    "cat $S/discard_granularity $S/discard_max_hw_bytes",
    "cat $S/write_zeroes_max_bytes $S/max_discard_segments",
    // noinit_itable: no background zeroing of inode tables, whose progress would depend on timing.
    "mkdir -p /a /b /c && mount -t ext4 -o noinit_itable /dev/vda /a",
    "mount -o noinit_itable /dev/vdb /b && echo mounted",
    "mount -o noinit_itable /dev/sda /c && echo mounted",
    "for d in /a /b /c; do head -c 6000000 /dev/urandom > $d/f; done",
    "sync; rm /a/f /b/f /c/f; sync; fstrim -v /a; fstrim -v /b",
    "fstrim -v /c",
    "umount /a /b /c; echo unmounted",
};

TEST_F(LinuxDisk, FstrimGivesTheSpaceBackAsUnderQemu) {
  ASSERT_EQ(access(kQemu, X_OK), 0) << kQemu << " is missing: tools/setup-deps.sh installs it";
  ASSERT_EQ(access(kQemuImg, X_OK), 0) << "qemu-img is missing: tools/setup-deps.sh installs qemu-utils";
  const std::string base = dir_ + "/base.img";
  MakeExt4(base, "48M");
  if (HasFatalFailure()) return;
  std::string seen[2];
  uint64_t used[2][3] = {};  // bytes each image takes on the host after the run: Strobe's, QEMU's
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i == 0 ? "Strobe" : "QEMU");
    const std::string raw = dir_ + "/d" + std::to_string(i) + ".img";
    const std::string qcow2 = dir_ + "/d" + std::to_string(i) + ".qcow2";
    const std::string ide = dir_ + "/ide" + std::to_string(i) + ".img";
    ASSERT_EQ(RunProcess({"/bin/cp", base, raw}).exit_code, 0);
    ASSERT_EQ(RunProcess({"/bin/cp", base, ide}).exit_code, 0);
    ASSERT_EQ(RunProcess({kQemuImg, "convert", "-O", "qcow2", base, qcow2}).exit_code, 0);
    std::vector<std::string> args =
        BootArgs({"-drive", "file=" + raw + ",if=virtio,format=raw,discard=unmap", "-drive",
                  "file=" + qcow2 + ",if=virtio,format=qcow2,discard=unmap", "-drive",
                  "file=" + ide + ",if=ide,format=raw,discard=unmap"});
    if (i == 1) {  // the same machine under QEMU: its binary, no Strobe-only options
      args[0] = kQemu;
      args.erase(args.begin() + 1);
      const auto t = std::find(args.begin(), args.end(), "--timeout");
      args.erase(t, t + 2);
    }
    ConsoleSession s(args);
    ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
    Shell(s, "dmesg -n 1");
    for (const char* cmd : kLook) seen[i] += Shell(s, cmd);
    s.Send("poweroff -f\n");
    EXPECT_EQ(s.Wait(60), 0) << s.output();
    // 6 MB written into each and trimmed away: no image keeps them (what ext4's journal and metadata
    // wrote meanwhile stays, a few hundred KiB to 2 MiB, as much under QEMU as under Strobe).
    int k = 0;
    for (const std::string& image : {raw, qcow2, ide}) {
      used[i][k] = Allocated(image);
      EXPECT_LT(used[i][k], Allocated(base) + (3u << 20)) << image << "\n" << seen[i];
      ++k;
    }
    ProcessResult check = RunProcess({kQemuImg, "check", qcow2});
    EXPECT_NE(check.out.find("No errors were found"), std::string::npos) << check.out << check.err;
    EXPECT_EQ(check.out.find("leaked"), std::string::npos) << check.out;
    ASSERT_EQ(RunProcess({kQemuImg, "convert", "-O", "raw", qcow2, qcow2 + ".raw"}).exit_code, 0);
    for (const std::string& image : {raw, qcow2 + ".raw", ide}) {
      ProcessResult fsck = RunProcess({"/bin/sh", "-c", std::string(kSbinPath) + "; e2fsck -fn " + image});
      EXPECT_EQ(fsck.exit_code, 0) << image << ": " << fsck.out << fsck.err;
    }
  }
  // QEMU 7.2's limits (virtio: 4194303 sectors, one range, 512-byte granularity; IDE: what libata takes
  // from a disk with TRIM, 64 entries of 65535 sectors) and fstrim's count.
  EXPECT_NE(seen[0].find("512\n2147483136\n2147483136\n1\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("512\n2147450880\n0\n1\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("bytes trimmed"), std::string::npos) << seen[0];
  EXPECT_EQ(seen[0], seen[1]) << "Strobe, then QEMU";
  for (int k = 0; k < 3; ++k)
    EXPECT_LT(std::max(used[0][k], used[1][k]) - std::min(used[0][k], used[1][k]), 1u << 20)
        << k << ": Strobe " << used[0][k] << " bytes, QEMU " << used[1][k];
}

}  // namespace
}  // namespace strobe::test
