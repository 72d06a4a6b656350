// SPDX-License-Identifier: MIT
// Tier 0: the pre-decoded interpreter. Guest code is decoded once into blocks (cached by guest-physical
// address, invalidated by stores to their page) and run by a switch over mips32.inc's handlers.
#pragma once

#include <cstdint>
#include <functional>

#include "runtime/runtime.h"
#include "translator/code/code_cache.h"
#include "translator/mips/decoder.h"

namespace strobe::interp {

using code::Block;

// A translation tier as the interpreter drives it (jit::Tier is one). The interpreter counts how hot its
// blocks are and enters translated code the code cache holds for them; the tier decides what to compile
// and installs it in the code cache. The interpreter never calls the compiler itself.
class Translator {
 public:
  struct Hotness {
    bool eager = false;                // compile a block's code before it first runs (the jit engine)
    uint64_t threshold = 1000;         // executions that make a block hot
    uint64_t kernel_threshold = 1000;  // the same for a Block::kernel block (code in kseg0/kseg1)
    unsigned cooling_shift = 0;        // heat halves every 2^cooling_shift retired instructions (0: never)
    uint64_t early = 0;     // executions after which code an earlier run compiled is looked for (0: never)
    uint64_t baseline = 0;  // executions after which a block gets baseline code (interp/baseline.h; 0: never)
  };
  virtual ~Translator() = default;
  virtual Hotness hotness() const = 0;
  // At the start of every slice: install what finished compiling meanwhile.
  virtual void StartSlice() = 0;
  // Eager: whether this block start gets code before it runs, and compile it now.
  virtual bool WantsEager(uint32_t paddr) const = 0;
  virtual void CompileNow(const Block& b) = 0;
  // Tiered: the block reached the threshold, running at vpc.
  virtual void NoteHot(const Block& b, uint32_t vpc) = 0;
  // Tiered: the block reached the early count, running at vpc; load the code an earlier run compiled for
  // it, if any.
  virtual void NoteWarm(const Block& b, uint32_t vpc) = 0;
};

class Interpreter final {
 public:
  Interpreter(runtime::CpuState& cpu, code::CodeCache& cache);

  // Run until c.cycles reaches cycle_limit or an exit is requested (c.exit_request != 0). A slice ends at
  // the first block boundary at or after the limit, unless the budget is exact.
  void Run(uint64_t cycle_limit);
  // Exact budget (-icount): a block that would run past the limit is stepped one instruction at a time
  // up to it, so a slice ends at the limit itself (one past it when a branch and its delay slot straddle
  // it) and an interrupt due at an instruction count is taken there.
  void SetExactBudget(bool exact) { exact_budget_ = exact; }

  // Execute exactly one instruction at c.pc through the handlers, a branch with its delay slot, delivering
  // an exception if it faults (c.pc is then the vector). No interrupt is taken (QEMU's default for gdb
  // single steps).
  void StepInstruction();
  // With a translator attached, hot code (or all code, for the eager jit engine) runs translated.
  void AttachTranslator(Translator* t) { translator_ = t; }
  code::CodeCache& cache() { return cache_; }

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

 private:
  Block* Lookup(uint32_t vpc);
  // A block's run, counted before it runs (cycles, retired instructions, executions).
  void Account(Block& b);
  void Execute(Block* b, uint32_t vpc, bool* may_chain);
  void RunDelaySlotOnNextPage(uint32_t branch_pc);
  void GiveBaseline(Block& b, const Translator::Hotness& hot);

  runtime::CpuState& c_;
  code::CodeCache& cache_;
  Translator* translator_ = nullptr;
  code::Block::BaselineEnter enter_baseline_ = nullptr;  // the pool's entry, once a block has baseline code
  TraceHooks trace_;
  bool trace_exec_ = false;
  bool exact_budget_ = false;
};

}  // namespace strobe::interp
