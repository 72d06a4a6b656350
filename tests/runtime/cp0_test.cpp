// SPDX-License-Identifier: MIT
// CP0 register file: reset values, writable-bit masks (all-ones and all-zeros writes read back per
// runtime/cp0.cpp and MIPS32 Vol. III chapter 9), Count/Compare and the MTC0/MFC0 select decoding.
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

TEST(Cp0, ResetValues) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  EXPECT_EQ(runtime::ReadCp0(c, 15, 0), 0x00019300u) << "PRId";
  EXPECT_EQ(runtime::ReadCp0(c, 16, 0), 0x80000482u) << "Config0: M, AR=1, MT=1, K0=2";
  const uint32_t config1 = runtime::ReadCp0(c, 16, 1);
  EXPECT_EQ(config1 >> 31, 1u) << "Config1.M";
  EXPECT_EQ((config1 >> 25) & 63, 15u) << "Config1.MMUSize = entries - 1";
  EXPECT_EQ(config1 & 1, 0u) << "Config1.FP: no FPU";
  EXPECT_EQ((config1 >> 19) & 7, 3u) << "Config1.IL: 16-byte lines (RDHWR 1 agrees)";
  EXPECT_EQ(runtime::ReadCp0(c, 16, 2) >> 31, 1u) << "Config2.M";
  EXPECT_EQ((runtime::ReadCp0(c, 16, 3) >> 13) & 1, 1u) << "Config3.ULRI";
  EXPECT_EQ(runtime::ReadCp0(c, 15, 1), 0x80000000u) << "EBase";
  EXPECT_EQ(runtime::ReadCp0(c, 12, 1), 0xE0000000u) << "IntCtl.IPTI = 7";
  EXPECT_EQ(runtime::ReadCp0(c, 6, 0), 0u) << "Wired";
  const uint32_t random = runtime::ReadCp0(c, 1, 0);
  EXPECT_LE(random, 15u) << "Random";
  // Status straight out of ResetCpu (TestMachine clears BEV afterwards).
  runtime::CpuConfig cfg;
  runtime::ResetCpu(c, cfg);
  EXPECT_EQ(runtime::ReadCp0(c, 12, 0), runtime::st::BEV);
  EXPECT_EQ(runtime::ReadCp0(c, 13, 0), 0u);
}

TEST(Cp0, Config1MmuSizeFollowsTlbSize) {
  for (unsigned n : {1u, 16u, 32u, 48u, 64u}) {
    SCOPED_TRACE(n);
    TestMachine m(16u << 20, n);
    EXPECT_EQ((runtime::ReadCp0(m.cpu(), 16, 1) >> 25) & 63, n - 1);
    EXPECT_EQ(m.cpu().tlb->size(), n);
  }
}

struct MaskCase {
  const char* name;
  unsigned reg, sel;
  uint32_t after_ones, after_zeros;
  bool read_only = false;  // both writes leave the reset value
};

