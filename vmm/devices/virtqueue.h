// SPDX-License-Identifier: MIT
// A split virtqueue in guest memory (Virtual I/O Device (VIRTIO) Version 1.1, 2.6 "Split Virtqueues"; the
// legacy layout of 2.6.2 / virtio 0.9.5: descriptor table, available ring right after it, used ring at the
// next 4096-byte boundary). The device side: chains are taken from the available ring and checked whole
// (indices in range, no loops, indirect tables (2.6.5.3) only when negotiated and never nested, buffers in
// RAM, device-readable buffers before device-writable ones); finished chains go to the used ring, and
// VIRTIO_RING_F_EVENT_IDX (2.6.7, 2.6.8) decides when the driver wants an interrupt and tells it when to
// notify. Every guest-memory access goes through GuestMemory, on the vCPU thread. A malformed ring is
// reported (Pop returns kBroken with a reason), never trusted: the transport then stops the device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"

namespace strobe::vmm {

class StateIo;

struct VirtqBuffer {
  uint32_t addr = 0, len = 0;
  bool device_writable = false;
};

struct VirtqChain {
  uint16_t head = 0;                    // what goes back in the used ring
  std::vector<VirtqBuffer> buffers;     // in chain order: the readable ones first
  uint64_t readable = 0, writable = 0;  // bytes of each kind
};

class Virtqueue {
 public:
  static constexpr uint32_t kLegacyAlign = 4096;
  static constexpr unsigned kMaxIndirect = 1024;  // descriptors in one indirect table

  Virtqueue(GuestMemory* memory, uint16_t max_size) : memory_(memory), max_size_(max_size) {}

  uint16_t max_size() const { return max_size_; }
  uint16_t size() const { return size_; }
  bool enabled() const { return size_ != 0; }
  // Legacy placement: the rings at page `pfn` (4096-byte pages), `size` entries; pfn 0 disables the queue.
  void SetLegacy(uint32_t pfn, uint16_t size);
  uint32_t pfn() const { return pfn_; }
  // Explicit placement (the modern interface; tests).
  void Set(uint32_t desc, uint32_t avail, uint32_t used, uint16_t size);
  // Back to the reset state (disabled; indices 0).
  void Reset();
  // Features the driver accepted.
  void set_indirect(bool on) { indirect_ = on; }
  void set_event_idx(bool on) { event_idx_ = on; }

  enum class Pop { kEmpty, kChain, kBroken };
  // The next available chain. kBroken: the ring or the chain is malformed (*error says how); the queue is
  // then left as it was.
  Pop Next(VirtqChain* chain, std::string* error);
  // Gives back the last `chains` chains Next returned that were not pushed: Next returns them again (a
  // device that took receive buffers for a frame they cannot hold).
  void Rewind(uint16_t chains) { last_avail_ = static_cast<uint16_t>(last_avail_ - chains); }
  // A chain is done: `written` bytes went to its device-writable buffers. Returns false when the used
  // ring is not in RAM.
  bool Push(uint16_t head, uint32_t written);
  // Whether the driver wants an interrupt for what was pushed since the last call (EVENT_IDX's used_event,
  // or the avail ring's NO_INTERRUPT flag).
  bool NeedInterrupt();
  // Buffers the driver made available and the device has not taken.
  bool HasAvailable();

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
  };
  bool ReadDesc(uint32_t table, unsigned i, Desc* d) const;
  // Appends one descriptor's buffer, checking order and RAM.
  bool AddBuffer(const Desc& d, VirtqChain* chain, std::string* error) const;
  bool WalkIndirect(const Desc& d, VirtqChain* chain, std::string* error) const;
  bool Read16(uint32_t addr, uint16_t* v) const { return memory_->Read(addr, v, 2); }
  bool Write16(uint32_t addr, uint16_t v) { return memory_->Write(addr, &v, 2); }

  GuestMemory* memory_;
  uint16_t max_size_;
  uint16_t size_ = 0;
  uint32_t pfn_ = 0;
  uint32_t desc_ = 0, avail_ = 0, used_ = 0;
  uint16_t last_avail_ = 0;  // the next avail ring entry the device takes
  uint16_t used_idx_ = 0;    // the device's copy of used->idx
  uint16_t signalled_ = 0;   // used_idx_ when NeedInterrupt last ran
  bool indirect_ = false, event_idx_ = false;
};

}  // namespace strobe::vmm
