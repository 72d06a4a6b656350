// SPDX-License-Identifier: MIT
// The disk options as the parser resolves them (no file is opened here): QEMU's numbering, ids, -snapshot,
// virtio-blk devices, and one line for each thing that is wrong.
#include <gtest/gtest.h>

#include "tests/vmm/parse_run_options.h"
#include "tools/strobe/drive_options.h"

namespace strobe::test {
namespace {

using vmm::block::CacheMode;
using vmm::block::DriveConfig;
using vmm::block::Interface;
using vmm::block::Media;

std::vector<DriveConfig> Drives(std::vector<std::string> args) {
  return Parse(std::move(args)).drives;
}

TEST(DriveOptions, HdaToHddAndCdromAreIdeIndexZeroToThree) {
  auto d = Drives({"-hda", "a.img", "-hdb", "b.img", "-cdrom", "cd.iso", "-hdd", "d.img"});
  ASSERT_EQ(d.size(), 4u);
  const char* ids[] = {"ide0-hd0", "ide0-hd1", "ide1-cd0", "ide1-hd1"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(d[i].interface, Interface::kIde);
    EXPECT_EQ(d[i].ide_index(), i);
    EXPECT_EQ(d[i].id, ids[i]);
  }
  EXPECT_EQ(d[0].option, "-hda a.img");
  EXPECT_EQ(d[0].file, "a.img");
  EXPECT_EQ(d[0].media, Media::kDisk);
  EXPECT_FALSE(d[0].read_only);
  EXPECT_FALSE(d[0].format_raw);  // probed, as QEMU's -hda
  EXPECT_EQ(d[2].media, Media::kCdrom);
  EXPECT_TRUE(d[2].read_only);
  EXPECT_EQ(d[2].bus, 1);
  EXPECT_EQ(d[2].unit, 0);
}

TEST(DriveOptions, FileNamesKeepTheirCommas) {
  EXPECT_EQ(Drives({"-hda", "my,disk.img"})[0].file, "my,disk.img");  // -hda takes the name as it is
  EXPECT_EQ(Drives({"-drive", "file=my,,disk.img,format=raw"})[0].file, "my,disk.img");
  EXPECT_EQ(Drives({"-drive", "file=a.img,"})[0].file, "a.img");  // a trailing comma is nothing
}

// format=qcow2 and -blockdev driver=qcow2 (over a file node) name the format; nothing is probed then.
TEST(DriveOptions, Qcow2IsAFormat) {
  auto d = Drives({"-drive", "file=a.qcow2,format=qcow2,if=virtio", "-hda", "b.qcow2", "-blockdev",
                   "driver=qcow2,node-name=q,file.driver=file,file.filename=c.qcow2,read-only=on"});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_TRUE(d[0].format_qcow2);
  EXPECT_FALSE(d[0].format_raw);
  EXPECT_FALSE(d[1].format_qcow2);  // -hda: probed
  EXPECT_FALSE(d[1].format_raw);
  EXPECT_EQ(d[2].id, "q");
  EXPECT_EQ(d[2].file, "c.qcow2");
  EXPECT_TRUE(d[2].format_qcow2);
  EXPECT_FALSE(d[2].format_raw);
  EXPECT_TRUE(d[2].read_only);
  // The last format= counts, as QEMU takes it ("Image is not in qcow2 format" for a raw file so named).
  auto last =
      Drives({"-drive", "file=a,format=raw,format=qcow2", "-drive", "file=b,format=qcow2,format=raw"});
  EXPECT_TRUE(last[0].format_qcow2 && !last[0].format_raw);
  EXPECT_TRUE(last[1].format_raw && !last[1].format_qcow2);
}

TEST(DriveOptions, DriveKeys) {
  auto d = Drives({"-drive", "file=v.img,format=raw,if=virtio,cache=writethrough,id=root,aio=threads",
                   "-drive", "file=c.iso,media=cdrom,index=3", "-drive", "file=n.img,if=none,readonly=on"});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].interface, Interface::kVirtio);
  EXPECT_TRUE(d[0].format_raw);
  EXPECT_EQ(d[0].cache, CacheMode::kWritethrough);
  EXPECT_FALSE(d[0].write_cache());
  EXPECT_EQ(d[0].id, "root");
  EXPECT_EQ(d[0].virtio_order, tools::pci_order::kIfVirtio);  // the first disk if=virtio adds
  EXPECT_EQ(d[1].ide_index(), 3);
  EXPECT_EQ(d[1].id, "ide1-cd1");
  EXPECT_TRUE(d[1].read_only);
  EXPECT_EQ(d[2].interface, Interface::kNone);
  EXPECT_EQ(d[2].id, "none0");
  EXPECT_TRUE(d[2].read_only);
  EXPECT_EQ(Drives({"-drive", "file=a,if=virtio"})[0].id, "virtio0");
  for (auto [name, mode] : {std::pair{"writeback", CacheMode::kWriteback},
                            {"none", CacheMode::kNone},
                            {"off", CacheMode::kNone},
                            {"directsync", CacheMode::kDirectSync},
                            {"unsafe", CacheMode::kUnsafe}})
    EXPECT_EQ(Drives({"-drive", std::string("file=a,cache=") + name})[0].cache, mode) << name;
  EXPECT_TRUE(Drives({"-drive", "file=a,if=virtio,readonly"})[0].read_only);  // a bare boolean is on
}

