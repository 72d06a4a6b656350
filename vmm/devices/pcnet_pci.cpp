// SPDX-License-Identifier: MIT
#include "vmm/devices/pcnet_pci.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

PcnetPci::PcnetPci(const std::array<uint8_t, 6>& mac, GuestMemory& memory, net::NetPort* port)
    : PciFunction(0x1022, 0x2000, 0x10, 0x020000, 0x00), chip_(mac), dma_(memory, *this) {
  Set16(0x06, 0x0280);  // status: fast back-to-back capable, medium DEVSEL timing
  Set16(0x2C, 0x0000);  // subsystem vendor and device: none, as QEMU's PCnet has them
  Set16(0x2E, 0x0000);
  Set8(0x3E, 0x06);    // MIN_GNT
  Set8(0x3F, 0xFF);    // MAX_LAT
  SetInterruptPin(1);  // INTA
  DeclareBar(0, PciSpace::kIo, Pcnet::kWindowBytes, &chip_);
  DeclareBar(1, PciSpace::kMemory, Pcnet::kWindowBytes, &chip_);
  chip_.set_memory(&dma_);
  chip_.set_irq_changed([this](bool level) { SetIntx(level); });
  if (port)
    chip_.set_transmit([port](const uint8_t* frame, size_t length) { port->Transmit(frame, length); });
}

// Without bus mastering (command bit 2) the chip cannot reach memory: a master abort, as on the bus.
bool PcnetPci::Dma::Read(uint32_t paddr, void* out, size_t length) {
  return function_.bus_master() && memory_.Read(paddr, out, length);
}

bool PcnetPci::Dma::Write(uint32_t paddr, const void* data, size_t length) {
  return function_.bus_master() && memory_.Write(paddr, data, length);
}

void PcnetPci::State(StateIo& io) {
  PciFunction::State(io);
  chip_.State(io);
}

}  // namespace strobe::vmm
