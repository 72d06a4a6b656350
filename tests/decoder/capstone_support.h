// SPDX-License-Identifier: MIT
// Capstone 4.0.2 as an independent MIPS32 decoder, and the written-down differences between it and
// mips32.inc: rows it cannot check, field values it refuses, and the aliases it prints. Every entry carries
// its reason; the tests in this folder fail on any difference that is not listed here.
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "translator/mips/decoder.h"
#include "translator/mips/encoder.h"

namespace strobe::mips::test {

// Capstone 4.0.2 has no MIPS32r2 mode bit (CS_MODE_MIPS32R6 and CS_MODE_MIPS2/3 exist, not R2):
// CS_MODE_MIPS32 decodes the MIPS32r2 integer ISA plus every ASE LLVM 3.x knew (DSP, MSA, MIPS16 JALX).
inline constexpr cs_mode kCapstoneMode = static_cast<cs_mode>(CS_MODE_MIPS32 | CS_MODE_LITTLE_ENDIAN);

struct CsOperand {
  enum Kind { kReg, kImm, kMem } kind = kImm;
  int reg = -1;  // GPR number for kReg (Capstone numbers hardware registers like GPRs), -1 otherwise
  int64_t imm = 0;
  int base = -1;  // kMem: GPR number of the base
  int64_t disp = 0;
};

struct CsResult {
  bool valid = false;
  std::string mnemonic, op_str;
  std::vector<CsOperand> ops;  // filled only with detail on
  std::string Text() const { return valid ? mnemonic + " " + op_str : "<invalid>"; }
};

class Capstone {
 public:
  explicit Capstone(bool detail) {
    ok_ = cs_open(CS_ARCH_MIPS, kCapstoneMode, &handle_) == CS_ERR_OK;
    if (!ok_) return;
    cs_option(handle_, CS_OPT_DETAIL, detail ? CS_OPT_ON : CS_OPT_OFF);
    insn_ = cs_malloc(handle_);
  }
  ~Capstone() {
    if (insn_) cs_free(insn_, 1);
    if (ok_) cs_close(&handle_);
  }
  Capstone(const Capstone&) = delete;
  Capstone& operator=(const Capstone&) = delete;

  bool ok() const { return ok_ && insn_ != nullptr; }

  // Disassembles one little-endian word at pc (PC-relative targets come back absolute).
  CsResult Disassemble(uint32_t word, uint32_t pc = 0x1000) {
    CsResult r;
    uint8_t bytes[4] = {static_cast<uint8_t>(word), static_cast<uint8_t>(word >> 8),
                        static_cast<uint8_t>(word >> 16), static_cast<uint8_t>(word >> 24)};
    const uint8_t* code = bytes;
    size_t size = sizeof bytes;
    uint64_t address = pc;
    if (!cs_disasm_iter(handle_, &code, &size, &address, insn_)) return r;
    r.valid = true;
    r.mnemonic = insn_->mnemonic;
    r.op_str = insn_->op_str;
    if (insn_->detail) {
      const cs_mips& m = insn_->detail->mips;
      for (int i = 0; i < m.op_count; ++i) {
        const cs_mips_op& o = m.operands[i];
        CsOperand op;
        if (o.type == MIPS_OP_REG) {
          op.kind = CsOperand::kReg;
          op.reg = GprNumber(o.reg);
        } else if (o.type == MIPS_OP_MEM) {
          op.kind = CsOperand::kMem;
          op.base = GprNumber(static_cast<mips_reg>(o.mem.base));
          op.disp = o.mem.disp;
        } else {
          op.imm = o.imm;
        }
        r.ops.push_back(op);
      }
    }
    return r;
  }

 private:
  static int GprNumber(mips_reg reg) {
    return reg >= MIPS_REG_0 && reg <= MIPS_REG_31 ? static_cast<int>(reg - MIPS_REG_0) : -1;
  }

