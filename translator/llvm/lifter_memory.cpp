// SPDX-License-Identifier: MIT
// Guest memory access in lifted code: the soft TLB probe inline, the runtime on a miss (see lifter_impl.h).
#include "translator/code/abi.h"
#include "translator/llvm/lifter_impl.h"

namespace strobe::jit::detail {

llvm::Value* Lifter::TlbEntry(llvm::Value* va) {
  llvm::Value* idx =
      b_.CreateAnd(b_.CreateLShr(va, runtime::kPageBits), b_.getInt32(runtime::SoftTlb::kEntries - 1));
  return b_.CreateInBoundsGEP(i8_, stlb_, b_.CreateMul(b_.CreateZExt(idx, i64_), b_.getInt64(kEntrySize)));
}

llvm::Value* Lifter::ProbeHit(llvm::Value* entry, llvm::Value* va, unsigned size, uint64_t tag_off) {
  llvm::Value* tag = b_.CreateLoad(i64_, b_.CreateConstInBoundsGEP1_64(i8_, entry, tag_off));
  llvm::Value* masked = b_.CreateAnd(va, b_.getInt32(runtime::kPageMask | (size - 1)));
  llvm::Value* key = b_.CreateOr(asid_key_, b_.CreateZExt(masked, i64_));
  return b_.CreateICmpEQ(tag, key);
}

llvm::Value* Lifter::Addend(llvm::Value* entry) {
  return b_.CreateLoad(i64_, b_.CreateConstInBoundsGEP1_64(i8_, entry, kOffAddend));
}

llvm::Value* Lifter::HostPtr(llvm::Value* addend, llvm::Value* va) {
  return b_.CreateIntToPtr(b_.CreateAdd(b_.CreateZExt(va, i64_), addend), ptr_);
}

// Guest memory access at a host address.
llvm::Value* Lifter::LoadHost(llvm::Value* p, unsigned size, bool sign) {
  llvm::Value* raw = b_.CreateAlignedLoad(IntOf(size), p, llvm::MaybeAlign(size));
  return size == 4 ? raw : sign ? b_.CreateSExt(raw, i32_) : b_.CreateZExt(raw, i32_);
}

void Lifter::StoreHost(llvm::Value* p, llvm::Value* value, unsigned size) {
  b_.CreateAlignedStore(size == 4 ? value : b_.CreateTrunc(value, IntOf(size)), p, llvm::MaybeAlign(size));
}

// The inline pmap path (LiftOptions::unmapped_path), tried when the soft TLB misses: an aligned
// kseg0/kseg1 address indexes the unmapped-segment table by guest-physical page. On a hit `access` gets
// the host address and control goes to join; the builder is left on the miss path. Returns the hit block,
// or null (and emits nothing) when the path is off.
llvm::BasicBlock* Lifter::UnmappedPath(llvm::Value* va, unsigned size, llvm::Value* table,
                                       llvm::BasicBlock* join,
                                       const std::function<void(llvm::Value*)>& access) {
  if (!options_.unmapped_path) return nullptr;
  auto* probe = llvm::BasicBlock::Create(ctx_, "kseg_probe", fn_);
  auto* hit = llvm::BasicBlock::Create(ctx_, "kseg_hit", fn_);
  auto* miss = llvm::BasicBlock::Create(ctx_, "kseg_miss", fn_);
  llvm::Value* in_window = InUnmappedSegment(va);
  llvm::Value* ok = size == 1
                        ? in_window
                        : b_.CreateAnd(in_window, b_.CreateICmpEQ(b_.CreateAnd(va, Imm(size - 1)), Imm(0)));
  b_.CreateCondBr(ok, probe, miss);
  b_.SetInsertPoint(probe);
  llvm::Value* page =
      b_.CreateZExt(b_.CreateLShr(b_.CreateAnd(va, Imm(runtime::kUnmappedMask)), runtime::kPageBits), i64_);
  llvm::Value* host = b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i64_, table, page));
  b_.CreateCondBr(b_.CreateICmpNE(host, b_.getInt64(0)), hit, miss);
  b_.SetInsertPoint(hit);
  access(b_.CreateIntToPtr(
      b_.CreateAdd(host, b_.CreateZExt(b_.CreateAnd(va, Imm(~runtime::kPageMask)), i64_)), ptr_));
  b_.CreateBr(join);
  b_.SetInsertPoint(miss);
  return hit;
}

