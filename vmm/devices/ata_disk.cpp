// SPDX-License-Identifier: MIT
#include "vmm/devices/ata_disk.h"

#include <algorithm>
#include <cstring>
#include "vmm/state_io.h"

namespace strobe::vmm {

using namespace ata;
using block::BlockRequest;
using block::kSectorSize;

void ata::PutString(std::vector<uint8_t>& b, unsigned word, unsigned words, const std::string& s) {
  for (unsigned i = 0; i < 2 * words; ++i) {
    const char c = i < s.size() ? s[i] : ' ';
    b[2 * word + (i ^ 1)] = static_cast<uint8_t>(c);
  }
}

void ata::Put16(std::vector<uint8_t>& b, unsigned word, uint16_t v) {
  b[2 * word] = static_cast<uint8_t>(v);
  b[2 * word + 1] = static_cast<uint8_t>(v >> 8);
}

void ata::PutIntegrity(std::vector<uint8_t>& b) {
  b[510] = 0xA5;
  uint8_t sum = 0;
  for (unsigned i = 0; i < 511; ++i) sum = static_cast<uint8_t>(sum + b[i]);
  b[511] = static_cast<uint8_t>(-sum);
}

namespace {

enum Command : uint8_t {
  kNop = 0x00,
  kDataSetManagement = 0x06,
  kReadSectors = 0x20,
  kReadSectorsNoRetry = 0x21,
  kReadSectorsExt = 0x24,
  kReadDmaExt = 0x25,
  kReadMultipleExt = 0x29,
  kWriteSectors = 0x30,
  kWriteSectorsNoRetry = 0x31,
  kWriteSectorsExt = 0x34,
  kWriteDmaExt = 0x35,
  kWriteMultipleExt = 0x39,
  kReadVerify = 0x40,
  kReadVerifyNoRetry = 0x41,
  kReadVerifyExt = 0x42,
  kSeek = 0x70,
  kExecuteDiagnostic = 0x90,
  kInitializeParameters = 0x91,
  kReadMultiple = 0xC4,
  kWriteMultiple = 0xC5,
  kSetMultiple = 0xC6,
  kReadDma = 0xC8,
  kReadDmaNoRetry = 0xC9,
  kWriteDma = 0xCA,
  kWriteDmaNoRetry = 0xCB,
  kCheckPowerMode = 0xE5,
  kCheckPowerModeOld = 0x98,
  kFlushCache = 0xE7,
  kFlushCacheExt = 0xEA,
  kIdentify = 0xEC,
  kSetFeatures = 0xEF,
};

bool IsPowerNoOp(uint8_t c) {
  // STANDBY IMMEDIATE, IDLE IMMEDIATE, STANDBY, IDLE, SLEEP, and their ATA-1 codes: a virtual disk has
  // no spindle; the commands complete at once and the disk stays active.
  return (c >= 0xE0 && c <= 0xE3) || c == 0xE6 || (c >= 0x94 && c <= 0x97) || c == 0x99;
}

}  // namespace

std::vector<uint8_t> BuildIdentify(const AtaIdentity& id) {
  std::vector<uint8_t> b(512, 0);
  const uint64_t lba28 = std::min<uint64_t>(id.sectors, 0x0FFFFFFF);
  const uint32_t default_cylinders = static_cast<uint32_t>(std::min<uint64_t>(id.sectors / (16 * 63), 16383));
  Put16(b, 0, 0x0040);  // fixed disk, not removable
  Put16(b, 1, static_cast<uint16_t>(default_cylinders));
  Put16(b, 3, 16);  // default heads
  Put16(b, 6, 63);  // default sectors per track
  PutString(b, 10, 10, id.serial);
  PutString(b, 23, 4, id.firmware);
  PutString(b, 27, 20, id.model);
  Put16(b, 47, 0x8000 | kMaxMultiple);               // READ/WRITE MULTIPLE: at most 16 sectors per DRQ block
  Put16(b, 49, (1u << 11) | (1u << 9) | (1u << 8));  // IORDY, LBA, DMA
  Put16(b, 50, 0x4000);
  Put16(b, 51, 0x0200);  // obsolete PIO timing
  Put16(b, 53, 0x0007);  // words 54-58, 64-70 and 88 are valid
  const uint32_t chs = static_cast<uint32_t>(id.cylinders) * id.heads * id.sectors_per_track;
  Put16(b, 54, id.cylinders);
  Put16(b, 55, id.heads);
  Put16(b, 56, id.sectors_per_track);
  Put16(b, 57, static_cast<uint16_t>(chs));
  Put16(b, 58, static_cast<uint16_t>(chs >> 16));
  Put16(b, 59, static_cast<uint16_t>(0x0100 | id.multiple));  // current multiple setting, valid
  Put16(b, 60, static_cast<uint16_t>(lba28));
  Put16(b, 61, static_cast<uint16_t>(lba28 >> 16));
  Put16(b, 63, static_cast<uint16_t>(0x0007 | (id.mwdma_mode >= 0 ? 0x100u << id.mwdma_mode : 0)));
  Put16(b, 64, 0x0003);  // PIO modes 3 and 4
  Put16(b, 65, 120);     // cycle times (ns): minimum multiword DMA, recommended, PIO, PIO with IORDY
  Put16(b, 66, 120);
  Put16(b, 67, 120);
  Put16(b, 68, 120);
  Put16(b, 69, 0x4000);  // deterministic data after TRIM (as QEMU's ide-hd)
  Put16(b, 80, 0x00F0);  // ATA/ATAPI-4 to -7
  Put16(b, 82, 0x0060);  // supported: look-ahead, write cache
  Put16(b, 83, 0x7400);  // FLUSH CACHE EXT, FLUSH CACHE, 48-bit addresses
  Put16(b, 84, 0x4000);
  Put16(b, 85, static_cast<uint16_t>((id.look_ahead ? 0x40 : 0) | (id.write_cache ? 0x20 : 0)));
  Put16(b, 86, 0x3400);  // enabled: FLUSH CACHE EXT, FLUSH CACHE, 48-bit addresses
  Put16(b, 87, 0x4000);
  Put16(b, 88, static_cast<uint16_t>(0x003F | (id.udma_mode >= 0 ? 0x100u << id.udma_mode : 0)));
  // Hardware reset result: passed diagnostics, set by jumper, 80-conductor cable detected.
  Put16(b, 93, id.master ? 0x600B : 0x6300);
  for (unsigned i = 0; i < 4; ++i) Put16(b, 100 + i, static_cast<uint16_t>(id.sectors >> (16 * i)));
  Put16(b, 169, 0x0001);  // DATA SET MANAGEMENT with TRIM
  PutIntegrity(b);
  return b;
}

AtaChannel::AtaChannel(IrqLine irq, DmaRequest dma_request)
    : irq_(std::move(irq)), dma_request_(std::move(dma_request)) {
  Reset();
}

void AtaChannel::Attach(unsigned unit, const AtaDriveConfig& config) {
  Drive& d = drives_[unit];
  // A CD-ROM drive is there with or without a disc; a disk needs its image.
  d.present = config.cdrom || (config.backend != nullptr && config.queue != nullptr);
  d.cdrom = config.cdrom;
  d.config = config;
  const bool has_data = config.backend != nullptr && config.queue != nullptr;
  d.sectors = has_data ? config.backend->size() / kSectorSize : 0;
  d.atapi.Insert(has_data ? config.backend->size() : 0, config.serial);
  Reset();
}

void AtaChannel::EndTransfer(Drive& d) {
  d.phase = Phase::kIdle;
  d.buffer.reset();
  d.packet_reply.clear();
  d.packet_from_disc = false;
  d.packet_offset = d.packet_left = 0;
}

void AtaChannel::ResetDrive(Drive& d) {
  ++d.generation;
  EndTransfer(d);
  d.tf = TaskFile{};
  d.tf.nsect = 1;  // the ATA signature: sector count 1, LBA 0x000001 (LBA mid/high 0: a disk)
  d.tf.lbal = 1;
  d.error = 0x01;  // diagnostics passed (device 0: and device 1 passed or is absent)
  d.status = d.present ? (kDrdy | kDsc) : 0;
  if (d.cdrom) {  // the packet signature; a packet device does not set DRDY after a reset (ATA/ATAPI-7 9.1)
    SetPacketSignature(d);
    d.status = 0;
    d.atapi.Reset(false);
  }
}

void AtaChannel::Reset() {
  devctl_ = 0;
  intrq_ = false;
  for (unsigned unit = 0; unit < 2; ++unit) {
    Drive& d = drives_[unit];
    ResetDrive(d);
    AtaIdentity& id = d.identity;
    id = AtaIdentity{};
    id.sectors = d.sectors;
    id.serial = d.config.serial;
    id.firmware = "1.0";
    id.model = d.cdrom ? AtapiCdrom::kModel : "STROBE HARDDISK";
    id.write_cache = d.config.write_cache;
    id.cylinders = static_cast<uint16_t>(std::min<uint64_t>(d.sectors / (16 * 63), 16383));
    id.master = unit == 0;
    if (d.cdrom) {  // power-on: ready, as QEMU's drive reads until the first reset
      d.status = kDrdy | kDsc;
      d.atapi.Reset(true);
    }
  }
  UpdateIrq();
}

void AtaChannel::UpdateIrq() {
  irq_(irq_level());
}

void AtaChannel::RaiseIrq() {
  intrq_ = true;
  UpdateIrq();
}

uint8_t AtaChannel::ReadAltStatus() const {
  const Drive& d = selected();
  return d.present ? d.status : 0;
}

void AtaChannel::WriteDeviceControl(uint8_t value) {
  const bool was_reset = devctl_ & kSrst;
  devctl_ = value;
  if ((value & kSrst) && !was_reset) {  // SRST asserted: both devices busy until it is released
    for (Drive& d : drives_) {
      ++d.generation;
      EndTransfer(d);
      if (d.present) d.status = kBsy;
    }
    intrq_ = false;
  } else if (!(value & kSrst) &&
             was_reset) {  // released: diagnostics done, signatures set, device 0 selected
    for (Drive& d : drives_) ResetDrive(d);
  }
  UpdateIrq();
}

uint32_t AtaChannel::ReadRegister(unsigned reg, unsigned size) {
  Drive& d = selected();
  if (reg == 0) return ReadData(d, size);
  if (!any_present()) return 0;
  const bool hob = devctl_ & kHob;
  const TaskFile& t = d.tf;
  switch (reg) {
    case 1: return d.present ? d.error : 0;
    case 2: return hob ? t.hob_nsect : t.nsect;
    case 3: return hob ? t.hob_lbal : t.lbal;
    case 4: return hob ? t.hob_lbam : t.lbam;
    case 5: return hob ? t.hob_lbah : t.lbah;
    case 6: return t.device;
    default:  // 7: status; reading it acknowledges the interrupt
      if (!d.present) return 0;
      intrq_ = false;
      UpdateIrq();
      return d.status;
  }
}

void AtaChannel::WriteRegister(unsigned reg, unsigned size, uint32_t value) {
  if (reg == 0) return WriteData(selected(), size, value);
  const auto v = static_cast<uint8_t>(value);
  if (reg == 7) {
    Drive& d = selected();
    // A command to an absent device goes nowhere; one written while the device is busy is ignored, except
    // DEVICE RESET to a packet device (its way out of a stuck command).
    const bool reset = d.cdrom && v == 0x08;
    if (d.present && (!(d.status & kBsy) || reset) && !(devctl_ & kSrst)) Execute(d, v);
    return;
  }
  devctl_ &= static_cast<uint8_t>(~kHob);  // a command block write clears HOB
  for (Drive& d : drives_) {  // both devices latch the write; each register keeps the previous byte too
    TaskFile& t = d.tf;
    switch (reg) {
      case 1: t.hob_feature = t.feature, t.feature = v; break;
      case 2: t.hob_nsect = t.nsect, t.nsect = v; break;
      case 3: t.hob_lbal = t.lbal, t.lbal = v; break;
      case 4: t.hob_lbam = t.lbam, t.lbam = v; break;
      case 5: t.hob_lbah = t.lbah, t.lbah = v; break;
      default: t.device = v; break;  // 6
    }
  }
}

uint32_t AtaChannel::ReadData(Drive& d, unsigned size) {
  if ((d.phase != Phase::kPioIn && d.phase != Phase::kPacketIn) || !d.buffer) return 0;
  uint32_t v = 0;
  const std::vector<uint8_t>& b = *d.buffer;
  for (unsigned i = 0; i < size && d.pos < b.size(); ++i) v |= static_cast<uint32_t>(b[d.pos++]) << (8 * i);
  if (d.pos >= b.size()) {  // the block is read: the next one, or the end of the command (no interrupt)
    d.buffer.reset();
    if (d.phase == Phase::kPacketIn) {  // a packet command's next block, or its end (with an interrupt)
      NextPacketBlock(d);
    } else if (d.remaining > 0) {
      NextPioInBlock(d);
    } else {
      d.phase = Phase::kIdle;
      d.status = kDrdy | kDsc;
    }
  }
  return v;
}

void AtaChannel::WriteData(Drive& d, unsigned size, uint32_t value) {
  if ((d.phase != Phase::kPioOut && d.phase != Phase::kPacket) || !d.buffer) return;
  std::vector<uint8_t>& b = *d.buffer;
  for (unsigned i = 0; i < size && d.pos < b.size(); ++i) b[d.pos++] = static_cast<uint8_t>(value >> (8 * i));
  if (d.pos < b.size()) return;
  d.phase == Phase::kPacket ? RunPacket(d) : WritePioBlock(d);
}

void AtaChannel::Complete(Drive& d) {
  EndTransfer(d);
  d.status = kDrdy | kDsc;
  RaiseIrq();
}

void AtaChannel::Abort(Drive& d, uint8_t error) {
  EndTransfer(d);
  d.error = error;
  d.status = kDrdy | kDsc | kErr;
  RaiseIrq();
}

std::function<void(int)> AtaChannel::Guarded(Drive& d, std::function<void(Drive&, int)> f) {
  const unsigned unit = static_cast<unsigned>(&d - drives_);
  const uint64_t generation = d.generation;
  return [this, unit, generation, f = std::move(f)](int err) {
    Drive& now = drives_[unit];
    if (now.generation == generation) f(now, err);
  };
}

bool AtaChannel::Range(Drive& d, bool lba48, uint64_t* lba, uint32_t* count) {
  const TaskFile& t = d.tf;
  if (lba48) {
    *lba = static_cast<uint64_t>(t.hob_lbah) << 40 | static_cast<uint64_t>(t.hob_lbam) << 32 |
           static_cast<uint64_t>(t.hob_lbal) << 24 | static_cast<uint64_t>(t.lbah) << 16 |
           static_cast<uint64_t>(t.lbam) << 8 | t.lbal;
    *count = static_cast<uint32_t>(t.hob_nsect) << 8 | t.nsect;
    if (*count == 0) *count = 65536;
  } else {
    *count = t.nsect ? t.nsect : 256;
    if (t.device & 0x40) {  // LBA
      *lba = static_cast<uint64_t>(t.device & 0x0F) << 24 | static_cast<uint64_t>(t.lbah) << 16 |
             static_cast<uint64_t>(t.lbam) << 8 | t.lbal;
    } else {  // CHS through the current translation (INITIALIZE DEVICE PARAMETERS)
      const AtaIdentity& g = d.identity;
      const uint32_t cylinder = static_cast<uint32_t>(t.lbah) << 8 | t.lbam;
      const uint32_t head = t.device & 0x0F, sector = t.lbal;
      if (sector == 0 || sector > g.sectors_per_track || head >= g.heads) {
        Abort(d, kIdnf);
        return false;
      }
      *lba = (static_cast<uint64_t>(cylinder) * g.heads + head) * g.sectors_per_track + sector - 1;
    }
  }
  if (*lba >= d.sectors || *count > d.sectors - *lba) {
    Abort(d, kIdnf);  // beyond the last sector
    return false;
  }
  return true;
}

void AtaChannel::Execute(Drive& d, uint8_t command) {
  d.error = 0;
  EndTransfer(d);
  intrq_ = false;  // writing the command register clears a pending interrupt
  UpdateIrq();
  if (d.cdrom) return ExecutePacketDevice(d, command);
  uint64_t lba = 0;
  uint32_t count = 0;
  const unsigned multiple = d.identity.multiple;
  switch (command) {
    case kIdentify:
      d.buffer = std::make_shared<std::vector<uint8_t>>(BuildIdentify(d.identity));
      d.pos = 0;
      d.remaining = 0;
      d.phase = Phase::kPioIn;
      d.status = kDrdy | kDsc | kDrq;
      RaiseIrq();
      return;
    case kReadSectors:
    case kReadSectorsNoRetry:
      if (Range(d, false, &lba, &count)) StartPioIn(d, lba, count, 1);
      return;
    case kReadSectorsExt:
      if (Range(d, true, &lba, &count)) StartPioIn(d, lba, count, 1);
      return;
    case kReadMultiple:
    case kReadMultipleExt:
      if (multiple == 0) return Abort(d);
      if (Range(d, command == kReadMultipleExt, &lba, &count)) StartPioIn(d, lba, count, multiple);
      return;
    case kWriteSectors:
    case kWriteSectorsNoRetry:
      if (Range(d, false, &lba, &count)) StartPioOut(d, lba, count, 1);
      return;
    case kWriteSectorsExt:
      if (Range(d, true, &lba, &count)) StartPioOut(d, lba, count, 1);
      return;
    case kWriteMultiple:
    case kWriteMultipleExt:
      if (multiple == 0) return Abort(d);
      if (Range(d, command == kWriteMultipleExt, &lba, &count)) StartPioOut(d, lba, count, multiple);
      return;
    case kReadDma:
    case kReadDmaNoRetry:
    case kReadDmaExt:
      if (Range(d, command == kReadDmaExt, &lba, &count)) StartDma(d, lba, count, true);
      return;
    case kWriteDma:
    case kWriteDmaNoRetry:
    case kWriteDmaExt:
      if (Range(d, command == kWriteDmaExt, &lba, &count)) StartDma(d, lba, count, false);
      return;
    case kDataSetManagement: {  // TRIM (Features bit 0): 512-byte blocks of range entries by DMA
      if (!(d.tf.feature & 0x01)) return Abort(d);
      const uint32_t blocks = (static_cast<uint32_t>(d.tf.hob_nsect) << 8 | d.tf.nsect);
      StartDma(d, 0, blocks ? blocks : 65536, false);
      d.dma_trim = true;
      return;
    }
    case kReadVerify:
    case kReadVerifyNoRetry:
    case kReadVerifyExt:
      if (Range(d, command == kReadVerifyExt, &lba, &count)) Complete(d);
      return;
    case kFlushCache:
    case kFlushCacheExt: return Flush(d);
    case kSetFeatures: return SetFeatures(d);
    case kInitializeParameters: {
      const unsigned heads = (d.tf.device & 0x0F) + 1u, per_track = d.tf.nsect;
      if (per_track == 0) return Abort(d);
      d.identity.heads = static_cast<uint16_t>(heads);
      d.identity.sectors_per_track = static_cast<uint16_t>(per_track);
      d.identity.cylinders =
          static_cast<uint16_t>(std::min<uint64_t>(d.sectors / (heads * per_track), 65535));
      return Complete(d);
    }
    case kSetMultiple: {
      const unsigned n = d.tf.nsect;  // 0 turns multiple mode off; otherwise a power of two up to 16
      if (n > kMaxMultiple || (n & (n - 1)) != 0) return Abort(d);
      d.identity.multiple = n;
      return Complete(d);
    }
    case kCheckPowerMode:
    case kCheckPowerModeOld:
      d.tf.nsect = 0xFF;  // active or idle
      return Complete(d);
    case kSeek: return Complete(d);
    case kExecuteDiagnostic:
      for (Drive& each : drives_) ResetDrive(each);
      return RaiseIrq();
    default:
      if ((command & 0xF0) == 0x10) return Complete(d);  // RECALIBRATE
      if (IsPowerNoOp(command)) return Complete(d);
      return Abort(d);  // NOP and everything this disk does not implement
  }
}

void AtaChannel::SetFeatures(Drive& d) {
  AtaIdentity& id = d.identity;
  const uint8_t mode = d.tf.nsect;
  switch (d.tf.feature) {
    case 0x02: id.write_cache = true; break;
    case 0x82: id.write_cache = false; break;
    case 0xAA: id.look_ahead = true; break;
    case 0x55: id.look_ahead = false; break;
    case 0x66:  // keep / revert to power-on defaults at reset: nothing to keep here
    case 0xCC: break;
    case 0x03:  // set transfer mode from the sector count
      if (mode <= 0x01) {
        id.pio_mode = -1;  // PIO default mode
      } else if ((mode & 0xF8) == 0x08 && (mode & 7) <= 4) {
        id.pio_mode = mode & 7;
      } else if ((mode & 0xF8) == 0x20 && (mode & 7) <= 2) {
        id.mwdma_mode = mode & 7;
        id.udma_mode = -1;
      } else if ((mode & 0xF8) == 0x40 && (mode & 7) <= 5) {
        id.udma_mode = mode & 7;
        id.mwdma_mode = -1;
      } else {
        return Abort(d);
      }
      break;
    default: return Abort(d);
  }
  Complete(d);
}

void AtaChannel::StartPioIn(Drive& d, uint64_t lba, uint32_t count, uint32_t block) {
  d.lba = lba;
  d.remaining = count;
  d.block = block;
  NextPioInBlock(d);
}

void AtaChannel::NextPioInBlock(Drive& d) {
  const uint32_t n = std::min(d.remaining, d.block);
  d.block_now = n;
  d.phase = Phase::kBusy;
  d.status = kBsy | kDrdy | kDsc;
  auto buffer = std::make_shared<std::vector<uint8_t>>(n * kSectorSize);
  BlockRequest r;
  r.op = BlockRequest::Op::kRead;
  r.offset = d.lba * kSectorSize;
  r.segments.push_back({buffer->data(), buffer->size()});
  r.done = Guarded(d, [this, buffer, n](Drive& d, int err) {
    if (err) return Abort(d, kUnc);
    d.buffer = buffer;
    d.pos = 0;
    d.lba += n;
    d.remaining -= n;
    d.phase = Phase::kPioIn;
    d.status = kDrdy | kDsc | kDrq;
    RaiseIrq();
  });
  d.config.queue->Submit(std::move(r));
}

void AtaChannel::StartPioOut(Drive& d, uint64_t lba, uint32_t count, uint32_t block) {
  d.lba = lba;
  d.remaining = count;
  d.block = block;
  NextPioOutBlock(d);  // the first block is requested without an interrupt
}

void AtaChannel::NextPioOutBlock(Drive& d) {
  const uint32_t n = std::min(d.remaining, d.block);
  d.block_now = n;
  d.buffer = std::make_shared<std::vector<uint8_t>>(n * kSectorSize);
  d.pos = 0;
  d.phase = Phase::kPioOut;
  d.status = kDrdy | kDsc | kDrq;
}

void AtaChannel::WritePioBlock(Drive& d) {
  const uint32_t n = d.block_now;
  d.phase = Phase::kBusy;
  d.status = kBsy | kDrdy | kDsc;
  auto data = std::move(d.buffer);
  SubmitWrite(d, d.lba * kSectorSize, data, Guarded(d, [this, n](Drive& d, int err) {
                if (err) return Abort(d, kAbrt);
                d.lba += n;
                d.remaining -= n;
                if (d.remaining == 0) return Complete(d);
                NextPioOutBlock(d);
                RaiseIrq();
              }));
}

void AtaChannel::SubmitWrite(Drive& d, uint64_t offset, std::shared_ptr<std::vector<uint8_t>> data,
                             std::function<void(int)> done) {
  BlockRequest w;
  w.op = BlockRequest::Op::kWrite;
  w.offset = offset;
  w.segments.push_back({data->data(), data->size()});
  w.done = [data, done = std::move(done)](int err) { done(err); };  // the buffer lives until then
  // Write cache off: the data reaches stable storage before the command completes.
  if (d.identity.write_cache) {
    d.config.queue->Submit(std::move(w));
  } else {
    d.config.queue->SubmitAndFlush(std::move(w));
  }
}

void AtaChannel::Flush(Drive& d) {
  d.phase = Phase::kBusy;
  d.status = kBsy | kDrdy | kDsc;
  BlockRequest f;
  f.op = BlockRequest::Op::kFlush;
  f.done = Guarded(d, [this](Drive& d, int err) { err ? Abort(d, kAbrt) : Complete(d); });
  d.config.queue->Submit(std::move(f));
}

void AtaChannel::StartDma(Drive& d, uint64_t lba, uint32_t count, bool to_memory) {
  d.lba = lba;
  d.dma_sectors = count;
  d.dma_bytes = count * static_cast<uint32_t>(kSectorSize);
  d.dma_to_memory = to_memory;
  d.dma_trim = false;
  d.phase = Phase::kDmaWait;
  d.status = kBsy | kDrdy | kDsc;
  dma_request_();
}

bool AtaChannel::dma_waiting() const {
  return selected().phase == Phase::kDmaWait;
}

bool AtaChannel::dma_to_memory() const {
  return selected().dma_to_memory;
}

uint32_t AtaChannel::dma_bytes() const {
  return selected().dma_bytes;
}

bool AtaChannel::DmaReadSource(const block::BlockBackend** disk, uint64_t* offset) const {
  const Drive& d = selected();
  if (d.phase != Phase::kDmaWait || !d.config.backend) return false;
  if (d.cdrom) {
    if (!d.packet_from_disc) return false;
    *offset = d.packet_offset;
  } else {
    if (!d.dma_to_memory) return false;
    *offset = d.lba * kSectorSize;
  }
  *disk = d.config.backend;
  return true;
}

void AtaChannel::TransferDma(std::shared_ptr<std::vector<uint8_t>> buffer,
                             std::function<void(int)> finished) {
  Drive& d = selected();
  if (d.phase != Phase::kDmaWait) return;
  if (d.cdrom) return TransferPacketDma(d, std::move(buffer), std::move(finished));
  d.phase = Phase::kDmaRun;
  const uint64_t offset = d.lba * kSectorSize;
  const size_t bytes = static_cast<size_t>(d.dma_sectors) * kSectorSize;
  if (d.dma_trim) return Trim(d, std::move(buffer), std::move(finished));
  if (!d.dma_to_memory) {
    SubmitWrite(d, offset, buffer, Guarded(d, [this, finished = std::move(finished)](Drive& d, int err) {
                  finished(err);
                  err ? Abort(d, kAbrt) : Complete(d);
                }));
    return;
  }
  buffer->resize(bytes);
  BlockRequest r;
  r.op = BlockRequest::Op::kRead;
  r.offset = offset;
  r.segments.push_back({buffer->data(), bytes});
  r.done = Guarded(d, [this, buffer, finished = std::move(finished)](Drive& d, int err) {
    finished(err);
    err ? Abort(d, kUnc) : Complete(d);
  });
  d.config.queue->Submit(std::move(r));
}

void AtaChannel::Trim(Drive& d, std::shared_ptr<std::vector<uint8_t>> entries,
                      std::function<void(int)> finished) {
  std::vector<BlockRequest> discards;
  for (size_t at = 0; at + 8 <= entries->size(); at += 8) {
    uint64_t e = 0;
    for (int i = 7; i >= 0; --i) e = e << 8 | (*entries)[at + i];
    const uint64_t lba = e & 0xFFFFFFFFFFFFull, count = e >> 48;
    if (count == 0) continue;                           // an unused entry
    if (lba >= d.sectors || count > d.sectors - lba) {  // as QEMU: the whole command fails
      finished(0);
      return Abort(d, kAbrt);
    }
    BlockRequest r;
    r.op = BlockRequest::Op::kDiscard;
    r.offset = lba * kSectorSize;
    r.length = count * kSectorSize;
    discards.push_back(std::move(r));
  }
  if (discards.empty()) {
    finished(0);
    return Complete(d);
  }
  d.config.queue->SubmitChain(std::move(discards),
                              Guarded(d, [this, finished = std::move(finished)](Drive& d, int err) {
                                finished(err);
                                err ? Abort(d, kAbrt) : Complete(d);
                              }));
}

void AtaChannel::AbortDma() {
  Drive& d = selected();
  if (d.phase == Phase::kDmaWait) Abort(d, kAbrt);
}

void AtaChannel::State(StateIo& io) {
  for (Drive& d : drives_) {
    bool present = d.present;
    uint64_t sectors = d.sectors;
    bool cdrom = d.cdrom;
    io.Field(present);
    io.Field(sectors);
    io.Field(cdrom);
    if (!io.Check(present == d.present && sectors == d.sectors && cdrom == d.cdrom, "another IDE disk"))
      return;
    if (!present) continue;
    TaskFile& t = d.tf;
    for (uint8_t* r : {&t.feature, &t.nsect, &t.lbal, &t.lbam, &t.lbah, &t.hob_feature, &t.hob_nsect,
                       &t.hob_lbal, &t.hob_lbam, &t.hob_lbah, &t.device, &d.status, &d.error})
      io.Field(*r);
    AtaIdentity& id = d.identity;
    io.Field(id.sectors);
    io.String(id.serial, 64);
    io.String(id.firmware, 64);
    io.String(id.model, 64);
    io.Field(id.multiple);
    io.Field(id.write_cache);
    io.Field(id.look_ahead);
    io.Field(id.cylinders);
    io.Field(id.heads);
    io.Field(id.sectors_per_track);
    io.Field(id.pio_mode);
    io.Field(id.mwdma_mode);
    io.Field(id.udma_mode);
    io.Field(id.master);
    // The disks were drained first: no command waits for the host (kBusy, kDmaRun) in a snapshot.
    if (!io.loading() && (d.phase == Phase::kBusy || d.phase == Phase::kDmaRun))
      return io.Fail("an IDE command is still in flight");
    io.Enum(d.phase, static_cast<unsigned>(Phase::kPacketIn));
    if (io.loading() && (d.phase == Phase::kBusy || d.phase == Phase::kDmaRun))
      return io.Fail("an IDE command is still in flight");
    bool has_buffer = d.buffer != nullptr;
    io.Field(has_buffer);
    std::vector<uint8_t> buffer = has_buffer && !io.loading() ? *d.buffer : std::vector<uint8_t>{};
    io.Bytes(buffer, kMaxBlockBytes);
    uint64_t pos = d.pos;
    io.Field(pos);
    io.Field(d.lba);
    io.Field(d.remaining);
    io.Field(d.block);
    io.Field(d.block_now);
    io.Field(d.dma_to_memory);
    io.Field(d.dma_trim);
    io.Field(d.dma_sectors);
    io.Field(d.dma_bytes);
    if (d.cdrom) PacketState(d, io);
    if (!io.loading()) continue;
    const bool packet_phase = d.phase == Phase::kPacket || d.phase == Phase::kPacketIn;
    if (!io.Check((!has_buffer || pos <= buffer.size()) && d.block <= 256 &&
                      id.multiple <= ata::kMaxMultiple && (d.cdrom || !packet_phase) &&
                      (d.phase != Phase::kPacket || buffer.size() == 12),
                  "IDE transfer state out of range"))
      return;
    d.pos = static_cast<size_t>(pos);
    d.buffer = has_buffer ? std::make_shared<std::vector<uint8_t>>(std::move(buffer)) : nullptr;
    ++d.generation;
  }
  io.Field(devctl_);
  io.Field(intrq_);
}

}  // namespace strobe::vmm
