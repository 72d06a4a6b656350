// SPDX-License-Identifier: MIT
// The options of the PCI devices that are neither disks nor NICs, in QEMU's spelling. The entropy device:
// -object rng-builtin,id=ID and -object
// rng-random,id=ID[,filename=PATH] (QEMU's random-number backends; filename defaults to /dev/urandom), and
// -device virtio-rng-pci (alias virtio-rng)[,rng=ID][,max-bytes=N][,period=MS][,id=ID][,addr=SLOT[.FN]]
// (without rng= the device has a builtin source of its own, as QEMU's). rng-egd (the EGD protocol over a
// chardev) is refused in one line. Also the memory balloon, -device virtio-balloon-pci (alias
// virtio-balloon)[,id=ID][,addr=SLOT[.FN]] (one at most, as in QEMU). Refusals start with the option as
// given, in QEMU's words where QEMU has some.
#pragma once

#include <string>
#include <vector>

#include "vmm/vm.h"

namespace strobe::tools {

class DeviceOptions {
 public:
  // Whether an -object / -device value is one of these (its type or driver).
  static bool IsRngObject(const std::string& value);
  static bool IsRngDevice(const std::string& value);
  static bool IsBalloonDevice(const std::string& value);
  bool AddBalloon(const std::string& value, int place, std::vector<vmm::BalloonConfig>* out,
                  std::string* error);
  bool AddObject(const std::string& value, std::string* error);
  // place: the -device's rank among all -device options (QEMU's creation order, drive_options.h pci_order).
  bool AddDevice(const std::string& value, int place, std::string* error);
  // The devices, their sources opened ("Could not open 'PATH': REASON" when a file cannot be).
  bool Resolve(std::vector<vmm::RngConfig>* out, std::string* error) const;

 private:
  struct Object {
    std::string option, id, type, filename = "/dev/urandom";
  };
  struct Device {
    std::string option, rng, id;
    uint64_t max_bytes = INT64_MAX;
    uint32_t period_ms = 1u << 16;
    int devfn = -1;
    int order = 0;
  };
  std::vector<Object> objects_;
  std::vector<Device> devices_;
};

}  // namespace strobe::tools
