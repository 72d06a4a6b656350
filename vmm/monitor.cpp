// SPDX-License-Identifier: MIT
#include "vmm/monitor.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace strobe::vmm {

Monitor::Monitor(size_t max_bytes) {
  capacity_ = max_bytes >> 12;
  void* p = mmap(nullptr, capacity_ << 12, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    capacity_ = 0;
    return;
  }
  base_ = static_cast<uint8_t*>(p);
  refs_.assign(capacity_, 0);
}

Monitor::~Monitor() {
  if (base_) munmap(base_, capacity_ << 12);
}

uint8_t* Monitor::AllocPages(size_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count == 1 && free_.empty() && !released_.empty()) GiveBackLocked();
  if (count == 1 && !free_.empty()) {
    uint8_t* p = free_.back();
    free_.pop_back();
    refs_[FrameOf(p)] = 1;
    ++in_use_;
    return p;  // zeroed by Release
  }
  if (!base_ || capacity_ - bump_ < count) return nullptr;
  uint8_t* p = base_ + (bump_ << 12);
  for (size_t i = 0; i < count; ++i) refs_[bump_ + i] = 1;
  bump_ += count;
  in_use_ += count;
  return p;  // fresh anonymous memory reads as zero and is committed on first touch
}

void Monitor::Retain(uint8_t* page) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refs_[FrameOf(page)];
}

void Monitor::Release(uint8_t* page) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t& r = refs_[FrameOf(page)];
  if (r == 0 || --r != 0) return;
  released_.push_back(page);
  --in_use_;
  if (released_.size() >= kReleaseBatch) GiveBackLocked();
}

void Monitor::GiveBack() {
  std::lock_guard<std::mutex> lock(mu_);
  GiveBackLocked();
}

void Monitor::GiveBackLocked() const {
  std::sort(released_.begin(), released_.end());
  for (size_t i = 0; i < released_.size();) {
    size_t n = 1;
    while (i + n < released_.size() && released_[i + n] == released_[i] + (n << 12)) ++n;
    madvise(released_[i], n << 12, MADV_DONTNEED);  // the pages read as zero when reused
    i += n;
  }
  free_.insert(free_.end(), released_.begin(), released_.end());
  released_.clear();
}

void Monitor::Residency(std::vector<unsigned char>* resident) const {
  size_t used;
  {
    std::lock_guard<std::mutex> lock(mu_);
    GiveBackLocked();  // what was released shows as given back
    used = bump_;
  }
  resident->assign(used, 0);
  if (used && mincore(base_, used << 12, resident->data()) != 0) resident->assign(used, 1);
}

void Monitor::Backing(std::vector<unsigned char>* backed) const {
  size_t used;
  {
    std::lock_guard<std::mutex> lock(mu_);
    GiveBackLocked();
    used = bump_;
  }
  backed->assign(used, 1);
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::vector<uint64_t> entries(used);
  const off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(base_) / 4096 * sizeof(uint64_t));
  const size_t bytes = used * sizeof(uint64_t);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = pread(fd, reinterpret_cast<char*>(entries.data()) + done, bytes - done,
                            at + static_cast<off_t>(done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (done < bytes) return;
  constexpr uint64_t kPresent = uint64_t{1} << 63, kSwapped = uint64_t{1} << 62;
  for (size_t i = 0; i < used; ++i) (*backed)[i] = (entries[i] & (kPresent | kSwapped)) != 0;
}

unsigned Monitor::RefCount(const uint8_t* page) const {
  std::lock_guard<std::mutex> lock(mu_);
  return refs_[FrameOf(page)];
}

}  // namespace strobe::vmm
