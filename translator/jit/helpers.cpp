// SPDX-License-Identifier: MIT
#include "translator/jit/helpers.h"

#include <cstdio>
#include <cstdlib>

#include "runtime/memory.h"
#include "translator/interp/interpreter.h"
#include "translator/interp/step.h"
#include "translator/jit/region.h"

namespace strobe::jit {

extern "C" bool strobe_jit_load(runtime::CpuState* c, uint32_t va, uint32_t size_and_sign, uint32_t* out,
                                uint32_t pc, uint32_t in_delay_slot) {
  const uint32_t size = size_and_sign & 7;
  uint32_t v;
  if (!runtime::LoadSlow(*c, va, size, &v)) {
    runtime::DeliverException(*c, pc, in_delay_slot != 0);
    return false;
  }
  if (size_and_sign & 8) {  // sign-extend
    v = size == 1 ? static_cast<uint32_t>(static_cast<int8_t>(v))
                  : static_cast<uint32_t>(static_cast<int16_t>(v));
  }
  *out = v;
  return true;
}

extern "C" bool strobe_jit_store(runtime::CpuState* c, uint32_t va, uint32_t size, uint32_t value,
                                 uint32_t pc, uint32_t in_delay_slot) {
  if (!runtime::StoreSlow(*c, va, size, value)) {
    runtime::DeliverException(*c, pc, in_delay_slot != 0);
    return false;
  }
  return true;
}

extern "C" bool strobe_jit_step(runtime::CpuState* c, const mips::DecodedInsn* insn, uint32_t pc,
                                uint32_t in_delay_slot) {
  if (interp::StepOne(*c, *insn, pc)) return true;
  runtime::DeliverException(*c, pc, in_delay_slot != 0);
  return false;
}

extern "C" void strobe_jit_raise(runtime::CpuState* c, uint32_t code, uint32_t pc, uint32_t in_delay_slot) {
  runtime::Raise(*c, static_cast<runtime::ExcCode>(code));
  runtime::DeliverException(*c, pc, in_delay_slot != 0);
}

}  // namespace strobe::jit

namespace strobe::jit {

extern "C" void* strobe_jit_link(runtime::CpuState* c, void* site, uint32_t target) {
  auto* in = static_cast<interp::Interpreter*>(c->jit_ctx);
  if (!in) return nullptr;
  auto* s = static_cast<ChainSite*>(site);
  interp::Interpreter::JumpEntry& e = in->JumpSlot(target);
  const uint64_t epoch = runtime::ChainEpochFor(*c, target);
  if (e.vpc != target || e.epoch != epoch || e.table != c->stlb) {
    uint32_t paddr;
    const uint8_t* host;
    runtime::PendingException saved = c->exc;
    if (!runtime::TranslateFetch(*c, target, &paddr, &host)) {  // not mapped: the dispatcher raises the fault
      c->exc = saved;
      return nullptr;
    }
    void* frame = nullptr;
    NativeFn fn = in->NativeAt(paddr, &frame);
    if (!fn) return nullptr;
    if (!runtime::InUnmappedSegment(target)) runtime::NoteChainTarget(*c, target);
    e = {epoch, c->stlb, fn, frame, target};
  }
  s->epoch = e.epoch;
  s->vpc = target;
  s->fn = reinterpret_cast<void*>(e.fn);
  s->frame = e.frame;
  s->table = e.table;
  return s->fn;
}

const std::vector<RuntimeSymbol>& RuntimeSymbols() {
  static const std::vector<RuntimeSymbol> symbols = {
      {"strobe_jit_load", reinterpret_cast<void*>(&strobe_jit_load)},
      {"strobe_jit_store", reinterpret_cast<void*>(&strobe_jit_store)},
      {"strobe_jit_step", reinterpret_cast<void*>(&strobe_jit_step)},
      {"strobe_jit_link", reinterpret_cast<void*>(&strobe_jit_link)},
      {"strobe_jit_raise", reinterpret_cast<void*>(&strobe_jit_raise)},
  };
  return symbols;
}

const char* RuntimeSymbolName(const void* address) {
  for (const RuntimeSymbol& s : RuntimeSymbols())
    if (s.address == address) return s.name;
  std::fprintf(stderr, "strobe: internal error: translated code calls an unnamed runtime function\n");
  std::abort();
}

}  // namespace strobe::jit

#if !defined(__x86_64__)
#error "strobe_jit_enter is written for x86-64 hosts (the translation tier emits x86-64 code)"
#endif
// GHC convention on x86-64 (LLVM's X86CallingConv.td): integer arguments in R13, RBP, R12, RBX, R14, ...; i32
// arguments are widened to 64 bits. Stack: 8 mod 16 at the call, as for the C ABI.
asm(R"(
    .text
    .globl strobe_jit_enter
    .type strobe_jit_enter, @function
strobe_jit_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    sub $8, %rsp
    mov %rdi, %r13
    mov %esi, %ebp
    mov %edx, %r12d
    mov %rcx, %rbx
    mov %r9, %r14
    call *%r8
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size strobe_jit_enter, .-strobe_jit_enter
)");
