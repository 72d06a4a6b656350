// SPDX-License-Identifier: MIT
// Seeded random code sequences drawn from mips32.inc's rows (mips::kEncodings) for the Unicorn differential
// tests. Each integer row of the table is either allowed (kAllowed: how its fields are drawn) or denied
// (kDenied: why it stays out of the random mix); the FPU rows (kCop1) have their own generator with the same
// two lists (fpu_generator.h). DiffCoverage.EveryRowIsAllowedOrDenied keeps the lists complete.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "tests/diff/diff_harness.h"
#include "translator/mips/encoder.h"

namespace strobe::test::diff {

using mips::Opcode;

// How a row's fields are drawn and where it may stand in a sequence.
enum class Kind : uint8_t {
  kPlain,     // every field random; destinations ('t', 'd') never the base register
  kExt,       // EXT: pos + size <= 32 (larger is UNPREDICTABLE, MIPS32 Vol. II EXT Restrictions)
  kIns,       // INS: msb >= lsb, i.e. pos + size <= 32 (otherwise UNPREDICTABLE, INS Restrictions)
  kMemory,    // base = kBaseReg, offset inside the data buffer and naturally aligned (align column)
  kLl,        // LL ... SC to the same word with only register operations between (see LlScUnit)
  kSc,        // only inside an LL/SC unit, or first in a sequence where no LL has run (always fails)
  kBranch,    // PC-relative branch: forward to a unit start after its delay slot
  kJump,      // J/JAL: absolute target, forward as for branches
  kJumpReg,   // JR/JALR: target built in a register by LUI/ORI just before
  kTrapping,  // may raise an exception (overflow, trap, SYSCALL, BREAK): only in exception sequences
};

struct AllowedRow {
  Opcode op;
  Kind kind;
  uint8_t align;   // kMemory/kLl/kSc: natural alignment of the access
  uint8_t weight;  // relative frequency in the random mix
};

// clang-format off
inline constexpr AllowedRow kAllowed[] = {
  // Shifts and rotates
  {Opcode::SLL, Kind::kPlain, 0, 3}, {Opcode::SRL, Kind::kPlain, 0, 3}, {Opcode::ROTR, Kind::kPlain, 0, 3},
  {Opcode::SRA, Kind::kPlain, 0, 3}, {Opcode::SLLV, Kind::kPlain, 0, 3}, {Opcode::SRLV, Kind::kPlain, 0, 3},
  {Opcode::ROTRV, Kind::kPlain, 0, 3}, {Opcode::SRAV, Kind::kPlain, 0, 3},
  // Three-register ALU, conditional moves
  {Opcode::ADDU, Kind::kPlain, 0, 4}, {Opcode::SUBU, Kind::kPlain, 0, 4}, {Opcode::AND, Kind::kPlain, 0, 3},
  {Opcode::OR, Kind::kPlain, 0, 3}, {Opcode::XOR, Kind::kPlain, 0, 3}, {Opcode::NOR, Kind::kPlain, 0, 3},
  {Opcode::SLT, Kind::kPlain, 0, 3}, {Opcode::SLTU, Kind::kPlain, 0, 3}, {Opcode::MOVZ, Kind::kPlain, 0, 3},
  {Opcode::MOVN, Kind::kPlain, 0, 3},
  // Immediate ALU
  {Opcode::ADDIU, Kind::kPlain, 0, 4}, {Opcode::SLTI, Kind::kPlain, 0, 3}, {Opcode::SLTIU, Kind::kPlain, 0, 3},
  {Opcode::ANDI, Kind::kPlain, 0, 3}, {Opcode::ORI, Kind::kPlain, 0, 3}, {Opcode::XORI, Kind::kPlain, 0, 3},
  {Opcode::LUI, Kind::kPlain, 0, 3},
  // Multiply, divide, HI/LO
  {Opcode::MULT, Kind::kPlain, 0, 3}, {Opcode::MULTU, Kind::kPlain, 0, 3}, {Opcode::DIV, Kind::kPlain, 0, 3},
  {Opcode::DIVU, Kind::kPlain, 0, 3}, {Opcode::MUL, Kind::kPlain, 0, 3}, {Opcode::MADD, Kind::kPlain, 0, 3},
  {Opcode::MADDU, Kind::kPlain, 0, 3}, {Opcode::MSUB, Kind::kPlain, 0, 3}, {Opcode::MSUBU, Kind::kPlain, 0, 3},
  {Opcode::MFHI, Kind::kPlain, 0, 3}, {Opcode::MFLO, Kind::kPlain, 0, 3}, {Opcode::MTHI, Kind::kPlain, 0, 2},
  {Opcode::MTLO, Kind::kPlain, 0, 2},
  // Counting, bit fields, byte shuffles
  {Opcode::CLZ, Kind::kPlain, 0, 3}, {Opcode::CLO, Kind::kPlain, 0, 3}, {Opcode::EXT, Kind::kExt, 0, 3},
  {Opcode::INS, Kind::kIns, 0, 3}, {Opcode::WSBH, Kind::kPlain, 0, 3}, {Opcode::SEB, Kind::kPlain, 0, 3},
  {Opcode::SEH, Kind::kPlain, 0, 3},
  // Hints and barriers (no architectural effect on GPRs or memory: they must simply not disturb anything)
  {Opcode::SYNC, Kind::kPlain, 0, 1}, {Opcode::PREF, Kind::kMemory, 1, 1}, {Opcode::SYNCI, Kind::kMemory, 1, 1},
  // Loads and stores
  {Opcode::LB, Kind::kMemory, 1, 3}, {Opcode::LBU, Kind::kMemory, 1, 3}, {Opcode::LH, Kind::kMemory, 2, 3},
  {Opcode::LHU, Kind::kMemory, 2, 3}, {Opcode::LW, Kind::kMemory, 4, 3}, {Opcode::LWL, Kind::kMemory, 1, 3},
  {Opcode::LWR, Kind::kMemory, 1, 3}, {Opcode::SB, Kind::kMemory, 1, 3}, {Opcode::SH, Kind::kMemory, 2, 3},
  {Opcode::SW, Kind::kMemory, 4, 3}, {Opcode::SWL, Kind::kMemory, 1, 3}, {Opcode::SWR, Kind::kMemory, 1, 3},
  {Opcode::LL, Kind::kLl, 4, 2}, {Opcode::SC, Kind::kSc, 4, 1},
  // Branches and jumps
  {Opcode::BEQ, Kind::kBranch, 0, 2}, {Opcode::BNE, Kind::kBranch, 0, 2}, {Opcode::BLEZ, Kind::kBranch, 0, 1},
  {Opcode::BGTZ, Kind::kBranch, 0, 1}, {Opcode::BLTZ, Kind::kBranch, 0, 1}, {Opcode::BGEZ, Kind::kBranch, 0, 1},
  {Opcode::BLTZAL, Kind::kBranch, 0, 1}, {Opcode::BGEZAL, Kind::kBranch, 0, 1},
  {Opcode::BEQL, Kind::kBranch, 0, 1}, {Opcode::BNEL, Kind::kBranch, 0, 1}, {Opcode::BLEZL, Kind::kBranch, 0, 1},
  {Opcode::BGTZL, Kind::kBranch, 0, 1}, {Opcode::BLTZL, Kind::kBranch, 0, 1}, {Opcode::BGEZL, Kind::kBranch, 0, 1},
  {Opcode::BLTZALL, Kind::kBranch, 0, 1}, {Opcode::BGEZALL, Kind::kBranch, 0, 1},
  {Opcode::J, Kind::kJump, 0, 1}, {Opcode::JAL, Kind::kJump, 0, 1}, {Opcode::JR, Kind::kJumpReg, 0, 1},
  {Opcode::JALR, Kind::kJumpReg, 0, 1},
  // Exceptions, compared in exception sequences (kind and faulting PC)
  {Opcode::ADD, Kind::kTrapping, 0, 3}, {Opcode::ADDI, Kind::kTrapping, 0, 3}, {Opcode::SUB, Kind::kTrapping, 0, 3},
  {Opcode::TGE, Kind::kTrapping, 0, 1}, {Opcode::TGEU, Kind::kTrapping, 0, 1}, {Opcode::TLT, Kind::kTrapping, 0, 1},
  {Opcode::TLTU, Kind::kTrapping, 0, 1}, {Opcode::TEQ, Kind::kTrapping, 0, 1}, {Opcode::TNE, Kind::kTrapping, 0, 1},
  {Opcode::TGEI, Kind::kTrapping, 0, 1}, {Opcode::TGEIU, Kind::kTrapping, 0, 1},
  {Opcode::TLTI, Kind::kTrapping, 0, 1}, {Opcode::TLTIU, Kind::kTrapping, 0, 1},
  {Opcode::TEQI, Kind::kTrapping, 0, 1}, {Opcode::TNEI, Kind::kTrapping, 0, 1},
  {Opcode::SYSCALL, Kind::kTrapping, 0, 1}, {Opcode::BREAK, Kind::kTrapping, 0, 1},
};

struct DeniedRow {
  Opcode op;
  const char* reason;
};

inline constexpr DeniedRow kDenied[] = {
  {Opcode::MFC0, "CP0 contents are configuration-specific (PRId, Config*, Count ...): 24Kc-like vs Unicorn's 74Kf"},
  {Opcode::MTC0, "changes privileged state (Status, EBase, TLB registers) that the harness relies on"},
  {Opcode::RDPGPR, "shadow register sets: Strobe has one set, Unicorn's SRSCtl differs; not user-visible ISA"},
  {Opcode::WRPGPR, "shadow register sets, as RDPGPR"},
  {Opcode::DI, "changes Status.IE; privileged, its result (old Status) is configuration-specific"},
  {Opcode::EI, "enables interrupts (Strobe's timer may fire); privileged, result is configuration-specific"},
  {Opcode::TLBR, "TLB state: Unicorn maps addresses directly (no MIPS TLB in its soft-MMU path)"},
  {Opcode::TLBWI, "TLB state, as TLBR"},
  {Opcode::TLBWR, "TLB state, as TLBR; Random also differs by design"},
  {Opcode::TLBP, "TLB state, as TLBR"},
  {Opcode::ERET, "returns to EPC/ErrorEPC with no delay slot: the harness does not set up an exception frame"},
  {Opcode::WAIT, "the harness's own halt instruction (Strobe halts on it, Unicorn stops at it)"},
  {Opcode::COP2, "Unicorn raises Reserved Instruction, not the architectural Coprocessor Unusable (CU2=0)"},
  {Opcode::LWC2, "COP2 access: Unicorn raises RI instead of Coprocessor Unusable, as COP2"},
  {Opcode::LDC2, "COP2 access, as LWC2"},
  {Opcode::SWC2, "COP2 access, as LWC2"},
  {Opcode::SDC2, "COP2 access, as LWC2"},
  {Opcode::CACHE, "cache maintenance has no GPR/memory effect in either engine; some QEMU index ops touch CP0 tags"},
  {Opcode::RDHWR, "hardware registers are implementation values (CPUNum, SYNCI_Step, CC the cycle counter, CCRes)"},
};
// clang-format on

// --- Random values ---

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint32_t Bits() { return static_cast<uint32_t>(g_()); }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(g_() % n); }
  bool Chance(unsigned percent) { return Below(100) < percent; }

  // Register/operand values: edge values often, small values often, otherwise uniform.
  uint32_t Value() {
    static constexpr uint32_t kEdges[] = {0,           1,           0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu,
                                          0x80000001u, 0xFFFFFFFEu, 0x0000FFFFu, 0x00008000u, 0x00007FFFu,
                                          0xFFFF0000u, 0xFFFF8000u, 0x000000FFu, 0x00000080u, 0x00FF00FFu};
    uint32_t r = Below(100);
    if (r < 12)
      return Below(2) ? 0x80000000u : (Below(2) ? 0xFFFFFFFFu : 0u);  // INT_MIN, -1, 0: mul/div edges
    if (r < 30) return kEdges[Below(std::size(kEdges))];
    if (r < 60) return static_cast<uint32_t>(static_cast<int32_t>(Below(601)) - 300);
    return Bits();
  }
  uint32_t Imm16() {
    uint32_t r = Below(100);
    if (r < 30) return static_cast<uint32_t>(static_cast<int32_t>(Below(33)) - 16) & 0xFFFF;
    if (r < 40) return std::array<uint32_t, 4>{0, 0x7FFF, 0x8000, 0xFFFF}[Below(4)];
    return Bits() & 0xFFFF;
  }
  uint32_t Shift() {
    uint32_t r = Below(100);
    if (r < 15) return 0;
    if (r < 30) return 31;
    return Below(32);
  }

 private:
  std::mt19937_64 g_;
};

