// SPDX-License-Identifier: MIT
// `strobe dump` and `strobe run --dump-blocks`: for each selected translated region, the guest disassembly
// (Capstone), the LLVM IR before and after optimisation, the host disassembly, execution count and
// compile time.
#pragma once

#include <cstdio>
#include <string>

#include "vmm/vm.h"

namespace strobe::tools {

// Selection syntax: "all", "hot:N" (the N most executed regions), or a guest-physical or kseg0/kseg1
// address (the regions containing it).
bool ValidDumpSelection(const std::string& selection);
void DumpRegions(vmm::Vm& vm, const std::string& selection, std::FILE* out);
// One MIPS32 little-endian instruction as QEMU's monitor prints it (binutils' style: "lui\tsp,0x8011",
// registers without '$'), through Capstone; false when it does not decode. For the monitor's x/i.
bool DisassembleForMonitor(uint32_t addr, uint32_t word, std::string* text);

}  // namespace strobe::tools
