// SPDX-License-Identifier: MIT
// QEMU's memsave and pmemsave (HMP and QMP): `size` bytes of guest memory from `addr`, virtual (through the
// current mode's segments and TLB, without side effects) or physical (RAM), written to a host file.
#pragma once

#include <cstdint>
#include <string>

#include "vmm/monitor/machine.h"

namespace strobe::vmm::mon {

// "" when the file holds the bytes; otherwise one line: QEMU's "Could not open 'F': ..." or "Invalid addr
// 0x.../size N specified" (memory the machine cannot read there: unmapped, or past RAM).
std::string SaveMemory(MachineControl& machine, bool physical, uint64_t addr, uint64_t size,
                       const std::string& file);

}  // namespace strobe::vmm::mon
