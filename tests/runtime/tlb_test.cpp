// SPDX-License-Identifier: MIT
// The architectural TLB (MIPS32 Vol. III chapter 4): TLBWI/TLBR/TLBP/TLBWR, refill/invalid/modified
// exceptions and the registers they fill, ASID matching and global entries, large pages, and that TLB
// rewrites are visible at once (the soft TLB in front of it is invalidated).
#include <gtest/gtest.h>

#include <random>

#include "tests/insn/insn_helpers.h"

namespace strobe::test {
namespace {

constexpr uint32_t kP1 = 0x00040000u, kP2 = 0x00050000u;
uint32_t Tlb(Opcode op) {
  return E(op, {});
}

TEST(Tlb, TlbwiTlbrRoundTrip) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().gpr[s0] = kData;
  const uint32_t hi = 0x12348000u | 0x2A, lo0 = EntryLo(0x00345000, true, true, true) | (2u << 3),
                 lo1 = EntryLo(0x00678000, false, true, true), mask = 0x6000;
  Asm code;
  code.Li(t0, 5) << Mtc0(t0, kCp0Index);
  code.Li(t0, hi) << Mtc0(t0, kCp0EntryHi);
  code.Li(t0, lo0) << Mtc0(t0, kCp0EntryLo0);
  code.Li(t0, lo1) << Mtc0(t0, kCp0EntryLo1);
  code.Li(t0, mask) << Mtc0(t0, kCp0PageMask) << Tlb(Opcode::TLBWI);
  code << Mtc0(zero, kCp0EntryHi) << Mtc0(zero, kCp0EntryLo0) << Mtc0(zero, kCp0EntryLo1)
       << Mtc0(zero, kCp0PageMask) << Tlb(Opcode::TLBR) << Mfc0(t1, kCp0EntryHi) << Sw(t1, 0, s0)
       << Mfc0(t1, kCp0EntryLo0) << Sw(t1, 4, s0) << Mfc0(t1, kCp0EntryLo1) << Sw(t1, 8, s0)
       << Mfc0(t1, kCp0PageMask) << Sw(t1, 12, s0) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  ASSERT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.Read32(kDataPa + 0), hi);
  EXPECT_EQ(m.Read32(kDataPa + 4), lo0);
  EXPECT_EQ(m.Read32(kDataPa + 8), lo1);
  EXPECT_EQ(m.Read32(kDataPa + 12), mask);
}

// G is the AND of both EntryLo G bits at write time, and TLBR returns it in both.
TEST(Tlb, GlobalBitIsTheAndOfBothHalves) {
  TestMachine m;
  WriteTlb(m, 3, 0x00800000, EntryLo(kP1, true, true, true), EntryLo(kP2, true, true, false));
  runtime::CpuState& c = m.cpu();
  runtime::WriteCp0(c, kCp0Index, 0, 3);
  runtime::Tlbr(c);
  EXPECT_EQ(c.cp0.entrylo0 & 1, 0u);
  EXPECT_EQ(c.cp0.entrylo1 & 1, 0u);
  WriteTlb(m, 3, 0x00800000, EntryLo(kP1, true, true, true), EntryLo(kP2, true, true, true));
  runtime::WriteCp0(c, kCp0Index, 0, 3);
  runtime::Tlbr(c);
  EXPECT_EQ(c.cp0.entrylo0 & 1, 1u);
  EXPECT_EQ(c.cp0.entrylo1 & 1, 1u);
}

