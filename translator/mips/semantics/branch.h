// SPDX-License-Identifier: MIT
// Branches and jumps, written once over an emitter (common.h). Each handler records its outcome (e.Branch,
// e.JumpWithin, e.JumpTo) and writes its link register; the interpreter's dispatcher runs the delay slot
// (or nullifies it, for the likely forms) and then applies the outcome, and the lifter emits the same
// decision as IR. Operands are read before the slot runs, as the architecture requires.
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
// The PC-relative displacement from the delay slot.
inline int32_t Displacement(const DecodedInsn& d) {
  return static_cast<int32_t>(static_cast<uint32_t>(d.simm()) << 2);
}
}  // namespace detail

// BEQ rs, rt, offset
STROBE_SEM_E BEQ(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.Branch(e.Eq(a, e.Gpr(d.rt)), detail::Displacement(d));
  return true;
}
// BNE rs, rt, offset
STROBE_SEM_E BNE(E& e, const DecodedInsn& d, typename E::Pc) {
  auto a = e.Gpr(d.rs);
  e.Branch(e.Ne(a, e.Gpr(d.rt)), detail::Displacement(d));
  return true;
}
// BLEZ rs, offset
STROBE_SEM_E BLEZ(E& e, const DecodedInsn& d, typename E::Pc) {
  e.Branch(e.Sle(e.Gpr(d.rs), e.Imm(0)), detail::Displacement(d));
  return true;
}
// BGTZ rs, offset
STROBE_SEM_E BGTZ(E& e, const DecodedInsn& d, typename E::Pc) {
  e.Branch(e.Sgt(e.Gpr(d.rs), e.Imm(0)), detail::Displacement(d));
  return true;
}
// BLTZ rs, offset
STROBE_SEM_E BLTZ(E& e, const DecodedInsn& d, typename E::Pc) {
  e.Branch(e.Slt(e.Gpr(d.rs), e.Imm(0)), detail::Displacement(d));
  return true;
}
// BGEZ rs, offset
STROBE_SEM_E BGEZ(E& e, const DecodedInsn& d, typename E::Pc) {
  e.Branch(e.Sge(e.Gpr(d.rs), e.Imm(0)), detail::Displacement(d));
  return true;
}
// BEQL rs, rt, offset
STROBE_SEM_E BEQL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BEQ(e, d, pc);
}
// BNEL rs, rt, offset
STROBE_SEM_E BNEL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BNE(e, d, pc);
}
// BLEZL rs, offset
STROBE_SEM_E BLEZL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BLEZ(e, d, pc);
}
// BGTZL rs, offset
STROBE_SEM_E BGTZL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BGTZ(e, d, pc);
}
// BLTZL rs, offset
STROBE_SEM_E BLTZL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BLTZ(e, d, pc);
}
// BGEZL rs, offset
STROBE_SEM_E BGEZL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BGEZ(e, d, pc);
}
// BLTZAL rs, offset: links whether or not the branch is taken
STROBE_SEM_E BLTZAL(E& e, const DecodedInsn& d, typename E::Pc) {
  auto taken = e.Slt(e.Gpr(d.rs), e.Imm(0));
  e.SetGpr(31, e.Address(8));
  e.Branch(taken, detail::Displacement(d));
  return true;
}
// BGEZAL rs, offset (BAL is BGEZAL $zero)
STROBE_SEM_E BGEZAL(E& e, const DecodedInsn& d, typename E::Pc) {
  auto taken = e.Sge(e.Gpr(d.rs), e.Imm(0));
  e.SetGpr(31, e.Address(8));
  e.Branch(taken, detail::Displacement(d));
  return true;
}
// BLTZALL rs, offset
STROBE_SEM_E BLTZALL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BLTZAL(e, d, pc);
}
// BGEZALL rs, offset
STROBE_SEM_E BGEZALL(E& e, const DecodedInsn& d, typename E::Pc pc) {
  return BGEZAL(e, d, pc);
}

// J target: the 256 MiB region is that of the delay slot
STROBE_SEM_E J(E& e, const DecodedInsn& d, typename E::Pc) {
  e.JumpWithin(d.target26() << 2);
  return true;
}
// JAL target
STROBE_SEM_E JAL(E& e, const DecodedInsn& d, typename E::Pc) {
  e.SetGpr(31, e.Address(8));
  e.JumpWithin(d.target26() << 2);
  return true;
}
// JR rs (and JR.HB: hazard barriers need nothing here)
STROBE_SEM_E JR(E& e, const DecodedInsn& d, typename E::Pc) {
  e.JumpTo(e.Gpr(d.rs));
  return true;
}
// JALR rd, rs: the target is read before the link is written
STROBE_SEM_E JALR(E& e, const DecodedInsn& d, typename E::Pc) {
  auto target = e.Gpr(d.rs);
  e.SetGpr(d.rd, e.Address(8));
  e.JumpTo(target);
  return true;
}

}  // namespace strobe::mips::sem
