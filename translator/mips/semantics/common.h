// SPDX-License-Identifier: MIT
// Shared helpers of the instruction semantics. A handler has one of two signatures:
//   bool NAME(CpuState& c, const DecodedInsn& d, uint32_t pc)
//   template <class E> bool NAME(E& e, const DecodedInsn& d, typename E::Pc pc)
// and returns false after recording an exception (runtime::Raise*), true otherwise.
//
// The second kind is written over an *emitter* and is the only definition of the instruction for every
// engine: the interpreter runs it with Exec (below: values are the guest's numbers, computed now), and the
// lifter instantiates it with its IR emitter (llvm/lifter_ops.h: values are llvm::Value*, the same
// operations emitted as code), wherever the handler exists in this form. The vocabulary an emitter offers:
//   Gpr(r) SetGpr(r, v) Hi() Lo() SetHi(v) SetLo(v) HiLo() SetHiLo(w)       guest state
//   Imm(u32)                                                               a constant
//   Add Sub Mul And Or Xor Shl Lshr Ashr Rotr SDiv SRem UDiv URem (v, v)   32-bit arithmetic
//   Not Clz SExt8 SExt16 (v)
//   Eq Ne Slt Sle Sgt Sge Ult Uge (v, v) -> b;  AnyOf AllOf (b, b);  Bool32(b) -> v;  Select(b, v, v)
//   Wide(v, is_signed) -> w;  Add64 Sub64 Mul64 (w, w)                     64-bit HI/LO arithmetic
//   RaiseIf(b, code): raise `code` when b holds; true when it certainly was raised (the interpreter),
//     false when the emitter went on under the not-raised condition (the lifter)
//   Load<T>(ea, base, &v), Store<T>(ea, v, base): a T-sized access (T's signedness extends a load); false
//     when it faulted (the interpreter); base is the register ea was formed from (the lifter's page hints).
//     Handlers use ea and v for nothing after it (the baseline emitter keeps no copy of them)
//   LoadWordAround(ea, base, &w): the aligned word holding byte ea (LWL/LWR); a fault reports ea itself
//   StoreWordPart(ea, data, mask, base): into the aligned word holding byte ea, data's bytes where mask's
//     are 0xFF (SWL/SWR; data is zero outside mask, and mask covers ea's byte); a fault reports ea and
//     then nothing was written
//   LoadLinked(ea, base, &v): a word load that then sets the LL bit and LLAddr (runtime::Link)
//   StoreConditional(ea, v, base, &ok): a misaligned ea raises AdES; else with the LL bit set a word store
//     and ok = 1, without it no access and ok = 0
//   Status() -> v: CP0 Status (what decides the mode and whether CP0 is usable)
//   MaskInterrupts(): Status.IE = 0 (DI). It changes neither the mode nor what is deliverable (nothing is,
//     with IE clear), so of a Status write's effects (runtime::UpdateMode) only one is left: with BEV set,
//     the dispatcher is asked to look at interrupts (exitreq::kIrqCheck)
//   ReadCp0(reg, sel) -> v, WriteCp0(reg, sel, v): MFC0's read and MTC0's write (runtime::ReadCp0 and
//     WriteCp0); emitters of code take only the plain registers (Cp0AccessNeedsHandler, system.h)
//   Address(delta) -> v: the guest address of this instruction plus delta (a link address)
//   Branch(b, disp): taken when b holds, to the delay slot's address + disp;  JumpWithin(low28): to low28 in
//     the delay slot's 256 MiB region;  JumpTo(v): to v. The outcome is applied after the delay slot.
// Shift amounts are 0..31. A handler over an emitter must not compute with pc: the lifter has no host
// value for it (its Pc is an empty type), which makes such use a compile error rather than a wrong result.
#pragma once

#include <cstdint>

#include "runtime/memory.h"
#include "runtime/runtime.h"
#include "translator/mips/decoder.h"

#define STROBE_SEM inline __attribute__((always_inline)) bool
#define STROBE_SEM_E \
  template <class E> \
  STROBE_SEM  // a handler over an emitter

