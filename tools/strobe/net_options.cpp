// SPDX-License-Identifier: MIT
#include "tools/strobe/net_options.h"

#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "tools/strobe/drive_options.h"
#include "tools/strobe/options.h"
#include "vmm/net/hub.h"

namespace strobe::tools {
namespace {

bool Fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}

// QEMU's model names for the NICs Strobe has, and the other ones it knows of.
bool ModelFromName(const std::string& name, vmm::NicModel* out) {
  if (name == "pcnet") return *out = vmm::NicModel::kPcnet, true;
  if (name == "virtio-net-pci" || name == "virtio" || name == "virtio-net")
    return *out = vmm::NicModel::kVirtio, true;
  return false;
}

constexpr const char* kModelHelp =
    "Available NIC models:\n"
    "pcnet\n"
    "virtio-net-pci\n";

bool IsKnownOtherNic(const std::string& name) {
  for (const char* n : {"e1000", "e1000e", "rtl8139", "ne2k_pci", "i82551", "i82557b", "i82559er", "vmxnet3",
                        "usb-net", "e1000-82544gc", "e1000-82545em", "tulip"})
    if (name == n) return true;
  return false;
}

// KEY=VALUE (a bare KEY has an empty value).
std::pair<std::string, std::string> KeyValue(const std::string& part) {
  const size_t eq = part.find('=');
  return {part.substr(0, eq), eq == std::string::npos ? "" : part.substr(eq + 1)};
}

}  // namespace

