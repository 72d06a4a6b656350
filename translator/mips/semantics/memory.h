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

// The aligned word around ea, for LWL/LWR. A fault reports the instruction's own address in BadVAddr.
inline bool LoadAlignedWord(CpuState& c, uint32_t ea, uint32_t* w) {
  if (runtime::Load<uint32_t>(c, ea & ~3u, w)) return true;
  if (c.exc.has_badvaddr) c.exc.badvaddr = ea;
  return false;
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

// LWL rt, offset(base): the most significant bytes of rt from the bytes at and below ea
STROBE_SEM LWL(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t ea = detail::Ea(c, d), w;
  if (!detail::LoadAlignedWord(c, ea, &w)) return false;
  unsigned shift = 8 * (3 - (ea & 3));
  uint32_t keep = shift ? (0xFFFFFFFFu >> (32 - shift)) : 0;
  SetGpr(c, d.rt, (w << shift) | (c.gpr[d.rt] & keep));
  return true;
}
// LWR rt, offset(base): the least significant bytes of rt from the bytes at and above ea
STROBE_SEM LWR(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t ea = detail::Ea(c, d), w;
  if (!detail::LoadAlignedWord(c, ea, &w)) return false;
  unsigned shift = 8 * (ea & 3);
  uint32_t keep = shift ? ~(0xFFFFFFFFu >> shift) : 0;
  SetGpr(c, d.rt, (w >> shift) | (c.gpr[d.rt] & keep));
  return true;
}
// SWL rt, offset(base): bytes ea down to the aligned word's start get rt's most significant bytes.
// Stored byte by byte from ea downwards, so a fault is a store fault at ea and nothing was written.
STROBE_SEM SWL(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t ea = detail::Ea(c, d), v = c.gpr[d.rt];
  for (unsigned i = 0; i <= (ea & 3); ++i)
    if (!runtime::Store<uint8_t>(c, ea - i, v >> (24 - 8 * i))) return false;
  return true;
}
// SWR rt, offset(base): bytes ea up to the aligned word's end get rt's least significant bytes
STROBE_SEM SWR(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t ea = detail::Ea(c, d), v = c.gpr[d.rt];
  for (unsigned i = 0; i < 4 - (ea & 3); ++i)
    if (!runtime::Store<uint8_t>(c, ea + i, v >> (8 * i))) return false;
  return true;
}

// LL rt, offset(base): sets the LL bit and LLAddr (the physical address >> 4)
STROBE_SEM LL(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t ea = detail::Ea(c, d), v;
  if (!runtime::Load<uint32_t>(c, ea, &v)) return false;
  runtime::Translation t;
  if (runtime::Translate(c, ea, runtime::Access::kRead, &t)) c.cp0.lladdr = t.paddr >> 4;
  c.ll_bit = true;
  SetGpr(c, d.rt, v);
  return true;
}
// SC rt, offset(base): stores only while the LL bit holds; rt = 1 on success, 0 on failure
STROBE_SEM SC(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t ea = detail::Ea(c, d);
  if (ea & 3) return runtime::RaiseAddress(c, ExcCode::AdES, ea);
  if (!c.ll_bit) {
    SetGpr(c, d.rt, 0);
    return true;
  }
  if (!runtime::Store<uint32_t>(c, ea, c.gpr[d.rt])) return false;
  SetGpr(c, d.rt, 1);
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
// CACHE op, offset(base): privileged; no cache is modelled
STROBE_SEM CACHE(CpuState& c, const DecodedInsn&, uint32_t) {
  if (!Cp0Usable(c)) return runtime::RaiseCpU(c, 0);
  return true;
}

}  // namespace strobe::mips::sem
