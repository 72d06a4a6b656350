// SPDX-License-Identifier: MIT
// The LLVM tier's compiler: regions are lifted to IR, optimised with a lean pipeline and compiled by ORC
// LLJIT, several to a module so LLVM's fixed per-module cost is shared. Compilation runs on a background
// thread (tiered) or on the caller's (jit engine, tests); execution never waits for the background thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "translator/code/region.h"
#include "translator/jit/persistent_cache.h"

namespace strobe::jit {

using code::BlockEnd;
using code::BranchTarget;
using code::CompiledRegion;
using code::NativeFn;
using code::Region;
using code::RegionBlock;
using code::SameOps;
using code::SpanJumpTarget;

// Which regions an optimising compile (opt_level >= 1) lifts in promote mode (LiftOptions::promote): guest
// registers as SSA values loaded at entry and written back at every exit, against memory mode (read and
// written in the vCPU state in place). Measured (translator/README.md, "Promoted registers"): promotion
// pays only in tight loops; elsewhere the loads and write-backs of every register a region touches, and
// the spills of a register allocator facing all of them at once, cost more than they save.
enum class Promote : uint8_t {
  kLoops,   // regions with a one-block loop (a block branching to itself)
  kAlways,  // every region
  kNever,   // none
};

// Whether a compile at opt_level with `promote` lifts `region` in promote mode.
bool PromotesRegisters(const Region& region, unsigned opt_level, Promote promote);

struct CompileOptions {
  unsigned opt_level = 0;  // 0: mem2reg + fast codegen, 1: O1 + codegen "less", 2: O2 + default codegen
  Promote promote = Promote::kLoops;  // at opt_level >= 1
  bool keep_listings = false;         // keep IR before/after optimisation and host code size, for strobe dump
  unsigned max_batch = 16;            // regions per module
  bool count_back_edges = false;      // see LiftOptions (set for a first tier with a second one behind it)
  bool inline_kseg = false;           // LiftOptions::unmapped_path
  bool exact_budget = false;          // LiftOptions::exact_budget (-icount)
  bool count_work = true;             // LiftOptions::count_work (off for a first tier on its own)
  int nice = 0;                       // scheduling priority of the compiler thread (the vCPU thread has 0)
  // Append "address size name" lines for every compiled region to this file (Linux perf's
  // /tmp/perf-PID.map convention, so `perf report` names translated code). Empty: off.
  std::string perf_map;
  // The persistent code cache's folder (persistent_cache.h); empty: none. Regions found there are loaded
  // instead of compiled, and compiled ones are stored there.
  std::string code_cache_dir;
  uint64_t code_cache_max_bytes = uint64_t{1} << 30;
};

struct CompilerStats {
  uint64_t regions = 0;
  uint64_t modules = 0;
  double compile_ms = 0;  // all of it, CPU time of the compiler thread; the parts below add up to it
  double lift_ms = 0;     // guest code to LLVM IR (and the verifier)
  double opt_ms = 0;      // the IR passes
  double codegen_ms = 0;  // instruction selection to linked host code
  uint64_t guest_insns =
      0;  // guest instructions in the compiled regions (a block in two regions counts twice)
  uint64_t cache_hits = 0;  // regions loaded from the persistent code cache (not in `regions`)
  uint64_t reused = 0;      // regions given code compiled earlier in this process (not in `regions`)
};

// LLVM's timer reports (collected when STROBE_LLVM_ARGS holds -time-passes), on stderr.
void PrintLlvmTimers();

// One LLVM compiler (an ORC LLJIT and its background thread) shared by any number of clients: each VM's
// tier is one. Regions are queued per client and their results go back to the client that sent them, so
// several VMs share one fixed set of compiler threads instead of bringing two each (issue 14).
class Compiler {
 public:
  explicit Compiler(CompileOptions options);
  ~Compiler();
  Compiler(const Compiler&) = delete;
  Compiler& operator=(const Compiler&) = delete;

  // Compiles now, on this thread (for `client`, whose stats count it, or for nobody). One result per
  // region, in order; fn is null where it could not be compiled.
  struct Client;
  std::vector<std::shared_ptr<CompiledRegion>> Compile(std::vector<std::unique_ptr<Region>> regions,
                                                       Client* client = nullptr);

  // Background compilation for one client: Submit never blocks on LLVM; TakeFinished returns what is ready.
  Client* AddClient();
  // Forgets the client: its queued regions are dropped, and results of a batch still compiling are
  // discarded when it ends (never installed: the code is freed).
  void RemoveClient(Client* client);
  void Submit(Client* client, std::unique_ptr<Region> region);
  std::vector<std::shared_ptr<CompiledRegion>> TakeFinished(Client* client);
  size_t Pending(Client* client);
  // Drops the client's queued regions for which keep() is false; keep() may change a region's priority
  // (entries). Runs under the queue's lock, so it must be quick.
  void Prune(Client* client, const std::function<bool(Region&)>& keep);
  // While held, queued regions wait (tests that need the queue to stay put).
  void Hold(bool held);

  CompilerStats stats();                // every client's compiles
  CompilerStats stats(Client* client);  // one client's (a batch's time is shared out by its regions)
  // The persistent code cache's counts, if the compiler has one (null otherwise); its error, if it could
  // not be used (then the compiler compiles everything, as without one).
  std::optional<PersistentCacheStats> code_cache_stats();
  // Shapes of second-tier regions with this core (a region whose blocks are its core: Region::core_blocks)
  // that this compiler compiled (for any of its clients: another VM's region) or the code cache holds code
  // for: the core's blocks followed by the blocks spanned in from other pages when they were compiled. The
  // caller checks those blocks against guest memory before using one.
  std::vector<std::vector<RegionBlock>> CachedShapes(const Region& core);
  std::string code_cache_error() const;
  size_t clients();
  const CompileOptions& options() const { return options_; }

 private:
  struct Impl;
  struct Job {
    Client* client;
    std::unique_ptr<Region> region;
  };
  void BackgroundLoop();
  std::vector<std::shared_ptr<CompiledRegion>> CompileFor(std::vector<std::unique_ptr<Region>> regions,
                                                          const std::vector<Client*>& owners);

  CompileOptions options_;
  std::unique_ptr<Impl> impl_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  std::vector<std::unique_ptr<Client>> clients_;
  bool stop_ = false;
  bool held_ = false;
  std::thread worker_;
};

// A client's handle on a shared compiler (what a tier holds): the compiler's calls for that client.
class CompilerClient {
 public:
  explicit CompilerClient(std::shared_ptr<Compiler> compiler);
  ~CompilerClient();
  CompilerClient(const CompilerClient&) = delete;
  CompilerClient& operator=(const CompilerClient&) = delete;

  std::vector<std::shared_ptr<CompiledRegion>> Compile(std::vector<std::unique_ptr<Region>> regions) {
    return compiler_->Compile(std::move(regions), client_);
  }
  void Submit(std::unique_ptr<Region> region) { compiler_->Submit(client_, std::move(region)); }
  std::vector<std::shared_ptr<CompiledRegion>> TakeFinished();
  size_t Pending() { return compiler_->Pending(client_); }
  void Prune(const std::function<bool(Region&)>& keep) { compiler_->Prune(client_, keep); }
  void Hold(bool held) { compiler_->Hold(held); }
  CompilerStats stats() { return compiler_->stats(client_); }
  const CompileOptions& options() const { return compiler_->options(); }
  Compiler& compiler() { return *compiler_; }

 private:
  std::shared_ptr<Compiler> compiler_;
  Compiler::Client* client_;
};

}  // namespace strobe::jit
