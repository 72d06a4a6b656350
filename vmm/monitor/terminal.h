// SPDX-License-Identifier: MIT
// A monitor connection's protocol end, whatever carries its bytes (a socket, stdio, the console's
// Ctrl-A c): HmpTerminal turns bytes into command lines and prints the banner, the "(qemu) " prompt and
// the output with \r\n line ends; QmpTerminal splits JSON texts and answers them. Feed may block while a
// command waits for the vCPU; output goes through the writer given.
#pragma once

#include <functional>
#include <string>

#include "vmm/monitor/hmp.h"
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
  // echo: print typed characters back and handle backspace (the console's raw terminal); sockets and a
  // cooked terminal do not need it.
  HmpTerminal(MachineControl& machine, Writer write, bool echo = false)
      : hmp_(machine), write_(std::move(write)), echo_(echo) {}
  void Open() override;
  void Feed(const char* data, size_t size) override;
  void Prompt() { write_(kPrompt); }

 private:
  void Print(const std::string& text);  // \n becomes \r\n

  HmpSession hmp_;
  Writer write_;
  bool echo_;
  std::string line_;
  bool too_long_ = false;
  bool last_cr_ = false;
};

class QmpTerminal final : public Terminal {
 public:
  // quit: called after the reply to `quit` has been written.
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
