// SPDX-License-Identifier: MIT
// Exceptions raised inside translated code: loads and stores that fault (TLB refill, address error) in the
// middle of a long region, after many iterations of a translated loop and in branch delay slots. EPC,
// Cause (ExcCode, BD), BadVAddr, Context, EntryHi, Status and every register must be exactly what the
// interpreter leaves; the tests run each program under the interpreter and both translating engines.
#include <gtest/gtest.h>

#include <functional>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kUnmapped = 0x00812340u;  // kuseg, no TLB entry covers it: a TLB refill

using Setup = std::function<void(TestMachine&)>;

struct Result {
  ArchState state;
  bool translated = false;  // the block at check_pa had a translated entry after the run
  vmm::VmExit exit = vmm::VmExit::kError;
};

Result RunOn(Engine e, const Setup& setup, uint32_t check_pa, uint64_t max_insns = 1'000'000) {
  auto m = NewMachine(e);
  InstallHaltHandlers(*m);
  setup(*m);
  Result r;
  r.exit = m->Run(kCode, max_insns);
  r.state = Snapshot(*m, kDataPa, 64);
  r.translated = NativeOf(*m, check_pa) != nullptr;
  return r;
}

// Runs under all engines; returns the interpreter's result after checking the others against it.
ArchState RunAll(const Setup& setup, uint32_t check_pa, uint64_t max_insns = 1'000'000) {
  Result ref = RunOn(Engine::kInterp, setup, check_pa, max_insns);
  EXPECT_EQ(ref.exit, vmm::VmExit::kHalted);
  for (Engine e : {Engine::kJit, kJitO1, Engine::kTiered}) {
    Result r = RunOn(e, setup, check_pa, max_insns);
    EXPECT_EQ(r.exit, ref.exit) << EngineName(e);
    ExpectSameState(ref.state, r.state, EngineName(e));
    if (IsJit(e)) {
      EXPECT_TRUE(r.translated) << "the faulting code should have run translated";
    }
  }
  return ref.state;
}

uint32_t Exc(const ArchState& s) {
  return (s.cause >> 2) & 0x1F;
}
bool Bd(const ArchState& s) {
  return (s.cause >> 31) != 0;
}

// A long straight-line block of register arithmetic (n words) that all later checks see.
Asm Arith(unsigned n) {
  Asm a;
  for (unsigned i = 0; i < n; ++i) {
    const uint32_t rd = s0 + (i % 6);
    a << Addiu(rd, rd, static_cast<int32_t>(i * 37 + 1));
    if (i % 5 == 4) a << Addu(s0 + ((i + 1) % 6), rd, s0 + ((i + 3) % 6));
  }
  return a;
}

// A short loop (t3 times) first, so the region holds several blocks; then `n` arithmetic words, the
// faulting access, and more arithmetic that must not run.
Asm Around(const Asm& fault, unsigned before, uint32_t* fault_off) {
  Asm code;
  code << Addiu(t3, zero, 20) << Addiu(v1, v1, 3) << Addiu(t3, t3, -1) << Bne(t3, zero, -3) << Nop();
  code << Arith(before);
  *fault_off = code.size_bytes();
  code << fault << Arith(12) << Addiu(v0, zero, 0x77) << kWaitWord;
  return code;
}

TEST(ExceptionJit, TlbRefillMidRegion) {
  uint32_t off = 0;
  Asm code = Around(Asm{Lw(t5, 0x10, a0)}, 60, &off);
  ArchState s = RunAll(
      [&](TestMachine& m) {
        m.cpu().gpr[a0] = kUnmapped - 0x10;
        m.cpu().gpr[t5] = 0x5555;
        m.LoadCode(kCodePa, code.words());
      },
      kCodePa);
  EXPECT_EQ(s.pc, kRefillVector + 4);
  EXPECT_EQ(Exc(s), 2u) << "TLBL";
  EXPECT_FALSE(Bd(s));
  EXPECT_EQ(s.epc, kCode + off);
  EXPECT_EQ(s.badvaddr, kUnmapped);
  EXPECT_EQ(s.entryhi & 0xFFFFE000u, kUnmapped & 0xFFFFE000u);
  EXPECT_EQ(s.gpr[t5], 0x5555u) << "the faulting load must not write its target";
  EXPECT_EQ(s.gpr[v0], 0u) << "nothing after the fault runs";
  EXPECT_EQ(s.gpr[v1], 60u);
}

