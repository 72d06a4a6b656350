// SPDX-License-Identifier: MIT
// -netdev socket between processes: a Debian guest under Strobe and one under qemu-system-mipsel (the
// oracle nobody here wrote) on one Ethernet segment carried over TCP with QEMU's framing, each pinging the
// other and one fetching a page from the other's busybox httpd.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/free_port.h"

namespace strobe::test {
namespace {

class LinuxSocketNet : public LinuxTest {};

std::vector<std::string> Machine(const std::string& vmm, const std::string& append, const std::string& netdev,
                                 const std::string& mac) {
  std::vector<std::string> a = {vmm};
  if (vmm == STROBE_BINARY) a.push_back("run");
  for (const std::string& s :
       {"-M", "malta", "-m", "256", "-cpu", "24Kf", "-nographic", "-no-reboot", "-kernel"})
    a.push_back(s);
  a.insert(a.end(), {LinuxDir() + "/vmlinuz", "-initrd", LinuxDir() + "/initramfs.cpio.gz", "-append",
                     "console=ttyS0 " + append, "-netdev", netdev, "-device", "pcnet,netdev=n0,mac=" + mac});
  return a;
}

TEST_F(LinuxSocketNet, StrobeAndQemuShareASegment) {
  const std::string qemu = "/usr/bin/qemu-system-mipsel";
  ASSERT_EQ(access(qemu.c_str(), X_OK), 0) << qemu << " is missing: tools/setup-deps.sh installs it";
  const std::string port = std::to_string(FreePort());
  // Strobe listens (from before the guest starts), QEMU connects once Strobe's kernel is up.
  ConsoleSession strobe(Machine(STROBE_BINARY, "strobe.ip=10.0.9.1 strobe.httpd",
                                "socket,id=n0,listen=127.0.0.1:" + port, "52:54:00:12:34:56"));
  ASSERT_TRUE(strobe.Expect("Linux version", 60)) << strobe.output();
  ConsoleSession q(
      Machine(qemu, "strobe.ip=10.0.9.2", "socket,id=n0,connect=127.0.0.1:" + port, "52:54:00:12:34:57"));
  ASSERT_TRUE(strobe.Expect(kPrompt, kBootTimeout)) << strobe.output();
  ASSERT_TRUE(q.Expect(kPrompt, kBootTimeout)) << q.output();
  const std::string from_qemu = Shell(q, "ping -c 3 10.0.9.1 | tail -2; wget -qO- http://10.0.9.1/");
  EXPECT_NE(from_qemu.find("3 packets transmitted, 3 packets received"), std::string::npos) << from_qemu;
  EXPECT_NE(from_qemu.find("hello from vm 10.0.9.1"), std::string::npos) << from_qemu;
  const std::string from_strobe = Shell(strobe, "ping -c 2 10.0.9.2 | tail -2");
  EXPECT_NE(from_strobe.find("2 packets transmitted, 2 packets received"), std::string::npos) << from_strobe;
  q.Send("poweroff\n");
  strobe.Send("poweroff\n");
  EXPECT_EQ(strobe.Wait(60), 0) << strobe.output();
  q.Wait(60);
}

}  // namespace
}  // namespace strobe::test
