// SPDX-License-Identifier: MIT
// A 16550A UART as the Linux 8250 driver and early console use it: transmit is instantaneous, received bytes
// wait in a 16-byte-deep FIFO (deeper here: host input is never dropped), interrupts per IER with the
// 16550's priority order. Register map: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR (DLAB selects
// DLL/DLM).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "vmm/device.h"

namespace strobe::vmm {

class Uart16550 final : public Device {
 public:
  using Sink = std::function<void(uint8_t)>;
  explicit Uart16550(Sink sink) : sink_(std::move(sink)) {}

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  // Host side: bytes typed on the console. Thread-safe.
  void PushInput(uint8_t byte);
  bool HasInput() const;
  // Level of the interrupt output (IIR reports something pending).
  bool IrqLevel() const;

 private:
  uint8_t Iir() const;
  uint8_t Lsr() const;

  Sink sink_;
  mutable std::mutex mu_;
  std::deque<uint8_t> rx_;
  std::atomic<bool> rx_ready_{false};  // rx_ is not empty; polled by the vCPU without taking mu_
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0, dll_ = 0, dlm_ = 0;
  bool thre_pending_ = false;  // THR-empty interrupt armed and not yet acknowledged
};

}  // namespace strobe::vmm
