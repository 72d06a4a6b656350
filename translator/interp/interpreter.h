// SPDX-License-Identifier: MIT
// Tier 0: the pre-decoded interpreter. Guest code is decoded once into blocks (cached by guest-physical
// address, invalidated by stores to their page) and run by a switch over mips32.inc's handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/runtime.h"
#include "translator/jit/region.h"
#include "translator/mips/decoder.h"

namespace strobe::jit {
class Tier;
struct CompiledRegion;
}  // namespace strobe::jit

namespace strobe::interp {

// How a block ends.
enum class Terminator : uint8_t {
  kFallThrough,  // page end or length limit: continue at the next word
  kEndsBlock,    // last op may change translation state or the PC (ERET, MTC0, SYSCALL, ...)
  kBranch,       // last two ops are a branch and its delay slot
  kBranchSplit,  // last op is a branch whose delay slot lies on the next page
};

struct Block {
  uint32_t paddr = 0;  // guest-physical address of the first instruction
  uint16_t size = 0;   // instructions, including a terminator and delay slot
  uint16_t body = 0;   // instructions executed by the straight-line loop
  Terminator term = Terminator::kFallThrough;
  bool dead = false;
  uint64_t exec_count = 0;
  // Hotness for the tiered policy: executions, halved every Tier's cooling period of retired guest
  // instructions (heat_epoch is the period it was last brought up to date in).
  uint32_t heat = 0;
  uint32_t heat_epoch = 0;
  // Successors in the same page, found on earlier runs (page offset + 1; 0 = empty).
  Block* succ[2] = {nullptr, nullptr};
  uint32_t succ_off[2] = {0, 0};
  std::vector<mips::DecodedInsn> ops;
  // Translated code for this block's start (tier 1), or null.
  jit::NativeFn native = nullptr;
  void* native_frame = nullptr;  // the RegionFrame that code runs with
};

struct InterpStats {
  uint64_t blocks_built = 0;
  uint64_t blocks_invalidated = 0;
  uint64_t lookups = 0;
};

class Interpreter final : public runtime::CodeObserver {
 public:
  explicit Interpreter(runtime::CpuState& cpu);
  ~Interpreter() override;

  // Run until c.cycles reaches cycle_limit or an exit is requested (c.exit_request != 0). A slice ends at
  // the first block boundary at or after the limit, unless the budget is exact.
  void Run(uint64_t cycle_limit);
  // Exact budget (-icount): a block that would run past the limit is stepped one instruction at a time
  // up to it, so a slice ends at the limit itself (one past it when a branch and its delay slot straddle
  // it) and an interrupt due at an instruction count is taken there.
  void SetExactBudget(bool exact) { exact_budget_ = exact; }

  void InvalidateCodePage(uint32_t paddr_page) override;
  void FlushAll();

  // Debugger support (runtime/debug.h, with CpuState::debug set): drop the decoded and translated code of
  // every page with a block that spans or starts at this page offset (a breakpoint offset was added, so
  // blocks are rebuilt ending before it and translated regions no longer hold it).
  void DropCodeSpanning(uint32_t offset);
  // Execute exactly one instruction at c.pc through the handlers, a branch with its delay slot, delivering
  // an exception if it faults (c.pc is then the vector). No interrupt is taken (QEMU's default for gdb
  // single steps).
  void StepInstruction();
  // Whether a block starting here must stay with the interpreter (a debugger's breakpoint offset).
  bool Breakable(uint32_t paddr) const;

  // Tier 1: with a tier attached, hot code (or all code, for the eager jit engine) runs translated.
  void AttachTier(jit::Tier* tier) { tier_ = tier; }
  jit::Tier* tier() { return tier_; }
  // The block starting at a guest-physical address (decoded now if needed; null if not RAM).
  Block* BlockAt(uint32_t paddr);
  // The block at paddr if it was built already (it has run, or a region former asked for it), else null.
  Block* FindBlock(uint32_t paddr) const;
  // The translated entry of the block at paddr, if it is decoded and translated.
  jit::NativeFn NativeAt(uint32_t paddr, void** frame) const;  // and the frame it runs with
  // Point the blocks of a page at their translated entries (after a region was installed or dropped).
  // `rewarm`: blocks left without translated code count their executions from zero again. `retire`: code
  // that chained jumps or the jump cache may point at was retired (or better code should replace it there),
  // so every cached jump is resolved again; a first-tier install that replaced nothing leaves them be.
  void RefreshNative(uint32_t page, bool rewarm = false, bool retire = true);
  // Indirect-jump cache for translated code (strobe_jit_link): virtual target -> translated entry, valid
  // while the chain epoch and the privilege mode's soft TLB table are the ones it was filled under. It
  // serves the exits whose own one-entry cache misses, e.g. returns to many call sites.
  struct JumpEntry {
    uint64_t epoch = 0;
    const void* table = nullptr;
    jit::NativeFn fn = nullptr;
    void* frame = nullptr;
    uint32_t vpc = 1;  // never a jump target that translates
  };
  JumpEntry& JumpSlot(uint32_t vpc) { return jump_[(vpc >> 2) & (kJumpEntries - 1)]; }

  // Tracing (-d in_asm, -d exec): called for each block as it is decoded for a guest virtual PC, and
  // before each block the interpreter runs (translated code that chains to other translated code does not
  // come back here, so an exec trace wants the interpreter alone). Empty functions: off.
  struct TraceHooks {
    std::function<void(uint32_t vpc, const uint8_t* host, uint32_t bytes)> block_built;
    std::function<void(uint32_t vpc, uint32_t paddr)> block_exec;
  };
  void SetTraceHooks(TraceHooks hooks) {
    trace_ = std::move(hooks);
    trace_exec_ = static_cast<bool>(trace_.block_exec);
  }

  const InterpStats& stats() const { return stats_; }
  // The blocks decoded from one guest-physical page (null if none).
  const std::vector<Block*>* BlocksInPage(uint32_t page) const {
    auto it = by_page_.find(page);
    return it == by_page_.end() ? nullptr : &it->second;
  }
  // Blocks by guest-physical address, for the dump tool and tests.
  const std::unordered_map<uint32_t, std::unique_ptr<Block>>& blocks() const { return blocks_; }

  static constexpr unsigned kMaxBlockInsns = 128;

 private:
  Block* Lookup(uint32_t vpc);
  Block* Build(uint32_t paddr, const uint8_t* host);
  void Execute(Block* b, uint32_t vpc, bool* may_chain);
  void RunDelaySlotOnNextPage(uint32_t branch_pc);
  void FreeZombies();

  runtime::CpuState& c_;
  std::unordered_map<uint32_t, std::unique_ptr<Block>> blocks_;
  std::unordered_map<uint32_t, std::vector<Block*>> by_page_;
  std::vector<std::unique_ptr<Block>> zombies_;
  static constexpr unsigned kFastBits = 12;
  Block* fast_[1u << kFastBits] = {};
  static constexpr unsigned kJumpEntries = 1u << 12;
  JumpEntry jump_[kJumpEntries];
  InterpStats stats_;
  jit::Tier* tier_ = nullptr;
  TraceHooks trace_;
  bool trace_exec_ = false;
  bool exact_budget_ = false;
};

}  // namespace strobe::interp
