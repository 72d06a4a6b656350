// SPDX-License-Identifier: MIT
// The FPU's machinery under the COP1/COP1X handlers (fpu_arith.h, fpu_move.h): register access with FR=0
// pairing, the usability checks, FCSR cause/flag/enable bookkeeping, and the arithmetic families.
//
// Results follow QEMU's MIPS model (target/mips/fpu_helper.c over softfloat), which the 24Kf's legacy-NaN
// FPU matches where the architecture is precise:
//  - Legacy NaNs: the fraction MSB set means signalling. QEMU runs MIPS legacy-NaN FPUs in default-NaN
//    mode, so every NaN an operation produces is the default NaN (0x7FBFFFFF, 0x7FF7FFFFFFFFFFFF); an
//    operand NaN only decides Invalid (signalling operand, or any NaN for the signalling compares).
//  - Tininess is detected after rounding (softfloat's default, which MIPS keeps), as x86 SSE does, and
//    Underflow is raised when a tiny result is also inexact, again as SSE does with Underflow masked.
//  - FS=1 flushes a result whose exact value is below the smallest normal to a signed zero, decided before
//    rounding, and raises nothing (softfloat's output-denormal flag has no MIPS counterpart).
//  - Float to integer conversions that are invalid or overflow give 0x7FFFFFFF / 0x7FFF...F and Invalid.
// The host computes: the operation runs on SSE under the guest's rounding mode with every exception
// masked, and the SSE flags map one to one onto the MIPS cause bits. What SSE would get wrong is decided
// before or after it: NaN operands never reach it, an SSE NaN result is replaced by the default NaN, and
// FS=1 re-runs an ambiguous result toward zero to see whether the exact value was below the normal range.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include "translator/mips/semantics/common.h"

#if !defined(__x86_64__)
#error "the FPU semantics compute on x86-64 SSE"
#endif

