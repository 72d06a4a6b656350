// SPDX-License-Identifier: MIT
// The region lifter behind LiftRegion (lifter.h): one class whose parts live in several files, as in
// dynarmic's translate/impl. The declarations are grouped under the file that implements them:
// lifter.cpp (the region's frame, guest state, exits and chaining, integer instructions and branches),
// lifter_memory.cpp (the soft TLB probe, loads and stores) and lifter_fpu.cpp (the FPU). Only those files
// include this header.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/cpu_state.h"
#include "runtime/soft_tlb.h"
#include "translator/code/region.h"
#include "translator/llvm/lifter.h"
#include "translator/llvm/page_reuse.h"

namespace strobe::jit::detail {

using mips::DecodedInsn;
using mips::Opcode;
using runtime::CpuState;

constexpr uint64_t kOffPc = offsetof(CpuState, pc);
constexpr uint64_t kOffExitRequest = offsetof(CpuState, exit_request);
constexpr uint64_t kOffStlb = offsetof(CpuState, stlb);
constexpr uint64_t kOffAsidKey = offsetof(CpuState, asid_key);
constexpr uint64_t kOffCycles = offsetof(CpuState, cycles);
constexpr uint64_t kOffCodeEpoch = offsetof(CpuState, code_epoch);
constexpr uint64_t kOffUnmappedRead = offsetof(CpuState, unmapped_read);
constexpr uint64_t kOffUnmappedWrite = offsetof(CpuState, unmapped_write);
constexpr uint64_t kOffHi = offsetof(CpuState, hi);
constexpr uint64_t kOffLo = offsetof(CpuState, lo);
constexpr uint64_t kOffBranchTaken = offsetof(CpuState, branch_taken);
constexpr uint64_t kOffStatus = offsetof(CpuState, cp0.status);
constexpr uint64_t kOffLlBit = offsetof(CpuState, ll_bit);
constexpr uint64_t kOffLlAddr = offsetof(CpuState, cp0.lladdr);
constexpr uint64_t kOffStlbPaddr = offsetof(CpuState, stlb_paddr);
constexpr uint64_t kOffJumpCache = offsetof(CpuState, jump_cache);
constexpr uint64_t kOffFpr = offsetof(CpuState, fpu.fpr);
constexpr uint64_t kOffFcsr = offsetof(CpuState, fpu.fcsr);
constexpr uint64_t kEntrySize = sizeof(runtime::SoftTlbEntry);
constexpr uint64_t kOffTagRead = offsetof(runtime::SoftTlbEntry, read);
constexpr uint64_t kOffTagWrite = offsetof(runtime::SoftTlbEntry, write);
constexpr uint64_t kOffTagFetch = offsetof(runtime::SoftTlbEntry, fetch);
constexpr uint64_t kOffAddend = offsetof(runtime::SoftTlbEntry, addend);

class Lifter {
 public:
  Lifter(const Region& region, llvm::Module& m, const std::string& name, const LiftOptions& options);
  llvm::Function* Lift();
  uint32_t site_count() const { return site_count_; }  // chain sites the code uses (Region::site_count)

 private:
  // === lifter.cpp ===
  // --- state access ---
  llvm::Value* Field(uint64_t off) { return b_.CreateConstInBoundsGEP1_64(i8_, cpu_, off); }

  // Two ways to hold guest state. Memory mode: registers, HI/LO and the cycle count live in the vCPU
  // state (noalias), read and written in place, so exits and runtime calls need no flush; this suits the
  // first tier, whose fast register allocator would spill promoted values at every block boundary anyway,
  // and most regions of the optimising tiers too (jit::Promote).
  // Promote mode (optimising tiers, regions with a tight loop): each one the region touches is an alloca,
  // loaded at entry and an SSA value after mem2reg, so a hot loop keeps its guest registers in host
  // registers. Values are written back (synced) before every exit and before calls that observe them, and
  // reloaded after calls that may change them; sync points are recorded while lifting and filled in at the
  // end (PlaceSyncs), once the set of values the region writes is known.
  enum Var : unsigned { kVarHi = 32, kVarLo = 33, kVarCycles = 34, kVarCount = 35 };
  enum class SyncSet { kAll, kCycles };
  static uint64_t VarOffset(unsigned v);
  llvm::Type* VarType(unsigned v) { return v == kVarCycles ? i64_ : i32_; }
  llvm::AllocaInst* VarSlot(unsigned v);
  llvm::Value* Read(unsigned v);
  void Write(unsigned v, llvm::Value* x);
  // Write-back before the next instruction the builder emits / reload after `after`.
  void SyncOut(SyncSet set);
  void SyncIn(llvm::Instruction* after, SyncSet set);
  void PlaceSyncs();

