// SPDX-License-Identifier: MIT
// The host side of a virtual network link: a NetBackend takes the guest's Ethernet frames to the outside
// world and hands frames from it back. Backends run on their own thread; a NIC model never talks to one
// directly but through a NetPort (net_port.h), which keeps everything the device sees on the vCPU thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace strobe::vmm::net {

using Frame = std::vector<uint8_t>;

// Frames of at most this many bytes cross a link (an Ethernet frame without its FCS, with a VLAN tag, and
// room for a guest that sends more than the MTU allows: slirp's MRU is 1500 + headers).
inline constexpr size_t kMaxFrameBytes = 16384;

// When a link last moved a frame (host monotonic time): what NetBackend::Active asks of a backend whose
// only sign of use is its traffic.
class LinkActivity {
 public:
  void Touch() { last_ms_.store(NowMs(), std::memory_order_relaxed); }
  bool Within(int window_ms) const { return NowMs() - last_ms_.load(std::memory_order_relaxed) < window_ms; }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::atomic<int64_t> last_ms_{-1000000};
};

class NetBackend {
 public:
  // Called on the backend's thread for every frame bound for the guest; it must be quick and never block.
  using Receiver = std::function<void(Frame)>;

  virtual ~NetBackend() = default;
  // Starts the backend's thread; frames for the guest go to `receiver` from then on. Call once.
  virtual void Start(Receiver receiver) = 0;
  // Stops the thread (nothing is delivered afterwards). Idempotent; the destructor calls it.
  virtual void Stop() = 0;
  // A frame from the guest (vCPU thread). Never blocks: the frame is queued for the backend's thread.
  virtual void Send(const uint8_t* frame, size_t length) = 0;
  // Whether the link is in use: a frame moved in either direction within the last `window_ms` milliseconds
  // of host time, or a flow to the host is open (a reply may come at any time). The run loop does not
  // warp virtual time then.
  virtual bool Active(int window_ms) const = 0;

  // Snapshots (vmm/snapshot/vm_state.h), on the vCPU thread with the VM stopped. The kind of backend, which
  // a snapshot's configuration records ("user", "hubport"): a snapshot loads only where each NIC has the
  // same kind it had.
  virtual std::string SnapshotKind() const = 0;
  // The backend's own state as bytes and the version of their format (a backend without any: none, 0).
  virtual uint32_t StateVersion() const { return 0; }
  virtual std::vector<uint8_t> SaveState() { return {}; }
  // Whether LoadState would take this state ("" when it would, else one line saying why not); changes
  // nothing, so that a snapshot is checked whole before any of it is applied.
  virtual std::string CheckState(uint32_t version, const std::vector<uint8_t>& state) {
    return version == 0 && state.empty() ? "" : "this network backend has no state to load";
  }
  // Puts a state that CheckState accepted in place of the backend's own.
  virtual void LoadState(uint32_t, const std::vector<uint8_t>&) {}
  // User-mode networking's monitor commands, from a monitor thread: hostfwd_add (add) or hostfwd_remove
  // of `rule`, and info usernet's table. *out is what the monitor prints; false from a backend that is not
  // a user-mode network.
  virtual bool HostForward(bool add, const std::string& rule, std::string* out) { return false; }
  virtual bool ConnectionInfo(std::string* out) { return false; }
};

}  // namespace strobe::vmm::net
