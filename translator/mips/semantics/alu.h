// SPDX-License-Identifier: MIT
// Arithmetic, logical, shift, bit-field and conditional-move instructions (MIPS32 Vol. II, chapter 3).
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
inline uint32_t Rotr(uint32_t x, unsigned n) {
  return n ? (x >> n) | (x << (32 - n)) : x;
}
inline bool AddOverflows(uint32_t a, uint32_t b, uint32_t sum) {
  return ((a ^ sum) & (b ^ sum)) >> 31;
}
inline bool SubOverflows(uint32_t a, uint32_t b, uint32_t diff) {
  return ((a ^ b) & (a ^ diff)) >> 31;
}
}  // namespace detail

// --- Shifts ---
// SLL rd, rt, sa
STROBE_SEM SLL(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rt) << d.sa);
  return true;
}
// SRL rd, rt, sa
STROBE_SEM SRL(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rt) >> d.sa);
  return true;
}
// ROTR rd, rt, sa (release 2)
STROBE_SEM ROTR(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, detail::Rotr(Gpr(c, d.rt), d.sa));
  return true;
}
// SRA rd, rt, sa
STROBE_SEM SRA(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, static_cast<uint32_t>(static_cast<int32_t>(Gpr(c, d.rt)) >> d.sa));
  return true;
}
// SLLV rd, rt, rs
STROBE_SEM SLLV(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rt) << (Gpr(c, d.rs) & 31));
  return true;
}
// SRLV rd, rt, rs
STROBE_SEM SRLV(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rt) >> (Gpr(c, d.rs) & 31));
  return true;
}
// ROTRV rd, rt, rs (release 2)
STROBE_SEM ROTRV(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, detail::Rotr(Gpr(c, d.rt), Gpr(c, d.rs) & 31));
  return true;
}
// SRAV rd, rt, rs
STROBE_SEM SRAV(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, static_cast<uint32_t>(static_cast<int32_t>(Gpr(c, d.rt)) >> (Gpr(c, d.rs) & 31)));
  return true;
}

// --- Three-register arithmetic and logic ---
// ADD rd, rs, rt: Integer Overflow leaves rd unchanged
STROBE_SEM ADD(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t a = Gpr(c, d.rs), b = Gpr(c, d.rt), r = a + b;
  if (detail::AddOverflows(a, b, r)) return runtime::Raise(c, ExcCode::Ov);
  SetGpr(c, d.rd, r);
  return true;
}
// ADDU rd, rs, rt
STROBE_SEM ADDU(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rs) + Gpr(c, d.rt));
  return true;
}
// SUB rd, rs, rt
STROBE_SEM SUB(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t a = Gpr(c, d.rs), b = Gpr(c, d.rt), r = a - b;
  if (detail::SubOverflows(a, b, r)) return runtime::Raise(c, ExcCode::Ov);
  SetGpr(c, d.rd, r);
  return true;
}
// SUBU rd, rs, rt
STROBE_SEM SUBU(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rs) - Gpr(c, d.rt));
  return true;
}
// AND rd, rs, rt
STROBE_SEM AND(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rs) & Gpr(c, d.rt));
  return true;
}
// OR rd, rs, rt
STROBE_SEM OR(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rs) | Gpr(c, d.rt));
  return true;
}
// XOR rd, rs, rt
STROBE_SEM XOR(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rs) ^ Gpr(c, d.rt));
  return true;
}
// NOR rd, rs, rt
STROBE_SEM NOR(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, ~(Gpr(c, d.rs) | Gpr(c, d.rt)));
  return true;
}
// SLT rd, rs, rt
STROBE_SEM SLT(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, static_cast<int32_t>(Gpr(c, d.rs)) < static_cast<int32_t>(Gpr(c, d.rt)));
  return true;
}
// SLTU rd, rs, rt
STROBE_SEM SLTU(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, Gpr(c, d.rs) < Gpr(c, d.rt));
  return true;
}
// MOVZ rd, rs, rt
STROBE_SEM MOVZ(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (Gpr(c, d.rt) == 0) SetGpr(c, d.rd, Gpr(c, d.rs));
  return true;
}
// MOVN rd, rs, rt
STROBE_SEM MOVN(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (Gpr(c, d.rt) != 0) SetGpr(c, d.rd, Gpr(c, d.rs));
  return true;
}

