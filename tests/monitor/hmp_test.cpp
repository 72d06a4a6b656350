// SPDX-License-Identifier: MIT
// The human monitor against a fake machine: QEMU 7.2's messages and formats (checked against
// qemu-system-mipsel -M malta -monitor stdio), the x/xp format letters, info registers' layout, bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "tests/monitor/fake_machine.h"
#include "tests/vmm/test_board.h"
#include "vmm/monitor/hmp.h"
#include "vmm/monitor/selected_machine.h"
#include "vmm/monitor/terminal.h"

namespace strobe::test {
namespace {

using vmm::mon::HmpSession;

TEST(Hmp, StatusStopContAndActions) {
  FakeMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("info status"), "VM status: running\n");
  EXPECT_EQ(hmp.Execute("stop"), "");
  EXPECT_EQ(m.stops, 1);
  EXPECT_EQ(hmp.Execute("info status"), "VM status: paused\n");
  EXPECT_EQ(hmp.Execute("c"), "");  // cont's alias
  EXPECT_EQ(m.conts, 1);
  EXPECT_EQ(hmp.Execute("  s  "), "");  // stop's alias, blanks around
  EXPECT_EQ(m.stops, 2);
  hmp.Execute("cont");
  hmp.Execute("system_powerdown");
  hmp.Execute("system_reset");
  EXPECT_EQ(m.powerdowns, 1);
  EXPECT_EQ(m.resets, 1);
  m.run_state = vmm::mon::RunState::kPrelaunch;
  EXPECT_EQ(hmp.Execute("info status"), "VM status: paused (prelaunch)\n");
  m.run_state = vmm::mon::RunState::kShutdown;
  EXPECT_EQ(hmp.Execute("info status"), "VM status: paused (shutdown)\n");
  EXPECT_EQ(m.quits, 0);
  EXPECT_EQ(hmp.Execute("q"), "");
  EXPECT_EQ(m.quits, 1);
}

// eject [-f] device and change device [-f] filename [format [read-only-mode]], as QEMU parses them (the
// -f of change after the device), with QEMU's messages for what is missing; info block's layout.
// info pci of the Malta board before the OS has placed anything, as qemu-system-mipsel 7.2 -M malta -S lists
// it (its USB function, which Strobe's board lacks, left out), then BARs where an OS put them.
// balloon and info balloon, in QEMU 7.2's words (checked against qemu-system-mipsel's monitor).
TEST(Hmp, BalloonAsQemu) {
  FakeMachine none;
  HmpSession plain(none);
  EXPECT_EQ(plain.Execute("info balloon"), "Error: No balloon device has been activated\n");
  EXPECT_EQ(plain.Execute("balloon 100"), "Error: No balloon device has been activated\n");
  EXPECT_EQ(plain.Execute("balloon 0"), "Error: No balloon device has been activated\n");
  BalloonMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("info balloon"), "balloon: actual=256\n");
  EXPECT_EQ(hmp.Execute("balloon 100"), "");
  EXPECT_EQ(m.target, 100ull << 20);
  EXPECT_EQ(hmp.Execute("balloon 0"), "Error: Parameter 'target' expects a size\n");
  EXPECT_EQ(hmp.Execute("balloon abc"), "Try \"help balloon\" for more information\n");
  EXPECT_EQ(hmp.Execute("balloon"),
            "unexpected end of expression\nTry \"help balloon\" for more information\n");
  EXPECT_EQ(hmp.Execute("balloon -5"), "enter a positive value\nTry \"help balloon\" for more information\n");
  EXPECT_EQ(hmp.Execute("balloon 1G"),
            "balloon: extraneous characters at the end of line\nTry \"help balloon\" for more information\n");
  EXPECT_EQ(m.target, 100ull << 20);
  m.actual = 100ull << 20;
  EXPECT_EQ(hmp.Execute("info balloon"), "balloon: actual=100\n");
  EXPECT_NE(hmp.Execute("help balloon").find("request VM to change its memory allocation (in MB)"),
            std::string::npos);
}

