// SPDX-License-Identifier: MIT
// Loads, stores, unaligned word pieces, LL/SC and the cache/prefetch hints (MIPS32 Vol. II).
// Little-endian byte order throughout.
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
inline uint32_t Ea(const CpuState& c, const DecodedInsn& d) {
  return c.gpr[d.rs] + static_cast<uint32_t>(d.simm());
}
}  // namespace detail

// --- Loads and stores, written once over an emitter (common.h) ---
namespace detail {
template <class E>
auto EaOf(E& e, const DecodedInsn& d) {  // base + sign-extended offset
  return e.Add(e.Gpr(d.rs), e.Imm(static_cast<uint32_t>(d.simm())));
}
template <typename T, class E>
bool LoadInto(E& e, const DecodedInsn& d) {
  typename E::Value v;
  if (!e.template Load<T>(EaOf(e, d), d.rs, &v)) return false;
  e.SetGpr(d.rt, v);
  return true;
}
template <typename T, class E>
bool StoreFrom(E& e, const DecodedInsn& d) {
  auto ea = EaOf(e, d);
  return e.template Store<T>(ea, e.Gpr(d.rt), d.rs);
}
}  // namespace detail

// LB rt, offset(base)
STROBE_SEM_E LB(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::LoadInto<int8_t>(e, d);
}
// LBU rt, offset(base)
STROBE_SEM_E LBU(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::LoadInto<uint8_t>(e, d);
}
// LH rt, offset(base)
STROBE_SEM_E LH(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::LoadInto<int16_t>(e, d);
}
// LHU rt, offset(base)
STROBE_SEM_E LHU(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::LoadInto<uint16_t>(e, d);
}
// LW rt, offset(base)
STROBE_SEM_E LW(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::LoadInto<uint32_t>(e, d);
}
// SB rt, offset(base)
STROBE_SEM_E SB(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::StoreFrom<uint8_t>(e, d);
}
// SH rt, offset(base)
STROBE_SEM_E SH(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::StoreFrom<uint16_t>(e, d);
}
// SW rt, offset(base)
STROBE_SEM_E SW(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::StoreFrom<uint32_t>(e, d);
}

// The unaligned word pieces (little-endian). sh = 8 * (ea & 3) is where ea's byte sits in its aligned word.
namespace detail {
template <class E>
auto ByteShift(E& e, typename E::Value ea) {
  return e.Shl(e.And(ea, e.Imm(3)), e.Imm(3));
}
}  // namespace detail
// LWL rt, offset(base): the bytes from ea down to the aligned word's start become rt's most significant bytes
STROBE_SEM_E LWL(E& e, const DecodedInsn& d, typename E::Pc) {
  auto ea = detail::EaOf(e, d);
  typename E::Value w;
  if (!e.LoadWordAround(ea, d.rs, &w)) return false;
  auto sh = detail::ByteShift(e, ea);
  e.SetGpr(d.rt, e.Or(e.Shl(w, e.Sub(e.Imm(24), sh)), e.And(e.Gpr(d.rt), e.Lshr(e.Imm(0x00FFFFFFu), sh))));
  return true;
}
// LWR rt, offset(base): the bytes from ea up to the aligned word's end become rt's least significant bytes
STROBE_SEM_E LWR(E& e, const DecodedInsn& d, typename E::Pc) {
  auto ea = detail::EaOf(e, d);
  typename E::Value w;
  if (!e.LoadWordAround(ea, d.rs, &w)) return false;
  auto sh = detail::ByteShift(e, ea);
  e.SetGpr(d.rt, e.Or(e.Lshr(w, sh), e.And(e.Gpr(d.rt), e.Not(e.Lshr(e.Imm(~0u), sh)))));
  return true;
}
// SWL rt, offset(base): the bytes from ea down to the aligned word's start get rt's most significant bytes
STROBE_SEM_E SWL(E& e, const DecodedInsn& d, typename E::Pc) {
  auto ea = detail::EaOf(e, d);
  auto rsh = e.Sub(e.Imm(24), detail::ByteShift(e, ea));
  return e.StoreWordPart(ea, e.Lshr(e.Gpr(d.rt), rsh), e.Lshr(e.Imm(~0u), rsh), d.rs);
}
// SWR rt, offset(base): the bytes from ea up to the aligned word's end get rt's least significant bytes
STROBE_SEM_E SWR(E& e, const DecodedInsn& d, typename E::Pc) {
  auto ea = detail::EaOf(e, d);
  auto sh = detail::ByteShift(e, ea);
  return e.StoreWordPart(ea, e.Shl(e.Gpr(d.rt), sh), e.Shl(e.Imm(~0u), sh), d.rs);
}

// LL rt, offset(base): a word load that sets the LL bit and LLAddr (the physical address >> 4)
STROBE_SEM_E LL(E& e, const DecodedInsn& d, typename E::Pc) {
  typename E::Value v;
  if (!e.LoadLinked(detail::EaOf(e, d), d.rs, &v)) return false;
  e.SetGpr(d.rt, v);
  return true;
}
// SC rt, offset(base): stores only while the LL bit holds; rt = 1 on success, 0 on failure
STROBE_SEM_E SC(E& e, const DecodedInsn& d, typename E::Pc) {
  typename E::Value ok;
  auto ea = detail::EaOf(e, d);
  if (!e.StoreConditional(ea, e.Gpr(d.rt), d.rs, &ok)) return false;
  e.SetGpr(d.rt, ok);
  return true;
}

// PREF hint, offset(base): a hint; never faults
STROBE_SEM_E PREF(E&, const DecodedInsn&, typename E::Pc) {
  return true;
}
// SYNC stype: the single vCPU sees its accesses in order
STROBE_SEM_E SYNC(E&, const DecodedInsn&, typename E::Pc) {
  return true;
}
// SYNCI offset(base): instruction fetch is kept coherent with stores, so there is nothing to do
STROBE_SEM_E SYNCI(E&, const DecodedInsn&, typename E::Pc) {
  return true;
}
// CACHE op, offset(base): privileged (Coprocessor Unusable, CE = 0, in user mode without CU0); no cache is
// modelled, so that is all it does
STROBE_SEM_E CACHE(E& e, const DecodedInsn&, typename E::Pc) {
  return !e.RaiseIf(detail::Cp0Unusable(e), ExcCode::CpU);
}

}  // namespace strobe::mips::sem