TEST(DriveOptions, DrivesWithoutAnIndexTakeTheNextFreePlace) {
  auto d = Drives({"-hda", "a", "-drive", "file=b", "-drive", "file=c,bus=1", "-drive", "file=d"});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[1].ide_index(), 1);
  EXPECT_EQ(d[2].ide_index(), 2);
  EXPECT_EQ(d[3].ide_index(), 3);
  auto v = Drives({"-drive", "file=a,if=virtio,index=1", "-drive", "file=b,if=virtio"});
  EXPECT_EQ(v[0].unit, 1);
  EXPECT_EQ(v[1].unit, 0);
}

TEST(DriveOptions, IndexConflictsAsInQemu) {
  // QEMU numbers drives in command-line order, so a -drive without index takes 0 before -hda asks for it.
  EXPECT_EQ(Error({"-drive", "file=a", "-hda", "b"}), "-hda b: drive with bus=0, unit=0 (index=0) exists");
  EXPECT_EQ(Error({"-hdc", "a", "-cdrom", "b"}), "-cdrom b: drive with bus=1, unit=0 (index=2) exists");
  EXPECT_EQ(Error({"-drive", "file=a,if=virtio,index=0", "-drive", "file=b,if=virtio,index=0"}),
            "-drive file=b,if=virtio,index=0: drive with bus=0, unit=0 (index=0) exists");
  EXPECT_EQ(Error({"-drive", "file=a,index=1,unit=1"}),
            "-drive file=a,index=1,unit=1: index cannot be used with bus and unit");
  EXPECT_EQ(Error({"-drive", "file=a,unit=2"}), "-drive file=a,unit=2: unit 2 too big (max is 1)");
  EXPECT_EQ(Error({"-drive", "file=a,index=4"}),
            "-drive file=a,index=4: Malta has no if=ide,bus=2,unit=0 (IDE index 0-3: bus 0-1, unit 0-1)");
  EXPECT_NE(
      Error({"-hda", "a", "-hdb", "b", "-hdc", "c", "-hdd", "d", "-drive", "file=e"}).find("no if=ide,bus=2"),
      std::string::npos);
  EXPECT_EQ(Error({"-drive", "file=a,id=x", "-drive", "file=b,id=x"}),
            "-drive file=b,id=x: Duplicate ID 'x' for drive");
}

