// SPDX-License-Identifier: MIT
// Arithmetic, logic, shifts, rotates, bit fields, byte shuffles and conditional moves (MIPS32 Vol. II):
// tables of (instruction, input registers, expected registers) with the edge values spelled out, and the
// Integer Overflow exceptions of ADD/ADDI/SUB.
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

// rd <- rs op rt
uint32_t R(Opcode op, uint32_t rd, uint32_t rs, uint32_t rt) {
  return E(op, {.rs = rs, .rt = rt, .rd = rd});
}
// rt <- rs op imm
uint32_t I(Opcode op, uint32_t rt, uint32_t rs, uint32_t imm) {
  return E(op, {.rs = rs, .rt = rt, .imm = imm});
}
// rd <- rt shifted by sa
uint32_t Sh(Opcode op, uint32_t rd, uint32_t rt, uint32_t sa) {
  return E(op, {.rt = rt, .rd = rd, .sa = sa});
}
// rd <- rt shifted by rs (variable forms)
uint32_t ShV(Opcode op, uint32_t rd, uint32_t rt, uint32_t rs) {
  return E(op, {.rs = rs, .rt = rt, .rd = rd});
}
// EXT rt, rs, pos, size
uint32_t Ext(uint32_t rt, uint32_t rs, uint32_t pos, uint32_t size) {
  return E(Opcode::EXT, {.rs = rs, .rt = rt, .rd = size - 1, .sa = pos});
}
// INS rt, rs, pos, size
uint32_t Ins(uint32_t rt, uint32_t rs, uint32_t pos, uint32_t size) {
  return E(Opcode::INS, {.rs = rs, .rt = rt, .rd = pos + size - 1, .sa = pos});
}

TEST(Alu, ThreeRegisterArithmeticAndLogic) {
  RunCases({
      {"addu v0, a0, a1 (wraps, no trap)",
       {R(Opcode::ADDU, v0, a0, a1)},
       {{a0, 0x7FFFFFFF}, {a1, 1}},
       {{v0, 0x80000000}}},
      {"addu v0, a0, a1 (carry out lost)",
       {R(Opcode::ADDU, v0, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 1}},
       {{v0, 0}}},
      {"add v0, a0, a1 (-1 + 1)", {R(Opcode::ADD, v0, a0, a1)}, {{a0, 0xFFFFFFFF}, {a1, 1}}, {{v0, 0}}},
      {"add v0, a0, a1 (just below overflow)",
       {R(Opcode::ADD, v0, a0, a1)},
       {{a0, 0x7FFFFFFE}, {a1, 1}},
       {{v0, 0x7FFFFFFF}}},
      {"add v0, a0, a1 (INT_MIN + 0)",
       {R(Opcode::ADD, v0, a0, a1)},
       {{a0, 0x80000000}, {a1, 0}},
       {{v0, 0x80000000}}},
      {"subu v0, a0, a1 (0 - 1)", {R(Opcode::SUBU, v0, a0, a1)}, {{a0, 0}, {a1, 1}}, {{v0, 0xFFFFFFFF}}},
      {"subu v0, a0, a1 (INT_MIN - 1 wraps)",
       {R(Opcode::SUBU, v0, a0, a1)},
       {{a0, 0x80000000}, {a1, 1}},
       {{v0, 0x7FFFFFFF}}},
      {"sub v0, a0, a1 (-1 - INT_MAX)",
       {R(Opcode::SUB, v0, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 0x7FFFFFFF}},
       {{v0, 0x80000000}}},
      {"and v0, a0, a1",
       {R(Opcode::AND, v0, a0, a1)},
       {{a0, 0xF0F0FFFF}, {a1, 0x0FF0F00F}},
       {{v0, 0x00F0F00F}}},
      {"or v0, a0, a1",
       {R(Opcode::OR, v0, a0, a1)},
       {{a0, 0xF0000001}, {a1, 0x0000F002}},
       {{v0, 0xF000F003}}},
      {"xor v0, a0, a1",
       {R(Opcode::XOR, v0, a0, a1)},
       {{a0, 0xFFFF0000}, {a1, 0xFF00FF00}},
       {{v0, 0x00FFFF00}}},
      {"nor v0, a0, a1",
       {R(Opcode::NOR, v0, a0, a1)},
       {{a0, 0xF0000000}, {a1, 0x0000000F}},
       {{v0, 0x0FFFFFF0}}},
      {"nor v0, zero, zero (not)", {R(Opcode::NOR, v0, zero, zero)}, {}, {{v0, 0xFFFFFFFF}}},
      {"slt v0, a0, a1 (-1 < 1)", {R(Opcode::SLT, v0, a0, a1)}, {{a0, 0xFFFFFFFF}, {a1, 1}}, {{v0, 1}}},
      {"sltu v0, a0, a1 (0xffffffff < 1 is false)",
       {R(Opcode::SLTU, v0, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 1}},
       {{v0, 0}}},
      {"slt v0, a0, a1 (INT_MIN < INT_MAX)",
       {R(Opcode::SLT, v0, a0, a1)},
       {{a0, 0x80000000}, {a1, 0x7FFFFFFF}},
       {{v0, 1}}},
      {"slt v0, a0, a0 (equal)", {R(Opcode::SLT, v0, a0, a0)}, {{a0, 5}}, {{v0, 0}}},
      {"sltu v0, zero, a1 (0 < 1)", {R(Opcode::SLTU, v0, zero, a1)}, {{a1, 1}}, {{v0, 1}}},
      {"addu zero, a0, a1 ($zero stays 0)", {R(Opcode::ADDU, zero, a0, a1)}, {{a0, 1}, {a1, 2}}, {}},
      {"addu a0, a0, a0 (rd = rs = rt)",
       {R(Opcode::ADDU, a0, a0, a0)},
       {{a0, 0x40000001}},
       {{a0, 0x80000002}}},
  });
}

