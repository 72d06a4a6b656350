// SPDX-License-Identifier: MIT
// -hda/-hdb/-hdc/-hdd, -cdrom, -drive, -device virtio-blk-pci, -snapshot: see drive_options.h.
#include "tools/strobe/drive_options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "tools/strobe/options.h"
#include "vmm/block/image_format.h"

namespace strobe::tools {

namespace {

using vmm::block::CacheMode;
using vmm::block::DetectZeroes;
using vmm::block::DriveConfig;
using vmm::block::Interface;
using vmm::block::Media;

// Malta's PIIX4: two IDE channels of two drives each.
constexpr int kIdeBuses = 2, kIdeUnits = 2;

bool Fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}

}  // namespace

// QEMU's KEY=VALUE,... syntax: a doubled comma is a comma inside the value; empty parts are skipped.
std::vector<std::string> SplitOptions(const std::string& value) {
  std::vector<std::string> parts;
  std::string part;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != ',') {
      part += value[i];
    } else if (i + 1 < value.size() && value[i + 1] == ',') {
      part += ',';
      ++i;
    } else {
      if (!part.empty()) parts.push_back(part);
      part.clear();
    }
  }
  if (!part.empty()) parts.push_back(part);
  return parts;
}

namespace {

bool ParseCount(const std::string& v, int* out) {
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) return false;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (errno || *end || n > 1000000) return false;
  *out = static_cast<int>(n);
  return true;
}

// QEMU's identifiers: letters, digits, '-', '.', '_', starting with a letter.
bool IsIdentifier(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

const char* InterfaceName(Interface i) {
  switch (i) {
    case Interface::kIde: return "ide";
    case Interface::kVirtio: return "virtio";
    case Interface::kNone: return "none";
  }
  return "?";
}

bool IsNetworkDevice(const std::string& name) {
  for (const char* n : {"e1000", "e1000e", "pcnet", "rtl8139", "ne2k_pci", "virtio-net-pci", "virtio-net",
                        "i82551", "i82557b", "i82559er", "vmxnet3", "usb-net"})
    if (name == n) return true;
  return false;
}

}  // namespace

std::string CheckDiscard(const std::string& v) {
  if (v == "ignore" || v == "off" || v == "unmap" || v == "on") return "";
  return "invalid discard option '" + v + "' (ignore, off, unmap or on)";
}

bool ParseDetectZeroes(const std::string& v, DetectZeroes* out) {
  if (v == "off") return *out = DetectZeroes::kOff, true;
  if (v == "on") return *out = DetectZeroes::kOn, true;
  if (v == "unmap") return *out = DetectZeroes::kUnmap, true;
  return false;
}

std::string CheckAio(const std::string& v) {
  if (v == "threads" || v == "native" || v == "io_uring") return "";
  return "invalid aio option '" + v + "' (threads, native or io_uring)";
}

void AddLegacyDrive(const std::string& option, const std::string& file, DriveRequests* requests) {
  DriveRequests::Drive d;
  d.config.option = option + " " + file;
  d.config.file = file;
  if (option == "-cdrom") {
    d.index = 2;
    d.config.media = Media::kCdrom;
  } else {
    d.index = option.back() - 'a';  // -hda 0 .. -hdd 3
  }
  requests->drives.push_back(std::move(d));
}