TEST(Hmp, InfoPciListsTheBoardAsQemu) {
  TestBoard board;
  PciMachine m;
  m.functions = board.board.pci().Info();
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("info pci"),
            "  Bus  0, device   0, function 0:\n"
            "    Host bridge: PCI device 11ab:4620\n"
            "      PCI subsystem 1af4:1100\n"
            "      IRQ 0, pin A\n"
            "      id \"\"\n"
            "  Bus  0, device  10, function 0:\n"
            "    ISA bridge: PCI device 8086:7110\n"
            "      PCI subsystem 1af4:1100\n"
            "      id \"\"\n"
            "  Bus  0, device  10, function 1:\n"
            "    IDE controller: PCI device 8086:7111\n"
            "      PCI subsystem 1af4:1100\n"
            "      BAR4: I/O at 0xffffffffffffffff [0x000e].\n"
            "      id \"\"\n"
            "  Bus  0, device  10, function 3:\n"
            "    Bridge: PCI device 8086:7113\n"
            "      PCI subsystem 1af4:1100\n"
            "      IRQ 0, pin A\n"
            "      id \"\"\n");

  // A virtio-net and a PCnet as Linux left them under QEMU 7.2 (its info pci; QEMU's option ROM BARs aside).
  vmm::PciFunctionInfo net;
  net.device = 18;
  net.vendor = 0x1AF4;
  net.device_id = 0x1000;
  net.class_code = 0x0200;
  net.has_subsystem = true;
  net.subsystem_vendor = 0x1AF4;
  net.subsystem = 0x0001;
  net.irq_line = 10;
  net.irq_pin = 1;
  net.bars = {{0, true, false, false, 32, true, 0x1060}, {4, false, true, true, 0x4000, true, 0x12090000}};
  vmm::PciFunctionInfo pcnet;
  pcnet.device = 19;
  pcnet.vendor = 0x1022;
  pcnet.device_id = 0x2000;
  pcnet.class_code = 0x0200;
  pcnet.has_subsystem = true;
  pcnet.irq_line = 10;
  pcnet.irq_pin = 1;
  pcnet.bars = {{0, true, false, false, 32, true, 0x1400}, {1, false, false, false, 32, true, 0x12099000}};
  pcnet.id = "mynic";        // -device pcnet,id=mynic
  vmm::PciFunctionInfo odd;  // a class QEMU has no name for: its number in decimal
  odd.device = 20;
  odd.vendor = 0x1234;
  odd.device_id = 0x5678;
  odd.class_code = 0xFF00;
  m.functions = {net, pcnet, odd};
  EXPECT_EQ(hmp.Execute("info pci"),
            "  Bus  0, device  18, function 0:\n"
            "    Ethernet controller: PCI device 1af4:1000\n"
            "      PCI subsystem 1af4:0001\n"
            "      IRQ 10, pin A\n"
            "      BAR0: I/O at 0x1060 [0x107f].\n"
            "      BAR4: 64 bit prefetchable memory at 0x12090000 [0x12093fff].\n"
            "      id \"\"\n"
            "  Bus  0, device  19, function 0:\n"
            "    Ethernet controller: PCI device 1022:2000\n"
            "      PCI subsystem 0000:0000\n"
            "      IRQ 10, pin A\n"
            "      BAR0: I/O at 0x1400 [0x141f].\n"
            "      BAR1: 32 bit memory at 0x12099000 [0x1209901f].\n"
            "      id \"mynic\"\n"
            "  Bus  0, device  20, function 0:\n"
            "    Class 65280: PCI device 1234:5678\n"
            "      id \"\"\n");
  EXPECT_NE(hmp.Execute("info").find("info pci  -- show PCI info\n"), std::string::npos);
}

