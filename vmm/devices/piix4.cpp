// SPDX-License-Identifier: MIT
#include "vmm/devices/piix4.h"

namespace strobe::vmm {

namespace {
constexpr uint8_t kPmba = 0x40, kPmRegMisc = 0x80;
}

Piix4Isa::Piix4Isa() : PciFunction(0x8086, 0x7110, 0x00, 0x060100, 0x80 /* multi-function */) {
  Set16(0x06, 0x0200);  // status: medium DEVSEL timing
  // PIRQA-D routing as the Malta firmware leaves it: IRQ 10, 10, 11, 11.
  Set8(0x60, 0x0A);
  Set8(0x61, 0x0A);
  Set8(0x62, 0x0B);
  Set8(0x63, 0x0B);
  WritableRange(0x40, 0xFF);  // the bridge's own registers (TOM, GENCFG, SERIRQC, DLC, ...) are storage here
}

Piix4PmFunction::Piix4PmFunction(Relocate relocate)
    : PciFunction(0x8086, 0x7113, 0x03, 0x068000, 0x00), relocate_(std::move(relocate)) {
  Set16(0x06, 0x0280);
  Set8(0x3D, 1);  // interrupt pin A
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
  if (reg == kPmba || reg == kPmRegMisc) relocate_(io_base());
}

}  // namespace strobe::vmm
