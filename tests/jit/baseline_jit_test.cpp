// SPDX-License-Identifier: MIT
// The interpreter's baseline code (interp/baseline.h): blocks run as x86-64 written in one pass from the
// handlers. Its memory comes and goes with the blocks; code that rewrites itself runs the new instructions;
// faults leave the block precisely; and under the default tiered engine warm blocks get it on their own.
// (The Unicorn differential, DiffRandom.BaselineSequencesMatchUnicorn, covers the instructions.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tests/jit/jit_support.h"
#include "translator/code/baseline_pool.h"
#include "translator/code/exec_memory.h"

namespace strobe::test::jt {
namespace {

uint64_t BaselineBlocks(TestMachine& m) {
  return m.vm().code_cache().stats().baseline_blocks;
}

bool HasBaseline(TestMachine& m, uint32_t paddr) {
  const code::Block* b = m.vm().code_cache().Find(paddr);
  return b && b->baseline != nullptr;
}

// Runs a test under the interpreter, then as baseline code, each on a fresh machine with the halt handlers:
// `run` sets it up and runs it to a halt, `check` looks at each machine afterwards, and the baseline run
// must end in the interpreter's state.
void AsTheInterpreterDoes(const std::function<void(TestMachine&)>& run,
                          const std::function<void(TestMachine&, Engine)>& check) {
  ArchState want;
  for (Engine e : {Engine::kInterp, kBaseline}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = NewMachine(e);
    TestMachine& m = *mp;
    InstallHaltHandlers(m);
    run(m);
    if (::testing::Test::HasFatalFailure()) return;
    check(m, e);
    if (e == Engine::kInterp) {
      want = Snapshot(m);
    } else {
      ExpectSameState(want, Snapshot(m), "baseline");
    }
  }
}

// loop: jal fn; nop; addiu t3, -1; bne t3, zero, loop; addiu v1, 1; then `end`.
Asm CallingLoop(uint32_t fn, uint32_t end) {
  return Asm{E(Opcode::JAL, {.target = (fn >> 2) & 0x3FFFFFF}),
             Nop(),
             Addiu(t3, t3, -1),
             Bne(t3, zero, -4),
             Addiu(v1, v1, 1),
             end};
}

TEST(ExecArena, FreedPiecesServeTheNextRequestOfTheirSize) {
  code::ExecArena arena;
  void* a = arena.Alloc(100);  // seven granules
  void* b = arena.Alloc(300);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(arena.bytes_in_use(), 112u + 304u);
  std::memset(a, 0xC3, 100);  // writable
  arena.Free(a, 100);
  EXPECT_EQ(arena.bytes_in_use(), 304u);
  EXPECT_EQ(arena.Alloc(110), a);  // the same size class
  void* c = arena.Alloc(64);
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_EQ(arena.Alloc(size_t{2} << 20), nullptr) << "more than a chunk";
}

// Baseline code is kept by key (instructions, page offset, shared paths): equal keys share one piece, whose
// memory goes back with the last reference; a Keep that finds the key held (another thread's block got there
// first) returns that piece.
TEST(BaselinePool, EqualKeysShareOnePieceUntilTheLastReferenceGoes) {
  code::BaselinePool pool;
  const mips::DecodedInsn ops[2] = {};
  const code::BaselineKey key{ops, 2, 0x40, 1};
  const uint8_t bytes[100] = {0xC3};
  const size_t empty = pool.stats().bytes;  // the table
  EXPECT_EQ(pool.Acquire(key).get(), nullptr) << "nothing held yet";
  {
    code::BaselinePool::Ref first = pool.Keep(key, bytes, sizeof bytes);
    ASSERT_NE(first.get(), nullptr);
    EXPECT_EQ(first.size(), sizeof bytes);
    EXPECT_EQ(std::memcmp(first.get(), bytes, sizeof bytes), 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first.get()) % 16, 0u);
    code::BaselinePool::Ref second = pool.Acquire(key);
    EXPECT_EQ(second.get(), first.get());
    code::BaselinePool::Ref raced = pool.Keep(key, bytes, sizeof bytes);
    EXPECT_EQ(raced.get(), first.get()) << "a second Keep of a held key takes the held piece";
    code::BaselineKey other = key;
    other.page_offset = 0x44;
    code::BaselinePool::Ref elsewhere = pool.Keep(other, bytes, sizeof bytes);
    EXPECT_NE(elsewhere.get(), first.get()) << "another page offset is other code";
    code::BaselinePoolStats s = pool.stats();
    EXPECT_EQ(s.pieces, 2u);
    EXPECT_EQ(s.references, 4u);
    EXPECT_EQ(s.referenced_bytes, 4 * code::BaselinePool::OwnCopyBytes(sizeof bytes));
    EXPECT_EQ(s.bytes - empty, 2 * (112u + code::BaselinePool::HeaderBytes()))
        << "the code in 16-byte granules, and a header apart";
    code::BaselinePool::Ref moved = std::move(first);
    EXPECT_EQ(first.get(), nullptr);
    EXPECT_EQ(moved.get(), second.get());
    second.Reset();
    raced.Reset();
    EXPECT_EQ(pool.stats().pieces, 2u) << "moved still holds it";
  }
  EXPECT_EQ(pool.stats().pieces, 0u);
  EXPECT_EQ(pool.stats().references, 0u);
  EXPECT_EQ(pool.stats().bytes, empty);
  EXPECT_EQ(pool.Acquire(key).get(), nullptr) << "the last reference took the piece";
}

// With a perf map, each piece of baseline code is named there as it is made, after the block it was made
// for, and the shared go-on paths once (Linux perf then names the samples in them); a piece found held
// already is not named again.
TEST(BaselinePool, PerfMapNamesEachPieceAndTheSharedPaths) {
  const std::string map = ::testing::TempDir() + "strobe_baseline_perf_" + std::to_string(getpid()) + ".map";
  std::remove(map.c_str());
  code::BaselinePool pool;
  pool.set_perf_map(map);
  const mips::DecodedInsn ops[2] = {};
  const code::BaselineKey key{ops, 2, 0x40, 1};
  const uint8_t bytes[100] = {0xC3};
  code::BaselinePool::Ref first = pool.Keep(key, bytes, sizeof bytes, 0x00123040);
  ASSERT_NE(first.get(), nullptr);
  code::BaselinePool::Ref again = pool.Keep(key, bytes, sizeof bytes, 0x00456040);
  code::BaselinePool::Paths paths;
  ASSERT_TRUE(pool.SharedPaths(
      {1, 2, 3},
      [&](std::vector<uint8_t>& out) -> size_t {
        out.assign(48, 0xC3);
        return 0;
      },
      &paths));
  std::ifstream in(map);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::remove(map.c_str());
  char expect[2][96];
  std::snprintf(expect[0], sizeof expect[0], "%llx %zx strobe:baseline_00123040",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(first.get())), sizeof bytes);
  std::snprintf(expect[1], sizeof expect[1], "%llx 30 strobe:baseline_go_on",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(paths.entry)));
  EXPECT_EQ(lines, (std::vector<std::string>{expect[0], expect[1]}));
}

