// SPDX-License-Identifier: MIT
#include "tools/strobe/options.h"

#include "tools/strobe/device_options.h"
#include "tools/strobe/drive_options.h"
#include "tools/strobe/dump.h"
#include "tools/strobe/trace.h"
#include "translator/jit/persistent_cache.h"

#include <cerrno>
#include <cstdlib>

#include <sys/stat.h>
#include <unistd.h>

namespace strobe::tools {

namespace {
// QEMU's size syntax for -m: a number of MiB, or a number with a K/M/G suffix.
bool ParseRamSize(const std::string& s, uint64_t* bytes) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (errno || end == s.c_str() || s[0] == '-') return false;
  std::string suffix(end);
  uint64_t unit;
  if (suffix.empty() || suffix == "M" || suffix == "m" || suffix == "MB" || suffix == "MiB")
    unit = 1ull << 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GB" || suffix == "GiB")
    unit = 1ull << 30;
  else if (suffix == "K" || suffix == "k" || suffix == "KB" || suffix == "KiB")
    unit = 1ull << 10;
  else
    return false;
  if (n > (1ull << 40) / unit) return false;
  *bytes = n * unit;
  return true;
}

// One user of stdio at a time: the serial console (the default) or one monitor, as QEMU's "cannot use
// stdio by multiple character devices".
bool CheckMonitorsStdio(const RunOptions& o, std::string* error) {
  bool stdio_taken = o.serial.kind == CharDevSpec::Kind::kStdio;
  for (const vmm::mon::MonitorSpec& m : o.monitors) {
    if (m.transport != vmm::mon::MonitorSpec::Transport::kStdio) continue;
    if (stdio_taken) {
      *error =
          m.text + ": stdio is already used (" +
          (o.serial.kind == CharDevSpec::Kind::kStdio ? "by the serial console: move it with -serial, or use "
                                                        "Ctrl-A c on the console for a monitor"
                                                      : "by another monitor") +
          ")";
      return false;
    }
    stdio_taken = true;
  }
  return true;
}

constexpr unsigned kMaxVms = 64;

// A decimal count without sign or suffix.
bool ParseUint(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::strtoull(s.c_str(), nullptr, 10);
  return true;
}

bool ParseNumber(const std::string& s, double* out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || end == s.c_str() || *end || v < 0) return false;
  *out = v;
  return true;
}
}  // namespace

