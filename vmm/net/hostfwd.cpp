// SPDX-License-Identifier: MIT
#include "vmm/net/hostfwd.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdlib>

namespace strobe::vmm::net {

namespace {
bool Fail(std::string* why, std::string text) {
  *why = std::move(text);
  return false;
}

// "tcp:" or "udp:" (an empty protocol is tcp); *rest is what follows the colon.
bool ParseProtocol(const std::string& rule, bool* udp, size_t* rest, std::string* why) {
  const size_t c1 = rule.find(':');
  if (c1 == std::string::npos) return Fail(why, "missing ':' after the protocol");
  const std::string proto = rule.substr(0, c1);
  if (proto == "tcp" || proto.empty()) {
    *udp = false;
  } else if (proto == "udp") {
    *udp = true;
  } else {
    return Fail(why, "bad protocol name '" + proto + "' (tcp or udp)");
  }
  *rest = c1 + 1;
  return true;
}
}  // namespace

bool ParseIpv4(const std::string& text, in_addr* out) {
  return inet_pton(AF_INET, text.c_str(), out) == 1;
}

int ResolveIpv4(const std::string& host, in_addr* out) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0) return rc;
  *out = reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

bool ParsePort(const std::string& text, uint16_t* out, bool allow_zero) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const long n = std::strtol(text.c_str(), nullptr, 10);
  if (n > 65535 || (n == 0 && !allow_zero)) return false;
  *out = static_cast<uint16_t>(n);
  return true;
}

bool ParseHostForward(const std::string& rule, HostForward* out, std::string* why) {
  HostForward f;
  f.text = rule;
  // protocol ':' hostaddr ':' hostport '-' guestaddr ':' guestport
  size_t at = 0;
  if (!ParseProtocol(rule, &f.udp, &at, why)) return false;
  const size_t c2 = rule.find(':', at);
  if (c2 == std::string::npos) return Fail(why, "missing ':' between the host address and port");
  const std::string haddr = rule.substr(at, c2 - at);
  const size_t dash = rule.find('-', c2 + 1);
  if (dash == std::string::npos) return Fail(why, "missing '-' between the host and guest sides");
  const std::string hport = rule.substr(c2 + 1, dash - c2 - 1);
  const size_t c3 = rule.find(':', dash + 1);
  if (c3 == std::string::npos) return Fail(why, "missing ':' between the guest address and port");
  const std::string gaddr = rule.substr(dash + 1, c3 - dash - 1);
  const std::string gport = rule.substr(c3 + 1);
  if (haddr.empty()) {
    inet_pton(AF_INET, "127.0.0.1", &f.host_addr);  // loopback unless an address is given
  } else if (!ParseIpv4(haddr, &f.host_addr)) {
    return Fail(why, "bad host address '" + haddr + "'");
  }
  if (!ParsePort(hport, &f.host_port, true)) return Fail(why, "bad host port '" + hport + "'");
  if (!gaddr.empty() && !ParseIpv4(gaddr, &f.guest_addr))
    return Fail(why, "bad guest address '" + gaddr + "'");
  if (!ParsePort(gport, &f.guest_port, false)) return Fail(why, "bad guest port '" + gport + "'");
  *out = f;
  return true;
}

bool ParseHostForwardSource(const std::string& rule, HostForward* out) {
  HostForward f;
  f.text = rule;
  size_t at = 0;
  std::string why;
  if (!ParseProtocol(rule, &f.udp, &at, &why)) return false;
  const size_t c2 = rule.find(':', at);
  if (c2 == std::string::npos) return false;
  const std::string haddr = rule.substr(at, c2 - at);
  if (haddr.empty()) {
    inet_pton(AF_INET, "127.0.0.1", &f.host_addr);
  } else if (!ParseIpv4(haddr, &f.host_addr)) {
    return false;
  }
  if (!ParsePort(rule.substr(c2 + 1), &f.host_port, true)) return false;
  *out = f;
  return true;
}

}  // namespace strobe::vmm::net
