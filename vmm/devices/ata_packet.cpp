// SPDX-License-Identifier: MIT
// AtaChannel's packet device (declared in ata_disk.h): the ATA commands an ATAPI CD/DVD-ROM drive takes and
// the PACKET protocol (ATA/ATAPI-7 volume 2, 11.8 PACKET PIO data-in and 11.9 PACKET DMA), as QEMU's
// ide-cd behaves on the bus and libata's ATAPI code drives it:
// - PACKET (A0h): Features bit 0 asks for DMA (bit 1, overlap, aborts). The drive sets DRQ at once with
//   the interrupt reason "command" (Sector Count CoD=1, IO=0) and no interrupt (IDENTIFY PACKET DEVICE
//   word 0 says DRQ within 50 us, so the host polls); the host writes the 12 command bytes.
// - PIO data: each DRQ block raises INTRQ with IO=1, CoD=0 and its size in LBA mid/high; a block is at
//   most the byte count limit the host wrote there before the command (FFFFh counts as FFFEh; an odd limit
//   with more data left is rounded down to even). Reading the last byte of a block shows the next one, or
//   ends the command. A limit of 0 aborts a command that would move data (QEMU, ATA8-ACS 7.21.5).
// - DMA: the bus master moves all the data at once; then the command ends.
// - The end: INTRQ with CoD=1, IO=1 and DRDY; a CHECK CONDITION sets ERR and the sense key in the upper
//   half of the Error register, and REQUEST SENSE gives the rest.
// The disc is read through the drive's BlockQueue (BSY meanwhile), one DRQ block or one DMA transfer at a
// time.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "vmm/devices/ata_disk.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

using namespace ata;
using block::BlockRequest;
using Kind = AtapiOutcome::Kind;

namespace {
enum PacketDeviceCommand : uint8_t {
  kDeviceReset = 0x08,
  kReadSectors = 0x20,
  kExecuteDiagnostic = 0x90,
  kPacket = 0xA0,
  kIdentifyPacket = 0xA1,
  kFlushCache = 0xE7,
  kIdentify = 0xEC,
  kSetFeatures = 0xEF,
};
// The interrupt reason (Sector Count of a packet device): CoD (command packet or status), IO (to the host).
constexpr uint8_t kCoD = 0x01, kIo = 0x02, kReasonMask = 0x07;
constexpr uint8_t kPacketSize = 12;
}  // namespace

std::vector<uint8_t> BuildPacketIdentify(const AtaIdentity& id) {
  std::vector<uint8_t> b(512, 0);
  // ATAPI, CD-ROM device type (05h), removable, DRQ within 50 us of PACKET, 12-byte packets.
  Put16(b, 0, 0x85C0);
  PutString(b, 10, 10, id.serial);
  PutString(b, 23, 4, id.firmware);
  PutString(b, 27, 20, id.model);
  Put16(b, 49, (1u << 11) | (1u << 9) | (1u << 8));  // IORDY, LBA, DMA
  Put16(b, 53, 0x0006);                              // words 64-70 and 88 are valid
  Put16(b, 63, static_cast<uint16_t>(0x0007 | (id.mwdma_mode >= 0 ? 0x100u << id.mwdma_mode : 0)));
  Put16(b, 64, 0x0003);  // PIO modes 3 and 4
  for (unsigned w = 65; w <= 68; ++w) Put16(b, w, 120);
  // ATA/ATAPI-1 to -4, as QEMU's drive: below ATAPI-7, word 62 holds no DMADIR requirement.
  Put16(b, 80, 0x001E);
  Put16(b, 82, (1u << 9) | (1u << 4));  // supported: DEVICE RESET, PACKET
  Put16(b, 83, 0x4000);
  Put16(b, 84, 0x4000);
  Put16(b, 85, (1u << 9) | (1u << 4));
  Put16(b, 87, 0x4000);
  Put16(b, 88, static_cast<uint16_t>(0x003F | (id.udma_mode >= 0 ? 0x100u << id.udma_mode : 0)));
  Put16(b, 93, id.master ? 0x600B : 0x6300);  // as the disk: passed, jumpered, 80-conductor cable
  PutIntegrity(b);
  return b;
}

void AtaChannel::SetPacketSignature(Drive& d) {
  d.tf.nsect = 1;
  d.tf.lbal = 1;
  d.tf.lbam = 0x14;
  d.tf.lbah = 0xEB;
}

