// SPDX-License-Identifier: MIT
#include "translator/llvm/lifter.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <type_traits>

#include "translator/code/abi.h"
#include "translator/llvm/lifter_impl.h"
#include "translator/llvm/lifter_ops.h"
#include "translator/mips/semantics/alu.h"
#include "translator/mips/semantics/branch.h"
#include "translator/mips/semantics/fpu_arith.h"
#include "translator/mips/semantics/fpu_move.h"
#include "translator/mips/semantics/memory.h"
#include "translator/mips/semantics/muldiv.h"
#include "translator/mips/semantics/system.h"
#include "translator/mips/semantics/written_once.h"

namespace strobe::jit {

namespace detail {

Lifter::Lifter(const Region& region, llvm::Module& m, const std::string& name, const LiftOptions& options)
    : region_(region), options_(options), ctx_(m.getContext()), m_(m), b_(ctx_) {
  i1_ = b_.getInt1Ty();
  i8_ = b_.getInt8Ty();
  i16_ = b_.getInt16Ty();
  i32_ = b_.getInt32Ty();
  i64_ = b_.getInt64Ty();
  ptr_ = b_.getPtrTy();
  auto* fty = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i32_, i32_, i64_, ptr_}, false);
  fn_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, m_);
  fn_->addFnAttr(llvm::Attribute::NoUnwind);
  fn_->setCallingConv(llvm::CallingConv::GHC);  // entered through strobe_jit_enter
  fn_->addParamAttr(0, llvm::Attribute::NoAlias);
  fn_->addParamAttr(4, llvm::Attribute::NoAlias);
  cpu_ = fn_->getArg(0);
  vbase_ = fn_->getArg(1);
  limit_ = fn_->getArg(3);
  frame_ = fn_->getArg(4);
}

// The frame's tables do not change while the code runs: loaded once, and LLVM may keep them in registers.
llvm::Value* Lifter::FrameTable(uint64_t off, const char* name) {
  llvm::LoadInst* p = b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(i8_, frame_, off), name);
  p->setMetadata(llvm::LLVMContext::MD_invariant_load, llvm::MDNode::get(ctx_, {}));
  return p;
}

// A decoded instruction the code passes to a handler: a constant in the object, so the code embeds no
// address of this process (identical instructions share one constant).
llvm::Value* Lifter::InsnRef(const DecodedInsn& d) {
  static_assert(std::is_trivially_copyable_v<DecodedInsn>);
  uint8_t bytes[sizeof(DecodedInsn)];
  std::memcpy(bytes, &d, sizeof d);
  auto* init = llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<uint8_t>(bytes, sizeof bytes));
  auto* g = new llvm::GlobalVariable(m_, init->getType(), /*isConstant=*/true,
                                     llvm::GlobalValue::PrivateLinkage, init, "insn");
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  g->setAlignment(llvm::Align(alignof(DecodedInsn)));
  return g;
}

// A runtime entry point by its symbol name (code/abi.h), which the engine's linker resolves.
llvm::Value* Lifter::Callee(llvm::FunctionType* ty, const char* name) {
  return m_.getOrInsertFunction(name, ty).getCallee();
}

llvm::Function* Lifter::Lift() {
  auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn_);
  entry_bb_ = entry;
  b_.SetInsertPoint(entry);
  // Count entries (from the dispatcher and from chained jumps): the tier recompiles busy regions.
  CountEntry();
  sites_ = FrameTable(offsetof(RegionFrame, sites), "sites");
  counters_ = FrameTable(offsetof(RegionFrame, counters), "counters");
  dyn_ = b_.CreateAlloca(i32_, nullptr, "dyn_target");
  out_ = b_.CreateAlloca(i32_, nullptr, "slow_out");
  reuse_.Begin(fn_, entry);
  cycles_at_entry_ = options_.count_work ? b_.CreateLoad(i64_, Field(kOffCycles)) : nullptr;
  stlb_ = b_.CreateLoad(ptr_, Field(kOffStlb), "stlb");
  asid_key_ = b_.CreateLoad(i64_, Field(kOffAsidKey), "asid_key");
  unmapped_read_ = b_.CreateLoad(ptr_, Field(kOffUnmappedRead), "unmapped_read");
  unmapped_write_ = b_.CreateLoad(ptr_, Field(kOffUnmappedWrite), "unmapped_write");
  // Where virtual and physical pages run in step (the page base is in kseg0/kseg1), a J/JAL target is a
  // known offset from vbase, and a region may follow its blocks on other pages (Region::other_pages).
  span_ok_ = InUnmappedSegment(vbase_);

  exit_bb_ = llvm::BasicBlock::Create(ctx_, "exit", fn_);
  fault_bb_ = llvm::BasicBlock::Create(ctx_, "exit_pc_set", fn_);
  ret_bb_ = llvm::BasicBlock::Create(ctx_, "ret", fn_);
  dispatch_bb_ = llvm::BasicBlock::Create(ctx_, "dispatch", fn_);
  switch_bb_ = llvm::BasicBlock::Create(ctx_, "switch", fn_);
  entry_switch_bb_ = llvm::BasicBlock::Create(ctx_, "entry_switch", fn_);
  for (const RegionBlock& blk : region_.blocks)
    block_bb_[blk.offset] = llvm::BasicBlock::Create(ctx_, "b" + std::to_string(blk.offset), fn_);
  for (const RegionBlock& blk : region_.blocks)  // blocks whose branch goes back to their own start
    if (BranchTarget(blk) == blk.offset) reuse_.AddSelfLoop(Signed(blk.offset));

  // Entry: jump to the block the caller asked for.
  b_.CreateBr(entry_switch_bb_);

  EmitExit();
  EmitDispatch();
  for (const RegionBlock& blk : region_.blocks) EmitBlock(blk);
  if (options_.promote) PlaceSyncs();
  return fn_;
}

