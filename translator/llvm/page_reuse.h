// SPDX-License-Identifier: MIT
// Page reuse for the lifter's memory accesses (LiftOptions::reuse_pages): a load or store that can tell it
// is on a page an earlier access already reached through the soft TLB uses that page's host addend and
// skips the probe. Two kinds of knowledge:
// - block hints: within a block, the page last reached through a base register (per kind: load or store),
//   valid while the register keeps its value or is stepped by an ADDIU to itself;
// - site slots: in a block that branches back to itself, the page each instruction reached on the previous
//   pass, carried around the loop as SSA values (allocas promoted by mem2reg).
// Both are forgotten whenever a mapping may have changed: after a store's slow path (it may break
// copy-on-write, giving the page and its aliases a new machine page) and after any call into the
// interpreter's handlers (TLB writes, mode changes).
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>

namespace strobe::jit {

// A conditional branch that is usually taken (slow paths, faults and exits are the rare side): the weights
// let LLVM lay the rare side out of line and keep registers for the common one.
void BranchLikely(llvm::IRBuilder<>& b, llvm::Value* cond, llvm::BasicBlock* usual, llvm::BasicBlock* rare);

class PageReuse {
 public:
  // A page reached through the soft TLB: its virtual page (kNoPage when unknown) and host addend.
  struct Hint {
    llvm::Value* page = nullptr;
    llvm::Value* addend = nullptr;
    uint32_t version = 0;  // of the base register when the hint was made
  };

  PageReuse(llvm::IRBuilder<>& b, bool enabled) : b_(b), enabled_(enabled) {}
  bool enabled() const { return enabled_; }

  // Set-up, with the builder in the function's entry block (slots are added before its terminator later).
  void Begin(llvm::Function* fn, llvm::BasicBlock* entry);
  void AddSelfLoop(int64_t block_offset) { self_loops_.insert(block_offset); }

  // Lifting progress.
  void StartBlock(int64_t offset);  // hints are local to a block
  void StartAccess(uint32_t site_offset) { site_ = site_offset; }
  void Wrote(unsigned reg) { ++version_[reg]; }  // a hint made through reg no longer says where it points
  uint32_t Version(unsigned reg) const { return version_[reg]; }
  void SetVersion(unsigned reg, uint32_t v) { version_[reg] = v; }
  void ForgetAll();  // after a call into a handler: at lift time (hints) and at run time (sites)

  // At an access through `base`: if the block or the site knows a page, emit the compare; on a match
  // `access` runs on the host address and control goes to join. The builder is left where the probe
  // starts. Returns the match block (and in *hint what it used), or null when there is nothing to try.
  llvm::BasicBlock* Try(int base, bool store, llvm::Value* va, unsigned size, llvm::BasicBlock* join,
                        const std::function<void(llvm::Value*)>& access, Hint* hint);
  // On the probe's fast path: this site reached `hit`.
  void Remember(const Hint& hit);
  // On a store's slow path, after the runtime call: every site forgets its page.
  void ForgetSites();
  // At the join of an access (builder at its start): block hints after it. `fast` and `same` are the
  // joining blocks whose pages are known (`hit` and `used`); from any other block (slow paths) nothing
  // is known, and after a store's slow path no other hint holds either.
  void Join(int base, bool store, const Hint& hit, llvm::BasicBlock* fast, llvm::BasicBlock* same,
            const Hint& used);

 private:
  struct Slot {
    llvm::AllocaInst* key;  // i64: page | generation << 32
    llvm::AllocaInst* addend;
  };
  static constexpr uint32_t kNoPage = 1;  // no masked address equals it: those have bit 0 clear
  const Slot& SlotOf(uint32_t site);
  llvm::PHINode* Merge(llvm::Type* ty, llvm::Value* known, llvm::Value* unknown, llvm::BasicBlock* a,
                       llvm::BasicBlock* b);

  llvm::IRBuilder<>& b_;
  const bool enabled_;
  llvm::Function* fn_ = nullptr;
  llvm::BasicBlock* entry_ = nullptr;
  llvm::AllocaInst* generation_ = nullptr;           // i64: generation << 32
  std::map<std::pair<unsigned, bool>, Hint> hints_;  // (base register, store)
  uint32_t version_[32] = {};
  std::map<uint32_t, Slot> slots_;  // by the access's page offset
  std::set<int64_t> self_loops_;
  int64_t block_ = 0;
  uint32_t site_ = 0;
};

}  // namespace strobe::jit
