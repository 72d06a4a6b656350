// SPDX-License-Identifier: MIT
// What the gdb stub's integration tests share: a free TCP port, gdb-multiarch in batch mode, and a raw
// protocol client that can also send what gdb never would (bad checksums, garbage, huge packets).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/process.h"
#include "vmm/debug/gdb_protocol.h"

namespace strobe::test {

inline bool HaveGdb() {
  return access("/usr/bin/gdb-multiarch", X_OK) == 0;
}

// gdb-multiarch -batch with these commands (the architecture first), and its combined output.
inline ProcessResult RunGdb(const std::vector<std::string>& commands, double timeout_s = 60) {
  std::vector<std::string> argv = {
      "/usr/bin/gdb-multiarch", "-batch", "-nx", "-ex", "set architecture mips:isa32r2", "-ex",
      "set endian little"};
  for (const std::string& c : commands) {
    argv.push_back("-ex");
    argv.push_back(c);
  }
  ProcessResult r = RunProcess(argv, "", timeout_s);
  r.out += r.err;
  return r;
}

// A raw gdb remote protocol client over TCP.
class RawGdbClient {
 public:
  // Connects, retrying until the stub listens (or the timeout passes).
  bool Connect(int port, double timeout_s = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      fd_ = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return true;
      close(fd_);
      fd_ = -1;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RawGdbClient() {
    if (fd_ >= 0) close(fd_);
  }
  void SendRaw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  void SendPacket(const std::string& payload) { SendRaw(vmm::gdb::EncodePacket(payload)); }
  // The next byte, or -1 on timeout or end of stream.
  int ReadByte(double timeout_s) {
    if (pos_ < buf_.size()) return static_cast<uint8_t>(buf_[pos_++]);
    buf_.clear();
    pos_ = 0;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout_s * 1000)) <= 0) return -1;
    char tmp[4096];
    const ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return -1;
    buf_.assign(tmp, static_cast<size_t>(n));
    return static_cast<uint8_t>(buf_[pos_++]);
  }
  // The next packet's payload (acks before it are skipped and it is acknowledged), or "<none>".
  std::string ReadPacket(double timeout_s = 10) {
    vmm::gdb::PacketDecoder d;
    for (;;) {
      const int b = ReadByte(timeout_s);
      if (b < 0) return "<none>";
      if (d.Feed(static_cast<uint8_t>(b)) == vmm::gdb::PacketDecoder::Event::kPacket) {
        SendRaw("+");
        return d.packet();
      }
    }
  }
  // Whether the stub has hung up (end of stream within the timeout).
  bool Closed(double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        char tmp[4096];
        if (recv(fd_, tmp, sizeof tmp, 0) <= 0) return true;
      }
    }
    return false;
  }
  // A command and its reply.
  std::string Ask(const std::string& payload, double timeout_s = 10) {
    SendPacket(payload);
    return ReadPacket(timeout_s);
  }

 private:
  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

// A 32-bit register from a `g` reply (gdb's raw layout: 8 hex digits, little-endian, register n).
inline uint32_t RegisterFromG(const std::string& g, unsigned n) {
  uint32_t v = 0;
  if (g.size() >= 8 * (n + 1)) vmm::gdb::ParseWordLe(g.substr(8 * n, 8), &v);
  return v;
}

}  // namespace strobe::test
