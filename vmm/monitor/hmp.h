// SPDX-License-Identifier: MIT
// The human monitor (HMP): one command line in, its output out, with QEMU 7.2's command names, messages
// and formats for what Strobe has (help, info status/registers/tlb/jit/memory/snapshots/block, stop, cont,
// savevm, loadvm, delvm, system_powerdown, system_reset, quit, x, xp, print, info cpus, memsave, pmemsave,
// eject, change). Independent of the transport (server.h) and of the VM (through MachineControl), so that
// tests drive it with a fake machine.
#pragma once

#include <string>

#include "vmm/monitor/hmp_format.h"
#include "vmm/monitor/machine.h"

namespace strobe::vmm::mon {

inline constexpr const char* kPrompt = "(qemu) ";
// Monitor output as QEMU writes it: every \n as \r\n.
std::string CrLf(const std::string& text);
// The first line a monitor prints (QEMU: "QEMU 7.2.0 monitor - type 'help' for more information").
std::string HmpBanner();

class HmpSession {
 public:
  explicit HmpSession(MachineControl& machine) : machine_(machine) {}
  // Runs one line (without its newline) and returns the output, lines ending in '\n'. An empty line
  // prints nothing. `quit` asks the machine to quit (the process then ends).
  std::string Execute(const std::string& line);
  // `quit` ran (the terminal then prints nothing more, as QEMU).
  bool quit_requested() const { return quit_requested_; }

 private:
  std::string Info(const std::string& what, const std::string& line);
  std::string Dump(const std::string& args, bool physical, const std::string& command);
  std::string Media(const std::string& name, const std::string& args);
  std::string Balloon(const std::string& args);
  std::string Save(const std::string& args, bool physical, const std::string& command);
  std::string Print(const std::string& args, const std::string& command);

  MachineControl& machine_;
  bool quit_requested_ = false;
};

}  // namespace strobe::vmm::mon
