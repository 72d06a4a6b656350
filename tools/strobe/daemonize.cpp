// SPDX-License-Identifier: MIT
#include "tools/strobe/daemonize.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace strobe::tools {
namespace {

int g_ready_fd = -1;  // the daemon's end of the pipe the started process waits on
bool g_daemonized = false;

}  // namespace

bool Daemonize(std::string* error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("-daemonize: ") + std::strerror(errno);
    return false;
  }
  const pid_t first = fork();
  if (first < 0) {
    *error = std::string("-daemonize: fork: ") + std::strerror(errno);
    return false;
  }
  if (first > 0) {  // the started process: 0 once the daemon is set up, 1 if it ended before
    close(fds[1]);
    uint8_t status = 1;
    ssize_t n;
    do {
      n = read(fds[0], &status, 1);
    } while (n < 0 && errno == EINTR);
    _exit(n == 1 && status == 0 ? 0 : 1);
  }
  close(fds[0]);
  g_ready_fd = fds[1];
  setsid();  // no controlling terminal; then a second fork, so that the daemon can never take one again
  const pid_t second = fork();
  if (second < 0) _exit(1);
  if (second > 0) _exit(0);
  umask(027);
  signal(SIGTSTP, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);
  signal(SIGTTIN, SIG_IGN);
  g_daemonized = true;
  return true;
}

bool Daemonized() {
  return g_daemonized;
}

void DaemonReady(bool keep_stderr) {
  if (g_ready_fd < 0) return;
  if (chdir("/") != 0) _exit(1);
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) _exit(1);
  dup2(null, STDIN_FILENO);
  dup2(null, STDOUT_FILENO);
  if (!keep_stderr) dup2(null, STDERR_FILENO);
  close(null);
  const uint8_t ok = 0;
  ssize_t n;
  do {
    n = write(g_ready_fd, &ok, 1);
  } while (n < 0 && errno == EINTR);
  close(g_ready_fd);
  g_ready_fd = -1;
  if (n != 1) _exit(1);
}

}  // namespace strobe::tools
