// SPDX-License-Identifier: MIT
// System control: CP0 moves, TLB operations, ERET/WAIT, exceptions and traps, RDHWR, and the absent
// coprocessor 2. The privileged semantics live in runtime/; these handlers check access and call it.
#pragma once

#include "runtime/cp0_plain.h"
#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

#define STROBE_REQUIRE_CP0(c) \
  if (!Cp0Usable(c)) return runtime::RaiseCpU(c, 0)

// MFC0 rt, rd, sel
STROBE_SEM_E MFC0(E& e, const DecodedInsn& d, typename E::Pc) {
  if (e.RaiseIf(detail::Cp0Unusable(e), ExcCode::CpU)) return false;
  e.SetGpr(d.rt, e.ReadCp0(d.rd, d.sel()));
  return true;
}
// MTC0 rt, rd, sel
STROBE_SEM_E MTC0(E& e, const DecodedInsn& d, typename E::Pc) {
  if (e.RaiseIf(detail::Cp0Unusable(e), ExcCode::CpU)) return false;
  e.WriteCp0(d.rd, d.sel(), e.Gpr(d.rt));
  return true;
}
// Emitters of code run MFC0 and MTC0 inline only for the registers that are plain fields
// (runtime/cp0_plain.h); for the others they call the handler, which reads or writes through the runtime.
inline bool Cp0AccessNeedsHandler(const DecodedInsn& d) {
  if (d.op == Opcode::MFC0) return !runtime::PlainCp0(d.rd, d.sel()).readable();
  if (d.op == Opcode::MTC0) return !runtime::PlainCp0(d.rd, d.sel()).writable();
  return false;
}
// DI rt: rt = Status; Status.IE = 0
STROBE_SEM_E DI(E& e, const DecodedInsn& d, typename E::Pc) {
  if (e.RaiseIf(detail::Cp0Unusable(e), ExcCode::CpU)) return false;
  auto s = e.Status();
  e.MaskInterrupts();
  e.SetGpr(d.rt, s);
  return true;
}
// EI rt: rt = Status; Status.IE = 1
STROBE_SEM EI(CpuState& c, const DecodedInsn& d, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  uint32_t s = c.cp0.status;
  runtime::WriteCp0(c, 12, 0, s | runtime::st::IE);
  SetGpr(c, d.rt, s);
  return true;
}
// RDPGPR rd, rt: one shadow register set, so the previous set is the current one
STROBE_SEM RDPGPR(CpuState& c, const DecodedInsn& d, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  SetGpr(c, d.rd, Gpr(c, d.rt));
  return true;
}
// WRPGPR rd, rt
STROBE_SEM WRPGPR(CpuState& c, const DecodedInsn& d, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  SetGpr(c, d.rd, Gpr(c, d.rt));
  return true;
}
// TLBR
STROBE_SEM TLBR(CpuState& c, const DecodedInsn&, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  runtime::Tlbr(c);
  return true;
}
// TLBWI
STROBE_SEM TLBWI(CpuState& c, const DecodedInsn&, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  runtime::Tlbwi(c);
  return true;
}
// TLBWR
STROBE_SEM TLBWR(CpuState& c, const DecodedInsn&, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  runtime::Tlbwr(c);
  return true;
}
// TLBP
STROBE_SEM TLBP(CpuState& c, const DecodedInsn&, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  runtime::Tlbp(c);
  return true;
}
// ERET: no delay slot; the next PC comes from EPC or ErrorEPC
STROBE_SEM ERET(CpuState& c, const DecodedInsn&, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  runtime::Eret(c);
  return true;
}
// WAIT: the dispatcher idles the vCPU until an interrupt is pending; EPC will be the next instruction
STROBE_SEM WAIT(CpuState& c, const DecodedInsn&, uint32_t) {
  STROBE_REQUIRE_CP0(c);
  c.exit_request |= runtime::exitreq::kWait;
  return true;
}
#undef STROBE_REQUIRE_CP0

// SYSCALL code
STROBE_SEM SYSCALL(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::Raise(c, ExcCode::Sys);
}
// BREAK code
STROBE_SEM BREAK(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::Raise(c, ExcCode::Bp);
}

