// SPDX-License-Identifier: MIT
// Every row of mips32.inc against Capstone 4.0.2: random instances must disassemble to the row's mnemonic
// (or a listed alias, exactly when its condition holds), and for a representative subset the register and
// immediate operands Capstone reports must equal the fields our decoder extracts.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "tests/decoder/capstone_support.h"
#include "tests/decoder/decoder_test_support.h"

namespace strobe::mips::test {
namespace {

constexpr uint32_t kPc = 0x10000000u;  // positive, 256 MiB-aligned: branch and jump targets stay unambiguous
constexpr int kInstancesPerRow = 400;

const CapstoneAlias* AliasFor(const DecodedInsn& d) {
  for (const CapstoneAlias& a : kCapstoneAliases)
    if (a.op == d.op && a.applies(d)) return &a;
  return nullptr;
}

std::string ExpectedMnemonic(const DecodedInsn& d) {
  if (const CapstoneAlias* a = AliasFor(d)) return std::string(a->mnemonic);
  return Lower(NameOf(d.op));
}

// A random instance of the row that Capstone is able to decode.
Fields Checkable(const Encoding& e, Fields f) {
  if (const CapstoneConstraint* c = ConstraintFor(e.op)) c->restrict_fields(f);
  return f;
}
uint32_t CheckableInstance(const Encoding& e, std::mt19937& rng) {
  return Encode(e, Checkable(e, RandomFields(e, rng)));
}

TEST(CapstoneCrossCheck, OpensInMips32LittleEndianMode) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  int major = 0, minor = 0;
  cs_version(&major, &minor);
  EXPECT_EQ(major, 4) << "the exclusion and alias tables were written against Capstone 4.0.2";
  CsResult r = cs.Disassemble(0x24420001);  // addiu $v0, $v0, 1 (little-endian bytes 01 00 42 24)
  ASSERT_TRUE(r.valid);
  EXPECT_EQ(r.mnemonic, "addiu");
}

// The tables themselves: real rows, no row both excluded and constrained, every reason written, and every
// alias demonstrated by its example word.
TEST(CapstoneCrossCheck, DifferenceTablesAreWellFormed) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  std::set<Opcode> excluded;
  for (const CapstoneExclusion& x : kCapstoneExclusions) {
    EXPECT_LT(static_cast<size_t>(x.op), kNumOpcodes);
    EXPECT_TRUE(excluded.insert(x.op).second) << NameOf(x.op) << " excluded twice";
    EXPECT_GT(x.reason.size(), 20u) << NameOf(x.op);
  }
  std::set<Opcode> constrained;
  for (const CapstoneConstraint& c : kCapstoneConstraints) {
    EXPECT_FALSE(excluded.count(c.op)) << NameOf(c.op) << " is both excluded and constrained";
    EXPECT_TRUE(constrained.insert(c.op).second) << NameOf(c.op) << " constrained twice";
    EXPECT_GT(c.reason.size(), 20u) << NameOf(c.op);
  }
  for (const CapstoneAlias& a : kCapstoneAliases) {
    SCOPED_TRACE(std::string(NameOf(a.op)) + " -> " + std::string(a.mnemonic));
    EXPECT_FALSE(excluded.count(a.op));
    EXPECT_NE(a.mnemonic, Lower(NameOf(a.op)));
    EXPECT_GT(a.reason.size(), 20u);
    DecodedInsn d = Decode(a.example);
    ASSERT_EQ(d.op, a.op) << Hex(a.example) << " decodes as " << NameOf(d.op);
    EXPECT_TRUE(a.applies(d)) << Hex(a.example);
    EXPECT_EQ(AliasFor(d), &a) << "aliases of one row must not overlap";
    CsResult r = cs.Disassemble(a.example, kPc);
    EXPECT_EQ(r.mnemonic, a.mnemonic) << Hex(a.example) << ": " << r.Text();
  }
}

