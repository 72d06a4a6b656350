// SPDX-License-Identifier: MIT
// Where monitors listen (-monitor, -qmp): stdio, unix:PATH,server[,nowait] or tcp:[HOST]:PORT,server
// [,nowait] (HOST 127.0.0.1 by default), each with HMP or QMP. A socket endpoint has its own thread that
// accepts one client at a time (others wait in the backlog, as with QEMU's chardevs) and runs its
// commands; stdio has a thread reading stdin. Commands never run on the vCPU thread: they wait for it
// through VmControl. Events (STOP, RESUME, ...) go to every QMP client past qmp_capabilities.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vmm/monitor/terminal.h"
#include "vmm/monitor/vm_control.h"

namespace strobe::vmm::mon {

struct MonitorSpec {
  enum class Transport : uint8_t { kStdio, kUnix, kTcp };
  Transport transport = Transport::kStdio;
  bool qmp = false;
  std::string path;  // kUnix
  std::string host;  // kTcp (empty: 127.0.0.1)
  uint16_t port = 0;
  bool wait = true;  // server without nowait: the guest starts once a client has connected (QEMU's default)
  std::string text;  // the option as given, for messages ("-monitor unix:/tmp/m,server,nowait")
};

// One -monitor or -qmp value (qmp: which option). "none" gives false with *error empty: no monitor.
bool ParseMonitorSpec(const std::string& value, bool qmp, MonitorSpec* out, std::string* error);

class MonitorServer {
 public:
  explicit MonitorServer(MachineControl& machine) : machine_(machine) {}
  ~MonitorServer();
  // Binds every socket endpoint (before the guest boots, so that a path or port in use fails at once).
  bool Listen(const MonitorSpec& spec, std::string* error);
  // Starts the threads. An endpoint without nowait waits here for its first client.
  void Start();
  // Sends an event to every QMP client that negotiated capabilities (any thread).
  void Broadcast(const std::string& name, const Json* data);
  // The endpoints, and the port a tcp endpoint got (tests use port 0 and ask).
  size_t endpoints() const { return endpoints_.size(); }
  const MonitorSpec& spec(size_t endpoint) const { return endpoints_[endpoint]->spec; }
  uint16_t port(size_t endpoint) const { return endpoints_[endpoint]->port; }
  // Waits for the commands being run to finish writing their replies (the VM's run has ended), removes
  // the unix sockets' files, stops listening and disconnects the socket clients.
  void Close();

 private:
  struct Client {
    int fd = -1;
    std::mutex send_mu;
    bool closed = false;
    std::unique_ptr<Terminal> terminal;
    QmpTerminal* qmp = nullptr;
    void Send(const std::string& bytes);
  };
  struct Endpoint {
    MonitorSpec spec;
    int listen_fd = -1;
    uint16_t port = 0;
    int first_fd = -1;  // accepted by Start when waiting
  };
  void Serve(Endpoint* e);
  void Converse(Endpoint* e, int in_fd, int out_fd);
  std::shared_ptr<Client> MakeClient(const MonitorSpec& spec, int out_fd);
  void RemoveSocketFiles();

  MachineControl& machine_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::mutex clients_mu_;
  std::vector<std::shared_ptr<Client>> clients_;
  std::mutex exec_mu_;  // held while a command runs and its reply is written
  bool closing_ = false;
};

}  // namespace strobe::vmm::mon
