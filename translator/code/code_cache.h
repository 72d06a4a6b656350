// SPDX-License-Identifier: MIT
// The code cache: all the code one vCPU runs, decoded and translated, and the rules for when it goes. It
// owns the decoded blocks (by guest-physical address and by page), the translated regions installed for
// them, each block's translated entry, the jump cache that translated code's chained jumps consult, and
// the invalidation of all of that when a page's code changes. The interpreter and the translation tier are
// its clients: the interpreter looks blocks up and runs them; the tier forms regions from blocks, compiles
// them and installs the code here. Neither calls the other to keep code consistent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/runtime.h"
#include "translator/code/baseline_pool.h"
#include "translator/code/exec_memory.h"
#include "translator/code/ops_pool.h"
#include "translator/code/region.h"
#include "translator/mips/decoder.h"

namespace strobe::code {

// A decoded block: at most kMaxBlockInsns instructions of one 4 KiB page, ending at a branch and its delay
// slot, at an instruction that may change translation state, or at the page end. What the dispatcher and
// baseline code read or write on every execution comes first, in one cache line: a block run once per
// process is not in the cache. (exec_count in a second line cost a second miss per execution: in a fork+exec
// loop 1.9% of all CPU on the increment in baseline code's go-on path alone.)
struct alignas(64) Block {
  uint32_t paddr = 0;  // guest-physical address of the first instruction
  uint16_t size = 0;   // instructions, including a terminator and delay slot
  uint16_t body = 0;   // instructions executed by the interpreter's straight-line loop
  BlockEnd end = BlockEnd::kFallThrough;
  bool baseline_tried = false;  // CompileBaseline was asked (baseline is null if it declined)
  // First fetched through kseg0/kseg1 (the kernel): hot at the kernel's threshold (Translator::Hotness).
  bool kernel = false;
  // Hotness for the tiered policy: executions, halved every cooling period of retired guest instructions
  // (heat_epoch is the period it was last brought up to date in).
  uint32_t heat = 0;
  uint32_t heat_epoch = 0;
  // Successors in the same page, found on earlier runs (page offset + 1, at most 4096; 0 = empty).
  uint16_t succ_off[2] = {0, 0};
  Block* succ[2] = {nullptr, nullptr};
  // Translated code for this block's start, or null, and the RegionFrame it runs with.
  NativeFn native = nullptr;
  // Host code for this block from the interpreter's baseline emitter (interp/baseline.h), run in place of
  // interpreting it through the pool's entry (BaselineEnter, interp::BaselineEntry): the same effects as
  // Interpreter::Execute, then on through successors with baseline code while the slice (limit) lasts. It
  // returns the block it ran last if the dispatcher may chain from that one to the next (Execute's
  // may_chain), else null; or, tagged with kNextBlockTag, the block at the PC (found and not entered: it
  // was too warm or had translated code), which the dispatcher runs next without a lookup. Null until the
  // block is warm (or when it cannot be emitted). `self` is this block: the code, shared by every block (of
  // any VM) with the same instructions at the same page offset, has no address of its own block in it.
  using BaselineEnter = Block* (*)(runtime::CpuState* c, uint32_t vpc, uint64_t limit, Block* self,
                                   const void* code);
  const void* baseline = nullptr;
  uint64_t exec_count = 0;  // every execution (the tiers' profile)
  // --- second cache line ---
  void* native_frame = nullptr;
  // The instructions, decoded: body, then the terminator (and delay slot for kBranch). They live in the
  // code cache's arena beside the block and stay where they are while it lives (baseline code points at
  // them).
  std::span<const mips::DecodedInsn> ops;
  BaselinePool::Ref baseline_code;  // what `baseline` points into
};
static_assert(sizeof(Block) == 128, "a block is two cache lines");
// Added to a Block* that baseline code returns: the block to run next (blocks are 64-byte aligned).
inline constexpr uintptr_t kNextBlockTag = 1;
static_assert(offsetof(Block, exec_count) + sizeof(Block::exec_count) <= 64,
              "the fields read and written on every execution fit a line");

struct CodeCacheStats {
  uint64_t blocks_built = 0;
  uint64_t blocks_invalidated = 0;
  uint64_t lookups = 0;
  uint64_t regions_installed = 0;
  uint64_t regions_dropped = 0;
  uint64_t links = 0;            // exits whose own cache missed (strobe_jit_link)
  uint64_t link_resolves = 0;    // of them, the jump cache missed too: the soft TLB and the blocks were asked
  uint64_t baseline_blocks = 0;  // blocks given baseline code (interp/baseline.h)
  uint64_t baseline_insns = 0;   // their guest instructions
  uint64_t baseline_ns = 0;      // time spent emitting it
};

class CodeCache;
// Blocks and their instructions live in the code cache's arenas; this gives them back.
struct BlockDeleter {
  CodeCache* cache = nullptr;
  void operator()(Block* b) const;
};
using BlockPtr = std::unique_ptr<Block, BlockDeleter>;

// The blocks of a code cache by guest-physical address: open addressing with linear probing over a table
// of pointers (the blocks know their addresses), at most half full, deletion by shifting the probe run
// back. A boot keeps some 55,000 blocks: a node-based map took 48 bytes of node and 8 to 16 of bucket per
// block (3.3 MiB a VM), this takes 16 to 32 and one cache miss a lookup instead of two.
class BlockTable {
 public:
  Block* Find(uint32_t paddr) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = Home(paddr);; i = (i + 1) & mask_) {
      Block* b = slots_[i];
      if (!b || b->paddr == paddr) return b;
    }
  }
  void Insert(Block* b);         // none at its address yet
  Block* Erase(uint32_t paddr);  // the block taken out, or null
  size_t size() const { return size_; }
  template <typename F>
  void ForEach(F&& f) const {  // f(const Block&)
    for (Block* b : slots_)
      if (b) f(*b);
  }
  // Takes every block out (they are the caller's now).
  std::vector<Block*> TakeAll();

 private:
  size_t Home(uint32_t paddr) const { return SlotOf(paddr, bits_); }
  void Place(Block* b);  // in the first free slot of its probe run
  void Grow();
  std::vector<Block*> slots_;
  size_t mask_ = 0;
  unsigned bits_ = 0;
  size_t size_ = 0;
};

