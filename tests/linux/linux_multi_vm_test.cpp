// SPDX-License-Identifier: MIT
// Several VMs in one Strobe process (--vms, --vm): Debian's kernel and busybox boot side by side, share
// machine pages, and each VM's end is its own (one that fails does not take the others down).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/elf_builder.h"
#include "tests/support/process.h"
#include "vmm/monitor/json.h"

namespace strobe::test {
namespace {

class LinuxMultiVm : public LinuxTest {
 protected:
  void SetUp() override {
    LinuxTest::SetUp();
    if (Unready()) return;
    dir_ = ::testing::TempDir() + "strobe_multi_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str());
  }
  // The run's --stats-json file (an unparsable one is a failure, and an empty object).
  vmm::mon::Json Stats() {
    vmm::mon::Json stats;
    std::string error;
    if (!vmm::mon::ParseJson(Read("stats.json"), &stats, &error)) ADD_FAILURE() << "stats.json: " << error;
    return stats;
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_;
};

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

double Number(const vmm::mon::Json& j, const std::string& key) {
  const vmm::mon::Json* v = j.Find(key);
  return v ? v->number() : -1;
}

TEST_F(LinuxMultiVm, TwoVmsBootTheSameImagesSharingMemoryAndPowerOff) {
  ProcessResult r = RunProcess(
      {STROBE_BINARY, "run", "-kernel", LinuxDir() + "/vmlinuz", "-initrd", LinuxDir() + "/initramfs.cpio.gz",
       "-append", "console=ttyS0 strobe.poweroff", "--vms", "2", "--console-dir", dir_, "--stats",
       "--stats-json", dir_ + "/stats.json", "--timeout", "400", "--code-cache", "off"},
      "", 2 * kBootTimeout);
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count(r.err, " ended: power-off"), 2u) << r.err;
  for (int i = 0; i < 2; ++i) {
    const std::string log = Read("vm" + std::to_string(i) + ".log");
    EXPECT_NE(log.find("Strobe: busybox"), std::string::npos) << "vm" << i << ": " << log.substr(0, 300);
    EXPECT_NE(log.find("reboot: Power down"), std::string::npos) << "vm" << i;
  }
  const vmm::mon::Json stats = Stats();
  const vmm::mon::Json* total = stats.Find("total");
  const vmm::mon::Json* vms = stats.Find("vms");
  ASSERT_TRUE(total && vms);
  ASSERT_EQ(vms->items().size(), 2u);
  // The same kernel and initramfs, and the pages the boots write alike: loosely, a quarter of what the
  // guests touched is saved (measured: 59% with 4 VMs; bench/multi_vm.py measures it precisely).
  const double touched = Number(*total, "guest_pages_touched"), saved = Number(*total, "pages_saved");
  EXPECT_GT(touched, 2 * 5000) << "each boot touches tens of MiB";
  EXPECT_GT(saved, touched / 4) << Read("stats.json");
  for (const vmm::mon::Json& vm : vms->items()) EXPECT_GT(Number(vm, "guest_pages_shared"), 1000);
  EXPECT_LE(Number(*total, "compiler_threads"), 2) << "one set of compiler threads for all VMs";
  EXPECT_GT(Number(*total, "tier1_regions"), 0);
  // The same kernel: much of one VM's translated code serves the other (measured: about as many regions
  // reused as compiled with 2 VMs). Without a code cache, so that what runs is compiled in this run.
  EXPECT_GT(Number(*total, "tier1_reused"), Number(*total, "tier1_regions") / 4) << Read("stats.json");
  // And the decoded blocks' instructions are kept once for both (measured: 0.64 of two copies).
  EXPECT_GT(Number(*total, "decoded_blocks"), 2 * 20000) << Read("stats.json");
  EXPECT_LT(Number(*total, "decoded_bytes"), 0.75 * Number(*total, "decoded_bytes_unshared"))
      << Read("stats.json");
}

// One VM powers off normally while the others end in every other way: a kernel panic, an emulation error
// (a bare-metal guest faulting with Status.BEV=1, no firmware to take it), and a timeout. Each end is
// reported on its own line; the run's status is that of the first VM that failed (the panic: 6).
TEST_F(LinuxMultiVm, AVmThatFailsEndsAloneWhileTheOthersFinish) {
  ElfSpec spec;
  // lui $t0, 0xc000; lw $t1, 0($t0): a TLB refill in kseg2 while BEV=1 (as the boot loader leaves it).
  spec.segments = {{0x80100000u, 8, {0x00, 0xC0, 0x08, 0x3C, 0x00, 0x00, 0x09, 0x8D}}};
  const std::vector<uint8_t> elf = BuildElf(spec);
  const std::string faulting = dir_ + "/fault.elf";
  std::ofstream(faulting, std::ios::binary)
      .write(reinterpret_cast<const char*>(elf.data()), static_cast<std::streamsize>(elf.size()));
  const std::string kernel = LinuxDir() + "/vmlinuz", initrd = LinuxDir() + "/initramfs.cpio.gz";
  ProcessResult r =
      RunProcess({STROBE_BINARY, "run", "-kernel", kernel, "-initrd", initrd, "-append",
                  "console=ttyS0 strobe.poweroff", "--console-dir", dir_, "--timeout", "400",  //
                  "--vm", "-kernel " + kernel + " -append 'console=ttyS0 root=/dev/sda1'", "--vm",
                  "-kernel " + faulting,  //
                  "--vm", "-kernel " + kernel + " -initrd " + initrd + " -append console=ttyS0 --timeout 2"},
                 "", 2 * kBootTimeout);
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("vm0 ended: power-off"), std::string::npos) << r.err;
  EXPECT_NE(
      r.err.find("vm1: guest panic: guest kernel panic: Kernel panic - not syncing: VFS: Unable to mount"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("vm2: error: guest took an exception while Status.BEV=1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("vm3: timeout: guest did not finish within 2 s"), std::string::npos) << r.err;
  EXPECT_NE(Read("vm0.log").find("reboot: Power down"), std::string::npos) << "vm0 finished its boot";
}

// Disk sharing (Disco's DMA interception): blocks that VMs read by DMA from one image nobody can write land
// in one machine page for all of them, and a write copies. VM 1 reads the whole image at boot, as a
// read-only virtio disk and as a CD (IDE bus-master DMA), and prints its sha256 each time; then VM 0, on
// the terminal, has the same image twice: vda with -snapshot, vdb read-only. Its reads of both map VM 1's
// pages; its write to vda copies the page it writes, so vdb (and the page VM 1 had) still hold the image's
// bytes, while vda reads back what was written.
TEST_F(LinuxMultiVm, DiskBlocksReadByDmaShareOneMachinePageAndAWriteCopies) {
  const std::string kernel = LinuxDir() + "/vmlinuz", initrd = LinuxDir() + "/initramfs.cpio.gz";
  const std::string image = dir_ + "/disk.img", written = dir_ + "/written.img";
  // 8 MiB of random blocks; `written` is the image as VM 0's write leaves vda: 16 zero blocks from 12 KiB.
  ASSERT_EQ(
      std::system(("head -c 8M /dev/urandom > '" + image + "' && cp '" + image + "' '" + written +
                   "' && dd if=/dev/zero of='" + written + "' bs=4k count=16 seek=3 conv=notrunc status=none")
                      .c_str()),
      0);
  auto sha = [&](const std::string& file) {
    ProcessResult r = RunProcess({"/usr/bin/sha256sum", file}, "", 30);
    return r.out.substr(0, 64);
  };
  const std::string original = sha(image), changed = sha(written);
  ASSERT_EQ(original.size(), 64u);
  ASSERT_NE(original, changed);
  ConsoleSession s({STROBE_BINARY,
                    "run",
                    "-kernel",
                    kernel,
                    "-initrd",
                    initrd,
                    "-append",
                    "console=ttyS0",
                    "-drive",
                    "file=" + image + ",format=raw,if=virtio,snapshot=on",
                    "-drive",
                    "file=" + image + ",format=raw,if=virtio,readonly=on",
                    "-nographic",
                    "--console-dir",
                    dir_,
                    "--stats",
                    "--stats-json",
                    dir_ + "/stats.json",
                    "--timeout",
                    "600",
                    "--vm",
                    "-kernel " + kernel + " -initrd " + initrd + " -drive file=" + image +
                        ",format=raw,if=virtio,readonly=on -cdrom " + image +
                        " -append 'console=ttyS0 strobe.sha256=/dev/vda strobe.sha256=/dev/sr0 "
                        "strobe.poweroff'"});
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(static_cast<int>(2 * kBootTimeout));
  auto wait_log = [&](int vm, const std::string& text) {
    while (std::chrono::steady_clock::now() < deadline) {
      if (Read("vm" + std::to_string(vm) + ".log").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  ASSERT_TRUE(wait_log(1, "strobe.sha256: " + original + "  /dev/vda")) << Read("vm1.log");
  ASSERT_TRUE(wait_log(1, "strobe.sha256: " + original + "  /dev/sr0")) << Read("vm1.log");
  ASSERT_TRUE(wait_log(0, "strobe:~# ")) << Read("vm0.log");
  s.Send(
      "sha256sum /dev/vda; dd if=/dev/zero of=/dev/vda bs=4k count=16 seek=3 conv=notrunc; sync; "
      "sha256sum /dev/vdb; echo 3 > /proc/sys/vm/drop_caches; sha256sum /dev/vda /dev/vdb; echo DO\"\"NE\n");
  ASSERT_TRUE(wait_log(0, "DONE")) << Read("vm0.log");
  const std::string log = Read("vm0.log");
  EXPECT_EQ(Count(log, original + "  /dev/vda"), 1u) << log;
  EXPECT_EQ(Count(log, original + "  /dev/vdb"), 2u) << "the write copied the page it changed: " << log;
  EXPECT_EQ(Count(log, changed + "  /dev/vda"), 1u) << log;
  s.Send("poweroff -f\n");
  EXPECT_EQ(s.Wait(60), 0) << s.output();
  const vmm::mon::Json stats = Stats();
  const vmm::mon::Json* total = stats.Find("total");
  ASSERT_TRUE(total);
  // 2,048 blocks: each read after VM 1's virtio one finds its pages (its CD; VM 0's vda and vdb, then both
  // again but the 16 written blocks).
  EXPECT_EQ(Number(*total, "disk_blocks_cached"), 2048) << Read("stats.json");
  EXPECT_GE(Number(*total, "disk_blocks_shared"), 4 * 2048 - 64) << Read("stats.json");
  EXPECT_NE(s.output().find("strobe: disk sharing: "), std::string::npos) << s.output();
}

// Disco's setup as people build it with QEMU's tools: one raw base, a qcow2 overlay per VM. What the VMs read
// of the base by DMA lands on one machine page for both; the base stays as it was and the overlays pass
// qemu-img check.
TEST_F(LinuxMultiVm, Qcow2OverlaysOverOneBaseShareItsBlocks) {
  const std::string qemu_img = "/usr/bin/qemu-img";
  ASSERT_EQ(access(qemu_img.c_str(), X_OK), 0)
      << "qemu-img is missing: tools/setup-deps.sh installs qemu-utils";
  const std::string kernel = LinuxDir() + "/vmlinuz", initrd = LinuxDir() + "/initramfs.cpio.gz";
  const std::string base = dir_ + "/base.img";
  ASSERT_EQ(std::system(("head -c 8M /dev/urandom > '" + base + "'").c_str()), 0);
  const std::string sha = RunProcess({"/usr/bin/sha256sum", base}).out.substr(0, 64);
  for (const char* vm : {"0", "1"})
    ASSERT_EQ(RunProcess({qemu_img, "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
                          dir_ + "/vm" + vm + ".qcow2"})
                  .exit_code,
              0);
  const std::string append = "console=ttyS0 strobe.sha256=/dev/vda strobe.poweroff";
  ProcessResult r = RunProcess({STROBE_BINARY,
                                "run",
                                "-kernel",
                                kernel,
                                "-initrd",
                                initrd,
                                "-append",
                                append,
                                "-drive",
                                "file=" + dir_ + "/vm0.qcow2,if=virtio",
                                "--console-dir",
                                dir_,
                                "--stats",
                                "--stats-json",
                                dir_ + "/stats.json",
                                "--timeout",
                                "400",
                                "--code-cache",
                                "off",
                                "--vm",
                                "-kernel " + kernel + " -initrd " + initrd + " -append '" + append +
                                    "' -drive file=" + dir_ + "/vm1.qcow2,if=virtio"},
                               "", 2 * kBootTimeout);
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < 2; ++i)
    EXPECT_NE(Read("vm" + std::to_string(i) + ".log").find("strobe.sha256: " + sha + "  /dev/vda"),
              std::string::npos)
        << Read("vm" + std::to_string(i) + ".log");
  const vmm::mon::Json stats = Stats();
  const vmm::mon::Json* total = stats.Find("total");
  ASSERT_TRUE(total);
  EXPECT_EQ(Number(*total, "disk_blocks_cached"), 2048) << Read("stats.json");
  // The second VM's reads of the 2,048 blocks find the first one's pages.
  EXPECT_GE(Number(*total, "disk_blocks_shared"), 2048) << Read("stats.json");
  EXPECT_EQ(RunProcess({"/usr/bin/sha256sum", base}).out.substr(0, 64), sha);
  for (const char* vm : {"0", "1"}) {
    ProcessResult check = RunProcess({qemu_img, "check", dir_ + "/vm" + vm + ".qcow2"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
}

// Two VMs on one in-process switch (-netdev hubport,hubid=0): VM 0, on the terminal, pings VM 1 and
// fetches a page from its web server; no frame leaves the process. Ctrl-A x then ends both.
TEST_F(LinuxMultiVm, TwoVmsTalkThroughTheMonitorsSwitch) {
  const std::string kernel = LinuxDir() + "/vmlinuz", initrd = LinuxDir() + "/initramfs.cpio.gz";
  const std::string nic = " -netdev hubport,id=sw,hubid=0 -device pcnet,netdev=sw";
  ConsoleSession s({STROBE_BINARY, "run", "-kernel", kernel, "-initrd", initrd, "-append",
                    "console=ttyS0 strobe.ip=10.0.9.1", "-netdev", "hubport,id=sw,hubid=0", "-device",
                    "pcnet,netdev=sw", "-nographic", "--console-dir", dir_, "--timeout", "600", "--vm",
                    "-kernel " + kernel + " -initrd " + initrd +
                        " -append 'console=ttyS0 strobe.ip=10.0.9.2 strobe.httpd'" + nic});
  // VM 0's console is in vm0.log (--console-dir); stdin still feeds it.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(static_cast<int>(kBootTimeout));
  auto wait_log = [&](int vm, const std::string& text) {
    while (std::chrono::steady_clock::now() < deadline) {
      if (Read("vm" + std::to_string(vm) + ".log").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  ASSERT_TRUE(wait_log(0, "strobe:~# ")) << Read("vm0.log");
  ASSERT_TRUE(wait_log(1, "strobe:~# ")) << Read("vm1.log");
  s.Send("ping -c 3 10.0.9.2 > /tmp/p; wget -qO- http://10.0.9.2/ > /tmp/w; cat /tmp/p /tmp/w\n");
  EXPECT_TRUE(wait_log(0, "3 packets transmitted, 3 packets received")) << Read("vm0.log");
  EXPECT_TRUE(wait_log(0, "hello from vm 10.0.9.2")) << Read("vm0.log");
  s.Send("\x01x");  // Ctrl-A x: ends every VM
  EXPECT_EQ(s.Wait(60), 0) << s.output();
  EXPECT_EQ(s.output().find("have one MAC address"), std::string::npos) << "each VM has its own";
}

// The terminal shows vm0 and takes its keys; Ctrl-A n moves it to vm1, where a command typed runs in vm1
// alone (its answer on the terminal and in vm1's log), and on again (wrapping) back to vm0.
TEST_F(LinuxMultiVm, CtrlANMovesTheTerminalsOutputAndKeysToTheNextVm) {
  const std::string kernel = LinuxDir() + "/vmlinuz", initrd = LinuxDir() + "/initramfs.cpio.gz";
  ConsoleSession s({STROBE_BINARY, "run", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
                    "-nographic", "--console-dir", dir_, "--timeout", "600", "--vm",
                    "-kernel " + kernel + " -initrd " + initrd + " -append 'console=ttyS0 marker=second'"});
  ASSERT_TRUE(s.Expect("the terminal shows vm0", 30)) << s.output();
  ASSERT_TRUE(s.Expect("strobe:~# ", kBootTimeout)) << s.output();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(static_cast<int>(kBootTimeout));
  auto wait_log = [&](int vm, const std::string& text) {
    while (std::chrono::steady_clock::now() < deadline) {
      if (Read("vm" + std::to_string(vm) + ".log").find(text) != std::string::npos) return true;
      s.Expect("never printed", 0.2);  // keeps the terminal's pipe drained
    }
    return false;
  };
  ASSERT_TRUE(wait_log(1, "strobe:~# ")) << Read("vm1.log");
  s.Send("\x01n");
  ASSERT_TRUE(s.Expect("[strobe: console -> vm1]\r\n", 10)) << s.output();
  const size_t mark = s.cursor();
  s.Send("cat /proc/cmdline; echo answer-$((6*7))\n");
  ASSERT_TRUE(s.Expect("answer-42", 60)) << s.output().substr(mark);
  EXPECT_NE(s.Since(mark).find("marker=second"), std::string::npos) << s.Since(mark);
  EXPECT_TRUE(wait_log(1, "answer-42")) << Read("vm1.log");
  s.Send("\x01n");
  ASSERT_TRUE(s.Expect("[strobe: console -> vm0]\r\n", 10)) << s.output();
  s.Send("echo back-$((1+1))\n");
  EXPECT_TRUE(s.Expect("back-2", 60)) << s.output();
  EXPECT_TRUE(wait_log(0, "back-2")) << Read("vm0.log");
  // Each log has its own VM's session only.
  EXPECT_EQ(Read("vm0.log").find("answer-"), std::string::npos) << "vm1's command reached vm0";
  EXPECT_EQ(Read("vm1.log").find("back-"), std::string::npos) << "vm0's command reached vm1";
  s.Send("\x01x");
  EXPECT_EQ(s.Wait(60), 0) << s.output();
}

TEST_F(LinuxMultiVm, WholeRunOptionsAndBadVmStringsAreRefused) {
  const std::string kernel = LinuxDir() + "/vmlinuz";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--vms", "2", "-gdb", "tcp::65535"}, "-gdb: vm1 would need port 65536"},  // VM i: PORT + i
      {{"--vms", "2", "-monitor", "stdio", "-serial", "null"}, "several VMs share the terminal"},
      {{"--vm", "-kernel " + kernel + " --jit-opt 1"}, "--jit-opt applies to the whole run"},
      {{"--vm", "-kernel " + kernel + " --code-cache off"}, "--code-cache applies to the whole run"},
      {{"--vm", "-kernel '" + kernel}, "unterminated ' quote"},
      {{"--vm", "-kernel /nonexistent"}, "vm1"},
      {{"--vms", "0"}, "bad --vms '0'"},
      {{"--vms", "2", "--page-sharing", "maybe"}, "bad --page-sharing"},
      {{"--vm", "-m 1G", "--vms", "64"}, "too many VMs"},
      {{"-netdev", "hubport,id=x"}, "parameter 'hubid' is missing"},
      {{"-netdev", "hubport,id=x,hubid=z"}, "bad hubid 'z'"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {STROBE_BINARY, "run", "-kernel", kernel};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ProcessResult r = RunProcess(argv, "", 60);
    EXPECT_NE(r.exit_code, 0) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
}

}  // namespace
}  // namespace strobe::test
