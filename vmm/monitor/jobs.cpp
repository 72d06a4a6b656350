// SPDX-License-Identifier: MIT
#include "vmm/monitor/jobs.h"

#include <algorithm>

namespace strobe::vmm::mon {

void JobList::Status(Job& job, const char* status, const EventSink& events) {
  job.status = status;
  Json data = Json::Object();
  data.Set("status", status).Set("id", job.id);
  if (events) events("JOB_STATUS_CHANGE", &data);
}

bool JobList::Start(const std::string& id, const std::string& type, const EventSink& events,
                    std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Job& j : jobs_) {
    if (j.id == id) {
      *error = "Job ID '" + id + "' already in use";
      return false;
    }
  }
  jobs_.push_back({id, type, "", ""});
  Status(jobs_.back(), "created", events);
  Status(jobs_.back(), "running", events);
  return true;
}

void JobList::Finish(const std::string& id, const std::string& error, const EventSink& events) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Job& j : jobs_) {
    if (j.id != id) continue;
    j.error = error;
    for (const char* s : error.empty() ? std::vector<const char*>{"waiting", "pending", "concluded"}
                                       : std::vector<const char*>{"aborting", "concluded"})
      Status(j, s, events);
    return;
  }
}

bool JobList::Dismiss(const std::string& id, const EventSink& events, std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.id == id; });
  if (it == jobs_.end()) {
    *error = "Job not found";
    return false;
  }
  if (it->status != "concluded") {
    *error = "Job '" + id + "' in state '" + it->status + "' cannot accept command verb 'dismiss'";
    return false;
  }
  Status(*it, "null", events);
  jobs_.erase(it);
  return true;
}

Json JobList::Query() {
  std::lock_guard<std::mutex> lock(mu_);
  Json out = Json::Array();
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
    Json j = Json::Object();
    j.Set("current-progress", 1).Set("status", it->status).Set("total-progress", 1).Set("type", it->type);
    j.Set("id", it->id);
    if (!it->error.empty()) j.Set("error", it->error);
    out.Push(std::move(j));
  }
  return out;
}

}  // namespace strobe::vmm::mon
