// SPDX-License-Identifier: MIT
// The lifter's inline FPU paths (translator/llvm/lifter_fpu.cpp) against the interpreter's handlers, one
// instruction at a time. Every FPU instruction the lifter lifts to IR runs on random operands (zeros,
// infinities, MIPS legacy quiet and signalling NaNs, subnormals, the largest and smallest normals, values
// whose results are exact or inexact, overflow or underflow, operands that cancel, random bits) under
// random FCSR settings (each rounding mode, FS, enables, flags, condition codes), Status.FR either way and
// now and then without CU1; in plain code and in the delay slot of a branch (a likely one too), with its
// registers even, odd (Reserved Instruction for 64-bit operands with FR=0) or all the same. The
// interpreter, the jit engine and the jit engine with the optimising tiers' code shape must leave the same
// state behind: every FPR (64 bits), the FCSR, the GPRs, PC, the CP0 registers exceptions write (EPC,
// Cause with BD, BadVAddr, Status) and the data buffer.
//
// Reproduce a failure with STROBE_FPU_INLINE_SEED=<seed printed with it>.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr uint64_t kDefaultSeed = 0x1F7'2401'0A7Eull;
constexpr unsigned kDataWords = 16;  // the buffer loads and stores reach, at kData
constexpr uint32_t kProgramBytes = 0x40;

enum class Shape {
  kArith,      // fd, fs, ft
  kUnary,      // fd, fs
  kMadd,       // fd, fr, fs, ft
  kCompare,    // cc, fs, ft
  kMovCc,      // MOVF/MOVT.fmt fd, fs, cc
  kMovGpr,     // MOVZ/MOVN.fmt fd, fs, t0
  kMovfGpr,    // MOVF/MOVT t2, t1, cc
  kToGpr,      // MFC1/MFHC1 t2, fs
  kFromGpr,    // MTC1/MTHC1 t1, fd
  kLoadStore,  // LWC1/SWC1/LDC1/SDC1 ft, 8(a0)
  kIndexed,    // LWXC1/LDXC1 fd, a1(a0); SWXC1/SDXC1 fs, a1(a0)
  kBranch,     // BC1F/BC1T(L) cc, skipping one ADDIU
};
enum class Fmt { kSingle, kDouble, kWord };  // what the source operands hold

struct OpUnderTest {
  Opcode op;
  Shape shape;
  Fmt fmt;
};

