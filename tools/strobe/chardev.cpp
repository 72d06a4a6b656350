// SPDX-License-Identifier: MIT
#include "tools/strobe/chardev.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "vmm/net/hostfwd.h"

namespace strobe::tools {

namespace {
std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

// QEMU's boolean option values.
bool ParseBool(const std::string& v, bool* out) {
  if (v == "on" || v == "yes" || v == "true" || v.empty()) {
    *out = true;
  } else if (v == "off" || v == "no" || v == "false") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

constexpr const char* kBackends =
    "null, stdio, mon:stdio, pty, file:PATH, unix:PATH[,server][,nowait], tcp:[HOST]:PORT[,server][,nowait], "
    "telnet:[HOST]:PORT[,server][,nowait], chardev:ID";

// Telnet's bytes (RFC 854, 856, 857, 858).
constexpr uint8_t kIac = 255, kDont = 254, kDo = 253, kWill = 251, kSb = 250, kSe = 240;
constexpr uint8_t kOptBinary = 0, kOptEcho = 1, kOptSuppressGoAhead = 3;

bool WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}
}  // namespace

bool ParseSerial(const std::string& v, const CharDevs& chardevs, CharDevSpec* out, std::string* error) {
  CharDevSpec s;
  if (v == "null" || v == "none") {
    s.kind = CharDevSpec::Kind::kNull;
  } else if (v == "stdio" || v == "mon:stdio") {
    s.kind = CharDevSpec::Kind::kStdio;  // no monitor: mon: only adds the escape keys, which stdio has anyway
  } else if (v == "pty") {
    s.kind = CharDevSpec::Kind::kPty;
  } else if (v.rfind("file:", 0) == 0 && v.size() > 5) {
    s.kind = CharDevSpec::Kind::kFile;
    s.path = v.substr(5);
  } else if ((v.rfind("unix:", 0) == 0 && v.size() > 5) || v.rfind("tcp:", 0) == 0 ||
             v.rfind("telnet:", 0) == 0) {
    const size_t colon = v.find(':');
    std::vector<std::string> parts = Split(v.substr(colon + 1), ',');
    if (v.rfind("unix:", 0) == 0) {
      s.kind = CharDevSpec::Kind::kUnix;
      s.path = parts[0];
    } else {
      s.kind = CharDevSpec::Kind::kTcp;
      s.telnet = v.rfind("telnet:", 0) == 0;
      const size_t port_at = parts[0].rfind(':');
      if (port_at == std::string::npos ||
          !vmm::net::ParsePort(parts[0].substr(port_at + 1), &s.port, /*allow_zero=*/true)) {
        *error = "-serial " + v + ": expected " + v.substr(0, colon) + ":[HOST]:PORT";
        return false;
      }
      s.host = parts[0].substr(0, port_at);
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string& p = parts[i];
      const size_t eq = p.find('=');
      const std::string key = p.substr(0, eq), val = eq == std::string::npos ? "" : p.substr(eq + 1);
      bool flag;
      if (key == "server" && ParseBool(val, &flag)) {
        s.server = flag;
      } else if (key == "nowait") {
        s.wait = false;
      } else if (key == "wait" && ParseBool(val, &flag)) {
        s.wait = flag;
      } else if (key == "nodelay" && s.kind == CharDevSpec::Kind::kTcp) {
        // Strobe's TCP connections never delay small writes
      } else {
        *error = "-serial " + v + ": unknown socket option '" + p + "' (server, nowait, wait=on|off" +
                 (s.kind == CharDevSpec::Kind::kTcp ? ", nodelay)" : ")");
        return false;
      }
    }
    if (s.kind == CharDevSpec::Kind::kUnix && s.path.empty()) {
      *error = "-serial " + v + ": the socket needs a path";
      return false;
    }
  } else if (v.rfind("chardev:", 0) == 0) {
    auto it = chardevs.find(v.substr(8));
    if (it == chardevs.end()) {
      *error = "-serial " + v + ": no -chardev with id '" + v.substr(8) + "' (define it before -serial)";
      return false;
    }
    s = it->second;
  } else {
    *error = "unsupported -serial '" + v + "' (Strobe has " + kBackends + ")";
    return false;
  }
  s.label = "serial0";
  *out = s;
  return true;
}

bool ParseChardev(const std::string& v, CharDevs* chardevs, std::string* error) {
  std::vector<std::string> parts = Split(v, ',');
  const std::string& type = parts[0];
  CharDevSpec s;
  std::string id;
  bool port_given = false;
  if (type == "null") {
    s.kind = CharDevSpec::Kind::kNull;
  } else if (type == "stdio") {
    s.kind = CharDevSpec::Kind::kStdio;
  } else if (type == "pty") {
    s.kind = CharDevSpec::Kind::kPty;
  } else if (type == "file") {
    s.kind = CharDevSpec::Kind::kFile;
  } else if (type == "socket") {
    s.kind = CharDevSpec::Kind::kUnix;
  } else {
    *error = "unsupported -chardev type '" + type + "' (null, stdio, pty, file, socket)";
    return false;
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const size_t eq = p.find('=');
    const std::string key = p.substr(0, eq), val = eq == std::string::npos ? "" : p.substr(eq + 1);
    bool flag;
    if (key == "id") {
      id = val;
    } else if (key == "path" && (s.kind == CharDevSpec::Kind::kFile || type == "socket")) {
      s.path = val;
    } else if (key == "server" && type == "socket" && ParseBool(val, &flag)) {
      s.server = flag;
    } else if (key == "wait" && type == "socket" && ParseBool(val, &flag)) {
      s.wait = flag;
    } else if (key == "nowait" && type == "socket") {
      s.wait = false;
    } else if ((key == "mux" || key == "signal") && ParseBool(val, &flag)) {
      // mux: the escape keys are always on stdin; signal: Ctrl-C always reaches the guest in raw mode.
    } else if (key == "host" && type == "socket") {
      s.host = val;
      s.kind = CharDevSpec::Kind::kTcp;
    } else if (key == "port" && type == "socket") {
      if (!vmm::net::ParsePort(val, &s.port, /*allow_zero=*/true)) {
        *error = "-chardev socket: bad port '" + val + "'";
        return false;
      }
      s.kind = CharDevSpec::Kind::kTcp;
      port_given = true;
    } else if (key == "telnet" && type == "socket" && ParseBool(val, &flag)) {
      s.telnet = flag;
    } else if (key == "nodelay" && type == "socket" && ParseBool(val, &flag)) {
      // Strobe's TCP connections never delay small writes
    } else {
      *error = "-chardev " + type + ": unknown option '" + p + "'";
      return false;
    }
  }
  if (id.empty()) {
    *error = "-chardev " + v + ": needs id=ID";
    return false;
  }
  if (s.kind == CharDevSpec::Kind::kTcp && !s.path.empty()) {
    *error = "-chardev " + v + ": path= and host=/port= name two different sockets";
    return false;
  }
  if (s.kind == CharDevSpec::Kind::kTcp && !port_given) {
    *error = "-chardev " + v + ": a TCP socket needs port=PORT";
    return false;
  }
  if ((s.kind == CharDevSpec::Kind::kFile || s.kind == CharDevSpec::Kind::kUnix) && s.path.empty()) {
    *error = "-chardev " + v + ": needs path=PATH (or host= and port= for TCP)";
    return false;
  }
  if (chardevs->count(id)) {
    *error = "-chardev: duplicate id '" + id + "'";
    return false;
  }
  s.label = id;
  (*chardevs)[id] = s;
  return true;
}

bool CharBackend::Open(const CharDevSpec& spec, std::string* error) {
  spec_ = spec;
  switch (spec.kind) {
    case CharDevSpec::Kind::kNull: return true;
    case CharDevSpec::Kind::kStdio: out_fd_ = STDOUT_FILENO; return true;
    case CharDevSpec::Kind::kFile:
      out_fd_ = open(spec.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (out_fd_ < 0) {
        *error = "-serial file:" + spec.path + ": " + std::strerror(errno);
        return false;
      }
      return true;
    case CharDevSpec::Kind::kPty: {
      int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0 || !ptsname(fd)) {
        *error = std::string("-serial pty: cannot open a pseudo-terminal: ") + std::strerror(errno);
        return false;
      }
      termios t;
      if (tcgetattr(fd, &t) == 0) {  // a serial line passes bytes as they are
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
      }
      // Without a reader the pty's buffer fills: output is then dropped rather than stalling the guest.
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      out_fd_ = fd;
      conn_fd_ = fd;
      std::fprintf(stderr, "char device redirected to %s (label %s)\n", ptsname(fd), spec.label.c_str());
      return true;
    }
    case CharDevSpec::Kind::kUnix:
    case CharDevSpec::Kind::kTcp: return OpenSocket(spec, error);
  }
  return true;
}

// A Unix or TCP socket: connected to its server, or listening (and, unless nowait, with its first client).
bool CharBackend::OpenSocket(const CharDevSpec& spec, std::string* error) {
  const bool tcp = spec.kind == CharDevSpec::Kind::kTcp;
  const std::string host = spec.host.empty() ? "127.0.0.1" : spec.host;
  const std::string name =
      tcp ? (spec.telnet ? "telnet:" : "tcp:") + host + ":" + std::to_string(spec.port) : "unix:" + spec.path;
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (tcp) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    if (const int rc = vmm::net::ResolveIpv4(host, &in->sin_addr); rc != 0) {
      *error = name + ": cannot resolve '" + host + "': " + gai_strerror(rc);
      return false;
    }
    in->sin_port = htons(spec.port);
    len = sizeof(sockaddr_in);
  } else {
    auto* un = reinterpret_cast<sockaddr_un*>(&storage);
    un->sun_family = AF_UNIX;
    if (spec.path.size() >= sizeof un->sun_path) {
      *error = name + ": socket path too long";
      return false;
    }
    std::memcpy(un->sun_path, spec.path.c_str(), spec.path.size() + 1);
    len = sizeof(sockaddr_un);
  }
  const auto* addr = reinterpret_cast<const sockaddr*>(&storage);
  int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = name + ": " + std::strerror(errno);
    return false;
  }
  if (!spec.server) {
    if (connect(fd, addr, len) != 0) {
      *error = "Failed to connect to '" + name + "': " + std::strerror(errno);
      close(fd);
      return false;
    }
    Connected(fd);
    return true;
  }
  const int one = 1;
  if (tcp) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  } else {
    unlink(spec.path.c_str());  // as QEMU: a stale socket file from an earlier run is replaced
  }
  if (bind(fd, addr, len) != 0 || listen(fd, 1) != 0) {
    *error = name + ": " + std::strerror(errno);
    close(fd);
    return false;
  }
  listen_fd_ = fd;
  if (spec.wait) {
    std::fprintf(stderr, "strobe: waiting for connection on: %s,server=on\n", name.c_str());
    Accept();
  }
  return true;
}

