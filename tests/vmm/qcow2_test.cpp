// SPDX-License-Identifier: MIT
// The qcow2 backend (vmm/block/qcow2_image.h) against QEMU's own tools as the oracle: images qemu-img made
// (versions 2 and 3, several cluster sizes, compressed, with zero clusters, over raw and qcow2 backing
// files) read byte for byte as `qemu-img convert -O raw` gives them; images Strobe wrote pass
// `qemu-img check` (no corruption, no leaked cluster) and convert to exactly the bytes written; QEMU's
// locks exclude qemu-io while Strobe writes; damaged and unsupported images are refused in one line or
// fail the access with EIO.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "vmm/block/drive.h"
#include "vmm/block/qcow2_image.h"

namespace strobe::test {
namespace {

using namespace vmm::block;

constexpr const char* kQemuImg = "/usr/bin/qemu-img";
constexpr const char* kQemuIo = "/usr/bin/qemu-io";

class Qcow2 : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kQemuImg, X_OK), 0) << "qemu-img is missing: tools/setup-deps.sh installs qemu-utils";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = ::testing::TempDir() + "strobe_qcow2_" + info->name() + "_" + std::to_string(getpid());
    std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str());
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // Runs a QEMU tool; its output for messages.
  std::string Tool(std::vector<std::string> argv, int* status = nullptr) {
    ProcessResult r = RunProcess(argv, "", 120);
    if (status) {
      *status = r.exit_code;
    } else {
      EXPECT_EQ(r.exit_code, 0) << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": " << r.err;
    }
    return r.out + r.err;
  }
  // The disk's bytes as QEMU reads them.
  std::string AsQemuReadsIt(const std::string& image) {
    Tool({kQemuImg, "convert", "-O", "raw", image, Path("oracle.raw")});
    return ReadFile(Path("oracle.raw"));
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  static void WriteFile(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::string dir_;
};

// Random bytes with runs of zeros (so that qemu-img leaves holes and compression has work).
std::string DiskBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (size_t at = 0; at < size;) {
    const size_t run = std::min<size_t>(size - at, 4096 * (1 + rng() % 40));
    if (rng() % 3) {
      for (size_t i = 0; i < run; ++i) s[at + i] = static_cast<char>(rng() % 7 ? rng() : 'a');
    }
    at += run;
  }
  return s;
}

// Reads the whole disk in pieces of awkward sizes and offsets.
std::string ReadInPieces(BlockBackend& disk, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(disk.size(), '\0');
  for (uint64_t at = 0; at < disk.size();) {
    const uint64_t n = std::min<uint64_t>(disk.size() - at, 1 + rng() % 300000);
    EXPECT_EQ(disk.Read(at, out.data() + at, n), 0) << "at " << at;
    at += n;
  }
  return out;
}

// Big-endian fields of an image held as a string (the header's and the tables' byte order).
uint64_t Be64At(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}
void PutBe64At(std::string* s, size_t at, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) (*s)[at + i] = static_cast<char>(v);
}

std::unique_ptr<Qcow2Image> OpenQcow2(const std::string& path, bool read_only, bool unmap = false) {
  RawOpenOptions o;
  o.read_only = read_only;
  o.unmap = unmap;
  o.probe = false;
  std::string error;
  auto image = Qcow2Image::Open(path, o, &error);
  EXPECT_TRUE(image) << error;
  return image;
}

TEST_F(Qcow2, ReadsWhatQemuImgWrote) {
  const std::string raw = DiskBytes(6 << 20, 1);
  WriteFile(Path("disk.raw"), raw);
  struct Variant {
    std::vector<std::string> args;
    uint32_t version;
  };
  const std::vector<Variant> variants = {
      {{}, 3},
      {{"-o", "compat=0.10"}, 2},
      {{"-c"}, 3},  // compressed clusters
      {{"-o", "cluster_size=4096"}, 3},
      {{"-c", "-o", "cluster_size=2M,compat=0.10"}, 2},
      {{"-o", "cluster_size=512,refcount_bits=8"}, 3},
  };
  for (const Variant& v : variants) {
    std::vector<std::string> argv = {kQemuImg, "convert", "-f", "raw", "-O", "qcow2"};
    argv.insert(argv.end(), v.args.begin(), v.args.end());
    argv.insert(argv.end(), {Path("disk.raw"), Path("disk.qcow2")});
    Tool(argv);
    auto image = OpenQcow2(Path("disk.qcow2"), true);
    ASSERT_TRUE(image);
    EXPECT_EQ(image->version(), v.version);
    EXPECT_EQ(image->size(), raw.size());
    EXPECT_TRUE(ReadInPieces(*image, 7) == raw) << ::testing::PrintToString(v.args);
  }
}

