// SPDX-License-Identifier: MIT
// Traps, SYSCALL/BREAK, Reserved Instruction, Coprocessor Unusable (absent FPU and COP2, CP0 in user
// mode), RDHWR, DI/EI and the hint instructions (MIPS32 Vol. II; Vol. III 6.2 for the exception codes).
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

uint32_t TrapR(Opcode op, uint32_t rs, uint32_t rt) {
  return E(op, {.rs = rs, .rt = rt, .code = 0x155});
}
uint32_t TrapI(Opcode op, uint32_t rs, uint32_t imm) {
  return E(op, {.rs = rs, .imm = imm});
}
uint32_t Rdhwr(uint32_t rt, uint32_t hwr) {
  return E(Opcode::RDHWR, {.rt = rt, .rd = hwr});
}

// Runs {nop, insn, addiu s0 1, wait} and checks for exception `code` at EPC = insn (or none, code < 0).
void ExpectException(const char* text, uint32_t insn, int code, uint32_t ce = 0,
                     std::vector<RegVal> in = {}) {
  SCOPED_TRACE(text);
  TestMachine m;
  InstallHaltHandlers(m);
  for (const RegVal& r : in) m.cpu().gpr[r.reg] = r.value;
  ASSERT_EQ(RunCode(m, {Nop(), insn, Addiu(s0, zero, 1), kWaitWord}), vmm::VmExit::kHalted);
  if (code < 0) {
    EXPECT_EQ(m.cpu().pc, kCode + 16) << "unexpected exception " << ExcCodeOf(m);
    EXPECT_EQ(m.cpu().gpr[s0], 1u);
    return;
  }
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
  EXPECT_EQ(ExcCodeOf(m), static_cast<uint32_t>(code));
  EXPECT_EQ(m.cpu().cp0.epc, kCode + 4);
  EXPECT_FALSE(BdOf(m));
  EXPECT_EQ(CeOf(m), ce);
  EXPECT_EQ(m.cpu().gpr[s0], 0u);
}

TEST(System, RegisterTraps) {
  struct Case {
    const char* text;
    Opcode op;
    uint32_t a, b;
    bool trap;
  } cases[] = {
      {"teq (5, 5)", Opcode::TEQ, 5, 5, true},
      {"teq (5, 6)", Opcode::TEQ, 5, 6, false},
      {"tne (5, 6)", Opcode::TNE, 5, 6, true},
      {"tne (0, 0)", Opcode::TNE, 0, 0, false},
      {"tge (-1, -1)", Opcode::TGE, 0xFFFFFFFF, 0xFFFFFFFF, true},
      {"tge (-1, 1) signed", Opcode::TGE, 0xFFFFFFFF, 1, false},
      {"tge (1, -1)", Opcode::TGE, 1, 0xFFFFFFFF, true},
      {"tge (INT_MIN, INT_MAX)", Opcode::TGE, 0x80000000, 0x7FFFFFFF, false},
      {"tgeu (0xffffffff, 1)", Opcode::TGEU, 0xFFFFFFFF, 1, true},
      {"tgeu (1, 0xffffffff)", Opcode::TGEU, 1, 0xFFFFFFFF, false},
      {"tgeu (0, 0)", Opcode::TGEU, 0, 0, true},
      {"tlt (-1, 1)", Opcode::TLT, 0xFFFFFFFF, 1, true},
      {"tlt (1, -1)", Opcode::TLT, 1, 0xFFFFFFFF, false},
      {"tlt (5, 5)", Opcode::TLT, 5, 5, false},
      {"tltu (1, 0xffffffff)", Opcode::TLTU, 1, 0xFFFFFFFF, true},
      {"tltu (0xffffffff, 1)", Opcode::TLTU, 0xFFFFFFFF, 1, false},
      {"tltu (0, 0)", Opcode::TLTU, 0, 0, false},
  };
  for (const auto& k : cases)
    ExpectException(k.text, TrapR(k.op, a0, a1), k.trap ? 13 : -1, 0, {{a0, k.a}, {a1, k.b}});
}

