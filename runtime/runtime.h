// SPDX-License-Identifier: MIT
// The VMM runtime: what guest execution calls. CP0 and TLB operations, exception delivery, interrupts, the
// soft TLB's slow paths. The interpreter calls these directly; translated code calls the same functions
// (through translator/jit/helpers.*), so each piece of privileged semantics exists once.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/bus.h"
#include "runtime/cpu_state.h"
#include "runtime/soft_tlb.h"
#include "runtime/tlb.h"

namespace strobe::runtime {

// The CPU models -cpu selects. Both are QEMU's: the same PRId (the kernel calls both "MIPS 24Kc"), and
// the 24Kf adds a 64-bit FPU (Config1.FP, FIR, Status.CU1/FR writable). runtime/README.md has the values.
enum class CpuModel : uint8_t { k24Kc, k24Kf };

// Static properties of the modelled core (see runtime/README.md for the values and why).
struct CpuConfig {
  unsigned tlb_entries = 64;  // 1..64; 64 measured best for the Linux boot (vmm/README.md)
  CpuModel model = CpuModel::k24Kc;
  uint32_t prid = 0x00019300;
  bool HasFpu() const { return model == CpuModel::k24Kf; }
};

// Which parts of guest-physical memory hold decoded/translated code, in 32-byte granules. A page with any
// code loses its fast write path; a write that lands on a code granule invalidates the page's code, while
// writes to data that merely shares the page (globals beside functions, a stack page) only take the slow
// path and leave the code alone.
class CodePages {
 public:
  static constexpr uint32_t kGranuleBits = 5;
  explicit CodePages(uint32_t phys_pages) : bits_(phys_pages) {}
  bool IsCode(uint32_t paddr) const {
    uint32_t p = paddr >> kPageBits;
    return p < bits_.size() && (bits_[p].w[0] | bits_[p].w[1]) != 0;
  }
  // Does [paddr, paddr + size) touch a code granule? (size <= 4, so it spans at most two granules.)
  bool Overlaps(uint32_t paddr, unsigned size) const { return Test(paddr) || Test(paddr + size - 1); }
  // The code cache calls this for the bytes it decodes: later writes to the page take the slow path.
  void Mark(uint32_t paddr, uint32_t bytes, SoftTlb& stlb) {
    uint32_t p = paddr >> kPageBits;
    if (p >= bits_.size() || bytes == 0) return;
    bool was_code = IsCode(paddr);
    uint32_t first = (paddr & ~kPageMask) >> kGranuleBits;
    uint32_t last = ((paddr & ~kPageMask) + bytes - 1) >> kGranuleBits;
    for (uint32_t g = first; g <= last && g < 128; ++g) bits_[p].w[g >> 6] |= 1ull << (g & 63);
    if (!was_code) stlb.RevokeWrites(paddr & kPageMask);
  }
  void Clear(uint32_t paddr) {
    uint32_t p = paddr >> kPageBits;
    if (p < bits_.size()) bits_[p] = Granules{};
  }
  // Whether two contents of the page at paddr agree on every granule decoded as code (what was decoded
  // from the one is still right for the other).
  bool SameCode(uint32_t paddr, const uint8_t* a, const uint8_t* b) const {
    uint32_t p = paddr >> kPageBits;
    if (p >= bits_.size()) return true;
    constexpr uint32_t kGranule = 1u << kGranuleBits;
    for (uint32_t g = 0; g < (kPageSize >> kGranuleBits); ++g)
      if (((bits_[p].w[g >> 6] >> (g & 63)) & 1) && std::memcmp(a + g * kGranule, b + g * kGranule, kGranule))
        return false;
    return true;
  }
  CodeObserver* observer = nullptr;

