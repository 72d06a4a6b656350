// SPDX-License-Identifier: MIT
#include "translator/interp/baseline.h"

#define XBYAK_NO_EXCEPTION
#include <xbyak/xbyak.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/cp0_plain.h"
#include "runtime/memory.h"
#include "runtime/soft_tlb.h"
#include "translator/interp/step.h"
#include "translator/mips/semantics/written_once.h"

namespace strobe::interp {

namespace {

using code::Block;
using code::BlockEnd;
using mips::DecodedInsn;
using runtime::CpuState;
using namespace Xbyak::util;

// --- What the code calls (the C ABI; each returns false when it recorded an exception) ---
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

// The frame: r15 = the CpuState, r14d = the block's virtual address, r13 = its Block, rbx = the slice's
// limit for going on to successors; [rsp + 0] and [rsp + 8] the branch's outcome across its delay slot, then
// one 8-byte slot per value an instruction computes (values live for one instruction). Every block's code
// has the same prologue and frame, so a block goes on to another's code just past its prologue, and one
// shared path (the pool's, BaselinePool::SharedPaths) does the going on for all of them. The code names
// neither its Block nor anything else of one VM's (the table of blocks is the CpuState's code_blocks), so
// blocks with the same instructions at the same page offset share it, in every VM.
constexpr int kMaxValues = 48;
constexpr int kSlots = 16;
// With the four pushes and the return address: 16-aligned.
constexpr int kFrame = kSlots + 8 * kMaxValues + 8;
static_assert(kFrame % 16 == 8);
// Where value `id` of an instruction lives, as an offset from rsp.
constexpr int SlotOffset(int id) {
  return kSlots + 8 * id;
}
constexpr int kOffTaken = offsetof(CpuState, branch_taken);
constexpr int kOffTarget = offsetof(CpuState, branch_target);
constexpr int kOffPc = offsetof(CpuState, pc);
constexpr int kOffHi = offsetof(CpuState, hi);
constexpr int kOffLo = offsetof(CpuState, lo);
constexpr int kOffStlb = offsetof(CpuState, stlb);
constexpr int kOffAsidKey = offsetof(CpuState, asid_key);
constexpr int kOffCycles = offsetof(CpuState, cycles);
constexpr int kOffRetired = offsetof(CpuState, retired);
constexpr int kOffExitRequest = offsetof(CpuState, exit_request);
constexpr int kOffStlbPaddr = offsetof(CpuState, stlb_paddr);
constexpr int kOffCodeBlocks = offsetof(CpuState, code_blocks);

class Emitter;

// The emitter the handlers run with: each operation is written as x86-64 now. A value is an index into
// the instruction's value table: a constant, a guest register read lazily from the CpuState (made a copy
// before that register is written), or a computed result in a stack slot, the newest of which may still
// be in eax only.
class X86Ops {
 public:
  struct Pc {};
  struct Value {
    int id = -1;
  };
  X86Ops(Emitter& em, uint32_t off, bool ds);

  Value Gpr(unsigned r);
  void SetGpr(unsigned r, Value v);
  // Writes the GPRs the instruction set (SetGpr defers them to its end, see there).
  void Finish();
  Value Hi() { return ReadState(kOffHi); }
  Value Lo() { return ReadState(kOffLo); }
  void SetHi(Value v) { WriteState(kOffHi, v); }
  void SetLo(Value v) { WriteState(kOffLo, v); }
  Value HiLo();
  void SetHiLo(Value w);

  Value Imm(uint32_t v) { return New(kImm, 0, v, false); }
  Value Add(Value a, Value b) { return Bin(a, b, kAdd); }
  Value Sub(Value a, Value b) { return Bin(a, b, kSub); }
  Value Mul(Value a, Value b) { return Bin(a, b, kMul); }
  Value And(Value a, Value b) { return Bin(a, b, kAnd); }
  Value Or(Value a, Value b) { return Bin(a, b, kOr); }
  Value Xor(Value a, Value b) { return Bin(a, b, kXor); }
  Value Shl(Value a, Value n) { return Shift(a, n, kShl); }
  Value Lshr(Value a, Value n) { return Shift(a, n, kShr); }
  Value Ashr(Value a, Value n) { return Shift(a, n, kSar); }
  Value Rotr(Value a, Value n) { return Shift(a, n, kRor); }
  Value SDiv(Value a, Value b) { return Div(a, b, true, false); }
  Value SRem(Value a, Value b) { return Div(a, b, true, true); }
  Value UDiv(Value a, Value b) { return Div(a, b, false, false); }
  Value URem(Value a, Value b) { return Div(a, b, false, true); }
  Value Not(Value a);
  Value Clz(Value a);
  Value SExt8(Value a);
  Value SExt16(Value a);

