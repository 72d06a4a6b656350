// SPDX-License-Identifier: MIT
// The DMA path into guest RAM (vmm/guest_memory.h): a device write follows the rules of a guest store:
// translated or decoded code on the written page is dropped, and copy-on-write sharing is broken.
#include "vmm/guest_memory.h"

#include <gtest/gtest.h>

#include "tests/support/test_machine.h"

namespace strobe::test {
namespace {
using mips::Opcode;

// ori $2, $0, value; wait
std::vector<uint32_t> SetV0(uint16_t value) {
  return {E(Opcode::ORI, {.rs = 0, .rt = 2, .imm = value}), kWaitWord};
}

// Under the interpreter and with every block compiled (jit): code that ran once, overwritten by DMA, runs
// the new instructions the next time.
TEST(GuestMemory, DmaOverCodeIsSeenByTheNextExecution) {
  for (vmm::Engine engine : {vmm::Engine::kInterp, vmm::Engine::kJit}) {
    SCOPED_TRACE(static_cast<int>(engine));
    TestMachine m(16u << 20, 16, nullptr, engine);
    ASSERT_TRUE(m.booted());
    m.LoadCode(0x1000, SetV0(1));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(m.Run(0x80001000), vmm::VmExit::kHalted);  // decoded, translated
    EXPECT_EQ(m.cpu().gpr[2], 1u);
    const std::vector<uint32_t> code = SetV0(2);
    ASSERT_TRUE(m.vm().guest_memory().Write(0x1000, code.data(), code.size() * 4));
    ASSERT_EQ(m.Run(0x80001000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[2], 2u);
    EXPECT_EQ(m.Read32(0x1000), code[0]);
  }
}

TEST(GuestMemory, DmaBreaksCopyOnWriteSharing) {
  vmm::Monitor monitor(size_t{128} << 20);
  TestMachine a(16u << 20, 16, &monitor), b(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted() && b.booted());
  a.Write32(0x8000, 0x11111111);
  b.Write32(0x8000, 0x11111111);
  ASSERT_GT(vmm::MergeIdenticalPages(a.vm().pmap(), b.vm().pmap()), 0u);
  ASSERT_TRUE(a.vm().pmap().Lookup(0x8000).shared);
  // A guest load caches the shared page in the soft TLB first; after the DMA the guest must read its copy.
  a.LoadCode(0x1000, {E(Opcode::LUI, {.rt = 1, .imm = 0x8001}),
                      E(Opcode::LW, {.rs = 1, .rt = 2, .imm = 0x8000}), kWaitWord});
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
  EXPECT_EQ(a.cpu().gpr[2], 0x11111111u);
  const uint32_t v = 0x22222222;
  ASSERT_TRUE(a.vm().guest_memory().Write(0x8000, &v, 4));
  EXPECT_FALSE(a.vm().pmap().Lookup(0x8000).shared);
  EXPECT_NE(a.vm().pmap().Lookup(0x8000).host, b.vm().pmap().Lookup(0x8000).host);
  EXPECT_EQ(b.Read32(0x8000), 0x11111111u);
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
  EXPECT_EQ(a.cpu().gpr[2], 0x22222222u);
}

TEST(GuestMemory, OnlyRamIsReachable) {
  TestMachine m(16u << 20);
  ASSERT_TRUE(m.booted());
  vmm::GuestMemory& mem = m.vm().guest_memory();
  uint8_t buf[16] = {};
  EXPECT_TRUE(mem.IsRam(0, 16u << 20));
  EXPECT_FALSE(mem.IsRam((16u << 20) - 8, 16));  // runs past the end of RAM
  EXPECT_FALSE(mem.Write((16u << 20) - 8, buf, 16));
  EXPECT_FALSE(mem.Read(0x1FC00000, buf, 4));  // the boot ROM
  EXPECT_FALSE(mem.Read(0xFFFFFFF8u, buf, 16));
  EXPECT_TRUE(mem.Write(0x3FFC, buf, 8));  // across a page boundary
}

}  // namespace
}  // namespace strobe::test
