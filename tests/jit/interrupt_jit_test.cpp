// SPDX-License-Identifier: MIT
// Interrupts arriving while translated code runs: long loops under the eager engine with the Count/Compare
// timer armed (Status.IE = 1, IM7). Translated code must leave at the timer deadline (the cycle limit it is
// given) so that the run loop can deliver the interrupt; the handler at EBase + 0x180 counts ticks, records
// EPC and re-arms Compare, and the loop must still compute the right result.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kIm7 = 1u << 15;
constexpr int32_t kPeriod = 5000;  // Count ticks between interrupts (two cycles each)
constexpr unsigned kRing = 64;     // the handler keeps the last 64 EPCs at kData

// Ticks in s1, the last EPCs in a ring at s2, a sum of unexpected ExcCodes in s5; Compare += period.
void InstallTickHandler(TestMachine& m) {
  m.LoadCode(0x180, {Mfc0(k0, kCp0Cause), E(Opcode::ANDI, {.rs = k0, .rt = k0, .imm = 0x7C}),
                     Addu(s5, s5, k0), Mfc0(k0, kCp0Count), Addiu(k0, k0, kPeriod), Mtc0(k0, kCp0Compare),
                     Mfc0(k1, kCp0Epc), E(Opcode::ANDI, {.rs = s1, .rt = k0, .imm = kRing - 1}),
                     E(Opcode::SLL, {.rt = k0, .rd = k0, .sa = 2}), Addu(k0, k0, s2), Sw(k1, 0, k0),
                     Addiu(s1, s1, 1), Eret()});
}

// Arms the timer, enables IE and IM7, and jumps to `loop` (a kseg0 address).
Asm Prologue(uint32_t loop) {
  Asm a{Mfc0(t0, kCp0Count), Addiu(t0, t0, kPeriod), Mtc0(t0, kCp0Compare)};
  a.Li(t1, runtime::st::IE | kIm7) << Mtc0(t1, kCp0Status);
  a << E(Opcode::J, {.target = (loop >> 2) & 0x3FFFFFF}) << Nop();
  return a;
}

struct TickRun {
  ArchState state;
  uint64_t loop_entries = 0;  // entries into the loop's translated code (it has one block)
  uint64_t installed = 0;
};

// The loop at loop_pa runs until s0 == s3; then interrupts are disabled and the guest halts.
TickRun RunTicks(Engine e, uint32_t loop_pa, const Asm& loop, uint32_t iterations) {
  auto mp = NewMachine(e);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  InstallTickHandler(m);
  m.LoadCode(kCodePa, Prologue(kKseg0 | loop_pa).words());
  m.LoadCode(loop_pa, loop.words());
  m.cpu().gpr[s2] = kData;
  m.cpu().gpr[s3] = iterations;
  EXPECT_EQ(m.Run(kCode, 100'000'000), vmm::VmExit::kHalted) << EngineName(e);
  TickRun r;
  r.state = Snapshot(m, kDataPa, kRing);
  if (m.vm().tier()) {
    r.installed = Stats(m).regions_installed;
  }
  if (e != Engine::kInterp) {
    EXPECT_NE(NativeOf(m, loop_pa), nullptr) << "the loop should be translated";
    r.loop_entries = ExecCount(m, loop_pa);
  }
  return r;
}

void CheckTicks(const TickRun& r, uint32_t loop_va, uint32_t loop_end_va, uint32_t iterations,
                uint32_t min_ticks) {
  const ArchState& s = r.state;
  EXPECT_EQ(s.gpr[s0], iterations) << "the loop ran to completion";
  EXPECT_GE(s.gpr[s1], min_ticks) << "timer interrupts were delivered while the loop ran";
  EXPECT_EQ(s.gpr[s5], 0u) << "the handler saw an ExcCode other than Int";
  const unsigned recorded = std::min<uint32_t>(s.gpr[s1], kRing);
  for (unsigned i = 0; i < recorded; ++i) {
    EXPECT_GE(s.data[i], loop_va) << "EPC " << i;
    EXPECT_LE(s.data[i], loop_end_va) << "EPC " << i;
  }
}

// loop: addiu s0, s0, 1; xor s4, s4, s0; bne s0, s3, loop; addu s6, s6, s0; mtc0 zero, Status; wait
Asm TightLoop() {
  return Asm{Addiu(s0, s0, 1),       E(Opcode::XOR, {.rs = s4, .rt = s0, .rd = s4}),
             Bne(s0, s3, -3),        Addu(s6, s6, s0),
             Mtc0(zero, kCp0Status), kWaitWord};
}

TEST(InterruptJit, TimerTicksInsideLongTranslatedLoop) {
  constexpr uint32_t kLoopPa = kCodePa + 0x100, kIterations = 3'000'000;
  const uint32_t loop = kKseg0 | kLoopPa;
  TickRun ref = RunTicks(Engine::kInterp, kLoopPa, TightLoop(), kIterations);
  for (Engine e : {Engine::kJit, kJitO1}) {
    SCOPED_TRACE(EngineName(e));
    TickRun jit = RunTicks(e, kLoopPa, TightLoop(), kIterations);
    // 4 instructions an iteration, Count at half the cycle rate: 6M ticks of Count, one interrupt per 5000.
    CheckTicks(jit, loop, loop + 16, kIterations, 1000);
    EXPECT_GT(jit.loop_entries, 1000u) << "the translated loop is re-entered after every interrupt";
    // Same arithmetic as the interpreter (the sums do not depend on where the interrupts land).
    EXPECT_EQ(jit.state.gpr[s4], ref.state.gpr[s4]);
    EXPECT_EQ(jit.state.gpr[s6], ref.state.gpr[s6]);
    EXPECT_EQ(jit.state.gpr[s0], ref.state.gpr[s0]);
  }
}

