// SPDX-License-Identifier: MIT
// Multiply, divide and HI/LO accumulator instructions (MIPS32 Vol. II). Written once over an emitter
// (common.h): the interpreter runs these, the lifter emits them as IR.
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
// The 64-bit product of rs and rt, signed or unsigned.
template <class E>
auto Product(E& e, const DecodedInsn& d, bool is_signed) {
  auto a = e.Wide(e.Gpr(d.rs), is_signed);
  return e.Mul64(a, e.Wide(e.Gpr(d.rt), is_signed));
}
}  // namespace detail

// MUL rd, rs, rt (release 1+): HI and LO are left as they were
STROBE_SEM_E MUL(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Mul(a, e.Gpr(d.rt)));
  return true;
}
// MULT rs, rt
STROBE_SEM_E MULT(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetHiLo(detail::Product(e, d, true));
  return true;
}
// MULTU rs, rt
STROBE_SEM_E MULTU(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetHiLo(detail::Product(e, d, false));
  return true;
}
// MADD rs, rt
STROBE_SEM_E MADD(E& e, const DecodedInsn& d, typename E::Pc) {
  auto acc = e.HiLo();
  e.SetHiLo(e.Add64(acc, detail::Product(e, d, true)));
  return true;
}
// MADDU rs, rt
STROBE_SEM_E MADDU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto acc = e.HiLo();
  e.SetHiLo(e.Add64(acc, detail::Product(e, d, false)));
  return true;
}
// MSUB rs, rt
STROBE_SEM_E MSUB(E& e, const DecodedInsn& d, typename E::Pc) {
  auto acc = e.HiLo();
  e.SetHiLo(e.Sub64(acc, detail::Product(e, d, true)));
  return true;
}
// MSUBU rs, rt
STROBE_SEM_E MSUBU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto acc = e.HiLo();
  e.SetHiLo(e.Sub64(acc, detail::Product(e, d, false)));
  return true;
}
// DIV rs, rt. Division by zero is UNPREDICTABLE and must not trap; like the 24K-class cores modelled by our
// oracles, a zero (or INT_MIN / -1) divisor behaves as a divisor of one: LO = rs, HI = 0.
STROBE_SEM_E DIV(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  auto b = e.Gpr(d.rt);
  auto by_zero = e.Eq(b, e.Imm(0));
  auto bad = e.AnyOf(by_zero, e.AllOf(e.Eq(a, e.Imm(0x80000000u)), e.Eq(b, e.Imm(~0u))));
  auto div = e.Select(bad, e.Imm(1), b);
  e.SetLo(e.SDiv(a, div));
  e.SetHi(e.SRem(a, div));
  return true;
}
// DIVU rs, rt
STROBE_SEM_E DIVU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  auto b = e.Gpr(d.rt);
  auto div = e.Select(e.Eq(b, e.Imm(0)), e.Imm(1), b);
  e.SetLo(e.UDiv(a, div));
  e.SetHi(e.URem(a, div));
  return true;
}
// MFHI rd
STROBE_SEM_E MFHI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Hi());
  return true;
}
// MFLO rd
STROBE_SEM_E MFLO(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Lo());
  return true;
}
// MTHI rs
STROBE_SEM_E MTHI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetHi(e.Gpr(d.rs));
  return true;
}
// MTLO rs
STROBE_SEM_E MTLO(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetLo(e.Gpr(d.rs));
  return true;
}

}  // namespace strobe::mips::sem
