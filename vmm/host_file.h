// SPDX-License-Identifier: MIT
// Reading a host file named on the command line (-kernel, -initrd): the one helper these file options go
// through, so that directories, devices, FIFOs, unreadable and oversized files are all refused the same way,
// with one line naming the file, before anything large is read. Disk images are opened, not read, by
// vmm/block/raw_image.h, whose messages follow the same form ("PATH: what is wrong", FileKindOf).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strobe::vmm {

// An owned file descriptor: closed when it goes out of scope unless released.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(-1); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd);

 private:
  int fd_;
};

// The largest guest RAM (QEMU's Malta takes up to 2 GiB): a kernel or initrd larger than this can never fit,
// so it is refused before it is read.
inline constexpr uint64_t kMaxGuestFileBytes = uint64_t{2} << 30;

// Reads the whole of a regular file of at most max_bytes. false with *error set ("PATH: what is wrong",
// one line) otherwise. Never throws, and never reads a file that is too large.
bool ReadHostFile(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>* out, std::string* error);

// What a path that is not a regular file is, for messages: "a directory", "a character device", "a block
// device", "a FIFO", "a socket" (st_mode from stat).
const char* FileKindOf(uint32_t st_mode);

// "3.0 GiB", "12.5 MiB", "512 bytes": sizes in messages.
std::string HumanSize(uint64_t bytes);

}  // namespace strobe::vmm
