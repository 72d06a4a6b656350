// SPDX-License-Identifier: MIT
// The command set of an ATAPI CD/DVD-ROM drive (SCSI Primary Commands and MultiMedia Commands, as a packet
// device on the ATA bus answers them), as QEMU's ide-cd presents it to a guest: a read-only disc of
// 2048-byte blocks, one data track, a tray that a guest can open and lock. This is the command processor
// only: the ATA side (vmm/devices/ata_packet.cpp) moves the 12-byte command packets in and the data out
// (PIO blocks under the byte count limit, or the bus master), and reads the disc through the drive's
// BlockQueue when a command asks for blocks of it.
//
// Commands: TEST UNIT READY, REQUEST SENSE, INQUIRY (standard data, VPD pages 00h and 83h), START STOP UNIT,
// PREVENT ALLOW MEDIUM REMOVAL, READ CAPACITY, READ(10), READ(12), READ CD (user data), SEEK(10), READ
// TOC/PMA/ATIP (formats 0 and 1, LBA and MSF), GET CONFIGURATION (the profile list), GET EVENT STATUS
// NOTIFICATION (polled, media class), READ DISC INFORMATION, MODE SENSE(10) (pages 01h, 0Eh, 2Ah, 3Fh),
// MECHANISM STATUS, SET CD SPEED. Anything else ends in CHECK CONDITION with ILLEGAL REQUEST / INVALID
// COMMAND OPERATION CODE (05/20/00), as QEMU's drive answers it.
//
// Media change from the host (the monitor's eject and change, QEMU's blockdev-open-tray, -close-tray and
// -change-medium): the host opens the tray (unless the guest locked it: then the drive posts an eject
// request, an event the guest's GET EVENT STATUS NOTIFICATION sees, and opens only when forced), takes the
// disc out or puts another in, and closes the tray. After the tray moved under the host's hand, the next
// command that is not INQUIRY, REQUEST SENSE, GET CONFIGURATION or GET EVENT STATUS NOTIFICATION ends in
// NOT READY / MEDIUM NOT PRESENT (02/3A/00), the one after it in UNIT ATTENTION / NOT READY TO READY CHANGE,
// MEDIUM MAY HAVE CHANGED (06/28/00): so a guest that never polls for events still learns that its disc
// left and another came, and drops what it cached of the old one (as QEMU's ide-cd reports it). A unit
// attention stays until REQUEST SENSE has reported it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strobe::vmm {

class StateIo;

namespace scsi {
// Sense keys (SPC-3 4.5.6).
inline constexpr uint8_t kNoSense = 0x0, kNotReady = 0x2, kMediumError = 0x3, kIllegalRequest = 0x5,
                         kUnitAttention = 0x6;
// Additional sense codes (ASC; the qualifier is 0 unless noted).
inline constexpr uint8_t kAscUnrecoveredRead = 0x11, kAscInvalidOpcode = 0x20, kAscLbaOutOfRange = 0x21,
                         kAscInvalidField = 0x24, kAscMediumMayHaveChanged = 0x28,
                         kAscSavingNotSupported = 0x39, kAscMediumNotPresent = 0x3A,
                         kAscRemovalPrevented = 0x53;            // ASCQ 02h
inline constexpr uint32_t kCdBlock = 2048;                       // bytes per block of the disc
inline constexpr uint64_t kCdMaxBytes = 80ull * 60 * 75 * 2048;  // a disc larger than this is a DVD
}  // namespace scsi

// What a packet command asks of the ATA side.
struct AtapiOutcome {
  enum class Kind : uint8_t {
    kGood,            // no data; GOOD status
    kData,            // `data` to the host (already cut to the command's allocation length), then GOOD
    kRead,            // `blocks` blocks of the disc from `lba` to the host, then GOOD
    kCheckCondition,  // CHECK CONDITION: the sense is kept for REQUEST SENSE (sense_key() for the ATA side)
    kAbort,           // the ATA command aborts (a data command with a byte count limit of 0 under PIO)
  };
  Kind kind = Kind::kGood;
  std::vector<uint8_t> data;
  uint32_t lba = 0, blocks = 0;
};

class AtapiCdrom {
 public:
  // INQUIRY's identification; IDENTIFY PACKET DEVICE has the model too (as QEMU's "QEMU DVD-ROM").
  static constexpr const char* kVendor = "STROBE";
  static constexpr const char* kModel = "STROBE DVD-ROM";
  static constexpr const char* kRevision = "1.0";

