// SPDX-License-Identifier: MIT
// Virtqueues, the legacy virtio-pci transport and virtio-blk against a fake guest memory (a flat RAM behind
// GuestMemory) and an in-memory disk: the test plays the driver, laying out rings and requests the way
// Linux's virtio_ring and virtio_blk do, and checks what the device leaves in memory, on the disk and on
// its interrupt line. Malformed rings must stop the device, never the host.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "tests/vmm/virtio_driver.h"
#include "vmm/block/block_queue.h"
#include "vmm/devices/virtio_blk.h"
#include "vmm/devices/virtio_pci.h"
#include "vmm/devices/virtqueue.h"
#include "vmm/guest_memory.h"

namespace strobe::test {
namespace {

using vmm::VirtioPci;
using vmm::Virtqueue;

// --- Virtqueue alone ---

struct VirtqueueTest : ::testing::Test {
  FakeGuest g;
  Virtqueue q{&g.memory, 16};
  Driver d{g, 0x10, 16};
  void SetUp() override { q.SetLegacy(0x10, 16); }
  Virtqueue::Pop Next(vmm::VirtqChain* c) { return q.Next(c, &error); }
  std::string error;
};

TEST_F(VirtqueueTest, ChainsComeOutInOrderWithTheirBuffers) {
  vmm::VirtqChain c;
  EXPECT_EQ(Next(&c), Virtqueue::Pop::kEmpty);
  d.Chain({{0x1000, 16, false}, {0x2000, 512, true}, {0x3000, 1, true}});
  d.Chain({{0x4000, 8, false}});
  ASSERT_EQ(Next(&c), Virtqueue::Pop::kChain) << error;
  EXPECT_EQ(c.head, 0);
  ASSERT_EQ(c.buffers.size(), 3u);
  EXPECT_EQ(c.buffers[1].addr, 0x2000u);
  EXPECT_TRUE(c.buffers[1].device_writable);
  EXPECT_EQ(c.readable, 16u);
  EXPECT_EQ(c.writable, 513u);
  ASSERT_EQ(Next(&c), Virtqueue::Pop::kChain);
  EXPECT_EQ(c.head, 3);
  EXPECT_EQ(Next(&c), Virtqueue::Pop::kEmpty);

  ASSERT_TRUE(q.Push(0, 513));
  ASSERT_TRUE(q.Push(3, 0));
  EXPECT_EQ(d.used_idx(), 2);
  EXPECT_EQ(d.used_id(0), 0u);
  EXPECT_EQ(d.used_len(0), 513u);
  EXPECT_EQ(d.used_id(1), 3u);
  EXPECT_TRUE(q.NeedInterrupt());
  EXPECT_FALSE(q.NeedInterrupt());  // nothing new since
}

TEST_F(VirtqueueTest, IndirectTablesOnlyWhenNegotiated) {
  vmm::VirtqChain c;
  d.Indirect(0x8000, {{0x1000, 16, false}, {0x2000, 4096, true}, {0x3000, 1, true}});
  EXPECT_EQ(Next(&c), Virtqueue::Pop::kBroken);
  EXPECT_NE(error.find("INDIRECT_DESC"), std::string::npos) << error;
  q.set_indirect(true);
  ASSERT_EQ(Next(&c), Virtqueue::Pop::kChain) << error;
  ASSERT_EQ(c.buffers.size(), 3u);
  EXPECT_EQ(c.writable, 4097u);
}

TEST_F(VirtqueueTest, MalformedChainsAreReportedNotFollowed) {
  q.set_indirect(true);
  struct Case {
    const char* what;
    std::function<void()> make;
    const char* expect;
  };
  const uint32_t t = d.desc();
  std::vector<Case> cases = {
      {"loop", [&] { d.Desc(t, 0, 0x1000, 4, Driver::kNext, 1), d.Desc(t, 1, 0x1000, 4, Driver::kNext, 0); },
       "loop"},
      {"next out of range", [&] { d.Desc(t, 0, 0x1000, 4, Driver::kNext, 99); }, "out of range"},
      {"outside RAM", [&] { d.Desc(t, 0, kRamBytes - 8, 16, 0, 0); }, "outside RAM"},
      {"above 4 GiB", [&] { d.Desc(t, 0, uint64_t{1} << 32, 16, 0, 0); }, "outside RAM"},
      {"readable after writable",
       [&] { d.Desc(t, 0, 0x1000, 4, Driver::kWrite | Driver::kNext, 1), d.Desc(t, 1, 0x1000, 4, 0, 0); },
       "readable buffer after"},
      {"nested indirect",
       [&] {
         d.Desc(t, 0, 0x8000, 16, Driver::kIndirect, 0), d.Desc(0x8000, 0, 0x9000, 16, Driver::kIndirect, 0);
       },
       "nested"},
      {"indirect with next", [&] { d.Desc(t, 0, 0x8000, 16, Driver::kIndirect | Driver::kNext, 1); }, "NEXT"},
      {"indirect odd size", [&] { d.Desc(t, 0, 0x8000, 17, Driver::kIndirect, 0); }, "indirect table"},
      {"indirect loop",
       [&] {
         d.Desc(t, 0, 0x8000, 32, Driver::kIndirect, 0);
         d.Desc(0x8000, 0, 0x1000, 4, Driver::kNext, 1), d.Desc(0x8000, 1, 0x1000, 4, Driver::kNext, 0);
       },
       "loop"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    Virtqueue fresh(&g.memory, 16);
    fresh.SetLegacy(0x10, 16);
    fresh.set_indirect(true);
    std::memset(&g.ram.bytes[t], 0, 16 * 16);
    k.make();
    g.Put<uint16_t>(t + 16 * 16 + 4, 0);  // avail ring[0] = descriptor 0
    g.Put<uint16_t>(t + 16 * 16 + 2, 1);  // avail idx
    vmm::VirtqChain c;
    error.clear();
    EXPECT_EQ(fresh.Next(&c, &error), Virtqueue::Pop::kBroken);
    EXPECT_NE(error.find(k.expect), std::string::npos) << error;
  }
  // An available index that runs more than a ring ahead.
  Virtqueue fresh(&g.memory, 16);
  fresh.SetLegacy(0x10, 16);
  g.Put<uint16_t>(t + 16 * 16 + 2, 40);
  vmm::VirtqChain c;
  EXPECT_EQ(fresh.Next(&c, &error), Virtqueue::Pop::kBroken);
  // A ring placed beyond RAM.
  Virtqueue outside(&g.memory, 16);
  outside.SetLegacy(kRamBytes >> 12, 16);
  EXPECT_EQ(outside.Next(&c, &error), Virtqueue::Pop::kBroken);
}

TEST_F(VirtqueueTest, EventIdxDecidesInterruptsAndAsksForNotifies) {
  q.set_event_idx(true);
  vmm::VirtqChain c;
  for (int i = 0; i < 3; ++i) d.Chain({{0x1000, 4, true}});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Next(&c), Virtqueue::Pop::kChain);
  EXPECT_EQ(Next(&c), Virtqueue::Pop::kEmpty);
  EXPECT_EQ(d.avail_event(), 3);  // notify me when entry 3 is made available
  d.set_used_event(1);            // the driver wants an interrupt once the used index passes 1
  q.Push(0, 4);
  EXPECT_FALSE(q.NeedInterrupt());  // used idx 1: event 1 not passed yet
  q.Push(1, 4);
  EXPECT_TRUE(q.NeedInterrupt());  // 2: passed
  q.Push(2, 4);
  EXPECT_FALSE(q.NeedInterrupt());  // the driver has not moved used_event

  // Without EVENT_IDX: the avail ring's NO_INTERRUPT flag.
  Virtqueue plain(&g.memory, 16);
  plain.SetLegacy(0x10, 16);
  d.set_avail_flags(1);
  plain.Push(0, 0);
  EXPECT_FALSE(plain.NeedInterrupt());
  d.set_avail_flags(0);
  plain.Push(0, 0);
  EXPECT_TRUE(plain.NeedInterrupt());
}

// --- virtio-blk through the legacy PCI registers ---

// An in-memory disk that counts the host requests it serves.
class CountingDisk final : public vmm::block::BlockBackend {
 public:
  explicit CountingDisk(size_t bytes, bool read_only = false) : data(bytes), read_only_(read_only) {
    std::mt19937 rng(5);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
  }
  uint64_t size() const override { return data.size(); }
  bool read_only() const override { return read_only_; }
  const std::string& path() const override { return name_; }
  int Read(uint64_t offset, void* buffer, size_t length) override {
    if (int err = CheckRange(offset, length)) return err;
    std::memcpy(buffer, data.data() + offset, length);
    return 0;
  }
  int Write(uint64_t offset, const void* buffer, size_t length) override {
    if (read_only_) return EROFS;
    if (int err = CheckRange(offset, length)) return err;
    std::memcpy(data.data() + offset, buffer, length);
    return 0;
  }
  int Flush() override {
    std::lock_guard<std::mutex> lock(mu);
    log += 'f';
    return 0;
  }
  int ReadV(uint64_t offset, const iovec* segments, int count) override {
    Note('r', count);
    return BlockBackend::ReadV(offset, segments, count);
  }
  int WriteV(uint64_t offset, const iovec* segments, int count) override {
    Note('w', count);
    return BlockBackend::WriteV(offset, segments, count);
  }
  // d<first sector>+<sectors>, z<first sector>+<sectors>[u] (may unmap); a discard forgets by zeroing.
  int Discard(uint64_t offset, uint64_t length) override {
    if (int err = BlockBackend::Discard(offset, length)) return err;
    NoteRange('d', offset, length, false);
    std::memset(data.data() + offset, 0, length);
    return 0;
  }
  int WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap) override {
    NoteRange('z', offset, length, may_unmap);
    return BlockBackend::WriteZeroes(offset, length, may_unmap);
  }
  void NoteRange(char op, uint64_t offset, uint64_t length, bool unmap) {
    std::lock_guard<std::mutex> lock(mu);
    log += op + std::to_string(offset / 512) + "+" + std::to_string(length / 512) + (unmap ? "u" : "");
  }
  void Note(char op, int segments) {
    std::lock_guard<std::mutex> lock(mu);
    log += op + std::to_string(segments);
  }
  std::vector<uint8_t> data;
  std::mutex mu;
  std::string log;  // r<segments>, w<segments>, f

