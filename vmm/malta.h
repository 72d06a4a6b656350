// SPDX-License-Identifier: MIT
// The Malta board's physical address map (as far as the foundation needs it): RAM through the pmap, the
// PCI I/O window at 0x18000000 with the ISA devices behind it, the FPGA registers, and the boot ROM's
// board revision word. Everything else below 512 MiB reads as zero like an empty slot; above that (only
// reachable through the TLB) nothing answers and the CPU sees a bus error.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/bus.h"
#include "vmm/device.h"
#include "vmm/devices/malta_fpga.h"
#include "vmm/devices/piix4_pm.h"
#include "vmm/devices/power.h"
#include "vmm/devices/uart16550.h"
#include "vmm/pmap.h"

namespace strobe::vmm {

class MaltaBoard final : public runtime::Bus {
 public:
  static constexpr uint32_t kIoBase = 0x18000000u;  // ISA/PCI I/O port N is at kIoBase + N
  static constexpr uint32_t kIoSize = 0x00200000u;
  static constexpr uint32_t kBootRomBase = 0x1FC00000u;
  static constexpr uint32_t kBootRomSize = 0x00100000u;
  static constexpr uint32_t kRevisionOffset = 0x10;
  static constexpr uint32_t kRevision = 0x00000420u;  // Malta with a CoreLV card: GT-64120 controller
  static constexpr uint32_t kCom1Port = 0x3F8;

  MaltaBoard(Pmap& pmap, PowerControl& power, Uart16550::Sink console);

  runtime::RamPage LookupRam(uint32_t paddr) override { return pmap_.Lookup(paddr); }
  uint8_t* RamPageForWrite(uint32_t paddr) override { return pmap_.PageForWrite(paddr); }
  bool IoRead(uint32_t paddr, unsigned size, uint32_t* value) override;
  bool IoWrite(uint32_t paddr, unsigned size, uint32_t value) override;

  Uart16550& uart() { return uart_; }
  MaltaFpga& fpga() { return fpga_; }
  // Levels of the CPU's hardware interrupt inputs HW0..HW5 (the interrupt controllers come with the full
  // board; until then no device line reaches the CPU).
  uint8_t IrqLines() const { return 0; }

 private:
  struct Window {
    uint32_t base, size;
    Device* device;
  };
  const Window* Find(const std::vector<Window>& list, uint32_t addr) const;

  Pmap& pmap_;
  Uart16550 uart_;
  MaltaFpga fpga_;
  Piix4Pm pm_;
  std::vector<Window> mmio_;   // physical address windows
  std::vector<Window> ports_;  // I/O port ranges behind kIoBase
};

}  // namespace strobe::vmm
