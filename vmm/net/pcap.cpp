// SPDX-License-Identifier: MIT
#include "vmm/net/pcap.h"

#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace strobe::vmm::net {
namespace {

void Put32(uint8_t* p, uint32_t v) {  // pcap files are written in the host's order; x86 is little-endian
  std::memcpy(p, &v, 4);
}
void Put16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}

}  // namespace

std::unique_ptr<PcapWriter> PcapWriter::Open(const std::string& path, std::string* error, uint32_t snaplen) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    *error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  uint8_t header[24];
  Put32(header, 0xa1b2c3d4u);  // microsecond timestamps
  Put16(header + 4, 2);        // version 2.4
  Put16(header + 6, 4);
  Put32(header + 8, 0);   // thiszone: GMT
  Put32(header + 12, 0);  // sigfigs
  Put32(header + 16, snaplen);
  Put32(header + 20, 1);  // LINKTYPE_ETHERNET
  if (std::fwrite(header, sizeof header, 1, f) != 1 || std::fflush(f) != 0) {
    *error = path + ": " + std::strerror(errno);
    std::fclose(f);
    return nullptr;
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(f, path, snaplen));
}

PcapWriter::~PcapWriter() {
  std::fclose(file_);
}

void PcapWriter::Write(const uint8_t* frame, size_t length) {
  timeval now;
  gettimeofday(&now, nullptr);
  const uint32_t caplen = static_cast<uint32_t>(std::min<size_t>(length, snaplen_));
  uint8_t record[16];
  Put32(record, static_cast<uint32_t>(now.tv_sec));
  Put32(record + 4, static_cast<uint32_t>(now.tv_usec));
  Put32(record + 8, caplen);
  Put32(record + 12, static_cast<uint32_t>(length));
  std::fwrite(record, sizeof record, 1, file_);
  std::fwrite(frame, 1, caplen, file_);
  std::fflush(file_);
}

}  // namespace strobe::vmm::net
