// SPDX-License-Identifier: MIT
// Shared helpers of the instruction and runtime tests: register names, a tiny assembler on top of
// mips::Encode, exception handlers at the vectors, TLB set-up through the product's own TLBWI, and a
// Rellume-style runner for tables of (code, input registers, expected registers).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "tests/support/test_machine.h"

namespace strobe::test {

using mips::Opcode;

// GPR names (o32).
enum : uint32_t {
  zero = 0,
  at = 1,
  v0 = 2,
  v1 = 3,
  a0 = 4,
  a1 = 5,
  a2 = 6,
  a3 = 7,
  t0 = 8,
  t1 = 9,
  t2 = 10,
  t3 = 11,
  t4 = 12,
  t5 = 13,
  t6 = 14,
  t7 = 15,
  s0 = 16,
  s1 = 17,
  s2 = 18,
  s3 = 19,
  s4 = 20,
  s5 = 21,
  s6 = 22,
  s7 = 23,
  t8 = 24,
  t9 = 25,
  k0 = 26,
  k1 = 27,
  gp = 28,
  sp = 29,
  fp = 30,
  ra = 31,
};
// Pseudo register numbers for HI and LO in case tables.
inline constexpr unsigned kHi = 32, kLo = 33;

// CP0 register numbers.
enum : uint32_t {
  kCp0Index = 0,
  kCp0Random = 1,
  kCp0EntryLo0 = 2,
  kCp0EntryLo1 = 3,
  kCp0Context = 4,
  kCp0PageMask = 5,
  kCp0Wired = 6,
  kCp0HwrEna = 7,
  kCp0BadVAddr = 8,
  kCp0Count = 9,
  kCp0EntryHi = 10,
  kCp0Compare = 11,
  kCp0Status = 12,
  kCp0Cause = 13,
  kCp0Epc = 14,
  kCp0PrId = 15,
  kCp0Config = 16,
  kCp0ErrorEpc = 30,
};

// Guest memory layout used by the tests (physical addresses; code runs from the kseg0 alias).
inline constexpr uint32_t kKseg0 = 0x80000000u;
inline constexpr uint32_t kKseg1 = 0xA0000000u;
inline constexpr uint32_t kCodePa = 0x00010000u;
inline constexpr uint32_t kCode = kKseg0 | kCodePa;
inline constexpr uint32_t kDataPa = 0x00020000u;
inline constexpr uint32_t kData = kKseg0 | kDataPa;
inline constexpr uint32_t kRefillVector = 0x80000000u;
inline constexpr uint32_t kGeneralVector = 0x80000180u;
inline constexpr uint32_t kIntVector = 0x80000200u;

// --- Instruction shorthand ---
inline uint32_t Nop() {
  return 0;
}
inline uint32_t Addiu(uint32_t rt, uint32_t rs, int32_t imm) {
  return E(Opcode::ADDIU, {.rs = rs, .rt = rt, .imm = static_cast<uint32_t>(imm) & 0xFFFF});
}
inline uint32_t Addu(uint32_t rd, uint32_t rs, uint32_t rt) {
  return E(Opcode::ADDU, {.rs = rs, .rt = rt, .rd = rd});
}
inline uint32_t Lui(uint32_t rt, uint32_t imm) {
  return E(Opcode::LUI, {.rt = rt, .imm = imm & 0xFFFF});
}
inline uint32_t Ori(uint32_t rt, uint32_t rs, uint32_t imm) {
  return E(Opcode::ORI, {.rs = rs, .rt = rt, .imm = imm});
}
inline uint32_t Lw(uint32_t rt, int32_t off, uint32_t base) {
  return E(Opcode::LW, {.rs = base, .rt = rt, .imm = static_cast<uint32_t>(off) & 0xFFFF});
}
inline uint32_t Sw(uint32_t rt, int32_t off, uint32_t base) {
  return E(Opcode::SW, {.rs = base, .rt = rt, .imm = static_cast<uint32_t>(off) & 0xFFFF});
}
inline uint32_t Mfc0(uint32_t rt, uint32_t rd, uint32_t sel = 0) {
  return E(Opcode::MFC0, {.rt = rt, .rd = rd, .code = sel});
}
inline uint32_t Mtc0(uint32_t rt, uint32_t rd, uint32_t sel = 0) {
  return E(Opcode::MTC0, {.rt = rt, .rd = rd, .code = sel});
}
inline uint32_t Eret() {
  return E(Opcode::ERET, {});
}
inline uint32_t Syscall() {
  return E(Opcode::SYSCALL, {});
}
// Branch offsets are in words, relative to the delay slot.
inline uint32_t Beq(uint32_t rs, uint32_t rt, int32_t off) {
  return E(Opcode::BEQ, {.rs = rs, .rt = rt, .imm = static_cast<uint32_t>(off) & 0xFFFF});
}
inline uint32_t Bne(uint32_t rs, uint32_t rt, int32_t off) {
  return E(Opcode::BNE, {.rs = rs, .rt = rt, .imm = static_cast<uint32_t>(off) & 0xFFFF});
}
inline uint32_t Jr(uint32_t rs) {
  return E(Opcode::JR, {.rs = rs});
}

// A code buffer: words appended in order, with `li` expanded to LUI/ORI (always two words, so offsets
// stay predictable).
class Asm {
 public:
  Asm() = default;
  Asm(std::initializer_list<uint32_t> w) : words_(w) {}
  Asm& operator<<(uint32_t w) {
    words_.push_back(w);
    return *this;
  }
  Asm& operator<<(const Asm& other) {
    words_.insert(words_.end(), other.words_.begin(), other.words_.end());
    return *this;
  }
  Asm& Li(uint32_t rt, uint32_t value) {
    words_.push_back(Lui(rt, value >> 16));
    words_.push_back(Ori(rt, rt, value & 0xFFFF));
    return *this;
  }
  uint32_t size_bytes() const { return 4 * static_cast<uint32_t>(words_.size()); }
  const std::vector<uint32_t>& words() const { return words_; }

