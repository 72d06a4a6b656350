// SPDX-License-Identifier: MIT
// Seeded random FPU sequences for the Unicorn differential tests, drawn from the kCop1 rows of mips32.inc
// and run on a 24Kf in both engines. A sequence is framed so that the whole FPU state becomes comparable
// GPR/memory state:
//   prologue  Status = CU1 (| FR); the 32 FPR words (FR=0) or 64-bit registers (FR=1) loaded from the data
//             buffer; FCSR set by CTC1 (rounding mode, FS, enables, condition codes, sticky flags)
//   body      random FPU instructions (and FP branches with their delay slots)
//   epilogue  every FPR stored back to the buffer's dump area, FCSR read into a GPR, then the final WAIT
// Every kCop1 row is either in kFpuAllowed or in kFpuDenied with a reason (FpuDiffCoverage checks both).
#pragma once

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "tests/diff/generator.h"

namespace strobe::test::diff {

enum class FKind : uint8_t {
  kArith,      // fd, fs, ft
  kUnary,      // fd, fs
  kMadd,       // fd, fr, fs, ft
  kCompare,    // cc, fs, ft
  kMovCc,      // MOVF/MOVT.fmt fd, fs, cc
  kMovGpr,     // MOVZ/MOVN.fmt fd, fs, rt
  kMovfGpr,    // MOVF/MOVT rd, rs, cc
  kToGpr,      // MFC1/MFHC1 rt, fs
  kFromGpr,    // MTC1/MTHC1 rt, fs
  kCfc1,       // CFC1 rt, fcr
  kCtc1,       // li at, value; CTC1 at, fcr
  kLoadStore,  // LWC1/SWC1/LDC1/SDC1 ft, offset(gp)
  kIndexed,    // li at, offset; LWXC1 ... fd, at(gp)
  kBranch,     // BC1F/BC1T(L) cc, forward
};

struct FpuAllowedRow {
  Opcode op;
  FKind kind;
  bool wide;      // 64-bit operands: even registers with FR=0
  bool needs_fr;  // L format, RECIP.D/RSQRT.D, LUXC1/SUXC1: Reserved Instruction with FR=0
  uint8_t align;  // loads/stores: natural alignment
};

// clang-format off
inline const std::vector<FpuAllowedRow>& FpuAllowed() {
  static const std::vector<FpuAllowedRow> rows = [] {
    std::vector<FpuAllowedRow> v;
    for (const mips::Encoding& e : mips::kEncodings) {
      if (!(e.flags & mips::kCop1)) continue;
      const std::string_view n = e.name;
      const bool d = n.ends_with("_D");
      // The L format as a source or result: CVT_L_S, CVT_S_L, ROUND_L_D ... (not C_LT_S or C_LE_D).
      const bool l = n.find("_L_") != std::string_view::npos || n.ends_with("_L");
      FpuAllowedRow r{e.op, FKind::kUnary, d || l, l, 0};
      if (n == "ADD_S" || n == "ADD_D" || n == "SUB_S" || n == "SUB_D" || n == "MUL_S" || n == "MUL_D" ||
          n == "DIV_S" || n == "DIV_D") {
        r.kind = FKind::kArith;
      } else if (n.starts_with("MADD") || n.starts_with("MSUB") || n.starts_with("NMADD") ||
                 n.starts_with("NMSUB")) {
        r.kind = FKind::kMadd;
      } else if (n.starts_with("C_")) {
        r.kind = FKind::kCompare;
      } else if (n == "MOVF_S" || n == "MOVT_S" || n == "MOVF_D" || n == "MOVT_D") {
        r.kind = FKind::kMovCc;
      } else if (n == "MOVZ_S" || n == "MOVN_S" || n == "MOVZ_D" || n == "MOVN_D") {
        r.kind = FKind::kMovGpr;
      } else if (n == "MOVF" || n == "MOVT") {
        r.kind = FKind::kMovfGpr;
      } else if (n == "MFC1" || n == "MFHC1") {
        r.kind = FKind::kToGpr;
      } else if (n == "MTC1" || n == "MTHC1") {
        r.kind = FKind::kFromGpr;
      } else if (n == "CFC1") {
        r.kind = FKind::kCfc1;
      } else if (n == "CTC1") {
        r.kind = FKind::kCtc1;
      } else if (n == "LWC1" || n == "SWC1" || n == "LDC1" || n == "SDC1") {
        r.kind = FKind::kLoadStore;
        r.align = n[1] == 'D' ? 8 : 4;
        r.wide = n[1] == 'D';
      } else if (n.ends_with("XC1") || n == "PREFX") {
        r.kind = FKind::kIndexed;
        r.align = n[1] == 'W' ? 4 : 8;
        r.wide = n[1] != 'W';
        r.needs_fr = n[1] == 'U';
      } else if (n.starts_with("BC1")) {
        r.kind = FKind::kBranch;
      }
      v.push_back(r);
    }
    return v;
  }();
  return rows;
}
// clang-format on

// FPU rows left out of the random mix, each with its reason (none today).
inline constexpr std::array<DeniedRow, 0> kFpuDenied{};

// Interesting floating-point bit patterns (MIPS legacy NaNs: quiet has the fraction MSB clear).
inline constexpr uint32_t kSingleSpecials[] = {
    0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u,  // zeros, infinities
    0x7FBFFFFFu, 0xFFBFFFFFu, 0x7F800001u, 0x7F812345u,  // quiet NaNs
    0x7FC00000u, 0xFFFFFFFFu, 0x7FC00001u,               // signalling NaNs
    0x00000001u, 0x807FFFFFu, 0x00400000u, 0x00800000u, 0x80800000u, 0x7F7FFFFFu, 0xFF7FFFFFu,
    0x3F800000u, 0xBF800000u, 0x3F000000u, 0x40200000u, 0x3FC00000u, 0xC0200000u, 0x40400000u,
    0x4B000000u, 0x4F000000u, 0xCF000000u, 0x4EFFFFFFu, 0xCF000001u, 0x5F000000u, 0xDF000000u,
    0x00FFFFFFu, 0x01000000u, 0x1F800000u, 0x20000000u, 0x60000000u,  // products that under/overflow
};
inline constexpr uint64_t kDoubleSpecials[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
    0x7FF7FFFFFFFFFFFFull, 0x7FF0000000000001ull, 0xFFF7FFFFFFFFFFFFull,  // quiet NaNs
    0x7FF8000000000000ull, 0xFFFFFFFFFFFFFFFFull, 0x7FF8000000000001ull,  // signalling NaNs
    0x0000000000000001ull, 0x800FFFFFFFFFFFFFull, 0x0008000000000000ull, 0x0010000000000000ull,
    0x7FEFFFFFFFFFFFFFull, 0xFFEFFFFFFFFFFFFFull, 0x3FF0000000000000ull, 0xBFF0000000000000ull,
    0x3FE0000000000000ull, 0x4004000000000000ull, 0xC004000000000000ull, 0x3FF8000000000000ull,
    0x41E0000000000000ull, 0xC1E0000000000000ull, 0x41DFFFFFFFC00000ull, 0xC1E0000000200000ull,
    0x43E0000000000000ull, 0xC3E0000000000000ull, 0x47EFFFFFE0000000ull, 0x47F0000000000000ull,
    0x36A0000000000000ull, 0x3690000000000000ull, 0x1FF0000000000000ull, 0x2000000000000000ull,
    0x6000000000000000ull,
};

struct FpuSequenceOptions {
  bool exceptions = false;  // enabled FP exceptions, misaligned accesses, odd pairs and L ops with FR=0
  bool fr = false;          // Status.FR
  bool nan_free = false;    // no NaN among the initial FPR values (NaNs can then only come from Invalid)
  unsigned min_insns = 20, max_insns = 60;
};

// Data buffer layout, as offsets from kBaseReg ($gp, the buffer's middle).
inline constexpr int32_t kFprImage = -2048;  // 32 x 8 bytes of initial FPR contents
inline constexpr int32_t kFprDump = 1024;    // 32 x 8 bytes written by the epilogue
inline constexpr unsigned kScratch = 1;      // $at: values for CTC1 and indexed addresses
inline constexpr unsigned kFcsrOut = 2;      // $v0: FCSR after the sequence

// Unicorn's MIPS core is QEMU 5.0, whose softfloat propagates a quiet NaN operand (payload and sign) and
// gives the default NaN only for a signalling one; QEMU 6.0 and later (7.2 here) run legacy-NaN MIPS FPUs in
// default-NaN mode, and Strobe follows them: every NaN result is the default NaN. The flags, cause bits and
// compare outcomes agree either way, so a differing word is accepted when both sides hold a NaN there: a
// 64-bit slot of the buffer that is a double NaN on both sides, or a word that is a single NaN on both.
// Everything else must be bit-identical. Returns how many slots/words were accepted this way.
inline bool SingleNaN(uint32_t w) {
  return (w & 0x7F800000u) == 0x7F800000u && (w & 0x007FFFFFu) != 0;
}
inline bool DoubleNaN(uint64_t v) {
  return (v & 0x7FF0000000000000ull) == 0x7FF0000000000000ull && (v & 0x000FFFFFFFFFFFFFull) != 0;
}
// Only the data in [from, to) is looked at (offsets into the buffer), and the GPRs if `gprs` (not the one
// holding the final FCSR).
inline unsigned AcceptNaNPayloads(Outcome& strobe, const Outcome& uc, uint32_t from = 0,
                                  uint32_t to = kDataBytes, bool gprs = true) {
  unsigned accepted = 0;
  for (uint32_t i = from; i + 8 <= to; i += 8) {
    uint64_t a, b;
    std::memcpy(&a, &strobe.state.data[i], 8);
    std::memcpy(&b, &uc.state.data[i], 8);
    if (a == b) continue;
    if (DoubleNaN(a) && DoubleNaN(b)) {
      std::memcpy(&strobe.state.data[i], &b, 8);
      ++accepted;
      continue;
    }
    for (uint32_t j = 0; j < 8; j += 4) {
      uint32_t x, y;
      std::memcpy(&x, &strobe.state.data[i + j], 4);
      std::memcpy(&y, &uc.state.data[i + j], 4);
      // QEMU 5's CVT.S.D keeps a quiet NaN's payload bits that fit a single, so a payload below them
      // turns the NaN into an infinity there; QEMU 7.2 and Strobe give the default NaN.
      const bool lost_payload = x == 0x7FBFFFFFu && (y & 0x7FFFFFFFu) == 0x7F800000u;
      if (x != y && ((SingleNaN(x) && SingleNaN(y)) || lost_payload)) {
        std::memcpy(&strobe.state.data[i + j], &y, 4);
        ++accepted;
      }
    }
  }
  for (int r = 0; r < 32 && gprs; ++r) {
    if (r != kFcsrOut && strobe.state.gpr[r] != uc.state.gpr[r] && SingleNaN(strobe.state.gpr[r]) &&
        SingleNaN(uc.state.gpr[r])) {
      strobe.state.gpr[r] = uc.state.gpr[r];
      ++accepted;
    }
  }
  return accepted;
}

class FpuSequenceGenerator {
 public:
  FpuSequenceGenerator(uint64_t seed, FpuSequenceOptions opt) : rng_(seed), opt_(opt) {}