std::vector<OpUnderTest> Ops() {
  using O = Opcode;
  std::vector<OpUnderTest> v = {
      {O::ADD_S, Shape::kArith, Fmt::kSingle},     {O::SUB_S, Shape::kArith, Fmt::kSingle},
      {O::MUL_S, Shape::kArith, Fmt::kSingle},     {O::DIV_S, Shape::kArith, Fmt::kSingle},
      {O::ADD_D, Shape::kArith, Fmt::kDouble},     {O::SUB_D, Shape::kArith, Fmt::kDouble},
      {O::MUL_D, Shape::kArith, Fmt::kDouble},     {O::DIV_D, Shape::kArith, Fmt::kDouble},
      {O::SQRT_S, Shape::kUnary, Fmt::kSingle},    {O::SQRT_D, Shape::kUnary, Fmt::kDouble},
      {O::ABS_S, Shape::kUnary, Fmt::kSingle},     {O::ABS_D, Shape::kUnary, Fmt::kDouble},
      {O::NEG_S, Shape::kUnary, Fmt::kSingle},     {O::NEG_D, Shape::kUnary, Fmt::kDouble},
      {O::MOV_S, Shape::kUnary, Fmt::kSingle},     {O::MOV_D, Shape::kUnary, Fmt::kDouble},
      {O::CVT_D_S, Shape::kUnary, Fmt::kSingle},   {O::CVT_S_D, Shape::kUnary, Fmt::kDouble},
      {O::CVT_D_W, Shape::kUnary, Fmt::kWord},     {O::CVT_S_W, Shape::kUnary, Fmt::kWord},
      {O::TRUNC_W_S, Shape::kUnary, Fmt::kSingle}, {O::TRUNC_W_D, Shape::kUnary, Fmt::kDouble},
      {O::MADD_S, Shape::kMadd, Fmt::kSingle},     {O::MADD_D, Shape::kMadd, Fmt::kDouble},
      {O::MSUB_S, Shape::kMadd, Fmt::kSingle},     {O::MSUB_D, Shape::kMadd, Fmt::kDouble},
      {O::NMADD_S, Shape::kMadd, Fmt::kSingle},    {O::NMADD_D, Shape::kMadd, Fmt::kDouble},
      {O::NMSUB_S, Shape::kMadd, Fmt::kSingle},    {O::NMSUB_D, Shape::kMadd, Fmt::kDouble},
      {O::MOVF_S, Shape::kMovCc, Fmt::kSingle},    {O::MOVT_S, Shape::kMovCc, Fmt::kSingle},
      {O::MOVF_D, Shape::kMovCc, Fmt::kDouble},    {O::MOVT_D, Shape::kMovCc, Fmt::kDouble},
      {O::MOVZ_S, Shape::kMovGpr, Fmt::kSingle},   {O::MOVN_S, Shape::kMovGpr, Fmt::kSingle},
      {O::MOVZ_D, Shape::kMovGpr, Fmt::kDouble},   {O::MOVN_D, Shape::kMovGpr, Fmt::kDouble},
      {O::MOVF, Shape::kMovfGpr, Fmt::kWord},      {O::MOVT, Shape::kMovfGpr, Fmt::kWord},
      {O::MFC1, Shape::kToGpr, Fmt::kSingle},      {O::MFHC1, Shape::kToGpr, Fmt::kDouble},
      {O::MTC1, Shape::kFromGpr, Fmt::kSingle},    {O::MTHC1, Shape::kFromGpr, Fmt::kDouble},
      {O::LWC1, Shape::kLoadStore, Fmt::kSingle},  {O::SWC1, Shape::kLoadStore, Fmt::kSingle},
      {O::LDC1, Shape::kLoadStore, Fmt::kDouble},  {O::SDC1, Shape::kLoadStore, Fmt::kDouble},
      {O::LWXC1, Shape::kIndexed, Fmt::kSingle},   {O::SWXC1, Shape::kIndexed, Fmt::kSingle},
      {O::LDXC1, Shape::kIndexed, Fmt::kDouble},   {O::SDXC1, Shape::kIndexed, Fmt::kDouble},
      {O::BC1F, Shape::kBranch, Fmt::kWord},       {O::BC1T, Shape::kBranch, Fmt::kWord},
      {O::BC1FL, Shape::kBranch, Fmt::kWord},      {O::BC1TL, Shape::kBranch, Fmt::kWord},
  };
  for (int i = 0; i < 16; ++i) {
    v.push_back({static_cast<Opcode>(static_cast<int>(O::C_F_S) + i), Shape::kCompare, Fmt::kSingle});
    v.push_back({static_cast<Opcode>(static_cast<int>(O::C_F_D) + i), Shape::kCompare, Fmt::kDouble});
  }
  return v;
}

// Register choices: even numbers, odd numbers (64-bit operands then need FR=1), or one register for all.
struct Regs {
  uint32_t fd, fs, ft, fr, cc;
};
constexpr Regs kEven{2, 4, 6, 8, 0}, kOdd{3, 5, 7, 9, 3}, kSame{10, 10, 10, 10, 7};
// Where the instruction sits: on its own, in a taken branch's delay slot, in a likely branch's.
enum class Place { kPlain, kSlot, kLikelySlot };

struct Variant {
  Regs regs;
  Place place;
  const char* name;
};
constexpr Variant kVariants[] = {
    {kEven, Place::kPlain, "even"},
    {kOdd, Place::kPlain, "odd"},
    {kOdd, Place::kSlot, "odd, delay slot"},
    {kSame, Place::kLikelySlot, "one register, likely delay slot"},
};

