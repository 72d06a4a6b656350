// SPDX-License-Identifier: MIT
#include "tools/strobe/options.h"

#include <gtest/gtest.h>

namespace strobe::test {
namespace {

tools::RunOptions Parse(std::vector<std::string> args) {
  tools::RunOptions o;
  std::string err;
  EXPECT_TRUE(tools::ParseRunOptions(args, &o, &err)) << err;
  return o;
}

std::string Error(std::vector<std::string> args) {
  tools::RunOptions o;
  std::string err;
  EXPECT_FALSE(tools::ParseRunOptions(args, &o, &err));
  EXPECT_EQ(err.find('\n'), std::string::npos);  // one line
  return err;
}

TEST(RunOptions, QemuCommandLineWorksUnchanged) {
  auto o = Parse({"-M",         "malta",      "-m",        "128",       "-kernel",
                  "vmlinuz",    "-initrd",    "initrd.gz", "-append",   "console=ttyS0 rdinit=/init",
                  "-nographic", "-no-reboot", "-serial",   "mon:stdio", "-net",
                  "none",       "-vga",       "none",      "-cpu",      "24Kc"});
  EXPECT_EQ(o.vm.ram_bytes, 128u << 20);
  EXPECT_EQ(o.vm.kernel, "vmlinuz");
  EXPECT_EQ(o.vm.initrd, "initrd.gz");
  EXPECT_EQ(o.vm.append, "console=ttyS0 rdinit=/init");
  EXPECT_TRUE(o.vm.no_reboot);
}

TEST(RunOptions, Defaults) {
  auto o = Parse({});
  EXPECT_EQ(o.vm.ram_bytes, 256u << 20);
  EXPECT_TRUE(o.vm.kernel.empty());
  EXPECT_FALSE(o.vm.no_reboot);
  EXPECT_EQ(o.vm.engine, vmm::Engine::kTiered);
  EXPECT_EQ(o.vm.jit_threshold, 1000u);
  EXPECT_EQ(o.vm.jit_opt_level, 0u);
  EXPECT_EQ(o.vm.tlb_entries, 64u);
}

TEST(RunOptions, RamSizeSyntax) {
  EXPECT_EQ(Parse({"-m", "64M"}).vm.ram_bytes, 64u << 20);
  EXPECT_EQ(Parse({"-m", "size=32M"}).vm.ram_bytes, 32u << 20);
  EXPECT_EQ(Parse({"-m", "4096K"}).vm.ram_bytes, 4u << 20);
  EXPECT_NE(Error({"-m", "1"}).find("out of range"), std::string::npos);
  EXPECT_NE(Error({"-m", "1G"}).find("out of range"), std::string::npos);
  EXPECT_NE(Error({"-m", "lots"}).find("bad RAM size"), std::string::npos);
  EXPECT_NE(Error({"-m", "-5"}).find("bad RAM size"), std::string::npos);
  EXPECT_NE(Error({"-m", "99999999999999999999"}).find("bad RAM size"), std::string::npos);
}

TEST(RunOptions, BadInputIsRefusedWithOneLine) {
  EXPECT_NE(Error({"-kernel"}).find("needs a value"), std::string::npos);
  EXPECT_NE(Error({"--frobnicate"}).find("unknown option"), std::string::npos);
  EXPECT_NE(Error({"-M", "pc"}).find("unsupported machine"), std::string::npos);
  EXPECT_NE(Error({"-cpu", "R4000"}).find("unsupported CPU"), std::string::npos);
  EXPECT_NE(Error({"--jit-opt", "3"}).find("--jit-opt"), std::string::npos);
  EXPECT_NE(Error({"--jit-threshold", "0"}).find("--jit-threshold"), std::string::npos);
  EXPECT_NE(Error({"--jit-reoptimize", "-1"}).find("--jit-reoptimize"), std::string::npos);
  EXPECT_NE(Error({"--dump-blocks", "hot:0"}).find("--dump-blocks"), std::string::npos);
  EXPECT_NE(Error({"--dump-blocks", "sideways"}).find("--dump-blocks"), std::string::npos);
  EXPECT_NE(Error({"--engine", "turbo"}).find("unknown engine"), std::string::npos);
  EXPECT_NE(Error({"--tlb-entries", "65"}).find("--tlb-entries"), std::string::npos);
  EXPECT_NE(Error({"--tlb-entries", "1.5"}).find("--tlb-entries"), std::string::npos);
  EXPECT_NE(Error({"--timeout", "0"}).find("--timeout"), std::string::npos);
  EXPECT_NE(Error({"-smp", "2"}).find("-smp"), std::string::npos);
}

TEST(RunOptions, StrobeOptions) {
  EXPECT_EQ(Parse({"--engine", "jit"}).vm.engine, vmm::Engine::kJit);
  EXPECT_EQ(Parse({"--engine", "tiered", "--jit-threshold", "10", "--jit-opt", "2"}).vm.jit_threshold, 10u);
  EXPECT_TRUE(Parse({"--dump-blocks", "hot:5"}).vm.jit_listings);
  EXPECT_EQ(Parse({"--jit-reoptimize", "0"}).vm.jit_reoptimize_after, 0u);
  EXPECT_EQ(Parse({}).vm.jit_reoptimize_after, 2000u);
  EXPECT_TRUE(Parse({"--jit-inline-kseg"}).vm.jit_inline_kseg);
  EXPECT_FALSE(Parse({}).vm.jit_inline_kseg);
  EXPECT_EQ(Parse({"--dump-blocks", "0x80100000"}).dump_blocks, "0x80100000");
  auto o = Parse({"--engine", "interp", "--tlb-entries", "64", "--warp-idle", "--timeout", "2.5", "--stats",
                  "--max-instructions", "1000"});
  EXPECT_EQ(o.vm.tlb_entries, 64u);
  EXPECT_TRUE(o.vm.warp_idle);
  EXPECT_DOUBLE_EQ(o.vm.timeout_seconds, 2.5);
  EXPECT_TRUE(o.stats);
  EXPECT_EQ(o.vm.max_instructions, 1000u);
}

}  // namespace
}  // namespace strobe::test
