// SPDX-License-Identifier: MIT
#include "vmm/malta.h"

#include <algorithm>

namespace strobe::vmm {

namespace {
constexpr uint32_t kEmptySlotEnd = 0x20000000u;  // the 512 MiB the CPU reaches through kseg0/kseg1
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
      pm_function_([this](uint32_t base) { RelocatePm(base); }),
      ide_([this](unsigned irq, bool level) { pic_.SetIrq(irq, level); }, [this] { RemapIde(); }) {
  mmio_.push_back({Gt64120::kBase, Gt64120::kSize, &gt_});
  mmio_.push_back({MaltaFpga::kBase, MaltaFpga::kSize, &fpga_});
  ports_.push_back({0x20, 2, &pic_, 0x00});
  ports_.push_back({0xA0, 2, &pic_, 0x80});
  ports_.push_back({0x40, 4, &pit_});
  ports_.push_back({0x70, 2, &rtc_});
  ports_.push_back({kCom1Port, 8, &uart_});
  ports_.push_back({pm_function_.io_base(), Piix4Pm::kPorts, &pm_});
  pci_.Attach(0, 0, &gt_function_);
  pci_.Attach(kPiix4Slot, 0, &isa_function_);
  pci_.Attach(kPiix4Slot, 1, &ide_);
  pci_.Attach(kPiix4Slot, 3, &pm_function_);
}

void MaltaBoard::RemapIde() {
  ports_.erase(
      std::remove_if(ports_.begin(), ports_.end(), [this](const Window& w) { return w.device == &ide_; }),
      ports_.end());
  for (const Piix4Ide::PortRange& r : ide_.Decode()) ports_.push_back({r.port, r.count, &ide_, r.offset});
}

void MaltaBoard::RelocatePm(uint32_t io_base) {
  for (auto it = ports_.begin(); it != ports_.end(); ++it)
    if (it->device == &pm_) {
      ports_.erase(it);
      break;
    }
  if (io_base) ports_.push_back({io_base, Piix4Pm::kPorts, &pm_});
}

uint8_t MaltaBoard::IrqLines() {
  pic_.SetIrq(kCom1Irq, uart_.IrqLevel());
  return pic_.Output() ? 1 : 0;  // HW0
}

const MaltaBoard::Window* MaltaBoard::Find(const std::vector<Window>& list, uint32_t addr) const {
  for (const Window& w : list)
    if (addr - w.base < w.size) return &w;
  return nullptr;
}

bool MaltaBoard::IoRead(uint32_t paddr, unsigned size, uint32_t* value) {
  if (paddr - kIoBase < kIoSize) {
    const Window* w = Find(ports_, paddr - kIoBase);
    *value =
        w ? w->device->Read(paddr - kIoBase - w->base + w->bias, size) : AllOnes(size);  // none: all ones
    if (w && on_io_) on_io_();
    return true;
  }
  if (const Window* w = Find(mmio_, paddr)) {
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
    if (const Window* w = Find(ports_, paddr - kIoBase)) {
      w->device->Write(paddr - kIoBase - w->base + w->bias, size, value);
      if (on_io_) on_io_();
    }
    return true;
  }
  if (const Window* w = Find(mmio_, paddr)) {
    w->device->Write(paddr - w->base + w->bias, size, value);
    if (on_io_) on_io_();
    return true;
  }
  return paddr < kEmptySlotEnd;
}

}  // namespace strobe::vmm