// Random writes of any length at any offset, into a 4 KiB-cluster image so that they need many L2 tables
// and new refcount blocks; then qemu-img check finds nothing wrong and QEMU reads exactly what was written.
TEST_F(Qcow2, WritesThatQemuImgChecksAndReads) {
  Tool({kQemuImg, "create", "-f", "qcow2", "-o", "cluster_size=4096", Path("disk.qcow2"), "24M"});
  std::string model(24 << 20, '\0');
  {
    auto image = OpenQcow2(Path("disk.qcow2"), false);
    ASSERT_TRUE(image);
    std::mt19937 rng(3);
    for (int i = 0; i < 400; ++i) {
      const uint64_t n = 1 + rng() % 70000;
      const uint64_t at = rng() % (model.size() - n);
      const std::string bytes = DiskBytes(n, rng());
      if (i % 3 == 0) {  // as a device's request: a scatter list of the pieces
        const size_t a = n / 3, b = n / 2;
        std::string copy = bytes;
        iovec segments[3] = {{copy.data(), a}, {copy.data() + a, b - a}, {copy.data() + b, n - b}};
        ASSERT_EQ(image->WriteV(at, segments, 3), 0) << "write " << i;
      } else {
        ASSERT_EQ(image->Write(at, bytes.data(), n), 0) << "write " << i;
      }
      model.replace(at, n, bytes);
    }
    EXPECT_TRUE(ReadInPieces(*image, 9) == model);
    EXPECT_EQ(image->Flush(), 0);
  }
  const std::string check = Tool({kQemuImg, "check", Path("disk.qcow2")});
  EXPECT_NE(check.find("No errors were found on the image."), std::string::npos) << check;
  EXPECT_EQ(check.find("leaked"), std::string::npos) << check;
  EXPECT_TRUE(AsQemuReadsIt(Path("disk.qcow2")) == model);
  auto again = OpenQcow2(Path("disk.qcow2"), true);
  ASSERT_TRUE(again);
  EXPECT_TRUE(ReadInPieces(*again, 11) == model);
}

// 512-byte clusters: the refcount table qemu-img made (one cluster, 64 blocks of 256 counts) covers 8 MiB of
// file, so writing 12 MiB makes Strobe move to a larger table; QEMU finds the image consistent afterwards.
TEST_F(Qcow2, TheRefcountTableGrows) {
  Tool({kQemuImg, "create", "-f", "qcow2", "-o", "cluster_size=512", Path("disk.qcow2"), "16M"});
  auto table_clusters = [&] {
    const std::string h = ReadFile(Path("disk.qcow2"));
    return uint32_t{static_cast<uint8_t>(h[58])} << 8 | static_cast<uint8_t>(h[59]);
  };
  ASSERT_EQ(table_clusters(), 1u);
  const std::string data = DiskBytes(12 << 20, 21);
  {
    auto image = OpenQcow2(Path("disk.qcow2"), false);
    ASSERT_TRUE(image);
    for (uint64_t at = 0; at < data.size(); at += 65536) ASSERT_EQ(image->Write(at, &data[at], 65536), 0);
    std::string back(data.size(), '\0');
    ASSERT_EQ(image->Read(0, back.data(), back.size()), 0);
    EXPECT_TRUE(back == data);
  }
  EXPECT_GT(table_clusters(), 1u);
  const std::string check = Tool({kQemuImg, "check", Path("disk.qcow2")});
  EXPECT_NE(check.find("No errors were found on the image."), std::string::npos) << check;
  EXPECT_EQ(check.find("leaked"), std::string::npos) << check;
  EXPECT_TRUE(AsQemuReadsIt(Path("disk.qcow2")).substr(0, data.size()) == data);
}