TEST(System, ImmediateTraps) {
  struct Case {
    const char* text;
    Opcode op;
    uint32_t imm, a;
    bool trap;
  } cases[] = {
      {"teqi a0, -1 (a0 = -1)", Opcode::TEQI, 0xFFFF, 0xFFFFFFFF, true},
      {"teqi a0, -1 (a0 = 0xffff: the immediate is sign-extended)", Opcode::TEQI, 0xFFFF, 0xFFFF, false},
      {"tnei a0, 0 (a0 = 0)", Opcode::TNEI, 0, 0, false},
      {"tnei a0, 0 (a0 = INT_MIN)", Opcode::TNEI, 0, 0x80000000, true},
      {"tgei a0, -32768 (equal)", Opcode::TGEI, 0x8000, 0xFFFF8000, true},
      {"tgei a0, -32768 (INT_MIN)", Opcode::TGEI, 0x8000, 0x80000000, false},
      {"tgeiu a0, -1 (0xffffffff >= 0xffffffff)", Opcode::TGEIU, 0xFFFF, 0xFFFFFFFF, true},
      {"tgeiu a0, -1 (0xffff < 0xffffffff)", Opcode::TGEIU, 0xFFFF, 0xFFFF, false},
      {"tlti a0, 0 (-1)", Opcode::TLTI, 0, 0xFFFFFFFF, true},
      {"tlti a0, 0 (0)", Opcode::TLTI, 0, 0, false},
      {"tltiu a0, 0x8000 (0x80000000 < 0xffff8000)", Opcode::TLTIU, 0x8000, 0x80000000, true},
      {"tltiu a0, 0x8000 (equal)", Opcode::TLTIU, 0x8000, 0xFFFF8000, false},
  };
  for (const auto& k : cases)
    ExpectException(k.text, TrapI(k.op, a0, k.imm), k.trap ? 13 : -1, 0, {{a0, k.a}});
}

TEST(System, SyscallBreakAndReservedInstruction) {
  ExpectException("syscall", Syscall(), 8);
  ExpectException("syscall 0x12345", E(Opcode::SYSCALL, {.code = 0x12345}), 8);
  ExpectException("break", E(Opcode::BREAK, {}), 9);
  ExpectException("break 7", E(Opcode::BREAK, {.code = 7 << 10}), 9);
  ExpectException("opcode 011000 (no MIPS32 instruction)", 0x60000000, 10);
  ExpectException("opcode 111111", 0xFC000000, 10);
  ExpectException("SPECIAL funct 000101", 0x00000005, 10);
  ExpectException("SPECIAL3 funct 111111", 0x7C00003F, 10);
  ExpectException("SLL with rs = 2", 0x00421000, 10);
  ExpectException("REGIMM rt = 00100", 0x04840000, 10);
}

TEST(System, AbsentCoprocessorsRaiseCpU) {
  ExpectException("cop1 (mfc1 zero, $f0)", 0x44000000, 11, 1);
  ExpectException("cop1 (add.s)", 0x46000000, 11, 1);
  ExpectException("lwc1 $f0, 0(zero)", E(Opcode::LWC1, {}), 11, 1);
  ExpectException("swc1", E(Opcode::SWC1, {}), 11, 1);
  ExpectException("ldc1", E(Opcode::LDC1, {}), 11, 1);
  ExpectException("sdc1 $f2, 8(a0)", E(Opcode::SDC1, {.rs = a0, .rt = 2, .imm = 8}), 11, 1, {{a0, kData}});
  ExpectException("movf v0, a0, $fcc0", E(Opcode::MOVF, {.rs = a0, .rd = v0}), 11, 1);
  ExpectException("movt v0, a0, $fcc0", E(Opcode::MOVT, {.rs = a0, .rd = v0}), 11, 1);
  ExpectException("cop1x (lwxc1 $f0, zero(zero))", E(Opcode::LWXC1, {}), 11, 1);
  ExpectException("bc1t (a branch: CpU before anything)", E(Opcode::BC1T, {.imm = 4}), 11, 1);
  // Encodings the 24Kf's FPU lacks (paired single, MIPS-3D) and reserved COP1/COP1X words: without a
  // usable FPU they raise CpU like the rest of the space, so the kernel's emulator sees them.
  ExpectException("add.ps", 0x46C00000, 11, 1);
  ExpectException("bc1any2f (MIPS-3D)", 0x45200001, 11, 1);
  ExpectException("COP1X funct 111111", 0x4C00003F, 11, 1);
  ExpectException("cop2", 0x48000000, 11, 2);
  ExpectException("lwc2", E(Opcode::LWC2, {}), 11, 2);
  ExpectException("swc2", E(Opcode::SWC2, {}), 11, 2);
  ExpectException("ldc2", E(Opcode::LDC2, {}), 11, 2);
  ExpectException("sdc2", E(Opcode::SDC2, {}), 11, 2);
}

