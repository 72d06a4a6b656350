// SPDX-License-Identifier: MIT
// The snapshot file format and its refusals: a file that is truncated anywhere, has a flipped byte, is of
// another version or of another machine is refused in one line and leaves the VM as it was; a VM with a
// device that cannot be saved, or a disk written in place, refuses savevm naming it. The NICs' network
// backends: their state saved and loaded only once the whole snapshot has been read, another kind of
// network refused, libslirp's state through a running VM.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "tests/support/scratch.h"
#include "tests/support/test_machine.h"
#include "vmm/net/slirp_backend.h"
#include "vmm/snapshot/snapshot_store.h"
#include "vmm/snapshot/vm_state.h"

namespace strobe::test {
namespace {

std::string TempDir() {
  char path[] = "/tmp/strobe-snap-XXXXXX";
  if (!mkdtemp(path)) return "/tmp";  // (never removed)
  return RemoveAtExit(path);
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
void WriteAll(const std::string& path, const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

TEST(SnapshotFile, RoundTripsAndRefusesDamage) {
  vmm::SnapshotInfo info;
  info.name = "s";
  info.build = "1.2.3";
  info.date = 1700000000;
  info.cycles = 400000000;
  info.instructions = 12345;
  const std::vector<uint8_t> state = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<uint8_t> file = vmm::EncodeSnapshot(info, "ram=1\n", state);
  vmm::DecodedSnapshot d;
  std::string error;
  ASSERT_TRUE(vmm::DecodeSnapshot(file, &d, &error)) << error;
  EXPECT_EQ(d.info.build, "1.2.3");
  EXPECT_EQ(d.info.cycles, 400000000u);
  EXPECT_EQ(d.config, "ram=1\n");
  EXPECT_EQ(std::vector<uint8_t>(d.state, d.state + d.state_size), state);

  // Every truncation and every flipped byte is refused with a line, never trusted.
  for (size_t n = 0; n < file.size(); ++n) {
    std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<long>(n));
    EXPECT_FALSE(vmm::DecodeSnapshot(cut, &d, &error)) << n;
    EXPECT_FALSE(error.empty());
    std::vector<uint8_t> flipped = file;
    flipped[n] ^= 0x10;
    EXPECT_FALSE(vmm::DecodeSnapshot(flipped, &d, &error)) << n;
  }
  std::vector<uint8_t> cut(file.begin(), file.end() - 1);
  vmm::DecodeSnapshot(cut, &d, &error);
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  std::vector<uint8_t> flipped = file;
  flipped.back() ^= 1;
  vmm::DecodeSnapshot(flipped, &d, &error);
  EXPECT_NE(error.find("checksum mismatch"), std::string::npos) << error;
  std::vector<uint8_t> other = {'n', 'o', 't', ' ', 'a', ' ', 's', 'n', 'a', 'p'};
  other.resize(64);
  vmm::DecodeSnapshot(other, &d, &error);
  EXPECT_EQ(error, "not a Strobe snapshot file");
}

TEST(SnapshotFile, ConfigurationDifferencesAreNamed) {
  EXPECT_EQ(vmm::ConfigDifference("ram=1\ncpu=24Kf\n", "ram=1\ncpu=24Kf\n"), "");
  EXPECT_EQ(vmm::ConfigDifference("ram=1\ncpu=24Kf\n", "ram=2\ncpu=24Kf\n"), "ram is 1 there, 2 here");
  EXPECT_EQ(vmm::ConfigDifference("ram=1\nide0=x\n", "ram=1\n"), "ide0 is x there, absent here");
  EXPECT_EQ(vmm::ConfigDifference("ram=1\n", "ram=1\nnic=y\n"), "nic is absent there, y here");
}

TEST(SnapshotFile, InfoSnapshotsHasQemusLayout) {
  EXPECT_EQ(vmm::FormatSnapshotTable({}), "There is no snapshot available.\n");
  vmm::SnapshotInfo s;
  s.name = "boot";
  s.cycles = 200000000ull * 3723 + 200000 * 45;  // 1 h 2 min 3.045 s
  s.instructions = 42;
  s.file_bytes = 3 << 20;
  const std::string t = vmm::FormatSnapshotTable({s});
  EXPECT_EQ(t.substr(0, t.find('\n', t.find('\n') + 1) + 1),
            "List of snapshots present on all disks:\n"
            "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\n");
  EXPECT_EQ(t.find("\n1         boot                3 MiB "), t.find('\n', t.find('\n') + 1)) << t;
  EXPECT_NE(t.find(" 01:02:03.045         42\n"), std::string::npos) << t;
}

// A small machine that has run a little, so that its state is not the reset state.
void Prepare(TestMachine& m) {
  ASSERT_TRUE(m.booted());
  m.LoadCode(0x1000, {0x24080007 /* li t0,7 */, 0x25290003 /* addiu t1,t1,3 */, kWaitWord});
  m.Run(0x80001000);
}

TEST(SnapshotStore, SavesLoadsAndRefusesBadFiles) {
  const std::string dir = TempDir();
  vmm::SnapshotStore store(dir);
  TestMachine m;
  Prepare(m);
  std::string error;
  ASSERT_TRUE(store.Save(m.vm(), "first", &error)) << error;
  const runtime::CpuState saved = m.cpu();
  const uint32_t word = m.Read32(0x1004);

  // Change the machine, load, and it is back.
  m.cpu().gpr[8] = 99;
  m.cpu().pc = 0x80002000;
  m.Write32(0x1004, 0xDEADBEEF);
  m.Write32(0x400000, 0x12345678);  // a page that was zero in the snapshot
  ASSERT_TRUE(store.Load(m.vm(), "first", &error)) << error;
  EXPECT_EQ(m.cpu().gpr[8], 7u);
  EXPECT_EQ(m.cpu().pc, saved.pc);
  EXPECT_EQ(m.cpu().cycles, saved.cycles);
  EXPECT_EQ(m.Read32(0x1004), word);
  EXPECT_EQ(m.Read32(0x400000), 0u);

  EXPECT_FALSE(store.Load(m.vm(), "missing", &error));
  EXPECT_NE(error.find("Snapshot 'missing' does not exist"), std::string::npos) << error;
  EXPECT_FALSE(store.Save(m.vm(), "../evil", &error));
  EXPECT_NE(error.find("invalid snapshot name"), std::string::npos);

  // Truncated and corrupt files are refused and change nothing.
  const std::vector<uint8_t> good = ReadAll(store.PathOf("first"));
  m.cpu().gpr[8] = 55;
  for (size_t cut : {size_t{0}, size_t{20}, good.size() / 2, good.size() - 1}) {
    WriteAll(store.PathOf("bad"), std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(cut)));
    EXPECT_FALSE(store.Load(m.vm(), "bad", &error)) << cut;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(m.cpu().gpr[8], 55u);
  }
  std::vector<uint8_t> flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  WriteAll(store.PathOf("bad"), flipped);
  EXPECT_FALSE(store.Load(m.vm(), "bad", &error));
  EXPECT_NE(error.find("checksum mismatch"), std::string::npos) << error;
  EXPECT_EQ(m.cpu().gpr[8], 55u);

  // Listing and deleting.
  EXPECT_TRUE(store.Delete("bad", &error)) << error;
  const auto list = store.List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "first");
  EXPECT_EQ(list[0].cycles, saved.cycles);
  EXPECT_EQ(list[0].file_bytes, good.size());
  EXPECT_TRUE(store.Delete("first", &error)) << error;
  EXPECT_FALSE(store.Delete("first", &error));
  EXPECT_EQ(error, "Snapshot 'first' does not exist");
  rmdir(dir.c_str());
}

TEST(SnapshotStore, RefusesAnotherMachine) {
  const std::string dir = TempDir();
  vmm::SnapshotStore store(dir);
  TestMachine small(16u << 20), big(32u << 20), other_tlb(16u << 20, 32);
  Prepare(small);
  std::string error;
  ASSERT_TRUE(store.Save(small.vm(), "s", &error)) << error;
  EXPECT_FALSE(store.Load(big.vm(), "s", &error));
  EXPECT_EQ(error, "snapshot 's' is of another machine: ram is 16777216 there, 33554432 here");
  EXPECT_FALSE(store.Load(other_tlb.vm(), "s", &error));
  EXPECT_EQ(error, "snapshot 's' is of another machine: tlb is 16 there, 32 here");
  std::remove(store.PathOf("s").c_str());
  rmdir(dir.c_str());
}

// A state stream cut short anywhere, or with garbage in it, fails in one line and leaves the VM whole.
TEST(SnapshotState, MalformedStateLeavesTheVmUnchanged) {
  TestMachine m;
  Prepare(m);
  vmm::StateIo good;
  vmm::VmState::Save(m.vm(), good);
  ASSERT_TRUE(good.ok()) << good.error();
  const std::vector<uint8_t> bytes = good.buffer();
  m.cpu().gpr[9] = 1234;
  m.Write32(0x2000, 0xCAFE);
  const uint64_t cycles = m.cpu().cycles;
  const size_t step = bytes.size() / 97 + 1;
  for (size_t cut = 0; cut < bytes.size(); cut += step) {
    vmm::StateIo in(bytes.data(), cut);
    std::string error;
    EXPECT_FALSE(vmm::VmState::Load(m.vm(), in, &error)) << cut;
    EXPECT_FALSE(error.empty());
    ASSERT_EQ(m.cpu().gpr[9], 1234u) << cut;
    ASSERT_EQ(m.Read32(0x2000), 0xCAFEu) << cut;
    ASSERT_EQ(m.cpu().cycles, cycles) << cut;
  }
  std::vector<uint8_t> garbage(4096);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 131 + 7);
  vmm::StateIo in(garbage.data(), garbage.size());
  std::string error;
  EXPECT_FALSE(vmm::VmState::Load(m.vm(), in, &error));
  EXPECT_EQ(m.cpu().gpr[9], 1234u);
}