// --- Sequences ---

struct SequenceOptions {
  unsigned min_insns = 20, max_insns = 60;
  bool exceptions = false;  // allow kTrapping rows and misaligned accesses (the run stops at the first fault)
};

// The table row for op (the encoder takes the row, so the table stays the single source of encodings).
inline const mips::Encoding& Row(Opcode op) {
  return mips::kEncodings[static_cast<size_t>(op)];
}

// Random GPRs, HI/LO and data buffer, with the memory base register pointing at the buffer: the starting
// state of every random sequence (the FPU generator adds FPRs and the FCSR on top).
inline GuestState RandomIntegerState(Rng& rng) {
  GuestState s;
  for (int r = 1; r < 32; ++r) s.gpr[r] = rng.Value();
  s.gpr[kBaseReg] = kBasePtr;
  s.hi = rng.Value();
  s.lo = rng.Value();
  for (auto& b : s.data) b = static_cast<uint8_t>(rng.Bits());
  return s;
}

class SequenceGenerator {
 public:
  SequenceGenerator(uint64_t seed, SequenceOptions opt) : rng_(seed), opt_(opt) {
    for (unsigned i = 0; hot_.size() < 6; ++i) {
      unsigned r = 1 + rng_.Below(31);
      if (r != kBaseReg && std::find(hot_.begin(), hot_.end(), r) == hot_.end()) hot_.push_back(r);
    }
  }