TEST(Hmp, MediaCommandsAndInfoBlock) {
  MediaMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("eject ide1-cd0"), "");
  EXPECT_EQ(hmp.Execute("eject -f ide1-cd0"), "");
  EXPECT_EQ(hmp.Execute("change ide1-cd0 /discs/b.iso"), "");
  EXPECT_EQ(hmp.Execute("change ide1-cd0 -f /discs/b.iso raw read-only"), "");
  EXPECT_EQ(m.calls, (std::vector<std::string>{"eject ide1-cd0", "eject ide1-cd0 force",
                                               "change ide1-cd0 /discs/b.iso",
                                               "change ide1-cd0 force /discs/b.iso raw"}));
  EXPECT_EQ(hmp.Execute("eject locked-cd"), "Error: Device 'locked-cd' is locked\n");
  EXPECT_EQ(hmp.Execute("change ide1-cd0"),
            "change: filename expected\nTry \"help change\" for more information\n");
  EXPECT_EQ(hmp.Execute("eject"),
            "eject: block device name expected\nTry \"help eject\" for more information\n");
  EXPECT_EQ(hmp.Execute("change ide1-cd0 /discs/b.iso raw bogus"), "Error: invalid parameter value: bogus\n");
  EXPECT_EQ(m.calls.size(), 5u);  // the refusals above never reached the machine
  EXPECT_EQ(hmp.Execute("help eject"),
            "eject [-f] device -- eject a removable medium (use -f to force it)\n");
  EXPECT_EQ(hmp.Execute("info block ide1-cd0"),
            "ide1-cd0: /discs/a.iso (raw, read-only)\n"
            "    Attached to:      /machine/piix4-ide/ide.1/unit.0\n"
            "    Removable device: not locked, tray closed\n"
            "    Cache mode:       writeback\n");
  EXPECT_EQ(hmp.Execute("info block -v"),
            "ide1-cd0: /discs/a.iso (raw, read-only)\n"
            "    Attached to:      /machine/piix4-ide/ide.1/unit.0\n"
            "    Removable device: not locked, tray closed\n"
            "    Cache mode:       writeback\n"
            "\n"
            "virtio0: /disks/root.qcow2 (qcow2)\n"
            "    Attached to:      /machine/pci/00:12.0/virtio-blk\n"
            "    Cache mode:       writethrough\n"
            "    Backing file:     /disks/base.img (chain depth: 1)\n"
            "    Detect zeroes:    unmap\n"  // only when not off, as QEMU 7.2
            "\n"
            "ide1-cd1: [not inserted]\n"
            "    Attached to:      /machine/piix4-ide/ide.1/unit.1\n"
            "    Removable device: not locked, tray open\n");
  EXPECT_EQ(hmp.Execute("info block nosuch"), "");
}

TEST(Hmp, UnknownCommandsAndHelp) {
  FakeMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("foo"), "unknown command: 'foo'\n");
  EXPECT_EQ(hmp.Execute("info foo"), "unknown command: 'info foo'\n");
  EXPECT_EQ(hmp.Execute(""), "");
  EXPECT_EQ(hmp.Execute("   "), "");
  EXPECT_EQ(hmp.Execute("help cont"), "cont|c  -- resume emulation\n");
  EXPECT_EQ(hmp.Execute("help x"), "x /fmt addr -- virtual memory dump starting at 'addr'\n");
  const std::string help = hmp.Execute("help");
  for (const char* line : {"quit|q  -- quit the emulator\n", "stop|s  -- stop emulation\n",
                           "system_powerdown  -- send system power down event\n",
                           "info [subcommand] -- show various information about the system state\n",
                           "xp /fmt addr -- physical memory dump starting at 'addr'\n"})
    EXPECT_NE(help.find(line), std::string::npos) << line;
  EXPECT_EQ(hmp.Execute("?"), help);
  EXPECT_NE(hmp.Execute("info").find("info status  -- show the current VM status (running|paused)\n"),
            std::string::npos);
  EXPECT_EQ(hmp.Execute("info jit"), "jit info\n");
  EXPECT_EQ(hmp.Execute("info memory"), "memory info\n");
}

