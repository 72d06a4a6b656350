// SPDX-License-Identifier: MIT
#include "vmm/elf_loader.h"

#include <gtest/gtest.h>

#include "tests/support/elf_builder.h"

namespace strobe::test {
namespace {

std::string ParseError(const std::vector<uint8_t>& bytes) {
  vmm::ElfImage img;
  std::string err;
  EXPECT_FALSE(vmm::ParseElf(bytes, &img, &err));
  return err;
}

TEST(ElfLoader, AcceptsAWellFormedImage) {
  ElfSpec spec;
  spec.segments = {{0x80100000u, 0x2000, {1, 2, 3, 4}}, {0xA0200000u, 16, {5, 6}}};
  vmm::ElfImage img;
  std::string err;
  ASSERT_TRUE(vmm::ParseElf(BuildElf(spec), &img, &err)) << err;
  EXPECT_EQ(img.entry, 0x80100000u);
  ASSERT_EQ(img.segments.size(), 2u);
  EXPECT_EQ(img.segments[0].paddr, 0x00100000u);
  EXPECT_EQ(img.segments[0].memsz, 0x2000u);
  EXPECT_EQ(img.segments[0].data, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(img.segments[1].paddr, 0x00200000u);  // kseg1 maps to the same physical window
}

TEST(ElfLoader, RejectsWhatIsNotAMipsElExecutable) {
  EXPECT_EQ(ParseError({'h', 'e', 'l', 'l', 'o'}), "not an ELF file");
  std::vector<uint8_t> text(100, 'x');
  EXPECT_EQ(ParseError(text), "not an ELF file");

  ElfSpec s64;
  s64.elf_class = 2;
  EXPECT_NE(ParseError(BuildElf(s64)).find("64-bit"), std::string::npos);
  ElfSpec be;
  be.data = 2;
  EXPECT_NE(ParseError(BuildElf(be)).find("big-endian"), std::string::npos);
  ElfSpec x86;
  x86.machine = 3;
  EXPECT_NE(ParseError(BuildElf(x86)).find("not MIPS"), std::string::npos);
  ElfSpec dyn;
  dyn.type = 3;
  EXPECT_NE(ParseError(BuildElf(dyn)).find("not an executable"), std::string::npos);
}

TEST(ElfLoader, RejectsTruncatedFiles) {
  std::vector<uint8_t> full = BuildElf(ElfSpec{});
  // Cut at every length: never a crash, always a message.
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
    EXPECT_FALSE(ParseError(cut).empty()) << "length " << n;
  }
}

TEST(ElfLoader, RejectsBadAddresses) {
  ElfSpec user_entry;
  user_entry.entry = 0x00400000u;
  EXPECT_NE(ParseError(BuildElf(user_entry)).find("entry point"), std::string::npos);
  ElfSpec kuseg_segment;
  kuseg_segment.segments = {{0x00400000u, 4, {0, 0, 0, 0}}};
  EXPECT_NE(ParseError(BuildElf(kuseg_segment)).find("not inside kseg0/kseg1"), std::string::npos);
  ElfSpec bad_sizes;
  bad_sizes.segments = {{0x80100000u, 2, {0, 0, 0, 0}}};  // filesz > memsz
  EXPECT_NE(ParseError(BuildElf(bad_sizes)).find("filesz > memsz"), std::string::npos);
  ElfSpec wraps;
  wraps.segments = {{0x9FFFF000u, 0x2000, {0}}};  // runs past the 512 MiB window
  EXPECT_NE(ParseError(BuildElf(wraps)).find("not inside kseg0/kseg1"), std::string::npos);
}

TEST(ElfLoader, MissingFileNamesTheFile) {
  vmm::ElfImage img;
  std::string err;
  EXPECT_FALSE(vmm::LoadElfFile("/nonexistent/kernel.elf", &img, &err));
  EXPECT_NE(err.find("/nonexistent/kernel.elf"), std::string::npos);
}

}  // namespace
}  // namespace strobe::test
