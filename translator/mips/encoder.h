// SPDX-License-Identifier: MIT
// Building instruction words from mips32.inc's patterns: the inverse of the decoder, used by the test
// generators and the assembler helpers in tests/. Each pattern letter takes its bits from one field.
#pragma once

#include <cstdint>

#include "translator/mips/decoder.h"

namespace strobe::mips {

struct Fields {
  uint32_t rs = 0, rt = 0, rd = 0, sa = 0;  // also msb ('m' = rd position) and lsb ('l' = sa position)
  uint32_t imm = 0;                         // 16-bit immediate ('i')
  uint32_t target = 0;                      // 26-bit jump target ('j')
  uint32_t code = 0;                        // 'c' bits (code, stype, hint, sel), filled low bits first
  uint32_t op = 0;                          // 'o' bits (CACHE/PREF operation)
};

constexpr uint32_t Encode(const Encoding& e, const Fields& f) {
  // Count each letter's bits so that a field's least significant bit lands in the letter's last position.
  int remaining[128] = {};
  for (char ch : e.pattern)
    if (ch != ' ' && ch != '0' && ch != '1') ++remaining[static_cast<unsigned char>(ch)];
  uint32_t word = 0;
  for (char ch : e.pattern) {
    if (ch == ' ') continue;
    uint32_t bit = 0;
    if (ch == '1') {
      bit = 1;
    } else if (ch != '0') {
      int pos = --remaining[static_cast<unsigned char>(ch)];
      uint32_t v = 0;
      switch (ch) {
        case 's': v = f.rs; break;
        case 't': v = f.rt; break;
        case 'd':
        case 'm': v = f.rd; break;
        case 'a':
        case 'l': v = f.sa; break;
        case 'i': v = f.imm; break;
        case 'j': v = f.target; break;
        case 'c': v = f.code; break;
        case 'o': v = f.op; break;
        default: v = 0; break;
      }
      bit = (v >> pos) & 1;
    }
    word = (word << 1) | bit;
  }
  return word;
}

constexpr uint32_t Encode(Opcode op, const Fields& f) {
  return Encode(kEncodings[static_cast<size_t>(op)], f);
}

}  // namespace strobe::mips