 private:
  std::string name_ = "counting";
  bool read_only_;
};

constexpr uint32_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0C,
                   kQueueSel = 0x0E, kNotify = 0x10, kStatus = 0x12, kIsr = 0x13, kCfg = 0x14;
constexpr uint32_t kRingPfn = 0x10;

struct VirtioBlkTest : ::testing::Test {
  explicit VirtioBlkTest(bool read_only = false, bool write_cache = true)
      : disk(1u << 20, read_only),
        queue(disk, completions),
        blk({&disk, &queue, "STROBE-VIRTIO-SERIAL-TOO-LONG", write_cache}),
        pci(&blk, &g.memory, "virtio-blk test"),
        d(g, kRingPfn, vmm::VirtioBlk::kQueueSize) {}
  // What Linux's legacy probe does: reset, ACKNOWLEDGE|DRIVER, features, the queue, DRIVER_OK.
  void Start(uint32_t features) {
    pci.Write(kStatus, 1, 0);
    pci.Write(kStatus, 1, 3);
    pci.Write(kGuestFeatures, 4, pci.Read(kHostFeatures, 4) & features);
    pci.Write(kQueueSel, 2, 0);
    ASSERT_EQ(pci.Read(kQueueSize, 2), vmm::VirtioBlk::kQueueSize);
    pci.Write(kQueuePfn, 4, kRingPfn);
    pci.Write(kStatus, 1, 7);
  }
  // A request: header at 0x20000 + 32 * n, status byte at 0x21000 + n, data buffers as given.
  uint16_t Request(unsigned n, uint32_t type, uint64_t sector, std::vector<Driver::Buf> data) {
    const uint32_t header = 0x20000 + 32 * n, status = 0x21000 + n;
    g.Put<uint32_t>(header, type);
    g.Put<uint32_t>(header + 4, 0);
    g.Put<uint64_t>(header + 8, sector);
    g.Put<uint8_t>(status, 0xAA);
    std::vector<Driver::Buf> bufs = {{header, 16, false}};
    bufs.insert(bufs.end(), data.begin(), data.end());
    bufs.push_back({status, 1, true});
    return d.Chain(bufs);
  }
  uint8_t Status(unsigned n) { return g.Get<uint8_t>(0x21000 + n); }
  void Notify() { pci.Write(kNotify, 2, 0); }
  // Waits for the worker, then runs the completions here (the vCPU thread's job).
  void Complete() {
    while (queue.in_flight()) std::this_thread::yield();
    completions.RunCompletions();
  }
  uint32_t Config32(uint32_t off) { return pci.Read(kCfg + off, 4); }

