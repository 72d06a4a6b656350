// SPDX-License-Identifier: MIT
// What a debugger (vmm/debug, the gdb stub) asks of guest execution: breakpoints by guest-virtual PC,
// checked where the dispatcher enters a block, and data watchpoints by guest-virtual address, checked in
// the soft TLB's slow paths (a page holding a watchpoint never gets a fast read or write tag). The engines
// report a hit here and leave their slice with exitreq::kDebug; the run loop takes the stop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace strobe::runtime {

// A hardware-style data watchpoint: [addr, addr + len), on reads, writes or both.
struct Watchpoint {
  uint32_t addr = 0;
  uint32_t len = 0;
  uint8_t kinds = 0;  // kWatchRead | kWatchWrite
};
inline constexpr uint8_t kWatchWrite = 1;
inline constexpr uint8_t kWatchRead = 2;

enum class DebugStopKind : uint8_t { kNone, kBreakpoint, kWatchBefore, kWatch };

class DebugState {
 public:
  // --- breakpoints (the gdb stub's Z0/Z1) ---
  // Block builders end a block before any instruction whose page offset is marked, so that every
  // breakpoint address (and the branch before one, whose delay slot it may be) starts a block. Offsets stay
  // marked once set (removing a breakpoint needs no code to be rebuilt); `true`: a new offset was marked,
  // so the caller must drop the code that spans it.
  bool AddBreakpoint(uint32_t va) {
    breakpoints_.push_back(va);  // once per insertion: gdb may insert one address twice, and remove it twice
    const bool fresh = !SplitsAt(va) || !SplitsAt(va - 4);
    Mark(va);
    Mark(va - 4);
    return fresh;
  }
  bool RemoveBreakpoint(uint32_t va) {
    auto it = std::find(breakpoints_.begin(), breakpoints_.end(), va);
    if (it == breakpoints_.end()) return false;
    breakpoints_.erase(it);
    return true;
  }
  // Whether a block must end before (and so start at) this address's page offset.
  bool SplitsAt(uint32_t addr) const {
    const uint32_t w = (addr & 0xFFFu) >> 2;
    return (offsets_[w >> 6] >> (w & 63)) & 1;
  }
  bool IsBreakpoint(uint32_t va) const {
    return std::find(breakpoints_.begin(), breakpoints_.end(), va) != breakpoints_.end();
  }
  // A block about to run at vpc stops there: a breakpoint on its first instruction, or on the delay slot
  // of a branch that starts it (a branch and its slot run as one step, as on QEMU).
  bool BreaksAt(uint32_t vpc, bool starts_with_branch) const {
    return SplitsAt(vpc) && (IsBreakpoint(vpc) || (starts_with_branch && IsBreakpoint(vpc + 4)));
  }
  bool HasBreakpoints() const { return !breakpoints_.empty(); }

  // --- watchpoints (Z2/Z3/Z4) ---
  void AddWatch(const Watchpoint& w) { watches_.push_back(w); }
  bool RemoveWatch(uint32_t addr, uint32_t len, uint8_t kinds) {
    for (auto it = watches_.begin(); it != watches_.end(); ++it)
      if (it->addr == addr && it->len == len && it->kinds == kinds) {
        watches_.erase(it);
        return true;
      }
    return false;
  }
  const std::vector<Watchpoint>& watches() const { return watches_; }
  // Whether the 4 KiB page holding va holds (part of) a watchpoint: its accesses take the slow path.
  bool WatchesPage(uint32_t va) const {
    if (watches_.empty()) return false;
    const uint32_t page = va & ~0xFFFu;
    for (const Watchpoint& w : watches_) {
      const uint64_t first = w.addr & ~0xFFFu, last = (uint64_t{w.addr} + w.len - 1) & ~uint64_t{0xFFF};
      if (page >= first && page <= last) return true;
    }
    return false;
  }
  // A guest access of [va, va + size) about to happen. Running: a hit stops the access before it happens
  // (the slow path returns false as for a fault, the dispatcher sees kWatchBefore and does not deliver
  // anything); the run loop then executes that one instruction with `record_only` set, and the hit is
  // recorded as it happens (kWatch), so the debugger sees the stop after the access, as QEMU reports it.
  // Returns true when the access must be abandoned now.
  bool CheckAccess(uint32_t va, unsigned size, bool write) {
    for (const Watchpoint& w : watches_) {
      if (!(w.kinds & (write ? kWatchWrite : kWatchRead))) continue;
      if (uint64_t{va} + size <= w.addr || va >= uint64_t{w.addr} + w.len) continue;
      if (record_only) {
        if (stop == DebugStopKind::kNone || stop == DebugStopKind::kWatchBefore) {
          stop = DebugStopKind::kWatch;
          hit = w;
          hit_write = write;
        }
        return false;
      }
      stop = DebugStopKind::kWatchBefore;
      return true;
    }
    return false;
  }

  void Clear() {
    breakpoints_.clear();
    watches_.clear();
  }

  // The stop an engine reported (kNone: none), and for a watchpoint, which one and how it was hit.
  DebugStopKind stop = DebugStopKind::kNone;
  Watchpoint hit;
  bool hit_write = false;
  bool record_only = false;  // the run loop's single steps: record hits, never abandon the access

 private:
  void Mark(uint32_t addr) {
    const uint32_t w = (addr & 0xFFFu) >> 2;
    offsets_[w >> 6] |= uint64_t{1} << (w & 63);
  }
  std::vector<uint32_t> breakpoints_;
  std::vector<Watchpoint> watches_;
  uint64_t offsets_[16] = {};  // 1024 word offsets in a page
};

}  // namespace strobe::runtime