TEST(Alu, ImmediateForms) {
  RunCases({
      {"addiu v0, a0, -32768 (sign-extended)",
       {I(Opcode::ADDIU, v0, a0, 0x8000)},
       {{a0, 0}},
       {{v0, 0xFFFF8000}}},
      {"addiu v0, a0, 32767", {I(Opcode::ADDIU, v0, a0, 0x7FFF)}, {{a0, 0xFFFFFFFF}}, {{v0, 0x7FFE}}},
      {"addiu v0, a0, 1 (wraps, no trap)",
       {I(Opcode::ADDIU, v0, a0, 1)},
       {{a0, 0x7FFFFFFF}},
       {{v0, 0x80000000}}},
      {"addi v0, a0, -1", {I(Opcode::ADDI, v0, a0, 0xFFFF)}, {{a0, 0}}, {{v0, 0xFFFFFFFF}}},
      {"addi v0, a0, -1 (INT_MIN+1 -> INT_MIN)",
       {I(Opcode::ADDI, v0, a0, 0xFFFF)},
       {{a0, 0x80000001}},
       {{v0, 0x80000000}}},
      {"slti v0, a0, -1 (INT_MIN < -1)", {I(Opcode::SLTI, v0, a0, 0xFFFF)}, {{a0, 0x80000000}}, {{v0, 1}}},
      {"slti v0, a0, 0 (0 < 0)", {I(Opcode::SLTI, v0, a0, 0)}, {{a0, 0}}, {{v0, 0}}},
      {"sltiu v0, a0, -1 (compares with 0xffffffff)",
       {I(Opcode::SLTIU, v0, a0, 0xFFFF)},
       {{a0, 0xFFFFFFFE}},
       {{v0, 1}}},
      {"sltiu v0, a0, 0x8000 (compares with 0xffff8000)",
       {I(Opcode::SLTIU, v0, a0, 0x8000)},
       {{a0, 0x80000000}},
       {{v0, 1}}},
      {"sltiu v0, a0, 1 (seqz)", {I(Opcode::SLTIU, v0, a0, 1)}, {{a0, 0}}, {{v0, 1}}},
      {"andi v0, a0, 0xffff (zero-extended)",
       {I(Opcode::ANDI, v0, a0, 0xFFFF)},
       {{a0, 0xFFFFFFFF}},
       {{v0, 0x0000FFFF}}},
      {"ori v0, a0, 0x8000 (zero-extended)",
       {I(Opcode::ORI, v0, a0, 0x8000)},
       {{a0, 0x00010000}},
       {{v0, 0x00018000}}},
      {"xori v0, a0, 0xffff", {I(Opcode::XORI, v0, a0, 0xFFFF)}, {{a0, 0xFFFFFFFF}}, {{v0, 0xFFFF0000}}},
      {"lui v0, 0xffff", {E(Opcode::LUI, {.rt = v0, .imm = 0xFFFF})}, {{v0, 0x1234}}, {{v0, 0xFFFF0000}}},
      {"lui v0, 0x8000", {E(Opcode::LUI, {.rt = v0, .imm = 0x8000})}, {}, {{v0, 0x80000000}}},
      {"addiu zero, zero, 5 ($zero stays 0)", {I(Opcode::ADDIU, zero, zero, 5)}, {}, {}},
  });
}

