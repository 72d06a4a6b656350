// SPDX-License-Identifier: MIT
// The host side of a virtual disk: what the IDE and virtio-blk device models read and write. A backend is a
// byte-addressed store of a fixed size (whole 512-byte sectors). Every call returns 0 or an errno value and
// never throws; the device turns a non-zero result into the guest's I/O error. Calls may block on the host
// disk: the device makes them through a BlockQueue (block_queue.h), never on the vCPU thread.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace strobe::vmm {
class StateIo;
}

namespace strobe::vmm::block {

inline constexpr uint64_t kSectorSize = 512;

// Where a disk's bytes come from when nobody can change them: a host file (device and inode numbers) held
// read-only, and the byte offset in it. Disks of several VMs that read the same file give the same origins,
// which is what lets their DMA land in one shared machine page (vmm/disk_pages.h).
struct BlockOrigin {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t offset = 0;
  bool operator==(const BlockOrigin&) const = default;
};

class BlockBackend {
 public:
  virtual ~BlockBackend() = default;

  // Bytes, a non-zero multiple of kSectorSize; fixed for the backend's lifetime.
  virtual uint64_t size() const = 0;
  // Writes fail with EROFS (readonly=on, media=cdrom).
  virtual bool read_only() const = 0;
  // The host file, for messages.
  virtual const std::string& path() const = 0;
  // The image's format as QEMU names it ("raw", "qcow2"), and the image its unwritten parts come from (null:
  // none), for the monitor's info block and query-block.
  virtual const char* format() const { return "raw"; }
  virtual const BlockBackend* backing() const { return nullptr; }
  // QEMU's name of the drive's detect-zeroes setting ("off", "on", "unmap"), for info block and query-block.
  virtual const char* detect_zeroes() const { return "off"; }

  // [offset, offset + length) must lie within size() (EINVAL otherwise); any alignment. Thread-safe.
  virtual int Read(uint64_t offset, void* buffer, size_t length) = 0;
  virtual int Write(uint64_t offset, const void* buffer, size_t length) = 0;
  // Everything written so far reaches stable storage (fdatasync) before it returns.
  virtual int Flush() = 0;

  // Snapshots (vmm/snapshot): whether a VM snapshot can bring this disk back to the moment it was taken.
  // kFixed: nothing can change it (read-only); kOverlay: the guest's writes live in a store the backend
  // saves and restores (State; -snapshot); kWritable: written in place, which no snapshot file can undo.
  enum class SnapshotKind : uint8_t { kFixed, kOverlay, kWritable };
  virtual SnapshotKind snapshot_kind() const {
    return read_only() ? SnapshotKind::kFixed : SnapshotKind::kWritable;
  }
  virtual void State(StateIo& io) {}

  // Whether the 4 KiB at offset (a multiple of 4 KiB, within size()) read now come unchanged from a file
  // that neither this process nor any other may write (a read-only image under its shared lock, or the
  // base of a -snapshot disk where the guest has not written); *origin says which. Thread-safe. Only a
  // hint for sharing: whoever shares still compares the bytes.
  virtual bool Origin(uint64_t offset, BlockOrigin* origin) const { return false; }

  // The guest's discard (virtio-blk DISCARD, fstrim): the disk may forget [offset, offset + length), which
  // reads as anything until written again (a guest wanting zeros asks WriteZeroes). Only a backend opened
  // with RawOpenOptions::unmap (discard=unmap) gives the space back to the host; the default, QEMU's
  // discard=ignore, does nothing. Either way 0 for a range within size() (EROFS when read-only).
  virtual int Discard(uint64_t offset, uint64_t length);
  // [offset, offset + length) reads as zeros afterwards (virtio-blk WRITE_ZEROES). may_unmap: the guest
  // allows the space to be given back as well, which a backend opened with unmap may do. The default
  // writes zeros.
  virtual int WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap);

  // Scatter lists: the segments are consecutive bytes of the disk starting at offset. The defaults call
  // Read/Write once per segment; the raw image uses preadv/pwritev.
  virtual int ReadV(uint64_t offset, const iovec* segments, int count);
  virtual int WriteV(uint64_t offset, const iovec* segments, int count);

 protected:
  // 0 when [offset, offset + length) lies within size(), EINVAL otherwise (also on overflow).
  int CheckRange(uint64_t offset, uint64_t length) const;
};

// The total length of a scatter list.
uint64_t SegmentsLength(const iovec* segments, int count);

}  // namespace strobe::vmm::block
