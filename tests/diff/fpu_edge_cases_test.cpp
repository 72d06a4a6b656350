// SPDX-License-Identifier: MIT
// Every FPU operation on every special value (±0, ±inf, quiet and signalling legacy NaNs, denormals, the
// normal range's ends, integer-conversion boundaries) under every rounding mode, with FS=0 and FS=1,
// against Unicorn's 24Kf: the result bits and the whole FCSR (cause, flags, condition codes) after each
// operation. Cases run in batches: one program loads the operands, resets the FCSR, runs the operation and
// stores the result and the FCSR, case after case; both engines then have to leave the same buffer.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "tests/diff/fpu_generator.h"

namespace strobe::test::diff {
namespace {

// Layout inside the data buffer (offsets from $gp): operand table, then 16 bytes of results per case.
constexpr int32_t kOperands = -2048;
constexpr unsigned kMaxOperands = 56;
constexpr int32_t kResults = kOperands + 8 * kMaxOperands;
constexpr unsigned kCasesPerProgram = (2048 - kResults) / 16;
constexpr unsigned kFcsrReg = 16;  // $s0: the FCSR each case starts from

struct Operation {
  Opcode op;
  unsigned arity;  // 1: fd, fs   2: fd, fs, ft   3: fd, fr, fs, ft   (compares: cc, fs, ft)
  const std::vector<uint64_t>* values;
};

std::vector<uint64_t> Singles() {
  std::vector<uint64_t> v(std::begin(kSingleSpecials), std::end(kSingleSpecials));
  return v;
}
std::vector<uint64_t> Doubles() {
  return std::vector<uint64_t>(std::begin(kDoubleSpecials), std::end(kDoubleSpecials));
}
// Integer sources for CVT.S/D.W and .L: the boundaries of exact representation and of each width.
std::vector<uint64_t> Integers() {
  return {0,
          1,
          0xFFFFFFFFFFFFFFFFull,
          0x7FFFFFFF,
          0xFFFFFFFF80000000ull,
          0x01000001,
          0x00FFFFFF,
          0xFFFFFFFFFEFFFFFFull,
          0x0020000000000001ull,
          0x001FFFFFFFFFFFFFull,
          0x7FFFFFFFFFFFFFFFull,
          0x8000000000000000ull,
          0x00000000DEADBEEFull,
          0x123456789ABCDEF0ull,
          0x80000000,
          0x7FFFFFC0};
}

struct Counts {
  unsigned programs = 0, cases = 0, nan_payloads = 0;
};

// Runs the tuples of operand indices in batches; returns false on the first differing batch.
bool RunBatches(const Operation& o, const std::vector<std::array<unsigned, 3>>& tuples, uint32_t fcsr,
                Counts* counts) {
  const std::vector<uint64_t>& vals = *o.values;
  for (size_t first = 0; first < tuples.size(); first += kCasesPerProgram) {
    GuestState init;
    for (int r = 1; r < 32; ++r) init.gpr[r] = 0;
    init.gpr[kBaseReg] = kBasePtr;
    for (size_t i = 0; i < vals.size(); ++i)
      std::memcpy(&init.data[kDataBytes / 2 + kOperands + 8 * i], &vals[i], 8);
    std::vector<uint32_t> w;
    auto emit = [&](Opcode op, const mips::Fields& f) { w.push_back(mips::Encode(op, f)); };
    auto li = [&](unsigned reg, uint32_t v) {
      emit(Opcode::LUI, {.rt = reg, .imm = v >> 16});
      emit(Opcode::ORI, {.rs = reg, .rt = reg, .imm = v & 0xFFFF});
    };
    li(kScratch, runtime::st::CU1 | runtime::st::FR);
    emit(Opcode::MTC0, {.rt = kScratch, .rd = 12});
    li(kFcsrReg, fcsr);
    const size_t last = std::min(tuples.size(), first + kCasesPerProgram);
    for (size_t i = first; i < last; ++i) {
      const auto& t = tuples[i];
      auto operand = [&](unsigned idx) { return static_cast<uint32_t>(kOperands + 8 * idx) & 0xFFFF; };
      emit(Opcode::LDC1, {.rs = kBaseReg, .rt = 2, .imm = operand(t[0])});
      if (o.arity >= 2) emit(Opcode::LDC1, {.rs = kBaseReg, .rt = 4, .imm = operand(t[1])});
      if (o.arity == 3) emit(Opcode::LDC1, {.rs = kBaseReg, .rt = 6, .imm = operand(t[2])});
      emit(Opcode::CTC1, {.rt = kFcsrReg, .rd = 31});
      mips::Fields f{.rt = 4, .rd = 2, .sa = 8};
      if (o.arity == 3) f = {.rs = 6, .rt = 4, .rd = 2, .sa = 8};
      if (mips::NameOf(o.op).starts_with("C_")) f.code = static_cast<uint32_t>(i % 8);  // the cc field
      emit(o.op, f);
      const uint32_t res = static_cast<uint32_t>(kResults + 16 * (i - first));
      emit(Opcode::SDC1, {.rs = kBaseReg, .rt = 8, .imm = res & 0xFFFF});
      emit(Opcode::CFC1, {.rt = kScratch, .rd = 31});
      emit(Opcode::SW, {.rs = kBaseReg, .rt = kScratch, .imm = (res + 8) & 0xFFFF});
    }
    w.push_back(kWaitWord);
    Program p{.start = kCodeVaddr, .words = w};
    Outcome strobe = RunStrobe(p, init, 1, vmm::Engine::kInterp, 0, Model::k24Kf);
    Outcome uc = RunUnicorn(p, init, Model::k24Kf);
    ++counts->programs;
    counts->cases += static_cast<unsigned>(last - first);
    // Result slots only: the FCSR words beside them must be identical.
    for (uint32_t i = 0; i < last - first; ++i) {
      const uint32_t at = kDataBytes / 2 + kResults + 16 * i;
      counts->nan_payloads += AcceptNaNPayloads(strobe, uc, at, at + 8, false);
    }
    std::string diff = Differences(strobe, uc);
    if (!diff.empty()) {
      // Name the first differing case.
      std::string where;
      for (uint32_t i = 0; i < last - first && where.empty(); ++i) {
        const uint32_t at = kDataBytes / 2 + kResults + 16 * i;
        if (std::memcmp(&strobe.state.data[at], &uc.state.data[at], 12) != 0) {
          uint64_t rs, ru;
          uint32_t fs, fu;
          std::memcpy(&rs, &strobe.state.data[at], 8);
          std::memcpy(&ru, &uc.state.data[at], 8);
          std::memcpy(&fs, &strobe.state.data[at + 8], 4);
          std::memcpy(&fu, &uc.state.data[at + 8], 4);
          const auto& t = tuples[first + i];
          char buf[320];
          std::snprintf(buf, sizeof buf,
                        "%s a=%016llx b=%016llx c=%016llx FCSR in %08x: Strobe %016llx FCSR %08x, Unicorn "
                        "%016llx FCSR %08x",
                        std::string(mips::NameOf(o.op)).c_str(), (unsigned long long)vals[t[0]],
                        (unsigned long long)vals[t[1]], (unsigned long long)vals[t[2]], fcsr,
                        (unsigned long long)rs, fs, (unsigned long long)ru, fu);
          where = buf;
        }
      }
      ADD_FAILURE() << (where.empty() ? diff : where);
      return false;
    }
  }
  return true;
}

std::vector<std::array<unsigned, 3>> Tuples(unsigned arity, unsigned n, unsigned n3 = 0) {
  std::vector<std::array<unsigned, 3>> t;
  for (unsigned a = 0; a < n; ++a) {
    if (arity == 1) {
      t.push_back({a, 0, 0});
      continue;
    }
    for (unsigned b = 0; b < n; ++b) {
      if (arity == 2) {
        t.push_back({a, b, 0});
        continue;
      }
      for (unsigned c = 0; c < n3; ++c) t.push_back({a, b, c});
    }
  }
  return t;
}

// Every rounding mode with FS=0 and FS=1; sticky flags start set in half of them (they must only grow).
void Sweep(const std::vector<Operation>& ops, unsigned n3, const char* label, bool all_modes = true) {
  Counts counts;
  for (const Operation& o : ops) {
    SCOPED_TRACE(std::string(mips::NameOf(o.op)));
    const unsigned n = o.arity == 3 ? 16 : static_cast<unsigned>(o.values->size());
    auto tuples = Tuples(o.arity, n, n3);
    for (uint32_t rm = 0; rm < 4; ++rm)
      for (uint32_t fs = 0; fs < 2; ++fs) {
        if (!all_modes && (rm != 0 || fs != 0)) continue;
        const uint32_t fcsr = rm | (fs << 24) | (rm % 2 ? 0x7Cu : 0u) | (fs ? 0xFE800000u : 0u);
        if (!RunBatches(o, tuples, fcsr, &counts)) return;
      }
  }
  std::printf("[fpu edge] %s: %u cases in %u programs (%u NaN payloads accepted: QEMU 5 propagation)\n",
              label, counts.cases, counts.programs, counts.nan_payloads);
}

const std::vector<uint64_t>& S() {
  static const auto v = Singles();
  return v;
}
const std::vector<uint64_t>& D() {
  static const auto v = Doubles();
  return v;
}
const std::vector<uint64_t>& I() {
  static const auto v = Integers();
  return v;
}

TEST(FpuEdgeCases, Arithmetic) {
  Sweep({{Opcode::ADD_S, 2, &S()},
         {Opcode::SUB_S, 2, &S()},
         {Opcode::MUL_S, 2, &S()},
         {Opcode::DIV_S, 2, &S()},
         {Opcode::ADD_D, 2, &D()},
         {Opcode::SUB_D, 2, &D()},
         {Opcode::MUL_D, 2, &D()},
         {Opcode::DIV_D, 2, &D()}},
        0, "ADD/SUB/MUL/DIV.S/D");
}

TEST(FpuEdgeCases, UnaryAndConversions) {
  std::vector<Operation> ops;
  for (const mips::Encoding& e : mips::kEncodings) {
    const std::string_view n = e.name;
    if (!(e.flags & mips::kCop1) ||
        !(n.starts_with("SQRT") || n.starts_with("ABS") || n.starts_with("NEG") || n.starts_with("MOV_") ||
          n.starts_with("RECIP") || n.starts_with("RSQRT") || n.starts_with("CVT") ||
          n.starts_with("ROUND") || n.starts_with("TRUNC") || n.starts_with("CEIL") ||
          n.starts_with("FLOOR")))
      continue;
    const bool from_int = n.ends_with("_W") || n.ends_with("_L");
    ops.push_back({e.op, 1, from_int ? &I() : n.ends_with("_D") ? &D() : &S()});
  }
  EXPECT_EQ(ops.size(), 38u);  // 6 unary ops x 2 formats, 10 conversions, 16 roundings to integers
  Sweep(ops, 0, "unary, conversions, rounding to integers");
}

TEST(FpuEdgeCases, Compares) {
  std::vector<Operation> ops;
  for (const mips::Encoding& e : mips::kEncodings)
    if (e.name.starts_with("C_")) ops.push_back({e.op, 2, e.name.ends_with("_D") ? &D() : &S()});
  EXPECT_EQ(ops.size(), 32u);
  Sweep(ops, 0, "C.cond.S/D", false);
}

TEST(FpuEdgeCases, MultiplyAdd) {
  std::vector<Operation> ops;
  for (const mips::Encoding& e : mips::kEncodings)
    if (e.name.starts_with("MADD_") || e.name.starts_with("MSUB_") || e.name.starts_with("NMADD_") ||
        e.name.starts_with("NMSUB_"))
      ops.push_back({e.op, 3, e.name.ends_with("_D") ? &D() : &S()});
  EXPECT_EQ(ops.size(), 8u);
  Sweep(ops, 8, "MADD/MSUB/NMADD/NMSUB.S/D");
}

}  // namespace
}  // namespace strobe::test::diff
