// SPDX-License-Identifier: MIT
// virtio-balloon under Debian's kernel (virtio_balloon, loaded by its modalias from the initramfs), against
// qemu-system-mipsel (the oracle nobody here wrote): both VMMs boot the same command line, the console's
// monitor asks for 100 MB and then for all 256 MB again, and the guest's MemTotal at each step must be the
// same under both. Under Strobe the memory the guest gives back leaves the process: the guest first fills
// its page cache with 100 MB, frees it, and the balloon takes those pages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"

namespace strobe::test {
namespace {

class LinuxBalloon : public LinuxTest {};

constexpr const char* kQemu = "/usr/bin/qemu-system-mipsel";

std::vector<std::string> Machine(const std::string& vmm) {
  std::vector<std::string> a = {vmm};
  if (vmm == STROBE_BINARY) a.push_back("run");
  for (const std::string& s : {"-M", "malta", "-m", "256", "-cpu", "24Kf", "-nographic", "-no-reboot",
                               "-device", "virtio-balloon-pci"})
    a.push_back(s);
  a.insert(a.end(), {"-kernel", LinuxDir() + "/vmlinuz", "-initrd", LinuxDir() + "/initramfs.cpio.gz",
                     "-append", "console=ttyS0"});
  return a;
}

// The console's monitor (Ctrl-A c, as -nographic multiplexes it): sets the balloon and waits until the
// guest's count matches (info balloon), then back to the guest.
void Balloon(ConsoleSession& s, int mb) {
  const std::string toggle =
      "\x01"
      "c";  // two literals: \x01c would be one hex escape
  s.Send(toggle);
  ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
  s.Send("balloon " + std::to_string(mb) + "\r");
  ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
  bool reached = false;
  for (int i = 0; i < 60 && !reached; ++i) {
    const size_t mark = s.cursor();
    s.Send("info balloon\r");
    ASSERT_TRUE(s.Expect("balloon: actual=", 20)) << s.output();
    ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
    reached = s.Since(mark).find("balloon: actual=" + std::to_string(mb) + "\r") != std::string::npos;
    if (!reached) usleep(500 * 1000);
  }
  EXPECT_TRUE(reached) << "the guest never reached " << mb << " MB\n" << s.output();
  s.Send(toggle);
  Shell(s, "true");
}

long RssKiB(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST_F(LinuxBalloon, MemTotalFollowsTheMonitorAsUnderQemuAndTheMemoryLeavesTheProcess) {
  ASSERT_EQ(access(kQemu, X_OK), 0) << kQemu << " is missing: tools/setup-deps.sh installs it";
  std::string seen[2];
  for (int i = 0; i < 2; ++i) {
    const bool strobe = i == 0;
    ConsoleSession s(Machine(strobe ? STROBE_BINARY : kQemu));
    ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
    Shell(s, "dmesg -n 1");
    seen[i] = Shell(s, "grep MemTotal /proc/meminfo");
    // 100 MB of page cache (the initramfs is a tmpfs-like rootfs: a file there is memory), then freed.
    Shell(s, "dd if=/dev/zero of=/root/fill bs=1M count=100 2>/dev/null; rm /root/fill");
    const long before = strobe ? RssKiB(s.pid()) : 0;
    Balloon(s, 100);
    if (HasFatalFailure()) return;
    seen[i] += Shell(s, "grep MemTotal /proc/meminfo");
    if (strobe) {
      const long after = RssKiB(s.pid());
      EXPECT_LT(after, before - 50 * 1024) << "RSS " << before << " KiB before, " << after << " KiB after";
    }
    Balloon(s, 256);
    if (HasFatalFailure()) return;
    seen[i] += Shell(s, "grep MemTotal /proc/meminfo");
    seen[i] += Shell(s, "cat /sys/bus/pci/devices/0000:00:13.0/device");
    s.Send("poweroff -f\n");
    s.Wait(60);
  }
  EXPECT_NE(seen[0].find("MemTotal:          84484 kB"), std::string::npos) << seen[0];
  EXPECT_EQ(seen[0], seen[1]) << "Strobe, then QEMU";
}

}  // namespace
}  // namespace strobe::test
