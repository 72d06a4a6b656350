// SPDX-License-Identifier: MIT
#include "vmm/devices/virtio_pci.h"

#include <cstdio>
#include <iterator>
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
// Legacy register offsets (4.1.4.8).
constexpr uint32_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0C,
                   kQueueSelect = 0x0E, kQueueNotify = 0x10, kStatus = 0x12, kIsr = 0x13;
constexpr uint8_t kIsrQueue = 1, kIsrConfig = 2;
constexpr uint16_t kVendor = 0x1AF4;
// Modern common configuration (4.1.4.3).
constexpr uint32_t kDeviceFeatureSelect = 0x00, kDeviceFeature = 0x04, kDriverFeatureSelect = 0x08,
                   kDriverFeature = 0x0C, kMsixConfig = 0x10, kNumQueues = 0x12, kDeviceStatus = 0x14,
                   kConfigGeneration = 0x15, kQSelect = 0x16, kQSize = 0x18, kQMsixVector = 0x1A,
                   kQEnable = 0x1C, kQNotifyOff = 0x1E, kQDesc = 0x20, kQDriver = 0x28, kQDevice = 0x30,
                   kCommonEnd = 0x38;
constexpr uint16_t kNoVector = 0xFFFF;
// Capability types (4.1.4).
constexpr uint8_t kCapCommon = 1, kCapNotify = 2, kCapIsr = 3, kCapDevice = 4;
constexpr uint8_t kCapFirst = 0x40;

uint32_t BarSize(uint32_t bytes) {
  uint32_t size = 32;
  while (size < bytes) size <<= 1;
  return size;
}
}  // namespace

VirtioPci::VirtioPci(VirtioDevice* device, GuestMemory* memory, std::string location)
    : PciFunction(kVendor, device->pci_device_id(), 0x00, device->pci_class(), 0x00),
      device_(device),
      memory_(memory),
      location_(std::move(location)) {
  Set16(0x06, 0x0000);  // status: no capabilities list (no modern interface, no MSI-X)
  Set16(0x2C, kVendor);
  Set16(0x2E, device->type());
  SetInterruptPin(1);
  DeclareBar(0, PciSpace::kIo, BarSize(kConfigOffset + device->config_size()), this);
  DeclareMemory64Bar(4, kModernBarSize, &modern_);
  AddCapabilities();
  for (unsigned q = 0; q < device->queue_count(); ++q) queues_.emplace_back(memory, device->queue_size(q));
  setup_.resize(queues_.size());
  for (unsigned q = 0; q < queues_.size(); ++q) setup_[q].size = queues_[q].max_size();
  device->Bind(this);
}

void VirtioPci::AddCapabilities() {
  Set16(0x06, 0x0010);  // status: capabilities list
  Set8(0x34, kCapFirst);
  struct Cap {
    uint8_t type;
    uint32_t offset, length;
  };
  const Cap caps[] = {{kCapCommon, kCommonCfg, 0x1000},
                      {kCapIsr, kIsrCfg, 0x1000},
                      {kCapDevice, kDeviceCfg, 0x1000},
                      {kCapNotify, kNotifyCfg, 0x1000}};
  uint8_t at = kCapFirst;
  for (size_t i = 0; i < std::size(caps); ++i) {
    const bool last = i + 1 == std::size(caps);
    const uint8_t len = caps[i].type == kCapNotify ? 20 : 16;  // notify adds notify_off_multiplier
    Set8(at, 0x09);                                            // vendor-specific
    Set8(at + 1, last ? 0 : static_cast<uint8_t>(at + 16));
    Set8(at + 2, len);
    Set8(at + 3, caps[i].type);
    Set8(at + 4, 4);  // BAR4
    Set32(at + 8, caps[i].offset);
    Set32(at + 12, caps[i].length);
    if (caps[i].type == kCapNotify) Set32(at + 16, kNotifyMultiplier);
    at = static_cast<uint8_t>(at + 16);
  }
}

uint64_t VirtioPci::host_features(bool modern) const {
  const uint64_t common = device_->features() | virtio::kFIndirectDesc | virtio::kFEventIdx;
  // VERSION_1 is the modern interface's; ANY_LAYOUT is the legacy name of what VERSION_1 implies.
  return modern ? (common | virtio::kFVersion1) : (common | virtio::kFAnyLayout);
}

uint32_t VirtioPci::RegisterByte(uint32_t offset) const {
  auto byte = [offset](uint32_t value, uint32_t base) { return (value >> (8 * (offset - base))) & 0xFF; };
  const Virtqueue* q = queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
  if (offset < kGuestFeatures) return byte(static_cast<uint32_t>(host_features(false)), kHostFeatures);
  if (offset < kQueuePfn) return byte(guest_features_, kGuestFeatures);
  if (offset < kQueueSize) return byte(q ? q->pfn() : 0, kQueuePfn);
  if (offset < kQueueSelect) return byte(q ? q->max_size() : 0, kQueueSize);
  if (offset < kQueueNotify) return byte(queue_select_, kQueueSelect);
  if (offset < kStatus) return 0;  // notify reads 0
  if (offset == kStatus) return status_;
  return isr_;
}

