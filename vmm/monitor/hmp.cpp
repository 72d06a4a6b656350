// SPDX-License-Identifier: MIT
#include "vmm/monitor/hmp.h"

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "vmm/monitor/memsave.h"

namespace strobe::vmm::mon {

namespace {
struct Command {
  const char* names;  // "cont|c": the name and its aliases, as QEMU's help shows them
  const char* params;
  const char* help;
};
// In QEMU's help order (alphabetical), QEMU's own words.
constexpr Command kCommands[] = {
    {"balloon", "target", "request VM to change its memory allocation (in MB)"},
    {"change", "device [-f] filename [format [read-only-mode]]",
     "change a removable medium, optional format, use -f to force the operation"},
    {"cont|c", "", "resume emulation"},
    {"delvm", "tag", "delete a VM snapshot from its tag"},
    {"eject", "[-f] device", "eject a removable medium (use -f to force it)"},
    {"help|?", "[cmd]", "show the help"},
    {"hostfwd_add", "[netdev_id] [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport",
     "redirect TCP or UDP connections from host to guest (requires -net user)"},
    {"hostfwd_remove", "[netdev_id] [tcp|udp]:[hostaddr]:hostport",
     "remove host-to-guest TCP or UDP redirection"},
    {"info", "[subcommand]", "show various information about the system state"},
    {"loadvm", "tag", "restore a VM snapshot from its tag"},
    {"memsave", "addr size file", "save to disk virtual memory dump starting at 'addr' of size 'size'"},
    {"pmemsave", "addr size file", "save to disk physical memory dump starting at 'addr' of size 'size'"},
    {"print|p", "/fmt expr", "print expression value (use $reg for CPU register access)"},
    {"quit|q", "", "quit the emulator"},
    {"savevm", "tag", "save a VM snapshot under its tag (Strobe needs the tag)"},
    {"stop|s", "", "stop emulation"},
    {"system_powerdown", "", "send system power down event"},
    {"system_reset", "", "reset the system"},
    {"x", "/fmt addr", "virtual memory dump starting at 'addr'"},
    {"xp", "/fmt addr", "physical memory dump starting at 'addr'"},
};
constexpr Command kInfo[] = {
    {"balloon", "", "show balloon information"},
    {"block", "[device]", "show info of one block device or all block devices"},
    {"cpus", "", "show infos for each CPU"},
    {"jit", "", "show dynamic compiler info"},
    {"memory", "", "show machine memory: pages in use and shared (Strobe)"},
    {"name", "", "show the current VM name"},
    {"network", "", "show the network state"},
    {"pci", "", "show PCI info"},
    {"registers", "", "show the cpu registers"},
    {"snapshots", "", "show the currently saved VM snapshots"},
    {"status", "", "show the current VM status (running|paused)"},
    {"tlb", "", "show the guest TLB entries (Strobe)"},
    {"usernet", "", "show user network stack connection states"},
    {"version", "", "show the version of Strobe"},
};

std::string HelpLine(const char* prefix, const Command& c) {
  return std::string(prefix) + c.names + " " + c.params + " -- " + c.help + "\n";
}

// Whether `word` names command c (its name or an alias).
bool Names(const Command& c, const std::string& word) {
  const std::string names = c.names;
  size_t start = 0;
  for (;;) {
    const size_t bar = names.find('|', start);
    if (names.compare(start, bar == std::string::npos ? std::string::npos : bar - start, word) == 0 &&
        (bar == std::string::npos ? names.size() - start : bar - start) == word.size())
      return true;
    if (bar == std::string::npos) return false;
    start = bar + 1;
  }
}

// The words of an argument string, split at blanks only (file names have slashes, which FirstWord splits at).
std::vector<std::string> Words(const std::string& args) {
  std::vector<std::string> words;
  for (size_t b = args.find_first_not_of(" \t"); b != std::string::npos;
       b = args.find_first_not_of(" \t", b)) {
    const size_t e = args.find_first_of(" \t", b);
    words.push_back(args.substr(b, e == std::string::npos ? std::string::npos : e - b));
    b = e;
  }
  return words;
}

// QEMU's message for a missing argument of a command.
std::string Expected(const std::string& command, const std::string& what) {
  return command + ": " + what + " expected\nTry \"help " + command + "\" for more information\n";
}

// Splits off the first word; *rest is what follows it, without leading blanks.
std::string FirstWord(const std::string& line, std::string* rest) {
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string::npos) {
    rest->clear();
    return "";
  }
  size_t e = line.find_first_of(" \t", b);
  // "x/4xw addr": the format may follow the command with no space.
  const size_t slash = line.find('/', b);
  if (slash != std::string::npos && (e == std::string::npos || slash < e)) e = slash;
  std::string word = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
  const size_t r = e == std::string::npos ? std::string::npos : line.find_first_not_of(" \t", e);
  *rest = r == std::string::npos ? "" : line.substr(r);
  return word;
}

// $NAME registers for an expression: read from the machine on the first lookup, and only once.
RegisterLookup LazyRegisters(MachineControl& machine) {
  struct State {
    bool asked = false, have = false;
    CpuSnapshot cpu;
  };
  auto state = std::make_shared<State>();
  return [&machine, state](const std::string& name, uint64_t* value) {
    if (!state->asked) {
      state->asked = true;
      state->have = machine.Registers(&state->cpu);
    }
    return state->have && LookupRegister(state->cpu, name, value);
  };
}

}  // namespace

