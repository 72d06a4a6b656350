// SPDX-License-Identifier: MIT
// Branches and jumps. Each handler records its outcome in c.branch_taken / c.branch_target and writes its
// link register; the dispatcher runs the delay slot (or nullifies it, for the likely forms) and then
// applies the outcome. Operands are read before the slot runs, as the architecture requires.
#pragma once

#include "translator/mips/semantics/common.h"

namespace strobe::mips::sem {

namespace detail {
inline bool Branch(CpuState& c, bool taken, uint32_t pc, const DecodedInsn& d) {
  c.branch_taken = taken;
  c.branch_target = pc + 4 + (static_cast<uint32_t>(d.simm()) << 2);
  return true;
}
inline int32_t S(const CpuState& c, unsigned r) {
  return static_cast<int32_t>(c.gpr[r]);
}
}  // namespace detail

// BEQ rs, rt, offset
STROBE_SEM BEQ(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return detail::Branch(c, Gpr(c, d.rs) == Gpr(c, d.rt), pc, d);
}
// BNE rs, rt, offset
STROBE_SEM BNE(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return detail::Branch(c, Gpr(c, d.rs) != Gpr(c, d.rt), pc, d);
}
// BLEZ rs, offset
STROBE_SEM BLEZ(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return detail::Branch(c, detail::S(c, d.rs) <= 0, pc, d);
}
// BGTZ rs, offset
STROBE_SEM BGTZ(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return detail::Branch(c, detail::S(c, d.rs) > 0, pc, d);
}
// BLTZ rs, offset
STROBE_SEM BLTZ(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return detail::Branch(c, detail::S(c, d.rs) < 0, pc, d);
}
// BGEZ rs, offset
STROBE_SEM BGEZ(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return detail::Branch(c, detail::S(c, d.rs) >= 0, pc, d);
}
// BEQL rs, rt, offset
STROBE_SEM BEQL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BEQ(c, d, pc);
}
// BNEL rs, rt, offset
STROBE_SEM BNEL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BNE(c, d, pc);
}
// BLEZL rs, offset
STROBE_SEM BLEZL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BLEZ(c, d, pc);
}
// BGTZL rs, offset
STROBE_SEM BGTZL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BGTZ(c, d, pc);
}
// BLTZL rs, offset
STROBE_SEM BLTZL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BLTZ(c, d, pc);
}
// BGEZL rs, offset
STROBE_SEM BGEZL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BGEZ(c, d, pc);
}
// BLTZAL rs, offset: links whether or not the branch is taken
STROBE_SEM BLTZAL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  bool taken = detail::S(c, d.rs) < 0;
  SetGpr(c, 31, pc + 8);
  return detail::Branch(c, taken, pc, d);
}
// BGEZAL rs, offset (BAL is BGEZAL $zero)
STROBE_SEM BGEZAL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  bool taken = detail::S(c, d.rs) >= 0;
  SetGpr(c, 31, pc + 8);
  return detail::Branch(c, taken, pc, d);
}
// BLTZALL rs, offset
STROBE_SEM BLTZALL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BLTZAL(c, d, pc);
}
// BGEZALL rs, offset
STROBE_SEM BGEZALL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  return BGEZAL(c, d, pc);
}

// J target: the region is that of the delay slot
STROBE_SEM J(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  c.branch_taken = true;
  c.branch_target = ((pc + 4) & 0xF0000000u) | (d.target26() << 2);
  return true;
}
// JAL target
STROBE_SEM JAL(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  SetGpr(c, 31, pc + 8);
  return J(c, d, pc);
}
// JR rs (and JR.HB: hazard barriers need nothing here)
STROBE_SEM JR(CpuState& c, const DecodedInsn& d, uint32_t) {
  c.branch_taken = true;
  c.branch_target = Gpr(c, d.rs);
  return true;
}
// JALR rd, rs: the target is read before the link is written
STROBE_SEM JALR(CpuState& c, const DecodedInsn& d, uint32_t pc) {
  uint32_t target = Gpr(c, d.rs);
  SetGpr(c, d.rd, pc + 8);
  c.branch_taken = true;
  c.branch_target = target;
  return true;
}

}  // namespace strobe::mips::sem
