// SPDX-License-Identifier: MIT
// Exception delivery (MIPS32 Vol. III 6.2): vector selection from BEV, EBase, EXL and Cause.IV; EPC,
// Cause.BD/CE/ExcCode; nested exceptions with EXL set; ERET from EXL and ERL; bus errors.
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

// With Status.BEV = 1 the general vector is 0xBFC00380 and the refill vector 0xBFC00200. The test VM has
// no boot ROM there, so Run() stops with kError as soon as the PC lands in it; the PC tells the vector.
TEST(Exception, BevVectors) {
  {
    SCOPED_TRACE("syscall -> 0xbfc00380");
    TestMachine m;
    m.cpu().cp0.status = runtime::st::BEV;
    runtime::UpdateMode(m.cpu());
    EXPECT_EQ(RunCode(m, {Nop(), Syscall(), kWaitWord}), vmm::VmExit::kError);
    EXPECT_EQ(m.cpu().pc, 0xBFC00380u);
    EXPECT_EQ(m.cpu().cp0.epc, kCode + 4);
    EXPECT_EQ(ExcCodeOf(m), 8u);
  }
  {
    SCOPED_TRACE("TLB refill -> 0xbfc00200");
    TestMachine m;
    m.cpu().cp0.status = runtime::st::BEV;
    runtime::UpdateMode(m.cpu());
    Asm code;
    code.Li(t0, 0x00400000) << Lw(t1, 0, t0) << kWaitWord;
    EXPECT_EQ(RunCode(m, code), vmm::VmExit::kError);
    EXPECT_EQ(m.cpu().pc, 0xBFC00200u);
    EXPECT_EQ(ExcCodeOf(m), 2u);
  }
  {
    SCOPED_TRACE("interrupt with Cause.IV -> 0xbfc00400");
    TestMachine m;
    m.cpu().cp0.status = runtime::st::BEV | runtime::st::IE | (1u << 8);
    runtime::UpdateMode(m.cpu());
    Asm code;
    code.Li(t0, runtime::cause::IV | (1u << 8)) << Mtc0(t0, kCp0Cause) << kWaitWord;
    EXPECT_EQ(RunCode(m, code), vmm::VmExit::kError);
    EXPECT_EQ(m.cpu().pc, 0xBFC00400u);
    EXPECT_EQ(ExcCodeOf(m), 0u);
  }
}

// EBase moves the general, refill and interrupt vectors; BEV=0 here.
TEST(Exception, EBaseRelocatesVectors) {
  for (int which = 0; which < 3; ++which) {
    SCOPED_TRACE(which);
    TestMachine m;
    // Each relocated vector: mtc0 zero, Status (so the WAIT halts even after an interrupt); wait.
    for (uint32_t v : {0x40000u, 0x40180u, 0x40200u}) m.LoadCode(v, {Mtc0(zero, kCp0Status), kWaitWord});
    InstallHaltHandlers(m);  // the default vectors must not be used
    Asm code;
    code.Li(t0, 0x80040000) << Mtc0(t0, kCp0PrId, 1);  // EBase is CP0 15 select 1
    if (which == 0) code << Syscall();
    if (which == 1) code.Li(t0, 0x00400000) << Lw(t1, 0, t0);
    if (which == 2) {
      code.Li(t0, runtime::st::IE | (1u << 9)) << Mtc0(t0, kCp0Status);
      code.Li(t0, runtime::cause::IV | (1u << 9)) << Mtc0(t0, kCp0Cause);
    }
    code << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    const uint32_t vector[] = {0x80040180, 0x80040000, 0x80040200};
    EXPECT_EQ(m.cpu().pc, vector[which] + 8);
  }
}

// A second exception while EXL = 1 keeps EPC and BD, updates ExcCode and goes to +0x180.
TEST(Exception, NestedExceptionKeepsEpc) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().cp0.status = runtime::st::EXL;
  m.cpu().cp0.epc = 0x80123456;
  m.cpu().cp0.cause = runtime::cause::BD;
  runtime::UpdateMode(m.cpu());
  ASSERT_EQ(RunCode(m, {Nop(), E(Opcode::BREAK, {}), kWaitWord}), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
  EXPECT_EQ(m.cpu().cp0.epc, 0x80123456u);
  EXPECT_TRUE(BdOf(m));
  EXPECT_EQ(ExcCodeOf(m), 9u);
}

// Exception entry sets EXL and keeps KSU/IE; ERET clears EXL and resumes at EPC.
TEST(Exception, EntryAndEretFromExl) {
  TestMachine m;
  // Handler: record Status, EPC += 4, ERET.
  m.LoadCode(0x180, {Mfc0(s6, kCp0Status), Mfc0(k0, kCp0Epc), Addiu(k0, k0, 4), Mtc0(k0, kCp0Epc), Eret()});
  Asm code{Addiu(t0, zero, 0x0300), Mtc0(t0, kCp0Status), Syscall(), Mfc0(s1, kCp0Status), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[s6], 0x0302u) << "in the handler: EXL set, IM kept";
  EXPECT_EQ(m.cpu().gpr[s1], 0x0300u) << "after ERET: EXL clear";
}

