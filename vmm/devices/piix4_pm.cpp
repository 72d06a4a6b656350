// SPDX-License-Identifier: MIT
#include "vmm/devices/piix4_pm.h"
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
constexpr uint32_t kPmSts = 0x00, kPmEn = 0x02, kPmCntrl = 0x04;
constexpr uint16_t kSusEn = 1u << 13;
constexpr uint16_t kSusTypMask = 7u << 10;
}  // namespace

uint32_t Piix4Pm::Read(uint32_t offset, unsigned size) {
  uint32_t v;
  switch (offset & ~1u) {
    case kPmSts: v = pmsts_; break;
    case kPmEn: v = pmen_; break;
    case kPmCntrl: v = pmcntrl_; break;
    default: v = 0; break;
  }
  if (offset & 1) v >>= 8;
  return size == 1 ? (v & 0xFF) : v;
}

void Piix4Pm::Write(uint32_t offset, unsigned size, uint32_t value) {
  uint16_t v = static_cast<uint16_t>(value);
  if (size == 1 && (offset & 1)) v = static_cast<uint16_t>(v << 8);  // byte writes to the high half
  switch (offset & ~1u) {
    case kPmSts: pmsts_ &= static_cast<uint16_t>(~v); break;  // write one to clear
    case kPmEn: pmen_ = v; break;
    case kPmCntrl:
      pmcntrl_ = v & static_cast<uint16_t>(~kSusEn);  // SUS_EN reads back as zero
      if ((v & kSusEn) && (v & kSusTypMask) == 0) power_.Raise(PowerRequest::kPowerOff);
      break;
    default: break;
  }
}

void Piix4Pm::State(StateIo& io) {
  io.Field(pmsts_);
  io.Field(pmen_);
  io.Field(pmcntrl_);
}

}  // namespace strobe::vmm
