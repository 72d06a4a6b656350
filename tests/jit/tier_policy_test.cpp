// SPDX-License-Identifier: MIT
// The tier's policies about what is worth compiling: the jit engine stops recompiling a page whose code is
// rewritten again and again (it falls back to the tiered policy for that page), and the second tier's queue
// lets go of regions that stopped running before their turn came.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "tests/jit/jit_support.h"
#include "tests/support/scratch.h"

namespace strobe::test::jt {
namespace {

uint64_t RegionsCompiled(TestMachine& m) {
  return m.vm().tier()->compiler_stats().regions;
}

// The self-patching loop rewrites its own increment on each of its 40 passes. Compiling before every run,
// the jit engine compiled the page's region 40 times; it must stop after a few rewrites and interpret the
// page (with the same results).
std::unique_ptr<TestMachine> SelfPatchedUnderJit() {
  auto mp = NewMachine(Engine::kJit);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode + 8;
  ExpectSelfPatchedSum(m, SelfPatchingLoop(m, Nop(), Sw(t2, 0, t0)));
  return mp;
}

TEST(TierPolicy, JitStopsRecompilingAPageThatKeepsBeingRewritten) {
  auto mp = SelfPatchedUnderJit();
  TestMachine& m = *mp;
  EXPECT_GE(Stats(m).regions_dropped, 3u) << "the first rewrites still drop translated code";
  EXPECT_LE(RegionsCompiled(m), 8u) << "recompiled at every rewrite";
}

// A page that fell back to the tiered policy is compiled before it runs again after a reboot: reloading
// the image is not the guest rewriting its code.
TEST(TierPolicy, JitCompilesEagerlyAgainAfterAFlush) {
  auto mp = SelfPatchedUnderJit();
  TestMachine& m = *mp;
  ASSERT_FALSE(m.vm().tier()->WantsEager(kCodePa));

  m.vm().code_cache().FlushAll();
  EXPECT_TRUE(m.vm().tier()->WantsEager(kCodePa));
  ASSERT_EQ(RunCode(m, Asm{Addiu(v0, zero, 7), Nop(), kWaitWord}), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 7u);
  EXPECT_NE(NativeOf(m, kCodePa), nullptr) << "not compiled before it ran";
}

// L: addiu v0, v0, 1; addiu t3, t3, -1; bne t3, zero, L; nop; wait
Asm CountLoop() {
  return Asm{Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(), kWaitWord};
}

// Runs the loop at code_pa `runs` times, 20,000 passes each (one Interpreter::Run slice or more per run,
// so the tier polls at least once per run).
void RunLoops(TestMachine& m, uint32_t code_pa, int runs) {
  for (int i = 0; i < runs; ++i) {
    m.cpu().gpr[t3] = 20000;
    ASSERT_EQ(m.Run(kKseg0 | code_pa, 10'000'000), vmm::VmExit::kHalted);
    m.vm().tier()->Drain();
  }
}

// A tiered machine whose second tier is held (nothing it is sent compiles until released), pruned only
// by hand (the automatic interval is an hour), with a busy bar of 10,000 instructions an interval.
std::unique_ptr<TestMachine> HeldSecondTierMachine() {
  auto mp = NewMachine(Engine::kTiered);
  InstallHaltHandlers(*mp);
  jit::Tier& tier = *mp->vm().tier();
  tier.HoldSecondTier(true);
  tier.set_prune_interval(std::chrono::hours(1));
  tier.set_busy_insns(10'000);
  return mp;
}

// Two loops become busy enough for the second tier while it is held; then only loop B keeps running. At
// the next prune loop A's queued recompile leaves the queue (it cooled down) and B's stays. The test
// prunes by hand (the automatic interval is an hour), with a bar of 10,000 instructions an interval.
TEST(TierPolicy, SecondTierQueueDropsRegionsThatCooledDown) {
  auto mp = HeldSecondTierMachine();
  TestMachine& m = *mp;
  jit::Tier& tier = *m.vm().tier();
  constexpr uint32_t kLoopA = kCodePa, kLoopB = kCodePa + 0x2000;
  m.LoadCode(kLoopA, CountLoop().words());
  m.LoadCode(kLoopB, CountLoop().words());

  RunLoops(m, kLoopA, 40);
  RunLoops(m, kLoopB, 40);
  ASSERT_NE(NativeOf(m, kLoopA), nullptr);
  ASSERT_NE(NativeOf(m, kLoopB), nullptr);
  const uint64_t sent = Stats(m).reoptimized;
  ASSERT_GE(sent, 2u) << "both loops should have been sent to the second tier";

  tier.PruneSecondTierNow();  // both ran since they were queued: both stay
  EXPECT_EQ(Stats(m).reoptimize_pruned, 0u);
  RunLoops(m, kLoopB, 40);  // only B runs now
  tier.PruneSecondTierNow();
  EXPECT_EQ(Stats(m).reoptimize_pruned, 1u) << "loop A's recompile should have left the queue, B's not";
  EXPECT_EQ(Stats(m).reoptimized, sent) << "nothing new became busy";

  tier.HoldSecondTier(false);
  tier.Drain(/*second_tier=*/true);
  EXPECT_EQ(m.vm().tier()->optimizer_stats().regions, 1u) << "only B's region should be recompiled";
}

bool HasOptimisedRegion(TestMachine& m, uint32_t page) {
  const auto* list = m.vm().code_cache().RegionsInPage(page);
  return list &&
         std::any_of(list->begin(), list->end(), [](const auto& cr) { return cr->region->opt_level > 0; });
}

// A second-tier region spans the hot function its loop calls on another page. That page is written while
// the compile waits in the queue, so the compile comes back stale and is dropped; the loop's own page is
// unchanged and its first-tier region stays installed. That region must be sent again once it is busy
// again: it was left marked as sent, and ran first-tier code for good.
TEST(TierPolicy, SecondTierSendsARegionAgainWhenAPageItSpansWasWritten) {
  auto mp = HeldSecondTierMachine();
  TestMachine& m = *mp;
  jit::Tier& tier = *m.vm().tier();
  constexpr uint32_t kLoop = kCodePa, kFn = kCodePa + 0x2000;
  const uint32_t jal_fn = (3u << 26) | (((kKseg0 | kFn) >> 2) & 0x03FFFFFF);
  // L: jal F; nop; addiu t3, t3, -1; bne t3, zero, L; nop; wait    F: addiu v0, v0, 1; jr ra; nop
  m.LoadCode(kLoop, {jal_fn, Nop(), Addiu(t3, t3, -1), Bne(t3, zero, -4), Nop(), kWaitWord});
  m.LoadCode(kFn, {Addiu(v0, v0, 1), Jr(ra), Nop()});

  RunLoops(m, kLoop, 40);
  ASSERT_GE(Stats(m).reoptimized, 1u) << "the loop should have been sent to the second tier";
  const uint64_t sent = Stats(m).reoptimized;
  m.vm().code_cache().InvalidateCodePage(kFn & runtime::kPageMask);  // as a store to that page would
  tier.HoldSecondTier(false);
  tier.Drain(/*second_tier=*/true);
  ASSERT_GE(Stats(m).stale_results, 1u) << "the compile spanning the written page should come back stale";
  ASSERT_FALSE(HasOptimisedRegion(m, kLoop));

  int runs = 40;
  for (int i = 0; i < 4 && !HasOptimisedRegion(m, kLoop); ++i, runs += 40) {
    RunLoops(m, kLoop, 40);
    tier.Drain(/*second_tier=*/true);
  }
  EXPECT_GT(Stats(m).reoptimized, sent) << "the loop was not sent to the second tier again";
  EXPECT_TRUE(HasOptimisedRegion(m, kLoop)) << "the loop still runs first-tier code";
  EXPECT_EQ(m.cpu().gpr[v0], static_cast<uint32_t>(runs) * 20000u) << "every call should have counted";
}

// This process's threads called `name` (their comm), by thread id, with their nice values.
std::map<int, int> NiceOfThreads(const std::string& name) {
  std::map<int, int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(e.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // from field 3, the state
    std::string f;
    for (int i = 3; i <= 19; ++i) fields >> f;  // field 19: nice
    out[std::stoi(e.path().filename().string())] = std::stoi(f);
  }
  return out;
}

// The nice value of the second-tier thread a compile service for `vms` VMs starts (-100: none seen in 5 s).
// The thread names itself after it has set its priority, so once its name shows, its nice value is final.
int SecondTierNice(size_t vms) {
  const std::map<int, int> before = NiceOfThreads("strobe-llvm-O1");
  auto service = jit::CompileService::Create(jit::TierOptions{}, vms);
  for (int i = 0; i < 500; ++i) {
    for (const auto& [tid, nice] : NiceOfThreads("strobe-llvm-O1"))
      if (!before.count(tid)) return nice;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -100;
}

// With a persistent code cache, a block's region is looked for there after 250 executions (an eighth of
// the threshold when that is less), not after an eighth of any threshold: loading costs far less than
// compiling, so a high threshold must not delay it. Without a cache folder nothing is looked for early.
uint64_t EarlyCount(uint64_t threshold, const std::string& cache_dir) {
  vmm::Monitor monitor(size_t{64} << 20);
  vmm::VmConfig cfg;
  cfg.ram_bytes = 4u << 20;
  cfg.engine = Engine::kTiered;
  cfg.jit_threshold = threshold;
  cfg.jit_code_cache_dir = cache_dir;
  cfg.image = WaitImage();
  vmm::Vm vm(monitor, cfg, [](uint8_t) {});
  return vm.tier() ? vm.tier()->hotness().early : ~uint64_t{0};
}

TEST(TierPolicy, EarlyLoadsFromTheCodeCacheDoNotFollowAHighThreshold) {
  const std::string dir = RemoveAtExit(
      (std::filesystem::path(::testing::TempDir()) / ("strobe_early_" + std::to_string(getpid()))).string());
  EXPECT_EQ(EarlyCount(16000, dir), 250u);
  EXPECT_EQ(EarlyCount(1 << 20, dir), 250u);
  EXPECT_EQ(EarlyCount(1000, dir), 125u);
  EXPECT_EQ(EarlyCount(4, dir), 1u);
  EXPECT_EQ(EarlyCount(16000, ""), 0u);
}

// One VM's second tier runs only when the vCPU and the first tier leave a core free (nice 19); with several
// VMs sharing its code it runs beside them (at the process's own priority, which a thread inherits).
TEST(TierPolicy, SecondTierYieldsToOneVmAndRunsBesideSeveral) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  ASSERT_EQ(errno, 0);
  EXPECT_EQ(SecondTierNice(1), 19);
  EXPECT_EQ(SecondTierNice(4), own);
}

// Cooling (--jit-cooling): a block that runs once in every few thousand instructions is never compiled,
// however often it runs in all; a loop that runs its threshold's worth of times within one cooling period is.
// Without cooling the cold block is compiled once its lifetime count reaches the threshold (the control: the
// same run must tell the two policies apart).
bool ColdBlockCompiled(unsigned cooling_shift) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.vm().tier()->set_cooling_shift(cooling_shift);
  constexpr uint32_t kCold = kCodePa, kBusy = kCodePa + 0x2000;
  m.LoadCode(kCold, {Addiu(v0, v0, 1), kWaitWord});
  m.LoadCode(kBusy, CountLoop().words());
  const uint64_t threshold = m.vm().tier()->options().threshold;
  for (uint64_t i = 0; i < 2 * threshold; ++i) {
    EXPECT_EQ(m.Run(kKseg0 | kCold), vmm::VmExit::kHalted);
    m.cpu().gpr[t3] = 3000;  // 9,000 instructions: more than two cooling periods of 4,096
    EXPECT_EQ(m.Run(kKseg0 | kBusy), vmm::VmExit::kHalted);
    m.vm().tier()->Drain();
  }
  EXPECT_EQ(m.cpu().gpr[v0], 2 * threshold + 2 * threshold * 3000);
  EXPECT_NE(NativeOf(m, kBusy), nullptr) << "the busy loop should be compiled under either policy";
  return NativeOf(m, kCold) != nullptr;
}

// Kernel code (a block first fetched through kseg0/kseg1, as these tests' code is) gets hot at the kernel's
// threshold (--jit-kernel-threshold), not at the user threshold: run between the two it stays uncompiled,
// whether the dispatcher enters it each time (one block per run) or its baseline code loops by itself.
bool KernelCodeCompiled(uint64_t kernel_threshold, uint64_t runs, bool as_loop) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.vm().tier()->set_cooling_shift(0);
  m.vm().tier()->set_kernel_threshold(kernel_threshold);
  if (as_loop) {
    m.LoadCode(kCodePa, CountLoop().words());
    m.cpu().gpr[t3] = static_cast<uint32_t>(runs);
    EXPECT_EQ(m.Run(kKseg0 | kCodePa, 100'000'000), vmm::VmExit::kHalted);
    m.vm().tier()->Drain();
    EXPECT_EQ(m.cpu().gpr[v0], runs);
    return NativeOf(m, kCodePa) != nullptr;
  }
  m.LoadCode(kCodePa, {Addiu(v0, v0, 1), kWaitWord});
  for (uint64_t i = 0; i < runs; ++i) {
    EXPECT_EQ(m.Run(kKseg0 | kCodePa), vmm::VmExit::kHalted);
    m.vm().tier()->Drain();
  }
  EXPECT_EQ(m.cpu().gpr[v0], runs);
  return NativeOf(m, kCodePa) != nullptr;
}

TEST(TierPolicy, KernelCodeGetsHotAtItsOwnThreshold) {
  const uint64_t user = NewMachine(Engine::kTiered)->vm().tier()->options().threshold;
  for (bool loop : {false, true}) {
    SCOPED_TRACE(loop ? "a loop of baseline code" : "entered by the dispatcher");
    EXPECT_FALSE(KernelCodeCompiled(8 * user, 3 * user, loop)) << "hot at the user threshold";
    EXPECT_TRUE(KernelCodeCompiled(8 * user, 12 * user, loop)) << "not hot at the kernel threshold";
    EXPECT_TRUE(KernelCodeCompiled(user, 3 * user, loop)) << "the control: the same run with one threshold";
  }
}

// The persistent code cache's policy (TierOptions::serving_kernel_threshold): kernel code is hot at the
// kernel's threshold until a program ran (a block at a kuseg address got hot), at the serving threshold
// after, whether the dispatcher sees each execution or baseline code loops by itself (it reads the
// thresholds the dispatcher sets for each slice).
TEST(TierPolicy, KernelCodeServingProgramsGetsHotAtTheServingThreshold) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  jit::Tier& tier = *m.vm().tier();
  tier.set_cooling_shift(0);
  const uint64_t user = tier.options().threshold;
  tier.set_kernel_threshold(8 * user);
  tier.set_serving_kernel_threshold(user);
  constexpr uint32_t kBoot = kCodePa, kProgram = kCodePa + 0x2000, kServe = kCodePa + 0x4000;
  for (uint32_t pa : {kBoot, kProgram, kServe}) m.LoadCode(pa, CountLoop().words());
  const auto run_loop = [&](uint32_t va) {
    m.cpu().gpr[t3] = static_cast<uint32_t>(3 * user);
    EXPECT_EQ(m.Run(va, 100'000'000), vmm::VmExit::kHalted);
    tier.Drain();
  };
  run_loop(kKseg0 | kBoot);
  EXPECT_EQ(NativeOf(m, kBoot), nullptr) << "kernel code before any program: the kernel's threshold";
  EXPECT_EQ(tier.hotness().kernel_threshold, 8 * user);
  // A program: code at a kuseg address (unmapped while Status.ERL is set: no TLB needed).
  runtime::WriteCp0(m.cpu(), 12, 0, m.cpu().cp0.status | runtime::st::ERL);
  run_loop(kProgram);
  runtime::WriteCp0(m.cpu(), 12, 0, m.cpu().cp0.status & ~runtime::st::ERL);
  EXPECT_NE(NativeOf(m, kProgram), nullptr);
  EXPECT_EQ(tier.hotness().kernel_threshold, user);
  run_loop(kKseg0 | kServe);
  EXPECT_NE(NativeOf(m, kServe), nullptr) << "kernel code once programs ran: the serving threshold";
  run_loop(kKseg0 | kBoot);
  EXPECT_EQ(m.cpu().gpr[v0], 12 * user);
}

