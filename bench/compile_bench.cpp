// SPDX-License-Identifier: MIT
// strobe_compile_bench: what LLVM costs for the regions a real run compiled, measured on exactly those
// regions, so that two settings of the compiler compare on the same work. The regions come from a
// persistent code cache folder (STROBE_COMPILE_REGIONS=DIR, written by any run with --code-cache DIR, e.g.
// a boot): every index entry's key holds its region's blocks (jit::ParseLiftKey). Each iteration compiles
// all of them again with a fresh Compiler, 1, 16 (as the tier batches them) or 64 to a module (the argument),
// with the tiered engine's options (one O1 tier, registers promoted in one-block loops, work not counted);
// LLVM's own options come from STROBE_LLVM_ARGS as in strobe itself (-time-passes: LLVM's pass timings at the
// end). Counters: regions, guest_insns, host_bytes, and the compiler's CPU time per guest instruction
// (us_per_insn; codegen_us_per_insn for instruction selection to linked code alone). The compile runs on the
// benchmark's thread, so its CPU time is the benchmark's.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "translator/jit/compiler.h"
#include "translator/jit/persistent_cache.h"
#include "translator/llvm/lifter.h"

namespace {

using namespace strobe;

constexpr uint32_t kPage = 0x00400000;            // the page every region is lifted for (keys hold none)
constexpr uint64_t kMaxFolderBytes = 1ull << 40;  // only read: nothing is trimmed

// The blocks of each region in the folder's index. A key is the compile configuration, which ends with
// '|', then the region's LiftKey: the first split after a '|' that parses whole is the region. Regions
// that span pages (second-tier code) are left out: their key does not say which pages.
std::vector<std::vector<code::RegionBlock>> LoadRegions(const std::string& dir, std::string* error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(dir) / "index", ec)) {
    *error = dir + " is not a code cache folder (run strobe with --code-cache " + dir + " first)";
    return {};
  }
  jit::PersistentCache cache(dir, kMaxFolderBytes);
  if (!cache.ok()) {
    *error = cache.error();
    return {};
  }
  std::vector<std::vector<code::RegionBlock>> out;
  for (const std::string& key : cache.Keys()) {
    std::vector<code::RegionBlock> blocks;
    bool found = false;
    for (size_t at = key.find('|'); at != std::string::npos && !found; at = key.find('|', at + 1))
      found = jit::ParseLiftKey(std::string_view(key).substr(at + 1), &blocks);
    if (!found || blocks.empty()) continue;
    bool spans = false;
    for (const code::RegionBlock& b : blocks) spans |= b.offset >= 4096;
    if (!spans) out.push_back(std::move(blocks));
  }
  if (out.empty())
    *error = "no regions in " + dir + "/index (run strobe with --code-cache " + dir + " first)";
  return out;
}

// state.range(0): regions per module (the tier's compiler takes up to 16).
void CompileAll(benchmark::State& state, const std::vector<std::vector<code::RegionBlock>>* shapes) {
  const auto batch_size = static_cast<size_t>(state.range(0));
  jit::CompilerStats total;
  uint64_t host_bytes = 0, failed = 0;
  for (auto _ : state) {
    jit::CompileOptions o;
    o.opt_level = 1;
    o.count_work = false;
    o.perf_map = "/dev/null";  // the compiler notes each function's size only for a perf map or listings
    jit::Compiler compiler(o);
    for (size_t i = 0; i < shapes->size(); i += batch_size) {
      std::vector<std::unique_ptr<code::Region>> batch;
      for (size_t k = i; k < shapes->size() && k < i + batch_size; ++k) {
        auto r = std::make_unique<code::Region>();
        r->page = kPage;
        r->blocks = (*shapes)[k];
        batch.push_back(std::move(r));
      }
      for (const auto& cr : compiler.Compile(std::move(batch))) {
        host_bytes += cr->host_size;
        failed += cr->fn == nullptr;
      }
    }
    const jit::CompilerStats s = compiler.stats();
    total.compile_ms += s.compile_ms;
    total.codegen_ms += s.codegen_ms;
    total.guest_insns += s.guest_insns;
    total.regions += s.regions;
  }
  if (failed) state.SkipWithError((std::to_string(failed) + " regions failed to compile").c_str());
  const double runs = static_cast<double>(state.iterations());
  const double insns = static_cast<double>(total.guest_insns);
  state.counters["regions"] = static_cast<double>(total.regions) / runs;
  state.counters["guest_insns"] = insns / runs;
  state.counters["host_bytes"] = static_cast<double>(host_bytes) / runs;
  state.counters["us_per_insn"] = insns ? 1e3 * total.compile_ms / insns : 0;
  state.counters["codegen_us_per_insn"] = insns ? 1e3 * total.codegen_ms / insns : 0;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* dir = std::getenv("STROBE_COMPILE_REGIONS");
  if (!dir || !*dir) {
    std::fprintf(stderr,
                 "strobe_compile_bench: set STROBE_COMPILE_REGIONS to a code cache folder (written by a run "
                 "with --code-cache DIR)\n");
    return 2;
  }
  std::string error;
  static const std::vector<std::vector<code::RegionBlock>> shapes = LoadRegions(dir, &error);
  if (shapes.empty()) {
    std::fprintf(stderr, "strobe_compile_bench: %s\n", error.c_str());
    return 2;
  }
  benchmark::RegisterBenchmark("Compile/O1", CompileAll, &shapes)
      ->ArgName("batch")
      ->Arg(1)
      ->Arg(16)
      ->Arg(64)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  jit::PrintLlvmTimers();  // LLVM's pass timings, if STROBE_LLVM_ARGS asked for them (-time-passes)
  return 0;
}
