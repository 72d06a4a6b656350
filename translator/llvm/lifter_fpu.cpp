// SPDX-License-Identifier: MIT
// The FPU in lifted code (see lifter_impl.h), as the handlers of semantics/fpu_*.h would run it.
//
// Moves, loads and stores copy bits exactly as the handlers do: a single is the low word of fpr[r]; a
// double is fpr[r] with Status.FR=1 and the low words of fpr[r & ~1] and fpr[r | 1] with FR=0, chosen at
// run time (FprDwordWords). LDC1/SDC1 and the indexed forms probe the soft TLB for the aligned doubleword
// and run the handler on a miss (misaligned addresses miss too, and the handler raises).
//
// Arithmetic, conversions and compares compute on the host with LLVM's ordinary FP operations, that is in
// the host's default environment: round to nearest, no flush to zero, exceptions masked (the handlers set
// MXCSR for themselves and restore it, so translated code always finds the default). The inline result is
// taken only when it is provably the handler's, and the handler runs instead (from the unchanged operands)
// when any of these holds:
//  - Status.CU1 is clear, or a 64-bit operand's register is odd with FR=0 (the handler raises);
//  - the operation rounds and FCSR.RM is not round-to-nearest;
//  - an operand or the result is a NaN or an infinity, or the result lies at or below the smallest normal
//    (a zero only when exact): these are where Invalid, Overflow, Underflow, Divide-by-zero, default NaNs
//    and FS=1 flushing (decided on the result, fpu_core.h: Flushes) come in;
//  - the result is inexact and the Inexact enable is set (the handler raises the FP exception).
// What is left can only be exact or inexact, with the result SSE gives under round-to-nearest, which is
// what the handler computes too. Inexactness comes from error-free transforms, not from MXCSR: on this
// project's machine (x86-64 VM, 2026-12) LDMXCSR (flags clear), an inexact MULSD and STMXCSR took about
// 200 ns, against 13 ns when the flag was already set (an assist, which the handlers pay too). Sums and
// differences use TwoSum; single-precision products, quotients and roots are checked exactly in double
// precision, double-precision ones with FMA (a product's error, a quotient's or root's remainder) where the
// operands keep those exact (far from underflow). On a host without FMA those three are left to the
// handler. The FCSR then gets what Finish would write: Cause = I or nothing, Flags |= I.
#include "translator/llvm/lifter_impl.h"

#include <llvm/TargetParser/Host.h>

#include <cmath>

#include "translator/code/abi.h"
// For the FCSR layout and the condition code bits. (Its Env::Exceptions draws GCC's -Wextra warning about
// an enumerator against 0 in a conditional, as in the interpreter; harmless.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wextra"
#include "translator/mips/semantics/fpu_core.h"
#pragma GCC diagnostic pop

namespace strobe::jit::detail {

namespace {

namespace fpu = mips::sem::fpu;

constexpr uint32_t kCauseMask = 0x3Fu << fpu::kCauseShift;
constexpr uint32_t kInexactCauseAndFlag =
    (fpu::kInexact << fpu::kCauseShift) | (fpu::kInexact << fpu::kFlagsShift);
constexpr uint32_t kRoundingMode = 3;
constexpr uint32_t kInexactEnable = fpu::kInexact << fpu::kEnablesShift;

// Does the JIT's target (the host, JITTargetMachineBuilder::detectHost) have FMA? llvm.fma would otherwise
// become a call to libm.
bool HostHasFma() {
  static const bool fma = [] {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    auto it = features.find("fma");
    return it != features.end() && it->second;
  }();
  return fma;
}

// A result computed inline: ok (i1) says it is the handler's result, and inexact (i1) whether rounding
// changed it; both mean something only together (when ok is false the handler decides everything).
struct Computed {
  llvm::Value* value;
  llvm::Value* ok;
  llvm::Value* inexact;
};

// IR for the checks, on a float or double value.
class FpMath {
 public:
  explicit FpMath(llvm::IRBuilder<>& b) : b_(b) {}

