// SPDX-License-Identifier: MIT
// The persistent code cache (translator/jit/persistent_cache.h): its files and their checks, and the
// compiler's use of it: a region compiled by one jit::Compiler (one run) is loaded, not compiled, by another
// with the same folder, whatever physical page the code is in now; a changed instruction misses.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/jit/jit_support.h"
#include "tests/support/scratch.h"
#include "translator/jit/compiler.h"
#include "translator/jit/persistent_cache.h"
#include "translator/llvm/lifter.h"

namespace strobe::test::jt {
namespace {

namespace fs = std::filesystem;

std::string FreshDir(const std::string& name) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("strobe_pcache_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  return RemoveAtExit(dir.string());
}

std::vector<fs::path> FilesIn(const std::string& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void WriteAll(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(PersistentCache, StoredEntriesAreFoundWithTheirObject) {
  const std::string dir = FreshDir("store");
  jit::PersistentCache c(dir, 1 << 20);
  ASSERT_TRUE(c.ok()) << c.error();
  c.Store("object bytes", {{"key one", "fn_a", 3, ""}, {"key two", "fn_b", 0, ""}});
  auto a = c.Find("key one");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->symbol, "fn_a");
  EXPECT_EQ(a->site_count, 3u);
  auto b = c.Find("key two");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->object, a->object) << "one object holds both regions";
  EXPECT_EQ(c.ReadObject(a->object), std::optional<std::string>("object bytes"));
  EXPECT_FALSE(c.Find("key three"));
  EXPECT_EQ(c.stats().stored, 2u);
  EXPECT_EQ(c.stats().rejected, 0u);
}

// Keys lists what the index holds, for tools that look at what runs compiled (bench/compile_bench.cpp): every
// intact entry once, and not a damaged one (which it removes, as Find would).
TEST(PersistentCache, KeysListEveryIntactEntry) {
  const std::string dir = FreshDir("keys");
  jit::PersistentCache c(dir, 1 << 20);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c.Keys().empty());
  c.Store("object one", {{"key one", "fn_a", 0, ""}, {"key two", "fn_b", 0, ""}});
  c.Store("object two", {{std::string("key\0three", 9), "fn_c", 1, ""}});
  std::vector<std::string> keys = c.Keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{std::string("key\0three", 9), "key one", "key two"}));
  const fs::path two = fs::path(dir) / "index" / (jit::Sha256Hex("key two") + ".idx");
  ASSERT_TRUE(fs::exists(two));
  std::string bytes = ReadAll(two);
  bytes[bytes.size() / 2] ^= 0x55;
  WriteAll(two, bytes);
  keys = c.Keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{std::string("key\0three", 9), "key one"}));
  EXPECT_FALSE(fs::exists(two)) << "a damaged entry is removed";
  EXPECT_EQ(c.stats().rejected, 1u);
}

