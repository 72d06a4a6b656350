// SPDX-License-Identifier: MIT
// The whole VM as one stream of state (vmm/state_io.h), for snapshots: the vCPU (GPRs, HI/LO, PC, the
// delay-slot state, FPU registers and FCSR, every CP0 register the runtime keeps, Count as its bias to the
// virtual clock, the pending timer), the guest TLB, the virtual clock, every device of the board and every
// PCI function, the disks that can be restored (-snapshot overlays), each NIC's network backend (its kind,
// and for -netdev user libslirp's own state: vmm/net/slirp_backend.h), and RAM through the pmap (pages that
// are all zero are left out). Everything runs on the vCPU thread between slices (or before Run), with the
// disks quiet (Quiet): no request in flight, no completion waiting to run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vmm/state_io.h"
#include "vmm/vm.h"

namespace strobe::vmm {

class VmState {
 public:
  // Why this VM cannot be saved ("" when it can): a PCI function without snapshot support, or a disk
  // written in place (a raw image that is neither read-only nor under -snapshot). One line.
  static std::string Refusal(Vm& vm);
  // What a snapshot must be loaded into: RAM size, CPU model, TLB size, the PCI functions in each slot,
  // the disks (size and kind), the NICs (model and the kind of network behind each). One "key=value" line
  // each.
  static std::string Configuration(Vm& vm);
  // The disks are quiet: every submitted request has executed and its completion has run. Waits for
  // the disks' workers (Drain); false when completions are still to run (the caller lets them run and
  // asks again).
  static bool Quiet(Vm& vm);
  // Drains the disks and runs completions until Quiet (outside a completion batch: tests, -loadvm).
  static void Settle(Vm& vm);

  // The state (after Configuration has been checked by the caller). Save cannot fail on a quiet VM that
  // Refusal accepts; Load leaves the VM as it was when the stream is malformed (a bad RAM or disk part
  // is found before anything is changed), and afterwards drops translated code, decoded blocks and the
  // soft TLB so that nothing stale runs.
  static void Save(Vm& vm, StateIo& io);
  static bool Load(Vm& vm, StateIo& io, std::string* error);

 private:
  static void Machine(Vm& vm, StateIo& io);  // CPU, TLB, board, the VM's own state
  static void Disks(Vm& vm, StateIo& io);
  // Loading, each backend's state is checked as it is read and its load kept in *apply, to run once the
  // whole snapshot has been read (a backend cannot put its previous state back).
  static void Network(Vm& vm, StateIo& io, std::vector<std::function<void()>>* apply);
  // Loading, *changed gets the guest-physical address of each page whose code (the bytes decoded from it)
  // the load rewrote.
  static void Ram(Vm& vm, StateIo& io, std::vector<uint32_t>* changed);
  static void AfterLoad(Vm& vm, const std::vector<uint32_t>* changed);
};

}  // namespace strobe::vmm
