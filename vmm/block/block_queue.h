// SPDX-License-Identifier: MIT
// Disk I/O off the vCPU thread. Each drive has a BlockQueue: one worker thread that executes the drive's
// requests in the order they were submitted (reads, writes, flushes, each with a scatter list of host
// buffers). When a request is done its completion callback is not run by the worker: it is posted to a
// CompletionList that the VM's run loop drains on the vCPU thread, so device models never see another
// thread. One CompletionList serves all the drives of a VM.
//
// How a device uses it (the IDE and virtio-blk models):
//   1. Translate the guest's buffers (PRD table, virtqueue descriptors) to host pointers and build a
//      BlockRequest; submit it with queue.Submit(std::move(request)). Submit never waits for the disk.
//      The buffers must stay valid and unused by the device until the completion runs.
//   2. The completion runs later on the vCPU thread with 0 or an errno: set the status, raise the interrupt.
//
// How the VM hooks it in (vmm/vm.cpp, with the device work; nothing here changes the VM):
//   - completions.SetNotifier([this] { Wake(); }) where Wake() sets wake_ and notifies wake_cv_ as
//     ConsoleInput does, so that an idle WAIT ends when a request finishes;
//   - in Vm::Run, between slices (beside board_->Tick()): if (completions.HasCompletions())
//     completions.RunCompletions(); then re-evaluate the interrupt lines as usual.
//   - on every way out of Run (power-off, reset, Ctrl-A x, timeout, SIGINT/SIGTERM turned into a quit):
//     stop submitting, then Drain() every queue. Drain waits until the worker has executed every submitted
//     request and then flushes the backend (fdatasync), so every write the guest saw complete, and every
//     write still in flight, is in the file. Completions still listed afterwards may be dropped.
//
// Even without Drain (a process killed outright), a write the guest saw complete is in the file: its
// completion is posted only after pwrite returned, so the data is in the host's page cache; only the
// fdatasync (durability across a host crash) is then missing.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vmm/block/backend.h"

namespace strobe::vmm::block {

// Callbacks posted by worker threads, run by the thread that owns the VM. Thread-safe.
class CompletionList {
 public:
  // Called on the posting (worker) thread whenever the list goes from empty to non-empty; it must be cheap
  // and must not call RunCompletions. Set it before any request is submitted.
  void SetNotifier(std::function<void()> notify);
  // Cheap (one atomic load): whether RunCompletions has something to run.
  bool HasCompletions() const { return pending_.load(std::memory_order_acquire); }
  // Runs the posted callbacks in the order they were posted, on the calling thread; returns how many ran.
  // Callbacks may submit new requests.
  size_t RunCompletions();
  // Inside a callback that RunCompletions runs: how many of its batch are still to run after it (a
  // snapshot waits until none are, so that it sees every finished request's effect).
  size_t RemainingInBatch() const { return remaining_in_batch_; }
  void Post(std::function<void()> callback);

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> items_;
  std::atomic<bool> pending_{false};
  std::function<void()> notify_;
  size_t remaining_in_batch_ = 0;  // the running thread's only
};

struct BlockRequest {
  enum class Op { kRead, kWrite, kFlush, kDiscard, kWriteZeroes };
  Op op = Op::kRead;
  uint64_t offset = 0;            // bytes into the disk (all but flushes)
  std::vector<iovec> segments;    // host buffers, consecutive on the disk; empty for a flush
  std::function<void(int)> done;  // runs through the CompletionList with 0 or an errno (may be empty)
  uint64_t length = 0;            // discards and zero writes: bytes from offset
  bool may_unmap = false;         // zero writes: the space may be given back (BlockBackend::WriteZeroes)
};

class BlockQueue {
 public:
  // The backend and the list must outlive the queue. `name` names the worker thread (at most 15 bytes
  // are kept).
  BlockQueue(BlockBackend& backend, CompletionList& completions, const std::string& name = "strobe-disk");
  // Drains, then stops the worker.
  ~BlockQueue();
  BlockQueue(const BlockQueue&) = delete;
  BlockQueue& operator=(const BlockQueue&) = delete;

  // Queues a request for the worker; never blocks on the disk. Any thread (the vCPU's).
  void Submit(BlockRequest request);
  // The request, then a flush of the backend: its `done` runs after both with the first error of the two,
  // so that what the request changed is on stable storage when the guest sees it complete (a drive
  // whose guest sees no volatile write cache).
  void SubmitAndFlush(BlockRequest request);
  // Requests run in order as one: `done` runs once, after the last, with the first error of any of them
  // (each request's own done is not called). Empty: nothing is submitted and done is not called.
  void SubmitChain(std::vector<BlockRequest> requests, std::function<void(int)> done);
  // The deterministic mode (-icount ...,sleep=off): from now on Submit executes each request on the
  // calling thread (the vCPU waits for the host's disk, which the guest cannot see) and hands its
  // completion to `post` instead of the CompletionList; the VM runs it at a virtual time fixed by the
  // request (vmm/timed_events.h). Call before the first Submit.
  void SetInline(std::function<void(std::function<void()>)> post) { inline_post_ = std::move(post); }
  // Returns when every request submitted before the call has executed (its completion is posted), after
  // a final Flush of the backend (fdatasync; nothing for a snapshot overlay or cache=unsafe). 0 or the
  // flush's errno.
  int Drain();
  // Requests submitted and not yet executed.
  size_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }
  BlockBackend& backend() { return backend_; }

 private:
  void Worker();
  int Execute(BlockRequest& r);

  BlockBackend& backend_;
  CompletionList& completions_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // the worker waits for requests
  std::condition_variable idle_cv_;  // Drain waits for in_flight_ == 0
  std::deque<BlockRequest> queue_;
  std::atomic<size_t> in_flight_{0};
  bool stop_ = false;
  std::thread worker_;
  std::function<void(std::function<void()>)> inline_post_;  // set: requests run in Submit
};

}  // namespace strobe::vmm::block
