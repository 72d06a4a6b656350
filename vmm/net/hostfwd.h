// SPDX-License-Identifier: MIT
// QEMU's host forwarding rules for user-mode networking, as -netdev user,hostfwd= and the monitor's
// hostfwd_add/hostfwd_remove write them: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, and for a
// removal the host side alone, [tcp|udp]:[HOSTADDR]:HOSTPORT.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace strobe::vmm::net {

struct HostForward {
  bool udp = false;
  in_addr host_addr{};  // where the host listens (127.0.0.1 unless the rule names one; 0.0.0.0: any)
  uint16_t host_port = 0;
  in_addr guest_addr{};  // 0.0.0.0: the first DHCP address (10.0.2.15), as QEMU
  uint16_t guest_port = 0;
  std::string text;  // the rule as written, for messages
};

// A dotted IPv4 address.
bool ParseIpv4(const std::string& text, in_addr* out);
// A host name or dotted address as an IPv4 address (getaddrinfo): 0, or getaddrinfo's error code for
// gai_strerror. The one resolver of the TCP endpoints (gdb stub, monitor, serial port, -netdev socket).
int ResolveIpv4(const std::string& host, in_addr* out);
// A port number 0-65535 (0 only with allow_zero).
bool ParsePort(const std::string& text, uint16_t* out, bool allow_zero);
// A whole rule; false with *why (what is wrong, for "Invalid host forwarding rule '...' (WHY)").
bool ParseHostForward(const std::string& rule, HostForward* out, std::string* why);
// The host side of a rule (hostfwd_remove): protocol, address (127.0.0.1 when empty) and port.
bool ParseHostForwardSource(const std::string& rule, HostForward* out);

}  // namespace strobe::vmm::net
