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
#include <utility>

#include "vmm/monitor/terminal.h"

namespace strobe::tools {

namespace {
uint8_t g_escape = 0x01;  // Ctrl-A unless -echr
bool g_to_guest = true;
std::vector<vmm::Vm*> g_vms;   // the terminal's VM: g_vms[g_mux->current()], or g_vms[0]
TerminalMux* g_mux = nullptr;  // several VMs
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

void WriteStdout(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t w = write(STDOUT_FILENO, p, size);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return;
    }
    p += w;
    size -= static_cast<size_t>(w);
  }
}

void WriteOut(const std::string& s) {
  WriteStdout(s.data(), s.size());
}

vmm::Vm* TerminalVm() {
  return g_mux ? g_vms[g_mux->current()] : g_vms[0];
}

void InputLoop() {
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
          if (g_to_guest) TerminalVm()->ConsoleInput(b);
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
            TerminalVm()->RequestQuit();
          }
          return;
        case 'h':
        case '?':
          WriteAll(("\r\n" + key + " h    print this help\r\n" + key + " x    exit emulator\r\n" +
                    (g_monitor ? key + " c    switch between console and monitor\r\n" : "") +
                    (g_mux ? key + " n    switch the terminal to the next VM\r\n" : "") + key + " " + key +
                    "  sends " + key + "\r\n")
                       .c_str());
          break;
        case 'n':
          if (!g_mux) break;
          g_mux->Next();
          if (!monitor_focus) break;
          if (monitor && monitor->quit()) monitor.reset();  // the quit ended that VM, not this monitor
          if (monitor) {
            monitor->Prompt();
          } else {
            monitor = std::make_unique<vmm::mon::HmpTerminal>(*g_monitor, WriteOut, /*editor=*/true);
            monitor->Open();
          }
          break;
        case 'c':
          if (!g_monitor) break;
          monitor_focus = !monitor_focus;
          if (monitor && monitor->quit() && g_mux) monitor.reset();  // the other VMs' monitor goes on
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
          if (b == kEscape && g_to_guest) TerminalVm()->ConsoleInput(kEscape);
          break;  // unknown escapes are dropped, as in QEMU
      }
    }
  }
}
}  // namespace

void TerminalMux::Output(size_t vm, uint8_t byte) {
  if (vm != current_.load()) return;  // the others never wait for the terminal
  std::lock_guard<std::mutex> lock(write_mu_);
  if (vm == current_.load()) WriteStdout(&byte, 1);  // not after a switch's line that moved it away
}

size_t TerminalMux::Next() {
  std::lock_guard<std::mutex> lock(write_mu_);
  const size_t next = (current_.load() + 1) % vms_;
  current_.store(next);
  const std::string line = "\r\n[strobe: console -> vm" + std::to_string(next) + "]\r\n";
  WriteStdout(line.data(), line.size());
  return next;
}

void HostConsole::Restore() {
  if (g_raw.exchange(false)) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
}

void HostConsole::Start(vmm::Vm& vm, uint8_t escape, bool to_guest, vmm::mon::MachineControl* monitor,
                        std::function<void()> quit) {
  StartShared({&vm}, nullptr, escape, to_guest, monitor, std::move(quit));
}

void HostConsole::StartShared(std::vector<vmm::Vm*> vms, TerminalMux* mux, uint8_t escape, bool to_guest,
                              vmm::mon::MachineControl* monitor, std::function<void()> quit) {
  g_vms = std::move(vms);
  g_mux = mux;
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
  std::thread(InputLoop).detach();  // blocks in read(); ends with the process
}

}  // namespace strobe::tools