bool ParseDrive(const std::string& value, DriveRequests* requests, std::string* error) {
  DriveRequests::Drive d;
  DriveConfig& c = d.config;
  c.option = "-drive " + value;
  const std::string& o = c.option;
  for (const std::string& part : SplitOptions(value)) {
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq);
    const bool bare = eq == std::string::npos;
    const std::string v = bare ? "on" : part.substr(eq + 1);  // a bare key is a boolean set to on
    auto bad = [&](const std::string& what) { return Fail(error, o + ": " + what); };
    if (bare && key != "readonly" && key != "snapshot")
      return bad("unknown key '" + key + "' (did you mean file=" + key + "?)");
    if (key == "file") {
      c.file = v;
    } else if (key == "format") {
      if (v == "raw") {  // the last format= counts, as in QEMU
        c.format_raw = true;
        c.format_qcow2 = false;
      } else if (v == "qcow2") {
        c.format_qcow2 = true;
        c.format_raw = false;
      } else if (vmm::block::IsKnownOtherFormat(v)) {
        return bad("format=" + v +
                   " is not supported: " + vmm::block::ConvertAdvice(v, c.file.empty() ? "IMAGE" : c.file));
      } else {
        return bad("unknown format '" + v + "' (raw or qcow2)");
      }
    } else if (key == "if") {
      d.interface_given = true;
      if (v == "ide") {
        c.interface = Interface::kIde;
      } else if (v == "virtio") {
        c.interface = Interface::kVirtio;
      } else if (v == "none") {
        c.interface = Interface::kNone;
      } else if (v == "scsi" || v == "floppy" || v == "pflash" || v == "mtd" || v == "sd" || v == "xen") {
        return bad("if=" + v + " is not available on Malta (ide, virtio or none)");
      } else {
        return bad("unsupported bus type '" + v + "' (ide, virtio or none)");
      }
    } else if (key == "index" || key == "bus" || key == "unit") {
      int n;
      if (!ParseCount(v, &n)) return bad("'" + key + "' expects a number, not '" + v + "'");
      (key == "index" ? d.index : key == "bus" ? d.bus : d.unit) = n;
    } else if (key == "media") {
      if (v == "disk") {
        c.media = Media::kDisk;
      } else if (v == "cdrom") {
        c.media = Media::kCdrom;
      } else {
        return bad("'" + v + "' invalid media (disk or cdrom)");
      }
    } else if (key == "readonly" || key == "snapshot") {
      bool on;
      if (!qemu::ParseOnOff(v, &on)) return bad("'" + key + "' expects on or off, not '" + v + "'");
      if (key == "readonly") {
        c.read_only = on;
      } else {
        c.snapshot = on;
        d.snapshot_given = true;
      }
    } else if (key == "cache") {
      if (v == "writeback") {
        c.cache = CacheMode::kWriteback;
      } else if (v == "writethrough") {
        c.cache = CacheMode::kWritethrough;
      } else if (v == "none" || v == "off") {
        c.cache = CacheMode::kNone;
      } else if (v == "directsync") {
        c.cache = CacheMode::kDirectSync;
      } else if (v == "unsafe") {
        c.cache = CacheMode::kUnsafe;
      } else {
        return bad("invalid cache option '" + v + "' (writeback, writethrough, none, directsync or unsafe)");
      }
    } else if (key == "id") {
      if (!IsIdentifier(v))
        return bad("id '" + v +
                   "' is not an identifier (letters, digits, '-', '.', '_', starting with a letter)");
      c.id = v;
      d.id_given = true;
    } else if (key == "discard" || key == "aio") {
      if (const std::string why = key == "discard" ? CheckDiscard(v) : CheckAio(v); !why.empty())
        return bad(why);
      if (key == "discard") c.discard_unmap = v == "unmap" || v == "on";
    } else if (key == "detect-zeroes") {
      if (!ParseDetectZeroes(v, &c.detect_zeroes)) return bad("invalid parameter value: " + v);
    } else {
      return bad("unknown key '" + key +
                 "' (file, format, if, index, bus, unit, media, readonly, cache, snapshot, id, aio, discard, "
                 "detect-zeroes)");
    }
  }
  requests->drives.push_back(std::move(d));
  return true;
}

