// SPDX-License-Identifier: MIT
// QEMU options beyond the basics: the ones Strobe refuses (naming the issue that brings them), -rtc,
// -icount, -accel, -cpu, -M, -name, -echr, -smp, -gdb.
#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "tools/strobe/options.h"

namespace strobe::tools::qemu {

namespace {
struct Refusal {
  const char* option;
  bool takes_value;
  const char* what;  // the missing feature and its issue
};
// The disk options are parsed in drive_options.cpp and blockdev_options.cpp.
constexpr Refusal kRefusals[] = {
    {"-mon", true, "use -monitor or -qmp (stdio, unix:PATH,server,nowait, tcp:[HOST]:PORT,server,nowait)"},
    {"-enable-kvm", false, "Strobe is its own accelerator (binary translation); only -accel tcg is accepted"},
};

bool Fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}
}  // namespace

std::string Unsupported(const std::string& option, const std::string& value, bool* takes_value) {
  for (const Refusal& r : kRefusals)
    if (option == r.option) {
      *takes_value = r.takes_value;
      return option + (r.takes_value ? " " + value : "") + ": not supported yet: " + r.what;
    }
  *takes_value = false;
  return "";
}

bool ParseGdb(const std::string& value, std::string* host, int* port, std::string* error) {
  // QEMU's -gdb takes a character device: tcp:[HOST]:PORT[,options], a bare port number, or none.
  if (value == "none") {
    *port = -1;
    return true;
  }
  std::string spec = value.substr(0, value.find(','));
  std::string port_text;
  if (!spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos) {
    host->clear();
    port_text = spec;
  } else if (spec.rfind("tcp:", 0) == 0) {
    const std::string rest = spec.substr(4);
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return Fail(error, "-gdb " + value + ": expected tcp:[HOST]:PORT");
    *host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  } else {
    return Fail(error, "-gdb " + value + ": only tcp:[HOST]:PORT (or a port number) is supported");
  }
  char* end = nullptr;
  const long p = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end || p < 1 || p > 65535)
    return Fail(error, "-gdb " + value + ": bad port '" + port_text + "' (1-65535)");
  *port = static_cast<int>(p);
  return true;
}

bool ParseRtc(const std::string& value, vmm::VmConfig* vm, std::string* error) {
  size_t start = 0;
  for (;;) {
    const size_t at = value.find(',', start);
    const std::string part = value.substr(start, at - start);
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq), val = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (key == "base") {
      if (val == "utc") {
        vm->rtc_localtime = false;
        vm->rtc_start = -1;
      } else if (val == "localtime") {
        vm->rtc_localtime = true;
        vm->rtc_start = -1;
      } else {
        // QEMU's DATE forms: 2006-06-17T16:01:21 or 2006-06-17, taken as UTC.
        std::tm tm{};
        const char* end = strptime(val.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end || *end) {
          tm = std::tm{};
          end = strptime(val.c_str(), "%Y-%m-%d", &tm);
        }
        if (!end || *end)
          return Fail(error, "-rtc base=" + val + ": invalid date (utc, localtime, YYYY-MM-DD[THH:MM:SS])");
        vm->rtc_start = static_cast<int64_t>(timegm(&tm));
        vm->rtc_localtime = false;
      }
    } else if (key == "clock") {
      // Strobe's RTC always runs on its virtual clock, which follows the host's while the guest idles.
      if (val != "host" && val != "rt" && val != "vm")
        return Fail(error, "-rtc clock=" + val + ": invalid (host, rt or vm)");
    } else if (key == "driftfix") {
      if (val != "none" && val != "slew")
        return Fail(error, "-rtc driftfix=" + val + ": invalid (none or slew)");
    } else {
      return Fail(error, "-rtc: unknown option '" + part + "' (base=, clock=, driftfix=)");
    }
    if (at == std::string::npos) return true;
    start = at + 1;
  }
}

