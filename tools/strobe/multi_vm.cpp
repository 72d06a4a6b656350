// SPDX-License-Identifier: MIT
#include "tools/strobe/multi_vm.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tools/strobe/chardev.h"
#include "tools/strobe/console.h"
#include "tools/strobe/multi_vm_monitors.h"
#include "tools/strobe/pidfile.h"
#include "tools/strobe/vm_setup.h"
#include "vmm/debug/gdb_server.h"
#include "vmm/monitor.h"
#include "vmm/monitor/json.h"
#include "vmm/monitor/selected_machine.h"
#include "vmm/page_sharing.h"
#include "vmm/vm_stats.h"

namespace strobe::tools {

int ExitStatus(vmm::VmExit exit) {
  switch (exit) {
    case vmm::VmExit::kPowerOff:
    case vmm::VmExit::kReset:
    case vmm::VmExit::kQuit: return 0;
    case vmm::VmExit::kHalted: return kExitHalted;
    case vmm::VmExit::kTimeout: return kExitTimeout;
    case vmm::VmExit::kInstructionLimit: return kExitLimit;
    case vmm::VmExit::kError: return kExitError;
    case vmm::VmExit::kPanic: return kExitPanic;
  }
  return kExitError;
}

std::string EndMessage(vmm::VmExit exit, const std::string& error) {
  if (exit == vmm::VmExit::kInstructionLimit) return "stopped at the instruction limit";
  if (!error.empty()) return error;
  return vmm::ToString(exit);
}

namespace {

constexpr uint64_t kDefaultShareRate = 32768;  // pages a second: 128 MiB/s of hashing, ~2% of a core
// Disk sharing caches at most this many blocks (128 MiB): those VMs map, and those kept for VMs that read
// them later. When it is full, blocks no VM maps any more go first; reads beyond that are copied.
constexpr size_t kDiskPageCachePages = 32768;

// Splits an option string into words as a shell splits simple ones: blanks separate, '...' and "..."
// quote, a backslash escapes the next character.
bool SplitWords(const std::string& s, std::vector<std::string>* out, std::string* error) {
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        word += s[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      word += s[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out->push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) {
    *error = std::string("unterminated ") + quote + " quote";
    return false;
  }
  if (in_word) out->push_back(word);
  return true;
}

// Options that belong to the whole run, not to one VM: the compilers are shared (so are their settings),
// and the terminal, statistics, snapshot folder and the VM set are the process's.
bool WholeRunOption(const std::string& word) {
  static const char* const kWords[] = {"--engine",
                                       "--jit-threshold",
                                       "--jit-kernel-threshold",
                                       "--jit-cooling",
                                       "--jit-baseline",
                                       "--jit-reoptimize",
                                       "--jit-busy",
                                       "--jit-opt",
                                       "--jit-inline-kseg",
                                       "--perf-map",
                                       "--code-cache",
                                       "--stats",
                                       "--stats-json",
                                       "--dump-blocks",
                                       "--vms",
                                       "--vm",
                                       "--console-dir",
                                       "--page-sharing",
                                       "--share-rate",
                                       "--snapshot-dir",
                                       "-serial",
                                       "-chardev",
                                       "-echr",
                                       "-no-shutdown",
                                       "-name",
                                       "-pidfile",
                                       "-no-user-config",
                                       "-d",
                                       "-D",
                                       "-nographic",
                                       "-display",
                                       "-daemonize"};
  std::string w = word;
  if (w.size() > 2 && w[0] == '-' && w[1] == '-' && w.rfind("--jit", 0) != 0 &&
      std::none_of(std::begin(kWords), std::end(kWords), [&](const char* k) { return w == k; }))
    w = w.substr(1);  // QEMU's --option spelling
  return std::any_of(std::begin(kWords), std::end(kWords), [&](const char* k) { return w == k; });
}

// The terminal is shared by the VMs (TerminalMux): its monitor is the console's Ctrl-A c, which follows
// Ctrl-A n; a monitor reading stdin would take those keys away.
constexpr const char* kNoStdioMonitor =
    ": several VMs share the terminal: its monitor is Ctrl-A c, which follows Ctrl-A n; give the VMs a "
    "socket monitor (unix:PATH,server,nowait or tcp::PORT,server,nowait)";

// What several VMs cannot have yet, each with the line that says so.
std::string UnsupportedWithSeveral(const RunOptions& o) {
  for (const vmm::mon::MonitorSpec& m : o.monitors)
    if (m.transport == vmm::mon::MonitorSpec::Transport::kStdio) return m.text + kNoStdioMonitor;
  if (!o.dump_blocks.empty()) return "--dump-blocks: not with several VMs";
  if (o.no_shutdown) return "-no-shutdown: not with several VMs";
  if (o.trace.any()) return "-d: tracing follows one VM; not with several VMs";
  return "";
}

struct VmSlot {
  RunOptions opts;
  VmHostResources host;
  CharBackend console;
  std::string console_name;  // where its console goes, for the start line
  std::unique_ptr<vmm::Vm> vm;
  vmm::VmExit exit = vmm::VmExit::kError;
  double seconds = 0;
};

std::mutex g_report_mu;
void Report(const char* fmt, const std::string& a, const std::string& b = "") {
  std::lock_guard<std::mutex> lock(g_report_mu);
  std::fprintf(stderr, fmt, a.c_str(), b.c_str());
  std::fflush(stderr);
}

// The VMs' options: opts itself vm_copies times, then each --vm string parsed on its own, with the
// whole-run settings (engine, compilers) taken from opts.
bool BuildSlots(const RunOptions& opts, std::vector<std::unique_ptr<VmSlot>>* slots, std::string* error) {
  // Monitors: -monitor/-qmp outside --vm give each VM an endpoint of its own (multi_vm_monitors.h); a
  // --vm's own -monitor/-qmp are that VM's only ones.
  auto monitors = [&opts](size_t i, std::vector<vmm::mon::MonitorSpec> own, std::string* error) {
    for (vmm::mon::MonitorSpec& spec : own) spec.text = "vm" + std::to_string(i) + ": " + spec.text;
    if (!own.empty()) return own;
    for (const vmm::mon::MonitorSpec& spec : opts.monitors) {
      vmm::mon::MonitorSpec s;
      if (!MonitorSpecForVm(spec, i, &s, error)) break;
      own.push_back(s);
    }
    return own;
  };
  // A gdb port per VM: -s/-gdb outside --vm give VM i the port base + i; a --vm's own -s/-gdb give that
  // VM its own port (and -S there stops that VM alone).
  auto gdb_port = [&opts](size_t i, int own, std::string* error) {
    if (own >= 0 || opts.gdb_port < 0) return own;
    const int port = opts.gdb_port + static_cast<int>(i);
    if (port > 65535) *error = "-gdb: vm" + std::to_string(i) + " would need port " + std::to_string(port);
    return port;
  };
  for (unsigned i = 0; i < opts.vm_copies; ++i) {
    slots->push_back(std::make_unique<VmSlot>());
    slots->back()->opts = opts;
    slots->back()->opts.gdb_port = gdb_port(i, -1, error);
    slots->back()->opts.monitors = monitors(i, {}, error);
  }
  for (const std::string& text : opts.extra_vms) {
    const std::string where = "--vm '" + text + "'";
    std::vector<std::string> words;
    if (!SplitWords(text, &words, error)) {
      *error = where + ": " + *error;
      return false;
    }
    for (size_t w = 0; w < words.size(); ++w) {
      if (WholeRunOption(words[w])) {
        *error = where + ": " + words[w] + " applies to the whole run: give it outside --vm";
        return false;
      }
      if ((words[w] == "-monitor" || words[w] == "-qmp") && w + 1 < words.size() && words[w + 1] == "stdio") {
        *error = where + ": " + words[w] + " stdio" + kNoStdioMonitor;
        return false;
      }
    }
    auto slot = std::make_unique<VmSlot>();
    if (!ParseRunOptions(words, &slot->opts, error)) {
      *error = where + ": " + *error;
      return false;
    }
    if (slot->opts.help || !slot->opts.info.empty()) {
      *error = where + ": no VM options there";
      return false;
    }
    vmm::VmConfig& c = slot->opts.vm;
    const vmm::VmConfig& m = opts.vm;
    c.engine = m.engine;
    c.jit_threshold = m.jit_threshold;
    c.jit_kernel_threshold = m.jit_kernel_threshold;
    c.jit_serving_kernel_threshold = m.jit_serving_kernel_threshold;
    c.jit_cooling_shift = m.jit_cooling_shift;
    c.jit_baseline = m.jit_baseline;
    c.jit_reoptimize_after = m.jit_reoptimize_after;
    c.jit_busy_rate = m.jit_busy_rate;
    c.jit_opt_level = m.jit_opt_level;
    c.jit_listings = m.jit_listings;
    c.jit_inline_kseg = m.jit_inline_kseg;
    c.jit_perf_map = m.jit_perf_map;
    c.jit_code_cache_dir = m.jit_code_cache_dir;
    if (c.timeout_seconds == 0) c.timeout_seconds = m.timeout_seconds;
    if (c.max_instructions == 0) c.max_instructions = m.max_instructions;
    if (slot->opts.gdb_port < 0) slot->opts.gdb_host = opts.gdb_host;
    slot->opts.gdb_port = gdb_port(slots->size(), slot->opts.gdb_port, error);
    slot->opts.start_stopped = slot->opts.start_stopped || opts.start_stopped;
    slot->opts.monitors = monitors(slots->size(), slot->opts.monitors, error);
    if (slot->opts.loadvm.empty()) slot->opts.loadvm = opts.loadvm;  // a --vm's own -loadvm, else the run's
    slots->push_back(std::move(slot));
  }
  if (!error->empty()) return false;
  // NICs without mac= get QEMU's addresses in each VM; on a shared switch they must differ: VM i's are
  // 52:54:00:12:3(4+i):xx (its fifth byte moves on by i).
  for (size_t i = 1; i < slots->size(); ++i)
    for (NicRequest& nic : (*slots)[i]->opts.network.nics)
      if (!nic.mac_given) nic.mac[4] = static_cast<uint8_t>(nic.mac[4] + i);
  return true;
}

vmm::mon::Json StatsJson(std::vector<std::unique_ptr<VmSlot>>& slots, const vmm::MemoryReport& memory,
                         const vmm::SharingStats& sharing, jit::CompileService* compilers,
                         const code::OpsPool* ops_pool, const code::BaselinePool* baseline_pool) {
  using vmm::mon::Json;
  auto count = [](uint64_t v) { return Json(static_cast<int64_t>(v)); };
  Json root = Json::Object();
  Json vms = Json::Array();
  for (size_t i = 0; i < slots.size(); ++i) {
    VmSlot& s = *slots[i];
    Json v = Json::Object();
    v.Set("vm", static_cast<int>(i));
    v.Set("end", vmm::ToString(s.exit));
    v.Set("seconds", s.seconds);
    v.Set("instructions", count(s.vm->cpu().Retired()));
    v.Set("guest_pages_touched", count(memory.vms[i].touched));
    v.Set("guest_pages_shared", count(memory.vms[i].shared));
    // What the VM's code costs besides its guest pages: decoded blocks and baseline code.
    v.Set("blocks_kept", count(s.vm->code_cache().blocks().size()));
    v.Set("block_bytes", count(s.vm->code_cache().block_bytes()));
    v.Set("baseline_code_bytes", count(s.vm->code_cache().baseline_bytes()));
    if (s.vm->tier()) {
      v.Set("tier1_regions", count(s.vm->tier()->compiler_stats().regions));
      v.Set("tier1_compile_ms", s.vm->tier()->compiler_stats().compile_ms);
      v.Set("tier2_regions", count(s.vm->tier()->optimizer_stats().regions));
      v.Set("tier2_compile_ms", s.vm->tier()->optimizer_stats().compile_ms);
    }
    vms.Push(std::move(v));
  }
  root.Set("vms", std::move(vms));
  Json total = Json::Object();
  total.Set("guest_pages_touched", count(memory.touched()));
  total.Set("machine_pages", count(memory.machine_pages));
  total.Set("pages_saved", count(memory.saved()));
  total.Set("bytes_saved", count(static_cast<uint64_t>(memory.saved()) << 12));
  total.Set("scanner_sweeps", count(sharing.sweeps));
  total.Set("pages_hashed", count(sharing.pages_hashed));
  total.Set("pages_merged", count(sharing.merged));
  total.Set("zero_pages_merged", count(sharing.zero_merged));
  total.Set("merges_abandoned", count(sharing.changed));
  total.Set("merge_batches", count(sharing.batches));
  total.Set("disk_blocks_shared", count(sharing.disk.hits));
  total.Set("disk_pages_cached", count(sharing.disk.pages));
  total.Set("disk_blocks_cached", count(sharing.disk.inserts));
  if (compilers) {
    const jit::CompilerStats a = compilers->first->stats();
    total.Set("compiler_threads", compilers->second ? 2 : 1);
    total.Set("tier1_regions", count(a.regions));
    total.Set("tier1_reused", count(a.reused));
    total.Set("tier1_cache_loaded", count(a.cache_hits));
    total.Set("tier1_compile_ms", a.compile_ms);
    if (compilers->second) {
      const jit::CompilerStats b = compilers->second->stats();
      total.Set("tier2_regions", count(b.regions));
      total.Set("tier2_reused", count(b.reused));
      total.Set("tier2_cache_loaded", count(b.cache_hits));
      total.Set("tier2_compile_ms", b.compile_ms);
    }
  }
  if (ops_pool) {
    const code::OpsPoolStats o = ops_pool->stats();
    total.Set("decoded_sequences", count(o.sequences));
    total.Set("decoded_bytes", count(o.bytes));
    total.Set("decoded_blocks", count(o.references));
    total.Set("decoded_bytes_unshared", count(o.referenced_bytes));
  }
  if (baseline_pool) {
    const code::BaselinePoolStats b = baseline_pool->stats();
    total.Set("baseline_pieces", count(b.pieces));
    total.Set("baseline_bytes", count(b.bytes));
    total.Set("baseline_blocks", count(b.references));
    total.Set("baseline_bytes_unshared", count(b.referenced_bytes));
  }
  root.Set("total", std::move(total));
  return root;
}

void PrintStats(std::vector<std::unique_ptr<VmSlot>>& slots, const vmm::MemoryReport& memory,
                const vmm::SharingStats& sharing, jit::CompileService* compilers,
                const code::OpsPool* ops_pool, const code::BaselinePool* baseline_pool) {
  for (size_t i = 0; i < slots.size(); ++i) {
    VmSlot& s = *slots[i];
    std::fprintf(stderr, "strobe: vm%zu: %s after %.3f s: %s\n", i, vmm::ToString(s.exit), s.seconds,
                 vmm::ExecutionStats(*s.vm, s.seconds).c_str());
    for (const std::string& line : vmm::JitStats(*s.vm))
      std::fprintf(stderr, "strobe: vm%zu: %s\n", i, line.c_str());
    std::fprintf(stderr,
                 "strobe: vm%zu: memory: %zu guest pages touched, %zu of them on shared machine pages\n", i,
                 memory.vms[i].touched, memory.vms[i].shared);
  }
  std::fprintf(stderr,
               "strobe: all VMs: %zu guest pages touched on %zu machine pages: %zu pages (%zu MiB) saved by "
               "sharing\n",
               memory.touched(), memory.machine_pages, memory.saved(), memory.saved() >> 8);
  std::fprintf(
      stderr,
      "strobe: page sharing: %llu sweeps, %llu pages hashed, %llu merged (%llu onto the zero page), "
      "%llu abandoned (changed), in %llu batches\n",
      static_cast<unsigned long long>(sharing.sweeps), static_cast<unsigned long long>(sharing.pages_hashed),
      static_cast<unsigned long long>(sharing.merged), static_cast<unsigned long long>(sharing.zero_merged),
      static_cast<unsigned long long>(sharing.changed), static_cast<unsigned long long>(sharing.batches));
  if (sharing.disk.inserts || sharing.disk.refused)
    std::fprintf(stderr,
                 "strobe: disk sharing: %llu blocks read onto shared pages, %llu of them already there from "
                 "another read; %zu pages cached, %llu evicted, %llu reads copied (cache full)\n",
                 static_cast<unsigned long long>(sharing.disk.inserts + sharing.disk.hits),
                 static_cast<unsigned long long>(sharing.disk.hits), sharing.disk.pages,
                 static_cast<unsigned long long>(sharing.disk.evictions),
                 static_cast<unsigned long long>(sharing.disk.refused));
  if (compilers) {
    const jit::CompilerStats a = compilers->first->stats();
    using ull = unsigned long long;
    std::fprintf(stderr,
                 "strobe: compilers (shared by all VMs): tier 1 %llu regions compiled, %llu reused, %llu "
                 "from the code cache, %.0f ms",
                 static_cast<ull>(a.regions), static_cast<ull>(a.reused), static_cast<ull>(a.cache_hits),
                 a.compile_ms);
    if (compilers->second) {
      const jit::CompilerStats b = compilers->second->stats();
      std::fprintf(stderr, "; tier 2 %llu compiled, %llu reused, %llu from the code cache, %.0f ms",
                   static_cast<ull>(b.regions), static_cast<ull>(b.reused), static_cast<ull>(b.cache_hits),
                   b.compile_ms);
    }
    std::fprintf(stderr, "\n");
  }
  if (ops_pool) {
    const code::OpsPoolStats o = ops_pool->stats();
    std::fprintf(stderr,
                 "strobe: decoded instructions (shared by all VMs): %zu blocks hold %zu distinct sequences, "
                 "%.1f KiB (%.1f KiB if each block had its own copy)\n",
                 o.references, o.sequences, o.bytes / 1024.0, o.referenced_bytes / 1024.0);
  }
  if (baseline_pool) {
    const code::BaselinePoolStats b = baseline_pool->stats();
    std::fprintf(
        stderr,
        "strobe: baseline code (shared by all VMs): %zu blocks hold %zu distinct pieces, %.1f KiB (%.1f "
        "KiB if each block had its own copy)\n",
        b.references, b.pieces, b.bytes / 1024.0, b.referenced_bytes / 1024.0);
  }
}

// NICs of different VMs on one switch with one station address cannot tell their frames apart. VMs started
// from one snapshot get there: the snapshot holds its NICs' addresses, as QEMU's does (and the guest's own
// network settings with them). Said once per pair, with what makes them differ.
void WarnOfSharedAddresses(const std::vector<std::unique_ptr<VmSlot>>& slots,
                           const std::vector<vmm::Vm*>& vms) {
  struct Port {
    size_t vm;
    int hub;
    std::array<uint8_t, 6> address;
  };
  std::vector<Port> ports;
  for (size_t i = 0; i < slots.size(); ++i) {
    const NetworkConfig& net = slots[i]->opts.network;
    for (size_t k = 0; k < net.nics.size() && k < vms[i]->nic_count(); ++k)
      if (net.nics[k].netdev >= 0 && net.netdevs[net.nics[k].netdev].hub >= 0)
        ports.push_back({i, net.netdevs[net.nics[k].netdev].hub, vms[i]->nic_address(k)});
  }
  for (size_t a = 0; a < ports.size(); ++a)
    for (size_t b = a + 1; b < ports.size(); ++b) {
      const Port &p = ports[a], &q = ports[b];
      if (p.vm == q.vm || p.hub != q.hub || p.address != q.address) continue;
      const std::array<uint8_t, 6>& m = p.address;
      const std::string& snap = slots[p.vm]->opts.loadvm;
      const std::string why = !snap.empty() && snap == slots[q.vm]->opts.loadvm
                                  ? "both started from snapshot '" + snap + "', which holds the address"
                                  : "both configured with it";
      // The address --vms would have given the second one (its fifth byte moved on by its index).
      const unsigned fifth = (m[4] + q.vm) & 0xFFu;
      std::fprintf(
          stderr,
          "strobe: warning: vm%zu and vm%zu have one MAC address, %02x:%02x:%02x:%02x:%02x:%02x, on hub "
          "%d (%s): they cannot reach each other until one guest takes another, e.g. in vm%zu: ip link "
          "set eth0 down; ip link set eth0 address %02x:%02x:%02x:%02x:%02x:%02x; ip link set eth0 up\n",
          p.vm, q.vm, m[0], m[1], m[2], m[3], m[4], m[5], p.hub, why.c_str(), q.vm, m[0], m[1], m[2], m[3],
          fifth, m[5]);
    }
}

}  // namespace

int RunSeveralVms(RunOptions& opts) {
  // SIGINT, SIGTERM and SIGHUP end every VM, as Ctrl-A x does: blocked before any thread exists (the
  // compilers', the networks'), so that only the thread below takes them.
  sigset_t quit_signals;
  sigemptyset(&quit_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&quit_signals, sig);
  pthread_sigmask(SIG_BLOCK, &quit_signals, nullptr);
  std::string error;
  if (const std::string no = UnsupportedWithSeveral(opts); !no.empty()) {
    std::fprintf(stderr, "strobe: %s\n", no.c_str());
    return kExitUsage;
  }
  std::vector<std::unique_ptr<VmSlot>> slots;
  if (!BuildSlots(opts, &slots, &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitUsage;
  }
  const size_t n = slots.size();
  // Each VM's disks and networks (a writable image given to two VMs is refused by its lock; a hostfwd
  // port by its bind).
  for (size_t i = 0; i < n; ++i) {
    if (const int status = PrepareVmHost(&slots[i]->opts, &slots[i]->host, &error)) {
      std::fprintf(stderr, "strobe: vm%zu: %s\n", i, error.c_str());
      return status == 2 ? kExitUsage : kExitError;
    }
  }
  // Each VM's gdb stub listens before anything boots, so that a port in use fails first. (The process
  // ends with _Exit: a server's thread, blocked in accept, is never torn down under it.)
  std::vector<std::unique_ptr<vmm::gdb::GdbServer>> gdb(n);
  for (size_t i = 0; i < n; ++i) {
    const RunOptions& o = slots[i]->opts;
    if (o.gdb_port < 0) continue;
    gdb[i] = std::make_unique<vmm::gdb::GdbServer>();
    if (!gdb[i]->Listen(o.gdb_host, static_cast<uint16_t>(o.gdb_port), &error)) {
      std::fprintf(stderr, "strobe: vm%zu: %s\n", i, error.c_str());
      return kExitError;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  if (!opts.process_name.empty()) pthread_setname_np(pthread_self(), opts.process_name.substr(0, 15).c_str());

  // One pool of machine pages for all VMs (address space only: memory is taken as pages are touched).
  size_t ram = 0;
  for (auto& s : slots) ram += s->opts.vm.ram_bytes;
  static vmm::Monitor monitor(std::max(size_t{4} << 30, ram + (size_t{64} << 20)));  // outlives the threads
  // One set of compiler threads for every VM.
  std::shared_ptr<jit::CompileService> compilers;
  if (opts.vm.engine != vmm::Engine::kInterp) {
    jit::TierOptions tier = vmm::TierOptionsFor(slots[0]->opts.vm);
    // Code that keeps exact budgets is right for every VM; code that does not is wrong under -icount.
    for (auto& s : slots) tier.compile.exact_budget |= s->opts.vm.icount_shift >= 0;
    compilers = jit::CompileService::Create(tier, slots.size());
  }
  // One copy of the decoded instructions that several VMs' blocks have in common (the kernel's, busybox's).
  auto ops_pool = n > 1 ? std::make_shared<code::OpsPool>() : nullptr;
  // And of the baseline code made from them (it is shared where the instructions are).
  auto baseline_pool = n > 1 ? std::make_shared<code::BaselinePool>() : nullptr;

  // Consoles: each VM's goes whole to DIR/vm<i>.log (DIR: --console-dir, else the current folder). The
  // terminal, when it is the console (-serial stdio, the default), shows one VM at a time: VM 0 first,
  // then the one Ctrl-A n moves it to. Another -serial takes VM 0's console instead (without
  // --console-dir), and the terminal shows none.
  const bool on_terminal = opts.serial.kind == CharDevSpec::Kind::kStdio;
  static TerminalMux mux(n);  // outlives the threads
  const std::string dir = opts.console_dir.empty() ? "." : opts.console_dir;
  if (!opts.console_dir.empty() && mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "strobe: --console-dir %s: %s\n", dir.c_str(), std::strerror(errno));
    return kExitError;
  }
  for (size_t i = 0; i < n; ++i) {
    VmSlot& s = *slots[i];
    CharDevSpec spec = opts.serial;
    if (i > 0 || !opts.console_dir.empty() || on_terminal) {
      spec = CharDevSpec{};
      spec.kind = CharDevSpec::Kind::kFile;
      spec.path = dir + "/vm" + std::to_string(i) + ".log";
    }
    s.console_name = spec.kind == CharDevSpec::Kind::kFile ? spec.path : "-serial";
    if (!s.console.Open(spec, &error)) {
      std::fprintf(stderr, "strobe: vm%zu: console: %s\n", i, error.c_str());
      return kExitError;
    }
    if (s.opts.vm.kernel.empty()) {
      std::fprintf(stderr, "strobe: vm%zu: several VMs need -kernel (the bundled demo guest runs alone)\n",
                   i);
      return kExitUsage;
    }
    s.opts.vm.compile_service = compilers;
    s.opts.vm.ops_pool = ops_pool;
    s.opts.vm.baseline_pool = baseline_pool;
    CharBackend* console = &s.console;
    s.vm = std::make_unique<vmm::Vm>(monitor, s.opts.vm, [console, i, on_terminal](uint8_t b) {
      console->Write(b);
      if (on_terminal) mux.Output(i, b);
    });
  }
  // Each VM's monitors listen before anything boots too; one snapshot folder for all
  // (SnapshotStore::Save keeps one VM from replacing another's snapshot).
  static vmm::SnapshotStore snapshots(opts.snapshot_dir.empty() ? vmm::SnapshotStore::DefaultDir()
                                                                : opts.snapshot_dir);
  std::vector<std::unique_ptr<VmMonitors>> monitors(n);
  for (size_t i = 0; i < n; ++i) {
    monitors[i] = std::make_unique<VmMonitors>(*slots[i]->vm, monitor, snapshots, i);
    monitors[i]->control().set_name(slots[i]->opts.guest_name);
    if (!monitors[i]->Listen(slots[i]->opts.monitors, &error)) {
      std::fprintf(stderr, "strobe: %s\n", error.c_str());
      return kExitError;
    }
  }

  std::vector<vmm::Vm*> vms;
  for (auto& s : slots) vms.push_back(s->vm.get());
  const bool sharing = opts.page_sharing != 0;
  vmm::PageSharer sharer(monitor, vms);
  if (sharing) sharer.ShareDisks(kDiskPageCachePages);
  // Boot one after another; each boot's pages that equal an earlier VM's (the same kernel and initrd)
  // are shared before any of them runs.
  for (size_t i = 0; i < n; ++i) {
    // -loadvm (the run's, or a --vm's own): N VMs loading one snapshot hold the same pages, which
    // MergeStopped then keeps once.
    const std::string& loadvm = slots[i]->opts.loadvm;
    if (!vms[i]->Boot(&error) || (!loadvm.empty() && !snapshots.Load(*vms[i], loadvm, &error))) {
      std::fprintf(stderr, "strobe: vm%zu: %s\n", i, error.c_str());
      return kExitError;
    }
    if (sharing) sharer.MergeStopped();
  }
  WarnOfSharedAddresses(slots, vms);
  if (vms[0]->tier() && !vms[0]->tier()->code_cache_error().empty())  // the run goes on, compiling all
    std::fprintf(stderr, "strobe: warning: code cache off: %s\n", vms[0]->tier()->code_cache_error().c_str());

  auto quit_all = [vms] {
    for (vmm::Vm* vm : vms) vm->RequestQuit();
  };
  std::thread([quit_all, quit_signals] {
    int sig = 0;
    if (sigwait(&quit_signals, &sig) != 0) return;
    char line[64];
    std::snprintf(line, sizeof line, "\r\nstrobe: terminating on signal %d\r\n", sig);
    [[maybe_unused]] const ssize_t w = write(STDERR_FILENO, line, std::strlen(line));
    quit_all();
  }).detach();

  {
    std::string where, ports, mons;
    for (size_t i = 0; i < n; ++i) {
      const std::string vm = "vm" + std::to_string(i);
      where += (i ? ", " : "") + vm + " -> " + slots[i]->console_name;
      if (gdb[i])
        ports += (ports.empty() ? "; gdb: " : ", ") + vm + " -> port " + std::to_string(gdb[i]->port()) +
                 (slots[i]->opts.start_stopped ? " (stopped)" : "");
      if (const std::string m = monitors[i]->Where(); !m.empty())
        mons += (mons.empty() ? "; monitors: " : ", ") + vm + " -> " + m +
                (slots[i]->opts.start_stopped && !gdb[i] ? " (stopped)" : "");
    }
    const std::string key = opts.escape_char == 0x01 ? "Ctrl-A" : "the escape key +";
    const std::string terminal =
        on_terminal ? "; the terminal shows vm0 (" + key + " n: the next VM, " + key + " c: its monitor)"
                    : "; the terminal's monitor (" + key + " c) drives vm0 (" + key + " n: the next VM)";
    std::fprintf(stderr, "strobe: %zu VMs, each on its own thread; consoles: %s%s%s%s\n", n, where.c_str(),
                 terminal.c_str(), ports.c_str(), mons.c_str());
  }
  for (size_t i = 0; i < n; ++i) {
    if (gdb[i]) gdb[i]->Start(*vms[i], slots[i]->opts.start_stopped);
    if (slots[i]->opts.start_stopped && !gdb[i]) monitors[i]->control().StartPaused();  // until its cont
  }
  // The terminal's keys go to the VM it shows (unless -serial moved the console off it); its monitor
  // (Ctrl-A c) drives that VM.
  vmm::mon::SelectedMachine terminal_monitor(
      [&monitors]() -> vmm::mon::MachineControl& { return monitors[mux.current()]->control(); });
  HostConsole::StartShared(vms, &mux, opts.escape_char, on_terminal, &terminal_monitor, quit_all);
  if (!on_terminal) slots[0]->console.StartInput([vm = vms[0]](uint8_t b) { vm->ConsoleInput(b); });

  if (sharing) sharer.Start(opts.share_rate ? opts.share_rate : kDefaultShareRate);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&slots, &monitors, i] {
      char name[16];
      std::snprintf(name, sizeof name, "strobe-vm%zu", i);
      pthread_setname_np(pthread_self(), name);
      VmSlot& s = *slots[i];
      monitors[i]->Start();  // an endpoint without nowait: this VM waits for its client
      const auto t0 = std::chrono::steady_clock::now();
      s.exit = s.vm->Run();
      s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      monitors[i]->Ended(s.exit);  // its monitors end with it, as a QEMU process's do
      char head[64];
      std::snprintf(head, sizeof head, "vm%zu", i);
      // Each VM's end on its own line, as it happens: the others run on.
      const bool failed = ExitStatus(s.exit) != 0;
      Report(failed ? "strobe: %s: %s\n" : "strobe: %s ended: %s\n", head,
             failed ? std::string(vmm::ToString(s.exit)) + ": " + EndMessage(s.exit, s.vm->error())
                    : EndMessage(s.exit, s.vm->error()));
    });
  }
  for (std::thread& t : threads) t.join();
  sharer.Stop();
  HostConsole::Restore();

  int status = 0;
  for (auto& s : slots)
    if (!status) status = ExitStatus(s->exit);
  if (opts.stats || !opts.stats_json.empty()) {
    const vmm::MemoryReport memory = vmm::ReportMemory(monitor, vms);
    const vmm::SharingStats shared = sharer.stats();
    if (opts.stats) PrintStats(slots, memory, shared, compilers.get(), ops_pool.get(), baseline_pool.get());
    if (!opts.stats_json.empty()) {
      std::FILE* f = std::fopen(opts.stats_json.c_str(), "w");
      if (!f) {
        std::fprintf(stderr, "strobe: --stats-json %s: %s\n", opts.stats_json.c_str(), std::strerror(errno));
        if (!status) status = kExitError;
      } else {
        std::fprintf(f, "%s\n",
                     StatsJson(slots, memory, shared, compilers.get(), ops_pool.get(), baseline_pool.get())
                         .Dump()
                         .c_str());
        std::fclose(f);
      }
    }
  }
  // As with one VM: no teardown (a compile may still run); the OS reclaims everything at once.
  std::fflush(nullptr);
  RemovePidFile();
  std::_Exit(status);
}

}  // namespace strobe::tools
