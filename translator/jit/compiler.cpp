// SPDX-License-Identifier: MIT
#include "translator/jit/compiler.h"

#include <llvm/CodeGen/Passes.h>
#include <llvm/CodeGen/RegAllocRegistry.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectTransformLayer.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/StringSaver.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/Timer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Mem2Reg.h>

#include <elf.h>
#include <link.h>
#include <llvm/Config/llvm-config.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "translator/jit/helpers.h"
#include "translator/llvm/lifter.h"

namespace strobe::jit {

namespace {
std::once_flag g_llvm_init;

// The code generator's register allocation. The first tier (CodeGenOptLevel::None) would get LLVM's fast
// allocator, which spills every value live across a block (the cpu pointer, the soft TLB's base) at every
// block's end: it gets the basic allocator over live intervals instead (-optimize-regalloc), without the
// pre-allocation machine scheduler (x86 reorders on its own). Measured with bench/linux/ab.py (each VMM on
// one CPU, two rounds, 2026-12-04, AMD EPYC 2-core VM, load under 1): guest workloads 0.71-0.88 of the time
// with the fast allocator there, boot and fork+exec 1.00 (the first tier compiles at 1.7x the cost); greedy
// in both tiers was 1.03-1.27x slower. The second tier gets greedy: its code generation costs about twice
// basic's (offline llc over an md5 run's second-tier regions: 6.4 s against 3.1 s; with LLVM's O1 IR passes,
// which the second tier ran then, a compile cost 950 against 630 us of CPU a guest instruction), and its
// code runs hot loops 15-20% faster (steady md5sum, sha256sum, gzip; basic spilled md5's state around
// every round). `ab.py --alone` (each VMM by itself, unpinned, so that the second tier has the other CPU;
// two runs of two rounds, 2026-12-05): wall 0.71-1.04 of basic's (summed over the suite 0.93), CPU
// 0.77-1.17 (summed 1.03); measured again with mem2reg alone, basic took 1.00-1.06 of greedy's wall and
// 0.89-0.95 of its CPU. LLVM's options are process-wide, so the allocator is one registered here
// ("-regalloc=strobe-tiered") that asks which tier the compiling thread works for.
thread_local bool t_optimizing = false;  // the current thread compiles for the second tier

llvm::FunctionPass* CreateTieredRegAlloc() {
  return t_optimizing ? llvm::createGreedyRegisterAllocator() : llvm::createBasicRegisterAllocator();
}

llvm::RegisterRegAlloc g_tiered_regalloc("strobe-tiered", "basic in the first tier, greedy in the second",
                                         CreateTieredRegAlloc);

//
// Greedy's region splitting (growRegion) is given no budget, so it gives up on a region at once and the
// allocator splits around blocks or spills instead. Our regions' live ranges (every guest register live
// from entry to each exit) made it the bulk of the second tier's code generation: an FP awk run spent 41%
// of all host CPU in the second tier's LLVM thread, 5.3 s for 94 regions. Without it, 3.9 s for 98. Measured
// with `ab.py --alone` (two rounds, 2026-12-05, AMD EPYC 2-core VM, load 1.4): CPU 0.83-0.97 of the default
// budget's (fp_awk 0.90, seq 0.83, sort 0.83, forkexec 0.90, boot 0.97), wall 0.89-1.02; pinned (`ab.py`,
// two rounds, the whole suite) 0.96-1.02 in both.
constexpr const char* kCodegenDefaults[] = {"-optimize-regalloc", "-regalloc=strobe-tiered",
                                            "-enable-misched=false", "-grow-region-complexity-budget=0"};

// The running program's GNU build ID (the linker's hash of it), as hex; without one, a hash of the
// executable's bytes. Code compiled by another build of Strobe may rely on other decoder tables, offsets
// or runtime behaviour, so the persistent cache keys by it.
// The key a second-tier region is filed under by its core (Region::core_blocks), with the configuration.
std::string CoreKey(const std::string& config, const Region& r) {
  Region core;
  core.page = r.page;
  core.blocks.assign(r.blocks.begin(), r.blocks.begin() + std::min<size_t>(r.core_blocks, r.blocks.size()));
  return config + "core|" + LiftKey(core);
}

}  // namespace

bool PromotesRegisters(const Region& region, unsigned opt_level, Promote promote) {
  if (opt_level == 0 || promote == Promote::kNever) return false;
  if (promote == Promote::kAlways) return true;
  for (const RegionBlock& rb : region.blocks)
    if (BranchTarget(rb) == std::optional<uint32_t>(rb.offset)) return true;
  return false;
}

namespace {

bool SameBlock(const RegionBlock& a, const RegionBlock& b) {
  return a.offset == b.offset && a.end == b.end && SameOps(a.ops, b.ops);
}

std::string BuildId() {
  static const std::string id = [] {
    std::string found;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) -> int {
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            if (ph.p_type != PT_NOTE) continue;
            const auto* p = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
            const uint8_t* end = p + ph.p_memsz;
            while (p + sizeof(ElfW(Nhdr)) <= end) {
              const auto* n = reinterpret_cast<const ElfW(Nhdr)*>(p);
              const uint8_t* name = p + sizeof(ElfW(Nhdr));
              const uint8_t* desc = name + ((n->n_namesz + 3) & ~3u);
              if (desc + n->n_descsz > end) break;
              if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
                static const char kHex[] = "0123456789abcdef";
                auto* s = static_cast<std::string*>(out);
                for (uint32_t k = 0; k < n->n_descsz; ++k) {
                  s->push_back(kHex[desc[k] >> 4]);
                  s->push_back(kHex[desc[k] & 15]);
                }
                return 1;
              }
              p = desc + ((n->n_descsz + 3) & ~3u);
            }
          }
          return 1;  // the first object is the program itself: look no further
        },
        &found);
    if (!found.empty()) return found;
    std::FILE* f = std::fopen("/proc/self/exe", "rb");
    std::string bytes;
    if (f) {
      char buf[1 << 16];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
      std::fclose(f);
    }
    return "exe-" + Sha256Hex(bytes);
  }();
  return id;
}

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
  // Registers out of memory and nothing else, in both tiers. The second tier (O1) ran LLVM's O1 pipeline
  // until 2026-12-05: it took a quarter of the second tier's compile time, and without it the code ran as
  // fast on Linux work (steady md5sum, sha256sum, gzip, seq the same) while compiles got cheaper.
  // bench/linux/ab.py --alone, two runs of two rounds: the suite's wall time 0.92 and 0.96, CPU 0.91 and
  // 0.93. Bare-metal sort.elf (scale=15) is the exception: 1.19-1.22 s with O1's passes, 1.42-1.51 without
  // (instcombine, simplifycfg, early-cse and licm did not bring it back). --jit-opt 2 keeps the O2 pipeline.
  if (level <= 1) {
    llvm::FunctionPassManager fpm;
    fpm.addPass(llvm::PromotePass());
    llvm::ModulePassManager mpm;
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(fpm)));
    mpm.run(m, mam);
    return;
  }
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.run(m, mam);
}
}  // namespace

