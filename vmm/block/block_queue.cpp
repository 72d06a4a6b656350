// SPDX-License-Identifier: MIT
#include "vmm/block/block_queue.h"

#include <memory>

#include <pthread.h>

#include <cerrno>

namespace strobe::vmm::block {

void CompletionList::SetNotifier(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = std::move(notify);
}

void CompletionList::Post(std::function<void()> callback) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool was_empty = items_.empty();
    items_.push_back(std::move(callback));
    pending_.store(true, std::memory_order_release);
    if (was_empty) notify = notify_;
  }
  if (notify) notify();
}

size_t CompletionList::RunCompletions() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(items_);
    pending_.store(false, std::memory_order_release);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    remaining_in_batch_ = batch.size() - i - 1;
    batch[i]();
  }
  remaining_in_batch_ = 0;
  return batch.size();
}

BlockQueue::BlockQueue(BlockBackend& backend, CompletionList& completions, const std::string& name)
    : backend_(backend), completions_(completions) {
  worker_ = std::thread([this] { Worker(); });
  pthread_setname_np(worker_.native_handle(), name.substr(0, 15).c_str());
}

BlockQueue::~BlockQueue() {
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  worker_.join();
}

void BlockQueue::Submit(BlockRequest request) {
  if (inline_post_) {
    const int err = Execute(request);
    if (request.done) inline_post_([done = std::move(request.done), err] { done(err); });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(request));
    in_flight_.fetch_add(1, std::memory_order_acq_rel);
  }
  work_cv_.notify_one();
}

void BlockQueue::SubmitAndFlush(BlockRequest request) {
  std::function<void(int)> done = std::move(request.done);
  BlockRequest flush;
  flush.op = BlockRequest::Op::kFlush;
  std::vector<BlockRequest> both;
  both.push_back(std::move(request));
  both.push_back(std::move(flush));
  SubmitChain(std::move(both), [done = std::move(done)](int err) {
    if (done) done(err);
  });
}

void BlockQueue::SubmitChain(std::vector<BlockRequest> requests, std::function<void(int)> done) {
  auto first_error = std::make_shared<int>(0);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (i + 1 < requests.size()) {
      requests[i].done = [first_error](int err) { *first_error = *first_error ? *first_error : err; };
    } else {
      requests[i].done = [first_error, done = std::move(done)](int err) {
        done(*first_error ? *first_error : err);
      };
    }
    Submit(std::move(requests[i]));
  }
}

int BlockQueue::Drain() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [this] { return in_flight_.load(std::memory_order_acquire) == 0; });
  }
  return backend_.Flush();
}

int BlockQueue::Execute(BlockRequest& r) {
  const int count = static_cast<int>(r.segments.size());
  switch (r.op) {
    case BlockRequest::Op::kRead: return backend_.ReadV(r.offset, r.segments.data(), count);
    case BlockRequest::Op::kWrite: return backend_.WriteV(r.offset, r.segments.data(), count);
    case BlockRequest::Op::kFlush: return backend_.Flush();
    case BlockRequest::Op::kDiscard: return backend_.Discard(r.offset, r.length);
    case BlockRequest::Op::kWriteZeroes: return backend_.WriteZeroes(r.offset, r.length, r.may_unmap);
  }
  return 0;
}

void BlockQueue::Worker() {
  for (;;) {
    BlockRequest r;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_, and nothing left
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    const int err = Execute(r);
    // The completion is posted before the request stops counting as in flight, so that after Drain()
    // every completion is in the list.
    if (r.done) completions_.Post([done = std::move(r.done), err] { done(err); });
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    }
    idle_cv_.notify_all();
  }
}

}  // namespace strobe::vmm::block
