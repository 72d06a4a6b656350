// SPDX-License-Identifier: MIT
#include "vmm/monitor/vm_control.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>

#include "vmm/snapshot/vm_state.h"
#include "vmm/vm_stats.h"

namespace strobe::vmm::mon {

bool VmControl::Call(std::function<void()> fn) {
  struct Job {
    std::mutex mu;
    std::condition_variable cv;
    int state = 0;  // 0 waiting, 1 taken, 2 done
    std::function<void()> fn;
    bool Take() {
      std::lock_guard<std::mutex> lock(mu);
      if (state != 0) return false;
      state = 1;
      return true;
    }
    void Done() {
      std::lock_guard<std::mutex> lock(mu);
      state = 2;
      cv.notify_all();
    }
  };
  auto job = std::make_shared<Job>();
  job->fn = std::move(fn);
  if (vm_.finished()) {
    std::lock_guard<std::mutex> frozen(frozen_mu_);  // the monitors' threads, one at a time
    job->fn();
    return true;
  }
  vm_.RunOnVcpu([job] {
    if (!job->Take()) return;  // the caller gave up or ran it itself
    job->fn();
    job->Done();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kAnswerSeconds);
  std::unique_lock<std::mutex> lock(job->mu);
  for (;;) {
    if (job->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return job->state == 2; })) return true;
    const bool gone = vm_.finished();
    if (job->state == 0 && (gone || std::chrono::steady_clock::now() > deadline)) {
      job->state = 1;  // taken here: the vCPU will skip it
      lock.unlock();
      if (!gone) return false;
      std::lock_guard<std::mutex> frozen(frozen_mu_);
      job->fn();  // the run has ended: the state is frozen, read it here
      return true;
    }
  }
}

void VmControl::Emit(const std::string& name, const Json* data) {
  if (events_) events_(name, data);
}

RunState VmControl::state() {
  if (vm_.finished()) return RunState::kShutdown;
  if (vm_.held_by_debugger()) return RunState::kDebug;
  if (!vm_.paused()) return RunState::kRunning;
  return prelaunch_.load() ? RunState::kPrelaunch : RunState::kPaused;
}

void VmControl::StartPaused() {
  prelaunch_.store(true);
  vm_.SetPaused(true);
}

void VmControl::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (vm_.paused() || vm_.finished()) return;
  vm_.SetPaused(true);
  Call([] {});  // returns once the vCPU is out of its slice: no instruction runs after this
  Emit("STOP");
}

void VmControl::Cont() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!vm_.paused() || vm_.finished()) return;
  prelaunch_.store(false);
  Emit("RESUME");  // before the vCPU runs, as QEMU: a SHUTDOWN that follows comes after it
  vm_.SetPaused(false);
}

void VmControl::PowerDown() {
  std::lock_guard<std::mutex> lock(mu_);
  Emit("POWERDOWN");
  Call([this] { vm_.board().pm().PressPowerButton(); });
}

void VmControl::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  Json data = Json::Object();
  data.Set("guest", false).Set("reason", "host-qmp-system-reset");
  Emit("RESET", &data);
  // As the guest writing SOFTRES: the board reboots (with -no-reboot the run ends, as on QEMU).
  Call([this] { vm_.ResetBoard(); });
}

void VmControl::Quit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!quit_sent_) {
      quit_sent_ = true;
      Json data = Json::Object();
      data.Set("guest", false).Set("reason", "host-qmp-quit");
      Emit("SHUTDOWN", &data);
    }
  }
  vm_.RequestQuit();
}

void VmControl::Ended(VmExit exit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (quit_sent_) return;
  quit_sent_ = true;
  const char* reason = nullptr;
  switch (exit) {
    case VmExit::kPowerOff: reason = "guest-shutdown"; break;
    case VmExit::kReset: reason = "guest-reset"; break;
    case VmExit::kPanic: reason = "guest-panic"; break;
    case VmExit::kQuit: reason = "host-signal"; break;
    default: reason = "host-error"; break;
  }
  Json data = Json::Object();
  data.Set("guest", exit == VmExit::kPowerOff || exit == VmExit::kReset || exit == VmExit::kPanic)
      .Set("reason", reason);
  Emit("SHUTDOWN", &data);
}

bool VmControl::Registers(CpuSnapshot* out) {
  return Call([this, out] {
    const runtime::CpuState& c = vm_.cpu();
    out->pc = c.pc;
    out->hi = c.hi;
    out->lo = c.lo;
    for (unsigned i = 0; i < 32; ++i) out->gpr[i] = c.gpr[i];
    out->status = c.cp0.status;
    out->cause = c.cp0.cause;
    out->epc = c.cp0.epc;
    out->badvaddr = c.cp0.badvaddr;
    out->entryhi = c.cp0.entryhi;
    out->config[0] = c.cp0.config0;
    out->config[1] = c.cp0.config1;
    out->config[2] = c.cp0.config2;
    out->config[3] = c.cp0.config3;
    out->lladdr = c.cp0.lladdr;
    out->branch_target = c.branch_target;
    out->branch_taken = c.branch_taken;
    out->fir = c.fpu.fir;
    out->fcsr = c.fpu.fcsr;
    out->fr = (c.cp0.status & runtime::st::FR) != 0;
    for (unsigned i = 0; i < 32; ++i) out->fpr[i] = c.fpu.fpr[i];
  });
}

