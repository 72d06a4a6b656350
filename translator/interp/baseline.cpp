// SPDX-License-Identifier: MIT
// The baseline emitter's blocks: a block's code around its instructions (the terminator and the ways on to a
// successor or back to the dispatcher), the shared go-on path, and CompileBaseline. X86Ops (baseline_ops.cpp)
// writes the instructions and the shared paths of the memory accesses, the entry and the exit.
#include "translator/interp/baseline.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "runtime/segments.h"
#include "runtime/soft_tlb.h"
#include "translator/interp/baseline_x86.h"
#include "translator/mips/semantics/written_once.h"

namespace strobe::interp {

namespace x86 {

void Emitter::FaultIfFalse(uint32_t off, bool ds) {
  auto fault = std::make_shared<Xbyak::Label>();
  g.test(al, al);
  g.jz(*fault, Xbyak::CodeGenerator::T_NEAR);
  cold.push_back([this, fault, off, ds] {
    g.L(*fault);
    Deliver(off, ds);
  });
}

void Emitter::Deliver(uint32_t off, bool ds) {
  g.lea(esi, g.ptr[r14 + static_cast<int32_t>(off)]);
  if (ds) {
    g.mov(edx, 1);
  } else {
    g.xor_(edx, edx);
  }
  JumpShared(stubs + kStubSpan * kDeliverStub);
}

void Emitter::CallMemory(unsigned stub, uint32_t off, bool ds) {
  CallShared(stubs + kStubSpan * stub);
  // nop dword [rax + tag]: the instruction's index (a block has at most 128) and the delay slot bit
  static_assert(code::CodeCache::kMaxBlockInsns <= 128);
  const uint32_t index = off / 4;
  if (index >= 128) overflow = true;  // never: the block is abandoned
  const uint8_t tag[4] = {0x0F, 0x1F, 0x40, static_cast<uint8_t>((index & 0x7F) | (ds ? 0x80 : 0))};
  for (uint8_t byte : tag) g.db(byte);
}

void Emitter::Step(const DecodedInsn& d, uint32_t off, bool ds) {
  g.mov(rdi, r15);
  g.mov(rsi, reinterpret_cast<uintptr_t>(&d));  // the block's own decoded instruction: it outlives the code
  g.lea(edx, g.ptr[r14 + static_cast<int32_t>(off)]);
  CallHelper(reinterpret_cast<const void*>(&StepHelper));
  FaultIfFalse(off, ds);
}

void Emitter::Insn(const DecodedInsn& d, uint32_t off, bool ds, bool terminator) {
  if (d.raw == 0) return;  // NOP (SLL $0, $0, 0), common in delay slots: nothing to write
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

// Entered with r13 = the block, r8d = how far the successor lies past the block's start (its page offset +
// 1, as Block::succ_off has it, is worked out here: one register less to set at every exit). The successor
// the dispatcher found for this block before (Block::succ: same page, valid as long as this block is) is
// entered if it has baseline code, no translated code, and its count may go up by one without the
// dispatcher's seeing it (the dispatcher acts when a count reaches a threshold (CpuState::hot_threshold) or
// the early count, not above them: a block left hot but without translated code, queued or declined by the
// tier, is still entered): the checks and the accounting of Interpreter::Run. Otherwise back to the
// dispatcher with the PC set, returning the successor (tagged, see Block::BaselineFn) if it was found, else
// the block (it may chain). Blocks call the path (CallGoOn): it returns the successor's code with the carry
// clear, the block's return value with the carry set.
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
  g.lea(edx, g.ptr[r14 + r8]);  // its page offset + 1, as Block::succ_off has it
  g.and_(edx, ~runtime::kPageMask);
  g.add(edx, 1);
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
    g.mov(rdx, g.qword[r15 + kOffCycles]);  // CpuState::Retired()
    g.sub(rdx, g.qword[r15 + kOffUnretired]);
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
  g.lea(r14d, g.ptr[r14 + r8]);
  g.mov(r13, rcx);
  g.clc();
  g.ret();
  g.L(found);  // back to the dispatcher with the successor it would look up: it runs that next
  g.lea(eax, g.ptr[r14 + r8]);
  g.mov(g.dword[r15 + kOffPc], eax);
  g.lea(rax, g.ptr[rcx + code::kNextBlockTag]);
  g.stc();
  g.ret();
  g.L(out);
  g.lea(eax, g.ptr[r14 + r8]);
  g.mov(g.dword[r15 + kOffPc], eax);
  g.mov(rax, r13);
  g.stc();
  g.ret();
  return far_offset;
}

void Emitter::GoOn(const Block& b, int64_t delta, bool near_exit) {
  using CG = Xbyak::CodeGenerator;
  const int64_t in_page = static_cast<int64_t>(b.paddr & ~runtime::kPageMask) + delta;
  const auto to = static_cast<int32_t>(delta);
  const auto distance = [&] {
    if (to == 0) {
      g.xor_(r8d, r8d);
    } else {
      g.mov(r8d, static_cast<uint32_t>(to));
    }
  };
  if (go_on_ && in_page >= 0 && in_page < static_cast<int64_t>(runtime::kPageSize)) {
    distance();
    CallGoOn(go_on_, near_exit);
    return;
  }
  if (go_far_) {
    distance();
    GoFar(near_exit);
    return;
  }
  g.lea(eax, g.ptr[r14 + to]);
  g.mov(g.dword[r15 + kOffPc], eax);
  g.mov(rax, r13);
  g.jmp(exit, near_exit ? CG::T_SHORT : CG::T_NEAR);
}

void Emitter::GoFar(bool near_exit) {
  CallGoOn(go_far_, near_exit);
}

void Emitter::CallGoOn(const void* path, bool near_exit) {
  CallShared(path);
  g.jc(exit, near_exit ? Xbyak::CodeGenerator::T_SHORT : Xbyak::CodeGenerator::T_NEAR);
  g.jmp(rax);
}

// The same effects as Interpreter::Execute, whose accounting (cycles, retired, executions) the caller does,
// then on to a successor's code where Interpreter::Run would have gone straight there.
bool Emitter::Emit(const Block& b) {
  using CG = Xbyak::CodeGenerator;
  if (b.end == BlockEnd::kBranchSplit) return false;
  const uint32_t body = b.body;
  for (uint32_t i = 0; i < body; ++i) Insn(b.ops[i], 4 * i, false);
  const uint32_t off = 4 * body;
  switch (b.end) {
    case BlockEnd::kFallThrough: GoOn(b, off, true); break;
    case BlockEnd::kEndsBlock: {
      g.lea(eax, g.ptr[r14 + static_cast<int32_t>(off + 4)]);  // ERET and exceptions overwrite it
      g.mov(g.dword[r15 + kOffPc], eax);
      const bool goes_on = go_on_ && mips::GoesOnAfter(b.ops[body]);
      if (goes_on) {  // the mode and the ASID before it (the branch outcome's slots are free here)
        g.mov(rax, g.qword[r15 + kOffStlb]);
        g.mov(g.qword[rsp], rax);
        g.mov(rax, g.qword[r15 + kOffAsidKey]);
        g.mov(g.qword[rsp + 8], rax);
      }
      Step(b.ops[body], off, false);
      if (goes_on) {  // an MTC0 or EI that left them as they were: on to the next block (the go-on path
                      // looks at the exit request)
        Xbyak::Label ended;
        g.mov(rax, g.qword[r15 + kOffStlb]);
        g.cmp(rax, g.qword[rsp]);
        g.jne(ended, CG::T_NEAR);
        g.mov(rax, g.qword[r15 + kOffAsidKey]);
        g.cmp(rax, g.qword[rsp + 8]);
        g.jne(ended, CG::T_NEAR);
        GoOn(b, off + 4);
        g.L(ended);
      }
      g.xor_(eax, eax);
      g.jmp(exit, CG::T_NEAR);
      break;
    }
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
      // The two ways out, each a few bytes long, then the exit: short jumps reach.
      Xbyak::Label not_taken;
      g.cmp(g.dword[rsp], 0);
      g.je(not_taken, CG::T_SHORT);
      if (branch_static) {
        GoOn(b, taken_delta, true);
      } else if (go_far_) {  // e.g. a return: the probe finds the successor
        g.mov(r8d, g.dword[rsp + 8]);
        g.sub(r8d, r14d);
        GoFar(true);
      } else {
        g.mov(eax, g.dword[rsp + 8]);
        g.mov(g.dword[r15 + kOffPc], eax);
        g.mov(rax, r13);
        g.jmp(exit, CG::T_SHORT);
      }
      g.L(not_taken);
      GoOn(b, off + 8, true);
      break;
    }
    case BlockEnd::kBranchSplit: return false;
  }
  g.L(exit);  // the frame the entry made goes in the shared leave path
  JumpShared(stubs + kStubSpan * kLeaveStub);
  for (size_t i = 0; i < cold.size(); ++i) cold[i]();  // a cold path may add more (none do today)
  return !overflow;
}

}  // namespace x86

