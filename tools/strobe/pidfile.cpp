// SPDX-License-Identifier: MIT
// -pidfile: see pidfile.h.
#include "tools/strobe/pidfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strobe::tools {

namespace {
std::string g_path;  // the file this process wrote and holds locked
int g_fd = -1;
}  // namespace

bool CreatePidFile(const std::string& path, std::string* error) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "Cannot open pid file " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    *error = "Cannot use pid file " + path + ": not a regular file";
    return false;
  }
  if (lockf(fd, F_TLOCK, 0) != 0) {
    const int err = errno;
    close(fd);
    *error = "Cannot lock pid file " + path + ": " +
             (err == EAGAIN || err == EACCES ? "another process holds it" : std::strerror(err));
    return false;
  }
  const std::string text = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    close(fd);
    *error = "Cannot write pid file " + path + ": " + std::strerror(err);
    return false;
  }
  g_path = path;
  g_fd = fd;
  return true;
}

void RemovePidFile() {
  if (g_fd < 0) return;
  unlink(g_path.c_str());  // while the lock is still held, so no other process's file goes
  close(g_fd);
  g_fd = -1;
}

}  // namespace strobe::tools
