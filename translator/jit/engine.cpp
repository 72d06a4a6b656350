// SPDX-License-Identifier: MIT
#include "translator/jit/engine.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectTransformLayer.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/Timer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Mem2Reg.h>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "translator/llvm/lifter.h"

namespace strobe::jit {

namespace {
std::once_flag g_llvm_init;

std::string Print(const llvm::Function& f) {
  std::string s;
  llvm::raw_string_ostream os(s);
  f.print(os);
  return s;
}

// CPU time of the calling thread, in ms: what a compile costs the host. (Its wall time also counts the
// time the thread, which runs at a low priority, waited for a core.)
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}

void Optimize(llvm::Module& m, unsigned level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  if (level == 0) {  // registers out of memory and nothing else
    llvm::FunctionPassManager fpm;
    fpm.addPass(llvm::PromotePass());
    llvm::ModulePassManager mpm;
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(fpm)));
    mpm.run(m, mam);
    return;
  }
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level >= 2 ? llvm::OptimizationLevel::O2
                                                                            : llvm::OptimizationLevel::O1);
  mpm.run(m, mam);
}
}  // namespace

struct Engine::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::mutex mu;  // LLJIT use and the symbol-size table
  // Code whose last region was dropped. The vCPU thread only queues it here (it must never wait for the
  // compiler thread, which holds mu for a whole batch); the compiler removes it between batches.
  std::mutex doomed_mu;
  std::vector<llvm::orc::ResourceTrackerSP> doomed;
  void RemoveDoomed() {  // with mu held
    std::vector<llvm::orc::ResourceTrackerSP> list;
    {
      std::lock_guard<std::mutex> lock(doomed_mu);
      list.swap(doomed);
    }
    for (auto& t : list) llvm::consumeError(t->remove());
  }
  std::map<std::string, uint64_t> symbol_sizes;
  uint64_t next_id = 0;
  std::mutex stats_mu;  // stats are read by the vCPU thread, which must not wait for a compile
  EngineStats stats;
};

Engine::Engine(CompileOptions options) : options_(options), impl_(std::make_unique<Impl>()) {
  std::call_once(g_llvm_init, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // For developers: LLVM's own options, e.g. STROBE_LLVM_ARGS="-time-passes" (reported by --stats).
    const char* argv0[] = {"strobe"};
    llvm::cl::ParseCommandLineOptions(1, argv0, "", nullptr, "STROBE_LLVM_ARGS");
  });
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (jtmb) {
    // No AVX-512 in translated code: it gains nothing from it, and with AVX512BW the code generator runs
    // its mask-register domain reassignment over every function, which took half of the second tier's
    // code-generation time on the Linux kernel's regions.
    jtmb->getFeatures().AddFeature("avx512f", false);
    jtmb->setCodeGenOptLevel(options_.opt_level >= 2   ? llvm::CodeGenOptLevel::Default
                             : options_.opt_level == 1 ? llvm::CodeGenOptLevel::Less
                                                       : llvm::CodeGenOptLevel::None);
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
    if (jit) {
      impl_->jit = std::move(*jit);
    } else {
      llvm::consumeError(jit.takeError());
    }
  } else {
    llvm::consumeError(jtmb.takeError());
  }
  if (impl_->jit && (options_.keep_listings || !options_.perf_map.empty())) {
    Impl* impl = impl_.get();
    impl_->jit->getObjTransformLayer().setTransform(
        [impl](
            std::unique_ptr<llvm::MemoryBuffer> buf) -> llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> {
          auto obj = llvm::object::ObjectFile::createObjectFile(buf->getMemBufferRef());
          if (!obj) {
            llvm::consumeError(obj.takeError());
            return buf;
          }
          if (!llvm::isa<llvm::object::ELFObjectFileBase>(obj->get()))
            return buf;  // sizes come from ELF symbols
          for (const llvm::object::SymbolRef& sym : (*obj)->symbols()) {
            auto name = sym.getName();
            if (!name) {
              llvm::consumeError(name.takeError());
              continue;
            }
            impl->symbol_sizes[name->str()] = llvm::object::ELFSymbolRef(sym).getSize();
          }
          return buf;
        });
  }
  worker_ = std::thread([this] { BackgroundLoop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stop_ = true;
    queue_.clear();  // nobody will run what is still queued
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::vector<std::shared_ptr<CompiledRegion>> Engine::Compile(std::vector<std::unique_ptr<Region>> regions) {
  std::vector<std::shared_ptr<CompiledRegion>> out;
  if (!impl_->jit) {
    for (auto& r : regions) {
      out.push_back(std::make_shared<CompiledRegion>());
      out.back()->region = std::move(r);
    }
    return out;
  }
  out.resize(regions.size());
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->RemoveDoomed();
  const double t0 = ThreadCpuMs();

  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("strobe_" + std::to_string(impl_->next_id), *ctx);
  mod->setDataLayout(impl_->jit->getDataLayout());
  mod->setTargetTriple(impl_->jit->getTargetTriple().str());

  std::vector<std::string> names(regions.size());
  std::vector<std::string> before(regions.size());
  uint64_t guest_insns = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    char name[64];
    // Each engine numbers its own regions: the level keeps the tiers' names apart (in perf, in dumps).
    std::snprintf(name, sizeof name, "region_%08x_O%u_%llu", regions[i]->page, options_.opt_level,
                  static_cast<unsigned long long>(impl_->next_id++));
    llvm::Function* f = LiftRegion(*regions[i], *mod, name,
                                   LiftOptions{options_.opt_level >= 1, options_.count_back_edges,
                                               options_.inline_kseg, options_.opt_level >= 1});
    if (llvm::verifyFunction(*f, &llvm::errs())) {  // a lifter bug: leave this region to the interpreter
      f->eraseFromParent();
      continue;
    }
    names[i] = name;
    for (const RegionBlock& b : regions[i]->blocks) guest_insns += b.ops.size();
    if (options_.keep_listings) before[i] = Print(*f);
  }
  const double t_lifted = ThreadCpuMs();
  Optimize(*mod, options_.opt_level);
  const double t_optimized = ThreadCpuMs();
  std::vector<std::string> after(regions.size());
  if (options_.keep_listings)
    for (size_t i = 0; i < regions.size(); ++i)
      if (!names[i].empty()) after[i] = Print(*mod->getFunction(names[i]));

  llvm::orc::ResourceTrackerSP tracker = impl_->jit->getMainJITDylib().createResourceTracker();
  if (auto err =
          impl_->jit->addIRModule(tracker, llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx)))) {
    llvm::consumeError(std::move(err));
    for (size_t i = 0; i < regions.size(); ++i) {
      out[i] = std::make_shared<CompiledRegion>();
      out[i]->region = std::move(regions[i]);
    }
    return out;
  }
  // Freed when the last region of this module is dropped (its page was overwritten or the VM ended).
  Impl* impl = impl_.get();
  std::shared_ptr<void> handle(nullptr, [impl, tracker](void*) {
    std::lock_guard<std::mutex> lock(impl->doomed_mu);
    impl->doomed.push_back(tracker);
  });

  size_t compiled = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    auto cr = std::make_shared<CompiledRegion>();
    out[i] = cr;
    if (names[i].empty()) {  // fn stays null: the caller leaves this code to the interpreter
      cr->region = std::move(regions[i]);
      continue;
    }
    auto sym = impl_->jit->lookup(names[i]);  // the first lookup compiles the whole module
    if (!sym) {
      llvm::consumeError(sym.takeError());
      cr->region = std::move(regions[i]);
      continue;
    }
    cr->fn = sym->toPtr<NativeFn>();
    cr->name = names[i];
    cr->region = std::move(regions[i]);
    cr->ir_before = std::move(before[i]);
    cr->ir_after = std::move(after[i]);
    cr->module_handle = handle;
    if (options_.keep_listings || !options_.perf_map.empty()) cr->host_size = impl_->symbol_sizes[names[i]];
    if (!options_.perf_map.empty()) {
      if (std::FILE* f = std::fopen(options_.perf_map.c_str(), "a")) {
        std::fprintf(f, "%llx %llx strobe:%s\n",
                     static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(cr->fn)),
                     static_cast<unsigned long long>(cr->host_size), names[i].c_str());
        std::fclose(f);
      }
    }
    ++compiled;
  }
  const double t_end = ThreadCpuMs();
  auto ms = [](double from, double to) { return to - from; };
  const double total = ms(t0, t_end);
  for (auto& cr : out)
    if (cr->fn) cr->compile_ms = total / static_cast<double>(compiled);
  std::lock_guard<std::mutex> stats_lock(impl_->stats_mu);
  impl_->stats.regions += compiled;
  impl_->stats.modules += 1;
  impl_->stats.compile_ms += total;
  impl_->stats.lift_ms += ms(t0, t_lifted);
  impl_->stats.opt_ms += ms(t_lifted, t_optimized);
  impl_->stats.codegen_ms += ms(t_optimized, t_end);
  impl_->stats.guest_insns += guest_insns;
  return out;
}

