// SPDX-License-Identifier: MIT
// The guest programs under `strobe run`, checked against their own self-checks and, for the compute
// workloads, against the same C code compiled for the host (the native run is the oracle).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cli_expect.h"
#include "tests/support/elf_builder.h"
#include "tests/support/process.h"
#include "tests/support/scratch.h"
#include "translator/mips/encoder.h"

namespace strobe::test {
namespace {

uint32_t E(mips::Opcode op, mips::Fields f) {
  return mips::Encode(op, f);
}

std::string Guest(const std::string& name) {
  return std::string(STROBE_GUEST_DIR) + "/" + name + ".elf";
}

// The options that select an engine by name; "baseline" is the tiered engine with every block run as the
// interpreter's baseline code from its first execution and LLVM out of the way.
std::vector<std::string> EngineOptions(const std::string& engine) {
  if (engine == "baseline")
    return {"--engine", "tiered", "--jit-baseline", "1", "--jit-threshold", "1000000000"};
  return {"--engine", engine};
}

ProcessResult Strobe(std::vector<std::string> args, const std::string& input = "", double timeout = 120) {
  args.insert(args.begin(), {STROBE_BINARY, "run"});
  return RunProcess(args, input, timeout);
}

std::string WithoutCr(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
  return s;
}

// A file of this test process's own: ctest runs the tests of this binary as separate processes side by
// side, and two of them writing one path made the other's strobe read half a file ("not an ELF file").
std::string TempFile(const std::string& name, const std::string& contents) {
  std::string path = RemoveAtExit(::testing::TempDir() + "strobe_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// Runs a self-checking guest and expects "<name>: N passed, 0 failed" with N > 0 and no FAIL line.
void ExpectSelfCheckPasses(const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"-kernel", Guest(name), "-nographic", "-no-reboot"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult r = Strobe(args);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string out = WithoutCr(r.out);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(name + ": ([0-9]+) passed, ([0-9]+) failed"))) << out;
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_EQ(m[2], "0") << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  EXPECT_NE(out.find("exit 0\n"), std::string::npos);
}

TEST(GuestPrograms, DemoGuestIsTheDefault) {
  ProcessResult r = Strobe({"-nographic"});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // the demo powers off
  EXPECT_EQ(WithoutCr(r.out), "Hello from Strobe guest\nexit 0\n");
}

TEST(GuestPrograms, IsaSelfCheck) {
  ExpectSelfCheckPasses("isa_selfcheck");
}
TEST(GuestPrograms, UserModeTlbAndExceptions) {
  ExpectSelfCheckPasses("usermode");
}

// The same self-checks with every engine: translated code must give the interpreter's results.
class SelfCheckEngine : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};
TEST_P(SelfCheckEngine, Passes) {
  std::vector<std::string> extra = EngineOptions(std::get<1>(GetParam()));
  if (std::get<1>(GetParam()) != "baseline") extra.insert(extra.end(), {"--jit-threshold", "2"});
  ExpectSelfCheckPasses(std::get<0>(GetParam()), extra);
}
INSTANTIATE_TEST_SUITE_P(Engines, SelfCheckEngine,
                         ::testing::Combine(::testing::Values("isa_selfcheck", "usermode"),
                                            ::testing::Values("interp", "jit", "tiered", "baseline")));
TEST(GuestPrograms, UserModeWithALargerTlb) {
  ExpectSelfCheckPasses("usermode", {"--tlb-entries", "64"});
}
TEST(GuestPrograms, UserModeWithTinyTlbAndWiredEntries) {
  ExpectSelfCheckPasses("usermode", {"--tlb-entries", "8", "-m", "32"});
}

class Workload : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Workload, MatchesTheNativeBuild) {
  const std::string name = std::get<0>(GetParam());
  ProcessResult native = RunProcess({std::string(STROBE_GUEST_DIR) + "/native/" + name});
  ASSERT_EQ(native.exit_code, 0) << "native twin missing or failing: " << native.err;
  std::vector<std::string> args = {"-kernel", Guest(name), "-nographic", "-no-reboot"};
  for (const std::string& a : EngineOptions(std::get<1>(GetParam()))) args.push_back(a);
  ProcessResult r = Strobe(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = WithoutCr(r.out);
  ASSERT_GE(out.size(), 7u);
  EXPECT_EQ(out.substr(out.size() - 7), "exit 0\n");
  EXPECT_EQ(out.substr(0, out.size() - 7), native.out);
}

// scale=N (from -append for the guest, argv for the native twin) runs the workload N times and prints only
// the last run: the output stays the native one, and the guest retires about N times the instructions.
TEST(GuestPrograms, WorkloadScaleRunsItSeveralTimesAndPrintsOnce) {
  auto retired = [](const std::string& err) {
    const size_t at = err.find(" instructions");
    EXPECT_NE(at, std::string::npos) << err;
    size_t begin = err.rfind(' ', at - 1);
    return std::stoull(err.substr(begin + 1, at - begin - 1));
  };
  ProcessResult native = RunProcess({std::string(STROBE_GUEST_DIR) + "/native/calls", "scale=3"});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ProcessResult one = Strobe({"-kernel", Guest("calls"), "-nographic", "-no-reboot", "--stats"});
  ProcessResult three =
      Strobe({"-kernel", Guest("calls"), "-nographic", "-no-reboot", "--stats", "-append", "scale=3"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(three.exit_code, 0) << three.err;
  EXPECT_EQ(WithoutCr(three.out), WithoutCr(one.out));
  EXPECT_EQ(WithoutCr(three.out), native.out + "exit 0\n");
  const double ratio = static_cast<double>(retired(three.err)) / static_cast<double>(retired(one.err));
  EXPECT_GT(ratio, 2.9);
  EXPECT_LT(ratio, 3.1);
}

// With "marks" (Warm/ in strobe_bench times passes by it) each quiet run is followed by "pass K"; a word
// that only starts with "marks" does not count.
TEST(GuestPrograms, WorkloadMarksEachQuietPass) {
  ProcessResult native = RunProcess({std::string(STROBE_GUEST_DIR) + "/native/calls", "scale=3"});
  ProcessResult marked = Strobe(
      {"-kernel", Guest("calls"), "-nographic", "-no-reboot", "-append", "console=ttyS0 scale=3 marks"});
  ProcessResult unmarked =
      Strobe({"-kernel", Guest("calls"), "-nographic", "-no-reboot", "-append", "marksman scale=3"});
  ASSERT_EQ(marked.exit_code, 0) << marked.err;
  ASSERT_EQ(unmarked.exit_code, 0) << unmarked.err;
  EXPECT_EQ(WithoutCr(marked.out), "pass 1\npass 2\n" + native.out + "exit 0\n");
  EXPECT_EQ(WithoutCr(unmarked.out), native.out + "exit 0\n");
}

INSTANTIATE_TEST_SUITE_P(Guests, Workload,
                         ::testing::Combine(::testing::Values("checksum", "sort", "hash", "alu_loop",
                                                              "memrand", "calls", "compress", "codegen",
                                                              "fpmath"),
                                            ::testing::Values("interp", "jit", "tiered", "baseline")));

// The hard-float guest on the 24Kc, which has no FPU: Status.CU1 does not stick, so the runtime's first FPU
// instruction (start.S sets FCSR before main) takes a Coprocessor Unusable exception for coprocessor 1, which
// the default handler reports before powering off. QEMU's 24Kc prints the same line.
TEST(GuestPrograms, HardFloatGuestOnThe24KcStopsAtCoprocessorUnusable) {
  ProcessResult r = Strobe({"-kernel", Guest("fpmath"), "-nographic", "-no-reboot", "-cpu", "24Kc"}, "", 30);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;  // the guest powers off after its report
  const std::string out = WithoutCr(r.out);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(out, m, std::regex("unhandled exception CpU \\(11\\) vec=1 cause=0x([0-9a-f]{8})")))
      << out;
  EXPECT_EQ((std::stoul(m[1], nullptr, 16) >> 28) & 3, 1u) << out;  // Cause.CE: coprocessor 1
  EXPECT_NE(out.find("exit 139\n"), std::string::npos) << out;      // 128 + ExcCode 11
  EXPECT_EQ(out.find("fpmath: done"), std::string::npos) << out;
}

// A guest that prints one character and then resets the board through the FPGA's SOFTRES register.
std::string ResettingGuest() {
  using mips::Opcode;
  const uint32_t words[] = {
      E(Opcode::LUI, {.rt = 8, .imm = 0xB800}),           // $8 = kseg1 base of the ISA I/O window
      E(Opcode::ORI, {.rs = 0, .rt = 9, .imm = 'R'}),     //
      E(Opcode::SB, {.rs = 8, .rt = 9, .imm = 0x3F8}),    // COM1 THR
      E(Opcode::LUI, {.rt = 10, .imm = 0xBF00}),          //
      E(Opcode::ORI, {.rs = 0, .rt = 11, .imm = 0x42}),   //
      E(Opcode::SW, {.rs = 10, .rt = 11, .imm = 0x500}),  // SOFTRES = 0x42
      E(Opcode::BEQ, {.rs = 0, .rt = 0, .imm = 0xFFFF}),  // spin (never reached)
      0};
  ElfSpec spec;
  std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(words),
                             reinterpret_cast<const uint8_t*>(words) + sizeof words);
  spec.segments = {{0x80100000u, static_cast<uint32_t>(bytes.size()), bytes}};
  std::vector<uint8_t> elf = BuildElf(spec);
  return TempFile("reset.elf", std::string(elf.begin(), elf.end()));
}

TEST(GuestPrograms, ResetEndsTheRunWithNoReboot) {
  ProcessResult r = Strobe({"-kernel", ResettingGuest(), "-no-reboot"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "R");
}

TEST(GuestPrograms, ResetWithoutNoRebootRestartsTheGuest) {
  ProcessResult r = Strobe({"-kernel", ResettingGuest(), "--max-instructions", "200"});
  EXPECT_EQ(r.exit_code, 5) << r.err;  // stopped by the limit, after several boots
  EXPECT_GE(r.out.size(), 3u);
  EXPECT_EQ(r.out.find_first_not_of('R'), std::string::npos) << r.out;
}

// --- Bad input: one clear line on stderr, a non-zero status, never a crash ---

TEST(CommandLine, MissingKernel) {
  ExpectOneLineFailure(Strobe({"-kernel", "/nonexistent/vmlinuz"}), "No such file");
}

TEST(CommandLine, NotAnElf) {
  ExpectOneLineFailure(Strobe({"-kernel", TempFile("text", "just some text, not a kernel\n")}), "not an ELF");
}

TEST(CommandLine, HostExecutableIsTheWrongArchitecture) {
  ExpectOneLineFailure(Strobe({"-kernel", "/bin/true"}), "64-bit");
}

TEST(CommandLine, TruncatedElf) {
  std::ifstream f(Guest("hello"), std::ios::binary);
  std::string elf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(elf.size(), 200u);
  ExpectOneLineFailure(Strobe({"-kernel", TempFile("truncated", elf.substr(0, 120))}), "outside the file");
}

TEST(CommandLine, ImageLargerThanRam) {
  ElfSpec spec;
  spec.entry = 0x80300000u;
  spec.segments = {{0x80300000u, 0x1000, {0x20, 0x00, 0x00, 0x42}}};  // 3 MiB up: beyond -m 2
  std::vector<uint8_t> elf = BuildElf(spec);
  const std::string path = TempFile("high.elf", std::string(elf.begin(), elf.end()));
  ExpectOneLineFailure(Strobe({"-kernel", path, "-m", "2"}), "does not fit in 2 MiB");
  EXPECT_EQ(Strobe({"-kernel", path, "-m", "4"}).exit_code, 3);  // fits: runs and halts in its WAIT
}

TEST(CommandLine, RamOutOfRangeAndUnknownOptions) {
  ExpectOneLineFailure(Strobe({"-m", "1"}), "out of range", 2);
  ExpectOneLineFailure(Strobe({"-m", "4G"}), "out of range", 2);
  ExpectOneLineFailure(Strobe({"--bogus"}), "unknown option", 2);
  ExpectOneLineFailure(Strobe({"--engine", "turbo"}), "unknown engine", 2);
  ExpectOneLineFailure(Strobe({"-M", "virt"}), "unsupported machine", 2);
}

TEST(CommandLine, MissingInitrd) {
  ExpectOneLineFailure(Strobe({"-initrd", "/nonexistent/initrd.gz"}), "/nonexistent/initrd.gz");
}

TEST(CommandLine, UnknownCommand) {
  ProcessResult r = RunProcess({STROBE_BINARY, "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command"), std::string::npos);
}

TEST(CommandLine, HelpListsTheOptions) {
  ProcessResult r = Strobe({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("-kernel FILE"), std::string::npos);
  EXPECT_NE(r.out.find("--engine"), std::string::npos);
}

// --jit-busy reaches the tier: hash's hot loop runs far over the default bar (regions are sent to the second
// tier) and under a bar of 10^12 guest instructions a second (none is).
// (The second tier serves --jit-opt 0, the cheap first tier; the tiered engine's default has none.)
TEST(CommandLine, JitBusySetsTheSecondTiersBar) {
  auto sent = [](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"-kernel", Guest("hash"), "-nographic", "-no-reboot", "--code-cache",
                                  "off",     "--stats",     "--jit-opt",  "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    ProcessResult r = Strobe(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.err, m, std::regex("tier 2: ([0-9]+) regions sent"))) << r.err;
    return m.size() == 2 ? std::stoull(m[1]) : 0ull;
  };
  EXPECT_GT(sent({}), 0u);
  EXPECT_EQ(sent({"--jit-busy", "1000000000000"}), 0u);
}

// The first tier's code is selected by LLVM's fast instruction selector alone: an instruction it does not
// take (an i1 select in the chain check did) sends the rest of its block through SelectionDAG, which cost
// the first tier 14% of its code-generation time. LLVM's -fast-isel-abort=1 turns such a fallback into an
// error; the guests cover the integer ISA, the FPU, memory and TLB paths and user mode.
TEST(GuestPrograms, FirstTierCodeNeedsNoSelectionDag) {
  setenv("STROBE_LLVM_ARGS", "-fast-isel -fast-isel-abort=1", 1);
  for (const char* name : {"isa_selfcheck", "fpmath", "usermode", "compress"}) {
    ProcessResult r = Strobe({"-kernel", Guest(name), "-nographic", "-no-reboot", "--engine", "jit",
                              "--jit-reoptimize", "0", "--code-cache", "off"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.err.find("FastISel missed"), std::string::npos) << name << ": " << r.err;
  }
  unsetenv("STROBE_LLVM_ARGS");
}

TEST(CommandLine, TimeoutStopsARunawayGuest) {
  // The usermode guest, limited to far too little time: the run must end with status 4 and a message.
  ProcessResult r = Strobe({"-kernel", Guest("sort"), "--timeout", "0.05"});
  if (r.exit_code == 0) GTEST_SKIP() << "the guest finished within 50 ms";
  ExpectOneLineFailure(r, "did not finish", 4);
}

TEST(CommandLine, CtrlAXQuitsLikeQemu) {
  // Ctrl-A x on the console ends the run at once with status 0; Ctrl-A Ctrl-A would pass a Ctrl-A through.
  ProcessResult r = Strobe({"-kernel", Guest("sort"), "-nographic"}, std::string("abc\x01x"), 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("terminated (Ctrl-A x)"), std::string::npos) << r.err;
  EXPECT_EQ(WithoutCr(r.out).find("sort: done"), std::string::npos);  // it did not run to the end
}

TEST(Dump, ShowsGuestCodeIrBeforeAndAfterAndHostCode) {
  ProcessResult r = RunProcess({STROBE_BINARY, "dump", "-kernel", Guest("hash"), "-no-reboot", "hot:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& o = r.out;
  const size_t region = o.find("=== region region_");
  ASSERT_NE(region, std::string::npos) << o.substr(0, 2000);
  EXPECT_NE(o.find("guest instructions, entered"), std::string::npos);
  EXPECT_NE(o.find("compiled in"), std::string::npos);
  const size_t guest = o.find("--- guest code", region);
  const size_t before = o.find("--- LLVM IR before optimisation", region);
  const size_t after = o.find("--- LLVM IR after optimisation", region);
  const size_t host = o.find("--- host code (x86-64)", region);
  ASSERT_TRUE(guest < before && before < after && after < host && host != std::string::npos);
  EXPECT_NE(o.substr(guest, before - guest).find("lw "), std::string::npos);  // MIPS disassembly
  EXPECT_NE(o.substr(before, after - before).find("define ghccc void @region_"), std::string::npos);
  EXPECT_NE(o.substr(after, host - after).find("define ghccc void @region_"), std::string::npos);
  EXPECT_NE(o.substr(host).find("ret"), std::string::npos);        // x86-64 disassembly
  EXPECT_EQ(o.find("=== region", region + 1), std::string::npos);  // hot:1 shows one region
}

// Blocks run as the interpreter's baseline code follow the regions, hottest first, with their host code.
TEST(Dump, ShowsBaselineBlocks) {
  ProcessResult r = RunProcess({STROBE_BINARY, "dump", "-kernel", Guest("hash"), "-no-reboot", "hot:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& o = r.out;
  const size_t block = o.find("=== baseline block 0x");
  ASSERT_NE(block, std::string::npos) << o.substr(0, 2000);
  EXPECT_NE(o.find("guest instructions, ran ", block), std::string::npos);
  const size_t guest = o.find("--- guest code", block);
  const size_t host = o.find("--- host code (x86-64", block);
  ASSERT_TRUE(guest < host && host != std::string::npos);
  EXPECT_NE(o.substr(host).find("jmp"), std::string::npos);  // disassembled: every block jumps out
  EXPECT_EQ(o.find("=== baseline block", block + 1), std::string::npos);  // hot:1 shows one
}

TEST(Dump, SelectionFollowsAnyRunOption) {
  // The selection is the last word whatever run option precedes it; "-append all" stays a command line.
  ProcessResult r = RunProcess(
      {STROBE_BINARY, "dump", "-kernel", Guest("hash"), "-no-reboot", "--jit-inline-kseg", "hot:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t region = r.out.find("=== region region_");
  ASSERT_NE(region, std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("=== region", region + 1), std::string::npos);  // hot:1, not the default hot:10
  ProcessResult a =
      RunProcess({STROBE_BINARY, "dump", "-kernel", Guest("hash"), "-no-reboot", "-append", "all"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("=== region region_"), std::string::npos);
}

// The lines of the newest /tmp/perf-*.map written since `since` that holds `needle` (strobe writes
// /tmp/perf-<its pid>.map; the child's pid is not known here, and tests may run side by side), and that
// map's path.
std::vector<std::string> NewestPerfMapWith(const std::string& needle, std::filesystem::file_time_type since,
                                           std::string* path) {
  ProcessResult ls = RunProcess({"/bin/sh", "-c", "ls -t /tmp/perf-*.map 2>/dev/null | head -n 20"});
  std::istringstream names(ls.out);
  for (std::string name; std::getline(names, name);) {
    std::error_code ec;
    const auto written = std::filesystem::last_write_time(name, ec);
    if (ec || written < since) continue;
    std::ifstream f(name);
    std::vector<std::string> lines;
    bool has = false;
    for (std::string line; std::getline(f, line);) {
      has |= line.find(needle) != std::string::npos;
      lines.push_back(line);
    }
    if (has) {
      *path = name;
      return lines;
    }
  }
  return {};
}

// Every line of a perf map is "address size name", the name one of Strobe's.
void ExpectPerfMapLines(const std::vector<std::string>& lines) {
  static const std::regex kName(
      "strobe:(region_[0-9a-f]{8}_O[0-2]_[0-9]+|baseline_[0-9a-f]{8}|baseline_go_on|baseline_memory)");
  for (const std::string& line : lines) {
    unsigned long long addr = 0, size = 0;
    char name[128] = {};
    ASSERT_EQ(std::sscanf(line.c_str(), "%llx %llx %127s", &addr, &size, name), 3) << line;
    EXPECT_NE(addr, 0u);
    EXPECT_GT(size, 0u);
    EXPECT_TRUE(std::regex_match(name, kName)) << line;
  }
}

// Now on the clock the file system stamps files with, a second back (its stamps may be coarser).
std::filesystem::file_time_type Before() {
  return std::filesystem::file_time_type::clock::now() - std::chrono::seconds(1);
}

TEST(Dump, PerfMapNamesTranslatedRegions) {
  const auto start = Before();
  ProcessResult r =
      Strobe({"-kernel", Guest("calls"), "-no-reboot", "--engine", "jit", "--perf-map", "--stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string path;
  std::vector<std::string> lines = NewestPerfMapWith("strobe:region_", start, &path);
  ASSERT_FALSE(lines.empty()) << "no perf map names a region";
  ExpectPerfMapLines(lines);
  std::remove(path.c_str());
}

// Under the tiered engine warm blocks run baseline code, written without LLVM: the map names it too (each
// piece after the block it was made for, and the shared go-on paths), so that perf does not leave those
// samples as bare addresses.
TEST(Dump, PerfMapNamesBaselineCode) {
  const auto start = Before();
  ProcessResult r = Strobe({"-kernel", Guest("calls"), "-no-reboot", "--engine", "tiered", "--jit-threshold",
                            "1000000000", "--perf-map"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string path;
  std::vector<std::string> lines = NewestPerfMapWith("strobe:baseline_go_on", start, &path);
  ASSERT_FALSE(lines.empty()) << "no perf map names baseline code";
  ExpectPerfMapLines(lines);
  const std::regex piece("strobe:baseline_[0-9a-f]{8}$");
  const auto pieces = std::count_if(lines.begin(), lines.end(),
                                    [&](const std::string& l) { return std::regex_search(l, piece); });
  EXPECT_GT(pieces, 0) << "no piece of baseline code is named";
  std::remove(path.c_str());
}

TEST(Dump, InterpreterHasNothingToDumpAndBadSelectionsAreRefused) {
  ProcessResult r =
      Strobe({"-kernel", Guest("hello"), "-no-reboot", "--engine", "interp", "--dump-blocks", "all"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("no translated code"), std::string::npos) << r.out;
  ExpectOneLineFailure(Strobe({"--dump-blocks", "hot:zero"}), "--dump-blocks", 2);
}

}  // namespace
}  // namespace strobe::test
