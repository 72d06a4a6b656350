// SPDX-License-Identifier: MIT
// The network options as the parser resolves them (no backend is created here): QEMU's -nic, -net and
// -netdev/-device spellings, the default NIC, MAC numbering, hostfwd rules, captures, and one line for
// each thing that is wrong.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "tests/vmm/parse_run_options.h"

namespace strobe::test {
namespace {

using tools::NetworkConfig;
using vmm::NicModel;

NetworkConfig Net(std::vector<std::string> args) {
  return Parse(std::move(args)).network;
}

std::string Dotted(in_addr a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::array<uint8_t, 6> Mac(uint8_t last) {
  return {0x52, 0x54, 0x00, 0x12, 0x34, last};
}

TEST(NetOptions, DefaultIsOnePcnetOnUserNetworking) {
  NetworkConfig n = Net({});
  ASSERT_EQ(n.nics.size(), 1u);
  ASSERT_EQ(n.netdevs.size(), 1u);
  EXPECT_EQ(n.nics[0].model, NicModel::kPcnet);
  EXPECT_EQ(n.nics[0].netdev, 0);
  EXPECT_EQ(n.nics[0].mac, Mac(0x56));
  const auto& s = n.netdevs[0].slirp;
  EXPECT_EQ(Dotted(s.network), "10.0.2.0");
  EXPECT_EQ(Dotted(s.netmask), "255.255.255.0");
  EXPECT_EQ(Dotted(s.host), "10.0.2.2");
  EXPECT_EQ(Dotted(s.dns), "10.0.2.3");
  EXPECT_EQ(Dotted(s.dhcp_start), "10.0.2.15");
  EXPECT_FALSE(s.restricted);
  // -nodefaults, -nic none and -net none: no NIC at all.
  EXPECT_TRUE(Net({"-nodefaults"}).nics.empty());
  EXPECT_TRUE(Net({"-nic", "none"}).nics.empty());
  EXPECT_TRUE(Net({"-net", "none"}).nics.empty());
  EXPECT_TRUE(Net({"-nic", "none"}).netdevs.empty());
  // As on QEMU 7.2 (`info network`), none only keeps the default NIC away: NICs given beside it stay,
  // before or after it.
  EXPECT_EQ(Net({"-nic", "none", "-netdev", "user,id=n", "-device", "pcnet,netdev=n"}).nics.size(), 1u);
  EXPECT_EQ(Net({"-nic", "none", "-nic", "user,model=pcnet"}).nics.size(), 1u);
  EXPECT_EQ(Net({"-nic", "user,model=pcnet", "-nic", "none"}).nics.size(), 1u);
  const auto virtio = Net({"-net", "none", "-nic", "user,model=virtio-net-pci"});
  ASSERT_EQ(virtio.nics.size(), 1u);
  EXPECT_EQ(virtio.nics[0].model, vmm::NicModel::kVirtio);
}

TEST(NetOptions, NicUserWithForwardsAndMac) {
  NetworkConfig n = Net({"-nic",
                         "user,model=pcnet,mac=52:54:00:aa:bb:cc,hostfwd=tcp::2222-:22,"
                         "hostfwd=udp:0.0.0.0:5353-10.0.2.20:53,restrict=on"});
  ASSERT_EQ(n.nics.size(), 1u);
  EXPECT_EQ(n.nics[0].mac, (std::array<uint8_t, 6>{0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC}));
  const auto& s = n.netdevs[0].slirp;
  EXPECT_TRUE(s.restricted);
  ASSERT_EQ(s.forwards.size(), 2u);
  EXPECT_FALSE(s.forwards[0].udp);
  EXPECT_EQ(Dotted(s.forwards[0].host_addr), "127.0.0.1");  // the host side is loopback unless given
  EXPECT_EQ(s.forwards[0].host_port, 2222);
  EXPECT_EQ(s.forwards[0].guest_addr.s_addr, 0u);  // the guest's DHCP address
  EXPECT_EQ(s.forwards[0].guest_port, 22);
  EXPECT_TRUE(s.forwards[1].udp);
  EXPECT_EQ(Dotted(s.forwards[1].host_addr), "0.0.0.0");
  EXPECT_EQ(Dotted(s.forwards[1].guest_addr), "10.0.2.20");
  EXPECT_EQ(s.forwards[1].guest_port, 53);
}

TEST(NetOptions, MacsCountUpAsQemus) {
  NetworkConfig n = Net({"-nic", "user", "-nic", "user,mac=52:54:00:00:00:01", "-nic", "user"});
  ASSERT_EQ(n.nics.size(), 3u);
  EXPECT_EQ(n.nics[0].mac, Mac(0x56));
  EXPECT_EQ(n.nics[2].mac, Mac(0x57));  // only NICs without mac= take a number
  EXPECT_EQ(n.netdevs.size(), 3u);
}

TEST(NetOptions, NetdevWithDevice) {
  NetworkConfig n =
      Net({"-netdev", "user,id=n0,hostfwd=tcp::8080-:80", "-device", "pcnet,netdev=n0,mac=52:54:00:12:34:99",
           "-object", "filter-dump,id=f0,netdev=n0,file=/tmp/x.pcap"});
  ASSERT_EQ(n.nics.size(), 1u);
  EXPECT_EQ(n.nics[0].netdev, 0);
  EXPECT_EQ(n.nics[0].mac, Mac(0x99));
  EXPECT_EQ(n.netdevs[0].id, "n0");
  EXPECT_EQ(n.pcap[0], "/tmp/x.pcap");
  EXPECT_EQ(Net({"-netdev", "user,id=a", "-device", "driver=pcnet,netdev=a"}).nics.size(), 1u);
  // A -netdev alone adds no NIC (and no default one).
  EXPECT_TRUE(Net({"-netdev", "user,id=n0"}).nics.empty());
  EXPECT_EQ(Net({"--pcap", "/tmp/y.pcap"}).pcap[0], "/tmp/y.pcap");
}

TEST(NetOptions, NetNicAndNetUserShareHubZero) {
  NetworkConfig n =
      Net({"-net", "nic,model=pcnet,macaddr=52:54:00:12:34:60", "-net", "user,hostfwd=tcp::2200-:22"});
  ASSERT_EQ(n.nics.size(), 1u);
  EXPECT_EQ(n.nics[0].netdev, 0);
  EXPECT_EQ(n.nics[0].mac, Mac(0x60));
  EXPECT_EQ(n.netdevs[0].slirp.forwards.size(), 1u);
  NetworkConfig alone = Net({"-net", "nic"});
  ASSERT_EQ(alone.nics.size(), 1u);
  EXPECT_EQ(alone.nics[0].netdev, -1);  // QEMU: hub 0 not connected to a host network
  EXPECT_EQ(Net({"-netdev", "user,id=u", "-net", "nic,netdev=u"}).nics[0].netdev, 0);
}

TEST(NetOptions, UserNetworkAddresses) {
  const auto& s = Net({"-nic", "user,net=192.168.76.0/24"}).netdevs[0].slirp;
  EXPECT_EQ(Dotted(s.host), "192.168.76.2");
  EXPECT_EQ(Dotted(s.dns), "192.168.76.3");
  EXPECT_EQ(Dotted(s.dhcp_start), "192.168.76.15");
  const auto& t = Net({"-nic", "user,host=10.0.2.5,dns=10.0.2.6,dhcpstart=10.0.2.100"}).netdevs[0].slirp;
  EXPECT_EQ(Dotted(t.host), "10.0.2.5");
  EXPECT_EQ(Dotted(t.dns), "10.0.2.6");
  EXPECT_EQ(Dotted(t.dhcp_start), "10.0.2.100");
}

TEST(NetOptions, VirtioNetInEverySpelling) {
  for (const char* model : {"virtio-net-pci", "virtio", "virtio-net"}) {
    NetworkConfig n = Net({"-nic", std::string("user,model=") + model});
    ASSERT_EQ(n.nics.size(), 1u) << model;
    EXPECT_EQ(n.nics[0].model, NicModel::kVirtio);
    EXPECT_FALSE(n.nics[0].onboard);  // only a pcnet is the Malta's on-board NIC at 00:0b.0
  }
  NetworkConfig d =
      Net({"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:77"});
  ASSERT_EQ(d.nics.size(), 1u);
  EXPECT_EQ(d.nics[0].model, NicModel::kVirtio);
  EXPECT_EQ(d.nics[0].mac, Mac(0x77));
  EXPECT_EQ(d.nics[0].netdev, 0);
  EXPECT_EQ(Net({"-net", "nic,model=virtio", "-net", "user"}).nics[0].model, NicModel::kVirtio);
}

// QEMU's creation order decides the PCI slots: the board's NICs, then every -device (disks and NICs in
// command-line order), then the disks -drive if=virtio adds. QEMU's reference (qemu-pci-devices.txt):
// "-drive if=virtio -netdev user,id=n0 -device virtio-net-pci,netdev=n0 -nic user,model=pcnet" gives
// the pcnet 00:0b.0, virtio-net 00:12.0 and the disk 00:13.0.
TEST(NetOptions, VirtioDisksAndNicsShareOneCreationOrder) {
  tools::RunOptions o = Parse({"-drive", "file=d2.img,format=raw,if=virtio", "-netdev", "user,id=n0",
                               "-device", "virtio-net-pci,netdev=n0", "-nic", "user,model=pcnet"});
  ASSERT_EQ(o.network.nics.size(), 2u);
  const auto& pcnet = o.network.nics[0];  // the board's NICs come first
  const auto& vnet = o.network.nics[1];
  EXPECT_EQ(pcnet.model, NicModel::kPcnet);
  EXPECT_TRUE(pcnet.onboard);
  EXPECT_EQ(pcnet.mac, Mac(0x56));
  EXPECT_EQ(vnet.mac, Mac(0x57));
  ASSERT_EQ(o.drives.size(), 1u);
  EXPECT_LT(vnet.pci_order, o.drives[0].virtio_order);

  // -device disks and NICs interleave as given; if=virtio disks follow them all.
  tools::RunOptions m =
      Parse({"-drive", "file=a,if=virtio", "-netdev", "user,id=n1", "-drive", "file=b,if=none,id=d1",
             "-device", "virtio-blk-pci,drive=d1", "-device", "virtio-net-pci,netdev=n1", "-netdev",
             "user,id=n2", "-device", "pcnet,netdev=n2", "-nic", "user,model=virtio"});
  ASSERT_EQ(m.network.nics.size(), 3u);
  const int board_virtio = m.network.nics[0].pci_order, device_virtio = m.network.nics[1].pci_order,
            device_pcnet = m.network.nics[2].pci_order;
  EXPECT_FALSE(m.network.nics[0].onboard);
  EXPECT_FALSE(m.network.nics[2].onboard);  // a -device pcnet is an add-on card, as in QEMU
  const int disk_device = m.drives[1].virtio_order, disk_if_virtio = m.drives[0].virtio_order;
  EXPECT_LT(board_virtio, disk_device);
  EXPECT_LT(disk_device, device_virtio);
  EXPECT_LT(device_virtio, device_pcnet);
  EXPECT_LT(device_pcnet, disk_if_virtio);
}

// A -device NIC is no network option: QEMU 7.2 keeps its default NIC (on hub 0) beside it, and with
// -nodefaults the device is the only NIC.
TEST(NetOptions, ADeviceNicKeepsTheDefaultNic) {
  NetworkConfig n = Net({"-device", "pcnet"});
  ASSERT_EQ(n.nics.size(), 2u);
  EXPECT_TRUE(n.nics[0].onboard);
  EXPECT_EQ(n.nics[0].netdev, 0);
  EXPECT_EQ(n.nics[1].netdev, -1);  // not connected
  EXPECT_EQ(n.nics[1].mac, Mac(0x57));
  NetworkConfig alone = Net({"-nodefaults", "-device", "virtio-net-pci"});
  ASSERT_EQ(alone.nics.size(), 1u);
  EXPECT_EQ(alone.nics[0].model, NicModel::kVirtio);
  EXPECT_TRUE(alone.netdevs.empty());
}

// info network, each compared with qemu-system-mipsel 7.2 -M malta -S given the same options (QEMU's
// generated netdev names end in two random digits, 00 here).
TEST(NetOptions, InfoNetworkAsQemuPrintsIt) {
  auto info = [](std::vector<std::string> args) { return tools::NetworkInfo(Net(std::move(args))); };
  EXPECT_EQ(info({}),
            "hub 0\n"
            " \\ hub0port1: #net000: index=0,type=user,net=10.0.2.0,restrict=off\n"
            " \\ hub0port0: pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n");
  EXPECT_EQ(
      info({"-net", "user,net=192.168.76.0/24,restrict=on", "-net", "nic,model=virtio"}),
      "hub 0\n"
      " \\ hub0port1: virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:56\n"
      " \\ hub0port0: #net000: index=0,type=user,net=192.168.76.0,restrict=on\n");
  EXPECT_EQ(info({"-nic", "user", "-nic", "user,model=virtio,id=x", "-device", "pcnet,id=p9"}),
            "pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n"
            " \\ #net000: index=0,type=user,net=10.0.2.0,restrict=off\n"
            "virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:57\n"
            " \\ x: index=0,type=user,net=10.0.2.0,restrict=off\n"
            "p9: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:58\n");
  EXPECT_EQ(info({"-netdev", "user,id=u1", "-netdev", "user,id=u2", "-device", "pcnet,netdev=u2"}),
            "u1: index=0,type=user,net=10.0.2.0,restrict=off\n"
            "pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n"
            " \\ u2: index=0,type=user,net=10.0.2.0,restrict=off\n");
  EXPECT_EQ(info({"-device", "pcnet"}),
            "hub 0\n"
            " \\ hub0port1: #net000: index=0,type=user,net=10.0.2.0,restrict=off\n"
            " \\ hub0port0: pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n"
            "pcnet.1: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:57\n");
  EXPECT_EQ(info({"-netdev", "hubport,id=h0,hubid=3", "-netdev", "hubport,id=h1,hubid=3", "-device",
                  "pcnet,netdev=h1"}),
            "hub 3\n"
            " \\ h1: pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n"
            " \\ h0\n");
  EXPECT_EQ(info({"-nic", "none"}), "");

  // QEMU's warnings for what is left without a peer (none for its own default network).
  using W = std::vector<std::string>;
  auto warnings = [](std::vector<std::string> args) {
    return tools::UnconnectedWarnings(Net(std::move(args)));
  };
  EXPECT_EQ(warnings({"-nodefaults", "-device", "pcnet"}), W{"nic pcnet.0 has no peer"});
  EXPECT_EQ(warnings({"-netdev", "user,id=u1", "-nic", "user"}), W{"netdev u1 has no peer"});
  EXPECT_EQ(warnings({"-netdev", "hubport,id=h0,hubid=3"}),
            (W{"hub port h0 has no peer", "netdev h0 has no peer"}));
  EXPECT_EQ(warnings({"-net", "user"}), W{"hub 0 with no nics"});
  EXPECT_EQ(warnings({"-net", "nic"}), W{});  // hub 0 is not connected to host network: said by Resolve
}

// -netdev socket (and -nic/-net socket): the options as QEMU 7.2 takes and refuses them, and info network's
// lines for each kind, compared with qemu-system-mipsel -M malta -S given the same options (before any
// peer connects: a listener's info is empty then).
TEST(NetOptions, SocketNetdevsAsQemu) {
  auto info = [](std::vector<std::string> args) { return tools::NetworkInfo(Net(std::move(args))); };
  EXPECT_EQ(info({"-nic", "socket,listen=127.0.0.1:5571,model=virtio-net-pci", "-net",
                  "socket,udp=127.0.0.1:5580,localaddr=127.0.0.1:5581", "-net", "nic"}),
            "hub 0\n"
            " \\ hub0port1: pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:57\n"
            " \\ hub0port0: #net100: index=0,type=socket,socket: udp=127.0.0.1:5580\n"
            "virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:56\n"
            " \\ #net000: index=0,type=socket,\n");
  EXPECT_EQ(info({"-netdev", "socket,id=n0,connect=127.0.0.1:5556", "-device", "pcnet,netdev=n0", "-netdev",
                  "socket,id=n2,mcast=230.0.0.1:1234,localaddr=127.0.0.1", "-device", "pcnet,netdev=n2"}),
            "pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n"
            " \\ n0: index=0,type=socket,socket: connect to 127.0.0.1:5556\n"
            "pcnet.1: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:57\n"
            " \\ n2: index=0,type=socket,socket: mcast=230.0.0.1:1234\n");
  // What a live backend reports replaces the listener's empty info.
  NetworkConfig listening = Net({"-netdev", "socket,id=n0,listen=:5556", "-device", "pcnet,netdev=n0"});
  EXPECT_EQ(tools::NetworkInfo(listening, {"socket: connection from 127.0.0.1:46470"}),
            "pcnet.0: index=0,type=nic,model=pcnet,macaddr=52:54:00:12:34:56\n"
            " \\ n0: index=0,type=socket,socket: connection from 127.0.0.1:46470\n");
  ASSERT_TRUE(listening.netdevs[0].socket);
  EXPECT_EQ(listening.netdevs[0].socket->mode, vmm::net::SocketOptions::Mode::kListen);
  EXPECT_EQ(ntohs(listening.netdevs[0].socket->addr.sin_port), 5556);
  EXPECT_EQ(tools::UnconnectedWarnings(Net({"-netdev", "socket,id=s,listen=:5556", "-nic", "user"})),
            std::vector<std::string>{"netdev s has no peer"});

  const std::string n = "-netdev socket,id=n0,";
  EXPECT_EQ(Error({"-netdev", "socket,id=n0"}),
            "-netdev socket,id=n0: exactly one of listen=, connect=, mcast= or udp= is required");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,listen=:5555,connect=127.0.0.1:5555"}),
            n + "listen=:5555,connect=127.0.0.1:5555: exactly one of listen=, connect=, mcast= or udp= is "
                "required");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,listen=127.0.0.1"}),
            n + "listen=127.0.0.1: host address '127.0.0.1' doesn't contain ':' separating host from port");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,listen=127.0.0.1:abc"}),
            n + "listen=127.0.0.1:abc: port number 'abc' is invalid");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,udp=127.0.0.1:5557"}),
            n + "udp=127.0.0.1:5557: localaddr= is mandatory with udp=");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,udp=127.0.0.1:5557,localaddr=127.0.0.1"}),
            n + "udp=127.0.0.1:5557,localaddr=127.0.0.1: host address '127.0.0.1' doesn't contain ':' "
                "separating host from port");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,listen=127.0.0.1:5555,localaddr=127.0.0.1:5"}),
            n + "listen=127.0.0.1:5555,localaddr=127.0.0.1:5: localaddr= is only valid with mcast= or udp=");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,listen=127.0.0.1:5555,foo=1"}),
            n + "listen=127.0.0.1:5555,foo=1: Invalid parameter 'foo'");
  EXPECT_EQ(Error({"-netdev", "socket,id=n0,fd=3"}),
            n + "fd=3: fd= is not supported (listen=, connect=, mcast= or udp=)");
  EXPECT_EQ(Error({"-netdev", "socket,listen=:5555"}),
            "-netdev socket,listen=:5555: parameter 'id' is missing");
  EXPECT_EQ(
      Error({"-netdev", "tap,id=t"}),
      "-netdev tap,id=t: network backend 'tap' is not supported (user, socket, stream, dgram or hubport)");
}

