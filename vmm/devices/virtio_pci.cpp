// SPDX-License-Identifier: MIT
#include "vmm/devices/virtio_pci.h"

#include <cstdio>

namespace strobe::vmm {

namespace {
// Legacy register offsets (4.1.4.8).
constexpr uint32_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0C,
                   kQueueSelect = 0x0E, kQueueNotify = 0x10, kStatus = 0x12, kIsr = 0x13;
constexpr uint8_t kIsrQueue = 1, kIsrConfig = 2;
constexpr uint16_t kVendor = 0x1AF4;

uint32_t BarSize(uint32_t bytes) {
  uint32_t size = 32;
  while (size < bytes) size <<= 1;
  return size;
}
}  // namespace

VirtioPci::VirtioPci(VirtioDevice* device, GuestMemory* memory, std::string location)
    : PciFunction(kVendor, static_cast<uint16_t>(0x1000 + device->type() - 1), 0x00, device->pci_class(),
                  0x00),
      device_(device),
      memory_(memory),
      location_(std::move(location)) {
  Set16(0x06, 0x0000);  // status: no capabilities list (no modern interface, no MSI-X)
  Set16(0x2C, kVendor);
  Set16(0x2E, device->type());
  SetInterruptPin(1);
  DeclareBar(0, PciSpace::kIo, BarSize(kConfigOffset + device->config_size()), this);
  for (unsigned q = 0; q < device->queue_count(); ++q) queues_.emplace_back(memory, device->queue_size(q));
  device->Bind(this);
}

uint32_t VirtioPci::host_features() const {
  return device_->features() | virtio::kFAnyLayout | virtio::kFIndirectDesc | virtio::kFEventIdx;
}

uint32_t VirtioPci::RegisterByte(uint32_t offset) const {
  auto byte = [offset](uint32_t value, uint32_t base) { return (value >> (8 * (offset - base))) & 0xFF; };
  const Virtqueue* q = queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
  if (offset < kGuestFeatures) return byte(host_features(), kHostFeatures);
  if (offset < kQueuePfn) return byte(guest_features_, kGuestFeatures);
  if (offset < kQueueSize) return byte(q ? q->pfn() : 0, kQueuePfn);
  if (offset < kQueueSelect) return byte(q ? q->max_size() : 0, kQueueSize);
  if (offset < kQueueNotify) return byte(queue_select_, kQueueSelect);
  if (offset < kStatus) return 0;  // notify reads 0
  if (offset == kStatus) return status_;
  return isr_;
}

uint32_t VirtioPci::Read(uint32_t offset, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t at = offset + i;
    uint32_t b;
    if (at < kConfigOffset) {
      b = RegisterByte(at);
    } else {
      const uint32_t c = at - kConfigOffset;
      b = c < device_->config_size() ? device_->ReadConfigByte(c) : 0;
    }
    v |= b << (8 * i);
  }
  if (offset <= kIsr && offset + size > kIsr) {  // reading ISR acknowledges the interrupt
    isr_ = 0;
    SetIntx(false);
  }
  return v;
}

void VirtioPci::Write(uint32_t offset, unsigned size, uint32_t value) {
  if (offset >= kConfigOffset) {
    for (unsigned i = 0; i < size; ++i) {
      const uint32_t c = offset + i - kConfigOffset;
      if (c < device_->config_size()) device_->WriteConfigByte(c, static_cast<uint8_t>(value >> (8 * i)));
    }
    return;
  }
  WriteRegister(offset, size, value);
}

void VirtioPci::WriteRegister(uint32_t offset, unsigned size, uint32_t value) {
  switch (offset) {
    case kGuestFeatures: {
      if (size != 4) return;
      guest_features_ = value & host_features();
      for (Virtqueue& q : queues_) {
        q.set_indirect(guest_features_ & virtio::kFIndirectDesc);
        q.set_event_idx(guest_features_ & virtio::kFEventIdx);
      }
      device_->FeaturesAccepted(guest_features_);
      return;
    }
    case kQueuePfn:
      if (size == 4 && queue_select_ < queues_.size())
        queues_[queue_select_].SetLegacy(value, queues_[queue_select_].max_size());
      return;
    case kQueueSelect: queue_select_ = static_cast<uint16_t>(value); return;
    case kQueueNotify: {
      const unsigned q = value & 0xFFFF;
      if (!broken_ && q < queues_.size() && queues_[q].enabled()) device_->QueueNotify(q);
      return;
    }
    case kStatus: {
      const uint8_t v = static_cast<uint8_t>(value);
      if (v == 0) {
        DeviceReset();
        return;
      }
      status_ = static_cast<uint8_t>(v | (status_ & virtio::kStatusNeedsReset));
      return;
    }
    default: return;  // read-only registers and odd offsets
  }
}

void VirtioPci::QueueUsed(unsigned q) {
  if (!queues_[q].NeedInterrupt()) return;
  isr_ |= kIsrQueue;
  SetIntx(true);
}

void VirtioPci::ConfigChanged() {
  isr_ |= kIsrConfig;
  SetIntx(true);
}

void VirtioPci::DeviceError(const std::string& what) {
  if (!reported_) {
    std::fprintf(stderr, "strobe: %s: the guest driver broke the virtio protocol (%s); device stopped\n",
                 location_.c_str(), what.c_str());
    reported_ = true;
  }
  broken_ = true;
  status_ |= virtio::kStatusNeedsReset;
}

void VirtioPci::DeviceReset() {
  device_->Reset();
  for (Virtqueue& q : queues_) {
    q.Reset();
    q.set_indirect(false);
    q.set_event_idx(false);
  }
  guest_features_ = 0;
  queue_select_ = 0;
  status_ = 0;
  isr_ = 0;
  broken_ = false;
  SetIntx(false);
}

void VirtioPci::Reset() {
  DeviceReset();
}

}  // namespace strobe::vmm
