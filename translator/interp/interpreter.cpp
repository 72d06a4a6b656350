// SPDX-License-Identifier: MIT
#include "translator/interp/interpreter.h"

#include "runtime/debug.h"
#include "translator/code/abi.h"
#include "translator/interp/baseline.h"
#include "translator/interp/step.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "translator/mips/semantics/alu.h"
#include "translator/mips/semantics/branch.h"
#include "translator/mips/semantics/fpu_arith.h"
#include "translator/mips/semantics/fpu_move.h"
#include "translator/mips/semantics/memory.h"
#include "translator/mips/semantics/muldiv.h"
#include "translator/mips/semantics/system.h"

namespace strobe::interp {

using mips::DecodedInsn;
using mips::Opcode;
using runtime::CpuState;

namespace {

// One dispatch over the encoding table; every case is the handler named after the instruction.
// Handlers written over an emitter (semantics/common.h) run with Exec; the others take the state, which Exec
// converts to.
inline __attribute__((always_inline)) bool Step(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  mips::sem::Exec e{c, pc};
  switch (d.op) {
#define INSN(name, pattern, flags) \
  case Opcode::name:               \
    return mips::sem::name(e, d, pc);
#include "translator/mips/mips32.inc"
#undef INSN
    case Opcode::kInvalid:
    default: return mips::sem::kInvalid(c, d, pc);
  }
}

// Terminators and delay slots run through one out-of-line copy to keep the hot loop small.
__attribute__((noinline)) bool StepOutOfLine(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return Step(c, d, pc);
}

uint32_t ReadWord(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;  // the host is little-endian, like the guest
}

}  // namespace

bool StepOne(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return StepOutOfLine(c, d, pc);
}

Interpreter::Interpreter(CpuState& cpu, code::CodeCache& cache) : c_(cpu), cache_(cache) {}

Block* Interpreter::Lookup(uint32_t vpc) {
  uint32_t paddr;
  const uint8_t* host;
  if (!runtime::TranslateFetch(c_, vpc, &paddr, &host)) {
    runtime::DeliverException(c_, vpc, false);
    // A faulting fetch still takes time (so an exception loop cannot stall the clock), and retires nothing.
    c_.IdleUntil(c_.cycles + 1);
    c_.exit_request |= runtime::exitreq::kIrqCheck;
    return nullptr;
  }
  bool built;
  Block* b = cache_.Lookup(paddr, host, &built);
  if (built) b->kernel = runtime::InUnmappedSegment(vpc);
  if (built && trace_.block_built) [[unlikely]]
    trace_.block_built(vpc, host, static_cast<uint32_t>(b->ops.size() * 4));
  return b;
}

void Interpreter::RunDelaySlotOnNextPage(uint32_t branch_pc) {
  // The slot is fetched and decoded on its own each time: rare (a branch in a page's last word), and it
  // keeps every block inside one page, which is what makes page-granular invalidation exact.
  const uint32_t slot_pc = branch_pc + 4;
  uint32_t paddr;
  const uint8_t* host;
  if (!runtime::TranslateFetch(c_, slot_pc, &paddr, &host)) {
    runtime::DeliverException(c_, slot_pc, true);
    return;
  }
  bool taken = c_.branch_taken;
  uint32_t target = c_.branch_target;
  if (!StepOutOfLine(c_, mips::Decode(ReadWord(host)), slot_pc)) {
    runtime::DeliverException(c_, slot_pc, true);
    return;
  }
  c_.pc = taken ? target : branch_pc + 8;
}

void Interpreter::Account(Block& b) {
  c_.cycles += b.size;
  ++b.exec_count;
}

void Interpreter::Execute(Block* b, uint32_t vpc, bool* may_chain) {
  Account(*b);
  const DecodedInsn* ops = b->ops.data();
  const uint32_t body = b->body;
  for (uint32_t i = 0; i < body; ++i) {
    if (!Step(c_, ops[i], vpc + 4 * i)) [[unlikely]] {
      runtime::DeliverException(c_, vpc + 4 * i, false);
      *may_chain = false;
      return;
    }
  }
  const uint32_t pc = vpc + 4 * body;
  switch (b->end) {
    case code::BlockEnd::kFallThrough:
      c_.pc = pc;
      *may_chain = true;
      return;
    case code::BlockEnd::kEndsBlock:
      c_.pc = pc + 4;  // ERET and exceptions overwrite it
      if (!StepOutOfLine(c_, ops[body], pc)) runtime::DeliverException(c_, pc, false);
      *may_chain = false;
      return;
    case code::BlockEnd::kBranch: {
      if (!StepOutOfLine(c_, ops[body], pc)) [[unlikely]] {  // only BC1x faults: FPU unusable
        runtime::DeliverException(c_, pc, false);
        *may_chain = false;
        return;
      }
      const bool taken = c_.branch_taken;
      const uint32_t target = c_.branch_target;
      if (!taken && (ops[body].flags & mips::kLikely)) {  // nullified delay slot
        c_.pc = pc + 8;
        *may_chain = true;
        return;
      }
      if (!StepOutOfLine(c_, ops[body + 1], pc + 4)) {
        runtime::DeliverException(c_, pc + 4, true);
        *may_chain = false;
        return;
      }
      c_.pc = taken ? target : pc + 8;
      *may_chain = !(ops[body + 1].flags & mips::kEndsBlock);
      return;
    }
    case code::BlockEnd::kBranchSplit:
      *may_chain = false;
      if (!StepOutOfLine(c_, ops[body], pc)) {
        runtime::DeliverException(c_, pc, false);
        return;
      }
      if (!c_.branch_taken && (ops[body].flags & mips::kLikely)) {
        c_.pc = pc + 8;
        return;
      }
      RunDelaySlotOnNextPage(pc);
      return;
  }
}

namespace {

// One more execution of an interpreted block: its heat, to compare with the threshold and the early count.
// Heat halves every 2^cooling_shift retired instructions (lazily, when the block runs), so only code that
// runs often in a short span gets compiled: code run once per fork+exec stays interpreted, where it costs
// less than LLVM.
inline uint32_t Warm(Block& b, const Translator::Hotness& o, uint64_t retired) {
  if (o.cooling_shift) {
    const auto epoch = static_cast<uint32_t>(retired >> o.cooling_shift);
    if (epoch != b.heat_epoch) [[unlikely]] {
      const uint32_t periods = epoch - b.heat_epoch;
      b.heat = periods >= 32 ? 0 : b.heat >> periods;
      b.heat_epoch = epoch;
    }
  }
  return ++b.heat;
}

}  // namespace

void Interpreter::Run(uint64_t cycle_limit) {
  Translator::Hotness hot;
  if (translator_) {
    translator_->StartSlice();
    hot = translator_->hotness();
    const auto count32 = [](uint64_t n) { return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX)); };
    c_.hot_threshold[0] = count32(hot.threshold);
    c_.hot_threshold[1] = count32(hot.kernel_threshold);
  }
  Block* next = nullptr;
  // Baseline code goes on through its successors by itself only where this loop would do nothing else
  // between blocks (no breakpoints, no exec trace, no exact budget): elsewhere it gets a limit of 0.
  const uint64_t chain_limit = c_.debug || trace_exec_ || exact_budget_ ? 0 : cycle_limit;
  while (c_.cycles < cycle_limit && !c_.exit_request) {
    const uint32_t vpc = c_.pc;
    Block* b = next;
    next = nullptr;
    if (!b) {
      b = Lookup(vpc);
      if (!b) continue;  // the fetch faulted; c_.pc is the handler now
    }
    if (c_.debug && c_.debug->BreaksAt(vpc, (b->ops[0].flags & mips::kBranch) != 0)) [[unlikely]] {
      c_.debug->stop = runtime::DebugStopKind::kBreakpoint;  // stop before the block runs
      c_.exit_request |= runtime::exitreq::kDebug;
      break;
    }
    if (trace_exec_) [[unlikely]]
      trace_.block_exec(vpc, b->paddr);
    if (exact_budget_ && c_.cycles + b->size > cycle_limit) [[unlikely]] {
      while (c_.cycles < cycle_limit && !c_.exit_request) StepInstruction();
      break;
    }
    if (translator_) {
      if (!b->native && hot.eager && translator_->WantsEager(b->paddr) && !cache_.Breakable(b->paddr))
        translator_->CompileNow(*b);
      if (b->native) {
        ++b->exec_count;
        code::strobe_jit_enter(&c_, vpc & runtime::kPageMask, vpc & ~runtime::kPageMask, cycle_limit,
                               reinterpret_cast<void*>(b->native), b->native_frame);
        next = cache_.TakeNextBlock(c_.pc);  // a chained jump's target, if it left for one
        continue;
      }
      const uint32_t heat = Warm(*b, hot, c_.Retired());
      if (heat == (b->kernel ? hot.kernel_threshold : hot.threshold)) {
        translator_->NoteHot(*b, vpc);
      } else if (heat == hot.early) [[unlikely]] {
        translator_->NoteWarm(*b, vpc);
      }
      if (heat >= hot.baseline && hot.baseline && !b->baseline_tried) [[unlikely]]
        GiveBaseline(*b, hot);
    }
    bool may_chain;
    if (b->baseline) {
      Account(*b);  // the code counts the successors it goes on to itself (Emitter::GoOnPath)
      // The block it ran last is the one the dispatcher chains from, if it is in b's page (the code may
      // have gone on into other pages; if it came back, the address is in b's page or another alias of
      // that physical page, either of which names the same blocks).
      if (!enter_baseline_) enter_baseline_ = BaselineEntry(cache_);
      Block* last = enter_baseline_(&c_, vpc, chain_limit, b, b->baseline);
      if (const auto tagged = reinterpret_cast<uintptr_t>(last); tagged & code::kNextBlockTag) {
        next = reinterpret_cast<Block*>(tagged - code::kNextBlockTag);  // the block at c_.pc
        continue;
      }
      may_chain = last && !((last->paddr ^ b->paddr) & runtime::kPageMask);
      if (may_chain) b = last;
    } else {
      Execute(b, vpc, &may_chain);
    }
    const uint32_t npc = c_.pc;
    // Chain to a successor in the same virtual page: it is in the same physical page, so it is valid
    // exactly as long as this block is (pages are invalidated whole) and needs no soft TLB probe.
    if (!may_chain || ((npc ^ vpc) & runtime::kPageMask) || (npc & 3)) continue;
    const uint32_t off = (npc & ~runtime::kPageMask) + 1;
    if (b->succ_off[0] == off) {
      next = b->succ[0];
    } else if (b->succ_off[1] == off) {
      next = b->succ[1];
    } else if (!c_.exit_request) {
      next = Lookup(npc);
      if (next) {
        int slot = b->succ[0] ? 1 : 0;
        b->succ[slot] = next;
        b->succ_off[slot] = static_cast<uint16_t>(off);
      }
    }
  }
  cache_.EndSlice();
}

