// SPDX-License-Identifier: MIT
// The guest vCPU state: the one description that the interpreter, the runtime and translated code share.
// Offsets that generated code depends on are static_asserted at the bottom of this file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/segments.h"

namespace strobe::runtime {

class SoftTlb;
struct SoftTlbEntry;
class GuestTlb;
class Bus;
class CodePages;
class DebugState;

// MIPS32 exception codes (Cause.ExcCode), MIPS32 Vol. III table 9.31.
enum class ExcCode : uint8_t {
  Int = 0,
  Mod = 1,
  TLBL = 2,
  TLBS = 3,
  AdEL = 4,
  AdES = 5,
  IBE = 6,
  DBE = 7,
  Sys = 8,
  Bp = 9,
  RI = 10,
  CpU = 11,
  Ov = 12,
  Tr = 13,
  FPE = 15,  // Floating-Point exception: FCSR.Cause & (Enables | E)
  // Not architectural: an access reached a debugger's watchpoint and was abandoned before it happened.
  // DeliverException delivers nothing; the run loop stops the VM at that instruction (runtime/debug.h).
  DebugStop = 0x1F,
};

// An exception that an instruction handler has detected but not yet delivered: the dispatcher knows the
// faulting PC and whether it sat in a delay slot, so it finishes the job (runtime::DeliverException).
struct PendingException {
  ExcCode code = ExcCode::Int;
  bool tlb_refill = false;    // TLBL/TLBS from a missing entry (refill vector when EXL=0)
  bool has_badvaddr = false;  // AdEL/AdES/TLB exceptions load BadVAddr
  uint8_t coprocessor = 0;    // Cause.CE for CpU
  uint32_t badvaddr = 0;
};

// Coprocessor 0 as the 24Kc-like core exposes it. Count is not stored: it is derived from the virtual clock.
struct Cp0 {
  uint32_t index = 0;
  uint32_t random = 0;
  uint32_t entrylo0 = 0;
  uint32_t entrylo1 = 0;
  uint32_t context = 0;
  uint32_t pagemask = 0;
  uint32_t wired = 0;
  uint32_t hwrena = 0;
  uint32_t badvaddr = 0;
  uint32_t entryhi = 0;
  uint32_t compare = 0;
  uint32_t status = 0;
  uint32_t intctl = 0;
  uint32_t srsctl = 0;
  uint32_t cause = 0;
  uint32_t epc = 0;
  uint32_t prid = 0;
  uint32_t ebase = 0;
  uint32_t config0 = 0;
  uint32_t config1 = 0;
  uint32_t config2 = 0;
  uint32_t config3 = 0;
  uint32_t config7 = 0;
  uint32_t lladdr = 0;
  uint32_t watchlo = 0;
  uint32_t watchhi = 0;
  uint32_t errorepc = 0;
  uint32_t taglo = 0;
  uint32_t datalo = 0;
  uint32_t userlocal = 0;
  uint32_t errctl = 0;
  // Status bits software may change: CU0, BEV, IM7..0, KSU, ERL, EXL, IE; ResetCpu adds CU1 and FR when the
  // model has an FPU.
  uint32_t status_writable = 0x1040FF1Fu;
  uint32_t count_bias = 0;  // Count = (cycles >> 1) + count_bias; a guest write to Count moves the bias
};

// Status and Cause bits used across the runtime.
namespace st {
inline constexpr uint32_t IE = 1u << 0;
inline constexpr uint32_t EXL = 1u << 1;
inline constexpr uint32_t ERL = 1u << 2;
inline constexpr uint32_t KSU_SHIFT = 3;
inline constexpr uint32_t KSU_MASK = 3u << 3;
inline constexpr uint32_t IM_MASK = 0xFFu << 8;
inline constexpr uint32_t BEV = 1u << 22;
inline constexpr uint32_t CU0 = 1u << 28;
inline constexpr uint32_t CU1 = 1u << 29;
inline constexpr uint32_t FR = 1u << 26;  // 64-bit FPU registers (the 24Kf's FPU is 64-bit: FIR.F64)
}  // namespace st
namespace config3 {
inline constexpr uint32_t ULRI = 1u << 13;  // the UserLocal register is implemented
}  // namespace config3
// RDHWR's register numbers with a meaning beyond the four MIPS32r2 ones.
inline constexpr unsigned kHwrUserLocal = 29;
namespace cause {
inline constexpr uint32_t BD = 1u << 31;
inline constexpr uint32_t TI = 1u << 30;
inline constexpr uint32_t CE_SHIFT = 28;
inline constexpr uint32_t IV = 1u << 23;
inline constexpr uint32_t IP_MASK = 0xFFu << 8;
inline constexpr uint32_t EXC_SHIFT = 2;
}  // namespace cause

// Coprocessor 1 (the FPU, MIPS32 Vol. I-A ch. 6). fpr[i] is 64 bits wide whatever Status.FR says; with
// FR=0 a double lives in the low words of an even/odd pair (fpr[n & ~1] low, fpr[n | 1] high), so the
// kernel can switch FR without the state changing shape. fir is FCR0 (read-only, from the CPU model).
struct FpuState {
  uint64_t fpr[32] = {};
  uint32_t fcsr = 0;  // FCR31
  uint32_t fir = 0;   // FCR0; 0 when the model has no FPU
};

// Why the dispatcher must leave the fast block loop at the next block boundary.
namespace exitreq {
inline constexpr uint32_t kCodeChanged = 1u << 0;  // a store hit a page holding decoded code
inline constexpr uint32_t kIrqCheck = 1u << 1;     // an interrupt may have become deliverable
inline constexpr uint32_t kStop = 1u << 2;         // power-off, reset or a fatal error
inline constexpr uint32_t kWait = 1u << 3;         // WAIT executed: idle until an interrupt
inline constexpr uint32_t kDebug = 1u << 4;        // a breakpoint or watchpoint stopped the VM (debug.h)
// With Status.BEV set, any Status write asks for an interrupt check (UpdateMode): (status >> kBevToIrqCheck)
// & kIrqCheck is that request, as code computes it without a branch.
inline constexpr unsigned kBevToIrqCheck = 21;
static_assert(st::BEV >> kBevToIrqCheck == kIrqCheck);
}  // namespace exitreq

struct CpuState {
  uint32_t gpr[32] = {};
  uint32_t hi = 0;
  uint32_t lo = 0;
  uint32_t pc = 0;  // PC of the next instruction to run (valid between blocks)
  uint32_t exit_request = 0;

