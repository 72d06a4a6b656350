// SPDX-License-Identifier: MIT
// Vm's user-mode networks as the monitor reaches them (vm.h): hostfwd_add, hostfwd_remove, info usernet.
#include <string>

#include "vmm/vm.h"

namespace strobe::vmm {

std::string Vm::HostForward(bool add, const std::string& netdev, const std::string& rule) {
  // The NICs' list is fixed once the VM is built, and the backends serialise the work on their threads.
  for (const NicConfig& nic : config_.nics) {
    if (!nic.backend || (!netdev.empty() && nic.netdev_id != netdev)) continue;
    std::string out;
    if (nic.backend->HostForward(add, rule, &out)) return out;
    if (!netdev.empty()) return "Device '" + netdev + "' is not a slirp device\n";
  }
  return netdev.empty() ? "user mode network stack not in use\n"
                        : "unrecognized netdev id '" + netdev + "'\n";
}

std::string Vm::UserNetInfo() {
  std::string out;
  for (size_t i = 0; i < config_.nics.size(); ++i) {
    const NicConfig& nic = config_.nics[i];
    std::string table;
    if (!nic.backend || !nic.backend->ConnectionInfo(&table)) continue;
    // QEMU's heading: the hub (none: -1) and the netdev's name (QEMU numbers unnamed ones #netN).
    out += "Hub -1 (" + (nic.netdev_id.empty() ? "#net" + std::to_string(i) : nic.netdev_id) + "):\n" + table;
  }
  return out;
}

}  // namespace strobe::vmm
