// SPDX-License-Identifier: MIT
// Shared helpers for the decoder table tests: seeds, pattern-letter geometry and random field values drawn
// from a row's own pattern, so every generator is driven by mips32.inc and nothing is listed twice.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "translator/mips/decoder.h"
#include "translator/mips/encoder.h"

namespace strobe::mips::test {

// Fixed by default so the suite is deterministic; STROBE_DECODER_SEED=<n> replays or explores another seed.
inline uint32_t TestSeed(uint32_t fallback) {
  if (const char* env = std::getenv("STROBE_DECODER_SEED"))
    return static_cast<uint32_t>(std::strtoul(env, nullptr, 0));
  return fallback;
}

inline std::string SeedTrace(uint32_t seed) {
  return "seed " + std::to_string(seed) + " (replay with STROBE_DECODER_SEED=" + std::to_string(seed) + ")";
}

// The bit range [lo, hi] that each field letter may occupy: the decoder extracts rs/rt/rd/sa/imm at these
// fixed positions, so a letter anywhere else would silently hand a handler the wrong bits. 'c' (code, hint,
// sel, stype) may sit anywhere below the major opcode.
struct LetterRange {
  char letter;
  int lo, hi;
  bool must_be_whole;  // the letter, when present, covers its whole range
};
inline constexpr LetterRange kLetterRanges[] = {
    {'s', 21, 25, true}, {'t', 16, 20, true}, {'d', 11, 15, true}, {'a', 6, 10, true}, {'m', 11, 15, true},
    {'l', 6, 10, true},  {'o', 16, 20, true}, {'i', 0, 15, true},  {'j', 0, 25, true}, {'c', 0, 25, false},
};

inline const LetterRange* RangeOf(char letter) {
  for (const LetterRange& r : kLetterRanges)
    if (r.letter == letter) return &r;
  return nullptr;
}

// Pattern characters without spaces, most significant bit first (index 0 is bit 31).
inline std::string Bits(const Encoding& e) {
  std::string out;
  for (char ch : e.pattern)
    if (ch != ' ') out.push_back(ch);
  return out;
}

inline int LetterCount(const Encoding& e, char letter) {
  int n = 0;
  for (char ch : e.pattern) n += (ch == letter);
  return n;
}
inline bool Has(const Encoding& e, char letter) {
  return LetterCount(e, letter) > 0;
}

inline uint32_t Random(std::mt19937& rng, int bits) {
  return bits >= 32 ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng()) & ((1u << bits) - 1);
}

// Random values for every field the row's pattern names (others stay zero). Small register numbers and
// zero are drawn more often than uniform: aliases and special cases live there.
inline Fields RandomFields(const Encoding& e, std::mt19937& rng) {
  auto reg = [&rng]() -> uint32_t {
    uint32_t pick = Random(rng, 3);
    if (pick == 0) return 0;
    if (pick == 1) return 31;
    return Random(rng, 5);
  };
  Fields f;
  f.rs = Has(e, 's') ? reg() : 0;
  f.rt = Has(e, 't') ? reg() : 0;
  f.rd = Has(e, 'd') || Has(e, 'm') ? reg() : 0;
  f.sa = Has(e, 'a') || Has(e, 'l') ? Random(rng, 5) : 0;
  f.imm = Has(e, 'i') ? Random(rng, 16) : 0;
  f.target = Has(e, 'j') ? Random(rng, 26) : 0;
  f.code = Random(rng, LetterCount(e, 'c'));
  f.op = Has(e, 'o') ? Random(rng, 5) : 0;
  return f;
}

// Every row whose mask/match accepts the word (brute force, independent of the decoder's index).
inline int MatchingRows(uint32_t word, size_t* first = nullptr) {
  int n = 0;
  for (size_t i = 0; i < kEncodings.size(); ++i) {
    if ((word & kEncodings[i].mask) == kEncodings[i].match) {
      if (n == 0 && first) *first = i;
      ++n;
    }
  }
  return n;
}

inline std::string Hex(uint32_t word) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", word);
  return buf;
}

// A row name as Capstone spells the mnemonic: lower case, and the FPU rows' '_' back to the manual's '.'.
inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace strobe::mips::test
