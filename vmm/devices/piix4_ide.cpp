// SPDX-License-Identifier: MIT
#include "vmm/devices/piix4_ide.h"

#include <algorithm>
#include <cstring>
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint8_t kCommand = 0x04, kIdetim = 0x40;
constexpr uint32_t kCommandPort[2] = {0x1F0, 0x170}, kControlPort[2] = {0x3F6, 0x376};
constexpr uint32_t kBusMasterOffset = 0x20;
// Bus-master command and status bits (SFF-8038i).
constexpr uint8_t kStart = 0x01, kToMemory = 0x08;
constexpr uint8_t kActive = 0x01, kDmaError = 0x02, kInterrupt = 0x04, kDriveCapable = 0x60;
constexpr unsigned kMaxPrdEntries = 8192;  // the table lies within one 64 KiB region
}  // namespace

Piix4Ide::Channel::Channel(Piix4Ide* ide, unsigned index)
    : ata([ide, index](bool level) { ide->IrqChanged(index, level); },
          [ide, index] { ide->StartTransfer(index); }) {}

Piix4Ide::Piix4Ide(SetIrq set_irq)
    : PciFunction(0x8086, 0x7111, 0x00, 0x010180, 0x00),
      set_irq_(std::move(set_irq)),
      channels_{{this, 0}, {this, 1}} {
  Set16(0x06, 0x0280);  // status: fast back-to-back capable, medium DEVSEL timing
  DeclareBar(4, PciSpace::kIo, 16, this, kBusMasterOffset);  // unassigned until the OS places it
  WritableRange(0x40, 0xFF);  // IDETIM, SIDETIM, UDMACTL, UDMATIM and the rest: storage, as on QEMU
}

void Piix4Ide::Reset() {
  for (Channel& c : channels_) {
    c.bm_command = 0;
    c.bm_status = 0;
    c.prd_address = 0;
    ++c.bm_generation;
    c.ata.Reset();
  }
}

void Piix4Ide::ConfigWritten(uint8_t reg) {
  if (reg == kIdetim) DecodeChanged();  // the command register and BAR4 are the base class's
}

void Piix4Ide::FixedWindows(std::vector<PciWindow>* out) {
  if (!(ReadConfig(kCommand) & 1)) return;  // I/O space disabled
  const uint32_t idetim = ReadConfig(kIdetim);
  for (unsigned ch = 0; ch < 2; ++ch) {
    if (!((idetim >> (16 * ch)) & 0x8000)) continue;  // IDE decode enable
    out->push_back({PciSpace::kIo, kCommandPort[ch], 8, this, 0x10 * ch});
    out->push_back({PciSpace::kIo, kControlPort[ch], 1, this, 0x10 * ch + 8});
  }
}

uint32_t Piix4Ide::Read(uint32_t offset, unsigned size) {
  if (offset < kBusMasterOffset) {
    AtaChannel& ata = channels_[offset >> 4].ata;
    const unsigned reg = offset & 0xF;
    return reg < 8 ? ata.ReadRegister(reg, size) : ata.ReadAltStatus();
  }
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i)
    v |= static_cast<uint32_t>(ReadBusMaster((offset + i) & 0xF)) << (8 * i);
  return v;
}

