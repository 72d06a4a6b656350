// SPDX-License-Identifier: MIT
// -snapshot (snapshot=on): Disco's non-persistent disk. The image is opened read-only and never written;
// the guest's writes go to a private copy-on-write store, a temporary file in $TMPDIR (else /var/tmp, as
// QEMU), unlinked as soon as it is created, so nothing is left behind however the process ends. The store
// is sparse and laid out like the image (a byte at offset X of the disk is at X in the store); a bitmap
// says which 4 KiB clusters the store holds. A write that covers part of a cluster not yet in the store
// first copies the cluster from the image. Reads take each run of clusters from where it lives. Flush has
// nothing to make durable: the writes are meant to vanish at exit.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vmm/block/backend.h"

namespace strobe::vmm::block {

class SnapshotOverlay final : public BlockBackend {
 public:
  static constexpr uint64_t kClusterSize = 4096;

  // Wraps `base` (normally a read-only RawImage). nullptr with *error set (one line) when the temporary
  // store cannot be created.
  static std::unique_ptr<SnapshotOverlay> Create(std::unique_ptr<BlockBackend> base, std::string* error);
  ~SnapshotOverlay() override;
  SnapshotOverlay(const SnapshotOverlay&) = delete;
  SnapshotOverlay& operator=(const SnapshotOverlay&) = delete;

  uint64_t size() const override { return base_->size(); }
  bool read_only() const override { return false; }
  const std::string& path() const override { return base_->path(); }
  const char* format() const override { return base_->format(); }
  const BlockBackend* backing() const override { return base_->backing(); }
  int Read(uint64_t offset, void* buffer, size_t length) override;
  int Write(uint64_t offset, const void* buffer, size_t length) override;
  int Flush() override { return 0; }
  // A VM snapshot holds the clusters written so far; loading one puts back exactly those (the image
  // itself never changes, so a cluster the snapshot lacks reads from it again).
  SnapshotKind snapshot_kind() const override { return SnapshotKind::kOverlay; }
  void State(StateIo& io) override;
  // The base image's origin, for a cluster the guest has not written.
  bool Origin(uint64_t offset, BlockOrigin* origin) const override;

  // Clusters the store holds (tests, statistics).
  uint64_t stored_clusters() const;

 private:
  SnapshotOverlay(std::unique_ptr<BlockBackend> base, int store_fd);
  bool Stored(uint64_t cluster) const { return (bitmap_[cluster / 64] >> (cluster % 64)) & 1; }
  void MarkStored(uint64_t first, uint64_t end);  // clusters [first, end)
  uint64_t ClusterEnd(uint64_t cluster) const;    // the cluster's end, clipped to the disk's size

  std::unique_ptr<BlockBackend> base_;
  int store_fd_;
  mutable std::mutex mu_;  // bitmap_ and the store's contents
  std::vector<uint64_t> bitmap_;
};

}  // namespace strobe::vmm::block
