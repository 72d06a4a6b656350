// SPDX-License-Identifier: MIT
// vmm/block: the raw image backend (I/O, bad input, QEMU-compatible locks), the -snapshot overlay, the
// write guard of probed images and the I/O worker with its completion list.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "vmm/block/block_queue.h"
#include "vmm/block/drive.h"
#include "vmm/block/image_format.h"
#include "vmm/block/raw_image.h"
#include "vmm/block/snapshot_overlay.h"

namespace strobe::test {
namespace {

using namespace vmm::block;

// A path unique to this test and process (ctest runs tests in parallel processes).
std::string TempPath(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return ::testing::TempDir() + "strobe_block_" + info->name() + "_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Bytes that differ at every offset, so that a misplaced read or write shows.
std::string Pattern(size_t size, uint32_t seed = 1) {
  std::string s(size, '\0');
  uint32_t x = seed * 2654435761u + 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 23);
  }
  return s;
}

// A file removed when the test ends.
struct TempImage {
  explicit TempImage(const std::string& name, const std::string& bytes) : path(TempPath(name)) {
    WriteAll(path, bytes);
  }
  ~TempImage() { std::remove(path.c_str()); }
  std::string path;
};

std::unique_ptr<RawImage> Open(const std::string& path, RawOpenOptions options, std::string* error) {
  return RawImage::Open(path, options, error);
}

std::string OpenError(const std::string& path, RawOpenOptions options = {}) {
  std::string error;
  auto image = RawImage::Open(path, options, &error);
  EXPECT_EQ(image, nullptr);
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  return error;
}

// RawImage::Open in a child process running as nobody (root reads and writes every file). "" on success.
std::string OpenErrorAsNobody(const std::string& path, RawOpenOptions options = {}) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0 && (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0))
      _exit(2);
    std::string error;
    auto image = RawImage::Open(path, options, &error);
    if (image) error.clear();
    (void)!write(fds[1], error.data(), error.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed to drop privileges";
  return out;
}

// --- RawImage: I/O ---

TEST(RawImage, ReadWriteAndFlushRoundTripThroughTheFile) {
  std::string model = Pattern(64 * 1024);
  TempImage file("disk.img", model);
  std::string error;
  auto image = Open(file.path, {}, &error);
  ASSERT_NE(image, nullptr) << error;
  EXPECT_EQ(image->size(), 64u * 1024);
  EXPECT_FALSE(image->read_only());
  EXPECT_TRUE(image->probed());

  std::string got(3000, '\0');
  ASSERT_EQ(image->Read(1001, got.data(), got.size()), 0);
  EXPECT_EQ(got, model.substr(1001, 3000));

  const std::string data = Pattern(5000, 7);
  ASSERT_EQ(image->Write(777, data.data(), data.size()), 0);
  model.replace(777, data.size(), data);
  // A scatter list: three buffers, consecutive on the disk.
  std::string a = Pattern(512, 2), b = Pattern(100, 3), c = Pattern(4096, 4);
  iovec out[] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
  ASSERT_EQ(image->WriteV(40000, out, 3), 0);
  model.replace(40000, a.size() + b.size() + c.size(), a + b + c);
  ASSERT_EQ(image->Flush(), 0);

  std::string x(600, '\0'), y(4108, '\0');
  iovec in[] = {{x.data(), x.size()}, {y.data(), y.size()}};
  ASSERT_EQ(image->ReadV(40000, in, 2), 0);
  EXPECT_EQ(x + y, model.substr(40000, 4708));
  image.reset();
  EXPECT_EQ(ReadAll(file.path), model);
}

TEST(RawImage, AccessBeyondTheEndIsRefused) {
  TempImage file("disk.img", Pattern(4096));
  std::string error;
  auto image = Open(file.path, {}, &error);
  ASSERT_NE(image, nullptr) << error;
  char buf[512];
  EXPECT_EQ(image->Read(4096 - 511, buf, 512), EINVAL);
  EXPECT_EQ(image->Write(4096, buf, 1), EINVAL);
  EXPECT_EQ(image->Read(~uint64_t{0} - 10, buf, 512), EINVAL);  // offset + length overflows
  iovec two[] = {{buf, 512}, {buf, 512}};
  EXPECT_EQ(image->ReadV(4096 - 1024 + 1, two, 2), EINVAL);
  EXPECT_EQ(image->Read(4096 - 512, buf, 512), 0);
}

