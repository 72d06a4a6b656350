// SPDX-License-Identifier: MIT
// The table the code pools (ops_pool.h, baseline_pool.h) find their entries in: buckets of intrusive
// chains, a power of two of them, doubled when there are more entries than buckets. The entries are the
// pools' own (they live in the pools' arenas); each has a `hash` and a `next` link. Not thread-safe: the
// pools lock around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strobe::code {

template <class Entry>
class ChainedTable {
 public:
  // The entry with this hash that `same` accepts, or null.
  template <class Same>
  Entry* Find(uint64_t hash, Same same) const {
    for (Entry* e = Bucket(hash); e; e = e->next)
      if (e->hash == hash && same(*e)) return e;
    return nullptr;
  }
  void Insert(Entry* e) {
    e->next = Bucket(e->hash);
    Bucket(e->hash) = e;
    if (++size_ > buckets_.size()) Grow();
  }
  void Remove(Entry* e) {
    Entry** link = &Bucket(e->hash);
    while (*link != e) link = &(*link)->next;
    *link = e->next;
    --size_;
  }
  size_t size() const { return size_; }
  size_t bucket_bytes() const { return buckets_.size() * sizeof(Entry*); }

 private:
  Entry*& Bucket(uint64_t hash) { return buckets_[hash & (buckets_.size() - 1)]; }
  Entry* Bucket(uint64_t hash) const { return buckets_[hash & (buckets_.size() - 1)]; }
  void Grow() {
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

  std::vector<Entry*> buckets_ = std::vector<Entry*>(1024, nullptr);
  size_t size_ = 0;
};

}  // namespace strobe::code