// FindByCore hashes a core's shared prefix (the configuration) once and keeps the state: the folder it
// looks in must be the one Store filed the core under, whatever the prefix, and a new prefix must not be
// answered from the old one's state.
TEST(PersistentCache, CoresAreFoundWhateverPrefixTheirHashKeeps) {
  const std::string dir = FreshDir("cores");
  jit::PersistentCache c(dir, 1 << 20);
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string config_a(1700, 'a'), config_b(1700, 'b');  // as long as a real configuration
  const std::string core_a = config_a + "core|one", core_a2 = config_a + "core|two";
  const std::string core_b = config_b + "core|one";
  c.Store("code A", {{"key A", "fn", 0, core_a}});
  c.Store("code A2", {{"key A2", "fn", 0, core_a2}});
  c.Store("code B", {{"key B", "fn", 0, core_b}});
  auto keys = [&](const std::string& core, size_t prefix) {
    std::vector<std::string> out;
    for (auto& [key, entry] : c.FindByCore(core, 8, prefix)) out.push_back(key);
    return out;
  };
  using V = std::vector<std::string>;
  for (int round = 0; round < 2; ++round) {  // the second round with every prefix state already kept
    EXPECT_EQ(keys(core_a, config_a.size()), V{"key A"});
    EXPECT_EQ(keys(core_a2, config_a.size()), V{"key A2"});
    EXPECT_EQ(keys(core_b, config_b.size()), V{"key B"}) << "another prefix: hashed afresh";
    EXPECT_EQ(keys(core_a, config_a.size()), V{"key A"});
    EXPECT_EQ(keys(core_a, 0), V{"key A"}) << "no prefix";
    EXPECT_EQ(keys(core_a, 5), V{"key A"}) << "a shorter prefix";
    EXPECT_EQ(keys(core_a, core_a.size()), V{"key A"}) << "the whole core as the prefix";
    EXPECT_EQ(keys(core_a, core_a.size() + 1), V{"key A"}) << "a prefix longer than the core";
    EXPECT_TRUE(keys(config_a + "core|three", config_a.size()).empty());
  }
  // Another cache on the folder (another process) finds a core stored after its first question.
  jit::PersistentCache other(dir, 1 << 20);
  EXPECT_EQ(other.FindByCore(core_b, 8, config_b.size()).size(), 1u);
  const std::string core_c = config_a + "core|four";
  EXPECT_TRUE(other.FindByCore(core_c, 8, config_a.size()).empty());
  c.Store("code C", {{"key C", "fn", 0, core_c}});
  EXPECT_EQ(keys(core_c, config_a.size()), V{"key C"});
  EXPECT_EQ(other.FindByCore(core_c, 8, config_a.size()).size(), 1u);
}

TEST(PersistentCache, ADamagedEntryOrObjectIsRejectedAndRemoved) {
  const std::string dir = FreshDir("damage");
  jit::PersistentCache c(dir, 1 << 20);
  c.Store("some compiled code", {{"key", "fn", 1, ""}});
  auto e = c.Find("key");
  ASSERT_TRUE(e);
  // A flipped bit in the object: refused, never handed to the linker.
  const fs::path object = fs::path(dir) / "objects" / e->object;
  std::string bytes = ReadAll(object);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteAll(object, bytes);
  EXPECT_FALSE(c.ReadObject(e->object));
  EXPECT_FALSE(fs::exists(object)) << "a damaged object stays in the way of the next run";
  // A truncated entry.
  const std::vector<fs::path> entries = FilesIn(dir + "/index");
  ASSERT_EQ(entries.size(), 1u);
  const std::string entry = ReadAll(entries[0]);
  WriteAll(entries[0], entry.substr(0, entry.size() - 5));
  EXPECT_FALSE(c.Find("key"));
  EXPECT_FALSE(fs::exists(entries[0]));
  EXPECT_EQ(c.stats().rejected, 2u);
}

TEST(PersistentCache, AnEntryForAnotherKeyUnderTheSameNameIsAMiss) {
  const std::string dir = FreshDir("collide");
  jit::PersistentCache c(dir, 1 << 20);
  c.Store("code", {{"key A", "fn", 0, ""}});
  const fs::path a = FilesIn(dir + "/index").at(0);
  // As if key B hashed to key A's file name: the full key stored in the entry tells them apart.
  const fs::path b = fs::path(dir) / "index" / (jit::Sha256Hex("key B") + ".idx");
  fs::copy_file(a, b);
  EXPECT_FALSE(c.Find("key B"));
  EXPECT_TRUE(c.Find("key A"));
  EXPECT_EQ(c.stats().rejected, 0u) << "an intact entry of another key is not damage";
}