TEST(ExceptionJit, TlbRefillOnStoreMidRegion) {
  uint32_t off = 0;
  Asm code = Around(Asm{E(Opcode::SB, {.rs = a0, .rt = s1, .imm = 3})}, 90, &off);
  ArchState s = RunAll(
      [&](TestMachine& m) {
        m.cpu().gpr[a0] = kUnmapped;
        m.LoadCode(kCodePa, code.words());
      },
      kCodePa);
  EXPECT_EQ(Exc(s), 3u) << "TLBS";
  EXPECT_EQ(s.epc, kCode + off);
  EXPECT_EQ(s.badvaddr, kUnmapped + 3);
}

// LL and SC go through the interpreter's handler, around which the second tier writes back and reloads its
// promoted registers. One that faults after the region wrote its base and target (s0..s5 are the
// arithmetic's) leaves every register as the interpreter does, the target included. (Writing back only the
// operands was tried: without the target among them this fails; with it, no faster.)
TEST(ExceptionJit, LinkedLoadAndConditionalStoreFaultMidRegion) {
  for (Opcode op : {Opcode::LL, Opcode::SC}) {
    SCOPED_TRACE(op == Opcode::LL ? "LL" : "SC");
    uint32_t off = 0;
    Asm code;
    code << Addiu(s1, zero, 0x10) << Addu(a1, a0, s1);  // the base is computed in the region
    Asm rest = Around(Asm{E(op, {.rs = a1, .rt = s2, .imm = 0})}, 50, &off);
    code << rest;
    off += 8;
    ArchState s = RunAll(
        [&](TestMachine& m) {
          m.cpu().gpr[a0] = kUnmapped - 0x10;
          m.cpu().ll_bit = true;  // SC stores (and so faults) only while the LL bit holds
          m.LoadCode(kCodePa, code.words());
        },
        kCodePa);
    EXPECT_EQ(Exc(s), op == Opcode::LL ? 2u : 3u);
    EXPECT_EQ(s.epc, kCode + off);
    EXPECT_EQ(s.badvaddr, kUnmapped);
    EXPECT_EQ(s.gpr[a1], kUnmapped);
    EXPECT_NE(s.gpr[s2], 0u) << "the arithmetic before the fault wrote the target";
    EXPECT_EQ(s.gpr[v0], 0u) << "nothing after the fault runs";
  }
}

TEST(ExceptionJit, MisalignedLoadAndStoreMidRegion) {
  struct Case {
    const char* text;
    uint32_t insn;
    uint32_t exc;
    uint32_t badvaddr;
  } cases[] = {
      {"lw +2", Lw(t5, 2, a0), 4, kData + 2},
      {"lh +1", E(Opcode::LH, {.rs = a0, .rt = t5, .imm = 1}), 4, kData + 1},
      {"lhu +3", E(Opcode::LHU, {.rs = a0, .rt = t5, .imm = 3}), 4, kData + 3},
      {"sw +1", Sw(s2, 1, a0), 5, kData + 1},
      {"sh +3", E(Opcode::SH, {.rs = a0, .rt = s2, .imm = 3}), 5, kData + 3},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    uint32_t off = 0;
    Asm code = Around(Asm{k.insn}, 40, &off);
    ArchState s = RunAll(
        [&](TestMachine& m) {
          m.cpu().gpr[a0] = kData;
          m.Write32(kDataPa, 0x11223344);
          m.LoadCode(kCodePa, code.words());
        },
        kCodePa);
    EXPECT_EQ(s.pc, kGeneralVector + 4);
    EXPECT_EQ(Exc(s), k.exc);
    EXPECT_FALSE(Bd(s));
    EXPECT_EQ(s.epc, kCode + off);
    EXPECT_EQ(s.badvaddr, k.badvaddr);
    EXPECT_EQ(s.data[0], 0x11223344u) << "a faulting store writes nothing";
  }
}