const char* RunUsage() {
  return "usage: strobe run [options]\n"
         "Runs a MIPS32r2 little-endian guest on an emulated Malta board. Without -kernel the bundled demo\n"
         "guest runs.\n"
         "\n"
         "QEMU-compatible options (a qemu-system-mipsel -M malta command line works unchanged):\n"
         "  -M, -machine malta[,accel=tcg][,kernel=F][,initrd=F][,append=S]   board (only malta; -M help\n"
         "                       lists it; dump-guest-core=, mem-merge=, graphics=, usb= have no effect)\n"
         "  -m SIZE              RAM in MiB, or with a K/M/G suffix (default 256, range 2M-2G). As in QEMU,\n"
         "                       the first 256 MiB are at physical 0 (memsize), all of it is ememsize;\n"
         "                       host memory is used only for the guest pages that are touched\n"
         "  -kernel FILE         ELF32 MIPS little-endian image to boot (segments placed as QEMU does)\n"
         "  -initrd FILE         initial RAM disk, announced with rd_start/rd_size\n"
         "  -append STRING       kernel command line\n"
         "  -cpu 24Kf|24Kc       CPU model: 24Kf (with an FPU, the default as on QEMU's Malta) or 24Kc (no "
         "FPU)\n"
         "  -nographic           console on stdin/stdout (always the case)\n"
         "  -no-reboot           exit (status 0) when the guest resets the board\n"
         "  -no-shutdown         on guest power-off stop the VM but keep running; the escape key + x quits\n"
         "  -serial DEV          COM1: stdio (default), mon:stdio, null, pty, file:PATH,\n"
         "                       unix:PATH[,server][,nowait], chardev:ID\n"
         "  -chardev TYPE,id=ID[,path=P][,server=on][,wait=off]   null, stdio, pty, file, socket\n"
         "  -nodefaults          no default devices: without -serial the guest console goes nowhere\n"
         "  -echr N              console escape key code (default 1, Ctrl-A)\n"
         "  -rtc base=utc|localtime|DATE[,clock=host|rt|vm][,driftfix=none|slew]   RTC start time\n"
         "                       (the RTC always runs on Strobe's virtual clock)\n"
         "  -icount [shift=]N[,sleep=on|off][,align=off]   each instruction is 2^N ns of virtual time\n"
         "                       (N 0-10; the interpreter runs, disk requests complete at fixed virtual\n"
         "                       times); sleep=off: idle time jumps to the next event, so runs without\n"
         "                       console input are identical (RTC from -rtc base=DATE or 2000-01-01)\n"
         "  -d ITEMS, -D FILE    log in_asm, int, exec (-d help) to stderr or FILE; exec runs the\n"
         "                       interpreter alone; in_asm shows blocks as the interpreter decodes them\n"
         "  -accel tcg[,...]     accepted (Strobe translates; kvm and others are refused)\n"
         "  -name NAME[,process=P]   process=P sets the process name\n"
         "  -boot ..., -L DIR    accepted, no effect (Malta boots -kernel directly; no firmware files)\n"
         "  -display none, -smp 1 accepted; -vga none frees the PCI slot QEMU's default VGA takes\n"
         "  -version             print the version\n"
         "  -hda/-hdb/-hdc/-hdd FILE, -cdrom FILE   disk images (raw or qcow2, with backing files) on IDE\n"
         "                       index 0-3 (-cdrom: 2, read-only)\n"
         "  -drive file=F[,format=raw|qcow2][,if=ide|virtio|none][,index=N][,media=disk|cdrom]\n"
         "         [,readonly=on][,cache=writeback|writethrough|none|directsync|unsafe][,snapshot=on]\n"
         "         [,id=ID]   a disk\n"
         "  -blockdev driver=file,node-name=N,filename=F[,read-only=on][,cache.direct=on]\n"
         "  -blockdev driver=raw|qcow2,node-name=N,file=NODE | file.driver=file,file.filename=F\n"
         "                       a disk image as a block node (KEY=VALUE or a JSON object, as libvirt)\n"
         "  -device virtio-blk-pci|ide-hd|ide-cd,drive=ID[,bus=ide.0|ide.1][,unit=0|1][,serial=S]\n"
         "         [,write-cache=on|off]   a disk for an -drive if=none,id=ID or a -blockdev node\n"
         "  -snapshot            writes to -drive/-hdX disks go to a temporary overlay; the images are\n"
         "                       not changed (as in QEMU, -blockdev nodes are written)\n"
         "  (IDE disks and the ATAPI CD-ROM are on the PIIX4's controller, virtio-blk disks on PCI\n"
         "  slots 00:12.0 and up)\n"
         "  -nic user[,model=pcnet|virtio-net-pci][,mac=M][,hostfwd=tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT]\n"
         "       [,restrict=on]  a NIC on user-mode networking (10.0.2.0/24, DHCP 10.0.2.15, gateway and\n"
         "                       host 10.0.2.2, DNS 10.0.2.3); the default is one pcnet NIC so; -nic none\n"
         "  -netdev user,id=ID[,...] with -device pcnet|virtio-net-pci,netdev=ID[,mac=M];\n"
         "                       -net nic[,model=,macaddr=] with -net user[,...]; -net none\n"
         "  -netdev socket,id=ID,listen=[HOST]:PORT | connect=HOST:PORT | udp=HOST:PORT,localaddr=HOST:PORT\n"
         "         | mcast=GROUP:PORT[,localaddr=ADDR]   a link to other VMs' processes (Strobe or QEMU)\n"
         "                       over a host socket, QEMU's framing; also -nic socket,..., -net socket,...\n"
         "  -netdev stream,id=ID[,server=on],addr.type=inet,addr.host=H,addr.port=P | addr.type=unix,\n"
         "         addr.path=PATH;  -netdev dgram,id=ID,local.type=inet,local.host=H,local.port=P,\n"
         "         remote.type=inet,remote.host=H,remote.port=P   QEMU 7.2's spellings of the same links\n"
         "  -netdev hubport,id=ID,hubid=N   a port of switch N inside the process (several VMs)\n"
         "  -object filter-dump,id=F,netdev=ID,file=PATH   capture a netdev's frames (pcap)\n"
         "  -device virtio-rng-pci[,rng=ID][,max-bytes=N,period=MS]   an entropy device (/dev/hwrng in\n"
         "                       the guest) fed by the host's getrandom(), or by -object rng-builtin,id=ID\n"
         "                       or -object rng-random,id=ID[,filename=PATH] (default /dev/urandom)\n"
         "  -device virtio-balloon-pci   a memory balloon: the monitor's balloon MB asks the guest to give\n"
         "                       memory back to the host\n"
         "  -gdb tcp:[HOST]:PORT   gdb stub on PORT (HOST default 127.0.0.1); -s is -gdb tcp::1234\n"
         "  -S                   start stopped before the first instruction until gdb or the monitor\n"
         "                       continues (needs -s, -gdb, -monitor or -qmp)\n"
         "  -monitor DEV, -qmp DEV   QEMU's monitor (HMP) or QMP on stdio, unix:PATH,server[,nowait] or\n"
         "                       tcp:[HOST]:PORT,server[,nowait] (HOST default 127.0.0.1; without nowait "
         "the\n"
         "                       guest starts once a client connects); none: no monitor. Ctrl-A c on the\n"
         "                       console switches to a monitor too\n"
         "  -loadvm NAME         start from the snapshot NAME (the monitor's savevm makes them)\n"
         "  -pidfile FILE        the process id in FILE, locked while the run lasts, removed at its end\n"
         "  -daemonize           detach from the terminal once the VM is set up (the console goes nowhere\n"
         "                       without -serial; not with -nographic or stdio)\n"
         "  -no-user-config      accepted (Strobe reads no configuration files)\n"
         "\n"
         "Strobe options:\n"
         "  --engine interp|jit|tiered   execution engine (default tiered: interpreter, hot code compiled\n"
         "                       by LLVM in the background; jit: compile all code before it runs)\n"
         "  --jit-threshold N    tiered: block executions before its region is compiled (default 16000)\n"
         "  --jit-kernel-threshold N   the same for code run in kseg0/kseg1, the kernel (default with the\n"
         "                       tiered engine's default --jit-opt: 24000, and --jit-threshold's once\n"
         "                       user programs run if the code cache is on; else --jit-threshold's)\n"
         "  --jit-cooling N      tiered: the executions counted toward the threshold halve every N guest\n"
         "                       instructions, rounded up to a power of two (default 134217728; 0: never)\n"
         "  --jit-baseline N     tiered: block executions before the interpreter runs it as host code\n"
         "                       written in one pass (no LLVM) until its region is compiled (default\n"
         "                       64; 0: never)\n"
         "  --jit-inline-kseg    translated code looks kseg0/kseg1 up in a physical page table inline\n"
         "                       when the soft TLB misses (off: measured slower on the boot)\n"
         "  --jit-opt 0|1|2      LLVM optimisation level for translated code (default 1: one LLVM\n"
         "                       tier; the jit engine's default is 0, a cheap tier and a second one)\n"
         "  --jit-promote loops|always|never   optimised code (--jit-opt 1|2, or the second tier): the\n"
         "                       regions that keep guest registers in host registers (default loops:\n"
         "                       those with a one-block loop; the others read and write them in memory)\n"
         "  --jit-reoptimize N   the second tier: region entries before a region is compiled again at O1\n"
         "                       (default 2000 with --jit-opt 0, the cheap first tier; 0: none)\n"
         "  --jit-busy N         the second tier takes a region whose code runs N guest instructions a\n"
         "                       second (default 4000000)\n"
         "  --tlb-entries N      guest TLB size, 1-64 (default 64)\n"
         "  --warp-idle          WAIT jumps virtual time to the next timer event instead of sleeping\n"
         "  --timeout SECONDS    stop a guest that runs longer (exit status 4; time held stopped by gdb\n"
         "                       or the monitor's stop does not count)\n"
         "  --max-instructions N stop after about N guest instructions (exit status 5)\n"
         "  --stats              print execution statistics on stderr at exit\n"
         "  --perf-map           write /tmp/perf-PID.map so that Linux perf names translated regions\n"
         "                       and baseline code\n"
         "  --code-cache DIR|off keep compiled code in DIR and reuse it in later runs (default\n"
         "                       $XDG_CACHE_HOME/strobe, else ~/.cache/strobe)\n"
         "  --snapshot-dir DIR   where savevm/loadvm keep snapshot files (default\n"
         "                       $XDG_DATA_HOME/strobe/snapshots, else ~/.local/share/strobe/snapshots)\n"
         "  --pcap FILE          capture the first NIC's frames to FILE (pcap, as tcpdump -r reads)\n"
         "  --dump-blocks SEL    at exit, dump translated regions: all, hot:N or an address (guest\n"
         "                       disassembly, LLVM IR before/after optimisation, host code, counts, times)\n"
         "\n"
         "Several VMs in one process (each on its own thread, sharing the LLVM compilers and, "
         "copy-on-write,\n"
         "identical memory pages):\n"
         "  --vms N              boot N VMs (1-64) from the options above\n"
         "  --vm 'OPTIONS'       one more VM with its own QEMU-style options (repeatable), e.g.\n"
         "                       --vm '-kernel K -initrd I -m 128'; whole-run options are refused there\n"
         "  --console-dir DIR    VM i's console goes whole to DIR/vm<i>.log (default: the current folder);\n"
         "                       the terminal shows one VM at a time (Ctrl-A n: the next)\n"
         "  --page-sharing on|off   merge identical pages of the VMs (default on with several VMs): at "
         "boot,\n"
         "                       then by a background scanner\n"
         "  --share-rate N       pages the scanner hashes a second (default 32768)\n"
         "  --stats-json FILE    with --stats: the statistics as JSON too\n"
         "\n"
         "Console: Ctrl-A x quits, Ctrl-A c switches between console and monitor, Ctrl-A Ctrl-A sends\n"
         "Ctrl-A, Ctrl-A h lists the keys (-echr changes Ctrl-A). With another -serial, stdin still takes\n"
         "these keys. With several VMs, Ctrl-A n moves the terminal (output, keys, Ctrl-A c's monitor) to\n"
         "the next VM; -monitor/-qmp outside --vm give VM i PORT + i or PATH.vm<i>, and quit ends that VM.\n"
         "Exit status: 0 power-off (or reset with -no-reboot, Ctrl-A x or quit), 1 error, 2 usage, 3 guest "
         "halted,\n"
         "4 timeout, 5 instruction limit, 6 guest kernel panic. With several VMs: 0 when every VM ended so,\n"
         "else the status of the first VM that did not.\n";
}

