// SPDX-License-Identifier: MIT
// The tests' scratch registry (tests/support/scratch.h): what a test process registers is gone after it
// exits normally, files and whole folders alike, and kept with STROBE_KEEP_SCRATCH=1.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/scratch.h"

namespace strobe::test {
namespace {

namespace fs = std::filesystem;

// A folder with a file and a subfolder in it, and a file beside it, for a child process to register.
struct Leftovers {
  fs::path dir, file;
  explicit Leftovers(const std::string& tag) {
    const std::string base = ::testing::TempDir() + "strobe_scratch_" + tag + "_" + std::to_string(getpid());
    dir = base + "_dir";
    file = base + "_file";
    fs::remove_all(dir);
    fs::create_directories(dir / "sub");
    std::ofstream(dir / "sub" / "cache.bin") << "compiled code";
    std::ofstream(file) << "console";
  }
  ~Leftovers() {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove_all(file, ec);
  }
};

TEST(ScratchDeathTest, RegisteredPathsAreRemovedWhenTheProcessExits) {
  Leftovers l("gone");
  EXPECT_EXIT(
      {
        unsetenv("STROBE_KEEP_SCRATCH");
        RemoveAtExit(l.dir.string());
        RemoveAtExit(l.file.string());
        std::exit(fs::exists(l.dir) && fs::exists(l.file) ? 0 : 3);  // still there until the exit
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_FALSE(fs::exists(l.dir));
  EXPECT_FALSE(fs::exists(l.file));
}

TEST(ScratchDeathTest, KeptWhenAskedTo) {
  Leftovers l("kept");
  EXPECT_EXIT(
      {
        setenv("STROBE_KEEP_SCRATCH", "1", 1);
        RemoveAtExit(l.dir.string());
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_TRUE(fs::exists(l.dir / "sub" / "cache.bin"));
}

}  // namespace
}  // namespace strobe::test
