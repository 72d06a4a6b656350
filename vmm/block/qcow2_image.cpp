// SPDX-License-Identifier: MIT
#include "vmm/block/qcow2_image.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vmm/block/image_format.h"
#include "vmm/host_file.h"

namespace strobe::vmm::block {

namespace {
constexpr uint32_t kMagic = 0x514649FB;                  // "QFI\xfb"
constexpr uint64_t kCopied = uint64_t{1} << 63;          // L1/L2: the cluster's refcount is exactly one
constexpr uint64_t kCompressed = uint64_t{1} << 62;      // L2: a compressed cluster
constexpr uint64_t kZeroFlag = 1;                        // L2 (version 3): the cluster reads as zeros
constexpr uint64_t kOffsetMask = 0x00FFFFFFFFFFFE00ull;  // bits 9-55: a host offset
// Incompatible feature bits (version 3).
constexpr uint64_t kDirty = 1, kCorrupt = 2, kExternalData = 4, kCompressionType = 8, kExtendedL2 = 16;
constexpr uint32_t kExtensionEnd = 0, kExtensionBackingFormat = 0xE2792ACA;
constexpr uint64_t kMaxL1Bytes = 32 << 20;  // QEMU's limits on the tables it loads
constexpr uint64_t kMaxRefcountTableBytes = 8 << 20;
constexpr uint64_t kMaxCachedBytes = 64 << 20;  // L2 tables and refcount blocks kept in memory
// What a cluster this process allocated serves (owner_): the kind in the top bits, below it the guest
// cluster (data), the L1 index (L2 tables) or the refcount table index (refcount blocks).
constexpr uint64_t kOwnData = uint64_t{1} << 60, kOwnL2 = uint64_t{2} << 60, kOwnRefcount = uint64_t{3} << 60;
constexpr uint64_t kOwnRefcountTable = uint64_t{4} << 60;

uint64_t Be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void PutBe64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

std::string Dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}
}  // namespace

std::unique_ptr<Qcow2Image> Qcow2Image::Open(const std::string& path, const RawOpenOptions& options,
                                             std::string* error) {
  return OpenInChain(path, options, error, {});
}

std::unique_ptr<Qcow2Image> Qcow2Image::OpenInChain(const std::string& path, const RawOpenOptions& asked,
                                                    std::string* error, const Chain& above) {
  RawOpenOptions options = asked;
  struct stat st;
  UniqueFd fd(OpenImageFile(path, &options, &st, error));
  if (fd.get() < 0) return nullptr;
  if (!LockImageFile(fd.get(), !options.read_only, path, error)) return nullptr;
  const off_t end = lseek(fd.get(), 0, SEEK_END);
  std::unique_ptr<Qcow2Image> image(new Qcow2Image());
  image->path_ = path;
  image->options_ = options;
  image->fd_ = fd.release();
  image->file_end_ = end > 0 ? static_cast<uint64_t>(end) : 0;
  image->device_ = static_cast<uint64_t>(st.st_dev);
  image->inode_ = static_cast<uint64_t>(st.st_ino);
  if (!image->Load(above, error)) return nullptr;
  return image;
}

Qcow2Image::~Qcow2Image() {
  if (fd_ >= 0) close(fd_);
}