  GuestState InitialState() {
    // Integers for CVT.x.W/L and MTC1: the same edge values, often (Rng::Value).
    GuestState s = RandomIntegerState(rng_);
    for (unsigned r = 0; r < 32; ++r) {
      uint64_t v = WithoutQuietNaNPayloads(FprValue());
      if (opt_.nan_free) v = WithoutNaNs(v);
      std::memcpy(&s.data[kDataBytes / 2 + kFprImage + 8 * r], &v, 8);
    }
    return s;
  }

  Program Generate() {
    words_.clear();
    Prologue();
    const unsigned n = opt_.min_insns + rng_.Below(opt_.max_insns - opt_.min_insns + 1);
    while (words_.size() < n + 40) Unit(true);
    Epilogue();
    Program p;
    p.start = kCodeVaddr + 4 * rng_.Below(64);
    p.words = words_;
    return p;
  }

 private:
  // Quiet NaN operands are where QEMU 5 (Unicorn) and QEMU 7.2 (Strobe) part: 5 propagates the operand,
  // 7.2 returns the default NaN (see AcceptNaNPayloads). A propagated payload then spreads through a
  // sequence (as the low word of a double read as a single with FR=0, through conversions), so sequences
  // start without them: every quiet NaN, seen as a double or as either single, is the default one. The
  // edge-case test and the unit tests cover quiet NaN operands.
  static uint64_t WithoutQuietNaNPayloads(uint64_t v) {
    auto quiet32 = [](uint32_t w) { return SingleNaN(w) && !(w & 0x00400000u); };
    if (DoubleNaN(v) && !(v & 0x0008000000000000ull)) v = 0x7FF7FFFFFFFFFFFFull;
    uint32_t lo = static_cast<uint32_t>(v), hi = static_cast<uint32_t>(v >> 32);
    if (quiet32(lo)) lo = 0x7FBFFFFFu;
    if (quiet32(hi)) hi = 0x7FBFFFFFu;
    v = lo | (static_cast<uint64_t>(hi) << 32);
    if (DoubleNaN(v) && !(v & 0x0008000000000000ull)) v = 0x7FF7FFFFFFFFFFFFull;
    return v;
  }

