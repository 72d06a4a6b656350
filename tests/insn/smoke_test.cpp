// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "tests/support/test_machine.h"

namespace strobe::test {
namespace {
using mips::Opcode;

TEST(Smoke, AdduThenHalt) {
  TestMachine m;
  ASSERT_TRUE(m.booted());
  m.LoadCode(0x1000,
             {E(Opcode::ADDIU, {.rs = 0, .rt = 1, .imm = 40}), E(Opcode::ADDIU, {.rs = 0, .rt = 2, .imm = 2}),
              E(Opcode::ADDU, {.rs = 1, .rt = 2, .rd = 3}), kWaitWord});
  EXPECT_EQ(m.Run(0x80001000), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[3], 42u);
  EXPECT_EQ(m.cpu().pc, 0x80001010u);  // after the WAIT
}

}  // namespace
}  // namespace strobe::test
