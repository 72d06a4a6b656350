// SPDX-License-Identifier: MIT
// Debian's kernel on the PCnet NIC (pcnet32, loaded from the initramfs) with user-mode networking: DHCP,
// HTTP from a server this test runs on the host's loopback (the guest reaches it as 10.0.2.2), a hostfwd'ed
// TCP port into busybox httpd in the guest, a UDP exchange, 2,400 short connections without leaks in
// Strobe, a pcap capture (-object filter-dump) tcpdump reads, and -nic none. One boot carries the networked
// checks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/linux/linux_session.h"
#include "tests/support/console_session.h"
#include "tests/support/free_port.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

int Listen(int type, uint16_t* port) {
  const int s = socket(AF_INET, type, 0);
  const int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  if (type == SOCK_STREAM) listen(s, 64);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return s;
}

// HTTP/1.0 on 127.0.0.1: GET /file gives `file`, anything else "ok\n" (/slow 3 s late). Runs until
// destroyed.
class HttpServer {
 public:
  explicit HttpServer(std::string file) : file_(std::move(file)) {
    fd_ = Listen(SOCK_STREAM, &port_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~HttpServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req;
      char buf[1024];
      while (req.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 5000) <= 0) break;
        const ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      // /slow answers after 3 s of host time: under --warp-idle the guest must wait for it, not time out.
      if (req.rfind("GET /slow ", 0) == 0) std::this_thread::sleep_for(std::chrono::seconds(3));
      const std::string body = req.rfind("GET /file ", 0) == 0 ? file_ : "ok\n";
      const std::string head =
          "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
      const std::string all = head + body;
      size_t off = 0;
      while (off < all.size()) {
        const ssize_t n = write(c, all.data() + off, all.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      close(c);
      ++requests_;
    }
  }
  std::string file_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A UDP responder on 127.0.0.1 speaking just enough TFTP (RFC 1350) for busybox's client: a read request
// for NAME gets one DATA block holding "pong:NAME", from the same port.
class UdpEcho {
 public:
  UdpEcho() {
    fd_ = Listen(SOCK_DGRAM, &port_);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[512];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) continue;
        ++datagrams_;
        if (n < 4 || buf[0] != 0 || buf[1] != 1) continue;  // only RRQ gets an answer (ACKs end it)
        const std::string name(buf + 2, strnlen(buf + 2, static_cast<size_t>(n) - 2));
        std::string reply = std::string("\0\3\0\1", 4) + "pong:" + name + "\n";  // DATA, block 1
        sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    });
  }
  ~UdpEcho() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int datagrams() const { return datagrams_.load(); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> datagrams_{0};
  std::thread thread_;
};

// GET / from 127.0.0.1:port; the whole response.
std::string HttpGet(uint16_t port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return "connect failed";
  }
  const std::string req = "GET /index.html HTTP/1.0\r\n\r\n";
  (void)!write(s, req.data(), req.size());
  std::string out;
  char buf[1024];
  for (;;) {
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 20000) <= 0) break;
    const ssize_t n = read(s, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(s);
  return out;
}

int CountFds(pid_t pid) {
  int n = 0;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  while (readdir(d)) ++n;
  closedir(d);
  return n - 2;
}

// Resident KiB of Strobe outside guest RAM (the monitor's one big pool mapping, the largest there is):
// what the guest touches is not Strobe's to leak.
long HostRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  long total = 0, size = 0, largest_size = 0, largest_rss = 0;
  while (std::getline(in, line)) {
    if (line.rfind("Size:", 0) == 0) size = std::stol(line.substr(5));
    if (line.rfind("Rss:", 0) == 0) {
      const long rss = std::stol(line.substr(4));
      total += rss;
      if (size > largest_size) largest_size = size, largest_rss = rss;
    }
  }
  return total - largest_rss;
}

std::string Sha256Of(const std::string& data) {
  const std::string path = ::testing::TempDir() + "strobe_net_file_" + std::to_string(getpid());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  ProcessResult r = RunProcess({"/usr/bin/sha256sum", path});
  unlink(path.c_str());
  return r.out.substr(0, 64);
}

class LinuxNet : public LinuxTest {};