// QEMU 7.2's -netdev stream and dgram: info network's lines (a stream server's once a peer came, from the
// live backend) and the refusals, each compared with qemu-system-mipsel 7.2.
TEST(NetOptions, StreamAndDgramNetdevsAsQemu) {
  NetworkConfig c = Net(
      {"-netdev",
       "stream,id=s0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=5700",
       "-device",
       "pcnet,netdev=s0",
       "-netdev",
       "stream,id=s1,addr.type=unix,addr.path=/tmp/st.sock",
       "-device",
       "pcnet,netdev=s1",
       "-netdev",
       "dgram,id=d0,local.type=inet,local.host=127.0.0.1,local.port=5710,remote.type=inet,remote.host=127.0."
       "0.1,remote.port=5711",
       "-device",
       "pcnet,netdev=d0",
       "-netdev",
       "dgram,id=d1,remote.type=inet,remote.host=230.0.0.1,remote.port=5720",
       "-device",
       "pcnet,netdev=d1",
       "-netdev",
       "stream,id=c0,addr.type=inet,addr.host=127.0.0.1,addr.port=5730",
       "-device",
       "pcnet,netdev=c0"});
  using Mode = vmm::net::SocketOptions::Mode;
  ASSERT_EQ(c.netdevs.size(), 5u);
  EXPECT_EQ(c.netdevs[0].socket->mode, Mode::kListen);
  EXPECT_EQ(c.netdevs[1].socket->mode, Mode::kConnect);
  EXPECT_EQ(c.netdevs[1].socket->unix_path, "/tmp/st.sock");
  EXPECT_EQ(c.netdevs[2].socket->mode, Mode::kUdp);
  EXPECT_EQ(c.netdevs[3].socket->mode, Mode::kMcast);
  const std::string info = tools::NetworkInfo(c);
  EXPECT_NE(info.find(" \\ s0: index=0,type=stream,\n"), std::string::npos) << info;
  EXPECT_NE(info.find(" \\ s1: index=0,type=stream,unix:/tmp/st.sock\n"), std::string::npos) << info;
  EXPECT_NE(info.find(" \\ d0: index=0,type=dgram,udp=127.0.0.1:5710/127.0.0.1:5711\n"), std::string::npos)
      << info;
  EXPECT_NE(info.find(" \\ d1: index=0,type=dgram,mcast=230.0.0.1:5720\n"), std::string::npos) << info;
  EXPECT_NE(info.find(" \\ c0: index=0,type=stream,tcp:127.0.0.1:5730\n"), std::string::npos) << info;
  EXPECT_NE(tools::NetworkInfo(c, {"tcp:127.0.0.1:49926"})
                .find(" \\ s0: index=0,type=stream,tcp:127.0.0.1:49926\n"),
            std::string::npos);

  const std::string x = "-netdev stream,id=x";
  EXPECT_EQ(Error({"-netdev", "stream,id=x"}), x + ": Parameter 'addr' is missing");
  EXPECT_EQ(Error({"-netdev", "stream,id=x,addr.type=inet"}),
            x + ",addr.type=inet: Parameter 'addr.host' is missing");
  EXPECT_EQ(Error({"-netdev", "stream,id=x,addr.type=inet,addr.host=127.0.0.1"}),
            x + ",addr.type=inet,addr.host=127.0.0.1: Parameter 'addr.port' is missing");
  EXPECT_EQ(
      Error({"-netdev", "stream,id=x,server=maybe,addr.type=inet,addr.host=h,addr.port=5"}),
      x + ",server=maybe,addr.type=inet,addr.host=h,addr.port=5: Parameter 'server' expects 'on' or 'off'");
  EXPECT_EQ(Error({"-netdev", "stream,id=x,addr.type=inet,addr.host=127.0.0.1,addr.port=5,foo=1"}),
            x + ",addr.type=inet,addr.host=127.0.0.1,addr.port=5,foo=1: Parameter 'foo' is unexpected");
  EXPECT_EQ(Error({"-netdev", "stream,id=x,addr.type=fd,addr.str=3"}),
            x + ",addr.type=fd,addr.str=3: addr.type=fd is not supported (inet or unix)");
  EXPECT_EQ(Error({"-netdev", "stream,id=x,addr.type=unix,addr.path=" + std::string(120, 'p')}),
            x + ",addr.type=unix,addr.path=" + std::string(120, 'p') + ": UNIX socket path '" +
                std::string(120, 'p') + "' is too long");
  EXPECT_EQ(Error({"-netdev", "dgram,id=x"}), "-netdev dgram,id=x: dgram requires local= parameter");
  EXPECT_EQ(Error({"-netdev", "dgram,id=x,local.type=inet,local.host=127.0.0.1,local.port=5740"}),
            "-netdev dgram,id=x,local.type=inet,local.host=127.0.0.1,local.port=5740: type=inet or type=unix "
            "requires remote parameter");
}

