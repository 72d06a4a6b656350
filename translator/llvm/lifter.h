// SPDX-License-Identifier: MIT
// Lifting a region of MIPS code to LLVM IR. Guest registers live in allocas for the whole function (SSA
// values after mem2reg), written back at exits and around calls into the runtime that observe them.
// Simple instructions become IR; loads and stores probe the soft TLB inline and call the runtime on a miss;
// everything else calls the interpreter's own handler (strobe_jit_step), so its semantics exist once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "translator/code/region.h"

namespace llvm {
class Function;
class LLVMContext;
class Module;
}  // namespace llvm

namespace strobe::jit {

using code::BlockEnd;
using code::ChainSite;
using code::NativeFn;
using code::Region;
using code::RegionBlock;
using code::RegionFrame;
using code::SpanJumpTarget;

struct LiftOptions {
  // Guest registers, HI/LO and the cycle count as SSA values inside the region (for optimising tiers, in
  // the regions jit::PromotesRegisters picks; see Lifter) instead of accesses to the vCPU state in memory.
  bool promote = false;
  // Count loop back-edges in Region::entries too, so a loop that never leaves its region still earns a
  // second-tier compile.
  bool count_back_edges = false;
  // On a soft TLB miss, try the kseg0/kseg1 table inline before calling the runtime (see SoftTlb). It adds
  // IR to every memory access; measured, the boot is slower with it (translator/README.md), so it is off
  // unless asked for (--jit-inline-kseg).
  bool unmapped_path = false;
  // Within a block, an access through the same base register as an earlier one of the same kind (load or
  // store) first compares its page with that access's page and reuses its host addend, skipping the probe.
  bool reuse_pages = false;
  // Lower the region's entry and dispatch switches as a balanced tree of compares. Without optimisation
  // LLVM lowers a switch as one compare per case, so a region of 100 blocks would pay up to 100 compares
  // at every entry and every computed jump; the tree pays about log2(blocks).
  bool compare_tree = false;
  // Exact slice budgets (-icount): every block first checks that it fits in what is left of the slice and
  // that no exit is requested, and leaves for the interpreter otherwise, which steps up to the limit one
  // instruction at a time. So slices end, and interrupts are taken, at the instruction counts at which the
  // interpreter alone would take them, whichever blocks are translated when.
  bool exact_budget = false;
  // Count the region's entries and the guest instructions it ran in its frame (RegionFrame::entries and
  // insns), which the second tier, the jit engine's re-forming and `strobe dump` go by. The first tier
  // alone (the default) does without: a crossing between regions then costs three counter updates and a
  // load less.
  bool count_work = true;
};

// Everything of the region that its lifted code depends on, as bytes (the persistent code cache's key,
// with the compile options): the blocks' offsets, ends, counters and decoded instructions, and what the
// lifter derives from the region's physical page. Not the addresses themselves.
std::string LiftKey(const Region& region);
// The blocks a LiftKey was made from (without counters: a key whose blocks had them gives false, as does a
// malformed one).
bool ParseLiftKey(std::string_view key, std::vector<RegionBlock>* blocks);

// Emits `name` into module: void name(ptr cpu, i32 vbase, i32 entry_offset, i64 cycle_limit, ptr frame),
// and sets region.site_count. The code refers to the runtime's entry points by symbol name (code/abi.h) and
// to nothing else of this process: the frame brings the region's data (RegionFrame).
llvm::Function* LiftRegion(Region& region, llvm::Module& module, const std::string& name,
                           const LiftOptions& options);

}  // namespace strobe::jit
