// SPDX-License-Identifier: MIT
// The MC146818 real-time clock in the PIIX4 (index port 0x70, data port 0x71): time of day in BCD or binary,
// registers A-D, 114 bytes of NVRAM. The update cycle runs on virtual time: UIP is high for the last 244 us
// of every second and the seconds advance when it falls, which is what Linux's clock calibration measures.
#pragma once

#include <cstdint>
#include <ctime>

#include "vmm/clock.h"
#include "vmm/device.h"

namespace strobe::vmm {

class StateIo;

class Mc146818 final : public Device {
 public:
  Mc146818(VirtualClock& clock, std::time_t start_time);

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  // Virtual seconds since the epoch, as the clock shows now.
  std::time_t Now() const;

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  uint8_t ReadRegister(uint8_t index);
  void WriteRegister(uint8_t index, uint8_t v);
  uint8_t Encode(int v) const;
  int Decode(uint8_t v) const;
  void SkipIdlePolling(bool uip);

  VirtualClock& clock_;
  std::time_t base_;        // wall time at virtual cycle 0
  int64_t set_offset_ = 0;  // seconds added by the guest setting the clock
  uint8_t index_ = 0;
  uint8_t ram_[128] = {};
  // Busy-poll detection for register A.
  uint64_t last_poll_cycles_ = 0;
  unsigned same_polls_ = 0;
  bool last_uip_ = false;
};

}  // namespace strobe::vmm
