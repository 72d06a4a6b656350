// SPDX-License-Identifier: MIT
// Runs one guest code sequence in both Strobe (a whole test::TestMachine) and Unicorn's MIPS32 core from the
// same initial state, and compares GPRs, HI, LO, the data buffer and how the run ended (normally at the final
// WAIT, or at the first exception: its kind and the faulting instruction's address).
//
// Address layout, identical in both engines (Unicorn maps virtual addresses directly; in Strobe kseg0
// 0x80xxxxxx is physical 0x00xxxxxx):
//   0x80010000..0x80014000  code (sequences may start anywhere in it, so some straddle a page boundary)
//   0x80020000..0x80021000  data buffer; kBaseReg points at its middle and is never written by generated code
//   0x80000000/180/200      Strobe's exception vectors (EBase, BEV=0), each holding a WAIT so a fault halts
#pragma once

#include <unicorn/unicorn.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/test_machine.h"

namespace strobe::test::diff {

// With STROBE_DIFF_SEED set, a random test runs STROBE_DIFF_COUNT sequences from that seed (default 1: the
// one a failure printed), so that a long campaign over new seeds needs no rebuild.
inline unsigned SequenceCountFromEnvironment() {
  const char* s = std::getenv("STROBE_DIFF_COUNT");
  const unsigned long n = s && *s ? std::strtoul(s, nullptr, 0) : 1;
  return n ? static_cast<unsigned>(n) : 1;
}

inline constexpr uint32_t kCodeVaddr = 0x80010000u;
inline constexpr uint32_t kCodeBytes = 0x4000u;
inline constexpr uint32_t kDataVaddr = 0x80020000u;
inline constexpr uint32_t kDataBytes = 0x1000u;
inline constexpr unsigned kBaseReg = 28;  // $gp: the memory base register
inline constexpr uint32_t kBasePtr = kDataVaddr + kDataBytes / 2;
inline constexpr uint32_t kVectorHalt = 0x80000184u;  // PC after the general vector's WAIT
inline constexpr uint32_t kKseg0 = 0x80000000u;

struct GuestState {
  std::array<uint32_t, 32> gpr{};
  uint32_t hi = 0, lo = 0;
  std::vector<uint8_t> data = std::vector<uint8_t>(kDataBytes);
};

// How a run ended. exc is a MIPS Cause.ExcCode (runtime::ExcCode) or -1 when the final WAIT was reached.
struct Outcome {
  GuestState state;
  bool finished = false;  // reached the final WAIT or stopped at an exception; false: the harness failed
  int exc = -1;
  uint32_t exc_pc = 0;  // the faulting instruction itself (a delay slot's own address, not the branch's)
  uint64_t regions_installed = 0;  // translated regions Strobe ran (engines with a tier)
  uint64_t baseline_blocks = 0;    // blocks given the interpreter's baseline code
  std::string error;
};

// A program: words placed at `start` (a kseg0 address inside the code area); the last word must be the WAIT.
struct Program {
  uint32_t start = kCodeVaddr;
  std::vector<uint32_t> words;
  uint32_t EndPc() const { return start + 4 * static_cast<uint32_t>(words.size() - 1); }
};

// --- Unicorn ---

namespace detail {
// QEMU's MIPS exception numbers (target/mips/cpu.h, EXCP_*) as Unicorn's interrupt hook reports them.
inline int ExcFromUnicorn(uint32_t intno) {
  switch (intno) {
    case 12: return static_cast<int>(runtime::ExcCode::AdEL);
    case 13: return static_cast<int>(runtime::ExcCode::AdES);
    case 17: return static_cast<int>(runtime::ExcCode::Sys);
    case 18: return static_cast<int>(runtime::ExcCode::Bp);
    case 19: return static_cast<int>(runtime::ExcCode::CpU);
    case 20: return static_cast<int>(runtime::ExcCode::RI);
    case 21: return static_cast<int>(runtime::ExcCode::Ov);
    case 22: return static_cast<int>(runtime::ExcCode::Tr);
    case 23: return static_cast<int>(runtime::ExcCode::FPE);
    default: return 100 + static_cast<int>(intno);  // unmapped: never equal to a Strobe code
  }
}

struct UnicornRun {
  uint32_t end_pc = 0;
  uint32_t last_pc = 0;  // the instruction the code hook saw last
  bool reached_end = false;
  int exc = -1;
  uint32_t exc_pc = 0;
};

inline void OnCode(uc_engine* uc, uint64_t address, uint32_t, void* user) {
  auto* r = static_cast<UnicornRun*>(user);
  if (static_cast<uint32_t>(address) == r->end_pc) {
    r->reached_end = true;
    uc_emu_stop(uc);
    return;
  }
  r->last_pc = static_cast<uint32_t>(address);
}

inline void OnInterrupt(uc_engine* uc, uint32_t intno, void* user) {
  auto* r = static_cast<UnicornRun*>(user);
  if (r->exc < 0) {
    r->exc = ExcFromUnicorn(intno);
    r->exc_pc = r->last_pc;
  }
  uc_emu_stop(uc);
}
}  // namespace detail

// The CPU model both engines run: Strobe's default (24Kc-like, no FPU) against Unicorn's default core, or
// the 24Kf on both sides for the FPU sequences.
enum class Model { kDefault, k24Kf };

inline Outcome RunUnicorn(const Program& p, const GuestState& init, Model model = Model::kDefault) {
  Outcome out;
  uc_engine* uc = nullptr;
  if (uc_open(UC_ARCH_MIPS, static_cast<uc_mode>(UC_MODE_MIPS32 | UC_MODE_LITTLE_ENDIAN), &uc) != UC_ERR_OK) {
    out.error = "uc_open failed";
    return out;
  }
  if (model == Model::k24Kf && uc_ctl_set_cpu_model(uc, UC_CPU_MIPS32_24KF) != UC_ERR_OK) {
    out.error = "Unicorn has no 24Kf model";
    uc_close(uc);
    return out;
  }
  uc_mem_map(uc, kCodeVaddr, kCodeBytes, UC_PROT_ALL);
  uc_mem_map(uc, kDataVaddr, kDataBytes, UC_PROT_READ | UC_PROT_WRITE);
  uc_mem_write(uc, p.start, p.words.data(), 4 * p.words.size());
  uc_mem_write(uc, kDataVaddr, init.data.data(), kDataBytes);
  for (int r = 1; r < 32; ++r) uc_reg_write(uc, UC_MIPS_REG_0 + r, &init.gpr[r]);
  uc_reg_write(uc, UC_MIPS_REG_HI, &init.hi);
  uc_reg_write(uc, UC_MIPS_REG_LO, &init.lo);

  detail::UnicornRun run;
  run.end_pc = p.EndPc();
  uc_hook code_hook, intr_hook;
  uc_hook_add(uc, &code_hook, UC_HOOK_CODE, reinterpret_cast<void*>(detail::OnCode), &run, 1, 0);
  uc_hook_add(uc, &intr_hook, UC_HOOK_INTR, reinterpret_cast<void*>(detail::OnInterrupt), &run, 1, 0);
  // `until` is never reached: the code hook stops at the final WAIT so that a branch straight to it counts
  // too.
  uc_err err = uc_emu_start(uc, p.start, 0xFFFFFFF0u, 0, 20000);
  if (err != UC_ERR_OK) out.error = std::string("uc_emu_start: ") + uc_strerror(err);

  for (int r = 0; r < 32; ++r) uc_reg_read(uc, UC_MIPS_REG_0 + r, &out.state.gpr[r]);
  uc_reg_read(uc, UC_MIPS_REG_HI, &out.state.hi);
  uc_reg_read(uc, UC_MIPS_REG_LO, &out.state.lo);
  uc_mem_read(uc, kDataVaddr, out.state.data.data(), kDataBytes);
  uc_close(uc);

  out.exc = run.exc;
  out.exc_pc = run.exc_pc;
  out.finished = err == UC_ERR_OK && (run.reached_end || run.exc >= 0);
  if (!out.finished && out.error.empty())
    out.error = "Unicorn stopped before the final WAIT (last PC " + std::to_string(run.last_pc) + ")";
  return out;
}

// --- Strobe ---

// runs > 1 runs the program again from the same initial state in the same VM: the later runs take the
// interpreter's cached and chained blocks instead of decoding afresh. The last run's outcome is returned.
inline Outcome RunStrobe(const Program& p, const GuestState& init, unsigned runs = 1,
                         vmm::Engine engine = vmm::Engine::kInterp, unsigned jit_opt_level = 0,
                         Model model = Model::kDefault, bool baseline_only = false) {
  Outcome out;
  TestMachine m(16u << 20, 16, nullptr, baseline_only ? vmm::Engine::kTiered : engine, jit_opt_level,
                model == Model::k24Kf ? runtime::CpuModel::k24Kf : runtime::CpuModel::k24Kc, baseline_only);
  if (!m.booted()) {
    out.error = "TestMachine did not boot";
    return out;
  }
  for (uint32_t vec : {0x000u, 0x180u, 0x200u}) m.Write32(vec, kWaitWord);
  m.LoadCode(p.start - kKseg0, p.words);
  runtime::CpuState& c = m.cpu();
  vmm::VmExit e = vmm::VmExit::kError;
  for (unsigned run = 0; run < runs; ++run) {
    m.Write(kDataVaddr - kKseg0, init.data.data(), kDataBytes);  // a data page: no decoded code to invalidate
    for (int r = 0; r < 32; ++r) c.gpr[r] = init.gpr[r];
    c.gpr[0] = 0;
    c.hi = init.hi;
    c.lo = init.lo;
    c.ll_bit = false;
    c.cp0.status = 0;  // kernel mode, EXL clear again after an exception in the previous run
    c.cp0.cause = 0;
    runtime::UpdateMode(c);
    e = m.Run(p.start, 100000);
  }
  if (m.vm().tier()) out.regions_installed = m.vm().tier()->stats().regions_installed;
  out.baseline_blocks = m.vm().code_cache().stats().baseline_blocks;
  for (int r = 0; r < 32; ++r) out.state.gpr[r] = c.gpr[r];
  out.state.hi = c.hi;
  out.state.lo = c.lo;
  for (uint32_t i = 0; i < kDataBytes; i += 4) {
    uint32_t w = m.Read32(kDataVaddr - kKseg0 + i);
    std::memcpy(&out.state.data[i], &w, 4);
  }
  if (e != vmm::VmExit::kHalted) {
    out.error = std::string("Strobe exit ") + vmm::ToString(e) + " at PC " + std::to_string(c.pc);
  } else if (c.pc == p.EndPc() + 4) {
    out.finished = true;
  } else if (c.pc == kVectorHalt) {
    out.finished = true;
    out.exc = static_cast<int>((c.cp0.cause >> runtime::cause::EXC_SHIFT) & 0x1F);
    out.exc_pc = c.cp0.epc + ((c.cp0.cause & runtime::cause::BD) ? 4 : 0);
  } else {
    out.error = "Strobe halted at an unexpected PC " + std::to_string(c.pc);
  }
  return out;
}

// --- Comparison and reporting ---

inline std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

inline std::string Disassemble(const Program& p) {
  std::string s;
  for (size_t i = 0; i < p.words.size(); ++i) {
    uint32_t w = p.words[i];
    mips::DecodedInsn d = mips::Decode(w);
    char line[96];
    std::snprintf(line, sizeof line, "  %08x: %08x  %-8s rs=%u rt=%u rd=%u sa=%u imm=0x%04x\n",
                  p.start + 4 * static_cast<uint32_t>(i), w, std::string(mips::NameOf(d.op)).c_str(), d.rs,
                  d.rt, d.rd, d.sa, d.uimm());
    s += line;
  }
  return s;
}

// Every difference between the two outcomes, one per line; empty when they agree.
inline std::string Differences(const Outcome& strobe, const Outcome& uc) {
  std::string s;
  if (!strobe.error.empty()) s += "Strobe: " + strobe.error + "\n";
  if (!uc.error.empty()) s += "Unicorn: " + uc.error + "\n";
  if (strobe.exc != uc.exc || (strobe.exc >= 0 && strobe.exc_pc != uc.exc_pc))
    s += "exception: Strobe " + std::to_string(strobe.exc) + " at " + Hex(strobe.exc_pc) + ", Unicorn " +
         std::to_string(uc.exc) + " at " + Hex(uc.exc_pc) + "\n";
  for (int r = 0; r < 32; ++r)
    if (strobe.state.gpr[r] != uc.state.gpr[r])
      s += "$" + std::to_string(r) + ": Strobe " + Hex(strobe.state.gpr[r]) + ", Unicorn " +
           Hex(uc.state.gpr[r]) + "\n";
  if (strobe.state.hi != uc.state.hi)
    s += "HI: Strobe " + Hex(strobe.state.hi) + ", Unicorn " + Hex(uc.state.hi) + "\n";
  if (strobe.state.lo != uc.state.lo)
    s += "LO: Strobe " + Hex(strobe.state.lo) + ", Unicorn " + Hex(uc.state.lo) + "\n";
  for (uint32_t i = 0; i < kDataBytes; ++i)
    if (strobe.state.data[i] != uc.state.data[i])
      s += "data[" + Hex(kDataVaddr + i) + "]: Strobe " + std::to_string(strobe.state.data[i]) +
           ", Unicorn " + std::to_string(uc.state.data[i]) + "\n";
  return s;
}

}  // namespace strobe::test::diff