  csh handle_ = 0;
  cs_insn* insn_ = nullptr;
  bool ok_ = false;
};

// Rows Capstone cannot check at all.
struct CapstoneExclusion {
  Opcode op;
  std::string_view reason;
};
inline constexpr CapstoneExclusion kCapstoneExclusions[] = {
    {Opcode::RDPGPR, "Capstone 4.0.2 lacks RDPGPR (shadow register sets): every encoding is <invalid>"},
    {Opcode::WRPGPR, "Capstone 4.0.2 lacks WRPGPR (shadow register sets): every encoding is <invalid>"},
    {Opcode::COP2,
     "umbrella row for the whole COP2 opcode (always CpU here); Capstone decodes only "
     "mfc2/bc2* and rejects the implementation-defined rest"},
};

// Rows Capstone checks only for some field values; the generators keep to them.
struct CapstoneConstraint {
  Opcode op;
  bool (*accepts)(const DecodedInsn&);
  void (*restrict_fields)(Fields&);
  std::string_view reason;
};
inline constexpr CapstoneConstraint kCapstoneConstraints[] = {
    {Opcode::JR, [](const DecodedInsn& d) { return d.sa == 0 || d.sa == 16; },
     [](Fields& f) { f.code &= 16; },
     "Capstone decodes hint 0 and 16 (jr.hb) only; MIPS32r2 reserves the other hints and Strobe runs them as "
     "JR"},
    {Opcode::JALR, [](const DecodedInsn& d) { return d.sa == 0 || d.sa == 16; },
     [](Fields& f) { f.code &= 16; },
     "Capstone decodes hint 0 and 16 (jalr.hb) only; MIPS32r2 reserves the other hints and Strobe runs them "
     "as "
     "JALR"},
    {Opcode::WAIT, [](const DecodedInsn& d) { return ((d.raw >> 6) & 0x7FFFF) == 0; },
     [](Fields& f) { f.code = 0; },
     "Capstone decodes WAIT only with a zero implementation-defined code field (bits 24:6)"},
    {Opcode::RDHWR, [](const DecodedInsn& d) { return d.rd == 29; }, [](Fields& f) { f.rd = 29; },
     "Capstone 4.0.2 accepts only hardware register 29 (UserLocal); 0-3 (CPUNum, SYNCI_Step, CC, CCRes) "
     "are <invalid>"},
};

// Mnemonics Capstone prints instead of the row's name, and exactly when.
struct CapstoneAlias {
  Opcode op;
  std::string_view mnemonic;
  bool (*applies)(const DecodedInsn&);
  uint32_t example;
  std::string_view reason;
};
inline constexpr CapstoneAlias kCapstoneAliases[] = {
    {Opcode::SLL, "nop", [](const DecodedInsn& d) { return d.rd == 0 && d.rt == 0 && d.sa == 0; }, 0x00000000,
     "sll $0,$0,0 is the canonical NOP"},
    {Opcode::SLL, "ssnop", [](const DecodedInsn& d) { return d.rd == 0 && d.rt == 0 && d.sa == 1; },
     0x00000040, "sll $0,$0,1 is SSNOP (superscalar no-op)"},
    {Opcode::SLL, "ehb", [](const DecodedInsn& d) { return d.rd == 0 && d.rt == 0 && d.sa == 3; }, 0x000000C0,
     "sll $0,$0,3 is EHB (execution hazard barrier, Release 2)"},
    {Opcode::SLL, "pause", [](const DecodedInsn& d) { return d.rd == 0 && d.rt == 0 && d.sa == 5; },
     0x00000140, "sll $0,$0,5 is PAUSE (Release 2.5): a NOP-class hint"},
    {Opcode::ADDU, "move", [](const DecodedInsn& d) { return d.rt == 0; }, 0x00800821,
     "addu rd, rs, $zero is the assembler's MOVE"},
    {Opcode::OR, "move", [](const DecodedInsn& d) { return d.rt == 0; }, 0x00800825,
     "or rd, rs, $zero is the assembler's MOVE"},
    {Opcode::SUB, "neg", [](const DecodedInsn& d) { return d.rs == 0; }, 0x00030822,
     "sub rd, $zero, rt is the assembler's NEG"},
    {Opcode::SUBU, "negu", [](const DecodedInsn& d) { return d.rs == 0; }, 0x00030823,
     "subu rd, $zero, rt is the assembler's NEGU"},
    {Opcode::NOR, "not", [](const DecodedInsn& d) { return d.rt == 0; }, 0x00400827,
     "nor rd, rs, $zero is the assembler's NOT"},
    {Opcode::BEQ, "b", [](const DecodedInsn& d) { return d.rs == 0 && d.rt == 0; }, 0x1000FFFF,
     "beq $0, $0, off is the unconditional branch B"},
    {Opcode::BEQ, "beqz", [](const DecodedInsn& d) { return d.rt == 0 && d.rs != 0; }, 0x1020FFFF,
     "beq rs, $zero, off is BEQZ"},
    {Opcode::BNE, "bnez", [](const DecodedInsn& d) { return d.rt == 0; }, 0x1400FFFF,
     "bne rs, $zero, off is BNEZ"},
    {Opcode::BGEZAL, "bal", [](const DecodedInsn& d) { return d.rs == 0; }, 0x04110001,
     "bgezal $zero, off is the unconditional BAL"},
    {Opcode::JR, "jr.hb", [](const DecodedInsn& d) { return d.sa == 16; }, 0x03E00408,
     "hint bit 10 set is the Release 2 hazard-barrier form JR.HB"},
    {Opcode::JALR, "jalr.hb", [](const DecodedInsn& d) { return d.sa == 16; }, 0x0020FC09,
     "hint bit 10 set is the Release 2 hazard-barrier form JALR.HB"},
    {Opcode::JALR, "jr", [](const DecodedInsn& d) { return d.rd == 0 && d.sa == 0; }, 0x00200009,
     "jalr $zero, rs links into $zero: Capstone prints the equivalent JR"},
};

// FPU rows (kCop1) against Capstone 4.0.2's MIPS32 mode, which models a 32-bit (FR=0) MIPS32 FPU without
// the Release 2 and MIPS IV additions: it rejects D-format operands in odd registers, the L format,
// MFHC1/MTHC1, the indexed loads/stores, PREFX, RECIP/RSQRT, the multiply-adds and compares into condition
// codes other than 0 (among others); and it reads COP1X words whose fr field (bits 25:21) is 01000 as the
// MIPS I BC3F/BC3T branches. Such words are explained; every FPU word Capstone does decode otherwise must
// carry the row's mnemonic (MnemonicsMatchRowNames, RandomWordsAgreeOrAreExplained).
inline std::string_view CapstoneFpuGap(const DecodedInsn& d, bool capstone_valid, std::string_view mnemonic) {
  if (!(d.flags & kCop1)) return {};
  if (!capstone_valid)
    return "Capstone 4.0.2's MIPS32 mode lacks this FPU encoding (FR=0 FPU, no R2/MIPS IV additions)";
  if ((d.raw >> 26) == 0b010011 && d.rs == 0b01000 && mnemonic.starts_with("bc3"))
    return "Capstone 4.0.2 reads COP1X with fr = 01000 as the MIPS I BC3F/BC3T branches";
  return {};
}

inline const CapstoneExclusion* ExclusionFor(Opcode op) {
  for (const CapstoneExclusion& x : kCapstoneExclusions)
    if (x.op == op) return &x;
  return nullptr;
}

inline const CapstoneConstraint* ConstraintFor(Opcode op) {
  for (const CapstoneConstraint& c : kCapstoneConstraints)
    if (c.op == op) return &c;
  return nullptr;
}

}  // namespace strobe::mips::test
