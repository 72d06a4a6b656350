// SPDX-License-Identifier: MIT
#include "vmm/vm.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include "runtime/segments.h"

namespace strobe::vmm {

namespace {
constexpr unsigned kOnboardNicSlot = 11;  // 00:0b.0, QEMU's Malta's AMD NIC
// Boot-loader argument block (YAMON layout, as the Malta kernel reads it in fw/lib/cmdline.c):
// a table of kseg0 string pointers at physical 0x2000 shared by argv (from entry 0) and envp (from entry 2).
constexpr uint32_t kArgTable = 0x2000;
constexpr uint32_t kArgStrings = 0x2040;
constexpr uint32_t kArgEnd = 0x4000;
constexpr uint32_t kInitrdGap = 128u << 10;
constexpr uint64_t kSliceCycles = 1u << 20;  // how often host-side events are polled

uint32_t RoundUp(uint32_t v, uint32_t a) {
  return (v + a - 1) & ~(a - 1);
}
std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
}  // namespace

const char* ToString(VmExit e) {
  switch (e) {
    case VmExit::kPowerOff: return "power-off";
    case VmExit::kReset: return "reset";
    case VmExit::kHalted: return "halted";
    case VmExit::kTimeout: return "timeout";
    case VmExit::kInstructionLimit: return "instruction limit";
    case VmExit::kError: return "error";
    case VmExit::kPanic: return "guest panic";
    case VmExit::kQuit: return "quit";
  }
  return "?";
}

jit::TierOptions TierOptionsFor(const VmConfig& config) {
  jit::TierOptions t;
  t.eager = config.engine == Engine::kJit;
  t.threshold = config.jit_threshold;
  t.kernel_threshold = config.jit_kernel_threshold;
  t.serving_kernel_threshold = config.jit_serving_kernel_threshold;
  t.cooling_shift = config.jit_cooling_shift;
  t.baseline = config.jit_baseline;
  t.compile.opt_level = config.jit_opt_level;
  t.compile.keep_listings = config.jit_listings;
  t.compile.perf_map = config.jit_perf_map;
  t.compile.inline_kseg = config.jit_inline_kseg;
  t.compile.promote = config.jit_promote;
  t.compile.exact_budget = config.icount_shift >= 0;
  t.compile.code_cache_dir = config.jit_code_cache_dir;
  t.optimize_after = config.jit_reoptimize_after;
  t.busy_rate = config.jit_busy_rate;
  return t;
}

Vm::Vm(Monitor& monitor, VmConfig config, ConsoleSink console)
    : monitor_(monitor), config_(std::move(config)) {
  pmap_ = std::make_unique<Pmap>(monitor_, config_.ram_bytes);
  runtime::CpuConfig cpu_config;
  cpu_config.tlb_entries = config_.tlb_entries;
  cpu_config.model = config_.cpu_model;
  // Code is tracked for every physical page that can hold RAM: the 512 MiB kseg0/kseg1 window, and beyond
  // it the RAM above 512 MiB (same addresses as its offsets).
  const uint32_t phys_pages = std::max(runtime::kUnmappedWindow, config_.ram_bytes) >> runtime::kPageBits;
  ctx_ = std::make_unique<runtime::VcpuContext>(cpu_config, nullptr, phys_pages);
  clock_ = std::make_unique<VirtualClock>(ctx_->cpu, config_.icount_shift >= 0
                                                         ? VirtualClock::HzForShift(config_.icount_shift)
                                                         : kCyclesPerSecond);
  const bool deterministic = config_.deterministic();
  std::time_t rtc_start = config_.rtc_start >= 0 ? static_cast<std::time_t>(config_.rtc_start)
                          : deterministic        ? static_cast<std::time_t>(kFixedEpoch)
                                                 : std::time(nullptr);
  // The RTC's fields show local time, as QEMU's (not in the deterministic mode: the host's zone).
  if (config_.rtc_localtime && config_.rtc_start < 0 && !deterministic) {
    std::tm local;
    localtime_r(&rtc_start, &local);
    rtc_start += local.tm_gmtoff;
  }
  board_ = std::make_unique<MaltaBoard>(
      *pmap_, power_, *clock_,
      [this, sink = std::move(console)](uint8_t b) {
        sink(b);
        WatchConsole(b);
      },
      rtc_start);
  ctx_->cpu.bus = board_.get();
  board_->set_on_io([this] { ctx_->cpu.exit_request |= runtime::exitreq::kIrqCheck; });
  pmap_->set_soft_tlb(&ctx_->soft_tlb);
  power_.on_request = [this] { ctx_->cpu.exit_request |= runtime::exitreq::kStop; };
  code_ = std::make_unique<code::CodeCache>(ctx_->cpu, config_.ops_pool.get(), config_.baseline_pool.get());
  if (!config_.jit_perf_map.empty()) code_->baseline_pool().set_perf_map(config_.jit_perf_map);
  interp_ = std::make_unique<interp::Interpreter>(ctx_->cpu, *code_);
  interp_->SetExactBudget(config_.icount_shift >= 0);
  if (config_.engine != Engine::kInterp) {
    tier_ = std::make_unique<jit::Tier>(*code_, TierOptionsFor(config_), config_.compile_service);
    interp_->AttachTranslator(tier_.get());
  }
  dma_ = std::make_unique<GuestMemory>(*board_, ctx_->cpu);
  board_->ide().set_memory(dma_.get());
  completions_.SetNotifier([this] { Wake(); });
  for (const IdeDisk& disk : config_.ide_disks) {
    block::BlockQueue* queue = nullptr;  // a CD-ROM drive without a disc reads nothing
    if (disk.backend) {
      disk_queues_.push_back(std::make_unique<block::BlockQueue>(*disk.backend, completions_,
                                                                 "strobe-ide" + std::to_string(disk.index)));
      MakeDeterministic(*disk_queues_.back());
      queue = disk_queues_.back().get();
    }
    board_->ide().Attach(disk.index, {disk.backend, queue, disk.cdrom, disk.serial, disk.write_cache});
  }
  for (unsigned ch = 0; ch < 2; ++ch)
    board_->ide().channel(ch).set_on_tray_moved([this, ch](unsigned unit, bool open) {
      if (on_tray_moved_) on_tray_moved_(ch * 2 + unit, open);
    });
  // The on-board NIC first (QEMU creates it with the board), then the add-on devices in creation order.
  virtio_.resize(config_.virtio_disks.size());
  nics_.resize(config_.nics.size());
  rngs_.resize(config_.rngs.size());
  enum class Kind { kDisk, kNic, kVga, kRng, kBalloon };
  struct AddOn {
    int order;
    Kind kind;
    size_t index;
  };
  std::vector<AddOn> add_ons;
  for (size_t i = 0; i < config_.virtio_disks.size(); ++i)
    add_ons.push_back({config_.virtio_disks[i].pci_order, Kind::kDisk, i});
  if (config_.vga_pci_order >= 0) add_ons.push_back({config_.vga_pci_order, Kind::kVga, 0});
  bool onboard_taken = false;
  for (size_t i = 0; i < config_.nics.size(); ++i) {
    if (config_.nics[i].onboard && config_.nics[i].model == NicModel::kPcnet && !onboard_taken) {
      onboard_taken = true;
      AddNic(i, kOnboardNicSlot << 3);
    } else {
      add_ons.push_back({config_.nics[i].pci_order, Kind::kNic, i});
    }
  }
  for (size_t i = 0; i < config_.rngs.size(); ++i)
    add_ons.push_back({config_.rngs[i].pci_order, Kind::kRng, i});
  if (!config_.balloons.empty()) add_ons.push_back({config_.balloons[0].pci_order, Kind::kBalloon, 0});
  std::stable_sort(add_ons.begin(), add_ons.end(), [](const AddOn& a, const AddOn& b) {
    return a.order != b.order ? a.order < b.order : a.kind < b.kind;
  });
  // Each in turn, as QEMU creates them: at its addr= if it has one (where QEMU's rules allow it), else in
  // the first free slot. A refusal is Boot's error.
  for (const AddOn& a : add_ons) {
    int devfn = -1;
    std::string type = "cirrus-vga", option;
    if (a.kind == Kind::kNic) {
      const NicConfig& n = config_.nics[a.index];
      devfn = n.devfn;
      type = QdevType(n.model);
      option = n.option;
    } else if (a.kind == Kind::kDisk) {
      devfn = config_.virtio_disks[a.index].devfn;
      type = "virtio-blk-pci";
      option = config_.virtio_disks[a.index].option;
    } else if (a.kind == Kind::kRng) {
      devfn = config_.rngs[a.index].devfn;
      type = "virtio-rng-pci";
      option = config_.rngs[a.index].option;
    } else if (a.kind == Kind::kBalloon) {
      devfn = config_.balloons[0].devfn;
      type = "virtio-balloon-pci";
      option = config_.balloons[0].option;
    }
    if (devfn >= 0) {
      const std::string why = board_->pci().PlaceError(devfn >> 3, devfn & 7, type);
      if (!why.empty()) {  // the device is made but stays off the bus; Boot refuses the configuration
        if (pci_error_.empty()) pci_error_ = (option.empty() ? "" : option + ": ") + why;
        devfn = -1;
      }
    } else {
      const int slot = board_->FreePciSlot();
      pci_full_ |= slot < 0;
      devfn = slot < 0 ? -1 : slot << 3;
    }
    if (a.kind == Kind::kNic) {
      AddNic(a.index, devfn);
    } else if (a.kind == Kind::kDisk) {
      AddVirtioDisk(a.index, devfn);
    } else if (a.kind == Kind::kRng) {
      AddRng(a.index, devfn);
    } else if (a.kind == Kind::kBalloon) {
      AddBalloon(devfn);
    } else if (devfn >= 0) {
      board_->pci().Reserve(devfn >> 3, 0, type);
    }
  }
}

// The deterministic mode: the disk's requests execute when the guest makes them and complete
// kDiskLatencySeconds of virtual time later, however long the host took.
void Vm::MakeDeterministic(block::BlockQueue& queue) {
  if (!config_.deterministic()) return;
  queue.SetInline([this](std::function<void()> done) {
    timed_.Post(ctx_->cpu.cycles + clock_->FromSeconds(kDiskLatencySeconds), std::move(done));
  });
}

void Vm::AddVirtioDisk(size_t i, int devfn) {
  const VirtioDisk& disk = config_.virtio_disks[i];
  const int slot = devfn < 0 ? -1 : devfn >> 3;
  char location[32];
  std::snprintf(location, sizeof location, "virtio-blk 00:%02x.%d", slot, devfn < 0 ? 0 : devfn & 7);
  disk_queues_.push_back(
      std::make_unique<block::BlockQueue>(*disk.backend, completions_, "strobe-vblk" + std::to_string(i)));
  MakeDeterministic(*disk_queues_.back());
  Virtio& v = virtio_[i];
  v.blk = std::make_unique<VirtioBlk>(
      VirtioBlkConfig{disk.backend, disk_queues_.back().get(), disk.serial, disk.write_cache});
  v.pci = std::make_unique<VirtioPci>(v.blk.get(), dma_.get(), location);
  v.slot = slot;
  v.pci->set_qdev("virtio-blk-pci", disk.device_id);
  if (slot >= 0)
    board_->AttachPci(static_cast<unsigned>(slot), v.pci.get(), static_cast<unsigned>(devfn & 7));
}

void Vm::AddRng(size_t i, int devfn) {
  const RngConfig& r = config_.rngs[i];
  const int slot = devfn < 0 ? -1 : devfn >> 3;
  char location[32];
  std::snprintf(location, sizeof location, "virtio-rng 00:%02x.%d", slot, devfn < 0 ? 0 : devfn & 7);
  VirtioRngConfig c;
  // The deterministic mode keeps runs identical: its default source is a fixed stream (a file is read as
  // it is).
  c.source = r.source ? r.source : config_.deterministic() ? SeededEntropy(kFixedEpoch) : HostEntropy();
  c.max_bytes = r.max_bytes;
  c.period_ms = r.period_ms;
  c.after = [this](uint32_t ms, std::function<void()> fn) {
    device_timers_.Post(ctx_->cpu.cycles + clock_->FromSeconds(ms / 1000.0), std::move(fn));
  };
  Rng& rng = rngs_[i];
  rng.device = std::make_unique<VirtioRng>(std::move(c));
  rng.pci = std::make_unique<VirtioPci>(rng.device.get(), dma_.get(), location);
  rng.pci->set_qdev("virtio-rng-pci", r.device_id);
  if (slot >= 0)
    board_->AttachPci(static_cast<unsigned>(slot), rng.pci.get(), static_cast<unsigned>(devfn & 7));
}

// Inflated pages lose their memory: zeroed through the DMA path (which drops translated code on them),
// then given back to the host. A page shared with another VM or with a disk stays as it is: it is no
// memory of this VM's alone.
void Vm::AddBalloon(int devfn) {
  const BalloonConfig& b = config_.balloons[0];
  const int slot = devfn < 0 ? -1 : devfn >> 3;
  char location[32];
  std::snprintf(location, sizeof location, "virtio-balloon 00:%02x.%d", slot, devfn < 0 ? 0 : devfn & 7);
  VirtioBalloonConfig c;
  c.ram_bytes = config_.ram_bytes;
  c.discard = [this](uint32_t paddr) {
    static const uint8_t kZeros[runtime::kPageSize] = {};
    const runtime::RamPage page = pmap_->Lookup(paddr);
    if (!page.host || page.shared || !dma_->Write(paddr, kZeros, sizeof kZeros)) return;
    madvise(page.host, runtime::kPageSize,
            MADV_DONTNEED);  // the write kept it: the page was not shared  // reads as zeros, as written
  };
  c.actual_changed = [this](uint64_t left) {
    if (on_balloon_change_) on_balloon_change_(left);
  };
  balloon_ = std::make_unique<VirtioBalloon>(std::move(c));
  balloon_pci_ = std::make_unique<VirtioPci>(balloon_.get(), dma_.get(), location);
  balloon_pci_->set_qdev("virtio-balloon-pci", b.device_id);
  if (slot >= 0)
    board_->AttachPci(static_cast<unsigned>(slot), balloon_pci_.get(), static_cast<unsigned>(devfn & 7));
}

// Each NIC has its own port to its backend; the port hands it frames on the vCPU thread.
void Vm::AddNic(size_t i, int devfn) {
  const NicConfig& n = config_.nics[i];
  const int slot = devfn < 0 ? -1 : devfn >> 3;
  net::NetPort* port = nullptr;
  if (n.backend) {
    net_ports_.push_back(std::make_unique<net::NetPort>(*n.backend, completions_, n.pcap));
    port = net_ports_.back().get();
  }
  Nic& nic = nics_[i];
  nic.slot = slot;
  PciFunction* function;
  net::NicFrontend* frontend;
  if (n.model == NicModel::kVirtio) {
    char location[32];
    std::snprintf(location, sizeof location, "virtio-net 00:%02x.%d", slot, devfn < 0 ? 0 : devfn & 7);
    nic.virtio = std::make_unique<VirtioNet>(n.mac);
    nic.virtio_pci = std::make_unique<VirtioPci>(nic.virtio.get(), dma_.get(), location);
    if (port) {
      nic.virtio->set_transmit(
          [port](const uint8_t* frame, size_t length) { port->Transmit(frame, length); });
      // The driver posted receive buffers: frames held for want of them go in now.
      nic.virtio->set_rx_ready([port] {
        if (port->HasPending()) port->Deliver();
      });
    }
    function = nic.virtio_pci.get();
    frontend = nic.virtio.get();
  } else {
    nic.pcnet = std::make_unique<PcnetPci>(n.mac, *dma_, port);
    function = nic.pcnet.get();
    frontend = &nic.pcnet->chip();
  }
  function->set_qdev(QdevType(n.model), n.device_id);
  if (slot >= 0) board_->AttachPci(static_cast<unsigned>(slot), function, static_cast<unsigned>(devfn & 7));
  if (port) port->Start(frontend);
}

void Vm::Wake() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  wake_ = true;
  wake_cv_.notify_one();
}

