// SPDX-License-Identifier: MIT
// The human monitor's line editor on a raw byte stream (a socket, the console's Ctrl-A c), behaving as
// QEMU 7.2's monitor does there: every byte that changes the line redraws it (cursor back to the line's
// start with ESC[D, the whole line, ESC[K, then the cursor to its place), so a client sees its typing
// echoed with those sequences. Keys: printable bytes insert at the cursor; Enter is \r or \n (each one:
// \r\n gives an empty line after the first); Backspace (0x7F, 0x08); Home/End (ESC[H, ESC[F, ESC[1~,
// ESC[4~) go to the start/end; Ctrl-D and Delete (ESC[3~) delete under the cursor; Ctrl-W deletes the
// word before it; the arrows move (left/right) and walk the history (up/down, as Ctrl-P/Ctrl-N; 64 lines,
// a repeated line moves to the end). Other control bytes (Ctrl-A, Ctrl-E, Ctrl-U, ...) are ignored, as by
// QEMU 7.2. Not there: Tab completion (Tab is ignored).
#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace strobe::vmm::mon {

class LineEditor {
 public:
  static constexpr size_t kMaxHistory = 64;
  explicit LineEditor(size_t max_line) : max_line_(max_line) {}
  // One byte: what to send back goes to *display; true when Enter ended a line (*line: the line, "\r\n"
  // already in *display). *too_long: the line was longer than max_line (its excess was dropped).
  bool Feed(char c, std::string* display, std::string* line, bool* too_long);

 private:
  void Insert(char c);
  void Erase(size_t at, size_t n);
  void Recall(const std::string& text);
  void HistoryUp();
  void HistoryDown();
  void Redraw(std::string* display);

  size_t max_line_;
  std::string buf_;
  size_t cursor_ = 0;
  std::string shown_;        // what the client's screen has after the prompt
  size_t shown_cursor_ = 0;  // and where its cursor is
  bool too_long_ = false;
  enum class Esc : unsigned char { kNone, kEsc, kCsi, kSs3 } esc_ = Esc::kNone;
  unsigned esc_param_ = 0;
  std::deque<std::string> history_;
  size_t history_pos_ = 0;  // history_.size(): the line being typed
};

}  // namespace strobe::vmm::mon
