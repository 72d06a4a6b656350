// SPDX-License-Identifier: MIT
// VmControl's block devices and removable media: `info block` and query-block, and QEMU's media commands
// over the VM's CD-ROM drives (vm.h, "removable media"), with QEMU's rules and messages:
// - eject: open the tray, then take the disc out. A tray the guest locked is not opened unless forced;
//   the drive posts an eject request for the guest instead, and the command fails.
// - blockdev-open-tray: the same opening, but a locked tray is not an error (the request is posted).
// - blockdev-close-tray: closes an open tray.
// - blockdev-change-medium (HMP change): opens the new image first (its errors come before the drive's),
//   then opens the tray as eject does (not forced unless asked), puts the new disc in and closes the tray.
// A disk (IDE or virtio) is "not removable". The drives' qdev paths are Strobe's: the IDE position
// (/machine/piix4-ide/ide.1/unit.0) or the PCI function (/machine/pci/00:12.0/virtio-blk), not QEMU's QOM
// numbering.
#include <cstdio>
#include <memory>

#include "vmm/block/drive.h"
#include "vmm/block/image_format.h"
#include "vmm/monitor/vm_control.h"

namespace strobe::vmm::mon {

namespace {

std::string IdeQdev(unsigned index) {
  return "/machine/piix4-ide/ide." + std::to_string(index / 2) + "/unit." + std::to_string(index % 2);
}

std::string VirtioQdev(int slot) {
  char path[48];
  std::snprintf(path, sizeof path, "/machine/pci/00:%02x.0/virtio-blk", slot < 0 ? 0 : slot);
  return path;
}

// What info block shows of an inserted image: its file, format, size and backing chain.
void DescribeImage(const block::BlockBackend& image, BlockDevice* b) {
  b->inserted = true;
  b->file = image.path();
  b->read_only = image.read_only();
  b->size = image.size();
  b->format = image.format();
  b->detect_zeroes = image.detect_zeroes();
  if (const block::BlockBackend* first = image.backing()) b->backing_file = first->path();
  for (const block::BlockBackend* k = image.backing(); k; k = k->backing()) ++b->backing_depth;
}

constexpr const char* kGeneric = "GenericError";

}  // namespace

void VmControl::WatchDeviceEvents() {
  vm_.set_on_balloon_change([this](uint64_t actual) {  // QMP's BALLOON_CHANGE, from the vCPU thread
    Json data = Json::Object();
    data.Set("actual", static_cast<int64_t>(actual));
    Emit("BALLOON_CHANGE", &data);
  });
  vm_.set_on_tray_moved([this](unsigned index, bool open) {
    for (const IdeDisk& d : vm_.config().ide_disks) {
      if (d.index != index) continue;
      Json data = Json::Object();
      data.Set("device", d.id).Set("tray-open", open).Set("id", IdeQdev(index));
      Emit("DEVICE_TRAY_MOVED", &data);
    }
  });
}

std::vector<BlockDevice> VmControl::Blocks() {
  std::vector<BlockDevice> out;
  Call([&] {
    out.clear();
    for (const IdeDisk& d : vm_.config().ide_disks) {
      BlockDevice b;
      b.device = d.id;
      b.qdev = IdeQdev(d.index);
      b.removable = d.cdrom;
      if (d.cdrom) {
        AtaChannel& channel = vm_.board().ide().channel(d.index / 2);
        b.locked = channel.tray_locked(d.index % 2);
        b.tray_open = channel.tray_open(d.index % 2);
      }
      b.write_cache = d.write_cache;
      if (d.backend) DescribeImage(*d.backend, &b);
      out.push_back(std::move(b));
    }
    const std::vector<VirtioDisk>& virtio = vm_.config().virtio_disks;
    for (size_t i = 0; i < virtio.size(); ++i) {
      BlockDevice b;
      b.device = virtio[i].id;
      b.qdev = VirtioQdev(vm_.virtio_disk_slot(i));
      b.write_cache = virtio[i].write_cache;
      DescribeImage(*virtio[i].backend, &b);
      out.push_back(std::move(b));
    }
  });
  return out;
}

MediaError VmControl::Media(const MediaCommand& c) {
  const std::string& name = c.device.empty() ? c.qdev : c.device;
  // The drive: by its name or its qdev path. The names and positions never change while the VM lives.
  const IdeDisk* drive = nullptr;
  bool disk = false;
  for (const IdeDisk& d : vm_.config().ide_disks)
    if (c.device.empty() ? c.qdev == IdeQdev(d.index) : c.device == d.id) drive = &d;
  const std::vector<VirtioDisk>& virtio = vm_.config().virtio_disks;
  for (size_t i = 0; i < virtio.size(); ++i)
    disk =
        disk || (c.device.empty() ? c.qdev == VirtioQdev(vm_.virtio_disk_slot(i)) : c.device == virtio[i].id);
  if (!drive && !disk) return {"DeviceNotFound", "Device '" + name + "' not found"};

  std::unique_ptr<block::BlockBackend> disc;
  if (c.op == MediaCommand::Op::kChange) {
    if (!c.format.empty() && c.format != "raw" && c.format != "qcow2") {
      if (block::IsKnownOtherFormat(c.format))
        return {kGeneric, "image format '" + c.format +
                              "' is not supported: convert the image with qemu-img convert -O raw"};
      return {kGeneric, "Unknown driver '" + c.format + "'"};
    }
    block::DriveConfig config;
    config.option = "change " + name;
    config.file = c.file;
    config.format_raw = c.format == "raw";
    config.format_qcow2 = c.format == "qcow2";
    config.media = block::Media::kCdrom;
    config.read_only = true;
    std::string error;
    if (!block::OpenDrive(config, &disc, &error)) return {kGeneric, error};
  }
  if (!drive || !drive->cdrom) return {kGeneric, "Device '" + name + "' is not removable"};

  const unsigned index = drive->index;
  bool locked = false;
  std::lock_guard<std::mutex> lock(mu_);
  const bool answered = Call([&] {
    switch (c.op) {
      case MediaCommand::Op::kOpenTray: vm_.OpenTray(index, c.force); break;
      case MediaCommand::Op::kCloseTray: vm_.CloseTray(index); break;
      case MediaCommand::Op::kEject:
        if (!vm_.OpenTray(index, c.force)) {
          locked = true;
        } else if (drive->backend) {
          vm_.ChangeDisc(index, nullptr);
        }
        break;
      case MediaCommand::Op::kChange:
        if (!vm_.OpenTray(index, c.force)) {
          locked = true;
          break;
        }
        vm_.ChangeDisc(index, std::move(disc));
        vm_.CloseTray(index);
        break;
    }
  });
  if (!answered) return {kGeneric, "the vCPU did not answer (held by the gdb stub?)"};
  if (locked)
    return {kGeneric, "Device '" + name +
                          "' is locked and force was not specified, wait for tray to open and try again"};
  return {};
}

}  // namespace strobe::vmm::mon