TEST(PersistentCache, TrimRemovesTheLeastRecentlyUsedFiles) {
  const std::string dir = FreshDir("trim");
  const std::string big(4000, 'x');
  {
    jit::PersistentCache c(dir, 1 << 20);
    c.Store(big + "1", {{"k1", "f", 0, ""}});
    c.Store(big + "2", {{"k2", "f", 0, ""}});
    c.Store(big + "3", {{"k3", "f", 0, ""}});
  }
  // k1's files are the oldest, k3's the newest.
  const auto now = fs::file_time_type::clock::now();
  for (int k = 1; k <= 3; ++k) {
    const auto when = now - std::chrono::seconds(100 * (4 - k));
    const std::string n = std::to_string(k);
    fs::last_write_time(fs::path(dir) / "objects" / (jit::Sha256Hex(big + n) + ".o"), when);
    fs::last_write_time(fs::path(dir) / "index" / (jit::Sha256Hex("k" + n) + ".idx"), when);
  }
  jit::PersistentCache c(dir, 10000);  // three objects of 4 KB do not fit: trimmed on start
  EXPECT_FALSE(c.Find("k1") && c.ReadObject(c.Find("k1")->object)) << "the least recently used stayed";
  auto k3 = c.Find("k3");
  ASSERT_TRUE(k3) << "the most recently used went";
  EXPECT_TRUE(c.ReadObject(k3->object));
  EXPECT_GE(c.stats().evicted, 1u);
}

// The folder's size comes from its usage file: the stores add to it, a trim sets it to what it counted, and
// opening a folder reads it instead of walking the files (a folder the file says is small is not trimmed on
// start, whatever lies in it; one it says is too big is counted and trimmed; one without the file is
// counted).
uint64_t BytesIn(const std::string& dir) {
  uint64_t total = 0;
  for (const char* sub : {"objects", "index"})
    for (const auto& e : fs::directory_iterator(fs::path(dir) / sub)) total += e.file_size();
  return total;
}

TEST(PersistentCache, TheFoldersSizeIsReadFromItsUsageFile) {
  const std::string dir = FreshDir("usage");
  const std::string big(4000, 'x');
  {
    jit::PersistentCache c(dir, 1 << 20);
    EXPECT_EQ(c.RecordedBytes(), std::optional<uint64_t>(0)) << "a new folder is counted: empty";
    c.Store(big + "1", {{"k1", "f", 0, ""}});
    c.Store(big + "2", {{"k2", "f", 0, ""}});
  }
  const uint64_t stored = BytesIn(dir);
  EXPECT_EQ(ReadAll(fs::path(dir) / "usage"), std::to_string(stored) + "\n");

  // The file says 100 bytes: a 10,000-byte limit is not passed, so nothing is walked or removed.
  WriteAll(fs::path(dir) / "usage", "100\n");
  {
    jit::PersistentCache c(dir, 10000);
    EXPECT_EQ(c.RecordedBytes(), std::optional<uint64_t>(100));
    EXPECT_TRUE(c.Find("k1") && c.ReadObject(c.Find("k1")->object));
    EXPECT_EQ(c.stats().evicted, 0u);
  }
  // It says more than the limit: the folder is counted (about 8,300 bytes), trimmed to 3/4 of the limit,
  // and the count recorded.
  WriteAll(fs::path(dir) / "usage", "20000\n");
  {
    jit::PersistentCache c(dir, 8000);
    EXPECT_GE(c.stats().evicted, 1u);
    EXPECT_LE(BytesIn(dir), 6000u);
    EXPECT_EQ(c.RecordedBytes(), std::optional<uint64_t>(BytesIn(dir)));
  }
  // No file (a folder from before it, or damaged): counted on open.
  for (const char* text : {"", "12x\n"}) {
    WriteAll(fs::path(dir) / "usage", text);
    if (!*text) fs::remove(fs::path(dir) / "usage");
    jit::PersistentCache c(dir, 1 << 20);
    EXPECT_EQ(c.RecordedBytes(), std::optional<uint64_t>(BytesIn(dir))) << "usage was '" << text << "'";
  }
}

