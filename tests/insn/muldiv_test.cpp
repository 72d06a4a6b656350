// SPDX-License-Identifier: MIT
// Multiply, divide, multiply-accumulate and the HI/LO moves (MIPS32 Vol. II). Division by zero and
// INT_MIN / -1 are UNPREDICTABLE in the architecture; the product documents "divisor of one" results
// (semantics/muldiv.h) and must above all not trap or crash the host.
#include <gtest/gtest.h>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

uint32_t Md(Opcode op, uint32_t rs, uint32_t rt) {
  return E(op, {.rs = rs, .rt = rt});
}

TEST(MulDiv, Multiply) {
  RunCases({
      {"mult a0, a1 (-1 * -1)",
       {Md(Opcode::MULT, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 0xFFFFFFFF}},
       {{kHi, 0}, {kLo, 1}}},
      {"mult a0, a1 (INT_MIN * INT_MIN)",
       {Md(Opcode::MULT, a0, a1)},
       {{a0, 0x80000000}, {a1, 0x80000000}},
       {{kHi, 0x40000000}, {kLo, 0}}},
      {"mult a0, a1 (INT_MAX * -1)",
       {Md(Opcode::MULT, a0, a1)},
       {{a0, 0x7FFFFFFF}, {a1, 0xFFFFFFFF}},
       {{kHi, 0xFFFFFFFF}, {kLo, 0x80000001}}},
      {"mult a0, a1 (INT_MIN * -1)",
       {Md(Opcode::MULT, a0, a1)},
       {{a0, 0x80000000}, {a1, 0xFFFFFFFF}},
       {{kHi, 0}, {kLo, 0x80000000}}},
      {"mult a0, a1 (x * 0 clears HI/LO)",
       {Md(Opcode::MULT, a0, a1)},
       {{a0, 0x12345678}, {a1, 0}, {kHi, 5}, {kLo, 6}},
       {{kHi, 0}, {kLo, 0}}},
      {"multu a0, a1 (0xffffffff^2)",
       {Md(Opcode::MULTU, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 0xFFFFFFFF}},
       {{kHi, 0xFFFFFFFE}, {kLo, 1}}},
      {"multu a0, a1 (2^31 * 2)",
       {Md(Opcode::MULTU, a0, a1)},
       {{a0, 0x80000000}, {a1, 2}},
       {{kHi, 1}, {kLo, 0}}},
      {"mul v0, a0, a1 (low word; HI/LO untouched)",
       {E(Opcode::MUL, {.rs = a0, .rt = a1, .rd = v0})},
       {{a0, 0x10000}, {a1, 0x10001}, {kHi, 0xAAAA}, {kLo, 0xBBBB}},
       {{v0, 0x00010000}}},
      {"mul v0, a0, a1 (-3 * 7)",
       {E(Opcode::MUL, {.rs = a0, .rt = a1, .rd = v0})},
       {{a0, 0xFFFFFFFD}, {a1, 7}},
       {{v0, 0xFFFFFFEB}}},
      {"mul v0, a0, a1 (INT_MIN * -1 wraps)",
       {E(Opcode::MUL, {.rs = a0, .rt = a1, .rd = v0})},
       {{a0, 0x80000000}, {a1, 0xFFFFFFFF}},
       {{v0, 0x80000000}}},
  });
}

TEST(MulDiv, MultiplyAccumulate) {
  RunCases({
      {"madd a0, a1 (carry from LO into HI)",
       {Md(Opcode::MADD, a0, a1)},
       {{a0, 1}, {a1, 1}, {kHi, 0}, {kLo, 0xFFFFFFFF}},
       {{kHi, 1}, {kLo, 0}}},
      {"madd a0, a1 (negative product)",
       {Md(Opcode::MADD, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 2}, {kHi, 0}, {kLo, 1}},
       {{kHi, 0xFFFFFFFF}, {kLo, 0xFFFFFFFF}}},
      {"madd a0, a1 (INT_MIN^2 + 0x7fffffff_ffffffff wraps)",
       {Md(Opcode::MADD, a0, a1)},
       {{a0, 0x80000000}, {a1, 0x80000000}, {kHi, 0x7FFFFFFF}, {kLo, 0xFFFFFFFF}},
       {{kHi, 0xBFFFFFFF}, {kLo, 0xFFFFFFFF}}},
      {"maddu a0, a1 (0xffffffff^2 + 0xffffffff)",
       {Md(Opcode::MADDU, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 0xFFFFFFFF}, {kHi, 0}, {kLo, 0xFFFFFFFF}},
       {{kHi, 0xFFFFFFFF}, {kLo, 0}}},
      {"maddu a0, a1 (64-bit wrap)",
       {Md(Opcode::MADDU, a0, a1)},
       {{a0, 1}, {a1, 1}, {kHi, 0xFFFFFFFF}, {kLo, 0xFFFFFFFF}},
       {{kHi, 0}, {kLo, 0}}},
      {"msub a0, a1 (0 - 1 borrows)",
       {Md(Opcode::MSUB, a0, a1)},
       {{a0, 1}, {a1, 1}},
       {{kHi, 0xFFFFFFFF}, {kLo, 0xFFFFFFFF}}},
      {"msub a0, a1 (minus a negative product)",
       {Md(Opcode::MSUB, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 5}, {kHi, 0}, {kLo, 10}},
       {{kHi, 0}, {kLo, 15}}},
      {"msubu a0, a1 (borrow from HI)",
       {Md(Opcode::MSUBU, a0, a1)},
       {{a0, 2}, {a1, 1}, {kHi, 1}, {kLo, 1}},
       {{kHi, 0}, {kLo, 0xFFFFFFFF}}},
      {"msubu a0, a1 (operands are unsigned)",
       {Md(Opcode::MSUBU, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 1}, {kHi, 1}, {kLo, 0}},
       {{kHi, 0}, {kLo, 1}}},
  });
}

