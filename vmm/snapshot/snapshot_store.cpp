// SPDX-License-Identifier: MIT
#include "vmm/snapshot/snapshot_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "vmm/snapshot/vm_state.h"

namespace strobe::vmm {

namespace {
constexpr const char* kSuffix = ".strobesnap";
constexpr uint64_t kMaxFileBytes = uint64_t{8} << 30;  // RAM (2 GiB) and overlays, with room

// mkdir -p.
bool MakeDirs(const std::string& path, std::string* error) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at < path.size() && path[at] != '/') continue;
    const std::string part = path.substr(0, at);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "cannot create the snapshot folder " + part + ": " + std::strerror(errno);
      return false;
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = "the snapshot folder " + path + " is not a directory";
    return false;
  }
  return true;
}

bool WriteAll(int fd, const std::vector<uint8_t>& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads at most max_bytes of path (the whole file when limit is 0); false with errno's line.
bool ReadFile(const std::string& path, size_t limit, std::vector<uint8_t>* out, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = path + ": " + (fd < 0 ? std::strerror(errno) : "not a regular file");
    if (fd >= 0) close(fd);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    close(fd);
    *error = path + ": too large for a snapshot file";
    return false;
  }
  size_t want = static_cast<size_t>(st.st_size);
  if (limit) want = std::min(want, limit);
  out->resize(want);
  size_t done = 0;
  while (done < want) {
    const ssize_t n = pread(fd, out->data() + done, want - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  out->resize(done);
  return true;
}
}  // namespace

std::string SnapshotStore::DefaultDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/strobe/snapshots";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/strobe/snapshots";
}

bool SnapshotStore::ValidName(const std::string& name, std::string* error) {
  const bool ok = !name.empty() && name.size() <= 64 && name[0] != '.' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '.' || c == '_' || c == '-';
                  });
  if (!ok)
    *error =
        "invalid snapshot name '" + name + "': 1-64 letters, digits, '.', '_' or '-', not starting with '.'";
  return ok;
}

bool SnapshotStore::Save(Vm& vm, const std::string& name, std::string* error, int saver) {
  if (saver < 0) return SaveFile(vm, name, error);
  if (!ValidName(name, error)) return false;
  bool claimed = false;
  {
    std::lock_guard<std::mutex> lock(savers_mu_);
    auto [it, fresh] = savers_.emplace(name, saver);
    if (!fresh && it->second != saver) {
      *error = "snapshot '" + name + "' was saved by vm" + std::to_string(it->second) +
               " of this run: give this VM's snapshot another name (or delvm it first)";
      return false;
    }
    claimed = fresh;
  }
  if (SaveFile(vm, name, error)) return true;
  if (claimed) {
    std::lock_guard<std::mutex> lock(savers_mu_);
    savers_.erase(name);
  }
  return false;
}

bool SnapshotStore::SaveFile(Vm& vm, const std::string& name, std::string* error) {
  if (!ValidName(name, error)) return false;
  if (const std::string why = VmState::Refusal(vm); !why.empty()) {
    *error = "cannot save the VM: " + why;
    return false;
  }
  if (!MakeDirs(dir_, error)) return false;
  StateIo state;
  VmState::Save(vm, state);
  if (!state.ok()) {
    *error = "cannot save the VM: " + state.error();
    return false;
  }
  SnapshotInfo info;
  info.name = name;
  info.build = STROBE_VERSION;
  info.date = static_cast<int64_t>(std::time(nullptr));
  info.cycles = vm.cpu().cycles;
  info.instructions = vm.cpu().Retired();
  const std::vector<uint8_t> file = EncodeSnapshot(info, VmState::Configuration(vm), state.buffer());
  const std::string path = PathOf(name);
  const std::string temp = dir_ + "/." + name + ".tmp" + std::to_string(getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const bool written = fd >= 0 && WriteAll(fd, file) && fdatasync(fd) == 0;
  const int err = errno;
  if (fd >= 0) close(fd);
  if (!written || rename(temp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + std::strerror(written ? errno : err);
    unlink(temp.c_str());
    return false;
  }
  return true;
}

bool SnapshotStore::Load(Vm& vm, const std::string& name, std::string* error) {
  if (!ValidName(name, error)) return false;
  const std::string path = PathOf(name);
  if (access(path.c_str(), F_OK) != 0) {
    *error = "Snapshot '" + name + "' does not exist (no " + path + ")";
    return false;
  }
  std::vector<uint8_t> file;
  if (!ReadFile(path, 0, &file, error)) return false;
  DecodedSnapshot snap;
  if (!DecodeSnapshot(file, &snap, error)) {
    *error = path + ": " + *error;
    return false;
  }
  if (const std::string diff = ConfigDifference(snap.config, VmState::Configuration(vm)); !diff.empty()) {
    *error = "snapshot '" + name + "' is of another machine: " + diff;
    return false;
  }
  StateIo io(snap.state, snap.state_size);
  if (!VmState::Load(vm, io, error)) {
    *error = path + ": the snapshot's state is malformed (" + *error + "); the VM is unchanged";
    return false;
  }
  return true;
}

bool SnapshotStore::Delete(const std::string& name, std::string* error) {
  if (!ValidName(name, error)) return false;
  const std::string path = PathOf(name);
  if (unlink(path.c_str()) != 0) {
    *error = errno == ENOENT ? "Snapshot '" + name + "' does not exist"
                             : "cannot delete " + path + ": " + std::strerror(errno);
    return false;
  }
  std::lock_guard<std::mutex> lock(savers_mu_);
  savers_.erase(name);
  return true;
}

std::vector<SnapshotInfo> SnapshotStore::List() const {
  std::vector<SnapshotInfo> out;
  DIR* d = opendir(dir_.c_str());
  if (!d) return out;
  const size_t suffix = std::strlen(kSuffix);
  while (const dirent* e = readdir(d)) {
    const std::string file = e->d_name;
    if (file.size() <= suffix || file[0] == '.' || file.compare(file.size() - suffix, suffix, kSuffix) != 0)
      continue;
    std::vector<uint8_t> prefix;
    std::string error;
    SnapshotInfo info;
    struct stat st;
    const std::string path = dir_ + "/" + file;
    if (!ReadFile(path, 4096, &prefix, &error) || !DecodeSnapshotInfo(prefix, &info, &error) ||
        stat(path.c_str(), &st) != 0)
      continue;
    info.name = file.substr(0, file.size() - suffix);  // the file's name is the snapshot's
    info.file_bytes = static_cast<uint64_t>(st.st_size);
    out.push_back(info);
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return a.date != b.date ? a.date < b.date : a.name < b.name;
  });
  return out;
}

}  // namespace strobe::vmm