bool Vm::NetworkBusy() const {
  for (const auto& p : net_ports_)
    if (p->Busy()) return true;
  return false;
}

bool Vm::DisksBusy() const {
  for (const auto& q : disk_queues_)
    if (q->in_flight() > 0) return true;
  return completions_.HasCompletions();
}

int Vm::DrainDisks() {
  int first = 0;
  for (auto& q : disk_queues_) {
    const int err = q->Drain();
    if (err && !first) first = err;
  }
  return first;
}

Vm::~Vm() = default;

bool Vm::FailWith(std::string msg) {
  error_ = std::move(msg);
  return false;
}

bool Vm::WriteGuest(uint32_t paddr, const void* data, size_t size) {
  const uint8_t* src = static_cast<const uint8_t*>(data);
  while (size > 0) {
    uint8_t* page = pmap_->PageForWrite(paddr);
    if (!page) return false;
    size_t in_page = std::min<size_t>(size, runtime::kPageSize - (paddr & ~runtime::kPageMask));
    std::memcpy(page + (paddr & ~runtime::kPageMask), src, in_page);
    paddr += static_cast<uint32_t>(in_page);
    src += in_page;
    size -= in_page;
  }
  return true;
}

bool Vm::LoadImage(const ElfImage& image, uint32_t* image_end, std::string* error) {
  *image_end = 0;
  // Segments go to physical addresses below 512 MiB, where RAM is the low part (at most 256 MiB). QEMU
  // silently drops bytes aimed at addresses without RAM; a segment the guest would never see is an error
  // here instead.
  const uint32_t low_ram = std::min(config_.ram_bytes, kLowRamBytes);
  for (const ElfSegment& s : image.segments) {
    uint64_t end = static_cast<uint64_t>(s.paddr) + s.memsz;
    if (end > low_ram) {
      *error = "segment " + Hex(s.vaddr) + "-" + Hex(static_cast<uint32_t>(s.vaddr + s.memsz)) +
               " (physical " + Hex(s.paddr) + ") does not fit in " + std::to_string(low_ram >> 20) +
               " MiB of RAM";
      return false;
    }
    *image_end = std::max(*image_end, static_cast<uint32_t>(end));
  }
  // Zero-filled tails first, then file bytes: a tail that lies under another segment's bytes yields to them.
  for (const ElfSegment& s : image.segments) {
    std::vector<uint8_t> zeros(s.memsz - s.data.size(), 0);
    WriteGuest(s.paddr + static_cast<uint32_t>(s.data.size()), zeros.data(), zeros.size());
  }
  for (const ElfSegment& s : image.segments) WriteGuest(s.paddr, s.data.data(), s.data.size());
  return true;
}

