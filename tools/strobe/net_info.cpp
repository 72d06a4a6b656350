// SPDX-License-Identifier: MIT
// The monitor's `info network` text for a resolved network configuration (net_options.h), in QEMU 7.2's
// layout: its hubs, then the network clients in the order QEMU made them (netdevs before NICs), each NIC
// with its backend on the next line.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tools/strobe/net_options.h"

namespace strobe::tools {
namespace {

// A netdev's id, else QEMU's generated "#net<counter><two random digits>" (00 here).
std::vector<std::string> NetdevNames(const NetworkConfig& c) {
  std::vector<std::string> names;
  unsigned generated = 0;
  for (const NetdevConfig& n : c.netdevs)
    names.push_back(n.id.empty() ? "#net" + std::to_string(generated++) + "00" : n.id);
  return names;
}

// A NIC's -device id, else its model and how many NICs of that model came before it.
std::vector<std::string> NicNames(const NetworkConfig& c) {
  std::vector<std::string> names;
  std::map<vmm::NicModel, unsigned> per_model;
  for (const NicRequest& n : c.nics)
    names.push_back(n.id.empty()
                        ? std::string(vmm::QdevType(n.model)) + "." + std::to_string(per_model[n.model]++)
                        : n.id);
  return names;
}

}  // namespace

std::vector<std::string> UnconnectedWarnings(const NetworkConfig& c) {
  const std::vector<std::string> netdev_names = NetdevNames(c), nic_names = NicNames(c);
  std::vector<bool> used(c.netdevs.size(), false);
  for (const NicRequest& n : c.nics)
    if (n.netdev >= 0) used[n.netdev] = true;
  auto on_hub0 = [&](bool nic, size_t i) {
    return std::any_of(c.hub0.begin(), c.hub0.end(), [&](const NetworkConfig::Hub0Port& p) {
      return p.nic == nic && p.index == static_cast<int>(i);
    });
  };
  // The hubs first, as QEMU checks them (a hubport hub without a host network is not warned about: here
  // such hubs join the VMs of the process); then every client without a peer.
  std::vector<std::string> out;
  const bool hub0_nic =
      std::any_of(c.hub0.begin(), c.hub0.end(), [](const NetworkConfig::Hub0Port& p) { return p.nic; });
  if (!c.hub0.empty() && !hub0_nic) out.push_back("hub 0 with no nics");
  for (size_t i = 0; i < c.netdevs.size(); ++i)
    if (!used[i] && c.netdevs[i].hub >= 0) out.push_back("hub port " + netdev_names[i] + " has no peer");
  for (size_t i = 0; i < c.netdevs.size(); ++i)
    if (!used[i] && !on_hub0(false, i)) out.push_back("netdev " + netdev_names[i] + " has no peer");
  for (size_t i = 0; i < c.nics.size(); ++i)
    if (c.nics[i].netdev < 0 && !on_hub0(true, i)) out.push_back("nic " + nic_names[i] + " has no peer");
  return out;
}

std::string NetworkInfo(const NetworkConfig& c, const std::vector<std::string>& live) {
  const std::vector<std::string> netdev_names = NetdevNames(c), nic_names = NicNames(c);
  auto nic_line = [&](size_t i) {
    const auto& m = c.nics[i].mac;
    char mac[24];
    std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return nic_names[i] + ": index=0,type=nic,model=" + vmm::QdevType(c.nics[i].model) + ",macaddr=" + mac +
           "\n";
  };
  auto netdev_line = [&](size_t i) {
    if (c.netdevs[i].socket)
      return netdev_names[i] + ": index=0,type=" + vmm::net::SocketTypeName(*c.netdevs[i].socket) + "," +
             (i < live.size() ? live[i] : vmm::net::SocketInfo(*c.netdevs[i].socket)) + "\n";
    const vmm::net::SlirpOptions& s = c.netdevs[i].slirp;
    char net[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &s.network, net, sizeof net);
    return netdev_names[i] + ": index=0,type=user,net=" + net + ",restrict=" + (s.restricted ? "on" : "off") +
           "\n";
  };
  // Who is on a hub: hub 0's ports (the -net options), and each hubport netdev with the NIC it serves.
  std::vector<bool> nic_on_hub(c.nics.size(), false), netdev_on_hub(c.netdevs.size(), false);
  std::vector<int> nic_of_netdev(c.netdevs.size(), -1);
  for (size_t i = 0; i < c.nics.size(); ++i)
    if (c.nics[i].netdev >= 0) nic_of_netdev[c.nics[i].netdev] = static_cast<int>(i);
  std::string out;
  std::vector<int> hubs;  // in the order they were made; QEMU lists the newest first, ports likewise
  if (!c.hub0.empty()) hubs.push_back(0);
  for (const NetdevConfig& n : c.netdevs)
    if (n.hub >= 0 && std::find(hubs.begin(), hubs.end(), n.hub) == hubs.end()) hubs.push_back(n.hub);
  for (auto h = hubs.rbegin(); h != hubs.rend(); ++h) {
    out += "hub " + std::to_string(*h) + "\n";
    std::vector<std::string> ports;  // in creation order
    if (*h == 0) {
      for (const NetworkConfig::Hub0Port& p : c.hub0) {
        const std::string name = "hub0port" + std::to_string(ports.size());
        if (p.nic) {
          nic_on_hub[p.index] = true;
          ports.push_back(" \\ " + name + ": " + nic_line(p.index));
        } else {
          netdev_on_hub[p.index] = true;
          ports.push_back(" \\ " + name + ": " + netdev_line(p.index));
        }
      }
    }
    for (size_t i = 0; i < c.netdevs.size(); ++i) {
      if (c.netdevs[i].hub != *h) continue;
      netdev_on_hub[i] = true;
      const int nic = nic_of_netdev[i];
      if (nic >= 0) nic_on_hub[nic] = true;
      ports.push_back(" \\ " + netdev_names[i] + (nic >= 0 ? ": " + nic_line(nic) : "\n"));
    }
    for (auto p = ports.rbegin(); p != ports.rend(); ++p) out += *p;
  }
  for (size_t i = 0; i < c.netdevs.size(); ++i)
    if (!netdev_on_hub[i] && nic_of_netdev[i] < 0) out += netdev_line(i);
  for (size_t i = 0; i < c.nics.size(); ++i) {
    if (nic_on_hub[i]) continue;
    out += nic_line(i);
    if (c.nics[i].netdev >= 0) out += " \\ " + netdev_line(c.nics[i].netdev);
  }
  return out;
}

}  // namespace strobe::tools
