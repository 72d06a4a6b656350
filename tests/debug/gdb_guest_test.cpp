// SPDX-License-Identifier: MIT
// gdb-multiarch against Strobe's gdb stub (-S -gdb tcp::PORT) with the bare-metal gdb_target guest, in
// every engine: breakpoints, registers, memory, stepi across a call's delay slot, a watchpoint, detach and
// kill; Ctrl-C on a tight loop; malformed packets from a raw client; a port in use.
//
// gdb quirk: with this ELF, `break *gdb_bump` takes the symbol's address unsigned while the stop PC it
// reads (an int32_t register) is sign-extended, so gdb does not recognise its own breakpoint and resumes;
// `break *(int)gdb_bump` compares equal. The same happens under QEMU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <iterator>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "tests/debug/gdb_client.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

const std::string kGuest = std::string(STROBE_GUEST_DIR) + "/gdb_target.elf";

std::future<ProcessResult> StartStrobe(const std::vector<std::string>& extra, double timeout_s = 60) {
  std::vector<std::string> argv = {STROBE_BINARY, "run", "-kernel", kGuest, "-nographic", "-no-reboot"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::async(std::launch::async, [argv, timeout_s] { return RunProcess(argv, "", timeout_s); });
}

// Facts about the guest gdb reads from the ELF alone: the call to gdb_bump in main's loop and the first
// words of gdb_bump.
struct GuestFacts {
  std::string jal;         // address of `jal gdb_bump` in main, 0x...
  std::string bump;        // address of gdb_bump, 0x...
  std::string bump_words;  // x/4xw gdb_bump from the file
};

GuestFacts ReadFacts() {
  GuestFacts f;
  ProcessResult r =
      RunGdb({"file " + kGuest, "x/80i (int)main", "print/x (int)gdb_bump", "x/4xw (int)gdb_bump"});
  std::smatch m;
  if (std::regex_search(r.out, m, std::regex(R"((0x[0-9a-f]+) <main\+\d+>:\s+jal\s+0x[0-9a-f]+ <gdb_bump>)")))
    f.jal = m[1];
  if (std::regex_search(r.out, m, std::regex(R"(\$1 = (0x[0-9a-f]+))"))) f.bump = m[1];
  if (std::regex_search(
          r.out, m, std::regex(R"(<gdb_bump>:\s+(0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+))")))
    f.bump_words = m[1];
  return f;
}

class GdbGuest : public ::testing::TestWithParam<const char*> {};

TEST_P(GdbGuest, BreakStepWatchDetach) {
  if (!HaveGdb()) GTEST_SKIP() << "gdb-multiarch is not installed (tools/setup-deps.sh)";
  const GuestFacts f = ReadFacts();
  ASSERT_FALSE(f.jal.empty() || f.bump.empty() || f.bump_words.empty());
  const std::string port = std::to_string(FreePort());
  auto strobe = StartStrobe({"--engine", GetParam(), "-S", "-gdb", "tcp::" + port});
  ProcessResult g = RunGdb({"file " + kGuest, "target remote :" + port,
                            "print/x $pc",  // -S: before the first instruction
                            "break *(int)gdb_bump", "continue", "print $a0", "continue", "print $a0",
                            "info registers", "x/4xw $pc", "delete",
                            // stepi on the call: the jal and its delay slot (move a0, s0) are one step
                            "break *" + f.jal, "continue", "stepi", "print/x $pc", "print/x $ra - " + f.jal,
                            "print $a0 == $s0", "delete",
                            // the store in gdb_bump: reported after it, with the old and new values
                            "watch gdb_counter", "continue", "x/i $pc - 8", "print gdb_counter == $a0",
                            "delete", "detach"});
  const ProcessResult s = strobe.get();
  const std::string& o = g.out;
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("gdb_target 2115348112"), std::string::npos) << s.out;  // ran on to the end
  EXPECT_NE(o.find("$1 = 0x80100000"), std::string::npos) << o;                // the ELF's entry
  EXPECT_NE(o.find("Breakpoint 1, " + f.bump + " in gdb_bump"), std::string::npos) << o;
  EXPECT_NE(o.find("$2 = 1\n"), std::string::npos) << o;  // first call
  EXPECT_NE(o.find("$3 = 2\n"), std::string::npos) << o;  // second call
  EXPECT_TRUE(std::regex_search(
      o, std::regex(R"(status\s+lo\s+hi\s+badvaddr\s+cause\s+pc\s*\n\s+(?:[0-9a-f]{8} ){5})" +
                    f.bump.substr(2))))
      << o;
  EXPECT_NE(o.find("<gdb_bump>:\t" + std::regex_replace(f.bump_words, std::regex("\\s+"), "\t")),
            std::string::npos)
      << "memory read through the stub differs from the ELF (" << f.bump_words << ")\n"
      << o;
  EXPECT_NE(o.find("$4 = " + f.bump + "\n"), std::string::npos) << o;  // stepped into the call
  EXPECT_NE(o.find("$5 = 0x8\n"), std::string::npos) << o;             // ra = jal + 8
  EXPECT_NE(o.find("$6 = 1\n"), std::string::npos) << o;               // the delay slot ran
  EXPECT_NE(o.find("Hardware watchpoint 3: gdb_counter"), std::string::npos) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(Old value = \d+\nNew value = \d+)"))) << o;
  // The stub stops after the store (WatchpointsFromRawClient checks that); gdb, which treats MIPS
  // watchpoints as reported before the access (mips-tdep.c: nonsteppable), then steps once more, as it
  // does under QEMU.
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(<gdb_bump\+\d+>:\s+sw\s)"))) << o;
  EXPECT_NE(o.find("$7 = 1\n"), std::string::npos) << o;
  EXPECT_NE(o.find("[Inferior 1 (Remote target) detached]"), std::string::npos) << o;
}