void Vm::SetupBootArguments(const std::string& cmdline, uint32_t entry) {
  // As QEMU's Malta boot loader: memsize is the RAM at physical 0 (at most 256 MiB), ememsize all of it.
  // Debian's 32-bit Malta kernel uses only memsize (no highmem), under QEMU too.
  const uint32_t low_ram = std::min(config_.ram_bytes, kLowRamBytes);
  const std::string ram = std::to_string(low_ram);
  const std::string eram = std::to_string(config_.ram_bytes);
  // Seed for the guest's RNG (Linux's rngseed), so early boot does not wait to gather entropy; the same
  // every time in the deterministic mode.
  std::random_device rd;
  std::mt19937 fixed(0x5EED);
  std::string seed;
  for (int i = 0; i < 32; ++i) {
    char hex[3];
    const unsigned r = config_.deterministic() ? fixed() : rd();
    std::snprintf(hex, sizeof hex, "%02x", r & 0xFF);
    seed += hex;
  }
  // argv[0] is ignored by the kernel; argv[1] is the command line. envp is YAMON's name/value list.
  const std::string strings[] = {"strobe", cmdline,    "memsize",  ram,       "ememsize",
                                 eram,     "modetty0", "38400n8r", "rngseed", seed};
  uint32_t table = kArgTable, str = kArgStrings;
  for (const std::string& s : strings) {
    uint32_t ptr = runtime::kKseg0 | str;
    WriteGuest(table, &ptr, 4);
    WriteGuest(str, s.c_str(), s.size() + 1);
    table += 4;
    str = RoundUp(str + static_cast<uint32_t>(s.size()) + 1, 4);
  }
  uint32_t null = 0;
  WriteGuest(table, &null, 4);

  runtime::CpuState& c = ctx_->cpu;
  c.gpr[4] = 2;                                  // a0: argc
  c.gpr[5] = runtime::kKseg0 | kArgTable;        // a1: argv
  c.gpr[6] = runtime::kKseg0 | (kArgTable + 8);  // a2: envp
  c.gpr[7] = low_ram;                            // a3: memory size
  c.gpr[29] = runtime::kKseg0 | 0x1FC0;          // sp, as YAMON leaves it
  c.gpr[25] = entry;                             // t9: PIC entry convention
  c.pc = entry;
}

