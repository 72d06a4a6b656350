// SPDX-License-Identifier: MIT
// FPU data movement and control (MIPS32 Vol. II): moves between the register files, the FCSR and its
// aliases, FP loads and stores (plain and indexed), conditional moves and the FP branches. None of these
// computes, so none touches the FCSR cause field (CTC1 aside, which writes it).
#pragma once

#include "translator/mips/semantics/fpu_core.h"

namespace strobe::mips::sem {

namespace fpu::detail {
inline bool Enter(CpuState& c) {
  return Usable(c) ? true : runtime::RaiseCpU(c, 1);
}

// CFC1 rt, fs: FIR, FCCR (25), FEXR (26), FENR (28) and FCSR (31). As in QEMU, registers 1 and 5 (UFR/FRE,
// absent here) read 0 and any other number reads the FCSR.
inline uint32_t ReadControl(const CpuState& c, unsigned fs) {
  const uint32_t f = c.fpu.fcsr;
  switch (fs) {
    case 0: return c.fpu.fir;
    case 1:
    case 5: return 0;
    case 25: return ((f >> 24) & 0xFE) | ((f >> 23) & 1);
    case 26: return f & 0x0003F07Cu;
    case 28: return (f & 0x00000F83u) | ((f >> 22) & 4);
    default: return f;
  }
}
// CTC1 rt, fs. Writes to other numbers are ignored (QEMU, pre-Release 6). A write that leaves a cause bit
// set whose enable is set, or Unimplemented Operation, raises the Floating-Point exception at once.
inline bool WriteControl(CpuState& c, unsigned fs, uint32_t v) {
  uint32_t& f = c.fpu.fcsr;
  switch (fs) {
    case 25:
      if (v & 0xFFFFFF00u) return true;
      f = (f & 0x017FFFFFu) | ((v & 0xFE) << 24) | ((v & 1) << 23);
      break;
    case 26:
      if (v & 0x007C0000u) return true;
      f = (f & 0xFFFC0F83u) | (v & 0x0003F07Cu);
      break;
    case 28:
      if (v & 0x007C0000u) return true;
      f = (f & 0xFEFFF07Cu) | (v & 0x00000F83u) | ((v & 4) << 22);
      break;
    case 31: f = (v & kFcsrWritable) | (f & ~kFcsrWritable); break;
    default: return true;
  }
  const uint32_t cause = (f >> kCauseShift) & 0x3F, enabled = ((f >> kEnablesShift) & 0x1F) | kUnimplemented;
  return (cause & enabled) ? runtime::Raise(c, ExcCode::FPE) : true;
}

// The conditional moves check no register pairs (QEMU does not): with FR=0 an odd number names the pair it
// belongs to, as for LDC1.
template <bool kWide>
inline bool MoveIf(CpuState& c, const DecodedInsn& d, bool cond) {
  if (!Enter(c)) return false;
  if (!cond) return true;
  if (kWide) {
    SetDword(c, d.sa, Dword(c, d.rd));
  } else {
    SetWord(c, d.sa, Word(c, d.rd));
  }
  return true;
}
// The tf bit (16) and cc field (20:18) of MOVF/MOVT: does the condition code hold the wanted value?
inline bool CcMatches(const CpuState& c, const DecodedInsn& d) {
  return Cond(c, (d.raw >> 18) & 7) == ((d.raw >> 16) & 1);
}

inline bool BranchOn(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  if (!Enter(c)) return false;
  c.branch_taken = Cond(c, (d.raw >> 18) & 7) == ((d.raw >> 16) & 1);
  c.branch_target = pc + 4 + (static_cast<uint32_t>(d.simm()) << 2);
  return true;
}

inline bool LoadWord(CpuState& c, uint32_t ea, unsigned ft) {
  uint32_t v;
  if (!runtime::Load<uint32_t>(c, ea, &v)) return false;
  SetWord(c, ft, v);
  return true;
}
inline bool StoreWord(CpuState& c, uint32_t ea, unsigned ft) {
  return runtime::Store<uint32_t>(c, ea, Word(c, ft));
}
// Doublewords are naturally aligned, so both halves share one page: the first access takes any fault and
// the second cannot, and nothing is written before a fault.
inline bool LoadDword(CpuState& c, uint32_t ea, unsigned ft) {
  if (ea & 7) return runtime::RaiseAddress(c, ExcCode::AdEL, ea);
  uint32_t lo, hi;
  if (!runtime::Load<uint32_t>(c, ea, &lo) || !runtime::Load<uint32_t>(c, ea + 4, &hi)) return false;
  SetDword(c, ft, lo | (static_cast<uint64_t>(hi) << 32));
  return true;
}
inline bool StoreDword(CpuState& c, uint32_t ea, unsigned ft) {
  if (ea & 7) return runtime::RaiseAddress(c, ExcCode::AdES, ea);
  const uint64_t v = Dword(c, ft);
  return runtime::Store<uint32_t>(c, ea, static_cast<uint32_t>(v)) &&
         runtime::Store<uint32_t>(c, ea + 4, static_cast<uint32_t>(v >> 32));
}
inline uint32_t BaseOffset(const CpuState& c, const DecodedInsn& d) {
  return c.gpr[d.rs] + static_cast<uint32_t>(d.simm());
}
inline uint32_t BaseIndex(const CpuState& c, const DecodedInsn& d) {
  return c.gpr[d.rs] + c.gpr[d.rt];
}
}  // namespace fpu::detail

// --- moves between register files ---
// MFC1 rt, fs
STROBE_SEM MFC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  SetGpr(c, d.rt, fpu::Word(c, d.rd));
  return true;
}
// MTC1 rt, fs
STROBE_SEM MTC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  fpu::SetWord(c, d.rd, Gpr(c, d.rt));
  return true;
}
// MFHC1 rt, fs
STROBE_SEM MFHC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  SetGpr(c, d.rt, fpu::HighWord(c, d.rd));
  return true;
}
// MTHC1 rt, fs
STROBE_SEM MTHC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  fpu::SetHighWord(c, d.rd, Gpr(c, d.rt));
  return true;
}
// CFC1 rt, fs
STROBE_SEM CFC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  SetGpr(c, d.rt, fpu::detail::ReadControl(c, d.rd));
  return true;
}
// CTC1 rt, fs
STROBE_SEM CTC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  return fpu::detail::WriteControl(c, d.rd, Gpr(c, d.rt));
}

