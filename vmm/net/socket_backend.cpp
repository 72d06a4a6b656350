// SPDX-License-Identifier: MIT
#include "vmm/net/socket_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vmm/net/hostfwd.h"

namespace strobe::vmm::net {

namespace {
std::string Dotted(const sockaddr_in& a) {
  char text[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
  return text;
}

std::string HostPort(const sockaddr_in& a) {
  return Dotted(a) + ":" + std::to_string(ntohs(a.sin_port));
}

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  return a;
}

bool Fail(std::string* error, std::string text) {
  *error = std::move(text);
  return false;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}
}  // namespace

bool ParseSocketAddress(const std::string& text, sockaddr_in* out, std::string* why) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    return Fail(why, "host address '" + text + "' doesn't contain ':' separating host from port");
  const std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  uint16_t p = 0;
  if (!ParsePort(port, &p, /*allow_zero=*/true)) return Fail(why, "port number '" + port + "' is invalid");
  a.sin_port = htons(p);
  if (host.empty()) {
    a.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (ResolveIpv4(host, &a.sin_addr) != 0) {
    return Fail(why, "can't resolve host address '" + host + "'");
  }
  *out = a;
  return true;
}

const char* SocketTypeName(const SocketOptions& options) {
  switch (options.kind) {
    case SocketOptions::Kind::kSocket: return "socket";
    case SocketOptions::Kind::kStream: return "stream";
    case SocketOptions::Kind::kDgram: return "dgram";
  }
  return "socket";
}

std::string SocketInfo(const SocketOptions& options) {
  using Mode = SocketOptions::Mode;
  if (options.kind == SocketOptions::Kind::kStream) {
    if (options.mode == Mode::kListen) return "";
    return options.unix_path.empty() ? "tcp:" + HostPort(options.addr) : "unix:" + options.unix_path;
  }
  if (options.kind == SocketOptions::Kind::kDgram)
    return options.mode == Mode::kUdp ? "udp=" + HostPort(options.local) + "/" + HostPort(options.addr)
                                      : "mcast=" + HostPort(options.addr);
  switch (options.mode) {
    case SocketOptions::Mode::kListen: return "";
    case SocketOptions::Mode::kConnect: return "socket: connect to " + HostPort(options.addr);
    case SocketOptions::Mode::kUdp: return "socket: udp=" + HostPort(options.addr);
    case SocketOptions::Mode::kMcast: return "socket: mcast=" + HostPort(options.addr);
  }
  return "";
}

std::unique_ptr<SocketBackend> SocketBackend::Create(const SocketOptions& options, std::string* error) {
  std::unique_ptr<SocketBackend> b(new SocketBackend(options));
  const auto sys_fail = [&](const std::string& what) {
    *error = what + ": " + std::strerror(errno);
    return nullptr;
  };
  const auto bind_to = [&](int fd, const sockaddr_in& a) {
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    return bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  };
  using Mode = SocketOptions::Mode;
  switch (options.mode) {
    case Mode::kListen:
      if (!options.unix_path.empty()) {
        b->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (b->listen_fd_ < 0) return sys_fail("socket");
        // A socket left by an earlier run is replaced, as QEMU does; anything else at the path is kept.
        struct stat st;
        if (lstat(options.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
          unlink(options.unix_path.c_str());
        const sockaddr_un a = UnixAddress(options.unix_path);
        if (bind(b->listen_fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
          return sys_fail("Failed to bind socket to " + options.unix_path);
      } else {
        b->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (b->listen_fd_ < 0) return sys_fail("socket");
        if (!bind_to(b->listen_fd_, options.addr))
          return sys_fail("can't bind ip=" + Dotted(options.addr) + " to socket");
      }
      if (listen(b->listen_fd_, 1) != 0) return sys_fail("listen");
      break;
    case Mode::kConnect: {
      if (!options.unix_path.empty()) {
        b->stream_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (b->stream_fd_ < 0) return sys_fail("socket");
        const sockaddr_un a = UnixAddress(options.unix_path);
        if (connect(b->stream_fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
          return sys_fail("can't connect to " + options.unix_path);
        fcntl(b->stream_fd_, F_SETFL, fcntl(b->stream_fd_, F_GETFL) | O_NONBLOCK);
        break;
      }
      b->stream_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (b->stream_fd_ < 0) return sys_fail("socket");
      if (connect(b->stream_fd_, reinterpret_cast<const sockaddr*>(&options.addr), sizeof options.addr) != 0)
        return sys_fail("can't connect to " + HostPort(options.addr));
      fcntl(b->stream_fd_, F_SETFL, fcntl(b->stream_fd_, F_GETFL) | O_NONBLOCK);
      const int on = 1;
      setsockopt(b->stream_fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      break;
    }
    case Mode::kUdp:
      b->dgram_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (b->dgram_fd_ < 0) return sys_fail("socket");
      if (!bind_to(b->dgram_fd_, options.local))
        return sys_fail("can't bind ip=" + Dotted(options.local) + " to socket");
      break;
    case Mode::kMcast: {
      if (!IN_MULTICAST(ntohl(options.addr.sin_addr.s_addr))) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08x", ntohl(options.addr.sin_addr.s_addr));
        *error = "specified mcastaddr " + Dotted(options.addr) + " (" + hex +
                 ") does not contain a multicast address";
        return nullptr;
      }
      b->dgram_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (b->dgram_fd_ < 0) return sys_fail("socket");
      // Bound to the group's address and port, so that only the group's datagrams arrive.
      if (!bind_to(b->dgram_fd_, options.addr))
        return sys_fail("can't bind ip=" + Dotted(options.addr) + " to socket");
      ip_mreq join{};
      join.imr_multiaddr = options.addr.sin_addr;
      join.imr_interface.s_addr = options.local_given ? options.local.sin_addr.s_addr : htonl(INADDR_ANY);
      if (setsockopt(b->dgram_fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0)
        return sys_fail("can't add socket to multicast group " + Dotted(options.addr));
      const unsigned char loop = 1;  // other members on this host (and this one) see the frames
      if (setsockopt(b->dgram_fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
        return sys_fail("can't force multicast message to loopback");
      if (options.local_given && setsockopt(b->dgram_fd_, IPPROTO_IP, IP_MULTICAST_IF, &join.imr_interface,
                                            sizeof join.imr_interface))
        return sys_fail("can't set the multicast interface " + Dotted(options.local));
      break;
    }
  }
  b->info_ = SocketInfo(options);
  b->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (b->wake_fd_ < 0) return sys_fail("eventfd");
  return b;
}

SocketBackend::~SocketBackend() {
  Stop();
  CloseFd(&listen_fd_);
  CloseFd(&stream_fd_);
  CloseFd(&dgram_fd_);
  CloseFd(&wake_fd_);
}

void SocketBackend::Start(Receiver receiver) {
  receiver_ = std::move(receiver);
  thread_ = std::thread([this] { Loop(); });
}

void SocketBackend::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) { /* the thread is awake already */
  }
  thread_.join();
}

void SocketBackend::Send(const uint8_t* frame, size_t length) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_bytes_ + length > kMaxPendingBytes) {
      ++dropped_;
      return;
    }
    queue_.emplace_back(frame, frame + length);
    queued_bytes_ += length;
  }
  activity_.Touch();
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) { /* the counter is full: the thread is being woken */
  }
}

bool SocketBackend::Active(int window_ms) const {
  return activity_.Within(window_ms);
}

std::string SocketBackend::Info() const {
  std::lock_guard<std::mutex> lock(mu_);
  return info_;
}

uint16_t SocketBackend::local_port() const {
  const int fd = listen_fd_ >= 0 ? listen_fd_ : dgram_fd_;
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

void SocketBackend::Accept() {
  sockaddr_in from{};
  socklen_t len = sizeof from;
  const bool unix_socket = !options_.unix_path.empty();
  const int fd = accept4(listen_fd_, unix_socket ? nullptr : reinterpret_cast<sockaddr*>(&from),
                         unix_socket ? nullptr : &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  const int on = 1;
  if (!unix_socket) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  stream_fd_ = fd;
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.kind == SocketOptions::Kind::kStream)
    info_ = unix_socket ? "unix:" + options_.unix_path : "tcp:" + HostPort(from);
  else
    info_ = "socket: connection from " + HostPort(from);
}

void SocketBackend::Disconnect() {
  CloseFd(&stream_fd_);
  in_.clear();
  out_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.mode == SocketOptions::Mode::kListen) info_.clear();  // as QEMU, until the next peer
}

bool SocketBackend::ReadStream() {
  char buf[65536];
  for (;;) {
    const ssize_t n = recv(stream_fd_, buf, sizeof buf, 0);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    in_.append(buf, static_cast<size_t>(n));
    size_t at = 0;
    while (in_.size() - at >= 4) {
      uint32_t be;
      std::memcpy(&be, in_.data() + at, 4);
      const uint32_t length = ntohl(be);
      if (length > kMaxFrameBytes) {
        std::fprintf(stderr, "strobe: %s: the peer sent a frame of %u bytes (at most %zu): disconnected\n",
                     options_.option.c_str(), length, kMaxFrameBytes);
        ++dropped_;
        return false;
      }
      if (in_.size() - at - 4 < length) break;
      const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + at + 4);
      if (length) receiver_(Frame(p, p + length));
      at += 4 + length;
    }
    in_.erase(0, at);
    activity_.Touch();
  }
}

void SocketBackend::Flush() {
  while (!out_.empty()) {
    const ssize_t n = send(stream_fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // full (POLLOUT comes back), or broken (the read side sees it)
    out_.erase(0, static_cast<size_t>(n));
  }
}

void SocketBackend::Loop() {
  while (!stop_) {
    pollfd fds[4];
    nfds_t n = 0;
    fds[n++] = {wake_fd_, POLLIN, 0};
    const nfds_t listen_at = n;
    if (listen_fd_ >= 0 && stream_fd_ < 0) fds[n++] = {listen_fd_, POLLIN, 0};
    const nfds_t stream_at = n;
    if (stream_fd_ >= 0)
      fds[n++] = {stream_fd_, static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    const nfds_t dgram_at = n;
    if (dgram_fd_ >= 0) fds[n++] = {dgram_fd_, POLLIN, 0};
    if (poll(fds, n, -1) < 0 && errno != EINTR) break;
    if (stop_) break;
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      if (read(wake_fd_, &count, sizeof count) < 0) { /* nothing was pending */
      }
    }
    // The guest's frames: onto the stream (or lost while no peer is there), or one datagram each.
    std::deque<Frame> frames;
    {
      std::lock_guard<std::mutex> lock(mu_);
      frames.swap(queue_);
      queued_bytes_ = 0;
    }
    for (const Frame& f : frames) {
      if (dgram_fd_ >= 0) {
        if (sendto(dgram_fd_, f.data(), f.size(), 0, reinterpret_cast<const sockaddr*>(&options_.addr),
                   sizeof options_.addr) < 0)
          ++dropped_;
      } else if (stream_fd_ >= 0 && out_.size() + 4 + f.size() <= kMaxPendingBytes) {
        const uint32_t be = htonl(static_cast<uint32_t>(f.size()));
        out_.append(reinterpret_cast<const char*>(&be), 4);
        out_.append(reinterpret_cast<const char*>(f.data()), f.size());
      } else {
        ++dropped_;
      }
    }
    if (stream_fd_ >= 0) {
      const short ev = stream_at < n && fds[stream_at].fd == stream_fd_ ? fds[stream_at].revents : 0;
      if ((ev & (POLLIN | POLLHUP | POLLERR)) && !ReadStream()) {
        Disconnect();
      } else {
        Flush();
      }
    } else if (listen_at < n && fds[listen_at].fd == listen_fd_ && (fds[listen_at].revents & POLLIN)) {
      Accept();
    }
    if (dgram_at < n && fds[dgram_at].fd == dgram_fd_ && (fds[dgram_at].revents & POLLIN)) {
      uint8_t buf[kMaxFrameBytes];
      for (;;) {
        const ssize_t got = recv(dgram_fd_, buf, sizeof buf, MSG_TRUNC);  // a datagram's whole length
        if (got < 0) break;
        if (got > static_cast<ssize_t>(sizeof buf)) {
          ++dropped_;  // larger than any frame: not one
        } else if (got > 0) {
          receiver_(Frame(buf, buf + got));
        }
        activity_.Touch();
      }
    }
  }
}

}  // namespace strobe::vmm::net