// --- state access ---
uint64_t Lifter::VarOffset(unsigned v) {
  return v < 32 ? 4 * v : v == kVarHi ? kOffHi : v == kVarLo ? kOffLo : kOffCycles;
}

llvm::AllocaInst* Lifter::VarSlot(unsigned v) {
  if (!slots_[v]) {
    llvm::IRBuilder<> eb(entry_bb_->getTerminator());
    slots_[v] = eb.CreateAlloca(VarType(v));
    eb.CreateStore(eb.CreateLoad(VarType(v), eb.CreateConstInBoundsGEP1_64(i8_, cpu_, VarOffset(v))),
                   slots_[v]);
  }
  return slots_[v];
}

llvm::Value* Lifter::Read(unsigned v) {
  if (!options_.promote) return b_.CreateLoad(VarType(v), Field(VarOffset(v)));
  return b_.CreateLoad(VarType(v), VarSlot(v));
}

void Lifter::Write(unsigned v, llvm::Value* x) {
  if (!options_.promote) {
    b_.CreateStore(x, Field(VarOffset(v)));
    return;
  }
  written_[v] = true;
  b_.CreateStore(x, VarSlot(v));
}

void Lifter::SyncOut(SyncSet set) {
  if (options_.promote) sync_out_.push_back({b_.GetInsertBlock(), b_.GetInsertBlock()->size(), set});
}

void Lifter::SyncIn(llvm::Instruction* after, SyncSet set) {
  if (options_.promote) sync_in_.push_back({after, set});
}

void Lifter::PlaceSyncs() {
  // Positions are recorded as (block, index) because the instruction after a sync point may not exist
  // yet while lifting; fill in from the highest index down so earlier positions stay valid.
  std::sort(sync_out_.begin(), sync_out_.end(), [](const OutPoint& a, const OutPoint& b) {
    return a.bb != b.bb ? a.bb < b.bb : a.index > b.index;
  });
  for (const OutPoint& p : sync_out_) {
    auto it = p.bb->begin();
    std::advance(it, p.index);
    llvm::IRBuilder<> ib(p.bb, it);
    for (unsigned v = 1; v < kVarCount; ++v) {
      if (!slots_[v] || !written_[v] || (p.set == SyncSet::kCycles && v != kVarCycles)) continue;
      ib.CreateStore(ib.CreateLoad(VarType(v), slots_[v]),
                     ib.CreateConstInBoundsGEP1_64(i8_, cpu_, VarOffset(v)));
    }
  }
  for (const InPoint& p : sync_in_) {
    llvm::IRBuilder<> ib(p.after->getNextNode());
    for (unsigned v = 1; v < kVarCount; ++v) {
      if (!slots_[v] || (p.set == SyncSet::kCycles && v != kVarCycles)) continue;
      ib.CreateStore(ib.CreateLoad(VarType(v), ib.CreateConstInBoundsGEP1_64(i8_, cpu_, VarOffset(v))),
                     slots_[v]);
    }
  }
}

void Lifter::SetGpr(unsigned r, llvm::Value* v) {
  if (r == 0) return;
  Write(r, v);
  reuse_.Wrote(r);
}

llvm::CallInst* Lifter::CallRuntime(llvm::FunctionType* ty, const char* fn, llvm::ArrayRef<llvm::Value*> args,
                                    SyncSet set) {
  SyncOut(set);
  llvm::CallInst* call = b_.CreateCall(ty, Callee(ty, fn), args);
  SyncIn(call, set);
  return call;
}

void Lifter::CountEntry() {
  if (!options_.count_work) return;
  Increment(b_.CreateConstInBoundsGEP1_64(i8_, frame_, offsetof(RegionFrame, entries)));
}

void Lifter::AddTo(llvm::Value* counter, llvm::Value* n) {
  b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, counter), n), counter);
}

// --- control flow ---
// Every way out of the function passes one of three shared blocks (exit, exit after an exception, and
// chaining in promote mode), which sync the state, so an exit costs a branch and the IR stays small.
void Lifter::ExitWith(llvm::Value* pc) {
  exit_pc_->addIncoming(pc, b_.GetInsertBlock());
  b_.CreateBr(exit_bb_);
}

void Lifter::EmitExit() {
  b_.SetInsertPoint(exit_bb_);
  exit_pc_ = b_.CreatePHI(i32_, 8, "next_pc");
  SyncOut(SyncSet::kAll);
  b_.CreateStore(exit_pc_, Field(kOffPc));
  b_.CreateBr(ret_bb_);
  b_.SetInsertPoint(fault_bb_);
  SyncOut(SyncSet::kAll);
  b_.CreateBr(ret_bb_);
  b_.SetInsertPoint(ret_bb_);
  AccountRetired();
  b_.CreateRetVoid();
  // One chaining block for the whole region, entered with the target and its exit cache: in promote mode
  // the write-back of promoted values exists once; at O0 the musttail call, which the fast instruction
  // selector leaves to SelectionDAG (it lowers no tail calls and not the GHC convention), is selected once
  // per region instead of once per exit.
  leave_bb_ = llvm::BasicBlock::Create(ctx_, "leave_region", fn_);
  b_.SetInsertPoint(leave_bb_);
  leave_target_ = b_.CreatePHI(i32_, 8, "leave_target");
  leave_site_ = b_.CreatePHI(ptr_, 8, "leave_site");
  EmitChain(leave_target_, leave_site_);
}