TEST(MulDiv, Divide) {
  RunCases({
      {"div a0, a1 (7 / 2)", {Md(Opcode::DIV, a0, a1)}, {{a0, 7}, {a1, 2}}, {{kLo, 3}, {kHi, 1}}},
      {"div a0, a1 (-7 / 2 truncates toward zero)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0xFFFFFFF9}, {a1, 2}},
       {{kLo, 0xFFFFFFFD}, {kHi, 0xFFFFFFFF}}},
      {"div a0, a1 (7 / -2: remainder takes the dividend's sign)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 7}, {a1, 0xFFFFFFFE}},
       {{kLo, 0xFFFFFFFD}, {kHi, 1}}},
      {"div a0, a1 (-7 / -2)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0xFFFFFFF9}, {a1, 0xFFFFFFFE}},
       {{kLo, 3}, {kHi, 0xFFFFFFFF}}},
      {"div a0, a1 (INT_MIN / 1)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0x80000000}, {a1, 1}},
       {{kLo, 0x80000000}, {kHi, 0}}},
      {"div a0, a1 (INT_MIN / 2)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0x80000000}, {a1, 2}},
       {{kLo, 0xC0000000}, {kHi, 0}}},
      {"div a0, a1 (INT_MIN / INT_MIN)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0x80000000}, {a1, 0x80000000}},
       {{kLo, 1}, {kHi, 0}}},
      {"div a0, a1 (INT_MAX / INT_MIN)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0x7FFFFFFF}, {a1, 0x80000000}},
       {{kLo, 0}, {kHi, 0x7FFFFFFF}}},
      {"divu a0, a1 (0xffffffff / 2)",
       {Md(Opcode::DIVU, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 2}},
       {{kLo, 0x7FFFFFFF}, {kHi, 1}}},
      {"divu a0, a1 (0x80000000 / 0xffffffff)",
       {Md(Opcode::DIVU, a0, a1)},
       {{a0, 0x80000000}, {a1, 0xFFFFFFFF}},
       {{kLo, 0}, {kHi, 0x80000000}}},
      {"divu a0, a1 (0xffffffff / 0xffffffff)",
       {Md(Opcode::DIVU, a0, a1)},
       {{a0, 0xFFFFFFFF}, {a1, 0xFFFFFFFF}},
       {{kLo, 1}, {kHi, 0}}},
      // The UNPREDICTABLE cases, with the values semantics/muldiv.h documents (a divisor of one).
      {"div a0, a1 (INT_MIN / -1: no host trap)",
       {Md(Opcode::DIV, a0, a1)},
       {{a0, 0x80000000}, {a1, 0xFFFFFFFF}},
       {{kLo, 0x80000000}, {kHi, 0}}},
      {"div a0, zero (division by zero: no trap)",
       {Md(Opcode::DIV, a0, zero)},
       {{a0, 0x1234}, {kHi, 7}, {kLo, 7}},
       {{kLo, 0x1234}, {kHi, 0}}},
      {"divu a0, zero (division by zero: no trap)",
       {Md(Opcode::DIVU, a0, zero)},
       {{a0, 0xFFFFFFFF}},
       {{kLo, 0xFFFFFFFF}, {kHi, 0}}},
  });
}

TEST(MulDiv, HiLoMoves) {
  RunCases({
      {"mthi a0; mtlo a1",
       {E(Opcode::MTHI, {.rs = a0}), E(Opcode::MTLO, {.rs = a1})},
       {{a0, 0xCAFEBABE}, {a1, 0x80000001}},
       {{kHi, 0xCAFEBABE}, {kLo, 0x80000001}}},
      {"mfhi v0; mflo v1",
       {E(Opcode::MFHI, {.rd = v0}), E(Opcode::MFLO, {.rd = v1})},
       {{kHi, 0xFFFFFFFF}, {kLo, 0x7FFFFFFF}},
       {{v0, 0xFFFFFFFF}, {v1, 0x7FFFFFFF}}},
      {"mfhi zero (discarded)", {E(Opcode::MFHI, {.rd = zero})}, {{kHi, 1}}, {}},
      {"mult then mflo/mfhi",
       {Md(Opcode::MULT, a0, a1), E(Opcode::MFLO, {.rd = v0}), E(Opcode::MFHI, {.rd = v1})},
       {{a0, 0xFFFF0000}, {a1, 0x00010000}},
       {{v0, 0}, {v1, 0xFFFFFFFF}, {kHi, 0xFFFFFFFF}, {kLo, 0}}},
  });
}

// A loop of divides with a changing divisor, including zero and -1, runs to completion: the host never
// sees a SIGFPE and the guest never sees an exception.
TEST(MulDiv, DivideSweepNeverTraps) {
  TestMachine m;
  InstallHaltHandlers(m);
  // a0 = INT_MIN; a1 runs 2, 1, 0, -1, -2; each step: div, divu, accumulate LO into s0.
  Asm code;
  code.Li(a0, 0x80000000) << Addiu(a1, zero, 2) << Addiu(t0, zero, -2)  // last divisor
                          << Md(Opcode::DIV, a0, a1)                    // loop: word 4
                          << Md(Opcode::DIVU, a0, a1) << E(Opcode::MFLO, {.rd = t1}) << Addu(s0, s0, t1)
                          << Addiu(s1, s1, 1) << Bne(a1, t0, -6) << Addiu(a1, a1, -1) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[s1], 5u);
}

}  // namespace
}  // namespace strobe::test
