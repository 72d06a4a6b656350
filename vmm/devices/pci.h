// SPDX-License-Identifier: MIT
// PCI configuration space (PCI Local Bus Specification 3.0, chapter 6): 256-byte spaces with per-byte write
// masks, and bus 0 with functions by device/function number. Absent functions read all ones.
//
// Two things a function owns and the board only wires up generically:
//   - Base address registers (6.2.5.1): a function declares a BAR (I/O, 32- or 64-bit memory, a power-of-two
//     size, the Device that answers); sizing writes work through the write mask, and Windows() reports
//     what decodes now: BARs whose space is enabled in the command register (bit 0 I/O, bit 1 memory) and
//     that have a base, plus any fixed ranges the function decodes outside its BARs (FixedWindows: the
//     IDE's legacy ports, the PIIX4's power-management block). Whenever a function's command register, a
//     BAR, or a register behind a fixed range changes, the bus tells the board once (set_on_decode_change),
//     and the board maps every window again.
//   - The INTx pin (6.2.4, interrupt pin register 0x3D): the device sets its level with SetIntx; the
//     command register's interrupt disable bit (10) masks it and status bit 3 shows it. The bus ORs the
//     levels of all functions wired to the same PIRQ line (set_irq_routing: slot and pin to PIRQ, a board
//     fact) and passes each PIRQ's level on; on the Malta the PIIX4 routes PIRQs to ISA IRQs.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vmm/device.h"

namespace strobe::vmm {

class StateIo;

enum class PciSpace { kIo, kMemory };

// An address range a function decodes now: I/O ports, or bus (= CPU physical on the Malta) addresses.
struct PciWindow {
  PciSpace space;
  uint32_t base, size;
  Device* device;
  uint32_t offset = 0;  // the device offset of `base` (one device behind several ranges)
};

class PciBus;

// A function as the monitor's `info pci` shows it (QEMU's query-pci): its identity from the configuration
// space, and each BAR with where it decodes now.
struct PciFunctionInfo {
  unsigned device = 0, function = 0;
  uint16_t vendor = 0, device_id = 0;
  uint16_t class_code = 0;     // base class and subclass (configuration bytes 0x0B, 0x0A)
  bool has_subsystem = false;  // a type 0 header (bridges have none)
  uint16_t subsystem_vendor = 0, subsystem = 0;
  uint8_t irq_line = 0, irq_pin = 0;  // 0x3C and 0x3D; pin 0: no INTx
  struct Bar {
    unsigned index = 0;
    bool io = false;
    bool wide = false;  // 64-bit memory
    bool prefetchable = false;
    uint32_t size = 0;
    bool mapped = false;  // decoding now (enabled in the command register, assigned)
    uint64_t address = 0;
  };
  std::vector<Bar> bars;
  std::string id;  // -device ...,id= ("" none): QEMU's qdev id
};

class PciFunction {
 public:
  PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code, uint8_t header_type);
  virtual ~PciFunction() = default;

  uint32_t ReadConfig(uint8_t reg) const;  // dword-aligned
  // Byte-enable mask (bit n = byte n of the dword) as the host bridge presents the write.
  void WriteConfig(uint8_t reg, uint32_t value, uint8_t byte_enables = 0xF);

  // What decodes now (see the file comment).
  std::vector<PciWindow> Windows();
  // INTx: the pin (1 = INTA .. 4 = INTD, 0 none) and whether the function asserts it now (after the
  // command register's interrupt disable).
  uint8_t interrupt_pin() const { return space_[0x3D]; }
  bool intx_asserted() const { return intx_ && !(Get16(0x04) & kInterruptDisable); }

  // Snapshots (vmm/snapshot): a function opts in by overriding Snapshottable, so that one added later
  // without thinking about its state makes savevm refuse (naming it) rather than save it half. State
  // covers the configuration space and the INTx level; an override adds the device's own state after
  // calling PciFunction::State. The board maps the windows again after a load.
  virtual bool Snapshottable() const { return false; }
  virtual void State(StateIo& io);
  uint16_t vendor_id() const { return Get16(0x00); }
  uint16_t device_id() const { return Get16(0x02); }
  // The device's QEMU type name and -device id (QEMU's messages name a slot's occupant by them).
  void set_qdev(std::string type, std::string id = "") {
    qdev_type_ = std::move(type);
    qdev_id_ = std::move(id);
  }
  const std::string& qdev_type() const { return qdev_type_; }
  const std::string& qdev_id() const { return qdev_id_; }

 protected:
  static constexpr uint16_t kInterruptDisable = 1u << 10;