// Baseline code reaches the pool's shared paths by 32-bit calls: every piece of the executable arena lies in
// the one range it reserved, and a piece's calls are written for where it is kept.
TEST(ExecArena, PiecesLieInTheReservedRangeAndCallsReachTheirTargets) {
  code::ExecArena arena;
  ASSERT_NE(arena.base(), nullptr);
  for (int i = 0; i < 3000; ++i) {  // past a 1 MiB mapping
    auto* p = static_cast<uint8_t*>(arena.Alloc(1000));
    ASSERT_NE(p, nullptr);
    ASSERT_GE(p, arena.base());
    ASSERT_LE(p + 1000, arena.base() + code::ExecArena::kReserve);
  }
  code::BaselinePool pool;
  ASSERT_NE(pool.base(), nullptr);
  const mips::DecodedInsn ops[1] = {};
  uint8_t bytes[16] = {0x90, 0xE8, 0, 0, 0, 0, 0x90, 0xE8, 0, 0, 0, 0, 0xC3};
  const uint8_t* target = pool.base() + 4096;  // wherever the shared code would be
  code::BaselinePool::Ref r =
      pool.Keep({ops, 1, 0, 1}, bytes, sizeof bytes, 0, {{2, target}, {8, target + 64}});
  ASSERT_NE(r.get(), nullptr);
  const auto* at = static_cast<const uint8_t*>(r.get());
  int32_t disp[2];
  std::memcpy(&disp[0], at + 2, 4);
  std::memcpy(&disp[1], at + 8, 4);
  EXPECT_EQ(at + 6 + disp[0], target);
  EXPECT_EQ(at + 12 + disp[1], target + 64);
}