// Leaves the region for target: straight into the translated code there when the slice allows it and an
// exit cache (or the runtime's lookup) knows the target, through the dispatcher otherwise. The jump is a
// musttail call, so chains of any length use no stack. Every exit goes through the region's one chaining
// block (EmitExit made it, before any block was lifted).
void Lifter::LeaveTo(llvm::Value* target) {
  llvm::Value* sp = b_.CreateConstInBoundsGEP1_64(i8_, sites_, sizeof(ChainSite) * site_count_++);
  leave_target_->addIncoming(target, b_.GetInsertBlock());
  leave_site_->addIncoming(sp, b_.GetInsertBlock());
  b_.CreateBr(leave_bb_);
}

void Lifter::EmitChain(llvm::Value* target, llvm::Value* sp) {
  auto* chain = llvm::BasicBlock::Create(ctx_, "chain", fn_);
  auto* out = llvm::BasicBlock::Create(ctx_, "chain_out", fn_);
  SyncOut(SyncSet::kAll);  // every way on leaves the function
  Unlikely(MustLeave(), out, chain);
  b_.SetInsertPoint(out);
  ExitWith(target);

  b_.SetInsertPoint(chain);
  // The rules of ChainSite: the same installed code, and for a mapped target the soft TLB (this mode's
  // table, this ASID) still mapping it to the page it was resolved to; for kseg0/kseg1, the same mode. The
  // site's chain key standing (runtime::SoftTlb::ChainKey: the table and the ASID hold still in a region)
  // says so at once; else, for a mapped target, the probe does, and the site takes the key.
  auto* hit = llvm::BasicBlock::Create(ctx_, "chain_hit", fn_);
  auto* probe = llvm::BasicBlock::Create(ctx_, "chain_probe", fn_);
  auto* rekey = llvm::BasicBlock::Create(ctx_, "chain_rekey", fn_);
  auto* miss = llvm::BasicBlock::Create(ctx_, "chain_miss", fn_);
  auto* go = llvm::BasicBlock::Create(ctx_, "chain_go", fn_);
  auto* none = llvm::BasicBlock::Create(ctx_, "chain_none", fn_);
  llvm::Value* unmapped = InUnmappedSegment(target);
  auto table_key = [&](int at) { return b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i8_, stlb_, at)); };
  llvm::Value* key = b_.CreateSelect(unmapped, table_key(runtime::SoftTlb::kChainUnmappedAt),
                                     b_.CreateOr(table_key(runtime::SoftTlb::kChainMappedAt), asid_key_));
  auto field = [&](llvm::Value* p, llvm::Type* ty, size_t off) {
    return b_.CreateLoad(ty, b_.CreateConstInBoundsGEP1_64(i8_, p, off));
  };
  // Whether the key of a cache entry at p (a ChainSite or a jump cache entry) stands for target. And rather
  // than a select of i1, which the first tier's fast instruction selector does not take.
  const auto stands = [&](llvm::Value* p, size_t key_at, size_t vpc_at) {
    return b_.CreateAnd(b_.CreateICmpEQ(field(p, i64_, key_at), key),
                        b_.CreateICmpEQ(field(p, i32_, vpc_at), target));
  };
  Likely(stands(sp, offsetof(ChainSite, key), offsetof(ChainSite, vpc)), hit, probe);
  b_.SetInsertPoint(probe);
  llvm::Value* entry = TlbEntry(target);
  llvm::Value* mapped_ok = b_.CreateAnd(
      b_.CreateAnd(b_.CreateNot(unmapped), ProbeHit(entry, target, 4, kOffTagFetch)),
      b_.CreateAnd(b_.CreateICmpEQ(Addend(entry), field(sp, i64_, offsetof(ChainSite, addend))),
                   b_.CreateAnd(b_.CreateICmpEQ(field(sp, i64_, offsetof(ChainSite, code_epoch)),
                                                b_.CreateLoad(i64_, Field(kOffCodeEpoch))),
                                b_.CreateICmpEQ(field(sp, i32_, offsetof(ChainSite, vpc)), target))));
  Likely(mapped_ok, rekey, miss);
  b_.SetInsertPoint(rekey);
  b_.CreateStore(key, b_.CreateConstInBoundsGEP1_64(i8_, sp, offsetof(ChainSite, key)));
  b_.CreateBr(hit);
  const auto site_frame = [&] {
    return b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(i8_, sp, offsetof(ChainSite, frame)));
  };
  b_.SetInsertPoint(hit);
  llvm::Value* cached = b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(i8_, sp, offsetof(ChainSite, fn)));
  llvm::Value* cached_frame = site_frame();
  b_.CreateBr(go);

  // The exit's own cache missed (a return to another caller than last time, say): the code cache's jump
  // cache by target, under the same rules, before the runtime. An entry without code sends the exit to
  // the runtime, which hands the target's block to the dispatcher.
  b_.SetInsertPoint(miss);
  using code::JumpEntry;
  llvm::Value* slot = b_.CreateLShr(b_.CreateMul(b_.CreateLShr(target, 2), b_.getInt32(code::kSlotHash)),
                                    32 - code::kJumpBits);
  llvm::Value* je =
      b_.CreateInBoundsGEP(i8_, b_.CreateLoad(ptr_, Field(kOffJumpCache)),
                           b_.CreateMul(b_.CreateZExt(slot, i64_), b_.getInt64(sizeof(JumpEntry))));
  llvm::Value* je_fn = b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(i8_, je, offsetof(JumpEntry, fn)));
  auto* je_hit = llvm::BasicBlock::Create(ctx_, "chain_jump_cache", fn_);
  auto* link = llvm::BasicBlock::Create(ctx_, "chain_link", fn_);
  Likely(
      b_.CreateAnd(stands(je, offsetof(JumpEntry, key), offsetof(JumpEntry, vpc)), b_.CreateIsNotNull(je_fn)),
      je_hit, link);
  b_.SetInsertPoint(je_hit);
  llvm::Value* je_frame =
      b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(i8_, je, offsetof(JumpEntry, frame)));
  b_.CreateBr(go);

  b_.SetInsertPoint(link);
  auto* link_ty = llvm::FunctionType::get(ptr_, {ptr_, ptr_, i32_}, false);
  llvm::Value* linked = b_.CreateCall(link_ty, Callee(link_ty, code::kLinkSymbol), {cpu_, sp, target});
  llvm::Value* linked_frame = site_frame();  // the runtime filled the site
  Likely(b_.CreateICmpNE(linked, llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_))), go,
         none);
  b_.SetInsertPoint(none);
  ExitWith(target);

  b_.SetInsertPoint(go);
  llvm::PHINode* fn = b_.CreatePHI(ptr_, 3);
  fn->addIncoming(cached, hit);
  fn->addIncoming(je_fn, je_hit);
  fn->addIncoming(linked, link);
  llvm::PHINode* frame = b_.CreatePHI(ptr_, 3);
  frame->addIncoming(cached_frame, hit);
  frame->addIncoming(je_frame, je_hit);
  frame->addIncoming(linked_frame, link);
  AccountRetired();
  auto* call = b_.CreateCall(fn_->getFunctionType(), fn,
                             {cpu_, b_.CreateAnd(target, b_.getInt32(runtime::kPageMask)),
                              b_.CreateAnd(target, b_.getInt32(~runtime::kPageMask)), limit_, frame});
  call->setCallingConv(llvm::CallingConv::GHC);
  call->setTailCallKind(llvm::CallInst::TCK_MustTail);
  b_.CreateRetVoid();
}

