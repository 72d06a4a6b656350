// SPDX-License-Identifier: MIT
// A whole Strobe VM for tests: code and data are poked into guest-physical RAM, the CPU starts in kernel
// mode at a kseg0 address, and the run ends when the guest halts (WAIT with interrupts off), powers off,
// or hits an instruction limit. Everything below the VM is the product's own code.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "translator/mips/encoder.h"
#include "vmm/monitor.h"
#include "vmm/vm.h"

namespace strobe::test {

inline constexpr uint32_t kWaitWord = 0x42000020;  // WAIT: with Status.IE=0 it halts the test VM

// A placeholder image, one WAIT at 0x80100000, so that Vm::Boot() can run; tests overwrite memory and
// registers afterwards, or never run the CPU.
inline vmm::ElfImage WaitImage() {
  vmm::ElfImage image;
  vmm::ElfSegment seg;
  seg.vaddr = 0x80100000u;
  seg.paddr = 0x00100000u;
  seg.memsz = 4;
  seg.data = {0x20, 0x00, 0x00, 0x42};
  image.entry = seg.vaddr;
  image.segments.push_back(seg);
  return image;
}

class TestMachine {
 public:
  // VMs that share pages must share a monitor: pass one in; otherwise the machine has its own.
  // Unit tests run the reference interpreter unless they ask for an engine with translation.
  // jit_opt_level >= 1 compiles with the optimising tiers' code shape (guest registers promoted to SSA)
  // and the inline kseg0/kseg1 path.
  // baseline_only (with the tiered engine): every block runs as the interpreter's baseline code from its
  // first execution, and LLVM compiles nothing.
  explicit TestMachine(uint32_t ram_bytes = 16u << 20, unsigned tlb_entries = 16,
                       vmm::Monitor* monitor = nullptr, vmm::Engine engine = vmm::Engine::kInterp,
                       unsigned jit_opt_level = 0, runtime::CpuModel cpu_model = runtime::CpuModel::k24Kc,
                       bool baseline_only = false, const std::string& code_cache_dir = "",
                       std::shared_ptr<code::OpsPool> ops_pool = nullptr,
                       std::shared_ptr<code::BaselinePool> baseline_pool = nullptr)
      : own_monitor_(monitor ? nullptr : std::make_unique<vmm::Monitor>(size_t{1} << 30)),
        monitor_(monitor ? *monitor : *own_monitor_) {
    vmm::VmConfig cfg;
    cfg.ram_bytes = ram_bytes;
    cfg.tlb_entries = tlb_entries;
    cfg.cpu_model = cpu_model;
    cfg.warp_idle = true;
    cfg.engine = engine;
    cfg.jit_threshold = 256;  // tests make code hot with short loops
    cfg.jit_opt_level = jit_opt_level;
    cfg.jit_inline_kseg = jit_opt_level >= 1;  // the O1-shaped tests cover the inline kseg0/kseg1 path too
    cfg.jit_promote = jit::Promote::kAlways;   // and promoted registers in every region
    cfg.jit_code_cache_dir = code_cache_dir;   // off unless asked for
    cfg.ops_pool = std::move(ops_pool);        // decoded instructions shared with other machines
    cfg.baseline_pool = std::move(baseline_pool);  // and baseline code
    if (baseline_only) {
      cfg.jit_baseline = 1;
      cfg.jit_threshold = uint64_t{1} << 40;
    }
    cfg.image = WaitImage();
    vm_ = std::make_unique<vmm::Vm>(monitor_, cfg,
                                    [this](uint8_t b) { console_.push_back(static_cast<char>(b)); });
    std::string err;
    booted_ = vm_->Boot(&err);
    // Tests want a clean exception setup: BEV=0, vectors at EBase=0x80000000.
    cpu().cp0.status = 0;
    runtime::UpdateMode(cpu());
  }

  bool booted() const { return booted_; }
  runtime::CpuState& cpu() { return vm_->cpu(); }
  vmm::Vm& vm() { return *vm_; }
  const std::string& console() const { return console_; }

  void Write32(uint32_t paddr, uint32_t v) { Write(paddr, &v, 4); }
  uint32_t Read32(uint32_t paddr) {
    uint32_t v = 0;
    runtime::RamPage p = vm_->pmap().Lookup(paddr);
    std::memcpy(&v, p.host + (paddr & 0xFFF), 4);
    return v;
  }
  void Write(uint32_t paddr, const void* data, size_t n) {
    const uint8_t* src = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) {
      uint8_t* page = vm_->pmap().PageForWrite(paddr + i);
      page[(paddr + i) & 0xFFF] = src[i];
    }
  }
  // Places words at paddr (followed by nothing: callers end their code with kWaitWord or a jump).
  void LoadCode(uint32_t paddr, const std::vector<uint32_t>& words) {
    for (size_t i = 0; i < words.size(); ++i) Write32(paddr + 4 * static_cast<uint32_t>(i), words[i]);
  }

  // Runs from the kseg0 address pc until the guest halts or max_instructions pass.
  vmm::VmExit Run(uint32_t pc, uint64_t max_instructions = 1000000) {
    cpu().pc = pc;
    cpu().exit_request = 0;
    uint64_t limit = cpu().Retired() + max_instructions;
    vm_->SetInstructionLimit(limit);
    return vm_->Run();
  }

 private:
  std::unique_ptr<vmm::Monitor> own_monitor_;
  vmm::Monitor& monitor_;
  std::unique_ptr<vmm::Vm> vm_;
  std::string console_;
  bool booted_ = false;
};

// Encoding shorthand for tests: E(Opcode::ADDU, {.rs = 1, .rt = 2, .rd = 3}).
inline uint32_t E(mips::Opcode op, mips::Fields f) {
  return mips::Encode(op, f);
}

}  // namespace strobe::test
