// SPDX-License-Identifier: MIT
// Coverage of the table measured against Capstone on uniformly random words (fixed seed, well under a
// second). Every word that Capstone decodes but our table leaves Reserved must fall into a listed class of
// deliberately unsupported encodings; every word we decode but Capstone rejects must be explained by the
// exclusion/constraint tables in capstone_support.h; words both accept must agree on the mnemonic. An
// unclassified word is a gap in mips32.inc (or a new Capstone difference) and fails the test.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "tests/decoder/capstone_support.h"
#include "tests/decoder/decoder_test_support.h"

namespace strobe::mips::test {
namespace {

constexpr int kSamples = 200000;

uint32_t Major(uint32_t w) {
  return w >> 26;
}
uint32_t Funct(uint32_t w) {
  return w & 63;
}
uint32_t Rs(uint32_t w) {
  return (w >> 21) & 31;
}
uint32_t Rt(uint32_t w) {
  return (w >> 16) & 31;
}

// Encodings Strobe deliberately treats as Reserved Instruction although Capstone 4.0.2 decodes them.
struct UnsupportedClass {
  std::string_view name;
  bool (*contains)(uint32_t word);
  std::string_view reason;
};
constexpr UnsupportedClass kUnsupported[] = {
    {"MSA", [](uint32_t w) { return Major(w) == 0b011110; },
     "MSA (MIPS SIMD, a Release 5 ASE) major opcode 011110: no SIMD unit is modelled"},
    {"LSA/DLSA", [](uint32_t w) { return Major(w) == 0 && (Funct(w) == 0b000101 || Funct(w) == 0b010101); },
     "LSA (MSA ASE / Release 6) and DLSA (MIPS64): not MIPS32r2 base instructions"},
    {"JALX", [](uint32_t w) { return Major(w) == 0b011101; },
     "JALX switches to MIPS16e/microMIPS; Strobe implements neither compressed ISA (Config1.CA=0)"},
    {"DSP (SPECIAL3)",
     [](uint32_t w) {
       // LX, INSV, ADDU.QB, CMPU.EQ.QB, ABSQ_S.PH, SHLL.QB, ADDUH.QB, DPA.W.PH, APPEND, EXTR.W groups.
       constexpr uint64_t kDspFuncts = (1ull << 0b001010) | (1ull << 0b001100) | (1ull << 0b010000) |
                                       (1ull << 0b010001) | (1ull << 0b010010) | (1ull << 0b010011) |
                                       (1ull << 0b011000) | (1ull << 0b110000) | (1ull << 0b110001) |
                                       (1ull << 0b111000);
       return Major(w) == 0b011111 && ((kDspFuncts >> Funct(w)) & 1);
     },
     "DSP ASE rev 1/2 (SPECIAL3 function groups): Config3.DSPP=0, no DSP unit"},
    {"DSP BPOSGE32", [](uint32_t w) { return Major(w) == 0b000001 && Rt(w) == 0b11100; },
     "DSP ASE branch on DSPControl.pos (REGIMM rt=11100)"},
    {"DSP accumulators",
     [](uint32_t w) {
       const bool special =
           Major(w) == 0 && (Funct(w) == 0b010000 || Funct(w) == 0b010001 || Funct(w) == 0b010010 ||
                             Funct(w) == 0b010011 || Funct(w) == 0b011000 || Funct(w) == 0b011001);
       const bool special2 = Major(w) == 0b011100 && (Funct(w) <= 1 || Funct(w) == 4 || Funct(w) == 5);
       return special || special2;
     },
     "DSP ASE ac1-ac3 forms of MFHI/MTHI/MFLO/MTLO/MULT(U)/MADD(U)/MSUB(U): Capstone reads bits MIPS32r2 "
     "requires zero as the accumulator number"},
    {"EJTAG",
     [](uint32_t w) {
       const bool sdbbp = Major(w) == 0b011100 && Funct(w) == 0b111111;
       const bool deret = Major(w) == 0b010000 && (w & (1u << 25)) && Funct(w) == 0b011111;
       return sdbbp || deret;
     },
     "EJTAG SDBBP/DERET: Strobe models no debug unit, so both are Reserved Instruction (yet Config1.EP is "
     "set: see DecoderConfig.EjtagAdvertisedOnlyIfDecoded)"},
    {"BC0x", [](uint32_t w) { return Major(w) == 0b010000 && Rs(w) == 0b01000; },
     "BC0F/BC0T/BC0FL/BC0TL: MIPS I coprocessor-0 condition branches, removed from MIPS32"},
    {"BC3x", [](uint32_t w) { return Major(w) == 0b010011 && Rs(w) == 0b01000; },
     "BC3F/BC3T: MIPS I coprocessor-3 branches; MIPS32 gives the opcode to COP1X, where this is reserved"},
    {"MSA branches",
     [](uint32_t w) {
       return Major(w) == 0b010001 && (Rs(w) == 0b01011 || Rs(w) == 0b01111 || Rs(w) >= 0b11000);
     },
     "MSA BZ.df/BNZ.df/BZ.V/BNZ.V live in the COP1 opcode space: no SIMD unit is modelled"},
    {"SYNC must-be-zero", [](uint32_t w) { return Major(w) == 0 && Funct(w) == 0b001111; },
     "Capstone ignores SYNC bits 25:11, which MIPS32r2 fixes to zero; Strobe keeps them reserved"},
};

const UnsupportedClass* ClassOf(uint32_t word) {
  for (const UnsupportedClass& c : kUnsupported)
    if (c.contains(word)) return &c;
  return nullptr;
}

// Why we decode a word that Capstone rejects, or nullptr when nothing in the tables explains it.
std::string_view WhyCapstoneRejects(const DecodedInsn& d) {
  if (const CapstoneExclusion* x = ExclusionFor(d.op)) return x->reason;
  if (const CapstoneConstraint* c = ConstraintFor(d.op); c && !c->accepts(d)) return c->reason;
  return {};
}

std::string ExpectedMnemonic(const DecodedInsn& d) {
  for (const CapstoneAlias& a : kCapstoneAliases)
    if (a.op == d.op && a.applies(d)) return std::string(a.mnemonic);
  return Lower(NameOf(d.op));
}

struct Tally {
  int count = 0;
  uint32_t example = 0;
  std::string text;
};

TEST(CapstoneCoverage, RandomWordsAgreeOrAreExplained) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  const uint32_t seed = TestSeed(0xD15A55);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);

