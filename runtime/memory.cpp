// SPDX-License-Identifier: MIT
// Soft TLB slow paths: segment rules, the guest TLB walk, the pmap, device dispatch and soft TLB fills.
#include <cstring>

#include "runtime/debug.h"
#include "runtime/runtime.h"
#include "runtime/segments.h"

namespace strobe::runtime {

namespace {
// Make e describe (asid, page of va) -> host page; tags of another page or address space are dropped.
SoftTlbEntry& EntryFor(CpuState& c, uint32_t va, uint8_t* host_page, uint32_t paddr) {
  SoftTlbEntry& e = c.stlb[SoftTlb::IndexOf(va)];
  uint64_t key = c.asid_key | (va & kPageMask);
  if (e.read != key && e.write != key && e.fetch != key) c.soft_tlb->Drop(e);
  e.addend = reinterpret_cast<uintptr_t>(host_page) - (va & kPageMask);
  c.soft_tlb->PaddrOf(e) = paddr & kPageMask;
  return e;
}
}  // namespace

bool Translate(CpuState& c, uint32_t va, Access access, Translation* out) {
  const bool store = access == Access::kWrite;
  const ExcCode tlb_code = store ? ExcCode::TLBS : ExcCode::TLBL;
  if (va >= kKseg0) {
    if (InUserMode(c)) return RaiseAddress(c, store ? ExcCode::AdES : ExcCode::AdEL, va);
    if (va < kKseg2) {  // kseg0 (cached) and kseg1 (uncached) are unmapped windows onto the low 512 MiB
      *out = {UnmappedToPhysical(va), true};
      return true;
    }
  } else if (c.cp0.status & st::ERL) {  // error level: kuseg is an unmapped, uncached identity window
    *out = {va, true};
    return true;
  }
  int i = c.tlb->Find(va, static_cast<uint8_t>(c.cp0.entryhi & 0xFF));
  if (i < 0) return RaiseAddress(c, tlb_code, va, /*refill=*/true);
  const TlbMapping m = MapThrough(c.tlb->at(static_cast<unsigned>(i)), va);
  if (!m.valid) return RaiseAddress(c, tlb_code, va);  // V=0: TLB invalid
  if (store && !m.dirty) return RaiseAddress(c, ExcCode::Mod, va);
  *out = {m.paddr, m.dirty};
  return true;
}

namespace {
// 1, 2 or 4 bytes of host RAM (little-endian, as the guest): each size is one move, where a memcpy of a
// variable size would be a library call on every slow-path access.
uint32_t ReadRam(const uint8_t* p, unsigned size) {
  if (size == 1) return *p;
  if (size == 2) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return h;
  }
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}
void WriteRam(uint8_t* p, unsigned size, uint32_t v) {
  if (size == 1) {
    *p = static_cast<uint8_t>(v);
  } else if (size == 2) {
    const auto h = static_cast<uint16_t>(v);
    std::memcpy(p, &h, 2);
  } else {
    std::memcpy(p, &v, 4);
  }
}
}  // namespace

void LinkSlow(CpuState& c, uint32_t va) {
  Translation t;
  if (Translate(c, va, Access::kRead, &t)) c.cp0.lladdr = t.paddr >> 4;
  c.ll_bit = true;
}

bool LoadSlow(CpuState& c, uint32_t va, unsigned size, uint32_t* value) {
  if (va & (size - 1)) return RaiseAddress(c, ExcCode::AdEL, va);
  Translation t;
  if (!Translate(c, va, Access::kRead, &t)) return false;
  const bool watched = c.debug && c.debug->WatchesPage(va);  // no fast tag: every access comes here
  if (watched && c.debug->CheckAccess(va, size, /*write=*/false)) return Raise(c, ExcCode::DebugStop);
  RamPage page = c.bus->LookupRam(t.paddr);
  if (!page.host) {
    if (!c.bus->IoRead(t.paddr, size, value)) return Raise(c, ExcCode::DBE);
    return true;
  }
  if (watched) {
    *value = ReadRam(page.host + (va & ~kPageMask), size);
    return true;
  }
  SoftTlbEntry& e = EntryFor(c, va, page.host, t.paddr);
  e.read = c.asid_key | (va & kPageMask);
  if (InUnmappedSegment(va)) c.soft_tlb->FillUnmapped(t.paddr & kPageMask, page.host, false, false);
  *value = ReadRam(page.host + (va & ~kPageMask), size);
  return true;
}

