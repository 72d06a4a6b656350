// SPDX-License-Identifier: MIT
// virtio-net behind the virtio-pci transport against a fake guest memory: the test plays Linux's
// virtio_net driver (legacy and modern interfaces), laying out receive and transmit rings, and checks the
// frames the device hands to its backend, what it writes into posted receive buffers (with and without
// mergeable buffers), the flow control through a NetPort when the ring is empty, and that malformed rings
// stop the device with one line, never the host.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/support/test_machine.h"
#include "tests/vmm/virtio_driver.h"
#include "vmm/block/block_queue.h"
#include "vmm/devices/virtio_net.h"
#include "vmm/devices/virtio_pci.h"
#include "vmm/net/net_port.h"
#include "vmm/vm.h"

namespace strobe::test {
namespace {

using vmm::VirtioNet;
using vmm::VirtioPci;

constexpr std::array<uint8_t, 6> kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
// Legacy registers (virtio 4.1.4.8).
constexpr uint32_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0C,
                   kQueueSel = 0x0E, kNotify = 0x10, kStatus = 0x12, kIsr = 0x13, kCfg = 0x14;
constexpr uint32_t kRxPfn = 0x10, kTxPfn = 0x20;  // the two rings of 256 entries, 64 KiB apart
constexpr uint32_t kRxBufs = 0x40000, kTxBufs = 0x80000;
constexpr uint8_t kNeedsReset = 0x40;

std::vector<uint8_t> Frame(size_t length, uint8_t seed) {
  std::vector<uint8_t> f(length);
  for (size_t i = 0; i < length; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  std::memcpy(f.data(), kMac.data(), 6);
  f[12] = 0x08;
  f[13] = 0x00;
  return f;
}

// A guest with one virtio-net device and the driver's two rings.
struct Rig {
  Rig() : net(kMac), pci(&net, &g.memory, "virtio-net 00:12.0"), rx(g, kRxPfn, 256), tx(g, kTxPfn, 256) {
    net.set_transmit([this](const uint8_t* f, size_t n) { sent.emplace_back(f, f + n); });
    net.set_rx_ready([this] { ++rx_ready; });
  }
  // What Linux's legacy probe and open do: reset, ACKNOWLEDGE|DRIVER, features, both queues, DRIVER_OK.
  // The rings start empty.
  void Start(uint32_t features) {
    pci.Write(kStatus, 1, 0);
    std::memset(&g.ram.bytes[kRxPfn << 12], 0, 0x20000);
    rx.Restart();
    tx.Restart();
    posted_ = sends_ = 0;
    pci.Write(kStatus, 1, 3);
    pci.Write(kGuestFeatures, 4, pci.Read(kHostFeatures, 4) & features);
    for (uint32_t q : {0u, 1u}) {
      pci.Write(kQueueSel, 2, q);
      EXPECT_EQ(pci.Read(kQueueSize, 2), VirtioNet::kQueueSize);
      pci.Write(kQueuePfn, 4, q == 0 ? kRxPfn : kTxPfn);
    }
    pci.Write(kStatus, 1, 7);
  }
  // Receive buffers of `size` bytes each, one descriptor per buffer (as Linux posts them), then a notify.
  void PostRx(unsigned count, uint32_t size) {
    for (unsigned i = 0; i < count; ++i) rx.Chain({{kRxBufs + 0x1000 * posted_++, size, true}});
    pci.Write(kNotify, 2, 0);
  }
  // A frame to send: the header (zeros) and the frame in one buffer, or split as given.
  void Send(const std::vector<uint8_t>& frame, size_t header, bool split = false) {
    const uint32_t at = kTxBufs + 0x4000 * sends_++;
    for (size_t i = 0; i < header; ++i) g.Put<uint8_t>(static_cast<uint32_t>(at + i), 0);
    std::memcpy(&g.ram.bytes[at + header], frame.data(), frame.size());
    const uint32_t all = static_cast<uint32_t>(header + frame.size());
    if (!split) {
      tx.Chain({{at, all, false}});
    } else {  // the header alone, then the frame in two pieces
      tx.Chain({{at, static_cast<uint32_t>(header), false},
                {at + static_cast<uint32_t>(header), 20, false},
                {at + static_cast<uint32_t>(header) + 20, all - static_cast<uint32_t>(header) - 20, false}});
    }
    pci.Write(kNotify, 2, 1);
  }
  std::vector<uint8_t> Bytes(uint32_t at, size_t n) const {
    return std::vector<uint8_t>(g.ram.bytes.begin() + at, g.ram.bytes.begin() + at + n);
  }
  uint8_t status() { return static_cast<uint8_t>(pci.Read(kStatus, 1)); }

  FakeGuest g;
  VirtioNet net;
  VirtioPci pci;
  Driver rx, tx;
  std::vector<std::vector<uint8_t>> sent;
  int rx_ready = 0;
  unsigned posted_ = 0, sends_ = 0;
};

struct VirtioNetTest : ::testing::Test, Rig {};

TEST_F(VirtioNetTest, PciIdentityFeaturesAndConfiguration) {
  EXPECT_EQ(pci.ReadConfig(0x00), 0x10001AF4u);  // transitional virtio-net
  EXPECT_EQ(pci.ReadConfig(0x08), 0x02000000u);  // Ethernet, revision 0
  EXPECT_EQ(pci.ReadConfig(0x2C), 0x00011AF4u);  // subsystem: virtio device type 1
  pci.WriteConfig(0x10, 0xFFFFFFFFu);
  EXPECT_EQ(pci.ReadConfig(0x10), 0x0000FFE1u);  // 32 I/O ports, as QEMU's (0x14 + 8 bytes of config)
  // Only what is implemented: MAC, MRG_RXBUF, STATUS; no offloads, no control queue.
  EXPECT_EQ(pci.Read(kHostFeatures, 4) & 0x00FFFFFFu, (1u << 5) | (1u << 15) | (1u << 16));
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(pci.Read(kCfg + i, 1), kMac[i]);
  EXPECT_EQ(pci.Read(kCfg + 6, 2), 1u);  // VIRTIO_NET_S_LINK_UP
  pci.Write(kQueueSel, 2, 2);
  EXPECT_EQ(pci.Read(kQueueSize, 2), 0u);  // two queues: no control queue
  // A legacy driver may set its address through the configuration; a reset brings QEMU's back.
  Start(~0u);
  pci.Write(kCfg + 5, 1, 0x99);
  EXPECT_EQ(pci.Read(kCfg + 5, 1), 0x99u);
  pci.Write(kStatus, 1, 0);
  EXPECT_EQ(pci.Read(kCfg + 5, 1), 0x57u);
}

TEST_F(VirtioNetTest, TransmitsFramesWithoutTheirHeader) {
  Start(1u << 5 | 1u << 16);  // no MRG_RXBUF: the 10-byte legacy header
  EXPECT_EQ(net.header_bytes(), 10u);
  const auto a = Frame(60, 1), b = Frame(1514, 2);
  Send(a, 10);
  Send(b, 10, true);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0], a);
  EXPECT_EQ(sent[1], b);
  EXPECT_EQ(tx.used_idx(), 2);
  EXPECT_EQ(tx.used_len(1), 0u);  // nothing written into a transmit chain
  EXPECT_TRUE(pci.intx_asserted());
  EXPECT_EQ(pci.Read(kIsr, 1), 1u);
  EXPECT_FALSE(pci.intx_asserted());