class CodeCache final : public runtime::CodeObserver {
 public:
  static constexpr unsigned kMaxBlockInsns = 128;

  // Told when a page's code goes, so that policy kept beside the code (a tier's failed compiles, its count
  // of rewrites) goes with it.
  class Listener {
   public:
    virtual ~Listener() = default;
    // The page's code was dropped; had_regions: translated regions of the page went with it.
    virtual void CodeDropped(uint32_t page, bool had_regions) = 0;
    // Everything was dropped (a reboot reloading the image, not code rewriting itself).
    virtual void Flushed() = 0;
  };

  // Becomes the CPU's code observer (stores to code come here) and its code_cache (translated code's
  // chain lookups). With an OpsPool, blocks keep their decoded instructions there, shared with the other
  // code caches (VMs) using it, and with a BaselinePool their baseline code (else the cache has a pool of
  // its own); the pools must outlive the cache.
  explicit CodeCache(runtime::CpuState& cpu, OpsPool* ops_pool = nullptr,
                     BaselinePool* baseline_pool = nullptr);
  ~CodeCache() override;
  void set_listener(Listener* listener) { listener_ = listener; }

  // --- Blocks ---
  // The block at paddr if it was built already (it has run, or a region former asked for it), else null.
  Block* Find(uint32_t paddr) const;
  // The block starting at paddr, decoded now if needed; null if paddr is not word-aligned RAM.
  Block* At(uint32_t paddr);
  // The interpreter's lookup: the block at paddr, whose word is at host; *built: it was decoded now. Every
  // dispatch asks it: the direct-mapped slot is tried inline, the map and the decoder out of line.
  Block* Lookup(uint32_t paddr, const uint8_t* host, bool* built) {
    ++stats_.lookups;
    *built = false;
    Block*& slot = FastSlot(paddr);
    if (slot && slot->paddr == paddr) [[likely]]
      return slot;
    return LookupSlow(paddr, host, built, &slot);
  }
  // The blocks decoded from one guest-physical page (null if none).
  const std::vector<Block*>* BlocksInPage(uint32_t page) const {
    auto it = by_page_.find(page);
    return it == by_page_.end() ? nullptr : &it->second;
  }
  // Blocks by guest-physical address, for the dump tool, statistics and tests.
  const BlockTable& blocks() const { return blocks_; }
  // Whether a block starting here must stay with the interpreter (a debugger's breakpoint offset).
  bool Breakable(uint32_t paddr) const;