bool StoreSlow(CpuState& c, uint32_t va, unsigned size, uint32_t value) {
  if (va & (size - 1)) return RaiseAddress(c, ExcCode::AdES, va);
  const bool watched = c.debug && c.debug->WatchesPage(va);  // no fast tag: every access comes here
  const SoftTlb::BesideCode& bc = c.soft_tlb->beside_code;
  if (!watched && bc.key == (c.asid_key | (va & kPageMask)) && bc.table == c.stlb &&
      !c.code_pages->Overlaps(bc.paddr | (va & ~kPageMask), size)) {
    WriteRam(bc.host + (va & ~kPageMask), size, value);  // data beside code, as last time
    return true;
  }
  Translation t;
  if (!Translate(c, va, Access::kWrite, &t)) return false;
  if (watched && c.debug->CheckAccess(va, size, /*write=*/true)) return Raise(c, ExcCode::DebugStop);
  RamPage page = c.bus->LookupRam(t.paddr);
  if (!page.host) {
    if (!c.bus->IoWrite(t.paddr, size, value)) return Raise(c, ExcCode::DBE);
    return true;
  }
  bool keep_slow = false;
  if (c.code_pages->IsCode(t.paddr)) {
    if (c.code_pages->Overlaps(t.paddr, size)) {  // the store rewrites decoded code: drop the page's code
      c.code_pages->Clear(t.paddr);
      if (c.code_pages->observer) c.code_pages->observer->InvalidateCodePage(t.paddr & kPageMask);
      c.exit_request |= exitreq::kCodeChanged;
    } else {
      keep_slow = true;  // data beside code: write it, but keep checking this page's stores
    }
  }
  if (page.shared) {  // copy-on-write: this VM gets its own copy (the bus drops the old one's mappings)
    page.host = c.bus->RamPageForWrite(t.paddr);
    if (!page.host) return Raise(c, ExcCode::DBE);  // no machine memory left for the copy
  }
  if (watched) {
    WriteRam(page.host + (va & ~kPageMask), size, value);
    return true;
  }
  SoftTlbEntry& e = EntryFor(c, va, page.host, t.paddr);
  e.read = c.asid_key | (va & kPageMask);
  if (!keep_slow) e.write = e.read;
  if (InUnmappedSegment(va))  // keeps a read entry made by a load
    c.soft_tlb->FillUnmapped(t.paddr & kPageMask, page.host, true, !keep_slow);
  if (keep_slow) c.soft_tlb->beside_code = {e.read, c.stlb, page.host, t.paddr & kPageMask};
  WriteRam(page.host + (va & ~kPageMask), size, value);
  return true;
}

bool TranslateFetch(CpuState& c, uint32_t va, uint32_t* paddr, const uint8_t** host) {
  if (va & 3) return RaiseAddress(c, ExcCode::AdEL, va);
  SoftTlbEntry& hit = c.stlb[SoftTlb::IndexOf(va)];
  if (hit.fetch == (c.asid_key | (va & kPageMask))) {
    *paddr = c.soft_tlb->PaddrOf(hit) | (va & ~kPageMask);
    *host = reinterpret_cast<const uint8_t*>(va + hit.addend);
    return true;
  }
  Translation t;
  if (!Translate(c, va, Access::kFetch, &t)) return false;
  RamPage page = c.bus->LookupRam(t.paddr);
  if (!page.host) return Raise(c, ExcCode::IBE);
  SoftTlbEntry& e = EntryFor(c, va, page.host, t.paddr);
  e.fetch = c.asid_key | (va & kPageMask);
  *paddr = t.paddr;
  *host = page.host + (va & ~kPageMask);
  return true;
}

}  // namespace strobe::runtime
