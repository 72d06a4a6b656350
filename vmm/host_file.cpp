// SPDX-License-Identifier: MIT
#include "vmm/host_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace strobe::vmm {

const char* FileKindOf(uint32_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

namespace {
bool Fail(std::string* error, const std::string& path, const std::string& what) {
  *error = path + ": " + what;
  return false;
}

}  // namespace

std::string HumanSize(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  else if (bytes >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1ull << 20));
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  return buf;
}

bool ReadHostFile(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>* out,
                  std::string* error) {
  if (path.empty()) return Fail(error, "(empty file name)", "no such file");
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any non-file.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return Fail(error, path, std::strerror(errno));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Fail(error, path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Fail(error, path, std::string(FileKindOf(st.st_mode)) + ", not a file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes)
    return Fail(error, path,
                "file of " + std::to_string(size) + " bytes (" + HumanSize(size) +
                    ") is larger than the largest guest RAM (" + HumanSize(max_bytes) + ")");
  out->assign(size, 0);
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd.get(), out->data() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      out->clear();
      return Fail(error, path, std::string("read error: ") + std::strerror(err));
    }
    if (n == 0) {  // the file shrank while it was read: what we have is not what was stat'ed
      out->clear();
      return Fail(error, path, "file changed size while being read");
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace strobe::vmm
