// SPDX-License-Identifier: MIT
#include "tools/strobe/console.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace strobe::tools {

namespace {
constexpr uint8_t kEscape = 0x01;  // Ctrl-A
termios g_saved;
std::atomic<bool> g_raw{false};

void WriteAll(const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = write(STDERR_FILENO, s, n);
    if (w <= 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= static_cast<size_t>(w);
  }
}

void OnFatalSignal(int sig) {
  HostConsole::Restore();
  signal(sig, SIG_DFL);
  raise(sig);
}

void InputLoop(vmm::Vm* vm) {
  bool escape = false;
  uint8_t buf[256];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // end of input: the guest keeps running without it
    }
    for (ssize_t i = 0; i < n; ++i) {
      uint8_t b = buf[i];
      if (!escape) {
        if (b == kEscape) {
          escape = true;
        } else {
          vm->ConsoleInput(b);
        }
        continue;
      }
      escape = false;
      switch (b) {
        case 'x':
        case 'X':
          WriteAll("\r\nstrobe: terminated (Ctrl-A x)\r\n");
          vm->RequestQuit();
          return;
        case kEscape: vm->ConsoleInput(kEscape); break;
        case 'h':
        case '?': WriteAll("\r\nC-a x    exit\r\nC-a C-a  send C-a\r\nC-a h    this help\r\n"); break;
        default: break;  // unknown escapes are dropped, as in QEMU
      }
    }
  }
}
}  // namespace

void HostConsole::Restore() {
  if (g_raw.exchange(false)) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
}

void HostConsole::Start(vmm::Vm& vm) {
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g_saved) == 0) {
    termios raw = g_saved;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;  // keep host-side newline handling for our own messages
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) {
      g_raw = true;
      std::atexit(Restore);
      for (int sig : {SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS}) signal(sig, OnFatalSignal);
    }
  }
  std::thread(InputLoop, &vm).detach();  // blocks in read(); ends with the process
}

}  // namespace strobe::tools
