// SPDX-License-Identifier: MIT
// The PIIX4 IDE controller and its ATA disks without Linux: register-level sequences as libata issues
// them, through the board's I/O window and PCI configuration space, against a raw image on the host.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "tests/support/test_machine.h"
#include "tests/vmm/ide_machine.h"
#include "vmm/block/raw_image.h"
#include "vmm/malta.h"
#include "vmm/monitor.h"
#include "vmm/vm.h"

namespace strobe::vmm {
namespace {

constexpr uint32_t kPrimary = 0x1F0, kSecondary = 0x170;
constexpr uint32_t kSectors = 64;

class Ide : public IdeMachine {
 protected:
  void SetUp() override {
    char path[] = "/tmp/strobe-ide-test-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    path_ = path;
    std::mt19937 rng(11);
    image_.resize(kSectors * 512);
    for (auto& b : image_) b = static_cast<uint8_t>(rng());
    ASSERT_EQ(write(fd, image_.data(), image_.size()), static_cast<ssize_t>(image_.size()));
    close(fd);
    block::RawOpenOptions options;
    options.probe = false;
    std::string error;
    disk_ = block::RawImage::Open(path_, options, &error);
    ASSERT_TRUE(disk_) << error;

    vm_ = MakeVm({{disk_.get(), 0, "SB00001", true, false, "ide0-hd0"}});
    ASSERT_TRUE(vm_);
  }
  void TearDown() override {
    vm_.reset();
    wrapper_.reset();
    disk_.reset();
    if (!path_.empty()) unlink(path_.c_str());
  }