bool ParseDevice(const std::string& value, int place, DriveRequests* requests, std::string* info,
                 std::string* error) {
  const std::vector<std::string> parts = SplitOptions(value);
  const std::string o = "-device " + value;
  std::string driver;
  size_t first = 0;
  if (!parts.empty() && parts[0].find('=') == std::string::npos) {
    driver = parts[0];
    first = 1;
  }
  for (size_t i = first; i < parts.size(); ++i)
    if (parts[i].rfind("driver=", 0) == 0) driver = parts[i].substr(7);
  if (driver == "help" || driver == "?") {
    *info =
        "Devices Strobe adds with -device (the board's own are always there):\n"
        "name \"virtio-blk-pci\", bus PCI, alias \"virtio-blk\", desc \"Virtio block device\" "
        "(drive=ID of an -drive if=none,id=ID or a -blockdev node; id=, serial=, write-cache=)\n"
        "name \"ide-hd\", bus IDE, desc \"virtual IDE disk\" (drive=ID; bus=ide.0|ide.1, unit=0|1, id=, "
        "serial=, write-cache=)\n"
        "name \"ide-cd\", bus IDE, desc \"virtual IDE CD-ROM\" (drive=ID, or none for an empty drive; bus=, "
        "unit=, id=, serial=)\n"
        "name \"pcnet\", bus PCI, desc \"AMD PCnet-PCI II Ethernet\" (netdev=ID of an -netdev user,id=ID; "
        "mac=, id=)\n"
        "name \"virtio-net-pci\", bus PCI, alias \"virtio-net\", desc \"Virtio network device\" (netdev=ID "
        "of an -netdev user,id=ID; mac=, id=)\n"
        "name \"virtio-rng-pci\", bus PCI, alias \"virtio-rng\", desc \"Virtio entropy device\" (rng=ID of "
        "an "
        "-object rng-random|rng-builtin,id=ID; max-bytes=, period=, id=)\n"
        "name \"virtio-balloon-pci\", bus PCI, alias \"virtio-balloon\", desc \"Virtio memory balloon\" "
        "(id=, "
        "addr=)\n";
    return true;
  }
  const bool virtio = driver == "virtio-blk-pci" || driver == "virtio-blk";
  const bool ide = driver == "ide-hd" || driver == "ide-cd";
  if (!virtio && !ide) {
    if (IsNetworkDevice(driver))
      return Fail(error, o + ": NIC model '" + driver + "' is not emulated (pcnet or virtio-net-pci)");
    if (driver.rfind("scsi-", 0) == 0 || driver == "ide-drive")
      return Fail(error, o + ": not supported: attach disks with -device ide-hd, ide-cd or virtio-blk-pci");
    return Fail(error,
                o + ": '" + driver + "' is not a valid device model name (-device help lists Strobe's)");
  }
  DriveRequests::Device dev;
  dev.option = o;
  dev.model = virtio ? "virtio-blk-pci" : driver;
  dev.order = pci_order::kDevice + place;
  const char* known = virtio ? "drive, bus, addr, id, serial, write-cache, bootindex"
                             : "drive, bus, unit, id, serial, write-cache, bootindex";
  for (size_t i = first; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    const std::string v = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
    if (key == "driver") {
      continue;
    } else if (key == "drive") {
      dev.drive = v;
    } else if (key == "id") {
      dev.id = v;
    } else if (key == "serial") {
      dev.serial = v;
    } else if (key == "write-cache") {
      bool on;
      if (v == "auto") {
        dev.write_cache = -1;
      } else if (qemu::ParseOnOff(v, &on)) {
        dev.write_cache = on ? 1 : 0;
      } else {
        return Fail(error, o + ": write-cache expects on, off or auto, not '" + v + "'");
      }
    } else if (key == "bootindex") {  // firmware's boot order: Malta boots -kernel, as under QEMU
      int n;
      if (!ParseCount(v, &n)) return Fail(error, o + ": bootindex expects a number, not '" + v + "'");
    } else if (virtio && key == "addr") {
      if (!qemu::ParsePciAddr(v, &dev.devfn))
        return Fail(error, o + ": Property 'virtio-blk-pci.addr' doesn't take value '" + v + "'");
    } else if (virtio && key == "bus") {  // QEMU's name for the Malta's one PCI bus
      if (v != "pci") return Fail(error, o + ": Bus '" + v + "' not found (pci)");
    } else if (ide && key == "bus") {
      if (v != "ide.0" && v != "ide.1")
        return Fail(error, o + ": Bus '" + v + "' not found (ide.0 or ide.1)");
      dev.bus = v.back() - '0';
    } else if (ide && key == "unit") {
      if (v != "0" && v != "1") return Fail(error, o + ": unit '" + v + "' is not 0 or 1 (master or slave)");
      dev.unit = v[0] - '0';
    } else {
      return Fail(error, o + ": unknown property '" + key + "' of " + dev.model + " (" + known + ")");
    }
  }
  if (!dev.id.empty() && !IsIdentifier(dev.id))
    return Fail(error, o + ": id '" + dev.id + "' is not an identifier");
  if (dev.drive.empty() && driver != "ide-cd")
    return Fail(error, o + ": drive property not set (drive=ID of an -drive if=none,id=ID or a -blockdev "
                           "node-name=ID)");
  requests->devices.push_back(std::move(dev));
  return true;
}

