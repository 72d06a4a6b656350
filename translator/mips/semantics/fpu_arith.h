// SPDX-License-Identifier: MIT
// FPU computation (MIPS32 Vol. II, COP1 and COP1X): arithmetic, square root and reciprocals, the
// multiply-adds, conversions and rounding to integers, and the compares. Formats: S and D, W and L as
// conversion sources/results; L needs FR=1 (QEMU: Reserved Instruction otherwise), D needs even register
// numbers with FR=0. Paired single and MIPS-3D are not in the 24Kf: they match no row (Reserved
// Instruction). Operand fields: ft = rt, fs = rd, fd = sa, fr = rs (COP1X), as in DecodedInsn.
#pragma once

#include "translator/mips/semantics/fpu_core.h"

namespace strobe::mips::sem {

namespace fpu::detail {
template <class F>
inline typename F::Bits Read(const CpuState& c, unsigned r) {
  if constexpr (sizeof(typename F::Bits) == 4) {
    return Word(c, r);
  } else {
    return Dword(c, r);
  }
}
template <class F>
inline void Write(CpuState& c, unsigned r, typename F::Bits v) {
  if constexpr (sizeof(typename F::Bits) == 4) {
    SetWord(c, r, v);
  } else {
    SetDword(c, r, v);
  }
}
template <class F>
inline constexpr bool kWide = sizeof(typename F::Bits) == 8;

// CU1, then the register-pair rule for the 64-bit operands (`wide`: their register numbers or'ed), or
// FR=1 outright for the L format (`needs_fr`).
inline bool Check(CpuState& c, unsigned wide, bool needs_fr = false) {
  if (!Usable(c)) return runtime::RaiseCpU(c, 1);
  if (needs_fr ? !Fr(c) : !PairsOk(c, wide)) return runtime::Raise(c, ExcCode::RI);
  return true;
}
// Finish the operation and, unless an enabled exception was raised, write the result.
template <class F>
inline bool Deliver(CpuState& c, unsigned fd, Result<F> r) {
  if (!Finish(c, r.exc)) return false;
  Write<F>(c, fd, r.value);
  return true;
}

template <class F>
inline bool ArithOp(CpuState& c, const DecodedInsn& d, Arith op) {
  if (!Check(c, kWide<F> ? (d.sa | d.rd | d.rt) : 0)) return false;
  return Deliver<F>(c, d.sa, Binary<F>(c.fpu.fcsr, op, Read<F>(c, d.rd), Read<F>(c, d.rt)));
}
enum class Unary { kSqrt, kAbs, kNeg, kMov, kRecip, kRsqrt };
template <class F>
inline bool UnaryOp(CpuState& c, const DecodedInsn& d, Unary op) {
  // All follow the pair rule, RECIP.D and RSQRT.D included (QEMU checks only the registers for them).
  if (!Check(c, kWide<F> ? (d.sa | d.rd) : 0)) return false;
  const typename F::Bits a = Read<F>(c, d.rd);
  const uint32_t fcsr = c.fpu.fcsr;
  const typename F::Bits one = FromHost<F>(1.0);
  switch (op) {
    // ABS, NEG and MOV are bit operations that leave FCSR alone (QEMU's legacy, non-ABS2008 model).
    case Unary::kAbs: Write<F>(c, d.sa, a & ~F::kSign); return true;
    case Unary::kNeg: Write<F>(c, d.sa, a ^ F::kSign); return true;
    case Unary::kMov: Write<F>(c, d.sa, a); return true;
    case Unary::kSqrt: return Deliver<F>(c, d.sa, SquareRoot<F>(fcsr, a));
    case Unary::kRecip: return Deliver<F>(c, d.sa, Binary<F>(fcsr, Arith::kDiv, one, a));
    default: {  // RSQRT: 1 / sqrt(x), rounded twice as QEMU does
      Result<F> root = SquareRoot<F>(fcsr, a);
      return Deliver<F>(c, d.sa, Then(root, Binary<F>(fcsr, Arith::kDiv, one, root.value)));
    }
  }
}
// MADD/MSUB/NMADD/NMSUB fd, fr, fs, ft: fs * ft, rounded, then +/- fr, rounded (pre-Release 6: unfused);
// the N forms negate the result, a NaN included.
template <class F>
inline bool MultiplyAdd(CpuState& c, const DecodedInsn& d, bool subtract, bool negate) {
  if (!Check(c, kWide<F> ? (d.sa | d.rd | d.rt | d.rs) : 0)) return false;
  const uint32_t fcsr = c.fpu.fcsr;
  Result<F> product = Binary<F>(fcsr, Arith::kMul, Read<F>(c, d.rd), Read<F>(c, d.rt));
  Result<F> sum =
      Then(product, Binary<F>(fcsr, subtract ? Arith::kSub : Arith::kAdd, product.value, Read<F>(c, d.rs)));
  if (negate) sum.value ^= F::kSign;
  return Deliver<F>(c, d.sa, sum);
}

// CVT.S.D / CVT.D.S
inline bool ConvertFloat(CpuState& c, const DecodedInsn& d, bool to_double) {
  if (to_double) {
    if (!Check(c, d.sa)) return false;
    return Deliver<Double>(c, d.sa, fpu::Widen(c.fpu.fcsr, Word(c, d.rd)));
  }
  if (!Check(c, d.rd)) return false;
  return Deliver<Single>(c, d.sa, fpu::Narrow(c.fpu.fcsr, Dword(c, d.rd)));
}
// CVT.S/D.W and CVT.S/D.L
template <class F>
inline bool ConvertFromInt(CpuState& c, const DecodedInsn& d, bool from_long) {
  if (!Check(c, kWide<F> ? d.sa : 0, from_long)) return false;
  const int64_t v = from_long ? static_cast<int64_t>(Dword(c, d.rd)) : static_cast<int32_t>(Word(c, d.rd));
  return Deliver<F>(c, d.sa, FromInt<F>(c.fpu.fcsr, v));
}
// CVT/ROUND/TRUNC/CEIL/FLOOR.W/L.fmt; rm < 0 means the FCSR rounding mode.
template <class F>
inline bool ConvertToInt(CpuState& c, const DecodedInsn& d, bool to_long, int rm) {
  if (!Check(c, kWide<F> ? d.rd : 0, to_long)) return false;
  const unsigned mode = rm < 0 ? (c.fpu.fcsr & 3) : static_cast<unsigned>(rm);
  if (to_long) {
    int64_t v;
    Result<F> r = ToInt<F>(mode, Read<F>(c, d.rd), &v);
    if (!Finish(c, r.exc)) return false;
    SetDword(c, d.sa, static_cast<uint64_t>(v));
    return true;
  }
  int32_t v;
  Result<F> r = ToInt<F>(mode, Read<F>(c, d.rd), &v);
  if (!Finish(c, r.exc)) return false;
  SetWord(c, d.sa, static_cast<uint32_t>(v));
  return true;
}
// C.cond.fmt fs, ft, cc: an enabled Invalid leaves the condition code unchanged.
template <class F>
inline bool CompareOp(CpuState& c, const DecodedInsn& d, unsigned cond) {
  if (!Check(c, kWide<F> ? (d.rd | d.rt) : 0)) return false;
  bool result;
  Result<F> r = Compare<F>(cond, Read<F>(c, d.rd), Read<F>(c, d.rt), &result);
  if (!Finish(c, r.exc)) return false;
  SetCond(c, (d.raw >> 8) & 7, result);
  return true;
}
}  // namespace fpu::detail

// --- arithmetic ---
// ADD.S fd, fs, ft
STROBE_SEM ADD_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Single>(c, d, fpu::Arith::kAdd);
}
// ADD.D fd, fs, ft
STROBE_SEM ADD_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Double>(c, d, fpu::Arith::kAdd);
}
// SUB.S fd, fs, ft
STROBE_SEM SUB_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Single>(c, d, fpu::Arith::kSub);
}
// SUB.D fd, fs, ft
STROBE_SEM SUB_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Double>(c, d, fpu::Arith::kSub);
}
// MUL.S fd, fs, ft
STROBE_SEM MUL_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Single>(c, d, fpu::Arith::kMul);
}
// MUL.D fd, fs, ft
STROBE_SEM MUL_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Double>(c, d, fpu::Arith::kMul);
}
// DIV.S fd, fs, ft
STROBE_SEM DIV_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Single>(c, d, fpu::Arith::kDiv);
}
// DIV.D fd, fs, ft
STROBE_SEM DIV_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ArithOp<fpu::Double>(c, d, fpu::Arith::kDiv);
}
// SQRT.S fd, fs
STROBE_SEM SQRT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Single>(c, d, fpu::detail::Unary::kSqrt);
}
// SQRT.D fd, fs
STROBE_SEM SQRT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Double>(c, d, fpu::detail::Unary::kSqrt);
}
// ABS.S fd, fs
STROBE_SEM ABS_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Single>(c, d, fpu::detail::Unary::kAbs);
}
// ABS.D fd, fs
STROBE_SEM ABS_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Double>(c, d, fpu::detail::Unary::kAbs);
}
// MOV.S fd, fs
STROBE_SEM MOV_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Single>(c, d, fpu::detail::Unary::kMov);
}
// MOV.D fd, fs
STROBE_SEM MOV_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Double>(c, d, fpu::detail::Unary::kMov);
}
// NEG.S fd, fs
STROBE_SEM NEG_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Single>(c, d, fpu::detail::Unary::kNeg);
}
// NEG.D fd, fs
STROBE_SEM NEG_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Double>(c, d, fpu::detail::Unary::kNeg);
}
// RECIP.S fd, fs
STROBE_SEM RECIP_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Single>(c, d, fpu::detail::Unary::kRecip);
}
// RECIP.D fd, fs
STROBE_SEM RECIP_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Double>(c, d, fpu::detail::Unary::kRecip);
}
// RSQRT.S fd, fs
STROBE_SEM RSQRT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Single>(c, d, fpu::detail::Unary::kRsqrt);
}
// RSQRT.D fd, fs
STROBE_SEM RSQRT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::UnaryOp<fpu::Double>(c, d, fpu::detail::Unary::kRsqrt);
}