  // LBA28 task file for the master of the primary channel, then the command.
  void Command(uint8_t cmd, uint32_t lba = 0, uint8_t count = 0, uint32_t base = kPrimary) {
    Out(base + 6, 0xE0 | ((lba >> 24) & 0x0F));
    Out(base + 2, count);
    Out(base + 3, lba & 0xFF);
    Out(base + 4, (lba >> 8) & 0xFF);
    Out(base + 5, (lba >> 16) & 0xFF);
    Out(base + 7, cmd);
  }
  std::vector<uint8_t> ReadBlock(unsigned bytes = 512) {
    std::vector<uint8_t> out;
    for (unsigned i = 0; i < bytes; i += 4) {
      const uint32_t w = In(kPrimary, 4);  // 32-bit PIO, as ata_piix does
      for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(w >> (8 * k)));
    }
    return out;
  }
  std::vector<uint8_t> Sector(uint32_t lba, unsigned count = 1) {
    return std::vector<uint8_t>(image_.begin() + lba * 512, image_.begin() + (lba + count) * 512);
  }
  std::vector<uint8_t> FileSector(uint32_t lba) {
    std::vector<uint8_t> b(512);
    EXPECT_EQ(disk_->Read(uint64_t{lba} * 512, b.data(), b.size()), 0);
    return b;
  }
  bool Irq14() { return vm_->board().ide().channel(0).irq_level(); }
  std::string path_;
  std::vector<uint8_t> image_;
  std::unique_ptr<block::BlockBackend> disk_;
  std::unique_ptr<block::BlockBackend> wrapper_;  // a test's backend over disk_
};

TEST_F(Ide, PciFunctionIsQemusPiix4Ide) {
  Piix4Ide& ide = vm_->board().ide();
  EXPECT_EQ(ide.ReadConfig(0x00), 0x71118086u);
  EXPECT_EQ(ide.ReadConfig(0x08) >> 8, 0x010180u);  // IDE, legacy mode on both channels, bus master
  EXPECT_EQ(ide.ReadConfig(0x20), kBusMaster | 1);
  ide.WriteConfig(0x20, 0xFFFFFFFFu);  // BAR sizing: 16 I/O ports
  EXPECT_EQ(ide.ReadConfig(0x20), 0x0000FFF1u);
  ide.WriteConfig(0x20, kBusMaster | 1);
  // With I/O space off, nothing decodes: the ports float.
  ide.WriteConfig(0x04, 0);
  EXPECT_EQ(In(kPrimary + 7), 0xFFu);
  ide.WriteConfig(0x04, 5);
  EXPECT_EQ(In(kPrimary + 7), 0x50u);  // DRDY, DSC
}

TEST_F(Ide, IdentifyDeviceDescribesTheDisk) {
  Command(0xEC);
  EXPECT_EQ(In(kPrimary + 0x206), 0x58u);  // alternate status: DRDY DSC DRQ, without acknowledging
  EXPECT_TRUE(Irq14());
  EXPECT_EQ(In(kPrimary + 7), 0x58u);
  EXPECT_FALSE(Irq14());  // reading Status acknowledges
  std::vector<uint8_t> id = ReadBlock();
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  auto word = [&](int w) { return static_cast<uint16_t>(id[2 * w] | id[2 * w + 1] << 8); };
  auto text = [&](int w, int words) {
    std::string s;
    for (int i = 0; i < words; ++i)
      s += {static_cast<char>(word(w + i) >> 8), static_cast<char>(word(w + i) & 0xFF)};
    return s;
  };
  EXPECT_EQ(word(0), 0x0040);
  EXPECT_EQ(text(10, 10), "SB00001             ");
  EXPECT_EQ(text(23, 4), "1.0     ");
  EXPECT_EQ(text(27, 20).substr(0, 16), "STROBE HARDDISK ");
  EXPECT_EQ(word(47), 0x8010);           // READ/WRITE MULTIPLE up to 16 sectors
  EXPECT_EQ(word(49) & 0x0300, 0x0300);  // LBA and DMA
  EXPECT_EQ(word(59), 0x0110);           // multiple setting 16, valid
  EXPECT_EQ(word(60) | word(61) << 16, kSectors);
  EXPECT_EQ(word(83) & 0x7400, 0x7400);  // 48-bit, FLUSH CACHE, FLUSH CACHE EXT
  EXPECT_EQ(word(85) & 0x20, 0x20);      // write cache enabled
  EXPECT_EQ(word(88) & 0x3F, 0x3F);      // UDMA 0-5
  EXPECT_EQ(word(100) | word(101) << 16, kSectors);
  EXPECT_EQ(word(102) | word(103), 0);
  EXPECT_EQ(word(169), 1);      // DATA SET MANAGEMENT with TRIM, as QEMU's ide-hd
  EXPECT_EQ(word(69), 0x4000);  // deterministic data after TRIM
  uint8_t sum = 0;
  for (uint8_t b : id) sum = static_cast<uint8_t>(sum + b);
  EXPECT_EQ(id[510], 0xA5);
  EXPECT_EQ(sum, 0);

  // SET FEATURES: write cache off shows in word 85; an unknown subcommand is aborted.
  Out(kPrimary + 1, 0x82);
  Command(0xEF);
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  Command(0xEC);
  id = ReadBlock();
  EXPECT_EQ(word(85) & 0x20, 0);
  Out(kPrimary + 1, 0x77);
  Command(0xEF);
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  EXPECT_EQ(In(kPrimary + 1), 0x04u);  // ABRT
}

TEST_F(Ide, PioReadWaitsForTheWorkerThenTransfersEachSector) {
  Command(0x20, 5, 2);
  Settle();
  EXPECT_TRUE(Irq14());
  EXPECT_EQ(In(kPrimary + 7), 0x58u);
  EXPECT_EQ(ReadBlock(), Sector(5));
  Settle();  // the second sector is its own DRQ block, read when the first is taken
  EXPECT_EQ(In(kPrimary + 7), 0x58u);
  EXPECT_EQ(ReadBlock(), Sector(6));
  EXPECT_EQ(In(kPrimary + 7), 0x50u);

  // READ MULTIPLE EXT (LBA48): 3 sectors in one block of up to 16.
  Out(kPrimary + 6, 0x40);
  for (uint32_t reg = 2; reg <= 5; ++reg) Out(kPrimary + reg, 0);  // high bytes
  Out(kPrimary + 2, 3);
  Out(kPrimary + 3, 9);
  Out(kPrimary + 4, 0);
  Out(kPrimary + 5, 0);
  Out(kPrimary + 7, 0x29);
  Settle();
  EXPECT_EQ(In(kPrimary + 7), 0x58u);
  EXPECT_EQ(ReadBlock(3 * 512), Sector(9, 3));
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
}

TEST_F(Ide, PioWriteReachesTheImageAndFlushCompletes) {
  Command(0x30, 7, 1);
  EXPECT_EQ(In(kPrimary + 7), 0x58u);  // the first block is asked for without an interrupt
  EXPECT_FALSE(Irq14());
  std::vector<uint8_t> data(512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  for (size_t i = 0; i < data.size(); i += 2) Out(kPrimary, data[i] | data[i + 1] << 8, 2);
  EXPECT_EQ(In(kPrimary + 0x206) & 0x80, 0x80u);  // BSY while the worker writes
  Settle();
  EXPECT_TRUE(Irq14());
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  EXPECT_EQ(FileSector(7), data);
  Command(0xE7);  // FLUSH CACHE
  Settle();
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  EXPECT_TRUE(!Irq14());
}

TEST_F(Ide, DmaReadWalksThePrdTableIntoGuestMemory) {
  PutPrd(0x10000, {{0x20000, 512}, {0x30000, 1024}});
  Out(kBusMaster + 4, 0x10000, 4);
  Out(kBusMaster, 0x08);                  // direction: to memory
  Command(0xC8, 3, 3);                    // READ DMA, 3 sectors
  Out(kBusMaster, 0x09);                  // start
  EXPECT_EQ(In(kBusMaster + 2) & 1, 1u);  // active
  Settle();
  EXPECT_EQ(Ram(0x20000, 512), Sector(3));
  EXPECT_EQ(Ram(0x30000, 1024), Sector(4, 2));
  EXPECT_EQ(In(kBusMaster + 2) & 7, 4u);  // table used up (not active), interrupt
  EXPECT_TRUE(Irq14());
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  Out(kBusMaster, 0x08);  // stop, then clear the interrupt bit as ata_bmdma_stop/irq_clear do
  Out(kBusMaster + 2, 0x04);
  EXPECT_EQ(In(kBusMaster + 2) & 7, 0u);

  // WRITE DMA EXT from guest memory.
  std::vector<uint8_t> pattern(1024);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i ^ 0x5A);
  ASSERT_TRUE(vm_->guest_memory().Write(0x40000, pattern.data(), pattern.size()));
  PutPrd(0x10000, {{0x40000, 1024}});
  Out(kBusMaster, 0x00);
  Out(kPrimary + 6, 0x40);
  Out(kPrimary + 2, 0);
  Out(kPrimary + 2, 2);
  Out(kPrimary + 3, 0), Out(kPrimary + 3, 20);
  Out(kPrimary + 4, 0), Out(kPrimary + 4, 0);
  Out(kPrimary + 5, 0), Out(kPrimary + 5, 0);
  Out(kPrimary + 7, 0x35);
  Out(kBusMaster, 0x01);
  Settle();
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  std::vector<uint8_t> got(1024);
  ASSERT_EQ(disk_->Read(20 * 512, got.data(), got.size()), 0);
  EXPECT_EQ(got, pattern);
}

// A disk that notes the discards it is asked for ("first+count " in sectors) and forwards everything.
class NotingDisk final : public block::BlockBackend {
 public:
  explicit NotingDisk(block::BlockBackend& inner) : inner_(inner) {}
  uint64_t size() const override { return inner_.size(); }
  bool read_only() const override { return inner_.read_only(); }
  const std::string& path() const override { return inner_.path(); }
  int Read(uint64_t offset, void* buffer, size_t length) override {
    return inner_.Read(offset, buffer, length);
  }
  int Write(uint64_t offset, const void* buffer, size_t length) override {
    return inner_.Write(offset, buffer, length);
  }
  int Flush() override { return inner_.Flush(); }
  int Discard(uint64_t offset, uint64_t length) override {
    std::lock_guard<std::mutex> lock(mu_);
    noted_ += std::to_string(offset / 512) + "+" + std::to_string(length / 512) + " ";
    return inner_.Discard(offset, length);
  }
  std::string noted() {
    std::lock_guard<std::mutex> lock(mu_);
    return noted_;
  }

