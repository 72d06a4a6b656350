// SPDX-License-Identifier: MIT
// A virtual Ethernet switch inside the monitor (QEMU's -netdev hubport,hubid=N): every NIC attached to hub N
// — of one VM or of several VMs in the process — is a port. A frame goes to the port that last sent from its
// destination MAC address, and to every other port when the address is unknown, broadcast or multicast
// (a learning switch; QEMU's hub floods every frame). VM-to-VM traffic never leaves the process.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "vmm/net/backend.h"

namespace strobe::vmm::net {

class HubPort;

class Hub {
 public:
  // The process's hub with this id, created on first use (hubs live as long as the process).
  static Hub& Get(int id);
  // A new port: the NIC's backend.
  std::unique_ptr<NetBackend> AddPort();
  // Frames forwarded and flooded so far (tests, statistics).
  uint64_t forwarded() const { return forwarded_.load(); }
  uint64_t flooded() const { return flooded_.load(); }

 private:
  friend class HubPort;
  // From `from` (any VM's vCPU thread): to the learnt port, or to every other port.
  void Forward(HubPort* from, const uint8_t* frame, size_t length);
  void Detach(HubPort* port);

  std::mutex mu_;
  std::vector<HubPort*> ports_;
  std::map<std::array<uint8_t, 6>, HubPort*> learnt_;
  std::atomic<uint64_t> forwarded_{0}, flooded_{0};
};

class HubPort : public NetBackend {
 public:
  explicit HubPort(Hub& hub) : hub_(hub) {}
  ~HubPort() override;
  void Start(Receiver receiver) override;
  void Stop() override;
  void Send(const uint8_t* frame, size_t length) override;
  bool Active(int window_ms) const override;
  // A switch port has no state of its own (the hub's learnt addresses are relearnt from the next frames).
  std::string SnapshotKind() const override { return "hubport"; }

 private:
  friend class Hub;
  void Deliver(const uint8_t* frame, size_t length);  // with the hub's lock held

  Hub& hub_;
  Receiver receiver_;  // set by Start, cleared by Stop (under the hub's lock)
  LinkActivity activity_;
};

}  // namespace strobe::vmm::net
