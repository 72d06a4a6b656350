// SPDX-License-Identifier: MIT
#include "vmm/block/raw_image.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "vmm/block/image_format.h"
#include "vmm/host_file.h"

namespace strobe::vmm::block {

namespace {

// QEMU's lock bytes (see raw_image.h).
constexpr off_t kPermBase = 100, kDenyBase = 200;
constexpr int kConsistentRead = 0, kWritePerm = 1;

// 0 on success, the errno of F_OFD_SETLK otherwise.
int LockByte(int fd, off_t byte) {
  struct flock fl {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : errno;
}

// Whether another open file description holds a lock on the byte (ours never conflict with us).
bool LockedElsewhere(int fd, off_t byte) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
  return fl.l_type != F_UNLCK;
}

// Takes the image's locks. false with *error set when another user's locks conflict. On a file system
// without OFD locks (EINVAL, ENOLCK, ENOTSUP) the image is used unlocked, as QEMU's locking=auto does.
bool LockImage(int fd, bool writable, const std::string& path, std::string* error) {
  std::vector<off_t> take = {kPermBase + kConsistentRead, kDenyBase + kWritePerm};
  std::vector<off_t> conflicts = {kDenyBase + kConsistentRead, kPermBase + kWritePerm};
  if (writable) {
    take.push_back(kPermBase + kWritePerm);
    conflicts.push_back(kDenyBase + kWritePerm);
  }
  const std::string locked = path + ": the image is locked by another process (is another VM using it?)";
  for (off_t byte : take) {
    const int err = LockByte(fd, byte);
    if (err == EINVAL || err == ENOLCK || err == ENOTSUP || err == EOPNOTSUPP) return true;
    if (err == EAGAIN || err == EACCES) {  // someone holds a write lock on our byte
      *error = locked;
      return false;
    }
    if (err) {
      *error = path + ": cannot lock the image: " + std::strerror(err);
      return false;
    }
  }
  for (off_t byte : conflicts)
    if (LockedElsewhere(fd, byte)) {
      *error = locked;
      return false;
    }
  return true;
}

std::nullptr_t Fail(std::string* error, const std::string& path, const std::string& what) {
  *error = path + ": " + what;
  return nullptr;
}

// Copies a scatter list so that a short transfer can advance through it.
class SegmentCursor {
 public:
  SegmentCursor(const iovec* segments, int count) : segs_(segments, segments + count) {}
  bool done() const { return first_ == segs_.size(); }
  const iovec* data() const { return segs_.data() + first_; }
  int count() const { return static_cast<int>(std::min<size_t>(segs_.size() - first_, IOV_MAX)); }
  void Advance(size_t bytes) {
    while (bytes > 0 && first_ < segs_.size()) {
      iovec& s = segs_[first_];
      const size_t n = std::min(bytes, s.iov_len);
      s.iov_base = static_cast<char*>(s.iov_base) + n;
      s.iov_len -= n;
      bytes -= n;
      if (s.iov_len == 0) ++first_;
    }
    while (first_ < segs_.size() && segs_[first_].iov_len == 0) ++first_;
  }