  Value Eq(Value a, Value b) { return Cmp(a, b, kEq); }
  Value Ne(Value a, Value b) { return Cmp(a, b, kNe); }
  Value Slt(Value a, Value b) { return Cmp(a, b, kSlt); }
  Value Sle(Value a, Value b) { return Cmp(a, b, kSle); }
  Value Sgt(Value a, Value b) { return Cmp(a, b, kSgt); }
  Value Sge(Value a, Value b) { return Cmp(a, b, kSge); }
  Value Ult(Value a, Value b) { return Cmp(a, b, kUlt); }
  Value Uge(Value a, Value b) { return Cmp(a, b, kUge); }
  Value AnyOf(Value a, Value b) { return Bin(a, b, kOr); }
  Value AllOf(Value a, Value b) { return Bin(a, b, kAnd); }
  Value Bool32(Value b) { return b; }  // booleans are 0 or 1 already
  Value Select(Value c, Value t, Value f);

  Value Wide(Value v, bool is_signed);
  Value Add64(Value a, Value b) { return Bin64(a, b, kAdd); }
  Value Sub64(Value a, Value b) { return Bin64(a, b, kSub); }
  Value Mul64(Value a, Value b) { return Bin64(a, b, kMul); }

  template <typename T>
  bool Load(Value ea, unsigned /*base*/, Value* v) {
    *v = LoadSized(ea, sizeof(T), std::is_signed_v<T>);
    return true;
  }
  template <typename T>
  bool Store(Value ea, Value v, unsigned /*base*/) {
    StoreSized(ea, v, sizeof(T));
    return true;
  }
  bool LoadWordAround(Value ea, unsigned base, Value* w);
  bool StoreWordPart(Value ea, Value data, Value mask, unsigned base);
  bool LoadLinked(Value ea, unsigned base, Value* v);
  bool StoreConditional(Value ea, Value v, unsigned base, Value* ok);
  Value Status() { return ReadState(offsetof(CpuState, cp0.status)); }
  // Plain registers only (the others run the handler: Emitter::Insn).
  Value ReadCp0(unsigned reg, unsigned sel) { return ReadState(runtime::PlainCp0(reg, sel).offset); }
  void WriteCp0(unsigned reg, unsigned sel, Value v);

  Value Address(uint32_t delta);
  void Branch(Value taken, int32_t disp);
  void JumpWithin(uint32_t low28);
  void JumpTo(Value target);
  bool RaiseIf(Value cond, runtime::ExcCode code);

  enum Kind : uint8_t { kImm, kGpr, kSlot };
  struct Val {
    Kind kind;
    bool wide;
    uint8_t reg;
    uint32_t imm;
  };

 private:
  enum Op { kAdd, kSub, kMul, kAnd, kOr, kXor, kShl, kShr, kSar, kRor };
  enum Cond { kEq, kNe, kSlt, kSle, kSgt, kSge, kUlt, kUge };

  Value New(Kind k, unsigned reg, uint32_t imm, bool wide);
  Value Result(bool wide);  // a new value, in eax (rax) now
  Xbyak::Address Slot(Value v) const;
  void Spill();  // the value only eax holds goes to its slot
  void Consumed(Value v);
  void Load(const Xbyak::Reg32& r, Value v);
  void Load64(const Xbyak::Reg64& r, Value v);
  Value Bin(Value a, Value b, Op op);
  Value Bin64(Value a, Value b, Op op);
  Value Shift(Value a, Value n, Op op);
  Value Div(Value a, Value b, bool is_signed, bool rem);
  Value Cmp(Value a, Value b, Cond cond);
  Value ReadState(int off);
  void WriteState(int off, Value v);
  Value LoadSized(Value ea, unsigned size, bool sign);
  Value LoadThrough(Value ea, unsigned size, bool sign, const void* helper, bool link);
  void StoreSized(Value ea, Value v, unsigned size);
  Value StoreThrough(Value ea, Value v, unsigned size, bool conditional);
  void ProbeEntry(unsigned size, int tag_off, Xbyak::Label& slow);

  Emitter& em_;
  Xbyak::CodeGenerator& g_;
  uint32_t off_;
  bool ds_;
  std::vector<Val>& vals_;
  int in_eax_ = -1;
  struct Write {
    unsigned reg;
    Value v;
  };
  std::vector<Write> writes_;  // GPR writes not yet made (one per instruction in MIPS32)
};

// One block's code: the body, the terminator, and the out-of-line paths (slow memory accesses, faults)
// after the function's single exit.
class Emitter {
 public:
  // go_on: the shared path that enters a successor's code (null: every exit returns to the dispatcher);
  // go_far: its entry for a successor in another page or through an indirect jump (null: none).
  Emitter(Xbyak::CodeGenerator& g, const void* go_on, const void* go_far)
      : g(g), go_on_(go_on), go_far_(go_far) {}