TEST_F(LinuxNet, PcnetDhcpHttpHostfwdUdpAndManyConnections) {
  std::mt19937 rng(12);
  std::string file(300 * 1024, '\0');
  for (char& c : file) c = static_cast<char>(rng());
  HttpServer http(file);
  UdpEcho udp;
  const uint16_t fwd = FreePort(SOCK_STREAM);
  const std::string pcap = ::testing::TempDir() + "strobe_net_" + std::to_string(getpid()) + ".pcap";
  ConsoleSession s(
      BootArgs({"-netdev", "user,id=n0,hostfwd=tcp::" + std::to_string(fwd) + "-:8080", "-device",
                "pcnet,netdev=n0", "-object", "filter-dump,id=f0,netdev=n0,file=" + pcap, "--warp-idle"}));
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  EXPECT_NE(s.output().find("pcnet32: PCnet/PCI II 79C970A at"), std::string::npos);
  EXPECT_NE(s.output().find("52:54:00:12:34:56 assigned IRQ 10"), std::string::npos);
  Shell(s, "dmesg -n 1");

  // DHCP from slirp: the first address, the gateway, the DNS server. With --warp-idle an idle guest jumps
  // to its next timer, but not while the network is busy: udhcpc's timeouts must not expire before the
  // host's answers come.
  const std::string lease = Shell(s, "udhcpc -i eth0 -n -q 2>&1; route -n; cat /etc/resolv.conf", 60);
  EXPECT_NE(lease.find("lease of 10.0.2.15 obtained from 10.0.2.2"), std::string::npos) << lease;
  EXPECT_NE(lease.find("0.0.0.0         10.0.2.2"), std::string::npos) << lease;
  EXPECT_NE(lease.find("nameserver 10.0.2.3"), std::string::npos) << lease;

  // A 300 KiB file from the host's loopback, byte for byte.
  const std::string got = Shell(
      s, "wget -q -O /tmp/f http://10.0.2.2:" + std::to_string(http.port()) + "/file && sha256sum /tmp/f",
      120);
  EXPECT_NE(got.find(Sha256Of(file) + "  /tmp/f"), std::string::npos) << got;

  // A slow host: the guest idles in WAIT for 3 s with a connection open (wget gives up after 900 s of the
  // guest's time, which warping past the open connection would reach at once; busybox's wget -T crashes).
  const std::string slow = Shell(s,
                                 "date +%s; wget -q -O - http://10.0.2.2:" + std::to_string(http.port()) +
                                     "/slow; echo status=$?; date +%s",
                                 60);
  EXPECT_NE(slow.find("ok\nstatus=0"), std::string::npos) << slow;

  // A host port forwarded to busybox httpd in the guest.
  Shell(s, "mkdir -p /www && echo guest-page-$((6*7)) > /www/index.html && httpd -p 8080 -h /www");
  const std::string page = HttpGet(fwd);
  EXPECT_NE(page.find("200 OK"), std::string::npos) << page;
  EXPECT_NE(page.find("guest-page-42"), std::string::npos) << page;

  // UDP out and back: busybox tftp fetches from the host's loopback.
  const std::string pong = Shell(
      s, "tftp -g -r ping-udp -l /tmp/u 10.0.2.2 " + std::to_string(udp.port()) + " 2>&1; cat /tmp/u", 30);
  EXPECT_NE(pong.find("pong:ping-udp"), std::string::npos) << pong;
  EXPECT_GE(udp.datagrams(), 1);

  // 2,400 short connections: Strobe's descriptors and memory stay level.
  const std::string loop =
      "i=0; f=0; while [ $i -lt N ]; do wget -q -O /dev/null http://10.0.2.2:" + std::to_string(http.port()) +
      "/small || f=$((f+1)); i=$((i+1)); done; echo fail=$f";
  auto run = [&](int n) {
    std::string cmd = loop;
    cmd.replace(cmd.find("-lt N"), 5, "-lt " + std::to_string(n));
    return Shell(s, cmd, 600);
  };
  // The first few hundred warm up translated code: Strobe's memory grows while the second tier compiles
  // the new paths, then levels off (measured: +45 MiB between connections 800 and 1,300 on a loaded machine,
  // then +3 MiB over the next 3,000; with another Linux test beside it, +128 MiB and +56 MiB over two
  // rounds of 500 after the first 800). A leak grows with every connection instead: it shows in each of
  // three later rounds of 400, warm-up in the first one or two. Since the first tier waits for 16,000
  // executions (60c8c0f), warm-up lasts longer: 800 connections go first (with 300, one CI run in five
  // saw +35 MiB in each round).
  EXPECT_NE(run(800).find("fail=0"), std::string::npos);
  const int fds_before = CountFds(s.pid());
  const int requests_before = http.requests();
  long rss[4];
  for (long& r : rss) {
    EXPECT_NE(run(400).find("fail=0"), std::string::npos);
    r = HostRssKib(s.pid());
  }
  EXPECT_EQ(http.requests() - requests_before, 1600);
  // slirp keeps a closed connection's socket through TIME_WAIT (2 MSL, 10 s): wait for them to go.
  int fds_after = CountFds(s.pid());
  for (int i = 0; i < 40 && fds_after > fds_before + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    fds_after = CountFds(s.pid());
  }
  EXPECT_LE(fds_after, fds_before + 2) << "descriptors before " << fds_before << ", after " << fds_after;
  // RSS is a high-water mark (freed memory stays in glibc's arenas), so this bound catches only a leak of
  // 80 KiB or more per connection, such as a socket's buffers; descriptors are the exact check.
  EXPECT_LT(std::min({rss[1] - rss[0], rss[2] - rss[1], rss[3] - rss[2]}), 32 * 1024)
      << "RSS outside guest RAM after 1,200, 1,600, 2,000 and 2,400 connections: " << rss[0] << ", " << rss[1]
      << ", " << rss[2] << ", " << rss[3] << " KiB";
  std::printf("1,600 connections: descriptors %d -> %d, RSS outside guest RAM %ld -> %ld -> %ld -> %ld KiB\n",
              fds_before, fds_after, rss[0], rss[1], rss[2], rss[3]);

  s.Send("poweroff\n");
  EXPECT_EQ(s.Wait(60), 0) << s.output();

  // The capture: tcpdump reads it, and it holds the DHCP exchange and the forwarded connection.
  ProcessResult dump = RunProcess({"/usr/bin/tcpdump", "-n", "-r", pcap});  // tools/setup-deps.sh
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("10.0.2.2.67 > 255.255.255.255.68: BOOTP/DHCP, Reply"), std::string::npos)
      << dump.out.substr(0, 2000);
  EXPECT_NE(dump.out.find("10.0.2.15.8080"), std::string::npos);
  unlink(pcap.c_str());
}

