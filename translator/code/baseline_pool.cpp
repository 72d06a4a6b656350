// SPDX-License-Identifier: MIT
#include "translator/code/baseline_pool.h"

#include <cstdio>
#include <cstring>
#include <new>

namespace strobe::code {

BaselinePool::~BaselinePool() = default;  // the arena's mappings go with it

void BaselinePool::Ref::Reset() {
  if (piece_) pool_->Release(piece_);
  piece_ = nullptr;
}

const void* BaselinePool::Ref::get() const {
  return piece_ ? reinterpret_cast<const uint8_t*>(piece_) + kCodeOffset : nullptr;
}

size_t BaselinePool::Ref::size() const {
  return piece_ ? piece_->n : 0;
}

uint64_t BaselinePool::Hash(const BaselineKey& key) {
  uint64_t h = reinterpret_cast<uintptr_t>(key.ops) * 0x9E3779B97F4A7C15ull;
  h ^= (uint64_t{key.n} << 32 | key.page_offset) * 0xC2B2AE3D27D4EB4Full;
  h ^= key.paths * 0x165667B19E3779F9ull;
  return h ^ (h >> 29);
}

BaselinePool::Ref BaselinePool::Acquire(const BaselineKey& key) {
  const uint64_t hash = Hash(key);
  std::lock_guard<std::mutex> lock(mu_);
  Piece* p = FindLocked(key, hash);
  if (!p) return {};
  ++stats_.reused;
  return HoldLocked(p);
}

BaselinePool::Ref BaselinePool::HoldLocked(Piece* p) {
  ++p->refs;
  ++stats_.references;
  stats_.referenced_bytes += OwnCopyBytes(p->n);
  return {this, p};
}

void BaselinePool::NoteLocked(const void* code, size_t n, const char* name) const {
  if (perf_map_.empty()) return;
  if (std::FILE* f = std::fopen(perf_map_.c_str(), "a")) {
    std::fprintf(f, "%llx %zx strobe:%s\n",
                 static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(code)), n, name);
    std::fclose(f);
  }
}

BaselinePool::Ref BaselinePool::Keep(const BaselineKey& key, const void* code, size_t n, uint32_t paddr) {
  const uint64_t hash = Hash(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (Piece* held = FindLocked(key, hash)) {
    ++stats_.reused;
    return HoldLocked(held);
  }
  void* room = arena_.Alloc(kCodeOffset + n);
  if (!room) return {};
  auto* p = new (room) Piece{key, hash, nullptr, 0, static_cast<uint32_t>(n)};
  std::memcpy(static_cast<uint8_t*>(room) + kCodeOffset, code, n);
  if (!perf_map_.empty()) {
    char name[32];
    std::snprintf(name, sizeof name, "baseline_%08x", paddr);
    NoteLocked(static_cast<uint8_t*>(room) + kCodeOffset, n, name);
  }
  table_.Insert(p);
  ++stats_.pieces;
  return HoldLocked(p);
}

void BaselinePool::Release(Piece* p) {
  std::lock_guard<std::mutex> lock(mu_);
  --stats_.references;
  stats_.referenced_bytes -= OwnCopyBytes(p->n);
  if (--p->refs != 0) return;
  table_.Remove(p);
  --stats_.pieces;
  const size_t bytes = kCodeOffset + p->n;
  p->~Piece();
  arena_.Free(p, bytes);
}

bool BaselinePool::SharedPaths(const PathParams& params,
                               const std::function<size_t(std::vector<uint8_t>&)>& make, Paths* out) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < paths_.size() && paths_[i].params != params) ++i;
  if (i == paths_.size()) {
    std::vector<uint8_t> code;
    const size_t second = make(code);
    if (code.empty()) return false;
    void* room = arena_.Alloc(code.size());
    if (!room) return false;
    std::memcpy(room, code.data(), code.size());
    NoteLocked(room, code.size(), "baseline_go_on");
    const auto* entry = static_cast<const uint8_t*>(room);
    paths_.push_back({params, entry, second ? entry + second : nullptr});
  }
  *out = {i + 1, paths_[i].entry, paths_[i].second};
  return true;
}

BaselinePoolStats BaselinePool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  BaselinePoolStats s = stats_;
  s.bytes = arena_.bytes_in_use() + table_.bucket_bytes();
  return s;
}

}  // namespace strobe::code