  // Soft TLB probe state, kept current by the runtime on mode and ASID changes.
  SoftTlbEntry* stlb = nullptr;  // table for the current privilege mode
  uint64_t asid_key = 0;         // current ASID << 32, or'ed into every soft TLB key

  uint64_t cycles = 0;  // virtual clock: one per retired instruction (plus idle skips)
  // The cycles that retired no instruction (idle skips, faulting fetches), so that the instructions
  // retired are the clock less these: no engine counts them beside the clock (a crossing between
  // translated regions would pay for it).
  uint64_t unretired = 0;
  uint64_t Retired() const { return cycles - unretired; }
  void IdleUntil(uint64_t to) {  // the clock jumps ahead to `to` (if later) without running anything
    if (to > cycles) {
      unretired += to - cycles;
      cycles = to;
    }
  }
  void* code_cache = nullptr;  // the translator's CodeCache, for translated code's chain lookups
  // Translated code chains to other translated code through per-exit caches (code::ChainSite) and a jump
  // cache (code::JumpEntry). An entry holds code that was installed when it was filled, so it is valid while
  // this epoch, which moves when installed code is retired, is unchanged; for a target in a mapped segment it
  // also needs the soft TLB of the current mode and ASID to map the target to the same host page as then
  // (one probe, as a load does). So cached jumps survive ASID switches and TLB writes that leave their pages
  // mapped, and a new process running the same library code at the same address uses the jumps the last one
  // cached. The soft TLB's chain keys (SoftTlb::ChainKey) say without the probe that nothing of that moved
  // since the entry was last checked, which is the usual case.
  uint64_t code_epoch = 1;
  // The soft TLB's kseg0/kseg1 tables (host page by guest-physical page; see SoftTlb), or an all-empty
  // table in user mode, where those segments raise address errors.
  const uintptr_t* unmapped_read = nullptr;
  const uintptr_t* unmapped_write = nullptr;

