// SPDX-License-Identifier: MIT
// -netdev socket's backend without a guest (vmm/net/socket_backend.h): QEMU's stream framing (a 32-bit
// big-endian length before each frame) in both directions however TCP splits it, one peer at a time on a
// listener and the next one after it leaves, a peer announcing an oversized frame cut off, frames without a
// peer lost, connect= to a peer, udp= datagrams, and QEMU's address messages.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/tcp_client.h"
#include "vmm/net/socket_backend.h"

namespace strobe::vmm::net {
namespace {

// Frames the backend hands to its receiver, waited for from the test's thread.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Frame> frames;
  NetBackend::Receiver Receiver() {
    return [this](Frame f) {
      std::lock_guard<std::mutex> lock(mu);
      frames.push_back(std::move(f));
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return frames.size() >= n; });
  }
};

SocketOptions Options(SocketOptions::Mode mode, const std::string& address) {
  SocketOptions o;
  o.mode = mode;
  std::string why;
  EXPECT_TRUE(ParseSocketAddress(address, &o.addr, &why)) << why;
  o.option = "-netdev socket,test";
  return o;
}

std::string Framed(const std::string& payload) {
  const uint32_t be = htonl(static_cast<uint32_t>(payload.size()));
  return std::string(reinterpret_cast<const char*>(&be), 4) + payload;
}

void WriteAll(int fd, const std::string& bytes) {
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

// Reads exactly n bytes (or fewer if the connection ends or 10 s pass).
std::string ReadExactly(int fd, size_t n) {
  std::string got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < n && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t r = read(fd, buf, std::min(sizeof buf, n - got.size()));
    if (r <= 0) break;
    got.append(buf, static_cast<size_t>(r));
  }
  return got;
}

