// SPDX-License-Identifier: MIT
#include "vmm/devices/uart16550.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint8_t kIerRx = 1, kIerThre = 2;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kIirNone = 0x01, kIirThre = 0x02, kIirRx = 0x04;
constexpr uint8_t kFcrEnable = 0x01;
constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kMsrIdle = 0xB0;  // DCD, DSR and CTS asserted: a terminal is always there
constexpr size_t kFifoDepth = 16;
}  // namespace

bool Uart16550::Loopback() const {
  return (mcr_.load(std::memory_order_relaxed) & kMcrLoop) != 0;
}

void Uart16550::PushInput(uint8_t byte) {
  std::lock_guard<std::mutex> lock(mu_);
  // In loopback the receiver is wired to the transmitter only; the line's bytes wait for it to end.
  if (Loopback()) {
    held_.push_back(byte);
    return;
  }
  rx_.push_back(byte);
  rx_ready_.store(true, std::memory_order_release);
}

bool Uart16550::HasInput() const {
  return rx_ready_.load(std::memory_order_acquire);
}

void Uart16550::LoopBack(uint8_t byte) {
  // The receiver has the chip's depth here, because the 8250 driver measures it (size_fifo): it sends 256
  // bytes and counts what it can read back. A full FIFO keeps its contents and drops the new byte; without
  // FIFOs the new byte replaces the unread one. Either way it is an overrun.
  size_t depth = (fcr_ & kFcrEnable) ? kFifoDepth : 1;
  if (rx_.size() >= depth) {
    overrun_ = true;
    if (depth > 1) return;
    rx_.pop_back();
  }
  rx_.push_back(byte);
  rx_ready_.store(true, std::memory_order_release);
}

void Uart16550::SetMcr(uint8_t value) {
  bool was_loop = Loopback();
  mcr_.store(value & 0x1F, std::memory_order_relaxed);
  if (was_loop && !Loopback() && !held_.empty()) {
    rx_.insert(rx_.end(), held_.begin(), held_.end());
    held_.clear();
    rx_ready_.store(true, std::memory_order_release);
  }
}

uint8_t Uart16550::Lsr() const {
  // The transmitter is always idle: a THR write reaches the host (or the receiver) at once.
  return static_cast<uint8_t>(kLsrThre | kLsrTemt | (HasInput() ? kLsrDr : 0) | (overrun_ ? kLsrOe : 0));
}

uint8_t Uart16550::Msr() const {
  if (!Loopback()) return kMsrIdle;
  // Loopback wires the modem outputs to the inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. The driver's
  // UART test writes RTS|OUT2 and expects CTS|DCD (0x90).
  uint8_t m = mcr_.load(std::memory_order_relaxed);
  return static_cast<uint8_t>(((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x0C) << 4));
}

uint8_t Uart16550::Iir() const {
  uint8_t fifo_bits = (fcr_ & kFcrEnable) ? 0xC0 : 0x00;
  if ((ier_ & kIerRx) && HasInput()) return fifo_bits | kIirRx;
  if ((ier_ & kIerThre) && thre_pending_) return fifo_bits | kIirThre;
  return fifo_bits | kIirNone;
}

bool Uart16550::IrqLevel() const {  // vCPU thread: only rx_ready_ is shared with the host side
  return (Iir() & 0x0F) != kIirNone;
}

uint32_t Uart16550::Read(uint32_t offset, unsigned) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (offset) {
    case 0:
      if (lcr_ & kLcrDlab) return dll_;
      if (!rx_.empty()) {
        uint8_t b = rx_.front();
        rx_.pop_front();
        rx_ready_.store(!rx_.empty(), std::memory_order_release);
        return b;
      }
      return 0;
    case 1: return (lcr_ & kLcrDlab) ? dlm_ : ier_;
    case 2: {
      uint8_t iir = Iir();
      if ((iir & 0x0F) == kIirThre) thre_pending_ = false;  // reading IIR acknowledges THR empty
      return iir;
    }
    case 3: return lcr_;
    case 4: return mcr_.load(std::memory_order_relaxed);
    case 5: {
      uint8_t lsr = Lsr();
      overrun_ = false;  // error bits clear when LSR is read
      return lsr;
    }
    case 6: return Msr();
    case 7: return scr_;
    default: return 0xFF;
  }
}

void Uart16550::Write(uint32_t offset, unsigned, uint32_t value) {
  uint8_t v = static_cast<uint8_t>(value);
  bool emit = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    switch (offset) {
      case 0:
        if (lcr_ & kLcrDlab) {
          dll_ = v;
          break;
        }
        thre_pending_ = true;  // sent at once, so the holding register is empty again
        if (Loopback()) {
          LoopBack(v);
        } else {
          emit = true;
        }
        break;
      case 1:
        if (lcr_ & kLcrDlab) {
          dlm_ = v;
        } else {
          // Enabling the THRE interrupt while THR is empty raises it at once (the driver tests this).
          if ((v & kIerThre) && !(ier_ & kIerThre)) thre_pending_ = true;
          ier_ = v & 0x0F;
        }
        break;
      case 2:
        fcr_ = v & 0xC9;
        if (v & 0x02) {
          rx_.clear();
          rx_ready_.store(false, std::memory_order_release);
        }
        break;
      case 3: lcr_ = v; break;
      case 4: SetMcr(v); break;
      case 7: scr_ = v; break;
      default: break;
    }
  }
  if (emit) sink_(v);
}

void Uart16550::State(StateIo& io) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::deque<uint8_t>* q : {&rx_, &held_}) {
    std::vector<uint8_t> bytes(q->begin(), q->end());
    io.Bytes(bytes, 1u << 20);
    if (io.loading()) q->assign(bytes.begin(), bytes.end());
  }
  uint8_t mcr = mcr_.load();
  io.Field(mcr);
  io.Field(ier_);
  io.Field(lcr_);
  io.Field(scr_);
  io.Field(fcr_);
  io.Field(dll_);
  io.Field(dlm_);
  io.Field(overrun_);
  io.Field(thre_pending_);
  if (io.loading()) {
    mcr_.store(mcr);
    rx_ready_.store(!rx_.empty());
  }
}

}  // namespace strobe::vmm