// virtio-net (virtio_net, loaded from the initramfs) as -nic user,model=virtio-net-pci, beside a -device
// pcnet on a second user network (10.0.3.0/24, so that each interface has its own route): QEMU's slots
// (the virtio board NIC at 00:12.0, the pcnet add-on at 00:13.0 with -vga none: only a pcnet -nic is the
// on-board one),
// DHCP, a 300 KiB download with its sha256 and a forwarded port into the guest on each; then the same
// virtio NIC through the legacy interface (virtio_pci reloaded with force_legacy=1). One boot.
TEST_F(LinuxNet, VirtioNetDhcpHttpHostfwdBesideAPcnetModernAndLegacy) {
  std::mt19937 rng(13);
  std::string file(300 * 1024, '\0');
  for (char& c : file) c = static_cast<char>(rng());
  const std::string sha = Sha256Of(file);
  HttpServer http(file);
  const uint16_t fwd_virtio = FreePort(), fwd_pcnet = FreePort();
  ConsoleSession s(
      BootArgs({"-nic", "user,model=virtio-net-pci,hostfwd=tcp::" + std::to_string(fwd_virtio) + "-:8080",
                "-netdev", "user,id=p0,net=10.0.3.0/24,hostfwd=tcp::" + std::to_string(fwd_pcnet) + "-:8080",
                "-device", "pcnet,netdev=p0", "--warp-idle", "-vga", "none"}));
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  Shell(s, "dmesg -n 1; P=/sys/bus/pci/devices/0000:00; N=/sys/class/net");
  EXPECT_EQ(Shell(s, "cat $P:12.0/device $P:12.0/irq $P:13.0/device $P:13.0/irq"),
            "0x1000\n10\n0x2000\n10\n");
  // eth0 is the virtio NIC (its driver loads first) with QEMU's first MAC; it took the modern interface
  // (VERSION_1, bit 32) and mergeable receive buffers (bit 15), and sees the link up.
  EXPECT_EQ(Shell(s, "basename $(readlink $N/eth0/device/driver); cat $N/eth0/address"),
            "virtio_net\n52:54:00:12:34:56\n");
  EXPECT_EQ(Shell(s, "cut -c6,16,17,33 $N/eth0/device/features"), "1111\n");
  EXPECT_EQ(Shell(s, "cat $N/eth1/address"), "52:54:00:12:34:57\n");

  auto check_virtio = [&](const std::string& how) {
    const std::string lease = Shell(s, "udhcpc -i eth0 -n -q 2>&1", 60);
    EXPECT_NE(lease.find("lease of 10.0.2.15 obtained from 10.0.2.2"), std::string::npos) << how << lease;
    EXPECT_EQ(Shell(s, "cat $N/eth0/carrier"), "1\n") << how;  // VIRTIO_NET_S_LINK_UP
    const std::string got = Shell(
        s, "wget -q -O /tmp/f http://10.0.2.2:" + std::to_string(http.port()) + "/file && sha256sum /tmp/f",
        120);
    EXPECT_NE(got.find(sha + "  /tmp/f"), std::string::npos) << how << got;
    const std::string page = HttpGet(fwd_virtio);
    EXPECT_NE(page.find("guest-page-42"), std::string::npos) << how << page;
  };
  Shell(s, "mkdir -p /www && echo guest-page-$((6*7)) > /www/index.html && httpd -p 8080 -h /www");
  check_virtio("modern: ");

  // The pcnet beside it, on its own network.
  const std::string lease = Shell(s, "udhcpc -i eth1 -n -q 2>&1", 60);
  EXPECT_NE(lease.find("lease of 10.0.3.15 obtained from 10.0.3.2"), std::string::npos) << lease;
  const std::string page = HttpGet(fwd_pcnet);
  EXPECT_NE(page.find("guest-page-42"), std::string::npos) << page;
  // A port forwarded while the guest runs, from the console's monitor (Ctrl-A c), then taken away.
  const std::string live = std::to_string(FreePort());
  s.Send(
      "\x01"
      "c");  // Ctrl-A c (two literals: \x01c would be one hex escape)
  ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
  s.Send("hostfwd_add p0 tcp::" + live + "-:8080\r");
  ASSERT_TRUE(s.Expect("(qemu) ", 20)) << s.output();
  EXPECT_NE(HttpGet(static_cast<uint16_t>(std::stoi(live))).find("guest-page-42"), std::string::npos);
  s.Send("info usernet\r");
  ASSERT_TRUE(s.Expect("TCP[HOST_FORWARD]", 20)) << s.output();
  s.Send("hostfwd_remove p0 tcp::" + live + "\r");
  ASSERT_TRUE(s.Expect("host forwarding rule for tcp::" + live + " removed", 20)) << s.output();
  EXPECT_EQ(HttpGet(static_cast<uint16_t>(std::stoi(live))), "connect failed");  // nothing listens there now
  s.Send(
      "\x01"
      "c");  // Ctrl-A c (two literals: \x01c would be one hex escape)
  Shell(s, "true");
  const std::string got = Shell(
      s, "wget -q -O /tmp/g http://10.0.3.2:" + std::to_string(http.port()) + "/file && sha256sum /tmp/g",
      120);
  EXPECT_NE(got.find(sha + "  /tmp/g"), std::string::npos) << got;

  // The legacy interface: the transport's driver again, told to use it; the device is reset and probed
  // anew (eth0 again, without VERSION_1).
  Shell(s, "ifconfig eth0 down; rmmod virtio_pci; modprobe virtio_pci force_legacy=1");
  EXPECT_EQ(Shell(s, "cut -c16,33 $N/eth0/device/features"), "10\n");
  check_virtio("legacy: ");

  s.Send("poweroff\n");
  EXPECT_EQ(s.Wait(60), 0) << s.output();
  EXPECT_EQ(s.output().find("broke the virtio protocol"), std::string::npos) << s.output();
}

