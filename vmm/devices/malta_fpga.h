// SPDX-License-Identifier: MIT
// The Malta board's FPGA registers at physical 0x1F000000 (MIPS Malta user's manual, "System controller
// registers"): switches, status, jumpers, the LED bar and ASCII display, and SOFTRES, whose magic value
// 0x42 resets the board.
#pragma once

#include <cstdint>

#include "vmm/device.h"
#include "vmm/devices/power.h"

namespace strobe::vmm {

class StateIo;

class MaltaFpga final : public Device {
 public:
  static constexpr uint32_t kBase = 0x1F000000u;
  static constexpr uint32_t kSize = 0x00100000u;
  explicit MaltaFpga(PowerControl& power) : power_(power) {}

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  uint32_t ledbar() const { return ledbar_; }
  // The 8-character ASCII display, as the guest last wrote it.
  const char* display() const { return display_; }

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  PowerControl& power_;
  uint32_t ledbar_ = 0;
  uint32_t brkres_ = 0x0A;
  char display_[9] = "        ";
};

}  // namespace strobe::vmm