// Status.CU1 cannot be set (no FPU), so the FPU stays unusable.
TEST(System, Cu1IsNotWritable) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code;
  code.Li(t0, 0x20000000) << Mtc0(t0, kCp0Status) << Mfc0(t1, kCp0Status) << 0x44000000 << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[t1], 0u);
  EXPECT_EQ(ExcCodeOf(m), 11u);
  EXPECT_EQ(CeOf(m), 1u);
}

// Privileged instructions in user mode without Status.CU0: CpU with CE = 0, EPC = the instruction.
TEST(System, Cp0InstructionsInUserModeRaiseCpU) {
  struct Case {
    const char* text;
    uint32_t insn;
  } cases[] = {
      {"mfc0 v0, Status", Mfc0(v0, kCp0Status)},
      {"mtc0 zero, Status", Mtc0(zero, kCp0Status)},
      {"cache 0x14, 0(zero)", E(Opcode::CACHE, {.op = 0x14})},
      {"tlbwi", E(Opcode::TLBWI, {})},
      {"tlbp", E(Opcode::TLBP, {})},
      {"tlbr", E(Opcode::TLBR, {})},
      {"tlbwr", E(Opcode::TLBWR, {})},
      {"eret", Eret()},
      {"wait", kWaitWord},
      {"di", E(Opcode::DI, {.rt = v0})},
      {"ei", E(Opcode::EI, {.rt = v0})},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    m.cpu().gpr[v0] = 0xDEADBEEF;
    ASSERT_EQ(RunUserCode(m, {Nop(), k.insn, Addiu(s0, zero, 1), Syscall()}), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 11u);
    EXPECT_EQ(CeOf(m), 0u);
    EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 4);
    EXPECT_EQ(m.cpu().gpr[s0], 0u);
    EXPECT_EQ(m.cpu().gpr[v0], 0xDEADBEEFu);
  }
}

// With Status.CU0 = 1, user mode may use CP0.
TEST(System, Cp0InstructionsInUserModeWithCu0) {
  TestMachine m;
  InstallHaltHandlers(m);
  ASSERT_EQ(
      RunUserCode(m, {Mfc0(v0, kCp0Status), E(Opcode::CACHE, {.op = 0x14}), Syscall()}, runtime::st::CU0),
      vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 8u);
  EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 8);
  EXPECT_EQ(m.cpu().gpr[v0], runtime::st::CU0 | (2u << 3));
}

TEST(System, CacheSyncPrefAreHarmlessInKernelMode) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code{E(Opcode::CACHE, {.rs = a0, .op = 0x10}),
           E(Opcode::SYNC, {}),
           E(Opcode::PREF, {.rs = a0, .op = 4}),
           E(Opcode::SYNCI, {.rs = a0}),
           Addiu(v0, zero, 1),
           kWaitWord};
  m.cpu().gpr[a0] = 0xFFFFFFF1;  // hints never fault, even on nonsense addresses
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[v0], 1u);
}