TEST(Tlb, TlbpHitAndMiss) {
  TestMachine m;
  InstallHaltHandlers(m);
  WriteTlb(m, 7, 0x10000000 | 0x11, EntryLo(kP1, true, true), EntryLo(kP2, true, true));
  WriteTlb(m, 9, 0x20000000 | 0x22, EntryLo(kP1, true, true, true), EntryLo(kP2, true, true, true));
  m.cpu().gpr[s0] = kData;
  struct Probe {
    uint32_t entryhi, index;
  } probes[] = {
      {0x10000000 | 0x11, 7},           // exact
      {0x10001000 | 0x11, 7},           // odd page of the same pair
      {0x10000000 | 0x12, 0x80000000},  // other ASID: miss
      {0x10002000 | 0x11, 0x80000000},  // next pair: miss
      {0x20000000 | 0x99, 9},           // global: any ASID
  };
  Asm code;
  for (unsigned i = 0; i < std::size(probes); ++i) {
    code.Li(t0, probes[i].entryhi) << Mtc0(t0, kCp0EntryHi) << Mtc0(zero, kCp0Index) << Tlb(Opcode::TLBP)
                                   << Mfc0(t1, kCp0Index) << Sw(t1, 4 * i, s0);
  }
  code << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  for (unsigned i = 0; i < std::size(probes); ++i) {
    const uint32_t got = m.Read32(kDataPa + 4 * i);
    if (probes[i].index & 0x80000000u) {
      EXPECT_EQ(got >> 31, 1u) << "probe " << i << " should miss";
    } else {
      EXPECT_EQ(got, probes[i].index) << "probe " << i;
    }
  }
}

// TLBWR writes at Random, which stays within [Wired, size - 1]; wired entries survive.
TEST(Tlb, TlbwrUsesRandomAboveWired) {
  TestMachine m;
  InstallHaltHandlers(m);
  for (unsigned i = 0; i < 5; ++i) WriteTlb(m, i, 0x70000000 + (i << 13), EntryLo(kP1, true, true), 0);
  m.cpu().gpr[s0] = kData;
  // Wired = 5; 40 times: EntryHi = 0x40000000 + n*0x2000; (some filler); TLBWR; TLBP; store Index and Random.
  Asm code;
  code << Addiu(t0, zero, 5) << Mtc0(t0, kCp0Wired);
  code.Li(t2, 0x40000000) << Addiu(t3, zero, 40) << Addiu(t4, s0, 0);
  // loop (word 6):
  code << Mtc0(t2, kCp0EntryHi) << Tlb(Opcode::TLBWR) << Tlb(Opcode::TLBP) << Mfc0(t1, kCp0Index)
       << Sw(t1, 0, t4) << Mfc0(t1, kCp0Random) << Sw(t1, 4, t4) << Addiu(t4, t4, 8) << Addiu(t2, t2, 0x2000)
       << Addiu(t3, t3, -1) << Bne(t3, zero, -11) << Nop() << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  ASSERT_EQ(m.cpu().pc, kCode + code.size_bytes());
  bool saw[16] = {};
  for (unsigned n = 0; n < 40; ++n) {
    const uint32_t index = m.Read32(kDataPa + 8 * n), random = m.Read32(kDataPa + 8 * n + 4);
    EXPECT_GE(index, 5u) << n;
    EXPECT_LE(index, 15u) << n;
    EXPECT_GE(random, 5u) << n;
    EXPECT_LE(random, 15u) << n;
    if (index < 16) saw[index] = true;
  }
  int distinct = 0;
  for (bool b : saw) distinct += b;
  EXPECT_GT(distinct, 1) << "Random should not always pick the same entry";
  for (unsigned i = 0; i < 5; ++i)
    EXPECT_EQ(m.cpu().tlb->at(i).entryhi, 0x70000000 + (i << 13)) << "wired " << i;
}

struct FaultResult {
  uint32_t pc, exc, epc, badvaddr, context, entryhi;
};

FaultResult RunFault(TestMachine& m, const Asm& code) {
  EXPECT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  const auto& r = m.cpu().cp0;
  return {m.cpu().pc, ExcCodeOf(m), r.epc, r.badvaddr, r.context, r.entryhi};
}

