// SPDX-License-Identifier: MIT
// The persistent code cache: compiled regions kept on disk and reused by later runs (and by other Strobe
// processes) whose guest code is the same. Translated code holds no address of the process that compiled
// it (RegionFrame, helpers.h), so an object file compiled by one run links into another.
//
// On disk, under one folder:
//   objects/<sha256 of the object>.o   one compiled module (several regions), with a checksum;
//   index/<sha256 of the key>.idx      one region: its full key, the object holding its code, the
//                                      function's name and its chain-site count, with a checksum;
//   cores/<sha256 of a core>/<sha256 of the key>   (empty) the regions stored with that core
//                                      (Region::core_blocks): the shapes a later run may reuse;
//   usage                              the folder's size in bytes, as a decimal line (RecordedBytes).
// The key (Key below) is everything the code depends on: the region's decoded instructions and block
// structure as the lifter reads them, and a configuration string (Strobe's build, LLVM's version, the host
// CPU and its features, the compile options). It holds no guest address, so a kernel loaded elsewhere
// (KASLR) or a program in other physical pages still hits. Files are written to a temporary name and
// renamed, so several processes may share the folder; a file that fails its checksum, or an index entry
// whose key differs from the one looked up, is a miss (and is removed), never run. The folder is bounded:
// when it grows past its limit (by its usage file) the least recently used objects are removed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SHA256;
}

namespace strobe::jit {

struct PersistentCacheStats {
  uint64_t hits = 0;           // regions whose code came from the cache
  uint64_t misses = 0;         // regions looked up and compiled
  uint64_t stored = 0;         // regions written to the cache
  uint64_t rejected = 0;       // entries or objects that failed their checks (removed)
  uint64_t bytes_read = 0;     // object bytes loaded
  uint64_t bytes_written = 0;  // object and index bytes written
  uint64_t evicted = 0;        // objects removed to keep the folder under its limit
  PersistentCacheStats& operator+=(const PersistentCacheStats& o) {
    hits += o.hits;
    misses += o.misses;
    stored += o.stored;
    rejected += o.rejected;
    bytes_read += o.bytes_read;
    bytes_written += o.bytes_written;
    evicted += o.evicted;
    return *this;
  }
};

class PersistentCache {
 public:
  // dir is created if needed. ok() is false (and error() says why) when it cannot be used.
  PersistentCache(std::string dir, uint64_t max_bytes);
  ~PersistentCache();
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }

  struct Entry {
    std::string object;  // the object's file name under objects/
    std::string symbol;  // the region's function in it
    uint32_t site_count = 0;
  };
  // The entry stored under this key, if it is intact and its object exists.
  std::optional<Entry> Find(const std::string& key);
  // Every key the index holds (intact entries only), in no particular order: for tools and benchmarks that
  // look at what runs compiled (bench/compile_bench.cpp).
  std::vector<std::string> Keys();
  // The object file's contents (the ELF object), if it is intact; a damaged one is removed.
  std::optional<std::string> ReadObject(const std::string& object);
  // Stores one compiled object and the entries of the regions it holds: (key, symbol, site count).
  struct Stored {
    std::string key;
    std::string symbol;
    uint32_t site_count = 0;
    std::string core;  // filed under this core too (empty: no)
  };
  // The keys (and entries) of regions stored with this core, at most `max`. The first `prefix` bytes of
  // core are what every call of the run starts with (the compile configuration): see PrefixedDigest. The
  // question comes for every block that gets warm, nearly always for a core with no folder.
  std::vector<std::pair<std::string, Entry>> FindByCore(const std::string& core, size_t max,
                                                        size_t prefix = 0);
  void Store(const std::string& object_bytes, const std::vector<Stored>& regions);
  void CountMiss() { Bump(&PersistentCacheStats::misses, 1); }
  void CountHit() { Bump(&PersistentCacheStats::hits, 1); }

  PersistentCacheStats stats();

  // The least recently used files go until the folder's objects and entries take at most
  // max_bytes * 3/4 (it is trimmed when it passes max_bytes: at start, or after a store).
  void Trim();
  // The folder's size as its usage file says: the bytes counted at the last trim plus the bytes every
  // process stored since (nullopt: no usage file yet). Walking a full folder (150,000 files) on every
  // start cost 1.5 s of each run; reading this costs one small read. It overestimates after entries
  // were removed as damaged or stale, which only brings the next trim closer.
  std::optional<uint64_t> RecordedBytes();

 private:
  void Bump(uint64_t PersistentCacheStats::*field, uint64_t n);
  // Reads the entry at path: its stored key and fields; a damaged one is removed and counted.
  bool ReadEntry(const std::string& path, std::string* key, Entry* e);
  bool WriteAtomically(const std::string& path, const std::string& bytes);
  // Adds `add` bytes to the usage file (or sets it to *set), under an flock shared by every process using
  // the folder; returns the new figure (nullopt if the file cannot be used).
  std::optional<uint64_t> UpdateUsage(uint64_t add, const uint64_t* set = nullptr);
  std::string dir_;
  uint64_t max_bytes_;
  std::string error_;
  // Sha256Hex(bytes), with the hash's state after bytes' first `prefix` bytes kept for the next call that
  // starts with the same ones. Every core key of a run starts with the configuration (about 1.7 KB, most
  // of it the host CPU's feature list), and FindByCore runs for every block that gets warm: hashing only
  // the rest took its time (2% of a warm boot's vCPU thread) to a fraction.
  std::string PrefixedDigest(const std::string& bytes, size_t prefix);
  std::mutex mu_;
  std::mutex digest_mu_;                        // guards the two below
  std::string digest_prefix_;                   // what digest_state_ has hashed
  std::unique_ptr<llvm::SHA256> digest_state_;  // the hash after digest_prefix_ (null: none yet)
  PersistentCacheStats stats_;
  uint64_t approx_bytes_ = 0;  // the folder's size: the usage file's figure, or this process's count
  uint64_t tmp_counter_ = 0;
};

// $XDG_CACHE_HOME/strobe, else ~/.cache/strobe: where the command line's cache is unless told otherwise.
std::string DefaultCodeCacheDir();

// A hex SHA-256 of bytes (file names).
std::string Sha256Hex(const std::string& bytes);

}  // namespace strobe::jit
