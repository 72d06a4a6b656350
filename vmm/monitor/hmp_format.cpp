// SPDX-License-Identifier: MIT
#include "vmm/monitor/hmp_format.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace strobe::vmm::mon {

namespace {
constexpr const char* kRegNames[32] = {"r0", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2",
                                       "t3", "t4", "t5", "t6", "t7", "s0", "s1", "s2", "s3", "s4", "s5",
                                       "s6", "s7", "t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra"};
constexpr uint32_t kStatusCu0 = 1u << 28, kStatusCu1 = 1u << 29, kStatusFr = 1u << 26;

void Append(std::string* out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void Append(std::string* out, const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// The mode bits of QEMU's hflags that Strobe has: KSU (0 kernel, 1 supervisor, 2 user; kernel under
// EXL/ERL), CP0 usable, FPU usable, 64-bit FPRs, COP1X (a model with an FPU).
uint32_t ModeFlags(const CpuSnapshot& c) {
  const uint32_t ksu = (c.status & 6) ? 0 : (c.status >> 3) & 3;
  uint32_t f = ksu;
  if (ksu == 0 || (c.status & kStatusCu0)) f |= 0x10;
  if (c.fir != 0) {
    f |= 0x80;
    if (c.status & kStatusCu1) f |= 0x20;
    if (c.status & kStatusFr) f |= 0x40;
  }
  return f;
}

void FpuDump(const CpuSnapshot& c, std::string* out) {
  Append(out, "CP1 FCR0 0x%08x  FCR31 0x%08x  SR.FR %d  fp_status 0x%02x\n", c.fir, c.fcsr, c.fr ? 1 : 0, 0u);
  // QEMU prints each register's raw bits converted to double (fd, fs, psu), not the values they encode.
  for (unsigned i = 0; i < 32; i += c.fr ? 1 : 2) {
    uint64_t d = c.fpr[i];
    if (!c.fr) d = (c.fpr[i] & 0xFFFFFFFFull) | (c.fpr[i + 1] << 32);
    const auto lo = static_cast<uint32_t>(d), hi = static_cast<uint32_t>(d >> 32);
    char name[8];
    std::snprintf(name, sizeof name, "f%u", i);
    Append(out, "%3s: w:%08x d:%016" PRIx64 " fd:%13g fs:%13g psu:%s%13g\n", name, lo, d,
           static_cast<double>(d), static_cast<double>(lo), c.fr ? " " : "", static_cast<double>(hi));
  }
}
}  // namespace

std::string FormatRegisters(const CpuSnapshot& c) {
  std::string out = "\nCPU#0\n";
  Append(&out, "pc=0x%08x HI=0x%08x LO=0x%08x ds %04x %08x %d\n", c.pc, c.hi, c.lo, ModeFlags(c),
         c.branch_target, c.branch_taken ? 1 : 0);
  for (unsigned i = 0; i < 32; ++i) {
    if ((i & 3) == 0) Append(&out, "GPR%02u:", i);
    Append(&out, " %s %08x", kRegNames[i], c.gpr[i]);
    if ((i & 3) == 3) out += "\n";
  }
  Append(&out, "CP0 Status  0x%08x Cause   0x%08x EPC    0x%08x\n", c.status, c.cause, c.epc);
  Append(&out, "    Config0 0x%08x Config1 0x%08x LLAddr 0x%016" PRIx64 "\n", c.config[0], c.config[1],
         static_cast<uint64_t>(c.lladdr));
  Append(&out, "    Config2 0x%08x Config3 0x%08x\n", c.config[2], c.config[3]);
  Append(&out, "    Config4 0x%08x Config5 0x%08x\n", 0u, 0u);
  if (c.fir != 0 && (c.status & kStatusCu1)) FpuDump(c, &out);
  return out;
}

bool LookupRegister(const CpuSnapshot& c, const std::string& name, uint64_t* value) {
  if (name == "pc") {
    *value = c.pc;
    return true;
  }
  if (name == "hi" || name == "lo") {
    *value = name == "hi" ? c.hi : c.lo;
    return true;
  }
  for (unsigned i = 0; i < 32; ++i)
    if (name == kRegNames[i] || (i == 30 && name == "fp") || (i == 0 && name == "zero")) {
      *value = c.gpr[i];
      return true;
    }
  return false;
}

// Strobe's own layout (QEMU has no `info tlb` for MIPS): one line per valid entry, both halves.
std::string FormatTlb(const std::vector<runtime::TlbEntry>& tlb) {
  std::string out;
  unsigned shown = 0;
  for (size_t i = 0; i < tlb.size(); ++i) {
    const runtime::TlbEntry& e = tlb[i];
    if (!runtime::AnyHalfValid(e)) continue;
    const uint32_t half = runtime::HalfPageSize(e);
    const uint32_t mask = 2 * half - 1;  // the pair's span - 1
    const uint32_t vpn = e.entryhi & ~mask;
    Append(&out, "TLB[%02zu] VA %08x-%08x ASID %02x%s size %uK\n", i, vpn, vpn + mask, e.entryhi & 0xFF,
           e.global ? " G" : "  ", half >> 10);
    for (unsigned h = 0; h < 2; ++h) {
      const runtime::EntryLoFields lo = runtime::DecodeEntryLo(e.entrylo[h]);
      Append(&out, "        %08x -> %09" PRIx64 " %c%c C%u\n", vpn + h * half, uint64_t{lo.frame_pa},
             lo.valid ? 'V' : '-', lo.dirty ? 'D' : '-', lo.cache);
    }
    ++shown;
  }
  Append(&out, "%u of %zu entries valid\n", shown, tlb.size());
  return out;
}

namespace {
// One term of an address: a number or a $register.
bool ParseTerm(const char*& p, const RegisterLookup& reg, uint64_t* v, std::string* error) {
  while (*p == ' ') ++p;
  if (*p == '\0') {
    *error = "unexpected end of expression";
    return false;
  }
  if (*p == '-') {  // a negative term, as QEMU's expressions have it: the value wraps (p /u -1)
    ++p;
    if (!ParseTerm(p, reg, v, error)) return false;
    *v = 0 - *v;
    return true;
  }
  if (*p == '$') {
    const char* start = ++p;
    while (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_') ++p;
    const std::string name(start, p);
    if (!reg || !reg(name, v)) {
      *error = "unknown register";
      return false;
    }
    return true;
  }
  if (!std::isdigit(static_cast<unsigned char>(*p))) {
    *error = "invalid char in expression";
    return false;
  }
  char* end = nullptr;
  errno = 0;
  *v = std::strtoull(p, &end, 0);
  if (errno) {
    *error = "number too large";
    return false;
  }
  p = end;
  return true;
}
}  // namespace

bool ParseDumpArgs(const std::string& args, const RegisterLookup& reg, DumpFormat* fmt, uint64_t* addr,
                   std::string* error) {
  const char* p = args.c_str();
  while (*p == ' ') ++p;
  DumpFormat f;
  bool size_given = false;
  if (*p == '/') {
    ++p;
    if (std::isdigit(static_cast<unsigned char>(*p))) {
      char* end = nullptr;
      const unsigned long n = std::strtoul(p, &end, 10);
      f.count = n > 0xFFFFFFFFul ? 0xFFFFFFFFu : static_cast<unsigned>(n);
      p = end;
    }
    for (; *p && *p != ' '; ++p) {
      switch (*p) {
        case 'o':
        case 'x':
        case 'd':
        case 'u':
        case 'c':
        case 'i': f.format = *p; break;
        case 'b': f.size = 1, size_given = true; break;
        case 'h': f.size = 2, size_given = true; break;
        case 'w': f.size = 4, size_given = true; break;
        case 'g': f.size = 8, size_given = true; break;
        default: *error = std::string("invalid char in format: '") + *p + "'"; return false;
      }
    }
    if (f.format == 'c' && !size_given) f.size = 1;
  }
  uint64_t v = 0;
  if (!ParseTerm(p, reg, &v, error)) return false;
  for (;;) {
    while (*p == ' ') ++p;
    if (*p == '\0') break;
    const char op = *p++;
    if (op != '+' && op != '-') {
      *error = "invalid char in expression";
      return false;
    }
    uint64_t t;
    if (!ParseTerm(p, reg, &t, error)) return false;
    v = op == '+' ? v + t : v - t;
  }
  *fmt = f;
  *addr = v;
  return true;
}

std::string FormatDisassembly(unsigned count, uint64_t addr, const MemoryReader& read,
                              const WordDisassembler& disassemble) {
  std::string out;
  for (unsigned i = 0; i < std::min(count, 16384u); ++i, addr += 4) {
    uint8_t b[4];
    if (read(addr, b, 4) < 4) {
      Append(&out, "0x%08" PRIx64 ":  Address 0x%08" PRIx64 " is out of bounds.\n", addr, addr);
      break;
    }
    const uint32_t word = b[0] | b[1] << 8 | b[2] << 16 | uint32_t{b[3]} << 24;
    std::string text;
    if (!disassemble || !disassemble(static_cast<uint32_t>(addr), word, &text))
      Append(&text, ".word\t0x%08x", word);  // as binutils prints what it cannot decode
    Append(&out, "0x%08" PRIx64 ":  %s\n", addr, text.c_str());
  }
  return out;
}

std::string FormatMemoryDump(const DumpFormat& fmt, uint64_t addr, bool physical, const MemoryReader& read) {
  constexpr uint64_t kMaxBytes = 64 * 1024;
  unsigned wsize = fmt.size;
  uint64_t len = uint64_t{wsize} * fmt.count;
  const bool cut = len > kMaxBytes;
  if (cut) len = kMaxBytes;
  const unsigned line_size = wsize == 1 ? 8 : 16;
  int digits = 0;
  switch (fmt.format) {
    case 'd':
    case 'u': digits = static_cast<int>((wsize * 8 * 10 + 32) / 33); break;
    case 'c': wsize = 1; break;
    default: digits = static_cast<int>(wsize * 2); break;
  }
  if (!physical) addr &= 0xFFFFFFFFu;
  std::string out;
  while (len > 0) {
    if (physical)
      Append(&out, "%016" PRIx64 ":", addr);
    else
      Append(&out, "%08" PRIx64 ":", addr);
    const unsigned l = static_cast<unsigned>(std::min<uint64_t>(len, line_size));
    uint8_t buf[16] = {};
    if (read(addr, buf, l) < l) {
      out += " Cannot access memory\n";
      break;
    }
    for (unsigned i = 0; i + wsize <= l; i += wsize) {
      uint64_t v = 0;
      for (unsigned b = 0; b < wsize; ++b) v |= uint64_t{buf[i + b]} << (8 * b);  // little-endian
      out += ' ';
      switch (fmt.format) {
        case 'o': Append(&out, "%#" PRIo64, v); break;
        case 'u': Append(&out, "%*" PRIu64, digits, v); break;
        case 'd': Append(&out, "%*" PRId64, digits, static_cast<int64_t>(v)); break;
        case 'c':
          if (v == '\\')
            out += "'\\\\'";
          else if (v == '\'')
            out += "'\\''";
          else if (v == '\n')
            out += "'\\n'";
          else if (v == '\r')
            out += "'\\r'";
          else if (v >= 32 && v <= 126)
            Append(&out, "'%c'", static_cast<char>(v));
          else
            Append(&out, "'\\x%02x'", static_cast<unsigned>(v));
          break;
        default: Append(&out, "0x%0*" PRIx64, digits, v); break;
      }
    }
    out += '\n';
    addr += l;
    if (!physical) addr &= 0xFFFFFFFFu;
    len -= l;
  }
  if (cut) out += "(dump cut at 64 KiB)\n";
  return out;
}

std::string FormatBlocks(const std::vector<BlockDevice>& blocks) {
  std::string out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const BlockDevice& b = blocks[i];
    if (i > 0) out += "\n";
    if (b.inserted) {
      out += b.device + ": " + b.file + " (" + b.format + (b.read_only ? ", read-only)\n" : ")\n");
    } else {
      out += b.device + ": [not inserted]\n";
    }
    out += "    Attached to:      " + b.qdev + "\n";
    if (b.removable)
      out += std::string("    Removable device: ") + (b.locked ? "locked" : "not locked") +
             (b.tray_open ? ", tray open\n" : ", tray closed\n");
    if (b.inserted)
      out += std::string("    Cache mode:       ") + (b.write_cache ? "writeback\n" : "writethrough\n");
    if (!b.backing_file.empty())
      out += "    Backing file:     " + b.backing_file + " (chain depth: " + std::to_string(b.backing_depth) +
             ")\n";
    if (b.inserted && b.detect_zeroes != "off") out += "    Detect zeroes:    " + b.detect_zeroes + "\n";
  }
  return out;
}

// The PCI class names QEMU's monitor uses, by base class and subclass (0x0001 is the pre-2.0 VGA class);
// a class not here shows as "Class NNNN", in decimal as QEMU prints it.
const char* PciClassName(uint16_t cls) {
  struct Name {
    uint16_t cls;
    const char* name;
  };
  static constexpr Name kNames[] = {
      {0x0001, "VGA controller"},
      {0x0100, "SCSI controller"},
      {0x0101, "IDE controller"},
      {0x0102, "Floppy controller"},
      {0x0103, "IPI controller"},
      {0x0104, "RAID controller"},
      {0x0106, "SATA controller"},
      {0x0107, "SAS controller"},
      {0x0180, "Storage controller"},
      {0x0200, "Ethernet controller"},
      {0x0201, "Token Ring controller"},
      {0x0202, "FDDI controller"},
      {0x0203, "ATM controller"},
      {0x0280, "Network controller"},
      {0x0300, "VGA controller"},
      {0x0301, "XGA controller"},
      {0x0302, "3D controller"},
      {0x0380, "Display controller"},
      {0x0400, "Video controller"},
      {0x0401, "Audio controller"},
      {0x0402, "Phone"},
      {0x0403, "Audio controller"},
      {0x0480, "Multimedia controller"},
      {0x0500, "RAM controller"},
      {0x0501, "Flash controller"},
      {0x0580, "Memory controller"},
      {0x0600, "Host bridge"},
      {0x0601, "ISA bridge"},
      {0x0602, "EISA bridge"},
      {0x0603, "MC bridge"},
      {0x0604, "PCI bridge"},
      {0x0605, "PCMCIA bridge"},
      {0x0606, "NUBUS bridge"},
      {0x0607, "CARDBUS bridge"},
      {0x0608, "RACEWAY bridge"},
      {0x0680, "Bridge"},
      {0x0700, "Serial port"},
      {0x0701, "Parallel port"},
      {0x0800, "Interrupt controller"},
      {0x0801, "DMA controller"},
      {0x0802, "Timer"},
      {0x0803, "RTC"},
      {0x0900, "Keyboard"},
      {0x0901, "Pen"},
      {0x0902, "Mouse"},
      {0x0a00, "Dock station"},
      {0x0b00, "i386 cpu"},
      {0x0c00, "Firewire controller"},
      {0x0c01, "Access bus controller"},
      {0x0c02, "SSA controller"},
      {0x0c03, "USB controller"},
      {0x0c04, "Fibre channel controller"},
      {0x0c05, "SMBus"},
  };
  for (const Name& n : kNames)
    if (n.cls == cls) return n.name;
  return nullptr;
}

std::string FormatPci(const std::vector<PciFunctionInfo>& functions) {
  std::string out;
  char line[128];
  for (const PciFunctionInfo& f : functions) {
    std::snprintf(line, sizeof line, "  Bus %2d, device %3u, function %u:\n", 0, f.device, f.function);
    out += line;
    const char* name = PciClassName(f.class_code);
    if (name) {
      std::snprintf(line, sizeof line, "    %s", name);
    } else {
      std::snprintf(line, sizeof line, "    Class %04u", f.class_code);
    }
    out += line;
    std::snprintf(line, sizeof line, ": PCI device %04x:%04x\n", f.vendor, f.device_id);
    out += line;
    if (f.has_subsystem) {
      std::snprintf(line, sizeof line, "      PCI subsystem %04x:%04x\n", f.subsystem_vendor, f.subsystem);
      out += line;
    }
    if (f.irq_pin) {
      std::snprintf(line, sizeof line, "      IRQ %u, pin %c\n", f.irq_line,
                    static_cast<char>('A' + f.irq_pin - 1));
      out += line;
    }
    for (const PciFunctionInfo::Bar& b : f.bars) {
      const uint64_t address = b.mapped ? b.address : UINT64_MAX;
      const uint64_t last = address + b.size - 1;
      if (b.io) {
        std::snprintf(line, sizeof line, "      BAR%u: I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "].\n", b.index,
                      address, last);
      } else {
        std::snprintf(line, sizeof line,
                      "      BAR%u: %d bit%s memory at 0x%08" PRIx64 " [0x%08" PRIx64 "].\n", b.index,
                      b.wide ? 64 : 32, b.prefetchable ? " prefetchable" : "", address, last);
      }
      out += line;
    }
    out += "      id \"" + f.id + "\"\n";
  }
  return out;
}

}  // namespace strobe::vmm::mon