  // --- Translated code ---
  // Moves on each time the page's code is dropped: code compiled from an older generation is stale.
  uint64_t Generation(uint32_t page) const {
    auto it = generation_.find(page);
    return it == generation_.end() ? 0 : it->second;
  }
  // Installs a region's code: regions of its page for which `replaces` says so go (after the slice), and
  // the page's blocks take their entries from the newest region holding them. `retire`: code that chained
  // jumps or the jump cache may point at was retired, or better code should replace it there, so every
  // cached jump is resolved again; a first-tier install that replaced nothing leaves them be.
  void Install(std::shared_ptr<CompiledRegion> cr, const std::function<bool(const Region&)>& replaces,
               bool retire);
  // The installed region whose code a block start enters (the newest one holding it), or null.
  const CompiledRegion* InstalledAt(uint32_t paddr) const;
  // Its entry for that block start, and (if frame is not null) the frame it runs with.
  NativeFn EntryFor(uint32_t paddr, void** frame) const;
  // The translated entry of the decoded block at paddr, and its frame (null if none).
  NativeFn NativeAt(uint32_t paddr, void** frame) const;
  // The regions installed for one page (null if none), and all of them.
  const std::vector<std::shared_ptr<CompiledRegion>>* RegionsInPage(uint32_t page) const {
    auto it = installed_.find(page);
    return it == installed_.end() ? nullptr : &it->second;
  }
  std::vector<std::shared_ptr<CompiledRegion>> Installed() const;
  void ForEachRegion(const std::function<void(Region&)>& f);
  // Drops every installed region (their compiler is going away); the blocks stay, interpreted.
  void DropRegions();

  // --- Invalidation ---
  // A page's code changed (a store to a code granule, DMA, a snapshot load): its blocks, its regions and
  // regions of other pages holding its blocks go; code that may be running is freed after the slice.
  void InvalidateCodePage(uint32_t page) override;
  void FlushAll();
  // Debugger support (runtime/debug.h): drop the code of every page with a block that spans or starts at
  // this page offset (a breakpoint offset was added, so blocks are rebuilt ending before it and translated
  // regions no longer hold it).
  void DropCodeSpanning(uint32_t offset);
  // The vCPU left the code it ran in this slice: what was dropped meanwhile is freed.
  void EndSlice() {
    zombie_blocks_.clear();
    zombie_regions_.clear();
    next_block_ = nullptr;  // a block handed over never outlives the slice it was found in
  }

  // --- The jump cache ---
  // Translated code's indirect jumps (strobe_jit_link): virtual target -> translated entry, valid under the
  // same rules as a chain site (ChainSite). It serves the exits whose own one-entry cache misses, e.g.
  // returns to many call sites.
  using JumpEntry = code::JumpEntry;
  JumpEntry& JumpSlot(uint32_t vpc) { return jump_[SlotOf(vpc, kJumpBits)]; }
  // A chained jump whose target has no translated code leaves its region at once; the link helper found
  // the target's block on the way and leaves it here, so that the dispatcher runs it next without looking
  // it up again. Taken (and forgotten) after every return from translated code.
  void NoteNextBlock(uint32_t vpc, Block* b) {
    next_vpc_ = vpc;
    next_block_ = b;
  }
  Block* TakeNextBlock(uint32_t vpc) {
    Block* b = next_block_;
    next_block_ = nullptr;
    return next_vpc_ == vpc ? b : nullptr;
  }

