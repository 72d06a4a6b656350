// SPDX-License-Identifier: MIT
// QEMU's qcow2 image format (versions 2 and 3, facts from QEMU's docs/interop/qcow2.txt), read and written:
// the disk's clusters are found through a two-level table (L1 -> L2 -> host cluster); clusters never written
// read as zeros or from the backing file (a raw or qcow2 image, opened read-only), zero clusters (v3) read
// as zeros, compressed clusters (deflate) are inflated. A write to a cluster the image does not hold yet, or
// holds compressed or as zeros, allocates a new cluster at the end of the file and fills it with what the
// disk held there plus the new bytes; a cluster the image holds (COPIED, refcount 1) is written in place.
// Every allocation is counted in the refcount blocks (16-bit refcounts, QEMU's default; new blocks, and a
// larger refcount table when the old one is full, are made as needed) before the tables point at it, and
// metadata is written through at once in that order (refcount, data, L2, L1), so a process that stops at any
// point leaves at worst a leaked cluster (`qemu-img check` reports leaks, never corruption); Flush makes
// everything durable (fdatasync).
//
// Refused, with one line saying what to do: encryption, an external data file, extended L2 entries, zstd
// compression and unknown incompatible features; for writing (use readonly=on or -snapshot): internal
// snapshots, refcount widths other than 16 bits, and images marked dirty or corrupt. Damaged tables (an
// offset outside the file or not aligned, sizes that do not fit) make the access fail with EIO, never a
// crash. Locks as raw images (raw_image.h), so QEMU and Strobe exclude each other on qcow2 files too.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vmm/block/backend.h"
#include "vmm/block/raw_image.h"

namespace strobe::vmm::block {

class Qcow2Image final : public BlockBackend {
 public:
  static constexpr int kMaxBackingDepth = 16;
  // The image at path; options as for RawImage (read_only, write_through, ignore_flush, auto_read_only,
  // cdrom). nullptr with *error set (one line, "PATH: what is wrong").
  static std::unique_ptr<Qcow2Image> Open(const std::string& path, const RawOpenOptions& options,
                                          std::string* error);
  ~Qcow2Image() override;
  Qcow2Image(const Qcow2Image&) = delete;
  Qcow2Image& operator=(const Qcow2Image&) = delete;

  uint64_t size() const override { return size_; }
  bool read_only() const override { return options_.read_only; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t offset, void* buffer, size_t length) override;
  int Write(uint64_t offset, const void* buffer, size_t length) override;
  // A request's pages gathered first, so that a new cluster is allocated once with all its new bytes
  // (the default, a Write per 4 KiB page, filled each cluster with zeros and then wrote it over in pieces).
  int WriteV(uint64_t offset, const iovec* segments, int count) override;
  int Flush() override;
  // Whole clusters only (a discard is a hint; zeros in a part of a cluster are written as data). With
  // unmap (discard=unmap) a discarded cluster is unmapped: its L2 entry says unallocated (no backing
  // image) or zeros (version 3; a version 2 image over a backing file keeps its data, which the backing
  // file's would otherwise show through), its refcount drops, and a cluster nobody counts any more is
  // punched out of the file and taken again by the next allocation. Zeros: a zero flag (version 3) or an
  // unallocated entry (no backing image) where that reads as zeros, else zero bytes written.
  int Discard(uint64_t offset, uint64_t length) override;
  int WriteZeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  // Disk sharing (vmm/disk_pages.h): 4 KiB never written in this image come from its backing image's origin;
  // in a read-only image, its own cluster's bytes in this file. Not for compressed or zero clusters, or
  // clusters smaller than 4 KiB.
  bool Origin(uint64_t offset, BlockOrigin* origin) const override;
  const char* format() const override { return "qcow2"; }
  const BlockBackend* backing() const override { return backing_.get(); }
  uint32_t version() const { return version_; }
  uint64_t cluster_size() const { return cluster_size_; }