bool ParseMac(const std::string& text, std::array<uint8_t, 6>* out) {
  if (text.size() != 17) return false;
  for (int i = 0; i < 6; ++i) {
    const std::string byte = text.substr(3 * i, 2);
    if (byte.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return false;
    if (i < 5 && text[3 * i + 2] != ':' && text[3 * i + 2] != '-') return false;
    (*out)[i] = static_cast<uint8_t>(std::strtoul(byte.c_str(), nullptr, 16));
  }
  return ((*out)[0] & 1) == 0;  // a NIC's own address cannot be multicast
}

namespace {
// A NIC's own keys in -nic and -net nic: model= and the MAC (mac= or macaddr=). 1: taken (or model=help,
// then *help is set), 0: not one of them, -1: bad value (*error set).
int NicKey(const std::string& option, const std::string& mac_key, const std::string& key,
           const std::string& v, NicRequest* nic, bool* help, std::string* error) {
  if (key == "model") {
    if (v == "help" || v == "?") return *help = true, 1;
    if (!ModelFromName(v, &nic->model))
      return Fail(error, option + ": unsupported NIC model '" + v + "' (pcnet or virtio-net-pci)"), -1;
    return 1;
  }
  if (key == mac_key) {
    if (!ParseMac(v, &nic->mac)) return Fail(error, option + ": bad MAC address '" + v + "'"), -1;
    nic->mac_given = true;
    return 1;
  }
  return 0;
}
}  // namespace

bool IsNicDevice(const std::string& device_value) {
  const std::vector<std::string> parts = SplitOptions(device_value);
  std::string driver = parts.empty() ? "" : parts[0];
  for (const std::string& p : parts)
    if (p.rfind("driver=", 0) == 0) driver = p.substr(7);
  vmm::NicModel m;
  return ModelFromName(driver, &m) || IsKnownOtherNic(driver);
}

bool NetOptions::ParseUser(const std::string& option, const std::vector<std::string>& parts, size_t first,
                           NetdevConfig* out, std::string* error) {
  NetdevConfig n;
  n.option = option;
  auto bad = [&](const std::string& what) { return Fail(error, option + ": " + what); };
  for (size_t i = first; i < parts.size(); ++i) {
    const auto [key, v] = KeyValue(parts[i]);
    if (key == "id") {
      n.id = v;
    } else if (key == "hostfwd") {
      vmm::net::HostForward f;
      std::string why;
      if (!vmm::net::ParseHostForward(v, &f, &why))
        return bad("invalid host forwarding rule '" + v + "' (" + why + ")");
      n.slirp.forwards.push_back(f);
    } else if (key == "restrict" || key == "restricted") {
      if (!qemu::ParseOnOff(v.empty() ? "on" : v, &n.slirp.restricted))
        return bad("restrict=" + v + ": on or off");
    } else if (key == "hostname") {
      n.slirp.hostname = v;
    } else if (key == "net") {
      const size_t slash = v.find('/');
      in_addr addr;
      if (!vmm::net::ParseIpv4(v.substr(0, slash), &addr)) return bad("bad net '" + v + "'");
      unsigned prefix = 24;
      if (slash != std::string::npos) {
        const std::string p = v.substr(slash + 1);
        in_addr mask;
        if (vmm::net::ParseIpv4(p, &mask)) {
          prefix = static_cast<unsigned>(__builtin_popcount(ntohl(mask.s_addr)));
        } else if (p.empty() || p.size() > 2 || p.find_first_not_of("0123456789") != std::string::npos ||
                   std::atoi(p.c_str()) < 8 || std::atoi(p.c_str()) > 30) {
          return bad("bad net '" + v + "' (a prefix of 8 to 30 bits)");
        } else {
          prefix = static_cast<unsigned>(std::atoi(p.c_str()));
        }
      }
      const uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
      const uint32_t base = ntohl(addr.s_addr) & mask;
      n.slirp.network.s_addr = htonl(base);
      n.slirp.netmask.s_addr = htonl(mask);
      n.slirp.host.s_addr = htonl(base | 2);  // QEMU's derived addresses
      n.slirp.dns.s_addr = htonl(base | 3);
      n.slirp.dhcp_start.s_addr = htonl(base | 15);
    } else if (key == "host" || key == "dhcpstart" || key == "dns") {
      in_addr a;
      if (!vmm::net::ParseIpv4(v, &a)) return bad("bad " + key + " address '" + v + "'");
      (key == "host" ? n.slirp.host : key == "dns" ? n.slirp.dns : n.slirp.dhcp_start) = a;
    } else if (key == "ipv4") {
      bool on;
      if (!qemu::ParseOnOff(v, &on) || !on)
        return bad("ipv4=" + v + ": only ipv4=on (slirp's IPv4 is always there)");
    } else if (key == "ipv6") {
      bool on;
      if (!qemu::ParseOnOff(v, &on)) return bad("ipv6=" + v + ": on or off");
    } else if (key == "model" || key == "mac" || key == "macaddr") {
      continue;  // the NIC's part of -nic/-net (read by the caller)
    } else {
      return bad("invalid parameter '" + key +
                 "' for user-mode networking (id, hostfwd, restrict, hostname, "
                 "net, host, dhcpstart, dns, ipv4, ipv6)");
    }
  }
  *out = n;
  return true;
}

// QEMU's -netdev socket keys (vmm/net/socket_backend.h): exactly one of listen=, connect=, mcast=, udp=;
// localaddr= with udp= (HOST:PORT, mandatory) and mcast= (an address). QEMU's messages.
bool NetOptions::ParseSocket(const std::string& option, const std::vector<std::string>& parts, size_t first,
                             NetdevConfig* out, std::string* error) {
  using Mode = vmm::net::SocketOptions::Mode;
  NetdevConfig n;
  n.option = option;
  vmm::net::SocketOptions so;
  auto bad = [&](const std::string& what) { return Fail(error, option + ": " + what); };
  int modes = 0;
  std::string address, local;
  bool local_given = false;
  for (size_t i = first; i < parts.size(); ++i) {
    const auto [key, v] = KeyValue(parts[i]);
    if (key == "id") {
      n.id = v;
    } else if (key == "listen" || key == "connect" || key == "mcast" || key == "udp") {
      ++modes;
      so.mode = key == "listen"    ? Mode::kListen
                : key == "connect" ? Mode::kConnect
                : key == "mcast"   ? Mode::kMcast
                                   : Mode::kUdp;
      address = v;
    } else if (key == "localaddr") {
      local = v;
      local_given = true;
    } else if (key == "fd") {
      return bad("fd= is not supported (listen=, connect=, mcast= or udp=)");
    } else if (key != "model" && key != "mac" && key != "macaddr") {  // -nic/-net: the NIC's (the caller's)
      return bad("Invalid parameter '" + key + "'");
    }
  }
  if (modes != 1) return bad("exactly one of listen=, connect=, mcast= or udp= is required");
  if (local_given && so.mode != Mode::kUdp && so.mode != Mode::kMcast)
    return bad("localaddr= is only valid with mcast= or udp=");
  if (so.mode == Mode::kUdp && !local_given) return bad("localaddr= is mandatory with udp=");
  std::string why;
  if (!vmm::net::ParseSocketAddress(address, &so.addr, &why)) return bad(why);
  if (so.mode == Mode::kUdp && !vmm::net::ParseSocketAddress(local, &so.local, &why)) return bad(why);
  if (so.mode == Mode::kMcast && local_given) {
    so.local.sin_family = AF_INET;
    if (!vmm::net::ParseIpv4(local, &so.local.sin_addr))
      return bad("localaddr= '" + local + "': an IPv4 address");
  }
  so.local_given = local_given;
  so.option = option;
  n.socket = so;
  *out = n;
  return true;
}

// QEMU 7.2's -netdev stream (addr.type=inet with addr.host and addr.port, or unix with addr.path;
// server=on listens) and -netdev dgram (local.* and remote.* inet addresses: udp, or a multicast remote),
// with QEMU's messages; the links are -netdev socket's (vmm/net/socket_backend.h).
bool NetOptions::ParseStreamOrDgram(const std::string& option, bool stream,
                                    const std::vector<std::string>& parts, size_t first, NetdevConfig* out,
                                    std::string* error) {
  using Mode = vmm::net::SocketOptions::Mode;
  NetdevConfig n;
  n.option = option;
  vmm::net::SocketOptions so;
  so.kind = stream ? vmm::net::SocketOptions::Kind::kStream : vmm::net::SocketOptions::Kind::kDgram;
  so.option = option;
  auto bad = [&](const std::string& what) { return Fail(error, option + ": " + what); };
  std::map<std::string, std::string> keys;  // addr.*, local.*, remote.*
  bool server = false;
  for (size_t i = first; i < parts.size(); ++i) {
    const auto [key, v] = KeyValue(parts[i]);
    const std::string group = key.substr(0, key.find('.'));
    if (key == "id") {
      n.id = v;
    } else if (stream && key == "server") {
      if (!qemu::ParseOnOff(v, &server)) return bad("Parameter 'server' expects 'on' or 'off'");
    } else if (key.find('.') != std::string::npos &&
               (stream ? group == "addr" : group == "local" || group == "remote")) {
      keys[key] = v;
    } else if (key != "model" && key != "mac" && key != "macaddr") {
      return bad("Parameter '" + key + "' is unexpected");
    }
  }
  // One address group as QEMU reads it: inet needs host and port; unix a path (streams only).
  auto address = [&](const std::string& g, std::string* path, sockaddr_in* inet, bool* given) -> bool {
    *given = keys.count(g + ".type") != 0;
    if (!*given) return true;
    const std::string type = keys[g + ".type"];
    if (type == "fd" || (type == "unix" && !stream))
      return bad(g + ".type=" + type + " is not supported (" + (stream ? "inet or unix" : "inet") + ")");
    if (type != "inet" && type != "unix")
      return bad("Parameter '" + g + ".type' does not accept value '" + type + "'");
    for (const auto& [k, v] : keys) {
      if (k.rfind(g + ".", 0) != 0) continue;
      const std::string sub = k.substr(g.size() + 1);
      const bool known = sub == "type" || (type == "inet" && (sub == "host" || sub == "port")) ||
                         (type == "unix" && sub == "path");
      if (!known) return bad("Parameter '" + k + "' is unexpected");
    }
    if (type == "inet") {
      if (!keys.count(g + ".host")) return bad("Parameter '" + g + ".host' is missing");
      if (!keys.count(g + ".port")) return bad("Parameter '" + g + ".port' is missing");
      std::string why;
      if (!vmm::net::ParseSocketAddress(keys[g + ".host"] + ":" + keys[g + ".port"], inet, &why))
        return bad(why);
      return true;
    }
    if (!keys.count(g + ".path")) return bad("Parameter '" + g + ".path' is missing");
    *path = keys[g + ".path"];
    if (path->empty() || path->size() >= sizeof(sockaddr_un{}.sun_path))
      return bad("UNIX socket path '" + *path + "' is too long");
    return true;
  };
  bool given = false;
  if (stream) {
    if (!address("addr", &so.unix_path, &so.addr, &given)) return false;
    if (!given) return bad("Parameter 'addr' is missing");
    so.mode = server ? Mode::kListen : Mode::kConnect;
  } else {
    bool remote = false;
    std::string unused;
    if (!address("local", &unused, &so.local, &given)) return false;
    if (!address("remote", &unused, &so.addr, &remote)) return false;
    const bool multicast = remote && IN_MULTICAST(ntohl(so.addr.sin_addr.s_addr));
    if (!given && !multicast) return bad("dgram requires local= parameter");
    if (given && !remote) return bad("type=inet or type=unix requires remote parameter");
    so.mode = multicast ? Mode::kMcast : Mode::kUdp;
    so.local_given = given;
  }
  n.socket = so;
  *out = n;
  return true;
}

bool NetOptions::AddNic(const std::string& value, std::string* info, std::string* error) {
  const std::string option = "-nic " + value;
  const std::vector<std::string> parts = SplitOptions(value);
  any_ = true;
  if (parts.empty()) return Fail(error, option + ": a backend type is needed (user, socket or none)");
  const std::string type = parts[0];
  if (type == "none") return true;  // as in QEMU: no default NIC, and no NIC of its own
  NicRequest nic;
  nic.option = option;
  bool help = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto [key, v] = KeyValue(parts[i]);
    if (NicKey(option, "mac", key, v, &nic, &help, error) < 0) return false;
    if (help) return *info = kModelHelp, true;
  }
  if (type != "user" && type != "socket") {
    if (type == "tap" || type == "bridge" || type == "stream" || type == "dgram" || type == "vde" ||
        type == "l2tpv3" || type == "vhost-user" || type == "vhost-vdpa" || type == "hubport")
      return Fail(error, option + ": network backend '" + type + "' is not supported (user, socket or none)");
    return Fail(error, option + ": unknown network backend '" + type + "' (user, socket or none)");
  }
  NetdevConfig n;
  if (!(type == "user" ? ParseUser(option, parts, 1, &n, error) : ParseSocket(option, parts, 1, &n, error)))
    return false;
  netdevs_.push_back(n);
  nic.netdev = static_cast<int>(netdevs_.size() - 1);
  nics_.push_back(nic);
  return true;
}

