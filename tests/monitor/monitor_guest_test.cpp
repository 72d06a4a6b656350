// SPDX-License-Identifier: MIT
// The monitor against the strobe binary and the gdb_target guest printing "tick N" lines: HMP over a unix
// socket, TCP and the console's Ctrl-A c (status, stop with the console standing still, cont, registers,
// x and xp of a known word, quit ending the process with status 0); QMP over a unix socket (greeting,
// negotiation, query-status, stop and cont with their events, malformed JSON, quit); bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/debug/gdb_client.h"
#include "tests/monitor/monitor_client.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

const std::string kGuest = std::string(STROBE_GUEST_DIR) + "/gdb_target.elf";

std::string SocketPath(const char* what) {
  return "/tmp/strobe-mon-" + std::to_string(getpid()) + "-" + what + ".sock";
}

std::vector<std::string> StrobeArgs(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {STROBE_BINARY, "run",        "-kernel",   kGuest, "-append",
                                   "tick",        "-nographic", "--timeout", "60"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// Pumps the console for `seconds` and returns how much it printed meanwhile.
size_t ConsoleGrowth(ConsoleSession& console, double seconds) {
  const size_t before = console.output().size();
  console.Expect("never printed", seconds);
  return console.output().size() - before;
}

// Waits for the guest's ticks, then connects to the monitor's socket.
void WaitAndConnect(ConsoleSession& console, MonitorClient& client, const std::string& sock) {
  ASSERT_TRUE(console.Expect("tick 3\r\n", 20)) << console.output();
  ASSERT_TRUE(client.ConnectUnix(sock));
}

TEST(MonitorGuest, HmpOverUnixSocket) {
  const std::string sock = SocketPath("hmp");
  ConsoleSession console(StrobeArgs({"-monitor", "unix:" + sock + ",server,nowait"}));
  MonitorClient mon;
  ASSERT_NO_FATAL_FAILURE(WaitAndConnect(console, mon, sock));
  const std::string banner = mon.ReadUntil("(qemu) ");
  EXPECT_NE(banner.find("monitor - type 'help' for more information\r\n"), std::string::npos) << banner;
  EXPECT_EQ(mon.Command("info status"), "VM status: running\r\n");

  // The echo, byte for byte as QEMU 7.2 sends it on a socket (each byte redraws the line).
  mon.Send("stop\r");
  EXPECT_EQ(mon.ReadUntil("(qemu) "),
            "s\x1b[K\x1b[Dst\x1b[K\x1b[D\x1b[Dsto\x1b[K\x1b[D\x1b[D\x1b[Dstop\x1b[K\r\n(qemu) ");
  EXPECT_EQ(mon.Command("info status"), "VM status: paused\r\n");
  ConsoleGrowth(console, 0.2);  // what was already in the pipe
  EXPECT_EQ(ConsoleGrowth(console, 0.5), 0u) << "the console advanced while the VM was stopped";

  const std::string regs = mon.Command("info registers");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(regs, m, std::regex(R"(pc=0x(8[0-9a-f]{7}) HI=0x)"))) << regs;
  EXPECT_NE(regs.find("GPR28: gp "), std::string::npos);
  EXPECT_NE(regs.find("CP0 Status  0x"), std::string::npos);
  // Stopped, the PC stays where it is.
  EXPECT_NE(mon.Command("info registers").find("pc=0x" + m[1].str()), std::string::npos);

  const uint32_t magic = ElfSymbol(kGuest, "gdb_magic");
  ASSERT_NE(magic, 0u);
  char cmd[64], want[64];
  std::snprintf(cmd, sizeof cmd, "x /1xw 0x%08x", magic);
  std::snprintf(want, sizeof want, "%08x: 0x5742524f\r\n", magic);
  EXPECT_EQ(mon.Command(cmd), want);
  std::snprintf(cmd, sizeof cmd, "xp /1xw 0x%x", magic & 0x1FFFFFFFu);
  std::snprintf(want, sizeof want, "%016x: 0x5742524f\r\n", magic & 0x1FFFFFFFu);
  EXPECT_EQ(mon.Command(cmd), want);
  std::snprintf(cmd, sizeof cmd, "x /4c 0x%08x", magic);
  std::snprintf(want, sizeof want, "%08x: 'O' 'R' 'B' 'W'\r\n", magic);
  EXPECT_EQ(mon.Command(cmd), want);
  EXPECT_EQ(mon.Command("xp /1xw 0x40000000"), "0000000040000000: Cannot access memory\r\n");
  // x/i: QEMU's layout, binutils' syntax (through Capstone).
  const std::string insns = mon.Command("x /3i $pc");
  EXPECT_TRUE(
      std::regex_search(insns, std::regex("^0x" + m[1].str() + ":  [a-z.]+\t.*\r\n0x[0-9a-f]{8}:  [a-z]")))
      << insns;
  EXPECT_EQ(insns.find('$'), std::string::npos) << insns;

  EXPECT_NE(mon.Command("info tlb").find("entries valid"), std::string::npos);
  EXPECT_NE(mon.Command("info jit").find("instructions"), std::string::npos);
  EXPECT_NE(mon.Command("info memory").find("machine memory: "), std::string::npos);
  // The default network and the default NIC on the bus, as QEMU 7.2 lists them.
  EXPECT_EQ(mon.Command("info network"),
            "hub 0\r\n \\ hub0port1: #net000: index=0,type=user,net=10.0.2.0,restrict=off\r\n"
            " \\ hub0port0: pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\r\n");
  EXPECT_NE(mon.Command("info pci")
                .find("  Bus  0, device  11, function 0:\r\n"
                      "    Ethernet controller: PCI device 1022:2000\r\n"),
            std::string::npos);
  EXPECT_EQ(mon.Command("nosuch"), "unknown command: 'nosuch'\r\n");

  EXPECT_EQ(mon.Command("cont"), "");
  EXPECT_EQ(mon.Command("info status"), "VM status: running\r\n");
  EXPECT_GT(ConsoleGrowth(console, 0.5), 0u) << "the console did not resume";

  mon.Send("quit\n");
  EXPECT_EQ(console.Wait(20), 0) << console.output();
  EXPECT_NE(access(sock.c_str(), F_OK), 0) << "the socket file outlived the process";
}

TEST(MonitorGuest, HmpOverTcpAndStartPaused) {
  const int port = FreePort();
  // -S without gdb: paused until the monitor's cont (QEMU's prelaunch); without nowait, the guest waits
  // for the client too.
  ConsoleSession console(StrobeArgs({"-S", "-monitor", "tcp::" + std::to_string(port) + ",server"}));
  ASSERT_TRUE(console.Expect("waiting for a connection\n", 20)) << console.output();
  MonitorClient mon;
  ASSERT_TRUE(mon.ConnectTcp(port));
  mon.ReadUntil("(qemu) ");
  EXPECT_EQ(mon.Command("info status"), "VM status: paused (prelaunch)\r\n");
  EXPECT_EQ(ConsoleGrowth(console, 0.3), 0u) << console.output();
  EXPECT_EQ(mon.Command("c"), "");
  EXPECT_TRUE(console.Expect("tick 3\r\n", 20)) << console.output();
  EXPECT_EQ(mon.Command("info status"), "VM status: running\r\n");
  mon.Send("q\n");
  EXPECT_EQ(console.Wait(20), 0);
}

TEST(MonitorGuest, CtrlACSwitchesTheConsoleToTheMonitor) {
  ConsoleSession console(StrobeArgs({}));
  ASSERT_TRUE(console.Expect("tick 3\r\n", 20)) << console.output();
  console.Send(
      "\x01"
      "c");
  ASSERT_TRUE(console.Expect("(qemu) ", 10)) << console.output();
  console.Send("stop\r");
  ASSERT_TRUE(console.Expect("(qemu) ", 10));
  console.Send("info status\r");
  EXPECT_TRUE(console.Expect("VM status: paused\r\n(qemu) ", 10))
      << console.output().substr(console.output().size() - 200);
  console.Send("cont\r");
  console.Send(
      "\x01"
      "c");  // back to the guest's console
  const size_t mark = console.output().size();
  ASSERT_TRUE(console.Expect("tick", 10));
  EXPECT_GT(console.output().size(), mark);
  console.Send(
      "\x01"
      "cquit\r");
  EXPECT_EQ(console.Wait(20), 0);
}

// -pidfile, as QEMU's: the running process's id in the file, locked, so a second run given the same file
// refuses to start; the file goes when the run ends (here by the monitor's quit).
TEST(MonitorGuest, PidFileHoldsTheRunningProcessAndGoesWithIt) {
  const std::string pidfile = "/tmp/strobe-mon-" + std::to_string(getpid()) + ".pid";
  ConsoleSession s(StrobeArgs({"-serial", "null", "-monitor", "stdio", "-pidfile", pidfile}));
  ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
  std::ifstream f(pidfile);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, std::to_string(s.pid()) + "\n");
  // One VM: the vCPU runs on the process's main thread, whose thread id is the process id.
  s.Send("info cpus\n");
  EXPECT_TRUE(s.Expect("* CPU #0: thread_id=" + std::to_string(s.pid()) + "\r\n", 20)) << s.output();
  ProcessResult second = RunProcess(StrobeArgs({"-pidfile", pidfile}), "", 30);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(second.err, "strobe: Cannot lock pid file " + pidfile + ": another process holds it\n");
  s.Send("quit\n");
  EXPECT_EQ(s.Wait(20), 0);
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0) << "the pid file outlived the run";
  ProcessResult dir = RunProcess(StrobeArgs({"-pidfile", "/tmp"}), "", 30);
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_EQ(dir.err, "strobe: Cannot open pid file /tmp: Is a directory\n");
}

