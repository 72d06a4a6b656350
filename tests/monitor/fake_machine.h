// SPDX-License-Identifier: MIT
// A MachineControl for the HMP and QMP unit tests: a run state, counted actions, a register snapshot and
// a little memory (virtual at 0x80001000, physical at 0x1000: the same 64 bytes).
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "vmm/monitor/machine.h"

namespace strobe::test {

class FakeMachine : public vmm::mon::MachineControl {
 public:
  FakeMachine() {
    for (unsigned i = 0; i < sizeof mem; ++i) mem[i] = static_cast<uint8_t>(i * 7 + 1);
    cpu.pc = 0x80001234;
    for (unsigned i = 0; i < 32; ++i) cpu.gpr[i] = i == 0 ? 0 : 0x1000u * i + i;
    cpu.hi = 0xAAAA5555;
    cpu.lo = 0x12345678;
    cpu.status = 0x10000004;
    cpu.cause = 0x00800020;
    cpu.epc = 0x80000180;
    cpu.config[0] = 0x80008483;
    cpu.config[1] = 0x9EE3519E;
    cpu.config[2] = 0x80000000;
    cpu.config[3] = 0x00002020;
  }
  vmm::mon::RunState state() override { return run_state; }
  void Stop() override {
    ++stops;
    run_state = vmm::mon::RunState::kPaused;
  }
  void Cont() override {
    ++conts;
    run_state = vmm::mon::RunState::kRunning;
  }
  void PowerDown() override { ++powerdowns; }
  void Reset() override { ++resets; }
  void Quit() override { ++quits; }
  bool Registers(vmm::mon::CpuSnapshot* out) override {
    *out = cpu;
    return answers;
  }
  bool Tlb(std::vector<runtime::TlbEntry>* out) override {
    *out = tlb;
    return answers;
  }
  size_t ReadVirtual(uint32_t addr, uint8_t* out, size_t size) override {
    return Read(addr, 0x80001000u, out, size);
  }
  size_t ReadPhysical(uint64_t addr, uint8_t* out, size_t size) override {
    return Read(addr, 0x1000u, out, size);
  }
  bool Disassemble(uint32_t, uint32_t word, std::string* text) override {
    if (word != 0x160f0801) return false;
    *text = "insn\tone";
    return true;
  }
  int CpuThreadId() override { return 4321; }
  std::string Name() override { return name; }
  std::string name;
  std::string HostForward(bool add, const std::string& netdev, const std::string& rule) override {
    forwards.push_back(std::string(add ? "add " : "remove ") + netdev + " " + rule);
    return "done\n";
  }
  std::string UserNetInfo() override { return "usernet table\n"; }
  std::string NetworkInfo() override { return "network table\n"; }
  std::vector<vmm::PciFunctionInfo> Pci() override {
    vmm::PciFunctionInfo f;
    f.device = 11;
    f.vendor = 0x1022;
    f.device_id = 0x2000;
    f.class_code = 0x0200;
    return {f};
  }
  std::vector<std::string> forwards;  // HostForward's calls: "add NETDEV RULE"
  std::string JitInfo() override { return "jit info\n"; }
  std::string MemoryInfo() override { return "memory info\n"; }
  void Event(const std::string& name, const vmm::mon::Json* data) override {
    events.push_back(name + (data ? " " + data->Dump() : ""));
  }

  vmm::mon::RunState run_state = vmm::mon::RunState::kRunning;
  int stops = 0, conts = 0, powerdowns = 0, resets = 0, quits = 0;
  std::vector<std::string> events;  // from Event: "NAME {data}"
  bool answers = true;
  vmm::mon::CpuSnapshot cpu;
  std::vector<runtime::TlbEntry> tlb;
  uint8_t mem[64];

 private:
  size_t Read(uint64_t addr, uint64_t base, uint8_t* out, size_t size) {
    if (addr < base || addr >= base + sizeof mem) return 0;
    const size_t n = std::min<size_t>(size, base + sizeof mem - addr);
    std::memcpy(out, mem + (addr - base), n);
    return n;
  }
};

// With a snapshot store that records the calls: saves and deletes succeed, loads fail.
struct SnapshotMachine : FakeMachine {
  std::vector<std::string> calls;
  std::string SaveSnapshot(const std::string& name) override {
    calls.push_back("save " + name);
    return "";
  }
  std::string LoadSnapshot(const std::string& name) override {
    calls.push_back("load " + name);
    return "Snapshot '" + name + "' does not exist";
  }
  std::string DeleteSnapshot(const std::string& name) override {
    calls.push_back("del " + name);
    return "";
  }
  std::string SnapshotTable() override { return "There is no snapshot available.\n"; }
};

// With one CD-ROM drive (ide1-cd0, a disc in, closed) and one disk (virtio0): records the media commands
// as "op device|qdev force file format" and fails those on "locked-cd" as a locked tray does.
struct MediaMachine : FakeMachine {
  std::vector<std::string> calls;
  std::vector<vmm::mon::BlockDevice> Blocks() override {
    vmm::mon::BlockDevice cd;
    cd.device = "ide1-cd0";
    cd.qdev = "/machine/piix4-ide/ide.1/unit.0";
    cd.removable = true;
    cd.inserted = true;
    cd.file = "/discs/a.iso";
    cd.read_only = true;
    cd.size = 2048 * 300;
    vmm::mon::BlockDevice disk;
    disk.device = "virtio0";
    disk.qdev = "/machine/pci/00:12.0/virtio-blk";
    disk.inserted = true;
    disk.file = "/disks/root.qcow2";  // a qcow2 overlay over a raw image
    disk.format = "qcow2";
    disk.backing_file = "/disks/base.img";
    disk.backing_depth = 1;
    disk.write_cache = false;
    disk.detect_zeroes = "unmap";
    disk.size = 1 << 20;
    vmm::mon::BlockDevice empty;
    empty.device = "ide1-cd1";
    empty.qdev = "/machine/piix4-ide/ide.1/unit.1";
    empty.removable = true;
    empty.tray_open = true;
    return {cd, disk, empty};
  }
  vmm::mon::MediaError Media(const vmm::mon::MediaCommand& c) override {
    static const char* kOps[] = {"eject", "open", "close", "change"};
    calls.push_back(std::string(kOps[static_cast<int>(c.op)]) + " " + (c.device.empty() ? c.qdev : c.device) +
                    (c.force ? " force" : "") + (c.file.empty() ? "" : " " + c.file) +
                    (c.format.empty() ? "" : " " + c.format));
    if (c.device == "locked-cd") return {"GenericError", "Device 'locked-cd' is locked"};
    return {};
  }
};

// A machine whose PCI functions are what the test puts in `functions` (info pci, query-pci).
struct PciMachine : FakeMachine {
  std::vector<vmm::PciFunctionInfo> functions;
  std::vector<vmm::PciFunctionInfo> Pci() override { return functions; }
};

// A machine with a balloon: the target it was given and the memory the guest leaves it.
struct BalloonMachine : FakeMachine {
  uint64_t ram = 256ull << 20, actual = 256ull << 20, target = 0;
  bool BalloonActual(uint64_t* bytes) override {
    *bytes = actual;
    return true;
  }
  bool SetBalloonTarget(uint64_t bytes) override {
    target = std::min(bytes, ram);
    return true;
  }
};

}  // namespace strobe::test
