// SPDX-License-Identifier: MIT
#include "vmm/debug/gdb_stub.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "vmm/debug/gdb_protocol.h"
#include "vmm/debug/target_xml.h"

namespace strobe::vmm::gdb {

namespace {
// Error replies as QEMU gives them: E22 (EINVAL) for a malformed request, E14 (EFAULT) for memory that
// cannot be reached.
constexpr const char* kBadRequest = "E22";
constexpr const char* kBadMemory = "E14";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "ADDR,LEN" (and what follows the length, after `sep`, if asked for).
bool ParseAddrLen(std::string_view args, uint32_t* addr, uint32_t* len, char sep = 0,
                  std::string_view* rest = nullptr) {
  const size_t comma = args.find(',');
  if (comma == std::string_view::npos) return false;
  std::string_view len_text = args.substr(comma + 1);
  if (sep) {
    const size_t at = len_text.find(sep);
    if (at == std::string_view::npos) return false;
    *rest = len_text.substr(at + 1);
    len_text = len_text.substr(0, at);
  }
  return ParseHex(args.substr(0, comma), addr) && ParseHex(len_text, len);
}
}  // namespace

std::string GdbSession::StopReply(const StopEvent& e) const {
  char buf[64];
  switch (e.kind) {
    case StopEvent::Kind::kExited: std::snprintf(buf, sizeof buf, "W%02x", e.exit_status & 0xFF); return buf;
    case StopEvent::Kind::kInterrupt: return "T02thread:01;";  // SIGINT
    case StopEvent::Kind::kBreakpoint:
      if (e.hardware && hwbreak_) return "T05hwbreak:;thread:01;";
      if (!e.hardware && swbreak_) return "T05swbreak:;thread:01;";
      return "T05thread:01;";
    case StopEvent::Kind::kWatch: {
      const char* kind = e.watch_type == BreakType::kRead     ? "rwatch"
                         : e.watch_type == BreakType::kAccess ? "awatch"
                                                              : "watch";
      std::snprintf(buf, sizeof buf, "T05thread:01;%s:%x;", kind, e.watch_addr);
      return buf;
    }
    case StopEvent::Kind::kTrap: break;
  }
  return "T05thread:01;";  // SIGTRAP
}

std::string GdbSession::ReadRegisters() {
  std::string out;
  // With the target description in use, gdb expects exactly its registers (up to fir): a longer reply
  // is an error to it. Without, QEMU's 73 words.
  const unsigned count = described_ ? reg::kFir + 1 : reg::kInG;
  for (unsigned n = 0; n < count; ++n) {
    uint32_t v = 0;
    target_.ReadRegister(n, &v);
    out += HexWordLe(v);
  }
  return out;
}

std::string GdbSession::WriteRegisters(std::string_view hex) {
  // gdb sends as many registers as it knows of; those past the ones `g` gave are not ours to write.
  if (hex.size() % 8) return kBadRequest;
  for (unsigned n = 0; n < reg::kInG && 8 * n < hex.size(); ++n) {
    uint32_t v;
    if (!ParseWordLe(hex.substr(8 * n, 8), &v)) return kBadRequest;
    target_.WriteRegister(n, v);
  }
  return "OK";
}

std::string GdbSession::ReadMemory(std::string_view args) {
  uint32_t addr, len;
  if (!ParseAddrLen(args, &addr, &len)) return kBadRequest;
  len = std::min<uint32_t>(len, kPacketSize / 2);  // gdb reads the rest with another m packet
  if (len == 0) return "";
  std::vector<uint8_t> data(len);
  const size_t got = target_.ReadMemory(addr, data.data(), len);
  if (got == 0) return kBadMemory;
  return HexBytes(data.data(), got);
}

std::string GdbSession::WriteMemory(std::string_view args, bool binary) {
  uint32_t addr, len;
  std::string_view payload;
  if (!ParseAddrLen(args, &addr, &len, ':', &payload)) return kBadRequest;
  std::vector<uint8_t> data;
  if (binary ? !Unescape(payload, &data) : !FromHex(payload, &data)) return kBadRequest;
  if (data.size() != len) return kBadRequest;
  if (len == 0) return "OK";  // X with no data: gdb probing for binary downloads
  return target_.WriteMemory(addr, data.data(), len) == len ? "OK" : kBadMemory;
}

std::string GdbSession::Point(std::string_view args, bool insert) {
  // TYPE,ADDR,KIND (conditions and commands after a `;` are not supported: gdb evaluates them itself).
  const size_t comma = args.find(',');
  if (comma != 1 || args[0] < '0' || args[0] > '4') return "";  // other types: unsupported
  uint32_t addr, kind;
  std::string_view rest = args.substr(comma + 1);
  if (const size_t semi = rest.find(';'); semi != std::string_view::npos) rest = rest.substr(0, semi);
  if (!ParseAddrLen(rest, &addr, &kind)) return kBadRequest;
  const auto type = static_cast<BreakType>(args[0] - '0');
  if (type <= BreakType::kHardware && (kind != 4 || (addr & 3))) return kBadRequest;  // MIPS32 only
  if (type > BreakType::kHardware && kind == 0) return kBadRequest;
  const bool ok = insert ? target_.InsertPoint(type, addr, kind) : target_.RemovePoint(type, addr, kind);
  return ok ? "OK" : kBadMemory;
}

std::string GdbSession::Query(std::string_view p) {
  if (StartsWith(p, "qSupported")) {
    swbreak_ = p.find("swbreak+") != std::string_view::npos;
    hwbreak_ = p.find("hwbreak+") != std::string_view::npos;
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "PacketSize=%zx;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+;qXfer:features:read+",
                  kPacketSize);
    return buf;
  }
  if (StartsWith(p, "qXfer:features:read:")) {  // qXfer:features:read:ANNEX:OFFSET,LENGTH
    const std::string_view rest = p.substr(20);
    const size_t colon = rest.find(':');
    uint32_t offset, length;
    if (colon == std::string_view::npos || !ParseAddrLen(rest.substr(colon + 1), &offset, &length))
      return "E00";
    // A reply holds at most a packet's worth, less its type letter and the escapes EncodePacket adds.
    length = std::min<uint32_t>(length, kPacketSize / 2);
    return ReadFeatures(rest.substr(0, colon), offset, length, &described_);
  }
  if (StartsWith(p, "qXfer:")) return "";  // other objects: unsupported
  if (p == "QStartNoAckMode") {
    no_ack_ = true;
    return "OK";
  }
  if (p == "qAttached" || StartsWith(p, "qAttached:")) return "1";  // attached to an existing process
  if (p == "qC") return "QC01";
  if (p == "qfThreadInfo") return "m01";
  if (p == "qsThreadInfo") return "l";
  if (StartsWith(p, "qThreadExtraInfo"))
    return HexBytes(reinterpret_cast<const uint8_t*>("CPU#0 [running]"), 15);
  if (p == "qSymbol::") return "OK";
  return "";  // qOffsets, qTStatus, qXfer, ...: unsupported, gdb falls back
}

