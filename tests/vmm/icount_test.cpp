// SPDX-License-Identifier: MIT
// -icount, QEMU's instruction-counting mode: the spellings accepted and refused, bare-metal guests that
// run the same way twice and in every engine (the same console output and the same number of
// instructions, with timer interrupts in user code), and the disks' deterministic path (a request executes
// when it is made and its completion waits for the virtual time the VM gives it).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/stats_line.h"
#include "tests/vmm/parse_run_options.h"
#include "vmm/block/block_queue.h"
#include "vmm/clock.h"
#include "vmm/timed_events.h"

namespace strobe::test {
namespace {

TEST(Icount, AcceptedSpellings) {
  auto o = Parse({"-icount", "shift=0,sleep=off"});
  EXPECT_EQ(o.vm.icount_shift, 0);
  EXPECT_FALSE(o.vm.icount_sleep);
  EXPECT_TRUE(o.vm.deterministic());
  EXPECT_EQ(o.vm.engine, vmm::Engine::kTiered);  // every engine keeps exact budgets
  EXPECT_EQ(o.vm.rtc_start, -1);                 // the VM starts the RTC at kFixedEpoch

  o = Parse({"-icount", "3"});  // QEMU's implied key is shift; sleep=on is its default
  EXPECT_EQ(o.vm.icount_shift, 3);
  EXPECT_TRUE(o.vm.icount_sleep);
  EXPECT_FALSE(o.vm.deterministic());
  EXPECT_EQ(Parse({"-icount", "0", "--engine", "jit"}).vm.engine, vmm::Engine::kJit);

  o = Parse({"-icount", "shift=10,align=off,sleep=on"});
  EXPECT_EQ(o.vm.icount_shift, 10);
  EXPECT_TRUE(o.vm.icount_sleep);
  o = Parse({"--icount", "2,sleep=off", "--engine", "interp", "-rtc", "base=2006-06-17"});
  EXPECT_EQ(o.vm.icount_shift, 2);
  EXPECT_TRUE(o.vm.deterministic());
  EXPECT_EQ(o.vm.rtc_start, 1150502400);
  // base=utc with sleep=on is fine (that mode follows host time anyway), and a later base=DATE wins.
  EXPECT_EQ(Parse({"-icount", "1", "-rtc", "base=utc"}).vm.icount_shift, 1);
  EXPECT_TRUE(
      Parse({"-rtc", "base=utc", "-rtc", "base=2006-06-17", "-icount", "0,sleep=off"}).vm.deterministic());
  EXPECT_EQ(Parse({}).vm.icount_shift, -1);  // off by default
}

TEST(Icount, RefusedSpellingsGetOneLine) {
  EXPECT_NE(Error({"-icount", "auto"}).find("shift=auto: not supported"), std::string::npos);
  EXPECT_NE(Error({"-icount", "shift=auto,sleep=off"}).find("shift=auto"), std::string::npos);
  EXPECT_NE(Error({"-icount", "shift=11"}).find("invalid (0-10"), std::string::npos);
  EXPECT_NE(Error({"-icount", "shift=-1"}).find("invalid"), std::string::npos);
  EXPECT_NE(Error({"-icount", "x"}).find("invalid"), std::string::npos);
  EXPECT_NE(Error({"-icount", "sleep=off"}).find("give shift=N"), std::string::npos);
  EXPECT_NE(Error({"-icount", "0,sleep=maybe"}).find("sleep=maybe: invalid"), std::string::npos);
  EXPECT_NE(Error({"-icount", "0,align=on"}).find("align=on: not supported"), std::string::npos);
  EXPECT_NE(Error({"-icount", "0,rr=record,rrfile=x"}).find("record/replay"), std::string::npos);
  EXPECT_NE(Error({"-icount", "0,speed=2"}).find("unknown option 'speed=2'"), std::string::npos);
  EXPECT_NE(Error({"-icount"}).find("needs a value"), std::string::npos);
  EXPECT_NE(Error({"-icount", "0,sleep=off", "-rtc", "base=utc"}).find("give -rtc base=DATE"),
            std::string::npos);
  EXPECT_NE(Error({"-rtc", "base=localtime", "-icount", "0,sleep=off"}).find("reads no host time"),
            std::string::npos);
}

TEST(Icount, ClockRateFollowsTheShift) {
  EXPECT_EQ(vmm::VirtualClock::HzForShift(0), 1e9);
  EXPECT_EQ(vmm::VirtualClock::HzForShift(3), 125e6);
  runtime::CpuState cpu{};
  vmm::VirtualClock clock(cpu, vmm::VirtualClock::HzForShift(2));
  EXPECT_EQ(clock.FromSeconds(1e-3), 250000u);
  EXPECT_DOUBLE_EQ(clock.Seconds(500), 2e-6);
}

TEST(Icount, TimedEventsRunInCycleOrderWhenDue) {
  vmm::TimedEvents t;
  std::string ran;
  t.Post(200, [&] { ran += "b"; });
  t.Post(100, [&] { ran += "a"; });
  t.Post(200, [&] { ran += "c"; });  // a tie keeps the order of posting
  EXPECT_EQ(t.next_due(), 100u);
  EXPECT_EQ(t.RunDue(99), 0u);
  EXPECT_EQ(t.RunDue(150), 1u);
  EXPECT_EQ(ran, "a");
  EXPECT_EQ(t.RunDue(200), 2u);
  EXPECT_EQ(ran, "abc");
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.next_due(), UINT64_MAX);
}

// An in-memory disk.
class MemDisk final : public vmm::block::BlockBackend {
 public:
  std::vector<uint8_t> bytes = std::vector<uint8_t>(4096, 0);
  uint64_t size() const override { return bytes.size(); }
  bool read_only() const override { return false; }
  const std::string& path() const override { return path_; }
  int Read(uint64_t off, void* buffer, size_t length) override {
    std::memcpy(buffer, &bytes[off], length);
    return 0;
  }
  int Write(uint64_t off, const void* buffer, size_t length) override {
    std::memcpy(&bytes[off], buffer, length);
    return 0;
  }
  int Flush() override { return 0; }

