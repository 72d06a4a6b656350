// SPDX-License-Identifier: MIT
// Memory handed out in pieces that come and go with decoded blocks: the interpreter's baseline code
// (interp/baseline.h, kept in code/baseline_pool.h), and the decoded blocks themselves with their
// instructions (code_cache.h, code/ops_pool.h). Pieces are cut in granules from 1 MiB anonymous mappings
// and taken back into free lists by size when their owner is freed; a mapping's pages cost memory only once
// written. LLVM's tiers have their own memory (jit/compiler.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strobe::code {

class PieceArena {
 public:
  // granule: a power of two up to 4096, the size every piece is a multiple of and aligned to; executable:
  // the pieces hold code (readable, writable and executable), else data. reserve (a multiple of 1 MiB, at
  // most 2 GiB): the mappings are cut from one range of that many bytes of address space, reserved now, so
  // that every piece lies within base() + 2^31 (0: anywhere, without bound).
  PieceArena(size_t granule, bool executable, size_t reserve = 0);
  PieceArena(const PieceArena&) = delete;
  PieceArena& operator=(const PieceArena&) = delete;
  ~PieceArena();

  // Room for n bytes, or null when the host has no memory (or n is over a mapping).
  void* Alloc(size_t n);
  // Gives back a piece Alloc(n) returned.
  void Free(void* p, size_t n);
  size_t bytes_in_use() const { return in_use_; }
  // The start of the reserved range (null without one, or if the host refused it: Alloc then fails).
  const uint8_t* base() const { return base_; }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  void* NewChunk();  // a fresh mapping of kChunk bytes, or null
  size_t granule_;
  int prot_;
  std::vector<void*> chunks_;
  uint8_t* base_ = nullptr;  // the reserved range, if any, and how much of it the chunks have taken
  size_t reserve_ = 0;
  size_t reserved_used_ = 0;
  uint8_t* next_ = nullptr;  // bump pointer in the newest chunk
  uint8_t* end_ = nullptr;
  std::vector<std::vector<void*>> free_;  // by size in granules
  size_t in_use_ = 0;
};

// Executable memory for baseline code (code/baseline_pool.h): 16-byte granules (branch targets stay
// aligned, little is lost between pieces), all within 1 GiB, so that the code reaches the pool's shared
// paths by 32-bit calls. A boot and a thousand fork+execs keep about 4 MiB.
class ExecArena : public PieceArena {
 public:
  static constexpr size_t kReserve = size_t{1} << 30;
  ExecArena() : PieceArena(16, true, kReserve) {}
};

}  // namespace strobe::code
