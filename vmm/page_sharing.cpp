// SPDX-License-Identifier: MIT
#include "vmm/page_sharing.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "vmm/vm.h"

namespace strobe::vmm {

namespace {
constexpr uint32_t kPage = runtime::kPageSize;

// A 64-bit hash of a page: four independent multiply-rotate lanes over its words (fast enough that a
// sweep costs little; equal hashes are always confirmed with memcmp before pages are merged).
uint64_t HashPage(const uint8_t* page) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h[4] = {1, 2, 3, 4};
  for (uint32_t i = 0; i < kPage; i += 32) {
    for (int lane = 0; lane < 4; ++lane) {
      uint64_t w;
      std::memcpy(&w, page + i + 8 * lane, 8);
      uint64_t x = (h[lane] ^ w) * kMul;
      h[lane] = (x << 29) | (x >> 35);
    }
  }
  uint64_t r = h[0] ^ (h[1] * 3) ^ (h[2] * 5) ^ (h[3] * 7);
  r ^= r >> 31;
  return r ? r : 1;  // 0 means "not hashed yet"
}
}  // namespace

// A step posted to a VM's thread: it runs once, there or (the VM having ended) on the sharer's thread.
struct PageSharer::Step {
  enum : int { kPending, kRunning, kDone };
  std::atomic<int> state{kPending};
  uint32_t vm = 0;
  std::function<void()> fn;
  void TryRun() {
    int expected = kPending;
    if (!state.compare_exchange_strong(expected, kRunning)) return;
    fn();
    fn = nullptr;
    state.store(kDone);
  }
};

struct PageSharer::Batch {
  std::vector<Merge> merges;
  std::vector<uint8_t> held;         // per merge: step 1 took a reference to the target page
  std::atomic<int> targets_left{0};  // VMs whose step 1 has not run
  std::atomic<int> sources_left{0};  // VMs whose step 2 has not run
  std::vector<uint32_t> target_vms, source_vms;
};

size_t MemoryReport::touched() const {
  size_t n = 0;
  for (const VmMemory& v : vms) n += v.touched;
  return n;
}

MemoryReport ReportMemory(Monitor& monitor, const std::vector<Vm*>& vms) {
  MemoryReport report;
  std::vector<unsigned char> resident;
  monitor.Residency(&resident);
  std::unordered_set<const uint8_t*> machine;
  for (Vm* vm : vms) {
    VmMemory m;
    Pmap& pmap = vm->pmap();
    for (uint32_t pa = 0; pa < pmap.ram_bytes(); pa += kPage) {
      const runtime::RamPage p = pmap.Lookup(pa);
      if (!p.host) continue;
      const size_t frame = monitor.FrameIndex(p.host);
      if (frame >= resident.size() || !(resident[frame] & 1)) continue;
      ++m.touched;
      m.shared += p.shared;
      machine.insert(p.host);
    }
    report.vms.push_back(m);
  }
  report.machine_pages = machine.size();
  return report;
}

PageSharer::PageSharer(Monitor& monitor, std::vector<Vm*> vms) : monitor_(monitor), vms_(std::move(vms)) {
  zero_ = monitor_.AllocPages(1);  // fresh or given back: reads as zero, and nobody ever writes it
  if (zero_) zero_hash_ = HashPage(zero_);
  last_.resize(vms_.size());
  for (size_t i = 0; i < vms_.size(); ++i) last_[i].assign(vms_[i]->pmap().ram_bytes() / kPage, Seen{});
}

PageSharer::~PageSharer() {
  Stop();
  // Steps not run yet are cancelled (a VM still running will find them done); one running is waited for.
  std::lock_guard<std::mutex> lock(steps_mu_);
  for (auto& step : steps_) {
    int expected = Step::kPending;
    if (step->state.compare_exchange_strong(expected, Step::kDone)) continue;
    while (step->state.load() == Step::kRunning) std::this_thread::yield();
  }
}

void PageSharer::ShareDisks(size_t max_pages) {
  if (disk_pages_) return;
  disk_pages_ = std::make_unique<DiskPageCache>(monitor_, max_pages);
  for (Vm* vm : vms_) vm->guest_memory().EnableDiskSharing(&vm->pmap(), disk_pages_.get());
}

SharingStats PageSharer::stats() {
  std::lock_guard<std::mutex> lock(stats_mu_);
  SharingStats s = stats_;
  if (disk_pages_) s.disk = disk_pages_->stats();
  return s;
}

