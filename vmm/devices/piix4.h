// SPDX-License-Identifier: MIT
// The PIIX4's PCI functions (Intel 82371AB datasheet): function 0, the PCI-to-ISA bridge (multi-function),
// whose PIRQRC registers (0x60-0x63, one per PIRQA-D: bit 7 disables the routing, bits 3-0 name the ISA
// IRQ) steer the four PCI interrupt lines to the i8259 inputs; and function 3, power management, whose
// PMBA/PMREGMISC registers place and enable the power-management I/O block (Piix4Pm). Function 1 (IDE) is
// Piix4Ide (piix4_ide.h); function 2 (USB) is absent.
#pragma once

#include <cstdint>
#include <functional>

#include "vmm/devices/pci.h"
#include "vmm/devices/piix4_pm.h"

namespace strobe::vmm {

class StateIo;

class Piix4Isa final : public PciFunction {
 public:
  using SetIsaIrq = std::function<void(unsigned isa_irq, bool level)>;
  explicit Piix4Isa(SetIsaIrq set_isa_irq);

  // A PIRQ line's level (wired-OR of the PCI functions on it; PciBus computes it). Each ISA IRQ that one
  // or more PIRQs are routed to sees the OR of their levels: a level-low PCI line shared by devices.
  void SetPirq(unsigned pirq, bool level);
  // The ISA IRQ a PIRQ goes to, or -1 when its routing is disabled (or names a reserved IRQ).
  int PirqRoute(unsigned pirq) const;

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  bool Snapshottable() const override { return true; }
  void State(StateIo& io) override;

 protected:
  void ConfigWritten(uint8_t reg) override;

 private:
  void Route();

  SetIsaIrq set_isa_irq_;
  uint8_t pirq_levels_ = 0;  // bit n: PIRQn asserted
  uint16_t driven_ = 0;      // ISA IRQs the router holds high now
};

class Piix4PmFunction final : public PciFunction {
 public:
  // pm: the register block the PMBA window reaches.
  explicit Piix4PmFunction(Piix4Pm* pm);
  bool Snapshottable() const override { return true; }
  uint32_t io_base() const;

 protected:
  void ConfigWritten(uint8_t reg) override;
  void FixedWindows(std::vector<PciWindow>* out) override;

 private:
  Piix4Pm* pm_;
};

}  // namespace strobe::vmm
