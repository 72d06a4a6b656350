// SPDX-License-Identifier: MIT
#include "vmm/devices/atapi_cdrom.h"

#include <algorithm>
#include <cstring>

#include "vmm/state_io.h"

namespace strobe::vmm {

using namespace scsi;
using Kind = AtapiOutcome::Kind;

namespace {

enum Opcode : uint8_t {
  kTestUnitReady = 0x00,
  kRequestSense = 0x03,
  kInquiry = 0x12,
  kStartStopUnit = 0x1B,
  kPreventAllowMediumRemoval = 0x1E,
  kReadCapacity = 0x25,
  kRead10 = 0x28,
  kSeek10 = 0x2B,
  kReadTocPmaAtip = 0x43,
  kGetConfiguration = 0x46,
  kGetEventStatusNotification = 0x4A,
  kReadDiscInformation = 0x51,
  kModeSense10 = 0x5A,
  kRead12 = 0xA8,
  kSetCdSpeed = 0xBB,
  kMechanismStatus = 0xBD,
  kReadCd = 0xBE,
};

// What the drive checks before a command runs (MMC-5 4.1.8: which commands need a medium; ATA8-ACS 7.21.5:
// which transfer data, so that a byte count limit of 0 under PIO aborts them; SPC-3 5.9.7 and QEMU's ide-cd:
// which run while a unit attention is pending).
constexpr unsigned kKnown = 1, kNeedsMedium = 2, kTransfers = 4, kAllowsAttention = 8;

unsigned Flags(uint8_t op) {
  switch (op) {
    case kTestUnitReady:
    case kSeek10: return kKnown | kNeedsMedium;
    case kStartStopUnit:
    case kPreventAllowMediumRemoval:
    case kSetCdSpeed: return kKnown;
    case kReadCd: return kKnown | kNeedsMedium;  // transfers only when asked for data: checked there
    case kReadCapacity:
    case kRead10:
    case kRead12:
    case kReadTocPmaAtip:
    case kReadDiscInformation: return kKnown | kNeedsMedium | kTransfers;
    case kRequestSense:
    case kInquiry:
    case kGetConfiguration:
    case kGetEventStatusNotification: return kKnown | kTransfers | kAllowsAttention;
    case kModeSense10:
    case kMechanismStatus: return kKnown | kTransfers;
    default: return 0;
  }
}

uint32_t Be16(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 8 | p[1];
}
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | Be16(p + 2);
}
void PutBe16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void PutBe32(uint8_t* p, uint32_t v) {
  PutBe16(p, v >> 16);
  PutBe16(p + 2, v);
}
// SCSI strings: left-aligned ASCII, padded with spaces.
void PutText(std::vector<uint8_t>& b, size_t at, size_t width, const std::string& s) {
  for (size_t i = 0; i < width; ++i) b[at + i] = static_cast<uint8_t>(i < s.size() ? s[i] : ' ');
}
// A TOC address: an LBA, or minute/second/frame with the 2-second lead-in (150 frames) added.
void PutAddress(uint8_t* p, uint32_t lba, bool msf) {
  if (!msf) return PutBe32(p, lba);
  const uint32_t frames = lba + 150;
  p[0] = 0;
  p[1] = static_cast<uint8_t>(frames / 75 / 60);
  p[2] = static_cast<uint8_t>(frames / 75 % 60);
  p[3] = static_cast<uint8_t>(frames % 75);
}

}  // namespace

void AtapiCdrom::Reset(bool power_on) {
  sense_key_ = asc_ = ascq_ = 0;
  if (power_on) locked_ = false;
}

AtapiOutcome AtapiCdrom::Check(uint8_t key, uint8_t asc, uint8_t ascq) {
  sense_key_ = key;
  asc_ = asc;
  ascq_ = ascq;
  AtapiOutcome o;
  o.kind = Kind::kCheckCondition;
  return o;
}

AtapiOutcome AtapiCdrom::Good() {
  return AtapiOutcome{};
}

AtapiOutcome AtapiCdrom::Reply(std::vector<uint8_t> data, uint32_t allocation) {
  if (data.size() > allocation) data.resize(allocation);
  AtapiOutcome o;
  o.kind = Kind::kData;
  o.data = std::move(data);
  return o;
}

bool AtapiCdrom::HostOpenTray(bool force) {
  if (tray_open_) return true;
  if (locked_) {
    eject_request_event_ = true;
    if (!force) return false;
    locked_ = false;
  }
  tray_open_ = true;
  MovedByHost();
  return true;
}

