// SPDX-License-Identifier: MIT
#include "vmm/devices/gt64120.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
// Register offsets (GT-64120 datasheet, "Register map").
constexpr uint32_t kCpuInterface = 0x000;
constexpr uint32_t kPci0IoLow = 0x048, kPci0IoHigh = 0x050;
constexpr uint32_t kPci0Mem0Low = 0x058, kPci0Mem0High = 0x060;
constexpr uint32_t kIsd = 0x068;
constexpr uint32_t kPci0Mem1Low = 0x080, kPci0Mem1High = 0x088;
constexpr uint32_t kPci0IoRemap = 0x0F0, kPci0Mem0Remap = 0x0F8, kPci0Mem1Remap = 0x100;
constexpr uint32_t kPci0Command = 0xC00;
constexpr uint32_t kIntCause = 0xC18;
constexpr uint32_t kPci0Iack = 0xC34;
constexpr uint32_t kPci0ConfigAddress = 0xCF8, kPci0ConfigData = 0xCFC;
constexpr uint32_t kConfigEnable = 1u << 31;
}  // namespace

Gt64120::Gt64120(PciBus& bus, Inta inta) : bus_(bus), inta_(std::move(inta)) {
  // The state the boot firmware leaves (QEMU's stub programs the same): little-endian CPU interface,
  // registers at 0x1BE00000, PCI I/O at 0x18000000 (2 MiB), memory windows at 0x10000000 and 0x18200000.
  regs_[kCpuInterface / 4] = 0x00001000;
  regs_[kIsd / 4] = 0xDF;
  regs_[kPci0IoLow / 4] = 0xC0;
  regs_[kPci0IoHigh / 4] = 0x40;
  regs_[kPci0Mem0Low / 4] = 0x80;
  regs_[kPci0Mem0High / 4] = 0x3F;
  regs_[kPci0Mem1Low / 4] = 0xC1;
  regs_[kPci0Mem1High / 4] = 0x5E;
  regs_[kPci0IoRemap / 4] = 0xC0;
  regs_[kPci0Mem0Remap / 4] = 0x80;
  regs_[kPci0Mem1Remap / 4] = 0xC1;
}

uint32_t Gt64120::ConfigRead() {
  uint32_t addr = regs_[kPci0ConfigAddress / 4];
  if (!(addr & kConfigEnable)) return 0xFFFFFFFFu;
  PciFunction* f = bus_.Find((addr >> 16) & 0xFF, (addr >> 11) & 0x1F, (addr >> 8) & 7);
  return f ? f->ReadConfig(addr & 0xFC) : 0xFFFFFFFFu;  // nobody answers: all ones
}

void Gt64120::ConfigWrite(uint32_t value) {
  uint32_t addr = regs_[kPci0ConfigAddress / 4];
  if (!(addr & kConfigEnable)) return;
  if (PciFunction* f = bus_.Find((addr >> 16) & 0xFF, (addr >> 11) & 0x1F, (addr >> 8) & 7))
    f->WriteConfig(addr & 0xFC, value);
}

uint32_t Gt64120::Read(uint32_t offset, unsigned size) {
  uint32_t word;
  switch (offset & ~3u) {
    case kPci0Iack: word = inta_(); break;
    case kPci0ConfigData: word = ConfigRead(); break;
    default: word = regs_[(offset & ~3u) / 4]; break;
  }
  if (size == 4) return word;
  return (word >> (8 * (offset & 3))) & (size == 1 ? 0xFFu : 0xFFFFu);
}

void Gt64120::Write(uint32_t offset, unsigned size, uint32_t value) {
  const uint32_t reg = offset & ~3u;
  if (size != 4) {  // merge a narrow write into the register
    uint32_t shift = 8 * (offset & 3), mask = (size == 1 ? 0xFFu : 0xFFFFu) << shift;
    value = (regs_[reg / 4] & ~mask) | ((value << shift) & mask);
  }
  switch (reg) {
    case kIntCause: regs_[reg / 4] &= value; break;  // write 0 to clear a bit, 1 to leave it
    case kPci0ConfigAddress: regs_[reg / 4] = value & 0x80FFFFFCu; break;
    case kPci0ConfigData: ConfigWrite(value); break;
    case kPci0Iack: break;
    case kPci0IoLow:
      regs_[reg / 4] = value & 0x7FFF;
      regs_[kPci0IoRemap / 4] = value & 0x7FF;
      break;
    case kPci0Mem0Low:
      regs_[reg / 4] = value & 0x7FFF;
      regs_[kPci0Mem0Remap / 4] = value & 0x7FF;
      break;
    case kPci0Mem1Low:
      regs_[reg / 4] = value & 0x7FFF;
      regs_[kPci0Mem1Remap / 4] = value & 0x7FF;
      break;
    case kPci0IoHigh:
    case kPci0Mem0High:
    case kPci0Mem1High: regs_[reg / 4] = value & 0x7F; break;
    case kPci0Command: regs_[reg / 4] = value; break;  // byte-swap controls: the LE board needs none
    default: regs_[reg / 4] = value; break;
  }
}

Gt64120PciFunction::Gt64120PciFunction() : PciFunction(0x11AB, 0x4620, 0x10, 0x060000, 0x00) {
  Set16(0x06, 0x0280);
  // BARs describing the controller's own windows; read-only on this board.
  Set32(0x10, 0x00000008);
  Set32(0x14, 0x01000008);
  Set32(0x18, 0x1C000000);
  Set32(0x1C, 0x1F000000);
  Set32(0x20, 0x14000000);
  Set32(0x24, 0x14000001);
  Set8(0x3D, 1);
}

void Gt64120::State(StateIo& io) {
  io.Field(regs_);
}

}  // namespace strobe::vmm
