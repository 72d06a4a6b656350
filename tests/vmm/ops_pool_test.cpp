// SPDX-License-Identifier: MIT
// Decoded instructions shared by several VMs (translator/code/ops_pool.h), and the baseline code made from
// them (translator/code/baseline_pool.h): blocks that decoded the same instructions, in any VM, hold one
// copy, and one piece of baseline code; a VM rewriting its code gets its own again while the others keep
// theirs; the last block to go frees the copy. Under every engine, with the VMs running at once.
#include "translator/code/ops_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "tests/support/test_machine.h"

namespace strobe::test {
namespace {
using mips::DecodedInsn;
using mips::Opcode;

std::vector<DecodedInsn> Decoded(const std::vector<uint32_t>& words) {
  std::vector<DecodedInsn> out;
  for (uint32_t w : words) out.push_back(mips::Decode(w));
  return out;
}

TEST(OpsPool, EqualSequencesShareOneCopyUntilTheLastReferenceGoes) {
  code::OpsPool pool;
  const auto add = Decoded({E(Opcode::ADDIU, {.rs = 2, .rt = 2, .imm = 1}), E(Opcode::JR, {.rs = 31}), 0u});
  const auto other = Decoded({E(Opcode::ADDIU, {.rs = 2, .rt = 2, .imm = 2}), E(Opcode::JR, {.rs = 31}), 0u});
  const DecodedInsn* a = pool.Intern(add.data(), 3);
  const DecodedInsn* b = pool.Intern(add.data(), 3);
  const DecodedInsn* c = pool.Intern(other.data(), 3);
  const DecodedInsn* shorter = pool.Intern(add.data(), 2);  // a prefix is another sequence
  ASSERT_TRUE(a && b && c && shorter);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, shorter);
  EXPECT_EQ(a[0].raw, add[0].raw);
  EXPECT_EQ(c[0].raw, other[0].raw);
  code::OpsPoolStats s = pool.stats();
  EXPECT_EQ(s.sequences, 3u);
  EXPECT_EQ(s.references, 4u);
  EXPECT_EQ(s.reused, 1u);
  EXPECT_EQ(s.referenced_bytes, 3 * code::OpsPool::OwnCopyBytes(3) + code::OpsPool::OwnCopyBytes(2));

