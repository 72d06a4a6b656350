// SPDX-License-Identifier: MIT
#include "tools/strobe/console.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace strobe::tools {

namespace {
uint8_t g_escape = 0x01;  // Ctrl-A unless -echr
bool g_to_guest = true;
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

// "C-a" for Ctrl-A, as QEMU names the escape key.
std::string KeyName(uint8_t key) {
  if (key >= 1 && key <= 26) return std::string("C-") + static_cast<char>('a' + key - 1);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x", key);
  return buf;
}

void InputLoop(vmm::Vm* vm) {
  const uint8_t kEscape = g_escape;
  const std::string key = KeyName(kEscape);
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
          if (g_to_guest) vm->ConsoleInput(b);
        }
        continue;
      }
      escape = false;
      switch (b) {
        case 'x':
        case 'X':
          WriteAll(("\r\nstrobe: terminated (" + (kEscape == 0x01 ? std::string("Ctrl-A") : key) + " x)\r\n")
                       .c_str());
          vm->RequestQuit();
          return;
        case 'h':
        case '?':
          WriteAll(("\r\n" + key + " x    exit\r\n" + key + " " + key + "  send " + key + "\r\n" + key +
                    " h    this help\r\n")
                       .c_str());
          break;
        default:
          if (b == kEscape && g_to_guest) vm->ConsoleInput(kEscape);
          break;  // unknown escapes are dropped, as in QEMU
      }
    }
  }
}
}  // namespace

void HostConsole::Restore() {
  if (g_raw.exchange(false)) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
}

void HostConsole::Start(vmm::Vm& vm, uint8_t escape, bool to_guest) {
  g_escape = escape;
  g_to_guest = to_guest;
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g_saved) == 0) {
    termios raw = g_saved;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;  // keep host-side newline handling for our own messages
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) {
      g_raw = true;
      std::atexit(Restore);
      for (int sig : {SIGQUIT, SIGABRT, SIGSEGV, SIGBUS}) signal(sig, OnFatalSignal);
    }
  }
  std::thread(InputLoop, &vm).detach();  // blocks in read(); ends with the process
}

}  // namespace strobe::tools