// The snapshot commands reach the machine with their tag; its error comes back as QEMU's "Error: " line.
TEST(Hmp, SnapshotCommandsReachTheMachine) {
  SnapshotMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("savevm s1"), "");
  EXPECT_EQ(hmp.Execute("loadvm s2"), "Error: Snapshot 's2' does not exist\n");
  EXPECT_EQ(hmp.Execute("delvm s1"), "");
  EXPECT_EQ(hmp.Execute("info snapshots"), "There is no snapshot available.\n");
  EXPECT_EQ(hmp.Execute("savevm"), "Error: savevm needs a snapshot name (tag)\n");
  EXPECT_EQ(hmp.Execute("loadvm a b"), "Error: too many arguments to loadvm\n");
  EXPECT_EQ(m.calls, (std::vector<std::string>{"save s1", "load s2", "del s1"}));
  FakeMachine none;  // a machine without a store says so
  HmpSession plain(none);
  EXPECT_EQ(plain.Execute("savevm a"), "Error: this machine has no snapshot store\n");
}

TEST(Hmp, InfoRegistersHasQemusLayout) {
  FakeMachine m;
  HmpSession hmp(m);
  const std::string r = hmp.Execute("info registers");
  EXPECT_EQ(r.substr(0, 7), "\nCPU#0\n");
  EXPECT_NE(r.find("pc=0x80001234 HI=0xaaaa5555 LO=0x12345678 ds 0010 00000000 0\n"), std::string::npos) << r;
  EXPECT_NE(r.find("GPR00: r0 00000000 at 00001001 v0 00002002 v1 00003003\n"), std::string::npos) << r;
  EXPECT_NE(r.find("GPR28: gp 0001c01c sp 0001d01d s8 0001e01e ra 0001f01f\n"), std::string::npos) << r;
  EXPECT_NE(r.find("CP0 Status  0x10000004 Cause   0x00800020 EPC    0x80000180\n"), std::string::npos) << r;
  EXPECT_NE(r.find("    Config0 0x80008483 Config1 0x9ee3519e LLAddr 0x0000000000000000\n"),
            std::string::npos);
  EXPECT_NE(r.find("    Config4 0x00000000 Config5 0x00000000\n"), std::string::npos);
  EXPECT_EQ(r.find("CP1 FCR0"), std::string::npos);  // no FPU model
  m.cpu.fir = 0x00739300;
  m.cpu.status |= 1u << 29;  // CU1: QEMU then dumps the FPU
  m.cpu.fpr[0] = 0x678be73d;
  m.cpu.fpr[1] = 0x3f8ab9e2;
  const std::string f = hmp.Execute("info registers");
  EXPECT_NE(f.find("CP1 FCR0 0x00739300  FCR31 0x00000000  SR.FR 0  fp_status 0x00\n"), std::string::npos)
      << f;
  // QEMU's line for these bits (qemu-system-mipsel 7.2, fpmath guest).
  EXPECT_NE(
      f.find(" f0: w:678be73d d:3f8ab9e2678be73d fd:  4.57868e+18 fs:  1.73722e+09 psu:  1.06606e+09\n"),
      std::string::npos)
      << f;
  EXPECT_NE(f.find("f30: "), std::string::npos);
  m.answers = false;
  EXPECT_NE(hmp.Execute("info registers").find("Error"), std::string::npos);
}

