// SPDX-License-Identifier: MIT
// Scratch files and folders of a test process (code caches, snapshot folders, consoles), removed when the
// process ends normally: before, every run of the suite left ~2.5 MB of them in /tmp. A process that
// crashes or fails to exit leaves them for a look; STROBE_KEEP_SCRATCH=1 keeps them always.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace strobe::test {

namespace scratch_detail {
struct Registry {
  std::mutex mu;
  std::vector<std::string> paths;
  ~Registry() {
    const char* keep = std::getenv("STROBE_KEEP_SCRATCH");
    if (keep && *keep && std::string(keep) != "0") return;
    std::error_code ec;
    for (const std::string& p : paths) std::filesystem::remove_all(p, ec);
  }
};
inline Registry& Get() {
  static Registry r;
  return r;
}
}  // namespace scratch_detail

// Registers a file or folder (with everything in it) for removal when the test process exits; returns
// the path. Never give it a folder the test did not make (/tmp itself, a source folder).
inline std::string RemoveAtExit(const std::string& path) {
  scratch_detail::Registry& r = scratch_detail::Get();
  std::lock_guard<std::mutex> lock(r.mu);
  r.paths.push_back(path);
  return path;
}

}  // namespace strobe::test