 private:
  struct Granules {
    uint64_t w[2] = {0, 0};
  };
  bool Test(uint32_t paddr) const {
    uint32_t p = paddr >> kPageBits;
    if (p >= bits_.size()) return false;
    uint32_t g = (paddr & ~kPageMask) >> kGranuleBits;
    return (bits_[p].w[g >> 6] >> (g & 63)) & 1;
  }
  ZeroedArray<Granules> bits_;  // pages without code are never written: they cost no memory
};

// Everything one vCPU's runtime state points at. CpuState keeps raw pointers to these.
struct VcpuContext {
  VcpuContext(const CpuConfig& cfg, Bus* bus, uint32_t phys_pages)
      : config(cfg), tlb(cfg.tlb_entries), code_pages(phys_pages) {
    cpu.soft_tlb = &soft_tlb;
    cpu.tlb = &tlb;
    cpu.bus = bus;
    cpu.code_pages = &code_pages;
  }
  CpuConfig config;
  CpuState cpu;
  SoftTlb soft_tlb;
  GuestTlb tlb;
  CodePages code_pages;
};

// --- cp0.cpp ---
void ResetCpu(CpuState& c, const CpuConfig& cfg);
uint32_t ReadCp0(CpuState& c, unsigned reg, unsigned sel);
void WriteCp0(CpuState& c, unsigned reg, unsigned sel, uint32_t value);
uint32_t ReadCount(const CpuState& c);
// RDHWR: false when the register is not accessible (the caller raises Reserved Instruction).
bool ReadHwr(CpuState& c, unsigned reg, uint32_t* value);
// Re-derive the soft TLB table and interrupt state after Status/EXL/ERL/KSU changes.
void UpdateMode(CpuState& c);

// --- exceptions.cpp ---
// Record an exception for the dispatcher; always returns false so handlers can `return Raise(...)`.
inline bool Raise(CpuState& c, ExcCode code) {
  c.exc = PendingException{code, false, false, 0, 0};
  return false;
}
inline bool RaiseAddress(CpuState& c, ExcCode code, uint32_t badvaddr, bool refill = false) {
  c.exc = PendingException{code, refill, true, 0, badvaddr};
  return false;
}
inline bool RaiseCpU(CpuState& c, uint8_t cop) {
  c.exc = PendingException{ExcCode::CpU, false, false, cop, 0};
  return false;
}
// Deliver c.exc: EPC/BD (pc is the faulting instruction; in_delay_slot says it sits in a branch's slot),
// Cause, BadVAddr/Context/EntryHi, EXL, and the vector. Sets c.pc to the handler.
void DeliverException(CpuState& c, uint32_t pc, bool in_delay_slot);
// Is an enabled interrupt pending (Status.IE, not EXL/ERL, Cause.IP & Status.IM)?
bool InterruptPending(const CpuState& c);
// Hardware interrupt lines HW0..HW5 (Cause.IP2..IP7), driven by the board.
void SetHardwareIrqs(CpuState& c, uint8_t lines);
// The Status.IM / Cause.IP bit of the timer interrupt (IntCtl.IPTI names the line).
uint32_t TimerInterruptMask(const CpuState& c);
// Timer: bring Cause.TI up to date with the virtual clock and tell when it can next change.
void UpdateTimer(CpuState& c);
uint64_t NextTimerCycles(const CpuState& c);

// --- tlb.cpp: instruction semantics ---
void Tlbr(CpuState& c);
void Tlbwi(CpuState& c);
void Tlbwr(CpuState& c);
void Tlbp(CpuState& c);
void Eret(CpuState& c);

// --- memory.cpp: soft TLB slow paths ---
// Translate a virtual address. On failure c.exc describes the exception.
struct Translation {
  uint32_t paddr;
  bool writable;  // TLB D bit (or unmapped segment)
};
bool Translate(CpuState& c, uint32_t va, Access access, Translation* out);
bool LoadSlow(CpuState& c, uint32_t va, unsigned size, uint32_t* value);
bool StoreSlow(CpuState& c, uint32_t va, unsigned size, uint32_t value);
// Instruction fetch: guest-physical address and host pointer of the word at va (nullptr host when the
// physical address is not RAM: instruction bus error).
bool TranslateFetch(CpuState& c, uint32_t va, uint32_t* paddr, const uint8_t** host);

}  // namespace strobe::runtime
