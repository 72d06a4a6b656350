// SPDX-License-Identifier: MIT
// -pidfile FILE, as QEMU: the process's id in FILE, which stays locked (lockf) while the process runs, so a
// second process given the same file refuses to start; the file is removed when the process ends.
#pragma once

#include <string>

namespace strobe::tools {

// Creates (or takes over) and locks `path`, and writes the process id into it. false with *error set (one
// line) when it cannot be opened or another process holds its lock.
bool CreatePidFile(const std::string& path, std::string* error);
// Removes the file CreatePidFile made, if any (the process is ending). Safe to call more than once.
void RemovePidFile();

}  // namespace strobe::tools
