// SPDX-License-Identifier: MIT
// A virtio entropy device (Virtual I/O Device (VIRTIO) Version 1.1, 5.4 "Entropy Device"), QEMU's
// virtio-rng-pci: one request queue of 8 entries (QEMU's size), no feature bits, no configuration space,
// PCI class 0x00ff ("Class 0255" in QEMU's info pci) and the transitional device ID 0x1005. The driver makes
// device-writable buffers available; the device fills them with bytes from its source and returns them.
//
// Rate limiting as QEMU's max-bytes and period properties: at most max_bytes bytes per period of virtual
// time. The period starts at the first request after the last one ended (QEMU's timer is armed then), and
// when it ends the quota is whole again and waiting requests are served. The quota is host policy, not
// guest state: a snapshot does not keep it (as QEMU does not migrate it).
//
// The sources (QEMU's rng backends): the host's getrandom() (rng-builtin, the default), a file or character
// device read without blocking (rng-random, filename= /dev/urandom by default), and for the deterministic
// mode a fixed pseudo-random stream, so that runs with a virtio-rng stay identical. A source with nothing
// to give now (a FIFO, a blocking device) is asked again 10 ms of virtual time later; a file at its end
// gives nothing more, and says so once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vmm/devices/virtio_pci.h"

namespace strobe::vmm {

class EntropySource {
 public:
  virtual ~EntropySource() = default;
  // Up to `length` bytes into `out`, without blocking: how many (0: none now).
  virtual size_t Read(uint8_t* out, size_t length) = 0;
  // No bytes will ever come again (a regular file at its end): the device stops asking.
  virtual bool exhausted() const { return false; }
};

// rng-builtin: the host kernel's random bytes (getrandom).
std::shared_ptr<EntropySource> HostEntropy();
// The deterministic mode's stream: the same bytes in every run (not for secrets).
std::shared_ptr<EntropySource> SeededEntropy(uint64_t seed);
// rng-random: the bytes of `path` (opened read-only and non-blocking; a directory or a missing file is an
// error in QEMU's words: "Could not open 'PATH': REASON"). Null with *error set on failure.
std::shared_ptr<EntropySource> FileEntropy(const std::string& path, std::string* error);

struct VirtioRngConfig {
  std::shared_ptr<EntropySource> source;
  uint64_t max_bytes = INT64_MAX;  // per period (QEMU's max-bytes; at most 2^63 - 1)
  uint32_t period_ms = 1u << 16;   // QEMU's period, in ms of virtual time (positive)
  // Runs fn on the vCPU thread after `ms` of virtual time (the VM's timed events).
  std::function<void(uint32_t ms, std::function<void()> fn)> after;
};

class VirtioRng final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 8;
  static constexpr uint32_t kRetryMs = 10;              // a source with nothing now is asked again then
  static constexpr uint32_t kMaxChainBytes = 1u << 16;  // filled at once per chain (Linux asks 64 at a time)

  explicit VirtioRng(VirtioRngConfig config);

  uint16_t type() const override { return 4; }
  uint16_t pci_device_id() const override { return 0x1005; }
  uint32_t pci_class() const override { return 0x00ff00; }  // unclassified, "other", as QEMU
  uint32_t features() const override { return 0; }
  unsigned queue_count() const override { return 1; }
  uint16_t queue_size(unsigned) const override { return kQueueSize; }
  uint32_t config_size() const override { return 0; }
  uint8_t ReadConfigByte(uint32_t) override { return 0; }
  void QueueNotify(unsigned q) override;
  void Reset() override {}
  bool Snapshottable() const override { return true; }
  // Nothing of the device's own is saved; a load starts a fresh period with a whole quota (the timers of
  // the old one are not in the snapshot), as QEMU's destination does.
  void State(StateIo& io) override;

  uint64_t bytes_given() const { return bytes_given_; }

 private:
  void Serve();
  // A period's quota: max-bytes, which the options keep below 2^63.
  int64_t WholeQuota() const {
    return static_cast<int64_t>(std::min<uint64_t>(config_.max_bytes, INT64_MAX));
  }

  VirtioRngConfig config_;
  int64_t quota_;
  bool period_running_ = false;
  bool retry_posted_ = false;
  uint64_t bytes_given_ = 0;
  // Timed callbacks hold a weak reference: a device gone (the VM rebuilt or ended) ignores them.
  std::shared_ptr<VirtioRng*> self_ = std::make_shared<VirtioRng*>(this);
};

}  // namespace strobe::vmm