  // Where blocks' baseline code is kept.
  BaselinePool& baseline_pool() { return *baseline_pool_; }
  // Gives b its baseline code (interp/baseline.h makes or finds it in baseline_pool()).
  void SetBaseline(Block& b, BaselinePool::Ref code) {
    baseline_bytes_ += BaselinePool::OwnCopyBytes(code.size());
    b.baseline = code.get();
    b.baseline_code = std::move(code);
  }
  // What this cache's blocks' baseline code takes, each block's counted as its own copy (shared or not).
  size_t baseline_bytes() const { return baseline_bytes_; }
  // How a slot of the interpreter's direct-mapped table of blocks by guest-physical address is chosen
  // (fast_: a slot holds a block or null; the block at an address is in that address's slot or not there at
  // all). Baseline code probes the table itself, through the CpuState's code_blocks.
  static constexpr unsigned kFastBits = 17;
  // Memory held by the decoded blocks and their instructions (not counting the maps that find them).
  // Instructions kept in a shared pool count whole here, as if the blocks had their own copy.
  size_t block_bytes() const {
    return block_arena_.bytes_in_use() + (ops_pool_ ? pooled_ops_bytes_ : ops_arena_.bytes_in_use());
  }

  const CodeCacheStats& stats() const { return stats_; }
  CodeCacheStats& mutable_stats() { return stats_; }

 private:
  Block* Build(uint32_t paddr, const uint8_t* host);
  // Point the blocks of a page at their translated entries (after a region was installed or dropped).
  // `rewarm`: blocks left without translated code count their executions from zero again.
  void RefreshNative(uint32_t page, bool rewarm, bool retire);
  void RetireChains();

  runtime::CpuState& c_;
  Listener* listener_ = nullptr;
  friend struct BlockDeleter;
  void FreeBlock(Block* b);

  // The arenas and pools go after the blocks they hold (and the baseline code the blocks hold): they come
  // first.
  std::unique_ptr<BaselinePool> own_baseline_pool_;  // without a shared pool
  BaselinePool* baseline_pool_ = nullptr;
  size_t baseline_bytes_ = 0;
  // Blocks and their decoded instructions, without malloc's per-piece headers and alignment slack: a
  // Linux boot keeps some 55,000 blocks of six or seven instructions, and each VM has its own.
  PieceArena block_arena_{sizeof(Block), false};
  PieceArena ops_arena_{16, false};  // without a pool
  OpsPool* ops_pool_ = nullptr;
  size_t pooled_ops_bytes_ = 0;  // what the pooled instructions would take in ops_arena_
  BlockTable blocks_;            // owns the blocks (freed by FreeBlock)
  std::unordered_map<uint32_t, std::vector<Block*>> by_page_;
  // The interpreter's direct-mapped lookup table in front of blocks_ (slots by SlotOf).
  Block* fast_[1u << kFastBits] = {};
  Block*& FastSlot(uint32_t paddr) { return fast_[SlotOf(paddr, kFastBits)]; }
  Block* LookupSlow(uint32_t paddr, const uint8_t* host, bool* built, Block** slot);
  Block* FastSlot(uint32_t paddr) const { return fast_[SlotOf(paddr, kFastBits)]; }
  // By page: each region covers what is reachable from its root; a page may need several.
  std::unordered_map<uint32_t, std::vector<std::shared_ptr<CompiledRegion>>> installed_;
  std::unordered_map<uint32_t, uint64_t> generation_;  // by page
  // Page -> pages with installed regions holding some of its blocks (entries may be stale).
  std::unordered_map<uint32_t, std::unordered_set<uint32_t>> spanned_by_;
  std::vector<BlockPtr> zombie_blocks_;
  std::vector<std::shared_ptr<CompiledRegion>> zombie_regions_;
  static constexpr unsigned kJumpEntries = 1u << kJumpBits;
  JumpEntry jump_[kJumpEntries];
  Block* next_block_ = nullptr;
  uint32_t next_vpc_ = 0;
  CodeCacheStats stats_;
};

}  // namespace strobe::code
