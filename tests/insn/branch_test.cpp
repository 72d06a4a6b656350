// SPDX-License-Identifier: MIT
// Branches and jumps (MIPS32 Vol. II): the delay slot, link registers, branch-likely nullification,
// address errors on jump targets, faults in delay slots (Cause.BD, EPC = the branch; Vol. III 6.2.2) and
// branches whose delay slot lies on the next page.
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

uint32_t B2(Opcode op, uint32_t rs, uint32_t rt, int32_t off) {
  return E(op, {.rs = rs, .rt = rt, .imm = static_cast<uint32_t>(off) & 0xFFFF});
}
uint32_t B1(Opcode op, uint32_t rs, int32_t off) {
  return B2(op, rs, 0, off);
}

// word 0: the branch, to word 4
// word 1: addiu s0, s0, 1   (delay slot)
// word 2: addiu s1, s1, 1   (fall-through path only)
// word 3: wait
// word 4: addiu s2, s2, 1   (target)
// word 5: wait
struct BranchCase {
  const char* text;
  uint32_t insn;
  uint32_t a0_val, a1_val;
  bool taken;
  bool likely;
  bool link;  // writes ra = branch + 8 (taken or not)
};

void RunBranchCase(const BranchCase& k) {
  SCOPED_TRACE(k.text);
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[a0] = k.a0_val;
  m.cpu().gpr[a1] = k.a1_val;
  m.cpu().gpr[ra] = 0xDEAD0000;
  Asm code{k.insn, Addiu(s0, s0, 1), Addiu(s1, s1, 1), kWaitWord, Addiu(s2, s2, 1), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  const bool slot_runs = k.taken || !k.likely;
  EXPECT_EQ(m.cpu().pc, kCode + (k.taken ? 24u : 16u));
  EXPECT_EQ(m.cpu().gpr[s0], slot_runs ? 1u : 0u) << "delay slot";
  EXPECT_EQ(m.cpu().gpr[s1], k.taken ? 0u : 1u) << "fall-through path";
  EXPECT_EQ(m.cpu().gpr[s2], k.taken ? 1u : 0u) << "target";
  EXPECT_EQ(m.cpu().gpr[ra], k.link ? kCode + 8 : 0xDEAD0000u) << "link register";
}

TEST(Branch, ConditionalBranches) {
  const BranchCase cases[] = {
      {"beq a0, a1 (5 == 5)", B2(Opcode::BEQ, a0, a1, 3), 5, 5, true, false, false},
      {"beq a0, a1 (5 != 6)", B2(Opcode::BEQ, a0, a1, 3), 5, 6, false, false, false},
      {"beq a0, a1 (INT_MIN vs 0)", B2(Opcode::BEQ, a0, a1, 3), 0x80000000, 0, false, false, false},
      {"beq zero, zero (b)", B2(Opcode::BEQ, zero, zero, 3), 0, 0, true, false, false},
      {"bne a0, a1 (1 vs 0x80000001)", B2(Opcode::BNE, a0, a1, 3), 1, 0x80000001, true, false, false},
      {"bne a0, a1 (equal)", B2(Opcode::BNE, a0, a1, 3), 0xFFFFFFFF, 0xFFFFFFFF, false, false, false},
      {"blez a0 (0)", B1(Opcode::BLEZ, a0, 3), 0, 0, true, false, false},
      {"blez a0 (-1)", B1(Opcode::BLEZ, a0, 3), 0xFFFFFFFF, 0, true, false, false},
      {"blez a0 (INT_MIN)", B1(Opcode::BLEZ, a0, 3), 0x80000000, 0, true, false, false},
      {"blez a0 (1)", B1(Opcode::BLEZ, a0, 3), 1, 0, false, false, false},
      {"blez a0 (INT_MAX)", B1(Opcode::BLEZ, a0, 3), 0x7FFFFFFF, 0, false, false, false},
      {"bgtz a0 (1)", B1(Opcode::BGTZ, a0, 3), 1, 0, true, false, false},
      {"bgtz a0 (INT_MAX)", B1(Opcode::BGTZ, a0, 3), 0x7FFFFFFF, 0, true, false, false},
      {"bgtz a0 (0)", B1(Opcode::BGTZ, a0, 3), 0, 0, false, false, false},
      {"bgtz a0 (INT_MIN)", B1(Opcode::BGTZ, a0, 3), 0x80000000, 0, false, false, false},
      {"bltz a0 (INT_MIN)", B1(Opcode::BLTZ, a0, 3), 0x80000000, 0, true, false, false},
      {"bltz a0 (-1)", B1(Opcode::BLTZ, a0, 3), 0xFFFFFFFF, 0, true, false, false},
      {"bltz a0 (0)", B1(Opcode::BLTZ, a0, 3), 0, 0, false, false, false},
      {"bgez a0 (0)", B1(Opcode::BGEZ, a0, 3), 0, 0, true, false, false},
      {"bgez a0 (INT_MAX)", B1(Opcode::BGEZ, a0, 3), 0x7FFFFFFF, 0, true, false, false},
      {"bgez a0 (-1)", B1(Opcode::BGEZ, a0, 3), 0xFFFFFFFF, 0, false, false, false},
      {"bltzal a0 (-1)", B1(Opcode::BLTZAL, a0, 3), 0xFFFFFFFF, 0, true, false, true},
      {"bltzal a0 (0): links anyway", B1(Opcode::BLTZAL, a0, 3), 0, 0, false, false, true},
      {"bgezal a0 (0)", B1(Opcode::BGEZAL, a0, 3), 0, 0, true, false, true},
      {"bgezal a0 (-1): links anyway", B1(Opcode::BGEZAL, a0, 3), 0xFFFFFFFF, 0, false, false, true},
      {"bal (bgezal zero)", B1(Opcode::BGEZAL, zero, 3), 0, 0, true, false, true},
  };
  for (const BranchCase& k : cases) RunBranchCase(k);
}

TEST(Branch, BranchLikelyNullifiesTheSlotOnlyWhenNotTaken) {
  const BranchCase cases[] = {
      {"beql a0, a1 (taken)", B2(Opcode::BEQL, a0, a1, 3), 7, 7, true, true, false},
      {"beql a0, a1 (not taken)", B2(Opcode::BEQL, a0, a1, 3), 7, 8, false, true, false},
      {"bnel a0, a1 (taken)", B2(Opcode::BNEL, a0, a1, 3), 7, 8, true, true, false},
      {"bnel a0, a1 (not taken)", B2(Opcode::BNEL, a0, a1, 3), 7, 7, false, true, false},
      {"blezl a0 (0: taken)", B1(Opcode::BLEZL, a0, 3), 0, 0, true, true, false},
      {"blezl a0 (1: not taken)", B1(Opcode::BLEZL, a0, 3), 1, 0, false, true, false},
      {"bgtzl a0 (INT_MAX: taken)", B1(Opcode::BGTZL, a0, 3), 0x7FFFFFFF, 0, true, true, false},
      {"bgtzl a0 (INT_MIN: not taken)", B1(Opcode::BGTZL, a0, 3), 0x80000000, 0, false, true, false},
      {"bltzl a0 (-1: taken)", B1(Opcode::BLTZL, a0, 3), 0xFFFFFFFF, 0, true, true, false},
      {"bltzl a0 (0: not taken)", B1(Opcode::BLTZL, a0, 3), 0, 0, false, true, false},
      {"bgezl a0 (0: taken)", B1(Opcode::BGEZL, a0, 3), 0, 0, true, true, false},
      {"bgezl a0 (-1: not taken)", B1(Opcode::BGEZL, a0, 3), 0xFFFFFFFF, 0, false, true, false},
      {"bltzall a0 (-1: taken)", B1(Opcode::BLTZALL, a0, 3), 0xFFFFFFFF, 0, true, true, true},
      {"bltzall a0 (1: not taken, still links)", B1(Opcode::BLTZALL, a0, 3), 1, 0, false, true, true},
      {"bgezall a0 (0: taken)", B1(Opcode::BGEZALL, a0, 3), 0, 0, true, true, true},
      {"bgezall a0 (INT_MIN: not taken, still links)", B1(Opcode::BGEZALL, a0, 3), 0x80000000, 0, false, true,
       true},
  };
  for (const BranchCase& k : cases) RunBranchCase(k);
}

TEST(Branch, Jumps) {
  const uint32_t target = (kCode + 16) >> 2 & 0x03FFFFFF;
  const BranchCase cases[] = {
      {"j target", E(Opcode::J, {.target = target}), 0, 0, true, false, false},
      {"jal target", E(Opcode::JAL, {.target = target}), 0, 0, true, false, true},
      {"jr a0", E(Opcode::JR, {.rs = a0}), kCode + 16, 0, true, false, false},
      {"jalr a0 (rd = ra)", E(Opcode::JALR, {.rs = a0, .rd = ra}), kCode + 16, 0, true, false, true},
      {"jr a0 to the fall-through word", E(Opcode::JR, {.rs = a0}), kCode + 8, 0, false, false, false},
  };
  for (const BranchCase& k : cases) RunBranchCase(k);
}

TEST(Branch, JalrWithAnotherLinkRegister) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[a0] = kCode + 16;
  Asm code{E(Opcode::JALR, {.rs = a0, .rd = t0}), Nop(), kWaitWord, kWaitWord, Addiu(s2, zero, 1), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[t0], kCode + 8);
  EXPECT_EQ(m.cpu().gpr[ra], 0u);
  EXPECT_EQ(m.cpu().gpr[s2], 1u);
}

