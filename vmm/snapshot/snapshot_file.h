// SPDX-License-Identifier: MIT
// The snapshot file format. A 32-byte header: the magic "STRBSNAP", the format version (a reader takes only
// its own), flags (0), the payload's length, its CRC-32 and the header's own CRC-32 (of the bytes before
// it). The payload is sections (vmm/state_io.h): "info" (the name, the Strobe build that wrote it, the
// host date, the virtual clock and the instructions retired, which `info snapshots` shows), "config" (the
// machine it must be loaded into: vmm/snapshot/vm_state.h) and "state" (the VM). Anything else, a short
// file or a CRC that does not match, is refused in one line before any of it is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace strobe::vmm {

// 2: the state holds each NIC's network backend (its kind and libslirp's state).
// 3: each IDE device says whether it is a CD-ROM drive; a CD-ROM drive's state (its sense data, tray and
// the packet command in transfer) follows.
// 4: a CD-ROM drive's state holds the host's media change (the NOT READY, UNIT ATTENTION sequence, the
// media events) and whether the disc changed under a packet command. 5: an IDE disk's DMA may bring
// DATA SET MANAGEMENT's TRIM ranges.
inline constexpr uint32_t kSnapshotFormat = 5;
inline constexpr size_t kSnapshotHeaderBytes = 32;

struct SnapshotInfo {
  std::string name;
  std::string build;          // STROBE_VERSION of the writer
  int64_t date = 0;           // host time of the save, seconds since the epoch
  uint64_t cycles = 0;        // the virtual clock (200 MHz)
  uint64_t instructions = 0;  // retired so far
  uint64_t file_bytes = 0;    // filled in by listings
};

std::vector<uint8_t> EncodeSnapshot(const SnapshotInfo& info, const std::string& config,
                                    const std::vector<uint8_t>& state);

// A checked file: the state is a view into the file's bytes.
struct DecodedSnapshot {
  SnapshotInfo info;
  std::string config;
  const uint8_t* state = nullptr;
  size_t state_size = 0;
};
bool DecodeSnapshot(const std::vector<uint8_t>& file, DecodedSnapshot* out, std::string* error);
// The header and the info section only (listing: the rest is not read, nor its CRC checked).
bool DecodeSnapshotInfo(const std::vector<uint8_t>& prefix, SnapshotInfo* out, std::string* error);

// The first difference between a saved configuration and this machine's, as "KEY is VALUE there, VALUE
// here" ("" when they match).
std::string ConfigDifference(const std::string& saved, const std::string& here);

// QEMU's `info snapshots` table (its header, columns and formats), or its line for none.
std::string FormatSnapshotTable(const std::vector<SnapshotInfo>& snapshots);

}  // namespace strobe::vmm
