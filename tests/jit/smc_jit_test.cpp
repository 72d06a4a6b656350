// SPDX-License-Identifier: MIT
// Self-modifying code under the translation tier: a guest store over an instruction of translated code
// drops the page's regions (Tier::InvalidatePage), and the next execution runs the new instruction, whether
// the store comes from other code, from the translated loop itself, or lands while the region's background
// compile is still in flight (the result must then be discarded as stale).
#include <gtest/gtest.h>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kPatchPa = kCodePa + 0x1000;  // a routine on another page that patches the loop
constexpr uint32_t kPatch = kKseg0 | kPatchPa;

// L: addiu v0, v0, 1 (the patched word); addiu t3, t3, -1; bne t3, zero, L; nop; wait
Asm CountLoop() {
  return Asm{Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(), kWaitWord};
}

// sw t2, 0(t0); wait  (t0 = the word to patch, t2 = its new encoding)
void LoadPatcher(TestMachine& m) {
  m.LoadCode(kPatchPa, {Sw(t2, 0, t0), kWaitWord});
}

vmm::VmExit RunLoop(TestMachine& m, uint32_t iterations) {
  m.cpu().gpr[v0] = 0;
  m.cpu().gpr[t3] = iterations;
  return m.Run(kCode, 10'000'000);
}

class SmcJit : public ::testing::TestWithParam<Engine> {};

// Translate a loop, patch its increment from code on another page, run it again.
TEST_P(SmcJit, PatchFromOtherPageDropsRegion) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  LoadPatcher(m);
  m.LoadCode(kCodePa, CountLoop().words());

  ASSERT_EQ(RunUntilTranslated(m, kCode, kCodePa,
                               [&] {
                                 m.cpu().gpr[v0] = 0;
                                 m.cpu().gpr[t3] = 1000;
                               }),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 1000u);
  ASSERT_NE(NativeOf(m, kCodePa), nullptr) << "the loop should be translated";
  // One more run on the translated code, to be sure it computes the same.
  ASSERT_EQ(RunLoop(m, 1000), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 1000u);
  EXPECT_GT(Installed(m), 0u);

  const uint64_t dropped = Stats(m).regions_dropped;
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  ASSERT_EQ(m.Run(kPatch), vmm::VmExit::kHalted);
  EXPECT_EQ(m.Read32(kCodePa), Addiu(v0, v0, 100));
  EXPECT_GT(Stats(m).regions_dropped, dropped) << "the loop's region must be dropped";
  EXPECT_EQ(NativeOf(m, kCodePa), nullptr);

  ASSERT_EQ(RunLoop(m, 1000), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 100000u) << "the patched instruction must run";
  // And once the new code is translated too.
  ASSERT_EQ(RunUntilTranslated(m, kCode, kCodePa,
                               [&] {
                                 m.cpu().gpr[v0] = 0;
                                 m.cpu().gpr[t3] = 1000;
                               }),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 100000u);
  EXPECT_NE(NativeOf(m, kCodePa), nullptr) << "the new code should be translated again";
}

// The translated loop patches its own increment halfway through one run:
// 0: L: addiu v0, v0, 1        (patched to +100 when t3 reaches t4)
// 1: addiu t3, t3, -1
// 2: bne t3, t4, skip
// 3: nop
// 4: sw t2, 0(t0)
// 5: skip: bne t3, zero, L
// 6: nop
// 7: wait
TEST_P(SmcJit, LoopPatchesItselfWhileTranslated) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  Asm code{Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, t4, 2), Nop(),
           Sw(t2, 0, t0),    Bne(t3, zero, -6), Nop(),          kWaitWord};
  m.LoadCode(kCodePa, code.words());
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  // Warm up without patching (t4 never matches) until the loop runs translated.
  ASSERT_EQ(RunUntilTranslated(m, kCode, kCodePa,
                               [&] {
                                 m.cpu().gpr[v0] = 0;
                                 m.cpu().gpr[t3] = 300;
                                 m.cpu().gpr[t4] = 0xFFFF;
                               }),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 300u);
  ASSERT_NE(NativeOf(m, kCodePa), nullptr);
  const uint64_t dropped = Stats(m).regions_dropped;

  m.cpu().gpr[t4] = 500;
  ASSERT_EQ(RunLoop(m, 1000), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + 32);
  EXPECT_EQ(m.cpu().gpr[v0], 500u + 500u * 100u) << "iterations after the patch must add 100";
  EXPECT_GT(Stats(m).regions_dropped, dropped);
}

// Every iteration rewrites the increment (1, 2, 3, ...): under the eager engine each iteration runs a
// freshly translated region.
TEST_P(SmcJit, RepeatedSelfPatching) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode + 8;
  ExpectSelfPatchedSum(m, SelfPatchingLoop(m, Nop(), Sw(t2, 0, t0)));
}

// The same with SDC1 (a 24Kf, FR=0): the lifter's inline doubleword store meets the code page's missing
// write entry too and leaves the store to the handler, which drops the loop. The double's high word is
// the loop's next instruction, written back unchanged.
TEST_P(SmcJit, SelfPatchingDoublewordStore) {
  auto mp = NewMachine(GetParam(), 0, runtime::CpuModel::k24Kf);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().cp0.status = runtime::st::CU1;
  runtime::UpdateMode(m.cpu());
  m.cpu().fpu.fpr[1] = Addiu(t2, t2, 1);  // the pair's high word: the word at kCode + 12
  m.cpu().gpr[t0] = kCode + 8;
  ExpectSelfPatchedSum(
      m, SelfPatchingLoop(m, E(Opcode::MTC1, {.rt = t2, .rd = 0}), E(Opcode::SDC1, {.rs = t0, .rt = 0})));
}