  llvm::Value* Gpr(unsigned r) { return r == 0 ? b_.getInt32(0) : Read(r); }
  void SetGpr(unsigned r, llvm::Value* v);
  llvm::Value* Hi() { return Read(kVarHi); }
  llvm::Value* Lo() { return Read(kVarLo); }
  void SetHi(llvm::Value* v) { Write(kVarHi, v); }
  void SetLo(llvm::Value* v) { Write(kVarLo, v); }
  llvm::Value* Cycles() { return Read(kVarCycles); }
  llvm::Value* Pc(uint32_t off) { return b_.CreateAdd(vbase_, b_.getInt32(off)); }
  // A runtime call that may read or change the cycle count (device time, exceptions) / any guest state.
  llvm::CallInst* CallRuntime(llvm::FunctionType* ty, const char* fn, llvm::ArrayRef<llvm::Value*> args,
                              SyncSet set);

  void CountEntry();
  void Increment(llvm::Value* counter) { AddTo(counter, b_.getInt64(1)); }
  void AddTo(llvm::Value* counter, llvm::Value* n);  // a u64 in memory
  llvm::Value* FrameTable(uint64_t off, const char* name);
  llvm::Value* InsnRef(const DecodedInsn& d);

  // --- control flow ---
  void ExitWith(llvm::Value* pc);
  // The runtime delivered an exception (or an instruction set the PC itself): c->pc is already right.
  void ExitAfterException() { b_.CreateBr(fault_bb_); }
  void EmitExit();
  void LeaveTo(llvm::Value* target);
  void EmitChain(llvm::Value* target, llvm::Value* sp);
  void AccountRetired();
  // Conditional branches with a known bias (see BranchLikely).
  void Likely(llvm::Value* cond, llvm::BasicBlock* usual, llvm::BasicBlock* rare) {
    BranchLikely(b_, cond, usual, rare);
  }
  void Unlikely(llvm::Value* cond, llvm::BasicBlock* rare, llvm::BasicBlock* usual);
  llvm::Value* MustLeave(uint64_t fit = 0);
  void EmitDispatch();
  void EmitSwitch(llvm::Value* target);
  llvm::Value* InRegionPages(llvm::Value* delta);
  using CaseList = std::vector<std::pair<uint32_t, llvm::BasicBlock*>>;
  void EmitCompareTree(llvm::Value* delta, const CaseList& cases, size_t lo, size_t hi,
                       llvm::BasicBlock* unknown);
  void JumpDynamic(llvm::Value* target);
  void JumpStatic(int64_t off);

  // --- helpers into the runtime ---
  llvm::Value* Callee(llvm::FunctionType* ty, const char* name);  // code/abi.h
  void Raise(runtime::ExcCode code, uint32_t off, bool ds);
  void RaiseIf(llvm::Value* cond, runtime::ExcCode code, uint32_t off, bool ds);
  bool Step(const DecodedInsn& d, uint32_t off, bool ds);