std::string CrLf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string HmpBanner() {
  return "Strobe " STROBE_VERSION " monitor - type 'help' for more information\n";
}

std::string HmpSession::Execute(const std::string& raw) {
  std::string line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  std::string rest;
  const std::string cmd = FirstWord(line, &rest);
  if (cmd.empty()) return "";
  const Command* found = nullptr;
  for (const Command& c : kCommands)
    if (Names(c, cmd)) found = &c;
  if (!found) return "unknown command: '" + cmd + "'\n";
  const std::string name = std::string(found->names).substr(0, std::string(found->names).find('|'));
  if (name == "help") {
    std::string out;
    std::string sub;
    const std::string what = FirstWord(rest, &sub);
    if (what == "info") {
      for (const Command& c : kInfo) out += HelpLine("info ", c);
      return out;
    }
    for (const Command& c : kCommands)
      if (what.empty() || Names(c, what)) out += HelpLine("", c);
    return out.empty() ? "unknown command: '" + what + "'\n" : out;
  }
  if (name == "info") return Info(rest, line);
  if (name == "cont") {
    machine_.Cont();
    return "";
  }
  if (name == "stop") {
    machine_.Stop();
    return "";
  }
  if (name == "system_powerdown") {
    machine_.PowerDown();
    return "";
  }
  if (name == "system_reset") {
    machine_.Reset();
    return "";
  }
  if (name == "quit") {
    quit_requested_ = true;
    machine_.Quit();
    return "";
  }
  if (name == "savevm" || name == "loadvm" || name == "delvm") {
    std::string more;
    const std::string tag = FirstWord(rest, &more);
    // QEMU's savevm without a tag invents one; Strobe's snapshots are files named by their tag.
    if (tag.empty()) return "Error: " + name + " needs a snapshot name (tag)\n";
    if (!more.empty()) return "Error: too many arguments to " + name + "\n";
    const std::string error = name == "savevm"   ? machine_.SaveSnapshot(tag)
                              : name == "loadvm" ? machine_.LoadSnapshot(tag)
                                                 : machine_.DeleteSnapshot(tag);
    return error.empty() ? "" : "Error: " + error + "\n";
  }
  if (name == "x" || name == "xp") return Dump(rest, name == "xp", name);
  if (name == "memsave" || name == "pmemsave") return Save(rest, name == "pmemsave", name);
  if (name == "print") return Print(rest, cmd);
  if (name == "hostfwd_add" || name == "hostfwd_remove") {
    const std::vector<std::string> words = Words(rest);
    if (words.empty()) return Expected(name, "string");
    if (words.size() > 2) return "Error: too many arguments to " + name + "\n";
    return machine_.HostForward(name == "hostfwd_add", words.size() == 2 ? words[0] : "", words.back());
  }
  if (name == "eject" || name == "change") return Media(name, rest);
  if (name == "balloon") return Balloon(rest);
  return "unknown command: '" + cmd + "'\n";
}

