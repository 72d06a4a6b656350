// SPDX-License-Identifier: MIT
// The human monitor's output formats, as QEMU 7.2 prints them for a MIPS32 little-endian guest:
// `info registers` (mips_cpu_dump_state's layout, with the FPU when Status.CU1 is set), the `x`/`xp`
// memory dumps with their /FMT (count, format o/x/d/u/c, size b/h/w/g), `info block`, and Strobe's own
// `info tlb`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/tlb.h"
#include "vmm/monitor/machine.h"

namespace strobe::vmm::mon {

std::string FormatRegisters(const CpuSnapshot& cpu);
// `info block`: each device as QEMU prints it (without QEMU's automatic node names), an empty line between.
std::string FormatBlocks(const std::vector<BlockDevice>& blocks);
std::string FormatTlb(const std::vector<runtime::TlbEntry>& tlb);
// `info pci`: each function as QEMU's monitor lists it (class name, IDs, INTx, BARs with where they decode,
// unmapped ones at all ones); Strobe keeps no -device id=, so every id is "".
std::string FormatPci(const std::vector<PciFunctionInfo>& functions);
// QEMU's name for a PCI base class and subclass ("Ethernet controller"), or nullptr for one it has none for.
const char* PciClassName(uint16_t cls);

// A parsed /FMT: QEMU's defaults are count 1, format 'x', size 4 (and 1 for 'c').
struct DumpFormat {
  unsigned count = 1;
  char format = 'x';
  unsigned size = 4;
};
// A register's value by name ("pc", "sp", "a0", ...) for $NAME in an address; false: no such register.
using RegisterLookup = std::function<bool(const std::string& name, uint64_t* value)>;
// Parses what follows "x " / "xp ": an optional /FMT and an address: numbers in C syntax (0x hex, 0 octal,
// decimal) or $NAME registers, joined by + and -. false with QEMU's one-line *error ("invalid char in
// format: 'z'", "unexpected end of expression").
bool ParseDumpArgs(const std::string& args, const RegisterLookup& reg, DumpFormat* fmt, uint64_t* addr,
                   std::string* error);
// The GPR names QEMU uses (r0, at, v0, ..., s8, ra) and their value in cpu, or pc/hi/lo.
bool LookupRegister(const CpuSnapshot& cpu, const std::string& name, uint64_t* value);

// Reads `size` bytes at `addr` into out; returns how many could be read.
using MemoryReader = std::function<size_t(uint64_t addr, uint8_t* out, size_t size)>;
// One instruction word's text ("move\ts0,a0"), false when it cannot be disassembled.
using WordDisassembler = std::function<bool(uint32_t addr, uint32_t word, std::string* text)>;
// QEMU's memory_dump: 16 bytes a line (8 for byte sizes), the address as %08x (virtual) or %016x
// (physical), " Cannot access memory" where a line cannot be read. Dumps of more than 64 KiB are cut.
std::string FormatMemoryDump(const DumpFormat& fmt, uint64_t addr, bool physical, const MemoryReader& read);
// /i: `count` instructions from addr, "0x%08x:  text" a line as QEMU; memory that cannot be read ends the
// listing with QEMU's (binutils') "Address 0x... is out of bounds." At most 16,384 instructions.
std::string FormatDisassembly(unsigned count, uint64_t addr, const MemoryReader& read,
                              const WordDisassembler& disassemble);

}  // namespace strobe::vmm::mon
