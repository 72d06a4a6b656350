// SPDX-License-Identifier: MIT
#include "translator/code/code_cache.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "runtime/debug.h"

namespace strobe::code {

using mips::DecodedInsn;
using mips::Opcode;

namespace {
uint32_t ReadWord(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;  // the host is little-endian, like the guest
}
}  // namespace

CodeCache::CodeCache(runtime::CpuState& cpu, OpsPool* ops_pool, BaselinePool* baseline_pool)
    : c_(cpu),
      own_baseline_pool_(baseline_pool ? nullptr : std::make_unique<BaselinePool>()),
      baseline_pool_(baseline_pool ? baseline_pool : own_baseline_pool_.get()),
      ops_pool_(ops_pool) {
  c_.code_blocks = fast_;
  c_.jump_cache = jump_;
  c_.code_pages->observer = this;
  c_.code_cache = this;
}

void BlockTable::Place(Block* b) {
  size_t i = Home(b->paddr);
  while (slots_[i]) i = (i + 1) & mask_;
  slots_[i] = b;
}

void BlockTable::Insert(Block* b) {
  if (2 * (size_ + 1) > slots_.size()) Grow();
  Place(b);
  ++size_;
}

Block* BlockTable::Erase(uint32_t paddr) {
  if (slots_.empty()) return nullptr;
  size_t gap = Home(paddr);
  while (slots_[gap] && slots_[gap]->paddr != paddr) gap = (gap + 1) & mask_;
  Block* found = slots_[gap];
  if (!found) return nullptr;
  slots_[gap] = nullptr;
  --size_;
  // Close the gap: a later block of the probe run moves into it unless its home lies cyclically in
  // (gap, j], where a lookup for it stops before reaching the gap.
  for (size_t j = (gap + 1) & mask_; slots_[j]; j = (j + 1) & mask_) {
    const size_t home = Home(slots_[j]->paddr);
    const bool stays = gap <= j ? (gap < home && home <= j) : (gap < home || home <= j);
    if (stays) continue;
    slots_[gap] = slots_[j];
    slots_[j] = nullptr;
    gap = j;
  }
  return found;
}

void BlockTable::Grow() {
  std::vector<Block*> old = std::move(slots_);
  const size_t n = old.empty() ? 1024 : 2 * old.size();
  slots_.assign(n, nullptr);
  mask_ = n - 1;
  bits_ = static_cast<unsigned>(std::countr_zero(n));
  for (Block* b : old)
    if (b) Place(b);
}

std::vector<Block*> BlockTable::TakeAll() {
  std::vector<Block*> out;
  out.reserve(size_);
  for (Block*& b : slots_)
    if (b) {
      out.push_back(b);
      b = nullptr;
    }
  size_ = 0;
  return out;
}

CodeCache::~CodeCache() {
  for (Block* b : blocks_.TakeAll()) FreeBlock(b);
  if (c_.code_pages->observer == this) c_.code_pages->observer = nullptr;
  if (c_.code_cache == this) c_.code_cache = nullptr;
  if (c_.code_blocks == fast_) c_.code_blocks = nullptr;
  if (c_.jump_cache == jump_) c_.jump_cache = nullptr;
}

void BlockDeleter::operator()(Block* b) const {
  cache->FreeBlock(b);
}

void CodeCache::FreeBlock(Block* b) {
  const std::span<const DecodedInsn> ops = b->ops;
  baseline_bytes_ -= BaselinePool::OwnCopyBytes(b->baseline_code.size());
  b->~Block();  // its baseline code first: the pool's key names its instructions
  if (ops_pool_) {
    ops_pool_->Release(ops.data());
    pooled_ops_bytes_ -= OpsPool::OwnCopyBytes(static_cast<uint32_t>(ops.size()));
  } else {
    ops_arena_.Free(const_cast<DecodedInsn*>(ops.data()), ops.size_bytes());
  }
  block_arena_.Free(b, sizeof(Block));
}

Block* CodeCache::Build(uint32_t paddr, const uint8_t* host) {
  const uint32_t room = (runtime::kPageSize - (paddr & ~runtime::kPageMask)) / 4;
  const uint32_t limit = std::min(room, kMaxBlockInsns);
  DecodedInsn ops[kMaxBlockInsns];
  uint32_t n = 0;
  BlockEnd end = BlockEnd::kFallThrough;
  const runtime::DebugState* debug = c_.debug;
  for (uint32_t i = 0; i < limit; ++i) {
    // A debugger's breakpoint offsets start blocks, so the dispatcher sees every breakpoint address.
    if (i > 0 && debug && debug->SplitsAt(paddr + 4 * i)) [[unlikely]]
      break;
    DecodedInsn d = mips::Decode(ReadWord(host + 4 * i));
    // A branch with its delay slot must fit in the block: one that would be its 129th instruction starts
    // the next block instead (it once wrote past `ops`, on the stack).
    if ((d.flags & mips::kBranch) && i + 1 < room && n + 2 > kMaxBlockInsns) break;
    ops[n++] = d;
    if (d.flags & mips::kBranch) {
      if (i + 1 < room) {
        ops[n++] = mips::Decode(ReadWord(host + 4 * (i + 1)));
        end = BlockEnd::kBranch;
      } else {
        end = BlockEnd::kBranchSplit;
      }
      break;
    }
    if ((d.flags & mips::kEndsBlock) || d.op == Opcode::kInvalid) {
      end = BlockEnd::kEndsBlock;
      break;
    }
  }
  // A piece for the block and one for its instructions. The host being out of memory ends the run (no
  // exception may unwind through translated code, which may have asked for this block).
  // With a pool the instructions are the pool's, shared with every block (of any VM) that decoded the same.
  void* block_room = block_arena_.Alloc(sizeof(Block));
  const DecodedInsn* ops_room = nullptr;
  if (ops_pool_) {
    ops_room = ops_pool_->Intern(ops, n);
    pooled_ops_bytes_ += OpsPool::OwnCopyBytes(n);
  } else if (auto* own = static_cast<DecodedInsn*>(ops_arena_.Alloc(n * sizeof(DecodedInsn)))) {
    ops_room = std::uninitialized_copy_n(ops, n, own) - n;
  }
  if (!block_room || !ops_room) [[unlikely]] {
    std::fflush(stdout);
    std::fprintf(stderr, "strobe: the host has no memory left for decoded code\n");
    std::_Exit(1);
  }
  Block* b = new (block_room) Block;
  b->paddr = paddr;
  b->end = end;
  b->ops = {ops_room, n};
  b->size = static_cast<uint16_t>(b->ops.size());
  c_.code_pages->Mark(paddr, 4u * b->size, *c_.soft_tlb);
  switch (b->end) {
    case BlockEnd::kFallThrough: b->body = b->size; break;
    case BlockEnd::kBranch: b->body = b->size - 2; break;
    default: b->body = b->size - 1; break;
  }
  by_page_[paddr & runtime::kPageMask].push_back(b);
  blocks_.Insert(b);
  ++stats_.blocks_built;
  b->native = EntryFor(paddr, &b->native_frame);
  return b;
}

Block* CodeCache::Find(uint32_t paddr) const {
  // The interpreter's direct-mapped table first: the link helper asks here on every chain miss.
  if (Block* slot = FastSlot(paddr); slot && slot->paddr == paddr) return slot;
  return blocks_.Find(paddr);
}

Block* CodeCache::At(uint32_t paddr) {
  if (Block* b = Find(paddr)) return b;
  runtime::RamPage page = c_.bus->LookupRam(paddr);
  if (!page.host || (paddr & 3)) return nullptr;
  return Build(paddr, page.host + (paddr & ~runtime::kPageMask));
}

Block* CodeCache::LookupSlow(uint32_t paddr, const uint8_t* host, bool* built, Block** slot) {
  Block* b = blocks_.Find(paddr);
  *built = b == nullptr;
  *slot = *built ? Build(paddr, host) : b;
  return *slot;
}

bool CodeCache::Breakable(uint32_t paddr) const {
  return c_.debug && c_.debug->SplitsAt(paddr);
}

void CodeCache::RetireChains() {
  ++c_.code_epoch;
  if (c_.soft_tlb) c_.soft_tlb->RetireChains();
}

void CodeCache::RefreshNative(uint32_t page, bool rewarm, bool retire) {
  if (retire) RetireChains();
  auto it = by_page_.find(page);
  if (it == by_page_.end()) return;
  for (Block* b : it->second) {
    b->native_frame = nullptr;
    b->native = EntryFor(b->paddr, &b->native_frame);
    if (rewarm && !b->native) b->exec_count = b->heat = 0;  // lost its code: may get hot again
  }
}

void CodeCache::Install(std::shared_ptr<CompiledRegion> cr,
                        const std::function<bool(const Region&)>& replaces, bool retire) {
  const uint32_t page = cr->region->page;
  for (const auto& [other, generation] : cr->region->other_pages) spanned_by_[other].insert(page);
  auto& list = installed_[page];
  if (replaces) {
    for (auto it = list.begin(); it != list.end();) {
      if (replaces(*(*it)->region)) {
        zombie_regions_.push_back(std::move(*it));  // may be running: freed after the slice
        it = list.erase(it);
      } else {
        ++it;
      }
    }
  }
  list.push_back(std::move(cr));
  ++stats_.regions_installed;
  RefreshNative(page, /*rewarm=*/false, retire);
}

const CompiledRegion* CodeCache::InstalledAt(uint32_t paddr) const {
  auto it = installed_.find(paddr & runtime::kPageMask);
  if (it == installed_.end()) return nullptr;
  const uint32_t off = paddr & ~runtime::kPageMask;
  for (auto r = it->second.rbegin(); r != it->second.rend(); ++r)  // the newest region first
    for (const RegionBlock& rb : (*r)->region->blocks)
      if (rb.offset == off) return r->get();
  return nullptr;
}

NativeFn CodeCache::EntryFor(uint32_t paddr, void** frame) const {
  const CompiledRegion* cr = InstalledAt(paddr);
  if (!cr) return nullptr;
  if (frame) *frame = &cr->region->frame;
  return cr->fn;
}

NativeFn CodeCache::NativeAt(uint32_t paddr, void** frame) const {
  const Block* b = Find(paddr);
  if (!b) return nullptr;
  *frame = b->native_frame;
  return b->native;
}

std::vector<std::shared_ptr<CompiledRegion>> CodeCache::Installed() const {
  std::vector<std::shared_ptr<CompiledRegion>> out;
  for (const auto& [page, list] : installed_) out.insert(out.end(), list.begin(), list.end());
  return out;
}

void CodeCache::ForEachRegion(const std::function<void(Region&)>& f) {
  for (auto& [page, list] : installed_)
    for (auto& cr : list) f(*cr->region);
}

void CodeCache::DropRegions() {
  std::vector<uint32_t> pages;
  for (const auto& [page, list] : installed_) pages.push_back(page);
  installed_.clear();
  spanned_by_.clear();
  zombie_regions_.clear();
  RetireChains();
  for (uint32_t page : pages) RefreshNative(page, /*rewarm=*/true, /*retire=*/false);
  for (JumpEntry& e : jump_) e = JumpEntry{};
}

void CodeCache::InvalidateCodePage(uint32_t page) {
  ++generation_[page];
  bool code_went = false;  // translated code went: cached jumps into it are retired below
  // Regions of other pages that hold blocks of this one go; their pages' blocks earn new code.
  auto spanned = spanned_by_.find(page);
  if (spanned != spanned_by_.end()) {
    std::unordered_set<uint32_t> holders = std::move(spanned->second);
    spanned_by_.erase(spanned);
    for (uint32_t holder : holders) {
      auto it = installed_.find(holder);
      if (it == installed_.end()) continue;
      bool dropped = false;
      for (auto r = it->second.begin(); r != it->second.end();) {
        const auto& pages = (*r)->region->other_pages;
        if (std::any_of(pages.begin(), pages.end(), [&](auto& p) { return p.first == page; })) {
          zombie_regions_.push_back(std::move(*r));
          r = it->second.erase(r);
          ++stats_.regions_dropped;
          dropped = true;
        } else {
          ++r;
        }
      }
      if (dropped) RefreshNative(holder, /*rewarm=*/true, /*retire=*/false);
      code_went |= dropped;
    }
  }
  bool had_regions = false;
  auto regions = installed_.find(page);
  if (regions != installed_.end()) {
    had_regions = true;
    for (auto& cr : regions->second) {
      zombie_regions_.push_back(std::move(cr));  // may be on the stack right now: freed after the slice
      ++stats_.regions_dropped;
    }
    installed_.erase(regions);
  }
  // Cached jumps (chain sites, the jump cache) lead only into translated code: they are resolved again only
  // if some went. A page that only the interpreter ran (most pages a process image or the page cache gives
  // back) leaves them alone.
  if (code_went || had_regions) RetireChains();
  if (listener_) listener_->CodeDropped(page, had_regions);
  auto it = by_page_.find(page);
  if (it == by_page_.end()) return;
  for (Block* b : it->second) {
    Block*& slot = FastSlot(b->paddr);
    if (slot == b) slot = nullptr;
    blocks_.Erase(b->paddr);
    // It may be running right now: freed after the slice.
    zombie_blocks_.push_back(BlockPtr(b, BlockDeleter{this}));
    ++stats_.blocks_invalidated;
  }
  by_page_.erase(it);
}

void CodeCache::DropCodeSpanning(uint32_t offset) {
  offset &= ~runtime::kPageMask;
  std::vector<uint32_t> pages;
  for (const auto& [page, list] : by_page_)
    for (const Block* b : list) {
      const uint32_t start = b->paddr & ~runtime::kPageMask;
      if (offset >= start && offset < start + 4u * b->size) {
        pages.push_back(page);
        break;
      }
    }
  for (uint32_t p : pages) {
    InvalidateCodePage(p);
    c_.code_pages->Clear(p);
  }
}

void CodeCache::FlushAll() {
  std::vector<uint32_t> pages;
  for (auto& [page, list] : by_page_) pages.push_back(page);
  for (uint32_t p : pages) {
    InvalidateCodePage(p);
    c_.code_pages->Clear(p);
  }
  if (listener_) listener_->Flushed();
}

}  // namespace strobe::code
