// SPDX-License-Identifier: MIT
// The monitor while Debian's kernel runs a shell: QMP's human-monitor-command for info registers (a PC in
// the kernel), info tlb (the kernel's entries), x of the kernel's first words; stop and cont with the
// shell answering afterwards; system_powerdown (the PIIX4's power button: Linux's Malta kernel has no
// ACPI, so nothing happens, as under QEMU) and quit.
#include <gtest/gtest.h>

#include <regex>

#include "tests/linux/linux_session.h"
#include "tests/monitor/monitor_client.h"

namespace strobe::test {
namespace {

// Without Debian's kernel and initramfs these fail (LinuxTest), rather than pass unseen.
class MonitorLinux : public LinuxTest {};

TEST_F(MonitorLinux, QmpWhileTheShellRuns) {
  const std::string sock = "/tmp/strobe-mon-" + std::to_string(getpid()) + "-linux.sock";
  ConsoleSession s(BootArgs({"-qmp", "unix:" + sock + ",server,nowait"}));
  MonitorClient qmp;
  ASSERT_TRUE(qmp.ConnectUnix(sock));
  qmp.Line();
  qmp.Send("{\"execute\": \"qmp_capabilities\"}\n");
  ASSERT_EQ(qmp.Line(), "{\"return\": {}}");
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();

  qmp.Send("{\"execute\": \"stop\"}\n");
  EXPECT_NE(qmp.Line().find("STOP"), std::string::npos);
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  const std::string regs = Hmp(qmp, "info registers");
  EXPECT_TRUE(std::regex_search(regs, std::regex(R"(pc=0x8[0-9a-f]{7} HI=)"))) << regs;
  const std::string tlb = Hmp(qmp, "info tlb");
  EXPECT_TRUE(std::regex_search(tlb, std::regex(R"(([1-9][0-9]*) of 64 entries valid)"))) << tlb;
  // The kernel is linked at 0x80100000: the same word through kseg0 and physically.
  const std::string v = Hmp(qmp, "x /1xw 0x80100000"), p = Hmp(qmp, "xp /1xw 0x100000");
  std::smatch mv, mp;
  ASSERT_TRUE(std::regex_search(v, mv, std::regex(R"(80100000: (0x[0-9a-f]{8}))"))) << v;
  ASSERT_TRUE(std::regex_search(p, mp, std::regex(R"(0000000000100000: (0x[0-9a-f]{8}))"))) << p;
  EXPECT_EQ(mv[1], mp[1]);
  // info pci: the on-board PCnet where Linux placed it (checked against the kernel's own view below).
  const std::string pci = Hmp(qmp, "info pci");
  std::smatch mn;
  // (the reply is QMP's JSON string: its line ends are escaped)
  ASSERT_TRUE(std::regex_search(
      pci, mn,
      std::regex(R"(Bus  0, device  11, function 0:\\r\\n    Ethernet controller: PCI device 1022:2000\\r\\n)"
                 R"(      PCI subsystem 0000:0000\\r\\n      IRQ ([0-9]+), pin A\\r\\n)"
                 R"(      BAR0: I/O at 0x([0-9a-f]{4}) \[0x([0-9a-f]{4})\]\.)")))
      << pci;
  qmp.Send("{\"execute\": \"cont\"}\n");
  EXPECT_NE(qmp.Line().find("RESUME"), std::string::npos);
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_NE(Shell(s, "echo after-$((40+2))").find("after-42"), std::string::npos);
  // The kernel's view of the same function: its IRQ and BAR 0's first and last port.
  const std::string sys =
      Shell(s, "d=/sys/bus/pci/devices/0000:00:0b.0; echo irq=$(cat $d/irq) $(head -n 1 $d/resource)");
  std::smatch mk;
  ASSERT_TRUE(std::regex_search(sys, mk, std::regex(R"(irq=([0-9]+) 0x0*([0-9a-f]+) 0x0*([0-9a-f]+))")))
      << sys;
  EXPECT_EQ(mk[1], mn[1]);
  EXPECT_EQ(std::stoul(mk[2], nullptr, 16), std::stoul(mn[2], nullptr, 16));
  EXPECT_EQ(std::stoul(mk[3], nullptr, 16), std::stoul(mn[3], nullptr, 16));

  qmp.Send("{\"execute\": \"system_powerdown\"}\n");
  EXPECT_NE(qmp.Line().find("POWERDOWN"), std::string::npos);
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_NE(Shell(s, "echo still-$((1+1))").find("still-2"), std::string::npos);
  qmp.Send("{\"execute\": \"quit\"}\n");
  EXPECT_NE(qmp.Line().find("\"event\": \"SHUTDOWN\""), std::string::npos);  // first, as QEMU 7.2
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_EQ(s.Wait(30), 0);
}

}  // namespace
}  // namespace strobe::test
