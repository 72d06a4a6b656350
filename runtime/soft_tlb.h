// SPDX-License-Identifier: MIT
// The virtual-to-machine soft TLB: a direct-mapped host-side cache that turns a guest virtual address into a
// host pointer in a handful of host instructions. One table per privilege mode. Tags carry the ASID in their
// upper half, so an ASID change (a guest context switch) needs no flush: entries of other address spaces
// simply stop matching until the guest switches back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "runtime/cpu_state.h"
#include "runtime/segments.h"
#include "runtime/zeroed_array.h"

namespace strobe::runtime {

inline constexpr uint32_t kPageBits = 12;
inline constexpr uint32_t kPageSize = 1u << kPageBits;
inline constexpr uint32_t kPageMask = ~(kPageSize - 1);
inline constexpr uint64_t kInvalidTag = ~0ull;  // never equal to a key: keys have ASID < 256 in bits 32-39

struct SoftTlbEntry {
  uint64_t read = kInvalidTag;   // (asid << 32) | virtual page, when reads may take the fast path
  uint64_t write = kInvalidTag;  // likewise for writes: left invalid for code, copy-on-write and clean pages
  uint64_t fetch = kInvalidTag;  // likewise for instruction fetch
  uintptr_t addend = 0;          // host address = guest virtual address + addend
};
// 32 bytes, so translated code indexes the table with a shift and a mask. The guest-physical page of each
// entry (for fetches and reverse invalidation) sits in a parallel array (SoftTlb::PaddrOf).
static_assert(sizeof(SoftTlbEntry) == 32);

enum class Access : uint8_t { kRead, kWrite, kFetch };

class SoftTlb {
 public:
  static constexpr uint32_t kBits = 12;
  static constexpr uint32_t kEntries = 1u << kBits;

  // Cached jumps between translated regions (code::ChainSite, code::JumpEntry) are checked by invalidation
  // first, as QEMU's jump cache is, and by a probe only when that fails: each table carries two chain keys
  // just before its entries, and a cached jump records the key under which it was last found valid
  // (ChainKey). The mapped key moves whenever an entry of the table drops a fetch tag for a mapped address (a
  // TLB write, a conflict, another ASID's fill, a changed pmap), so while it stands every target checked
  // under it is still mapped to the same page; with the ASID or'ed in, it also names the address space. The
  // unmapped key (kseg0/kseg1 targets, which need only the mode) moves with neither. Both move when installed
  // code is retired (RetireChains) and on FlushAll. Keys come from one counter, so no two tables or versions
  // share one, and none is 0 (an unused cache's key).
  static constexpr int kChainMappedAt = -32;    // byte offsets of the keys from a table's first entry
  static constexpr int kChainUnmappedAt = -24;  // (translated code reads them through CpuState::stlb)
  static uint64_t ChainKey(const SoftTlbEntry* table, uint64_t asid_key, uint32_t target) {
    const auto* keys =
        reinterpret_cast<const uint64_t*>(reinterpret_cast<const uint8_t*>(table) + kChainMappedAt);
    return InUnmappedSegment(target) ? keys[1] : keys[0] | asid_key;
  }
  // Retires every cached jump (installed code changed).
  void RetireChains() {
    for (TableStore* t : {&kstore_, &ustore_}) {
      t->chain_mapped = NextChainKey();
      t->chain_unmapped = NextChainKey();
    }
  }
  // Empties an entry of either table (the runtime's fills replace an entry of another page this way).
  void Drop(SoftTlbEntry& e) {
    DroppingFetch(e);
    e = SoftTlbEntry{};
  }
  uint64_t chain_key_moves() const { return chain_moves_; }  // --stats

  SoftTlb(const SoftTlb&) = delete;
  SoftTlb& operator=(const SoftTlb&) = delete;

