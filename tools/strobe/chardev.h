// SPDX-License-Identifier: MIT
// The host end of the guest's serial port (COM1), with QEMU's spelling: -serial null|stdio|mon:stdio|pty|
// file:PATH|unix:PATH[,server][,nowait]|chardev:ID and -chardev TYPE,id=ID,... for the same backends.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace strobe::tools {

struct CharDevSpec {
  enum class Kind { kNull, kStdio, kPty, kFile, kUnix };
  Kind kind = Kind::kStdio;
  std::string path;     // kFile, kUnix
  bool server = false;  // kUnix: listen on path (else connect to it)
  bool wait = true;     // kUnix server: wait for a client before the guest starts
  std::string label = "serial0";
};

// -chardev definitions by id, for -serial chardev:ID.
using CharDevs = std::map<std::string, CharDevSpec>;

// Parse one -serial value / one -chardev value. false with *error set (one line).
bool ParseSerial(const std::string& value, const CharDevs& chardevs, CharDevSpec* out, std::string* error);
bool ParseChardev(const std::string& value, CharDevs* chardevs, std::string* error);

// An open backend: guest output goes to Write(); input from it (pty, socket) reaches `input`.
class CharBackend {
 public:
  // Opens the backend (may wait for a socket client, as QEMU). false with *error set (one line).
  bool Open(const CharDevSpec& spec, std::string* error);
  void Write(uint8_t byte);
  // Starts a thread that feeds bytes read from the backend (pty, socket) to `input`; stdio input is the
  // host console's (console.h).
  void StartInput(std::function<void(uint8_t)> input);
  bool is_stdio() const { return spec_.kind == CharDevSpec::Kind::kStdio; }

 private:
  void InputLoop();
  void Accept();

  CharDevSpec spec_;
  int out_fd_ = -1;
  int listen_fd_ = -1;
  std::atomic<int> conn_fd_{-1};
  std::function<void(uint8_t)> input_;
};

}  // namespace strobe::tools