TEST(System, RdhwrInKernelMode) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code;
  code.Li(t0, 0xCAFEF00D) << Mtc0(t0, 4, 2)  // UserLocal
                          << Addiu(t1, zero, 1000) << Mtc0(t1, kCp0Count) << Rdhwr(s0, 0) << Rdhwr(s1, 1)
                          << Rdhwr(s2, 2) << Rdhwr(s3, 3) << Rdhwr(s4, 29) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[s0], 0u) << "CPUNum";
  EXPECT_EQ(m.cpu().gpr[s1], 16u) << "SYNCI_Step";
  EXPECT_GE(m.cpu().gpr[s2], 1000u) << "CC";
  EXPECT_LE(m.cpu().gpr[s2], 1010u) << "CC";
  EXPECT_EQ(m.cpu().gpr[s3], 2u) << "CCRes";
  EXPECT_EQ(m.cpu().gpr[s4], 0xCAFEF00Du) << "UserLocal";
}

TEST(System, RdhwrUnimplementedRegisterIsReserved) {
  ExpectException("rdhwr v0, $4", Rdhwr(v0, 4), 10);
  ExpectException("rdhwr v0, $28", Rdhwr(v0, 28), 10);
  ExpectException("rdhwr v0, $30", Rdhwr(v0, 30), 10);
}

// User mode: each register needs its HWREna bit (or CU0); otherwise Reserved Instruction.
TEST(System, RdhwrInUserModeFollowsHwrEna) {
  for (uint32_t hwr : {0u, 1u, 2u, 3u, 29u}) {
    SCOPED_TRACE(hwr);
    {
      TestMachine m;
      InstallHaltHandlers(m);
      m.cpu().cp0.hwrena = 0x2000000F & ~(1u << hwr);  // every other register enabled
      ASSERT_EQ(RunUserCode(m, {Nop(), Rdhwr(v0, hwr), Syscall()}), vmm::VmExit::kHalted);
      EXPECT_EQ(ExcCodeOf(m), 10u);
      EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 4);
    }
    {
      TestMachine m;
      InstallHaltHandlers(m);
      runtime::WriteCp0(m.cpu(), kCp0HwrEna, 0, 1u << hwr);
      m.cpu().cp0.userlocal = 0x12345678;
      m.cpu().gpr[v0] = 0xDEADBEEF;
      ASSERT_EQ(RunUserCode(m, {Nop(), Rdhwr(v0, hwr), Syscall()}), vmm::VmExit::kHalted);
      EXPECT_EQ(ExcCodeOf(m), 8u) << "allowed: runs on to the SYSCALL";
      const uint32_t v = m.cpu().gpr[v0];
      switch (hwr) {
        case 0: EXPECT_EQ(v, 0u); break;
        case 1: EXPECT_EQ(v, 16u); break;
        case 2: EXPECT_LT(v, 0x100000u); break;  // a small Count shortly after boot
        case 3: EXPECT_EQ(v, 2u); break;
        default: EXPECT_EQ(v, 0x12345678u); break;
      }
    }
  }
}

TEST(System, RdhwrInUserModeWithCu0NeedsNoHwrEna) {
  TestMachine m;
  InstallHaltHandlers(m);
  ASSERT_EQ(RunUserCode(m, {Rdhwr(v0, 3), Syscall()}, runtime::st::CU0), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 8u);
  EXPECT_EQ(m.cpu().gpr[v0], 2u);
}

// DI/EI return the old Status and clear/set only IE.
TEST(System, DiEi) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code{E(Opcode::EI, {.rt = t0}), Mfc0(t1, kCp0Status), E(Opcode::DI, {.rt = t2}), Mfc0(t3, kCp0Status),
           kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[t0], 0u);
  EXPECT_EQ(m.cpu().gpr[t1], 1u);
  EXPECT_EQ(m.cpu().gpr[t2], 1u);
  EXPECT_EQ(m.cpu().gpr[t3], 0u);
}

}  // namespace
}  // namespace strobe::test