uint32_t Encode(const OpUnderTest& t, const Regs& r) {
  switch (t.shape) {
    case Shape::kArith: return E(t.op, {.rt = r.ft, .rd = r.fs, .sa = r.fd});
    case Shape::kUnary: return E(t.op, {.rd = r.fs, .sa = r.fd});
    case Shape::kMadd: return E(t.op, {.rs = r.fr, .rt = r.ft, .rd = r.fs, .sa = r.fd});
    case Shape::kCompare: return E(t.op, {.rt = r.ft, .rd = r.fs, .code = r.cc});
    case Shape::kMovCc: return E(t.op, {.rd = r.fs, .sa = r.fd, .code = r.cc});
    case Shape::kMovGpr: return E(t.op, {.rt = t0, .rd = r.fs, .sa = r.fd});
    case Shape::kMovfGpr: return E(t.op, {.rs = t1, .rd = t2, .code = r.cc});
    case Shape::kToGpr: return E(t.op, {.rt = t2, .rd = r.fs});
    case Shape::kFromGpr: return E(t.op, {.rt = t1, .rd = r.fd});
    case Shape::kLoadStore: return E(t.op, {.rs = a0, .rt = r.ft, .imm = 8});
    case Shape::kIndexed:
      if (t.op == Opcode::SWXC1 || t.op == Opcode::SDXC1) return E(t.op, {.rs = a0, .rt = a1, .rd = r.fs});
      return E(t.op, {.rs = a0, .rt = a1, .sa = r.fd});
    case Shape::kBranch: return E(t.op, {.imm = 1, .code = r.cc});
  }
  return 0;
}

// The program: the instruction and a WAIT; in a delay slot, BEQ/BEQL zero, zero over one ADDIU. A branch
// under test skips `addiu v1` when taken; its slot is `addiu v0` or, in the slot variants, ADD.S.
Asm Program(const OpUnderTest& t, const Variant& v) {
  const uint32_t insn = Encode(t, v.regs);
  Asm a;
  if (t.shape == Shape::kBranch) {
    const uint32_t slot = v.place == Place::kPlain
                              ? Addiu(v0, v0, 1)
                              : E(Opcode::ADD_S, {.rt = v.regs.ft, .rd = v.regs.fs, .sa = 0});
    a << insn << slot << Addiu(v1, v1, 1) << kWaitWord;
    return a;
  }
  if (v.place == Place::kPlain) {
    a << insn << kWaitWord;
    return a;
  }
  const Opcode branch = v.place == Place::kSlot ? Opcode::BEQ : Opcode::BEQL;
  a << E(branch, {.imm = 1}) << insn << Addiu(v1, v1, 1) << kWaitWord;
  return a;
}

// --- operand values (MIPS legacy NaNs: the fraction's MSB set means signalling) ---
constexpr uint32_t kSingles[] = {
    0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u,               // zeros, infinities
    0x7F800001u, 0x7FBFFFFFu, 0xFFBFFFFFu, 0x7FC00000u, 0xFFFFFFFFu,  // quiet, signalling NaNs
    0x00000001u, 0x807FFFFFu, 0x00400000u, 0x00800000u, 0x80800001u,  // subnormals, smallest normals
    0x7F7FFFFFu, 0xFF7FFFFEu, 0x3F800000u, 0xBF800000u, 0x3F000000u, 0x40400000u, 0x3FAAAAABu,
    0x4F000000u, 0xCF000000u, 0x4EFFFFFFu, 0xCF000001u, 0x4B800001u, 0x1F800000u, 0x5F800000u,
    0x0C000000u, 0x72000000u, 0x00FFFFFFu, 0x01000000u, 0x26800000u, 0x19800000u,
};
constexpr uint64_t kDoubles[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
    0x7FF0000000000001ull, 0x7FF7FFFFFFFFFFFFull, 0xFFF0000000000100ull,  // quiet NaNs
    0x7FF8000000000000ull, 0xFFFFFFFFFFFFFFFFull,                         // signalling NaNs
    0x0000000000000001ull, 0x800FFFFFFFFFFFFFull, 0x0010000000000000ull, 0x8010000000000001ull,
    0x7FEFFFFFFFFFFFFFull, 0xFFEFFFFFFFFFFFFEull, 0x3FF0000000000000ull, 0xBFF0000000000000ull,
    0x3FE0000000000000ull, 0x4008000000000000ull, 0x3FD5555555555555ull, 0x41E0000000000000ull,
    0xC1E0000000000000ull, 0x41DFFFFFFFC00000ull, 0x41DFFFFFFFE00000ull, 0xC1E0000000100000ull,
    0x4340000000000001ull, 0x0360000000000000ull, 0x0370000000000000ull, 0x035FFFFFFFFFFFFFull,
    0x1FF0000000000000ull, 0x5FF0000000000000ull, 0x47EFFFFFE0000000ull, 0x36A0000000000000ull,
    0x3690000000000000ull, 0x2000000000000000ull, 0x0020000000000000ull,
};
constexpr uint32_t kWords[] = {0u,          1u,          0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0x01000001u,
                               0x00FFFFFFu, 0xFF000001u, 0x7FFFFFC0u, 0x12345678u, 0x80000001u};

