// SPDX-License-Identifier: MIT
// virtio-balloon behind the virtio-pci transport against a fake guest memory: the test plays Linux's
// virtio_balloon driver and checks QEMU's PCI identity and features, the host's target reaching the
// configuration with a config-change interrupt, inflated frame numbers taken (RAM only; none while the guest
// poisons free pages), deflated ones left alone, the guest's count reported once per write, the statistics
// buffer held, the state carried by a snapshot, random rings, and the -device option as QEMU words it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/vmm/parse_run_options.h"
#include "tests/vmm/virtio_driver.h"
#include "vmm/devices/virtio_balloon.h"
#include "vmm/devices/virtio_pci.h"
#include "vmm/state_io.h"

namespace strobe::test {
namespace {

using vmm::VirtioBalloon;
using vmm::VirtioPci;

constexpr uint32_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0C,
                   kQueueSel = 0x0E, kNotify = 0x10, kStatus = 0x12, kIsr = 0x13, kCfg = 0x14;
constexpr uint32_t kPfns[3] = {0x10, 0x20, 0x30};  // the three rings
constexpr uint32_t kLists = 0x80000;
constexpr uint32_t kRam = 64u << 20;  // what the device is told the guest has

struct Rig {
  Rig()
      : balloon(vmm::VirtioBalloonConfig{kRam, [this](uint32_t pa) { taken.push_back(pa); },
                                         [this](uint64_t left) { changes.push_back(left); }}),
        pci(&balloon, &g.memory, "virtio-balloon 00:13.0"),
        inflate(g, kPfns[0], VirtioBalloon::kQueueSize),
        deflate(g, kPfns[1], VirtioBalloon::kQueueSize),
        stats(g, kPfns[2], VirtioBalloon::kQueueSize) {}
  void Start(uint32_t features) {
    pci.Write(kStatus, 1, 0);
    pci.Write(kStatus, 1, 3);
    pci.Write(kGuestFeatures, 4, pci.Read(kHostFeatures, 4) & features);
    for (uint32_t q = 0; q < 3; ++q) {
      pci.Write(kQueueSel, 2, q);
      EXPECT_EQ(pci.Read(kQueueSize, 2), VirtioBalloon::kQueueSize);
      pci.Write(kQueuePfn, 4, kPfns[q]);
    }
    pci.Write(kStatus, 1, 7);
  }
  // A list of frame numbers on queue q (the driver's one buffer per batch), then a notify.
  void Send(unsigned q, const std::vector<uint32_t>& pfns) {
    const uint32_t at = kLists + 0x1000 * sent_++;
    for (size_t i = 0; i < pfns.size(); ++i) g.Put<uint32_t>(static_cast<uint32_t>(at + 4 * i), pfns[i]);
    (q == 0 ? inflate : deflate).Chain({{at, static_cast<uint32_t>(4 * pfns.size()), false}});
    pci.Write(kNotify, 2, q);
  }

