// SPDX-License-Identifier: MIT
// The host side of the guest console: stdin feeds the UART, stdout shows its output. On a terminal, stdin
// is put in raw mode for the run (every key reaches the guest, Ctrl-C included) and restored on exit and on
// fatal signals. As in QEMU, Ctrl-A (or the -echr key) is an escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends
// Ctrl-A, Ctrl-A h lists the keys. Piped stdin works the same way, without the terminal handling.
#pragma once

#include <functional>

#include "vmm/monitor/machine.h"
#include "vmm/vm.h"

namespace strobe::tools {

class HostConsole {
 public:
  // Starts the input thread and, on a terminal, raw mode. escape: the escape key (-echr). to_guest: stdin
  // is the guest's serial console (else only the escape keys are read from it, as QEMU's stdio monitor mux).
  // monitor: what Ctrl-A c's monitor drives (null: Ctrl-A c does nothing). quit: what Ctrl-A x does
  // (empty: vm.RequestQuit(); with several VMs, end them all).
  static void Start(vmm::Vm& vm, uint8_t escape = 0x01, bool to_guest = true,
                    vmm::mon::MachineControl* monitor = nullptr, std::function<void()> quit = {});
  // Restores the terminal (idempotent; also runs at exit and on SIGTERM/SIGHUP/SIGQUIT).
  static void Restore();
};

}  // namespace strobe::tools
