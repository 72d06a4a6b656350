// SPDX-License-Identifier: MIT
// Loads and stores of every width, the unaligned word pieces LWL/LWR/SWL/SWR (little-endian), address
// errors and LL/SC (MIPS32 Vol. II; Vol. III for the address error and LLbit rules).
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

uint32_t Mem(Opcode op, uint32_t rt, int32_t off, uint32_t base) {
  return E(op, {.rs = base, .rt = rt, .imm = static_cast<uint32_t>(off) & 0xFFFF});
}

// Bytes at kData: 00 11 22 33 44 55 66 77 | 80 7f ff 01 | 01 80 fe 7f, then two words of 0xff at +0x20.
void FillData(TestMachine& m) {
  m.Write32(kDataPa + 0x0, 0x33221100);
  m.Write32(kDataPa + 0x4, 0x77665544);
  m.Write32(kDataPa + 0x8, 0x01FF7F80);
  m.Write32(kDataPa + 0xC, 0x7FFE8001);
  m.Write32(kDataPa + 0x20, 0xFFFFFFFF);
  m.Write32(kDataPa + 0x24, 0xFFFFFFFF);
}

TEST(LoadStore, LoadWidthsAndExtension) {
  const std::vector<RegVal> base = {{a0, kData}};
  RunCases(
      {
          {"lb v0, 8(a0) (0x80 sign-extends)", {Mem(Opcode::LB, v0, 8, a0)}, base, {{v0, 0xFFFFFF80}}},
          {"lbu v0, 8(a0) (0x80 zero-extends)", {Mem(Opcode::LBU, v0, 8, a0)}, base, {{v0, 0x80}}},
          {"lb v0, 9(a0) (0x7f)", {Mem(Opcode::LB, v0, 9, a0)}, base, {{v0, 0x7F}}},
          {"lb v0, 10(a0) (0xff -> -1)", {Mem(Opcode::LB, v0, 10, a0)}, base, {{v0, 0xFFFFFFFF}}},
          {"lbu v0, 10(a0) (0xff)", {Mem(Opcode::LBU, v0, 10, a0)}, base, {{v0, 0xFF}}},
          {"lb v0, 3(a0)", {Mem(Opcode::LB, v0, 3, a0)}, base, {{v0, 0x33}}},
          {"lh v0, 12(a0) (0x8001 sign-extends)", {Mem(Opcode::LH, v0, 12, a0)}, base, {{v0, 0xFFFF8001}}},
          {"lhu v0, 12(a0) (0x8001 zero-extends)", {Mem(Opcode::LHU, v0, 12, a0)}, base, {{v0, 0x8001}}},
          {"lh v0, 14(a0) (0x7ffe)", {Mem(Opcode::LH, v0, 14, a0)}, base, {{v0, 0x7FFE}}},
          {"lh v0, 10(a0) (little-endian halfword ff 01)",
           {Mem(Opcode::LH, v0, 10, a0)},
           base,
           {{v0, 0x01FF}}},
          {"lw v0, 8(a0)", {Mem(Opcode::LW, v0, 8, a0)}, base, {{v0, 0x01FF7F80}}},
          {"lw v0, -16(a0) (negative offset)",
           {Mem(Opcode::LW, v0, -16, a0)},
           {{a0, kData + 16}},
           {{v0, 0x33221100}}},
          {"lw v0, 0x7ff0(a0) (offset 0x7ff0)",
           {Mem(Opcode::LW, v0, 0x7FF0, a0)},
           {{a0, kData - 0x7FF0}},
           {{v0, 0x33221100}}},
          {"lw v0, -32768(a0) (most negative offset)",
           {Mem(Opcode::LW, v0, -32768, a0)},
           {{a0, kData + 0x8000}},
           {{v0, 0x33221100}}},
          {"lw zero, 0(a0) (discarded)", {Mem(Opcode::LW, zero, 0, a0)}, base, {}},
          {"lw a0, 4(a0) (base overwritten)", {Mem(Opcode::LW, a0, 4, a0)}, base, {{a0, 0x77665544}}},
          {"lw v0, 0(a0) through kseg1",
           {Mem(Opcode::LW, v0, 0, a0)},
           {{a0, kKseg1 | kDataPa}},
           {{v0, 0x33221100}}},
      },
      FillData);
}

