// SPDX-License-Identifier: MIT
#include "vmm/monitor/terminal.h"

#include <vector>

namespace strobe::vmm::mon {

void HmpTerminal::Print(const std::string& text) {
  write_(CrLf(text));
}

void HmpTerminal::Open() {
  Print(HmpBanner());
  Prompt();
}

void HmpTerminal::RunLine(const std::string& line, bool too_long) {
  if (quit_) return;
  const std::string out =
      too_long ? "Error: command line longer than " + std::to_string(kMaxLine) + " bytes, ignored\n"
               : hmp_.Execute(line);
  if (hmp_.quit_requested()) {  // as QEMU: nothing more, not even a prompt; the process is ending
    quit_ = true;
    return;
  }
  Print(out);
  Prompt();
}

void HmpTerminal::Feed(const char* data, size_t size) {
  for (size_t i = 0; i < size && !quit_; ++i) {
    const char c = data[i];
    if (editor_) {
      std::string display, line;
      bool too_long = false;
      const bool done = editor_->Feed(c, &display, &line, &too_long);
      if (!display.empty()) write_(display);
      if (done) RunLine(line, too_long);
      continue;
    }
    if (c == '\n' && last_cr_) {  // \r\n: the \r ended the line already
      last_cr_ = false;
      continue;
    }
    last_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      RunLine(line_, too_long_);
      line_.clear();
      too_long_ = false;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') continue;  // control keys: ignored
    if (line_.size() >= kMaxLine) {
      too_long_ = true;
      continue;
    }
    line_.push_back(c);
  }
}

void QmpTerminal::Open() {
  write_(qmp_.Greeting() + "\r\n");
}

void QmpTerminal::Feed(const char* data, size_t size) {
  std::vector<std::string> texts;
  stream_.Feed(data, size, &texts);
  for (const std::string& text : texts) {
    const std::string reply = qmp_.Handle(text) + "\r\n";
    if (qmp_.quit_pending()) {
      // QEMU 7.2 sends the SHUTDOWN event (Quit emits it) before quit's reply. The process ends only
      // after this returns: the server holds its command lock until then (MonitorServer::Close).
      machine_.Quit();
      write_(reply);
      return;
    }
    write_(reply);
    qmp_.RunPendingJob();  // a snapshot job ends after its command's reply, as QEMU's
  }
}

}  // namespace strobe::vmm::mon
