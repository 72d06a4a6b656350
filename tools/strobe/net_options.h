// SPDX-License-Identifier: MIT
// The network options, with QEMU's spelling and rules: -nic, -net nic / -net user, -netdev user with
// -device pcnet|virtio-net-pci,netdev=ID, the "none" forms, -object filter-dump and Strobe's --pcap. They
// are gathered in command-line order and resolved once all are known (QEMU's default of one pcnet NIC on
// user-mode networking when no network option and no -nodefaults is given; MAC addresses 52:54:00:12:34:56
// and up for NICs without mac=). Every refusal is one line starting with the option as given.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vmm/net/backend.h"
#include "vmm/net/pcap.h"
#include "vmm/net/slirp_backend.h"
#include "vmm/net/socket_backend.h"
#include "vmm/vm.h"

namespace strobe::tools {

// One user-mode network (a -netdev user, a -nic user or a -net user), a port of an in-process switch
// (-netdev hubport,id=ID,hubid=N: vmm/net/hub.h; NICs of every VM in the process on hub N are joined), or
// a link over a host socket (-netdev/-nic/-net socket: vmm/net/socket_backend.h).
struct NetdevConfig {
  std::string option;  // as given, for messages
  std::string id;
  vmm::net::SlirpOptions slirp;
  int hub = -1;                                   // hubport: the hub's id
  std::optional<vmm::net::SocketOptions> socket;  // socket (with hub -1)
};

struct NicRequest {
  std::string option;
  vmm::NicModel model = vmm::NicModel::kPcnet;
  bool mac_given = false;
  std::array<uint8_t, 6> mac{};
  int netdev = -1;        // index into NetworkConfig::netdevs; -1: not connected (frames go nowhere)
  std::string netdev_id;  // -device ...,netdev=ID or -net nic,netdev=ID: joined to it by Resolve
  // QEMU's creation order (drive_options.h, pci_order): the board's NICs (-nic, -net nic, the default)
  // first, then the -device ones with the other -device options. The first board NIC, if a pcnet, is the
  // Malta's on-board one at 00:0b.0.
  int pci_order = 0;
  bool onboard = false;
  std::string id;  // -device ...,id=: the NIC's name in info network (else its model and a number)
  int devfn = -1;  // -device ...,addr=: its PCI slot and function ((slot << 3) | function); -1 the next free
};

struct NetworkConfig {
  std::vector<NetdevConfig> netdevs;
  std::vector<NicRequest> nics;   // MACs settled
  std::vector<std::string> pcap;  // per netdev: the capture file ("" none)
  // QEMU's hub 0 (-net nic and -net user, or the default NIC), in the order its ports were made: a NIC
  // (index into nics) or a user network (index into netdevs).
  struct Hub0Port {
    bool nic = false;
    int index = 0;
  };
  std::vector<Hub0Port> hub0;
};

// The monitor's `info network` for this configuration, as QEMU 7.2 prints it (hubs first, newest port
// first; then netdevs no NIC uses; then each NIC with its backend). A netdev without id= gets QEMU's
// generated kind of name, "#net" and a counter, with "00" where QEMU adds two random digits. live[i], where
// given, is socket netdev i's info now (SocketBackend::Info); else its info before any connection.
std::string NetworkInfo(const NetworkConfig& config, const std::vector<std::string>& live = {});
// QEMU's warnings for a network given on the command line: each netdev, hub port and NIC left without a
// peer ("nic pcnet.1 has no peer").
std::vector<std::string> UnconnectedWarnings(const NetworkConfig& config);

class NetOptions {
 public:
  // -nic VALUE, -net VALUE, -netdev VALUE. false with *error on bad input; *info for model=help.
  bool AddNic(const std::string& value, std::string* info, std::string* error);
  bool AddNet(const std::string& value, std::string* info, std::string* error);
  bool AddNetdev(const std::string& value, std::string* error);
  // -device VALUE naming a NIC model (IsNicDevice); `place`: how many -device options came before it.
  bool AddDevice(const std::string& value, int place, std::string* error);
  // -object filter-dump,id=ID,netdev=ID,file=PATH[,maxlen=N].
  bool AddObject(const std::string& value, std::string* error);
  // --pcap FILE: capture the first NIC's link.
  void SetPcap(const std::string& file) { pcap_all_ = file; }
  // Settles the configuration; nodefaults: -nodefaults (no default NIC).
  bool Resolve(bool nodefaults, NetworkConfig* out, std::string* error);

 private:
  struct Dump {
    std::string option, netdev, file;
  };
  bool ParseUser(const std::string& option, const std::vector<std::string>& parts, size_t first,
                 NetdevConfig* out, std::string* error);
  bool ParseSocket(const std::string& option, const std::vector<std::string>& parts, size_t first,
                   NetdevConfig* out, std::string* error);
  bool ParseStreamOrDgram(const std::string& option, bool stream, const std::vector<std::string>& parts,
                          size_t first, NetdevConfig* out, std::string* error);
  std::vector<NetdevConfig> netdevs_;
  std::vector<NicRequest> nics_;     // -nic and -net nic, in order
  std::vector<NicRequest> devices_;  // -device NICs, in order
  std::vector<Dump> dumps_;
  std::vector<int> net_users_;    // indexes of -net user and -net socket netdevs
  std::vector<size_t> net_nics_;  // indexes in nics_ of -net nic
  bool net_user_first_ = false;   // a -net user came before any -net nic (it took hub 0's first port)
  std::string pcap_all_;
  bool any_ = false;  // some network option was given
};

// Whether a -device driver name is a NIC model (so -device goes to NetOptions::AddDevice).
bool IsNicDevice(const std::string& device_value);

// 52:54:00:12:34:56. false when malformed or a multicast address.
bool ParseMac(const std::string& text, std::array<uint8_t, 6>* out);

// Creates the backends (binding every hostfwd port) and capture files, and fills vm->nics. The backends
// and writers belong to the caller and must outlive the VM.
bool OpenNetwork(const NetworkConfig& config, std::vector<std::unique_ptr<vmm::net::NetBackend>>* backends,
                 std::vector<std::unique_ptr<vmm::net::PcapWriter>>* captures, vmm::VmConfig* vm,
                 std::string* error);

}  // namespace strobe::tools