TEST(MonitorGuest, HmpOnStdioWithTheConsoleInAFile) {
  const std::string ticks = "/tmp/strobe-mon-" + std::to_string(getpid()) + "-ticks.txt";
  ConsoleSession s(StrobeArgs({"-serial", "file:" + ticks, "-monitor", "stdio"}));
  ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
  s.Send("info status\n");
  EXPECT_TRUE(s.Expect("VM status: running\r\n(qemu) ", 20)) << s.output();
  s.Send("x /1xw 0x" + [] {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", ElfSymbol(kGuest, "gdb_magic"));
    return std::string(b);
  }() + "\n");
  EXPECT_TRUE(s.Expect(": 0x5742524f\r\n(qemu) ", 20)) << s.output();
  // The guest's console goes to the file meanwhile.
  auto file = [&] {
    std::ifstream f(ticks);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  for (int i = 0; i < 200 && file().find("tick 3") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(file().find("tick 3"), std::string::npos);
  s.Send("quit\n");
  EXPECT_EQ(s.Wait(20), 0);
  unlink(ticks.c_str());
}

TEST(MonitorGuest, QmpOverUnixSocket) {
  const std::string sock = SocketPath("qmp");
  ConsoleSession console(StrobeArgs({"-qmp", "unix:" + sock + ",server=on,wait=off"}));
  MonitorClient qmp;
  ASSERT_NO_FATAL_FAILURE(WaitAndConnect(console, qmp, sock));
  const std::string greeting = qmp.Line();
  EXPECT_EQ(greeting.rfind("{\"QMP\": {\"version\": {\"qemu\": ", 0), 0u) << greeting;
  EXPECT_NE(greeting.find("\"capabilities\": []"), std::string::npos);

  qmp.Send("{\"execute\": \"query-status\"}\n");
  EXPECT_NE(qmp.Line().find("CommandNotFound"), std::string::npos);
  qmp.Send("{\"execute\": \"qmp_capabilities\", \"id\": 1}\n");
  EXPECT_EQ(qmp.Line(), "{\"return\": {}, \"id\": 1}");
  qmp.Send("{\"execute\": \"query-status\"}\n");
  EXPECT_EQ(qmp.Line(), "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}");

  qmp.Send("{\"execute\": \"stop\"}\n");
  const std::string event = qmp.Line();
  EXPECT_NE(event.find("\"event\": \"STOP\""), std::string::npos) << event;
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  qmp.Send("{\"execute\": \"query-status\", \"id\": \"s\"}\n");
  EXPECT_EQ(
      qmp.Line(),
      "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}, \"id\": \"s\"}");
  ConsoleGrowth(console, 0.2);
  EXPECT_EQ(ConsoleGrowth(console, 0.5), 0u);

  // Malformed input gets an error and the connection goes on.
  qmp.Send("{\"execute\": }\n");
  EXPECT_NE(qmp.Line().find("\"class\": \"GenericError\", \"desc\": \"JSON parse error"), std::string::npos);
  qmp.Send("[\"not\", \"an\", \"object\"]\n");
  EXPECT_NE(qmp.Line().find("QMP input must be a JSON object"), std::string::npos);
  qmp.Send("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}\n");
  EXPECT_EQ(qmp.Line(), "{\"return\": \"VM status: paused\\r\\n\"}");

  qmp.Send("{\"execute\": \"cont\"}\n");
  EXPECT_NE(qmp.Line().find("\"event\": \"RESUME\""), std::string::npos);
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_GT(ConsoleGrowth(console, 0.5), 0u);

  // QEMU 7.2's order: the SHUTDOWN event, then quit's reply.
  qmp.Send("{\"execute\": \"quit\", \"id\": 9}\n");
  EXPECT_NE(
      qmp.Line().find("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}"),
      std::string::npos);
  EXPECT_EQ(qmp.Line(), "{\"return\": {}, \"id\": 9}");
  EXPECT_EQ(console.Wait(20), 0);
}

// QMP's job-based snapshot commands against the binary: snapshot-save, the file in --snapshot-dir,
// snapshot-load, snapshot-delete, each as a job whose end follows the reply; query-jobs; job-dismiss.
TEST(MonitorGuest, QmpSnapshotJobs) {
  const std::string sock = SocketPath("jobs");
  const std::string dir = "/tmp/strobe-mon-" + std::to_string(getpid()) + "-snapshots";
  ConsoleSession console(
      StrobeArgs({"-S", "-qmp", "unix:" + sock + ",server,nowait", "--snapshot-dir", dir}));
  MonitorClient qmp;
  ASSERT_TRUE(qmp.ConnectUnix(sock));
  qmp.Line();
  qmp.Send("{\"execute\": \"qmp_capabilities\"}\n");
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  auto status = [&](const std::string& line) {
    const std::regex r(
        R"re("event": "JOB_STATUS_CHANGE", "data": \{"status": "([a-z]+)", "id": "([a-z0-9]+)"\})re");
    std::smatch m;
    return std::regex_search(line, m, r) ? m[2].str() + " " + m[1].str() : "not a job event: " + line;
  };
  auto job = [&](const std::string& command, const std::string& id, const std::string& args) {
    qmp.Send("{\"execute\": \"" + command + "\", \"arguments\": {\"job-id\": \"" + id + "\", " + args +
             "}}\n");
    std::vector<std::string> got;
    got.push_back(status(qmp.Line()));
    got.push_back(status(qmp.Line()));
    got.push_back(qmp.Line());
    for (;;) {
      got.push_back(status(qmp.Line()));
      if (got.back() == id + " concluded" || got.back().rfind("not a job", 0) == 0) return got;
    }
  };
  const std::vector<std::string> ok = {"created", "running", "{\"return\": {}}",
                                       "waiting", "pending", "concluded"};
  auto expect = [](const std::string& id, const std::vector<std::string>& statuses) {
    std::vector<std::string> out;
    for (const std::string& s : statuses) out.push_back(s[0] == '{' ? s : id + " " + s);
    return out;
  };
  EXPECT_EQ(job("snapshot-save", "s1", R"("tag": "t1", "vmstate": "disk0", "devices": [])"),
            expect("s1", ok));
  EXPECT_EQ(access((dir + "/t1.strobesnap").c_str(), F_OK), 0) << "no snapshot file";
  EXPECT_EQ(job("snapshot-load", "l1", R"("tag": "t1", "vmstate": "disk0", "devices": [])"),
            expect("l1", ok));
  EXPECT_EQ(job("snapshot-load", "l2", R"("tag": "nosuch", "vmstate": "disk0", "devices": [])"),
            expect("l2", {"created", "running", "{\"return\": {}}", "aborting", "concluded"}));
  EXPECT_EQ(job("snapshot-delete", "d1", R"("tag": "t1", "devices": [])"), expect("d1", ok));
  EXPECT_NE(access((dir + "/t1.strobesnap").c_str(), F_OK), 0) << "the snapshot file outlived delete";
  qmp.Send("{\"execute\": \"query-jobs\"}\n");
  const std::string jobs = qmp.Line();
  EXPECT_EQ(
      jobs.rfind("{\"return\": [{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, "
                 "\"type\": \"snapshot-delete\", \"id\": \"d1\"}, ",
                 0),
      0u)
      << jobs;
  EXPECT_NE(jobs.find("\"id\": \"l2\", \"error\": \""), std::string::npos) << jobs;
  qmp.Send("{\"execute\": \"job-dismiss\", \"arguments\": {\"id\": \"s1\"}}\n");
  EXPECT_EQ(status(qmp.Line()), "s1 null");
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  qmp.Send("{\"execute\": \"cont\"}\n");
  EXPECT_NE(qmp.Line().find("RESUME"), std::string::npos);
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_TRUE(console.Expect("tick 3\r\n", 20)) << console.output();
  // Running, the save stops and resumes the VM before the reply, with QEMU's STOP and RESUME events.
  qmp.Send(
      "{\"execute\": \"snapshot-save\", \"arguments\": {\"job-id\": \"s2\", \"tag\": \"t2\", \"vmstate\": "
      "\"d\", "
      "\"devices\": []}}\n");
  std::vector<std::string> got;
  for (int i = 0; i < 8; ++i) {
    const std::string l = qmp.Line();
    got.push_back(l.find("JOB_STATUS") != std::string::npos              ? status(l)
                  : l.find("\"event\": \"STOP\"") != std::string::npos   ? "STOP"
                  : l.find("\"event\": \"RESUME\"") != std::string::npos ? "RESUME"
                                                                         : l);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"s2 created", "s2 running", "STOP", "RESUME", "{\"return\": {}}",
                                           "s2 waiting", "s2 pending", "s2 concluded"}));
  qmp.Send("{\"execute\": \"quit\"}\n");
  EXPECT_EQ(console.Wait(20), 0);
  unlink((dir + "/t2.strobesnap").c_str());
  rmdir(dir.c_str());
}

