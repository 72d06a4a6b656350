// SPDX-License-Identifier: MIT
// The 24Kf's FPU seen from guest code: the CPU model's registers, Coprocessor Unusable with CU1=0, the
// Floating-Point exception (precise, in delay slots), legacy default NaNs, FR=0 register pairs, and the
// three engines agreeing on an FP loop. Bit-exact results across every special value and rounding mode
// are checked against Unicorn in tests/diff (fpu_diff_test.cpp, fpu_edge_cases_test.cpp).
#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

constexpr uint32_t kCu1 = 1u << 29, kFr = 1u << 26;
constexpr uint32_t kEnableV = 1u << 11, kEnableZ = 1u << 10;

uint32_t Fpu(Opcode op, uint32_t fd, uint32_t fs, uint32_t ft = 0) {
  return E(op, {.rt = ft, .rd = fs, .sa = fd});
}
uint32_t Mtc1(uint32_t rt, uint32_t fs) {
  return E(Opcode::MTC1, {.rt = rt, .rd = fs});
}
uint32_t Mfc1(uint32_t rt, uint32_t fs) {
  return E(Opcode::MFC1, {.rt = rt, .rd = fs});
}
uint32_t Ctc1(uint32_t rt, uint32_t fs) {
  return E(Opcode::CTC1, {.rt = rt, .rd = fs});
}
uint32_t Cfc1(uint32_t rt, uint32_t fs) {
  return E(Opcode::CFC1, {.rt = rt, .rd = fs});
}

TestMachine Make24Kf(vmm::Engine engine = vmm::Engine::kInterp) {
  return TestMachine(16u << 20, 16, nullptr, engine, 0, runtime::CpuModel::k24Kf);
}

// QEMU's 24Kf: PRId as the 24Kc, Config1.FP, FIR = F64 L W D S | ProcessorID 0x93; CU1 and FR writable.
TEST(Fpu, The24KfModelAdvertisesItsFpu) {
  TestMachine m = Make24Kf();
  ASSERT_TRUE(m.booted());
  InstallHaltHandlers(m);
  EXPECT_EQ(m.cpu().cp0.prid, 0x00019300u);
  EXPECT_EQ(m.cpu().cp0.config1 & 1, 1u);
  Asm code;
  code.Li(t0, kCu1 | kFr) << Mtc0(t0, kCp0Status) << Mfc0(t1, kCp0Status) << Cfc1(t2, 0) << Cfc1(t3, 31)
                          << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[t1], kCu1 | kFr);
  EXPECT_EQ(m.cpu().gpr[t2], 0x00739300u);
  EXPECT_EQ(m.cpu().gpr[t3], 0u);
}

TEST(Fpu, The24KcHasNone) {
  TestMachine m;
  EXPECT_EQ(m.cpu().cp0.config1 & 1, 0u);
  EXPECT_EQ(m.cpu().fpu.fir, 0u);
}

// Lazy FPU switching: with CU1=0 the first FP instruction raises CpU with CE=1, in any mode.
TEST(Fpu, Cu1ClearRaisesCoprocessorUnusable) {
  for (uint32_t insn : {Fpu(Opcode::ADD_D, 0, 2, 4), Mfc1(t0, 0), E(Opcode::LDC1, {}), E(Opcode::BC1T, {}),
                        E(Opcode::MADD_S, {}), E(Opcode::MOVF, {.rd = t0})}) {
    SCOPED_TRACE(insn);
    TestMachine m = Make24Kf();
    InstallHaltHandlers(m);
    ASSERT_EQ(RunCode(m, {Nop(), insn, kWaitWord}), vmm::VmExit::kHalted);
    EXPECT_EQ(ExcCodeOf(m), 11u);
    EXPECT_EQ(CeOf(m), 1u);
    EXPECT_EQ(m.cpu().cp0.epc, kCode + 4);
  }
}

// Paired single is not in the 24Kf: Reserved Instruction once the FPU is usable.
TEST(Fpu, PairedSingleIsReserved) {
  TestMachine m = Make24Kf();
  InstallHaltHandlers(m);
  Asm code;
  code.Li(t0, kCu1 | kFr) << Mtc0(t0, kCp0Status) << 0x46C00000 /* add.ps */ << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 10u);
}

