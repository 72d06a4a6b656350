// SPDX-License-Identifier: MIT
// Seeded random sequences from mips32.inc, run in Strobe and in Unicorn's MIPS32 core and compared: GPRs,
// HI, LO, the data buffer, and (in exception sequences) which exception ended the run and where.
//
// Reproduce a failure with STROBE_DIFF_SEED=<seed printed in the failure> (decimal or 0x hex): the test then
// runs that one sequence, in the mode recorded in the seed (STROBE_DIFF_COUNT=N: N sequences from there).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

#include "tests/diff/generator.h"

namespace strobe::test::diff {
namespace {

constexpr uint64_t kDefaultSeed = 0x5712'0BE0'D1FFull;
constexpr unsigned kSequences = 1500;
constexpr unsigned kExceptionEvery = 4;  // every fourth sequence allows faulting instructions

// The base seed: STROBE_DIFF_SEED if set, else the fixed default (the suite is deterministic).
bool SeedFromEnvironment(uint64_t* seed) {
  const char* s = std::getenv("STROBE_DIFF_SEED");
  if (!s || !*s) return false;
  *seed = std::strtoull(s, nullptr, 0);
  return true;
}

// Sequence i of a run uses seed base + i; its exception mode is derived from the seed itself, so a printed
// per-sequence seed reproduces exactly the same program and initial state.
uint64_t SequenceSeed(uint64_t base, unsigned i) {
  return base + i;
}
bool ExceptionMode(uint64_t seed) {
  return seed % kExceptionEvery == 0;
}
// One sequence in five is longer than the interpreter's block limit (128), so blocks also end by length.
SequenceOptions OptionsFor(uint64_t seed) {
  SequenceOptions o{.exceptions = ExceptionMode(seed)};
  if (seed % 10 == 3 || seed % 10 == 6) {
    o.min_insns = 130;
    o.max_insns = 220;
  }
  return o;
}

struct RunStats {
  uint64_t regions_installed = 0;
  uint64_t baseline_blocks = 0;
  std::map<Opcode, unsigned> generated;
  unsigned sequences = 0, finished_normally = 0;
  std::map<int, unsigned> exceptions;
};

// Builds, runs and compares one sequence; returns false (after reporting) on a difference.
bool CheckOne(uint64_t seed, RunStats* stats, vmm::Engine engine = vmm::Engine::kInterp,
              unsigned jit_opt_level = 0, bool baseline_only = false) {
  SequenceGenerator gen(seed, OptionsFor(seed));
  GuestState init = gen.InitialState();
  Program prog = gen.Generate();
  Outcome strobe = RunStrobe(prog, init, (seed >> 1) % 2 ? 2 : 1, engine, jit_opt_level, Model::kDefault,
                             baseline_only);  // half: the second, cached run counts
  Outcome uc = RunUnicorn(prog, init);
  if (stats) {
    stats->regions_installed += strobe.regions_installed;
    stats->baseline_blocks += strobe.baseline_blocks;
    ++stats->sequences;
    for (uint32_t w : prog.words) ++stats->generated[mips::Decode(w).op];
    if (uc.exc < 0) {
      ++stats->finished_normally;
    } else {
      ++stats->exceptions[uc.exc];
    }
  }
  std::string diff = Differences(strobe, uc);
  if (diff.empty()) return true;
  std::string regs;
  for (int r = 0; r < 32; ++r) regs += " $" + std::to_string(r) + "=" + Hex(init.gpr[r]);
  ADD_FAILURE() << (baseline_only ? "[baseline code] "
                    : engine == vmm::Engine::kJit
                        ? (jit_opt_level ? "[jit engine, promoted registers] " : "[jit engine] ")
                        : "[interp engine] ")
                << "sequence seed " << seed << " (STROBE_DIFF_SEED=" << seed << " reproduces it), "
                << (ExceptionMode(seed) ? "exception mode" : "no-exception mode") << "\n"
                << diff << "initial state:" << regs << " HI=" << Hex(init.hi) << " LO=" << Hex(init.lo)
                << "\n"
                << "program:\n"
                << Disassemble(prog);
  return false;
}

TEST(DiffCoverage, EveryRowIsAllowedOrDenied) {
  std::map<Opcode, int> seen;
  for (const AllowedRow& r : kAllowed) ++seen[r.op];
  for (const DeniedRow& r : kDenied) {
    ++seen[r.op];
    EXPECT_NE(std::string(r.reason), "") << mips::NameOf(r.op);
  }
  for (const mips::Encoding& e : mips::kEncodings) {
    if (e.flags & mips::kCop1) continue;  // the FPU generator's lists (FpuDiffCoverage)
    EXPECT_EQ(seen[e.op], 1) << e.name << " must be in exactly one of kAllowed and kDenied";
  }
}

TEST(DiffCoverage, GeneratedSequencesAreWellFormed) {
  // Forward targets only, each inside the sequence and after the delay slot; no branch in a delay slot.
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SequenceGenerator gen(seed, OptionsFor(seed));
    gen.InitialState();
    Program p = gen.Generate();
    ASSERT_EQ(p.words.back(), kWaitWord);
    for (size_t i = 0; i + 1 < p.words.size(); ++i) {
      mips::DecodedInsn d = mips::Decode(p.words[i]);
      ASSERT_NE(d.op, Opcode::kInvalid) << "seed " << seed << " word " << i;
      if (!(d.flags & mips::kBranch)) continue;
      ASSERT_FALSE(mips::Decode(p.words[i + 1]).flags & mips::kBranch)
          << "branch in a delay slot, seed " << seed;
      uint32_t pc = p.start + 4 * static_cast<uint32_t>(i), target;
      if (d.op == Opcode::J || d.op == Opcode::JAL) {
        target = ((pc + 4) & 0xF0000000u) | (d.target26() << 2);
      } else if (d.op == Opcode::JR || d.op == Opcode::JALR) {
        target = (mips::Decode(p.words[i - 2]).uimm() << 16) | mips::Decode(p.words[i - 1]).uimm();
      } else {
        target = pc + 4 + (static_cast<uint32_t>(d.simm()) << 2);
      }
      EXPECT_GT(target, pc + 4) << "seed " << seed;
      EXPECT_LE(target, p.EndPc()) << "seed " << seed;
    }
  }
}

TEST(DiffRandom, SequencesMatchUnicorn) {
  uint64_t base = kDefaultSeed;
  const bool from_env = SeedFromEnvironment(&base);
  SCOPED_TRACE("base seed " + std::to_string(base) + (from_env ? " (STROBE_DIFF_SEED)" : " (default)"));
  const unsigned count = from_env ? SequenceCountFromEnvironment() : kSequences;

  RunStats stats;
  unsigned failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < count && failures < 5; ++i)
    if (!CheckOne(SequenceSeed(base, i), &stats)) ++failures;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Coverage summary: how many allowed rows were generated at least once.
  unsigned covered = 0;
  std::string missing;
  for (const AllowedRow& r : kAllowed) {
    if (stats.generated[r.op])
      ++covered;
    else
      missing += " " + std::string(mips::NameOf(r.op));
  }
  std::string exc;
  for (auto [code, n] : stats.exceptions) exc += " " + std::to_string(code) + ":" + std::to_string(n);
  std::printf(
      "[diff] %u sequences in %.2f s; %u ran to the end, exceptions (ExcCode:count)%s; %u of %zu allowed "
      "rows generated%s%s\n",
      stats.sequences, secs, stats.finished_normally, exc.c_str(), covered, std::size(kAllowed),
      missing.empty() ? "" : "; never:", missing.c_str());
  if (!from_env) {
    EXPECT_EQ(covered, std::size(kAllowed)) << "rows never generated:" << missing;
  }
}

