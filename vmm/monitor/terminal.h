// SPDX-License-Identifier: MIT
// A monitor connection's protocol end, whatever carries its bytes (a socket, stdio, the console's
// Ctrl-A c): HmpTerminal turns bytes into command lines (with QEMU's line editor and echo) and prints the
// banner, the "(qemu) " prompt and the output with \r\n line ends, and no prompt after `quit`; QmpTerminal
// splits JSON texts and answers them. Feed may block while a command waits for the vCPU; output goes through
// the writer given.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "vmm/monitor/hmp.h"
#include "vmm/monitor/line_editor.h"
#include "vmm/monitor/qmp.h"

namespace strobe::vmm::mon {

using Writer = std::function<void(const std::string& bytes)>;

class Terminal {
 public:
  virtual ~Terminal() = default;
  // The greeting: the banner and prompt, or QMP's greeting.
  virtual void Open() = 0;
  virtual void Feed(const char* data, size_t size) = 0;
};

class HmpTerminal final : public Terminal {
 public:
  static constexpr size_t kMaxLine = 4096;
  // editor: QEMU's line editing and echo (line_editor.h), as QEMU's monitor behaves on a socket and on
  // the console's Ctrl-A c; without it (a cooked stdin, which echoes itself), lines as they come, \r\n
  // being one line end.
  HmpTerminal(MachineControl& machine, Writer write, bool editor = true)
      : hmp_(machine), write_(std::move(write)) {
    if (editor) editor_ = std::make_unique<LineEditor>(kMaxLine);
  }
  void Open() override;
  void Feed(const char* data, size_t size) override;
  void Prompt() { write_(kPrompt); }
  // `quit` ran: the terminal reads nothing more.
  bool quit() const { return quit_; }

 private:
  void Print(const std::string& text);  // \n becomes \r\n
  void RunLine(const std::string& line, bool too_long);

  HmpSession hmp_;
  Writer write_;
  std::unique_ptr<LineEditor> editor_;
  std::string line_;  // without the editor
  bool too_long_ = false;
  bool last_cr_ = false;
  bool quit_ = false;  // `quit` ran: the rest of the input is not read
};

class QmpTerminal final : public Terminal {
 public:
  // `quit` (and human-monitor-command "quit"): MachineControl::Quit, then the reply, as QEMU 7.2 (the
  // SHUTDOWN event first).
  QmpTerminal(MachineControl& machine, Writer write)
      : machine_(machine), qmp_(machine), write_(std::move(write)) {}
  void Open() override;
  void Feed(const char* data, size_t size) override;
  // Events go only to connections past qmp_capabilities.
  bool wants_events() const { return qmp_.negotiated(); }

 private:
  MachineControl& machine_;
  QmpSession qmp_;
  Writer write_;
  JsonStream stream_;
};

}  // namespace strobe::vmm::mon
