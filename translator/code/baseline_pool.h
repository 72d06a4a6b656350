// SPDX-License-Identifier: MIT
// Baseline code (interp/baseline.h) kept once for every code cache of a process, as OpsPool keeps decoded
// instructions: several VMs booting the same kernel give the same 13,000 blocks baseline code (6 MiB a VM),
// and a block's baseline code depends on nothing but its decoded instructions, its offset in its page and
// the counts it goes on to successors with (it finds its own Block, the CPU and the table of blocks in
// registers and the CpuState, not in constants). Blocks whose instructions are the same interned sequence
// (the same pointer: the OpsPool's) therefore share one piece of code; it stays until the last of them goes.
// The shared paths every piece jumps to or calls (the go-on paths; the memory accesses', the entry's and the
// exit's) live here too. Thread-safe: each VM's vCPU thread emits and frees its own blocks' code.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "translator/code/chained_table.h"
#include "translator/code/exec_memory.h"
#include "translator/mips/decoder.h"

namespace strobe::code {

// What a piece of baseline code was emitted from. Two blocks with equal keys get byte-identical code.
struct BaselineKey {
  const mips::DecodedInsn* ops = nullptr;  // the block's instructions (interned: equal pointers, equal code)
  uint32_t n = 0;                          // how many
  uint32_t page_offset = 0;                // of the block's first instruction
  uint64_t paths = 0;                      // which shared paths it jumps to (BaselinePool::Paths' index + 1)
  bool operator==(const BaselineKey&) const = default;
};

struct BaselinePoolStats {
  size_t pieces = 0;            // distinct pieces of code held
  size_t bytes = 0;             // memory they take (with the shared paths and the table that finds them)
  size_t references = 0;        // blocks holding one
  size_t referenced_bytes = 0;  // what those blocks' code would take, each its own copy
  uint64_t reused = 0;          // acquisitions that found the piece held already
};

class BaselinePool {
  struct Piece;

 public:
  BaselinePool() = default;
  BaselinePool(const BaselinePool&) = delete;
  BaselinePool& operator=(const BaselinePool&) = delete;
  ~BaselinePool();

  // A piece of code held for a block, with the reference it holds: released when the block goes.
  class Ref {
   public:
    Ref() = default;
    Ref(Ref&& o) noexcept : pool_(o.pool_), piece_(o.piece_) { o.piece_ = nullptr; }
    Ref& operator=(Ref&& o) noexcept {
      if (this != &o) {
        Reset();
        pool_ = o.pool_;
        piece_ = o.piece_;
        o.piece_ = nullptr;
      }
      return *this;
    }
    ~Ref() { Reset(); }
    void Reset();
    const void* get() const;
    size_t size() const;  // the code's bytes (the piece may be rounded up)

   private:
    friend class BaselinePool;
    Ref(BaselinePool* pool, Piece* piece) : pool_(pool), piece_(piece) {}
    BaselinePool* pool_ = nullptr;
    Piece* piece_ = nullptr;
  };

  // The piece held for key, with one more reference, or an empty Ref if none is held.
  Ref Acquire(const BaselineKey& key);
  // A call from a piece into the pool's shared code: the offset of the call's 32-bit displacement in the
  // code as emitted, and where it calls. The displacement is written once the piece has its place.
  struct Call {
    uint32_t at = 0;
    const void* target = nullptr;
  };
  // Keeps the n bytes of code emitted for key (for the block at guest-physical paddr), its calls made to
  // reach their targets from where it is kept, and returns it with one reference; if another thread kept a
  // piece for key meanwhile, that one instead. Empty when the host has no memory.
  Ref Keep(const BaselineKey& key, const void* code, size_t n, uint32_t paddr = 0,
           const std::vector<Call>& calls = {});

  // The shared paths made for `params` (the emitter's key: its counts and whether it goes far), made now by
  // `make` if there are none yet: make(out) writes their code into out and returns the offset of a second
  // entry in it (0: none). Returns the index to put in BaselineKey::paths, and the two entries (the second
  // may be null); false if they could not be made (the code is then emitted without them).
  struct Paths {
    uint64_t index = 0;
    const void* entry = nullptr;
    const void* second = nullptr;
  };
  using PathParams = std::array<uint64_t, 3>;
  bool SharedPaths(const PathParams& params, const std::function<size_t(std::vector<uint8_t>&)>& make,
                   Paths* out);

  // Code every piece calls (the memory accesses' soft TLB paths), made once per pool by make(out), which
  // writes code that runs anywhere; null if it could not be made.
  const uint8_t* SharedStubs(const std::function<void(std::vector<uint8_t>&)>& make);
  // Those stubs, once made (null before).
  const uint8_t* stubs() const { return stubs_.load(std::memory_order_acquire); }
  // Every piece and shared path lies within 2^31 bytes past this address (ExecArena), so that pieces reach
  // them by 32-bit calls. Null if the host refused the range: nothing can then be kept.
  const uint8_t* base() const { return arena_.base(); }

  BaselinePoolStats stats() const;
  // Linux perf's map of JIT code (/tmp/perf-PID.map; empty: none): each piece made from now on is named
  // there after the block it was made for (strobe:baseline_<paddr>), the shared paths strobe:baseline_go_on.
  void set_perf_map(std::string path) {
    std::lock_guard<std::mutex> lock(mu_);
    perf_map_ = std::move(path);
  }
  // A block's code alone, as an arena without a pool would keep it (ExecArena's 16-byte granules).
  static size_t OwnCopyBytes(size_t n) { return (n + 15) & ~size_t{15}; }
  // What the pool keeps beside each piece's code (its key and place in the table), in ordinary memory.
  static size_t HeaderBytes();

 private:
  // The header lives apart from the code, so that the executable arena holds nothing but code: the code
  // of the blocks a fork+exec runs through is megabytes, more than the host's L2 cache, and every byte of
  // it counts (bench/README.md, "Session 45").
  struct Piece {
    BaselineKey key;
    uint64_t hash;
    Piece* next;  // in its bucket
    uint32_t refs;
    uint32_t n;     // bytes of code
    uint8_t* code;  // in the arena
  };
  static uint64_t Hash(const BaselineKey& key);
  Piece* FindLocked(const BaselineKey& key, uint64_t hash) {
    return table_.Find(hash, [&](const Piece& p) { return p.key == key; });
  }
  // One more reference to p, for a block (mu_ held).
  Ref HoldLocked(Piece* p);
  void Release(Piece* p);

  mutable std::mutex mu_;
  ExecArena arena_;
  ChainedTable<Piece> table_;
  struct Made {
    PathParams params;
    const void* entry;
    const void* second;
  };
  std::vector<Made> paths_;                     // never freed: pieces jump into them
  std::atomic<const uint8_t*> stubs_{nullptr};  // likewise
  std::string perf_map_;
  void NoteLocked(const void* code, size_t n, const char* name) const;
  // Shared code kept for good in the arena (and named in the perf map); null when empty or out of memory.
  const uint8_t* PlaceLocked(const std::vector<uint8_t>& code, const char* name);
  BaselinePoolStats stats_;
};

}  // namespace strobe::code
