// SPDX-License-Identifier: MIT
// One virtual machine: a Malta board, its pmap into the monitor's machine memory, one vCPU and the engine
// that runs it. The run loop owns virtual time: the timer, idling in WAIT, power requests and time limits.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/debug.h"
#include "runtime/runtime.h"
#include "translator/code/code_cache.h"
#include "translator/interp/interpreter.h"
#include "translator/jit/tier.h"
#include "vmm/block/backend.h"
#include "vmm/block/block_queue.h"
#include "vmm/clock.h"
#include "vmm/devices/pcnet_pci.h"
#include "vmm/devices/power.h"
#include "vmm/devices/virtio_balloon.h"
#include "vmm/devices/virtio_blk.h"
#include "vmm/devices/virtio_net.h"
#include "vmm/devices/virtio_pci.h"
#include "vmm/devices/virtio_rng.h"
#include "vmm/elf_loader.h"
#include "vmm/guest_memory.h"
#include "vmm/malta.h"
#include "vmm/monitor.h"
#include "vmm/net/backend.h"
#include "vmm/net/net_port.h"
#include "vmm/net/pcap.h"
#include "vmm/pmap.h"
#include "vmm/timed_events.h"

namespace strobe::vmm {

enum class Engine { kInterp, kJit, kTiered };

// A disk or an ATAPI CD-ROM drive on the PIIX4 IDE controller. The backend belongs to the caller and must
// outlive the VM.
struct IdeDisk {
  block::BlockBackend* backend = nullptr;  // null only for a CD-ROM drive with no disc
  unsigned index = 0;  // 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave
  std::string serial;  // IDENTIFY's serial number
  bool write_cache = true;
  bool cdrom = false;  // an ATAPI CD/DVD-ROM drive (the backend read-only), as QEMU's ide-cd
  std::string id;      // the drive's name for the monitor (QEMU's: ide1-cd0, or -drive id=)
};

// Add-on PCI devices (virtio disks, NICs other than the on-board one) take the free slots from 18 (00:12.0)
// up in the order QEMU creates them: ascending pci_order, and on a tie disks before NICs, each in its
// vector's order (tools/strobe numbers them from the command line: drive_options.h, pci_order).

// A virtio-blk disk (PCI, legacy virtio). The backend belongs to the caller and must outlive the VM.
struct VirtioDisk {
  block::BlockBackend* backend = nullptr;
  std::string serial;  // GET_ID (empty: none, as QEMU's default)
  bool write_cache = true;
  int pci_order = 0;
  std::string id;         // the drive's name for the monitor (QEMU's: virtio0, or -drive id=)
  int devfn = -1;         // -device ...,addr=SLOT[.FN]: (slot << 3) | function; -1: the next free slot
  std::string device_id;  // -device ...,id=
  std::string option;     // as given, for messages
};

// A network card. The backend (and the capture) belong to the caller and must outlive the VM.
enum class NicModel { kPcnet, kVirtio };
// QEMU's device type name for the model (its -device name, and what its messages and info network say).
inline const char* QdevType(NicModel m) {
  return m == NicModel::kVirtio ? "virtio-net-pci" : "pcnet";
}
struct NicConfig {
  NicModel model = NicModel::kPcnet;
  std::array<uint8_t, 6> mac{};
  net::NetBackend* backend = nullptr;  // null: not connected (the NIC's frames go nowhere)
  net::PcapWriter* pcap = nullptr;     // -object filter-dump / --pcap (null: none)
  std::string netdev_id;               // the backend's -netdev id (empty for -nic and -net user)
  bool onboard = false;                // the Malta's own PCnet at 00:0b.0 (a pcnet; the first one only)
  int pci_order = 0;
  int devfn = -1;         // -device ...,addr=SLOT[.FN]: (slot << 3) | function; -1: the next free slot
  std::string device_id;  // -device ...,id=
  std::string option;     // as given, for messages
};

// A virtio entropy device (QEMU's virtio-rng-pci).
struct RngConfig {
  // Where its bytes come from (null: rng-builtin, the host's getrandom, or in the deterministic mode a
  // fixed stream). Several devices may share one source, as QEMU's devices share a backend object.
  std::shared_ptr<EntropySource> source;
  uint64_t max_bytes = INT64_MAX;  // per period of period_ms of virtual time
  uint32_t period_ms = 1u << 16;
  int pci_order = 0;
  int devfn = -1;         // -device ...,addr=SLOT[.FN]; -1: the next free slot
  std::string device_id;  // -device ...,id=
  std::string option;     // as given, for messages
};

// QEMU's virtio-balloon-pci (at most one, as in QEMU).
struct BalloonConfig {
  int pci_order = 0;
  int devfn = -1;         // -device ...,addr=SLOT[.FN]; -1: the next free slot
  std::string device_id;  // -device ...,id=
  std::string option;     // as given, for messages
};

struct VmConfig {
  uint32_t ram_bytes = 256u << 20;
  std::string kernel;  // path of an ELF, or empty when `image` is given
  ElfImage image;      // used when kernel is empty
  std::string initrd;
  std::string append;
  bool no_reboot = false;
  // -rtc base=: the RTC starts at the host's time in UTC (default), in local time, or at a given time.
  bool rtc_localtime = false;
  int64_t rtc_start = -1;  // seconds since the epoch, shown as UTC by the RTC (-1: the host's time)
  bool warp_idle = false;  // WAIT jumps virtual time to the next timer event instead of sleeping
  // -icount shift=N (QEMU's spelling; -1: off): each instruction is 2^N ns of virtual time (the clock runs
  // at 10^9 / 2^N cycles a second instead of 200 MHz), the interpreter runs every instruction (the engine
  // is taken as kInterp), and disk requests complete a fixed virtual time after the guest made them.
  int icount_shift = -1;
  // -icount ...,sleep=off: WAIT jumps to the next event (never host time), which makes the run
  // deterministic (deterministic()): the RTC starts at rtc_start or at kFixedEpoch, Linux's boot-loader
  // seed (rngseed) is fixed. sleep=on (QEMU's default): idle virtual time follows host time.
  bool icount_sleep = true;
  bool deterministic() const { return icount_shift >= 0 && !icount_sleep; }
  double timeout_seconds = 0;     // 0: none; host time running (not held by gdb, not paused by the monitor)
  uint64_t max_instructions = 0;  // 0: none (tests and benchmarks)
  unsigned tlb_entries = 64;      // measured best for the Linux boot (vmm/README.md)
  runtime::CpuModel cpu_model = runtime::CpuModel::k24Kf;  // -cpu: the 24Kf, as QEMU's Malta
  Engine engine = Engine::kTiered;
  uint64_t jit_threshold =
      16000;  // tiered: executions before a block's region is compiled (measured: vmm/README.md)
  // The same for code run in kseg0/kseg1, the kernel (0: jit_threshold; the CLI's tiered default: 24,000)
  uint64_t jit_kernel_threshold = 0;
  // Kernel code's threshold once user programs run (jit::TierOptions::serving_kernel_threshold; 0: none; the
  // CLI's tiered default: jit_threshold's)
  uint64_t jit_serving_kernel_threshold = 0;
  // tiered: execution counts halve every 2^N guest instructions (0: never); 2^27 measured in
  // translator/README.md
  unsigned jit_cooling_shift = 27;
  // tiered: executions (as counted for the threshold) before a block gets the interpreter's baseline code
  // (translator/interp/baseline.h; 0: never)
  uint64_t jit_baseline = 64;
  uint64_t jit_reoptimize_after =
      2000;  // second tier: region entries before it is recompiled at O1 (0: never)
  // second tier: guest instructions a second a region's code must run to be (and stay) queued for it
  uint64_t jit_busy_rate = 4'000'000;
  // LLVM's level for compiled regions. The CLI's default for the tiered engine is one tier at O1 (with no
  // second tier and the kernel at 24,000: DefaultToOneTier in tools/strobe/options.cpp, measured in
  // vmm/README.md); tests and the jit engine keep the cheap first tier and the second.
  unsigned jit_opt_level = 0;
  bool jit_listings = false;     // keep IR and host code sizes for strobe dump
  bool jit_inline_kseg = false;  // the inline kseg0/kseg1 pmap path in translated code (measured: off)
  // Which regions the optimising tier keeps guest registers in host registers in (jit::Promote)
  jit::Promote jit_promote = jit::Promote::kLoops;
  std::string jit_perf_map;  // write a perf map of translated code to this file (empty: off)
  // The persistent code cache's folder (translator/jit/persistent_cache.h; empty: off). The CLI's default
  // is jit::DefaultCodeCacheDir(); tests and benchmarks leave it off unless they test it.
  std::string jit_code_cache_dir;
  std::vector<IdeDisk> ide_disks;
  std::vector<VirtioDisk> virtio_disks;
  std::vector<NicConfig> nics;
  std::vector<RngConfig> rngs;
  std::vector<BalloonConfig> balloons;  // none or one
  // QEMU's default display, a Cirrus VGA, takes the first free slot after the board's NICs (machine init,
  // before any -device): Strobe has no display but leaves that slot empty, so that add-on devices get
  // QEMU's slots. Its place in the creation order (tools/strobe pci_order), or -1 (-vga none, -nodefaults).
  int vga_pci_order = -1;
  // The network as the monitor's `info network` shows it now (from the monitor's thread; null: none).
  std::function<std::string()> network_info;
  // The LLVM compilers, shared with the other VMs of the process (null: the VM's tier brings its own).
  // Made with CompileService::Create(TierOptionsFor(config)) from a config with the same jit settings.
  std::shared_ptr<jit::CompileService> compile_service;
  // Decoded instructions shared with the other VMs of the process (null: the VM's blocks keep their own).
  std::shared_ptr<code::OpsPool> ops_pool;
  // Baseline code shared with the other VMs of the process (null: the VM's code cache keeps its own).
  std::shared_ptr<code::BaselinePool> baseline_pool;
};

// The translation tier's policy for a VM with this configuration (engine and --jit-* settings).
jit::TierOptions TierOptionsFor(const VmConfig& config);

// The RTC's start in the deterministic mode without -rtc base=DATE: 2000-01-01T00:00:00 UTC.
inline constexpr int64_t kFixedEpoch = 946684800;
// The deterministic mode: a disk request completes this long (virtual time) after the guest made it.
inline constexpr double kDiskLatencySeconds = 100e-6;

enum class VmExit { kPowerOff, kReset, kHalted, kTimeout, kInstructionLimit, kError, kPanic, kQuit };
const char* ToString(VmExit e);

inline constexpr uint32_t kMinRamBytes = 2u << 20;
// QEMU's Malta takes up to 2 GiB. The first 256 MiB are at physical 0 (below the I/O window at 256 MiB,
// reachable through kseg0/kseg1); RAM beyond 512 MiB also appears at physical 512 MiB and up, as in QEMU
// (only through the TLB). The boot loader announces memsize = the low part and ememsize = all of it.
inline constexpr uint32_t kMaxRamBytes = 2048u << 20;
inline constexpr uint32_t kLowRamBytes = 256u << 20;
static_assert(kMaxRamBytes == kMaxGuestFileBytes);

// A debugger's side of the run loop (vmm/debug/gdb_server.h). The run loop calls it on the vCPU thread.
struct DebugEvent {
  enum class Kind : uint8_t { kStart, kAttach, kBreakpoint, kWatch, kStep, kInterrupt };
  Kind kind = Kind::kStart;
  runtime::Watchpoint watch;  // kWatch: the watchpoint hit
  bool watch_write = false;   // kWatch: the access was a store
};
enum class DebugResume : uint8_t { kContinue, kStep, kKill };
class DebugAgent {
 public:
  virtual ~DebugAgent() = default;
  // The VM stopped: serve the debugger (the VM's state may be read and changed) until it resumes it.
  virtual DebugResume Stopped(const DebugEvent& why) = 0;
  // Run() is ending for this reason (power-off, an error, ...): tell the debugger.
  virtual void Ended(VmExit exit) = 0;
  // Any thread: the run is to end (Ctrl-A x, a signal). A Stopped() that waits returns kKill.
  virtual void QuitRequested() = 0;
};

class Vm {
 public:
  using ConsoleSink = std::function<void(uint8_t)>;
  Vm(Monitor& monitor, VmConfig config, ConsoleSink console);
  ~Vm();