// On the way out, with the state synced: the cycle count in memory is current. The region's own count
// (RegionFrame::insns) is what the tier measures its work by. (The instructions retired are the clock's
// count: CpuState::Retired.)
void Lifter::AccountRetired() {
  if (!options_.count_work) return;
  llvm::Value* ran = b_.CreateSub(b_.CreateLoad(i64_, Field(kOffCycles)), cycles_at_entry_);
  AddTo(b_.CreateConstInBoundsGEP1_64(i8_, frame_, offsetof(RegionFrame, insns)), ran);
}

void Lifter::Unlikely(llvm::Value* cond, llvm::BasicBlock* rare, llvm::BasicBlock* usual) {
  b_.CreateCondBr(cond, rare, usual, llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
}

// Leaves when the slice is over or the runtime asked for an exit; used on every edge between blocks. With
// `fit` (exact budgets), also when a block of that many instructions would run past the slice's end.
llvm::Value* Lifter::MustLeave(uint64_t fit) {
  llvm::Value* over = fit ? b_.CreateICmpUGT(b_.CreateAdd(Cycles(), b_.getInt64(fit)), limit_)
                          : b_.CreateICmpUGE(Cycles(), limit_);
  llvm::Value* req = b_.CreateICmpNE(b_.CreateLoad(i32_, Field(kOffExitRequest)), b_.getInt32(0));
  return b_.CreateOr(over, req);
}

void Lifter::EmitDispatch() {
  // dispatch: a computed target; leave if the slice is over, stay if it is a block of this region.
  b_.SetInsertPoint(dispatch_bb_);
  llvm::Value* t = b_.CreateLoad(i32_, dyn_);
  auto* leave = llvm::BasicBlock::Create(ctx_, "dispatch_leave", fn_);
  auto* stay = llvm::BasicBlock::Create(ctx_, "dispatch_stay", fn_);
  Unlikely(MustLeave(), leave, stay);
  b_.SetInsertPoint(leave);
  ExitWith(t);
  b_.SetInsertPoint(stay);
  if (options_.count_back_edges) CountEntry();  // e.g. a recursive call: a loop through the switch
  b_.CreateBr(switch_bb_);

  b_.SetInsertPoint(switch_bb_);
  EmitSwitch(b_.CreateLoad(i32_, dyn_));
  // The function's entry has a switch of its own, so the entry block is not the preheader of the loop
  // through the dispatcher (LLVM would hoist everything invariant in the region into it, and every entry
  // would pay for it). Unoptimised code hoists nothing: there the entry shares the dispatcher's compare
  // tree, which halves the code the tree costs.
  b_.SetInsertPoint(entry_switch_bb_);
  llvm::Value* entry_pc = b_.CreateAdd(vbase_, fn_->getArg(2));
  if (options_.compare_tree && !options_.promote) {
    b_.CreateStore(entry_pc, dyn_);
    b_.CreateBr(switch_bb_);
  } else {
    EmitSwitch(entry_pc);
  }
}

// Whether a target `delta` bytes past the page base may be a block of this region: in its page, or, for a
// region spanning pages, anywhere while the page base is in kseg0/kseg1.
llvm::Value* Lifter::InRegionPages(llvm::Value* delta) {
  llvm::Value* in_page = b_.CreateICmpULT(delta, Imm(runtime::kPageSize));
  return region_.SpansPages() ? b_.CreateOr(in_page, span_ok_) : in_page;
}

void Lifter::EmitSwitch(llvm::Value* target) {
  auto* known = llvm::BasicBlock::Create(ctx_, "known_page", fn_);
  auto* other = llvm::BasicBlock::Create(ctx_, "other_page", fn_);
  llvm::Value* delta = b_.CreateSub(target, vbase_);
  b_.CreateCondBr(InRegionPages(delta), known, other);
  b_.SetInsertPoint(other);
  LeaveTo(target);
  b_.SetInsertPoint(known);
  auto* unknown = llvm::BasicBlock::Create(ctx_, "not_a_block", fn_);
  if (options_.compare_tree) {
    const CaseList cases(block_bb_.begin(), block_bb_.end());  // sorted by offset
    EmitCompareTree(delta, cases, 0, cases.size(), unknown);
  } else {
    auto* sw = b_.CreateSwitch(delta, unknown, static_cast<unsigned>(block_bb_.size()));
    for (auto& [off, bb] : block_bb_) sw->addCase(b_.getInt32(off), bb);
  }
  b_.SetInsertPoint(unknown);
  LeaveTo(target);
}

// Emits, at the insertion point, a search of cases[lo, hi) for delta: halves split on an unsigned
// less-than until at most kLinear cases are left, which are compared one by one; no match goes to unknown.
void Lifter::EmitCompareTree(llvm::Value* delta, const CaseList& cases, size_t lo, size_t hi,
                             llvm::BasicBlock* unknown) {
  constexpr size_t kLinear = 3;
  if (hi - lo <= kLinear) {
    for (size_t i = lo; i < hi; ++i) {
      auto* next = i + 1 < hi ? llvm::BasicBlock::Create(ctx_, "case_next", fn_) : unknown;
      b_.CreateCondBr(b_.CreateICmpEQ(delta, b_.getInt32(cases[i].first)), cases[i].second, next);
      if (next != unknown) b_.SetInsertPoint(next);
    }
    if (lo == hi) b_.CreateBr(unknown);
    return;
  }
  const size_t mid = lo + (hi - lo) / 2;
  auto* below = llvm::BasicBlock::Create(ctx_, "case_below", fn_);
  auto* above = llvm::BasicBlock::Create(ctx_, "case_above", fn_);
  b_.CreateCondBr(b_.CreateICmpULT(delta, b_.getInt32(cases[mid].first)), below, above);
  b_.SetInsertPoint(below);
  EmitCompareTree(delta, cases, lo, mid, unknown);
  b_.SetInsertPoint(above);
  EmitCompareTree(delta, cases, mid, hi, unknown);
}

// A computed jump (JR, JALR, or J/JAL outside kseg0/kseg1): within the region's page through the
// dispatcher; elsewhere out through a chain site of this instruction's own. Shared by every computed jump of
// the region, as the dispatcher's exit is, one site thrashed between them all (each MIPS PIC call is a JALR
// of its own callee; returns go to their callers); per instruction most of them see one target.
void Lifter::JumpDynamic(llvm::Value* target) {
  auto* stay = llvm::BasicBlock::Create(ctx_, "dyn_stay", fn_);
  auto* out = llvm::BasicBlock::Create(ctx_, "dyn_out", fn_);
  b_.CreateCondBr(InRegionPages(b_.CreateSub(target, vbase_)), stay, out);
  b_.SetInsertPoint(out);
  LeaveTo(target);
  b_.SetInsertPoint(stay);
  b_.CreateStore(target, dyn_);
  b_.CreateBr(dispatch_bb_);
}

// A jump to a page offset known at translation time (it may lie outside the page). The slice limit and
// exit requests are checked on back-edges, so the latency of an interrupt is bounded by one pass through
// the region.
void Lifter::JumpStatic(int64_t off) {
  llvm::Value* pc = b_.CreateAdd(vbase_, b_.getInt32(static_cast<uint32_t>(off)));
  auto it = block_bb_.find(static_cast<uint32_t>(off));
  if (it == block_bb_.end()) {
    LeaveTo(pc);
    return;
  }
  if (off < 0 || off >= static_cast<int64_t>(runtime::kPageSize)) {  // into another page of the region
    auto* go = llvm::BasicBlock::Create(ctx_, "span", fn_);
    auto* out = llvm::BasicBlock::Create(ctx_, "span_leave", fn_);
    Likely(span_ok_, go, out);
    b_.SetInsertPoint(out);
    LeaveTo(pc);
    b_.SetInsertPoint(go);
  }
  llvm::BasicBlock* dest = it->second;
  if (off > cur_block_) {  // forward: every cycle in the region passes a back-edge or the dispatcher
    b_.CreateBr(dest);
    return;
  }
  if (options_.count_back_edges) CountEntry();
  auto* leave = llvm::BasicBlock::Create(ctx_, "leave", fn_);
  Unlikely(MustLeave(), leave, dest);
  b_.SetInsertPoint(leave);
  ExitWith(pc);
}

// --- helpers into the runtime ---
void Lifter::Raise(runtime::ExcCode code, uint32_t off, bool ds) {
  auto* ty = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i32_, i32_, i32_}, false);
  CallRuntime(ty, code::kRaiseSymbol,
              {cpu_, b_.getInt32(static_cast<uint32_t>(code)), Pc(off), b_.getInt32(ds)}, SyncSet::kAll);
  ExitAfterException();
}

