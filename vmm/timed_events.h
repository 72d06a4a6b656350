// SPDX-License-Identifier: MIT
// Work due at a virtual time (the deterministic mode's disk completions; devices' timers): callbacks that
// run on the
// vCPU thread between slices once the virtual clock has reached their cycle, in cycle order and, on a tie,
// in the order they were posted. The run loop ends each slice at the next due cycle, so when a callback
// runs depends only on the guest, never on the host. vCPU thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace strobe::vmm {

class TimedEvents {
 public:
  void Post(uint64_t due_cycle, std::function<void()> fn) { events_.emplace(due_cycle, std::move(fn)); }
  bool empty() const { return events_.empty(); }
  // The earliest due cycle (UINT64_MAX: none).
  uint64_t next_due() const { return events_.empty() ? UINT64_MAX : events_.begin()->first; }
  // Runs every callback due at or before `now` (callbacks may post more); how many ran.
  size_t RunDue(uint64_t now) {
    size_t ran = 0;
    while (!events_.empty() && events_.begin()->first <= now) {
      auto fn = std::move(events_.begin()->second);
      events_.erase(events_.begin());
      fn();
      ++ran;
    }
    return ran;
  }
  // Runs everything now, due or not (a snapshot needs the disks quiet); how many ran.
  size_t RunAll() { return RunDue(UINT64_MAX); }
  void Clear() { events_.clear(); }

 private:
  std::multimap<uint64_t, std::function<void()>> events_;  // equal keys keep their insertion order
};

}  // namespace strobe::vmm
