// SPDX-License-Identifier: MIT
// virtio-rng behind the virtio-pci transport against a fake guest memory: the test plays Linux's
// virtio_rng driver (one device-writable buffer at a time) and checks the PCI identity QEMU's device has,
// the bytes a file source gives (in order, to the byte), QEMU's rate limit (max-bytes per period of virtual
// time, the period opened by a request), a source with nothing now (asked again later), a file that ends,
// malformed rings (the device stops, the host does not), and the -object / -device options as QEMU words
// them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/vmm/parse_run_options.h"
#include "tests/vmm/virtio_driver.h"
#include "vmm/devices/virtio_pci.h"
#include "vmm/devices/virtio_rng.h"
#include "vmm/state_io.h"

namespace strobe::test {
namespace {

using vmm::VirtioPci;
using vmm::VirtioRng;

constexpr uint32_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0C,
                   kQueueSel = 0x0E, kNotify = 0x10, kStatus = 0x12;
constexpr uint32_t kPfn = 0x10, kBufs = 0x40000;
constexpr uint8_t kNeedsReset = 0x40;

// A source that gives what the test puts in it, and nothing when empty.
class Scripted final : public vmm::EntropySource {
 public:
  size_t Read(uint8_t* out, size_t length) override {
    const size_t n = std::min(length, bytes.size());
    std::memcpy(out, bytes.data(), n);
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<long>(n));
    return n;
  }
  std::vector<uint8_t> bytes;
};

struct Timer {
  uint32_t ms;
  std::function<void()> fn;
};

struct Rig {
  explicit Rig(std::shared_ptr<vmm::EntropySource> source, uint64_t max_bytes = INT64_MAX,
               uint32_t period_ms = 1u << 16)
      : rng(vmm::VirtioRngConfig{std::move(source), max_bytes, period_ms,
                                 [this](uint32_t ms, std::function<void()> fn) {
                                   timers.push_back({ms, std::move(fn)});
                                 }}),
        pci(&rng, &g.memory, "virtio-rng 00:13.0"),
        ring(g, kPfn, VirtioRng::kQueueSize) {}
  // Linux's legacy probe: reset, ACKNOWLEDGE|DRIVER, no features, the queue, DRIVER_OK.
  void Start() {
    pci.Write(kStatus, 1, 0);
    pci.Write(kStatus, 1, 3);
    pci.Write(kGuestFeatures, 4, 0);
    pci.Write(kQueueSel, 2, 0);
    EXPECT_EQ(pci.Read(kQueueSize, 2), VirtioRng::kQueueSize);
    pci.Write(kQueuePfn, 4, kPfn);
    pci.Write(kStatus, 1, 7);
  }
  // One device-writable buffer of `len` bytes, then a notify.
  void Ask(uint32_t len) {
    ring.Chain({{kBufs + 0x100 * asked_++, len, true}});
    pci.Write(kNotify, 2, 0);
  }
  // The n-th buffer asked for.
  std::vector<uint8_t> Got(unsigned n, size_t len) const {
    const auto* p = &g.ram.bytes[kBufs + 0x100 * n];
    return std::vector<uint8_t>(p, p + len);
  }
  // Runs the timers posted so far (virtual time passing), oldest first.
  void Tick() {
    std::vector<Timer> due;
    due.swap(timers);
    for (Timer& t : due) t.fn();
  }

