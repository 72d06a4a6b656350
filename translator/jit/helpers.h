// SPDX-License-Identifier: MIT
// The runtime entry points translated code calls: soft TLB slow paths, exception delivery, and the reference
// semantics for instructions the lifter does not inline. They are the interpreter's own functions behind a
// C ABI, so every piece of semantics exists once.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/cpu_state.h"
#include "translator/mips/decoder.h"

namespace strobe::jit {

extern "C" {
// Loads: false when an exception was delivered (c->pc is its vector). *out is zero- or sign-extended.
// size_and_flags: the size with code::kLoadSigned / code::kLoadWordAround.
bool strobe_jit_load(runtime::CpuState* c, uint32_t va, uint32_t size_and_flags, uint32_t* out, uint32_t pc,
                     uint32_t in_delay_slot);
bool strobe_jit_store(runtime::CpuState* c, uint32_t va, uint32_t size, uint32_t value, uint32_t pc,
                      uint32_t in_delay_slot);
// An SWL/SWR's store (sem::Exec::StoreWordPart): data's bytes where mask's are set, into the aligned word
// holding byte va.
bool strobe_jit_store_part(runtime::CpuState* c, uint32_t va, uint32_t data, uint32_t mask, uint32_t pc,
                           uint32_t in_delay_slot);
// Runs one instruction with the interpreter's handler (GPRs must be in *c). false: exception delivered.
bool strobe_jit_step(runtime::CpuState* c, const mips::DecodedInsn* insn, uint32_t pc,
                     uint32_t in_delay_slot);
// Resolves a chained jump: the translated entry for the virtual target, cached in *site (with the frame
// it runs with); null when the target is not translated (or not mapped): then the code returns to the
// dispatcher.
void* strobe_jit_link(runtime::CpuState* c, void* site, uint32_t target);
// Delivers the exception recorded in c->exc for the instruction at pc.
void strobe_jit_raise(runtime::CpuState* c, uint32_t code, uint32_t pc, uint32_t in_delay_slot);
}

// The entry points above that translated code calls, by the symbol names it calls them by: the compiler
// defines these names for its linker, so compiled code holds no address of this process.
struct RuntimeSymbol {
  const char* name;
  void* address;
};
const std::vector<RuntimeSymbol>& RuntimeSymbols();

}  // namespace strobe::jit