// Runs `divisor`-th of the sequence count (one with STROBE_DIFF_SEED) through the jit engine.
void JitSequences(uint64_t seed_offset, unsigned divisor, unsigned jit_opt_level, const char* label) {
  uint64_t base = kDefaultSeed + seed_offset;
  const bool from_env = SeedFromEnvironment(&base);
  SCOPED_TRACE("base seed " + std::to_string(base) + (from_env ? " (STROBE_DIFF_SEED)" : " (default)"));
  const unsigned count = from_env ? SequenceCountFromEnvironment() : kSequences / divisor;
  RunStats stats;
  unsigned failures = 0;
  for (unsigned i = 0; i < count && failures < 5; ++i)
    if (!CheckOne(SequenceSeed(base, i), &stats, vmm::Engine::kJit, jit_opt_level)) ++failures;
  std::printf("[diff] %s: %u sequences, %llu translated regions\n", label, stats.sequences,
              static_cast<unsigned long long>(stats.regions_installed));
  EXPECT_GE(stats.regions_installed, stats.sequences) << "the jit engine must translate every sequence";
}

// The same sequences through the LLVM translation tier (the jit engine compiles every block before it
// runs): translated code must match Unicorn exactly as the interpreter does. A third of the count keeps the
// compile time in bounds.
TEST(DiffRandom, JitSequencesMatchUnicorn) {
  JitSequences(7777, 3, 0, "jit engine");
}

// The same again with the optimising tiers' code shape: guest registers, HI/LO and the cycle count as SSA
// values written back at exits and around runtime calls (faults mid-sequence and in delay slots must still
// see every earlier write). O1 compiles cost more, so fewer sequences.
TEST(DiffRandom, PromotedJitSequencesMatchUnicorn) {
  JitSequences(9999, 10, 1, "jit engine, promoted registers");
}

// The same sequences as the interpreter's baseline code (interp/baseline.h) from their first execution,
// with LLVM out of the way: what the handlers compute as x86-64 written in one pass must match Unicorn, the
// faults in delay slots and the second, cached runs included.
TEST(DiffRandom, BaselineSequencesMatchUnicorn) {
  uint64_t base = kDefaultSeed + 4242;
  const bool from_env = SeedFromEnvironment(&base);
  SCOPED_TRACE("base seed " + std::to_string(base) + (from_env ? " (STROBE_DIFF_SEED)" : " (default)"));
  const unsigned count = from_env ? SequenceCountFromEnvironment() : kSequences / 2;
  RunStats stats;
  unsigned failures = 0;
  for (unsigned i = 0; i < count && failures < 5; ++i)
    if (!CheckOne(SequenceSeed(base, i), &stats, vmm::Engine::kTiered, 0, true)) ++failures;
  std::printf("[diff] baseline code: %u sequences, %llu blocks\n", stats.sequences,
              static_cast<unsigned long long>(stats.baseline_blocks));
  EXPECT_GE(stats.baseline_blocks, stats.sequences) << "every sequence must run as baseline code";
  EXPECT_EQ(stats.regions_installed, 0u) << "LLVM must stay out of it";
}

}  // namespace
}  // namespace strobe::test::diff
