// SPDX-License-Identifier: MIT
// The FPU in lifted code (see lifter_impl.h).
#include "translator/jit/helpers.h"
#include "translator/llvm/lifter_impl.h"

namespace strobe::jit::detail {

// FPU instructions (rows flagged kCop1 that are not branches). Returns false if control left the function.
bool Lifter::EmitFpu(const DecodedInsn& d, uint32_t off, bool ds) {
  switch (d.op) {
    case Opcode::MFC1:
    case Opcode::MTC1:
    case Opcode::MOV_S:
    case Opcode::LWC1:
    case Opcode::SWC1: FpuWordMove(d, off, ds); return true;
    default: return Step(d, off, ds);  // FP arithmetic, conversions, compares ...: the handler
  }
}

// BC1F, BC1T and their likely forms: the handler checks CU1 (and may raise) and records the outcome.
llvm::Value* Lifter::FpuBranchTaken(const DecodedInsn& d, uint32_t off) {
  Step(d, off, false);
  return b_.CreateTrunc(b_.CreateLoad(i8_, Field(kOffBranchTaken)), i1_);
}

// --- the FPU's word moves ---
// MFC1, MTC1, MOV.S, LWC1 and SWC1 move the low word of an FPR, which is the same word whatever Status.FR
// says (see semantics/fpu_core.h: Word/SetWord), so they are plain loads and stores of that word once
// Status.CU1 is known to be set. Without CU1 the handler runs instead and raises Coprocessor Unusable.
void Lifter::RequireFpu(const DecodedInsn& d, uint32_t off, bool ds) {
  llvm::Value* status = b_.CreateLoad(i32_, Field(kOffStatus));
  llvm::Value* unusable = b_.CreateICmpEQ(b_.CreateAnd(status, Imm(runtime::st::CU1)), Imm(0));
  auto* fault = llvm::BasicBlock::Create(ctx_, "fpu_unusable", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "fpu_usable", fn_);
  Unlikely(unusable, fault, cont);
  b_.SetInsertPoint(fault);
  auto* ty = llvm::FunctionType::get(i1_, {ptr_, ptr_, i32_, i32_}, false);
  llvm::Value* insn = b_.CreateIntToPtr(b_.getInt64(reinterpret_cast<uint64_t>(&d)), ptr_);
  CallRuntime(ty, reinterpret_cast<void*>(&strobe_jit_step), {cpu_, insn, Pc(off), b_.getInt32(ds)},
              SyncSet::kAll);
  ExitAfterException();
  b_.SetInsertPoint(cont);
}

void Lifter::FpuWordMove(const DecodedInsn& d, uint32_t off, bool ds) {
  RequireFpu(d, off, ds);
  switch (d.op) {
    case Opcode::MFC1: SetGpr(d.rt, b_.CreateLoad(i32_, FprWord(d.rd))); break;
    case Opcode::MTC1: b_.CreateStore(Gpr(d.rt), FprWord(d.rd)); break;
    case Opcode::MOV_S: b_.CreateStore(b_.CreateLoad(i32_, FprWord(d.rd)), FprWord(d.sa)); break;
    case Opcode::LWC1: b_.CreateStore(Load(Ea(d), 4, false, off, ds, d.rs), FprWord(d.rt)); break;
    default: Store(Ea(d), b_.CreateLoad(i32_, FprWord(d.rt)), 4, off, ds, d.rs); break;  // SWC1
  }
}

}  // namespace strobe::jit::detail
