// SPDX-License-Identifier: MIT
// One instruction through the interpreter's handlers: the reference semantics that translated code calls
// for the instructions it does not inline. false: an exception is recorded in c.exc (not yet delivered).
#pragma once

#include "runtime/cpu_state.h"
#include "translator/mips/decoder.h"

namespace strobe::interp {
bool StepOne(runtime::CpuState& c, const mips::DecodedInsn& d, uint32_t pc);
}