INSTANTIATE_TEST_SUITE_P(Engines, GdbGuest, ::testing::Values("interp", "jit", "tiered"));

// gdb reads the stub's target description (qXfer:features:read:target.xml) and uses it: its register
// names (status, badvaddr, fcsr, fir: without it gdb says sr, bad, fsr), the FPU as floats, stepi and
// $pc, all through the `g` packet the description lays out.
TEST(GdbStub, TargetDescriptionInUse) {
  if (!HaveGdb()) GTEST_SKIP() << "gdb-multiarch is not installed (tools/setup-deps.sh)";
  const std::string port = std::to_string(FreePort());
  auto strobe = StartStrobe({"-S", "-gdb", "tcp::" + port});
  ProcessResult g = RunGdb({"file " + kGuest, "target remote :" + port, "info registers", "stepi", "p/x $pc",
                            "set $f2 = 1.5", "p $f2", "p/x $f2", "info float", "p/x $fir",
                            "info registers status", "detach"});
  const ProcessResult s = strobe.get();
  const std::string& o = g.out;
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(status\s+lo\s+hi\s+badvaddr\s+cause\s+pc\s*\n)"))) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(fcsr\s+fir\s*\n\s+[0-9a-f]{8} [0-9a-f]{8})"))) << o;
  EXPECT_NE(o.find("$1 = 0x80100004\n"), std::string::npos) << o;  // one instruction past the entry
  EXPECT_NE(o.find("$2 = 1.5\n"), std::string::npos) << o;
  EXPECT_NE(o.find("$3 = 0x3fc00000\n"), std::string::npos) << o;
  EXPECT_NE(o.find("fpu type: double-precision"), std::string::npos) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(f2:\s+0x3fc00000 flt: 1\.5)"))) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(\$4 = 0x[0-9a-f]+\n)"))) << o;
  EXPECT_NE(o.find("status: 0x"), std::string::npos) << o;
  EXPECT_EQ(o.find("too long"), std::string::npos) << o;  // "Remote 'g' packet reply is too long"
  EXPECT_NE(s.out.find("gdb_target 2115348112"), std::string::npos) << s.out;  // ran on after detach
}

