// SPDX-License-Identifier: MIT
// The monitor owns machine memory: one pool of 4 KiB machine pages that every VM's pmap points into.
// Pages carry reference counts so that VMs can share identical pages copy-on-write (see pmap.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace strobe::vmm {

class Monitor {
 public:
  // max_bytes bounds the machine memory all VMs together may use (address space is reserved, not committed).
  explicit Monitor(size_t max_bytes = size_t{4} << 30);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Allocates count zeroed, contiguous machine pages, or nullptr when the pool is exhausted.
  uint8_t* AllocPages(size_t count);
  // Drops one reference to a page; the page returns to the pool when none are left. Its memory goes back
  // to the host in batches (GiveBack), at the latest before the pool hands it out again.
  void Release(uint8_t* page);
  // Gives the memory of every page released since the last batch back to the host now.
  void GiveBack();
  void Retain(uint8_t* page);
  unsigned RefCount(const uint8_t* page) const;

  size_t pages_in_use() const { return in_use_; }
  // Which machine pages the host has memory behind (mincore over the pool's used part): resident[frame]
  // is nonzero for a resident page. Pages never touched (or given back) take no host memory.
  void Residency(std::vector<unsigned char>* resident) const;
  // Which machine pages have memory behind them at all, in RAM or in swap (/proc/self/pagemap): backed
  // [frame] is zero only for a page that was never written since the pool handed it out (or since it was
  // given back), which reads as zeros. Where the pagemap cannot be read, every page counts as backed.
  void Backing(std::vector<unsigned char>* backed) const;
  size_t FrameIndex(const uint8_t* page) const { return FrameOf(page); }
  size_t capacity_pages() const { return capacity_; }

 private:
  size_t FrameOf(const uint8_t* page) const { return static_cast<size_t>(page - base_) >> 12; }

  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;  // pages
  size_t bump_ = 0;      // first never-used page
  size_t in_use_ = 0;
  std::vector<uint32_t> refs_;
  // Both lists change in const queries too (Residency, Backing give back what was released first).
  mutable std::vector<uint8_t*> free_;
  // Pages without references whose memory the host still holds. Each madvise of a process with threads on
  // other CPUs shoots down their TLBs (an interrupt on each), and the page sharer releases pages by the
  // thousand: they are given back together, one madvise per run of adjacent pages.
  mutable std::vector<uint8_t*> released_;
  static constexpr size_t kReleaseBatch = 64;
  void GiveBackLocked() const;
  mutable std::mutex mu_;
};

}  // namespace strobe::vmm