TEST_F(LinuxNet, NicNoneHasNoCard) {
  ConsoleSession s(BootArgs({"-nic", "none"}));
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  EXPECT_EQ(s.output().find("pcnet32: PCnet"), std::string::npos);
  const std::string nets = Shell(s, "ls /sys/class/net; lspci 2>/dev/null | grep -c 1022:2000");
  EXPECT_NE(nets.find("lo"), std::string::npos);
  EXPECT_EQ(nets.find("eth0"), std::string::npos) << nets;
  s.Send("poweroff\n");
  EXPECT_EQ(s.Wait(60), 0);
}

TEST_F(LinuxNet, BadNetworkInputIsOneLine) {
  // A forwarded port the host already uses ends the run before the guest starts (status 1).
  uint16_t busy;
  const int fd = Listen(SOCK_STREAM, &busy);
  ASSERT_GE(fd, 0);
  ProcessResult r = RunProcess(BootArgs({"-nic", "user,hostfwd=tcp::" + std::to_string(busy) + "-:22"}));
  close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("could not set up host forwarding rule 'tcp::" + std::to_string(busy) + "-:22'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"-nic", "user,hostfwd=tcp::x-:22"},
                                              {"-nic", "user,model=e1000"},
                                              {"-nic", "tap"},
                                              {"-netdev", "user,id=n0", "-device", "pcnet,netdev=n1"}}) {
    ProcessResult b = RunProcess(BootArgs(bad));
    EXPECT_EQ(b.exit_code, 2) << bad[1];
    EXPECT_EQ(std::count(b.err.begin(), b.err.end(), '\n'), 1) << b.err;
  }
}

}  // namespace
}  // namespace strobe::test