// The code cache's data arenas: decoded instructions in 16-byte granules, blocks in their own size.
TEST(ExecArena, DataPiecesKeepTheirGranuleAndComeBack) {
  code::PieceArena ops(16, false);
  void* a = ops.Alloc(12);  // one instruction
  void* b = ops.Alloc(7 * 12);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 16, 0u);
  EXPECT_EQ(static_cast<uint8_t*>(b) - static_cast<uint8_t*>(a), 16) << "no header between pieces";
  EXPECT_EQ(ops.bytes_in_use(), 16u + 96u);
  ops.Free(b, 7 * 12);
  EXPECT_EQ(ops.Alloc(8 * 12), b) << "a freed piece serves its size class";
  EXPECT_EQ(ops.Alloc(0), nullptr);
  code::PieceArena blocks(sizeof(code::Block), false);
  void* x = blocks.Alloc(sizeof(code::Block));
  void* y = blocks.Alloc(sizeof(code::Block));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x) % 64, 0u) << "a block's first line is a cache line";
  EXPECT_EQ(static_cast<uint8_t*>(y) - static_cast<uint8_t*>(x), static_cast<ptrdiff_t>(sizeof(code::Block)));
}

// Decoded blocks live in the code cache's arenas: a rewritten page's blocks give their memory back, and
// the blocks decoded again from the new code hold the new instructions.
TEST(Baseline, BlocksOfARewrittenPageGiveTheirMemoryBack) {
  auto mp = NewMachine(Engine::kInterp);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  const Asm loop{Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(), kWaitWord};
  m.cpu().gpr[t3] = 10;
  const size_t empty = m.vm().code_cache().block_bytes();
  ASSERT_EQ(RunCode(m, loop), vmm::VmExit::kHalted);
  const size_t with_loop = m.vm().code_cache().block_bytes();
  EXPECT_GE(with_loop, empty + sizeof(code::Block) + 4 * sizeof(mips::DecodedInsn));
  ASSERT_TRUE(m.vm().code_cache().Find(kCodePa));
  const uint32_t patch_pa = kCodePa + 0x1000;
  m.LoadCode(patch_pa, {Sw(t2, 0, t0), kWaitWord});
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 5);
  ASSERT_EQ(m.Run(kKseg0 | patch_pa), vmm::VmExit::kHalted);
  EXPECT_EQ(m.vm().code_cache().Find(kCodePa), nullptr);
  m.vm().code_cache().EndSlice();
  EXPECT_LT(m.vm().code_cache().block_bytes(), with_loop) << "the loop's blocks were not freed";
  m.cpu().gpr[v0] = 0;
  m.cpu().gpr[t3] = 10;
  ASSERT_EQ(m.Run(kCode), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 50u);
  const code::Block* b = m.vm().code_cache().Find(kCodePa);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->ops[0].raw, Addiu(v0, v0, 5));
}

// A loop with arithmetic, a load and a store, run as baseline code: the same results as the interpreter's.
TEST(Baseline, LoopMatchesTheInterpreter) {
  const Asm loop{Lw(t4, 0, t1),     Addu(v0, v0, t4),  Addiu(t4, t4, 3), Sw(t4, 0, t1),
                 Addiu(t3, t3, -1), Bne(t3, zero, -6), Addiu(v1, v1, 7), kWaitWord};
  ArchState want;
  for (Engine e : {Engine::kInterp, kBaseline}) {
    auto mp = NewMachine(e);
    TestMachine& m = *mp;
    InstallHaltHandlers(m);
    m.Write32(kDataPa, 5);
    m.cpu().gpr[t1] = kKseg0 | kDataPa;
    m.cpu().gpr[t3] = 500;
    ASSERT_EQ(RunCode(m, loop), vmm::VmExit::kHalted) << EngineName(e);
    ArchState s = Snapshot(m, kDataPa, 1);
    if (e == Engine::kInterp) {
      want = s;
      continue;
    }
    ExpectSameState(want, s, "baseline");
    EXPECT_TRUE(HasBaseline(m, kCodePa)) << "the loop should have run as baseline code";
    EXPECT_EQ(Installed(m), 0u);
  }
}