  llvm::Value* Const(llvm::Type* ty, double v) { return llvm::ConstantFP::get(ty, v); }
  llvm::Value* Abs(llvm::Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }
  llvm::Value* Finite(llvm::Value* x) {  // neither infinite nor NaN
    return b_.CreateFCmpOLT(Abs(x), Const(x->getType(), INFINITY));
  }
  // Above the smallest normal magnitude: never tiny, so FS=1 does not flush it either.
  llvm::Value* AboveMinNormal(llvm::Value* x) {
    const bool single = x->getType()->isFloatTy();
    return b_.CreateFCmpOGT(Abs(x), Const(x->getType(), single ? 0x1p-126 : 0x1p-1022));
  }
  // Far enough from underflow that a double's product error or remainder is a multiple of the smallest
  // subnormal (so FMA computes it exactly and it is zero only when there is none).
  llvm::Value* FarFromUnderflow(llvm::Value* x) {
    return b_.CreateFCmpOGE(Abs(x), Const(x->getType(), 0x1p-969));
  }
  llvm::Value* IsZero(llvm::Value* x) { return b_.CreateFCmpOEQ(x, Const(x->getType(), 0.0)); }
  llvm::Value* Wide(llvm::Value* x) {
    return x->getType()->isDoubleTy() ? x : b_.CreateFPExt(x, b_.getDoubleTy());
  }
  llvm::Value* Fma(llvm::Value* a, llvm::Value* b, llvm::Value* c) {
    return b_.CreateIntrinsic(llvm::Intrinsic::fma, {a->getType()}, {a, b, c});
  }
  // A finite result above the smallest normal magnitude, or an exact zero.
  llvm::Value* Settled(llvm::Value* r, llvm::Value* exact) {
    return b_.CreateAnd(Finite(r), b_.CreateOr(AboveMinNormal(r), b_.CreateAnd(IsZero(r), exact)));
  }

  // a + b (or a - b): TwoSum gives the rounding error exactly unless something overflows, which leaves
  // it non-finite. A zero sum of finite operands is always exact.
  Computed AddSub(llvm::Value* a, llvm::Value* b, bool sub) {
    llvm::Value* r = sub ? b_.CreateFSub(a, b) : b_.CreateFAdd(a, b);
    llvm::Value* addend = sub ? b_.CreateFNeg(b) : b;
    llvm::Value* bb = b_.CreateFSub(r, a);
    llvm::Value* err = b_.CreateFAdd(b_.CreateFSub(a, b_.CreateFSub(r, bb)), b_.CreateFSub(addend, bb));
    llvm::Value* exact = b_.CreateFCmpOEQ(err, Const(r->getType(), 0.0));
    return {r, b_.CreateAnd(Finite(err), Settled(r, exact)), b_.CreateNot(exact)};
  }
  // a * b. Single: the double product is exact. Double: FMA gives the product's error; a zero product is
  // exact only with a zero operand (an underflowed one has error zero as far as FMA can tell).
  Computed Mul(llvm::Value* a, llvm::Value* b) {
    llvm::Value* r = b_.CreateFMul(a, b);
    if (r->getType()->isFloatTy()) {
      llvm::Value* exact = b_.CreateFCmpOEQ(Wide(r), b_.CreateFMul(Wide(a), Wide(b)));
      return {r, Settled(r, exact), b_.CreateNot(exact)};
    }
    llvm::Value* err = Fma(a, b, b_.CreateFNeg(r));
    llvm::Value* zero_operand = b_.CreateOr(IsZero(a), IsZero(b));
    return {r, b_.CreateAnd(Finite(r), b_.CreateOr(FarFromUnderflow(r), zero_operand)),
            b_.CreateFCmpONE(err, Const(r->getType(), 0.0))};
  }
  // a / b. Single: q * b is exact in double. Double: the remainder a - q * b by FMA, exact while a is far
  // from underflow and q normal; 0 / b is exact for every finite non-zero b (and infinite b).
  Computed Div(llvm::Value* a, llvm::Value* b) {
    llvm::Value* q = b_.CreateFDiv(a, b);
    if (q->getType()->isFloatTy()) {
      llvm::Value* exact = b_.CreateFCmpOEQ(b_.CreateFMul(Wide(q), Wide(b)), Wide(a));
      return {q, Settled(q, exact), b_.CreateNot(exact)};
    }
    llvm::Value* rem = Fma(b_.CreateFNeg(q), b, a);
    llvm::Value* in_range = b_.CreateOr(b_.CreateAnd(FarFromUnderflow(a), AboveMinNormal(q)), IsZero(a));
    return {q, b_.CreateAnd(Finite(q), in_range), b_.CreateFCmpONE(rem, Const(q->getType(), 0.0))};
  }
  // sqrt(a): the square of the root, exact in double for a single; for a double the remainder by FMA.
  Computed Sqrt(llvm::Value* a) {
    llvm::Value* s = b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
    if (s->getType()->isFloatTy()) {
      llvm::Value* exact = b_.CreateFCmpOEQ(b_.CreateFMul(Wide(s), Wide(s)), Wide(a));
      return {s, Settled(s, exact), b_.CreateNot(exact)};
    }
    llvm::Value* rem = Fma(b_.CreateFNeg(s), s, a);
    llvm::Value* in_range = b_.CreateOr(FarFromUnderflow(a), IsZero(a));
    return {s, b_.CreateAnd(Finite(s), in_range), b_.CreateFCmpONE(rem, Const(s->getType(), 0.0))};
  }