  // With MRG_RXBUF the header has num_buffers: 12 bytes on both queues.
  Start(~0u);
  EXPECT_EQ(net.header_bytes(), 12u);
  Send(a, 12);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2], a);
  EXPECT_EQ(status() & kNeedsReset, 0);
}

TEST_F(VirtioNetTest, ReceivesIntoAPostedBufferBehindTheLegacyHeader) {
  Start(1u << 5 | 1u << 16);
  EXPECT_FALSE(net.CanReceive(100));  // no buffer yet
  PostRx(2, 1526);
  EXPECT_EQ(rx_ready, 1);  // the notify told the port
  ASSERT_TRUE(net.CanReceive(100));
  const auto f = Frame(100, 3);
  net.Receive(f.data(), f.size());
  ASSERT_EQ(rx.used_idx(), 1);
  EXPECT_EQ(rx.used_id(0), 0u);
  EXPECT_EQ(rx.used_len(0), 110u);
  EXPECT_EQ(Bytes(kRxBufs, 10), std::vector<uint8_t>(10, 0));  // no flags, GSO_NONE
  EXPECT_EQ(Bytes(kRxBufs + 10, 100), f);
  EXPECT_TRUE(pci.intx_asserted());

  // Too large for a buffer: dropped, and the buffer stays for the next frame.
  const auto big = Frame(2000, 4);
  net.Receive(big.data(), big.size());
  EXPECT_EQ(rx.used_idx(), 1);
  EXPECT_EQ(net.rx_dropped(), 1u);
  const auto small = Frame(60, 5);
  net.Receive(small.data(), small.size());
  ASSERT_EQ(rx.used_idx(), 2);
  EXPECT_EQ(rx.used_id(1), 1u);
  EXPECT_EQ(Bytes(kRxBufs + 0x1000 + 10, 60), small);
  EXPECT_FALSE(net.CanReceive(60));  // both buffers used
}