TEST(Hmp, InfoTlbListsValidEntries) {
  FakeMachine m;
  runtime::TlbEntry e;
  e.entryhi = 0x00402000 | 0x05;
  e.entrylo[0] = (0x1234u << 6) | 0x1E;  // C3 D V
  e.entrylo[1] = (0x1235u << 6) | 0x1A;  // C3 V
  m.tlb = {runtime::TlbEntry{}, e};
  HmpSession hmp(m);
  const std::string t = hmp.Execute("info tlb");
  EXPECT_NE(t.find("TLB[01] VA 00402000-00403fff ASID 05   size 4K\n"), std::string::npos) << t;
  EXPECT_NE(t.find("        00402000 -> 001234000 VD C3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("        00403000 -> 001235000 V- C3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("1 of 2 entries valid\n"), std::string::npos) << t;
}

TEST(Hmp, MemoryDumpsInQemusFormats) {
  FakeMachine m;  // bytes 01 08 0f 16 1d 24 2b 32 39 40 47 4e 55 5c 63 6a ...
  HmpSession hmp(m);
  // QEMU 7.2's output for each (the same bytes through qemu-system-mipsel -monitor stdio).
  const std::pair<const char*, const char*> cases[] = {
      {"x /4xw 0x80001000", "80001000: 0x160f0801 0x322b241d 0x4e474039 0x6a635c55\n"},
      {"xp /2xw 0x1000", "0000000000001000: 0x160f0801 0x322b241d\n"},
      {"x 0x80001000", "80001000: 0x160f0801\n"},  // default /1xw
      {"x/2xh 0x80001000", "80001000: 0x0801 0x160f\n"},
      {"x /3ub 0x80001000", "80001000:   1   8  15\n"},
      {"x /1dw 0x80001000", "80001000:  370083841\n"},
      {"x /2o 0x80001000", "80001000: 02603604001 06212622035\n"},
      {"x /1xg 0x80001000", "80001000: 0x322b241d160f0801\n"},
      {"x /3c 0x80001008", "80001008: '9' '@' 'G'\n"},
      {"x /2c 0x80001000", "80001000: '\\x01' '\\x08'\n"},
      // 16 bytes a line (8 for bytes), each line with its address.
      {"x /5xw 0x80001000", "80001000: 0x160f0801 0x322b241d 0x4e474039 0x6a635c55\n80001010: 0x867f7871\n"},
      {"x /9xb 0x80001000", "80001000: 0x01 0x08 0x0f 0x16 0x1d 0x24 0x2b 0x32\n80001008: 0x39\n"},
  };
  for (const auto& [command, output] : cases) EXPECT_EQ(hmp.Execute(command), output) << command;
  // /i: QEMU's layout; a word the disassembler does not know is a .word; unreadable memory ends it.
  EXPECT_EQ(hmp.Execute("x /2i 0x80001000"), "0x80001000:  insn\tone\n0x80001004:  .word\t0x322b241d\n");
  EXPECT_EQ(hmp.Execute("xp /1i 0x1000"), "0x00001000:  insn\tone\n");
  EXPECT_EQ(hmp.Execute("x /3i 0x8000103c"),
            "0x8000103c:  .word\t0xbab3aca5\n0x80001040:  Address 0x80001040 is out of bounds.\n");
  // $registers and sums in the address.
  m.cpu.gpr[29] = 0x80001000;
  EXPECT_EQ(hmp.Execute("x /1xw $sp+4"), "80001004: 0x322b241d\n");
  // What cannot be read says so, as QEMU.
  EXPECT_EQ(hmp.Execute("x /2xw 0x00400000"), "00400000: Cannot access memory\n");
  EXPECT_EQ(hmp.Execute("xp /2xw 0x40000000"), "0000000040000000: Cannot access memory\n");
  EXPECT_EQ(hmp.Execute("x /8xw 0x80001038"), "80001038: Cannot access memory\n");  // runs off the end
}

std::string FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// memsave/pmemsave: the bytes x/xp show, in a host file; QEMU's messages for what cannot be done.
TEST(Hmp, MemsaveAndPmemsaveWriteGuestMemoryToAFile) {
  FakeMachine m;
  HmpSession hmp(m);
  const std::string file = ::testing::TempDir() + "strobe_memsave_" + std::to_string(getpid()) + ".bin";
  EXPECT_EQ(hmp.Execute("memsave 0x80001004 8 " + file), "");
  EXPECT_EQ(FileBytes(file), std::string("\x1d\x24\x2b\x32\x39\x40\x47\x4e", 8));
  m.cpu.gpr[29] = 0x1000;
  EXPECT_EQ(hmp.Execute("pmemsave $sp 0x4 \"" + file + "\""), "");
  EXPECT_EQ(FileBytes(file), std::string("\x01\x08\x0f\x16", 4));
  EXPECT_EQ(hmp.Execute("memsave 0x80001038 16 " + file),
            "Error: Invalid addr 0x0000000080001038/size 16 specified\n");  // runs off the readable end
  EXPECT_EQ(hmp.Execute("pmemsave 0 4 /nonexistent/dir/f"),
            "Error: Could not open '/nonexistent/dir/f': No such file or directory\n");
  EXPECT_EQ(hmp.Execute("memsave"), "memsave: address expected\nTry \"help memsave\" for more information\n");
  EXPECT_EQ(hmp.Execute("memsave 0x80001000 8"),
            "memsave: string expected\nTry \"help memsave\" for more information\n");
  EXPECT_EQ(hmp.Execute("memsave 0x80001000 8 a b"), "Error: too many arguments to memsave\n");
  EXPECT_NE(hmp.Execute("help").find("pmemsave addr size file -- save to disk physical memory dump"),
            std::string::npos);
  unlink(file.c_str());
}

// print/p in QEMU 7.2's formats (checked against qemu-system-mipsel -monitor stdio), info cpus.
TEST(Hmp, PrintAndInfoCpus) {
  FakeMachine m;
  HmpSession hmp(m);
  const std::pair<const char*, const char*> cases[] = {
      {"p /x 16", "0x10\n"},
      {"p 10+5", "0xf\n"},
      {"print /d 0x20", "32\n"},
      {"p /u -1", "18446744073709551615\n"},
      {"p /d -1", "-1\n"},
      {"p /o 8", "010\n"},
      {"p /c 65", "'A'\n"},
      {"p /c 10", "'\\n'\n"},
      {"p /c 1", "'\\x01'\n"},
      {"p /i 0", "0\n"},
      {"p 0", "0\n"},
  };
  for (const auto& [command, output] : cases) EXPECT_EQ(hmp.Execute(command), output) << command;
  m.cpu.pc = 0x80100000;
  EXPECT_EQ(hmp.Execute("p $pc+4"), "0x80100004\n");
  EXPECT_EQ(hmp.Execute("p"), "unexpected end of expression\nTry \"help p\" for more information\n");
  EXPECT_EQ(hmp.Execute("print $nope"), "unknown register\nTry \"help print\" for more information\n");
  EXPECT_EQ(hmp.Execute("info cpus"), "* CPU #0: thread_id=4321\n");
  EXPECT_EQ(hmp.Execute("info name"), "");
  m.name = "myvm";
  EXPECT_EQ(hmp.Execute("info name"), "myvm\n");
}

TEST(Hmp, HostForwardCommandsAndInfoUsernetReachTheMachine) {
  FakeMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("hostfwd_add tcp::2222-:22"), "done\n");
  EXPECT_EQ(hmp.Execute("hostfwd_add n0 udp::5353-:53"), "done\n");
  EXPECT_EQ(hmp.Execute("hostfwd_remove n0 udp::5353"), "done\n");
  EXPECT_EQ(m.forwards,
            (std::vector<std::string>{"add  tcp::2222-:22", "add n0 udp::5353-:53", "remove n0 udp::5353"}));
  EXPECT_EQ(hmp.Execute("hostfwd_add"),
            "hostfwd_add: string expected\nTry \"help hostfwd_add\" for more information\n");
  EXPECT_EQ(hmp.Execute("hostfwd_remove a b c"), "Error: too many arguments to hostfwd_remove\n");
  EXPECT_EQ(hmp.Execute("info usernet"), "usernet table\n");
}