// A load from a VA with no entry: refill at EBase + 0x000 with EXL = 0, registers filled, ASID kept.
TEST(Tlb, RefillFillsBadVAddrContextEntryHi) {
  for (bool store : {false, true}) {
    SCOPED_TRACE(store ? "store" : "load");
    TestMachine m;
    InstallHaltHandlers(m);
    runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, 0x5A);
    runtime::WriteCp0(m.cpu(), kCp0Context, 0, 0xC0000000);
    Asm code;
    code.Li(t0, 0x00403ABC) << (store ? Sw(t1, 0, t0) : Lw(t1, 0, t0)) << kWaitWord;
    FaultResult r = RunFault(m, code);
    EXPECT_EQ(r.pc, kRefillVector + 4);
    EXPECT_EQ(r.exc, store ? 3u : 2u);
    EXPECT_EQ(r.epc, kCode + 8);
    EXPECT_EQ(r.badvaddr, 0x00403ABCu);
    EXPECT_EQ(r.context, 0xC0002010u) << "PTEBase | BadVPN2 << 4";
    EXPECT_EQ(r.entryhi, 0x0040205Au) << "VPN2 of the address, ASID unchanged";
  }
}

// With EXL already set, a TLB miss goes to the general vector and EPC/BD keep the first exception's values.
TEST(Tlb, RefillWithExlSetUsesGeneralVector) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.cpu().cp0.status = runtime::st::EXL;
  m.cpu().cp0.epc = 0x12345678;
  runtime::UpdateMode(m.cpu());
  Asm code;
  code.Li(t0, 0x00403ABC) << Lw(t1, 0, t0) << kWaitWord;
  FaultResult r = RunFault(m, code);
  EXPECT_EQ(r.pc, kGeneralVector + 4);
  EXPECT_EQ(r.exc, 2u);
  EXPECT_EQ(r.epc, 0x12345678u);
  EXPECT_EQ(r.badvaddr, 0x00403ABCu);
}

// V = 0: TLB Invalid (TLBL/TLBS) at +0x180; D = 0 store: TLB Modified at +0x180; D = 0 loads work.
TEST(Tlb, InvalidAndModifiedExceptions) {
  struct Case {
    const char* text;
    bool store;
    uint32_t va;
    uint32_t exc;  // 0 = no exception
  } cases[] = {
      {"load, even page invalid", false, 0x10000010, 2},
      {"store, even page invalid", true, 0x10000010, 3},
      {"load, odd page clean", false, 0x10001010, 0},
      {"store, odd page clean", true, 0x10001010, 1},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m;
    InstallHaltHandlers(m);
    runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, 0x33);
    WriteTlb(m, 2, 0x10000000 | 0x33, EntryLo(kP1, true, false), EntryLo(kP2, false, true));
    m.Write32(kP2 + 0x10, 0xABCD1234);
    Asm code;
    code.Li(t0, k.va) << (k.store ? Sw(t0, 0, t0) : Lw(t1, 0, t0)) << kWaitWord;
    FaultResult r = RunFault(m, code);
    if (k.exc == 0) {
      EXPECT_EQ(r.pc, kCode + code.size_bytes());
      EXPECT_EQ(m.cpu().gpr[t1], 0xABCD1234u);
      continue;
    }
    EXPECT_EQ(r.pc, kGeneralVector + 4);
    EXPECT_EQ(r.exc, k.exc);
    EXPECT_EQ(r.epc, kCode + 8);
    EXPECT_EQ(r.badvaddr, k.va);
    EXPECT_EQ(r.entryhi, 0x10000000u | 0x33);
    EXPECT_EQ(r.context & 0x007FFFF0u, (k.va & 0xFFFFE000u) >> 9);
    EXPECT_EQ(m.Read32(kP2 + 0x10), 0xABCD1234u) << "nothing stored";
  }
}