struct Compiler::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::mutex mu;  // LLJIT use and the symbol-size table
  // The runtime's entry points (helpers.h) by name: every module's code links against them.
  llvm::orc::JITDylib* runtime = nullptr;
  // Each module's code lives in a JITDylib of its own, so function names only need to be unique within
  // one object (objects loaded from the code cache were named by other runs).
  uint64_t next_dylib = 0;
  llvm::Expected<llvm::orc::JITDylib&> NewDylib() {
    auto jd = jit->createJITDylib("strobe_code_" + std::to_string(next_dylib++));
    if (jd) jd->addToLinkOrder(*runtime);
    return jd;
  }
  // Code whose last region was dropped. The vCPU thread only queues it here (it must never wait for the
  // compiler thread, which holds mu for a whole batch); the compiler removes it between batches.
  std::mutex doomed_mu;
  std::vector<llvm::orc::JITDylib*> doomed;
  void RemoveDoomed() {  // with mu held
    std::vector<llvm::orc::JITDylib*> list;
    {
      std::lock_guard<std::mutex> lock(doomed_mu);
      list.swap(doomed);
    }
    for (llvm::orc::JITDylib* jd : list) llvm::consumeError(jit->getExecutionSession().removeJITDylib(*jd));
    if (list.empty()) return;
    // What no region uses any more is forgotten, so the tables stay the size of the live code.
    std::erase_if(loaded, [](const auto& l) { return l.second.handle.expired(); });
    std::erase_if(known, [this](const auto& k) { return !loaded.count(k.second.object); });
  }
  // The handle that keeps a module's code alive: its last owner queues the dylib for removal.
  std::shared_ptr<void> Handle(llvm::orc::JITDylib* jd) {
    return std::shared_ptr<void>(nullptr, [this, jd](void*) {
      std::lock_guard<std::mutex> lock(doomed_mu);
      doomed.push_back(jd);
    });
  }
  std::map<std::string, uint64_t> symbol_sizes;
  uint64_t next_id = 0;
  // The persistent code cache (null: none), what the code depends on besides the region (LiftKey), and the
  // cached objects loaded so far (with the handle that keeps each alive while a region uses it).
  std::unique_ptr<PersistentCache> cache;
  std::string cache_error;
  std::string config;
  struct Loaded {
    llvm::orc::JITDylib* dylib;
    std::weak_ptr<void> handle;
  };
  std::map<std::string, Loaded> loaded;  // by object name (cached objects) or "module N" (compiled here)
  // Code this process has, by LiftKey: a region with the same code (another VM's, or the same program
  // again in other pages) runs it with a frame of its own instead of being compiled again.
  struct Known {
    std::string object;
    std::string symbol;
    uint32_t site_count;
  };
  std::unordered_map<std::string, Known> known;
  // The shapes of the spanning (second-tier) regions sent here, by core (CoreKey): lift keys, at most
  // kShapesPerCore each. A VM whose region has the same core takes a shape another VM's region spanned to
  // (Tier::TakeCachedShape), so that its code is the same and is reused, where spanning by its own page
  // counts would have made a shape of its own to compile. Asked by the vCPU threads, hence the lock.
  std::mutex shapes_mu;
  std::unordered_map<std::string, std::vector<std::string>> shapes;
  static constexpr size_t kShapesPerCore = 8;
  // A guest that runs ever new programs would grow the index without end (each shape is a lift key of a
  // few KiB): past this many cores it starts again, which costs only shapes not taken.
  static constexpr size_t kShapeCores = 4096;
  // Cores the code cache on disk had no shape for, by a hash of the core's key (under shapes_mu). Asking the
  // disk costs a SHA-256 of the key and a directory lookup, and the tier asks for every block that gets warm,
  // again each time it warms up anew (code run once per process): a fork+exec loop spent 3-4% of its vCPU
  // thread there. A collision only skips an early load. Shapes stored later by other processes are not seen
  // until the next run.
  std::unordered_set<uint64_t> no_disk_shapes;
  static constexpr size_t kMaxNoDiskShapes = 1u << 16;  // about 2.5 MiB at most; a boot warms some 15,000
  // And the lift keys of the shapes it had, likewise: a shape that does not fit yet (blocks of it have not
  // run in this process) is asked for again whenever its root warms up, and reading the folder again (a
  // directory and an entry file a shape) took 0.7% of a fork+exec loop's CPU.
  std::unordered_map<uint64_t, std::vector<std::string>> disk_shapes;
  static constexpr size_t kMaxDiskShapes = 4096;
  std::string object;  // the last object the linker was given (ObjTransformLayer), for the cache
  std::shared_ptr<CompiledRegion> FromCache(const std::string& key, const std::string& lift_key,
                                            std::unique_ptr<Region>& region);
  std::shared_ptr<CompiledRegion> FromMemory(const std::string& lift_key, std::unique_ptr<Region>& region);
  // The dylib holding an object's code while some region keeps it alive (and a handle on it), else null.
  llvm::orc::JITDylib* Linked(const std::string& object, std::shared_ptr<void>* handle);
  std::shared_ptr<CompiledRegion> Adopt(llvm::orc::JITDylib& dylib, std::shared_ptr<void> handle,
                                        const std::string& symbol, uint32_t site_count,
                                        std::unique_ptr<Region>& region);
  std::mutex stats_mu;  // stats are read by the vCPU thread, which must not wait for a compile
  CompilerStats stats;
};