  FakeGuest g;
  CountingDisk disk;
  vmm::block::CompletionList completions;
  vmm::block::BlockQueue queue;
  vmm::VirtioBlk blk;
  VirtioPci pci;
  Driver d;
};

TEST_F(VirtioBlkTest, PciIdentityAndConfiguration) {
  EXPECT_EQ(pci.ReadConfig(0x00), 0x10011AF4u);     // transitional virtio-blk
  EXPECT_EQ(pci.ReadConfig(0x08), 0x01000000u);     // class 0x010000, revision 0 (the legacy ABI)
  EXPECT_EQ(pci.ReadConfig(0x2C), 0x00021AF4u);     // subsystem: virtio device type 2
  EXPECT_EQ(pci.ReadConfig(0x3C) >> 8 & 0xFF, 1u);  // INTA
  EXPECT_EQ(pci.ReadConfig(0x04), 0x00100000u);     // command 0; status: capabilities (the modern ones)
  pci.WriteConfig(0x10, 0xFFFFFFFFu);
  EXPECT_EQ(pci.ReadConfig(0x10), 0x0000FF81u);  // 128 I/O ports, as QEMU's
  const uint32_t f = pci.Read(kHostFeatures, 4);
  EXPECT_EQ(f & ((1u << 2) | (1u << 6) | (1u << 9) | (1u << 11) | (1u << 28) | (1u << 29)),
            (1u << 2) | (1u << 6) | (1u << 9) | (1u << 11) | (1u << 28) | (1u << 29));
  EXPECT_EQ(f & (1u << 5), 0u);                                            // not read-only
  EXPECT_EQ(Config32(0) | uint64_t{Config32(4)} << 32, (1u << 20) / 512);  // capacity in sectors
  EXPECT_EQ(Config32(0x08), vmm::VirtioBlk::kSizeMax);
  EXPECT_EQ(Config32(0x0C), 254u);             // seg_max
  EXPECT_EQ(Config32(0x14), 512u);             // blk_size
  EXPECT_EQ(pci.Read(kCfg + 0x20, 1), 1u);     // writeback
  EXPECT_EQ(pci.Read(kCfg + 0x01, 1), 0x08u);  // byte reads, as the legacy driver does them: 2048 = 0x800
  // DISCARD and WRITE_ZEROES with QEMU 7.2's limits (what Linux shows in /sys/block/vda/queue under both).
  EXPECT_EQ(f & ((1u << 13) | (1u << 14)), (1u << 13) | (1u << 14));
  EXPECT_EQ(Config32(0x24), 0x3FFFFFu);     // max_discard_sectors
  EXPECT_EQ(Config32(0x28), 1u);            // max_discard_seg
  EXPECT_EQ(Config32(0x2C), 1u);            // discard_sector_alignment
  EXPECT_EQ(Config32(0x30), 0x3FFFFFu);     // max_write_zeroes_sectors
  EXPECT_EQ(Config32(0x34), 1u);            // max_write_zeroes_seg
  EXPECT_EQ(pci.Read(kCfg + 0x38, 1), 1u);  // write_zeroes_may_unmap
}

// DISCARD (11) and WRITE_ZEROES (13): one 16-byte range after the header; the statuses QEMU gives.
TEST_F(VirtioBlkTest, DiscardsAndZeroWritesReachTheDiskWithQemusStatuses) {
  Start(~0u);
  const auto range = [&](uint32_t at, uint64_t sector, uint32_t count, uint32_t flags) {
    g.Put<uint64_t>(at, sector);
    g.Put<uint32_t>(at + 8, count);
    g.Put<uint32_t>(at + 12, flags);
    return Driver::Buf{at, 16, false};
  };
  Request(0, 11, 0, {range(0x30000, 8, 16, 0)});        // discard sectors 8-23
  Request(1, 13, 0, {range(0x30010, 100, 4, 0)});       // zeros in 100-103
  Request(2, 13, 0, {range(0x30020, 200, 1, 1)});       // zeros, may unmap
  Request(3, 11, 0, {range(0x30030, 0, 1, 1)});         // UNMAP on a discard: UNSUPP
  Request(4, 13, 0, {range(0x30040, 0, 1, 2)});         // an unknown flag: UNSUPP
  Request(5, 11, 0, {range(0x30050, 2047, 2, 0)});      // past the end: IOERR
  Request(6, 13, 0, {range(0x30060, 0, 0x400000, 0)});  // over max_write_zeroes_sectors: IOERR
  Request(7, 11, 0, {range(0x30070, 0, 1, 0), range(0x30080, 4, 1, 0)});  // two ranges: UNSUPP
  Request(8, 11, 0, {range(0x30090, 2047, 1, 0)});                        // the last sector: fine
  Notify();
  Complete();
  const uint8_t want[] = {0, 0, 0, 2, 2, 1, 1, 2, 0};
  for (unsigned i = 0; i < 9; ++i) EXPECT_EQ(Status(i), want[i]) << i;
  EXPECT_EQ(disk.log, "d8+16z100+4z200+1ud2047+1");
  EXPECT_EQ(d.used_idx(), 9);
  EXPECT_EQ(d.used_len(1), 1u);  // only the status byte
  const std::vector<uint8_t> zeros(16 * 512, 0);
  EXPECT_EQ(std::memcmp(&disk.data[8 * 512], zeros.data(), 16 * 512), 0);
  EXPECT_EQ(std::memcmp(&disk.data[100 * 512], zeros.data(), 4 * 512), 0);
  EXPECT_NE(disk.data[104 * 512] | disk.data[104 * 512 + 1] | disk.data[104 * 512 + 2], 0);  // untouched
  EXPECT_FALSE(pci.broken());
  // With the write cache off a zero write is on stable storage before it completes, as a write.
  disk.log.clear();
  pci.Write(kCfg + 0x20, 1, 0);
  Request(9, 13, 0, {range(0x300A0, 300, 2, 0)});
  Notify();
  Complete();
  EXPECT_EQ(Status(9), 0);
  EXPECT_EQ(disk.log, "z300+2f");
  // A range cut short is a malformed request, as QEMU's virtio_error: the device stops.
  Request(10, 11, 0, {{0x300B0, 8, false}});
  Notify();
  EXPECT_TRUE(pci.broken());
}

TEST_F(VirtioBlkTest, ReadsWritesFlushAndGetIdComplete) {
  Start(~0u);
  // Read sectors 4-11 into two buffers.
  Request(0, 0, 4, {{0x30000, 1024, true}, {0x31000, 3072, true}});
  Notify();
  EXPECT_EQ(Status(0), 0xAA);  // not before the completion runs
  Complete();
  EXPECT_EQ(Status(0), 0);
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x30000], &disk.data[4 * 512], 1024), 0);
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x31000], &disk.data[6 * 512], 3072), 0);
  EXPECT_EQ(d.used_idx(), 1);
  EXPECT_EQ(d.used_len(0), 4097u);
  EXPECT_TRUE(pci.intx_asserted());
  EXPECT_EQ(pci.Read(kIsr, 1), 1u);  // queue interrupt; reading it lowers the line
  EXPECT_FALSE(pci.intx_asserted());
  EXPECT_EQ(pci.Read(kIsr, 1), 0u);

  // Write sector 100 from a buffer whose first 16 bytes are the header (ANY_LAYOUT-style split).
  for (unsigned i = 0; i < 512; ++i) g.ram.bytes[0x40010 + i] = static_cast<uint8_t>(i * 7);
  g.Put<uint32_t>(0x40000, 1);
  g.Put<uint32_t>(0x40004, 0);
  g.Put<uint64_t>(0x40008, 100);
  d.Chain({{0x40000, 16 + 512, false}, {0x21005, 1, true}});
  Request(1, 4, 0, {});                     // flush
  Request(2, 8, 0, {{0x50000, 20, true}});  // GET_ID
  Request(3, 99, 0, {});                    // unknown type
  Notify();
  Complete();
  EXPECT_EQ(g.Get<uint8_t>(0x21005), 0);
  EXPECT_EQ(std::memcmp(&disk.data[100 * 512], &g.ram.bytes[0x40010], 512), 0);
  EXPECT_EQ(Status(1), 0);
  EXPECT_EQ(Status(2), 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&g.ram.bytes[0x50000]), 20), "STROBE-VIRTIO-SERIAL");
  EXPECT_EQ(Status(3), 2);  // UNSUPP
  EXPECT_EQ(d.used_idx(), 5);
  EXPECT_NE(disk.log.find("w1f"), std::string::npos) << disk.log;  // the write, then the guest's flush
}