// Branch operands are read before the delay slot runs; a link register is already written when it does.
TEST(Branch, DelaySlotOrdering) {
  {
    SCOPED_TRACE("beq decides before the slot changes its operand");
    TestMachine m;
    InstallHaltHandlers(m);
    m.cpu().gpr[a0] = 5;
    m.cpu().gpr[a1] = 5;
    ASSERT_EQ(RunCode(m, {B2(Opcode::BEQ, a0, a1, 3), Addiu(a0, a0, 1), Addiu(s1, zero, 1), kWaitWord,
                          Addiu(s2, zero, 1), kWaitWord}),
              vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[s2], 1u);
    EXPECT_EQ(m.cpu().gpr[s1], 0u);
    EXPECT_EQ(m.cpu().gpr[a0], 6u);
  }
  {
    SCOPED_TRACE("jr uses the old register value");
    TestMachine m;
    InstallHaltHandlers(m);
    m.cpu().gpr[t0] = kCode + 16;
    ASSERT_EQ(RunCode(m, {Jr(t0), Addiu(t0, zero, 0), kWaitWord, kWaitWord, Addiu(s2, zero, 1), kWaitWord}),
              vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[s2], 1u);
  }
  {
    SCOPED_TRACE("jal's slot sees the new ra");
    TestMachine m;
    InstallHaltHandlers(m);
    const uint32_t target = (kCode + 16) >> 2 & 0x03FFFFFF;
    ASSERT_EQ(
        RunCode(m, {E(Opcode::JAL, {.target = target}), Addu(s0, ra, zero), kWaitWord, kWaitWord, kWaitWord}),
        vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[s0], kCode + 8);
    EXPECT_EQ(m.cpu().pc, kCode + 20);
  }
}

