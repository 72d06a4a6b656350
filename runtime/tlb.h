// SPDX-License-Identifier: MIT
// The guest's architectural TLB (MIPS32 Vol. III, chapter 4): dual entries with PageMask, G/V/D and ASID.
// All architectural translation rules live here and in tlb.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace strobe::runtime {

struct TlbEntry {
  uint32_t pagemask = 0;  // as in CP0 PageMask: bits 28:13
  uint32_t entryhi = 0;   // VPN2 (31:13) and ASID (7:0)
  uint32_t entrylo[2] = {0, 0};
  bool global = false;
};

// The fields of one EntryLo (MIPS32 Vol. III, 9.6): PFN (bits 25:6) as the physical address of a 4 KiB
// frame, C (5:3), D (2), V (1), G (0).
struct EntryLoFields {
  uint32_t frame_pa = 0;
  unsigned cache = 0;  // C: the cacheability attribute
  bool dirty = false;  // D: stores allowed
  bool valid = false;  // V
  bool global = false;
};
inline EntryLoFields DecodeEntryLo(uint32_t lo) {
  return {((lo >> 6) & 0xFFFFFu) << 12, (lo >> 3) & 7u, (lo & 4) != 0, (lo & 2) != 0, (lo & 1) != 0};
}
// Whether either half of the entry is valid (it can translate something).
inline bool AnyHalfValid(const TlbEntry& e) {
  return DecodeEntryLo(e.entrylo[0]).valid || DecodeEntryLo(e.entrylo[1]).valid;
}
// The size of the page each half maps, by PageMask (4 KiB .. 256 MiB).
inline uint32_t HalfPageSize(const TlbEntry& e) {
  return ((e.pagemask >> 1) | 0xFFFu) + 1;
}

// What an entry maps va to: the half (EntryLo0 or 1) that covers va by the entry's page size, its V and D
// bits, and va's physical address through it (meaningful when valid).
struct TlbMapping {
  bool valid = false;
  bool dirty = false;  // D: stores allowed
  uint32_t paddr = 0;
};
inline TlbMapping MapThrough(const TlbEntry& e, uint32_t va) {
  const uint32_t page_size = HalfPageSize(e);
  const EntryLoFields lo = DecodeEntryLo(e.entrylo[(va & page_size) ? 1 : 0]);
  return {lo.valid, lo.dirty, (lo.frame_pa & ~(page_size - 1)) | (va & (page_size - 1))};
}

class GuestTlb {
 public:
  static constexpr unsigned kMaxEntries = 64;  // Config1.MMUSize: 6 bits

  // 1..kMaxEntries entries (other counts are clamped: the command line rejects them).
  explicit GuestTlb(unsigned entries) : entries_(std::clamp(entries, 1u, kMaxEntries)) {
    for (unsigned i = 0; i < size(); ++i) SetOf(entries_[i]) |= uint64_t{1} << i;
  }
  unsigned size() const { return static_cast<unsigned>(entries_.size()); }
  const TlbEntry& at(unsigned i) const { return entries_[i]; }
  // Every write goes through here, so the lookup index stays right.
  void Set(unsigned i, const TlbEntry& e);

  // Index of the entry mapping va for asid, or -1; the lowest index when several match (UNPREDICTABLE in
  // the architecture: every engine sees the same choice).
  int Find(uint32_t va, uint8_t asid) const;

  // Virtual range [begin, end) covered by entry i (both halves), for soft TLB invalidation.
  static void Range(const TlbEntry& e, uint32_t* begin, uint32_t* end);

 private:
  // The lookup index: entries with 4 KiB pages (PageMask 0) sit in a bucket chosen by their VPN2, as one bit
  // each of a 64-bit set; entries with bigger pages are candidates for every address. A lookup checks only
  // its bucket's entries and the big ones, in index order, instead of all 64.
  static constexpr unsigned kBuckets = 256;
  static unsigned BucketOf(uint32_t va) { return ((va >> 13) ^ (va >> 21)) & (kBuckets - 1); }
  uint64_t& SetOf(const TlbEntry& e) { return e.pagemask ? big_ : buckets_[BucketOf(e.entryhi)]; }

  std::vector<TlbEntry> entries_;
  uint64_t buckets_[kBuckets] = {};
  uint64_t big_ = 0;
};

}  // namespace strobe::runtime