// A PCI function that has not opted into snapshots.
class Unsaveable final : public vmm::PciFunction {
 public:
  Unsaveable() : PciFunction(0x1234, 0x5678, 0, 0xFF0000, 0) {}
};

TEST(SnapshotStore, RefusesADeviceWithoutSupport) {
  TestMachine m;
  Unsaveable device;
  m.vm().board().AttachPci(0x13, &device);
  vmm::SnapshotStore store(TempDir());
  std::string error;
  EXPECT_FALSE(store.Save(m.vm(), "s", &error));
  EXPECT_EQ(error, "cannot save the VM: device PCI 00:13.0 (1234:5678) does not support snapshots");
}

// A disk written in place cannot be brought back by a snapshot: savevm says so.
class WritableDisk final : public vmm::block::BlockBackend {
 public:
  uint64_t size() const override { return 1 << 20; }
  bool read_only() const override { return false; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t, void* buffer, size_t length) override {
    std::memset(buffer, 0, length);
    return 0;
  }
  int Write(uint64_t, const void*, size_t) override { return 0; }
  int Flush() override { return 0; }

 private:
  std::string path_ = "disk.img";
};

TEST(SnapshotStore, RefusesAWritableRawDisk) {
  WritableDisk disk;
  vmm::Monitor monitor(size_t{1} << 30);
  vmm::VmConfig cfg;
  cfg.ram_bytes = 16u << 20;
  cfg.image = WaitImage();
  cfg.ide_disks.push_back({&disk, 0, "", true, false, "ide0-hd0"});
  vmm::Vm vm(monitor, cfg, [](uint8_t) {});
  std::string error;
  ASSERT_TRUE(vm.Boot(&error)) << error;
  vmm::SnapshotStore store(TempDir());
  EXPECT_FALSE(store.Save(vm, "s", &error));
  EXPECT_EQ(error,
            "cannot save the VM: disk ide0 (disk.img) is written in place, which a snapshot cannot restore: "
            "use -snapshot or readonly=on");
}

}  // namespace
}  // namespace strobe::test

