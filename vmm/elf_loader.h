// SPDX-License-Identifier: MIT
// Reading a MIPS32 little-endian ELF executable (the kernel or a bare-metal guest). Every malformed,
// truncated or foreign file is refused with a message that says what is wrong with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strobe::vmm {

struct ElfSegment {
  uint32_t vaddr = 0;
  uint32_t paddr = 0;  // where the bytes go in guest-physical memory (from a kseg0/kseg1 vaddr)
  uint32_t memsz = 0;
  std::vector<uint8_t> data;  // filesz bytes; the rest up to memsz is zero
};

struct ElfImage {
  uint32_t entry = 0;
  std::vector<ElfSegment> segments;
};

// Parses bytes as an ELF32 MIPS little-endian executable. On failure returns false with *error set.
bool ParseElf(const std::vector<uint8_t>& bytes, ElfImage* out, std::string* error);
// Reads and parses a file; the error names the file.
bool LoadElfFile(const std::string& path, ElfImage* out, std::string* error);
// Reads a whole file (for -initrd). false with *error set when it cannot be read.
bool ReadFile(const std::string& path, std::vector<uint8_t>* out, std::string* error);

}  // namespace strobe::vmm
