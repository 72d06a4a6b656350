// SPDX-License-Identifier: MIT
// Directed edge cases, written as data: instruction(s), inputs and the expected outputs. Each case runs in
// both Strobe and Unicorn; both must produce the expected values (which were checked against Unicorn 2.0.1
// and the MIPS32 Vol. II operation pseudo-code) and agree with each other on every GPR, HI, LO and the data
// buffer.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <optional>
#include <tuple>

#include "tests/diff/diff_harness.h"

namespace strobe::test::diff {
namespace {

using mips::Opcode;
using runtime::ExcCode;

struct RegValue {
  unsigned reg;
  uint32_t value;
};

struct EdgeCase {
  const char* name;
  std::vector<uint32_t> code = {};  // the final WAIT is appended
  std::vector<RegValue> in = {};    // every other GPR starts as 0; $28 points at the data buffer
  std::vector<RegValue> out = {};
  std::optional<std::pair<uint32_t, uint32_t>> hilo_in = {}, hilo_out = {};  // {HI, LO}
  std::vector<uint32_t> mem_out = {};  // expected first words of the data buffer
  int exc = -1;                        // expected exception (ExcCode) and its instruction index
  unsigned exc_index = 0;
  uint32_t start = kCodeVaddr;  // where the code is placed
};

constexpr uint32_t kPageEnd =
    kCodeVaddr + 0x1000;  // code placed at kPageEnd - 4 has its second word on a new page

// The data buffer's first two words (bytes 11 22 33 44 55 66 77 88 in address order); the rest is zero.
constexpr uint32_t kWord0 = 0x44332211u, kWord1 = 0x88776655u;
constexpr unsigned B = kBaseReg;

uint32_t I(Opcode op, mips::Fields f) {
  return mips::Encode(mips::kEncodings[static_cast<size_t>(op)], f);
}
// EXT rt, rs, pos, size and INS rt, rs, pos, size in assembler order.
uint32_t Ext(unsigned rt, unsigned rs, unsigned pos, unsigned size) {
  return I(Opcode::EXT, {.rs = rs, .rt = rt, .rd = size - 1, .sa = pos});
}
uint32_t Ins(unsigned rt, unsigned rs, unsigned pos, unsigned size) {
  return I(Opcode::INS, {.rs = rs, .rt = rt, .rd = pos + size - 1, .sa = pos});
}
uint32_t Mem(Opcode op, unsigned rt, int16_t off) {
  return I(op, {.rs = B, .rt = rt, .imm = static_cast<uint16_t>(off)});
}

constexpr uint32_t kMin = 0x80000000u, kMax = 0x7FFFFFFFu, kM1 = 0xFFFFFFFFu;

// clang-format off
const EdgeCase kCases[] = {
  // ADDU/SUBU/ADDIU never trap: they wrap modulo 2^32.
  {"ADDU max+1 wraps", {I(Opcode::ADDU, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kMax}, {2, 1}}, {{3, kMin}}},
  {"ADDU -1+1 wraps", {I(Opcode::ADDU, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kM1}, {2, 1}}, {{3, 0}}},
  {"ADDU min+min wraps", {I(Opcode::ADDU, {.rs = 1, .rt = 1, .rd = 3})}, {{1, kMin}}, {{3, 0}}},
  {"SUBU min-1 wraps", {I(Opcode::SUBU, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kMin}, {2, 1}}, {{3, kMax}}},
  {"SUBU 0-1 wraps", {I(Opcode::SUBU, {.rs = 0, .rt = 2, .rd = 3})}, {{2, 1}}, {{3, kM1}}},
  {"ADDIU max+1 wraps", {I(Opcode::ADDIU, {.rs = 1, .rt = 3, .imm = 1})}, {{1, kMax}}, {{3, kMin}}},
  {"ADDIU min+(-1) wraps", {I(Opcode::ADDIU, {.rs = 1, .rt = 3, .imm = 0xFFFF})}, {{1, kMin}}, {{3, kMax}}},
  {"SLTIU immediate is sign-extended", {I(Opcode::SLTIU, {.rs = 1, .rt = 3, .imm = 0xFFFF})}, {{1, 5}}, {{3, 1}}},
  // The trapping forms leave the destination alone and raise Integer Overflow.
  {"ADD max+1 overflows", {I(Opcode::ADD, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kMax}, {2, 1}, {3, 7}}, {{3, 7}},
   {}, {}, {}, static_cast<int>(ExcCode::Ov), 0},
  {"ADDI min+(-1) overflows", {I(Opcode::ADDI, {.rs = 1, .rt = 3, .imm = 0xFFFF})}, {{1, kMin}, {3, 7}}, {{3, 7}},
   {}, {}, {}, static_cast<int>(ExcCode::Ov), 0},
  {"SUB min-1 overflows", {I(Opcode::SUB, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kMin}, {2, 1}, {3, 7}}, {{3, 7}},
   {}, {}, {}, static_cast<int>(ExcCode::Ov), 0},
  {"ADD -1+min overflows", {I(Opcode::ADD, {.rs = 1, .rt = 2, .rd = 3})},
   {{1, kM1}, {2, kMin}, {3, 7}}, {{3, 7}}, {}, {}, {}, static_cast<int>(ExcCode::Ov), 0},
  {"ADD -1+max does not overflow", {I(Opcode::ADD, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kM1}, {2, kMax}},
   {{3, kMax - 1}}},
  {"ADD overflow in a delay slot: EPC is the branch",
   {I(Opcode::BEQ, {.rs = 0, .rt = 0, .imm = 2}), I(Opcode::ADD, {.rs = 1, .rt = 1, .rd = 3}), 0, 0},
   {{1, kMin}, {3, 7}}, {{3, 7}}, {}, {}, {}, static_cast<int>(ExcCode::Ov), 1},

  // DIV/DIVU: INT_MIN / -1 wraps (LO = INT_MIN, HI = 0). Division by zero is UNPREDICTABLE (Vol. II DIV):
  // Unicorn (QEMU) divides by one instead, LO = dividend, HI = 0; Strobe chose the same (semantics/muldiv.h).
  {"DIV min/-1", {I(Opcode::DIV, {.rs = 1, .rt = 2})}, {{1, kMin}, {2, kM1}}, {}, {}, {{0, kMin}}},
  {"DIV x/0 (UNPREDICTABLE; both divide by one)", {I(Opcode::DIV, {.rs = 1, .rt = 0})}, {{1, 12345}}, {}, {},
   {{0, 12345}}},
  {"DIV min/0", {I(Opcode::DIV, {.rs = 1, .rt = 0})}, {{1, kMin}}, {}, {}, {{0, kMin}}},
  {"DIVU x/0 (UNPREDICTABLE; both divide by one)", {I(Opcode::DIVU, {.rs = 1, .rt = 0})}, {{1, kM1}}, {}, {},
   {{0, kM1}}},
  {"DIV truncates toward zero (-7/2)", {I(Opcode::DIV, {.rs = 1, .rt = 2})}, {{1, static_cast<uint32_t>(-7)}, {2, 2}},
   {}, {}, {{kM1, static_cast<uint32_t>(-3)}}},
  {"DIV 7/-2", {I(Opcode::DIV, {.rs = 1, .rt = 2})}, {{1, 7}, {2, static_cast<uint32_t>(-2)}}, {}, {},
   {{1, static_cast<uint32_t>(-3)}}},
  {"DIVU 0xffffffff/2", {I(Opcode::DIVU, {.rs = 1, .rt = 2})}, {{1, kM1}, {2, 2}}, {}, {}, {{1, kMax}}},
  {"DIV min/1", {I(Opcode::DIV, {.rs = 1, .rt = 2})}, {{1, kMin}, {2, 1}}, {}, {}, {{0, kMin}}},

  // Multiplies.
  {"MULT min*min", {I(Opcode::MULT, {.rs = 1, .rt = 1})}, {{1, kMin}}, {}, {}, {{0x40000000u, 0}}},
  {"MULT min*-1", {I(Opcode::MULT, {.rs = 1, .rt = 2})}, {{1, kMin}, {2, kM1}}, {}, {}, {{0, kMin}}},
  {"MULTU max*max", {I(Opcode::MULTU, {.rs = 1, .rt = 1})}, {{1, kM1}}, {}, {}, {{0xFFFFFFFEu, 1}}},
  {"MUL keeps HI/LO (QEMU and Strobe; the manual leaves them UNPREDICTABLE)",
   {I(Opcode::MUL, {.rs = 1, .rt = 2, .rd = 3})}, {{1, kMin}, {2, kM1}}, {{3, kMin}}, {{5, 6}}, {{5, 6}}},
  // MADD/MSUB: 64-bit accumulate with carries and borrows between LO and HI.
  {"MADD carry into HI", {I(Opcode::MADD, {.rs = 1, .rt = 1})}, {{1, 1}}, {}, {{0, kM1}}, {{1, 0}}},
  {"MADD negative product", {I(Opcode::MADD, {.rs = 1, .rt = 2})}, {{1, kM1}, {2, 1}}, {}, {{0, 0}}, {{kM1, kM1}}},
  {"MADD min*min + max64", {I(Opcode::MADD, {.rs = 1, .rt = 1})}, {{1, kMin}}, {}, {{kMax, kM1}},
   {{0xBFFFFFFFu, kM1}}},
  {"MADDU wraps the 64-bit accumulator", {I(Opcode::MADDU, {.rs = 1, .rt = 1})}, {{1, 1}}, {}, {{kM1, kM1}},
   {{0, 0}}},
  {"MADDU max*max", {I(Opcode::MADDU, {.rs = 1, .rt = 1})}, {{1, kM1}}, {}, {{0, kM1}}, {{kM1, 0}}},
  {"MSUB borrow from HI", {I(Opcode::MSUB, {.rs = 1, .rt = 1})}, {{1, 1}}, {}, {{1, 0}}, {{0, kM1}}},
  {"MSUB 0 - 1", {I(Opcode::MSUB, {.rs = 1, .rt = 1})}, {{1, 1}}, {}, {{0, 0}}, {{kM1, kM1}}},
  {"MSUB negative product adds", {I(Opcode::MSUB, {.rs = 1, .rt = 2})}, {{1, kM1}, {2, 1}}, {}, {{0, kM1}},
   {{1, 0}}},
  {"MSUBU 0 - max*max", {I(Opcode::MSUBU, {.rs = 1, .rt = 1})}, {{1, kM1}}, {}, {{0, 0}}, {{1, kM1}}},

  // CLZ/CLO.
  {"CLZ 0", {I(Opcode::CLZ, {.rs = 1, .rt = 3, .rd = 3})}, {{1, 0}}, {{3, 32}}},
  {"CLZ ~0", {I(Opcode::CLZ, {.rs = 1, .rt = 3, .rd = 3})}, {{1, kM1}}, {{3, 0}}},
  {"CLZ 1", {I(Opcode::CLZ, {.rs = 1, .rt = 3, .rd = 3})}, {{1, 1}}, {{3, 31}}},
  {"CLO ~0", {I(Opcode::CLO, {.rs = 1, .rt = 3, .rd = 3})}, {{1, kM1}}, {{3, 32}}},
  {"CLO 0", {I(Opcode::CLO, {.rs = 1, .rt = 3, .rd = 3})}, {{1, 0}}, {{3, 0}}},
  {"CLO min", {I(Opcode::CLO, {.rs = 1, .rt = 3, .rd = 3})}, {{1, kMin}}, {{3, 1}}},

  // EXT/INS at the corner positions (pos + size <= 32; anything else is UNPREDICTABLE).
  {"EXT pos 0 size 32", {Ext(3, 1, 0, 32)}, {{1, 0x89ABCDEFu}}, {{3, 0x89ABCDEFu}}},
  {"EXT pos 31 size 1", {Ext(3, 1, 31, 1)}, {{1, kMin}}, {{3, 1}}},
  {"EXT pos 0 size 1", {Ext(3, 1, 0, 1)}, {{1, 0xFFFFFFF1u}}, {{3, 1}}},
  {"EXT pos 16 size 16", {Ext(3, 1, 16, 16)}, {{1, 0x89ABCDEFu}}, {{3, 0x89ABu}}},
  {"EXT pos 1 size 31", {Ext(3, 1, 1, 31)}, {{1, kM1}}, {{3, kMax}}},
  {"INS pos 0 size 32", {Ins(3, 1, 0, 32)}, {{1, 0x89ABCDEFu}, {3, 0x12345678u}}, {{3, 0x89ABCDEFu}}},
  {"INS pos 31 size 1", {Ins(3, 1, 31, 1)}, {{1, 1}, {3, 0x12345678u}}, {{3, 0x92345678u}}},
  {"INS pos 0 size 1", {Ins(3, 1, 0, 1)}, {{1, 0xFFFFFFFEu}, {3, 0x12345679u}}, {{3, 0x12345678u}}},
  {"INS pos 8 size 16", {Ins(3, 1, 8, 16)}, {{1, 0xFFFFABCDu}, {3, 0x12345678u}}, {{3, 0x12ABCD78u}}},

  // Rotates and variable shifts (the amount is taken modulo 32).
  {"ROTR 0", {I(Opcode::ROTR, {.rt = 1, .rd = 3, .sa = 0})}, {{1, 0x80000001u}}, {{3, 0x80000001u}}},
  {"ROTR 31", {I(Opcode::ROTR, {.rt = 1, .rd = 3, .sa = 31})}, {{1, 0x80000001u}}, {{3, 0x00000003u}}},
  {"ROTR 1", {I(Opcode::ROTR, {.rt = 1, .rd = 3, .sa = 1})}, {{1, 0x80000001u}}, {{3, 0xC0000000u}}},
  {"ROTRV 32 is 0", {I(Opcode::ROTRV, {.rs = 2, .rt = 1, .rd = 3})}, {{1, 0x12345678u}, {2, 32}},
   {{3, 0x12345678u}}},
  {"ROTRV 63 is 31", {I(Opcode::ROTRV, {.rs = 2, .rt = 1, .rd = 3})}, {{1, 0x80000001u}, {2, 63}}, {{3, 3}}},
  {"SRAV 33 is 1", {I(Opcode::SRAV, {.rs = 2, .rt = 1, .rd = 3})}, {{1, kMin}, {2, 33}}, {{3, 0xC0000000u}}},
  {"SEB 0x80", {I(Opcode::SEB, {.rt = 1, .rd = 3})}, {{1, 0x1280u}}, {{3, 0xFFFFFF80u}}},
  {"SEH 0x8000", {I(Opcode::SEH, {.rt = 1, .rd = 3})}, {{1, 0x18000u}}, {{3, 0xFFFF8000u}}},
  {"WSBH", {I(Opcode::WSBH, {.rt = 1, .rd = 3})}, {{1, 0x11223344u}}, {{3, 0x22114433u}}},

  // LWL/LWR/SWL/SWR at every byte offset of the word 0x44332211 (little-endian), register 0xAABBCCDD.
  {"LWL +0", {Mem(Opcode::LWL, 3, 0)}, {{3, 0xAABBCCDDu}}, {{3, 0x11BBCCDDu}}},
  {"LWL +1", {Mem(Opcode::LWL, 3, 1)}, {{3, 0xAABBCCDDu}}, {{3, 0x2211CCDDu}}},
  {"LWL +2", {Mem(Opcode::LWL, 3, 2)}, {{3, 0xAABBCCDDu}}, {{3, 0x332211DDu}}},
  {"LWL +3", {Mem(Opcode::LWL, 3, 3)}, {{3, 0xAABBCCDDu}}, {{3, 0x44332211u}}},
  {"LWR +0", {Mem(Opcode::LWR, 3, 0)}, {{3, 0xAABBCCDDu}}, {{3, 0x44332211u}}},
  {"LWR +1", {Mem(Opcode::LWR, 3, 1)}, {{3, 0xAABBCCDDu}}, {{3, 0xAA443322u}}},
  {"LWR +2", {Mem(Opcode::LWR, 3, 2)}, {{3, 0xAABBCCDDu}}, {{3, 0xAABB4433u}}},
  {"LWR +3", {Mem(Opcode::LWR, 3, 3)}, {{3, 0xAABBCCDDu}}, {{3, 0xAABBCC44u}}},
  {"SWL +0", {Mem(Opcode::SWL, 3, 0)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0x443322AAu, kWord1}},
  {"SWL +1", {Mem(Opcode::SWL, 3, 1)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0x4433AABBu, kWord1}},
  {"SWL +2", {Mem(Opcode::SWL, 3, 2)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0x44AABBCCu, kWord1}},
  {"SWL +3", {Mem(Opcode::SWL, 3, 3)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0xAABBCCDDu, kWord1}},
  {"SWR +0", {Mem(Opcode::SWR, 3, 0)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0xAABBCCDDu, kWord1}},
  {"SWR +1", {Mem(Opcode::SWR, 3, 1)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0xBBCCDD11u, kWord1}},
  {"SWR +2", {Mem(Opcode::SWR, 3, 2)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0xCCDD2211u, kWord1}},
  {"SWR +3", {Mem(Opcode::SWR, 3, 3)}, {{3, 0xAABBCCDDu}}, {}, {}, {}, {0xDD332211u, kWord1}},
  {"unaligned word load: LWL 4 + LWR 1", {Mem(Opcode::LWL, 3, 4), Mem(Opcode::LWR, 3, 1)}, {}, {{3, 0x55443322u}}},
  {"unaligned word store: SWL 4 + SWR 1", {Mem(Opcode::SWL, 3, 4), Mem(Opcode::SWR, 3, 1)}, {{3, 0xAABBCCDDu}}, {},
   {}, {}, {0xBBCCDD11u, 0x887766AAu}},
  // Misaligned LW/SH fault with Address Error and leave the destination alone.
  {"LW misaligned", {Mem(Opcode::LW, 3, 2)}, {{3, 7}}, {{3, 7}}, {}, {}, {}, static_cast<int>(ExcCode::AdEL), 0},
  {"SH misaligned", {Mem(Opcode::SH, 3, 1)}, {{3, 7}}, {}, {}, {}, {kWord0, kWord1},
   static_cast<int>(ExcCode::AdES), 0},

  // Delay slots: on the next page (the interpreter decodes such a slot on its own), likely forms, links.
  {"BNEL not taken at a page end: the slot on the next page is nullified",
   {I(Opcode::BNEL, {.imm = 2}), I(Opcode::ADDIU, {.rt = 3, .imm = 1}), I(Opcode::ADDIU, {.rt = 4, .imm = 2}), 0},
   {}, {{3, 0}, {4, 2}}, {}, {}, {}, -1, 0, kPageEnd - 4},
  {"BEQL taken at a page end: the slot on the next page runs",
   {I(Opcode::BEQL, {.imm = 2}), I(Opcode::ADDIU, {.rt = 3, .imm = 1}), I(Opcode::ADDIU, {.rt = 4, .imm = 2}), 0},
   {}, {{3, 1}, {4, 0}}, {}, {}, {}, -1, 0, kPageEnd - 4},
  {"BEQ not taken at a page end: the slot on the next page runs",
   {I(Opcode::BEQ, {.rs = 1, .imm = 2}), I(Opcode::ADDIU, {.rt = 3, .imm = 1}), I(Opcode::ADDIU, {.rt = 4, .imm = 2}),
    0},
   {{1, 5}}, {{3, 1}, {4, 2}}, {}, {}, {}, -1, 0, kPageEnd - 4},
  {"ADD overflow in a delay slot on the next page",
   {I(Opcode::BEQ, {.imm = 2}), I(Opcode::ADD, {.rs = 1, .rt = 1, .rd = 3}), 0, 0}, {{1, kMin}, {3, 7}}, {{3, 7}},
   {}, {}, {}, static_cast<int>(ExcCode::Ov), 1, kPageEnd - 4},
  {"BLTZL not taken: slot nullified, even a faulting one",
   {I(Opcode::BLTZL, {.rs = 1, .imm = 2}), I(Opcode::ADD, {.rs = 1, .rt = 1, .rd = 3}), I(Opcode::ADDIU, {.rt = 4,
    .imm = 2}), 0}, {{1, kMax}, {3, 7}}, {{3, 7}, {4, 2}}},
  {"JAL: the link is visible in the delay slot",
   {I(Opcode::JAL, {.target = ((kCodeVaddr + 12) >> 2) & 0x03FFFFFF}), I(Opcode::ADDU, {.rs = 31, .rd = 3}),
    I(Opcode::ADDIU, {.rt = 4, .imm = 2}), 0},
   {}, {{3, kCodeVaddr + 8}, {31, kCodeVaddr + 8}, {4, 0}}},
  {"BGEZAL not taken still links", {I(Opcode::BGEZAL, {.rs = 1, .imm = 1}), 0, 0}, {{1, kM1}},
   {{31, kCodeVaddr + 8}}},
  {"JALR reads its target before the slot overwrites it",
   {I(Opcode::JALR, {.rs = 2, .rd = 5}), I(Opcode::ADDIU, {.rt = 2, .imm = 0x40}), I(Opcode::ADDIU, {.rt = 4,
    .imm = 2}), 0},
   {{2, kCodeVaddr + 12}}, {{2, 0x40}, {4, 0}, {5, kCodeVaddr + 8}}},
};
// clang-format on

class EdgeCaseTest : public testing::TestWithParam<EdgeCase> {};

TEST_P(EdgeCaseTest, MatchesUnicornAndExpectation) {
  const EdgeCase& ec = GetParam();
  Program p;
  p.start = ec.start;
  p.words = ec.code;
  p.words.push_back(kWaitWord);
  GuestState init;
  init.gpr[B] = kDataVaddr;
  for (const RegValue& r : ec.in) init.gpr[r.reg] = r.value;
  if (ec.hilo_in) std::tie(init.hi, init.lo) = *ec.hilo_in;
  std::memcpy(&init.data[0], &kWord0, 4);
  std::memcpy(&init.data[4], &kWord1, 4);

  Outcome uc = RunUnicorn(p, init);
  Outcome strobe = RunStrobe(p, init);
  EXPECT_EQ(Differences(strobe, uc), "") << Disassemble(p);

  for (const Outcome* o : {&uc, &strobe}) {
    const char* who = o == &uc ? "Unicorn" : "Strobe";
    EXPECT_EQ(o->exc, ec.exc) << who;
    if (ec.exc >= 0) {
      EXPECT_EQ(o->exc_pc, p.start + 4 * ec.exc_index) << who;
    }
    for (const RegValue& r : ec.out)
      EXPECT_EQ(Hex(o->state.gpr[r.reg]), Hex(r.value)) << who << " $" << r.reg;
    if (ec.hilo_out) {
      EXPECT_EQ(Hex(o->state.hi), Hex(ec.hilo_out->first)) << who << " HI";
      EXPECT_EQ(Hex(o->state.lo), Hex(ec.hilo_out->second)) << who << " LO";
    }
    for (size_t i = 0; i < ec.mem_out.size(); ++i) {
      uint32_t w;
      std::memcpy(&w, &o->state.data[4 * i], 4);
      EXPECT_EQ(Hex(w), Hex(ec.mem_out[i])) << who << " data word " << i;
    }
  }
}

std::string CaseName(const testing::TestParamInfo<EdgeCase>& info) {
  std::string s;
  for (const char* c = info.param.name; *c; ++c) s += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
  return std::to_string(info.index) + "_" + s.substr(0, 40);
}

INSTANTIATE_TEST_SUITE_P(Directed, EdgeCaseTest, testing::ValuesIn(kCases), CaseName);

}  // namespace
}  // namespace strobe::test::diff