// The runtime's load path (strobe_jit_load) for va with the access's size and flags (code/abi.h); a fault
// leaves the region. Returns the value; the builder is left where the load succeeded.
llvm::Value* Lifter::RuntimeLoad(llvm::Value* va, uint32_t size_and_flags, uint32_t off, bool ds) {
  auto* ok_bb = llvm::BasicBlock::Create(ctx_, "ld_miss_ok", fn_);
  auto* fault = llvm::BasicBlock::Create(ctx_, "ld_fault", fn_);
  auto* ty = llvm::FunctionType::get(i1_, {ptr_, i32_, i32_, ptr_, i32_, i32_}, false);
  llvm::Value* ok =
      CallRuntime(ty, code::kLoadSymbol,
                  {cpu_, va, b_.getInt32(size_and_flags), out_, Pc(off), b_.getInt32(ds)}, SyncSet::kCycles);
  Likely(ok, ok_bb, fault);
  b_.SetInsertPoint(fault);
  ExitAfterException();
  b_.SetInsertPoint(ok_bb);
  return b_.CreateLoad(i32_, out_);
}

// A store's runtime path (strobe_jit_store or _store_part with args); a fault leaves the region. After it
// the page hints are forgotten (the store may have broken copy-on-write) and a requested exit is taken; the
// builder is left where the store succeeded and no exit was requested.
void Lifter::RuntimeStore(const char* symbol, llvm::ArrayRef<llvm::Value*> args, uint32_t off, bool ds) {
  auto* ok_bb = llvm::BasicBlock::Create(ctx_, "st_miss_ok", fn_);
  auto* fault = llvm::BasicBlock::Create(ctx_, "st_fault", fn_);
  auto* ty = llvm::FunctionType::get(i1_, {ptr_, i32_, i32_, i32_, i32_, i32_}, false);
  Likely(CallRuntime(ty, symbol, args, SyncSet::kCycles), ok_bb, fault);
  b_.SetInsertPoint(fault);
  ExitAfterException();
  b_.SetInsertPoint(ok_bb);
  reuse_.ForgetSites();
  ExitIfRequested(off, ds);
}

llvm::Value* Lifter::Load(llvm::Value* va, unsigned size, bool sign, uint32_t off, bool ds, int base,
                          llvm::Value* word_around) {
  reuse_.StartAccess(off);
  auto* join = llvm::BasicBlock::Create(ctx_, "ld_join", fn_);
  PageReuse::Hint old;
  llvm::Value* v_same = nullptr;
  llvm::BasicBlock* same = reuse_.Try(
      base, false, va, size, join, [&](llvm::Value* p) { v_same = LoadHost(p, size, sign); }, &old);
  llvm::Value* entry = TlbEntry(va);
  auto* fast = llvm::BasicBlock::Create(ctx_, "ld_hit", fn_);
  auto* slow = llvm::BasicBlock::Create(ctx_, "ld_miss", fn_);
  Likely(ProbeHit(entry, va, size, kOffTagRead), fast, slow);

  b_.SetInsertPoint(fast);
  PageReuse::Hint hit{b_.CreateAnd(va, Imm(runtime::kPageMask)), Addend(entry)};
  reuse_.Remember(hit);
  llvm::Value* v_fast = LoadHost(HostPtr(hit.addend, va), size, sign);
  b_.CreateBr(join);

  b_.SetInsertPoint(slow);
  llvm::Value* v_kseg = nullptr;
  llvm::BasicBlock* kseg =
      UnmappedPath(va, size, unmapped_read_, join, [&](llvm::Value* p) { v_kseg = LoadHost(p, size, sign); });
  const uint32_t flags = (sign ? code::kLoadSigned : 0) | (word_around ? code::kLoadWordAround : 0);
  llvm::Value* v_slow = RuntimeLoad(word_around ? word_around : va, size | flags, off, ds);
  llvm::BasicBlock* slow_ok = b_.GetInsertBlock();
  b_.CreateBr(join);

  b_.SetInsertPoint(join);
  llvm::PHINode* v = b_.CreatePHI(i32_, 4);
  v->addIncoming(v_fast, fast);
  if (same) v->addIncoming(v_same, same);
  if (kseg) v->addIncoming(v_kseg, kseg);
  v->addIncoming(v_slow, slow_ok);
  reuse_.Join(base, false, hit, fast, same, old);
  return v;
}