TEST_F(VirtioNetTest, MergeableBuffersSpreadAFrameAndCountThem) {
  Start(~0u);
  PostRx(3, 1000);
  EXPECT_FALSE(net.CanReceive(3000));  // 3,012 bytes do not fit in 3,000: the frame would wait
  ASSERT_TRUE(net.CanReceive(2500));
  EXPECT_EQ(rx.used_idx(), 0);  // asking takes nothing
  const auto f = Frame(2500, 6);
  net.Receive(f.data(), f.size());
  ASSERT_EQ(rx.used_idx(), 3);
  EXPECT_EQ(rx.used_len(0), 1000u);
  EXPECT_EQ(rx.used_len(1), 1000u);
  EXPECT_EQ(rx.used_len(2), 512u);
  EXPECT_EQ(g.Get<uint16_t>(kRxBufs + 10), 3);  // num_buffers
  std::vector<uint8_t> got = Bytes(kRxBufs + 12, 988);
  const auto second = Bytes(kRxBufs + 0x1000, 1000), third = Bytes(kRxBufs + 0x2000, 512);
  got.insert(got.end(), second.begin(), second.end());
  got.insert(got.end(), third.begin(), third.end());
  EXPECT_EQ(got, f);

  // A frame that fits one buffer uses one, and says so.
  PostRx(1, 1000);
  const auto s = Frame(64, 7);
  net.Receive(s.data(), s.size());
  ASSERT_EQ(rx.used_idx(), 4);
  EXPECT_EQ(rx.used_len(3), 76u);
  EXPECT_EQ(g.Get<uint16_t>(kRxBufs + 0x3000 + 10), 1);
  EXPECT_EQ(Bytes(kRxBufs + 0x3000 + 12, 64), s);
}

// The modern interface (BAR4), which Linux's virtio_pci takes when it finds the capabilities: VERSION_1
// makes the header 12 bytes even without MRG_RXBUF, and the MAC is read-only there.
TEST_F(VirtioNetTest, ModernInterfaceUsesTheTwelveByteHeader) {
  pci.WriteConfig(0x20, 0x10080000u);
  pci.WriteConfig(0x24, 0);
  pci.WriteConfig(0x04, 0x0002);
  vmm::Device* bar4 = nullptr;
  for (const vmm::PciWindow& w : pci.Windows())
    if (w.space == vmm::PciSpace::kMemory && w.base == 0x10080000u) bar4 = w.device;
  ASSERT_NE(bar4, nullptr);
  bar4->Write(0x14, 1, 0);
  bar4->Write(0x14, 1, 3);
  bar4->Write(0x00, 4, 0);
  EXPECT_EQ(bar4->Read(0x04, 4) & 0x00FFFFFFu, (1u << 5) | (1u << 15) | (1u << 16));
  bar4->Write(0x08, 4, 0);
  bar4->Write(0x0C, 4, (1u << 5) | (1u << 16));  // MAC and STATUS: no mergeable buffers
  bar4->Write(0x08, 4, 1);
  bar4->Write(0x0C, 4, 1);  // VERSION_1
  bar4->Write(0x14, 1, 0x0B);
  ASSERT_EQ(bar4->Read(0x14, 1) & 0x08, 0x08u);
  EXPECT_EQ(bar4->Read(0x12, 2), 2u);  // two queues
  EXPECT_EQ(net.header_bytes(), 12u);
  for (uint32_t q : {0u, 1u}) {
    bar4->Write(0x16, 2, q);
    const uint32_t desc = (q == 0 ? kRxPfn : kTxPfn) << 12, avail = desc + 16 * 256,
                   used = (avail + 6 + 2 * 256 + 4095) & ~4095u;
    for (auto [off, v] : {std::pair{0x20u, desc}, {0x28u, avail}, {0x30u, used}}) {
      bar4->Write(off, 4, v);
      bar4->Write(off + 4, 4, 0);
    }
    bar4->Write(0x1C, 2, 1);
    EXPECT_EQ(bar4->Read(0x1E, 2), q);  // notify offset: queue q at 0x3000 + 4 * q
  }
  bar4->Write(0x14, 1, 0x0F);
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(bar4->Read(0x2000 + i, 1), kMac[i]);
  bar4->Write(0x2005, 1, 0x99);
  EXPECT_EQ(bar4->Read(0x2005, 1), 0x57u);

  const auto f = Frame(300, 10);
  rx.Chain({{kRxBufs, 1526, true}});
  bar4->Write(0x3000, 2, 0);
  EXPECT_EQ(rx_ready, 1);
  net.Receive(f.data(), f.size());
  ASSERT_EQ(rx.used_idx(), 1);
  EXPECT_EQ(rx.used_len(0), 312u);
  EXPECT_EQ(g.Get<uint16_t>(kRxBufs + 10), 1);  // num_buffers, always there with VERSION_1
  EXPECT_EQ(Bytes(kRxBufs + 12, 300), f);
  const uint32_t at = kTxBufs;
  std::memset(&g.ram.bytes[at], 0, 12);
  std::memcpy(&g.ram.bytes[at + 12], f.data(), f.size());
  tx.Chain({{at, 312, false}});
  bar4->Write(0x3004, 2, 1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], f);
}