 private:
  block::BlockBackend& inner_;
  std::mutex mu_;
  std::string noted_;
};

// DATA SET MANAGEMENT (0x06) with TRIM, as libata sends it: LBA48 registers, one 512-byte block of 8-byte
// range entries (48-bit LBA, 16-bit count) by DMA from memory. Entries of count 0 are skipped; a range past
// the disk fails the whole command with ABRT (QEMU's rule); without the TRIM feature bit it is aborted.
TEST_F(Ide, DataSetManagementTrimDiscardsEachRange) {
  vm_.reset();
  wrapper_ = std::make_unique<NotingDisk>(*disk_);
  auto& noting = static_cast<NotingDisk&>(*wrapper_);
  vm_ = MakeVm({{&noting, 0, "SB00001", true, false, "ide0-hd0"}});
  ASSERT_TRUE(vm_);
  const auto trim = [&](std::vector<uint64_t> entries, uint8_t feature = 1) {
    std::vector<uint8_t> block(512, 0);
    for (size_t i = 0; i < entries.size(); ++i)
      for (int k = 0; k < 8; ++k) block[8 * i + k] = static_cast<uint8_t>(entries[i] >> (8 * k));
    EXPECT_TRUE(vm_->guest_memory().Write(0x40000, block.data(), block.size()));
    PutPrd(0x10000, {{0x40000, 512}});
    Out(kBusMaster + 4, 0x10000, 4);
    Out(kBusMaster, 0x00);  // direction: from memory
    Out(kPrimary + 6, 0x40);
    Out(kPrimary + 1, 0), Out(kPrimary + 1, feature);
    Out(kPrimary + 2, 0), Out(kPrimary + 2, 1);  // one block of entries
    for (uint32_t r = 3; r <= 5; ++r) Out(kPrimary + r, 0), Out(kPrimary + r, 0);
    Out(kPrimary + 7, 0x06);
    Out(kBusMaster, 0x01);
    Settle();
    Out(kBusMaster, 0x00);
    Out(kBusMaster + 2, 0x04);
    return In(kPrimary + 7);
  };
  const uint64_t count = uint64_t{1} << 48;
  EXPECT_EQ(trim({8 | 4 * count, 0 | 0 * count, 40 | 2 * count}), 0x50u);
  EXPECT_EQ(noting.noted(), "8+4 40+2 ");
  EXPECT_EQ(trim({1 | 1 * count, (kSectors - 1) | 2 * count}), 0x51u);  // the second runs past the end
  EXPECT_EQ(In(kPrimary + 1), 0x04u);
  EXPECT_EQ(trim({0}), 0x50u);  // nothing to trim
  Out(kPrimary + 1, 0);
  Command(0x06, 0, 1);  // no TRIM bit: aborted at once
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  EXPECT_EQ(noting.noted(), "8+4 40+2 ");
}

TEST_F(Ide, DmaToAnAddressWithoutRamIsAMasterAbort) {
  PutPrd(0x10000, {{0x1FC00000, 512}});  // the boot ROM: not RAM
  Out(kBusMaster + 4, 0x10000, 4);
  Out(kBusMaster, 0x08);
  Command(0xC8, 0, 1);
  Out(kBusMaster, 0x09);
  EXPECT_EQ(In(kBusMaster + 2) & 7, 6u);  // error and interrupt, not active
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  EXPECT_EQ(In(kPrimary + 1), 0x04u);
  // A PRD table that itself lies outside RAM ends the same way.
  Out(kBusMaster, 0x08);
  Out(kBusMaster + 2, 0x06);
  Out(kBusMaster + 4, 0x1FC00000, 4);
  Command(0xC8, 0, 1);
  Out(kBusMaster, 0x09);
  EXPECT_EQ(In(kBusMaster + 2) & 7, 6u);
  // A table too short for the transfer stops the engine; the device keeps waiting (until a reset).
  Out(kBusMaster, 0x08);
  Out(kBusMaster + 2, 0x06);
  PutPrd(0x10000, {{0x20000, 512}});
  Out(kBusMaster + 4, 0x10000, 4);
  Command(0xC8, 0, 2);
  Out(kBusMaster, 0x09);
  EXPECT_EQ(In(kBusMaster + 2) & 7, 0u);
  EXPECT_EQ(In(kPrimary + 0x206) & 0x80, 0x80u);
  Out(kPrimary + 0x206, 0x04);  // SRST
  Out(kPrimary + 0x206, 0x00);
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
}

TEST_F(Ide, OutOfRangeAndUnknownCommandsAreErrors) {
  Command(0x20, kSectors, 1);  // one past the end
  EXPECT_TRUE(Irq14());
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  EXPECT_EQ(In(kPrimary + 1), 0x10u);  // IDNF
  Command(0x20, kSectors - 1, 2);      // runs off the end
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  Command(0xB0);  // SMART: not offered
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  EXPECT_EQ(In(kPrimary + 1), 0x04u);
  Out(kPrimary + 2, 3);
  Command(0xC6, 0, 3);  // SET MULTIPLE 3: not a power of two
  EXPECT_EQ(In(kPrimary + 7), 0x51u);
  Command(0xE5);  // CHECK POWER MODE: active
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  EXPECT_EQ(In(kPrimary + 2), 0xFFu);
}

TEST_F(Ide, AbsentDevicesLookAbsentToTheProbe) {
  // libata's ata_devchk on the absent slave: the registers latch (both devices see every write), but
  // Status and Error read 0, so ata_sff_dev_classify finds no device.
  Out(kPrimary + 6, 0xB0);
  Out(kPrimary + 2, 0x55);
  Out(kPrimary + 3, 0xAA);
  EXPECT_EQ(In(kPrimary + 2), 0x55u);
  EXPECT_EQ(In(kPrimary + 3), 0xAAu);
  EXPECT_EQ(In(kPrimary + 7), 0u);
  EXPECT_EQ(In(kPrimary + 1), 0u);
  Out(kPrimary + 7, 0xEC);  // a command to the absent slave goes nowhere
  EXPECT_EQ(In(kPrimary + 7), 0u);
  EXPECT_FALSE(Irq14());
  // SRST (with device 0 selected, as libata does): device 0 selected after it, the ATA signature, error 01h.
  Out(kPrimary + 6, 0xA0);
  Out(kPrimary + 0x206, 0x06);
  EXPECT_EQ(In(kPrimary + 0x206), 0x80u);
  Out(kPrimary + 0x206, 0x02);
  EXPECT_EQ(In(kPrimary + 6) & 0x10, 0u);
  EXPECT_EQ(In(kPrimary + 7), 0x50u);
  EXPECT_EQ(In(kPrimary + 1), 0x01u);
  EXPECT_EQ(In(kPrimary + 2), 1u);
  EXPECT_EQ(In(kPrimary + 3), 1u);
  EXPECT_EQ(In(kPrimary + 4), 0u);
  EXPECT_EQ(In(kPrimary + 5), 0u);
  // The secondary channel has no device at all: every register reads 0.
  Out(kSecondary + 2, 0x55);
  EXPECT_EQ(In(kSecondary + 2), 0u);
  EXPECT_EQ(In(kSecondary + 7), 0u);
  EXPECT_EQ(In(kSecondary + 0x206), 0u);
}

}  // namespace
}  // namespace strobe::vmm
