// SPDX-License-Identifier: MIT
// A raw disk image: a regular host file (or a block device) whose bytes are the disk's, read and written in
// place with pread/pwrite. Opening checks everything a disk option can get wrong and says so in one line
// ("PATH: what is wrong", as vmm/host_file.h): missing, unreadable, a directory or another non-file, empty,
// not whole sectors, read-only without readonly=on, an image in another format (when probing), or in use by
// another VM.
//
// Locking follows QEMU's protocol, so that Strobe and QEMU processes exclude each other too: shared OFD
// locks on single bytes, 100 + p for each permission p the user holds and 200 + p for each it denies others
// (p: 0 consistent read, 1 write). A writable image holds read and write and denies write; a read-only one
// (readonly=on, media=cdrom, the base of a -snapshot) holds read and denies write. So readers share an image
// with readers, and a writer excludes everyone: the second process refuses ("... is locked by another
// process"), whichever of the two writes. OFD locks belong to the open file description, so two opens in one
// process conflict as two processes do.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "vmm/block/backend.h"

namespace strobe::vmm::block {

struct RawOpenOptions {
  bool read_only = false;      // O_RDONLY and a shared lock; writes fail with EROFS
  bool probe = true;           // no format= given: refuse an image in another format (image_format.h)
  bool write_through = false;  // cache=writethrough/directsync: every write is followed by fdatasync
  bool ignore_flush = false;   // cache=unsafe: Flush does nothing
  // A CD/DVD image (media=cdrom): its whole 2048-byte blocks are the disc, so the size need not be whole
  // sectors; a partial block at the end is left out, and an image without one whole block is refused.
  bool cdrom = false;
  // -blockdev auto-read-only=on: a file this process may not write is opened read-only instead of refused
  // (QEMU's fallback; the backend then says read_only()).
  bool auto_read_only = false;
  // discard=unmap: the guest's discards (and zero writes that allow it) give the space back to the host:
  // holes punched in a raw file, clusters freed in a qcow2 image. Without it they only zero what they must.
  bool unmap = false;
};

class RawImage final : public BlockBackend {
 public:
  // nullptr with *error set (one line) when the file cannot be used as a disk.
  static std::unique_ptr<RawImage> Open(const std::string& path, const RawOpenOptions& options,
                                        std::string* error);
  ~RawImage() override;  // closes the file, which drops its locks
  RawImage(const RawImage&) = delete;
  RawImage& operator=(const RawImage&) = delete;

  uint64_t size() const override { return size_; }
  bool read_only() const override { return options_.read_only; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t offset, void* buffer, size_t length) override;
  int Write(uint64_t offset, const void* buffer, size_t length) override;
  int Flush() override;
  int ReadV(uint64_t offset, const iovec* segments, int count) override;
  int WriteV(uint64_t offset, const iovec* segments, int count) override;
  // A regular file: holes punched (unmap) or ranges zeroed by fallocate where the file system can; a block
  // device, or a file system without it: discards do nothing and zeros are written.
  int Discard(uint64_t offset, uint64_t length) override;
  int WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  // A read-only image: its own device, inode and the offset (its lock keeps writers out, Strobe's or QEMU's).
  bool Origin(uint64_t offset, BlockOrigin* origin) const override;

  // Whether the image was probed (no format= given) and found raw.
  bool probed() const { return options_.probe; }

 private:
  RawImage(std::string path, int fd, uint64_t size, const RawOpenOptions& options, uint64_t device,
           uint64_t inode, bool regular)
      : path_(std::move(path)),
        fd_(fd),
        size_(size),
        options_(options),
        device_(device),
        inode_(inode),
        regular_(regular) {}
  std::string path_;
  int fd_;
  uint64_t size_;
  RawOpenOptions options_;
  uint64_t device_, inode_;  // the file's st_dev and st_ino
  bool regular_;             // a regular file (not a block device): fallocate may punch and zero
};

// Opens an image file as RawImage::Open does before it looks at the bytes (any format): the file's kind and
// permissions checked, with auto_read_only's fallback applied to options->read_only; *st is its fstat. The
// descriptor (the caller's to close), or -1 with *error set.
int OpenImageFile(const std::string& path, RawOpenOptions* options, struct stat* st, std::string* error);
// QEMU's locks on an open image (above): false with *error set when another user's conflict.
bool LockImageFile(int fd, bool writable, const std::string& path, std::string* error);

// pread/pwrite of every byte: short transfers continue, EINTR retries, an early end of file is EIO.
// 0 or an errno value. Shared with the snapshot overlay's store.
int ReadFull(int fd, uint64_t offset, void* buffer, size_t length);
int WriteFull(int fd, uint64_t offset, const void* buffer, size_t length);
// The same for scatter lists (preadv/pwritev, at most IOV_MAX segments per call).
int ReadFullV(int fd, uint64_t offset, const iovec* segments, int count);
int WriteFullV(int fd, uint64_t offset, const iovec* segments, int count);
// fallocate(PUNCH_HOLE | KEEP_SIZE) of a file's range: it reads as zeros and takes no space. 0, or an errno
// (EOPNOTSUPP where the file system has no holes). Shared with the qcow2 image's freed clusters.
int PunchHole(int fd, uint64_t offset, uint64_t length);

}  // namespace strobe::vmm::block
