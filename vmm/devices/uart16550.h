// SPDX-License-Identifier: MIT
// A 16550A UART as the Linux 8250 driver and early console use it: transmit is instantaneous, received bytes
// wait in the receive FIFO (deeper here for host input, which is never dropped), interrupts per IER with the
// 16550's priority order. Register map: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR (DLAB selects
// DLL/DLM). MCR bit 4 (loopback) routes the transmitter into the receiver with the chip's real depth
// (16 bytes with FIFOs, 1 without) and overrun, and the modem outputs into MSR; host input waits meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "vmm/device.h"

namespace strobe::vmm {

class StateIo;

class Uart16550 final : public Device {
 public:
  using Sink = std::function<void(uint8_t)>;
  explicit Uart16550(Sink sink) : sink_(std::move(sink)) {}

  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;

  // Host side: bytes typed on the console. Thread-safe.
  void PushInput(uint8_t byte);
  // The receiver holds a byte for the guest (host input held back during loopback does not count).
  bool HasInput() const;
  // Level of the interrupt output (IIR reports something pending).
  bool IrqLevel() const;

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  bool Loopback() const;
  uint8_t Iir() const;
  uint8_t Lsr() const;
  uint8_t Msr() const;
  void LoopBack(uint8_t byte);  // mu_ held
  void SetMcr(uint8_t value);   // mu_ held

  Sink sink_;
  mutable std::mutex mu_;
  std::deque<uint8_t> rx_;             // the receiver as the guest sees it
  std::deque<uint8_t> held_;           // host input that arrived during loopback, delivered when it ends
  std::atomic<bool> rx_ready_{false};  // rx_ is not empty; polled by the vCPU without taking mu_
  std::atomic<uint8_t> mcr_{0};        // PushInput (host thread) reads the loopback bit
  uint8_t ier_ = 0, lcr_ = 0, scr_ = 0, fcr_ = 0, dll_ = 0, dlm_ = 0;
  bool overrun_ = false;       // LSR.OE: a looped-back byte found the receiver full; cleared by reading LSR
  bool thre_pending_ = false;  // THR-empty interrupt armed and not yet acknowledged
};

}  // namespace strobe::vmm
