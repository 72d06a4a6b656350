// SPDX-License-Identifier: MIT
#include "vmm/monitor/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "vmm/net/hostfwd.h"

namespace strobe::vmm::mon {

namespace {
bool Fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}
}  // namespace

bool ParseMonitorSpec(const std::string& value, bool qmp, MonitorSpec* out, std::string* error) {
  const std::string option = qmp ? "-qmp" : "-monitor";
  MonitorSpec s;
  s.qmp = qmp;
  s.text = option + " " + value;
  error->clear();
  if (value == "none") return false;
  const std::vector<std::string> parts = SplitCommas(value);
  const std::string& where = parts[0];
  bool server = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == "server" || p == "server=on") {
      server = true;
    } else if (p == "server=off") {
      server = false;
    } else if (p == "nowait" || p == "wait=off") {
      s.wait = false;
    } else if (p == "wait" || p == "wait=on") {
      s.wait = true;
    } else if (p == "pretty=on" || p == "pretty=off") {
      // QMP's pretty printing: accepted, replies stay on one line
    } else {
      return Fail(error, s.text + ": unknown option '" + p + "' (server, nowait, wait=off)");
    }
  }
  if (where == "stdio") {
    if (parts.size() > 1) return Fail(error, s.text + ": stdio takes no options");
    s.transport = MonitorSpec::Transport::kStdio;
    s.wait = false;
    *out = s;
    return true;
  }
  if (where.rfind("unix:", 0) == 0) {
    s.transport = MonitorSpec::Transport::kUnix;
    s.path = where.substr(5);
    if (s.path.empty()) return Fail(error, s.text + ": unix: needs a path");
    if (s.path.size() >= sizeof(sockaddr_un{}.sun_path))
      return Fail(error, s.text + ": socket path longer than " +
                             std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
  } else if (where.rfind("tcp:", 0) == 0) {
    s.transport = MonitorSpec::Transport::kTcp;
    const std::string rest = where.substr(4);
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return Fail(error, s.text + ": expected tcp:[HOST]:PORT");
    s.host = rest.substr(0, colon);
    const std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 0 || p > 65535) return Fail(error, s.text + ": bad port '" + port + "'");
    s.port = static_cast<uint16_t>(p);
  } else {
    return Fail(error, s.text +
                           ": only stdio, unix:PATH,server[,nowait] and tcp:[HOST]:PORT,server[,nowait] "
                           "are supported");
  }
  if (!server)
    return Fail(error,
                s.text + ": only server mode is supported (add ,server,nowait): Strobe does not connect out");
  *out = s;
  return true;
}

MonitorServer::~MonitorServer() {
  for (auto& e : endpoints_)
    if (e->listen_fd >= 0) shutdown(e->listen_fd, SHUT_RDWR);
  RemoveSocketFiles();
}

void MonitorServer::RemoveSocketFiles() {
  for (auto& e : endpoints_)
    if (e->spec.transport == MonitorSpec::Transport::kUnix && e->listen_fd >= 0) unlink(e->spec.path.c_str());
}

bool MonitorServer::Listen(const MonitorSpec& spec, std::string* error) {
  auto e = std::make_unique<Endpoint>();
  e->spec = spec;
  if (spec.transport == MonitorSpec::Transport::kUnix) {
    struct stat st {};
    if (lstat(spec.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode))
        return Fail(error, spec.text + ": " + spec.path + " exists and is not a socket");
      unlink(spec.path.c_str());  // a socket left by an earlier run, as QEMU does
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (spec.path.size() >= sizeof addr.sun_path)
      return Fail(error, spec.text + ": socket path longer than " + std::to_string(sizeof addr.sun_path - 1) +
                             " bytes");
    std::memcpy(addr.sun_path, spec.path.c_str(), spec.path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0) {
      const std::string why = std::strerror(errno);
      if (fd >= 0) close(fd);
      return Fail(error, spec.text + ": cannot listen on " + spec.path + ": " + why);
    }
    e->listen_fd = fd;
  } else if (spec.transport == MonitorSpec::Transport::kTcp) {
    const std::string host = spec.host.empty() ? "127.0.0.1" : spec.host;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    if (const int rc = net::ResolveIpv4(host, &addr.sin_addr); rc != 0)
      return Fail(error, spec.text + ": cannot resolve '" + host + "': " + gai_strerror(rc));
    addr.sin_port = htons(spec.port);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0) {
      const std::string why = std::strerror(errno);
      if (fd >= 0) close(fd);
      return Fail(error,
                  spec.text + ": cannot listen on " + host + ":" + std::to_string(spec.port) + ": " + why);
    }
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    e->port = ntohs(addr.sin_port);
    e->listen_fd = fd;
  }
  endpoints_.push_back(std::move(e));
  return true;
}

