// SPDX-License-Identifier: MIT
// Several VMs in one Strobe process (--vms N, --vm 'OPTIONS'): each on its own vCPU thread, one set of LLVM
// compiler threads for all of them, machine memory shared copy-on-write between them (vmm/page_sharing.h).
// Also the exit statuses and end messages that one VM and several share.
#pragma once

#include <string>

#include "tools/strobe/options.h"
#include "vmm/vm.h"

namespace strobe::tools {

constexpr int kExitError = 1, kExitUsage = 2, kExitHalted = 3, kExitTimeout = 4, kExitLimit = 5,
              kExitPanic = 6;

// The process's exit status for a VM that ended this way (0: power-off, reset with -no-reboot, quit).
int ExitStatus(vmm::VmExit exit);
// One line on why a VM ended (its error text, or what the end means).
std::string EndMessage(vmm::VmExit exit, const std::string& error);

// Runs every VM opts describes (opts.vm_copies copies of its own options, then one per opts.extra_vms)
// until each has ended; returns the process's exit status. Reports each VM's end on its own line.
int RunSeveralVms(RunOptions& opts);

}  // namespace strobe::tools
