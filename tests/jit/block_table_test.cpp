// SPDX-License-Identifier: MIT
// The code cache's table of blocks by guest-physical address (code/code_cache.h, BlockTable): open
// addressing whose deletions shift probe runs back. Checked against std::map through inserts and erases
// of addresses crowded into a few pages (long probe runs, wrapping at the table's end) and spread out.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

#include "translator/code/code_cache.h"

namespace strobe::test {
namespace {

TEST(BlockTable, FindsExactlyWhatWasInsertedThroughErasesAndGrowth) {
  std::mt19937 rng(12345);
  code::BlockTable table;
  std::map<uint32_t, std::unique_ptr<code::Block>> ref;
  auto random_paddr = [&] {
    // Half crowded into four pages, half anywhere in 512 MiB.
    const uint32_t crowded = (rng() % 4) * 0x1000 + (rng() % 1024) * 4;
    const uint32_t anywhere = (rng() % (1u << 27)) * 4;
    return rng() % 2 ? crowded : anywhere;
  };
  auto check = [&] {
    ASSERT_EQ(table.size(), ref.size());
    for (const auto& [paddr, b] : ref) ASSERT_EQ(table.Find(paddr), b.get()) << std::hex << paddr;
    size_t seen = 0;
    table.ForEach([&](const code::Block& b) {
      ++seen;
      ASSERT_EQ(ref.count(b.paddr), 1u);
    });
    ASSERT_EQ(seen, ref.size());
  };
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 3000; ++i) {
      const uint32_t paddr = random_paddr();
      if (ref.count(paddr)) {
        EXPECT_EQ(table.Find(paddr), ref[paddr].get());
        continue;
      }
      EXPECT_EQ(table.Find(paddr), nullptr) << std::hex << paddr;
      auto b = std::make_unique<code::Block>();
      b->paddr = paddr;
      table.Insert(b.get());
      ref.emplace(paddr, std::move(b));
    }
    ASSERT_NO_FATAL_FAILURE(check());
    // Erase about half, some of them absent.
    for (int i = 0; i < 2000; ++i) {
      const uint32_t paddr = rng() % 3 ? std::next(ref.begin(), rng() % ref.size())->first : random_paddr();
      auto it = ref.find(paddr);
      code::Block* erased = table.Erase(paddr);
      if (it == ref.end()) {
        EXPECT_EQ(erased, nullptr);
      } else {
        EXPECT_EQ(erased, it->second.get());
        ref.erase(it);
      }
      EXPECT_EQ(table.Find(paddr), nullptr);
    }
    ASSERT_NO_FATAL_FAILURE(check());
  }
  const std::vector<code::Block*> all = table.TakeAll();
  EXPECT_EQ(all.size(), ref.size());
  EXPECT_EQ(table.size(), 0u);
  for (const auto& [paddr, b] : ref) EXPECT_EQ(table.Find(paddr), nullptr);
}

}  // namespace
}  // namespace strobe::test