// Same VA, two ASIDs, two physical pages; a global entry matches any ASID; an unknown ASID refills.
TEST(Tlb, AsidMatchingAndGlobalEntries) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.Write32(kP1, 0x11111111);
  m.Write32(kP2, 0x22222222);
  m.Write32(kP1 + 0x2000, 0x33333333);
  WriteTlb(m, 1, 0x10000000 | 1, EntryLo(kP1, true, true), EntryLo(kP1 + 0x1000, true, true));
  WriteTlb(m, 2, 0x10000000 | 2, EntryLo(kP2, true, true), EntryLo(kP2 + 0x1000, true, true));
  WriteTlb(m, 3, 0x20000000 | 7, EntryLo(kP1 + 0x2000, true, true, true),
           EntryLo(kP1 + 0x3000, true, true, true));
  Asm code;
  code.Li(t0, 0x10000000) << Lui(t2, 0x2000);
  code << Addiu(t1, zero, 1) << Mtc0(t1, kCp0EntryHi) << Lw(s0, 0, t0) << Lw(s3, 0, t2)  // ASID 1
       << Addiu(t1, zero, 2) << Mtc0(t1, kCp0EntryHi) << Lw(s1, 0, t0) << Lw(s4, 0, t2)  // ASID 2
       << Addiu(t1, zero, 1) << Mtc0(t1, kCp0EntryHi) << Lw(s2, 0, t0)                   // back to 1
       << Addiu(t1, zero, 9) << Mtc0(t1, kCp0EntryHi) << Lw(s5, 0, t2)                   // global, ASID 9
       << Lw(s6, 0, t0) << kWaitWord;                                                    // refill
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 0x11111111u);
  EXPECT_EQ(m.cpu().gpr[s1], 0x22222222u);
  EXPECT_EQ(m.cpu().gpr[s2], 0x11111111u);
  EXPECT_EQ(m.cpu().gpr[s3], 0x33333333u);
  EXPECT_EQ(m.cpu().gpr[s4], 0x33333333u);
  EXPECT_EQ(m.cpu().gpr[s5], 0x33333333u);
  EXPECT_EQ(m.cpu().pc, kRefillVector + 4);
  EXPECT_EQ(m.cpu().cp0.entryhi, 0x10000000u | 9);
}

// 16 KiB, 1 MiB and 16 MiB pages: both halves translate with the in-page offset bits of the big page.
TEST(Tlb, LargePages) {
  struct Case {
    const char* text;
    uint32_t pagemask, vbase, pa_even, pa_odd, offset_even, offset_odd;
  } cases[] = {
      {"16 KiB", 0x00006000, 0x10000000, 0x00040000, 0x00044000, 0x2FF0, 0x3FFC},
      {"1 MiB", 0x001FE000, 0x40000000, 0x00200000, 0x00300000, 0x12344, 0xABCD0},
      {"16 MiB", 0x01FFE000, 0xC0000000, 0x00000000, 0x01000000, 0x00020000 + 0x100, 0x345678},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.text);
    TestMachine m(64u << 20);
    InstallHaltHandlers(m);
    const uint32_t size = ((k.pagemask >> 1) | 0xFFF) + 1;
    WriteTlb(m, 4, k.vbase, EntryLo(k.pa_even, true, true), EntryLo(k.pa_odd, true, true), k.pagemask);
    m.Write32(k.pa_even + k.offset_even, 0xE0E0E0E0);
    m.Write32(k.pa_odd + k.offset_odd, 0x0D0D0D0D);
    Asm code;
    code.Li(t0, k.vbase + k.offset_even) << Lw(s0, 0, t0) << Addiu(t1, s0, 1) << Sw(t1, 4, t0);
    code.Li(t2, k.vbase + size + k.offset_odd)
        << Lw(s1, 0, t2) << Addiu(t3, s1, 1) << Sw(t3, -4, t2) << kWaitWord;
    ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
    ASSERT_EQ(m.cpu().pc, kCode + code.size_bytes()) << "ExcCode " << ExcCodeOf(m);
    EXPECT_EQ(m.cpu().gpr[s0], 0xE0E0E0E0u);
    EXPECT_EQ(m.cpu().gpr[s1], 0x0D0D0D0Du);
    EXPECT_EQ(m.Read32(k.pa_even + k.offset_even + 4), 0xE0E0E0E1u);
    EXPECT_EQ(m.Read32(k.pa_odd + k.offset_odd - 4), 0x0D0D0D0Eu);
    // TLBP finds the entry from any VPN2 inside the pair.
    runtime::WriteCp0(m.cpu(), kCp0EntryHi, 0, (k.vbase + size + k.offset_odd) & 0xFFFFE000u);
    runtime::Tlbp(m.cpu());
    EXPECT_EQ(m.cpu().cp0.index, 4u);
  }
}