// Writes over a raw base and over a qcow2 one (whose own base is raw): unwritten parts read from the chain,
// the bases never change, and QEMU reads the overlay as Strobe does.
TEST_F(Qcow2, BackingChains) {
  const std::string base = DiskBytes(3 << 20, 4);
  WriteFile(Path("base.raw"), base);
  Tool({kQemuImg, "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", Path("mid.qcow2")});
  Tool({kQemuIo, "-c", "write -P 0x5a 1M 64k", Path("mid.qcow2")});
  Tool({kQemuImg, "create", "-f", "qcow2", "-b", Path("mid.qcow2"), "-F", "qcow2", Path("top.qcow2"), "4M"});
  std::string model = base + std::string(1 << 20, '\0');  // the top is larger than its base
  std::memset(&model[1 << 20], 0x5a, 65536);
  const std::string mid_before = ReadFile(Path("mid.qcow2"));
  {
    auto top = OpenQcow2(Path("top.qcow2"), false);
    ASSERT_TRUE(top);
    ASSERT_TRUE(top->backing());
    EXPECT_TRUE(ReadInPieces(*top, 5) == model);
    const std::string a = DiskBytes(100000, 8), b(5000, 'b');
    ASSERT_EQ(top->Write(1000, a.data(), a.size()), 0);
    ASSERT_EQ(top->Write((1 << 20) + 60000, b.data(), b.size()), 0);  // half over the mid's own data
    ASSERT_EQ(top->Write((3 << 20) + 7, b.data(), b.size()), 0);      // past the chain's end
    model.replace(1000, a.size(), a);
    model.replace((1 << 20) + 60000, b.size(), b);
    model.replace((3 << 20) + 7, b.size(), b);
    EXPECT_TRUE(ReadInPieces(*top, 6) == model);
  }
  EXPECT_TRUE(ReadFile(Path("base.raw")) == base);
  EXPECT_TRUE(ReadFile(Path("mid.qcow2")) == mid_before);
  EXPECT_NE(Tool({kQemuImg, "check", Path("top.qcow2")}).find("No errors were found"), std::string::npos);
  EXPECT_TRUE(AsQemuReadsIt(Path("top.qcow2")) == model);
}

// Zero clusters (qemu-io write -z) read as zeros, not as the backing file; writing into them and into
// compressed clusters gives the image clusters of its own and releases the compressed ones' references.
TEST_F(Qcow2, ZeroAndCompressedClustersTakeWrites) {
  const std::string raw = DiskBytes(2 << 20, 12);
  WriteFile(Path("disk.raw"), raw);
  Tool({kQemuImg, "convert", "-c", "-f", "raw", "-O", "qcow2", Path("disk.raw"), Path("disk.qcow2")});
  Tool({kQemuIo, "-c", "write -z 128k 192k", Path("disk.qcow2")});
  std::string model = raw;
  std::memset(&model[128 << 10], 0, 192 << 10);
  {
    auto image = OpenQcow2(Path("disk.qcow2"), false);
    ASSERT_TRUE(image);
    EXPECT_TRUE(ReadInPieces(*image, 2) == model);
    const std::string x(3000, 'x');
    for (uint64_t at : {uint64_t{100}, uint64_t{(150 << 10) + 3}, uint64_t{(1 << 20) + 65530}}) {
      ASSERT_EQ(image->Write(at, x.data(), x.size()), 0);
      model.replace(at, x.size(), x);
    }
    EXPECT_TRUE(ReadInPieces(*image, 3) == model);
  }
  const std::string check = Tool({kQemuImg, "check", Path("disk.qcow2")});
  EXPECT_NE(check.find("No errors were found"), std::string::npos) << check;
  EXPECT_EQ(check.find("leaked"), std::string::npos) << check;
  EXPECT_TRUE(AsQemuReadsIt(Path("disk.qcow2")) == model);
}

// Disk sharing's hint: a writable overlay's unwritten 4 KiB come from its read-only base (the base's own
// origin), what it wrote does not; a read-only qcow2 names its own bytes in its file.
TEST_F(Qcow2, OriginsForDiskSharing) {
  WriteFile(Path("base.raw"), DiskBytes(1 << 20, 30));
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", "-b", Path("base.raw"), "-F", "raw", Path("top.qcow2")});
  Tool({kQemuIo, "-c", "write -P 0x33 64k 64k", Path("top.qcow2")});
  BlockOrigin o, base;
  {
    auto top = OpenQcow2(Path("top.qcow2"), false);
    ASSERT_TRUE(top);
    ASSERT_TRUE(top->backing()->Origin(8192, &base));
    ASSERT_TRUE(top->Origin(8192, &o));
    EXPECT_TRUE(o == base);
    EXPECT_EQ(o.offset, 8192u);
    EXPECT_FALSE(top->Origin(65536, &o));  // written in the overlay, which this process writes
    EXPECT_FALSE(top->Origin(100, &o));    // not a 4 KiB block
  }
  auto ro = OpenQcow2(Path("top.qcow2"), true);
  ASSERT_TRUE(ro);
  ASSERT_TRUE(ro->Origin(65536 + 4096, &o));
  EXPECT_NE(o.inode, base.inode);
  char want[4096], have[4096];
  ASSERT_EQ(ro->Read(65536 + 4096, want, sizeof want), 0);
  const std::string file = ReadFile(Path("top.qcow2"));
  ASSERT_LE(o.offset + sizeof have, file.size());
  std::memcpy(have, file.data() + o.offset, sizeof have);
  EXPECT_EQ(std::memcmp(want, have, sizeof want), 0) << "the origin names the file's bytes";
}

