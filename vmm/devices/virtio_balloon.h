// SPDX-License-Identifier: MIT
// A virtio memory balloon (Virtual I/O Device (VIRTIO) Version 1.1, 5.5 "Traditional Memory Balloon
// Device"), QEMU's virtio-balloon-pci: the host asks the guest to give back pages (the monitor's `balloon
// MB`, QMP's `balloon`), the guest's virtio_balloon driver allocates that many pages and lists their frame
// numbers on the inflate queue, and the host takes the memory behind them: a VMM running several VMs
// reclaims what one of them does not need, as VMware's balloon does. Deflating gives pages back to the
// guest, which finds them zeroed.
//
// As QEMU 7.2 presents it: 1af4:1002 (the legacy ID table's), subsystem 1af4:0005, class 0x00ff00, three
// queues of 128 (inflate, deflate, statistics), features STATS_VQ and PAGE_POISON, 16 bytes of
// configuration (num_pages, the host's target in 4 KiB pages; actual, the guest's count; the free page
// hint command id, always 0; poison_val, the guest's page poison value). The statistics buffer the driver
// posts is held, as QEMU holds it while nobody polls the statistics. With page poisoning in use (a nonzero
// poison value) inflated pages keep their memory, as in QEMU: zeroed, they would no longer hold the poison
// the guest checks.
#pragma once

#include <cstdint>
#include <functional>

#include "vmm/devices/virtio_pci.h"

namespace strobe::vmm {

struct VirtioBalloonConfig {
  uint32_t ram_bytes = 0;  // the guest's RAM: frame numbers at or past it are ignored
  // Takes the memory behind the guest-physical page at paddr (its contents become zeros).
  std::function<void(uint32_t paddr)> discard;
  // The guest changed `actual` (pages in the balloon): QMP's BALLOON_CHANGE, with memory_left().
  std::function<void(uint64_t memory_left)> actual_changed;
};

class VirtioBalloon final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 128;
  static constexpr unsigned kInflate = 0, kDeflate = 1, kStats = 2;
  static constexpr uint32_t kFStatsVq = 1u << 1, kFPagePoison = 1u << 4;

  explicit VirtioBalloon(VirtioBalloonConfig config) : config_(std::move(config)) {}

  uint16_t type() const override { return 5; }
  uint16_t pci_device_id() const override { return 0x1002; }
  uint32_t pci_class() const override { return 0x00ff00; }
  uint32_t features() const override { return kFStatsVq | kFPagePoison; }
  void FeaturesAccepted(uint64_t features) override { accepted_ = features; }
  unsigned queue_count() const override { return 3; }
  uint16_t queue_size(unsigned) const override { return kQueueSize; }
  uint32_t config_size() const override { return 16; }
  uint8_t ReadConfigByte(uint32_t offset) override;
  void WriteConfigByte(uint32_t offset, uint8_t value) override;
  void QueueNotify(unsigned q) override;
  void Reset() override;
  bool Snapshottable() const override { return true; }
  void State(StateIo& io) override;

  // The host's target: the guest is asked to keep `pages` pages in the balloon.
  void SetTarget(uint32_t pages);
  uint32_t target_pages() const { return num_pages_; }
  uint32_t actual_pages() const { return actual_; }
  // The guest's memory as the balloon leaves it, in bytes (what info balloon and BALLOON_CHANGE report).
  uint64_t memory_left() const { return uint64_t{config_.ram_bytes} - (uint64_t{actual_} << 12); }
  uint64_t pages_discarded() const { return discarded_; }

 private:
  VirtioBalloonConfig config_;
  uint64_t accepted_ = 0;
  uint32_t num_pages_ = 0, actual_ = 0, poison_ = 0;
  uint8_t pending_[4] = {};  // the bytes of `actual` as the driver writes them
  uint64_t discarded_ = 0;
};

}  // namespace strobe::vmm
