// SPDX-License-Identifier: MIT
// User-mode networking through libslirp (the library QEMU's -netdev user uses): the guest sees a
// 10.0.2.0/24 network with a gateway at 10.0.2.2 (the host: connections to it reach the host's loopback),
// a DNS forwarder at 10.0.2.3 and a DHCP server handing out 10.0.2.15 onwards; the guest's TCP and UDP
// flows become the host's own sockets. hostfwd rules listen on host ports and connect to guest ports.
//
// Threading: libslirp is not thread-safe, so one network thread owns the Slirp instance from Start on: it
// polls slirp's sockets, runs its timers, feeds it the guest's frames (queued by Send, which wakes the
// thread through an eventfd) and hands frames for the guest to the receiver. Before Start (while
// hostfwd rules are set up and bind errors are reported) the creating thread owns it.
//
// Snapshots hold what libslirp saves (slirp_state_save, as QEMU's -netdev user does): the DHCP server's
// leases (which MAC has which address), the IP identification counter and guestfwd connections (Strobe has
// no guestfwd). The guest's TCP and UDP flows and the hostfwd listeners are host sockets, which libslirp
// does not save: after a load the guest's connections to the host are gone, as after a cable pull. The
// state is taken and put back on the network thread, between two poll rounds, so slirp runs nothing
// meanwhile.
#pragma once

#include <netinet/in.h>
#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vmm/net/backend.h"
#include "vmm/net/hostfwd.h"

struct Slirp;

namespace strobe::vmm::net {

struct SlirpOptions {
  in_addr network{};        // 10.0.2.0
  in_addr netmask{};        // 255.255.255.0
  in_addr host{};           // 10.0.2.2
  in_addr dhcp_start{};     // 10.0.2.15
  in_addr dns{};            // 10.0.2.3
  bool restricted = false;  // restrict=on: the guest reaches only the virtual hosts and the forwarded ports
  std::string hostname;     // DHCP option 12 (empty: none)
  std::vector<HostForward> forwards;
  SlirpOptions();  // QEMU's defaults
};

class SlirpBackend final : public NetBackend {
 public:
  // Creates the stack and binds every hostfwd port. nullptr and a one-line *error when a rule cannot be
  // set up (a port in use, an address the host does not have).
  static std::unique_ptr<SlirpBackend> Create(const SlirpOptions& options, std::string* error);
  ~SlirpBackend() override;

  void Start(Receiver receiver) override;
  void Stop() override;
  void Send(const uint8_t* frame, size_t length) override;
  bool Active(int window_ms) const override;
  std::string SnapshotKind() const override { return "user"; }
  uint32_t StateVersion() const override;
  std::vector<uint8_t> SaveState() override;
  // Loads the state into a scratch stack first (same network, no hostfwd): libslirp reads a short or
  // garbled stream without noticing, so a state is taken only when it reads back whole.
  std::string CheckState(uint32_t version, const std::vector<uint8_t>& state) override;
  void LoadState(uint32_t version, const std::vector<uint8_t>& state) override;

  // The monitor's hostfwd_add/hostfwd_remove and info usernet, with QEMU's messages (network thread).
  bool HostForward(bool add, const std::string& rule, std::string* out) override;
  bool ConnectionInfo(std::string* out) override;

  // Frames dropped because the queue to the network thread was full (the guest outran the host).
  uint64_t dropped() const { return dropped_.load(); }

  struct Timer;  // a libslirp timer (network thread only)

 private:
  SlirpBackend() = default;
  void Loop();
  void Wake();
  void MarkActive();
  // Runs fn on the network thread between two poll rounds and waits for it (before Start: here).
  void OnNetworkThread(const std::function<void()>& fn);
  void RunTask();  // the network thread: the task OnNetworkThread handed over, if any
  // libslirp's callbacks (network thread, or the creating thread before Start).
  static ssize_t SendPacket(const void* buf, size_t len, void* opaque);
  static void GuestError(const char* msg, void* opaque);
  static int64_t ClockNs(void* opaque);
  static void* TimerNew(void (*cb)(void*), void* cb_opaque, void* opaque);
  static void TimerFree(void* timer, void* opaque);
  static void TimerMod(void* timer, int64_t expire_ms, void* opaque);
  static void RegisterPollFd(int fd, void* opaque);
  static void UnregisterPollFd(int fd, void* opaque);
  static void Notify(void* opaque);
  static int AddPoll(int fd, int events, void* opaque);
  static int GetRevents(int idx, void* opaque);

  Slirp* slirp_ = nullptr;
  SlirpOptions options_;  // as created (CheckState's scratch stack)
  int wake_fd_ = -1;      // eventfd: Send and Stop wake the network thread
  Receiver receiver_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> last_active_ns_{0};
  std::atomic<int> open_flows_{0};  // sockets slirp polls beyond the hostfwd listeners
  int listeners_ = 0;
  std::atomic<uint64_t> dropped_{0};

  std::mutex tx_mu_;
  std::deque<Frame> tx_;  // guest frames waiting for the network thread

  std::mutex task_mu_;  // OnNetworkThread: one task at a time, handed to the loop
  std::condition_variable task_cv_;
  const std::function<void()>* task_ = nullptr;
  bool running_ = false;  // the network thread runs the tasks (between Start and Stop; task_mu_)

  std::vector<std::unique_ptr<Timer>> timers_;  // network thread
  std::vector<::pollfd>* polls_ = nullptr;      // during one poll round
};

}  // namespace strobe::vmm::net
