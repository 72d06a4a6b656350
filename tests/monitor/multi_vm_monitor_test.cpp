// SPDX-License-Identifier: MIT
// The monitor with several VMs in one process, against the strobe binary and the gdb_target guest
// printing "tick N" lines into each VM's log (--console-dir): a socket monitor per VM (VM i's at PATH.vm<i>
// or PORT + i, a --vm's own instead), commands and QMP events reaching that VM alone, quit ending it alone;
// the terminal's Ctrl-A c monitor following Ctrl-A n; snapshots of two VMs under one name refused, and
// -loadvm starting every VM from one snapshot with their pages shared; the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/monitor/monitor_client.h"
#include "tests/support/console_session.h"
#include "tests/support/free_port.h"
#include "tests/support/process.h"
#include "tests/support/scratch.h"
#include "vmm/monitor/json.h"

namespace strobe::test {
namespace {

const std::string kGuest = std::string(STROBE_GUEST_DIR) + "/gdb_target.elf";

std::string Scratch(const std::string& what) {
  const std::string dir = "/tmp/strobe-mvm-" + std::to_string(getpid()) + "-" + what;
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  return RemoveAtExit(dir);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Waits for text in a log, reading the terminal meanwhile (the VM it shows waits when nobody does).
bool WaitForText(ConsoleSession& console, const std::string& path, const std::string& text,
                 double seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    console.Expect("never printed", 0.05);
  }
  return false;
}

// How much a log grew in `seconds`, the console pumped meanwhile (its pipe must not fill).
size_t Growth(ConsoleSession& console, const std::string& path, double seconds) {
  const size_t before = ReadFile(path).size();
  console.Expect("never printed", seconds);
  return ReadFile(path).size() - before;
}

// Two (or more) tick guests: the run's options, then extra ones.
std::vector<std::string> TwoVms(const std::string& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      STROBE_BINARY,     "run", "-kernel", kGuest, "-append",       "tick", "-nographic",
      "--timeout",       "60",  "--vms",   "2",    "--console-dir", dir,    "--snapshot-dir",
      dir + "/snapshots"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(MultiVmMonitor, EachVmHasItsOwnHmpSocketAndQuitEndsThatVmAlone) {
  const std::string dir = Scratch("own");
  const std::string sock = dir + "/hmp.sock";
  ConsoleSession s(TwoVms(dir, {"-monitor", "unix:" + sock + ",server,nowait"}));
  ASSERT_TRUE(
      s.Expect("monitors: vm0 -> monitor unix:" + sock + ", vm1 -> monitor unix:" + sock + ".vm1\n", 20))
      << s.output();
  MonitorClient m0, m1;
  ASSERT_TRUE(m0.ConnectUnix(sock));
  ASSERT_TRUE(m1.ConnectUnix(sock + ".vm1"));
  m0.ReadUntil("(qemu) ");
  m1.ReadUntil("(qemu) ");
  const std::string log0 = dir + "/vm0.log", log1 = dir + "/vm1.log";
  ASSERT_TRUE(WaitForText(s, log0, "tick 3\r\n") && WaitForText(s, log1, "tick 3\r\n")) << s.output();

  EXPECT_EQ(m1.Command("stop"), "");
  EXPECT_EQ(m1.Command("info status"), "VM status: paused\r\n");
  EXPECT_EQ(m0.Command("info status"), "VM status: running\r\n");
  Growth(s, log1, 0.2);
  EXPECT_EQ(Growth(s, log1, 0.5), 0u) << "vm1 ran on after its monitor's stop";
  EXPECT_GT(Growth(s, log0, 0.5), 0u) << "vm0 stopped with vm1";
  EXPECT_EQ(m1.Command("cont"), "");
  EXPECT_GT(Growth(s, log1, 0.5), 0u) << "vm1 did not resume";

  // quit ends the monitor's VM, as when a QEMU process ends: its connection and socket go with it.
  m1.Send("quit\n");
  EXPECT_TRUE(s.Expect("strobe: vm1 ended: quit\n", 20)) << s.output();
  EXPECT_EQ(m1.ReadUntil("never sent", 10), "") << "vm1's monitor stayed connected";
  EXPECT_NE(access((sock + ".vm1").c_str(), F_OK), 0) << "vm1's socket outlived vm1";
  EXPECT_EQ(m0.Command("info status"), "VM status: running\r\n");
  EXPECT_GT(Growth(s, log0, 0.5), 0u) << "vm0 ended with vm1";
  m0.Send("quit\n");
  EXPECT_EQ(s.Wait(20), 0) << s.output();
  EXPECT_NE(s.output().find("strobe: vm0 ended: quit\n"), std::string::npos) << s.output();
}

// -qmp outside --vm gives VM i the port PORT + i; a --vm with its own -qmp has that one instead. -S holds
// every VM (prelaunch) until its own monitor's cont, and each VM's events go to its own clients.
TEST(MultiVmMonitor, QmpOnePortPerVmAndAVmsOwnSocket) {
  const std::string dir = Scratch("qmp");
  const std::string sock = dir + "/own.sock";
  const int port = FreePort();
  ConsoleSession s(TwoVms(dir, {"-S", "-qmp", "tcp::" + std::to_string(port) + ",server,nowait", "--vm",
                                "-kernel " + kGuest + " -append tick -qmp unix:" + sock + ",server,nowait"}));
  const std::string p0 = std::to_string(port), p1 = std::to_string(port + 1);
  ASSERT_TRUE(s.Expect("monitors: vm0 -> qmp tcp::" + p0 + " (stopped), vm1 -> qmp tcp::" + p1 +
                           " (stopped), vm2 -> qmp unix:" + sock + " (stopped)\n",
                       20))
      << s.output();
  MonitorClient q[3];
  ASSERT_TRUE(q[0].ConnectTcp(port));
  ASSERT_TRUE(q[1].ConnectTcp(port + 1));
  ASSERT_TRUE(q[2].ConnectUnix(sock));
  for (MonitorClient& c : q) {
    EXPECT_NE(c.Line().find("\"QMP\""), std::string::npos);
    c.Send("{\"execute\": \"qmp_capabilities\"}\n");
    EXPECT_EQ(c.Line(), "{\"return\": {}}");
    c.Send("{\"execute\": \"query-status\"}\n");
    EXPECT_EQ(c.Line(),
              "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}");
  }
  q[1].Send("{\"execute\": \"cont\"}\n");
  EXPECT_NE(q[1].Line().find("\"event\": \"RESUME\""), std::string::npos);
  EXPECT_EQ(q[1].Line(), "{\"return\": {}}");
  EXPECT_TRUE(WaitForText(s, dir + "/vm1.log", "tick 3\r\n")) << s.output();
  EXPECT_EQ(ReadFile(dir + "/vm0.log"), "") << "vm0 ran without its cont";
  EXPECT_EQ(ReadFile(dir + "/vm2.log"), "") << "vm2 ran without its cont";
  // vm1's RESUME reached no other VM's client: their next line is their own reply.
  for (int i : {0, 2}) {
    q[i].Send("{\"execute\": \"query-status\", \"id\": 7}\n");
    EXPECT_EQ(
        q[i].Line(),
        "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}, \"id\": 7}");
  }
  q[2].Send("{\"execute\": \"cont\"}\n");
  EXPECT_NE(q[2].Line().find("RESUME"), std::string::npos);
  EXPECT_TRUE(WaitForText(s, dir + "/vm2.log", "tick 3\r\n")) << s.output();
  // quit: SHUTDOWN then the reply, then the connection ends; the other VMs run on.
  q[1].Send("{\"execute\": \"quit\"}\n");
  const std::string shutdown = q[1].Line();
  EXPECT_NE(
      shutdown.find("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}"),
      std::string::npos)
      << shutdown;
  EXPECT_EQ(q[1].Line(), "{\"return\": {}}");
  EXPECT_EQ(q[1].Line(), "") << "vm1's QMP connection outlived vm1";
  EXPECT_TRUE(s.Expect("strobe: vm1 ended: quit\n", 20)) << s.output();
  q[0].Send("{\"execute\": \"query-status\"}\n");
  EXPECT_NE(q[0].Line().find("\"status\": \"prelaunch\""), std::string::npos);
  s.Send("\x01x");  // Ctrl-A x ends them all
  EXPECT_EQ(s.Wait(20), 0) << s.output();
}

// The terminal shows vm0; Ctrl-A n moves it (output, keys and the Ctrl-A c monitor) to vm1 and back.
TEST(MultiVmMonitor, CtrlANMovesTheTerminalAndItsMonitorToTheNextVm) {
  const std::string dir = Scratch("mux");
  ConsoleSession s(TwoVms(dir, {}));
  ASSERT_TRUE(s.Expect("the terminal shows vm0 (Ctrl-A n: the next VM, Ctrl-A c: its monitor)", 20))
      << s.output();
  ASSERT_TRUE(s.Expect("tick 3\r\n", 20)) << s.output();
  s.Send("\x01h");
  EXPECT_TRUE(s.Expect("C-a n    switch the terminal to the next VM\r\n", 10)) << s.output();
  s.Send("\x01n");
  ASSERT_TRUE(s.Expect("\r\n[strobe: console -> vm1]\r\n", 10)) << s.output();
  // Ctrl-A c: the monitor of the VM on the terminal; its stop freezes the terminal and vm1's log alone.
  s.Send(
      "\x01"
      "c");  // (not "\x01c": that is one character, \x1c)
  ASSERT_TRUE(s.Expect("(qemu) ", 10)) << s.output();
  s.Send("stop\r");
  ASSERT_TRUE(s.Expect("(qemu) ", 10));
  s.Send("info status\r");
  EXPECT_TRUE(s.Expect("VM status: paused\r\n(qemu) ", 10));
  const std::string log0 = dir + "/vm0.log", log1 = dir + "/vm1.log";
  Growth(s, log1, 0.2);
  const size_t shown = s.output().size();
  EXPECT_EQ(Growth(s, log1, 0.5), 0u);
  EXPECT_EQ(s.output().size(), shown) << "the terminal shows another VM than vm1";
  EXPECT_GT(Growth(s, log0, 0.5), 0u) << "vm0's log stopped: it must get vm0's output off the terminal";
  // Back to vm0 (wrapping): the monitor follows, and vm0's ticks show again.
  s.Send("\x01n");
  ASSERT_TRUE(s.Expect("[strobe: console -> vm0]\r\n", 10)) << s.output();
  ASSERT_TRUE(s.Expect("(qemu) ", 10)) << s.output();
  s.Send("info status\r");
  EXPECT_TRUE(s.Expect("VM status: running\r\n", 10)) << s.output();
  s.Send(
      "\x01"
      "c");  // (not "\x01c": that is one character, \x1c)
  EXPECT_TRUE(s.Expect("tick", 10));
  // vm1's log holds its ticks up to the stop; vm0's log every tick, without gaps.
  const std::string all0 = ReadFile(log0);
  std::regex tick("tick ([0-9]+)\r\n");
  unsigned next = 0;
  bool in_order = true;
  for (auto it = std::sregex_iterator(all0.begin(), all0.end(), tick); it != std::sregex_iterator(); ++it)
    in_order = in_order && std::stoul((*it)[1]) == next++;
  EXPECT_TRUE(in_order && next > 10) << all0.substr(0, 200);
  s.Send("\x01x");
  EXPECT_EQ(s.Wait(20), 0) << s.output();
}

// One snapshot folder for all VMs: a name one VM saved is refused to another (no silent replacement);
// any VM loads any snapshot, so vm1 becomes a copy of vm0.
TEST(MultiVmMonitor, TwoVmsCannotSaveUnderOneNameButLoadEachOthers) {
  const std::string dir = Scratch("names");
  const std::string sock = dir + "/hmp.sock";
  ConsoleSession s(TwoVms(dir, {"-monitor", "unix:" + sock + ",server,nowait"}));
  MonitorClient m0, m1;
  ASSERT_TRUE(m0.ConnectUnix(sock));
  ASSERT_TRUE(m1.ConnectUnix(sock + ".vm1"));
  m0.ReadUntil("(qemu) ");
  m1.ReadUntil("(qemu) ");
  ASSERT_TRUE(WaitForText(s, dir + "/vm1.log", "tick 3\r\n")) << s.output();
  EXPECT_EQ(m0.Command("savevm a"), "");
  EXPECT_EQ(
      m1.Command("savevm a"),
      "Error: snapshot 'a' was saved by vm0 of this run: give this VM's snapshot another name (or delvm "
      "it first)\r\n");
  EXPECT_EQ(m0.Command("savevm a"), "") << "a VM replaces its own snapshot";
  EXPECT_EQ(m1.Command("savevm b"), "");
  const std::string table = m1.Command("info snapshots");
  EXPECT_NE(table.find(" a "), std::string::npos) << table;
  EXPECT_NE(table.find(" b "), std::string::npos) << table;
  EXPECT_EQ(m1.Command("loadvm a"), "") << "vm1 loads vm0's snapshot";
  EXPECT_EQ(m0.Command("delvm a"), "");
  EXPECT_EQ(m1.Command("savevm a"), "") << "delvm frees the name";
  m0.Send("quit\n");
  m1.Send("quit\n");
  EXPECT_EQ(s.Wait(20), 0) << s.output();
}

// The ticks in text, in order from 0 and without a gap (a snapshot's first run and its continuation).
bool TicksInOrder(const std::string& text, unsigned* count) {
  std::regex tick("tick ([0-9]+)\r\n");
  unsigned next = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), tick); it != std::sregex_iterator(); ++it)
    if (std::stoul((*it)[1]) != next++) return false;
  *count = next;
  return true;
}

