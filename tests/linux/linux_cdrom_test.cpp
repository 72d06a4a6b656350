// SPDX-License-Identifier: MIT
// Debian's kernel with the ATAPI CD-ROM drive on the PIIX4 (ata_piix, libata's ATAPI, sr_mod and cdrom
// loaded by rcS from the SCSI device's modalias, isofs on mount): an ISO 9660 image made on the host with
// xorriso is /dev/sr0, read-only, of the image's size; a file on it has the host's sha256. Alone (-cdrom)
// under the default engine with DMA, beside a hard disk (index 0 and 2) with an empty drive as the
// secondary slave under the interpreter with PIO (libata.dma=0). The host changes the disc through QMP and
// HMP while the guest runs (QEMU 7.2's commands, errors and DEVICE_TRAY_MOVED events): the guest's lock,
// forced changes, eject, and the guest closing the tray itself.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/linux/linux_disk.h"
#include "tests/linux/linux_session.h"
#include "tests/monitor/monitor_client.h"
#include "tests/support/console_session.h"
#include "tests/support/process.h"

namespace strobe::test {
namespace {

class LinuxCdrom : public LinuxDisk {
 protected:
  // An ISO 9660 image (Rock Ridge and Joliet) of dir_/files: data.bin (300,000 random bytes) and
  // sub/hello.txt. Its size is not a multiple of 2048's powers: the drive must report it exactly.
  void MakeIso(const std::string& iso) {
    ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", dir_ + "/files/sub"}).exit_code, 0);
    WriteFile(dir_ + "/files/data.bin", RandomBytes(300000, 5));
    WriteFile(dir_ + "/files/sub/hello.txt", "hello from the cd\n");
    data_sha_ = Sha256(dir_ + "/files/data.bin");
    ProcessResult mk = RunProcess(
        {"/bin/sh", "-c", "xorriso -as mkisofs -quiet -R -J -V STROBECD -o " + iso + " " + dir_ + "/files"});
    ASSERT_EQ(mk.exit_code, 0) << "xorriso (tools/setup-deps.sh installs it): " << mk.err;
  }
  // What the guest sees on /dev/DEV: the size, read-only, the files of the disc, no writes.
  void CheckDisc(ConsoleSession& s, const std::string& dev, const std::string& iso) {
    EXPECT_EQ(Shell(s, "blockdev --getsize64 /dev/" + dev), std::to_string(ReadFile(iso).size()) + "\n");
    EXPECT_EQ(Shell(s, "blockdev --getro /dev/" + dev), "1\n");
    EXPECT_EQ(Shell(s, "blockdev --getss /dev/" + dev), "2048\n");
    EXPECT_EQ(Shell(s, "sha256sum /dev/" + dev).substr(0, 64), Sha256(iso));
    EXPECT_EQ(Shell(s, "mkdir -p /mnt/cd && mount -t iso9660 /dev/" + dev + " /mnt/cd && echo mounted"),
              "mounted\n");
    EXPECT_EQ(Shell(s, "sha256sum /mnt/cd/data.bin").substr(0, 64), data_sha_);
    EXPECT_EQ(Shell(s, "cat /mnt/cd/sub/hello.txt"), "hello from the cd\n");
    EXPECT_EQ(Shell(s, "touch /mnt/cd/new 2>&1; echo $?"), "touch: /mnt/cd/new: Read-only file system\n1\n");
    EXPECT_EQ(Shell(s, "dd if=/dev/zero of=/dev/" + dev + " bs=2048 count=1 2>&1; echo $?"),
              "dd: can't open '/dev/" + dev + "': Read-only file system\n1\n");
    EXPECT_EQ(Shell(s, "umount /mnt/cd && echo unmounted"), "unmounted\n");
  }
  void PowerOff(ConsoleSession& s) {
    s.Send("poweroff\n");
    EXPECT_TRUE(s.Expect("reboot: Power down", 60)) << s.output();
    EXPECT_EQ(s.Wait(60), 0) << s.output();
  }