  FakeGuest g;
  std::vector<Timer> timers;
  VirtioRng rng;
  VirtioPci pci;
  Driver ring;
  unsigned asked_ = 0;
};

std::vector<uint8_t> Counting(size_t n, uint8_t from = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(from + i);
  return v;
}

TEST(VirtioRng, PciIdentityAsQemu) {
  Rig r(std::make_shared<Scripted>());
  EXPECT_EQ(r.pci.ReadConfig(0x00), 0x10051AF4u);  // transitional virtio-rng: 1af4:1005
  EXPECT_EQ(r.pci.ReadConfig(0x08), 0x00FF0000u);  // class 00ff ("Class 0255"), revision 0
  EXPECT_EQ(r.pci.ReadConfig(0x2C), 0x00041AF4u);  // subsystem 1af4:0004, the entropy device type
  r.pci.WriteConfig(0x10, 0xFFFFFFFFu);
  EXPECT_EQ(r.pci.ReadConfig(0x10), 0x0000FFE1u);             // 32 I/O ports, as QEMU's BAR0
  EXPECT_EQ(r.pci.Read(kHostFeatures, 4) & 0x00FFFFFFu, 0u);  // no device feature bits
  r.pci.Write(kQueueSel, 2, 1);
  EXPECT_EQ(r.pci.Read(kQueueSize, 2), 0u);  // one queue
}

TEST(VirtioRng, FillsBuffersWithTheSourcesBytesInOrder) {
  auto src = std::make_shared<Scripted>();
  src->bytes = Counting(100);
  Rig r(src);
  r.Start();
  r.Ask(64);
  ASSERT_EQ(r.ring.used_idx(), 1);
  EXPECT_EQ(r.ring.used_len(0), 64u);
  EXPECT_EQ(r.Got(0, 64), Counting(64));
  r.Ask(64);  // only 36 left: a short buffer is what the driver gets
  ASSERT_EQ(r.ring.used_idx(), 2);
  EXPECT_EQ(r.ring.used_len(1), 36u);
  EXPECT_EQ(r.Got(1, 36), Counting(36, 64));
  EXPECT_EQ(r.rng.bytes_given(), 100u);
}

TEST(VirtioRng, ASourceWithNothingNowIsAskedAgainLater) {
  auto src = std::make_shared<Scripted>();
  Rig r(src);
  r.Start();
  r.Ask(16);
  EXPECT_EQ(r.ring.used_idx(), 0);  // the buffer waits
  // The period timer and one retry are posted; a second notify posts no second retry.
  r.pci.Write(kNotify, 2, 0);
  ASSERT_EQ(r.timers.size(), 2u);
  EXPECT_EQ(r.timers[1].ms, VirtioRng::kRetryMs);
  src->bytes = Counting(16, 7);
  r.Tick();
  ASSERT_EQ(r.ring.used_idx(), 1);
  EXPECT_EQ(r.ring.used_len(0), 16u);
  EXPECT_EQ(r.Got(0, 16), Counting(16, 7));
}

TEST(VirtioRng, MaxBytesPerPeriodAsQemu) {
  auto src = std::make_shared<Scripted>();
  src->bytes = Counting(200);
  Rig r(src, /*max_bytes=*/40, /*period_ms=*/1000);
  r.Start();
  r.Ask(32);
  r.Ask(32);  // 8 left of this period's 40
  r.Ask(32);  // waits for the next period
  ASSERT_EQ(r.ring.used_idx(), 2);
  EXPECT_EQ(r.ring.used_len(0), 32u);
  EXPECT_EQ(r.ring.used_len(1), 8u);
  ASSERT_EQ(r.timers.size(), 1u);  // the period the first request opened
  EXPECT_EQ(r.timers[0].ms, 1000u);
  r.Tick();  // the period ends: a whole quota, the waiting buffer is served, and a new period opens
  ASSERT_EQ(r.ring.used_idx(), 3);
  EXPECT_EQ(r.ring.used_len(2), 32u);
  EXPECT_EQ(r.Got(2, 32), Counting(32, 40));
  ASSERT_EQ(r.timers.size(), 1u);
  r.Tick();  // a period with no request opens no next one
  EXPECT_TRUE(r.timers.empty());
}

// A snapshot keeps the transport's rings and nothing of the rate limit: loaded, the device starts a whole
// quota at once, and the timers of the period before the load find nothing (a timer list a snapshot drops
// must not leave the quota empty for good).
TEST(VirtioRng, ALoadStartsAFreshPeriod) {
  auto src = std::make_shared<Scripted>();
  src->bytes = Counting(200);
  Rig r(src, /*max_bytes=*/16, /*period_ms=*/1000);
  r.Start();
  r.Ask(16);
  r.Ask(16);  // over this period's quota: waits
  ASSERT_EQ(r.ring.used_idx(), 1);
  vmm::StateIo out;
  r.pci.State(out);
  ASSERT_TRUE(out.ok()) << out.error();
  std::vector<Timer> old;
  old.swap(r.timers);  // the snapshot's VM drops its device timers
  vmm::StateIo in(out.buffer().data(), out.buffer().size());
  r.pci.State(in);
  ASSERT_TRUE(in.ok()) << in.error();
  for (Timer& t : old) t.fn();  // a timer of before the load: ignored
  EXPECT_EQ(r.ring.used_idx(), 1);
  r.pci.Write(kNotify, 2, 0);  // the waiting buffer, served from the new quota
  ASSERT_EQ(r.ring.used_idx(), 2);
  EXPECT_EQ(r.Got(1, 16), Counting(16, 16));
}

TEST(VirtioRng, AFileSourceGivesItsBytesThenEnds) {
  char path[] = "/tmp/strobe-rng-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::vector<uint8_t> content = Counting(48, 3);
  ASSERT_EQ(write(fd, content.data(), content.size()), 48);
  close(fd);
  std::string error;
  auto src = vmm::FileEntropy(path, &error);
  ASSERT_TRUE(src) << error;
  unlink(path);
  Rig r(src);
  r.Start();
  r.Ask(32);
  r.Ask(32);
  ASSERT_EQ(r.ring.used_idx(), 2);
  EXPECT_EQ(r.Got(0, 32), Counting(32, 3));
  EXPECT_EQ(r.ring.used_len(1), 16u);
  testing::internal::CaptureStderr();
  r.Ask(32);  // the end: one line, and no retry is posted for a file that has ended
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("end of file; the guest gets no more entropy"), std::string::npos) << said;
  EXPECT_EQ(r.ring.used_idx(), 2);
  EXPECT_TRUE(src->exhausted());
  EXPECT_EQ(r.timers.size(), 1u);  // the period only
  // Missing files and directories are refused in QEMU's words.
  EXPECT_FALSE(vmm::FileEntropy("/nonexistent/rng", &error));
  EXPECT_EQ(error, "Could not open '/nonexistent/rng': No such file or directory");
  EXPECT_FALSE(vmm::FileEntropy("/tmp", &error));
  EXPECT_EQ(error, "Could not open '/tmp': Is a directory");
}

