// SPDX-License-Identifier: MIT
// Snapshots of Debian's kernel at the shell, through the monitor: savevm, then a command that changes a
// shell variable and writes the disk (-snapshot overlay; the page cache dropped so the reads go to the
// disk); loadvm; the same command prints exactly the same again (the shell's memory, the kernel and the
// disk overlay all came back). A second Strobe started with -loadvm continues from the same point, and
// info snapshots / delvm show and remove the file. The user-mode network comes back too: before the save
// the NIC took a second MAC address and a second DHCP lease (10.0.2.16); after either load the DHCP server
// still has that MAC on .16 (libslirp's state: a fresh one would offer .15) and the gateway answers. With
// a CD-ROM drive, the disc reads the same after either load.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "tests/linux/linux_session.h"
#include "tests/monitor/monitor_client.h"

namespace strobe::test {
namespace {

// Without Debian's kernel and initramfs these fail (LinuxTest), rather than pass unseen.
class SnapshotLinux : public LinuxTest {};

std::string Command(const std::string& dev) {
  return "echo X=$X; X=changed; echo 3 > /proc/sys/vm/drop_caches; dd if=" + dev +
         " bs=512 count=1 2>/dev/null | md5sum; printf Z | dd of=" + dev +
         " bs=1 seek=100 conv=notrunc 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches; dd if=" + dev +
         " bs=512 count=1 2>/dev/null | md5sum";
}

// A DHCP lease for the NIC (L, a shell function: lines wider than the terminal come back redrawn), and a
// ping to the gateway.
constexpr const char* kLease = "L() { udhcpc -i eth0 -n -q 2>&1 | grep -o 'lease of [0-9.]*'; }";
constexpr const char* kNetCommand = "L; ping -c 1 -W 5 10.0.2.2 | grep -o '1 packets received'";
constexpr const char* kNetAfterLoad = "lease of 10.0.2.16\n1 packets received\n";

// `machine` with a QMP socket at `sock`.
std::vector<std::string> WithQmp(std::vector<std::string> machine, const std::string& sock) {
  machine.insert(machine.end(), {"-qmp", "unix:" + sock + ",server,nowait"});
  return machine;
}

// The QMP client connects and negotiates, the guest reaches the shell, and the shell's X is saved-state.
void ReachShell(ConsoleSession& s, MonitorClient& qmp, const std::string& sock) {
  ASSERT_TRUE(qmp.ConnectUnix(sock));
  qmp.Line();
  qmp.Send("{\"execute\": \"qmp_capabilities\"}\n");
  ASSERT_EQ(qmp.Line(), "{\"return\": {}}");
  ASSERT_TRUE(s.Expect(kPrompt, kBootTimeout)) << s.output();
  // Kernel messages carry timestamps, and idle time follows the host: keep them off the console.
  ASSERT_NE(Shell(s, "dmesg -n 1; X=saved-state; echo ready").find("ready"), std::string::npos);
}

// The disk on `interface` (the guest's `dev`), with these NIC options.
void LoadvmRepeatsACommand(const std::string& interface, const std::string& dev,
                           const std::vector<std::string>& nic) {
  const std::string kCommand = Command(dev);
  const std::string tag = std::to_string(getpid());
  const std::string dir = "/tmp/strobe-snaps-" + tag, disk = "/tmp/strobe-snapdisk-" + tag + ".img";
  {
    std::ofstream img(disk, std::ios::binary);
    std::string block(1 << 20, 'a');
    img.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  std::vector<std::string> machine = {"-drive", "file=" + disk + ",format=raw,if=" + interface, "-snapshot",
                                      "--snapshot-dir", dir};
  machine.insert(machine.end(), nic.begin(), nic.end());
  const std::string sock = "/tmp/strobe-snap-" + tag + ".sock";
  ConsoleSession s(BootArgs(WithQmp(machine, sock)));
  MonitorClient qmp;
  ASSERT_NO_FATAL_FAILURE(ReachShell(s, qmp, sock));
  // Two leases: the NIC's own MAC on .15, then another on .16.
  Shell(s, kLease);
  EXPECT_EQ(Shell(s, "L", 60), "lease of 10.0.2.15\n");
  EXPECT_EQ(Shell(s, "ip link set eth0 down; ip link set eth0 address 52:54:00:12:34:99"), "");
  EXPECT_EQ(Shell(s, "ip link set eth0 up; L", 60), "lease of 10.0.2.16\n");

  ASSERT_EQ(Hmp(qmp, "savevm at-shell"), "{\"return\": \"\"}");
  const std::string first = Shell(s, kCommand);
  EXPECT_NE(first.find("X=saved-state"), std::string::npos) << first;
  // The two checksums differ: the write reached the disk (its overlay) between them.
  const size_t sum1 = first.find("  -"), sum2 = first.find("  -", sum1 + 1);
  ASSERT_NE(sum2, std::string::npos) << first;
  EXPECT_NE(first.substr(sum1 - 32, 32), first.substr(sum2 - 32, 32)) << first;

  ASSERT_EQ(Hmp(qmp, "loadvm at-shell"), "{\"return\": \"\"}");
  EXPECT_EQ(Shell(s, kCommand), first);
  EXPECT_EQ(Shell(s, kNetCommand, 60), kNetAfterLoad);
  const std::string table = Hmp(qmp, "info snapshots");
  EXPECT_NE(table.find("at-shell"), std::string::npos) << table;
  EXPECT_NE(Hmp(qmp, "loadvm nosuch").find("Error: Snapshot 'nosuch' does not exist"), std::string::npos);

  // Another process, started from the file.
  std::vector<std::string> again = machine;
  again.insert(again.end(), {"-loadvm", "at-shell"});
  ConsoleSession t(BootArgs(again));
  EXPECT_EQ(Shell(t, kCommand), first);
  EXPECT_EQ(Shell(t, kNetCommand, 60), kNetAfterLoad);
  t.Send("poweroff -f\n");
  EXPECT_EQ(t.Wait(60), 0);

  EXPECT_EQ(Hmp(qmp, "delvm at-shell"), "{\"return\": \"\"}");
  EXPECT_NE(Hmp(qmp, "info snapshots").find("There is no snapshot available."), std::string::npos);
  qmp.Send("{\"execute\": \"quit\"}\n");
  EXPECT_NE(qmp.Line().find("\"event\": \"SHUTDOWN\""), std::string::npos);  // first, as QEMU 7.2
  EXPECT_EQ(qmp.Line(), "{\"return\": {}}");
  EXPECT_EQ(s.Wait(30), 0);
  unlink(disk.c_str());
  rmdir(dir.c_str());
}

// IDE and the on-board PCnet (QEMU's default NIC).
TEST_F(SnapshotLinux, IdeAndPcnet) {
  LoadvmRepeatsACommand("ide", "/dev/sda", {});
}

// virtio-blk and virtio-net: the transports, their queues and the devices' state.
TEST_F(SnapshotLinux, VirtioDiskAndNic) {
  LoadvmRepeatsACommand("virtio", "/dev/vda", {"-nic", "user,model=virtio-net-pci"});
}

// The ATAPI CD-ROM drive: after loadvm, and in a second process started with -loadvm, the guest reads the
// whole disc again (its page cache dropped, so the reads go to the drive) and the shell's memory is back.
TEST_F(SnapshotLinux, CdromDriveReadsTheDiscAfterALoad) {
  const std::string tag = std::to_string(getpid());
  const std::string dir = "/tmp/strobe-snaps-cd-" + tag, iso = "/tmp/strobe-snapcd-" + tag + ".iso";
  std::string disc(600 * 1024, '\0');
  for (size_t i = 0; i < disc.size(); ++i) disc[i] = static_cast<char>((i * 131) >> 7);
  std::ofstream(iso, std::ios::binary).write(disc.data(), static_cast<std::streamsize>(disc.size()));
  const std::string kRead = "echo X=$X; X=changed; echo 3 > /proc/sys/vm/drop_caches; md5sum /dev/sr0";
  std::vector<std::string> machine = {"-cdrom", iso, "-nic", "none", "--snapshot-dir", dir};
  const std::string sock = "/tmp/strobe-snapcd-" + tag + ".sock";
  ConsoleSession s(BootArgs(WithQmp(machine, sock)));
  MonitorClient qmp;
  ASSERT_NO_FATAL_FAILURE(ReachShell(s, qmp, sock));
  ASSERT_EQ(Hmp(qmp, "savevm with-cd"), "{\"return\": \"\"}");
  const std::string first = Shell(s, kRead);
  EXPECT_NE(first.find("X=saved-state"), std::string::npos) << first;
  EXPECT_NE(first.find("  /dev/sr0"), std::string::npos) << first;
  ASSERT_EQ(Hmp(qmp, "loadvm with-cd"), "{\"return\": \"\"}");
  EXPECT_EQ(Shell(s, kRead), first);
  std::vector<std::string> again = machine;
  again.insert(again.end(), {"-loadvm", "with-cd"});
  ConsoleSession t(BootArgs(again));
  EXPECT_EQ(Shell(t, kRead), first);
  t.Send("poweroff -f\n");
  EXPECT_EQ(t.Wait(60), 0);
  EXPECT_EQ(Hmp(qmp, "delvm with-cd"), "{\"return\": \"\"}");
  qmp.Send("{\"execute\": \"quit\"}\n");
  qmp.Line();
  EXPECT_EQ(s.Wait(30), 0);
  unlink(iso.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace strobe::test