TEST(PersistentCache, AFileWhereTheFolderShouldBeIsAnError) {
  const std::string path = FreshDir("file");
  WriteAll(path, "not a folder");
  jit::PersistentCache c(path, 1 << 20);
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find(path), std::string::npos) << c.error();
}

// One block: addiu v0, v0, `step`; addiu v1, v1, 2; jr ra; nop.
std::unique_ptr<code::Region> SmallRegion(uint32_t page, int16_t step) {
  auto r = std::make_unique<code::Region>();
  r->page = page;
  code::RegionBlock b;
  b.offset = 0x40;
  b.end = code::BlockEnd::kBranch;
  for (uint32_t w : {Addiu(v0, v0, step), Addiu(v1, v1, 2), Jr(ra), Nop()}) b.ops.push_back(mips::Decode(w));
  r->blocks.push_back(std::move(b));
  return r;
}

// A second-tier region: SmallRegion's block (its core) and a block spanned in from the next page.
std::unique_ptr<code::Region> SpannedRegion(uint32_t page, int16_t step) {
  auto r = SmallRegion(page, step);
  code::RegionBlock other;
  other.offset = 0x1010;
  other.end = code::BlockEnd::kBranch;
  for (uint32_t w : {Addiu(a0, a0, 4), Jr(ra), Nop()}) other.ops.push_back(mips::Decode(w));
  r->blocks.push_back(std::move(other));
  r->core_blocks = 1;
  r->other_pages = {{page + 0x1000, 0}};
  return r;
}

// SmallRegion's block as a second-tier region's core, before it spans anything.
std::unique_ptr<code::Region> CoreOnly(uint32_t page, int16_t step) {
  auto r = SmallRegion(page, step);
  r->core_blocks = 1;
  return r;
}

// What CachedShapes finds for SpannedRegion's core: that region's shape, and only it.
void ExpectSpannedShape(const std::vector<std::vector<code::RegionBlock>>& shapes) {
  ASSERT_EQ(shapes.size(), 1u);
  ASSERT_EQ(shapes[0].size(), 2u);
  EXPECT_EQ(shapes[0][1].offset, 0x1010u);
  EXPECT_EQ(shapes[0][1].ops.at(0).raw, Addiu(a0, a0, 4));
}

std::shared_ptr<code::CompiledRegion> CompileOne(jit::Compiler& e, std::unique_ptr<code::Region> r) {
  std::vector<std::unique_ptr<code::Region>> batch;
  batch.push_back(std::move(r));
  return e.Compile(std::move(batch)).at(0);
}

TEST(PersistentCache, AnotherCompilerLoadsWhatOneCompiledWhereverTheCodeIs) {
  const std::string dir = FreshDir("compiler");
  jit::CompileOptions o;
  o.code_cache_dir = dir;
  uint32_t sites = 0;
  {
    jit::Compiler first(o);
    auto cr = CompileOne(first, SmallRegion(0x00123000, 1));
    ASSERT_NE(cr->fn, nullptr);
    EXPECT_FALSE(cr->from_cache);
    sites = cr->region->site_count;
    EXPECT_GT(sites, 0u) << "the JR leaves through a chain site";
    ASSERT_TRUE(first.code_cache_stats());
    EXPECT_EQ(first.code_cache_stats()->stored, 1u);
  }
  jit::Compiler second(o);  // a new LLJIT: as a later run of Strobe
  auto hit = CompileOne(second, SmallRegion(0x0ABCD000, 1));
  ASSERT_NE(hit->fn, nullptr);
  EXPECT_TRUE(hit->from_cache) << "the same code in another physical page should hit";
  EXPECT_EQ(hit->region->site_count, sites);
  EXPECT_EQ(hit->region->frame.sites, hit->region->site_store.get());
  auto changed = CompileOne(second, SmallRegion(0x00123000, 5));
  ASSERT_NE(changed->fn, nullptr);
  EXPECT_FALSE(changed->from_cache) << "a changed instruction must miss";
  EXPECT_EQ(second.stats().cache_hits, 1u);
  EXPECT_EQ(second.stats().regions, 1u);

  // Another optimisation level is other code: it misses too.
  jit::CompileOptions o1 = o;
  o1.opt_level = 1;
  jit::Compiler third(o1);
  EXPECT_FALSE(CompileOne(third, SmallRegion(0x00123000, 1))->from_cache);
  // So is the same level with guest registers kept in host registers (--jit-promote).
  o1.promote = jit::Promote::kAlways;
  jit::Compiler fourth(o1);
  EXPECT_FALSE(CompileOne(fourth, SmallRegion(0x00123000, 1))->from_cache);
  o1.promote = jit::Promote::kLoops;  // the default, as the third compiler stored it
  jit::Compiler fifth(o1);
  EXPECT_TRUE(CompileOne(fifth, SmallRegion(0x00123000, 1))->from_cache);
}