// A backward loop: s0 = 1 + 2 + ... + 10.
TEST(Branch, BackwardLoop) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code{Addiu(t0, zero, 10), Addu(s0, s0, t0), Addiu(t0, t0, -1), Bne(t0, zero, -3), Nop(), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 55u);
  EXPECT_EQ(m.cpu().gpr[t0], 0u);
}

// JR to a misaligned address: the jump and its delay slot complete, then the fetch at the target raises
// AdEL with EPC = BadVAddr = the target, BD = 0.
TEST(Branch, JrToMisalignedTargetRaisesAdEL) {
  for (uint32_t misalign : {1u, 2u, 3u}) {
    SCOPED_TRACE(misalign);
    TestMachine m;
    InstallHaltHandlers(m);
    const uint32_t target = kCode + 0x20 + misalign;
    m.cpu().gpr[a0] = target;
    ASSERT_EQ(RunCode(m, {Nop(), Jr(a0), Addiu(s0, zero, 1), kWaitWord}), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 4u);
    EXPECT_EQ(m.cpu().cp0.epc, target);
    EXPECT_EQ(m.cpu().cp0.badvaddr, target);
    EXPECT_FALSE(BdOf(m));
    EXPECT_EQ(m.cpu().gpr[s0], 1u) << "the delay slot ran";
  }
}

// User code jumping into kseg0: the fetch raises AdEL at the target.
TEST(Branch, UserJumpToKernelSegmentRaisesAdEL) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code;
  code.Li(t0, kCode) << Jr(t0) << Addiu(s0, zero, 1) << Syscall();
  ASSERT_EQ(RunUserCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 4u);
  EXPECT_EQ(m.cpu().cp0.epc, kCode);
  EXPECT_EQ(m.cpu().cp0.badvaddr, kCode);
  EXPECT_FALSE(BdOf(m));
  EXPECT_EQ(m.cpu().gpr[s0], 1u);
}