  FakeGuest g;
  std::vector<uint32_t> taken;
  std::vector<uint64_t> changes;  // the memory left, as each change reported it
  VirtioBalloon balloon;
  VirtioPci pci;
  Driver inflate, deflate, stats;
  unsigned sent_ = 0;
};

TEST(VirtioBalloon, PciIdentityAndFeaturesAsQemu) {
  Rig r;
  EXPECT_EQ(r.pci.ReadConfig(0x00), 0x10021AF4u);  // 1af4:1002
  EXPECT_EQ(r.pci.ReadConfig(0x08), 0x00FF0000u);  // class 00ff, as QEMU's "Class 0255"
  EXPECT_EQ(r.pci.ReadConfig(0x2C), 0x00051AF4u);  // subsystem 1af4:0005, the balloon device type
  r.pci.WriteConfig(0x10, 0xFFFFFFFFu);
  EXPECT_EQ(r.pci.ReadConfig(0x10), 0x0000FFC1u);  // 64 I/O ports: 0x14 + 16 bytes of configuration
  EXPECT_EQ(r.pci.Read(kHostFeatures, 4) & 0x00FFFFFFu, (1u << 1) | (1u << 4));  // STATS_VQ, PAGE_POISON
  r.pci.Write(kQueueSel, 2, 3);
  EXPECT_EQ(r.pci.Read(kQueueSize, 2), 0u);  // three queues
}

TEST(VirtioBalloon, TargetInflateDeflateAndTheGuestsCount) {
  Rig r;
  r.Start(1u << 1);
  EXPECT_EQ(r.pci.Read(kCfg, 4), 0u);
  r.pci.Read(kIsr, 1);
  r.balloon.SetTarget(1000);
  EXPECT_EQ(r.pci.Read(kCfg, 4), 1000u);                  // num_pages
  EXPECT_EQ(r.pci.Read(kIsr, 1) & 2, 2u);                 // a configuration change
  r.Send(0, {0x100, 0x101, 0x3FFF, 0x4000, 0xFFFFFFFF});  // the last two are not RAM (64 MiB: 0x4000 pages)
  EXPECT_EQ(r.inflate.used_idx(), 1);
  EXPECT_EQ(r.taken, (std::vector<uint32_t>{0x100000, 0x101000, 0x3FFF000}));
  r.Send(1, {0x100});  // deflated: the guest takes it back, nothing to do
  EXPECT_EQ(r.deflate.used_idx(), 1);
  EXPECT_EQ(r.taken.size(), 3u);
  r.pci.Write(kCfg + 4, 4, 3);                                   // actual, one 32-bit write: one change
  EXPECT_EQ(r.changes, std::vector<uint64_t>{kRam - 3 * 4096});  // 3 pages in the balloon
  r.pci.Write(kCfg + 4, 4, 3);                                   // the same again: none
  EXPECT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.balloon.actual_pages(), 3u);
  EXPECT_EQ(r.balloon.memory_left(), kRam - 3 * 4096);
  EXPECT_EQ(r.pci.Read(kCfg + 4, 4), 3u);
  // The statistics buffer is taken and held: nothing comes back on that queue.
  r.stats.Chain({{0x90000, 64, false}});
  r.pci.Write(kNotify, 2, 2);
  EXPECT_EQ(r.stats.used_idx(), 0);
  // A snapshot carries the target and the count.
  vmm::StateIo out;
  r.pci.State(out);
  Rig other;
  vmm::StateIo in(out.buffer().data(), out.buffer().size());
  other.pci.State(in);
  ASSERT_TRUE(in.ok()) << in.error();
  EXPECT_EQ(other.balloon.target_pages(), 1000u);
  EXPECT_EQ(other.balloon.actual_pages(), 3u);
}

TEST(VirtioBalloon, PoisonedFreePagesKeepTheirMemory) {
  Rig r;
  r.Start((1u << 1) | (1u << 4));
  r.pci.Write(kCfg + 12, 4, 0xAAAAAAAAu);  // poison_val, as Linux writes it with page poisoning on
  r.Send(0, {0x100});
  EXPECT_EQ(r.inflate.used_idx(), 1);
  EXPECT_TRUE(r.taken.empty());
  r.pci.Write(kCfg + 12, 4, 0);  // poisoning with zeros: zeros are what a taken page reads as
  r.Send(0, {0x100});
  EXPECT_EQ(r.taken.size(), 1u);
}

TEST(VirtioBalloon, RandomRingsNeverCrashTheHost) {
  std::mt19937 gen(2026);
  Rig r;
  unsigned broken = 0;
  testing::internal::CaptureStderr();
  for (int round = 0; round < 300; ++round) {
    r.Start(~0u);
    const unsigned q = gen() % 3;
    const uint32_t ring = kPfns[q] << 12;
    RandomRing(r.g, ring, VirtioBalloon::kQueueSize, 32, gen);
    r.pci.Write(kNotify, 2, q);
    broken += r.pci.broken();
    std::memset(&r.g.ram.bytes[ring], 0, 0x2000);
  }
  testing::internal::GetCapturedStderr();
  EXPECT_GT(broken, 0u);
  r.inflate.Restart();
  r.taken.clear();
  r.Start(~0u);
  r.Send(0, {0x42});
  EXPECT_EQ(r.taken, std::vector<uint32_t>{0x42000});
}

TEST(VirtioBalloonOptions, AsQemu) {
  EXPECT_EQ(Error({"-device", "virtio-balloon-pci", "-device", "virtio-balloon"}),
            "-device virtio-balloon: Only one balloon device is supported");
  EXPECT_NE(
      Error({"-device", "virtio-balloon-pci,foo=1"}).find("Property 'virtio-balloon-pci.foo' not found"),
      std::string::npos);
  EXPECT_NE(Error({"-device", "virtio-balloon,deflate-on-oom=on"}).find("deflate-on-oom=on is not supported"),
            std::string::npos);
  const vmm::VmConfig vm = Parse({"-device", "virtio-balloon-pci,id=b0,addr=0x16,deflate-on-oom=off"}).vm;
  ASSERT_EQ(vm.balloons.size(), 1u);
  EXPECT_EQ(vm.balloons[0].device_id, "b0");
  EXPECT_EQ(vm.balloons[0].devfn, 0x16 << 3);
}

}  // namespace
}  // namespace strobe::test
