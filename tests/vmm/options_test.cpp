// SPDX-License-Identifier: MIT
#include "tests/vmm/parse_run_options.h"

#include <gtest/gtest.h>

namespace strobe::test {
namespace {

TEST(RunOptions, QemuCommandLineWorksUnchanged) {
  auto o = Parse({"-M",         "malta",      "-m",        "128",       "-kernel",
                  "vmlinuz",    "-initrd",    "initrd.gz", "-append",   "console=ttyS0 rdinit=/init",
                  "-nographic", "-no-reboot", "-serial",   "mon:stdio", "-net",
                  "none",       "-vga",       "none",      "-cpu",      "24Kc"});
  EXPECT_EQ(o.vm.ram_bytes, 128u << 20);
  EXPECT_EQ(o.vm.kernel, "vmlinuz");
  EXPECT_EQ(o.vm.initrd, "initrd.gz");
  EXPECT_EQ(o.vm.append, "console=ttyS0 rdinit=/init");
  EXPECT_TRUE(o.vm.no_reboot);
}

TEST(RunOptions, Defaults) {
  auto o = Parse({});
  EXPECT_EQ(o.vm.ram_bytes, 256u << 20);
  EXPECT_TRUE(o.vm.kernel.empty());
  EXPECT_FALSE(o.vm.no_reboot);
  EXPECT_EQ(o.vm.engine, vmm::Engine::kTiered);
  EXPECT_EQ(o.vm.jit_threshold, 16000u);
  // One LLVM tier at O1 over baseline code, the kernel at its own threshold (vmm/README.md)
  EXPECT_EQ(o.vm.jit_opt_level, 1u);
  EXPECT_EQ(o.vm.jit_reoptimize_after, 0u);
  EXPECT_EQ(o.vm.jit_kernel_threshold, 24000u);
  EXPECT_EQ(o.vm.tlb_entries, 64u);
}

TEST(RunOptions, RamSizeSyntax) {
  EXPECT_EQ(Parse({"-m", "64M"}).vm.ram_bytes, 64u << 20);
  EXPECT_EQ(Parse({"-m", "size=32M"}).vm.ram_bytes, 32u << 20);
  EXPECT_EQ(Parse({"-m", "4096K"}).vm.ram_bytes, 4u << 20);
  EXPECT_NE(Error({"-m", "1"}).find("out of range"), std::string::npos);
  EXPECT_EQ(Parse({"-m", "2G"}).vm.ram_bytes, 2048u << 20);  // QEMU's Malta maximum
  EXPECT_EQ(Parse({"-m", "512"}).vm.ram_bytes, 512u << 20);
  EXPECT_NE(Error({"-m", "2049M"}).find("out of range (2 MiB to 2 GiB"), std::string::npos);
  EXPECT_NE(Error({"-m", "lots"}).find("bad RAM size"), std::string::npos);
  EXPECT_NE(Error({"-m", "-5"}).find("bad RAM size"), std::string::npos);
  EXPECT_NE(Error({"-m", "99999999999999999999"}).find("bad RAM size"), std::string::npos);
  // QEMU's keys: slots and maxmem (memory hotplug, which the Malta has no device for) are checked only.
  EXPECT_EQ(Parse({"-m", "size=512M,slots=2,maxmem=1G"}).vm.ram_bytes, 512u << 20);
  EXPECT_EQ(Parse({"-m", "128,maxmem=128M"}).vm.ram_bytes, 128u << 20);
  EXPECT_EQ(Error({"-m", "256M,foo=1"}), "-m 256M,foo=1: Invalid parameter 'foo' (size, slots, maxmem)");
  EXPECT_NE(Error({"-m", "256M,maxmem=128M"}).find("maxmem must be at least"), std::string::npos);
  EXPECT_NE(Error({"-m", "256M,slots=x"}).find("bad slots 'x'"), std::string::npos);
  EXPECT_NE(Error({"-m", "slots=2"}).find("bad RAM size"), std::string::npos);
}

// -machine's properties as QEMU's Malta has them: kernel=/initrd=/append= are -kernel/-initrd/-append (the
// later one counts), the ones without effect are still checked, and a wrong one is refused, not ignored.
TEST(RunOptions, MachinePropertiesAreQemusMaltas) {
  auto o = Parse({"-kernel", "k1", "-machine",
                  "type=malta,accel=kvm:tcg,kernel=k2,initrd=i,append=a b,usb=off,"
                  "dump-guest-core=off,mem-merge=on,graphics=off,suppress-vmdesc=on"});
  EXPECT_EQ(o.vm.kernel, "k2");
  EXPECT_EQ(o.vm.initrd, "i");
  EXPECT_EQ(o.vm.append, "a b");
  EXPECT_EQ(Parse({"-M", "malta,kernel=k2", "-kernel", "k3"}).vm.kernel, "k3");
  EXPECT_EQ(Parse({"-machine", "accel=tcg"}).vm.kernel, "");  // the default machine
  EXPECT_EQ(Error({"-M", "malta,foo=bar"}), "-machine malta,foo=bar: Property 'malta-machine.foo' not found");
  EXPECT_NE(Error({"-M", "malta,accel=kvm"}).find("invalid accelerator kvm"), std::string::npos);
  EXPECT_NE(Error({"-M", "malta,usb=maybe"}).find("'usb' expects on or off, not 'maybe'"), std::string::npos);
  EXPECT_NE(Error({"-M", "malta,dtb=m.dtb"}).find("'dtb' is not supported"), std::string::npos);
  EXPECT_NE(Error({"-M", "type=virt"}).find("unsupported machine 'virt'"), std::string::npos);
  EXPECT_EQ(Error({"-cpu", "24Kf,x=1"}), "-cpu 24Kf,x=1: Property '24Kf-mips-cpu.x' not found");
}

TEST(RunOptions, BadInputIsRefusedWithOneLine) {
  EXPECT_NE(Error({"-kernel"}).find("needs a value"), std::string::npos);
  EXPECT_NE(Error({"--frobnicate"}).find("unknown option"), std::string::npos);
  EXPECT_NE(Error({"-M", "pc"}).find("unsupported machine"), std::string::npos);
  EXPECT_NE(Error({"-cpu", "R4000"}).find("unsupported CPU"), std::string::npos);
  EXPECT_NE(Error({"-cpu", "R4000"}).find("available: 24Kc, 24Kf"), std::string::npos);
  EXPECT_NE(Error({"--jit-opt", "3"}).find("--jit-opt"), std::string::npos);
  EXPECT_NE(Error({"--jit-promote", "sometimes"}).find("loops, always or never"), std::string::npos);
  EXPECT_NE(Error({"--jit-threshold", "0"}).find("--jit-threshold"), std::string::npos);
  EXPECT_NE(Error({"--jit-kernel-threshold", "0"}).find("--jit-kernel-threshold"), std::string::npos);
  EXPECT_NE(Error({"--jit-reoptimize", "-1"}).find("--jit-reoptimize"), std::string::npos);
  EXPECT_NE(Error({"--jit-cooling", "-1"}).find("--jit-cooling"), std::string::npos);
  EXPECT_NE(Error({"--jit-cooling", "soon"}).find("--jit-cooling"), std::string::npos);
  EXPECT_NE(Error({"--jit-baseline", "-1"}).find("--jit-baseline"), std::string::npos);
  EXPECT_NE(Error({"--jit-baseline", "warm"}).find("--jit-baseline"), std::string::npos);
  EXPECT_NE(Error({"--dump-blocks", "hot:0"}).find("--dump-blocks"), std::string::npos);
  EXPECT_NE(Error({"--dump-blocks", "sideways"}).find("--dump-blocks"), std::string::npos);
  EXPECT_NE(Error({"--engine", "turbo"}).find("unknown engine"), std::string::npos);
  EXPECT_NE(Error({"--tlb-entries", "65"}).find("--tlb-entries"), std::string::npos);
  EXPECT_NE(Error({"--tlb-entries", "1.5"}).find("--tlb-entries"), std::string::npos);
  EXPECT_NE(Error({"--timeout", "0"}).find("--timeout"), std::string::npos);
  EXPECT_NE(Error({"--jit-busy", "0"}).find("--jit-busy"), std::string::npos);
  EXPECT_NE(Error({"--jit-busy", "fast"}).find("--jit-busy"), std::string::npos);
  EXPECT_NE(Error({"-smp", "2"}).find("-smp"), std::string::npos);
}

TEST(RunOptions, StrobeOptions) {
  EXPECT_EQ(Parse({"--engine", "jit"}).vm.engine, vmm::Engine::kJit);
  EXPECT_EQ(Parse({"--engine", "tiered", "--jit-threshold", "10", "--jit-opt", "2"}).vm.jit_threshold, 10u);
  EXPECT_TRUE(Parse({"--dump-blocks", "hot:5"}).vm.jit_listings);
  EXPECT_EQ(Parse({"--jit-reoptimize", "2000"}).vm.jit_reoptimize_after, 2000u);
  EXPECT_EQ(Parse({"--jit-kernel-threshold", "8000"}).vm.jit_kernel_threshold, 8000u);
  // Kernel code serving programs is hot at the user threshold where the code cache keeps what is compiled;
  // a kernel threshold given, or no code cache, keeps the kernel's own all along.
  EXPECT_EQ(Parse({}).vm.jit_serving_kernel_threshold, 16000u);
  EXPECT_EQ(Parse({"--jit-threshold", "4000"}).vm.jit_serving_kernel_threshold, 4000u);
  EXPECT_EQ(Parse({"--code-cache", "off"}).vm.jit_serving_kernel_threshold, 0u);
  EXPECT_EQ(Parse({"--jit-kernel-threshold", "8000"}).vm.jit_serving_kernel_threshold, 0u);
  EXPECT_EQ(Parse({"--jit-opt", "0"}).vm.jit_serving_kernel_threshold, 0u);
  EXPECT_EQ(Parse({"--jit-busy", "1000000"}).vm.jit_busy_rate, 1'000'000u);
  EXPECT_EQ(Parse({}).vm.jit_cooling_shift, 27u);
  EXPECT_EQ(Parse({"--jit-cooling", "0"}).vm.jit_cooling_shift, 0u);
  EXPECT_EQ(Parse({"--jit-cooling", "1000000"}).vm.jit_cooling_shift, 20u);  // rounded up: 2^20
  EXPECT_EQ(Parse({"--jit-cooling", "1048576"}).vm.jit_cooling_shift, 20u);
  EXPECT_EQ(Parse({"--jit-cooling", "1"}).vm.jit_cooling_shift, 1u);
  EXPECT_EQ(Parse({}).vm.jit_baseline, 64u);  // the default (translator/README.md, "Baseline code")
  EXPECT_EQ(Parse({"--jit-baseline", "0"}).vm.jit_baseline, 0u);
  EXPECT_EQ(Parse({"--jit-baseline", "1"}).vm.jit_baseline, 1u);
  // The jit engine, or a first tier asked for by level, keeps the second tier and one threshold.
  EXPECT_EQ(Parse({"--engine", "jit"}).vm.jit_opt_level, 0u);
  EXPECT_EQ(Parse({"--engine", "jit"}).vm.jit_reoptimize_after, 2000u);
  EXPECT_EQ(Parse({"--jit-opt", "0"}).vm.jit_reoptimize_after, 2000u);
  EXPECT_EQ(Parse({"--jit-opt", "0"}).vm.jit_kernel_threshold, 0u);
  EXPECT_EQ(Parse({"--jit-opt", "1"}).vm.jit_reoptimize_after, 2000u);
  EXPECT_EQ(Parse({"--jit-reoptimize", "500"}).vm.jit_opt_level, 1u);
  EXPECT_EQ(Parse({"--jit-reoptimize", "500"}).vm.jit_reoptimize_after, 500u);
  EXPECT_EQ(Parse({"--jit-kernel-threshold", "8000"}).vm.jit_opt_level, 1u);
  EXPECT_EQ(Parse({}).vm.jit_busy_rate, 4'000'000u);
  EXPECT_TRUE(Parse({"--jit-inline-kseg"}).vm.jit_inline_kseg);
  EXPECT_FALSE(Parse({}).vm.jit_inline_kseg);
  EXPECT_EQ(Parse({}).vm.jit_promote, jit::Promote::kLoops);  // translator/README.md, "Promoted registers"
  EXPECT_EQ(Parse({"--jit-promote", "always"}).vm.jit_promote, jit::Promote::kAlways);
  EXPECT_EQ(Parse({"--jit-promote", "never"}).vm.jit_promote, jit::Promote::kNever);
  EXPECT_EQ(Parse({"--jit-promote", "loops"}).vm.jit_promote, jit::Promote::kLoops);
  EXPECT_EQ(Parse({"--dump-blocks", "0x80100000"}).dump_blocks, "0x80100000");
  auto o = Parse({"--engine", "interp", "--tlb-entries", "64", "--warp-idle", "--timeout", "2.5", "--stats",
                  "--max-instructions", "1000"});
  EXPECT_EQ(o.vm.tlb_entries, 64u);
  EXPECT_TRUE(o.vm.warp_idle);
  EXPECT_DOUBLE_EQ(o.vm.timeout_seconds, 2.5);
  EXPECT_TRUE(o.stats);
  EXPECT_EQ(o.vm.max_instructions, 1000u);
}

TEST(RunOptions, QemuCommonOptionsAreAccepted) {
  auto o = Parse({"-nodefaults", "-serial",
                  "mon:stdio",   "-no-shutdown",
                  "-name",       "guest1,process=strobe-g1",
                  "-boot",       "order=c",
                  "-L",          "/usr/share/qemu",
                  "-accel",      "tcg,thread=single,tb-size=64",
                  "-echr",       "0x14",
                  "-monitor",    "none",
                  "-nic",        "none",
                  "-smp",        "cpus=1",
                  "-display",    "none"});
  EXPECT_EQ(o.serial.kind, tools::CharDevSpec::Kind::kStdio);  // -serial wins over -nodefaults
  EXPECT_TRUE(o.no_shutdown);
  EXPECT_EQ(o.process_name, "strobe-g1");
  EXPECT_EQ(Parse({"-name", "vm7,process=p"}).guest_name, "vm7");
  EXPECT_EQ(Parse({"-pidfile", "/tmp/x.pid", "-no-user-config"}).pidfile, "/tmp/x.pid");
  EXPECT_EQ(Parse({"-name", "guest=vm8,debug-threads=on"}).guest_name, "vm8");
  EXPECT_EQ(o.escape_char, 0x14);
  EXPECT_EQ(Parse({"-echr", "20"}).escape_char, 20);
  EXPECT_EQ(Parse({}).escape_char, 1);                                             // Ctrl-A
  EXPECT_EQ(Parse({"-nodefaults"}).serial.kind, tools::CharDevSpec::Kind::kNull);  // no console, as QEMU
  EXPECT_TRUE(Parse({"--nographic"}).info.empty());                                // QEMU's --option spelling
}

TEST(RunOptions, SerialAndChardevBackends) {
  EXPECT_EQ(Parse({}).serial.kind, tools::CharDevSpec::Kind::kStdio);
  EXPECT_EQ(Parse({"-serial", "null"}).serial.kind, tools::CharDevSpec::Kind::kNull);
  EXPECT_EQ(Parse({"-serial", "pty"}).serial.kind, tools::CharDevSpec::Kind::kPty);
  auto f = Parse({"-serial", "file:/tmp/out.log"}).serial;
  EXPECT_EQ(f.kind, tools::CharDevSpec::Kind::kFile);
  EXPECT_EQ(f.path, "/tmp/out.log");
  auto u = Parse({"-serial", "unix:/tmp/s.sock,server,nowait"}).serial;
  EXPECT_EQ(u.kind, tools::CharDevSpec::Kind::kUnix);
  EXPECT_EQ(u.path, "/tmp/s.sock");
  EXPECT_TRUE(u.server);
  EXPECT_FALSE(u.wait);
  auto c = Parse({"-chardev", "socket,id=con,path=/tmp/c.sock,server=on,wait=off", "-serial", "chardev:con"})
               .serial;
  EXPECT_EQ(c.kind, tools::CharDevSpec::Kind::kUnix);
  EXPECT_TRUE(c.server);
  EXPECT_FALSE(c.wait);
  EXPECT_EQ(c.label, "serial0");
  auto cf = Parse({"-chardev", "file,id=log,path=/tmp/f", "-serial", "chardev:log"}).serial;
  EXPECT_EQ(cf.kind, tools::CharDevSpec::Kind::kFile);
  EXPECT_EQ(cf.path, "/tmp/f");
  EXPECT_NE(Error({"-serial", "chardev:nope"}).find("no -chardev with id 'nope'"), std::string::npos);
  auto t = Parse({"-serial", "tcp::4444,server,nowait,nodelay"}).serial;
  EXPECT_EQ(t.kind, tools::CharDevSpec::Kind::kTcp);
  EXPECT_EQ(t.host, "");
  EXPECT_EQ(t.port, 4444);
  EXPECT_TRUE(t.server);
  EXPECT_FALSE(t.wait);
  EXPECT_FALSE(t.telnet);
  auto tn = Parse({"-serial", "telnet:localhost:4445,server"}).serial;
  EXPECT_EQ(tn.kind, tools::CharDevSpec::Kind::kTcp);
  EXPECT_EQ(tn.host, "localhost");
  EXPECT_TRUE(tn.telnet);
  EXPECT_TRUE(tn.wait);
  auto tc = Parse({"-serial", "tcp:10.0.0.1:23"}).serial;  // a client
  EXPECT_FALSE(tc.server);
  EXPECT_EQ(tc.host, "10.0.0.1");
  auto ct = Parse({"-chardev", "socket,id=c,host=127.0.0.1,port=5000,server=on,wait=off,telnet=on", "-serial",
                   "chardev:c"})
                .serial;
  EXPECT_EQ(ct.kind, tools::CharDevSpec::Kind::kTcp);
  EXPECT_EQ(ct.port, 5000);
  EXPECT_TRUE(ct.telnet);
  EXPECT_FALSE(ct.wait);
  EXPECT_NE(Error({"-serial", "tcp:localhost"}).find("expected tcp:[HOST]:PORT"), std::string::npos);
  EXPECT_NE(Error({"-serial", "tcp::70000,server"}).find("expected tcp:[HOST]:PORT"), std::string::npos);
  EXPECT_NE(Error({"-serial", "telnet::23,server,bogus"}).find("unknown socket option 'bogus'"),
            std::string::npos);
  EXPECT_NE(Error({"-chardev", "socket,id=c,port=99999"}).find("bad port"), std::string::npos);
  EXPECT_NE(Error({"-chardev", "socket,id=c,host=localhost"}).find("needs port=PORT"), std::string::npos);
  EXPECT_NE(Error({"-chardev", "socket,id=c,path=/tmp/x,port=1"}).find("two different sockets"),
            std::string::npos);
  EXPECT_NE(Error({"-serial", "udp::4444"}).find("unsupported -serial"), std::string::npos);
  EXPECT_NE(Error({"-chardev", "file,path=/tmp/f"}).find("needs id=ID"), std::string::npos);
  EXPECT_NE(Error({"-chardev", "vc,id=x"}).find("unsupported -chardev type"), std::string::npos);
  EXPECT_NE(Error({"-serial", "null", "-serial", "stdio"}).find("only one serial port"), std::string::npos);
}

TEST(RunOptions, RtcBases) {
  auto o = Parse({"-rtc", "base=2006-06-17T16:01:21,clock=vm,driftfix=slew"});
  EXPECT_EQ(o.vm.rtc_start, 1150560081);  // UTC, as QEMU takes the date
  EXPECT_EQ(Parse({"-rtc", "base=2006-06-17"}).vm.rtc_start, 1150502400);
  EXPECT_TRUE(Parse({"-rtc", "base=localtime"}).vm.rtc_localtime);
  auto u = Parse({"-rtc", "base=utc,clock=host"});
  EXPECT_FALSE(u.vm.rtc_localtime);
  EXPECT_EQ(u.vm.rtc_start, -1);
  EXPECT_NE(Error({"-rtc", "base=yesterday"}).find("invalid date"), std::string::npos);
  EXPECT_NE(Error({"-rtc", "clock=wall"}).find("clock=wall"), std::string::npos);
  EXPECT_NE(Error({"-rtc", "speed=2"}).find("unknown option"), std::string::npos);
}

TEST(RunOptions, LogItemsAndInfoRequests) {
  auto o = Parse({"-d", "in_asm,int", "-D", "/tmp/log"});
  EXPECT_TRUE(o.trace.in_asm);
  EXPECT_TRUE(o.trace.interrupts);
  EXPECT_FALSE(o.trace.exec);
  EXPECT_EQ(o.trace.logfile, "/tmp/log");
  EXPECT_EQ(o.vm.engine, vmm::Engine::kTiered);
  EXPECT_EQ(Parse({"-d", "exec"}).vm.engine, vmm::Engine::kInterp);  // the exec trace needs the interpreter
  EXPECT_NE(Parse({"-d", "help"}).info.find("in_asm"), std::string::npos);
  EXPECT_NE(Error({"-d", "cpu"}).find("not available in Strobe"), std::string::npos);
  EXPECT_NE(Error({"-d", "bogus"}).find("unknown log item 'bogus'"), std::string::npos);
  EXPECT_NE(Parse({"-M", "help"}).info.find("malta"), std::string::npos);
  EXPECT_NE(Parse({"-machine", "help"}).info.find("MIPS Malta"), std::string::npos);
  EXPECT_NE(Parse({"-cpu", "help"}).info.find("24Kc"), std::string::npos);
  EXPECT_NE(Parse({"-cpu", "help"}).info.find("24Kf"), std::string::npos);
  EXPECT_NE(Parse({"-version"}).info.find("Strobe emulator version"), std::string::npos);
}

// -cpu picks the model; the 24Kf is the default, as on QEMU's Malta.
TEST(RunOptions, CpuSelectsTheModel) {
  EXPECT_EQ(Parse({}).vm.cpu_model, runtime::CpuModel::k24Kf);
  EXPECT_EQ(Parse({"-cpu", "24Kf"}).vm.cpu_model, runtime::CpuModel::k24Kf);
  EXPECT_EQ(Parse({"-cpu", "24Kc"}).vm.cpu_model, runtime::CpuModel::k24Kc);
}

TEST(RunOptions, GdbStub) {
  tools::RunOptions o = Parse({"-s", "-S"});
  EXPECT_EQ(o.gdb_port, 1234);
  EXPECT_EQ(o.gdb_host, "");
  EXPECT_TRUE(o.start_stopped);
  o = Parse({"-gdb", "tcp::4321"});
  EXPECT_EQ(o.gdb_port, 4321);
  EXPECT_FALSE(o.start_stopped);
  o = Parse({"-gdb", "tcp:0.0.0.0:4000,server,nowait"});
  EXPECT_EQ(o.gdb_host, "0.0.0.0");
  EXPECT_EQ(o.gdb_port, 4000);
  EXPECT_EQ(Parse({"-gdb", "5555"}).gdb_port, 5555);  // QEMU: a bare number is tcp::NUMBER
  EXPECT_EQ(Parse({"-s", "-gdb", "none"}).gdb_port, -1);
  EXPECT_NE(Error({"-gdb", "unix:/tmp/g"}).find("only tcp"), std::string::npos);
  EXPECT_NE(Error({"-gdb", "tcp::0"}).find("bad port"), std::string::npos);
  EXPECT_NE(Error({"-gdb", "tcp::70000"}).find("bad port"), std::string::npos);
  EXPECT_NE(Error({"-gdb", "tcp:1234"}).find("tcp:[HOST]:PORT"), std::string::npos);
  EXPECT_NE(Error({"-gdb"}).find("needs a value"), std::string::npos);
}

TEST(RunOptions, Snapshots) {
  const auto o = Parse({"-loadvm", "snap1", "--snapshot-dir", "/tmp/snaps"});
  EXPECT_EQ(o.loadvm, "snap1");
  EXPECT_EQ(o.snapshot_dir, "/tmp/snaps");
  EXPECT_NE(Error({"-loadvm"}).find("needs a value"), std::string::npos);
}

TEST(RunOptions, MissingFeaturesAreExplained) {
  // -S waits for a debugger or the monitor's cont: it needs one of them.
  EXPECT_NE(Error({"-S"}).find("needs -s, -gdb, -monitor or -qmp"), std::string::npos);
  EXPECT_NE(Error({"-accel", "kvm"}).find("only tcg"), std::string::npos);
  EXPECT_NE(Error({"-smp", "4"}).find("one CPU"), std::string::npos);
  EXPECT_NE(Error({"-echr", "x"}).find("bad -echr"), std::string::npos);
  EXPECT_NE(Error({"-name", "a,colour=red"}).find("-name"), std::string::npos);
}

}  // namespace
}  // namespace strobe::test

