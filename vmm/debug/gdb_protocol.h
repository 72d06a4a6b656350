// SPDX-License-Identifier: MIT
// The gdb remote serial protocol's framing (GDB manual, appendix E "Overview"): `$payload#cs` packets with
// a two-digit hex checksum (the sum of the payload bytes modulo 256), `+`/`-` acknowledgments, the 0x03
// interrupt byte, and the `}` escape of binary data. No sockets here: bytes in, events out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strobe::vmm::gdb {

// The largest packet gdb may send us (announced as PacketSize in qSupported) and the most a reply holds.
inline constexpr size_t kPacketSize = 0x4000;

// Splits a byte stream into protocol events. Bytes outside a packet other than `+`, `-`, `$` and 0x03 are
// line noise and ignored, as gdb's own stubs do.
class PacketDecoder {
 public:
  enum class Event { kNone, kPacket, kBadChecksum, kAck, kNak, kInterrupt, kOverflow };
  Event Feed(uint8_t byte);
  // The payload of the last kPacket (raw: `}` escapes are left for the commands that carry binary data).
  const std::string& packet() const { return packet_; }

 private:
  enum class State { kIdle, kBody, kCheck1, kCheck2 };
  State state_ = State::kIdle;
  std::string body_, packet_;
  uint8_t sum_ = 0;
  int check_ = 0;
};

// `$payload#cs`, with `#`, `$`, `}` and `*` escaped (gdb undoes `}` escapes in every packet it reads).
std::string EncodePacket(std::string_view payload);
// Undo `}` escapes (X packets' binary data). false on a dangling escape.
bool Unescape(std::string_view in, std::vector<uint8_t>* out);

// Hex helpers: ParseHex takes 1-8 hex digits (no prefix); HexBytes/FromHex are byte strings in order.
bool ParseHex(std::string_view s, uint32_t* out);
std::string HexBytes(const uint8_t* data, size_t size);
bool FromHex(std::string_view s, std::vector<uint8_t>* out);
// A 32-bit register as gdb sends it for a little-endian target: 8 hex digits, low byte first.
std::string HexWordLe(uint32_t v);
bool ParseWordLe(std::string_view s, uint32_t* out);

}  // namespace strobe::vmm::gdb