// The patching store follows a store through the same base register to the page below the code: the
// optimising tiers reuse a page found by an earlier access of the block only when the page matches, so the
// second store must still meet the code page's missing write entry and drop the loop.
TEST_P(SmcJit, SelfPatchingStoreAfterStoreToOtherPage) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode - 8;  // 0(t0): the data page below; 16(t0): the word at kCode + 8
  ExpectSelfPatchedSum(m, SelfPatchingLoop(m, Sw(t3, 0, t0), Sw(t2, 16, t0)));
  EXPECT_EQ(m.Read32(kCodePa - 8), 1u);
}

// The same with the patching store in the branch's delay slot: the exit the store requests must continue
// where the branch goes (the loop head while it loops), not at the word after the slot.
TEST_P(SmcJit, SelfPatchingStoreInDelaySlot) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode + 8;
  SetUpSelfPatching(m);
  ExpectSelfPatchedSum(m, Asm{Nop(), Nop(), Addiu(v0, v0, 1), Addiu(t2, t2, 1), Addiu(t3, t3, -1),
                              Bne(t3, zero, -4), Sw(t2, 0, t0), kWaitWord});
}

// A store that patches an instruction further on in the running region. Without SYNCI the first run may
// see either word; the next runs must see the new one. With `branch`, a taken branch (a block boundary)
// lies between the store and the patched word; without, both are in one straight-line block.
void PatchAhead(Engine engine, bool branch) {
  SCOPED_TRACE(branch ? "across a branch" : "same block");
  auto mp = NewMachine(engine);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  // 0: sw t2, 0x14(t0); 1: beq zero, zero, 4 (or nop); 2: nop; 3: nop; 4: addiu v1, v1, 1;
  // 5: addiu v0, v0, 1 (patched); 6: wait
  Asm code{
      Sw(t2, 0x14, t0), branch ? Beq(zero, zero, 2) : Nop(), Nop(), Nop(), Addiu(v1, v1, 1), Addiu(v0, v0, 1),
      kWaitWord};
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_TRUE(m.cpu().gpr[v0] == 1 || m.cpu().gpr[v0] == 100) << m.cpu().gpr[v0];
  EXPECT_EQ(m.cpu().gpr[v1], 1u);
  for (int run = 0; run < 3; ++run) {
    m.cpu().gpr[v0] = 0;
    ASSERT_EQ(m.Run(kCode), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
    EXPECT_EQ(m.cpu().gpr[v0], 100u) << "run " << run;
    Drain(m);
  }
}

TEST_P(SmcJit, PatchAheadInSameRegion) {
  PatchAhead(GetParam(), false);
  PatchAhead(GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(Engines, SmcJit, ::testing::Values(Engine::kJit, kJitO1, Engine::kTiered),
                         [](const ::testing::TestParamInfo<Engine>& i) { return EngineName(i.param); });

// Tiered: the loop becomes hot (its region is queued for the background compiler), and code on another
// page overwrites it before the compile is installed. The compile must not install stale code.
TEST(SmcTiered, PatchWhileCompileInFlight) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  LoadPatcher(m);
  m.LoadCode(kCodePa, CountLoop().words());
  const uint64_t threshold = m.vm().tier()->options().threshold;

  ASSERT_EQ(RunLoop(m, static_cast<uint32_t>(threshold) + 20), vmm::VmExit::kHalted);
  EXPECT_EQ(Installed(m), 0u) << "nothing is installed before the next slice polls";
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  ASSERT_EQ(m.Run(kPatch), vmm::VmExit::kHalted);  // no Drain before: the compile is most likely in flight
  Drain(m);
  const auto& s = Stats(m);
  EXPECT_GE(s.stale_results + s.regions_dropped, 1u) << "the old compile must be discarded or dropped";
  EXPECT_EQ(NativeOf(m, kCodePa), nullptr) << "no translated entry for the overwritten code";

  ASSERT_EQ(RunLoop(m, 5), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 500u) << "the new instruction must run";
  ASSERT_EQ(RunUntilTranslated(m, kCode, kCodePa,
                               [&] {
                                 m.cpu().gpr[v0] = 0;
                                 m.cpu().gpr[t3] = 1000;
                               }),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 100000u);
  ASSERT_EQ(RunLoop(m, 1000), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 100000u);
}

// Tiered: the overwritten loop becomes hot again while the stale compile of the old code is still in the
// background compiler. After the stale result is discarded, the new hot code must still get translated.
TEST(SmcTiered, HotAgainWhileStaleCompilePending) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  LoadPatcher(m);
  m.LoadCode(kCodePa, CountLoop().words());
  const uint64_t threshold = m.vm().tier()->options().threshold;

  ASSERT_EQ(RunLoop(m, static_cast<uint32_t>(threshold) + 20), vmm::VmExit::kHalted);
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 100);
  ASSERT_EQ(m.Run(kPatch), vmm::VmExit::kHalted);
  const bool raced = Stats(m).regions_installed == 0;  // the first compile had not finished yet
  ASSERT_EQ(RunLoop(m, 2000), vmm::VmExit::kHalted);   // hot again at once, before the Drain
  EXPECT_EQ(m.cpu().gpr[v0], 200000u);
  Drain(m);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(RunLoop(m, 2000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], 200000u);
    Drain(m);
  }
  if (!raced) GTEST_SKIP() << "the first compile finished before the patch: the race did not happen";
  // Regression: the rebuilt block used to stay interpreted for good, because the stale compile's pending
  // entry held back its hotness notice (pending entries now carry the page's code generation).
  EXPECT_NE(NativeOf(m, kCodePa), nullptr);
}

}  // namespace
}  // namespace strobe::test::jt