TEST(Alu, Shifts) {
  RunCases({
      {"sll v0, a0, 0 (nop form keeps the value)",
       {Sh(Opcode::SLL, v0, a0, 0)},
       {{a0, 0x80000001}},
       {{v0, 0x80000001}}},
      {"sll v0, a0, 31", {Sh(Opcode::SLL, v0, a0, 31)}, {{a0, 0x00000003}}, {{v0, 0x80000000}}},
      {"sll v0, a0, 4 (bits shifted out)",
       {Sh(Opcode::SLL, v0, a0, 4)},
       {{a0, 0xF000000F}},
       {{v0, 0x000000F0}}},
      {"srl v0, a0, 31", {Sh(Opcode::SRL, v0, a0, 31)}, {{a0, 0x80000000}}, {{v0, 1}}},
      {"srl v0, a0, 1 (zero fill)", {Sh(Opcode::SRL, v0, a0, 1)}, {{a0, 0xFFFFFFFF}}, {{v0, 0x7FFFFFFF}}},
      {"sra v0, a0, 31 (sign fill)", {Sh(Opcode::SRA, v0, a0, 31)}, {{a0, 0x80000000}}, {{v0, 0xFFFFFFFF}}},
      {"sra v0, a0, 4 (positive)", {Sh(Opcode::SRA, v0, a0, 4)}, {{a0, 0x7FFFFFF0}}, {{v0, 0x07FFFFFF}}},
      {"sra v0, a0, 0", {Sh(Opcode::SRA, v0, a0, 0)}, {{a0, 0x80000000}}, {{v0, 0x80000000}}},
      {"sllv v0, a0, a1 (amount 33 -> 1)", {ShV(Opcode::SLLV, v0, a0, a1)}, {{a0, 1}, {a1, 33}}, {{v0, 2}}},
      {"sllv v0, a0, a1 (amount 32 -> 0)",
       {ShV(Opcode::SLLV, v0, a0, a1)},
       {{a0, 0x1234}, {a1, 32}},
       {{v0, 0x1234}}},
      {"srlv v0, a0, a1 (amount 0xffffffff -> 31)",
       {ShV(Opcode::SRLV, v0, a0, a1)},
       {{a0, 0x80000000}, {a1, 0xFFFFFFFF}},
       {{v0, 1}}},
      {"srav v0, a0, a1 (amount 63 -> 31)",
       {ShV(Opcode::SRAV, v0, a0, a1)},
       {{a0, 0x80000000}, {a1, 63}},
       {{v0, 0xFFFFFFFF}}},
      {"srav v0, a0, a1 (amount 8)",
       {ShV(Opcode::SRAV, v0, a0, a1)},
       {{a0, 0x80F00000}, {a1, 8}},
       {{v0, 0xFF80F000}}},
      {"rotr v0, a0, 0", {Sh(Opcode::ROTR, v0, a0, 0)}, {{a0, 0x12345678}}, {{v0, 0x12345678}}},
      {"rotr v0, a0, 1", {Sh(Opcode::ROTR, v0, a0, 1)}, {{a0, 0x00000001}}, {{v0, 0x80000000}}},
      {"rotr v0, a0, 8", {Sh(Opcode::ROTR, v0, a0, 8)}, {{a0, 0x12345678}}, {{v0, 0x78123456}}},
      {"rotr v0, a0, 31", {Sh(Opcode::ROTR, v0, a0, 31)}, {{a0, 0x80000001}}, {{v0, 0x00000003}}},
      {"rotrv v0, a0, a1 (amount 36 -> 4)",
       {ShV(Opcode::ROTRV, v0, a0, a1)},
       {{a0, 0x12345678}, {a1, 36}},
       {{v0, 0x81234567}}},
      {"rotrv v0, a0, a1 (amount 32 -> 0)",
       {ShV(Opcode::ROTRV, v0, a0, a1)},
       {{a0, 0xCAFEF00D}, {a1, 32}},
       {{v0, 0xCAFEF00D}}},
      {"sllv a0, a0, a0 (rd = rt = rs)", {ShV(Opcode::SLLV, a0, a0, a0)}, {{a0, 3}}, {{a0, 24}}},
  });
}

