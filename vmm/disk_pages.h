// SPDX-License-Identifier: MIT
// Disk sharing between VMs, as Disco intercepts DMA: when a VM reads a 4 KiB block of a disk that nobody
// can write (a read-only image, or the untouched part of a -snapshot disk's base image) into a whole,
// aligned guest page, the page is mapped onto one machine page that holds that block for every VM of the
// monitor, copy-on-write, instead of receiving a copy. N VMs booting from the same base image then keep
// one copy of what they read from it (GuestMemory::WriteFromDisk does the mapping).
//
// The cache keys machine pages by the block's origin (the file's device, inode and offset) and still
// compares the bytes before it hands a page out, so a stale entry can only cost a copy, never show a VM
// wrong data. It holds one reference to each of its pages; entries that only it still references are
// dropped when it is full (least recently used first among those), so it never holds more than its bound
// of pages no VM maps. Thread-safe: the VMs' vCPU threads call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>

#include "vmm/block/backend.h"
#include "vmm/monitor.h"

namespace strobe::vmm {

struct DiskPageStats {
  uint64_t hits = 0;        // blocks a VM got as the shared page another read had already brought in
  uint64_t inserts = 0;     // blocks that became shared pages (the first read of each)
  uint64_t mismatches = 0;  // entries whose bytes differed from a new read of the same origin (replaced)
  uint64_t evictions = 0;   // entries dropped because the cache was full
  uint64_t refused = 0;     // reads that got a plain copy: the cache was full of pages VMs still map
  size_t pages = 0;         // entries now
};

class DiskPageCache {
 public:
  // max_pages bounds the entries (a machine page each).
  DiskPageCache(Monitor& monitor, size_t max_pages);
  ~DiskPageCache();
  DiskPageCache(const DiskPageCache&) = delete;
  DiskPageCache& operator=(const DiskPageCache&) = delete;

  // A machine page whose 4 KiB equal `data`, the block at `origin`: the cached one when its bytes match,
  // otherwise a new page filled with data that the cache keeps. The caller gets a reference of its own and
  // must Release it (Monitor). nullptr when the pool is exhausted or the cache is full of mapped pages: the
  // caller then copies as usual.
  uint8_t* Acquire(const block::BlockOrigin& origin, const uint8_t* data);

  DiskPageStats stats() const;
  Monitor& monitor() { return monitor_; }

 private:
  struct KeyHash {
    size_t operator()(const block::BlockOrigin& o) const {
      return static_cast<size_t>((o.offset >> 12) * 0x9E3779B97F4A7C15ull ^ o.inode * 0xC2B2AE3D27D4EB4Full ^
                                 o.device);
    }
  };
  struct Entry {
    uint8_t* page;
    std::list<block::BlockOrigin>::iterator age;  // position in lru_ (front: most recently used)
  };
  // Drops entries only the cache references, oldest first, until at most `target` remain or none is left
  // to drop. Holding mu_.
  void EvictUnmapped(size_t target);

  Monitor& monitor_;
  const size_t max_pages_;
  mutable std::mutex mu_;
  std::unordered_map<block::BlockOrigin, Entry, KeyHash> entries_;
  std::list<block::BlockOrigin> lru_;
  DiskPageStats stats_;
};

}  // namespace strobe::vmm
