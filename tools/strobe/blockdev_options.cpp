// SPDX-License-Identifier: MIT
// -blockdev: QEMU's block graph as far as Strobe has one (see drive_options.h, DriveRequests::Node). Both
// of QEMU's spellings: dotted KEY=VALUE pairs (file.filename=...) and a JSON object, as libvirt writes it.
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "tools/strobe/drive_options.h"
#include "tools/strobe/options.h"
#include "vmm/block/image_format.h"
#include "vmm/monitor/json.h"

namespace strobe::tools {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;
using vmm::block::DetectZeroes;

bool Fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}

// A JSON object as the dotted pairs the KEY=VALUE spelling gives: {"file": {"filename": "a"}} is
// file.filename=a; true and false are on and off.
bool Flatten(const vmm::mon::Json& j, const std::string& prefix, Pairs* out, std::string* error) {
  for (const auto& [key, v] : j.members()) {
    const std::string name = prefix + key;
    switch (v.type()) {
      case vmm::mon::Json::Type::kObject:
        if (!Flatten(v, name + ".", out, error)) return false;
        break;
      case vmm::mon::Json::Type::kString: out->emplace_back(name, v.str()); break;
      case vmm::mon::Json::Type::kBool: out->emplace_back(name, v.boolean() ? "on" : "off"); break;
      case vmm::mon::Json::Type::kNumber: {
        const double d = v.number();
        out->emplace_back(name, d == static_cast<double>(static_cast<long long>(d))
                                    ? std::to_string(static_cast<long long>(d))
                                    : std::to_string(d));
        break;
      }
      default: return Fail(error, "'" + name + "' cannot be null or an array");
    }
  }
  return true;
}

