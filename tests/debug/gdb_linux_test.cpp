// SPDX-License-Identifier: MIT
// The gdb stub against Debian's Linux kernel (no symbols: addresses come from the kernel image and from
// where the kernel stops): -S stops at the ELF's entry point, a breakpoint on the jump into the
// decompressed kernel is hit and stepped; after the boot, Ctrl-C stops a guest idling in WAIT, a
// breakpoint in the idle loop is hit when the shell wakes, and the guest carries on once resumed or
// detached.
#include <gtest/gtest.h>

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

// The ELF32 little-endian kernel image: its entry point, and the word at a virtual address.
struct KernelImage {
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

KernelImage LoadKernel() {
  std::ifstream f(LinuxDir() + "/vmlinuz", std::ios::binary);
  KernelImage k;
  k.bytes.assign(std::istreambuf_iterator<char>(f), {});
  return k;
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
  const KernelImage k = LoadKernel();
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

}  // namespace
}  // namespace strobe::test
