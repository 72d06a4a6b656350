// SPDX-License-Identifier: MIT
#include "vmm/devices/pci.h"

namespace strobe::vmm {

PciFunction::PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
                         uint8_t header_type) {
  Set16(0x00, vendor);
  Set16(0x02, device);
  Set8(0x08, revision);
  Set8(0x09, class_code & 0xFF);
  Set8(0x0A, (class_code >> 8) & 0xFF);
  Set8(0x0B, (class_code >> 16) & 0xFF);
  Set8(0x0E, header_type);
  Writable(0x04, 0x47);  // command: I/O, memory, bus master, parity, SERR (status stays read-only)
  Writable(0x05, 0x01);
  Writable(0x0C, 0xFF);  // cache line size
  Writable(0x0D, 0xFF);  // latency timer
  Writable(0x3C, 0xFF);  // interrupt line
}

uint32_t PciFunction::ReadConfig(uint8_t reg) const {
  uint32_t v;
  std::memcpy(&v, &space_[reg & 0xFC], 4);
  return v;
}

void PciFunction::WriteConfig(uint8_t reg, uint32_t value, uint8_t byte_enables) {
  reg &= 0xFC;
  for (unsigned i = 0; i < 4; ++i) {
    if (!(byte_enables & (1u << i))) continue;
    uint8_t m = wmask_[reg + i];
    space_[reg + i] = static_cast<uint8_t>((space_[reg + i] & ~m) | ((value >> (8 * i)) & m));
  }
  ConfigWritten(reg);
}

}  // namespace strobe::vmm
