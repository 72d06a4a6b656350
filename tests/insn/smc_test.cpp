// SPDX-License-Identifier: MIT
// Self-modifying code: guest stores over instructions that were already decoded must reach the
// interpreter's code cache (invalidation by guest-physical page), while stores to data that merely shares
// a page with code must leave the decoded blocks alone (runtime/runtime.h, CodePages).
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

uint64_t Invalidated(TestMachine& m) {
  return m.vm().code_cache().stats().blocks_invalidated;
}

// word 0: T: addiu v0, v0, 1      <- patched to `addiu v0, v0, 100` on the first pass
// word 1: bne t1, zero, done
// word 2: nop
// word 3: sw t2, 0(t0)            t0 = T (kseg0 or kseg1 alias), t2 = the new instruction
// word 4: addiu t1, zero, 1
// word 5: beq zero, zero, T
// word 6: nop
// word 7: done: wait
Asm PatchLoop(uint32_t store) {
  return Asm{Addiu(v0, v0, 1),   Bne(t1, zero, 5),    Nop(), store,
             Addiu(t1, zero, 1), Beq(zero, zero, -6), Nop(), kWaitWord};
}

TEST(SelfModifyingCode, StoreOverExecutedInstructionTakesEffect) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  ASSERT_EQ(RunCode(m, PatchLoop(Sw(t2, 0, t0))), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + 32);
  EXPECT_EQ(m.cpu().gpr[v0], 101u) << "the second pass must run the patched instruction";
  EXPECT_GT(Invalidated(m), 0u);
  EXPECT_EQ(m.Read32(kCodePa), Addiu(v0, v0, 100));
}

// The store goes through the uncached kseg1 alias; the code runs from kseg0: same physical page.
TEST(SelfModifyingCode, StoreThroughKseg1AliasInvalidates) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kKseg1 | kCodePa;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  ASSERT_EQ(RunCode(m, PatchLoop(Sw(t2, 0, t0))), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 101u);
  EXPECT_GT(Invalidated(m), 0u);
}

// A byte store patching only the immediate (the low byte of the little-endian word).
TEST(SelfModifyingCode, ByteStorePatchesImmediate) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = 50;
  ASSERT_EQ(RunCode(m, PatchLoop(E(Opcode::SB, {.rs = t0, .rt = t2}))), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 51u);
  EXPECT_GT(Invalidated(m), 0u);
}

// A loop that rewrites its own increment on every iteration: 1 + 2 + 3 + 4 + 5 with the immediate
// incremented each time through a SW of a computed instruction word.
TEST(SelfModifyingCode, RepeatedPatching) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode + 8;         // address of the patched word
  m.cpu().gpr[t2] = Addiu(v0, v0, 1);  // its current encoding
  m.cpu().gpr[t3] = 5;                 // iterations
  // 0: nop; 1: nop; 2: addiu v0, v0, 1 (patched); 3: addiu t2, t2, 1; 4: sw t2, 0(t0);
  // 5: addiu t3, t3, -1; 6: bne t3, zero, 2 (word 2); 7: nop; 8: wait
  Asm code{Nop(),
           Nop(),
           Addiu(v0, v0, 1),
           Addiu(t2, t2, 1),
           Sw(t2, 0, t0),
           Addiu(t3, t3, -1),
           Bne(t3, zero, -5),
           Nop(),
           kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 15u);
  EXPECT_GE(Invalidated(m), 5u);
}

// Data in the same 4 KiB page as code: stores do not invalidate any block, and the data is written.
TEST(SelfModifyingCode, DataStoreInCodePageDoesNotInvalidate) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode + 0x800;  // far from the code's 32-byte granules, same page
  m.cpu().gpr[t3] = 20;
  // loop: lw t1, 0(t0); addiu t1, t1, 3; sw t1, 0(t0); sb t1, 5(t0); addiu t3, -1; bne t3, zero, loop; nop;
  // wait
  Asm code{Lw(t1, 0, t0),     Addiu(t1, t1, 3),  Sw(t1, 0, t0), E(Opcode::SB, {.rs = t0, .rt = t1, .imm = 5}),
           Addiu(t3, t3, -1), Bne(t3, zero, -6), Nop(),         kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.Read32(kCodePa + 0x800), 60u);
  EXPECT_EQ(m.Read32(kCodePa + 0x804), 60u << 8);
  EXPECT_EQ(Invalidated(m), 0u);
}

// A store to a code page just past the last decoded instruction's granule does not invalidate either,
// but one inside a granule holding decoded code does.
TEST(SelfModifyingCode, InvalidationIsByDecodedGranule) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode;
  // 8 words = one 32-byte granule of code; the store at +0x40 is two granules away.
  Asm code{Sw(zero, 0x40, t0), Nop(), Nop(), Nop(), Nop(), Nop(), Nop(), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(Invalidated(m), 0u);

  // A store into the granule of an already-decoded instruction drops the page's blocks; the next run
  // decodes the new word. (Within the running block the stale word may still execute: without SYNCI
  // and a hazard barrier that is UNPREDICTABLE, so only the next run is checked.)
  TestMachine m2;
  InstallHaltHandlers(m2);
  m2.cpu().gpr[t0] = kCode;
  m2.cpu().gpr[t2] = Addiu(v0, v0, 100);
  Asm code2{Sw(t2, 0x18, t0), Nop(), Nop(), Nop(), Nop(), Nop(), Addiu(v0, v0, 1), kWaitWord};
  ASSERT_EQ(RunCode(m2, code2), vmm::VmExit::kHalted);
  EXPECT_GT(Invalidated(m2), 0u);
  const uint32_t after_first = m2.cpu().gpr[v0];
  ASSERT_EQ(m2.Run(kCode), vmm::VmExit::kHalted);
  EXPECT_EQ(m2.cpu().gpr[v0], after_first + 100);
}

// The delay slot of a branch in a page's last word is fetched from the next page on every execution,
// so a patch there is seen too.
TEST(SelfModifyingCode, PatchedDelaySlotOnNextPage) {
  TestMachine m;
  InstallHaltHandlers(m);
  const uint32_t branch_pa = kCodePa + 0xFFC;
  // A subroutine `jr ra` in the page's last word, its slot on the next page; kCode calls it twice and
  // patches the slot in between.
  m.LoadCode(branch_pa, {Jr(ra)});
  m.LoadCode(branch_pa + 4, {Addiu(v0, v0, 1)});  // the slot, on the next page
  m.cpu().gpr[t0] = kKseg0 | (branch_pa + 4);
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  m.cpu().gpr[t9] = kKseg0 | branch_pa;
  Asm code{E(Opcode::JALR, {.rs = t9, .rd = ra}), Nop(), Sw(t2, 0, t0),
           E(Opcode::JALR, {.rs = t9, .rd = ra}), Nop(), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[v0], 101u);
}

}  // namespace
}  // namespace strobe::test
