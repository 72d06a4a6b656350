// SPDX-License-Identifier: MIT
// Drives a program's console like a person at a terminal would: start it with pipes, wait for text to
// appear, type, and collect everything it printed.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace strobe::test {

class ConsoleSession {
 public:
  explicit ConsoleSession(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(out[1], 2);
      for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~ConsoleSession() {
    if (to_ >= 0) close(to_);
    if (from_ >= 0) close(from_);
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits until `text` appears after the last match (or the start); false on timeout or end of output.
  bool Expect(const std::string& text, double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      size_t at = output_.find(text, cursor_);
      if (at != std::string::npos) {
        cursor_ = at + text.size();
        return true;
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return false;
    }
  }
  pid_t pid() const { return pid_; }
  void Send(const std::string& text) { (void)!write(to_, text.data(), text.size()); }
  // Sends a signal to the program (SIGTERM: as a service manager stops it).
  void Signal(int sig) {
    if (pid_ > 0 && !exited_) kill(pid_, sig);
  }
  void CloseInput() {
    close(to_);
    to_ = -1;
  }

  // Output between the previous Expect's match and this one's (for checking a command's result).
  std::string Since(size_t mark) const { return output_.substr(mark, cursor_ - mark); }
  size_t cursor() const { return cursor_; }
  const std::string& output() const { return output_; }

  // Waits for the program to exit; its status, or -1 on timeout or a signal.
  int Wait(double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      ReadSome(50);
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        while (ReadSome(10)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
    }
    return -1;
  }

 private:
  bool ReadSome(int timeout_ms) {
    if (from_ < 0) return false;
    pollfd p{from_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return true;  // nothing yet, but not the end
    char buf[4096];
    ssize_t n = read(from_, buf, sizeof buf);
    if (n <= 0) {
      close(from_);
      from_ = -1;
      return false;
    }
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  bool exited_ = false;
  std::string output_;
  size_t cursor_ = 0;
};

}  // namespace strobe::test