class Values {
 public:
  explicit Values(uint64_t seed) : rng_(seed) {}
  uint64_t Bits() { return rng_(); }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  bool Chance(unsigned percent) { return Below(100) < percent; }

  uint32_t Single() {
    switch (Below(10)) {
      case 0:
      case 1:
      case 2: return kSingles[Below(std::size(kSingles))];
      case 3:
      case 4: return Ordinary<uint32_t>(23, 127, 30);
      case 5: return std::bit_cast<uint32_t>(Dyadic<float>());
      case 6: return Extreme<uint32_t>(23, 254);
      case 7: return static_cast<uint32_t>(Bits());
      default: return Ordinary<uint32_t>(23, 127, 3);
    }
  }
  uint64_t Double() {
    switch (Below(10)) {
      case 0:
      case 1:
      case 2: return kDoubles[Below(std::size(kDoubles))];
      case 3:
      case 4: return Ordinary<uint64_t>(52, 1023, 40);
      case 5: return std::bit_cast<uint64_t>(Dyadic<double>());
      case 6: return Extreme<uint64_t>(52, 2046);
      case 7: return Bits();
      case 8: {  // around the limits of TRUNC.W and of exact single conversion
        const double base = Chance(50) ? 2147483648.0 : 16777216.0;
        return std::bit_cast<uint64_t>((Chance(50) ? -1 : 1) *
                                       (base + (static_cast<double>(Below(9)) - 4) * 0.25));
      }
      default: return Ordinary<uint64_t>(52, 1023, 3);
    }
  }
  uint32_t Word() {
    if (Chance(40)) return kWords[Below(std::size(kWords))];
    if (Chance(50)) return static_cast<uint32_t>(static_cast<int32_t>(Below(2001)) - 1000);
    return static_cast<uint32_t>(Bits());
  }

 private:
  // sign | exponent near the bias (within +/- spread) | random fraction.
  template <class T>
  T Ordinary(unsigned frac_bits, unsigned bias, unsigned spread) {
    const T exp = bias - spread + Below(2 * spread + 1);
    const T frac = static_cast<T>(Bits()) & ((T{1} << frac_bits) - 1);
    return (static_cast<T>(Below(2)) << (sizeof(T) * 8 - 1)) | (exp << frac_bits) | frac;
  }
  // Small integers times small powers of two: sums, products and often quotients are exact.
  template <class F>
  F Dyadic() {
    return static_cast<F>(static_cast<int>(Below(129)) - 64) *
           std::ldexp(F{1}, static_cast<int>(Below(9)) - 4);
  }
  // Tiny normals, huge normals and subnormals: products and quotients that overflow or underflow.
  template <class T>
  T Extreme(unsigned frac_bits, unsigned max_exp) {
    const unsigned pick = Below(3);
    const T exp = pick == 0 ? 1 + Below(60) : pick == 1 ? max_exp - Below(60) : 0;
    const T frac = static_cast<T>(Bits()) & ((T{1} << frac_bits) - 1);
    return (static_cast<T>(Below(2)) << (sizeof(T) * 8 - 1)) | (exp << frac_bits) | frac;
  }

  std::mt19937_64 rng_;
};

// The FPU registers as the architecture sees them (semantics/fpu_core.h: Word/Dword and their setters).
uint64_t GetDword(const uint64_t* fpr, bool fr, unsigned r) {
  if (fr) return fpr[r];
  return (fpr[r & ~1u] & 0xFFFFFFFFull) | (fpr[r | 1u] << 32);
}
void SetDword(uint64_t* fpr, bool fr, unsigned r, uint64_t v) {
  if (fr) {
    fpr[r] = v;
    return;
  }
  fpr[r & ~1u] = (fpr[r & ~1u] & ~0xFFFFFFFFull) | (v & 0xFFFFFFFFull);
  fpr[r | 1u] = (fpr[r | 1u] & ~0xFFFFFFFFull) | (v >> 32);
}
void SetWord(uint64_t* fpr, unsigned r, uint32_t v) {
  fpr[r] = (fpr[r] & ~0xFFFFFFFFull) | v;
}