  static uint64_t WithoutNaNs(uint64_t v) {
    if (DoubleNaN(v)) v = 0x3FF0000000000000ull;
    if (SingleNaN(static_cast<uint32_t>(v))) v = (v & ~0xFFFFFFFFull) | 0x3F800000u;
    if (SingleNaN(static_cast<uint32_t>(v >> 32))) v = (v & 0xFFFFFFFFull) | (0x3F800000ull << 32);
    return DoubleNaN(v) ? 0x3FF0000000000000ull : v;
  }

  uint64_t FprValue() {
    const uint32_t pick = rng_.Below(100);
    if (pick < 40) {
      // Not the NaN whose payload QEMU 5 loses in CVT.S.D (AcceptNaNPayloads): the difference would
      // spread through the rest of the sequence as an infinity against a NaN.
      const uint64_t v = kDoubleSpecials[rng_.Below(std::size(kDoubleSpecials))];
      return v == 0x7FF0000000000001ull ? 0x7FF0000100000000ull : v;
    }
    if (pick < 75) {
      auto single = [&] {
        return rng_.Chance(80) ? kSingleSpecials[rng_.Below(std::size(kSingleSpecials))] : rng_.Bits();
      };
      return single() | (static_cast<uint64_t>(single()) << 32);
    }
    if (pick < 90) {  // ordinary doubles of modest magnitude: exact and inexact arithmetic
      const uint64_t exp = 1023 - 40 + rng_.Below(80);
      return (static_cast<uint64_t>(rng_.Below(2)) << 63) | (exp << 52) |
             ((static_cast<uint64_t>(rng_.Bits()) << 20) & 0xFFFFFFFFFFFFFull);
    }
    return rng_.Bits() | (static_cast<uint64_t>(rng_.Bits()) << 32);
  }