  // --- instructions ---
  llvm::Value* Imm(uint32_t v) { return b_.getInt32(v); }
  static int64_t Signed(uint32_t off) { return static_cast<int32_t>(off); }  // offsets below the page
  llvm::Value* InUnmappedSegment(llvm::Value* va);
  llvm::Value* Bool32(llvm::Value* i1) { return b_.CreateZExt(i1, i32_); }
  llvm::Value* HiLo();
  void SetHiLo(llvm::Value* v64);
  llvm::Value* Rotr(llvm::Value* x, llvm::Value* n);
  llvm::Value* Clz(llvm::Value* x);
  // The handlers written once over an emitter (mips/semantics/common.h) emit IR through Ops
  // (lifter_ops.h); EmitShared runs the one for d if it is written so (*shared), else does nothing.
  class Ops;
  bool EmitShared(const DecodedInsn& d, uint32_t off, bool ds, bool* shared);
  bool EmitOp(const DecodedInsn& d, uint32_t off, bool ds);
  bool ReadUserLocal(const DecodedInsn& d, uint32_t off, bool ds);  // RDHWR rt, $29

  // --- branches ---
  struct BranchOutcome {
    llvm::Value* taken = nullptr;  // i1
    int64_t static_target = 0;     // page offset, when dynamic_target is null
    llvm::Value* dynamic_target = nullptr;
    // J/JAL: the target's offset when a block of the region starts there (in kseg0/kseg1, vbase + offset
    // is the jump's target; elsewhere it is computed).
    std::optional<int64_t> span_target;
  };
  BranchOutcome EmitBranch(const DecodedInsn& d, uint32_t off);
  llvm::Value* SlotNextPc();
  void GoTaken(const BranchOutcome& o);
  void GoDynamic(const BranchOutcome& o);
  void EmitBlock(const RegionBlock& blk);

  // === lifter_memory.cpp ===
  llvm::Value* TlbEntry(llvm::Value* va);
  llvm::Value* ProbeHit(llvm::Value* entry, llvm::Value* va, unsigned size, uint64_t tag_off);
  llvm::Value* Addend(llvm::Value* entry);
  llvm::Value* HostPtr(llvm::Value* addend, llvm::Value* va);
  llvm::Type* IntOf(unsigned size) { return size == 1 ? i8_ : size == 2 ? i16_ : i32_; }
  llvm::Value* LoadHost(llvm::Value* p, unsigned size, bool sign);
  void StoreHost(llvm::Value* p, llvm::Value* value, unsigned size);
  llvm::BasicBlock* UnmappedPath(llvm::Value* va, unsigned size, llvm::Value* table, llvm::BasicBlock* join,
                                 const std::function<void(llvm::Value*)>& access);
  // word_around: an LWL/LWR's ea, whose aligned word va is (the runtime is given ea: a fault reports it).
  llvm::Value* Load(llvm::Value* va, unsigned size, bool sign, uint32_t off, bool ds, int base = -1,
                    llvm::Value* word_around = nullptr);
  // mask: an SWL/SWR; va is its ea, and value's bytes where mask's are set go into ea's aligned word.
  void Store(llvm::Value* va, llvm::Value* value, unsigned size, uint32_t off, bool ds, int base = -1,
             llvm::Value* mask = nullptr);
  // LL and SC (semantics/common.h's LoadLinked and StoreConditional): the soft TLB inline, the runtime's
  // load and store paths otherwise.
  llvm::Value* LoadLinked(llvm::Value* va, uint32_t off, bool ds);
  llvm::Value* RuntimeLoad(llvm::Value* va, uint32_t size_and_flags, uint32_t off, bool ds);
  void RuntimeStore(const char* symbol, llvm::ArrayRef<llvm::Value*> args, uint32_t off, bool ds);
  llvm::Value* StoreConditional(llvm::Value* va, llvm::Value* value, uint32_t off, bool ds);
  void ExitIfRequested(uint32_t off, bool ds);
  llvm::Value* Ea(const DecodedInsn& d);

