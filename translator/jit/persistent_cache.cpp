// SPDX-License-Identifier: MIT
#include "translator/jit/persistent_cache.h"

#include <fcntl.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/SHA256.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace strobe::jit {

namespace fs = std::filesystem;

namespace {
constexpr char kObjectMagic[8] = {'S', 'T', 'R', 'B', 'O', 'B', 'J', '1'};
constexpr char kIndexMagic[8] = {'S', 'T', 'R', 'B', 'I', 'D', 'X', '1'};
constexpr size_t kSumBytes = 32;  // SHA-256

std::string Sum(const std::string& bytes) {
  auto h = llvm::SHA256::hash(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutBytes(std::string* out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads what PutU32/PutBytes wrote, refusing to run past the end.
struct Reader {
  const std::string& s;
  size_t at = 0;
  bool U32(uint32_t* v) {
    if (s.size() - at < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
    at += 4;
    return true;
  }
  bool Bytes(std::string* v) {
    uint32_t n;
    if (!U32(&n) || s.size() - at < n) return false;
    v->assign(s, at, n);
    at += n;
    return true;
  }
};

std::optional<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return std::nullopt;
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  if (got != bytes.size()) return std::nullopt;
  return bytes;
}

// Wraps a payload as magic, payload, checksum of both.
std::string Seal(const char (&magic)[8], const std::string& payload) {
  std::string out(magic, sizeof magic);
  out += payload;
  out += Sum(out);
  return out;
}

// The payload of a sealed file, if its magic and checksum hold.
std::optional<std::string> Unseal(const char (&magic)[8], const std::string& file) {
  if (file.size() < sizeof magic + kSumBytes || std::memcmp(file.data(), magic, sizeof magic) != 0)
    return std::nullopt;
  const std::string body = file.substr(0, file.size() - kSumBytes);
  if (Sum(body) != file.substr(file.size() - kSumBytes)) return std::nullopt;
  return body.substr(sizeof magic);
}
}  // namespace

namespace {
std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

llvm::ArrayRef<uint8_t> Bytes(const char* p, size_t n) {
  return llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(p), n);
}
}  // namespace

std::string Sha256Hex(const std::string& bytes) {
  return Hex(Sum(bytes));
}

std::string PersistentCache::PrefixedDigest(const std::string& bytes, size_t prefix) {
  if (prefix == 0 || prefix > bytes.size()) return Sha256Hex(bytes);
  llvm::SHA256 h;
  {
    std::lock_guard<std::mutex> lock(digest_mu_);
    if (!digest_state_ || digest_prefix_.size() != prefix || bytes.compare(0, prefix, digest_prefix_) != 0) {
      digest_prefix_.assign(bytes, 0, prefix);
      digest_state_ = std::make_unique<llvm::SHA256>();
      digest_state_->update(Bytes(bytes.data(), prefix));
    }
    h = *digest_state_;
  }
  h.update(Bytes(bytes.data() + prefix, bytes.size() - prefix));
  const std::array<uint8_t, 32> sum = h.final();
  return Hex(std::string_view(reinterpret_cast<const char*>(sum.data()), sum.size()));
}

std::string DefaultCodeCacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/strobe";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/strobe";
}

PersistentCache::~PersistentCache() = default;

PersistentCache::PersistentCache(std::string dir, uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {
  std::error_code ec;
  for (const char* sub : {"objects", "index", "cores"}) {
    fs::create_directories(fs::path(dir_) / sub, ec);
    if (ec || !fs::is_directory(fs::path(dir_) / sub)) {
      error_ = "cannot use " + (fs::path(dir_) / sub).string() + " as a code cache folder" +
               (ec ? ": " + ec.message() : std::string());
      return;
    }
  }
  const std::optional<uint64_t> recorded = RecordedBytes();
  if (!recorded || *recorded > max_bytes_) {
    Trim();  // counts the folder (and records it)
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    approx_bytes_ = *recorded;
  }
}

namespace {
std::optional<uint64_t> ParseUsage(const char* text, ssize_t n) {
  if (n <= 0) return std::nullopt;
  uint64_t v = 0;
  for (ssize_t i = 0; i < n && text[i] != '\n'; ++i) {
    if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  return v;
}
}  // namespace

std::optional<uint64_t> PersistentCache::RecordedBytes() {
  const int fd = open((fs::path(dir_) / "usage").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char text[32];
  flock(fd, LOCK_SH);
  const ssize_t n = pread(fd, text, sizeof text, 0);
  flock(fd, LOCK_UN);
  close(fd);
  return ParseUsage(text, n);
}

std::optional<uint64_t> PersistentCache::UpdateUsage(uint64_t add, const uint64_t* set) {
  const int fd = open((fs::path(dir_) / "usage").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return std::nullopt;
  flock(fd, LOCK_EX);
  char text[32];
  const std::optional<uint64_t> old = ParseUsage(text, pread(fd, text, sizeof text, 0));
  // A missing or damaged figure counts as the folder's size as this process knows it.
  const uint64_t now = set ? *set : old.value_or(approx_bytes_) + add;
  const int len = std::snprintf(text, sizeof text, "%llu\n", static_cast<unsigned long long>(now));
  const bool ok = ftruncate(fd, 0) == 0 && pwrite(fd, text, static_cast<size_t>(len), 0) == len;
  flock(fd, LOCK_UN);
  close(fd);
  return ok ? std::optional<uint64_t>(now) : std::nullopt;
}

void PersistentCache::Bump(uint64_t PersistentCacheStats::*field, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.*field += n;
}

PersistentCacheStats PersistentCache::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool PersistentCache::ReadEntry(const std::string& path, std::string* key, Entry* e) {
  std::optional<std::string> file = ReadFile(path);
  if (!file) return false;
  std::optional<std::string> body = Unseal(kIndexMagic, *file);
  if (body) {
    Reader r{*body};
    if (!r.Bytes(key) || !r.Bytes(&e->object) || !r.Bytes(&e->symbol) || !r.U32(&e->site_count) ||
        r.at != body->size() || e->object.find('/') != std::string::npos || e->object.empty())
      body.reset();
  }
  if (!body) {  // damaged: never trusted, and out of the way of the next writer
    unlink(path.c_str());
    Bump(&PersistentCacheStats::rejected, 1);
    return false;
  }
  return true;
}

std::optional<PersistentCache::Entry> PersistentCache::Find(const std::string& key) {
  const std::string path = (fs::path(dir_) / "index" / (Sha256Hex(key) + ".idx")).string();
  Entry e;
  std::string stored_key;
  if (!ReadEntry(path, &stored_key, &e)) return std::nullopt;
  if (stored_key != key) return std::nullopt;     // another key with the same hash: a miss, left alone
  utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // recently used: the last to be evicted
  return e;
}

std::vector<std::string> PersistentCache::Keys() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(fs::path(dir_) / "index", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string key;
    Entry e;
    if (it->path().extension() == ".idx" && ReadEntry(it->path().string(), &key, &e))
      out.push_back(std::move(key));
  }
  return out;
}

std::vector<std::pair<std::string, PersistentCache::Entry>> PersistentCache::FindByCore(
    const std::string& core, size_t max, size_t prefix) {
  std::vector<std::pair<std::string, Entry>> out;
  std::error_code ec;
  const std::string name = PrefixedDigest(core, prefix);
  // Nearly every core asked for has no folder: one access() says so, without building paths or opening
  // a directory.
  const std::string dir = dir_ + "/cores/" + name;
  if (access(dir.c_str(), F_OK) != 0) return out;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator() && out.size() < max;
       it.increment(ec)) {
    const std::string index = (fs::path(dir_) / "index" / (it->path().filename().string() + ".idx")).string();
    std::string key;
    Entry e;
    if (ReadEntry(index, &key, &e)) {
      out.emplace_back(std::move(key), std::move(e));
    } else {
      std::error_code e2;
      fs::remove(it->path(), e2);  // its entry went (evicted or damaged)
    }
  }
  return out;
}

std::optional<std::string> PersistentCache::ReadObject(const std::string& object) {
  const std::string path = (fs::path(dir_) / "objects" / object).string();
  std::optional<std::string> file = ReadFile(path);
  if (!file) return std::nullopt;
  std::optional<std::string> body = Unseal(kObjectMagic, *file);
  if (!body) {
    unlink(path.c_str());
    Bump(&PersistentCacheStats::rejected, 1);
    return std::nullopt;
  }
  utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // recently used: the last to be evicted
  Bump(&PersistentCacheStats::bytes_read, body->size());
  return body;
}

bool PersistentCache::WriteAtomically(const std::string& path, const std::string& bytes) {
  uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = tmp_counter_++;
  }
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(n);
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  const bool ok = done == bytes.size() && close(fd) == 0 && rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) unlink(tmp.c_str());
  return ok;
}

void PersistentCache::Store(const std::string& object_bytes, const std::vector<Stored>& regions) {
  const std::string sealed = Seal(kObjectMagic, object_bytes);
  const std::string object = Sha256Hex(object_bytes) + ".o";
  const std::string object_path = (fs::path(dir_) / "objects" / object).string();
  uint64_t written = 0, stored = 0;
  if (access(object_path.c_str(), F_OK) != 0) {
    if (!WriteAtomically(object_path, sealed)) return;
    written += sealed.size();
  }
  for (const Stored& r : regions) {
    std::string payload;
    PutBytes(&payload, r.key);
    PutBytes(&payload, object);
    PutBytes(&payload, r.symbol);
    PutU32(&payload, r.site_count);
    const std::string entry = Seal(kIndexMagic, payload);
    if (WriteAtomically((fs::path(dir_) / "index" / (Sha256Hex(r.key) + ".idx")).string(), entry)) {
      written += entry.size();
      ++stored;
      if (!r.core.empty()) {  // an empty file: the entry's name under its core
        std::error_code ec;
        const fs::path core = fs::path(dir_) / "cores" / Sha256Hex(r.core);
        fs::create_directories(core, ec);
        const int fd = open((core / Sha256Hex(r.key)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
      }
    }
  }
  bool trim;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_written += written;
    stats_.stored += stored;
    // Every process's stores count (the usage file); without it, this process's own.
    const std::optional<uint64_t> total = UpdateUsage(written);
    approx_bytes_ = total ? *total : approx_bytes_ + written;
    trim = approx_bytes_ > max_bytes_;
  }
  if (trim) Trim();
}

void PersistentCache::Trim() {
  struct File {
    fs::path path;
    uint64_t bytes;
    fs::file_time_type used;
  };
  std::vector<File> files;
  uint64_t total = 0;
  std::error_code ec;
  const auto stale_tmp = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const char* sub : {"objects", "index"}) {
    for (auto it = fs::directory_iterator(fs::path(dir_) / sub, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      std::error_code e2;
      if (!it->is_regular_file(e2)) continue;
      const uint64_t bytes = it->file_size(e2);
      const fs::file_time_type used = it->last_write_time(e2);
      if (e2) continue;
      // A writer that died between writing and renaming leaves its temporary file.
      if (it->path().filename().string().find(".tmp.") != std::string::npos) {
        if (used < stale_tmp) fs::remove(it->path(), e2);
        continue;
      }
      total += bytes;
      files.push_back({it->path(), bytes, used});
    }
  }
  uint64_t evicted = 0;
  if (total > max_bytes_) {
    // Least recently used first (hits refresh the times). An entry whose object went is a miss when
    // looked up; an object whose entries went ages out in turn.
    std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.used < b.used; });
    for (const File& f : files) {
      if (total <= max_bytes_ / 4 * 3) break;
      if (fs::remove(f.path, ec)) {
        total -= std::min(total, f.bytes);
        evicted += f.path.extension() == ".o";
      }
    }
  }
  if (evicted) {  // names under cores whose entries went, and cores left empty
    for (auto c = fs::directory_iterator(fs::path(dir_) / "cores", ec); !ec && c != fs::directory_iterator();
         c.increment(ec)) {
      std::error_code e2;
      for (auto l = fs::directory_iterator(c->path(), e2); !e2 && l != fs::directory_iterator();
           l.increment(e2)) {
        std::error_code e3;
        if (!fs::exists(fs::path(dir_) / "index" / (l->path().filename().string() + ".idx"), e3))
          fs::remove(l->path(), e3);
      }
      fs::remove(c->path(), e2);  // only if empty
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  approx_bytes_ = total;
  UpdateUsage(0, &total);
  stats_.evicted += evicted;
}

}  // namespace strobe::jit