TEST(LoadStore, StoreWidths) {
  const std::vector<RegVal> in = {{a0, kData + 0x20}, {a1, 0x12345678}};
  auto lw2 = [](Asm a) { return a << Mem(Opcode::LW, v0, 0, a0) << Mem(Opcode::LW, v1, 4, a0); };
  RunCases(
      {
          {"sb a1, 1(a0)", lw2({Mem(Opcode::SB, a1, 1, a0)}), in, {{v0, 0xFFFF78FF}, {v1, 0xFFFFFFFF}}},
          {"sb a1, 3(a0)", lw2({Mem(Opcode::SB, a1, 3, a0)}), in, {{v0, 0x78FFFFFF}, {v1, 0xFFFFFFFF}}},
          {"sh a1, 2(a0)", lw2({Mem(Opcode::SH, a1, 2, a0)}), in, {{v0, 0x5678FFFF}, {v1, 0xFFFFFFFF}}},
          {"sh a1, 4(a0)", lw2({Mem(Opcode::SH, a1, 4, a0)}), in, {{v0, 0xFFFFFFFF}, {v1, 0xFFFF5678}}},
          {"sw a1, 4(a0)", lw2({Mem(Opcode::SW, a1, 4, a0)}), in, {{v0, 0xFFFFFFFF}, {v1, 0x12345678}}},
          {"sw zero, 0(a0)", lw2({Mem(Opcode::SW, zero, 0, a0)}), in, {{v0, 0}, {v1, 0xFFFFFFFF}}},
          {"sb a1, -1(a0+1) (negative offset)",
           lw2({Addiu(a0, a0, 1), Mem(Opcode::SB, a1, -1, a0), Addiu(a0, a0, -1)}),
           in,
           {{v0, 0xFFFFFF78}, {v1, 0xFFFFFFFF}}},
      },
      FillData);
  // The bytes really are in guest memory in little-endian order.
  TestMachine m;
  InstallHaltHandlers(m);
  FillData(m);
  m.cpu().gpr[a0] = kData + 0x20;
  m.cpu().gpr[a1] = 0xA1B2C3D4;
  ASSERT_EQ(RunCode(m, {Mem(Opcode::SH, a1, 0, a0), Mem(Opcode::SB, a1, 5, a0), kWaitWord}),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.Read32(kDataPa + 0x20), 0xFFFFC3D4u);
  EXPECT_EQ(m.Read32(kDataPa + 0x24), 0xFFFFD4FFu);
}

// LWL/LWR at each byte offset of the word 0x33221100 (bytes 00 11 22 33), rt starting as 0xaabbccdd.
TEST(LoadStore, LwlLwrAllOffsets) {
  auto in = [](int32_t off) {
    return std::vector<RegVal>{{a0, kData + static_cast<uint32_t>(off)}, {v0, 0xAABBCCDD}};
  };
  RunCases(
      {
          {"lwl v0, 0(a0) offset 0", {Mem(Opcode::LWL, v0, 0, a0)}, in(0), {{v0, 0x00BBCCDD}}},
          {"lwl v0, 0(a0) offset 1", {Mem(Opcode::LWL, v0, 0, a0)}, in(1), {{v0, 0x1100CCDD}}},
          {"lwl v0, 0(a0) offset 2", {Mem(Opcode::LWL, v0, 0, a0)}, in(2), {{v0, 0x221100DD}}},
          {"lwl v0, 0(a0) offset 3", {Mem(Opcode::LWL, v0, 0, a0)}, in(3), {{v0, 0x33221100}}},
          {"lwr v0, 0(a0) offset 0", {Mem(Opcode::LWR, v0, 0, a0)}, in(0), {{v0, 0x33221100}}},
          {"lwr v0, 0(a0) offset 1", {Mem(Opcode::LWR, v0, 0, a0)}, in(1), {{v0, 0xAA332211}}},
          {"lwr v0, 0(a0) offset 2", {Mem(Opcode::LWR, v0, 0, a0)}, in(2), {{v0, 0xAABB3322}}},
          {"lwr v0, 0(a0) offset 3", {Mem(Opcode::LWR, v0, 0, a0)}, in(3), {{v0, 0xAABBCC33}}},
          // The little-endian unaligned-word idiom: lwr rt, 0(p); lwl rt, 3(p).
          {"ulw at +0",
           {Mem(Opcode::LWR, v0, 0, a0), Mem(Opcode::LWL, v0, 3, a0)},
           in(0),
           {{v0, 0x33221100}}},
          {"ulw at +1",
           {Mem(Opcode::LWR, v0, 0, a0), Mem(Opcode::LWL, v0, 3, a0)},
           in(1),
           {{v0, 0x44332211}}},
          {"ulw at +2",
           {Mem(Opcode::LWR, v0, 0, a0), Mem(Opcode::LWL, v0, 3, a0)},
           in(2),
           {{v0, 0x55443322}}},
          {"ulw at +3",
           {Mem(Opcode::LWR, v0, 0, a0), Mem(Opcode::LWL, v0, 3, a0)},
           in(3),
           {{v0, 0x66554433}}},
          {"ulw at +3, lwl first",
           {Mem(Opcode::LWL, v0, 3, a0), Mem(Opcode::LWR, v0, 0, a0)},
           in(3),
           {{v0, 0x66554433}}},
      },
      FillData);
}