// if (cond) raise code; continue in a fresh block otherwise.
void Lifter::RaiseIf(llvm::Value* cond, runtime::ExcCode code, uint32_t off, bool ds) {
  auto* fault = llvm::BasicBlock::Create(ctx_, "fault", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "cont", fn_);
  Unlikely(cond, fault, cont);
  b_.SetInsertPoint(fault);
  Raise(code, off, ds);
  b_.SetInsertPoint(cont);
}

// Runs d through the interpreter's handler. Returns false if control cannot continue (it exited).
bool Lifter::Step(const DecodedInsn& d, uint32_t off, bool ds) {
  auto* ty = llvm::FunctionType::get(i1_, {ptr_, ptr_, i32_, i32_}, false);
  llvm::Value* insn = InsnRef(d);
  llvm::Value* ok = CallRuntime(ty, code::kStepSymbol, {cpu_, insn, Pc(off), b_.getInt32(ds)}, SyncSet::kAll);
  auto* fault = llvm::BasicBlock::Create(ctx_, "step_fault", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "step_ok", fn_);
  Likely(ok, cont, fault);
  b_.SetInsertPoint(fault);
  ExitAfterException();
  b_.SetInsertPoint(cont);
  reuse_.ForgetAll();  // the handler may have changed the TLB or the mode
  return true;
}