// No fake NIC here: a NetPort in front of the device, with a backend the test feeds.
class FakeBackend final : public vmm::net::NetBackend {
 public:
  void Start(Receiver receiver) override { receiver_ = std::move(receiver); }
  void Stop() override {}
  void Send(const uint8_t* frame, size_t length) override { sent.emplace_back(frame, frame + length); }
  bool Active(int) const override { return false; }
  std::string SnapshotKind() const override { return "fake"; }
  void FromHost(const std::vector<uint8_t>& f) { receiver_(f); }
  std::vector<std::vector<uint8_t>> sent;

 private:
  Receiver receiver_;
};

TEST_F(VirtioNetTest, FramesWaitInThePortUntilTheDriverPostsBuffers) {
  FakeBackend backend;
  vmm::block::CompletionList completions;
  vmm::net::NetPort port(backend, completions);
  net.set_transmit([&port](const uint8_t* f, size_t n) { port.Transmit(f, n); });
  net.set_rx_ready([&port] {
    if (port.HasPending()) port.Deliver();
  });
  port.Start(&net);
  Start(~0u);
  const auto a = Frame(1400, 8), b = Frame(1400, 9);
  backend.FromHost(a);
  backend.FromHost(b);
  EXPECT_EQ(completions.RunCompletions(), 2u);  // the run loop's turn: no buffer, the frames wait
  EXPECT_TRUE(port.HasPending());
  EXPECT_EQ(rx.used_idx(), 0);
  EXPECT_EQ(net.rx_dropped(), 0u);
  PostRx(1, 1526);  // room for one: the notify delivers it, the second keeps waiting
  EXPECT_EQ(rx.used_idx(), 1);
  EXPECT_EQ(Bytes(kRxBufs + 12, 1400), a);
  EXPECT_TRUE(port.HasPending());
  PostRx(2, 1526);
  EXPECT_EQ(rx.used_idx(), 2);
  EXPECT_EQ(Bytes(kRxBufs + 0x1000 + 12, 1400), b);
  EXPECT_FALSE(port.HasPending());
  // And out through the port to the backend.
  Send(a, 12);
  ASSERT_EQ(backend.sent.size(), 1u);
  EXPECT_EQ(backend.sent[0], a);
  port.Stop();
}