// The terminal's monitor with several VMs goes through SelectedMachine: every command reaches the VM.
TEST(Hmp, ThroughASelectedMachineEveryCommandReachesTheVm) {
  FakeMachine m;
  vmm::mon::SelectedMachine selected([&m]() -> vmm::mon::MachineControl& { return m; });
  HmpSession hmp(selected);
  EXPECT_EQ(hmp.Execute("info cpus"), "* CPU #0: thread_id=4321\n");
  EXPECT_EQ(hmp.Execute("hostfwd_add tcp::2222-:22"), "done\n");
  EXPECT_EQ(hmp.Execute("info usernet"), "usernet table\n");
  EXPECT_EQ(hmp.Execute("info network"), "network table\n");
  EXPECT_EQ(
      hmp.Execute("info pci"),
      "  Bus  0, device  11, function 0:\n    Ethernet controller: PCI device 1022:2000\n      id \"\"\n");
  EXPECT_EQ(hmp.Execute("info jit"), "jit info\n");
  EXPECT_EQ(hmp.Execute("x /1xw 0x80001000"), "80001000: 0x160f0801\n");
}

TEST(Hmp, BadDumpArgumentsGetQemusMessages) {
  FakeMachine m;
  HmpSession hmp(m);
  EXPECT_EQ(hmp.Execute("x"), "unexpected end of expression\nTry \"help x\" for more information\n");
  EXPECT_EQ(hmp.Execute("x /z 0x80001000"),
            "invalid char in format: 'z'\nTry \"help x\" for more information\n");
  EXPECT_EQ(hmp.Execute("xp /4xw"), "unexpected end of expression\nTry \"help xp\" for more information\n");
  EXPECT_NE(hmp.Execute("x /4xw $nosuch").find("unknown register"), std::string::npos);
  EXPECT_NE(hmp.Execute("x /4xw 0x10 * 2").find("Try \"help x\""), std::string::npos);
  EXPECT_NE(hmp.Execute("x /4xw 99999999999999999999999").find("Try"), std::string::npos);
  // A huge count is cut at 64 KiB of output, and an unreadable range ends at once.
  EXPECT_EQ(hmp.Execute("x /4294967295xg 0x90000000"),
            "90000000: Cannot access memory\n(dump cut at 64 KiB)\n");
}

