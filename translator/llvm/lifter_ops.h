// SPDX-License-Identifier: MIT
// The lifter as an emitter for the handlers written once (mips/semantics/common.h): the same handler the
// interpreter runs on numbers is instantiated here with llvm::Value*, and emits the operations as IR. Only
// lifter.cpp includes this (it is part of the Lifter class).
#pragma once

#include <type_traits>

#include "runtime/cp0_plain.h"
#include "translator/llvm/lifter_impl.h"

namespace strobe::jit::detail {

class Lifter::Ops {
 public:
  struct Pc {};  // lifted code has no host pc: a handler over an emitter must not compute with one
  using Value = llvm::Value*;

  // outcome: where a branch's handler records its decision (null for other instructions).
  Ops(Lifter& l, uint32_t off, bool ds, BranchOutcome* outcome = nullptr)
      : l_(l), b_(l.b_), off_(off), ds_(ds), outcome_(outcome) {}

  llvm::Value* Gpr(unsigned r) {
    llvm::Value* v = l_.Gpr(r);
    if (reads_ < kReads) read_[reads_++] = {v, r};
    return v;
  }
  // A register stepped by a constant (ADDIU sp, sp, -32) keeps the page hints made through it: an access
  // through it still compares its page with the hint's before using it.
  void SetGpr(unsigned r, llvm::Value* v) {
    const bool stepped = v == stepped_value_ && r == stepped_reg_;
    const uint32_t version = l_.reuse_.Version(r);
    l_.SetGpr(r, v);
    if (stepped) l_.reuse_.SetVersion(r, version);
  }
  llvm::Value* Hi() { return l_.Hi(); }
  llvm::Value* Lo() { return l_.Lo(); }
  void SetHi(llvm::Value* v) { l_.SetHi(v); }
  void SetLo(llvm::Value* v) { l_.SetLo(v); }
  llvm::Value* HiLo() { return l_.HiLo(); }
  void SetHiLo(llvm::Value* w) { l_.SetHiLo(w); }

  llvm::Value* Imm(uint32_t v) { return b_.getInt32(v); }
  llvm::Value* Add(llvm::Value* a, llvm::Value* b) {
    llvm::Value* sum = b_.CreateAdd(a, b);
    if (llvm::isa<llvm::ConstantInt>(b))
      for (unsigned i = 0; i < reads_; ++i)
        if (read_[i].value == a) {
          stepped_value_ = sum;
          stepped_reg_ = read_[i].reg;
        }
    return sum;
  }
  llvm::Value* Sub(llvm::Value* a, llvm::Value* b) { return b_.CreateSub(a, b); }
  llvm::Value* Mul(llvm::Value* a, llvm::Value* b) { return b_.CreateMul(a, b); }
  llvm::Value* And(llvm::Value* a, llvm::Value* b) { return b_.CreateAnd(a, b); }
  llvm::Value* Or(llvm::Value* a, llvm::Value* b) { return b_.CreateOr(a, b); }
  llvm::Value* Xor(llvm::Value* a, llvm::Value* b) { return b_.CreateXor(a, b); }
  llvm::Value* Not(llvm::Value* a) { return b_.CreateNot(a); }
  llvm::Value* Shl(llvm::Value* a, llvm::Value* n) { return b_.CreateShl(a, n); }
  llvm::Value* Lshr(llvm::Value* a, llvm::Value* n) { return b_.CreateLShr(a, n); }
  llvm::Value* Ashr(llvm::Value* a, llvm::Value* n) { return b_.CreateAShr(a, n); }
  llvm::Value* Rotr(llvm::Value* a, llvm::Value* n) { return l_.Rotr(a, n); }
  llvm::Value* SDiv(llvm::Value* a, llvm::Value* b) { return b_.CreateSDiv(a, b); }
  llvm::Value* SRem(llvm::Value* a, llvm::Value* b) { return b_.CreateSRem(a, b); }
  llvm::Value* UDiv(llvm::Value* a, llvm::Value* b) { return b_.CreateUDiv(a, b); }
  llvm::Value* URem(llvm::Value* a, llvm::Value* b) { return b_.CreateURem(a, b); }
  llvm::Value* Clz(llvm::Value* a) { return l_.Clz(a); }
  llvm::Value* SExt8(llvm::Value* a) { return b_.CreateSExt(b_.CreateTrunc(a, l_.i8_), l_.i32_); }
  llvm::Value* SExt16(llvm::Value* a) { return b_.CreateSExt(b_.CreateTrunc(a, l_.i16_), l_.i32_); }

  llvm::Value* Eq(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpEQ(a, b); }
  llvm::Value* Ne(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpNE(a, b); }
  llvm::Value* Slt(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpSLT(a, b); }
  llvm::Value* Ult(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpULT(a, b); }
  llvm::Value* Sle(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpSLE(a, b); }
  llvm::Value* Sgt(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpSGT(a, b); }
  llvm::Value* Sge(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpSGE(a, b); }
  llvm::Value* Uge(llvm::Value* a, llvm::Value* b) { return b_.CreateICmpUGE(a, b); }
  llvm::Value* AnyOf(llvm::Value* a, llvm::Value* b) { return b_.CreateOr(a, b); }
  llvm::Value* AllOf(llvm::Value* a, llvm::Value* b) { return b_.CreateAnd(a, b); }
  llvm::Value* Bool32(llvm::Value* b) { return l_.Bool32(b); }
  llvm::Value* Select(llvm::Value* c, llvm::Value* t, llvm::Value* f) { return b_.CreateSelect(c, t, f); }

