// SPDX-License-Identifier: MIT
#include "vmm/vm_stats.h"

#include <cstdio>

namespace strobe::vmm {

namespace {
std::string Format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}
using ull = unsigned long long;

// Where a tier's compile time went, and what it cost per guest instruction compiled.
std::string Split(const jit::CompilerStats& e) {
  return Format(
      "%.1f ms compiling (lift %.0f, IR passes %.0f, codegen %.0f; %llu guest instructions, %.1f us each)",
      e.compile_ms, e.lift_ms, e.opt_ms, e.codegen_ms, static_cast<ull>(e.guest_insns),
      e.guest_insns ? 1000.0 * e.compile_ms / static_cast<double>(e.guest_insns) : 0.0);
}

std::string CodeCacheStats(Vm& vm) {
  const std::string& dir = vm.config().jit_code_cache_dir;
  if (dir.empty()) return "code cache: off";
  const std::string error = vm.tier()->code_cache_error();
  if (!error.empty()) return "code cache: off (" + error + ")";
  const jit::PersistentCacheStats c = vm.tier()->code_cache_stats();
  const auto e = vm.tier()->compiler_stats();
  const auto o = vm.tier()->optimizer_stats();
  return Format(
      "code cache %s: %llu regions loaded (tier 1 %llu, tier 2 %llu), %llu compiled, %llu stored, %llu "
      "rejected, %llu objects evicted; %.1f KiB read, %.1f KiB written",
      dir.c_str(), static_cast<ull>(c.hits), static_cast<ull>(e.cache_hits), static_cast<ull>(o.cache_hits),
      static_cast<ull>(c.misses), static_cast<ull>(c.stored), static_cast<ull>(c.rejected),
      static_cast<ull>(c.evicted), static_cast<double>(c.bytes_read) / 1024.0,
      static_cast<double>(c.bytes_written) / 1024.0);
}

std::string ChainStats(Vm& vm) {
  const auto& s = vm.code_cache().stats();
  std::string out = Format(
      "chained jumps: %llu resolved by the runtime, %llu of them past the jump cache, keys moved %llu times",
      static_cast<ull>(s.links), static_cast<ull>(s.link_resolves),
      static_cast<ull>(vm.cpu().soft_tlb ? vm.cpu().soft_tlb->chain_key_moves() : 0));
  if (s.baseline_blocks)
    out += Format("; baseline code for %llu blocks (%llu guest instructions, %.1f ms, %.1f KiB in use)",
                  static_cast<ull>(s.baseline_blocks), static_cast<ull>(s.baseline_insns),
                  static_cast<double>(s.baseline_ns) / 1e6,
                  static_cast<double>(vm.code_cache().baseline_bytes()) / 1024.0);
  return out;
}

}  // namespace

std::string ExecutionStats(Vm& vm, double seconds) {
  const auto& c = vm.cpu();
  const auto& s = vm.code_cache().stats();
  const std::string rate =
      seconds > 0 ? Format(" (%.1f MIPS)", static_cast<double>(c.Retired()) / seconds / 1e6) : "";
  return Format("%llu instructions%s, %llu blocks built, %llu invalidated (%zu kept, %.1f KiB)",
                static_cast<ull>(c.Retired()), rate.c_str(), static_cast<ull>(s.blocks_built),
                static_cast<ull>(s.blocks_invalidated), vm.code_cache().blocks().size(),
                static_cast<double>(vm.code_cache().block_bytes()) / 1024.0);
}

std::vector<std::string> JitStats(Vm& vm) {
  if (!vm.tier()) return {};
  const auto& t = vm.tier()->stats();
  const auto e = vm.tier()->compiler_stats();
  const auto o = vm.tier()->optimizer_stats();
  return {
      Format(
          "tier 1: %llu regions compiled in %llu modules (%llu more reused code this process had), %s; "
          "%llu installed, %llu dropped, %llu stale, %llu failed; %llu sent early, as an earlier run shaped "
          "them",
          static_cast<ull>(e.regions), static_cast<ull>(e.modules), static_cast<ull>(e.reused),
          Split(e).c_str(), static_cast<ull>(t.regions_installed), static_cast<ull>(t.regions_dropped),
          static_cast<ull>(t.stale_results), static_cast<ull>(t.failed), static_cast<ull>(t.early_loads)),
      Format("tier 2: %llu regions sent (%llu shaped as compiled before), %llu left the queue cold, %llu "
             "compiled in %llu modules (%llu more reused code this process had), %s",
             static_cast<ull>(t.reoptimized), static_cast<ull>(t.cached_shapes),
             static_cast<ull>(t.reoptimize_pruned), static_cast<ull>(o.regions), static_cast<ull>(o.modules),
             static_cast<ull>(o.reused), Split(o).c_str()),
      CodeCacheStats(vm),
      ChainStats(vm),
  };
}

std::vector<std::string> MemoryStats(Vm& vm, const Monitor& monitor) {
  const size_t ram_pages = vm.pmap().ram_bytes() >> 12;
  return {
      Format("guest RAM: %zu pages of 4 KiB (%zu MiB), %zu mapped to machine pages (host memory is taken on "
             "first touch), %zu of them shared copy-on-write",
             ram_pages, ram_pages >> 8, vm.pmap().mapped_pages(), vm.pmap().shared_pages()),
      Format("machine memory: %zu pages in use of %zu (%zu MiB of %zu MiB), all VMs", monitor.pages_in_use(),
             monitor.capacity_pages(), monitor.pages_in_use() >> 8, monitor.capacity_pages() >> 8),
  };
}

}  // namespace strobe::vmm