TEST(PersistentCache, LiftKeysParseBackToTheirBlocks) {
  auto r = SmallRegion(0x00123000, 3);
  code::RegionBlock j;  // a J that lands on the first block, and its delay slot
  j.offset = 0x100;
  j.end = code::BlockEnd::kBranch;
  for (uint32_t w :
       {Addiu(v0, v0, 1), mips::Encode(mips::Opcode::J, {.target = (0x00123040u >> 2) & 0x03FFFFFF}), Nop()})
    j.ops.push_back(mips::Decode(w));
  r->blocks.push_back(j);
  std::vector<code::RegionBlock> back;
  ASSERT_TRUE(jit::ParseLiftKey(jit::LiftKey(*r), &back));
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back[i].offset, r->blocks[i].offset);
    EXPECT_EQ(back[i].end, r->blocks[i].end);
    ASSERT_EQ(back[i].ops.size(), r->blocks[i].ops.size());
    for (size_t k = 0; k < back[i].ops.size(); ++k) EXPECT_EQ(back[i].ops[k].raw, r->blocks[i].ops[k].raw);
  }
  const std::string key = jit::LiftKey(*r);
  EXPECT_FALSE(jit::ParseLiftKey(key.substr(0, key.size() - 1), &back)) << "a truncated key parsed";
  EXPECT_FALSE(jit::ParseLiftKey(key + "x", &back)) << "a key with trailing bytes parsed";
}

// A second-tier region is its source's blocks (its core) and blocks spanned in from other pages, chosen by
// how busy they were: a later run finds the shapes compiled for the same core and can take one.
TEST(PersistentCache, ShapesAreFoundByTheirCore) {
  const std::string dir = FreshDir("shapes");
  jit::CompileOptions o;
  o.code_cache_dir = dir;
  auto spanned = SpannedRegion(0x00200000, 1);
  {
    jit::Compiler e(o);
    ASSERT_NE(CompileOne(e, std::move(spanned))->fn, nullptr);
  }
  jit::Compiler e(o);
  auto core = CoreOnly(0x00300000, 1);  // the same core in another page
  auto shapes = e.CachedShapes(*core);
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(shapes));
  // Taking it: the region's key is the stored one, so its code is loaded.
  core->blocks = shapes[0];
  core->other_pages = {{0x00301000, 0}};
  EXPECT_TRUE(CompileOne(e, std::move(core))->from_cache);
  auto different = CoreOnly(0x00300000, 2);  // another core: nothing
  EXPECT_TRUE(e.CachedShapes(*different).empty());
}

