// SPDX-License-Identifier: MIT
// `strobe run --code-cache`: a second run of a guest loads the code the first one compiled and prints the
// same (tiered, it sends cached regions before they get hot); damaged cache files are refused and
// recompiled; two runs may fill one folder at once; off (and a bad folder) as the user would try them. The
// counts come from --stats' "code cache" line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/scratch.h"

namespace strobe::test {
namespace {

namespace fs = std::filesystem;

std::string Guest(const std::string& name) {
  return std::string(STROBE_GUEST_DIR) + "/" + name + ".elf";
}

std::string FreshDir(const std::string& name) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("strobe_ccli_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  return RemoveAtExit(dir.string());
}

struct CacheLine {
  uint64_t loaded = 0, compiled = 0, stored = 0, rejected = 0;
};

// The --stats line: "code cache DIR: L regions loaded (...), C compiled, S stored, R rejected, ...".
CacheLine ParseCacheLine(const std::string& err) {
  std::smatch m;
  CacheLine c;
  EXPECT_TRUE(
      std::regex_search(err, m,
                        std::regex("code cache .*: ([0-9]+) regions loaded \\(.*\\), ([0-9]+) compiled, "
                                   "([0-9]+) stored, ([0-9]+) rejected")))
      << err;
  if (m.size() == 5) c = {std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3]), std::stoull(m[4])};
  return c;
}

ProcessResult RunHash(const std::string& cache, const std::string& engine = "jit",
                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{STROBE_BINARY,  "run",        "-kernel",  Guest("hash"),
                                "-nographic",   "-no-reboot", "--engine", engine,
                                "--code-cache", cache,        "--stats"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunProcess(args, "", 120);
}

// Without the second tier the regions jit forms depend only on the guest, so a second run must find every
// one of them in the cache and compile nothing.
TEST(CodeCacheCli, ASecondRunLoadsWhatTheFirstCompiledAndPrintsTheSame) {
  const std::string dir = FreshDir("second");
  const std::vector<std::string> one_tier{"--jit-reoptimize", "0"};
  ProcessResult first = RunHash(dir, "jit", one_tier);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const CacheLine a = ParseCacheLine(first.err);
  EXPECT_EQ(a.loaded, 0u);
  EXPECT_GT(a.compiled, 0u);
  EXPECT_EQ(a.stored, a.compiled);
  ProcessResult second = RunHash(dir, "jit", one_tier);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  const CacheLine b = ParseCacheLine(second.err);
  EXPECT_EQ(b.loaded, a.stored);
  EXPECT_EQ(b.compiled, 0u);
  EXPECT_EQ(b.rejected, 0u);
}

// With the second tier on, region shapes follow the timing of the background compiler (a loaded CI machine
// forms others than a quiet one), so only "most came from the cache" holds.
TEST(CodeCacheCli, WithTheSecondTierMostOfASecondRunComesFromTheCache) {
  const std::string dir = FreshDir("second_t2");
  ProcessResult first = RunHash(dir);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const CacheLine a = ParseCacheLine(first.err);
  EXPECT_GT(a.stored, 0u);
  ProcessResult second = RunHash(dir);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  const CacheLine b = ParseCacheLine(second.err);
  EXPECT_GT(b.loaded, b.compiled);
  EXPECT_LT(b.compiled, a.compiled);
  EXPECT_EQ(b.rejected, 0u);
}

// The --stats line of the first tier: "... N sent early, as an earlier run shaped them".
uint64_t SentEarly(const std::string& err) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(err, m, std::regex("([0-9]+) sent early, as an earlier run shaped them")))
      << err;
  return m.size() == 2 ? std::stoull(m[1]) : 0;
}

// Tiered, a block whose region an earlier run compiled gets it from the cache at an eighth of the
// threshold instead of being interpreted up to it. A first run has nothing to send early.
TEST(CodeCacheCli, ATieredSecondRunSendsCachedRegionsBeforeTheyGetHot) {
  const std::string dir = FreshDir("early");
  // The guest runs for a few tens of milliseconds and the tiered engine compiles in the background: on a
  // busy machine the run can end before a compile does, and a run stores only what it finished. So the
  // first run is repeated (into the same folder) until the folder holds code: a run stored some, or found
  // some. Only the first attempt, on an empty folder, certainly has nothing to send early: the process
  // prints its statistics and exits without waiting for a compile in flight, which may still store its
  // region, for the next attempt to find (and then, with nothing left to compile, to store nothing).
  ProcessResult first;
  for (int attempt = 0; attempt < 5; ++attempt) {
    first = RunHash(dir, "tiered");
    ASSERT_EQ(first.exit_code, 0) << first.err;
    if (attempt == 0) EXPECT_EQ(SentEarly(first.err), 0u) << "an empty folder has nothing to send";
    const CacheLine line = ParseCacheLine(first.err);
    if (line.stored > 0 || line.loaded > 0) break;
  }
  const CacheLine filled = ParseCacheLine(first.err);
  ASSERT_GT(filled.stored + filled.loaded, 0u) << first.err;
  ProcessResult second = RunHash(dir, "tiered");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_GT(SentEarly(second.err), 0u);
  EXPECT_EQ(ParseCacheLine(second.err).rejected, 0u);
  ProcessResult off = RunHash("off", "tiered");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out, first.out);
  EXPECT_EQ(SentEarly(off.err), 0u) << "without a code cache nothing is looked for";
}