// -loadvm outside --vm starts every VM from the snapshot: two copies go on from where one VM was saved,
// alike, on the same machine pages; a --vm whose machine differs is refused, naming it. The copies' NICs,
// on one switch, keep the snapshot's MAC address: a warning says so and how to tell them apart.
TEST(MultiVmMonitor, LoadvmStartsEveryVmFromOneSnapshotOnSharedPages) {
  const std::string dir = Scratch("clone");
  const std::string sock = dir + "/hmp.sock", first = dir + "/first.txt";
  {
    ConsoleSession one({STROBE_BINARY, "run", "-kernel", kGuest, "-append", "tick", "-nographic", "-serial",
                        "file:" + first, "-monitor", "unix:" + sock + ",server,nowait", "--snapshot-dir",
                        dir + "/snapshots", "--timeout", "60", "-netdev", "hubport,id=sw,hubid=0", "-device",
                        "pcnet,netdev=sw"});
    MonitorClient m;
    ASSERT_TRUE(m.ConnectUnix(sock));
    m.ReadUntil("(qemu) ");
    ASSERT_TRUE(WaitForText(one, first, "tick 20\r\n")) << one.output();
    EXPECT_EQ(m.Command("stop"), "");
    EXPECT_EQ(m.Command("savevm clone"), "");
    m.Send("quit\n");
    ASSERT_EQ(one.Wait(20), 0) << one.output();
  }
  const std::string before = ReadFile(first);  // everything the VM printed up to the snapshot
  ConsoleSession s(TwoVms(dir, {"-loadvm", "clone", "--stats", "--stats-json", dir + "/stats.json", "-netdev",
                                "hubport,id=sw,hubid=0", "-device", "pcnet,netdev=sw"}));
  const std::string log0 = dir + "/vm0.log", log1 = dir + "/vm1.log";
  unsigned count = 0;
  ASSERT_TRUE(TicksInOrder(before, &count));
  const std::string later = "tick " + std::to_string(count + 30) + "\r\n";
  ASSERT_TRUE(WaitForText(s, log0, later) && WaitForText(s, log1, later)) << s.output();
  s.Signal(SIGTERM);  // ends every VM, as Ctrl-A x
  ASSERT_EQ(s.Wait(30), 0) << s.output();
  EXPECT_NE(s.output().find("strobe: warning: vm0 and vm1 have one MAC address, 52:54:00:12:34:56, on hub 0 "
                            "(both started from snapshot 'clone', which holds the address)"),
            std::string::npos)
      << s.output();
  EXPECT_NE(
      s.output().find("e.g. in vm1: ip link set eth0 down; ip link set eth0 address 52:54:00:12:35:56;"),
      std::string::npos)
      << s.output();
  const std::string after0 = ReadFile(log0), after1 = ReadFile(log1);
  EXPECT_EQ(after0.rfind("tick 0\r\n", 0), std::string::npos) << "vm0 booted afresh instead of loading";
  unsigned total = 0;
  EXPECT_TRUE(TicksInOrder(before + after0, &total))
      << "vm0 did not go on from the snapshot: " << after0.substr(0, 100);
  EXPECT_TRUE(TicksInOrder(before + after1, &total))
      << "vm1 did not go on from the snapshot: " << after1.substr(0, 100);
  const size_t common = std::min(after0.size(), after1.size());
  EXPECT_EQ(after0.substr(0, common), after1.substr(0, common)) << "the copies went different ways";

  vmm::mon::Json stats;
  std::string error;
  ASSERT_TRUE(vmm::mon::ParseJson(ReadFile(dir + "/stats.json"), &stats, &error)) << error;
  const vmm::mon::Json* total_stats = stats.Find("total");
  const vmm::mon::Json* vms = stats.Find("vms");
  ASSERT_TRUE(total_stats && vms && vms->items().size() == 2u);
  const double touched = total_stats->Find("guest_pages_touched")->number();
  const double saved = total_stats->Find("pages_saved")->number();
  // The snapshot's pages are the same in both VMs: most of each VM's pages (the guest has a handful; the
  // ones it writes, its stack, are its own again) are on machine pages that serve both.
  EXPECT_GT(saved, touched / 3) << ReadFile(dir + "/stats.json");
  for (const vmm::mon::Json& vm : vms->items()) {
    EXPECT_GT(2 * vm.Find("guest_pages_shared")->number(), vm.Find("guest_pages_touched")->number())
        << ReadFile(dir + "/stats.json");
    // Each VM decoded the guest's code again (after the load, its blocks are its own): a block is 128
    // bytes and at least one 16-byte piece of instructions.
    const double kept = vm.Find("blocks_kept")->number();
    EXPECT_GT(kept, 0) << ReadFile(dir + "/stats.json");
    EXPECT_GE(vm.Find("block_bytes")->number(), kept * (128 + 16)) << ReadFile(dir + "/stats.json");
    ASSERT_NE(vm.Find("baseline_code_bytes"), nullptr);
  }

  // Another machine (less RAM) in a --vm: refused in one line naming the VM.
  ProcessResult r =
      RunProcess({STROBE_BINARY, "run", "-kernel", kGuest, "-append", "tick", "-nographic", "--snapshot-dir",
                  dir + "/snapshots", "--console-dir", dir, "-loadvm", "clone", "-netdev",
                  "hubport,id=sw,hubid=0", "-device", "pcnet,netdev=sw", "--vm",
                  "-kernel " + kGuest + " -m 64 -netdev hubport,id=sw,hubid=0 -device pcnet,netdev=sw"},
                 "", 30);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("strobe: vm1: snapshot 'clone' is of another machine: ram is "), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(MultiVmMonitor, WhatCannotWorkIsRefusedInOneLine) {
  const std::string dir = Scratch("refused");
  // 105 bytes: a socket path for vm0, but not with ".vm1" after it (at most 107).
  const std::string long_path = dir + "/" + std::string(104 - dir.size(), 'm');
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--vms", "2", "-serial", "null", "-monitor", "stdio"},
       "-monitor stdio: several VMs share the terminal: its monitor is Ctrl-A c, which follows Ctrl-A n"},
      {{"--vm", "-kernel " + kGuest + " -qmp stdio"}, "-qmp stdio: several VMs share the terminal"},
      {{"--vms", "2", "-monitor", "tcp::65535,server,nowait"}, "vm1 would need port 65536"},
      {{"--vms", "2", "-qmp", "unix:" + long_path + ",server,nowait"}, "vm1's socket " + long_path + ".vm1"},
      {{"--vm", "-kernel " + kGuest + " --snapshot-dir /tmp"}, "--snapshot-dir applies to the whole run"},
      {{"--vm", "-kernel " + kGuest + " -pidfile /tmp/x.pid"}, "-pidfile applies to the whole run"},
      {{"--vms", "2", "-loadvm", "nosuch", "--snapshot-dir", dir}, "vm0: Snapshot 'nosuch' does not exist"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {STROBE_BINARY, "run", "-kernel", kGuest, "--console-dir", dir};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ProcessResult r = RunProcess(argv, "", 30);
    EXPECT_NE(r.exit_code, 0) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace strobe::test
