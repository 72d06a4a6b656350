// SPDX-License-Identifier: MIT
#include "vmm/net/hub.h"

#include <algorithm>
#include <cstring>

namespace strobe::vmm::net {

Hub& Hub::Get(int id) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<Hub>> hubs;  // never destroyed before the ports: see header
  std::lock_guard<std::mutex> lock(mu);
  auto& hub = hubs[id];
  if (!hub) hub = std::make_unique<Hub>();
  return *hub;
}

std::unique_ptr<NetBackend> Hub::AddPort() {
  auto port = std::make_unique<HubPort>(*this);
  std::lock_guard<std::mutex> lock(mu_);
  ports_.push_back(port.get());
  return port;
}

void Hub::Detach(HubPort* port) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(ports_, port);
  std::erase_if(learnt_, [port](const auto& e) { return e.second == port; });
  port->receiver_ = nullptr;
}

void Hub::Forward(HubPort* from, const uint8_t* frame, size_t length) {
  if (length < 14) return;  // not even an Ethernet header: dropped, as a switch drops a runt
  std::array<uint8_t, 6> dst, src;
  std::memcpy(dst.data(), frame, 6);
  std::memcpy(src.data(), frame + 6, 6);
  std::lock_guard<std::mutex> lock(mu_);
  if (!(src[0] & 1)) learnt_[src] = from;  // a unicast source: that port has it
  if (!(dst[0] & 1)) {
    auto it = learnt_.find(dst);
    if (it != learnt_.end()) {
      if (it->second != from) it->second->Deliver(frame, length);
      ++forwarded_;
      return;
    }
  }
  ++flooded_;
  for (HubPort* p : ports_)
    if (p != from) p->Deliver(frame, length);
}

HubPort::~HubPort() {
  Stop();
}

void HubPort::Start(Receiver receiver) {
  std::lock_guard<std::mutex> lock(hub_.mu_);
  receiver_ = std::move(receiver);
}

void HubPort::Stop() {
  hub_.Detach(this);
}

void HubPort::Send(const uint8_t* frame, size_t length) {
  activity_.Touch();
  hub_.Forward(this, frame, std::min(length, kMaxFrameBytes));
}

void HubPort::Deliver(const uint8_t* frame, size_t length) {
  if (!receiver_) return;  // not started, or stopped: the frame is lost, as on an unplugged cable
  activity_.Touch();
  receiver_(Frame(frame, frame + length));
}

bool HubPort::Active(int window_ms) const {
  return activity_.Within(window_ms);
}

}  // namespace strobe::vmm::net