  Rng& rng() { return rng_; }

  GuestState InitialState() { return RandomIntegerState(rng_); }

  Program Generate() {
    items_.clear();
    const unsigned n = opt_.min_insns + rng_.Below(opt_.max_insns - opt_.min_insns + 1);
    if (rng_.Chance(10)) EmitMemory(Opcode::SC, true);  // a lone SC before any LL: fails in both engines
    while (items_.size() < n) EmitUnit();
    items_.push_back({kWaitWord, Opcode::WAIT, Fixup::kNone, true, 0});
    ResolveTargets();
    return Layout();
  }

 private:
  enum class Fixup : uint8_t { kNone, kBranch16, kJump26, kLuiHi, kOriLo };
  struct Item {
    uint32_t word;
    Opcode op;
    Fixup fixup;
    bool unit_start;
    size_t target;  // item index, for fixups
  };

  unsigned Reg() { return rng_.Chance(50) ? hot_[rng_.Below(hot_.size())] : rng_.Below(32); }
  unsigned DestReg() {
    for (;;)
      if (unsigned r = Reg(); r != kBaseReg) return r;
  }

  void Push(Opcode op, const mips::Fields& f, bool unit_start, Fixup fixup = Fixup::kNone) {
    items_.push_back({mips::Encode(Row(op), f), op, fixup, unit_start, 0});
  }

