// SPDX-License-Identifier: MIT
// Regions that span pages (Region::other_pages): a loop calls a function on the next page (JAL there, JR
// back), and the caller's optimised region takes the function's blocks. Results must match the interpreter;
// a store that rewrites the function must drop the caller's region as well as the function's own; and the
// same physical code run through a user mapping, where the next virtual page is other memory, must not
// follow the span. The jit engine at O1 spans eagerly; the tiered engine spans in its second tier.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kFnPa = kCodePa + 0x1000;  // the callee, on the page after the loop's
constexpr uint32_t kOtherFnPa = 0x00040000u;  // what the user mapping puts behind the callee's address
constexpr uint32_t kPatcherPa = kCodePa + 0x3000;
constexpr uint32_t kIterations = 3000;

// loop: jal fn; addiu s0, s0, 1; bne s0, s3, loop; nop; wait   (s3 = kIterations)
Asm CallLoop() {
  return Asm{E(Opcode::JAL, {.target = (kFnPa >> 2) & 0x3FFFFFF}), Addiu(s0, s0, 1), Bne(s0, s3, -3), Nop(),
             kWaitWord};
}
// fn: addu s4, s4, s0; jr ra; xor s6, s6, s4   (JAL's delay slot counts first: s4 ends at 1 + 2 + ... + n)
Asm Callee(uint32_t first) {
  return Asm{first, Jr(ra), E(Opcode::XOR, {.rs = s6, .rt = s4, .rd = s6})};
}

bool HasSpanningRegion(TestMachine& m) {
  if (!m.vm().tier()) return false;
  for (const auto& cr : m.vm().code_cache().Installed())
    if (cr->region->page == kCodePa && cr->region->SpansPages()) return true;
  return false;
}

std::unique_ptr<TestMachine> LoopMachine(Engine e) {
  auto m = NewMachine(e);
  InstallHaltHandlers(*m);
  m->LoadCode(kCodePa, CallLoop().words());
  m->LoadCode(kFnPa, Callee(Addu(s4, s4, s0)).words());
  return m;
}

void RunLoop(TestMachine& m) {
  m.cpu().gpr[s0] = 0;
  m.cpu().gpr[s4] = 0;
  m.cpu().gpr[s6] = 0;
  m.cpu().gpr[s3] = kIterations;
  ASSERT_EQ(m.Run(kCode, 10'000'000), vmm::VmExit::kHalted);
}

// Runs the loop until the caller's page has a spanning region installed (the tiered engine needs its
// second tier: a background compile), at most a few seconds.
void RunUntilSpanned(TestMachine& m) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    RunLoop(m);
    Drain(m);
    if (HasSpanningRegion(m)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  } while (std::chrono::steady_clock::now() < give_up);
}

TEST(SpanJit, CallIntoNextPageMatchesInterpreter) {
  auto ref = LoopMachine(Engine::kInterp);
  RunLoop(*ref);
  const ArchState want = Snapshot(*ref);
  EXPECT_EQ(want.gpr[s4], kIterations * (kIterations + 1) / 2);
  for (Engine e : {kJitO1, Engine::kTiered}) {
    SCOPED_TRACE(EngineName(e));
    auto m = LoopMachine(e);
    RunUntilSpanned(*m);
    ASSERT_TRUE(HasSpanningRegion(*m)) << "the loop's region should hold the callee";
    RunLoop(*m);  // now through the spanning region
    ExpectSameState(want, Snapshot(*m), EngineName(e));
  }
}

// After the spanning region runs, code on a third page rewrites the callee's first instruction; the loop
// must then run the new instruction (add s0 twice), which it cannot if the caller's region survives.
TEST(SpanJit, RewritingTheCalleeDropsTheCallersRegion) {
  for (Engine e : {kJitO1, Engine::kTiered}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = LoopMachine(e);
    TestMachine& m = *mp;
    RunUntilSpanned(m);
    ASSERT_TRUE(HasSpanningRegion(m));
    const uint64_t dropped = Stats(m).regions_dropped;
    m.LoadCode(kPatcherPa, {Sw(t2, 0, t0), kWaitWord});
    m.cpu().gpr[t0] = kKseg0 | kFnPa;
    m.cpu().gpr[t2] = E(Opcode::SLL, {.rt = s0, .rd = t4, .sa = 1});  // the new first word: t4 = 2 * s0
    ASSERT_EQ(m.Run(kKseg0 | kPatcherPa, 1000), vmm::VmExit::kHalted);
    EXPECT_GT(Stats(m).regions_dropped, dropped);
    EXPECT_FALSE(HasSpanningRegion(m)) << "the caller's region held the old callee";
    RunLoop(m);
    EXPECT_EQ(m.cpu().gpr[s4], 0u) << "the old addu ran";
    EXPECT_EQ(m.cpu().gpr[t4], 2 * kIterations);
    EXPECT_EQ(m.cpu().gpr[s0], kIterations);
    if (e == Engine::kTiered) {  // the loop lost its code with the callee's page, and earns it again
      RunUntilTranslated(m, kCode, kCodePa, [&] { m.cpu().gpr[s0] = 0; });
      EXPECT_NE(NativeOf(m, kCodePa), nullptr);
    }
  }
}