TEST(DriveOptions, UnknownKeysAndValuesAreNamed) {
  EXPECT_EQ(Error({"-drive", "file=a,colour=red"}),
            "-drive file=a,colour=red: unknown key 'colour' (file, format, if, index, bus, unit, media, "
            "readonly, cache, snapshot, id, aio, discard, detect-zeroes)");
  EXPECT_EQ(Error({"-drive", "disk.img"}),
            "-drive disk.img: unknown key 'disk.img' (did you mean file=disk.img?)");
  EXPECT_EQ(Error({"-drive", "file=a,if=usb"}),
            "-drive file=a,if=usb: unsupported bus type 'usb' (ide, virtio or none)");
  EXPECT_EQ(Error({"-drive", "file=a,if=scsi"}),
            "-drive file=a,if=scsi: if=scsi is not available on Malta (ide, virtio or none)");
  EXPECT_EQ(Error({"-drive", "file=a,media=tape"}),
            "-drive file=a,media=tape: 'tape' invalid media (disk or cdrom)");
  EXPECT_NE(Error({"-drive", "file=a,cache=sometimes"}).find("invalid cache option 'sometimes'"),
            std::string::npos);
  EXPECT_EQ(Error({"-drive", "file=a,readonly=maybe"}),
            "-drive file=a,readonly=maybe: 'readonly' expects on or off, not 'maybe'");
  EXPECT_NE(Error({"-drive", "file=a,snapshot=2"}).find("'snapshot' expects on or off"), std::string::npos);
  EXPECT_EQ(Error({"-drive", "file=a,index=x"}), "-drive file=a,index=x: 'index' expects a number, not 'x'");
  EXPECT_NE(Error({"-drive", "file=a,id=1x"}).find("id '1x' is not an identifier"), std::string::npos);
  EXPECT_NE(Error({"-drive", "file=a,aio=fast"}).find("invalid aio option 'fast'"), std::string::npos);
  EXPECT_NE(Error({"-drive", "file=a,serial=S1"}).find("unknown key 'serial'"),
            std::string::npos);  // as QEMU 7
  EXPECT_EQ(Error({"-drive", "file=a,format=foo"}),
            "-drive file=a,format=foo: unknown format 'foo' (raw or qcow2)");
  EXPECT_EQ(Error({"-drive", "file=a.vmdk,format=vmdk"}),
            "-drive file=a.vmdk,format=vmdk: format=vmdk is not supported: Strobe reads raw and qcow2 images "
            "only: convert it with qemu-img convert -f vmdk -O raw a.vmdk disk.img");
  EXPECT_EQ(Error({"-hda"}), "option -hda needs a value");
}

TEST(DriveOptions, ReadOnlyIdeDisksAndEmptyDisksAreRefused) {
  EXPECT_NE(Error({"-drive", "file=a,readonly=on"}).find("an IDE hard disk cannot be read-only"),
            std::string::npos);
  EXPECT_EQ(Error({"-drive", "if=virtio"}), "-drive if=virtio: a disk needs an image (file=)");
  EXPECT_EQ(Error({"-drive", "if=ide"}), "-drive if=ide: a disk needs an image (file=)");
  auto cd = Drives({"-drive", "media=cdrom"});  // a CD-ROM drive with no disc
  ASSERT_EQ(cd.size(), 1u);
  EXPECT_TRUE(cd[0].file.empty());
  EXPECT_EQ(Drives({"-drive", "if=none,id=spare"}).size(), 1u);  // for a device that never comes
}

TEST(DriveOptions, SnapshotAppliesToEveryDriveThatDoesNotSayOtherwise) {
  auto d = Drives({"-hda", "a", "-drive", "file=b,snapshot=off", "-cdrom", "c", "-snapshot", "-drive",
                   "file=v,if=virtio,readonly=on"});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_TRUE(d[0].snapshot);
  EXPECT_FALSE(d[1].snapshot);
  EXPECT_FALSE(d[2].snapshot);  // read-only: nothing to keep apart
  EXPECT_FALSE(d[3].snapshot);
  EXPECT_TRUE(Drives({"-drive", "file=a,snapshot=on"})[0].snapshot);
  EXPECT_FALSE(Drives({"-hda", "a"})[0].snapshot);
  tools::RunOptions o;
  std::string err;
  ASSERT_TRUE(tools::ParseRunOptions({"-snapshot"}, &o, &err)) << err;  // no drives: accepted, as QEMU
  EXPECT_TRUE(o.snapshot);
  EXPECT_TRUE(o.drives.empty());
}