TEST_F(VirtioBlkTest, AdjacentRequestsOfOneNotifyAreMergedAndOthersStayApart) {
  Start(~0u);
  // Four 4 KiB reads of sectors 0-31 (as readahead sends them), then one far away, then a write.
  for (unsigned i = 0; i < 4; ++i) Request(i, 0, 8 * i, {{0x60000 + 0x1000 * i, 4096, true}});
  Request(4, 0, 1000, {{0x70000, 512, true}});
  for (unsigned i = 0; i < 512; ++i) g.ram.bytes[0x71000 + i] = 0x5A;
  Request(5, 1, 1001, {{0x71000, 512, false}});
  Notify();
  Complete();
  EXPECT_EQ(disk.log, "r4r1w1");  // one host read of 4 segments, then the others
  EXPECT_EQ(blk.guest_requests(), 6u);
  EXPECT_EQ(blk.host_requests(), 3u);
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(Status(i), 0) << i;
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x60000], disk.data.data(), 16384), 0);
  EXPECT_EQ(disk.data[1001 * 512], 0x5A);
  EXPECT_EQ(d.used_idx(), 6);
}

TEST_F(VirtioBlkTest, BadRangesFailWithIoErrorAndTheDeviceGoesOn) {
  Start(~0u);
  Request(0, 0, 2047, {{0x30000, 1024, true}});  // runs past the end (2048 sectors)
  Request(1, 0, ~uint64_t{0}, {{0x30000, 512, true}});
  Request(2, 0, 0, {{0x30000, 100, true}});     // not whole sectors
  Request(3, 0, 2047, {{0x30000, 512, true}});  // the last sector: fine
  Notify();
  Complete();
  EXPECT_EQ(Status(0), 1);
  EXPECT_EQ(Status(1), 1);
  EXPECT_EQ(Status(2), 1);
  EXPECT_EQ(Status(3), 0);
  EXPECT_FALSE(pci.broken());
}

