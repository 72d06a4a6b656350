// SPDX-License-Identifier: MIT
// Virtual time as devices see it: derived from the vCPU's cycle counter (one cycle per retired instruction,
// plus idle time), at a nominal 200 MHz. Devices may skip time forward when the guest only busy-waits for
// it (the RTC calibration loop), which costs the guest nothing it could observe and the host no time.
#pragma once

#include <cstdint>

#include "runtime/cpu_state.h"

namespace strobe::vmm {

inline constexpr double kCyclesPerSecond = 200e6;  // nominal clock: Count runs at half of it

class VirtualClock {
 public:
  explicit VirtualClock(runtime::CpuState& cpu) : cpu_(cpu) {}
  uint64_t cycles() const { return cpu_.cycles; }
  void SkipTo(uint64_t cycles) {
    if (cycles > cpu_.cycles) cpu_.cycles = cycles;
  }
  static uint64_t FromSeconds(double s) { return static_cast<uint64_t>(s * kCyclesPerSecond); }

 private:
  runtime::CpuState& cpu_;
};

}  // namespace strobe::vmm
