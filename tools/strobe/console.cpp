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
#include <memory>
#include <string>
#include <thread>

#include "vmm/monitor/terminal.h"

namespace strobe::tools {

namespace {
uint8_t g_escape = 0x01;  // Ctrl-A unless -echr
bool g_to_guest = true;
vmm::mon::MachineControl* g_monitor = nullptr;
std::function<void()> g_quit;  // Ctrl-A x
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

void WriteOut(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(w);
  }
}

void InputLoop(vmm::Vm* vm) {
  const uint8_t kEscape = g_escape;
  const std::string key = KeyName(kEscape);
  bool escape = false;
  // Ctrl-A c: the monitor has the keyboard (the guest's output still shows, as on QEMU's mux).
  std::unique_ptr<vmm::mon::HmpTerminal> monitor;
  bool monitor_focus = false;
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
        } else if (monitor_focus) {
          const char c = static_cast<char>(b);
          monitor->Feed(&c, 1);
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
          if (g_quit) {
            g_quit();
          } else {
            vm->RequestQuit();
          }
          return;
        case 'h':
        case '?':
          WriteAll(("\r\n" + key + " h    print this help\r\n" + key + " x    exit emulator\r\n" +
                    (g_monitor ? key + " c    switch between console and monitor\r\n" : "") + key + " " +
                    key + "  sends " + key + "\r\n")
                       .c_str());
          break;
        case 'c':
          if (!g_monitor) break;
          monitor_focus = !monitor_focus;
          if (monitor_focus && !monitor) {
            monitor = std::make_unique<vmm::mon::HmpTerminal>(*g_monitor, WriteOut, /*editor=*/true);
            WriteOut("\r\n");
            monitor->Open();
          } else if (monitor_focus) {
            WriteOut("\r\n");
            monitor->Prompt();
          }
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

void HostConsole::Start(vmm::Vm& vm, uint8_t escape, bool to_guest, vmm::mon::MachineControl* monitor,
                        std::function<void()> quit) {
  g_escape = escape;
  g_quit = std::move(quit);
  g_to_guest = to_guest;
  g_monitor = monitor;
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
