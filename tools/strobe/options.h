// SPDX-License-Identifier: MIT
// Command-line options of `strobe run`: QEMU's spelling of the common qemu-system-mipsel options, plus
// Strobe's own (double-dash) options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/strobe/chardev.h"
#include "tools/strobe/net_options.h"
#include "tools/strobe/trace.h"
#include "vmm/block/drive.h"
#include "vmm/monitor/server.h"
#include "vmm/vm.h"

namespace strobe::tools {

struct RunOptions {
  vmm::VmConfig vm;
  bool stats = false;
  bool help = false;
  std::string info;            // -version, -M help, -cpu help, -d help: print this on stdout and exit 0
  std::string dump_blocks;     // --dump-blocks SELECTION: dump translated regions at the end of the run
  CharDevSpec serial;          // COM1's host end (stdio unless -serial, or null with -nodefaults)
  uint8_t escape_char = 0x01;  // -echr: the console escape key (Ctrl-A, as QEMU)
  bool no_shutdown = false;    // -no-shutdown: a guest power-off stops the VM; the escape key + x quits
  std::string guest_name;      // -name NAME or guest=NAME (the monitor's info name, QMP's query-name)
  std::string process_name;    // -name ...,process=NAME
  std::string pidfile;         // -pidfile FILE
  bool daemonize = false;      // -daemonize: detach from the terminal once the VM is set up (daemonize.h)
  TraceOptions trace;          // -d, -D
  // -hda..-hdd, -cdrom, -drive, -device virtio-blk-pci, -snapshot: resolved as QEMU does
  // (drive_options.h), in command-line order. Their images are opened by OpenDrives, not by the parser.
  std::vector<vmm::block::DriveConfig> drives;
  bool snapshot = false;  // -snapshot (already applied to the drives)
  // The gdb stub: -gdb tcp:[HOST]:PORT or -s (tcp::1234); port -1: none. -S: start stopped for it.
  std::string gdb_host;  // empty: 127.0.0.1
  int gdb_port = -1;
  bool start_stopped = false;  // -S: for gdb, else paused until the monitor's cont
  // -monitor and -qmp (vmm/monitor/server.h), in command-line order; -monitor none adds nothing.
  std::vector<vmm::mon::MonitorSpec> monitors;
  // -nic, -net, -netdev, -device pcnet|virtio-net-pci, -object filter-dump, --pcap (net_options.h); the
  // backends are created by OpenNetwork, not by the parser.
  NetworkConfig network;

  // Several VMs (tools/strobe/multi_vm.h): --vms N boots N VMs from these options; each --vm 'OPTIONS'
  // adds one more with its own QEMU-style options (process-wide options are refused there).
  unsigned vm_copies = 1;
  std::vector<std::string> extra_vms;
  std::string console_dir;  // --console-dir: every VM's console goes to DIR/vm<i>.log
  int page_sharing = -1;    // --page-sharing on|off (-1: on with several VMs, off with one)
  uint64_t share_rate = 0;  // --share-rate PAGES: pages the scanner hashes a second (0: the default)
  std::string stats_json;   // --stats-json FILE: the statistics as JSON
  // Snapshots: -loadvm NAME starts from that snapshot; --snapshot-dir DIR is where savevm/loadvm keep
  // their files (empty: vmm::SnapshotStore::DefaultDir()).
  std::string loadvm;
  std::string snapshot_dir;
};

// Parses the arguments after `run`. false with *error set (one line, no trailing newline) on bad input.
bool ParseRunOptions(const std::vector<std::string>& args, RunOptions* out, std::string* error);
const char* RunUsage();
std::string VersionText();

// QEMU options handled outside the main parser (qemu_options.cpp). Each returns false with *error set.
namespace qemu {
// Options Strobe does not have yet: the line that says so and which issue brings them ("" if not one).
std::string Unsupported(const std::string& option, const std::string& value, bool* takes_value);
bool ParseRtc(const std::string& value, vmm::VmConfig* vm, std::string* error);
bool ParseIcount(const std::string& value, vmm::VmConfig* vm, std::string* error);
bool ParseGdb(const std::string& value, std::string* host, int* port, std::string* error);
bool ParseAccel(const std::string& value, std::string* error);
bool ParseCpu(const std::string& value, runtime::CpuModel* model, std::string* info, std::string* error);
// -machine/-M: malta (or type=malta) and the machine properties QEMU's Malta has; kernel=, initrd= and
// append= are -kernel, -initrd and -append (set in *out when given), the rest are checked and have no effect.
struct MachineOptions {
  std::string kernel, initrd, append;
};
bool ParseMachine(const std::string& value, MachineOptions* out, std::string* info, std::string* error);
bool ParseName(const std::string& value, std::string* guest_name, std::string* process_name,
               std::string* error);
bool ParseEchr(const std::string& value, uint8_t* out, std::string* error);
// QEMU's boolean option values: on, yes, true, y and off, no, false, n. false for anything else.
bool ParseOnOff(const std::string& value, bool* out);
// A PCI device's addr=SLOT[.FUNCTION] (hexadecimal, as QEMU reads it: addr=10 is slot 0x10): *devfn is
// (slot << 3) | function. false for anything else, which QEMU reports as "Property 'TYPE.addr' doesn't take
// value 'V'".
bool ParsePciAddr(const std::string& value, int* devfn);
bool ParseSmp(const std::string& value, std::string* error);
}  // namespace qemu

}  // namespace strobe::tools
