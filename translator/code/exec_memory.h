// SPDX-License-Identifier: MIT
// Executable memory for code the interpreter's baseline emitter writes (interp/baseline.h): one arena per
// code cache, handing out pieces in 64-byte granules from 1 MiB mappings and taking them back when the
// block that owns them is freed. LLVM's tiers have their own memory (jit/compiler.cpp); this is for small
// pieces that come and go with decoded blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strobe::code {

class ExecArena {
 public:
  ExecArena() = default;
  ExecArena(const ExecArena&) = delete;
  ExecArena& operator=(const ExecArena&) = delete;
  ~ExecArena();

  // Room for n bytes of code (readable, writable and executable), or null when the host has no memory.
  void* Alloc(size_t n);
  void Free(void* p, size_t n);
  size_t bytes_in_use() const { return in_use_; }
  // Code every piece may jump to (the baseline emitter's shared paths), made once and never freed, and
  // what it was made for (the emitter's own key).
  void* shared = nullptr;
  uint64_t shared_key[3] = {};

 private:
  static constexpr size_t kGranule = 64;
  static constexpr size_t kChunk = size_t{1} << 20;
  std::vector<void*> chunks_;
  uint8_t* next_ = nullptr;  // bump pointer in the newest chunk
  uint8_t* end_ = nullptr;
  std::vector<std::vector<void*>> free_;  // by size in granules
  size_t in_use_ = 0;
};

// A piece of an arena, owned: freed when the owner goes.
class ExecCode {
 public:
  ExecCode() = default;
  ExecCode(ExecArena* arena, void* p, size_t n) : arena_(arena), p_(p), n_(n) {}
  ExecCode(ExecCode&& o) noexcept : arena_(o.arena_), p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
  ExecCode& operator=(ExecCode&& o) noexcept {
    if (this != &o) {
      Reset();
      arena_ = o.arena_;
      p_ = o.p_;
      n_ = o.n_;
      o.p_ = nullptr;
    }
    return *this;
  }
  ~ExecCode() { Reset(); }
  void Reset() {
    if (p_) arena_->Free(p_, n_);
    p_ = nullptr;
  }
  void* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  ExecArena* arena_ = nullptr;
  void* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace strobe::code