std::string VersionText() {
  return "Strobe emulator version " STROBE_VERSION
         " (a drop-in for qemu-system-mipsel -M malta; MIPS32r2 little-endian)\n";
}

namespace {
// -icount runs in every engine: translated code then keeps exact slice budgets (LiftOptions::exact_budget),
// so where interrupts are taken does not depend on which code is translated when. sleep=off takes no host
// time, so the RTC cannot start at the host's clock.
bool CheckIcount(const vmm::VmConfig& vm, bool rtc_host, std::string* error) {
  if (vm.icount_shift < 0) return true;
  if (rtc_host && !vm.icount_sleep) {
    *error =
        "-icount sleep=off reads no host time: give -rtc base=DATE, or no -rtc (the RTC then starts at "
        "2000-01-01T00:00:00)";
    return false;
  }
  return true;
}

// -daemonize as QEMU takes it: not with -nographic or a stdio character device (a daemon has no terminal);
// the guest console, without -serial, goes nowhere (QEMU's default serial is its display's console). One
// VM only: several VMs share the terminal.
bool CheckDaemonize(RunOptions& o, bool nographic_given, bool serial_given, std::string* error) {
  if (nographic_given) {
    *error = "-nographic cannot be used with -daemonize";
    return false;
  }
  if (!serial_given) o.serial.kind = CharDevSpec::Kind::kNull;
  bool stdio = o.serial.kind == CharDevSpec::Kind::kStdio;
  for (const vmm::mon::MonitorSpec& m : o.monitors)
    stdio = stdio || m.transport == vmm::mon::MonitorSpec::Transport::kStdio;
  if (stdio) {
    *error = "cannot use stdio with -daemonize";
    return false;
  }
  if (o.vm_copies > 1 || !o.extra_vms.empty()) {
    *error = "-daemonize: one VM only (several VMs share the terminal; run one strobe per VM)";
    return false;
  }
  return true;
}

// The tiered engine's default LLVM arrangement, unless the command line chose its own: one tier at O1 (no
// second tier; with baseline code below it, the cheap first tier, --jit-opt 0, no longer paid for itself),
// kernel code hot at 24,000 executions. With the persistent code cache, kernel code is hot at user code's
// threshold once programs run: the boot's code runs once per boot, but the kernel's paths that serve
// programs (system calls, faults, switches) run for the VM's life, and what is compiled for them is loaded
// by later runs instead of compiled again. Both in vmm/README.md, "Defaults chosen by measurement". The jit
// engine, which compiles every block before it runs, keeps the cheap first tier and the second.
constexpr unsigned kTieredOptLevel = 1;
constexpr uint64_t kTieredKernelThreshold = 24000;
void DefaultToOneTier(vmm::VmConfig& vm, bool opt_given, bool reoptimize_given, bool kernel_given) {
  if (vm.engine != vmm::Engine::kTiered || opt_given) return;
  vm.jit_opt_level = kTieredOptLevel;
  if (!reoptimize_given) vm.jit_reoptimize_after = 0;
  if (!kernel_given) {
    vm.jit_kernel_threshold = kTieredKernelThreshold;
    if (!vm.jit_code_cache_dir.empty()) vm.jit_serving_kernel_threshold = vm.jit_threshold;
  }
}
}  // namespace