// Without any cache folder, the shapes of spanning regions sent to a compiler (by any client: several VMs
// share one) are found by their core as soon as they are sent: another VM whose region has the same core
// takes the shape, so its region has the same key and gets the code instead of a compile of its own.
TEST(PersistentCache, ShapesSentByOneClientAreFoundByAnotherWithoutACacheFolder) {
  jit::Compiler e(jit::CompileOptions{});
  jit::Compiler::Client* vm0 = e.AddClient();
  e.Hold(true);  // the shape is known while its compile is still queued
  auto spanned = SpannedRegion(0x00200000, 3);
  e.Submit(vm0, std::move(spanned));
  auto core = CoreOnly(0x00200000, 3);  // the other VM's region: the same core, not spanned yet
  auto shapes = e.CachedShapes(*core);
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(shapes));
  auto different = CoreOnly(0x00200000, 4);  // another core: nothing
  EXPECT_TRUE(e.CachedShapes(*different).empty());
  auto unspanned = CoreOnly(0x00300000, 5);  // a region that spans nothing leaves no shape
  e.Submit(vm0, std::move(unspanned));
  auto core5 = CoreOnly(0x00300000, 5);
  EXPECT_TRUE(e.CachedShapes(*core5).empty());
  e.Hold(false);
  for (int i = 0; i < 2000 && e.Pending(vm0) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(e.Pending(vm0), 0u);
  auto finished = e.TakeFinished(vm0);
  ASSERT_FALSE(finished.empty());
  ASSERT_NE(finished[0]->fn, nullptr);
  core->blocks = shapes[0];  // taking the shape: the same key, so the same code
  core->other_pages = {{0x00201000, 0}};
  auto taken = CompileOne(e, std::move(core));
  EXPECT_TRUE(taken->reused);
  EXPECT_EQ(taken->fn, finished[0]->fn);
  e.RemoveClient(vm0);
}

// A core the folder had no shape for is not looked up there again in this process (a SHA-256 of its key and
// a directory lookup each time a block warms up): a shape another process stores meanwhile is seen by the
// next run. Shapes sent to this compiler are still found, from memory.
TEST(PersistentCache, ACoreTheFolderHadNoShapeForIsNotAskedAgain) {
  const std::string dir = FreshDir("no_shape");
  jit::CompileOptions o;
  o.code_cache_dir = dir;
  jit::Compiler e(o);
  EXPECT_TRUE(e.CachedShapes(*CoreOnly(0x00300000, 1)).empty());
  {
    jit::Compiler other(o);  // another process, running at the same time, stores a shape for that core
    ASSERT_NE(CompileOne(other, SpannedRegion(0x00200000, 1))->fn, nullptr);
  }
  EXPECT_TRUE(e.CachedShapes(*CoreOnly(0x00300000, 1)).empty()) << "the folder was asked again";
  jit::Compiler later(o);  // the next run finds it
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(later.CachedShapes(*CoreOnly(0x00300000, 1))));
  jit::Compiler::Client* vm0 = e.AddClient();
  e.Hold(true);
  e.Submit(vm0, SpannedRegion(0x00200000, 1));
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(e.CachedShapes(*CoreOnly(0x00300000, 1))));
  e.RemoveClient(vm0);
  e.Hold(false);
}

// A core the folder had shapes for is read there once (a directory and an entry file a shape, each time its
// root warms up while the shape does not fit yet): later asks take the shapes from memory.
TEST(PersistentCache, ACoreTheFolderHadShapesForIsReadOnce) {
  const std::string dir = FreshDir("shape_once");
  jit::CompileOptions o;
  o.code_cache_dir = dir;
  {
    jit::Compiler earlier(o);  // an earlier run stores the shape
    ASSERT_NE(CompileOne(earlier, SpannedRegion(0x00200000, 1))->fn, nullptr);
  }
  jit::Compiler e(o);
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(e.CachedShapes(*CoreOnly(0x00300000, 1))));
  fs::remove_all(dir + "/cores");
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(e.CachedShapes(*CoreOnly(0x00300000, 1))))
      << "the folder was asked again";
  EXPECT_TRUE(e.CachedShapes(*CoreOnly(0x00400000, 2)).empty()) << "another core";
  jit::Compiler later(o);
  EXPECT_TRUE(later.CachedShapes(*CoreOnly(0x00300000, 1)).empty());
}