struct Compiler::Client {
  std::vector<std::shared_ptr<CompiledRegion>> finished;  // under queue_mu_
  std::atomic<bool> has_finished{false};                  // finished is not empty (read without the lock)
  size_t in_flight = 0;                                   // under queue_mu_
  bool removed = false;                                   // under queue_mu_
  CompilerStats stats;                                    // under Impl::stats_mu
};

namespace {
void Add(CompilerStats* to, const CompilerStats& s) {
  to->regions += s.regions;
  to->modules += s.modules;
  to->compile_ms += s.compile_ms;
  to->lift_ms += s.lift_ms;
  to->opt_ms += s.opt_ms;
  to->codegen_ms += s.codegen_ms;
  to->guest_insns += s.guest_insns;
  to->cache_hits += s.cache_hits;
  to->reused += s.reused;
}
}  // namespace

Compiler::Compiler(CompileOptions options) : options_(options), impl_(std::make_unique<Impl>()) {
  std::call_once(g_llvm_init, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // LLVM's options are process-wide: Strobe's defaults first, then the developer's STROBE_LLVM_ARGS
    // (e.g. "-time-passes", reported by --stats), whose options replace defaults of the same name.
    llvm::BumpPtrAllocator alloc;
    llvm::StringSaver saver(alloc);
    llvm::SmallVector<const char*, 16> user;
    if (const char* env = std::getenv("STROBE_LLVM_ARGS")) llvm::cl::TokenizeGNUCommandLine(env, saver, user);
    auto name_of = [](llvm::StringRef arg) { return arg.split('=').first; };
    llvm::SmallVector<const char*, 16> argv = {"strobe"};
    for (const char* def : kCodegenDefaults)
      if (std::none_of(user.begin(), user.end(), [&](const char* u) { return name_of(u) == name_of(def); }))
        argv.push_back(def);
    argv.append(user.begin(), user.end());
    llvm::cl::ParseCommandLineOptions(static_cast<int>(argv.size()), argv.data(), "");
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
    // What compiled code depends on besides the region itself: the persistent cache's key holds it.
    const char* llvm_args = std::getenv("STROBE_LLVM_ARGS");
    impl_->config = "strobe-code-4|" + BuildId() + "|llvm " LLVM_VERSION_STRING "|" + jtmb->getCPU() + "|" +
                    jtmb->getFeatures().getString() + "|O" + std::to_string(options_.opt_level) +
                    (options_.count_back_edges ? "|back-edges" : "") + (options_.inline_kseg ? "|kseg" : "") +
                    (options_.exact_budget ? "|exact" : "") + (options_.count_work ? "" : "|uncounted") +
                    (options_.opt_level == 0                ? ""
                     : options_.promote == Promote::kAlways ? "|promote-all"
                     : options_.promote == Promote::kNever  ? "|promote-none"
                                                            : "|promote-loops") +
                    "|" + (llvm_args ? llvm_args : "") + "|";
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
    if (jit) {
      impl_->jit = std::move(*jit);
      llvm::orc::SymbolMap symbols;
      for (const RuntimeSymbol& s : RuntimeSymbols())
        symbols[impl_->jit->mangleAndIntern(s.name)] = {
            llvm::orc::ExecutorAddr::fromPtr(s.address),
            llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
      impl_->runtime = &impl_->jit->getExecutionSession().createBareJITDylib("strobe_runtime");
      if (auto err = impl_->runtime->define(llvm::orc::absoluteSymbols(std::move(symbols)))) {
        llvm::consumeError(std::move(err));
        impl_->jit.reset();
      }
    } else {
      llvm::consumeError(jit.takeError());
    }
  } else {
    llvm::consumeError(jtmb.takeError());
  }
  if (impl_->jit && !options_.code_cache_dir.empty()) {
    impl_->cache = std::make_unique<PersistentCache>(options_.code_cache_dir, options_.code_cache_max_bytes);
    if (!impl_->cache->ok()) {
      impl_->cache_error = impl_->cache->error();
      impl_->cache.reset();
    }
  }
  if (impl_->jit && (options_.keep_listings || !options_.perf_map.empty() || impl_->cache)) {
    Impl* impl = impl_.get();
    impl_->jit->getObjTransformLayer().setTransform(
        [impl](
            std::unique_ptr<llvm::MemoryBuffer> buf) -> llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> {
          if (impl->cache) impl->object = buf->getBuffer().str();
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

Compiler::~Compiler() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stop_ = true;
    queue_.clear();  // nobody will run what is still queued
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Compiler::Client* Compiler::AddClient() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  clients_.push_back(std::make_unique<Client>());
  return clients_.back().get();
}

// The client's record stays until the compiler goes (a batch in flight still points at it); it is small.
void Compiler::RemoveClient(Client* client) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  client->removed = true;
  std::erase_if(queue_, [client](const Job& j) { return j.client == client; });
  client->finished.clear();
  client->has_finished.store(false, std::memory_order_relaxed);
}

size_t Compiler::clients() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  size_t n = 0;
  for (const auto& c : clients_) n += !c->removed;
  return n;
}

std::vector<std::shared_ptr<CompiledRegion>> Compiler::Compile(std::vector<std::unique_ptr<Region>> regions,
                                                               Client* client) {
  std::vector<Client*> owners(regions.size(), client);
  return CompileFor(std::move(regions), owners);
}

// Code already linked into this process for a region: the region gets a frame of its own for it.
std::shared_ptr<CompiledRegion> Compiler::Impl::Adopt(llvm::orc::JITDylib& dylib,
                                                      std::shared_ptr<void> handle, const std::string& symbol,
                                                      uint32_t site_count, std::unique_ptr<Region>& region) {
  auto sym = jit->lookup(dylib, symbol);  // the first lookup in a loaded object links it
  if (!sym) {
    llvm::consumeError(sym.takeError());
    return nullptr;
  }
  auto cr = std::make_shared<CompiledRegion>();
  cr->fn = sym->toPtr<NativeFn>();
  cr->name = symbol;
  cr->module_handle = std::move(handle);
  cr->region = std::move(region);
  cr->region->site_count = site_count;
  cr->region->BindFrame();
  return cr;
}

llvm::orc::JITDylib* Compiler::Impl::Linked(const std::string& object, std::shared_ptr<void>* handle) {
  auto it = loaded.find(object);
  if (it == loaded.end()) return nullptr;
  // (A handle owns no pointer, only its deleter: whether it is alive is its use count, not its value.)
  *handle = it->second.handle.lock();
  return handle->use_count() ? it->second.dylib : nullptr;
}

std::shared_ptr<CompiledRegion> Compiler::Impl::FromMemory(const std::string& lift_key,
                                                           std::unique_ptr<Region>& region) {
  auto k = known.find(lift_key);
  if (k == known.end()) return nullptr;
  std::shared_ptr<void> handle;
  llvm::orc::JITDylib* dylib = Linked(k->second.object, &handle);
  if (!dylib) {
    known.erase(k);  // its code was freed
    return nullptr;
  }
  auto cr = Adopt(*dylib, std::move(handle), k->second.symbol, k->second.site_count, region);
  if (cr) cr->reused = true;
  return cr;
}

// A region's code from the persistent cache: its object is linked (once per process, while some region
// uses it) and the region gets a frame for it. Null when the cache has nothing usable.
std::shared_ptr<CompiledRegion> Compiler::Impl::FromCache(const std::string& key, const std::string& lift_key,
                                                          std::unique_ptr<Region>& region) {
  std::optional<PersistentCache::Entry> e = cache->Find(key);
  if (!e) return nullptr;
  std::shared_ptr<void> handle;
  llvm::orc::JITDylib* dylib = Linked(e->object, &handle);
  if (!dylib) {
    std::optional<std::string> bytes = cache->ReadObject(e->object);
    if (!bytes) return nullptr;
    auto jd = NewDylib();
    if (!jd) {
      llvm::consumeError(jd.takeError());
      return nullptr;
    }
    dylib = &*jd;
    handle = Handle(dylib);  // from here on, dropping the handle removes the dylib
    if (auto err = jit->addObjectFile(*dylib, llvm::MemoryBuffer::getMemBufferCopy(*bytes, e->object))) {
      llvm::consumeError(std::move(err));
      return nullptr;
    }
    loaded[e->object] = {dylib, handle};
  }
  auto cr = Adopt(*dylib, std::move(handle), e->symbol, e->site_count, region);
  if (cr) {
    cr->from_cache = true;
    known[lift_key] = {e->object, e->symbol, e->site_count};
  }
  return cr;
}

std::vector<std::shared_ptr<CompiledRegion>> Compiler::CompileFor(
    std::vector<std::unique_ptr<Region>> regions, const std::vector<Client*>& owners) {
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
  t_optimizing = options_.opt_level >= 1;  // which allocator CreateTieredRegAlloc gives this thread

  auto note_perf_map = [this](const CompiledRegion& cr) {
    if (options_.perf_map.empty()) return;
    if (std::FILE* f = std::fopen(options_.perf_map.c_str(), "a")) {
      std::fprintf(f, "%llx %llx strobe:%s\n",
                   static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(cr.fn)),
                   static_cast<unsigned long long>(cr.host_size), cr.name.c_str());
      std::fclose(f);
    }
  };
  // Code this process already has (compiled for another VM, or for the same code in other pages), then
  // the persistent cache: a region found in either needs no compiling. (Listings want the IR, so with them
  // everything is compiled; it is still stored.)
  // A region with the same code as an earlier one of the batch (two VMs asked at once) waits for that
  // one's code: dup[i] is its index.
  std::vector<std::string> lift_keys(regions.size()), keys(regions.size());
  std::vector<size_t> dup(regions.size(), SIZE_MAX);
  std::unordered_map<std::string_view, size_t> first;
  uint64_t hits = 0, reused = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    lift_keys[i] = LiftKey(*regions[i]);
    if (options_.keep_listings) continue;
    if (auto f = first.find(lift_keys[i]); f != first.end()) {
      dup[i] = f->second;
      continue;
    }
    first.emplace(lift_keys[i], i);
    out[i] = impl_->FromMemory(lift_keys[i], regions[i]);
    if (out[i]) {
      ++reused;
      continue;
    }
    if (!impl_->cache) continue;
    keys[i] = impl_->config + lift_keys[i];
    out[i] = impl_->FromCache(keys[i], lift_keys[i], regions[i]);
    if (out[i]) {
      impl_->cache->CountHit();
      ++hits;
      if (!options_.perf_map.empty()) out[i]->host_size = impl_->symbol_sizes[out[i]->name];
      note_perf_map(*out[i]);
    } else {
      impl_->cache->CountMiss();
    }
  }
  if (options_.keep_listings && impl_->cache)
    for (size_t i = 0; i < regions.size(); ++i) keys[i] = impl_->config + lift_keys[i];
  const double t_cache = ThreadCpuMs();
  bool any_to_compile = false;
  for (size_t i = 0; i < regions.size(); ++i) any_to_compile |= !out[i] && dup[i] == SIZE_MAX;

  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("strobe_" + std::to_string(impl_->next_id), *ctx);
  mod->setDataLayout(impl_->jit->getDataLayout());
  mod->setTargetTriple(impl_->jit->getTargetTriple().str());

  std::vector<std::string> names(regions.size());
  std::vector<std::string> before(regions.size());
  uint64_t guest_insns = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (out[i] || dup[i] != SIZE_MAX) continue;  // from memory or the cache, or a copy of another
    char name[64];
    // Each compiler numbers its own regions: the level keeps the tiers' names apart (in perf, in dumps).
    std::snprintf(name, sizeof name, "region_%08x_O%u_%llu", regions[i]->page, options_.opt_level,
                  static_cast<unsigned long long>(impl_->next_id++));
    llvm::Function* f =
        LiftRegion(*regions[i], *mod, name,
                   LiftOptions{PromotesRegisters(*regions[i], options_.opt_level, options_.promote),
                               options_.count_back_edges, options_.inline_kseg, options_.opt_level >= 1,
                               options_.opt_level == 0, options_.exact_budget, options_.count_work});
    if (llvm::verifyFunction(*f, &llvm::errs())) {  // a lifter bug: leave this region to the interpreter
      f->eraseFromParent();
      continue;
    }
    names[i] = name;
    for (const RegionBlock& b : regions[i]->blocks) guest_insns += b.ops.size();
    if (options_.keep_listings) before[i] = Print(*f);
  }
  const double t_lifted = ThreadCpuMs();
  if (any_to_compile) Optimize(*mod, options_.opt_level);
  const double t_optimized = ThreadCpuMs();
  std::vector<std::string> after(regions.size());
  if (options_.keep_listings)
    for (size_t i = 0; i < regions.size(); ++i)
      if (!names[i].empty()) after[i] = Print(*mod->getFunction(names[i]));

  std::shared_ptr<void> handle;
  llvm::orc::JITDylib* dylib = nullptr;
  const std::string module_id = "module " + std::to_string(impl_->next_dylib);
  if (any_to_compile) {
    auto jd = impl_->NewDylib();
    llvm::Error added =
        jd ? impl_->jit->addIRModule(*jd, llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx)))
           : jd.takeError();
    if (added) {
      llvm::consumeError(std::move(added));
      names.assign(regions.size(), std::string());  // nothing compiled: left to the interpreter
    } else {
      dylib = &*jd;
      // Freed when the last region of this module is dropped (its page was overwritten or the VM ended).
      handle = impl_->Handle(dylib);
      impl_->loaded[module_id] = {dylib, handle};
    }
  }

  impl_->object.clear();
  size_t compiled = 0;
  std::vector<PersistentCache::Stored> to_store;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (out[i] || dup[i] != SIZE_MAX) continue;
    auto cr = std::make_shared<CompiledRegion>();
    out[i] = cr;
    if (names[i].empty()) {  // fn stays null: the caller leaves this code to the interpreter
      cr->region = std::move(regions[i]);
      continue;
    }
    auto sym = impl_->jit->lookup(*dylib, names[i]);  // the first lookup compiles the whole module
    if (!sym) {
      llvm::consumeError(sym.takeError());
      cr->region = std::move(regions[i]);
      continue;
    }
    cr->fn = sym->toPtr<NativeFn>();
    cr->name = names[i];
    cr->region = std::move(regions[i]);
    cr->region->BindFrame();
    cr->ir_before = std::move(before[i]);
    cr->ir_after = std::move(after[i]);
    cr->module_handle = handle;
    if (options_.keep_listings || !options_.perf_map.empty()) cr->host_size = impl_->symbol_sizes[names[i]];
    note_perf_map(*cr);
    if (impl_->cache) {
      const Region& r = *cr->region;
      to_store.push_back({std::move(keys[i]), names[i], r.site_count,
                          r.core_blocks && r.core_blocks < r.blocks.size() ? CoreKey(impl_->config, r) : ""});
    }
    impl_->known[lift_keys[i]] = {module_id, names[i], cr->region->site_count};
    ++compiled;
  }
  for (size_t i = 0; i < regions.size(); ++i) {  // copies take the code compiled (or found) for the first
    if (dup[i] == SIZE_MAX) continue;
    if (out[dup[i]]->fn) out[i] = impl_->FromMemory(lift_keys[i], regions[i]);
    if (out[i]) {
      ++reused;
      continue;
    }
    out[i] = std::make_shared<CompiledRegion>();  // not compiled: left to the interpreter
    out[i]->region = std::move(regions[i]);
  }
  // The object the module became (captured as the linker took it), for later runs.
  if (impl_->cache && !to_store.empty() && !impl_->object.empty())
    impl_->cache->Store(impl_->object, to_store);
  impl_->object.clear();
  const double t_end = ThreadCpuMs();
  auto ms = [](double from, double to) { return to - from; };
  const double total = ms(t0, t_end);
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i]->fn && !out[i]->from_cache && !out[i]->reused)
      out[i]->compile_ms = (t_end - t_cache) / static_cast<double>(compiled);
  CompilerStats batch;
  batch.regions = compiled;
  batch.modules = compiled ? 1 : 0;
  batch.compile_ms = total;
  batch.lift_ms = ms(t0, t_lifted);  // with the cache's lookups and loads
  batch.opt_ms = ms(t_lifted, t_optimized);
  batch.codegen_ms = ms(t_optimized, t_end);
  batch.guest_insns = guest_insns;
  batch.cache_hits = hits;
  batch.reused = reused;
  std::lock_guard<std::mutex> stats_lock(impl_->stats_mu);
  Add(&impl_->stats, batch);
  // Each client's share: its regions' part of the batch (the module counts once for each).
  std::vector<Client*> seen;
  const size_t done = compiled + hits + reused;
  for (Client* c : owners) {
    if (!c || std::find(seen.begin(), seen.end(), c) != seen.end()) continue;
    seen.push_back(c);
    uint64_t mine = 0, mine_cached = 0, mine_reused = 0, insns = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (owners[i] != c || !out[i]->fn) continue;
      if (out[i]->from_cache || out[i]->reused) {
        ++(out[i]->reused ? mine_reused : mine_cached);
        continue;
      }
      ++mine;
      for (const RegionBlock& b : out[i]->region->blocks) insns += b.ops.size();
    }
    const double share =
        done ? static_cast<double>(mine + mine_cached + mine_reused) / static_cast<double>(done) : 0.0;
    CompilerStats part;
    part.regions = mine;
    part.modules = mine ? 1 : 0;
    part.compile_ms = total * share;
    part.lift_ms = batch.lift_ms * share;
    part.opt_ms = batch.opt_ms * share;
    part.codegen_ms = batch.codegen_ms * share;
    part.guest_insns = insns;
    part.cache_hits = mine_cached;
    part.reused = mine_reused;
    Add(&c->stats, part);
  }
  return out;
}