// -monitor stdio (a cooked terminal echoes by itself): lines as they come, \r\n one line end.
TEST(HmpTerminal, LinesPromptsAndGarbage) {
  FakeMachine m;
  std::string out;
  vmm::mon::HmpTerminal term(
      m, [&](const std::string& s) { out += s; }, /*editor=*/false);
  term.Open();
  EXPECT_NE(out.find("monitor - type 'help' for more information\r\n(qemu) "), std::string::npos) << out;
  out.clear();
  const std::string in = "info st";
  term.Feed(in.data(), in.size());
  EXPECT_EQ(out, "");  // nothing until the line ends
  term.Feed("atus\r\n", 6);
  EXPECT_EQ(out, "VM status: running\r\n(qemu) ");
  out.clear();
  // Control characters and NULs are dropped; an over-long line is refused whole, and the next one works.
  const std::string junk =
      std::string("\x01\x02\0foo", 6) + "\n" + std::string(100000, 'a') + "\ninfo status\n";
  term.Feed(junk.data(), junk.size());
  EXPECT_NE(out.find("unknown command: 'foo'\r\n(qemu) "), std::string::npos) << out;
  EXPECT_NE(out.find("longer than 4096 bytes"), std::string::npos);
  EXPECT_NE(out.find("VM status: running\r\n(qemu) "), std::string::npos);
}

// The bytes below are what QEMU 7.2's monitor sent back on a unix socket for the same input
// (qemu-system-mipsel -M malta -monitor unix:...,server,nowait -S).
std::string EditorRun(FakeMachine& m, const std::string& in) {
  std::string out;
  vmm::mon::HmpTerminal term(m, [&](const std::string& s) { out += s; });
  term.Feed(in.data(), in.size());
  return out;
}

