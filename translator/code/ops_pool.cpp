// SPDX-License-Identifier: MIT
#include "translator/code/ops_pool.h"

#include <memory>

#include "translator/code/region.h"  // SameOps

namespace strobe::code {

using mips::DecodedInsn;

OpsPool::~OpsPool() = default;  // the arena's mappings go with it

uint64_t OpsPool::Hash(const DecodedInsn* ops, uint32_t n) {
  // FNV-1a over the instructions' bytes (every field: equal hashes are then checked byte for byte).
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  const auto* p = reinterpret_cast<const uint8_t*>(ops);
  for (size_t i = 0; i < size_t{n} * sizeof(DecodedInsn); ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

const DecodedInsn* OpsPool::Intern(const DecodedInsn* ops, uint32_t n) {
  const uint64_t hash = Hash(ops, n);
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = table_.Find(hash, [&](Entry& held) { return SameOps({held.ops(), held.n}, {ops, n}); });
  if (e) {
    ++e->refs;
    ++stats_.reused;
  } else {
    void* room = arena_.Alloc(EntryBytes(n));
    if (!room) return nullptr;
    e = new (room) Entry{hash, nullptr, 1, n};
    std::uninitialized_copy_n(ops, n, e->ops());
    table_.Insert(e);
    ++stats_.sequences;
  }
  ++stats_.references;
  stats_.referenced_bytes += OwnCopyBytes(n);
  return e->ops();
}

void OpsPool::Release(const DecodedInsn* ops) {
  auto* e = reinterpret_cast<Entry*>(const_cast<DecodedInsn*>(ops)) - 1;
  std::lock_guard<std::mutex> lock(mu_);
  --stats_.references;
  stats_.referenced_bytes -= OwnCopyBytes(e->n);
  if (--e->refs != 0) return;
  table_.Remove(e);
  --stats_.sequences;
  arena_.Free(e, EntryBytes(e->n));
}

OpsPoolStats OpsPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  OpsPoolStats s = stats_;
  s.bytes = arena_.bytes_in_use() + table_.bucket_bytes();
  return s;
}

}  // namespace strobe::code