// --- Traps: Trap exception when the condition holds ---
namespace detail {
template <class E, class B>
bool Trap(E& e, B cond) {
  return !e.RaiseIf(cond, ExcCode::Tr);
}
template <class E>
auto SImm(E& e, const DecodedInsn& d) {  // the sign-extended immediate
  return e.Imm(static_cast<uint32_t>(d.simm()));
}
}  // namespace detail

// TGE rs, rt
STROBE_SEM_E TGE(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  return detail::Trap(e, e.Sge(a, e.Gpr(d.rt)));
}
// TGEU rs, rt
STROBE_SEM_E TGEU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  return detail::Trap(e, e.Uge(a, e.Gpr(d.rt)));
}
// TLT rs, rt
STROBE_SEM_E TLT(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  return detail::Trap(e, e.Slt(a, e.Gpr(d.rt)));
}
// TLTU rs, rt
STROBE_SEM_E TLTU(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  return detail::Trap(e, e.Ult(a, e.Gpr(d.rt)));
}
// TEQ rs, rt
STROBE_SEM_E TEQ(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  return detail::Trap(e, e.Eq(a, e.Gpr(d.rt)));
}
// TNE rs, rt
STROBE_SEM_E TNE(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  return detail::Trap(e, e.Ne(a, e.Gpr(d.rt)));
}
// TGEI rs, immediate
STROBE_SEM_E TGEI(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::Trap(e, e.Sge(e.Gpr(d.rs), detail::SImm(e, d)));
}
// TGEIU rs, immediate: sign-extended immediate compared unsigned
STROBE_SEM_E TGEIU(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::Trap(e, e.Uge(e.Gpr(d.rs), detail::SImm(e, d)));
}
// TLTI rs, immediate
STROBE_SEM_E TLTI(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::Trap(e, e.Slt(e.Gpr(d.rs), detail::SImm(e, d)));
}
// TLTIU rs, immediate
STROBE_SEM_E TLTIU(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::Trap(e, e.Ult(e.Gpr(d.rs), detail::SImm(e, d)));
}
// TEQI rs, immediate
STROBE_SEM_E TEQI(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::Trap(e, e.Eq(e.Gpr(d.rs), detail::SImm(e, d)));
}
// TNEI rs, immediate
STROBE_SEM_E TNEI(E& e, const DecodedInsn& d, typename E::Pc) {
  return detail::Trap(e, e.Ne(e.Gpr(d.rs), detail::SImm(e, d)));
}

// RDHWR rt, rd: Reserved Instruction when the register is not enabled for user mode (the kernel emulates)
STROBE_SEM RDHWR(CpuState& c, const DecodedInsn& d, uint32_t) {
  uint32_t v;
  if (!runtime::ReadHwr(c, d.rd, &v)) return runtime::Raise(c, ExcCode::RI);
  SetGpr(c, d.rt, v);
  return true;
}

// No COP2: Coprocessor Unusable with Cause.CE naming the unit.
STROBE_SEM COP2(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::RaiseCpU(c, 2);
}
STROBE_SEM LWC2(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::RaiseCpU(c, 2);
}
STROBE_SEM LDC2(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::RaiseCpU(c, 2);
}
STROBE_SEM SWC2(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::RaiseCpU(c, 2);
}
STROBE_SEM SDC2(CpuState& c, const DecodedInsn&, uint32_t) {
  return runtime::RaiseCpU(c, 2);
}

// Encodings that match no table row. In the COP1 and COP1X spaces (paired single, MIPS-3D, reserved
// formats) the FPU's usability is checked first, as QEMU and the hardware do: with CU1=0, and always on a
// 24Kc, they raise Coprocessor Unusable and the kernel's emulator decides.
STROBE_SEM kInvalid(CpuState& c, const DecodedInsn& d, uint32_t) {
  const uint32_t major = d.raw >> 26;
  if ((major == 0x11 || major == 0x13) && !(c.cp0.status & runtime::st::CU1)) return runtime::RaiseCpU(c, 1);
  return runtime::Raise(c, ExcCode::RI);
}

}  // namespace strobe::mips::sem
