// SPDX-License-Identifier: MIT
// The ATAPI CD-ROM drive on the PIIX4 IDE controller without Linux: the packet protocol as libata drives
// it (PACKET, the 12-byte command, DRQ blocks under the byte count limit, the interrupt reason in the
// Sector Count register, DMA through the bus master), and the MMC commands Linux's sr and cdrom drivers
// send, through the board's I/O window, against an image on the host.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/vmm/ide_machine.h"
#include "vmm/block/raw_image.h"
#include "vmm/malta.h"
#include "vmm/monitor.h"
#include "vmm/state_io.h"
#include "vmm/vm.h"

namespace strobe::vmm {
namespace {

constexpr uint32_t kBase = 0x1F0, kControl = 0x3F6;
constexpr uint32_t kBlocks = 20;
constexpr uint32_t kTail = 700;  // bytes past the last whole block: not part of the disc

using Cdb = std::vector<uint8_t>;

class Atapi : public IdeMachine {
 protected:
  void SetUp() override { Start(true); }
  void TearDown() override {
    vm_.reset();
    disc_.reset();
    if (!path_.empty()) unlink(path_.c_str());
  }

  // A VM whose primary master is a CD-ROM drive, with a disc of kBlocks blocks (and a partial one) or none.
  void Start(bool with_disc) {
    std::string error;
    if (with_disc) {
      char path[] = "/tmp/strobe-atapi-test-XXXXXX";
      const int fd = mkstemp(path);
      ASSERT_GE(fd, 0);
      path_ = path;
      std::mt19937 rng(11);
      image_.resize(kBlocks * 2048 + kTail);
      for (auto& b : image_) b = static_cast<uint8_t>(rng());
      ASSERT_EQ(write(fd, image_.data(), image_.size()), static_cast<ssize_t>(image_.size()));
      close(fd);
      block::RawOpenOptions options;
      options.read_only = true;
      options.cdrom = true;
      disc_ = block::RawImage::Open(path_, options, &error);
      ASSERT_TRUE(disc_) << error;
      ASSERT_EQ(disc_->size(), kBlocks * 2048u);
    }
    vm_ = MakeVm();
    ASSERT_TRUE(vm_);
  }
  std::unique_ptr<Vm> MakeVm() {
    return IdeMachine::MakeVm({{disc_.get(), 0, "SB00001", true, true, "ide0-cd0"}});
  }
  // Another disc image of `blocks` blocks of bytes from `seed`, for the host to put in the drive.
  std::unique_ptr<block::BlockBackend> OtherDisc(uint32_t blocks, unsigned seed,
                                                 std::vector<uint8_t>* bytes) {
    char path[] = "/tmp/strobe-atapi-disc-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    std::mt19937 rng(seed);
    bytes->resize(blocks * 2048);
    for (auto& b : *bytes) b = static_cast<uint8_t>(rng());
    EXPECT_EQ(write(fd, bytes->data(), bytes->size()), static_cast<ssize_t>(bytes->size()));
    close(fd);
    block::RawOpenOptions options;
    options.read_only = true;
    options.cdrom = true;
    std::string error;
    std::unique_ptr<block::BlockBackend> disc = block::RawImage::Open(path, options, &error);
    unlink(path);  // the open file stays readable
    EXPECT_TRUE(disc) << error;
    return disc;
  }
  // The IDE controller's state (snapshot) goes to a new VM with the same drive, which replaces vm_.
  void MoveToNewVm() {
    StateIo out;
    vm_->board().ide().State(out);
    ASSERT_TRUE(out.ok()) << out.error();
    std::unique_ptr<Vm> copy = MakeVm();
    StateIo in(out.buffer().data(), out.buffer().size());
    copy->board().ide().State(in);
    ASSERT_TRUE(in.ok()) << in.error();
    vm_ = std::move(copy);
  }
  bool Irq() { return vm_->board().ide().channel(0).irq_level(); }
  uint8_t Status() { return static_cast<uint8_t>(In(kBase + 7)); }
  uint8_t Reason() { return static_cast<uint8_t>(In(kBase + 2) & 7); }  // CoD bit 0, IO bit 1
  uint32_t ByteCount() { return In(kBase + 4) | In(kBase + 5) << 8; }

