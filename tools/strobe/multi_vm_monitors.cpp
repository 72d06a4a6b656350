// SPDX-License-Identifier: MIT
#include "tools/strobe/multi_vm_monitors.h"

#include <sys/un.h>

#include "tools/strobe/dump.h"

namespace strobe::tools {

namespace {
using vmm::mon::MonitorSpec;

// The endpoint as an option value: "unix:PATH,server,nowait", "tcp::4445,server".
std::string Address(const MonitorSpec& s, uint16_t port) {
  const std::string where = s.transport == MonitorSpec::Transport::kUnix
                                ? "unix:" + s.path
                                : "tcp:" + s.host + ":" + std::to_string(port);
  return where + ",server" + (s.wait ? "" : ",nowait");
}
}  // namespace

bool MonitorSpecForVm(const MonitorSpec& spec, size_t vm, MonitorSpec* out, std::string* error) {
  MonitorSpec s = spec;
  const std::string option = spec.qmp ? "-qmp" : "-monitor";
  const std::string name = "vm" + std::to_string(vm);
  if (s.transport == MonitorSpec::Transport::kTcp && s.port != 0) {
    const size_t port = s.port + vm;
    if (port > 65535) {
      *error = spec.text + ": " + name + " would need port " + std::to_string(port);
      return false;
    }
    s.port = static_cast<uint16_t>(port);
  } else if (s.transport == MonitorSpec::Transport::kUnix && vm > 0) {
    s.path += "." + name;
    if (s.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      *error = spec.text + ": " + name + "'s socket " + s.path + " is longer than " +
               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes";
      return false;
    }
  }
  s.text = name + ": " + option + " " +
           (s.transport == MonitorSpec::Transport::kStdio ? "stdio" : Address(s, s.port));
  *out = s;
  return true;
}

VmMonitors::VmMonitors(vmm::Vm& vm, const vmm::Monitor& monitor, vmm::SnapshotStore& snapshots, size_t index)
    : control_(vm, monitor), server_(control_) {
  control_.set_disassembler(DisassembleForMonitor);
  control_.set_snapshots(&snapshots, static_cast<int>(index));
  control_.set_event_sink(
      [this](const std::string& name, const vmm::mon::Json* data) { server_.Broadcast(name, data); });
}

bool VmMonitors::Listen(const std::vector<MonitorSpec>& specs, std::string* error) {
  for (const MonitorSpec& spec : specs)
    if (!server_.Listen(spec, error)) return false;
  return true;
}

std::string VmMonitors::Where() const {
  std::string out;
  for (size_t e = 0; e < server_.endpoints(); ++e) {
    const MonitorSpec& s = server_.spec(e);
    out += (out.empty() ? "" : " + ") + std::string(s.qmp ? "qmp " : "monitor ") +
           (s.transport == MonitorSpec::Transport::kUnix
                ? "unix:" + s.path
                : "tcp:" + s.host + ":" + std::to_string(server_.port(e)));
  }
  return out;
}

void VmMonitors::Ended(vmm::VmExit exit) {
  control_.Ended(exit);
  server_.Close();
}

}  // namespace strobe::tools
