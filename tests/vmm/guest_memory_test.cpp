// SPDX-License-Identifier: MIT
// The DMA path into guest RAM (vmm/guest_memory.h): a device write follows the rules of a guest store:
// translated or decoded code on the written page is dropped, and copy-on-write sharing is broken.
#include "vmm/guest_memory.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "tests/support/test_machine.h"
#include "vmm/block/backend.h"
#include "vmm/disk_pages.h"

namespace strobe::test {
namespace {
using mips::Opcode;

// ori $2, $0, value; wait
std::vector<uint32_t> SetV0(uint16_t value) {
  return {E(Opcode::ORI, {.rs = 0, .rt = 2, .imm = value}), kWaitWord};
}

// Under the interpreter and with every block compiled (jit): code that ran once, overwritten by DMA, runs
// the new instructions the next time.
TEST(GuestMemory, DmaOverCodeIsSeenByTheNextExecution) {
  for (vmm::Engine engine : {vmm::Engine::kInterp, vmm::Engine::kJit}) {
    SCOPED_TRACE(static_cast<int>(engine));
    TestMachine m(16u << 20, 16, nullptr, engine);
    ASSERT_TRUE(m.booted());
    m.LoadCode(0x1000, SetV0(1));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(m.Run(0x80001000), vmm::VmExit::kHalted);  // decoded, translated
    EXPECT_EQ(m.cpu().gpr[2], 1u);
    const std::vector<uint32_t> code = SetV0(2);
    ASSERT_TRUE(m.vm().guest_memory().Write(0x1000, code.data(), code.size() * 4));
    ASSERT_EQ(m.Run(0x80001000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[2], 2u);
    EXPECT_EQ(m.Read32(0x1000), code[0]);
  }
}

TEST(GuestMemory, DmaBreaksCopyOnWriteSharing) {
  vmm::Monitor monitor(size_t{128} << 20);
  TestMachine a(16u << 20, 16, &monitor), b(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted() && b.booted());
  a.Write32(0x8000, 0x11111111);
  b.Write32(0x8000, 0x11111111);
  ASSERT_GT(vmm::MergeIdenticalPages(a.vm().pmap(), b.vm().pmap()), 0u);
  ASSERT_TRUE(a.vm().pmap().Lookup(0x8000).shared);
  // A guest load caches the shared page in the soft TLB first; after the DMA the guest must read its copy.
  a.LoadCode(0x1000, {E(Opcode::LUI, {.rt = 1, .imm = 0x8001}),
                      E(Opcode::LW, {.rs = 1, .rt = 2, .imm = 0x8000}), kWaitWord});
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
  EXPECT_EQ(a.cpu().gpr[2], 0x11111111u);
  const uint32_t v = 0x22222222;
  ASSERT_TRUE(a.vm().guest_memory().Write(0x8000, &v, 4));
  EXPECT_FALSE(a.vm().pmap().Lookup(0x8000).shared);
  EXPECT_NE(a.vm().pmap().Lookup(0x8000).host, b.vm().pmap().Lookup(0x8000).host);
  EXPECT_EQ(b.Read32(0x8000), 0x11111111u);
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
  EXPECT_EQ(a.cpu().gpr[2], 0x22222222u);
}

// A disk whose blocks all come from one unwritable file (as a read-only image says), except those listed.
class FixedDisk final : public vmm::block::BlockBackend {
 public:
  uint64_t size() const override { return 1u << 20; }
  bool read_only() const override { return true; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t, void*, size_t) override { return EIO; }
  int Write(uint64_t, const void*, size_t) override { return EROFS; }
  int Flush() override { return 0; }
  bool Origin(uint64_t offset, vmm::block::BlockOrigin* origin) const override {
    if (offset == written) return false;
    *origin = {1, 2, offset};
    return true;
  }
  uint64_t written = ~uint64_t{0};

 private:
  std::string path_ = "fixed";
};

// Disk sharing: two VMs reading the same block into whole pages get one machine page; code on the page
// the DMA replaces is dropped; a guest store copies the page; a part page, or a block the disk says was
// written, is copied as usual.
TEST(GuestMemory, DiskReadsOfOneBlockShareOneMachinePageUntilWritten) {
  vmm::Monitor monitor(size_t{128} << 20);
  TestMachine a(16u << 20, 16, &monitor, vmm::Engine::kJit), b(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted() && b.booted());
  vmm::DiskPageCache cache(monitor, 64);
  a.vm().guest_memory().EnableDiskSharing(&a.vm().pmap(), &cache);
  b.vm().guest_memory().EnableDiskSharing(&b.vm().pmap(), &cache);
  FixedDisk disk;
  // The block is the code `ori $2, $0, 2; wait` followed by zeros.
  std::vector<uint8_t> block(8192);
  const std::vector<uint32_t> code = SetV0(2);
  std::memcpy(block.data() + 4096, code.data(), code.size() * 4);
  a.LoadCode(0x1000, SetV0(1));
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);  // translated
  EXPECT_EQ(a.cpu().gpr[2], 1u);
  // Two blocks from disk offset 0 land at 0x0 and 0x1000 (the second is the code); B reads the second too.
  ASSERT_TRUE(a.vm().guest_memory().WriteFromDisk(0x0, block.data(), 8192, disk, 0));
  ASSERT_TRUE(b.vm().guest_memory().WriteFromDisk(0x5000, block.data() + 4096, 4096, disk, 4096));
  EXPECT_EQ(cache.stats().inserts, 2u);
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(a.vm().pmap().Lookup(0x1000).host, b.vm().pmap().Lookup(0x5000).host);
  EXPECT_TRUE(a.vm().pmap().Lookup(0x1000).shared);
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);  // the old translation went with the old page
  EXPECT_EQ(a.cpu().gpr[2], 2u);
  // A's store copies; B still sees the block.
  a.Write32(0x1008, 0xdeadbeef);
  EXPECT_NE(a.vm().pmap().Lookup(0x1000).host, b.vm().pmap().Lookup(0x5000).host);
  EXPECT_EQ(b.Read32(0x5008), 0u);
  EXPECT_EQ(b.Read32(0x5000), code[0]);
  // Not a whole page, or a block written since: copied, not shared.
  ASSERT_TRUE(b.vm().guest_memory().WriteFromDisk(0x7000, block.data() + 4096, 512, disk, 4096));
  EXPECT_FALSE(b.vm().pmap().Lookup(0x7000).shared);
  disk.written = 4096;
  ASSERT_TRUE(b.vm().guest_memory().WriteFromDisk(0x8000, block.data() + 4096, 4096, disk, 4096));
  EXPECT_FALSE(b.vm().pmap().Lookup(0x8000).shared);
  EXPECT_EQ(b.Read32(0x8000), code[0]);
  EXPECT_EQ(cache.stats().hits, 1u);
  // Other bytes for a cached origin replace the entry; VMs that map the old page keep it.
  disk.written = ~uint64_t{0};
  std::vector<uint8_t> other(4096, 0x5A);
  ASSERT_TRUE(a.vm().guest_memory().WriteFromDisk(0x9000, other.data(), 4096, disk, 4096));
  EXPECT_EQ(cache.stats().mismatches, 1u);
  EXPECT_EQ(a.Read32(0x9000), 0x5A5A5A5Au);
  EXPECT_EQ(b.Read32(0x5000), code[0]);
}

// The cache keeps at most its bound: blocks no VM maps any more go first; when every entry is mapped,
// reads are copied instead.
TEST(GuestMemory, TheDiskPageCacheEvictsUnmappedBlocksAndThenCopies) {
  vmm::Monitor monitor(size_t{128} << 20);
  TestMachine a(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted());
  vmm::DiskPageCache cache(monitor, 8);
  a.vm().guest_memory().EnableDiskSharing(&a.vm().pmap(), &cache);
  FixedDisk disk;
  std::vector<uint8_t> block(4096, 1);
  for (uint32_t i = 0; i < 8; ++i)
    ASSERT_TRUE(a.vm().guest_memory().WriteFromDisk(0x10000 + i * 4096, block.data(), 4096, disk, i * 4096));
  EXPECT_EQ(cache.stats().pages, 8u);
  // All 8 are mapped: a ninth block is copied.
  ASSERT_TRUE(a.vm().guest_memory().WriteFromDisk(0x20000, block.data(), 4096, disk, 8 * 4096));
  EXPECT_EQ(cache.stats().refused, 1u);
  EXPECT_FALSE(a.vm().pmap().Lookup(0x20000).shared);
  // The guest overwrites its copies of the first four: those entries are unmapped and can go.
  for (uint32_t i = 0; i < 4; ++i) a.Write32(0x10000 + i * 4096, 7);
  ASSERT_TRUE(a.vm().guest_memory().WriteFromDisk(0x21000, block.data(), 4096, disk, 9 * 4096));
  EXPECT_TRUE(a.vm().pmap().Lookup(0x21000).shared);
  EXPECT_GE(cache.stats().evictions, 1u);
  EXPECT_LE(cache.stats().pages, 8u);
  EXPECT_EQ(a.Read32(0x14000), 0x01010101u);  // the mapped ones stayed
  EXPECT_TRUE(a.vm().pmap().Lookup(0x14000).shared);
}

TEST(GuestMemory, OnlyRamIsReachable) {
  TestMachine m(16u << 20);
  ASSERT_TRUE(m.booted());
  vmm::GuestMemory& mem = m.vm().guest_memory();
  uint8_t buf[16] = {};
  EXPECT_TRUE(mem.IsRam(0, 16u << 20));
  EXPECT_FALSE(mem.IsRam((16u << 20) - 8, 16));  // runs past the end of RAM
  EXPECT_FALSE(mem.Write((16u << 20) - 8, buf, 16));
  EXPECT_FALSE(mem.Read(0x1FC00000, buf, 4));  // the boot ROM
  EXPECT_FALSE(mem.Read(0xFFFFFFF8u, buf, 16));
  EXPECT_TRUE(mem.Write(0x3FFC, buf, 8));  // across a page boundary
}

}  // namespace
}  // namespace strobe::test