  void Emit(Opcode op, const mips::Fields& f) { words_.push_back(mips::Encode(op, f)); }
  // li reg, value (LUI + ORI)
  void Li(unsigned reg, uint32_t v) {
    Emit(Opcode::LUI, {.rt = reg, .imm = v >> 16});
    Emit(Opcode::ORI, {.rs = reg, .rt = reg, .imm = v & 0xFFFF});
  }

  void Prologue() {
    Li(kScratch, runtime::st::CU1 | (opt_.fr ? runtime::st::FR : 0));
    Emit(Opcode::MTC0, {.rt = kScratch, .rd = 12});
    for (unsigned r = 0; r < 32; r += opt_.fr ? 1 : 2)
      Emit(Opcode::LDC1, {.rs = kBaseReg, .rt = r, .imm = static_cast<uint32_t>(kFprImage + 8 * r) & 0xFFFF});
    uint32_t fcsr = rng_.Bits() & 0xFE80007Fu & ~(0x1Fu << 7);  // FCCs, FS, flags, RM; no enables, no cause
    if (!rng_.Chance(20)) fcsr &= ~(1u << 24);                  // FS=1 in one sequence in five
    if (opt_.exceptions) fcsr |= (rng_.Bits() & 0x1F) << 7;
    Li(kScratch, fcsr);
    Emit(Opcode::CTC1, {.rt = kScratch, .rd = 31});
  }

  void Epilogue() {
    for (unsigned r = 0; r < 32; r += opt_.fr ? 1 : 2)
      Emit(Opcode::SDC1, {.rs = kBaseReg, .rt = r, .imm = static_cast<uint32_t>(kFprDump + 8 * r) & 0xFFFF});
    Emit(Opcode::CFC1, {.rt = kFcsrOut, .rd = 31});
    words_.push_back(kWaitWord);
  }

  unsigned Gpr() {
    for (;;)
      if (unsigned r = rng_.Below(32); r != kBaseReg && r != kScratch) return r;
  }
  // An FPR number: even for 64-bit operands with FR=0, except (exception mode) now and then.
  unsigned Fpr(bool wide) {
    unsigned r = rng_.Below(32);
    if (wide && !opt_.fr && !(opt_.exceptions && rng_.Chance(5))) r &= ~1u;
    return r;
  }
  int32_t Offset(unsigned align) {  // inside [-1024, 1024) of $gp, aligned unless exceptions are on
    int32_t off = static_cast<int32_t>(rng_.Below(2048)) - 1024;
    if (!(opt_.exceptions && rng_.Chance(10))) off &= ~static_cast<int32_t>(align - 1);
    return off;
  }