TEST_F(VirtioBlkTest, AMalformedRequestStopsTheDeviceUntilReset) {
  Start(~0u);
  g.Put<uint32_t>(0x20000, 0);
  d.Chain({{0x20000, 16, false}, {0x30000, 512, true}});  // well formed (511 data bytes: IOERR)
  d.Chain({{0x20000, 8, false}});                         // a header cut short, no status byte
  Notify();
  EXPECT_TRUE(pci.broken());
  EXPECT_TRUE(pci.status() & vmm::virtio::kStatusNeedsReset);
  const uint16_t used = d.used_idx();
  Request(9, 0, 0, {{0x30000, 512, true}});
  Notify();  // ignored while broken
  Complete();
  EXPECT_EQ(Status(9), 0xAA);
  EXPECT_EQ(d.used_idx(), used);
  pci.Write(kStatus, 1, 0);  // reset
  EXPECT_FALSE(pci.broken());
  EXPECT_EQ(pci.Read(kStatus, 1), 0u);
  EXPECT_EQ(pci.Read(kQueuePfn, 4), 0u);
}

TEST_F(VirtioBlkTest, ResetDropsCompletionsOfRequestsInFlight) {
  Start(~0u);
  Request(0, 0, 0, {{0x30000, 4096, true}});
  Notify();
  pci.Write(kStatus, 1, 0);
  Complete();
  EXPECT_EQ(Status(0), 0xAA);
  EXPECT_FALSE(pci.intx_asserted());
}