TEST(DriveOptions, VirtioBlkDevicesTakeIfNoneDrives) {
  auto d = Drives({"-drive", "file=a,if=virtio", "-device", "virtio-blk-pci,drive=d1,id=vd1,serial=SN1",
                   "-drive", "file=b,if=none,id=d1,format=raw", "-device", "virtio-blk,drive=d2", "-drive",
                   "file=c,if=none,id=d2"});
  ASSERT_EQ(d.size(), 3u);
  // QEMU creates the -device ones first, then those if=virtio adds: that is their PCI order.
  EXPECT_EQ(d[1].interface, Interface::kVirtio);
  EXPECT_LT(d[1].virtio_order, d[2].virtio_order);
  EXPECT_EQ(d[1].device_id, "vd1");
  EXPECT_EQ(d[1].serial, "SN1");
  EXPECT_LT(d[2].virtio_order, d[0].virtio_order);
  EXPECT_EQ(d[0].interface, Interface::kVirtio);
}

TEST(DriveOptions, DeviceMistakes) {
  EXPECT_EQ(Error({"-device", "virtio-blk-pci,drive=nope"}),
            "-device virtio-blk-pci,drive=nope: no -drive (id=) or -blockdev (node-name=) is named 'nope'");
  EXPECT_EQ(Error({"-drive", "file=a,id=d0", "-device", "virtio-blk-pci,drive=d0"}),
            "-device virtio-blk-pci,drive=d0: Drive 'd0' is already in use because it has been automatically "
            "connected to another device (did you need 'if=none' in the drive options?)");
  EXPECT_EQ(Error({"-drive", "file=a,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0", "-device",
                   "virtio-blk-pci,drive=d0"}),
            "-device virtio-blk-pci,drive=d0: Drive 'd0' is already in use by another device");
  std::vector<std::string> fifteen;
  for (int i = 0; i < 15; ++i)
    fifteen.insert(fifteen.end(), {"-drive", "file=v" + std::to_string(i) + ",if=virtio"});
  EXPECT_EQ(
      Error(fifteen),
      "-drive file=v14,if=virtio: no free PCI slot (the Malta's bus takes 14 virtio disks, slots 0x12-0x1f)");
  fifteen.resize(28);
  EXPECT_EQ(Drives(fifteen).size(), 14u);
  EXPECT_EQ(
      Error({"-device", "virtio-blk-pci"}),
      "-device virtio-blk-pci: drive property not set (drive=ID of an -drive if=none,id=ID or a -blockdev "
      "node-name=ID)");
  EXPECT_EQ(Error({"-device", "virtio-blk-pci,drive=d0,num-queues=4"}),
            "-device virtio-blk-pci,drive=d0,num-queues=4: unknown property 'num-queues' of virtio-blk-pci "
            "(drive, bus, addr, id, serial, write-cache, bootindex)");
  EXPECT_EQ(Error({"-device", "e1000,netdev=n0"}),
            "-device e1000,netdev=n0: NIC model 'e1000' is not emulated (pcnet or virtio-net-pci)");
  EXPECT_NE(Error({"-device", "scsi-hd,drive=d0"}).find("attach disks with -device ide-hd, ide-cd or virtio"),
            std::string::npos);
  EXPECT_NE(Error({"-device", "sb16"}).find("'sb16' is not a valid device model name"), std::string::npos);
  tools::RunOptions o;
  std::string err;
  ASSERT_TRUE(tools::ParseRunOptions({"-device", "help"}, &o, &err)) << err;
  EXPECT_NE(o.info.find("virtio-blk-pci"), std::string::npos);
  EXPECT_NE(o.info.find("ide-hd"), std::string::npos);
}