// Each register written with 0xffffffff then 0, read back through the same path MTC0/MFC0 use.
TEST(Cp0, WriteMasks) {
  const MaskCase cases[] = {
      {"Index (16 entries: 4 bits; P not writable)", 0, 0, 0x0000000F, 0},
      {"EntryLo0", 2, 0, 0x03FFFFFF, 0},
      {"EntryLo1", 3, 0, 0x03FFFFFF, 0},
      {"Context (PTEBase only)", 4, 0, 0xFF800000, 0},
      {"UserLocal", 4, 2, 0xFFFFFFFF, 0},
      {"PageMask", 5, 0, 0x1FFFE000, 0},
      {"Wired", 6, 0, 0x0000000F, 0},
      {"HWREna", 7, 0, 0x2000000F, 0},
      {"BadVAddr (read-only)", 8, 0, 0, 0, true},
      {"EntryHi (VPN2, ASID)", 10, 0, 0xFFFFE0FF, 0},
      {"Compare", 11, 0, 0xFFFFFFFF, 0},
      {"IntCtl (VS only)", 12, 1, 0xE00003E0, 0xE0000000},
      {"SRSCtl (read-only)", 12, 2, 0, 0, true},
      {"Cause (IV, IP1..0)", 13, 0, 0x00800300, 0},
      {"EPC", 14, 0, 0xFFFFFFFF, 0},
      {"PRId (read-only)", 15, 0, 0, 0, true},
      {"EBase (exception base only; 31:30 = 10)", 15, 1, 0xBFFFF000, 0x80000000},
      {"Config0 (K0 only)", 16, 0, 0x80000487, 0x80000480},
      {"Config1 (read-only)", 16, 1, 0, 0, true},
      {"Config2 (read-only)", 16, 2, 0, 0, true},
      {"Config3 (read-only)", 16, 3, 0, 0, true},
      {"LLAddr (read-only)", 17, 0, 0, 0, true},
      {"ErrorEPC", 30, 0, 0xFFFFFFFF, 0},
  };
  for (const MaskCase& k : cases) {
    SCOPED_TRACE(k.name);
    TestMachine m;
    runtime::CpuState& c = m.cpu();
    const uint32_t reset = runtime::ReadCp0(c, k.reg, k.sel);
    runtime::WriteCp0(c, k.reg, k.sel, 0xFFFFFFFF);
    EXPECT_EQ(runtime::ReadCp0(c, k.reg, k.sel), k.read_only ? reset : k.after_ones);
    runtime::WriteCp0(c, k.reg, k.sel, 0);
    EXPECT_EQ(runtime::ReadCp0(c, k.reg, k.sel), k.read_only ? reset : k.after_zeros);
  }
}

// Status: every architecturally writable bit of this core (CU0, BEV, IM7..0, KSU, ERL, EXL, IE) follows
// the write; CU1-3, RP, FR, RE, MX, TS are not writable. SR and NMI are checked separately below.
TEST(Cp0, StatusWriteMask) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  constexpr uint32_t kSrNmi = (1u << 20) | (1u << 19);
  runtime::WriteCp0(c, 12, 0, 0xFFFFFFFF);
  EXPECT_EQ(runtime::ReadCp0(c, 12, 0) & ~kSrNmi, 0x1040FF1Fu);
  runtime::WriteCp0(c, 12, 0, 0);
  EXPECT_EQ(runtime::ReadCp0(c, 12, 0), 0u);
}

// MIPS32 Vol. III, Status.SR and Status.NMI: "Software can only write a 0 to this bit to clear it and
// cannot force a 0-1 transition" (and a 24K-class core without soft reset/NMI reads them as 0).
TEST(Cp0, StatusSrAndNmiCannotBeSetBySoftware) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  runtime::WriteCp0(c, 12, 0, (1u << 20) | (1u << 19));
  EXPECT_EQ(runtime::ReadCp0(c, 12, 0), 0u);
}

// Index.P is set only by TLBP; a write leaves it as it was.
TEST(Cp0, IndexProbeBitIsReadOnly) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  runtime::WriteCp0(c, 10, 0, 0x7FFFE000);  // nothing maps this VPN2
  runtime::Tlbp(c);
  EXPECT_EQ(runtime::ReadCp0(c, 0, 0) >> 31, 1u);
  runtime::WriteCp0(c, 0, 0, 3);
  EXPECT_EQ(runtime::ReadCp0(c, 0, 0), 0x80000003u);
}

// Wired and Index width follow the TLB size.
TEST(Cp0, IndexAndWiredWidthFollowTlbSize) {
  TestMachine m(16u << 20, 64);
  runtime::WriteCp0(m.cpu(), 0, 0, 0xFFFFFFFF);
  EXPECT_EQ(runtime::ReadCp0(m.cpu(), 0, 0), 63u);
  runtime::WriteCp0(m.cpu(), 6, 0, 0xFFFFFFFF);
  EXPECT_EQ(runtime::ReadCp0(m.cpu(), 6, 0), 63u);
}

