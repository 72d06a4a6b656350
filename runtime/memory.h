// SPDX-License-Identifier: MIT
// Inline fast paths of guest memory access: one soft TLB probe, then the slow path in memory.cpp.
#pragma once

#include <cstring>

#include "runtime/runtime.h"

namespace strobe::runtime {

template <typename T>
inline bool Load(CpuState& c, uint32_t va, uint32_t* out) {
  const SoftTlbEntry& e = c.stlb[SoftTlb::IndexOf(va)];
  if (e.read == ProbeKey<sizeof(T)>(c, va)) [[likely]] {
    T v;
    std::memcpy(&v, reinterpret_cast<const void*>(va + e.addend), sizeof(T));
    *out = static_cast<uint32_t>(v);
    return true;
  }
  uint32_t raw;
  if (!LoadSlow(c, va, sizeof(T), &raw)) return false;
  *out = static_cast<uint32_t>(static_cast<T>(raw));  // sign- or zero-extend as T says
  return true;
}

template <typename T>
inline bool Store(CpuState& c, uint32_t va, uint32_t value) {
  const SoftTlbEntry& e = c.stlb[SoftTlb::IndexOf(va)];
  if (e.write == ProbeKey<sizeof(T)>(c, va)) [[likely]] {
    T v = static_cast<T>(value);
    std::memcpy(reinterpret_cast<void*>(va + e.addend), &v, sizeof(T));
    return true;
  }
  return StoreSlow(c, va, sizeof(T), value);
}

// After LL's load from va: the LL bit, and LLAddr = va's physical address >> 4. The load left va's page in
// the soft TLB unless it was not RAM, so the entry usually names the physical page; else the TLB is walked.
void LinkSlow(CpuState& c, uint32_t va);
inline void Link(CpuState& c, uint32_t va) {
  const uint32_t i = SoftTlb::IndexOf(va);
  if (c.stlb[i].read == ProbeKey<4>(c, va)) [[likely]] {
    c.cp0.lladdr = (c.stlb_paddr[i] | (va & ~kPageMask)) >> 4;
    c.ll_bit = true;
    return;
  }
  LinkSlow(c, va);
}

}  // namespace strobe::runtime