GdbSession::Action GdbSession::Resume(Action::Kind kind, std::string_view addr, std::string* reply,
                                      bool* has_reply) {
  if (!addr.empty()) {  // resume at ADDR
    uint32_t pc;
    if (!ParseHex(addr, &pc)) {
      *reply = kBadRequest;
      return {};
    }
    target_.WriteRegister(reg::kPc, pc);
  }
  *has_reply = false;  // the stop reply comes when the target stops
  return {kind};
}

GdbSession::Action GdbSession::VCont(std::string_view args, std::string* reply, bool* has_reply) {
  if (args == "?") {
    *reply = "vCont;c;C;s;S";
    return {};
  }
  // ;ACTION[:THREAD]... : the first action for our thread (01), any thread (-1) or all (no thread) wins.
  while (!args.empty() && args[0] == ';') {
    args.remove_prefix(1);
    const size_t next = args.find(';');
    std::string_view action = args.substr(0, next);
    args = next == std::string_view::npos ? std::string_view() : args.substr(next);
    std::string_view thread;
    if (const size_t colon = action.find(':'); colon != std::string_view::npos) {
      thread = action.substr(colon + 1);
      action = action.substr(0, colon);
    }
    uint32_t tid = 1;
    if (!thread.empty() && thread != "-1" && (!ParseHex(thread, &tid) || (tid != 1 && tid != 0))) continue;
    if (action.empty()) break;
    if (action[0] == 'c' || action[0] == 'C') return Resume(Action::Kind::kContinue, "", reply, has_reply);
    if (action[0] == 's' || action[0] == 'S') return Resume(Action::Kind::kStep, "", reply, has_reply);
    break;  // t, r: not supported
  }
  *reply = kBadRequest;
  return {};
}

GdbSession::Action GdbSession::Handle(std::string_view p, std::string* reply, bool* has_reply) {
  *has_reply = true;
  reply->clear();
  if (p.empty()) return {};
  const std::string_view args = p.substr(1);
  switch (p[0]) {
    case '?': *reply = StopReply(last_stop_); return {};
    case 'g': *reply = ReadRegisters(); return {};
    case 'G': *reply = WriteRegisters(args); return {};
    case 'p': {
      uint32_t n, v;
      if (!ParseHex(args, &n) || n > reg::kLast || !target_.ReadRegister(n, &v)) {
        *reply = kBadRequest;
      } else {
        *reply = HexWordLe(v);
      }
      return {};
    }
    case 'P': {
      const size_t eq = args.find('=');
      uint32_t n, v;
      if (eq == std::string_view::npos || !ParseHex(args.substr(0, eq), &n) ||
          !ParseWordLe(args.substr(eq + 1), &v) || n > reg::kLast) {
        *reply = kBadRequest;
      } else {
        *reply = target_.WriteRegister(n, v) ? "OK" : kBadRequest;
      }
      return {};
    }
    case 'm': *reply = ReadMemory(args); return {};
    case 'M': *reply = WriteMemory(args, /*binary=*/false); return {};
    case 'X': *reply = WriteMemory(args, /*binary=*/true); return {};
    case 'c': return Resume(Action::Kind::kContinue, args, reply, has_reply);
    case 's': return Resume(Action::Kind::kStep, args, reply, has_reply);
    case 'C':
    case 'S': {  // Csig[;addr]: the signal means nothing to a bare CPU
      const size_t semi = args.find(';');
      return Resume(p[0] == 'C' ? Action::Kind::kContinue : Action::Kind::kStep,
                    semi == std::string_view::npos ? "" : args.substr(semi + 1), reply, has_reply);
    }
    case 'Z': *reply = Point(args, /*insert=*/true); return {};
    case 'z': *reply = Point(args, /*insert=*/false); return {};
    case 'H':
    case 'T': *reply = "OK"; return {};  // one thread: any thread selection is it
    case 'k': *has_reply = false; return {Action::Kind::kKill};
    case 'D': *reply = "OK"; return {Action::Kind::kDetach};
    case 'q':
    case 'Q': *reply = Query(p); return {};
    case 'v':
      if (StartsWith(p, "vCont")) return VCont(p.substr(5), reply, has_reply);
      if (StartsWith(p, "vKill")) {
        *reply = "OK";
        return {Action::Kind::kKill};
      }
      return {};  // vMustReplyEmpty and the rest: the empty reply
    default: return {};
  }
}

}  // namespace strobe::vmm::gdb
