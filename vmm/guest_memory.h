// SPDX-License-Identifier: MIT
// Device access to guest RAM (bus-master DMA) by guest-physical address: the one path devices use. A
// write follows the rules of a guest store: a copy-on-write page shared with another VM is copied first
// (the pmap tells the soft TLB), decoded or translated code on a written page is dropped (the interpreter
// and the tiers forget the page, and the vCPU re-checks its code), so the next fetch sees the new bytes.
// Reads and writes run on the vCPU thread only (devices call them from register accesses and from the
// block completions the run loop drains).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/bus.h"
#include "runtime/cpu_state.h"

namespace strobe::vmm {

class GuestMemory {
 public:
  // bus: the board (RAM lookup through the pmap, copy-on-write breaking); cpu: its code pages and soft TLB.
  GuestMemory(runtime::Bus& bus, runtime::CpuState& cpu) : bus_(bus), cpu_(cpu) {}

  // Whether every byte of [paddr, paddr + length) is RAM (not the I/O hole, not beyond the RAM's end).
  bool IsRam(uint32_t paddr, size_t length) const;
  // Copies guest RAM out. false (and nothing copied) when some byte is not RAM.
  bool Read(uint32_t paddr, void* out, size_t length) const;
  // Copies into guest RAM as a guest store would. false (and nothing written) when some byte is not RAM.
  bool Write(uint32_t paddr, const void* data, size_t length);

 private:
  runtime::Bus& bus_;
  runtime::CpuState& cpu_;
};

}  // namespace strobe::vmm