namespace strobe::mips::sem {

using runtime::CpuState;
using runtime::ExcCode;

// $zero is handled here and only here: writes land and are then undone.
inline uint32_t Gpr(const CpuState& c, unsigned r) {
  return c.gpr[r];
}
inline void SetGpr(CpuState& c, unsigned r, uint32_t v) {
  c.gpr[r] = v;
  c.gpr[0] = 0;
}

// The interpreter's emitter: every operation is done now, on the guest's values. It converts to the
// CpuState, so the interpreter calls every handler, of either signature, with one.
struct Exec {
  using Pc = uint32_t;
  using Value = uint32_t;
  CpuState& c;
  uint32_t pc;  // the instruction's guest virtual address

  operator CpuState&() const { return c; }

  uint32_t Gpr(unsigned r) const { return c.gpr[r]; }
  void SetGpr(unsigned r, uint32_t v) { sem::SetGpr(c, r, v); }
  uint32_t Hi() const { return c.hi; }
  uint32_t Lo() const { return c.lo; }
  void SetHi(uint32_t v) { c.hi = v; }
  void SetLo(uint32_t v) { c.lo = v; }
  uint64_t HiLo() const { return (static_cast<uint64_t>(c.hi) << 32) | c.lo; }
  void SetHiLo(uint64_t v) {
    c.hi = static_cast<uint32_t>(v >> 32);
    c.lo = static_cast<uint32_t>(v);
  }

  static uint32_t Imm(uint32_t v) { return v; }
  static uint32_t Add(uint32_t a, uint32_t b) { return a + b; }
  static uint32_t Sub(uint32_t a, uint32_t b) { return a - b; }
  static uint32_t Mul(uint32_t a, uint32_t b) { return a * b; }
  static uint32_t And(uint32_t a, uint32_t b) { return a & b; }
  static uint32_t Or(uint32_t a, uint32_t b) { return a | b; }
  static uint32_t Xor(uint32_t a, uint32_t b) { return a ^ b; }
  static uint32_t Not(uint32_t a) { return ~a; }
  static uint32_t Shl(uint32_t a, uint32_t n) { return a << n; }
  static uint32_t Lshr(uint32_t a, uint32_t n) { return a >> n; }
  static uint32_t Ashr(uint32_t a, uint32_t n) { return static_cast<uint32_t>(static_cast<int32_t>(a) >> n); }
  static uint32_t Rotr(uint32_t a, uint32_t n) { return n ? (a >> n) | (a << (32 - n)) : a; }
  static uint32_t SDiv(uint32_t a, uint32_t b) {
    return static_cast<uint32_t>(static_cast<int32_t>(a) / static_cast<int32_t>(b));
  }
  static uint32_t SRem(uint32_t a, uint32_t b) {
    return static_cast<uint32_t>(static_cast<int32_t>(a) % static_cast<int32_t>(b));
  }
  static uint32_t UDiv(uint32_t a, uint32_t b) { return a / b; }
  static uint32_t URem(uint32_t a, uint32_t b) { return a % b; }
  static uint32_t Clz(uint32_t a) { return a ? static_cast<uint32_t>(__builtin_clz(a)) : 32; }
  static uint32_t SExt8(uint32_t a) { return static_cast<uint32_t>(static_cast<int8_t>(a)); }
  static uint32_t SExt16(uint32_t a) { return static_cast<uint32_t>(static_cast<int16_t>(a)); }