void Compiler::Submit(Client* client, std::unique_ptr<Region> region) {
  // A spanning region's shape is known from now on (not only once compiled): VMs running the same code
  // reach it at about the same time, and one that takes this shape while the compile is queued or running
  // gets its code (a copy in the same batch, or the code this one left) instead of compiling its own.
  if (region->core_blocks && region->core_blocks < region->blocks.size()) {
    const std::string core = CoreKey(impl_->config, *region);
    std::string lift_key = LiftKey(*region);
    std::lock_guard<std::mutex> lock(impl_->shapes_mu);
    if (impl_->shapes.size() >= Impl::kShapeCores && !impl_->shapes.count(core)) impl_->shapes.clear();
    std::vector<std::string>& shapes = impl_->shapes[core];
    if (shapes.size() < Impl::kShapesPerCore &&
        std::find(shapes.begin(), shapes.end(), lift_key) == shapes.end())
      shapes.push_back(std::move(lift_key));
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back({client, std::move(region)});
  }
  queue_cv_.notify_one();
}

std::vector<std::shared_ptr<CompiledRegion>> Compiler::TakeFinished(Client* client) {
  // The vCPU polls at every return to the dispatcher (every exception, in TLB-refill-heavy code): skip the
  // lock when nothing is there.
  if (!client->has_finished.load(std::memory_order_acquire)) return {};
  std::lock_guard<std::mutex> lock(queue_mu_);
  client->has_finished.store(false, std::memory_order_relaxed);
  return std::move(client->finished);
}