  const AllowedRow& Draw(bool allow_control) {
    std::vector<const AllowedRow*> rows;
    std::vector<unsigned> weights;
    for (const AllowedRow& r : kAllowed) {
      bool control = r.kind == Kind::kBranch || r.kind == Kind::kJump || r.kind == Kind::kJumpReg ||
                     r.kind == Kind::kLl || r.kind == Kind::kSc;
      if (control && !allow_control) continue;
      if (r.kind == Kind::kSc) continue;  // only emitted by the LL/SC unit or at the start
      if (r.kind == Kind::kTrapping && !opt_.exceptions) continue;
      rows.push_back(&r);
      weights.push_back(r.weight);
    }
    std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
    std::mt19937 g(rng_.Bits());
    return *rows[pick(g)];
  }

  mips::Fields RandomFields(Opcode op) {
    mips::Fields f;
    f.rs = Reg();
    f.rt = DestReg();
    f.rd = DestReg();
    f.sa = rng_.Shift();
    f.imm = rng_.Imm16();
    f.code = rng_.Bits();
    f.op = rng_.Below(32);
    if (rng_.Chance(20)) f.rt = f.rs == kBaseReg ? f.rt : f.rs;  // equal operands: BEQ/TEQ taken, SUBU zero
    switch (op) {
      case Opcode::BLTZAL:
      case Opcode::BGEZAL:
      case Opcode::BLTZALL:
      case Opcode::BGEZALL:
        if (f.rs == 31) f.rs = 0;  // rs = 31 is UNPREDICTABLE for the linking branches (not restartable)
        break;
      case Opcode::CLZ:
      case Opcode::CLO:
        f.rt = f.rd;  // rt and rd must name the same GPR, else UNPREDICTABLE (Vol. II CLZ/CLO Restrictions)
        break;
      default: break;
    }
    return f;
  }