// Watchpoints as the stub reports them: after the access, with the watchpoint's address, in every engine.
TEST(GdbStub, WatchpointsFromRawClient) {
  if (!HaveGdb()) GTEST_SKIP() << "gdb-multiarch is not installed (it reads the symbols)";
  ProcessResult r = RunGdb({"file " + kGuest, "print/x (int)&gdb_counter", "print/x (int)&gdb_snapshot"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(\$1 = 0x([0-9a-f]+)\n\$2 = 0x([0-9a-f]+))")))
      << r.out;
  const std::string counter = m[1], snapshot = m[2];
  for (const char* engine : {"interp", "jit", "tiered"}) {
    SCOPED_TRACE(engine);
    const int port = FreePort();
    auto strobe = StartStrobe({"--engine", engine, "-S", "-gdb", "tcp::" + std::to_string(port)});
    RawGdbClient c;
    ASSERT_TRUE(c.Connect(port));
    EXPECT_EQ(c.Ask("Z2," + counter + ",4"), "OK");
    // The start-up code's clearing of .bss writes the counter first (0 over 0), then gdb_bump (1).
    std::string value;
    for (int stop = 0; stop < 2; ++stop) {
      c.SendPacket("c");
      EXPECT_EQ(c.ReadPacket(), "T05thread:01;watch:" + counter + ";");
      const uint32_t pc = RegisterFromG(c.Ask("g"), 37);
      char at[32];
      std::snprintf(at, sizeof at, "m%x,4", pc - 4);
      uint32_t insn = 0;
      vmm::gdb::ParseWordLe(c.Ask(at), &insn);
      EXPECT_EQ(insn >> 26, 0x2Bu) << std::hex << "pc " << pc << " follows " << insn << ", not a SW";
      value = c.Ask("m" + counter + ",4");
    }
    EXPECT_EQ(value, "01000000");  // the first call's store has happened
    EXPECT_EQ(c.Ask("z2," + counter + ",4"), "OK");
    // A read watchpoint on the value main reads once at the end; an access one on the counter.
    EXPECT_EQ(c.Ask("Z3," + snapshot + ",4"), "OK");
    c.SendPacket("c");
    EXPECT_EQ(c.ReadPacket(), "T05thread:01;rwatch:" + snapshot + ";");
    EXPECT_EQ(c.Ask("m" + counter + ",4"), "a0860100");  // the loop is done: 100000
    EXPECT_EQ(c.Ask("z3," + snapshot + ",4"), "OK");
    EXPECT_EQ(c.Ask("Z4," + counter + ",4"), "OK");
    EXPECT_EQ(c.Ask("z4," + counter + ",4"), "OK");
    c.SendPacket("c");
    EXPECT_EQ(c.ReadPacket(), "W00");  // the guest powered off
    const ProcessResult s = strobe.get();
    EXPECT_EQ(s.exit_code, 0) << s.err;
    EXPECT_NE(s.out.find("gdb_target 2115348112"), std::string::npos) << s.out;
  }
}

TEST(GdbStub, KillEndsTheVm) {
  if (!HaveGdb()) GTEST_SKIP() << "gdb-multiarch is not installed";
  const std::string port = std::to_string(FreePort());
  auto strobe = StartStrobe({"-S", "-gdb", "tcp:127.0.0.1:" + port});
  ProcessResult g = RunGdb({"file " + kGuest, "target remote :" + port, "stepi", "kill"});
  const ProcessResult s = strobe.get();
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out.find("gdb_target"), std::string::npos) << s.out;  // never ran to the end
  EXPECT_NE(g.out.find("killed"), std::string::npos) << g.out;
}

// Ctrl-C stops a guest spinning in a tight loop, promptly, in every engine; `s` is one instruction.
TEST(GdbStub, InterruptAndStepFromRawClient) {
  for (const char* engine : {"interp", "jit", "tiered"}) {
    SCOPED_TRACE(engine);
    const int port = FreePort();
    auto strobe =
        StartStrobe({"--engine", engine, "-append", "spin", "-gdb", "tcp::" + std::to_string(port)});
    RawGdbClient c;
    ASSERT_TRUE(c.Connect(port));
    EXPECT_EQ(c.Ask("?"), "T05thread:01;");  // connecting stopped the VM
    c.SendPacket("c");
    EXPECT_EQ(c.ReadByte(5), '+');
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let it spin (and compile, jit)
    const auto t0 = std::chrono::steady_clock::now();
    c.SendRaw("\x03");
    EXPECT_EQ(c.ReadPacket(5), "T02thread:01;");
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
    const uint32_t pc = RegisterFromG(c.Ask("g"), 37);
    EXPECT_EQ(pc & 0xFFF00000u, 0x80100000u) << std::hex << pc;
    // One step moves the PC by one instruction (the loop body has no branch at every address: a
    // branch and its slot count as one, landing on the target).
    c.SendPacket("s");
    EXPECT_EQ(c.ReadPacket(5), "T05thread:01;");
    const uint32_t next = RegisterFromG(c.Ask("g"), 37);
    EXPECT_NE(next, pc);
    EXPECT_EQ(next & 0xFFF00000u, 0x80100000u) << std::hex << next;
    c.SendPacket("k");
    EXPECT_EQ(strobe.get().exit_code, 0);
  }
}

TEST(GdbStub, MalformedPacketsNeverHurt) {
  const int port = FreePort();
  auto strobe = StartStrobe({"-S", "-gdb", "tcp::" + std::to_string(port)});
  {
    RawGdbClient c;
    ASSERT_TRUE(c.Connect(port));
    c.SendRaw("$g#00");  // wrong checksum: NAK, nothing done
    EXPECT_EQ(c.ReadByte(5), '-');
    c.SendRaw("$?#zz");
    EXPECT_EQ(c.ReadByte(5), '-');
    c.SendRaw(std::string("garbage\x01\xff}}}#####", 16));  // line noise outside packets is ignored
    EXPECT_EQ(c.Ask("?"), "T05thread:01;");
    EXPECT_EQ(c.Ask("m80100000,zz"), "E22");
    EXPECT_EQ(c.Ask("Z0,80100001,4"), "E22");
    EXPECT_EQ(c.Ask("mffff0000,4"), "E14");  // kseg2, no TLB entry: no fault in the guest
    EXPECT_EQ(c.Ask("m1f000000,4"), "E14");  // useg: unmapped, or the FPGA with ERL=1
    EXPECT_EQ(c.Ask("mbf000500,4"), "E14");  // kseg1 onto the FPGA's registers: I/O is not read
    EXPECT_EQ(c.Ask("p5a"), "E22");
    EXPECT_EQ(c.Ask("QStartNoAckMode"), "OK");
    EXPECT_EQ(c.Ask("m80100000,4").size(), 8u);
    // A packet larger than gdb may send: the stub hangs up.
    c.SendRaw("$" + std::string(100000, 'M'));
    EXPECT_TRUE(c.Closed(5));
  }
  // With nobody attached the -S VM runs on; the stub still accepts a new connection.
  RawGdbClient again;
  ASSERT_TRUE(again.Connect(port));
  const std::string stop = again.Ask("?");
  if (stop != "<none>") {  // the guest may have finished before the reconnection
    EXPECT_EQ(stop.substr(0, 3), "T05");
    again.SendPacket("k");
  }
  const ProcessResult s = strobe.get();
  EXPECT_EQ(s.exit_code, 0) << s.err;
}

// Seeded random bytes (with many `$`, `#` and `}`) from a client: the stub answers or hangs up, and the
// VM goes on to a clean end.
TEST(GdbStub, RandomBytesNeverCrash) {
  const int port = FreePort();
  auto strobe = StartStrobe({"-S", "-gdb", "tcp::" + std::to_string(port)});
  {
    RawGdbClient c;
    ASSERT_TRUE(c.Connect(port));
    std::mt19937 rng(20261202);
    const char specials[] = "$#}*+-\x03";
    std::string noise;
    for (int i = 0; i < 65536; ++i)
      noise.push_back(rng() % 4 == 0 ? specials[rng() % (sizeof specials - 1)] : static_cast<char>(rng()));
    c.SendRaw(noise);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }  // hang up: the VM runs on to its power-off (or a random `k` ended it)
  const ProcessResult s = strobe.get();
  EXPECT_EQ(s.signal, 0);
  EXPECT_EQ(s.exit_code, 0) << s.err;
}

// --timeout counts the time the guest runs: held stopped by the stub (-S, then after a step) for longer
// than the timeout, it still runs to its end once continued.
TEST(GdbStub, TimeoutDoesNotCountTimeHeldStopped) {
  const int port = FreePort();
  auto strobe =
      StartStrobe({"--engine", "interp", "-S", "--timeout", "2", "-gdb", "tcp::" + std::to_string(port)});
  RawGdbClient c;
  ASSERT_TRUE(c.Connect(port));
  EXPECT_EQ(c.Ask("?"), "T05thread:01;");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  c.SendPacket("s");
  EXPECT_EQ(c.ReadPacket(5), "T05thread:01;");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // 3 s held in all
  c.SendPacket("c");
  EXPECT_EQ(c.ReadPacket(20), "W00");  // powered off, not timed out (W04)
  const ProcessResult s = strobe.get();
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("gdb_target 2115348112"), std::string::npos) << s.out;
}