void CharBackend::Accept() {
  int c;
  do {
    c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  } while (c < 0 && errno == EINTR);
  if (c >= 0) Connected(c);
}

void CharBackend::Connected(int fd) {
  if (spec_.kind == CharDevSpec::Kind::kTcp) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (spec_.telnet) {  // character at a time, no local echo, 8-bit data both ways (QEMU's greeting)
    const uint8_t hello[] = {kIac, kWill, kOptEcho,   kIac, kWill, kOptSuppressGoAhead,
                             kIac, kWill, kOptBinary, kIac, kDo,   kOptBinary};
    telnet_state_ = 0;
    WriteAll(fd, hello, sizeof hello);
  }
  conn_fd_ = fd;
}

// Input through the telnet protocol: IAC IAC is a data byte 0xFF; the client's option answers (WILL, WONT,
// DO, DONT and their option), subnegotiations (SB ... IAC SE) and other commands are dropped.
bool CharBackend::Telnet(uint8_t byte) {
  switch (telnet_state_) {
    case 0:
      if (byte != kIac) return true;
      telnet_state_ = 1;
      return false;
    case 1:
      if (byte == kIac) {
        telnet_state_ = 0;
        return true;
      }
      telnet_state_ = byte >= kWill && byte <= kDont ? 2 : byte == kSb ? 3 : 0;
      return false;
    case 2: telnet_state_ = 0; return false;
    default:  // in a subnegotiation until IAC SE
      if (byte == kIac) telnet_state_ = 4;
      return false;
    case 4: telnet_state_ = byte == kSe ? 0 : 3; return false;
  }
}