void Engine::Submit(std::unique_ptr<Region> region) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back(std::move(region));
  }
  queue_cv_.notify_one();
}

std::vector<std::shared_ptr<CompiledRegion>> Engine::TakeFinished() {
  // The vCPU polls at every return to the dispatcher (every exception, in TLB-refill-heavy code): skip the
  // lock when nothing is there.
  if (!has_finished_.load(std::memory_order_acquire)) return {};
  std::lock_guard<std::mutex> lock(queue_mu_);
  has_finished_.store(false, std::memory_order_relaxed);
  return std::move(finished_);
}

void Engine::Prune(const std::function<bool(Region&)>& keep) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  std::erase_if(queue_, [&](const std::unique_ptr<Region>& r) { return !keep(*r); });
}

void Engine::Hold(bool held) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    held_ = held;
  }
  queue_cv_.notify_all();
}

size_t Engine::Pending() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.size() + in_flight_;
}

void PrintLlvmTimers() {
  llvm::TimerGroup::printAll(llvm::errs());
}

EngineStats Engine::stats() {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

void Engine::BackgroundLoop() {
  // A lower priority keeps the vCPU thread running when compilers outnumber the free cores.
  if (options_.nice) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), options_.nice);
  // Named per tier, for top -H, perf --sort comm and gdb.
  char thread_name[16];
  std::snprintf(thread_name, sizeof thread_name, "strobe-llvm-O%u", options_.opt_level);
  pthread_setname_np(pthread_self(), thread_name);
  for (;;) {
    std::vector<std::unique_ptr<Region>> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stop_ || (!held_ && !queue_.empty()); });
      if (stop_) return;
      // The busiest regions first (Region::entries: what the first tier counted before it asked for this
      // compile); FIFO among equals, so the first tier's zero counts keep their order.
      std::stable_sort(queue_.begin(), queue_.end(),
                       [](const auto& a, const auto& b) { return a->entries > b->entries; });
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = batch.size();
    }
    auto done = Compile(std::move(batch));
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (auto& cr : done)
      if (cr) finished_.push_back(std::move(cr));
    has_finished_.store(!finished_.empty(), std::memory_order_release);
    in_flight_ = 0;
  }
}

}  // namespace strobe::jit