// A block holds at most CodeCache::kMaxBlockInsns instructions with its branch's delay slot: 127 straight
// instructions and then a branch make a block of 127 and one of the branch and its slot (the decoder once
// wrote the slot past its buffer, on the host's stack, and the boot of one initramfs crashed). Every
// engine runs the loop to the interpreter's result.
TEST(Blocks, ABranchThatWouldBeThe129thInstructionStartsTheNextBlock) {
  constexpr uint32_t kStraight = code::CodeCache::kMaxBlockInsns - 1;
  Asm loop;
  for (uint32_t i = 0; i < kStraight; ++i) loop << Addiu(v0, v0, 1);
  loop << Bne(t3, zero, -static_cast<int32_t>(kStraight) - 1) << Addiu(t3, t3, -1) << kWaitWord;
  for (Engine e : {Engine::kInterp, kBaseline, Engine::kTiered, Engine::kJit, kJitO1}) {
    SCOPED_TRACE(EngineName(e));
    auto mp = NewMachine(e);
    TestMachine& m = *mp;
    InstallHaltHandlers(m);
    m.cpu().gpr[t3] = 600;
    ASSERT_EQ(RunCode(m, loop, 1'000'000), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().gpr[v0], kStraight * 601);  // the slot counts down after the compare
    EXPECT_EQ(m.cpu().pc, kCode + loop.size_bytes());
    const code::Block* first = m.vm().code_cache().Find(kCodePa);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->size, kStraight);
    EXPECT_EQ(first->end, code::BlockEnd::kFallThrough);
    const code::Block* branch = m.vm().code_cache().Find(kCodePa + 4 * kStraight);
    ASSERT_NE(branch, nullptr);
    EXPECT_EQ(branch->size, 2u);
    EXPECT_EQ(branch->end, code::BlockEnd::kBranch);
  }
}

// The loop patches its own increment each pass; every pass must see the previous pass's patch, so the
// block's baseline code is dropped with its page and written again from the new instructions.
TEST(Baseline, RepeatedSelfPatching) {
  auto mp = NewMachine(kBaseline);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().gpr[t0] = kCode + 8;
  ExpectSelfPatchedSum(m, SelfPatchingLoop(m, Nop(), Sw(t2, 0, t0)));
  EXPECT_GE(BaselineBlocks(m), 40u) << "each pass runs freshly written baseline code";
}

// The blocks of a page rewritten from elsewhere lose their code, and its memory goes back to the arena.
TEST(Baseline, CodeOfARewrittenPageIsFreed) {
  auto mp = NewMachine(kBaseline);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  const Asm loop{Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(), kWaitWord};
  m.cpu().gpr[t3] = 10;
  ASSERT_EQ(RunCode(m, loop), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 10u);
  ASSERT_TRUE(HasBaseline(m, kCodePa));
  const size_t in_use = m.vm().code_cache().baseline_bytes();
  EXPECT_GT(in_use, 0u);
  // A guest store from code on another page rewrites the increment.
  const uint32_t patch_pa = kCodePa + 0x1000;
  m.LoadCode(patch_pa, {Sw(t2, 0, t0), kWaitWord});
  m.cpu().gpr[t0] = kCode;
  m.cpu().gpr[t2] = Addiu(v0, v0, 5);
  ASSERT_EQ(m.Run(kKseg0 | patch_pa), vmm::VmExit::kHalted);
  EXPECT_FALSE(HasBaseline(m, kCodePa));
  EXPECT_LT(m.vm().code_cache().baseline_bytes(), in_use) << "the loop's code was not freed";
  m.cpu().gpr[v0] = 0;
  m.cpu().gpr[t3] = 10;
  ASSERT_EQ(m.Run(kCode), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 50u);
}

