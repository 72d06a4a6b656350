// SPDX-License-Identifier: MIT
// A packet capture file in the classic libpcap format (magic 0xa1b2c3d4, version 2.4, link type 1 =
// Ethernet, microsecond host timestamps), as tcpdump and wireshark read it. One writer per file; it is
// used on the vCPU thread only (the NetPort writes both directions there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace strobe::vmm::net {

class PcapWriter {
 public:
  // Creates (truncates) `path` and writes the file header. nullptr and a one-line *error on failure.
  static std::unique_ptr<PcapWriter> Open(const std::string& path, std::string* error,
                                          uint32_t snaplen = 65535);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one frame (cut to the snap length, the original length recorded) stamped with the host's
  // current time, and flushes it so the file is readable while the VM runs.
  void Write(const uint8_t* frame, size_t length);
  const std::string& path() const { return path_; }

 private:
  PcapWriter(std::FILE* file, std::string path, uint32_t snaplen)
      : file_(file), path_(std::move(path)), snaplen_(snaplen) {}
  std::FILE* file_;
  std::string path_;
  uint32_t snaplen_;
};

}  // namespace strobe::vmm::net