 private:
  Qcow2Image() = default;
  // The files (st_dev, st_ino) of the images above this one in a backing chain, so that a chain that comes
  // back to one of them (an image naming itself as its backing file) is refused rather than followed.
  using Chain = std::vector<std::pair<uint64_t, uint64_t>>;
  static std::unique_ptr<Qcow2Image> OpenInChain(const std::string& path, const RawOpenOptions& options,
                                                 std::string* error, const Chain& above);
  bool Load(const Chain& above, std::string* error);
  // The image's metadata clusters as the file has them at open (metadata_); false with *what set when two
  // tables share a cluster, which a write to one would corrupt the other through.
  bool MapMetadata(std::string* what);
  // 0 when the L2 entry of guest cluster `index` can be used, EIO for an entry of a damaged image (see
  // owner_; a zero flag in a version 2 image, which QEMU also refuses).
  int CheckEntry(uint64_t index, uint64_t entry) const;
  // Whether the cluster at host (below open_end_) held one of the image's tables at open.
  bool IsMetadata(uint64_t host) const;
  // Whether the cluster at host (at or past open_end_) is one this process allocated for `owner`.
  bool Owned(uint64_t host, uint64_t owner) const;
  uint64_t Claim(uint64_t owner);  // the next cluster at the end of the file, taken for owner
  // The L2 entry of guest cluster `index` (0: unallocated), with the L2 table loaded; *l2 the table's host
  // offset (0: no table). 0 or an errno.
  int Lookup(uint64_t index, uint64_t* entry, uint64_t* l2) const;
  int LoadL2(uint64_t l2_offset, std::vector<uint64_t>** table) const;
  // The guest cluster's bytes as the disk has them now (cluster_size_ of them).
  int ReadCluster(uint64_t index, uint64_t entry, uint8_t* out);
  int WriteCluster(uint64_t index, uint64_t in_cluster, const uint8_t* data, size_t length);
  // A new cluster, counted: for data one freed by a discard when there is one, else at the end of the file.
  int Allocate(uint64_t owner, uint64_t* host);
  int AddRefcount(uint64_t host, int delta, int* now = nullptr);  // *now: the count after
  // What guest cluster `index` becomes: discarded (freed only where reads keep what they may show), zeros
  // that give its cluster back, or zeros in the cluster it keeps.
  enum class Zeroing { kDiscard, kZeroUnmap, kZeroKeep };
  int ZeroCluster(uint64_t index, Zeroing how);
  // Whether guest cluster `index` reads as zeros now (unallocated without a backing image, or a zero
  // cluster); false with *err set when its entry cannot be used.
  bool ReadsAsZeros(uint64_t index, int* err) const;
  // The host clusters [*first, *last] a compressed entry's bytes lie in.
  void CompressedSpan(uint64_t entry, uint64_t* first, uint64_t* last) const;
  // Drops the reference an L2 entry held to its clusters; one nobody counts any more is freed (free_).
  int Release(uint64_t entry, uint64_t first, uint64_t last);
  int GrowRefcountTable(uint64_t needed);  // to at least needed + 1 entries
  int LoadRefcountBlock(uint64_t offset, std::vector<uint16_t>** block);
  int SetL2Entry(uint64_t index, uint64_t entry);
  // Whether [offset, offset + length) lies within the file as it is now.
  bool InFile(uint64_t offset, uint64_t length) const {
    return offset + length >= offset && offset + length <= file_end_;
  }
  int Put(uint64_t offset, const void* data, size_t length);  // a write to the file, which may grow it

  std::string path_;
  int fd_ = -1;
  RawOpenOptions options_;
  uint32_t version_ = 0;
  uint32_t cluster_bits_ = 16;
  uint64_t cluster_size_ = 65536;
  uint64_t size_ = 0;
  uint64_t l2_entries_ = 0;  // per table
  std::vector<uint64_t> l1_;
  uint64_t l1_offset_ = 0;
  uint32_t refcount_order_ = 4;
  std::vector<uint64_t> refcount_table_;
  uint64_t refcount_table_offset_ = 0;
  uint64_t file_end_ = 0;   // the file's length (grows as clusters are allocated)
  uint64_t next_free_ = 0;  // where the next cluster goes: the end of the file, rounded up to a cluster
  uint64_t open_end_ = 0;   // next_free_ at open: the clusters at or past it are this process's allocations
  // What each cluster this process allocated serves (index (host - open_end_) >> cluster_bits_): a kind in
  // the top bits and the guest cluster or table index. An entry in the file that points at or past
  // open_end_ (a truncated or damaged image) must name exactly such a cluster, else it would read, write or
  // count another cluster's bytes as its own.
  std::vector<uint64_t> owner_;
  // Writable images: the clusters of the header and of every table at open, sorted. Guest data is never
  // written over them, and no refcount is dropped for them.
  std::vector<uint64_t> metadata_;
  // Clusters of guest data whose refcount went to zero with unmap on (punched out of the file), which
  // Allocate takes for data before the file grows.
  std::vector<uint64_t> free_;
  std::unique_ptr<BlockBackend> backing_;
  uint64_t device_ = 0, inode_ = 0;  // the file's st_dev and st_ino (Origin)
  mutable std::mutex mu_;            // everything below and the file's metadata
  mutable std::unordered_map<uint64_t, std::vector<uint64_t>> l2_cache_;  // by host offset, host byte order
  std::unordered_map<uint64_t, std::vector<uint16_t>> refcount_cache_;    // by host offset
  mutable std::vector<uint8_t> scratch_;                                  // a cluster
};

}  // namespace strobe::vmm::block