// LWL/LWR/SWL/SWR fault with BadVAddr = their own effective address (not its aligned word's), and a
// faulting SWL/SWR writes no byte. The pair at kPiece: the even page valid but clean (D=0: stores raise TLB
// Modified), the odd page invalid.
TEST(ExceptionJit, WordPiecesFaultAtTheirOwnAddress) {
  constexpr uint32_t kPiece = 0x00700000u;
  struct Case {
    const char* text;
    Opcode op;
    uint32_t offset, base, exc;
  } cases[] = {
      {"lwl +1 on the invalid page", Opcode::LWL, 1, kPiece + 0x1000, 2},
      {"lwr +2 on the invalid page", Opcode::LWR, 2, kPiece + 0x1000, 2},
      {"lwl +3 unmapped", Opcode::LWL, 3, kUnmapped, 2},
      {"swl +3 on the clean page", Opcode::SWL, 3, kPiece, 1},
      {"swl +1 on the clean page", Opcode::SWL, 1, kPiece, 1},
      {"swr +1 on the clean page", Opcode::SWR, 1, kPiece, 1},
      {"swr +2 on the invalid page", Opcode::SWR, 2, kPiece + 0x1000, 3},
      {"swl +2 unmapped", Opcode::SWL, 2, kUnmapped, 3},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    // On the clean page a load through the same base goes first (it succeeds), then the piece.
    const bool load_first = k.base == kPiece;
    Asm fault;
    if (load_first) fault << Lw(t4, 0, a0);
    fault << E(k.op, {.rs = a0, .rt = t5, .imm = k.offset});
    uint32_t off = 0;
    Asm code = Around(fault, 30, &off);
    ArchState s = RunAll(
        [&](TestMachine& m) {
          m.cpu().gpr[a0] = k.base;
          m.cpu().gpr[t5] = 0x5555AAAA;
          m.Write32(kDataPa, 0x11223344);
          WriteTlb(m, 0, kPiece, EntryLo(kDataPa, false, true), EntryLo(kDataPa + 0x1000, true, false));
          m.LoadCode(kCodePa, code.words());
        },
        kCodePa);
    EXPECT_EQ(Exc(s), k.exc);
    EXPECT_EQ(s.epc, kCode + off + (load_first ? 4 : 0));
    EXPECT_EQ(s.badvaddr, k.base + k.offset);
    EXPECT_EQ(s.gpr[t5], 0x5555AAAAu) << "a faulting LWL/LWR leaves rt";
    EXPECT_EQ(s.data[0], 0x11223344u) << "a faulting SWL/SWR writes no byte";
    EXPECT_EQ(s.gpr[v0], 0u);
  }
}