void AtapiCdrom::HostCloseTray() {
  if (!tray_open_) return;
  tray_open_ = false;
  MovedByHost();
}

void AtapiCdrom::MovedByHost() {
  change_ = Change::kGone;
  new_media_event_ = true;
  eject_request_event_ = false;
}

AtapiOutcome AtapiCdrom::ReportChange() {
  if (change_ == Change::kGone) {
    change_ = Change::kAttention;
    return Check(kNotReady, kAscMediumNotPresent);
  }
  change_ = Change::kNone;
  return Check(kUnitAttention, kAscMediumMayHaveChanged);
}

AtapiOutcome AtapiCdrom::DiscGone() {
  if (change_ != Change::kNone && medium_ready()) return ReportChange();
  return Check(kNotReady, kAscMediumNotPresent, tray_open_ ? 0x02 : 0x00);
}

AtapiOutcome AtapiCdrom::Execute(const uint8_t* cdb, bool can_transfer) {
  const uint8_t op = cdb[0];
  const unsigned flags = Flags(op);
  if (!(flags & kAllowsAttention)) {
    // A unit attention stays until REQUEST SENSE has reported it; a disc the host changed is reported
    // before anything else the command could say.
    if (sense_key_ == kUnitAttention) return Check(sense_key_, asc_, ascq_);
    if (change_ != Change::kNone && medium_ready()) return ReportChange();
  }
  if (!(flags & kKnown)) return Check(kIllegalRequest, kAscInvalidOpcode);
  if ((flags & kNeedsMedium) && !medium_ready())
    return Check(kNotReady, kAscMediumNotPresent, tray_open_ ? 0x02 : 0x00);
  if ((flags & kTransfers) && !can_transfer) return AtapiOutcome{Kind::kAbort, {}, 0, 0};
  if (op == kReadCd && (cdb[9] & 0xF8) != 0 && !can_transfer) return AtapiOutcome{Kind::kAbort, {}, 0, 0};
  if (op == kRequestSense) return RequestSense(cdb);  // reports the sense, then clears it
  // Any other command that does not fail leaves no sense behind.
  sense_key_ = asc_ = ascq_ = 0;
  switch (op) {
    case kTestUnitReady: return TestUnitReady();
    case kInquiry: return Inquiry(cdb);
    case kStartStopUnit: return StartStopUnit(cdb);
    case kPreventAllowMediumRemoval: return PreventAllowMediumRemoval(cdb);
    case kReadCapacity: return ReadCapacity();
    case kRead10: return Read(Be32(cdb + 2), Be16(cdb + 7));
    case kRead12: return Read(Be32(cdb + 2), Be32(cdb + 6));
    case kReadCd: return ReadCd(cdb);
    case kSeek10: return Seek(cdb);
    case kReadTocPmaAtip: return ReadTocPmaAtip(cdb);
    case kGetConfiguration: return GetConfiguration(cdb);
    case kGetEventStatusNotification: return GetEventStatusNotification(cdb);
    case kReadDiscInformation: return ReadDiscInformation(cdb);
    case kModeSense10: return ModeSense10(cdb);
    case kMechanismStatus: return MechanismStatus(cdb);
    default: return Good();  // SET CD SPEED: the virtual drive has one speed
  }
}

// TEST UNIT READY (SPC-3 6.33): the medium check before dispatch did the work.
AtapiOutcome AtapiCdrom::TestUnitReady() {
  return Good();
}

// REQUEST SENSE (SPC-3 6.27): fixed-format sense data of the last CHECK CONDITION; with none pending, the
// drive's current condition (no medium: NOT READY).
AtapiOutcome AtapiCdrom::RequestSense(const uint8_t* cdb) {
  std::vector<uint8_t> b(18, 0);
  b[0] = 0x70;  // current error, fixed format
  if (sense_key_ == 0 && asc_ == 0 && !medium_ready()) {
    b[2] = kNotReady;
    b[12] = kAscMediumNotPresent;
    b[13] = tray_open_ ? 0x02 : 0x00;
  } else {
    b[2] = sense_key_;
    b[12] = asc_;
    b[13] = ascq_;
  }
  b[7] = 10;  // additional sense length
  sense_key_ = asc_ = ascq_ = 0;
  return Reply(std::move(b), cdb[4]);
}

