// SPDX-License-Identifier: MIT
// Disk options on the strobe command line: every bad image gets one line and status 1, every bad option one
// line and status 2, a second VM on a writable image is refused, and a good command line runs with its IDE
// and virtio disks and CD-ROM drives (the bundled demo guest, which leaves them alone).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "tests/support/cli_expect.h"
#include "tests/support/process.h"
#include "vmm/block/raw_image.h"

namespace strobe::test {
namespace {

ProcessResult Strobe(std::vector<std::string> args) {
  args.insert(args.begin(), {STROBE_BINARY, "run"});
  return RunProcess(args, "", 30);
}

// As an unprivileged user: root may write read-only files and read unreadable ones. (Without a code cache:
// nobody may not write root's ~/.cache, and the warning that says so would be the only output.)
ProcessResult StrobeAsNobody(std::vector<std::string> args) {
  args.insert(args.begin(), {STROBE_BINARY, "run", "--code-cache", "off"});
  if (geteuid() == 0)
    args.insert(args.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  return RunProcess(args, "", 30);
}

bool CanDropPrivileges() {
  return geteuid() != 0 || access("/usr/bin/setpriv", X_OK) == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// An image file removed at the end of the test; the name is unique to the test and process.
struct Image {
  explicit Image(const std::string& name, size_t size, const std::string& head = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = ::testing::TempDir() + "strobe_disk_" + info->name() + "_" + std::to_string(getpid()) + "_" + name;
    std::string bytes(size, '\x5a');
    bytes.replace(0, std::min(head.size(), size), head.substr(0, size));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~Image() { std::remove(path.c_str()); }
  std::string path;
};

// The image checks passed and the VM ran (the bundled demo guest, which powers off).
void ExpectRuns(const ProcessResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Hello from Strobe guest"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

// --- Bad images: status 1 ---

TEST(DiskCli, ADirectoryDeviceFifoOrMissingFileIsNotADisk) {
  ExpectOneLineFailure(Strobe({"-hda", "/tmp"}), "strobe: /tmp: a directory, not a disk image");
  ExpectOneLineFailure(Strobe({"-hdb", "/dev/null"}),
                       "strobe: /dev/null: a character device, not a disk image");
  ExpectOneLineFailure(Strobe({"-drive", "file=/dev/zero,format=raw"}), "/dev/zero: a character device");
  ExpectOneLineFailure(Strobe({"-cdrom", "/nonexistent/cd.iso"}),
                       "strobe: /nonexistent/cd.iso: No such file or directory");
  ExpectOneLineFailure(Strobe({"-cdrom", "/tmp"}), "strobe: /tmp: a directory, not a disk image");
  const std::string fifo = ::testing::TempDir() + "strobe_disk_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ProcessResult r = Strobe({"-hda", fifo});  // must not wait for a writer
  std::remove(fifo.c_str());
  ExpectOneLineFailure(r, fifo + ": a FIFO, not a disk image");
}

TEST(DiskCli, EmptyAndOddSizedFilesAreRefused) {
  Image empty("empty.img", 0), odd("odd.img", 1000);
  ExpectOneLineFailure(Strobe({"-hda", empty.path}),
                       "empty file (a disk image holds at least one 512-byte sector)");
  ExpectOneLineFailure(Strobe({"-hda", odd.path}),
                       "size of 1000 bytes is not a whole number of 512-byte sectors");
  // A CD-ROM image is whole 2048-byte blocks, and a partial one at its end is left out (as QEMU does with
  // a partial block of up to 1536 bytes); it needs one whole block.
  ExpectOneLineFailure(Strobe({"-cdrom", empty.path}), "empty file");
  ExpectOneLineFailure(Strobe({"-cdrom", odd.path}),
                       "size of 1000 bytes is less than one 2048-byte CD-ROM block");
  Image odd_cd("odd.iso", 5000);
  ExpectRuns(Strobe({"-cdrom", odd_cd.path}));
}

// A file that starts like a qcow2 image is opened as one (a magic number followed by filler is refused as a
// damaged header); other formats name qemu-img convert; format=raw uses the bytes as they are.
TEST(DiskCli, ImagesInOtherFormatsAreReadAsQcow2OrNameQemuImgConvert) {
  Image qcow2("disk.qcow2", 65536, std::string("QFI\xfb\0\0\0\3", 8));
  const std::string damaged = qcow2.path + ": cluster size 2^1515870810 is outside 512 bytes to 2 MiB";
  ExpectOneLineFailure(Strobe({"-hda", qcow2.path}), damaged);
  ExpectOneLineFailure(Strobe({"-drive", "file=" + qcow2.path + ",format=qcow2"}), damaged);
  ExpectRuns(Strobe({"-drive", "file=" + qcow2.path + ",format=raw"}));
  Image vmdk("disk.vmdk", 65536, "KDMV");
  ExpectOneLineFailure(Strobe({"-hda", vmdk.path}),
                       "a vmdk image, not a raw one; Strobe reads raw and qcow2 images only: "
                       "convert it with qemu-img convert -f vmdk -O raw");
  ExpectRuns(Strobe({"-drive", "file=" + vmdk.path + ",format=raw"}));
  ExpectOneLineFailure(Strobe({"-drive", "file=" + vmdk.path + ",format=vmdk"}),
                       "format=vmdk is not supported: Strobe reads raw and qcow2 images only", 2);
}

TEST(DiskCli, AReadOnlyFileNeedsReadonlyOnOrSnapshot) {
  if (!CanDropPrivileges()) GTEST_SKIP() << "root, and no setpriv";
  Image ro("ro.img", 4096);
  ASSERT_EQ(chmod(ro.path.c_str(), 0444), 0);
  ExpectOneLineFailure(StrobeAsNobody({"-hda", ro.path}),
                       ro.path +
                           ": the file is read-only (Permission denied): use -snapshot, or readonly=on (with "
                           "if=virtio or media=cdrom)");
  ExpectRuns(StrobeAsNobody({"-hda", ro.path, "-snapshot"}));
  ExpectRuns(StrobeAsNobody({"-drive", "file=" + ro.path + ",if=virtio,readonly=on"}));
  ExpectRuns(StrobeAsNobody({"-cdrom", ro.path}));  // a CD-ROM drive only reads
  // -blockdev's auto-read-only=on (libvirt sets it): the file opens read-only instead, which a virtio disk
  // takes and an IDE hard disk refuses, as QEMU's; without it the file is refused as with -drive.
  const std::string node = "driver=file,node-name=f0,filename=" + ro.path;
  ExpectRuns(
      StrobeAsNobody({"-blockdev", node + ",auto-read-only=on", "-device", "virtio-blk-pci,drive=f0"}));
  ExpectOneLineFailure(
      StrobeAsNobody({"-blockdev", node + ",auto-read-only=on", "-device", "ide-hd,drive=f0"}),
      "-blockdev " + node + ",auto-read-only=on: Block node is read-only");
  ExpectOneLineFailure(StrobeAsNobody({"-blockdev", node, "-device", "virtio-blk-pci,drive=f0"}),
                       ro.path + ": the file is read-only (Permission denied)");
}

TEST(DiskCli, AnUnreadableFileIsRefused) {
  if (!CanDropPrivileges()) GTEST_SKIP() << "root, and no setpriv";
  Image secret("secret.img", 4096);
  ASSERT_EQ(chmod(secret.path.c_str(), 0), 0);
  ExpectOneLineFailure(StrobeAsNobody({"-hda", secret.path}), secret.path + ": Permission denied");
}

// --- Locks: a second VM ---

TEST(DiskCli, ASecondVmOnAWritableImageIsRefused) {
  Image disk("disk.img", 65536);
  std::string error;
  auto vm1 = vmm::block::RawImage::Open(disk.path, {}, &error);  // this process plays the first VM
  ASSERT_NE(vm1, nullptr) << error;
  const std::string locked = ": the image is locked by another process (is another VM using it?)";
  ExpectOneLineFailure(Strobe({"-hda", disk.path}), disk.path + locked);
  ExpectOneLineFailure(Strobe({"-hda", disk.path, "-snapshot"}), disk.path + locked);
  ExpectOneLineFailure(Strobe({"-drive", "file=" + disk.path + ",if=virtio,readonly=on"}),
                       disk.path + locked);
  vm1.reset();
  vmm::block::RawOpenOptions ro;
  ro.read_only = true;
  auto reader = vmm::block::RawImage::Open(disk.path, ro, &error);  // a reader shares with readers
  ASSERT_NE(reader, nullptr) << error;
  ExpectRuns(Strobe({"-drive", "file=" + disk.path + ",if=virtio,readonly=on"}));
  ExpectRuns(Strobe({"-hda", disk.path, "-snapshot"}));
  ExpectOneLineFailure(Strobe({"-hda", disk.path}), disk.path + locked);
}

TEST(DiskCli, TheSameImageTwiceInOneVmIsRefused) {
  Image disk("disk.img", 65536);
  ExpectOneLineFailure(Strobe({"-hda", disk.path, "-hdb", disk.path}), disk.path + ": the image is locked");
}

// --- Bad options: status 2 ---

TEST(DiskCli, BadOptionsAreUsageErrors) {
  Image disk("disk.img", 4096);
  const std::string f = "file=" + disk.path;
  ExpectOneLineFailure(Strobe({"-drive", f + ",colour=red"}), "unknown key 'colour'", 2);
  ExpectOneLineFailure(Strobe({"-drive", disk.path}), "did you mean file=" + disk.path, 2);
  ExpectOneLineFailure(Strobe({"-drive", f + ",if=scsi"}), "if=scsi is not available on Malta", 2);
  ExpectOneLineFailure(Strobe({"-drive", f + ",if=usb"}), "unsupported bus type 'usb'", 2);
  ExpectOneLineFailure(Strobe({"-drive", f + ",format=vmdk"}), "format=vmdk is not supported", 2);
  ExpectOneLineFailure(Strobe({"-drive", f + ",index=4"}), "Malta has no if=ide,bus=2,unit=0", 2);
  ExpectOneLineFailure(Strobe({"-hda", disk.path, "-drive", f + ",index=0"}),
                       "drive with bus=0, unit=0 (index=0) exists", 2);
  ExpectOneLineFailure(Strobe({"-device", "virtio-blk-pci,drive=nope"}),
                       "no -drive (id=) or -blockdev (node-name=) is named 'nope'", 2);
  ExpectOneLineFailure(Strobe({"-drive", "if=virtio"}), "-drive if=virtio: a disk needs an image (file=)", 2);
  ExpectOneLineFailure(Strobe({"-drive", f + ",if=none,id=d0", "-device", "virtio-blk-pci,drive=d0",
                               "-device", "virtio-blk-pci,drive=d0"}),
                       "Drive 'd0' is already in use by another device", 2);
  ExpectOneLineFailure(Strobe({"-drive", f + ",if=virtio,id=v0", "-device", "virtio-blk-pci,drive=v0"}),
                       "Drive 'v0' is already in use because it has been automatically connected", 2);
  std::vector<std::string> fifteen;
  for (int i = 0; i < 15; ++i) fifteen.insert(fifteen.end(), {"-drive", f + ",if=virtio,readonly=on"});
  ExpectOneLineFailure(Strobe(fifteen), "no free PCI slot", 2);
  ExpectOneLineFailure(Strobe({"-device", "e1000"}), "NIC model 'e1000' is not emulated", 2);
  ExpectOneLineFailure(Strobe({"-blockdev", "driver=file,filename=x"}),
                       "'node-name' must be specified for the root node", 2);
  ExpectOneLineFailure(Strobe({"-blockdev", "{\"driver\": \"file\","}),
                       "-blockdev {\"driver\": \"file\",:", 2);
  ExpectOneLineFailure(Strobe({"-blockdev", "driver=raw,node-name=d0,file.driver=file,file.filename=" +
                                                disk.path + ",file.x=1"}),
                       "unknown key 'x' of driver=file", 2);
  ExpectOneLineFailure(
      Strobe({"-blockdev", "driver=file,node-name=d0,filename=" + disk.path + ",read-only=on", "-device",
              "ide-hd,drive=d0"}),
      "-device ide-hd,drive=d0: Block node is read-only", 2);
}

// --- What works ---

TEST(DiskCli, IdeAndVirtioDisksAndCdromDrivesRun) {
  Image a("a.img", 65536), b("b.img", 65536), cd("cd.iso", 8192);
  ExpectRuns(Strobe({"-hda", a.path, "-hdb", b.path, "-drive", "file=" + cd.path + ",index=3,format=raw"}));
  ExpectRuns(Strobe({"-drive", "file=" + a.path + ",if=none,id=d0,format=raw", "-device",
                     "virtio-blk-pci,drive=d0", "-hdb", b.path, "-snapshot"}));
  ExpectRuns(Strobe({"-hda", a.path, "-cdrom", cd.path}));
  ExpectRuns(Strobe({"-drive", "if=ide,media=cdrom,index=3"}));  // a drive with no disc
  // A CD image shares its lock with readers, as QEMU's: two drives (or VMs) may read one image.
  ExpectRuns(Strobe({"-cdrom", cd.path, "-drive", "file=" + cd.path + ",media=cdrom,index=3"}));
  // -blockdev nodes and -device ide-hd/ide-cd/virtio-blk-pci, and an if=none drive on ide-hd.
  ExpectRuns(Strobe({"-blockdev", "driver=raw,node-name=d0,file.driver=file,file.filename=" + a.path,
                     "-device", "ide-hd,drive=d0,bus=ide.1", "-blockdev",
                     R"({"driver":"file","node-name":"c0","filename":")" + cd.path + R"(","read-only":true})",
                     "-device", "ide-cd,drive=c0", "-device", "ide-cd"}));
  ExpectRuns(Strobe({"-drive", "file=" + a.path + ",if=none,id=d0", "-device", "ide-hd,drive=d0", "-blockdev",
                     "driver=file,node-name=v0,filename=" + b.path, "-device", "virtio-blk,drive=v0"}));
  // A node no device uses is opened all the same (as QEMU does): a missing image is an error.
  ExpectOneLineFailure(Strobe({"-blockdev", "driver=file,node-name=f0,filename=/nonexistent/x.img"}),
                       "strobe: /nonexistent/x.img: No such file or directory");
  EXPECT_EQ(ReadAll(a.path), std::string(65536, '\x5a'));
}

TEST(DiskCli, SnapshotAloneAndUnusedDrivesRunAsInQemu) {
  ProcessResult r = Strobe({"-snapshot"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Hello from Strobe guest"), std::string::npos) << r.out;
  Image spare("spare.img", 4096);
  ProcessResult n = Strobe({"-drive", "file=" + spare.path + ",if=none,id=spare"});
  EXPECT_EQ(n.exit_code, 0) << n.err;
  EXPECT_EQ(n.err, "");
}

}  // namespace
}  // namespace strobe::test
