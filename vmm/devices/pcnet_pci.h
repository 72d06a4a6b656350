// SPDX-License-Identifier: MIT
// The PCnet-PCI II as a PCI function (PCI vendor 0x1022 AMD, device 0x2000, revision 0x10, class 0x020000
// Ethernet, as QEMU's `pcnet`): BAR0 the 32 I/O ports of the register window, BAR1 the same registers as
// 32 bytes of memory, INTA. On the Malta the first NIC sits at 00:0b.0, whose INTA the board wires to
// PIRQB (IRQ 10 as the firmware routes it). The chip itself is vmm/devices/pcnet.h; its DMA goes through
// the VM's GuestMemory and its frames through a net::NetPort.
#pragma once

#include <array>
#include <cstdint>

#include "vmm/devices/pci.h"
#include "vmm/devices/pcnet.h"
#include "vmm/guest_memory.h"

namespace strobe::vmm {

class StateIo;

class PcnetPci final : public PciFunction {
 public:
  // memory and port must outlive the function.
  PcnetPci(const std::array<uint8_t, 6>& mac, GuestMemory& memory, net::NetPort* port);
  Pcnet& chip() { return chip_; }
  // PCI reset: the chip's H_RESET; the configuration space keeps what the OS wrote (the board's reset
  // re-runs the whole boot anyway).
  void Reset() { chip_.HardReset(); }

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  bool Snapshottable() const override { return true; }
  void State(StateIo& io) override;

 private:
  class Dma final : public Pcnet::Memory {
   public:
    Dma(GuestMemory& memory, const PcnetPci& function) : memory_(memory), function_(function) {}
    bool Read(uint32_t paddr, void* out, size_t length) override;
    bool Write(uint32_t paddr, const void* data, size_t length) override;

   private:
    GuestMemory& memory_;
    const PcnetPci& function_;
  };

  bool bus_master() const { return (Get16(0x04) & 0x0004) != 0; }

  Pcnet chip_;
  Dma dma_;
};

}  // namespace strobe::vmm