TEST(Alu, CountLeadingBits) {
  auto clz = [](uint32_t rd, uint32_t rs) { return E(Opcode::CLZ, {.rs = rs, .rt = rd, .rd = rd}); };
  auto clo = [](uint32_t rd, uint32_t rs) { return E(Opcode::CLO, {.rs = rs, .rt = rd, .rd = rd}); };
  RunCases({
      {"clz v0, a0 (0 -> 32)", {clz(v0, a0)}, {{a0, 0}}, {{v0, 32}}},
      {"clz v0, a0 (1 -> 31)", {clz(v0, a0)}, {{a0, 1}}, {{v0, 31}}},
      {"clz v0, a0 (INT_MIN -> 0)", {clz(v0, a0)}, {{a0, 0x80000000}}, {{v0, 0}}},
      {"clz v0, a0 (0x00010000 -> 15)", {clz(v0, a0)}, {{a0, 0x00010000}}, {{v0, 15}}},
      {"clo v0, a0 (0xffffffff -> 32)", {clo(v0, a0)}, {{a0, 0xFFFFFFFF}}, {{v0, 32}}},
      {"clo v0, a0 (0 -> 0)", {clo(v0, a0)}, {{a0, 0}}, {{v0, 0}}},
      {"clo v0, a0 (0x7fffffff -> 0)", {clo(v0, a0)}, {{a0, 0x7FFFFFFF}}, {{v0, 0}}},
      {"clo v0, a0 (0xffff0000 -> 16)", {clo(v0, a0)}, {{a0, 0xFFFF0000}}, {{v0, 16}}},
      {"clo v0, a0 (0xfffffffe -> 31)", {clo(v0, a0)}, {{a0, 0xFFFFFFFE}}, {{v0, 31}}},
  });
}

