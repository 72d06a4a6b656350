// SPDX-License-Identifier: MIT
// Architectural TLB: matching rules and the TLBR/TLBWI/TLBWR/TLBP/ERET instructions (MIPS32 Vol. III 4.x).
#include "runtime/tlb.h"

#include "runtime/runtime.h"

namespace strobe::runtime {

namespace {
// Bits of a VPN2 compared for an entry: the VPN2 bits above the page-pair size.
uint32_t Vpn2CompareMask(uint32_t pagemask) {
  return ~(pagemask | 0x1FFFu);
}

void FlushEntry(CpuState& c, const TlbEntry& e) {
  uint32_t begin, end;
  GuestTlb::Range(e, &begin, &end);
  c.soft_tlb->FlushRange(begin, end);
}

void WriteEntry(CpuState& c, unsigned index) {
  const TlbEntry& old = c.tlb->at(index);
  // Whatever the old entry let the soft TLB cache is gone, and with it every cached jump (ChainSite) into
  // its pages: they are checked against the soft TLB.
  FlushEntry(c, old);
  TlbEntry e;
  e.pagemask = c.cp0.pagemask & 0x1FFFE000u;
  e.entryhi = c.cp0.entryhi & ~(e.pagemask | 0x1F00u);  // VPN2 below the page size is not stored
  e.entrylo[0] = c.cp0.entrylo0;
  e.entrylo[1] = c.cp0.entrylo1;
  e.global = DecodeEntryLo(c.cp0.entrylo0).global && DecodeEntryLo(c.cp0.entrylo1).global;
  c.tlb->Set(index, e);
  FlushEntry(c, e);  // and so is any soft entry the new mapping overrides (a 4 KiB fill under a big page)
}
}  // namespace

void GuestTlb::Set(unsigned i, const TlbEntry& e) {
  const uint64_t bit = uint64_t{1} << i;
  SetOf(entries_[i]) &= ~bit;
  entries_[i] = e;
  SetOf(entries_[i]) |= bit;
}

int GuestTlb::Find(uint32_t va, uint8_t asid) const {
  for (uint64_t candidates = buckets_[BucketOf(va)] | big_; candidates; candidates &= candidates - 1) {
    const unsigned i = static_cast<unsigned>(__builtin_ctzll(candidates));
    const TlbEntry& e = entries_[i];
    if (((e.entryhi ^ va) & Vpn2CompareMask(e.pagemask)) == 0 && (e.global || (e.entryhi & 0xFF) == asid))
      return static_cast<int>(i);
  }
  return -1;
}

void GuestTlb::Range(const TlbEntry& e, uint32_t* begin, uint32_t* end) {
  const uint32_t span = 2 * HalfPageSize(e);  // both halves of the pair
  *begin = e.entryhi & Vpn2CompareMask(e.pagemask);
  *end = *begin + span;  // wraps to 0 for the top pair: FlushRange treats end as exclusive modulo 2^32
}

// TLBR: read the entry at Index into EntryHi, EntryLo0/1 and PageMask.
void Tlbr(CpuState& c) {
  unsigned i = (c.cp0.index & 0x3F) % c.tlb->size();
  const TlbEntry& e = c.tlb->at(i);
  uint32_t g = e.global ? 1 : 0;
  c.cp0.pagemask = e.pagemask;
  c.cp0.entrylo0 = (e.entrylo[0] & ~1u) | g;
  c.cp0.entrylo1 = (e.entrylo[1] & ~1u) | g;
  WriteCp0(c, 10, 0, e.entryhi);  // through WriteCp0 so the ASID key follows
}

void Tlbwi(CpuState& c) {
  WriteEntry(c, (c.cp0.index & 0x3F) % c.tlb->size());
}

void Tlbwr(CpuState& c) {
  WriteEntry(c, ReadCp0(c, 1, 0));
}

// TLBP: probe for EntryHi's VPN2/ASID; Index gets the match or P (bit 31) on a miss.
void Tlbp(CpuState& c) {
  const uint32_t hi = c.cp0.entryhi;
  const int i = c.tlb->Find(hi, static_cast<uint8_t>(hi & 0xFF));
  if (i >= 0) {
    c.cp0.index = static_cast<uint32_t>(i);
  } else {
    c.cp0.index |= 0x80000000u;
  }
}

// ERET: return from exception or error level; clears the LL bit so an interrupted ll/sc pair fails.
void Eret(CpuState& c) {
  if (c.cp0.status & st::ERL) {
    c.pc = c.cp0.errorepc;
    c.cp0.status &= ~st::ERL;
  } else {
    c.pc = c.cp0.epc;
    c.cp0.status &= ~st::EXL;
  }
  c.ll_bit = false;
  UpdateMode(c);
}

}  // namespace strobe::runtime