void Lifter::Store(llvm::Value* va, llvm::Value* value, unsigned size, uint32_t off, bool ds, int base,
                   llvm::Value* mask) {
  llvm::Value* ea = va;
  if (mask) va = b_.CreateAnd(ea, Imm(~3u));  // a word part: its aligned word is what is probed
  // The host-side access: a plain store, or a word part merged into the word there.
  const auto access = [&](llvm::Value* p) {
    if (!mask) return StoreHost(p, value, size);
    llvm::Value* w = b_.CreateAlignedLoad(i32_, p, llvm::MaybeAlign(4));
    b_.CreateAlignedStore(b_.CreateOr(b_.CreateAnd(w, b_.CreateNot(mask)), value), p, llvm::MaybeAlign(4));
  };
  reuse_.StartAccess(off);
  auto* join = llvm::BasicBlock::Create(ctx_, "st_join", fn_);
  PageReuse::Hint old;
  llvm::BasicBlock* same = reuse_.Try(base, true, va, size, join, access, &old);
  llvm::Value* entry = TlbEntry(va);
  auto* fast = llvm::BasicBlock::Create(ctx_, "st_hit", fn_);
  auto* slow = llvm::BasicBlock::Create(ctx_, "st_miss", fn_);
  Likely(ProbeHit(entry, va, size, kOffTagWrite), fast, slow);

  b_.SetInsertPoint(fast);
  PageReuse::Hint hit{b_.CreateAnd(va, Imm(runtime::kPageMask)), Addend(entry)};
  reuse_.Remember(hit);
  access(HostPtr(hit.addend, va));
  b_.CreateBr(join);

  b_.SetInsertPoint(slow);
  UnmappedPath(va, size, unmapped_write_, join, access);
  if (mask) {
    RuntimeStore(code::kStorePartSymbol, {cpu_, ea, value, mask, Pc(off), b_.getInt32(ds)}, off, ds);
  } else {
    RuntimeStore(code::kStoreSymbol, {cpu_, va, b_.getInt32(size), value, Pc(off), b_.getInt32(ds)}, off, ds);
  }
  b_.CreateBr(join);
  b_.SetInsertPoint(join);
  reuse_.Join(base, true, hit, fast, same, old);
}

// LL: its own probe (no page hints or kseg0 table: LL is rare next to loads). On a hit LLAddr comes from the
// entry's physical page (CpuState::stlb_paddr), as runtime::Link takes it; on a miss the runtime's load
// path runs the handler's LoadLinked.
llvm::Value* Lifter::LoadLinked(llvm::Value* va, uint32_t off, bool ds) {
  auto* fast = llvm::BasicBlock::Create(ctx_, "ll_hit", fn_);
  auto* slow = llvm::BasicBlock::Create(ctx_, "ll_miss", fn_);
  auto* join = llvm::BasicBlock::Create(ctx_, "ll_join", fn_);
  llvm::Value* entry = TlbEntry(va);
  Likely(ProbeHit(entry, va, 4, kOffTagRead), fast, slow);

  b_.SetInsertPoint(fast);
  llvm::Value* v_fast = LoadHost(HostPtr(Addend(entry), va), 4, false);
  llvm::Value* idx = b_.CreateZExt(
      b_.CreateAnd(b_.CreateLShr(va, runtime::kPageBits), Imm(runtime::SoftTlb::kEntries - 1)), i64_);
  llvm::Value* pages = b_.CreateLoad(ptr_, Field(kOffStlbPaddr));
  llvm::Value* page = b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, pages, idx));
  llvm::Value* paddr = b_.CreateOr(page, b_.CreateAnd(va, Imm(~runtime::kPageMask)));
  b_.CreateStore(b_.CreateLShr(paddr, 4), Field(kOffLlAddr));
  b_.CreateStore(b_.getInt8(1), Field(kOffLlBit));
  b_.CreateBr(join);

  b_.SetInsertPoint(slow);
  llvm::Value* v_slow = RuntimeLoad(va, 4 | code::kLoadLinked, off, ds);
  llvm::BasicBlock* slow_ok = b_.GetInsertBlock();
  b_.CreateBr(join);

  b_.SetInsertPoint(join);
  llvm::PHINode* v = b_.CreatePHI(i32_, 2);
  v->addIncoming(v_fast, fast);
  v->addIncoming(v_slow, slow_ok);
  return v;
}

