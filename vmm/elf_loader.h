// SPDX-License-Identifier: MIT
// Reading a MIPS32 little-endian ELF image (the kernel or a bare-metal guest) the way QEMU's Malta loader
// does: every PT_LOAD segment goes to the guest-physical address its p_paddr has in kseg0/kseg1, i.e.
// p_paddr with the top three bits cleared, whatever segment the address is in (useg, kseg0-3), and the
// entry point is used as it is. Every malformed, truncated or foreign file is refused with a message that
// says what is wrong with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/host_file.h"

namespace strobe::vmm {

struct ElfSegment {
  uint32_t vaddr = 0;
  uint32_t paddr = 0;  // where the bytes go in guest-physical memory: p_paddr & 0x1FFFFFFF, as QEMU
  uint32_t memsz = 0;
  std::vector<uint8_t> data;  // filesz bytes; the rest up to memsz is zero
};

struct ElfImage {
  uint32_t entry = 0;
  std::vector<ElfSegment> segments;
};

// Parses bytes as an ELF32 MIPS little-endian executable. On failure returns false with *error set.
bool ParseElf(const std::vector<uint8_t>& bytes, ElfImage* out, std::string* error);
// Reads (ReadHostFile) and parses a file; the error names the file.
bool LoadElfFile(const std::string& path, ElfImage* out, std::string* error);

}  // namespace strobe::vmm