// SWL/SWR at each byte offset into ff ff ff ff | ff ff ff ff, storing 0x44332211.
TEST(LoadStore, SwlSwrAllOffsets) {
  auto in = [](int32_t off) {
    return std::vector<RegVal>{
        {a0, kData + 0x20 + static_cast<uint32_t>(off)}, {a1, 0x44332211}, {a2, kData + 0x20}};
  };
  auto lw2 = [](Asm a) { return a << Mem(Opcode::LW, v0, 0, a2) << Mem(Opcode::LW, v1, 4, a2); };
  RunCases(
      {
          {"swl a1, 0(a0) offset 0",
           lw2({Mem(Opcode::SWL, a1, 0, a0)}),
           in(0),
           {{v0, 0xFFFFFF44}, {v1, 0xFFFFFFFF}}},
          {"swl a1, 0(a0) offset 1",
           lw2({Mem(Opcode::SWL, a1, 0, a0)}),
           in(1),
           {{v0, 0xFFFF4433}, {v1, 0xFFFFFFFF}}},
          {"swl a1, 0(a0) offset 2",
           lw2({Mem(Opcode::SWL, a1, 0, a0)}),
           in(2),
           {{v0, 0xFF443322}, {v1, 0xFFFFFFFF}}},
          {"swl a1, 0(a0) offset 3",
           lw2({Mem(Opcode::SWL, a1, 0, a0)}),
           in(3),
           {{v0, 0x44332211}, {v1, 0xFFFFFFFF}}},
          {"swr a1, 0(a0) offset 0",
           lw2({Mem(Opcode::SWR, a1, 0, a0)}),
           in(0),
           {{v0, 0x44332211}, {v1, 0xFFFFFFFF}}},
          {"swr a1, 0(a0) offset 1",
           lw2({Mem(Opcode::SWR, a1, 0, a0)}),
           in(1),
           {{v0, 0x332211FF}, {v1, 0xFFFFFFFF}}},
          {"swr a1, 0(a0) offset 2",
           lw2({Mem(Opcode::SWR, a1, 0, a0)}),
           in(2),
           {{v0, 0x2211FFFF}, {v1, 0xFFFFFFFF}}},
          {"swr a1, 0(a0) offset 3",
           lw2({Mem(Opcode::SWR, a1, 0, a0)}),
           in(3),
           {{v0, 0x11FFFFFF}, {v1, 0xFFFFFFFF}}},
          // The unaligned-word store idiom: swr rt, 0(p); swl rt, 3(p).
          {"usw at +1",
           lw2({Mem(Opcode::SWR, a1, 0, a0), Mem(Opcode::SWL, a1, 3, a0)}),
           in(1),
           {{v0, 0x332211FF}, {v1, 0xFFFFFF44}}},
          {"usw at +2",
           lw2({Mem(Opcode::SWR, a1, 0, a0), Mem(Opcode::SWL, a1, 3, a0)}),
           in(2),
           {{v0, 0x2211FFFF}, {v1, 0xFFFF4433}}},
          {"usw at +3",
           lw2({Mem(Opcode::SWR, a1, 0, a0), Mem(Opcode::SWL, a1, 3, a0)}),
           in(3),
           {{v0, 0x11FFFFFF}, {v1, 0xFF443322}}},
      },
      FillData);
}