// A load or store that faults in the middle of a block (an address error, raised through the shared memory
// paths' miss), and one in a branch's delay slot: EPC, Cause.BD and BadVAddr as the architecture says, and
// what the block did before the fault is kept.
TEST(Baseline, FaultsLeaveTheBlockPrecisely) {
  for (const bool store : {false, true})
    for (const bool in_slot : {false, true}) {
      SCOPED_TRACE(std::string(store ? "a store" : "a load") +
                   (in_slot ? " in a delay slot" : " in the body"));
      ArchState want;
      for (Engine e : {Engine::kInterp, kBaseline}) {
        auto mp = NewMachine(e);
        TestMachine& m = *mp;
        InstallHaltHandlers(m);
        m.cpu().gpr[t1] = (kKseg0 | kDataPa) + 2;  // not word-aligned
        const uint32_t access = store ? Sw(t4, 0, t1) : Lw(t4, 0, t1);
        const Asm code = in_slot ? Asm{Addiu(v0, v0, 1), Beq(zero, zero, 2), access, Nop(), kWaitWord}
                                 : Asm{Addiu(v0, v0, 1), access, Addiu(v0, v0, 1), kWaitWord};
        ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted) << EngineName(e);
        ArchState s = Snapshot(m);
        if (e == Engine::kInterp) {
          want = s;
          EXPECT_EQ(s.gpr[v0], 1u);
          EXPECT_EQ(s.badvaddr, (kKseg0 | kDataPa) + 2);
          continue;
        }
        ExpectSameState(want, s, "baseline");
        EXPECT_GT(BaselineBlocks(m), 0u);
      }
    }
}

// Baseline code goes on from block to block by itself, but only as far as the dispatcher would: a loop that
// never leaves its page still ends at the slice's limit, and a timer interrupt is still taken in it.
TEST(Baseline, ALoopOfBaselineCodeStopsAtTheLimit) {
  auto mp = NewMachine(kBaseline);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  const Asm loop{Addiu(v0, v0, 1), Beq(zero, zero, -2), Nop(), kWaitWord};  // forever
  m.LoadCode(kCodePa, loop.words());
  const uint64_t before = m.cpu().Retired();
  EXPECT_EQ(m.Run(kCode, 200000), vmm::VmExit::kInstructionLimit);
  const uint64_t ran = m.cpu().Retired() - before;
  EXPECT_GE(ran, 200000u);
  EXPECT_LT(ran, 200000u + 3) << "it ran past the limit";
  EXPECT_EQ(m.cpu().gpr[v0], static_cast<uint32_t>(ran / 3));
  EXPECT_TRUE(HasBaseline(m, kCodePa));
}

// Going on by itself keeps the counts the tier reads: a loop of baseline code still gets hot and is
// compiled by LLVM under the tiered engine.
TEST(Baseline, ChainedBlocksStillGetHotForLlvm) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  const Asm loop{Addiu(v0, v0, 1), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(), kWaitWord};
  m.LoadCode(kCodePa, loop.words());
  ASSERT_EQ(RunUntilTranslated(m, kCode, kCodePa,
                               [&] {
                                 m.cpu().gpr[v0] = 0;
                                 m.cpu().gpr[t3] = 5000;
                               }),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 5000u);
  EXPECT_NE(NativeOf(m, kCodePa), nullptr) << "the loop never reached LLVM";
}

// A loop on one page of kernel code calls a function on the next page (JAL there, JR RA back): baseline
// code goes on across the pages and through the return by itself, finding the successor in the code
// cache's table as the dispatcher would, and computes what the interpreter does.
TEST(Baseline, KernelCodeGoesOnAcrossPagesAndThroughReturns) {
  uint64_t lookups = 0;
  AsTheInterpreterDoes(
      [&](TestMachine& m) {
        m.LoadCode(kCodePa + 0x1000, {Addiu(v0, v0, 3), Jr(ra), Addiu(v0, v0, 1)});
        m.cpu().gpr[t3] = 2000;
        lookups = m.vm().code_cache().stats().lookups;
        ASSERT_EQ(RunCode(m, CallingLoop(kCode + 0x1000, kWaitWord), 10'000'000), vmm::VmExit::kHalted);
      },
      [&](TestMachine& m, Engine e) {
        if (e == Engine::kInterp) {
          EXPECT_EQ(m.cpu().gpr[v0], 8000u);
          return;
        }
        EXPECT_TRUE(HasBaseline(m, kCodePa + 0x1000));
        // Each pass crosses pages twice: 4,000 trips through the dispatcher if it did not go on by itself.
        EXPECT_LT(m.vm().code_cache().stats().lookups - lookups, 400u);
      });
}

