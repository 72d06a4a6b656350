// SPDX-License-Identifier: MIT
// Integrity of mips32.inc and round trips through Encode/Decode. The decoder scans a bucket of candidate rows
// and returns the first that matches, so correctness rests on the table having no overlapping rows; these
// tests prove that by construction (pairwise mask/match algebra) and cross-check Decode against brute force.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/decoder/decoder_test_support.h"

namespace strobe::mips::test {
namespace {

constexpr uint32_t kMajorMask = 0xFC000000u;
uint32_t Major(uint32_t word) {
  return word >> 26;
}
uint32_t Funct(uint32_t word) {
  return word & 63;
}

// ---------------------------------------------------------------------------------------------------------
// Table integrity

TEST(DecoderTable, PatternsHave32BitsOfKnownCharacters) {
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name));
    std::string bits = Bits(e);
    EXPECT_EQ(bits.size(), 32u) << e.pattern;
    for (char ch : bits) {
      EXPECT_TRUE(ch == '0' || ch == '1' || RangeOf(ch) != nullptr) << "letter " << ch;
    }
  }
}

TEST(DecoderTable, MaskAndMatchFollowThePattern) {
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name));
    std::string bits = Bits(e);
    ASSERT_EQ(bits.size(), 32u);
    uint32_t mask = 0, match = 0;
    for (int i = 0; i < 32; ++i) {
      uint32_t bit = 1u << (31 - i);
      if (bits[i] == '0' || bits[i] == '1') mask |= bit;
      if (bits[i] == '1') match |= bit;
    }
    EXPECT_EQ(e.mask, mask);
    EXPECT_EQ(e.match, match);
    EXPECT_EQ(e.match & ~e.mask, 0u);
  }
}

TEST(DecoderTable, RowsAreIndexedByOpcodeAndNamed) {
  for (size_t i = 0; i < kEncodings.size(); ++i) {
    const Encoding& e = kEncodings[i];
    EXPECT_EQ(static_cast<size_t>(e.op), i) << e.name;
    EXPECT_EQ(&EncodingOf(e.op), &e) << e.name;
    EXPECT_EQ(NameOf(e.op), e.name);
  }
  EXPECT_EQ(NameOf(Opcode::kInvalid), "(reserved)");
}

TEST(DecoderTable, NamesAreUniqueManualMnemonics) {
  std::set<std::string_view> seen;
  for (const Encoding& e : kEncodings) {
    EXPECT_TRUE(seen.insert(e.name).second) << "duplicate name " << e.name;
    ASSERT_FALSE(e.name.empty());
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(e.name[0]))) << e.name;
    for (char ch : e.name)  // '_' stands for the manual's '.' (ADD_S is ADD.S)
      EXPECT_TRUE(std::isupper(static_cast<unsigned char>(ch)) ||
                  std::isdigit(static_cast<unsigned char>(ch)) || ch == '_')
          << e.name;
  }
}

// Decode extracts rs/rt/rd/sa/imm at fixed positions for every row, so a letter must sit inside its field.
TEST(DecoderTable, FieldLettersSitWhereTheDecoderExtractsThem) {
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name) + " " + std::string(e.pattern));
    std::string bits = Bits(e);
    ASSERT_EQ(bits.size(), 32u);
    for (const LetterRange& r : kLetterRanges) {
      int count = 0;
      for (int bit = 0; bit < 32; ++bit) {
        if (bits[31 - bit] != r.letter) continue;
        ++count;
        EXPECT_TRUE(bit >= r.lo && bit <= r.hi) << "'" << r.letter << "' at bit " << bit;
      }
      if (count && r.must_be_whole) {
        EXPECT_EQ(count, r.hi - r.lo + 1) << "'" << r.letter << "' is partial";
      }
    }
  }
}

TEST(DecoderTable, EveryRowFixesTheMajorOpcode) {
  for (const Encoding& e : kEncodings) {
    EXPECT_EQ(e.mask & kMajorMask, kMajorMask) << e.name;
  }
}