// Remapping a VA with TLBWI is visible to the very next access, for loads and stores alike.
TEST(Tlb, RewrittenEntryIsVisibleImmediately) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.Write32(kP1, 0x11111111);
  m.Write32(kP2, 0x22222222);
  WriteTlb(m, 0, 0x10000000, EntryLo(kP1, true, true), 0);
  Asm code;
  code.Li(t0, 0x10000000) << Lw(s0, 0, t0) << Sw(t0, 8, t0) << Lw(s0, 0, t0);  // warm the soft TLB
  code << Mtc0(zero, kCp0Index) << Mtc0(zero, kCp0EntryHi) << Mtc0(zero, kCp0EntryLo1);
  code.Li(t1, EntryLo(kP2, true, true)) << Mtc0(t1, kCp0EntryLo0);
  code.Li(t1, 0x10000000) << Mtc0(t1, kCp0EntryHi) << Tlb(Opcode::TLBWI) << Lw(s1, 0, t0) << Sw(t0, 12, t0);
  // Move the mapping away altogether (entry 0 now maps another VA): the old VA must refill.
  code.Li(t1, 0x30000000) << Mtc0(t1, kCp0EntryHi) << Tlb(Opcode::TLBWI) << Lw(s2, 0, t0) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 0x11111111u);
  EXPECT_EQ(m.cpu().gpr[s1], 0x22222222u);
  EXPECT_EQ(m.Read32(kP1 + 8), 0x10000000u);
  EXPECT_EQ(m.Read32(kP1 + 12), 0u) << "the second store went to the old page";
  EXPECT_EQ(m.Read32(kP2 + 12), 0x10000000u);
  EXPECT_EQ(m.cpu().pc, kRefillVector + 4);
  EXPECT_EQ(m.cpu().cp0.badvaddr, 0x10000000u);
  EXPECT_EQ(m.cpu().gpr[s2], 0u);
}

// Code fetched through the TLB also follows a remap (user code page swapped under the same VA).
TEST(Tlb, InstructionFetchFollowsRemap) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.LoadCode(kP1, {Addiu(s0, s0, 1), Jr(ra), Nop()});
  m.LoadCode(kP2, {Addiu(s0, s0, 100), Jr(ra), Nop()});
  WriteTlb(m, 0, 0x10000000, EntryLo(kP1, true, true), 0);
  Asm code;
  code.Li(t9, 0x10000000) << E(Opcode::JALR, {.rs = t9, .rd = ra}) << Nop();
  code.Li(t1, EntryLo(kP2, true, true))
      << Mtc0(t1, kCp0EntryLo0) << Mtc0(zero, kCp0EntryLo1) << Mtc0(zero, kCp0Index);
  code.Li(t1, 0x10000000) << Mtc0(t1, kCp0EntryHi) << Tlb(Opcode::TLBWI)
                          << E(Opcode::JALR, {.rs = t9, .rd = ra}) << Nop() << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().pc, kCode + code.size_bytes());
  EXPECT_EQ(m.cpu().gpr[s0], 101u);
}

