// SPDX-License-Identifier: MIT
// The guest side of a network link: a NetPort joins one NIC model to one NetBackend and keeps the NIC on
// the vCPU thread. Frames from the guest go straight to the backend's queue (NetBackend::Send never
// blocks). Frames from the backend's thread are queued here; the first one queued posts a callback to the
// VM's CompletionList (vmm/block/block_queue.h), whose notifier wakes an idle WAIT, and the run loop hands
// the queued frames to the NIC between slices (Deliver).
//
// Flow control: a frame waits in the queue while the NIC has no receive buffer (CanReceive false) and is
// delivered when the driver gives it one, so a burst from the host is not lost to a short ring. Only when
// more than kHoldFrames are waiting is the oldest offered to the NIC regardless (it then drops it as the
// chip would, e.g. the PCnet's MISS); beyond kMaxQueuedFrames new frames are dropped on arrival.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "vmm/block/block_queue.h"
#include "vmm/net/backend.h"
#include "vmm/net/pcap.h"

namespace strobe::vmm::net {

// What a NIC model offers its port (vCPU thread only).
class NicFrontend {
 public:
  virtual ~NicFrontend() = default;
  // Whether a frame of `length` bytes delivered now would find receive buffers.
  virtual bool CanReceive(size_t length) = 0;
  // One frame without FCS. The NIC stores it or drops it as the hardware would.
  virtual void Receive(const uint8_t* frame, size_t length) = 0;
  // The station address the NIC takes unicast frames for now: what the guest programmed (after a snapshot's
  // load, the snapshot's).
  virtual std::array<uint8_t, 6> StationAddress() = 0;
};

class NetPort {
 public:
  static constexpr size_t kHoldFrames = 64;
  static constexpr size_t kMaxQueuedFrames = 512;

  // The backend, the list and the capture (may be null) must outlive the port.
  NetPort(NetBackend& backend, block::CompletionList& completions, PcapWriter* pcap = nullptr);
  // Stops the backend's thread first: nothing is posted afterwards.
  ~NetPort();
  NetPort(const NetPort&) = delete;
  NetPort& operator=(const NetPort&) = delete;

  // Connects the NIC and starts the backend. Call once, before the VM runs.
  void Start(NicFrontend* nic);
  // Stops the backend's thread: nothing is delivered afterwards (the destructor does it too).
  void Stop() { backend_.Stop(); }
  // A frame from the guest (vCPU thread).
  void Transmit(const uint8_t* frame, size_t length);
  // Hands queued frames to the NIC while it can take them (vCPU thread).
  void Deliver();
  // Cheap: frames are waiting for the NIC.
  bool HasPending() const { return pending_.load(std::memory_order_acquire); }
  // Frames waiting, traffic within the last 100 ms of host time, or a flow to the host open: virtual time
  // should not warp.
  bool Busy() const { return HasPending() || backend_.Active(100); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void Incoming(Frame frame);  // the backend's thread

  NetBackend& backend_;
  block::CompletionList& completions_;
  PcapWriter* pcap_;
  NicFrontend* nic_ = nullptr;
  std::mutex mu_;
  std::deque<Frame> rx_;
  std::atomic<bool> pending_{false};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace strobe::vmm::net
