// SPDX-License-Identifier: MIT
#include "vmm/devices/i8254.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

uint64_t I8254::Period(const Channel& ch) const {
  uint32_t count = ch.reload ? ch.reload : 0x10000;
  return static_cast<uint64_t>(count * (clock_.hz() / kHz));
}

uint16_t I8254::CurrentCount(const Channel& ch) const {
  uint32_t count = ch.reload ? ch.reload : 0x10000;
  uint64_t ticks = static_cast<uint64_t>((clock_.cycles() - ch.start) * (kHz / clock_.hz()));
  if (ch.mode == 0) return static_cast<uint16_t>(ticks >= count ? 0 : count - ticks);
  return static_cast<uint16_t>(count - ticks % count);
}

void I8254::Start(int index) {
  Channel& ch = ch_[index];
  ch.start = clock_.cycles();
  if (index != 0) return;
  armed_ = true;
  next_fire_ = ch.start + Period(ch);
}

void I8254::Tick() {
  if (!armed_ || clock_.cycles() < next_fire_) return;
  irq0_();
  const Channel& ch = ch_[0];
  if (ch.mode == 2 || ch.mode == 3) {
    // One interrupt per elapsed period boundary is enough: a late guest sees the next one on time.
    uint64_t period = Period(ch);
    uint64_t behind = (clock_.cycles() - next_fire_) / period + 1;
    next_fire_ += behind * period;
  } else {
    armed_ = false;  // mode 0 (and the one-shot modes): terminal count fires once
  }
}

uint32_t I8254::Read(uint32_t offset, unsigned) {
  if (offset > 2) return 0xFF;
  Channel& ch = ch_[offset];
  uint16_t v = ch.latched ? ch.latch : CurrentCount(ch);
  uint8_t byte;
  switch (ch.access) {
    case 1:
      byte = v & 0xFF;
      ch.latched = false;
      break;
    case 2:
      byte = v >> 8;
      ch.latched = false;
      break;
    default:
      byte = ch.latch_low_next ? (v & 0xFF) : (v >> 8);
      if (!ch.latch_low_next) ch.latched = false;
      ch.latch_low_next = !ch.latch_low_next;
      break;
  }
  return byte;
}

void I8254::Write(uint32_t offset, unsigned, uint32_t value) {
  uint8_t v = static_cast<uint8_t>(value);
  if (offset == 3) {
    int sel = v >> 6;
    if (sel == 3) return;  // read-back command: not used by Linux
    Channel& ch = ch_[sel];
    uint8_t access = (v >> 4) & 3;
    if (access == 0) {  // counter latch
      ch.latch = CurrentCount(ch);
      ch.latched = true;
      ch.latch_low_next = true;
      return;
    }
    ch.access = access;
    ch.mode = (v >> 1) & 7;
    if (ch.mode > 5) ch.mode -= 4;  // modes 6 and 7 alias 2 and 3
    ch.low_byte_next = true;
    if (sel == 0) armed_ = false;  // a control word stops the count until it is reloaded
    return;
  }
  if (offset > 2) return;
  Channel& ch = ch_[offset];
  switch (ch.access) {
    case 1:
      ch.reload = (ch.reload & 0xFF00) | v;
      Start(static_cast<int>(offset));
      break;
    case 2:
      ch.reload = static_cast<uint16_t>((ch.reload & 0x00FF) | (v << 8));
      Start(static_cast<int>(offset));
      break;
    default:
      if (ch.low_byte_next) {
        ch.reload = (ch.reload & 0xFF00) | v;
      } else {
        ch.reload = static_cast<uint16_t>((ch.reload & 0x00FF) | (v << 8));
        Start(static_cast<int>(offset));
      }
      ch.low_byte_next = !ch.low_byte_next;
      break;
  }
}

void I8254::State(StateIo& io) {
  for (Channel& ch : ch_) {
    io.Field(ch.mode);
    io.Field(ch.access);
    io.Field(ch.reload);
    io.Field(ch.low_byte_next);
    io.Field(ch.latched);
    io.Field(ch.latch);
    io.Field(ch.latch_low_next);
    io.Field(ch.start);
    io.Check(ch.mode <= 5 && ch.access <= 3, "8254 mode out of range");
  }
  io.Field(armed_);
  io.Field(next_fire_);
}

}  // namespace strobe::vmm
