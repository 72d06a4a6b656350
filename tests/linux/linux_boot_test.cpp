// SPDX-License-Identifier: MIT
// Debian's own Linux 6.1 Malta kernel and busybox under Strobe, driven through the serial console as a
// person would: the oracle is the real kernel and userland (and the host's sha256sum).
// The images come from guests/linux/fetch.sh (tools/test.sh runs it); STROBE_LINUX_DIR overrides where.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/free_port.h"
#include "tests/support/process.h"
#include "tests/support/tcp_client.h"

namespace strobe::test {
namespace {

// The first byte of `out` a terminal would not show as text: anything but printable ASCII, tab, CR and LF,
// except complete CSI escape sequences (ESC '[' parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, a
// final byte 0x40-0x7E), which busybox's line editor sends (ESC[6n asks for the cursor position). npos when
// there is none. A boot's console must be plain text: no raw bytes of the 8250 driver's loopback probe.
size_t FirstNonTextByte(const std::string& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if ((c >= 0x20 && c <= 0x7E) || c == '\t' || c == '\r' || c == '\n') continue;
    if (c != 0x1B || i + 1 >= out.size() || out[i + 1] != '[') return i;
    size_t j = i + 2;
    while (j < out.size() && out[j] >= 0x30 && out[j] <= 0x3F) ++j;
    while (j < out.size() && out[j] >= 0x20 && out[j] <= 0x2F) ++j;
    if (j >= out.size() || out[j] < 0x40 || out[j] > 0x7E) return i;
    i = j;
  }
  return std::string::npos;
}

std::string Around(const std::string& out, size_t at) {
  size_t from = at > 200 ? at - 200 : 0;
  std::string hex;
  char buf[8];
  for (size_t i = at; i < std::min(out.size(), at + 16); ++i) {
    std::snprintf(buf, sizeof buf, " %02x", static_cast<unsigned char>(out[i]));
    hex += buf;
  }
  return "byte " + std::to_string(at) + ":" + hex + " after: " + out.substr(from, at - from);
}

class LinuxBoot : public LinuxTest {};

class LinuxBootEngine : public LinuxBoot, public ::testing::WithParamInterface<std::string> {};

TEST_P(LinuxBootEngine, BootsToAShellRunsCommandsAndPowersOff) {
  ConsoleSession s(BootArgs({"--engine", GetParam()}));
  ASSERT_TRUE(s.Expect("Linux version 6.1", kBootTimeout)) << s.output();
  ASSERT_TRUE(s.Expect("CPU0 revision is: 00019300 (MIPS 24Kc)", 60)) << s.output();
  ASSERT_TRUE(s.Expect("serial8250", kBootTimeout)) << s.output();
  ASSERT_TRUE(s.Expect("Run /init as init process", kBootTimeout)) << s.output();
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();

  std::string uname = Shell(s, "uname -a");
  EXPECT_NE(uname.find("Linux"), std::string::npos) << uname;
  EXPECT_NE(uname.find("6.1.0"), std::string::npos) << uname;
  EXPECT_NE(uname.find("mips"), std::string::npos) << uname;

  std::string cpuinfo = Shell(s, "cat /proc/cpuinfo");
  EXPECT_NE(cpuinfo.find("system type\t\t: MIPS Malta"), std::string::npos) << cpuinfo;
  EXPECT_NE(cpuinfo.find("cpu model\t\t: MIPS 24Kc"), std::string::npos) << cpuinfo;
  EXPECT_NE(cpuinfo.find("tlb_entries\t\t: 64"), std::string::npos) << cpuinfo;

  EXPECT_EQ(Shell(s, "echo one two three | tr ' ' '\\n' | sort -r | head -n 2"), "two\nthree\n");

  // fork/exec in a loop, from a script file.
  Shell(s,
        "printf 'i=0\\nwhile [ $i -lt 40 ]; do i=$(expr $i + 1); done\\necho loop done $i\\n' > /tmp/t.sh");
  EXPECT_EQ(Shell(s, "sh /tmp/t.sh"), "loop done 40\n");

  // A generated file's SHA-256 against the host's answer for the same bytes.
  ProcessResult host = RunProcess({"/bin/sh", "-c", "seq 1 30000 | sha256sum"});
  ASSERT_EQ(host.exit_code, 0);
  std::string guest = Shell(s, "seq 1 30000 > /tmp/f && sha256sum /tmp/f");
  EXPECT_EQ(guest.substr(0, 64), host.out.substr(0, 64)) << guest;

  // busybox init (PID 1) takes the request: shutdown actions, every process killed, then power-off.
  s.Send("poweroff\n");
  EXPECT_TRUE(s.Expect("The system is going down NOW!", 60)) << s.output();
  EXPECT_TRUE(s.Expect("Requesting system poweroff", 60)) << s.output();
  EXPECT_TRUE(s.Expect("reboot: Power down", 60)) << s.output();
  EXPECT_EQ(s.Wait(60), 0) << s.output();

  size_t bad = FirstNonTextByte(s.output());
  EXPECT_EQ(bad, std::string::npos) << Around(s.output(), bad);
}

INSTANTIATE_TEST_SUITE_P(Engines, LinuxBootEngine, ::testing::Values("tiered", "interp"));

TEST_F(LinuxBoot, ShellExitGetsANewShellAndRebootEndsANoRebootRun) {
  ConsoleSession s(BootArgs({"-no-reboot"}));
  ASSERT_TRUE(s.Expect("Strobe: busybox", kBootTimeout)) << s.output();
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  EXPECT_EQ(Shell(s, "echo $$ > /tmp/first; tty"), "/dev/ttyS0\n");
  // init respawns the console shell: a new one (another PID), with a controlling terminal again.
  s.Send("exit\n");
  ASSERT_TRUE(s.Expect(kPrompt, 60)) << s.output();
  EXPECT_EQ(Shell(s, "[ $$ != $(cat /tmp/first) ] && tty"), "/dev/ttyS0\n");
  s.Send("reboot\n");
  EXPECT_TRUE(s.Expect("Requesting system reboot", 60)) << s.output();
  EXPECT_TRUE(s.Expect("reboot: Restarting system", 60)) << s.output();
  EXPECT_EQ(s.Wait(60), 0) << s.output();
}

// The console on a telnet serial port (-serial telnet:...,server, as QEMU's): the guest waits for the
// client, the shell answers what the client types (its telnet negotiation taken out of the input), and
// the guest powers off.
TEST_F(LinuxBoot, ShellOverATelnetSerialPort) {
  const uint16_t port = FreePort();
  ConsoleSession s(BootArgs({"-serial", "telnet:127.0.0.1:" + std::to_string(port) + ",server"}));
  ASSERT_TRUE(s.Expect("waiting for connection on: telnet:127.0.0.1:", 30)) << s.output();
  const int fd = ConnectTcp(port);
  ASSERT_GE(fd, 0);
  ASSERT_NE(ReadUntil(fd, kPrompt, kBootTimeout).find(kPrompt), std::string::npos);
  // A client's answers (DO ECHO, DO SUPPRESS-GO-AHEAD, WILL TERMINAL-TYPE, a subnegotiation), then a line.
  const char answers[] =
      "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x18\xff\xfa\x18\x00"
      "xterm\xff\xf0";
  const std::string typed = std::string(answers, sizeof answers - 1) + "echo tel-$((6*7))\n";
  ASSERT_EQ(write(fd, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  const std::string got = ReadUntil(fd, "tel-42\r\n", 60);
  EXPECT_NE(got.find("tel-42\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("xterm"), std::string::npos) << got;  // the subnegotiation never reached the shell
  const std::string off = "poweroff -f\n";
  ASSERT_EQ(write(fd, off.data(), off.size()), static_cast<ssize_t>(off.size()));
  EXPECT_EQ(s.Wait(60), 0) << s.output();
  close(fd);
}

TEST_F(LinuxBoot, CtrlAltDelRebootsThroughInit) {
  // The kernel turns Ctrl-Alt-Del into SIGINT for init (busybox init asks for that); inittab's ctrlaltdel
  // entry reboots, which ends a -no-reboot run with status 0.
  ConsoleSession s(BootArgs({"-no-reboot"}));
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  s.Send("kill -INT 1\n");
  EXPECT_TRUE(s.Expect("reboot: Restarting system", 60)) << s.output();
  EXPECT_EQ(s.Wait(60), 0) << s.output();
}

// The same floating-point programs under -cpu 24Kc (every FP instruction trapped and run by the kernel's
// emulator) and -cpu 24Kf (the FPU, with lazy context switching between processes) must print the same
// lines: those of the host's IEEE doubles in the same order of operations (and of qemu-system-mipsel -cpu
// 24Kf, which prints the awk sum as 2499975000). One test per model, so that ctest runs the two boots side
// by side. The awk sum is the FPU issue's check; the background jobs make several processes own FP state at
// once.
const std::vector<std::string> kFpExpected = {
    "2499975000\n",
    "0.33333333333333331 0.30000000000000004 1.42857143 -7\n",
    "1 10.4807282172293\n2 20.9614564344586\n3 31.442184651688\n4 41.9229128689173\n",
    "3.00\n2.75\n2.50\n",
};

// Commands stay short: the shell's line editor wraps a longer echo, which would mix with the output.
// (Debian's busybox awk has no sqrt or exp: "Math support is not compiled in".)
std::vector<std::string> FpOutputs(const std::string& cpu, std::string* cpuinfo, std::string* boot) {
  ConsoleSession s(BootArgs({"-cpu", cpu}));
  EXPECT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  *boot = s.output();
  *cpuinfo = Shell(s, "cat /proc/cpuinfo");
  std::vector<std::string> out;
  out.push_back(Shell(s, "awk 'BEGIN{x=0; for(i=0;i<100000;i++) x+=i*0.5; print x}'"));
  out.push_back(Shell(s, "awk 'BEGIN{printf \"%.17g %.17g %.9g %d\\n\",1/3,0.1+0.2,10/7,int(-7.5)}'"));
  Shell(s, "echo 'BEGIN{for(i=1;i<=20000;i++)s+=k/i' >/tmp/h");
  Shell(s, "echo 'printf \"%d %.15g\\n\",k,s}' >>/tmp/h");
  Shell(s, "(for k in 1 2 3 4;do awk -v k=$k -f /tmp/h >/tmp/f$k & done;wait)", 300);
  out.push_back(Shell(s, "cat /tmp/f1 /tmp/f2 /tmp/f3 /tmp/f4"));
  out.push_back(Shell(s, "seq 0.5 0.25 3 | sort -gr | head -n 3"));
  s.Send("poweroff\n");
  EXPECT_EQ(s.Wait(120), 0) << s.output();
  return out;
}

TEST_F(LinuxBoot, FloatingPointUnder24KcKernelEmulation) {
  std::string info, boot;
  EXPECT_EQ(FpOutputs("24Kc", &info, &boot), kFpExpected);
  EXPECT_EQ(boot.find("FPU revision is"), std::string::npos);
}

TEST_F(LinuxBoot, FloatingPointUnder24KfFpu) {
  std::string info, boot;
  EXPECT_EQ(FpOutputs("24Kf", &info, &boot), kFpExpected);
  // As under qemu-system-mipsel -cpu 24Kf: the kernel names both models "MIPS 24Kc" and finds the FPU.
  EXPECT_NE(boot.find("FPU revision is: 00739300"), std::string::npos) << boot;
  EXPECT_NE(info.find("cpu model\t\t: MIPS 24Kc V0.0  FPU V0.0"), std::string::npos) << info;
  EXPECT_NE(info.find("nan_legacy"), std::string::npos) << info;
  EXPECT_NE(info.find("fpu 32fpr"), std::string::npos) << info;
  EXPECT_EQ(info.find("nan_2008"), std::string::npos) << info;
}

TEST_F(LinuxBoot, TruncatedKernelIsRefusedClearly) {
  std::ifstream in(LinuxDir() + "/vmlinuz", std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string path = ::testing::TempDir() + "strobe_truncated_vmlinuz_" + std::to_string(getpid());
  std::ofstream(path, std::ios::binary) << image.substr(0, image.size() / 2);
  ProcessResult r = RunProcess({STROBE_BINARY, "run", "-kernel", path, "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("outside the file"), std::string::npos) << r.err;
}

TEST_F(LinuxBoot, KernelThatCannotMountRootEndsWithAPanicReport) {
  // No initramfs and a root device that does not exist: the kernel panics; Strobe reports it and stops.
  ProcessResult r = RunProcess({STROBE_BINARY, "run", "-kernel", LinuxDir() + "/vmlinuz", "-append",
                                "console=ttyS0 root=/dev/sda1", "--timeout", "300"},
                               "", kBootTimeout);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("guest kernel panic: Kernel panic - not syncing: VFS: Unable to mount root fs"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace strobe::test
