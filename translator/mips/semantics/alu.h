// SPDX-License-Identifier: MIT
// Arithmetic, logical, shift, bit-field and conditional-move instructions (MIPS32 Vol. II, chapter 3).
// Written once over an emitter (common.h): the interpreter runs these, the lifter emits them as IR.
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
// Signed overflow of a + b = sum, and of a - b = diff: the sign bit of the result is wrong.
template <class E, class V>
auto AddOverflows(E& e, V a, V b, V sum) {
  return e.Slt(e.And(e.Xor(a, sum), e.Xor(b, sum)), e.Imm(0));
}
template <class E, class V>
auto SubOverflows(E& e, V a, V b, V diff) {
  return e.Slt(e.And(e.Xor(a, b), e.Xor(a, diff)), e.Imm(0));
}
}  // namespace detail

// --- Shifts ---
// SLL rd, rt, sa
STROBE_SEM_E SLL(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Shl(e.Gpr(d.rt), e.Imm(d.sa)));
  return true;
}
// SRL rd, rt, sa
STROBE_SEM_E SRL(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Lshr(e.Gpr(d.rt), e.Imm(d.sa)));
  return true;
}
// ROTR rd, rt, sa (release 2)
STROBE_SEM_E ROTR(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Rotr(e.Gpr(d.rt), e.Imm(d.sa)));
  return true;
}
// SRA rd, rt, sa
STROBE_SEM_E SRA(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Ashr(e.Gpr(d.rt), e.Imm(d.sa)));
  return true;
}
// SLLV rd, rt, rs
STROBE_SEM_E SLLV(E& e, const DecodedInsn& d, typename E::Pc) {
  auto n = e.And(e.Gpr(d.rs), e.Imm(31));
  e.SetGpr(d.rd, e.Shl(e.Gpr(d.rt), n));
  return true;
}
// SRLV rd, rt, rs
STROBE_SEM_E SRLV(E& e, const DecodedInsn& d, typename E::Pc) {
  auto n = e.And(e.Gpr(d.rs), e.Imm(31));
  e.SetGpr(d.rd, e.Lshr(e.Gpr(d.rt), n));
  return true;
}
// ROTRV rd, rt, rs (release 2)
STROBE_SEM_E ROTRV(E& e, const DecodedInsn& d, typename E::Pc) {
  auto n = e.And(e.Gpr(d.rs), e.Imm(31));
  e.SetGpr(d.rd, e.Rotr(e.Gpr(d.rt), n));
  return true;
}
// SRAV rd, rt, rs
STROBE_SEM_E SRAV(E& e, const DecodedInsn& d, typename E::Pc) {
  auto n = e.And(e.Gpr(d.rs), e.Imm(31));
  e.SetGpr(d.rd, e.Ashr(e.Gpr(d.rt), n));
  return true;
}

// --- Three-register arithmetic and logic ---
// ADD rd, rs, rt: Integer Overflow leaves rd unchanged
STROBE_SEM_E ADD(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  auto b = e.Gpr(d.rt);
  auto r = e.Add(a, b);
  if (e.RaiseIf(detail::AddOverflows(e, a, b, r), ExcCode::Ov)) return false;
  e.SetGpr(d.rd, r);
  return true;
}
// ADDU rd, rs, rt
STROBE_SEM_E ADDU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Add(a, e.Gpr(d.rt)));
  return true;
}
// SUB rd, rs, rt
STROBE_SEM_E SUB(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  auto b = e.Gpr(d.rt);
  auto r = e.Sub(a, b);
  if (e.RaiseIf(detail::SubOverflows(e, a, b, r), ExcCode::Ov)) return false;
  e.SetGpr(d.rd, r);
  return true;
}
// SUBU rd, rs, rt
STROBE_SEM_E SUBU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Sub(a, e.Gpr(d.rt)));
  return true;
}
// AND rd, rs, rt
STROBE_SEM_E AND(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.And(a, e.Gpr(d.rt)));
  return true;
}
// OR rd, rs, rt
STROBE_SEM_E OR(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Or(a, e.Gpr(d.rt)));
  return true;
}
// XOR rd, rs, rt
STROBE_SEM_E XOR(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Xor(a, e.Gpr(d.rt)));
  return true;
}
// NOR rd, rs, rt
STROBE_SEM_E NOR(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Not(e.Or(a, e.Gpr(d.rt))));
  return true;
}
// SLT rd, rs, rt
STROBE_SEM_E SLT(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Bool32(e.Slt(a, e.Gpr(d.rt))));
  return true;
}
// SLTU rd, rs, rt
STROBE_SEM_E SLTU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Bool32(e.Ult(a, e.Gpr(d.rt))));
  return true;
}
// MOVZ rd, rs, rt
STROBE_SEM_E MOVZ(E& e, const DecodedInsn& d, typename E::Pc) {
  auto zero = e.Eq(e.Gpr(d.rt), e.Imm(0));
  auto v = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Select(zero, v, e.Gpr(d.rd)));
  return true;
}
// MOVN rd, rs, rt
STROBE_SEM_E MOVN(E& e, const DecodedInsn& d, typename E::Pc) {
  auto nonzero = e.Ne(e.Gpr(d.rt), e.Imm(0));
  auto v = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Select(nonzero, v, e.Gpr(d.rd)));
  return true;
}

