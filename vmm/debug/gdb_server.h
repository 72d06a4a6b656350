// SPDX-License-Identifier: MIT
// The gdb stub's transport (-s, -gdb tcp:HOST:PORT): a TCP listener, one connection at a time, and the
// DebugAgent the VM's run loop calls when it stops.
//
// Threads: a server thread accepts connections and reads them, splitting the bytes into packets
// (gdb_protocol.h); a new connection and gdb's Ctrl-C (0x03) ask the VM to stop (Vm::RequestDebugStop),
// which a guest in a tight loop or in WAIT sees within a slice. Packets are handled on the vCPU thread
// while the VM is stopped (Stopped), so the VM's state is only ever touched by its own thread; replies are
// written from there too. When gdb goes away without detaching, its breakpoints go and the VM runs on (as
// QEMU does); another gdb may connect later.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "vmm/debug/gdb_stub.h"
#include "vmm/debug/vm_target.h"
#include "vmm/vm.h"

namespace strobe::vmm::gdb {

class GdbServer final : public DebugAgent {
 public:
  GdbServer() = default;
  ~GdbServer() override;
  // Binds and listens (host empty: 127.0.0.1). false with a one-line *error (port in use, bad host, ...).
  bool Listen(const std::string& host, uint16_t port, std::string* error);
  uint16_t port() const { return port_; }
  // Attaches to the VM and starts serving connections (start_stopped: -S).
  void Start(Vm& vm, bool start_stopped);

  DebugResume Stopped(const DebugEvent& why) override;
  void Ended(VmExit exit) override;
  void QuitRequested() override;

 private:
  struct Incoming {
    enum class Kind : uint8_t { kConnected, kClosed, kPacket, kBadChecksum, kNak };
    Kind kind;
    uint64_t connection;
    std::string packet;
  };
  void Serve();
  void ReadConnection(int fd, uint64_t id);
  void Push(Incoming in);
  void Send(const std::string& bytes);
  void Hangup();  // ends the current connection (the server thread then waits for another)

  Vm* vm_ = nullptr;
  std::unique_ptr<VmTarget> target_;
  std::unique_ptr<GdbSession> session_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;

  std::mutex send_mu_;  // held while a reply is written, so the connection is not closed under it
  std::mutex mu_;       // guards incoming_, conn_fd_, quit_
  std::condition_variable cv_;
  std::deque<Incoming> incoming_;
  int conn_fd_ = -1;
  bool quit_ = false;           // Ctrl-A x or a signal: a stopped VM ends too
  uint64_t current_ = 0;        // the connection the session belongs to (vCPU thread)
  bool awaiting_stop_ = false;  // gdb resumed the VM and waits for a stop reply
  bool killed_ = false;
  std::string last_sent_;  // for a NAK's retransmission
};

}  // namespace strobe::vmm::gdb
