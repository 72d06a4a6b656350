// SPDX-License-Identifier: MIT
// One parallel ATA channel with up to two disks (ATA/ATAPI-7 volume 1 and 2: the register block, the PIO
// data-in/data-out and DMA protocols, the commands a disk driver such as Linux's libata uses). The host
// side of each disk is a BlockBackend served by its BlockQueue, so no host I/O happens on the vCPU thread:
// a command that needs the disk keeps BSY set until the queue's completion runs (drained by the VM's run
// loop), which is what a real disk does while its heads move.
//
// A device is a disk or an ATAPI CD/DVD-ROM drive (`AtaDriveConfig::cdrom`): the packet device's ATA
// commands and the PACKET protocol are in ata_packet.cpp, the command set it runs in atapi_cdrom.h.
//
// Both devices latch every write to the command block (each keeps its own copy); reads come from the
// selected one. As on QEMU's IDE bus: with no device on the channel every register reads 0, and a device
// that is absent while the other is present reads 0 in Status and Error, so libata's probe (ata_devchk,
// ata_sff_dev_classify) finds nothing there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vmm/block/backend.h"
#include "vmm/block/block_queue.h"
#include "vmm/devices/atapi_cdrom.h"

namespace strobe::vmm {

class StateIo;

struct AtaDriveConfig {
  block::BlockBackend* backend = nullptr;  // null: no device at this position (a CD-ROM: no disc)
  block::BlockQueue* queue = nullptr;      // the backend's worker
  bool cdrom = false;                      // an ATAPI CD/DVD-ROM drive (read-only, 2048-byte blocks)
  std::string serial;                      // IDENTIFY words 10-19 (20 characters at most)
  bool write_cache = true;  // the volatile write cache is on at power-on (SET FEATURES 02h/82h)
};

namespace ata {
// Status register bits.
inline constexpr uint8_t kBsy = 0x80, kDrdy = 0x40, kDf = 0x20, kDsc = 0x10, kDrq = 0x08, kErr = 0x01;
// Error register bits.
inline constexpr uint8_t kUnc = 0x40, kIdnf = 0x10, kAbrt = 0x04;
// Device control register bits.
inline constexpr uint8_t kNien = 0x02, kSrst = 0x04, kHob = 0x80;
inline constexpr unsigned kMaxMultiple = 16;  // sectors per DRQ block for READ/WRITE MULTIPLE
// IDENTIFY data: a word, an ATA string (two characters per word, the first in the high byte, space-padded),
// and the integrity word (signature A5h and the checksum that makes the 512 bytes sum to zero).
void Put16(std::vector<uint8_t>& b, unsigned word, uint16_t v);
void PutString(std::vector<uint8_t>& b, unsigned word, unsigned words, const std::string& s);
void PutIntegrity(std::vector<uint8_t>& b);
}  // namespace ata

// The 512-byte IDENTIFY DEVICE block of a disk of `sectors` sectors with the given settings.
struct AtaIdentity {
  uint64_t sectors = 0;
  std::string serial, firmware, model;
  unsigned multiple = ata::kMaxMultiple;  // current READ/WRITE MULTIPLE setting (0: off)
  bool write_cache = true, look_ahead = true;
  uint16_t cylinders = 0, heads = 16, sectors_per_track = 63;  // current CHS translation
  int pio_mode = -1, mwdma_mode = -1, udma_mode = 5;  // the selected transfer mode (one of the DMA ones)
  bool master = true;                                 // device 0 or 1 (word 93)
};
std::vector<uint8_t> BuildIdentify(const AtaIdentity& id);
// The 512-byte IDENTIFY PACKET DEVICE block of a CD/DVD-ROM drive (ata_packet.cpp).
std::vector<uint8_t> BuildPacketIdentify(const AtaIdentity& id);

class AtaChannel {
 public:
  using IrqLine = std::function<void(bool level)>;  // INTRQ, as the controller's pin sees it
  using DmaRequest = std::function<void()>;         // the selected device waits for the bus master
  AtaChannel(IrqLine irq, DmaRequest dma_request);

  // Before the guest runs. unit 0 master, 1 slave.
  void Attach(unsigned unit, const AtaDriveConfig& config);
  bool HasDevice(unsigned unit) const { return drives_[unit].present; }
  bool IsCdrom(unsigned unit) const { return drives_[unit].cdrom; }

