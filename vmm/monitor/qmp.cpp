// SPDX-License-Identifier: MIT
#include "vmm/monitor/qmp.h"

#include <sys/time.h>

#include <cstdio>

#include "vmm/monitor/hmp_format.h"
#include "vmm/monitor/memsave.h"

namespace strobe::vmm::mon {

void JsonStream::Feed(const char* data, size_t size, std::vector<std::string>* texts) {
  auto emit = [&] {
    if (overflow_) {
      texts->push_back("");
    } else {
      texts->push_back(buf_);
    }
    buf_.clear();
    depth_ = 0;
    in_string_ = escape_ = overflow_ = false;
  };
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    const bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (depth_ == 0 && !in_string_ && blank && buf_.empty() && !overflow_) continue;
    if (!overflow_ && buf_.size() < kMaxText) {
      buf_.push_back(c);
    } else if (!overflow_) {  // too long: dropped, its end still found by the depth count
      overflow_ = true;
      std::string().swap(buf_);
    }
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      } else if (c == '\n' && depth_ == 0) {
        emit();  // a broken top-level string ends with its line
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ <= 0) emit();
    } else if (c == '\n' && depth_ == 0) {
      emit();  // a top-level scalar or garbage: one line at a time
    }
  }
}

std::string QmpEvent(const std::string& name, const Json* data) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  Json ts = Json::Object();
  ts.Set("seconds", static_cast<int64_t>(tv.tv_sec)).Set("microseconds", static_cast<int64_t>(tv.tv_usec));
  Json e = Json::Object();
  e.Set("timestamp", std::move(ts)).Set("event", name);
  if (data) e.Set("data", *data);
  return e.Dump();
}

