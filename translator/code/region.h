// SPDX-License-Identifier: MIT
// A region: the unit of translation. The decoded blocks of one guest-physical page that are reachable from
// a hot block through direct branches and fall-throughs, compiled into one host function with one entry
// per block, so loops inside the page run without leaving translated code.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "translator/mips/decoder.h"

namespace strobe::code {

// How a decoded block ends.
enum class BlockEnd : uint8_t {
  kFallThrough,  // page end or length limit: continue at the next word
  kEndsBlock,  // last op may change the mode, the ASID, interrupts or the PC (ERET, MTC0 Status, SYSCALL...)
  kBranch,     // last two ops are a branch and its delay slot
  kBranchSplit,  // last op is a branch whose delay slot lies on the next page
};

struct RegionBlock {
  // Byte offset of the first instruction from the region's page, modulo 2^32: 0-4095 in the page; outside
  // it for blocks a second-tier region takes from other pages (Region::other_pages).
  uint32_t offset = 0;
  BlockEnd end = BlockEnd::kFallThrough;
  std::vector<mips::DecodedInsn> ops;  // body, then the terminator (and delay slot for kBranch)
  // Where the code counts this block's executions, or null. The jit engine's first tier counts them (its
  // blocks never run interpreted, so this is its only profile) for the second tier to keep to hot code.
  uint64_t* counter = nullptr;
};

// One exit's chaining cache: where it last went and the translated code there (its entry and the frame it
// runs with). Valid while the installed code is the same (CpuState::code_epoch) and, for a mapped target,
// while the soft TLB maps the target to the same host page (addend) for the current mode and ASID; for a
// kseg0/kseg1 target, in the same privilege mode. `key` is the chain key (runtime::SoftTlb::ChainKey) under
// which that was last found true: while it stands, nothing needs checking.
struct ChainSite {
  uint64_t key = 0;         // never a chain key: an unused site does not match
  uint64_t code_epoch = 0;  // never 0 in the CPU
  uint64_t addend = 0;      // the soft TLB entry's addend for a mapped target when it was resolved
  uint32_t vpc = 0;
  uint32_t pad = 0;
  void* fn = nullptr;
  void* frame = nullptr;
};
static_assert(sizeof(ChainSite) == 48);

// What translated code reaches through its frame argument. Compiled code holds no address of this process
// (the runtime's entry points are linker symbols, decoded instructions are constants in the object), so one
// compiled function can run for any number of regions with the same code: each brings its own frame. That
// is what lets compiled code be stored on disk and loaded by a later run, or serve several VMs.
struct RegionFrame {
  uint64_t entries = 0;                 // entries into the code, counted by the code itself
  uint64_t insns = 0;                   // guest instructions it ran, added by the code on each way out
  ChainSite* sites = nullptr;           // one per exit that may chain (Region::site_count)
  uint64_t* const* counters = nullptr;  // per block, where it counts its executions (RegionBlock::counter)
};

struct Region {
  uint32_t page = 0;        // guest-physical page address
  uint64_t generation = 0;  // the page's code generation when the region was formed (stale if it changed)
  std::vector<RegionBlock> blocks;
  unsigned opt_level = 0;  // the tier it was compiled for
  bool kseg = false;       // formed from code running in kseg0/kseg1 (the tiers' bigger size limits)
  // The translated code's data: frame.entries counts entries (in a queued second-tier copy, its priority).
  RegionFrame frame;
  uint32_t site_count = 0;  // chain sites the code uses, known once lifted (or read from the code cache)
  // A second-tier region: its first core_blocks blocks are its source's, the rest were spanned in from
  // other pages by how busy they were. The code cache files the region under its core too, so that a later
  // run can take the same shape if that code is there (Compiler::CachedShapes). 0: not such a region.
  uint32_t core_blocks = 0;
  std::unique_ptr<ChainSite[]> site_store;
  std::vector<uint64_t*> counter_store;
  // Allocates the frame's chain sites and counter table for code with site_count sites.
  void BindFrame() {
    site_store = std::make_unique<ChainSite[]>(site_count ? site_count : 1);
    frame.sites = site_store.get();
    counter_store.clear();
    for (const RegionBlock& rb : blocks) counter_store.push_back(rb.counter);
    frame.counters = counter_store.data();
  }
  bool reoptimizing = false;  // already sent to the second tier
  // Entries when it last lost its place in the second tier's queue (it had cooled down): it is sent again
  // only after optimize_after more. In a queued second-tier copy: the source's entries at the last check.
  uint64_t reopt_base = 0;
  uint64_t scan_base = 0;  // frame.insns at the tier's last scan for busy regions
  // In a queued second-tier copy: the source's frame.insns at the last check (what it ran since is how
  // busy it still is).
  uint64_t reopt_insns = 0;
  const Region* source = nullptr;  // a queued second-tier copy: the installed first-tier region it replaces
  // Pages other than `page` whose blocks the region holds, with their code generations when it was formed.
  // Only second-tier regions reach into other pages (calls and jumps between kernel pages), and their code
  // follows those blocks only where the virtual page base is in kseg0/kseg1, so that virtual and physical
  // addresses run in step; elsewhere control leaves the region at the page's edge as before.
  std::vector<std::pair<uint32_t, uint64_t>> other_pages;
  bool SpansPages() const { return !other_pages.empty(); }
};

// Whether two decoded instruction sequences are the same code (every field, as LiftKey keys them).
inline bool SameOps(std::span<const mips::DecodedInsn> a, std::span<const mips::DecodedInsn> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(mips::DecodedInsn)) == 0;
}