// The called function's page is rewritten halfway by the loop itself: the calls after it run the new
// instruction, so the table that baseline code finds its successors in holds no block of the old code.
TEST(Baseline, KernelCodeCallingARewrittenFunctionRunsTheNewCode) {
  const uint32_t f = kCode + 0x1000;
  // loop: jal f; nop; bne t3, t4, skip; nop; sw t2, 0(t0); skip: addiu t3, -1; bne t3, zero, loop; nop
  const Asm loop{E(Opcode::JAL, {.target = (f >> 2) & 0x3FFFFFF}),
                 Nop(),
                 Bne(t3, t4, 2),
                 Nop(),
                 Sw(t2, 0, t0),
                 Addiu(t3, t3, -1),
                 Bne(t3, zero, -7),
                 Nop(),
                 kWaitWord};
  AsTheInterpreterDoes(
      [&](TestMachine& m) {
        m.LoadCode(kCodePa + 0x1000, {Addiu(v0, v0, 3), Jr(ra), Nop()});
        m.cpu().gpr[t3] = 2000;
        m.cpu().gpr[t4] = 1000;
        m.cpu().gpr[t0] = f;
        m.cpu().gpr[t2] = Addiu(v0, v0, 5);
        ASSERT_EQ(RunCode(m, loop, 10'000'000), vmm::VmExit::kHalted);
      },
      [&](TestMachine& m, Engine e) {
        if (e == Engine::kInterp) {
          EXPECT_EQ(m.cpu().gpr[v0], 1001u * 3 + 999u * 5);
          return;
        }
        EXPECT_TRUE(HasBaseline(m, kCodePa + 0x1000)) << "the new code should have become baseline code too";
      });
}

// Mapped code (user programs, kernel modules) goes on across pages too: the successor's page is translated
// through the soft TLB's fetch entry, as the dispatcher's lookup does. Here user-mode code at kUserCode calls
// (JAL) a function on another mapped page, 2,000 times; the results are the interpreter's and the
// dispatcher sees few of the 4,000 page crossings.
constexpr uint32_t kFnVa = 0x00402000u, kFnPa = 0x00032000u;  // the function's page (an even page)
constexpr uint32_t kFn2Pa = 0x00034000u;                      // another function, mapped there later
constexpr uint32_t kFnPairLo1 = 0x00033000u;                  // the odd page of the function's pair

TEST(Baseline, UserCodeGoesOnAcrossMappedPagesAndThroughReturns) {
  uint64_t lookups = 0;
  AsTheInterpreterDoes(
      [&](TestMachine& m) {
        WriteTlb(m, 1, kFnVa, EntryLo(kFnPa, true, true), EntryLo(kFnPairLo1, true, true));
        m.LoadCode(kFnPa, {Addiu(v0, v0, 3), Jr(ra), Addiu(v0, v0, 1)});
        m.cpu().gpr[t3] = 2000;
        lookups = m.vm().code_cache().stats().lookups;
        ASSERT_EQ(RunUserCode(m, CallingLoop(kFnVa, Syscall())), vmm::VmExit::kHalted);
      },
      [&](TestMachine& m, Engine e) {
        EXPECT_EQ(ExcCodeOf(m), 8u) << "ended by its SYSCALL";
        if (e == Engine::kInterp) {
          EXPECT_EQ(m.cpu().gpr[v0], 8000u);
          return;
        }
        EXPECT_TRUE(HasBaseline(m, kFnPa));
        EXPECT_LT(m.vm().code_cache().stats().lookups - lookups, 400u);
      });
}

