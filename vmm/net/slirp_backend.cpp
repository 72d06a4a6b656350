// SPDX-License-Identifier: MIT
#include "vmm/net/slirp_backend.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <slirp/libslirp.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace strobe::vmm::net {
namespace {

constexpr size_t kMaxQueuedTx = 1024;  // guest frames waiting for the network thread

in_addr Addr(const char* dotted) {
  in_addr a{};
  inet_pton(AF_INET, dotted, &a);
  return a;
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int ToPollEvents(int slirp_events) {
  int e = 0;
  if (slirp_events & SLIRP_POLL_IN) e |= POLLIN;
  if (slirp_events & SLIRP_POLL_OUT) e |= POLLOUT;
  if (slirp_events & SLIRP_POLL_PRI) e |= POLLPRI;
  if (slirp_events & SLIRP_POLL_ERR) e |= POLLERR;
  if (slirp_events & SLIRP_POLL_HUP) e |= POLLHUP;
  return e;
}

int FromPollEvents(short revents) {
  int e = 0;
  if (revents & POLLIN) e |= SLIRP_POLL_IN;
  if (revents & POLLOUT) e |= SLIRP_POLL_OUT;
  if (revents & POLLPRI) e |= SLIRP_POLL_PRI;
  if (revents & POLLERR) e |= SLIRP_POLL_ERR;
  if (revents & (POLLHUP | POLLNVAL)) e |= SLIRP_POLL_HUP;
  return e;
}

std::string Dotted(in_addr a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

ssize_t AppendState(const void* buf, size_t len, void* opaque) {
  auto* out = static_cast<std::vector<uint8_t>*>(opaque);
  const auto* p = static_cast<const uint8_t*>(buf);
  out->insert(out->end(), p, p + len);
  return static_cast<ssize_t>(len);
}

// libslirp's reads of a saved state. It does not check what its reads return (a short read leaves zeros),
// so the reader keeps count.
struct StateReader {
  const std::vector<uint8_t>& bytes;
  size_t at = 0;
  bool short_read = false;
};

ssize_t ReadState(void* buf, size_t len, void* opaque) {
  auto* r = static_cast<StateReader*>(opaque);
  const size_t n = std::min(len, r->bytes.size() - r->at);
  std::memcpy(buf, r->bytes.data() + r->at, n);
  if (n < len) {
    std::memset(static_cast<uint8_t*>(buf) + n, 0, len - n);
    r->short_read = true;
  }
  r->at += n;
  return static_cast<ssize_t>(n);
}

// "" when the state read back whole, else why not.
std::string LoadInto(Slirp* slirp, uint32_t version, const std::vector<uint8_t>& state) {
  StateReader r{state};
  const int ret = slirp_state_load(slirp, static_cast<int>(version), &ReadState, &r);
  if (ret < 0) return "libslirp refused it (error " + std::to_string(ret) + ")";
  if (r.short_read) return "it ends early";
  if (r.at != state.size())
    return "it is " + std::to_string(state.size() - r.at) + " bytes longer than libslirp reads";
  return "";
}

}  // namespace

struct SlirpBackend::Timer {
  void (*cb)(void*);
  void* cb_opaque;
  int64_t expire_ms = -1;  // -1: not armed
};

SlirpOptions::SlirpOptions()
    : network(Addr("10.0.2.0")),
      netmask(Addr("255.255.255.0")),
      host(Addr("10.0.2.2")),
      dhcp_start(Addr("10.0.2.15")),
      dns(Addr("10.0.2.3")) {}

std::unique_ptr<SlirpBackend> SlirpBackend::Create(const SlirpOptions& options, std::string* error) {
  std::unique_ptr<SlirpBackend> b(new SlirpBackend());
  b->options_ = options;
  b->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->wake_fd_ < 0) {
    *error = std::string("network: eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  static const SlirpCb callbacks = [] {
    SlirpCb cb{};
    cb.send_packet = &SlirpBackend::SendPacket;
    cb.guest_error = &SlirpBackend::GuestError;
    cb.clock_get_ns = &SlirpBackend::ClockNs;
    cb.timer_new = &SlirpBackend::TimerNew;
    cb.timer_free = &SlirpBackend::TimerFree;
    cb.timer_mod = &SlirpBackend::TimerMod;
    cb.register_poll_fd = &SlirpBackend::RegisterPollFd;
    cb.unregister_poll_fd = &SlirpBackend::UnregisterPollFd;
    cb.notify = &SlirpBackend::Notify;
    return cb;
  }();
  SlirpConfig cfg{};
  cfg.version = 1;
  cfg.restricted = options.restricted ? 1 : 0;
  cfg.in_enabled = true;
  cfg.vnetwork = options.network;
  cfg.vnetmask = options.netmask;
  cfg.vhost = options.host;
  cfg.in6_enabled = false;
  cfg.vhostname = options.hostname.empty() ? nullptr : options.hostname.c_str();
  cfg.vdhcp_start = options.dhcp_start;
  cfg.vnameserver = options.dns;
  b->slirp_ = slirp_new(&cfg, &callbacks, b.get());
  if (!b->slirp_) {
    *error = "network: could not initialise user-mode networking (libslirp)";
    return nullptr;
  }
  for (const net::HostForward& f : options.forwards) {
    in_addr guest = f.guest_addr.s_addr ? f.guest_addr : options.dhcp_start;
    errno = 0;
    if (slirp_add_hostfwd(b->slirp_, f.udp, f.host_addr, f.host_port, guest, f.guest_port) < 0) {
      const int err = errno;
      *error = "could not set up host forwarding rule '" + f.text + "': cannot listen on " +
               Dotted(f.host_addr) + ":" + std::to_string(f.host_port) + (f.udp ? "/udp" : "/tcp") +
               (err ? std::string(" (") + std::strerror(err) + ")" : "");
      return nullptr;
    }
  }
  b->listeners_ = static_cast<int>(options.forwards.size());
  return b;
}

SlirpBackend::~SlirpBackend() {
  Stop();
  if (slirp_) slirp_cleanup(slirp_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void SlirpBackend::Start(Receiver receiver) {
  receiver_ = std::move(receiver);
  {
    std::lock_guard<std::mutex> lock(task_mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "strobe-net");
}

void SlirpBackend::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  Wake();
  thread_.join();
  // A task handed over while the loop was ending (a monitor command) runs here: its caller is waiting.
  std::lock_guard<std::mutex> lock(task_mu_);
  running_ = false;
  if (task_) {
    (*task_)();
    task_ = nullptr;
  }
  task_cv_.notify_all();
}

void SlirpBackend::Wake() {
  const uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;  // EAGAIN: the counter is already non-zero, the thread will wake
}

void SlirpBackend::MarkActive() {
  last_active_ns_.store(NowNs(), std::memory_order_relaxed);
}

bool SlirpBackend::Active(int window_ms) const {
  return open_flows_.load(std::memory_order_relaxed) > 0 ||
         NowNs() - last_active_ns_.load(std::memory_order_relaxed) < int64_t{window_ms} * 1'000'000;
}

void SlirpBackend::Send(const uint8_t* frame, size_t length) {
  MarkActive();
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(tx_mu_);
    if (tx_.size() >= kMaxQueuedTx) {
      dropped_.fetch_add(1);
      return;
    }
    was_empty = tx_.empty();
    tx_.emplace_back(frame, frame + length);
  }
  if (was_empty) Wake();
}

void SlirpBackend::OnNetworkThread(const std::function<void()>& fn) {
  // Before Start and after Stop nothing else touches slirp: fn runs here, under the task lock, so that a
  // Stop on another thread (the VM ending while a monitor command comes in) waits for it.
  std::unique_lock<std::mutex> lock(task_mu_);
  task_cv_.wait(lock, [this] { return task_ == nullptr || !running_; });
  if (!running_) return fn();
  task_ = &fn;
  Wake();
  task_cv_.wait(lock, [this, &fn] { return task_ != &fn; });
}

bool SlirpBackend::HostForward(bool add, const std::string& rule, std::string* out) {
  net::HostForward f;
  if (add) {
    std::string why;
    if (!ParseHostForward(rule, &f, &why)) {
      *out = "Invalid host forwarding rule '" + rule + "' (" + why + ")\n";
      return true;
    }
  } else if (!ParseHostForwardSource(rule, &f)) {
    *out = "invalid format\n";
    return true;
  }
  int result = 0;
  OnNetworkThread([&] {
    if (add) {
      const in_addr guest = f.guest_addr.s_addr ? f.guest_addr : options_.dhcp_start;
      result = slirp_add_hostfwd(slirp_, f.udp, f.host_addr, f.host_port, guest, f.guest_port);
    } else {
      result = slirp_remove_hostfwd(slirp_, f.udp, f.host_addr, f.host_port);
    }
    if (result == 0) listeners_ += add ? 1 : -1;
  });
  if (add) {
    *out = result < 0 ? "Could not set up host forwarding rule '" + rule + "'\n" : "";
  } else {
    *out = "host forwarding rule for " + rule + (result < 0 ? " not found\n" : " removed\n");
  }
  return true;
}

bool SlirpBackend::ConnectionInfo(std::string* out) {
  OnNetworkThread([&] {
    char* text = slirp_connection_info(slirp_);
    *out = text ? text : "";
    std::free(text);
  });
  return true;
}

void SlirpBackend::RunTask() {
  std::lock_guard<std::mutex> lock(task_mu_);
  if (!task_) return;
  (*task_)();
  task_ = nullptr;
  task_cv_.notify_all();
}

uint32_t SlirpBackend::StateVersion() const {
  return static_cast<uint32_t>(slirp_state_version());
}

std::vector<uint8_t> SlirpBackend::SaveState() {
  std::vector<uint8_t> out;
  OnNetworkThread([&] { slirp_state_save(slirp_, &AppendState, &out); });
  return out;
}

std::string SlirpBackend::CheckState(uint32_t version, const std::vector<uint8_t>& state) {
  const uint32_t here = StateVersion();
  if (version == 0 || version > here)
    return "the user-mode network's state is of version " + std::to_string(version) + ", libslirp " +
           slirp_version_string() + " reads versions 1 to " + std::to_string(here);
  // The state begins with the guestfwd connections, ended by a 0 byte. Strobe has no guestfwd rules, and
  // libslirp would take a garbled connection's buffer sizes as they come.
  if (!state.empty() && state[0] != 0)
    return "the user-mode network's state holds guestfwd connections, which Strobe does not have";
  // A stack of its own, not started: loading into it touches nothing of this one.
  SlirpOptions scratch_options = options_;
  scratch_options.forwards.clear();
  std::string error;
  const std::unique_ptr<SlirpBackend> scratch = Create(scratch_options, &error);
  if (!scratch) return error;
  const std::string why = LoadInto(scratch->slirp_, version, state);
  return why.empty() ? "" : "the user-mode network's state is malformed: " + why;
}

void SlirpBackend::LoadState(uint32_t version, const std::vector<uint8_t>& state) {
  OnNetworkThread([&] { LoadInto(slirp_, version, state); });
}

void SlirpBackend::Loop() {
  std::vector<::pollfd> polls;
  std::deque<Frame> batch;
  while (!stop_.load()) {
    RunTask();
    {
      std::lock_guard<std::mutex> lock(tx_mu_);
      batch.swap(tx_);
    }
    for (const Frame& f : batch) slirp_input(slirp_, f.data(), static_cast<int>(f.size()));
    batch.clear();

    // Timers due now run; the earliest armed one bounds the sleep.
    const int64_t now_ms = NowNs() / 1'000'000;
    uint32_t timeout = 1000;
    for (size_t i = 0; i < timers_.size(); ++i) {
      Timer& t = *timers_[i];
      if (t.expire_ms < 0) continue;
      if (t.expire_ms <= now_ms) {
        t.expire_ms = -1;
        t.cb(t.cb_opaque);  // may create, free or re-arm timers
        timeout = 0;
        break;
      }
      timeout = std::min<uint32_t>(timeout, static_cast<uint32_t>(t.expire_ms - now_ms));
    }

    polls.clear();
    polls.push_back({wake_fd_, POLLIN, 0});
    polls_ = &polls;
    slirp_pollfds_fill(slirp_, &timeout, &SlirpBackend::AddPoll, this);
    // Every socket slirp polls is a hostfwd listener or a flow (TCP connection, UDP association) to the host.
    open_flows_.store(static_cast<int>(polls.size()) - 1 - listeners_, std::memory_order_relaxed);
    const int n = poll(polls.data(), polls.size(), static_cast<int>(timeout));
    if (n > 0 && (polls[0].revents & POLLIN)) {
      uint64_t count;
      ssize_t r = read(wake_fd_, &count, sizeof count);
      (void)r;
    }
    slirp_pollfds_poll(slirp_, n < 0 ? 1 : 0, &SlirpBackend::GetRevents, this);
    polls_ = nullptr;
  }
}

int SlirpBackend::AddPoll(int fd, int events, void* opaque) {
  auto* self = static_cast<SlirpBackend*>(opaque);
  self->polls_->push_back({fd, static_cast<short>(ToPollEvents(events)), 0});
  return static_cast<int>(self->polls_->size() - 1);
}

int SlirpBackend::GetRevents(int idx, void* opaque) {
  auto* self = static_cast<SlirpBackend*>(opaque);
  if (idx < 0 || static_cast<size_t>(idx) >= self->polls_->size()) return 0;
  return FromPollEvents((*self->polls_)[idx].revents);
}

ssize_t SlirpBackend::SendPacket(const void* buf, size_t len, void* opaque) {
  auto* self = static_cast<SlirpBackend*>(opaque);
  self->MarkActive();
  if (self->receiver_ && len <= kMaxFrameBytes) {
    const auto* p = static_cast<const uint8_t*>(buf);
    self->receiver_(Frame(p, p + len));
  }
  return static_cast<ssize_t>(len);
}

void SlirpBackend::GuestError(const char*, void*) {}  // a malformed guest packet: slirp drops it

int64_t SlirpBackend::ClockNs(void*) {
  return NowNs();
}

void* SlirpBackend::TimerNew(void (*cb)(void*), void* cb_opaque, void* opaque) {
  auto* self = static_cast<SlirpBackend*>(opaque);
  self->timers_.push_back(std::make_unique<Timer>(Timer{cb, cb_opaque, -1}));
  return self->timers_.back().get();
}

void SlirpBackend::TimerFree(void* timer, void* opaque) {
  auto* self = static_cast<SlirpBackend*>(opaque);
  auto& v = self->timers_;
  v.erase(std::remove_if(v.begin(), v.end(), [timer](const auto& t) { return t.get() == timer; }), v.end());
}

void SlirpBackend::TimerMod(void* timer, int64_t expire_ms, void* opaque) {
  static_cast<Timer*>(timer)->expire_ms = expire_ms;
  static_cast<SlirpBackend*>(opaque)->Wake();
}

void SlirpBackend::RegisterPollFd(int, void*) {}    // every round polls what slirp_pollfds_fill lists
void SlirpBackend::UnregisterPollFd(int, void*) {}  // (no persistent poll set to keep up to date)

void SlirpBackend::Notify(void* opaque) {
  static_cast<SlirpBackend*>(opaque)->Wake();
}

}  // namespace strobe::vmm::net