  // A disc of `bytes` bytes (its whole 2048-byte blocks are the disc; 0: the drive is empty), in a drive
  // with this serial number (VPD page 83h).
  void Insert(uint64_t bytes, std::string serial) {
    blocks_ = static_cast<uint32_t>(bytes / scsi::kCdBlock);
    serial_ = std::move(serial);
  }
  uint32_t blocks() const { return blocks_; }
  bool medium_ready() const { return blocks_ > 0 && !tray_open_; }
  bool tray_open() const { return tray_open_; }
  bool locked() const { return locked_; }

  // The host's hand on the tray. HostOpenTray: false when the guest holds the lock and `force` is not
  // given; the drive then only posts an eject request for the guest (with `force` it also drops the lock
  // and opens). Opening an open tray does nothing. HostChangeDisc puts a disc of `bytes` bytes in an open
  // tray (0: takes the disc out). HostCloseTray closes an open tray. A tray the host moved starts the
  // NOT READY, UNIT ATTENTION sequence above and a new-media event.
  bool HostOpenTray(bool force);
  void HostChangeDisc(uint64_t bytes) { blocks_ = static_cast<uint32_t>(bytes / scsi::kCdBlock); }
  void HostCloseTray();
  // The disc a packet command was reading went away under it: the command ends with the check condition
  // the next command would have had (NOT READY / MEDIUM NOT PRESENT when none is pending).
  AtapiOutcome DiscGone();

  // A reset: no sense pending. A power-on or hardware reset (`power_on`: the board's reset) also unlocks
  // the tray (MMC-5 4.1.4); SRST and DEVICE RESET leave the lock. None of them closes an open tray.
  void Reset(bool power_on);

  // Runs one 12-byte command packet. `can_transfer`: the ATA side can move data for it (DMA, or a
  // non-zero byte count limit under PIO).
  AtapiOutcome Execute(const uint8_t* cdb, bool can_transfer);
  // A read of the disc failed on the host: MEDIUM ERROR / UNRECOVERED READ ERROR (03/11/00).
  AtapiOutcome ReadFailed() { return Check(scsi::kMediumError, scsi::kAscUnrecoveredRead); }
  // The sense key of the last CHECK CONDITION, for the ATA Error register's upper nibble.
  uint8_t sense_key() const { return sense_key_; }

  // Snapshots: the sense data, the tray, the media change sequence and events.
  void State(StateIo& io);

 private:
  AtapiOutcome Check(uint8_t key, uint8_t asc, uint8_t ascq = 0);
  void MovedByHost();
  AtapiOutcome ReportChange();  // the next step of the NOT READY, UNIT ATTENTION sequence
  AtapiOutcome Reply(std::vector<uint8_t> data, uint32_t allocation);
  AtapiOutcome Good();

  // One handler per command (the MMC/SPC name).
  AtapiOutcome TestUnitReady();
  AtapiOutcome RequestSense(const uint8_t* cdb);
  AtapiOutcome Inquiry(const uint8_t* cdb);
  AtapiOutcome StartStopUnit(const uint8_t* cdb);
  AtapiOutcome PreventAllowMediumRemoval(const uint8_t* cdb);
  AtapiOutcome ReadCapacity();
  AtapiOutcome Read(uint32_t lba, uint32_t count);
  AtapiOutcome ReadCd(const uint8_t* cdb);
  AtapiOutcome Seek(const uint8_t* cdb);
  AtapiOutcome ReadTocPmaAtip(const uint8_t* cdb);
  AtapiOutcome GetConfiguration(const uint8_t* cdb);
  AtapiOutcome GetEventStatusNotification(const uint8_t* cdb);
  AtapiOutcome ReadDiscInformation(const uint8_t* cdb);
  AtapiOutcome ModeSense10(const uint8_t* cdb);
  AtapiOutcome MechanismStatus(const uint8_t* cdb);

  uint32_t blocks_ = 0;
  std::string serial_;
  bool tray_open_ = false, locked_ = false;
  uint8_t sense_key_ = 0, asc_ = 0, ascq_ = 0;
  // The host moved the tray: the next gated command reports NOT READY (kGone), the one after that UNIT
  // ATTENTION (kAttention).
  enum class Change : uint8_t { kNone, kGone, kAttention };
  Change change_ = Change::kNone;
  bool new_media_event_ = false, eject_request_event_ = false;  // GET EVENT STATUS NOTIFICATION's media class
};

}  // namespace strobe::vmm