// The loop's physical page is also mapped at the same virtual address in kuseg, but the next virtual page
// maps to another function (one that subtracts). Run there, the JAL must reach that function, not the
// kseg0 neighbour the spanning region holds.
TEST(SpanJit, UserMappingDoesNotFollowTheSpan) {
  auto setup = [](TestMachine& m) {
    m.LoadCode(kOtherFnPa, Callee(E(Opcode::SUBU, {.rs = s4, .rt = s0, .rd = s4})).words());
    WriteTlb(m, 0, kCodePa, EntryLo(kCodePa, true, true), EntryLo(kOtherFnPa, true, true));
  };
  auto ref = LoopMachine(Engine::kInterp);
  setup(*ref);
  RunLoop(*ref);
  EnterUserMode(*ref);
  ref->cpu().gpr[s0] = 0;
  ref->cpu().gpr[s4] = 0;
  ASSERT_EQ(ref->Run(kCodePa, 10'000'000), vmm::VmExit::kHalted);  // WAIT in user mode: CpU, then halts
  const ArchState want = Snapshot(*ref);
  EXPECT_EQ(want.gpr[s4], 0u - kIterations * (kIterations + 1) / 2);
  for (Engine e : {kJitO1, Engine::kTiered}) {
    SCOPED_TRACE(EngineName(e));
    auto m = LoopMachine(e);
    setup(*m);
    RunUntilSpanned(*m);
    ASSERT_TRUE(HasSpanningRegion(*m));
    EnterUserMode(*m);
    m->cpu().gpr[s0] = 0;
    m->cpu().gpr[s4] = 0;
    ASSERT_EQ(m->Run(kCodePa, 10'000'000), vmm::VmExit::kHalted);
    ExpectSameState(want, Snapshot(*m), EngineName(e));
  }
}

// A J inside the page lands at a known offset from the page base only in kseg0/kseg1; through a user mapping
// at another virtual page the same word jumps to (PC & 0xF0000000) | target, here an unmapped address.
TEST(SpanJit, InPageJumpUnderUserMappingUsesItsArchitecturalTarget) {
  constexpr uint32_t kUserPage = 0x00400000u;
  const Asm code{E(Opcode::J, {.target = ((kCode + 16) >> 2) & 0x3FFFFFF}),
                 Nop(),
                 Addiu(v0, v0, 1),
                 kWaitWord,
                 Addiu(v1, v1, 7),
                 kWaitWord};
  auto run = [&](Engine e) {
    auto m = NewMachine(e);
    InstallHaltHandlers(*m);
    m->LoadCode(kCodePa, code.words());
    EXPECT_EQ(m->Run(kCode, 1000), vmm::VmExit::kHalted);  // kseg0: translated (jit engines) and run
    EXPECT_EQ(m->cpu().gpr[v1], 7u);
    WriteTlb(*m, 0, kUserPage, EntryLo(kCodePa, true, true), EntryLo(kCodePa + 0x1000, true, true));
    EnterUserMode(*m);
    m->cpu().gpr[v1] = 0;
    EXPECT_EQ(m->Run(kUserPage, 1000), vmm::VmExit::kHalted);
    return Snapshot(*m);
  };
  const ArchState want = run(Engine::kInterp);
  EXPECT_EQ(want.epc, (kCode + 16) & 0x0FFFFFFFu) << "the fetch at the J's target misses the TLB";
  EXPECT_EQ(want.gpr[v1], 0u);
  for (Engine e : {Engine::kJit, kJitO1}) ExpectSameState(want, run(e), EngineName(e));
}

}  // namespace
}  // namespace strobe::test::jt
