// SPDX-License-Identifier: MIT
#include "vmm/devices/malta_fpga.h"

#include <cstdio>
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint32_t kSwitch = 0x200, kStatus = 0x208, kJumpers = 0x210;
constexpr uint32_t kLedBar = 0x408, kAsciiWord = 0x410, kAsciiPos0 = 0x418, kAsciiPos7 = 0x450;
constexpr uint32_t kSoftRes = 0x500, kBrkRes = 0x508;
constexpr uint32_t kSoftResMagic = 0x42;
}  // namespace

uint32_t MaltaFpga::Read(uint32_t offset, unsigned) {
  switch (offset) {
    case kSwitch: return 0;
    case kStatus: return 0x10;  // little-endian board
    case kJumpers: return 0;    // PCI clock 33 MHz
    case kLedBar: return ledbar_;
    case kSoftRes: return 0;
    case kBrkRes: return brkres_;
    default: return 0;
  }
}

void MaltaFpga::Write(uint32_t offset, unsigned, uint32_t value) {
  if (offset >= kAsciiPos0 && offset <= kAsciiPos7 && (offset - kAsciiPos0) % 8 == 0) {
    display_[(offset - kAsciiPos0) / 8] = static_cast<char>(value);
    return;
  }
  switch (offset) {
    case kLedBar: ledbar_ = value & 0xFF; break;
    case kAsciiWord: std::snprintf(display_, sizeof display_, "%08X", value); break;
    case kSoftRes:
      if ((value & 0xFF) == kSoftResMagic) power_.Raise(PowerRequest::kReset);
      break;
    case kBrkRes: brkres_ = value; break;
    default: break;
  }
}

void MaltaFpga::State(StateIo& io) {
  io.Field(ledbar_);
  io.Field(brkres_);
  io.Raw(display_, 8);
  display_[8] = '\0';
}

}  // namespace strobe::vmm
