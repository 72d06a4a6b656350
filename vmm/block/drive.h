// SPDX-License-Identifier: MIT
// A drive as the command line describes it (-hda, -cdrom, -drive, -device virtio-blk-pci, -snapshot;
// parsed in tools/strobe/drive_options.cpp), and the backend that serves it to the guest.
#pragma once

#include <memory>
#include <string>

#include "vmm/block/backend.h"

namespace strobe::vmm::block {

enum class Interface { kIde, kVirtio, kNone };
enum class Media { kDisk, kCdrom };
// QEMU's cache modes. Strobe never bypasses the host's page cache (none behaves as writeback, directsync as
// writethrough); what matters is whether the guest sees a volatile write cache and whether flushes happen.
enum class CacheMode { kWriteback, kWritethrough, kNone, kDirectSync, kUnsafe };
// detect-zeroes=: writes of nothing but zeros turned into zero writes (unmap: that may give space back).
enum class DetectZeroes { kOff, kOn, kUnmap };

struct DriveConfig {
  std::string option;  // the option as given ("-hda disk.img", "-drive file=d.img,if=virtio"), for messages
  std::string file;    // the image; empty only for a CD-ROM drive with no disc
  bool format_raw = false;    // format=raw given: no probing, so a qcow2 file is raw data like any other
  bool format_qcow2 = false;  // format=qcow2 (or -blockdev driver=qcow2): the image must be a qcow2 one
  // The controller the guest finds the drive on: IDE (PIIX4), virtio-blk (if=virtio, or if=none with
  // -device virtio-blk-pci,drive=ID), or none (an if=none drive no device uses).
  Interface interface = Interface::kIde;
  int bus = 0;   // IDE: 0 primary, 1 secondary channel; otherwise 0
  int unit = 0;  // IDE: 0 master, 1 slave; virtio and none: the drive's index
  Media media = Media::kDisk;
  bool read_only = false;  // readonly=on, or media=cdrom
  CacheMode cache = CacheMode::kWriteback;
  bool discard_unmap = false;  // discard=unmap|on: the guest's discards give space back (ignore|off: not)
  DetectZeroes detect_zeroes = DetectZeroes::kOff;
  bool snapshot = false;  // writes go to a temporary overlay (snapshot=on, -snapshot; never when read-only)
  std::string id;         // id=, or QEMU's default name: ide0-hd0, ide1-cd0, virtio0, none0
  std::string serial;     // serial= (IDENTIFY's serial number, virtio-blk's GET_ID); empty: the default
  int virtio_order = -1;  // virtio-blk: its place in QEMU's creation order (tools/strobe pci_order; -1 none)
  int devfn = -1;         // -device virtio-blk-pci,addr=: (slot << 3) | function; -1 the next free slot
  std::string device_option;  // the -device option that attached it (messages about its place)
  std::string device_id;      // -device virtio-blk-pci,id=ID
  bool auto_read_only =
      false;  // -blockdev auto-read-only=on: an image that cannot be written opens read-only

  int ide_index() const { return bus * 2 + unit; }  // -hda 0, -hdb 1, -hdc/-cdrom 2, -hdd 3
  // Whether the guest sees a volatile write cache (IDE WCE, VIRTIO_BLK_F_FLUSH/CONFIG_WCE).
  bool write_cache() const { return cache != CacheMode::kWritethrough && cache != CacheMode::kDirectSync; }
};

// Opens the drive's image as the guest will use it: a raw or qcow2 image (qcow2 when format=qcow2 says so or,
// without format=, when the file starts like one; read-only for readonly=on and CD-ROMs),
// under a snapshot overlay for snapshot=on, with the cache mode and detect-zeroes applied; when the format
// was probed, a guest write that would make sector 0 look like another format's header fails with EPERM
// (QEMU's rule, so that a guest cannot turn its raw disk into, say, a qcow2 image pointing at host files).
// *out is null for a drive with no image (a CD-ROM with no disc, an if=none drive no device uses). false with
// *error set (one line, "PATH: what is wrong") otherwise.
bool OpenDrive(const DriveConfig& drive, std::unique_ptr<BlockBackend>* out, std::string* error);

}  // namespace strobe::vmm::block