TEST(RawImage, ScatterListsLongerThanIovMaxAreWrittenWhole) {
  // 3,000 segments of 7 bytes: more than one pwritev can take, so the transfer continues where it stopped.
  std::string model = Pattern(32 * 1024);
  TempImage file("disk.img", model);
  std::string error;
  auto image = Open(file.path, {}, &error);
  ASSERT_NE(image, nullptr) << error;
  const std::string data = Pattern(3000 * 7, 9);
  std::vector<iovec> segments;
  for (size_t i = 0; i < 3000; ++i) segments.push_back({const_cast<char*>(data.data()) + i * 7, 7});
  ASSERT_EQ(image->WriteV(5, segments.data(), static_cast<int>(segments.size())), 0);
  model.replace(5, data.size(), data);
  std::string back(data.size(), '\0');
  std::vector<iovec> in;
  for (size_t i = 0; i < 3000; ++i) in.push_back({back.data() + i * 7, 7});
  ASSERT_EQ(image->ReadV(5, in.data(), static_cast<int>(in.size())), 0);
  EXPECT_EQ(back, data);
  image.reset();
  EXPECT_EQ(ReadAll(file.path), model);
}

TEST(RawImage, ReadOnlyImageRefusesWritesAndLeavesTheFileAlone) {
  const std::string model = Pattern(8192);
  TempImage file("disk.img", model);
  std::string error;
  RawOpenOptions ro;
  ro.read_only = true;
  auto image = Open(file.path, ro, &error);
  ASSERT_NE(image, nullptr) << error;
  EXPECT_TRUE(image->read_only());
  EXPECT_EQ(image->Write(0, "x", 1), EROFS);
  iovec one{const_cast<char*>("x"), 1};
  EXPECT_EQ(image->WriteV(0, &one, 1), EROFS);
  EXPECT_EQ(image->Flush(), 0);
  image.reset();
  EXPECT_EQ(ReadAll(file.path), model);
}

// --- RawImage: bad input, one line each ---