// Where a block's PC-relative branch (not J/JAL/JR/JALR) goes when taken, as an offset from the region's
// page modulo 2^32; nothing for blocks without one.
inline std::optional<uint32_t> BranchTarget(const RegionBlock& rb) {
  if (rb.end != BlockEnd::kBranch) return std::nullopt;
  const mips::DecodedInsn& br = rb.ops[rb.ops.size() - 2];
  switch (br.op) {
    case mips::Opcode::J:
    case mips::Opcode::JAL:
    case mips::Opcode::JR:
    case mips::Opcode::JALR: return std::nullopt;
    default: break;
  }
  const uint32_t slot = rb.offset + 4 * static_cast<uint32_t>(rb.ops.size() - 1);
  return slot + (static_cast<uint32_t>(br.simm()) << 2);
}

// The target of a J/JAL at offset `off` of a region of guest-physical page `page`, as an offset from the
// page (modulo 2^32), for code running in kseg0/kseg1: the jump keeps bits 31:28 of its delay slot's
// virtual address, which are the segment's base plus bit 28 of the physical address.
inline uint32_t SpanJumpTarget(uint32_t page, uint32_t off, const mips::DecodedInsn& d) {
  const uint32_t slot = page + off + 4;
  return ((slot & 0x10000000u) | (d.target26() << 2)) - page;
}

// Translated code: fn(cpu, virtual page base, entry offset, cycle limit, frame). It runs until it leaves the
// region, an exception is delivered, an exit is requested or the cycle limit passes, and leaves c->pc set.
// The frame is the region's RegionFrame.
using NativeFn = void (*)(void* cpu, uint32_t vbase, uint32_t entry_offset, uint64_t cycle_limit,
                          void* frame);

// The slot of a table of 2^bits entries for a guest address: a multiplicative hash, so that blocks at the
// same offset of many pages (every process's entry points, the kernel's page-aligned handlers) spread out
// (they shared a slot when it was the address's low bits). Baseline code and translated code hash inline
// with kSlotHash.
inline constexpr uint32_t kSlotHash = 0x9E3779B1u;
inline uint32_t SlotOf(uint32_t addr, unsigned bits) {
  return ((addr >> 2) * kSlotHash) >> (32 - bits);
}

// An entry of a code cache's jump cache (CodeCache::JumpSlot, 2^kJumpBits of them by SlotOf of the target,
// which translated code also probes inline through CpuState::jump_cache): virtual target -> translated
// entry, valid under a ChainSite's rules.
struct JumpEntry {
  uint64_t key = 0;
  uint64_t code_epoch = 0;
  uint64_t addend = 0;
  NativeFn fn = nullptr;  // null: vpc leads to paddr, whose block had no translated code when last asked
  void* frame = nullptr;
  uint32_t vpc = 1;    // never a jump target that translates
  uint32_t paddr = 0;  // where vpc led: while the code is the same, fn is still the code there
};
static_assert(sizeof(JumpEntry) == 48);
inline constexpr unsigned kJumpBits = 12;

// A region with its translated code, as a compiler hands it over and the code cache keeps it installed.
struct CompiledRegion {
  std::unique_ptr<Region> region;
  NativeFn fn = nullptr;
  std::string name;
  double compile_ms = 0;  // this region's share of its module's compile time (CPU time)
  std::string ir_before, ir_after;
  uint64_t host_size = 0;
  std::shared_ptr<void> module_handle;  // keeps the module's code alive
  bool from_cache = false;              // loaded from the persistent code cache, not compiled
  bool reused = false;  // code this process had already (another region with the same code), not compiled
};

}  // namespace strobe::code