// Two accesses through one base register in one block: the second reuses the first one's page only
// when it is the same page and aligned, so a second access that is misaligned, or crosses into a page
// whose TLB entry is invalid, must still raise its exception with its own EPC and BadVAddr.
TEST(ExceptionJit, SecondAccessThroughSameBaseFaults) {
  constexpr uint32_t kEven = 0x00600000u;  // a TLB pair: the even page valid, the odd one invalid
  struct Case {
    const char* text;
    uint32_t first, second, base, exc, badvaddr;
  } cases[] = {
      {"lw then misaligned lw", Lw(t4, 0, a0), Lw(t5, 2, a0), kData, 4, kData + 2},
      {"sw then misaligned sh", Sw(s2, 0, a0), E(Opcode::SH, {.rs = a0, .rt = s2, .imm = 5}), kData, 5,
       kData + 5},
      {"lw then lw on the invalid page", Lw(t4, 0, a0), Lw(t5, 4, a0), kEven + 0xFFC, 2, kEven + 0x1000},
      {"sw then sw on the invalid page", Sw(s2, 0, a0), Sw(s2, 8, a0), kEven + 0xFFC, 3, kEven + 0x1004},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    // The first access runs once in a block of its own, so the soft TLB holds its page when the pair runs.
    Asm fault{k.first, Beq(zero, zero, 1), Nop(), k.first, k.second};
    uint32_t off = 0;
    Asm code = Around(fault, 30, &off);
    ArchState s = RunAll(
        [&](TestMachine& m) {
          m.cpu().gpr[a0] = k.base;
          m.cpu().gpr[t5] = 0x5555;
          m.Write32(kDataPa, 0x11223344);
          WriteTlb(m, 0, kEven, EntryLo(kDataPa + 0x4000, true, true),
                   EntryLo(kDataPa + 0x5000, true, false));
          m.LoadCode(kCodePa, code.words());
        },
        kCodePa);
    EXPECT_EQ(Exc(s), k.exc);
    EXPECT_EQ(s.epc, kCode + off + 16) << "the second access faults";
    EXPECT_EQ(s.badvaddr, k.badvaddr);
    EXPECT_EQ(s.gpr[t5], 0x5555u);
    EXPECT_EQ(s.gpr[v0], 0u);
  }
}

// Faults in the delay slot of each kind of branch: EPC = the branch, Cause.BD = 1, links written.
TEST(ExceptionJit, FaultInDelaySlot) {
  const uint32_t bad_lw = Lw(t5, 2, a0);  // AdEL
  struct Case {
    const char* text;
    uint32_t branch;
  } cases[] = {
      {"beq taken", Beq(zero, zero, 4)},
      {"bne not taken", Bne(zero, zero, 4)},
      {"beql taken", E(Opcode::BEQL, {.rs = a1, .rt = a1, .imm = 4})},
      {"bgezal", E(Opcode::BGEZAL, {.rs = zero, .imm = 4})},
      {"bltzal not taken", E(Opcode::BLTZAL, {.rs = zero, .imm = 4})},
      {"jr", Jr(t9)},
      {"jalr", E(Opcode::JALR, {.rs = t9, .rd = ra})},
      {"jal", E(Opcode::JAL, {.target = (kCode >> 2) & 0x3FFFFFF})},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    // A loop first (so the branch sits in a multi-block region), arithmetic, the branch and its faulting
    // slot, then targets that must not run.
    Asm code;
    code << Addiu(t3, zero, 5) << Addiu(v1, v1, 1) << Addiu(t3, t3, -1) << Bne(t3, zero, -3) << Nop();
    code << Arith(25);
    const uint32_t branch_off = code.size_bytes();
    code << k.branch << bad_lw << Addiu(v0, zero, 1) << kWaitWord << Nop() << Addiu(v0, zero, 2) << kWaitWord;
    ArchState s = RunAll(
        [&](TestMachine& m) {
          m.cpu().gpr[a0] = kData;
          m.cpu().gpr[a1] = 9;
          m.cpu().gpr[t9] = kCode + branch_off + 20;
          m.cpu().gpr[ra] = 0xDEAD0000;
          m.LoadCode(kCodePa, code.words());
        },
        kCodePa);
    EXPECT_EQ(s.pc, kGeneralVector + 4);
    EXPECT_EQ(Exc(s), 4u);
    EXPECT_TRUE(Bd(s));
    EXPECT_EQ(s.epc, kCode + branch_off);
    EXPECT_EQ(s.badvaddr, kData + 2);
    EXPECT_EQ(s.gpr[v0], 0u);
  }
}

