// SPDX-License-Identifier: MIT
#include "vmm/block/snapshot_overlay.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "vmm/block/raw_image.h"
#include "vmm/state_io.h"

namespace strobe::vmm::block {

namespace {
// An unlinked file in dir: O_TMPFILE where the file system has it, else mkstemp and unlink at once.
int CreateUnlinkedFile(const std::string& dir) {
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -1;
  std::string name = dir + "/strobe-snapshot-XXXXXX";
  fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) unlink(name.c_str());
  return fd;
}
}  // namespace

std::unique_ptr<SnapshotOverlay> SnapshotOverlay::Create(std::unique_ptr<BlockBackend> base,
                                                         std::string* error) {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string dir = tmpdir && *tmpdir ? tmpdir : "/var/tmp";
  const int fd = CreateUnlinkedFile(dir);
  if (fd < 0) {
    *error = base->path() + ": -snapshot: cannot create the temporary overlay in " + dir + ": " +
             std::strerror(errno) + " (set TMPDIR to a writable directory)";
    return nullptr;
  }
  // Sparse: only the clusters the guest writes take space.
  if (ftruncate(fd, static_cast<off_t>(base->size())) != 0) {
    *error = base->path() + ": -snapshot: cannot size the temporary overlay in " + dir + ": " +
             std::strerror(errno);
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<SnapshotOverlay>(new SnapshotOverlay(std::move(base), fd));
}

SnapshotOverlay::SnapshotOverlay(std::unique_ptr<BlockBackend> base, int store_fd)
    : base_(std::move(base)), store_fd_(store_fd) {
  const uint64_t clusters = (base_->size() + kClusterSize - 1) / kClusterSize;
  bitmap_.assign((clusters + 63) / 64, 0);
}

SnapshotOverlay::~SnapshotOverlay() {
  close(store_fd_);
}

uint64_t SnapshotOverlay::ClusterEnd(uint64_t cluster) const {
  return std::min((cluster + 1) * kClusterSize, size());
}

void SnapshotOverlay::MarkStored(uint64_t first, uint64_t end) {
  for (uint64_t c = first; c < end; ++c) bitmap_[c / 64] |= uint64_t{1} << (c % 64);
}

uint64_t SnapshotOverlay::stored_clusters() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (uint64_t word : bitmap_) n += static_cast<uint64_t>(__builtin_popcountll(word));
  return n;
}

bool SnapshotOverlay::Origin(uint64_t offset, BlockOrigin* origin) const {
  if (offset % kClusterSize != 0 || offset + kClusterSize > size()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Stored(offset / kClusterSize)) return false;
  }
  return base_->Origin(offset, origin);
}

int SnapshotOverlay::Read(uint64_t offset, void* buffer, size_t length) {
  if (int err = CheckRange(offset, length)) return err;
  std::lock_guard<std::mutex> lock(mu_);
  char* out = static_cast<char*>(buffer);
  const uint64_t end = offset + length;
  uint64_t pos = offset;
  while (pos < end) {
    // The longest run of clusters that all live in the same place.
    const bool stored = Stored(pos / kClusterSize);
    uint64_t run_end = std::min(end, ClusterEnd(pos / kClusterSize));
    while (run_end < end && Stored(run_end / kClusterSize) == stored)
      run_end = std::min(end, ClusterEnd(run_end / kClusterSize));
    const size_t n = static_cast<size_t>(run_end - pos);
    const int err = stored ? ReadFull(store_fd_, pos, out, n) : base_->Read(pos, out, n);
    if (err) return err;
    out += n;
    pos = run_end;
  }
  return 0;
}

int SnapshotOverlay::Write(uint64_t offset, const void* buffer, size_t length) {
  if (int err = CheckRange(offset, length)) return err;
  std::lock_guard<std::mutex> lock(mu_);
  const char* in = static_cast<const char*>(buffer);
  const uint64_t end = offset + length;
  uint64_t pos = offset;
  // A cluster can take the write as it is when the store has it already or the write covers all of it.
  auto direct = [&](uint64_t at) {
    const uint64_t c = at / kClusterSize;
    return Stored(c) || (at == c * kClusterSize && end >= ClusterEnd(c));
  };
  while (pos < end) {
    const uint64_t cluster = pos / kClusterSize;
    if (direct(pos)) {
      uint64_t run_end = std::min(end, ClusterEnd(cluster));
      while (run_end < end && direct(run_end)) run_end = std::min(end, ClusterEnd(run_end / kClusterSize));
      const size_t n = static_cast<size_t>(run_end - pos);
      if (int err = WriteFull(store_fd_, pos, in, n)) return err;
      // Every cluster of the run is now whole in the store (the last may be partly written only if it
      // was stored before).
      MarkStored(cluster, (run_end + kClusterSize - 1) / kClusterSize);
      in += n;
      pos = run_end;
      continue;
    }
    // Part of a cluster the store lacks: copy the cluster from the image, merge the write, store it whole.
    const uint64_t start = cluster * kClusterSize, cluster_end = ClusterEnd(cluster);
    const uint64_t piece_end = std::min(end, cluster_end);
    char merged[kClusterSize];
    const size_t whole = static_cast<size_t>(cluster_end - start);
    if (int err = base_->Read(start, merged, whole)) return err;
    std::memcpy(merged + (pos - start), in, static_cast<size_t>(piece_end - pos));
    if (int err = WriteFull(store_fd_, start, merged, whole)) return err;
    MarkStored(cluster, cluster + 1);
    in += piece_end - pos;
    pos = piece_end;
  }
  return 0;
}

void SnapshotOverlay::State(StateIo& io) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t words = bitmap_.size();
  io.Field(words);
  if (!io.Check(words == bitmap_.size(), "another disk size")) return;
  std::vector<uint64_t> bitmap = bitmap_;
  io.Raw(bitmap.data(), bitmap.size() * 8);
  // The stored clusters' bytes, in order; read whole before anything changes, so a bad file leaves the
  // overlay as it was.
  std::vector<uint8_t> data;
  const uint64_t clusters = (size() + kClusterSize - 1) / kClusterSize;
  for (uint64_t c = 0; c < clusters && io.ok(); ++c) {
    if (!((bitmap[c / 64] >> (c % 64)) & 1)) continue;
    const size_t n = static_cast<size_t>(ClusterEnd(c) - c * kClusterSize);
    const size_t at = data.size();
    data.resize(at + n);
    if (!io.loading() && ReadFull(store_fd_, c * kClusterSize, data.data() + at, n) != 0)
      return io.Fail(path() + ": cannot read the -snapshot overlay");
    io.Raw(data.data() + at, n);
    if (!io.loading()) data.clear();
  }
  if (!io.loading() || !io.ok()) return;
  const uint64_t tail = clusters % 64;
  if (!io.Check(tail == 0 || bitmap.back() >> tail == 0, "overlay bitmap out of range")) return;
  size_t at = 0;
  for (uint64_t c = 0; c < clusters; ++c) {
    if (!((bitmap[c / 64] >> (c % 64)) & 1)) continue;
    const size_t n = static_cast<size_t>(ClusterEnd(c) - c * kClusterSize);
    if (WriteFull(store_fd_, c * kClusterSize, data.data() + at, n) != 0)
      return io.Fail(path() + ": cannot write the -snapshot overlay");
    at += n;
  }
  bitmap_ = std::move(bitmap);
}

}  // namespace strobe::vmm::block