 private:
  std::string path_ = "memory";
};

TEST(Icount, InlineDiskRequestsCompleteWhereTheVmSays) {
  MemDisk disk;
  disk.bytes[512] = 0x5A;
  vmm::block::CompletionList list;
  vmm::block::BlockQueue queue(disk, list, "icount-test");
  vmm::TimedEvents timed;
  uint64_t now = 1000;
  queue.SetInline([&](std::function<void()> done) { timed.Post(now + 50, std::move(done)); });
  uint8_t buf[512] = {};
  int result = -1;
  vmm::block::BlockRequest r;
  r.offset = 512;
  r.segments = {{buf, sizeof buf}};
  r.done = [&](int err) { result = err; };
  queue.Submit(std::move(r));
  EXPECT_EQ(buf[0], 0x5A);  // executed in Submit, on this thread
  EXPECT_EQ(queue.in_flight(), 0u);
  EXPECT_FALSE(list.HasCompletions());  // the completion is the VM's to time, not the worker's list's
  EXPECT_EQ(result, -1);
  EXPECT_EQ(timed.next_due(), 1050u);
  timed.RunDue(1049);
  EXPECT_EQ(result, -1);
  timed.RunDue(1050);
  EXPECT_EQ(result, 0);
}

// A bare-metal guest under -icount: its console output and its instruction count, as --stats reports it.
struct GuestRun {
  std::string out;
  std::string instructions;
};
GuestRun RunGuest(const std::string& guest, const std::vector<std::string>& extra, int status = 0) {
  std::vector<std::string> args = {
      STROBE_BINARY, "run",        "-kernel", std::string(STROBE_GUEST_DIR) + "/" + guest + ".elf",
      "-nographic",  "-no-reboot", "--stats", "--timeout",
      "50"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult r = RunProcess(args, "", 55);
  EXPECT_EQ(r.exit_code, status) << r.err;
  GuestRun g{r.out, InstructionCount(r.err)};
  EXPECT_FALSE(g.instructions.empty()) << r.err;
  return g;
}

TEST(Icount, BareMetalGuestsRunTheSameWayTwice) {
  // usermode takes Count/Compare interrupts in user code: where each lands depends on the clock only.
  for (const char* guest : {"usermode", "isa_selfcheck"}) {
    for (const char* mode : {"shift=0,sleep=off", "shift=3,sleep=off"}) {
      const GuestRun a = RunGuest(guest, {"-icount", mode});
      const GuestRun b = RunGuest(guest, {"-icount", mode});
      EXPECT_FALSE(a.out.empty()) << guest;
      EXPECT_EQ(a.out, b.out) << guest << " " << mode;
      EXPECT_EQ(a.instructions, b.instructions) << guest << " " << mode;
    }
  }
}

// Translated code keeps the interpreter's budgets: in every engine, with the first tier compiling early
// and the second tier behind it, a guest prints the same and retires the same count as the interpreter
// alone. (Without exact budgets, translated regions run on past the slice's end to their next back-edge,
// and usermode's timer interrupts land elsewhere.)
TEST(Icount, EveryEngineRunsAsTheInterpreter) {
  for (const char* guest : {"usermode", "isa_selfcheck"}) {
    const GuestRun interp = RunGuest(guest, {"-icount", "0,sleep=off", "--engine", "interp"});
    EXPECT_FALSE(interp.out.empty()) << guest;
    for (const std::vector<std::string>& engine :
         {std::vector<std::string>{"--engine", "jit"}, {"--engine", "tiered", "--jit-threshold", "2"}}) {
      std::vector<std::string> args = {"-icount", "0,sleep=off", "--code-cache", "off"};
      args.insert(args.end(), engine.begin(), engine.end());
      const GuestRun g = RunGuest(guest, args);
      EXPECT_EQ(g.out, interp.out) << guest << " " << engine[1];
      EXPECT_EQ(g.instructions, interp.instructions) << guest << " " << engine[1];
    }
  }
}

// Without -icount, translated code leaves a block right after a store that asks for an exit (hello's
// UART writes, its power-off), and the interpreter runs the rest: those instructions count once. (They
// were counted twice, so the jit engine reported 972 instructions for hello's 854.) The jit run stops
// after the power-off store, the interpreter at the end of that block, so it may count a few less.
TEST(RetiredCount, TranslatedCodeCountsWhatItLeavesToTheInterpreterOnce) {
  const GuestRun interp = RunGuest("hello", {"--engine", "interp"});
  const GuestRun jit = RunGuest("hello", {"--engine", "jit", "--code-cache", "off"});
  EXPECT_EQ(jit.out, interp.out);
  const uint64_t i = std::stoull(interp.instructions.empty() ? "0" : interp.instructions);
  const uint64_t j = std::stoull(jit.instructions.empty() ? "0" : jit.instructions);
  EXPECT_LE(j, i);
  EXPECT_GE(j + 16, i);
}

// The budget is exact under -icount: a slice ends at its limit, not at the next block boundary, so an
// instruction limit (like a timer) is met at the instruction itself.
TEST(Icount, SlicesEndAtTheExactInstruction) {
  for (const char* engine : {"interp", "jit"}) {
    for (const uint64_t n : {1000003ull, 2500001ull}) {
      const std::string count =
          RunGuest("usermode",
                   {"-icount", "0,sleep=off", "--engine", engine, "--max-instructions", std::to_string(n)}, 5)
              .instructions;
      // n itself, or n + 1 when a branch and its delay slot straddle it (they are one step).
      const uint64_t ran = std::stoull(count.empty() ? "0" : count);
      EXPECT_GE(ran, n) << engine;
      EXPECT_LE(ran, n + 1) << engine;
    }
  }
}

}  // namespace
}  // namespace strobe::test
