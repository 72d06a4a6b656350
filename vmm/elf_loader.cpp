// SPDX-License-Identifier: MIT
// ELF32 layout per the System V gABI and the MIPS psABI supplement.
#include "vmm/elf_loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace strobe::vmm {

namespace {
constexpr uint16_t kEtExec = 2;
constexpr uint16_t kEmMips = 8;
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kKseg0 = 0x80000000u, kKseg2 = 0xC0000000u;

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
  if (U16(b, 16) != kEtExec)
    return Fail(error, "ELF type " + std::to_string(U16(b, 16)) + " is not an executable (ET_EXEC)");
  const uint32_t entry = U32(b, 24), phoff = U32(b, 28);
  const uint16_t phentsize = U16(b, 42), phnum = U16(b, 44);
  if (phnum == 0) return Fail(error, "ELF has no program headers");
  if (phentsize < 32) return Fail(error, "ELF program header size is too small");
  if (phoff > b.size() || static_cast<uint64_t>(phnum) * phentsize > b.size() - phoff)
    return Fail(error, "ELF program headers lie outside the file (truncated?)");
  if (entry < kKseg0 || entry >= kKseg2 || (entry & 3))
    return Fail(error, "ELF entry point " + Hex(entry) + " is not an aligned kseg0/kseg1 address");

  ElfImage img;
  img.entry = entry;
  for (uint16_t i = 0; i < phnum; ++i) {
    size_t ph = phoff + static_cast<size_t>(i) * phentsize;
    if (U32(b, ph) != kPtLoad) continue;
    const uint32_t offset = U32(b, ph + 4), vaddr = U32(b, ph + 8), filesz = U32(b, ph + 16),
                   memsz = U32(b, ph + 20);
    if (memsz == 0) continue;
    if (filesz > memsz) return Fail(error, "ELF segment at " + Hex(vaddr) + " has filesz > memsz");
    if (offset > b.size() || filesz > b.size() - offset)
      return Fail(error, "ELF segment at " + Hex(vaddr) + " lies outside the file (truncated?)");
    if (vaddr < kKseg0 || vaddr >= kKseg2 || static_cast<uint64_t>(vaddr & 0x1FFFFFFFu) + memsz > 0x20000000u)
      return Fail(error, "ELF segment at " + Hex(vaddr) + " is not inside kseg0/kseg1");
    ElfSegment seg;
    seg.vaddr = vaddr;
    seg.paddr = vaddr & 0x1FFFFFFFu;
    seg.memsz = memsz;
    seg.data.assign(b.begin() + offset, b.begin() + offset + filesz);
    img.segments.push_back(std::move(seg));
  }
  if (img.segments.empty()) return Fail(error, "ELF has no loadable segment");
  *out = std::move(img);
  return true;
}

bool ReadFile(const std::string& path, std::vector<uint8_t>* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Fail(error, path + ": " + std::strerror(errno));
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  if (f.bad()) return Fail(error, path + ": read error");
  return true;
}

bool LoadElfFile(const std::string& path, ElfImage* out, std::string* error) {
  std::vector<uint8_t> bytes;
  if (!ReadFile(path, &bytes, error)) return false;
  if (!ParseElf(bytes, out, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

}  // namespace strobe::vmm
