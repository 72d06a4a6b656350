// SPDX-License-Identifier: MIT
#include "vmm/devices/pci.h"

#include <cassert>
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint8_t kCommand = 0x04, kStatus = 0x06, kBar0 = 0x10, kBarEnd = 0x28;
constexpr uint16_t kIoEnable = 1u << 0, kMemoryEnable = 1u << 1;
constexpr uint16_t kStatusInterrupt = 1u << 3;
}  // namespace

PciFunction::PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
                         uint8_t header_type) {
  Set16(0x00, vendor);
  Set16(0x02, device);
  Set8(0x08, revision);
  Set8(0x09, class_code & 0xFF);
  Set8(0x0A, (class_code >> 8) & 0xFF);
  Set8(0x0B, (class_code >> 16) & 0xFF);
  Set8(0x0E, header_type);
  // Subsystem vendor and device (type 0 headers): QEMU's own (1AF4:1100), which QEMU gives every function
  // that brings none, so that the guest finds the board's functions as under QEMU. A function with IDs
  // of its own sets them over these.
  if ((header_type & 0x7F) == 0) {
    Set16(0x2C, 0x1AF4);
    Set16(0x2E, 0x1100);
  }
  Writable(0x04, 0x47);  // command: I/O, memory, bus master, parity, SERR (status stays read-only)
  Writable(0x05, 0x05);  // SERR enable, interrupt disable
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
  if (reg == kCommand) IntxChanged();  // interrupt disable may have changed
  if (reg == kCommand || (reg >= kBar0 && reg < kBarEnd)) DecodeChanged();
  ConfigWritten(reg);
}

void PciFunction::DeclareBar(unsigned index, PciSpace space, uint32_t size, Device* device, uint32_t offset) {
  assert(index < 6 && size && (size & (size - 1)) == 0);
  assert(space == PciSpace::kIo ? size >= 4 && size <= 0x10000 : size >= 16);
  bars_[index] = {space, size, device, offset};
  const uint8_t reg = static_cast<uint8_t>(kBar0 + 4 * index);
  // Address bits at and above the size are writable; the type bits below read as fixed.
  const uint32_t type = space == PciSpace::kIo ? 0x1u : 0x0u;
  const uint32_t writable = ~(size - 1) & (space == PciSpace::kIo ? 0xFFFCu : 0xFFFFFFF0u);
  Set32(reg, type);
  for (unsigned i = 0; i < 4; ++i) Writable(static_cast<uint8_t>(reg + i), (writable >> (8 * i)) & 0xFF);
}

void PciFunction::DeclareMemory64Bar(unsigned index, uint32_t size, Device* device, uint32_t offset) {
  assert(index < 5);
  DeclareBar(index, PciSpace::kMemory, size, device, offset);
  bars_[index].wide = true;
  const uint8_t reg = static_cast<uint8_t>(kBar0 + 4 * index);
  Set32(reg, 0x0000000Cu);                                                             // 64-bit, prefetchable
  for (unsigned i = 0; i < 4; ++i) Writable(static_cast<uint8_t>(reg + 4 + i), 0xFF);  // the upper half
}

uint32_t PciFunction::BarBase(unsigned index) const {
  const uint32_t v = ReadConfig(static_cast<uint8_t>(kBar0 + 4 * index));
  if (bars_[index].wide && ReadConfig(static_cast<uint8_t>(kBar0 + 4 * index + 4)) != 0) return 0;
  return bars_[index].space == PciSpace::kIo ? (v & 0xFFFCu) : (v & 0xFFFFFFF0u);
}

std::vector<PciWindow> PciFunction::Windows() {
  std::vector<PciWindow> out;
  const uint16_t command = Get16(kCommand);
  for (unsigned i = 0; i < 6; ++i) {
    const Bar& b = bars_[i];
    if (!b.size) continue;
    if (!(command & (b.space == PciSpace::kIo ? kIoEnable : kMemoryEnable))) continue;
    const uint32_t base = BarBase(i);
    if (base == 0) continue;  // unassigned
    out.push_back({b.space, base, b.size, b.device, b.offset});
  }
  FixedWindows(&out);
  return out;
}

void PciFunction::DecodeChanged() {
  if (bus_) bus_->DecodeChanged();
}

void PciFunction::SetIntx(bool level) {
  if (intx_ == level) return;
  intx_ = level;
  IntxChanged();
}

void PciFunction::IntxChanged() {
  const bool asserted = intx_asserted();
  const uint16_t status = Get16(kStatus);
  Set16(kStatus, asserted ? (status | kStatusInterrupt) : (status & ~kStatusInterrupt));
  if (bus_) bus_->IntxChanged(*this);
}

void PciBus::Attach(unsigned device, unsigned function, PciFunction* f) {
  functions_[(device << 3) | function] = f;
  f->bus_ = this;
  f->devfn_ = (device << 3) | function;
  DecodeChanged();
}

bool PciBus::SlotUsed(unsigned device) const {
  auto it = functions_.lower_bound(device << 3);
  auto r = reserved_.lower_bound(device << 3);
  return (it != functions_.end() && (it->first >> 3) == device) ||
         (r != reserved_.end() && (r->first >> 3) == device);
}

void PciBus::Reserve(unsigned device, unsigned function, std::string qdev_type) {
  reserved_[(device << 3) | function] = std::move(qdev_type);
}