void Piix4Ide::Write(uint32_t offset, unsigned size, uint32_t value) {
  if (offset < kBusMasterOffset) {
    AtaChannel& ata = channels_[offset >> 4].ata;
    const unsigned reg = offset & 0xF;
    if (reg < 8) {
      ata.WriteRegister(reg, size, value);
    } else {
      ata.WriteDeviceControl(static_cast<uint8_t>(value));
    }
    return;
  }
  for (unsigned i = 0; i < size; ++i)
    WriteBusMaster((offset + i) & 0xF, static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t Piix4Ide::ReadBusMaster(unsigned offset) const {
  const Channel& c = channels_[offset >> 3];
  switch (offset & 7) {
    case 0: return c.bm_command;
    case 2: return c.bm_status;
    case 4:
    case 5:
    case 6:
    case 7: return static_cast<uint8_t>(c.prd_address >> (8 * ((offset & 7) - 4)));
    default: return 0;
  }
}

void Piix4Ide::WriteBusMaster(unsigned offset, uint8_t value) {
  const unsigned ch = offset >> 3;
  Channel& c = channels_[ch];
  switch (offset & 7) {
    case 0: {
      const bool was_started = c.bm_command & kStart;
      c.bm_command = value & (kStart | kToMemory);
      if ((value & kStart) && !was_started) {
        c.bm_status |= kActive;
        StartTransfer(ch);
      } else if (!(value & kStart) && was_started) {
        // Stopping the engine abandons a transfer in flight: its data never reaches memory.
        c.bm_status &= static_cast<uint8_t>(~kActive);
        ++c.bm_generation;
      }
      return;
    }
    case 2:  // drive DMA capable bits are storage; error and interrupt are cleared by writing one
      c.bm_status = static_cast<uint8_t>((value & kDriveCapable) | (c.bm_status & kActive) |
                                         (c.bm_status & ~value & (kDmaError | kInterrupt)));
      return;
    case 4:
    case 5:
    case 6:
    case 7: {
      const unsigned shift = 8 * ((offset & 7) - 4);
      c.prd_address = (c.prd_address & ~(0xFFu << shift)) | (static_cast<uint32_t>(value) << shift);
      if ((offset & 7) == 4) c.prd_address &= ~3u;  // dword aligned
      return;
    }
    default: return;
  }
}

void Piix4Ide::IrqChanged(unsigned channel, bool level) {
  if (level) channels_[channel].bm_status |= kInterrupt;  // the bus master latches the device's INTRQ
  set_irq_(kIrq[channel], level);
}

void Piix4Ide::StartTransfer(unsigned ch) {
  Channel& c = channels_[ch];
  if (!(c.bm_command & kStart) || !(c.bm_status & kActive) || !c.ata.dma_waiting()) return;
  const bool to_memory = c.ata.dma_to_memory();
  const uint32_t bytes = c.ata.dma_bytes();

  // The PRD table: 8-byte entries (buffer address, byte count with 0 meaning 64 KiB, end-of-table in bit
  // 31), walked until the transfer is covered.
  struct Segment {
    uint32_t address, length;
  };
  std::vector<Segment> segments;
  uint32_t total = 0;
  bool table_left = false;  // the table describes more than the transfer needs
  bool master_abort = false;
  uint32_t at = c.prd_address;
  for (unsigned i = 0; i < kMaxPrdEntries && total < bytes; ++i, at += 8) {
    uint32_t entry[2];
    if (!memory_ || !memory_->Read(at, entry, sizeof entry)) {
      master_abort = true;
      break;
    }
    const uint32_t address = entry[0] & ~1u;
    uint32_t length = entry[1] & 0xFFFEu;
    if (length == 0) length = 0x10000;
    const bool end = entry[1] & 0x80000000u;
    const uint32_t take = std::min(length, bytes - total);
    if (!memory_->IsRam(address, take)) {
      master_abort = true;
      break;
    }
    segments.push_back({address, take});
    total += take;
    if (take < length || (total == bytes && !end)) table_left = true;
    if (end) break;
  }
  if (master_abort) {  // a PRD or buffer address where no memory answers
    c.bm_status = static_cast<uint8_t>((c.bm_status & ~kActive) | kDmaError);
    c.ata.AbortDma();
    return;
  }
  if (total < bytes) {
    // The table ends before the transfer does: the engine stops (Active and Interrupt clear) and the
    // device keeps waiting for the rest, until the driver times out and resets the channel (SFF-8038i).
    c.bm_status &= static_cast<uint8_t>(~kActive);
    return;
  }

  auto buffer = std::make_shared<std::vector<uint8_t>>();
  if (!to_memory) {  // gather the data now, as the engine reads memory while it runs
    buffer->resize(bytes);
    size_t off = 0;
    for (const Segment& s : segments) {
      memory_->Read(s.address, buffer->data() + off, s.length);
      off += s.length;
    }
  }
  const uint64_t generation = c.bm_generation;
  const block::BlockBackend* disk = nullptr;  // a read from the medium: where its bytes start
  uint64_t disk_offset = 0;
  if (to_memory && !c.ata.DmaReadSource(&disk, &disk_offset)) disk = nullptr;
  c.ata.TransferDma(buffer, [this, ch, generation, segments = std::move(segments), buffer, to_memory,
                             table_left, disk, disk_offset](int err) {
    Channel& now = channels_[ch];
    if (now.bm_generation != generation) return;  // the driver stopped the engine meanwhile
    if (!err && to_memory) {
      size_t off = 0;
      for (const Segment& s : segments) {
        if (disk)
          memory_->WriteFromDisk(s.address, buffer->data() + off, s.length, *disk, disk_offset + off);
        else
          memory_->Write(s.address, buffer->data() + off, s.length);
        off += s.length;
      }
    }
    if (!table_left) now.bm_status &= static_cast<uint8_t>(~kActive);  // table used up: the engine idles
  });
}

void Piix4Ide::State(StateIo& io) {
  PciFunction::State(io);
  for (Channel& c : channels_) {
    io.Field(c.bm_command);
    io.Field(c.bm_status);
    io.Field(c.prd_address);
    if (io.loading()) ++c.bm_generation;  // nothing of the other timeline may complete here
    c.ata.State(io);
  }
}

}  // namespace strobe::vmm