bool ParseRunOptions(const std::vector<std::string>& args, RunOptions* out, std::string* error) {
  RunOptions o;
  CharDevs chardevs;
  DriveRequests disks;
  NetOptions net;
  DeviceOptions rng;
  int devices = 0;  // -device options so far
  bool serial_given = false, nodefaults = false, trace_help = false, nographic_given = false,
       vga_none = false;
  bool rtc_host = false;  // for -icount's check
  bool code_cache_given = false;
  bool opt_given = false, reoptimize_given = false, kernel_threshold_given = false;
  auto value = [&](size_t& i, std::string* v) {
    if (i + 1 >= args.size()) {
      *error = "option " + args[i] + " needs a value";
      return false;
    }
    *v = args[++i];
    return true;
  };
  // A whole number of at least `min` after option args[i]; `what` explains the value in the error.
  auto count = [&](size_t& i, uint64_t min, const char* what, uint64_t* out) {
    std::string v;
    if (!value(i, &v)) return false;
    double n;
    if (!ParseNumber(v, &n) || n < static_cast<double>(min) || n > 1e18 || n != static_cast<uint64_t>(n)) {
      *error = "bad " + args[i - 1] + " '" + v + "' (" + what + ")";
      return false;
    }
    *out = static_cast<uint64_t>(n);
    return true;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    // QEMU accepts --option for -option; Strobe's own options are the double-dash ones it knows.
    std::string a = args[i];
    if (a.size() > 2 && a[0] == '-' && a[1] == '-' && a != "--help" &&
        (a.rfind("--jit", 0) != 0 && a != "--engine" && a != "--tlb-entries" && a != "--warp-idle" &&
         a != "--timeout" && a != "--max-instructions" && a != "--stats" && a != "--perf-map" &&
         a != "--dump-blocks" && a != "--pcap" && a != "--vms" && a != "--vm" && a != "--console-dir" &&
         a != "--page-sharing" && a != "--share-rate" && a != "--stats-json" && a != "--snapshot-dir" &&
         a != "--code-cache"))
      a = a.substr(1);
    std::string v;
    bool takes_value = false;
    const std::string refusal =
        qemu::Unsupported(a, i + 1 < args.size() ? args[i + 1] : std::string(), &takes_value);
    if (!refusal.empty()) {
      *error = refusal;
      return false;
    }
    if (a == "-h" || a == "-help" || a == "--help") {
      o.help = true;
    } else if (a == "-version") {
      o.info = VersionText();
    } else if (a == "-M" || a == "-machine") {
      if (!value(i, &v)) return false;
      qemu::MachineOptions m;
      if (!qemu::ParseMachine(v, &m, &o.info, error)) return false;
      if (!m.kernel.empty()) o.vm.kernel = m.kernel;  // as QEMU: the later of this and -kernel counts
      if (!m.initrd.empty()) o.vm.initrd = m.initrd;
      if (!m.append.empty()) o.vm.append = m.append;
    } else if (a == "-m") {
      if (!value(i, &v)) return false;
      // QEMU's -m [size=]SIZE[,slots=N][,maxmem=SIZE]: slots and maxmem describe memory hotplug, which
      // the Malta has no device for (QEMU accepts them there with no effect too).
      uint64_t bytes = 0, maxmem = 0;
      bool size_given = false;
      for (const std::string& part : SplitOptions(v)) {
        const size_t eq = part.find('=');
        const std::string key = eq == std::string::npos ? "size" : part.substr(0, eq);
        const std::string val = eq == std::string::npos ? part : part.substr(eq + 1);
        if (key == "size") {
          if (!ParseRamSize(val, &bytes)) {
            *error = "bad RAM size '" + v + "'";
            return false;
          }
          size_given = true;
        } else if (key == "maxmem") {
          if (!ParseRamSize(val, &maxmem)) {
            *error = "-m " + v + ": bad maxmem '" + val + "'";
            return false;
          }
        } else if (key == "slots") {
          if (val.empty() || val.find_first_not_of("0123456789") != std::string::npos || val.size() > 3) {
            *error = "-m " + v + ": bad slots '" + val + "'";
            return false;
          }
        } else {
          *error = "-m " + v + ": Invalid parameter '" + key + "' (size, slots, maxmem)";
          return false;
        }
      }
      if (!size_given) {
        *error = "bad RAM size '" + v + "'";
        return false;
      }
      if (maxmem && maxmem < bytes) {
        *error = "-m " + v + ": maxmem must be at least the RAM size";
        return false;
      }
      if (bytes < vmm::kMinRamBytes || bytes > vmm::kMaxRamBytes) {
        *error = "RAM size " + v + " is out of range (2 MiB to 2 GiB on Malta)";
        return false;
      }
      o.vm.ram_bytes = static_cast<uint32_t>(bytes & ~0xFFFull);
    } else if (a == "-kernel") {
      if (!value(i, &o.vm.kernel)) return false;
    } else if (a == "-initrd") {
      if (!value(i, &o.vm.initrd)) return false;
    } else if (a == "-append") {
      if (!value(i, &o.vm.append)) return false;
    } else if (a == "-nographic") {
      nographic_given = true;
    } else if (a == "-daemonize") {
      o.daemonize = true;
    } else if (a == "-no-reboot") {
      o.vm.no_reboot = true;
    } else if (a == "-no-shutdown") {
      o.no_shutdown = true;
    } else if (a == "-nodefaults") {
      nodefaults = true;
    } else if (a == "-cpu") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseCpu(v, &o.vm.cpu_model, &o.info, error)) return false;
    } else if (a == "-serial") {
      if (!value(i, &v)) return false;
      if (serial_given) {
        *error = "-serial " + v + ": only one serial port (COM1) is emulated";
        return false;
      }
      if (!ParseSerial(v, chardevs, &o.serial, error)) return false;
      serial_given = true;
    } else if (a == "-chardev") {
      if (!value(i, &v)) return false;
      if (!ParseChardev(v, &chardevs, error)) return false;
    } else if (a == "-echr") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseEchr(v, &o.escape_char, error)) return false;
    } else if (a == "-rtc") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseRtc(v, &o.vm, error)) return false;
      if (v.find("base=") != std::string::npos) rtc_host = o.vm.rtc_start < 0;  // base=utc or localtime
    } else if (a == "-icount") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseIcount(v, &o.vm, error)) return false;
    } else if (a == "-accel") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseAccel(v, error)) return false;
    } else if (a == "-name") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseName(v, &o.guest_name, &o.process_name, error)) return false;
    } else if (a == "-boot" || a == "-L") {
      if (!value(i, &v)) return false;  // Malta boots -kernel directly and needs no firmware files
    } else if (a == "-hda" || a == "-hdb" || a == "-hdc" || a == "-hdd" || a == "-cdrom") {
      if (!value(i, &v)) return false;
      AddLegacyDrive(a, v, &disks);
    } else if (a == "-drive") {
      if (!value(i, &v)) return false;
      if (!ParseDrive(v, &disks, error)) return false;
    } else if (a == "-blockdev") {
      if (!value(i, &v)) return false;
      if (!ParseBlockdev(v, &disks, error)) return false;
    } else if (a == "-device") {
      if (!value(i, &v)) return false;
      if (IsNicDevice(v)) {
        if (!net.AddDevice(v, devices, error)) return false;
      } else if (DeviceOptions::IsRngDevice(v)) {
        if (!rng.AddDevice(v, devices, error)) return false;
      } else if (DeviceOptions::IsBalloonDevice(v)) {
        if (!rng.AddBalloon(v, devices, &o.vm.balloons, error)) return false;
      } else if (!ParseDevice(v, devices, &disks, &o.info, error)) {
        return false;
      }
      ++devices;  // disks and NICs share QEMU's creation order (drive_options.h, pci_order)
    } else if (a == "-nic") {
      if (!value(i, &v)) return false;
      if (!net.AddNic(v, &o.info, error)) return false;
    } else if (a == "-net") {
      if (!value(i, &v)) return false;
      if (!net.AddNet(v, &o.info, error)) return false;
    } else if (a == "-netdev") {
      if (!value(i, &v)) return false;
      if (!net.AddNetdev(v, error)) return false;
    } else if (a == "-object") {
      if (!value(i, &v)) return false;
      if (DeviceOptions::IsRngObject(v) ? !rng.AddObject(v, error) : !net.AddObject(v, error)) return false;
    } else if (a == "--pcap") {
      if (!value(i, &v)) return false;
      net.SetPcap(v);
    } else if (a == "-pidfile") {
      if (!value(i, &o.pidfile)) return false;
    } else if (a == "-no-user-config") {  // Strobe reads no configuration files
    } else if (a == "-loadvm") {
      if (!value(i, &o.loadvm)) return false;
    } else if (a == "--snapshot-dir") {
      if (!value(i, &o.snapshot_dir)) return false;
    } else if (a == "--code-cache") {
      if (!value(i, &v)) return false;
      struct stat st {};
      if (v.empty() || (v != "off" && stat(v.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))) {
        *error = "bad --code-cache '" + v + "' (a folder, or off)";
        return false;
      }
      o.vm.jit_code_cache_dir = v == "off" ? std::string() : v;
      code_cache_given = true;
    } else if (a == "-snapshot") {
      disks.snapshot = o.snapshot = true;
    } else if (a == "-d") {
      if (!value(i, &v)) return false;
      if (!ParseTraceItems(v, &o.trace, &trace_help, error)) return false;
      if (trace_help) o.info = TraceHelp();
    } else if (a == "-D") {
      if (!value(i, &o.trace.logfile)) return false;
    } else if (a == "-display" || a == "-vga") {
      if (!value(i, &v)) return false;
      if (v != "none") {
        *error = "unsupported " + a + " '" + v + "' (only none: Strobe has no display)";
        return false;
      }
      vga_none = vga_none || a == "-vga";
    } else if (a == "-s") {
      o.gdb_host.clear();
      o.gdb_port = 1234;
    } else if (a == "-gdb") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseGdb(v, &o.gdb_host, &o.gdb_port, error)) return false;
    } else if (a == "-S") {
      o.start_stopped = true;
    } else if (a == "-monitor" || a == "-qmp") {
      if (!value(i, &v)) return false;
      vmm::mon::MonitorSpec spec;
      if (vmm::mon::ParseMonitorSpec(v, a == "-qmp", &spec, error)) {
        o.monitors.push_back(spec);
      } else if (!error->empty()) {
        return false;
      }
    } else if (a == "-smp") {
      if (!value(i, &v)) return false;
      if (!qemu::ParseSmp(v, error)) return false;
    } else if (a == "--engine") {
      if (!value(i, &v)) return false;
      if (v == "interp") {
        o.vm.engine = vmm::Engine::kInterp;
      } else if (v == "jit") {
        o.vm.engine = vmm::Engine::kJit;
      } else if (v == "tiered") {
        o.vm.engine = vmm::Engine::kTiered;
      } else {
        *error = "unknown engine '" + v + "' (interp, jit or tiered)";
        return false;
      }
    } else if (a == "--jit-threshold") {
      if (!count(i, 1, "a count >= 1", &o.vm.jit_threshold)) return false;
    } else if (a == "--jit-kernel-threshold") {
      if (!count(i, 1, "a count >= 1", &o.vm.jit_kernel_threshold)) return false;
      kernel_threshold_given = true;
    } else if (a == "--jit-cooling") {
      if (!value(i, &v)) return false;
      double n;
      if (!ParseNumber(v, &n) || n < 0 || n > 1e18 || n != static_cast<uint64_t>(n)) {
        *error = "bad --jit-cooling '" + v + "' (guest instructions per halving; 0: never)";
        return false;
      }
      unsigned shift = 0;
      while (n > 0 && (uint64_t{1} << shift) < static_cast<uint64_t>(n)) ++shift;
      o.vm.jit_cooling_shift = n > 0 ? std::max(shift, 1u) : 0;
    } else if (a == "--jit-baseline") {
      if (!count(i, 0, "a count; 0 turns baseline code off", &o.vm.jit_baseline)) return false;
    } else if (a == "--jit-reoptimize") {
      if (!count(i, 0, "a count; 0 turns the second tier off", &o.vm.jit_reoptimize_after)) return false;
      reoptimize_given = true;
    } else if (a == "--jit-busy") {
      if (!count(i, 1, "guest instructions a second, at least 1", &o.vm.jit_busy_rate)) return false;
    } else if (a == "--jit-opt") {
      if (!value(i, &v)) return false;
      if (v != "0" && v != "1" && v != "2") {
        *error = "bad --jit-opt '" + v + "' (0, 1 or 2)";
        return false;
      }
      o.vm.jit_opt_level = static_cast<unsigned>(v[0] - '0');
      opt_given = true;
    } else if (a == "--jit-promote") {
      if (!value(i, &v)) return false;
      if (v == "loops") {
        o.vm.jit_promote = jit::Promote::kLoops;
      } else if (v == "always") {
        o.vm.jit_promote = jit::Promote::kAlways;
      } else if (v == "never") {
        o.vm.jit_promote = jit::Promote::kNever;
      } else {
        *error = "bad --jit-promote '" + v + "' (loops, always or never)";
        return false;
      }
    } else if (a == "--tlb-entries") {
      if (!value(i, &v)) return false;
      double n;
      if (!ParseNumber(v, &n) || n < 1 || n > 64 || n != static_cast<unsigned>(n)) {
        *error = "bad --tlb-entries '" + v + "' (1 to 64)";
        return false;
      }
      o.vm.tlb_entries = static_cast<unsigned>(n);
    } else if (a == "--warp-idle") {
      o.vm.warp_idle = true;
    } else if (a == "--timeout") {
      if (!value(i, &v)) return false;
      if (!ParseNumber(v, &o.vm.timeout_seconds) || o.vm.timeout_seconds <= 0) {
        *error = "bad --timeout '" + v + "' (seconds > 0)";
        return false;
      }
    } else if (a == "--max-instructions") {
      if (!value(i, &v)) return false;
      double n;
      if (!ParseNumber(v, &n) || n < 1) {
        *error = "bad --max-instructions '" + v + "'";
        return false;
      }
      o.vm.max_instructions = static_cast<uint64_t>(n);
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "--jit-inline-kseg") {
      o.vm.jit_inline_kseg = true;
    } else if (a == "--perf-map") {
      o.vm.jit_perf_map = "/tmp/perf-" + std::to_string(getpid()) + ".map";
    } else if (a == "--vms") {
      if (!value(i, &v)) return false;
      uint64_t n = 0;
      if (!ParseUint(v, &n) || n < 1 || n > kMaxVms) {
        *error = "bad --vms '" + v + "' (1-" + std::to_string(kMaxVms) + ")";
        return false;
      }
      o.vm_copies = static_cast<unsigned>(n);
    } else if (a == "--vm") {
      if (!value(i, &v)) return false;
      o.extra_vms.push_back(v);
    } else if (a == "--console-dir") {
      if (!value(i, &v)) return false;
      if (v.empty()) {
        *error = "--console-dir needs a folder";
        return false;
      }
      o.console_dir = v;
    } else if (a == "--page-sharing") {
      if (!value(i, &v)) return false;
      if (v != "on" && v != "off") {
        *error = "bad --page-sharing '" + v + "' (on or off)";
        return false;
      }
      o.page_sharing = v == "on";
    } else if (a == "--share-rate") {
      if (!value(i, &v)) return false;
      if (!ParseUint(v, &o.share_rate) || o.share_rate == 0 || o.share_rate > (uint64_t{1} << 30)) {
        *error = "bad --share-rate '" + v + "' (pages a second, 1-1073741824)";
        return false;
      }
    } else if (a == "--stats-json") {
      if (!value(i, &v)) return false;
      o.stats_json = v;
    } else if (a == "--dump-blocks") {
      if (!value(i, &v)) return false;
      if (!ValidDumpSelection(v)) {
        *error = "bad --dump-blocks '" + v + "' (all, hot:N or an address)";
        return false;
      }
      o.dump_blocks = v;
      o.vm.jit_listings = true;
    } else {
      *error = "unknown option '" + args[i] + "' (see strobe run --help)";
      return false;
    }
  }
  if (!ResolveDrives(disks, &o.drives, error)) return false;
  if (o.start_stopped && o.gdb_port < 0 && o.monitors.empty()) {
    *error = "-S needs -s, -gdb, -monitor or -qmp: something must continue the stopped VM";
    return false;
  }
  if (!net.Resolve(nodefaults, &o.network, error)) return false;
  if (!rng.Resolve(&o.vm.rngs, error)) return false;
  if (nodefaults && !serial_given) o.serial.kind = CharDevSpec::Kind::kNull;  // QEMU: no default serial
  // QEMU's default VGA comes after the board's NICs and before every -device (vmm::VmConfig::vga_pci_order).
  o.vm.vga_pci_order = vga_none || nodefaults ? -1 : pci_order::kDevice - 1;
  if (o.daemonize && !CheckDaemonize(o, nographic_given, serial_given, error)) return false;
  if (!CheckMonitorsStdio(o, error)) return false;
  if (o.vm_copies + o.extra_vms.size() > kMaxVms) {
    *error = "too many VMs: at most " + std::to_string(kMaxVms) + " in one process";
    return false;
  }
  if (o.trace.exec) o.vm.engine = vmm::Engine::kInterp;  // translated code chains past the exec hook
  if (!code_cache_given) o.vm.jit_code_cache_dir = jit::DefaultCodeCacheDir();  // on unless told otherwise
  DefaultToOneTier(o.vm, opt_given, reoptimize_given, kernel_threshold_given);
  if (!CheckIcount(o.vm, rtc_host, error)) return false;
  *out = std::move(o);
  return true;
}

}  // namespace strobe::tools