// INQUIRY (SPC-3 6.4): a removable CD/DVD device; VPD pages 00h (the list) and 83h (device identification:
// the serial number, and the T10 vendor ID "ATA" with model and serial, as libata builds it for disks).
AtapiOutcome AtapiCdrom::Inquiry(const uint8_t* cdb) {
  const uint32_t allocation = Be16(cdb + 3);
  if (!(cdb[1] & 0x01)) {
    if (cdb[2] != 0) return Check(kIllegalRequest, kAscInvalidField);
    std::vector<uint8_t> b(36, 0);
    b[0] = 0x05;  // CD/DVD device
    b[1] = 0x80;  // removable medium
    b[2] = 0x05;  // SPC-3
    b[3] = 0x02;  // response data format 2
    b[4] = static_cast<uint8_t>(b.size() - 5);
    PutText(b, 8, 8, kVendor);
    PutText(b, 16, 16, kModel);
    PutText(b, 32, 4, kRevision);
    return Reply(std::move(b), allocation);
  }
  std::vector<uint8_t> b = {0x05, cdb[2], 0, 0};
  if (cdb[2] == 0x00) {
    b.insert(b.end(), {0x00, 0x83});
  } else if (cdb[2] == 0x83) {
    const std::vector<uint8_t> serial_head = {0x02, 0x00, 0x00, 20};  // ASCII, vendor specific
    b.insert(b.end(), serial_head.begin(), serial_head.end());
    b.resize(b.size() + 20);
    PutText(b, b.size() - 20, 20, serial_);
    const std::vector<uint8_t> t10_head = {0x02, 0x01, 0x00, 68};  // ASCII, T10 vendor identification
    b.insert(b.end(), t10_head.begin(), t10_head.end());
    b.resize(b.size() + 68);
    PutText(b, b.size() - 68, 8, "ATA");
    PutText(b, b.size() - 60, 40, kModel);
    PutText(b, b.size() - 20, 20, serial_);
  } else {
    return Check(kIllegalRequest, kAscInvalidField);
  }
  PutBe16(&b[2], static_cast<uint32_t>(b.size() - 4));
  return Reply(std::move(b), allocation);
}

// START STOP UNIT (MMC-5 6.39): LoEj with Start clear opens the tray (refused while a guest holds the lock),
// with Start set closes it; power conditions change nothing.
AtapiOutcome AtapiCdrom::StartStopUnit(const uint8_t* cdb) {
  const bool start = cdb[4] & 0x01, load_eject = cdb[4] & 0x02;
  if ((cdb[4] >> 4) != 0 || !load_eject) return Good();
  if (!start && locked_ && !tray_open_) return Check(kIllegalRequest, kAscRemovalPrevented, 0x02);
  tray_open_ = !start;
  return Good();
}

// PREVENT ALLOW MEDIUM REMOVAL (MMC-5 6.11).
AtapiOutcome AtapiCdrom::PreventAllowMediumRemoval(const uint8_t* cdb) {
  locked_ = cdb[4] & 0x01;
  return Good();
}

// READ CAPACITY (MMC-5 6.23): the last block's address and the block size.
AtapiOutcome AtapiCdrom::ReadCapacity() {
  std::vector<uint8_t> b(8, 0);
  PutBe32(&b[0], blocks_ - 1);
  PutBe32(&b[4], kCdBlock);
  return Reply(std::move(b), 8);
}

// READ(10), READ(12) (MMC-5 6.15, 6.16): `count` blocks from `lba`; none is GOOD at once.
AtapiOutcome AtapiCdrom::Read(uint32_t lba, uint32_t count) {
  if (count == 0) return Good();
  if (lba >= blocks_ || count > blocks_ - lba) return Check(kIllegalRequest, kAscLbaOutOfRange);
  AtapiOutcome o;
  o.kind = Kind::kRead;
  o.lba = lba;
  o.blocks = count;
  return o;
}

// READ CD (MMC-5 6.19): the user data of data sectors only (expected sector type any or Mode 1, the
// transfer field 10h); nothing transferred when the field is 0.
AtapiOutcome AtapiCdrom::ReadCd(const uint8_t* cdb) {
  const uint32_t lba = Be32(cdb + 2);
  const uint32_t count = static_cast<uint32_t>(cdb[6]) << 16 | Be16(cdb + 7);
  const unsigned type = (cdb[1] >> 2) & 7, fields = cdb[9] & 0xF8;
  if (count == 0) return Good();
  if (lba >= blocks_ || count > blocks_ - lba) return Check(kIllegalRequest, kAscLbaOutOfRange);
  if (fields == 0) return Good();
  if ((type != 0 && type != 2) || fields != 0x10) return Check(kIllegalRequest, kAscInvalidField);
  return Read(lba, count);
}