bool Vm::Boot(std::string* error) {
  if (!pmap_->ok())
    return FailWith(*error = "out of machine memory for " + std::to_string(config_.ram_bytes >> 20) +
                             " MiB of guest RAM");
  ElfImage loaded;
  const ElfImage* image = &config_.image;
  if (!config_.kernel.empty()) {
    if (!LoadElfFile(config_.kernel, &loaded, error)) return FailWith(*error);
    image = &loaded;
  }
  if (image->segments.empty()) return FailWith(*error = "no kernel image to boot");
  runtime::ResetCpu(ctx_->cpu, ctx_->config);
  code_->FlushAll();
  if (!pci_error_.empty()) return FailWith(*error = pci_error_);
  if (pci_full_)
    return FailWith(*error = "too many PCI devices: the Malta's bus has room for " +
                             std::to_string(MaltaBoard::kLastSlot - MaltaBoard::kFirstFreeSlot + 1) +
                             " virtio disks and add-on NICs (slots 0x12-0x1f)");
  board_->ide().Reset();  // a reboot forgets commands in flight (their completions are dropped)
  for (Virtio& v : virtio_) v.pci->Reset();
  for (Nic& nic : nics_) {
    if (nic.pcnet) nic.pcnet->Reset();
    if (nic.virtio_pci) nic.virtio_pci->Reset();
  }
  panic_seen_at_ = 0;
  console_line_.clear();
  uint32_t image_end;
  if (!LoadImage(*image, &image_end, error))
    return FailWith(*error = (config_.kernel.empty() ? "" : config_.kernel + ": ") + *error);
  if (std::any_of(image->segments.begin(), image->segments.end(),
                  [](const ElfSegment& s) { return s.paddr < kArgEnd && s.paddr + s.memsz > kArgTable; }))
    return FailWith(*error = "the image overlaps the boot argument block at physical 0x2000-0x4000");

  std::string cmdline = config_.append;
  std::vector<uint8_t> rd;
  if (!config_.initrd.empty()) {
    if (!ReadHostFile(config_.initrd, kMaxGuestFileBytes, &rd, error)) return FailWith(*error);
  }
  if (!rd.empty()) {  // QEMU ignores an empty initrd: no rd_start/rd_size either
    uint64_t need = static_cast<uint64_t>(rd.size()) + kInitrdGap;
    uint32_t ram = std::min(config_.ram_bytes, kLowRamBytes);
    uint32_t start = need < ram ? RoundUp(static_cast<uint32_t>(ram - need), 64u << 10) : 0;
    if (need >= ram || start < image_end)
      return FailWith(*error = config_.initrd + ": initrd of " + std::to_string(rd.size()) +
                               " bytes does not fit in RAM beside the kernel");
    WriteGuest(start, rd.data(), rd.size());
    char prefix[64];
    std::snprintf(prefix, sizeof prefix, "rd_start=0x%08x rd_size=%zu", runtime::kKseg0 | start, rd.size());
    cmdline = cmdline.empty() ? prefix : std::string(prefix) + " " + cmdline;
  }
  if (cmdline.size() >= kArgEnd - kArgStrings - 64)
    return FailWith(*error = "kernel command line too long (" + std::to_string(cmdline.size()) + " bytes)");
  SetupBootArguments(cmdline, image->entry);
  return true;
}

