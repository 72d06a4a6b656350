// SPDX-License-Identifier: MIT
#include "vmm/devices/virtio_net.h"

#include <algorithm>
#include <cstring>

#include "vmm/net/backend.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint32_t kCfgStatus = 6;     // after mac[6]
constexpr uint16_t kStatusLinkUp = 1;  // VIRTIO_NET_S_LINK_UP
constexpr size_t kMinFrame = 14;       // an Ethernet header
constexpr size_t kNumBuffersAt = 10;   // virtio_net_hdr_mrg_rxbuf.num_buffers

// Writes `bytes` over a chain's device-writable buffers, in order; the count written.
size_t Scatter(GuestMemory& memory, const VirtqChain& chain, const uint8_t* bytes, size_t length) {
  size_t done = 0;
  for (const VirtqBuffer& b : chain.buffers) {
    if (!b.device_writable || done == length) continue;
    const size_t n = std::min<size_t>(b.len, length - done);
    memory.Write(b.addr, bytes + done, n);
    done += n;
  }
  return done;
}
}  // namespace

VirtioNet::VirtioNet(const std::array<uint8_t, 6>& mac) : mac_(mac), initial_mac_(mac) {}

void VirtioNet::FeaturesAccepted(uint64_t features) {
  accepted_ = features;
  header_ = (features & (kFMrgRxbuf | virtio::kFVersion1)) ? kMergeableHeader : kLegacyHeader;
}

void VirtioNet::Reset() {
  accepted_ = 0;
  header_ = kLegacyHeader;
  mac_ = initial_mac_;
}

uint8_t VirtioNet::ReadConfigByte(uint32_t offset) {
  if (offset < kCfgStatus) return mac_[offset];
  if (offset == kCfgStatus) return kStatusLinkUp & 0xFF;
  return kStatusLinkUp >> 8;
}

void VirtioNet::WriteConfigByte(uint32_t offset, uint8_t value) {
  // A legacy driver sets its address by writing the configuration (without VIRTIO_NET_F_CTRL_MAC_ADDR);
  // the modern interface keeps it read-only. No filter uses it: the device takes every frame.
  if (offset < kCfgStatus && !(accepted_ & virtio::kFVersion1)) mac_[offset] = value;
}

bool VirtioNet::RxReady() const {
  return transport_ && (transport_->status() & virtio::kStatusDriverOk) && !transport_->broken() &&
         transport_->queue(kRxQueue).enabled();
}

// ---- receive ----------------------------------------------------------------------------------------

void VirtioNet::GiveBack(size_t chains) {
  transport_->queue(kRxQueue).Rewind(static_cast<uint16_t>(chains));
}

bool VirtioNet::TakeRxChains(size_t bytes, std::vector<VirtqChain>* chains) {
  Virtqueue& q = transport_->queue(kRxQueue);
  chains->clear();
  uint64_t room = 0;
  while (room < bytes) {
    if (!chains->empty() && !mergeable()) break;  // one chain holds the frame, or the frame is lost
    VirtqChain chain;
    std::string error;
    switch (q.Next(&chain, &error)) {
      case Virtqueue::Pop::kChain: break;
      case Virtqueue::Pop::kEmpty: GiveBack(chains->size()); return false;
      case Virtqueue::Pop::kBroken:
        GiveBack(chains->size());
        transport_->DeviceError(error);
        return false;
    }
    if (chain.readable) {
      GiveBack(chains->size() + 1);
      transport_->DeviceError("a receive buffer the device may not write");
      return false;
    }
    room += chain.writable;
    chains->push_back(std::move(chain));
  }
  return true;
}

bool VirtioNet::CanReceive(size_t length) {
  if (!RxReady()) return false;
  // Without MRG_RXBUF any chain will do: a frame it cannot hold is dropped rather than held forever. Taking
  // the chains (and giving them back) also asks the driver, when the ring runs dry, to notify on the next.
  if (!TakeRxChains(mergeable() ? header_ + length : 1, &rx_chains_)) return false;
  GiveBack(rx_chains_.size());
  return true;
}

