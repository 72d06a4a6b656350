// SPDX-License-Identifier: MIT
// X86Ops: the handlers written over an emitter (semantics/common.h), instantiated to write x86-64 now, for
// the baseline emitter (baseline.cpp).
#include <algorithm>
#include <cstring>

#include "runtime/cp0_plain.h"
#include "runtime/memory.h"
#include "runtime/soft_tlb.h"
#include "translator/interp/baseline_x86.h"
#include "translator/interp/step.h"
#include "translator/mips/semantics/common.h"

namespace strobe::interp::x86 {

// --- What the code calls (the C ABI; each returns false when it recorded an exception) ---
namespace {
template <typename T>
bool LoadHelper(CpuState* c, uint32_t va, uint32_t* out) {
  return runtime::Load<T>(*c, va, out);
}
template <typename T>
bool StoreHelper(CpuState* c, uint32_t va, uint32_t v) {
  return runtime::Store<T>(*c, va, v);
}
bool LoadLinkedHelper(CpuState* c, uint32_t ea, uint32_t* out) {
  return mips::sem::Exec{*c, 0}.LoadLinked(ea, 0, out);
}
bool LoadAroundHelper(CpuState* c, uint32_t ea, uint32_t* out) {
  return mips::sem::Exec{*c, 0}.LoadWordAround(ea, 0, out);
}
bool StorePartHelper(CpuState* c, uint32_t ea, uint32_t data, uint32_t mask) {
  return mips::sem::Exec{*c, 0}.StoreWordPart(ea, data, mask, 0);
}
}  // namespace

bool StepHelper(CpuState* c, const DecodedInsn* d, uint32_t pc) {
  return StepOne(*c, *d, pc);
}
void DeliverHelper(CpuState* c, uint32_t pc, uint32_t ds) {
  runtime::DeliverException(*c, pc, ds != 0);
}
void RaiseHelper(CpuState* c, uint32_t code, uint32_t pc, uint32_t ds) {
  runtime::Raise(*c, static_cast<runtime::ExcCode>(code));
  runtime::DeliverException(*c, pc, ds != 0);
}

// rcx = the soft TLB entry of esi's page, rdx = the tag a hit has; jumps to slow on a miss (a misaligned
// address never hits: its low bits are in the tag).
static void ProbeEntryIn(Xbyak::CodeGenerator& g, unsigned size, int tag_off, Xbyak::Label& slow) {
  g.mov(ecx, esi);
  g.shr(ecx, runtime::kPageBits);
  g.and_(ecx, runtime::SoftTlb::kEntries - 1);
  g.shl(ecx, 5);
  static_assert(sizeof(runtime::SoftTlbEntry) == 32);
  g.add(rcx, g.qword[r15 + kOffStlb]);
  g.mov(edx, esi);
  g.and_(edx, runtime::kPageMask | (size - 1));
  g.or_(rdx, g.qword[r15 + kOffAsidKey]);
  g.cmp(rdx, g.qword[rcx + tag_off]);
  g.jne(slow, Xbyak::CodeGenerator::T_NEAR);
  g.mov(rcx, g.qword[rcx + offsetof(runtime::SoftTlbEntry, addend)]);
}

bool MemoryStubs(Xbyak::CodeGenerator& g) {
  using CG = Xbyak::CodeGenerator;
  bool fits = true;
  Xbyak::Label fault;
  const auto begin = [&](unsigned index) {
    if (g.getSize() > index * kStubSpan) fits = false;
    while (g.getSize() < index * kStubSpan) g.int3();
  };
  // Called with rsp 8 past a multiple of 16 (the code's frame is 16-aligned): 24 bytes down, the runtime is
  // called 16-aligned with an out slot at rsp + 8.
  for (const unsigned size : {1u, 2u, 4u}) {
    for (const bool sign : {false, true}) {
      if (size == 4 && sign) continue;
      begin(StubIndex(false, size, sign));
      Xbyak::Label miss, fail;
      ProbeEntryIn(g, size, offsetof(runtime::SoftTlbEntry, read), miss);
      switch (size) {  // a hit
        case 1: sign ? g.movsx(eax, g.byte[rcx + rsi]) : g.movzx(eax, g.byte[rcx + rsi]); break;
        case 2: sign ? g.movsx(eax, g.word[rcx + rsi]) : g.movzx(eax, g.word[rcx + rsi]); break;
        default: g.mov(eax, g.dword[rcx + rsi]); break;
      }
      g.ret();
      g.L(miss);
      g.sub(rsp, 24);
      g.mov(rdi, r15);
      g.lea(rdx, g.ptr[rsp + 8]);
      const void* helper = size == 1   ? (sign ? reinterpret_cast<const void*>(&LoadHelper<int8_t>)
                                               : reinterpret_cast<const void*>(&LoadHelper<uint8_t>))
                           : size == 2 ? (sign ? reinterpret_cast<const void*>(&LoadHelper<int16_t>)
                                               : reinterpret_cast<const void*>(&LoadHelper<uint16_t>))
                                       : reinterpret_cast<const void*>(&LoadHelper<uint32_t>);
      g.mov(rax, reinterpret_cast<uintptr_t>(helper));
      g.call(rax);
      g.test(al, al);
      g.jz(fail, CG::T_NEAR);
      g.mov(eax, g.dword[rsp + 8]);
      g.add(rsp, 24);
      g.ret();
      g.L(fail);
      g.add(rsp, 24);
      g.jmp(fault, CG::T_NEAR);
    }
  }
  for (const unsigned size : {1u, 2u, 4u}) {
    begin(StubIndex(true, size, false));
    Xbyak::Label miss, fail;
    ProbeEntryIn(g, size, offsetof(runtime::SoftTlbEntry, write), miss);
    switch (size) {
      case 1: g.mov(g.byte[rcx + rsi], r8b); break;
      case 2: g.mov(g.word[rcx + rsi], r8w); break;
      default: g.mov(g.dword[rcx + rsi], r8d); break;
    }
    g.ret();
    g.L(miss);
    g.sub(rsp, 8);
    g.mov(rdi, r15);
    g.mov(edx, r8d);
    const void* helper = size == 1   ? reinterpret_cast<const void*>(&StoreHelper<uint8_t>)
                         : size == 2 ? reinterpret_cast<const void*>(&StoreHelper<uint16_t>)
                                     : reinterpret_cast<const void*>(&StoreHelper<uint32_t>);
    g.mov(rax, reinterpret_cast<uintptr_t>(helper));
    g.call(rax);
    g.add(rsp, 8);
    g.test(al, al);
    g.jz(fail, CG::T_NEAR);
    g.ret();
    g.L(fail);
    g.jmp(fault, CG::T_NEAR);
  }
  begin(kEnterStub);  // the C ABI: (CpuState*, vpc, limit, Block*, code)
  g.push(r15);
  g.push(r14);
  g.push(r13);
  g.push(rbx);
  g.sub(rsp, static_cast<uint32_t>(kFrame));
  g.mov(r15, rdi);
  g.mov(r14d, esi);
  g.mov(rbx, rdx);
  g.mov(r13, rcx);
  g.jmp(r8);
  begin(kLeaveStub);
  Xbyak::Label leave;
  g.L(leave);
  g.add(rsp, static_cast<uint32_t>(kFrame));
  g.pop(rbx);
  g.pop(r13);
  g.pop(r14);
  g.pop(r15);
  g.ret();
  begin(kDeliverStub);  // jumped to in the frame (16-aligned): a call is aligned
  Xbyak::Label deliver;
  g.L(deliver);
  g.mov(rdi, r15);
  g.mov(rax, reinterpret_cast<uintptr_t>(&DeliverHelper));
  g.call(rax);
  g.xor_(eax, eax);
  g.jmp(leave, CG::T_NEAR);
  // An access that raised an exception: the tag after the call (Emitter::CallMemory) names the instruction.
  begin(kFaultStub);
  g.L(fault);
  g.mov(rcx, g.qword[rsp]);
  g.movzx(edx, g.byte[rcx + 3]);
  g.add(rsp, 8);  // back in the block's frame; its call's return is never taken
  g.mov(esi, edx);
  g.and_(esi, 0x7F);
  g.lea(esi, g.ptr[r14 + rsi * 4]);
  g.shr(edx, 7);
  g.jmp(deliver, CG::T_NEAR);
  begin(kStubs);
  return fits;
}

X86Ops::X86Ops(Emitter& em, uint32_t off, bool ds) : em_(em), g_(em.g), off_(off), ds_(ds), vals_(em.table) {
  vals_.clear();
}

X86Ops::Value X86Ops::New(Kind k, unsigned reg, uint32_t imm, bool wide) {
  if (vals_.size() >= kMaxValues) em_.overflow = true;  // the block is abandoned (its code never runs)
  vals_.push_back({k, wide, static_cast<uint8_t>(reg), imm});
  return {static_cast<int>(vals_.size() - 1)};
}

X86Ops::Value X86Ops::Result(bool wide) {
  Value v = New(kSlot, 0, 0, wide);
  in_eax_ = v.id;
  return v;
}

Xbyak::Address X86Ops::Slot(Value v) const {
  return g_.qword[rsp + SlotOffset(v.id)];
}

void X86Ops::Spill() {
  if (in_eax_ < 0) return;
  g_.mov(g_.qword[rsp + SlotOffset(in_eax_)], rax);
  in_eax_ = -1;
}

void X86Ops::Load(const Xbyak::Reg32& r, Value v) {
  const Val& x = vals_[v.id];
  if (v.id == in_eax_) {
    if (r.getIdx() != eax.getIdx()) g_.mov(r, eax);
    return;
  }
  switch (x.kind) {
    case kImm:  // no operand is loaded between a flag's setting and its use
      if (x.imm == 0) {
        g_.xor_(r, r);
      } else {
        g_.mov(r, x.imm);
      }
      break;
    case kGpr: g_.mov(r, g_.dword[r15 + 4 * x.reg]); break;
    case kSlot: g_.mov(r, g_.dword[rsp + SlotOffset(v.id)]); break;
  }
}

void X86Ops::Load64(const Xbyak::Reg64& r, Value v) {
  const Val& x = vals_[v.id];
  if (!x.wide) {  // a 32-bit value used as 64 bits: zero-extended
    Load(Xbyak::Reg32(r.getIdx()), v);
    return;
  }
  if (v.id == in_eax_) {
    if (r.getIdx() != rax.getIdx()) g_.mov(r, rax);
    return;
  }
  g_.mov(r, Slot(v));
}

X86Ops::Value X86Ops::Gpr(unsigned r) {
  if (r == 0) return Imm(0);
  for (const Write& w : writes_)  // read after this instruction's own write: the new value
    if (w.reg == r) return w.v;
  return New(kGpr, r, 0, false);
}

// The write is made when the handler is done (Finish): values that read r lazily from the CpuState before
// it still find the old value there, so they need no copy, and the usual last step, a result in eax
// going to its register, is still one store. A value in eax that later operations would overwrite is
// spilled to its slot first, as every operation spills it, so Finish finds it in eax or in its slot.
void X86Ops::SetGpr(unsigned r, Value v) {
  if (r == 0) return;
  for (Write& w : writes_)
    if (w.reg == r) {
      w.v = v;
      return;
    }
  writes_.push_back({r, v});
}

void X86Ops::Finish() {
  for (const Write& w : writes_) {
    const Val& x = vals_[w.v.id];
    if (x.kind == kGpr && x.reg == w.reg) continue;
    if (x.kind == kImm) {
      g_.mov(g_.dword[r15 + 4 * w.reg], x.imm);
      continue;
    }
    Load(w.v.id == in_eax_ ? eax : ecx, w.v);
    g_.mov(g_.dword[r15 + 4 * w.reg], w.v.id == in_eax_ ? eax : ecx);
  }
  writes_.clear();
}

X86Ops::Value X86Ops::ReadState(int off) {
  Spill();
  g_.mov(eax, g_.dword[r15 + off]);
  return Result(false);
}

void X86Ops::WriteCp0(unsigned reg, unsigned sel, Value v) {
  const runtime::PlainCp0Field f = runtime::PlainCp0(reg, sel);
  if (f.keep == 0 && f.write_mask == ~0u) return WriteState(f.offset, v);
  Load(ecx, v);
  g_.and_(ecx, f.write_mask);
  if (f.keep) {
    g_.mov(edx, g_.dword[r15 + f.offset]);
    g_.and_(edx, f.keep);
    g_.or_(ecx, edx);
  }
  g_.mov(g_.dword[r15 + f.offset], ecx);
}

void X86Ops::MaskInterrupts() {  // scratch registers only: a value may be in eax
  constexpr int kStatus = offsetof(CpuState, cp0.status);
  g_.mov(ecx, g_.dword[r15 + kStatus]);
  g_.mov(edx, ecx);
  g_.and_(ecx, ~runtime::st::IE);
  g_.mov(g_.dword[r15 + kStatus], ecx);
  g_.shr(edx, runtime::exitreq::kBevToIrqCheck);
  g_.and_(edx, runtime::exitreq::kIrqCheck);
  g_.or_(g_.dword[r15 + kOffExitRequest], edx);
}

void X86Ops::WriteState(int off, Value v) {
  const Val& x = vals_[v.id];
  if (x.kind == kImm) {
    g_.mov(g_.dword[r15 + off], x.imm);
    return;
  }
  Load(v.id == in_eax_ ? eax : ecx, v);
  g_.mov(g_.dword[r15 + off], v.id == in_eax_ ? eax : ecx);
}

X86Ops::Value X86Ops::HiLo() {
  Spill();
  g_.mov(eax, g_.dword[r15 + kOffLo]);
  g_.mov(ecx, g_.dword[r15 + kOffHi]);
  g_.shl(rcx, 32);
  g_.or_(rax, rcx);
  return Result(true);
}

void X86Ops::SetHiLo(Value w) {
  Load64(rcx, w);
  g_.mov(g_.dword[r15 + kOffLo], ecx);
  g_.shr(rcx, 32);
  g_.mov(g_.dword[r15 + kOffHi], ecx);
}

// eax = a op b; b is read where it is (a constant, the CpuState, its slot), after eax's value is saved.
X86Ops::Value X86Ops::Bin(Value a, Value b, Op op) {
  // With a zero (MIPS's move, and the zero register as an operand) the result is the other value itself.
  const auto is_zero = [&](Value v) { return vals_[v.id].kind == kImm && vals_[v.id].imm == 0; };
  if (is_zero(b) && !vals_[a.id].wide && (op == kAdd || op == kSub || op == kOr || op == kXor)) return a;
  if (is_zero(a) && !vals_[b.id].wide && (op == kAdd || op == kOr || op == kXor)) return b;
  const bool a_in_eax = a.id == in_eax_;
  Spill();
  if (!a_in_eax) Load(eax, a);
  const Val& y = vals_[b.id];
  if (y.kind == kImm) {
    const uint32_t k = y.imm;
    switch (op) {
      case kAdd: g_.add(eax, k); break;
      case kSub: g_.sub(eax, k); break;
      case kMul: g_.imul(eax, eax, k); break;
      case kAnd: g_.and_(eax, k); break;
      case kOr: g_.or_(eax, k); break;
      case kXor: g_.xor_(eax, k); break;
      default: break;
    }
  } else {
    const Xbyak::Address m = y.kind == kGpr ? g_.dword[r15 + 4 * y.reg] : g_.dword[rsp + SlotOffset(b.id)];
    switch (op) {
      case kAdd: g_.add(eax, m); break;
      case kSub: g_.sub(eax, m); break;
      case kMul: g_.imul(eax, m); break;
      case kAnd: g_.and_(eax, m); break;
      case kOr: g_.or_(eax, m); break;
      case kXor: g_.xor_(eax, m); break;
      default: break;
    }
  }
  return Result(false);
}

X86Ops::Value X86Ops::Bin64(Value a, Value b, Op op) {
  Load64(rcx, b);
  Load64(rdx, a);
  Spill();
  g_.mov(rax, rdx);
  switch (op) {
    case kAdd: g_.add(rax, rcx); break;
    case kSub: g_.sub(rax, rcx); break;
    case kMul: g_.imul(rax, rcx); break;
    default: break;
  }
  return Result(true);
}

X86Ops::Value X86Ops::Shift(Value a, Value n, Op op) {
  const Val& y = vals_[n.id];
  const bool by_imm = y.kind == kImm;
  if (!by_imm) Load(ecx, n);
  const bool a_in_eax = a.id == in_eax_;
  Spill();
  if (!a_in_eax) Load(eax, a);
  if (by_imm) {
    const uint8_t k = static_cast<uint8_t>(y.imm & 31);
    if (k == 0) return Result(false);  // the value as it is (SLL rd, rt, 0 is a move)
    switch (op) {
      case kShl: g_.shl(eax, k); break;
      case kShr: g_.shr(eax, k); break;
      case kSar: g_.sar(eax, k); break;
      case kRor: g_.ror(eax, k); break;
      default: break;
    }
  } else {
    switch (op) {
      case kShl: g_.shl(eax, cl); break;
      case kShr: g_.shr(eax, cl); break;
      case kSar: g_.sar(eax, cl); break;
      case kRor: g_.ror(eax, cl); break;
      default: break;
    }
  }
  return Result(false);
}

// The handlers never divide by zero or INT_MIN by -1 (semantics/muldiv.h selects a divisor of one).
X86Ops::Value X86Ops::Div(Value a, Value b, bool is_signed, bool rem) {
  Load(ecx, b);
  const bool a_in_eax = a.id == in_eax_;
  Spill();
  if (!a_in_eax) Load(eax, a);
  if (is_signed) {
    g_.cdq();
    g_.idiv(ecx);
  } else {
    g_.xor_(edx, edx);
    g_.div(ecx);
  }
  if (rem) g_.mov(eax, edx);
  return Result(false);
}

X86Ops::Value X86Ops::Not(Value a) {
  const bool a_in_eax = a.id == in_eax_;
  Spill();
  if (!a_in_eax) Load(eax, a);
  g_.not_(eax);
  return Result(false);
}

X86Ops::Value X86Ops::Clz(Value a) {
  const bool a_in_eax = a.id == in_eax_;
  Spill();
  if (!a_in_eax) Load(eax, a);
  g_.mov(ecx, 63);  // bsr leaves a zero input's result undefined and sets ZF: 63 ^ 31 = 32
  g_.bsr(eax, eax);
  g_.cmovz(eax, ecx);
  g_.xor_(eax, 31);
  return Result(false);
}

X86Ops::Value X86Ops::SExt8(Value a) {
  Load(ecx, a);
  Spill();
  g_.movsx(eax, cl);
  return Result(false);
}

X86Ops::Value X86Ops::SExt16(Value a) {
  Load(ecx, a);
  Spill();
  g_.movsx(eax, cx);
  return Result(false);
}

X86Ops::Value X86Ops::Cmp(Value a, Value b, Cond cond) {
  const Val& y = vals_[b.id];
  const bool b_in_place = b.id != in_eax_ && (y.kind == kImm || y.kind == kGpr);  // compared where it is
  if (!b_in_place) Load(edx, b);
  const bool a_in_eax = a.id == in_eax_;
  Spill();
  if (!a_in_eax) Load(eax, a);
  if (!b_in_place)
    g_.cmp(eax, edx);
  else if (y.kind == kImm)
    g_.cmp(eax, y.imm);
  else
    g_.cmp(eax, g_.dword[r15 + 4 * y.reg]);
  switch (cond) {
    case kEq: g_.sete(al); break;
    case kNe: g_.setne(al); break;
    case kSlt: g_.setl(al); break;
    case kSle: g_.setle(al); break;
    case kSgt: g_.setg(al); break;
    case kSge: g_.setge(al); break;
    case kUlt: g_.setb(al); break;
    case kUge: g_.setae(al); break;
  }
  g_.movzx(eax, al);
  const Value v = Result(false);
  bool_in_eax_ = v.id;
  return v;
}

X86Ops::Value X86Ops::Select(Value c, Value t, Value f) {
  Load(ecx, t);
  Load(edx, c);
  const bool f_in_eax = f.id == in_eax_;
  Spill();
  if (!f_in_eax) Load(eax, f);
  g_.test(edx, edx);
  g_.cmovne(eax, ecx);
  return Result(false);
}

X86Ops::Value X86Ops::Wide(Value v, bool is_signed) {
  const bool v_in_eax = v.id == in_eax_;
  Spill();
  if (!v_in_eax) Load(eax, v);
  if (is_signed) {
    g_.movsxd(rax, eax);
  } else {
    g_.mov(eax, eax);  // zero-extends into rax
  }
  return Result(true);
}

// A Load<T>/Store<T> operand, now in its register: handlers use it for nothing after the access (common.h),
// so if only eax holds it, it needs no slot (unless the instruction's register write is still to make).
void X86Ops::Consumed(Value v) {
  if (v.id != in_eax_) return;
  for (const Write& w : writes_)
    if (w.v.id == v.id) return;
  in_eax_ = -1;
}

// A load through the shared path for its kind (MemoryStubs: the soft TLB, the runtime's Load on a miss).
X86Ops::Value X86Ops::LoadSized(Value ea, unsigned size, bool sign) {
  Load(esi, ea);
  Consumed(ea);
  Spill();
  Value v = New(kSlot, 0, 0, false);
  em_.CallMemory(StubIndex(false, size, sign), off_, ds_);  // five bytes here where the probe took fifty
  in_eax_ = v.id;
  return v;
}

// A store through the shared path for its kind (ea in esi, v in r8d; the runtime's store path on a miss,
// which raises AdES for a misaligned address).
void X86Ops::StoreSized(Value ea, Value v, unsigned size) {
  Load(esi, ea);
  Load(r8d, v);
  Consumed(ea);
  Consumed(v);
  Spill();
  em_.CallMemory(StubIndex(true, size, false), off_, ds_);
}

// LL: the word through the soft TLB inline (ea in esi meanwhile) and LLAddr from the entry's physical page
// (CpuState::stlb_paddr) as runtime::Link takes it; the handler's LoadLinked on a miss (which does both).
bool X86Ops::LoadLinked(Value ea, unsigned, Value* out) {
  Load(esi, ea);
  Consumed(ea);
  Spill();
  Value v = New(kSlot, 0, 0, false);
  auto slow = std::make_shared<Xbyak::Label>();
  auto done = std::make_shared<Xbyak::Label>();
  ProbeEntryIn(g_, 4, offsetof(runtime::SoftTlbEntry, read), *slow);
  g_.mov(eax, g_.dword[rcx + rsi]);
  g_.mov(edx, esi);
  g_.shr(edx, runtime::kPageBits);
  g_.and_(edx, runtime::SoftTlb::kEntries - 1);
  g_.mov(rcx, g_.qword[r15 + kOffStlbPaddr]);
  g_.mov(ecx, g_.dword[rcx + rdx * 4]);
  g_.and_(esi, ~runtime::kPageMask);
  g_.or_(ecx, esi);
  g_.shr(ecx, 4);
  g_.mov(g_.dword[r15 + offsetof(CpuState, cp0.lladdr)], ecx);
  g_.mov(g_.byte[r15 + offsetof(CpuState, ll_bit)], 1);
  g_.L(*done);
  in_eax_ = v.id;
  Emitter& em = em_;
  const int slot = SlotOffset(v.id);
  const uint32_t off = off_;
  const bool ds = ds_;
  em_.cold.push_back([&em, slow, done, slot, off, ds] {
    em.g.L(*slow);
    em.g.mov(rdi, r15);
    em.g.lea(rdx, em.g.ptr[rsp + slot]);
    em.CallHelper(reinterpret_cast<const void*>(&LoadLinkedHelper));
    em.FaultIfFalse(off, ds);
    em.g.mov(eax, em.g.dword[rsp + slot]);
    em.g.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
  });
  *out = v;
  return true;
}

// SC: through the soft TLB inline (ea in esi, v in r8d meanwhile), the runtime's store path on a miss;
// its result in eax: after an aligned address with the LL bit clear 0 without an access, else 1 once stored
// (the alignment is tested first, as the handler does).
bool X86Ops::StoreConditional(Value ea, Value v, unsigned, Value* out) {
  Load(esi, ea);
  Load(r8d, v);
  Consumed(ea);
  Consumed(v);
  Spill();
  Value ok = New(kSlot, 0, 0, false);
  auto slow = std::make_shared<Xbyak::Label>();
  auto failed = std::make_shared<Xbyak::Label>();
  auto done = std::make_shared<Xbyak::Label>();
  g_.test(esi, 3);
  g_.jnz(*slow, Xbyak::CodeGenerator::T_NEAR);
  g_.cmp(g_.byte[r15 + offsetof(CpuState, ll_bit)], 0);
  g_.je(*failed, Xbyak::CodeGenerator::T_NEAR);
  ProbeEntryIn(g_, 4, offsetof(runtime::SoftTlbEntry, write), *slow);
  g_.mov(g_.dword[rcx + rsi], r8d);
  g_.mov(eax, 1);
  g_.L(*done);
  in_eax_ = ok.id;
  Emitter& em = em_;
  const uint32_t off = off_;
  const bool ds = ds_;
  em_.cold.push_back([&em, slow, failed, done, off, ds] {
    em.g.L(*failed);
    em.g.xor_(eax, eax);
    em.g.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
    em.g.L(*slow);
    em.g.mov(rdi, r15);
    em.g.mov(edx, r8d);
    em.CallHelper(reinterpret_cast<const void*>(&StoreHelper<uint32_t>));
    em.FaultIfFalse(off, ds);
    em.g.mov(eax, 1);
    em.g.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
  });
  *out = ok;
  return true;
}

bool X86Ops::LoadWordAround(Value ea, unsigned, Value* w) {
  Load(esi, ea);
  Spill();
  *w = New(kSlot, 0, 0, false);
  g_.mov(rdi, r15);
  g_.lea(rdx, g_.ptr[rsp + SlotOffset(w->id)]);
  em_.CallHelper(reinterpret_cast<const void*>(&LoadAroundHelper));
  em_.FaultIfFalse(off_, ds_);
  return true;
}

bool X86Ops::StoreWordPart(Value ea, Value data, Value mask, unsigned) {
  Load(esi, ea);
  Load(edx, data);
  Load(ecx, mask);
  Spill();
  g_.mov(rdi, r15);
  em_.CallHelper(reinterpret_cast<const void*>(&StorePartHelper));
  em_.FaultIfFalse(off_, ds_);
  return true;
}

X86Ops::Value X86Ops::Address(uint32_t delta) {
  Spill();
  g_.lea(eax, g_.ptr[r14 + static_cast<int32_t>(off_ + delta)]);
  return Result(false);
}

// As the interpreter's emitter: the outcome goes to the CpuState, applied after the delay slot.
void X86Ops::Branch(Value taken, int32_t disp) {
  em_.branch_static = true;
  em_.branch_disp = disp;
  // Straight to the frame's outcome word, not through the CpuState: only the block's own code reads it
  // (a fault in the delay slot runs the branch again), and the target is a constant there.
  if (taken.id == in_eax_ && taken.id == bool_in_eax_) {  // a compare's 0 or 1
    g_.mov(g_.dword[rsp], eax);
    return;
  }
  Load(ecx, taken);
  g_.movzx(ecx, cl);
  g_.mov(g_.dword[rsp], ecx);
}

void X86Ops::JumpWithin(uint32_t low28) {
  em_.branch_static = false;
  g_.lea(edx, g_.ptr[r14 + static_cast<int32_t>(off_ + 4)]);
  g_.and_(edx, 0xF0000000u);
  g_.or_(edx, low28);
  g_.mov(g_.dword[r15 + kOffTarget], edx);
  g_.mov(g_.byte[r15 + kOffTaken], 1);
}

void X86Ops::JumpTo(Value target) {
  em_.branch_static = false;
  Load(edx, target);
  g_.mov(g_.dword[r15 + kOffTarget], edx);
  g_.mov(g_.byte[r15 + kOffTaken], 1);
}

bool X86Ops::RaiseIf(Value cond, runtime::ExcCode code) {
  Load(ecx, cond);
  g_.test(ecx, ecx);
  auto raise = std::make_shared<Xbyak::Label>();
  g_.jnz(*raise, Xbyak::CodeGenerator::T_NEAR);
  Emitter& em = em_;
  const uint32_t off = off_;
  const bool ds = ds_;
  em_.cold.push_back([&em, raise, code, off, ds] {
    em.g.L(*raise);
    em.g.mov(rdi, r15);
    em.g.mov(esi, static_cast<uint32_t>(code));
    em.g.lea(edx, em.g.ptr[r14 + static_cast<int32_t>(off)]);
    em.g.mov(ecx, ds ? 1 : 0);
    em.CallHelper(reinterpret_cast<const void*>(&RaiseHelper));
    em.g.xor_(eax, eax);
    em.g.jmp(em.exit, Xbyak::CodeGenerator::T_NEAR);
  });
  return false;  // emission goes on where it was not raised
}

}  // namespace strobe::interp::x86
