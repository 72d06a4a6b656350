// SPDX-License-Identifier: MIT
// The gdb stub against Debian's Linux kernel (no symbols: addresses come from the kernel image and from
// where the kernel stops): -S stops at the ELF's entry point, a breakpoint on the jump into the
// decompressed kernel is hit and stepped; after the boot, Ctrl-C stops a guest idling in WAIT, a
// breakpoint in the idle loop is hit when the shell wakes, and the guest carries on once resumed or
// detached. In user code: a breakpoint on busybox's entry point (read from the initramfs' ELF) stops the
// process the shell execs, with its registers and memory as the kernel set them up, and the command
// finishes once gdb detaches.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <future>
#include <iterator>
#include <regex>
#include <vector>

#include "tests/debug/gdb_client.h"
#include "tests/linux/linux_session.h"

namespace strobe::test {
namespace {

// Without Debian's kernel and initramfs these fail (LinuxTest), rather than pass unseen.
class GdbLinux : public LinuxTest {};

// An ELF32 little-endian executable (the kernel image, busybox): its entry point, and the word at a virtual
// address.
struct ElfFile {
  std::vector<uint8_t> bytes;
  uint32_t U32(size_t off) const {
    return off + 4 <= bytes.size() ? bytes[off] | bytes[off + 1] << 8 | bytes[off + 2] << 16 |
                                         static_cast<uint32_t>(bytes[off + 3]) << 24
                                   : 0;
  }
  uint32_t Entry() const { return U32(24); }
  bool Word(uint32_t va, uint32_t* out) const {
    const uint32_t phoff = U32(28), phentsize = U32(42) & 0xFFFF, phnum = U32(44) & 0xFFFF;
    for (uint32_t i = 0; i < phnum; ++i) {
      const size_t ph = phoff + i * phentsize;
      const uint32_t offset = U32(ph + 4), vaddr = U32(ph + 8), filesz = U32(ph + 16);
      if (U32(ph) == 1 && va >= vaddr && va + 4 <= vaddr + filesz) {
        *out = U32(offset + (va - vaddr));
        return true;
      }
    }
    return false;
  }
};

ElfFile LoadKernel() {
  std::ifstream f(LinuxDir() + "/vmlinuz", std::ios::binary);
  ElfFile k;
  k.bytes.assign(std::istreambuf_iterator<char>(f), {});
  return k;
}

// /bin/busybox as the guest has it: from the initramfs, a gzip'd cpio archive in the "newc" format (each
// member: a 110-byte header of hex fields, the name, the data, each padded to 4 bytes).
ElfFile LoadBusybox() {
  const ProcessResult r = RunProcess({"/bin/gzip", "-dc", LinuxDir() + "/initramfs.cpio.gz"}, "", 60);
  const std::string& a = r.out;
  auto field = [&a](size_t at, int i) { return std::stoul(a.substr(at + 6 + 8 * i, 8), nullptr, 16); };
  auto pad = [](size_t n) { return (n + 3) & ~size_t{3}; };
  ElfFile busybox;
  for (size_t at = 0; at + 110 <= a.size() && a.compare(at, 6, "070701") == 0;) {
    const size_t size = field(at, 6), name_size = field(at, 11);
    const std::string name = a.substr(at + 110, name_size ? name_size - 1 : 0);
    const size_t data = pad(at + 110 + name_size);
    if (name == "./bin/busybox" || name == "bin/busybox") {
      busybox.bytes.assign(a.begin() + static_cast<long>(data), a.begin() + static_cast<long>(data + size));
      break;
    }
    at = pad(data + size);
  }
  return busybox;
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Debian's Malta vmlinuz is a self-decompressing image: from its entry, it clears its .bss, calls the
// decompressor through `jalr t9`, then jumps to the decompressed kernel through a second `jalr t9`. A
// breakpoint on that second jump (found in the image's bytes) stops once the kernel is decompressed; a
// stepi then lands on the kernel's own entry, with the delay slot done.
TEST_F(GdbLinux, BreakAtTheJumpIntoTheKernel) {
  if (!HaveGdb()) GTEST_SKIP() << "gdb-multiarch is not installed (tools/setup-deps.sh)";
  const ElfFile k = LoadKernel();
  uint32_t jump = 0;
  int seen = 0;
  for (uint32_t va = k.Entry(), w; va < k.Entry() + 0x400 && k.Word(va, &w); va += 4)
    if (w == 0x0320f809u && ++seen == 2) {  // jalr t9
      jump = va;
      break;
    }
  ASSERT_NE(jump, 0u) << "no second jalr t9 after the entry " << Hex(k.Entry());
  const int port = FreePort();
  auto strobe = std::async(std::launch::async, [port] {
    return RunProcess(BootArgs({"-S", "-gdb", "tcp::" + std::to_string(port)}), "", 120);
  });
  const ProcessResult g =
      RunGdb({"target remote :" + std::to_string(port), "print/x $pc", "break *" + Hex(jump), "continue",
              "print/x $pc", "print/x $t9", "stepi", "print $pc == $t9", "print/x $ra - " + Hex(jump),
              "stepi", "stepi", "info registers", "x/2xw $pc", "kill"},
             120);
  const ProcessResult s = strobe.get();
  const std::string& o = g.out;
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(o.find("$1 = " + Hex(k.Entry())), std::string::npos) << o;  // -S: at the entry point
  EXPECT_NE(o.find("Breakpoint 1, " + Hex(jump)), std::string::npos) << o;
  EXPECT_NE(o.find("$2 = " + Hex(jump)), std::string::npos) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(\$3 = 0x80[0-9a-f]{6})"))) << o;  // the kernel, in kseg0
  EXPECT_NE(o.find("$4 = 1\n"), std::string::npos) << o;    // stepped onto the kernel's entry
  EXPECT_NE(o.find("$5 = 0x8\n"), std::string::npos) << o;  // ra: after the delay slot
  EXPECT_NE(o.find("killed"), std::string::npos) << o;
  EXPECT_EQ(s.out.find("Linux version"), std::string::npos);  // killed before the kernel printed
}

TEST_F(GdbLinux, InterruptInWaitAndResumeAfterBoot) {
  const int port = FreePort();
  ConsoleSession s(BootArgs({"-gdb", "tcp::" + std::to_string(port)}));
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  RawGdbClient c;
  ASSERT_TRUE(c.Connect(port));
  EXPECT_EQ(c.Ask("?"), "T05thread:01;");  // connecting stopped the VM
  c.SendPacket("c");
  EXPECT_EQ(c.ReadByte(5), '+');
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the shell waits: the CPU idles in WAIT
  const auto t0 = std::chrono::steady_clock::now();
  c.SendRaw("\x03");
  EXPECT_EQ(c.ReadPacket(5), "T02thread:01;");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  const std::string g = c.Ask("g");
  EXPECT_EQ(RegisterFromG(g, 37) >> 28, 0x8u) << g;  // idle in the kernel
  // A kernel breakpoint where the idle loop stopped (after its WAIT): typing wakes the shell, and the
  // idle loop leaves through that instruction.
  const uint32_t idle_pc = RegisterFromG(g, 37);
  char bp[32];
  std::snprintf(bp, sizeof bp, "%x,4", idle_pc);
  EXPECT_EQ(c.Ask(std::string("Z0,") + bp), "OK");
  c.SendPacket("c");
  EXPECT_EQ(c.ReadByte(5), '+');
  s.Send("echo typed-$((6*7))\n");
  EXPECT_EQ(c.ReadPacket(20), "T05thread:01;");
  EXPECT_EQ(RegisterFromG(c.Ask("g"), 37), idle_pc);
  EXPECT_EQ(c.Ask(std::string("z0,") + bp), "OK");
  // Memory through the kernel's segments: the vector's code, as the stub reads it, twice the same.
  char at[32];
  std::snprintf(at, sizeof at, "m%x,10", idle_pc & ~0xFu);
  const std::string code = c.Ask(at);
  EXPECT_EQ(code.size(), 32u);
  EXPECT_EQ(c.Ask(at), code);
  c.SendPacket("c");
  EXPECT_EQ(c.ReadByte(5), '+');
  // The guest carries on where it was: the typed line runs.
  EXPECT_TRUE(s.Expect("typed-42", 20)) << s.output();
  EXPECT_TRUE(s.Expect(kPrompt, 20));
  EXPECT_NE(Shell(s, "echo gdb-resumed-$((6*7))").find("gdb-resumed-42"), std::string::npos);
  c.SendRaw("\x03");
  EXPECT_EQ(c.ReadPacket(5), "T02thread:01;");
  c.SendPacket("D");
  EXPECT_EQ(c.ReadPacket(5), "OK");
  EXPECT_TRUE(c.Closed(5));  // detach hangs up and the guest runs on
  EXPECT_NE(Shell(s, "echo detached-$((6*7))").find("detached-42"), std::string::npos);
  s.Send("poweroff\n");
  EXPECT_EQ(s.Wait(60), 0);
}

// A software breakpoint in user code: busybox's entry point (a static, non-PIE executable: the address is
// the ELF's) is where every process the shell execs starts. gdb attaches at the prompt, which stops the
// VM; the command typed then waits in the console until gdb continues with the breakpoint inserted, so the
// exec of /bin/busybox (a path: the shell runs no applet of its own for it) is the first to reach it.
TEST_F(GdbLinux, UserBreakpointAtBusyboxsEntry) {
  if (!HaveGdb()) GTEST_SKIP() << "gdb-multiarch is not installed (tools/setup-deps.sh)";
  const ElfFile busybox = LoadBusybox();
  const uint32_t entry = busybox.Entry();
  uint32_t word = 0;
  ASSERT_TRUE(busybox.Word(entry, &word)) << "no /bin/busybox with its entry in the initramfs";
  ASSERT_LT(entry, 0x80000000u);  // user space (kuseg)
  const int port = FreePort();
  ConsoleSession s(BootArgs({"-gdb", "tcp::" + std::to_string(port)}));
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  Shell(s, "dmesg -n 1");

  const std::string attached = ::testing::TempDir() + "strobe_gdb_attached_" + std::to_string(getpid());
  unlink(attached.c_str());
  auto gdb = std::async(std::launch::async, [&] {
    return RunGdb(
        {"target remote :" + std::to_string(port), "shell touch " + attached, "break *" + Hex(entry),
         "continue", "print/x $pc", "x/xw $pc", "print ($sr >> 3) & 3", "print/x $sp", "x/dw $sp",
         "x/s *(char **)($sp + 4)", "x/s *(char **)($sp + 8)", "delete", "detach"},
        120);
  });
  // gdb has stopped the VM: what is typed now runs only once it continues.
  struct stat st;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (stat(attached.c_str(), &st) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(stat(attached.c_str(), &st), 0) << "gdb did not attach";
  unlink(attached.c_str());
  s.Send("/bin/busybox echo user-breakpoint-$((6*7))\n");
  const ProcessResult g = gdb.get();
  const std::string& o = g.out;
  EXPECT_FALSE(g.timed_out) << o;
  EXPECT_NE(o.find("Breakpoint 1, " + Hex(entry)), std::string::npos) << o;
  // The instruction there is the file's (through the process's TLB mapping), in user mode (KSU = 2).
  char pc[32], at_pc[64];
  std::snprintf(pc, sizeof pc, "$1 = 0x%x\n", entry);
  std::snprintf(at_pc, sizeof at_pc, "0x%x:\t0x%08x", entry, word);
  EXPECT_NE(o.find(pc), std::string::npos) << o;
  EXPECT_NE(o.find(at_pc), std::string::npos) << o;
  EXPECT_NE(o.find("$2 = 2\n"), std::string::npos) << o;
  // The new process's stack, as the kernel laid it out: argc, then argv.
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(\$3 = 0x7f[0-9a-f]{6}\n)"))) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(0x7f[0-9a-f]{6}:\t3\n)"))) << o;
  // argv's strings, at the stack's top: gdb reads them through the TLB (a debugger's read takes no refill,
  // as on QEMU), and whether the entry the kernel's exec left for their page survived the refills between
  // exec and the entry point (TLBWR's random slot) depends on the run. So each is either read or refused with
  // gdb's error for that very address.
  const std::regex refused(R"((0x7f[0-9a-f]{6}):\t<error: Cannot access memory at address \1>\n)");
  const auto refusals =
      std::distance(std::sregex_iterator(o.begin(), o.end(), refused), std::sregex_iterator());
  const int read =
      (o.find("\"/bin/busybox\"\n") != std::string::npos) + (o.find("\"echo\"\n") != std::string::npos);
  EXPECT_EQ(read + refusals, 2) << o;
  EXPECT_NE(o.find("detached"), std::string::npos) << o;
  // The command finishes once gdb is gone.
  EXPECT_TRUE(s.Expect("user-breakpoint-42", 30)) << s.output();
  EXPECT_TRUE(s.Expect(kPrompt, 30));
  s.Send("poweroff\n");
  EXPECT_EQ(s.Wait(60), 0);
}

}  // namespace
}  // namespace strobe::test