void CharBackend::Write(uint8_t byte) {
  switch (spec_.kind) {
    case CharDevSpec::Kind::kNull: return;
    case CharDevSpec::Kind::kStdio:
    case CharDevSpec::Kind::kFile:
      // Unbuffered: the guest's output must appear as it is produced, also when it is a pipe or a file.
      while (write(out_fd_, &byte, 1) < 0 && errno == EINTR) {
      }
      return;
    case CharDevSpec::Kind::kPty:
      while (write(out_fd_, &byte, 1) < 0 && errno == EINTR) {
      }
      return;
    case CharDevSpec::Kind::kUnix:
    case CharDevSpec::Kind::kTcp: {
      int fd = conn_fd_.load();
      if (fd < 0) return;                     // no client (yet): output is dropped, as in QEMU
      const uint8_t twice[2] = {byte, byte};  // telnet: a data byte 0xFF goes as IAC IAC
      if (!WriteAll(fd, twice, spec_.telnet && byte == kIac ? 2 : 1)) {
        conn_fd_ = -1;  // the client went away; a server accepts the next one (InputLoop)
        shutdown(fd, SHUT_RDWR);
      }
      return;
    }
  }
}

void CharBackend::StartInput(std::function<void(uint8_t)> input) {
  input_ = std::move(input);
  if (spec_.kind == CharDevSpec::Kind::kPty || spec_.kind == CharDevSpec::Kind::kUnix ||
      spec_.kind == CharDevSpec::Kind::kTcp)
    std::thread([this] { InputLoop(); }).detach();  // blocks in read(); ends with the process
}

void CharBackend::InputLoop() {
  uint8_t buf[256];
  for (;;) {
    int fd = conn_fd_.load();
    if (fd < 0) {
      if (listen_fd_ < 0) return;  // a client socket that closed: nothing more to read
      Accept();
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      if (spec_.kind == CharDevSpec::Kind::kPty) {
        // No slave open (EIO) until someone attaches: poll again after a pause.
        usleep(100000);
        continue;
      }
      conn_fd_ = -1;
      close(fd);
      continue;
    }
    for (ssize_t i = 0; i < n; ++i)
      if (!spec_.telnet || Telnet(buf[i])) input_(buf[i]);
  }
}

}  // namespace strobe::tools