bool Qcow2Image::Load(const Chain& above, std::string* error) {
  auto fail = [&](const std::string& what) {
    *error = path_ + ": " + what;
    return false;
  };
  uint8_t h[512] = {};
  if (file_end_ < 72) return fail("not a qcow2 image (shorter than a qcow2 header)");
  if (int err = ReadFull(fd_, 0, h, static_cast<size_t>(std::min<uint64_t>(file_end_, sizeof h))))
    return fail(std::string("read error: ") + std::strerror(err));
  if (Be32(h) != kMagic) return fail("not a qcow2 image");
  version_ = Be32(h + 4);
  if (version_ != 2 && version_ != 3)
    return fail("qcow2 version " + std::to_string(version_) + " is not supported (2 or 3)");
  const uint64_t backing_offset = Be64(h + 8);
  const uint32_t backing_length = Be32(h + 16);
  cluster_bits_ = Be32(h + 20);
  if (cluster_bits_ < 9 || cluster_bits_ > 21)
    return fail("cluster size 2^" + std::to_string(cluster_bits_) + " is outside 512 bytes to 2 MiB");
  cluster_size_ = uint64_t{1} << cluster_bits_;
  l2_entries_ = cluster_size_ / 8;
  size_ = Be64(h + 24);
  if (Be32(h + 32) != 0)
    return fail("an encrypted qcow2 image (not supported; qemu-img convert with the key writes a raw one)");
  const uint32_t l1_size = Be32(h + 36);
  l1_offset_ = Be64(h + 40);
  refcount_table_offset_ = Be64(h + 48);
  const uint32_t refcount_clusters = Be32(h + 56);
  const uint32_t snapshots = Be32(h + 60);
  uint64_t incompatible = 0, autoclear = 0;
  uint32_t header_length = 72;
  if (version_ == 3) {
    incompatible = Be64(h + 72);
    autoclear = Be64(h + 88);
    refcount_order_ = Be32(h + 96);
    header_length = Be32(h + 100);
    if (header_length < 104 || header_length > sizeof h || header_length > cluster_size_)
      return fail("qcow2 header length " + std::to_string(header_length) + " is invalid");
    if (refcount_order_ > 6) return fail("refcount order " + std::to_string(refcount_order_) + " is invalid");
  }
  if (incompatible & kExternalData)
    return fail("the image keeps its data in an external file (not supported)");
  if (incompatible & kExtendedL2) return fail("extended L2 entries (subclusters) are not supported");
  if ((incompatible & kCompressionType) && header_length > 104 && h[104] != 0)
    return fail(
        "zstd-compressed clusters are not supported (qemu-img convert -O qcow2 rewrites them with zlib)");
  if (const uint64_t unknown = incompatible & ~(kDirty | kCorrupt | kCompressionType)) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(unknown));
    return fail(std::string("unknown incompatible qcow2 features ") + hex);
  }
  if (!options_.read_only) {
    const std::string instead = " (use readonly=on or -snapshot)";
    if (snapshots) return fail("the image has internal snapshots, which Strobe does not write" + instead);
    if (incompatible & kCorrupt)
      return fail("the image is marked corrupt: qemu-img check -r all " + path_ + " repairs it" + instead);
    if (incompatible & kDirty)
      return fail("the image was not closed cleanly: qemu-img check -r all " + path_ + " repairs it" +
                  instead);
    if (refcount_order_ != 4)
      return fail("refcounts of " + std::to_string(1u << refcount_order_) +
                  " bits: Strobe writes images with 16-bit refcounts only" + instead);
  }
  if (size_ == 0 || size_ % kSectorSize != 0)
    return fail("virtual size of " + std::to_string(size_) +
                " bytes is not a whole number of 512-byte sectors");
  if (options_.cdrom) {
    if (size_ < 2048) return fail("virtual size is less than one 2048-byte CD-ROM block");
    size_ -= size_ % 2048;
  }
  // The L1 table must cover the disk, and lie in the file. (size_ + per_l1 - 1 would wrap for a size near
  // 2^64, and let a one-entry table pass for a disk of exabytes.)
  const uint64_t per_l1 = l2_entries_ * cluster_size_;
  const uint64_t l1_needed = size_ / per_l1 + (size_ % per_l1 != 0);
  if (l1_needed > kMaxL1Bytes / 8)
    return fail("virtual size of " + std::to_string(size_) + " bytes is too large for " +
                std::to_string(cluster_size_) + "-byte clusters (at most " +
                std::to_string(kMaxL1Bytes / 8 * per_l1) + ")");
  if (uint64_t{l1_size} * 8 > kMaxL1Bytes || l1_size < l1_needed)
    return fail("L1 table of " + std::to_string(l1_size) + " entries does not fit the disk");
  if (l1_size && (l1_offset_ % cluster_size_ || !InFile(l1_offset_, uint64_t{l1_size} * 8)))
    return fail("L1 table outside the file");
  std::vector<uint8_t> raw(uint64_t{l1_size} * 8);
  if (int err = ReadFull(fd_, l1_offset_, raw.data(), raw.size()))
    return fail(std::string("read error: ") + std::strerror(err));
  l1_.resize(l1_size);
  for (uint32_t i = 0; i < l1_size; ++i) l1_[i] = Be64(&raw[8 * i]);
  if (!options_.read_only) {
    const uint64_t bytes = uint64_t{refcount_clusters} * cluster_size_;
    if (!refcount_clusters || bytes > kMaxRefcountTableBytes || refcount_table_offset_ % cluster_size_ ||
        !InFile(refcount_table_offset_, bytes))
      return fail("refcount table outside the file");
    raw.resize(bytes);
    if (int err = ReadFull(fd_, refcount_table_offset_, raw.data(), raw.size()))
      return fail(std::string("read error: ") + std::strerror(err));
    refcount_table_.resize(bytes / 8);
    for (size_t i = 0; i < refcount_table_.size(); ++i) refcount_table_[i] = Be64(&raw[8 * i]);
  }
  // Header extensions: the backing file's format is the one that matters here.
  std::string backing_format;
  for (uint64_t at = header_length; at + 8 <= cluster_size_ && at + 8 <= file_end_;) {
    uint8_t ext[8];
    if (ReadFull(fd_, at, ext, 8)) break;
    const uint32_t type = Be32(ext), length = Be32(ext + 4);
    if (type == kExtensionEnd) break;
    if (type == kExtensionBackingFormat && length < 64 && InFile(at + 8, length)) {
      backing_format.resize(length);
      if (ReadFull(fd_, at + 8, backing_format.data(), length)) backing_format.clear();
    }
    at += 8 + ((uint64_t{length} + 7) & ~uint64_t{7});
  }
  if (backing_offset) {
    if (backing_length == 0 || backing_length > 1023 || !InFile(backing_offset, backing_length))
      return fail("backing file name outside the file");
    std::string name(backing_length, '\0');
    if (int err = ReadFull(fd_, backing_offset, name.data(), backing_length))
      return fail(std::string("read error: ") + std::strerror(err));
    const std::string file = name[0] == '/' ? name : Dir(path_) + name;
    Chain chain = above;
    chain.emplace_back(device_, inode_);
    struct stat st;
    if (stat(file.c_str(), &st) == 0)
      for (const auto& [device, inode] : chain)
        if (device == static_cast<uint64_t>(st.st_dev) && inode == static_cast<uint64_t>(st.st_ino))
          return fail("backing file " + file + " is this image or one above it in its chain (a loop)");
    if (chain.size() > kMaxBackingDepth)
      return fail("backing chain longer than " + std::to_string(kMaxBackingDepth) + " images");
    RawOpenOptions base;
    base.read_only = true;
    base.probe = false;
    std::string why;
    if (backing_format.empty()) {  // probe, as QEMU does without a format
      const char* probed = ProbeFile(file);
      backing_format = probed ? probed : "raw";
    }
    if (backing_format == "qcow2") {
      backing_ = OpenInChain(file, base, &why, chain);
    } else if (backing_format == "raw") {
      backing_ = RawImage::Open(file, base, &why);
    } else {
      return fail("backing file " + file + " is a " + backing_format + " image (raw or qcow2 only)");
    }
    if (!backing_) return fail("backing file: " + why);
  }
  next_free_ = (file_end_ + cluster_size_ - 1) & ~(cluster_size_ - 1);
  open_end_ = next_free_;
  if (!options_.read_only) {
    std::string what;
    if (!MapMetadata(&what)) return fail(what + " (use readonly=on or -snapshot)");
  }
  scratch_.resize(cluster_size_);
  // A writer that does not know an autoclear feature clears it (the bitmaps it marks would go stale).
  if (!options_.read_only && autoclear) {
    uint8_t zero[8] = {};
    if (int err = WriteFull(fd_, 88, zero, 8)) return fail(std::string("write error: ") + std::strerror(err));
  }
  return true;
}