bool NetOptions::AddNet(const std::string& value, std::string* info, std::string* error) {
  const std::string option = "-net " + value;
  const std::vector<std::string> parts = SplitOptions(value);
  any_ = true;
  const std::string type = parts.empty() ? "" : parts[0];
  if (type == "none") return true;  // as in QEMU: no default NIC, and no NIC of its own
  if (type == "nic") {
    NicRequest nic;
    nic.option = option;
    std::string netdev;
    bool help = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      const auto [key, v] = KeyValue(parts[i]);
      const int taken = NicKey(option, "macaddr", key, v, &nic, &help, error);
      if (taken < 0) return false;
      if (help) return *info = kModelHelp, true;
      if (taken) continue;
      if (key == "netdev") {
        netdev = v;
      } else if (key != "id" && key != "name") {
        return Fail(error, option + ": invalid parameter '" + key + "' (model, macaddr, netdev, id, name)");
      }
    }
    if (!netdev.empty()) {  // joined to a -netdev like a -device NIC, but created with the board
      nic.netdev_id = netdev;
      nics_.push_back(nic);
      return true;
    }
    net_nics_.push_back(nics_.size());
    nics_.push_back(nic);
    return true;
  }
  if (type == "user" || type == "socket") {
    NetdevConfig n;
    if (!(type == "user" ? ParseUser(option, parts, 1, &n, error) : ParseSocket(option, parts, 1, &n, error)))
      return false;
    netdevs_.push_back(n);
    if (net_nics_.empty()) net_user_first_ = true;
    net_users_.push_back(static_cast<int>(netdevs_.size() - 1));
    return true;
  }
  if (type.empty()) return Fail(error, option + ": a type is needed (nic, user, socket or none)");
  return Fail(error,
              option + ": network backend '" + type + "' is not supported (nic, user, socket or none)");
}

