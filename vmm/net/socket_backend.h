// SPDX-License-Identifier: MIT
// QEMU's -netdev socket (and 7.2's -netdev stream and dgram, the same links spelt anew, streams also over
// Unix-domain sockets): a NIC's link carried over a host socket, so that VMs in separate processes (Strobe
// or QEMU) share one Ethernet segment.
//  - listen=[HOST]:PORT / connect=HOST:PORT: a TCP stream, each frame preceded by its length as a 32-bit
//    big-endian number (QEMU's framing, so either end may be QEMU). The listening side serves one peer at a
//    time and takes the next one when it leaves; frames sent while no peer is there are lost, as on an
//    unplugged cable. A peer that announces a frame larger than kMaxFrameBytes is disconnected.
//  - udp=HOST:PORT,localaddr=HOST:PORT: each frame one datagram to udp=, from a socket bound to localaddr=.
//  - mcast=GROUP:PORT[,localaddr=ADDR]: each frame one datagram to the multicast group, which every member
//    receives (its own frames too, as under QEMU; the NIC's filter drops those it does not want).
// Errors that concern the options (an unknown host, a port in use, a refused connection) are reported by
// Create, before the VM runs. QEMU keeps trying a connect= that is refused; Strobe stops with the reason.
//
// Threading: a thread of its own polls the sockets and an eventfd; Send (vCPU thread) queues the frame and
// wakes it. Frames for the guest go to the receiver from that thread. Frames for a TCP peer that does not
// read are kept up to kMaxPendingBytes, then dropped (as a full link loses them).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "vmm/net/backend.h"

namespace strobe::vmm::net {

struct SocketOptions {
  enum class Mode { kListen, kConnect, kUdp, kMcast };
  // The option that made it: -netdev socket, or QEMU 7.2's -netdev stream (listen: server=on, connect:
  // server=off) and -netdev dgram (udp, mcast), whose info network lines differ.
  enum class Kind { kSocket, kStream, kDgram };
  Mode mode = Mode::kListen;
  Kind kind = Kind::kSocket;
  std::string unix_path;  // a stream over a Unix-domain socket at this path (listen or connect), not TCP
  sockaddr_in addr{};     // listen: where to listen; connect, udp: the peer; mcast: the group and port
  sockaddr_in local{};    // udp: the local address and port; mcast: the interface address (port unused)
  bool local_given = false;
  std::string option;  // as given, for messages
};

// QEMU's HOST:PORT for -netdev socket (the host a name, a dotted address, or empty for any address).
// false with QEMU's message in *why.
bool ParseSocketAddress(const std::string& text, sockaddr_in* out, std::string* why);

// QEMU's info string for a socket netdev before any connection: "socket: connect to 127.0.0.1:5556",
// "socket: udp=127.0.0.1:5557", "socket: mcast=230.0.0.1:1234", or "" for a listener; for stream and dgram
// netdevs "tcp:127.0.0.1:5730", "unix:/path", "udp=LOCAL/REMOTE", "mcast=230.0.0.1:5720".
std::string SocketInfo(const SocketOptions& options);
// The netdev's type as info network names it: socket, stream or dgram.
const char* SocketTypeName(const SocketOptions& options);

class SocketBackend final : public NetBackend {
 public:
  static constexpr size_t kMaxPendingBytes = 1 << 20;
  // Binds, listens or connects. nullptr and a one-line *error when that fails.
  static std::unique_ptr<SocketBackend> Create(const SocketOptions& options, std::string* error);
  ~SocketBackend() override;

  void Start(Receiver receiver) override;
  void Stop() override;
  void Send(const uint8_t* frame, size_t length) override;
  bool Active(int window_ms) const override;
  std::string SnapshotKind() const override { return "socket"; }
  // What QEMU's info network shows after "type=socket,": "socket: connection from 127.0.0.1:46470",
  // "socket: connect to 127.0.0.1:5556", "socket: udp=..." (empty while a listener has no peer).
  std::string Info() const;
  // The port the listener (listen=) or the datagram socket is bound to (tests listen on port 0).
  uint16_t local_port() const;
  // Frames dropped because the peer did not read, and peers disconnected for a malformed stream.
  uint64_t dropped() const { return dropped_.load(); }

 private:
  explicit SocketBackend(const SocketOptions& options) : options_(options) {}
  void Loop();
  void Accept();
  void Disconnect();  // the stream peer (a listener waits for the next one)
  bool ReadStream();  // false: the peer left or broke the framing
  void Flush();       // as much of out_ as the stream socket takes

  SocketOptions options_;
  Receiver receiver_;
  int listen_fd_ = -1, stream_fd_ = -1, dgram_fd_ = -1, wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;    // queue_, info_
  std::deque<Frame> queue_;  // from the guest, not yet written
  size_t queued_bytes_ = 0;  // in queue_
  std::string info_;         // Info()
  std::string out_;          // the stream bytes being written (thread only)
  std::string in_;           // the stream bytes read but not yet a whole frame (thread only)
  LinkActivity activity_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace strobe::vmm::net
