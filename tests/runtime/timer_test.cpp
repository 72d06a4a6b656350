// SPDX-License-Identifier: MIT
// Interrupts (MIPS32 Vol. III 6.1): the Count/Compare timer on IP7 (IntCtl.IPTI = 7), the software
// interrupts IP1..0 written through Cause, masking by IE/IM/EXL, the vector offset chosen by Cause.IV,
// and WAIT waking on an enabled interrupt with EPC = the instruction after the WAIT.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

constexpr uint32_t kIm7 = 1u << 15, kIp7 = 1u << 15;

// Compare = Count + ticks (in t0), using t0.
Asm ArmTimer(int ticks) {
  return Asm{Mfc0(t0, kCp0Count), Addiu(t0, t0, ticks), Mtc0(t0, kCp0Compare)};
}

// The timer's Status.IM / Cause.IP bit is the one IntCtl.IPTI names (7 on the 24K: IP7), which is also
// the bit Vm::Idle waits on.
TEST(Timer, InterruptMaskFollowsIntCtlIpti) {
  TestMachine m;
  EXPECT_EQ(m.cpu().cp0.intctl >> 29, 7u);
  EXPECT_EQ(runtime::TimerInterruptMask(m.cpu()), kIp7);
}

// Enabled timer: delivered at +0x180 as an interrupt (ExcCode 0) with IP7 and TI set and EXL set.
TEST(Timer, CountCompareInterruptIsDelivered) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code = ArmTimer(50);
  code.Li(t1, runtime::st::IE | kIm7) << Mtc0(t1, kCp0Status);
  const uint32_t loop = code.size_bytes();
  code << Addiu(s0, s0, 1) << Beq(zero, zero, -2) << Nop();
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 12);
  EXPECT_EQ(ExcCodeOf(m), 0u);
  EXPECT_EQ(m.cpu().cp0.cause & kIp7, kIp7);
  EXPECT_NE(m.cpu().cp0.cause & runtime::cause::TI, 0u);
  EXPECT_EQ(m.cpu().gpr[k1], runtime::st::IE | kIm7 | runtime::st::EXL);
  EXPECT_GT(m.cpu().gpr[s0], 10u) << "the loop ran until the timer fired";
  EXPECT_GE(m.cpu().cp0.epc, kCode + loop);
  EXPECT_LE(m.cpu().cp0.epc, kCode + loop + 8);
}

// Cause.IV = 1 moves interrupts to +0x200.
TEST(Timer, CauseIvSelectsSpecialInterruptVector) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code = ArmTimer(50);
  code.Li(t1, runtime::cause::IV) << Mtc0(t1, kCp0Cause);
  code.Li(t1, runtime::st::IE | kIm7) << Mtc0(t1, kCp0Status);
  code << Addiu(s0, s0, 1) << Beq(zero, zero, -2) << Nop();
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kIntVector + 12);
  EXPECT_EQ(ExcCodeOf(m), 0u);
}

// IM7 = 0 or IE = 0: TI and IP7 rise but nothing is delivered.
TEST(Timer, MaskedTimerIsNotDelivered) {
  for (uint32_t status : {runtime::st::IE, kIm7}) {
    SCOPED_TRACE(status);
    TestMachine m;
    InstallInterruptHandlers(m);
    Asm code = ArmTimer(20);
    code.Li(t1, status) << Mtc0(t1, kCp0Status) << Addiu(t2, zero, 300) << Addiu(t2, t2, -1)
                        << Bne(t2, zero, -2) << Nop() << Mfc0(s1, kCp0Cause) << Mtc0(zero, kCp0Status)
                        << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
    EXPECT_EQ(m.cpu().gpr[s1] & (kIp7 | runtime::cause::TI), kIp7 | runtime::cause::TI);
  }
}