TEST(DriveOptions, IdeDevicesTakeThePlacesIfIdeDrivesLeft) {
  auto d = Drives({"-drive", "file=a,if=none,id=d0", "-device", "ide-hd,drive=d0,serial=S0,id=disk0", "-hda",
                   "h", "-device", "ide-cd", "-drive", "file=c,if=none,id=c0,media=cdrom", "-device",
                   "ide-cd,drive=c0,bus=ide.0,unit=1"});
  ASSERT_EQ(d.size(), 4u);
  // -hda keeps index 0 (the board makes its drives first); the devices take free places as QEMU 7.2 does
  // (info qtree): the secondary channel first, then the primary, each from unit 0.
  EXPECT_EQ(d[1].ide_index(), 0);
  EXPECT_EQ(d[0].interface, Interface::kIde);
  EXPECT_EQ(d[0].ide_index(), 2);
  EXPECT_EQ(d[0].id, "d0");
  EXPECT_EQ(d[0].device_id, "disk0");
  EXPECT_EQ(d[0].serial, "S0");
  EXPECT_EQ(d[0].media, Media::kDisk);
  EXPECT_EQ(d[3].ide_index(), 3);  // the empty ide-cd: a CD-ROM drive with no disc
  EXPECT_EQ(d[3].media, Media::kCdrom);
  EXPECT_TRUE(d[3].file.empty());
  EXPECT_EQ(d[3].id, "ide1-cd1");
  EXPECT_EQ(Error({"-drive", "file=x,if=none,id=ide1-cd0", "-device", "ide-cd"}),
            "-device ide-cd: Duplicate ID 'ide1-cd0' for drive (an -drive has it)");
  EXPECT_EQ(d[2].ide_index(), 1);  // explicit: bus=ide.0,unit=1
  EXPECT_TRUE(d[2].read_only);
  auto two = Drives({"-device", "ide-cd", "-device", "ide-cd", "-device", "ide-cd"});
  ASSERT_EQ(two.size(), 3u);
  EXPECT_EQ(two[0].ide_index(), 2);
  EXPECT_EQ(two[1].ide_index(), 3);
  EXPECT_EQ(two[2].ide_index(), 0);
  auto ro = Drives(
      {"-hdd", "x", "-drive", "file=r,if=none,id=r0,readonly=on", "-device", "ide-cd,drive=r0,unit=1"});
  EXPECT_EQ(ro[1].ide_index(), 1);  // unit=1 alone: the first bus, in QEMU's order, with that unit free
  EXPECT_EQ(ro[1].media, Media::kCdrom);
  EXPECT_EQ(Error({"-drive", "file=r,if=none,id=r0,readonly=on", "-device", "ide-hd,drive=r0"}),
            "-device ide-hd,drive=r0: Block node is read-only");
  EXPECT_EQ(
      Error({"-hda", "a", "-drive", "file=b,if=none,id=b0", "-device", "ide-hd,drive=b0,bus=ide.0,unit=0"}),
      "-device ide-hd,drive=b0,bus=ide.0,unit=0: IDE unit 0 is in use");
  EXPECT_EQ(
      Error({"-hda", "a", "-hdb", "b", "-drive", "file=c,if=none,id=c0", "-device",
             "ide-hd,drive=c0,bus=ide.0"}),
      "-device ide-hd,drive=c0,bus=ide.0: no free IDE place on bus ide.0 (the PIIX4 has two channels, ide.0 "
      "and ide.1, of two drives each)");
  EXPECT_EQ(Error({"-device", "ide-hd,drive=x,bus=ide.2"}),
            "-device ide-hd,drive=x,bus=ide.2: Bus 'ide.2' not found (ide.0 or ide.1)");
  EXPECT_EQ(Error({"-device", "ide-hd,drive=x,unit=2"}),
            "-device ide-hd,drive=x,unit=2: unit '2' is not 0 or 1 (master or slave)");
  EXPECT_EQ(Error({"-device", "ide-hd"}),
            "-device ide-hd: drive property not set (drive=ID of an -drive if=none,id=ID or a -blockdev "
            "node-name=ID)");
  EXPECT_EQ(Error({"-drive", "file=c,if=none,id=c0,media=cdrom", "-device", "ide-hd,drive=c0"}),
            "-device ide-hd,drive=c0: Drive 'c0' is a CD-ROM (media=cdrom): use -device ide-cd");
  EXPECT_EQ(
      Error({"-drive", "file=a,id=a0", "-device", "ide-hd,drive=a0"}),
      "-device ide-hd,drive=a0: Drive 'a0' is already in use because it has been automatically connected "
      "to another device (did you need 'if=none' in the drive options?)");
  EXPECT_EQ(Error({"-device", "ide-hd,drive=x,lba=on"}),
            "-device ide-hd,drive=x,lba=on: unknown property 'lba' of ide-hd (drive, bus, unit, id, serial, "
            "write-cache, bootindex)");
}