TEST_F(Qcow2, QemuAndStrobeExcludeEachOtherAsWriters) {
  Tool({kQemuImg, "create", "-f", "qcow2", Path("disk.qcow2"), "1M"});
  auto image = OpenQcow2(Path("disk.qcow2"), false);
  ASSERT_TRUE(image);
  int status = 0;
  const std::string out = Tool({kQemuIo, "-c", "write 0 512", Path("disk.qcow2")}, &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("lock"), std::string::npos) << out;
  image.reset();
  Tool({kQemuIo, "-c", "write 0 512", Path("disk.qcow2")});  // free again
}

// The drive layer opens a qcow2 file as one when probing and with format=qcow2; format=qcow2 on anything else
// is refused.
TEST_F(Qcow2, DrivesProbeAndNameTheFormat) {
  Tool({kQemuImg, "create", "-f", "qcow2", Path("disk.qcow2"), "1M"});
  WriteFile(Path("disk.raw"), std::string(1 << 20, 'r'));
  for (bool named : {false, true}) {
    DriveConfig d;
    d.option = "-hda";
    d.file = Path("disk.qcow2");
    d.format_qcow2 = named;
    std::unique_ptr<BlockBackend> disk;
    std::string error;
    ASSERT_TRUE(OpenDrive(d, &disk, &error)) << error;
    EXPECT_EQ(disk->size(), 1u << 20);
    const std::string bytes(512, 'q');
    ASSERT_EQ(disk->Write(0, bytes.data(), bytes.size()), 0);  // a guest may write any header into it
  }
  DriveConfig d;
  d.file = Path("disk.raw");
  d.format_qcow2 = true;
  std::unique_ptr<BlockBackend> disk;
  std::string error;
  EXPECT_FALSE(OpenDrive(d, &disk, &error));
  EXPECT_EQ(error, Path("disk.raw") + ": not a qcow2 image");
}

TEST_F(Qcow2, DamagedAndUnsupportedImages) {
  Tool({kQemuImg, "create", "-f", "qcow2", Path("good.qcow2"), "1M"});
  const std::string good = ReadFile(Path("good.qcow2"));
  auto refused = [&](const std::string& bytes, bool read_only) {
    WriteFile(Path("bad.qcow2"), bytes);
    RawOpenOptions o;
    o.read_only = read_only;
    std::string error;
    EXPECT_FALSE(Qcow2Image::Open(Path("bad.qcow2"), o, &error));
    EXPECT_EQ(error.find('\n'), std::string::npos);
    return error.substr(error.find(": ") + 2);
  };
  auto patched = [&](size_t at, std::vector<uint8_t> bytes) {
    std::string s = good;
    for (size_t i = 0; i < bytes.size(); ++i) s[at + i] = static_cast<char>(bytes[i]);
    return s;
  };
  EXPECT_EQ(refused(good.substr(0, 40), true), "not a qcow2 image (shorter than a qcow2 header)");
  EXPECT_EQ(refused(patched(4, {0, 0, 0, 4}), true), "qcow2 version 4 is not supported (2 or 3)");
  EXPECT_EQ(refused(patched(20, {0, 0, 0, 30}), true), "cluster size 2^30 is outside 512 bytes to 2 MiB");
  EXPECT_EQ(refused(patched(35, {1}), true),
            "an encrypted qcow2 image (not supported; qemu-img convert with the key writes a raw one)");
  EXPECT_EQ(refused(patched(72 + 7, {0x20}), true), "unknown incompatible qcow2 features 0x20");
  EXPECT_EQ(refused(patched(72 + 7, {0x10}), true), "extended L2 entries (subclusters) are not supported");
  EXPECT_EQ(refused(patched(72 + 7, {0x01}), false),
            "the image was not closed cleanly: qemu-img check -r all " + Path("bad.qcow2") +
                " repairs it (use readonly=on or -snapshot)");
  EXPECT_EQ(refused(patched(40, {0, 0, 0, 0, 0x10, 0, 0, 0}), true), "L1 table outside the file");
  EXPECT_EQ(refused(patched(36, {0, 0, 0, 0}), true), "L1 table of 0 entries does not fit the disk");
  EXPECT_EQ(refused(patched(24, {0, 0, 0, 0, 0, 0x10, 0, 1}), true),
            "virtual size of 1048577 bytes is not a whole number of 512-byte sectors");

  // An L1 entry pointing past the file: the access fails, nothing crashes.
  Tool({kQemuIo, "-c", "write -P 7 0 4k", Path("good.qcow2")});
  std::string s = ReadFile(Path("good.qcow2"));
  const uint64_t l1 = (uint64_t{static_cast<uint8_t>(s[46])} << 8 | static_cast<uint8_t>(s[47])) |
                      uint64_t{static_cast<uint8_t>(s[45])} << 16;
  s[l1 + 3] = 0x40;  // the L2 table's offset moves far past the end
  WriteFile(Path("bad.qcow2"), s);
  auto image = OpenQcow2(Path("bad.qcow2"), false);
  ASSERT_TRUE(image);
  char buf[512];
  EXPECT_EQ(image->Read(0, buf, sizeof buf), EIO);
  EXPECT_EQ(image->Write(0, buf, sizeof buf), EIO);

  // Internal snapshots: read, not written.
  Tool({kQemuImg, "snapshot", "-c", "s1", Path("good.qcow2")});
  RawOpenOptions o;
  std::string error;
  EXPECT_FALSE(Qcow2Image::Open(Path("good.qcow2"), o, &error));
  EXPECT_NE(error.find("internal snapshots"), std::string::npos) << error;
  o.read_only = true;
  auto snap = Qcow2Image::Open(Path("good.qcow2"), o, &error);
  ASSERT_TRUE(snap) << error;
  ASSERT_EQ(snap->Read(0, buf, sizeof buf), 0);
  EXPECT_EQ(buf[0], 7);
}