namespace strobe::test {
namespace {

// A network backend whose state the test sees: what a snapshot took from it and what it loaded.
class StatefulBackend final : public vmm::net::NetBackend {
 public:
  explicit StatefulBackend(std::string kind = "fake") : kind_(std::move(kind)) {}
  void Start(Receiver) override {}
  void Stop() override {}
  void Send(const uint8_t*, size_t) override {}
  bool Active(int) const override { return false; }
  std::string SnapshotKind() const override { return kind_; }
  uint32_t StateVersion() const override { return 7; }
  std::vector<uint8_t> SaveState() override { return state; }
  std::string CheckState(uint32_t version, const std::vector<uint8_t>& s) override {
    return version == 7 && s.size() == 3 ? "" : "a bad fake state";
  }
  void LoadState(uint32_t, const std::vector<uint8_t>& s) override {
    state = s;
    ++loads;
  }
  std::vector<uint8_t> state = std::vector<uint8_t>(3, 7);
  int loads = 0;

 private:
  std::string kind_;
};

// A small VM with one PCnet (the on-board one) on `backend` (null: not connected).
class NicVm {
 public:
  explicit NicVm(vmm::net::NetBackend* backend) : monitor_(size_t{1} << 30) {
    vmm::VmConfig cfg;
    cfg.ram_bytes = 16u << 20;
    cfg.image = WaitImage();
    vmm::NicConfig nic;
    nic.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    nic.backend = backend;
    nic.onboard = true;
    cfg.nics.push_back(nic);
    vm_ = std::make_unique<vmm::Vm>(monitor_, cfg, [](uint8_t) {});
    std::string error;
    EXPECT_TRUE(vm_->Boot(&error)) << error;
  }
  vmm::Vm& vm() { return *vm_; }

