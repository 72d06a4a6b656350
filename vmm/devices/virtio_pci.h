// SPDX-License-Identifier: MIT
// Virtio over PCI (Virtual I/O Device (VIRTIO) Version 1.1, 4.1), as QEMU presents a transitional device by
// default: vendor 1af4, device 0x1000 + type - 1 (0x1001 for a block device), revision 0, subsystem vendor
// 1af4 and subsystem device = the virtio device type, INTA, and both interfaces.
//
// The legacy interface (4.1.4.8 "Legacy Interfaces: A Note on PCI Device Layout", and virtio 0.9.5
// appendix "PCI Discovery"): BAR0, an I/O block of pow2ceil(0x14 + device config) ports:
//   0x00 host features (32, RO)   0x04 guest features (32)   0x08 queue address (32, page number)
//   0x0C queue size (16, RO)      0x0E queue select (16)      0x10 queue notify (16)
//   0x12 device status (8)        0x13 ISR status (8, reading clears it and lowers INTx)
//   0x14... the device-specific configuration (no MSI-X: QEMU's Malta has none either)
// Rings use the legacy layout (virtqueue.h), in guest byte order (little-endian here).
//
// The modern interface (4.1.4): vendor-specific capabilities (cap_vndr 9) in configuration space name four
// regions of BAR4, a 64-bit prefetchable 16 KiB memory BAR, laid out as QEMU does: common configuration at
// 0x0000 (feature words by select, VIRTIO_F_VERSION_1 offered, FEATURES_OK checked; per queue size, enable,
// notify offset, and the 64-bit addresses of the three ring parts), ISR at 0x1000, the device configuration
// at 0x2000, notifications at 0x3000 (queue n at 4 * n). MSI-X vectors read back NO_VECTOR. Linux's
// virtio_pci takes this interface when it finds the capabilities (virtio_pci.force_legacy=1 makes it use the
// legacy one). Both share the device state; writing status 0 through either resets the device. A malformed
// ring stops the device (status NEEDS_RESET, as QEMU's virtio_error does) until the driver resets it; the
// host is never at risk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/device.h"
#include "vmm/devices/pci.h"
#include "vmm/devices/virtqueue.h"
#include "vmm/guest_memory.h"

namespace strobe::vmm {

class StateIo;

class VirtioPci;

// Feature bits the transport handles (6 "Reserved Feature Bits").
namespace virtio {
inline constexpr uint32_t kFAnyLayout = 1u << 27;
inline constexpr uint32_t kFIndirectDesc = 1u << 28;
inline constexpr uint32_t kFEventIdx = 1u << 29;
inline constexpr uint64_t kFVersion1 = uint64_t{1} << 32;
// Device status bits (2.1).
inline constexpr uint8_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4,
                         kStatusFeaturesOk = 8, kStatusNeedsReset = 0x40, kStatusFailed = 0x80;
}  // namespace virtio

// A virtio device type (block, network, ...) behind a transport.
class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;
  virtual uint16_t type() const = 0;  // 5 "Device Types": 1 network, 2 block, 4 entropy
  // The transitional PCI device ID (4.1.2.1): 0x1000 + type - 1 for network and block, but the legacy
  // numbering is its own table past those (entropy is 0x1005).
  virtual uint16_t pci_device_id() const { return static_cast<uint16_t>(0x1000 + type() - 1); }
  virtual uint32_t pci_class() const = 0;  // the PCI class code QEMU gives it
  virtual uint32_t features() const = 0;   // the device's own feature bits (0-23)
  // What the driver negotiated, transport bits included (VERSION_1 is bit 32).
  virtual void FeaturesAccepted(uint64_t features) {}
  virtual unsigned queue_count() const = 0;
  virtual uint16_t queue_size(unsigned q) const = 0;
  virtual uint32_t config_size() const = 0;  // bytes of device configuration
  virtual uint8_t ReadConfigByte(uint32_t offset) = 0;
  virtual void WriteConfigByte(uint32_t offset, uint8_t value) {}
  // The driver notified queue q: take what it made available.
  virtual void QueueNotify(unsigned q) = 0;
  // Device reset (status 0, or the board's reset): forget requests in flight.
  virtual void Reset() = 0;