bool Qcow2Image::MapMetadata(std::string* what) {
  // Tables that point outside the file or are not aligned are left out: using them fails with EIO anyway.
  auto in_file = [&](uint64_t offset) {
    return offset % cluster_size_ == 0 && InFile(offset, cluster_size_);
  };
  metadata_.clear();
  metadata_.push_back(0);  // the header
  const uint64_t l1_clusters = (l1_.size() * 8 + cluster_size_ - 1) / cluster_size_;
  for (uint64_t c = 0; c < l1_clusters; ++c) metadata_.push_back(l1_offset_ + c * cluster_size_);
  for (uint64_t c = 0; c < refcount_table_.size() * 8 / cluster_size_; ++c)
    metadata_.push_back(refcount_table_offset_ + c * cluster_size_);
  for (uint64_t e : l1_)
    if (const uint64_t l2 = e & kOffsetMask; l2 && in_file(l2)) metadata_.push_back(l2);
  for (uint64_t e : refcount_table_)
    if (const uint64_t block = e & ~uint64_t{511}; block && in_file(block)) metadata_.push_back(block);
  std::sort(metadata_.begin(), metadata_.end());
  // A cluster listed twice is two tables in one place (or one L2 table for two L1 entries, which only
  // snapshots share): the writes to one would change the other.
  if (std::adjacent_find(metadata_.begin(), metadata_.end()) != metadata_.end()) {
    *what = "the image is damaged: two of its tables share a cluster (see qemu-img check)";
    return false;
  }
  return true;
}

bool Qcow2Image::IsMetadata(uint64_t host) const {
  return std::binary_search(metadata_.begin(), metadata_.end(), host & ~(cluster_size_ - 1));
}

