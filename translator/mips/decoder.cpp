// SPDX-License-Identifier: MIT
#include "translator/mips/decoder.h"

#include <vector>

namespace strobe::mips {
namespace {

// Candidates are bucketed by the twelve bits that separate almost all encodings: opcode[31:26] and
// funct[5:0]. A row lands in every bucket its fixed bits are consistent with, so the scan inside a bucket
// is short (usually one or two rows) and table order decides nothing: the table has no overlaps (tested).
struct DecodeIndex {
  std::vector<uint16_t> rows[4096];
  DecodeIndex() {
    for (uint32_t key = 0; key < 4096; ++key) {
      uint32_t word = ((key >> 6) << 26) | (key & 63);
      const uint32_t key_mask = 0xFC00003Fu;
      for (size_t i = 0; i < kEncodings.size(); ++i) {
        const Encoding& e = kEncodings[i];
        uint32_t m = e.mask & key_mask;
        if ((word & m) == (e.match & m)) rows[key].push_back(static_cast<uint16_t>(i));
      }
    }
  }
};

}  // namespace

// The TLB staging registers, EPC and ErrorEPC, cache tags. Writing one need not end a block (the kernel's TLB
// updates write three of them in a row).
bool PlainCp0Register(unsigned reg, unsigned sel) {
  switch (reg * 8 + sel) {
    case 0 * 8:       // Index
    case 2 * 8:       // EntryLo0
    case 3 * 8:       // EntryLo1
    case 4 * 8:       // Context
    case 4 * 8 + 2:   // UserLocal (RDHWR reads it when it runs)
    case 5 * 8:       // PageMask
    case 6 * 8:       // Wired
    case 14 * 8:      // EPC
    case 28 * 8:      // TagLo
    case 28 * 8 + 1:  // DataLo
    case 30 * 8:      // ErrorEPC
      return true;
    default: return false;
  }
}

uint16_t InstanceFlags(const Encoding& e, uint32_t word) {
  if (e.op == Opcode::MTC0 && PlainCp0Register((word >> 11) & 31, word & 7)) return e.flags & ~kEndsBlock;
  return e.flags;
}

namespace {

const DecodeIndex& Index() {
  static const DecodeIndex index;
  return index;
}

}  // namespace

DecodedInsn Decode(uint32_t word) {
  DecodedInsn d;
  d.raw = word;
  d.rs = (word >> 21) & 31;
  d.rt = (word >> 16) & 31;
  d.rd = (word >> 11) & 31;
  d.sa = (word >> 6) & 31;
  const auto& bucket = Index().rows[((word >> 26) << 6) | (word & 63)];
  for (uint16_t i : bucket) {
    const Encoding& e = kEncodings[i];
    if ((word & e.mask) == e.match) {
      d.op = e.op;
      d.flags = InstanceFlags(e, word);
      return d;
    }
  }
  return d;
}

const Encoding& EncodingOf(Opcode op) {
  return kEncodings[static_cast<size_t>(op)];
}

std::string_view NameOf(Opcode op) {
  if (op == Opcode::kInvalid) return "(reserved)";
  return EncodingOf(op).name;
}

}  // namespace strobe::mips