void Interpreter::GiveBaseline(Block& b, const Translator::Hotness& hot) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = CompileBaseline(b, cache_, {hot.threshold, hot.early, hot.cooling_shift, true});
  code::CodeCacheStats& st = cache_.mutable_stats();
  st.baseline_ns += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  if (ok) {
    ++st.baseline_blocks;
    st.baseline_insns += b.size;
  }
}

void Interpreter::StepInstruction() {
  const uint32_t vpc = c_.pc;
  uint32_t paddr;
  const uint8_t* host;
  c_.cycles += 1;
  if (!runtime::TranslateFetch(c_, vpc, &paddr, &host)) {
    runtime::DeliverException(c_, vpc, false);
    return;
  }
  const DecodedInsn d = mips::Decode(ReadWord(host));
  if (!(d.flags & mips::kBranch)) {
    c_.pc = vpc + 4;  // ERET and exceptions overwrite it
    if (!StepOutOfLine(c_, d, vpc)) runtime::DeliverException(c_, vpc, false);
    return;
  }
  // A branch and its delay slot are one step, as on QEMU (and as gdb expects of a MIPS stub).
  if (!StepOutOfLine(c_, d, vpc)) {
    runtime::DeliverException(c_, vpc, false);
    return;
  }
  if (!c_.branch_taken && (d.flags & mips::kLikely)) {  // nullified delay slot
    c_.pc = vpc + 8;
    return;
  }
  c_.cycles += 1;
  RunDelaySlotOnNextPage(vpc);  // fetches and runs the slot on its own, wherever it lies
}

}  // namespace strobe::interp