// --- instructions ---
// runtime::InUnmappedSegment in IR: is the address in kseg0/kseg1?
llvm::Value* Lifter::InUnmappedSegment(llvm::Value* va) {
  return b_.CreateICmpULT(b_.CreateSub(va, Imm(runtime::kKseg0)), Imm(2 * runtime::kUnmappedWindow));
}

llvm::Value* Lifter::HiLo() {
  return b_.CreateOr(b_.CreateShl(b_.CreateZExt(Hi(), i64_), 32), b_.CreateZExt(Lo(), i64_));
}

void Lifter::SetHiLo(llvm::Value* v64) {
  SetHi(b_.CreateTrunc(b_.CreateLShr(v64, 32), i32_));
  SetLo(b_.CreateTrunc(v64, i32_));
}

// n in 0..31. Shifts rather than llvm.fshr: the first tier's fast instruction selector lowers no funnel
// shift and hands each one to SelectionDAG; the optimising tiers fold the pattern back into a rotate.
// (32 - n) & 31 keeps n = 0 defined: x | x.
llvm::Value* Lifter::Rotr(llvm::Value* x, llvm::Value* n) {
  return b_.CreateOr(b_.CreateLShr(x, n),
                     b_.CreateShl(x, b_.CreateAnd(b_.CreateSub(b_.getInt32(32), n), 31)));
}

llvm::Value* Lifter::Clz(llvm::Value* x) {
  llvm::Function* ctlz = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::ctlz, {i32_});
  return b_.CreateCall(ctlz, {x, b_.getFalse()});
}

using mips::sem::RunWrittenOnce;
using mips::sem::WrittenOnce;

bool Lifter::EmitShared(const DecodedInsn& d, uint32_t off, bool ds, bool* shared) {
  // Rows of each kind that must come from the handlers (a handler that lost its emitter form would fall
  // back to strobe_jit_step: still right, but a call per instruction).
  static_assert(WrittenOnce<Ops>::ADDU && WrittenOnce<Ops>::DIV && WrittenOnce<Ops>::TEQ &&
                WrittenOnce<Ops>::LW && WrittenOnce<Ops>::SW && WrittenOnce<Ops>::BEQ &&
                WrittenOnce<Ops>::JALR && WrittenOnce<Ops>::LWL && WrittenOnce<Ops>::SWR);
  static_assert(!WrittenOnce<Ops>::SYSCALL);
  // A branch where no branch is lifted (a delay slot's), or a CP0 register that is not a plain field: the
  // handler runs it.
  if ((d.flags & mips::kBranch) || mips::sem::Cp0AccessNeedsHandler(d)) {
    *shared = false;
    return true;
  }
  Ops ops(*this, off, ds);
  RunWrittenOnce(ops, d, shared);
  return true;  // a raise leaves through its own block; emission goes on
}

// Emits one non-branch instruction. Returns false if control left the function.
bool Lifter::EmitOp(const DecodedInsn& d, uint32_t off, bool ds) {
  bool shared;
  EmitShared(d, off, ds, &shared);
  if (shared) return true;
  if (d.flags & mips::kCop1) return EmitFpu(d, off, ds);  // lifter_fpu.cpp
  if (d.op == Opcode::RDHWR && d.rd == runtime::kHwrUserLocal) return ReadUserLocal(d, off, ds);
  return Step(d, off, ds);  // privileged, rare or complex: the handler
}

// RDHWR rt, $29: glibc reads its thread pointer (UserLocal) this way for every access to thread-local data
// (errno, locale, stdio's locks), millions of times a second in some programs. Where runtime::ReadHwr gives
// UserLocal whatever the mode (the register is implemented and enabled in HWREna, as Linux sets it), the
// code reads it inline; otherwise the handler runs (it raises Reserved Instruction for the kernel to
// emulate).
bool Lifter::ReadUserLocal(const DecodedInsn& d, uint32_t off, bool ds) {
  auto field = [&](size_t at) { return b_.CreateLoad(i32_, Field(at)); };
  llvm::Value* enabled = b_.CreateICmpNE(
      b_.CreateAnd(field(offsetof(runtime::CpuState, cp0.hwrena)), b_.getInt32(1u << runtime::kHwrUserLocal)),
      b_.getInt32(0));
  llvm::Value* implemented = b_.CreateICmpNE(
      b_.CreateAnd(field(offsetof(runtime::CpuState, cp0.config3)), b_.getInt32(runtime::config3::ULRI)),
      b_.getInt32(0));
  auto* fast = llvm::BasicBlock::Create(ctx_, "ulr_fast", fn_);
  auto* slow = llvm::BasicBlock::Create(ctx_, "ulr_handler", fn_);
  auto* join = llvm::BasicBlock::Create(ctx_, "ulr_join", fn_);
  Likely(b_.CreateAnd(enabled, implemented), fast, slow);
  b_.SetInsertPoint(fast);
  SetGpr(d.rt, field(offsetof(runtime::CpuState, cp0.userlocal)));
  b_.CreateBr(join);
  b_.SetInsertPoint(slow);
  Step(d, off, ds);
  b_.CreateBr(join);
  b_.SetInsertPoint(join);
  reuse_.ForgetAll();  // as after the handler, on either way here
  return true;
}

