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
  Entry* e = Bucket(hash);
  while (e && !(e->hash == hash && SameOps({e->ops(), e->n}, {ops, n}))) e = e->next;
  if (e) {
    ++e->refs;
    ++stats_.reused;
  } else {
    void* room = arena_.Alloc(EntryBytes(n));
    if (!room) return nullptr;
    e = new (room) Entry{hash, Bucket(hash), 1, n};
    std::uninitialized_copy_n(ops, n, e->ops());
    Bucket(hash) = e;
    ++stats_.sequences;
    if (stats_.sequences > buckets_.size()) Grow();
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