// --- Immediate forms ---
// ADDI rt, rs, immediate
STROBE_SEM ADDI(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t a = Gpr(c, d.rs), b = static_cast<uint32_t>(d.simm()), r = a + b;
  if (detail::AddOverflows(a, b, r)) return runtime::Raise(c, ExcCode::Ov);
  SetGpr(c, d.rt, r);
  return true;
}
// ADDIU rt, rs, immediate
STROBE_SEM ADDIU(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, Gpr(c, d.rs) + d.simm());
  return true;
}
// SLTI rt, rs, immediate
STROBE_SEM SLTI(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, static_cast<int32_t>(Gpr(c, d.rs)) < d.simm());
  return true;
}
// SLTIU rt, rs, immediate: the immediate is sign-extended, then compared unsigned
STROBE_SEM SLTIU(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, Gpr(c, d.rs) < static_cast<uint32_t>(d.simm()));
  return true;
}
// ANDI rt, rs, immediate (zero-extended)
STROBE_SEM ANDI(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, Gpr(c, d.rs) & d.uimm());
  return true;
}
// ORI rt, rs, immediate
STROBE_SEM ORI(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, Gpr(c, d.rs) | d.uimm());
  return true;
}
// XORI rt, rs, immediate
STROBE_SEM XORI(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, Gpr(c, d.rs) ^ d.uimm());
  return true;
}
// LUI rt, immediate
STROBE_SEM LUI(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rt, d.uimm() << 16);
  return true;
}

// --- Counting, bit fields, byte shuffles ---
// CLZ rd, rs
STROBE_SEM CLZ(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t v = Gpr(c, d.rs);
  SetGpr(c, d.rd, v ? __builtin_clz(v) : 32);
  return true;
}
// CLO rd, rs
STROBE_SEM CLO(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t v = ~Gpr(c, d.rs);
  SetGpr(c, d.rd, v ? __builtin_clz(v) : 32);
  return true;
}
// EXT rt, rs, pos, size: the rd field holds size-1, the sa field pos
STROBE_SEM EXT(CpuState& c, const DecodedInsn& d, uint32_t) {
  unsigned pos = d.sa, size = d.rd + 1u;
  uint64_t mask = (1ull << size) - 1;
  SetGpr(c, d.rt, static_cast<uint32_t>((Gpr(c, d.rs) >> pos) & mask));
  return true;
}
// INS rt, rs, pos, size: the rd field holds pos+size-1; msb < lsb is UNPREDICTABLE and leaves rt alone
STROBE_SEM INS(CpuState& c, const DecodedInsn& d, uint32_t) {
  unsigned lsb = d.sa, msb = d.rd;
  if (msb < lsb) return true;
  uint32_t mask = static_cast<uint32_t>(((1ull << (msb - lsb + 1)) - 1) << lsb);
  SetGpr(c, d.rt, (Gpr(c, d.rt) & ~mask) | ((Gpr(c, d.rs) << lsb) & mask));
  return true;
}
// WSBH rd, rt: swap the bytes of each halfword
STROBE_SEM WSBH(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t v = Gpr(c, d.rt);
  SetGpr(c, d.rd, ((v & 0x00FF00FFu) << 8) | ((v >> 8) & 0x00FF00FFu));
  return true;
}
// SEB rd, rt
STROBE_SEM SEB(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, static_cast<uint32_t>(static_cast<int8_t>(Gpr(c, d.rt))));
  return true;
}
// SEH rd, rt
STROBE_SEM SEH(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, static_cast<uint32_t>(static_cast<int16_t>(Gpr(c, d.rt))));
  return true;
}

}  // namespace strobe::mips::sem