  pool.Release(a);
  EXPECT_EQ(pool.stats().sequences, 3u) << "b still holds it";
  EXPECT_EQ(b[1].op, Opcode::JR);
  pool.Release(b);
  pool.Release(c);
  pool.Release(shorter);
  s = pool.stats();
  EXPECT_EQ(s.sequences, 0u);
  EXPECT_EQ(s.references, 0u);
  EXPECT_EQ(s.referenced_bytes, 0u);
  // Taken anew after the last release.
  const DecodedInsn* again = pool.Intern(add.data(), 3);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(pool.stats().sequences, 1u);
  EXPECT_EQ(pool.stats().reused, 1u);
  pool.Release(again);
}

TEST(OpsPool, ManySequencesAreFoundAgainAfterTheTableGrows) {
  code::OpsPool pool;
  std::vector<std::vector<DecodedInsn>> seqs;
  std::vector<const DecodedInsn*> held;
  for (uint32_t i = 0; i < 5000; ++i) {
    seqs.push_back(Decoded({E(Opcode::ORI, {.rs = 0, .rt = 4, .imm = i & 0xFFFF}),
                            E(Opcode::ADDIU, {.rs = 4, .rt = 5, .imm = (i * 7) & 0x7FFF})}));
    held.push_back(pool.Intern(seqs.back().data(), 2));
    ASSERT_NE(held.back(), nullptr);
  }
  EXPECT_EQ(pool.stats().sequences, 5000u);
  for (uint32_t i = 0; i < 5000; ++i) {
    EXPECT_EQ(pool.Intern(seqs[i].data(), 2), held[i]) << i;
    EXPECT_EQ(held[i][0].raw, seqs[i][0].raw);
  }
  for (uint32_t i = 0; i < 5000; ++i) {
    pool.Release(held[i]);
    pool.Release(held[i]);
  }
  EXPECT_EQ(pool.stats().sequences, 0u);
}

// 64 blocks of "addiu $v0, $v0, k; addiu $v1, $v1, 1; beq $0, $0, next; nop", run 300 times.
constexpr uint32_t kLoop = 0x1004;
constexpr uint32_t kPatch = 0x3000;
std::vector<uint32_t> SumLoop() {
  std::vector<uint32_t> w = {E(Opcode::ADDIU, {.rs = 0, .rt = 8, .imm = 300})};
  for (uint32_t b = 0; b < 64; ++b) {
    w.push_back(E(Opcode::ADDIU, {.rs = 2, .rt = 2, .imm = b + 1}));
    w.push_back(E(Opcode::ADDIU, {.rs = 3, .rt = 3, .imm = 1}));
    w.push_back(E(Opcode::BEQ, {.rs = 0, .rt = 0, .imm = 1}));
    w.push_back(0u);
  }
  w.push_back(E(Opcode::ADDIU, {.rs = 8, .rt = 8, .imm = 0xFFFF}));
  const uint32_t bne_at = 0x1000 + 4 * static_cast<uint32_t>(w.size());
  w.push_back(E(Opcode::BNE, {.rs = 8, .rt = 0, .imm = ((kLoop - (bne_at + 4)) / 4) & 0xFFFF}));
  w.push_back(0u);
  w.push_back(kWaitWord);
  return w;
}
constexpr uint32_t kSum = 300 * (64 * 65 / 2);

// The guest's own store rewrites the loop's first instruction: "addiu $v0, $v0, 101".
std::vector<uint32_t> Patcher(uint32_t word) {
  return {E(Opcode::LUI, {.rt = 9, .imm = word >> 16}),
          E(Opcode::ORI, {.rs = 9, .rt = 9, .imm = word & 0xFFFF}), E(Opcode::LUI, {.rt = 10, .imm = 0x8000}),
          E(Opcode::SW, {.rs = 10, .rt = 9, .imm = kLoop}), kWaitWord};
}

void RunBoth(TestMachine& a, TestMachine& b) {
  for (TestMachine* m : {&a, &b}) m->cpu().gpr[2] = m->cpu().gpr[3] = 0;
  vmm::VmExit ea = vmm::VmExit::kError, eb = vmm::VmExit::kError;
  std::thread ta([&] { ea = a.Run(0x80001000, uint64_t{1} << 30); });
  std::thread tb([&] { eb = b.Run(0x80001000, uint64_t{1} << 30); });
  ta.join();
  tb.join();
  ASSERT_EQ(ea, vmm::VmExit::kHalted);
  ASSERT_EQ(eb, vmm::VmExit::kHalted);
}

TEST(OpsPool, VmsShareDecodedAndBaselineCodeAndARewriteStaysWithTheVmThatMadeIt) {
  struct Config {
    vmm::Engine engine;
    unsigned opt;
    bool baseline_only;
  } configs[] = {{vmm::Engine::kInterp, 0, false},
                 {vmm::Engine::kTiered, 0, true},
                 {vmm::Engine::kTiered, 0, false},
                 {vmm::Engine::kJit, 0, false},
                 {vmm::Engine::kJit, 1, false}};
  for (const Config& k : configs) {
    SCOPED_TRACE(::testing::Message() << "engine " << static_cast<int>(k.engine) << " opt " << k.opt
                                      << (k.baseline_only ? " baseline" : ""));
    auto pool = std::make_shared<code::OpsPool>();
    auto code_pool = std::make_shared<code::BaselinePool>();
    vmm::Monitor monitor(size_t{256} << 20);
    auto make = [&] {
      return std::make_unique<TestMachine>(16u << 20, 16, &monitor, k.engine, k.opt, runtime::CpuModel::k24Kc,
                                           k.baseline_only, "", pool, code_pool);
    };
    auto a = make(), b = make();
    ASSERT_TRUE(a->booted() && b->booted());
    for (TestMachine* m : {a.get(), b.get()}) {
      m->LoadCode(0x1000, SumLoop());
      m->LoadCode(kPatch, Patcher(E(Opcode::ADDIU, {.rs = 2, .rt = 2, .imm = 101})));
    }
    RunBoth(*a, *b);
    for (TestMachine* m : {a.get(), b.get()}) {
      EXPECT_EQ(m->cpu().gpr[2], kSum);
      EXPECT_EQ(m->cpu().gpr[3], 300u * 64);
    }
    const code::Block* ba = a->vm().code_cache().Find(kLoop);
    const code::Block* bb = b->vm().code_cache().Find(kLoop);
    ASSERT_TRUE(ba && bb);
    EXPECT_EQ(ba->ops.data(), bb->ops.data()) << "one copy of the loop's first block";
    code::OpsPoolStats s = pool->stats();
    EXPECT_GE(s.references, 2u * 66);
    EXPECT_LE(s.sequences * 2, s.references + 2) << "each VM's blocks were decoded into copies of their own";
    if (k.baseline_only) {  // both VMs ran the loop as baseline code: one piece of it
      ASSERT_TRUE(ba->baseline && bb->baseline);
      EXPECT_EQ(ba->baseline_code.get(), bb->baseline_code.get());
      const code::BaselinePoolStats c = code_pool->stats();
      EXPECT_GE(c.references, 2u * 60);
      EXPECT_LE(c.pieces * 2, c.references + 2) << "each VM's blocks were given baseline code of their own";
    }

    // VM b rewrites the loop by a guest store: its blocks there are decoded again, VM a keeps the old ones.
    ASSERT_EQ(b->Run(0x80000000 | kPatch), vmm::VmExit::kHalted);
    RunBoth(*a, *b);
    EXPECT_EQ(a->cpu().gpr[2], kSum);
    EXPECT_EQ(b->cpu().gpr[2], kSum + 300 * 100);
    ba = a->vm().code_cache().Find(kLoop);
    bb = b->vm().code_cache().Find(kLoop);
    ASSERT_TRUE(ba && bb);
    EXPECT_NE(ba->ops.data(), bb->ops.data());
    EXPECT_EQ(ba->ops[0].simm(), 1);
    EXPECT_EQ(bb->ops[0].simm(), 101);
    if (k.baseline_only) {
      ASSERT_TRUE(ba->baseline && bb->baseline);
      EXPECT_NE(ba->baseline_code.get(), bb->baseline_code.get());
    }

    // Each VM's blocks give their references back when it goes.
    b.reset();
    s = pool->stats();
    EXPECT_EQ(s.references, a->vm().code_cache().blocks().size());
    EXPECT_EQ(ba->ops[0].simm(), 1) << "still held by VM a";
    a.reset();
    s = pool->stats();
    EXPECT_EQ(s.references, 0u);
    EXPECT_EQ(s.sequences, 0u);
    EXPECT_EQ(code_pool->stats().references, 0u);
    EXPECT_EQ(code_pool->stats().pieces, 0u);
  }
}

}  // namespace
}  // namespace strobe::test