  void Bind(VirtioPci* transport) { transport_ = transport; }
  // Snapshots: a device type opts in (see PciFunction::Snapshottable); State saves what the transport
  // does not (negotiated features, configuration the driver wrote). Requests in flight were drained first.
  virtual bool Snapshottable() const { return false; }
  virtual void State(StateIo& io) {}

 protected:
  VirtioPci* transport_ = nullptr;
};

class VirtioPci final : public PciFunction, public Device {
 public:
  static constexpr uint32_t kConfigOffset = 0x14;
  // BAR4's regions (the modern interface).
  static constexpr uint32_t kCommonCfg = 0x0000, kIsrCfg = 0x1000, kDeviceCfg = 0x2000, kNotifyCfg = 0x3000,
                            kModernBarSize = 0x4000, kNotifyMultiplier = 4;
  // The device and the memory must outlive the transport. `location` names the device in messages
  // ("virtio-blk 00:13.0").
  VirtioPci(VirtioDevice* device, GuestMemory* memory, std::string location);

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;
  // A hardware reset (the board's): as the driver writing status 0.
  void Reset();
  bool Snapshottable() const override { return device_->Snapshottable(); }
  void State(StateIo& io) override;

  // For the device:
  Virtqueue& queue(unsigned q) { return queues_[q]; }
  GuestMemory& memory() { return *memory_; }
  uint32_t guest_features() const { return guest_features_; }  // bits 0-31
  // Entries were pushed to queue q's used ring: interrupt if the driver wants one.
  void QueueUsed(unsigned q);
  // The device configuration changed (capacity, link status): ISR bit 1 and an interrupt.
  void ConfigChanged();
  // The driver broke the protocol (a malformed ring or request): the device stops until reset.
  void DeviceError(const std::string& what);
  // The next chain the driver made available on queue q; a malformed ring stops the device (kBroken).
  Virtqueue::Pop Take(unsigned q, VirtqChain* chain);
  // A chain is done (`written` bytes into its writable buffers); false, with the device stopped, when the
  // used ring is outside RAM.
  bool Give(unsigned q, uint16_t head, uint32_t written);
  bool broken() const { return broken_; }
  uint8_t status() const { return status_; }
  uint8_t isr() const { return isr_; }

 private:
  // BAR4 forwards here.
  class ModernBar final : public Device {
   public:
    explicit ModernBar(VirtioPci* t) : t_(t) {}
    uint32_t Read(uint32_t offset, unsigned size) override { return t_->ModernRead(offset, size); }
    void Write(uint32_t offset, unsigned size, uint32_t value) override {
      t_->ModernWrite(offset, size, value);
    }

   private:
    VirtioPci* t_;
  };
  // The modern interface's per-queue registers; the queue runs once the driver enables it.
  struct QueueSetup {
    uint16_t size = 0;
    uint64_t desc = 0, driver = 0, device = 0;
    bool enabled = false;
  };

  uint64_t host_features(bool modern) const;
  uint32_t RegisterByte(uint32_t offset) const;  // the legacy registers, no side effects
  void WriteRegister(uint32_t offset, unsigned size, uint32_t value);
  uint32_t ModernRead(uint32_t offset, unsigned size);
  void ModernWrite(uint32_t offset, unsigned size, uint32_t value);
  uint32_t CommonByte(uint32_t offset) const;
  void WriteCommon(uint32_t offset, uint32_t value);
  void WriteStatus(uint8_t value);
  void Accept(uint64_t features);  // what the driver negotiated reaches the queues and the device
  uint32_t ReadIsr();
  uint32_t ReadDeviceConfig(uint32_t offset, unsigned size);
  void WriteDeviceConfig(uint32_t offset, unsigned size, uint32_t value);
  void Notify(unsigned q);
  void AddCapabilities();
  void DeviceReset();

  VirtioDevice* device_;
  ModernBar modern_{this};
  std::vector<QueueSetup> setup_;
  uint32_t device_feature_select_ = 0, driver_feature_select_ = 0;
  uint64_t driver_features_ = 0;  // as the modern driver writes them, before FEATURES_OK
  GuestMemory* memory_;
  std::string location_;
  std::vector<Virtqueue> queues_;
  uint32_t guest_features_ = 0;
  uint16_t queue_select_ = 0;
  uint8_t status_ = 0, isr_ = 0;
  bool broken_ = false;
  bool reported_ = false;  // the first driver error is printed, later ones are not
};

}  // namespace strobe::vmm
