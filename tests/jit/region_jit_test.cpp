// SPDX-License-Identifier: MIT
// Region formation under the tiered engine: a region keeps to code that has run (a block 1/32 as busy as
// the root at least), and a page's regions are disjoint, so a block is compiled once.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include <unistd.h>

#include "tests/jit/jit_support.h"
#include "tests/support/scratch.h"

namespace strobe::test::jt {
namespace {

// L (0x00): addiu v0, v0, 1; beq t3, t4, C; addiu t3, t3, -1; bne t3, zero, L; nop; wait
// C (0x18): addiu v1, v1, 1 (never runs: t4 is never reached); b L; nop
Asm LoopWithColdPath() {
  return Asm{Addiu(v0, v0, 1),
             Beq(t3, t4, 4),
             Addiu(t3, t3, -1),
             Bne(t3, zero, -4),
             Nop(),
             kWaitWord,
             Addiu(v1, v1, 1),
             Beq(zero, zero, -8),
             Nop()};
}

// A tiered machine that ran LoopWithColdPath at kCode until it was translated (null if it did not halt).
std::unique_ptr<TestMachine> TranslatedLoop() {
  auto m = NewMachine(Engine::kTiered);
  InstallHaltHandlers(*m);
  m->LoadCode(kCodePa, LoopWithColdPath().words());
  const vmm::VmExit exit = RunUntilTranslated(*m, kCode, kCodePa, [&] {
    m->cpu().gpr[t3] = 3000;
    m->cpu().gpr[t4] = 0x7FFFFFFF;
  });
  EXPECT_EQ(exit, vmm::VmExit::kHalted);
  return exit == vmm::VmExit::kHalted ? std::move(m) : nullptr;
}

TEST(RegionJit, TieredRegionsLeaveColdBlocksOutAndDoNotOverlap) {
  auto mp = TranslatedLoop();
  ASSERT_NE(mp, nullptr);
  TestMachine& m = *mp;
  ASSERT_NE(NativeOf(m, kCodePa), nullptr);
  // Then code elsewhere in the page that jumps into the loop becomes hot (E at +0x40: addiu s0, s0, 1;
  // b L; nop): its region must not take the loop's blocks again.
  m.LoadCode(kCodePa + 0x40, {Addiu(s0, s0, 1), Beq(zero, zero, -18), Nop()});
  for (int i = 0; i < 400; ++i) {
    m.cpu().gpr[t3] = 3;
    ASSERT_EQ(m.Run(kCode + 0x40), vmm::VmExit::kHalted);
  }
  Drain(m);
  ASSERT_NE(NativeOf(m, kCodePa + 0x40), nullptr) << "the jump into the loop should be translated too";
  std::multiset<uint32_t> blocks;
  for (const auto& cr : m.vm().code_cache().Installed()) {
    if (cr->region->page != kCodePa || cr->region->opt_level != 0) continue;
    for (const auto& rb : cr->region->blocks) blocks.insert(rb.offset);
  }
  EXPECT_EQ(blocks.count(0x18), 0u) << "the never-executed block must stay out of the region";
  EXPECT_EQ(blocks.count(0x00), 1u) << "the loop head is in exactly one first-tier region";
  for (uint32_t off : blocks) EXPECT_EQ(blocks.count(off), 1u) << "block at +" << off << " is in two regions";
  // The translated loop still computes what the interpreter does.
  m.cpu().gpr[v0] = 0;
  m.cpu().gpr[t3] = 500;
  ASSERT_EQ(m.Run(kCode), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[v0], 500u);
  EXPECT_EQ(m.cpu().gpr[v1], 0u);
}

// The translated code counts the guest instructions it runs (RegionFrame::insns), on every way out: the
// second tier's bar is a rate of that work. The loop's region runs 5 instructions a pass (two of them delay
// slots) in two blocks: 500 passes count 500 entries (each back-edge is one), which times the mean block size
// (2.5) made the old estimate of its work, 1,250.
TEST(RegionJit, TheCodeCountsTheInstructionsItRuns) {
  auto mp = TranslatedLoop();
  ASSERT_NE(mp, nullptr);
  TestMachine& m = *mp;
  auto loop_region = [&]() -> const code::Region* {
    for (const auto& cr : m.vm().code_cache().Installed())
      if (cr->region->page == kCodePa && cr->region->blocks.front().offset == 0) return cr->region.get();
    return nullptr;
  };
  const code::Region* r = loop_region();
  ASSERT_NE(r, nullptr);
  const uint64_t entries = r->frame.entries, insns = r->frame.insns;
  m.cpu().gpr[t3] = 500;
  ASSERT_EQ(m.Run(kCode), vmm::VmExit::kHalted);
  ASSERT_EQ(loop_region(), r) << "the region was replaced";
  EXPECT_EQ(r->frame.insns - insns, 5u * 500);
  EXPECT_EQ(r->frame.entries - entries, 500u);
}

// A region of the blocks `code` splits into at its branches (offsets from 0x100, each branch with its delay
// slot ending a block), as the tiers hand regions to the compiler.
code::Region RegionOf(const Asm& code) {
  code::Region r;
  r.page = kCodePa;
  code::RegionBlock b;
  b.offset = 0x100;
  const std::vector<uint32_t> words = code.words();
  for (size_t i = 0; i < words.size(); ++i) {
    b.ops.push_back(mips::Decode(words[i]));
    const bool slot = b.ops.size() >= 2 && mips::EncodingOf(b.ops[b.ops.size() - 2].op).flags & mips::kBranch;
    if (slot || i + 1 == words.size()) {
      b.end = slot ? code::BlockEnd::kBranch : code::BlockEnd::kFallThrough;
      const uint32_t next = b.offset + 4 * static_cast<uint32_t>(b.ops.size());
      r.blocks.push_back(std::move(b));
      b = code::RegionBlock{};
      b.offset = next;
    }
  }
  return r;
}

// The optimising tier keeps guest registers in host registers only in regions with a one-block loop
// (--jit-promote loops, the default): elsewhere its loads at entry and write-backs at exits cost more than
// they save (translator/README.md, "Promoted registers"). A loop through two blocks, or one through the
// dispatcher, does not count; the first tier never promotes.
TEST(RegionJit, OnlyRegionsWithAOneBlockLoopKeepGuestRegistersInHostRegisters) {
  // +0x100: addiu v0, v0, 1; bne v0, t3, +0x100; nop
  const code::Region tight = RegionOf(Asm{Addiu(v0, v0, 1), Bne(v0, t3, -2), Nop()});
  ASSERT_EQ(tight.blocks.size(), 1u);
  // +0x100: addiu v0, v0, 1; beq v0, t4, +0x114; nop / +0x10c: b +0x100; nop / +0x114: jr ra; nop
  const code::Region wide =
      RegionOf(Asm{Addiu(v0, v0, 1), Beq(v0, t4, 3), Nop(), Beq(zero, zero, -4), Nop(), Jr(ra), Nop()});
  ASSERT_EQ(wide.blocks.size(), 3u);
  using jit::Promote;
  EXPECT_TRUE(jit::PromotesRegisters(tight, 1, Promote::kLoops));
  EXPECT_TRUE(jit::PromotesRegisters(tight, 2, Promote::kLoops));
  EXPECT_FALSE(jit::PromotesRegisters(tight, 0, Promote::kLoops));
  EXPECT_FALSE(jit::PromotesRegisters(tight, 1, Promote::kNever));
  EXPECT_FALSE(jit::PromotesRegisters(wide, 1, Promote::kLoops));
  EXPECT_TRUE(jit::PromotesRegisters(wide, 1, Promote::kAlways));
  EXPECT_FALSE(jit::PromotesRegisters(wide, 0, Promote::kAlways));
}

// The IR (before optimisation) of a region that loops through two blocks and returns, compiled at O1 under
// the other options of `o`.
std::string TwoBlockLoopIr(jit::CompileOptions o) {
  o.opt_level = 1;
  o.keep_listings = true;
  jit::Compiler compiler(o);
  std::vector<std::unique_ptr<code::Region>> batch;
  batch.push_back(std::make_unique<code::Region>(
      RegionOf(Asm{Addiu(v0, v0, 1), Beq(v0, t4, 3), Nop(), Beq(zero, zero, -4), Nop(), Jr(ra), Nop()})));
  auto cr = compiler.Compile(std::move(batch)).at(0);
  EXPECT_NE(cr->fn, nullptr);
  return cr->ir_before;
}

// The mode reaches the lifter: promoted, the region's IR holds a slot for each guest register it touches;
// in memory it reads and writes the vCPU state in place. (The code cache keys by the mode:
// PersistentCache.AnotherCompilerLoadsWhatOneCompiledWhereverTheCodeIs.)
TEST(RegionJit, ThePromoteModeShapesTheCode) {
  auto allocas = [&](jit::Promote promote) {
    jit::CompileOptions o;
    o.promote = promote;
    const std::string ir = TwoBlockLoopIr(o);
    size_t n = 0;
    for (size_t at = ir.find("alloca"); at != std::string::npos; at = ir.find("alloca", at + 1)) ++n;
    return n;
  };
  const size_t always = allocas(jit::Promote::kAlways), never = allocas(jit::Promote::kNever);
  EXPECT_GE(always, never + 4) << "v0, t4, ra and the cycle count each get a slot";
  EXPECT_EQ(allocas(jit::Promote::kLoops), never) << "no one-block loop: memory mode";
}

// Whether the code counts its entries and instructions in its frame (RegionFrame::entries at offset 0,
// insns at 8; the frame is the function's fifth argument, %4) follows LiftOptions::count_work: the first
// tier on its own (the CLI's default) does without, so that a crossing between regions updates no counter
// (the instructions retired are the clock's: CpuState::Retired). The counting itself:
// TheCodeCountsTheInstructionsItRuns; the same instruction count either way: LinuxIcount.
TEST(RegionJit, OnlyCodeWhoseCountsAreReadCountsItsWork) {
  auto ir = [&](bool count_work) {
    jit::CompileOptions o;
    o.promote = jit::Promote::kNever;
    o.count_work = count_work;
    return TwoBlockLoopIr(o);
  };
  const std::string counted = ir(true), uncounted = ir(false);
  EXPECT_NE(counted.find("ptr %4, i64 0\n"), std::string::npos) << "entries";
  EXPECT_NE(counted.find("ptr %4, i64 8\n"), std::string::npos) << "insns";
  EXPECT_EQ(uncounted.find("ptr %4, i64 0\n"), std::string::npos);
  EXPECT_EQ(uncounted.find("ptr %4, i64 8\n"), std::string::npos);
  EXPECT_NE(uncounted.find("ptr %4, i64 16"), std::string::npos) << "the chain sites are still the frame's";
}

// Kernel code (kseg0/kseg1) forms regions up to 128 blocks and 1,024 instructions, other code up to 64
// blocks and 512 (TierOptions): the kernel's LZMA decoder, whose loop is more than 64 blocks, was cut and
// left its region 13 M times while it unpacked the kernel. A loop through 101 blocks, run from kseg0 and
// from a kuseg mapping of the same physical page.
TEST(RegionJit, KernelCodeFormsBiggerRegions) {
  Asm code;
  for (int i = 0; i < 100; ++i) {  // each block: addiu v0, v0, 1; bne t5, zero, <next block>; nop
    code << Addiu(v0, v0, 1);
    code << Bne(t5, zero, 1);
    code << Nop();
  }
  code << Addiu(t3, t3, -1);
  code << Bne(t3, zero, -302);  // back to the first block
  code << Nop();
  code << kWaitWord;
  constexpr uint32_t kUserVa = 0x00400000u;
  for (const bool kseg : {true, false}) {
    SCOPED_TRACE(kseg ? "kseg0" : "kuseg");
    auto m = NewMachine(Engine::kTiered);
    InstallHaltHandlers(*m);
    m->LoadCode(kCodePa, code.words());
    if (!kseg) WriteTlb(*m, 0, kUserVa, EntryLo(kCodePa, true, true), EntryLo(kCodePa + 0x1000, true, true));
    const uint32_t start = kseg ? kCode : kUserVa;
    const vmm::VmExit exit = RunUntilTranslated(*m, start, kCodePa, [&] {
      m->cpu().gpr[v0] = 0;
      m->cpu().gpr[t3] = 300;
    });
    ASSERT_EQ(exit, vmm::VmExit::kHalted);
    EXPECT_EQ(m->cpu().gpr[v0], 30000u);
    const code::CompiledRegion* cr = m->vm().code_cache().InstalledAt(kCodePa);
    ASSERT_NE(cr, nullptr);
    EXPECT_EQ(cr->region->kseg, kseg);
    if (kseg) {
      EXPECT_GE(cr->region->blocks.size(), 101u) << "the whole loop in one region";
    } else {
      EXPECT_EQ(cr->region->blocks.size(), 64u);
    }
  }
}

// A region loaded early from the persistent code cache (Tier::NoteWarm) is kernel code as one formed at the
// threshold is, so its second-tier copy keeps the kernel's size limits.
TEST(RegionJit, KernelCodeLoadedEarlyFromTheCodeCacheKeepsItsLimits) {
  Asm code;  // two blocks, so that the cache files the region's shape under its root (Region::core_blocks)
  code << Addiu(v0, v0, 1) << Beq(zero, zero, 1) << Nop() << Addiu(t3, t3, -1) << Bne(t3, zero, -5) << Nop()
       << kWaitWord;
  const std::string dir = RemoveAtExit(
      (std::filesystem::path(::testing::TempDir()) / ("strobe_early_kseg_" + std::to_string(getpid())))
          .string());
  for (const bool second_run : {false, true}) {
    SCOPED_TRACE(second_run ? "loaded early" : "compiled");
    TestMachine m(16u << 20, 16, nullptr, Engine::kTiered, 0, runtime::CpuModel::k24Kc, false, dir);
    ASSERT_TRUE(m.booted());
    InstallHaltHandlers(m);
    m.LoadCode(kCodePa, code.words());
    const vmm::VmExit exit = RunUntilTranslated(m, kCode, kCodePa, [&] { m.cpu().gpr[t3] = 100; });
    ASSERT_EQ(exit, vmm::VmExit::kHalted);
    if (second_run) EXPECT_GT(Stats(m).early_loads, 0u) << "the region was not loaded early";
    const code::CompiledRegion* cr = m.vm().code_cache().InstalledAt(kCodePa);
    ASSERT_NE(cr, nullptr);
    EXPECT_TRUE(cr->region->kseg);
  }
}

}  // namespace
}  // namespace strobe::test::jt