// An exception in a delay slot: BD = 1 and EPC = the branch, taken or not, for every kind of slot fault.
TEST(Branch, FaultInDelaySlotSetsBdAndPointsEpcAtTheBranch) {
  struct Case {
    const char* text;
    uint32_t branch;
    uint32_t slot;
    uint32_t code;
  } cases[] = {
      {"b; lw v0, 1(a0) (AdEL)", B2(Opcode::BEQ, zero, zero, 3), Lw(v0, 1, a0), 4},
      {"bne not taken; lw v0, 1(a0) (AdEL)", B2(Opcode::BNE, zero, zero, 3), Lw(v0, 1, a0), 4},
      {"beql taken; sw v0, 2(a0) (AdES)", B2(Opcode::BEQL, zero, zero, 3), Sw(v0, 2, a0), 5},
      {"jr a1; add v0, a2, a2 (Ov)", Jr(a1), E(Opcode::ADD, {.rs = a2, .rt = a2, .rd = v0}), 12},
      {"jal; syscall", E(Opcode::JAL, {.target = (kCode + 20) >> 2 & 0x03FFFFFF}), Syscall(), 8},
      {"bgezal; break", B1(Opcode::BGEZAL, zero, 3), E(Opcode::BREAK, {}), 9},
      {"b; teq zero, zero", B2(Opcode::BEQ, zero, zero, 3), E(Opcode::TEQ, {.rs = 0, .rt = 0}), 13},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    m.cpu().gpr[a0] = kData;
    m.cpu().gpr[a1] = kCode + 20;
    m.cpu().gpr[a2] = 0x7FFFFFFF;
    m.cpu().gpr[v0] = 0xDEADBEEF;
    ASSERT_EQ(RunCode(m, {Nop(), k.branch, k.slot, kWaitWord, kWaitWord, kWaitWord}), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), k.code);
    EXPECT_TRUE(BdOf(m));
    EXPECT_EQ(m.cpu().cp0.epc, kCode + 4);
    EXPECT_EQ(m.cpu().gpr[v0], 0xDEADBEEFu);
    if (k.code == 4 || k.code == 5) {
      EXPECT_EQ(m.cpu().cp0.badvaddr, kData + (k.code == 4 ? 1u : 2u));
    }
  }
}

// A later exception outside a delay slot clears BD again. The handler logs Cause at s5 and resumes at
// EPC + 8 (past the branch and its slot the first time, past the SYSCALL and a WAIT the second).
TEST(Branch, ExceptionOutsideDelaySlotClearsBd) {
  TestMachine m;
  m.LoadCode(0x180, {Mfc0(k1, kCp0Cause), Sw(k1, 0, s5), Addiu(s5, s5, 4), Mfc0(k0, kCp0Epc),
                     Addiu(k0, k0, 8), Mtc0(k0, kCp0Epc), Eret()});
  m.cpu().gpr[s5] = kData;
  Asm code{B2(Opcode::BEQ, zero, zero, 2), Syscall(), Nop(), Syscall(), kWaitWord, kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + 24);
  EXPECT_EQ(m.cpu().gpr[s5], kData + 8);
  EXPECT_EQ(m.Read32(kDataPa) >> 31, 1u) << "first SYSCALL: in the slot";
  EXPECT_EQ(m.Read32(kDataPa + 4) >> 31, 0u) << "second SYSCALL: not in a slot";
  EXPECT_EQ((m.Read32(kDataPa + 4) >> 2) & 31, 8u);
}

// --- Delay slots on the next page ---

// kseg0: the branch is the last word of a page and its slot the first word of the next one.
TEST(Branch, DelaySlotOnNextPageUnmappedSegment) {
  const BranchCase cases[] = {
      {"beq taken", B2(Opcode::BEQ, a0, a1, 3), 1, 1, true, false, false},
      {"beq not taken", B2(Opcode::BEQ, a0, a1, 3), 1, 2, false, false, false},
      {"beql not taken", B2(Opcode::BEQL, a0, a1, 3), 1, 2, false, true, false},
      {"bgezall taken", B1(Opcode::BGEZALL, a0, 3), 1, 0, true, true, true},
  };
  for (const BranchCase& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    m.cpu().gpr[a0] = k.a0_val;
    m.cpu().gpr[a1] = k.a1_val;
    const uint32_t branch_pa = kCodePa + 0xFFC;
    m.LoadCode(branch_pa - 4, {Addiu(s3, zero, 1), k.insn, Addiu(s0, s0, 1), Addiu(s1, s1, 1), kWaitWord,
                               Addiu(s2, s2, 1), kWaitWord});
    ASSERT_EQ(m.Run(kKseg0 | (branch_pa - 4)), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[s3], 1u);
    EXPECT_EQ(m.cpu().gpr[s0], (k.taken || !k.likely) ? 1u : 0u);
    EXPECT_EQ(m.cpu().gpr[s1], k.taken ? 0u : 1u);
    EXPECT_EQ(m.cpu().gpr[s2], k.taken ? 1u : 0u);
    if (k.link) {
      EXPECT_EQ(m.cpu().gpr[ra], kKseg0 | (branch_pa + 8));
    }
  }
}