  // PACKET with the byte count limit (PIO) or DMA, then the command bytes, as libata's atapi_send_cdb.
  void Packet(Cdb cdb, uint32_t limit = 0xFFFE, bool dma = false) {
    cdb.resize(12, 0);
    Out(kBase + 6, 0xA0);
    Out(kBase + 1, dma ? 1 : 0);
    Out(kBase + 4, limit & 0xFF);
    Out(kBase + 5, (limit >> 8) & 0xFF);
    Out(kBase + 7, 0xA0);
    ASSERT_EQ(In(kControl), 0x58u);  // DRQ for the command packet, without an interrupt
    ASSERT_FALSE(Irq());
    ASSERT_EQ(Reason(), 1u);  // CoD: the host writes the command
    for (size_t i = 0; i < 12; i += 2) Out(kBase, cdb[i] | cdb[i + 1] << 8, 2);
  }
  // One DRQ block of data-in: its interrupt, reason and size, then its bytes (32-bit reads, as ata_piix).
  std::vector<uint8_t> Block(uint32_t expect_bytes) {
    Settle();
    EXPECT_TRUE(Irq());
    EXPECT_EQ(Status(), 0x58);
    EXPECT_EQ(Reason(), 2u);  // IO: data to the host
    EXPECT_EQ(ByteCount(), expect_bytes);
    std::vector<uint8_t> out;
    for (uint32_t i = 0; i < expect_bytes; i += 4) {
      const uint32_t w = In(kBase, 4);
      for (uint32_t k = 0; k < 4 && i + k < expect_bytes; ++k)
        out.push_back(static_cast<uint8_t>(w >> (8 * k)));
    }
    return out;
  }
  // The command's end: an interrupt, status and the reason "status" (CoD and IO).
  void ExpectGood() {
    Settle();
    EXPECT_TRUE(Irq());
    EXPECT_EQ(Status(), 0x50);
    EXPECT_EQ(Reason(), 3u);
  }
  // CHECK CONDITION, then REQUEST SENSE gives key/ASC/ASCQ.
  void ExpectCheck(uint8_t key, uint8_t asc, uint8_t ascq) {
    Settle();
    EXPECT_TRUE(Irq());
    EXPECT_EQ(Status(), 0x41);  // DRDY, ERR
    EXPECT_EQ(In(kBase + 1), uint32_t{key} << 4);
    EXPECT_EQ(Reason(), 3u);
    EXPECT_EQ(Sense(), (std::vector<uint8_t>{key, asc, ascq}));
  }
  std::vector<uint8_t> Sense() {
    Packet({0x03, 0, 0, 0, 18});
    std::vector<uint8_t> s = Block(18);
    ExpectGood();
    return {s[2], s[12], s[13]};
  }
  // A command whose whole reply fits one block.
  std::vector<uint8_t> Reply(Cdb cdb, uint32_t bytes) {
    Packet(std::move(cdb));
    std::vector<uint8_t> r = Block(bytes);
    ExpectGood();
    return r;
  }
  std::vector<uint8_t> Disc(uint32_t lba, uint32_t blocks) {
    return std::vector<uint8_t>(image_.begin() + lba * 2048, image_.begin() + (lba + blocks) * 2048);
  }