// Bytes the file takes on the host's disk.
uint64_t Allocated(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Whether the file system under `path` punches holes (the test's temporary directory may not).
bool PunchesHoles(const std::string& path) {
  const std::string probe = path + ".probe";
  WriteAll(probe, Pattern(1 << 20));
  const int fd = open(probe.c_str(), O_RDWR);
  const bool ok = fd >= 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
  if (fd >= 0) close(fd);
  std::remove(probe.c_str());
  return ok;
}

// discard=unmap punches the discarded range out of the file; without it (QEMU's default, ignore) a
// discard leaves everything. Zero writes read as zeros either way.
TEST(RawImage, DiscardsPunchHolesOnlyWithUnmapAndZeroWritesReadAsZeros) {
  const size_t size = 4 << 20;
  std::string model = Pattern(size, 9);
  TempImage file("disk.img", model);
  const bool holes = PunchesHoles(file.path);
  std::string error;
  {
    auto image = Open(file.path, {}, &error);  // discard=ignore
    ASSERT_NE(image, nullptr) << error;
    const uint64_t before = Allocated(file.path);
    EXPECT_EQ(image->Discard(1 << 20, 2 << 20), 0);
    EXPECT_EQ(Allocated(file.path), before);
    EXPECT_EQ(image->Discard(size - 512, 1024), EINVAL);
    ASSERT_EQ(image->WriteZeroes(1000, 5000, /*may_unmap=*/true), 0);
    model.replace(1000, 5000, std::string(5000, '\0'));
  }
  EXPECT_EQ(ReadAll(file.path), model);
  {
    RawOpenOptions unmap;
    unmap.unmap = true;
    auto image = Open(file.path, unmap, &error);
    ASSERT_NE(image, nullptr) << error;
    const uint64_t before = Allocated(file.path);
    ASSERT_EQ(image->Discard(1 << 20, 2 << 20), 0);
    model.replace(1 << 20, 2 << 20, std::string(2 << 20, '\0'));  // a punched hole reads as zeros
    ASSERT_EQ(image->WriteZeroes(3 << 20, 4096, /*may_unmap=*/false), 0);
    model.replace(3 << 20, 4096, std::string(4096, '\0'));
    if (holes) EXPECT_LE(Allocated(file.path), before - (2 << 20)) << "no hole punched";
    std::string got(size, '\0');
    ASSERT_EQ(image->Read(0, got.data(), size), 0);
    EXPECT_TRUE(got == model);
  }
  EXPECT_TRUE(ReadAll(file.path) == model);
  RawOpenOptions ro;
  ro.read_only = true;
  auto image = Open(file.path, ro, &error);
  ASSERT_NE(image, nullptr) << error;
  EXPECT_EQ(image->Discard(0, 4096), EROFS);
  EXPECT_EQ(image->WriteZeroes(0, 4096, false), EROFS);
}

TEST(RawImage, BadFilesAreRefusedWithOneLine) {
  EXPECT_EQ(OpenError("/nonexistent/disk.img"), "/nonexistent/disk.img: No such file or directory");
  EXPECT_EQ(OpenError("/tmp"), "/tmp: a directory, not a disk image");
  EXPECT_EQ(OpenError("/dev/null"), "/dev/null: a character device, not a disk image");
  const std::string fifo = TempPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(OpenError(fifo), fifo + ": a FIFO, not a disk image");  // and no wait for a writer
  std::remove(fifo.c_str());
  TempImage empty("empty.img", "");
  EXPECT_EQ(OpenError(empty.path),
            empty.path + ": empty file (a disk image holds at least one 512-byte sector)");
  TempImage odd("odd.img", Pattern(1000));
  EXPECT_EQ(OpenError(odd.path), odd.path +
                                     ": size of 1000 bytes is not a whole number of 512-byte sectors "
                                     "(truncate -s %512 pads it)");
}

TEST(RawImage, ImagesInOtherFormatsAreRefusedUnlessFormatRawIsGiven) {
  std::string vmdk = Pattern(65536);
  std::memcpy(vmdk.data(), "KDMV", 4);
  TempImage file("disk.vmdk", vmdk);
  EXPECT_EQ(OpenError(file.path),
            file.path +
                ": a vmdk image, not a raw one; Strobe reads raw and qcow2 images only: convert it "
                "with qemu-img convert -f vmdk -O raw " +
                file.path + " disk.img (or give format=raw to use its bytes as they are)");
  RawOpenOptions raw;
  raw.probe = false;  // format=raw: the header is data like any other
  std::string error;
  auto image = Open(file.path, raw, &error);
  ASSERT_NE(image, nullptr) << error;
  EXPECT_FALSE(image->probed());
}

TEST(ImageFormat, MagicNumbersOfQemusFormats) {
  auto probe = [](std::string head) {
    head.resize(kProbeBytes, '\0');
    const char* f = ProbeFormat(reinterpret_cast<const uint8_t*>(head.data()), head.size());
    return std::string(f ? f : "raw");
  };
  EXPECT_EQ(probe(std::string("QFI\xfb\0\0\0\2", 8)), "qcow2");
  EXPECT_EQ(probe(std::string("QFI\xfb\0\0\0\1", 8)), "qcow");
  EXPECT_EQ(probe("KDMV"), "vmdk");
  EXPECT_EQ(probe("# Disk DescriptorFile\nversion=1"), "vmdk");
  EXPECT_EQ(probe("vhdxfile"), "vhdx");
  EXPECT_EQ(probe("conectix"), "vpc");
  EXPECT_EQ(probe(std::string("QED\0", 4)), "qed");
  EXPECT_EQ(probe("LUKS\xba\xbe"), "luks");
  std::string vdi = "<<< Oracle VM VirtualBox Disk Image >>>\n";
  vdi.resize(0x40, '\0');
  vdi += std::string("\x7f\x10\xda\xbe", 4);
  EXPECT_EQ(probe(vdi), "vdi");
  EXPECT_EQ(probe(std::string("\xeb\x63\x90", 3)), "raw");  // an MBR boot sector
  EXPECT_EQ(probe("QFI"), "raw");
  EXPECT_EQ(ProbeFormat(reinterpret_cast<const uint8_t*>("QFI\xfb"), 3), nullptr);  // too short to tell
}

TEST(RawImage, ReadOnlyFileWithoutReadonlyOnSaysWhatToDo) {
  TempImage file("ro.img", Pattern(4096));
  ASSERT_EQ(chmod(file.path.c_str(), 0444), 0);
  EXPECT_EQ(OpenErrorAsNobody(file.path),
            file.path +
                ": the file is read-only (Permission denied): use -snapshot, or readonly=on (with if=virtio "
                "or media=cdrom)");
  RawOpenOptions ro;
  ro.read_only = true;
  EXPECT_EQ(OpenErrorAsNobody(file.path, ro), "");
}

TEST(RawImage, UnreadableFileIsRefused) {
  TempImage file("secret.img", Pattern(4096));
  ASSERT_EQ(chmod(file.path.c_str(), 0), 0);
  EXPECT_EQ(OpenErrorAsNobody(file.path), file.path + ": Permission denied");
}

// --- Locks: QEMU's protocol, between open file descriptions ---

const std::string kLocked = ": the image is locked by another process (is another VM using it?)";

TEST(ImageLock, ASecondWriterIsRefused) {
  TempImage file("disk.img", Pattern(4096));
  std::string error;
  auto first = Open(file.path, {}, &error);
  ASSERT_NE(first, nullptr) << error;
  EXPECT_EQ(OpenError(file.path), file.path + kLocked);
  first.reset();  // closing drops the locks
  EXPECT_NE(Open(file.path, {}, &error), nullptr) << error;
}

TEST(ImageLock, ReadersShareAndAWriterExcludesThem) {
  TempImage file("disk.img", Pattern(4096));
  RawOpenOptions ro;
  ro.read_only = true;
  std::string error;
  {
    auto writer = Open(file.path, {}, &error);
    ASSERT_NE(writer, nullptr) << error;
    EXPECT_EQ(OpenError(file.path, ro), file.path + kLocked);  // QEMU: Failed to get shared "write" lock
  }
  auto reader1 = Open(file.path, ro, &error);
  ASSERT_NE(reader1, nullptr) << error;
  auto reader2 = Open(file.path, ro, &error);
  ASSERT_NE(reader2, nullptr) << error;
  EXPECT_EQ(OpenError(file.path), file.path + kLocked);  // QEMU: Failed to get "write" lock
}

TEST(ImageLock, TheLockHoldsAgainstAnotherProcess) {
  // A child process (another VM) sees the lock this process holds, and the other way round.
  TempImage file("disk.img", Pattern(4096));
  ASSERT_EQ(chmod(file.path.c_str(), 0666), 0);  // the child runs as nobody
  std::string error;
  auto writer = Open(file.path, {}, &error);
  ASSERT_NE(writer, nullptr) << error;
  EXPECT_EQ(OpenErrorAsNobody(file.path), file.path + kLocked);
  writer.reset();
  EXPECT_EQ(OpenErrorAsNobody(file.path), "");
}

TEST(ImageLock, QemuSeesStrobesLock) {
  // The same lock bytes as QEMU's file-posix driver: QEMU refuses an image a Strobe VM writes.
  const char* qemu = "/usr/bin/qemu-system-mipsel";
  if (access(qemu, X_OK) != 0) GTEST_SKIP() << "no " << qemu;
  TempImage file("disk.img", Pattern(65536));
  std::string error;
  auto writer = Open(file.path, {}, &error);
  ASSERT_NE(writer, nullptr) << error;
  ProcessResult r = RunProcess({qemu, "-M", "malta", "-display", "none", "-S", "-monitor", "none", "-serial",
                                "none", "-drive", "file=" + file.path + ",format=raw,if=virtio,readonly=on"},
                               "", 20);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Failed to get shared \"write\" lock"), std::string::npos) << r.err;
}

