// SPDX-License-Identifier: MIT
#include "vmm/devices/virtqueue.h"

#include <cstring>
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
// Descriptor flags (2.6.5) and ring flags (2.6.6, 2.6.8).
constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint32_t kDescSize = 16;

// vring_need_event: whether `event` lies in (old, new], modulo 2^16 (2.6.7.1).
bool NeedEvent(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old_idx);
}
}  // namespace

void Virtqueue::Reset() {
  size_ = 0;
  pfn_ = 0;
  desc_ = avail_ = used_ = 0;
  last_avail_ = used_idx_ = signalled_ = 0;
}

void Virtqueue::SetLegacy(uint32_t pfn, uint16_t size) {
  if (pfn == 0) {
    Reset();
    return;
  }
  const uint32_t desc = pfn << 12;
  const uint32_t avail = desc + kDescSize * size;
  const uint32_t used = (avail + 4 + 2u * size + 2 + kLegacyAlign - 1) & ~(kLegacyAlign - 1);
  Set(desc, avail, used, size);
  pfn_ = pfn;
}

void Virtqueue::Set(uint32_t desc, uint32_t avail, uint32_t used, uint16_t size) {
  Reset();
  desc_ = desc;
  avail_ = avail;
  used_ = used;
  size_ = size;
}

bool Virtqueue::ReadDesc(uint32_t table, unsigned i, Desc* d) const {
  uint8_t raw[kDescSize];
  if (!memory_->Read(table + kDescSize * i, raw, sizeof raw)) return false;
  std::memcpy(&d->addr, raw, 8);
  std::memcpy(&d->len, raw + 8, 4);
  std::memcpy(&d->flags, raw + 12, 2);
  std::memcpy(&d->next, raw + 14, 2);
  return true;
}

bool Virtqueue::AddBuffer(const Desc& d, VirtqChain* chain, std::string* error) const {
  const bool writable = d.flags & kDescWrite;
  if (!writable && chain->writable) {
    *error = "a device-readable buffer after a device-writable one";
    return false;
  }
  if (d.addr + d.len > (uint64_t{1} << 32) || !memory_->IsRam(static_cast<uint32_t>(d.addr), d.len)) {
    *error = "a buffer outside RAM";
    return false;
  }
  chain->buffers.push_back({static_cast<uint32_t>(d.addr), d.len, writable});
  (writable ? chain->writable : chain->readable) += d.len;
  return true;
}

bool Virtqueue::WalkIndirect(const Desc& d, VirtqChain* chain, std::string* error) const {
  if (!indirect_) {
    *error = "an indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
    return false;
  }
  if (d.flags & kDescNext) {
    *error = "an indirect descriptor with NEXT set";
    return false;
  }
  const uint32_t count = d.len / kDescSize;
  if (d.len % kDescSize || count == 0 || count > kMaxIndirect) {
    *error = "an indirect table of " + std::to_string(d.len) + " bytes";
    return false;
  }
  if (d.addr + d.len > (uint64_t{1} << 32) || !memory_->IsRam(static_cast<uint32_t>(d.addr), d.len)) {
    *error = "an indirect table outside RAM";
    return false;
  }
  const uint32_t table = static_cast<uint32_t>(d.addr);
  unsigned i = 0;
  for (uint32_t seen = 0;; ++seen) {
    if (seen == count) {
      *error = "a loop in an indirect table";
      return false;
    }
    Desc e;
    ReadDesc(table, i, &e);
    if (e.flags & kDescIndirect) {
      *error = "a nested indirect table";
      return false;
    }
    if (!AddBuffer(e, chain, error)) return false;
    if (!(e.flags & kDescNext)) return true;
    if (e.next >= count) {
      *error = "an indirect descriptor's next index out of range";
      return false;
    }
    i = e.next;
  }
}

bool Virtqueue::HasAvailable() {
  uint16_t idx;
  return enabled() && Read16(avail_ + 2, &idx) && idx != last_avail_;
}

Virtqueue::Pop Virtqueue::Next(VirtqChain* chain, std::string* error) {
  if (!enabled()) return Pop::kEmpty;
  uint16_t avail_idx;
  if (!Read16(avail_ + 2, &avail_idx)) {
    *error = "the available ring is outside RAM";
    return Pop::kBroken;
  }
  if (avail_idx == last_avail_) {
    if (event_idx_) Write16(used_ + 4 + 8u * size_, last_avail_);  // avail_event: notify on the next one
    return Pop::kEmpty;
  }
  if (static_cast<uint16_t>(avail_idx - last_avail_) > size_) {
    *error = "the available index moved " + std::to_string(static_cast<uint16_t>(avail_idx - last_avail_)) +
             " entries ahead of a ring of " + std::to_string(size_);
    return Pop::kBroken;
  }
  uint16_t head;
  if (!Read16(avail_ + 4 + 2u * (last_avail_ % size_), &head)) {
    *error = "the available ring is outside RAM";
    return Pop::kBroken;
  }
  if (head >= size_) {
    *error = "head descriptor " + std::to_string(head) + " out of range";
    return Pop::kBroken;
  }
  chain->head = head;
  chain->buffers.clear();
  chain->readable = chain->writable = 0;
  unsigned i = head;
  for (unsigned seen = 0;; ++seen) {
    if (seen == size_) {
      *error = "a loop in a descriptor chain";
      return Pop::kBroken;
    }
    Desc d;
    if (!ReadDesc(desc_, i, &d)) {
      *error = "the descriptor table is outside RAM";
      return Pop::kBroken;
    }
    if (d.flags & kDescIndirect) {
      if (!WalkIndirect(d, chain, error)) return Pop::kBroken;
      break;  // an indirect descriptor ends the chain (NEXT was refused)
    }
    if (!AddBuffer(d, chain, error)) return Pop::kBroken;
    if (!(d.flags & kDescNext)) break;
    if (d.next >= size_) {
      *error =
          "descriptor " + std::to_string(i) + "'s next index " + std::to_string(d.next) + " out of range";
      return Pop::kBroken;
    }
    i = d.next;
  }
  ++last_avail_;
  return Pop::kChain;
}

bool Virtqueue::Push(uint16_t head, uint32_t written) {
  uint32_t elem[2] = {head, written};
  if (!memory_->Write(used_ + 4 + 8u * (used_idx_ % size_), elem, sizeof elem)) return false;
  ++used_idx_;
  return Write16(used_ + 2, used_idx_);  // after the element: the driver reads idx, then the entries
}

bool Virtqueue::NeedInterrupt() {
  const uint16_t old = signalled_;
  signalled_ = used_idx_;
  if (!enabled() || old == used_idx_) return false;
  if (event_idx_) {
    uint16_t used_event;
    if (!Read16(avail_ + 4 + 2u * size_, &used_event)) return true;
    return NeedEvent(used_event, used_idx_, old);
  }
  uint16_t flags;
  if (!Read16(avail_, &flags)) return true;
  return !(flags & kAvailNoInterrupt);
}

void Virtqueue::State(StateIo& io) {
  io.Field(size_);
  io.Field(pfn_);
  io.Field(desc_);
  io.Field(avail_);
  io.Field(used_);
  io.Field(last_avail_);
  io.Field(used_idx_);
  io.Field(signalled_);
  io.Field(indirect_);
  io.Field(event_idx_);
  io.Check(size_ <= max_size_, "virtqueue size out of range");
}

}  // namespace strobe::vmm
