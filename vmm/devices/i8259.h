// SPDX-License-Identifier: MIT
// The cascaded pair of 8259A interrupt controllers inside the PIIX4 (Intel 8259A datasheet): edge-triggered
// inputs, fixed priority, specific and non-specific EOI, OCW3 register selection, and the interrupt
// acknowledge cycle that the GT-64120 performs when the CPU reads its IACK register.
#pragma once

#include <cstdint>

#include "vmm/device.h"

namespace strobe::vmm {

class StateIo;

class I8259Chip {
 public:
  void Write(bool data_port, uint8_t v);
  uint8_t Read(bool data_port) const;
  // Input line level; a rising edge latches a request.
  void SetLine(unsigned irq, bool level);
  // The INT output: an unmasked request outranks everything in service.
  bool Output() const { return HighestPending() >= 0; }
  // INTA: the highest pending request moves to in-service; returns its line or -1 (spurious).
  int Acknowledge();
  uint8_t vector_base() const { return icw2_ & 0xF8; }

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  int HighestPending() const;
  void Eoi(int line);

  uint8_t irr_ = 0, isr_ = 0, imr_ = 0xFF, lines_ = 0;
  uint8_t icw2_ = 0;
  int init_step_ = 0;  // 0: operational; 1..3: expecting ICW2..ICW4
  bool icw4_needed_ = false, single_ = false, read_isr_ = false, auto_eoi_ = false;
};

class I8259Pair final : public Device {
 public:
  // Ports 0x20/0x21 (master) and 0xA0/0xA1 (slave) are mapped as two windows onto this device:
  // offsets 0/1 are the master, 0x80/0x81 the slave.
  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  void SetIrq(unsigned irq, bool level);  // ISA IRQ 0..15
  bool Output() const { return master_.Output(); }
  // The vector an interrupt acknowledge returns (IRQ number with Linux's programming).
  uint8_t Acknowledge();

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  void UpdateCascade();
  I8259Chip master_, slave_;
};

}  // namespace strobe::vmm