PageSharer::Pass PageSharer::Sweep(uint64_t budget, bool stable_only, std::vector<Merge>* merges) {
  uint64_t hashed = 0, fresh = 0;
  while (hashed < budget) {
    if (cursor_vm_ >= vms_.size()) {  // a sweep ended: the next one starts afresh
      cursor_vm_ = cursor_page_ = 0;
      seen_.clear();
      {
        std::lock_guard<std::mutex> lock(stats_mu_);
        ++stats_.sweeps;
      }
      monitor_.Residency(&resident_);
      break;  // one sweep a pass at most: "stable" means unchanged between two passes
    }
    Pmap& pmap = vms_[cursor_vm_]->pmap();
    const uint32_t pages = pmap.ram_bytes() / kPage;
    // An ended VM's memory is scanned too: it stays until the whole run ends (its steps are the sharer's).
    if (cursor_page_ >= pages) {
      ++cursor_vm_;
      cursor_page_ = 0;
      continue;
    }
    const uint32_t index = cursor_page_++;
    const uint32_t pa = index * kPage;
    const runtime::RamPage p = pmap.Lookup(pa);
    if (!p.host || p.host == zero_) continue;
    const size_t frame = monitor_.FrameIndex(p.host);
    // Not resident (never touched, or given back): it takes no host memory, and reading it would not help.
    if (frame >= resident_.size() || !(resident_[frame] & 1)) continue;
    // A page shared already cannot change under us (every writer copies it first): it is always a stable
    // target, and its hash from the last sweep still holds when it is on the same machine page, so that
    // a sweep over VMs whose memory is mostly shared reads little. An unshared page must have kept its
    // contents since the last sweep, so that pages the guest keeps writing are left alone.
    Seen& last = last_[cursor_vm_][index];
    uint64_t h;
    if (p.shared && last.machine == p.host && last.hash) {
      h = last.hash;
    } else {
      h = HashPage(p.host);
      ++hashed;
    }
    const bool stable = p.shared || !stable_only || last.hash == h;
    if (last.hash != h) ++fresh;
    last = {h, p.host};
    if (!stable) continue;
    const Page here{cursor_vm_, pa, p.host};
    if (h == zero_hash_) {
      if (!p.shared) merges->push_back({here, {kZero, 0, zero_}});
      continue;
    }
    auto range = seen_.equal_range(h);
    bool merged = false;
    for (auto it = range.first; it != range.second && !merged; ++it) {
      if (it->second.machine == p.host) {
        merged = true;  // the same machine page already
      } else if (!p.shared) {
        merges->push_back({here, it->second});
        merged = true;
      }
    }
    if (!merged) seen_.emplace(h, here);
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.pages_hashed += hashed;
  return {hashed, fresh, merges->size()};
}

size_t PageSharer::MergeStopped() {
  if (!ok()) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t before = stats().merged;
  // A sweep of its own, apart from the scanner's (which may not have started).
  const uint32_t saved_vm = cursor_vm_, saved_page = cursor_page_;
  auto saved_seen = std::move(seen_);
  cursor_vm_ = cursor_page_ = 0;
  seen_.clear();
  monitor_.Residency(&resident_);
  std::vector<Merge> merges;
  Sweep(UINT64_MAX, /*stable_only=*/false, &merges);
  // The same two steps as for running VMs, all on this thread: no VM runs.
  std::shared_ptr<Batch> batch = MakeBatch(std::move(merges));
  for (uint32_t vm : batch->target_vms) HoldTargets(*batch, vm);
  for (uint32_t vm : batch->source_vms) MergeSources(*batch, vm);
  {
    std::lock_guard<std::mutex> stats_lock(stats_mu_);
    --stats_.sweeps;  // not one of the scanner's
  }
  cursor_vm_ = saved_vm;
  cursor_page_ = saved_page;
  seen_ = std::move(saved_seen);
  return stats().merged - before;
}

void PageSharer::Post(uint32_t vm, std::function<void()> fn) {
  auto step = std::make_shared<Step>();
  step->vm = vm;
  step->fn = std::move(fn);
  {
    std::lock_guard<std::mutex> lock(steps_mu_);
    std::erase_if(steps_, [](const std::shared_ptr<Step>& s) { return s->state.load() == Step::kDone; });
    steps_.push_back(step);
  }
  vms_[vm]->RunOnVcpu([step] { step->TryRun(); });
  // An ended VM runs nothing posted: its steps are the sharer's (its memory is no longer touched).
  if (vms_[vm]->finished()) step->TryRun();
}

void PageSharer::RunStepsOfEndedVms() {
  std::vector<std::shared_ptr<Step>> steps;
  {
    std::lock_guard<std::mutex> lock(steps_mu_);
    steps = steps_;
  }
  for (auto& step : steps)
    if (step->state.load() == Step::kPending && vms_[step->vm]->finished()) step->TryRun();
}

void PageSharer::HoldTargets(Batch& batch, uint32_t vm) {
  Pmap& pmap = vms_[vm]->pmap();
  for (size_t i = 0; i < batch.merges.size(); ++i) {
    const Page& onto = batch.merges[i].onto;
    if (onto.vm != vm || pmap.Lookup(onto.paddr).host != onto.machine) continue;
    monitor_.Retain(onto.machine);
    pmap.MarkShared(onto.paddr);
    batch.held[i] = 1;
  }
}

void PageSharer::MergeSources(Batch& batch, uint32_t vm) {
  Pmap& pmap = vms_[vm]->pmap();
  uint64_t merged = 0, zero = 0, changed = 0;
  for (size_t i = 0; i < batch.merges.size(); ++i) {
    const Merge& m = batch.merges[i];
    if (m.from.vm != vm) continue;
    const bool to_zero = m.onto.vm == kZero;
    if (!to_zero && !batch.held[i]) {
      ++changed;
      continue;
    }
    const runtime::RamPage now = pmap.Lookup(m.from.paddr);
    const bool ok = now.host == m.from.machine && !now.shared &&
                    std::memcmp(now.host, m.onto.machine, kPage) == 0 &&
                    pmap.ShareMachinePage(m.from.paddr, m.onto.machine);
    if (!to_zero) monitor_.Release(m.onto.machine);  // step 1's reference; the page holds its own now
    merged += ok;
    zero += ok && to_zero;
    changed += !ok;
  }
  monitor_.GiveBack();  // the pages this batch freed, together
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.merged += merged;
  stats_.zero_merged += zero;
  stats_.changed += changed;
}

std::shared_ptr<PageSharer::Batch> PageSharer::MakeBatch(std::vector<Merge> merges) {
  auto batch = std::make_shared<Batch>();
  batch->merges = std::move(merges);
  batch->held.assign(batch->merges.size(), 0);
  for (const Merge& m : batch->merges) {
    if (m.onto.vm != kZero &&
        std::find(batch->target_vms.begin(), batch->target_vms.end(), m.onto.vm) == batch->target_vms.end())
      batch->target_vms.push_back(m.onto.vm);
    if (std::find(batch->source_vms.begin(), batch->source_vms.end(), m.from.vm) == batch->source_vms.end())
      batch->source_vms.push_back(m.from.vm);
  }
  batch->targets_left = static_cast<int>(batch->target_vms.size());
  batch->sources_left = static_cast<int>(batch->source_vms.size());
  return batch;
}

void PageSharer::Send(std::vector<Merge> merges) {
  std::shared_ptr<Batch> batch = MakeBatch(std::move(merges));
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.batches;
  }
  batch_in_flight_.store(true);
  // Step 2 starts once every target is held (or was found changed).
  auto sources = [this, batch] {
    for (uint32_t vm : batch->source_vms)
      Post(vm, [this, batch, vm] {
        MergeSources(*batch, vm);
        if (--batch->sources_left == 0) batch_in_flight_.store(false);
      });
  };
  if (batch->target_vms.empty()) {
    sources();
    return;
  }
  for (uint32_t vm : batch->target_vms)
    Post(vm, [this, batch, vm, sources] {
      HoldTargets(*batch, vm);
      if (--batch->targets_left == 0) sources();
    });
}