// --timeout counts the time the guest runs: paused by -S (prelaunch) for longer than the timeout, it
// still runs to its end after cont.
TEST(MonitorGuest, TimeoutDoesNotCountTimePaused) {
  const std::string sock = SocketPath("timeout");
  ConsoleSession console({STROBE_BINARY, "run", "-kernel", kGuest, "-nographic", "--engine", "interp", "-S",
                          "--timeout", "2", "-qmp", "unix:" + sock + ",server,nowait"});
  MonitorClient qmp;
  ASSERT_TRUE(qmp.ConnectUnix(sock));
  qmp.Line();
  qmp.Send("{\"execute\": \"qmp_capabilities\"}\n");
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  qmp.Send("{\"execute\": \"cont\"}\n");
  EXPECT_EQ(console.Wait(20), 0) << console.output();
  EXPECT_NE(console.output().find("gdb_target 2115348112"), std::string::npos) << console.output();
}

TEST(MonitorGuest, GuestPowerOffSendsShutdown) {
  const std::string sock = SocketPath("off");
  // gdb_target without "tick" ends by powering off.
  ConsoleSession console({STROBE_BINARY, "run", "-kernel", kGuest, "-nographic", "-S", "-qmp",
                          "unix:" + sock + ",server,nowait"});
  MonitorClient qmp;
  ASSERT_TRUE(qmp.ConnectUnix(sock));
  qmp.Line();
  qmp.Send("{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"cont\"}\n");
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_NE(qmp.Line().find("RESUME"), std::string::npos);
  // The guest may power off before cont's reply is written: the reply and SHUTDOWN in either order.
  const std::string a = qmp.Line(), b = qmp.Line();
  const std::string shutdown = a.find("SHUTDOWN") != std::string::npos ? a : b;
  EXPECT_EQ(a.find("SHUTDOWN") != std::string::npos ? b : a, "{\"return\": {}}");
  EXPECT_NE(
      shutdown.find("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}"),
      std::string::npos)
      << shutdown;
  EXPECT_EQ(console.Wait(20), 0);
}