TEST(HmpTerminal, EchoesAsQemuOnASocket) {
  FakeMachine m;
  std::string out;
  vmm::mon::HmpTerminal term(m, [&](const std::string& s) { out += s; });
  term.Open();
  EXPECT_NE(out.find(" monitor - type 'help' for more information\r\n(qemu) "), std::string::npos) << out;
  out.clear();
  // Each byte redraws the line; \r and \n each end one (the \n an empty line: a bare prompt).
  term.Feed("stop\r\n", 6);
  EXPECT_EQ(out,
            "s\x1b[K\x1b[Dst\x1b[K\x1b[D\x1b[Dsto\x1b[K\x1b[D\x1b[D\x1b[Dstop\x1b[K\r\n(qemu) \r\n(qemu) ");
  EXPECT_EQ(m.stops, 1);
  out.clear();
  term.Feed("bogus\n", 6);
  EXPECT_EQ(out,
            "b\x1b[K\x1b[Dbo\x1b[K\x1b[D\x1b[Dbog\x1b[K\x1b[D\x1b[D\x1b[Dbogu\x1b[K\x1b[D\x1b[D\x1b[D\x1b["
            "Dbogus\x1b[K"
            "\r\nunknown command: 'bogus'\r\n(qemu) ");
}

TEST(HmpTerminal, EditingKeysAsQemu) {
  FakeMachine m;
  // Backspace, then typing on.
  EXPECT_EQ(
      EditorRun(m, "sta\x7f\x7fop"),
      "s\x1b[K\x1b[Dst\x1b[K\x1b[D\x1b[Dsta\x1b[K\x1b[D\x1b[D\x1b[Dst\x1b[K\x1b[D\x1b[Ds\x1b[K\x1b[Dso\x1b[K"
      "\x1b[D\x1b[Dsop\x1b[K");
  // Left twice and an insertion; right, Home, End; Ctrl-A and Ctrl-E do nothing; Ctrl-W takes the word.
  EXPECT_EQ(EditorRun(m, "sop\x1b[D\x1b[Dt\x1b[C\x1b[C\x1b[H\x1b[F\x01\x05\x17\n"),
            "s\x1b[K\x1b[Dso\x1b[K\x1b[D\x1b[Dsop\x1b[K\x1b[D\x1b[D\x1b[Dstop\x1b[K\x1b[D\x1b[D"
            "\x1b[C\x1b[C\x1b[D\x1b[D\x1b[D\x1b[D\x1b[C\x1b[C\x1b[C\x1b[C"
            "\x1b[D\x1b[D\x1b[D\x1b[D\x1b[K\r\n(qemu) ");
  EXPECT_EQ(m.stops, 0);
  // Delete, Home, Ctrl-D, Backspace; Ctrl-C, Ctrl-G and Ctrl-U are ignored.
  EXPECT_EQ(EditorRun(m, "ab\x1b[D\x1b[3~\x1b[1~\x04x\x08\x03\x07q\x15"),
            "a\x1b[K\x1b[Dab\x1b[K\x1b[D\x1b[Da\x1b[K\x1b[D\x1b[Kx\x1b[K\x1b[D\x1b[Kq\x1b[K");
}

TEST(HmpTerminal, HistoryAsQemu) {
  FakeMachine m;
  std::string out;
  vmm::mon::HmpTerminal term(m, [&](const std::string& s) { out += s; });
  term.Feed("stop\r", 5);
  out.clear();
  term.Feed("\x1b[A", 3);  // up: the last line
  EXPECT_EQ(out, "stop\x1b[K");
  out.clear();
  term.Feed("\x1b[A\x1b[B\x1b[B", 9);  // no older line; down: the empty line; no newer one
  EXPECT_EQ(out, "\x1b[D\x1b[D\x1b[D\x1b[D\x1b[K");
  term.Feed("\x10\r", 2);  // Ctrl-P and Enter run it again
  EXPECT_EQ(m.stops, 2);
}

TEST(HmpTerminal, QuitPrintsNoPrompt) {
  FakeMachine m;
  // As QEMU: the echo and its line end, then nothing; what follows quit is not run.
  EXPECT_EQ(EditorRun(m, "q\rstop\r"), "q\x1b[K\r\n");
  EXPECT_EQ(m.quits, 1);
  EXPECT_EQ(m.stops, 0);
}

}  // namespace
}  // namespace strobe::test