// A virtual size near 2^64 once wrapped the L1 size check around, so that a one-entry table passed for a
// disk of exabytes.
TEST_F(Qcow2, AnAbsurdVirtualSizeIsRefused) {
  Tool({kQemuImg, "create", "-f", "qcow2", Path("disk.qcow2"), "1M"});
  std::string s = ReadFile(Path("disk.qcow2"));
  PutBe64At(&s, 24, 0xFFFFFFFFFFFFFE00ull);
  WriteFile(Path("disk.qcow2"), s);
  RawOpenOptions o;
  o.read_only = true;
  std::string error;
  EXPECT_FALSE(Qcow2Image::Open(Path("disk.qcow2"), o, &error));
  EXPECT_EQ(error, Path("disk.qcow2") +
                       ": virtual size of 18446744073709551104 bytes is too large for 65536-byte clusters "
                       "(at most 2251799813685248)");
}

// An image that names itself, or a chain that comes back to an image above, as its backing file: one line
// that says so (it was followed 16 times, or refused as locked by another process when writable).
TEST_F(Qcow2, BackingChainLoopsAreRefused) {
  // qemu-img refuses to make them: a name of the same length is patched.
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", "-u", "-b", "xelf.qcow2", "-F", "qcow2", Path("self.qcow2"),
        "1M"});
  std::string s = ReadFile(Path("self.qcow2"));
  const size_t name = s.find("xelf.qcow2");
  ASSERT_NE(name, std::string::npos);
  s[name] = 's';
  WriteFile(Path("self.qcow2"), s);
  for (bool read_only : {true, false}) {
    RawOpenOptions o;
    o.read_only = read_only;
    std::string error;
    EXPECT_FALSE(Qcow2Image::Open(Path("self.qcow2"), o, &error));
    EXPECT_EQ(error, Path("self.qcow2") + ": backing file " + Path("self.qcow2") +
                         " is this image or one above it in its chain (a loop)");
  }
  Tool(
      {kQemuImg, "create", "-q", "-f", "qcow2", "-u", "-b", "b.qcow2", "-F", "qcow2", Path("a.qcow2"), "1M"});
  Tool(
      {kQemuImg, "create", "-q", "-f", "qcow2", "-u", "-b", "a.qcow2", "-F", "qcow2", Path("b.qcow2"), "1M"});
  RawOpenOptions o;
  o.read_only = true;
  std::string error;
  EXPECT_FALSE(Qcow2Image::Open(Path("a.qcow2"), o, &error));
  EXPECT_EQ(error, Path("a.qcow2") + ": backing file: " + Path("b.qcow2") + ": backing file " +
                       Path("a.qcow2") + " is this image or one above it in its chain (a loop)");
}

