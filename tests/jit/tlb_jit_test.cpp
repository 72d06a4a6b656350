// SPDX-License-Identifier: MIT
// TLB and ASID changes between executions of translated code. Regions are keyed by guest-physical page
// and entered at a virtual page; chained jumps cache their virtual target's translated entry, valid while
// the soft TLB maps the target to the same page (code::ChainSite). After a remap of the virtual code page
// (or its data page), or a switch of EntryHi.ASID to an address space that maps it elsewhere, the new
// mapping's code and data must be used; an address space that maps it to the same page keeps the jumps.
#include <gtest/gtest.h>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint32_t kVa = 0x00400000u;      // even page: code
constexpr uint32_t kVaData = 0x00401000u;  // odd page: data
constexpr uint32_t kP1 = 0x00040000u, kD1 = 0x00041000u;
constexpr uint32_t kP2 = 0x00050000u, kD2 = 0x00051000u;

// Loads the two variants of the mapped code: `tail` adds 1 at P1, 1000 at P2. Data: 10 at D1, 20 at D2.
void LoadMappedPages(TestMachine& m, const std::function<Asm(int32_t)>& code) {
  m.LoadCode(kP1, code(1).words());
  m.LoadCode(kP2, code(1000).words());
  m.Write32(kD1, 10);
  m.Write32(kD2, 20);
}

// loop: lw t5, 0(a1); addu v0, v0, t5; addiu v0, v0, k; addiu t3, t3, -1; bne t3, zero, loop; nop; end
Asm MappedLoop(int32_t k, uint32_t end) {
  return Asm{
      Lw(t5, 0, a1), Addu(v0, v0, t5), Addiu(v0, v0, k), Addiu(t3, t3, -1), Bne(t3, zero, -5), Nop(), end};
}

// a subroutine: lw t5, 0(a1); addu v0, v0, t5; jr ra; addiu v0, v0, k
Asm MappedCall(int32_t k) {
  return Asm{Lw(t5, 0, a1), Addu(v0, v0, t5), Jr(ra), Addiu(v0, v0, k)};
}

class TlbJit : public ::testing::TestWithParam<Engine> {};

// Kernel-mode code at a kuseg page, remapped by the host (through TLBWI) between runs.
TEST_P(TlbJit, RemapCodeAndDataPagesBetweenRuns) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  LoadMappedPages(m, [](int32_t k) { return MappedLoop(k, kWaitWord); });
  struct Step {
    uint32_t code_pa, data_pa, per_iteration;
  } steps[] = {{kP1, kD1, 11}, {kP2, kD1, 1010}, {kP2, kD2, 1020}, {kP1, kD1, 11}, {kP1, kD2, 21}};
  for (const Step& st : steps) {
    SCOPED_TRACE(testing::Message() << "code " << std::hex << st.code_pa << " data " << st.data_pa);
    WriteTlb(m, 0, kVa, EntryLo(st.code_pa, true, true), EntryLo(st.data_pa, true, true));
    auto init = [&] {
      m.cpu().gpr[v0] = 0;
      m.cpu().gpr[t3] = 400;
      m.cpu().gpr[a1] = kVaData;
    };
    ASSERT_EQ(RunUntilTranslated(m, kVa, st.code_pa, init), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], 400u * st.per_iteration);
    ASSERT_NE(NativeOf(m, st.code_pa), nullptr);
    init();  // once more, now certainly on translated code
    ASSERT_EQ(m.Run(kVa), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kVa + 7 * 4);
    EXPECT_EQ(m.cpu().gpr[v0], 400u * st.per_iteration);
  }
  EXPECT_GE(Installed(m), 2u) << "one region per physical code page";
}

// User-mode code; two ASIDs map the same virtual pages to (P1, D1) and (P2, D2). The host switches
// EntryHi.ASID between runs; each run ends with SYSCALL (the general vector halts).
TEST_P(TlbJit, AsidSwitchBetweenUserModeRuns) {
  auto mp = NewMachine(GetParam());
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  LoadMappedPages(m, [](int32_t k) { return MappedLoop(k, Syscall()); });
  WriteTlb(m, 0, kVa | 1, EntryLo(kP1, true, true), EntryLo(kD1, true, true));
  WriteTlb(m, 1, kVa | 2, EntryLo(kP2, true, true), EntryLo(kD2, true, true));
  struct Step {
    uint32_t asid, code_pa, per_iteration;
  } steps[] = {{1, kP1, 11}, {2, kP2, 1020}, {1, kP1, 11}, {2, kP2, 1020}};
  for (const Step& st : steps) {
    SCOPED_TRACE(testing::Message() << "ASID " << st.asid);
    auto init = [&] {
      runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, st.asid);
      EnterUserMode(m);
      m.cpu().gpr[v0] = 0;
      m.cpu().gpr[t3] = 400;
      m.cpu().gpr[a1] = kVaData;
    };
    ASSERT_EQ(RunUntilTranslated(m, kVa, st.code_pa, init), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], 400u * st.per_iteration);
    ASSERT_NE(NativeOf(m, st.code_pa), nullptr);
    init();
    ASSERT_EQ(m.Run(kVa), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kGeneralVector + 4);
    EXPECT_EQ((m.cpu().cp0.cause >> 2) & 0x1F, 8u) << "SYSCALL";
    EXPECT_EQ(m.cpu().cp0.epc, kVa + 6 * 4);
    EXPECT_EQ(m.cpu().gpr[v0], 400u * st.per_iteration);
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, TlbJit, ::testing::Values(Engine::kJit, kJitO1, Engine::kTiered),
                         [](const ::testing::TestParamInfo<Engine>& i) { return EngineName(i.param); });

