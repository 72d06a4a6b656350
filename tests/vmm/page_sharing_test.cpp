// SPDX-License-Identifier: MIT
// Content-based page sharing (vmm/page_sharing.h): pages equal across VMs (and within one) are merged at
// boot and, while the VMs run, by the scanner; a store after the merge copies the page, under every engine.
#include "vmm/page_sharing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/test_machine.h"

namespace strobe::test {
namespace {
using mips::Opcode;

void Fill(TestMachine& m, uint32_t paddr, uint32_t seed) {
  for (uint32_t i = 0; i < 4096; i += 4) m.Write32(paddr + i, seed * 2654435761u + i);
}

TEST(PageSharing, MergeStoppedSharesEqualPagesAtAnyAddressAndZeroPages) {
  vmm::Monitor monitor(size_t{256} << 20);
  TestMachine a(16u << 20, 16, &monitor), b(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted() && b.booted());
  Fill(a, 0x20000, 7);
  Fill(b, 0x35000, 7);  // the same bytes at another address
  Fill(a, 0x21000, 8);
  Fill(b, 0x21000, 9);    // differs
  a.Write32(0x60000, 0);  // touched, zero
  b.Write32(0x61000, 5);
  b.Write32(0x61000, 0);
  vmm::PageSharer sharer(monitor, {&a.vm(), &b.vm()});
  ASSERT_TRUE(sharer.ok());
  const vmm::MemoryReport before = vmm::ReportMemory(monitor, {&a.vm(), &b.vm()});
  EXPECT_GT(sharer.MergeStopped(), 0u);
  EXPECT_EQ(a.vm().pmap().Lookup(0x20000).host, b.vm().pmap().Lookup(0x35000).host);
  EXPECT_NE(a.vm().pmap().Lookup(0x21000).host, b.vm().pmap().Lookup(0x21000).host);
  EXPECT_EQ(a.vm().pmap().Lookup(0x60000).host, b.vm().pmap().Lookup(0x61000).host)
      << "both on the zero page";
  EXPECT_TRUE(a.vm().pmap().Lookup(0x60000).shared);
  const vmm::MemoryReport after = vmm::ReportMemory(monitor, {&a.vm(), &b.vm()});
  EXPECT_EQ(after.touched(), before.touched()) << "the guests see every page they had";
  EXPECT_LE(after.machine_pages + 3, before.machine_pages) << "the merged pages went back to the host";
  EXPECT_GE(after.saved(), 3u);

  // Copy on write, from either side.
  b.Write32(0x35004, 0xB0B0);
  EXPECT_NE(a.vm().pmap().Lookup(0x20000).host, b.vm().pmap().Lookup(0x35000).host);
  EXPECT_EQ(a.Read32(0x20004), 7 * 2654435761u + 4);
  EXPECT_EQ(b.Read32(0x35004), 0xB0B0u);
  a.Write32(0x60008, 1);
  EXPECT_EQ(b.Read32(0x61008), 0u);
  EXPECT_EQ(a.Read32(0x60008), 1u);
}

// Both VMs spin on a flag in a page of their own, reading a data page; their code and data pages are
// equal (at different data addresses), so the scanner merges them while the VMs run, code pages included.
// Once merged the flag is set: each VM stores into its data page and must read back its own value, and
// the other VM's page must not change. VM a runs each engine; VM b the interpreter.
TEST(PageSharing, ScannerMergesPagesOfRunningVmsAndTheirStoresCopyThem) {
  struct Config {
    vmm::Engine engine;
    unsigned opt;
  } configs[] = {
      {vmm::Engine::kInterp, 0}, {vmm::Engine::kJit, 0}, {vmm::Engine::kJit, 1}, {vmm::Engine::kTiered, 0}};
  for (const Config& k : configs) {
    SCOPED_TRACE(::testing::Message() << "engine " << static_cast<int>(k.engine) << " opt " << k.opt);
    vmm::Monitor monitor(size_t{256} << 20);
    TestMachine a(16u << 20, 16, &monitor, k.engine, k.opt), b(16u << 20, 16, &monitor);
    ASSERT_TRUE(a.booted() && b.booted());
    // $1: the data page (kseg0), $7: the flag's address, $4: the value to store.
    // loop: lw $2, 0($7); lw $3, 4($1); beq $2, $0, loop; nop; sw $4, 8($1); lw $5, 8($1); lw $6, 12($1);
    // wait
    const std::vector<uint32_t> code = {
        E(Opcode::LW, {.rs = 7, .rt = 2, .imm = 0}),       E(Opcode::LW, {.rs = 1, .rt = 3, .imm = 4}),
        E(Opcode::BEQ, {.rs = 2, .rt = 0, .imm = 0xFFFD}), 0u,
        E(Opcode::SW, {.rs = 1, .rt = 4, .imm = 8}),       E(Opcode::LW, {.rs = 1, .rt = 5, .imm = 8}),
        E(Opcode::LW, {.rs = 1, .rt = 6, .imm = 12}),      kWaitWord};
    for (TestMachine* m : {&a, &b}) m->LoadCode(0x1000, code);
    Fill(a, 0x20000, 3);
    Fill(b, 0x38000, 3);
    a.Write32(0x50000, 0);
    a.Write32(0x50004, 0xA);  // the flag pages differ: never merged
    b.Write32(0x50000, 0);
    b.Write32(0x50004, 0xB);
    a.cpu().gpr[1] = 0x80020000;
    b.cpu().gpr[1] = 0x80038000;
    a.cpu().gpr[7] = b.cpu().gpr[7] = 0x80050000;
    a.cpu().gpr[4] = 0xAAAA;
    b.cpu().gpr[4] = 0xBBBB;
    vmm::PageSharer sharer(monitor, {&a.vm(), &b.vm()});
    vmm::VmExit ea = vmm::VmExit::kError, eb = vmm::VmExit::kError;
    std::thread ta([&] { ea = a.Run(0x80001000, uint64_t{1} << 40); });
    std::thread tb([&] { eb = b.Run(0x80001000, uint64_t{1} << 40); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto merged = [&] {
      return a.vm().pmap().Lookup(0x20000).host == b.vm().pmap().Lookup(0x38000).host &&
             a.vm().pmap().Lookup(0x1000).host == b.vm().pmap().Lookup(0x1000).host;
    };
    while (!(merged() && sharer.Idle()) && std::chrono::steady_clock::now() < deadline) {
      sharer.ScanOnce(1u << 20);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const bool was_merged = merged();
    EXPECT_TRUE(was_merged) << "code and data pages should be merged while the VMs run";
    EXPECT_NE(a.vm().pmap().Lookup(0x50000).host, b.vm().pmap().Lookup(0x50000).host);
    // Release both guests (their flag pages are their own, so a host store is a plain store).
    for (TestMachine* m : {&a, &b}) {
      volatile uint32_t* flag = reinterpret_cast<volatile uint32_t*>(m->vm().pmap().Lookup(0x50000).host);
      *flag = 1;
    }
    ta.join();
    tb.join();
    ASSERT_EQ(ea, vmm::VmExit::kHalted);
    ASSERT_EQ(eb, vmm::VmExit::kHalted);
    EXPECT_EQ(a.cpu().gpr[5], 0xAAAAu);
    EXPECT_EQ(b.cpu().gpr[5], 0xBBBBu);
    EXPECT_EQ(a.cpu().gpr[6], 3 * 2654435761u + 12);
    EXPECT_EQ(a.Read32(0x20008), 0xAAAAu);
    EXPECT_EQ(b.Read32(0x38008), 0xBBBBu);
    EXPECT_NE(a.vm().pmap().Lookup(0x20000).host, b.vm().pmap().Lookup(0x38000).host);
    const vmm::SharingStats s = sharer.stats();
    EXPECT_GE(s.merged, 2u);
    EXPECT_GE(s.batches, 1u);
  }
}

// Pages the guest keeps changing are left alone: a page is merged only once its contents stayed the same
// for a whole sweep. And a VM that has ended gets its merges done by the sharer itself. The scanner speeds up
// while pages arrive or change and drops back to its base rate over settled memory.
TEST(PageSharing, OnlyStablePagesAreMergedAndEndedVmsAreServed) {
  vmm::Monitor monitor(size_t{256} << 20);
  TestMachine a(16u << 20, 16, &monitor), b(16u << 20, 16, &monitor);
  ASSERT_TRUE(a.booted() && b.booted());
  ASSERT_EQ(a.Run(0x80100000), vmm::VmExit::kHalted);  // both VMs have ended (WAIT with interrupts off)
  ASSERT_EQ(b.Run(0x80100000), vmm::VmExit::kHalted);
  Fill(a, 0x20000, 4);
  Fill(b, 0x20000, 5);
  vmm::PageSharer sharer(monitor, {&a.vm(), &b.vm()});
  const vmm::PageSharer::Pass first = sharer.ScanOnce(1u << 20);  // hashes recorded, nothing is stable yet
  EXPECT_EQ(sharer.stats().merged, 0u);
  EXPECT_GT(first.hashed, 0u);
  EXPECT_EQ(first.fresh, first.hashed) << "every page is new to the first sweep";
  EXPECT_EQ(vmm::PageSharer::NextBoost(first, 1), 2u);
  EXPECT_EQ(vmm::PageSharer::NextBoost(first, vmm::PageSharer::kMaxBoost), vmm::PageSharer::kMaxBoost);
  EXPECT_EQ(vmm::PageSharer::NextBoost({}, 4), 4u) << "a skipped pass (a batch in flight) keeps the rate";
  Fill(b, 0x20000, 4);  // now equal to a's, but it just changed
  sharer.ScanOnce(1u << 20);
  ASSERT_TRUE(sharer.Idle());
  EXPECT_NE(a.vm().pmap().Lookup(0x20000).host, b.vm().pmap().Lookup(0x20000).host);
  const vmm::PageSharer::Pass third = sharer.ScanOnce(1u << 20);  // unchanged for a sweep: merged
  ASSERT_TRUE(sharer.Idle());                                     // by the sharer (the VMs have ended)
  EXPECT_EQ(third.fresh, 0u);
  EXPECT_GE(third.merges, 1u);
  EXPECT_EQ(a.vm().pmap().Lookup(0x20000).host, b.vm().pmap().Lookup(0x20000).host)
      << "merged " << sharer.stats().merged << " changed " << sharer.stats().changed << " sweeps "
      << sharer.stats().sweeps << " hashed " << sharer.stats().pages_hashed;
  const vmm::PageSharer::Pass settled = sharer.ScanOnce(1u << 20);
  EXPECT_EQ(settled.fresh, 0u);
  EXPECT_EQ(settled.merges, 0u);
  EXPECT_EQ(vmm::PageSharer::NextBoost(settled, vmm::PageSharer::kMaxBoost), 1u) << "settled memory";
}

}  // namespace
}  // namespace strobe::test
