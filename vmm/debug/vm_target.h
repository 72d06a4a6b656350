// SPDX-License-Identifier: MIT
// A stopped Strobe VM as the gdb stub sees it (DebugTarget): registers in gdb's mips:isa32r2 layout, memory
// by guest-virtual address, breakpoints and watchpoints. Used on the vCPU thread only, while the VM waits.
//
// Memory goes through the guest's segments and TLB as the current mode sees them, without side effects: no
// exception is raised, no TLB or soft TLB entry is filled. Reads take RAM only (a device register read can
// have side effects, so I/O space gets an error reply); writes go through GuestMemory, the one path for
// writes into guest RAM, which drops translated code on the page and breaks copy-on-write sharing. A
// debugger may write over code it cannot store to (the TLB's D bit is ignored, as on QEMU).
#pragma once

#include <set>

#include "vmm/debug/gdb_stub.h"
#include "vmm/vm.h"

namespace strobe::vmm::gdb {

class VmTarget final : public DebugTarget {
 public:
  explicit VmTarget(Vm& vm) : vm_(vm) {}
  bool ReadRegister(unsigned n, uint32_t* value) override;
  bool WriteRegister(unsigned n, uint32_t value) override;
  size_t ReadMemory(uint32_t addr, uint8_t* out, size_t size) override;
  size_t WriteMemory(uint32_t addr, const uint8_t* data, size_t size) override;
  bool InsertPoint(BreakType type, uint32_t addr, uint32_t len) override;
  bool RemovePoint(BreakType type, uint32_t addr, uint32_t len) override;
  // gdb detached or went away: every breakpoint and watchpoint goes.
  void RemoveAll();
  bool IsHardwareBreakpoint(uint32_t addr) const { return hardware_.count(addr) != 0; }

 private:
  // The guest-physical address of va, as a load by the CPU in its current mode would see it; false where
  // it would fault. Nothing in the guest changes.
  bool Translate(uint32_t va, uint32_t* paddr);
  template <typename Access>
  size_t ByPage(uint32_t addr, size_t size, Access access);

  Vm& vm_;
  std::set<uint32_t> hardware_;  // breakpoints set with Z1 (the same mechanism as Z0 for Strobe)
};

}  // namespace strobe::vmm::gdb
