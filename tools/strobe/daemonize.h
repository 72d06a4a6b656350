// SPDX-License-Identifier: MIT
// -daemonize, as QEMU's: the process detaches from its terminal once the VM is set up. Daemonize forks
// before any thread exists (the command line's first effect); the process that was started waits until
// the daemon says the VM is set up (DaemonReady) and then exits 0, or exits 1 if the daemon ended first
// (its error went to the terminal's stderr, still its own until then). The daemon is a second child in a
// session of its own (it can never take a terminal again); DaemonReady moves it to "/" and points stdin,
// stdout and (unless a log file takes what it reports) stderr at /dev/null.
#pragma once

#include <string>

namespace strobe::tools {

// In the daemon only: true. The started process never returns from it; false with *error if the first
// fork fails.
bool Daemonize(std::string* error);
// Whether Daemonize made this process a daemon.
bool Daemonized();
// The VM is set up: let the started process exit 0. keep_stderr: -D gave a log file for what is reported.
void DaemonReady(bool keep_stderr);

}  // namespace strobe::tools