// --- branches ---
Lifter::BranchOutcome Lifter::EmitBranch(const DecodedInsn& d, uint32_t off) {
  BranchOutcome o;
  o.static_target = Signed(off) + 4 + (static_cast<int64_t>(d.simm()) << 2);
  if (d.flags & mips::kCop1) {  // BC1F/BC1T and their likely forms test the FPU's condition codes
    o.taken = FpuBranchTaken(d, off);
    return o;
  }
  Ops ops(*this, off, false, &o);
  bool shared;
  RunWrittenOnce(ops, d, &shared);  // semantics/branch.h
  // A J/JAL that lands on a block of the region branches there directly (in kseg0/kseg1).
  if (d.op == Opcode::J || d.op == Opcode::JAL)
    if (const uint32_t t = SpanJumpTarget(region_.page, off, d); block_bb_.count(t))
      o.span_target = Signed(t);
  return o;
}

// Where execution continues after the delay slot being lifted (the slot's branch is slot_).
llvm::Value* Lifter::SlotNextPc() {
  const BranchOutcome& o = *slot_.branch;
  llvm::Value* taken = o.dynamic_target ? o.dynamic_target : Pc(static_cast<uint32_t>(o.static_target));
  return slot_.likely ? taken : b_.CreateSelect(o.taken, taken, Pc(slot_.branch_off + 8));
}

void Lifter::GoTaken(const BranchOutcome& o) {
  if (o.dynamic_target) {
    GoDynamic(o);
  } else {
    JumpStatic(o.static_target);
  }
}

void Lifter::GoDynamic(const BranchOutcome& o) {
  if (!o.span_target) {
    JumpDynamic(o.dynamic_target);
    return;
  }
  auto* direct = llvm::BasicBlock::Create(ctx_, "span_jump", fn_);
  auto* computed = llvm::BasicBlock::Create(ctx_, "computed_jump", fn_);
  Likely(span_ok_, direct, computed);
  b_.SetInsertPoint(computed);
  JumpDynamic(o.dynamic_target);
  b_.SetInsertPoint(direct);
  JumpStatic(*o.span_target);
}

void Lifter::EmitBlock(const RegionBlock& blk) {
  cur_block_ = Signed(blk.offset);
  cur_block_end_ = blk.offset + 4 * static_cast<uint32_t>(blk.ops.size());
  b_.SetInsertPoint(block_bb_[blk.offset]);
  if (options_.exact_budget) {  // before anything of the block runs or is counted
    auto* run = llvm::BasicBlock::Create(ctx_, "fits", fn_);
    auto* leave = llvm::BasicBlock::Create(ctx_, "budget_leave", fn_);
    Unlikely(MustLeave(blk.ops.size()), leave, run);
    b_.SetInsertPoint(leave);
    ExitWith(Pc(blk.offset));
    b_.SetInsertPoint(run);
  }
  reuse_.StartBlock(cur_block_);
  if (blk.counter) {  // the frame's counter table has the block's counter at the block's index
    const uint64_t index = static_cast<uint64_t>(&blk - region_.blocks.data());
    Increment(b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(ptr_, counters_, index)));
  }
  Write(kVarCycles, b_.CreateAdd(Cycles(), b_.getInt64(blk.ops.size())));
  size_t body = blk.ops.size();
  if (blk.end == BlockEnd::kBranch) body -= 2;
  if (blk.end == BlockEnd::kEndsBlock) body -= 1;
  uint32_t off = blk.offset;
  for (size_t i = 0; i < body; ++i, off += 4) {
    if (!EmitOp(blk.ops[i], off, false)) return;
  }
  switch (blk.end) {
    case BlockEnd::kFallThrough: JumpStatic(Signed(off)); return;
    case BlockEnd::kBranchSplit: ExitWith(Pc(off)); return;  // never formed into regions
    case BlockEnd::kEndsBlock: {
      b_.CreateStore(Pc(off + 4), Field(kOffPc));  // ERET and exceptions overwrite it
      auto* ty = llvm::FunctionType::get(i1_, {ptr_, ptr_, i32_, i32_}, false);
      llvm::Value* insn = InsnRef(blk.ops[body]);
      llvm::Value* ok =
          CallRuntime(ty, code::kStepSymbol, {cpu_, insn, Pc(off), b_.getInt32(0)}, SyncSet::kAll);
      if (!mips::GoesOnAfter(blk.ops[body]) || options_.exact_budget) {
        ExitAfterException();  // whatever happened, the PC to continue at is in the state
        return;
      }
      // An MTC0 or EI that left the mode, the ASID and the exit request as they were: on to the next
      // block, as after a fall-through (the region's soft TLB table and ASID key hold still).
      reuse_.ForgetAll();
      auto* on = llvm::BasicBlock::Create(ctx_, "goes_on", fn_);
      auto* out = llvm::BasicBlock::Create(ctx_, "ended", fn_);
      llvm::Value* same = b_.CreateAnd(
          b_.CreateAnd(ok, b_.CreateICmpEQ(b_.CreateLoad(i32_, Field(kOffExitRequest)), b_.getInt32(0))),
          b_.CreateAnd(b_.CreateICmpEQ(b_.CreateLoad(ptr_, Field(kOffStlb)), stlb_),
                       b_.CreateICmpEQ(b_.CreateLoad(i64_, Field(kOffAsidKey)), asid_key_)));
      Likely(same, on, out);
      b_.SetInsertPoint(out);
      ExitAfterException();
      b_.SetInsertPoint(on);
      JumpStatic(Signed(off + 4));
      return;
    }
    case BlockEnd::kBranch: {
      const DecodedInsn& br = blk.ops[body];
      const DecodedInsn& slot = blk.ops[body + 1];
      BranchOutcome o = EmitBranch(br, off);
      if (br.flags & mips::kLikely) {  // the slot runs only when the branch is taken
        auto* taken = llvm::BasicBlock::Create(ctx_, "likely_taken", fn_);
        auto* not_taken = llvm::BasicBlock::Create(ctx_, "likely_not_taken", fn_);
        b_.CreateCondBr(o.taken, taken, not_taken);
        b_.SetInsertPoint(not_taken);
        JumpStatic(Signed(off) + 8);
        b_.SetInsertPoint(taken);
        slot_ = {&o, off, true};
        if (!EmitOp(slot, off + 4, true)) return;
        if (slot.flags & mips::kEndsBlock) {
          ExitWith(SlotNextPc());
          return;
        }
        GoTaken(o);
        return;
      }
      slot_ = {&o, off, false};
      if (!EmitOp(slot, off + 4, true)) return;
      if (slot.flags & mips::kEndsBlock) {  // e.g. MTC0 in a delay slot: no chaining past it
        ExitWith(SlotNextPc());
        return;
      }
      if (o.dynamic_target) {
        GoDynamic(o);
        return;
      }
      auto* taken = llvm::BasicBlock::Create(ctx_, "taken", fn_);
      auto* not_taken = llvm::BasicBlock::Create(ctx_, "not_taken", fn_);
      b_.CreateCondBr(o.taken, taken, not_taken);
      b_.SetInsertPoint(taken);
      JumpStatic(o.static_target);
      b_.SetInsertPoint(not_taken);
      JumpStatic(Signed(off) + 8);
      return;
    }
  }
}

}  // namespace detail