// --- Immediate forms ---
// ADDI rt, rs, immediate
STROBE_SEM_E ADDI(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  auto b = e.Imm(static_cast<uint32_t>(d.simm()));
  auto r = e.Add(a, b);
  if (e.RaiseIf(detail::AddOverflows(e, a, b, r), ExcCode::Ov)) return false;
  e.SetGpr(d.rt, r);
  return true;
}
// ADDIU rt, rs, immediate
STROBE_SEM_E ADDIU(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.Add(e.Gpr(d.rs), e.Imm(static_cast<uint32_t>(d.simm()))));
  return true;
}
// SLTI rt, rs, immediate
STROBE_SEM_E SLTI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.Bool32(e.Slt(e.Gpr(d.rs), e.Imm(static_cast<uint32_t>(d.simm())))));
  return true;
}
// SLTIU rt, rs, immediate: the immediate is sign-extended, then compared unsigned
STROBE_SEM_E SLTIU(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.Bool32(e.Ult(e.Gpr(d.rs), e.Imm(static_cast<uint32_t>(d.simm())))));
  return true;
}
// ANDI rt, rs, immediate (zero-extended)
STROBE_SEM_E ANDI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.And(e.Gpr(d.rs), e.Imm(d.uimm())));
  return true;
}
// ORI rt, rs, immediate
STROBE_SEM_E ORI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.Or(e.Gpr(d.rs), e.Imm(d.uimm())));
  return true;
}
// XORI rt, rs, immediate
STROBE_SEM_E XORI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.Xor(e.Gpr(d.rs), e.Imm(d.uimm())));
  return true;
}
// LUI rt, immediate
STROBE_SEM_E LUI(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rt, e.Imm(d.uimm() << 16));
  return true;
}

// --- Counting, bit fields, byte shuffles ---
// CLZ rd, rs
STROBE_SEM_E CLZ(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Clz(e.Gpr(d.rs)));
  return true;
}
// CLO rd, rs
STROBE_SEM_E CLO(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.Clz(e.Not(e.Gpr(d.rs))));
  return true;
}
// EXT rt, rs, pos, size: the rd field holds size-1, the sa field pos
STROBE_SEM_E EXT(E& e, const DecodedInsn& d, typename E::Pc) {
  const unsigned pos = d.sa, size = d.rd + 1u;
  const auto mask = static_cast<uint32_t>((1ull << size) - 1);
  e.SetGpr(d.rt, e.And(e.Lshr(e.Gpr(d.rs), e.Imm(pos)), e.Imm(mask)));
  return true;
}
// INS rt, rs, pos, size: the rd field holds pos+size-1; msb < lsb is UNPREDICTABLE and leaves rt alone
STROBE_SEM_E INS(E& e, const DecodedInsn& d, typename E::Pc) {
  const unsigned lsb = d.sa, msb = d.rd;
  if (msb < lsb) return true;
  const auto mask = static_cast<uint32_t>(((1ull << (msb - lsb + 1)) - 1) << lsb);
  auto kept = e.And(e.Gpr(d.rt), e.Imm(~mask));
  e.SetGpr(d.rt, e.Or(kept, e.And(e.Shl(e.Gpr(d.rs), e.Imm(lsb)), e.Imm(mask))));
  return true;
}
// WSBH rd, rt: swap the bytes of each halfword
STROBE_SEM_E WSBH(E& e, const DecodedInsn& d, typename E::Pc) {
  auto v = e.Gpr(d.rt);
  auto high = e.Shl(e.And(v, e.Imm(0x00FF00FFu)), e.Imm(8));
  e.SetGpr(d.rd, e.Or(high, e.And(e.Lshr(v, e.Imm(8)), e.Imm(0x00FF00FFu))));
  return true;
}
// SEB rd, rt
STROBE_SEM_E SEB(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.SExt8(e.Gpr(d.rt)));
  return true;
}
// SEH rd, rt
STROBE_SEM_E SEH(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(d.rd, e.SExt16(e.Gpr(d.rt)));
  return true;
}

}  // namespace strobe::mips::sem