 private:
  llvm::IRBuilder<>& b_;
};

bool IsCompare(Opcode op) {
  static_assert(static_cast<int>(Opcode::C_NGT_S) - static_cast<int>(Opcode::C_F_S) == 15);
  static_assert(static_cast<int>(Opcode::C_NGT_D) - static_cast<int>(Opcode::C_F_D) == 15);
  return (op >= Opcode::C_F_S && op <= Opcode::C_NGT_S) || (op >= Opcode::C_F_D && op <= Opcode::C_NGT_D);
}

}  // namespace

// FPU instructions (rows flagged kCop1 that are not branches). Returns false if control left the function.
bool Lifter::EmitFpu(const DecodedInsn& d, uint32_t off, bool ds) {
  if (IsCompare(d.op)) {
    FpuCompare(d, off, ds);
    return true;
  }
  switch (d.op) {
    case Opcode::MFC1:
    case Opcode::MTC1:
    case Opcode::MOV_S:
    case Opcode::LWC1:
    case Opcode::SWC1:
    case Opcode::LWXC1:
    case Opcode::SWXC1: FpuWordMove(d, off, ds); return true;
    case Opcode::MFHC1:
    case Opcode::MTHC1:
    case Opcode::MOV_D:
    case Opcode::ABS_S:
    case Opcode::ABS_D:
    case Opcode::NEG_S:
    case Opcode::NEG_D:
    case Opcode::MOVF_S:
    case Opcode::MOVT_S:
    case Opcode::MOVF_D:
    case Opcode::MOVT_D:
    case Opcode::MOVZ_S:
    case Opcode::MOVN_S:
    case Opcode::MOVZ_D:
    case Opcode::MOVN_D:
    case Opcode::MOVF:
    case Opcode::MOVT: FpuMove(d, off, ds); return true;
    case Opcode::LDC1:
    case Opcode::SDC1:
    case Opcode::LDXC1:
    case Opcode::SDXC1: FpuDwordAccess(d, off, ds); return true;
    case Opcode::ADD_S:
    case Opcode::SUB_S:
    case Opcode::MUL_S:
    case Opcode::DIV_S:
    case Opcode::SQRT_S:
    case Opcode::MADD_S:
    case Opcode::MSUB_S:
    case Opcode::NMADD_S:
    case Opcode::NMSUB_S:
    case Opcode::ADD_D:
    case Opcode::SUB_D:
    case Opcode::CVT_D_S:
    case Opcode::CVT_S_D:
    case Opcode::CVT_D_W:
    case Opcode::CVT_S_W:
    case Opcode::TRUNC_W_S:
    case Opcode::TRUNC_W_D: FpuCompute(d, off, ds); return true;
    case Opcode::MUL_D:
    case Opcode::DIV_D:
    case Opcode::SQRT_D:
    case Opcode::MADD_D:
    case Opcode::MSUB_D:
    case Opcode::NMADD_D:
    case Opcode::NMSUB_D:
      if (!HostHasFma()) return Step(d, off, ds);
      FpuCompute(d, off, ds);
      return true;
    default: return Step(d, off, ds);  // CFC1/CTC1, RECIP, RSQRT, ROUND/CEIL/FLOOR, the L format ...
  }
}

// BC1F, BC1T and their likely forms: CU1 (the handler raises without it), then the condition code.
llvm::Value* Lifter::FpuBranchTaken(const DecodedInsn& d, uint32_t off) {
  RequireFpu(d, off, false);
  llvm::Value* fcsr = b_.CreateLoad(i32_, Field(kOffFcsr));
  llvm::Value* cc = b_.CreateAnd(b_.CreateLShr(fcsr, fpu::CcBit((d.raw >> 18) & 7)), Imm(1));
  return b_.CreateICmpEQ(cc, Imm((d.raw >> 16) & 1));  // the tf bit
}

// --- guest FPU state ---
// The words holding a double (fpu_core.h: Dword/SetDword): fpr[r] with FR=1, the low words of fpr[r & ~1]
// and fpr[r | 1] with FR=0. With pairs_checked, an odd r never gets here with FR=0.
std::pair<llvm::Value*, llvm::Value*> Lifter::FprDwordWords(unsigned r, llvm::Value* fr, bool pairs_checked) {
  llvm::Value* lo =
      (r & 1) && !pairs_checked ? b_.CreateSelect(fr, FprWord(r), FprWord(r & ~1u)) : FprWord(r);
  llvm::Value* hi = (r & 1) && pairs_checked
                        ? Field(kOffFpr + 8 * r + 4)
                        : b_.CreateSelect(fr, Field(kOffFpr + 8 * r + 4), FprWord(r | 1u));
  return {lo, hi};
}
// An operand as float or double (registers of 64-bit operands have passed the pair rule).
llvm::Value* Lifter::ReadFpr(unsigned r, bool wide, llvm::Value* fr) {
  if (!wide) return b_.CreateBitCast(b_.CreateLoad(i32_, FprWord(r)), b_.getFloatTy());
  auto [lo, hi] = FprDwordWords(r, fr, true);
  llvm::Value* bits = b_.CreateOr(b_.CreateZExt(b_.CreateLoad(i32_, lo), i64_),
                                  b_.CreateShl(b_.CreateZExt(b_.CreateLoad(i32_, hi), i64_), 32));
  return b_.CreateBitCast(bits, b_.getDoubleTy());
}
// A result (float, double, i32 or i64) into register r; 32-bit ones leave the high half alone (SetWord).
void Lifter::WriteFpr(unsigned r, bool wide, llvm::Value* fr, llvm::Value* v) {
  if (!v->getType()->isIntegerTy()) v = b_.CreateBitCast(v, wide ? i64_ : i32_);
  if (!wide) {
    b_.CreateStore(v, FprWord(r));
    return;
  }
  auto [lo, hi] = FprDwordWords(r, fr, true);
  b_.CreateStore(b_.CreateTrunc(v, i32_), lo);
  b_.CreateStore(b_.CreateTrunc(b_.CreateLShr(v, 32), i32_), hi);
}
// Status, loaded once per guest block: nothing inside a block changes its CU1 or FR (MTC0 to Status, EI and
// ERET end blocks, DI clears only IE; an exception leaves the region), so neither can change between two FP
// instructions of one block, and once CU1 was found set it needs no test again.
llvm::Value* Lifter::FpuStatus() {
  if (!fpu_.status || fpu_.block != cur_block_) {
    fpu_ = {cur_block_, b_.CreateLoad(i32_, Field(kOffStatus)), nullptr, false};
    fpu_.fr = b_.CreateICmpNE(b_.CreateAnd(fpu_.status, Imm(runtime::st::FR)), Imm(0));
  }
  return fpu_.status;
}
llvm::Value* Lifter::FpuFr() {
  FpuStatus();
  return fpu_.fr;
}
// i1: Status.CU1 is clear (false once known set in this block).
llvm::Value* Lifter::FpuUnusable() {
  FpuStatus();
  if (fpu_.usable) return b_.getFalse();
  return b_.CreateICmpEQ(b_.CreateAnd(fpu_.status, Imm(runtime::st::CU1)), Imm(0));
}

// Without Status.CU1 (or if `also`, an i1, holds) the handler runs instead and raises (Coprocessor
// Unusable, or whatever `also` stands for).
void Lifter::RequireFpu(const DecodedInsn& d, uint32_t off, bool ds, llvm::Value* also) {
  llvm::Value* unusable = FpuUnusable();
  if (also) unusable = b_.CreateOr(unusable, also);
  fpu_.usable = true;  // from here on in this block
  if (auto* known = llvm::dyn_cast<llvm::ConstantInt>(unusable); known && known->isZero()) return;
  auto* fault = llvm::BasicBlock::Create(ctx_, "fpu_unusable", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "fpu_usable", fn_);
  Unlikely(unusable, fault, cont);
  b_.SetInsertPoint(fault);
  auto* ty = llvm::FunctionType::get(i1_, {ptr_, ptr_, i32_, i32_}, false);
  llvm::Value* insn = InsnRef(d);
  CallRuntime(ty, code::kStepSymbol, {cpu_, insn, Pc(off), b_.getInt32(ds)}, SyncSet::kAll);
  ExitAfterException();
  b_.SetInsertPoint(cont);
}

// --- moves, loads and stores ---
// MFC1, MTC1, MOV.S, LWC1, SWC1, LWXC1 and SWXC1 move the low word of an FPR, which is the same word
// whatever Status.FR says (see semantics/fpu_core.h: Word/SetWord), so they are plain loads and stores of
// that word once Status.CU1 is known to be set. Without CU1 the handler runs instead and raises
// Coprocessor Unusable.
void Lifter::FpuWordMove(const DecodedInsn& d, uint32_t off, bool ds) {
  RequireFpu(d, off, ds);
  switch (d.op) {
    case Opcode::MFC1: SetGpr(d.rt, b_.CreateLoad(i32_, FprWord(d.rd))); break;
    case Opcode::MTC1: b_.CreateStore(Gpr(d.rt), FprWord(d.rd)); break;
    case Opcode::MOV_S: b_.CreateStore(b_.CreateLoad(i32_, FprWord(d.rd)), FprWord(d.sa)); break;
    case Opcode::LWC1: b_.CreateStore(Load(Ea(d), 4, false, off, ds, d.rs), FprWord(d.rt)); break;
    case Opcode::SWC1: Store(Ea(d), b_.CreateLoad(i32_, FprWord(d.rt)), 4, off, ds, d.rs); break;
    case Opcode::LWXC1:  // fd, index(base)
      b_.CreateStore(Load(b_.CreateAdd(Gpr(d.rs), Gpr(d.rt)), 4, false, off, ds, d.rs), FprWord(d.sa));
      break;
    default:  // SWXC1 fs, index(base)
      Store(b_.CreateAdd(Gpr(d.rs), Gpr(d.rt)), b_.CreateLoad(i32_, FprWord(d.rd)), 4, off, ds, d.rs);
      break;
  }
}

// Bit moves that leave the FCSR alone (fpu_arith.h: UnaryOp's ABS/NEG/MOV, the legacy non-ABS2008 model;
// fpu_move.h: MoveIf, MFHC1/MTHC1, MOVF/MOVT). MOV.D, ABS.D and NEG.D follow the pair rule (their 64-bit
// registers: Reserved Instruction when odd with FR=0); the conditional moves do not: with FR=0 an odd
// number names its pair, as for LDC1.
void Lifter::FpuMove(const DecodedInsn& d, uint32_t off, bool ds) {
  const bool pair_rule = d.op == Opcode::MOV_D || d.op == Opcode::ABS_D || d.op == Opcode::NEG_D;
  llvm::Value* fr = FpuFr();
  llvm::Value* odd_pair = pair_rule && ((d.sa | d.rd) & 1) ? b_.CreateNot(fr) : nullptr;
  RequireFpu(d, off, ds, odd_pair);
  auto cc_matches = [&] {  // the tf bit (16) against condition code (20:18)
    llvm::Value* fcsr = b_.CreateLoad(i32_, Field(kOffFcsr));
    llvm::Value* cc = b_.CreateAnd(b_.CreateLShr(fcsr, fpu::CcBit((d.raw >> 18) & 7)), Imm(1));
    return b_.CreateICmpEQ(cc, Imm((d.raw >> 16) & 1));
  };
  auto move_word = [&](llvm::Value* cond) {
    llvm::Value* v =
        b_.CreateSelect(cond, b_.CreateLoad(i32_, FprWord(d.rd)), b_.CreateLoad(i32_, FprWord(d.sa)));
    b_.CreateStore(v, FprWord(d.sa));
  };
  auto move_dword = [&](llvm::Value* cond, uint32_t sign_and, uint32_t sign_xor) {
    auto [src_lo, src_hi] = FprDwordWords(d.rd, fr, pair_rule);
    auto [dst_lo, dst_hi] = FprDwordWords(d.sa, fr, pair_rule);
    llvm::Value* lo = b_.CreateLoad(i32_, src_lo);
    llvm::Value* hi = b_.CreateXor(b_.CreateAnd(b_.CreateLoad(i32_, src_hi), Imm(sign_and)), Imm(sign_xor));
    if (cond) {
      lo = b_.CreateSelect(cond, lo, b_.CreateLoad(i32_, dst_lo));
      hi = b_.CreateSelect(cond, hi, b_.CreateLoad(i32_, dst_hi));
    }
    b_.CreateStore(lo, dst_lo);
    b_.CreateStore(hi, dst_hi);
  };
  auto gpr_zero = [&] { return b_.CreateICmpEQ(Gpr(d.rt), Imm(0)); };
  switch (d.op) {
    case Opcode::MFHC1: SetGpr(d.rt, b_.CreateLoad(i32_, FprDwordWords(d.rd, fr, false).second)); break;
    case Opcode::MTHC1: b_.CreateStore(Gpr(d.rt), FprDwordWords(d.rd, fr, false).second); break;
    case Opcode::ABS_S:
    case Opcode::NEG_S: {
      llvm::Value* v = b_.CreateLoad(i32_, FprWord(d.rd));
      v = d.op == Opcode::ABS_S ? b_.CreateAnd(v, Imm(0x7FFFFFFFu)) : b_.CreateXor(v, Imm(0x80000000u));
      b_.CreateStore(v, FprWord(d.sa));
      break;
    }
    case Opcode::MOV_D: move_dword(nullptr, ~0u, 0); break;
    case Opcode::ABS_D: move_dword(nullptr, 0x7FFFFFFFu, 0); break;
    case Opcode::NEG_D: move_dword(nullptr, ~0u, 0x80000000u); break;
    case Opcode::MOVF_S:
    case Opcode::MOVT_S: move_word(cc_matches()); break;
    case Opcode::MOVF_D:
    case Opcode::MOVT_D: move_dword(cc_matches(), ~0u, 0); break;
    case Opcode::MOVZ_S: move_word(gpr_zero()); break;
    case Opcode::MOVN_S: move_word(b_.CreateNot(gpr_zero())); break;
    case Opcode::MOVZ_D: move_dword(gpr_zero(), ~0u, 0); break;
    case Opcode::MOVN_D: move_dword(b_.CreateNot(gpr_zero()), ~0u, 0); break;
    default: SetGpr(d.rd, b_.CreateSelect(cc_matches(), Gpr(d.rs), Gpr(d.rd))); break;  // MOVF/MOVT
  }
}

// LDC1/SDC1 ft, offset(base) and LDXC1/SDXC1 (fd/fs, index(base); those follow the pair rule): the
// doubleword through the soft TLB like Load/Store, with page reuse; on a miss, a misaligned address or a
// page the fast path may not write, the handler does the whole instruction (fpu_move.h: LoadDword).
void Lifter::FpuDwordAccess(const DecodedInsn& d, uint32_t off, bool ds) {
  const bool store = d.op == Opcode::SDC1 || d.op == Opcode::SDXC1;
  const bool indexed = d.op == Opcode::LDXC1 || d.op == Opcode::SDXC1;
  const unsigned r = indexed ? (store ? d.rd : d.sa) : d.rt;
  llvm::Value* fr = FpuFr();
  RequireFpu(d, off, ds, indexed && (r & 1) ? b_.CreateNot(fr) : nullptr);
  llvm::Value* va = indexed ? b_.CreateAdd(Gpr(d.rs), Gpr(d.rt)) : Ea(d);
  auto [lo_word, hi_word] = FprDwordWords(r, fr, false);
  auto access = [&, lo_word = lo_word, hi_word = hi_word](llvm::Value* p) {
    if (store) {
      llvm::Value* v = b_.CreateOr(b_.CreateZExt(b_.CreateLoad(i32_, lo_word), i64_),
                                   b_.CreateShl(b_.CreateZExt(b_.CreateLoad(i32_, hi_word), i64_), 32));
      b_.CreateAlignedStore(v, p, llvm::MaybeAlign(8));
      return;
    }
    llvm::Value* v = b_.CreateAlignedLoad(i64_, p, llvm::MaybeAlign(8));
    b_.CreateStore(b_.CreateTrunc(v, i32_), lo_word);
    b_.CreateStore(b_.CreateTrunc(b_.CreateLShr(v, 32), i32_), hi_word);
  };

  reuse_.StartAccess(off);
  auto* join = llvm::BasicBlock::Create(ctx_, store ? "sd_join" : "ld_join", fn_);
  PageReuse::Hint old;
  llvm::BasicBlock* same = reuse_.Try(d.rs, store, va, 8, join, access, &old);
  llvm::Value* entry = TlbEntry(va);
  auto* fast = llvm::BasicBlock::Create(ctx_, store ? "sd_hit" : "ld_hit", fn_);
  auto* slow = llvm::BasicBlock::Create(ctx_, store ? "sd_miss" : "ld_miss", fn_);
  Likely(ProbeHit(entry, va, 8, store ? kOffTagWrite : kOffTagRead), fast, slow);

  b_.SetInsertPoint(fast);
  PageReuse::Hint hit{b_.CreateAnd(va, Imm(runtime::kPageMask)), Addend(entry)};
  reuse_.Remember(hit);
  access(HostPtr(hit.addend, va));
  b_.CreateBr(join);

  b_.SetInsertPoint(slow);
  FpuHandler(d, off, ds, true);
  if (store) {  // as Store's slow path: a copy-on-write break moves the page; code may have been hit
    reuse_.ForgetSites();
    ExitIfRequested(off, ds);
  }
  b_.CreateBr(join);
  b_.SetInsertPoint(join);
  reuse_.Join(d.rs, store, hit, fast, same, old);
}

// The handler on an FP instruction's slow path; an exception it raises leaves the region (and the exit
// writes every promoted value back). FP handlers write no guest register, the TLB or the mode, so page
// hints stay and promoted values need no reload (no phis for them where the paths join). The computing
// ones read no guest register and not the cycle count either; the memory forms (`memory`) read their base
// and index, written back for them, and may reach a device, so the cycle count is synced around them as
// around the loads' and stores' runtime calls.
void Lifter::FpuHandler(const DecodedInsn& d, uint32_t off, bool ds, bool memory) {
  auto* ty = llvm::FunctionType::get(i1_, {ptr_, ptr_, i32_, i32_}, false);
  llvm::Value* insn = InsnRef(d);
  if (memory) {
    SyncOut(SyncSet::kCycles);
    const bool indexed = d.op == Opcode::LDXC1 || d.op == Opcode::SDXC1;
    if (options_.promote) {
      for (unsigned r : {unsigned{d.rs}, indexed ? unsigned{d.rt} : 0u})
        if (r != 0) b_.CreateStore(Gpr(r), Field(VarOffset(r)));
    }
  }
  llvm::CallInst* ok =
      b_.CreateCall(ty, Callee(ty, code::kStepSymbol), {cpu_, insn, Pc(off), b_.getInt32(ds)});
  if (memory) SyncIn(ok, SyncSet::kCycles);
  auto* fault = llvm::BasicBlock::Create(ctx_, "fp_fault", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "fp_handled", fn_);
  Likely(ok, cont, fault);
  b_.SetInsertPoint(fault);
  ExitAfterException();
  b_.SetInsertPoint(cont);
}

// --- computation ---
// The handler when `slow` (i1) holds; `fast` otherwise, which writes the result and the FCSR.
void Lifter::FpuFastOrHandler(const DecodedInsn& d, uint32_t off, bool ds, llvm::Value* slow,
                              const std::function<void()>& fast) {
  auto* fast_bb = llvm::BasicBlock::Create(ctx_, "fp_fast", fn_);
  auto* slow_bb = llvm::BasicBlock::Create(ctx_, "fp_handler", fn_);
  auto* join = llvm::BasicBlock::Create(ctx_, "fp_join", fn_);
  Unlikely(slow, slow_bb, fast_bb);
  fpu_.usable = true;  // past this instruction: the handler raises without CU1
  b_.SetInsertPoint(slow_bb);
  FpuHandler(d, off, ds, false);
  b_.CreateBr(join);
  b_.SetInsertPoint(fast_bb);
  fast();
  b_.CreateBr(join);
  b_.SetInsertPoint(join);
}

// ADD/SUB/MUL/DIV/SQRT, the multiply-adds, CVT.D.S/S.D/D.W/S.W and TRUNC.W (fpu_arith.h).
void Lifter::FpuCompute(const DecodedInsn& d, uint32_t off, bool ds) {
  FpMath fm(b_);
  llvm::Value* fcsr = b_.CreateLoad(i32_, Field(kOffFcsr));
  llvm::Value* fr = FpuFr();
  llvm::Type* f32 = b_.getFloatTy();
  llvm::Type* f64 = b_.getDoubleTy();
  // Operands fs = rd, ft = rt, fr = rs; the result goes to fd = sa.
  bool src_wide = false, dst_wide = false, rounds = true;
  unsigned wide_regs = 0;  // the 64-bit operands' numbers or'ed: the pair rule (fpu_arith.h: Check)
  Computed c{};
  auto read = [&](unsigned r) { return ReadFpr(r, src_wide, fr); };
  switch (d.op) {
    case Opcode::ADD_S:
    case Opcode::ADD_D:
    case Opcode::SUB_S:
    case Opcode::SUB_D:
    case Opcode::MUL_S:
    case Opcode::MUL_D:
    case Opcode::DIV_S:
    case Opcode::DIV_D: {
      src_wide = dst_wide =
          d.op == Opcode::ADD_D || d.op == Opcode::SUB_D || d.op == Opcode::MUL_D || d.op == Opcode::DIV_D;
      wide_regs = src_wide ? d.sa | d.rd | d.rt : 0;
      llvm::Value* a = read(d.rd);
      llvm::Value* b = read(d.rt);
      if (d.op == Opcode::MUL_S || d.op == Opcode::MUL_D) {
        c = fm.Mul(a, b);
      } else if (d.op == Opcode::DIV_S || d.op == Opcode::DIV_D) {
        c = fm.Div(a, b);
      } else {
        c = fm.AddSub(a, b, d.op == Opcode::SUB_S || d.op == Opcode::SUB_D);
      }
      break;
    }
    case Opcode::SQRT_S:
    case Opcode::SQRT_D:
      src_wide = dst_wide = d.op == Opcode::SQRT_D;
      wide_regs = src_wide ? d.sa | d.rd : 0;
      c = fm.Sqrt(read(d.rd));
      break;
    case Opcode::MADD_S:
    case Opcode::MADD_D:
    case Opcode::MSUB_S:
    case Opcode::MSUB_D:
    case Opcode::NMADD_S:
    case Opcode::NMADD_D:
    case Opcode::NMSUB_S:
    case Opcode::NMSUB_D: {  // fd = +/-((fs * ft, rounded) +/- fr, rounded); the flags of both steps
      src_wide = dst_wide = d.op == Opcode::MADD_D || d.op == Opcode::MSUB_D || d.op == Opcode::NMADD_D ||
                            d.op == Opcode::NMSUB_D;
      wide_regs = src_wide ? d.sa | d.rd | d.rt | d.rs : 0;
      const bool sub = d.op == Opcode::MSUB_S || d.op == Opcode::MSUB_D || d.op == Opcode::NMSUB_S ||
                       d.op == Opcode::NMSUB_D;
      const bool negate = d.op == Opcode::NMADD_S || d.op == Opcode::NMADD_D || d.op == Opcode::NMSUB_S ||
                          d.op == Opcode::NMSUB_D;
      Computed product = fm.Mul(read(d.rd), read(d.rt));
      Computed sum = fm.AddSub(product.value, read(d.rs), sub);
      c = {negate ? b_.CreateFNeg(sum.value) : sum.value, b_.CreateAnd(product.ok, sum.ok),
           b_.CreateOr(product.inexact, sum.inexact)};
      break;
    }
    case Opcode::CVT_D_S: {  // exact; fcsr is not even passed to the host step (fpu_core.h: Widen)
      dst_wide = true;
      wide_regs = d.sa;
      rounds = false;
      llvm::Value* a = read(d.rd);
      c = {b_.CreateFPExt(a, f64), b_.CreateFCmpORD(a, a), b_.getFalse()};
      break;
    }
    case Opcode::CVT_S_D: {
      src_wide = true;
      wide_regs = d.rd;
      llvm::Value* a = read(d.rd);
      llvm::Value* r = b_.CreateFPTrunc(a, f32);
      llvm::Value* exact = b_.CreateFCmpOEQ(b_.CreateFPExt(r, f64), a);
      c = {r, fm.Settled(r, exact), b_.CreateNot(exact)};
      break;
    }
    case Opcode::CVT_D_W:  // exact
    case Opcode::CVT_S_W: {
      dst_wide = d.op == Opcode::CVT_D_W;
      wide_regs = dst_wide ? d.sa : 0;
      rounds = !dst_wide;
      llvm::Value* w = b_.CreateLoad(i32_, FprWord(d.rd));
      llvm::Value* r = b_.CreateSIToFP(w, dst_wide ? f64 : f32);
      llvm::Value* exact =
          dst_wide ? b_.getTrue() : b_.CreateFCmpOEQ(b_.CreateFPExt(r, f64), b_.CreateSIToFP(w, f64));
      c = {r, b_.getTrue(), b_.CreateNot(exact)};
      break;
    }
    default: {  // TRUNC.W.S/D: toward zero whatever RM says; out of range or NaN is Invalid (the handler)
      src_wide = d.op == Opcode::TRUNC_W_D;
      wide_regs = src_wide ? d.rd : 0;
      rounds = false;
      llvm::Value* a = read(d.rd);
      llvm::Value* in_range = b_.CreateFCmpOLT(fm.Abs(a), fm.Const(a->getType(), 0x1p31));
      llvm::Value* v = b_.CreateFreeze(b_.CreateFPToSI(a, i32_));  // poison out of range: only used in range
      llvm::Value* exact = b_.CreateFCmpOEQ(b_.CreateSIToFP(v, f64), fm.Wide(a));
      c = {v, in_range, b_.CreateNot(exact)};
      break;
    }
  }
  // Leave it to the handler when it raises (CU1, pairs), when the result is not settled, when the guest
  // rounds other than to nearest, or when an inexact result would raise.
  llvm::Value* slow = b_.CreateOr(FpuUnusable(), b_.CreateNot(c.ok));
  if (wide_regs & 1) slow = b_.CreateOr(slow, b_.CreateNot(fr));
  llvm::Value* mode_mask = b_.CreateSelect(c.inexact, Imm((rounds ? kRoundingMode : 0) | kInexactEnable),
                                           Imm(rounds ? kRoundingMode : 0));
  slow = b_.CreateOr(slow, b_.CreateICmpNE(b_.CreateAnd(fcsr, mode_mask), Imm(0)));
  FpuFastOrHandler(d, off, ds, slow, [&] {
    WriteFpr(d.sa, dst_wide, fr, c.value);
    llvm::Value* bits = b_.CreateSelect(c.inexact, Imm(kInexactCauseAndFlag), Imm(0));
    b_.CreateStore(b_.CreateOr(b_.CreateAnd(fcsr, Imm(~kCauseMask)), bits), Field(kOffFcsr));
  });
}

// C.cond.fmt fs, ft, cc: ordered operands raise nothing and compare by "equal" (cond bit 1) and "less
// than" (bit 2); a NaN operand is left to the handler (Invalid, and the unordered bit decides).
void Lifter::FpuCompare(const DecodedInsn& d, uint32_t off, bool ds) {
  const bool wide = d.op >= Opcode::C_F_D && d.op <= Opcode::C_NGT_D;
  const unsigned cond =
      static_cast<unsigned>(d.op) - static_cast<unsigned>(wide ? Opcode::C_F_D : Opcode::C_F_S);
  llvm::Value* fcsr = b_.CreateLoad(i32_, Field(kOffFcsr));
  llvm::Value* fr = FpuFr();
  llvm::Value* a = ReadFpr(d.rd, wide, fr);
  llvm::Value* b = ReadFpr(d.rt, wide, fr);
  llvm::Value* result;
  switch (cond & 6) {
    case 0: result = b_.getFalse(); break;
    case 2: result = b_.CreateFCmpOEQ(a, b); break;
    case 4: result = b_.CreateFCmpOLT(a, b); break;
    default: result = b_.CreateFCmpOLE(a, b); break;
  }
  llvm::Value* slow = b_.CreateOr(FpuUnusable(), b_.CreateFCmpUNO(a, b));
  if (wide && ((d.rd | d.rt) & 1)) slow = b_.CreateOr(slow, b_.CreateNot(fr));
  const unsigned bit = fpu::CcBit((d.raw >> 8) & 7);
  FpuFastOrHandler(d, off, ds, slow, [&] {
    llvm::Value* kept = b_.CreateAnd(fcsr, Imm(~(kCauseMask | (1u << bit))));
    b_.CreateStore(b_.CreateOr(kept, b_.CreateShl(Bool32(result), bit)), Field(kOffFcsr));
  });
}

}  // namespace strobe::jit::detail
