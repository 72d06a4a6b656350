// SPDX-License-Identifier: MIT
#include "tools/strobe/dump.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "runtime/segments.h"

namespace strobe::tools {

namespace {
bool ParseAddress(const std::string& s, uint32_t* out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (end == s.c_str() || *end || v > 0xFFFFFFFFull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

void Disassemble(cs_arch arch, cs_mode mode, const uint8_t* code, size_t size, uint64_t address,
                 std::FILE* out) {
  csh h;
  if (cs_open(arch, mode, &h) != CS_ERR_OK) {
    std::fprintf(out, "    (capstone unavailable)\n");
    return;
  }
  cs_insn* insn;
  size_t n = cs_disasm(h, code, size, address, 0, &insn);
  for (size_t i = 0; i < n; ++i)
    std::fprintf(out, "    %08llx  %-8s %s\n", static_cast<unsigned long long>(insn[i].address),
                 insn[i].mnemonic, insn[i].op_str);
  if (n) cs_free(insn, n);
  cs_close(&h);
}
}  // namespace

bool DisassembleForMonitor(uint32_t addr, uint32_t word, std::string* text) {
  csh h;
  if (cs_open(CS_ARCH_MIPS, static_cast<cs_mode>(CS_MODE_MIPS32 | CS_MODE_LITTLE_ENDIAN), &h) != CS_ERR_OK)
    return false;
  uint8_t code[4] = {static_cast<uint8_t>(word), static_cast<uint8_t>(word >> 8),
                     static_cast<uint8_t>(word >> 16), static_cast<uint8_t>(word >> 24)};
  cs_insn* insn;
  const size_t n = cs_disasm(h, code, sizeof code, addr, 1, &insn);
  if (n == 1) {
    *text = insn[0].mnemonic;
    std::string ops;
    for (const char* p = insn[0].op_str; *p; ++p) {
      if (*p == '$' || (*p == ' ' && p > insn[0].op_str && p[-1] == ',')) continue;
      ops += *p;
    }
    if (!ops.empty()) *text += "\t" + ops;
    cs_free(insn, n);
  }
  cs_close(&h);
  return n == 1;
}

bool ValidDumpSelection(const std::string& s) {
  uint32_t a;
  if (s == "all") return true;
  if (s.rfind("hot:", 0) == 0) return std::atoi(s.c_str() + 4) > 0;
  return ParseAddress(s, &a);
}

void DumpRegions(vmm::Vm& vm, const std::string& selection, std::FILE* out) {
  if (!vm.tier()) {
    std::fprintf(out, "no translated code: the interp engine translates nothing\n");
    return;
  }
  auto regions = vm.code_cache().Installed();
  // Execution counts: entries into each region (from the dispatcher and from chained jumps), counted by the
  // translated code itself.
  std::stable_sort(regions.begin(), regions.end(), [](const auto& a, const auto& b) {
    return a->region->frame.entries > b->region->frame.entries;
  });
  size_t limit = regions.size();
  uint32_t addr = 0;
  bool by_addr = false;
  if (selection.rfind("hot:", 0) == 0)
    limit = std::min<size_t>(limit, std::strtoul(selection.c_str() + 4, nullptr, 10));
  if (selection != "all" && selection.rfind("hot:", 0) != 0) by_addr = ParseAddress(selection, &addr);
  if (by_addr) addr = runtime::UnmappedToPhysical(addr);

  size_t shown = 0;
  for (const auto& cr : regions) {
    if (shown >= limit) break;
    const code::Region& r = *cr->region;
    if (by_addr && (addr & ~0xFFFu) != r.page) continue;
    ++shown;
    size_t insns = 0;
    for (const auto& rb : r.blocks) insns += rb.ops.size();
    std::fprintf(out,
                 "=== region %s: page 0x%08x, %zu blocks, %zu guest instructions, entered %llu times, "
                 "ran %llu guest instructions, compiled in %.2f ms, %llu bytes of host code\n",
                 cr->name.c_str(), r.page, r.blocks.size(), insns,
                 static_cast<unsigned long long>(r.frame.entries),
                 static_cast<unsigned long long>(r.frame.insns), cr->compile_ms,
                 static_cast<unsigned long long>(cr->host_size));
    std::fprintf(out, "--- guest code (MIPS32, at guest-physical addresses)\n");
    for (const auto& rb : r.blocks) {
      std::vector<uint8_t> bytes(rb.ops.size() * 4);
      for (size_t i = 0; i < rb.ops.size(); ++i) std::memcpy(&bytes[4 * i], &rb.ops[i].raw, 4);
      std::fprintf(out, "  block 0x%08x:\n", r.page | rb.offset);
      Disassemble(CS_ARCH_MIPS, static_cast<cs_mode>(CS_MODE_MIPS32 | CS_MODE_LITTLE_ENDIAN), bytes.data(),
                  bytes.size(), r.page | rb.offset, out);
    }
    std::fprintf(out, "--- LLVM IR before optimisation\n%s",
                 cr->ir_before.empty() ? "  (not kept)\n" : cr->ir_before.c_str());
    std::fprintf(out, "--- LLVM IR after optimisation\n%s",
                 cr->ir_after.empty() ? "  (not kept)\n" : cr->ir_after.c_str());
    std::fprintf(out, "--- host code (x86-64)\n");
    if (cr->host_size)
      Disassemble(CS_ARCH_X86, CS_MODE_64, reinterpret_cast<const uint8_t*>(cr->fn), cr->host_size,
                  reinterpret_cast<uint64_t>(cr->fn), out);
    else
      std::fprintf(out, "  (size unknown)\n");
  }
  // Then the blocks the interpreter runs as baseline code (translator/interp/baseline.h), by executions.
  std::vector<const code::Block*> baseline;
  vm.code_cache().blocks().ForEach([&](const code::Block& b) {
    if (b.baseline && (!by_addr || (addr & ~0xFFFu) == (b.paddr & ~0xFFFu))) baseline.push_back(&b);
  });
  std::stable_sort(baseline.begin(), baseline.end(), [](const code::Block* a, const code::Block* b) {
    return a->exec_count != b->exec_count ? a->exec_count > b->exec_count : a->paddr < b->paddr;
  });
  size_t limit_b = baseline.size();
  if (selection.rfind("hot:", 0) == 0)
    limit_b = std::min<size_t>(limit_b, std::strtoul(selection.c_str() + 4, nullptr, 10));
  for (size_t i = 0; i < limit_b; ++i) {
    const code::Block& b = *baseline[i];
    ++shown;
    std::fprintf(out,
                 "=== baseline block 0x%08x: %u guest instructions, ran %llu times, %zu bytes of host code\n",
                 b.paddr, b.size, static_cast<unsigned long long>(b.exec_count), b.baseline_code.size());
    std::fprintf(out, "--- guest code (MIPS32, at guest-physical addresses)\n");
    std::vector<uint8_t> bytes(b.ops.size() * 4);
    for (size_t k = 0; k < b.ops.size(); ++k) std::memcpy(&bytes[4 * k], &b.ops[k].raw, 4);
    Disassemble(CS_ARCH_MIPS, static_cast<cs_mode>(CS_MODE_MIPS32 | CS_MODE_LITTLE_ENDIAN), bytes.data(),
                bytes.size(), b.paddr, out);
    std::fprintf(out, "--- host code (x86-64; successors are entered through the arena's shared path)\n");
    Disassemble(CS_ARCH_X86, CS_MODE_64, static_cast<const uint8_t*>(b.baseline_code.get()),
                b.baseline_code.size(), reinterpret_cast<uint64_t>(b.baseline_code.get()), out);
  }
  if (shown == 0) std::fprintf(out, "no translated region matches '%s'\n", selection.c_str());
}

}  // namespace strobe::tools
