// SPDX-License-Identifier: MIT
// What the monitor (HMP and QMP) asks of the machine, from its own threads: run state, stop and continue,
// power and reset, and copies of the guest's state taken while the vCPU is between slices. VmControl
// (vm_control.h) implements it over a Vm; tests implement it with a fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tlb.h"
#include "vmm/devices/pci.h"
#include "vmm/monitor/jobs.h"
#include "vmm/monitor/json.h"

namespace strobe::vmm::mon {

// The registers `info registers` shows, copied on the vCPU thread.
struct CpuSnapshot {
  uint32_t pc = 0, hi = 0, lo = 0;
  uint32_t gpr[32] = {};
  uint32_t status = 0, cause = 0, epc = 0, badvaddr = 0, entryhi = 0;
  uint32_t config[4] = {};  // Config0..3 (Strobe has no Config4/5: they read 0)
  uint32_t lladdr = 0;
  uint32_t branch_target = 0;
  bool branch_taken = false;
  bool fr = false;             // Status.FR
  uint32_t fir = 0, fcsr = 0;  // FIR is 0 without an FPU (24Kc)
  uint64_t fpr[32] = {};
};

// QEMU's run states that Strobe has: prelaunch is -S before the first cont.
enum class RunState : uint8_t { kRunning, kPaused, kPrelaunch, kDebug, kShutdown };

// QEMU's names: "running", "paused", "prelaunch", "debug", "shutdown".
inline const char* RunStateName(RunState s) {
  switch (s) {
    case RunState::kRunning: return "running";
    case RunState::kPaused: return "paused";
    case RunState::kPrelaunch: return "prelaunch";
    case RunState::kDebug: return "debug";
    case RunState::kShutdown: return "shutdown";
  }
  return "paused";
}

// One block device as `info block` and query-block show it.
struct BlockDevice {
  std::string device;  // the drive's name: ide1-cd0, virtio0, or -drive id=
  std::string qdev;    // the device it is attached to (QMP's "qdev"; the id= of the media commands)
  bool removable = false;
  bool locked = false, tray_open = false;  // removable devices only
  bool inserted = false;                   // a medium is in (always, for a disk)
  std::string file;                        // the image, when inserted
  bool read_only = false;
  std::string format = "raw";         // the image's format (raw, qcow2)
  std::string backing_file;           // the first image of its backing chain ("" none)
  int backing_depth = 0;              // how many images that chain has
  bool write_cache = true;            // the cache mode's write-back (QEMU's "Cache mode: writeback")
  std::string detect_zeroes = "off";  // off, on or unmap
  uint64_t size = 0;                  // bytes
};

// QEMU's media commands: eject, blockdev-open-tray, blockdev-close-tray, blockdev-change-medium (and HMP's
// eject and change). The device is named by its drive (`device`) or by its qdev path (`qdev`): exactly one.
struct MediaCommand {
  enum class Op : uint8_t { kEject, kOpenTray, kCloseTray, kChange };
  Op op = Op::kEject;
  std::string device, qdev;
  bool force = false;        // open a tray the guest locked
  std::string file, format;  // kChange: the new medium's image and format ("" probes; raw)
};

// A media command's failure: QEMU's error class (GenericError or DeviceNotFound) and its one line.
struct MediaError {
  std::string error_class, desc;
  bool ok() const { return desc.empty(); }
};

class MachineControl {
 public:
  virtual ~MachineControl() = default;
  virtual RunState state() = 0;
  // Stop returns once the vCPU is between slices and will run no further instruction until Cont.
  virtual void Stop() = 0;
  virtual void Cont() = 0;
  virtual void PowerDown() = 0;  // the power button (ACPI's PWRBTN on the PIIX4)
  virtual void Reset() = 0;      // the board resets, as the guest writing SOFTRES
  virtual void Quit() = 0;       // the process ends, status 0
  // Copies taken on the vCPU thread; false when the machine did not answer (held by the gdb stub).
  virtual bool Registers(CpuSnapshot* out) = 0;
  virtual bool Tlb(std::vector<runtime::TlbEntry>* out) = 0;
  // Guest-virtual (through the current mode's segments and TLB, without side effects) or guest-physical
  // (RAM only) reads: the bytes read, fewer where the memory cannot be reached.
  virtual size_t ReadVirtual(uint32_t addr, uint8_t* out, size_t size) = 0;
  virtual size_t ReadPhysical(uint64_t addr, uint8_t* out, size_t size) = 0;
  // One instruction word as QEMU's monitor prints it ("move\ts0,a0"); false without a disassembler.
  virtual bool Disassemble(uint32_t addr, uint32_t word, std::string* text) = 0;
  // User-mode networking (hostfwd_add, hostfwd_remove on `netdev`, "" for the first; info usernet): what
  // the monitor prints.
  virtual std::string HostForward(bool add, const std::string& netdev, const std::string& rule) {
    return "user mode network stack not in use\n";
  }
  virtual std::string UserNetInfo() { return ""; }
  virtual std::string NetworkInfo() { return ""; }  // info network
  // The guest's name (-name; "" without one): info name, query-name.
  virtual std::string Name() { return ""; }
  // The host thread the vCPU runs on (info cpus' thread_id); 0 before it has started.
  virtual int CpuThreadId() { return 0; }
  // Strobe's own `info jit` and `info memory` text (lines ending in '\n').
  virtual std::string JitInfo() = 0;
  virtual std::string MemoryInfo() = 0;
  // Snapshots (savevm, loadvm, delvm; vmm/snapshot): "" on success, else one line saying why not.
  // SnapshotTable is `info snapshots`.
  virtual std::string SaveSnapshot(const std::string& name) { return kNoSnapshotSupport; }
  virtual std::string LoadSnapshot(const std::string& name) { return kNoSnapshotSupport; }
  virtual std::string DeleteSnapshot(const std::string& name) { return kNoSnapshotSupport; }
  virtual std::string SnapshotTable() { return std::string(kNoSnapshotSupport) + "\n"; }
  static constexpr const char* kNoSnapshotSupport = "this machine has no snapshot store";
  // Block devices and removable media (info block, query-block; eject, change and the tray commands).
  // A media command's tray movements come as DEVICE_TRAY_MOVED events, before it returns.
  virtual std::vector<BlockDevice> Blocks() { return {}; }
  // The PCI functions on the bus, in device/function order (info pci).
  virtual std::vector<PciFunctionInfo> Pci() { return {}; }
  // The memory balloon (virtio-balloon-pci): the guest's memory in bytes as the balloon leaves it; false
  // without a balloon device.
  virtual bool BalloonActual(uint64_t* bytes) { return false; }
  // Asks the guest to leave itself `bytes` of memory (at most its RAM); false without a balloon device.
  virtual bool SetBalloonTarget(uint64_t bytes) { return false; }
  virtual MediaError Media(const MediaCommand& command) {
    const std::string& name = command.device.empty() ? command.qdev : command.device;
    return {"DeviceNotFound", "Device '" + name + "' not found"};
  }
  // Events the protocol code raises itself (JOB_STATUS_CHANGE), for every QMP client.
  virtual void Event(const std::string& name, const Json* data) {}
  // The machine's jobs (QMP's snapshot-save/-load/-delete), shared by every QMP client.
  JobList& jobs() { return jobs_; }

 private:
  JobList jobs_;
};

}  // namespace strobe::vmm::mon