bool NetOptions::AddNetdev(const std::string& value, std::string* error) {
  const std::string option = "-netdev " + value;
  const std::vector<std::string> parts = SplitOptions(value);
  any_ = true;
  const std::string type = parts.empty() ? "" : parts[0];
  if (type != "user" && type != "hubport" && type != "socket" && type != "stream" && type != "dgram") {
    if (type.empty())
      return Fail(error, option + ": a backend type is needed (user, socket, stream, dgram or hubport)");
    return Fail(error, option + ": network backend '" + type +
                           "' is not supported (user, socket, stream, dgram or hubport)");
  }
  NetdevConfig n;
  if (type == "hubport") {
    n.option = option;
    for (size_t i = 1; i < parts.size(); ++i) {
      const auto [key, v] = KeyValue(parts[i]);
      uint16_t hub;
      if (key == "id") {
        n.id = v;
      } else if (key == "hubid" && vmm::net::ParsePort(v, &hub, /*allow_zero=*/true)) {
        n.hub = hub;
      } else if (key == "hubid") {
        return Fail(error, option + ": bad hubid '" + v + "' (0-65535)");
      } else {
        return Fail(error, option + ": invalid parameter '" + key + "' for hubport (id, hubid)");
      }
    }
    if (n.hub < 0) return Fail(error, option + ": parameter 'hubid' is missing");
  } else if (type == "socket") {
    if (!ParseSocket(option, parts, 1, &n, error)) return false;
  } else if (type == "stream" || type == "dgram") {
    if (!ParseStreamOrDgram(option, type == "stream", parts, 1, &n, error)) return false;
  } else if (!ParseUser(option, parts, 1, &n, error)) {
    return false;
  }
  if (n.id.empty()) return Fail(error, option + ": parameter 'id' is missing");
  for (const NetdevConfig& o : netdevs_)
    if (o.id == n.id) return Fail(error, option + ": duplicate ID '" + n.id + "' for netdev");
  netdevs_.push_back(n);
  return true;
}

