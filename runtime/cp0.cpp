// SPDX-License-Identifier: MIT
// CP0 register file of the 24Kc-like core: reset values, readable/writable bit masks, RDHWR.
// Values follow MIPS32 Vol. III chapter 9 and the 24K datasheet; runtime/README.md lists them with reasons.
#include "runtime/cp0_plain.h"
#include "runtime/runtime.h"

namespace strobe::runtime {

namespace {
// Status: the 24Kc's writable bits are Cp0::status_writable's default. With the 24Kf's FPU also CU1 and FR,
// as in QEMU's 24Kf (Status_rw_bitmask 0x3678FF1F against the 24Kc's 0x1278FF1F: the two differ in exactly
// these bits).
constexpr uint32_t kStatusFpuWritable = st::CU1 | st::FR;
constexpr uint32_t kConfig1Fp = 1u << 0;
// FIR of QEMU's 24Kf: F64, L, W, D, S and ProcessorID 0x93 with revision 0. A real 24Kf also reports its
// revision in bits 7:0 and no 3D or PS (as here); software tests only the format bits and F64.
constexpr uint32_t kFir24Kf = (1u << 22) | (1u << 21) | (1u << 20) | (1u << 17) | (1u << 16) | (0x93u << 8);
constexpr uint32_t kCauseWritable = cause::IV | (3u << 8);  // IV and the two software interrupt bits
constexpr uint32_t kEntryHiWritable = 0xFFFFE0FFu;          // VPN2 and an 8-bit ASID
constexpr uint32_t kEBaseWritable = 0x3FFFF000u;  // bits 31:30 read 10; WG and CPUNum are not writable
constexpr uint32_t kIntCtlReset = 0xE0000000u;    // IPTI = 7: the timer interrupt is Cause.IP7

unsigned IndexBits(const CpuState& c) {
  unsigned bits = 0;
  while ((1u << bits) < c.tlb->size()) ++bits;
  return bits;
}

void RefreshIp(CpuState& c) {
  uint32_t ip = static_cast<uint32_t>(c.hw_irq & 0x3F) << 10;
  if (c.cp0.cause & cause::TI) ip |= TimerInterruptMask(c);
  c.cp0.cause = (c.cp0.cause & ~(0xFCu << 8)) | ip;
  c.exit_request |= exitreq::kIrqCheck;
}

void RecomputeTimer(CpuState& c) {
  uint32_t delta = c.cp0.compare - ReadCount(c);
  uint64_t ticks = delta == 0 ? (1ull << 32) : delta;
  c.timer_deadline = ((c.cycles >> 1) + ticks) << 1;
}
}  // namespace

uint32_t ReadCount(const CpuState& c) {
  return static_cast<uint32_t>(c.cycles >> 1) + c.cp0.count_bias;
}

void ResetCpu(CpuState& c, const CpuConfig& cfg) {
  for (auto& r : c.gpr) r = 0;
  c.hi = c.lo = 0;
  c.ll_bit = false;
  c.cp0 = Cp0{};
  c.cp0.status = st::BEV;  // as a boot loader leaves it: kernel mode, BEV=1, interrupts off
  c.cp0.prid = cfg.prid;
  c.cp0.ebase = 0x80000000u;
  c.cp0.intctl = kIntCtlReset;
  c.cp0.config0 = 0x80000482u;  // M, AR=1 (release 2), MT=1 (standard TLB), K0=2
  c.cp0.config1 = 0x80190C80u | ((cfg.tlb_entries - 1) << 25);  // caches 64x16Bx2; no WR, CA or EJTAG
  c.fpu = FpuState{};
  if (cfg.HasFpu()) {
    c.cp0.config1 |= kConfig1Fp;
    c.cp0.status_writable |= kStatusFpuWritable;
    c.fpu.fir = kFir24Kf;
  }
  c.cp0.config2 = 0x80000000u;
  c.cp0.config3 = config3::ULRI;
  c.cp0.wired = 0;
  c.hw_irq = 0;
  c.exit_request = 0;
  c.exc = PendingException{};
  c.soft_tlb->FlushAll();
  for (unsigned i = 0; i < c.tlb->size(); ++i) c.tlb->Set(i, TlbEntry{});
  c.asid_key = 0;
  c.erl_mapped = false;
  RecomputeTimer(c);
  UpdateMode(c);
}

void UpdateMode(CpuState& c) {
  bool erl = (c.cp0.status & st::ERL) != 0;
  if (erl != c.erl_mapped) {  // ERL=1 makes kuseg unmapped for the kernel: cached translations differ
    c.soft_tlb->FlushAll();
    c.erl_mapped = erl;  // cached jumps into kuseg go with the soft TLB entries they were checked against
  }
  // Chained jumps also record the soft TLB table (mode) they were resolved in, so a plain mode change
  // (every exception and ERET) needs no new epoch.
  const bool user = InUserMode(c);
  c.stlb = c.soft_tlb->Table(user);
  c.stlb_paddr = c.soft_tlb->PaddrTable(user);
  static const uintptr_t kNoPages[SoftTlb::kUnmappedPages] = {};
  c.unmapped_read = user ? kNoPages : c.soft_tlb->UnmappedRead();
  c.unmapped_write = user ? kNoPages : c.soft_tlb->UnmappedWrite();
  // Status changed (IE, EXL, ERL, IM): the monitor must look at interrupts again only if one is now
  // deliverable. Cause.IP is current (a change of the lines or the timer requests a check of its own), so
  // an exception or ERET with nothing pending runs on without a trip through the monitor's loop. With
  // BEV=1 it still goes there: an exception to the boot vectors means the guest is lost (Vm::Run says so).
  if (InterruptPending(c) || (c.cp0.status & st::BEV)) c.exit_request |= exitreq::kIrqCheck;
}

uint32_t ReadCp0(CpuState& c, unsigned reg, unsigned sel) {
  if (const PlainCp0Field f = PlainCp0(reg, sel); f.readable()) return PlainCp0Ref(c, f);
  const Cp0& r = c.cp0;
  switch (reg * 8 + sel) {
    case 1 * 8: {  // Random: counts down through [Wired, size-1]; derived from the virtual clock
      unsigned size = c.tlb->size();
      if (r.wired >= size) return size - 1;
      return size - 1 - static_cast<uint32_t>(c.cycles % (size - r.wired));
    }
    case 9 * 8: return ReadCount(c);
    default: return 0;  // unimplemented registers read as zero
  }
}

void WriteCp0(CpuState& c, unsigned reg, unsigned sel, uint32_t v) {
  if (const PlainCp0Field f = PlainCp0(reg, sel); f.writable()) {
    uint32_t& field = PlainCp0Ref(c, f);
    field = (field & f.keep) | (v & f.write_mask);
    return;
  }
  Cp0& r = c.cp0;
  switch (reg * 8 + sel) {
    case 0 * 8: r.index = (r.index & 0x80000000u) | (v & ((1u << IndexBits(c)) - 1)); break;
    case 6 * 8: r.wired = v & ((1u << IndexBits(c)) - 1); break;
    case 9 * 8:
      r.count_bias = v - static_cast<uint32_t>(c.cycles >> 1);
      RecomputeTimer(c);
      break;
    case 10 * 8:
      r.entryhi = v & kEntryHiWritable;
      c.asid_key = static_cast<uint64_t>(r.entryhi & 0xFF) << 32;
      break;
    case 11 * 8:  // any Compare write acknowledges the timer interrupt
      r.compare = v;
      r.cause &= ~cause::TI;
      RecomputeTimer(c);
      RefreshIp(c);
      break;
    case 12 * 8:
      r.status = (r.status & ~r.status_writable) | (v & r.status_writable);
      UpdateMode(c);
      break;
    case 12 * 8 + 1: r.intctl = kIntCtlReset | (v & (0x1Fu << 5)); break;  // only VS is writable
    case 13 * 8:
      r.cause = (r.cause & ~kCauseWritable) | (v & kCauseWritable);
      c.exit_request |= exitreq::kIrqCheck;
      break;
    case 15 * 8 + 1: r.ebase = 0x80000000u | (v & kEBaseWritable); break;
    case 16 * 8: r.config0 = (r.config0 & ~7u) | (v & 7u); break;  // K0
    default: break;  // read-only or unimplemented: writes are ignored
  }
}

bool ReadHwr(CpuState& c, unsigned reg, uint32_t* value) {
  bool user = InUserMode(c);
  if (reg > 3 && reg != kHwrUserLocal) return false;
  if (reg == kHwrUserLocal && !(c.cp0.config3 & config3::ULRI)) return false;
  if (user && !(c.cp0.status & st::CU0) && !(c.cp0.hwrena & (1u << reg))) return false;
  switch (reg) {
    case 0: *value = c.cp0.ebase & 0x3FF; break;  // CPUNum
    case 1: *value = 16; break;                   // SYNCI_Step: the I-cache line size in Config1
    case 2: *value = ReadCount(c); break;         // CC
    case 3: *value = 2; break;                    // CCRes: Count ticks every second cycle
    default: *value = c.cp0.userlocal; break;     // kHwrUserLocal
  }
  return true;
}

// Timer and interrupt helpers live beside the registers they derive from.
void UpdateTimer(CpuState& c) {
  if (c.cycles < c.timer_deadline) return;
  c.cp0.cause |= cause::TI;
  RecomputeTimer(c);
  RefreshIp(c);
}

uint64_t NextTimerCycles(const CpuState& c) {
  return c.timer_deadline;
}

uint32_t TimerInterruptMask(const CpuState& c) {
  return 1u << (8 + (c.cp0.intctl >> 29));  // IntCtl.IPTI (bits 31:29) is the Cause.IP bit it drives
}

void SetHardwareIrqs(CpuState& c, uint8_t lines) {
  if (lines == c.hw_irq) return;
  c.hw_irq = lines;
  RefreshIp(c);
}

bool InterruptPending(const CpuState& c) {
  const uint32_t s = c.cp0.status;
  if ((s & (st::IE | st::EXL | st::ERL)) != st::IE) return false;
  return (c.cp0.cause & s & st::IM_MASK) != 0;
}

}  // namespace strobe::runtime
