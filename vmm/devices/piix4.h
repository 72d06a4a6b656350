// SPDX-License-Identifier: MIT
// The PIIX4's PCI functions (Intel 82371AB datasheet): function 0, the PCI-to-ISA bridge (multi-function,
// PIRQ routing), and function 3, power management, whose PMBA/PMREGMISC registers place and enable the
// power-management I/O block (Piix4Pm). Function 1 (IDE) is Piix4Ide (piix4_ide.h); function 2 (USB) is
// absent.
#pragma once

#include <functional>

#include "vmm/devices/pci.h"

namespace strobe::vmm {

class Piix4Isa final : public PciFunction {
 public:
  Piix4Isa();
};

class Piix4PmFunction final : public PciFunction {
 public:
  // Called with the I/O base when the block is enabled, or with 0 when it is disabled.
  using Relocate = std::function<void(uint32_t io_base)>;
  explicit Piix4PmFunction(Relocate relocate);
  uint32_t io_base() const;

 protected:
  void ConfigWritten(uint8_t reg) override;

 private:
  Relocate relocate_;
};

}  // namespace strobe::vmm