// kuseg page pair through the TLB (run in kernel mode): VA 0x00400000 -> kUserCodePa, 0x00401000 ->
// kUserDataPa.
void MapPair(TestMachine& m, bool odd_valid) {
  WriteTlb(m, 0, kUserCode, EntryLo(kUserCodePa, true, true), EntryLo(kUserDataPa, true, odd_valid));
}

TEST(Branch, DelaySlotOnNextMappedPage) {
  TestMachine m;
  InstallHaltHandlers(m);
  MapPair(m, true);
  m.LoadCode(kUserCodePa + 0xFF8, {Addiu(s3, zero, 1), B2(Opcode::BEQ, zero, zero, 3)});
  m.LoadCode(kUserDataPa, {Addiu(s0, zero, 1), kWaitWord, kWaitWord, Addiu(s2, zero, 1), kWaitWord});
  ASSERT_EQ(m.Run(kUserCode + 0xFF8), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kUserData + 0x14);
  EXPECT_EQ(m.cpu().gpr[s3], 1u);
  EXPECT_EQ(m.cpu().gpr[s0], 1u);
  EXPECT_EQ(m.cpu().gpr[s2], 1u);
}

// The slot's page is in the TLB but invalid (V=0): TLBL at +0x180 with BD=1, EPC = the branch,
// BadVAddr = the slot's address.
TEST(Branch, DelaySlotFetchFaultOnInvalidNextPage) {
  for (bool taken : {true, false}) {
    SCOPED_TRACE(taken ? "taken" : "not taken");
    TestMachine m;
    InstallHaltHandlers(m);
    MapPair(m, false);
    m.LoadCode(kUserCodePa + 0xFF8,
               {Addiu(s3, zero, 1), taken ? B2(Opcode::BEQ, zero, zero, 2) : B2(Opcode::BNE, zero, zero, 2)});
    ASSERT_EQ(m.Run(kUserCode + 0xFF8), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 2u);
    EXPECT_TRUE(BdOf(m));
    EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 0xFFC);
    EXPECT_EQ(m.cpu().cp0.badvaddr, kUserData);
    EXPECT_EQ(m.cpu().gpr[s3], 1u);
  }
}

// The slot's page has no TLB entry: TLB refill at EBase+0x000 with BD=1, EPC = the branch.
TEST(Branch, DelaySlotFetchRefillOnUnmappedNextPage) {
  for (Opcode op : {Opcode::BEQ, Opcode::BEQL, Opcode::BGEZAL}) {
    SCOPED_TRACE(mips::NameOf(op));
    TestMachine m;
    InstallHaltHandlers(m);
    MapPair(m, true);
    const uint32_t branch = op == Opcode::BGEZAL ? B1(op, zero, 4) : B2(op, zero, zero, 4);
    m.LoadCode(kUserDataPa + 0xFF8, {Addiu(s3, zero, 1), branch});
    ASSERT_EQ(m.Run(kUserData + 0xFF8), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kRefillVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 2u);
    EXPECT_TRUE(BdOf(m));
    EXPECT_EQ(m.cpu().cp0.epc, kUserData + 0xFFC);
    EXPECT_EQ(m.cpu().cp0.badvaddr, 0x00402000u);
    EXPECT_EQ(m.cpu().cp0.entryhi & 0xFFFFE000u, 0x00402000u);
    EXPECT_EQ(m.cpu().gpr[s3], 1u);
  }
}

// A not-taken branch-likely at a page end nullifies its slot without fetching it: the next fault is the
// fetch of branch + 8, outside any delay slot.
TEST(Branch, NullifiedSlotOnUnmappedNextPageIsNotFetched) {
  TestMachine m;
  InstallHaltHandlers(m);
  MapPair(m, true);
  m.LoadCode(kUserDataPa + 0xFF8, {Addiu(s3, zero, 1), B2(Opcode::BNEL, zero, zero, 4)});
  ASSERT_EQ(m.Run(kUserData + 0xFF8), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kRefillVector + 4);
  EXPECT_FALSE(BdOf(m));
  EXPECT_EQ(m.cpu().cp0.epc, 0x00402004u);
  EXPECT_EQ(m.cpu().cp0.badvaddr, 0x00402004u);
}

}  // namespace
}  // namespace strobe::test