  // Loads the kernel (and initrd) and puts the CPU in the state a YAMON-style boot loader leaves.
  bool Boot(std::string* error);
  // Runs until the guest powers off, halts, or the run is ended; then every disk request still in flight
  // is finished and the disks are flushed (fdatasync), whatever the reason for the end.
  VmExit Run();
  const std::string& error() const { return error_; }
  // The monitor's hostfwd_add/hostfwd_remove on the user-mode network `netdev` (its -netdev id; empty: the
  // first user-mode network), and info usernet: what the monitor prints. From any thread.
  std::string HostForward(bool add, const std::string& netdev, const std::string& rule);
  std::string UserNetInfo();
  // The host thread that runs (or ran) Run(), Linux's thread id; 0 before Run() starts (info cpus).
  int vcpu_thread_id() const { return vcpu_tid_.load(); }

  // Console input from the host (thread-safe): queued in the UART, and wakes an idle vCPU.
  void ConsoleInput(uint8_t byte);
  // Ends Run() at the next slice boundary with VmExit::kQuit (thread-safe; the console's Ctrl-A x).
  void RequestQuit();
  // Blocks until RequestQuit() (-no-shutdown: the VM is stopped after a power-off, the process stays).
  void WaitForQuit();

  runtime::CpuState& cpu() { return ctx_->cpu; }
  MaltaBoard& board() { return *board_; }
  Pmap& pmap() { return *pmap_; }
  interp::Interpreter& interpreter() { return *interp_; }
  code::CodeCache& code_cache() { return *code_; }
  jit::Tier* tier() { return tier_.get(); }
  // The one path for device DMA into guest RAM (copy-on-write, code invalidation, soft TLBs).
  GuestMemory& guest_memory() { return *dma_; }
  // The NICs, in VmConfig::nics order (tests): a PCnet's function, or a virtio-net device and its
  // transport (null for the other model).
  size_t nic_count() const { return nics_.size(); }
  PcnetPci* pcnet(size_t index) { return nics_[index].pcnet.get(); }
  // The station address NIC `index` takes frames for now (net::NicFrontend::StationAddress).
  std::array<uint8_t, 6> nic_address(size_t index) {
    return nics_[index].pcnet ? nics_[index].pcnet->chip().StationAddress()
                              : nics_[index].virtio->StationAddress();
  }
  VirtioNet* virtio_net(size_t index) { return nics_[index].virtio.get(); }
  // The PCI slot a NIC or a virtio disk sits in (-1: none, the bus was full).
  int nic_slot(size_t index) const { return nics_[index].slot; }
  int virtio_disk_slot(size_t index) const { return virtio_[index].slot; }
  // Runs the disk completions posted so far (the run loop does this between slices; tests call it).
  size_t RunCompletions() { return completions_.RunCompletions(); }
  // Waits until every submitted disk request has executed, then flushes the disks; 0 or the first errno.
  int DrainDisks();
  const VmConfig& config() const { return config_; }
  // The virtio-blk disks, in config order (transport and device).
  VirtioPci& virtio_pci(size_t i) { return *virtio_[i].pci; }
  VirtioBlk& virtio_blk(size_t i) { return *virtio_[i].blk; }
  // The virtio-rng devices, in config order.
  VirtioRng& virtio_rng(size_t i) { return *rngs_[i].device; }
  // The balloon (null: none). vCPU thread, as every device.
  VirtioBalloon* balloon() { return balloon_.get(); }
  // The guest changed the balloon's size: its memory in bytes now (QMP's BALLOON_CHANGE). Before Run.
  void set_on_balloon_change(std::function<void(uint64_t)> fn) { on_balloon_change_ = std::move(fn); }
  // A debugger (before Run). start_stopped: -S, the VM waits for it before the first instruction.
  void AttachDebugger(DebugAgent* agent, bool start_stopped);
  // Stops the running VM for the debugger at the next slice boundary (thread-safe: gdb's Ctrl-C, or a new
  // connection). `attach`: report it as an attach rather than an interrupt.
  void RequestDebugStop(bool attach = false);
  runtime::DebugState& debug_state() { return debug_state_; }

