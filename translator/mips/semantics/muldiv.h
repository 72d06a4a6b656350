// SPDX-License-Identifier: MIT
// Multiply, divide and HI/LO accumulator instructions (MIPS32 Vol. II).
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
inline uint64_t HiLo(const CpuState& c) {
  return (static_cast<uint64_t>(c.hi) << 32) | c.lo;
}
inline void SetHiLo(CpuState& c, uint64_t v) {
  c.hi = static_cast<uint32_t>(v >> 32);
  c.lo = static_cast<uint32_t>(v);
}
inline int64_t SProduct(const CpuState& c, const DecodedInsn& d) {
  return static_cast<int64_t>(static_cast<int32_t>(c.gpr[d.rs])) * static_cast<int32_t>(c.gpr[d.rt]);
}
inline uint64_t UProduct(const CpuState& c, const DecodedInsn& d) {
  return static_cast<uint64_t>(c.gpr[d.rs]) * c.gpr[d.rt];
}
}  // namespace detail

// MUL rd, rs, rt (release 1+): HI and LO are left as they were
STROBE_SEM MUL(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, static_cast<uint32_t>(detail::SProduct(c, d)));
  return true;
}
// MULT rs, rt
STROBE_SEM MULT(CpuState& c, const DecodedInsn& d, uint32_t) {
  detail::SetHiLo(c, static_cast<uint64_t>(detail::SProduct(c, d)));
  return true;
}
// MULTU rs, rt
STROBE_SEM MULTU(CpuState& c, const DecodedInsn& d, uint32_t) {
  detail::SetHiLo(c, detail::UProduct(c, d));
  return true;
}
// MADD rs, rt
STROBE_SEM MADD(CpuState& c, const DecodedInsn& d, uint32_t) {
  detail::SetHiLo(c, detail::HiLo(c) + static_cast<uint64_t>(detail::SProduct(c, d)));
  return true;
}
// MADDU rs, rt
STROBE_SEM MADDU(CpuState& c, const DecodedInsn& d, uint32_t) {
  detail::SetHiLo(c, detail::HiLo(c) + detail::UProduct(c, d));
  return true;
}
// MSUB rs, rt
STROBE_SEM MSUB(CpuState& c, const DecodedInsn& d, uint32_t) {
  detail::SetHiLo(c, detail::HiLo(c) - static_cast<uint64_t>(detail::SProduct(c, d)));
  return true;
}
// MSUBU rs, rt
STROBE_SEM MSUBU(CpuState& c, const DecodedInsn& d, uint32_t) {
  detail::SetHiLo(c, detail::HiLo(c) - detail::UProduct(c, d));
  return true;
}
// DIV rs, rt. Division by zero is UNPREDICTABLE and must not trap; like the 24K-class cores modelled by our
// oracles, a zero (or INT_MIN / -1) divisor behaves as a divisor of one: LO = rs, HI = 0.
STROBE_SEM DIV(CpuState& c, const DecodedInsn& d, uint32_t) {
  int32_t a = static_cast<int32_t>(Gpr(c, d.rs)), b = static_cast<int32_t>(Gpr(c, d.rt));
  if (b == 0 || (a == INT32_MIN && b == -1)) b = 1;
  c.lo = static_cast<uint32_t>(a / b);
  c.hi = static_cast<uint32_t>(a % b);
  return true;
}
// DIVU rs, rt
STROBE_SEM DIVU(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t a = Gpr(c, d.rs), b = Gpr(c, d.rt);
  if (b == 0) b = 1;
  c.lo = a / b;
  c.hi = a % b;
  return true;
}
// MFHI rd
STROBE_SEM MFHI(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, c.hi);
  return true;
}
// MFLO rd
STROBE_SEM MFLO(CpuState& c, const DecodedInsn& d, uint32_t) {
  SetGpr(c, d.rd, c.lo);
  return true;
}
// MTHI rs
STROBE_SEM MTHI(CpuState& c, const DecodedInsn& d, uint32_t) {
  c.hi = Gpr(c, d.rs);
  return true;
}
// MTLO rs
STROBE_SEM MTLO(CpuState& c, const DecodedInsn& d, uint32_t) {
  c.lo = Gpr(c, d.rs);
  return true;
}

}  // namespace strobe::mips::sem