uint32_t VirtioPci::Read(uint32_t offset, unsigned size) {
  if (offset >= kConfigOffset) return ReadDeviceConfig(offset - kConfigOffset, size);
  uint32_t v = 0;
  for (unsigned i = 0; i < size && offset + i < kConfigOffset; ++i) v |= RegisterByte(offset + i) << (8 * i);
  if (offset <= kIsr && offset + size > kIsr) ReadIsr();  // reading ISR acknowledges the interrupt
  return v;
}

void VirtioPci::Write(uint32_t offset, unsigned size, uint32_t value) {
  if (offset >= kConfigOffset) {
    WriteDeviceConfig(offset - kConfigOffset, size, value);
    return;
  }
  WriteRegister(offset, size, value);
}

uint32_t VirtioPci::ReadDeviceConfig(uint32_t offset, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i)
    if (offset + i < device_->config_size()) v |= uint32_t{device_->ReadConfigByte(offset + i)} << (8 * i);
  return v;
}

void VirtioPci::WriteDeviceConfig(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i)
    if (offset + i < device_->config_size())
      device_->WriteConfigByte(offset + i, static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t VirtioPci::ReadIsr() {
  const uint32_t v = isr_;
  isr_ = 0;
  SetIntx(false);
  return v;
}

void VirtioPci::Notify(unsigned q) {
  if (!broken_ && q < queues_.size() && queues_[q].enabled()) device_->QueueNotify(q);
}

void VirtioPci::Accept(uint64_t features) {
  guest_features_ = static_cast<uint32_t>(features);
  for (Virtqueue& q : queues_) {
    q.set_indirect(features & virtio::kFIndirectDesc);
    q.set_event_idx(features & virtio::kFEventIdx);
  }
  device_->FeaturesAccepted(features);
}

void VirtioPci::WriteStatus(uint8_t v) {
  if (v == 0) {
    DeviceReset();
    return;
  }
  if ((v & virtio::kStatusFeaturesOk) && !(status_ & virtio::kStatusFeaturesOk)) {
    // The modern handshake: the features written so far are final; without VERSION_1 they are refused.
    const uint64_t accepted = driver_features_ & host_features(true);
    if (!(accepted & virtio::kFVersion1))
      v &= static_cast<uint8_t>(~virtio::kStatusFeaturesOk);
    else
      Accept(accepted);
  }
  status_ = static_cast<uint8_t>(v | (status_ & virtio::kStatusNeedsReset));
}

uint32_t VirtioPci::ModernRead(uint32_t offset, unsigned size) {
  if (offset < kIsrCfg) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size; ++i) v |= CommonByte(offset + i) << (8 * i);
    return v;
  }
  if (offset < kDeviceCfg) return offset == kIsrCfg ? ReadIsr() : 0;
  if (offset < kNotifyCfg) return ReadDeviceConfig(offset - kDeviceCfg, size);
  return 0;  // notifications read 0
}

void VirtioPci::ModernWrite(uint32_t offset, unsigned size, uint32_t value) {
  if (offset < kIsrCfg) {
    if (size == 1 && offset == kDeviceStatus) {
      WriteStatus(static_cast<uint8_t>(value));
    } else {
      WriteCommon(offset, value);
    }
    return;
  }
  if (offset < kDeviceCfg) return;  // ISR is read-only
  if (offset < kNotifyCfg) {
    WriteDeviceConfig(offset - kDeviceCfg, size, value);
    return;
  }
  const uint32_t n = offset - kNotifyCfg;
  if (n % kNotifyMultiplier == 0) Notify(n / kNotifyMultiplier);
}

uint32_t VirtioPci::CommonByte(uint32_t offset) const {
  auto byte = [offset](uint64_t value, uint32_t base) {
    return static_cast<uint32_t>(value >> (8 * (offset - base))) & 0xFF;
  };
  const unsigned q = queue_select_;
  const QueueSetup* qs = q < setup_.size() ? &setup_[q] : nullptr;
  if (offset < kDeviceFeature) return byte(device_feature_select_, kDeviceFeatureSelect);
  if (offset < kDriverFeatureSelect)
    return device_feature_select_ < 2
               ? byte(host_features(true) >> (32 * device_feature_select_), kDeviceFeature)
               : 0;
  if (offset < kDriverFeature) return byte(driver_feature_select_, kDriverFeatureSelect);
  if (offset < kMsixConfig)
    return driver_feature_select_ < 2
               ? byte(driver_features_ >> (32 * driver_feature_select_), kDriverFeature)
               : 0;
  if (offset < kNumQueues) return byte(kNoVector, kMsixConfig);
  if (offset < kDeviceStatus) return byte(queues_.size(), kNumQueues);
  if (offset == kDeviceStatus) return status_;
  if (offset == kConfigGeneration) return 0;  // the configuration never changes under the driver
  if (offset < kQSize) return byte(queue_select_, kQSelect);
  if (!qs) return 0;  // a queue that does not exist reads 0, size included
  if (offset < kQMsixVector) return byte(qs->size, kQSize);
  if (offset < kQEnable) return byte(kNoVector, kQMsixVector);
  if (offset < kQNotifyOff) return byte(qs->enabled ? 1 : 0, kQEnable);
  if (offset < kQDesc) return byte(q, kQNotifyOff);
  if (offset < kQDriver) return byte(qs->desc, kQDesc);
  if (offset < kQDevice) return byte(qs->driver, kQDriver);
  if (offset < kCommonEnd) return byte(qs->device, kQDevice);
  return 0;
}