 private:
  std::vector<iovec> segs_;
  size_t first_ = 0;
};

}  // namespace

int ReadFull(int fd, uint64_t offset, void* buffer, size_t length) {
  char* p = static_cast<char*>(buffer);
  while (length > 0) {
    const ssize_t n = pread(fd, p, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // the file ended early (it shrank under us)
    p += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return 0;
}

int WriteFull(int fd, uint64_t offset, const void* buffer, size_t length) {
  const char* p = static_cast<const char*>(buffer);
  while (length > 0) {
    const ssize_t n = pwrite(fd, p, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    p += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return 0;
}

// preadv or pwritev until the whole scatter list is done (short transfers and EINTR continue).
template <typename Transfer>
int TransferFullV(Transfer transfer, int fd, uint64_t offset, const iovec* segments, int count) {
  SegmentCursor cursor(segments, count);
  cursor.Advance(0);
  while (!cursor.done()) {
    const ssize_t n = transfer(fd, cursor.data(), cursor.count(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    offset += static_cast<uint64_t>(n);
    cursor.Advance(static_cast<size_t>(n));
  }
  return 0;
}

int ReadFullV(int fd, uint64_t offset, const iovec* segments, int count) {
  return TransferFullV(preadv, fd, offset, segments, count);
}

int WriteFullV(int fd, uint64_t offset, const iovec* segments, int count) {
  return TransferFullV(pwritev, fd, offset, segments, count);
}

int OpenImageFile(const std::string& path, RawOpenOptions* opts, struct stat* stat_out, std::string* error) {
  RawOpenOptions& options = *opts;
  const auto fail = [&](const std::string& where, const std::string& what) {
    Fail(error, where, what);
    return -1;
  };
  if (path.empty()) return fail("(empty file name)", "no such file");
  // Read-only first, without blocking (a FIFO must not wait for a writer), to say what the path is.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return fail(path, std::strerror(errno));
  struct stat& st = *stat_out;
  if (fstat(fd.get(), &st) != 0) return fail(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return fail(path, std::string(FileKindOf(st.st_mode)) + ", not a disk image");
  const int rw = options.read_only ? -1 : open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
  const int rw_error = rw < 0 ? errno : 0;
  const bool denied = rw_error == EACCES || rw_error == EROFS || rw_error == EPERM;
  if (!options.read_only && denied && options.auto_read_only) options.read_only = true;  // QEMU's fallback
  if (!options.read_only) {
    if (rw < 0) {
      if (denied)
        return fail(path, std::string("the file is read-only (") + std::strerror(rw_error) +
                              "): use -snapshot, or readonly=on (with if=virtio or media=cdrom)");
      return fail(path, std::strerror(rw_error));
    }
    fd.reset(rw);
  } else {
    if (rw >= 0) close(rw);
    fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  }
  return fd.release();
}

bool LockImageFile(int fd, bool writable, const std::string& path, std::string* error) {
  return LockImage(fd, writable, path, error);
}

std::unique_ptr<RawImage> RawImage::Open(const std::string& path, const RawOpenOptions& asked,
                                         std::string* error) {
  RawOpenOptions options = asked;
  struct stat st;
  UniqueFd fd(OpenImageFile(path, &options, &st, error));
  if (fd.get() < 0) return nullptr;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode) && ioctl(fd.get(), BLKGETSIZE64, &size) != 0)
    return Fail(error, path, std::string("cannot read the block device's size: ") + std::strerror(errno));
  if (size == 0) return Fail(error, path, "empty file (a disk image holds at least one 512-byte sector)");
  if (options.cdrom) {
    constexpr uint64_t kCdBlock = 2048;
    if (size < kCdBlock)
      return Fail(error, path,
                  "size of " + std::to_string(size) + " bytes is less than one 2048-byte CD-ROM block");
    size -= size % kCdBlock;
  } else if (size % kSectorSize != 0)
    return Fail(error, path,
                "size of " + std::to_string(size) +
                    " bytes is not a whole number of 512-byte sectors (truncate -s %512 pads it)");
  if (options.probe) {
    uint8_t head[kProbeBytes];
    const size_t n = static_cast<size_t>(std::min<uint64_t>(size, sizeof head));
    if (int err = ReadFull(fd.get(), 0, head, n))
      return Fail(error, path, std::string("read error: ") + std::strerror(err));
    if (const char* format = ProbeFormat(head, n))
      return Fail(error, path,
                  std::string("a ") + format + " image, not a raw one; " + ConvertAdvice(format, path) +
                      " (or give format=raw to use its bytes as they are)");
  }
  if (!LockImage(fd.get(), !options.read_only, path, error)) return nullptr;
  return std::unique_ptr<RawImage>(new RawImage(path, fd.release(), size, options,
                                                static_cast<uint64_t>(st.st_dev),
                                                static_cast<uint64_t>(st.st_ino), S_ISREG(st.st_mode)));
}

RawImage::~RawImage() {
  close(fd_);
}

int RawImage::Read(uint64_t offset, void* buffer, size_t length) {
  if (int err = CheckRange(offset, length)) return err;
  return ReadFull(fd_, offset, buffer, length);
}

int RawImage::Write(uint64_t offset, const void* buffer, size_t length) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  if (int err = WriteFull(fd_, offset, buffer, length)) return err;
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

int RawImage::ReadV(uint64_t offset, const iovec* segments, int count) {
  if (int err = CheckRange(offset, SegmentsLength(segments, count))) return err;
  return ReadFullV(fd_, offset, segments, count);
}

int RawImage::WriteV(uint64_t offset, const iovec* segments, int count) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, SegmentsLength(segments, count))) return err;
  if (int err = WriteFullV(fd_, offset, segments, count)) return err;
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

namespace {
int Fallocate(int fd, int mode, uint64_t offset, uint64_t length) {
  while (fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}
}  // namespace

int PunchHole(int fd, uint64_t offset, uint64_t length) {
  return Fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

int RawImage::Discard(uint64_t offset, uint64_t length) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  if (!options_.unmap || !regular_ || length == 0) return 0;
  // A discard is a hint: a file system without holes keeps the bytes, which is no error for the guest.
  const int err = PunchHole(fd_, offset, length);
  if (err && err != EOPNOTSUPP) return err;
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

int RawImage::WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  if (!regular_ || length == 0) return BlockBackend::WriteZeroes(offset, length, may_unmap);
  // A punched hole reads as zeros; FALLOC_FL_ZERO_RANGE zeros and keeps the space allocated.
  int err = may_unmap && options_.unmap ? PunchHole(fd_, offset, length) : EOPNOTSUPP;
  if (err == EOPNOTSUPP) err = Fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
  if (err == EOPNOTSUPP) return BlockBackend::WriteZeroes(offset, length, may_unmap);
  if (err) return err;
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

bool RawImage::Origin(uint64_t offset, BlockOrigin* origin) const {
  if (!options_.read_only || offset % 4096 != 0 || offset + 4096 > size_) return false;
  *origin = {device_, inode_, offset};
  return true;
}

int RawImage::Flush() {
  if (options_.read_only || options_.ignore_flush) return 0;
  while (fdatasync(fd_) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

}  // namespace strobe::vmm::block