// --- The -snapshot overlay ---

class Overlay : public ::testing::Test {
 protected:
  // 64 KiB + 512: the last cluster is partial.
  static constexpr size_t kSize = 65536 + 512;
  void SetUp() override {
    original_ = Pattern(kSize);
    model_ = original_;
    file_ = std::make_unique<TempImage>("base.img", original_);
    DriveConfig drive;
    drive.file = file_->path;
    drive.format_raw = true;
    drive.snapshot = true;
    std::string error;
    ASSERT_TRUE(OpenDrive(drive, &disk_, &error)) << error;
    overlay_ = dynamic_cast<SnapshotOverlay*>(disk_.get());
    ASSERT_NE(overlay_, nullptr);
  }
  void Write(uint64_t offset, size_t length, uint32_t seed) {
    const std::string data = Pattern(length, seed);
    ASSERT_EQ(disk_->Write(offset, data.data(), data.size()), 0);
    model_.replace(offset, length, data);
  }
  // The guest sees its writes, the file has none of them.
  void ExpectMergedViewAndUntouchedFile() {
    std::string all(kSize, '\0');
    ASSERT_EQ(disk_->Read(0, all.data(), all.size()), 0);
    EXPECT_TRUE(all == model_) << "the merged view differs from the writes";
    for (uint64_t at : {0u, 100u, 4095u, 4096u, 8000u, 65535u})  // unaligned, short reads too
      for (size_t len : {1u, 7u, 513u, 9000u}) {
        if (at + len > kSize) continue;
        std::string part(len, '\0');
        ASSERT_EQ(disk_->Read(at, part.data(), len), 0);
        EXPECT_EQ(part, model_.substr(at, len)) << at << "+" << len;
      }
    EXPECT_TRUE(ReadAll(file_->path) == original_) << "the image file was written";
  }

  std::string original_, model_;
  std::unique_ptr<TempImage> file_;
  std::unique_ptr<BlockBackend> disk_;
  SnapshotOverlay* overlay_ = nullptr;
};

TEST_F(Overlay, UnalignedWriteInsideOneCluster) {
  Write(100, 10, 2);
  EXPECT_EQ(overlay_->stored_clusters(), 1u);
  ExpectMergedViewAndUntouchedFile();
  Write(105, 3000, 3);  // the same cluster again: now from the store
  EXPECT_EQ(overlay_->stored_clusters(), 1u);
  ExpectMergedViewAndUntouchedFile();
}

