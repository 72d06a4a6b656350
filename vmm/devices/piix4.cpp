// SPDX-License-Identifier: MIT
#include "vmm/devices/piix4.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint8_t kPirqrc = 0x60;
constexpr uint8_t kRoutingDisabled = 0x80;
constexpr uint8_t kPmba = 0x40, kPmRegMisc = 0x80;
}  // namespace

Piix4Isa::Piix4Isa(SetIsaIrq set_isa_irq)
    : PciFunction(0x8086, 0x7110, 0x00, 0x060100, 0x80 /* multi-function */),
      set_isa_irq_(std::move(set_isa_irq)) {
  Set16(0x06, 0x0200);  // status: medium DEVSEL timing
  // PIRQA-D routing as the Malta firmware leaves it: IRQ 10, 10, 11, 11 (Linux reads and keeps it).
  Set8(kPirqrc + 0, 0x0A);
  Set8(kPirqrc + 1, 0x0A);
  Set8(kPirqrc + 2, 0x0B);
  Set8(kPirqrc + 3, 0x0B);
  WritableRange(0x40, 0xFF);  // the bridge's own registers (TOM, GENCFG, SERIRQC, DLC, ...) are storage here
  for (unsigned i = 0; i < 4; ++i) Writable(static_cast<uint8_t>(kPirqrc + i), 0x8F);  // bits 6-4 reserved
}

int Piix4Isa::PirqRoute(unsigned pirq) const {
  const uint8_t r = Get8(static_cast<uint8_t>(kPirqrc + pirq));
  if (r & kRoutingDisabled) return -1;
  const unsigned irq = r & 0x0F;
  // IRQ 0-2, 8 and 13 are reserved encodings (the timer, keyboard, cascade, RTC, FPU error).
  if (irq <= 2 || irq == 8 || irq == 13) return -1;
  return static_cast<int>(irq);
}

void Piix4Isa::SetPirq(unsigned pirq, bool level) {
  const uint8_t bit = static_cast<uint8_t>(1u << pirq);
  pirq_levels_ = level ? (pirq_levels_ | bit) : (pirq_levels_ & ~bit);
  Route();
}

void Piix4Isa::ConfigWritten(uint8_t reg) {
  if (reg == kPirqrc) Route();
}

void Piix4Isa::Route() {
  uint16_t want = 0;
  for (unsigned p = 0; p < 4; ++p) {
    const int irq = PirqRoute(p);
    if (irq >= 0 && (pirq_levels_ & (1u << p))) want |= static_cast<uint16_t>(1u << irq);
  }
  const uint16_t changed = want ^ driven_;
  driven_ = want;
  for (unsigned irq = 0; irq < 16; ++irq)
    if (changed & (1u << irq)) set_isa_irq_(irq, want & (1u << irq));
}

Piix4PmFunction::Piix4PmFunction(Piix4Pm* pm) : PciFunction(0x8086, 0x7113, 0x03, 0x068000, 0x00), pm_(pm) {
  Set16(0x06, 0x0280);
  SetInterruptPin(1);  // INTA (SCI; not generated here)
  // Firmware state: the PM block at I/O 0x1000, enabled (Linux programs the same values again).
  Set16(kPmba, 0x1001);  // bit 0: I/O space indicator, reads 1
  Writable(kPmba, 0xC0);
  Writable(kPmba + 1, 0xFF);
  Set8(kPmRegMisc, 0x01);
  Writable(kPmRegMisc, 0x01);
  WritableRange(0x44, 0x7F);
  WritableRange(0x90, 0xDF);
}

uint32_t Piix4PmFunction::io_base() const {
  return (Get8(kPmRegMisc) & 1) ? (Get16(kPmba) & 0xFFC0u) : 0;
}

void Piix4PmFunction::ConfigWritten(uint8_t reg) {
  if (reg == kPmba || reg == kPmRegMisc) DecodeChanged();
}

void Piix4PmFunction::FixedWindows(std::vector<PciWindow>* out) {
  // PMIOSE (PMREGMISC bit 0) enables the block, independent of the command register.
  if (const uint32_t base = io_base()) out->push_back({PciSpace::kIo, base, Piix4Pm::kPorts, pm_});
}

void Piix4Isa::State(StateIo& io) {
  PciFunction::State(io);
  io.Field(pirq_levels_);
  io.Field(driven_);
}

}  // namespace strobe::vmm