  std::string data_sha_;
};

TEST_F(LinuxCdrom, MountsAnIsoImageFromCdrom) {
  const std::string iso = dir_ + "/cd.iso";
  MakeIso(iso);
  if (HasFatalFailure()) return;
  auto s = Boot({"-cdrom", iso});
  EXPECT_NE(boot_log_.find("ata2.00: ATAPI: STROBE DVD-ROM, 1.0, max UDMA/100"), std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("CD-ROM            STROBE   STROBE DVD-ROM   1.0  PQ: 0 ANSI: 5"),
            std::string::npos)
      << boot_log_;
  EXPECT_NE(boot_log_.find("[sr0] scsi3-mmc drive: 4x/4x cd/rw xa/form2 tray"), std::string::npos)
      << boot_log_;
  // sr_mod was loaded by rcS, so the drive is /dev/sr0 at the prompt (the message is KERN_DEBUG: dmesg).
  EXPECT_EQ(Shell(*s, "dmesg | grep -o 'Attached scsi CD-ROM sr0'"), "Attached scsi CD-ROM sr0\n");
  EXPECT_EQ(Shell(*s, "cat /sys/class/ata_device/dev2.0/xfer_mode"), "XFER_UDMA_2\n");
  CheckDisc(*s, "sr0", iso);
  PowerOff(*s);
}

TEST_F(LinuxCdrom, BesideAHardDiskWithAnEmptyDriveUnderTheInterpreterWithPio) {
  const std::string iso = dir_ + "/cd.iso", disk = dir_ + "/disk.img";
  MakeIso(iso);
  if (HasFatalFailure()) return;
  WriteFile(disk, RandomBytes(1u << 20, 6));
  auto s = Boot({"--engine", "interp", "-append", "console=ttyS0 libata.dma=0", "-hda", disk, "-drive",
                 "file=" + iso + ",if=ide,media=cdrom,index=2", "-drive", "if=ide,media=cdrom,index=3"});
  EXPECT_NE(boot_log_.find("ata2.01: ATAPI: STROBE DVD-ROM, 1.0"), std::string::npos) << boot_log_;
  EXPECT_EQ(Shell(*s, "cat /sys/class/ata_device/dev2.0/xfer_mode"), "XFER_PIO_4\n");
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sda").substr(0, 64), Sha256(disk));
  CheckDisc(*s, "sr0", iso);
  // The empty drive (secondary slave) is sr1, with no medium, as QEMU's.
  EXPECT_EQ(Shell(*s, "blockdev --getsize64 /dev/sr1 2>&1"),
            "blockdev: can't open '/dev/sr1': No medium found\n");
  PowerOff(*s);
}

// A small ISO 9660 disc with one file, `name`.txt holding `text`, and `pad` random bytes beside it (so that
// discs differ in size).
std::string MakeDisc(const std::string& dir, const std::string& name, const std::string& text, size_t pad) {
  const std::string files = dir + "/" + name;
  EXPECT_EQ(RunProcess({"/bin/mkdir", "-p", files}).exit_code, 0);
  WriteFile(files + "/" + name + ".txt", text);
  WriteFile(files + "/pad.bin", RandomBytes(pad, static_cast<unsigned>(pad)));
  const std::string iso = dir + "/" + name + ".iso";
  ProcessResult mk =
      RunProcess({"/bin/sh", "-c", "xorriso -as mkisofs -quiet -R -V " + name + " -o " + iso + " " + files});
  EXPECT_EQ(mk.exit_code, 0) << mk.err;
  return iso;
}

// The next QMP line that is not an event (events before it are appended to *events).
std::string Reply(MonitorClient& qmp, std::vector<std::string>* events) {
  for (;;) {
    const std::string l = qmp.Line();
    if (l.empty() || l.find("\"event\"") == std::string::npos) return l;
    events->push_back(l);
  }
}

std::string TrayEvent(bool open) {
  return std::string(
             "\"event\": \"DEVICE_TRAY_MOVED\", \"data\": {\"device\": \"ide1-cd0\", \"tray-open\": ") +
         (open ? "true" : "false") + ", \"id\": \"/machine/piix4-ide/ide.1/unit.0\"}}";
}

TEST_F(LinuxCdrom, TheHostChangesTheDiscWhileTheGuestRuns) {
  const std::string a = MakeDisc(dir_, "a", "hello from disc a\n", 100000);
  const std::string b = MakeDisc(dir_, "b", "hello from disc b\n", 300000);
  if (HasFatalFailure()) return;
  const std::string sock = dir_ + "/qmp.sock";
  auto s = Boot({"-cdrom", a, "-qmp", "unix:" + sock + ",server,nowait"});
  MonitorClient qmp;
  ASSERT_TRUE(qmp.ConnectUnix(sock));
  qmp.Line();
  qmp.Send("{\"execute\": \"qmp_capabilities\"}\n");
  ASSERT_EQ(qmp.Line(), "{\"return\": {}}");
  std::vector<std::string> events;
  auto hmp = [&](const std::string& line) {  // the reply; the events before it go to `events`
    qmp.Send("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"" + line +
             "\"}}\n");
    return Reply(qmp, &events);
  };

  // Mounted, the disc is locked: eject and change refuse (and post an eject request); forced, change works.
  EXPECT_EQ(Shell(*s, "mkdir -p /mnt && mount -t iso9660 /dev/sr0 /mnt && cat /mnt/a.txt"),
            "hello from disc a\n");
  qmp.Send("{\"execute\": \"query-block\"}\n");
  const std::string blocks = Reply(qmp, &events);
  EXPECT_NE(blocks.find("\"device\": \"ide1-cd0\", \"locked\": true, \"removable\": true"), std::string::npos)
      << blocks;
  EXPECT_NE(blocks.find("\"filename\": \"" + a + "\""), std::string::npos) << blocks;
  const std::string locked =
      "Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again";
  qmp.Send("{\"execute\": \"eject\", \"arguments\": {\"device\": \"ide1-cd0\"}}\n");
  EXPECT_EQ(Reply(qmp, &events), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" + locked + "\"}}");
  EXPECT_EQ(hmp("change ide1-cd0 " + b), "{\"return\": \"Error: " + locked + "\\r\\n\"}");
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(Shell(*s, "cat /mnt/a.txt"), "hello from disc a\n");
  qmp.Send(
      "{\"execute\": \"blockdev-change-medium\", \"arguments\": {\"device\": \"ide1-cd0\", \"filename\": \"" +
      b + "\", \"format\": \"raw\", \"force\": true}}\n");
  EXPECT_EQ(Reply(qmp, &events), "{\"return\": {}}");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].find(TrayEvent(true)), std::string::npos) << events[0];
  EXPECT_NE(events[1].find(TrayEvent(false)), std::string::npos) << events[1];
  events.clear();
  Shell(*s, "umount /mnt 2>/dev/null");
  EXPECT_EQ(Shell(*s, "blockdev --getsize64 /dev/sr0"), std::to_string(ReadFile(b).size()) + "\n");
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sr0").substr(0, 64), Sha256(b));
  EXPECT_EQ(Shell(*s, "mount -t iso9660 /dev/sr0 /mnt && cat /mnt/b.txt && umount /mnt"),
            "hello from disc b\n");