// Misaligned LW/LH/LHU/SW/SH: Address Error with BadVAddr = the effective address, EPC = the instruction,
// the destination and memory untouched.
struct AlignCase {
  const char* text;
  uint32_t insn;
  uint32_t ea;
  uint32_t code;  // 4 = AdEL, 5 = AdES
};

TEST(LoadStore, MisalignedAccessRaisesAddressError) {
  const AlignCase cases[] = {
      {"lw v0, 1(a0)", Mem(Opcode::LW, v0, 1, a0), kData + 1, 4},
      {"lw v0, 2(a0)", Mem(Opcode::LW, v0, 2, a0), kData + 2, 4},
      {"lw v0, 3(a0)", Mem(Opcode::LW, v0, 3, a0), kData + 3, 4},
      {"lh v0, 1(a0)", Mem(Opcode::LH, v0, 1, a0), kData + 1, 4},
      {"lhu v0, 3(a0)", Mem(Opcode::LHU, v0, 3, a0), kData + 3, 4},
      {"ll v0, 2(a0)", Mem(Opcode::LL, v0, 2, a0), kData + 2, 4},
      {"sw a1, 2(a0)", Mem(Opcode::SW, a1, 2, a0), kData + 2, 5},
      {"sw a1, 3(a0)", Mem(Opcode::SW, a1, 3, a0), kData + 3, 5},
      {"sh a1, 1(a0)", Mem(Opcode::SH, a1, 1, a0), kData + 1, 5},
      {"sc a1, 1(a0)", Mem(Opcode::SC, a1, 1, a0), kData + 1, 5},
      {"lw v0, -1(a0) (kseg0 base below a page)", Mem(Opcode::LW, v0, -1, a0), kData - 1, 4},
  };
  for (const AlignCase& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    FillData(m);
    m.cpu().gpr[a0] = kData;
    m.cpu().gpr[a1] = 0x5A5A5A5A;
    m.cpu().gpr[v0] = 0xDEADBEEF;
    ASSERT_EQ(RunCode(m, {Nop(), Nop(), k.insn, Addiu(s0, zero, 1), kWaitWord}), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), k.code);
    EXPECT_EQ(m.cpu().cp0.badvaddr, k.ea);
    EXPECT_EQ(m.cpu().cp0.epc, kCode + 8);
    EXPECT_FALSE(BdOf(m));
    EXPECT_EQ(m.cpu().gpr[v0], 0xDEADBEEFu);
    EXPECT_EQ(m.cpu().gpr[a1], 0x5A5A5A5Au);
    EXPECT_EQ(m.cpu().gpr[s0], 0u);
    EXPECT_EQ(m.Read32(kDataPa), 0x33221100u);
    EXPECT_EQ(m.Read32(kDataPa + 4), 0x77665544u);
  }
}

// Byte accesses and the word pieces never raise alignment errors.
TEST(LoadStore, ByteAndPartialWordAccessesNeverMisalign) {
  TestMachine m;
  InstallHaltHandlers(m);
  FillData(m);
  m.cpu().gpr[a0] = kData + 3;
  Asm code{Mem(Opcode::LB, v0, 0, a0),     Mem(Opcode::LBU, v1, 0, a0),
           Mem(Opcode::SB, v1, 0x20, a0),  Mem(Opcode::LWL, t0, 0, a0),
           Mem(Opcode::LWR, t1, 0, a0),    Mem(Opcode::SWL, t0, 0x21, a0),
           Mem(Opcode::SWR, t1, 0x21, a0), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[v0], 0x33u);
}

// User mode may not touch kseg0/kseg1/kseg2: AdEL for loads, AdES for stores, BadVAddr = the address.
TEST(LoadStore, UserAccessToKernelSegmentsRaisesAddressError) {
  struct Case {
    const char* text;
    uint32_t addr;
    Opcode op;
    uint32_t code;
  } cases[] = {
      {"lw from kseg0", kData, Opcode::LW, 4},
      {"lb from kseg0", kData + 1, Opcode::LB, 4},
      {"lw from kseg1", kKseg1 | kDataPa, Opcode::LW, 4},
      {"lw from kseg2", 0xC0000000u, Opcode::LW, 4},
      {"lw from kseg3", 0xFF200000u, Opcode::LW, 4},
      {"sw to kseg0", kData, Opcode::SW, 5},
      {"sb to kseg1", kKseg1 | kDataPa, Opcode::SB, 5},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    FillData(m);
    Asm code;
    code.Li(t0, k.addr) << Mem(k.op, v0, 0, t0) << Addiu(s0, zero, 1) << Syscall();
    ASSERT_EQ(RunUserCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), k.code);
    EXPECT_EQ(m.cpu().cp0.badvaddr, k.addr);
    EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 8);
    EXPECT_EQ(m.cpu().gpr[s0], 0u);
    EXPECT_EQ(m.cpu().gpr[v0], 0u);
    EXPECT_EQ(m.Read32(kDataPa), 0x33221100u);
  }
}