// An enabled exception is precise: Cause.ExcCode 15, EPC at the instruction, the destination unchanged,
// FCSR.Cause set and the sticky flags not.
TEST(Fpu, EnabledInvalidRaisesFloatingPointException) {
  TestMachine m = Make24Kf();
  InstallHaltHandlers(m);
  Asm code;
  code.Li(t0, kCu1) << Mtc0(t0, kCp0Status);
  code.Li(t1, kEnableV) << Ctc1(t1, 31);
  code.Li(t2, 0xBF800000u) << Mtc1(t2, 2) << Mtc1(zero, 4);  // f2 = -1.0, f4 = 0
  const uint32_t sqrt_pc = kCode + code.size_bytes();
  code << Fpu(Opcode::SQRT_S, 4, 2) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 15u);
  EXPECT_FALSE(BdOf(m));
  EXPECT_EQ(m.cpu().cp0.epc, sqrt_pc);
  EXPECT_EQ(static_cast<uint32_t>(m.cpu().fpu.fpr[4]), 0u);
  EXPECT_EQ(m.cpu().fpu.fcsr, kEnableV | (16u << 12));
}

// In a delay slot: EPC names the branch and Cause.BD is set.
TEST(Fpu, FloatingPointExceptionInADelaySlotSetsBd) {
  for (vmm::Engine engine : {vmm::Engine::kInterp, vmm::Engine::kJit}) {
    TestMachine m = Make24Kf(engine);
    InstallHaltHandlers(m);
    Asm code;
    code.Li(t0, kCu1) << Mtc0(t0, kCp0Status);
    code.Li(t1, kEnableZ) << Ctc1(t1, 31);
    code.Li(t2, 0x3F800000u) << Mtc1(t2, 2) << Mtc1(zero, 4);
    const uint32_t branch_pc = kCode + code.size_bytes();
    code << Beq(zero, zero, 2) << Fpu(Opcode::DIV_S, 6, 2, 4) << kWaitWord << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(ExcCodeOf(m), 15u);
    EXPECT_TRUE(BdOf(m));
    EXPECT_EQ(m.cpu().cp0.epc, branch_pc);
    EXPECT_EQ((m.cpu().fpu.fcsr >> 12) & 0x3F, 8u);  // Cause.Z
  }
}

// CTC1 leaving an enabled cause bit set (or Unimplemented Operation, which is always enabled) raises at once.
TEST(Fpu, Ctc1WithEnabledCauseRaises) {
  for (uint32_t value : {kEnableV | (16u << 12), 32u << 12}) {
    TestMachine m = Make24Kf();
    InstallHaltHandlers(m);
    Asm code;
    code.Li(t0, kCu1) << Mtc0(t0, kCp0Status);
    code.Li(t1, value) << Ctc1(t1, 31) << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(ExcCodeOf(m), 15u) << value;
    EXPECT_EQ(m.cpu().fpu.fcsr, value);
  }
}

// Legacy NaNs: invalid operations and NaN operands give the default NaNs, never an x86 NaN.
TEST(Fpu, NaNResultsAreTheMipsDefaultNaNs) {
  TestMachine m = Make24Kf();
  InstallHaltHandlers(m);
  Asm code;
  code.Li(t0, kCu1 | kFr) << Mtc0(t0, kCp0Status);
  code << Mtc1(zero, 2) << Fpu(Opcode::DIV_S, 4, 2, 2);                    // 0/0
  code.Li(t1, 0x7F812345u) << Mtc1(t1, 6) << Fpu(Opcode::ADD_S, 8, 6, 2);  // quiet NaN operand
  code.Li(t1, 0xBFF00000u) << Mtc1(zero, 10) << E(Opcode::MTHC1, {.rt = t1, .rd = 10})
                           << Fpu(Opcode::SQRT_D, 12, 10);  // sqrt(-1.0)
  code << Cfc1(t2, 31) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(static_cast<uint32_t>(m.cpu().fpu.fpr[4]), 0x7FBFFFFFu);
  EXPECT_EQ(static_cast<uint32_t>(m.cpu().fpu.fpr[8]), 0x7FBFFFFFu);
  EXPECT_EQ(m.cpu().fpu.fpr[12], 0x7FF7FFFFFFFFFFFFull);
  EXPECT_EQ(m.cpu().gpr[t2], (16u << 12) | (16u << 2));  // the last cause V, flags V
}

