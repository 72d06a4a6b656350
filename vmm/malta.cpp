// SPDX-License-Identifier: MIT
#include "vmm/malta.h"

namespace strobe::vmm {

namespace {
constexpr uint32_t kEmptySlotEnd = 0x20000000u;  // the 512 MiB the CPU reaches through kseg0/kseg1
uint32_t AllOnes(unsigned size) { return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
}  // namespace

MaltaBoard::MaltaBoard(Pmap& pmap, PowerControl& power, Uart16550::Sink console)
    : pmap_(pmap), uart_(std::move(console)), fpga_(power), pm_(power) {
  mmio_.push_back({MaltaFpga::kBase, MaltaFpga::kSize, &fpga_});
  ports_.push_back({kCom1Port, 8, &uart_});
  ports_.push_back({Piix4Pm::kDefaultPort, Piix4Pm::kPorts, &pm_});
}

const MaltaBoard::Window* MaltaBoard::Find(const std::vector<Window>& list, uint32_t addr) const {
  for (const Window& w : list)
    if (addr - w.base < w.size) return &w;
  return nullptr;
}

bool MaltaBoard::IoRead(uint32_t paddr, unsigned size, uint32_t* value) {
  if (paddr - kIoBase < kIoSize) {
    const Window* w = Find(ports_, paddr - kIoBase);
    *value = w ? w->device->Read(paddr - kIoBase - w->base, size) : AllOnes(size);  // no device: all ones
    return true;
  }
  if (const Window* w = Find(mmio_, paddr)) {
    *value = w->device->Read(paddr - w->base, size);
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
    if (const Window* w = Find(ports_, paddr - kIoBase)) w->device->Write(paddr - kIoBase - w->base, size, value);
    return true;
  }
  if (const Window* w = Find(mmio_, paddr)) {
    w->device->Write(paddr - w->base, size, value);
    return true;
  }
  return paddr < kEmptySlotEnd;
}

}  // namespace strobe::vmm