// A block ended by an MTC0 or EI that left the mode, the ASID and the exit request as they were goes on to
// the next block within its region (mips::GoesOnAfter): a loop through such blocks runs without the
// dispatcher's looking a block up, where it left for the dispatcher at every MTC0 and EI before, with the
// interpreter's results. An MTC0 that makes the
// CPU a user-mode one leaves: the next fetch, from kseg0, is an address error in every engine.
TEST(TierPolicy, RegionsGoOnPastAnMtc0OrEiThatChangedNothing) {
  // L: mfc0 t0, Status; mtc0 t0, Status; ei t1; addiu v0, v0, 1; di t2; addiu t3, t3, -1; bne t3, zero, L;
  // nop; wait
  const Asm loop{Mfc0(t0, 12),
                 Mtc0(t0, 12),
                 E(Opcode::EI, {.rt = t1}),
                 Addiu(v0, v0, 1),
                 E(Opcode::DI, {.rt = t2}),
                 Addiu(t3, t3, -1),
                 Bne(t3, zero, -7),
                 Nop(),
                 kWaitWord};
  constexpr uint32_t kRuns = 1000;
  for (Engine e : {Engine::kInterp, Engine::kJit, kJitO1}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = NewMachine(e);
    TestMachine& m = *mp;
    InstallHaltHandlers(m);
    m.LoadCode(kCodePa, loop.words());
    m.cpu().gpr[t3] = kRuns;
    const uint64_t lookups = m.vm().code_cache().stats().lookups;
    EXPECT_EQ(m.Run(kKseg0 | kCodePa), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], kRuns);
    EXPECT_EQ(m.cpu().gpr[t1], 0u) << "Status before the EI";
    EXPECT_EQ(m.cpu().gpr[t2], 1u) << "Status before the DI: IE";
    if (e == Engine::kInterp) continue;
    EXPECT_LT(m.vm().code_cache().stats().lookups - lookups, 20u)
        << "left the region at an MTC0 or EI that changed nothing";
  }
  // mtc0 t0, Status with KSU = user: the next instruction's fetch from kseg0 raises AdEL at its address.
  const Asm to_user{Mtc0(t0, 12), Addiu(v0, v0, 1), kWaitWord};
  for (Engine e : {Engine::kInterp, Engine::kJit, kJitO1, kBaseline}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = NewMachine(e);
    TestMachine& m = *mp;
    InstallHaltHandlers(m);
    m.LoadCode(kCodePa, to_user.words());
    m.cpu().gpr[t0] = 2u << runtime::st::KSU_SHIFT;
    EXPECT_EQ(m.Run(kKseg0 | kCodePa), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], 0u) << "ran an instruction in user mode from kseg0";
    EXPECT_EQ((m.cpu().cp0.cause >> 2) & 31, static_cast<uint32_t>(runtime::ExcCode::AdEL));
    EXPECT_EQ(m.cpu().cp0.epc, kKseg0 | (kCodePa + 4));
  }
}