TEST_F(Overlay, WritesStraddlingClusterBoundaries) {
  Write(4090, 20, 4);  // the end of cluster 0 and the start of cluster 1
  EXPECT_EQ(overlay_->stored_clusters(), 2u);
  Write(3 * 4096 + 1, 4 * 4096, 5);  // partial, three whole, partial: clusters 3-7
  EXPECT_EQ(overlay_->stored_clusters(), 7u);
  ExpectMergedViewAndUntouchedFile();
  Write(4096 * 16 - 2, 514, 6);  // into the last, partial cluster, up to the disk's end
  EXPECT_EQ(overlay_->stored_clusters(), 9u);
  ExpectMergedViewAndUntouchedFile();
}

TEST_F(Overlay, WholeClustersAndScatterLists) {
  Write(8192, 8192, 7);
  EXPECT_EQ(overlay_->stored_clusters(), 2u);
  std::string a = Pattern(300, 8), b = Pattern(5000, 9);
  iovec segs[] = {{a.data(), a.size()}, {b.data(), b.size()}};
  ASSERT_EQ(disk_->WriteV(20000, segs, 2), 0);
  model_.replace(20000, 5300, a + b);
  ASSERT_EQ(disk_->Flush(), 0);
  ExpectMergedViewAndUntouchedFile();
}

TEST_F(Overlay, ManyRandomWritesKeepTheFileByteIdentical) {
  uint32_t x = 99;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245u + 12345u;
    const uint64_t at = (x >> 8) % kSize;
    x = x * 1103515245u + 12345u;
    const size_t len = std::min<size_t>(1 + (x >> 8) % 9000, kSize - at);
    Write(at, len, static_cast<uint32_t>(i));
  }
  ExpectMergedViewAndUntouchedFile();
}

TEST(SnapshotOverlay, TheImageIsOpenedReadOnlyAndSharedWithReaders) {
  TempImage file("base.img", Pattern(8192));
  ASSERT_EQ(chmod(file.path.c_str(), 0444), 0);  // -snapshot needs no write permission
  DriveConfig drive;
  drive.file = file.path;
  drive.snapshot = true;
  std::unique_ptr<BlockBackend> disk;
  std::string error;
  ASSERT_TRUE(OpenDrive(drive, &disk, &error)) << error;
  EXPECT_FALSE(disk->read_only());
  RawOpenOptions ro;
  ro.read_only = true;
  EXPECT_NE(Open(file.path, ro, &error), nullptr) << error;  // another reader: fine
  EXPECT_EQ(OpenError(file.path), file.path + kLocked);      // a writer: no (QEMU's rule too)
  // Disk sharing: blocks the guest has not written come from the file, through every layer OpenDrive
  // put over the overlay (a probed image's write guard among them).
  BlockOrigin origin;
  EXPECT_TRUE(disk->Origin(4096, &origin));
  EXPECT_EQ(origin.offset, 4096u);
  const std::string data = Pattern(4096, 3);
  ASSERT_EQ(disk->Write(4096, data.data(), data.size()), 0);
  EXPECT_FALSE(disk->Origin(4096, &origin));
}

// detect-zeroes=on: a write of zeros becomes a zero write, so a qcow2 image allocates nothing for zeros
// written where it reads zeros already, and a cluster it held gets the zero flag; other writes are data.
TEST(OpenDrive, DetectZeroesTurnsWritesOfZerosIntoZeroWrites) {
  const std::string path = TempPath("dz.qcow2");
  ASSERT_EQ(RunProcess({"/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", path, "4M"}).exit_code, 0);
  for (const DetectZeroes mode : {DetectZeroes::kOff, DetectZeroes::kOn}) {
    SCOPED_TRACE(mode == DetectZeroes::kOn ? "on" : "off");
    DriveConfig drive;
    drive.file = path;
    drive.detect_zeroes = mode;
    std::unique_ptr<BlockBackend> disk;
    std::string error;
    ASSERT_TRUE(OpenDrive(drive, &disk, &error)) << error;
    struct stat before {
    }, after{};
    ASSERT_EQ(stat(path.c_str(), &before), 0);
    const std::string zeros(65536, '\0');
    const uint64_t at = mode == DetectZeroes::kOn ? 0 : 1 << 20;
    ASSERT_EQ(disk->Write(at, zeros.data(), zeros.size()), 0);
    ASSERT_EQ(stat(path.c_str(), &after), 0);
    if (mode == DetectZeroes::kOn) {
      // Zeros in part of a cluster that reads as zeros: nothing to write either.
      ASSERT_EQ(disk->Write((2 << 20) + 512, zeros.data(), 4096), 0);
      ASSERT_EQ(stat(path.c_str(), &after), 0);
      EXPECT_EQ(after.st_size, before.st_size);  // nothing allocated
    } else {
      EXPECT_GE(after.st_size, before.st_size + 65536);  // a data cluster of zeros
    }
    const std::string data = Pattern(512, 5);
    ASSERT_EQ(disk->Write(at + 65536, data.data(), data.size()), 0);
    std::string got(512, '\0');
    ASSERT_EQ(disk->Read(at + 65536, got.data(), got.size()), 0);
    EXPECT_EQ(got, data);
  }
  ProcessResult check = RunProcess({"/usr/bin/qemu-img", "check", path});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  std::remove(path.c_str());
}

