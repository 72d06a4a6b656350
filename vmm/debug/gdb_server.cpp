// SPDX-License-Identifier: MIT
#include "vmm/debug/gdb_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vmm/debug/gdb_protocol.h"
#include "vmm/net/hostfwd.h"

namespace strobe::vmm::gdb {

GdbServer::~GdbServer() {
  if (thread_.joinable()) thread_.detach();  // blocked in accept: the process is ending
}

bool GdbServer::Listen(const std::string& host, uint16_t port, std::string* error) {
  const std::string where = (host.empty() ? "127.0.0.1" : host) + ":" + std::to_string(port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (const int rc = net::ResolveIpv4(host.empty() ? "127.0.0.1" : host, &addr.sin_addr); rc != 0) {
    *error = "gdb stub: cannot resolve '" + host + "': " + gai_strerror(rc);
    return false;
  }
  addr.sin_port = htons(port);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1) != 0) {
    *error = "gdb stub: cannot listen on " + where + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  return true;
}

void GdbServer::Start(Vm& vm, bool start_stopped) {
  vm_ = &vm;
  target_ = std::make_unique<VmTarget>(vm);
  vm.AttachDebugger(this, start_stopped);
  thread_ = std::thread([this] { Serve(); });
}

void GdbServer::Push(Incoming in) {
  std::lock_guard<std::mutex> lock(mu_);
  incoming_.push_back(std::move(in));
  cv_.notify_all();
}

void GdbServer::Serve() {
  for (uint64_t id = 1;; ++id) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const timeval send_limit{10, 0};  // a client that stops reading our replies is dropped, not waited for
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
    {
      std::lock_guard<std::mutex> lock(mu_);
      conn_fd_ = fd;
      incoming_.push_back({Incoming::Kind::kConnected, id, {}});
      cv_.notify_all();
    }
    vm_->RequestDebugStop(/*attach=*/true);  // as QEMU: a debugger connecting stops the VM
    ReadConnection(fd, id);
    {
      std::lock_guard<std::mutex> sending(send_mu_);  // not while a reply is being written to it
      std::lock_guard<std::mutex> lock(mu_);
      if (conn_fd_ == fd) conn_fd_ = -1;
      close(fd);
      incoming_.push_back({Incoming::Kind::kClosed, id, {}});
      cv_.notify_all();
    }
    vm_->RequestDebugStop(/*attach=*/true);  // let a stopped VM's loop see the hang-up (it resumes)
  }
}

void GdbServer::ReadConnection(int fd, uint64_t id) {
  PacketDecoder decoder;
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (ssize_t i = 0; i < n; ++i) {
      switch (decoder.Feed(buf[i])) {
        case PacketDecoder::Event::kNone:
        case PacketDecoder::Event::kAck: break;
        case PacketDecoder::Event::kInterrupt: vm_->RequestDebugStop(); break;  // Ctrl-C: SIGINT
        case PacketDecoder::Event::kPacket: Push({Incoming::Kind::kPacket, id, decoder.packet()}); break;
        case PacketDecoder::Event::kBadChecksum: Push({Incoming::Kind::kBadChecksum, id, {}}); break;
        case PacketDecoder::Event::kNak: Push({Incoming::Kind::kNak, id, {}}); break;
        case PacketDecoder::Event::kOverflow: return;  // a packet larger than gdb may send: hang up
      }
    }
  }
}

void GdbServer::Send(const std::string& bytes) {
  std::lock_guard<std::mutex> sending(send_mu_);  // the fd stays open meanwhile (Serve closes it under it)
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = conn_fd_;
  }
  if (fd < 0) return;
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // gone, or not reading for 10 s: hang up (the server thread sees it and closes)
      shutdown(fd, SHUT_RDWR);
      return;
    }
    off += static_cast<size_t>(n);
  }
}

void GdbServer::Hangup() {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn_fd_ >= 0) shutdown(conn_fd_, SHUT_RDWR);  // the server thread closes it
}