// ERET with ERL = 1 returns to ErrorEPC and clears only ERL; a second ERET then uses EPC and EXL.
TEST(Exception, EretFromErlUsesErrorEpc) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.LoadCode(kCodePa + 0x40, {Addiu(s1, s1, 1), Mfc0(s3, kCp0Status), Eret()});
  m.LoadCode(kCodePa + 0x80, {Addiu(s2, s2, 1), Mfc0(s4, kCp0Status), kWaitWord});
  m.cpu().cp0.status = runtime::st::ERL | runtime::st::EXL;
  m.cpu().cp0.errorepc = kCode + 0x40;
  m.cpu().cp0.epc = kCode + 0x80;
  runtime::UpdateMode(m.cpu());
  ASSERT_EQ(RunCode(m, {Eret(), Addiu(s0, zero, 1), kWaitWord}), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 0u) << "ERET has no delay slot";
  EXPECT_EQ(m.cpu().gpr[s1], 1u);
  EXPECT_EQ(m.cpu().gpr[s3], runtime::st::EXL) << "ERL cleared, EXL kept";
  EXPECT_EQ(m.cpu().gpr[s2], 1u);
  EXPECT_EQ(m.cpu().gpr[s4], 0u);
  EXPECT_EQ(m.cpu().pc, kCode + 0x8C);
}

// ERET to user mode: the code at EPC runs unprivileged (its MFC0 raises CpU).
TEST(Exception, EretToUserMode) {
  TestMachine m;
  InstallHaltHandlers(m);
  WriteTlb(m, 0, kUserCode, EntryLo(kUserCodePa, true, true), EntryLo(kUserDataPa, true, true));
  m.LoadCode(kUserCodePa, {Addiu(s0, zero, 1), Mfc0(s1, kCp0Status), kWaitWord});
  Asm code;
  code.Li(t0, kUserCode) << Mtc0(t0, kCp0Epc) << Addiu(t0, zero, 0x12) << Mtc0(t0, kCp0Status) << Eret();
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 1u);
  EXPECT_EQ(ExcCodeOf(m), 11u);
  EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 4);
  EXPECT_EQ(m.cpu().cp0.status, 0x12u) << "KSU = user kept, EXL set again";
}

// ERET to a misaligned EPC: the fetch there raises AdEL with EPC = BadVAddr = that address.
TEST(Exception, EretToMisalignedEpc) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().cp0.status = runtime::st::EXL;
  m.cpu().cp0.epc = kCode + 0x42;
  runtime::UpdateMode(m.cpu());
  ASSERT_EQ(RunCode(m, {Eret(), kWaitWord}), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
  EXPECT_EQ(ExcCodeOf(m), 4u);
  EXPECT_EQ(m.cpu().cp0.epc, kCode + 0x42);
  EXPECT_EQ(m.cpu().cp0.badvaddr, kCode + 0x42);
}

// Cause.CE is set for CpU only; a later exception of another kind clears it.
TEST(Exception, CauseCeIsClearedByLaterExceptions) {
  TestMachine m;
  InstallSkipHandler(m);
  Asm code{0x48000000 /* cop2 */, Mfc0(t0, kCp0Cause), Syscall(), kWaitWord};
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s7], 2u);
  EXPECT_EQ((m.cpu().gpr[t0] >> 28) & 3, 2u);
  EXPECT_EQ((m.cpu().gpr[t0] >> 2) & 31, 11u);
  EXPECT_EQ((m.cpu().gpr[s6] >> 28) & 3, 0u);
  EXPECT_EQ((m.cpu().gpr[s6] >> 2) & 31, 8u);
}

// Address errors do not touch Context or EntryHi (only TLB exceptions do).
TEST(Exception, AddressErrorLeavesContextAndEntryHi) {
  TestMachine m;
  InstallHaltHandlers(m);
  runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, 0x12344000 | 0x21);
  runtime::WriteCp0(m.cpu(), kCp0Context, 0, 0xFF800000);
  m.cpu().gpr[a0] = kData + 2;
  ASSERT_EQ(RunCode(m, {Lw(v0, 0, a0), kWaitWord}), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 4u);
  EXPECT_EQ(m.cpu().cp0.entryhi, 0x12344000u | 0x21);
  EXPECT_EQ(m.cpu().cp0.context, 0xFF800000u);
}

// Physical addresses with nothing behind them: instruction and data bus errors. (The board answers
// reads of the empty low 512 MiB with zeros, so the data access goes through the TLB to 0x20000000.)
TEST(Exception, BusErrors) {
  constexpr uint32_t kNowhere = 0x81000000u;  // physical 0x01000000: past the 16 MiB of RAM
  {
    SCOPED_TRACE("data bus error");
    TestMachine m;
    InstallHaltHandlers(m);
    WriteTlb(m, 0, 0x10000000, EntryLo(0x20000000, true, true), 0);
    Asm code;
    code.Li(t0, 0x10000000) << Lw(v0, 0, t0) << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 7u);
    EXPECT_EQ(m.cpu().cp0.epc, kCode + 8);
  }
  {
    SCOPED_TRACE("instruction bus error");
    TestMachine m;
    InstallHaltHandlers(m);
    Asm code;
    code.Li(t0, kNowhere) << Jr(t0) << Nop() << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 6u);
    EXPECT_EQ(m.cpu().cp0.epc, kNowhere);
  }
}

}  // namespace
}  // namespace strobe::test