  // Unlocked: HMP's eject opens the tray and takes the disc; the guest finds no medium.
  EXPECT_EQ(hmp("eject ide1-cd0"), "{\"return\": \"\"}");
  EXPECT_EQ(hmp("info block ide1-cd0"),
            "{\"return\": \"ide1-cd0: [not inserted]\\r\\n    Attached to:      "
            "/machine/piix4-ide/ide.1/unit.0\\r\\n"
            "    Removable device: not locked, tray open\\r\\n\"}");
  EXPECT_EQ(Shell(*s, "blockdev --getsize64 /dev/sr0 2>&1"),
            "blockdev: can't open '/dev/sr0': No medium found\n");
  // Bad input: one line each, nothing changes.
  EXPECT_EQ(hmp("change ide1-cd0 " + dir_ + "/none.iso"),
            "{\"return\": \"Error: " + dir_ + "/none.iso: No such file or directory\\r\\n\"}");
  EXPECT_EQ(hmp("change ide1-cd0 " + dir_),
            "{\"return\": \"Error: " + dir_ + ": a directory, not a disk image\\r\\n\"}");
  EXPECT_EQ(hmp("eject nosuch"), "{\"return\": \"Error: Device 'nosuch' not found\\r\\n\"}");
  qmp.Send("{\"execute\": \"eject\", \"arguments\": {}}\n");
  EXPECT_EQ(
      Reply(qmp, &events),
      "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Need exactly one of 'device' and 'id'\"}}");
  // HMP's change puts disc a back and closes the tray. (Linux refuses the first read after a change it
  // has not polled for, under QEMU too: blockdev's open takes that first look.)
  EXPECT_EQ(hmp("change ide1-cd0 " + a + " raw"), "{\"return\": \"\"}");
  EXPECT_EQ(Shell(*s, "blockdev --getsize64 /dev/sr0"), std::to_string(ReadFile(a).size()) + "\n");
  EXPECT_EQ(Shell(*s, "sha256sum /dev/sr0").substr(0, 64), Sha256(a));
  // The events since the eject: its opening; Linux closing the tray when blockdev opened the drive (its
  // autoclose, as under QEMU); change's opening and closing.
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NE(events[i].find(TrayEvent(i % 2 == 0)), std::string::npos) << events[i];
  events.clear();

  // The host opens the tray (by the drive's qdev path); the guest's next open closes it again (Linux's
  // autoclose: its own START STOP UNIT, whose movement the host sees as well) and reads the same disc.
  qmp.Send(
      "{\"execute\": \"blockdev-open-tray\", \"arguments\": {\"id\": "
      "\"/machine/piix4-ide/ide.1/unit.0\"}}\n");
  EXPECT_EQ(Reply(qmp, &events), "{\"return\": {}}");
  EXPECT_EQ(Shell(*s, "blockdev --getsize64 /dev/sr0"), std::to_string(ReadFile(a).size()) + "\n");
  qmp.Send("{\"execute\": \"query-block\"}\n");
  EXPECT_NE(Reply(qmp, &events).find("\"tray_open\": false"), std::string::npos);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].find(TrayEvent(true)), std::string::npos) << events[0];
  EXPECT_NE(events[1].find(TrayEvent(false)), std::string::npos) << events[1];
  EXPECT_EQ(Shell(*s, "cat /dev/sr0 | sha256sum").substr(0, 64), Sha256(a));
  PowerOff(*s);
}

}  // namespace
}  // namespace strobe::test