void Compiler::Prune(Client* client, const std::function<bool(Region&)>& keep) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  std::erase_if(queue_, [&](const Job& j) { return j.client == client && !keep(*j.region); });
}

void Compiler::Hold(bool held) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    held_ = held;
  }
  queue_cv_.notify_all();
}

size_t Compiler::Pending(Client* client) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  size_t n = client->in_flight;
  for (const Job& j : queue_) n += j.client == client;
  return n;
}

CompilerClient::CompilerClient(std::shared_ptr<Compiler> compiler)
    : compiler_(std::move(compiler)), client_(compiler_->AddClient()) {}

CompilerClient::~CompilerClient() {
  compiler_->RemoveClient(client_);
}

std::vector<std::shared_ptr<CompiledRegion>> CompilerClient::TakeFinished() {
  return compiler_->TakeFinished(client_);
}

void PrintLlvmTimers() {
  llvm::TimerGroup::printAll(llvm::errs());
}

CompilerStats Compiler::stats() {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

std::optional<PersistentCacheStats> Compiler::code_cache_stats() {
  if (!impl_->cache) return std::nullopt;
  return impl_->cache->stats();
}

std::vector<std::vector<RegionBlock>> Compiler::CachedShapes(const Region& core) {
  std::vector<std::vector<RegionBlock>> out;
  if (!core.core_blocks) return out;
  const std::string& config = impl_->config;
  const std::string core_key = CoreKey(config, core);
  auto take = [&](std::string_view lift_key) {
    std::vector<RegionBlock> blocks;
    if (!ParseLiftKey(lift_key, &blocks) || blocks.size() <= core.core_blocks) return;
    bool same = true;
    for (size_t i = 0; i < core.core_blocks && same; ++i) same = SameBlock(blocks[i], core.blocks[i]);
    if (same) out.push_back(std::move(blocks));
  };
  {  // code this process compiled first: it is in memory, where the code cache's must be read and linked
    std::lock_guard<std::mutex> lock(impl_->shapes_mu);
    auto it = impl_->shapes.find(core_key);
    if (it != impl_->shapes.end())
      for (const std::string& lift_key : it->second) take(lift_key);
  }
  if (!impl_->cache) return out;
  const uint64_t core_hash = std::hash<std::string>{}(core_key);
  std::vector<std::string> keys;
  bool read = false;
  {
    std::lock_guard<std::mutex> lock(impl_->shapes_mu);
    if (impl_->no_disk_shapes.count(core_hash)) return out;
    if (auto it = impl_->disk_shapes.find(core_hash); it != impl_->disk_shapes.end()) {
      keys = it->second;
      read = true;
    }
  }
  if (!read) {
    for (auto& [key, entry] : impl_->cache->FindByCore(core_key, 8, config.size()))
      if (key.compare(0, config.size(), config) == 0) keys.push_back(key.substr(config.size()));
    std::lock_guard<std::mutex> lock(impl_->shapes_mu);
    if (keys.empty()) {
      if (impl_->no_disk_shapes.size() >= Impl::kMaxNoDiskShapes) impl_->no_disk_shapes.clear();
      impl_->no_disk_shapes.insert(core_hash);
    } else {
      if (impl_->disk_shapes.size() >= Impl::kMaxDiskShapes) impl_->disk_shapes.clear();
      impl_->disk_shapes.emplace(core_hash, keys);
    }
  }
  for (const std::string& lift_key : keys) take(lift_key);
  return out;
}

std::string Compiler::code_cache_error() const {
  return impl_->cache_error;
}

CompilerStats Compiler::stats(Client* client) {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return client->stats;
}

void Compiler::BackgroundLoop() {
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
      std::stable_sort(queue_.begin(), queue_.end(), [](const Job& a, const Job& b) {
        return a.region->frame.entries > b.region->frame.entries;
      });
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