void VirtioNet::Receive(const uint8_t* frame, size_t length) {
  if (!RxReady() || length < kMinFrame || length > net::kMaxFrameBytes) {
    ++rx_dropped_;
    return;
  }
  const size_t total = header_ + length;
  if (!TakeRxChains(total, &rx_chains_)) {  // no buffer: the frame is lost, as on a full ring
    ++rx_dropped_;
    return;
  }
  Virtqueue& q = transport_->queue(kRxQueue);
  if (!mergeable() && rx_chains_[0].writable < total) {  // too large for the driver's buffers
    GiveBack(1);
    ++rx_dropped_;
    return;
  }
  rx_buf_.assign(header_, 0);  // no flags, GSO_NONE
  if (header_ == kMergeableHeader) {
    const uint16_t n = static_cast<uint16_t>(rx_chains_.size());
    std::memcpy(&rx_buf_[kNumBuffersAt], &n, 2);  // little-endian guest
  }
  rx_buf_.insert(rx_buf_.end(), frame, frame + length);
  size_t done = 0;
  for (const VirtqChain& chain : rx_chains_) {
    const size_t n = Scatter(transport_->memory(), chain, rx_buf_.data() + done, rx_buf_.size() - done);
    done += n;
    if (!q.Push(chain.head, static_cast<uint32_t>(n))) {
      transport_->DeviceError("the used ring is outside RAM");
      return;
    }
  }
  transport_->QueueUsed(kRxQueue);
}

// ---- transmit ---------------------------------------------------------------------------------------

void VirtioNet::TransmitChain(const VirtqChain& chain) {
  const uint64_t length = chain.readable - header_;
  if (length < kMinFrame || length > net::kMaxFrameBytes) {
    ++tx_dropped_;
    return;
  }
  // The readable bytes after the header, wherever the buffers split them.
  tx_buf_.resize(length);
  uint64_t skip = header_, done = 0;
  for (const VirtqBuffer& b : chain.buffers) {
    if (b.device_writable) break;
    const uint64_t s = std::min<uint64_t>(skip, b.len);
    skip -= s;
    const uint64_t n = b.len - s;
    if (n) transport_->memory().Read(static_cast<uint32_t>(b.addr + s), tx_buf_.data() + done, n);
    done += n;
  }
  if (transmit_) transmit_(tx_buf_.data(), tx_buf_.size());
}

void VirtioNet::QueueNotify(unsigned q) {
  if (q == kRxQueue) {
    if (rx_ready_) rx_ready_();
    return;
  }
  if (q != kTxQueue) return;
  bool pushed = false;
  for (;;) {
    VirtqChain chain;
    const Virtqueue::Pop pop = transport_->Take(kTxQueue, &chain);
    if (pop == Virtqueue::Pop::kEmpty) break;
    if (pop == Virtqueue::Pop::kBroken) return;
    if (chain.readable < header_) {
      transport_->DeviceError("a transmit chain of " + std::to_string(chain.readable) +
                              " bytes, shorter than its " + std::to_string(header_) + "-byte header");
      return;
    }
    TransmitChain(chain);
    if (!transport_->Give(kTxQueue, chain.head, 0)) return;
    pushed = true;
  }
  if (pushed) transport_->QueueUsed(kTxQueue);
}

void VirtioNet::State(StateIo& io) {
  io.Raw(mac_.data(), mac_.size());
  io.Field(accepted_);
  uint64_t header = header_;
  io.Field(header);
  io.Field(rx_dropped_);
  io.Field(tx_dropped_);
  if (io.Check(header == kLegacyHeader || header == kMergeableHeader, "virtio-net header size"))
    header_ = static_cast<size_t>(header);
}

}  // namespace strobe::vmm