  bool Emit(const Block& b);
  // The prologue every block's code starts with; its size is where a predecessor enters it.
  static void Prologue(Xbyak::CodeGenerator& g);
  static size_t BodyOffset();
  // The shared path into a successor (see GoOn), for these counts; returns the offset of its entry for
  // successors in other pages (GoFar), 0 if it has none.
  static size_t GoOnPath(Xbyak::CodeGenerator& g, const BaselineChaining& chaining);
  static void Epilogue(Xbyak::CodeGenerator& g);

  // The terminator's branch, as its handler reported it: PC-relative (branch_disp past the delay slot's
  // address) or not. BC1x run through their handler and stay not static.
  bool branch_static = false;
  int32_t branch_disp = 0;

  Xbyak::CodeGenerator& g;
  std::vector<X86Ops::Val> table;  // the current instruction's values
  bool overflow = false;           // an instruction needed more values than the frame has
  Xbyak::Label exit;               // return with rax = the block the dispatcher may chain from, or null
  // Paths after the body: each is emitted at the end, jumping back or to exit.
  std::vector<std::function<void()>> cold;

  void CallHelper(const void* fn) {
    g.mov(rax, reinterpret_cast<uintptr_t>(fn));
    g.call(rax);
  }
  // The exception recorded by a helper that returned false is delivered; the block ends.
  void FaultIfFalse(uint32_t off, bool ds);
  void Step(const DecodedInsn& d, uint32_t off, bool ds);  // one instruction through the interpreter
  void ReadUserLocal(const DecodedInsn& d, uint32_t off, bool ds);
  // terminator: the block's own branch, which the handlers' emitter takes (in a delay slot a branch
  // runs through the interpreter's handler, as there).
  void Insn(const DecodedInsn& d, uint32_t off, bool ds, bool terminator = false);

