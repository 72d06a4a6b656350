// SPDX-License-Identifier: MIT
// A region's entry and its computed jumps find the right block among many. Unoptimised regions look the
// target up in a balanced tree of compares (LiftOptions::compare_tree) rather than LLVM's linear switch;
// a wrong split or leaf would enter the wrong block, and the sum below would show it.
#include <gtest/gtest.h>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kBlocks = 37;      // an odd count: the tree's leaves hold 2 and 3 blocks
constexpr uint32_t kChain = 0x10;     // offset of the first block of the chain
constexpr uint32_t kBlockBytes = 12;  // addiu v0, v0, 1; b next; nop

// +0x00: beq t8, zero, chain; nop; jr t9; nop
// chain: kBlocks blocks, each adding 1 to v0 and branching to the next; then wait.
Asm ChainWithDispatcher() {
  Asm a{Beq(t8, zero, 2), Nop(), Jr(t9), Nop()};
  for (uint32_t i = 0; i < kBlocks; ++i) {
    a << Addiu(v0, v0, 1) << Beq(zero, zero, 1) << Nop();  // to the next block, after the delay slot
  }
  a << kWaitWord;
  return a;
}

uint32_t BlockAt(uint32_t i) {
  return kChain + i * kBlockBytes;
}

class DispatchJit : public ::testing::TestWithParam<Engine> {};

TEST_P(DispatchJit, EntriesAndComputedJumpsReachEveryBlock) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.LoadCode(kCodePa, ChainWithDispatcher().words());
  ASSERT_EQ(RunUntilTranslated(
                m, kCode, kCodePa + BlockAt(kBlocks / 2),
                [&] {
                  m.cpu().gpr[v0] = 0;
                  m.cpu().gpr[t8] = 0;
                },
                /*tries=*/500),
            vmm::VmExit::kHalted);
  ASSERT_NE(NativeOf(m, kCodePa + BlockAt(kBlocks / 2)), nullptr);
  EXPECT_EQ(m.cpu().gpr[v0], kBlocks);
  for (uint32_t i = 0; i < kBlocks; ++i) {
    SCOPED_TRACE("block " + std::to_string(i));
    // Entered at the block itself: the region's entry looks it up.
    m.cpu().gpr[v0] = 0;
    ASSERT_EQ(m.Run(kCode + BlockAt(i), 100'000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], kBlocks - i);
    // Reached by jr from the dispatcher block: the computed jump looks it up.
    m.cpu().gpr[v0] = 0;
    m.cpu().gpr[t8] = 1;
    m.cpu().gpr[t9] = kCode + BlockAt(i);
    ASSERT_EQ(m.Run(kCode, 100'000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], kBlocks - i);
    // A jump into the middle of a block (to its branch) is not a block of the region: it leaves, and the
    // runtime carries on from there.
    m.cpu().gpr[v0] = 0;
    m.cpu().gpr[t9] = kCode + BlockAt(i) + 4;
    ASSERT_EQ(m.Run(kCode, 100'000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], kBlocks - i - 1);
    m.cpu().gpr[t8] = 0;
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, DispatchJit, ::testing::Values(Engine::kJit, Engine::kTiered),
                         [](const auto& info) { return std::string(EngineName(info.param)); });

}  // namespace
}  // namespace strobe::test::jt