// Two rows overlap iff their fixed bits agree wherever both are fixed; the witness is then a word matching
// both. The decoder's bucket scan returns whichever row comes first, so any overlap is a silent shadow.
TEST(DecoderTable, NoTwoRowsOverlap) {
  for (size_t i = 0; i < kEncodings.size(); ++i) {
    for (size_t j = i + 1; j < kEncodings.size(); ++j) {
      const Encoding& a = kEncodings[i];
      const Encoding& b = kEncodings[j];
      uint32_t common = a.mask & b.mask;
      if ((a.match & common) != (b.match & common)) continue;
      uint32_t witness = a.match | b.match;
      ADD_FAILURE() << a.name << " and " << b.name << " overlap, e.g. " << Hex(witness);
    }
  }
}

TEST(DecoderTable, FlagsAreConsistent) {
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name));
    const uint16_t f = e.flags;
    const uint32_t major = Major(e.match);
    // A likely branch is a branch.
    if (f & kLikely) {
      EXPECT_TRUE(f & kBranch);
    }
    // The block builder tests kBranch first and appends the delay slot, so kEndsBlock on a branch is dead.
    if (f & kBranch) {
      EXPECT_FALSE(f & kEndsBlock);
    }
    // A branch has a target: a PC-relative offset, a 26-bit region target or a register (JR/JALR).
    if (f & kBranch) {
      bool register_jump = major == 0 && (Funct(e.match) == 8 || Funct(e.match) == 9) && Has(e, 's');
      EXPECT_TRUE(Has(e, 'i') || Has(e, 'j') || register_jump);
    }
    // A data access has a base register and a 16-bit offset (or, for the COP1X indexed forms, an index
    // register) and is never a branch.
    if (f & kMemory) {
      EXPECT_TRUE(Has(e, 's') && (Has(e, 'i') || (major == 0b010011 && Has(e, 't'))));
      EXPECT_FALSE(f & (kCop2 | kBranch));
    }
    EXPECT_FALSE((f & kCop1) && (f & kCop2));
    // The absent coprocessor 2 raises Coprocessor Unusable before anything else happens; FPU rows may be
    // branches (BC1x) and data accesses (LWC1 ...), never privileged or block-ending.
    if (f & kCop2) {
      EXPECT_FALSE(f & (kBranch | kMemory | kPrivileged | kEndsBlock));
    }
    if (f & kCop1) {
      EXPECT_FALSE(f & (kPrivileged | kEndsBlock));
    }
    // Opcode-space membership: COP0 is privileged, the COP1/COP2 spaces and their loads/stores are flagged.
    if (major == 0b010000 || e.op == Opcode::CACHE) {
      EXPECT_TRUE(f & kPrivileged);
    }
    const bool cop1_space = major == 0b010001 || major == 0b010011 || major == 0b110001 ||
                            major == 0b110101 || major == 0b111001 || major == 0b111101;
    const bool cop2_space =
        major == 0b010010 || major == 0b110010 || major == 0b110110 || major == 0b111010 || major == 0b111110;
    if (cop1_space) {
      EXPECT_TRUE(f & kCop1);
    }
    if (cop2_space) {
      EXPECT_TRUE(f & kCop2);
    }
    if (f & kCop2) {
      EXPECT_TRUE(cop2_space);
    }
    // Only the privileged COP0 rows and CACHE need kPrivileged.
    if (f & kPrivileged) {
      EXPECT_TRUE(major == 0b010000 || e.op == Opcode::CACHE);
    }
  }
}

// MD00086 MOVF/MOVT: "SPECIAL rs cc 0 tf rd 00000 MOVCI": bit 17 is a fixed zero like every other fixed
// zero the table spells out (compare SRLV/ROTRV), and Capstone rejects words with it set; so in the
// .fmt forms and the BC1x branches (nd/tf in bits 17:16).
TEST(DecoderTable, MovciFixesReservedBit17) {
  for (Opcode op : {Opcode::MOVF, Opcode::MOVT, Opcode::MOVF_S, Opcode::MOVT_D}) {
    const Encoding& e = EncodingOf(op);
    EXPECT_NE(e.mask & (1u << 17), 0u) << e.name;
    EXPECT_EQ(e.match & (1u << 17), 0u) << e.name;
    EXPECT_EQ((e.match >> 16) & 1, op == Opcode::MOVT || op == Opcode::MOVT_D ? 1u : 0u) << e.name;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Encode/Decode round trips

TEST(DecoderRoundTrip, EncoderFillsExactlyTheFreeBits) {
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name));
    EXPECT_EQ(Encode(e, Fields{}), e.match);
    Fields ones{
        .rs = ~0u, .rt = ~0u, .rd = ~0u, .sa = ~0u, .imm = ~0u, .target = ~0u, .code = ~0u, .op = ~0u};
    EXPECT_EQ(Encode(e, ones), e.match | ~e.mask) << "a free bit belongs to no field letter";
  }
}