  std::string path_;
  std::vector<uint8_t> image_;
  std::unique_ptr<block::BlockBackend> disc_;
};

TEST_F(Atapi, ResetGivesThePacketSignatureAndIdentifyDeviceAborts) {
  Out(kBase + 6, 0xA0);
  Out(kControl, 0x06);  // SRST (and nIEN)
  Out(kControl, 0x00);
  EXPECT_EQ(In(kBase + 2), 1u);
  EXPECT_EQ(In(kBase + 3), 1u);
  EXPECT_EQ(In(kBase + 4), 0x14u);
  EXPECT_EQ(In(kBase + 5), 0xEBu);
  EXPECT_EQ(In(kBase + 1), 0x01u);
  EXPECT_EQ(Status(), 0x00);  // a packet device does not set DRDY after a reset
  // IDENTIFY DEVICE: ABRT, and the signature again (LBA mid/high), as libata's probe expects.
  Out(kBase + 4, 0);
  Out(kBase + 5, 0);
  Out(kBase + 7, 0xEC);
  EXPECT_TRUE(Irq());
  EXPECT_EQ(Status(), 0x51);
  EXPECT_EQ(In(kBase + 1), 0x04u);
  EXPECT_EQ(In(kBase + 4), 0x14u);
  EXPECT_EQ(In(kBase + 5), 0xEBu);
}

TEST_F(Atapi, IdentifyPacketDeviceDescribesTheDrive) {
  Out(kBase + 6, 0xA0);
  Out(kBase + 7, 0xA1);
  EXPECT_TRUE(Irq());
  EXPECT_EQ(Status(), 0x58);
  std::vector<uint8_t> id;
  for (int i = 0; i < 256; ++i) {
    const uint32_t w = In(kBase, 2);
    id.push_back(static_cast<uint8_t>(w));
    id.push_back(static_cast<uint8_t>(w >> 8));
  }
  EXPECT_EQ(Status(), 0x50);
  auto word = [&](int w) { return static_cast<uint16_t>(id[2 * w] | id[2 * w + 1] << 8); };
  EXPECT_EQ(word(0), 0x85C0);  // ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets
  std::string model;
  for (int i = 27; i < 47; ++i) model += {static_cast<char>(word(i) >> 8), static_cast<char>(word(i) & 0xFF)};
  EXPECT_EQ(model.substr(0, 15), "STROBE DVD-ROM ");
  EXPECT_EQ(word(49) & 0x0300, 0x0300);  // LBA, DMA
  uint8_t sum = 0;
  for (uint8_t b : id) sum = static_cast<uint8_t>(sum + b);
  EXPECT_EQ(sum, 0);
  // A disk's READ SECTORS aborts on a CD-ROM drive.
  Out(kBase + 7, 0x20);
  EXPECT_EQ(Status(), 0x51);
}

TEST_F(Atapi, InquiryAndTheInterruptReasonProtocol) {
  Packet({0x12, 0, 0, 0, 96});
  std::vector<uint8_t> inq = Block(36);
  EXPECT_EQ(inq[0], 0x05);  // CD/DVD device
  EXPECT_EQ(inq[1], 0x80);  // removable
  EXPECT_EQ(std::string(inq.begin() + 8, inq.begin() + 32), "STROBE  STROBE DVD-ROM  ");
  ExpectGood();
  EXPECT_FALSE(Irq());  // reading Status acknowledged it
  // TEST UNIT READY: no data phase; the command ends with the status interrupt at once.
  Packet({0x00});
  ExpectGood();
  // The allocation length cuts the reply; VPD page 83h names the serial number.
  EXPECT_EQ(Reply({0x12, 0, 0, 0, 5}, 5).size(), 5u);
  std::vector<uint8_t> vpd = Reply({0x12, 1, 0x83, 0, 255}, 4 + 24 + 72);
  EXPECT_EQ(std::string(vpd.begin() + 8, vpd.begin() + 15), "SB00001");
}

TEST_F(Atapi, ReadCapacityAndTheTableOfContents) {
  std::vector<uint8_t> cap = Reply({0x25}, 8);
  EXPECT_EQ(cap,
            (std::vector<uint8_t>{0, 0, 0, kBlocks - 1, 0, 0, 0x08, 0}));  // the partial block is not there
  std::vector<uint8_t> toc = Reply({0x43, 0, 0, 0, 0, 0, 0, 0, 100}, 20);  // format 0, LBA
  EXPECT_EQ(toc, (std::vector<uint8_t>{0, 18,   1,    1, 0, 0x14, 1, 0,      0, 0, 0, 0,  // track 1 at 0
                                       0, 0x14, 0xAA, 0, 0, 0,    0, kBlocks}));          // the lead-out
  toc = Reply({0x43, 2, 0, 0, 0, 0, 0xAA, 0, 100}, 12);  // MSF, from the lead-out: 00:02:20
  EXPECT_EQ(toc, (std::vector<uint8_t>{0, 10, 1, 1, 0, 0x14, 0xAA, 0, 0, 0, 2, kBlocks}));
  toc = Reply({0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40}, 12);  // the session (format in byte 9, as sr asks)
  EXPECT_EQ(toc, (std::vector<uint8_t>{0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0}));
  Packet({0x43, 0, 0, 0, 0, 0, 5, 0, 100});  // no track 5
  ExpectCheck(5, 0x24, 0);
}

TEST_F(Atapi, PioReadSplitsTheDataIntoBlocksUnderTheByteCountLimit) {
  Packet({0x28, 0, 0, 0, 0, 3, 0, 0, 2}, 0xFFFF);  // READ(10): blocks 3-4, limit FFFFh (FFFEh)
  EXPECT_EQ(Block(4096), Disc(3, 2));
  ExpectGood();
  Packet({0x28, 0, 0, 0, 0, 1, 0, 0, 2}, 3001);  // an odd limit is made even while more data is left
  std::vector<uint8_t> got = Block(3000);
  std::vector<uint8_t> rest = Block(1096);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, Disc(1, 2));
  ExpectGood();
  Packet({0xA8, 0, 0, 0, 0, kBlocks - 1, 0, 0, 0, 1}, 2048);  // READ(12) of the last block
  EXPECT_EQ(Block(2048), Disc(kBlocks - 1, 1));
  ExpectGood();
  // An odd limit under the reply's size: INQUIRY's 36 bytes in blocks of 6 (the limit 7 made even).
  Packet({0x12, 0, 0, 0, 36}, 7);
  std::vector<uint8_t> inq;
  for (int i = 0; i < 6; ++i) {
    std::vector<uint8_t> b = Block(6);
    inq.insert(inq.end(), b.begin(), b.end());
  }
  ExpectGood();
  EXPECT_EQ(inq[0], 0x05);
  // An odd reply under the limit goes as it is: 5 bytes in one block.
  EXPECT_EQ(Reply({0x12, 0, 0, 0, 5}, 5).size(), 5u);
}

TEST_F(Atapi, ReadsPastTheEndAndUnknownCommandsAreCheckConditions) {
  Packet({0x28, 0, 0, 0, 0, kBlocks - 1, 0, 0, 2});  // runs one block past the end
  ExpectCheck(5, 0x21, 0);                           // ILLEGAL REQUEST, LBA out of range
  Packet({0x28, 0, 0, 0, 0, kBlocks, 0, 0, 1});      // the partial block at the end is not on the disc
  ExpectCheck(5, 0x21, 0);
  Packet({0xFF});  // no such command
  ExpectCheck(5, 0x20, 0);
  Packet({0x2A, 0, 0, 0, 0, 0, 0, 0, 1});  // WRITE(10): the drive does not write
  ExpectCheck(5, 0x20, 0);
  Packet({0x5A, 0, 0xC0 | 0x2A, 0, 0, 0, 0, 0, 100});  // MODE SENSE of saved values
  ExpectCheck(5, 0x39, 0);
  EXPECT_EQ(Sense(), (std::vector<uint8_t>{0, 0, 0}));  // the sense was reported: none is left
  Packet({0x28, 0, 0, 0, 0, 0, 0, 0, 0});               // READ of 0 blocks: good, no data
  ExpectGood();
}

TEST_F(Atapi, ByteCountLimitZeroAbortsADataCommandUnderPio) {
  Packet({0x25}, 0);
  Settle();
  EXPECT_TRUE(Irq());
  EXPECT_EQ(Status(), 0x51);
  EXPECT_EQ(In(kBase + 1), 0x04u);  // ABRT: an ATA-level error, not a CHECK CONDITION
  Packet({0x00}, 0);                // a command without data is fine with it
  ExpectGood();
  Packet({0x12, 0, 0, 0, 36, 0, 0, 0, 0}, 0, true);  // and so is DMA, where the limit means nothing
  Out(kBusMaster, 0x00);                             // (stop) - the engine is not started: BSY waits
  EXPECT_EQ(In(kControl) & 0x80, 0x80u);
}

TEST_F(Atapi, ModeSenseConfigurationAndEvents) {
  std::vector<uint8_t> caps = Reply({0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 128}, 30);
  EXPECT_EQ(caps[1], 28);                          // mode data length
  EXPECT_EQ(caps[8], 0x2A);                        // the capabilities page
  EXPECT_EQ(caps[8 + 6] & 0x29, 0x29);             // tray, eject, lock
  EXPECT_EQ(caps[8 + 8] << 8 | caps[8 + 9], 704);  // 4x
  std::vector<uint8_t> conf = Reply({0x46, 0, 0, 0, 0, 0, 0, 0, 32}, 20);
  EXPECT_EQ(conf[6] << 8 | conf[7], 0x0008);  // current profile: CD-ROM
  EXPECT_EQ(conf[19], 0);                     // the CD-ROM profile (last) ...
  EXPECT_EQ(conf[18], 1);                     // ... is the current one
  std::vector<uint8_t> event = Reply({0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8);
  EXPECT_EQ(event[2], 4);                     // media class
  EXPECT_EQ(event[5], 0x02);                  // media present, tray closed
  Packet({0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8});  // asynchronous notification: not supported
  ExpectCheck(5, 0x24, 0);
  EXPECT_EQ(Reply({0x51, 0, 0, 0, 0, 0, 0, 0, 34}, 34)[2], 0x0E);     // READ DISC INFORMATION: finalized
  EXPECT_EQ(Reply({0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8}, 8).size(), 8u);  // MECHANISM STATUS
  Packet({0xBB, 0, 0xFF, 0xFF});                                      // SET CD SPEED
  ExpectGood();
}

TEST_F(Atapi, TheTrayOpensUnlessLockedAndTakesTheDiscAway) {
  Packet({0x1E, 0, 0, 0, 1});  // PREVENT MEDIUM REMOVAL
  ExpectGood();
  Packet({0x1B, 0, 0, 0, 0x02});  // eject: refused while locked
  ExpectCheck(5, 0x53, 0x02);
  Packet({0x1E, 0, 0, 0, 0});
  ExpectGood();
  Packet({0x1B, 0, 0, 0, 0x02});
  ExpectGood();
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0x02);     // NOT READY, medium not present, tray open
  Packet({0x1B, 0, 0, 0, 0x03});  // load
  ExpectGood();
  Packet({0x00});
  ExpectGood();
}

TEST_F(Atapi, DmaReadAndReplyGoThroughTheBusMaster) {
  PutPrd(0x10000, {{0x20000, 4096}, {0x30000, 2048}});
  Out(kBusMaster + 4, 0x10000, 4);
  Out(kBusMaster, 0x08);
  Packet({0x28, 0, 0, 0, 0, 5, 0, 0, 3}, 0, true);  // READ(10) of blocks 5-7, DMA
  EXPECT_EQ(In(kControl) & 0x80, 0x80u);            // waits for the engine
  Out(kBusMaster, 0x09);
  ExpectGood();
  EXPECT_EQ(In(kBusMaster + 2) & 7, 4u);  // not active, interrupt
  std::vector<uint8_t> got = Ram(0x20000, 4096), tail = Ram(0x30000, 2048);
  got.insert(got.end(), tail.begin(), tail.end());
  EXPECT_EQ(got, Disc(5, 3));
  Out(kBusMaster, 0x08);
  Out(kBusMaster + 2, 0x04);
  // A reply by DMA (libata sends commands whose size is a multiple of 16 that way): READ CAPACITY.
  PutPrd(0x10000, {{0x40000, 8}});
  Packet({0x25}, 0, true);
  Out(kBusMaster, 0x09);
  ExpectGood();
  EXPECT_EQ(Ram(0x40000, 8), (std::vector<uint8_t>{0, 0, 0, kBlocks - 1, 0, 0, 0x08, 0}));
}

TEST_F(Atapi, DeviceResetEndsATransferInTheMiddle) {
  Packet({0x28, 0, 0, 0, 0, 0, 0, 0, 2}, 2048);
  Block(2048);
  Settle();
  EXPECT_EQ(Status(), 0x58);  // the second block waits
  Out(kBase + 7, 0x08);       // DEVICE RESET, taken while DRQ is set
  EXPECT_EQ(Status(), 0x00);
  EXPECT_EQ(In(kBase + 4), 0x14u);
  EXPECT_EQ(In(kBase + 5), 0xEBu);
  EXPECT_EQ(In(kBase, 4), 0u);  // no data any more
  Packet({0x00});
  ExpectGood();
}

TEST_F(Atapi, ATransferInProgressSurvivesASnapshot) {
  Packet({0x1E, 0, 0, 0, 1});  // lock the tray: the drive's own state
  ExpectGood();
  {  // between two commands, after a reply (its state must be a valid one)
    EXPECT_EQ(Reply({0x25}, 8).size(), 8u);
    StateIo idle;
    vm_->board().ide().State(idle);
    std::unique_ptr<Vm> other = MakeVm();
    StateIo in(idle.buffer().data(), idle.buffer().size());
    other->board().ide().State(in);
    ASSERT_TRUE(in.ok()) << in.error();
  }
  Packet({0x28, 0, 0, 0, 0, 2, 0, 0, 2}, 2048);
  Settle();
  ASSERT_EQ(ByteCount(), 2048u);
  std::vector<uint8_t> got;
  auto take = [&](int words) {
    for (int i = 0; i < words; ++i) {
      const uint32_t w = In(kBase, 4);
      for (int k = 0; k < 4; ++k) got.push_back(static_cast<uint8_t>(w >> (8 * k)));
    }
  };
  take(256);  // half of the first block
  // A second VM with the same drive takes the state and goes on where the first stopped.
  MoveToNewVm();
  if (HasFatalFailure()) return;
  take(256);
  std::vector<uint8_t> second = Block(2048);
  got.insert(got.end(), second.begin(), second.end());
  ExpectGood();
  EXPECT_EQ(got, Disc(2, 2));
  Packet({0x1B, 0, 0, 0, 0x02});  // still locked
  ExpectCheck(5, 0x53, 0x02);
}

// The host changes the disc (the monitor's change): the tray opens, the new disc goes in, the tray closes.
// The guest then sees NOT READY, UNIT ATTENTION, and the new disc; GET EVENT STATUS NOTIFICATION reports
// new media once; commands that may run under a unit attention still do.
TEST_F(Atapi, AHostChangeIsReportedAsNotReadyThenUnitAttention) {
  std::vector<std::pair<unsigned, bool>> moved;
  vm_->set_on_tray_moved([&](unsigned index, bool open) { moved.push_back({index, open}); });
  EXPECT_EQ(Reply({0x25}, 8)[3], kBlocks - 1);
  ASSERT_TRUE(vm_->OpenTray(0, false));
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0x02);  // tray open
  std::vector<uint8_t> event = Reply({0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8);
  EXPECT_EQ(event[4], 0);     // no event while the tray is open
  EXPECT_EQ(event[5], 0x01);  // tray open, no medium reachable
  std::vector<uint8_t> bytes;
  vm_->ChangeDisc(0, OtherDisc(7, 3, &bytes));
  vm_->CloseTray(0);
  EXPECT_EQ(moved, (std::vector<std::pair<unsigned, bool>>{{0, true}, {0, false}}));
  EXPECT_EQ(vm_->config().ide_disks[0].backend->size(), 7u * 2048);
  EXPECT_EQ(Reply({0x12, 0, 0, 0, 36}, 36)[0], 0x05);  // INQUIRY runs under a pending change
  event = Reply({0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8);
  EXPECT_EQ(event[4], 2);     // new media, once
  EXPECT_EQ(event[5], 0x02);  // present, tray closed
  EXPECT_EQ(Reply({0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8)[4], 0);
  Packet({0x25});
  ExpectCheck(2, 0x3A, 0);  // the old disc went away ...
  Packet({0x00});
  ExpectCheck(6, 0x28, 0);  // ... and a new one came
  Packet({0x00});
  ExpectGood();
  EXPECT_EQ(Reply({0x25}, 8)[3], 6);
  Packet({0x28, 0, 0, 0, 0, 5, 0, 0, 2});
  EXPECT_EQ(Block(4096), std::vector<uint8_t>(bytes.begin() + 5 * 2048, bytes.end()));
  ExpectGood();
}

// A unit attention stays until REQUEST SENSE has reported it: another command gets it again.
TEST_F(Atapi, AUnitAttentionRepeatsUntilReported) {
  ASSERT_TRUE(vm_->OpenTray(0, false));
  vm_->CloseTray(0);  // the same disc, but the guest cannot know
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0);
  Packet({0x00});
  Settle();
  EXPECT_EQ(Status(), 0x41);
  EXPECT_EQ(In(kBase + 1), 0x60u);  // UNIT ATTENTION
  Packet({0x25});                   // not reported yet: again
  ExpectCheck(6, 0x28, 0);          // (now REQUEST SENSE reports it)
  EXPECT_EQ(Reply({0x25}, 8)[3], kBlocks - 1);
}

// The guest holds the tray locked (a mounted disc): the host's open only posts an eject request, which
// the guest sees as an event; forced, it opens, and the lock is gone.
TEST_F(Atapi, ALockedTrayOnlyGetsAnEjectRequestUnlessForced) {
  std::vector<std::pair<unsigned, bool>> moved;
  vm_->set_on_tray_moved([&](unsigned index, bool open) { moved.push_back({index, open}); });
  Packet({0x1E, 0, 0, 0, 1});
  ExpectGood();
  EXPECT_FALSE(vm_->OpenTray(0, false));
  EXPECT_FALSE(vm_->board().ide().channel(0).tray_open(0));
  EXPECT_TRUE(moved.empty());
  std::vector<uint8_t> event = Reply({0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8);
  EXPECT_EQ(event[4], 1);  // eject request
  EXPECT_EQ(event[5], 0x02);
  Packet({0x00});
  ExpectGood();  // nothing changed for the guest
  EXPECT_TRUE(vm_->OpenTray(0, true));
  EXPECT_TRUE(vm_->board().ide().channel(0).tray_open(0));
  EXPECT_FALSE(vm_->board().ide().channel(0).tray_locked(0));
  EXPECT_EQ(moved, (std::vector<std::pair<unsigned, bool>>{{0, true}}));
  vm_->ChangeDisc(0, nullptr);
  Packet({0x1B, 0, 0, 0, 0x03});  // the guest closes the tray on no disc
  ExpectGood();
  EXPECT_EQ(moved.back(), (std::pair<unsigned, bool>{0, false}));
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0);
  EXPECT_EQ(vm_->config().ide_disks[0].backend, nullptr);
}

// The tray opens under a PIO read that has blocks left: the block in the drive's buffer still goes to the
// guest, the next one is not read from whatever disc is there now.
TEST_F(Atapi, AReadEndsWhenTheHostOpensTheTrayUnderIt) {
  Packet({0x28, 0, 0, 0, 0, 2, 0, 0, 3}, 2048);
  Settle();
  ASSERT_EQ(ByteCount(), 2048u);
  std::vector<uint8_t> got;
  for (int i = 0; i < 256; ++i) {
    const uint32_t w = In(kBase, 4);
    for (int k = 0; k < 4; ++k) got.push_back(static_cast<uint8_t>(w >> (8 * k)));
  }
  ASSERT_TRUE(vm_->OpenTray(0, false));
  std::vector<uint8_t> bytes;
  vm_->ChangeDisc(0, OtherDisc(kBlocks, 4, &bytes));
  vm_->CloseTray(0);
  for (int i = 0; i < 256; ++i) {
    const uint32_t w = In(kBase, 4);
    for (int k = 0; k < 4; ++k) got.push_back(static_cast<uint8_t>(w >> (8 * k)));
  }
  EXPECT_EQ(got, Disc(2, 1));
  ExpectCheck(2, 0x3A, 0);  // the command ends with the change's first report
  Packet({0x00});
  ExpectCheck(6, 0x28, 0);
  // By DMA: the tray opened between the command and the engine's start.
  PutPrd(0x10000, {{0x20000, 2048}});
  Out(kBusMaster + 4, 0x10000, 4);
  Out(kBusMaster, 0x08);
  Packet({0x28, 0, 0, 0, 0, 1, 0, 0, 1}, 0, true);
  ASSERT_TRUE(vm_->OpenTray(0, false));
  Out(kBusMaster, 0x09);
  ExpectCheck(2, 0x3A, 0x02);
  EXPECT_NE(Ram(0x20000, 2048), std::vector<uint8_t>(bytes.begin() + 2048, bytes.begin() + 4096));
}

// The change in progress is the drive's state: a snapshot taken between the two reports holds the rest.
TEST_F(Atapi, APendingChangeSurvivesASnapshot) {
  ASSERT_TRUE(vm_->OpenTray(0, false));
  vm_->CloseTray(0);
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0);
  MoveToNewVm();
  if (HasFatalFailure()) return;
  Packet({0x00});
  ExpectCheck(6, 0x28, 0);
  Packet({0x00});
  ExpectGood();
}

class AtapiEmpty : public Atapi {
 protected:
  void SetUp() override { Start(false); }
};

TEST_F(AtapiEmpty, ADriveWithoutADiscIsNotReady) {
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0);                                 // NOT READY, MEDIUM NOT PRESENT
  EXPECT_EQ(Sense(), (std::vector<uint8_t>{2, 0x3A, 0}));  // the current condition, with nothing pending
  Packet({0x25});
  ExpectCheck(2, 0x3A, 0);
  Packet({0x28, 0, 0, 0, 0, 0, 0, 0, 1});
  ExpectCheck(2, 0x3A, 0);
  EXPECT_EQ(Reply({0x12, 0, 0, 0, 36}, 36)[0], 0x05);               // the drive itself answers
  EXPECT_EQ(Reply({0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8)[5], 0x00);  // no medium, tray closed
  std::vector<uint8_t> conf = Reply({0x46, 0, 0, 0, 0, 0, 0, 0, 32}, 20);
  EXPECT_EQ(conf[6] << 8 | conf[7], 0);  // no current profile
}

// A disc the host puts in an empty drive: the drive had no disc to lose, so the guest sees the same two
// reports, then the disc.
TEST_F(AtapiEmpty, TheHostPutsADiscInAnEmptyDrive) {
  ASSERT_TRUE(vm_->OpenTray(0, false));
  std::vector<uint8_t> bytes;
  vm_->ChangeDisc(0, OtherDisc(3, 9, &bytes));
  vm_->CloseTray(0);
  Packet({0x00});
  ExpectCheck(2, 0x3A, 0);
  Packet({0x00});
  ExpectCheck(6, 0x28, 0);
  EXPECT_EQ(Reply({0x25}, 8)[3], 2);
  Packet({0x28, 0, 0, 0, 0, 0, 0, 0, 3});
  EXPECT_EQ(Block(6144), bytes);
  ExpectGood();
}

}  // namespace
}  // namespace strobe::vmm