TEST(CapstoneCrossCheck, MnemonicsMatchRowNames) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  const uint32_t seed = TestSeed(0xC5);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  std::map<std::string_view, int> alias_hits;
  std::map<Opcode, int> fpu_gaps, checked;
  for (const Encoding& e : kEncodings) {
    if (ExclusionFor(e.op)) continue;
    SCOPED_TRACE(std::string(e.name));
    int failures = 0;
    for (int n = 0; n < kInstancesPerRow && failures < 5; ++n) {
      uint32_t word = n == 0 ? Encode(e, Checkable(e, Fields{})) : CheckableInstance(e, rng);
      DecodedInsn d = Decode(word);
      ASSERT_EQ(d.op, e.op) << Hex(word);
      CsResult r = cs.Disassemble(word, kPc);
      std::string expected = ExpectedMnemonic(d);
      if (!CapstoneFpuGap(d, r.valid, r.mnemonic).empty()) {
        ++fpu_gaps[e.op];
        continue;
      }
      ++checked[e.op];
      if (!r.valid || r.mnemonic != expected) {
        ++failures;
        ADD_FAILURE() << Hex(word) << ": Capstone says \"" << r.Text() << "\", expected \"" << expected
                      << "\"";
      }
      if (const CapstoneAlias* a = AliasFor(d)) ++alias_hits[a->mnemonic];
    }
  }
  // Capstone must have confirmed most FPU rows on some instances (it knows the MIPS32 FR=0 subset).
  int fpu_rows = 0, fpu_confirmed = 0;
  for (const Encoding& e : kEncodings) {
    if (!(e.flags & kCop1)) continue;
    ++fpu_rows;
    fpu_confirmed += checked[e.op] > 0;
  }
  std::printf("[ summary  ] FPU rows: %d of %d confirmed by Capstone on some instances\n", fpu_confirmed,
              fpu_rows);
  EXPECT_GE(fpu_confirmed, fpu_rows / 2);
  // The generators favour $zero, so the register-based aliases must have been exercised by random words too.
  for (std::string_view m : {"move", "negu", "not", "beqz", "bnez", "bal", "jr.hb", "jalr.hb"})
    EXPECT_GT(alias_hits[m], 0) << m;
}

// The field values listed as "Capstone cannot decode these" really are rejected by Capstone, so the
// constraint table documents a limitation and hides nothing else.
TEST(CapstoneCrossCheck, ConstrainedFieldValuesAreRejectedByCapstone) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  const uint32_t seed = TestSeed(0xC6);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  for (const CapstoneConstraint& c : kCapstoneConstraints) {
    const Encoding& e = EncodingOf(c.op);
    SCOPED_TRACE(std::string(e.name));
    int rejected = 0;
    for (int n = 0; n < 2000 && rejected < 50; ++n) {
      uint32_t word = Encode(e, RandomFields(e, rng));
      DecodedInsn d = Decode(word);
      if (c.accepts(d)) continue;
      ++rejected;
      CsResult r = cs.Disassemble(word, kPc);
      EXPECT_FALSE(r.valid) << Hex(word) << " is outside the constraint but Capstone says " << r.Text();
    }
    EXPECT_GT(rejected, 0) << "generator never left the constraint";
  }
}

