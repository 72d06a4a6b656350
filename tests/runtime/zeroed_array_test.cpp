// SPDX-License-Identifier: MIT
// ZeroedArray (runtime/zeroed_array.h): per-VM tables indexed by guest-physical page cost host memory only
// where they are written, and clearing them gives the memory back. Residency is what the kernel reports
// (its Rss in /proc/self/smaps), so these fail if the table is ever filled or cleared by writing every byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "runtime/soft_tlb.h"
#include "runtime/zeroed_array.h"

namespace strobe::test {
namespace {

// The resident set of the mapping that holds p, in pages, as the kernel accounts it (/proc/self/smaps: the
// shared zero page that an unwritten page reads from is not counted, as it is not in a process's RSS).
// Adjacent tables may be one mapping (the kernel merges them); none of the rest of the process is in it.
size_t ResidentPages(const void* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in = false;
  while (std::getline(smaps, line)) {
    unsigned long lo, hi;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {
      in = at >= lo && at < hi;
    } else if (in && line.rfind("Rss:", 0) == 0) {
      return std::stoul(line.substr(4)) * 1024 / 4096;
    }
  }
  ADD_FAILURE() << "no mapping holds " << p;
  return ~size_t{0};
}

TEST(ZeroedArray, CostsMemoryOnlyWhereWritten) {
  runtime::ZeroedArray<uint64_t> a(1u << 20);  // 8 MiB
  ASSERT_EQ(a.size(), 1u << 20);
  EXPECT_EQ(a[12345], 0u);  // reads as zero without being written
  EXPECT_EQ(ResidentPages(a.data()), 0u) << "reading must not make pages resident";
  a[0] = 1;
  a[(1u << 20) - 1] = 2;
  EXPECT_EQ(ResidentPages(a.data()), 2u);
  EXPECT_EQ(a[0], 1u);
  EXPECT_EQ(a[(1u << 20) - 1], 2u);
}

TEST(ZeroedArray, ClearZeroesAndGivesThePagesBack) {
  runtime::ZeroedArray<uint32_t> a(100000);
  for (size_t i = 0; i < a.size(); i += 1000) a[i] = static_cast<uint32_t>(i + 1);
  EXPECT_GT(ResidentPages(a.data()), 50u);
  a.Clear();
  EXPECT_EQ(ResidentPages(a.data()), 0u);
  for (size_t i = 0; i < a.size(); i += 1000) ASSERT_EQ(a[i], 0u) << i;
}

// The soft TLB's tables over the 512 MiB unmapped window (2 MiB of them) stay out of memory until used.
TEST(ZeroedArray, TheSoftTlbsWindowTablesStartEmpty) {
  auto stlb = std::make_unique<runtime::SoftTlb>();
  EXPECT_EQ(ResidentPages(stlb->UnmappedRead()), 0u);
  EXPECT_EQ(ResidentPages(stlb->UnmappedWrite()), 0u);
  stlb->FlushAll();
  EXPECT_EQ(ResidentPages(stlb->UnmappedRead()), 0u) << "a flush wrote the whole table";
}

}  // namespace
}  // namespace strobe::test