  // One instruction that can stand alone (also the filler of delay slots and LL/SC units). Between LL and SC
  // only register operations may stand: memory accesses, PREF, SYNC or an exception there make the SC's
  // outcome implementation-dependent (Vol. II SC).
  void EmitSimple(bool unit_start, bool registers_only) {
    const AllowedRow* r;
    do {
      r = &Draw(false);
    } while (registers_only && ((r->kind != Kind::kPlain && r->kind != Kind::kExt && r->kind != Kind::kIns) ||
                                r->op == Opcode::SYNC));
    mips::Fields f = RandomFields(r->op);
    switch (r->kind) {
      case Kind::kExt:
        f.sa = rng_.Below(32);         // pos
        f.rd = rng_.Below(32 - f.sa);  // size - 1, so that pos + size <= 32
        break;
      case Kind::kIns:
        f.sa = rng_.Below(32);                // lsb = pos
        f.rd = f.sa + rng_.Below(32 - f.sa);  // msb = pos + size - 1 >= lsb
        break;
      case Kind::kMemory: EmitMemory(r->op, unit_start); return;
      default: break;
    }
    Push(r->op, f, unit_start);
  }

  // An offset from kBaseReg that stays inside the data buffer.
  int32_t RandomOffset() {
    return static_cast<int32_t>(rng_.Below(kDataBytes)) - static_cast<int32_t>(kDataBytes / 2);
  }

  // A load/store with base kBaseReg and an offset inside the buffer, aligned unless a fault is wanted.
  void EmitMemory(Opcode op, bool unit_start, std::optional<int32_t> offset = std::nullopt) {
    const AllowedRow* row = nullptr;
    for (const AllowedRow& r : kAllowed)
      if (r.op == op) row = &r;
    mips::Fields f = RandomFields(op);
    f.rs = kBaseReg;
    int32_t off = offset ? *offset : RandomOffset();
    off &= ~static_cast<int32_t>(row->align - 1);
    if (opt_.exceptions && row->align > 1 && op != Opcode::SC && rng_.Chance(5))
      off |= 1 + rng_.Below(row->align - 1);
    f.imm = static_cast<uint32_t>(off) & 0xFFFF;
    Push(op, f, unit_start);
  }

