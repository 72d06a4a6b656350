// SPDX-License-Identifier: MIT
#include "vmm/elf_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

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
}

TEST(ElfLoader, AcceptsAnyElfTypeAsQemuDoes) {
  // QEMU's loader looks only at the program headers: an ET_DYN linked at kseg0 runs like an ET_EXEC.
  ElfSpec dyn;
  dyn.type = 3;
  vmm::ElfImage img;
  std::string err;
  EXPECT_TRUE(vmm::ParseElf(BuildElf(dyn), &img, &err)) << err;
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
  ElfSpec user_entry;  // QEMU would run it as a KVM trap-and-emulate kernel
  user_entry.entry = 0x00400000u;
  user_entry.segments = {{0x00400000u, 4, {0, 0, 0, 0}}};
  EXPECT_NE(ParseError(BuildElf(user_entry)).find("entry point 0x00400000 is in useg"), std::string::npos);
  ElfSpec unaligned;
  unaligned.entry = 0x80100002u;
  EXPECT_NE(ParseError(BuildElf(unaligned)).find("not word-aligned"), std::string::npos);
  ElfSpec bad_sizes;
  bad_sizes.segments = {{0x80100000u, 2, {0, 0, 0, 0}}};  // filesz > memsz
  EXPECT_NE(ParseError(BuildElf(bad_sizes)).find("filesz > memsz"), std::string::npos);
  ElfSpec wraps;
  wraps.segments = {{0x9FFFF000u, 0x2000, {0}}};  // runs past the 512 MiB window
  EXPECT_NE(ParseError(BuildElf(wraps)).find("runs past the 512 MiB physical window"), std::string::npos);
  ElfSpec overlap;  // a kseg0 and a useg copy of the same physical bytes: QEMU refuses overlapping ROMs
  overlap.segments = {{0x80100000u, 8, {1, 2, 3, 4, 5, 6, 7, 8}}, {0x00100004u, 4, {9, 9, 9, 9}}};
  EXPECT_NE(ParseError(BuildElf(overlap)).find("overlap in physical memory at 0x00100004"),
            std::string::npos);
}

TEST(ElfLoader, MapsEverySegmentLikeQemusMaltaLoader) {
  // QEMU: physical = p_paddr & 0x1FFFFFFF, for useg (lld's ELF-header segment), kseg0, kseg1 and kseg2.
  ElfSpec spec;
  spec.segments = {{0x00010000u, 0x134, {0x7F, 'E', 'L', 'F'}},
                   {0x80100000u, 8, {1, 2, 3, 4}},
                   {0xA0200000u, 4, {5}},
                   {0xC0300000u, 4, {6}},
                   {0x80400000u, 4, {7}, 0x80500000u}};  // p_paddr differs: p_paddr wins, as in QEMU
  vmm::ElfImage img;
  std::string err;
  ASSERT_TRUE(vmm::ParseElf(BuildElf(spec), &img, &err)) << err;
  ASSERT_EQ(img.segments.size(), 5u);
  EXPECT_EQ(img.segments[0].paddr, 0x00010000u);
  EXPECT_EQ(img.segments[1].paddr, 0x00100000u);
  EXPECT_EQ(img.segments[2].paddr, 0x00200000u);
  EXPECT_EQ(img.segments[3].paddr, 0x00300000u);
  EXPECT_EQ(img.segments[4].paddr, 0x00500000u);
  EXPECT_EQ(img.entry, 0x80100000u);  // the entry point is used as it is

  ElfSpec tail;  // a zero-filled tail under a later segment's bytes is allowed (QEMU cuts the tail short)
  tail.segments = {{0x80100000u, 0x100, {1, 2, 3, 4}}, {0x80100080u, 4, {5, 6, 7, 8}}};
  EXPECT_TRUE(vmm::ParseElf(BuildElf(tail), &img, &err)) << err;
}

TEST(ElfLoader, MissingFileNamesTheFile) {
  vmm::ElfImage img;
  std::string err;
  EXPECT_FALSE(vmm::LoadElfFile("/nonexistent/kernel.elf", &img, &err));
  EXPECT_NE(err.find("/nonexistent/kernel.elf"), std::string::npos);
  EXPECT_FALSE(vmm::LoadElfFile("/tmp", &img, &err));
  EXPECT_EQ(err, "/tmp: a directory, not a file");
}

TEST(HostFile, RefusesWhatIsNotARegularFileOfSaneSize) {
  std::vector<uint8_t> bytes;
  std::string err;
  EXPECT_FALSE(vmm::ReadHostFile("/dev/zero", 1 << 20, &bytes, &err));
  EXPECT_EQ(err, "/dev/zero: a character device, not a file");
  const std::string path = ::testing::TempDir() + "strobe_host_file_" + std::to_string(getpid());
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fputs("12345", f);
    std::fclose(f);
  }
  EXPECT_FALSE(vmm::ReadHostFile(path, 4, &bytes, &err));
  EXPECT_NE(err.find("file of 5 bytes"), std::string::npos) << err;
  ASSERT_TRUE(vmm::ReadHostFile(path, 5, &bytes, &err)) << err;
  EXPECT_EQ(bytes, (std::vector<uint8_t>{'1', '2', '3', '4', '5'}));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace strobe::test
