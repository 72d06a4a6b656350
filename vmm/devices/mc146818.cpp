// SPDX-License-Identifier: MIT
#include "vmm/devices/mc146818.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint8_t kSec = 0, kMin = 2, kHour = 4, kWday = 6, kMday = 7, kMonth = 8, kYear = 9;
constexpr uint8_t kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D;
constexpr uint8_t kAUip = 0x80;
constexpr uint8_t kBSet = 0x80, kBBinary = 0x04, kB24h = 0x02;
constexpr double kUipWindow = 244e-6;  // 8 periods of the 32.768 kHz time base
constexpr unsigned kPollsBeforeSkip = 32;
constexpr uint64_t kTightPollCycles = 2000;  // reads this close together are a busy-wait loop
}  // namespace

Mc146818::Mc146818(VirtualClock& clock, std::time_t start_time) : clock_(clock), base_(start_time) {
  ram_[kRegA] = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
  ram_[kRegB] = kB24h;
  ram_[kRegD] = 0x80;  // valid RAM and time
}

std::time_t Mc146818::Now() const {
  return base_ + set_offset_ + static_cast<std::time_t>(clock_.Seconds(clock_.cycles()));
}

uint8_t Mc146818::Encode(int v) const {
  if (ram_[kRegB] & kBBinary) return static_cast<uint8_t>(v);
  return static_cast<uint8_t>(((v / 10) << 4) | (v % 10));
}

int Mc146818::Decode(uint8_t v) const {
  if (ram_[kRegB] & kBBinary) return v;
  return (v >> 4) * 10 + (v & 0x0F);
}

// A guest spinning on register A waiting for UIP to change gets there without the host spinning too:
// after a run of identical tight reads, virtual time jumps to just before the next UIP edge.
void Mc146818::SkipIdlePolling(bool uip) {
  uint64_t now = clock_.cycles();
  if (uip == last_uip_ && now - last_poll_cycles_ < kTightPollCycles) {
    ++same_polls_;
  } else {
    same_polls_ = 0;
  }
  last_uip_ = uip;
  last_poll_cycles_ = now;
  if (same_polls_ < kPollsBeforeSkip) return;
  same_polls_ = 0;
  const double t = clock_.Seconds(now);
  const double second_start = static_cast<double>(static_cast<uint64_t>(t));
  const double edge = uip ? second_start + 1.0 : second_start + 1.0 - kUipWindow;
  const uint64_t target = clock_.FromSeconds(edge) - 64;
  clock_.SkipTo(target);  // at the slice's end: the guest's next poll sees it
  last_poll_cycles_ = target;
}

uint8_t Mc146818::ReadRegister(uint8_t index) {
  if (index == kRegA) {
    const double t = clock_.Seconds(clock_.cycles());
    const bool uip =
        !(ram_[kRegB] & kBSet) && (t - static_cast<double>(static_cast<uint64_t>(t))) >= 1.0 - kUipWindow;
    SkipIdlePolling(uip);
    return static_cast<uint8_t>((ram_[kRegA] & ~kAUip) | (uip ? kAUip : 0));
  }
  if (index == kRegC) {
    uint8_t v = ram_[kRegC];
    ram_[kRegC] = 0;  // reading clears the interrupt flags
    return v;
  }
  if (index == kRegB || index == kRegD || index > kYear) return ram_[index];
  std::time_t now = Now();
  std::tm tm{};
  gmtime_r(&now, &tm);
  switch (index) {
    case kSec: return Encode(tm.tm_sec);
    case kMin: return Encode(tm.tm_min);
    case kHour:
      if (ram_[kRegB] & kB24h) return Encode(tm.tm_hour);
      return static_cast<uint8_t>(Encode(tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12) |
                                  (tm.tm_hour >= 12 ? 0x80 : 0));
    case kWday: return Encode(tm.tm_wday + 1);
    case kMday: return Encode(tm.tm_mday);
    case kMonth: return Encode(tm.tm_mon + 1);
    case kYear: return Encode(tm.tm_year % 100);
    default: return ram_[index];  // alarms
  }
}

void Mc146818::WriteRegister(uint8_t index, uint8_t v) {
  if (index == kRegC || index == kRegD) return;  // read-only
  if (index == kRegA) {
    ram_[kRegA] = v & 0x7F;
    return;
  }
  if (index > kYear || index == kRegB || (index & 1)) {  // NVRAM, control, alarms
    ram_[index] = v;
    return;
  }
  // Setting the time: move the offset so that the written field reads back.
  std::time_t now = Now();
  std::tm tm{};
  gmtime_r(&now, &tm);
  int value = Decode(static_cast<uint8_t>(index == kHour ? v & 0x7F : v));
  switch (index) {
    case kSec: tm.tm_sec = value; break;
    case kMin: tm.tm_min = value; break;
    case kHour: tm.tm_hour = value; break;
    case kWday: return;
    case kMday: tm.tm_mday = value; break;
    case kMonth: tm.tm_mon = value - 1; break;
    case kYear: tm.tm_year = value < 70 ? value + 100 : value; break;
    default: break;
  }
  set_offset_ += timegm(&tm) - now;
}

uint32_t Mc146818::Read(uint32_t offset, unsigned) {
  if (offset == 0) return 0xFF;  // the index port is write-only
  return ReadRegister(index_);
}

void Mc146818::Write(uint32_t offset, unsigned, uint32_t value) {
  if (offset == 0) {
    index_ = value & 0x7F;  // bit 7 masks NMI
  } else {
    WriteRegister(index_, static_cast<uint8_t>(value));
  }
}

void Mc146818::State(StateIo& io) {
  int64_t base = base_;
  io.Field(base);  // the wall time at virtual cycle 0: the restored guest's clock goes on from the snapshot
  base_ = static_cast<std::time_t>(base);
  io.Field(set_offset_);
  io.Field(index_);
  io.Field(ram_);
  io.Field(last_poll_cycles_);
  io.Field(same_polls_);
  io.Field(last_uip_);
}

}  // namespace strobe::vmm