  std::map<std::string_view, Tally> unsupported;    // Capstone decodes, we do not: by class
  std::map<std::string_view, Tally> capstone_gaps;  // we decode, Capstone does not: by row
  std::map<std::string, Tally> unexplained;         // the failures, by Capstone mnemonic or row
  int both_valid = 0, both_invalid = 0, mismatches = 0;

  for (int n = 0; n < kSamples; ++n) {
    const uint32_t word = static_cast<uint32_t>(rng());
    const DecodedInsn d = Decode(word);
    const CsResult r = cs.Disassemble(word, 0x10000000u);
    const bool ours = d.op != Opcode::kInvalid;
    auto note = [&](Tally& t) {
      if (t.count++ == 0) {
        t.example = word;
        t.text = r.Text();
      }
    };
    if (!ours && !r.valid) {
      ++both_invalid;
    } else if (!ours) {
      if (const UnsupportedClass* c = ClassOf(word)) {
        note(unsupported[c->name]);
      } else {
        note(unexplained["capstone-only " + r.mnemonic]);
      }
    } else if (!r.valid) {
      if (!WhyCapstoneRejects(d).empty() || !CapstoneFpuGap(d, false, "").empty()) {
        note(capstone_gaps[NameOf(d.op)]);
      } else {
        note(unexplained["strobe-only " + std::string(NameOf(d.op))]);
      }
    } else {
      ++both_valid;
      // The excluded umbrella row COP2 carries Capstone's names; everything else must agree.
      if (!ExclusionFor(d.op) && CapstoneFpuGap(d, true, r.mnemonic).empty() &&
          r.mnemonic != ExpectedMnemonic(d)) {
        ++mismatches;
        ADD_FAILURE() << Hex(word) << ": Capstone \"" << r.Text() << "\", Strobe " << NameOf(d.op);
        if (mismatches > 10) return;
      }
    }
  }

  std::printf("[ summary  ] %d random words (seed %u): %d both decode, %d both reserved\n", kSamples, seed,
              both_valid, both_invalid);
  std::printf("[ summary  ] Capstone decodes, Strobe reserves (deliberately unsupported):\n");
  for (const UnsupportedClass& c : kUnsupported) {
    const Tally& t = unsupported[c.name];
    std::printf("[ summary  ]   %-18s %6d  e.g. %s %-28s %s\n", std::string(c.name).c_str(), t.count,
                Hex(t.example).c_str(), t.text.c_str(), std::string(c.reason).c_str());
  }
  std::printf("[ summary  ] Strobe decodes, Capstone rejects (see capstone_support.h):\n");
  for (const auto& [row, t] : capstone_gaps)
    std::printf("[ summary  ]   %-8s %6d  e.g. %s\n", std::string(row).c_str(), t.count,
                Hex(t.example).c_str());
  for (const auto& [what, t] : unexplained)
    ADD_FAILURE() << "unexplained difference " << what << ": " << t.count << " words, e.g. " << Hex(t.example)
                  << " (" << t.text << ")";
}

// Spot checks that each unsupported class is real (Reserved for us, decoded by Capstone) independent of the
// random sample, where the rarer classes (DSP accumulators: about 1 word in 10^6) may not occur.
TEST(CapstoneCoverage, UnsupportedClassesAreReservedHere) {
  Capstone cs(false);
  ASSERT_TRUE(cs.ok());
  struct Example {
    uint32_t word;
    std::string_view mnemonic;
  };
  const Example examples[] = {
      {0x7000003F, "sdbbp"},  {0x4200001F, "deret"},  {0x7CA4100A, "lwx"},  {0x041C0001, "bposge32"},
      {0x74000001, "jalx"},   {0x41000001, "bc0f"},   {0x00221818, "mult"}, {0x00430885, "lsa"},
      {0x78000019, "sldi.b"}, {0x7C0116D2, "bitrev"}, {0x0001000F, "sync"}, {0x4D000003, "bc3f"},
      {0x45600001, "bz.v"},
  };
  std::map<std::string_view, int> covered;
  for (const Example& x : examples) {
    SCOPED_TRACE(Hex(x.word));
    EXPECT_EQ(Decode(x.word).op, Opcode::kInvalid);
    const UnsupportedClass* c = ClassOf(x.word);
    ASSERT_NE(c, nullptr);
    ++covered[c->name];
    CsResult r = cs.Disassemble(x.word, 0x10000000u);
    EXPECT_EQ(r.mnemonic, x.mnemonic) << r.Text();
  }
  for (const UnsupportedClass& c : kUnsupported) EXPECT_GT(covered[c.name], 0) << c.name << " has no example";
}

}  // namespace
}  // namespace strobe::mips::test
