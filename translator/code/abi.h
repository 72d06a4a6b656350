// SPDX-License-Identifier: MIT
// The interface between translated code and the rest of Strobe. Translated code calls the runtime's entry
// points by these symbol names (the compiler's linker resolves them to jit/helpers.cpp, where their
// signatures and meaning are), so it holds no address of the process that compiled it; and it is entered
// through one trampoline.
#pragma once

#include <cstdint>

namespace strobe::code {

// The runtime entry points, by the names translated code calls them by.
inline constexpr const char kLoadSymbol[] = "strobe_jit_load";             // a load's soft TLB slow path
inline constexpr const char kStoreSymbol[] = "strobe_jit_store";           // a store's
inline constexpr const char kStorePartSymbol[] = "strobe_jit_store_part";  // an SWL/SWR's
inline constexpr const char kStepSymbol[] = "strobe_jit_step";             // one instruction by its handler
inline constexpr const char kLinkSymbol[] = "strobe_jit_link";             // resolve a chained jump
inline constexpr const char kRaiseSymbol[] = "strobe_jit_raise";           // deliver an exception

// The load entry's second argument: the access size in bytes, with these flags.
inline constexpr uint32_t kLoadSigned = 8;       // sign-extend the value
inline constexpr uint32_t kLoadWordAround = 16;  // LWL/LWR: the aligned word holding byte va (size 4)
inline constexpr uint32_t kLoadLinked = 32;      // LL: a word that sets the LL bit and LLAddr

extern "C" {
// Calls translated code (a NativeFn) from C++. Region functions use LLVM's GHC calling convention
// (arguments in registers, no callee-saved registers), so a chain of regions pays no prologue or epilogue
// for saving registers; this trampoline saves the C ABI's callee-saved registers once, for the whole chain.
void strobe_jit_enter(void* cpu, uint32_t vbase, uint32_t entry_offset, uint64_t cycle_limit, void* fn,
                      void* frame);
}

}  // namespace strobe::code