TEST(VirtioRng, BuffersOutsideRamStopTheDevice) {
  auto src = std::make_shared<Scripted>();
  src->bytes = Counting(64);
  Rig r(src);
  r.Start();
  testing::internal::CaptureStderr();
  r.ring.Chain({{0x7FF00000u, 16, true}});  // beyond the 1 MiB of RAM
  r.pci.Write(kNotify, 2, 0);
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(r.pci.Read(kStatus, 1) & kNeedsReset, 0u);
  EXPECT_NE(said.find("virtio-rng 00:13.0"), std::string::npos) << said;
  // A reset and a new start bring it back.
  std::memset(&r.g.ram.bytes[kPfn << 12], 0, 0x3000);
  r.ring.Restart();
  r.asked_ = 0;
  r.Start();
  r.Ask(8);
  EXPECT_EQ(r.ring.used_idx(), 1);
}

// Random rings and descriptors (anywhere in or out of RAM, any length, any flags, indirect tables, loops):
// the device either serves them or stops, and the host never faults or hangs; a reset brings it back.
TEST(VirtioRng, RandomRingsNeverCrashTheHost) {
  std::mt19937 gen(2026);
  Rig r(vmm::SeededEntropy(7));
  unsigned broken = 0;
  testing::internal::CaptureStderr();
  for (int round = 0; round < 300; ++round) {
    r.Start();
    RandomRing(r.g, kPfn << 12, VirtioRng::kQueueSize, VirtioRng::kQueueSize, gen);
    r.pci.Write(kNotify, 2, 0);
    r.Tick();
    broken += r.pci.broken();
  }
  testing::internal::GetCapturedStderr();
  EXPECT_GT(broken, 0u);
  std::memset(&r.g.ram.bytes[kPfn << 12], 0, 0x2000);
  r.ring.Restart();
  r.asked_ = 0;
  r.Start();
  r.Ask(32);
  ASSERT_EQ(r.ring.used_idx(), 1);
  EXPECT_EQ(r.ring.used_len(0), 32u);
}

