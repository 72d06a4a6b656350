// SPDX-License-Identifier: MIT
#include "vmm/devices/virtio_balloon.h"

#include <cstring>
#include <vector>

#include "vmm/state_io.h"

namespace strobe::vmm {

uint8_t VirtioBalloon::ReadConfigByte(uint32_t offset) {
  uint32_t word = 0;
  switch (offset / 4) {
    case 0: word = num_pages_; break;
    case 1: word = actual_; break;
    case 2: word = 0; break;  // free_page_hint_cmd_id: no free page hinting
    case 3: word = poison_; break;
  }
  return static_cast<uint8_t>(word >> (8 * (offset % 4)));
}

void VirtioBalloon::WriteConfigByte(uint32_t offset, uint8_t value) {
  if (offset >= 12 && offset < 16) {
    poison_ = (poison_ & ~(0xFFu << (8 * (offset - 12)))) | (uint32_t{value} << (8 * (offset - 12)));
    return;
  }
  if (offset < 4 || offset >= 8) return;  // num_pages and the command id are the host's
  pending_[offset - 4] = value;
  // Linux writes the count as one 32-bit access, which arrives a byte at a time: the new count (and its
  // event) once its last byte is in.
  if (offset != 7) return;
  uint32_t actual;
  std::memcpy(&actual, pending_, 4);
  if (actual == actual_) return;
  actual_ = actual;
  if (config_.actual_changed) config_.actual_changed(memory_left());
}

void VirtioBalloon::SetTarget(uint32_t pages) {
  if (pages == num_pages_) return;
  num_pages_ = pages;
  if (transport_) transport_->ConfigChanged();
}

void VirtioBalloon::QueueNotify(unsigned q) {
  if (!transport_ || transport_->broken()) return;
  if (q == kStats) {
    // The driver's statistics buffer: held, as QEMU holds it while nobody asks for statistics (it goes
    // back with the next reset).
    VirtqChain chain;
    while (transport_->Take(kStats, &chain) == Virtqueue::Pop::kChain) {
    }
    return;
  }
  if (q != kInflate && q != kDeflate) return;
  // Poisoned free pages must keep their poison: then nothing is taken.
  const bool take = q == kInflate && config_.discard && !((accepted_ & kFPagePoison) && poison_);
  bool pushed = false;
  std::vector<uint8_t> pfns;
  for (;;) {
    VirtqChain chain;
    const Virtqueue::Pop pop = transport_->Take(q, &chain);
    if (pop == Virtqueue::Pop::kEmpty) break;
    if (pop == Virtqueue::Pop::kBroken) return;
    for (const VirtqBuffer& b : chain.buffers) {
      if (b.device_writable) continue;
      pfns.resize(b.len & ~3u);
      if (!transport_->memory().Read(b.addr, pfns.data(), pfns.size())) {
        transport_->DeviceError("a page list outside RAM");
        return;
      }
      if (!take) continue;
      for (size_t i = 0; i < pfns.size(); i += 4) {
        uint32_t pfn;
        std::memcpy(&pfn, &pfns[i], 4);
        if (pfn >= config_.ram_bytes >> 12) continue;  // not RAM: nothing to take
        config_.discard(pfn << 12);
        ++discarded_;
      }
    }
    if (!transport_->Give(q, chain.head, 0)) return;
    pushed = true;
  }
  if (pushed) transport_->QueueUsed(q);
}

void VirtioBalloon::Reset() {
  actual_ = 0;
  poison_ = 0;
  accepted_ = 0;
  std::memset(pending_, 0, sizeof pending_);
}

void VirtioBalloon::State(StateIo& io) {
  io.Field(accepted_);
  io.Field(num_pages_);
  io.Field(actual_);
  io.Field(poison_);
  if (io.loading()) std::memcpy(pending_, &actual_, 4);
}

}  // namespace strobe::vmm
