// SPDX-License-Identifier: MIT
#include "translator/llvm/page_reuse.h"

#include <llvm/IR/CFG.h>
#include <llvm/IR/MDBuilder.h>

#include "runtime/soft_tlb.h"

namespace strobe::jit {

void PageReuse::Begin(llvm::Function* fn, llvm::BasicBlock* entry) {
  fn_ = fn;
  entry_ = entry;
  if (!enabled_) return;
  generation_ = b_.CreateAlloca(b_.getInt64Ty(), nullptr, "page_generation");
  b_.CreateStore(b_.getInt64(0), generation_);
}

void PageReuse::StartBlock(int64_t offset) {
  block_ = offset;
  hints_.clear();  // their values are defined in the block that made them
}

void PageReuse::ForgetAll() {
  hints_.clear();
  ForgetSites();
}

void BranchLikely(llvm::IRBuilder<>& b, llvm::Value* cond, llvm::BasicBlock* usual, llvm::BasicBlock* rare) {
  b.CreateCondBr(cond, usual, rare, llvm::MDBuilder(b.getContext()).createLikelyBranchWeights());
}

const PageReuse::Slot& PageReuse::SlotOf(uint32_t site) {
  auto it = slots_.find(site);
  if (it != slots_.end()) return it->second;
  llvm::IRBuilder<> eb(entry_->getTerminator());
  Slot slot{eb.CreateAlloca(eb.getInt64Ty()), eb.CreateAlloca(eb.getInt64Ty())};
  eb.CreateStore(eb.getInt64(~uint64_t{0}), slot.key);  // matches no key: those have bit 0 clear
  eb.CreateStore(eb.getInt64(0), slot.addend);
  return slots_.emplace(site, slot).first->second;
}

llvm::BasicBlock* PageReuse::Try(int base, bool store, llvm::Value* va, unsigned size, llvm::BasicBlock* join,
                                 const std::function<void(llvm::Value*)>& access, Hint* hint) {
  if (!enabled_ || base < 0) return nullptr;
  auto it = hints_.find({static_cast<unsigned>(base), store});
  const bool block_hint = it != hints_.end() && it->second.version == version_[base];
  // A block hint holds only while the base register keeps its value: a register loaded with another
  // pointer would rarely match, and the probe it then needs would sit on the out-of-line path. Site slots
  // only in self-loops: measured over every loop head, the extra live values cost more than they saved.
  if (!block_hint && !self_loops_.count(block_)) return nullptr;
  auto* same = llvm::BasicBlock::Create(b_.getContext(), store ? "st_same_page" : "ld_same_page", fn_);
  auto* probe = llvm::BasicBlock::Create(b_.getContext(), store ? "st_probe" : "ld_probe", fn_);
  llvm::Value* masked = b_.CreateAnd(va, b_.getInt32(runtime::kPageMask | (size - 1)));
  if (block_hint) {
    *hint = it->second;
    BranchLikely(b_, b_.CreateICmpEQ(masked, hint->page), same, probe);
    b_.SetInsertPoint(same);
  } else {  // the page this instruction reached on the loop's last pass; random accesses miss: no weights
    const Slot& slot = SlotOf(site_);
    llvm::Value* key =
        b_.CreateOr(b_.CreateZExt(masked, b_.getInt64Ty()), b_.CreateLoad(b_.getInt64Ty(), generation_));
    b_.CreateCondBr(b_.CreateICmpEQ(key, b_.CreateLoad(b_.getInt64Ty(), slot.key)), same, probe);
    b_.SetInsertPoint(same);
    *hint = {b_.CreateAnd(va, b_.getInt32(runtime::kPageMask)), b_.CreateLoad(b_.getInt64Ty(), slot.addend),
             version_[base]};
  }
  access(b_.CreateIntToPtr(b_.CreateAdd(b_.CreateZExt(va, b_.getInt64Ty()), hint->addend), b_.getPtrTy()));
  b_.CreateBr(join);
  b_.SetInsertPoint(probe);
  return same;
}

void PageReuse::Remember(const Hint& hit) {
  if (!enabled_ || !self_loops_.count(block_)) return;
  const Slot& slot = SlotOf(site_);
  llvm::Value* gen = b_.CreateLoad(b_.getInt64Ty(), generation_);
  b_.CreateStore(b_.CreateOr(b_.CreateZExt(hit.page, b_.getInt64Ty()), gen), slot.key);
  b_.CreateStore(hit.addend, slot.addend);
}

void PageReuse::ForgetSites() {
  if (!enabled_) return;
  llvm::Value* gen = b_.CreateLoad(b_.getInt64Ty(), generation_);
  b_.CreateStore(b_.CreateAdd(gen, b_.getInt64(uint64_t{1} << 32)), generation_);
}

// A phi at the current block: `known` from blocks a and b, `unknown` from every other predecessor.
llvm::PHINode* PageReuse::Merge(llvm::Type* ty, llvm::Value* known, llvm::Value* unknown, llvm::BasicBlock* a,
                                llvm::BasicBlock* b) {
  llvm::PHINode* phi = b_.CreatePHI(ty, 4);
  for (llvm::BasicBlock* pred : llvm::predecessors(b_.GetInsertBlock())) {
    if (phi->getBasicBlockIndex(pred) >= 0) continue;
    phi->addIncoming(pred == a || pred == b ? known : unknown, pred);
  }
  return phi;
}

void PageReuse::Join(int base, bool store, const Hint& hit, llvm::BasicBlock* fast, llvm::BasicBlock* same,
                     const Hint& used) {
  if (!enabled_) return;
  if (store) {  // only the fast paths keep the other hints
    for (auto& [key, h] : hints_) {
      h.page = Merge(b_.getInt32Ty(), h.page, b_.getInt32(kNoPage), fast, same);
      h.addend = Merge(b_.getInt64Ty(), h.addend, b_.getInt64(0), fast, same);
    }
  }
  if (base < 0) return;
  llvm::PHINode* page = Merge(b_.getInt32Ty(), hit.page, b_.getInt32(kNoPage), fast, nullptr);
  llvm::PHINode* addend = Merge(b_.getInt64Ty(), hit.addend, b_.getInt64(0), fast, nullptr);
  if (same) {  // the match block brings the page it used
    page->setIncomingValueForBlock(same, used.page);
    addend->setIncomingValueForBlock(same, used.addend);
  }
  hints_[{static_cast<unsigned>(base), store}] = {page, addend, version_[base]};
}

}  // namespace strobe::jit