TEST_F(VirtioBlkTest, IndirectDescriptorsAsLinuxUsesThem) {
  Start(~0u);
  g.Put<uint32_t>(0x20000, 0);
  g.Put<uint64_t>(0x20008, 10);
  d.Indirect(0x9000,
             {{0x20000, 16, false}, {0x30000, 2048, true}, {0x31000, 2048, true}, {0x21000, 1, true}});
  Notify();
  Complete();
  EXPECT_EQ(Status(0), 0);
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x30000], &disk.data[10 * 512], 2048), 0);
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x31000], &disk.data[14 * 512], 2048), 0);
}

TEST_F(VirtioBlkTest, TurningTheWriteCacheOffFlushesEveryWrite) {
  Start(~0u);
  pci.Write(kCfg + 0x20, 1, 0);  // writeback = 0 (CONFIG_WCE negotiated)
  EXPECT_FALSE(blk.guest_write_cache());
  Request(0, 1, 0, {{0x30000, 512, false}});
  Notify();
  Complete();
  EXPECT_EQ(Status(0), 0);
  EXPECT_EQ(disk.log, "w1f");  // the flush comes before the completion
}

TEST_F(VirtioBlkTest, ADriverWithoutFlushGetsWriteThrough) {
  Start(0);
  Request(0, 1, 0, {{0x30000, 512, false}});
  Notify();
  Complete();
  EXPECT_EQ(Status(0), 0);
  EXPECT_EQ(disk.log, "w1f");
}

