// SPDX-License-Identifier: MIT
// A port on 127.0.0.1 nothing uses right now, for servers a test starts (gdb stubs, forwarded ports).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace strobe::test {

// The kernel's choice for an ephemeral bind of this socket type (SOCK_STREAM or SOCK_DGRAM), released at
// once: another process could take it in between, rarely.
inline uint16_t FreePort(int type = SOCK_STREAM) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace strobe::test
