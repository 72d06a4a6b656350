// SPDX-License-Identifier: MIT
// ELF32 layout per the System V gABI and the MIPS psABI supplement.
#include "vmm/elf_loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "runtime/segments.h"

namespace strobe::vmm {

namespace {
constexpr uint16_t kEmMips = 8;
constexpr uint32_t kPtLoad = 1;
// QEMU's Malta loader turns every p_paddr into a physical address with this mask (its kseg0-to-physical
// translation), whichever segment the address lies in: lld's read-only segment of ELF headers at
// 0x00010000 lands at physical 0x10000, a kseg2 address 0xC0100000 at 0x00100000.
constexpr uint32_t kPhysMask = runtime::kUnmappedMask;

uint16_t U16(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint16_t>(b[off] | (b[off + 1] << 8));
}
uint32_t U32(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint32_t>(b[off]) | (static_cast<uint32_t>(b[off + 1]) << 8) |
         (static_cast<uint32_t>(b[off + 2]) << 16) | (static_cast<uint32_t>(b[off + 3]) << 24);
}
bool Fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}
std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
}  // namespace

bool ParseElf(const std::vector<uint8_t>& b, ElfImage* out, std::string* error) {
  if (b.size() < 52 || std::memcmp(b.data(),
                                   "\x7f"
                                   "ELF",
                                   4) != 0)
    return Fail(error, "not an ELF file");
  if (b[4] != 1)
    return Fail(error, b[4] == 2 ? "64-bit ELF; a MIPS32 (ELFCLASS32) image is needed" : "bad ELF class");
  if (b[5] != 1)
    return Fail(error, b[5] == 2 ? "big-endian ELF; Strobe runs little-endian MIPS (mipsel)"
                                 : "bad ELF data encoding");
  if (U16(b, 18) != kEmMips)
    return Fail(error, "ELF machine " + std::to_string(U16(b, 18)) + " is not MIPS (8)");
  // e_type is not checked: QEMU loads the PT_LOAD segments of any ELF type, so an ET_DYN image linked at
  // kseg0 runs as well (a file without program headers is refused below).
  const uint32_t entry = U32(b, 24), phoff = U32(b, 28);
  const uint16_t phentsize = U16(b, 42), phnum = U16(b, 44);
  if (phnum == 0) return Fail(error, "ELF has no program headers");
  if (phentsize < 32) return Fail(error, "ELF program header size is too small");
  if (phoff > b.size() || static_cast<uint64_t>(phnum) * phentsize > b.size() - phoff)
    return Fail(error, "ELF program headers lie outside the file (truncated?)");
  // QEMU takes an entry point below kseg0 for a KVM trap-and-emulate kernel and switches the CPU to that
  // guest memory map (useg unmapped); Strobe has no such mode. kseg2/kseg3 entries are loaded and run as in
  // QEMU (they fault at once: nothing is mapped there at boot).
  if (entry < runtime::kKseg0)
    return Fail(error,
                "ELF entry point " + Hex(entry) +
                    " is in useg: a KVM trap-and-emulate kernel, which Strobe does not run (link it at "
                    "kseg0, 0x80000000 and up)");
  if (entry & 3) return Fail(error, "ELF entry point " + Hex(entry) + " is not word-aligned");

  ElfImage img;
  img.entry = entry;
  for (uint16_t i = 0; i < phnum; ++i) {
    size_t ph = phoff + static_cast<size_t>(i) * phentsize;
    if (U32(b, ph) != kPtLoad) continue;
    const uint32_t offset = U32(b, ph + 4), vaddr = U32(b, ph + 8), paddr = U32(b, ph + 12),
                   filesz = U32(b, ph + 16), memsz = U32(b, ph + 20);
    if (memsz == 0) continue;  // QEMU skips empty segments too
    if (filesz > memsz) return Fail(error, "ELF segment at " + Hex(vaddr) + " has filesz > memsz");
    if (offset > b.size() || filesz > b.size() - offset)
      return Fail(error, "ELF segment at " + Hex(vaddr) + " lies outside the file (truncated?)");
    if (static_cast<uint64_t>(paddr & kPhysMask) + memsz > kPhysMask + 1ull)
      return Fail(error, "ELF segment at " + Hex(vaddr) + " (physical " + Hex(paddr & kPhysMask) + ", " +
                             std::to_string(memsz) + " bytes) runs past the 512 MiB physical window");
    ElfSegment seg;
    seg.vaddr = vaddr;
    seg.paddr = paddr & kPhysMask;
    seg.memsz = memsz;
    seg.data.assign(b.begin() + offset, b.begin() + offset + filesz);
    img.segments.push_back(std::move(seg));
  }
  if (img.segments.empty()) return Fail(error, "ELF has no loadable segment");
  // Two segments whose file bytes land on the same physical bytes are refused, as QEMU refuses overlapping
  // ROM regions (e.g. a kseg0 and a useg copy of one address). A zero-filled tail may lie under another
  // segment's bytes: QEMU cuts such a tail short, and the loader writes tails before file bytes to match.
  for (size_t i = 0; i < img.segments.size(); ++i)
    for (size_t j = i + 1; j < img.segments.size(); ++j) {
      const ElfSegment &x = img.segments[i], &y = img.segments[j];
      const uint64_t lo = std::max(x.paddr, y.paddr);
      const uint64_t hi =
          std::min<uint64_t>(uint64_t{x.paddr} + x.data.size(), uint64_t{y.paddr} + y.data.size());
      if (lo < hi)
        return Fail(error, "ELF segments at " + Hex(x.vaddr) + " and " + Hex(y.vaddr) +
                               " overlap in physical memory at " + Hex(static_cast<uint32_t>(lo)));
    }
  *out = std::move(img);
  return true;
}

bool LoadElfFile(const std::string& path, ElfImage* out, std::string* error) {
  std::vector<uint8_t> bytes;
  if (!ReadHostFile(path, kMaxGuestFileBytes, &bytes, error)) return false;
  if (!ParseElf(bytes, out, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

}  // namespace strobe::vmm
