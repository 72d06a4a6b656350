// SPDX-License-Identifier: MIT
#include "tools/strobe/device_options.h"

#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>

#include "tools/strobe/drive_options.h"
#include "tools/strobe/options.h"

namespace strobe::tools {
namespace {

struct Parsed {
  std::string type;  // the first bare word, or driver= / qom-type=
  std::vector<std::pair<std::string, std::string>> keys;
};

Parsed Parse(const std::string& value, const char* type_key) {
  Parsed p;
  const std::vector<std::string> parts = SplitOptions(value);
  for (size_t i = 0; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    if (i == 0 && eq == std::string::npos) {
      p.type = parts[i];
      continue;
    }
    std::string key = parts[i].substr(0, eq), v = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
    if (key == type_key) {
      p.type = v;
    } else {
      p.keys.emplace_back(std::move(key), std::move(v));
    }
  }
  return p;
}

// An unsigned number as QEMU's property parser reads it (decimal, 0x hex or 0 octal); false for anything
// else, a sign included.
bool ParseUnsigned(const std::string& v, uint64_t* out) {
  if (v.empty() || v[0] == '-' || v[0] == '+' || v[0] == ' ') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 0);
  if (errno || *end) return false;
  *out = n;
  return true;
}

}  // namespace

bool DeviceOptions::IsRngObject(const std::string& value) {
  return Parse(value, "qom-type").type.rfind("rng-", 0) == 0;
}

bool DeviceOptions::IsRngDevice(const std::string& value) {
  const std::string driver = Parse(value, "driver").type;
  return driver == "virtio-rng-pci" || driver == "virtio-rng";
}

bool DeviceOptions::IsBalloonDevice(const std::string& value) {
  const std::string driver = Parse(value, "driver").type;
  return driver == "virtio-balloon-pci" || driver == "virtio-balloon";
}

bool DeviceOptions::AddBalloon(const std::string& value, int place, std::vector<vmm::BalloonConfig>* out,
                               std::string* error) {
  const std::string o = "-device " + value;
  auto fail = [&](const std::string& why) {
    *error = o + ": " + why;
    return false;
  };
  if (!out->empty()) return fail("Only one balloon device is supported");
  vmm::BalloonConfig b;
  b.option = o;
  b.pci_order = pci_order::kDevice + place;
  for (const auto& [key, v] : Parse(value, "driver").keys) {
    bool on = false;
    if (key == "id") {
      b.device_id = v;
    } else if (key == "addr") {
      if (!qemu::ParsePciAddr(v, &b.devfn))
        return fail("Property 'virtio-balloon-pci.addr' doesn't take value '" + v + "'");
    } else if (key == "bus") {
      if (v != "pci" && v != "pci.0") return fail("Bus '" + v + "' not found (pci)");
    } else if (key == "deflate-on-oom" || key == "free-page-hint" || key == "free-page-reporting") {
      if (!qemu::ParseOnOff(v, &on)) return fail("Parameter '" + key + "' expects 'on' or 'off'");
      if (on) return fail(key + "=on is not supported (the balloon offers QEMU's default features)");
    } else {
      return fail("Property 'virtio-balloon-pci." + key + "' not found (id, addr, bus)");
    }
  }
  out->push_back(std::move(b));
  return true;
}

bool DeviceOptions::AddObject(const std::string& value, std::string* error) {
  const std::string o = "-object " + value;
  const Parsed p = Parse(value, "qom-type");
  Object obj;
  obj.option = o;
  obj.type = p.type;
  if (p.type == "rng-egd") {
    *error = o + ": rng-egd (an EGD daemon over a chardev) is not supported: use rng-random or rng-builtin";
    return false;
  }
  if (p.type != "rng-random" && p.type != "rng-builtin") {
    *error = o + ": object type '" + p.type + "' is not supported (rng-random, rng-builtin)";
    return false;
  }
  bool has_id = false;
  for (const auto& [key, v] : p.keys) {
    if (key == "id") {
      obj.id = v;
      has_id = true;
    } else if (key == "filename" && p.type == "rng-random") {
      obj.filename = v;
    } else {
      *error = o + ": Invalid parameter '" + key + "'";
      return false;
    }
  }
  if (!has_id) {
    *error = o + ": Parameter 'id' is missing";
    return false;
  }
  for (const Object& other : objects_) {
    if (other.id == obj.id) {
      *error = o + ": Duplicate ID '" + obj.id + "' for object";
      return false;
    }
  }
  objects_.push_back(std::move(obj));
  return true;
}

bool DeviceOptions::AddDevice(const std::string& value, int place, std::string* error) {
  const std::string o = "-device " + value;
  const Parsed p = Parse(value, "driver");
  Device dev;
  dev.option = o;
  dev.order = pci_order::kDevice + place;
  auto fail = [&](const std::string& why) {
    *error = o + ": " + why;
    return false;
  };
  for (const auto& [key, v] : p.keys) {
    if (key == "rng") {
      dev.rng = v;
    } else if (key == "id") {
      dev.id = v;
    } else if (key == "max-bytes") {
      uint64_t n;
      if (!ParseUnsigned(v, &n)) return fail("Parameter 'max-bytes' expects integer");
      if (n > INT64_MAX) return fail("'max-bytes' parameter must be non-negative, and less than 2^63");
      dev.max_bytes = n;
    } else if (key == "period") {
      uint64_t n;
      if (!ParseUnsigned(v, &n) || n > UINT32_MAX) return fail("Parameter 'period' expects uint32_t");
      if (n == 0) return fail("'period' parameter expects a positive integer");
      dev.period_ms = static_cast<uint32_t>(n);
    } else if (key == "addr") {
      if (!qemu::ParsePciAddr(v, &dev.devfn))
        return fail("Property 'virtio-rng-pci.addr' doesn't take value '" + v + "'");
    } else if (key == "bus") {  // QEMU's name for the Malta's one PCI bus
      if (v != "pci" && v != "pci.0") return fail("Bus '" + v + "' not found (pci)");
    } else {
      return fail("Property 'virtio-rng-pci." + key + "' not found (rng, max-bytes, period, id, addr, bus)");
    }
  }
  devices_.push_back(std::move(dev));
  return true;
}

bool DeviceOptions::Resolve(std::vector<vmm::RngConfig>* out, std::string* error) const {
  // Each backend object is opened once, whether no device or several use it (as QEMU opens it).
  std::map<std::string, std::shared_ptr<vmm::EntropySource>> sources;
  for (const Object& obj : objects_) {
    if (obj.type == "rng-builtin") {
      sources[obj.id] = nullptr;  // the VM's builtin source
      continue;
    }
    std::string why;
    auto source = vmm::FileEntropy(obj.filename, &why);
    if (!source) {
      *error = obj.option + ": " + why;
      return false;
    }
    sources[obj.id] = std::move(source);
  }
  for (const Device& d : devices_) {
    vmm::RngConfig c;
    if (!d.rng.empty()) {
      const auto it = sources.find(d.rng);
      if (it == sources.end()) {
        *error = d.option + ": Device '" + d.rng + "' not found";
        return false;
      }
      c.source = it->second;
    }
    c.max_bytes = d.max_bytes;
    c.period_ms = d.period_ms;
    c.pci_order = d.order;
    c.devfn = d.devfn;
    c.device_id = d.id;
    c.option = d.option;
    out->push_back(std::move(c));
  }
  return true;
}

}  // namespace strobe::tools