TEST(CodeCacheCli, DamagedFilesAreRefusedAndTheRunIsUnchanged) {
  const std::string dir = FreshDir("damaged");
  ProcessResult first = RunHash(dir);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  size_t damaged = 0;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "objects")) {
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(e.path()) / 2));
    f.put('\x5a');  // likely a change; the checksum catches any
    f.seekp(static_cast<std::streamoff>(fs::file_size(e.path()) / 2 + 1));
    f.put('\xa5');
    ++damaged;
  }
  ASSERT_GT(damaged, 0u);
  ProcessResult second = RunHash(dir);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  const CacheLine b = ParseCacheLine(second.err);
  EXPECT_EQ(b.loaded, 0u) << "code from a damaged object ran";
  EXPECT_GT(b.rejected, 0u);
  EXPECT_GT(b.compiled, 0u);
}

TEST(CodeCacheCli, TwoRunsFillOneFolderAtOnce) {
  const std::string dir = FreshDir("together");
  ProcessResult r[2];
  std::thread t0([&] { r[0] = RunHash(dir); });
  std::thread t1([&] { r[1] = RunHash(dir, "tiered"); });
  t0.join();
  t1.join();
  ASSERT_EQ(r[0].exit_code, 0) << r[0].err;
  ASSERT_EQ(r[1].exit_code, 0) << r[1].err;
  EXPECT_EQ(r[0].out, r[1].out);
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << e.path();
  ProcessResult third = RunHash(dir);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(third.out, r[0].out);
  const CacheLine c = ParseCacheLine(third.err);
  EXPECT_GT(c.loaded, 0u);
  EXPECT_EQ(c.rejected, 0u) << "a file was torn by the concurrent writers";
}

TEST(CodeCacheCli, OnByDefaultUnderXdgCacheHomeAndOffWritesNothing) {
  const std::string home = FreshDir("xdg");
  fs::create_directories(home);
  const std::vector<std::string> run = {"/usr/bin/env", "XDG_CACHE_HOME=" + home,
                                        STROBE_BINARY,  "run",
                                        "-kernel",      Guest("hash"),
                                        "-nographic",   "-no-reboot",
                                        "--engine",     "jit"};
  std::vector<std::string> off = run;
  off.insert(off.end(), {"--code-cache", "off", "--stats"});
  ProcessResult r = RunProcess(off, "", 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("code cache: off"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(home)) << "--code-cache off wrote to " << home;
  ProcessResult d = RunProcess(run, "", 120);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  ASSERT_TRUE(fs::is_directory(fs::path(home) / "strobe" / "objects"));
  EXPECT_FALSE(fs::is_empty(fs::path(home) / "strobe" / "objects"));
}

TEST(CodeCacheCli, AnUnusableDefaultFolderIsAWarningAndTheRunGoesOn) {
  // /proc takes no new folders: the default ~/.cache/strobe cannot be made there.
  ProcessResult r = RunProcess({"/usr/bin/env", "-u", "XDG_CACHE_HOME", "HOME=/proc", STROBE_BINARY, "run",
                                "-kernel", Guest("hash"), "-nographic", "-no-reboot", "--stats"},
                               "", 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hash: done"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("strobe: warning: code cache off: cannot use /proc/.cache/strobe"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("code cache: off (cannot use"), std::string::npos) << r.err;
}

TEST(CodeCacheCli, AFileOrNothingForTheFolderIsAUsageError) {
  const std::string file = FreshDir("notadir");
  std::ofstream(file) << "x";
  ProcessResult r = RunProcess({STROBE_BINARY, "run", "-kernel", Guest("hash"), "--code-cache", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad --code-cache"), std::string::npos) << r.err;
  ProcessResult m = RunProcess({STROBE_BINARY, "run", "-kernel", Guest("hash"), "--code-cache"});
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("--code-cache needs a value"), std::string::npos) << m.err;
}

}  // namespace
}  // namespace strobe::test