// addr=SLOT[.FUNCTION] as QEMU reads it (hexadecimal), on NICs and virtio disks; the default VGA's slot.
TEST(NetOptions, PciAddressesAsQemuReadsThem) {
  auto devfn = [](const std::string& addr) {
    int d = -2;
    return tools::qemu::ParsePciAddr(addr, &d) ? d : -1;
  };
  EXPECT_EQ(devfn("5"), 5 << 3);
  EXPECT_EQ(devfn("0x05"), 5 << 3);
  EXPECT_EQ(devfn("10"), 0x10 << 3);  // hexadecimal: slot 16
  EXPECT_EQ(devfn("0x1f.7"), 0x1f << 3 | 7);
  EXPECT_EQ(devfn("0x20"), -1);
  EXPECT_EQ(devfn("5.8"), -1);
  EXPECT_EQ(devfn("zz"), -1);
  EXPECT_EQ(devfn(""), -1);
  EXPECT_EQ(devfn("5."), -1);
  NetworkConfig n = Net({"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,addr=0x5,id=vn"});
  ASSERT_EQ(n.nics.size(), 1u);
  EXPECT_EQ(n.nics[0].devfn, 5 << 3);
  EXPECT_EQ(n.nics[0].id, "vn");
  EXPECT_EQ(Net({"-device", "pcnet"}).nics[1].devfn, -1);
  EXPECT_NE(Error({"-device", "pcnet,addr=0x20"}).find("Property 'pcnet.addr' doesn't take value '0x20'"),
            std::string::npos);
  tools::RunOptions o =
      Parse({"-drive", "file=d.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,addr=3.0"});
  ASSERT_EQ(o.drives.size(), 1u);
  EXPECT_EQ(o.drives[0].devfn, 3 << 3);
  EXPECT_NE(
      Error({"-drive", "file=d.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,addr=q"})
          .find("Property 'virtio-blk-pci.addr' doesn't take value 'q'"),
      std::string::npos);
  // QEMU's default VGA comes after the board's NICs, before the -device ones; -vga none and -nodefaults
  // have none.
  EXPECT_GT(Parse({}).vm.vga_pci_order, Parse({"-nic", "user", "-nic", "user"}).network.nics[1].pci_order);
  EXPECT_LT(Parse({}).vm.vga_pci_order, Net({"-device", "pcnet"}).nics[1].pci_order);
  EXPECT_EQ(Parse({"-vga", "none"}).vm.vga_pci_order, -1);
  EXPECT_EQ(Parse({"-nodefaults"}).vm.vga_pci_order, -1);
}

