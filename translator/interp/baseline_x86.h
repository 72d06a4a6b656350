// SPDX-License-Identifier: MIT
// Inside the baseline emitter (baseline.h): the handlers' x86-64 emitter (X86Ops, baseline_ops.cpp) and the
// block emitter around it (Emitter, baseline.cpp), with the frame every block's code shares. Only those two
// files include this.
#pragma once

#define XBYAK_NO_EXCEPTION
#include <xbyak/xbyak.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/cp0_plain.h"
#include "runtime/cpu_state.h"
#include "translator/code/code_cache.h"
#include "translator/interp/baseline.h"
#include "translator/mips/decoder.h"

namespace strobe::interp::x86 {

using code::Block;
using code::BlockEnd;
using mips::DecodedInsn;
using runtime::CpuState;
using namespace Xbyak::util;

// What the code calls besides the memory paths (the C ABI; baseline_ops.cpp).
bool StepHelper(CpuState* c, const DecodedInsn* d, uint32_t pc);
void DeliverHelper(CpuState* c, uint32_t pc, uint32_t ds);
void RaiseHelper(CpuState* c, uint32_t code, uint32_t pc, uint32_t ds);

// The frame: r15 = the CpuState, r14d = the block's virtual address, r13 = its Block, rbx = the slice's
// limit for going on to successors; [rsp + 0] and [rsp + 8] the branch's outcome across its delay slot, then
// one 8-byte slot per value an instruction computes (values live for one instruction). Every block's code
// runs in the same frame, which the pool's shared entry makes and its leave path takes down (kEnterStub,
// kLeaveStub), so a block goes on to another's code at its first byte, and one shared path (the pool's,
// BaselinePool::SharedPaths) does the going on for all of them. The code names neither its Block nor
// anything else of one VM's (the table of blocks is the CpuState's code_blocks), so blocks with the same
// instructions at the same page offset share it, in every VM.
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
constexpr int kOffUnretired = offsetof(CpuState, unretired);
constexpr int kOffExitRequest = offsetof(CpuState, exit_request);
constexpr int kOffStlbPaddr = offsetof(CpuState, stlb_paddr);
constexpr int kOffCodeBlocks = offsetof(CpuState, code_blocks);

class Emitter;

// The memory accesses' shared soft TLB paths (BaselinePool::SharedStubs), one per kind, each in its own
// kStubSpan bytes: a load's takes the address in esi and returns the value in eax, a store's the address in
// esi and the value in r8d. A miss calls the runtime. They clobber what a C call may. An access that raised
// an exception does not return: the 4-byte NOP after its call (Emitter::CallMemory) carries the
// instruction's index in the block and whether it is in a delay slot, which the path reads to deliver the
// exception itself (kFaultStub), and the block ends. After them, in the same spans: the entry the
// dispatcher calls (kEnterStub: Block::BaselineEnter; it makes the frame and jumps to the code), the way back
// to it (kLeaveStub: jumped to with rax = the return value, it takes the frame down and returns), and the
// delivery of a recorded exception (kDeliverStub: jumped to with esi = the instruction's address and edx = 1
// in a delay slot; the block then returns null).
constexpr size_t kStubSpan = 128;
constexpr unsigned kEnterStub = 8, kLeaveStub = 9, kDeliverStub = 10, kFaultStub = 11;
constexpr unsigned kStubs = 12;
constexpr unsigned StubIndex(bool store, unsigned size, bool sign) {
  return store ? 5 + (size == 1   ? 0
                      : size == 2 ? 1
                                  : 2)
               : (size == 1   ? 0
                  : size == 2 ? 2
                              : 4) +
                     (sign ? 1 : 0);
}
// Writes them (runs anywhere: no relative reference leaves the code); false if one outgrew its span.
bool MemoryStubs(Xbyak::CodeGenerator& g);

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
  void MaskInterrupts();
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
  void StoreSized(Value ea, Value v, unsigned size);

  Emitter& em_;
  Xbyak::CodeGenerator& g_;
  uint32_t off_;
  bool ds_;
  std::vector<Val>& vals_;
  int in_eax_ = -1;
  int bool_in_eax_ = -1;  // the compare result (0 or 1) made last, which eax held when it was made
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
  // stubs: the pool's shared code (MemoryStubs: the memory paths, the entry, the exit, the delivery).
  Emitter(Xbyak::CodeGenerator& g, const void* go_on, const void* go_far, const uint8_t* stubs)
      : g(g), stubs(stubs), go_on_(go_on), go_far_(go_far) {}

  bool Emit(const Block& b);
  // The shared path into a successor (see GoOn), for these counts; returns the offset of its entry for
  // successors in other pages (GoFar), 0 if it has none.
  static size_t GoOnPath(Xbyak::CodeGenerator& g, const BaselineChaining& chaining);

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
  // A 32-bit call into the pool's shared code (stubs, go-on paths), its displacement written where the
  // code is kept (BaselinePool::Keep).
  void CallShared(const void* target) { Shared(0xE8, target); }
  void JumpShared(const void* target) { Shared(0xE9, target); }
  void Shared(uint8_t opcode, const void* target) {
    g.db(opcode);
    calls.push_back({static_cast<uint32_t>(g.getSize()), target});
    g.dd(0);
  }
  // Delivers the exception an instruction at `off` recorded (through kDeliverStub); the block ends.
  void Deliver(uint32_t off, bool ds);
  const uint8_t* stubs;
  std::vector<code::BaselinePool::Call> calls;
  // The exception recorded by a helper that returned false is delivered; the block ends.
  void FaultIfFalse(uint32_t off, bool ds);
  // Calls the shared path of memory access kind `stub` (StubIndex) for the instruction at `off`, tagged so
  // that the path delivers the exception the access may raise.
  void CallMemory(unsigned stub, uint32_t off, bool ds);
  void Step(const DecodedInsn& d, uint32_t off, bool ds);  // one instruction through the interpreter
  void ReadUserLocal(const DecodedInsn& d, uint32_t off, bool ds);
  // terminator: the block's own branch, which the handlers' emitter takes (in a delay slot a branch
  // runs through the interpreter's handler, as there).
  void Insn(const DecodedInsn& d, uint32_t off, bool ds, bool terminator = false);

 private:
  // Leaves for the instruction `delta` bytes past the block's start: into its successor's baseline code
  // when the dispatcher would have run that next and done nothing else, else back to the dispatcher.
  // near_exit: the block's exit label is less than 128 bytes past the end of this.
  void GoOn(const Block& b, int64_t delta, bool near_exit = false);
  // Into go_far_ (set), with r8d = how far the successor lies past the block's start.
  void GoFar(bool near_exit = false);
  // Calls the shared path `path`, which returns with the carry clear and rax = the successor's code to
  // jump to (from here, so that each exit's indirect jump is predicted on its own), or with the carry set
  // and rax = what the block returns to the dispatcher.
  void CallGoOn(const void* path, bool near_exit);
  const void* go_on_;
  const void* go_far_;
};

}  // namespace strobe::interp::x86