// A file cut short (a copy that stopped): its L2 entries point past the end, where the clusters this
// process allocates go. Writing through them once grew the file at the guest's say and landed on the new
// clusters, so that one guest write silently replaced another's data; now those accesses fail with EIO.
TEST_F(Qcow2, ATruncatedImageIsNotWrittenPastItsEnd) {
  // 4 KiB clusters: header, refcount table, refcount block, L1 and L2 take 0-0x4fff, then 32 data clusters.
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", Path("disk.qcow2"), "1M"});
  Tool({kQemuIo, "-c", "write -P 0xaa 0 128k", Path("disk.qcow2")});
  std::string s = ReadFile(Path("disk.qcow2"));
  ASSERT_EQ(Be64At(s, 0x4000 + 8 * 17), 0x8000000000016000ull);  // guest cluster 17 at 0x16000
  const uint64_t cut = 0x15000 + 100;  // the file now ends inside guest cluster 16's host cluster
  WriteFile(Path("disk.qcow2"), s.substr(0, cut));
  auto image = OpenQcow2(Path("disk.qcow2"), false);
  ASSERT_TRUE(image);
  const std::string x(8192, 'x'), n(4096, 'n');
  EXPECT_EQ(image->Write(20 * 4096, x.data(), x.size()), EIO);  // clusters wholly past the end
  EXPECT_EQ(ReadFile(Path("disk.qcow2")).size(), cut) << "the file grew";
  // The first new cluster goes at 0x16000, where guest cluster 17's entry points.
  ASSERT_EQ(image->Write(512 << 10, n.data(), n.size()), 0);
  ASSERT_EQ(Be64At(ReadFile(Path("disk.qcow2")), 0x4000 + 8 * 128), 0x8000000000016000ull);
  EXPECT_EQ(image->Write(17 * 4096, x.data(), 4096), EIO);
  char buf[4096];
  EXPECT_EQ(image->Read(17 * 4096, buf, sizeof buf), EIO);
  ASSERT_EQ(image->Read(512 << 10, buf, sizeof buf), 0);
  EXPECT_EQ(std::string(buf, sizeof buf), n);
  ASSERT_EQ(image->Read(0, buf, sizeof buf), 0);  // what the file still holds reads as before
  EXPECT_EQ(std::string(buf, sizeof buf), std::string(4096, '\xaa'));
}

// Entries and tables that point at the image's own metadata: the guest's writes never land on a table, and a
// writable image whose tables share a cluster is refused (writes to one would change the other).
TEST_F(Qcow2, GuestWritesNeverLandOnTables) {
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", Path("good.qcow2"), "1M"});
  Tool({kQemuIo, "-c", "write -P 7 0 4k", Path("good.qcow2")});
  const std::string good = ReadFile(Path("good.qcow2"));
  const uint64_t l1 = Be64At(good, 40), l2 = Be64At(good, l1) & 0x00FFFFFFFFFFFE00ull;
  // The first data cluster's entry names the L1 table's cluster.
  std::string s = good;
  PutBe64At(&s, l2, 0x8000000000000000ull | l1);
  WriteFile(Path("bad.qcow2"), s);
  {
    auto image = OpenQcow2(Path("bad.qcow2"), false);
    ASSERT_TRUE(image);
    const std::string x(512, 'x');
    EXPECT_EQ(image->Write(0, x.data(), x.size()), EIO);
  }
  EXPECT_EQ(ReadFile(Path("bad.qcow2")).substr(l1, 8), good.substr(l1, 8)) << "the L1 table was written";
  // The refcount table in the header's cluster, where a new refcount block's offset would go over a field.
  s = good;
  PutBe64At(&s, 48, 0);
  WriteFile(Path("bad.qcow2"), s);
  RawOpenOptions o;
  std::string error;
  EXPECT_FALSE(Qcow2Image::Open(Path("bad.qcow2"), o, &error));
  EXPECT_EQ(error, Path("bad.qcow2") +
                       ": the image is damaged: two of its tables share a cluster (see qemu-img check) (use "
                       "readonly=on or -snapshot)");
  o.read_only = true;
  EXPECT_TRUE(Qcow2Image::Open(Path("bad.qcow2"), o, &error)) << error;
}

// Version 2 has no zero clusters: QEMU takes the flag there for corruption and fails the read, and so does
// Strobe, rather than return the cluster's bytes as if nothing were wrong.
TEST_F(Qcow2, AZeroFlagInAVersion2ImageFailsTheRead) {
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", "-o", "compat=0.10", Path("disk.qcow2"), "1M"});
  Tool({kQemuIo, "-c", "write -P 7 0 64k", Path("disk.qcow2")});
  std::string s = ReadFile(Path("disk.qcow2"));
  const uint64_t l2 = Be64At(s, Be64At(s, 40)) & 0x00FFFFFFFFFFFE00ull;
  s[l2 + 7] |= 1;
  WriteFile(Path("disk.qcow2"), s);
  int status = 0;
  Tool({kQemuImg, "convert", "-O", "raw", Path("disk.qcow2"), Path("out.raw")}, &status);
  EXPECT_NE(status, 0) << "QEMU read it";
  auto image = OpenQcow2(Path("disk.qcow2"), true);
  ASSERT_TRUE(image);
  char buf[512];
  EXPECT_EQ(image->Read(0, buf, sizeof buf), EIO);
}