// kseg2 and kseg3 are mapped for the kernel; without an entry they refill.
TEST(Tlb, Kseg2AndKseg3AreMapped) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.Write32(kP1 + 0x44, 0xC2C2C2C2);
  m.Write32(kP2 + 0x88, 0xE3E3E3E3);
  WriteTlb(m, 0, 0xC0000000, EntryLo(kP1, true, true), 0);
  WriteTlb(m, 1, 0xE0000000, EntryLo(kP2, true, true), 0);
  Asm code;
  code.Li(t0, 0xC0000044) << Lw(s0, 0, t0);
  code.Li(t0, 0xE0000088) << Lw(s1, 0, t0);
  code.Li(t0, 0xC0100000) << Lw(s2, 0, t0) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 0xC2C2C2C2u);
  EXPECT_EQ(m.cpu().gpr[s1], 0xE3E3E3E3u);
  EXPECT_EQ(m.cpu().pc, kRefillVector + 4);
  EXPECT_EQ(m.cpu().cp0.badvaddr, 0xC0100000u);
}

// Status.ERL = 1 makes kuseg an unmapped identity window for the kernel; clearing it restores the TLB.
TEST(Tlb, ErlMakesKusegUnmapped) {
  TestMachine m;
  InstallHaltHandlers(m);
  m.Write32(kP1, 0x0E0E0E0E);
  m.Write32(kP2, 0x7F7F7F7F);
  WriteTlb(m, 0, kP1, EntryLo(kP2, true, true), 0);  // VA kP1 -> PA kP2 through the TLB
  m.cpu().cp0.status = runtime::st::ERL;
  runtime::UpdateMode(m.cpu());
  Asm code;
  code.Li(t0, kP1) << Lw(s0, 0, t0) << Mtc0(zero, kCp0Status) << Lw(s1, 0, t0) << kWaitWord;
  ASSERT_EQ(RunCode(m, code), vmm::VmExit::kHalted);
  EXPECT_EQ(m.cpu().gpr[s0], 0x0E0E0E0Eu) << "ERL=1: identity";
  EXPECT_EQ(m.cpu().gpr[s1], 0x7F7F7F7Fu) << "ERL=0: through the TLB";
}

// GuestTlb::Find looks in a bucket by VPN2 plus the big-page entries, not at all 64 entries: it must give
// what the architecture's rule gives for a scan in index order, through rewrites that move entries between
// buckets, page sizes, ASIDs and global entries. Addresses are drawn from a few VPN2s so that matches,
// duplicates and bucket collisions are common.
TEST(Tlb, IndexedLookupAgreesWithLinearScan) {
  std::mt19937 rng(1234);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const uint32_t masks[] = {0, 0, 0, 0x6000u, 0x1E000u, 0x1FFE000u};
  auto addr = [&] { return (pick(24) << 13) * 0x1001u + (pick(2) << 31); };  // spreads over buckets, collides
  runtime::GuestTlb tlb(64);
  std::vector<runtime::TlbEntry> ref(64);
  unsigned checked_hits = 0;
  for (int step = 0; step < 200000; ++step) {
    if (pick(4) == 0) {
      runtime::TlbEntry e;
      e.pagemask = masks[pick(6)];
      e.entryhi = (addr() & ~(e.pagemask | 0x1FFFu)) | pick(4);
      e.global = pick(5) == 0;
      const unsigned i = pick(64);
      tlb.Set(i, e);
      ref[i] = e;
      continue;
    }
    const uint32_t va = addr() | pick(0x2000);
    const uint8_t asid = static_cast<uint8_t>(pick(4));
    int want = -1;
    for (unsigned i = 0; i < 64 && want < 0; ++i) {
      const runtime::TlbEntry& e = ref[i];
      const uint32_t compare = ~(e.pagemask | 0x1FFFu);
      if ((e.entryhi & compare) == (va & compare) && (e.global || (e.entryhi & 0xFF) == asid))
        want = static_cast<int>(i);
    }
    ASSERT_EQ(tlb.Find(va, asid), want)
        << std::hex << "va " << va << " asid " << unsigned{asid} << " step " << std::dec << step;
    checked_hits += want >= 0;
  }
  EXPECT_GT(checked_hits, 10000u);  // the draw really exercises matches
}

}  // namespace
}  // namespace strobe::test