TEST(DriveOptions, BootindexIsAcceptedWithoutEffectAndDiscardSaysUnmap) {
  // Malta boots -kernel, not through firmware that reads boot orders.
  auto d = Drives({"-drive", "file=a,if=none,id=a,discard=unmap", "-device",
                   "virtio-blk-pci,drive=a,bootindex=1,bus=pci", "-drive", "file=b,if=virtio,discard=on",
                   "-drive", "file=c,if=virtio,discard=ignore", "-drive", "file=e,if=virtio"});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].interface, Interface::kVirtio);
  EXPECT_TRUE(d[0].discard_unmap);
  EXPECT_TRUE(d[1].discard_unmap);
  EXPECT_FALSE(d[2].discard_unmap);
  EXPECT_FALSE(d[3].discard_unmap);  // QEMU's default: ignore
  // detect-zeroes, with QEMU 7.2's refusals (-blockdev refuses unmap without discard=unmap, -drive not).
  auto z = Drives({"-drive", "file=a,if=virtio,detect-zeroes=on", "-drive",
                   "file=b,if=virtio,detect-zeroes=unmap", "-drive", "file=c,if=virtio,detect-zeroes=off"});
  ASSERT_EQ(z.size(), 3u);
  EXPECT_EQ(z[0].detect_zeroes, vmm::block::DetectZeroes::kOn);
  EXPECT_EQ(z[1].detect_zeroes, vmm::block::DetectZeroes::kUnmap);
  EXPECT_EQ(z[2].detect_zeroes, vmm::block::DetectZeroes::kOff);
  EXPECT_EQ(Error({"-drive", "file=a,detect-zeroes=foo"}),
            "-drive file=a,detect-zeroes=foo: invalid parameter value: foo");
  EXPECT_EQ(
      Error({"-blockdev", "driver=file,filename=a,node-name=f,detect-zeroes=unmap"}),
      "-blockdev driver=file,filename=a,node-name=f,detect-zeroes=unmap: setting detect-zeroes to unmap is "
      "not allowed without setting discard operation to unmap");
  EXPECT_EQ(
      Error({"-blockdev", "driver=file,filename=a,node-name=f,detect-zeroes=bar"}),
      "-blockdev driver=file,filename=a,node-name=f,detect-zeroes=bar: Parameter 'detect-zeroes' does not "
      "accept value 'bar'");
  auto n = Drives({"-blockdev", "driver=file,filename=a,node-name=f,discard=unmap,detect-zeroes=unmap"});
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].detect_zeroes, vmm::block::DetectZeroes::kUnmap);
  EXPECT_EQ(Error({"-device", "virtio-blk-pci,drive=a,bus=pci.0"}),
            "-device virtio-blk-pci,drive=a,bus=pci.0: Bus 'pci.0' not found (pci)");
  EXPECT_NE(Error({"-device", "ide-hd,drive=a,bootindex=first"}).find("bootindex expects a number"),
            std::string::npos);
  EXPECT_NE(Error({"-drive", "file=a,discard=sometimes"}).find("invalid discard option 'sometimes'"),
            std::string::npos);
  Parse({"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,bootindex=2"});
}

TEST(DriveOptions, WriteCacheOfADeviceSetsTheDrivesCacheMode) {
  auto d =
      Drives({"-drive", "file=a,if=none,id=a", "-device", "virtio-blk-pci,drive=a,write-cache=off", "-drive",
              "file=b,if=none,id=b,cache=none", "-device", "virtio-blk-pci,drive=b,write-cache=off", "-drive",
              "file=c,if=none,id=c,cache=writethrough", "-device", "ide-hd,drive=c,write-cache=on", "-drive",
              "file=e,if=none,id=e,cache=unsafe", "-device", "ide-hd,drive=e,write-cache=auto"});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].cache, CacheMode::kWritethrough);
  EXPECT_EQ(d[1].cache, CacheMode::kDirectSync);
  EXPECT_EQ(d[2].cache, CacheMode::kWriteback);
  EXPECT_EQ(d[3].cache, CacheMode::kUnsafe);
  EXPECT_EQ(Error({"-device", "ide-hd,drive=x,write-cache=maybe"}),
            "-device ide-hd,drive=x,write-cache=maybe: write-cache expects on, off or auto, not 'maybe'");
}