bool ParseIcount(const std::string& value, vmm::VmConfig* vm, std::string* error) {
  // QEMU's -icount [shift=]N|auto[,align=on|off][,sleep=on|off][,rr=...]: what counts instructions exactly
  // is accepted, what adapts to the host or records is refused.
  int shift = -1;
  bool sleep = true;
  size_t start = 0;
  for (bool first = true;; first = false) {
    const size_t at = value.find(',', start);
    const std::string part = value.substr(start, at - start);
    const size_t eq = part.find('=');
    const std::string key = eq == std::string::npos ? (first ? "shift" : part) : part.substr(0, eq);
    const std::string val = eq == std::string::npos ? (first ? part : "") : part.substr(eq + 1);
    if (key == "shift") {
      if (val == "auto")
        return Fail(error,
                    "-icount shift=auto: not supported: it adapts virtual time to the host's speed; give "
                    "shift=N (0-10)");
      char* end = nullptr;
      const long n = std::strtol(val.c_str(), &end, 10);
      if (val.empty() || *end || n < 0 || n > 10)
        return Fail(error,
                    "-icount shift=" + val + ": invalid (0-10: 2^N ns of virtual time per instruction)");
      shift = static_cast<int>(n);
    } else if (key == "sleep" || key == "align") {
      if (val != "on" && val != "off")
        return Fail(error, "-icount " + key + "=" + val + ": invalid (on or off)");
      if (key == "sleep") sleep = val == "on";
      if (key == "align" && val == "on")
        return Fail(error,
                    "-icount align=on: not supported: it slows the guest to the host's time; use "
                    "sleep=on or sleep=off");
    } else if (key == "rr" || key == "rrfile" || key == "rrsnapshot") {
      return Fail(error, "-icount " + key +
                             "=: record/replay is not supported (shift=N,sleep=off makes runs "
                             "without console input identical)");
    } else {
      return Fail(error, "-icount: unknown option '" + part + "' (shift=, sleep=, align=)");
    }
    if (at == std::string::npos) break;
    start = at + 1;
  }
  if (shift < 0)
    return Fail(error, "-icount " + value + ": give shift=N (0-10; QEMU ignores -icount without it)");
  vm->icount_shift = shift;
  vm->icount_sleep = sleep;
  return true;
}

bool ParseAccel(const std::string& value, std::string* error) {
  const std::string name = value.substr(0, value.find(','));
  if (name != "tcg")
    return Fail(error, "-accel " + name +
                           ": not available; Strobe is its own accelerator (binary translation), only tcg is "
                           "accepted");
  size_t start = value.find(',');
  while (start != std::string::npos) {
    const size_t at = value.find(',', start + 1);
    const std::string part = value.substr(start + 1, at - start - 1);
    const std::string key = part.substr(0, part.find('='));
    if (key != "thread" && key != "tb-size" && key != "split-wx" && key != "one-insn-per-tb")
      return Fail(error, "-accel tcg: unknown option '" + part + "'");
    start = at;
  }
  return true;  // the tcg options tune QEMU's translator; Strobe's has its own (--engine, --jit-*)
}

bool ParseCpu(const std::string& value, runtime::CpuModel* model, std::string* info, std::string* error) {
  const size_t comma = value.find(',');
  const std::string name = value.substr(0, comma);
  if (comma != std::string::npos && (name == "24Kc" || name == "24Kf")) {  // as QEMU: no properties to set
    const std::string prop = value.substr(comma + 1, value.find_first_of(",=", comma + 1) - comma - 1);
    return Fail(error, "-cpu " + value + ": Property '" + name + "-mips-cpu." + prop + "' not found");
  }
  if (name == "help" || name == "?") {
    *info =
        "Available CPUs:\n  24Kf       MIPS32r2 with a 64-bit FPU (single, double, word and long formats; "
        "the default)\n"
        "  24Kc       MIPS32r2, no FPU (the kernel emulates floating point)\n";
    return true;
  }
  if (name == "24Kc") {
    *model = runtime::CpuModel::k24Kc;
    return true;
  }
  if (name == "24Kf") {
    *model = runtime::CpuModel::k24Kf;
    return true;
  }
  return Fail(error, "unsupported CPU model '" + value + "' (available: 24Kc, 24Kf; -cpu help lists them)");
}

