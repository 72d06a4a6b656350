// SPDX-License-Identifier: MIT
#include "vmm/block/drive.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "vmm/block/image_format.h"
#include "vmm/block/qcow2_image.h"
#include "vmm/block/raw_image.h"
#include "vmm/block/snapshot_overlay.h"

namespace strobe::vmm::block {

namespace {
// A backend over another that passes everything on; the two below change what writes do.
class Forwarding : public BlockBackend {
 public:
  explicit Forwarding(std::unique_ptr<BlockBackend> inner) : inner_(std::move(inner)) {}
  uint64_t size() const override { return inner_->size(); }
  bool read_only() const override { return inner_->read_only(); }
  const std::string& path() const override { return inner_->path(); }
  const char* format() const override { return inner_->format(); }
  const BlockBackend* backing() const override { return inner_->backing(); }
  const char* detect_zeroes() const override { return inner_->detect_zeroes(); }
  int Read(uint64_t offset, void* buffer, size_t length) override {
    return inner_->Read(offset, buffer, length);
  }
  int ReadV(uint64_t offset, const iovec* segments, int count) override {
    return inner_->ReadV(offset, segments, count);
  }
  int Write(uint64_t offset, const void* buffer, size_t length) override {
    const iovec one{const_cast<void*>(buffer), length};
    return WriteV(offset, &one, 1);
  }
  int WriteV(uint64_t offset, const iovec* segments, int count) override {
    return inner_->WriteV(offset, segments, count);
  }
  int Flush() override { return inner_->Flush(); }
  int Discard(uint64_t offset, uint64_t length) override { return inner_->Discard(offset, length); }
  int WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap) override {
    return inner_->WriteZeroes(offset, length, may_unmap);
  }
  SnapshotKind snapshot_kind() const override { return inner_->snapshot_kind(); }
  void State(StateIo& io) override { inner_->State(io); }
  bool Origin(uint64_t offset, BlockOrigin* origin) const override { return inner_->Origin(offset, origin); }

 protected:
  std::unique_ptr<BlockBackend> inner_;
};

// Refuses writes that would give a probed raw image another format's header. Discards and zero writes
// pass: zeros never look like a header, and discarded sectors read as zeros or as they were.
class ProbedWriteGuard final : public Forwarding {
 public:
  using Forwarding::Forwarding;
  int WriteV(uint64_t offset, const iovec* segments, int count) override {
    if (offset < kProbeBytes) {
      if (int err = CheckRange(offset, SegmentsLength(segments, count))) return err;
      // The first bytes as they would be after the write.
      uint8_t head[kProbeBytes];
      const size_t n = static_cast<size_t>(std::min<uint64_t>(size(), kProbeBytes));
      if (int err = inner_->Read(0, head, n)) return err;
      uint64_t at = offset;
      for (int i = 0; i < count && at < n; ++i) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(segments[i].iov_len, n - at));
        std::memcpy(head + at, segments[i].iov_base, take);
        at += segments[i].iov_len;
      }
      if (ProbeFormat(head, n)) return EPERM;
    }
    return inner_->WriteV(offset, segments, count);
  }
};

// detect-zeroes=on|unmap: a write of nothing but zeros becomes a zero write, which leaves the image
// sparse (qcow2 zero flags, holes in a raw file); with unmap it may give the space back too.
class ZeroDetector final : public Forwarding {
 public:
  ZeroDetector(std::unique_ptr<BlockBackend> inner, bool unmap)
      : Forwarding(std::move(inner)), unmap_(unmap) {}
  int WriteV(uint64_t offset, const iovec* segments, int count) override {
    for (int i = 0; i < count; ++i)
      if (!AllZero(static_cast<const uint8_t*>(segments[i].iov_base), segments[i].iov_len))
        return inner_->WriteV(offset, segments, count);
    return inner_->WriteZeroes(offset, SegmentsLength(segments, count), unmap_);
  }
  const char* detect_zeroes() const override { return unmap_ ? "unmap" : "on"; }

 private:
  static bool AllZero(const uint8_t* p, size_t n) {
    uint64_t any = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      any |= w;
      if ((i & 4095) == 4088 && any) return false;  // a page at a time: data is rarely zero for long
    }
    for (; i < n; ++i) any |= p[i];
    return any == 0;
  }
  bool unmap_;
};
}  // namespace

bool OpenDrive(const DriveConfig& drive, std::unique_ptr<BlockBackend>* out, std::string* error) {
  out->reset();
  if (drive.file.empty()) {
    if (drive.media == Media::kCdrom || drive.interface == Interface::kNone) return true;  // no medium
    *error = drive.option + ": a disk needs an image (file=)";
    return false;
  }
  RawOpenOptions options;
  options.read_only = drive.read_only || drive.snapshot;
  options.probe = !drive.format_raw;
  options.write_through = !drive.write_cache();
  options.ignore_flush = drive.cache == CacheMode::kUnsafe;
  options.cdrom = drive.media == Media::kCdrom && drive.interface == Interface::kIde;
  options.auto_read_only = drive.auto_read_only;
  options.unmap = drive.discard_unmap;
  const char* probed = options.probe && !drive.format_qcow2 ? ProbeFile(drive.file) : nullptr;
  const bool qcow2 = drive.format_qcow2 || (probed && std::strcmp(probed, "qcow2") == 0);
  std::unique_ptr<BlockBackend> backend;
  if (qcow2) {
    backend = Qcow2Image::Open(drive.file, options, error);
  } else {
    backend = RawImage::Open(drive.file, options, error);
  }
  if (!backend) return false;
  if (backend->read_only() && !options.read_only && drive.interface == Interface::kIde &&
      drive.media == Media::kDisk) {  // auto-read-only fell back: an IDE hard disk cannot be read-only
    *error = drive.option + ": Block node is read-only";
    return false;
  }
  if (drive.snapshot && !drive.read_only) {
    backend = SnapshotOverlay::Create(std::move(backend), error);
    if (!backend) return false;
  }
  if (drive.detect_zeroes != DetectZeroes::kOff && !backend->read_only())
    backend = std::make_unique<ZeroDetector>(std::move(backend), drive.detect_zeroes == DetectZeroes::kUnmap);
  if (options.probe && !qcow2 && !backend->read_only())
    backend = std::make_unique<ProbedWriteGuard>(std::move(backend));
  *out = std::move(backend);
  return true;
}

}  // namespace strobe::vmm::block
