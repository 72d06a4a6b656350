// SPDX-License-Identifier: MIT
// Vm's removable media: the host's hand on a CD-ROM drive's tray and disc (vm.h, "removable media"). The
// monitor's eject and change are built from these three steps, as QEMU's are from blockdev-open-tray,
// -remove-medium, -insert-medium and -close-tray.
#include <algorithm>

#include "vmm/vm.h"

namespace strobe::vmm {

IdeDisk* Vm::FindIdeDisk(unsigned ide_index) {
  for (IdeDisk& d : config_.ide_disks)
    if (d.index == ide_index) return &d;
  return nullptr;
}

bool Vm::OpenTray(unsigned ide_index, bool force) {
  return board_->ide().channel(ide_index / 2).HostOpenTray(ide_index % 2, force);
}

void Vm::CloseTray(unsigned ide_index) {
  board_->ide().channel(ide_index / 2).HostCloseTray(ide_index % 2);
}

void Vm::ChangeDisc(unsigned ide_index, std::unique_ptr<block::BlockBackend> disc) {
  IdeDisk* drive = FindIdeDisk(ide_index);
  if (!drive) return;
  // The old disc's queue (if any) retires: reads already submitted finish from it.
  for (const auto& q : disk_queues_)
    if (drive->backend && &q->backend() == drive->backend) retired_queues_.push_back(q.get());
  block::BlockQueue* queue = nullptr;
  if (disc) {
    disk_queues_.push_back(
        std::make_unique<block::BlockQueue>(*disc, completions_, "strobe-ide" + std::to_string(ide_index)));
    MakeDeterministic(*disk_queues_.back());
    queue = disk_queues_.back().get();
  }
  drive->backend = disc.get();
  board_->ide().channel(ide_index / 2).HostChangeDisc(ide_index % 2, disc.get(), queue);
  if (disc) host_discs_.push_back(std::move(disc));
  DropIdleDiscs();
}

// A retired queue goes when its reads are done (its destructor drains nothing then), and with it the disc
// the monitor had put in, unless a drive still holds that disc.
void Vm::DropIdleDiscs() {
  for (auto it = retired_queues_.begin(); it != retired_queues_.end();) {
    block::BlockQueue* q = *it;
    if (q->in_flight() > 0) {
      ++it;
      continue;
    }
    const block::BlockBackend* disc = &q->backend();
    disk_queues_.erase(
        std::find_if(disk_queues_.begin(), disk_queues_.end(), [q](const auto& p) { return p.get() == q; }));
    it = retired_queues_.erase(it);
    const bool in_a_drive = std::any_of(config_.ide_disks.begin(), config_.ide_disks.end(),
                                        [disc](const IdeDisk& d) { return d.backend == disc; });
    if (!in_a_drive)
      host_discs_.erase(std::remove_if(host_discs_.begin(), host_discs_.end(),
                                       [disc](const auto& p) { return p.get() == disc; }),
                        host_discs_.end());
  }
}

}  // namespace strobe::vmm