namespace {
constexpr const char* kPanicMarker = "Kernel panic - not syncing";
constexpr uint64_t kPanicGraceCycles = 40'000'000;  // 0.2 s of virtual time for the rest of the report
}  // namespace

void Vm::WatchConsole(uint8_t byte) {
  if (byte != '\n') {
    if (console_line_.size() < 512) console_line_.push_back(static_cast<char>(byte));
    return;
  }
  if (!panic_seen_at_ && console_line_.find(kPanicMarker) != std::string::npos) {
    panic_seen_at_ = ctx_->cpu.cycles;
    size_t at = console_line_.find(kPanicMarker);
    std::string what = console_line_.substr(at);
    while (!what.empty() && (what.back() == '\r' || what.back() == ' ')) what.pop_back();
    error_ = "guest kernel panic: " + what;
  }
  console_line_.clear();
}

void Vm::RequestQuit() {
  quit_.store(true);
  if (DebugAgent* agent = debug_.load()) agent->QuitRequested();  // the VM may be stopped, waiting for gdb
  std::lock_guard<std::mutex> lock(wake_mu_);
  wake_ = true;
  wake_cv_.notify_one();
}

void Vm::WaitForQuit() {
  std::unique_lock<std::mutex> lock(wake_mu_);
  wake_cv_.wait(lock, [this] { return quit_.load(); });
}

