// SPDX-License-Identifier: MIT
// QEMU's background jobs as far as QMP's snapshot-save, snapshot-load and snapshot-delete need them
// (QEMU 7.2's qapi/job.json): a job has an id, a type and a status; each change of status is a
// JOB_STATUS_CHANGE event; a finished job stays "concluded" (with its error, if it failed) until
// job-dismiss, which takes it to "null" and forgets it; query-jobs lists the jobs, newest first.
// Strobe's snapshot jobs run to their end on the monitor's thread, right after the command's reply
// (which comes after "created" and "running", as QEMU's): "waiting", "pending", "concluded" when the work
// succeeded, "aborting", "concluded" when it failed. One list per machine, shared by every QMP client.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "vmm/monitor/json.h"

namespace strobe::vmm::mon {

class JobList {
 public:
  using EventSink = std::function<void(const std::string& name, const Json* data)>;
  // Registers a new job (statuses created and running); false with QEMU's message when the id is taken.
  bool Start(const std::string& id, const std::string& type, const EventSink& events, std::string* error);
  // The job's work is over: error "" is success.
  void Finish(const std::string& id, const std::string& error, const EventSink& events);
  // job-dismiss: false with QEMU's message when there is no such job or it has not concluded.
  bool Dismiss(const std::string& id, const EventSink& events, std::string* error);
  // query-jobs' reply.
  Json Query();

 private:
  struct Job {
    std::string id, type, status, error;
  };
  static void Status(Job& job, const char* status, const EventSink& events);

  std::mutex mu_;
  std::vector<Job> jobs_;  // oldest first
};

}  // namespace strobe::vmm::mon