  // --- the monitor (vmm/monitor): any thread ---
  // Runs fn on the vCPU thread between slices (also while paused or waiting in WAIT), in order.
  void RunOnVcpu(std::function<void()> fn) { completions_.Post(std::move(fn)); }
  // QEMU's stop/cont: paused, the run loop runs no instruction (virtual time stands still) and serves
  // only posted work, power requests and quit until resumed.
  void SetPaused(bool paused);
  bool paused() const { return paused_.load(); }
  // The gdb stub holds the VM stopped (DebugAgent::Stopped is running).
  bool held_by_debugger() const { return in_debugger_.load(); }
  // Run() has returned: the vCPU thread no longer touches the VM.
  bool finished() const { return finished_.load(); }
  // The board resets as when the guest writes SOFTRES (the monitor's system_reset; vCPU thread).
  void ResetBoard() { power_.Raise(PowerRequest::kReset); }
  // Stop Run() once this many instructions have retired in total (0: no limit).
  void SetInstructionLimit(uint64_t retired_total) { config_.max_instructions = retired_total; }

  // --- removable media (vm_media.cpp): the monitor's eject and change, on the vCPU thread ---
  // The host's hand on the tray of the CD-ROM drive at IDE index `ide_index` (AtaChannel::HostOpenTray and
  // the rest). OpenTray: false when the guest holds the tray locked and `force` is not given (the drive
  // then posts an eject request). ChangeDisc puts `disc` (null: none) in the open tray; the VM owns it from
  // then on and serves it with its own I/O worker, and config().ide_disks shows it. The old disc's worker
  // and image go once the reads in flight on them are done.
  bool OpenTray(unsigned ide_index, bool force);
  void ChangeDisc(unsigned ide_index, std::unique_ptr<block::BlockBackend> disc);
  void CloseTray(unsigned ide_index);
  // Called on the vCPU thread whenever a CD-ROM drive's tray opens or closes (the guest's command or the
  // host's hand).
  void set_on_tray_moved(std::function<void(unsigned ide_index, bool open)> f) {
    on_tray_moved_ = std::move(f);
  }