bool VmControl::Tlb(std::vector<runtime::TlbEntry>* out) {
  return Call([this, out] {
    const runtime::GuestTlb& tlb = *vm_.cpu().tlb;
    out->clear();
    for (unsigned i = 0; i < tlb.size(); ++i) out->push_back(tlb.at(i));
  });
}

std::vector<PciFunctionInfo> VmControl::Pci() {
  std::vector<PciFunctionInfo> out;
  Call([&] { out = vm_.board().pci().Info(); });
  return out;
}

bool VmControl::BalloonActual(uint64_t* bytes) {
  bool have = false;
  Call([&] {
    if (const VirtioBalloon* b = vm_.balloon()) {
      have = true;
      *bytes = b->memory_left();
    }
  });
  return have;
}

bool VmControl::SetBalloonTarget(uint64_t bytes) {
  bool have = false;
  Call([&] {
    if (VirtioBalloon* b = vm_.balloon()) {
      have = true;
      const uint64_t ram = vm_.config().ram_bytes;  // a target above the RAM is the RAM, as in QEMU
      b->SetTarget(static_cast<uint32_t>((ram - std::min(bytes, ram)) >> 12));
    }
  });
  return have;
}

size_t VmControl::ReadVirtual(uint32_t addr, uint8_t* out, size_t size) {
  size_t done = 0;
  if (!Call([&] { done = target_.ReadMemory(addr, out, size); })) return 0;
  return done;
}

size_t VmControl::ReadPhysical(uint64_t addr, uint8_t* out, size_t size) {
  if (addr > 0xFFFFFFFFu || addr + size > 0x100000000ull) return 0;
  size_t done = 0;
  const auto pa = static_cast<uint32_t>(addr);
  // RAM only, as GuestMemory reads it (a device register read could have side effects).
  if (!Call([&] { done = vm_.guest_memory().Read(pa, out, size) ? size : 0; })) return 0;
  return done;
}

int VmControl::CpuThreadId() {
  // A monitor that answers before the run loop started (a loaded host) asks the vCPU thread itself, which
  // serves posted work once it runs; it read 0 before.
  int tid = vm_.vcpu_thread_id();
  if (tid == 0) Call([&] { tid = vm_.vcpu_thread_id(); });
  return tid;
}

std::string VmControl::JitInfo() {
  std::string out;
  Call([&] {
    out = ExecutionStats(vm_) + "\n";
    const std::vector<std::string> lines = JitStats(vm_);
    if (lines.empty()) out += "no tiered compiler in this run (--engine)\n";
    for (const std::string& l : lines) out += l + "\n";
  });
  return out;
}

std::string VmControl::MemoryInfo() {
  std::string out;
  Call([&] {
    for (const std::string& l : MemoryStats(vm_, monitor_)) out += l + "\n";
  });
  return out;
}

// QEMU stops the VM for savevm and loadvm and resumes it afterwards, with its STOP and RESUME events; so
// does this. Requests still in flight finish first (their completions run between attempts), so the state
// holds no half-done I/O.
std::string VmControl::CallQuiet(const std::function<std::string()>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool was_paused = vm_.paused() || vm_.finished();
  if (!was_paused) {
    vm_.SetPaused(true);
    Emit("STOP");
  }
  std::string result = "the disks did not settle";
  for (int attempt = 0; attempt < 1000; ++attempt) {
    bool done = false;
    if (!Call([&] {
          if (!VmState::Quiet(vm_)) return;
          result = fn();
          done = true;
        })) {
      result = "the vCPU did not answer (held by the gdb stub?)";
      break;
    }
    if (done) break;
  }
  if (!was_paused) {
    Emit("RESUME");
    vm_.SetPaused(false);
  }
  return result;
}

std::string VmControl::SaveSnapshot(const std::string& name) {
  if (!snapshots_) return kNoSnapshotSupport;
  return CallQuiet([&] {
    std::string error;
    return snapshots_->Save(vm_, name, &error, saver_) ? std::string() : error;
  });
}

std::string VmControl::LoadSnapshot(const std::string& name) {
  if (!snapshots_) return kNoSnapshotSupport;
  return CallQuiet([&] {
    std::string error;
    return snapshots_->Load(vm_, name, &error) ? std::string() : error;
  });
}

std::string VmControl::DeleteSnapshot(const std::string& name) {
  if (!snapshots_) return kNoSnapshotSupport;
  std::string error;
  return snapshots_->Delete(name, &error) ? std::string() : error;
}

std::string VmControl::SnapshotTable() {
  if (!snapshots_) return std::string(kNoSnapshotSupport) + "\n";
  return FormatSnapshotTable(snapshots_->List());
}

}  // namespace strobe::vmm::mon