// Kernel-mode code running at mapped addresses rewrites the TLB entry of the function's page halfway
// (TLBWI, mapping another function there): the calls after it run the new function. Going on checks the
// mapping at every crossing, as the dispatcher would.
TEST(Baseline, MappedCodeGoingOnFollowsATlbRewrite) {
  // 1,000 calls, then EntryHi/EntryLo0/EntryLo1 from s4/s5/s6 and TLBWI (Index 1), then 1,000 more.
  Asm code;
  code << Addiu(t3, zero, 1000) << CallingLoop(kFnVa, Nop());
  code << Mtc0(s4, kCp0EntryHi) << Mtc0(s5, kCp0EntryLo0) << Mtc0(s6, kCp0EntryLo1) << Mtc0(s7, kCp0Index)
       << E(Opcode::TLBWI, {}) << Addiu(t3, zero, 1000) << CallingLoop(kFnVa, kWaitWord);
  AsTheInterpreterDoes(
      [&](TestMachine& m) {
        WriteTlb(m, 0, kUserCode, EntryLo(kUserCodePa, true, true), EntryLo(kUserDataPa, true, true));
        WriteTlb(m, 1, kFnVa, EntryLo(kFnPa, true, true), EntryLo(kFnPairLo1, true, true));
        m.LoadCode(kFnPa, {Addiu(v0, v0, 3), Jr(ra), Addiu(v0, v0, 1)});
        m.LoadCode(kFn2Pa, {Addiu(v0, v0, 5), Jr(ra), Addiu(v0, v0, 1)});
        m.LoadCode(kUserCodePa, code.words());
        m.cpu().gpr[s4] = kFnVa;
        m.cpu().gpr[s5] = EntryLo(kFn2Pa, true, true);
        m.cpu().gpr[s6] = EntryLo(kFnPairLo1, true, true);
        m.cpu().gpr[s7] = 1;
        ASSERT_EQ(m.Run(kUserCode, 1'000'000), vmm::VmExit::kHalted);
      },
      [&](TestMachine& m, Engine e) {
        if (e == Engine::kInterp) {
          EXPECT_EQ(m.cpu().gpr[v0], 1000u * 4 + 1000u * 6);
          return;
        }
        EXPECT_TRUE(HasBaseline(m, kFn2Pa));
      });
}

// User code may not go on into kernel code, and not to an unaligned address: a jump there raises an address
// error (AdEL, BadVAddr the target) though the kernel block has baseline code.
TEST(Baseline, UserCodeJumpingIntoKseg0OrUnalignedRaisesAnAddressError) {
  for (const uint32_t target : {kCode, kUserCode + 0x1002}) {
    SCOPED_TRACE(testing::Message() << "target 0x" << std::hex << target);
    AsTheInterpreterDoes(
        [&](TestMachine& m) {
          ASSERT_EQ(RunCode(m, {Addiu(v0, v0, 100), kWaitWord}), vmm::VmExit::kHalted);  // the kernel block
          m.cpu().gpr[v0] = 0;
          m.cpu().gpr[t0] = target;
          m.cpu().gpr[t3] = 50;
          // loop: addiu t3, -1; bne t3, zero, loop; nop; jr t0; addiu v1, 1
          ASSERT_EQ(RunUserCode(m, {Addiu(t3, t3, -1), Bne(t3, zero, -2), Nop(), Jr(t0), Addiu(v1, v1, 1)}),
                    vmm::VmExit::kHalted);
        },
        [&](TestMachine& m, Engine) {
          EXPECT_EQ(ExcCodeOf(m), 4u) << "AdEL";
          EXPECT_EQ(m.cpu().cp0.badvaddr, target);
          EXPECT_EQ(m.cpu().gpr[v0], 0u) << "the kernel block must not run";
        });
  }
}

// The default tiered engine gives warm blocks baseline code on its own (--jit-baseline, 64 executions).
TEST(Baseline, TheTieredEngineUsesItForWarmBlocks) {
  auto mp = NewMachine(Engine::kTiered);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.cpu().gpr[t3] = 100;  // under the test machine's LLVM threshold (256)
  ASSERT_EQ(RunCode(m, Asm{Addiu(v0, v0, 2), Addiu(t3, t3, -1), Bne(t3, zero, -3), Nop(), kWaitWord}),
            vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 200u);
  EXPECT_TRUE(HasBaseline(m, kCodePa));
}

}  // namespace
}  // namespace strobe::test::jt
