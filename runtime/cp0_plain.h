// SPDX-License-Identifier: MIT
// The CP0 registers that are plain fields of the CpuState, described once: MFC0 reads the field as it is,
// and where write_mask is not 0, MTC0 stores (old & keep) | (v & write_mask) there and does nothing else.
// ReadCp0 and WriteCp0 (cp0.cpp) take these registers from this table, and translated code reads and writes
// them inline from the same table. The others go through ReadCp0/WriteCp0: Random and Count are computed;
// writes to Status, Cause, EntryHi, Compare and Count have effects; Index's and Wired's writable bits depend
// on the TLB's size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "runtime/cpu_state.h"

namespace strobe::runtime {

inline constexpr uint32_t kEntryLoWritable = 0x03FFFFFFu;  // PFN (32-bit physical addresses), C, D, V, G
inline constexpr uint32_t kContextWritable = 0xFF800000u;  // PTEBase; BadVPN2 is loaded by hardware
inline constexpr uint32_t kPageMaskWritable = 0x1FFFE000u;
inline constexpr uint32_t kHwrEnaWritable = 0xFu | (1u << 29);  // CPUNum, SYNCI_Step, CC, CCRes, UserLocal
inline constexpr uint32_t kWatchLoWritable = ~4u;               // no watch hardware behind it (Config1.WR=0)
inline constexpr uint32_t kWatchHiWritable = 0x40FF0FF8u;

struct PlainCp0Field {
  uint16_t offset = 0;      // in the CpuState; 0 (the GPRs) for a register that is not plain
  uint32_t keep = 0;        // MTC0: bits of the old value kept
  uint32_t write_mask = 0;  // MTC0: bits taken from the value; 0: MTC0 is not a plain store
  constexpr bool readable() const { return offset != 0; }
  constexpr bool writable() const { return write_mask != 0; }
};

namespace detail {
constexpr PlainCp0Field PlainCp0Of(unsigned reg, unsigned sel) {
#define STROBE_CP0_FIELD(field, keep, mask)   \
  PlainCp0Field {                             \
    offsetof(CpuState, cp0.field), keep, mask \
  }
  switch (reg * 8 + sel) {
    case 0 * 8: return STROBE_CP0_FIELD(index, 0, 0);
    case 2 * 8: return STROBE_CP0_FIELD(entrylo0, 0, kEntryLoWritable);
    case 3 * 8: return STROBE_CP0_FIELD(entrylo1, 0, kEntryLoWritable);
    case 4 * 8: return STROBE_CP0_FIELD(context, ~kContextWritable, kContextWritable);
    case 4 * 8 + 2: return STROBE_CP0_FIELD(userlocal, 0, ~0u);
    case 5 * 8: return STROBE_CP0_FIELD(pagemask, 0, kPageMaskWritable);
    case 6 * 8: return STROBE_CP0_FIELD(wired, 0, 0);
    case 7 * 8: return STROBE_CP0_FIELD(hwrena, 0, kHwrEnaWritable);
    case 8 * 8: return STROBE_CP0_FIELD(badvaddr, 0, 0);
    case 10 * 8: return STROBE_CP0_FIELD(entryhi, 0, 0);
    case 11 * 8: return STROBE_CP0_FIELD(compare, 0, 0);
    case 12 * 8: return STROBE_CP0_FIELD(status, 0, 0);
    case 12 * 8 + 1: return STROBE_CP0_FIELD(intctl, 0, 0);
    case 12 * 8 + 2: return STROBE_CP0_FIELD(srsctl, 0, 0);
    case 13 * 8: return STROBE_CP0_FIELD(cause, 0, 0);
    case 14 * 8: return STROBE_CP0_FIELD(epc, 0, ~0u);
    case 15 * 8: return STROBE_CP0_FIELD(prid, 0, 0);
    case 15 * 8 + 1: return STROBE_CP0_FIELD(ebase, 0, 0);
    case 16 * 8: return STROBE_CP0_FIELD(config0, 0, 0);
    case 16 * 8 + 1: return STROBE_CP0_FIELD(config1, 0, 0);
    case 16 * 8 + 2: return STROBE_CP0_FIELD(config2, 0, 0);
    case 16 * 8 + 3: return STROBE_CP0_FIELD(config3, 0, 0);
    case 16 * 8 + 7: return STROBE_CP0_FIELD(config7, 0, 0);
    case 17 * 8: return STROBE_CP0_FIELD(lladdr, 0, 0);
    case 18 * 8: return STROBE_CP0_FIELD(watchlo, 0, kWatchLoWritable);
    case 19 * 8: return STROBE_CP0_FIELD(watchhi, 0, kWatchHiWritable);
    case 26 * 8: return STROBE_CP0_FIELD(errctl, 0, 0);
    case 28 * 8: return STROBE_CP0_FIELD(taglo, 0, ~0u);
    case 28 * 8 + 1: return STROBE_CP0_FIELD(datalo, 0, ~0u);
    case 30 * 8: return STROBE_CP0_FIELD(errorepc, 0, ~0u);
    default: return {};
  }
#undef STROBE_CP0_FIELD
}
// By reg * 8 + sel: the dispatcher's handlers look registers up on every MFC0/MTC0 they run.
inline constexpr auto kPlainCp0 = [] {
  std::array<PlainCp0Field, 32 * 8> t{};
  for (unsigned i = 0; i < t.size(); ++i) t[i] = PlainCp0Of(i / 8, i % 8);
  return t;
}();
}  // namespace detail
static_assert(offsetof(CpuState, cp0) != 0, "offset 0 means: not a plain register");

constexpr PlainCp0Field PlainCp0(unsigned reg, unsigned sel) {
  return detail::kPlainCp0[(reg & 31) * 8 + (sel & 7)];
}

// The field of a plain register.
inline uint32_t& PlainCp0Ref(CpuState& c, PlainCp0Field f) {
  return *reinterpret_cast<uint32_t*>(reinterpret_cast<char*>(&c) + f.offset);
}

}  // namespace strobe::runtime