TEST(VirtioNet, MalformedChainsStopTheDeviceWithOneLine) {
  struct Case {
    const char* what;
    void (*act)(Rig&);
  };
  const Case cases[] = {
      {"a transmit chain of 6 bytes, shorter than its 12-byte header",
       [](Rig& r) {
         r.tx.Chain({{kTxBufs, 6, false}});
         r.pci.Write(kNotify, 2, 1);
       }},
      {"a receive buffer the device may not write",
       [](Rig& r) {
         r.rx.Chain({{kRxBufs, 1526, false}});
         const auto f = Frame(60, 1);
         r.net.Receive(f.data(), f.size());
       }},
      {"a loop in a descriptor chain",
       [](Rig& r) {
         r.rx.Desc(r.rx.desc(), 0, kRxBufs, 100, Driver::kWrite | Driver::kNext, 0);
         r.rx.Offer(0);
         r.net.CanReceive(60);
       }},
      {"a buffer outside RAM",
       [](Rig& r) {
         r.tx.Chain({{kRamBytes - 8, 100, false}});
         r.pci.Write(kNotify, 2, 1);
       }},
  };
  for (const Case& c : cases) {
    auto r = std::make_unique<Rig>();
    r->Start(~0u);
    ::testing::internal::CaptureStderr();
    c.act(*r);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "strobe: virtio-net 00:12.0: the guest driver broke the virtio protocol (" +
                       std::string(c.what) + "); device stopped\n");
    EXPECT_EQ(r->status() & kNeedsReset, kNeedsReset) << c.what;
    EXPECT_TRUE(r->sent.empty());
    // Stopped: nothing is taken or delivered until the driver resets the device; then it works again.
    const auto f = Frame(60, 2);
    EXPECT_FALSE(r->net.CanReceive(f.size()));
    r->net.Receive(f.data(), f.size());
    r->Start(~0u);
    EXPECT_EQ(r->status(), 7);
    r->PostRx(1, 1526);
    ASSERT_TRUE(r->net.CanReceive(f.size())) << c.what;
    r->net.Receive(f.data(), f.size());
    EXPECT_EQ(r->rx.used_idx(), 1) << c.what;
    r->Send(f, 12);
    EXPECT_EQ(r->sent.size(), 1u) << c.what;
  }
}

// Garbage in both rings, notifies and frames in any order: the device completes chains or stops, and a
// reset brings it back; the host never reads or writes outside guest RAM.
TEST(VirtioNet, RandomRingsNeverCrashTheHost) {
  auto r = std::make_unique<Rig>();
  std::mt19937 rng(2027);
  unsigned stopped = 0;
  ::testing::internal::CaptureStderr();
  for (int round = 0; round < 200; ++round) {
    r->Start(rng() % 2 ? ~0u : (1u << 5));
    RandomRing(r->g, kRxPfn << 12, VirtioNet::kQueueSize, 32, rng);
    RandomRing(r->g, kTxPfn << 12, VirtioNet::kQueueSize, 32, rng);
    for (int i = 0; i < 8; ++i) {
      if (rng() % 2) {
        r->pci.Write(kNotify, 2, rng() % 3);
      } else {
        const auto f = Frame(14 + rng() % 3000, static_cast<uint8_t>(rng()));
        if (r->net.CanReceive(f.size())) r->net.Receive(f.data(), f.size());
      }
    }
    stopped += (r->status() & kNeedsReset) != 0;
  }
  ::testing::internal::GetCapturedStderr();
  EXPECT_GT(stopped, 0u);
}

// The board places what tools/strobe numbered: the on-board PCnet at 00:0b.0, the add-on devices from
// 00:12.0 up by creation order, virtio disks and NICs alike (QEMU's reference: virtio-net 00:12.0, the
// disk 00:13.0); the bus holds 14 of them, and Boot refuses more.
class EmptyDisk final : public vmm::block::BlockBackend {
 public:
  uint64_t size() const override { return 1u << 20; }
  bool read_only() const override { return false; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t, void*, size_t) override { return 0; }
  int Write(uint64_t, const void*, size_t) override { return 0; }
  int Flush() override { return 0; }

 private:
  std::string path_ = "empty";
};