 private:
  friend class VmState;  // snapshots (vmm/snapshot/vm_state.h) read and restore the whole VM
  bool LoadImage(const ElfImage& image, uint32_t* image_end, std::string* error);
  bool WriteGuest(uint32_t paddr, const void* data, size_t size);
  void SetupBootArguments(const std::string& cmdline, uint32_t entry);
  VmExit RunLoop();
  bool ServeDebugger();  // false: the debugger killed the VM
  bool Idle();
  double WaitForWake(double seconds);
  bool DisksBusy() const;
  bool NetworkBusy() const;
  void Wake();
  bool FailWith(std::string msg);
  void WatchConsole(uint8_t byte);

  Monitor& monitor_;
  VmConfig config_;
  PowerControl power_;
  std::unique_ptr<Pmap> pmap_;
  std::unique_ptr<runtime::VcpuContext> ctx_;
  std::unique_ptr<VirtualClock> clock_;
  std::unique_ptr<MaltaBoard> board_;
  // Decoded and translated code; the tier drops its regions from it when it goes.
  std::unique_ptr<code::CodeCache> code_;
  std::unique_ptr<jit::Tier> tier_;
  std::unique_ptr<interp::Interpreter> interp_;
  std::unique_ptr<GuestMemory> dma_;
  // Disk I/O: the workers post completions here; the queues go before the list (their drain posts to it).
  block::CompletionList completions_;
  TimedEvents timed_;  // the deterministic mode's disk completions, at their virtual times
  // Devices' own timers (virtio-rng's rate-limit periods and retries), due at virtual times like timed_ but
  // host policy, not guest state: a snapshot neither waits for nor keeps them.
  TimedEvents device_timers_;
  // Discs the monitor put in CD-ROM drives (before the queues that read them: destroyed after them), and
  // the queues of discs taken out that still had reads in flight (they leave disk_queues_ when those are
  // done).
  std::vector<std::unique_ptr<block::BlockBackend>> host_discs_;
  std::vector<std::unique_ptr<block::BlockQueue>> disk_queues_;
  std::vector<block::BlockQueue*> retired_queues_;
  std::function<void(unsigned ide_index, bool open)> on_tray_moved_;
  IdeDisk* FindIdeDisk(unsigned ide_index);
  void DropIdleDiscs();
  struct Virtio {
    std::unique_ptr<VirtioBlk> blk;
    std::unique_ptr<VirtioPci> pci;
    int slot = -1;
  };
  std::vector<Virtio> virtio_;  // after the queues: destroyed before them
  // Network: the NICs and their ports (a port's backend thread posts to completions_: the ports go after
  // the list, so they are destroyed, and their threads stopped, first).
  struct Nic {
    std::unique_ptr<PcnetPci> pcnet;
    std::unique_ptr<VirtioNet> virtio;
    std::unique_ptr<VirtioPci> virtio_pci;
    int slot = -1;
  };
  // Build config_.virtio_disks[i] / config_.nics[i] into virtio_[i] / nics_[i], in the given slot (-1:
  // the bus is full).
  // Make device i and attach it at devfn ((slot << 3) | function; -1: nowhere, the bus refused it).
  void AddVirtioDisk(size_t i, int devfn);
  void AddNic(size_t i, int devfn);
  void AddRng(size_t i, int devfn);
  void AddBalloon(int devfn);
  void MakeDeterministic(block::BlockQueue& queue);
  std::vector<Nic> nics_;
  struct Rng {
    std::unique_ptr<VirtioRng> device;
    std::unique_ptr<VirtioPci> pci;
  };
  std::vector<Rng> rngs_;
  std::unique_ptr<VirtioBalloon> balloon_;
  std::unique_ptr<VirtioPci> balloon_pci_;
  std::function<void(uint64_t actual_bytes)> on_balloon_change_;
  std::vector<std::unique_ptr<net::NetPort>> net_ports_;
  bool pci_full_ = false;  // a device found no free slot: Boot refuses the configuration
  std::string pci_error_;  // a device's addr= could not be taken (QEMU's message): Boot refuses too
  std::string error_;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  std::atomic<bool> quit_{false};
  std::atomic<bool> paused_{false};
  std::atomic<bool> in_debugger_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> vcpu_tid_{0};

  // Debugging (vmm/debug): the agent, a stop it asked for from another thread, and a single step to run.
  std::atomic<DebugAgent*> debug_{nullptr};  // set before Run; RequestQuit reads it from any thread
  runtime::DebugState debug_state_;
  std::atomic<int> debug_request_{0};  // 0 none, 1 interrupt, 2 attach
  bool debug_start_ = false;
  bool debug_step_ = false;  // the debugger asked for one instruction
  bool debug_stepped_ = false;
  // Host time the VM spent held by the debugger or paused by the monitor: --timeout does not count it.
  std::chrono::steady_clock::duration stopped_time_{};

  // Guest panic detection: Linux's panic() prints this line and then spins forever.
  std::string console_line_;
  uint64_t panic_seen_at_ = 0;  // cycle the panic line completed (0: none)
};

}  // namespace strobe::vmm
