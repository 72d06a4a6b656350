// SPDX-License-Identifier: MIT
#include "translator/code/exec_memory.h"

#include <sys/mman.h>

namespace strobe::code {

PieceArena::PieceArena(size_t granule, bool executable, size_t reserve)
    : granule_(granule), prot_(PROT_READ | PROT_WRITE | (executable ? PROT_EXEC : 0)), reserve_(reserve) {
  if (reserve_ == 0) return;
  // Address space only: no access, no memory, no swap until a chunk of it is made accessible.
  void* r = mmap(nullptr, reserve_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r != MAP_FAILED) base_ = static_cast<uint8_t*>(r);
}

PieceArena::~PieceArena() {
  if (reserve_) {
    if (base_) munmap(base_, reserve_);
    return;
  }
  for (void* c : chunks_) munmap(c, kChunk);
}

void* PieceArena::NewChunk() {
  if (!reserve_) {
    void* c = mmap(nullptr, kChunk, prot_, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return c == MAP_FAILED ? nullptr : c;
  }
  if (!base_ || reserve_ - reserved_used_ < kChunk) return nullptr;
  uint8_t* c = base_ + reserved_used_;
  if (mprotect(c, kChunk, prot_) != 0) return nullptr;
  reserved_used_ += kChunk;
  return c;
}

void* PieceArena::Alloc(size_t n) {
  const size_t granules = (n + granule_ - 1) / granule_;
  const size_t bytes = granules * granule_;
  if (bytes > kChunk || bytes == 0) return nullptr;
  if (granules < free_.size() && !free_[granules].empty()) {
    void* p = free_[granules].back();
    free_[granules].pop_back();
    in_use_ += bytes;
    return p;
  }
  if (static_cast<size_t>(end_ - next_) < bytes) {
    void* c = NewChunk();
    if (!c) return nullptr;
    chunks_.push_back(c);
    // What is left of the old chunk serves later requests of its size.
    if (const size_t rest = static_cast<size_t>(end_ - next_) / granule_; rest > 0) {
      if (free_.size() <= rest) free_.resize(rest + 1);
      free_[rest].push_back(next_);
    }
    next_ = static_cast<uint8_t*>(c);
    end_ = next_ + kChunk;
  }
  void* p = next_;
  next_ += bytes;
  in_use_ += bytes;
  return p;
}

void PieceArena::Free(void* p, size_t n) {
  const size_t granules = (n + granule_ - 1) / granule_;
  if (free_.size() <= granules) free_.resize(granules + 1);
  free_[granules].push_back(p);
  in_use_ -= granules * granule_;
}

}  // namespace strobe::code