std::string PciBus::PlaceError(unsigned device, unsigned function, const std::string& type) const {
  const unsigned devfn = (device << 3) | function;
  char text[160];
  std::string occupant;
  if (auto f = functions_.find(devfn); f != functions_.end()) {
    occupant =
        f->second->qdev_type() + ",id=" + (f->second->qdev_id().empty() ? "(null)" : f->second->qdev_id());
  } else if (auto r = reserved_.find(devfn); r != reserved_.end()) {
    occupant = r->second + ",id=(null)";
  }
  if (!occupant.empty()) {
    std::snprintf(text, sizeof text, "PCI: slot %u function %u not available for %s, in use by %s", device,
                  function, type.c_str(), occupant.c_str());
    return text;
  }
  if (function != 0) {  // function 0 of the slot must be a multi-function device, or empty
    auto f0 = functions_.find(device << 3);
    if ((f0 != functions_.end() && !(f0->second->Get8(0x0E) & 0x80)) || reserved_.count(device << 3)) {
      std::snprintf(text, sizeof text, "PCI: single function device can't be populated in function %x.%x",
                    device, function);
      return text;
    }
    return "";
  }
  for (unsigned fn = 1; fn < 8; ++fn) {  // a single-function device at function 0 leaves the others empty
    if (functions_.count(devfn | fn) || reserved_.count(devfn | fn)) {
      std::snprintf(text, sizeof text, "PCI: %x.0 indicates single function, but %x.%x is already populated.",
                    device, device, fn);
      return text;
    }
  }
  return "";
}

std::vector<PciWindow> PciBus::Windows() {
  std::vector<PciWindow> out;
  for (const auto& [devfn, f] : functions_) {
    std::vector<PciWindow> w = f->Windows();
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

bool PciBus::PirqLevel(unsigned pirq) const {
  if (!map_irq_) return false;
  for (const auto& [devfn, f] : functions_) {
    const uint8_t pin = f->interrupt_pin();
    if (pin >= 1 && pin <= 4 && f->intx_asserted() && map_irq_(devfn >> 3, pin) == pirq) return true;
  }
  return false;
}

void PciBus::IntxChanged(const PciFunction& f) {
  const uint8_t pin = f.interrupt_pin();
  if (!map_irq_ || !set_pirq_ || pin < 1 || pin > 4) return;
  const unsigned pirq = map_irq_(f.devfn_ >> 3, pin);
  set_pirq_(pirq, PirqLevel(pirq));
}

void PciFunction::State(StateIo& io) {
  // The identity must be the function the snapshot was taken of (the header's configuration says so too).
  uint8_t space[256];
  std::memcpy(space, space_, sizeof space);
  io.Field(space);
  io.Field(intx_);
  if (!io.loading() || !io.Check(std::memcmp(space, space_, 4) == 0, "another PCI device in this slot"))
    return;
  std::memcpy(space_, space, sizeof space);
}

std::string PciBus::Unsnapshottable() const {
  for (const auto& [devfn, f] : functions_)
    if (!f->Snapshottable()) return PciName(devfn, *f);
  return "";
}

std::vector<std::string> PciBus::Names() const {
  std::vector<std::string> out;
  for (const auto& [devfn, f] : functions_) out.push_back(PciName(devfn, *f));
  return out;
}

std::vector<PciFunctionInfo> PciBus::Info() const {
  std::vector<PciFunctionInfo> out;
  for (const auto& [devfn, f] : functions_) {
    PciFunctionInfo info;
    info.device = devfn >> 3;
    info.function = devfn & 7;
    info.vendor = f->vendor_id();
    info.device_id = f->device_id();
    info.class_code = f->Get16(0x0A);
    info.has_subsystem = (f->Get8(0x0E) & 0x7F) == 0;
    if (info.has_subsystem) {
      info.subsystem_vendor = f->Get16(0x2C);
      info.subsystem = f->Get16(0x2E);
    }
    info.id = f->qdev_id();
    info.irq_line = f->Get8(0x3C);
    info.irq_pin = f->Get8(0x3D);
    const uint16_t command = f->Get16(kCommand);
    for (unsigned i = 0; i < 6; ++i) {
      const PciFunction::Bar& b = f->bars_[i];
      if (!b.size) continue;
      PciFunctionInfo::Bar bar;
      bar.index = i;
      bar.io = b.space == PciSpace::kIo;
      bar.wide = b.wide;
      const uint32_t low = f->ReadConfig(static_cast<uint8_t>(kBar0 + 4 * i));
      bar.prefetchable = !bar.io && (low & 0x8);
      bar.size = b.size;
      uint64_t address = bar.io ? (low & 0xFFFCu) : (low & 0xFFFFFFF0u);
      if (b.wide)
        address |= static_cast<uint64_t>(f->ReadConfig(static_cast<uint8_t>(kBar0 + 4 * i + 4))) << 32;
      bar.mapped = (command & (bar.io ? kIoEnable : kMemoryEnable)) && address != 0;
      bar.address = address;
      info.bars.push_back(bar);
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::string PciBus::PciName(unsigned devfn, const PciFunction& f) {
  char name[48];
  std::snprintf(name, sizeof name, "PCI 00:%02x.%u (%04x:%04x)", devfn >> 3, devfn & 7, f.vendor_id(),
                f.device_id());
  return name;
}

void PciBus::State(StateIo& io) {
  uint32_t count = static_cast<uint32_t>(functions_.size());
  io.Field(count);
  if (!io.Check(count == functions_.size(), "another set of PCI devices")) return;
  for (const auto& [devfn, f] : functions_)
    io.Section(PciName(devfn, *f), [f = f](StateIo& s) { f->State(s); });
  if (io.loading() && io.ok()) DecodeChanged();  // the board maps every window again
}

}  // namespace strobe::vmm
