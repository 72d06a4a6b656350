// SPDX-License-Identifier: MIT
// The interpreter's baseline emitter: a warm block becomes x86-64 code for that block alone, written in one
// pass from the same handlers the interpreter runs (the ones written over an emitter, semantics/common.h;
// the others are called), with guest registers left in the CpuState. It costs microseconds, where LLVM's
// first tier costs milliseconds, so code that runs a few hundred times (the kernel's exec, fault and I/O
// paths, run once per process or per request) stops paying for dispatch and decoding on every run. What is
// hot enough still goes to LLVM (jit/tier.h).
#pragma once

#include "translator/code/code_cache.h"

namespace strobe::interp {

// What baseline code needs to go on to a successor block by itself, as the dispatcher would
// (Interpreter::Run): the counts at which the dispatcher must see a block's execution (it tells the tier),
// and the cooling period. A successor is not entered when its count would reach one of them or it was last
// counted in an earlier period. The thresholds (user and kernel code's) are read from the CpuState
// (hot_threshold), which the dispatcher sets for each slice; the code holds the others.
struct BaselineChaining {
  uint64_t threshold = 0;  // > 1: the code goes on by itself (a block hot at its first run never does)
  uint64_t early = 0;      // 0: none
  unsigned cooling_shift = 0;
  // Whether code also goes on to successors in other pages and through indirect jumps (returns), finding
  // them in the code cache's blocks by guest-physical address (CodeCache's fast_ table, which the CpuState's
  // code_blocks names) as the dispatcher's lookup would: kseg0/kseg1 addresses from kernel code by their
  // fixed translation, mapped ones through the soft TLB.
  bool far = false;
};

// Gives b baseline code (b.baseline), found in the cache's pool if a block with the same instructions at
// the same page offset has it (in any VM sharing the pool), else emitted and kept there. False when b is of
// a kind it does not take (a branch whose delay slot is on the next page) or there is no memory for it; b
// then stays interpreted.
bool CompileBaseline(code::Block& b, code::CodeCache& cache, const BaselineChaining& chaining);

// The entry through which the dispatcher runs a block's baseline code: enter(cpu, vpc, limit, block,
// block->baseline). Null until a block of the cache's pool has baseline code.
code::Block::BaselineEnter BaselineEntry(code::CodeCache& cache);

}  // namespace strobe::interp
