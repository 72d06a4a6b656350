// SPDX-License-Identifier: MIT
// virtio-rng under Debian's kernel (virtio_rng, loaded by its modalias from the initramfs), against
// qemu-system-mipsel (the oracle nobody here wrote): both VMMs boot the same command line with an
// rng-random object reading a host file of counting bytes, and the guest's view (the PCI function, the
// current hwrng, the bytes /dev/hwrng returns, in the order the driver's double buffering hands them out)
// must be the same. Then, under Strobe, a second device fed by the host (rng-builtin) with QEMU's rate limit:
// max-bytes per period holds the guest's reads back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"

namespace strobe::test {
namespace {

class LinuxRng : public LinuxTest {};

constexpr const char* kQemu = "/usr/bin/qemu-system-mipsel";

std::vector<std::string> Machine(const std::string& vmm, const std::string& file) {
  std::vector<std::string> a = {vmm};
  if (vmm == STROBE_BINARY) a.push_back("run");
  for (const std::string& s : {"-M", "malta", "-m", "256", "-cpu", "24Kf", "-nographic", "-no-reboot"})
    a.push_back(s);
  // rng_core.default_quality=0: the kernel's hwrng thread does not draw from the device by itself, so
  // what /dev/hwrng returns depends only on the reads below.
  a.insert(a.end(), {"-kernel", LinuxDir() + "/vmlinuz", "-initrd", LinuxDir() + "/initramfs.cpio.gz",
                     "-append", "console=ttyS0 rng_core.default_quality=0", "-object",
                     "rng-random,id=r0,filename=" + file, "-device", "virtio-rng-pci,rng=r0,id=rng0",
                     "-device", "virtio-rng-pci,max-bytes=64,period=60000"});
  return a;
}

// Short commands: a line wider than the terminal comes back re-drawn in the echo.
const char* const kLook[] = {"P=/sys/bus/pci/devices/0000:00:13.0; R=/sys/class/misc/hw_random",
                             "cat $P/vendor $P/device $P/class $P/subsystem_device $P/irq",
                             "cat $R/rng_available $R/rng_current",
                             "dd if=/dev/hwrng bs=100 count=3 2>/dev/null | od -An -tx1 -v"};

TEST_F(LinuxRng, FileBytesReachTheGuestAsUnderQemuAndMaxBytesHoldsReadsBack) {
  ASSERT_EQ(access(kQemu, X_OK), 0) << kQemu << " is missing: tools/setup-deps.sh installs it";
  const std::string file = ::testing::TempDir() + "strobe_rng_" + std::to_string(getpid()) + ".bin";
  {
    std::ofstream f(file, std::ios::binary);
    for (int i = 0; i < 65536; ++i) f.put(static_cast<char>(i & 0xFF));
  }
  std::string seen[2];
  for (int i = 0; i < 2; ++i) {
    ConsoleSession s(Machine(i == 0 ? STROBE_BINARY : kQemu, file));
    ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
    for (const char* cmd : kLook) seen[i] += Shell(s, cmd);
    if (i == 0) {
      // The rate-limited device (64 bytes a minute, the driver's probe took its share already): a read of
      // 256 bytes gets at most 64 within the 3 seconds it is given.
      Shell(s, "echo virtio_rng.1 > /sys/class/misc/hw_random/rng_current");
      Shell(s, "timeout 3 dd if=/dev/hwrng of=/root/r bs=64 count=4 2>/dev/null");
      const std::string n = Shell(s, "wc -c < /root/r");
      EXPECT_TRUE(n == "0\n" || n == "32\n" || n == "64\n") << n;
    }
    s.Send("poweroff -f\n");
    s.Wait(60);
  }
  unlink(file.c_str());
  // 00:13.0: the default VGA's slot 0x12 comes first, under both.
  EXPECT_EQ(seen[0].substr(0, seen[0].find("virtio_rng.0 virtio_rng.1")),
            "0x1af4\n0x1005\n0x00ff00\n0x0004\n10\n");
  EXPECT_NE(seen[0].find("virtio_rng.0 virtio_rng.1 \nvirtio_rng.0\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find(" 60 61 62 63"), std::string::npos) << seen[0];  // bytes of the file
  EXPECT_EQ(seen[0], seen[1]) << "Strobe, then QEMU";
}

}  // namespace
}  // namespace strobe::test
