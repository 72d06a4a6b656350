// SPDX-License-Identifier: MIT
// A virtio network device (Virtual I/O Device (VIRTIO) Version 1.1, 5.1 "Network Device"), behind the PCI
// transport (virtio_pci.h) as QEMU's virtio-net-pci: 1af4:1000, class 0x020000 (Ethernet), two queues of
// 256 entries, receiveq (0) and transmitq (1); no control queue. Features offered: VIRTIO_NET_F_MAC (the
// station address in the configuration space), VIRTIO_NET_F_STATUS (the link is always up) and
// VIRTIO_NET_F_MRG_RXBUF (mergeable receive buffers); no checksum or segmentation offloads, so every
// frame crosses whole and checksummed. The configuration space is mac[6] and status (8 bytes).
//
// Every frame carries a struct virtio_net_hdr in front (5.1.6): 10 bytes for a legacy driver, 12 (with
// num_buffers) when MRG_RXBUF or VIRTIO_F_VERSION_1 is negotiated. Transmit: each chain's device-readable
// bytes are the header (ignored: no offloads were offered) and the frame, however the buffers split them;
// the frame goes to the TransmitFn and the chain back to the used ring at once. Receive: the header (all
// zero but num_buffers) and the frame are written over the device-writable bytes of one chain, or, with
// MRG_RXBUF, of as many chains as it takes (num_buffers says how many). A frame that does not fit in one
// chain without MRG_RXBUF is dropped (as QEMU does); with MRG_RXBUF the frame waits in its NetPort until
// the driver has posted enough buffers (CanReceive). A tx chain shorter than its header, or a malformed
// ring, stops the device (NEEDS_RESET, one line; virtio_pci.h).
//
// Frames arrive through net::NicFrontend from a NetPort on the vCPU thread; a notify on the receive queue
// (the driver posted buffers) calls the rx-ready callback, which hands waiting frames over at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "vmm/devices/virtio_pci.h"
#include "vmm/net/net_port.h"

namespace strobe::vmm {

class VirtioNet final : public VirtioDevice, public net::NicFrontend {
 public:
  static constexpr uint16_t kQueueSize = 256;  // QEMU's rx_queue_size and tx_queue_size
  static constexpr unsigned kRxQueue = 0, kTxQueue = 1;
  // Feature bits (5.1.3).
  static constexpr uint32_t kFMac = 1u << 5, kFMrgRxbuf = 1u << 15, kFStatus = 1u << 16;
  static constexpr size_t kLegacyHeader = 10, kMergeableHeader = 12;
  using TransmitFn = std::function<void(const uint8_t* frame, size_t length)>;

  explicit VirtioNet(const std::array<uint8_t, 6>& mac);
  void set_transmit(TransmitFn f) { transmit_ = std::move(f); }
  // Called when the driver notifies the receive queue (it posted buffers).
  void set_rx_ready(std::function<void()> f) { rx_ready_ = std::move(f); }

  // VirtioDevice
  uint16_t type() const override { return 1; }
  uint32_t pci_class() const override { return 0x020000; }
  uint32_t features() const override { return kFMac | kFStatus | kFMrgRxbuf; }
  void FeaturesAccepted(uint64_t features) override;
  unsigned queue_count() const override { return 2; }
  uint16_t queue_size(unsigned) const override { return kQueueSize; }
  uint32_t config_size() const override { return 8; }
  uint8_t ReadConfigByte(uint32_t offset) override;
  void WriteConfigByte(uint32_t offset, uint8_t value) override;
  void QueueNotify(unsigned q) override;
  void Reset() override;
  bool Snapshottable() const override { return true; }
  void State(StateIo& io) override;

  // net::NicFrontend
  bool CanReceive(size_t length) override;
  void Receive(const uint8_t* frame, size_t length) override;
  std::array<uint8_t, 6> StationAddress() override { return mac_; }

  size_t header_bytes() const { return header_; }
  // Frames dropped on receive (device not ready, no buffer, too large) and on transmit (too large).
  uint64_t rx_dropped() const { return rx_dropped_; }
  uint64_t tx_dropped() const { return tx_dropped_; }

 private:
  bool RxReady() const;
  bool mergeable() const { return (accepted_ & kFMrgRxbuf) != 0; }
  // Takes chains from the receive queue until they hold `bytes` (one chain without MRG_RXBUF). false when
  // the ring ran out (the chains taken are given back) or broke (the device is stopped).
  bool TakeRxChains(size_t bytes, std::vector<VirtqChain>* chains);
  void GiveBack(size_t chains);
  void TransmitChain(const VirtqChain& chain);

  std::array<uint8_t, 6> mac_, initial_mac_;
  TransmitFn transmit_;
  std::function<void()> rx_ready_;
  uint64_t accepted_ = 0;
  size_t header_ = kLegacyHeader;
  std::vector<uint8_t> rx_buf_, tx_buf_;
  std::vector<VirtqChain> rx_chains_;
  uint64_t rx_dropped_ = 0, tx_dropped_ = 0;
};

}  // namespace strobe::vmm
