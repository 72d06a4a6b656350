// SPDX-License-Identifier: MIT
#include "vmm/debug/vm_target.h"

#include <algorithm>

#include "runtime/runtime.h"

namespace strobe::vmm::gdb {

namespace {
// FCSR bits software may write (QEMU's 24Kf: not 22:18), as CTC1 31 does.
constexpr uint32_t kFcsrWritable = 0xFF83FFFFu;
}  // namespace

bool VmTarget::ReadRegister(unsigned n, uint32_t* value) {
  const runtime::CpuState& c = vm_.cpu();
  const bool fpu = c.fpu.fir != 0;
  *value = 0;
  if (n < 32) {
    *value = c.gpr[n];
  } else if (n >= reg::kFpr0 && n < reg::kFpr0 + 32) {
    // FPR n is the low word of fpr[n] whatever Status.FR says: with FR=0 that is the single register n
    // (a double's halves are fpr[even] and fpr[odd]); with FR=1 gdb's 32-bit layout has room for no more.
    if (fpu) *value = static_cast<uint32_t>(c.fpu.fpr[n - reg::kFpr0]);
  } else {
    switch (n) {
      case reg::kStatus: *value = c.cp0.status; break;
      case reg::kLo: *value = c.lo; break;
      case reg::kHi: *value = c.hi; break;
      case reg::kBadVAddr: *value = c.cp0.badvaddr; break;
      case reg::kCause: *value = c.cp0.cause; break;
      case reg::kPc: *value = c.pc; break;
      case reg::kFcsr: *value = fpu ? c.fpu.fcsr : 0; break;
      case reg::kFir: *value = c.fpu.fir; break;
      case reg::kPrid: *value = c.cp0.prid; break;
      default:
        if (n > reg::kLast) return false;
        break;  // fp and the embedded registers read 0, as on QEMU
    }
  }
  return true;
}

bool VmTarget::WriteRegister(unsigned n, uint32_t value) {
  runtime::CpuState& c = vm_.cpu();
  const bool fpu = c.fpu.fir != 0;
  if (n < 32) {
    if (n != 0) c.gpr[n] = value;
    return true;
  }
  if (n >= reg::kFpr0 && n < reg::kFpr0 + 32) {
    uint64_t& f = c.fpu.fpr[n - reg::kFpr0];
    if (fpu) f = (f & 0xFFFFFFFF00000000ull) | value;
    return true;
  }
  switch (n) {
    case reg::kStatus: runtime::WriteCp0(c, 12, 0, value); break;  // the writable bits, and the mode
    case reg::kLo: c.lo = value; break;
    case reg::kHi: c.hi = value; break;
    case reg::kBadVAddr: c.cp0.badvaddr = value; break;
    case reg::kCause: runtime::WriteCp0(c, 13, 0, value); break;  // IP1:0, IV, WP as software may
    case reg::kPc: c.pc = value & ~1u; break;                     // bit 0 would be MIPS16: not here
    case reg::kFcsr:
      if (fpu) c.fpu.fcsr = (value & kFcsrWritable) | (c.fpu.fcsr & ~kFcsrWritable);
      break;
    default:
      if (n > reg::kLast) return false;
      break;  // FIR, fp, PRId and the embedded registers are read-only: ignored, as on QEMU
  }
  return true;
}

bool VmTarget::Translate(uint32_t va, uint32_t* paddr) {
  runtime::CpuState& c = vm_.cpu();
  const runtime::PendingException saved = c.exc;  // Translate records a fault there; nothing else changes
  runtime::Translation t;
  const bool ok = runtime::Translate(c, va, runtime::Access::kRead, &t);
  c.exc = saved;
  *paddr = t.paddr;
  return ok;
}

// Page by page (each may translate elsewhere), until a page cannot be reached: the bytes done.
template <typename Access>
size_t VmTarget::ByPage(uint32_t addr, size_t size, Access access) {
  size_t done = 0;
  while (done < size) {
    const uint32_t va = addr + static_cast<uint32_t>(done);
    const size_t n = std::min<size_t>(size - done, runtime::kPageSize - (va & ~runtime::kPageMask));
    uint32_t paddr;
    if (!Translate(va, &paddr) || !access(paddr, done, n)) break;
    done += n;
  }
  return done;
}

size_t VmTarget::ReadMemory(uint32_t addr, uint8_t* out, size_t size) {
  return ByPage(addr, size, [&](uint32_t paddr, size_t at, size_t n) {
    return vm_.guest_memory().Read(paddr, out + at, n);  // RAM only: a device read may have side effects
  });
}

size_t VmTarget::WriteMemory(uint32_t addr, const uint8_t* data, size_t size) {
  return ByPage(addr, size, [&](uint32_t paddr, size_t at, size_t n) {
    return vm_.guest_memory().Write(paddr, data + at, n);  // as a guest store: code dropped, COW broken
  });
}

bool VmTarget::InsertPoint(BreakType type, uint32_t addr, uint32_t len) {
  runtime::DebugState& d = vm_.debug_state();
  switch (type) {
    case BreakType::kSoftware:
    case BreakType::kHardware:
      // A new breakpoint offset: code built across it (blocks, translated regions) is dropped, so the
      // engines rebuild it with a block boundary there (runtime/debug.h).
      if (d.AddBreakpoint(addr)) {
        vm_.code_cache().DropCodeSpanning(addr);
        vm_.code_cache().DropCodeSpanning(addr - 4);
      }
      if (type == BreakType::kHardware) {
        hardware_.insert(addr);
      } else {
        hardware_.erase(addr);
      }
      return true;
    case BreakType::kWrite:
    case BreakType::kRead:
    case BreakType::kAccess: {
      const uint8_t kinds = type == BreakType::kWrite  ? runtime::kWatchWrite
                            : type == BreakType::kRead ? runtime::kWatchRead
                                                       : runtime::kWatchRead | runtime::kWatchWrite;
      if (uint64_t{addr} + len > 0x100000000ull) return false;
      d.AddWatch({addr, len, kinds});
      vm_.cpu().soft_tlb->FlushAll();  // the page's fast read/write tags go: its accesses come to the check
      return true;
    }
  }
  return false;
}

bool VmTarget::RemovePoint(BreakType type, uint32_t addr, uint32_t len) {
  runtime::DebugState& d = vm_.debug_state();
  switch (type) {
    case BreakType::kSoftware:
    case BreakType::kHardware: hardware_.erase(addr); return d.RemoveBreakpoint(addr);
    case BreakType::kWrite: return d.RemoveWatch(addr, len, runtime::kWatchWrite);
    case BreakType::kRead: return d.RemoveWatch(addr, len, runtime::kWatchRead);
    case BreakType::kAccess: return d.RemoveWatch(addr, len, runtime::kWatchRead | runtime::kWatchWrite);
  }
  return false;
}

void VmTarget::RemoveAll() {
  vm_.debug_state().Clear();
  hardware_.clear();
}

}  // namespace strobe::vmm::gdb