bool Qcow2Image::Owned(uint64_t host, uint64_t owner) const {
  if (host < open_end_ || host % cluster_size_) return false;
  const uint64_t i = (host - open_end_) >> cluster_bits_;
  return i < owner_.size() && owner_[i] == owner;
}

uint64_t Qcow2Image::Claim(uint64_t owner) {
  const uint64_t at = next_free_;
  next_free_ += cluster_size_;
  owner_.push_back(owner);  // next_free_ only moves on a cluster at a time from open_end_
  return at;
}

int Qcow2Image::CheckEntry(uint64_t index, uint64_t entry) const {
  if (entry & kCompressed) {
    // Strobe never writes compressed clusters: one that starts past the image's end at open is damage.
    const unsigned x = 62 - (cluster_bits_ - 8);
    return (entry & ((uint64_t{1} << x) - 1)) >= open_end_ ? EIO : 0;
  }
  if (version_ == 2 && (entry & kZeroFlag)) return EIO;
  const uint64_t host = entry & kOffsetMask;
  if (!host) return 0;
  if (host % cluster_size_) return EIO;
  return host < open_end_ || Owned(host, kOwnData | index) ? 0 : EIO;
}

int Qcow2Image::LoadL2(uint64_t l2_offset, std::vector<uint64_t>** table) const {
  auto it = l2_cache_.find(l2_offset);
  if (it == l2_cache_.end()) {
    if (l2_offset % cluster_size_ || !InFile(l2_offset, cluster_size_)) return EIO;
    if ((l2_cache_.size() + refcount_cache_.size() + 1) * cluster_size_ > kMaxCachedBytes) l2_cache_.clear();
    if (int err = ReadFull(fd_, l2_offset, scratch_.data(), cluster_size_)) return err;
    std::vector<uint64_t> t(l2_entries_);
    for (uint64_t i = 0; i < l2_entries_; ++i) t[i] = Be64(&scratch_[8 * i]);
    it = l2_cache_.emplace(l2_offset, std::move(t)).first;
  }
  *table = &it->second;
  return 0;
}

int Qcow2Image::Lookup(uint64_t index, uint64_t* entry, uint64_t* l2) const {
  const uint64_t l1i = index / l2_entries_;
  *entry = 0;
  *l2 = 0;
  if (l1i >= l1_.size()) return EIO;
  const uint64_t l2_offset = l1_[l1i] & kOffsetMask;
  if (!l2_offset) return 0;
  if (l2_offset >= open_end_ && !Owned(l2_offset, kOwnL2 | l1i)) return EIO;
  std::vector<uint64_t>* table;
  if (int err = LoadL2(l2_offset, &table)) return err;
  *entry = (*table)[index % l2_entries_];
  *l2 = l2_offset;
  return 0;
}

int Qcow2Image::ReadCluster(uint64_t index, uint64_t entry, uint8_t* out) {
  if (entry & kCompressed) {
    const unsigned x = 62 - (cluster_bits_ - 8);
    const uint64_t host = entry & ((uint64_t{1} << x) - 1);
    const uint64_t sectors = ((entry & ~(kCopied | kCompressed)) >> x) + 1;
    if (host >= file_end_) return EIO;
    const uint64_t length = std::min(sectors * 512 - (host & 511), file_end_ - host);
    std::vector<uint8_t> packed(length);
    if (int err = ReadFull(fd_, host, packed.data(), length)) return err;
    z_stream z{};
    if (inflateInit2(&z, -12) != Z_OK) return EIO;  // raw deflate with a 4 KiB window, as QEMU writes it
    z.next_in = packed.data();
    z.avail_in = static_cast<uInt>(length);
    z.next_out = out;
    z.avail_out = static_cast<uInt>(cluster_size_);
    const int rc = inflate(&z, Z_FINISH);
    const bool full = (rc == Z_STREAM_END || rc == Z_BUF_ERROR) && z.avail_out == 0;
    inflateEnd(&z);
    return full ? 0 : EIO;
  }
  const uint64_t host = entry & kOffsetMask;
  if ((version_ == 3 && (entry & kZeroFlag)) || (!host && !backing_)) {
    std::memset(out, 0, cluster_size_);
    return 0;
  }
  if (!host) {  // never written here: the backing image's bytes, zeros past its end
    const uint64_t start = index * cluster_size_;
    const uint64_t have = start < backing_->size() ? std::min(cluster_size_, backing_->size() - start) : 0;
    std::memset(out + have, 0, cluster_size_ - have);
    return have ? backing_->Read(start, out, have) : 0;
  }
  if (host % cluster_size_ || host >= file_end_) return EIO;
  const uint64_t have = std::min(cluster_size_, file_end_ - host);  // a file may end inside its last cluster
  std::memset(out + have, 0, cluster_size_ - have);
  return ReadFull(fd_, host, out, have);
}