// --- multiply-add (COP1X) ---
// MADD.S fd, fr, fs, ft
STROBE_SEM MADD_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Single>(c, d, false, false);
}
// MADD.D fd, fr, fs, ft
STROBE_SEM MADD_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Double>(c, d, false, false);
}
// MSUB.S fd, fr, fs, ft
STROBE_SEM MSUB_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Single>(c, d, true, false);
}
// MSUB.D fd, fr, fs, ft
STROBE_SEM MSUB_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Double>(c, d, true, false);
}
// NMADD.S fd, fr, fs, ft
STROBE_SEM NMADD_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Single>(c, d, false, true);
}
// NMADD.D fd, fr, fs, ft
STROBE_SEM NMADD_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Double>(c, d, false, true);
}
// NMSUB.S fd, fr, fs, ft
STROBE_SEM NMSUB_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Single>(c, d, true, true);
}
// NMSUB.D fd, fr, fs, ft
STROBE_SEM NMSUB_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MultiplyAdd<fpu::Double>(c, d, true, true);
}

// --- conversions ---
// CVT.S.D fd, fs
STROBE_SEM CVT_S_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertFloat(c, d, false);
}
// CVT.D.S fd, fs
STROBE_SEM CVT_D_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertFloat(c, d, true);
}
// CVT.S.W fd, fs
STROBE_SEM CVT_S_W(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertFromInt<fpu::Single>(c, d, false);
}
// CVT.S.L fd, fs
STROBE_SEM CVT_S_L(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertFromInt<fpu::Single>(c, d, true);
}
// CVT.D.W fd, fs
STROBE_SEM CVT_D_W(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertFromInt<fpu::Double>(c, d, false);
}
// CVT.D.L fd, fs
STROBE_SEM CVT_D_L(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertFromInt<fpu::Double>(c, d, true);
}
// CVT.W.S fd, fs
STROBE_SEM CVT_W_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, false, -1);
}
// CVT.W.D fd, fs
STROBE_SEM CVT_W_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, false, -1);
}
// CVT.L.S fd, fs
STROBE_SEM CVT_L_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, true, -1);
}
// CVT.L.D fd, fs
STROBE_SEM CVT_L_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, true, -1);
}
// ROUND.W.S fd, fs
STROBE_SEM ROUND_W_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, false, fpu::host::kRmNearest);
}
// ROUND.W.D fd, fs
STROBE_SEM ROUND_W_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, false, fpu::host::kRmNearest);
}
// ROUND.L.S fd, fs
STROBE_SEM ROUND_L_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, true, fpu::host::kRmNearest);
}
// ROUND.L.D fd, fs
STROBE_SEM ROUND_L_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, true, fpu::host::kRmNearest);
}
// TRUNC.W.S fd, fs
STROBE_SEM TRUNC_W_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, false, fpu::host::kRmZero);
}
// TRUNC.W.D fd, fs
STROBE_SEM TRUNC_W_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, false, fpu::host::kRmZero);
}
// TRUNC.L.S fd, fs
STROBE_SEM TRUNC_L_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, true, fpu::host::kRmZero);
}
// TRUNC.L.D fd, fs
STROBE_SEM TRUNC_L_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, true, fpu::host::kRmZero);
}
// CEIL.W.S fd, fs
STROBE_SEM CEIL_W_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, false, fpu::host::kRmUp);
}
// CEIL.W.D fd, fs
STROBE_SEM CEIL_W_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, false, fpu::host::kRmUp);
}
// CEIL.L.S fd, fs
STROBE_SEM CEIL_L_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, true, fpu::host::kRmUp);
}
// CEIL.L.D fd, fs
STROBE_SEM CEIL_L_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, true, fpu::host::kRmUp);
}
// FLOOR.W.S fd, fs
STROBE_SEM FLOOR_W_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, false, fpu::host::kRmDown);
}
// FLOOR.W.D fd, fs
STROBE_SEM FLOOR_W_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, false, fpu::host::kRmDown);
}
// FLOOR.L.S fd, fs
STROBE_SEM FLOOR_L_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Single>(c, d, true, fpu::host::kRmDown);
}
// FLOOR.L.D fd, fs
STROBE_SEM FLOOR_L_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::ConvertToInt<fpu::Double>(c, d, true, fpu::host::kRmDown);
}