namespace strobe::test {
namespace {

TEST(RunOptions, SeveralVms) {
  tools::RunOptions o =
      Parse({"--vms", "4", "--vm", "-kernel k -m 128", "--vm", "-kernel j", "--console-dir", "/tmp/c",
             "--page-sharing", "off", "--share-rate", "1000", "--stats-json", "s.json"});
  EXPECT_EQ(o.vm_copies, 4u);
  ASSERT_EQ(o.extra_vms.size(), 2u);
  EXPECT_EQ(o.extra_vms[0], "-kernel k -m 128");
  EXPECT_EQ(o.console_dir, "/tmp/c");
  EXPECT_EQ(o.page_sharing, 0);
  EXPECT_EQ(o.share_rate, 1000u);
  EXPECT_EQ(o.stats_json, "s.json");
  EXPECT_EQ(Parse({}).page_sharing, -1) << "default: on with several VMs, off with one";
  EXPECT_EQ(Parse({"--page-sharing", "on"}).page_sharing, 1);
  EXPECT_NE(Error({"--vms", "65"}).find("bad --vms '65' (1-64)"), std::string::npos);
  EXPECT_NE(Error({"--vms", "-1"}).find("bad --vms"), std::string::npos);
  EXPECT_NE(Error({"--vms", "2x"}).find("bad --vms"), std::string::npos);
  EXPECT_NE(Error({"--share-rate", "0"}).find("bad --share-rate"), std::string::npos);
  EXPECT_NE(Error({"--console-dir", ""}).find("--console-dir needs a folder"), std::string::npos);
  EXPECT_NE(Error({"--vms", "60", "--vm", "a", "--vm", "b", "--vm", "c", "--vm", "d", "--vm", "e"})
                .find("too many VMs: at most 64"),
            std::string::npos);
}

}  // namespace
}  // namespace strobe::test