namespace {
StopEvent ToStopEvent(const DebugEvent& why, const VmTarget& target, uint32_t pc) {
  StopEvent e;
  switch (why.kind) {
    case DebugEvent::Kind::kInterrupt: e.kind = StopEvent::Kind::kInterrupt; break;
    case DebugEvent::Kind::kBreakpoint:
      e.kind = StopEvent::Kind::kBreakpoint;
      e.hardware = target.IsHardwareBreakpoint(pc);
      break;
    case DebugEvent::Kind::kWatch:
      e.kind = StopEvent::Kind::kWatch;
      e.watch_addr = why.watch.addr;
      e.watch_type = why.watch.kinds == (runtime::kWatchRead | runtime::kWatchWrite) ? BreakType::kAccess
                     : why.watch.kinds == runtime::kWatchRead                        ? BreakType::kRead
                                                                                     : BreakType::kWrite;
      break;
    default: e.kind = StopEvent::Kind::kTrap; break;
  }
  return e;
}
}  // namespace

DebugResume GdbServer::Stopped(const DebugEvent& why) {
  const StopEvent stop = ToStopEvent(why, *target_, vm_->cpu().pc);
  if (session_) session_->set_last_stop(stop);
  if (awaiting_stop_ && session_) {
    last_sent_ = EncodePacket(session_->StopReply(stop));
    Send(last_sent_);
  }
  awaiting_stop_ = false;
  for (;;) {
    Incoming in;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // -S: the VM waits for its debugger. Otherwise a stop with nobody connected (a hang-up raced with
      // it) resumes at once.
      if (incoming_.empty() && !session_ && why.kind != DebugEvent::Kind::kStart)
        return DebugResume::kContinue;
      cv_.wait(lock, [this] { return !incoming_.empty() || quit_; });
      if (quit_) return DebugResume::kKill;  // Ended() tells gdb
      in = std::move(incoming_.front());
      incoming_.pop_front();
    }
    if (in.kind == Incoming::Kind::kConnected) {
      current_ = in.connection;
      session_ = std::make_unique<GdbSession>(*target_);
      session_->set_last_stop(stop);
      last_sent_.clear();
      continue;
    }
    if (in.connection != current_ || !session_) continue;  // from a connection that is gone
    switch (in.kind) {
      case Incoming::Kind::kClosed:
        // gdb went away without detaching: its breakpoints go and the VM runs on, as on QEMU.
        session_.reset();
        target_->RemoveAll();
        return DebugResume::kContinue;
      case Incoming::Kind::kNak:
        if (!session_->no_ack() && !last_sent_.empty()) Send(last_sent_);
        continue;
      case Incoming::Kind::kBadChecksum:
        if (!session_->no_ack()) Send("-");  // gdb sends it again; nothing is done
        continue;
      default: break;
    }
    const bool acked = !session_->no_ack();
    if (acked) Send("+");
    std::string reply;
    bool has_reply;
    const GdbSession::Action action = session_->Handle(in.packet, &reply, &has_reply);
    if (has_reply) {
      last_sent_ = EncodePacket(reply);
      Send(last_sent_);
    }
    switch (action.kind) {
      case GdbSession::Action::Kind::kNone: continue;
      case GdbSession::Action::Kind::kContinue: awaiting_stop_ = true; return DebugResume::kContinue;
      case GdbSession::Action::Kind::kStep: awaiting_stop_ = true; return DebugResume::kStep;
      case GdbSession::Action::Kind::kDetach:
        target_->RemoveAll();
        session_.reset();
        Hangup();
        return DebugResume::kContinue;
      case GdbSession::Action::Kind::kKill:
        killed_ = true;
        session_.reset();
        Hangup();
        return DebugResume::kKill;
    }
  }
}

void GdbServer::QuitRequested() {
  std::lock_guard<std::mutex> lock(mu_);
  quit_ = true;
  cv_.notify_all();
}

void GdbServer::Ended(VmExit exit) {
  if (killed_ || !session_) return;
  // The exit status the strobe process ends with (tools/strobe/main.cpp), as gdb's W packet.
  StopEvent e;
  e.kind = StopEvent::Kind::kExited;
  switch (exit) {
    case VmExit::kPowerOff:
    case VmExit::kReset:
    case VmExit::kQuit: e.exit_status = 0; break;
    case VmExit::kHalted: e.exit_status = 3; break;
    case VmExit::kTimeout: e.exit_status = 4; break;
    case VmExit::kInstructionLimit: e.exit_status = 5; break;
    case VmExit::kPanic: e.exit_status = 6; break;
    case VmExit::kError: e.exit_status = 1; break;
  }
  Send(EncodePacket(session_->StopReply(e)));
  Hangup();
}

}  // namespace strobe::vmm::gdb