struct CaseInput {
  uint32_t gpr[32];
  uint64_t fpr[32];
  uint32_t fcsr, status;
  uint32_t data[kDataWords];
};

CaseInput DrawCase(Values& val, const OpUnderTest& t, const Regs& regs) {
  CaseInput in{};
  for (uint32_t& g : in.gpr) g = static_cast<uint32_t>(val.Bits());
  in.gpr[0] = 0;
  for (uint64_t& f : in.fpr) f = val.Bits();
  for (uint32_t& w : in.data) w = static_cast<uint32_t>(val.Bits());
  const bool fr = val.Chance(50);
  in.status = (val.Chance(95) ? runtime::st::CU1 : 0) | (fr ? runtime::st::FR : 0);
  // FCSR: condition codes, flags and cause at random; the rounding mode is nearest half the time; FS in
  // one case in three; enables off mostly, Inexact alone or any set otherwise.
  uint32_t fcsr = static_cast<uint32_t>(val.Bits()) & 0xFE83F07Cu & ~(1u << 24);
  if (!val.Chance(50)) fcsr |= val.Below(4);
  if (val.Chance(33)) fcsr |= 1u << 24;
  if (const uint32_t e = val.Below(100); e >= 65) fcsr |= (e < 85 ? 1u : val.Below(32)) << 7;
  in.fcsr = fcsr;
  // Operands in the format the instruction reads; now and then related to each other.
  const unsigned srcs[] = {regs.fs, regs.ft, regs.fr};
  for (unsigned r : srcs) {
    switch (t.fmt) {
      case Fmt::kSingle: SetWord(in.fpr, r, val.Single()); break;
      case Fmt::kDouble: SetDword(in.fpr, fr, r, val.Double()); break;
      case Fmt::kWord: SetWord(in.fpr, r, val.Word()); break;
    }
  }
  if (val.Chance(25) && regs.fs != regs.ft && t.fmt != Fmt::kWord) {
    const bool wide = t.fmt == Fmt::kDouble;
    uint64_t x = wide ? GetDword(in.fpr, fr, regs.fs) : static_cast<uint32_t>(in.fpr[regs.fs]);
    const uint64_t sign = wide ? 1ull << 63 : 1ull << 31;
    switch (val.Below(4)) {
      case 0: break;             // equal
      case 1: x ^= sign; break;  // opposite: sums cancel exactly
      case 2: x += 1; break;     // neighbours: differences are tiny
      default:
        x -= wide ? (uint64_t{val.Below(60)} << 52) : (uint64_t{val.Below(30)} << 23);
        break;  // scaled
    }
    if (wide) {
      SetDword(in.fpr, fr, regs.ft, x);
    } else {
      SetWord(in.fpr, regs.ft, static_cast<uint32_t>(x));
    }
  }
  // Addresses: a0 + 8 and a0 + a1 inside the buffer, aligned but now and then off by a word or a byte.
  in.gpr[a0] = kData + 8 * val.Below(4);
  in.gpr[a1] = 8 * val.Below(4);
  if (val.Chance(10)) in.gpr[a0] += val.Chance(50) ? 4 : 2;
  in.gpr[t0] = val.Chance(50) ? 0 : in.gpr[t0];
  return in;
}

void Apply(TestMachine& m, const CaseInput& in) {
  runtime::CpuState& c = m.cpu();
  for (unsigned i = 0; i < 32; ++i) {
    c.gpr[i] = in.gpr[i];
    c.fpu.fpr[i] = in.fpr[i];
  }
  c.fpu.fcsr = in.fcsr;
  c.cp0.status = in.status;
  c.cp0.cause = 0;
  c.cp0.epc = 0;
  c.cp0.badvaddr = 0;
  runtime::UpdateMode(c);
  for (unsigned i = 0; i < kDataWords; ++i) m.Write32(kDataPa + 4 * i, in.data[i]);
}

