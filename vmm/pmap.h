// SPDX-License-Identifier: MIT
// The pmap: guest-physical RAM page -> machine page, per VM. Every guest-physical RAM access goes through
// it, so two VMs can point at one machine page (shared, copy-on-write) without any other layer knowing.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/bus.h"
#include "runtime/soft_tlb.h"
#include "vmm/monitor.h"

namespace strobe::vmm {

class Pmap {
 public:
  // Backs [0, ram_bytes) with machine pages from the monitor's pool. Check ok() afterwards.
  Pmap(Monitor& monitor, uint32_t ram_bytes);
  ~Pmap();
  Pmap(const Pmap&) = delete;
  Pmap& operator=(const Pmap&) = delete;

  bool ok() const { return ok_; }
  uint32_t ram_bytes() const { return ram_bytes_; }

  runtime::RamPage Lookup(uint32_t paddr) const {
    uint32_t p = paddr >> runtime::kPageBits;
    if (p >= pages_.size()) return {};
    return {pages_[p].machine, pages_[p].shared};
  }
  // The page this VM may write: a shared page is copied first (and the soft TLB told).
  uint8_t* PageForWrite(uint32_t paddr);

  // Makes this VM's page at paddr share other's machine page copy-on-write (their contents must be equal
  // for the guest not to notice; MergeIdenticalPages checks that). Returns true if a page was freed.
  bool ShareWith(Pmap& other, uint32_t paddr) { return ShareWith(paddr, other, paddr); }
  // The same between any two pages: this VM's page at paddr takes other's page at other_paddr (other may
  // be this pmap). Neither VM may be running meanwhile (vmm/page_sharing.h parks them).
  bool ShareWith(uint32_t paddr, Pmap& other, uint32_t other_paddr);
  // This VM's page at paddr takes `machine`, a page of the monitor with the same contents that the caller
  // holds a reference to (the page sharer's zero page), copy-on-write. True if a page was freed.
  bool ShareMachinePage(uint32_t paddr, uint8_t* machine);

  // Marks the page at paddr shared (its machine page has another reference now): no fast write path to it
  // remains, and the next store copies it.
  void MarkShared(uint32_t paddr);

  // Guest-physical pages backed by a machine page, and how many of those are shared (info memory).
  size_t mapped_pages() const;
  size_t shared_pages() const;

  // The soft TLB that caches this VM's translations, told when a page's machine address or sharing changes.
  void set_soft_tlb(runtime::SoftTlb* stlb) { stlb_ = stlb; }

 private:
  struct Entry {
    uint8_t* machine = nullptr;
    bool shared = false;
  };
  Monitor& monitor_;
  uint32_t ram_bytes_;
  bool ok_ = false;
  std::vector<Entry> pages_;
  runtime::SoftTlb* stlb_ = nullptr;
};

// Shares every guest-physical page whose contents are identical in both VMs. Returns the pages saved.
size_t MergeIdenticalPages(Pmap& a, Pmap& b);

}  // namespace strobe::vmm
