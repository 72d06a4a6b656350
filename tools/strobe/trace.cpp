// SPDX-License-Identifier: MIT
#include "tools/strobe/trace.h"

#include <capstone/capstone.h>

#include <cerrno>
#include <cstring>

namespace strobe::tools {

namespace {
std::FILE* g_log = nullptr;
csh g_capstone = 0;

const char* ExceptionName(unsigned code) {
  static const char* const kNames[] = {"interrupt",
                                       "TLB modified",
                                       "TLB load",
                                       "TLB store",
                                       "address error load",
                                       "address error store",
                                       "instruction bus error",
                                       "data bus error",
                                       "syscall",
                                       "break",
                                       "reserved instruction",
                                       "coprocessor unusable",
                                       "overflow",
                                       "trap",
                                       "reserved 14",
                                       "floating point"};
  return code < sizeof kNames / sizeof kNames[0] ? kNames[code] : "unknown";
}

// The same three lines QEMU's MIPS target logs for -d int, so that logs of the two can be compared.
void OnException(void*, const runtime::CpuState& c, uint32_t from_pc, uint32_t old_epc) {
  const unsigned code = (c.cp0.cause >> runtime::cause::EXC_SHIFT) & 0x1F;
  std::fprintf(g_log, "mips_cpu_do_interrupt enter: PC %08x EPC %08x %s exception\n", from_pc, old_epc,
               ExceptionName(code));
  std::fprintf(g_log, "mips_cpu_do_interrupt: PC %08x EPC %08x cause %u\n    S %08x C %08x A %08x D %08x\n",
               c.pc, c.cp0.epc, code, c.cp0.status, c.cp0.cause, c.cp0.badvaddr, 0u);
}

void OnBlockBuilt(uint32_t vpc, const uint8_t* host, uint32_t bytes) {
  std::fprintf(g_log, "----------------\nIN: \n");
  cs_insn* insn = nullptr;
  size_t n = g_capstone ? cs_disasm(g_capstone, host, bytes, vpc, 0, &insn) : 0;
  for (size_t i = 0; i < n; ++i)
    std::fprintf(g_log, "0x%08llx:  %s\t%s\n", static_cast<unsigned long long>(insn[i].address),
                 insn[i].mnemonic, insn[i].op_str);
  if (n) cs_free(insn, n);
  for (uint32_t off = static_cast<uint32_t>(n) * 4; off < bytes; off += 4)  // what Capstone did not know
    std::fprintf(g_log, "0x%08x:  .word\t0x%02x%02x%02x%02x\n", vpc + off, host[off + 3], host[off + 2],
                 host[off + 1], host[off]);
  std::fputc('\n', g_log);
}

void OnBlockExec(uint32_t vpc, uint32_t paddr) {
  std::fprintf(g_log, "Trace 0: [%08x/%08x]\n", paddr, vpc);
}
}  // namespace

const char* TraceHelp() {
  return "Log items (comma separated):\n"
         "in_asm          show guest assembly code for each block as it is decoded\n"
         "int             show interrupts/exceptions (QEMU's format: cause, EPC, vector)\n"
         "exec            show a trace line before each executed block (runs the interpreter alone)\n"
         "QEMU's other items (out_asm, op, cpu, mmu, guest_errors, unimp, ...) are not available in Strobe;\n"
         "strobe dump shows translated code.\n";
}

bool ParseTraceItems(const std::string& items, TraceOptions* out, bool* help, std::string* error) {
  size_t start = 0;
  for (;;) {
    size_t at = items.find(',', start);
    const std::string item = items.substr(start, at - start);
    if (item == "in_asm") {
      out->in_asm = true;
    } else if (item == "int") {
      out->interrupts = true;
    } else if (item == "exec") {
      out->exec = true;
    } else if (item == "help") {
      *help = true;
    } else if (item == "out_asm" || item == "op" || item == "op_opt" || item == "op_ind" || item == "cpu" ||
               item == "fpu" || item == "mmu" || item == "pcall" || item == "cpu_reset" || item == "unimp" ||
               item == "guest_errors" || item == "page" || item == "nochain" || item == "plugin" ||
               item == "strace" || item == "tid" || item.rfind("trace:", 0) == 0) {
      *error = "-d " + item + ": not available in Strobe (in_asm, int, exec; -d help lists them)";
      return false;
    } else {
      *error = "-d: unknown log item '" + item + "' (in_asm, int, exec; -d help lists them)";
      return false;
    }
    if (at == std::string::npos) return true;
    start = at + 1;
  }
}

bool StartTracing(const TraceOptions& o, vmm::Vm& vm, std::string* error) {
  if (!o.any()) return true;
  g_log = stderr;
  if (!o.logfile.empty()) {
    g_log = std::fopen(o.logfile.c_str(), "w");
    if (!g_log) {
      *error = "-D " + o.logfile + ": " + std::strerror(errno);
      return false;
    }
    std::setvbuf(g_log, nullptr, _IOLBF, 0);  // complete lines even if the run is killed
  }
  if (o.interrupts) vm.cpu().exception_hook = OnException;
  interp::Interpreter::TraceHooks hooks;
  if (o.in_asm) {
    if (cs_open(CS_ARCH_MIPS, static_cast<cs_mode>(CS_MODE_MIPS32 | CS_MODE_LITTLE_ENDIAN), &g_capstone) !=
        CS_ERR_OK)
      g_capstone = 0;
    hooks.block_built = OnBlockBuilt;
  }
  if (o.exec) hooks.block_exec = OnBlockExec;
  vm.interpreter().SetTraceHooks(std::move(hooks));
  return true;
}

}  // namespace strobe::tools