  // === lifter_fpu.cpp ===
  bool EmitFpu(const DecodedInsn& d, uint32_t off, bool ds);
  llvm::Value* FpuBranchTaken(const DecodedInsn& d, uint32_t off);
  // --- guest FPU state ---
  llvm::Value* FprWord(unsigned r) { return Field(kOffFpr + 8 * r); }  // little-endian: the low half
  std::pair<llvm::Value*, llvm::Value*> FprDwordWords(unsigned r, llvm::Value* fr, bool pairs_checked);
  llvm::Value* ReadFpr(unsigned r, bool wide, llvm::Value* fr);
  void WriteFpr(unsigned r, bool wide, llvm::Value* fr, llvm::Value* v);
  llvm::Value* FpuStatus();
  llvm::Value* FpuFr();
  llvm::Value* FpuUnusable();
  void RequireFpu(const DecodedInsn& d, uint32_t off, bool ds, llvm::Value* also = nullptr);
  // --- moves, loads and stores ---
  void FpuWordMove(const DecodedInsn& d, uint32_t off, bool ds);
  void FpuMove(const DecodedInsn& d, uint32_t off, bool ds);
  void FpuDwordAccess(const DecodedInsn& d, uint32_t off, bool ds);
  // --- computation: host arithmetic where it is the handler's result, the handler otherwise ---
  void FpuCompute(const DecodedInsn& d, uint32_t off, bool ds);
  void FpuCompare(const DecodedInsn& d, uint32_t off, bool ds);
  void FpuHandler(const DecodedInsn& d, uint32_t off, bool ds, bool memory);
  void FpuFastOrHandler(const DecodedInsn& d, uint32_t off, bool ds, llvm::Value* slow,
                        const std::function<void()>& fast);

  // --- state ---
  const Region& region_;
  const LiftOptions options_;
  llvm::LLVMContext& ctx_;
  llvm::Module& m_;
  llvm::IRBuilder<> b_;
  PageReuse reuse_{b_, options_.reuse_pages};
  llvm::Type *i1_, *i8_, *i16_, *i32_, *i64_, *ptr_;
  llvm::Function* fn_;
  llvm::Value *cpu_, *vbase_, *limit_, *frame_;
  llvm::Value *sites_ = nullptr, *counters_ = nullptr;  // the frame's tables
  uint32_t site_count_ = 0;
  llvm::AllocaInst *dyn_, *out_;
  llvm::Value *cycles_at_entry_, *stlb_, *asid_key_, *unmapped_read_, *unmapped_write_;
  llvm::BasicBlock *exit_bb_, *fault_bb_, *ret_bb_, *dispatch_bb_, *switch_bb_, *entry_switch_bb_;
  llvm::PHINode* exit_pc_ = nullptr;
  llvm::BasicBlock* leave_bb_ = nullptr;
  llvm::PHINode *leave_target_ = nullptr, *leave_site_ = nullptr;
  std::map<uint32_t, llvm::BasicBlock*> block_bb_;
  llvm::BasicBlock* entry_bb_ = nullptr;
  int64_t cur_block_ = 0;           // page offset of the block being lifted
  uint32_t cur_block_end_ = 0;      // and the offset just past its last instruction (its delay slot)
  llvm::Value* span_ok_ = nullptr;  // i1: vbase is in kseg0/kseg1 (static J/JAL targets, other pages)
  struct SlotContext {
    const BranchOutcome* branch = nullptr;
    uint32_t branch_off = 0;
    bool likely = false;  // the slot runs only on the taken path
  } slot_;                // while lifting a delay slot: its branch
  struct FpuBlockState {  // what the FPU instructions of the guest block being lifted know (lifter_fpu.cpp)
    int64_t block = 0;
    llvm::Value* status = nullptr;  // Status, loaded at the block's first FP instruction
    llvm::Value* fr = nullptr;      // i1: Status.FR
    bool usable = false;            // CU1 was found set
  } fpu_;
  // Promote mode.
  llvm::AllocaInst* slots_[kVarCount] = {};
  bool written_[kVarCount] = {};
  struct OutPoint {
    llvm::BasicBlock* bb;
    size_t index;  // sync before the instruction at this position in bb
    SyncSet set;
  };
  struct InPoint {
    llvm::Instruction* after;
    SyncSet set;
  };
  std::vector<OutPoint> sync_out_;
  std::vector<InPoint> sync_in_;
};

}  // namespace strobe::jit::detail
