// SPDX-License-Identifier: MIT
// The disk options, with QEMU's spelling and rules: -hda/-hdb/-hdc/-hdd FILE (IDE index 0-3), -cdrom FILE
// (IDE index 2, a read-only CD-ROM), -drive KEY=VALUE,... (",," is a comma inside a value), -blockdev
// (file and raw nodes, KEY=VALUE or JSON), -device virtio-blk-pci|ide-hd|ide-cd,drive=ID (for an if=none
// drive or a -blockdev node) and -snapshot. They are gathered in command-line order while the options are
// read, then resolved as QEMU does once all are known: -snapshot applies to every -drive without snapshot=
// (never to -blockdev nodes), drives are numbered (the next free index when none is given), -device ide-*
// take the IDE places -drive left free, conflicts and unknown drive ids are refused, default ids are given
// (ide0-hd0, ide1-cd0, virtio0, none0). Every refusal is one line starting with the option as given.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vmm/block/drive.h"

namespace strobe::tools {

// QEMU's creation order of add-on PCI devices, which decides their slots (vmm/vm.h, pci_order): the
// board's NICs (-nic, -net nic, the default NIC) first, then every -device (disks and NICs alike) in
// command-line order, then the devices -drive if=virtio adds, in command-line order.
namespace pci_order {
inline constexpr int kBoardNic = 0, kDevice = 1 << 16, kIfVirtio = 2 << 16;
}

struct DriveRequests {
  struct Drive {
    vmm::block::DriveConfig config;  // what the option said; bus/unit/id are settled by ResolveDrives
    bool interface_given = false;
    int index = -1, bus = -1, unit = -1;  // -1: not given
    bool snapshot_given = false;
    bool id_given = false;
  };
  // A -blockdev node: an image file (driver=file) or the raw format over another node (driver=raw), which
  // is all of QEMU's block graph Strobe has. A node a device uses is a drive (its id is the node-name);
  // a node no device and no other node uses is an if=none drive, opened and locked as QEMU does.
  struct Node {
    std::string option;    // "-blockdev ..." (an inline file.* child's is its parent's)
    std::string name;      // node-name (an unnamed inline child: "#blockN", as QEMU names them)
    bool raw = false;      // a format node, driver=raw or qcow2, over `child`; otherwise driver=file
    bool qcow2 = false;    // driver=qcow2
    std::string filename;  // driver=file
    std::string child;     // driver=raw: its file node, defined earlier on the command line
    bool read_only = false, direct = false, no_flush = false;  // read-only, cache.direct, cache.no-flush
    bool auto_read_only = false;                               // auto-read-only
    bool discard_unmap = false;                                // discard=unmap|on
    vmm::block::DetectZeroes detect_zeroes = vmm::block::DetectZeroes::kOff;
  };
  struct Device {
    std::string option;  // "-device virtio-blk-pci,drive=d0"
    std::string model;   // "virtio-blk-pci", "ide-hd" or "ide-cd"
    std::string drive, id, serial;
    int bus = -1, unit = -1;         // ide-hd/ide-cd: bus=ide.N, unit=U (-1: the next free place)
    int write_cache = -1;            // write-cache=on (1) or off (0); -1: auto, the drive's cache mode
    int order = pci_order::kDevice;  // pci_order::kDevice + its place among the -device options
    int devfn = -1;                  // virtio-blk-pci's addr= ((slot << 3) | function); -1 the next free
  };
  std::vector<Drive> drives;
  std::vector<Node> nodes;
  std::vector<Device> devices;
  bool snapshot = false;  // -snapshot
};

// The values of the keys -drive and -blockdev share: discard= (unmap|on: the guest's discards give space
// back to the host; ignore|off, the default: they succeed without effect) and aio= (accepted without
// effect: Strobe has its own I/O thread per drive). "" when v is one of QEMU's, else the one-line complaint.
std::string CheckDiscard(const std::string& v);
std::string CheckAio(const std::string& v);
// detect-zeroes=off|on|unmap: false for another value.
bool ParseDetectZeroes(const std::string& v, vmm::block::DetectZeroes* out);

// QEMU's KEY=VALUE,... syntax: a doubled comma is a comma inside the value; empty parts are skipped.
std::vector<std::string> SplitOptions(const std::string& value);

// -hda FILE and the like (option: "-hda", "-hdb", "-hdc", "-hdd" or "-cdrom"): the file name is taken as
// it is, commas included.
void AddLegacyDrive(const std::string& option, const std::string& file, DriveRequests* requests);
// -drive VALUE. false with *error set (one line) on an unknown key or value.
bool ParseDrive(const std::string& value, DriveRequests* requests, std::string* error);
// -blockdev VALUE: KEY=VALUE,... or a JSON object; driver=file (filename=) or driver=raw (file=NODE, or an
// inline file.driver=file,file.filename=F), node-name=, read-only=, cache.direct=, cache.no-flush=.
bool ParseBlockdev(const std::string& value, DriveRequests* requests, std::string* error);
// -device VALUE: virtio-blk-pci (alias virtio-blk), ide-hd or ide-cd with drive=, id=, serial=,
// write-cache= (and bus=ide.N, unit= for the IDE ones); "help" sets *info. `place`: how many -device
// options came before it (NICs included).
bool ParseDevice(const std::string& value, int place, DriveRequests* requests, std::string* info,
                 std::string* error);
// Once every option is read: the drives as the guest will see them, in command-line order.
bool ResolveDrives(const DriveRequests& requests, std::vector<vmm::block::DriveConfig>* out,
                   std::string* error);

// Opens the drives' images (vmm/block/drive.h): one backend per drive, in the same order (null for a drive
// with no image). The first bad one ends it with *error set ("PATH: what is wrong").
bool OpenDrives(const std::vector<vmm::block::DriveConfig>& drives,
                std::vector<std::unique_ptr<vmm::block::BlockBackend>>* backends, std::string* error);

}  // namespace strobe::tools