// The file's size and the bytes it takes on the host's disk.
std::pair<uint64_t, uint64_t> FileSpace(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return {static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_blocks) * 512};
}

// discard=unmap: discarded whole clusters become unallocated (partial ones at the ends stay), their
// clusters are punched out of the file, and the next allocations take them again instead of growing the
// file. qemu-img finds no errors and no leaks, and reads what Strobe reads.
TEST_F(Qcow2, DiscardedClustersAreFreedAndTakenAgain) {
  constexpr uint64_t kCluster = 65536;
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", Path("disk.qcow2"), "4M"});
  std::string model(4 << 20, '\0');
  const std::string data = DiskBytes(1 << 20, 40) + std::string(1, 'x');
  {
    auto image = OpenQcow2(Path("disk.qcow2"), false, /*unmap=*/true);
    ASSERT_TRUE(image);
    ASSERT_EQ(image->Write(0, data.data(), 1 << 20), 0);
    model.replace(0, 1 << 20, data.substr(0, 1 << 20));
    ASSERT_EQ(image->Flush(), 0);
    const auto [size_before, used_before] = FileSpace(Path("disk.qcow2"));
    // From 100 bytes into cluster 2 to 100 bytes into cluster 8: clusters 3-7 go, 2 and 8 stay whole.
    ASSERT_EQ(image->Discard(2 * kCluster + 100, 6 * kCluster), 0);
    model.replace(3 * kCluster, 5 * kCluster, std::string(5 * kCluster, '\0'));
    EXPECT_TRUE(ReadInPieces(*image, 41) == model);
    const auto [size_after, used_after] = FileSpace(Path("disk.qcow2"));
    EXPECT_EQ(size_after, size_before);
    EXPECT_LE(used_after, used_before - 5 * kCluster + kCluster) << "the clusters stayed in the file";
    // Five new clusters elsewhere on the disk land in the freed ones: the file does not grow.
    const std::string more = DiskBytes(5 * kCluster, 42);
    ASSERT_EQ(image->Write(2 << 20, more.data(), more.size()), 0);
    model.replace(2 << 20, more.size(), more);
    EXPECT_EQ(FileSpace(Path("disk.qcow2")).first, size_before);
    EXPECT_TRUE(ReadInPieces(*image, 43) == model);
    // The disk's end: a discard up to it takes its last cluster too.
    ASSERT_EQ(image->Write((4 << 20) - kCluster, data.data(), kCluster), 0);
    ASSERT_EQ(image->Discard((4 << 20) - kCluster, kCluster), 0);
  }
  const std::string check = Tool({kQemuImg, "check", Path("disk.qcow2")});
  EXPECT_NE(check.find("No errors were found"), std::string::npos) << check;
  EXPECT_EQ(check.find("leaked"), std::string::npos) << check;
  EXPECT_TRUE(AsQemuReadsIt(Path("disk.qcow2")) == model);
  const std::string map = Tool({kQemuImg, "map", "--output=json", Path("disk.qcow2")});
  EXPECT_NE(map.find("\"start\": 196608, \"length\": 327680, \"depth\": 0, \"present\": false"),
            std::string::npos)
      << map;
}

// QEMU's default, discard=ignore: a discard changes nothing.
TEST_F(Qcow2, WithoutUnmapADiscardKeepsEverything) {
  Tool({kQemuImg, "create", "-q", "-f", "qcow2", Path("disk.qcow2"), "1M"});
  const std::string data = DiskBytes(1 << 20, 44);
  auto image = OpenQcow2(Path("disk.qcow2"), false);
  ASSERT_TRUE(image);
  ASSERT_EQ(image->Write(0, data.data(), data.size()), 0);
  const auto space = FileSpace(Path("disk.qcow2"));
  ASSERT_EQ(image->Discard(0, 1 << 20), 0);
  EXPECT_EQ(FileSpace(Path("disk.qcow2")), space);
  EXPECT_TRUE(ReadInPieces(*image, 45) == data);
  image.reset();
  auto read_only = OpenQcow2(Path("disk.qcow2"), true);
  ASSERT_TRUE(read_only);
  EXPECT_EQ(read_only->Discard(0, 4096), EROFS);
  EXPECT_EQ(read_only->WriteZeroes(0, 4096, false), EROFS);
}

