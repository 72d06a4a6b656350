// SPDX-License-Identifier: MIT
#include "translator/jit/tier.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "runtime/soft_tlb.h"

namespace strobe::jit {

namespace {
// Where control can go from a block, as offsets from the region's page (modulo 2^32): the fall-through
// or the return point after a call, and the target of a branch or a J/JAL.
void Successors(const RegionBlock& rb, uint32_t page, std::vector<uint32_t>* out) {
  const uint32_t next = rb.offset + 4 * static_cast<uint32_t>(rb.ops.size());
  if (rb.end == BlockEnd::kFallThrough ||
      (rb.end == BlockEnd::kEndsBlock && mips::GoesOnAfter(rb.ops.back())))
    out->push_back(next);
  if (rb.end != BlockEnd::kBranch) return;
  const mips::DecodedInsn& br = rb.ops[rb.ops.size() - 2];
  out->push_back(next);  // not taken, or where a call returns to
  if (std::optional<uint32_t> target = BranchTarget(rb)) {
    out->push_back(*target);
  } else if (br.op == mips::Opcode::J || br.op == mips::Opcode::JAL) {
    out->push_back(SpanJumpTarget(page, next - 8, br));
  }
}

bool HasSecondTier(const TierOptions& o) {
  return o.optimize_after != 0 && o.optimize_level > o.compile.opt_level;
}

// A decoded block as a region holds it, at offset from the region's page.
RegionBlock RegionBlockOf(const code::Block& b, uint32_t offset) {
  RegionBlock rb;
  rb.offset = offset;
  rb.end = b.end;
  rb.ops.assign(b.ops.begin(), b.ops.end());
  return rb;
}

CompileOptions FirstTier(const TierOptions& o) {
  CompileOptions c = o.compile;
  c.count_back_edges = HasSecondTier(o);
  c.count_work = HasSecondTier(o) || o.eager || o.compile.keep_listings;
  return c;
}
}  // namespace

std::shared_ptr<CompileService> CompileService::Create(const TierOptions& options, size_t vms) {
  auto s = std::make_shared<CompileService>();
  s->first = std::make_shared<Compiler>(FirstTier(options));
  if (HasSecondTier(options)) {
    CompileOptions o = options.compile;
    o.opt_level = options.optimize_level;
    o.max_batch = 1;  // one region a module: with the queue ordered by heat, the hottest is never held up
    o.count_back_edges = false;
    // One VM: only when the first tier's compiler and the vCPU leave a core free (at nice 0, with a VMM
    // pinned to one CPU: boot 1.24x the time, md5sum 1.80x, gzip 1.59x). Several VMs share its code, so
    // it runs with them: 4 VMs booting, 20.9-21.5 s of CPU and 12.6-12.8 s of wall at nice 0 against
    // 22.4-24.4 s and 13.3-14.2 s at 19 (bench/multi_vm.py, 2026-12-05).
    o.nice = vms > 1 ? 0 : 19;
    s->second = std::make_shared<Compiler>(o);
  }
  return s;
}

Tier::Tier(code::CodeCache& cache, TierOptions options, std::shared_ptr<CompileService> service)
    : cache_(cache),
      options_(options),
      service_(service ? std::move(service) : CompileService::Create(options)),
      compiler_(service_->first),
      busy_insns_(
          std::max<uint64_t>(options.busy_rate * static_cast<uint64_t>(prune_interval_.count()) / 1000, 1)) {
  if (service_->second && HasSecondTier(options_))
    optimizer_ = std::make_unique<CompilerClient>(service_->second);
  if (!options_.eager && compiler_.compiler().code_cache_stats())
    early_ = std::max<uint64_t>(std::min(options_.threshold / kEarlyFraction, kEarlyLoad), 1);
  cache_.set_listener(this);
}

Tier::~Tier() {
  cache_.set_listener(nullptr);
  cache_.DropRegions();  // their code belongs to this tier's compilers
}

TierStats Tier::stats() const {
  TierStats s = stats_;
  s.regions_installed = cache_.stats().regions_installed;
  s.regions_dropped = cache_.stats().regions_dropped;
  return s;
}

// The region of a page reachable from a root block through fall-throughs and direct branches. Tiered, it
// keeps to the code that has run often enough to matter (a block at least 1/kColdFraction as busy as the
// root) and is not translated or queued already; cold paths leave the region and earn their own region if
// they become hot. So a page's hot code is split into disjoint regions: a function with more hot blocks
// than one region holds is compiled once, not once per hot entry point. The jit engine takes everything
// reachable that no region holds yet (disjoint as well: measured, overlapping eager regions compiled the
// boot's code about six times over). Blocks whose delay slot lies on the next page stay with the
// interpreter.
std::unique_ptr<Region> Tier::Form(uint32_t page, uint32_t root_offset, bool kseg) {
  auto region = std::make_unique<Region>();
  region->page = page;
  region->kseg = kseg;
  region->generation = cache_.Generation(page);
  region->core_blocks = 1;  // filed by its root in the persistent cache, where NoteWarm finds its shape
  uint64_t root_count = 1;
  constexpr uint64_t kColdFraction = 32;
  region->blocks = Grow(page, root_offset, options_.eager, kseg, [&](const code::Block& b, bool root) {
    if (root) {
      root_count = std::max<uint64_t>(b.exec_count, 1);
      return true;
    }
    return !Covered(b.paddr) && (options_.eager || b.exec_count * kColdFraction >= root_count);
  });
  if (region->blocks.empty()) return nullptr;
  if (options_.eager && optimizer_)  // the second tier's profile (SecondTierRegions)
    for (RegionBlock& rb : region->blocks) rb.counter = &cache_.Find(page | rb.offset)->exec_count;
  return region;
}

// The blocks of a page reachable from root_offset through fall-throughs and direct branches that accept()
// takes (it is told which block is the root), up to the size limits; build: decode blocks that have not run
// yet (the jit engine). Blocks whose delay slot lies on the next page stay with the interpreter.
std::vector<RegionBlock> Tier::Grow(uint32_t page, uint32_t root_offset, bool build, bool kseg,
                                    const std::function<bool(const code::Block&, bool)>& accept) const {
  std::vector<RegionBlock> out;
  std::vector<uint32_t> work = {root_offset};
  std::unordered_set<uint32_t> seen;
  unsigned insns = 0;
  const auto [max_blocks, max_insns] = SizeLimits(kseg);
  while (!work.empty() && out.size() < max_blocks && insns < max_insns) {
    const uint32_t off = work.front();
    work.erase(work.begin());
    if (off >= runtime::kPageSize || !seen.insert(off).second) continue;
    const code::Block* b = build ? cache_.At(page | off) : cache_.Find(page | off);
    if (!b || b->end == BlockEnd::kBranchSplit || cache_.Breakable(b->paddr) || !accept(*b, out.empty()))
      continue;
    RegionBlock rb = RegionBlockOf(*b, off);
    insns += static_cast<unsigned>(rb.ops.size());
    Successors(rb, page, &work);  // those off the page are dropped above
    out.push_back(std::move(rb));
  }
  return out;
}

// Second tier: the region grows into hot code on other pages that its blocks reach by fall-through,
// branch or J/JAL (a call into a function of another page, and the function's own calls), up to the size
// limits. Only for kseg0/kseg1 code, where a page's neighbours in physical memory are its neighbours in
// virtual memory; the lifter guards those paths with that test (Region::other_pages). In-page blocks the
// region left out stay out (they were cold, or are another region's).
void Tier::Span(Region& r, bool take_all) {
  uint64_t root_count = 1;  // the busiest block's count (take_all: everything reachable)
  for (const RegionBlock& rb : r.blocks)
    if (const code::Block* b = cache_.Find(r.page + rb.offset))
      root_count = std::max(root_count, b->exec_count);
  // Stricter than Form: code on other pages joins when it runs at least a quarter as often as the root (a
  // call made on every pass), and at most kSpanInsns instructions of it, because LLVM's time grows faster
  // than the region and the first tier runs until the second one is ready.
  constexpr uint64_t kColdFraction = 4;
  constexpr unsigned kSpanInsns = 128;
  unsigned insns = 0, spanned = 0;
  std::unordered_set<uint32_t> seen;
  std::vector<uint32_t> work;
  for (const RegionBlock& rb : r.blocks) {
    seen.insert(rb.offset);
    insns += static_cast<unsigned>(rb.ops.size());
    Successors(rb, r.page, &work);
  }
  const auto [max_blocks, max_insns] = SizeLimits(r.kseg);
  while (!work.empty() && r.blocks.size() < max_blocks && insns < max_insns && spanned < kSpanInsns) {
    const uint32_t off = work.front();
    work.erase(work.begin());
    const uint32_t paddr = r.page + off;
    if (off < runtime::kPageSize || paddr >= runtime::kUnmappedWindow || !seen.insert(off).second) continue;
    code::Block* b = take_all ? cache_.At(paddr) : cache_.Find(paddr);
    if (!b || b->end == BlockEnd::kBranchSplit || cache_.Breakable(paddr)) continue;
    if (!take_all && b->exec_count * kColdFraction < root_count) continue;
    RegionBlock rb = RegionBlockOf(*b, off);
    insns += static_cast<unsigned>(rb.ops.size());
    spanned += static_cast<unsigned>(rb.ops.size());
    const uint32_t page = paddr & runtime::kPageMask;
    if (std::none_of(r.other_pages.begin(), r.other_pages.end(), [&](auto& p) { return p.first == page; }))
      r.other_pages.emplace_back(page, cache_.Generation(page));
    Successors(rb, r.page, &work);
    r.blocks.push_back(std::move(rb));
  }
}

bool Tier::IsGuestCodeNow(uint32_t paddr, const RegionBlock& rb) const {
  const code::Block* b = cache_.Find(paddr);
  return b && b->end != BlockEnd::kBranchSplit && !cache_.Breakable(paddr) && b->end == rb.end &&
         SameOps(b->ops, rb.ops);
}

bool Tier::TakeCachedShape(Region& r) {
  if (!optimizer_ || !r.core_blocks) return false;
  for (std::vector<RegionBlock>& shape : optimizer_->compiler().CachedShapes(r)) {
    std::vector<std::pair<uint32_t, uint64_t>> pages;
    bool fits = true;
    for (size_t i = r.core_blocks; i < shape.size() && fits; ++i) {
      const RegionBlock& rb = shape[i];
      const uint32_t paddr = r.page + rb.offset;
      fits = rb.offset >= runtime::kPageSize && paddr < runtime::kUnmappedWindow && IsGuestCodeNow(paddr, rb);
      const uint32_t page = paddr & runtime::kPageMask;
      if (fits && std::none_of(pages.begin(), pages.end(), [&](auto& p) { return p.first == page; }))
        pages.emplace_back(page, cache_.Generation(page));
    }
    if (!fits) continue;
    r.blocks = std::move(shape);
    r.other_pages = std::move(pages);
    ++stats_.cached_shapes;
    return true;
  }
  return false;
}

// The regions the second tier compiles for a busy first-tier region. A tiered region holds hot code only
// (Form: rooted at the block that got hot, hot successors only) and goes whole. The jit engine's regions
// hold whatever was reachable from the first block that ran, often several loops of a page (sort: quicksort's
// partition loops and their callers in one 37-block region), so a hot loop is often split between two of
// them and bounces from one to the other on every pass (compress: 57 M region entries against 3 M tiered).
// Their code counts each block's executions instead, and the second tier re-forms all of the region's hot
// code at once, as the tiered engine would have formed it: from the busiest block through successors on the
// page that ran at least 1/kColdFraction as often, then from the busiest block left, and so on, taking blocks
// whichever first-tier region holds them and that no optimised or queued second-tier region holds. Re-forming
// only the busiest loop left the others in first-tier code until the region's remainder had been compiled
// again and had become busy on its own, passes later (sort: quicksort's partition loop got optimised code in
// the third pass instead of the first). Nothing when only cold blocks are left unoptimised.
std::vector<std::vector<RegionBlock>> Tier::SecondTierRegions(const Region& r) const {
  if (!r.blocks.front().counter) return {r.blocks};
  auto taken = [&](uint32_t paddr) {
    if (queued_.count(paddr)) return true;
    const CompiledRegion* holder = cache_.InstalledAt(paddr);
    return holder && holder->region->opt_level >= options_.optimize_level;
  };
  constexpr uint64_t kColdFraction = 32;
  uint64_t hottest = 0;
  std::vector<const RegionBlock*> roots;
  for (const RegionBlock& rb : r.blocks) {
    hottest = std::max(hottest, *rb.counter);
    if (!taken(r.page | rb.offset)) roots.push_back(&rb);
  }
  std::stable_sort(roots.begin(), roots.end(),
                   [](const RegionBlock* a, const RegionBlock* b) { return *a->counter > *b->counter; });
  std::vector<std::vector<RegionBlock>> out;
  std::unordered_set<uint32_t> formed;  // blocks of the regions formed here
  for (const RegionBlock* root : roots) {
    if (*root->counter * kColdFraction < hottest) break;  // the rest is cold
    if (formed.count(root->offset)) continue;
    const uint64_t root_count = std::max<uint64_t>(*root->counter, 1);
    std::vector<RegionBlock> blocks =
        Grow(r.page, root->offset, /*build=*/false, r.kseg, [&](const code::Block& b, bool is_root) {
          return is_root || (b.exec_count * kColdFraction >= root_count && !taken(b.paddr) &&
                             !formed.count(b.paddr & ~runtime::kPageMask));
        });
    for (const RegionBlock& rb : blocks) formed.insert(rb.offset);
    if (!blocks.empty()) out.push_back(std::move(blocks));
  }
  return out;
}

Region* Tier::SourceOf(const Region& again) {
  if (const auto* list = cache_.RegionsInPage(again.page))
    for (auto& cr : *list)
      if (cr->region.get() == again.source)  // not a new region where it was
        return cr->region->frame.entries < again.reopt_base ? nullptr : cr->region.get();
  return nullptr;
}

void Tier::Unqueue(const Region& r) {
  for (const RegionBlock& rb : r.blocks)
    if (rb.offset < runtime::kPageSize) queued_.erase(r.page | rb.offset);
}

bool Tier::Covered(uint32_t paddr) const {
  auto p = pending_.find(paddr);
  if (p != pending_.end()) {
    if (p->second == cache_.Generation(paddr & runtime::kPageMask)) return true;
  }
  return cache_.EntryFor(paddr, nullptr) != nullptr;
}

void Tier::Install(std::shared_ptr<CompiledRegion> cr) {
  const uint32_t page = cr->region->page;
  if (cr->region->opt_level > 0) Unqueue(*cr->region);
  bool stale = cr->region->generation != cache_.Generation(page);  // the page was written while we compiled
  for (const auto& [other, generation] : cr->region->other_pages)
    stale |= generation != cache_.Generation(other);
  // A debugger marked a breakpoint offset while this compiled: that block must stay with the dispatcher.
  for (const RegionBlock& rb : cr->region->blocks) stale |= cache_.Breakable(page + rb.offset);
  if (stale) {
    ++stats_.stale_results;
    // A second-tier compile goes stale when its own page or a page it spans was written. In the second
    // case its source is still installed, marked as sent: it must be able to go again, or it keeps
    // running first-tier code for good.
    if (cr->region->opt_level > 0)
      if (Region* source = SourceOf(*cr->region)) {
        source->reoptimizing = false;
        source->reopt_base = source->frame.entries;
      }
    return;
  }
  if (!cr->fn) {
    ++stats_.failed;
    for (const RegionBlock& rb : cr->region->blocks)
      if (rb.offset < runtime::kPageSize) failed_.insert(page | rb.offset);
    return;
  }
  // Cached jumps (chain sites, the jump cache) hold entries into installed code. They stay valid unless
  // code is retired below; a second-tier install re-resolves them anyway, so that they reach the faster code.
  const bool retire = cr->region->opt_level > 0;
  std::function<bool(const Region&)> replaced;
  if (cr->region->opt_level > 0) {
    // A re-optimised region replaces its first-tier original (same root). The jit engine's second tier
    // re-forms regions (SecondTierRegions), so it replaces every first-tier region holding one of its blocks:
    // left installed, such a region kept running its own copy of the hot loop through its internal
    // branches (hash: its hottest block ran 15 M times in first-tier code beside an optimised copy). Their
    // other, colder blocks are compiled again when they next run.
    const unsigned level = cr->region->opt_level;
    const uint32_t root = cr->region->blocks.front().offset;
    std::unordered_set<uint32_t> offsets;
    for (const RegionBlock& rb : cr->region->blocks) offsets.insert(rb.offset);
    replaced = [this, level, root, offsets = std::move(offsets)](const Region& old) {
      if (old.opt_level >= level) return false;
      if (!options_.eager) return old.blocks.front().offset == root;
      return std::any_of(old.blocks.begin(), old.blocks.end(),
                         [&](const RegionBlock& rb) { return offsets.count(rb.offset) != 0; });
    };
  }
  cache_.Install(std::move(cr), replaced, retire);
}

void Tier::NoteHot(const code::Block& b, uint32_t vpc) {
  if (vpc < runtime::kKseg0) programs_ran_ = true;
  const uint32_t page = b.paddr & runtime::kPageMask;
  // Covered also holds while a compile of the page's current code is pending (heat that cooled and crossed
  // the threshold again meanwhile sends nothing twice).
  if (Covered(b.paddr) || failed_.count(b.paddr)) return;
  if (std::unique_ptr<Region> r = Form(page, b.paddr & ~runtime::kPageMask, runtime::InUnmappedSegment(vpc)))
    Send(std::move(r));
}

void Tier::Send(std::unique_ptr<Region> r) {
  for (const RegionBlock& rb : r->blocks) pending_[r->page | rb.offset] = r->generation;
  compiler_.Submit(std::move(r));
}

void Tier::NoteWarm(const code::Block& b, uint32_t vpc) {
  if (vpc < runtime::kKseg0) programs_ran_ = true;
  const uint32_t page = b.paddr & runtime::kPageMask;
  if (Covered(b.paddr) || failed_.count(b.paddr) || cache_.Breakable(b.paddr)) return;
  Region core;
  core.page = page;
  core.core_blocks = 1;
  core.blocks.push_back(RegionBlockOf(b, b.paddr & ~runtime::kPageMask));
  for (std::vector<RegionBlock>& shape : compiler_.compiler().CachedShapes(core)) {
    bool fits = true;
    for (size_t i = 1; i < shape.size() && fits; ++i) {
      const RegionBlock& rb = shape[i];
      fits = rb.offset < runtime::kPageSize && IsGuestCodeNow(page | rb.offset, rb) &&
             !Covered(page | rb.offset);
    }
    if (!fits) continue;
    auto r = std::make_unique<Region>();
    r->page = page;
    r->kseg = runtime::InUnmappedSegment(vpc);  // as NoteHot would form it: its second tier's size limits
    r->generation = cache_.Generation(page);
    r->core_blocks = 1;
    r->blocks = std::move(shape);
    ++stats_.early_loads;
    Send(std::move(r));
    return;
  }
}

bool Tier::WantsEager(uint32_t paddr) const {
  if (!options_.eager || failed_.count(paddr)) return false;
  auto it = rewrites_.find(paddr & runtime::kPageMask);
  return it == rewrites_.end() || it->second < kVolatileRewrites;
}

void Tier::CompileNow(const code::Block& b) {
  const uint32_t page = b.paddr & runtime::kPageMask;
  std::unique_ptr<Region> r = Form(page, b.paddr & ~runtime::kPageMask, /*kseg=*/false);
  if (!r) {
    failed_.insert(b.paddr);
    return;
  }
  // The jit engine at an optimising level compiles in the second tier's shape, spanning pages too.
  if (options_.span_pages && options_.compile.opt_level >= 1) Span(*r, /*take_all=*/true);
  std::vector<std::unique_ptr<Region>> batch;
  batch.push_back(std::move(r));
  auto done = compiler_.Compile(std::move(batch));
  Install(std::move(done[0]));
  if (!cache_.EntryFor(b.paddr, nullptr)) failed_.insert(b.paddr);  // e.g. its delay slot is on the next page
}

void Tier::Poll() {
  for (auto& cr : compiler_.TakeFinished()) {
    for (const RegionBlock& rb : cr->region->blocks) {
      auto p = pending_.find(cr->region->page | rb.offset);
      if (p != pending_.end() && p->second == cr->region->generation) pending_.erase(p);
    }
    Install(std::move(cr));
  }
  if (!optimizer_) return;
  for (auto& cr : optimizer_->TakeFinished()) Install(std::move(cr));
  // Every few slices, send regions that became busy to the optimizing compiler (once each), the busiest
  // first: the second tier's queue is long at start-up, and the hottest loop should not wait behind it.
  if (++polls_ % 16) return;
  PruneSecondTier();  // its bar scales with the time since the last prune, so rare polls are fine
  const auto scan_start = std::chrono::steady_clock::now();
  if (scan_start < next_scan_) return;
  // Busy: optimize_after entries in all, and entered at the still-busy rate since the last scan, so that
  // code an idle guest runs now and then (timer ticks) does not crawl over the bar and get compiled.
  const uint64_t min_recent = StillBusy(&last_scan_);
  std::vector<Region*> busy;
  cache_.ForEachRegion([&](Region& r) {
    const uint64_t recent = r.frame.insns - r.scan_base;
    r.scan_base = r.frame.insns;
    if (r.opt_level < options_.optimize_level && !r.reoptimizing &&
        r.frame.entries - r.reopt_base >= options_.optimize_after && recent >= min_recent)
      busy.push_back(&r);
  });
  next_scan_ = scan_start + kScanSpacing * (std::chrono::steady_clock::now() - scan_start);
  std::sort(busy.begin(), busy.end(),
            [](const Region* a, const Region* b) { return a->frame.entries > b->frame.entries; });
  for (Region* r : busy) {
    std::vector<std::vector<RegionBlock>> regions = SecondTierRegions(*r);
    if (regions.empty()) {  // its hot code is optimised: look again after optimize_after entries
      r->reopt_base = r->frame.entries;
      continue;
    }
    r->reoptimizing = true;
    for (std::vector<RegionBlock>& blocks : regions) {
      auto again = std::make_unique<Region>();
      again->page = r->page;
      again->kseg = r->kseg;
      again->generation = r->generation;
      again->blocks = std::move(blocks);
      for (const RegionBlock& rb : again->blocks) queued_.insert(r->page | rb.offset);
      again->opt_level = options_.optimize_level;
      again->frame.entries = r->frame.entries - r->reopt_base;  // its priority in the queue
      again->reopt_base = r->frame.entries;
      again->reopt_insns = r->frame.insns;
      again->source = r;
      // Without counters (the tiered engine) the region's shape depends only on its blocks and on what it
      // spans, which follows how busy other pages are: a shape an earlier run compiled is taken if it fits.
      if (again->blocks.front().counter == nullptr)
        again->core_blocks = static_cast<uint32_t>(again->blocks.size());
      if (options_.span_pages && !TakeCachedShape(*again)) Span(*again, /*take_all=*/false);
      ++stats_.reoptimized;
      optimizer_->Submit(std::move(again));
    }
  }
}

// The second tier's queue keeps only regions that are still busy. At start-up it fills with code that ran
// hot once (the boot's decompressor, initcalls) faster than a low-priority thread can compile it; left
// alone it went on compiling for 90 s after the boot, 65-70% of a core while the guest sat idle. So every
// prune interval (250 ms) a queued region stays only if the code it replaces ran busy_insns_ guest
// instructions an interval since the last look (counted by that code itself, RegionFrame::insns; its entry
// count becomes its priority); the others leave the queue, and their source is sent again once it is busy
// again. The bar is a rate of work, not a count of entries: an idle guest's timer tick enters some kernel
// regions a few thousand times a second, and an O1 compile of one (0.2-0.8 s of CPU for a large region)
// would take minutes to pay back; and a look seconds after the last one must not count the boot's entries
// as recent. (It was once estimated as entries times the region's mean block size, which missed the blocks
// an entry runs after the first: seq's busiest first-tier regions ran 1.5-6 times that estimate.)
uint64_t Tier::StillBusy(std::chrono::steady_clock::time_point* since) const {
  const auto now = std::chrono::steady_clock::now();
  const double intervals = prune_interval_.count() > 0 ? std::chrono::duration<double>(now - *since) /
                                                             std::chrono::duration<double>(prune_interval_)
                                                       : 1.0;
  *since = now;
  return std::max<uint64_t>(static_cast<uint64_t>(static_cast<double>(busy_insns_) * intervals), 1);
}

void Tier::PruneSecondTier(bool now) {
  if (!optimizer_ || (!now && std::chrono::steady_clock::now() - last_prune_ < prune_interval_)) return;
  const uint64_t still_busy = now ? busy_insns_ : StillBusy(&last_prune_);
  optimizer_->Prune([&](Region& again) {
    Region* source = SourceOf(again);
    if (!source) {
      // Gone: its page was written (the result would be stale), or a region formed from it at the same
      // time replaced it (the jit engine's SecondTierRegions), which leaves this one as busy as it was.
      const bool stale = again.generation != cache_.Generation(again.page);
      if (stale) Unqueue(again);
      return !stale;
    }
    const uint64_t recent = source->frame.entries - again.reopt_base;
    if (source->frame.insns - again.reopt_insns < still_busy) {
      source->reoptimizing = false;
      source->reopt_base = source->frame.entries;
      ++stats_.reoptimize_pruned;
      Unqueue(again);
      return false;
    }
    again.frame.entries = recent;
    again.reopt_base = source->frame.entries;
    again.reopt_insns = source->frame.insns;
    return true;
  });
}

void Tier::Drain(bool second_tier) {
  while (compiler_.Pending() > 0 || (second_tier && optimizer_ && optimizer_->Pending() > 0))
    std::this_thread::yield();
  Poll();
}

void Tier::CodeDropped(uint32_t page, bool had_regions) {
  if (had_regions) ++rewrites_[page];
  // New code may be written there: give the page's blocks another chance later.
  for (auto f = failed_.begin(); f != failed_.end();)
    f = ((*f & runtime::kPageMask) == page) ? failed_.erase(f) : std::next(f);
}

PersistentCacheStats Tier::code_cache_stats() {
  PersistentCacheStats sum = compiler_.compiler().code_cache_stats().value_or(PersistentCacheStats{});
  if (optimizer_) sum += optimizer_->compiler().code_cache_stats().value_or(PersistentCacheStats{});
  return sum;
}

}  // namespace strobe::jit