TEST(DecoderRoundTrip, EveryRowDecodesBackWithItsFields) {
  const uint32_t seed = TestSeed(20240611);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name));
    const int code_bits = LetterCount(e, 'c');
    for (int n = 0; n < 256; ++n) {
      Fields f = RandomFields(e, rng);
      uint32_t word = Encode(e, f);
      SCOPED_TRACE(Hex(word));
      ASSERT_EQ(word & e.mask, e.match);
      DecodedInsn d = Decode(word);
      ASSERT_EQ(d.op, e.op) << "decoded as " << NameOf(d.op);
      EXPECT_EQ(d.flags, InstanceFlags(e, word));
      EXPECT_EQ(d.raw, word);
      if (Has(e, 's')) {
        EXPECT_EQ(d.rs, f.rs);
      }
      if (Has(e, 't')) {
        EXPECT_EQ(d.rt, f.rt);
      }
      if (Has(e, 'o')) {
        EXPECT_EQ(d.rt, f.op);
      }
      if (Has(e, 'd') || Has(e, 'm')) {
        EXPECT_EQ(d.rd, f.rd);
      }
      if (Has(e, 'a') || Has(e, 'l')) {
        EXPECT_EQ(d.sa, f.sa);
      }
      if (Has(e, 'i')) {
        EXPECT_EQ(d.simm(), static_cast<int16_t>(f.imm));
        EXPECT_EQ(d.uimm(), f.imm);
      }
      if (Has(e, 'j')) {
        EXPECT_EQ(d.target26(), f.target);
      }
      // 'c' bits are filled low bits first; where they end the word (sel, hint-free codes) they read back.
      if (code_bits && Bits(e).substr(32 - code_bits) == std::string(code_bits, 'c')) {
        EXPECT_EQ(word & ((1u << code_bits) - 1), f.code);
      }
      if (e.op == Opcode::MFC0 || e.op == Opcode::MTC0) {
        EXPECT_EQ(d.sel(), f.code);
      }
    }
  }
}

// Which CP0 writes end a block: those that change what translated code or the dispatcher act on (the mode,
// the ASID, interrupts, the timer, the exception base); the TLB staging registers and the TLB writes do not.
TEST(DecoderFlags, OnlyCp0WritesThatChangeTheMachinesStateEndABlock) {
  const auto mtc0 = [](unsigned rd, unsigned sel) {
    return Decode(0x40800000u | (8u << 16) | (rd << 11) | sel);
  };
  for (auto [rd, sel] :
       {std::pair{0u, 0u}, {2, 0}, {3, 0}, {4, 0}, {4, 2}, {5, 0}, {6, 0}, {14, 0}, {30, 0}}) {
    SCOPED_TRACE(testing::Message() << "MTC0 $" << rd << ", " << sel);
    EXPECT_EQ(mtc0(rd, sel).op, Opcode::MTC0);
    EXPECT_FALSE(mtc0(rd, sel).flags & kEndsBlock);
  }
  // EntryHi (ASID), HWREna, Count, Compare, Status, IntCtl, Cause, EBase, Config, and unknown ones.
  for (auto [rd, sel] : {std::pair{10u, 0u},
                         {7, 0},
                         {9, 0},
                         {11, 0},
                         {12, 0},
                         {12, 1},
                         {13, 0},
                         {15, 1},
                         {16, 0},
                         {2, 1},
                         {31, 0}}) {
    SCOPED_TRACE(testing::Message() << "MTC0 $" << rd << ", " << sel);
    EXPECT_TRUE(mtc0(rd, sel).flags & kEndsBlock);
  }
  EXPECT_FALSE(Decode(0x42000002u).flags & kEndsBlock);  // TLBWI
  EXPECT_FALSE(Decode(0x42000006u).flags & kEndsBlock);  // TLBWR
  EXPECT_FALSE(Decode(0x42000008u).flags & kEndsBlock);  // TLBP
  EXPECT_TRUE(Decode(0x42000001u).flags & kEndsBlock);   // TLBR: writes EntryHi
  EXPECT_FALSE(Decode(0x41606000u).flags & kEndsBlock);  // DI: masks interrupts
  EXPECT_TRUE(Decode(0x41606020u).flags & kEndsBlock);   // EI: one may be pending
  EXPECT_TRUE(Decode(0x42000018u).flags & kEndsBlock);   // ERET
}