// A TLB refill in the delay slot of a backward loop branch, on the 100th iteration of a translated loop:
// loop: lw t5, 0(a0) (pointer from a table); addiu s0, s0, 1; addu s1, s1, t5; addiu a0, a0, 4;
//       bne s0, s2, loop; lw t6, 0(t5) (slot: dereferences the pointer; entry 99 is unmapped); wait
TEST(ExceptionJit, RefillInDelaySlotOfTranslatedLoop) {
  Asm code{Lw(t5, 0, a0),   Addiu(s0, s0, 1), Addu(s1, s1, t5), Addiu(a0, a0, 4),
           Bne(s0, s2, -5), Lw(t6, 0, t5),    kWaitWord};
  ArchState s = RunAll(
      [&](TestMachine& m) {
        for (uint32_t i = 0; i < 200; ++i)
          m.Write32(kDataPa + 0x400 + 4 * i, i == 99 ? kUnmapped : kData + 4 * i);
        m.cpu().gpr[a0] = kData + 0x400;
        m.cpu().gpr[s2] = 150;
        m.LoadCode(kCodePa, code.words());
      },
      kCodePa);
  EXPECT_EQ(s.pc, kRefillVector + 4);
  EXPECT_EQ(Exc(s), 2u);
  EXPECT_TRUE(Bd(s));
  EXPECT_EQ(s.epc, kCode + 16);
  EXPECT_EQ(s.badvaddr, kUnmapped);
  EXPECT_EQ(s.gpr[s0], 100u);
}

// Exceptions taken and returned from on most iterations of a translated loop (the handler, at the general
// vector, is translated too): misaligned loads (AdEL) on three iterations out of four, a trap (TEQ) on the
// fourth, an overflow (ADD) every eighth. The skip handler counts them in s7 and resumes after the fault.
TEST(ExceptionJit, HandledExceptionsInTranslatedLoop) {
  // loop: andi t6, s0, 3; addu t7, a0, t6; lw t5, 0(t7); addu s1, s1, t5; teq t6, zero;
  //       andi t8, s0, 7; addu t8, t8, s3; add t9, t8, s4 (overflows when t8 = 0x7FFFFFF7 + 7);
  //       addiu s0, s0, 1; bne s0, s2, loop; nop; wait
  Asm code{E(Opcode::ANDI, {.rs = s0, .rt = t6, .imm = 3}),
           Addu(t7, a0, t6),
           Lw(t5, 0, t7),
           Addu(s1, s1, t5),
           E(Opcode::TEQ, {.rs = t6, .rt = zero}),
           E(Opcode::ANDI, {.rs = s0, .rt = t8, .imm = 7}),
           Addu(t8, t8, s3),
           E(Opcode::ADD, {.rs = t8, .rt = s4, .rd = t9}),
           Addiu(s0, s0, 1),
           Bne(s0, s2, -10),
           Nop(),
           kWaitWord};
  ArchState s = RunAll(
      [&](TestMachine& m) {
        InstallSkipHandler(m);
        m.Write32(kDataPa, 0x01020304);
        m.cpu().gpr[a0] = kData;
        m.cpu().gpr[s2] = 400;
        m.cpu().gpr[s3] = 0x7FFFFFF8;
        m.cpu().gpr[s4] = 1;  // t8 + 1 overflows when t8 = 0x7FFFFFFF, i.e. s0 & 7 == 7
        m.cpu().gpr[t9] = 0xAAAA;
        m.LoadCode(kCodePa, code.words());
      },
      kCodePa);
  EXPECT_EQ(s.pc, kCode + code.size_bytes());
  EXPECT_EQ(s.gpr[s0], 400u);
  EXPECT_EQ(s.gpr[s7], 300u + 100u + 50u) << "AdEL x300, Tr x100, Ov x50";
  EXPECT_EQ(s.gpr[s1], 400u * 0x01020304u) << "t5 keeps the last aligned load's value";
  EXPECT_EQ(s.gpr[t9], 0x7FFFFFFFu) << "the last ADD that did not overflow";
}