// --- compares: C.cond.fmt fs, ft, cc ---
STROBE_SEM C_F_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 0);
}
STROBE_SEM C_F_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 0);
}
STROBE_SEM C_UN_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 1);
}
STROBE_SEM C_UN_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 1);
}
STROBE_SEM C_EQ_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 2);
}
STROBE_SEM C_EQ_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 2);
}
STROBE_SEM C_UEQ_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 3);
}
STROBE_SEM C_UEQ_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 3);
}
STROBE_SEM C_OLT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 4);
}
STROBE_SEM C_OLT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 4);
}
STROBE_SEM C_ULT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 5);
}
STROBE_SEM C_ULT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 5);
}
STROBE_SEM C_OLE_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 6);
}
STROBE_SEM C_OLE_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 6);
}
STROBE_SEM C_ULE_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 7);
}
STROBE_SEM C_ULE_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 7);
}
STROBE_SEM C_SF_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 8);
}
STROBE_SEM C_SF_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 8);
}
STROBE_SEM C_NGLE_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 9);
}
STROBE_SEM C_NGLE_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 9);
}
STROBE_SEM C_SEQ_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 10);
}
STROBE_SEM C_SEQ_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 10);
}
STROBE_SEM C_NGL_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 11);
}
STROBE_SEM C_NGL_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 11);
}
STROBE_SEM C_LT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 12);
}
STROBE_SEM C_LT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 12);
}
STROBE_SEM C_NGE_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 13);
}
STROBE_SEM C_NGE_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 13);
}
STROBE_SEM C_LE_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 14);
}
STROBE_SEM C_LE_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 14);
}
STROBE_SEM C_NGT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Single>(c, d, 15);
}
STROBE_SEM C_NGT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::CompareOp<fpu::Double>(c, d, 15);
}

}  // namespace strobe::mips::sem