bool PageSharer::Idle() {
  RunStepsOfEndedVms();
  return !batch_in_flight_.load();
}

PageSharer::Pass PageSharer::ScanOnce(uint64_t budget) {
  if (!ok()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  RunStepsOfEndedVms();
  if (batch_in_flight_.load()) return {};  // one batch at a time: the VMs have not run the last one yet
  if (resident_.empty()) monitor_.Residency(&resident_);
  std::vector<Merge> merges;
  const Pass pass = Sweep(budget, /*stable_only=*/true, &merges);
  if (!merges.empty()) Send(std::move(merges));
  return pass;
}

void PageSharer::Start(uint64_t pages_per_second, std::chrono::milliseconds interval) {
  if (!ok() || thread_.joinable()) return;
  const uint64_t budget =
      std::max<uint64_t>(1, pages_per_second * static_cast<uint64_t>(interval.count()) / 1000);
  thread_ = std::thread([this, budget, interval] {
    pthread_setname_np(pthread_self(), "strobe-share");
    std::unique_lock<std::mutex> lock(stop_mu_);
    uint64_t boost = 1;
    while (!stop_cv_.wait_for(lock, interval, [this] { return stop_; })) {
      lock.unlock();
      boost = NextBoost(ScanOnce(budget * boost), boost);
      lock.lock();
    }
  });
}

void PageSharer::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace strobe::vmm