// SEEK(10) (MMC-5 6.37 in SBC): only checks the address.
AtapiOutcome AtapiCdrom::Seek(const uint8_t* cdb) {
  if (Be32(cdb + 2) >= blocks_) return Check(kIllegalRequest, kAscLbaOutOfRange);
  return Good();
}

// READ TOC/PMA/ATIP (MMC-5 6.26): one session with one data track (ADR 1, control 4: data, not copy
// protected) from block 0, and the lead-out after the last block. The format is in byte 2, or in the
// upper bits of byte 9 where ATAPI drives had it (SFF-8020; Linux's sr asks for the session that way).
AtapiOutcome AtapiCdrom::ReadTocPmaAtip(const uint8_t* cdb) {
  const bool msf = cdb[1] & 0x02;
  const unsigned format = (cdb[2] & 0x0F) ? (cdb[2] & 0x0F) : cdb[9] >> 6;
  const uint8_t track = cdb[6];
  const uint32_t allocation = Be16(cdb + 7);
  std::vector<uint8_t> b = {0, 0, 1, 1};  // length, first and last track (session, for format 1)
  auto descriptor = [&](uint8_t number, uint32_t lba) {
    const uint8_t head[4] = {0, 0x14, number, 0};
    b.insert(b.end(), head, head + 4);
    b.resize(b.size() + 4);
    PutAddress(&b[b.size() - 4], lba, msf);
  };
  if (format == 0) {  // the TOC from track `track` on
    if (track > 1 && track != 0xAA) return Check(kIllegalRequest, kAscInvalidField);
    if (track <= 1) descriptor(1, 0);
    descriptor(0xAA, blocks_);
  } else if (format == 1) {  // the first track of the last session
    descriptor(1, 0);
  } else {
    return Check(kIllegalRequest, kAscInvalidField);
  }
  PutBe16(&b[0], static_cast<uint32_t>(b.size() - 2));
  return Reply(std::move(b), allocation);
}

// GET CONFIGURATION (MMC-5 6.6): the Profile List feature (0000h): DVD-ROM and CD-ROM, the current one by
// the disc's size (QEMU's rule: larger than an 80-minute CD is a DVD); no other features are reported.
AtapiOutcome AtapiCdrom::GetConfiguration(const uint8_t* cdb) {
  const unsigned request = cdb[1] & 0x03;
  if (request == 3) return Check(kIllegalRequest, kAscInvalidField);
  uint16_t current = 0;  // no medium: no current profile
  if (medium_ready()) current = uint64_t{blocks_} * kCdBlock > kCdMaxBytes ? 0x0010 : 0x0008;
  std::vector<uint8_t> b(8, 0);
  PutBe16(&b[6], current);
  if (Be16(cdb + 2) == 0) {                   // the starting feature: 0 takes the profile list
    const uint8_t head[4] = {0, 0, 0x03, 8};  // feature 0, persistent and current, 2 profiles
    b.insert(b.end(), head, head + 4);
    for (uint16_t profile : {0x0010, 0x0008}) {
      const uint8_t p[4] = {0, static_cast<uint8_t>(profile), profile == current ? uint8_t{1} : uint8_t{0},
                            0};
      b.insert(b.end(), p, p + 4);
    }
  }
  PutBe32(&b[0], static_cast<uint32_t>(b.size() - 4));
  return Reply(std::move(b), Be16(cdb + 7));
}

// GET EVENT STATUS NOTIFICATION (MMC-5 6.8), polled only: the media class. Its events are the host's: new
// media after the host moved the tray, an eject request when the host asked to open a locked tray; each is
// reported once, and only while the tray is closed (as QEMU's drive). The status says open tray or present.
AtapiOutcome AtapiCdrom::GetEventStatusNotification(const uint8_t* cdb) {
  if (!(cdb[1] & 0x01)) return Check(kIllegalRequest, kAscInvalidField);
  constexpr uint8_t kMediaClass = 4;
  std::vector<uint8_t> b = {0, 2, 0x80, 1 << kMediaClass};  // no event available, media class supported
  if (cdb[4] & (1 << kMediaClass)) {
    b[2] = kMediaClass;
    const uint8_t media = (tray_open_ ? 0x01 : 0) | (medium_ready() ? 0x02 : 0);
    uint8_t event = 0;  // no change
    if (!tray_open_ && new_media_event_) {
      event = 2;
      new_media_event_ = false;
    } else if (!tray_open_ && eject_request_event_) {
      event = 1;
      eject_request_event_ = false;
    }
    b.insert(b.end(), {event, media, 0, 0});
    PutBe16(&b[0], 6);
  }
  return Reply(std::move(b), Be16(cdb + 7));
}

