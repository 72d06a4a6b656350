// SPDX-License-Identifier: MIT
#include "vmm/debug/gdb_protocol.h"

namespace strobe::vmm::gdb {

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char kDigits[] = "0123456789abcdef";
// Room for the largest packet gdb is told it may send, its escapes, and slack for sloppy clients.
constexpr size_t kMaxBody = 2 * kPacketSize + 64;
}  // namespace

PacketDecoder::Event PacketDecoder::Feed(uint8_t byte) {
  switch (state_) {
    case State::kIdle:
      if (byte == '$') {
        body_.clear();
        sum_ = 0;
        state_ = State::kBody;
      } else if (byte == '+') {
        return Event::kAck;
      } else if (byte == '-') {
        return Event::kNak;
      } else if (byte == 0x03) {
        return Event::kInterrupt;
      }
      return Event::kNone;
    case State::kBody:
      if (byte == '#') {
        state_ = State::kCheck1;
        return Event::kNone;
      }
      if (body_.size() >= kMaxBody) {
        state_ = State::kIdle;
        body_.clear();
        return Event::kOverflow;
      }
      body_.push_back(static_cast<char>(byte));
      sum_ = static_cast<uint8_t>(sum_ + byte);
      return Event::kNone;
    case State::kCheck1: {
      const int v = HexValue(static_cast<char>(byte));
      check_ = v < 0 ? -1 : v << 4;  // a non-digit makes the checksum fail
      state_ = State::kCheck2;
      return Event::kNone;
    }
    case State::kCheck2: {
      state_ = State::kIdle;
      const int v = HexValue(static_cast<char>(byte));
      if (v < 0 || check_ < 0 || (check_ | v) != sum_) return Event::kBadChecksum;
      packet_ = std::move(body_);
      body_.clear();
      return Event::kPacket;
    }
  }
  return Event::kNone;
}

std::string EncodePacket(std::string_view payload) {
  std::string out = "$";
  uint8_t sum = 0;
  auto put = [&](char c) {
    out.push_back(c);
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  };
  for (char c : payload) {
    if (c == '#' || c == '$' || c == '}' || c == '*') {
      put('}');
      put(static_cast<char>(c ^ 0x20));
    } else {
      put(c);
    }
  }
  out.push_back('#');
  out.push_back(kDigits[sum >> 4]);
  out.push_back(kDigits[sum & 15]);
  return out;
}

bool Unescape(std::string_view in, std::vector<uint8_t>* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '}') {
      out->push_back(static_cast<uint8_t>(in[i]));
      continue;
    }
    if (++i == in.size()) return false;
    out->push_back(static_cast<uint8_t>(in[i] ^ 0x20));
  }
  return true;
}

bool ParseHex(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    const int d = HexValue(c);
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

std::string HexBytes(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

bool FromHex(std::string_view s, std::vector<uint8_t>* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = HexValue(s[i]), lo = HexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

std::string HexWordLe(uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 24)};
  return HexBytes(b, 4);
}

bool ParseWordLe(std::string_view s, uint32_t* out) {
  std::vector<uint8_t> b;
  if (s.size() != 8 || !FromHex(s, &b)) return false;
  *out = b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
  return true;
}

}  // namespace strobe::vmm::gdb