  // kseg0/kseg1 are fixed windows onto guest-physical 0-512 MiB: for them a table indexed by physical
  // page (the inline pmap path) holds the host page, so kernel accesses there need no tag compare and
  // never miss for conflicts. Filled by the slow paths like the soft TLB; a write entry is left empty for
  // code, copy-on-write and I/O pages.
  static constexpr uint32_t kUnmappedBytes = kUnmappedWindow;
  static constexpr uint32_t kUnmappedPages = kUnmappedBytes >> kPageBits;

  SoftTlb() : unmapped_read_(kUnmappedPages), unmapped_write_(kUnmappedPages) { FlushAll(); }

  SoftTlbEntry* Table(bool user) { return user ? user_ : kernel_; }
  // The parallel array of a table's guest-physical pages (PaddrOf), indexed as the table is.
  const uint32_t* PaddrTable(bool user) const { return user ? user_paddr_ : kernel_paddr_; }
  // The guest-physical page an entry of either table translates to (valid while one of its tags is).
  uint32_t& PaddrOf(const SoftTlbEntry& e) {
    const bool user = &e >= user_ && &e < user_ + kEntries;
    return (user ? user_paddr_ : kernel_paddr_)[&e - (user ? user_ : kernel_)];
  }
  const uintptr_t* UnmappedRead() const { return unmapped_read_.data(); }
  const uintptr_t* UnmappedWrite() const { return unmapped_write_.data(); }

  // After a load (keeps a write entry for the same page) or a store (`writable`: later stores may bypass
  // the slow path).
  void FillUnmapped(uint32_t paddr_page, uint8_t* host_page, bool store, bool writable) {
    if (paddr_page >= kUnmappedBytes) return;
    const uint32_t i = paddr_page >> kPageBits;
    const auto host = reinterpret_cast<uintptr_t>(host_page);
    unmapped_read_[i] = host;
    if (store) {
      unmapped_write_[i] = writable ? host : 0;
    } else if (unmapped_write_[i] != host) {
      unmapped_write_[i] = 0;
    }
  }

  static uint32_t IndexOf(uint32_t va) { return (va >> kPageBits) & (kEntries - 1); }

  // The last page whose stores take the slow path only because it also holds decoded code ("data beside
  // code"): a private RAM page, so a store that misses the code granules may be written straight to `host`
  // (StoreSlow). Every flush and revocation below forgets it.
  struct BesideCode {
    uint64_t key = kInvalidTag;  // as a tag: ASID key | virtual page
    const SoftTlbEntry* table = nullptr;
    uint8_t* host = nullptr;
    uint32_t paddr = 0;
  };
  BesideCode beside_code;

  void FlushAll() {
    beside_code = {};
    RetireChains();
    for (auto* t : {kernel_, user_})
      for (uint32_t i = 0; i < kEntries; ++i) t[i] = SoftTlbEntry{};
    unmapped_read_.Clear();
    unmapped_write_.Clear();
  }

  // Drop every entry that caches a translation for virtual pages [va_begin, va_end), any ASID.
  void FlushRange(uint32_t va_begin, uint32_t va_end) {
    beside_code = {};
    uint32_t first = va_begin >> kPageBits;
    uint32_t pages = ((va_end - 1) >> kPageBits) - first + 1;
    if (pages >= kEntries) return FlushAll();
    for (uint32_t i = 0; i < pages; ++i) {
      uint32_t va = (first + i) << kPageBits;
      for (auto* t : {kernel_, user_}) {
        SoftTlbEntry& e = t[IndexOf(va)];
        if (static_cast<uint32_t>(e.read) == va || static_cast<uint32_t>(e.write) == va ||
            static_cast<uint32_t>(e.fetch) == va)
          Drop(e);
      }
    }
  }

