// SPDX-License-Identifier: MIT
// Which rows of mips32.inc have a handler written over an emitter (common.h), and running the one for a
// decoded instruction with a given emitter. Every engine that emits code (the lifter, the interpreter's
// baseline emitter) dispatches through this, so a row rewritten over the emitter reaches them all.
#pragma once

#include "translator/mips/decoder.h"
#include "translator/mips/semantics/alu.h"
#include "translator/mips/semantics/branch.h"
#include "translator/mips/semantics/fpu_arith.h"
#include "translator/mips/semantics/fpu_move.h"
#include "translator/mips/semantics/memory.h"
#include "translator/mips/semantics/muldiv.h"
#include "translator/mips/semantics/system.h"

namespace strobe::mips::sem {

// WrittenOnce<E>::NAME: the handler of row NAME can be called with E (the others take the CpuState, which
// an emitter of code is not).
template <class E>
struct WrittenOnce {
#define INSN(name, pattern, flags)                                     \
  static constexpr bool name = requires(E & e, const DecodedInsn& d) { \
    mips::sem::name(e, d, typename E::Pc{});                           \
  };
#include "translator/mips/mips32.inc"
#undef INSN
};

// Runs d's handler with e if it is written over an emitter (*shared), else does nothing (!*shared).
template <class E>
bool RunWrittenOnce(E& e, const DecodedInsn& d, bool* shared) {
  *shared = true;
  switch (d.op) {
#define INSN(name, pattern, flags)                                                      \
  case Opcode::name:                                                                    \
    if constexpr (WrittenOnce<E>::name) return mips::sem::name(e, d, typename E::Pc{}); \
    break;
#include "translator/mips/mips32.inc"
#undef INSN
    default: break;
  }
  *shared = false;
  return true;
}

}  // namespace strobe::mips::sem