bool IsNodeName(const std::string& s) {
  if (s.empty() || s.size() > 31 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

// The pairs of a node (*own) and those of its inline file child (file.KEY, as KEY in *child).
void SplitFileChild(const Pairs& pairs, Pairs* own, Pairs* child) {
  for (const auto& [key, v] : pairs) {
    if (key.rfind("file.", 0) == 0)
      child->emplace_back(key.substr(5), v);
    else
      own->emplace_back(key, v);
  }
}

// One node from its own pairs (the file.* pairs of an inline child already taken out); `root`: the node
// given by the option itself, which must be named.
bool AddNode(const std::string& option, const Pairs& pairs, const Pairs& child, bool root,
             DriveRequests* requests, std::string* error) {
  auto bad = [&](const std::string& what) { return Fail(error, option + ": " + what); };
  DriveRequests::Node n;
  n.option = option;
  std::string driver;
  bool child_named = false;
  for (const auto& [key, v] : pairs)
    if (key == "driver") driver = v;
  if (driver.empty())
    return bad(root ? "Parameter 'driver' is missing" : "Parameter 'file.driver' is missing");
  if (driver != "file" && driver != "raw" && driver != "qcow2") {
    if (vmm::block::IsKnownOtherFormat(driver)) {
      std::string image = "IMAGE";
      for (const auto& [key, v] : child)
        if (key == "filename") image = v;
      return bad("driver=" + driver + " is not supported: " + vmm::block::ConvertAdvice(driver, image));
    }
    if (driver == "host_device" || driver == "host_cdrom")
      return bad("driver=" + driver + " is not supported: Strobe's disks are image files (driver=file)");
    return bad("driver '" + driver + "' is not supported (file, or raw or qcow2 over a file node)");
  }
  n.raw = driver == "raw" || driver == "qcow2";
  n.qcow2 = driver == "qcow2";
  const char* keys =
      n.raw ? "driver, node-name, file, read-only, auto-read-only, cache.direct, cache.no-flush, "
              "discard, detect-zeroes"
            : "driver, node-name, filename, read-only, auto-read-only, cache.direct, "
              "cache.no-flush, discard, detect-zeroes, locking, aio";
  for (const auto& [key, v] : pairs) {
    auto flag = [&](bool* out) {
      return qemu::ParseOnOff(v, out) ? true : bad("'" + key + "' expects on or off, not '" + v + "'");
    };
    if (key == "driver") {
      continue;
    } else if (key == "node-name") {
      if (!IsNodeName(v))
        return bad("Invalid node-name: '" + v +
                   "' (letters, digits, '-', '.', '_', starting with a letter, at most 31)");
      n.name = v;
    } else if (key == "read-only") {
      if (!flag(&n.read_only)) return false;
    } else if (key == "auto-read-only") {  // an image this process may not write opens read-only
      if (!flag(&n.auto_read_only)) return false;
    } else if (key == "cache.direct") {
      if (!flag(&n.direct)) return false;
    } else if (key == "cache.no-flush") {
      if (!flag(&n.no_flush)) return false;
    } else if (key == "discard") {
      if (const std::string why = CheckDiscard(v); !why.empty()) return bad(why);
      n.discard_unmap = v == "unmap" || v == "on";
    } else if (key == "detect-zeroes") {
      if (!ParseDetectZeroes(v, &n.detect_zeroes))
        return bad("Parameter 'detect-zeroes' does not accept value '" + v + "'");
    } else if (!n.raw && key == "filename") {
      n.filename = v;
    } else if (!n.raw && key == "locking") {
      if (v != "auto" && v != "on")
        return bad("locking=" + v + " is not supported: Strobe always locks a writable image (auto or on)");
    } else if (!n.raw && key == "aio") {
      if (const std::string why = CheckAio(v); !why.empty()) return bad(why);
    } else if (n.raw && key == "file") {
      n.child = v;
      child_named = true;
    } else {
      return bad("unknown key '" + key + "' of driver=" + driver + " (" + keys + ")");
    }
  }
  if (root && n.name.empty()) return bad("'node-name' must be specified for the root node");
  if (n.detect_zeroes == DetectZeroes::kUnmap && !n.discard_unmap)
    return bad("setting detect-zeroes to unmap is not allowed without setting discard operation to unmap");
  if (!n.raw) {
    if (!child.empty()) return bad("unknown key 'file." + child[0].first + "' of driver=file (" + keys + ")");
    if (n.filename.empty()) return bad("Parameter 'filename' is missing");
  } else if (child_named && !child.empty()) {
    return bad("'file' names a node and gives file.* keys too: one or the other");
  } else if (!child_named) {
    if (child.empty())
      return bad("Parameter 'file' is missing (file=NODE, or file.driver=file,file.filename=F)");
    // The inline child is a node of its own, unnamed unless it says otherwise (QEMU's #block names).
    Pairs grandchild, own;
    SplitFileChild(child, &own, &grandchild);
    std::string child_error;
    if (!AddNode(option, own, grandchild, false, requests, &child_error)) return Fail(error, child_error);
    DriveRequests::Node& made = requests->nodes.back();
    if (made.name.empty()) made.name = "#block" + std::to_string(requests->nodes.size());
    n.child = made.name;
  }
  requests->nodes.push_back(std::move(n));
  return true;
}

}  // namespace

bool ParseBlockdev(const std::string& value, DriveRequests* requests, std::string* error) {
  const std::string option = "-blockdev " + value;
  Pairs pairs;
  if (!value.empty() && value[0] == '{') {
    vmm::mon::Json j;
    std::string why;
    if (!vmm::mon::ParseJson(value, &j, &why)) return Fail(error, option + ": " + why);
    if (!j.is_object()) return Fail(error, option + ": a JSON object is expected");
    if (!Flatten(j, "", &pairs, &why)) return Fail(error, option + ": " + why);
  } else {
    for (const std::string& part : SplitOptions(value)) {
      const size_t eq = part.find('=');
      if (eq == std::string::npos)
        return Fail(error, option + ": key '" + part + "' needs a value (KEY=VALUE)");
      pairs.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    }
  }
  Pairs own, child;
  for (size_t i = 0; i < pairs.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (pairs[k].first == pairs[i].first)
        return Fail(error, option + ": key '" + pairs[i].first + "' is given twice");
  SplitFileChild(pairs, &own, &child);
  return AddNode(option, own, child, true, requests, error);
}

}  // namespace strobe::tools
