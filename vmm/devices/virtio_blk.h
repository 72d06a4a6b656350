// SPDX-License-Identifier: MIT
// A virtio block device (Virtual I/O Device (VIRTIO) Version 1.1, 5.2 "Block Device"), behind the PCI
// transport (virtio_pci.h): one request queue of 256 entries; VIRTIO_BLK_T_IN, OUT, FLUSH and GET_ID
// (anything else completes with UNSUPP); the configuration space's capacity, size_max, seg_max, blk_size
// and writeback byte (VIRTIO_BLK_F_SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, CONFIG_WCE, and RO for a read-only
// drive). A request is a descriptor chain: a 16-byte header (type, reserved, sector) in device-readable
// memory, the data, and a status byte at the end of the device-writable part; the header and the data may
// be split across buffers in any way. A chain without a header or a status byte is a driver error (the
// device stops, virtio_pci.h).
//
// The disk is only touched through the drive's BlockQueue, never on the vCPU thread: all the requests a
// notify finds are submitted at once (several in flight), and adjacent ones (reads, or writes, whose
// sectors follow each other) are merged into one host request of several segments. Data goes through a
// bounce buffer per request: gathered from guest memory when a write is submitted, scattered into it when
// a read's completion runs (on the vCPU thread, through GuestMemory); then the status byte, the used ring
// and the interrupt. With the guest's write cache off (writeback byte 0, or FLUSH not negotiated) on a
// drive that caches, every write is followed by a flush before it completes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vmm/block/backend.h"
#include "vmm/block/block_queue.h"
#include "vmm/devices/virtio_pci.h"

namespace strobe::vmm {

struct VirtioBlkConfig {
  block::BlockBackend* backend = nullptr;
  block::BlockQueue* queue = nullptr;  // the backend's worker
  std::string serial;                  // GET_ID (20 bytes at most; empty as QEMU's default)
  bool write_cache = true;             // the drive caches writes (cache= other than writethrough/directsync)
};

class VirtioBlk final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;              // QEMU's default queue-size
  static constexpr uint32_t kSegMax = kQueueSize - 2;      // as QEMU: room for the header and the status
  static constexpr uint32_t kSizeMax = 1u << 20;           // bytes in one buffer
  static constexpr uint32_t kMaxRequestBytes = 64u << 20;  // larger requests fail with IOERR
  static constexpr uint32_t kMaxMergeBytes = 4u << 20;     // a merged host request stays below this
  // DISCARD and WRITE_ZEROES: QEMU's limits (its largest block-layer request), one range per request.
  static constexpr uint32_t kMaxZeroSectors = 0x3FFFFF;

  explicit VirtioBlk(const VirtioBlkConfig& config);

  uint16_t type() const override { return 2; }
  uint32_t pci_class() const override { return 0x010000; }  // mass storage, SCSI: as QEMU
  uint32_t features() const override;
  void FeaturesAccepted(uint64_t features) override;
  unsigned queue_count() const override { return 1; }
  uint16_t queue_size(unsigned) const override { return kQueueSize; }
  uint32_t config_size() const override { return 0x3C; }
  uint8_t ReadConfigByte(uint32_t offset) override;
  void WriteConfigByte(uint32_t offset, uint8_t value) override;
  void QueueNotify(unsigned q) override;
  void Reset() override;
  bool Snapshottable() const override { return true; }
  void State(StateIo& io) override;

  // Host requests submitted so far (merging makes this smaller than the guest's request count).
  uint64_t host_requests() const { return host_requests_; }
  uint64_t guest_requests() const { return guest_requests_; }
  bool guest_write_cache() const { return wce_; }

 private:
  struct Segment {
    uint32_t addr, len;
  };
  struct Request {
    uint16_t head = 0;
    uint32_t type = 0;
    uint64_t sector = 0;
    std::vector<Segment> data;  // the payload in guest memory
    uint64_t data_len = 0;
    uint32_t status_addr = 0;
    std::shared_ptr<std::vector<uint8_t>> bounce;
  };
  bool Parse(const VirtqChain& chain, Request* req, std::string* error) const;
  // Requests that need no disk: answered at once.
  void Finish(Request& req, uint8_t status, uint32_t written);
  void SubmitGroup(std::vector<Request> group);  // reads or writes, consecutive on the disk
  void SubmitFlush(Request req);
  // To the drive's queue; `changes` (writes, discards, zeros) with a flush after it while the guest sees
  // no volatile cache (BlockQueue::SubmitAndFlush).
  void Submit(block::BlockRequest request, std::function<void(int)> finish, bool changes);
  // DISCARD and WRITE_ZEROES: the range checked (status as QEMU gives it), then the backend's work.
  void SubmitZeroing(Request req);
  bool WriteThrough() const { return config_.write_cache && (!wce_ || !(accepted_ & (1u << 9))); }

  VirtioBlkConfig config_;
  uint64_t generation_ = 0;  // bumped by Reset: completions of older requests are dropped
  uint32_t accepted_ = 0;
  bool wce_;
  uint64_t host_requests_ = 0, guest_requests_ = 0;
};

}  // namespace strobe::vmm
