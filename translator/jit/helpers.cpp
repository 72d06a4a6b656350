// SPDX-License-Identifier: MIT
#include "translator/jit/helpers.h"

#include "runtime/memory.h"
#include "translator/code/abi.h"
#include "translator/code/code_cache.h"
#include "translator/interp/step.h"
#include "translator/mips/semantics/common.h"

namespace strobe::jit {

extern "C" bool strobe_jit_load(runtime::CpuState* c, uint32_t va, uint32_t size_and_flags, uint32_t* out,
                                uint32_t pc, uint32_t in_delay_slot) {
  const uint32_t size = size_and_flags & 7;
  uint32_t v;
  mips::sem::Exec e{*c, pc};
  const bool ok = (size_and_flags & code::kLoadWordAround) ? e.LoadWordAround(va, 0, &v)
                  : (size_and_flags & code::kLoadLinked)   ? e.LoadLinked(va, 0, &v)
                                                           : runtime::LoadSlow(*c, va, size, &v);
  if (!ok) {
    runtime::DeliverException(*c, pc, in_delay_slot != 0);
    return false;
  }
  if (size_and_flags & code::kLoadSigned) {
    v = size == 1 ? static_cast<uint32_t>(static_cast<int8_t>(v))
                  : static_cast<uint32_t>(static_cast<int16_t>(v));
  }
  *out = v;
  return true;
}

extern "C" bool strobe_jit_store(runtime::CpuState* c, uint32_t va, uint32_t size, uint32_t value,
                                 uint32_t pc, uint32_t in_delay_slot) {
  if (!runtime::StoreSlow(*c, va, size, value)) {
    runtime::DeliverException(*c, pc, in_delay_slot != 0);
    return false;
  }
  return true;
}

extern "C" bool strobe_jit_store_part(runtime::CpuState* c, uint32_t va, uint32_t data, uint32_t mask,
                                      uint32_t pc, uint32_t in_delay_slot) {
  if (!mips::sem::Exec{*c, pc}.StoreWordPart(va, data, mask, 0)) {
    runtime::DeliverException(*c, pc, in_delay_slot != 0);
    return false;
  }
  return true;
}

extern "C" bool strobe_jit_step(runtime::CpuState* c, const mips::DecodedInsn* insn, uint32_t pc,
                                uint32_t in_delay_slot) {
  if (interp::StepOne(*c, *insn, pc)) return true;
  runtime::DeliverException(*c, pc, in_delay_slot != 0);
  return false;
}

extern "C" void strobe_jit_raise(runtime::CpuState* c, uint32_t code, uint32_t pc, uint32_t in_delay_slot) {
  runtime::Raise(*c, static_cast<runtime::ExcCode>(code));
  runtime::DeliverException(*c, pc, in_delay_slot != 0);
}

}  // namespace strobe::jit

namespace strobe::jit {

extern "C" void* strobe_jit_link(runtime::CpuState* c, void* site, uint32_t target) {
  auto* cache = static_cast<code::CodeCache*>(c->code_cache);
  if (!cache) return nullptr;
  auto* s = static_cast<code::ChainSite*>(site);
  code::CodeCache::JumpEntry& e = cache->JumpSlot(target);
  code::CodeCacheStats& stats = cache->mutable_stats();
  ++stats.links;
  const bool unmapped = runtime::InUnmappedSegment(target);
  const runtime::SoftTlbEntry& tlb = c->stlb[runtime::SoftTlb::IndexOf(target)];
  const uint64_t key = runtime::SoftTlb::ChainKey(c->stlb, c->asid_key, target);
  // For a kseg0/kseg1 target only the key says the mode is the same (it is the table's own).
  const bool holds =
      e.vpc == target && e.code_epoch == c->code_epoch &&
      (e.key == key ||
       (!unmapped && tlb.fetch == (c->asid_key | (target & runtime::kPageMask)) && tlb.addend == e.addend));
  if (!holds) {
    ++stats.link_resolves;
    uint32_t paddr;
    const uint8_t* host;
    runtime::PendingException saved = c->exc;
    if (!runtime::TranslateFetch(*c, target, &paddr, &host)) {  // not mapped: the dispatcher raises the fault
      c->exc = saved;
      return nullptr;
    }
    if (e.vpc != target || e.paddr != paddr || e.code_epoch != c->code_epoch || !e.fn)
      e.fn = cache->NativeAt(paddr, &e.frame);
    e.code_epoch = c->code_epoch;
    // TranslateFetch left the fetch entry in the soft TLB (a mapped target): its addend identifies the page.
    e.addend = unmapped ? 0 : tlb.addend;
    e.vpc = target;
    e.paddr = paddr;
    // The key after the fetch (a fill that replaced another page's fetch entry moved it).
    e.key = runtime::SoftTlb::ChainKey(c->stlb, c->asid_key, target);
  } else {  // the mapping still holds under the current key
    e.key = key;
    if (!e.fn) e.fn = cache->NativeAt(e.paddr, &e.frame);  // the block may have gained translated code since
  }
  if (!e.fn) {  // the region leaves for the dispatcher, which runs this block next
    cache->NoteNextBlock(target, cache->Find(e.paddr));
    return nullptr;
  }
  s->key = e.key;
  s->code_epoch = e.code_epoch;
  s->addend = e.addend;
  s->vpc = target;
  s->fn = reinterpret_cast<void*>(e.fn);
  s->frame = e.frame;
  return s->fn;
}

const std::vector<RuntimeSymbol>& RuntimeSymbols() {
  static const std::vector<RuntimeSymbol> symbols = {
      {code::kLoadSymbol, reinterpret_cast<void*>(&strobe_jit_load)},
      {code::kStoreSymbol, reinterpret_cast<void*>(&strobe_jit_store)},
      {code::kStorePartSymbol, reinterpret_cast<void*>(&strobe_jit_store_part)},
      {code::kStepSymbol, reinterpret_cast<void*>(&strobe_jit_step)},
      {code::kLinkSymbol, reinterpret_cast<void*>(&strobe_jit_link)},
      {code::kRaiseSymbol, reinterpret_cast<void*>(&strobe_jit_raise)},
  };
  return symbols;
}

}  // namespace strobe::jit