struct Result {
  vmm::VmExit exit;
  ArchState arch;
  uint64_t fpr[32];
  uint32_t fcsr;
};

Result Capture(TestMachine& m, vmm::VmExit exit) {
  Result r{exit, Snapshot(m, kDataPa, kDataWords), {}, m.cpu().fpu.fcsr};
  for (unsigned i = 0; i < 32; ++i) r.fpr[i] = m.cpu().fpu.fpr[i];
  return r;
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// Empty when equal; otherwise the differing fields, named.
std::string Differences(const Result& want, const Result& got) {
  std::string d;
  auto field = [&](const std::string& name, uint64_t a, uint64_t b) {
    if (a != b) d += "  " + name + ": interp " + Hex(a) + ", jit " + Hex(b) + "\n";
  };
  field("exit", static_cast<uint64_t>(want.exit), static_cast<uint64_t>(got.exit));
  for (unsigned i = 0; i < 32; ++i) field("f" + std::to_string(i), want.fpr[i], got.fpr[i]);
  field("FCSR", want.fcsr, got.fcsr);
  for (unsigned i = 0; i < 32; ++i) field("r" + std::to_string(i), want.arch.gpr[i], got.arch.gpr[i]);
  field("PC", want.arch.pc, got.arch.pc);
  field("EPC", want.arch.epc, got.arch.epc);
  field("Cause", want.arch.cause, got.arch.cause);
  field("BadVAddr", want.arch.badvaddr, got.arch.badvaddr);
  field("Status", want.arch.status, got.arch.status);
  for (size_t i = 0; i < want.arch.data.size(); ++i)
    field("data word " + std::to_string(i), want.arch.data[i], got.arch.data[i]);
  return d;
}

std::string Describe(const CaseInput& in, const Regs& regs) {
  std::string s = "FCSR " + Hex(in.fcsr) + ", Status " + Hex(in.status);
  for (unsigned r : {regs.fs, regs.ft, regs.fr, regs.fd})
    s += ", f" + std::to_string(r) + "=" + Hex(in.fpr[r]) + " f" + std::to_string(r ^ 1) + "=" +
         Hex(in.fpr[r ^ 1]);
  s += ", a0 " + Hex(in.gpr[a0]) + ", a1 " + Hex(in.gpr[a1]) + ", t0 " + Hex(in.gpr[t0]);
  return s;
}

uint64_t BaseSeed() {
  const char* s = std::getenv("STROBE_FPU_INLINE_SEED");
  return s && *s ? std::strtoull(s, nullptr, 0) : kDefaultSeed;
}

// The instructions in groups, one test each (each compiles its own programs).
enum class Group { kArithmetic, kConversions, kMultiplyAdd, kCompares, kMoves, kMemory, kBranches };
constexpr const char* kGroupNames[] = {"arithmetic", "conversions", "multiply_add", "compares",
                                       "moves",      "memory",      "branches"};

Group GroupOf(const OpUnderTest& t) {
  switch (t.shape) {
    case Shape::kArith: return Group::kArithmetic;
    case Shape::kUnary:
      if (t.op == Opcode::SQRT_S || t.op == Opcode::SQRT_D) return Group::kArithmetic;
      if (t.op == Opcode::ABS_S || t.op == Opcode::ABS_D || t.op == Opcode::NEG_S || t.op == Opcode::NEG_D ||
          t.op == Opcode::MOV_S || t.op == Opcode::MOV_D)
        return Group::kMoves;
      return Group::kConversions;
    case Shape::kMadd: return Group::kMultiplyAdd;
    case Shape::kCompare: return Group::kCompares;
    case Shape::kLoadStore:
    case Shape::kIndexed: return Group::kMemory;
    case Shape::kBranch: return Group::kBranches;
    default: return Group::kMoves;
  }
}

class FpuInlineJit : public ::testing::TestWithParam<Group> {};

TEST_P(FpuInlineJit, MatchesTheInterpreter) {
  const Group group = GetParam();
  const bool computes =
      group == Group::kArithmetic || group == Group::kConversions || group == Group::kMultiplyAdd;
  // Fewer cases than the tier's threshold (256 entries): the jit engine's programs stay in the first tier,
  // and jit_O1 has the optimising tiers' shape from the start.
  const unsigned count = computes ? 250 : group == Group::kCompares ? 60 : 120;
  const Engine engines[] = {Engine::kInterp, Engine::kJit, kJitO1};
  std::vector<std::unique_ptr<TestMachine>> machines;
  for (Engine e : engines) {
    machines.push_back(NewMachine(e, 0, runtime::CpuModel::k24Kf));
    InstallHaltHandlers(*machines.back());
  }
  // Every program at its own address, loaded once: the translating engines compile each region once.
  struct Loaded {
    const OpUnderTest* op;
    const Variant* variant;
    uint64_t seed_offset;
    uint32_t pa;
  };
  const std::vector<OpUnderTest> ops = Ops();
  std::vector<Loaded> programs;
  for (const OpUnderTest& t : ops) {
    if (GroupOf(t) != group) continue;
    for (size_t v = 0; v < std::size(kVariants); ++v) {
      const uint32_t pa = kCodePa + kProgramBytes * static_cast<uint32_t>(programs.size());
      for (auto& m : machines) m->LoadCode(pa, Program(t, kVariants[v]).words());
      programs.push_back({&t, &kVariants[v], 8 * static_cast<uint64_t>(t.op) + v, pa});
    }
  }
  ASSERT_FALSE(programs.empty());
  ASSERT_LT(programs.back().pa + kProgramBytes, kDataPa);

  const uint64_t base = BaseSeed();
  unsigned failures = 0, cases = 0, exceptions = 0, inexact = 0, exact = 0;
  for (size_t p = 0; p < programs.size() && failures < 10; ++p) {
    const Loaded& prog = programs[p];
    const uint64_t seed = base + prog.seed_offset;
    const uint32_t end = (kKseg0 | prog.pa) + Program(*prog.op, *prog.variant).size_bytes();
    Values val(seed);
    for (unsigned k = 0; k < count && failures < 10; ++k) {
      const CaseInput in = DrawCase(val, *prog.op, prog.variant->regs);
      Result ref{};
      for (size_t e = 0; e < machines.size(); ++e) {
        TestMachine& m = *machines[e];
        Apply(m, in);
        const Result r = Capture(m, m.Run(kKseg0 | prog.pa, 100));
        if (e == 0) {
          ref = r;
          continue;
        }
        const std::string diff = Differences(ref, r);
        if (diff.empty()) continue;
        ++failures;
        ADD_FAILURE() << mips::NameOf(prog.op->op) << " (" << prog.variant->name << "), "
                      << EngineName(engines[e]) << ", case " << k << " of seed " << seed
                      << " (STROBE_FPU_INLINE_SEED=" << base << ")\n  " << Describe(in, prog.variant->regs)
                      << "\n"
                      << diff;
      }
      ++cases;
      const uint32_t cause = (ref.fcsr >> 12) & 0x3F;
      if (ref.arch.pc != end) {
        ++exceptions;
      } else if (cause == 1) {
        ++inexact;
      } else if (cause == 0) {
        ++exact;
      }
    }
  }
  for (size_t e = 1; e < machines.size(); ++e) {
    EXPECT_GE(Installed(*machines[e]), programs.size())
        << EngineName(engines[e]) << ": too little was translated";
    EXPECT_NE(NativeOf(*machines[e], programs.back().pa), nullptr) << EngineName(engines[e]);
  }
  std::printf("[fpu inline] %s: %zu programs, %u cases, %u ended in an exception\n",
              kGroupNames[static_cast<int>(group)], programs.size(), cases, exceptions);
  if (computes) {
    std::printf("[fpu inline] computations without exception: %u inexact, %u exact\n", inexact, exact);
    // The fast paths must have had work: computations end without an exception, exact and inexact.
    EXPECT_GT(inexact, cases / 10);
    EXPECT_GT(exact, cases / 20);
  }
}

INSTANTIATE_TEST_SUITE_P(Groups, FpuInlineJit,
                         ::testing::Values(Group::kArithmetic, Group::kConversions, Group::kMultiplyAdd,
                                           Group::kCompares, Group::kMoves, Group::kMemory, Group::kBranches),
                         [](const ::testing::TestParamInfo<Group>& i) {
                           return std::string(kGroupNames[static_cast<int>(i.param)]);
                         });

}  // namespace
}  // namespace strobe::test::jt
