// SPDX-License-Identifier: MIT
// Command-line options of `strobe run`: QEMU's spelling of the common qemu-system-mipsel options, plus
// Strobe's own (double-dash) options.
#pragma once

#include <string>
#include <vector>

#include "vmm/vm.h"

namespace strobe::tools {

struct RunOptions {
  vmm::VmConfig vm;
  bool stats = false;
  bool help = false;
  std::string dump_blocks;  // --dump-blocks SELECTION: dump translated regions at the end of the run
};

// Parses the arguments after `run`. false with *error set (one line, no trailing newline) on bad input.
bool ParseRunOptions(const std::vector<std::string>& args, RunOptions* out, std::string* error);
const char* RunUsage();

}  // namespace strobe::tools
