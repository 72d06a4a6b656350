// SPDX-License-Identifier: MIT
// The gdb remote protocol's commands (GDB manual, appendix E "Packets", "Stop Reply Packets", "General
// Query Packets") for one all-stop target with one thread, as QEMU's gdbstub answers them for a MIPS32
// little-endian CPU. The session only parses and formats; what it reads and changes is a DebugTarget
// (vm_target.h for a Strobe VM; the tests use a fake), and what it cannot do itself (resume, step, detach,
// kill) it returns as an Action for the transport (gdb_server.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strobe::vmm::gdb {

// Register numbers in gdb's raw layout for mips:isa32r2 without a target description (mips-tdep.c; QEMU's
// target/mips/gdbstub.c): 0-31 the GPRs, then sr, lo, hi, bad, cause, pc, 32 FPRs, fsr, fir, and fp (always
// 0).
namespace reg {
inline constexpr unsigned kStatus = 32, kLo = 33, kHi = 34, kBadVAddr = 35, kCause = 36, kPc = 37, kFpr0 = 38,
                          kFcsr = 70, kFir = 71, kFramePointer = 72, kPrid = 89;
inline constexpr unsigned kInG = 73;   // registers in a `g` reply, as QEMU sends (0-72); 72 (0-71) once
                                       // gdb has read the target description (target_xml.h)
inline constexpr unsigned kLast = 89;  // the highest number `p` answers (73-88 are embedded ones: 0)
}  // namespace reg

enum class BreakType : uint8_t { kSoftware = 0, kHardware = 1, kWrite = 2, kRead = 3, kAccess = 4 };

class DebugTarget {
 public:
  virtual ~DebugTarget() = default;
  virtual bool ReadRegister(unsigned n, uint32_t* value) = 0;  // false: no such register
  virtual bool WriteRegister(unsigned n, uint32_t value) = 0;
  // Guest-virtual memory; return how many bytes from the start could be read or written.
  virtual size_t ReadMemory(uint32_t addr, uint8_t* out, size_t size) = 0;
  virtual size_t WriteMemory(uint32_t addr, const uint8_t* data, size_t size) = 0;
  // Z/z packets: false when the point cannot be set (or was not set, for a removal).
  virtual bool InsertPoint(BreakType type, uint32_t addr, uint32_t len) = 0;
  virtual bool RemovePoint(BreakType type, uint32_t addr, uint32_t len) = 0;
};

// Why the target stopped, for the stop reply.
struct StopEvent {
  enum class Kind : uint8_t { kTrap, kBreakpoint, kWatch, kInterrupt, kExited };
  Kind kind = Kind::kTrap;
  BreakType watch_type = BreakType::kWrite;  // kWatch: which kind of watchpoint
  uint32_t watch_addr = 0;                   // kWatch: the watchpoint's address
  int exit_status = 0;                       // kExited
  bool hardware = false;                     // kBreakpoint: set with Z1 (reported as hwbreak)
};

class GdbSession {
 public:
  explicit GdbSession(DebugTarget& target) : target_(target) {}

  struct Action {
    enum class Kind : uint8_t { kNone, kContinue, kStep, kDetach, kKill };
    Kind kind = Kind::kNone;
  };
  // One packet's payload. *reply is what to send back (an empty string is the "unsupported" reply) unless
  // *has_reply is false (c, s and k answer later or never).
  Action Handle(std::string_view packet, std::string* reply, bool* has_reply);
  // The stop reply packet (T05thread:01; with swbreak:/watch: as negotiated, W for an exit).
  std::string StopReply(const StopEvent& e) const;
  // The last stop, which `?` reports.
  void set_last_stop(const StopEvent& e) { last_stop_ = e; }
  bool no_ack() const { return no_ack_; }

 private:
  std::string ReadRegisters();
  std::string WriteRegisters(std::string_view hex);
  std::string ReadMemory(std::string_view args);
  std::string WriteMemory(std::string_view args, bool binary);
  std::string Point(std::string_view args, bool insert);
  std::string Query(std::string_view packet);
  Action VCont(std::string_view args, std::string* reply, bool* has_reply);
  Action Resume(Action::Kind kind, std::string_view addr, std::string* reply, bool* has_reply);

  DebugTarget& target_;
  StopEvent last_stop_;
  bool no_ack_ = false;
  bool swbreak_ = false;  // gdb said swbreak+ / hwbreak+ in qSupported
  bool hwbreak_ = false;
  bool described_ = false;  // gdb read the target description (target_xml.h)
};

}  // namespace strobe::vmm::gdb