  // A CD-ROM drive's tray under the host's hand (AtapiCdrom's HostOpenTray, HostChangeDisc, HostCloseTray),
  // on the vCPU thread. HostChangeDisc puts `backend`, served by `queue`, in the open tray (null: takes the
  // disc out). The tray opening ends a packet command that still had to read the disc: what it read before
  // reaches the guest, the rest ends in a check condition. Reads in flight complete from the old disc's
  // queue, which the caller keeps alive until its in_flight() is 0.
  bool HostOpenTray(unsigned unit, bool force);
  void HostChangeDisc(unsigned unit, block::BlockBackend* backend, block::BlockQueue* queue);
  void HostCloseTray(unsigned unit);
  bool tray_open(unsigned unit) const { return drives_[unit].atapi.tray_open(); }
  bool tray_locked(unsigned unit) const { return drives_[unit].atapi.locked(); }
  // Called whenever a CD-ROM drive's tray opens or closes, by the guest's command or the host's hand (the
  // monitor's DEVICE_TRAY_MOVED event).
  using TrayMoved = std::function<void(unsigned unit, bool open)>;
  void set_on_tray_moved(TrayMoved f) { on_tray_moved_ = std::move(f); }

  // The command block (register 0 data, 1 error/features, 2 sector count, 3-5 LBA, 6 device, 7
  // status/command) and the control block (alternate status / device control).
  uint32_t ReadRegister(unsigned reg, unsigned size);
  void WriteRegister(unsigned reg, unsigned size, uint32_t value);
  uint8_t ReadAltStatus() const;
  void WriteDeviceControl(uint8_t value);
  // Hardware reset: both devices to their power-on state; a command in flight is forgotten.
  void Reset();
  bool irq_level() const { return intrq_ && !(devctl_ & ata::kNien); }

  // The bus master's side of the DMA protocol. dma_waiting(): the selected device has a DMA command and
  // waits for data transfer; dma_to_memory() its direction, dma_bytes() its size.
  bool dma_waiting() const;
  bool dma_to_memory() const;
  uint32_t dma_bytes() const;
  // For a DMA that waits to read from the medium into memory: the backend and the byte of it the data
  // start at (disk sharing between VMs maps such blocks: GuestMemory::WriteFromDisk). false otherwise.
  bool DmaReadSource(const block::BlockBackend** disk, uint64_t* offset) const;
  // The bus master has gathered the data (for a write to the disk, `buffer` holds it) or has room for it
  // (for a read, the device fills `buffer`): the device does the disk I/O, then calls finished(0 or an
  // errno) on the vCPU thread (for a read the data is in `buffer` then) and ends the command (status,
  // interrupt).
  void TransferDma(std::shared_ptr<std::vector<uint8_t>> buffer, std::function<void(int err)> finished);
  // The bus master could not move the data (a master abort on a bad address): the command ends with ABRT.
  void AbortDma();

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  // kPacket: a packet device waits for the 12-byte command packet; kPacketIn: it shows one DRQ block of a
  // packet command's data.
  enum class Phase { kIdle, kBusy, kPioIn, kPioOut, kDmaWait, kDmaRun, kPacket, kPacketIn };
  struct TaskFile {
    uint8_t feature = 0, nsect = 0, lbal = 0, lbam = 0, lbah = 0;
    uint8_t hob_feature = 0, hob_nsect = 0, hob_lbal = 0, hob_lbam = 0, hob_lbah = 0;
    uint8_t device = 0;
  };
  struct Drive {
    bool present = false;
    AtaDriveConfig config;
    uint64_t sectors = 0;
    TaskFile tf;
    uint8_t status = 0, error = 0;
    AtaIdentity identity;  // settings (multiple, write cache, transfer mode, geometry)
    Phase phase = Phase::kIdle;
    std::shared_ptr<std::vector<uint8_t>> buffer;  // the PIO block being transferred
    size_t pos = 0;
    uint64_t lba = 0;        // the next sector of the command
    uint32_t remaining = 0;  // sectors of the command not yet in a block
    uint32_t block = 1;      // sectors per DRQ block
    uint32_t block_now = 0;  // sectors in the current block
    bool dma_to_memory = false;
    bool dma_trim = false;  // the DMA brings DATA SET MANAGEMENT's range entries, not sectors to write
    uint32_t dma_sectors = 0;
    uint32_t dma_bytes = 0;   // the DMA transfer's size
    uint64_t generation = 0;  // bumped by a reset: completions of older requests are dropped
    // A packet device (ata_packet.cpp): its command set and a packet command's data phase.
    bool cdrom = false;
    AtapiCdrom atapi;
    bool packet_dma = false;        // the PACKET command asked for DMA (Features bit 0)
    uint32_t packet_limit = 0;      // bytes per DRQ block: the byte count limit (LBA mid/high)
    bool packet_from_disc = false;  // the data are the disc's bytes from packet_offset, else packet_reply's
    uint64_t packet_offset = 0;     // the next byte to send (of the disc, or of packet_reply)
    uint64_t packet_left = 0;       // bytes not yet sent
    std::vector<uint8_t> packet_reply;
    uint64_t disc_epoch = 0;    // bumped whenever the host opens the tray: the disc may not be the same
    uint64_t packet_epoch = 0;  // disc_epoch when the packet command began reading the disc
  };

