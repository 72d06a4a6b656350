// SPDX-License-Identifier: MIT
#include "vmm/block/backend.h"

#include <algorithm>
#include <cerrno>
#include <vector>

namespace strobe::vmm::block {

uint64_t SegmentsLength(const iovec* segments, int count) {
  uint64_t total = 0;
  for (int i = 0; i < count; ++i) total += segments[i].iov_len;
  return total;
}

int BlockBackend::CheckRange(uint64_t offset, uint64_t length) const {
  const uint64_t end = offset + length;
  if (end < offset || end > size()) return EINVAL;
  return 0;
}

int BlockBackend::ReadV(uint64_t offset, const iovec* segments, int count) {
  if (int err = CheckRange(offset, SegmentsLength(segments, count))) return err;
  for (int i = 0; i < count; ++i) {
    if (int err = Read(offset, segments[i].iov_base, segments[i].iov_len)) return err;
    offset += segments[i].iov_len;
  }
  return 0;
}

int BlockBackend::WriteV(uint64_t offset, const iovec* segments, int count) {
  if (int err = CheckRange(offset, SegmentsLength(segments, count))) return err;
  for (int i = 0; i < count; ++i) {
    if (int err = Write(offset, segments[i].iov_base, segments[i].iov_len)) return err;
    offset += segments[i].iov_len;
  }
  return 0;
}

int BlockBackend::Discard(uint64_t offset, uint64_t length) {
  if (read_only()) return EROFS;
  return CheckRange(offset, length);
}

int BlockBackend::WriteZeroes(uint64_t offset, uint64_t length, bool) {
  if (read_only()) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  const std::vector<uint8_t> zeros(static_cast<size_t>(std::min<uint64_t>(length, 1u << 20)), 0);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeros.size()));
    if (int err = Write(offset, zeros.data(), n)) return err;
    offset += n;
    length -= n;
  }
  return 0;
}

}  // namespace strobe::vmm::block