// The same user program can use its own mapped data page.
TEST(LoadStore, UserAccessToMappedKusegWorks) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.Write32(kUserDataPa + 8, 0x600DF00D);
  Asm code;
  code.Li(t0, kUserData) << Mem(Opcode::LW, v0, 8, t0) << Addiu(v0, v0, 1) << Mem(Opcode::SW, v0, 12, t0)
                         << Syscall();
  ASSERT_EQ(RunUserCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 8u);  // the closing SYSCALL
  EXPECT_EQ(m.cpu().gpr[v0], 0x600DF00Eu);
  EXPECT_EQ(m.Read32(kUserDataPa + 12), 0x600DF00Eu);
}

TEST(LoadStore, LlScSucceedsWithoutInterference) {
  TestMachine m;
  InstallHaltHandlers(m);
  FillData(m);
  m.cpu().gpr[a0] = kData;
  Asm code{Mem(Opcode::LL, v0, 4, a0), Addiu(v0, v0, 1), Mem(Opcode::SC, v0, 4, a0), Mfc0(t0, 17), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[v0], 1u);
  EXPECT_EQ(m.Read32(kDataPa + 4), 0x77665545u);
  EXPECT_EQ(m.cpu().gpr[t0], (kDataPa + 4) >> 4) << "LLAddr holds the physical address >> 4";
}

// ERET clears LLbit: an exception between LL and SC makes the SC fail (rt = 0, memory unchanged).
TEST(LoadStore, ScFailsAfterEretInBetween) {
  TestMachine m;
  InstallSkipHandler(m);
  FillData(m);
  m.cpu().gpr[a0] = kData;
  Asm code{Mem(Opcode::LL, v0, 4, a0), Addiu(v0, zero, 0x55), Syscall(), Mem(Opcode::SC, v0, 4, a0),
           kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[s7], 1u) << "the SYSCALL handler ran once";
  EXPECT_EQ(m.cpu().gpr[v0], 0u);
  EXPECT_EQ(m.Read32(kDataPa + 4), 0x77665544u);
}

// An SC with no LL before it fails (LLbit is clear out of reset); an LL then arms the next SC.
TEST(LoadStore, ScWithoutLlFails) {
  TestMachine m;
  InstallHaltHandlers(m);
  FillData(m);
  m.cpu().gpr[a0] = kData;
  m.cpu().gpr[v0] = 0x99;
  m.cpu().gpr[v1] = 0x77;
  Asm code{Mem(Opcode::SC, v0, 0, a0), Mem(Opcode::LL, t0, 4, a0), Mem(Opcode::SC, v1, 4, a0), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 0u);
  EXPECT_EQ(m.Read32(kDataPa), 0x33221100u);
  EXPECT_EQ(m.cpu().gpr[v1], 1u);
  EXPECT_EQ(m.Read32(kDataPa + 4), 0x77u);
}

// An ll/sc retry loop (atomic increment) run many times converges.
TEST(LoadStore, LlScAtomicIncrementLoop) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.Write32(kDataPa, 0);
  m.cpu().gpr[a0] = kData;
  m.cpu().gpr[a1] = 100;
  // loop: ll t0; addiu t0, 1; sc t0; beq t0, zero, loop; nop; addiu a1, -1; bne a1, zero, loop; nop; wait
  Asm code{Mem(Opcode::LL, t0, 0, a0),
           Addiu(t0, t0, 1),
           Mem(Opcode::SC, t0, 0, a0),
           Beq(t0, zero, -4),
           Nop(),
           Addiu(a1, a1, -1),
           Bne(a1, zero, -7),
           Nop(),
           kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.Read32(kDataPa), 100u);
}

}  // namespace
}  // namespace strobe::test