  static bool Eq(uint32_t a, uint32_t b) { return a == b; }
  static bool Ne(uint32_t a, uint32_t b) { return a != b; }
  static bool Slt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a) < static_cast<int32_t>(b); }
  static bool Ult(uint32_t a, uint32_t b) { return a < b; }
  static bool Sle(uint32_t a, uint32_t b) { return static_cast<int32_t>(a) <= static_cast<int32_t>(b); }
  static bool Sgt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a) > static_cast<int32_t>(b); }
  static bool Sge(uint32_t a, uint32_t b) { return static_cast<int32_t>(a) >= static_cast<int32_t>(b); }
  static bool Uge(uint32_t a, uint32_t b) { return a >= b; }
  static bool AnyOf(bool a, bool b) { return a || b; }
  static bool AllOf(bool a, bool b) { return a && b; }
  static uint32_t Bool32(bool b) { return b; }
  static uint32_t Select(bool b, uint32_t t, uint32_t f) { return b ? t : f; }

  static uint64_t Wide(uint32_t v, bool is_signed) {
    return is_signed ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))) : v;
  }
  static uint64_t Add64(uint64_t a, uint64_t b) { return a + b; }
  static uint64_t Sub64(uint64_t a, uint64_t b) { return a - b; }
  static uint64_t Mul64(uint64_t a, uint64_t b) { return a * b; }

  template <typename T>
  bool Load(uint32_t ea, unsigned /*base*/, uint32_t* v) {
    return runtime::Load<T>(c, ea, v);
  }
  template <typename T>
  bool Store(uint32_t ea, uint32_t v, unsigned /*base*/) {
    return runtime::Store<T>(c, ea, v);
  }

  bool LoadWordAround(uint32_t ea, unsigned /*base*/, uint32_t* w) {
    if (runtime::Load<uint32_t>(c, ea & ~3u, w)) return true;
    if (c.exc.has_badvaddr) c.exc.badvaddr = ea;
    return false;
  }
  // Byte by byte, from ea's byte outwards to the end of the mask: the first store is the one at ea, so a
  // fault (the word lies in one page: only the first can fault) is a store fault at ea before any byte.
  bool StoreWordPart(uint32_t ea, uint32_t data, uint32_t mask, unsigned /*base*/) {
    const auto selected = [mask](unsigned i) { return i < 4 && ((mask >> (8 * i)) & 0xFFu) != 0; };
    const unsigned first = ea & 3;
    const bool down = !selected(first + 1);
    for (unsigned i = first; selected(i); down ? --i : ++i)
      if (!runtime::Store<uint8_t>(c, (ea & ~3u) + i, data >> (8 * i))) return false;
    return true;
  }

  bool LoadLinked(uint32_t ea, unsigned /*base*/, uint32_t* v) {
    if (!runtime::Load<uint32_t>(c, ea, v)) return false;
    runtime::Link(c, ea);
    return true;
  }
  bool StoreConditional(uint32_t ea, uint32_t v, unsigned /*base*/, uint32_t* ok) {
    if (ea & 3) return runtime::RaiseAddress(c, ExcCode::AdES, ea);
    *ok = c.ll_bit ? 1 : 0;
    return !c.ll_bit || runtime::Store<uint32_t>(c, ea, v);
  }
  uint32_t Status() const { return c.cp0.status; }
  void MaskInterrupts() { runtime::WriteCp0(c, 12, 0, c.cp0.status & ~runtime::st::IE); }
  uint32_t ReadCp0(unsigned reg, unsigned sel) const { return runtime::ReadCp0(c, reg, sel); }
  void WriteCp0(unsigned reg, unsigned sel, uint32_t v) { runtime::WriteCp0(c, reg, sel, v); }

  uint32_t Address(uint32_t delta) const { return pc + delta; }
  void Branch(bool taken, int32_t disp) {
    c.branch_taken = taken;
    c.branch_target = pc + 4 + static_cast<uint32_t>(disp);
  }
  void JumpWithin(uint32_t low28) {
    c.branch_taken = true;
    c.branch_target = ((pc + 4) & 0xF0000000u) | low28;
  }
  void JumpTo(uint32_t target) {
    c.branch_taken = true;
    c.branch_target = target;
  }

  bool RaiseIf(bool cond, ExcCode code) {
    if (!cond) return false;
    runtime::Raise(c, code);
    return true;
  }
};

namespace detail {
// Coprocessor 0 is unusable: user mode (not EXL, ERL or kernel/supervisor KSU, runtime::InUserMode) without
// Status.CU0. Over an emitter, for the handlers written once; Cp0Usable is the same rule on the state.
template <class E>
auto Cp0Unusable(E& e) {
  auto s = e.Status();
  auto user = e.Eq(e.And(s, e.Imm(runtime::st::EXL | runtime::st::ERL | runtime::st::KSU_MASK)),
                   e.Imm(2u << runtime::st::KSU_SHIFT));
  return e.AllOf(user, e.Eq(e.And(s, e.Imm(runtime::st::CU0)), e.Imm(0)));
}
}  // namespace detail

inline bool Cp0Usable(CpuState& c) {
  Exec e{c, 0};
  return !detail::Cp0Unusable(e);
}

}  // namespace strobe::mips::sem