// --- branches on a condition code: BC1F/BC1T cc, offset and the likely forms ---
STROBE_SEM BC1F(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return fpu::detail::BranchOn(c, d, pc);
}
STROBE_SEM BC1T(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return fpu::detail::BranchOn(c, d, pc);
}
STROBE_SEM BC1FL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return fpu::detail::BranchOn(c, d, pc);
}
STROBE_SEM BC1TL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return fpu::detail::BranchOn(c, d, pc);
}

// --- conditional moves ---
// MOVF rd, rs, cc / MOVT rd, rs, cc (general registers, on an FP condition code)
STROBE_SEM MOVF(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  if (fpu::detail::CcMatches(c, d)) SetGpr(c, d.rd, Gpr(c, d.rs));
  return true;
}
STROBE_SEM MOVT(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return MOVF(c, d, pc);
}
// MOVF.fmt / MOVT.fmt fd, fs, cc
STROBE_SEM MOVF_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<false>(c, d, fpu::detail::CcMatches(c, d));
}
STROBE_SEM MOVT_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<false>(c, d, fpu::detail::CcMatches(c, d));
}
STROBE_SEM MOVF_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<true>(c, d, fpu::detail::CcMatches(c, d));
}
STROBE_SEM MOVT_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<true>(c, d, fpu::detail::CcMatches(c, d));
}
// MOVZ.fmt / MOVN.fmt fd, fs, rt
STROBE_SEM MOVZ_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<false>(c, d, Gpr(c, d.rt) == 0);
}
STROBE_SEM MOVN_S(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<false>(c, d, Gpr(c, d.rt) != 0);
}
STROBE_SEM MOVZ_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<true>(c, d, Gpr(c, d.rt) == 0);
}
STROBE_SEM MOVN_D(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::MoveIf<true>(c, d, Gpr(c, d.rt) != 0);
}

// --- loads and stores ---
// LWC1 ft, offset(base)
STROBE_SEM LWC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::Enter(c) && fpu::detail::LoadWord(c, fpu::detail::BaseOffset(c, d), d.rt);
}
// SWC1 ft, offset(base)
STROBE_SEM SWC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::Enter(c) && fpu::detail::StoreWord(c, fpu::detail::BaseOffset(c, d), d.rt);
}
// LDC1 ft, offset(base)
STROBE_SEM LDC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::Enter(c) && fpu::detail::LoadDword(c, fpu::detail::BaseOffset(c, d), d.rt);
}
// SDC1 ft, offset(base)
STROBE_SEM SDC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::Enter(c) && fpu::detail::StoreDword(c, fpu::detail::BaseOffset(c, d), d.rt);
}
// LWXC1 fd, index(base)
STROBE_SEM LWXC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::Enter(c) && fpu::detail::LoadWord(c, fpu::detail::BaseIndex(c, d), d.sa);
}
// SWXC1 fs, index(base)
STROBE_SEM SWXC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  return fpu::detail::Enter(c) && fpu::detail::StoreWord(c, fpu::detail::BaseIndex(c, d), d.rd);
}
// LDXC1 fd, index(base)
STROBE_SEM LDXC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  if (!fpu::PairsOk(c, d.sa)) return runtime::Raise(c, ExcCode::RI);
  return fpu::detail::LoadDword(c, fpu::detail::BaseIndex(c, d), d.sa);
}
// SDXC1 fs, index(base)
STROBE_SEM SDXC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  if (!fpu::PairsOk(c, d.rd)) return runtime::Raise(c, ExcCode::RI);
  return fpu::detail::StoreDword(c, fpu::detail::BaseIndex(c, d), d.rd);
}
// LUXC1 fd, index(base): the address rounded down to a doubleword; FR=1 only (QEMU)
STROBE_SEM LUXC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  if (!fpu::Fr(c)) return runtime::Raise(c, ExcCode::RI);
  return fpu::detail::LoadDword(c, fpu::detail::BaseIndex(c, d) & ~7u, d.sa);
}
// SUXC1 fs, index(base)
STROBE_SEM SUXC1(CpuState& c, const DecodedInsn& d, uint32_t) {
  if (!fpu::detail::Enter(c)) return false;
  if (!fpu::Fr(c)) return runtime::Raise(c, ExcCode::RI);
  return fpu::detail::StoreDword(c, fpu::detail::BaseIndex(c, d) & ~7u, d.rd);
}
// PREFX hint, index(base): a hint; never faults beyond the FPU's own usability
STROBE_SEM PREFX(CpuState& c, const DecodedInsn&, uint32_t) {
  return fpu::detail::Enter(c);
}

}  // namespace strobe::mips::sem