void Vm::ConsoleInput(uint8_t byte) {
  board_->uart().PushInput(byte);
  std::lock_guard<std::mutex> lock(wake_mu_);
  wake_ = true;
  wake_cv_.notify_one();
}

// WAIT with nothing pending: let virtual time pass until the timer can fire (or host input arrives).
// false when no interrupt can ever end the wait: the guest has halted.
bool Vm::Idle() {
  runtime::CpuState& c = ctx_->cpu;
  const uint32_t s = c.cp0.status;
  // Only an interrupt that could be taken ends a WAIT: EXL or ERL mask them all, as does IE=0.
  if ((s & (runtime::st::IE | runtime::st::EXL | runtime::st::ERL)) != runtime::st::IE ||
      !(s & runtime::st::IM_MASK))
    return false;
  const bool timer_wakes = (s & runtime::TimerInterruptMask(c)) != 0;     // Count/Compare
  const bool devices_wake = (s & MaltaBoard::kDeviceInterruptMask) != 0;  // the i8259 (PIT, UART, ...)
  uint64_t event = timer_wakes ? c.timer_deadline : UINT64_MAX;
  if (devices_wake) event = std::min(event, board_->NextEventCycles());
  event = std::min({event, timed_.next_due(), device_timers_.next_due()});  // disk completions, device timers
  const uint64_t target = std::min(event, c.cycles + kSliceCycles);
  if (config_.deterministic()) {
    // No host time: to the next event, unless the network is in use (frames from outside are input,
    // like the console's, so virtual time follows host time while they move). With no event at all only
    // host input can end the wait: the clock stands still meanwhile.
    if (event != UINT64_MAX && !NetworkBusy()) {
      c.IdleUntil(event);
      return true;
    }
    if (event == UINT64_MAX) {
      WaitForWake(0.05);
      return true;
    }
  }
  // While the disk works, virtual time follows host time: warping past the driver's timeouts would fail
  // a request the host has not finished yet. The same while frames wait for the NIC or the network moved
  // a frame in the last 100 ms: a reply on its way must not find the guest's TCP timers already expired.
  if (config_.warp_idle && event != UINT64_MAX && !DisksBusy() && !NetworkBusy()) {
    c.IdleUntil(event);
    return true;
  }
  const double slept = WaitForWake(std::min(0.05, clock_->Seconds(target - c.cycles)));
  c.IdleUntil(std::min(target, c.cycles + clock_->FromSeconds(slept) + 1));
  return true;
}

