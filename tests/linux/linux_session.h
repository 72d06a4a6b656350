// SPDX-License-Identifier: MIT
// What the Linux tests share: where Debian's kernel and the initramfs are, the command line that boots
// them, and running one shell command on the guest's console.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/console_session.h"

namespace strobe::test {

inline constexpr double kBootTimeout = 240;  // seconds; an interpreter boot takes about 10 on this machine
inline constexpr const char* kPrompt = "strobe:~# ";

inline std::string LinuxDir() {
  const char* env = std::getenv("STROBE_LINUX_DIR");
  return env ? env : STROBE_LINUX_DIR;
}

inline bool HaveImages() {
  return std::ifstream(LinuxDir() + "/vmlinuz").good() &&
         std::ifstream(LinuxDir() + "/initramfs.cpio.gz").good();
}

// The Linux tests' fixture: without Debian's kernel and initramfs a test fails (tools/test.sh fetches
// them), unless STROBE_SKIP_LINUX asks for a skip. A fixture with a SetUp of its own calls this one first
// and returns if it skipped or failed.
class LinuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (HaveImages()) return;
    if (std::getenv("STROBE_SKIP_LINUX")) GTEST_SKIP() << "STROBE_SKIP_LINUX is set";
    FAIL() << "no kernel/initramfs in " << LinuxDir() << ": run guests/linux/fetch.sh (tools/test.sh does)";
  }
  bool Unready() const { return IsSkipped() || HasFatalFailure(); }
};

inline std::vector<std::string> BootArgs(std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {STROBE_BINARY, "run",
                                "-M",          "malta",
                                "-m",          "256",
                                "-kernel",     LinuxDir() + "/vmlinuz",
                                "-initrd",     LinuxDir() + "/initramfs.cpio.gz",
                                "-append",     "console=ttyS0",
                                "-nographic",  "--timeout",
                                "600"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Runs one shell command and returns what it printed. The shell echoes the command line (re-drawn with
// escape sequences when it is wider than the terminal), so everything up to the first newline is dropped.
inline std::string Shell(ConsoleSession& s, const std::string& cmd, double timeout = 120) {
  s.Send(cmd + "\n");
  EXPECT_TRUE(s.Expect("\n", 30)) << "no echo for: " << cmd;
  size_t mark = s.cursor();
  EXPECT_TRUE(s.Expect(kPrompt, timeout)) << "no prompt after: " << cmd << "\n" << s.output().substr(mark);
  std::string out = s.Since(mark);
  out.erase(std::remove(out.begin(), out.end(), '\r'), out.end());
  if (out.size() >= std::string(kPrompt).size()) out.resize(out.size() - std::string(kPrompt).size());
  return out;
}

}  // namespace strobe::test
