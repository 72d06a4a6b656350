// SPDX-License-Identifier: MIT
// QEMU's -d logging mapped onto Strobe: in_asm (guest code as it is decoded into blocks, disassembled with
// Capstone), int (every exception and interrupt taken), exec (every block the interpreter runs). Output goes
// to stderr, or to the -D file.
#pragma once

#include <cstdio>
#include <string>

#include "vmm/vm.h"

namespace strobe::tools {

struct TraceOptions {
  bool in_asm = false;
  bool interrupts = false;  // "int"
  bool exec = false;
  std::string logfile;  // -D; empty: stderr
  bool any() const { return in_asm || interrupts || exec; }
};

// Parses a -d item list into *out. "help" sets *help. false with *error set (one line) on unknown items.
bool ParseTraceItems(const std::string& items, TraceOptions* out, bool* help, std::string* error);
const char* TraceHelp();

// Opens the log and attaches the hooks to the VM. false with *error set when the -D file cannot be opened.
bool StartTracing(const TraceOptions& options, vmm::Vm& vm, std::string* error);

}  // namespace strobe::tools