// The modern interface through BAR4, as Linux's virtio_pci_modern_dev drives it.
TEST_F(VirtioBlkTest, ModernInterfaceThroughTheCapabilitiesAndBar4) {
  EXPECT_EQ(pci.ReadConfig(0x04) >> 16 & 0x10, 0x10u);  // a capability list
  pci.WriteConfig(0x20, 0xFFFFFFFFu);
  pci.WriteConfig(0x24, 0xFFFFFFFFu);
  EXPECT_EQ(pci.ReadConfig(0x20), 0xFFFFC00Cu);  // 16 KiB, 64-bit, prefetchable
  EXPECT_EQ(pci.ReadConfig(0x24), 0xFFFFFFFFu);
  pci.WriteConfig(0x20, 0x10084000u);
  pci.WriteConfig(0x24, 0);
  pci.WriteConfig(0x04, 0x0002);  // memory space on
  vmm::Device* bar4 = nullptr;
  for (const vmm::PciWindow& w : pci.Windows())
    if (w.space == vmm::PciSpace::kMemory && w.base == 0x10084000u && w.size == 0x4000) bar4 = w.device;
  ASSERT_NE(bar4, nullptr);
  pci.WriteConfig(0x24, 1);  // above 4 GiB: out of the CPU's reach
  EXPECT_TRUE(pci.Windows().empty());
  pci.WriteConfig(0x24, 0);

  // The capabilities: common, ISR, device, notify (with its multiplier), all in BAR4.
  std::vector<std::pair<uint32_t, uint32_t>> found;  // (type, offset)
  for (uint32_t at = pci.ReadConfig(0x34) & 0xFF; at; at = pci.ReadConfig(at) >> 8 & 0xFF) {
    const uint32_t head = pci.ReadConfig(at);
    ASSERT_EQ(head & 0xFF, 0x09u);                 // vendor-specific
    EXPECT_EQ(pci.ReadConfig(at + 4) & 0xFF, 4u);  // BAR4
    found.push_back({head >> 24, pci.ReadConfig(at + 8)});
    if (head >> 24 == 2) EXPECT_EQ(pci.ReadConfig(at + 16), 4u);
  }
  EXPECT_EQ(found,
            (std::vector<std::pair<uint32_t, uint32_t>>{{1, 0}, {3, 0x1000}, {4, 0x2000}, {2, 0x3000}}));

  // Features by select; VERSION_1 is bit 32.
  bar4->Write(0x00, 4, 1);
  EXPECT_EQ(bar4->Read(0x04, 4), 1u);
  bar4->Write(0x00, 4, 0);
  EXPECT_EQ(bar4->Read(0x04, 4) & (1u << 27), 0u);  // no legacy ANY_LAYOUT on the modern side
  bar4->Write(0x14, 1, 0);
  bar4->Write(0x14, 1, 3);
  bar4->Write(0x08, 4, 0);
  bar4->Write(0x0C, 4, 1u << 9);  // FLUSH, but no VERSION_1: FEATURES_OK does not stick
  bar4->Write(0x14, 1, 0x0B);
  EXPECT_EQ(bar4->Read(0x14, 1) & 0x08, 0u);
  bar4->Write(0x08, 4, 1);
  bar4->Write(0x0C, 4, 1);
  bar4->Write(0x14, 1, 0x0B);
  EXPECT_EQ(bar4->Read(0x14, 1) & 0x08, 0x08u);
  EXPECT_EQ(bar4->Read(0x12, 2), 1u);       // one queue
  EXPECT_EQ(bar4->Read(0x10, 2), 0xFFFFu);  // no MSI-X vector
  bar4->Write(0x16, 2, 0);
  EXPECT_EQ(bar4->Read(0x18, 2), 256u);
  EXPECT_EQ(bar4->Read(0x1E, 2), 0u);  // notify offset
  // The same ring layout as the legacy one, given part by part (64-bit fields in two halves).
  const uint32_t desc = kRingPfn << 12, avail = desc + 16 * 256, used = (avail + 6 + 2 * 256 + 4095) & ~4095u;
  for (auto [off, v] : {std::pair{0x20u, desc}, {0x28u, avail}, {0x30u, used}}) {
    bar4->Write(off, 4, v);
    bar4->Write(off + 4, 4, 0);
  }
  EXPECT_EQ(bar4->Read(0x28, 4), avail);
  bar4->Write(0x1C, 2, 1);
  EXPECT_EQ(bar4->Read(0x1C, 2), 1u);
  bar4->Write(0x14, 1, 0x0F);               // DRIVER_OK
  EXPECT_EQ(bar4->Read(0x2000, 4), 2048u);  // capacity, in the device region

  Request(0, 0, 16, {{0x30000, 4096, true}});
  bar4->Write(0x3000, 2, 0);  // notify queue 0
  Complete();
  EXPECT_EQ(Status(0), 0);
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x30000], &disk.data[16 * 512], 4096), 0);
  EXPECT_TRUE(pci.intx_asserted());
  EXPECT_EQ(bar4->Read(0x1000, 1), 1u);  // ISR, cleared by the read
  EXPECT_FALSE(pci.intx_asserted());
  bar4->Write(0x14, 1, 0);  // reset through the modern side
  EXPECT_EQ(bar4->Read(0x1C, 2), 0u);
  EXPECT_EQ(pci.Read(kStatus, 1), 0u);
}