// Checks one word against the brute-force answer: the matching row if exactly one matches, else kInvalid.
void ExpectDecodeAgrees(uint32_t word) {
  size_t row = 0;
  int matches = MatchingRows(word, &row);
  ASSERT_LE(matches, 1) << Hex(word) << " matches several rows";
  DecodedInsn d = Decode(word);
  if (matches == 0) {
    ASSERT_EQ(d.op, Opcode::kInvalid) << Hex(word) << " decoded as " << NameOf(d.op) << " but no row matches";
    EXPECT_EQ(d.flags, 0u) << Hex(word);
  } else {
    ASSERT_EQ(d.op, kEncodings[row].op) << Hex(word) << " decoded as " << NameOf(d.op);
    EXPECT_EQ(d.flags, InstanceFlags(kEncodings[row], word)) << Hex(word);
  }
  EXPECT_EQ(d.raw, word);
  EXPECT_EQ(d.rs, (word >> 21) & 31);
  EXPECT_EQ(d.rt, (word >> 16) & 31);
  EXPECT_EQ(d.rd, (word >> 11) & 31);
  EXPECT_EQ(d.sa, (word >> 6) & 31);
}

TEST(DecoderRoundTrip, RandomWordsDecodeLikeBruteForce) {
  const uint32_t seed = TestSeed(77);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  for (int n = 0; n < 200000; ++n) {
    ExpectDecodeAgrees(static_cast<uint32_t>(rng()));
    if (HasFatalFailure()) return;
  }
}

// Uniform words rarely reach the sparse corners (SPECIAL with must-be-zero fields, COP0 sub-opcodes), so
// every (major opcode, funct) bucket of the decoder's index is also walked with random middle bits.
TEST(DecoderRoundTrip, EveryDecoderBucketDecodesLikeBruteForce) {
  const uint32_t seed = TestSeed(4096);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  for (uint32_t key = 0; key < 4096; ++key) {
    for (int n = 0; n < 48; ++n) {
      uint32_t middle = static_cast<uint32_t>(rng()) & 0x03FFFFC0u;
      if (n < 8) middle &= ~(static_cast<uint32_t>(rng()) | static_cast<uint32_t>(rng()));  // sparse: zeros
      ExpectDecodeAgrees(((key >> 6) << 26) | middle | (key & 63));
      if (HasFatalFailure()) return;
    }
  }
}

// Words one fixed bit away from a valid instance: exactly the encodings a too-loose or too-strict row or a
// wrong bucket would get wrong.
TEST(DecoderRoundTrip, NearMissesDecodeLikeBruteForce) {
  const uint32_t seed = TestSeed(31337);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937 rng(seed);
  for (const Encoding& e : kEncodings) {
    SCOPED_TRACE(std::string(e.name));
    for (int bit = 0; bit < 32; ++bit) {
      if (!(e.mask & (1u << bit))) continue;
      for (int n = 0; n < 4; ++n) {
        ExpectDecodeAgrees(Encode(e, RandomFields(e, rng)) ^ (1u << bit));
        if (HasFatalFailure()) return;
      }
    }
  }
}

}  // namespace
}  // namespace strobe::mips::test
