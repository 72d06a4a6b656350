// SPDX-License-Identifier: MIT
#include "vmm/pmap.h"

#include <cstring>

namespace strobe::vmm {

Pmap::Pmap(Monitor& monitor, uint32_t ram_bytes) : monitor_(monitor), ram_bytes_(ram_bytes) {
  size_t count = ram_bytes >> runtime::kPageBits;
  uint8_t* base = monitor_.AllocPages(count);
  if (!base) return;
  pages_.resize(count);
  for (size_t i = 0; i < count; ++i) pages_[i].machine = base + (i << runtime::kPageBits);
  ok_ = true;
}

Pmap::~Pmap() {
  for (Entry& e : pages_)
    if (e.machine) monitor_.Release(e.machine);
}

uint8_t* Pmap::PageForWrite(uint32_t paddr) {
  uint32_t p = paddr >> runtime::kPageBits;
  if (p >= pages_.size()) return nullptr;
  Entry& e = pages_[p];
  if (!e.shared) return e.machine;
  if (monitor_.RefCount(e.machine) > 1) {
    uint8_t* copy = monitor_.AllocPages(1);
    if (!copy) return nullptr;
    std::memcpy(copy, e.machine, runtime::kPageSize);
    monitor_.Release(e.machine);
    e.machine = copy;
  }
  e.shared = false;
  if (stlb_) stlb_->FlushPhys(paddr & runtime::kPageMask);
  return e.machine;
}

bool Pmap::ShareWith(Pmap& other, uint32_t paddr) {
  uint32_t p = paddr >> runtime::kPageBits;
  if (&monitor_ != &other.monitor_ || p >= pages_.size() || p >= other.pages_.size()) return false;
  Entry& mine = pages_[p];
  Entry& theirs = other.pages_[p];
  if (mine.machine == theirs.machine) return false;
  monitor_.Retain(theirs.machine);
  monitor_.Release(mine.machine);
  mine.machine = theirs.machine;
  mine.shared = theirs.shared = true;
  // Neither VM may keep a fast write path (or a stale host address) to the page.
  if (stlb_) stlb_->FlushPhys(paddr & runtime::kPageMask);
  if (other.stlb_) other.stlb_->RevokeWrites(paddr & runtime::kPageMask);
  return true;
}

size_t MergeIdenticalPages(Pmap& a, Pmap& b) {
  size_t saved = 0;
  uint32_t limit = a.ram_bytes() < b.ram_bytes() ? a.ram_bytes() : b.ram_bytes();
  for (uint32_t pa = 0; pa < limit; pa += runtime::kPageSize) {
    runtime::RamPage x = a.Lookup(pa), y = b.Lookup(pa);
    if (x.host == y.host || std::memcmp(x.host, y.host, runtime::kPageSize) != 0) continue;
    if (a.ShareWith(b, pa)) ++saved;
  }
  return saved;
}

size_t Pmap::mapped_pages() const {
  size_t n = 0;
  for (const Entry& e : pages_) n += e.machine != nullptr;
  return n;
}

size_t Pmap::shared_pages() const {
  size_t n = 0;
  for (const Entry& e : pages_) n += e.machine != nullptr && e.shared;
  return n;
}

}  // namespace strobe::vmm
