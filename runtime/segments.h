// SPDX-License-Identifier: MIT
// The MIPS32 virtual address segments, spelled once: kuseg (mapped, user), kseg0 and kseg1 (unmapped
// windows onto the low 512 MiB of guest-physical memory, cached and uncached), kseg2/kseg3 (mapped,
// kernel). Everything that needs a segment boundary or the unmapped window includes this header.
#pragma once

#include <cstdint>

namespace strobe::runtime {

inline constexpr uint32_t kKseg0 = 0x80000000u;
inline constexpr uint32_t kKseg1 = 0xA0000000u;
inline constexpr uint32_t kKseg2 = 0xC0000000u;
// kseg0 and kseg1 each reach this much guest-physical memory, from address 0.
inline constexpr uint32_t kUnmappedWindow = 0x20000000u;
inline constexpr uint32_t kUnmappedMask = kUnmappedWindow - 1;

// kseg0/kseg1: fixed, unmapped windows onto guest-physical 0-512 MiB (kernel mode only).
constexpr bool InUnmappedSegment(uint32_t va) {
  return va - kKseg0 < 2 * kUnmappedWindow;
}
// The guest-physical address behind a kseg0/kseg1 address (or the low 29 bits of any address).
constexpr uint32_t UnmappedToPhysical(uint32_t va) {
  return va & kUnmappedMask;
}

static_assert(kKseg1 == kKseg0 + kUnmappedWindow && kKseg2 == kKseg1 + kUnmappedWindow);
static_assert(InUnmappedSegment(kKseg0) && InUnmappedSegment(kKseg2 - 1) && !InUnmappedSegment(kKseg2) &&
              !InUnmappedSegment(kKseg0 - 1));

}  // namespace strobe::runtime