int Qcow2Image::Read(uint64_t offset, void* buffer, size_t length) {
  if (int err = CheckRange(offset, length)) return err;
  std::lock_guard<std::mutex> lock(mu_);
  auto* out = static_cast<uint8_t*>(buffer);
  while (length > 0) {
    const uint64_t index = offset >> cluster_bits_, in = offset & (cluster_size_ - 1);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, cluster_size_ - in));
    uint64_t entry, l2;
    if (int err = Lookup(index, &entry, &l2)) return err;
    if (int err = CheckEntry(index, entry)) return err;
    const uint64_t host = entry & kOffsetMask;
    if (!(entry & kCompressed) && host && !(version_ == 3 && (entry & kZeroFlag)) &&
        host % cluster_size_ == 0 && InFile(host + in, n)) {
      if (int err = ReadFull(fd_, host + in, out, n)) return err;  // the common case: straight from the file
    } else {
      if (int err = ReadCluster(index, entry, scratch_.data())) return err;
      std::memcpy(out, scratch_.data() + in, n);
    }
    out += n;
    offset += n;
    length -= n;
  }
  return 0;
}

int Qcow2Image::Put(uint64_t offset, const void* data, size_t length) {
  if (int err = WriteFull(fd_, offset, data, length)) return err;
  file_end_ = std::max(file_end_, offset + length);
  return 0;
}

int Qcow2Image::LoadRefcountBlock(uint64_t offset, std::vector<uint16_t>** block) {
  auto it = refcount_cache_.find(offset);
  if (it == refcount_cache_.end()) {
    if (offset % cluster_size_ || !InFile(offset, cluster_size_)) return EIO;
    if ((l2_cache_.size() + refcount_cache_.size() + 1) * cluster_size_ > kMaxCachedBytes)
      refcount_cache_.clear();
    std::vector<uint8_t> raw(cluster_size_);
    if (int err = ReadFull(fd_, offset, raw.data(), raw.size())) return err;
    std::vector<uint16_t> b(cluster_size_ / 2);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint16_t>(raw[2 * i] << 8 | raw[2 * i + 1]);
    it = refcount_cache_.emplace(offset, std::move(b)).first;
  }
  *block = &it->second;
  return 0;
}

