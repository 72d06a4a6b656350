// SPDX-License-Identifier: MIT
// A test's end of a TCP connection to a strobe process (the serial port's tcp: and telnet: backends).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace strobe::test {

// Reads from a connected socket until `needle` has arrived (or `seconds` pass); returns what came.
inline std::string ReadUntil(int fd, const std::string& needle, double seconds = 20) {
  std::string got;
  char buf[512];
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// Connects to 127.0.0.1:port, retrying for 10 s while nothing listens there yet; -1 if it never does.
inline int ConnectTcp(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 200; ++i) {  // the server may not listen yet
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    usleep(50000);
  }
  close(fd);
  return -1;
}

}  // namespace strobe::test