namespace strobe::mips::sem::fpu {

// --- FCSR (FCR31) ---
inline constexpr uint32_t kFcsrWritable = 0xFF83FFFFu;  // QEMU's 24Kf: not bits 22:18 (NAN2008, ABS2008)
inline constexpr uint32_t kFs = 1u << 24;
inline constexpr unsigned kFlagsShift = 2, kEnablesShift = 7, kCauseShift = 12;
// Exception bits in the order of the Flags/Enables/Cause fields.
enum : uint32_t {
  kInexact = 1,
  kUnderflow = 2,
  kOverflow = 4,
  kDivByZero = 8,
  kInvalid = 16,
  kUnimplemented = 32,  // Cause only: always enabled
};

inline unsigned CcBit(unsigned cc) {
  return cc == 0 ? 23 : 24 + cc;
}
inline bool Cond(const CpuState& c, unsigned cc) {
  return (c.fpu.fcsr >> CcBit(cc)) & 1;
}
inline void SetCond(CpuState& c, unsigned cc, bool v) {
  c.fpu.fcsr = (c.fpu.fcsr & ~(1u << CcBit(cc))) | (static_cast<uint32_t>(v) << CcBit(cc));
}

// --- usability ---
// Status.CU1 gates every COP1/COP1X encoding in every mode; a 24Kc cannot set it, so all of them raise
// Coprocessor Unusable there and the kernel emulates. Lazy FPU switching relies on the same fault.
inline bool Usable(const CpuState& c) {
  return (c.cp0.status & runtime::st::CU1) != 0;
}
inline bool Fr(const CpuState& c) {
  return (c.cp0.status & runtime::st::FR) != 0;
}
// 64-bit operands need even register numbers when FR=0 (QEMU: Reserved Instruction otherwise).
inline bool PairsOk(const CpuState& c, unsigned regs) {
  return Fr(c) || (regs & 1) == 0;
}

// --- registers ---
// Single/word values live in the low half of fpr[r]; a write leaves the high half alone, as QEMU does.
inline uint32_t Word(const CpuState& c, unsigned r) {
  return static_cast<uint32_t>(c.fpu.fpr[r]);
}
inline void SetWord(CpuState& c, unsigned r, uint32_t v) {
  c.fpu.fpr[r] = (c.fpu.fpr[r] & 0xFFFFFFFF00000000ull) | v;
}
// Double/long values: fpr[r] with FR=1, the low words of the pair r&~1 (low) and r|1 (high) with FR=0.
inline uint64_t Dword(const CpuState& c, unsigned r) {
  if (Fr(c)) return c.fpu.fpr[r];
  return Word(c, r & ~1u) | (static_cast<uint64_t>(Word(c, r | 1u)) << 32);
}
inline void SetDword(CpuState& c, unsigned r, uint64_t v) {
  if (Fr(c)) {
    c.fpu.fpr[r] = v;
    return;
  }
  SetWord(c, r & ~1u, static_cast<uint32_t>(v));
  SetWord(c, r | 1u, static_cast<uint32_t>(v >> 32));
}
// The high word MFHC1/MTHC1 address: fpr[r]'s upper half with FR=1, the odd register's word with FR=0.
inline uint32_t HighWord(const CpuState& c, unsigned r) {
  return Fr(c) ? static_cast<uint32_t>(c.fpu.fpr[r] >> 32) : Word(c, r | 1u);
}
inline void SetHighWord(CpuState& c, unsigned r, uint32_t v) {
  if (!Fr(c)) return SetWord(c, r | 1u, v);
  c.fpu.fpr[r] = (c.fpu.fpr[r] & 0xFFFFFFFFull) | (static_cast<uint64_t>(v) << 32);
}

// --- completing an operation (QEMU's update_fcr31) ---
// Cause becomes this operation's exceptions. An enabled one raises the Floating-Point exception before
// anything is written (the handler returns at once); otherwise the sticky Flags accumulate.
inline bool Finish(CpuState& c, uint32_t exc) {
  uint32_t f = (c.fpu.fcsr & ~(0x3Fu << kCauseShift)) | (exc << kCauseShift);
  c.fpu.fcsr = f;
  if (exc & (f >> kEnablesShift) & 0x1F) return runtime::Raise(c, ExcCode::FPE);
  c.fpu.fcsr = f | (exc << kFlagsShift);
  return true;
}

// --- formats ---
struct Single {
  using Bits = uint32_t;
  using Host = float;
  static constexpr Bits kSign = 0x80000000u, kExp = 0x7F800000u, kQuietBit = 0x00400000u;
  static constexpr Bits kDefaultNaN = 0x7FBFFFFFu;
  static constexpr Bits kMinNormal = 0x00800000u;
};
struct Double {
  using Bits = uint64_t;
  using Host = double;
  static constexpr Bits kSign = 0x8000000000000000ull, kExp = 0x7FF0000000000000ull;
  static constexpr Bits kQuietBit = 0x0008000000000000ull;
  static constexpr Bits kDefaultNaN = 0x7FF7FFFFFFFFFFFFull;
  static constexpr Bits kMinNormal = 0x0010000000000000ull;
};

template <class F>
inline bool IsNaN(typename F::Bits v) {
  return (v & ~F::kSign) > F::kExp;
}
// Legacy MIPS NaNs: the fraction's MSB marks the signalling ones.
template <class F>
inline bool IsSNaN(typename F::Bits v) {
  return IsNaN<F>(v) && (v & F::kQuietBit);
}

template <class F>
struct Result {
  typename F::Bits value;
  uint32_t exc;
};

// --- the host: SSE under a chosen rounding mode ---
namespace host {
inline uint32_t GetCsr() {
  uint32_t v;
  asm volatile("stmxcsr %0" : "=m"(v));
  return v;
}
inline void SetCsr(uint32_t v) {
  asm volatile("ldmxcsr %0" : : "m"(v));
}
// MIPS RM (nearest, zero, +inf, -inf) to MXCSR.RC (nearest, -inf, +inf, zero).
inline constexpr uint32_t kRcOf[4] = {0, 3, 2, 1};
inline constexpr unsigned kRmNearest = 0, kRmZero = 1, kRmUp = 2, kRmDown = 3;

// Runs with every SSE exception masked, flags clear, no FTZ/DAZ, and the rounding mode rm (MIPS
// encoding); the host's MXCSR comes back on destruction. The operations below are volatile asm so that
// the compiler can neither fold them nor move them across the MXCSR writes.
class Env {
 public:
  explicit Env(unsigned rm) : saved_(GetCsr()) { SetCsr(0x1F80u | (kRcOf[rm & 3] << 13)); }
  ~Env() { SetCsr(saved_); }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  // MXCSR IE, DE, ZE, OE, UE, PE to MIPS V, Z, O, U, I (DE, an operand was subnormal, is not one).
  static uint32_t Exceptions() {
    uint32_t x = GetCsr();
    return ((x & 1) ? kInvalid : 0) | ((x & 4) ? kDivByZero : 0) | ((x & 8) ? kOverflow : 0) |
           ((x & 16) ? kUnderflow : 0) | ((x & 32) ? kInexact : 0);
  }