// Over a backing file a version 3 image marks discarded clusters as zeros (the backing file's bytes
// must not show through); a version 2 image, which has no zero flag, keeps them.
TEST_F(Qcow2, DiscardsOverABackingFileNeverShowTheBackingBytes) {
  constexpr uint64_t kCluster = 65536;
  const std::string base = DiskBytes(1 << 20, 46);
  WriteFile(Path("base.raw"), base);
  for (const char* compat : {"1.1", "0.10"}) {
    SCOPED_TRACE(compat);
    const std::string overlay = Path(std::string("o") + compat + ".qcow2");
    Tool({kQemuImg, "create", "-q", "-f", "qcow2", "-o", std::string("compat=") + compat, "-b",
          Path("base.raw"), "-F", "raw", overlay});
    std::string model = base;
    const std::string mine = DiskBytes(4 * kCluster, 47) + "x";
    {
      auto image = OpenQcow2(overlay, false, /*unmap=*/true);
      ASSERT_TRUE(image);
      ASSERT_EQ(image->Write(kCluster, mine.data(), 4 * kCluster), 0);
      model.replace(kCluster, 4 * kCluster, mine.substr(0, 4 * kCluster));
      ASSERT_EQ(image->Discard(2 * kCluster, 2 * kCluster), 0);  // two clusters it wrote
      ASSERT_EQ(image->Discard(8 * kCluster, kCluster), 0);      // one it never wrote: the base's
      if (std::string(compat) == "1.1")
        model.replace(2 * kCluster, 2 * kCluster, std::string(2 * kCluster, '\0'));
      EXPECT_TRUE(ReadInPieces(*image, 48) == model);
    }
    const std::string check = Tool({kQemuImg, "check", overlay});
    EXPECT_NE(check.find("No errors were found"), std::string::npos) << check;
    EXPECT_EQ(check.find("leaked"), std::string::npos) << check;
    EXPECT_TRUE(AsQemuReadsIt(overlay) == model);
  }
}

// Zero writes: whole clusters by the zero flag (kept allocated without may_unmap, so that later writes go
// in place; given back with it), partial ones as zero bytes, compressed clusters replaced; version 2
// images without a zero flag get zero bytes or, with no backing file, unallocated clusters.
TEST_F(Qcow2, ZeroWritesReadAsZerosInEveryKindOfCluster) {
  constexpr uint64_t kCluster = 65536;
  const std::string raw = DiskBytes(2 << 20, 50);
  WriteFile(Path("disk.raw"), raw);
  Tool({kQemuImg, "convert", "-f", "raw", "-O", "qcow2", Path("disk.raw"), Path("plain.qcow2")});
  Tool({kQemuImg, "convert", "-c", "-f", "raw", "-O", "qcow2", Path("disk.raw"), Path("packed.qcow2")});
  Tool({kQemuImg, "convert", "-f", "raw", "-O", "qcow2", "-o", "compat=0.10", Path("disk.raw"),
        Path("v2.qcow2")});
  for (const char* name : {"plain.qcow2", "packed.qcow2", "v2.qcow2"}) {
    for (const bool unmap : {false, true}) {
      SCOPED_TRACE(std::string(name) + (unmap ? " unmap" : ""));
      const std::string copy = Path(std::string(unmap ? "u-" : "k-") + name);
      WriteFile(copy, ReadFile(Path(name)));
      std::string model = raw;
      {
        auto image = OpenQcow2(copy, false, unmap);
        ASSERT_TRUE(image);
        const auto zero = [&](uint64_t at, uint64_t n, bool may_unmap) {
          ASSERT_EQ(image->WriteZeroes(at, n, may_unmap), 0);
          model.replace(at, n, std::string(n, '\0'));
        };
        zero(kCluster - 300, 3 * kCluster + 600, false);  // partial, clusters 1-3, partial
        zero(6 * kCluster, 2 * kCluster, true);
        zero((2 << 20) - kCluster, kCluster, true);  // the last cluster
        // Into a cluster kept as preallocated zeros: the zeros around the new bytes stay.
        const std::string x(1000, 'x');
        ASSERT_EQ(image->Write(2 * kCluster + 5000, x.data(), x.size()), 0);
        model.replace(2 * kCluster + 5000, x.size(), x);
        EXPECT_TRUE(ReadInPieces(*image, 51) == model);
      }
      const std::string check = Tool({kQemuImg, "check", copy});
      EXPECT_NE(check.find("No errors were found"), std::string::npos) << check;
      EXPECT_EQ(check.find("leaked"), std::string::npos) << check;
      EXPECT_TRUE(AsQemuReadsIt(copy) == model);
    }
  }
}

}  // namespace
}  // namespace strobe::test
