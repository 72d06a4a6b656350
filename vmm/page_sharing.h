// SPDX-License-Identifier: MIT
// Content-based page sharing between (and within) the VMs of one monitor, as VMware ESX does it: pages are
// hashed at a bounded rate; a page whose contents stayed the same for a whole sweep and equal another page's
// (any VM, any guest-physical address) is mapped onto that page's machine page, copy-on-write, and its own
// machine page goes back to the host. Zero pages all share one machine page.
//
// Safety against the running VMs: hashing reads guest memory racily, which only picks candidates. A merge
// never stops one VM for another: each VM changes only its own pmap, on its own vCPU thread, between two
// slices (a function posted with Vm::RunOnVcpu), where no store, DMA or translated code of that VM runs.
// Merging page p of VM A onto page q of VM B takes two such steps:
//   1. on B: if q still has machine page m, the sharer takes a reference to m and marks q shared (no fast
//      write path to it remains, so a store of B's copies it away): m can no longer change;
//   2. then on A: if p still has its machine page and its bytes equal m's, p is mapped onto m (A's own
//      reference) and its old page freed; either way the sharer drops its reference.
// A VM that has ended runs no posted function; the sharer then runs its steps itself (its memory is no
// longer touched). Decoded and translated code is kept: it is keyed by guest-physical address, and the
// contents did not change. A store to a shared page later takes the slow path, which copies it
// (Pmap::PageForWrite).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "vmm/disk_pages.h"
#include "vmm/monitor.h"

namespace strobe::vmm {

class Vm;

struct SharingStats {
  uint64_t sweeps = 0;        // full passes over every VM's resident pages
  uint64_t pages_hashed = 0;  // pages read and hashed (a shared page unchanged since the last sweep is not)
  uint64_t merged = 0;        // pages mapped onto another page with the same contents
  uint64_t zero_merged = 0;   // ... of them onto the zero page
  uint64_t changed = 0;       // candidates whose contents changed before the merge (not merged)
  uint64_t batches = 0;       // merge batches sent to the VMs' threads
  DiskPageStats disk;         // disk sharing (ShareDisks)
};

// Memory of a set of VMs, counted in resident pages (what the host really holds for guest RAM).
struct VmMemory {
  size_t touched = 0;  // guest-physical pages backed by resident machine memory
  size_t shared = 0;   // ... of them on a machine page shared copy-on-write
};
struct MemoryReport {
  std::vector<VmMemory> vms;
  size_t machine_pages = 0;  // distinct resident machine pages behind all of them
  size_t touched() const;    // the sum over the VMs
  size_t saved() const { return touched() - machine_pages; }
};
MemoryReport ReportMemory(Monitor& monitor, const std::vector<Vm*>& vms);

class PageSharer {
 public:
  PageSharer(Monitor& monitor, std::vector<Vm*> vms);
  ~PageSharer();  // stops the scanner
  PageSharer(const PageSharer&) = delete;
  PageSharer& operator=(const PageSharer&) = delete;

  bool ok() const { return zero_ != nullptr; }
  // Merges every resident page whose contents equal another's now, without parking: only while none of
  // the VMs runs (after Boot, before Run: images loaded from the same file share machine pages from the
  // start). Returns the pages merged.
  size_t MergeStopped();
  // The background scanner: hashes at most pages_per_second pages a second (in passes every interval);
  // a sweep covers every VM once. While memory is arriving (of the pages a pass hashed, at least one in
  // kFresh was new or changed since the last sweep, or merged: VMs booting, loading programs) the rate
  // doubles after each pass, up to kMaxBoost times, so that the new pages are merged two sweeps later
  // rather than seconds later; a pass over settled memory takes it back to pages_per_second. Stop() ends it
  // (also done by the destructor).
  static constexpr uint64_t kFresh = 8;
  static constexpr uint64_t kMaxBoost = 8;
  void Start(uint64_t pages_per_second, std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  void Stop();
  // One pass of the scanner on the calling thread (tests): hashes up to `budget` pages and sends the VMs
  // the merges of what the sweep found stable and equal (unless the last batch is still in progress). The
  // VMs may be running; their threads carry the merges out between slices. Returns the pages hashed, how
  // many of them were new or changed since the last sweep, and the merges sent.
  struct Pass {
    uint64_t hashed = 0;
    uint64_t fresh = 0;
    uint64_t merges = 0;
  };
  Pass ScanOnce(uint64_t budget);
  // The scanner's rate for its next pass, as a multiple of its base rate, after a pass at `boost` times it.
  // A pass that hashed nothing (skipped while the VMs still carry out the last batch) leaves it as it was.
  static uint64_t NextBoost(const Pass& pass, uint64_t boost) {
    if (!pass.hashed) return boost;
    return (pass.fresh + pass.merges) * kFresh >= pass.hashed ? std::min(2 * boost, kMaxBoost) : 1;
  }
  // No merge batch is in progress (tests: the VMs have run the steps of the last one).
  bool Idle();

  // Disk sharing (vmm/disk_pages.h, Disco's DMA interception): from now on every VM's disk reads of
  // blocks nobody can write land on one machine page per block, shared copy-on-write by all the VMs that
  // read it. Call before the VMs run. max_pages bounds the pages the cache keeps.
  void ShareDisks(size_t max_pages);

  SharingStats stats();

 private:
  struct Page {  // a page as the sweep saw it
    uint32_t vm;
    uint32_t paddr;
    uint8_t* machine;
  };
  struct Merge {
    Page from, onto;  // onto.vm == kZero: onto the zero page
  };
  static constexpr uint32_t kZero = UINT32_MAX;

  // Hashes up to budget pages from the sweep's cursor; candidates go to `merges`.
  Pass Sweep(uint64_t budget, bool stable_only, std::vector<Merge>* merges);
  // A batch of merges: which VMs hold targets (step 1) and which have sources (step 2).
  struct Batch;
  std::shared_ptr<Batch> MakeBatch(std::vector<Merge> merges);
  // Sends a batch of merges to the VMs' threads (the two steps above).
  void Send(std::vector<Merge> merges);
  void HoldTargets(Batch& batch, uint32_t vm);   // step 1, on VM vm's thread
  void MergeSources(Batch& batch, uint32_t vm);  // step 2
  // Runs fn on the VM's thread between slices, or on this thread once the VM has ended.
  void Post(uint32_t vm, std::function<void()> fn);
  void RunStepsOfEndedVms();

  Monitor& monitor_;
  std::vector<Vm*> vms_;
  uint8_t* zero_ = nullptr;  // the monitor's zero page, held by the sharer
  uint64_t zero_hash_ = 0;

  // The sweep in progress: where it is, each page's hash and machine page at the last sweep (hash 0:
  // none), and the stable pages seen so far by contents.
  uint32_t cursor_vm_ = 0, cursor_page_ = 0;
  struct Seen {
    uint64_t hash = 0;
    const uint8_t* machine = nullptr;
  };
  std::vector<std::vector<Seen>> last_;
  std::unordered_multimap<uint64_t, Page> seen_;
  std::vector<unsigned char> resident_;

  std::mutex mu_;  // one scan at a time
  std::mutex stats_mu_;
  SharingStats stats_;
  std::atomic<bool> batch_in_flight_{false};
  struct Step;
  std::mutex steps_mu_;
  std::vector<std::shared_ptr<Step>> steps_;  // posted, maybe not run yet
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
  std::unique_ptr<DiskPageCache> disk_pages_;
};

}  // namespace strobe::vmm
