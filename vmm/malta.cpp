// SPDX-License-Identifier: MIT
#include "vmm/malta.h"

#include <algorithm>

#include "runtime/segments.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint32_t kEmptySlotEnd = runtime::kUnmappedWindow;  // what the CPU reaches through kseg0/kseg1
uint32_t AllOnes(unsigned size) {
  return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}
}  // namespace

namespace {
constexpr unsigned kPitIrq = 0, kCom1Irq = 4;
constexpr unsigned kPiix4Slot = 10;
}  // namespace

MaltaBoard::MaltaBoard(Pmap& pmap, PowerControl& power, VirtualClock& clock, Uart16550::Sink console,
                       std::time_t rtc_start)
    : pmap_(pmap),
      uart_(std::move(console)),
      fpga_(power),
      pm_(power),
      pit_(clock,
           [this] {
             pic_.SetIrq(kPitIrq, true);  // the 8259 latches the edge; drop the line again
             pic_.SetIrq(kPitIrq, false);
           }),
      rtc_(clock, rtc_start),
      gt_(pci_, [this] { return pic_.Acknowledge(); }),
      isa_function_([this](unsigned irq, bool level) { pic_.SetIrq(irq, level); }),
      pm_function_(&pm_),
      ide_([this](unsigned irq, bool level) { pic_.SetIrq(irq, level); }) {
  mmio_.push_back({Gt64120::kBase, Gt64120::kSize, &gt_});
  mmio_.push_back({MaltaFpga::kBase, MaltaFpga::kSize, &fpga_});
  ports_.push_back({0x20, 2, &pic_, 0x00});
  ports_.push_back({0xA0, 2, &pic_, 0x80});
  ports_.push_back({0x40, 4, &pit_});
  ports_.push_back({0x70, 2, &rtc_});
  ports_.push_back({kCom1Port, 8, &uart_});
  pci_.set_on_decode_change([this] { RemapPci(); });
  pci_.set_irq_routing(PciSlotToPirq,
                       [this](unsigned pirq, bool level) { isa_function_.SetPirq(pirq, level); });
  gt_function_.set_qdev("gt64120_pci");  // QEMU's type names, which its messages use
  isa_function_.set_qdev("piix4-isa");
  ide_.set_qdev("piix4-ide");
  pm_function_.set_qdev("PIIX4_PM");
  pci_.Attach(0, 0, &gt_function_);
  pci_.Attach(kPiix4Slot, 0, &isa_function_);
  pci_.Attach(kPiix4Slot, 1, &ide_);
  pci_.Reserve(kPiix4Slot, 2, "piix4-usb-uhci");  // the PIIX4's USB function: not emulated
  pci_.Attach(kPiix4Slot, 3, &pm_function_);
}

unsigned MaltaBoard::PciSlotToPirq(unsigned slot, unsigned pin) {
  const unsigned intx = pin - 1;  // INTA = 0
  switch (slot) {
    case 10: return 3;  // PIIX4 (USB)
    case 11: return 1;  // the on-board AMD 79C973 NIC
    case 12: return 2;  // the on-board audio
    case 18:
    case 19:
    case 20:
    case 21: return (slot - 18 + intx) & 3;  // the four PCI slots, rotated
    default: return intx & 3;                // not wired by the board: the pin as it is
  }
}

int MaltaBoard::FreePciSlot() const {
  for (unsigned slot = kFirstFreeSlot; slot <= kLastSlot; ++slot)
    if (!pci_.SlotUsed(slot)) return static_cast<int>(slot);
  return -1;
}

bool MaltaBoard::InPciMemory(uint32_t paddr) {
  // The GT-64120's PCI memory windows as the firmware programs them (gt64120.cpp; Linux keeps them).
  return (paddr >= 0x10000000u && paddr < 0x18000000u) || (paddr >= 0x18200000u && paddr < 0x1BE00000u);
}

void MaltaBoard::RemapPci() {
  pci_ports_.clear();
  pci_mmio_.clear();
  for (const PciWindow& w : pci_.Windows()) {
    if (w.space == PciSpace::kIo) {
      if (w.base < kIoSize) pci_ports_.push_back({w.base, w.size, w.device, w.offset});
    } else if (InPciMemory(w.base) && InPciMemory(w.base + w.size - 1)) {
      pci_mmio_.push_back({w.base, w.size, w.device, w.offset});
    }
  }
}

uint8_t MaltaBoard::IrqLines() {
  pic_.SetIrq(kCom1Irq, uart_.IrqLevel());
  return pic_.Output() ? 1 : 0;  // HW0
}

const MaltaBoard::Window* MaltaBoard::Find(const std::vector<Window>& list, uint32_t addr) {
  for (const Window& w : list)
    if (addr - w.base < w.size) return &w;
  return nullptr;
}

bool MaltaBoard::IoRead(uint32_t paddr, unsigned size, uint32_t* value) {
  if (paddr - kIoBase < kIoSize) {
    const Window* w = FindPort(paddr - kIoBase);
    *value =
        w ? w->device->Read(paddr - kIoBase - w->base + w->bias, size) : AllOnes(size);  // none: all ones
    if (w && on_io_) on_io_();
    return true;
  }
  if (const Window* w = FindMmio(paddr)) {
    *value = w->device->Read(paddr - w->base + w->bias, size);
    if (on_io_) on_io_();
    return true;
  }
  if (paddr - kBootRomBase < kBootRomSize) {
    uint32_t word = (paddr & ~3u) == kBootRomBase + kRevisionOffset ? kRevision : 0;
    *value = (word >> (8 * (paddr & 3))) & AllOnes(size);
    return true;
  }
  if (paddr < kEmptySlotEnd) {
    *value = 0;
    return true;
  }
  return false;
}

bool MaltaBoard::IoWrite(uint32_t paddr, unsigned size, uint32_t value) {
  if (paddr - kIoBase < kIoSize) {
    if (const Window* w = FindPort(paddr - kIoBase)) {
      w->device->Write(paddr - kIoBase - w->base + w->bias, size, value);
      if (on_io_) on_io_();
    }
    return true;
  }
  if (const Window* w = FindMmio(paddr)) {
    w->device->Write(paddr - w->base + w->bias, size, value);
    if (on_io_) on_io_();
    return true;
  }
  return paddr < kEmptySlotEnd;
}

void MaltaBoard::State(StateIo& io) {
  io.Section("uart", [this](StateIo& s) { uart_.State(s); });
  io.Section("fpga", [this](StateIo& s) { fpga_.State(s); });
  io.Section("piix4-pm", [this](StateIo& s) { pm_.State(s); });
  io.Section("i8259", [this](StateIo& s) { pic_.State(s); });
  io.Section("i8254", [this](StateIo& s) { pit_.State(s); });
  io.Section("mc146818", [this](StateIo& s) { rtc_.State(s); });
  io.Section("gt64120", [this](StateIo& s) { gt_.State(s); });
  io.Section("pci", [this](StateIo& s) { pci_.State(s); });
}

}  // namespace strobe::vmm