 private:
  std::vector<uint32_t> words_;
};

// --- Machine set-up ---
inline uint32_t ExcCodeOf(TestMachine& m) {
  return (m.cpu().cp0.cause >> 2) & 0x1F;
}
inline bool BdOf(TestMachine& m) {
  return (m.cpu().cp0.cause >> 31) != 0;
}
inline uint32_t CeOf(TestMachine& m) {
  return (m.cpu().cp0.cause >> 28) & 3;
}

// WAIT at the refill, general and interrupt vectors: the run halts in the handler (Status.IE=0) with the
// PC one word past the vector, and the test inspects CP0 directly.
inline void InstallHaltHandlers(TestMachine& m) {
  m.Write32(0x000, kWaitWord);
  m.Write32(0x180, kWaitWord);
  m.Write32(0x200, kWaitWord);
}

// For interrupt tests: at the general and interrupt vectors, save Status in k1, clear Status (so that the
// WAIT halts even with IE and IM bits set) and WAIT. The run stops with the PC at vector + 12.
inline void InstallInterruptHandlers(TestMachine& m) {
  for (uint32_t v : {0x180u, 0x200u})
    m.LoadCode(v,
               {E(Opcode::MFC0, {.rt = k1, .rd = 12}), E(Opcode::MTC0, {.rt = zero, .rd = 12}), kWaitWord});
  m.Write32(0x000, kWaitWord);
}

// A general-exception handler that counts exceptions in s7, keeps the last Cause in s6, skips the faulting
// instruction (EPC += 4) and returns with ERET. The refill vector still halts.
inline void InstallSkipHandler(TestMachine& m) {
  m.LoadCode(0x180, {Mfc0(s6, kCp0Cause), Mfc0(k0, kCp0Epc), Addiu(k0, k0, 4), Mtc0(k0, kCp0Epc),
                     Addiu(s7, s7, 1), Eret()});
  m.Write32(0x000, kWaitWord);
}

// Loads code at kCodePa and runs it from kCode.
inline vmm::VmExit RunCode(TestMachine& m, const Asm& code, uint64_t max_instructions = 100000) {
  m.LoadCode(kCodePa, code.words());
  return m.Run(kCode, max_instructions);
}

// EntryLo value for a 4 KiB-aligned physical address (cacheable, C=3).
inline uint32_t EntryLo(uint32_t pa, bool dirty, bool valid, bool global = false) {
  return ((pa >> 12) << 6) | (3u << 3) | (dirty ? 4u : 0u) | (valid ? 2u : 0u) | (global ? 1u : 0u);
}

// Writes TLB entry `index` through the product's TLBWI path, then restores EntryHi/PageMask/EntryLo.
inline void WriteTlb(TestMachine& m, unsigned index, uint32_t entryhi, uint32_t lo0, uint32_t lo1,
                     uint32_t pagemask = 0) {
  runtime::CpuState& c = m.cpu();
  const uint32_t saved_hi = c.cp0.entryhi;
  runtime::WriteCp0(c, kCp0Index, 0, index);
  runtime::WriteCp0(c, kCp0EntryLo0, 0, lo0);
  runtime::WriteCp0(c, kCp0EntryLo1, 0, lo1);
  runtime::WriteCp0(c, kCp0PageMask, 0, pagemask);
  runtime::WriteCp0(c, kCp0EntryHi, 0, entryhi);
  runtime::Tlbwi(c);
  runtime::WriteCp0(c, kCp0EntryHi, 0, saved_hi);
  runtime::WriteCp0(c, kCp0PageMask, 0, 0);
  runtime::WriteCp0(c, kCp0EntryLo0, 0, 0);
  runtime::WriteCp0(c, kCp0EntryLo1, 0, 0);
}

// Switches the vCPU to user mode (KSU=2, EXL=ERL=0); extra_status may add CU0 and the like.
inline void EnterUserMode(TestMachine& m, uint32_t extra_status = 0) {
  m.cpu().cp0.status = (2u << runtime::st::KSU_SHIFT) | extra_status;
  runtime::UpdateMode(m.cpu());
}

// User-mode code lives at VA kUserCode (even page, PA kUserCodePa) with a data page beside it (odd page).
inline constexpr uint32_t kUserCode = 0x00400000u;
inline constexpr uint32_t kUserData = 0x00401000u;
inline constexpr uint32_t kUserCodePa = 0x00030000u;
inline constexpr uint32_t kUserDataPa = 0x00031000u;

// Maps the user page pair (TLB entry 0, ASID 0), loads code, enters user mode and runs.
inline vmm::VmExit RunUserCode(TestMachine& m, const Asm& code, uint32_t extra_status = 0) {
  WriteTlb(m, 0, kUserCode, EntryLo(kUserCodePa, true, true), EntryLo(kUserDataPa, true, true));
  m.LoadCode(kUserCodePa, code.words());
  EnterUserMode(m, extra_status);
  return m.Run(kUserCode, 100000);
}

// --- Rellume-style case tables ---
struct RegVal {
  unsigned reg;  // 0..31, kHi, kLo
  uint32_t value;
};
struct InsnCase {
  std::string text;  // assembly, shown when the case fails
  Asm code;          // runs from kCode and falls through to a WAIT
  std::vector<RegVal> in;
  std::vector<RegVal> out;  // every register not named here must keep its input value
};

// Runs each case on a fresh machine: registers are zeroed, inputs applied, code + WAIT executed, and then
// all 32 GPRs, HI and LO are compared with the inputs overlaid by the expected outputs. `setup` may fill
// guest memory first.
inline void RunCases(const std::vector<InsnCase>& cases,
                     const std::function<void(TestMachine&)>& setup = {}) {
  for (const InsnCase& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    ASSERT_TRUE(m.booted());
    InstallHaltHandlers(m);
    if (setup) setup(m);
    runtime::CpuState& c = m.cpu();
    uint32_t expect[34] = {};
    for (const RegVal& r : k.in) expect[r.reg] = r.value;
    for (unsigned i = 0; i < 32; ++i) c.gpr[i] = expect[i];
    c.hi = expect[kHi];
    c.lo = expect[kLo];
    for (const RegVal& r : k.out) expect[r.reg] = r.value;
    Asm code = k.code;
    code << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes()) << "an exception was taken: ExcCode " << ExcCodeOf(m);
    for (unsigned i = 0; i < 32; ++i) EXPECT_EQ(c.gpr[i], expect[i]) << "GPR " << i;
    EXPECT_EQ(c.hi, expect[kHi]) << "HI";
    EXPECT_EQ(c.lo, expect[kLo]) << "LO";
  }
}

}  // namespace strobe::test