// READ DISC INFORMATION (MMC-5 6.22): a finalized disc with one complete session of one track.
AtapiOutcome AtapiCdrom::ReadDiscInformation(const uint8_t* cdb) {
  if ((cdb[1] & 0x07) != 0) return Check(kIllegalRequest, kAscInvalidField);
  std::vector<uint8_t> b(34, 0);
  PutBe16(&b[0], 32);
  b[2] = 0x0E;  // last session complete, disc complete
  b[3] = 1;     // first track
  b[4] = 1;     // sessions
  b[5] = 1;     // first track of the last session
  b[6] = 1;     // last track of the last session
  b[7] = 0x20;  // unrestricted use
  return Reply(std::move(b), Be16(cdb + 7));
}

// MODE SENSE(10) (SPC-3 6.10): read-write error recovery (01h), CD audio control (0Eh) and the MM
// capabilities and mechanical status page (2Ah) that Linux's sr reads at probe; 3Fh is all three. No block
// descriptors. Changeable values are all zero (nothing is); saved values are not supported.
AtapiOutcome AtapiCdrom::ModeSense10(const uint8_t* cdb) {
  const unsigned control = cdb[2] >> 6, code = cdb[2] & 0x3F;
  if (control == 3) return Check(kIllegalRequest, kAscSavingNotSupported);
  const bool changeable = control == 1;
  std::vector<uint8_t> b(8, 0);
  auto page = [&](std::vector<uint8_t> p) {
    if (changeable) std::fill(p.begin() + 2, p.end(), 0);
    b.insert(b.end(), p.begin(), p.end());
  };
  const bool all = code == 0x3F;
  if (code == 0x01 || all) page({0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0});  // 5 read retries
  if (code == 0x0E || all) {
    std::vector<uint8_t> p(16, 0);
    p[0] = 0x0E;
    p[1] = 0x0E;
    page(std::move(p));
  }
  if (code == 0x2A || all) {
    std::vector<uint8_t> p(22, 0);
    p[0] = 0x2A;
    p[1] = 0x14;
    p[2] = 0x3B;  // reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM; writes nothing (p[3])
    p[4] = 0x71;  // audio play, Mode 2 Form 1 and 2, multi-session
    p[6] = static_cast<uint8_t>(0x29 | (locked_ ? 0x02 : 0));  // tray loader, eject, lock (and its state)
    PutBe16(&p[8], 4 * 176);                                   // maximum read speed: 4x (kB/s)
    PutBe16(&p[10], 2);                                        // volume levels
    PutBe16(&p[12], 512);                                      // buffer (KiB)
    PutBe16(&p[14], 4 * 176);                                  // current read speed
    page(std::move(p));
  }
  if (b.size() == 8) return Check(kIllegalRequest, kAscInvalidField);
  PutBe16(&b[0], static_cast<uint32_t>(b.size() - 2));
  return Reply(std::move(b), Be16(cdb + 7));
}

// MECHANISM STATUS (MMC-5 6.9): idle, no changer, the door state.
AtapiOutcome AtapiCdrom::MechanismStatus(const uint8_t* cdb) {
  std::vector<uint8_t> b(8, 0);
  b[1] = tray_open_ ? 0x10 : 0x00;
  return Reply(std::move(b), Be16(cdb + 8));
}

void AtapiCdrom::State(StateIo& io) {
  uint32_t blocks = blocks_;
  io.Field(blocks);
  if (!io.Check(blocks == blocks_, "another CD-ROM disc")) return;
  io.Field(tray_open_);
  io.Field(locked_);
  io.Field(sense_key_);
  io.Field(asc_);
  io.Field(ascq_);
  io.Enum(change_, static_cast<unsigned>(Change::kAttention));
  io.Field(new_media_event_);
  io.Field(eject_request_event_);
}

}  // namespace strobe::vmm