void VirtioPci::WriteCommon(uint32_t offset, uint32_t value) {
  const unsigned q = queue_select_;
  QueueSetup* qs = q < setup_.size() && !setup_[q].enabled ? &setup_[q] : nullptr;
  auto half = [value](uint64_t* field, bool high) {
    *field = high ? ((*field & 0xFFFFFFFFu) | (uint64_t{value} << 32))
                  : ((*field & ~uint64_t{0xFFFFFFFFu}) | value);
  };
  switch (offset) {
    case kDeviceFeatureSelect: device_feature_select_ = value; return;
    case kDriverFeatureSelect: driver_feature_select_ = value; return;
    case kDriverFeature:
      if (driver_feature_select_ < 2 && !(status_ & virtio::kStatusFeaturesOk))
        half(&driver_features_, driver_feature_select_ == 1);
      return;
    case kQSelect: queue_select_ = static_cast<uint16_t>(value); return;
    case kQSize:
      if (qs && value >= 1 && value <= queues_[q].max_size()) qs->size = static_cast<uint16_t>(value);
      return;
    case kQEnable:
      if (!qs || (value & 0xFFFF) != 1) return;
      if ((qs->desc | qs->driver | qs->device) >> 32) {
        DeviceError("a ring above 4 GiB");
        return;
      }
      queues_[q].Set(static_cast<uint32_t>(qs->desc), static_cast<uint32_t>(qs->driver),
                     static_cast<uint32_t>(qs->device), qs->size);
      qs->enabled = true;
      return;
    case kQDesc:
    case kQDesc + 4:
      if (qs) half(&qs->desc, offset != kQDesc);
      return;
    case kQDriver:
    case kQDriver + 4:
      if (qs) half(&qs->driver, offset != kQDriver);
      return;
    case kQDevice:
    case kQDevice + 4:
      if (qs) half(&qs->device, offset != kQDevice);
      return;
    default: return;  // MSI-X vectors (none), read-only fields
  }
}

void VirtioPci::WriteRegister(uint32_t offset, unsigned size, uint32_t value) {
  switch (offset) {
    case kGuestFeatures:
      if (size == 4) Accept(value & host_features(false));
      return;
    case kQueuePfn:
      if (size == 4 && queue_select_ < queues_.size())
        queues_[queue_select_].SetLegacy(value, queues_[queue_select_].max_size());
      return;
    case kQueueSelect: queue_select_ = static_cast<uint16_t>(value); return;
    case kQueueNotify: Notify(value & 0xFFFF); return;
    case kStatus: WriteStatus(static_cast<uint8_t>(value)); return;
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

Virtqueue::Pop VirtioPci::Take(unsigned q, VirtqChain* chain) {
  std::string error;
  const Virtqueue::Pop pop = queues_[q].Next(chain, &error);
  if (pop == Virtqueue::Pop::kBroken) DeviceError(error);
  return pop;
}

bool VirtioPci::Give(unsigned q, uint16_t head, uint32_t written) {
  if (queues_[q].Push(head, written)) return true;
  DeviceError("the used ring is outside RAM");
  return false;
}

void VirtioPci::DeviceReset() {
  device_->Reset();
  for (Virtqueue& q : queues_) {
    q.Reset();
    q.set_indirect(false);
    q.set_event_idx(false);
  }
  for (unsigned q = 0; q < setup_.size(); ++q) setup_[q] = QueueSetup{queues_[q].max_size()};
  guest_features_ = 0;
  driver_features_ = 0;
  device_feature_select_ = driver_feature_select_ = 0;
  queue_select_ = 0;
  status_ = 0;
  isr_ = 0;
  broken_ = false;
  SetIntx(false);
}

void VirtioPci::Reset() {
  DeviceReset();
}

void VirtioPci::State(StateIo& io) {
  PciFunction::State(io);
  for (QueueSetup& q : setup_) {
    io.Field(q.size);
    io.Field(q.desc);
    io.Field(q.driver);
    io.Field(q.device);
    io.Field(q.enabled);
  }
  io.Field(device_feature_select_);
  io.Field(driver_feature_select_);
  io.Field(driver_features_);
  io.Field(guest_features_);
  io.Field(queue_select_);
  io.Field(status_);
  io.Field(isr_);
  io.Field(broken_);
  io.Field(reported_);
  for (Virtqueue& q : queues_) q.State(io);
  io.Section("device", [this](StateIo& s) { device_->State(s); });
}

}  // namespace strobe::vmm