// The loop body straddles a page boundary, so the two halves are separate regions that chain into each
// other (musttail through the exit caches): the chain must also stop at the timer deadline.
// L (page end - 16): addiu s0, s0, 1; addu s4, s4, s0; xor s6, s6, s4; nop |
// (next page) bne s0, s3, L; sll s7, s4, 1; mtc0 zero, Status; wait
TEST(InterruptJit, TimerTicksInLoopChainedAcrossPages) {
  constexpr uint32_t kLoopPa = kCodePa + 0x1FF0, kIterations = 1'000'000;
  const uint32_t loop = kKseg0 | kLoopPa;
  Asm body{Addiu(s0, s0, 1),
           Addu(s4, s4, s0),
           E(Opcode::XOR, {.rs = s6, .rt = s4, .rd = s6}),
           Nop(),
           Bne(s0, s3, -5),
           E(Opcode::SLL, {.rt = s4, .rd = s7, .sa = 1}),
           Mtc0(zero, kCp0Status),
           kWaitWord};
  TickRun jit = RunTicks(Engine::kJit, kLoopPa, body, kIterations);
  CheckTicks(jit, loop, loop + 24, kIterations, 500);
  EXPECT_GE(jit.installed, 2u) << "one region on each side of the page boundary";
  TickRun ref = RunTicks(Engine::kInterp, kLoopPa, body, kIterations);
  EXPECT_EQ(jit.state.gpr[s4], ref.state.gpr[s4]);
  EXPECT_EQ(jit.state.gpr[s6], ref.state.gpr[s6]);
  EXPECT_EQ(jit.state.gpr[s7], ref.state.gpr[s7]);
}

// A loop that calls a function on another page through JAL/JR (both chained), under the tiered engine:
// the loop is interpreted until hot, then translated in the middle of the run, with ticks throughout.
TEST(InterruptJit, TimerTicksWhileTieredCodeIsInstalled) {
  constexpr uint32_t kLoopPa = kCodePa + 0x100, kFnPa = kCodePa + 0x3000, kIterations = 2'000'000;
  const uint32_t loop = kKseg0 | kLoopPa;
  // loop: jal fn; addiu s0, s0, 1; bne s0, s3, loop; nop; mtc0 zero, Status; wait
  Asm body{E(Opcode::JAL, {.target = ((kKseg0 | kFnPa) >> 2) & 0x3FFFFFF}),
           Addiu(s0, s0, 1),
           Bne(s0, s3, -3),
           Nop(),
           Mtc0(zero, kCp0Status),
           kWaitWord};
  for (Engine e : {Engine::kTiered, Engine::kInterp}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = NewMachine(e);
    TestMachine& m = *mp;
    InstallHaltHandlers(m);
    InstallTickHandler(m);
    m.LoadCode(kCodePa, Prologue(loop).words());
    m.LoadCode(kLoopPa, body.words());
    m.LoadCode(kFnPa, {Addu(s4, s4, s0), Jr(ra), E(Opcode::XOR, {.rs = s6, .rt = s4, .rd = s6})});
    m.cpu().gpr[s2] = kData;
    m.cpu().gpr[s3] = kIterations;
    ASSERT_EQ(m.Run(kCode, 100'000'000), vmm::VmExit::kHalted);
    TickRun r;
    r.state = Snapshot(m, kDataPa, kRing);
    // EPC may be in the loop or in the function.
    const ArchState& s = r.state;
    EXPECT_EQ(s.gpr[s0], kIterations);
    EXPECT_GE(s.gpr[s1], 500u);
    EXPECT_EQ(s.gpr[s5], 0u);
    for (unsigned i = 0; i < kRing; ++i) {
      const uint32_t epc = s.data[i];
      const bool in_loop = epc >= loop && epc <= loop + 16;
      const bool in_fn = epc >= (kKseg0 | kFnPa) && epc <= (kKseg0 | kFnPa) + 8;
      EXPECT_TRUE(in_loop || in_fn) << std::hex << "EPC " << epc;
    }
    // s4 = the sum of s0 after each increment (JAL's delay slot runs first): 1 + 2 + ... + n.
    EXPECT_EQ(s.gpr[s4], static_cast<uint32_t>(uint64_t{kIterations} * (kIterations + 1) / 2));
    if (e == Engine::kTiered) {
      EXPECT_GE(Stats(m).regions_installed, 2u);
      EXPECT_NE(NativeOf(m, kLoopPa), nullptr);
      EXPECT_NE(NativeOf(m, kFnPa), nullptr);
    }
  }
}

}  // namespace
}  // namespace strobe::test::jt