  static constexpr size_t kMaxBlockBytes = 65536;  // the largest PIO block (a packet device's)

  Drive& selected() { return drives_[(drives_[0].tf.device >> 4) & 1]; }
  const Drive& selected() const { return drives_[(drives_[0].tf.device >> 4) & 1]; }
  unsigned selected_unit() const { return (drives_[0].tf.device >> 4) & 1; }
  bool any_present() const { return drives_[0].present || drives_[1].present; }
  void ResetDrive(Drive& d);   // the signature and status after a reset
  void EndTransfer(Drive& d);  // idle: no data block, no packet command's data left
  void UpdateIrq();
  void RaiseIrq();

  void Execute(Drive& d, uint8_t command);
  void Complete(Drive& d);
  void Abort(Drive& d, uint8_t error = ata::kAbrt);
  // The command's sector range from the task file; false (and the command ended with IDNF) when it lies
  // beyond the disk.
  bool Range(Drive& d, bool lba48, uint64_t* lba, uint32_t* count);
  void SetFeatures(Drive& d);
  void StartPioIn(Drive& d, uint64_t lba, uint32_t count, uint32_t block);
  void NextPioInBlock(Drive& d);
  void StartPioOut(Drive& d, uint64_t lba, uint32_t count, uint32_t block);
  void NextPioOutBlock(Drive& d);
  void WritePioBlock(Drive& d);
  void StartDma(Drive& d, uint64_t lba, uint32_t count, bool to_memory);
  void Flush(Drive& d);
  // DATA SET MANAGEMENT with TRIM: each 8-byte entry of `entries` (a 48-bit LBA, a 16-bit count) discarded.
  void Trim(Drive& d, std::shared_ptr<std::vector<uint8_t>> entries, std::function<void(int)> finished);
  // A write to the disk, followed by a flush when the guest turned the write cache off (the data is
  // on stable storage before the command completes). done(0 or errno) runs on the vCPU thread.
  void SubmitWrite(Drive& d, uint64_t offset, std::shared_ptr<std::vector<uint8_t>> data,
                   std::function<void(int)> done);
  // A completion callback that runs `f` only if the drive was not reset in between.
  std::function<void(int)> Guarded(Drive& d, std::function<void(Drive&, int)> f);

  uint32_t ReadData(Drive& d, unsigned size);
  void WriteData(Drive& d, unsigned size, uint32_t value);

  // ata_packet.cpp: a packet device's ATA commands and the PACKET protocol (ATA/ATAPI-7 volume 2, 11.8 and
  // 11.9: the command packet, then PIO data-in blocks under the byte count limit or DMA, the interrupt
  // reason in the Sector Count register).
  void ExecutePacketDevice(Drive& d, uint8_t command);
  void SetPacketSignature(Drive& d);
  void DeviceReset(Drive& d);
  void StartPacket(Drive& d);
  void RunPacket(Drive& d);
  void NextPacketBlock(Drive& d);
  void ShowPacketBlock(Drive& d, std::shared_ptr<std::vector<uint8_t>> block);
  void PacketDone(Drive& d);
  void PacketFailed(Drive& d);
  void TransferPacketDma(Drive& d, std::shared_ptr<std::vector<uint8_t>> buffer,
                         std::function<void(int)> finished);
  void PacketState(Drive& d, StateIo& io);
  // A packet command reading the disc whose tray the host opened since it began: it ends (for DMA, the
  // bus master's `finished` gets EIO first) with the check condition of a disc that went away.
  bool DiscGoneFrom(Drive& d);
  void ReportTray(unsigned unit, bool was_open);

  IrqLine irq_;
  DmaRequest dma_request_;
  TrayMoved on_tray_moved_;
  Drive drives_[2];
  uint8_t devctl_ = 0;
  bool intrq_ = false;
};

}  // namespace strobe::vmm
