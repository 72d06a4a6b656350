// SPDX-License-Identifier: MIT
// The inline pmap path: kernel accesses to kseg0/kseg1 that miss the soft TLB index the unmapped-segment
// table by guest-physical page. Two pages 16 MiB apart share a soft TLB slot, so a loop that alternates
// between them misses the soft TLB on every access and runs on that table. Results must match the
// interpreter, and a store into code through that path must still drop the translated code.
#include <gtest/gtest.h>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kAlias = 16u << 20;  // the soft TLB's reach: same slot, other page

std::unique_ptr<TestMachine> BigMachine(Engine e) {
  unsigned opt = 0;
  if (e == kJitO1) {
    e = Engine::kJit;
    opt = 1;
  }
  auto m = std::make_unique<TestMachine>(64u << 20, 16, nullptr, e, opt);
  EXPECT_TRUE(m->booted());
  InstallHaltHandlers(*m);
  return m;
}

ArchState RunAliasLoop(Engine e) {
  auto mp = BigMachine(e);
  TestMachine& m = *mp;
  // L: lw t4, 0(a0); addu v0, v0, t4; sw v0, 0(a1); lw t5, 0(a1); addu v1, v1, t5; sb v0, 1(a0);
  //    lbu t6, 3(a1); addu v1, v1, t6; addiu t3, t3, -1; bne t3, zero, L; nop; wait
  Asm code{Lw(t4, 0, a0),
           Addu(v0, v0, t4),
           Sw(v0, 0, a1),
           Lw(t5, 0, a1),
           Addu(v1, v1, t5),
           E(Opcode::SB, {.rs = a0, .rt = v0, .imm = 1}),
           E(Opcode::LBU, {.rs = a1, .rt = t6, .imm = 3}),
           Addu(v1, v1, t6),
           Addiu(t3, t3, -1),
           Bne(t3, zero, -10),
           Nop(),
           kWaitWord};
  m.LoadCode(kCodePa, code.words());
  m.Write32(kDataPa, 0x01020304u);
  for (int run = 0; run < 3; ++run) {  // tiered: the later runs are translated
    m.cpu().gpr[a0] = kData;
    m.cpu().gpr[a1] = kData + kAlias;
    m.cpu().gpr[t3] = 3000;
    EXPECT_EQ(m.Run(kCode, 1'000'000), vmm::VmExit::kHalted) << EngineName(e);
    Drain(m);
  }
  ArchState s = Snapshot(m, kDataPa, 4);
  s.data.push_back(m.Read32(kDataPa + kAlias));
  if (e != Engine::kInterp) {
    EXPECT_GT(Installed(m), 0u) << EngineName(e);
  }
  return s;
}

TEST(KsegJit, AliasedPagesMatchInterpreter) {
  const ArchState ref = RunAliasLoop(Engine::kInterp);
  for (Engine e : {Engine::kJit, kJitO1, Engine::kTiered})
    ExpectSameState(ref, RunAliasLoop(e), EngineName(e));
}

// The loop patches its own increment (as SmcJit.RepeatedSelfPatching) but first loads from the page 16 MiB
// above its code, so the store into the code page misses the soft TLB and meets the unmapped-segment
// table, whose write entry for a code page must be empty.
TEST(KsegJit, StoreIntoCodeBehindEvictedSlotDropsCode) {
  for (Engine e : {Engine::kJit, kJitO1, Engine::kTiered}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = BigMachine(e);
    TestMachine& m = *mp;
    m.cpu().gpr[t0] = kCode + 8;
    m.cpu().gpr[t1] = kCode + kAlias;
    ExpectSelfPatchedSum(m, SelfPatchingLoop(m, Lw(t4, 0, t1), Sw(t2, 0, t0)));
  }
}

}  // namespace
}  // namespace strobe::test::jt
