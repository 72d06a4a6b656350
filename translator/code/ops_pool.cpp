// SPDX-License-Identifier: MIT
#include "translator/code/ops_pool.h"

#include <cstring>
#include <memory>

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
  const size_t bytes = size_t{n} * sizeof(DecodedInsn);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.references;
  stats_.referenced_bytes += OwnCopyBytes(n);
  for (Entry* e = Bucket(hash); e; e = e->next)
    if (e->hash == hash && e->n == n && std::memcmp(e->ops(), ops, bytes) == 0) {
      ++e->refs;
      ++stats_.reused;
      return e->ops();
    }
  void* room = arena_.Alloc(EntryBytes(n));
  if (!room) {
    --stats_.references;
    stats_.referenced_bytes -= OwnCopyBytes(n);
    return nullptr;
  }
  auto* e = new (room) Entry{hash, nullptr, 1, n};
  std::uninitialized_copy_n(ops, n, e->ops());
  e->next = Bucket(hash);
  Bucket(hash) = e;
  ++stats_.sequences;
  if (stats_.sequences > buckets_.size()) Grow();
  return e->ops();
}

void OpsPool::Release(const DecodedInsn* ops) {
  auto* e = reinterpret_cast<Entry*>(const_cast<DecodedInsn*>(ops)) - 1;
  std::lock_guard<std::mutex> lock(mu_);
  --stats_.references;
  stats_.referenced_bytes -= OwnCopyBytes(e->n);
  if (--e->refs != 0) return;
  Entry** link = &Bucket(e->hash);
  while (*link != e) link = &(*link)->next;
  *link = e->next;
  --stats_.sequences;
  arena_.Free(e, EntryBytes(e->n));
}

void OpsPool::Grow() {
  std::vector<Entry*> old(buckets_.size() * 2, nullptr);
  old.swap(buckets_);
  for (Entry* e : old)
    while (e) {
      Entry* next = e->next;
      e->next = Bucket(e->hash);
      Bucket(e->hash) = e;
      e = next;
    }
}

OpsPoolStats OpsPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  OpsPoolStats s = stats_;
  s.bytes = arena_.bytes_in_use() + buckets_.size() * sizeof(Entry*);
  return s;
}

}  // namespace strobe::code
