// SPDX-License-Identifier: MIT
#include "translator/interp/interpreter.h"

#include "translator/jit/helpers.h"

#include "runtime/debug.h"

#include "translator/interp/step.h"
#include "translator/jit/tier.h"

#include <algorithm>
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
inline __attribute__((always_inline)) bool Step(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  switch (d.op) {
#define INSN(name, pattern, flags) \
  case Opcode::name:               \
    return mips::sem::name(c, d, pc);
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

Interpreter::Interpreter(CpuState& cpu) : c_(cpu) {
  c_.code_pages->observer = this;
  c_.jit_ctx = this;
}

jit::NativeFn Interpreter::NativeAt(uint32_t paddr, void** frame) const {
  const Block* b = FindBlock(paddr);
  if (!b) return nullptr;
  *frame = b->native_frame;
  return b->native;
}

Interpreter::~Interpreter() {
  if (c_.code_pages->observer == this) c_.code_pages->observer = nullptr;
}

Block* Interpreter::Build(uint32_t paddr, const uint8_t* host) {
  auto blk = std::make_unique<Block>();
  Block* b = blk.get();
  b->paddr = paddr;
  const uint32_t room = (runtime::kPageSize - (paddr & ~runtime::kPageMask)) / 4;
  const uint32_t limit = std::min(room, kMaxBlockInsns);
  b->term = Terminator::kFallThrough;
  const runtime::DebugState* debug = c_.debug;
  for (uint32_t i = 0; i < limit; ++i) {
    // A debugger's breakpoint offsets start blocks, so the dispatcher sees every breakpoint address.
    if (i > 0 && debug && debug->SplitsAt(paddr + 4 * i)) [[unlikely]]
      break;
    DecodedInsn d = mips::Decode(ReadWord(host + 4 * i));
    b->ops.push_back(d);
    if (d.flags & mips::kBranch) {
      if (i + 1 < room) {
        b->ops.push_back(mips::Decode(ReadWord(host + 4 * (i + 1))));
        b->term = Terminator::kBranch;
      } else {
        b->term = Terminator::kBranchSplit;
      }
      break;
    }
    if ((d.flags & mips::kEndsBlock) || d.op == Opcode::kInvalid) {
      b->term = Terminator::kEndsBlock;
      break;
    }
  }
  b->size = static_cast<uint16_t>(b->ops.size());
  c_.code_pages->Mark(paddr, 4u * b->size, *c_.soft_tlb);
  switch (b->term) {
    case Terminator::kFallThrough: b->body = b->size; break;
    case Terminator::kBranch: b->body = b->size - 2; break;
    default: b->body = b->size - 1; break;
  }
  by_page_[paddr & runtime::kPageMask].push_back(b);
  blocks_.emplace(paddr, std::move(blk));
  ++stats_.blocks_built;
  if (tier_) b->native = tier_->EntryFor(paddr, &b->native_frame);
  return b;
}

Block* Interpreter::FindBlock(uint32_t paddr) const {
  // The dispatcher's direct-mapped cache first: the JIT's link helper asks here on every chain miss.
  if (Block* slot = fast_[(paddr >> 2) & ((1u << kFastBits) - 1)]; slot && slot->paddr == paddr) return slot;
  auto it = blocks_.find(paddr);
  return it == blocks_.end() ? nullptr : it->second.get();
}

Block* Interpreter::BlockAt(uint32_t paddr) {
  if (Block* b = FindBlock(paddr)) return b;
  runtime::RamPage page = c_.bus->LookupRam(paddr);
  if (!page.host || (paddr & 3)) return nullptr;
  return Build(paddr, page.host + (paddr & ~runtime::kPageMask));
}

void Interpreter::RefreshNative(uint32_t page, bool rewarm, bool retire) {
  if (retire) {
    runtime::InvalidateMappedChains(c_);
    ++c_.code_epoch;
  }
  auto it = by_page_.find(page);
  if (it == by_page_.end()) return;
  for (Block* b : it->second) {
    b->native_frame = nullptr;
    b->native = tier_ ? tier_->EntryFor(b->paddr, &b->native_frame) : nullptr;
    if (rewarm && !b->native) b->exec_count = b->heat = 0;  // lost its code: may get hot again
  }
}

Block* Interpreter::Lookup(uint32_t vpc) {
  ++stats_.lookups;
  uint32_t paddr;
  const uint8_t* host;
  if (!runtime::TranslateFetch(c_, vpc, &paddr, &host)) {
    runtime::DeliverException(c_, vpc, false);
    c_.cycles += 1;  // a faulting fetch still takes time, so an exception loop cannot stall the clock
    c_.exit_request |= runtime::exitreq::kIrqCheck;
    return nullptr;
  }
  Block*& slot = fast_[(paddr >> 2) & ((1u << kFastBits) - 1)];
  if (slot && slot->paddr == paddr) return slot;
  auto it = blocks_.find(paddr);
  Block* b;
  if (it != blocks_.end()) {
    b = it->second.get();
  } else {
    b = Build(paddr, host);
    if (trace_.block_built) [[unlikely]]
      trace_.block_built(vpc, host, static_cast<uint32_t>(b->ops.size() * 4));
  }
  slot = b;
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

void Interpreter::Execute(Block* b, uint32_t vpc, bool* may_chain) {
  c_.cycles += b->size;
  c_.retired += b->size;
  ++b->exec_count;
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
  switch (b->term) {
    case Terminator::kFallThrough:
      c_.pc = pc;
      *may_chain = true;
      return;
    case Terminator::kEndsBlock:
      c_.pc = pc + 4;  // ERET and exceptions overwrite it
      if (!StepOutOfLine(c_, ops[body], pc)) runtime::DeliverException(c_, pc, false);
      *may_chain = false;
      return;
    case Terminator::kBranch: {
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
    case Terminator::kBranchSplit:
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

// One more execution of an interpreted block: whether its heat reaches the threshold now. Heat halves every
// 2^cooling_shift retired instructions (lazily, when the block runs), so only code that runs often in a
// short span gets compiled: code run once per fork+exec stays interpreted, where it costs less than LLVM.
inline bool Warm(Block& b, const jit::TierOptions& o, uint64_t retired) {
  if (o.cooling_shift) {
    const auto epoch = static_cast<uint32_t>(retired >> o.cooling_shift);
    if (epoch != b.heat_epoch) [[unlikely]] {
      const uint32_t periods = epoch - b.heat_epoch;
      b.heat = periods >= 32 ? 0 : b.heat >> periods;
      b.heat_epoch = epoch;
    }
  }
  return ++b.heat == o.threshold;
}

}  // namespace

void Interpreter::Run(uint64_t cycle_limit) {
  if (tier_) tier_->Poll(*this);
  Block* next = nullptr;
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
    if (tier_) {
      if (!b->native && tier_->options().eager && tier_->WantsEager(b->paddr) && !Breakable(b->paddr))
        tier_->CompileNow(*this, *b);
      if (b->native) {
        ++b->exec_count;
        jit::strobe_jit_enter(&c_, vpc & runtime::kPageMask, vpc & ~runtime::kPageMask, cycle_limit,
                              reinterpret_cast<void*>(b->native), b->native_frame);
        continue;
      }
      if (Warm(*b, tier_->options(), c_.retired)) tier_->NoteHot(*this, *b);
    }
    bool may_chain;
    Execute(b, vpc, &may_chain);
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
        b->succ_off[slot] = off;
      }
    }
  }
  FreeZombies();
  if (tier_) tier_->EndSlice();
}

void Interpreter::InvalidateCodePage(uint32_t paddr_page) {
  runtime::InvalidateMappedChains(c_);
  ++c_.code_epoch;
  if (tier_) tier_->InvalidatePage(*this, paddr_page);
  auto it = by_page_.find(paddr_page);
  if (it == by_page_.end()) return;
  for (Block* b : it->second) {
    b->dead = true;
    Block*& slot = fast_[(b->paddr >> 2) & ((1u << kFastBits) - 1)];
    if (slot == b) slot = nullptr;
    auto bi = blocks_.find(b->paddr);
    zombies_.push_back(std::move(bi->second));  // may be running right now: freed after the slice
    blocks_.erase(bi);
    ++stats_.blocks_invalidated;
  }
  by_page_.erase(it);
}

bool Interpreter::Breakable(uint32_t paddr) const {
  return c_.debug && c_.debug->SplitsAt(paddr);
}

void Interpreter::DropCodeSpanning(uint32_t offset) {
  offset &= ~runtime::kPageMask;
  std::vector<uint32_t> pages;
  for (const auto& [page, list] : by_page_)
    for (const Block* b : list) {
      const uint32_t start = b->paddr & ~runtime::kPageMask;
      if (offset >= start && offset < start + 4u * b->size) {
        pages.push_back(page);
        break;
      }
    }
  for (uint32_t p : pages) {
    InvalidateCodePage(p);
    c_.code_pages->Clear(p);
  }
}

void Interpreter::StepInstruction() {
  const uint32_t vpc = c_.pc;
  uint32_t paddr;
  const uint8_t* host;
  c_.cycles += 1;
  c_.retired += 1;
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
  c_.retired += 1;
  RunDelaySlotOnNextPage(vpc);  // fetches and runs the slot on its own, wherever it lies
}

void Interpreter::FlushAll() {
  std::vector<uint32_t> pages;
  for (auto& [page, list] : by_page_) pages.push_back(page);
  for (uint32_t p : pages) {
    InvalidateCodePage(p);
    c_.code_pages->Clear(p);
  }
  if (tier_) tier_->ForgetRewrites();  // a reboot reloading the image is not code rewriting itself
}

void Interpreter::FreeZombies() {
  zombies_.clear();
}

}  // namespace strobe::interp
