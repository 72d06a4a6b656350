// SPDX-License-Identifier: MIT
// Snapshots are exact: a bare-metal guest (deterministic: no host input, idle time warped) runs N
// instructions, is saved, and runs on, recording its output, the whole CPU state (GPRs, HI/LO, PC, FPU,
// CP0, TLB, the clock and the instruction count) and every byte of RAM; then the snapshot is loaded and
// the guest runs the same way again, and everything must be the same bit for bit. Each engine is checked
// (interp, tiered, jit), a snapshot taken under one engine is loaded into a fresh VM under another, and
// the guests cover self-modifying code (codegen: code translated before the save is dropped by the load
// and retranslated), the FPU (fpmath) and user mode with TLB refills (tlbmiss).
//
// Only the interpreter stops at the same instruction count and counts every instruction exactly: the
// translation tiers' count (and with it the clock) depends on which code is compiled when, and where they
// stop after the guest's power-off differs by engine, without any snapshot (codegen to power-off, plain
// runs, 2026-12-02: interp 8,349,793 instructions every time; tiered 8,353,948 to 8,372,428; jit stops at
// 0x801003ac, the others at 0x801003c0). So under the tiers the guests run to their power-off and the
// comparison is of what they computed (RAM, output, FPU, CP0 and TLB); under the interpreter it is of
// everything, after M more instructions and again at the power-off.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "vmm/snapshot/snapshot_store.h"
#include "vmm/snapshot/vm_state.h"