  // allow_branch false: a delay slot or a word a branch skips, so one word and no control transfer.
  const FpuAllowedRow& Draw(bool allow_branch) {
    const auto& rows = FpuAllowed();
    for (;;) {
      const FpuAllowedRow& r = rows[rng_.Below(rows.size())];
      const bool multi_word = r.kind == FKind::kCtc1 || r.kind == FKind::kIndexed;
      if ((r.kind == FKind::kBranch || multi_word) && !allow_branch) continue;
      if (r.needs_fr && !opt_.fr && !(opt_.exceptions && rng_.Chance(10))) continue;
      if (r.kind == FKind::kCtc1 && rng_.Chance(70)) continue;  // rarer: it resets the rounding mode
      return r;
    }
  }

  void Unit(bool allow_branch) {
    const FpuAllowedRow& r = Draw(allow_branch);
    mips::Fields f;
    switch (r.kind) {
      case FKind::kArith: f = {.rt = Fpr(r.wide), .rd = Fpr(r.wide), .sa = Fpr(r.wide)}; break;
      case FKind::kUnary: {
        // Conversions mix widths: the 64-bit side is whichever of fs/fd is D or L.
        const std::string_view n = mips::NameOf(r.op);
        const bool src_wide = n.ends_with("_D") || n.ends_with("_L");
        const bool dst_wide = n.starts_with("CVT_D") || n.find("_L_") != std::string_view::npos ||
                              (!n.starts_with("CVT") && !n.starts_with("ROUND") && !n.starts_with("TRUNC") &&
                               !n.starts_with("CEIL") && !n.starts_with("FLOOR") && r.wide);
        f = {.rd = Fpr(src_wide), .sa = Fpr(dst_wide)};
        break;
      }
      case FKind::kMadd:
        f = {.rs = Fpr(r.wide), .rt = Fpr(r.wide), .rd = Fpr(r.wide), .sa = Fpr(r.wide)};
        break;
      case FKind::kCompare: f = {.rt = Fpr(r.wide), .rd = Fpr(r.wide), .code = rng_.Below(8)}; break;
      case FKind::kMovCc: f = {.rd = Fpr(r.wide), .sa = Fpr(r.wide), .code = rng_.Below(8)}; break;
      case FKind::kMovGpr: f = {.rt = rng_.Below(32), .rd = Fpr(r.wide), .sa = Fpr(r.wide)}; break;
      case FKind::kMovfGpr: f = {.rs = rng_.Below(32), .rd = Gpr(), .code = rng_.Below(8)}; break;
      case FKind::kToGpr: f = {.rt = Gpr(), .rd = rng_.Below(32)}; break;
      case FKind::kFromGpr: f = {.rt = rng_.Below(32), .rd = rng_.Below(32)}; break;
      case FKind::kCfc1: {
        static constexpr uint32_t kFcrs[] = {0, 25, 26, 28, 31, 1, 5, 7};
        f = {.rt = Gpr(), .rd = kFcrs[rng_.Below(std::size(kFcrs))]};
        break;
      }
      case FKind::kCtc1: {
        static constexpr uint32_t kFcrs[] = {25, 26, 28, 31};
        const uint32_t fcr = kFcrs[rng_.Below(std::size(kFcrs))];
        uint32_t v = rng_.Bits();
        if (fcr == 25) v &= 0xFF;
        if (fcr == 26 || fcr == 28) v &= ~0x007C0000u;
        if (!opt_.exceptions) v &= ~(0x3Fu << 12);  // no cause bits: no exception from the write itself
        if (!opt_.exceptions && fcr != 26) v &= ~(0x1Fu << 7);  // and no enables later
        if (!opt_.exceptions && fcr == 28) v &= ~0xF80u;
        Li(kScratch, v);
        Emit(Opcode::CTC1, {.rt = kScratch, .rd = fcr});
        return;
      }
      case FKind::kLoadStore:
        f = {.rs = kBaseReg, .rt = rng_.Below(32), .imm = static_cast<uint32_t>(Offset(r.align)) & 0xFFFF};
        break;
      case FKind::kIndexed:
        Li(kScratch, static_cast<uint32_t>(Offset(r.align)));
        f = {.rs = kBaseReg, .rt = kScratch, .rd = Fpr(r.wide), .sa = Fpr(r.wide)};
        break;
      case FKind::kBranch: {
        const unsigned skip = rng_.Below(3);
        f = {.imm = 1 + skip, .code = rng_.Below(8)};
        Emit(r.op, f);
        Unit(false);  // the delay slot
        for (unsigned i = 0; i < skip; ++i) Unit(false);
        return;
      }
    }
    Emit(r.op, f);
  }

  Rng rng_;
  FpuSequenceOptions opt_;
  std::vector<uint32_t> words_;
};

}  // namespace strobe::test::diff