 private:
  uint32_t saved_;
};

#define STROBE_SSE_BINARY(name, insn_s, insn_d)        \
  inline float name(float a, float b) {                \
    asm volatile(insn_s " %1, %0" : "+x"(a) : "x"(b)); \
    return a;                                          \
  }                                                    \
  inline double name(double a, double b) {             \
    asm volatile(insn_d " %1, %0" : "+x"(a) : "x"(b)); \
    return a;                                          \
  }
STROBE_SSE_BINARY(Add, "addss", "addsd")
STROBE_SSE_BINARY(Sub, "subss", "subsd")
STROBE_SSE_BINARY(Mul, "mulss", "mulsd")
STROBE_SSE_BINARY(Div, "divss", "divsd")
#undef STROBE_SSE_BINARY
inline float Sqrt(float a) {
  asm volatile("sqrtss %0, %0" : "+x"(a));
  return a;
}
inline double Sqrt(double a) {
  asm volatile("sqrtsd %0, %0" : "+x"(a));
  return a;
}
inline double Widen(float a) {
  double r;
  asm volatile("cvtss2sd %1, %0" : "=x"(r) : "x"(a));
  return r;
}
inline float Narrow(double a) {
  float r;
  asm volatile("cvtsd2ss %1, %0" : "=x"(r) : "x"(a));
  return r;
}
// Float to integer under MXCSR.RC; out of range or NaN gives the "integer indefinite" and IE.
inline int64_t ToInt64(float a) {
  int64_t r;
  asm volatile("cvtss2si %1, %0" : "=r"(r) : "x"(a));
  return r;
}
inline int64_t ToInt64(double a) {
  int64_t r;
  asm volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(a));
  return r;
}
inline int32_t ToInt32(float a) {
  int32_t r;
  asm volatile("cvtss2si %1, %0" : "=r"(r) : "x"(a));
  return r;
}
inline int32_t ToInt32(double a) {
  int32_t r;
  asm volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(a));
  return r;
}
template <class T>
inline T FromInt(int64_t v);
template <>
inline float FromInt<float>(int64_t v) {
  float r;
  asm volatile("cvtsi2ssq %1, %0" : "=x"(r) : "r"(v));
  return r;
}
template <>
inline double FromInt<double>(int64_t v) {
  double r;
  asm volatile("cvtsi2sdq %1, %0" : "=x"(r) : "r"(v));
  return r;
}
}  // namespace host

template <class F>
inline typename F::Host ToHost(typename F::Bits v) {
  return std::bit_cast<typename F::Host>(v);
}
template <class F>
inline typename F::Bits FromHost(typename F::Host v) {
  return std::bit_cast<typename F::Bits>(v);
}

// A host result under FS=1 (QEMU: softfloat's flush_to_zero, decided before rounding). `again` recomputes
// the operation; it runs toward zero when the rounded result sits exactly on the smallest normal, the one
// value that may have come from below it. Returns true (and *r the signed zero) when the result flushes.
template <class F, class Again>
inline bool Flushes(typename F::Bits* r, uint32_t exc, Again again) {
  const typename F::Bits mag = *r & ~F::kSign;
  bool tiny;
  if (mag < F::kMinNormal) {
    tiny = mag != 0 || (exc & kInexact);  // an exact zero is a zero, not a flushed tiny result
  } else if (mag == F::kMinNormal && (exc & kInexact)) {
    host::Env env(host::kRmZero);
    tiny = (FromHost<F>(again()) & ~F::kSign) < F::kMinNormal;
  } else {
    tiny = false;
  }
  if (tiny) *r &= F::kSign;
  return tiny;
}

// A host operation's result with the MIPS rules around it. `op` computes on host values.
template <class F, class Op>
inline Result<F> HostResult(uint32_t fcsr, unsigned rm, Op op) {
  typename F::Bits r;
  uint32_t exc;
  {
    host::Env env(rm);
    r = FromHost<F>(op());
    exc = host::Env::Exceptions();
  }
  if (IsNaN<F>(r)) return {F::kDefaultNaN, kInvalid};  // an invalid operation: SSE's NaN never escapes
  if ((fcsr & kFs) && (r & F::kExp) != F::kExp && Flushes<F>(&r, exc, op)) return {r, 0};
  return {r, exc};
}