 private:
  // Leaves for the instruction `delta` bytes past the block's start: into its successor's baseline code
  // when the dispatcher would have run that next and done nothing else, else back to the dispatcher.
  void GoOn(const Block& b, int64_t delta);
  // Into go_far_ (set), with r8d = how far the successor lies past the block's start.
  void GoFar();
  const void* go_on_;
  const void* go_far_;
};

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
    case kImm: g_.mov(r, x.imm); break;
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
  return Result(false);
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

// rcx = the soft TLB entry of esi's page, rdx = the tag a hit has; jumps to slow on a miss.
void X86Ops::ProbeEntry(unsigned size, int tag_off, Xbyak::Label& slow) {
  g_.mov(ecx, esi);
  g_.shr(ecx, runtime::kPageBits);
  g_.and_(ecx, runtime::SoftTlb::kEntries - 1);
  g_.shl(ecx, 5);
  static_assert(sizeof(runtime::SoftTlbEntry) == 32);
  g_.add(rcx, g_.qword[r15 + kOffStlb]);
  g_.mov(edx, esi);
  g_.and_(edx, runtime::kPageMask | (size - 1));
  g_.or_(rdx, g_.qword[r15 + kOffAsidKey]);
  g_.cmp(rdx, g_.qword[rcx + tag_off]);
  g_.jne(slow, Xbyak::CodeGenerator::T_NEAR);
  g_.mov(rcx, g_.qword[rcx + offsetof(runtime::SoftTlbEntry, addend)]);
}

// A Load<T>/Store<T> operand, now in its register: handlers use it for nothing after the access (common.h),
// so if only eax holds it, it needs no slot (unless the instruction's register write is still to make).
void X86Ops::Consumed(Value v) {
  if (v.id != in_eax_) return;
  for (const Write& w : writes_)
    if (w.v.id == v.id) return;
  in_eax_ = -1;
}

X86Ops::Value X86Ops::LoadSized(Value ea, unsigned size, bool sign) {
  const void* helper = size == 1   ? (sign ? reinterpret_cast<const void*>(&LoadHelper<int8_t>)
                                           : reinterpret_cast<const void*>(&LoadHelper<uint8_t>))
                       : size == 2 ? (sign ? reinterpret_cast<const void*>(&LoadHelper<int16_t>)
                                           : reinterpret_cast<const void*>(&LoadHelper<uint16_t>))
                                   : reinterpret_cast<const void*>(&LoadHelper<uint32_t>);
  return LoadThrough(ea, size, sign, helper, false);
}

// A load through the soft TLB (ea in esi meanwhile), helper(c, ea, &value) on a miss. `link`: LL's
// bookkeeping on a hit, LLAddr from the entry's physical page (CpuState::stlb_paddr) as runtime::Link takes
// it (the helper does it on a miss).
X86Ops::Value X86Ops::LoadThrough(Value ea, unsigned size, bool sign, const void* helper, bool link) {
  Load(esi, ea);
  Consumed(ea);
  Spill();
  Value v = New(kSlot, 0, 0, false);
  auto slow = std::make_shared<Xbyak::Label>();
  auto done = std::make_shared<Xbyak::Label>();
  ProbeEntry(size, offsetof(runtime::SoftTlbEntry, read), *slow);
  switch (size) {
    case 1: sign ? g_.movsx(eax, g_.byte[rcx + rsi]) : g_.movzx(eax, g_.byte[rcx + rsi]); break;
    case 2: sign ? g_.movsx(eax, g_.word[rcx + rsi]) : g_.movzx(eax, g_.word[rcx + rsi]); break;
    default: g_.mov(eax, g_.dword[rcx + rsi]); break;
  }
  if (link) {
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
  }
  g_.L(*done);
  in_eax_ = v.id;
  Emitter& em = em_;
  const int slot = SlotOffset(v.id);
  const uint32_t off = off_;
  const bool ds = ds_;
  em_.cold.push_back([&em, slow, done, helper, slot, off, ds] {
    em.g.L(*slow);
    em.g.mov(rdi, r15);
    em.g.lea(rdx, em.g.ptr[rsp + slot]);
    em.CallHelper(helper);
    em.FaultIfFalse(off, ds);
    em.g.mov(eax, em.g.dword[rsp + slot]);
    em.g.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
  });
  return v;
}

void X86Ops::StoreSized(Value ea, Value v, unsigned size) {
  StoreThrough(ea, v, size, false);
}

// A store through the soft TLB (ea in esi, v in r8d meanwhile), the runtime's store path on a miss (which
// raises AdES for a misaligned address). `conditional`: SC's, whose result it returns in eax: after an
// aligned address with the LL bit clear 0 without an access, else 1 once stored (the alignment is tested
// first, as the handler does).
X86Ops::Value X86Ops::StoreThrough(Value ea, Value v, unsigned size, bool conditional) {
  Load(esi, ea);
  Load(r8d, v);
  Consumed(ea);
  Consumed(v);
  Spill();
  Value ok = conditional ? New(kSlot, 0, 0, false) : Value{};
  auto slow = std::make_shared<Xbyak::Label>();
  auto failed = std::make_shared<Xbyak::Label>();
  auto done = std::make_shared<Xbyak::Label>();
  if (conditional) {
    g_.test(esi, 3);
    g_.jnz(*slow, Xbyak::CodeGenerator::T_NEAR);
    g_.cmp(g_.byte[r15 + offsetof(CpuState, ll_bit)], 0);
    g_.je(*failed, Xbyak::CodeGenerator::T_NEAR);
  }
  ProbeEntry(size, offsetof(runtime::SoftTlbEntry, write), *slow);
  switch (size) {
    case 1: g_.mov(g_.byte[rcx + rsi], r8b); break;
    case 2: g_.mov(g_.word[rcx + rsi], r8w); break;
    default: g_.mov(g_.dword[rcx + rsi], r8d); break;
  }
  if (conditional) g_.mov(eax, 1);
  g_.L(*done);
  if (conditional) in_eax_ = ok.id;
  const void* helper = size == 1   ? reinterpret_cast<const void*>(&StoreHelper<uint8_t>)
                       : size == 2 ? reinterpret_cast<const void*>(&StoreHelper<uint16_t>)
                                   : reinterpret_cast<const void*>(&StoreHelper<uint32_t>);
  Emitter& em = em_;
  const uint32_t off = off_;
  const bool ds = ds_;
  em_.cold.push_back([&em, slow, failed, done, helper, off, ds, conditional] {
    if (conditional) {
      em.g.L(*failed);
      em.g.xor_(eax, eax);
      em.g.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
    }
    em.g.L(*slow);
    em.g.mov(rdi, r15);
    em.g.mov(edx, r8d);
    em.CallHelper(helper);
    em.FaultIfFalse(off, ds);
    if (conditional) em.g.mov(eax, 1);
    em.g.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
  });
  return ok;
}

// LL: the word and LLAddr through the soft TLB, the handler's LoadLinked on a miss.
bool X86Ops::LoadLinked(Value ea, unsigned, Value* out) {
  *out = LoadThrough(ea, 4, false, reinterpret_cast<const void*>(&LoadLinkedHelper), true);
  return true;
}

// SC: through the soft TLB, the runtime's store path on a miss (StoreThrough).
bool X86Ops::StoreConditional(Value ea, Value v, unsigned, Value* out) {
  *out = StoreThrough(ea, v, 4, true);
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

void Emitter::FaultIfFalse(uint32_t off, bool ds) {
  auto fault = std::make_shared<Xbyak::Label>();
  g.test(al, al);
  g.jz(*fault, Xbyak::CodeGenerator::T_NEAR);
  cold.push_back([this, fault, off, ds] {
    g.L(*fault);
    g.mov(rdi, r15);
    g.lea(esi, g.ptr[r14 + static_cast<int32_t>(off)]);
    g.mov(edx, ds ? 1 : 0);
    CallHelper(reinterpret_cast<const void*>(&DeliverHelper));
    g.xor_(eax, eax);
    g.jmp(exit, Xbyak::CodeGenerator::T_NEAR);
  });
}

void Emitter::Step(const DecodedInsn& d, uint32_t off, bool ds) {
  g.mov(rdi, r15);
  g.mov(rsi, reinterpret_cast<uintptr_t>(&d));  // the block's own decoded instruction: it outlives the code
  g.lea(edx, g.ptr[r14 + static_cast<int32_t>(off)]);
  CallHelper(reinterpret_cast<const void*>(&StepHelper));
  FaultIfFalse(off, ds);
}

void Emitter::Insn(const DecodedInsn& d, uint32_t off, bool ds, bool terminator) {
  if ((terminator || !(d.flags & mips::kBranch)) && !mips::sem::Cp0AccessNeedsHandler(d)) {
    X86Ops ops(*this, off, ds);
    bool shared;
    mips::sem::RunWrittenOnce(ops, d, &shared);
    if (shared) return ops.Finish();
  }
  if (d.op == mips::Opcode::RDHWR && d.rd == runtime::kHwrUserLocal) return ReadUserLocal(d, off, ds);
  Step(d, off, ds);
}

// RDHWR rt, $29 (glibc's thread pointer): UserLocal inline where runtime::ReadHwr gives it whatever the
// mode (implemented, and enabled in HWREna as Linux sets it), the handler otherwise (as the lifter does).
void Emitter::ReadUserLocal(const DecodedInsn& d, uint32_t off, bool ds) {
  using CG = Xbyak::CodeGenerator;
  Xbyak::Label slow, done;
  g.test(g.dword[r15 + offsetof(CpuState, cp0.hwrena)], 1u << runtime::kHwrUserLocal);
  g.jz(slow, CG::T_NEAR);
  g.test(g.dword[r15 + offsetof(CpuState, cp0.config3)], runtime::config3::ULRI);
  g.jz(slow, CG::T_NEAR);
  if (d.rt != 0) {
    g.mov(eax, g.dword[r15 + offsetof(CpuState, cp0.userlocal)]);
    g.mov(g.dword[r15 + 4 * d.rt], eax);
  }
  g.jmp(done, CG::T_NEAR);
  g.L(slow);
  Step(d, off, ds);
  g.L(done);
}

void Emitter::Prologue(Xbyak::CodeGenerator& g) {
  g.push(r15);
  g.push(r14);
  g.push(r13);
  g.push(rbx);
  g.sub(rsp, static_cast<uint32_t>(kFrame));
  g.mov(r15, rdi);
  g.mov(r14d, esi);
  g.mov(rbx, rdx);
  g.mov(r13, rcx);
}

void Emitter::Epilogue(Xbyak::CodeGenerator& g) {
  g.add(rsp, static_cast<uint32_t>(kFrame));
  g.pop(rbx);
  g.pop(r13);
  g.pop(r14);
  g.pop(r15);
  g.ret();
}

size_t Emitter::BodyOffset() {
  static const size_t offset = [] {
    std::vector<uint8_t> buf(256);
    Xbyak::CodeGenerator g(buf.size(), buf.data());
    Prologue(g);
    return g.getSize();
  }();
  return offset;
}

// Entered with r13 = the block, edx = the successor's page offset + 1 (as Block::succ_off), r8d = how far
// it lies past the block's start. The successor the dispatcher found for this block before (Block::succ:
// same page, valid as long as this block is) is entered if it has baseline code, no translated code, and
// its count may go up by one without the dispatcher's seeing it (the dispatcher acts when a count reaches
// a threshold (CpuState::hot_threshold) or the early count, not above them: a block left hot but without
// translated code, queued or declined by the tier, is still entered): the checks and the accounting of
// Interpreter::Run. Otherwise back to the dispatcher with the PC set, returning the successor (tagged, see
// Block::BaselineFn) if it was found, else the block (it may chain).
//
// With chaining.far, a successor that is not in Block::succ is found in the code cache's table of blocks
// (the CpuState's code_blocks) by its physical address: the far entry (r13 = the block, r8d = the
// distance, which may lead out of the page) starts at that probe. A kseg0/kseg1 successor only from a block
// in kseg0/kseg1: the block ran there, so the CPU is in kernel mode (what changes the mode ends a block and
// returns to the dispatcher), and such an address names its physical address without the TLB. Any other
// successor's page is translated through the soft TLB's fetch entry, exactly as the dispatcher's
// TranslateFetch hits (the current mode's table and ASID, an aligned address), and a miss goes back to the
// dispatcher. Either way the dispatcher's lookup would find what the table holds for that address (the
// table's slots are cleared when their blocks go).
size_t Emitter::GoOnPath(Xbyak::CodeGenerator& g, const BaselineChaining& chaining) {
  using CG = Xbyak::CodeGenerator;
  Xbyak::Label second, probe, have, found, out;
  const bool far = chaining.far;
  g.cmp(g.word[r13 + offsetof(Block, succ_off)], dx);
  g.jne(second, CG::T_NEAR);
  g.mov(rcx, g.qword[r13 + offsetof(Block, succ)]);
  g.jmp(have, CG::T_NEAR);
  g.L(second);
  g.cmp(g.word[r13 + offsetof(Block, succ_off) + 2], dx);
  g.jne(far ? probe : out, CG::T_NEAR);
  g.mov(rcx, g.qword[r13 + offsetof(Block, succ) + 8]);
  g.jmp(have, CG::T_NEAR);
  size_t far_offset = 0;
  if (far) {
    g.align(16);
    far_offset = g.getSize();
    g.L(probe);
    Xbyak::Label mapped, physical;
    constexpr uint32_t kWindow = 2 * runtime::kUnmappedWindow;           // kseg0 and kseg1
    constexpr auto kMinusKseg0 = static_cast<int32_t>(runtime::kKseg0);  // 2^31: adding is subtracting
    g.lea(eax, g.ptr[r14 + r8]);                                         // the successor's address
    g.lea(edx, g.ptr[rax + kMinusKseg0]);
    g.cmp(edx, kWindow);
    g.jae(mapped, CG::T_NEAR);
    g.lea(edx, g.ptr[r14 + kMinusKseg0]);  // into kseg0/kseg1 only from there (kernel mode, see above)
    g.cmp(edx, kWindow);
    g.jae(out, CG::T_NEAR);
    g.and_(eax, runtime::kUnmappedWindow - 1);  // its physical address
    g.jmp(physical, CG::T_NEAR);
    // A mapped successor: the soft TLB's fetch entry for it, as the dispatcher's TranslateFetch takes it
    // (this mode's table, this ASID, an aligned address); a miss goes back to the dispatcher, which refills.
    g.L(mapped);
    g.test(al, 3);
    g.jnz(out, CG::T_NEAR);
    g.mov(edx, eax);
    g.shr(edx, runtime::kPageBits);
    g.and_(edx, runtime::SoftTlb::kEntries - 1);
    g.mov(r10d, eax);
    g.and_(r10d, runtime::kPageMask);
    g.or_(r10, g.qword[r15 + kOffAsidKey]);
    g.mov(r11, g.qword[r15 + kOffStlb]);
    g.mov(rsi, rdx);
    g.shl(rsi, 5);
    static_assert(sizeof(runtime::SoftTlbEntry) == 32);
    g.cmp(g.qword[r11 + rsi + offsetof(runtime::SoftTlbEntry, fetch)], r10);
    g.jne(out, CG::T_NEAR);
    g.mov(r11, g.qword[r15 + kOffStlbPaddr]);
    g.and_(eax, ~runtime::kPageMask);
    g.or_(eax, g.dword[r11 + rdx * 4]);
    g.L(physical);
    g.mov(edx, eax);  // its slot: code::SlotOf(paddr, kFastBits)
    g.shr(edx, 2);
    g.imul(edx, edx, code::kSlotHash);
    g.shr(edx, 32 - code::CodeCache::kFastBits);
    g.mov(r10, g.qword[r15 + kOffCodeBlocks]);
    g.mov(rcx, g.qword[r10 + rdx * 8]);
    g.test(rcx, rcx);
    g.jz(out, CG::T_NEAR);
    g.cmp(g.dword[rcx + offsetof(Block, paddr)], eax);  // a misaligned address never matches
    g.jne(out, CG::T_NEAR);
  }
  g.L(have);
  g.mov(rax, g.qword[r15 + kOffCycles]);
  g.cmp(rax, rbx);
  g.jae(found, CG::T_NEAR);
  g.cmp(g.dword[r15 + kOffExitRequest], 0);
  g.jne(found, CG::T_NEAR);
  g.cmp(g.qword[rcx + offsetof(Block, native)], 0);
  g.jne(found, CG::T_NEAR);
  g.mov(rax, g.qword[rcx + offsetof(Block, baseline)]);
  g.test(rax, rax);
  g.jz(found, CG::T_NEAR);
  if (chaining.cooling_shift) {
    g.mov(rdx, g.qword[r15 + kOffRetired]);
    g.shr(rdx, static_cast<uint8_t>(chaining.cooling_shift));
    g.cmp(g.dword[rcx + offsetof(Block, heat_epoch)], edx);
    g.jne(found, CG::T_NEAR);
  }
  g.mov(edx, g.dword[rcx + offsetof(Block, heat)]);
  g.add(edx, 1);
  // The dispatcher's thresholds for this slice (CpuState::hot_threshold, user and kernel code's), so that
  // the tier may change them while the code stays.
  static_assert(sizeof(Block::kernel) == 1 && sizeof(CpuState::hot_threshold[0]) == 4);
  g.movzx(r10d, g.byte[rcx + offsetof(Block, kernel)]);
  g.cmp(edx, g.dword[r15 + r10 * 4 + offsetof(CpuState, hot_threshold)]);
  g.je(found, CG::T_NEAR);
  if (chaining.early && chaining.early <= UINT32_MAX) {
    g.cmp(edx, static_cast<uint32_t>(chaining.early));
    g.je(found, CG::T_NEAR);
  }
  g.mov(g.dword[rcx + offsetof(Block, heat)], edx);
  g.add(g.qword[rcx + offsetof(Block, exec_count)], 1);
  g.movzx(edx, g.word[rcx + offsetof(Block, size)]);
  g.add(g.qword[r15 + kOffCycles], rdx);
  g.add(g.qword[r15 + kOffRetired], rdx);
  g.lea(r14d, g.ptr[r14 + r8]);
  g.mov(r13, rcx);
  g.add(rax, static_cast<uint32_t>(BodyOffset()));
  g.jmp(rax);
  g.L(found);  // back to the dispatcher with the successor it would look up: it runs that next
  g.lea(eax, g.ptr[r14 + r8]);
  g.mov(g.dword[r15 + kOffPc], eax);
  g.lea(rax, g.ptr[rcx + code::kNextBlockTag]);
  Epilogue(g);
  g.L(out);
  g.lea(eax, g.ptr[r14 + r8]);
  g.mov(g.dword[r15 + kOffPc], eax);
  g.mov(rax, r13);
  Epilogue(g);
  return far_offset;
}

void Emitter::GoOn(const Block& b, int64_t delta) {
  using CG = Xbyak::CodeGenerator;
  const int64_t in_page = static_cast<int64_t>(b.paddr & ~runtime::kPageMask) + delta;
  const auto to = static_cast<int32_t>(delta);
  if (go_on_ && in_page >= 0 && in_page < static_cast<int64_t>(runtime::kPageSize)) {
    g.mov(edx, static_cast<uint32_t>(in_page) + 1);
    g.mov(r8d, static_cast<uint32_t>(to));
    g.mov(rax, reinterpret_cast<uintptr_t>(go_on_));
    g.jmp(rax);
    return;
  }
  if (go_far_) {
    g.mov(r8d, static_cast<uint32_t>(to));
    GoFar();
    return;
  }
  g.lea(eax, g.ptr[r14 + to]);
  g.mov(g.dword[r15 + kOffPc], eax);
  g.mov(rax, r13);
  g.jmp(exit, CG::T_NEAR);
}

void Emitter::GoFar() {
  g.mov(rax, reinterpret_cast<uintptr_t>(go_far_));
  g.jmp(rax);
}

// The same effects as Interpreter::Execute, whose accounting (cycles, retired, executions) the caller does,
// then on to a successor's code where Interpreter::Run would have gone straight there.
bool Emitter::Emit(const Block& b) {
  using CG = Xbyak::CodeGenerator;
  if (b.end == BlockEnd::kBranchSplit) return false;
  Prologue(g);
  if (g.getSize() != BodyOffset()) return false;
  const uint32_t body = b.body;
  for (uint32_t i = 0; i < body; ++i) Insn(b.ops[i], 4 * i, false);
  const uint32_t off = 4 * body;
  switch (b.end) {
    case BlockEnd::kFallThrough: GoOn(b, off); break;
    case BlockEnd::kEndsBlock:
      g.lea(eax, g.ptr[r14 + static_cast<int32_t>(off + 4)]);  // ERET and exceptions overwrite it
      g.mov(g.dword[r15 + kOffPc], eax);
      Step(b.ops[body], off, false);
      g.xor_(eax, eax);
      g.jmp(exit, CG::T_NEAR);
      break;
    case BlockEnd::kBranch: {
      const DecodedInsn& br = b.ops[body];
      const DecodedInsn& slot = b.ops[body + 1];
      branch_static = false;
      Insn(br, off, false, true);
      const int64_t taken_delta = static_cast<int64_t>(off) + 4 + branch_disp;
      // A PC-relative branch (X86Ops::Branch) put its outcome in the frame and its target is a constant;
      // the others left both in the CpuState, whence they go to the frame.
      if (!branch_static) {
        g.movzx(eax, g.byte[r15 + kOffTaken]);
        g.mov(g.dword[rsp], eax);
        g.mov(eax, g.dword[r15 + kOffTarget]);
        g.mov(g.dword[rsp + 8], eax);
      }
      if (br.flags & mips::kLikely) {  // not taken: the slot is nullified
        Xbyak::Label taken;
        g.cmp(g.dword[rsp], 0);
        g.jne(taken, CG::T_NEAR);
        GoOn(b, off + 8);
        g.L(taken);
      }
      Insn(slot, off + 4, true);
      if (slot.flags & mips::kEndsBlock) {  // e.g. MTC0 in a delay slot: back to the dispatcher
        g.lea(eax, g.ptr[r14 + static_cast<int32_t>(off + 8)]);
        g.cmp(g.dword[rsp], 0);
        if (branch_static) {
          g.lea(ecx, g.ptr[r14 + static_cast<int32_t>(taken_delta)]);
          g.cmovne(eax, ecx);
        } else {
          g.cmovne(eax, g.dword[rsp + 8]);
        }
        g.mov(g.dword[r15 + kOffPc], eax);
        g.xor_(eax, eax);
        g.jmp(exit, CG::T_NEAR);
        break;
      }
      Xbyak::Label not_taken;
      g.cmp(g.dword[rsp], 0);
      g.je(not_taken, CG::T_NEAR);
      if (branch_static) {
        GoOn(b, taken_delta);
      } else if (go_far_) {  // e.g. a return: the probe finds the successor
        g.mov(r8d, g.dword[rsp + 8]);
        g.sub(r8d, r14d);
        GoFar();
      } else {
        g.mov(eax, g.dword[rsp + 8]);
        g.mov(g.dword[r15 + kOffPc], eax);
        g.mov(rax, r13);
        g.jmp(exit, CG::T_NEAR);
      }
      g.L(not_taken);
      GoOn(b, off + 8);
      break;
    }
    case BlockEnd::kBranchSplit: return false;
  }
  g.L(exit);
  Epilogue(g);
  for (size_t i = 0; i < cold.size(); ++i) cold[i]();  // a cold path may add more (none do today)
  return !overflow;
}

}  // namespace

bool CompileBaseline(Block& b, code::CodeCache& cache, const BaselineChaining& chaining) {
  b.baseline_tried = true;
  if (b.end == BlockEnd::kBranchSplit) return false;
  code::BaselinePool& pool = cache.baseline_pool();
  // The shared paths into successors, made once per pool for the counts they were made with.
  code::BaselinePool::Paths paths;
  const bool go_on =
      chaining.threshold > 1 && pool.SharedPaths(
                                    {chaining.early, chaining.cooling_shift, chaining.far ? 1u : 0u},
                                    [&](std::vector<uint8_t>& out) -> size_t {
                                      thread_local std::vector<uint8_t> buf(4096);
                                      Xbyak::ClearError();
                                      Xbyak::CodeGenerator sg(buf.size(), buf.data());
                                      const size_t far = Emitter::GoOnPath(sg, chaining);
                                      if (!Xbyak::GetError())
                                        out.assign(sg.getCode(), sg.getCode() + sg.getSize());
                                      Xbyak::ClearError();
                                      return far;
                                    },
                                    &paths);
  const code::BaselineKey key{b.ops.data(), static_cast<uint32_t>(b.ops.size()),
                              b.paddr & ~runtime::kPageMask, go_on ? paths.index : 0};
  if (code::BaselinePool::Ref held = pool.Acquire(key); held.get()) {  // another block's, maybe another VM's
    cache.SetBaseline(b, std::move(held));
    return true;
  }
  // Generous: a block is at most 128 instructions, each at most a few hundred bytes with its cold paths.
  thread_local std::vector<uint8_t> scratch(256 * 1024);
  Xbyak::ClearError();
  Xbyak::CodeGenerator g(scratch.size(), scratch.data());
  Emitter em(g, go_on ? paths.entry : nullptr, go_on ? paths.second : nullptr);
  if (!em.Emit(b)) return false;
  g.ready();
  if (Xbyak::GetError()) {
    Xbyak::ClearError();
    return false;
  }
  code::BaselinePool::Ref made = pool.Keep(key, g.getCode(), g.getSize());
  if (!made.get()) return false;
  cache.SetBaseline(b, std::move(made));
  return true;
}

}  // namespace strobe::interp
