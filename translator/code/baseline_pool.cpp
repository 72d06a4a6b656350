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
  return piece_ ? piece_->code : nullptr;
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

BaselinePool::Ref BaselinePool::Keep(const BaselineKey& key, const void* code, size_t n, uint32_t paddr,
                                     const std::vector<Call>& calls) {
  const uint64_t hash = Hash(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (Piece* held = FindLocked(key, hash)) {
    ++stats_.reused;
    return HoldLocked(held);
  }
  auto* at = static_cast<uint8_t*>(arena_.Alloc(n));
  if (!at) return {};
  auto* p = new (std::nothrow) Piece{key, hash, nullptr, 0, static_cast<uint32_t>(n), at};
  if (!p) {
    arena_.Free(at, n);
    return {};
  }
  std::memcpy(at, code, n);
  for (const Call& c : calls) {  // the arena is one range of at most 2 GiB: every displacement fits
    const auto disp = static_cast<int32_t>(static_cast<const uint8_t*>(c.target) - (at + c.at + 4));
    std::memcpy(at + c.at, &disp, sizeof disp);
  }
  if (!perf_map_.empty()) {
    char name[32];
    std::snprintf(name, sizeof name, "baseline_%08x", paddr);
    NoteLocked(at, n, name);
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
  arena_.Free(p->code, p->n);
  delete p;
}

bool BaselinePool::SharedPaths(const PathParams& params,
                               const std::function<size_t(std::vector<uint8_t>&)>& make, Paths* out) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < paths_.size() && paths_[i].params != params) ++i;
  if (i == paths_.size()) {
    std::vector<uint8_t> code;
    const size_t second = make(code);
    const uint8_t* entry = PlaceLocked(code, "baseline_go_on");
    if (!entry) return false;
    paths_.push_back({params, entry, second ? entry + second : nullptr});
  }
  *out = {i + 1, paths_[i].entry, paths_[i].second};
  return true;
}

const uint8_t* BaselinePool::SharedStubs(const std::function<void(std::vector<uint8_t>&)>& make) {
  std::lock_guard<std::mutex> lock(mu_);
  if (const uint8_t* made = stubs_.load(std::memory_order_relaxed); made || !arena_.base()) return made;
  std::vector<uint8_t> code;
  make(code);
  const uint8_t* made = PlaceLocked(code, "baseline_memory");
  if (made) stubs_.store(made, std::memory_order_release);
  return made;
}

const uint8_t* BaselinePool::PlaceLocked(const std::vector<uint8_t>& code, const char* name) {
  if (code.empty()) return nullptr;
  void* room = arena_.Alloc(code.size());
  if (!room) return nullptr;
  std::memcpy(room, code.data(), code.size());
  NoteLocked(room, code.size(), name);
  return static_cast<const uint8_t*>(room);
}

size_t BaselinePool::HeaderBytes() {
  return sizeof(Piece);
}

BaselinePoolStats BaselinePool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  BaselinePoolStats s = stats_;
  s.bytes = arena_.bytes_in_use() + table_.bucket_bytes() + s.pieces * sizeof(Piece);
  return s;
}

}  // namespace strobe::code
