// SPDX-License-Identifier: MIT
// Exception delivery (MIPS32 Vol. III 6.2): EPC and Cause.BD, the TLB fills of BadVAddr/Context/EntryHi,
// EXL, and the choice of vector from BEV, EBase, EXL and Cause.IV.
#include "runtime/runtime.h"

namespace strobe::runtime {

void DeliverException(CpuState& c, uint32_t pc, bool in_delay_slot) {
  const PendingException& e = c.exc;
  if (e.code == ExcCode::DebugStop) [[unlikely]] {  // a watchpoint: stop before the access, nothing happens
    c.pc = in_delay_slot ? pc - 4 : pc;             // a branch and its slot are one step (debug.h)
    c.exit_request |= exitreq::kDebug;
    return;
  }
  Cp0& r = c.cp0;
  const bool was_exl = (r.status & st::EXL) != 0;
  const uint32_t old_epc = r.epc;

  if (!was_exl) {  // with EXL already set, EPC and BD keep describing the first exception
    r.epc = in_delay_slot ? pc - 4 : pc;
    r.cause = in_delay_slot ? (r.cause | cause::BD) : (r.cause & ~cause::BD);
  }
  uint32_t ce = e.code == ExcCode::CpU ? e.coprocessor : 0;
  r.cause = (r.cause & ~(0x1Fu << cause::EXC_SHIFT) & ~(3u << cause::CE_SHIFT)) |
            (static_cast<uint32_t>(e.code) << cause::EXC_SHIFT) | (ce << cause::CE_SHIFT);

  if (e.has_badvaddr) r.badvaddr = e.badvaddr;
  if (e.code == ExcCode::TLBL || e.code == ExcCode::TLBS || e.code == ExcCode::Mod) {
    uint32_t vpn2 = e.badvaddr & 0xFFFFE000u;
    r.context = (r.context & 0xFF800000u) | (vpn2 >> 9);  // BadVPN2 in bits 22:4
    r.entryhi = vpn2 | (r.entryhi & 0xFF);
  }

  uint32_t base, offset;
  if (r.status & st::BEV) {
    base = 0xBFC00200u;
  } else {
    base = r.ebase & 0xFFFFF000u;
  }
  if (e.tlb_refill && !was_exl) {
    offset = 0x000;
  } else if (e.code == ExcCode::Int && (r.cause & cause::IV)) {
    offset = 0x200;
  } else {
    offset = 0x180;
  }
  r.status |= st::EXL;
  c.pc = base + offset;
  UpdateMode(c);
  if (c.exception_hook) [[unlikely]]
    c.exception_hook(c.exception_hook_ctx, c, pc, old_epc);
}

}  // namespace strobe::runtime
