// SPDX-License-Identifier: MIT
// The monitors of several VMs in one process (multi_vm.cpp). Each VM has its own HMP and QMP endpoints,
// as if each were a QEMU process of its own: a --vm's own -monitor/-qmp, or else the whole run's, which
// give VM i the port PORT + i and the path PATH.vm<i> (VM 0 keeps PATH), as -gdb gives VM i PORT + i.
// Every command acts on that VM alone, `quit` included; one snapshot folder serves them all.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "vmm/monitor.h"
#include "vmm/monitor/server.h"
#include "vmm/monitor/vm_control.h"
#include "vmm/snapshot/snapshot_store.h"
#include "vmm/vm.h"

namespace strobe::tools {

// VM vm's copy of an endpoint given outside --vm: tcp PORT + vm (port 0 stays 0: a free port each), unix
// PATH for VM 0 and PATH.vm<vm> for the others. Its text names the VM ("vm1: -qmp unix:/tmp/q.vm1,...").
// false with *error (one line) when the port or path cannot be had.
bool MonitorSpecForVm(const vmm::mon::MonitorSpec& spec, size_t vm, vmm::mon::MonitorSpec* out,
                      std::string* error);

// One VM's monitor: its VmControl (also what the terminal's Ctrl-A c drives while the terminal shows
// this VM) and its socket endpoints.
class VmMonitors {
 public:
  VmMonitors(vmm::Vm& vm, const vmm::Monitor& monitor, vmm::SnapshotStore& snapshots, size_t index);
  // Binds every endpoint, before the VM boots. false with *error (one line naming the endpoint).
  bool Listen(const std::vector<vmm::mon::MonitorSpec>& specs, std::string* error);
  // The endpoints for the start line ("qmp unix:/tmp/q.vm1"), joined by " + "; "" without any.
  std::string Where() const;
  vmm::mon::VmControl& control() { return control_; }
  // On the VM's thread before it runs: an endpoint without nowait waits for its client here, so that
  // this VM alone waits.
  void Start() { server_.Start(); }
  // On the VM's thread once its run has ended: QMP's SHUTDOWN event, then the endpoints close and their
  // clients are disconnected, as when a QEMU process ends (the other VMs run on).
  void Ended(vmm::VmExit exit);

 private:
  vmm::mon::VmControl control_;
  vmm::mon::MonitorServer server_;
};

}  // namespace strobe::tools
