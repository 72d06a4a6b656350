// SPDX-License-Identifier: MIT
// What the Linux disk tests share (IDE: linux_disk_test.cpp, virtio: linux_virtio_test.cpp): images with
// known contents made on the host, their checks, and a fixture that boots with disk options and a scratch
// folder of its own.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {

inline constexpr const char* kSbinPath = "PATH=/usr/sbin:/sbin:/usr/bin:/bin";

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Pseudo-random bytes from a seed: the disk's known content.
inline std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

inline std::string Sha256(const std::string& path) {
  ProcessResult r = RunProcess({"/usr/bin/sha256sum", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, 64);
}

// What `yes WORD | head -c n` prints.
inline std::string Yes(const std::string& word, size_t n) {
  std::string s;
  while (s.size() < n) s += word + "\n";
  return s.substr(0, n);
}

class LinuxDisk : public LinuxTest {
 protected:
  void SetUp() override {
    LinuxTest::SetUp();
    if (Unready()) return;
    // Unique to the test and the process: another checkout's test run may use the same temporary folder.
    dir_ = ::testing::TempDir() + "strobe_disk_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + std::to_string(getpid());
    RunProcess({"/bin/rm", "-rf", dir_});
    ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", dir_ + "/files"}).exit_code, 0);
  }
  void TearDown() override { RunProcess({"/bin/rm", "-rf", dir_}); }

  // Boots with the given disk options and waits for the shell; the disks are probed by then (rcS loads
  // ata_piix, virtio_blk and virtio_pci, whose modprobes return after the scans).
  std::unique_ptr<ConsoleSession> Boot(std::vector<std::string> disks) {
    auto s = std::make_unique<ConsoleSession>(BootArgs(disks));
    EXPECT_TRUE(s->Expect(kPrompt, kBootTimeout)) << s->output();
    boot_log_ = s->output();
    Shell(*s, "dmesg -n 1");  // kernel messages (ext4 mounts, drop_caches) stay off the commands' output
    return s;
  }

  // An ext4 image of `size` (mke2fs syntax) made on the host from the files in dir_/files.
  void MakeExt4(const std::string& image, const std::string& size) {
    ProcessResult mk = RunProcess(
        {"/bin/sh", "-c",
         std::string(kSbinPath) + "; mke2fs -q -F -t ext4 -d " + dir_ + "/files " + image + " " + size});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
  }
  // 8 KiB of `yes WORD` written at 400 KiB of /dev/DEV and flushed; *expected (the disk's content) gets
  // them too, and the guest, its page cache dropped, reads the whole disk back as *expected.
  void WriteAndReread(ConsoleSession& s, const std::string& dev, const std::string& word,
                      std::string* expected) {
    const std::string pattern = Yes(word, 8192);
    Shell(s, "yes " + word + "|head -c 8192|dd of=/dev/" + dev + " bs=4k seek=100 conv=fsync");
    expected->replace(100 * 4096, pattern.size(), pattern);
    WriteFile(dir_ + "/expected.img", *expected);
    EXPECT_EQ(Shell(s, "echo 3 > /proc/sys/vm/drop_caches; sha256sum /dev/" + dev).substr(0, 64),
              Sha256(dir_ + "/expected.img"));
  }
  // After the run, on the host: the guest's ext4 image is clean (e2fsck -fn) and its /seq.txt holds
  // `seq 1 20000`.
  void CheckExt4(const std::string& image) {
    ProcessResult fsck = RunProcess({"/bin/sh", "-c", std::string(kSbinPath) + "; e2fsck -fn " + image});
    EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
    ProcessResult cat =
        RunProcess({"/bin/sh", "-c", std::string(kSbinPath) + "; debugfs -R 'cat /seq.txt' " + image});
    ProcessResult seq = RunProcess({"/usr/bin/seq", "1", "20000"});
    EXPECT_TRUE(cat.out == seq.out) << cat.err << cat.out.substr(0, 200);
  }

  std::string dir_;
  std::string boot_log_;
};

}  // namespace strobe::test
