// SPDX-License-Identifier: MIT
// When cached jumps between translated regions (chain sites, the jump cache) must be resolved again: the
// epoch in CpuState::chain_epoch is per ASID, and a TLB write moves every ASID's only when the entry it
// replaces mapped a page such a jump goes to. (tests/jit/tlb_jit_test.cpp runs the same rules through
// translated code.)
#include <gtest/gtest.h>

#include "runtime/cpu_state.h"
#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

constexpr uint32_t kP1 = 0x00040000u, kP2 = 0x00050000u;

void SetAsid(runtime::CpuState& c, uint32_t asid) {
  runtime::WriteCp0(c, kCp0EntryHi, 0, asid);
}

TEST(ChainEpoch, EachAsidKeepsItsEpochAcrossOtherTimeSlices) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  SetAsid(c, 5);
  const uint64_t a = c.chain_epoch;
  SetAsid(c, 6);
  const uint64_t b = c.chain_epoch;
  EXPECT_NE(a, b);  // another address space: the jumps cached under ASID 5 are not valid here
  SetAsid(c, 5);
  EXPECT_EQ(c.chain_epoch, a);  // back: they are again
  SetAsid(c, 6);
  EXPECT_EQ(c.chain_epoch, b);
}

TEST(ChainEpoch, InvalidationMovesEveryAsidsEpoch) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  SetAsid(c, 5);
  const uint64_t a = c.chain_epoch;
  SetAsid(c, 6);
  const uint64_t b = c.chain_epoch;
  runtime::InvalidateMappedChains(c);
  EXPECT_NE(c.chain_epoch, b);
  const uint64_t b2 = c.chain_epoch;
  SetAsid(c, 5);
  EXPECT_NE(c.chain_epoch, a);
  EXPECT_NE(c.chain_epoch, b);
  EXPECT_NE(c.chain_epoch, b2);
  SetAsid(c, 6);
  EXPECT_EQ(c.chain_epoch, b2);
}

TEST(ChainEpoch, TlbWriteOverAnUnrelatedEntryKeepsCachedJumps) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  SetAsid(c, 1);
  WriteTlb(m, 3, 0x00400000, EntryLo(kP1, true, true, false), EntryLo(kP2, true, true, false));
  runtime::NoteChainTarget(c, 0x00600010);  // a jump into another page pair was cached
  const uint64_t before = c.chain_epoch;
  WriteTlb(m, 3, 0x00800000, EntryLo(kP1, true, true, false), EntryLo(kP2, true, true, false));
  EXPECT_EQ(c.chain_epoch, before);
  WriteTlb(m, 4, 0x00600000, EntryLo(kP1, false, false, false), EntryLo(kP2, false, false, false));
  EXPECT_EQ(c.chain_epoch, before);  // the replaced entry was invalid: it translated nothing
}

TEST(ChainEpoch, TlbWriteOverAnEntryMappingAJumpTargetInvalidates) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  SetAsid(c, 1);
  WriteTlb(m, 3, 0x00400000, EntryLo(kP1, true, true, false), EntryLo(kP2, true, true, false));
  runtime::NoteChainTarget(c, 0x00401ffc);  // the odd page of the pair
  const uint64_t before = c.chain_epoch;
  WriteTlb(m, 3, 0x00800000, EntryLo(kP1, true, true, false), EntryLo(kP2, true, true, false));
  EXPECT_NE(c.chain_epoch, before);
  // The filter starts empty again: the next unrelated write keeps the new epoch.
  const uint64_t after = c.chain_epoch;
  WriteTlb(m, 3, 0x00a00000, EntryLo(kP1, true, true, false), EntryLo(kP2, true, true, false));
  EXPECT_EQ(c.chain_epoch, after);
}

TEST(ChainEpoch, LargePageCoversEveryPagePairInIt) {
  TestMachine m;
  runtime::CpuState& c = m.cpu();
  SetAsid(c, 1);
  WriteTlb(m, 2, 0x01000000, EntryLo(0x00200000, true, true, false), EntryLo(0x00400000, true, true, false),
           0x001FE000);                     // 1 MiB pages: a 2 MiB pair
  runtime::NoteChainTarget(c, 0x011F0000);  // deep inside the pair
  const uint64_t before = c.chain_epoch;
  WriteTlb(m, 2, 0x00400000, EntryLo(kP1, true, true, false), EntryLo(kP2, true, true, false));
  EXPECT_NE(c.chain_epoch, before);
}

}  // namespace
}  // namespace strobe::test