// With EXL = 1 the pending timer waits; clearing EXL delivers it at once, EPC = the next instruction.
TEST(Timer, NotDeliveredWhileExlIsSet) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code = ArmTimer(20);
  code.Li(t1, runtime::st::IE | kIm7 | runtime::st::EXL) << Mtc0(t1, kCp0Status);
  code << Addiu(t2, zero, 300) << Addiu(s0, s0, 1) << Bne(s0, t2, -2) << Nop() << Mfc0(s1, kCp0Cause);
  code.Li(t1, runtime::st::IE | kIm7) << Mtc0(t1, kCp0Status);
  const uint32_t after_mtc0 = code.size_bytes();
  code << Addiu(s2, zero, 1) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 300u) << "no delivery while EXL = 1";
  EXPECT_EQ(m.cpu().gpr[s1] & kIp7, kIp7) << "but the interrupt was pending";
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 12);
  EXPECT_EQ(ExcCodeOf(m), 0u);
  EXPECT_EQ(m.cpu().cp0.epc, kCode + after_mtc0);
  EXPECT_EQ(m.cpu().gpr[s2], 0u);
}

// Software interrupts: writing Cause.IP0/IP1 with the matching IM bit interrupts right after the MTC0.
TEST(Timer, SoftwareInterrupts) {
  for (unsigned bit : {0u, 1u}) {
    SCOPED_TRACE(bit);
    TestMachine m;
    InstallInterruptHandlers(m);
    Asm code;
    code.Li(t1, runtime::st::IE | (0x100u << bit))
        << Mtc0(t1, kCp0Status) << Addiu(t2, zero, 0x100 << bit) << Mtc0(t2, kCp0Cause);
    const uint32_t after = code.size_bytes();
    code << Addiu(s0, zero, 1) << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 12);
    EXPECT_EQ(ExcCodeOf(m), 0u);
    EXPECT_EQ(m.cpu().cp0.epc, kCode + after);
    EXPECT_EQ(m.cpu().cp0.cause & (0x100u << bit), 0x100u << bit);
    EXPECT_EQ(m.cpu().gpr[s0], 0u);
  }
}

// A software interrupt whose IM bit is clear stays pending; enabling the bit later delivers it.
TEST(Timer, MaskedSoftwareInterruptIsDeliveredWhenUnmasked) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code;
  code.Li(t1, runtime::st::IE | 0x200)
      << Mtc0(t1, kCp0Status) << Addiu(t2, zero, 0x100) << Mtc0(t2, kCp0Cause) << Addiu(s0, zero, 1);
  code.Li(t1, runtime::st::IE | 0x300) << Mtc0(t1, kCp0Status);
  const uint32_t after = code.size_bytes();
  code << Addiu(s1, zero, 1) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 1u);
  EXPECT_EQ(m.cpu().gpr[s1], 0u);
  EXPECT_EQ(m.cpu().cp0.epc, kCode + after);
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 12);
}

// Clearing the software interrupt bit in Cause withdraws it.
TEST(Timer, SoftwareInterruptCanBeWithdrawn) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code;
  code << Addiu(t2, zero, 0x100) << Mtc0(t2, kCp0Cause) << Mtc0(zero, kCp0Cause);
  code.Li(t1, runtime::st::IE | 0x100)
      << Mtc0(t1, kCp0Status) << Addiu(s0, zero, 1) << Mtc0(zero, kCp0Status) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[s0], 1u);
}

// WAIT with the timer enabled idles until Count reaches Compare; the interrupt's EPC is the instruction
// after the WAIT.
TEST(Timer, WaitWakesOnTimer) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code = ArmTimer(5000);
  code.Li(t1, runtime::st::IE | kIm7) << Mtc0(t1, kCp0Status) << kWaitWord;
  const uint32_t after_wait = code.size_bytes();
  code << Addiu(s0, zero, 1) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 12);
  EXPECT_EQ(ExcCodeOf(m), 0u);
  EXPECT_EQ(m.cpu().cp0.epc, kCode + after_wait);
  EXPECT_EQ(m.cpu().gpr[s0], 0u);
  EXPECT_NE(m.cpu().cp0.cause & runtime::cause::TI, 0u);
}

// WAIT with Status.EXL = 1 can never be woken by an interrupt (EXL masks them all), so the VM should stop
// like any other hopeless WAIT instead of warping virtual time forward forever.
TEST(Timer, WaitWithExlSetHalts) {
  TestMachine m;
  InstallInterruptHandlers(m);
  Asm code = ArmTimer(100);
  code.Li(t1, runtime::st::IE | kIm7 | runtime::st::EXL) << Mtc0(t1, kCp0Status) << kWaitWord;
  EXPECT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
}

}  // namespace
}  // namespace strobe::test