TEST(TierPolicy, CoolingKeepsRarelyRunCodeInterpreted) {
  EXPECT_FALSE(ColdBlockCompiled(12)) << "compiled although it never ran more than twice in a period";
  EXPECT_TRUE(ColdBlockCompiled(0)) << "without cooling its lifetime count should make it hot";
}

// The jit engine's second tier re-forms a busy region from its busiest block (its first-tier regions hold
// whatever was reachable from the first block that ran) and drops every first-tier region holding one of
// the new region's blocks: otherwise the first-tier region keeps running its own copy of the loop through
// its internal branch. Here the first-tier region starts at a prologue the loop never returns to.
TEST(TierPolicy, JitSecondTierTakesOverTheHotLoop) {
  auto mp = NewMachine(Engine::kJit);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  // prologue: addiu t0, zero, 0; nop; L: addiu v0, v0, 1; addiu t3, t3, -1; bne t3, zero, L; nop; wait
  m.LoadCode(kCodePa, {Addiu(t0, zero, 0), Nop(), Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3),
                       Nop(), kWaitWord});
  for (int i = 0; i < 40; ++i) {
    m.cpu().gpr[t3] = 20000;
    ASSERT_EQ(m.Run(kCode, 10'000'000), vmm::VmExit::kHalted);
    m.vm().tier()->Drain(/*second_tier=*/true);
  }
  const code::Block* loop = m.vm().code_cache().Find(kCodePa + 8);
  ASSERT_NE(loop, nullptr);
  ASSERT_NE(loop->native, nullptr);
  const code::CompiledRegion* holder = m.vm().code_cache().InstalledAt(kCodePa + 8);
  ASSERT_NE(holder, nullptr);
  EXPECT_EQ(loop->native_frame, &holder->region->frame) << "the block enters another region's code";
  EXPECT_EQ(holder->region->opt_level, 1u) << "the loop should run optimised code";
  for (const auto& cr : m.vm().code_cache().Installed()) {
    if (cr->region->opt_level > 0 || cr->region->page != kCodePa) continue;
    for (const code::RegionBlock& rb : cr->region->blocks)
      EXPECT_NE(rb.offset, 8u) << "a first-tier region still holds the hot loop: " << cr->name;
  }
}