bool NetOptions::AddDevice(const std::string& value, int place, std::string* error) {
  const std::string option = "-device " + value;
  const std::vector<std::string> parts = SplitOptions(value);
  NicRequest nic;
  nic.option = option;
  nic.pci_order = pci_order::kDevice + place;
  std::string driver, addr;
  size_t first = 0;
  if (!parts.empty() && parts[0].find('=') == std::string::npos) {
    driver = parts[0];
    first = 1;
  }
  for (size_t i = first; i < parts.size(); ++i) {
    const auto [key, v] = KeyValue(parts[i]);
    if (key == "driver") {
      driver = v;
    } else if (key == "netdev") {
      nic.netdev_id = v;
    } else if (key == "mac") {
      if (!ParseMac(v, &nic.mac)) return Fail(error, option + ": bad MAC address '" + v + "'");
      nic.mac_given = true;
    } else if (key == "addr") {
      addr = v;
    } else if (key == "bus" && v != "pci") {  // QEMU's name for the Malta's one PCI bus
      return Fail(error, option + ": Bus '" + v + "' not found (pci)");
    } else if (key == "id") {
      nic.id = v;
    } else if (key != "bus" && key != "romfile" && key != "bootindex") {
      // bootindex: the order firmware tries boot devices in; Malta boots -kernel, as under QEMU
      return Fail(error, option + ": unknown property '" + key + "' (netdev, mac, id, addr)");
    }
  }
  if (!ModelFromName(driver, &nic.model))
    return Fail(error, option + ": NIC model '" + driver + "' is not emulated (pcnet or virtio-net-pci)");
  if (!addr.empty() && !qemu::ParsePciAddr(addr, &nic.devfn))
    return Fail(error, option + ": Property '" + vmm::QdevType(nic.model) + ".addr' doesn't take value '" +
                           addr + "'");
  devices_.push_back(nic);  // not a network option: QEMU's default NIC stays (see Resolve)
  return true;
}

