// SPDX-License-Identifier: MIT
// strobe_bench: Google Benchmark suite for every engine (interp, jit, tiered), the decoder and the soft TLB.
//  - Guest/<name>: boots a fresh VM on a guest ELF from STROBE_GUEST_DIR and runs it to power-off. Counters:
//    guest_insns (instructions retired per run), guest_MIPS (rate over the CPU time of the timed part),
//    blocks_built. Only Vm::Run() is timed; building the VM and loading the image are not. The vCPU runs on
//    the benchmark thread, so its CPU time is the emulation cost, and is less disturbed than wall time when
//    other work shares the machine (the wall time is reported too).
//  - Warm/<name>: translated code once warm, jit against tiered, pass by pass in one run (below).
//  - Decode/*: mips::Decode throughput over a table of words.
//  - SoftTlb/*: runtime::Load<uint32_t> through a filled soft TLB entry (hit), and through the slow
//    path (miss).
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/memory.h"
#include "runtime/runtime.h"
#include "translator/mips/decoder.h"
#include "vmm/elf_loader.h"
#include "vmm/monitor.h"
#include "vmm/vm.h"

#ifndef STROBE_GUEST_DIR
#error "STROBE_GUEST_DIR must name the directory with the guest ELFs"
#endif

namespace {

using namespace strobe;

constexpr double kGuestTimeoutSeconds = 60;  // a hung guest fails the benchmark instead of the suite

std::string GuestPath(const char* name) {
  return std::string(STROBE_GUEST_DIR) + "/" + name + ".elf";
}

// ---------------------------------------------------------------------------------------------------------
// Whole guests

// Wall time of each guest under the interpreter, measured first in the same run: the other engines report
// their speed-up against it.
std::map<std::string, double> g_interp_seconds;

void BM_Guest(benchmark::State& state, const char* name, vmm::Engine engine) {
  vmm::VmConfig cfg;
  cfg.engine = engine;
  std::string error;
  if (!vmm::LoadElfFile(GuestPath(name), &cfg.image, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  cfg.no_reboot = true;  // the runtime's power_off() falls back to a board reset
  cfg.timeout_seconds = kGuestTimeoutSeconds;
  const std::string done_line = std::string(name) + ": done";

  vmm::Monitor monitor;
  uint64_t retired = 0, blocks = 0, regions = 0;
  double compile_ms = 0, seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string console;
    auto vm = std::make_unique<vmm::Vm>(monitor, cfg,
                                        [&console](uint8_t b) { console.push_back(static_cast<char>(b)); });
    if (!vm->Boot(&error)) {
      state.SkipWithError(("boot: " + error).c_str());
      state.ResumeTiming();
      break;
    }
    state.ResumeTiming();

    const auto t0 = std::chrono::steady_clock::now();
    const vmm::VmExit exit = vm->Run();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    state.PauseTiming();
    const bool finished = exit == vmm::VmExit::kPowerOff || exit == vmm::VmExit::kReset;
    if (!finished || console.find(done_line) == std::string::npos) {
      error = std::string(name) + ": " + vmm::ToString(exit) + " without '" + done_line + "' " + vm->error() +
              "; console: " + console.substr(0, 200);
      state.SkipWithError(error.c_str());
      state.ResumeTiming();
      break;
    }
    retired += vm->cpu().Retired();
    blocks += vm->code_cache().stats().blocks_built;
    if (vm->tier()) {
      const auto e = vm->tier()->compiler_stats();
      regions += e.regions;
      compile_ms += e.compile_ms;
    }
    vm.reset();
    state.ResumeTiming();
  }
  state.counters["guest_insns"] =
      benchmark::Counter(static_cast<double>(retired), benchmark::Counter::kAvgIterations);
  state.counters["guest_MIPS"] =
      benchmark::Counter(static_cast<double>(retired) / 1e6, benchmark::Counter::kIsRate);
  state.counters["blocks_built"] =
      benchmark::Counter(static_cast<double>(blocks), benchmark::Counter::kAvgIterations);
  const double per_run = seconds / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  if (engine == vmm::Engine::kInterp) {
    g_interp_seconds[name] = per_run;
  } else {
    state.counters["regions"] =
        benchmark::Counter(static_cast<double>(regions), benchmark::Counter::kAvgIterations);
    state.counters["ms_per_region"] = regions ? compile_ms / static_cast<double>(regions) : 0.0;
    if (g_interp_seconds.count(name) && per_run > 0)
      state.counters["speedup_vs_interp"] = g_interp_seconds[name] / per_run;
  }
}

// Warm/<name>: the speed of translated code once it is warm, under the tiered and the jit engine in
// interleaved pairs. Each run of a pair is the guest at scale 3N with "marks" on its command line, so it
// prints a line after each pass; the benchmark reads the vCPU thread's CPU clock at each line (the console
// is written on the vCPU thread, which is the benchmark thread). N is chosen so that N passes take about
// kWarmSeconds (at least kWarmMinPasses). A run's figure is the median CPU time of one pass among passes
// N+1..3N: what a long-running program pays per unit of work once both tiers' code is in place, without the
// compiler threads, and, as a median of many passes in one run, without the slow spells of a shared machine
// that made differences of whole runs vary by +-30%. The first N passes hold the warm-up (first-tier
// compiles, the wait for the second tier): warmup_jit_vs_tiered is the median ratio of their CPU time, so
// that cost is shown, not hidden. jit_vs_tiered is the median over the pairs of jit's figure divided by
// tiered's from the same pair: the engine that translates everything must be at least as fast as the tiered
// one once both are warm (<= 1.0).
constexpr double kWarmSeconds = 1.0;
constexpr uint32_t kWarmMinPasses = 8;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU seconds of the vCPU thread for one run, or -1 with *error set. With pass_ends, the guest is asked
// for "pass K" lines and the CPU time since the start is appended at each.
double RunGuestOnce(const char* name, vmm::Engine engine, uint32_t scale, std::string* error,
                    std::vector<double>* pass_ends = nullptr) {
  vmm::VmConfig cfg;
  cfg.engine = engine;
  if (!vmm::LoadElfFile(GuestPath(name), &cfg.image, error)) return -1;
  cfg.no_reboot = true;
  cfg.timeout_seconds = kGuestTimeoutSeconds;
  cfg.append = "scale=" + std::to_string(scale) + (pass_ends ? " marks" : "");
  vmm::Monitor monitor;
  std::string console, line;
  double t0 = 0;
  vmm::Vm vm(monitor, cfg, [&](uint8_t b) {
    console.push_back(static_cast<char>(b));
    if (b != '\n') {
      line.push_back(static_cast<char>(b));
      return;
    }
    if (pass_ends && line.rfind("pass ", 0) == 0) pass_ends->push_back(ThreadCpuSeconds() - t0);
    line.clear();
  });
  if (!vm.Boot(error)) return -1;
  t0 = ThreadCpuSeconds();
  const vmm::VmExit exit = vm.Run();
  const double seconds = ThreadCpuSeconds() - t0;
  if ((exit != vmm::VmExit::kPowerOff && exit != vmm::VmExit::kReset) ||
      console.find(std::string(name) + ": done") == std::string::npos) {
    *error = std::string(name) + ": " + vmm::ToString(exit) + " " + vm.error();
    return -1;
  }
  if (pass_ends && pass_ends->size() + 1 != scale) {
    *error = std::string(name) + ": " + std::to_string(pass_ends->size()) + " pass lines for scale " +
             std::to_string(scale);
    return -1;
  }
  return seconds;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// One engine's side of a pair: the CPU time of the first n passes and the median pass after them, or false.
struct WarmRun {
  double first_n = 0;
  double per_pass = 0;
};
bool WarmPass(const char* name, vmm::Engine engine, uint32_t n, WarmRun* out, std::string* error) {
  std::vector<double> ends;
  if (RunGuestOnce(name, engine, 3 * n, error, &ends) < 0) return false;
  std::vector<double> passes;
  for (size_t k = n; k < ends.size(); ++k) passes.push_back(ends[k] - ends[k - 1]);
  *out = WarmRun{ends[n - 1], Median(passes)};
  return true;
}

void BM_Warm(benchmark::State& state, const char* name) {
  std::string error;
  uint32_t n = 0;
  std::vector<double> tiered, jit, ratio, warmup;
  for (auto _ : state) {
    if (!n) {  // a short tiered run to size N
      std::vector<double> ends;
      if (RunGuestOnce(name, vmm::Engine::kTiered, 5, &error, &ends) < 0) {
        state.SkipWithError(error.c_str());
        break;
      }
      const double pass = std::max(ends.back() - ends.front(), 1e-4) / 3;
      n = static_cast<uint32_t>(std::clamp(kWarmSeconds / pass, double{kWarmMinPasses}, 400.0));
    }
    WarmRun t, j;
    if (!WarmPass(name, vmm::Engine::kTiered, n, &t, &error) ||
        !WarmPass(name, vmm::Engine::kJit, n, &j, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    tiered.push_back(t.per_pass);
    jit.push_back(j.per_pass);
    if (t.per_pass > 0) ratio.push_back(j.per_pass / t.per_pass);
    if (t.first_n > 0) warmup.push_back(j.first_n / t.first_n);
  }
  state.counters["warm_after_passes"] = n;
  state.counters["tiered_ms_per_pass"] = Median(tiered) * 1e3;
  state.counters["jit_ms_per_pass"] = Median(jit) * 1e3;
  state.counters["jit_vs_tiered"] = Median(ratio);
  state.counters["jit_vs_tiered_max"] = ratio.empty() ? 0.0 : *std::max_element(ratio.begin(), ratio.end());
  state.counters["warmup_jit_vs_tiered"] = Median(warmup);
}

#define STROBE_WARM_BENCHMARK(name)              \
  BENCHMARK_CAPTURE(BM_Warm, name##_warm, #name) \
      ->Name("Warm/" #name)                      \
      ->Iterations(5)                            \
      ->UseRealTime()                            \
      ->Unit(benchmark::kMillisecond)

// Each run takes 0.1-0.6 s here, so a fixed small iteration count keeps the whole suite well under a minute.
// Wall time (UseRealTime): the tiered engine compiles on a second thread, which CPU time would not show.
#define STROBE_GUEST_BENCHMARK(name)                                      \
  BENCHMARK_CAPTURE(BM_Guest, name##_interp, #name, vmm::Engine::kInterp) \
      ->Name("Guest/" #name "/interp")                                    \
      ->Iterations(3)                                                     \
      ->UseRealTime()                                                     \
      ->Unit(benchmark::kMillisecond);                                    \
  BENCHMARK_CAPTURE(BM_Guest, name##_jit, #name, vmm::Engine::kJit)       \
      ->Name("Guest/" #name "/jit")                                       \
      ->Iterations(3)                                                     \
      ->UseRealTime()                                                     \
      ->Unit(benchmark::kMillisecond);                                    \
  BENCHMARK_CAPTURE(BM_Guest, name##_tiered, #name, vmm::Engine::kTiered) \
      ->Name("Guest/" #name "/tiered")                                    \
      ->Iterations(3)                                                     \
      ->UseRealTime()                                                     \
      ->Unit(benchmark::kMillisecond)

STROBE_GUEST_BENCHMARK(alu_loop);
STROBE_GUEST_BENCHMARK(memrand);
STROBE_GUEST_BENCHMARK(calls);
STROBE_GUEST_BENCHMARK(compress);
STROBE_GUEST_BENCHMARK(codegen);
STROBE_GUEST_BENCHMARK(tlbmiss);
STROBE_GUEST_BENCHMARK(checksum);
STROBE_GUEST_BENCHMARK(sort);
STROBE_GUEST_BENCHMARK(hash);
STROBE_GUEST_BENCHMARK(fpmath);
STROBE_WARM_BENCHMARK(alu_loop);
STROBE_WARM_BENCHMARK(memrand);
STROBE_WARM_BENCHMARK(calls);
STROBE_WARM_BENCHMARK(compress);
STROBE_WARM_BENCHMARK(checksum);
STROBE_WARM_BENCHMARK(sort);
STROBE_WARM_BENCHMARK(hash);
STROBE_WARM_BENCHMARK(codegen);
STROBE_WARM_BENCHMARK(fpmath);

// ---------------------------------------------------------------------------------------------------------
// Decoder

void RunDecode(benchmark::State& state, const std::vector<uint32_t>& words) {
  for (auto _ : state) {
    for (uint32_t w : words) {
      mips::DecodedInsn d = mips::Decode(w);
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(words.size()));
}

// Every row of the encoding table, each with several random fillings of its free fields, shuffled.
void BM_DecodeTable(benchmark::State& state) {
  std::mt19937 rng(12345);
  std::vector<uint32_t> words;
  for (int copy = 0; copy < 16; ++copy)
    for (const mips::Encoding& e : mips::kEncodings)
      words.push_back(e.match | (static_cast<uint32_t>(rng()) & ~e.mask));
  std::shuffle(words.begin(), words.end(), rng);
  RunDecode(state, words);
}
BENCHMARK(BM_DecodeTable)->Name("Decode/table_rows");

// The loadable words of a real guest (code plus some data): a realistic instruction mix.
void BM_DecodeGuestImage(benchmark::State& state) {
  vmm::ElfImage image;
  std::string error;
  if (!vmm::LoadElfFile(GuestPath("hash"), &image, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::vector<uint32_t> words;
  for (const vmm::ElfSegment& s : image.segments)
    for (size_t i = 0; i + 4 <= s.data.size(); i += 4)
      words.push_back(static_cast<uint32_t>(s.data[i]) | static_cast<uint32_t>(s.data[i + 1]) << 8 |
                      static_cast<uint32_t>(s.data[i + 2]) << 16 |
                      static_cast<uint32_t>(s.data[i + 3]) << 24);
  RunDecode(state, words);
}
BENCHMARK(BM_DecodeGuestImage)->Name("Decode/guest_image");

// ---------------------------------------------------------------------------------------------------------
// Soft TLB

// A booted VM with a one-word placeholder image; the CPU is in kernel mode, so kseg0 is reachable.
struct SmallVm {
  SmallVm() : monitor(size_t{1} << 30) {
    vmm::VmConfig cfg;
    cfg.ram_bytes = 32u << 20;
    vmm::ElfSegment seg;
    seg.vaddr = 0x80100000u;
    seg.paddr = 0x00100000u;
    seg.memsz = 4;
    seg.data = {0x00, 0x00, 0x00, 0x00};
    cfg.image.entry = seg.vaddr;
    cfg.image.segments.push_back(seg);
    vm = std::make_unique<vmm::Vm>(monitor, cfg, [](uint8_t) {});
    booted = vm->Boot(&error);
  }
  vmm::Monitor monitor;
  std::unique_ptr<vmm::Vm> vm;
  std::string error;
  bool booted = false;
};

// 256 loads per iteration, all within one page whose soft TLB entry is filled beforehand.
void BM_SoftTlbLoadHit(benchmark::State& state) {
  SmallVm m;
  if (!m.booted) {
    state.SkipWithError(m.error.c_str());
    return;
  }
  runtime::CpuState& c = m.vm->cpu();
  constexpr uint32_t kVa = 0x80400000u;
  uint32_t v = 0;
  runtime::Load<uint32_t>(c, kVa, &v);  // the slow path fills the entry
  if (c.stlb[runtime::SoftTlb::IndexOf(kVa)].read != runtime::ProbeKey<4>(c, kVa)) {
    state.SkipWithError("the soft TLB entry was not filled by the first load");
    return;
  }
  uint32_t sum = 0;
  for (auto _ : state) {
    for (uint32_t off = 0; off < runtime::kPageSize; off += 16) {
      uint32_t va = kVa + off;
      benchmark::DoNotOptimize(va);  // keep the probe in the loop rather than hoisted out of it
      runtime::Load<uint32_t>(c, va, &v);
      sum += v;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * (runtime::kPageSize / 16));
}
BENCHMARK(BM_SoftTlbLoadHit)->Name("SoftTlb/load_hit");

// Loads that cycle through twice as many pages as the soft TLB has entries: every one takes the slow path
// (segment check, pmap lookup, entry refill).
void BM_SoftTlbLoadMiss(benchmark::State& state) {
  SmallVm m;
  if (!m.booted) {
    state.SkipWithError(m.error.c_str());
    return;
  }
  runtime::CpuState& c = m.vm->cpu();
  constexpr uint32_t kBase = 0x80400000u;
  constexpr uint32_t kPages = 2 * runtime::SoftTlb::kEntries;
  uint32_t v = 0, sum = 0;
  for (auto _ : state) {
    for (uint32_t p = 0; p < kPages; ++p) {
      if (!runtime::Load<uint32_t>(c, kBase + p * runtime::kPageSize, &v)) {
        state.SkipWithError("load faulted");
        return;
      }
      sum += v;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kPages);
}
BENCHMARK(BM_SoftTlbLoadMiss)->Name("SoftTlb/load_miss");

}  // namespace

BENCHMARK_MAIN();