// Sleeps up to `seconds` of host time or until input, a device or quit wakes the vCPU; the seconds slept.
double Vm::WaitForWake(double seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(wake_mu_);
  wake_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return wake_ || quit_.load(); });
  wake_ = false;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Vm::AttachDebugger(DebugAgent* agent, bool start_stopped) {
  debug_start_ = start_stopped;
  ctx_->cpu.debug = &debug_state_;
  debug_.store(agent);
  // A quit (a signal) that came before the agent was attached did not reach it: pass it on, or -S would
  // wait for a debugger that never comes. RequestQuit stores quit_ before it loads debug_, and this loads
  // quit_ after it stores debug_, so one of the two always tells the agent.
  if (quit_.load()) agent->QuitRequested();
}

void Vm::RequestDebugStop(bool attach) {
  int none = 0;
  debug_request_.compare_exchange_strong(none, attach ? 2 : 1);
  Wake();
}

// Between slices: if the VM stopped for the debugger (a breakpoint, a watchpoint, a finished step, Ctrl-C,
// -S), let it serve the debugger until it resumes.
bool Vm::ServeDebugger() {
  runtime::CpuState& c = ctx_->cpu;
  runtime::DebugState& d = debug_state_;
  DebugEvent why;
  if (d.stop == runtime::DebugStopKind::kWatchBefore) {
    // The access was abandoned before it happened: run that one instruction now, recording the hit, so
    // that the debugger sees the stop after it, as QEMU reports watchpoints.
    d.stop = runtime::DebugStopKind::kNone;
    d.record_only = true;
    interp_->StepInstruction();
    d.record_only = false;
    debug_stepped_ = true;
  }
  if (d.stop == runtime::DebugStopKind::kWatch) {
    why.kind = DebugEvent::Kind::kWatch;
    why.watch = d.hit;
    why.watch_write = d.hit_write;
  } else if (d.stop == runtime::DebugStopKind::kBreakpoint) {
    why.kind = DebugEvent::Kind::kBreakpoint;
  } else if (debug_stepped_) {
    why.kind = DebugEvent::Kind::kStep;
  } else if (debug_start_) {
    why.kind = DebugEvent::Kind::kStart;
  } else if (const int r = debug_request_.exchange(0); r != 0) {
    why.kind = r == 2 ? DebugEvent::Kind::kAttach : DebugEvent::Kind::kInterrupt;
  } else {
    return true;
  }
  d.stop = runtime::DebugStopKind::kNone;
  debug_start_ = debug_stepped_ = false;
  c.exit_request &= ~runtime::exitreq::kDebug;
  in_debugger_.store(true);
  const auto held_from = std::chrono::steady_clock::now();
  const DebugResume resume = debug_.load()->Stopped(why);
  stopped_time_ += std::chrono::steady_clock::now() - held_from;  // --timeout counts running time only
  in_debugger_.store(false);
  switch (resume) {
    case DebugResume::kKill: return false;
    case DebugResume::kStep: debug_step_ = true; break;
    case DebugResume::kContinue: break;
  }
  debug_request_.store(0);  // a Ctrl-C that raced with the stop is answered by it
  return true;
}