bool NetOptions::AddObject(const std::string& value, std::string* error) {
  const std::string option = "-object " + value;
  const std::vector<std::string> parts = SplitOptions(value);
  std::string type = parts.empty() ? "" : parts[0];
  Dump dump;
  dump.option = option;
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto [key, v] = KeyValue(parts[i]);
    if (key == "qom-type") {
      type = v;
    } else if (key == "netdev") {
      dump.netdev = v;
    } else if (key == "file") {
      dump.file = v;
    } else if (key != "id" && key != "maxlen" && key != "queue" && key != "status") {
      if (type == "filter-dump")
        return Fail(error, option + ": unknown property '" + key + "' (id, netdev, file, maxlen)");
    }
  }
  if (type != "filter-dump")
    return Fail(error, option + ": object type '" + type +
                           "' is not supported (filter-dump, rng-random, rng-builtin)");
  if (dump.netdev.empty()) return Fail(error, option + ": parameter 'netdev' is missing");
  if (dump.file.empty()) return Fail(error, option + ": parameter 'file' is missing");
  dumps_.push_back(dump);
  return true;
}

bool NetOptions::Resolve(bool nodefaults, NetworkConfig* out, std::string* error) {
  NetworkConfig c;
  // -nic none / -net none only keep the default NIC away: NICs and netdevs given beside them stay. A -device
  // NIC is no network option: without -nodefaults QEMU still makes its default NIC on hub 0 beside it.
  const bool default_nic = !any_ && !nodefaults;
  if (!default_nic && netdevs_.empty() && nics_.empty() && devices_.empty()) {
    if (!dumps_.empty()) return Fail(error, dumps_[0].option + ": no network to capture (no NIC)");
    if (!pcap_all_.empty()) return Fail(error, "--pcap " + pcap_all_ + ": no network to capture (no NIC)");
    *out = c;
    return true;
  }
  c.netdevs = netdevs_;
  c.nics = nics_;
  if (default_nic) {  // QEMU's default: one pcnet on user-mode networking (-net nic -net user)
    c.netdevs.push_back(NetdevConfig{"default NIC", "", {}});
    NicRequest nic;
    nic.option = "default NIC";
    nic.netdev = 0;
    c.nics.push_back(nic);
    c.hub0 = {{true, 0}, {false, 0}};
  }
  // -net nic and -net user share QEMU's hub 0: one NIC and one user network are joined.
  if (net_nics_.size() > 1 || net_users_.size() > 1)
    return Fail(error,
                c.nics[net_nics_.size() > 1 ? net_nics_[1] : 0].option +
                    ": only one -net nic and one -net user (hub 0) are supported; use -nic or -netdev");
  if (!net_nics_.empty() && !net_users_.empty()) c.nics[net_nics_[0]].netdev = net_users_[0];
  if (!net_nics_.empty()) c.hub0.push_back({true, static_cast<int>(net_nics_[0])});
  if (!net_users_.empty())
    c.hub0.insert(net_user_first_ ? c.hub0.begin() : c.hub0.end(), {false, net_users_[0]});
  if (!net_nics_.empty() && net_users_.empty())
    std::fprintf(stderr, "strobe: warning: hub 0 is not connected to host network\n");
  // The board's NICs come first in QEMU's creation order; the first, if a pcnet, is the on-board one.
  for (size_t i = 0; i < c.nics.size(); ++i) {
    c.nics[i].pci_order = pci_order::kBoardNic + static_cast<int>(i);
    c.nics[i].onboard = i == 0 && c.nics[i].model == vmm::NicModel::kPcnet;
  }
  c.nics.insert(c.nics.end(), devices_.begin(), devices_.end());
  // -device NICs (and -net nic,netdev=) name a -netdev each, at most one NIC per netdev.
  std::vector<bool> used(c.netdevs.size(), false);
  for (const NicRequest& n : c.nics)
    if (n.netdev >= 0) used[n.netdev] = true;
  for (NicRequest& nic : c.nics) {
    if (nic.netdev_id.empty()) continue;
    int found = -1;
    for (size_t i = 0; i < c.netdevs.size(); ++i)
      if (!c.netdevs[i].id.empty() && c.netdevs[i].id == nic.netdev_id) found = static_cast<int>(i);
    if (found < 0) return Fail(error, nic.option + ": netdev '" + nic.netdev_id + "' not found");
    if (used[found])
      return Fail(error, nic.option + ": netdev '" + nic.netdev_id + "' is already in use by another NIC");
    used[found] = true;
    nic.netdev = found;
  }
  // MAC addresses: 52:54:00:12:34:56, then :57, ... for NICs without one (QEMU's rule).
  uint8_t next = 0x56;
  for (NicRequest& n : c.nics)
    if (!n.mac_given) n.mac = {0x52, 0x54, 0x00, 0x12, 0x34, next++};
  c.pcap.assign(c.netdevs.size(), "");
  for (const Dump& d : dumps_) {
    int found = -1;
    for (size_t i = 0; i < c.netdevs.size(); ++i)
      if (!c.netdevs[i].id.empty() && c.netdevs[i].id == d.netdev) found = static_cast<int>(i);
    if (found < 0) return Fail(error, d.option + ": netdev '" + d.netdev + "' not found");
    c.pcap[found] = d.file;
  }
  if (!pcap_all_.empty()) {
    if (c.nics.empty() || c.nics[0].netdev < 0)
      return Fail(error, "--pcap " + pcap_all_ + ": the first NIC has no network to capture");
    c.pcap[c.nics[0].netdev] = pcap_all_;
  }
  if (!default_nic)  // QEMU is quiet about its own default network only
    for (const std::string& w : UnconnectedWarnings(c))
      std::fprintf(stderr, "strobe: warning: %s\n", w.c_str());
  *out = c;
  return true;
}

