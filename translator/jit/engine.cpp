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

struct Engine::Client {
  std::vector<std::shared_ptr<CompiledRegion>> finished;  // under queue_mu_
  std::atomic<bool> has_finished{false};                  // finished is not empty (read without the lock)
  size_t in_flight = 0;                                   // under queue_mu_
  bool removed = false;                                   // under queue_mu_
  EngineStats stats;                                      // under Impl::stats_mu
};

namespace {
void Add(EngineStats* to, const EngineStats& s) {
  to->regions += s.regions;
  to->modules += s.modules;
  to->compile_ms += s.compile_ms;
  to->lift_ms += s.lift_ms;
  to->opt_ms += s.opt_ms;
  to->codegen_ms += s.codegen_ms;
  to->guest_insns += s.guest_insns;
}
}  // namespace

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

Engine::Client* Engine::AddClient() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  clients_.push_back(std::make_unique<Client>());
  return clients_.back().get();
}

// The client's record stays until the engine goes (a batch in flight still points at it); it is small.
void Engine::RemoveClient(Client* client) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  client->removed = true;
  std::erase_if(queue_, [client](const Job& j) { return j.client == client; });
  client->finished.clear();
  client->has_finished.store(false, std::memory_order_relaxed);
}

size_t Engine::clients() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  size_t n = 0;
  for (const auto& c : clients_) n += !c->removed;
  return n;
}

std::vector<std::shared_ptr<CompiledRegion>> Engine::Compile(std::vector<std::unique_ptr<Region>> regions,
                                                             Client* client) {
  std::vector<Client*> owners(regions.size(), client);
  return CompileFor(std::move(regions), owners);
}

std::vector<std::shared_ptr<CompiledRegion>> Engine::CompileFor(std::vector<std::unique_ptr<Region>> regions,
                                                                const std::vector<Client*>& owners) {
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
    llvm::Function* f =
        LiftRegion(*regions[i], *mod, name,
                   LiftOptions{options_.opt_level >= 1, options_.count_back_edges, options_.inline_kseg,
                               options_.opt_level >= 1, options_.opt_level == 0});
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
  EngineStats batch;
  batch.regions = compiled;
  batch.modules = 1;
  batch.compile_ms = total;
  batch.lift_ms = ms(t0, t_lifted);
  batch.opt_ms = ms(t_lifted, t_optimized);
  batch.codegen_ms = ms(t_optimized, t_end);
  batch.guest_insns = guest_insns;
  std::lock_guard<std::mutex> stats_lock(impl_->stats_mu);
  Add(&impl_->stats, batch);
  // Each client's share: its compiled regions' part of the batch (the module counts once for each).
  std::vector<Client*> seen;
  for (Client* c : owners) {
    if (!c || std::find(seen.begin(), seen.end(), c) != seen.end()) continue;
    seen.push_back(c);
    uint64_t mine = 0, insns = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (owners[i] != c || !out[i]->fn) continue;
      ++mine;
      for (const RegionBlock& b : out[i]->region->blocks) insns += b.ops.size();
    }
    const double share = compiled ? static_cast<double>(mine) / static_cast<double>(compiled) : 0.0;
    EngineStats part;
    part.regions = mine;
    part.modules = 1;
    part.compile_ms = total * share;
    part.lift_ms = batch.lift_ms * share;
    part.opt_ms = batch.opt_ms * share;
    part.codegen_ms = batch.codegen_ms * share;
    part.guest_insns = insns;
    Add(&c->stats, part);
  }
  return out;
}

void Engine::Submit(Client* client, std::unique_ptr<Region> region) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back({client, std::move(region)});
  }
  queue_cv_.notify_one();
}

std::vector<std::shared_ptr<CompiledRegion>> Engine::TakeFinished(Client* client) {
  // The vCPU polls at every return to the dispatcher (every exception, in TLB-refill-heavy code): skip the
  // lock when nothing is there.
  if (!client->has_finished.load(std::memory_order_acquire)) return {};
  std::lock_guard<std::mutex> lock(queue_mu_);
  client->has_finished.store(false, std::memory_order_relaxed);
  return std::move(client->finished);
}

void Engine::Prune(Client* client, const std::function<bool(Region&)>& keep) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  std::erase_if(queue_, [&](const Job& j) { return j.client == client && !keep(*j.region); });
}

void Engine::Hold(bool held) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    held_ = held;
  }
  queue_cv_.notify_all();
}

size_t Engine::Pending(Client* client) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  size_t n = client->in_flight;
  for (const Job& j : queue_) n += j.client == client;
  return n;
}

EngineClient::EngineClient(std::shared_ptr<Engine> engine)
    : engine_(std::move(engine)), client_(engine_->AddClient()) {}

EngineClient::~EngineClient() {
  engine_->RemoveClient(client_);
}

std::vector<std::shared_ptr<CompiledRegion>> EngineClient::TakeFinished() {
  return engine_->TakeFinished(client_);
}

void PrintLlvmTimers() {
  llvm::TimerGroup::printAll(llvm::errs());
}

EngineStats Engine::stats() {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

EngineStats Engine::stats(Client* client) {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return client->stats;
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
    std::vector<Client*> owners;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stop_ || (!held_ && !queue_.empty()); });
      if (stop_) return;
      // The busiest regions first (Region::entries: what the first tier counted before it asked for this
      // compile); FIFO among equals, so the first tier's zero counts keep their order (and the clients'
      // requests interleave in the order they came).
      std::stable_sort(queue_.begin(), queue_.end(),
                       [](const Job& a, const Job& b) { return a.region->entries > b.region->entries; });
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        owners.push_back(queue_.front().client);
        batch.push_back(std::move(queue_.front().region));
        ++queue_.front().client->in_flight;
        queue_.pop_front();
      }
    }
    auto done = CompileFor(std::move(batch), owners);
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (size_t i = 0; i < done.size(); ++i) {
      Client* c = owners[i];
      --c->in_flight;
      if (!done[i] || c->removed) continue;  // its tier is gone: the code is freed with the result
      c->finished.push_back(std::move(done[i]));
      c->has_finished.store(true, std::memory_order_release);
    }
  }
}

}  // namespace strobe::jit