// The ATA command set of a packet device (ATA/ATAPI-7 volume 1, 6.3: the PACKET feature set): the commands
// QEMU's ide-cd takes. IDENTIFY DEVICE and READ SECTORS abort with the packet signature in the task file,
// which is how a host that took it for a disk learns otherwise.
void AtaChannel::ExecutePacketDevice(Drive& d, uint8_t command) {
  switch (command) {
    case kPacket: return StartPacket(d);
    case kIdentifyPacket:
      d.buffer = std::make_shared<std::vector<uint8_t>>(BuildPacketIdentify(d.identity));
      d.pos = 0;
      d.remaining = 0;
      d.phase = Phase::kPioIn;
      d.status = kDrdy | kDsc | kDrq;
      return RaiseIrq();
    case kDeviceReset: return DeviceReset(d);
    case kIdentify:
    case kReadSectors: SetPacketSignature(d); return Abort(d);
    case kSetFeatures: return SetFeatures(d);
    case kFlushCache: return Complete(d);  // nothing is ever written
    case kExecuteDiagnostic:
      for (Drive& each : drives_) ResetDrive(each);
      return RaiseIrq();
    default: return Abort(d);
  }
}

// DEVICE RESET (ATA/ATAPI-7 6.10): the command in progress is dropped (also one in BSY or DRQ); the
// signature is set, Status is 0 and there is no interrupt.
void AtaChannel::DeviceReset(Drive& d) {
  ++d.generation;  // a read of the disc still in flight completes into nothing
  EndTransfer(d);
  d.atapi.Reset(false);
  SetPacketSignature(d);
  d.error = 0x01;
  d.status = 0;
}

void AtaChannel::StartPacket(Drive& d) {
  if (d.tf.feature & 0x02) return Abort(d);  // overlapped commands: not supported
  d.packet_dma = d.tf.feature & 0x01;
  d.tf.nsect = kCoD;
  d.buffer = std::make_shared<std::vector<uint8_t>>(kPacketSize);
  d.pos = 0;
  d.phase = Phase::kPacket;
  d.status = kDrdy | kDsc | kDrq;
}

bool AtaChannel::HostOpenTray(unsigned unit, bool force) {
  Drive& d = drives_[unit];
  const bool was_open = d.atapi.tray_open();
  if (!d.atapi.HostOpenTray(force)) return false;
  if (!was_open) ++d.disc_epoch;
  ReportTray(unit, was_open);
  return true;
}

void AtaChannel::HostChangeDisc(unsigned unit, block::BlockBackend* backend, block::BlockQueue* queue) {
  Drive& d = drives_[unit];
  d.config.backend = backend;
  d.config.queue = backend ? queue : nullptr;
  d.sectors = backend && queue ? backend->size() / block::kSectorSize : 0;
  d.identity.sectors = d.sectors;
  d.atapi.HostChangeDisc(backend && queue ? backend->size() : 0);
}

void AtaChannel::HostCloseTray(unsigned unit) {
  Drive& d = drives_[unit];
  const bool was_open = d.atapi.tray_open();
  d.atapi.HostCloseTray();
  ReportTray(unit, was_open);
}

void AtaChannel::ReportTray(unsigned unit, bool was_open) {
  const bool open = drives_[unit].atapi.tray_open();
  if (open != was_open && on_tray_moved_) on_tray_moved_(unit, open);
}

bool AtaChannel::DiscGoneFrom(Drive& d) {
  if (!d.packet_from_disc || d.packet_epoch == d.disc_epoch) return false;
  d.atapi.DiscGone();
  PacketFailed(d);
  return true;
}

void AtaChannel::RunPacket(Drive& d) {
  uint8_t cdb[kPacketSize];
  std::memcpy(cdb, d.buffer->data(), kPacketSize);
  d.buffer.reset();
  uint32_t limit = static_cast<uint32_t>(d.tf.lbah) << 8 | d.tf.lbam;
  const bool was_open = d.atapi.tray_open();
  AtapiOutcome o = d.atapi.Execute(cdb, d.packet_dma || limit != 0);
  ReportTray(static_cast<unsigned>(&d - drives_), was_open);
  switch (o.kind) {
    case Kind::kGood: return PacketDone(d);
    case Kind::kCheckCondition: return PacketFailed(d);
    case Kind::kAbort: return Abort(d);
    case Kind::kData:
      if (o.data.empty()) return PacketDone(d);
      d.packet_from_disc = false;
      d.packet_offset = 0;
      d.packet_left = o.data.size();
      d.packet_reply = std::move(o.data);
      break;
    case Kind::kRead:
      d.packet_from_disc = true;
      d.packet_epoch = d.disc_epoch;
      d.packet_offset = uint64_t{o.lba} * scsi::kCdBlock;
      d.packet_left = uint64_t{o.blocks} * scsi::kCdBlock;
      break;
  }
  d.packet_limit = limit == 0xFFFF ? 0xFFFE : limit;
  if (!d.packet_dma) return NextPacketBlock(d);
  // A transfer larger than any PRD table can describe (8192 entries of 64 KiB) stops the bus master.
  d.dma_bytes = static_cast<uint32_t>(std::min<uint64_t>(d.packet_left, 0xFFFFFFFFu));
  d.dma_to_memory = true;
  d.phase = Phase::kDmaWait;
  d.status = kBsy | kDrdy | kDsc;
  dma_request_();
}

