// SPDX-License-Identifier: MIT
#include "vmm/snapshot/vm_state.h"

#include <cstring>
#include <vector>

namespace strobe::vmm {

namespace {
using block::BlockBackend;
constexpr uint32_t kEndOfPages = 0xFFFFFFFFu;
constexpr size_t kMaxNetState = 16u << 20;  // libslirp's is ~130 bytes, more with guestfwd connections
const uint8_t kZeroPage[runtime::kPageSize] = {};

// A field added to these must be added to the snapshot (and the format version raised).
static_assert(sizeof(runtime::Cp0) == 33 * sizeof(uint32_t));
static_assert(sizeof(runtime::FpuState) == 32 * 8 + 8);

void CpuFields(runtime::CpuState& c, StateIo& io) {
  io.Field(c.gpr);
  io.Field(c.hi);
  io.Field(c.lo);
  io.Field(c.pc);
  io.Field(c.cycles);              // the virtual clock: Count, the timers and the RTC follow it
  uint64_t retired = c.Retired();  // the instructions retired, as snapshots have always held them
  io.Field(retired);
  c.unretired = c.cycles - retired;
  io.Field(c.fpu.fpr);
  io.Field(c.fpu.fcsr);
  io.Field(c.fpu.fir);
  io.Field(c.branch_target);
  io.Field(c.branch_taken);
  io.Field(c.ll_bit);
  io.Field(c.hw_irq);
  io.Field(c.timer_deadline);
  io.Raw(&c.cp0, sizeof c.cp0);  // Count is cycles / 2 + count_bias, so it needs nothing more
  // Between slices only WAIT's idling survives in exit_request; the rest is re-derived after a load.
  bool waiting = (c.exit_request & runtime::exitreq::kWait) != 0;
  io.Field(waiting);
  if (io.loading()) c.exit_request = waiting ? runtime::exitreq::kWait : 0;
}

void TlbFields(runtime::GuestTlb& tlb, StateIo& io) {
  uint32_t size = tlb.size();
  io.Field(size);
  if (!io.Check(size == tlb.size(), "another TLB size")) return;
  for (unsigned i = 0; i < size; ++i) {
    runtime::TlbEntry e = tlb.at(i);
    io.Field(e.pagemask);
    io.Field(e.entryhi);
    io.Field(e.entrylo);
    io.Field(e.global);
    if (io.loading() && io.ok()) tlb.Set(i, e);
  }
}

const char* KindName(BlockBackend::SnapshotKind k) {
  switch (k) {
    case BlockBackend::SnapshotKind::kFixed: return "read-only";
    case BlockBackend::SnapshotKind::kOverlay: return "-snapshot";
    case BlockBackend::SnapshotKind::kWritable: return "writable";
  }
  return "?";
}

// The VM's disks (and CD-ROM discs) with their names, IDE first; a CD-ROM drive with no disc has none.
std::vector<std::pair<std::string, BlockBackend*>> DiskList(const VmConfig& config) {
  std::vector<std::pair<std::string, BlockBackend*>> out;
  for (const IdeDisk& d : config.ide_disks)
    if (d.backend) out.push_back({"ide" + std::to_string(d.index), d.backend});
  for (size_t i = 0; i < config.virtio_disks.size(); ++i)
    out.push_back({"virtio" + std::to_string(i), config.virtio_disks[i].backend});
  return out;
}
}  // namespace

std::string VmState::Refusal(Vm& vm) {
  const std::string device = vm.board().Unsnapshottable();
  if (!device.empty()) return "device " + device + " does not support snapshots";
  for (const auto& [name, backend] : DiskList(vm.config()))
    if (backend->snapshot_kind() == BlockBackend::SnapshotKind::kWritable)
      return "disk " + name + " (" + backend->path() +
             ") is written in place, which a snapshot cannot restore: use -snapshot or readonly=on";
  return "";
}

std::string VmState::Configuration(Vm& vm) {
  const VmConfig& c = vm.config();
  std::string out = "ram=" + std::to_string(c.ram_bytes) + "\n";
  out += std::string("cpu=") + (c.cpu_model == runtime::CpuModel::k24Kf ? "24Kf" : "24Kc") + "\n";
  out += "tlb=" + std::to_string(vm.ctx_->tlb.size()) + "\n";
  // The clock's rate (-icount shift=N): the guest calibrated its timers against it.
  if (c.icount_shift >= 0) out += "icount=shift " + std::to_string(c.icount_shift) + "\n";
  for (const std::string& f : vm.board().PciNames()) out += f + "=present\n";
  for (const auto& [name, backend] : DiskList(c))
    out +=
        name + "=" + std::to_string(backend->size()) + " bytes, " + KindName(backend->snapshot_kind()) + "\n";
  // Which IDE drives are CD-ROM drives (the guest knows its sr0 from its sda), and the empty ones.
  for (const IdeDisk& d : c.ide_disks)
    if (d.cdrom)
      out += "ide" + std::to_string(d.index) + ".media=cdrom" + (d.backend ? "" : ", no disc") + "\n";
  // The PCI lines show the NICs' devices; these add what each is connected to, whose state the snapshot
  // holds (a user network's DHCP leases mean nothing to a hub port).
  for (size_t i = 0; i < c.nics.size(); ++i) {
    const NicConfig& n = c.nics[i];
    out += "nic" + std::to_string(i) + "=" + (n.model == NicModel::kVirtio ? "virtio-net" : "pcnet") +
           (n.backend ? " on " + n.backend->SnapshotKind() : ", not connected") + "\n";
  }
  return out;
}

bool VmState::Quiet(Vm& vm) {
  // The deterministic mode's disk completions cannot wait in a snapshot: they run now, before their time.
  if (vm.timed_.RunAll() > 0) return false;
  vm.DrainDisks();
  for (const auto& q : vm.disk_queues_)
    if (q->in_flight() > 0) return false;
  return !vm.completions_.HasCompletions() && vm.completions_.RemainingInBatch() == 0;
}

void VmState::Settle(Vm& vm) {
  while (!Quiet(vm)) vm.completions_.RunCompletions();
}

void VmState::Machine(Vm& vm, StateIo& io) {
  io.Section("cpu", [&vm](StateIo& s) { CpuFields(vm.ctx_->cpu, s); });
  io.Section("tlb", [&vm](StateIo& s) { TlbFields(vm.ctx_->tlb, s); });
  io.Section("board", [&vm](StateIo& s) { vm.board_->State(s); });
  io.Section("vm", [&vm](StateIo& s) {
    s.Field(vm.panic_seen_at_);
    s.String(vm.console_line_, 512);
  });
}

void VmState::Disks(Vm& vm, StateIo& io) {
  for (const auto& [name, backend] : DiskList(vm.config())) {
    BlockBackend* b = backend;
    io.Section(name, [b](StateIo& s) {
      BlockBackend::SnapshotKind kind = b->snapshot_kind();
      s.Enum(kind, 2);
      if (!s.Check(kind == b->snapshot_kind(), "another kind of disk")) return;
      if (kind == BlockBackend::SnapshotKind::kOverlay) b->State(s);
    });
  }
}

void VmState::Network(Vm& vm, StateIo& io, std::vector<std::function<void()>>* apply) {
  const std::vector<NicConfig>& nics = vm.config().nics;
  for (size_t i = 0; i < nics.size(); ++i) {
    net::NetBackend* b = nics[i].backend;
    io.Section("nic" + std::to_string(i), [b, apply](StateIo& s) {
      const std::string here = b ? b->SnapshotKind() : "";
      std::string kind = here;
      s.String(kind, 64);
      if (!s.Check(kind == here, "another kind of network") || !b) return;
      uint32_t version = b->StateVersion();
      std::vector<uint8_t> state;
      if (!s.loading()) state = b->SaveState();
      s.Field(version);
      s.Bytes(state, kMaxNetState);
      if (!s.loading() || !s.ok()) return;
      const std::string why = b->CheckState(version, state);
      if (!s.Check(why.empty(), why)) return;
      apply->push_back([b, version, state] { b->LoadState(version, state); });
    });
  }
}

// Pages in order, each as its index and its bytes; pages of zeros are left out.
void VmState::Ram(Vm& vm, StateIo& io, std::vector<uint32_t>* changed) {
  Pmap& pmap = *vm.pmap_;
  const uint32_t pages = pmap.ram_bytes() >> runtime::kPageBits;
  uint32_t count = pages;
  io.Field(count);
  if (!io.Check(count == pages, "another RAM size")) return;
  // A machine page the host has no memory behind (neither in RAM nor in swap) reads as zeros; reading it
  // to find that out would map the host's zero page behind it, which counts as touched (--stats) and, with
  // several VMs, makes the page sharer merge every page of RAM after a load.
  std::vector<unsigned char> backed;
  vm.monitor_.Backing(&backed);
  auto unbacked = [&](const uint8_t* host) {
    const size_t frame = vm.monitor_.FrameIndex(host);
    return frame < backed.size() && !backed[frame];
  };
  if (!io.loading()) {
    for (uint32_t p = 0; p < pages; ++p) {
      const uint8_t* host = pmap.Lookup(p << runtime::kPageBits).host;
      if (!host || unbacked(host) || std::memcmp(host, kZeroPage, runtime::kPageSize) == 0) continue;
      io.Field(p);
      io.Raw(const_cast<uint8_t*>(host), runtime::kPageSize);
    }
    uint32_t end = kEndOfPages;
    io.Field(end);
    return;
  }
  // First the whole part is checked (indices ascending and in range, every page whole), so that a bad
  // file changes nothing; then each page that differs is written (a page shared copy-on-write with
  // another VM that already holds the same bytes stays shared).
  std::vector<const uint8_t*> image(pages, nullptr);  // null: a page of zeros
  for (uint64_t next = 0;;) {
    uint32_t p = 0;
    io.Field(p);
    if (!io.ok() || p == kEndOfPages) break;
    if (!io.Check(p >= next && p < pages, "RAM pages out of order or out of range")) return;
    image[p] = io.View(runtime::kPageSize);
    next = uint64_t{p} + 1;
  }
  if (!io.ok()) return;
  const runtime::CodePages& code = *vm.ctx_->cpu.code_pages;
  for (uint32_t p = 0; p < pages; ++p) {
    const uint32_t paddr = p << runtime::kPageBits;
    const uint8_t* want = image[p] ? image[p] : kZeroPage;
    const uint8_t* host = pmap.Lookup(paddr).host;
    if (want == kZeroPage && (!host || unbacked(host))) continue;
    if (host && std::memcmp(host, want, runtime::kPageSize) == 0) continue;
    // Code decoded from this page is wrong from now on only if the bytes it was decoded from change (a
    // page may hold code and data both).
    const bool code_changes = code.IsCode(paddr) ? !code.SameCode(paddr, host ? host : kZeroPage, want)
                                                 : vm.code_->BlocksInPage(paddr) != nullptr;
    uint8_t* page = pmap.PageForWrite(paddr);
    if (!page) return io.Fail("out of machine memory while restoring RAM");
    std::memcpy(page, want, runtime::kPageSize);
    if (code_changes) changed->push_back(paddr);
  }
}

void VmState::Save(Vm& vm, StateIo& io) {
  io.Section("machine", [&vm](StateIo& s) { Machine(vm, s); });
  io.Section("disks", [&vm](StateIo& s) { Disks(vm, s); });
  io.Section("network", [&vm](StateIo& s) { Network(vm, s, nullptr); });
  io.Section("ram", [&vm](StateIo& s) { Ram(vm, s, nullptr); });
}

bool VmState::Load(Vm& vm, StateIo& io, std::string* error) {
  // The machine's state as it is now, to put back if the file's turns out to be malformed (the disk
  // and RAM parts check themselves whole before they change anything).
  StateIo backup;
  Machine(vm, backup);
  io.Section("machine", [&vm](StateIo& s) { Machine(vm, s); });
  io.Section("disks", [&vm](StateIo& s) { Disks(vm, s); });
  std::vector<std::function<void()>> network;
  io.Section("network", [&vm, &network](StateIo& s) { Network(vm, s, &network); });
  std::vector<uint32_t> changed;  // the RAM pages whose code the load rewrote
  io.Section("ram", [&vm, &changed](StateIo& s) { Ram(vm, s, &changed); });
  if (io.ok() && io.remaining() != 0) io.Fail(std::to_string(io.remaining()) + " bytes left over");
  if (!io.ok()) {
    *error = io.error();
    StateIo restore(backup.buffer().data(), backup.buffer().size());
    Machine(vm, restore);
  } else {
    for (const auto& load : network) load();
  }
  AfterLoad(vm, io.ok() ? &changed : nullptr);
  return io.ok();
}

// Nothing cached from before the load that the load changed may run or translate: decoded blocks and
// translated code of the pages whose code bytes the load rewrote go (of every page, without a list), the
// soft TLB and every chained jump are forgotten, and the mode-derived state is rebuilt. Code whose bytes
// the load left as they were stays, interpreted and translated: it is keyed by physical address and was
// decoded from those very bytes, so a restored VM runs translated code at once (going back to a snapshot
// of the same run drops only code the guest rewrote since).
void VmState::AfterLoad(Vm& vm, const std::vector<uint32_t>* changed) {
  runtime::CpuState& c = vm.ctx_->cpu;
  if (changed) {
    for (uint32_t paddr : *changed) {
      vm.code_->InvalidateCodePage(paddr);
      c.code_pages->Clear(paddr);
    }
    if (vm.tier_) vm.tier_->ForgetRewrites();  // not the guest rewriting its code
  } else {
    vm.code_->FlushAll();
  }
  c.soft_tlb->FlushAll();
  c.erl_mapped = (c.cp0.status & runtime::st::ERL) != 0;
  c.asid_key = static_cast<uint64_t>(c.cp0.entryhi & 0xFF) << 32;
  ++c.code_epoch;  // cached jumps between translated regions are resolved again
  c.exc = runtime::PendingException{};
  runtime::UpdateMode(c);
  c.exit_request |= runtime::exitreq::kIrqCheck;
}

}  // namespace strobe::vmm