bool WaitInfo(const SocketBackend& b, const std::string& prefix) {
  for (int i = 0; i < 200; ++i) {
    if (b.Info().rfind(prefix, 0) == 0 && (!prefix.empty() || b.Info().empty())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

Frame Bytes(const std::string& s) {
  return Frame(s.begin(), s.end());
}

TEST(SocketBackend, ListenerFramesBothWaysOnePeerAtATime) {
  std::string error;
  auto b = SocketBackend::Create(Options(SocketOptions::Mode::kListen, "127.0.0.1:0"), &error);
  ASSERT_TRUE(b) << error;
  Inbox inbox;
  b->Start(inbox.Receiver());
  EXPECT_EQ(b->Info(), "");  // QEMU's info network shows nothing until a peer comes

  const std::string lost = "sent with nobody there";
  b->Send(reinterpret_cast<const uint8_t*>(lost.data()), lost.size());

  const int peer = test::ConnectTcp(b->local_port());
  ASSERT_GE(peer, 0);
  ASSERT_TRUE(WaitInfo(*b, "socket: connection from 127.0.0.1:"));
  // Two frames in one write, then one split inside its length and inside its bytes.
  const std::string first = "first frame, 26 bytes long", second(60, 'x'), third(1500, 'y');
  WriteAll(peer, Framed(first) + Framed(second));
  const std::string t = Framed(third);
  WriteAll(peer, t.substr(0, 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  WriteAll(peer, t.substr(2, 700));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  WriteAll(peer, t.substr(702));
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.frames[0], Bytes(first));
  EXPECT_EQ(inbox.frames[1], Bytes(second));
  EXPECT_EQ(inbox.frames[2], Bytes(third));

  // The guest's frames reach the peer with their lengths; the one sent before it came did not.
  const std::string out = "a frame from the guest";
  b->Send(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  EXPECT_EQ(ReadExactly(peer, 4 + out.size()), Framed(out));

  // A second peer waits while the first is there, and is served once the first leaves.
  const int next = test::ConnectTcp(b->local_port());
  ASSERT_GE(next, 0);
  close(peer);
  ASSERT_TRUE(WaitInfo(*b, "socket: connection from 127.0.0.1:"));
  WriteAll(next, Framed("from the next peer"));
  ASSERT_TRUE(inbox.WaitFor(4));
  EXPECT_EQ(inbox.frames[3], Bytes("from the next peer"));
  b->Send(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  EXPECT_EQ(ReadExactly(next, 4 + out.size()), Framed(out));
  close(next);
  ASSERT_TRUE(WaitInfo(*b, ""));
  EXPECT_GE(b->dropped(), 1u);  // the frame sent before any peer
  b->Stop();
}

TEST(SocketBackend, APeerAnnouncingAnOversizedFrameIsCutOff) {
  std::string error;
  auto b = SocketBackend::Create(Options(SocketOptions::Mode::kListen, "127.0.0.1:0"), &error);
  ASSERT_TRUE(b) << error;
  Inbox inbox;
  b->Start(inbox.Receiver());
  const int bad = test::ConnectTcp(b->local_port());
  ASSERT_GE(bad, 0);
  const uint32_t huge = htonl(static_cast<uint32_t>(kMaxFrameBytes + 1));
  WriteAll(bad, std::string(reinterpret_cast<const char*>(&huge), 4) + std::string(64, 'z'));
  char c;
  pollfd p{bad, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  EXPECT_EQ(read(bad, &c, 1), 0) << "the backend closes the connection";
  close(bad);
  // The listener serves the next peer normally; nothing of the bad stream was delivered.
  const int good = test::ConnectTcp(b->local_port());
  ASSERT_GE(good, 0);
  WriteAll(good, Framed("fine"));
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.frames.size(), 1u);
  EXPECT_EQ(inbox.frames[0], Bytes("fine"));
  close(good);
  b->Stop();
}

TEST(SocketBackend, ConnectsToAPeerAndFramesBothWays) {
  const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(server, 1), 0);
  socklen_t len = sizeof a;
  getsockname(server, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  std::string error;
  auto b = SocketBackend::Create(Options(SocketOptions::Mode::kConnect, where), &error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->Info(), "socket: connect to " + where);
  const int peer = accept(server, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  Inbox inbox;
  b->Start(inbox.Receiver());
  WriteAll(peer, Framed("to the guest"));
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.frames[0], Bytes("to the guest"));
  const std::string out(3000, 'g');
  b->Send(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  EXPECT_EQ(ReadExactly(peer, 4 + out.size()), Framed(out));
  b->Stop();
  close(peer);
  close(server);

  // Nobody listening: Create says why (QEMU keeps trying; a VM would start unconnected).
  auto none = SocketBackend::Create(Options(SocketOptions::Mode::kConnect, where), &error);
  EXPECT_FALSE(none);
  EXPECT_EQ(error, "can't connect to " + where + ": Connection refused");
}

// -netdev stream over a Unix-domain socket: the listener replaces a socket left at the path, a client
// connects to it, frames cross both ways with the same framing; info as QEMU's ("unix:PATH").
TEST(SocketBackend, StreamsOverAUnixSocket) {
  const std::string path = ::testing::TempDir() + "strobe_stream_" + std::to_string(getpid()) + ".sock";
  for (int round = 0; round < 2; ++round) {  // the second finds the first's socket file and replaces it
    SocketOptions listen_opts;
    listen_opts.mode = SocketOptions::Mode::kListen;
    listen_opts.kind = SocketOptions::Kind::kStream;
    listen_opts.unix_path = path;
    std::string error;
    auto server = SocketBackend::Create(listen_opts, &error);
    ASSERT_TRUE(server) << error;
    SocketOptions connect_opts = listen_opts;
    connect_opts.mode = SocketOptions::Mode::kConnect;
    auto client = SocketBackend::Create(connect_opts, &error);
    ASSERT_TRUE(client) << error;
    EXPECT_EQ(client->Info(), "unix:" + path);
    Inbox at_server, at_client;
    server->Start(at_server.Receiver());
    client->Start(at_client.Receiver());
    ASSERT_TRUE(WaitInfo(*server, "unix:" + path));
    const std::string a = "client to server", b(2000, 's');
    client->Send(reinterpret_cast<const uint8_t*>(a.data()), a.size());
    server->Send(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    ASSERT_TRUE(at_server.WaitFor(1));
    ASSERT_TRUE(at_client.WaitFor(1));
    EXPECT_EQ(at_server.frames[0], Bytes(a));
    EXPECT_EQ(at_client.frames[0], Bytes(b));
    client->Stop();
    server->Stop();
  }
  unlink(path.c_str());
  // Something that is not a socket at the path is left alone.
  const std::string file = path + ".file";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_TRUE(f);
  std::fclose(f);
  SocketOptions o;
  o.mode = SocketOptions::Mode::kListen;
  o.kind = SocketOptions::Kind::kStream;
  o.unix_path = file;
  std::string error;
  EXPECT_FALSE(SocketBackend::Create(o, &error));
  EXPECT_EQ(error, "Failed to bind socket to " + file + ": Address already in use");
  unlink(file.c_str());
}

TEST(SocketBackend, UdpCarriesOneFramePerDatagram) {
  // Two backends pointed at each other, as two VMs with udp= and localaddr= swapped.
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string error;
  SocketOptions left = Options(SocketOptions::Mode::kUdp, "127.0.0.1:0");
  SocketOptions right = left;
  left.local = any;
  right.local = any;
  auto l = SocketBackend::Create(left, &error);
  ASSERT_TRUE(l) << error;
  auto r = SocketBackend::Create(right, &error);
  ASSERT_TRUE(r) << error;
  // Each now knows its own port; aim each at the other's (options are copied at Create, so make new ones).
  left.local.sin_port = htons(l->local_port());
  left.addr.sin_port = htons(r->local_port());
  right.local.sin_port = htons(r->local_port());
  right.addr.sin_port = htons(l->local_port());
  l.reset();
  r.reset();
  l = SocketBackend::Create(left, &error);
  ASSERT_TRUE(l) << error;
  r = SocketBackend::Create(right, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(l->Info(), "socket: udp=127.0.0.1:" + std::to_string(ntohs(left.addr.sin_port)));
  Inbox lin, rin;
  l->Start(lin.Receiver());
  r->Start(rin.Receiver());
  const std::string a = "left to right", c(1514, 'c');
  l->Send(reinterpret_cast<const uint8_t*>(a.data()), a.size());
  l->Send(reinterpret_cast<const uint8_t*>(c.data()), c.size());
  ASSERT_TRUE(rin.WaitFor(2));
  EXPECT_EQ(rin.frames[0], Bytes(a));
  EXPECT_EQ(rin.frames[1], Bytes(c));
  r->Send(reinterpret_cast<const uint8_t*>(a.data()), 4);
  ASSERT_TRUE(lin.WaitFor(1));
  EXPECT_EQ(lin.frames[0], Bytes(a.substr(0, 4)));

  // A datagram larger than any frame is not one: dropped, and the next one still arrives.
  const int raw = socket(AF_INET, SOCK_DGRAM, 0);
  const std::string big(kMaxFrameBytes + 100, 'b');
  sendto(raw, big.data(), big.size(), 0, reinterpret_cast<const sockaddr*>(&left.local), sizeof left.local);
  sendto(raw, "after", 5, 0, reinterpret_cast<const sockaddr*>(&left.local), sizeof left.local);
  close(raw);
  ASSERT_TRUE(lin.WaitFor(2));
  EXPECT_EQ(lin.frames[1], Bytes("after"));
  EXPECT_EQ(l->dropped(), 1u);
  l->Stop();
  r->Stop();
}

TEST(SocketBackend, AddressesAndBindErrorsAsQemuWordsThem) {
  sockaddr_in a{};
  std::string why;
  EXPECT_FALSE(ParseSocketAddress("127.0.0.1", &a, &why));
  EXPECT_EQ(why, "host address '127.0.0.1' doesn't contain ':' separating host from port");
  EXPECT_FALSE(ParseSocketAddress("127.0.0.1:abc", &a, &why));
  EXPECT_EQ(why, "port number 'abc' is invalid");
  EXPECT_FALSE(ParseSocketAddress("127.0.0.1:65536", &a, &why));  // QEMU 7.2 wraps it to 0 silently
  EXPECT_EQ(why, "port number '65536' is invalid");
  EXPECT_FALSE(ParseSocketAddress("no.such.host.invalid:80", &a, &why));
  EXPECT_EQ(why, "can't resolve host address 'no.such.host.invalid'");
  ASSERT_TRUE(ParseSocketAddress(":1234", &a, &why)) << why;  // any address
  EXPECT_EQ(a.sin_addr.s_addr, htonl(INADDR_ANY));
  EXPECT_EQ(ntohs(a.sin_port), 1234);
  ASSERT_TRUE(ParseSocketAddress("localhost:7", &a, &why)) << why;
  EXPECT_EQ(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

  std::string error;
  auto first = SocketBackend::Create(Options(SocketOptions::Mode::kListen, "127.0.0.1:0"), &error);
  ASSERT_TRUE(first) << error;
  const std::string taken = "127.0.0.1:" + std::to_string(first->local_port());
  EXPECT_FALSE(SocketBackend::Create(Options(SocketOptions::Mode::kListen, taken), &error));
  EXPECT_EQ(error, "can't bind ip=127.0.0.1 to socket: Address already in use");
  EXPECT_FALSE(SocketBackend::Create(Options(SocketOptions::Mode::kMcast, "127.0.0.1:5000"), &error));
  EXPECT_EQ(error, "specified mcastaddr 127.0.0.1 (0x7f000001) does not contain a multicast address");
}

}  // namespace
}  // namespace strobe::vmm::net
