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
            "readonly, cache, snapshot, id, aio)");
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
  EXPECT_EQ(Error({"-drive", "file=a,format=foo"}), "-drive file=a,format=foo: unknown format 'foo' (raw)");
  EXPECT_EQ(Error({"-drive", "file=a.qcow2,format=qcow2"}),
            "-drive file=a.qcow2,format=qcow2: format=qcow2 is not supported: Strobe reads raw images only: "
            "convert it with qemu-img convert -f qcow2 -O raw a.qcow2 disk.img");
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
            "-device virtio-blk-pci,drive=nope: no -drive has id=nope");
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
  EXPECT_EQ(Error({"-device", "virtio-blk-pci"}),
            "-device virtio-blk-pci: drive property not set (drive=ID of an -drive if=none,id=ID)");
  EXPECT_EQ(Error({"-device", "virtio-blk-pci,drive=d0,num-queues=4"}),
            "-device virtio-blk-pci,drive=d0,num-queues=4: unknown property 'num-queues' of virtio-blk-pci "
            "(drive, id, serial)");
  EXPECT_EQ(Error({"-device", "e1000,netdev=n0"}),
            "-device e1000,netdev=n0: NIC model 'e1000' is not emulated (pcnet or virtio-net-pci)");
  EXPECT_NE(Error({"-device", "ide-hd,drive=d0"}).find("attach disks with -drive if=ide"), std::string::npos);
  EXPECT_NE(Error({"-device", "sb16"}).find("'sb16' is not a valid device model name"), std::string::npos);
  tools::RunOptions o;
  std::string err;
  ASSERT_TRUE(tools::ParseRunOptions({"-device", "help"}, &o, &err)) << err;
  EXPECT_NE(o.info.find("virtio-blk-pci"), std::string::npos);
}

}  // namespace
}  // namespace strobe::test