// FR=0: a double lives in an even/odd pair of 32-bit registers; MFHC1 reads the odd one.
TEST(Fpu, Fr0PairsRegisters) {
  TestMachine m = Make24Kf();
  InstallHaltHandlers(m);
  m.Write32(kDataPa, 0x89ABCDEFu);
  m.Write32(kDataPa + 4, 0x3FF12345u);
  Asm code;
  code.Li(t0, kCu1) << Mtc0(t0, kCp0Status);
  code.Li(a0, kData) << E(Opcode::LDC1, {.rs = a0, .rt = 2}) << Mfc1(t1, 2) << Mfc1(t2, 3)
                     << E(Opcode::MFHC1, {.rt = t3, .rd = 2}) << Fpu(Opcode::MOV_D, 6, 2) << Mfc1(t4, 7)
                     << Fpu(Opcode::ADD_D, 0, 1, 2) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[t1], 0x89ABCDEFu);
  EXPECT_EQ(m.cpu().gpr[t2], 0x3FF12345u);
  EXPECT_EQ(m.cpu().gpr[t3], 0x3FF12345u);
  EXPECT_EQ(m.cpu().gpr[t4], 0x3FF12345u);
  EXPECT_EQ(ExcCodeOf(m), 10u) << "an odd register in a D operation with FR=0 is Reserved Instruction";
}

// A loop of FP arithmetic, compares and BC1T, hot enough to be translated: interp, jit and tiered agree.
TEST(Fpu, EnginesAgreeOnAnFpLoop) {
  auto run = [](vmm::Engine engine) {
    TestMachine m = Make24Kf(engine);
    InstallHaltHandlers(m);
    Asm code;
    code.Li(t0, kCu1 | kFr) << Mtc0(t0, kCp0Status);
    code.Li(t1, 1) << Ctc1(t1, 31);                                              // round toward zero
    code << Mtc1(zero, 0) << E(Opcode::CVT_D_W, {.rd = 0, .sa = 0});             // x = 0.0
    code.Li(t2, 3000) << Mtc1(t2, 2) << E(Opcode::CVT_D_W, {.rd = 2, .sa = 2});  // n = 3000.0
    code.Li(t3, 0x3FB99999u) << E(Opcode::MTHC1, {.rt = t3, .rd = 4});
    code.Li(t3, 0x9999999Au) << Mtc1(t3, 4);
    code << Mtc1(zero, 6) << E(Opcode::CVT_D_W, {.rd = 6, .sa = 6});          // i = 0.0
    code.Li(t3, 1) << Mtc1(t3, 8) << E(Opcode::CVT_D_W, {.rd = 8, .sa = 8});  // one
    // loop: x = x * 1.0000001 + 0.1 * i; i += 1; if (i < n) loop
    const int32_t loop = static_cast<int32_t>(code.size_bytes() / 4);
    code << Fpu(Opcode::MUL_D, 10, 4, 6) << E(Opcode::MADD_D, {.rs = 10, .rt = 8, .rd = 0, .sa = 0})
         << Fpu(Opcode::ADD_D, 6, 6, 8) << E(Opcode::C_OLT_D, {.rt = 2, .rd = 6, .code = 3});
    const int32_t here = static_cast<int32_t>(code.size_bytes() / 4);
    code << E(Opcode::BC1T, {.imm = static_cast<uint32_t>(loop - here - 1) & 0xFFFF, .code = 3})
         << Fpu(Opcode::SQRT_D, 12, 0);
    code << Cfc1(v0, 31) << Mfc1(v1, 0) << E(Opcode::MFHC1, {.rt = a0, .rd = 0}) << Mfc1(a1, 12) << kWaitWord;
    EXPECT_EQ(RunCode(m, code, 1000000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
    return std::array<uint32_t, 4>{m.cpu().gpr[v0], m.cpu().gpr[v1], m.cpu().gpr[a0], m.cpu().gpr[a1]};
  };
  auto interp = run(vmm::Engine::kInterp);
  EXPECT_EQ(run(vmm::Engine::kJit), interp);
  EXPECT_EQ(run(vmm::Engine::kTiered), interp);
  EXPECT_NE(interp[2], 0u);
}

}  // namespace
}  // namespace strobe::test