// The shapes kept in memory are bounded: past 4,096 cores the index starts again, so a guest running ever
// new code does not grow it without end.
TEST(PersistentCache, TheShapesKeptInMemoryAreBounded) {
  jit::Compiler e(jit::CompileOptions{});
  jit::Compiler::Client* vm0 = e.AddClient();
  e.Hold(true);
  constexpr int kCores = 4097;
  for (int step = 1; step <= kCores; ++step)
    e.Submit(vm0, SpannedRegion(0x00200000, static_cast<int16_t>(step)));
  EXPECT_TRUE(e.CachedShapes(*CoreOnly(0x00200000, 1)).empty())
      << "the first core's shape outlived the bound";
  ASSERT_NO_FATAL_FAILURE(ExpectSpannedShape(e.CachedShapes(*CoreOnly(0x00200000, kCores))));
  e.RemoveClient(vm0);  // drops the queued regions
  e.Hold(false);
}

// Without any cache folder: a region whose code the compiler compiled already (another VM's, or the same code
// in other pages) is given that code and a frame of its own, and so is a copy in the same batch.
TEST(PersistentCache, TheSameCodeIsCompiledOncePerProcess) {
  jit::Compiler e(jit::CompileOptions{});
  std::vector<std::unique_ptr<code::Region>> batch;
  batch.push_back(SmallRegion(0x00100000, 7));
  batch.push_back(SmallRegion(0x00200000, 7));
  batch.push_back(SmallRegion(0x00300000, 8));
  auto done = e.Compile(std::move(batch));
  ASSERT_EQ(done.size(), 3u);
  for (const auto& cr : done) ASSERT_NE(cr->fn, nullptr);
  EXPECT_FALSE(done[0]->reused);
  EXPECT_TRUE(done[1]->reused) << "a copy in the same batch was compiled again";
  EXPECT_EQ(done[1]->fn, done[0]->fn);
  EXPECT_NE(&done[1]->region->frame, &done[0]->region->frame) << "each region needs its own frame";
  EXPECT_NE(done[1]->region->frame.sites, done[0]->region->frame.sites);
  EXPECT_FALSE(done[2]->reused);
  auto later = CompileOne(e, SmallRegion(0x00400000, 8));
  EXPECT_TRUE(later->reused);
  EXPECT_EQ(later->fn, done[2]->fn);
  EXPECT_EQ(e.stats().regions, 2u);
  EXPECT_EQ(e.stats().reused, 2u);
  // Once every region using it is gone, the code is freed and the next one is compiled again.
  done.clear();
  later.reset();
  CompileOne(e, SmallRegion(0x00500000, 9));  // a batch, which frees what was dropped
  EXPECT_FALSE(CompileOne(e, SmallRegion(0x00600000, 7))->reused);
}

TEST(PersistentCache, ListingsCompileEvenWhenTheCacheHasTheCode) {
  const std::string dir = FreshDir("listings");
  jit::CompileOptions o;
  o.code_cache_dir = dir;
  {
    jit::Compiler e(o);
    CompileOne(e, SmallRegion(0x1000, 1));
  }
  o.keep_listings = true;
  jit::Compiler e(o);
  auto cr = CompileOne(e, SmallRegion(0x1000, 1));
  EXPECT_FALSE(cr->from_cache);
  EXPECT_NE(cr->ir_before.find("define ghccc void @region_"), std::string::npos);
}

TEST(PersistentCache, NoFolderNoFiles) {
  jit::CompileOptions o;  // code_cache_dir empty: off
  jit::Compiler e(o);
  EXPECT_FALSE(e.code_cache_stats());
  EXPECT_NE(CompileOne(e, SmallRegion(0x1000, 1))->fn, nullptr);
}

}  // namespace
}  // namespace strobe::test::jt