TEST(DriveOptions, BlockdevNodesAreDrivesNamedByTheirNodeName) {
  // libvirt's spelling: a JSON file node, a raw node over it, the device on the raw node.
  auto d =
      Drives({"-snapshot", "-blockdev",
              R"({"driver":"file","filename":"/img/a.img","node-name":"storage1","auto-read-only":true,)"
              R"("discard":"unmap","cache":{"direct":true,"no-flush":false}})",
              "-blockdev", R"({"node-name":"format1","read-only":false,"driver":"raw","file":"storage1"})",
              "-device", "virtio-blk-pci,drive=format1,id=virtio-disk0"});
  ASSERT_EQ(d.size(), 1u);  // the file node belongs to the raw one: not a drive of its own
  EXPECT_EQ(d[0].id, "format1");
  EXPECT_EQ(d[0].file, "/img/a.img");
  EXPECT_EQ(d[0].option.rfind("-blockdev {\"node-name\":\"format1\"", 0), 0u);
  EXPECT_EQ(d[0].interface, Interface::kVirtio);
  EXPECT_EQ(d[0].device_id, "virtio-disk0");
  EXPECT_TRUE(d[0].format_raw);  // a node says its format: nothing is probed
  EXPECT_FALSE(d[0].format_qcow2);
  EXPECT_TRUE(d[0].discard_unmap);          // the file node's discard=unmap
  EXPECT_EQ(d[0].cache, CacheMode::kNone);  // cache.direct=on
  EXPECT_FALSE(d[0].snapshot);              // -snapshot is for -drive only, as in QEMU
  EXPECT_FALSE(d[0].read_only);
  // The KEY=VALUE spelling with the file inline; a node no device uses is an if=none drive.
  auto k = Drives({"-blockdev",
                   "driver=raw,node-name=d0,file.driver=file,file.filename=x,,y.img,read-only=on,"
                   "cache.no-flush=on",
                   "-blockdev", "driver=file,node-name=spare,filename=s.img,locking=on,aio=native"});
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].file, "x,y.img");
  EXPECT_TRUE(k[0].read_only);
  EXPECT_EQ(k[0].cache, CacheMode::kUnsafe);
  EXPECT_EQ(k[0].interface, Interface::kNone);
  EXPECT_EQ(k[1].id, "spare");
  EXPECT_EQ(k[1].interface, Interface::kNone);
  // A file node straight on a device (QEMU takes a protocol node as raw data); read-only at either level.
  auto f = Drives({"-blockdev", "driver=file,node-name=f,filename=f.img,read-only=on", "-blockdev",
                   "driver=raw,node-name=r,file=f", "-device", "ide-cd,drive=r"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].read_only);
  EXPECT_EQ(f[0].media, Media::kCdrom);
}

