// SPDX-License-Identifier: MIT
// The power-management registers of the PIIX4 (Intel 82371AB datasheet, "Power management registers"):
// PMSTS and PMCNTRL at the PM I/O base (0x1000 as Linux's Malta code programs it). Writing PMCNTRL with
// SUS_EN set and SUS_TYP 0 (soft off) powers the board off. The PCI function that relocates the block
// comes with the full board.
#pragma once

#include <cstdint>

#include "vmm/device.h"
#include "vmm/devices/power.h"

namespace strobe::vmm {

class StateIo;

class Piix4Pm final : public Device {
 public:
  static constexpr uint32_t kDefaultPort = 0x1000;
  static constexpr uint32_t kPorts = 0x40;
  explicit Piix4Pm(PowerControl& power) : power_(power) {}

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;
  // The power button (the monitor's system_powerdown): PWRBTN_STS (PMSTS bit 8) is set, as QEMU's PIIX4
  // does. The SCI is not wired on Strobe's Malta, and Linux's Malta kernel has no ACPI to look at it, so
  // the guest sees nothing, as under QEMU.
  void PressPowerButton() { pmsts_ |= kPwrbtnSts; }
  static constexpr uint16_t kPwrbtnSts = 1u << 8;

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  PowerControl& power_;
  uint16_t pmsts_ = 0x0001;
  uint16_t pmen_ = 0;
  uint16_t pmcntrl_ = 0;
};

}  // namespace strobe::vmm
