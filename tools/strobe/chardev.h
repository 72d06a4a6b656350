// SPDX-License-Identifier: MIT
// The host end of the guest's serial port (COM1), with QEMU's spelling: -serial null|stdio|mon:stdio|pty|
// file:PATH|unix:PATH[,server][,nowait]|tcp:[HOST]:PORT[,server][,nowait]|telnet:...|chardev:ID and
// -chardev TYPE,id=ID,... for the same backends. A TCP server without HOST listens on 127.0.0.1 (QEMU: every
// address), as Strobe's monitor and forwarded ports do; telnet: speaks the telnet protocol as QEMU's does
// (it asks the client for character mode without local echo, and takes the client's commands out of the
// input), and doubles a 0xFF byte of the guest's output as the protocol wants.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace strobe::tools {

struct CharDevSpec {
  enum class Kind { kNull, kStdio, kPty, kFile, kUnix, kTcp };
  Kind kind = Kind::kStdio;
  std::string path;     // kFile, kUnix
  std::string host;     // kTcp ("" : 127.0.0.1 for a server)
  uint16_t port = 0;    // kTcp
  bool telnet = false;  // kTcp: the telnet protocol
  bool server = false;  // kUnix, kTcp: listen (else connect)
  bool wait = true;     // kUnix, kTcp server: wait for a client before the guest starts
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
  bool OpenSocket(const CharDevSpec& spec, std::string* error);
  void Connected(int fd);     // a client socket: its telnet greeting first
  bool Telnet(uint8_t byte);  // the telnet state machine over input: false for a byte of the protocol's

  CharDevSpec spec_;
  int out_fd_ = -1;
  int listen_fd_ = -1;
  std::atomic<int> conn_fd_{-1};
  std::function<void(uint8_t)> input_;
  // Telnet input: 0 data, 1 after IAC, 2 an option byte, 3 in a subnegotiation, 4 IAC there.
  int telnet_state_ = 0;
};

}  // namespace strobe::tools
