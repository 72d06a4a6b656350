// SPDX-License-Identifier: MIT
// Decoded instructions kept once for every code cache of a process: several VMs booting the same kernel
// decode the same blocks (some 55,000 of them, 4 MiB of instructions a VM), and a block's decoded
// instructions depend on nothing but its instruction words. So a block's instructions are interned here by
// content and shared by every block, in any VM, that decoded the same ones; they stay where they are until
// the last of those blocks goes (baseline code points at them). Thread-safe: each VM's vCPU thread builds
// and frees its own blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "translator/code/chained_table.h"
#include "translator/code/exec_memory.h"
#include "translator/mips/decoder.h"

namespace strobe::code {

struct OpsPoolStats {
  size_t sequences = 0;   // distinct instruction sequences held
  size_t bytes = 0;       // memory they take (headers and the table that finds them included)
  size_t references = 0;  // blocks holding one
  size_t referenced_bytes =
      0;                // what those blocks' instructions would take, each its own copy (OwnCopyBytes)
  uint64_t reused = 0;  // interns that found the sequence held already
};

class OpsPool {
 public:
  OpsPool() = default;
  OpsPool(const OpsPool&) = delete;
  OpsPool& operator=(const OpsPool&) = delete;
  ~OpsPool();

  // The held copy of ops[0, n) (taken now if none is held), with one more reference; null when the host
  // has no memory.
  const mips::DecodedInsn* Intern(const mips::DecodedInsn* ops, uint32_t n);
  // Drops a reference Intern gave: the copy goes with the last one.
  void Release(const mips::DecodedInsn* ops);
  OpsPoolStats stats() const;
  // A block's own copy of n instructions, as a code cache without a pool keeps it (16-byte pieces).
  static size_t OwnCopyBytes(uint32_t n) {
    return (size_t{n} * sizeof(mips::DecodedInsn) + 15) & ~size_t{15};
  }

 private:
  struct Entry {  // a held sequence: this header, then its n instructions
    uint64_t hash;
    Entry* next;  // in its bucket
    uint32_t refs;
    uint32_t n;
    mips::DecodedInsn* ops() { return reinterpret_cast<mips::DecodedInsn*>(this + 1); }
  };
  static_assert(sizeof(Entry) % alignof(mips::DecodedInsn) == 0);
  static size_t EntryBytes(uint32_t n) { return sizeof(Entry) + size_t{n} * sizeof(mips::DecodedInsn); }
  static uint64_t Hash(const mips::DecodedInsn* ops, uint32_t n);

  mutable std::mutex mu_;
  PieceArena arena_{16, false};
  ChainedTable<Entry> table_;
  OpsPoolStats stats_;
};

}  // namespace strobe::code
