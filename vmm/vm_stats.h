// SPDX-License-Identifier: MIT
// A VM's execution and compiler statistics as text: what `strobe run --stats` prints at exit and what the
// monitor's `info jit` and `info memory` show. Call on the vCPU thread (or once the run has ended).
#pragma once

#include <string>
#include <vector>

#include "vmm/vm.h"

namespace strobe::vmm {

// "N instructions (R MIPS), N blocks built, N invalidated" (the interpreter's counts; the rate over
// `seconds` of host time, left out when seconds is 0).
std::string ExecutionStats(Vm& vm, double seconds = 0);
// The tiered engine's lines: tier 1 (regions compiled, modules, compile time and its split, installed,
// dropped, stale, failed) and tier 2. Empty without a tiered engine.
std::vector<std::string> JitStats(Vm& vm);
// Machine memory: the pool's pages in use, this VM's mapped and shared pages.
std::vector<std::string> MemoryStats(Vm& vm, const Monitor& monitor);

}  // namespace strobe::vmm
