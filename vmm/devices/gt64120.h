// SPDX-License-Identifier: MIT
// The Galileo GT-64120 system controller of the Malta's CoreLV card (GT-64120 datasheet): its internal
// registers at physical 0x1BE00000 (where the boot firmware moves them), the CPU-to-PCI address decode
// registers Linux reads to find its I/O port base, PCI configuration cycles (address/data registers), the
// interrupt cause register Linux uses to detect aborted config cycles, and the PCI interrupt acknowledge
// register whose read is an i8259 INTA cycle. The decode windows are reported, not re-routed: the board
// keeps the firmware layout (I/O at 0x18000000).
#pragma once

#include <cstdint>
#include <functional>

#include "vmm/device.h"
#include "vmm/devices/pci.h"

namespace strobe::vmm {

class StateIo;

class Gt64120 final : public Device {
 public:
  static constexpr uint32_t kBase = 0x1BE00000u;
  static constexpr uint32_t kSize = 0x1000u;
  using Inta = std::function<uint8_t()>;
  Gt64120(PciBus& bus, Inta inta);

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  uint32_t ConfigRead();
  void ConfigWrite(uint32_t value);

  PciBus& bus_;
  Inta inta_;
  uint32_t regs_[kSize / 4] = {};
};

// Function 00.0 on bus 0: the GT-64120 as a PCI host bridge, with read-only BARs as QEMU's Malta has them.
class Gt64120PciFunction final : public PciFunction {
 public:
  Gt64120PciFunction();
  bool Snapshottable() const override { return true; }
};

}  // namespace strobe::vmm
