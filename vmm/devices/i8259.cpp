// SPDX-License-Identifier: MIT
#include "vmm/devices/i8259.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr unsigned kCascadeLine = 2;
}

int I8259Chip::HighestPending() const {
  uint8_t pending = irr_ & ~imr_;
  for (int i = 0; i < 8; ++i) {
    if (isr_ & (1u << i)) return -1;  // fixed priority: a request must outrank what is in service
    if (pending & (1u << i)) return i;
  }
  return -1;
}

void I8259Chip::SetLine(unsigned irq, bool level) {
  uint8_t bit = static_cast<uint8_t>(1u << irq);
  if (level && !(lines_ & bit)) irr_ |= bit;  // edge triggered
  if (level) {
    lines_ |= bit;
  } else {
    lines_ &= ~bit;
  }
}

int I8259Chip::Acknowledge() {
  int line = HighestPending();
  if (line < 0) return -1;
  irr_ &= ~(1u << line);
  if (!auto_eoi_) isr_ |= 1u << line;
  return line;
}

void I8259Chip::Eoi(int line) {
  if (line < 0) {  // non-specific: the highest priority in service
    for (int i = 0; i < 8; ++i)
      if (isr_ & (1u << i)) {
        isr_ &= ~(1u << i);
        return;
      }
    return;
  }
  isr_ &= ~(1u << line);
}

void I8259Chip::Write(bool data_port, uint8_t v) {
  if (!data_port) {
    if (v & 0x10) {  // ICW1: start initialization
      init_step_ = 1;
      icw4_needed_ = v & 0x01;
      single_ = v & 0x02;
      imr_ = 0;
      isr_ = irr_ = 0;
      read_isr_ = false;
      auto_eoi_ = false;
      return;
    }
    if (v & 0x08) {  // OCW3
      if (v & 0x02) read_isr_ = v & 0x01;
      return;
    }
    // OCW2: EOI commands (rotation is not modelled; Linux does not use it)
    switch (v >> 5) {
      case 1: Eoi(-1); break;     // non-specific EOI
      case 3: Eoi(v & 7); break;  // specific EOI
      default: break;
    }
    return;
  }
  switch (init_step_) {
    case 1:
      icw2_ = v;
      init_step_ = single_ ? (icw4_needed_ ? 3 : 0) : 2;
      return;
    case 2:  // ICW3: cascade wiring, fixed on this board
      init_step_ = icw4_needed_ ? 3 : 0;
      return;
    case 3:
      auto_eoi_ = v & 0x02;
      init_step_ = 0;
      return;
    default: imr_ = v; return;  // OCW1
  }
}

uint8_t I8259Chip::Read(bool data_port) const {
  if (data_port) return imr_;
  return read_isr_ ? isr_ : irr_;
}

void I8259Pair::UpdateCascade() {
  master_.SetLine(kCascadeLine, slave_.Output());
}

void I8259Pair::SetIrq(unsigned irq, bool level) {
  if (irq < 8) {
    master_.SetLine(irq, level);
  } else {
    slave_.SetLine(irq - 8, level);
    UpdateCascade();
  }
}

uint8_t I8259Pair::Acknowledge() {
  int line = master_.Acknowledge();
  uint8_t vector;
  if (line < 0) {
    vector = master_.vector_base() | 7;  // spurious IRQ 7
  } else if (line == static_cast<int>(kCascadeLine)) {
    int s = slave_.Acknowledge();
    vector = slave_.vector_base() | static_cast<uint8_t>(s < 0 ? 7 : s);  // spurious: IRQ 15
  } else {
    vector = master_.vector_base() | static_cast<uint8_t>(line);
  }
  UpdateCascade();
  return vector;
}

uint32_t I8259Pair::Read(uint32_t offset, unsigned) {
  I8259Chip& chip = offset & 0x80 ? slave_ : master_;
  return chip.Read(offset & 1);
}

void I8259Pair::Write(uint32_t offset, unsigned, uint32_t value) {
  I8259Chip& chip = offset & 0x80 ? slave_ : master_;
  chip.Write(offset & 1, static_cast<uint8_t>(value));
  UpdateCascade();
}

void I8259Chip::State(StateIo& io) {
  io.Field(irr_);
  io.Field(isr_);
  io.Field(imr_);
  io.Field(lines_);
  io.Field(icw2_);
  io.Field(init_step_);
  io.Check(init_step_ >= 0 && init_step_ <= 3, "8259 initialisation step out of range");
  io.Field(icw4_needed_);
  io.Field(single_);
  io.Field(read_isr_);
  io.Field(auto_eoi_);
}

void I8259Pair::State(StateIo& io) {
  master_.State(io);
  slave_.State(io);
}

}  // namespace strobe::vmm