// Garbage rings: random descriptor tables, available rings and headers must never hurt the host. Each
// round either completes requests or stops the device, which a reset brings back.
TEST_F(VirtioBlkTest, RandomRingsNeverCrashTheHost) {
  std::mt19937 rng(2026);
  unsigned broken = 0;
  for (int round = 0; round < 300; ++round) {
    Start(~0u);
    const uint32_t ring = kRingPfn << 12;
    RandomRing(g, ring, vmm::VirtioBlk::kQueueSize, 64, rng);
    g.Put<uint16_t>(ring + 0x1000 + 2, static_cast<uint16_t>(rng() % 300));  // avail idx
    Notify();
    Complete();
    broken += pci.broken();
  }
  EXPECT_GT(broken, 0u);
  Start(~0u);  // a reset device works again
  Driver fresh(g, kRingPfn, vmm::VirtioBlk::kQueueSize);
  std::memset(&g.ram.bytes[kRingPfn << 12], 0, 0x3000);
  g.Put<uint32_t>(0x20000, 0);
  g.Put<uint64_t>(0x20008, 0);
  fresh.Chain({{0x20000, 16, false}, {0x30000, 512, true}, {0x21000, 1, true}});
  Notify();
  Complete();
  EXPECT_EQ(g.Get<uint8_t>(0x21000), 0);
  EXPECT_EQ(std::memcmp(&g.ram.bytes[0x30000], disk.data.data(), 512), 0);
}

struct VirtioBlkReadOnlyTest : VirtioBlkTest {
  VirtioBlkReadOnlyTest() : VirtioBlkTest(true, true) {}
};

TEST_F(VirtioBlkReadOnlyTest, ReadOnlyDrivesSayRoAndFailWrites) {
  EXPECT_NE(pci.Read(kHostFeatures, 4) & (1u << 5), 0u);
  Start(~0u);
  Request(0, 1, 0, {{0x30000, 512, false}});
  g.Put<uint64_t>(0x31000, 0);
  g.Put<uint64_t>(0x31008, 1);  // sector 0, one sector, no flags
  Request(1, 11, 0, {{0x31000, 16, false}});
  Request(2, 13, 0, {{0x31000, 16, false}});
  Notify();
  Complete();
  EXPECT_EQ(Status(0), 1);
  EXPECT_EQ(Status(1), 1);  // EROFS from the disk: IOERR, as QEMU's EPERM
  EXPECT_EQ(Status(2), 1);
}

}  // namespace
}  // namespace strobe::test