 private:
  vmm::Monitor monitor_;
  std::unique_ptr<vmm::Vm> vm_;
};

TEST(SnapshotNetwork, BackendStateIsLoadedOnlyFromAWholeSnapshot) {
  const std::string dir = TempDir();
  vmm::SnapshotStore store(dir);
  StatefulBackend backend;
  NicVm m(&backend);
  std::string error;
  ASSERT_TRUE(store.Save(m.vm(), "s", &error)) << error;
  backend.state.assign(3, 9);
  ASSERT_TRUE(store.Load(m.vm(), "s", &error)) << error;
  EXPECT_EQ(backend.state, std::vector<uint8_t>(3, 7));
  EXPECT_EQ(backend.loads, 1);

  // RAM comes after the network in the stream: cut short there, the backend is not touched.
  vmm::StateIo good;
  vmm::VmState::Save(m.vm(), good);
  ASSERT_TRUE(good.ok()) << good.error();
  vmm::StateIo cut(good.buffer().data(), good.buffer().size() - 1);
  EXPECT_FALSE(vmm::VmState::Load(m.vm(), cut, &error));
  EXPECT_EQ(backend.loads, 1);

  // A state the backend refuses is refused whole, with its reason.
  backend.state.assign(2, 7);
  ASSERT_TRUE(store.Save(m.vm(), "s", &error)) << error;
  EXPECT_FALSE(store.Load(m.vm(), "s", &error));
  EXPECT_NE(
      error.find(
          "the snapshot's state is malformed ('network': 'nic0': a bad fake state); the VM is unchanged"),
      std::string::npos)
      << error;
  EXPECT_EQ(backend.loads, 1);
  std::remove(store.PathOf("s").c_str());
  rmdir(dir.c_str());
}

TEST(SnapshotNetwork, RefusesAnotherNetwork) {
  const std::string dir = TempDir();
  vmm::SnapshotStore store(dir);
  StatefulBackend fake, other("other");
  NicVm saved(&fake), with_other(&other), unconnected(nullptr);
  std::string error;
  ASSERT_TRUE(store.Save(saved.vm(), "s", &error)) << error;
  EXPECT_FALSE(store.Load(with_other.vm(), "s", &error));
  EXPECT_EQ(error, "snapshot 's' is of another machine: nic0 is pcnet on fake there, pcnet on other here");
  EXPECT_FALSE(store.Load(unconnected.vm(), "s", &error));
  EXPECT_EQ(error,
            "snapshot 's' is of another machine: nic0 is pcnet on fake there, pcnet, not connected here");
  TestMachine no_nic(16u << 20);
  EXPECT_FALSE(store.Load(no_nic.vm(), "s", &error));
  EXPECT_NE(error.find("PCI 00:0b.0 (1022:2000) is present there, absent here"), std::string::npos) << error;
  EXPECT_EQ(other.loads + fake.loads, 0);
  std::remove(store.PathOf("s").c_str());
  rmdir(dir.c_str());
}

// libslirp's own state through a VM whose network thread runs: saved, and loaded into another VM.
TEST(SnapshotNetwork, UserNetworkOfARunningVm) {
  const std::string dir = TempDir();
  vmm::SnapshotStore store(dir);
  std::string error;
  auto a = vmm::net::SlirpBackend::Create(vmm::net::SlirpOptions(), &error);
  auto b = vmm::net::SlirpBackend::Create(vmm::net::SlirpOptions(), &error);
  ASSERT_TRUE(a && b) << error;
  NicVm first(a.get()), second(b.get());
  ASSERT_TRUE(store.Save(first.vm(), "s", &error)) << error;
  EXPECT_TRUE(store.Load(second.vm(), "s", &error)) << error;
  EXPECT_TRUE(store.Load(first.vm(), "s", &error)) << error;
  std::remove(store.PathOf("s").c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace strobe::test