using code::Block;
using code::BlockEnd;
using x86::Emitter;

code::Block::BaselineEnter BaselineEntry(code::CodeCache& cache) {
  const uint8_t* stubs = cache.baseline_pool().stubs();
  return stubs ? reinterpret_cast<code::Block::BaselineEnter>(
                     const_cast<uint8_t*>(stubs + x86::kStubSpan * x86::kEnterStub))
               : nullptr;
}

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
  // The memory accesses' shared paths, made once per pool.
  const uint8_t* stubs = pool.SharedStubs([](std::vector<uint8_t>& out) {
    thread_local std::vector<uint8_t> buf(x86::kStubs * x86::kStubSpan + 64);
    Xbyak::ClearError();
    Xbyak::CodeGenerator sg(buf.size(), buf.data());
    if (x86::MemoryStubs(sg) && !Xbyak::GetError()) out.assign(sg.getCode(), sg.getCode() + sg.getSize());
    Xbyak::ClearError();
  });
  if (!stubs) return false;
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
  Emitter em(g, go_on ? paths.entry : nullptr, go_on ? paths.second : nullptr, stubs);
  if (!em.Emit(b)) return false;
  g.ready();
  if (Xbyak::GetError()) {
    Xbyak::ClearError();
    return false;
  }
  code::BaselinePool::Ref made = pool.Keep(key, g.getCode(), g.getSize(), b.paddr, em.calls);
  if (!made.get()) return false;
  cache.SetBaseline(b, std::move(made));
  return true;
}

}  // namespace strobe::interp