// -S with no debugger ever coming: Ctrl-A x or a signal still ends the run.
TEST(GdbStub, QuitWhileWaitingForGdb) {
  ConsoleSession s({STROBE_BINARY, "run", "-kernel", kGuest, "-nographic", "-S", "-gdb",
                    "tcp::" + std::to_string(FreePort())});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  s.Signal(SIGTERM);
  EXPECT_EQ(s.Wait(10), 0) << s.output();
  EXPECT_EQ(s.output().find("gdb_target"), std::string::npos);
}

// Several VMs, a gdb port each: -gdb outside --vm gives VM 0 its port, a --vm's own -gdb its VM
// another. Both start stopped (-S); each stub serves its own VM (the PCs differ after one VM is stepped),
// and each VM runs to its power-off once its debugger continues it, the other still held.
TEST(GdbStub, OnePortPerVm) {
  const int port0 = FreePort(), port1 = FreePort();
  char dir[] = "/tmp/strobe-gdbvms-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto strobe = StartStrobe({"-S", "-gdb", "tcp::" + std::to_string(port0), "--console-dir", dir, "--vm",
                             "-kernel " + kGuest + " -gdb tcp::" + std::to_string(port1) + " -S"});
  RawGdbClient a, b;
  ASSERT_TRUE(a.Connect(port0));
  ASSERT_TRUE(b.Connect(port1));
  EXPECT_EQ(a.Ask("?"), "T05thread:01;");
  EXPECT_EQ(b.Ask("?"), "T05thread:01;");
  EXPECT_EQ(RegisterFromG(a.Ask("g"), 37), 0x80100000u);  // both before their first instruction
  EXPECT_EQ(RegisterFromG(b.Ask("g"), 37), 0x80100000u);
  b.SendPacket("s");
  EXPECT_EQ(b.ReadPacket(5), "T05thread:01;");
  EXPECT_NE(RegisterFromG(b.Ask("g"), 37), 0x80100000u);
  EXPECT_EQ(RegisterFromG(a.Ask("g"), 37), 0x80100000u);  // the other VM did not move
  b.SendPacket("c");
  EXPECT_EQ(b.ReadPacket(20), "W00");  // VM 1 powered off while VM 0 is held
  a.SendPacket("c");
  EXPECT_EQ(a.ReadPacket(20), "W00");
  const ProcessResult s = strobe.get();
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.err.find("gdb: vm0 -> port " + std::to_string(port0) + " (stopped), vm1 -> port " +
                       std::to_string(port1) + " (stopped)"),
            std::string::npos)
      << s.err;
  for (const char* log : {"/vm0.log", "/vm1.log"}) {
    std::ifstream f(std::string(dir) + log);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("gdb_target 2115348112"), std::string::npos) << log << ": " << text;
    std::remove((std::string(dir) + log).c_str());
  }
  rmdir(dir);
}

TEST(GdbStub, PortInUseIsOneLine) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const ProcessResult r = StartStrobe({"-gdb", "tcp::" + std::to_string(ntohs(a.sin_port))}).get();
  close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out.find("gdb_target"), std::string::npos);
}

}  // namespace
}  // namespace strobe::test
