// SPDX-License-Identifier: MIT
// Tier policy between the interpreter and the LLVM compiler. Tiered: blocks that run `threshold` times make
// their page's hot code a region, compiled in the background and installed when ready. Eager (the jit
// engine): a block's region is compiled before the block first runs. Regions are dropped exactly when their
// page's code is invalidated; code that may be running is freed only after the current slice.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "translator/code/code_cache.h"
#include "translator/interp/interpreter.h"
#include "translator/jit/compiler.h"

namespace strobe::jit {

struct TierOptions {
  bool eager = false;             // compile before first execution (the jit engine)
  uint64_t threshold = 1000;      // executions that make a block hot (tiered)
  uint64_t kernel_threshold = 0;  // the same for code run in kseg0/kseg1 (the kernel; 0: threshold)
  // The kernel's threshold once user programs run (a block in kuseg got warm or hot), when it differs (0:
  // kernel_threshold all along). Before that the kernel runs its boot code, most of it once per boot; then it
  // serves programs (system calls, page faults, switches), the same paths again and again.
  uint64_t serving_kernel_threshold = 0;
  // Tiered: a block's count of executions halves every 2^cooling_shift retired guest instructions (0: never),
  // so a block must run `threshold` times in about that span to be compiled.
  unsigned cooling_shift = 0;
  // Tiered: executions (counted as the threshold's) after which a block gets the interpreter's baseline
  // code (interp/baseline.h) until LLVM's code replaces it (0: never).
  uint64_t baseline = 0;
  unsigned max_blocks = 64;  // region size limits: LLVM's time grows faster than linearly with them
  unsigned max_insns = 512;
  // The limits for code that runs in kseg0/kseg1 (the kernel): its hot loops are bigger (the LZMA decoder
  // that unpacks it at boot is cut at 64 blocks otherwise) and there is one copy of it, not one per program.
  unsigned kseg_max_blocks = 128;
  unsigned kseg_max_insns = 1024;
  CompileOptions compile;
  // Second tier: regions entered this often are compiled again with optimize_level (0: never).
  uint64_t optimize_after = 2000;
  unsigned optimize_level = 1;
  // Second tier: guest instructions a second a region's code must run to be (and stay) queued for it.
  uint64_t busy_rate = 4'000'000;
  // The second tier follows hot calls and jumps into other pages of kseg0/kseg1 code (Region::other_pages).
  bool span_pages = true;
};

// The compilers a tier uses, which every tier of a process may share: with several VMs, one set of LLVM
// threads (one per tier level) serves them all.
struct CompileService {
  std::shared_ptr<Compiler> first;   // the first tier's compiler
  std::shared_ptr<Compiler> second;  // the second tier's (null: none)
  // The compilers for tiers with these options (a tier given a service must have the same options), for
  // `vms` VMs that share them.
  static std::shared_ptr<CompileService> Create(const TierOptions& options, size_t vms = 1);
};

struct TierStats {
  uint64_t regions_installed = 0;  // the code cache's counts (CodeCacheStats)
  uint64_t regions_dropped = 0;
  uint64_t stale_results = 0;
  uint64_t failed = 0;
  uint64_t reoptimized = 0;
  uint64_t reoptimize_pruned = 0;  // left the second tier's queue because they had cooled down
  uint64_t cached_shapes = 0;      // second-tier regions shaped as an earlier run's (TakeCachedShape)
  uint64_t early_loads = 0;        // first-tier regions an earlier run compiled, sent before they got hot
};

// The translation tier of one vCPU: it forms regions from the code cache's blocks, has them compiled (or
// found in the persistent cache) and installs the code in the code cache. The interpreter drives it
// (interp::Translator); the code cache tells it when code goes (CodeCache::Listener).
class Tier final : public interp::Translator, public code::CodeCache::Listener {
 public:
  // service: the compilers to use, shared with other tiers (null: the tier's own).
  Tier(code::CodeCache& cache, TierOptions options, std::shared_ptr<CompileService> service = nullptr);
  ~Tier() override;

  const TierOptions& options() const { return options_; }

  // interp::Translator.
  Hotness hotness() const override {
    const uint64_t kernel = programs_ran_ && options_.serving_kernel_threshold
                                ? options_.serving_kernel_threshold
                            : options_.kernel_threshold ? options_.kernel_threshold
                                                        : options_.threshold;
    return {options_.eager, options_.threshold, kernel, options_.cooling_shift, early_, options_.baseline};
  }
  void StartSlice() override { Poll(); }
  void NoteHot(const code::Block& b, uint32_t vpc) override;
  // A block at an eighth of the threshold whose region an earlier run compiled (the persistent code cache
  // holds a shape rooted at it, and every block of that shape is the guest's code now) gets that region
  // now: loading it costs little, and until then the interpreter ran it. Nothing otherwise.
  void NoteWarm(const code::Block& b, uint32_t vpc) override;
  // The jit engine: whether a block without translated code is compiled before it runs. Not on a page whose
  // translated code was dropped kVolatileRewrites times (code written again and again, e.g. a guest's own
  // code generator): recompiling it at every rewrite cost 50x the interpreter's time, so such a page
  // falls back to the tiered policy (interpreted until a block gets hot).
  bool WantsEager(uint32_t paddr) const override;
  void CompileNow(const code::Block& b) override;

  // code::CodeCache::Listener.
  void CodeDropped(uint32_t page, bool had_regions) override;
  void Flushed() override { ForgetRewrites(); }
  void ForgetRewrites() { rewrites_.clear(); }

