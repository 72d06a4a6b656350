// SPDX-License-Identifier: MIT
// PIIX4 function 1: the IDE controller (Intel 82371AB datasheet, "IDE controller"; SFF-8038i for the bus
// master), as QEMU's Malta presents it at PCI 00:0a.1: 8086:7111, class 0x010180 (both channels in legacy
// mode, bus-master capable), command register 0 at reset, BAR4 the 16 bus-master I/O ports, and the IDE
// timing registers (IDETIM 0x40/0x42, SIDETIM 0x44, UDMACTL 0x48, UDMATIM 0x4A) as storage the driver
// programs. The legacy ports answer when I/O space is enabled (command bit 0) and the channel's IDETIM
// decode enable bit (15) is set, which Linux's Malta fixup sets at enumeration: 0x1F0-0x1F7/0x3F6 (primary,
// ISA IRQ 14) and 0x170-0x177/0x376 (secondary, IRQ 15). The bus master walks the PRD table in guest
// memory through GuestMemory (the one DMA path) and moves the data through the disk's I/O worker; the
// command ends on the vCPU thread when the worker's completion runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "vmm/device.h"
#include "vmm/devices/ata_disk.h"
#include "vmm/devices/pci.h"
#include "vmm/guest_memory.h"

namespace strobe::vmm {

class StateIo;

class Piix4Ide final : public PciFunction, public Device {
 public:
  using SetIrq = std::function<void(unsigned isa_irq, bool level)>;
  explicit Piix4Ide(SetIrq set_irq);

  // Disks (before the guest runs): index 0-3 = primary master/slave, secondary master/slave.
  void Attach(unsigned index, const AtaDriveConfig& config) {
    channels_[index / 2].ata.Attach(index % 2, config);
  }
  // Where bus-master transfers go; without it every transfer ends in a master abort.
  void set_memory(GuestMemory* memory) { memory_ = memory; }
  // A hardware reset of both channels and the bus masters (the board's reset).
  void Reset();

  static constexpr unsigned kIrq[2] = {14, 15};

  // The ranges Windows() lists, by offset: 0x00-0x07 primary command block, 0x08 primary control,
  // 0x10-0x17 and 0x18 the secondary's, 0x20-0x2F the bus-master registers (BAR4).
  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  AtaChannel& channel(unsigned i) { return channels_[i].ata; }
  uint8_t bm_status(unsigned i) const { return channels_[i].bm_status; }

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  bool Snapshottable() const override { return true; }
  void State(StateIo& io) override;

 protected:
  void ConfigWritten(uint8_t reg) override;
  void FixedWindows(std::vector<PciWindow>* out) override;  // the legacy ports

 private:
  struct Channel {
    Channel(Piix4Ide* ide, unsigned index);
    AtaChannel ata;
    uint8_t bm_command = 0, bm_status = 0;
    uint32_t prd_address = 0;
    uint64_t bm_generation = 0;  // bumped when the guest stops the engine: late completions are dropped
  };
  uint8_t ReadBusMaster(unsigned offset) const;
  void WriteBusMaster(unsigned offset, uint8_t value);
  void IrqChanged(unsigned channel, bool level);
  void StartTransfer(unsigned channel);  // the engine runs and the device waits for it

  SetIrq set_irq_;
  GuestMemory* memory_ = nullptr;
  Channel channels_[2];
};

}  // namespace strobe::vmm