// QEMU's default VGA takes the first free slot after the board's NICs, before the -device ones: Strobe
// leaves it empty. A device's addr= puts it there, and what QEMU refuses is Boot's error, in QEMU's words
// (each compared with qemu-system-mipsel 7.2 -M malta).
TEST(VirtioNetBoard, TheVgaSlotAndAddrAsQemu) {
  vmm::Monitor monitor{size_t{64} << 20};
  vmm::VmConfig cfg;
  cfg.ram_bytes = 16u << 20;
  cfg.image = WaitImage();
  vmm::NicConfig onboard, board_vnet, device_pcnet;
  onboard.onboard = true;
  board_vnet.model = vmm::NicModel::kVirtio;
  board_vnet.pci_order = 1;
  device_pcnet.pci_order = 1 << 16;
  cfg.vga_pci_order = (1 << 16) - 1;
  cfg.nics = {onboard, board_vnet, device_pcnet};
  {
    vmm::Vm vm(monitor, cfg, [](uint8_t) {});
    EXPECT_EQ(vm.nic_slot(1), 0x12);
    EXPECT_EQ(vm.nic_slot(2), 0x14);  // 0x13 is the VGA's
    EXPECT_TRUE(vm.board().pci().SlotUsed(0x13));
    EXPECT_EQ(vm.board().pci().Find(0, 0x13, 0), nullptr);
  }
  cfg.nics[2].devfn = 5 << 3 | 1;  // addr=5.1
  {
    vmm::Vm vm(monitor, cfg, [](uint8_t) {});
    EXPECT_EQ(vm.nic_slot(2), 5);
    ASSERT_NE(vm.board().pci().Find(0, 5, 1), nullptr);
    EXPECT_EQ(vm.board().pci().Find(0, 5, 1)->vendor_id(), 0x1022);
    std::string error;
    EXPECT_TRUE(vm.Boot(&error)) << error;
  }
  auto refused = [&](int devfn) {
    cfg.nics[2].devfn = devfn;
    cfg.nics[2].option = "-device pcnet,addr=X";
    vmm::Monitor own{size_t{64} << 20};  // a machine of its own for each VM
    vmm::Vm vm(own, cfg, [](uint8_t) {});
    std::string error;
    EXPECT_FALSE(vm.Boot(&error));
    return error;
  };
  EXPECT_EQ(
      refused(0x0B << 3),
      "-device pcnet,addr=X: PCI: slot 11 function 0 not available for pcnet, in use by pcnet,id=(null)");
  EXPECT_EQ(refused(0x13 << 3),
            "-device pcnet,addr=X: PCI: slot 19 function 0 not available for pcnet, in use "
            "by cirrus-vga,id=(null)");
  EXPECT_EQ(refused(0x0A << 3 | 2),
            "-device pcnet,addr=X: PCI: slot 10 function 2 not available for pcnet, in "
            "use by piix4-usb-uhci,id=(null)");
  EXPECT_EQ(refused(0 << 3 | 1),
            "-device pcnet,addr=X: PCI: single function device can't be populated in function 0.1");
  cfg.nics[1].devfn = 7 << 3 | 2;  // the board's virtio NIC at 7.2, then the pcnet at 7.0
  EXPECT_EQ(refused(7 << 3),
            "-device pcnet,addr=X: PCI: 7.0 indicates single function, but 7.2 is already "
            "populated.");
}

TEST(VirtioNetBoard, SlotsFollowOneCreationOrderForDisksAndNics) {
  EmptyDisk disk;
  vmm::Monitor monitor{size_t{64} << 20};
  vmm::VmConfig cfg;
  cfg.ram_bytes = 16u << 20;
  cfg.image = WaitImage();                                            // Boot needs an image
  cfg.virtio_disks.push_back({&disk, "", true, 2 << 16, "virtio0"});  // -drive if=virtio: after every -device
  cfg.virtio_disks.push_back({&disk, "", true, 1 << 16, "virtio1"});  // the first -device
  vmm::NicConfig onboard, vnet, board_vnet;
  onboard.onboard = true;
  vnet.model = board_vnet.model = vmm::NicModel::kVirtio;
  vnet.pci_order = (1 << 16) + 1;  // the second -device
  board_vnet.pci_order = 1;        // a second -nic
  cfg.nics = {onboard, vnet, board_vnet};
  vmm::Vm vm(monitor, cfg, [](uint8_t) {});
  EXPECT_EQ(vm.nic_slot(0), 0x0B);
  EXPECT_EQ(vm.nic_slot(2), 0x12);
  EXPECT_EQ(vm.virtio_disk_slot(1), 0x13);
  EXPECT_EQ(vm.nic_slot(1), 0x14);
  EXPECT_EQ(vm.virtio_disk_slot(0), 0x15);
  ASSERT_NE(vm.pcnet(0), nullptr);
  EXPECT_EQ(vm.virtio_net(0), nullptr);
  ASSERT_NE(vm.virtio_net(1), nullptr);
  vmm::PciFunction* f = vm.board().pci().Find(0, 0x14, 0);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->ReadConfig(0x00), 0x10001AF4u);
  EXPECT_EQ(vm.board().pci().Find(0, 0x15, 0)->ReadConfig(0x00), 0x10011AF4u);
  EXPECT_EQ(vm.board().pci().Find(0, 0x0B, 0)->ReadConfig(0x00), 0x20001022u);
  std::string error;
  EXPECT_TRUE(vm.Boot(&error)) << error;

  // 15 add-on devices: one too many.
  cfg.nics.assign(13, vnet);
  vmm::Vm full(monitor, cfg, [](uint8_t) {});
  EXPECT_FALSE(full.Boot(&error));
  EXPECT_NE(error.find("too many PCI devices"), std::string::npos) << error;
}

}  // namespace
}  // namespace strobe::test
