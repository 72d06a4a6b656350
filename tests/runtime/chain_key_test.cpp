// SPDX-License-Identifier: MIT
// The soft TLB's chain keys (runtime::SoftTlb::ChainKey), which cached jumps between translated regions
// check before anything else: a key must move whenever a jump resolved under it may have lost its target
// (a fetch entry of a mapped page dropped, installed code retired, everything flushed), and should stay
// where nothing a cached jump depends on changed (data entries, kseg0 code entries, the other table).
#include <gtest/gtest.h>

#include <memory>

#include "runtime/soft_tlb.h"

namespace strobe::test {
namespace {

using runtime::SoftTlb;
using runtime::SoftTlbEntry;

constexpr uint64_t kAsid5 = uint64_t{5} << 32;
constexpr uint32_t kUser = 0x00401000u, kKseg0 = 0x80123000u, kKseg2 = 0xC0004000u;

struct Keys {
  uint64_t user_mapped, user_unmapped, kernel_mapped, kernel_unmapped;
  bool operator==(const Keys&) const = default;
};

Keys Read(SoftTlb& t, uint64_t asid_key = 0) {
  return {SoftTlb::ChainKey(t.Table(true), asid_key, kUser),
          SoftTlb::ChainKey(t.Table(true), asid_key, kKseg0),
          SoftTlb::ChainKey(t.Table(false), asid_key, kKseg2),
          SoftTlb::ChainKey(t.Table(false), asid_key, kKseg0)};
}

// Every key moved to a value none had before.
void ExpectAllMoved(const Keys& before, const Keys& after) {
  for (uint64_t old :
       {before.user_mapped, before.user_unmapped, before.kernel_mapped, before.kernel_unmapped})
    for (uint64_t now : {after.user_mapped, after.user_unmapped, after.kernel_mapped, after.kernel_unmapped})
      EXPECT_NE(old, now);
}

// An entry of `table` for va as the runtime fills one: the tags given, the others invalid.
SoftTlbEntry& Fill(SoftTlb& t, bool user, uint32_t va, bool fetch, bool read) {
  SoftTlbEntry& e = t.Table(user)[SoftTlb::IndexOf(va)];
  e = SoftTlbEntry{};
  if (fetch) e.fetch = kAsid5 | va;
  if (read) e.read = kAsid5 | va;
  e.addend = 0x1000;
  return e;
}

TEST(ChainKey, KeysAreNeverZeroAndNeverShared) {
  auto t = std::make_unique<SoftTlb>();
  const Keys k = Read(*t);
  const uint64_t all[] = {k.user_mapped, k.user_unmapped, k.kernel_mapped, k.kernel_unmapped};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NE(all[i], 0u);
    for (size_t j = i + 1; j < 4; ++j) EXPECT_NE(all[i], all[j]) << i << " " << j;
  }
  // The ASID is part of a mapped target's key only.
  EXPECT_NE(SoftTlb::ChainKey(t->Table(true), kAsid5, kUser), k.user_mapped);
  EXPECT_EQ(SoftTlb::ChainKey(t->Table(true), kAsid5, kKseg0), k.user_unmapped);
}

TEST(ChainKey, DroppingAMappedFetchEntryMovesOnlyItsTablesMappedKey) {
  auto t = std::make_unique<SoftTlb>();
  SoftTlbEntry& e = Fill(*t, true, kUser, /*fetch=*/true, /*read=*/false);
  const Keys before = Read(*t);
  t->Drop(e);
  const Keys after = Read(*t);
  EXPECT_NE(after.user_mapped, before.user_mapped);
  EXPECT_EQ(after.user_unmapped, before.user_unmapped);
  EXPECT_EQ(after.kernel_mapped, before.kernel_mapped);
  EXPECT_EQ(after.kernel_unmapped, before.kernel_unmapped);

  SoftTlbEntry& k = Fill(*t, false, kKseg2, true, false);  // a module's code page, in the kernel's table
  t->Drop(k);
  const Keys kernel = Read(*t);
  EXPECT_NE(kernel.kernel_mapped, after.kernel_mapped);
  EXPECT_EQ(kernel.user_mapped, after.user_mapped);
}

TEST(ChainKey, DataEntriesAndKseg0CodeEntriesLeaveTheKeys) {
  auto t = std::make_unique<SoftTlb>();
  SoftTlbEntry& data = Fill(*t, true, kUser, /*fetch=*/false, /*read=*/true);
  SoftTlbEntry& kseg0 = Fill(*t, false, kKseg0, /*fetch=*/true, /*read=*/true);
  const Keys before = Read(*t);
  t->Drop(data);
  t->Drop(kseg0);
  EXPECT_EQ(Read(*t), before);
}

TEST(ChainKey, FlushesMoveTheKeysOfTheCodeTheyDrop) {
  auto t = std::make_unique<SoftTlb>();
  Fill(*t, true, kUser, true, true);
  Keys k = Read(*t);
  t->FlushRange(kUser + 0x10000, kUser + 0x12000);  // other pages
  EXPECT_EQ(Read(*t), k);
  t->FlushRange(kUser, kUser + 0x1000);  // a TLB write replacing the entry that maps the code page
  EXPECT_NE(Read(*t).user_mapped, k.user_mapped);

  SoftTlbEntry& e = Fill(*t, true, kUser, true, false);
  t->PaddrOf(e) = 0x00050000u;
  k = Read(*t);
  t->RevokeWrites(0x00050000u);  // the fetch tag stays
  EXPECT_EQ(Read(*t), k);
  t->FlushPhys(0x00050000u);  // copy-on-write broken under the code page
  EXPECT_NE(Read(*t).user_mapped, k.user_mapped);

  k = Read(*t);
  t->FlushAll();
  ExpectAllMoved(k, Read(*t));
}

TEST(ChainKey, RetiringCodeMovesEveryKeyToANewValue) {
  auto t = std::make_unique<SoftTlb>();
  const Keys k = Read(*t);
  t->RetireChains();
  ExpectAllMoved(k, Read(*t));
}

}  // namespace
}  // namespace strobe::test