namespace strobe::test {
namespace {

constexpr uint32_t kRam = 32u << 20;

struct Machine {
  explicit Machine(const std::string& guest, vmm::Engine engine) : monitor(size_t{1} << 30) {
    vmm::VmConfig cfg;
    cfg.kernel = std::string(STROBE_GUEST_DIR) + "/" + guest + ".elf";
    cfg.ram_bytes = kRam;
    cfg.engine = engine;
    cfg.jit_threshold = 64;  // hot code is translated early, so the save happens with translations live
    cfg.warp_idle = true;
    cfg.rtc_start = 1700000000;
    vm = std::make_unique<vmm::Vm>(monitor, cfg,
                                   [this](uint8_t b) { console.push_back(static_cast<char>(b)); });
  }
  vmm::Monitor monitor;
  std::unique_ptr<vmm::Vm> vm;
  std::string console;
};

// Everything architectural, and all of RAM.
struct State {
  runtime::CpuState cpu;
  std::vector<runtime::TlbEntry> tlb;
  std::vector<uint8_t> ram;
};
State Capture(vmm::Vm& vm) {
  State s;
  s.cpu = vm.cpu();
  for (unsigned i = 0; i < vm.cpu().tlb->size(); ++i) s.tlb.push_back(vm.cpu().tlb->at(i));
  s.ram.resize(kRam);
  for (uint32_t p = 0; p < kRam; p += runtime::kPageSize)
    std::memcpy(&s.ram[p], vm.pmap().Lookup(p).host, runtime::kPageSize);
  return s;
}
// exact: both runs were interpreted, so the stop point and the counts are exact too.
void ExpectSame(const State& a, const State& b, const std::string& what, bool exact) {
  if (exact) {
    EXPECT_EQ(std::memcmp(a.cpu.gpr, b.cpu.gpr, sizeof a.cpu.gpr), 0) << what;
    EXPECT_EQ(a.cpu.pc, b.cpu.pc) << what;
    EXPECT_EQ(a.cpu.hi, b.cpu.hi) << what;
    EXPECT_EQ(a.cpu.lo, b.cpu.lo) << what;
    EXPECT_EQ(a.cpu.cycles, b.cpu.cycles) << what;
    EXPECT_EQ(a.cpu.Retired(), b.cpu.Retired()) << what;
    EXPECT_EQ(a.cpu.branch_taken, b.cpu.branch_taken) << what;
    EXPECT_EQ(a.cpu.timer_deadline, b.cpu.timer_deadline) << what;
  }
  EXPECT_EQ(std::memcmp(&a.cpu.fpu, &b.cpu.fpu, sizeof a.cpu.fpu), 0) << what;
  EXPECT_EQ(std::memcmp(&a.cpu.cp0, &b.cpu.cp0, sizeof a.cpu.cp0), 0) << what;
  ASSERT_EQ(a.tlb.size(), b.tlb.size());
  for (size_t i = 0; i < a.tlb.size(); ++i) {
    EXPECT_EQ(a.tlb[i].entryhi, b.tlb[i].entryhi) << what << " TLB " << i;
    EXPECT_EQ(a.tlb[i].entrylo[0], b.tlb[i].entrylo[0]) << what << " TLB " << i;
    EXPECT_EQ(a.tlb[i].entrylo[1], b.tlb[i].entrylo[1]) << what << " TLB " << i;
    EXPECT_EQ(a.tlb[i].pagemask, b.tlb[i].pagemask) << what << " TLB " << i;
  }
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < a.ram.size(); ++i)
    if (a.ram[i] != b.ram[i] && differ++ == 0) first = i;
  EXPECT_EQ(differ, 0u) << what << ": RAM differs first at physical 0x" << std::hex << first;
}

void CheckExact(const std::string& guest, vmm::Engine engine, vmm::Engine other, uint64_t n,
                uint64_t more = 0) {
  const bool interp = engine == vmm::Engine::kInterp;
  char dir[] = "/tmp/strobe-exact-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  vmm::SnapshotStore store(dir);
  Machine m(guest, engine);
  std::string error;
  ASSERT_TRUE(m.vm->Boot(&error)) << error;
  m.vm->SetInstructionLimit(n);
  ASSERT_EQ(m.vm->Run(), vmm::VmExit::kInstructionLimit) << "the guest ended before the snapshot point";
  vmm::VmState::Settle(*m.vm);
  ASSERT_TRUE(store.Save(*m.vm, "mid", &error)) << error;
  const size_t mark = m.console.size();

  // The interpreter: `more` instructions (to the next block boundary), then everything compared after a
  // load.
  if (interp && more > 0) {
    m.vm->SetInstructionLimit(n + more);
    ASSERT_EQ(m.vm->Run(), vmm::VmExit::kInstructionLimit);
    ASSERT_GE(m.vm->cpu().Retired(), n + more);  // the interpreter stops at the next block boundary
    const State after_m = Capture(*m.vm);
    const std::string output_m = m.console.substr(mark);
    ASSERT_TRUE(store.Load(*m.vm, "mid", &error)) << error;
    m.console.resize(mark);
    ASSERT_EQ(m.vm->Run(), vmm::VmExit::kInstructionLimit);
    EXPECT_EQ(m.console.substr(mark), output_m);
    ExpectSame(after_m, Capture(*m.vm), guest + " after M more", true);
    ASSERT_TRUE(store.Load(*m.vm, "mid", &error)) << error;
    m.console.resize(mark);
  }

  m.vm->SetInstructionLimit(0);
  const vmm::VmExit first_exit = m.vm->Run();
  const std::string first_output = m.console.substr(mark);
  const State first = Capture(*m.vm);
  ASSERT_EQ(first_exit, vmm::VmExit::kPowerOff) << m.vm->error() << first_output;
  ASSERT_NE(first_output.find_first_not_of("\r\n"), std::string::npos) << "no output after the snapshot";

  ASSERT_TRUE(store.Load(*m.vm, "mid", &error)) << error;
  m.console.clear();
  EXPECT_EQ(m.vm->Run(), first_exit) << m.vm->error();
  EXPECT_EQ(m.console, first_output);
  ExpectSame(first, Capture(*m.vm), guest + " reloaded", interp);

  // A fresh VM (another engine) booted to its own reset state, then the snapshot loaded.
  Machine fresh(guest, other);
  ASSERT_TRUE(fresh.vm->Boot(&error)) << error;
  ASSERT_TRUE(store.Load(*fresh.vm, "mid", &error)) << error;
  EXPECT_EQ(fresh.vm->Run(), first_exit) << fresh.vm->error();
  EXPECT_EQ(fresh.console, first_output);
  ExpectSame(first, Capture(*fresh.vm), guest + " in a fresh VM", interp && other == vmm::Engine::kInterp);
  std::remove(store.PathOf("mid").c_str());
  rmdir(dir);
}

TEST(SnapshotExact, CodegenInterp) {
  CheckExact("codegen", vmm::Engine::kInterp, vmm::Engine::kInterp, 3'000'000, 1'000'003);
}
// Saved at points spread over a round of codegen (about 2,800 instructions: generate, then 8 calls), some
// land between two calls of the same generated function: after the load the guest calls it again without
// rewriting it, so code decoded or translated later in the first run (the next functions, at the same
// addresses) would run if the load kept it.
TEST(SnapshotExact, CodegenAtManyPoints) {
  for (uint64_t k = 0; k < 10; ++k) {
    SCOPED_TRACE("snapshot after " + std::to_string(3'000'000 + 283 * k) + " instructions");
    CheckExact("codegen", vmm::Engine::kTiered, vmm::Engine::kInterp, 3'000'000 + 283 * k);
  }
}
TEST(SnapshotExact, CodegenInterpIntoTiered) {
  CheckExact("codegen", vmm::Engine::kInterp, vmm::Engine::kTiered, 3'000'000);
}
TEST(SnapshotExact, CodegenTiered) {
  CheckExact("codegen", vmm::Engine::kTiered, vmm::Engine::kJit, 3'000'000);
}
TEST(SnapshotExact, CodegenJit) {
  CheckExact("codegen", vmm::Engine::kJit, vmm::Engine::kInterp, 3'000'000);
}
TEST(SnapshotExact, FpmathTiered) {
  CheckExact("fpmath", vmm::Engine::kTiered, vmm::Engine::kInterp, 2'000'000);
}
TEST(SnapshotExact, FpmathJit) {
  CheckExact("fpmath", vmm::Engine::kJit, vmm::Engine::kTiered, 2'000'000);
}
TEST(SnapshotExact, TlbmissInterp) {
  CheckExact("tlbmiss", vmm::Engine::kInterp, vmm::Engine::kInterp, 2'000'000, 5'000'001);
}
TEST(SnapshotExact, FpmathInterp) {
  CheckExact("fpmath", vmm::Engine::kInterp, vmm::Engine::kJit, 1'000'000, 2'000'007);
}
TEST(SnapshotExact, TlbmissTiered) {
  CheckExact("tlbmiss", vmm::Engine::kTiered, vmm::Engine::kJit, 2'000'000);
}

// Translations survive a load: code on pages the load leaves as they were is kept, interpreted and
// translated, so the restored guest runs translated code at once. fpmath writes no code: going back to
// a snapshot taken in the same run drops no region and decodes no block again, and the guest then
// runs to the same end as the first time.
TEST(SnapshotExact, TranslationsSurviveALoad) {
  char dir[] = "/tmp/strobe-exact-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  vmm::SnapshotStore store(dir);
  Machine m("fpmath", vmm::Engine::kJit);
  std::string error;
  ASSERT_TRUE(m.vm->Boot(&error)) << error;
  // Compiles run in the background: only what the first run asked for is counted, all of it installed
  // before the load (the second tier, which recompiles by hotness as time goes by, is held).
  m.vm->tier()->HoldSecondTier(true);
  m.vm->SetInstructionLimit(2'000'000);
  ASSERT_EQ(m.vm->Run(), vmm::VmExit::kInstructionLimit);
  vmm::VmState::Settle(*m.vm);
  ASSERT_TRUE(store.Save(*m.vm, "mid", &error)) << error;
  const size_t mark = m.console.size();
  m.vm->SetInstructionLimit(0);
  ASSERT_EQ(m.vm->Run(), vmm::VmExit::kPowerOff) << m.vm->error();
  const std::string first_output = m.console.substr(mark);

  m.vm->tier()->Drain();
  const jit::TierStats before = m.vm->tier()->stats();
  const uint64_t built = m.vm->code_cache().stats().blocks_built;
  const uint64_t invalidated = m.vm->code_cache().stats().blocks_invalidated;
  ASSERT_GT(before.regions_installed, 10u);
  ASSERT_TRUE(store.Load(*m.vm, "mid", &error)) << error;
  EXPECT_EQ(m.vm->tier()->stats().regions_dropped, before.regions_dropped);
  EXPECT_EQ(m.vm->code_cache().stats().blocks_invalidated, invalidated);
  m.console.resize(mark);
  EXPECT_EQ(m.vm->Run(), vmm::VmExit::kPowerOff) << m.vm->error();
  EXPECT_EQ(m.console.substr(mark), first_output);
  EXPECT_EQ(m.vm->tier()->stats().regions_installed, before.regions_installed);  // nothing compiled again
  EXPECT_EQ(m.vm->code_cache().stats().blocks_built, built);
  std::remove(store.PathOf("mid").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace strobe::test