// balloon MB: the memory the guest is asked to keep (a size in MB, as QEMU's; 0 is no size).
std::string HmpSession::Balloon(const std::string& args) {
  const std::string help = "Try \"help balloon\" for more information\n";
  std::string more;
  const std::string word = FirstWord(args, &more);
  if (word.empty()) return "unexpected end of expression\n" + help;
  if (word[0] == '-') return "enter a positive value\n" + help;
  if (!std::isdigit(static_cast<unsigned char>(word[0]))) return help;
  char* end = nullptr;
  errno = 0;
  const unsigned long long mb = std::strtoull(word.c_str(), &end, 10);
  if (errno || mb > (1ull << 40)) return help;
  if (*end || !more.empty()) return "balloon: extraneous characters at the end of line\n" + help;
  uint64_t actual;  // as QEMU: no device is said before a bad size
  if (!machine_.BalloonActual(&actual)) return "Error: No balloon device has been activated\n";
  if (mb == 0) return "Error: Parameter 'target' expects a size\n";
  machine_.SetBalloonTarget(mb << 20);
  return "";
}

// eject [-f] device; change device [-f] filename [format [read-only-mode]] (QEMU's argument order).
std::string HmpSession::Media(const std::string& name, const std::string& args) {
  const std::vector<std::string> words = Words(args);
  MediaCommand c;
  size_t at = 0;
  auto flag = [&] {
    if (at < words.size() && words[at] == "-f") {
      c.force = true;
      ++at;
    }
  };
  if (name == "eject") {
    c.op = MediaCommand::Op::kEject;
    flag();
    if (at >= words.size()) return Expected(name, "block device name");
    c.device = words[at++];
  } else {
    c.op = MediaCommand::Op::kChange;
    if (at >= words.size()) return Expected(name, "block device name");
    c.device = words[at++];
    flag();
    if (at >= words.size()) return Expected(name, "filename");
    c.file = words[at++];
    if (at < words.size()) c.format = words[at++];
    if (at < words.size()) {
      const std::string& mode = words[at++];
      if (mode != "retain" && mode != "read-only" && mode != "read-write")
        return "Error: invalid parameter value: " + mode + "\n";
    }
  }
  if (at < words.size()) return "Error: too many arguments to " + name + "\n";
  const MediaError e = machine_.Media(c);
  return e.ok() ? "" : "Error: " + e.desc + "\n";
}

std::string HmpSession::Info(const std::string& args, const std::string& line) {
  std::string rest;
  const std::string what = FirstWord(args, &rest);
  if (what.empty()) {
    std::string out;
    for (const Command& c : kInfo) out += HelpLine("info ", c);
    return out;
  }
  if (what == "status") {
    const RunState s = machine_.state();
    if (s == RunState::kRunning) return "VM status: running\n";
    if (s == RunState::kPaused) return "VM status: paused\n";
    return std::string("VM status: paused (") + RunStateName(s) + ")\n";
  }
  if (what == "registers") {
    CpuSnapshot cpu;
    if (!machine_.Registers(&cpu)) return "Error: the vCPU did not answer (held by the gdb stub?)\n";
    return FormatRegisters(cpu);
  }
  if (what == "tlb") {
    std::vector<runtime::TlbEntry> tlb;
    if (!machine_.Tlb(&tlb)) return "Error: the vCPU did not answer (held by the gdb stub?)\n";
    return FormatTlb(tlb);
  }
  if (what == "block") {
    std::string name;  // -n and -v (QEMU's node and image details) change nothing here
    for (const std::string& word : Words(rest))
      if (name.empty() && word[0] != '-') name = word;
    std::vector<BlockDevice> blocks = machine_.Blocks();
    if (!name.empty()) std::erase_if(blocks, [&](const BlockDevice& b) { return b.device != name; });
    return FormatBlocks(blocks);
  }
  if (what == "usernet") return machine_.UserNetInfo();
  if (what == "pci") return FormatPci(machine_.Pci());
  if (what == "balloon") {
    uint64_t actual;
    if (!machine_.BalloonActual(&actual)) return "Error: No balloon device has been activated\n";
    return "balloon: actual=" + std::to_string(actual >> 20) + "\n";
  }
  if (what == "network") return machine_.NetworkInfo();
  if (what == "name") {
    const std::string name = machine_.Name();
    return name.empty() ? "" : name + "\n";
  }
  if (what == "cpus") return "* CPU #0: thread_id=" + std::to_string(machine_.CpuThreadId()) + "\n";
  if (what == "jit") return machine_.JitInfo();
  if (what == "memory") return machine_.MemoryInfo();
  if (what == "snapshots") return machine_.SnapshotTable();
  if (what == "version") return STROBE_VERSION "\n";
  std::string trimmed = line.substr(line.find_first_not_of(" \t"));
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.pop_back();
  return "unknown command: '" + trimmed + "'\n";
}

