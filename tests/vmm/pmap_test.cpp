// SPDX-License-Identifier: MIT
// Machine memory, the pmap and copy-on-write sharing between VMs.
#include "vmm/pmap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "tests/support/test_machine.h"

namespace strobe::test {
namespace {
using mips::Opcode;

TEST(Monitor, AllocatesReleasesAndReusesPages) {
  vmm::Monitor m(size_t{16} << 20);
  uint8_t* a = m.AllocPages(4);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(m.pages_in_use(), 4u);
  a[0] = 0x5A;
  m.Retain(a);
  EXPECT_EQ(m.RefCount(a), 2u);
  m.Release(a);
  EXPECT_EQ(m.pages_in_use(), 4u);
  m.Release(a);
  EXPECT_EQ(m.pages_in_use(), 3u);
  uint8_t* b = m.AllocPages(1);
  EXPECT_EQ(b, a);                                    // the freed page is reused...
  EXPECT_EQ(b[0], 0);                                 // ...and reads as zero
  EXPECT_EQ(m.AllocPages(size_t{1} << 30), nullptr);  // larger than the pool: refused, not a crash
}

// Backing tells pages with memory behind them (in RAM or swap: they may hold data) from pages never
// written or given back (they read as zeros, and snapshots skip them without reading them).
TEST(Monitor, BackingIsWhatWasWrittenAndNotGivenBack) {
  vmm::Monitor m(size_t{16} << 20);
  uint8_t* pages = m.AllocPages(3);
  ASSERT_NE(pages, nullptr);
  pages[4096] = 1;  // the second page is written; the first and third are not
  std::vector<unsigned char> backed;
  m.Backing(&backed);
  const size_t first = m.FrameIndex(pages);
  ASSERT_GE(backed.size(), first + 3);
  EXPECT_FALSE(backed[first]);
  EXPECT_TRUE(backed[first + 1]);
  EXPECT_FALSE(backed[first + 2]);
  m.Release(pages + 4096);  // given back to the host
  m.Backing(&backed);
  EXPECT_FALSE(backed[first + 1]);
}

// Released pages go back to the host together (one madvise per run of adjacent pages): the pages still
// in use beside them keep their data. (AllocatesReleasesAndReusesPages hands out a page whose batch was
// not given back yet.)
TEST(Monitor, ReleasedPagesGoBackInRunsAndTheirNeighboursKeepTheirData) {
  vmm::Monitor m(size_t{16} << 20);
  constexpr size_t kPages = 300;
  uint8_t* pages = m.AllocPages(kPages);
  ASSERT_NE(pages, nullptr);
  for (size_t i = 0; i < kPages; ++i) std::memset(pages + (i << 12), static_cast<int>(i % 251) + 1, 4096);
  // Released out of order: runs of one, two and three pages, with kept pages between them.
  std::vector<size_t> released;
  for (size_t i = 0; i < kPages; ++i)
    if (i % 7 == 1 || i % 7 == 3 || i % 7 == 4 || (i % 7 >= 5)) released.push_back(i);
  for (size_t k = 0; k < released.size(); ++k)
    m.Release(pages + (released[(k * 37) % released.size()] << 12));
  m.GiveBack();
  std::vector<unsigned char> backed;
  m.Backing(&backed);
  const size_t first = m.FrameIndex(pages);
  ASSERT_GE(backed.size(), first + kPages);
  for (size_t i = 0; i < kPages; ++i) {
    const bool was_released = std::find(released.begin(), released.end(), i) != released.end();
    EXPECT_EQ(backed[first + i] != 0, !was_released) << "page " << i;
    if (!was_released) {
      EXPECT_EQ(pages[(i << 12) + 4095], static_cast<uint8_t>(i % 251 + 1)) << "page " << i;
      EXPECT_EQ(pages[i << 12], static_cast<uint8_t>(i % 251 + 1)) << "page " << i;
    }
  }
  EXPECT_EQ(m.pages_in_use(), kPages - released.size());
  uint8_t* again = m.AllocPages(1);  // a page given back, handed out again
  ASSERT_NE(again, nullptr);
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(again[i], 0) << i;
}

TEST(Pmap, PagesOfDifferentMonitorsAreNeverShared) {
  vmm::Monitor m1(size_t{8} << 20), m2(size_t{8} << 20);
  vmm::Pmap a(m1, 1u << 20), b(m2, 1u << 20);
  EXPECT_EQ(vmm::MergeIdenticalPages(a, b), 0u);
  EXPECT_FALSE(a.Lookup(0).shared);
}

TEST(Pmap, TooLargeForThePoolIsNotOk) {
  vmm::Monitor m(size_t{1} << 20);
  vmm::Pmap p(m, 2u << 20);
  EXPECT_FALSE(p.ok());
}

TEST(Pmap, SharedPagesAreCopiedOnWrite) {
  vmm::Monitor m(size_t{64} << 20);
  vmm::Pmap a(m, 1u << 20), b(m, 1u << 20);
  ASSERT_TRUE(a.ok() && b.ok());
  a.PageForWrite(0x3000)[8] = 7;
  b.PageForWrite(0x3000)[8] = 7;
  b.PageForWrite(0x4000)[0] = 1;  // differs from a's zero page: not merged
  const size_t before = m.pages_in_use();
  size_t saved = vmm::MergeIdenticalPages(a, b);
  EXPECT_EQ(saved, 255u);  // every page but 0x4000
  EXPECT_EQ(m.pages_in_use(), before - saved);
  EXPECT_EQ(a.Lookup(0x3000).host, b.Lookup(0x3000).host);
  EXPECT_TRUE(a.Lookup(0x3000).shared);
  EXPECT_NE(a.Lookup(0x4000).host, b.Lookup(0x4000).host);

  uint8_t* own = a.PageForWrite(0x3000);
  own[8] = 9;
  EXPECT_NE(own, b.Lookup(0x3000).host);
  EXPECT_EQ(b.Lookup(0x3000).host[8], 7);  // the other VM still sees the old contents
  EXPECT_FALSE(a.Lookup(0x3000).shared);
  EXPECT_EQ(m.pages_in_use(), before - saved + 1);
}

// Runs body on two VMs sharing one monitor: VM a under the interpreter, then the jit engine at O0 and at O1
// (whose code reuses pages between accesses); VM b always interpreted.
void OnEachEngine(const std::function<void(TestMachine& a, TestMachine& b)>& body) {
  struct Config {
    vmm::Engine engine;
    unsigned opt;
  } configs[] = {{vmm::Engine::kInterp, 0}, {vmm::Engine::kJit, 0}, {vmm::Engine::kJit, 1}};
  for (const Config& k : configs) {
    SCOPED_TRACE(::testing::Message() << "engine " << static_cast<int>(k.engine) << " opt " << k.opt);
    vmm::Monitor monitor(size_t{256} << 20);
    TestMachine a(16u << 20, 16, &monitor, k.engine, k.opt), b(16u << 20, 16, &monitor);
    ASSERT_TRUE(a.booted() && b.booted());
    body(a, b);
  }
}

// Guest stores into a shared page go through the soft TLB's write slow path, which breaks the share; the
// load after the store must see the VM's own copy. Under every engine: translated code must not keep using
// the shared page it found for the first load (the optimising tiers reuse pages between accesses).
TEST(Pmap, GuestStoreBreaksSharingAndOtherVmKeepsItsData) {
  OnEachEngine([](TestMachine& a, TestMachine& b) {
    a.Write32(0x8000, 0x11111111);
    b.Write32(0x8000, 0x11111111);
    // Code: lw $2 from kseg0 0x80008000 (0x80010000 - 0x8000); sw $3 there; lw $4 back; wait.
    const std::vector<uint32_t> code = {
        E(Opcode::LUI, {.rt = 1, .imm = 0x8001}),          E(Opcode::LW, {.rs = 1, .rt = 2, .imm = 0x8000}),
        E(Opcode::ORI, {.rs = 0, .rt = 3, .imm = 0x2222}), E(Opcode::SW, {.rs = 1, .rt = 3, .imm = 0x8000}),
        E(Opcode::LW, {.rs = 1, .rt = 4, .imm = 0x8000}),  kWaitWord};
    a.LoadCode(0x1000, code);
    b.LoadCode(0x1000, code);
    // Run A once so its soft TLB caches the page (and the jit engine translates the code), then share, then
    // run again: the cached fast write path must be gone.
    ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
    a.Write32(0x8000, 0x11111111);
    ASSERT_GT(vmm::MergeIdenticalPages(a.vm().pmap(), b.vm().pmap()), 0u);
    ASSERT_TRUE(a.vm().pmap().Lookup(0x8000).shared);
    // A load elsewhere first, so that the soft TLB holds the shared page for reads when the code runs.
    a.LoadCode(0x2000, {code[0], E(Opcode::LW, {.rs = 1, .rt = 5, .imm = 0x8000}), kWaitWord});
    ASSERT_EQ(a.Run(0x80002000), vmm::VmExit::kHalted);
    ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
    EXPECT_EQ(a.cpu().gpr[2], 0x11111111u);
    EXPECT_EQ(a.cpu().gpr[4], 0x2222u);
    EXPECT_FALSE(a.vm().pmap().Lookup(0x8000).shared);
    EXPECT_EQ(b.Read32(0x8000), 0x11111111u);
  });
}

// The same inside a loop: translated loops keep the page each load reached on the previous pass, and the
// store's slow path on the first pass (breaking the share) must make the next pass look again.
TEST(Pmap, StoreInLoopBreaksSharingForTheLoadsAfterIt) {
  OnEachEngine([](TestMachine& a, TestMachine& b) {
    // lui $1, 0x8001; ori $3, $0, 0x2222; addiu $5, $0, 10; b loop; nop (so every pass runs in the loop's
    // own block); loop: lw $2, -0x8000($1); addu $4, $4, $2; sw $3, -0x8000($1); addiu $5, $5, -1;
    // bne $5, $0, loop; nop; wait
    const std::vector<uint32_t> code = {E(Opcode::LUI, {.rt = 1, .imm = 0x8001}),
                                        E(Opcode::ORI, {.rs = 0, .rt = 3, .imm = 0x2222}),
                                        E(Opcode::ADDIU, {.rs = 0, .rt = 5, .imm = 10}),
                                        E(Opcode::BEQ, {.rs = 0, .rt = 0, .imm = 1}),
                                        0u,  // nop
                                        E(Opcode::LW, {.rs = 1, .rt = 2, .imm = 0x8000}),
                                        E(Opcode::ADDU, {.rs = 4, .rt = 2, .rd = 4}),
                                        E(Opcode::SW, {.rs = 1, .rt = 3, .imm = 0x8000}),
                                        E(Opcode::ADDIU, {.rs = 5, .rt = 5, .imm = 0xFFFF}),
                                        E(Opcode::BNE, {.rs = 5, .rt = 0, .imm = 0xFFFB}),
                                        0u,  // nop
                                        kWaitWord};
    a.LoadCode(0x1000, code);
    b.LoadCode(0x1000, code);
    a.Write32(0x8000, 0x1111);
    b.Write32(0x8000, 0x1111);
    ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);  // translates the loop (jit engines)
    a.Write32(0x8000, 0x1111);
    ASSERT_GT(vmm::MergeIdenticalPages(a.vm().pmap(), b.vm().pmap()), 0u);
    a.LoadCode(0x2000, {code[0], E(Opcode::LW, {.rs = 1, .rt = 6, .imm = 0x8000}), kWaitWord});
    ASSERT_EQ(a.Run(0x80002000), vmm::VmExit::kHalted);  // the soft TLB holds the shared page for reads
    a.cpu().gpr[4] = 0;
    ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
    EXPECT_EQ(a.cpu().gpr[4], 0x1111u + 9 * 0x2222u) << "passes 2-10 read the VM's own copy";
    EXPECT_EQ(b.Read32(0x8000), 0x1111u);
  });
}

// A page holding code and data keeps its stores on the slow path, which remembers the page to write data
// beside the code quickly (SoftTlb::BesideCode). Once the page is shared with another VM, that shortcut
// must be gone: the next store breaks the share instead of writing the other VM's memory.
TEST(Pmap, StoreBesideCodeAfterSharingBreaksTheShare) {
  vmm::Monitor monitor(size_t{256} << 20);
  TestMachine a(16u << 20, 16, &monitor), b(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted() && b.booted());
  // lui $1, 0x8000; sw $3, 0x1800($1); wait   (code at 0x1000, data at 0x1800: one page)
  const std::vector<uint32_t> code = {E(Opcode::LUI, {.rt = 1, .imm = 0x8000}),
                                      E(Opcode::SW, {.rs = 1, .rt = 3, .imm = 0x1800}), kWaitWord};
  a.LoadCode(0x1000, code);
  b.LoadCode(0x1000, code);
  a.cpu().gpr[3] = 0x1111;
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);  // decodes the page; the store writes beside the code
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);  // and again, through the remembered page
  b.Write32(0x1800, 0x1111);
  ASSERT_GT(vmm::MergeIdenticalPages(a.vm().pmap(), b.vm().pmap()), 0u);
  ASSERT_TRUE(a.vm().pmap().Lookup(0x1000).shared);
  a.cpu().gpr[3] = 0x2222;
  ASSERT_EQ(a.Run(0x80001000), vmm::VmExit::kHalted);
  EXPECT_EQ(a.Read32(0x1800), 0x2222u);
  EXPECT_EQ(b.Read32(0x1800), 0x1111u) << "the store went into the shared page";
  EXPECT_FALSE(a.vm().pmap().Lookup(0x1000).shared);
}

}  // namespace
}  // namespace strobe::test