// SC: an aligned address with the LL bit clear gives 0 without an access; with it set, the store through the
// soft TLB inline or the runtime's store path (which raises AdES for a misaligned address, before the LL
// bit is looked at, as the handler does) and 1.
llvm::Value* Lifter::StoreConditional(llvm::Value* va, llvm::Value* value, uint32_t off, bool ds) {
  auto* aligned = llvm::BasicBlock::Create(ctx_, "sc_aligned", fn_);
  auto* linked = llvm::BasicBlock::Create(ctx_, "sc_linked", fn_);
  auto* fast = llvm::BasicBlock::Create(ctx_, "sc_hit", fn_);
  auto* slow = llvm::BasicBlock::Create(ctx_, "sc_miss", fn_);
  auto* join = llvm::BasicBlock::Create(ctx_, "sc_join", fn_);
  Likely(b_.CreateICmpEQ(b_.CreateAnd(va, Imm(3)), Imm(0)), aligned, slow);
  b_.SetInsertPoint(aligned);
  llvm::BasicBlock* failed = b_.GetInsertBlock();
  Likely(b_.CreateICmpNE(b_.CreateLoad(i8_, Field(kOffLlBit)), b_.getInt8(0)), linked, join);

  b_.SetInsertPoint(linked);
  llvm::Value* entry = TlbEntry(va);
  Likely(ProbeHit(entry, va, 4, kOffTagWrite), fast, slow);
  b_.SetInsertPoint(fast);
  StoreHost(HostPtr(Addend(entry), va), value, 4);
  b_.CreateBr(join);

  b_.SetInsertPoint(slow);
  RuntimeStore(code::kStoreSymbol, {cpu_, va, b_.getInt32(4), value, Pc(off), b_.getInt32(ds)}, off, ds);
  llvm::BasicBlock* stored = b_.GetInsertBlock();
  b_.CreateBr(join);

  b_.SetInsertPoint(join);
  llvm::PHINode* result = b_.CreatePHI(i32_, 3);
  result->addIncoming(Imm(0), failed);
  result->addIncoming(Imm(1), fast);
  result->addIncoming(Imm(1), stored);
  return result;
}

// After a store that took the slow path: it may have rewritten translated code or raised an interrupt
// line, and the runtime then asks for an exit, taken at the next instruction boundary. The block's start
// counted all of its instructions, so the ones it leaves to the interpreter are taken off the count again.
// With exact budgets (-icount) the block runs to its end instead, as the interpreter runs it (its decoded
// copy, even when the store rewrote it; a dropped region is freed only after the slice): the next block's
// start sees the request and leaves, so interrupts are taken where the interpreter takes them.
void Lifter::ExitIfRequested(uint32_t off, bool ds) {
  if (options_.exact_budget) return;
  auto* stop = llvm::BasicBlock::Create(ctx_, "st_exit", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "st_go_on", fn_);
  Unlikely(b_.CreateICmpNE(b_.CreateLoad(i32_, Field(kOffExitRequest)), b_.getInt32(0)), stop, cont);
  b_.SetInsertPoint(stop);
  const uint32_t left = ds ? 0 : (cur_block_end_ - (off + 4)) / 4;
  if (left) Write(kVarCycles, b_.CreateSub(Cycles(), b_.getInt64(left)));
  ExitWith(ds ? SlotNextPc() : Pc(off + 4));
  b_.SetInsertPoint(cont);
}

llvm::Value* Lifter::Ea(const DecodedInsn& d) {
  return b_.CreateAdd(Gpr(d.rs), b_.getInt32(static_cast<uint32_t>(d.simm())));
}

}  // namespace strobe::jit::detail