std::string LiftKey(const Region& region) {
  static_assert(std::has_unique_object_representations_v<mips::DecodedInsn>,
                "instructions are keyed by bytes");
  std::string k;
  auto put = [&k](const void* p, size_t n) { k.append(static_cast<const char*>(p), n); };
  auto put32 = [&put](uint32_t v) { put(&v, sizeof v); };
  put32(static_cast<uint32_t>(region.blocks.size()));
  put32(region.SpansPages());  // EmitSwitch
  std::set<uint32_t> offsets;
  for (const RegionBlock& b : region.blocks) offsets.insert(b.offset);
  for (const RegionBlock& b : region.blocks) {
    put32(b.offset);
    put32(static_cast<uint32_t>(b.end) | (b.counter ? 0x100u : 0u));
    put32(static_cast<uint32_t>(b.ops.size()));
    put(b.ops.data(), b.ops.size() * sizeof(mips::DecodedInsn));
    // The one use of the region's physical page (EmitBranch): whether a J/JAL lands on a block of the
    // region. Its outcome is the key, not the page, so code in other physical pages still matches.
    if (b.end == BlockEnd::kBranch && b.ops.size() >= 2) {
      const mips::DecodedInsn& d = b.ops[b.ops.size() - 2];
      if (d.op == mips::Opcode::J || d.op == mips::Opcode::JAL) {
        const uint32_t off = b.offset + 4 * static_cast<uint32_t>(b.ops.size() - 2);
        const uint32_t t = SpanJumpTarget(region.page, off, d);
        put32(offsets.count(t) ? t : ~uint32_t{0});
      }
    }
  }
  return k;
}

bool ParseLiftKey(std::string_view key, std::vector<RegionBlock>* blocks) {
  size_t at = 0;
  auto get = [&](void* p, size_t n) {
    if (key.size() - at < n) return false;
    std::memcpy(p, key.data() + at, n);
    at += n;
    return true;
  };
  uint32_t count, spans;
  if (!get(&count, 4) || !get(&spans, 4) || count > 4096) return false;
  blocks->clear();
  for (uint32_t i = 0; i < count; ++i) {
    RegionBlock b;
    uint32_t end, ops;
    if (!get(&b.offset, 4) || !get(&end, 4) || !get(&ops, 4) || (end & 0xFF) > 3 || ops > 4096) return false;
    b.end = static_cast<BlockEnd>(end & 0xFF);
    if (end & 0x100) return false;  // counters point into a run's interpreter: such shapes are not reused
    b.ops.resize(ops);
    if (!get(b.ops.data(), ops * sizeof(mips::DecodedInsn))) return false;
    if (b.end == BlockEnd::kBranch && ops >= 2) {
      const mips::Opcode op = b.ops[ops - 2].op;
      uint32_t target;
      if ((op == mips::Opcode::J || op == mips::Opcode::JAL) && !get(&target, 4)) return false;
    }
    blocks->push_back(std::move(b));
  }
  return at == key.size();
}

llvm::Function* LiftRegion(Region& region, llvm::Module& module, const std::string& name,
                           const LiftOptions& options) {
  detail::Lifter lifter(region, module, name, options);
  llvm::Function* f = lifter.Lift();
  region.site_count = lifter.site_count();
  return f;
}

}  // namespace strobe::jit
