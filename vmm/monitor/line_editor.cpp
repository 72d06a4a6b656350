// SPDX-License-Identifier: MIT
#include "vmm/monitor/line_editor.h"

#include <algorithm>

namespace strobe::vmm::mon {

namespace {
constexpr const char* kLeft = "\x1b[D";
constexpr const char* kRight = "\x1b[C";
constexpr const char* kEraseToEnd = "\x1b[K";
}  // namespace

void LineEditor::Insert(char c) {
  if (buf_.size() >= max_line_) {
    too_long_ = true;
    return;
  }
  buf_.insert(cursor_++, 1, c);
}

void LineEditor::Erase(size_t at, size_t n) {
  buf_.erase(at, n);
  cursor_ = std::min(cursor_, buf_.size());
}

void LineEditor::Recall(const std::string& text) {
  buf_ = text;
  cursor_ = buf_.size();
}

void LineEditor::HistoryUp() {
  if (history_pos_ > 0) Recall(history_[--history_pos_]);
}

void LineEditor::HistoryDown() {
  if (history_pos_ >= history_.size()) return;  // already on the line being typed
  ++history_pos_;
  Recall(history_pos_ < history_.size() ? history_[history_pos_] : "");
}

void LineEditor::Redraw(std::string* display) {
  if (buf_ != shown_) {
    for (size_t i = 0; i < shown_cursor_; ++i) *display += kLeft;
    *display += buf_;
    *display += kEraseToEnd;
    shown_ = buf_;
    shown_cursor_ = buf_.size();
  }
  for (; shown_cursor_ < cursor_; ++shown_cursor_) *display += kRight;
  for (; shown_cursor_ > cursor_; --shown_cursor_) *display += kLeft;
}

bool LineEditor::Feed(char ch, std::string* display, std::string* line, bool* too_long) {
  const auto c = static_cast<unsigned char>(ch);
  if (esc_ == Esc::kEsc) {
    esc_ = c == '[' ? Esc::kCsi : c == 'O' ? Esc::kSs3 : Esc::kNone;
    esc_param_ = 0;
    return false;
  }
  if (esc_ == Esc::kCsi || esc_ == Esc::kSs3) {
    if (esc_ == Esc::kCsi && c >= '0' && c <= '9') {
      esc_param_ = std::min(esc_param_ * 10 + (c - '0'), 1000u);
      return false;
    }
    esc_ = Esc::kNone;
    switch (c) {
      case 'A': HistoryUp(); break;
      case 'B': HistoryDown(); break;
      case 'C': cursor_ = std::min(cursor_ + 1, buf_.size()); break;
      case 'D': cursor_ = cursor_ ? cursor_ - 1 : 0; break;
      case 'H': cursor_ = 0; break;
      case 'F': cursor_ = buf_.size(); break;
      case '~':
        if (esc_param_ == 1) cursor_ = 0;
        if (esc_param_ == 4) cursor_ = buf_.size();
        if (esc_param_ == 3 && cursor_ < buf_.size()) Erase(cursor_, 1);
        break;
      default: break;
    }
    Redraw(display);
    return false;
  }
  switch (c) {
    case '\r':
    case '\n': {
      *display += "\r\n";
      *line = buf_;
      *too_long = too_long_;
      if (!buf_.empty() && !too_long_) {
        std::erase(history_, buf_);  // a repeated line moves to the end
        history_.push_back(buf_);
        if (history_.size() > kMaxHistory) history_.pop_front();
      }
      history_pos_ = history_.size();
      buf_.clear();
      shown_.clear();
      cursor_ = shown_cursor_ = 0;
      too_long_ = false;
      return true;
    }
    case 27: esc_ = Esc::kEsc; return false;
    case 0x9B:  // the one-byte CSI
      esc_ = Esc::kCsi;
      esc_param_ = 0;
      return false;
    case 4:  // Ctrl-D
      if (cursor_ < buf_.size()) Erase(cursor_, 1);
      break;
    case 8:
    case 0x7F:  // Backspace
      if (cursor_ > 0) {
        --cursor_;
        Erase(cursor_, 1);
      }
      break;
    case 23: {  // Ctrl-W: the blanks before the cursor, then the word
      size_t start = cursor_;
      while (start > 0 && buf_[start - 1] == ' ') --start;
      while (start > 0 && buf_[start - 1] != ' ') --start;
      const size_t n = cursor_ - start;
      cursor_ = start;
      Erase(start, n);
      break;
    }
    case 16: HistoryUp(); break;    // Ctrl-P
    case 14: HistoryDown(); break;  // Ctrl-N
    default:
      if (c < 0x20) return false;  // Tab and the other control keys: ignored
      Insert(static_cast<char>(c));
      break;
  }
  Redraw(display);
  return false;
}

}  // namespace strobe::vmm::mon
