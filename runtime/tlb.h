// SPDX-License-Identifier: MIT
// The guest's architectural TLB (MIPS32 Vol. III, chapter 4): dual entries with PageMask, G/V/D and ASID.
// All architectural translation rules live here and in tlb.cpp.
#pragma once

#include <cstdint>
#include <vector>

namespace strobe::runtime {

struct TlbEntry {
  uint32_t pagemask = 0;  // as in CP0 PageMask: bits 28:13
  uint32_t entryhi = 0;   // VPN2 (31:13) and ASID (7:0)
  uint32_t entrylo[2] = {0, 0};
  bool global = false;
};

class GuestTlb {
 public:
  explicit GuestTlb(unsigned entries) : entries_(entries) {}
  unsigned size() const { return static_cast<unsigned>(entries_.size()); }
  TlbEntry& at(unsigned i) { return entries_[i]; }
  const TlbEntry& at(unsigned i) const { return entries_[i]; }

  // Index of the entry mapping va for asid, or -1.
  int Find(uint32_t va, uint8_t asid) const;

  // Virtual range [begin, end) covered by entry i (both halves), for soft TLB invalidation.
  static void Range(const TlbEntry& e, uint32_t* begin, uint32_t* end);

 private:
  std::vector<TlbEntry> entries_;
};

}  // namespace strobe::runtime