// A first-tier region of the jit engine holds whatever was reachable from the first block that ran, here two
// loops one after the other. When it gets busy, the second tier must form a region for each hot loop at
// once, as the tiered engine would have: it used to form one from the busiest block only, so the second
// loop ran first-tier code until the region's remainder was compiled again and got busy on its own (sort:
// passes later).
TEST(TierPolicy, JitSecondTierOptimisesEveryHotLoopOfARegionAtOnce) {
  auto mp = NewMachine(Engine::kJit);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  // addiu t3, zero, 20000; A: addiu v0, v0, 1; addiu t3, t3, -1; bne t3, zero, A; nop
  // addiu t4, zero, 10000; B: addiu v1, v1, 1; addiu t4, t4, -1; bne t4, zero, B; nop; wait
  m.LoadCode(kCodePa, {Addiu(t3, zero, 20000), Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(),
                       Addiu(t4, zero, 10000), Addiu(v1, v1, 1), Addiu(t4, t4, -1), Bne(t4, zero, -3), Nop(),
                       kWaitWord});
  constexpr uint32_t kLoopA = kCodePa + 4, kLoopB = kCodePa + 0x18;
  auto opt_level = [&](uint32_t paddr) {
    const code::Block* b = m.vm().code_cache().Find(paddr);
    const code::CompiledRegion* holder = m.vm().code_cache().InstalledAt(paddr);
    return !b || !b->native || !holder ? -1 : static_cast<int>(holder->region->opt_level);
  };
  int runs = 0;
  while (runs < 40 && opt_level(kLoopA) < 1 && opt_level(kLoopB) < 1) {
    ASSERT_EQ(m.Run(kCode, 10'000'000), vmm::VmExit::kHalted);
    m.vm().tier()->Drain(/*second_tier=*/true);
    ++runs;
  }
  EXPECT_EQ(m.cpu().gpr[v0], 20000u * runs);
  EXPECT_EQ(m.cpu().gpr[v1], 10000u * runs);
  ASSERT_EQ(opt_level(kLoopA), 1) << "the busiest loop should run optimised code";
  EXPECT_EQ(opt_level(kLoopB), 1) << "the second loop was left in first-tier code";
  ASSERT_TRUE(m.vm().code_cache().Find(kLoopA) && m.vm().code_cache().Find(kLoopB));
  EXPECT_NE(m.vm().code_cache().Find(kLoopA)->native_frame, m.vm().code_cache().Find(kLoopB)->native_frame)
      << "each hot loop should be a region of its own, as under the tiered engine";
}

}  // namespace
}  // namespace strobe::test::jt