void AtaChannel::NextPacketBlock(Drive& d) {
  if (d.packet_left == 0) return PacketDone(d);
  if (DiscGoneFrom(d)) return;
  // The whole rest if it fits under the limit; otherwise the limit made even (at least 2 bytes).
  const uint32_t n = d.packet_left <= d.packet_limit ? static_cast<uint32_t>(d.packet_left)
                                                     : std::max<uint32_t>(d.packet_limit & ~1u, 2);
  if (!d.packet_from_disc) {
    const auto from = d.packet_reply.begin() + static_cast<std::ptrdiff_t>(d.packet_offset);
    return ShowPacketBlock(d, std::make_shared<std::vector<uint8_t>>(from, from + n));
  }
  d.phase = Phase::kBusy;
  d.status = kBsy | kDrdy | kDsc;
  auto block = std::make_shared<std::vector<uint8_t>>(n);
  BlockRequest r;
  r.op = BlockRequest::Op::kRead;
  r.offset = d.packet_offset;
  r.segments.push_back({block->data(), block->size()});
  r.done = Guarded(d, [this, block](Drive& d, int err) {
    if (err) {
      d.atapi.ReadFailed();
      return PacketFailed(d);
    }
    ShowPacketBlock(d, block);
  });
  d.config.queue->Submit(std::move(r));
}

void AtaChannel::ShowPacketBlock(Drive& d, std::shared_ptr<std::vector<uint8_t>> block) {
  const auto n = static_cast<uint32_t>(block->size());
  d.buffer = std::move(block);
  d.pos = 0;
  d.packet_offset += n;
  d.packet_left -= n;
  d.tf.lbam = static_cast<uint8_t>(n);
  d.tf.lbah = static_cast<uint8_t>(n >> 8);
  d.tf.nsect = static_cast<uint8_t>((d.tf.nsect & ~kReasonMask) | kIo);
  d.phase = Phase::kPacketIn;
  d.status = kDrdy | kDsc | kDrq;
  RaiseIrq();
}

void AtaChannel::PacketDone(Drive& d) {
  EndTransfer(d);
  d.error = 0;
  d.status = kDrdy | kDsc;
  d.tf.nsect = static_cast<uint8_t>((d.tf.nsect & ~kReasonMask) | kIo | kCoD);
  RaiseIrq();
}

void AtaChannel::PacketFailed(Drive& d) {
  EndTransfer(d);
  d.error = static_cast<uint8_t>(d.atapi.sense_key() << 4);
  d.status = kDrdy | kErr;
  d.tf.nsect = static_cast<uint8_t>((d.tf.nsect & ~kReasonMask) | kIo | kCoD);
  RaiseIrq();
}

void AtaChannel::TransferPacketDma(Drive& d, std::shared_ptr<std::vector<uint8_t>> buffer,
                                   std::function<void(int)> finished) {
  d.phase = Phase::kDmaRun;
  if (!d.packet_from_disc) {  // a reply: in memory already
    buffer->assign(d.packet_reply.begin(), d.packet_reply.end());
    finished(0);
    return PacketDone(d);
  }
  if (d.packet_epoch != d.disc_epoch) {
    finished(EIO);
    DiscGoneFrom(d);
    return;
  }
  buffer->resize(d.dma_bytes);
  BlockRequest r;
  r.op = BlockRequest::Op::kRead;
  r.offset = d.packet_offset;
  r.segments.push_back({buffer->data(), buffer->size()});
  r.done = Guarded(d, [this, buffer, finished = std::move(finished)](Drive& d, int err) {
    finished(err);
    if (err) {
      d.atapi.ReadFailed();
      return PacketFailed(d);
    }
    PacketDone(d);
  });
  d.config.queue->Submit(std::move(r));
}

void AtaChannel::PacketState(Drive& d, StateIo& io) {
  d.atapi.State(io);
  io.Field(d.packet_dma);
  io.Field(d.packet_limit);
  io.Field(d.packet_from_disc);
  io.Field(d.packet_offset);
  io.Field(d.packet_left);
  io.Bytes(d.packet_reply, kMaxBlockBytes);
  // Whether the host opened the tray since the command began reading (the epochs are this process's).
  bool disc_gone = d.packet_epoch != d.disc_epoch;
  io.Field(disc_gone);
  if (io.loading()) d.packet_epoch = d.disc_epoch - (disc_gone ? 1 : 0);
  if (!io.loading()) return;
  const uint64_t end =
      d.packet_from_disc ? uint64_t{d.atapi.blocks()} * scsi::kCdBlock : d.packet_reply.size();
  io.Check(d.packet_limit <= 0xFFFE && d.packet_offset <= end && d.packet_left <= end - d.packet_offset,
           "CD-ROM transfer state out of range");
}

}  // namespace strobe::vmm
