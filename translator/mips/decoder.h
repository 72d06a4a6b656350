// SPDX-License-Identifier: MIT
// Decoding MIPS32 words into pre-decoded operations, driven by mips32.inc.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace strobe::mips {

// Per-encoding properties (the flags column of mips32.inc).
enum InsnFlags : uint16_t {
  kBranch = 1 << 0,
  kLikely = 1 << 1,
  kEndsBlock = 1 << 2,
  kMemory = 1 << 3,
  kPrivileged = 1 << 4,
  kCop1 = 1 << 5,
  kCop2 = 1 << 6,
};

enum class Opcode : uint16_t {
#define INSN(name, pattern, flags) name,
#include "translator/mips/mips32.inc"
#undef INSN
  kInvalid,  // no table entry matches: Reserved Instruction
  kCount
};

inline constexpr size_t kNumOpcodes = static_cast<size_t>(Opcode::kInvalid);

// One row of the encoding table with the mask and match derived from its pattern at compile time.
struct Encoding {
  Opcode op;
  std::string_view name;
  std::string_view pattern;
  uint32_t mask;
  uint32_t match;
  uint16_t flags;
};

namespace detail {
consteval uint32_t PatternBits(std::string_view p, bool want_mask) {
  uint32_t mask = 0, match = 0;
  int n = 0;
  for (char ch : p) {
    if (ch == ' ') continue;
    mask <<= 1;
    match <<= 1;
    if (ch == '0' || ch == '1') {
      mask |= 1;
      match |= (ch == '1');
    }
    ++n;
  }
  if (n != 32) throw "pattern must have 32 bits";  // compile-time error in a consteval context
  return want_mask ? mask : match;
}
}  // namespace detail

inline constexpr std::array<Encoding, kNumOpcodes> kEncodings = {{
#define INSN(name, pattern, flags)              \
  Encoding{Opcode::name,                        \
           #name,                               \
           pattern,                             \
           detail::PatternBits(pattern, true),  \
           detail::PatternBits(pattern, false), \
           static_cast<uint16_t>(flags)},
#include "translator/mips/mips32.inc"
#undef INSN
}};

// A decoded instruction: fixed MIPS field positions, so every field is extracted for every encoding and the
// handler reads the ones its pattern names.
struct DecodedInsn {
  Opcode op = Opcode::kInvalid;
  uint16_t flags = 0;
  uint8_t rs = 0, rt = 0, rd = 0, sa = 0;
  uint32_t raw = 0;

  int32_t simm() const { return static_cast<int16_t>(raw & 0xFFFF); }
  uint32_t uimm() const { return raw & 0xFFFF; }
  uint32_t target26() const { return raw & 0x03FFFFFF; }
  uint32_t sel() const { return raw & 7; }
};

// Table-driven decode; Opcode::kInvalid for words that no row matches.
DecodedInsn Decode(uint32_t word);
// The flags one instance of a row has: the row's, except that MTC0 to a register whose write only stores a
// value (PlainCp0Register) does not end a block.
uint16_t InstanceFlags(const Encoding& e, uint32_t word);
// CP0 registers whose writes only store a value that later instructions read: not the mode, the ASID,
// interrupts, the timer or the exception base, which translated code and the dispatcher act on.
bool PlainCp0Register(unsigned reg, unsigned sel);
// Block-ending instructions after which the CPU goes on at the next instruction unless what the block
// ended for happened: MTC0 (the mode, the ASID, an interrupt made deliverable) and EI (an interrupt). Code
// emitters run the next block without leaving when the soft TLB table (the mode), the ASID and the exit
// request are as before; ERET, SYSCALL, WAIT and the rest always leave.
inline bool GoesOnAfter(const DecodedInsn& d) {
  return d.op == Opcode::MTC0 || d.op == Opcode::EI;
}
const Encoding& EncodingOf(Opcode op);
std::string_view NameOf(Opcode op);

}  // namespace strobe::mips
