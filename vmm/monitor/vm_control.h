// SPDX-License-Identifier: MIT
// MachineControl over a running Vm, for the monitor's threads. Everything that reads or changes the
// guest runs on the vCPU thread between slices (Vm::RunOnVcpu), where the gdb stub also works, so the
// VM's state is only ever touched by its own thread; registers and memory are read through the gdb
// stub's VmTarget (guest-virtual reads without side effects). stop/cont are Vm::SetPaused: stop returns
// once the vCPU has left its slice. Events (STOP, RESUME, POWERDOWN, RESET, SHUTDOWN) go to a listener
// (the QMP connections).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "vmm/debug/vm_target.h"
#include "vmm/monitor.h"
#include "vmm/monitor/json.h"
#include "vmm/monitor/machine.h"
#include "vmm/snapshot/snapshot_store.h"
#include "vmm/vm.h"

namespace strobe::vmm::mon {

class VmControl final : public MachineControl {
 public:
  using EventSink = std::function<void(const std::string& name, const Json* data)>;
  VmControl(Vm& vm, const Monitor& monitor) : vm_(vm), monitor_(monitor), target_(vm) { WatchDeviceEvents(); }
  void set_event_sink(EventSink sink) { events_ = std::move(sink); }
  // x/i and xp/i: the front end's disassembler (vmm has none of its own).
  using Disassembler = std::function<bool(uint32_t addr, uint32_t word, std::string* text)>;
  void set_disassembler(Disassembler d) { disassembler_ = std::move(d); }
  void set_name(std::string name) { name_ = std::move(name); }  // -name (set before the monitors start)
  std::string Name() override { return name_; }
  // How long a command waits for the vCPU before it gives up (the gdb stub may hold the VM).
  static constexpr double kAnswerSeconds = 5;

  RunState state() override;
  void Stop() override;
  void Cont() override;
  void PowerDown() override;
  void Reset() override;
  void Quit() override;
  bool Registers(CpuSnapshot* out) override;
  bool Tlb(std::vector<runtime::TlbEntry>* out) override;
  size_t ReadVirtual(uint32_t addr, uint8_t* out, size_t size) override;
  size_t ReadPhysical(uint64_t addr, uint8_t* out, size_t size) override;
  bool Disassemble(uint32_t addr, uint32_t word, std::string* text) override {
    return disassembler_ && disassembler_(addr, word, text);
  }
  int CpuThreadId() override;
  std::string HostForward(bool add, const std::string& netdev, const std::string& rule) override {
    return vm_.HostForward(add, netdev, rule);
  }
  std::string UserNetInfo() override { return vm_.UserNetInfo(); }
  std::string JitInfo() override;
  std::string MemoryInfo() override;
  std::string SaveSnapshot(const std::string& name) override;
  std::string LoadSnapshot(const std::string& name) override;
  std::string DeleteSnapshot(const std::string& name) override;
  std::string SnapshotTable() override;
  // vm_control_media.cpp: the block devices and the CD-ROM drives' media.
  std::vector<BlockDevice> Blocks() override;
  std::vector<PciFunctionInfo> Pci() override;
  bool BalloonActual(uint64_t* bytes) override;
  bool SetBalloonTarget(uint64_t bytes) override;
  std::string NetworkInfo() override {
    return vm_.config().network_info ? vm_.config().network_info() : std::string();
  }
  MediaError Media(const MediaCommand& command) override;
  void Event(const std::string& name, const Json* data) override { Emit(name, data); }
  // Where savevm and loadvm keep their files (before the monitors start; null: no snapshots). saver: the
  // VM's index when several VMs share the store (-1: the only VM; SnapshotStore::Save).
  void set_snapshots(SnapshotStore* store, int saver = -1) {
    snapshots_ = store;
    saver_ = saver;
  }

  // -S without gdb: the VM starts paused (QEMU's prelaunch state) until cont.
  void StartPaused();
  // The run ended (tools/strobe, after Vm::Run): the SHUTDOWN event QEMU sends for it.
  void Ended(VmExit exit);

 private:
  // Runs fn on the vCPU thread and waits for it; once the run has ended, on this thread (the VM's state
  // no longer changes). false when the vCPU did not take it within kAnswerSeconds (fn then never runs).
  bool Call(std::function<void()> fn);
  // Runs fn on the vCPU thread once the disks are quiet, with the VM held still meanwhile.
  std::string CallQuiet(const std::function<std::string()>& fn);
  void Emit(const std::string& name, const Json* data = nullptr);
  // DEVICE_TRAY_MOVED for every tray movement of the VM's CD-ROM drives, BALLOON_CHANGE for the balloon.
  void WatchDeviceEvents();

  Vm& vm_;
  std::string name_;
  const Monitor& monitor_;
  gdb::VmTarget target_;  // used on the vCPU thread only (inside Call)
  EventSink events_;
  Disassembler disassembler_;
  SnapshotStore* snapshots_ = nullptr;
  int saver_ = -1;
  std::mutex mu_;         // one state change at a time from all monitors
  std::mutex frozen_mu_;  // Call's work once the run has ended, when no vCPU thread serialises it
  bool quit_sent_ = false;
  std::atomic<bool> prelaunch_{false};
};

}  // namespace strobe::vmm::mon
