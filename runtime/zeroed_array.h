// SPDX-License-Identifier: MIT
// A large table of zero-initialised plain values in its own anonymous mapping. Its pages cost host memory
// only once written (until then they read as zero), and Clear() zeroes it by giving the pages back rather
// than writing every byte. For tables indexed by guest-physical page that a VM touches sparsely: the
// unmapped window's host pages, the code granules. Each VM has its own, so with several VMs per process
// the untouched parts add up (vmm/README.md, several VMs).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace strobe::runtime {

template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  explicit ZeroedArray(size_t n) : n_(n), bytes_(RoundUp(n * sizeof(T))) {
    if (bytes_ == 0) return;
    void* p =
        mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();  // only ever at VM creation, like any allocation there
    p_ = static_cast<T*>(p);
  }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ~ZeroedArray() {
    if (p_) munmap(p_, bytes_);
  }

  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }

  // Every element zero again; the pages go back to the host.
  void Clear() {
    if (p_ && madvise(p_, bytes_, MADV_DONTNEED) != 0) std::memset(static_cast<void*>(p_), 0, bytes_);
  }

 private:
  static size_t RoundUp(size_t b) { return (b + 4095) & ~size_t{4095}; }
  size_t n_;
  size_t bytes_;
  T* p_ = nullptr;
};

}  // namespace strobe::runtime
