// SPDX-License-Identifier: MIT
// Builds ELF32 files byte by byte for loader tests: well-formed ones and every kind of broken one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strobe::test {

struct ElfSpec {
  uint8_t elf_class = 1;  // ELFCLASS32
  uint8_t data = 1;       // ELFDATA2LSB
  uint16_t type = 2;      // ET_EXEC
  uint16_t machine = 8;   // EM_MIPS
  uint32_t entry = 0x80100000u;
  struct Segment {
    uint32_t vaddr;
    uint32_t memsz;
    std::vector<uint8_t> bytes;
    std::optional<uint32_t> paddr = std::nullopt;  // p_paddr; the vaddr when not given
  };
  std::vector<Segment> segments = {{0x80100000u, 8, {0x20, 0x00, 0x00, 0x42, 0, 0, 0, 0}}};
};

inline std::vector<uint8_t> BuildElf(const ElfSpec& s) {
  std::vector<uint8_t> b(52 + 32 * s.segments.size(), 0);
  auto put16 = [&](size_t o, uint16_t v) {
    b[o] = v & 0xFF;
    b[o + 1] = v >> 8;
  };
  auto put32 = [&](size_t o, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[o + i] = (v >> (8 * i)) & 0xFF;
  };
  b[0] = 0x7F;
  b[1] = 'E';
  b[2] = 'L';
  b[3] = 'F';
  b[4] = s.elf_class;
  b[5] = s.data;
  b[6] = 1;
  put16(16, s.type);
  put16(18, s.machine);
  put32(20, 1);
  put32(24, s.entry);
  put32(28, 52);  // program headers right after the ELF header
  put16(40, 52);
  put16(42, 32);
  put16(44, static_cast<uint16_t>(s.segments.size()));
  for (size_t i = 0; i < s.segments.size(); ++i) {
    const auto& seg = s.segments[i];
    size_t ph = 52 + 32 * i;
    put32(ph, 1);  // PT_LOAD
    put32(ph + 4, static_cast<uint32_t>(b.size()));
    put32(ph + 8, seg.vaddr);
    put32(ph + 12, seg.paddr.value_or(seg.vaddr));
    put32(ph + 16, static_cast<uint32_t>(seg.bytes.size()));
    put32(ph + 20, seg.memsz);
    put32(ph + 24, 7);
    put32(ph + 28, 4096);
    b.insert(b.end(), seg.bytes.begin(), seg.bytes.end());
  }
  return b;
}

}  // namespace strobe::test