// Runs kernel code at kCode under every engine; the others must match the interpreter exactly.
ArchState RunAllEngines(const std::function<void(TestMachine&)>& setup, const Asm& caller) {
  ArchState ref;
  for (Engine e : {Engine::kInterp, Engine::kJit, kJitO1, Engine::kTiered, kBaseline}) {
    auto m = NewMachine(e);
    InstallHaltHandlers(*m);
    LoadMappedPages(*m, MappedCall);
    m->LoadCode(kCodePa, caller.words());
    // Twice from the same start state: the tiered engine installs what the first run made hot.
    for (int run = 0; run < 2; ++run) {
      setup(*m);
      m->cpu().gpr[v0] = 0;
      m->cpu().gpr[a1] = kVaData;
      m->cpu().gpr[t9] = kVa;
      EXPECT_EQ(m->Run(kCode, 10'000'000), vmm::VmExit::kHalted) << EngineName(e);
      Drain(*m);
    }
    ArchState s = Snapshot(*m);
    if (e == Engine::kInterp) {
      ref = s;
      continue;
    }
    ExpectSameState(ref, s, EngineName(e));
    if (e != kBaseline) EXPECT_GT(Installed(*m), 0u) << EngineName(e);
    if (IsJit(e)) {
      EXPECT_NE(NativeOf(*m, kP1), nullptr);
      EXPECT_NE(NativeOf(*m, kP2), nullptr);
    }
  }
  return ref;
}

// n calls of the mapped subroutine through JALR (a chained jump out of translated kernel code).
Asm CallLoop(int32_t n) {
  return Asm{Addiu(t3, zero, n),
             E(Opcode::JALR, {.rs = t9, .rd = ra}),
             Nop(),
             Addiu(t3, t3, -1),
             Bne(t3, zero, -4),
             Nop()};
}

// The guest rewrites the TLB entry (TLBWI) between two series of calls into the mapped page: the chain
// caches of the calling code must not keep jumping to P1's translation.
TEST(TlbJitChain, GuestRemapBetweenChainedCalls) {
  Asm caller;
  caller << CallLoop(300) << Mtc0(s4, kCp0EntryLo0) << Mtc0(s5, kCp0EntryLo1) << E(Opcode::TLBWI, {})
         << CallLoop(300) << Mtc0(s4, kCp0EntryLo0) << Mtc0(s6, kCp0EntryLo1) << E(Opcode::TLBWI, {})
         << CallLoop(300) << kWaitWord;
  ArchState s = RunAllEngines(
      [](TestMachine& m) {
        WriteTlb(m, 0, kVa, EntryLo(kP1, true, true), EntryLo(kD1, true, true));
        runtime::WriteCp0(m.cpu(), kCp0Index, 0, 0);
        runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, kVa);
        m.cpu().gpr[s4] = EntryLo(kP2, true, true);
        m.cpu().gpr[s5] = EntryLo(kD1, true, true);
        m.cpu().gpr[s6] = EntryLo(kD2, true, true);
      },
      caller);
  EXPECT_EQ(s.gpr[v0], 300u * 11 + 300u * 1010 + 300u * 1020);
}

