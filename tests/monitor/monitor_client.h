// SPDX-License-Identifier: MIT
// What the monitor's integration tests share: a socket client (unix or TCP) that sends text and waits for
// an expected reply, and the address of a symbol in a guest ELF.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace strobe::test {

class MonitorClient {
 public:
  ~MonitorClient() {
    if (fd_ >= 0) close(fd_);
  }
  // Connects, retrying while the server is not there yet (strobe is starting).
  bool ConnectUnix(const std::string& path, double timeout_s = 20) {
    return Retry(timeout_s, [&] {
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
      const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
      close(fd);
      return -1;
    });
  }
  bool ConnectTcp(int port, double timeout_s = 20) {
    return Retry(timeout_s, [&] {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port));
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
      close(fd);
      return -1;
    });
  }
  void Send(const std::string& text) { (void)!send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  // Everything received up to and including `marker` (consumed), or "" on timeout or hang-up.
  std::string ReadUntil(const std::string& marker, double timeout_s = 20) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      const size_t at = buf_.find(marker);
      if (at != std::string::npos) {
        std::string out = buf_.substr(0, at + marker.size());
        buf_.erase(0, at + marker.size());
        return out;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char tmp[4096];
      const ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // HMP: one command, its output up to the next prompt (the prompt left out, and the monitor's echo of
  // the line, which ends at the first \r\n).
  std::string Command(const std::string& line) {
    Send(line + "\n");
    std::string out = ReadUntil("(qemu) ");
    out = out.size() >= 7 ? out.substr(0, out.size() - 7) : out;
    const size_t echo_end = out.find("\r\n");
    return echo_end == std::string::npos ? out : out.substr(echo_end + 2);
  }
  // QMP: one line of JSON in, the next line out (an event or the reply).
  std::string Line() {
    std::string l = ReadUntil("\r\n");
    return l.size() >= 2 ? l.substr(0, l.size() - 2) : l;
  }

 private:
  template <typename Connect>
  bool Retry(double timeout_s, Connect connect) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      fd_ = connect();
      if (fd_ >= 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  int fd_ = -1;
  std::string buf_;
};

// The address of a symbol in an ELF32 little-endian file (0 if absent): its .symtab and .strtab.
inline uint32_t ElfSymbol(const std::string& path, const std::string& name) {
  std::ifstream f(path, std::ios::binary);
  const std::string elf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto u32 = [&](size_t off) {
    uint32_t v = 0;
    if (off + 4 <= elf.size()) std::memcpy(&v, elf.data() + off, 4);
    return v;
  };
  auto u16 = [&](size_t off) { return static_cast<uint16_t>(u32(off) & 0xFFFF); };
  const uint32_t shoff = u32(0x20);
  const unsigned shentsize = u16(0x2E), shnum = u16(0x30);
  for (unsigned i = 0; i < shnum; ++i) {
    const size_t sh = shoff + i * shentsize;
    if (u32(sh + 4) != 2) continue;  // SHT_SYMTAB
    const size_t strtab = shoff + u32(sh + 24) * shentsize;
    const uint32_t str_off = u32(strtab + 16);
    for (uint32_t s = u32(sh + 16); s + 16 <= u32(sh + 16) + u32(sh + 20); s += 16) {
      const uint32_t n = str_off + u32(s);
      if (n < elf.size() && elf.compare(n, name.size() + 1, name.c_str(), name.size() + 1) == 0)
        return u32(s + 4);
    }
  }
  return 0;
}

// Runs an HMP command through QMP's human-monitor-command and returns the reply line (events skipped).
inline std::string Hmp(MonitorClient& qmp, const std::string& line) {
  qmp.Send("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"" + line + "\"}}\n");
  for (;;) {
    const std::string l = qmp.Line();
    if (l.empty() || l.find("\"event\"") == std::string::npos) return l;
  }
}

}  // namespace strobe::test
