// SPDX-License-Identifier: MIT
#include "vmm/devices/virtio_rng.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "vmm/state_io.h"

namespace strobe::vmm {
namespace {

class Host final : public EntropySource {
 public:
  size_t Read(uint8_t* out, size_t length) override {
    const ssize_t n = getrandom(out, length, GRND_NONBLOCK);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
};

// SplitMix64: a fixed, well-mixed stream from a seed; plenty for a guest that only needs the same bytes in
// every deterministic run.
class Seeded final : public EntropySource {
 public:
  explicit Seeded(uint64_t seed) : state_(seed) {}
  size_t Read(uint8_t* out, size_t length) override {
    for (size_t i = 0; i < length; ++i) {
      if (left_ == 0) {
        state_ += 0x9E3779B97F4A7C15ull;
        uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        word_ = z ^ (z >> 31);
        left_ = 8;
      }
      out[i] = static_cast<uint8_t>(word_);
      word_ >>= 8;
      --left_;
    }
    return length;
  }

 private:
  uint64_t state_, word_ = 0;
  unsigned left_ = 0;
};

class File final : public EntropySource {
 public:
  File(int fd, std::string path, bool regular) : fd_(fd), path_(std::move(path)), regular_(regular) {}
  ~File() override { close(fd_); }
  // Several VMs of one process may share the object (--vms N): one reader at a time.
  size_t Read(uint8_t* out, size_t length) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return 0;
    const ssize_t n = read(fd_, out, length);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    // The end of a regular file, or an error: nothing will come again. Once, on stderr; the guest's
    // requests stay pending (its reads of /dev/hwrng wait), as with a source that has run dry.
    ended_ = true;
    std::fprintf(stderr, "strobe: rng-random: %s: %s; the guest gets no more entropy from it\n",
                 path_.c_str(), n == 0 ? (regular_ ? "end of file" : "end of input") : std::strerror(errno));
    return 0;
  }
  bool exhausted() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_;
  }

 private:
  mutable std::mutex mu_;
  int fd_;
  std::string path_;
  bool regular_;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<EntropySource> HostEntropy() {
  return std::make_shared<Host>();
}

std::shared_ptr<EntropySource> SeededEntropy(uint64_t seed) {
  return std::make_shared<Seeded>(seed);
}

std::shared_ptr<EntropySource> FileEntropy(const std::string& path, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int e = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : errno;
    if (fd >= 0) close(fd);
    *error = "Could not open '" + path + "': " + std::strerror(e);
    return nullptr;
  }
  return std::make_shared<File>(fd, path, S_ISREG(st.st_mode));
}

VirtioRng::VirtioRng(VirtioRngConfig config) : config_(std::move(config)), quota_(WholeQuota()) {}

void VirtioRng::State(StateIo& io) {
  if (!io.loading()) return;
  quota_ = WholeQuota();
  period_running_ = retry_posted_ = false;
  self_ = std::make_shared<VirtioRng*>(this);  // timers of before the load find nothing
}

void VirtioRng::QueueNotify(unsigned q) {
  if (q == 0) Serve();
}

void VirtioRng::Serve() {
  if (!transport_ || transport_->broken()) return;
  Virtqueue& vq = transport_->queue(0);
  if (!vq.enabled() || !vq.HasAvailable()) return;
  const std::weak_ptr<VirtioRng*> weak = self_;
  if (!period_running_ && config_.after) {  // a request opens the period; its end refills the quota
    period_running_ = true;
    config_.after(config_.period_ms, [weak] {
      if (const auto self = weak.lock()) {
        VirtioRng& d = **self;
        d.quota_ = d.WholeQuota();
        d.period_running_ = false;
        d.Serve();
      }
    });
  }
  bool pushed = false;
  std::vector<uint8_t> bytes;
  while (quota_ > 0) {
    VirtqChain chain;
    const Virtqueue::Pop pop = transport_->Take(0, &chain);
    if (pop == Virtqueue::Pop::kEmpty) break;
    if (pop == Virtqueue::Pop::kBroken) return;
    const uint64_t want = std::min<uint64_t>({chain.writable, static_cast<uint64_t>(quota_), kMaxChainBytes});
    bytes.resize(want);
    const size_t got = want ? config_.source->Read(bytes.data(), want) : 0;
    if (want && !got) {  // nothing now: the chain waits for the source
      vq.Rewind(1);
      if (!retry_posted_ && !config_.source->exhausted() && config_.after) {
        retry_posted_ = true;
        config_.after(kRetryMs, [weak] {
          if (const auto self = weak.lock()) {
            (*self)->retry_posted_ = false;
            (*self)->Serve();
          }
        });
      }
      break;
    }
    size_t done = 0;
    for (const VirtqBuffer& b : chain.buffers) {
      if (!b.device_writable || done == got) continue;
      const size_t n = std::min<size_t>(b.len, got - done);
      if (!transport_->memory().Write(b.addr, bytes.data() + done, n)) {
        transport_->DeviceError("an entropy buffer outside RAM");
        return;
      }
      done += n;
    }
    if (!transport_->Give(0, chain.head, static_cast<uint32_t>(got))) return;
    quota_ -= static_cast<int64_t>(got);
    bytes_given_ += got;
    pushed = true;
  }
  if (pushed) transport_->QueueUsed(0);
}

}  // namespace strobe::vmm