// print|p [/fmt] expr: QEMU's formats (x, the default, as %#x; d; u; o as %#o; c as a quoted character) of
// the 64-bit value.
std::string HmpSession::Print(const std::string& args, const std::string& command) {
  const RegisterLookup lookup = LazyRegisters(machine_);
  DumpFormat fmt;
  uint64_t v = 0;
  std::string error;
  if (!ParseDumpArgs(args, lookup, &fmt, &v, &error))
    return error + "\nTry \"help " + command + "\" for more information\n";
  char out[40];
  switch (fmt.format) {
    case 'x': std::snprintf(out, sizeof out, "%#" PRIx64 "\n", v); break;
    case 'o': std::snprintf(out, sizeof out, "%#" PRIo64 "\n", v); break;
    case 'u': std::snprintf(out, sizeof out, "%" PRIu64 "\n", v); break;
    case 'c': {
      const auto c = static_cast<uint8_t>(v);
      if (c == '\'' || c == '\\') {
        std::snprintf(out, sizeof out, "'\\%c'\n", c);
      } else if (c == '\n' || c == '\r') {
        std::snprintf(out, sizeof out, "'\\%c'\n", c == '\n' ? 'n' : 'r');
      } else if (c >= 32 && c <= 126) {
        std::snprintf(out, sizeof out, "'%c'\n", c);
      } else {
        std::snprintf(out, sizeof out, "'\\x%02x'\n", c);
      }
      break;
    }
    default: std::snprintf(out, sizeof out, "%" PRId64 "\n", static_cast<int64_t>(v)); break;
  }
  return out;
}

// memsave/pmemsave addr size file: addr and size as x's address ($NAME registers, + and -), one word each.
std::string HmpSession::Save(const std::string& args, bool physical, const std::string& command) {
  const std::vector<std::string> words = Words(args);
  if (words.empty()) return Expected(command, "address");
  if (words.size() < 2) return Expected(command, "integer");
  if (words.size() < 3) return Expected(command, "string");
  if (words.size() > 3) return "Error: too many arguments to " + command + "\n";
  const RegisterLookup lookup = LazyRegisters(machine_);
  uint64_t addr = 0, size = 0;
  DumpFormat unused;
  std::string error;
  if (!ParseDumpArgs(words[0], lookup, &unused, &addr, &error) ||
      !ParseDumpArgs(words[1], lookup, &unused, &size, &error))
    return error + "\nTry \"help " + command + "\" for more information\n";
  std::string file = words[2];
  if (file.size() >= 2 && file.front() == '"' && file.back() == '"') file = file.substr(1, file.size() - 2);
  error = SaveMemory(machine_, physical, addr, size, file);
  return error.empty() ? "" : "Error: " + error + "\n";
}

std::string HmpSession::Dump(const std::string& args, bool physical, const std::string& command) {
  DumpFormat fmt;
  uint64_t addr = 0;
  std::string error;
  const RegisterLookup lookup = LazyRegisters(machine_);
  if (!ParseDumpArgs(args, lookup, &fmt, &addr, &error))
    return error + "\nTry \"help " + command + "\" for more information\n";
  const MemoryReader read = [&](uint64_t a, uint8_t* out, size_t n) -> size_t {
    if (physical) return machine_.ReadPhysical(a, out, n);
    if (a > 0xFFFFFFFFu) return 0;
    return machine_.ReadVirtual(static_cast<uint32_t>(a), out, n);
  };
  if (fmt.format == 'i')
    return FormatDisassembly(fmt.count, addr, read, [&](uint32_t a, uint32_t word, std::string* text) {
      return machine_.Disassemble(a, word, text);
    });
  return FormatMemoryDump(fmt, addr, physical, read);
}

}  // namespace strobe::vmm::mon
