// SPDX-License-Identifier: MIT
// strobe: the command-line front end. `strobe run` boots a guest; see RunUsage() for the options.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tools/strobe/console.h"
#include "tools/strobe/daemonize.h"
#include "tools/strobe/demo_guest.h"
#include "tools/strobe/dump.h"
#include "tools/strobe/multi_vm.h"
#include "tools/strobe/options.h"
#include "tools/strobe/pidfile.h"
#include "tools/strobe/trace.h"
#include "tools/strobe/vm_setup.h"
#include "vmm/debug/gdb_server.h"
#include "vmm/monitor.h"
#include "vmm/monitor/server.h"
#include "vmm/monitor/vm_control.h"
#include "vmm/snapshot/snapshot_store.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

namespace {

using namespace strobe;
using tools::DumpRegions;

constexpr int kExitError = tools::kExitError, kExitUsage = tools::kExitUsage;

const char* kUsage =
    "usage: strobe <command> [options]\n"
    "commands:\n"
    "  run      boot a guest (strobe run --help for the options)\n"
    "  dump     run a guest, then dump its translated code: strobe dump [run options] [SELECTION]\n"
    "           (SELECTION: all, hot:N or an address; default hot:10)\n"
    "  help     show this text\n";

tools::CharBackend g_serial;  // COM1's host end; lives as long as the process

int Run(const std::vector<std::string>& args) {
  tools::RunOptions opts;
  std::string error;
  if (!tools::ParseRunOptions(args, &opts, &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitUsage;
  }
  if (opts.help) {
    std::fputs(tools::RunUsage(), stdout);
    return 0;
  }
  if (!opts.info.empty()) {  // -version, -M help, -cpu help, -d help
    std::fputs(opts.info.c_str(), stdout);
    return 0;
  }
  // Before anything else: the fork must come before the first thread, and the pid file names the daemon.
  if (opts.daemonize && !tools::Daemonize(&error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitError;
  }
  if (!opts.pidfile.empty() && !tools::CreatePidFile(opts.pidfile, &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitError;
  }
  // Several VMs in one process (--vms, --vm): tools/strobe/multi_vm.cpp.
  if (opts.vm_copies > 1 || !opts.extra_vms.empty()) return tools::RunSeveralVms(opts);
  tools::VmHostResources host;
  if (const int status = tools::PrepareVmHost(&opts, &host, &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return status == 2 ? kExitUsage : kExitError;
  }
  signal(SIGPIPE, SIG_IGN);  // a host socket closed under slirp is an error return, not a signal
  if (!opts.process_name.empty()) prctl(PR_SET_NAME, opts.process_name.c_str(), 0, 0, 0);
  if (opts.vm.kernel.empty()) {
    std::vector<uint8_t> demo(tools::kDemoGuest, tools::kDemoGuest + tools::kDemoGuestSize);
    if (!vmm::ParseElf(demo, &opts.vm.image, &error)) {
      std::fprintf(stderr, "strobe: bundled demo guest: %s\n", error.c_str());
      return kExitError;
    }
  }

  // SIGINT, SIGTERM and SIGHUP end the run as Ctrl-A x does (so the disks are flushed on the way out):
  // blocked here, before the VM's threads exist, and taken by one thread with sigwait.
  sigset_t quit_signals;
  sigemptyset(&quit_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&quit_signals, sig);
  pthread_sigmask(SIG_BLOCK, &quit_signals, nullptr);

  // The gdb stub listens before the guest boots, so a port in use fails at once.
  static vmm::gdb::GdbServer gdb_server;  // outlives the VM: the process ends with _Exit
  if (opts.gdb_port >= 0 && !gdb_server.Listen(opts.gdb_host, static_cast<uint16_t>(opts.gdb_port), &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitError;
  }

  vmm::Monitor monitor;
  vmm::Vm vm(monitor, opts.vm, [](uint8_t b) { g_serial.Write(b); });
  // The monitors (-monitor, -qmp, Ctrl-A c) listen before the guest boots too.
  vmm::mon::VmControl control(vm, monitor);
  vmm::mon::MonitorServer monitors(control);
  control.set_disassembler(tools::DisassembleForMonitor);
  control.set_name(opts.guest_name);
  vmm::SnapshotStore snapshots(opts.snapshot_dir.empty() ? vmm::SnapshotStore::DefaultDir()
                                                         : opts.snapshot_dir);
  control.set_snapshots(&snapshots);
  control.set_event_sink(
      [&monitors](const std::string& name, const vmm::mon::Json* data) { monitors.Broadcast(name, data); });
  bool stdio_monitor = false;
  for (const vmm::mon::MonitorSpec& spec : opts.monitors) {
    if (!monitors.Listen(spec, &error)) {
      std::fprintf(stderr, "strobe: %s\n", error.c_str());
      return kExitError;
    }
    stdio_monitor = stdio_monitor || spec.transport == vmm::mon::MonitorSpec::Transport::kStdio;
  }
  std::thread([&vm, quit_signals] {
    int sig = 0;
    if (sigwait(&quit_signals, &sig) != 0) return;
    char line[64];
    std::snprintf(line, sizeof line, "\r\nstrobe: terminating on signal %d\r\n", sig);
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line, std::strlen(line));
    vm.RequestQuit();
  }).detach();
  if (!vm.Boot(&error) || (!opts.loadvm.empty() && !snapshots.Load(vm, opts.loadvm, &error)) ||
      !tools::StartTracing(opts.trace, vm, &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitError;
  }
  if (vm.tier() && !vm.tier()->code_cache_error().empty())  // the run goes on, compiling everything
    std::fprintf(stderr, "strobe: warning: code cache off: %s\n", vm.tier()->code_cache_error().c_str());
  // The backend opens after the files are checked, so that bad input fails before a socket waits.
  if (!g_serial.Open(opts.serial, &error)) {
    std::fprintf(stderr, "strobe: %s\n", error.c_str());
    return kExitError;
  }
  g_serial.StartInput([&vm](uint8_t b) { vm.ConsoleInput(b); });
  if (opts.gdb_port >= 0) gdb_server.Start(vm, opts.start_stopped);
  if (opts.start_stopped && opts.gdb_port < 0) control.StartPaused();  // -S: until the monitor's cont
  monitors.Start();
  // With -monitor stdio, stdin is the monitor's (the console is elsewhere): no escape keys on it. A
  // daemon has no terminal.
  if (!stdio_monitor && !opts.daemonize)
    tools::HostConsole::Start(vm, opts.escape_char, g_serial.is_stdio(), &control);
  if (opts.daemonize) tools::DaemonReady(!opts.trace.logfile.empty());

  const auto t0 = std::chrono::steady_clock::now();
  vmm::VmExit exit = vm.Run();
  control.Ended(exit);  // QMP's SHUTDOWN event
  if (exit == vmm::VmExit::kPowerOff && opts.no_shutdown) {
    // QEMU's -no-shutdown: the guest is off but the process stays until the user quits.
    std::fprintf(stderr,
                 "strobe: guest powered off; the VM is stopped (-no-shutdown): the escape key + x, or the "
                 "monitor's quit, quits\n");
    vm.WaitForQuit();
    exit = vmm::VmExit::kQuit;
  }
  monitors.Close();  // a command that ended the run has written its reply
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  tools::HostConsole::Restore();
  if (opts.stats) {
    const auto& c = vm.cpu();
    std::fprintf(stderr, "strobe: %s after %.3f s at pc %08x: %s\n", vmm::ToString(exit), secs, c.pc,
                 vmm::ExecutionStats(vm, secs).c_str());
  }
  if (!opts.dump_blocks.empty()) {
    // Regions still compiling when the guest ended (a short run, a busy host) are finished and installed
    // first, so that the dump shows the code the run had asked for whatever the host's speed.
    if (vm.tier()) vm.tier()->Drain();
    DumpRegions(vm, opts.dump_blocks, stdout);
  }
  if (opts.stats && vm.tier()) {
    for (const std::string& line : vmm::JitStats(vm)) std::fprintf(stderr, "strobe: %s\n", line.c_str());
    if (std::getenv("STROBE_LLVM_ARGS")) jit::PrintLlvmTimers();
  }
  // The process ends here without tearing the VM down: a background compile may still be running, and
  // the OS reclaims everything at once (the terminal was restored above).
  auto finish = [](int code) {
    tools::RemovePidFile();
    std::fflush(nullptr);
    std::_Exit(code);
    return code;
  };
  if (exit != vmm::VmExit::kPowerOff && exit != vmm::VmExit::kReset && exit != vmm::VmExit::kQuit)
    std::fprintf(stderr, "strobe: %s\n", tools::EndMessage(exit, vm.error()).c_str());
  return finish(tools::ExitStatus(exit));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : 0;
  }
  if (args[0] == "run") {
    const int status = Run(std::vector<std::string>(args.begin() + 1, args.end()));
    tools::RemovePidFile();  // the ways out that return (an error after the file was made)
    return status;
  }
  if (args[0] == "dump") {
    // strobe dump [run options] [SELECTION]: a run with --dump-blocks.
    std::vector<std::string> rest(args.begin() + 1, args.end());
    std::string selection = "hot:10";
    // The last argument is the selection when it names one and the arguments before it parse as run
    // options on their own (so "-append all" keeps "all" as the command line).
    if (!rest.empty() && rest.back()[0] != '-' && tools::ValidDumpSelection(rest.back())) {
      std::vector<std::string> before(rest.begin(), rest.end() - 1);
      tools::RunOptions probe;
      std::string ignored;
      if (tools::ParseRunOptions(before, &probe, &ignored)) {
        selection = rest.back();
        rest.pop_back();
      }
    }
    rest.push_back("--dump-blocks");
    rest.push_back(selection);
    const int status = Run(rest);
    tools::RemovePidFile();
    return status;
  }
  std::fprintf(stderr, "strobe: unknown command '%s'\n%s", args[0].c_str(), kUsage);
  return kExitUsage;
}
