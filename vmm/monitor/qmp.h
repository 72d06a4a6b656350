// SPDX-License-Identifier: MIT
// QMP, the JSON monitor, as QEMU 7.2 speaks it: the greeting, capabilities negotiation, commands with an
// optional "id" echoed in the reply, QEMU's error classes and messages (CommandNotFound before
// qmp_capabilities and for unknown commands; GenericError for malformed JSON, a non-object, unexpected or
// missing members and parameters), and events with a timestamp. Commands: qmp_capabilities,
// query-status, query-version, query-commands, stop, cont, system_powerdown, system_reset, quit,
// human-monitor-command (one HMP line, its output as a string), and the job-based snapshot-save,
// snapshot-load, snapshot-delete with query-jobs and job-dismiss (jobs.h), and the block devices:
// query-block, eject, blockdev-open-tray, blockdev-close-tray, blockdev-change-medium. Independent of the
// transport.
#pragma once

#include <string>
#include <vector>

#include "vmm/monitor/hmp.h"
#include "vmm/monitor/json.h"
#include "vmm/monitor/machine.h"

namespace strobe::vmm::mon {

// Splits a byte stream into JSON texts as QMP clients send them (any whitespace between, objects may span
// lines): each complete top-level object or array, or a line of anything else. A text longer than
// kMaxText is dropped with an error in its place.
class JsonStream {
 public:
  static constexpr size_t kMaxText = 1 << 20;
  // Appends bytes; complete texts go to *texts (an over-long one as the empty string).
  void Feed(const char* data, size_t size, std::vector<std::string>* texts);

 private:
  std::string buf_;
  int depth_ = 0;
  bool in_string_ = false, escape_ = false, overflow_ = false;
};

// `{"timestamp": {...}, "event": NAME[, "data": DATA]}` with the host's time.
std::string QmpEvent(const std::string& name, const Json* data = nullptr);

class QmpSession {
 public:
  explicit QmpSession(MachineControl& machine) : machine_(machine), hmp_(machine) {}
  std::string Greeting() const;
  // One JSON text (from JsonStream; "" for an over-long one): the reply, without a newline. Commands that
  // end the process (quit) leave asking the machine to the caller: see quit_pending.
  std::string Handle(const std::string& text);
  bool negotiated() const { return negotiated_; }
  // `quit` was accepted: call MachineControl::Quit (which sends the SHUTDOWN event), then write the
  // reply, in QEMU 7.2's order, and make sure the process lives until the reply is written.
  bool quit_pending() const { return quit_pending_; }
  // A snapshot job was run by the last command: its end (waiting, pending, concluded, or aborting,
  // concluded) is announced here, after the caller has written that command's reply (QEMU's order:
  // created, running, the work's STOP and RESUME, the reply, then the job's end).
  void RunPendingJob();

 private:
  void Execute(const std::string& command, const Json& args, std::string* error_class, std::string* error,
               Json* result);
  JobList::EventSink Events();
  // snapshot-save/-load/-delete: checks the arguments and starts the job ("" or the error).
  std::string StartSnapshotJob(const std::string& command, const Json& args);
  // eject, blockdev-open-tray, blockdev-close-tray, blockdev-change-medium.
  MediaError RunMedia(const std::string& command, const Json& args);

  MachineControl& machine_;
  HmpSession hmp_;
  bool negotiated_ = false;
  bool quit_pending_ = false;
  struct PendingJob {
    std::string id, error;
  };
  std::vector<PendingJob> pending_;  // at most one: its work done, its end not yet announced
};

}  // namespace strobe::vmm::mon