  FpuState fpu;

  // Delay-slot machinery: a branch handler records its outcome here, the dispatcher applies it after the
  // slot.
  uint32_t branch_target = 0;
  bool branch_taken = false;
  bool ll_bit = false;
  bool erl_mapped = false;      // kernel soft TLB entries for kuseg were filled with ERL=0 (see UpdateMode)
  uint8_t hw_irq = 0;           // board interrupt lines HW0..HW5
  uint64_t timer_deadline = 0;  // cycles at which Count next equals Compare

  PendingException exc;
  Cp0 cp0;

  // Owned elsewhere; the runtime reaches them through these pointers.
  SoftTlb* soft_tlb = nullptr;
  GuestTlb* tlb = nullptr;
  Bus* bus = nullptr;
  CodePages* code_pages = nullptr;

  // Called after every exception or interrupt is delivered (-d int), or null: one predictable branch per
  // exception when off. from_pc: where it was raised; old_epc: EPC before delivery.
  void (*exception_hook)(void* ctx, const CpuState& c, uint32_t from_pc, uint32_t old_epc) = nullptr;
  void* exception_hook_ctx = nullptr;

  // The debugger's breakpoints and watchpoints (runtime/debug.h), or null when none is attached.
  DebugState* debug = nullptr;

  // The guest-physical pages of stlb's entries (SoftTlb::PaddrTable), kept with it: baseline code finds a
  // successor in a mapped page through them (interp/baseline.cpp).
  const uint32_t* stlb_paddr = nullptr;
  // The translator's table of decoded blocks by guest-physical address (code::CodeCache's fast_), which
  // baseline code probes for a successor: each VM's own, where the code is shared between VMs.
  const void* code_blocks = nullptr;
  // The translator's jump cache (code::CodeCache::JumpEntry by target), which translated code probes when
  // an exit's own cache misses.
  const void* jump_cache = nullptr;
  // The tier's thresholds, user code's and kernel code's (Block::kernel), as the dispatcher has them for this
  // slice: baseline code's go-on path stops at a successor whose count reaches one (the interpreter sets
  // them at the start of every slice; the tier may change them, e.g. once user programs run).
  uint32_t hot_threshold[2] = {UINT32_MAX, UINT32_MAX};
};

// Translated code addresses these fields at fixed offsets (translator/llvm/lifter_impl.h takes them with
// offsetof); these asserts pin the layout, so that moving a field is a deliberate change.
static_assert(offsetof(CpuState, gpr) == 0);
static_assert(offsetof(CpuState, hi) == 128);
static_assert(offsetof(CpuState, lo) == 132);
static_assert(offsetof(CpuState, pc) == 136);
static_assert(offsetof(CpuState, exit_request) == 140);
static_assert(offsetof(CpuState, stlb) == 144);
static_assert(offsetof(CpuState, asid_key) == 152);
static_assert(offsetof(CpuState, cycles) == 160);
static_assert(offsetof(CpuState, unretired) == 168);
static_assert(offsetof(CpuState, code_cache) == 176);
static_assert(offsetof(CpuState, code_epoch) == 184);
static_assert(offsetof(CpuState, unmapped_read) == 192);
static_assert(offsetof(CpuState, unmapped_write) == 200);
static_assert(offsetof(CpuState, fpu) == 208);
static_assert(offsetof(CpuState, fpu.fpr) == 208);
static_assert(offsetof(CpuState, fpu.fcsr) == 464);
static_assert(offsetof(CpuState, fpu.fir) == 468);

inline bool InUserMode(const CpuState& c) {
  return (c.cp0.status & (st::EXL | st::ERL | st::KSU_MASK)) == (2u << st::KSU_SHIFT);
}

}  // namespace strobe::runtime