// Binary arithmetic: ADD, SUB, MUL, DIV.
enum class Arith { kAdd, kSub, kMul, kDiv };
template <class F>
inline Result<F> Binary(uint32_t fcsr, Arith op, typename F::Bits a, typename F::Bits b) {
  if (IsNaN<F>(a) || IsNaN<F>(b)) return {F::kDefaultNaN, (IsSNaN<F>(a) || IsSNaN<F>(b)) ? kInvalid : 0u};
  auto x = ToHost<F>(a), y = ToHost<F>(b);
  return HostResult<F>(fcsr, fcsr & 3, [=] {
    switch (op) {
      case Arith::kAdd: return host::Add(x, y);
      case Arith::kSub: return host::Sub(x, y);
      case Arith::kMul: return host::Mul(x, y);
      default: return host::Div(x, y);
    }
  });
}
template <class F>
inline Result<F> SquareRoot(uint32_t fcsr, typename F::Bits a) {
  if (IsNaN<F>(a)) return {F::kDefaultNaN, IsSNaN<F>(a) ? kInvalid : 0u};
  auto x = ToHost<F>(a);
  return HostResult<F>(fcsr, fcsr & 3, [=] { return host::Sqrt(x); });
}

// Steps of a compound operation (RECIP, RSQRT, MADD ...) raise their exceptions together, as QEMU's single
// update_fcr31 after the sequence does.
template <class F>
inline Result<F> Then(Result<F> first, Result<F> second) {
  return {second.value, first.exc | second.exc};
}

// CVT.D.S and CVT.S.D.
inline Result<Double> Widen(uint32_t, uint32_t a) {
  if (IsNaN<Single>(a)) return {Double::kDefaultNaN, IsSNaN<Single>(a) ? kInvalid : 0u};
  return HostResult<Double>(0, 0, [=] { return host::Widen(ToHost<Single>(a)); });  // exact
}
inline Result<Single> Narrow(uint32_t fcsr, uint64_t a) {
  if (IsNaN<Double>(a)) return {Single::kDefaultNaN, IsSNaN<Double>(a) ? kInvalid : 0u};
  return HostResult<Single>(fcsr, fcsr & 3, [=] { return host::Narrow(ToHost<Double>(a)); });
}

// CVT.S/D.W and .L: integer to floating point (may round; never tiny).
template <class F>
inline Result<F> FromInt(uint32_t fcsr, int64_t v) {
  return HostResult<F>(fcsr, fcsr & 3, [=] { return host::FromInt<typename F::Host>(v); });
}

// Floating point to a 32- or 64-bit integer under rounding mode rm. Invalid (NaN, out of range) gives
// the all-ones positive maximum, as QEMU's legacy MIPS does, with only Invalid raised.
template <class F, class Int>
inline Result<F> ToInt(unsigned rm, typename F::Bits a, Int* out) {
  const auto x = ToHost<F>(a);
  host::Env env(rm);
  Int v;
  if constexpr (sizeof(Int) == 4) {
    v = host::ToInt32(x);
  } else {
    v = host::ToInt64(x);
  }
  uint32_t exc = host::Env::Exceptions();
  if (exc & kInvalid) {
    *out = static_cast<Int>(~static_cast<std::make_unsigned_t<Int>>(0) >> 1);
    return {0, kInvalid};
  }
  *out = v;
  return {0, exc & kInexact};
}

// C.cond.fmt: cond bit 0 selects "unordered", bit 1 "equal", bit 2 "less than"; conditions 8-15 are the
// signalling ones (Invalid on any NaN), 0-7 raise Invalid only for a signalling NaN.
template <class F>
inline Result<F> Compare(unsigned cond, typename F::Bits a, typename F::Bits b, bool* out) {
  const bool unordered = IsNaN<F>(a) || IsNaN<F>(b);
  const auto x = ToHost<F>(a), y = ToHost<F>(b);
  const bool eq = !unordered && x == y, lt = !unordered && x < y;
  *out = ((cond & 1) && unordered) || ((cond & 2) && eq) || ((cond & 4) && lt);
  const bool invalid = (cond & 8) ? unordered : (IsSNaN<F>(a) || IsSNaN<F>(b));
  return {0, invalid ? kInvalid : 0u};
}

}  // namespace strobe::mips::sem::fpu