// The same through guest MTC0/MFC0, which also checks the sel field decoding.
TEST(Cp0, GuestMtc0Mfc0RoundTrip) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[s0] = kData;
  struct R {
    unsigned reg, sel;
    uint32_t expect;
  } regs[] = {{10, 0, 0xFFFFE0FF}, {5, 0, 0x1FFFE000},  {15, 1, 0xBFFFF000}, {12, 1, 0xE00003E0},
              {4, 2, 0xFFFFFFFF},  {16, 0, 0x80000487}, {7, 0, 0x2000000F},  {6, 0, 0x0000000F},
              {2, 0, 0x03FFFFFF},  {3, 0, 0x03FFFFFF},  {14, 0, 0xFFFFFFFF}, {30, 0, 0xFFFFFFFF}};
  Asm code;
  code << Addiu(t0, zero, -1);
  for (unsigned i = 0; i < std::size(regs); ++i)
    code << Mtc0(t0, regs[i].reg, regs[i].sel) << Mfc0(t1, regs[i].reg, regs[i].sel) << Sw(t1, 4 * i, s0);
  code << Mtc0(t0, 16, 1) << Mfc0(t2, 16, 1) << Mfc0(t3, 16, 3) << Mfc0(t4, 15, 0) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  ASSERT_EQ(m.cpu().pc, kCode + code.size_bytes());
  for (unsigned i = 0; i < std::size(regs); ++i)
    EXPECT_EQ(m.Read32(kDataPa + 4 * i), regs[i].expect) << "CP0 " << regs[i].reg << "." << regs[i].sel;
  EXPECT_EQ(m.cpu().gpr[t2], m.cpu().cp0.config1) << "Config1 is read-only";
  EXPECT_EQ((m.cpu().gpr[t2] >> 25) & 63, 15u);
  EXPECT_EQ((m.cpu().gpr[t3] >> 13) & 1, 1u);
  EXPECT_EQ(m.cpu().gpr[t4], 0x00019300u);
}

// Count is writable and then advances at half the instruction rate (CCRes = 2), wrapping at 2^32.
TEST(Cp0, CountIsWritableAndAdvances) {
  TestMachine m;
  InstallHaltHandlers(m);
  // li t0, 0xfffffff0; mtc0 t0, Count; mfc0 s0, Count; 1000-iteration loop; mfc0 s1, Count
  Asm code;
  code.Li(t0, 0xFFFFFFF0) << Mtc0(t0, kCp0Count) << Mfc0(s0, kCp0Count) << Addiu(t1, zero, 1000)
                          << Addiu(t1, t1, -1) << Bne(t1, zero, -2) << Nop() << Mfc0(s1, kCp0Count)
                          << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  const uint32_t first = m.cpu().gpr[s0] - 0xFFFFFFF0u;
  EXPECT_LT(first, 8u) << "Count read back right after the write";
  const uint32_t delta = m.cpu().gpr[s1] - m.cpu().gpr[s0];  // wraps through zero
  EXPECT_GE(delta, 1400u);  // about 3000 instructions at one Count tick per two
  EXPECT_LE(delta, 1600u);
  EXPECT_LT(m.cpu().gpr[s1], 0x1000u) << "Count wrapped past zero";
}

// Any Compare write acknowledges the timer: Cause.TI and Cause.IP7 go to 0.
TEST(Cp0, CompareWriteClearsTimerInterrupt) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[s0] = kData;
  // Compare = Count + 20; spin 200 iterations (IE=0, so no delivery); read Cause; rewrite Compare; read
  // Cause.
  Asm code{Mfc0(t0, kCp0Count),
           Addiu(t0, t0, 20),
           Mtc0(t0, kCp0Compare),
           Addiu(t1, zero, 200),
           Addiu(t1, t1, -1),
           Bne(t1, zero, -2),
           Nop(),
           Mfc0(s1, kCp0Cause),
           Mtc0(t0, kCp0Compare),
           Mfc0(s2, kCp0Cause),
           kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s1] & (runtime::cause::TI | (1u << 15)), runtime::cause::TI | (1u << 15));
  EXPECT_EQ(m.cpu().gpr[s2] & (runtime::cause::TI | (1u << 15)), 0u);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes()) << "no interrupt delivered with IE=0";
}

// Config0.K0 changes are visible, other Config0 bits are not writable from the guest either.
TEST(Cp0, Config0K0FromGuest) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code{Addiu(t0, zero, 3),     Mtc0(t0, kCp0Config), Mfc0(s0, kCp0Config),
           Mtc0(zero, kCp0Config), Mfc0(s1, kCp0Config), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 0x80000483u);
  EXPECT_EQ(m.cpu().gpr[s1], 0x80000480u);
}

}  // namespace
}  // namespace strobe::test
