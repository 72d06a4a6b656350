// SPDX-License-Identifier: MIT
#include "vmm/disk_pages.h"

#include <cstring>

namespace strobe::vmm {

namespace {
constexpr size_t kPage = 4096;
// How many of the oldest entries one eviction looks at: those still mapped by a VM move to the front, so
// later evictions look at others, and a miss never scans the whole cache.
constexpr size_t kEvictScan = 64;
}  // namespace

DiskPageCache::DiskPageCache(Monitor& monitor, size_t max_pages)
    : monitor_(monitor), max_pages_(max_pages ? max_pages : 1) {}

DiskPageCache::~DiskPageCache() {
  for (auto& [origin, entry] : entries_) monitor_.Release(entry.page);
}

void DiskPageCache::EvictUnmapped(size_t target) {
  for (size_t scanned = 0; entries_.size() > target && scanned < kEvictScan && !lru_.empty(); ++scanned) {
    const block::BlockOrigin oldest = lru_.back();
    auto it = entries_.find(oldest);
    if (monitor_.RefCount(it->second.page) > 1) {  // a VM maps it: keep it, look at it again later
      lru_.splice(lru_.begin(), lru_, it->second.age);
      continue;
    }
    monitor_.Release(it->second.page);
    lru_.pop_back();
    entries_.erase(it);
    ++stats_.evictions;
  }
}

uint8_t* DiskPageCache::Acquire(const block::BlockOrigin& origin, const uint8_t* data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(origin);
  if (it != entries_.end()) {
    Entry& e = it->second;
    lru_.splice(lru_.begin(), lru_, e.age);
    if (std::memcmp(e.page, data, kPage) == 0) {
      ++stats_.hits;
      monitor_.Retain(e.page);
      return e.page;
    }
    // The file changed behind its lock, or the entry is from before a write the origin did not see: the
    // new bytes replace it (VMs that map the old page keep it).
    ++stats_.mismatches;
    monitor_.Release(e.page);
    lru_.erase(e.age);
    entries_.erase(it);
  }
  if (entries_.size() >= max_pages_) EvictUnmapped(max_pages_ - max_pages_ / 8 - 1);
  if (entries_.size() >= max_pages_) {
    ++stats_.refused;
    return nullptr;
  }
  uint8_t* page = monitor_.AllocPages(1);
  if (!page) {
    ++stats_.refused;
    return nullptr;
  }
  std::memcpy(page, data, kPage);
  lru_.push_front(origin);
  entries_.emplace(origin, Entry{page, lru_.begin()});
  ++stats_.inserts;
  monitor_.Retain(page);  // the caller's
  return page;
}

DiskPageStats DiskPageCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  DiskPageStats s = stats_;
  s.pages = entries_.size();
  return s;
}

}  // namespace strobe::vmm
