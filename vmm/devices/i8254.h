// SPDX-License-Identifier: MIT
// The 8254 programmable interval timer in the PIIX4 (ports 0x40-0x43), clocked at 1.193182 MHz of virtual
// time. Channel 0 drives ISA IRQ 0; modes 0 (one-shot), 2 (rate generator) and 3 (square wave) are
// modelled for interrupts, the counter can be latched and read. Linux uses it only until the CP0 timer
// takes over, so channels 1 and 2 are storage.
#pragma once

#include <cstdint>
#include <functional>

#include "vmm/clock.h"
#include "vmm/device.h"

namespace strobe::vmm {

class StateIo;

class I8254 final : public Device {
 public:
  static constexpr double kHz = 1193182.0;
  using IrqPulse = std::function<void()>;
  I8254(VirtualClock& clock, IrqPulse irq0) : clock_(clock), irq0_(std::move(irq0)) {}

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  // Fire channel 0's interrupt if its time has come; the cycle of its next interrupt (or UINT64_MAX).
  void Tick();
  uint64_t NextEventCycles() const { return armed_ ? next_fire_ : UINT64_MAX; }

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  struct Channel {
    uint8_t mode = 0, access = 3;
    uint16_t reload = 0;
    bool low_byte_next = true;  // for lo/hi access
    bool latched = false;
    uint16_t latch = 0;
    bool latch_low_next = true;
    uint64_t start = 0;  // cycle the count was loaded
  };
  uint16_t CurrentCount(const Channel& ch) const;
  void Start(int index);
  uint64_t Period(const Channel& ch) const;

  VirtualClock& clock_;
  IrqPulse irq0_;
  Channel ch_[3];
  bool armed_ = false;
  uint64_t next_fire_ = 0;
};

}  // namespace strobe::vmm