TEST(VirtioRng, TheSeededStreamIsTheSameEveryTime) {
  auto a = vmm::SeededEntropy(42), b = vmm::SeededEntropy(42), c = vmm::SeededEntropy(43);
  std::vector<uint8_t> x(37), y(37), z(37);
  ASSERT_EQ(a->Read(x.data(), 13) + a->Read(x.data() + 13, 24), 37u);  // split anywhere: the same stream
  ASSERT_EQ(b->Read(y.data(), 37), 37u);
  ASSERT_EQ(c->Read(z.data(), 37), 37u);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

// -object rng-* and -device virtio-rng-pci: what QEMU 7.2 says to the same command lines.
TEST(RngOptions, AsQemu) {
  auto error = [](std::vector<std::string> args) { return Error(std::move(args)); };
  EXPECT_EQ(error({"-device", "virtio-rng-pci,period=0"}),
            "-device virtio-rng-pci,period=0: 'period' parameter expects a positive integer");
  EXPECT_EQ(error({"-device", "virtio-rng-pci,period=-1"}),
            "-device virtio-rng-pci,period=-1: Parameter 'period' expects uint32_t");
  EXPECT_EQ(error({"-device", "virtio-rng-pci,max-bytes=9223372036854775808"}),
            "-device virtio-rng-pci,max-bytes=9223372036854775808: 'max-bytes' parameter must be "
            "non-negative, and less than 2^63");
  EXPECT_EQ(error({"-device", "virtio-rng-pci,max-bytes=abc"}),
            "-device virtio-rng-pci,max-bytes=abc: Parameter 'max-bytes' expects integer");
  EXPECT_EQ(error({"-device", "virtio-rng-pci,rng=nope"}),
            "-device virtio-rng-pci,rng=nope: Device 'nope' not found");
  EXPECT_EQ(error({"-object", "rng-builtin,id=r,foo=1"}),
            "-object rng-builtin,id=r,foo=1: Invalid parameter 'foo'");
  EXPECT_EQ(error({"-object", "rng-builtin"}), "-object rng-builtin: Parameter 'id' is missing");
  EXPECT_EQ(error({"-object", "rng-random,id=r,filename=/dev/urandom", "-object", "rng-random,id=r"}),
            "-object rng-random,id=r: Duplicate ID 'r' for object");
  EXPECT_EQ(error({"-object", "rng-random,id=r,filename=/nonexistent", "-device", "virtio-rng-pci,rng=r"}),
            "-object rng-random,id=r,filename=/nonexistent: Could not open '/nonexistent': No such file or "
            "directory");
  EXPECT_EQ(error({"-object", "rng-random,id=r,filename=/tmp"}),
            "-object rng-random,id=r,filename=/tmp: Could not open '/tmp': Is a directory");
  EXPECT_NE(error({"-object", "rng-egd,id=r,chardev=c"})
                .find("rng-egd (an EGD daemon over a chardev) is not supported"),
            std::string::npos);
  EXPECT_NE(error({"-device", "virtio-rng-pci,foo=2"}).find("Property 'virtio-rng-pci.foo' not found"),
            std::string::npos);
  EXPECT_NE(error({"-device", "virtio-rng-pci,addr=zz"})
                .find("Property 'virtio-rng-pci.addr' doesn't take value 'zz'"),
            std::string::npos);

  // Accepted: the default source, a shared object, QEMU's limits, an address and an id.
  const vmm::VmConfig vm = Parse({"-object", "rng-random,id=r0,filename=/dev/urandom", "-device",
                                  "virtio-rng-pci,rng=r0,max-bytes=1024,period=1000,id=rng0", "-device",
                                  "virtio-rng,rng=r0,addr=0x15", "-device", "virtio-rng-pci"})
                               .vm;
  ASSERT_EQ(vm.rngs.size(), 3u);
  EXPECT_TRUE(vm.rngs[0].source);
  EXPECT_EQ(vm.rngs[0].source, vm.rngs[1].source);  // one backend object, opened once
  EXPECT_FALSE(vm.rngs[2].source);                  // builtin
  EXPECT_EQ(vm.rngs[0].max_bytes, 1024u);
  EXPECT_EQ(vm.rngs[0].period_ms, 1000u);
  EXPECT_EQ(vm.rngs[0].device_id, "rng0");
  EXPECT_EQ(vm.rngs[1].devfn, 0x15 << 3);
  EXPECT_EQ(vm.rngs[2].max_bytes, static_cast<uint64_t>(INT64_MAX));
  EXPECT_EQ(vm.rngs[2].period_ms, 65536u);
  EXPECT_LT(vm.rngs[0].pci_order, vm.rngs[1].pci_order);
}

}  // namespace
}  // namespace strobe::test
