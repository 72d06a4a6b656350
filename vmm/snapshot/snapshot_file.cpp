// SPDX-License-Identifier: MIT
#include "vmm/snapshot/snapshot_file.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>

#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr char kMagic[8] = {'S', 'T', 'R', 'B', 'S', 'N', 'A', 'P'};
constexpr size_t kMaxText = 1 << 16;

void InfoFields(SnapshotInfo& info, StateIo& io) {
  io.String(info.name, 256);
  io.String(info.build, 256);
  io.Field(info.date);
  io.Field(info.cycles);
  io.Field(info.instructions);
}

template <class T>
T Get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The header's checks; *payload_bytes on success.
bool CheckHeader(const std::vector<uint8_t>& file, uint64_t* payload_bytes, std::string* error) {
  if (file.size() < kSnapshotHeaderBytes || std::memcmp(file.data(), kMagic, 8) != 0) {
    *error = "not a Strobe snapshot file";
    return false;
  }
  if (Crc32(file.data(), 28) != Get<uint32_t>(&file[28])) {
    *error = "the snapshot's header is corrupt (checksum mismatch)";
    return false;
  }
  const uint32_t version = Get<uint32_t>(&file[8]);
  if (version != kSnapshotFormat || Get<uint32_t>(&file[12]) != 0) {
    *error = "snapshot format version " + std::to_string(version) + ", this Strobe reads version " +
             std::to_string(kSnapshotFormat);
    return false;
  }
  *payload_bytes = Get<uint64_t>(&file[16]);
  return true;
}
}  // namespace

std::vector<uint8_t> EncodeSnapshot(const SnapshotInfo& info, const std::string& config,
                                    const std::vector<uint8_t>& state) {
  StateIo io;
  SnapshotInfo copy = info;
  io.Section("info", [&copy](StateIo& s) { InfoFields(copy, s); });
  std::string text = config;
  io.Section("config", [&text](StateIo& s) { s.String(text, kMaxText); });
  io.Section("state", [&state](StateIo& s) { s.Raw(const_cast<uint8_t*>(state.data()), state.size()); });
  const std::vector<uint8_t>& payload = io.buffer();
  std::vector<uint8_t> file(kSnapshotHeaderBytes);
  std::memcpy(file.data(), kMagic, 8);
  const uint32_t version = kSnapshotFormat, flags = 0;
  const uint64_t size = payload.size();
  const uint32_t crc = Crc32(payload.data(), payload.size());
  std::memcpy(&file[8], &version, 4);
  std::memcpy(&file[12], &flags, 4);
  std::memcpy(&file[16], &size, 8);
  std::memcpy(&file[24], &crc, 4);
  const uint32_t header_crc = Crc32(file.data(), 28);
  std::memcpy(&file[28], &header_crc, 4);
  file.insert(file.end(), payload.begin(), payload.end());
  return file;
}

bool DecodeSnapshot(const std::vector<uint8_t>& file, DecodedSnapshot* out, std::string* error) {
  uint64_t payload = 0;
  if (!CheckHeader(file, &payload, error)) return false;
  if (payload != file.size() - kSnapshotHeaderBytes) {
    *error = "the snapshot file is truncated (" + std::to_string(file.size() - kSnapshotHeaderBytes) +
             " of " + std::to_string(payload) + " bytes)";
    return false;
  }
  const uint8_t* data = file.data() + kSnapshotHeaderBytes;
  if (Crc32(data, payload) != Get<uint32_t>(&file[24])) {
    *error = "the snapshot file is corrupt (checksum mismatch)";
    return false;
  }
  StateIo io(data, payload);
  io.Section("info", [out](StateIo& s) { InfoFields(out->info, s); });
  io.Section("config", [out](StateIo& s) { s.String(out->config, kMaxText); });
  io.Section("state", [out](StateIo& s) {
    out->state_size = s.remaining();
    out->state = s.View(out->state_size);
  });
  if (io.ok() && io.remaining() != 0) io.Fail("data after the last section");
  if (!io.ok()) *error = "the snapshot file is malformed: " + io.error();
  return io.ok();
}

bool DecodeSnapshotInfo(const std::vector<uint8_t>& prefix, SnapshotInfo* out, std::string* error) {
  uint64_t payload = 0;
  if (!CheckHeader(prefix, &payload, error)) return false;
  StateIo io(prefix.data() + kSnapshotHeaderBytes, prefix.size() - kSnapshotHeaderBytes);
  io.Section("info", [out](StateIo& s) { InfoFields(*out, s); });
  if (!io.ok()) *error = "the snapshot file is malformed: " + io.error();
  return io.ok();
}

std::string ConfigDifference(const std::string& saved, const std::string& here) {
  auto parse = [](const std::string& text) {
    std::map<std::string, std::string> m;
    std::vector<std::string> order;
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(at, end - at);
      const size_t eq = line.find('=');
      if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
      at = end + 1;
    }
    return m;
  };
  const auto a = parse(saved), b = parse(here);
  for (const auto& [key, value] : a) {
    const auto it = b.find(key);
    if (it == b.end()) return key + " is " + value + " there, absent here";
    if (it->second != value) return key + " is " + value + " there, " + it->second + " here";
  }
  for (const auto& [key, value] : b)
    if (!a.count(key)) return key + " is absent there, " + value + " here";
  return "";
}

namespace {
// QEMU's size_to_str: three significant digits and a binary unit.
std::string SizeText(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0.3g %s", v, kUnits[unit]);
  return buf;
}
}  // namespace

std::string FormatSnapshotTable(const std::vector<SnapshotInfo>& snapshots) {
  if (snapshots.empty()) return "There is no snapshot available.\n";
  char line[256];
  std::string out = "List of snapshots present on all disks:\n";
  std::snprintf(line, sizeof line, "%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
                "ICOUNT");
  out += line;
  unsigned id = 0;
  for (const SnapshotInfo& s : snapshots) {
    char date[32] = "";
    std::tm tm;
    const std::time_t t = static_cast<std::time_t>(s.date);
    if (localtime_r(&t, &tm)) std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    const uint64_t ns = s.cycles * 5;  // 200 MHz
    const uint64_t secs = ns / 1000000000;
    char clock[64];
    std::snprintf(clock, sizeof clock, "%02d:%02d:%02d.%03d", static_cast<int>(secs / 3600),
                  static_cast<int>((secs / 60) % 60), static_cast<int>(secs % 60),
                  static_cast<int>((ns / 1000000) % 1000));
    const std::string icount = std::to_string(s.instructions);
    std::snprintf(line, sizeof line, "%-9s %-16s %8s%20s%13s%11s\n", std::to_string(++id).c_str(),
                  s.name.c_str(), SizeText(s.file_bytes).c_str(), date, clock, icount.c_str());
    out += line;
  }
  return out;
}

}  // namespace strobe::vmm