TEST(SnapshotOverlay, AnUnusableTmpdirIsOneLine) {
  TempImage file("base.img", Pattern(4096));
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  setenv("TMPDIR", "/nonexistent/tmp", 1);
  std::string error;
  RawOpenOptions ro;
  ro.read_only = true;
  auto overlay = SnapshotOverlay::Create(Open(file.path, ro, &error), &error);
  old ? setenv("TMPDIR", saved.c_str(), 1) : unsetenv("TMPDIR");
  EXPECT_EQ(overlay, nullptr);
  EXPECT_EQ(error,
            file.path +
                ": -snapshot: cannot create the temporary overlay in /nonexistent/tmp: No such file or "
                "directory (set TMPDIR to a writable directory)");
}

// --- OpenDrive: the write guard of probed images, read-only drives ---

TEST(OpenDrive, AGuestCannotGiveAProbedImageAnotherFormatsHeader) {
  TempImage file("disk.img", Pattern(8192));
  DriveConfig drive;
  drive.file = file.path;
  std::unique_ptr<BlockBackend> disk;
  std::string error;
  ASSERT_TRUE(OpenDrive(drive, &disk, &error)) << error;
  EXPECT_EQ(disk->Write(0, "QFI\xfb", 4), EPERM);
  // In two steps: "QF" first is harmless, "I\xfb" after it would complete the magic.
  ASSERT_EQ(disk->Write(0, "QF", 2), 0);
  EXPECT_EQ(disk->Write(2, "I\xfb", 2), EPERM);
  EXPECT_EQ(disk->Write(512, "QFI\xfb", 4), 0);  // elsewhere: data
  std::string head(4, '\0');
  ASSERT_EQ(disk->Read(0, head.data(), 4), 0);
  EXPECT_EQ(head.substr(0, 2), "QF");
  EXPECT_NE(head.substr(2), "I\xfb");
  disk.reset();

  drive.format_raw = true;  // format=raw: the guest's bytes are its own business
  ASSERT_TRUE(OpenDrive(drive, &disk, &error)) << error;
  EXPECT_EQ(disk->Write(0, "QFI\xfb", 4), 0);
}

TEST(OpenDrive, CdromsAndReadonlyDrivesAreReadOnlyAndNeverOverlaid) {
  TempImage file("cd.iso", Pattern(2048 * 4));
  DriveConfig drive;
  drive.file = file.path;
  drive.read_only = true;
  drive.snapshot = true;
  std::unique_ptr<BlockBackend> disk;
  std::string error;
  ASSERT_TRUE(OpenDrive(drive, &disk, &error)) << error;
  EXPECT_TRUE(disk->read_only());
  EXPECT_EQ(dynamic_cast<SnapshotOverlay*>(disk.get()), nullptr);
  DriveConfig empty;
  empty.media = Media::kCdrom;
  ASSERT_TRUE(OpenDrive(empty, &disk, &error)) << error;
  EXPECT_EQ(disk, nullptr);  // no disc in the drive
}

TEST(OpenDrive, ACdromDiscIsItsWhole2048ByteBlocks) {
  // QEMU's CD drive: the image need not be whole sectors, and a partial block at the end is not on the disc.
  TempImage file("odd.iso", Pattern(2048 * 3 + 1000));
  DriveConfig cd;
  cd.file = file.path;
  cd.media = Media::kCdrom;
  cd.read_only = true;
  std::unique_ptr<BlockBackend> disc;
  std::string error;
  ASSERT_TRUE(OpenDrive(cd, &disc, &error)) << error;
  EXPECT_EQ(disc->size(), 2048u * 3);
  TempImage small("small.iso", Pattern(2000));
  cd.file = small.path;
  EXPECT_FALSE(OpenDrive(cd, &disc, &error));
  EXPECT_EQ(error, small.path + ": size of 2000 bytes is less than one 2048-byte CD-ROM block");
}

// --- BlockQueue and CompletionList ---

