// SPDX-License-Identifier: MIT
// Helpers of the translation-tier tests: engine names, a snapshot of the architecturally visible state
// (GPRs, HI/LO, PC and the CP0 registers exceptions write) and a data buffer, comparisons between
// engines, and probes that show translated code really ran (tier statistics, the blocks' native entries).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/insn/insn_helpers.h"

namespace strobe::test::jt {

using vmm::Engine;

// Not an engine of its own: the jit engine compiling with the optimising tiers' code shape (--jit-opt 1:
// guest registers, HI/LO and the cycle count promoted to SSA values). NewMachine understands it.
inline constexpr Engine kJitO1 = static_cast<Engine>(0x71);
// Nor this: the tiered engine with every block run as the interpreter's baseline code (interp/baseline.h)
// from its first execution, and LLVM out of the way.
inline constexpr Engine kBaseline = static_cast<Engine>(0x72);
inline bool IsJit(Engine e) {
  return e == Engine::kJit || e == kJitO1;
}

inline const char* EngineName(Engine e) {
  if (e == kJitO1) return "jit_O1";
  if (e == kBaseline) return "baseline";
  switch (e) {
    case Engine::kInterp: return "interp";
    case Engine::kJit: return "jit";
    case Engine::kTiered: return "tiered";
  }
  return "?";
}

inline std::unique_ptr<TestMachine> NewMachine(Engine e, unsigned jit_opt_level = 0,
                                               runtime::CpuModel model = runtime::CpuModel::k24Kc) {
  if (e == kJitO1) {
    e = Engine::kJit;
    jit_opt_level = 1;
  }
  const bool baseline = e == kBaseline;
  if (baseline) e = Engine::kTiered;
  auto m = std::make_unique<TestMachine>(16u << 20, 16, nullptr, e, jit_opt_level, model, baseline);
  EXPECT_TRUE(m->booted());
  return m;
}

// Everything a guest can observe after a run (Count/Random aside: they follow the virtual clock).
struct ArchState {
  uint32_t gpr[32] = {};
  uint32_t hi = 0, lo = 0, pc = 0;
  uint32_t epc = 0, cause = 0, badvaddr = 0, status = 0, entryhi = 0, context = 0;
  uint32_t entrylo0 = 0, entrylo1 = 0, pagemask = 0, lladdr = 0;
  bool ll_bit = false;
  std::vector<uint32_t> data;  // words of a data buffer
};

inline ArchState Snapshot(TestMachine& m, uint32_t data_pa = kDataPa, unsigned data_words = 0) {
  ArchState s;
  const runtime::CpuState& c = m.cpu();
  for (unsigned i = 0; i < 32; ++i) s.gpr[i] = c.gpr[i];
  s.hi = c.hi;
  s.lo = c.lo;
  s.pc = c.pc;
  s.epc = c.cp0.epc;
  s.cause = c.cp0.cause;
  s.badvaddr = c.cp0.badvaddr;
  s.status = c.cp0.status;
  s.entryhi = c.cp0.entryhi;
  s.context = c.cp0.context;
  s.entrylo0 = c.cp0.entrylo0;
  s.entrylo1 = c.cp0.entrylo1;
  s.pagemask = c.cp0.pagemask;
  s.lladdr = c.cp0.lladdr;
  s.ll_bit = c.ll_bit;
  for (unsigned i = 0; i < data_words; ++i) s.data.push_back(m.Read32(data_pa + 4 * i));
  return s;
}

// Compares two snapshots field by field, naming the engines in failure messages.
inline void ExpectSameState(const ArchState& want, const ArchState& got, const std::string& what) {
  SCOPED_TRACE(what);
  for (unsigned i = 0; i < 32; ++i) EXPECT_EQ(want.gpr[i], got.gpr[i]) << "GPR " << i;
  EXPECT_EQ(want.hi, got.hi) << "HI";
  EXPECT_EQ(want.lo, got.lo) << "LO";
  EXPECT_EQ(want.pc, got.pc) << "PC";
  EXPECT_EQ(want.epc, got.epc) << "EPC";
  EXPECT_EQ(want.cause, got.cause) << "Cause";
  EXPECT_EQ(want.badvaddr, got.badvaddr) << "BadVAddr";
  EXPECT_EQ(want.status, got.status) << "Status";
  EXPECT_EQ(want.entryhi, got.entryhi) << "EntryHi";
  EXPECT_EQ(want.context, got.context) << "Context";
  EXPECT_EQ(want.entrylo0, got.entrylo0) << "EntryLo0";
  EXPECT_EQ(want.entrylo1, got.entrylo1) << "EntryLo1";
  EXPECT_EQ(want.pagemask, got.pagemask) << "PageMask";
  EXPECT_EQ(want.lladdr, got.lladdr) << "LLAddr";
  EXPECT_EQ(want.ll_bit, got.ll_bit) << "LL bit";
  ASSERT_EQ(want.data.size(), got.data.size());
  for (size_t i = 0; i < want.data.size(); ++i) EXPECT_EQ(want.data[i], got.data[i]) << "data word " << i;
}

inline strobe::jit::TierStats Stats(TestMachine& m) {
  return m.vm().tier()->stats();
}

// Did any translated code get installed / entered?
inline uint64_t Installed(TestMachine& m) {
  return m.vm().tier() ? Stats(m).regions_installed : 0;
}

// The translated entry of the decoded block starting at a guest-physical address (null if none).
inline strobe::code::NativeFn NativeOf(TestMachine& m, uint32_t paddr) {
  const strobe::code::Block* b = m.vm().code_cache().Find(paddr);
  return b ? b->native : nullptr;
}

// How often the decoded block at paddr was entered (by the interpreter or, translated, by the dispatcher).
inline uint64_t ExecCount(TestMachine& m, uint32_t paddr) {
  const strobe::code::Block* b = m.vm().code_cache().Find(paddr);
  return b ? b->exec_count : 0;
}

// Waits for background compiles and installs them (a no-op for the interpreter and the eager engine).
inline void Drain(TestMachine& m) {
  if (m.vm().tier()) m.vm().tier()->Drain();
}

// Runs from pc; on the tiered engine the run is repeated (after draining the compiler) until code at
// `hot_pa` has a translated entry or `tries` runs have passed. `before_each` restores inputs.
inline vmm::VmExit RunUntilTranslated(TestMachine& m, uint32_t pc, uint32_t hot_pa,
                                      const std::function<void()>& before_each, int tries = 8,
                                      uint64_t max_insns = 10'000'000) {
  vmm::VmExit e = vmm::VmExit::kError;
  for (int i = 0; i < tries; ++i) {
    if (before_each) before_each();
    e = m.Run(pc, max_insns);
    Drain(m);
    if (NativeOf(m, hot_pa)) break;
  }
  return e;
}

// A loop of 40 passes that patches its own `addiu v0, v0, 1` (the word at kCode + 8) to add one more each
// pass, so v0 ends at 40 * 41 / 2 when every patch is seen: `other` runs just before `store`, which writes
// t2 (the next encoding) over the word. The caller points the store's base register at the word.
inline constexpr uint32_t kSelfPatchedSum = 40u * 41u / 2u;
inline void SetUpSelfPatching(TestMachine& m) {  // t2: the first encoding; t3: the passes
  m.cpu().gpr[t2] = Addiu(v0, v0, 1);
  m.cpu().gpr[t3] = 40;
}
inline Asm SelfPatchingLoop(TestMachine& m, uint32_t other, uint32_t store) {
  SetUpSelfPatching(m);
  return Asm{Nop(), Nop(),    Addiu(v0, v0, 1),  Addiu(t2, t2, 1),
             other, store,    Addiu(t3, t3, -1), Bne(t3, zero, -6),
             Nop(), kWaitWord};
}
// Runs a self-patching loop (above, or a variant) to its end and checks that it saw every patch.
inline void ExpectSelfPatchedSum(TestMachine& m, const Asm& code) {
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[v0], kSelfPatchedSum);
}

}  // namespace strobe::test::jt