TEST(Alu, BitFieldsAndByteShuffles) {
  auto r2 = [](Opcode op, uint32_t rd, uint32_t rt) { return E(op, {.rt = rt, .rd = rd}); };
  RunCases({
      {"ext v0, a0, 0, 32 (whole word)", {Ext(v0, a0, 0, 32)}, {{a0, 0xDEADBEEF}}, {{v0, 0xDEADBEEF}}},
      {"ext v0, a0, 31, 1 (top bit)", {Ext(v0, a0, 31, 1)}, {{a0, 0x80000000}}, {{v0, 1}}},
      {"ext v0, a0, 4, 8", {Ext(v0, a0, 4, 8)}, {{a0, 0x12345678}}, {{v0, 0x67}}},
      {"ext v0, a0, 16, 16", {Ext(v0, a0, 16, 16)}, {{a0, 0xFFFF0000}}, {{v0, 0xFFFF}}},
      {"ext v0, a0, 0, 1", {Ext(v0, a0, 0, 1)}, {{a0, 0xFFFFFFFE}}, {{v0, 0}}},
      {"ins v0, a0, 0, 32 (whole word)",
       {Ins(v0, a0, 0, 32)},
       {{a0, 0xCAFEBABE}, {v0, 0x11111111}},
       {{v0, 0xCAFEBABE}}},
      {"ins v0, a0, 31, 1", {Ins(v0, a0, 31, 1)}, {{a0, 0xFFFFFFFF}, {v0, 0}}, {{v0, 0x80000000}}},
      {"ins v0, a0, 8, 8 (only the low 8 source bits)",
       {Ins(v0, a0, 8, 8)},
       {{a0, 0x123456AB}, {v0, 0xFFFFFFFF}},
       {{v0, 0xFFFFABFF}}},
      {"ins v0, zero, 4, 24 (clear a field)", {Ins(v0, zero, 4, 24)}, {{v0, 0xFFFFFFFF}}, {{v0, 0xF000000F}}},
      {"seb v0, a0 (0x80 -> -128)", {r2(Opcode::SEB, v0, a0)}, {{a0, 0x00000080}}, {{v0, 0xFFFFFF80}}},
      {"seb v0, a0 (high bits ignored)", {r2(Opcode::SEB, v0, a0)}, {{a0, 0x1234567F}}, {{v0, 0x0000007F}}},
      {"seb v0, a0 (0xff -> -1)", {r2(Opcode::SEB, v0, a0)}, {{a0, 0xFFFFFF00 | 0xFF}}, {{v0, 0xFFFFFFFF}}},
      {"seh v0, a0 (0x8000 -> -32768)", {r2(Opcode::SEH, v0, a0)}, {{a0, 0x00008000}}, {{v0, 0xFFFF8000}}},
      {"seh v0, a0 (0x7fff)", {r2(Opcode::SEH, v0, a0)}, {{a0, 0xABCD7FFF}}, {{v0, 0x00007FFF}}},
      {"wsbh v0, a0", {r2(Opcode::WSBH, v0, a0)}, {{a0, 0x11223344}}, {{v0, 0x22114433}}},
      {"wsbh v0, a0 (0xff00ff00)", {r2(Opcode::WSBH, v0, a0)}, {{a0, 0xFF00FF00}}, {{v0, 0x00FF00FF}}},
      {"wsbh + rotr 16 = byte swap",
       {r2(Opcode::WSBH, v0, a0), Sh(Opcode::ROTR, v0, v0, 16)},
       {{a0, 0x11223344}},
       {{v0, 0x44332211}}},
  });
}

TEST(Alu, ConditionalMoves) {
  RunCases({
      {"movz v0, a0, a1 (a1 = 0: moves)",
       {R(Opcode::MOVZ, v0, a0, a1)},
       {{a0, 0xAAAA5555}, {a1, 0}, {v0, 7}},
       {{v0, 0xAAAA5555}}},
      {"movz v0, a0, a1 (a1 != 0: keeps)",
       {R(Opcode::MOVZ, v0, a0, a1)},
       {{a0, 0xAAAA5555}, {a1, 0x80000000}, {v0, 7}},
       {}},
      {"movn v0, a0, a1 (a1 != 0: moves)",
       {R(Opcode::MOVN, v0, a0, a1)},
       {{a0, 0x12345678}, {a1, 1}, {v0, 7}},
       {{v0, 0x12345678}}},
      {"movn v0, a0, a1 (a1 = 0: keeps)",
       {R(Opcode::MOVN, v0, a0, a1)},
       {{a0, 0x12345678}, {a1, 0}, {v0, 7}},
       {}},
      {"movz v0, a0, zero (always)", {R(Opcode::MOVZ, v0, a0, zero)}, {{a0, 9}}, {{v0, 9}}},
      {"movn v0, a0, zero (never)", {R(Opcode::MOVN, v0, a0, zero)}, {{a0, 9}, {v0, 3}}, {}},
      {"movn v0, zero, a1 (moves zero)", {R(Opcode::MOVN, v0, zero, a1)}, {{a1, 1}, {v0, 3}}, {{v0, 0}}},
  });
}

// ADD/ADDI/SUB overflow: Integer Overflow (ExcCode 12), rd unchanged, EPC = the instruction, BD = 0.
struct OverflowCase {
  const char* text;
  uint32_t insn;
  uint32_t a, b;  // a0 and a1
};