TEST(DriveOptions, BlockdevMistakesAreNamed) {
  EXPECT_EQ(Error({"-blockdev", "node-name=n,filename=a"}),
            "-blockdev node-name=n,filename=a: Parameter 'driver' is missing");
  EXPECT_EQ(Error({"-blockdev", "driver=file,filename=a"}),
            "-blockdev driver=file,filename=a: 'node-name' must be specified for the root node");
  EXPECT_EQ(Error({"-blockdev", "driver=file,node-name=n"}),
            "-blockdev driver=file,node-name=n: Parameter 'filename' is missing");
  EXPECT_NE(Error({"-blockdev", "driver=file,node-name=1n,filename=a"}).find("Invalid node-name: '1n'"),
            std::string::npos);
  EXPECT_EQ(
      Error({"-blockdev", "driver=raw,node-name=n,file.driver=file,file.filename=a.qcow2,file.x=1"}),
      "-blockdev driver=raw,node-name=n,file.driver=file,file.filename=a.qcow2,file.x=1: unknown key 'x' of "
      "driver=file (driver, node-name, filename, read-only, auto-read-only, cache.direct, cache.no-flush, "
      "discard, detect-zeroes, locking, aio)");
  EXPECT_EQ(
      Error({"-blockdev", "driver=vmdk,node-name=q,file.driver=file,file.filename=a.vmdk"}),
      "-blockdev driver=vmdk,node-name=q,file.driver=file,file.filename=a.vmdk: driver=vmdk is not "
      "supported: Strobe reads raw and qcow2 images only: convert it with qemu-img convert -f vmdk -O raw "
      "a.vmdk disk.img");
  EXPECT_NE(Error({"-blockdev", "driver=nbd,node-name=n"}).find("driver 'nbd' is not supported"),
            std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=host_device,node-name=n,filename=/dev/sda"}).find("are image files"),
            std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=raw,node-name=n"}).find("Parameter 'file' is missing"),
            std::string::npos);
  EXPECT_NE(
      Error({"-blockdev", "driver=raw,node-name=n,file.driver=file"}).find("Parameter 'filename' is missing"),
      std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=file,node-name=n,filename=a,filename=b"})
                .find("key 'filename' is given twice"),
            std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=file,node-name=n,filename=a,read-only=sure"})
                .find("'read-only' expects on or off, not 'sure'"),
            std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=file,node-name=n,filename=a,locking=off"}).find("always locks"),
            std::string::npos);
  EXPECT_NE(
      Error({"-blockdev", "driver=file,node-name=n,filename=a,detect-zeroes=unmap"})
          .find("setting detect-zeroes to unmap is not allowed without setting discard operation to unmap"),
      std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=file,node-name=n,filename"}).find("key 'filename' needs a value"),
            std::string::npos);
  EXPECT_NE(Error({"-blockdev", "{\"driver\": \"file\""}).find("-blockdev {\"driver\": \"file\": "),
            std::string::npos);
  EXPECT_NE(Error({"-blockdev", "[1]"}).find("key '[1]' needs a value"), std::string::npos);  // JSON is '{'
  EXPECT_NE(
      Error({"-blockdev", R"({"driver":"file","node-name":"n","filename":null})"}).find("cannot be null"),
      std::string::npos);
  EXPECT_NE(Error({"-blockdev", "driver=raw,node-name=n,file=f,file.driver=file"}).find("one or the other"),
            std::string::npos);
  // The graph: names once, children defined before and used once, devices on roots only.
  EXPECT_EQ(Error({"-blockdev", "driver=file,node-name=n,filename=a", "-blockdev",
                   "driver=file,node-name=n,filename=b"}),
            "-blockdev driver=file,node-name=n,filename=b: Duplicate nodes with node-name='n'");
  EXPECT_EQ(Error({"-drive", "file=a,if=none,id=n", "-blockdev", "driver=file,node-name=n,filename=b"}),
            "-blockdev driver=file,node-name=n,filename=b: node-name=n is conflicting with a device id");
  EXPECT_EQ(Error({"-blockdev", "driver=raw,node-name=r,file=f", "-blockdev",
                   "driver=file,node-name=f,filename=a"}),
            "-blockdev driver=raw,node-name=r,file=f: Cannot find device='' nor node-name='f'");
  EXPECT_EQ(Error({"-blockdev", "driver=file,node-name=f,filename=a", "-blockdev",
                   "driver=raw,node-name=r,file=f", "-blockdev", "driver=raw,node-name=s,file=f"}),
            "-blockdev driver=raw,node-name=s,file=f: node 'f' is already the file of node 'r'");
  EXPECT_EQ(Error({"-blockdev", "driver=file,node-name=f,filename=a", "-blockdev",
                   "driver=raw,node-name=r,file=f", "-device", "virtio-blk-pci,drive=f"}),
            "-device virtio-blk-pci,drive=f: node 'f' is already in use as the file of node 'r'");
  EXPECT_EQ(Error({"-blockdev", "driver=file,node-name=f,filename=a", "-device", "virtio-blk-pci,drive=f",
                   "-device", "ide-hd,drive=f"}),
            "-device ide-hd,drive=f: Drive 'f' is already in use by another device");
}

}  // namespace
}  // namespace strobe::test
