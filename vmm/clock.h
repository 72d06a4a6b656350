// SPDX-License-Identifier: MIT
// Virtual time as devices see it: derived from the vCPU's cycle counter (one cycle per retired instruction,
// plus idle time), at a nominal 200 MHz, or at 10^9 / 2^N cycles a second under -icount shift=N (each
// instruction is then 2^N ns of virtual time, as on QEMU). Devices may skip time forward when the guest
// only busy-waits for it (the RTC calibration loop), which costs the guest nothing it could observe and the
// host no time.
#pragma once

#include <cstdint>

#include "runtime/cpu_state.h"

namespace strobe::vmm {

inline constexpr double kCyclesPerSecond = 200e6;  // nominal clock: Count runs at half of it

class VirtualClock {
 public:
  explicit VirtualClock(runtime::CpuState& cpu, double hz = kCyclesPerSecond) : cpu_(cpu), hz_(hz) {}
  uint64_t cycles() const { return cpu_.cycles; }
  // A device that sees the guest poll idly asks for virtual time to jump ahead. The jump is made between
  // slices (ApplySkip), not during the device access: between slices every engine makes it at the same
  // instruction, and CpuState::IdleUntil keeps it out of the instructions retired.
  void SkipTo(uint64_t cycles) {
    if (cycles <= cpu_.cycles || cycles <= pending_skip_) return;
    pending_skip_ = cycles;
    cpu_.exit_request |= runtime::exitreq::kIrqCheck;  // end the slice at the next block boundary
  }
  void ApplySkip() {
    cpu_.IdleUntil(pending_skip_);
    pending_skip_ = 0;
  }
  // Cycles in a second of virtual time.
  double hz() const { return hz_; }
  uint64_t FromSeconds(double s) const { return static_cast<uint64_t>(s * hz_); }
  double Seconds(uint64_t cycles) const { return static_cast<double>(cycles) / hz_; }
  // -icount shift=N: 2^N ns of virtual time per instruction.
  static double HzForShift(unsigned shift) { return 1e9 / static_cast<double>(uint64_t{1} << shift); }

 private:
  runtime::CpuState& cpu_;
  double hz_;
  uint64_t pending_skip_ = 0;
};

}  // namespace strobe::vmm