// TLBWI does not end a block (instruction fetch sees the new entry only after a hazard barrier), but the
// loads after it in the same block must use it: the data page is switched from D1 to D2 and back twice per
// pass, and the results agree with the interpreter under every engine, baseline code included.
TEST(TlbJitChain, ALoadAfterATlbWriteInTheSameBlockUsesTheNewEntry) {
  const Asm code{Addiu(t3, zero, 300),
                 Mtc0(s5, kCp0EntryLo1),  // loop: D1
                 E(Opcode::TLBWI, {}),
                 Lw(t5, 0, a1),
                 Addu(v0, v0, t5),
                 Mtc0(s6, kCp0EntryLo1),  // D2
                 E(Opcode::TLBWI, {}),
                 Lw(t5, 0, a1),
                 Addu(v1, v1, t5),
                 Addiu(t3, t3, -1),
                 Bne(t3, zero, -10),
                 Nop(),
                 kWaitWord};
  ArchState ref;
  for (Engine e : {Engine::kInterp, Engine::kJit, kJitO1, Engine::kTiered, kBaseline}) {
    auto m = NewMachine(e);
    InstallHaltHandlers(*m);
    LoadMappedPages(*m, MappedCall);
    m->LoadCode(kCodePa, code.words());
    for (int run = 0; run < 2; ++run) {  // the tiered engine installs what the first run made hot
      WriteTlb(*m, 0, kVa, EntryLo(kP1, true, true), EntryLo(kD1, true, true));
      runtime::WriteCp0(m->cpu(), kCp0Index, 0, 0);
      runtime::WriteCp0(m->cpu(), kCp0EntryHi, 0, kVa);
      runtime::WriteCp0(m->cpu(), kCp0EntryLo0, 0, EntryLo(kP1, true, true));
      m->cpu().gpr[s5] = EntryLo(kD1, true, true);
      m->cpu().gpr[s6] = EntryLo(kD2, true, true);
      m->cpu().gpr[a1] = kVaData;
      m->cpu().gpr[v0] = m->cpu().gpr[v1] = 0;
      EXPECT_EQ(m->Run(kCode, 10'000'000), vmm::VmExit::kHalted) << EngineName(e);
      Drain(*m);
    }
    const code::Block* b = m->vm().code_cache().Find(kCodePa + 4);
    ASSERT_NE(b, nullptr) << EngineName(e);
    EXPECT_EQ(b->size, 11u) << "the loop is one block: " << EngineName(e);
    ArchState s = Snapshot(*m);
    EXPECT_EQ(s.gpr[v0], 300u * 10) << EngineName(e);
    EXPECT_EQ(s.gpr[v1], 300u * 20) << EngineName(e);
    if (e == Engine::kInterp) {
      ref = s;
      continue;
    }
    ExpectSameState(ref, s, EngineName(e));
    if (e != kBaseline) EXPECT_GT(Installed(*m), 0u) << EngineName(e);
  }
}

// Two ASIDs map the subroutine's page to P1 and P2; the guest switches EntryHi.ASID between series of
// chained calls.
TEST(TlbJitChain, GuestAsidSwitchBetweenChainedCalls) {
  Asm caller;
  caller << Mtc0(s4, kCp0EntryHi) << CallLoop(300) << Mtc0(s5, kCp0EntryHi) << CallLoop(300)
         << Mtc0(s4, kCp0EntryHi) << CallLoop(300) << Mtc0(s5, kCp0EntryHi) << CallLoop(7) << kWaitWord;
  ArchState s = RunAllEngines(
      [](TestMachine& m) {
        WriteTlb(m, 0, kVa | 1, EntryLo(kP1, true, true), EntryLo(kD1, true, true));
        WriteTlb(m, 1, kVa | 2, EntryLo(kP2, true, true), EntryLo(kD2, true, true));
        m.cpu().gpr[s4] = 1;
        m.cpu().gpr[s5] = 2;
      },
      caller);
  EXPECT_EQ(s.gpr[v0], 300u * 11 + 300u * 1020 + 300u * 11 + 7u * 1020);
  EXPECT_EQ(s.entryhi & 0xFF, 2u);
}

// A global entry for the page and a per-ASID one are swapped by the guest (TLBWI over the same index) while
// the code of the page is translated: the next call must run the page the new entry names.
TEST(TlbJitChain, GlobalToPerAsidRewrite) {
  Asm caller;
  caller << CallLoop(300) << Mtc0(s4, kCp0EntryLo0) << Mtc0(s5, kCp0EntryLo1) << E(Opcode::TLBWI, {})
         << CallLoop(300) << kWaitWord;
  ArchState s = RunAllEngines(
      [](TestMachine& m) {
        WriteTlb(m, 3, kVa, EntryLo(kP1, true, true, true), EntryLo(kD1, true, true, true));
        runtime::WriteCp0(m.cpu(), kCp0Index, 0, 3);
        runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, kVa | 5);
        m.cpu().gpr[s4] = EntryLo(kP2, true, true);
        m.cpu().gpr[s5] = EntryLo(kD2, true, true);
      },
      caller);
  EXPECT_EQ(s.gpr[v0], 300u * 11 + 300u * 1020);
}

constexpr uint32_t kVb = 0x00600000u, kP3 = 0x00060000u;