// Excluded rows: shadow-register moves are unknown to Capstone; the coprocessor umbrella rows must never be
// named as one of our integer rows (which would mean a COP1/COP2 row shadows an integer encoding).
TEST(CapstoneCrossCheck, ExcludedRowsAreWhatTheTableSays) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  std::set<std::string> integer_names;
  for (const Encoding& e : kEncodings)
    if (!(e.flags & (kCop1 | kCop2))) integer_names.insert(Lower(e.name));
  const uint32_t seed = TestSeed(0xC7);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  for (const CapstoneExclusion& x : kCapstoneExclusions) {
    const Encoding& e = EncodingOf(x.op);
    SCOPED_TRACE(std::string(e.name));
    const bool cop = e.flags & (kCop1 | kCop2);
    for (int n = 0; n < 2000; ++n) {
      uint32_t word = Encode(e, RandomFields(e, rng));
      CsResult r = cs.Disassemble(word, kPc);
      if (!cop) {
        EXPECT_FALSE(r.valid) << Hex(word) << ": Capstone learned " << r.Text() << "; drop the exclusion";
      } else if (r.valid) {
        EXPECT_FALSE(integer_names.count(r.mnemonic)) << Hex(word) << ": " << r.Text();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Operands. Capstone 4.0.2 differences handled here: the REGIMM trap immediates (TGEI..TNEI) are printed
// as unsigned 16-bit values although MD00086 sign-extends them (so they are compared as 'u'); CLZ/CLO take
// their destination from rt, not rd (MD00086: rt must equal rd, else UNPREDICTABLE), so instances keep
// rt == rd. Shape letters: d/s/t register rd/rs/rt; a imm sa; i signed imm16; u unsigned imm16; b branch
// target; J jump target; M memory simm(rs); o imm rt (CACHE/PREF op); S imm sel; E two imms pos=sa,
// size=msbd+1 (EXT); I two imms pos=sa, size=msb-lsb+1 (INS); C trap code (bits 15:6), printed only when
// nonzero; Y syscall code (bits 25:6), printed only when nonzero; Z SYNC stype, printed only when nonzero.
struct OperandShape {
  Opcode op;
  std::string_view shape;
};
constexpr OperandShape kShapes[] = {
    {Opcode::SLL, "dta"},   {Opcode::SRL, "dta"},    {Opcode::SRA, "dta"},    {Opcode::ROTR, "dta"},
    {Opcode::SLLV, "dts"},  {Opcode::SRLV, "dts"},   {Opcode::SRAV, "dts"},   {Opcode::ROTRV, "dts"},
    {Opcode::ADD, "dst"},   {Opcode::ADDU, "dst"},   {Opcode::SUB, "dst"},    {Opcode::SUBU, "dst"},
    {Opcode::AND, "dst"},   {Opcode::OR, "dst"},     {Opcode::XOR, "dst"},    {Opcode::NOR, "dst"},
    {Opcode::SLT, "dst"},   {Opcode::SLTU, "dst"},   {Opcode::MOVZ, "dst"},   {Opcode::MOVN, "dst"},
    {Opcode::MUL, "dst"},   {Opcode::MULT, "st"},    {Opcode::MULTU, "st"},   {Opcode::MADD, "st"},
    {Opcode::MADDU, "st"},  {Opcode::MSUB, "st"},    {Opcode::MSUBU, "st"},   {Opcode::MFHI, "d"},
    {Opcode::MFLO, "d"},    {Opcode::MTHI, "s"},     {Opcode::MTLO, "s"},     {Opcode::JR, "s"},
    {Opcode::CLZ, "ds"},    {Opcode::CLO, "ds"},     {Opcode::SEB, "dt"},     {Opcode::SEH, "dt"},
    {Opcode::WSBH, "dt"},   {Opcode::EXT, "tsE"},    {Opcode::INS, "tsI"},    {Opcode::TGE, "stC"},
    {Opcode::TGEU, "stC"},  {Opcode::TLT, "stC"},    {Opcode::TLTU, "stC"},   {Opcode::TEQ, "stC"},
    {Opcode::TNE, "stC"},   {Opcode::TGEI, "su"},    {Opcode::TGEIU, "su"},   {Opcode::TLTI, "su"},
    {Opcode::TLTIU, "su"},  {Opcode::TEQI, "su"},    {Opcode::TNEI, "su"},    {Opcode::BLTZ, "sb"},
    {Opcode::BGEZ, "sb"},   {Opcode::BLTZL, "sb"},   {Opcode::BGEZL, "sb"},   {Opcode::BLTZAL, "sb"},
    {Opcode::BGEZAL, "sb"}, {Opcode::BLTZALL, "sb"}, {Opcode::BGEZALL, "sb"}, {Opcode::BLEZ, "sb"},
    {Opcode::BGTZ, "sb"},   {Opcode::BLEZL, "sb"},   {Opcode::BGTZL, "sb"},   {Opcode::BEQ, "stb"},
    {Opcode::BNE, "stb"},   {Opcode::BEQL, "stb"},   {Opcode::BNEL, "stb"},   {Opcode::J, "J"},
    {Opcode::JAL, "J"},     {Opcode::ADDI, "tsi"},   {Opcode::ADDIU, "tsi"},  {Opcode::SLTI, "tsi"},
    {Opcode::SLTIU, "tsi"}, {Opcode::ANDI, "tsu"},   {Opcode::ORI, "tsu"},    {Opcode::XORI, "tsu"},
    {Opcode::LUI, "tu"},    {Opcode::LB, "tM"},      {Opcode::LH, "tM"},      {Opcode::LWL, "tM"},
    {Opcode::LW, "tM"},     {Opcode::LBU, "tM"},     {Opcode::LHU, "tM"},     {Opcode::LWR, "tM"},
    {Opcode::SB, "tM"},     {Opcode::SH, "tM"},      {Opcode::SWL, "tM"},     {Opcode::SW, "tM"},
    {Opcode::SWR, "tM"},    {Opcode::LL, "tM"},      {Opcode::SC, "tM"},      {Opcode::SYNCI, "M"},
    {Opcode::CACHE, "oM"},  {Opcode::PREF, "oM"},    {Opcode::MFC0, "tdS"},   {Opcode::MTC0, "tdS"},
    {Opcode::RDHWR, "td"},  {Opcode::SYSCALL, "Y"},  {Opcode::SYNC, "Z"},
};

// The shape for this instance; JALR and DI/EI drop operands the assembler would imply.
std::string ShapeFor(const DecodedInsn& d) {
  if (d.op == Opcode::JALR) return d.rd == 31 ? "s" : "ds";  // jalr rs implies rd = $ra
  if (d.op == Opcode::DI || d.op == Opcode::EI) return d.rt == 0 ? "" : "t";
  for (const OperandShape& s : kShapes)
    if (s.op == d.op) return std::string(s.shape);
  return "?";
}

// Compares Capstone's operands with the decoded fields; returns a description of the first difference.
std::string CompareOperands(const DecodedInsn& d, const std::vector<CsOperand>& ops) {
  size_t k = 0;
  auto reg = [&](int want) -> std::string {
    if (k >= ops.size()) return "missing register operand";
    const CsOperand& o = ops[k++];
    if (o.kind != CsOperand::kReg || o.reg != want)
      return "operand " + std::to_string(k - 1) + " is not $" + std::to_string(want);
    return "";
  };
  auto imm = [&](int64_t want) -> std::string {
    if (k >= ops.size()) return "missing immediate " + std::to_string(want);
    const CsOperand& o = ops[k++];
    if (o.kind != CsOperand::kImm || o.imm != want)
      return "operand " + std::to_string(k - 1) + " is " + std::to_string(o.imm) + ", want " +
             std::to_string(want);
    return "";
  };
  const std::string shape = ShapeFor(d);
  for (char ch : shape) {
    std::string err;
    switch (ch) {
      case 'd': err = reg(d.rd); break;
      case 's': err = reg(d.rs); break;
      case 't': err = reg(d.rt); break;
      case 'a': err = imm(d.sa); break;
      case 'i': err = imm(d.simm()); break;
      case 'u': err = imm(d.uimm()); break;
      case 'b': err = imm(static_cast<uint32_t>(kPc + 4 + (d.simm() << 2))); break;
      case 'J': err = imm(((kPc + 4) & 0xF0000000u) | (d.target26() << 2)); break;
      case 'o': err = imm(d.rt); break;
      case 'S': err = imm(d.sel()); break;
      case 'E':
        err = imm(d.sa);
        if (err.empty()) err = imm(d.rd + 1);
        break;
      case 'I':
        err = imm(d.sa);
        if (err.empty()) err = imm(static_cast<int64_t>(d.rd) - d.sa + 1);
        break;
      case 'C':
        if ((d.raw >> 6) & 0x3FF) err = imm((d.raw >> 6) & 0x3FF);
        break;
      case 'Y':
        if ((d.raw >> 6) & 0xFFFFF) err = imm((d.raw >> 6) & 0xFFFFF);
        break;
      case 'Z':
        if (d.sa) err = imm(d.sa);
        break;
      case 'M': {
        if (k >= ops.size()) return "missing memory operand";
        const CsOperand& o = ops[k++];
        if (o.kind != CsOperand::kMem || o.base != d.rs || o.disp != d.simm())
          err = "memory operand is not " + std::to_string(d.simm()) + "($" + std::to_string(d.rs) + ")";
        break;
      }
      default: return "no operand shape for " + std::string(NameOf(d.op));
    }
    if (!err.empty()) return err;
  }
  if (k != ops.size()) return std::to_string(ops.size() - k) + " unexpected trailing operand(s)";
  return "";
}

TEST(CapstoneCrossCheck, OperandsMatchDecodedFields) {
  Capstone cs(true);
  ASSERT_TRUE(cs.ok());
  const uint32_t seed = TestSeed(0xC8);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  std::vector<Opcode> rows;
  for (const OperandShape& s : kShapes) rows.push_back(s.op);
  rows.insert(rows.end(), {Opcode::JALR, Opcode::DI, Opcode::EI});
  for (Opcode op : rows) {
    const Encoding& e = EncodingOf(op);
    SCOPED_TRACE(std::string(e.name));
    int compared = 0, failures = 0;
    for (int n = 0; n < kInstancesPerRow && failures < 5; ++n) {
      Fields f = Checkable(e, RandomFields(e, rng));
      if (op == Opcode::CLZ || op == Opcode::CLO) f.rt = f.rd;
      uint32_t word = Encode(e, f);
      DecodedInsn d = Decode(word);
      ASSERT_EQ(d.op, op);
      if (AliasFor(d)) continue;  // alias forms print other operand lists (move has two, b has one)
      CsResult r = cs.Disassemble(word, kPc);
      ASSERT_TRUE(r.valid) << Hex(word);
      ++compared;
      std::string err = CompareOperands(d, r.ops);
      if (!err.empty()) {
        ++failures;
        ADD_FAILURE() << Hex(word) << " \"" << r.Text() << "\": " << err;
      }
    }
    EXPECT_GT(compared, kInstancesPerRow / 4);
  }
}

}  // namespace
}  // namespace strobe::mips::test
