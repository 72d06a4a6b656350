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

bool Pmap::ShareWith(uint32_t paddr, Pmap& other, uint32_t other_paddr) {
  const uint32_t q = other_paddr >> runtime::kPageBits;
  if (&monitor_ != &other.monitor_ || q >= other.pages_.size()) return false;
  Entry& theirs = other.pages_[q];
  if (!theirs.machine) return false;
  uint8_t* machine = theirs.machine;
  if (!ShareMachinePage(paddr, machine)) return false;
  other.MarkShared(other_paddr);  // theirs is shared now too
  return true;
}

void Pmap::MarkShared(uint32_t paddr) {
  const uint32_t p = paddr >> runtime::kPageBits;
  if (p >= pages_.size() || !pages_[p].machine) return;
  pages_[p].shared = true;
  if (stlb_) stlb_->RevokeWrites(paddr & runtime::kPageMask);
}

bool Pmap::ShareMachinePage(uint32_t paddr, uint8_t* machine) {
  const uint32_t p = paddr >> runtime::kPageBits;
  if (p >= pages_.size() || !machine) return false;
  Entry& mine = pages_[p];
  if (mine.machine == machine) return false;
  monitor_.Retain(machine);
  if (mine.machine) monitor_.Release(mine.machine);
  mine.machine = machine;
  mine.shared = true;
  // This VM may keep neither a fast write path nor the old page's host address.
  if (stlb_) stlb_->FlushPhys(paddr & runtime::kPageMask);
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