  TierStats stats() const;
  CompilerStats compiler_stats() { return compiler_.stats(); }
  CompilerStats optimizer_stats() { return optimizer_ ? optimizer_->stats() : CompilerStats{}; }
  // The persistent code cache of both tiers' compilers (shared by every tier using them), and why it is
  // off if it could not be used.
  PersistentCacheStats code_cache_stats();
  std::string code_cache_error() { return compiler_.compiler().code_cache_error(); }
  // Wait until background compiles are done (tests, benchmarks); with second_tier, the second tier's too.
  void Drain(bool second_tier = false);
  // Tests: keep the second tier's queue from being compiled, and how often it is pruned.
  void HoldSecondTier(bool held) {
    if (optimizer_) optimizer_->Hold(held);
  }
  void set_prune_interval(std::chrono::milliseconds interval) { prune_interval_ = interval; }
  void set_busy_insns(uint64_t per_interval) { busy_insns_ = per_interval; }
  void set_cooling_shift(unsigned shift) { options_.cooling_shift = shift; }
  void set_kernel_threshold(uint64_t executions) {
    options_.kernel_threshold = executions;
    options_.serving_kernel_threshold = 0;
  }
  void set_serving_kernel_threshold(uint64_t executions) { options_.serving_kernel_threshold = executions; }
  // Prune the second tier's queue now, as if one interval had passed since the last prune.
  void PruneSecondTierNow() { PruneSecondTier(/*now=*/true); }

 private:
  void Poll();  // install finished background compiles, send busy regions to the second tier
  std::unique_ptr<Region> Form(uint32_t page, uint32_t root_offset, bool kseg);
  // A region's most blocks and instructions (kseg: code running in kseg0/kseg1).
  std::pair<unsigned, unsigned> SizeLimits(bool kseg) const {
    return kseg ? std::pair{options_.kseg_max_blocks, options_.kseg_max_insns}
                : std::pair{options_.max_blocks, options_.max_insns};
  }
  void Send(std::unique_ptr<Region> r);  // to the first tier's compiler; its blocks are pending until done
  std::vector<RegionBlock> Grow(uint32_t page, uint32_t root_offset, bool build, bool kseg,
                                const std::function<bool(const code::Block&, bool)>& accept) const;
  void Span(Region& r, bool take_all);
  // A second-tier region takes a shape the code cache has code for (Compiler::CachedShapes) if that shape's
  // spanned blocks are the guest's code now; false: none fits, Span it.
  bool TakeCachedShape(Region& r);
  // A cached shape's block at paddr is the guest's decoded code now (same instructions, same end), not
  // split across pages and not marked by a debugger.
  bool IsGuestCodeNow(uint32_t paddr, const RegionBlock& rb) const;
  std::vector<std::vector<RegionBlock>> SecondTierRegions(const Region& r) const;
  void Install(std::shared_ptr<CompiledRegion> cr);
  bool Covered(uint32_t paddr) const;  // translated, or queued for translation
  void Unqueue(const Region& r);       // a second-tier region left the queue: its blocks leave queued_
  // The installed first-tier region a queued or compiled second-tier region replaces (null: gone).
  Region* SourceOf(const Region& again);
  void PruneSecondTier(bool now = false);

  code::CodeCache& cache_;
  TierOptions options_;
  std::shared_ptr<CompileService> service_;
  CompilerClient compiler_;
  std::unique_ptr<CompilerClient>
      optimizer_;  // the second tier's compiler (its own thread and codegen level)
  uint64_t polls_ = 0;
  // Hotness::early: with a persistent code cache, kEarlyLoad executions (at most an eighth of the
  // threshold), else 0. Loading a cached region costs about 0.2 ms, far less than compiling it, so the count
  // is not the threshold's: 250 was measured as an eighth of the threshold of 2,000 (translator/README.md).
  uint64_t early_ = 0;
  bool programs_ran_ = false;  // a block in kuseg got warm or hot (serving_kernel_threshold)
  static constexpr uint64_t kEarlyFraction = 8;
  static constexpr uint64_t kEarlyLoad = 250;
  std::chrono::milliseconds prune_interval_{250};
  uint64_t busy_insns_;  // still busy: guest instructions a prune interval (TierOptions::busy_rate)
  std::chrono::steady_clock::time_point last_prune_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_scan_ = std::chrono::steady_clock::now();
  // The scan for busy regions visits every installed region: with a whole Debian system translated that
  // is tens of thousands, so the next scan waits kScanSpacing times as long as the last one took: the scans
  // take at most 1% of the vCPU thread (at 25 they took 2.5-3% of a fork+exec loop's profile).
  std::chrono::steady_clock::time_point next_scan_{};
  static constexpr int kScanSpacing = 100;
  // Guest instructions a region must have run since *since to count as still busy, and *since = now.
  uint64_t StillBusy(std::chrono::steady_clock::time_point* since) const;
  // Blocks being compiled, with their page's code generation when queued: a block rebuilt after the page
  // was rewritten is not held back by the stale compile of its predecessor.
  std::unordered_map<uint32_t, uint64_t> pending_;
  std::unordered_set<uint32_t> failed_;  // block addresses not to retry
  // Blocks of the page held by regions in the second tier's queue (the jit engine forms no second one for
  // them meanwhile).
  std::unordered_set<uint32_t> queued_;
  static constexpr unsigned kVolatileRewrites = 4;
  std::unordered_map<uint32_t, unsigned> rewrites_;  // by page: invalidations that dropped translated code
  TierStats stats_;
};

}  // namespace strobe::jit