// Kernel code calling into a TLB-mapped kuseg page that has no entry: the fetch of the jump target faults
// (TLBL refill with EPC = the target, BD = 0) after a chained jump out of translated code.
TEST(ExceptionJit, FetchRefillAfterTranslatedJump) {
  Asm code;
  code << Arith(30) << E(Opcode::JALR, {.rs = t9, .rd = ra}) << Addiu(v1, zero, 5) << kWaitWord;
  ArchState s = RunAll(
      [&](TestMachine& m) {
        m.cpu().gpr[t9] = kUnmapped & ~3u;
        m.LoadCode(kCodePa, code.words());
      },
      kCodePa);
  EXPECT_EQ(s.pc, kRefillVector + 4);
  EXPECT_EQ(Exc(s), 2u);
  EXPECT_FALSE(Bd(s));
  EXPECT_EQ(s.epc, kUnmapped & ~3u);
  EXPECT_EQ(s.badvaddr, kUnmapped & ~3u);
  EXPECT_EQ(s.gpr[v1], 5u);
  EXPECT_EQ(s.gpr[ra], kCode + 30 * 4 + 6 * 4 + 8);
}

}  // namespace
}  // namespace strobe::test::jt

namespace strobe::test::jt {
namespace {

// RDHWR rt, $29 (UserLocal, glibc's thread pointer) is read inline by translated and baseline code where the
// handler would give UserLocal whatever the mode (llvm/lifter.cpp, interp/baseline.cpp); elsewhere the
// handler raises Reserved Instruction. In user mode, in a block's body and in a branch's delay slot: enabled
// in HWREna, not enabled, and enabled but not implemented (Config3.ULRI clear). Every engine must leave
// what the interpreter leaves.
TEST(JitRdhwr, UserLocalInlineMatchesTheHandler) {
  const uint32_t rdhwr = E(Opcode::RDHWR, {.rt = v0, .rd = runtime::kHwrUserLocal});
  const Asm body{Nop(), rdhwr, Addiu(s0, zero, 1), Syscall()};
  const Asm slot{Beq(zero, zero, 2), rdhwr, Addiu(s1, zero, 1), Syscall()};
  struct Case {
    const char* what;
    uint32_t hwrena;
    bool ulri;
    uint32_t exc;  // the ExcCode the run ends with: SYSCALL (8) when RDHWR was allowed, RI (10) otherwise
  };
  const Case cases[] = {{"enabled", 1u << runtime::kHwrUserLocal, true, 8},
                        {"not enabled", 0x0000000F, true, 10},
                        {"not implemented", 1u << runtime::kHwrUserLocal, false, 10}};
  for (const Case& k : cases) {
    for (bool in_slot : {false, true}) {
      SCOPED_TRACE(std::string(k.what) + (in_slot ? ", in a delay slot" : ", in the body"));
      ArchState want;
      for (Engine e : {Engine::kInterp, Engine::kJit, kJitO1, kBaseline}) {
        auto mp = NewMachine(e);
        TestMachine& m = *mp;
        InstallHaltHandlers(m);
        m.cpu().cp0.hwrena = k.hwrena;
        if (!k.ulri) m.cpu().cp0.config3 &= ~runtime::config3::ULRI;
        m.cpu().cp0.userlocal = 0x7FF4'5470;
        m.cpu().gpr[v0] = 0xDEAD'BEEF;
        ASSERT_EQ(RunUserCode(m, in_slot ? slot : body), vmm::VmExit::kHalted) << EngineName(e);
        ArchState s = Snapshot(m);
        if (e == Engine::kInterp) {
          want = s;
          EXPECT_EQ(ExcCodeOf(m), k.exc);
          EXPECT_EQ(s.gpr[v0], k.exc == 8 ? 0x7FF4'5470u : 0xDEAD'BEEFu);
          EXPECT_EQ(BdOf(m), in_slot && k.exc == 10);
          continue;
        }
        ExpectSameState(want, s, EngineName(e));
        if (IsJit(e)) EXPECT_NE(NativeOf(m, kUserCodePa), nullptr) << EngineName(e) << ": not translated";
        if (e == kBaseline) EXPECT_GT(m.vm().code_cache().stats().baseline_blocks, 0u);
      }
    }
  }
}

}  // namespace
}  // namespace strobe::test::jt
