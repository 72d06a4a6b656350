// SPDX-License-Identifier: MIT
// The Malta board (MIPS Malta user's manual; what Linux needs of it is in vmm/README.md): RAM through the
// pmap, the GT-64120 system controller with PCI bus 0 (PIIX4 functions 0 and 3), the PCI I/O window at
// 0x18000000 with the PIIX4's ISA devices behind it (i8259 pair, i8254, MC146818 RTC, power management)
// and the COM1 16550, the FPGA registers, and the boot ROM's board revision word. Everything else below
// 512 MiB reads as zero like an empty slot; above that (only reachable through the TLB) nothing answers and
// the CPU sees a bus error.
//
// Interrupts: ISA IRQs go to the i8259 pair, whose INT output is the CPU's HW0 (Cause.IP2); COM1 is IRQ 4,
// the PIT IRQ 0, the IDE channels (PIIX4 function 1, always present as on QEMU's Malta) IRQ 14 and 15. PCI
// functions' INTx pins reach PIRQA-D by the Malta's wiring (slot and pin, as QEMU's board has it) and the
// PIIX4 routes those to ISA IRQs (PIRQRC; the firmware's 10, 10, 11, 11). The CPU timer (IP7) is the
// runtime's.
//
// PCI windows are mapped generically: whenever a function's decode changes, the board asks the bus for every
// window again (I/O ports behind kIoBase; memory BARs at the same CPU physical address, which is how the
// GT-64120's PCI memory windows are programmed: 0x10000000-0x17FFFFFF and 0x18200000-0x1BDFFFFF).
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "runtime/bus.h"
#include "vmm/clock.h"
#include "vmm/device.h"
#include "vmm/devices/gt64120.h"
#include "vmm/devices/i8254.h"
#include "vmm/devices/i8259.h"
#include "vmm/devices/malta_fpga.h"
#include "vmm/devices/mc146818.h"
#include "vmm/devices/pci.h"
#include "vmm/devices/piix4.h"
#include "vmm/devices/piix4_ide.h"
#include "vmm/devices/piix4_pm.h"
#include "vmm/devices/power.h"
#include "vmm/devices/uart16550.h"
#include "vmm/pmap.h"

namespace strobe::vmm {

class StateIo;

class MaltaBoard final : public runtime::Bus {
 public:
  static constexpr uint32_t kIoBase = 0x18000000u;  // ISA/PCI I/O port N is at kIoBase + N
  static constexpr uint32_t kIoSize = 0x00200000u;
  static constexpr uint32_t kBootRomBase = 0x1FC00000u;
  static constexpr uint32_t kBootRomSize = 0x00100000u;
  static constexpr uint32_t kRevisionOffset = 0x10;
  static constexpr uint32_t kRevision = 0x00000420u;  // Malta with a CoreLV card: GT-64120 controller
  static constexpr uint32_t kCom1Port = 0x3F8;

  // rtc_start: what the RTC shows at virtual time 0, in seconds since the epoch.
  MaltaBoard(Pmap& pmap, PowerControl& power, VirtualClock& clock, Uart16550::Sink console,
             std::time_t rtc_start = std::time(nullptr));

  // RAM is indexed by physical address; physical 256-512 MiB is the I/O window, never RAM (with more than
  // 256 MiB the RAM offsets there are not reachable; beyond 512 MiB they are, as in QEMU).
  runtime::RamPage LookupRam(uint32_t paddr) override {
    return InIoHole(paddr) ? runtime::RamPage{} : pmap_.Lookup(paddr);
  }
  uint8_t* RamPageForWrite(uint32_t paddr) override {
    return InIoHole(paddr) ? nullptr : pmap_.PageForWrite(paddr);
  }
  static bool InIoHole(uint32_t paddr) { return paddr - kLowRamEnd < kIoHoleSize; }
  static constexpr uint32_t kLowRamEnd = 0x10000000u;
  static constexpr uint32_t kIoHoleSize = 0x10000000u;
  bool IoRead(uint32_t paddr, unsigned size, uint32_t* value) override;
  bool IoWrite(uint32_t paddr, unsigned size, uint32_t value) override;