int Qcow2Image::AddRefcount(uint64_t host, int delta, int* now) {
  const uint64_t per_block = cluster_size_ / 2;
  const uint64_t cluster = host >> cluster_bits_;
  const uint64_t ti = cluster / per_block, bi = cluster % per_block;
  if (ti >= refcount_table_.size())
    if (int err = GrowRefcountTable(ti)) return err;
  uint64_t block_offset = refcount_table_[ti] & ~uint64_t{511};
  if (block_offset >= open_end_ && !Owned(block_offset, kOwnRefcount | ti)) return EIO;
  if (!block_offset) {
    // A new refcount block at the end of the file. It counts itself when it covers its own cluster; else
    // the block that does counts it. Its contents reach the file before the table points at it.
    block_offset = Claim(kOwnRefcount | ti);
    const uint64_t own = block_offset >> cluster_bits_;
    std::vector<uint8_t> raw(cluster_size_, 0);
    if (own / per_block == ti) raw[2 * (own % per_block) + 1] = 1;
    if (int err = Put(block_offset, raw.data(), raw.size())) return err;
    if (own / per_block != ti)
      if (int err = AddRefcount(block_offset, 1)) return err;
    uint8_t be[8];
    PutBe64(be, block_offset);
    if (int err = Put(refcount_table_offset_ + 8 * ti, be, 8)) return err;
    refcount_table_[ti] = block_offset;
  }
  std::vector<uint16_t>* block;
  if (int err = LoadRefcountBlock(block_offset, &block)) return err;
  const int value = (*block)[bi] + delta;
  if (value < 0 || value > 0xFFFF) return EIO;  // damaged counts: stop rather than make them worse
  (*block)[bi] = static_cast<uint16_t>(value);
  if (now) *now = value;
  const uint8_t be[2] = {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  return Put(block_offset + 2 * bi, be, 2);
}

// The refcount table is full: a larger copy at the end of the file takes its place. The copy, its refcount
// blocks and their counts are written first and the header is switched in one write (offset and size are
// neighbours), then the old table's clusters are released; stopping before the switch leaks the copy.
int Qcow2Image::GrowRefcountTable(uint64_t needed) {
  const uint64_t per_cluster = cluster_size_ / 8;
  const uint64_t clusters =
      std::max<uint64_t>(2 * refcount_table_.size(), needed + 1 + per_cluster) / per_cluster;
  if (clusters * cluster_size_ > kMaxRefcountTableBytes) return ENOSPC;
  const uint64_t old_offset = refcount_table_offset_, old_clusters = refcount_table_.size() / per_cluster;
  const uint64_t at = next_free_;
  for (uint64_t c = 0; c < clusters; ++c) Claim(kOwnRefcountTable);
  // From here on the table lives in memory as the copy, and the entries AddRefcount writes go to the copy.
  std::vector<uint64_t> old = refcount_table_;
  refcount_table_.resize(clusters * per_cluster, 0);
  refcount_table_offset_ = at;
  auto undo = [&](int err) {
    refcount_table_ = old;
    refcount_table_offset_ = old_offset;
    return err;
  };
  for (uint64_t c = 0; c < clusters; ++c)
    if (int err = AddRefcount(at + c * cluster_size_, 1)) return undo(err);
  std::vector<uint8_t> raw(clusters * cluster_size_, 0);
  for (size_t i = 0; i < refcount_table_.size(); ++i) PutBe64(&raw[8 * i], refcount_table_[i]);
  if (int err = Put(at, raw.data(), raw.size())) return undo(err);
  uint8_t header[12];
  PutBe64(header, at);
  header[8] = static_cast<uint8_t>(clusters >> 24), header[9] = static_cast<uint8_t>(clusters >> 16);
  header[10] = static_cast<uint8_t>(clusters >> 8), header[11] = static_cast<uint8_t>(clusters);
  if (int err = Put(48, header, sizeof header)) return undo(err);
  for (uint64_t c = 0; c < old_clusters; ++c)
    if (int err = AddRefcount(old_offset + c * cluster_size_, -1)) return err;
  return 0;
}

int Qcow2Image::Allocate(uint64_t owner, uint64_t* host) {
  if ((owner & ~(kOwnData - 1)) == kOwnData && !free_.empty()) {
    const uint64_t at = free_.back();  // counted in a refcount block that exists: no new one is made
    if (int err = AddRefcount(at, 1)) return err;
    free_.pop_back();
    if (at >= open_end_) owner_[(at - open_end_) >> cluster_bits_] = owner;
    *host = at;
    return 0;
  }
  const uint64_t at = Claim(owner);  // first, so that a refcount block made for it goes after it
  if (int err = AddRefcount(at, 1)) return err;
  *host = at;
  return 0;
}

int Qcow2Image::SetL2Entry(uint64_t index, uint64_t entry) {
  const uint64_t l1i = index / l2_entries_, l2i = index % l2_entries_;
  uint64_t l2_offset = l1_[l1i] & kOffsetMask;
  uint8_t be[8];
  if (!l2_offset) {  // a new L2 table holding just this entry, then the L1 entry pointing at it
    if (int err = Allocate(kOwnL2 | l1i, &l2_offset)) return err;
    std::vector<uint64_t> table(l2_entries_, 0);
    table[l2i] = entry;
    std::vector<uint8_t> raw(cluster_size_, 0);
    PutBe64(&raw[8 * l2i], entry);
    if (int err = Put(l2_offset, raw.data(), raw.size())) return err;
    l2_cache_[l2_offset] = std::move(table);
    l1_[l1i] = l2_offset | kCopied;
    PutBe64(be, l1_[l1i]);
    return Put(l1_offset_ + 8 * l1i, be, 8);
  }
  if (!(l1_[l1i] & kCopied)) return EIO;  // a shared table: only images with snapshots have them
  std::vector<uint64_t>* table;
  if (int err = LoadL2(l2_offset, &table)) return err;
  (*table)[l2i] = entry;
  PutBe64(be, entry);
  return Put(l2_offset + 8 * l2i, be, 8);
}

int Qcow2Image::WriteCluster(uint64_t index, uint64_t in, const uint8_t* data, size_t length) {
  uint64_t entry, l2;
  if (int err = Lookup(index, &entry, &l2)) return err;
  if (int err = CheckEntry(index, entry)) return err;
  const uint64_t host = entry & kOffsetMask;
  const bool zero = version_ == 3 && (entry & kZeroFlag);
  // A cluster of the file at open that holds a table (or lies past the file's end, where this process puts
  // new clusters) is not guest data, whatever the entry says: written over, or given up, it would corrupt
  // the image.
  const bool foreign = host && host < open_end_ && (IsMetadata(host) || host >= file_end_);
  if (!(entry & kCompressed) && host && (entry & kCopied)) {
    if (foreign) return EIO;
    if (!zero) return Put(host + in, data, length);  // the image's own cluster: in place
    // A preallocated cluster that reads as zeros: zeros around the new bytes, then it reads as itself.
    std::memset(scratch_.data(), 0, cluster_size_);
    std::memcpy(scratch_.data() + in, data, length);
    if (int err = Put(host, scratch_.data(), cluster_size_)) return err;
    return SetL2Entry(index, host | kCopied);
  }
  // The clusters the entry holds now, which lose this reference below: checked first, so that a damaged
  // entry fails the write before anything changes.
  uint64_t first = host, last = host;
  if (entry & kCompressed) {
    CompressedSpan(entry, &first, &last);
    for (uint64_t c = first; c <= last; c += cluster_size_)
      if (IsMetadata(c)) return EIO;
  } else if (foreign) {
    return EIO;
  }
  // A cluster of its own: what the disk holds there now, with the new bytes over it (all of it new: the
  // bytes alone).
  uint64_t fresh;
  if (length == cluster_size_) {
    if (int err = Allocate(kOwnData | index, &fresh)) return err;
    if (int err = Put(fresh, data, cluster_size_)) return err;
  } else {
    if (int err = ReadCluster(index, entry, scratch_.data())) return err;
    std::memcpy(scratch_.data() + in, data, length);
    if (int err = Allocate(kOwnData | index, &fresh)) return err;
    if (int err = Put(fresh, scratch_.data(), cluster_size_)) return err;
  }
  if (int err = SetL2Entry(index, fresh | kCopied)) return err;
  return Release(entry, first, last);  // what the entry pointed at loses this reference
}

void Qcow2Image::CompressedSpan(uint64_t entry, uint64_t* first, uint64_t* last) const {
  const unsigned x = 62 - (cluster_bits_ - 8);
  const uint64_t start = entry & ((uint64_t{1} << x) - 1);
  const uint64_t sectors = ((entry & ~(kCopied | kCompressed)) >> x) + 1;
  *first = start & ~(cluster_size_ - 1);
  *last = std::min(start + sectors * 512 - (start & 511), open_end_) - 1;  // CheckEntry: start < open_end_
}

int Qcow2Image::Release(uint64_t entry, uint64_t first, uint64_t last) {
  if (!(entry & kCompressed) && !(entry & kOffsetMask)) return 0;
  for (uint64_t c = first; c <= last; c += cluster_size_) {
    int now = 0;
    if (int err = AddRefcount(c, -1, &now)) return err;
    if (now != 0 || !options_.unmap) continue;
    // Nobody counts it any more (a compressed cluster's bytes may have shared it until now). Punching is a
    // hint to the host: a file system without holes keeps the bytes.
    (void)PunchHole(fd_, c, cluster_size_);
    if (c >= open_end_) owner_[(c - open_end_) >> cluster_bits_] = 0;
    free_.push_back(c);
  }
  return 0;
}

int Qcow2Image::ZeroCluster(uint64_t index, Zeroing how) {
  uint64_t entry, l2;
  if (int err = Lookup(index, &entry, &l2)) return err;
  if (int err = CheckEntry(index, entry)) return err;
  const uint64_t host = entry & kOffsetMask;
  const bool compressed = entry & kCompressed;
  const bool own = host && !compressed && (entry & kCopied);       // a cluster of this image's, in place
  if (how == Zeroing::kDiscard && !host && !compressed) return 0;  // nothing held: nothing to give back
  if (own && host < open_end_ && (IsMetadata(host) || host >= file_end_)) return EIO;  // see WriteCluster
  uint64_t target;
  if (how == Zeroing::kZeroKeep && own) {
    if (version_ == 2) {
      std::memset(scratch_.data(), 0, cluster_size_);
      return Put(host, scratch_.data(), cluster_size_);
    }
    target = host | kCopied | kZeroFlag;  // preallocated zeros: written in place later (WriteCluster)
  } else if (!backing_) {
    target = 0;  // unallocated reads as zeros
  } else if (version_ == 3) {
    target = kZeroFlag;
  } else if (how == Zeroing::kDiscard) {
    return 0;  // a version 2 image over a backing file has no way to forget its data but zeros
  } else {
    std::vector<uint8_t> zeros(cluster_size_, 0);
    return WriteCluster(index, 0, zeros.data(), zeros.size());
  }
  if (target == entry || (target == kZeroFlag && version_ == 3 && (entry & kZeroFlag) && !host)) return 0;
  uint64_t first = host, last = host;
  if (compressed) {
    CompressedSpan(entry, &first, &last);
    for (uint64_t c = first; c <= last; c += cluster_size_)
      if (IsMetadata(c)) return EIO;
  }
  if (int err = SetL2Entry(index, target)) return err;  // the table first: a stop here leaks, never shares
  return target & kOffsetMask ? 0 : Release(entry, first, last);
}

bool Qcow2Image::ReadsAsZeros(uint64_t index, int* err) const {
  uint64_t entry, l2;
  if ((*err = Lookup(index, &entry, &l2)) || (*err = CheckEntry(index, entry))) return false;
  if (entry & kCompressed) return false;
  return (version_ == 3 && (entry & kZeroFlag)) || (!(entry & kOffsetMask) && !backing_);
}

int Qcow2Image::Discard(uint64_t offset, uint64_t length) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  if (!options_.unmap) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t first = (offset + cluster_size_ - 1) >> cluster_bits_;
  // A partial cluster at either end is left as it is, but for the disk's last one, which ends with the disk.
  const uint64_t end = offset + length == size_ ? (size_ + cluster_size_ - 1) >> cluster_bits_
                                                : (offset + length) >> cluster_bits_;
  for (uint64_t index = first; index < end; ++index)
    if (int err = ZeroCluster(index, Zeroing::kDiscard)) return err;
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

int Qcow2Image::WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  std::lock_guard<std::mutex> lock(mu_);
  const Zeroing how = may_unmap && options_.unmap ? Zeroing::kZeroUnmap : Zeroing::kZeroKeep;
  std::vector<uint8_t> zeros;
  int err = 0;
  while (length > 0) {
    const uint64_t index = offset >> cluster_bits_, at = offset & (cluster_size_ - 1);
    const uint64_t n = std::min<uint64_t>(length, cluster_size_ - at);
    // The image's last cluster may end with the disk: whole when it holds the rest of the disk.
    const bool whole = at == 0 && (n == cluster_size_ || offset + n == size_);
    if (whole) {
      if (int e = ZeroCluster(index, how)) return e;
    } else if (!ReadsAsZeros(index, &err)) {  // part of a cluster that holds data: zero bytes over it
      if (err) return err;
      zeros.resize(cluster_size_, 0);
      if (int e = WriteCluster(index, at, zeros.data(), static_cast<size_t>(n))) return e;
    }
    offset += n;
    length -= n;
  }
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

int Qcow2Image::Write(uint64_t offset, const void* buffer, size_t length) {
  if (options_.read_only) return EROFS;
  if (int err = CheckRange(offset, length)) return err;
  std::lock_guard<std::mutex> lock(mu_);
  const auto* in = static_cast<const uint8_t*>(buffer);
  while (length > 0) {
    const uint64_t index = offset >> cluster_bits_, at = offset & (cluster_size_ - 1);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, cluster_size_ - at));
    if (int err = WriteCluster(index, at, in, n)) return err;
    in += n;
    offset += n;
    length -= n;
  }
  return options_.write_through && fdatasync(fd_) != 0 ? errno : 0;
}