  void EmitUnit() {
    const AllowedRow& r = Draw(true);
    switch (r.kind) {
      case Kind::kLl: {  // LL rt, off(base); 0-3 register operations; SC rt2, off(base)
        const int32_t off = RandomOffset() & ~3;
        EmitMemory(Opcode::LL, true, off);
        for (unsigned k = rng_.Below(4); k; --k) EmitSimple(false, true);
        EmitMemory(Opcode::SC, false, off);
        return;
      }
      case Kind::kBranch: {
        Push(r.op, RandomFields(r.op), true, Fixup::kBranch16);
        EmitSimple(false, false);  // the delay slot
        return;
      }
      case Kind::kJump: {
        Push(r.op, RandomFields(r.op), true, Fixup::kJump26);
        EmitSimple(false, false);
        return;
      }
      case Kind::kJumpReg: {  // LUI t, hi; ORI t, t, lo; JR t / JALR rd, t; delay slot
        unsigned t = DestReg();
        while (t == 0) t = DestReg();
        Push(Opcode::LUI, {.rt = t}, true, Fixup::kLuiHi);
        Push(Opcode::ORI, {.rs = t, .rt = t}, false, Fixup::kOriLo);
        mips::Fields f{.rs = t, .rd = DestReg(), .code = rng_.Chance(30) ? 16u : 0u};  // hint 0 or .HB
        if (f.rd == t) f.rd = 0;  // JALR with rd = rs is UNPREDICTABLE (not restartable)
        if (r.op == Opcode::JR) f.rd = 0;
        Push(r.op, f, false);
        EmitSimple(false, false);
        return;
      }
      default: EmitSimple(true, false); return;
    }
  }

  // Every control transfer goes forward to a unit start after its delay slot (at the latest the final WAIT).
  void ResolveTargets() {
    for (size_t i = 0; i < items_.size(); ++i) {
      Item& it = items_[i];
      if (it.fixup != Fixup::kBranch16 && it.fixup != Fixup::kJump26 && it.fixup != Fixup::kLuiHi) continue;
      size_t branch = it.fixup == Fixup::kLuiHi ? i + 2 : i;
      std::vector<size_t> starts;
      for (size_t k = branch + 2; k < items_.size(); ++k)
        if (items_[k].unit_start) starts.push_back(k);
      size_t pick =
          rng_.Chance(60) ? rng_.Below(std::min<size_t>(3, starts.size())) : rng_.Below(starts.size());
      it.target = starts[pick];
      if (it.fixup == Fixup::kLuiHi) items_[i + 1].target = it.target;
    }
  }

  Program Layout() {
    Program p;
    const uint32_t n = static_cast<uint32_t>(items_.size());
    std::vector<size_t> branches;
    for (size_t i = 0; i < items_.size(); ++i)
      if (mips::Decode(items_[i].word).flags & mips::kBranch) branches.push_back(i);
    const uint32_t page_end = kCodeVaddr + 0x1000;
    uint32_t r = rng_.Below(100);
    if (r < 25 && !branches.empty()) {  // a branch in a page's last word, its delay slot on the next page
      p.start = page_end - 4 * static_cast<uint32_t>(branches[rng_.Below(branches.size())] + 1);
    } else if (r < 45) {  // the sequence straddles the page boundary somewhere
      p.start = page_end - 4 * (1 + rng_.Below(n - 1));
    } else {
      p.start = kCodeVaddr + 4 * rng_.Below(64);
    }
    for (size_t i = 0; i < items_.size(); ++i) {
      const Item& it = items_[i];
      uint32_t pc = p.start + 4 * static_cast<uint32_t>(i);
      uint32_t target = p.start + 4 * static_cast<uint32_t>(it.target);
      uint32_t w = it.word;
      switch (it.fixup) {
        case Fixup::kBranch16: w = (w & ~0xFFFFu) | (((target - pc - 4) >> 2) & 0xFFFF); break;
        case Fixup::kJump26: w = (w & ~0x03FFFFFFu) | ((target >> 2) & 0x03FFFFFF); break;
        case Fixup::kLuiHi: w = (w & ~0xFFFFu) | (target >> 16); break;
        case Fixup::kOriLo: w = (w & ~0xFFFFu) | (target & 0xFFFF); break;
        case Fixup::kNone: break;
      }
      p.words.push_back(w);
    }
    return p;
  }

  Rng rng_;
  SequenceOptions opt_;
  std::vector<unsigned> hot_;
  std::vector<Item> items_;
};

}  // namespace strobe::test::diff