VmExit Vm::Run() {
  vcpu_tid_.store(static_cast<int>(gettid()));
  const VmExit exit = RunLoop();
  for (auto& port : net_ports_) port->Stop();  // nothing more from the network once the guest is gone
  if (DebugAgent* agent = debug_.load()) agent->Ended(exit);
  // Every write the guest saw complete, and every one still in flight, reaches the image file.
  const int err = DrainDisks();
  if (err && error_.empty()) error_ = std::string("flushing the disks: ") + std::strerror(err);
  finished_.store(true);
  return exit;
}

void Vm::SetPaused(bool paused) {
  paused_.store(paused);
  Wake();
}

VmExit Vm::RunLoop() {
  runtime::CpuState& c = ctx_->cpu;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    clock_->ApplySkip();                                               // an idle poll seen in the slice
    if (debug_ && !ServeDebugger()) return VmExit::kQuit;              // gdb's kill: as Ctrl-A x
    if (completions_.HasCompletions()) completions_.RunCompletions();  // disk requests done: status, IRQs
    if (!timed_.empty()) timed_.RunDue(c.cycles);                      // the same, at their virtual time
    if (!device_timers_.empty()) device_timers_.RunDue(c.cycles);
    for (auto& port : net_ports_)  // frames held for want of a receive buffer: the driver may have given one
      if (port->HasPending()) port->Deliver();
    runtime::UpdateTimer(c);
    board_->Tick();
    runtime::SetHardwareIrqs(c, board_->IrqLines());

    switch (power_.request.exchange(PowerRequest::kNone)) {
      case PowerRequest::kPowerOff: return VmExit::kPowerOff;
      case PowerRequest::kReset: {
        if (config_.no_reboot) return VmExit::kReset;
        std::string err;
        if (!Boot(&err)) return VmExit::kError;
        continue;
      }
      case PowerRequest::kNone: break;
    }
    if (config_.timeout_seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start - stopped_time_).count() >
            config_.timeout_seconds) {
      error_ =
          "guest did not finish within " + std::to_string(static_cast<int>(config_.timeout_seconds)) + " s";
      return VmExit::kTimeout;
    }
    if (config_.max_instructions && c.Retired() >= config_.max_instructions) return VmExit::kInstructionLimit;
    if (quit_.load()) return VmExit::kQuit;
    if (paused_.load()) {  // the monitor's stop: wait for cont, posted work, a power request or quit
      const auto paused_from = std::chrono::steady_clock::now();
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait(lock, [this] { return wake_ || quit_.load() || !paused_.load(); });
      wake_ = false;
      stopped_time_ += std::chrono::steady_clock::now() - paused_from;
      continue;
    }
    if (panic_seen_at_ && c.cycles - panic_seen_at_ > kPanicGraceCycles) return VmExit::kPanic;
    if ((c.cp0.status & runtime::st::BEV) && (c.pc & 0xFFF00000u) == 0xBFC00000u) {
      error_ = "guest took an exception while Status.BEV=1 (Cause " + Hex(c.cp0.cause) + ", EPC " +
               Hex(c.cp0.epc) + ", BadVAddr " + Hex(c.cp0.badvaddr) +
               "): there is no boot firmware to handle it";
      return VmExit::kError;
    }

    const bool waiting = (c.exit_request & runtime::exitreq::kWait) != 0;
    c.exit_request = 0;
    if (debug_step_) {  // one instruction for the debugger, taking no interrupt (QEMU's default)
      debug_step_ = false;
      debug_state_.record_only = true;
      interp_->StepInstruction();
      debug_state_.record_only = false;
      debug_stepped_ = true;
      continue;
    }
    if (runtime::InterruptPending(c)) {
      c.exc = runtime::PendingException{runtime::ExcCode::Int, false, false, 0, 0};
      runtime::DeliverException(c, c.pc, false);
    } else if (waiting) {
      if (!Idle()) {
        error_ = "guest halted: WAIT with every interrupt masked at PC " + Hex(c.pc - 4);
        return VmExit::kHalted;
      }
      c.exit_request |= runtime::exitreq::kWait;  // still waiting until an interrupt is taken
      continue;
    }

    uint64_t limit = std::min({c.timer_deadline, board_->NextEventCycles(), timed_.next_due(),
                               device_timers_.next_due(), c.cycles + kSliceCycles});
    if (config_.max_instructions)
      limit = std::min(limit, c.cycles + (config_.max_instructions - c.Retired()));
    interp_->Run(std::max(limit, c.cycles + 1));
  }
}

}  // namespace strobe::vmm
