// SPDX-License-Identifier: MIT
// The guest's side of virtio for device tests: a flat RAM behind GuestMemory, and a driver that lays out
// split rings (legacy layout) the way Linux's virtio_ring does.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "runtime/runtime.h"
#include "vmm/guest_memory.h"

namespace strobe::test {

constexpr uint32_t kRamBytes = 1u << 20;

// 1 MiB of guest RAM at physical 0; nothing else answers.
class FlatRam final : public runtime::Bus {
 public:
  runtime::RamPage LookupRam(uint32_t paddr) override {
    if (paddr >= bytes.size()) return {};
    return {bytes.data() + (paddr & ~0xFFFu), false};
  }
  uint8_t* RamPageForWrite(uint32_t paddr) override { return LookupRam(paddr).host; }
  bool IoRead(uint32_t, unsigned, uint32_t*) override { return false; }
  bool IoWrite(uint32_t, unsigned, uint32_t) override { return false; }
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kRamBytes);
};

struct FakeGuest {
  FakeGuest() { cpu.code_pages = &code; }
  FlatRam ram;
  runtime::CodePages code{kRamBytes >> 12};
  runtime::CpuState cpu;
  vmm::GuestMemory memory{ram, cpu};
  template <typename T>
  void Put(uint32_t addr, T v) {
    std::memcpy(&ram.bytes[addr], &v, sizeof v);
  }
  template <typename T>
  T Get(uint32_t addr) const {
    T v;
    std::memcpy(&v, &ram.bytes[addr], sizeof v);
    return v;
  }
};

// The driver's half of a split ring (legacy layout at page `pfn`).
class Driver {
 public:
  static constexpr uint16_t kWrite = 2, kNext = 1, kIndirect = 4;
  struct Buf {
    uint32_t addr, len;
    bool write;
  };
  Driver(FakeGuest& g, uint32_t pfn, uint16_t size)
      : g_(g),
        desc_(pfn << 12),
        avail_(desc_ + 16u * size),
        used_((avail_ + 6 + 2u * size + 4095) & ~4095u),
        size_(size) {}

  void Desc(uint32_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    const uint32_t at = table + 16 * i;
    g_.Put(at, addr);
    g_.Put(at + 8, len);
    g_.Put(at + 12, flags);
    g_.Put(at + 14, next);
  }
  // A chain of direct descriptors; returns its head.
  uint16_t Chain(const std::vector<Buf>& bufs) {
    const uint16_t head = next_free_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t me = next_free_++ % size_;
      const bool more = i + 1 < bufs.size();
      Desc(desc_, me, bufs[i].addr, bufs[i].len, (bufs[i].write ? kWrite : 0) | (more ? kNext : 0),
           more ? next_free_ % size_ : 0);
    }
    Offer(head % size_);
    return head % size_;
  }
  // One descriptor pointing at an indirect table at `table`.
  uint16_t Indirect(uint32_t table, const std::vector<Buf>& bufs) {
    for (size_t i = 0; i < bufs.size(); ++i) {
      const bool more = i + 1 < bufs.size();
      Desc(table, static_cast<unsigned>(i), bufs[i].addr, bufs[i].len,
           (bufs[i].write ? kWrite : 0) | (more ? kNext : 0), more ? static_cast<uint16_t>(i + 1) : 0);
    }
    const uint16_t head = next_free_++ % size_;
    Desc(desc_, head, table, static_cast<uint32_t>(16 * bufs.size()), kIndirect, 0);
    Offer(head);
    return head;
  }
  // The driver's state after a device reset (the ring's memory is the caller's to clear).
  void Restart() { next_free_ = avail_idx_ = 0; }
  void Offer(uint16_t head) {
    g_.Put<uint16_t>(avail_ + 4 + 2 * (avail_idx_ % size_), head);
    g_.Put<uint16_t>(avail_ + 2, ++avail_idx_);
  }
  uint16_t used_idx() const { return g_.Get<uint16_t>(used_ + 2); }
  uint32_t used_id(unsigned n) const { return g_.Get<uint32_t>(used_ + 4 + 8 * (n % size_)); }
  uint32_t used_len(unsigned n) const { return g_.Get<uint32_t>(used_ + 8 + 8 * (n % size_)); }
  void set_used_event(uint16_t v) { g_.Put<uint16_t>(avail_ + 4 + 2 * size_, v); }
  uint16_t avail_event() const { return g_.Get<uint16_t>(used_ + 4 + 8 * size_); }
  void set_avail_flags(uint16_t f) { g_.Put<uint16_t>(avail_, f); }
  uint32_t desc() const { return desc_; }

 private:
  FakeGuest& g_;
  uint32_t desc_, avail_, used_;
  uint16_t size_;
  uint16_t next_free_ = 0, avail_idx_ = 0;
};

// A ring at `ring` (legacy layout, `size` entries) filled with random bytes, then `count` descriptors made
// to point somewhere plausible (in RAM, short) or anywhere, with any flags and next index (past the ring
// now and then): what the device-robustness tests feed a device.
inline void RandomRing(FakeGuest& g, uint32_t ring, uint16_t size, unsigned count, std::mt19937& gen) {
  const uint32_t bytes = ((16u * size + 6 + 2u * size + 4095) & ~4095u) + 6 + 8u * size;
  for (uint32_t i = 0; i < bytes; i += 4) g.Put<uint32_t>(ring + i, gen());
  for (unsigned i = 0; i < count; ++i) {
    const uint32_t at = ring + 16 * (gen() % size);
    g.Put<uint64_t>(at, gen() % 2 ? gen() % kRamBytes : gen());
    g.Put<uint32_t>(at + 8, gen() % 3 ? gen() % 8192 : gen());
    g.Put<uint16_t>(at + 12, static_cast<uint16_t>(gen() % 8));
    g.Put<uint16_t>(at + 14, static_cast<uint16_t>(gen() % (size + size / 8 + 4)));
  }
}

}  // namespace strobe::test
