// SPDX-License-Identifier: MIT
// The strobe binary on the command line: file options that name something other than a readable file of
// sane size, the plain lld-linked guest QEMU runs, and the QEMU options (serial backends, -echr,
// -no-shutdown, -d, -m, -version, -M help, -cpu help, -daemonize). Each run is checked for its exit status
// and output.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/support/cli_expect.h"
#include "tests/support/elf_builder.h"
#include "tests/support/free_port.h"
#include "tests/support/process.h"
#include "tests/support/tcp_client.h"
#include "vmm/vm.h"

namespace strobe::test {
namespace {

ProcessResult Strobe(std::vector<std::string> args, const std::string& input = "", double timeout = 60) {
  args.insert(args.begin(), {STROBE_BINARY, "run"});
  return RunProcess(args, input, timeout);
}

std::string Guest(const std::string& name) {
  return std::string(STROBE_GUEST_DIR) + "/" + name + ".elf";
}

std::string WithoutCr(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
  return s;
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "strobe_cli_" + std::to_string(getpid()) + "_" + name;  // one per process
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// --- Item 1: every file option refuses what is not a readable regular file of sane size ---

class FileOption : public ::testing::TestWithParam<const char*> {};

TEST_P(FileOption, RefusesADirectory) {
  ExpectOneLineFailure(Strobe({GetParam(), "/tmp"}), "strobe: /tmp: a directory, not a file");
}

TEST_P(FileOption, RefusesDevZeroWithoutReadingIt) {
  ExpectOneLineFailure(Strobe({GetParam(), "/dev/zero"}, "", 10),
                       "/dev/zero: a character device, not a file");
}

TEST_P(FileOption, RefusesDevNull) {
  ExpectOneLineFailure(Strobe({GetParam(), "/dev/null"}), "/dev/null: a character device, not a file");
}

TEST_P(FileOption, RefusesAMissingFile) {
  ExpectOneLineFailure(Strobe({GetParam(), "/nonexistent/file"}),
                       "/nonexistent/file: No such file or directory");
}

TEST_P(FileOption, RefusesAnUnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  const std::string path = TempPath("unreadable");
  std::ofstream(path) << "x";
  chmod(path.c_str(), 0);
  ExpectOneLineFailure(Strobe({GetParam(), path}), "Permission denied");
  std::remove(path.c_str());
}

TEST_P(FileOption, RefusesAHugeSparseFileBeforeReadingIt) {
  const std::string path = TempPath(std::string("huge") + GetParam());
  ASSERT_EQ(truncate(path.c_str(), 0), -1);  // not there yet
  std::ofstream(path).close();
  ASSERT_EQ(truncate(path.c_str(), 3ll << 30), 0);  // 3 GiB of hole: reading it would take seconds
  ProcessResult r = Strobe({GetParam(), path}, "", 10);
  std::remove(path.c_str());
  ExpectOneLineFailure(r,
                       "file of 3221225472 bytes (3.0 GiB) is larger than the largest guest RAM (2.0 GiB)");
}

INSTANTIATE_TEST_SUITE_P(KernelAndInitrd, FileOption, ::testing::Values("-kernel", "-initrd"),
                         [](const auto& info) { return std::string(info.param).substr(1); });

TEST(FileOptions, AnEmptyInitrdIsIgnoredAsInQemu) {
  const std::string path = TempPath("empty_initrd");
  std::ofstream(path).close();
  ProcessResult r = Strobe({"-initrd", path});
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(WithoutCr(r.out), "Hello from Strobe guest\nexit 0\n");
}

// --- Item 2: the ELF files QEMU runs ---

TEST(QemuElf, PlainLldLinkedGuestRuns) {
  // ld.lld-19 -Ttext=0x80100000 puts the ELF headers in a read-only PT_LOAD at 0x00010000.
  const std::string elf = ReadAll(Guest("lld_plain"));
  ASSERT_GT(elf.size(), 52u);
  ProcessResult r = Strobe({"-M", "malta", "-kernel", Guest("lld_plain"), "-nographic", "-no-reboot"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(WithoutCr(r.out), "lld-linked guest runs\n");
}

TEST(QemuElf, SegmentOutsideRamIsRefused) {
  ElfSpec spec;
  spec.segments.push_back({0x8F000000u, 4, {1, 2, 3, 4}});  // physical 240 MiB, beyond -m 128
  std::vector<uint8_t> bytes = BuildElf(spec);
  const std::string path = TempPath("beyond.elf");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ExpectOneLineFailure(Strobe({"-m", "128", "-kernel", path}),
                       "(physical 0x0f000000) does not fit in 128 MiB");
  std::remove(path.c_str());
}

// --- Item 5: QEMU's common options ---

TEST(QemuOptions, SerialFileGetsTheGuestOutput) {
  const std::string path = TempPath("serial.txt");
  ProcessResult r = Strobe({"-serial", "file:" + path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(WithoutCr(ReadAll(path)), "Hello from Strobe guest\nexit 0\n");
  ProcessResult c = Strobe({"-chardev", "file,id=f,path=" + path, "-serial", "chardev:f"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(WithoutCr(ReadAll(path)), "Hello from Strobe guest\nexit 0\n");
  std::remove(path.c_str());
  ExpectOneLineFailure(Strobe({"-serial", "file:/nonexistent/dir/out"}), "No such file or directory");
}

TEST(QemuOptions, SerialNullAndNodefaultsDropTheOutput) {
  for (auto args : {std::vector<std::string>{"-serial", "null"}, std::vector<std::string>{"-nodefaults"}}) {
    ProcessResult r = Strobe(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(QemuOptions, SerialPtyPrintsQemusRedirectLine) {
  ProcessResult r = Strobe({"-serial", "pty", "-kernel", Guest("hello"), "-no-reboot"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("char device redirected to /dev/pts/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" (label serial0)\n"), std::string::npos) << r.err;
}

TEST(QemuOptions, EchrChangesTheEscapeKey) {
  // With -echr 20 (Ctrl-T), Ctrl-T x quits and Ctrl-A x is not an escape.
  ProcessResult r = Strobe({"-kernel", Guest("sort"), "-echr", "20"}, std::string("\x01x\x14x"), 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("terminated (C-t x)"), std::string::npos) << r.err;
  EXPECT_EQ(WithoutCr(r.out).find("sort: done"), std::string::npos);
}

TEST(QemuOptions, NoShutdownKeepsTheProcessUntilTheEscapeKey) {
  // The demo powers off at once; the process must stay until the input says Ctrl-A x.
  ProcessResult stays = Strobe({"-no-shutdown"}, "", 2);  // stdin at EOF, no escape key: still there
  EXPECT_TRUE(stays.timed_out);
  EXPECT_EQ(WithoutCr(stays.out), "Hello from Strobe guest\nexit 0\n");
  EXPECT_NE(stays.err.find("the VM is stopped (-no-shutdown)"), std::string::npos) << stays.err;

  // Typed after a pause, so the power-off comes first: a shell pipeline keeps stdin open meanwhile.
  ProcessResult quits = RunProcess(
      {"/bin/sh", "-c", std::string("(sleep 1; printf '\\001x') | ") + STROBE_BINARY + " run -no-shutdown"},
      "", 30);
  EXPECT_FALSE(quits.timed_out);
  EXPECT_EQ(quits.exit_code, 0) << quits.err;
  EXPECT_NE(quits.err.find("terminated (Ctrl-A x)"), std::string::npos) << quits.err;
}

TEST(QemuOptions, LogInterruptsAndGuestCode) {
  const std::string log = TempPath("d.log");
  ProcessResult r = Strobe(
      {"-kernel", Guest("usermode"), "-no-reboot", "-d", "int,in_asm", "-D", log, "--engine", "interp"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadAll(log);
  std::remove(log.c_str());
  // The first block of every guest: its entry, disassembled.
  EXPECT_NE(text.find("----------------\nIN: \n0x80100000:  "), std::string::npos) << text.substr(0, 500);
  // A TLB refill from user mode, in QEMU's words: cause 2 (TLBL), vector 0x80000000.
  EXPECT_NE(text.find("TLB load exception\nmips_cpu_do_interrupt: PC 80000000 EPC "), std::string::npos);
  EXPECT_NE(text.find("cause 2\n    S "), std::string::npos);

  ProcessResult e = Strobe({"-d", "exec"});  // to stderr
  EXPECT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.err.find("Trace 0: [00100000/80100000]\n"), std::string::npos) << e.err.substr(0, 300);
  ExpectOneLineFailure(Strobe({"-d", "int", "-D", "/nonexistent/dir/log"}), "-D /nonexistent/dir/log");
}

TEST(QemuOptions, InfoRequestsPrintAndExitZero) {
  ProcessResult v = Strobe({"-version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("Strobe emulator version ", 0), 0u) << v.out;
  ProcessResult m = Strobe({"-M", "help"});
  EXPECT_EQ(m.exit_code, 0);
  EXPECT_NE(m.out.find("malta                MIPS Malta Core LV (default)"), std::string::npos) << m.out;
  ProcessResult c = Strobe({"-cpu", "help"});
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_NE(c.out.find("24Kc"), std::string::npos) << c.out;
  ProcessResult d = Strobe({"-d", "help"});
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_NE(d.out.find("in_asm"), std::string::npos);
  EXPECT_NE(c.out.find("24Kf"), std::string::npos) << c.out;
  ExpectOneLineFailure(Strobe({"-cpu", "24Kx"}), "available: 24Kc, 24Kf", 2);
  ExpectOneLineFailure(Strobe({"-blockdev", "driver=file,filename=disk.img"}),
                       "'node-name' must be specified for the root node", 2);
  ExpectOneLineFailure(Strobe({"-netdev", "tap,id=n0"}), "network backend 'tap' is not supported", 2);
  ExpectOneLineFailure(Strobe({"-gdb", "unix:/tmp/gdb.sock"}), "only tcp", 2);
  ExpectOneLineFailure(Strobe({"-S"}), "needs -s, -gdb, -monitor or -qmp", 2);
}

TEST(QemuOptions, TwoGibibytesOfRamCostOnlyWhatTheGuestTouches) {
  // The child's peak RSS, from wait4.
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(STROBE_BINARY, STROBE_BINARY, "run", "-m", "2G", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ASSERT_EQ(wait4(pid, &status, 0, &usage), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_LT(usage.ru_maxrss, 256 * 1024) << "peak RSS in KiB";  // far below 2 GiB
}

TEST(QemuOptions, BootArgumentsForMoreThan256MiB) {
  // As QEMU's Malta boot loader: memsize = the 256 MiB at physical 0, ememsize = all the RAM, a3 = memsize.
  vmm::Monitor monitor;
  vmm::VmConfig config;
  config.ram_bytes = 512u << 20;
  std::string err;
  ASSERT_TRUE(vmm::ParseElf(BuildElf(ElfSpec{}), &config.image, &err)) << err;
  vmm::Vm vm(monitor, config, [](uint8_t) {});
  ASSERT_TRUE(vm.Boot(&err)) << err;
  EXPECT_EQ(vm.cpu().gpr[7], 256u << 20);
  auto read_string = [&](uint32_t kseg0) {
    std::string s;
    for (uint32_t p = kseg0 & 0x1FFFFFFFu; s.size() < 256; ++p) {
      char ch = static_cast<char>(vm.pmap().Lookup(p).host[p & 0xFFF]);
      if (!ch) break;
      s.push_back(ch);
    }
    return s;
  };
  std::vector<std::string> env;
  for (uint32_t slot = 0x2008; env.size() < 10; slot += 4) {
    uint32_t ptr;
    std::memcpy(&ptr, vm.pmap().Lookup(slot).host + (slot & 0xFFF), 4);
    if (!ptr) break;
    env.push_back(read_string(ptr));
  }
  ASSERT_GE(env.size(), 4u);
  EXPECT_EQ(env[0], "memsize");
  EXPECT_EQ(env[1], "268435456");
  EXPECT_EQ(env[2], "ememsize");
  EXPECT_EQ(env[3], "536870912");
  // Physical 256-512 MiB is the I/O window, never RAM; with 1 GiB, RAM shows again from 512 MiB.
  EXPECT_EQ(vm.board().LookupRam(0x10000000u).host, nullptr);
  vmm::VmConfig big = config;
  big.ram_bytes = 1024u << 20;
  vmm::Vm vm1(monitor, big, [](uint8_t) {});
  EXPECT_EQ(vm1.board().LookupRam(0x18000000u).host, nullptr);
  EXPECT_NE(vm1.board().LookupRam(0x20000000u).host, nullptr);
  EXPECT_EQ(vm1.board().LookupRam(0x40000000u).host, nullptr);
}

// A quit (Ctrl-A x, a signal) that comes before a debugger agent is attached still reaches it: with -S the
// agent waits for gdb, and only the quit ends that wait. (CI once saw strobe -S hang on an early SIGTERM.)
TEST(VmDebugAgent, QuitBeforeAttachReachesTheAgent) {
  struct Agent : vmm::DebugAgent {
    bool quit = false;
    int stops = 0;
    vmm::DebugResume Stopped(const vmm::DebugEvent&) override {
      ++stops;
      return vmm::DebugResume::kKill;  // what a waiting agent answers once it has seen the quit
    }
    void Ended(vmm::VmExit) override {}
    void QuitRequested() override { quit = true; }
  };
  vmm::Monitor monitor;
  vmm::VmConfig config;
  std::string err;
  ASSERT_TRUE(vmm::ParseElf(BuildElf(ElfSpec{}), &config.image, &err)) << err;
  vmm::Vm vm(monitor, config, [](uint8_t) {});
  ASSERT_TRUE(vm.Boot(&err)) << err;
  vm.RequestQuit();
  Agent agent;
  vm.AttachDebugger(&agent, /*start_stopped=*/true);
  EXPECT_TRUE(agent.quit);
  EXPECT_EQ(vm.Run(), vmm::VmExit::kQuit);
}

// The serial port on TCP, as QEMU's tcp: and telnet: backends: a server that waits for its client (the
// guest starts once it connected), telnet's greeting as QEMU 7.2 sends it, a client that connects to a
// listening socket, and a server for which connecting fails.
TEST(Cli, SerialOverTcpAndTelnet) {
  for (const bool telnet : {false, true}) {
    const uint16_t port = FreePort();
    const std::string spec =
        std::string(telnet ? "telnet" : "tcp") + ":127.0.0.1:" + std::to_string(port) + ",server";
    std::vector<std::string> argv = {STROBE_BINARY, "run",     "-kernel", Guest("gdb_target"), "-append",
                                     "tick",        "-serial", spec,      "--timeout",         "3"};
    ProcessResult r;
    std::thread run([&] { r = RunProcess(argv, "", 60); });
    const int fd = ConnectTcp(port);
    ASSERT_GE(fd, 0);
    const std::string got = ReadUntil(fd, "tick 3\r\n");
    // QEMU's telnet greeting: WILL ECHO, WILL SUPPRESS-GO-AHEAD, WILL BINARY, DO BINARY.
    const std::string hello =
        telnet ? std::string("\xff\xfb\x01\xff\xfb\x03\xff\xfb\x00\xff\xfd\x00", 12) : "";
    EXPECT_EQ(got.substr(0, hello.size() + 8), hello + "tick 0\r\n") << got;
    close(fd);
    run.join();  // the guest goes on without a client until its --timeout; the run ends with it
    EXPECT_NE(r.err.find("waiting for connection on: " + spec.substr(0, spec.size() - 7) + ",server=on"),
              std::string::npos)
        << r.err;
  }

  // A client: Strobe connects to a listening socket (-chardev socket,host=,port=).
  const uint16_t port = FreePort();
  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(lfd, 1), 0);
  std::vector<std::string> argv = {STROBE_BINARY, "run",
                                   "-kernel",     Guest("hello"),
                                   "-chardev",    "socket,id=c0,host=127.0.0.1,port=" + std::to_string(port),
                                   "-serial",     "chardev:c0"};
  ProcessResult r;
  std::thread run([&] { r = RunProcess(argv, "", 60); });
  const int cfd = accept(lfd, nullptr, nullptr);
  ASSERT_GE(cfd, 0);
  EXPECT_NE(ReadUntil(cfd, "exit 0").find("Hello"), std::string::npos);
  run.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  close(cfd);
  close(lfd);  // nobody listens there now
  ExpectOneLineFailure(
      Strobe({"-kernel", Guest("hello"), "-serial", "tcp:127.0.0.1:" + std::to_string(port)}),
      "Failed to connect to 'tcp:127.0.0.1:" + std::to_string(port) + "': Connection refused", 1);
}

// -daemonize: the command returns 0 once the VM is set up, while the guest runs on in a daemon (no
// terminal: its standard streams on /dev/null, its folder /); the pid file names the daemon, which
// SIGTERM ends (and the file with it). What cannot work as a daemon is refused as QEMU refuses it.
TEST(Cli, DaemonizeDetachesOnceTheVmIsSetUp) {
  const std::string log = TempPath("daemon.log"), pidfile = TempPath("daemon.pid");
  std::remove(log.c_str());
  const ProcessResult r = Strobe({"-kernel", Guest("gdb_target"), "-append", "tick", "-daemonize", "-serial",
                                  "file:" + log, "-pidfile", pidfile, "--timeout", "120"},
                                 "", 30);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const pid_t daemon = static_cast<pid_t>(std::atoi(ReadAll(pidfile).c_str()));
  ASSERT_GT(daemon, 0);
  EXPECT_EQ(kill(daemon, 0), 0);
  char link[256] = {};
  const std::string proc = "/proc/" + std::to_string(daemon);
  ASSERT_GT(readlink((proc + "/fd/0").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "/dev/null");
  std::memset(link, 0, sizeof link);
  ASSERT_GT(readlink((proc + "/cwd").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "/");
  for (int i = 0; i < 400 && ReadAll(log).find("tick 3\r\n") == std::string::npos; ++i) usleep(50000);
  EXPECT_NE(ReadAll(log).find("tick 3\r\n"), std::string::npos) << ReadAll(log);
  ASSERT_EQ(kill(daemon, SIGTERM), 0);
  for (int i = 0; i < 400 && kill(daemon, 0) == 0; ++i) usleep(50000);
  EXPECT_NE(kill(daemon, 0), 0) << "the daemon outlived SIGTERM";
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0) << "the pid file outlived the daemon";

  ExpectOneLineFailure(Strobe({"-kernel", Guest("hello"), "-daemonize", "-nographic"}),
                       "-nographic cannot be used with -daemonize", 2);
  ExpectOneLineFailure(Strobe({"-kernel", Guest("hello"), "-daemonize", "-serial", "stdio"}),
                       "cannot use stdio with -daemonize", 2);
  ExpectOneLineFailure(Strobe({"-kernel", Guest("hello"), "-daemonize", "-monitor", "stdio"}),
                       "cannot use stdio with -daemonize", 2);
  ExpectOneLineFailure(Strobe({"-kernel", Guest("hello"), "-daemonize", "--vms", "2"}), "one VM only", 2);
  // A failure after the fork: the daemon's message reaches the terminal, the command exits 1.
  ExpectOneLineFailure(Strobe({"-kernel", TempPath("no-such-kernel"), "-daemonize"}),
                       "No such file or directory", 1);
}

}  // namespace
}  // namespace strobe::test