TEST(Alu, OverflowRaisesOvAndLeavesDestination) {
  const OverflowCase cases[] = {
      {"add v0, a0, a1 (INT_MAX + 1)", R(Opcode::ADD, v0, a0, a1), 0x7FFFFFFF, 1},
      {"add v0, a0, a1 (INT_MIN + -1)", R(Opcode::ADD, v0, a0, a1), 0x80000000, 0xFFFFFFFF},
      {"add v0, a0, a1 (INT_MIN + INT_MIN)", R(Opcode::ADD, v0, a0, a1), 0x80000000, 0x80000000},
      {"add v0, a0, a1 (INT_MAX + INT_MAX)", R(Opcode::ADD, v0, a0, a1), 0x7FFFFFFF, 0x7FFFFFFF},
      {"addi v0, a0, 1 (INT_MAX + 1)", I(Opcode::ADDI, v0, a0, 1), 0x7FFFFFFF, 0},
      {"addi v0, a0, -32768 (INT_MIN - 32768)", I(Opcode::ADDI, v0, a0, 0x8000), 0x80000000, 0},
      {"sub v0, a0, a1 (INT_MIN - 1)", R(Opcode::SUB, v0, a0, a1), 0x80000000, 1},
      {"sub v0, a0, a1 (INT_MAX - -1)", R(Opcode::SUB, v0, a0, a1), 0x7FFFFFFF, 0xFFFFFFFF},
      {"sub v0, a0, a1 (0 - INT_MIN)", R(Opcode::SUB, v0, a0, a1), 0, 0x80000000},
      {"add a0, a0, a1 (rd = rs, still unchanged)", R(Opcode::ADD, a0, a0, a1), 0x7FFFFFFF, 0x7FFFFFFF},
  };
  for (const OverflowCase& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    m.cpu().gpr[a0] = k.a;
    m.cpu().gpr[a1] = k.b;
    m.cpu().gpr[v0] = 0xDEADBEEF;
    const uint32_t rd = (k.insn >> 26) == 0 ? (k.insn >> 11 & 31) : (k.insn >> 16 & 31);  // ADDI: rt
    const uint32_t rd_before = m.cpu().gpr[rd];
    ASSERT_EQ(RunCode(m, {Nop(), k.insn, Addiu(s0, zero, 1), kWaitWord}), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ(ExcCodeOf(m), 12u);
    EXPECT_FALSE(BdOf(m));
    EXPECT_EQ(m.cpu().cp0.epc, kCode + 4);
    EXPECT_EQ(m.cpu().gpr[s0], 0u) << "the instruction after the overflow ran";
    EXPECT_EQ(m.cpu().gpr[rd], rd_before) << "the destination was written";
  }
}

// An overflow in a block's middle: instructions before it have retired, the rest of the block has not.
TEST(Alu, OverflowInTheMiddleOfABlockIsPrecise) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code;
  code.Li(a0, 0x7FFFFFFF) << Addiu(s0, zero, 1) << Addiu(s1, zero, 2) << R(Opcode::ADD, s2, a0, a0)
                          << Addiu(s3, zero, 3) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(ExcCodeOf(m), 12u);
  EXPECT_EQ(m.cpu().cp0.epc, kCode + 16);
  EXPECT_EQ(m.cpu().gpr[s0], 1u);
  EXPECT_EQ(m.cpu().gpr[s1], 2u);
  EXPECT_EQ(m.cpu().gpr[s2], 0u);
  EXPECT_EQ(m.cpu().gpr[s3], 0u);
}

// ADDU/ADDIU/SUBU never trap, whatever the operands.
TEST(Alu, UnsignedFormsNeverTrap) {
  TestMachine m;
  InstallHaltHandlers(m);
  Asm code;
  code.Li(a0, 0x7FFFFFFF) << R(Opcode::ADDU, v0, a0, a0) << I(Opcode::ADDIU, v1, a0, 1)
                          << R(Opcode::SUBU, t0, v1, a0) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[v0], 0xFFFFFFFEu);
  EXPECT_EQ(m.cpu().gpr[v1], 0x80000000u);
  EXPECT_EQ(m.cpu().gpr[t0], 1u);
}

}  // namespace
}  // namespace strobe::test
