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
namespace block {
class BlockBackend;
}
class DiskPageCache;
class Pmap;

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

  // Disk sharing between VMs (vmm/disk_pages.h): from now on WriteFromDisk maps blocks onto the cache's
  // pages in this VM's pmap. Off (every disk read copied) until called.
  void EnableDiskSharing(Pmap* pmap, DiskPageCache* cache) {
    pmap_ = pmap;
    disk_pages_ = cache;
  }
  // A disk read landing in guest RAM: the data are the disk's bytes from disk_offset on. As Write, except
  // that a whole, aligned guest page receiving a 4 KiB block that `disk` says comes unchanged from a file
  // nobody writes takes the disk cache's machine page for that block, copy-on-write, instead of a copy.
  bool WriteFromDisk(uint32_t paddr, const uint8_t* data, size_t length, const block::BlockBackend& disk,
                     uint64_t disk_offset);

 private:
  // Decoded or translated code on the page goes, as after a guest store to it.
  void DropCode(uint32_t page);
  // Maps the whole page at `page` onto the disk cache's page for the block the data are, if the disk says
  // where that block comes from and the cache has (or takes) a page for it. false: copy instead.
  bool MapDiskBlock(uint32_t page, const uint8_t* data, const block::BlockBackend& disk,
                    uint64_t disk_offset);

  runtime::Bus& bus_;
  runtime::CpuState& cpu_;
  Pmap* pmap_ = nullptr;
  DiskPageCache* disk_pages_ = nullptr;
};

}  // namespace strobe::vmm
