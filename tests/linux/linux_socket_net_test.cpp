// SPDX-License-Identifier: MIT
// -netdev socket and stream between processes: a Debian guest under Strobe and one under qemu-system-mipsel
// (the oracle nobody here wrote) on one Ethernet segment carried with QEMU's framing over TCP and over a
// Unix-domain socket, each pinging the other and one fetching a page from the other's busybox httpd.
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

// Machine A (strobe.httpd at 10.0.9.1) starts first with `a_netdev`, B (10.0.9.2) once A's kernel is up
// with `b_netdev`; B pings A and fetches its page, A pings B.
void ShareASegment(const std::string& a_vmm, const std::string& a_netdev, const std::string& b_vmm,
                   const std::string& b_netdev) {
  ConsoleSession a(Machine(a_vmm, "strobe.ip=10.0.9.1 strobe.httpd", a_netdev, "52:54:00:12:34:56"));
  ASSERT_TRUE(a.Expect("Linux version", 60)) << a.output();
  ConsoleSession b(Machine(b_vmm, "strobe.ip=10.0.9.2", b_netdev, "52:54:00:12:34:57"));
  ASSERT_TRUE(a.Expect(kPrompt, kBootTimeout)) << a.output();
  ASSERT_TRUE(b.Expect(kPrompt, kBootTimeout)) << b.output();
  const std::string from_b = Shell(b, "ping -c 3 10.0.9.1 | tail -2; wget -qO- http://10.0.9.1/");
  EXPECT_NE(from_b.find("3 packets transmitted, 3 packets received"), std::string::npos) << from_b;
  EXPECT_NE(from_b.find("hello from vm 10.0.9.1"), std::string::npos) << from_b;
  const std::string from_a = Shell(a, "ping -c 2 10.0.9.2 | tail -2");
  EXPECT_NE(from_a.find("2 packets transmitted, 2 packets received"), std::string::npos) << from_a;
  b.Send("poweroff\n");
  a.Send("poweroff\n");
  EXPECT_EQ((a_vmm == STROBE_BINARY ? a : b).Wait(60), 0) << "Strobe's run ends with status 0";
  (a_vmm == STROBE_BINARY ? b : a).Wait(60);
}

constexpr const char* kQemu = "/usr/bin/qemu-system-mipsel";

// -netdev socket: Strobe listens on TCP (from before the guest starts), QEMU connects.
TEST_F(LinuxSocketNet, StrobeListensQemuConnectsOverTcp) {
  ASSERT_EQ(access(kQemu, X_OK), 0) << kQemu << " is missing: tools/setup-deps.sh installs it";
  const std::string port = std::to_string(FreePort());
  ShareASegment(STROBE_BINARY, "socket,id=n0,listen=127.0.0.1:" + port, kQemu,
                "socket,id=n0,connect=127.0.0.1:" + port);
}

// QEMU 7.2's -netdev stream over a Unix-domain socket, QEMU the server (as libvirt sets up passt), Strobe
// the client.
TEST_F(LinuxSocketNet, QemuServesStrobeConnectsOverAUnixStream) {
  ASSERT_EQ(access(kQemu, X_OK), 0) << kQemu << " is missing: tools/setup-deps.sh installs it";
  const std::string path = ::testing::TempDir() + "strobe_stream_" + std::to_string(getpid()) + ".sock";
  ShareASegment(kQemu, "stream,id=n0,server=on,addr.type=unix,addr.path=" + path, STROBE_BINARY,
                "stream,id=n0,addr.type=unix,addr.path=" + path);
  unlink(path.c_str());
}

}  // namespace
}  // namespace strobe::test