int Qcow2Image::WriteV(uint64_t offset, const iovec* segments, int count) {
  if (count == 1) return Write(offset, segments[0].iov_base, segments[0].iov_len);
  std::vector<uint8_t> gathered(SegmentsLength(segments, count));
  size_t at = 0;
  for (int i = 0; i < count; ++i) {
    std::memcpy(gathered.data() + at, segments[i].iov_base, segments[i].iov_len);
    at += segments[i].iov_len;
  }
  return Write(offset, gathered.data(), gathered.size());
}

bool Qcow2Image::Origin(uint64_t offset, BlockOrigin* origin) const {
  constexpr uint64_t kBlock = 4096;
  if (offset % kBlock != 0 || offset + kBlock > size_ || cluster_size_ < kBlock) return false;
  uint64_t entry, l2;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Lookup(offset >> cluster_bits_, &entry, &l2) != 0 || CheckEntry(offset >> cluster_bits_, entry) != 0)
      return false;
  }
  const uint64_t host = entry & kOffsetMask;
  if ((entry & kCompressed) || (version_ == 3 && (entry & kZeroFlag))) return false;
  if (host) {  // the image's own bytes: a file nobody writes only when this image is read-only
    if (!options_.read_only || host % cluster_size_ != 0) return false;
    *origin = {device_, inode_, host + (offset & (cluster_size_ - 1))};
    return true;
  }
  return backing_ && offset + kBlock <= backing_->size() && backing_->Origin(offset, origin);
}

int Qcow2Image::Flush() {
  if (options_.ignore_flush || options_.read_only) return 0;
  return fdatasync(fd_) != 0 ? errno : 0;
}

}  // namespace strobe::vmm::block
