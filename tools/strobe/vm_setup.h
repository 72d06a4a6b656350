// SPDX-License-Identifier: MIT
// What a VM needs from the host before it is built: its disk images opened (and locked), its networks'
// backends and captures, all wired into its VmConfig. One VM (`strobe run`) or each of several (--vms).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/strobe/options.h"
#include "vmm/block/backend.h"
#include "vmm/net/backend.h"
#include "vmm/net/pcap.h"

namespace strobe::tools {

// The host objects behind one VM's devices; they must outlive the VM.
struct VmHostResources {
  std::vector<std::unique_ptr<vmm::block::BlockBackend>> disks;
  std::vector<std::unique_ptr<vmm::net::NetBackend>> net_backends;
  std::vector<std::unique_ptr<vmm::net::PcapWriter>> net_captures;
};

// Opens the disks and networks that opts asks for and adds them to opts->vm. Returns 0, or the exit status
// with *error set (one line): 2 for an option that is not supported yet, 1 for a host failure.
int PrepareVmHost(RunOptions* opts, VmHostResources* resources, std::string* error);

}  // namespace strobe::tools