  Uart16550& uart() { return uart_; }
  Piix4Pm& pm() { return pm_; }
  MaltaFpga& fpga() { return fpga_; }
  I8259Pair& pic() { return pic_; }
  Mc146818& rtc() { return rtc_; }
  Piix4Ide& ide() { return ide_; }
  PciBus& pci() { return pci_; }

  // Add-on PCI devices (virtio, NICs): QEMU's Malta places devices without an address at the first free
  // slot from 18 (0x12) up, in the order they are created; slot 11 is the on-board NIC's. Before the guest
  // runs; the function must outlive the board.
  static constexpr unsigned kFirstFreeSlot = 18, kLastSlot = 31;
  void AttachPci(unsigned slot, PciFunction* f, unsigned function = 0) { pci_.Attach(slot, function, f); }
  // The slot the next device without an address gets, or -1 when the bus is full.
  int FreePciSlot() const;
  // Malta's wiring of a slot's INTx pin (1-4) to PIRQA-D (0-3).
  static unsigned PciSlotToPirq(unsigned slot, unsigned pin);

  // Levels of the CPU's hardware interrupt inputs HW0..HW5, after bringing device lines up to date.
  uint8_t IrqLines();
  // The Status.IM bits of the inputs the board's devices drive (the i8259's INT on HW0, Cause.IP2): a WAIT
  // with none of them enabled is not ended by a device event.
  static constexpr uint32_t kDeviceInterruptMask = 1u << 10;
  // Let timed devices act on the current virtual time; the cycle of the next device event.
  void Tick() { pit_.Tick(); }
  uint64_t NextEventCycles() const { return pit_.NextEventCycles(); }
  // Snapshots: every device of the board and every PCI function, add-on ones included (a load maps the
  // PCI windows again); the first PCI function without snapshot support, or "".
  void State(StateIo& io);
  std::string Unsnapshottable() const { return pci_.Unsnapshottable(); }
  std::vector<std::string> PciNames() const { return pci_.Names(); }
  // Called after every device access, so the CPU re-evaluates its interrupt lines promptly.
  void set_on_io(std::function<void()> f) { on_io_ = std::move(f); }

 private:
  struct Window {
    uint32_t base, size;
    Device* device;
    uint32_t bias = 0;  // added to the offset (one device behind several port ranges)
  };
  static const Window* Find(const std::vector<Window>& list, uint32_t addr);
  // The board's fixed ranges first, then what PCI functions decode.
  const Window* FindPort(uint32_t port) const {
    const Window* w = Find(ports_, port);
    return w ? w : Find(pci_ports_, port);
  }
  const Window* FindMmio(uint32_t paddr) const {
    const Window* w = Find(mmio_, paddr);
    return w ? w : Find(pci_mmio_, paddr);
  }
  void RemapPci();  // some PCI function's decode changed
  static bool InPciMemory(uint32_t paddr);

  Pmap& pmap_;
  Uart16550 uart_;
  MaltaFpga fpga_;
  Piix4Pm pm_;
  I8259Pair pic_;
  I8254 pit_;
  Mc146818 rtc_;
  PciBus pci_;
  Gt64120 gt_;
  Gt64120PciFunction gt_function_;
  Piix4Isa isa_function_;
  Piix4PmFunction pm_function_;
  Piix4Ide ide_;
  std::function<void()> on_io_;
  std::vector<Window> mmio_;      // physical address windows
  std::vector<Window> ports_;     // I/O port ranges behind kIoBase
  std::vector<Window> pci_mmio_;  // what the PCI functions decode now (RemapPci)
  std::vector<Window> pci_ports_;
};

}  // namespace strobe::vmm
