// SPDX-License-Identifier: MIT
// The host side of the guest console: stdin feeds the UART, stdout shows its output. On a terminal, stdin
// is put in raw mode for the run (every key reaches the guest, Ctrl-C included) and restored on exit and on
// fatal signals. As in QEMU, Ctrl-A (or the -echr key) is an escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends
// Ctrl-A, Ctrl-A h lists the keys. Piped stdin works the same way, without the terminal handling. With
// several VMs (multi_vm.cpp) the terminal shows one VM's console at a time and Ctrl-A n moves it on.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "vmm/monitor/machine.h"
#include "vmm/vm.h"

namespace strobe::tools {

// Several VMs on one terminal: it shows the console output of one VM at a time (each VM's log file has
// all of it) and the keys go to that VM; Next moves it on, wrapping, as QEMU's mux moves between its
// front ends.
class TerminalMux {
 public:
  explicit TerminalMux(size_t vms) : vms_(vms) {}
  // VM vm's console output: shown while the terminal is on that VM (any thread). Only that VM waits
  // when the terminal does not take its output (Ctrl-S, a pipe nobody reads), as one VM would.
  void Output(size_t vm, uint8_t byte);
  size_t current() const { return current_.load(); }
  size_t size() const { return vms_; }
  // Moves the terminal to the next VM and says so on it ("[strobe: console -> vm1]").
  size_t Next();

 private:
  std::mutex write_mu_;  // the shown VM's bytes and a switch's line, one at a time
  size_t vms_;
  std::atomic<size_t> current_{0};
};

class HostConsole {
 public:
  // Starts the input thread and, on a terminal, raw mode. escape: the escape key (-echr). to_guest: stdin
  // is the guest's serial console (else only the escape keys are read from it, as QEMU's stdio monitor mux).
  // monitor: what Ctrl-A c's monitor drives (null: Ctrl-A c does nothing). quit: what Ctrl-A x does
  // (empty: vm.RequestQuit(); with several VMs, end them all).
  static void Start(vmm::Vm& vm, uint8_t escape = 0x01, bool to_guest = true,
                    vmm::mon::MachineControl* monitor = nullptr, std::function<void()> quit = {});
  // Several VMs: the keys go to vms[mux->current()], Ctrl-A n moves the terminal on, and `monitor` (Ctrl-A
  // c) is expected to follow it (vmm/monitor/selected_machine.h).
  static void StartShared(std::vector<vmm::Vm*> vms, TerminalMux* mux, uint8_t escape, bool to_guest,
                          vmm::mon::MachineControl* monitor, std::function<void()> quit);
  // Restores the terminal (idempotent; also runs at exit and on SIGTERM/SIGHUP/SIGQUIT).
  static void Restore();
};

}  // namespace strobe::tools