bool ResolveDrives(const DriveRequests& requests, std::vector<DriveConfig>* out, std::string* error) {
  std::vector<DriveConfig> drives;
  for (const DriveRequests::Drive& d : requests.drives) {
    DriveConfig c = d.config;
    const std::string& o = c.option;
    auto bad = [&](const std::string& what) { return Fail(error, o + ": " + what); };
    // QEMU's -snapshot: snapshot=on for every drive that does not say otherwise.
    if (!d.snapshot_given) c.snapshot = requests.snapshot;
    if (c.media == Media::kCdrom) c.read_only = true;
    if (c.read_only) c.snapshot = false;  // nothing is written, so nothing to keep apart
    if (c.interface == Interface::kIde && c.media == Media::kDisk && c.read_only)
      return bad(
          "an IDE hard disk cannot be read-only (QEMU's ide-hd refuses it too): use media=cdrom, "
          "if=virtio, or -snapshot");
    // Numbering, as QEMU: index = bus * units per bus + unit; without either, the next free place.
    const int per_bus = c.interface == Interface::kIde ? kIdeUnits : 0;
    if (d.index >= 0 && (d.bus >= 0 || d.unit >= 0)) return bad("index cannot be used with bus and unit");
    int bus = d.bus >= 0 ? d.bus : 0, unit = d.unit;
    if (d.index >= 0) {
      bus = per_bus ? d.index / per_bus : 0;
      unit = per_bus ? d.index % per_bus : d.index;
    }
    auto taken = [&](int b, int u) {
      for (const DriveConfig& e : drives)
        if (e.interface == c.interface && e.bus == b && e.unit == u) return true;
      return false;
    };
    if (unit < 0) {
      unit = 0;
      while (taken(bus, unit)) {
        if (++unit == per_bus) {  // per_bus 0: one long bus
          unit = 0;
          ++bus;
        }
      }
    }
    if (per_bus && unit >= per_bus)
      return bad("unit " + std::to_string(unit) + " too big (max is " + std::to_string(per_bus - 1) + ")");
    if (c.interface == Interface::kIde && bus >= kIdeBuses)
      return bad("Malta has no if=ide,bus=" + std::to_string(bus) + ",unit=" + std::to_string(unit) +
                 " (IDE index 0-3: bus 0-1, unit 0-1)");
    if (taken(bus, unit))
      return bad("drive with bus=" + std::to_string(bus) + ", unit=" + std::to_string(unit) +
                 " (index=" + std::to_string(per_bus ? bus * per_bus + unit : unit) + ") exists");
    c.bus = bus;
    c.unit = unit;
    if (!d.id_given) {
      const std::string media =
          c.interface == Interface::kIde ? (c.media == Media::kCdrom ? "-cd" : "-hd") : "";
      c.id = std::string(InterfaceName(c.interface)) + (per_bus ? std::to_string(bus) : "") + media +
             std::to_string(unit);
    }
    for (const DriveConfig& e : drives)
      if (e.id == c.id) return bad("Duplicate ID '" + c.id + "' for drive");
    drives.push_back(std::move(c));
  }
  // -blockdev nodes: each name once among the nodes and the drives' ids; a node a raw node stands on
  // belongs to it, and every other node becomes an if=none drive for the devices below. -snapshot does
  // not reach them (as in QEMU: it sets snapshot=on for -drive only).
  std::vector<std::string> held_by(requests.nodes.size());  // the raw node a node is the file of
  std::vector<size_t> file_of(requests.nodes.size());       // a raw node's file node
  for (size_t i = 0; i < requests.nodes.size(); ++i) {
    const DriveRequests::Node& n = requests.nodes[i];
    for (size_t k = 0; k < i; ++k)
      if (requests.nodes[k].name == n.name)
        return Fail(error, n.option + ": Duplicate nodes with node-name='" + n.name + "'");
    for (const DriveConfig& c : drives)
      if (c.id == n.name)
        return Fail(error, n.option + ": node-name=" + n.name + " is conflicting with a device id");
    if (!n.raw) continue;
    size_t k = 0;
    while (k < i && requests.nodes[k].name != n.child) ++k;
    if (k == i) return Fail(error, n.option + ": Cannot find device='' nor node-name='" + n.child + "'");
    if (!held_by[k].empty())
      return Fail(error,
                  n.option + ": node '" + n.child + "' is already the file of node '" + held_by[k] + "'");
    held_by[k] = n.name;
    file_of[i] = k;
  }
  for (size_t i = 0; i < requests.nodes.size(); ++i) {
    if (!held_by[i].empty()) continue;
    DriveConfig c;
    c.option = requests.nodes[i].option;
    c.id = requests.nodes[i].name;
    c.interface = Interface::kNone;
    c.format_raw = true;  // a node says its format: nothing is probed
    bool direct = false, no_flush = false;
    for (size_t k = i;;) {  // down to the file node, collecting what each node asks
      const DriveRequests::Node& n = requests.nodes[k];
      if (n.qcow2) c.format_raw = false, c.format_qcow2 = true;
      c.read_only |= n.read_only;
      c.auto_read_only |= n.auto_read_only;
      c.discard_unmap |= n.discard_unmap;
      if (n.detect_zeroes != DetectZeroes::kOff) c.detect_zeroes = n.detect_zeroes;
      direct |= n.direct;
      no_flush |= n.no_flush;
      if (!n.raw) {
        c.file = n.filename;
        break;
      }
      k = file_of[k];
    }
    c.cache = no_flush ? CacheMode::kUnsafe : direct ? CacheMode::kNone : CacheMode::kWriteback;
    drives.push_back(std::move(c));
  }
  auto free_place = [&](int b, int u) {
    for (const DriveConfig& e : drives)
      if (e.interface == Interface::kIde && e.bus == b && e.unit == u) return false;
    return true;
  };
  // -device virtio-blk-pci, ide-hd and ide-cd take if=none drives and nodes. QEMU creates the virtio ones
  // before those if=virtio adds, which decides their PCI slots; the IDE ones take the places the board's
  // if=ide drives left free, in QEMU's order.
  int virtio_disks = 0;
  std::vector<bool> taken_by_device(drives.size());
  for (const DriveRequests::Device& dev : requests.devices) {
    size_t at = drives.size();
    if (!dev.drive.empty()) {
      for (size_t k = 0; k < drives.size(); ++k)
        if (drives[k].id == dev.drive) at = k;
      if (at == drives.size()) {
        for (size_t k = 0; k < requests.nodes.size(); ++k)
          if (requests.nodes[k].name == dev.drive && !held_by[k].empty())
            return Fail(error, dev.option + ": node '" + dev.drive +
                                   "' is already in use as the file of node '" + held_by[k] + "'");
        return Fail(error,
                    dev.option + ": no -drive (id=) or -blockdev (node-name=) is named '" + dev.drive + "'");
      }
      if (taken_by_device[at])
        return Fail(error, dev.option + ": Drive '" + dev.drive + "' is already in use by another device");
      if (drives[at].interface != Interface::kNone)
        return Fail(error, dev.option + ": Drive '" + dev.drive +
                               "' is already in use because it has been automatically connected to another "
                               "device (did you need 'if=none' in the drive options?)");
      taken_by_device[at] = true;
    } else {  // ide-cd with no drive: a CD-ROM drive with no disc
      DriveConfig c;
      c.option = dev.option;
      c.media = Media::kCdrom;
      c.interface = Interface::kNone;  // placed below: until then it takes no IDE place
      drives.push_back(std::move(c));
      taken_by_device.push_back(true);
    }
    DriveConfig& c = drives[at];
    c.device_id = dev.id;
    c.serial = dev.serial;
    if (dev.write_cache == 0) {
      c.cache = c.cache == CacheMode::kNone        ? CacheMode::kDirectSync
                : c.cache == CacheMode::kWriteback ? CacheMode::kWritethrough
                                                   : c.cache;
    } else if (dev.write_cache == 1) {
      c.cache = c.cache == CacheMode::kDirectSync     ? CacheMode::kNone
                : c.cache == CacheMode::kWritethrough ? CacheMode::kWriteback
                                                      : c.cache;
    }
    if (dev.model == "virtio-blk-pci") {
      if (c.media == Media::kCdrom)
        return Fail(error,
                    dev.option + ": Drive '" + dev.drive + "' is a CD-ROM (media=cdrom): use -device ide-cd");
      c.interface = Interface::kVirtio;
      c.virtio_order = dev.order;
      c.devfn = dev.devfn;
      c.device_option = dev.option;
      ++virtio_disks;
      continue;
    }
    if (dev.model == "ide-hd") {
      if (c.media == Media::kCdrom)
        return Fail(error,
                    dev.option + ": Drive '" + dev.drive + "' is a CD-ROM (media=cdrom): use -device ide-cd");
      if (c.read_only) return Fail(error, dev.option + ": Block node is read-only");
    } else {
      c.media = Media::kCdrom;
      c.read_only = true;
      c.snapshot = false;
    }
    int bus = dev.bus, unit = dev.unit;
    if (bus >= 0 && unit >= 0) {
      if (!free_place(bus, unit))
        return Fail(error, dev.option + ": IDE unit " + std::to_string(unit) + " is in use");
    } else {
      // QEMU looks for a bus with room from the PIIX4's last one: ide.1, then ide.0 (checked with
      // qemu-system-mipsel 7.2's info qtree); on the bus, the first free unit.
      bool found = false;
      for (int b = kIdeBuses - 1; b >= 0 && !found; --b)
        for (int u = 0; u < kIdeUnits && !found; ++u)
          if ((bus < 0 || b == bus) && (unit < 0 || u == unit) && free_place(b, u)) {
            bus = b;
            unit = u;
            found = true;
          }
      if (!found)
        return Fail(error, dev.option + ": no free IDE place" +
                               (dev.bus >= 0 ? " on bus ide." + std::to_string(dev.bus) : std::string()) +
                               " (the PIIX4 has two channels, ide.0 and ide.1, of two drives each)");
    }
    c.interface = Interface::kIde;
    c.bus = bus;
    c.unit = unit;
    if (c.id.empty()) {  // an ide-cd with no drive: the name -drive would give its place
      c.id = "ide" + std::to_string(bus) + "-cd" + std::to_string(unit);
      for (size_t k = 0; k < drives.size(); ++k)
        if (k != at && drives[k].id == c.id)
          return Fail(error, dev.option + ": Duplicate ID '" + c.id + "' for drive (an -drive has it)");
    }
  }
  for (DriveConfig& c : drives)
    if (c.interface == Interface::kVirtio && c.virtio_order < 0)
      c.virtio_order = pci_order::kIfVirtio + virtio_disks++;
  // QEMU's Malta places them from slot 18 (0x12) to 31 (the NICs there are counted when the VM is built).
  constexpr int kVirtioSlots = 14;
  if (virtio_disks > kVirtioSlots) {
    std::vector<const DriveConfig*> order;
    for (const DriveConfig& c : drives)
      if (c.interface == Interface::kVirtio) order.push_back(&c);
    std::sort(order.begin(), order.end(),
              [](const DriveConfig* a, const DriveConfig* b) { return a->virtio_order < b->virtio_order; });
    return Fail(error, order[kVirtioSlots]->option + ": no free PCI slot (the Malta's bus takes " +
                           std::to_string(kVirtioSlots) + " virtio disks, slots 0x12-0x1f)");
  }
  // Only a drive no device uses may be empty (QEMU: "Device needs media, but drive is empty").
  for (const DriveConfig& c : drives)
    if (c.file.empty() && c.media == Media::kDisk && c.interface != Interface::kNone)
      return Fail(error, c.option + ": a disk needs an image (file=)");
  *out = std::move(drives);
  return true;
}

bool OpenDrives(const std::vector<DriveConfig>& drives,
                std::vector<std::unique_ptr<vmm::block::BlockBackend>>* backends, std::string* error) {
  backends->clear();
  for (const DriveConfig& c : drives) {
    std::unique_ptr<vmm::block::BlockBackend> backend;
    if (!vmm::block::OpenDrive(c, &backend, error)) return false;
    backends->push_back(std::move(backend));
  }
  return true;
}

}  // namespace strobe::tools
