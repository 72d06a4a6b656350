// SPDX-License-Identifier: MIT
// A monitor whose VM can change under it: each call goes to the machine `pick` returns at that moment.
// With several VMs in one process, the terminal's monitor (the console's Ctrl-A c) drives the VM the
// terminal shows, which Ctrl-A n moves on (tools/strobe/console.h).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vmm/monitor/machine.h"

namespace strobe::vmm::mon {

class SelectedMachine final : public MachineControl {
 public:
  explicit SelectedMachine(std::function<MachineControl&()> pick) : pick_(std::move(pick)) {}

  RunState state() override { return pick_().state(); }
  void Stop() override { pick_().Stop(); }
  void Cont() override { pick_().Cont(); }
  void PowerDown() override { pick_().PowerDown(); }
  void Reset() override { pick_().Reset(); }
  void Quit() override { pick_().Quit(); }
  bool Registers(CpuSnapshot* out) override { return pick_().Registers(out); }
  bool Tlb(std::vector<runtime::TlbEntry>* out) override { return pick_().Tlb(out); }
  size_t ReadVirtual(uint32_t addr, uint8_t* out, size_t size) override {
    return pick_().ReadVirtual(addr, out, size);
  }
  size_t ReadPhysical(uint64_t addr, uint8_t* out, size_t size) override {
    return pick_().ReadPhysical(addr, out, size);
  }
  bool Disassemble(uint32_t addr, uint32_t word, std::string* text) override {
    return pick_().Disassemble(addr, word, text);
  }
  int CpuThreadId() override { return pick_().CpuThreadId(); }
  std::string Name() override { return pick_().Name(); }
  std::string HostForward(bool add, const std::string& netdev, const std::string& rule) override {
    return pick_().HostForward(add, netdev, rule);
  }
  std::string UserNetInfo() override { return pick_().UserNetInfo(); }
  std::string NetworkInfo() override { return pick_().NetworkInfo(); }
  std::vector<PciFunctionInfo> Pci() override { return pick_().Pci(); }
  std::string JitInfo() override { return pick_().JitInfo(); }
  std::string MemoryInfo() override { return pick_().MemoryInfo(); }
  std::string SaveSnapshot(const std::string& name) override { return pick_().SaveSnapshot(name); }
  std::string LoadSnapshot(const std::string& name) override { return pick_().LoadSnapshot(name); }
  std::string DeleteSnapshot(const std::string& name) override { return pick_().DeleteSnapshot(name); }
  std::string SnapshotTable() override { return pick_().SnapshotTable(); }
  std::vector<BlockDevice> Blocks() override { return pick_().Blocks(); }
  MediaError Media(const MediaCommand& command) override { return pick_().Media(command); }
  void Event(const std::string& name, const Json* data) override { pick_().Event(name, data); }

 private:
  std::function<MachineControl&()> pick_;
};

}  // namespace strobe::vmm::mon