  llvm::Value* Wide(llvm::Value* v, bool is_signed) {
    return is_signed ? b_.CreateSExt(v, l_.i64_) : b_.CreateZExt(v, l_.i64_);
  }
  llvm::Value* Add64(llvm::Value* a, llvm::Value* b) { return b_.CreateAdd(a, b); }
  llvm::Value* Sub64(llvm::Value* a, llvm::Value* b) { return b_.CreateSub(a, b); }
  llvm::Value* Mul64(llvm::Value* a, llvm::Value* b) { return b_.CreateMul(a, b); }

  // Soft TLB probe inline, the runtime on a miss (lifter_memory.cpp); a fault leaves the region.
  template <typename T>
  bool Load(llvm::Value* ea, unsigned base, llvm::Value** v) {
    *v = l_.Load(ea, sizeof(T), std::is_signed_v<T>, off_, ds_, static_cast<int>(base));
    return true;
  }
  template <typename T>
  bool Store(llvm::Value* ea, llvm::Value* v, unsigned base) {
    l_.Store(ea, v, sizeof(T), off_, ds_, static_cast<int>(base));
    return true;
  }

  bool LoadWordAround(llvm::Value* ea, unsigned base, llvm::Value** w) {
    *w = l_.Load(b_.CreateAnd(ea, Imm(~3u)), 4, false, off_, ds_, static_cast<int>(base), ea);
    return true;
  }
  bool StoreWordPart(llvm::Value* ea, llvm::Value* data, llvm::Value* mask, unsigned base) {
    l_.Store(ea, data, 4, off_, ds_, static_cast<int>(base), mask);
    return true;
  }

  bool LoadLinked(llvm::Value* ea, unsigned /*base*/, llvm::Value** v) {
    *v = l_.LoadLinked(ea, off_, ds_);
    return true;
  }
  bool StoreConditional(llvm::Value* ea, llvm::Value* v, unsigned /*base*/, llvm::Value** ok) {
    *ok = l_.StoreConditional(ea, v, off_, ds_);
    return true;
  }
  llvm::Value* Status() { return b_.CreateLoad(l_.i32_, l_.Field(kOffStatus)); }
  void MaskInterrupts() {
    llvm::Value* status = l_.Field(kOffStatus);
    llvm::Value* s = b_.CreateLoad(l_.i32_, status);
    b_.CreateStore(b_.CreateAnd(s, Imm(~runtime::st::IE)), status);
    llvm::Value* request = l_.Field(kOffExitRequest);
    llvm::Value* irq_check =
        b_.CreateAnd(b_.CreateLShr(s, runtime::exitreq::kBevToIrqCheck), Imm(runtime::exitreq::kIrqCheck));
    b_.CreateStore(b_.CreateOr(b_.CreateLoad(l_.i32_, request), irq_check), request);
  }
  // Plain registers only (the others run the handler: Lifter::EmitShared).
  llvm::Value* ReadCp0(unsigned reg, unsigned sel) {
    return b_.CreateLoad(l_.i32_, l_.Field(runtime::PlainCp0(reg, sel).offset));
  }
  void WriteCp0(unsigned reg, unsigned sel, llvm::Value* v) {
    const runtime::PlainCp0Field f = runtime::PlainCp0(reg, sel);
    llvm::Value* field = l_.Field(f.offset);
    llvm::Value* nv = b_.CreateAnd(v, Imm(f.write_mask));
    if (f.keep) nv = b_.CreateOr(nv, b_.CreateAnd(b_.CreateLoad(l_.i32_, field), Imm(f.keep)));
    b_.CreateStore(nv, field);
  }

  llvm::Value* Address(uint32_t delta) { return l_.Pc(off_ + delta); }
  // A branch's decision, for the lifter's exits: a PC-relative target is an offset known now.
  void Branch(llvm::Value* taken, int32_t disp) {
    outcome_->taken = taken;
    outcome_->static_target = Signed(off_) + 4 + disp;
  }
  void JumpWithin(uint32_t low28) {
    outcome_->taken = b_.getTrue();
    outcome_->dynamic_target = b_.CreateOr(b_.CreateAnd(l_.Pc(off_ + 4), Imm(0xF0000000u)), Imm(low28));
  }
  void JumpTo(llvm::Value* target) {
    outcome_->taken = b_.getTrue();
    outcome_->dynamic_target = target;
  }

  // The exception's path leaves the region; emission goes on where it was not raised.
  bool RaiseIf(llvm::Value* cond, runtime::ExcCode code) {
    l_.RaiseIf(cond, code, off_, ds_);
    return false;
  }

 private:
  Lifter& l_;
  llvm::IRBuilder<>& b_;
  uint32_t off_;
  bool ds_;
  BranchOutcome* outcome_;
  struct Read {
    llvm::Value* value;
    unsigned reg;
  };
  static constexpr unsigned kReads = 4;
  Read read_[kReads] = {};
  unsigned reads_ = 0;
  llvm::Value* stepped_value_ = nullptr;
  unsigned stepped_reg_ = 0;
};

}  // namespace strobe::jit::detail