  // BAR `index` (0-5): I/O ports or 32-bit non-prefetchable memory, `size` a power of two (at least 4 for
  // I/O, 16 for memory). I/O BARs decode 16 address bits, as the PIIX4's do. The BAR reads 0 (unassigned)
  // until the OS places it. Accesses reach `device` at offset (address - base) + `offset`.
  void DeclareBar(unsigned index, PciSpace space, uint32_t size, Device* device, uint32_t offset = 0);
  // A 64-bit prefetchable memory BAR in `index` and `index + 1` (the upper half); it decodes only while the
  // upper half is 0, where a 32-bit CPU can reach it.
  void DeclareMemory64Bar(unsigned index, uint32_t size, Device* device, uint32_t offset = 0);
  // The BAR's base, or 0 when unassigned or out of the CPU's reach.
  uint32_t BarBase(unsigned index) const;
  // Ranges decoded outside the BARs (legacy ports, chipset blocks); called by Windows().
  virtual void FixedWindows(std::vector<PciWindow>* out) {}
  // The function's own registers moved a fixed range: the board maps the windows again.
  void DecodeChanged();
  // The INTx level as the device drives it.
  void SetIntx(bool level);
  void SetInterruptPin(uint8_t pin) { space_[0x3D] = pin; }

  void Set8(uint8_t off, uint8_t v) { space_[off] = v; }
  void Set16(uint8_t off, uint16_t v) { std::memcpy(&space_[off], &v, 2); }
  void Set32(uint8_t off, uint32_t v) { std::memcpy(&space_[off], &v, 4); }
  uint8_t Get8(uint8_t off) const { return space_[off]; }
  uint16_t Get16(uint8_t off) const {
    uint16_t v;
    std::memcpy(&v, &space_[off], 2);
    return v;
  }
  void Writable(uint8_t off, uint8_t mask) { wmask_[off] = mask; }
  void WritableRange(uint8_t from, uint8_t to) {
    for (unsigned i = from; i <= to; ++i) wmask_[i] = 0xFF;
  }
  // Called after a write landed in [reg, reg+4).
  virtual void ConfigWritten(uint8_t reg) {}

 private:
  friend class PciBus;
  struct Bar {
    PciSpace space = PciSpace::kIo;
    uint32_t size = 0;  // 0: no BAR here
    Device* device = nullptr;
    uint32_t offset = 0;
    bool wide = false;  // 64-bit: the next BAR is the upper half
  };
  void IntxChanged();

  uint8_t space_[256] = {};
  uint8_t wmask_[256] = {};
  Bar bars_[6];
  std::string qdev_type_, qdev_id_;
  bool intx_ = false;
  PciBus* bus_ = nullptr;
  unsigned devfn_ = 0;
};

class PciBus {
 public:
  // slot (device number) and pin (1-4) to a PIRQ line 0-3 (PIRQA-D), and what a PIRQ's level goes to.
  using MapIrq = std::function<unsigned(unsigned slot, unsigned pin)>;
  using SetPirq = std::function<void(unsigned pirq, bool level)>;

  void Attach(unsigned device, unsigned function, PciFunction* f);
  // Configuration address as in the GT-64120's PCI_0 Configuration Address register.
  PciFunction* Find(unsigned bus, unsigned device, unsigned function) const {
    if (bus != 0) return nullptr;
    auto it = functions_.find((device << 3) | function);
    return it == functions_.end() ? nullptr : it->second;
  }
  bool SlotUsed(unsigned device) const;
  // A function QEMU has and Strobe leaves empty (QEMU's Cirrus VGA, which Strobe, with no display, lacks):
  // the slot is taken, so the devices after it get QEMU's slots.
  void Reserve(unsigned device, unsigned function, std::string qdev_type);
  // Why a single-function device of QEMU type `type` cannot go at device.function, in QEMU's words, or ""
  // when it can.
  std::string PlaceError(unsigned device, unsigned function, const std::string& type) const;

  // Every attached function's windows, in device/function order.
  std::vector<PciWindow> Windows();
  // Called whenever some function's decode changed (and once per Attach).
  void set_on_decode_change(std::function<void()> f) { on_decode_change_ = std::move(f); }
  void set_irq_routing(MapIrq map, SetPirq set) {
    map_irq_ = std::move(map);
    set_pirq_ = std::move(set);
  }
  // Snapshots: every function's state, in device/function order (the windows are mapped again after a
  // load); the name of the first function without snapshot support, or "".
  void State(StateIo& io);
  std::string Unsnapshottable() const;
  std::vector<std::string> Names() const;     // PciName of every function, in order
  std::vector<PciFunctionInfo> Info() const;  // every function, in device/function order
  static std::string PciName(unsigned devfn, const PciFunction& f);
  // The wired-OR level of a PIRQ line: whether any function routed to it asserts INTx.
  bool PirqLevel(unsigned pirq) const;

 private:
  friend class PciFunction;
  void DecodeChanged() {
    if (on_decode_change_) on_decode_change_();
  }
  void IntxChanged(const PciFunction& f);

  std::map<unsigned, PciFunction*> functions_;
  std::map<unsigned, std::string> reserved_;  // devfn -> the QEMU type that is there
  std::function<void()> on_decode_change_;
  MapIrq map_irq_;
  SetPirq set_pirq_;
};

}  // namespace strobe::vmm