bool ParseMachine(const std::string& value, MachineOptions* out, std::string* info, std::string* error) {
  const std::string o = "-machine " + value;
  std::string name;
  size_t start = 0;
  for (bool first = true;; first = false) {
    const size_t at = value.find(',', start);
    const std::string part = value.substr(start, at == std::string::npos ? std::string::npos : at - start);
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq), v = eq == std::string::npos ? "" : part.substr(eq + 1);
    auto flag = [&] {
      bool ignored;
      return ParseOnOff(v, &ignored) ? true
                                     : Fail(error, o + ": '" + key + "' expects on or off, not '" + v + "'");
    };
    if (first && eq == std::string::npos) {
      name = part;
    } else if (key == "type") {
      name = v;
    } else if (key == "accel") {  // a list to try in order ("kvm:tcg"): Strobe is the tcg of it
      bool tcg = false;
      for (size_t p = 0; p <= v.size();) {
        const size_t colon = std::min(v.find(':', p), v.size());
        tcg |= v.substr(p, colon - p) == "tcg";
        p = colon + 1;
      }
      if (!tcg)
        return Fail(error, o + ": invalid accelerator " + v +
                               "; Strobe is its own accelerator (binary translation), only tcg is accepted");
    } else if (key == "kernel") {
      out->kernel = v;
    } else if (key == "initrd") {
      out->initrd = v;
    } else if (key == "append") {
      out->append = v;
    } else if (key == "dump-guest-core" || key == "mem-merge" || key == "graphics" ||
               key == "suppress-vmdesc" || key == "usb") {
      // No effect: Strobe dumps no core of guest memory, merges pages itself (several VMs), has no display,
      // migrates nothing, and the PIIX4's USB function is the board's either way.
      if (!flag()) return false;
    } else if (key == "dtb" || key == "dumpdtb" || key == "firmware" || key == "memory-backend" ||
               key == "memory" || key == "smp" || key == "boot" || key == "dt-compatible" ||
               key == "phandle-start" || key == "memory-encryption" || key == "confidential-guest-support") {
      return Fail(error, o + ": '" + key +
                             "' is not supported (type, accel, kernel, initrd, append, dump-guest-core, "
                             "mem-merge, graphics, suppress-vmdesc, usb; -m and -smp for memory and CPUs)");
    } else {
      return Fail(error, o + ": Property 'malta-machine." + key + "' not found");
    }
    if (at == std::string::npos) break;
    start = at + 1;
  }
  if (name == "help" || name == "?") {
    *info = "Supported machines are:\nmalta                MIPS Malta Core LV (default)\n";
    return true;
  }
  if (name == "malta" || name.empty()) return true;  // -machine accel=tcg: the default machine
  return Fail(error, "unsupported machine '" + name + "' (only malta; -M help lists them)");
}

bool ParseName(const std::string& value, std::string* guest_name, std::string* process_name,
               std::string* error) {
  size_t start = 0;
  bool first = true;
  for (;;) {
    const size_t at = value.find(',', start);
    const std::string part = value.substr(start, at - start);
    if (part.rfind("process=", 0) == 0) {
      *process_name = part.substr(8);
    } else if (part.rfind("guest=", 0) == 0) {
      *guest_name = part.substr(6);  // what the monitor's info name and QMP's query-name give
    } else if (part.rfind("debug-threads=", 0) == 0) {
      // thread names: nothing to do
    } else if (first && part.find('=') == std::string::npos) {
      *guest_name = part;
    } else {
      return Fail(error, "-name: unknown option '" + part + "' (NAME, guest=, process=, debug-threads=)");
    }
    first = false;
    if (at == std::string::npos) return true;
    start = at + 1;
  }
}

bool ParseOnOff(const std::string& value, bool* out) {
  if (value == "on" || value == "yes" || value == "true" || value == "y") {
    *out = true;
  } else if (value == "off" || value == "no" || value == "false" || value == "n") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

bool ParsePciAddr(const std::string& value, int* devfn) {
  auto hex = [](const std::string& s, unsigned long* out) {
    const size_t digits = s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0 ? 2 : 0;
    if (s.size() == digits || s.size() > digits + 8 ||
        s.find_first_not_of("0123456789abcdefABCDEF", digits) != std::string::npos)
      return false;
    *out = std::stoul(s.substr(digits), nullptr, 16);
    return true;
  };
  const size_t dot = value.find('.');
  unsigned long slot = 0, function = 0;
  if (!hex(value.substr(0, dot), &slot) || slot > 31) return false;
  if (dot != std::string::npos && (!hex(value.substr(dot + 1), &function) || function > 7)) return false;
  *devfn = static_cast<int>((slot << 3) | function);
  return true;
}

bool ParseEchr(const std::string& value, uint8_t* out, std::string* error) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(value.c_str(), &end, 0);  // decimal or 0x.. hex, as QEMU
  if (errno || end == value.c_str() || *end || v < 0 || v > 255)
    return Fail(error, "bad -echr '" + value + "' (a key code 0-255, e.g. 20 or 0x14 for Ctrl-T)");
  *out = static_cast<uint8_t>(v);
  return true;
}

bool ParseSmp(const std::string& value, std::string* error) {
  // -smp N or -smp cpus=N,...: every count given must be 1.
  size_t start = 0;
  for (;;) {
    const size_t at = value.find(',', start);
    const std::string part = value.substr(start, at - start);
    const std::string n = part.substr(part.find('=') == std::string::npos ? 0 : part.find('=') + 1);
    if (n != "1") return Fail(error, "unsupported -smp '" + value + "' (one CPU: SMP is not emulated)");
    if (at == std::string::npos) return true;
    start = at + 1;
  }
}

}  // namespace strobe::tools::qemu
