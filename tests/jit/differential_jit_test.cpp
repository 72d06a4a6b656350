// SPDX-License-Identifier: MIT
// Differential checks between the engines: instruction sequences (ALU, multiply/divide, loads and stores
// of every width including the unaligned and linked forms, every kind of branch, calls across pages) run
// as the body of a loop, several times over, under the interpreter, the eager jit engine and the tiered
// engine; the full register file, HI/LO, PC, the CP0 registers exceptions write and a data buffer must be
// identical, and the translating engines must really have run translated code.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tests/jit/jit_support.h"

namespace strobe::test::jt {
namespace {

constexpr int32_t kIterations = 300;  // per run: past the tiered threshold
constexpr int kRuns = 4;              // the tiered engine installs after the first run's slice
constexpr unsigned kDataWords = 160;  // what the memory body reaches

uint32_t R3(Opcode op, uint32_t rd, uint32_t rs, uint32_t rt) {
  return E(op, {.rs = rs, .rt = rt, .rd = rd});
}
uint32_t Imm(Opcode op, uint32_t rt, uint32_t rs, uint32_t imm) {
  return E(op, {.rs = rs, .rt = rt, .imm = imm & 0xFFFF});
}
uint32_t Shift(Opcode op, uint32_t rd, uint32_t rt, uint32_t sa) {
  return E(op, {.rt = rt, .rd = rd, .sa = sa});
}
uint32_t Mem(Opcode op, uint32_t rt, int32_t off, uint32_t base) {
  return Imm(op, rt, base, static_cast<uint32_t>(off));
}
uint32_t HiLo(Opcode op, uint32_t rs, uint32_t rt) {
  return E(op, {.rs = rs, .rt = rt});
}

// t9 counts the iterations; the body must not touch t9, a0 (the data buffer) or k0/k1.
// 0: addiu t9, zero, n; 1: body...; addiu t9, t9, -1; bne t9, zero, 1; nop; wait
Asm Looped(const Asm& body) {
  Asm a;
  a << Addiu(t9, zero, kIterations) << body << Addiu(t9, t9, -1);
  const int32_t back = -static_cast<int32_t>(a.words().size());  // to word 1, relative to the slot
  a << Bne(t9, zero, back) << Nop() << kWaitWord;
  return a;
}

Asm AluBody() {
  return Asm{R3(Opcode::ADDU, t0, s0, s1),
             R3(Opcode::SUBU, t1, s2, t0),
             Shift(Opcode::SLL, t2, t1, 7),
             Shift(Opcode::SRL, t3, t1, 13),
             Shift(Opcode::SRA, t4, s7, 5),
             Shift(Opcode::ROTR, t5, t1, 11),
             R3(Opcode::SLLV, t6, t1, s3),
             R3(Opcode::SRLV, t7, t2, s3),
             R3(Opcode::SRAV, t8, t3, s4),
             R3(Opcode::ROTRV, v0, t4, s5),
             R3(Opcode::AND, s0, t0, t2),
             R3(Opcode::OR, s1, t3, t5),
             R3(Opcode::XOR, s2, s2, t6),
             R3(Opcode::NOR, s3, t7, t8),
             R3(Opcode::SLT, v1, t1, t2),
             R3(Opcode::SLTU, a1, t1, t2),
             Imm(Opcode::SLTI, a2, s2, 0x8123),
             Imm(Opcode::SLTIU, a3, s2, 0x7123),
             Imm(Opcode::ANDI, t0, s3, 0xF0F0),
             Imm(Opcode::ORI, t1, s4, 0x1357),
             Imm(Opcode::XORI, t2, s5, 0xBEEF),
             E(Opcode::CLZ, {.rs = t3, .rt = t3, .rd = t3}),
             E(Opcode::CLO, {.rs = s2, .rt = t4, .rd = t4}),
             E(Opcode::EXT, {.rs = s1, .rt = t5, .rd = 11, .sa = 5}),
             E(Opcode::INS, {.rs = t0, .rt = s6, .rd = 20, .sa = 9}),
             E(Opcode::WSBH, {.rt = s6, .rd = t6}),
             E(Opcode::SEB, {.rt = t6, .rd = t7}),
             E(Opcode::SEH, {.rt = t1, .rd = t8}),
             R3(Opcode::MOVZ, s4, t7, a1),
             R3(Opcode::MOVN, s5, t8, v1),
             Lui(gp, 0x9E37),
             R3(Opcode::ADDU, s7, s7, gp),
             R3(Opcode::XOR, s7, s7, t2),
             R3(Opcode::ADDU, s6, s6, s7),
             R3(Opcode::ADDU, s0, s0, t0),
             R3(Opcode::XOR, s1, s1, t5),
             R3(Opcode::ADDU, s2, s2, a2),
             R3(Opcode::ADDU, s3, s3, a3),
             R3(Opcode::ADDU, s4, s4, t4),
             Addiu(s5, s5, 0x2345)};
}

Asm MulDivBody() {
  return Asm{HiLo(Opcode::MULT, s0, s1),     R3(Opcode::MFHI, t0, 0, 0),
             R3(Opcode::MFLO, t1, 0, 0),     HiLo(Opcode::MULTU, s2, s3),
             HiLo(Opcode::MADD, t0, s4),     HiLo(Opcode::MADDU, t1, s5),
             HiLo(Opcode::MSUB, s6, t0),     HiLo(Opcode::MSUBU, s7, t1),
             R3(Opcode::MFHI, t2, 0, 0),     R3(Opcode::MFLO, t3, 0, 0),
             R3(Opcode::MUL, t4, s0, s3),    HiLo(Opcode::DIV, s1, s2),  // s2 is zero on some iterations
             R3(Opcode::MFHI, t5, 0, 0),     R3(Opcode::MFLO, t6, 0, 0),
             HiLo(Opcode::DIV, s4, s5),  // s4 = INT_MIN, s5 = -1 at first
             R3(Opcode::MFLO, t7, 0, 0),     HiLo(Opcode::DIVU, s3, t4),
             R3(Opcode::MFHI, t8, 0, 0),     HiLo(Opcode::MTHI, t2, 0),
             HiLo(Opcode::MTLO, t7, 0),      HiLo(Opcode::MADD, t8, t3),
             R3(Opcode::ADDU, s0, s0, t2),   R3(Opcode::XOR, s1, s1, t3),
             Imm(Opcode::ANDI, s2, t4, 0x3), R3(Opcode::ADDU, s3, s3, t5),
             R3(Opcode::XOR, s6, s6, t6),    R3(Opcode::ADDU, s7, s7, t8),
             Addiu(s4, s4, 0x321),           Addiu(s5, s5, -7)};
}

// Loads and stores over the data buffer at a0; s0 walks through it (masked to stay inside).
Asm MemoryBody() {
  return Asm{Imm(Opcode::ANDI, t0, s0, 0xFC),
             R3(Opcode::ADDU, t0, t0, a0),
             Mem(Opcode::LB, t1, 1, t0),
             Mem(Opcode::LBU, t2, 2, t0),
             Mem(Opcode::LH, t3, 2, t0),
             Mem(Opcode::LHU, t4, 0, t0),
             Mem(Opcode::LW, t5, 4, t0),
             R3(Opcode::ADDU, s1, s1, t1),
             R3(Opcode::XOR, s2, s2, t2),
             R3(Opcode::ADDU, s3, s3, t3),
             R3(Opcode::XOR, s4, s4, t4),
             R3(Opcode::ADDU, s5, s5, t5),
             Mem(Opcode::SB, s5, 3, t0),
             Mem(Opcode::SH, s4, 0x100, t0),
             Mem(Opcode::SW, s1, 0x104, t0),
             Imm(Opcode::ORI, t6, zero, 0x1234),
             Mem(Opcode::LWL, t6, 0x105, t0),
             Mem(Opcode::LWR, t6, 0x102, t0),
             R3(Opcode::ADDU, s6, s6, t6),
             Mem(Opcode::SWL, s6, 0x1, t0),
             Mem(Opcode::SWR, s3, 0x10E, t0),
             Mem(Opcode::LL, t7, 8, t0),
             Addiu(t7, t7, 5),
             Mem(Opcode::SC, t7, 8, t0),
             R3(Opcode::ADDU, s7, s7, t7),
             Addiu(s0, s0, 0x1C)};
}

// CP0 moves that the engines emitting code do inline (the registers that are plain fields, runtime/
// cp0_plain.h: written with bits outside their masks, read back), reads of registers only the runtime
// writes, CACHE (kernel mode: nothing), and LL/SC with LLAddr read back.
Asm Cp0Body() {
  Asm a;
  a << Addiu(s0, s0, 0x1C) << Imm(Opcode::ANDI, t0, s0, 0xFC) << R3(Opcode::ADDU, t0, t0, a0)
    << Mem(Opcode::LW, s1, 0, t0);  // a value with every bit pattern over the iterations
  const std::pair<uint32_t, uint32_t> plain[] = {{2, 0},  {3, 0},  {4, 0},  {4, 2},  {5, 0},  {7, 0},
                                                 {14, 0}, {18, 0}, {19, 0}, {28, 0}, {28, 1}, {30, 0}};
  for (auto [reg, sel] : plain)
    a << Mtc0(s1, reg, sel) << Mfc0(t1, reg, sel) << R3(Opcode::XOR, s2, s2, t1)
      << Shift(Opcode::ROTR, s2, s2, 3);
  // (not Cause: its timer bit is set when the clock passes Compare, which engines see at different points)
  const std::pair<uint32_t, uint32_t> read_only[] = {{0, 0},  {6, 0},  {8, 0},  {10, 0}, {12, 0}, {12, 1},
                                                     {15, 0}, {15, 1}, {16, 0}, {16, 1}, {16, 3}};
  for (auto [reg, sel] : read_only) a << Mfc0(t1, reg, sel) << R3(Opcode::ADDU, s3, s3, t1);
  a << E(Opcode::CACHE, {.rs = t0, .op = 0x14}) << E(Opcode::CACHE, {.rs = t0, .op = 0x01})
    << Mem(Opcode::LL, t7, 8, t0) << Addiu(t7, t7, 5) << Mem(Opcode::SC, t7, 8, t0)
    << R3(Opcode::ADDU, s4, s4, t7) << Mem(Opcode::SC, t7, 12, t0)  // the LL bit holds: stores again
    << Mfc0(t8, 17) << R3(Opcode::XOR, s5, s5, t8);
  // DI returns Status and clears IE (not EI: an interrupt would come when the engines' clocks differ).
  a << E(Opcode::DI, {.rt = t6}) << R3(Opcode::XOR, s6, s6, t6) << Shift(Opcode::ROTR, s6, s6, 5);
  return a;
}

// Every conditional branch kind (likely and linking forms too) and a call to a function on another page.
// Each branch skips one `addiu v0, v0, k` when taken; s1 alternates sign, s2 counts.
Asm BranchBody(uint32_t fn) {
  Asm a;
  auto skip = [&](uint32_t branch, int32_t k) {
    a << branch << Addiu(v1, v1, 1) << Addiu(v0, v0, k);  // slot, then the skipped word
  };
  a << Addiu(s2, s2, 1) << Imm(Opcode::ANDI, t0, s2, 3) << Addiu(s1, t0, -2);  // s1 in -2..1
  skip(Imm(Opcode::BEQ, t0, zero, 1), 1);
  skip(Imm(Opcode::BNE, t0, zero, 1), 2);
  skip(E(Opcode::BLEZ, {.rs = s1, .imm = 1}), 4);
  skip(E(Opcode::BGTZ, {.rs = s1, .imm = 1}), 8);
  skip(E(Opcode::BLTZ, {.rs = s1, .imm = 1}), 16);
  skip(E(Opcode::BGEZ, {.rs = s1, .imm = 1}), 32);
  skip(Imm(Opcode::BEQL, t0, zero, 1), 64);
  skip(Imm(Opcode::BNEL, t0, zero, 1), 128);
  skip(E(Opcode::BLEZL, {.rs = s1, .imm = 1}), 256);
  skip(E(Opcode::BGTZL, {.rs = s1, .imm = 1}), 512);
  skip(E(Opcode::BLTZL, {.rs = s1, .imm = 1}), 1024);
  skip(E(Opcode::BGEZL, {.rs = s1, .imm = 1}), 2048);
  skip(E(Opcode::BLTZAL, {.rs = s1, .imm = 1}), 4096);
  a << R3(Opcode::ADDU, s3, s3, ra);
  skip(E(Opcode::BGEZAL, {.rs = s1, .imm = 1}), 8192);
  a << R3(Opcode::XOR, s4, s4, ra);
  a << E(Opcode::JAL, {.target = (fn >> 2) & 0x3FFFFFF}) << Addiu(a1, s2, 0);
  a << R3(Opcode::ADDU, s5, s5, v0);
  return a;
}

// The called function (on another page): a little checksum, returned through JR with work in the slot.
Asm Function() {
  return Asm{Shift(Opcode::SLL, t1, a1, 3), R3(Opcode::XOR, s6, s6, t1),
             E(Opcode::JALR, {.rs = ra, .rd = t2}), Addiu(s7, s7, 3)};
}

// FNV-1a over 256 bytes of the buffer, then stored back; an inner loop.
Asm FnvBody() {
  Asm a;
  a.Li(t0, 0x811C9DC5).Li(t3, 0x01000193);
  a << Addiu(t1, a0, 0) << Addiu(t2, a0, 256);
  // inner: lbu t4, 0(t1); xor t0, t0, t4; mul t0, t0, t3; addiu t1, t1, 1; bne t1, t2, inner; nop
  a << Mem(Opcode::LBU, t4, 0, t1) << R3(Opcode::XOR, t0, t0, t4) << R3(Opcode::MUL, t0, t0, t3)
    << Addiu(t1, t1, 1) << Bne(t1, t2, -5) << Nop();
  a << R3(Opcode::ADDU, s0, s0, t0) << Shift(Opcode::SRL, t5, s0, 2) << Imm(Opcode::ANDI, t5, t5, 0xFC)
    << R3(Opcode::ADDU, t5, t5, a0) << Mem(Opcode::SW, s0, 0, t5);
  return a;
}

// FP arithmetic, conversions, compares and a BC1F inside the loop (on a 24Kf, FR=1, FCSR from s6): the
// values stream through f2 (a running sum fed by s0), results reach GPRs by MFC1/CFC1 and memory by SDC1.
// Division by a zero that comes round, square roots of negatives and overflowing conversions give the
// default NaNs, Invalid and the conversion sentinel along the way.
uint32_t Fp(Opcode op, uint32_t fd, uint32_t fs, uint32_t ft = 0) {
  return E(op, {.rt = ft, .rd = fs, .sa = fd});
}
Asm FpuPrologue(uint32_t fcsr, bool fr = true) {
  Asm a;
  a.Li(t0, (1u << 29) | (fr ? 1u << 26 : 0));
  a << Mtc0(t0, kCp0Status);
  a.Li(t1, fcsr);
  a << E(Opcode::CTC1, {.rt = t1, .rd = 31}) << E(Opcode::MTC1, {.rt = s1, .rd = 0})
    << Fp(Opcode::CVT_D_W, 2, 0) << Fp(Opcode::CVT_S_W, 3, 0);
  return a;
}
Asm FpuBody() {
  return Asm{R3(Opcode::ADDU, s0, s0, s1),
             Shift(Opcode::SRA, t0, s0, 9),
             E(Opcode::MTC1, {.rt = t0, .rd = 4}),
             Fp(Opcode::CVT_D_W, 6, 4),
             Fp(Opcode::MUL_D, 8, 6, 2),
             Fp(Opcode::DIV_D, 10, 8, 6),
             Fp(Opcode::ADD_D, 2, 2, 10),
             Fp(Opcode::SQRT_D, 12, 8),
             E(Opcode::C_OLT_D, {.rt = 8, .rd = 12, .code = 1}),
             E(Opcode::BC1F, {.imm = 2, .code = 1}),
             Fp(Opcode::ADD_S, 3, 3, 4),
             Fp(Opcode::MUL_S, 14, 3, 3),
             E(Opcode::MADD_D, {.rs = 2, .rt = 6, .rd = 8, .sa = 16}),
             Fp(Opcode::CVT_W_D, 18, 16),
             E(Opcode::MFC1, {.rt = t1, .rd = 18}),
             R3(Opcode::ADDU, s2, s2, t1),
             Fp(Opcode::TRUNC_W_S, 20, 14),
             E(Opcode::MFC1, {.rt = t2, .rd = 20}),
             R3(Opcode::XOR, s3, s3, t2),
             Fp(Opcode::CVT_S_D, 22, 12),
             E(Opcode::MOVT_D, {.rd = 16, .sa = 24, .code = 1}),
             E(Opcode::MOVZ_S, {.rt = t2, .rd = 22, .sa = 26}),
             E(Opcode::CFC1, {.rt = t3, .rd = 31}),
             R3(Opcode::ADDU, s4, s4, t3),
             Imm(Opcode::ANDI, t4, s0, 0x78),
             R3(Opcode::ADDU, t4, t4, a0),
             Mem(Opcode::SDC1, 2, 0, t4),
             Mem(Opcode::SWC1, 22, 128, t4),
             E(Opcode::MFHC1, {.rt = t5, .rd = 24}),
             Mem(Opcode::LWC1, 28, 4, t4),
             E(Opcode::MFC1, {.rt = t6, .rd = 26}),
             E(Opcode::MFC1, {.rt = t7, .rd = 28})};
}

// FP loads and stores of every width and addressing mode over the buffer (plain, indexed; through one base
// register, so the optimising tiers reuse its page), with arithmetic between them, in a loop that is one
// block: FP values go from memory to memory and, through MFC1/MFHC1/CFC1, into GPRs. Even registers, so it
// runs with FR=0 and FR=1.
Asm FpuMemoryBody() {
  return Asm{Imm(Opcode::ANDI, t0, s0, 0x78),
             R3(Opcode::ADDU, t0, t0, a0),
             Mem(Opcode::LDC1, 2, 0, t0),
             Mem(Opcode::LDC1, 4, 8, t0),
             Fp(Opcode::ADD_D, 6, 2, 4),
             Mem(Opcode::SDC1, 6, 256, t0),
             Mem(Opcode::LWC1, 8, 4, t0),
             Mem(Opcode::SWC1, 8, 260, t0),
             Addiu(t1, zero, 16),
             E(Opcode::LDXC1, {.rs = t0, .rt = t1, .sa = 10}),
             Fp(Opcode::MUL_D, 12, 10, 6),
             E(Opcode::SDXC1, {.rs = t0, .rt = t1, .rd = 12}),
             E(Opcode::LWXC1, {.rs = t0, .rt = t1, .sa = 14}),
             Fp(Opcode::SUB_S, 16, 14, 8),
             E(Opcode::SWXC1, {.rs = t0, .rt = t1, .rd = 16}),
             Mem(Opcode::SDC1, 12, 264, t0),
             E(Opcode::MFC1, {.rt = t2, .rd = 12}),
             R3(Opcode::ADDU, s1, s1, t2),
             E(Opcode::MFHC1, {.rt = t3, .rd = 12}),
             R3(Opcode::XOR, s2, s2, t3),
             E(Opcode::CFC1, {.rt = t4, .rd = 31}),
             R3(Opcode::ADDU, s3, s3, t4),
             Addiu(s0, s0, 0x18)};
}

struct Program {
  std::string name;
  Asm code;
  uint32_t fn_pa = 0;  // where Function() goes, if used
  bool fpu = false;    // runs on a 24Kf
};

void Seed(TestMachine& m) {
  runtime::CpuState& c = m.cpu();
  uint32_t x = 0x12345678;
  for (unsigned r = 1; r < 32; ++r) {
    x = x * 1664525u + 1013904223u;
    c.gpr[r] = x;
  }
  c.gpr[s2] = 0;  // DIV by zero on the first iteration of the muldiv body
  c.gpr[s4] = 0x80000000u;
  c.gpr[s5] = 0xFFFFFFFFu;
  c.gpr[a0] = kData;
  c.hi = 0xCAFEF00D;
  c.lo = 0x0BADBEEF;
  for (unsigned i = 0; i < kDataWords; ++i) {
    x = x * 1664525u + 1013904223u;
    m.Write32(kDataPa + 4 * i, x);
  }
}

struct Outcome {
  ArchState state;
  uint64_t installed = 0;
  bool code_translated = false;
};

Outcome RunProgram(Engine e, const Program& p, unsigned jit_opt_level = 0) {
  auto mp = NewMachine(e, jit_opt_level, p.fpu ? runtime::CpuModel::k24Kf : runtime::CpuModel::k24Kc);
  TestMachine& m = *mp;
  InstallHaltHandlers(m);
  m.LoadCode(kCodePa, p.code.words());
  if (p.fn_pa) m.LoadCode(p.fn_pa, Function().words());
  Seed(m);
  for (int run = 0; run < kRuns; ++run) {
    EXPECT_EQ(m.Run(kCode, 10'000'000), vmm::VmExit::kHalted) << EngineName(e) << " run " << run;
    EXPECT_EQ(m.cpu().pc, kCode + p.code.size_bytes()) << EngineName(e) << ": an exception was taken";
    Drain(m);
  }
  Outcome o;
  o.state = Snapshot(m, kDataPa, kDataWords);
  o.installed = Installed(m);
  o.code_translated = NativeOf(m, kCodePa) != nullptr;
  return o;
}

class Differential : public ::testing::TestWithParam<int> {};

std::vector<Program> Programs() {
  const uint32_t fn_pa = kCodePa + 0x2000;
  return {
      {"alu", Looped(AluBody())},
      {"muldiv", Looped(MulDivBody())},
      {"memory", Looped(MemoryBody())},
      {"branches", Looped(BranchBody(kKseg0 | fn_pa)), fn_pa},
      {"fnv", Looped(FnvBody())},
      {"cp0", Looped(Cp0Body())},
      {"mixed", Looped(Asm() << AluBody() << MemoryBody() << MulDivBody() << BranchBody(kKseg0 | fn_pa)),
       fn_pa},
      {"fpu", Asm() << FpuPrologue(0) << Looped(FpuBody()), 0, true},
      {"fpu_round_down_fs", Asm() << FpuPrologue(3 | (1u << 24)) << Looped(FpuBody()), 0, true},
      {"fpu_memory", Asm() << FpuPrologue(0) << Looped(FpuMemoryBody()), 0, true},
      {"fpu_memory_fr0", Asm() << FpuPrologue(0, false) << Looped(FpuMemoryBody()), 0, true},
  };
}

TEST_P(Differential, AllEnginesAgree) {
  const Program p = Programs()[static_cast<size_t>(GetParam())];
  SCOPED_TRACE(p.name);
  Outcome ref = RunProgram(Engine::kInterp, p);
  for (Engine e : {Engine::kJit, Engine::kTiered}) {
    Outcome o = RunProgram(e, p);
    ExpectSameState(ref.state, o.state, EngineName(e));
    EXPECT_GT(o.installed, 0u) << EngineName(e) << ": nothing was translated";
    if (e == Engine::kJit) {
      EXPECT_TRUE(o.code_translated) << "the program's entry block should be translated";
    }
  }
  // The interpreter's baseline code for every block.
  Outcome b = RunProgram(kBaseline, p);
  ExpectSameState(ref.state, b.state, "baseline");
  EXPECT_EQ(b.installed, 0u) << "baseline: LLVM should stay out of it";
  // The optimising tiers' code shape (promoted registers), compiled eagerly.
  Outcome o = RunProgram(Engine::kJit, p, 1);
  ExpectSameState(ref.state, o.state, "jit O1");
  EXPECT_TRUE(o.code_translated) << "jit O1: the program's entry block should be translated";
}

// CP0's instructions in user mode without Status.CU0 raise Coprocessor Unusable (CE 0) at themselves,
// after a loop that gave the block translated or baseline code, in every engine; with CU0 they run (DI
// returns Status and clears IE), and the SYSCALL after them ends the run.
TEST(DifferentialUser, Cp0InstructionsNeedCu0) {
  const std::pair<const char*, uint32_t> insns[] = {{"mfc0 t1, Status", Mfc0(t1, kCp0Status)},
                                                    {"mtc0 t2, Context", Mtc0(t2, 4)},
                                                    {"di t1", E(Opcode::DI, {.rt = t1})}};
  constexpr uint32_t kUserStatus = 2u << runtime::st::KSU_SHIFT;
  for (const auto& [text, insn] : insns) {
    for (const bool cu0 : {false, true}) {
      SCOPED_TRACE(testing::Message() << text << (cu0 ? ", CU0 set" : ", CU0 clear"));
      ArchState want;
      for (Engine e : {Engine::kInterp, Engine::kJit, kJitO1, kBaseline}) {
        SCOPED_TRACE(EngineName(e));
        auto mp = NewMachine(e);
        TestMachine& m = *mp;
        InstallHaltHandlers(m);
        m.cpu().gpr[t1] = 0xDEADBEEF;
        m.cpu().gpr[t2] = 0x00123450;
        m.cpu().gpr[t3] = 200;
        // loop: addiu t3, -1; bne t3, zero, loop; addiu v0, 1; INSN; addiu v1, 1; syscall
        const Asm code{Addiu(t3, t3, -1), Bne(t3, zero, -2), Addiu(v0, v0, 1), insn,
                       Addiu(v1, v1, 1),  Syscall()};
        const uint32_t extra = cu0 ? runtime::st::CU0 | runtime::st::IE : 0;
        ASSERT_EQ(RunUserCode(m, code, extra), vmm::VmExit::kHalted);
        EXPECT_EQ(m.cpu().gpr[v0], 200u);
        if (!cu0) {
          EXPECT_EQ(ExcCodeOf(m), 11u) << "CpU";
          EXPECT_EQ(CeOf(m), 0u);
          EXPECT_EQ(m.cpu().cp0.epc, kUserCode + 12);
          EXPECT_EQ(m.cpu().gpr[t1], 0xDEADBEEFu) << "nothing written";
          EXPECT_EQ(m.cpu().gpr[v1], 0u);
        } else {
          EXPECT_EQ(ExcCodeOf(m), 8u) << "ended by its SYSCALL";
          EXPECT_EQ(m.cpu().gpr[v1], 1u);
          if (insn == E(Opcode::DI, {.rt = t1})) {
            EXPECT_EQ(m.cpu().gpr[t1], kUserStatus | extra) << "Status before";
            EXPECT_EQ(m.cpu().cp0.status & runtime::st::IE, 0u) << "IE cleared";
          }
        }
        if (e == Engine::kInterp) {
          want = Snapshot(m);
        } else {
          ExpectSameState(want, Snapshot(m), EngineName(e));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, Differential, ::testing::Range(0, static_cast<int>(Programs().size())),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return Programs()[static_cast<size_t>(i.param)].name;
                         });

}  // namespace
}  // namespace strobe::test::jt