TEST(NetOptions, ModelHelp) {
  tools::RunOptions o;
  std::string err;
  ASSERT_TRUE(tools::ParseRunOptions({"-nic", "user,model=help"}, &o, &err)) << err;
  EXPECT_NE(o.info.find("pcnet"), std::string::npos);
  EXPECT_NE(o.info.find("virtio-net-pci"), std::string::npos);
}

TEST(NetOptions, BadInputIsOneLine) {
  EXPECT_EQ(Error({"-nic", "user,model=e1000"}),
            "-nic user,model=e1000: unsupported NIC model 'e1000' (pcnet or virtio-net-pci)");
  EXPECT_EQ(Error({"-nic", "tap"}),
            "-nic tap: network backend 'tap' is not supported (user, socket or none)");
  EXPECT_EQ(Error({"-nic", "wire"}), "-nic wire: unknown network backend 'wire' (user, socket or none)");
  EXPECT_EQ(
      Error({"-nic", "user,hostfwd=tcp::22x-:22"}),
      "-nic user,hostfwd=tcp::22x-:22: invalid host forwarding rule 'tcp::22x-:22' (bad host port '22x')");
  EXPECT_NE(Error({"-nic", "user,hostfwd=sctp::1-:2"}).find("bad protocol name 'sctp'"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,hostfwd=tcp::2222:22"}).find("missing '-'"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,hostfwd=tcp:1.2.3:2222-:22"}).find("bad host address '1.2.3'"),
            std::string::npos);
  EXPECT_NE(Error({"-nic", "user,hostfwd=tcp::2222-:0"}).find("bad guest port '0'"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,hostfwd=tcp::2222-:70000"}).find("bad guest port"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,mac=01:54:00:12:34:56"}).find("bad MAC address"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,mac=52:54:00:12:34"}).find("bad MAC address"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,restrict=maybe"}).find("restrict=maybe"), std::string::npos);
  EXPECT_NE(Error({"-nic", "user,smb=/tmp"}).find("invalid parameter 'smb'"), std::string::npos);
  EXPECT_EQ(Error({"-netdev", "user"}), "-netdev user: parameter 'id' is missing");
  EXPECT_EQ(Error({"-netdev", "user,id=a", "-netdev", "user,id=a"}),
            "-netdev user,id=a: duplicate ID 'a' for netdev");
  EXPECT_EQ(Error({"-device", "pcnet,netdev=zz"}), "-device pcnet,netdev=zz: netdev 'zz' not found");
  EXPECT_EQ(Error({"-netdev", "user,id=a", "-device", "pcnet,netdev=a", "-device", "pcnet,netdev=a"}),
            "-device pcnet,netdev=a: netdev 'a' is already in use by another NIC");
  EXPECT_NE(Error({"-device", "pcnet,speed=10"}).find("unknown property 'speed'"), std::string::npos);
  // The Malta's PCI bus is "pci" in QEMU (info qtree), which refuses pci.0 there too.
  EXPECT_EQ(Error({"-netdev", "user,id=a", "-device", "pcnet,netdev=a,bus=pci.0"}),
            "-device pcnet,netdev=a,bus=pci.0: Bus 'pci.0' not found (pci)");
  Parse({"-netdev", "user,id=a", "-device", "virtio-net-pci,netdev=a,bus=pci,romfile=,bootindex=1"});
  EXPECT_NE(Error({"-net", "bridge"}).find("'bridge' is not supported"), std::string::npos);
  EXPECT_NE(Error({"-object", "memory-backend-ram,id=m"})
                .find("is not supported (filter-dump, rng-random, rng-builtin)"),
            std::string::npos);
  EXPECT_NE(Error({"-object", "filter-dump,id=f,netdev=n9,file=x"}).find("netdev 'n9' not found"),
            std::string::npos);
  EXPECT_NE(Error({"-object", "filter-dump,id=f,netdev=n0"}).find("'file' is missing"), std::string::npos);
  EXPECT_NE(Error({"-nic", "none", "--pcap", "x.pcap"}).find("no network to capture"), std::string::npos);
}

TEST(NetOptions, HostForwardRules) {
  vmm::net::HostForward f;
  std::string why;
  ASSERT_TRUE(vmm::net::ParseHostForward("::2222-:22", &f, &why)) << why;  // an empty protocol is tcp
  EXPECT_FALSE(f.udp);
  ASSERT_TRUE(vmm::net::ParseHostForward("udp:127.0.0.1:0-10.0.2.15:7", &f, &why)) << why;  // any free port
  EXPECT_TRUE(f.udp);
  EXPECT_EQ(f.host_port, 0);
  EXPECT_FALSE(vmm::net::ParseHostForward("tcp", &f, &why));
  EXPECT_FALSE(vmm::net::ParseHostForward("tcp::2222-22", &f, &why));
  EXPECT_NE(why.find("missing ':'"), std::string::npos);
}

}  // namespace
}  // namespace strobe::test