TEST(MonitorGuest, BadMonitorOptionsAreOneLine) {
  auto fails = [](const std::vector<std::string>& extra, const std::string& text) {
    std::vector<std::string> argv = {STROBE_BINARY, "run", "-kernel", kGuest};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ProcessResult r = RunProcess(argv, "", 20);
    EXPECT_NE(r.exit_code, 0) << text;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  fails({"-monitor", "stdio"}, "stdio is already used (by the serial console");
  fails({"-monitor", "unix:/tmp/x.sock"}, "only server mode");
  fails({"-monitor", "vc"}, "only stdio, unix:PATH,server[,nowait] and tcp:[HOST]:PORT,server[,nowait]");
  fails({"-qmp", "tcp:localhost:99999,server"}, "bad port");
  fails({"-qmp", "unix:/nonexistent-dir/q.sock,server,nowait"}, "cannot listen on");
  fails({"-monitor", "unix:/tmp/m.sock,server,bogus"}, "unknown option 'bogus'");
  const std::string file = "/tmp/strobe-mon-" + std::to_string(getpid()) + "-file";
  { std::ofstream(file) << "keep me"; }
  fails({"-monitor", "unix:" + file + ",server,nowait"}, "exists and is not a socket");
  std::ifstream kept(file);
  std::string content((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "keep me");
  unlink(file.c_str());
  // -monitor none is no monitor at all.
  ProcessResult r =
      RunProcess({STROBE_BINARY, "run", "-kernel", kGuest, "-nographic", "-monitor", "none"}, "", 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace strobe::test