// A backend in memory that records what it was asked, optionally held back by a gate.
class FakeDisk final : public BlockBackend {
 public:
  explicit FakeDisk(size_t size) : bytes_(size, '\0') {}
  uint64_t size() const override { return bytes_.size(); }
  bool read_only() const override { return false; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t offset, void* buffer, size_t length) override {
    Wait();
    std::lock_guard<std::mutex> lock(mu_);
    if (int err = CheckRange(offset, length)) return err;
    std::memcpy(buffer, bytes_.data() + offset, length);
    log_ += 'r';
    return 0;
  }
  int Write(uint64_t offset, const void* buffer, size_t length) override {
    Wait();
    std::lock_guard<std::mutex> lock(mu_);
    if (int err = CheckRange(offset, length)) return err;
    std::memcpy(bytes_.data() + offset, buffer, length);
    log_ += 'w';
    return 0;
  }
  int Flush() override {
    std::lock_guard<std::mutex> lock(mu_);
    log_ += 'f';
    return 0;
  }
  void Hold() { gate_ = std::promise<void>(), held_ = gate_.get_future().share(); }
  void Release() { gate_.set_value(); }
  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  std::string bytes_;

 private:
  void Wait() {
    if (held_.valid()) held_.wait();
  }
  std::string path_ = "fake";
  std::mutex mu_;
  std::string log_;
  std::promise<void> gate_;
  std::shared_future<void> held_;
};