namespace {
constexpr const char* kCommands[] = {"qmp_capabilities",
                                     "query-status",
                                     "query-version",
                                     "query-commands",
                                     "stop",
                                     "cont",
                                     "system_powerdown",
                                     "system_reset",
                                     "quit",
                                     "human-monitor-command",
                                     "snapshot-save",
                                     "snapshot-load",
                                     "snapshot-delete",
                                     "query-jobs",
                                     "job-dismiss",
                                     "query-block",
                                     "query-pci",
                                     "balloon",
                                     "query-balloon",
                                     "eject",
                                     "blockdev-open-tray",
                                     "blockdev-close-tray",
                                     "blockdev-change-medium",
                                     "memsave",
                                     "pmemsave",
                                     "query-target",
                                     "query-kvm",
                                     "query-cpus-fast",
                                     "query-machines",
                                     "query-uuid",
                                     "query-name"};

Json Version() {
  int major = 0, minor = 0, micro = 0;
  std::sscanf(STROBE_VERSION, "%d.%d.%d", &major, &minor, &micro);
  Json v = Json::Object();
  v.Set("micro", micro).Set("minor", minor).Set("major", major);
  Json out = Json::Object();
  out.Set("qemu", std::move(v)).Set("package", "Strobe " STROBE_VERSION);
  return out;
}

std::string ErrorReply(const Json* id, const std::string& cls, const std::string& desc) {
  Json err = Json::Object();
  err.Set("class", cls).Set("desc", desc);
  Json r = Json::Object();
  if (id) r.Set("id", *id);  // QEMU puts the id first in an error, last in a return
  r.Set("error", std::move(err));
  return r.Dump();
}

// A required string argument, with QEMU's messages when it is missing or of another type.
const Json* StringArg(const Json& args, const std::string& name, std::string* error) {
  const Json* v = args.Find(name);
  if (!v) {
    *error = "Parameter '" + name + "' is missing";
  } else if (!v->is_string()) {
    *error = "Invalid parameter type for '" + name + "', expected: string";
    v = nullptr;
  }
  return v;
}

// A required non-negative integer argument (QMP's int/size): false with QEMU's message otherwise.
bool UintArg(const Json& args, const std::string& name, uint64_t* out, std::string* error) {
  const Json* v = args.Find(name);
  if (!v) {
    *error = "Parameter '" + name + "' is missing";
    return false;
  }
  const double d = v->number();
  if (v->type() != Json::Type::kNumber || d < 0 || d > 18446744073709549568.0 ||
      d != static_cast<double>(static_cast<uint64_t>(d))) {
    *error = "Invalid parameter type for '" + name + "', expected: integer";
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// An optional argument of type string or boolean: false (with QEMU's message) when it has another type.
bool OptionalString(const Json& args, const std::string& name, std::string* out, std::string* error) {
  const Json* v = args.Find(name);
  if (!v) return true;
  if (!v->is_string()) {
    *error = "Invalid parameter type for '" + name + "', expected: string";
    return false;
  }
  *out = v->str();
  return true;
}
bool OptionalBool(const Json& args, const std::string& name, bool* out, std::string* error) {
  const Json* v = args.Find(name);
  if (!v) return true;
  if (v->type() != Json::Type::kBool) {
    *error = "Invalid parameter type for '" + name + "', expected: boolean";
    return false;
  }
  *out = v->boolean();
  return true;
}

// query-pci: bus 0 and its functions, with QEMU's members in the order QEMU 7.2 prints them; a BAR not
// decoding now is at address -1, as under QEMU.
Json PciJson(const std::vector<PciFunctionInfo>& functions) {
  Json devices = Json::Array();
  for (const PciFunctionInfo& f : functions) {
    Json d = Json::Object();
    d.Set("irq_pin", static_cast<int64_t>(f.irq_pin)).Set("bus", 0).Set("qdev_id", f.id);
    if (f.irq_pin) d.Set("irq", static_cast<int64_t>(f.irq_line));
    Json cls = Json::Object();
    cls.Set("class", static_cast<int64_t>(f.class_code));
    if (const char* name = PciClassName(f.class_code)) cls.Set("desc", name);
    Json id = Json::Object();
    id.Set("device", static_cast<int64_t>(f.device_id));
    if (f.has_subsystem) id.Set("subsystem-vendor", static_cast<int64_t>(f.subsystem_vendor));
    id.Set("vendor", static_cast<int64_t>(f.vendor));
    if (f.has_subsystem) id.Set("subsystem", static_cast<int64_t>(f.subsystem));
    Json regions = Json::Array();
    for (const PciFunctionInfo::Bar& b : f.bars) {
      Json r = Json::Object();
      if (!b.io) r.Set("prefetch", b.prefetchable).Set("mem_type_64", b.wide);
      r.Set("bar", static_cast<int64_t>(b.index))
          .Set("size", static_cast<int64_t>(b.size))
          .Set("address", b.mapped ? static_cast<int64_t>(b.address) : int64_t{-1})
          .Set("type", b.io ? "io" : "memory");
      regions.Push(std::move(r));
    }
    d.Set("slot", static_cast<int64_t>(f.device))
        .Set("class_info", std::move(cls))
        .Set("id", std::move(id))
        .Set("function", static_cast<int64_t>(f.function))
        .Set("regions", std::move(regions));
    devices.Push(std::move(d));
  }
  Json bus = Json::Object();
  bus.Set("bus", 0).Set("devices", std::move(devices));
  Json out = Json::Array();
  out.Push(std::move(bus));
  return out;
}

// query-block's entry for one device: QEMU's members that mean something here, in QEMU's order.
Json BlockJson(const BlockDevice& b) {
  Json j = Json::Object();
  j.Set("io-status", "ok").Set("device", b.device).Set("locked", b.locked).Set("removable", b.removable);
  if (b.inserted) {
    Json image = Json::Object();
    image.Set("virtual-size", static_cast<int64_t>(b.size)).Set("filename", b.file).Set("format", b.format);
    if (!b.backing_file.empty()) image.Set("backing-filename", b.backing_file);
    Json cache = Json::Object();
    cache.Set("no-flush", false).Set("direct", false).Set("writeback", b.write_cache);
    Json in = Json::Object();
    in.Set("detect_zeroes", b.detect_zeroes)
        .Set("image", std::move(image))
        .Set("ro", b.read_only)
        .Set("backing_file_depth", b.backing_depth)
        .Set("drv", b.format)
        .Set("encrypted", false)
        .Set("cache", std::move(cache))
        .Set("file", b.file);
    if (!b.backing_file.empty()) in.Set("backing_file", b.backing_file);
    j.Set("inserted", std::move(in));
  }
  j.Set("qdev", b.qdev);
  if (b.removable) j.Set("tray_open", b.tray_open);
  j.Set("type", "unknown");
  return j;
}

// Every argument must be one the command takes.
bool CheckArgs(const Json& args, std::initializer_list<const char*> allowed, std::string* error) {
  for (const auto& [key, value] : args.members()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      *error = "Parameter '" + key + "' is unexpected";
      return false;
    }
  }
  return true;
}
}  // namespace

std::string QmpSession::Greeting() const {
  Json qmp = Json::Object();
  qmp.Set("version", Version()).Set("capabilities", Json::Array());
  Json g = Json::Object();
  g.Set("QMP", std::move(qmp));
  return g.Dump();
}

std::string QmpSession::Handle(const std::string& text) {
  if (text.empty()) return ErrorReply(nullptr, "GenericError", "JSON parse error, input too large");
  Json in;
  std::string parse_error;
  if (!ParseJson(text, &in, &parse_error))
    return ErrorReply(nullptr, "GenericError", "JSON parse error, " + parse_error);
  if (!in.is_object()) return ErrorReply(nullptr, "GenericError", "QMP input must be a JSON object");
  const Json* id = in.Find("id");
  for (const auto& [key, value] : in.members())
    if (key != "execute" && key != "arguments" && key != "id")
      return ErrorReply(id, "GenericError", "QMP input member '" + key + "' is unexpected");
  const Json* execute = in.Find("execute");
  if (!execute) return ErrorReply(id, "GenericError", "QMP input lacks member 'execute'");
  if (!execute->is_string())
    return ErrorReply(id, "GenericError", "QMP input member 'execute' must be a string");
  const Json* arguments = in.Find("arguments");
  if (arguments && !arguments->is_object())
    return ErrorReply(id, "GenericError", "QMP input member 'arguments' must be an object");
  const std::string& command = execute->str();
  if (!negotiated_ && command != "qmp_capabilities")
    return ErrorReply(id, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
  std::string error_class, error;
  Json result = Json::Object();
  Execute(command, arguments ? *arguments : Json::Object(), &error_class, &error, &result);
  if (!error_class.empty()) return ErrorReply(id, error_class, error);
  Json r = Json::Object();
  r.Set("return", std::move(result));
  if (id) r.Set("id", *id);
  return r.Dump();
}

void QmpSession::Execute(const std::string& command, const Json& args, std::string* error_class,
                         std::string* error, Json* result) {
  bool known = false;
  for (const char* c : kCommands) known = known || command == c;
  if (!known) {
    *error_class = "CommandNotFound";
    *error = "The command " + command + " has not been found";
    return;
  }
  if (command == "qmp_capabilities") {
    if (negotiated_) {
      *error_class = "CommandNotFound";
      *error = "Capabilities negotiation is already complete, command ignored";
      return;
    }
    if (!CheckArgs(args, {"enable"}, error)) {
      *error_class = "GenericError";
      return;
    }
    negotiated_ = true;
    return;
  }
  if (command == "human-monitor-command") {
    if (!CheckArgs(args, {"command-line", "cpu-index"}, error)) {
      *error_class = "GenericError";
      return;
    }
    const Json* line = args.Find("command-line");
    if (!line || !line->is_string()) {
      *error_class = "GenericError";
      *error = line ? "Invalid parameter type for 'command-line', expected: string"
                    : "Parameter 'command-line' is missing";
      return;
    }
    const std::string& text = line->str();
    const size_t b = text.find_first_not_of(" \t");
    const std::string first = b == std::string::npos ? "" : text.substr(b, text.find_first_of(" \t", b) - b);
    if (first == "quit" || first == "q") {  // the reply goes out first, as for the quit command
      quit_pending_ = true;
      *result = Json("");
      return;
    }
    *result = Json(CrLf(hmp_.Execute(text)));  // QEMU's monitor output ends its lines with \r\n
    return;
  }
  if (command == "snapshot-save" || command == "snapshot-load" || command == "snapshot-delete") {
    *error = StartSnapshotJob(command, args);
    if (!error->empty()) *error_class = "GenericError";
    return;
  }
  if (command == "eject" || command == "blockdev-open-tray" || command == "blockdev-close-tray" ||
      command == "blockdev-change-medium") {
    const MediaError e = RunMedia(command, args);
    *error_class = e.error_class;
    *error = e.desc;
    return;
  }
  if (command == "memsave" || command == "pmemsave") {  // QEMU's schema: val, size, filename (cpu-index)
    const bool virt = command == "memsave";
    uint64_t addr = 0, size = 0;
    const Json* file = StringArg(args, "filename", error);
    if (!file || !UintArg(args, "val", &addr, error) || !UintArg(args, "size", &size, error) ||
        !(virt ? CheckArgs(args, {"val", "size", "filename", "cpu-index"}, error)
               : CheckArgs(args, {"val", "size", "filename"}, error))) {
      *error_class = "GenericError";
      return;
    }
    *error = SaveMemory(machine_, !virt, addr, size, file->str());
    if (!error->empty()) *error_class = "GenericError";
    return;
  }
  if (command == "balloon") {  // QEMU's schema: value, the memory in bytes the guest is asked to keep
    uint64_t value = 0;
    if (!UintArg(args, "value", &value, error) || !CheckArgs(args, {"value"}, error)) {
      *error_class = "GenericError";
      return;
    }
    uint64_t actual;  // as QEMU: no device is said before a bad size
    if (!machine_.BalloonActual(&actual)) {
      *error_class = "DeviceNotActive";
      *error = "No balloon device has been activated";
    } else if (value == 0) {
      *error_class = "GenericError";
      *error = "Parameter 'target' expects a size";
    } else {
      machine_.SetBalloonTarget(value);
    }
    return;
  }
  if (command == "job-dismiss") {
    const Json* id = StringArg(args, "id", error);
    if (!id || !CheckArgs(args, {"id"}, error) || !machine_.jobs().Dismiss(id->str(), Events(), error))
      *error_class = "GenericError";
    return;
  }
  if (!CheckArgs(args, {}, error)) {
    *error_class = "GenericError";
    return;
  }
  if (command == "query-block") {
    *result = Json::Array();
    for (const BlockDevice& b : machine_.Blocks()) result->Push(BlockJson(b));
  } else if (command == "query-pci") {
    *result = PciJson(machine_.Pci());
  } else if (command == "query-balloon") {
    uint64_t actual = 0;
    if (!machine_.BalloonActual(&actual)) {
      *error_class = "DeviceNotActive";
      *error = "No balloon device has been activated";
      return;
    }
    result->Set("actual", static_cast<int64_t>(actual));
  } else if (command == "query-jobs") {
    *result = machine_.jobs().Query();
  } else if (command == "query-status") {
    const RunState s = machine_.state();
    const char* name = RunStateName(s);
    result->Set("status", name).Set("singlestep", false).Set("running", s == RunState::kRunning);
  } else if (command == "query-version") {
    *result = Version();
  } else if (command == "query-name") {
    if (const std::string name = machine_.Name(); !name.empty()) result->Set("name", name);
  } else if (command == "query-target") {
    result->Set("arch", "mipsel");
  } else if (command == "query-kvm") {
    result->Set("enabled", false).Set("present", false);
  } else if (command == "query-uuid") {
    result->Set("UUID", "00000000-0000-0000-0000-000000000000");  // Strobe has no -uuid
  } else if (command == "query-cpus-fast") {
    Json cpu = Json::Object();
    cpu.Set("thread-id", machine_.CpuThreadId())
        .Set("qom-path", "/machine/unattached/device[1]")
        .Set("cpu-index", 0)
        .Set("target", "mipsel");
    *result = Json::Array();
    result->Push(std::move(cpu));
  } else if (command == "query-machines") {  // QEMU's entry for its Malta, Strobe's only board
    Json malta = Json::Object();
    malta.Set("hotpluggable-cpus", false)
        .Set("name", "malta")
        .Set("numa-mem-supported", false)
        .Set("default-cpu-type", "24Kf-mips-cpu")
        .Set("is-default", true)
        .Set("cpu-max", 1)
        .Set("deprecated", false)
        .Set("default-ram-id", "mips_malta.ram");
    *result = Json::Array();
    result->Push(std::move(malta));
  } else if (command == "query-commands") {
    *result = Json::Array();
    for (const char* c : kCommands) {
      Json entry = Json::Object();
      entry.Set("name", c);
      result->Push(std::move(entry));
    }
  } else if (command == "stop") {
    machine_.Stop();
  } else if (command == "cont") {
    machine_.Cont();
  } else if (command == "system_powerdown") {
    machine_.PowerDown();
  } else if (command == "system_reset") {
    machine_.Reset();
  } else if (command == "quit") {
    quit_pending_ = true;
  }
}

// The media commands: QEMU's schema checks (types, required and unexpected members), then exactly one of
// device and id, then the machine.
MediaError QmpSession::RunMedia(const std::string& command, const Json& args) {
  MediaCommand c;
  std::string error, mode;
  const bool change = command == "blockdev-change-medium", close = command == "blockdev-close-tray";
  bool ok = OptionalString(args, "device", &c.device, &error) && OptionalString(args, "id", &c.qdev, &error);
  if (ok && change) {
    const Json* file = StringArg(args, "filename", &error);
    ok = file && OptionalString(args, "format", &c.format, &error) &&
         OptionalString(args, "read-only-mode", &mode, &error);
    if (file) c.file = file->str();
    if (ok && args.Find("read-only-mode") && mode != "retain" && mode != "read-only" &&
        mode != "read-write") {
      error = "Parameter 'read-only-mode' does not accept value '" + mode + "'";
      ok = false;
    }
  }
  if (ok && !close) ok = OptionalBool(args, "force", &c.force, &error);
  if (ok) {
    ok = change  ? CheckArgs(args, {"device", "id", "filename", "format", "read-only-mode", "force"}, &error)
         : close ? CheckArgs(args, {"device", "id"}, &error)
                 : CheckArgs(args, {"device", "id", "force"}, &error);
  }
  if (!ok) return {"GenericError", error};
  if ((args.Find("device") == nullptr) == (args.Find("id") == nullptr))
    return {"GenericError", "Need exactly one of 'device' and 'id'"};
  c.op = change                            ? MediaCommand::Op::kChange
         : close                           ? MediaCommand::Op::kCloseTray
         : command == "blockdev-open-tray" ? MediaCommand::Op::kOpenTray
                                           : MediaCommand::Op::kEject;
  return machine_.Media(c);
}

JobList::EventSink QmpSession::Events() {
  return [this](const std::string& name, const Json* data) { machine_.Event(name, data); };
}

std::string QmpSession::StartSnapshotJob(const std::string& command, const Json& args) {
  // QEMU's arguments, checked in its order: job-id, tag, vmstate (not for delete), devices. Strobe's
  // snapshot is the whole VM in one file: vmstate and devices (QEMU's block nodes) are checked for their
  // types only.
  const bool del = command == "snapshot-delete";
  std::string error;
  const Json* id = StringArg(args, "job-id", &error);
  const Json* tag = id ? StringArg(args, "tag", &error) : nullptr;
  if (!tag || (!del && !StringArg(args, "vmstate", &error))) return error;
  const Json* devices = args.Find("devices");
  if (!devices) return "Parameter 'devices' is missing";
  if (devices->type() != Json::Type::kArray) return "Invalid parameter type for 'devices', expected: array";
  for (size_t i = 0; i < devices->items().size(); ++i)
    if (!devices->items()[i].is_string())
      return "Invalid parameter type for 'devices[" + std::to_string(i) + "]', expected: string";
  if (!CheckArgs(args,
                 del ? std::initializer_list<const char*>{"job-id", "tag", "devices"}
                     : std::initializer_list<const char*>{"job-id", "tag", "vmstate", "devices"},
                 &error))
    return error;
  if (!machine_.jobs().Start(id->str(), command, Events(), &error)) return error;
  // As QEMU's: the work (with its STOP and RESUME events) before the reply, the job's end after it.
  const std::string& name = tag->str();
  pending_.push_back({id->str(), command == "snapshot-save"   ? machine_.SaveSnapshot(name)
                                 : command == "snapshot-load" ? machine_.LoadSnapshot(name)
                                                              : machine_.DeleteSnapshot(name)});
  return "";
}

void QmpSession::RunPendingJob() {
  std::vector<PendingJob> jobs;
  jobs.swap(pending_);
  for (const PendingJob& j : jobs) machine_.jobs().Finish(j.id, j.error, Events());
}

}  // namespace strobe::vmm::mon