  // Drop every translation to one guest-physical page (its machine page changed: copy-on-write broken).
  void FlushPhys(uint32_t paddr_page) {
    beside_code = {};
    if (paddr_page < kUnmappedBytes)
      unmapped_read_[paddr_page >> kPageBits] = unmapped_write_[paddr_page >> kPageBits] = 0;
    for (auto [t, pa] : {std::pair{kernel_, kernel_paddr_}, std::pair{user_, user_paddr_}}) {
      if (!AnyEqual(pa, paddr_page)) continue;
      for (uint32_t i = 0; i < kEntries; ++i)
        if (pa[i] == paddr_page) Drop(t[i]);
    }
  }

  // Revoke fast writes to one guest-physical page (it now holds decoded code, or became shared).
  void RevokeWrites(uint32_t paddr_page) {
    beside_code = {};
    if (paddr_page < kUnmappedBytes) unmapped_write_[paddr_page >> kPageBits] = 0;
    for (auto [t, pa] : {std::pair{kernel_, kernel_paddr_}, std::pair{user_, user_paddr_}}) {
      if (!AnyEqual(pa, paddr_page)) continue;
      for (uint32_t i = 0; i < kEntries; ++i)
        if (pa[i] == paddr_page && t[i].write != kInvalidTag) t[i].write = kInvalidTag;
    }
  }

 private:
  struct TableStore {
    uint64_t chain_mapped = 0;
    uint64_t chain_unmapped = 0;
    uint64_t pad[2] = {};
    SoftTlbEntry e[kEntries];
  };
  static_assert(offsetof(TableStore, e) + kChainMappedAt == offsetof(TableStore, chain_mapped) &&
                offsetof(TableStore, e) + kChainUnmappedAt == offsetof(TableStore, chain_unmapped));
  // A fresh key: the counter's bits around the ASID's (bits 32-39 of a key), so that keys stay unique for
  // 2^56 moves.
  uint64_t NextChainKey() {
    ++chain_moves_;
    return (chain_moves_ & 0xFFFFFFFFu) | (chain_moves_ >> 32 << 40);
  }
  // An entry is about to lose its tags: if it had a fetch tag for a mapped address, the jumps resolved
  // under its table's mapped key may lead through it.
  void DroppingFetch(const SoftTlbEntry& e) {
    if (e.fetch == kInvalidTag || InUnmappedSegment(static_cast<uint32_t>(e.fetch))) return;
    TableStore& t = &e >= ustore_.e && &e < ustore_.e + kEntries ? ustore_ : kstore_;
    t.chain_mapped = NextChainKey();
  }

  // Whether a table's parallel array names the page (for an entry in use or one dropped since: either
  // way the scan above is then made). Most pages asked about are in no entry (the page sharer merges
  // thousands of pages a second with several VMs), and this loop, without a branch per entry, is
  // vectorised: in a four-VM boot the per-entry scan alone had taken 2% of all CPU.
  static bool AnyEqual(const uint32_t* pa, uint32_t paddr_page) {
    uint32_t hits = 0;
    for (uint32_t i = 0; i < kEntries; ++i) hits |= pa[i] == paddr_page ? 1u : 0u;
    return hits != 0;
  }

  TableStore kstore_, ustore_;
  SoftTlbEntry* const kernel_ = kstore_.e;
  SoftTlbEntry* const user_ = ustore_.e;
  uint64_t chain_moves_ = 0;
  uint32_t kernel_paddr_[kEntries] = {};
  uint32_t user_paddr_[kEntries] = {};
  // By guest-physical page of the window (512 MiB, 1 MiB each); a VM touches the part its RAM and devices
  // are in, and only that part costs memory.
  ZeroedArray<uintptr_t> unmapped_read_, unmapped_write_;
};

// The key a probe compares against a tag. Folding the low address bits in makes a misaligned access miss
// (and take the slow path, which raises the address error) at no extra cost.
template <unsigned kSize>
inline uint64_t ProbeKey(const CpuState& c, uint32_t va) {
  return c.asid_key | (va & (kPageMask | (kSize - 1)));
}

}  // namespace strobe::runtime
