// SPDX-License-Identifier: MIT
#include "vmm/net/net_port.h"

namespace strobe::vmm::net {

NetPort::NetPort(NetBackend& backend, block::CompletionList& completions, PcapWriter* pcap)
    : backend_(backend), completions_(completions), pcap_(pcap) {}

NetPort::~NetPort() {
  backend_.Stop();
}

void NetPort::Start(NicFrontend* nic) {
  nic_ = nic;
  backend_.Start([this](Frame f) { Incoming(std::move(f)); });
}

void NetPort::Transmit(const uint8_t* frame, size_t length) {
  if (pcap_) pcap_->Write(frame, length);
  backend_.Send(frame, length);
}

void NetPort::Incoming(Frame frame) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rx_.size() >= kMaxQueuedFrames) {
      dropped_.fetch_add(1);
      return;
    }
    rx_.push_back(std::move(frame));
    pending_.store(true, std::memory_order_release);
  }
  // The callback runs on the vCPU thread; posting wakes an idle WAIT through the list's notifier (also
  // when earlier frames are still held for want of a buffer).
  completions_.Post([this] { Deliver(); });
}

void NetPort::Deliver() {
  if (!nic_) return;
  for (;;) {
    Frame frame;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (rx_.empty()) {
        pending_.store(false, std::memory_order_release);
        return;
      }
      // The vCPU thread is the only consumer: the front stays put while the lock is released.
      if (rx_.size() <= kHoldFrames && !nic_->CanReceive(rx_.front().size())) return;
      frame = std::move(rx_.front());
      rx_.pop_front();
    }
    if (pcap_) pcap_->Write(frame.data(), frame.size());
    nic_->Receive(frame.data(), frame.size());
  }
}

}  // namespace strobe::vmm::net
