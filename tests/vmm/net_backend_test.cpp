// SPDX-License-Identifier: MIT
// The host side of the network without a guest: libslirp on its network thread answering an ARP request
// for the gateway, frames reaching a NIC only through the VM's CompletionList (and waking it), hostfwd
// bind errors, libslirp's state for snapshots (DHCP leases and the IP ID carried into another stack,
// damaged states refused without effect), and pcap files as tcpdump reads them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/support/free_port.h"
#include "vmm/net/net_port.h"
#include "vmm/net/pcap.h"
#include "vmm/net/slirp_backend.h"

namespace strobe::vmm::net {
namespace {

constexpr uint8_t kGuestMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// who-has 10.0.2.2 tell 10.0.2.15
Frame ArpRequest() {
  Frame f(42, 0);
  std::memset(f.data(), 0xFF, 6);
  std::memcpy(f.data() + 6, kGuestMac, 6);
  f[12] = 0x08, f[13] = 0x06;                     // ARP
  f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0;  // Ethernet, IPv4
  f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;     // sizes, request
  std::memcpy(f.data() + 22, kGuestMac, 6);
  const uint8_t sender[4] = {10, 0, 2, 15}, target[4] = {10, 0, 2, 2};
  std::memcpy(f.data() + 28, sender, 4);
  std::memcpy(f.data() + 38, target, 4);
  return f;
}

bool IsArpReplyFromGateway(const Frame& f) {
  return f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 && f[28] == 10 && f[29] == 0 &&
         f[30] == 2 && f[31] == 2 && std::memcmp(f.data(), kGuestMac, 6) == 0;
}

class CollectingNic : public NicFrontend {
 public:
  bool CanReceive(size_t) override { return accept; }
  void Receive(const uint8_t* frame, size_t length) override { frames.emplace_back(frame, frame + length); }
  std::array<uint8_t, 6> StationAddress() override {
    std::array<uint8_t, 6> a;
    std::memcpy(a.data(), kGuestMac, 6);
    return a;
  }
  bool accept = true;
  std::vector<Frame> frames;
};

TEST(SlirpBackend, AnswersArpForTheGatewayThroughTheCompletionList) {
  std::string error;
  auto backend = SlirpBackend::Create(SlirpOptions(), &error);
  ASSERT_TRUE(backend) << error;
  block::CompletionList completions;
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  completions.SetNotifier([&] {
    std::lock_guard<std::mutex> lock(mu);
    woken = true;
    cv.notify_one();
  });
  CollectingNic nic;
  NetPort port(*backend, completions);
  port.Start(&nic);
  const Frame arp = ArpRequest();
  port.Transmit(arp.data(), arp.size());
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return woken; })) << "no frame came back";
  }
  // Nothing reaches the NIC until the owner of the VM runs the completions.
  EXPECT_TRUE(nic.frames.empty());
  EXPECT_TRUE(port.HasPending());
  EXPECT_TRUE(port.Busy());
  completions.RunCompletions();
  ASSERT_FALSE(nic.frames.empty());
  EXPECT_TRUE(IsArpReplyFromGateway(nic.frames[0]));
  EXPECT_FALSE(port.HasPending());

  // A NIC without a buffer keeps the frame queued until it has one.
  nic.frames.clear();
  nic.accept = false;
  woken = false;
  port.Transmit(arp.data(), arp.size());
  for (int i = 0; i < 500 && !port.HasPending(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  completions.RunCompletions();
  EXPECT_TRUE(nic.frames.empty());
  EXPECT_TRUE(port.HasPending());
  nic.accept = true;
  port.Deliver();
  ASSERT_EQ(nic.frames.size(), 1u);
  EXPECT_TRUE(IsArpReplyFromGateway(nic.frames[0]));
}

// A DHCPDISCOVER from `mac` (broadcast, no address requested), as busybox's udhcpc sends it.
Frame DhcpDiscover(const uint8_t (&mac)[6], uint32_t xid) {
  constexpr size_t kIp = 14, kUdp = kIp + 20, kBootp = kUdp + 8, kBootpBytes = 236 + 312;
  Frame f(kBootp + kBootpBytes, 0);
  std::memset(f.data(), 0xFF, 6);
  std::memcpy(f.data() + 6, mac, 6);
  f[12] = 0x08, f[13] = 0x00;
  const uint16_t ip_len = 20 + 8 + kBootpBytes, udp_len = 8 + kBootpBytes;
  const uint8_t ip[20] = {
      0x45, 0,  uint8_t(ip_len >> 8), uint8_t(ip_len), 0, 0, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255,
      255,  255};
  std::memcpy(f.data() + kIp, ip, 20);
  uint32_t sum = 0;  // the header's checksum (slirp checks it; a UDP checksum of 0 is none)
  for (size_t i = 0; i < 20; i += 2) sum += (f[kIp + i] << 8) | f[kIp + i + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  f[kIp + 10] = static_cast<uint8_t>(~sum >> 8), f[kIp + 11] = static_cast<uint8_t>(~sum);
  f[kUdp + 1] = 68, f[kUdp + 3] = 67;
  f[kUdp + 4] = static_cast<uint8_t>(udp_len >> 8), f[kUdp + 5] = static_cast<uint8_t>(udp_len);
  f[kBootp] = 1, f[kBootp + 1] = 1, f[kBootp + 2] = 6;  // BOOTREQUEST, Ethernet
  std::memcpy(f.data() + kBootp + 4, &xid, 4);
  std::memcpy(f.data() + kBootp + 28, mac, 6);  // chaddr: slirp's leases are by it
  const uint8_t options[] = {99, 130, 83, 99, 53, 1, 1 /* DHCPDISCOVER */, 255};
  std::memcpy(f.data() + kBootp + 236, options, sizeof options);
  return f;
}

// A backend on its thread with a NIC that collects what it sends; one DHCP exchange at a time.
class DhcpClient {
 public:
  explicit DhcpClient(NetBackend& backend) : port_(backend, completions_) {
    completions_.SetNotifier([this] {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
      cv_.notify_one();
    });
    port_.Start(&nic_);
  }

  struct Offer {
    int last_octet = -1;  // of the offered address (-1: no offer came)
    uint16_t ip_id = 0;   // the IP header's identification, from slirp's counter
  };
  Offer Discover(const uint8_t (&mac)[6]) {
    const uint32_t xid = ++xid_;
    const Frame f = DhcpDiscover(mac, xid);
    port_.Transmit(f.data(), f.size());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      completions_.RunCompletions();
      for (const Frame& r : nic_.frames) {
        // UDP to port 68, BOOTREPLY with our transaction id.
        if (r.size() < 42 + 236 || r[12] != 0x08 || r[13] != 0 || r[23] != 17 || r[37] != 68 || r[42] != 2 ||
            std::memcmp(r.data() + 46, &xid, 4) != 0)
          continue;
        Offer o;
        o.last_octet = r[42 + 16 + 3];
        o.ip_id = static_cast<uint16_t>((r[18] << 8) | r[19]);
        nic_.frames.clear();
        return o;
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_until(lock, deadline, [this] { return woken_; })) return {};
      woken_ = false;
    }
  }

 private:
  block::CompletionList completions_;
  CollectingNic nic_;
  NetPort port_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  uint32_t xid_ = 0x5eed0000;
};

// libslirp's state (slirp_state_save) holds the DHCP leases, by MAC address, and the IP ID counter: a
// stack that loads it offers each MAC the address it had and goes on counting. The stacks run on their
// threads meanwhile, as in a running VM.
TEST(SlirpBackend, StateCarriesTheDhcpLeasesAndTheIpId) {
  constexpr uint8_t kFirst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
                    kSecond[6] = {0x52, 0x54, 0, 0, 0, 0x99};
  std::string error;
  auto a = SlirpBackend::Create(SlirpOptions(), &error);
  ASSERT_TRUE(a) << error;
  DhcpClient on_a(*a);
  EXPECT_EQ(on_a.Discover(kFirst).last_octet, 15);
  const DhcpClient::Offer second = on_a.Discover(kSecond);
  ASSERT_EQ(second.last_octet, 16);
  EXPECT_EQ(a->SnapshotKind(), "user");
  const uint32_t version = a->StateVersion();
  EXPECT_GE(version, 4u);  // libslirp 4.7's
  const std::vector<uint8_t> state = a->SaveState();
  ASSERT_FALSE(state.empty());

  auto b = SlirpBackend::Create(SlirpOptions(), &error);
  ASSERT_TRUE(b) << error;
  DhcpClient on_b(*b);
  EXPECT_EQ(b->CheckState(version, state), "");
  b->LoadState(version, state);
  const DhcpClient::Offer again = on_b.Discover(kSecond);
  EXPECT_EQ(again.last_octet, 16);  // a stack without the state offers the first free one, .15
  EXPECT_EQ(again.ip_id, static_cast<uint16_t>(second.ip_id + 1));

  // Refused, and nothing changes: another version, a state cut short or with bytes beyond it, one with
  // guestfwd connections.
  const std::string older = b->CheckState(version + 1, state);
  EXPECT_NE(older.find("the user-mode network's state is of version " + std::to_string(version + 1)),
            std::string::npos)
      << older;
  std::vector<uint8_t> cut(state.begin(), state.end() - 1), longer = state, guestfwd = state;
  longer.push_back(0);
  guestfwd[0] = 42;
  EXPECT_EQ(b->CheckState(version, cut), "the user-mode network's state is malformed: it ends early");
  EXPECT_EQ(b->CheckState(version, longer),
            "the user-mode network's state is malformed: it is 1 bytes longer than libslirp reads");
  EXPECT_NE(b->CheckState(version, guestfwd).find("guestfwd"), std::string::npos);
  EXPECT_EQ(b->CheckState(version, {}), "the user-mode network's state is malformed: it ends early");
  EXPECT_EQ(on_b.Discover(kFirst).last_octet, 15);
  EXPECT_EQ(on_b.Discover(kSecond).last_octet, 16);
}

TEST(SlirpBackend, HostForwardOnAPortInUseIsOneLine) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(s, 1), 0);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const uint16_t port = ntohs(a.sin_port);

  SlirpOptions o;
  HostForward f;
  inet_pton(AF_INET, "127.0.0.1", &f.host_addr);
  f.host_port = port;
  f.guest_port = 22;
  f.text = "tcp::" + std::to_string(port) + "-:22";
  o.forwards.push_back(f);
  std::string error;
  EXPECT_FALSE(SlirpBackend::Create(o, &error));
  EXPECT_NE(error.find("could not set up host forwarding rule 'tcp::" + std::to_string(port) + "-:22'"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  close(s);
  // Free again: the same rule works.
  auto b = SlirpBackend::Create(o, &error);
  EXPECT_TRUE(b) << error;
}

// Whether something listens on this loopback port now.
bool Listening(uint16_t port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

// The monitor's hostfwd_add/hostfwd_remove and info usernet on a running stack (its network thread owns
// slirp): the host port listens after the add and not after the remove; QEMU's messages for the rest.
TEST(SlirpBackend, HostForwardsAddedAndRemovedWhileRunning) {
  std::string error;
  auto b = SlirpBackend::Create(SlirpOptions(), &error);
  ASSERT_TRUE(b) << error;
  b->Start([](Frame) {});
  const uint16_t port = strobe::test::FreePort();
  const std::string rule = "tcp::" + std::to_string(port) + "-:22";
  std::string out;
  ASSERT_TRUE(b->HostForward(true, rule, &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(Listening(port));
  ASSERT_TRUE(b->ConnectionInfo(&out));
  EXPECT_NE(out.find("TCP[HOST_FORWARD]"), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(port)), std::string::npos) << out;
  b->HostForward(true, rule, &out);  // the port is taken now, by the rule itself
  EXPECT_EQ(out, "Could not set up host forwarding rule '" + rule + "'\n");
  b->HostForward(false, "tcp::" + std::to_string(port), &out);
  EXPECT_EQ(out, "host forwarding rule for tcp::" + std::to_string(port) + " removed\n");
  EXPECT_FALSE(Listening(port));
  b->HostForward(false, "tcp::" + std::to_string(port), &out);
  EXPECT_EQ(out, "host forwarding rule for tcp::" + std::to_string(port) + " not found\n");
  b->HostForward(false, "bogus", &out);
  EXPECT_EQ(out, "invalid format\n");
  b->HostForward(true, "tcp:22", &out);
  EXPECT_EQ(out, "Invalid host forwarding rule 'tcp:22' (missing ':' between the host address and port)\n");
  b->Stop();
  // After Stop the calling thread does the work itself (a monitor outliving the guest, -no-shutdown).
  b->HostForward(true, rule, &out);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(Listening(port));
}

TEST(PcapWriter, TcpdumpReadsTheFile) {
  char path[] = "/tmp/strobe-pcap-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::string error;
  {
    auto w = PcapWriter::Open(path, &error);
    ASSERT_TRUE(w) << error;
    const Frame arp = ArpRequest();
    w->Write(arp.data(), arp.size());
    w->Write(arp.data(), arp.size());
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 24u + 2 * (16 + 42));
  uint32_t magic, linktype, caplen;
  std::memcpy(&magic, bytes.data(), 4);
  std::memcpy(&linktype, bytes.data() + 20, 4);
  std::memcpy(&caplen, bytes.data() + 24 + 8, 4);
  EXPECT_EQ(magic, 0xa1b2c3d4u);
  EXPECT_EQ(linktype, 1u);
  EXPECT_EQ(caplen, 42u);
  if (access("/usr/bin/tcpdump", X_OK) == 0 || access("/usr/sbin/tcpdump", X_OK) == 0) {
    const std::string cmd = std::string("tcpdump -n -r ") + path + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_TRUE(p);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(pclose(p), 0);
    EXPECT_NE(out.find("Request who-has 10.0.2.2 tell 10.0.2.15"), std::string::npos) << out;
  }
  EXPECT_FALSE(PcapWriter::Open("/nonexistent-dir/x.pcap", &error));
  EXPECT_NE(error.find("/nonexistent-dir/x.pcap: "), std::string::npos);
  unlink(path);
}

}  // namespace
}  // namespace strobe::vmm::net