bool OpenNetwork(const NetworkConfig& config, std::vector<std::unique_ptr<vmm::net::NetBackend>>* backends,
                 std::vector<std::unique_ptr<vmm::net::PcapWriter>>* captures, vmm::VmConfig* vm,
                 std::string* error) {
  std::vector<vmm::net::NetBackend*> by_netdev(config.netdevs.size(), nullptr);
  std::vector<const vmm::net::SocketBackend*> sockets(config.netdevs.size(), nullptr);
  std::vector<vmm::net::PcapWriter*> pcap_by_netdev(config.netdevs.size(), nullptr);
  for (size_t i = 0; i < config.netdevs.size(); ++i) {
    bool connected = false;
    for (const NicRequest& n : config.nics) connected |= n.netdev == static_cast<int>(i);
    if (!connected) continue;  // QEMU warns; nothing would use it
    std::string why;
    std::unique_ptr<vmm::net::NetBackend> b;
    if (config.netdevs[i].hub >= 0) {
      b = vmm::net::Hub::Get(config.netdevs[i].hub).AddPort();
    } else if (config.netdevs[i].socket) {
      auto sb = vmm::net::SocketBackend::Create(*config.netdevs[i].socket, &why);
      sockets[i] = sb.get();
      b = std::move(sb);
    } else {
      b = vmm::net::SlirpBackend::Create(config.netdevs[i].slirp, &why);
    }
    if (!b) return Fail(error, config.netdevs[i].option + ": " + why);
    by_netdev[i] = b.get();
    backends->push_back(std::move(b));
    if (!config.pcap[i].empty()) {
      auto w = vmm::net::PcapWriter::Open(config.pcap[i], &why);
      if (!w) return Fail(error, why);
      pcap_by_netdev[i] = w.get();
      captures->push_back(std::move(w));
    }
  }
  for (const NicRequest& n : config.nics) {
    vmm::NicConfig nic;
    nic.model = n.model;
    nic.mac = n.mac;
    nic.onboard = n.onboard;
    nic.pci_order = n.pci_order;
    nic.devfn = n.devfn;
    nic.device_id = n.id;
    nic.option = n.option;
    if (n.netdev >= 0) {
      nic.backend = by_netdev[n.netdev];
      nic.pcap = pcap_by_netdev[n.netdev];
      nic.netdev_id = config.netdevs[n.netdev].id;
    }
    vm->nics.push_back(nic);
  }
  vm->network_info = [config, sockets] {
    std::vector<std::string> live(config.netdevs.size());
    for (size_t i = 0; i < live.size(); ++i)
      live[i] = sockets[i]                 ? sockets[i]->Info()
                : config.netdevs[i].socket ? vmm::net::SocketInfo(*config.netdevs[i].socket)
                                           : "";
    return NetworkInfo(config, live);
  };
  return true;
}

}  // namespace strobe::tools