// Runs completions on this thread until `done` holds or 5 s pass.
template <typename Pred>
bool Pump(CompletionList& list, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (list.HasCompletions())
      list.RunCompletions();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

TEST(BlockQueue, ManyRequestsCompleteOnTheThreadThatRunsCompletions) {
  TempImage file("disk.img", std::string(1 << 20, '\0'));
  std::string error;
  auto image = Open(file.path, {}, &error);
  ASSERT_NE(image, nullptr) << error;
  CompletionList completions;
  std::atomic<int> notified{0};
  std::atomic<bool> notified_elsewhere{false};
  const auto me = std::this_thread::get_id();
  completions.SetNotifier([&] {
    ++notified;
    if (std::this_thread::get_id() != me) notified_elsewhere = true;
  });
  BlockQueue queue(*image, completions);

  constexpr int kRequests = 256;
  std::vector<std::string> data;
  for (int i = 0; i < kRequests; ++i) data.push_back(Pattern(4096, static_cast<uint32_t>(i)));
  int completed = 0, errors = 0;
  bool on_my_thread = true;
  for (int i = 0; i < kRequests; ++i) {
    BlockRequest r;
    r.op = BlockRequest::Op::kWrite;
    r.offset = static_cast<uint64_t>(i) * 4096;
    // Two segments per request, as a guest buffer that spans two pages.
    r.segments = {{data[i].data(), 1000}, {data[i].data() + 1000, 3096}};
    r.done = [&, i](int err) {
      ++completed;
      errors += err != 0;
      on_my_thread &= std::this_thread::get_id() == me;
    };
    queue.Submit(std::move(r));
  }
  ASSERT_TRUE(Pump(completions, [&] { return completed == kRequests; }));
  EXPECT_EQ(errors, 0);
  EXPECT_TRUE(on_my_thread);
  EXPECT_GE(notified.load(), 1);
  EXPECT_TRUE(notified_elsewhere);

  // Read it all back through the queue, and flush.
  std::string back(1 << 20, '\x55');
  int reads = 0, flushed = -1;
  for (int i = 0; i < kRequests; ++i) {
    BlockRequest r;
    r.op = BlockRequest::Op::kRead;
    r.offset = static_cast<uint64_t>(i) * 4096;
    r.segments = {{back.data() + i * 4096, 4096}};
    r.done = [&](int err) { reads += err == 0; };
    queue.Submit(std::move(r));
  }
  BlockRequest flush;
  flush.op = BlockRequest::Op::kFlush;
  flush.done = [&](int err) { flushed = err; };
  queue.Submit(std::move(flush));
  ASSERT_TRUE(Pump(completions, [&] { return flushed >= 0; }));
  EXPECT_EQ(reads, kRequests);  // completions run in order: every read before the flush
  EXPECT_EQ(flushed, 0);
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(back.substr(i * 4096, 4096), data[i]) << i;
  EXPECT_EQ(ReadAll(file.path), back);
}

TEST(BlockQueue, ErrorsReachTheCompletion) {
  FakeDisk disk(4096);
  CompletionList completions;
  BlockQueue queue(disk, completions);
  int result = -1;
  char buf[512];
  BlockRequest r;
  r.op = BlockRequest::Op::kRead;
  r.offset = 4096;  // beyond the end
  r.segments = {{buf, sizeof buf}};
  r.done = [&](int err) { result = err; };
  queue.Submit(std::move(r));
  ASSERT_TRUE(Pump(completions, [&] { return result >= 0; }));
  EXPECT_EQ(result, EINVAL);
}

// SubmitAndFlush: the request, then the flush, one completion after both with the first error.
TEST(BlockQueue, SubmitAndFlushCompletesOnceAfterBothWithTheFirstError) {
  FakeDisk disk(4096);
  CompletionList completions;
  BlockQueue queue(disk, completions);
  char buf[512] = {1};
  std::vector<int> results;
  for (const uint64_t offset : {uint64_t{0}, uint64_t{4096}}) {  // the second runs past the end
    BlockRequest r;
    r.op = BlockRequest::Op::kWrite;
    r.offset = offset;
    r.segments = {{buf, sizeof buf}};
    r.done = [&](int err) { results.push_back(err); };
    queue.SubmitAndFlush(std::move(r));
  }
  ASSERT_TRUE(Pump(completions, [&] { return results.size() == 2; }));
  EXPECT_EQ(results, (std::vector<int>{0, EINVAL}));
  EXPECT_EQ(disk.log(), "wff");  // the failed write wrote nothing; each request had its flush
}

// SubmitChain: the requests in order, one completion after the last with the first error of any.
TEST(BlockQueue, SubmitChainCompletesOnceWithTheFirstError) {
  FakeDisk disk(4096);
  CompletionList completions;
  BlockQueue queue(disk, completions);
  char buf[512] = {2};
  std::vector<BlockRequest> chain(3);
  for (size_t i = 0; i < chain.size(); ++i) {
    chain[i].op = BlockRequest::Op::kWrite;
    chain[i].offset = i == 1 ? 4096 : 512 * i;  // the middle one runs past the end
    chain[i].segments = {{buf, sizeof buf}};
    chain[i].done = [](int) { ADD_FAILURE() << "a chained request's own completion ran"; };
  }
  std::vector<int> results;
  queue.SubmitChain(std::move(chain), [&](int err) { results.push_back(err); });
  ASSERT_TRUE(Pump(completions, [&] { return !results.empty(); }));
  EXPECT_EQ(results, (std::vector<int>{EINVAL}));
  EXPECT_EQ(disk.log(), "ww");  // the others ran, in order
}

TEST(BlockQueue, TheWorkerNeverRunsCompletionsItself) {
  FakeDisk disk(4096);
  CompletionList completions;
  BlockQueue queue(disk, completions);
  bool ran = false;
  char buf[16] = "data";
  queue.Submit({BlockRequest::Op::kWrite, 0, {{buf, sizeof buf}}, [&](int) { ran = true; }});
  queue.Drain();
  EXPECT_FALSE(ran);  // executed, but its completion waits for the VM's thread
  EXPECT_TRUE(completions.HasCompletions());
  EXPECT_EQ(completions.RunCompletions(), 1u);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(completions.HasCompletions());
}

TEST(BlockQueue, DrainWaitsForEveryRequestThenFlushes) {
  FakeDisk disk(64 * 1024);
  CompletionList completions;
  BlockQueue queue(disk, completions);
  disk.Hold();  // the host disk is slow: nothing finishes until released
  std::vector<std::string> data;
  for (int i = 0; i < 8; ++i) data.push_back(Pattern(4096, static_cast<uint32_t>(i + 1)));
  for (int i = 0; i < 8; ++i)
    queue.Submit({BlockRequest::Op::kWrite, static_cast<uint64_t>(i) * 4096, {{data[i].data(), 4096}}, {}});
  EXPECT_EQ(queue.in_flight(), 8u);  // Submit did not wait
  auto drained = std::async(std::launch::async, [&] { return queue.Drain(); });
  EXPECT_EQ(drained.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  disk.Release();
  ASSERT_EQ(drained.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(drained.get(), 0);
  EXPECT_EQ(queue.in_flight(), 0u);
  EXPECT_EQ(disk.log(), "wwwwwwwwf");  // every write, then the flush
  for (int i = 0; i < 8; ++i) EXPECT_EQ(disk.bytes_.substr(i * 4096, 4096), data[i]);
}

TEST(BlockQueue, DestroyingTheQueueDrainsIt) {
  FakeDisk disk(4096);
  CompletionList completions;
  char buf[512] = {};
  {
    BlockQueue queue(disk, completions);
    for (int i = 0; i < 8; ++i) queue.Submit({BlockRequest::Op::kWrite, 512u * i, {{buf, sizeof buf}}, {}});
  }
  EXPECT_EQ(disk.log(), "wwwwwwwwf");
}

}  // namespace
}  // namespace strobe::test
