// SPDX-License-Identifier: MIT
// Power requests that devices raise and the VM's run loop acts on.
#pragma once

#include <atomic>
#include <functional>

namespace strobe::vmm {

enum class PowerRequest { kNone, kPowerOff, kReset };

// The first request wins (a guest that writes power-off and then reset as a fallback is powered off), and
// the vCPU is told to stop at once so that no instruction after the request runs.
struct PowerControl {
  std::atomic<PowerRequest> request{PowerRequest::kNone};
  std::function<void()> on_request;
  void Raise(PowerRequest r) {
    PowerRequest expected = PowerRequest::kNone;
    request.compare_exchange_strong(expected, r);
    if (on_request) on_request();
  }
};

}  // namespace strobe::vmm
