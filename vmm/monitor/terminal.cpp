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

void HmpTerminal::Feed(const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c == '\n' && last_cr_) {  // \r\n: the \r ended the line already
      last_cr_ = false;
      continue;
    }
    last_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      if (echo_) write_("\r\n");
      std::string out;
      if (too_long_)
        out = "Error: command line longer than " + std::to_string(kMaxLine) + " bytes, ignored\n";
      else
        out = hmp_.Execute(line_);
      line_.clear();
      too_long_ = false;
      Print(out);
      Prompt();
      continue;
    }
    if (echo_ && (c == 0x7F || c == 0x08)) {  // backspace on a raw terminal
      if (!line_.empty()) {
        line_.pop_back();
        write_("\b \b");
      }
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') continue;  // other control keys: ignored
    if (line_.size() >= kMaxLine) {
      too_long_ = true;
      continue;
    }
    line_.push_back(c);
    if (echo_) write_(std::string(1, c));
  }
}

void QmpTerminal::Open() {
  write_(qmp_.Greeting() + "\r\n");
}

void QmpTerminal::Feed(const char* data, size_t size) {
  std::vector<std::string> texts;
  stream_.Feed(data, size, &texts);
  for (const std::string& text : texts) {
    write_(qmp_.Handle(text) + "\r\n");
    if (qmp_.quit_pending()) {
      machine_.Quit();
      return;
    }
  }
}

}  // namespace strobe::vmm::mon