void MonitorServer::Client::Send(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(send_mu);
  if (closed) return;
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = fd == STDOUT_FILENO ? write(fd, bytes.data() + off, bytes.size() - off)
                                          : send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // gone, or not reading for 10 s: the reader sees the hang-up
      closed = true;
      if (fd != STDOUT_FILENO) shutdown(fd, SHUT_RDWR);
      return;
    }
    off += static_cast<size_t>(n);
  }
}

std::shared_ptr<MonitorServer::Client> MonitorServer::MakeClient(const MonitorSpec& spec, int out_fd) {
  auto client = std::make_shared<Client>();
  client->fd = out_fd;
  Client* raw = client.get();
  Writer write = [raw](const std::string& bytes) { raw->Send(bytes); };
  if (spec.qmp) {
    auto qmp = std::make_unique<QmpTerminal>(machine_, write);
    client->qmp = qmp.get();
    client->terminal = std::move(qmp);
  } else {
    // QEMU's line editor and echo on a socket; a cooked stdin echoes by itself.
    const bool editor = spec.transport != MonitorSpec::Transport::kStdio;
    client->terminal = std::make_unique<HmpTerminal>(machine_, write, editor);
  }
  return client;
}

void MonitorServer::Start() {
  for (auto& e : endpoints_) {
    if (e->spec.transport != MonitorSpec::Transport::kStdio && e->spec.wait) {
      std::fprintf(stderr, "strobe: %s: waiting for a connection\n", e->spec.text.c_str());
      for (;;) {
        e->first_fd = accept4(e->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (e->first_fd >= 0 || (errno != EINTR && errno != ECONNABORTED)) break;
      }
    }
    Endpoint* raw = e.get();
    std::thread([this, raw] { Serve(raw); }).detach();  // blocks in accept or read; ends with the process
  }
}

void MonitorServer::Serve(Endpoint* e) {
  if (e->spec.transport == MonitorSpec::Transport::kStdio) {
    Converse(e, STDIN_FILENO, STDOUT_FILENO);
    return;  // end of input: the guest runs on, as QEMU's
  }
  for (;;) {
    int fd = e->first_fd;
    e->first_fd = -1;
    if (fd < 0) fd = accept4(e->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    if (e->spec.transport == MonitorSpec::Transport::kTcp) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    const timeval send_limit{10, 0};  // a client that stops reading is dropped, not waited for
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
    Converse(e, fd, fd);
    close(fd);
  }
}

void MonitorServer::Converse(Endpoint* e, int in_fd, int out_fd) {
  std::shared_ptr<Client> client = MakeClient(e->spec, out_fd);
  {
    std::lock_guard<std::mutex> lock(clients_mu_);
    clients_.push_back(client);
  }
  client->terminal->Open();
  char buf[4096];
  for (;;) {
    const ssize_t n = read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(exec_mu_);
    if (closing_) break;
    client->terminal->Feed(buf, static_cast<size_t>(n));
  }
  std::lock_guard<std::mutex> lock(clients_mu_);
  {
    std::lock_guard<std::mutex> sending(client->send_mu);
    client->closed = true;
  }
  std::erase(clients_, client);
}

void MonitorServer::Broadcast(const std::string& name, const Json* data) {
  const std::string event = QmpEvent(name, data) + "\r\n";
  std::lock_guard<std::mutex> lock(clients_mu_);
  for (const auto& c : clients_)
    if (c->qmp && c->qmp->wants_events()) c->Send(event);
}

void MonitorServer::Close() {
  std::lock_guard<std::mutex> lock(exec_mu_);
  if (closing_) return;
  closing_ = true;
  RemoveSocketFiles();  // as QEMU, the socket goes with the process
  // The clients see the end as when QEMU's process ends (with several VMs the process may go on), and
  // no one can connect any more.
  for (auto& e : endpoints_)
    if (e->listen_fd >= 0) shutdown(e->listen_fd, SHUT_RDWR);
  std::lock_guard<std::mutex> clients(clients_mu_);
  for (const auto& c : clients_)
    if (c->fd != STDOUT_FILENO) shutdown(c->fd, SHUT_RDWR);
}

}  // namespace strobe::vmm::mon
