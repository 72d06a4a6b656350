// SPDX-License-Identifier: MIT
#include "tools/strobe/vm_setup.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "tools/strobe/drive_options.h"

namespace strobe::tools {

int PrepareVmHost(RunOptions* opts, VmHostResources* resources, std::string* error) {
  // The disks' images are opened and locked first, as QEMU does; they stay open until the process ends.
  if (!OpenDrives(opts->drives, &resources->disks, error)) return 1;
  // The IDE disks and CD-ROM drives go to the PIIX4's controller (-hda..-hdd, -cdrom, -drive if=ide);
  // virtio-blk disks to PCI slots in the order QEMU creates them (-device ones first, NICs among them, then
  // if=virtio). An if=none drive no device uses needs nothing.
  std::vector<std::pair<int, vmm::VirtioDisk>> virtio;
  for (size_t i = 0; i < opts->drives.size(); ++i) {
    const vmm::block::DriveConfig& d = opts->drives[i];
    vmm::block::BlockBackend* backend = resources->disks[i].get();
    if (d.interface == vmm::block::Interface::kVirtio) {
      vmm::VirtioDisk disk{backend, d.serial, d.write_cache(), d.virtio_order, d.id};
      disk.devfn = d.devfn;
      disk.device_id = d.device_id;
      disk.option = d.device_option.empty() ? d.option : d.device_option;
      virtio.push_back({d.virtio_order, disk});
      continue;
    }
    if (d.interface != vmm::block::Interface::kIde) continue;
    char serial[16];
    std::snprintf(serial, sizeof serial, "SB%05d", d.ide_index() + 1);
    opts->vm.ide_disks.push_back({backend, static_cast<unsigned>(d.ide_index()),
                                  d.serial.empty() ? serial : d.serial, d.write_cache(),
                                  d.media == vmm::block::Media::kCdrom, d.id});
  }
  std::stable_sort(virtio.begin(), virtio.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, disk] : virtio) opts->vm.virtio_disks.push_back(disk);
  // The network: user-mode backends (every hostfwd port is bound here: one in use ends the run now) and
  // capture files; the NICs join them when the VM is built.
  if (!OpenNetwork(opts->network, &resources->net_backends, &resources->net_captures, &opts->vm, error))
    return 1;
  return 0;
}

}  // namespace strobe::tools
