// SPDX-License-Identifier: MIT
// The deterministic mode (-icount shift=0,sleep=off) with Debian's kernel: two boots to power-off
// (strobe.poweroff), side by side so that the host treats them differently, one interpreted and one
// tiered (translated code compiled in the background, whenever the host gets to it), print the same bytes
// on the console and retire the same number of instructions. Each has an IDE and a virtio disk, whose
// partition tables the kernel reads during the boot (completions at fixed virtual times), and no -rtc: the
// RTC starts at 2000-01-01.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>

#include "tests/linux/linux_session.h"
#include "tests/support/process.h"
#include "tests/support/stats_line.h"

namespace strobe::test {
namespace {

class LinuxIcount : public LinuxTest {};

TEST_F(LinuxIcount, InterpretedAndTieredBootsArePrintAndCountIdentical) {
  const std::string image = ::testing::TempDir() + "strobe_icount_disk_" + std::to_string(getpid()) + ".img";
  {
    std::ofstream f(image, std::ios::binary | std::ios::trunc);
    std::string bytes(1 << 20, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
    // An MBR with one Linux partition (sectors 1-2047), so the kernel's scan prints " sda: sda1".
    std::fill(bytes.begin() + 446, bytes.begin() + 512, '\0');
    const unsigned char entry[16] = {0, 0, 0, 0, 0x83, 0, 0, 0, 1, 0, 0, 0, 0xFF, 0x07, 0, 0};
    std::copy(entry, entry + 16, bytes.begin() + 446);
    bytes[510] = 0x55;
    bytes[511] = static_cast<char>(0xAA);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const std::vector<std::string> args = {STROBE_BINARY,
                                         "run",
                                         "-kernel",
                                         LinuxDir() + "/vmlinuz",
                                         "-initrd",
                                         LinuxDir() + "/initramfs.cpio.gz",
                                         "-append",
                                         "console=ttyS0 strobe.poweroff",
                                         "-nographic",
                                         "-icount",
                                         "shift=0,sleep=off",
                                         "-drive",
                                         "file=" + image + ",format=raw,if=ide,snapshot=on",
                                         "-drive",
                                         "file=" + image + ",format=raw,if=virtio,snapshot=on",
                                         "--stats",
                                         "--timeout",
                                         "280"};
  std::vector<std::string> interp = args, tiered = args;
  interp.insert(interp.end(), {"--engine", "interp"});
  tiered.insert(tiered.end(), {"--engine", "tiered", "--code-cache", "off"});
  auto first = std::async(std::launch::async, [&] { return RunProcess(interp, "", 290); });
  const ProcessResult b = RunProcess(tiered, "", 290);
  const ProcessResult a = first.get();
  ASSERT_EQ(a.exit_code, 0) << a.err << a.out;
  ASSERT_EQ(b.exit_code, 0) << b.err << b.out;
  EXPECT_NE(a.out.find("reboot: Power down"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find(" sda: sda1"), std::string::npos) << a.out;  // the disks were read
  EXPECT_NE(a.out.find(" vda: vda1"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("2000-01-01"), std::string::npos) << a.out;  // the RTC's fixed start
  EXPECT_EQ(a.out, b.out);
  const std::string count = InstructionCount(a.err);
  EXPECT_FALSE(count.empty()) << a.err;
  EXPECT_EQ(count, InstructionCount(b.err)) << a.err << b.err;
  std::remove(image.c_str());
}

}  // namespace
}  // namespace strobe::test
