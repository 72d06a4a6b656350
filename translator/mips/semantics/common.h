// SPDX-License-Identifier: MIT
// Shared helpers of the instruction semantics. Every handler has the signature
//   bool NAME(CpuState& c, const DecodedInsn& d, uint32_t pc)
// and returns false after recording an exception in c.exc (runtime::Raise*), true otherwise.
#pragma once

#include <cstdint>

#include "runtime/memory.h"
#include "runtime/runtime.h"
#include "translator/mips/decoder.h"

#define STROBE_SEM inline __attribute__((always_inline)) bool

namespace strobe::mips::sem {

using runtime::CpuState;
using runtime::ExcCode;

// $zero is handled here and only here: writes land and are then undone.
inline uint32_t Gpr(const CpuState& c, unsigned r) {
  return c.gpr[r];
}
inline void SetGpr(CpuState& c, unsigned r, uint32_t v) {
  c.gpr[r] = v;
  c.gpr[0] = 0;
}

inline bool Cp0Usable(const CpuState& c) {
  return !runtime::InUserMode(c) || (c.cp0.status & runtime::st::CU0) != 0;
}

}  // namespace strobe::mips::sem