// A machine whose kernel code at kCode (`caller`) can call two subroutines through t9 and t8: at kVa (adds
// its data word, 10, and 1) and at kVb (adds 10 and 100), each mapped by a TLB entry of its own (0 and 1).
std::unique_ptr<TestMachine> TwoCalleeMachine(Engine e, const Asm& caller) {
  auto m = NewMachine(e);
  InstallHaltHandlers(*m);
  LoadMappedPages(*m, MappedCall);
  m->LoadCode(kP3, MappedCall(100).words());
  m->LoadCode(kCodePa, caller.words());
  WriteTlb(*m, 0, kVa, EntryLo(kP1, true, true), EntryLo(kD1, true, true));
  WriteTlb(*m, 1, kVb, EntryLo(kP3, true, true), EntryLo(kD1, true, true));
  m->cpu().gpr[v0] = 0;
  m->cpu().gpr[a1] = kVaData;
  m->cpu().gpr[t9] = kVa;
  m->cpu().gpr[t8] = kVb;
  return m;
}

// Jump-cache misses (strobe_jit_link's resolutions past its jump cache) in a run of the jit engine where
// kernel code calls the subroutines at kVa and kVb, 200 times, and after each pair of calls the guest
// rewrites (TLBWI) the entry that maps kVb, or, with `unrelated`, an entry mapping a page no jump goes to.
uint64_t ResolutionsAroundTlbWrites(bool unrelated, uint32_t* sum) {
  Asm caller;
  caller << Addiu(t3, zero, 200) << E(Opcode::JALR, {.rs = t9, .rd = ra}) << Nop()
         << E(Opcode::JALR, {.rs = t8, .rd = ra}) << Nop() << Mtc0(s4, kCp0EntryHi) << E(Opcode::TLBWI, {})
         << Addiu(t3, t3, -1) << Bne(t3, zero, -8) << Nop() << kWaitWord;
  auto m = TwoCalleeMachine(Engine::kJit, caller);
  // Each TLBWI writes EntryHi from s4 with the EntryLo pair set here: entry 1 with kVb's own mapping again
  // (the old entry goes, the same pages come back), or entry 2 at an address nothing jumps to.
  runtime::WriteCp0(m->cpu(), kCp0Index, 0, unrelated ? 2 : 1);
  runtime::WriteCp0(m->cpu(), kCp0EntryLo0, 0, EntryLo(kP3, true, true));
  runtime::WriteCp0(m->cpu(), kCp0EntryLo1, 0, EntryLo(kD1, true, true));
  m->cpu().gpr[s4] = unrelated ? 0x00a00000u : kVb;
  EXPECT_EQ(m->Run(kCode, 10'000'000), vmm::VmExit::kHalted);
  *sum = m->cpu().gpr[v0];
  return m->vm().code_cache().stats().link_resolves;
}

// A cached jump depends on its own page's mapping only: a TLB write that replaces the entry for kVb makes
// the jumps to kVb resolve again (about once per write), not the jumps to kVa; a write of an entry no jump
// goes through makes none resolve again.
TEST(TlbJitChain, ATlbWriteResolvesOnlyTheJumpsIntoItsPages) {
  uint32_t sum_kvb = 0, sum_unrelated = 0;
  const uint64_t kvb = ResolutionsAroundTlbWrites(false, &sum_kvb);
  const uint64_t unrelated = ResolutionsAroundTlbWrites(true, &sum_unrelated);
  EXPECT_EQ(sum_kvb, 200u * (11 + 110));
  EXPECT_EQ(sum_unrelated, 200u * (11 + 110));
  EXPECT_LE(unrelated, 10u);
  EXPECT_GE(kvb, 200u);
  EXPECT_LE(kvb, 200u + 10u) << "the jumps to kVa were resolved again too";
}

// Two call sites in one region, each always calling its own subroutine in another page (as MIPS PIC code
// calls every function: a JALR of its own): each site keeps its target, so the runtime resolves next to
// nothing. One chain site shared by the region's computed jumps resolved both calls every time.
TEST(TlbJitChain, EachComputedJumpHasItsOwnChainSite) {
  Asm caller;
  caller << Addiu(t3, zero, 200) << E(Opcode::JALR, {.rs = t9, .rd = ra}) << Nop()
         << E(Opcode::JALR, {.rs = t8, .rd = ra}) << Nop() << Addiu(t3, t3, -1) << Bne(t3, zero, -6) << Nop()
         << kWaitWord;
  for (Engine e : {Engine::kJit, kJitO1}) {
    auto m = TwoCalleeMachine(e, caller);
    EXPECT_EQ(m->Run(kCode, 10'000'000), vmm::VmExit::kHalted) << EngineName(e);
    EXPECT_EQ(m->cpu().gpr[v0], 200u * (11 + 110)) << EngineName(e);
    EXPECT_LE(m->vm().code_cache().stats().links, 20u) << EngineName(e);
  }
}

}  // namespace
}  // namespace strobe::test::jt
